/* SPDX-License-Identifier: ISC */
/* bench/rdv-rate.c: STUN Binding requests over UDP in windows, answers counted (bench/rendezvous.sh builds it). */
#define _GNU_SOURCE
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WMAX	256

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	struct mmsghdr msg[WMAX];
	struct iovec iov[WMAX];
	uint8_t req[WMAX][20], ans[WMAX][512], prefix[4];
	struct pollfd pfd;
	double t0, end, secs;
	unsigned long answers = 0, lost = 0;
	uint32_t seq = 0;
	int fd, w, i, n, got;

	if (argc != 5) {
		fprintf(stderr, "usage: rdv-rate ADDR PORT SECONDS WINDOW\n");
		return 2;
	}
	secs = atof(argv[3]);
	w = atoi(argv[4]);
	if (w < 1 || w > WMAX || secs <= 0)
		return 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("socket");
		return 1;
	}
	if (getrandom(prefix, sizeof(prefix), 0) != sizeof(prefix))
		return 1;
	pfd.fd = fd;
	pfd.events = POLLIN;
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		/* a window of requests: type 0x0001, length 0, cookie, ID */
		for (i = 0; i < w; i++) {
			memcpy(req[i], "\x00\x01\x00\x00\x21\x12\xa4\x42", 8);
			memcpy(req[i] + 8, prefix, 4);
			memset(req[i] + 12, 0, 4);
			req[i][16] = (uint8_t)(seq >> 24);
			req[i][17] = (uint8_t)(seq >> 16);
			req[i][18] = (uint8_t)(seq >> 8);
			req[i][19] = (uint8_t)seq;
			seq++;
			iov[i].iov_base = req[i];
			iov[i].iov_len = 20;
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(fd, msg, (unsigned)w, 0) != w) {
			lost += (unsigned long)w;
			continue;
		}
		got = 0;
		while (got < w) {
			if (poll(&pfd, 1, 100) <= 0)
				break;
			for (i = 0; i < w; i++) {
				iov[i].iov_base = ans[i];
				iov[i].iov_len = sizeof(ans[i]);
				memset(&msg[i], 0, sizeof(msg[i]));
				msg[i].msg_hdr.msg_iov = &iov[i];
				msg[i].msg_hdr.msg_iovlen = 1;
			}
			n = recvmmsg(fd, msg, (unsigned)(w - got), MSG_DONTWAIT,
			    NULL);
			if (n <= 0)
				continue;
			for (i = 0; i < n; i++)
				if (msg[i].msg_len >= 20 && ans[i][0] == 0x01 &&
				    ans[i][1] == 0x01 &&
				    memcmp(ans[i] + 8, prefix, 4) == 0)
					answers++;
			got += n;
		}
		if (got < w)
			lost += (unsigned long)(w - got);
	}
	secs = now() - t0;
	printf("%lu answers in %.2f s: %.0f/s, %lu lost\n", answers, secs,
	    (double)answers / secs, lost);
	close(fd);
	return answers > 0 ? 0 : 1;
}
