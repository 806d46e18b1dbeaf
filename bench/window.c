/* SPDX-License-Identifier: ISC */
/* bench/window.c: the send loop of bench/rdv-rate.c and bench/rdv-register-rate.c: windows of UDP requests out, their answers in, counted. */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "window.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
window_connect(const char *addr, const char *port)
{
	struct sockaddr_in sin;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -2;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("socket");
		return -1;
	}
	return fd;
}

int
window_run(int fd, double secs, int w, struct window_run *run)
{
	static uint8_t req[WINDOW_MAX][WINDOW_MSG_MAX];
	static uint8_t ans[WINDOW_MAX][WINDOW_MSG_MAX];
	struct mmsghdr msg[WINDOW_MAX];
	struct iovec iov[WINDOW_MAX];
	struct pollfd pfd;
	double t0, end;
	int i, n, got, len;

	run->answers = run->errors = run->lost = 0;
	pfd.fd = fd;
	pfd.events = POLLIN;
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		for (i = 0; i < w; i++) {
			len = run->build(i, req[i], sizeof(req[i]), run->arg);
			if (len <= 0)
				return -1;
			iov[i].iov_base = req[i];
			iov[i].iov_len = (size_t)len;
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(fd, msg, (unsigned)w, 0) != w) {
			run->lost += (unsigned long)w;
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
			for (i = 0; i < n; i++) {
				switch (run->judge(ans[i], msg[i].msg_len,
				    run->arg)) {
				case WINDOW_ANSWER:
					run->answers++;
					break;
				case WINDOW_ERROR:
					run->errors++;
					break;
				}
			}
			got += n;
		}
		if (got < w)
			run->lost += (unsigned long)(w - got);
	}
	run->secs = now() - t0;
	return 0;
}
