/* SPDX-License-Identifier: ISC */
/* bench/rdv-register-rate.c: authenticated REGISTERs over UDP to natmapd-rendezvous in windows, answers counted (bench/rendezvous.sh builds it against libnatmapd.a for rdv_build). */
#include "config.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "rdv-msg.h"

#include "window.h"

static uint8_t		key[CRYPTO_KEY_LEN], prefix[4];
static struct rdv_msg	m;
static uint32_t		seq, nodes;

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* REGISTER of the next node in turn, a new transaction ID each */
static int
build(int i, uint8_t *req, size_t len, void *arg)
{
	(void)arg;
	if (i == 0)
		m.timestamp = wall_ms();
	memcpy(m.tid + 4, &seq, 4);
	snprintf(m.node, sizeof(m.node), "node-%u", seq % nodes);
	seq++;
	return rdv_build(req, len, &m, key);
}

/* 0x03e0 REGISTER success, 0x03f0 error; our prefix */
static int
judge(const uint8_t *ans, size_t len, void *arg)
{
	(void)arg;
	if (len < 20 || memcmp(ans + 8, prefix, 4) != 0)
		return WINDOW_OTHER;
	if (ans[0] == 0x03 && ans[1] == 0xe0)
		return WINDOW_ANSWER;
	return WINDOW_ERROR;
}

int
main(int argc, char *argv[])
{
	struct window_run run = { .build = build, .judge = judge };
	struct sockaddr_in sin;
	double secs;
	int fd, w;

	if (argc != 8) {
		fprintf(stderr, "usage: rdv-register-rate ADDR PORT SECONDS "
		    "WINDOW NODES NETWORK SERVER-KEY\n");
		return 2;
	}
	secs = atof(argv[3]);
	w = atoi(argv[4]);
	nodes = (uint32_t)strtoul(argv[5], NULL, 10);
	if (w < 1 || w > WINDOW_MAX || secs <= 0 || nodes < 1 ||
	    strlen(argv[6]) > RDV_NETWORK_MAX ||
	    crypto_key_parse(argv[7], strlen(argv[7]), key) == -1)
		return 2;
	if ((fd = window_connect(argv[1], argv[2])) < 0)
		return fd == -2 ? 2 : 1;
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
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(51413);
	sin.sin_addr.s_addr = htonl(0xc0a8010a);
	memcpy(&m.cand[0].addr, &sin, sizeof(sin));
	if (window_run(fd, secs, w, &run) == -1)
		return 1;
	printf("%lu REGISTER answers in %.2f s: %.0f/s, %lu errors, %lu lost, "
	    "%u nodes\n", run.answers, run.secs, (double)run.answers / run.secs,
	    run.errors, run.lost, seq < nodes ? seq : nodes);
	close(fd);
	return run.answers > 0 ? 0 : 1;
}
