/* SPDX-License-Identifier: ISC */
/* bench/rdv-register-rate.c: authenticated REGISTERs over UDP to natmapd-rendezvous in windows, answers counted (bench/rendezvous.sh builds it against libnatmapd.a for rdv_build). */
#include "config.h"

#include <sys/random.h>
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

#include "crypto.h"
#include "rdv-msg.h"

#define WMAX	256

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	struct mmsghdr msg[WMAX];
	struct iovec iov[WMAX];
	static uint8_t req[WMAX][512], ans[WMAX][512];
	uint8_t key[CRYPTO_KEY_LEN], prefix[4];
	struct rdv_msg m;
	struct pollfd pfd;
	double t0, end, secs;
	unsigned long answers = 0, lost = 0, errors = 0;
	uint32_t seq = 0, nodes;
	int fd, w, i, n, got, len[WMAX];

	if (argc != 8) {
		fprintf(stderr, "usage: rdv-register-rate ADDR PORT SECONDS "
		    "WINDOW NODES NETWORK SERVER-KEY\n");
		return 2;
	}
	secs = atof(argv[3]);
	w = atoi(argv[4]);
	nodes = (uint32_t)strtoul(argv[5], NULL, 10);
	if (w < 1 || w > WMAX || secs <= 0 || nodes < 1 ||
	    strlen(argv[6]) > RDV_NETWORK_MAX ||
	    crypto_key_parse(argv[7], strlen(argv[7]), key) == -1)
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
	memset(&m, 0, sizeof(m));
	m.method = RDV_REGISTER;
	m.cls = STUN_REQUEST;
	memcpy(m.tid, prefix, 4);
	snprintf(m.network, sizeof(m.network), "%s", argv[6]);
	m.has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_TIMESTAMP;
	m.ncand = 1;
	m.cand[0].kind = RDV_CAND_HOST;
	m.cand[0].transport = RDV_UDP;
	sin.sin_port = htons(51413);
	sin.sin_addr.s_addr = htonl(0xc0a8010a);
	memcpy(&m.cand[0].addr, &sin, sizeof(sin));
	pfd.fd = fd;
	pfd.events = POLLIN;
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		m.timestamp = wall_ms();
		for (i = 0; i < w; i++) {
			memcpy(m.tid + 4, &seq, 4);
			snprintf(m.node, sizeof(m.node), "node-%u",
			    seq % nodes);
			seq++;
			len[i] = rdv_build(req[i], sizeof(req[i]), &m, key);
			if (len[i] <= 0)
				return 1;
			iov[i].iov_base = req[i];
			iov[i].iov_len = (size_t)len[i];
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
			/* 0x03e0 REGISTER success, 0x03f0 error; our prefix */
			for (i = 0; i < n; i++) {
				if (msg[i].msg_len < 20 ||
				    memcmp(ans[i] + 8, prefix, 4) != 0)
					continue;
				if (ans[i][0] == 0x03 && ans[i][1] == 0xe0)
					answers++;
				else
					errors++;
			}
			got += n;
		}
		if (got < w)
			lost += (unsigned long)(w - got);
	}
	secs = now() - t0;
	printf("%lu REGISTER answers in %.2f s: %.0f/s, %lu errors, %lu lost, "
	    "%u nodes\n", answers, secs, (double)answers / secs, errors, lost,
	    seq < nodes ? seq : nodes);
	close(fd);
	return answers > 0 ? 0 : 1;
}
