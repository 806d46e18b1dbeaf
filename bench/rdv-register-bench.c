/* SPDX-License-Identifier: ISC */
/* bench/rdv-register-bench.c: authenticated REGISTERs through natmapd-rendezvous's dispatch (rdv_server_answer), no sockets: the rate on one core and the memory per registered node. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "rdv-msg.h"
#include "rdv-networks.h"
#include "rdv-server.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Resident memory, kB (/proc/self/status VmRSS). */
static long
rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *fp = fopen("/proc/self/status", "r");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

/* REGISTER of node i (from port 1024 + i % 60000 of 198.51.100.x), 2 candidates. */
static size_t
build(uint8_t *buf, size_t len, uint32_t i, uint32_t round,
    const uint8_t key[CRYPTO_KEY_LEN], struct sockaddr_storage *peer)
{
	struct sockaddr_in *sin = (void *)peer;
	struct rdv_msg m;
	int n;

	memset(&m, 0, sizeof(m));
	m.method = RDV_REGISTER;
	m.cls = STUN_REQUEST;
	memcpy(m.tid, &i, 4);
	memcpy(m.tid + 4, &round, 4);
	m.tid[11] = 0x42;
	strcpy(m.network, "bench");
	snprintf(m.node, sizeof(m.node), "node-%u.example", i);
	m.timestamp = wall();
	m.has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_TIMESTAMP;
	m.ncand = 2;
	m.cand[0].kind = RDV_CAND_HOST;
	m.cand[0].transport = RDV_UDP;
	memset(peer, 0, sizeof(*peer));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(51413);
	sin->sin_addr.s_addr = htonl(0xc0a80000 | (i & 0xffff));
	memcpy(&m.cand[0].addr, sin, sizeof(*sin));
	m.cand[1] = m.cand[0];
	m.cand[1].kind = RDV_CAND_SRFLX;
	sin->sin_port = htons((uint16_t)(1024 + i % 60000));
	sin->sin_addr.s_addr = htonl(0xc6336400 | (i / 60000 + 1));
	memcpy(&m.cand[1].addr, sin, sizeof(*sin));
	n = rdv_build(buf, len, &m, key);
	if (n <= 0) {
		fprintf(stderr, "rdv_build failed\n");
		exit(1);
	}
	return (size_t)n;
}

int
main(int argc, char *argv[])
{
	struct rdv_server_stats st;
	struct rdv_networks nets;
	struct sockaddr_storage l[4], peer, to;
	uint8_t key[CRYPTO_KEY_LEN], secret[CRYPTO_KEY_LEN];
	uint8_t req[STUN_MAX_MSG], out[512];
	char text[128], kt[CRYPTO_KEY_TEXT_LEN + 1], err[256];
	uint32_t i, n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) :
	    100000;
	double t0, t_build, t_first, t_renew;
	long rss0, rss1;
	size_t len;
	int from, bad = 0;

	memset(secret, 7, sizeof(secret));
	crypto_server_key(secret, key);
	crypto_key_format(key, kt);
	snprintf(text, sizeof(text), "bench %s\n", kt);
	if (rdv_networks_parse(&nets, "bench", text, strlen(text), err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rdv_server_set_networks(&nets);
	rdv_server_set_max_nodes(n);
	memset(l, 0, sizeof(l));
	/* building alone, to take it out of the rate */
	t0 = now();
	for (i = 0; i < n; i++)
		build(req, sizeof(req), i, 0, key, &peer);
	t_build = now() - t0;
	/* the tables are made on the first message: count them in */
	rss0 = rss_kb();
	t0 = now();
	for (i = 0; i < n; i++) {
		len = build(req, sizeof(req), i, 1, key, &peer);
		if (rdv_server_answer(req, len, 0, 0, &peer, l, 0, out,
		    sizeof(out), &from, &to) <= 0)
			bad++;
	}
	t_first = now() - t0;
	rss1 = rss_kb();
	t0 = now();
	for (i = 0; i < n; i++) {
		len = build(req, sizeof(req), i, 2, key, &peer);
		if (rdv_server_answer(req, len, 0, 0, &peer, l, 0, out,
		    sizeof(out), &from, &to) <= 0)
			bad++;
	}
	t_renew = now() - t0;
	rdv_server_get_stats(&st);
	printf("nodes %u, registrations held %llu, unanswered %d\n", n,
	    (unsigned long long)st.registrations, bad);
	printf("build only (client side): %.0f/s\n", n / t_build);
	printf("new REGISTERs: %.0f/s with building, %.0f/s dispatch alone\n",
	    n / t_first, n / (t_first - t_build));
	printf("renewals: %.0f/s with building, %.0f/s dispatch alone\n",
	    n / t_renew, n / (t_renew - t_build));
	printf("RSS %ld kB before, %ld kB with %u nodes: %.0f bytes/node "
	    "(registrations, hash buckets and the replay cache's touched "
	    "pages)\n", rss0, rss1, n, (double)(rss1 - rss0) * 1024 / n);
	return bad != 0;
}
