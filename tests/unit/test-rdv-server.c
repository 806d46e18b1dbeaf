/* SPDX-License-Identifier: ISC */
/* Unit tests of rdv-server.c's dispatch: which answer, from which socket, to where; REACH's dial-backs on loopback. */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "crypto.h"
#include "loop.h"
#include "rdv-dial.h"
#include "rdv-msg.h"
#include "rdv-networks.h"
#include "rdv-server.h"
#include "rdv-turn.h"
#include "stun-msg.h"
#include "wire.h"

static const uint8_t tid[STUN_TID_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};

static void
assert_sa(const struct sockaddr_storage *got, const char *ip, uint16_t port)
{
	struct sockaddr_storage want = tu_sa(ip, port);

	assert_memory_equal(got, &want, sizeof(want));
}

/* the four sockets of an RFC 5780 server: .30/.31 x 3480/3481 */
static void
locals(struct sockaddr_storage l[4])
{
	l[0] = tu_sa("203.0.113.30", 3480);
	l[1] = tu_sa("203.0.113.30", 3481);
	l[2] = tu_sa("203.0.113.31", 3480);
	l[3] = tu_sa("203.0.113.31", 3481);
}

static int
answer(const uint8_t *req, size_t len, int sock, int tcp, int rfc5780,
    uint8_t *out, size_t outlen, int *from, struct sockaddr_storage *to)
{
	struct sockaddr_storage l[4], peer = tu_sa("198.51.100.7", 40000);

	locals(l);
	if (!rfc5780) {
		memset(&l[1], 0, 3 * sizeof(l[0]));
	}
	*from = -1;
	return rdv_server_answer(req, len, sock, tcp, &peer, l, rfc5780, out,
	    outlen, from, to);
}

static void
test_plain(void **state)
{
	struct sockaddr_storage to;
	struct stun_msg m;
	uint8_t req[64], out[512];
	int n, from;

	(void)state;
	n = stun_build_binding(req, sizeof(req), tid, 0, 1);
	n = answer(req, (size_t)n, 0, 0, 1, out, sizeof(out), &from, &to);
	assert_true(n > 0);
	assert_int_equal(from, 0);
	assert_sa(&to, "198.51.100.7", 40000);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_sa(&m.xor_mapped, "198.51.100.7", 40000);
	assert_sa(&m.mapped, "198.51.100.7", 40000);
	assert_sa(&m.origin, "203.0.113.30", 3480);
	assert_sa(&m.other, "203.0.113.31", 3481);
	assert_true(m.has_fingerprint);
	assert_string_equal(m.software, "natmapd-rendezvous " PACKAGE_VERSION);

	/* no FINGERPRINT asked, none given; from the alternate pair, the primary is other */
	n = stun_build_binding(req, sizeof(req), tid, 0, 0);
	n = answer(req, (size_t)n, 3, 0, 1, out, sizeof(out), &from, &to);
	assert_int_equal(from, 3);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_false(m.has_fingerprint);
	assert_sa(&m.origin, "203.0.113.31", 3481);
	assert_sa(&m.other, "203.0.113.30", 3480);
}

static void
test_change(void **state)
{
	static const struct {
		int		sock;
		uint8_t		change;
		int		from;
		const char	*ip;
		uint16_t	port;
	} c[] = {
		{ 0, STUN_CHANGE_IP | STUN_CHANGE_PORT, 3, "203.0.113.31", 3481 },
		{ 0, STUN_CHANGE_PORT, 1, "203.0.113.30", 3481 },
		{ 0, STUN_CHANGE_IP, 2, "203.0.113.31", 3480 },
		{ 2, STUN_CHANGE_IP, 0, "203.0.113.30", 3480 },
		{ 3, STUN_CHANGE_PORT, 2, "203.0.113.31", 3480 },
		{ 1, STUN_CHANGE_IP | STUN_CHANGE_PORT, 2, "203.0.113.31", 3480 },
	};
	struct sockaddr_storage to;
	struct stun_msg m;
	uint8_t req[64], out[512];
	size_t i;
	int n, from;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(c); i++) {
		n = stun_build_binding(req, sizeof(req), tid, c[i].change, 1);
		n = answer(req, (size_t)n, c[i].sock, 0, 1, out, sizeof(out),
		    &from, &to);
		assert_true(n > 0);
		assert_int_equal(from, c[i].from);
		assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
		assert_int_equal(m.cls, STUN_SUCCESS);
		/* RESPONSE-ORIGIN says where it comes from */
		assert_sa(&m.origin, c[i].ip, c[i].port);
		assert_sa(&to, "198.51.100.7", 40000);
	}
}

static void
test_change_without_alt(void **state)
{
	struct sockaddr_storage to;
	struct stun_msg m;
	uint8_t req[64], out[512];
	int n, from;

	(void)state;
	n = stun_build_binding(req, sizeof(req), tid, STUN_CHANGE_IP, 1);
	n = answer(req, (size_t)n, 0, 0, 0, out, sizeof(out), &from, &to);
	assert_true(n > 0);
	assert_int_equal(from, 0);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(m.error_code, 420);
	assert_string_equal(m.error_reason, "Unknown Attribute");
	/* after ERROR-CODE (4 + 4 + 17 bytes, padded), UNKNOWN-ATTRIBUTES: CHANGE-REQUEST */
	assert_int_equal(wire_get16(out + 20), STUN_A_ERROR_CODE);
	assert_int_equal(wire_get16(out + 22), 4 + 17);
	assert_int_equal(wire_get16(out + 20 + 28), STUN_A_UNKNOWN_ATTRIBUTES);
	assert_int_equal(wire_get16(out + 20 + 28 + 2), 2);
	assert_int_equal(wire_get16(out + 20 + 28 + 4),
	    STUN_A_CHANGE_REQUEST);
	assert_int_equal(wire_get16(out + 20 + 28 + 6), 0);

	/* a CHANGE-REQUEST of no flags is an ordinary request */
	n = stun_build_request(req, sizeof(req), tid, 0, 0, 0);
	wire_put16(req + 2, 8);
	wire_put16(req + 20, STUN_A_CHANGE_REQUEST);
	wire_put16(req + 22, 4);
	wire_put32(req + 24, 0);
	n = answer(req, 28, 0, 0, 0, out, sizeof(out), &from, &to);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(m.cls, STUN_SUCCESS);
	/* no OTHER-ADDRESS without RFC 5780 */
	assert_int_equal(m.other.ss_family, AF_UNSPEC);
	assert_sa(&m.origin, "203.0.113.30", 3480);
}

static void
test_tcp(void **state)
{
	struct sockaddr_storage to;
	struct stun_msg m;
	uint8_t req[64], out[512];
	int n, from;

	(void)state;
	n = stun_build_request(req, sizeof(req), tid, STUN_CHANGE_PORT, 0, 1);
	n = answer(req, (size_t)n, 0, 1, 1, out, sizeof(out), &from, &to);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(m.error_code, 400);
	/* RESPONSE-PORT is for UDP: over TCP the answer is on the connection */
	n = stun_build_request(req, sizeof(req), tid, 0, 5555, 1);
	n = answer(req, (size_t)n, 0, 1, 1, out, sizeof(out), &from, &to);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_sa(&to, "198.51.100.7", 40000);
}

static void
test_response_port(void **state)
{
	struct sockaddr_storage to;
	struct stun_msg m;
	uint8_t req[64], out[512];
	int n, from;

	(void)state;
	n = stun_build_request(req, sizeof(req), tid, STUN_CHANGE_PORT, 5555,
	    1);
	n = answer(req, (size_t)n, 0, 0, 1, out, sizeof(out), &from, &to);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(from, 1);
	/* the same address, the port asked for; the mapping is still the source's */
	assert_sa(&to, "198.51.100.7", 5555);
	assert_sa(&m.xor_mapped, "198.51.100.7", 40000);
}

static void
test_dropped(void **state)
{
	struct sockaddr_storage to;
	uint8_t req[64], out[512];
	int n, from;

	(void)state;
	/* garbage, a truncated request, a success, an indication, another method */
	n = answer((const uint8_t *)"hello, world, what is this?", 27, 0, 0,
	    1, out, sizeof(out), &from, &to);
	assert_int_equal(n, 0);
	n = stun_build_binding(req, sizeof(req), tid, 0, 1);
	assert_int_equal(answer(req, (size_t)n - 1, 0, 0, 1, out, sizeof(out),
	    &from, &to), 0);
	req[1] = 0x01;		/* 0x0101: a success */
	assert_int_equal(answer(req, 20, 0, 0, 1, out, sizeof(out), &from,
	    &to), 0);
	n = stun_build_binding(req, sizeof(req), tid, 0, 0);
	req[1] = 0x11;		/* 0x0011: an indication */
	assert_int_equal(answer(req, 20, 0, 0, 1, out, sizeof(out), &from,
	    &to), 0);
	req[0] = 0x00;
	req[1] = 0x03;		/* method 3 (Allocate): not this server's */
	assert_int_equal(answer(req, 20, 0, 0, 1, out, sizeof(out), &from,
	    &to), 0);
	/* no room for the answer: none */
	n = stun_build_binding(req, sizeof(req), tid, 0, 1);
	assert_int_equal(answer(req, (size_t)n, 0, 0, 1, out, 40, &from, &to),
	    0);
}

/* RFC 5769 2.1's request: PRIORITY is comprehension-required, not known here */
static void
test_unknown(void **state)
{
	static const uint8_t rfc_request[] = {
		0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
		0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
		0xfa, 0x87, 0xdf, 0xae,
		0x80, 0x22, 0x00, 0x10,
		'S', 'T', 'U', 'N', ' ', 't', 'e', 's', 't', ' ',
		'c', 'l', 'i', 'e', 'n', 't',
		0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
		0x80, 0x29, 0x00, 0x08,
		0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
		0x00, 0x06, 0x00, 0x09,
		'e', 'v', 't', 'j', ':', 'h', '6', 'v', 'Y', ' ', ' ', ' ',
		0x00, 0x08, 0x00, 0x14,
		0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
		0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
		0xc1, 0xb5, 0x71, 0xa2,
		0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
	};
	struct sockaddr_storage to;
	struct stun_msg m;
	uint8_t out[512];
	int n, from;

	(void)state;
	n = answer(rfc_request, sizeof(rfc_request), 0, 0, 1, out, sizeof(out),
	    &from, &to);
	assert_true(n > 0);
	assert_int_equal(stun_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(m.error_code, 420);
	assert_memory_equal(m.tid, rfc_request + 8, STUN_TID_LEN);
	assert_true(m.has_fingerprint);
}


/* REGISTER: a fixed wall clock and monotonic clock, two networks. */
#define T0	1767225600000ULL	/* 2026-01-01 00:00:00 UTC */
static uint64_t fake_wall = T0, fake_mono = 1000000;
static uint8_t key_home[CRYPTO_KEY_LEN], key_work[CRYPTO_KEY_LEN];
static uint32_t tid_seq;

static uint64_t
wall_fake(void)
{
	return fake_wall;
}

static uint64_t
mono_fake(void)
{
	return fake_mono;
}

static int
setup_networks(void **state)
{
	struct rdv_networks nets;
	uint8_t secret[CRYPTO_KEY_LEN];
	char t1[CRYPTO_KEY_TEXT_LEN + 1], t2[CRYPTO_KEY_TEXT_LEN + 1];
	char text[256], err[256];
	int i;

	(void)state;
	for (i = 0; i < CRYPTO_KEY_LEN; i++)
		secret[i] = (uint8_t)(i + 1);
	crypto_server_key(secret, key_home);
	for (i = 0; i < CRYPTO_KEY_LEN; i++)
		secret[i] = (uint8_t)(0xa0 + i);
	crypto_server_key(secret, key_work);
	crypto_key_format(key_home, t1);
	crypto_key_format(key_work, t2);
	snprintf(text, sizeof(text), "# test\nhome %s\nwork %s\n", t1, t2);
	if (rdv_networks_parse(&nets, "test", text, strlen(text), err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	fake_wall = T0;
	fake_mono = 1000000;
	rdv_server_set_clocks(wall_fake, mono_fake);
	rdv_server_set_max_nodes(RDV_REG_NODES_DEFAULT);
	rdv_server_set_networks(&nets);
	return 0;
}

static int
teardown_networks(void **state)
{
	(void)state;
	rdv_server_set_clocks(NULL, NULL);
	return 0;
}

/* A REGISTER request of node in network, new transaction ID, at ts. */
static struct rdv_msg
reg_msg(const char *network, const char *node, uint64_t ts)
{
	struct rdv_msg m;

	memset(&m, 0, sizeof(m));
	m.method = RDV_REGISTER;
	m.cls = STUN_REQUEST;
	tid_seq++;
	memcpy(m.tid, &tid_seq, sizeof(tid_seq));
	m.tid[11] = 0x5a;
	snprintf(m.network, sizeof(m.network), "%s", network);
	snprintf(m.node, sizeof(m.node), "%s", node);
	m.timestamp = ts;
	m.has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_TIMESTAMP;
	return m;
}

static size_t
build(uint8_t *buf, size_t len, const struct rdv_msg *m, const uint8_t *key)
{
	int n = rdv_build(buf, len, m, key);

	assert_true(n > 0);
	return (size_t)n;
}

/* The answer from 198.51.100.7:40000 to a message over UDP (tcp: TCP). */
static int
serve(const uint8_t *req, size_t len, int tcp, uint8_t *out, size_t outlen)
{
	struct sockaddr_storage to;
	int from;

	return answer(req, len, 0, tcp, 0, out, outlen, &from, &to);
}

static void
get_stats(struct rdv_server_stats *st)
{
	rdv_server_get_stats(st);
}

/* The answer parses, verifies under key, is a REGISTER success to m. */
static void
check_ok(const uint8_t *out, int n, const struct rdv_msg *req,
    const uint8_t *key, uint32_t lifetime)
{
	struct rdv_msg a;
	const char *why = NULL;

	assert_true(n > 0);
	assert_int_equal(rdv_parse(out, (size_t)n, &a, &why), 0);
	assert_int_equal(rdv_verify(out, (size_t)n, &a, key), 1);
	assert_int_equal(a.method, RDV_REGISTER);
	assert_int_equal(a.cls, STUN_SUCCESS);
	assert_memory_equal(a.tid, req->tid, STUN_TID_LEN);
	assert_string_equal(a.network, req->network);
	assert_true(a.has & RDV_HAS_MAPPED);
	assert_sa(&a.mapped, "198.51.100.7", 40000);
	assert_int_equal(a.lifetime, lifetime);
	assert_true(a.server_time == fake_wall);
	/* and not under the other network's key */
	assert_int_equal(rdv_verify(out, (size_t)n, &a,
	    key == key_home ? key_work : key_home), 0);
}

static void
test_register(void **state)
{
	struct rdv_server_stats st;
	struct rdv_reg_info info;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	(void)state;
	m = reg_msg("home", "nas.home", T0 - 2000);
	m.ncand = 2;
	m.cand[0].kind = RDV_CAND_HOST;
	m.cand[0].transport = RDV_TCP;
	m.cand[0].addr = tu_sa("192.168.1.10", 22);
	m.cand[1].kind = RDV_CAND_MAPPED;
	m.cand[1].transport = RDV_UDP;
	m.cand[1].addr = tu_sa("198.51.100.7", 51413);
	len = build(req, sizeof(req), &m, key_home);
	n = serve(req, len, 0, out, sizeof(out));
	check_ok(out, n, &m, key_home, RDV_REG_LIFETIME);
	get_stats(&st);
	assert_int_equal(st.registered, 1);
	assert_int_equal(st.registrations, 1);
	assert_int_equal(rdv_server_lookup("home", "nas.home", &info), 0);
	assert_sa(&info.observed, "198.51.100.7", 40000);
	assert_int_equal(info.transport, RDV_UDP);
	assert_int_equal(info.ncand, 2);
	assert_int_equal(info.cand[0].kind, RDV_CAND_HOST);
	assert_int_equal(info.cand[0].transport, RDV_TCP);
	assert_sa(&info.cand[0].addr, "192.168.1.10", 22);
	assert_sa(&info.cand[1].addr, "198.51.100.7", 51413);
	assert_true(info.expires == fake_mono + 75000);
	/* not in the other network */
	assert_int_equal(rdv_server_lookup("work", "nas.home", &info), -1);

	/* 25 s later over TCP, asking 30 s, one candidate: the same entry */
	fake_wall += 25000;
	fake_mono += 25000;
	m = reg_msg("home", "nas.home", fake_wall);
	m.has |= RDV_HAS_LIFETIME;
	m.lifetime = 30;
	m.ncand = 1;
	m.cand[0].kind = RDV_CAND_SRFLX;
	m.cand[0].transport = RDV_UDP;
	m.cand[0].addr = tu_sa("198.51.100.7", 40000);
	len = build(req, sizeof(req), &m, key_home);
	n = serve(req, len, 1, out, sizeof(out));
	check_ok(out, n, &m, key_home, 30);
	get_stats(&st);
	assert_int_equal(st.registered, 2);
	assert_int_equal(st.registrations, 1);
	assert_int_equal(rdv_server_lookup("home", "nas.home", &info), 0);
	assert_int_equal(info.transport, RDV_TCP);
	assert_int_equal(info.ncand, 1);
	assert_int_equal(info.cand[0].kind, RDV_CAND_SRFLX);
	assert_true(info.expires == fake_mono + 30000);

	/* asking more than 75 s gets 75 s; the same name in work is another node */
	m = reg_msg("work", "nas.home", fake_wall);
	m.has |= RDV_HAS_LIFETIME;
	m.lifetime = 3600;
	len = build(req, sizeof(req), &m, key_work);
	n = serve(req, len, 0, out, sizeof(out));
	check_ok(out, n, &m, key_work, 75);
	get_stats(&st);
	assert_int_equal(st.registrations, 2);

	/* expiry: home's 30 s lapse, work's 75 s stay */
	fake_mono += 29999;
	assert_int_equal(rdv_server_lookup("home", "nas.home", &info), 0);
	fake_mono += 1;
	assert_int_equal(rdv_server_lookup("home", "nas.home", &info), -1);
	assert_int_equal(rdv_server_lookup("work", "nas.home", &info), 0);
	/* a sweep of all the buckets (131072 of them) */
	n = 0;
	while (n < 16 && rdv_server_expire() == 0)
		n++;
	assert_true(n < 16);
	get_stats(&st);
	assert_int_equal(st.registrations, 1);
	fake_mono += 45000;
	for (n = 0; n < 16; n++)
		rdv_server_expire();
	get_stats(&st);
	assert_int_equal(st.registrations, 0);
	assert_int_equal(st.unknown_network + st.bad_mac + st.stale +
	    st.replayed + st.malformed, 0);
}

#define STAT(f)	offsetof(struct rdv_server_stats, f)

/* Each negative: no answer, its counter and no other moves, nothing registered. */
static void
expect_drop(const uint8_t *req, size_t len, int tcp, size_t counter,
    const char *what)
{
	struct rdv_server_stats before, after;
	uint8_t out[512];
	int n;

	get_stats(&before);
	n = serve(req, len, tcp, out, sizeof(out));
	get_stats(&after);
	if (n != 0)
		fail_msg("%s: answered (%d bytes)", what, n);
	/* counter: the field's offset */
	assert_int_equal(*(uint64_t *)(void *)((char *)&after + counter),
	    *(uint64_t *)(void *)((char *)&before + counter) + 1);
	assert_int_equal(after.unknown_network + after.bad_mac + after.stale +
	    after.replayed + after.malformed, before.unknown_network +
	    before.bad_mac + before.stale + before.replayed +
	    before.malformed + 1);
	assert_int_equal(after.registered, before.registered);
	assert_int_equal(after.registrations, before.registrations);
}

static void
test_negatives(void **state)
{
	static const size_t flips[] = { 3, 9, 25, 40, 60 };
	struct rdv_server_stats st;
	struct rdv_reg_info info;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], bad[STUN_MAX_MSG], out[512];
	size_t len, i;
	int n;

	(void)state;
	get_stats(&st);
	/* unknown network (a right MAC under some key) */
	m = reg_msg("elsewhere", "a", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	expect_drop(req, len, 0, STAT(unknown_network), "unknown network");
	/* the wrong key */
	get_stats(&st);
	m = reg_msg("home", "a", fake_wall);
	len = build(req, sizeof(req), &m, key_work);
	expect_drop(req, len, 0, STAT(bad_mac), "wrong key");
	expect_drop(req, len, 1, STAT(bad_mac), "wrong key over TCP");
	/*
	 * one flipped byte: in the transaction ID, NETWORK's value, NODE,
	 * TIMESTAMP, the MAC: each parse fails (malformed) or the MAC does
	 * not verify; none is answered
	 */
	m = reg_msg("home", "node-1", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	for (i = 0; i < TU_ARRAY_LEN(flips) + 1; i++) {
		size_t at = i < TU_ARRAY_LEN(flips) ? flips[i] : len - 12;
		struct rdv_server_stats b, a;

		assert_true(at < len);
		memcpy(bad, req, len);
		bad[at] ^= 0x01;
		get_stats(&b);
		n = serve(bad, len, 0, out, sizeof(out));
		get_stats(&a);
		assert_int_equal(n, 0);
		assert_int_equal(a.bad_mac + a.malformed + a.unknown_network,
		    b.bad_mac + b.malformed + b.unknown_network + 1);
		assert_int_equal(a.registered, b.registered);
	}
	/* the flips inside the MAC'd body with the FINGERPRINT redone are bad MACs */
	get_stats(&st);
	memcpy(bad, req, len);
	bad[len - 8 - 36 + 4 + 5] ^= 0x80;	/* in the MAC itself */
	{
		/* recompute FINGERPRINT so that only the MAC is wrong */
		uint32_t fp = stun_crc32(bad, len - 8) ^ 0x5354554eU;

		wire_put32(bad + len - 4, fp);
	}
	expect_drop(bad, len, 0, STAT(bad_mac), "flipped MAC byte");
	/* the same in the transaction ID and in TIMESTAMP's value */
	for (i = 0; i < 2; i++) {
		memcpy(bad, req, len);
		bad[i == 0 ? 9 : len - 44 - 3] ^= 0x04;
		wire_put32(bad + len - 4, stun_crc32(bad, len - 8) ^
		    0x5354554eU);
		get_stats(&st);
		expect_drop(bad, len, 0, STAT(bad_mac), "flipped, FINGERPRINT redone");
	}
	/* truncated: by 1, by 4, to the header */
	get_stats(&st);
	expect_drop(req, len - 1, 0, STAT(malformed), "truncated by 1");
	get_stats(&st);
	expect_drop(req, len - 4, 0, STAT(malformed), "truncated by 4");
	get_stats(&st);
	expect_drop(req, 20, 0, STAT(malformed), "header only");
	/* nothing of node-1 was taken so far: the same bytes now are */
	n = serve(req, len, 0, out, sizeof(out));
	check_ok(out, n, &m, key_home, RDV_REG_LIFETIME);
	/* replayed: the same bytes twice, over UDP and over TCP */
	get_stats(&st);
	expect_drop(req, len, 0, STAT(replayed), "replay");
	get_stats(&st);
	expect_drop(req, len, 1, STAT(replayed), "replay over TCP");
	/* 31 s of skew either way: stale; 29 s either way: taken */
	get_stats(&st);
	m = reg_msg("home", "node-2", fake_wall - 31000);
	len = build(req, sizeof(req), &m, key_home);
	expect_drop(req, len, 0, STAT(stale), "31 s behind");
	get_stats(&st);
	m = reg_msg("home", "node-2", fake_wall + 31000);
	len = build(req, sizeof(req), &m, key_home);
	expect_drop(req, len, 0, STAT(stale), "31 s ahead");
	assert_int_equal(rdv_server_lookup("home", "node-2", &info), -1);
	m = reg_msg("home", "node-2", fake_wall - 29000);
	len = build(req, sizeof(req), &m, key_home);
	check_ok(out, serve(req, len, 0, out, sizeof(out)), &m, key_home, 75);
	m = reg_msg("home", "node-3", fake_wall + 29000);
	len = build(req, sizeof(req), &m, key_home);
	check_ok(out, serve(req, len, 0, out, sizeof(out)), &m, key_home, 75);
	assert_int_equal(rdv_server_lookup("home", "node-2", &info), 0);
	assert_int_equal(rdv_server_lookup("home", "node-3", &info), 0);
	/* an answer (success) sent to the server: not a request, dropped */
	get_stats(&st);
	n = serve(req, len, 0, out, sizeof(out));	/* replay: none */
	assert_int_equal(n, 0);
	m = reg_msg("home", "node-3", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	n = serve(req, len, 0, out, sizeof(out));
	assert_true(n > 0);
	get_stats(&st);
	expect_drop(out, (size_t)n, 0, STAT(malformed), "an answer");
}

static void
test_cap(void **state)
{
	struct rdv_server_stats st, st0;
	struct rdv_msg m, a;
	uint8_t req[STUN_MAX_MSG], out[512];
	char node[16];
	size_t len;
	int i, n;

	(void)state;
	get_stats(&st0);
	rdv_server_set_max_nodes(3);
	for (i = 0; i < 4; i++) {
		snprintf(node, sizeof(node), "n%d", i);
		m = reg_msg(i == 1 ? "work" : "home", node, fake_wall);
		len = build(req, sizeof(req), &m, i == 1 ? key_work : key_home);
		n = serve(req, len, 0, out, sizeof(out));
		assert_true(n > 0);
		assert_int_equal(rdv_parse(out, (size_t)n, &a, NULL), 0);
		assert_int_equal(rdv_verify(out, (size_t)n, &a,
		    i == 1 ? key_work : key_home), 1);
		if (i < 3)
			assert_int_equal(a.cls, STUN_SUCCESS);
		else {
			assert_int_equal(a.cls, STUN_ERROR);
			assert_int_equal(a.error_code, 508);
		}
	}
	get_stats(&st);
	assert_int_equal(st.registrations, 3);
	assert_int_equal(st.registered - st0.registered, 3);
	assert_int_equal(st.refused - st0.refused, 1);
	/* a registered node still renews when full */
	m = reg_msg("home", "n0", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	check_ok(out, serve(req, len, 0, out, sizeof(out)), &m, key_home, 75);
	/* once one lapses, there is room */
	fake_mono += 75000;
	fake_wall += 75000;
	for (i = 0; i < 16; i++)
		rdv_server_expire();
	get_stats(&st);
	assert_int_equal(st.registrations, 0);
	m = reg_msg("home", "n3", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	check_ok(out, serve(req, len, 0, out, sizeof(out)), &m, key_home, 75);
}

/* ---- REACH: the dial-back, on loopback: the alternate address is 127.0.0.2 ---- */

static struct {
	int			n;		/* answers the sink got */
	size_t			len;
	uint8_t			buf[STUN_MAX_MSG];	/* REACH answers, SIGNAL indications */
	int			sock, tcp;
	struct sockaddr_storage	to;
} sunk;

static void
sink(const uint8_t *ans, size_t len, int sock, int tcp,
    const struct sockaddr_storage *to)
{
	assert_true(len <= sizeof(sunk.buf));
	sunk.n++;
	memcpy(sunk.buf, ans, len);
	sunk.len = len;
	sunk.sock = sock;
	sunk.tcp = tcp;
	sunk.to = *to;
}

static int
setup_reach(void **state)
{
	if (setup_networks(state) == -1)
		return -1;
	loop_set_clock(mono_fake);
	rdv_server_set_reach_sink(sink);
	memset(&sunk, 0, sizeof(sunk));
	return 0;
}

static int
teardown_reach(void **state)
{
	rdv_server_set_reach_sink(NULL);
	loop_set_clock(NULL);
	return teardown_networks(state);
}

/* local[4] of a server on 127.0.0.1 and 127.0.0.2, ports 3480 and 3481 */
static void
reach_locals(struct sockaddr_storage l[4])
{
	l[0] = tu_sa("127.0.0.1", 3480);
	l[1] = tu_sa("127.0.0.1", 3481);
	l[2] = tu_sa("127.0.0.2", 3480);
	l[3] = tu_sa("127.0.0.2", 3481);
}

/* The node observed at 127.0.0.1:40000, over UDP (tcp: TCP), alt when alt. */
static int
reach_serve_from(const uint8_t *req, size_t len, int tcp, const char *ip,
    uint16_t port, int alt, uint8_t *out, size_t outlen)
{
	struct sockaddr_storage l[4], peer = tu_sa(ip, port), to;
	int from = -1;

	reach_locals(l);
	if (!alt)
		memset(&l[1], 0, 3 * sizeof(l[0]));
	return rdv_server_answer(req, len, 0, tcp, &peer, l, alt, out, outlen,
	    &from, &to);
}

static int
reach_serve1(const uint8_t *req, size_t len, int tcp, uint8_t *out,
    size_t outlen)
{
	return reach_serve_from(req, len, tcp, "127.0.0.1", 40000, 1, out,
	    outlen);
}

static void
reach_register(const char *node)
{
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	m = reg_msg("home", node, fake_wall);
	/* a candidate elsewhere: REACH never goes there */
	m.ncand = 1;
	m.cand[0].kind = RDV_CAND_MAPPED;
	m.cand[0].transport = RDV_UDP;
	m.cand[0].addr = tu_sa("127.0.0.3", 9);
	len = build(req, sizeof(req), &m, key_home);
	n = reach_serve_from(req, len, 0, "127.0.0.1", 40000, 1, out,
	    sizeof(out));
	assert_true(n > 0);
}

static struct rdv_msg
reach_msg(const char *node, uint8_t transport, uint16_t port)
{
	struct rdv_msg m;
	size_t i;

	m = reg_msg("home", node, fake_wall);
	m.method = RDV_REACH;
	m.has |= RDV_HAS_NONCE | RDV_HAS_REACH_TARGET;
	for (i = 0; i < sizeof(m.nonce); i++)
		m.nonce[i] = (uint8_t)(tid_seq * 7 + i);
	m.reach_transport = transport;
	m.reach_port = port;
	return m;
}

/* The answer parses, verifies under home's key, is REACH's to req: its class, code, reason. */
static void
check_reach(const uint8_t *out, int n, const struct rdv_msg *req, int code,
    const char *reason)
{
	struct rdv_msg a;

	assert_true(n > 0);
	assert_int_equal(rdv_parse(out, (size_t)n, &a, NULL), 0);
	assert_int_equal(rdv_verify(out, (size_t)n, &a, key_home), 1);
	assert_int_equal(a.method, RDV_REACH);
	assert_memory_equal(a.tid, req->tid, STUN_TID_LEN);
	assert_string_equal(a.network, "home");
	assert_true(a.has & RDV_HAS_SERVER_TIME);
	if (code == 0) {
		assert_int_equal(a.cls, STUN_SUCCESS);
		return;
	}
	assert_int_equal(a.cls, STUN_ERROR);
	assert_int_equal(a.error_code, code);
	if (reason != NULL)
		assert_string_equal(a.error_reason, reason);
}

/* A socket of type bound to ip, any port: the fd and its port in *port. */
static int
bound(int type, const char *ip, uint16_t want, uint16_t *port)
{
	struct sockaddr_storage ss = tu_sa(ip, want);
	socklen_t len = sizeof(struct sockaddr_in);
	int fd, one = 1;

	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 512), 0);
	return fd;
}

/* Run the loop until the sink has had n answers (2 s at most). */
static void
loop_until_sunk(int n)
{
	int i;

	for (i = 0; i < 200 && sunk.n < n; i++)
		loop_once(10);
	assert_int_equal(sunk.n, n);
}

static void
test_reach_not_registered(void **state)
{
	struct rdv_server_stats st0, st;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	(void)state;
	get_stats(&st0);
	m = reach_msg("a", RDV_TCP, 8080);
	len = build(req, sizeof(req), &m, key_home);
	n = reach_serve1(req, len, 0, out, sizeof(out));
	check_reach(out, n, &m, 403, "register first");
	assert_true((size_t)n <= len);
	get_stats(&st);
	assert_int_equal(st.reach - st0.reach, 1);
	assert_int_equal(st.refused - st0.refused, 1);
	assert_int_equal(rdv_server_reach_pending(), 0);
	/* in another network, the same name is not registered either */
	reach_register("a");
	m = reach_msg("a", RDV_UDP, 8080);
	memcpy(m.network, "work", 5);
	len = build(req, sizeof(req), &m, key_work);
	n = reach_serve1(req, len, 0, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(rdv_parse(out, (size_t)n, &m, NULL), 0);
	assert_int_equal(rdv_verify(out, (size_t)n, &m, key_work), 1);
	assert_int_equal(m.error_code, 403);
	/* a REACH with a bad MAC is dropped like any other */
	m = reach_msg("a", RDV_TCP, 8080);
	len = build(req, sizeof(req), &m, key_work);
	expect_drop(req, len, 0, STAT(bad_mac), "REACH, wrong key");
}

static void
test_reach_no_alt(void **state)
{
	enum rdv_dial_result r;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	(void)state;
	reach_register("a");
	m = reach_msg("a", RDV_TCP, 8080);
	len = build(req, sizeof(req), &m, key_home);
	n = reach_serve_from(req, len, 0, "127.0.0.1", 40000, 0, out,
	    sizeof(out));
	check_reach(out, n, &m, 501, "no alt address for dial-back");
	/* the longest reason, the shortest name: still no more out than in */
	assert_true((size_t)n <= len);
	assert_int_equal(rdv_server_reach_pending(), 0);
	/* so is every reason of a dial-back's end at most 28 characters */
	for (r = RDV_DIAL_REACHED; r <= RDV_DIAL_ERROR; r++)
		assert_true(strlen(rdv_dial_reason(r)) <= 28);
}

static void
test_reach_udp(void **state)
{
	struct rdv_server_stats st0, st;
	struct sockaddr_storage src;
	struct sockaddr_in *sin = (void *)&src;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512], out2[512], got[64];
	socklen_t slen = sizeof(src);
	uint16_t port, port3;
	size_t len;
	ssize_t r;
	int n, fd, fd3;

	(void)state;
	reach_register("a");
	fd = bound(SOCK_DGRAM, "127.0.0.1", 0, &port);
	/* the same port on another address, and the candidate's address */
	fd3 = bound(SOCK_DGRAM, "127.0.0.3", port, &port3);
	get_stats(&st0);
	m = reach_msg("a", RDV_UDP, port);
	len = build(req, sizeof(req), &m, key_home);
	n = reach_serve1(req, len, 0, out, sizeof(out));
	check_reach(out, n, &m, 0, NULL);
	/* never more out than in: the answer and the 16 bytes of nonce */
	assert_true((size_t)n + RDV_NONCE_LEN <= len);
	r = recvfrom(fd, got, sizeof(got), 0, (struct sockaddr *)&src, &slen);
	assert_int_equal(r, RDV_NONCE_LEN);
	assert_memory_equal(got, m.nonce, RDV_NONCE_LEN);
	/* from the alternate address, a port that is none of the server's */
	assert_int_equal(sin->sin_addr.s_addr, htonl(0x7f000002));
	assert_true(ntohs(sin->sin_port) != 3480 &&
	    ntohs(sin->sin_port) != 3481 && sin->sin_port != 0);
	assert_int_equal(recv(fd3, got, sizeof(got), MSG_DONTWAIT), -1);
	get_stats(&st);
	assert_int_equal(st.reach - st0.reach, 1);
	assert_int_equal(st.reached - st0.reached, 1);

	/* a retransmission: the same answer, no second nonce, not a replay */
	n = reach_serve1(req, len, 0, out2, sizeof(out2));
	assert_true(n > 0);
	assert_memory_equal(out, out2, (size_t)n);
	assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), -1);
	get_stats(&st);
	assert_int_equal(st.retransmits - st0.retransmits, 1);
	assert_int_equal(st.replayed, st0.replayed);
	assert_int_equal(st.reach - st0.reach, 1);
	/* the same bytes from another port or address: a replay, dropped */
	get_stats(&st0);
	assert_int_equal(reach_serve_from(req, len, 0, "127.0.0.1", 40001, 1,
	    out2, sizeof(out2)), 0);
	assert_int_equal(reach_serve_from(req, len, 0, "127.0.0.3", 40000, 1,
	    out2, sizeof(out2)), 0);
	/* and over TCP from the same address and port */
	assert_int_equal(reach_serve_from(req, len, 1, "127.0.0.1", 40000, 1,
	    out2, sizeof(out2)), 0);
	get_stats(&st);
	assert_int_equal(st.replayed - st0.replayed, 3);
	assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(recv(fd3, got, sizeof(got), MSG_DONTWAIT), -1);

	/* another source address: the nonce goes there, to the port asked */
	m = reach_msg("a", RDV_UDP, port);
	len = build(req, sizeof(req), &m, key_home);
	n = reach_serve_from(req, len, 0, "127.0.0.3", 50000, 1, out,
	    sizeof(out));
	check_reach(out, n, &m, 0, NULL);
	assert_int_equal(recv(fd3, got, sizeof(got), 0), RDV_NONCE_LEN);
	assert_memory_equal(got, m.nonce, RDV_NONCE_LEN);
	assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), -1);
	close(fd);
	close(fd3);
}

static void
test_reach_rate(void **state)
{
	struct rdv_server_stats st0, st;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	uint16_t port;
	size_t len;
	int i, n, fd;

	(void)state;
	reach_register("a");
	reach_register("b");
	fd = bound(SOCK_DGRAM, "127.0.0.1", 0, &port);
	get_stats(&st0);
	/* a burst of 5, then 429 */
	for (i = 0; i < 7; i++) {
		m = reach_msg("a", RDV_UDP, port);
		len = build(req, sizeof(req), &m, key_home);
		n = reach_serve1(req, len, 0, out, sizeof(out));
		if (i < 5)
			check_reach(out, n, &m, 0, NULL);
		else {
			check_reach(out, n, &m, 429, "too many REACH requests");
			assert_true((size_t)n <= len);
		}
	}
	/* another node has its own bucket */
	m = reach_msg("b", RDV_UDP, port);
	len = build(req, sizeof(req), &m, key_home);
	check_reach(out, reach_serve1(req, len, 0, out, sizeof(out)), &m, 0,
	    NULL);
	/* one back after 6 s, not before */
	fake_mono += 5999;
	m = reach_msg("a", RDV_UDP, port);
	len = build(req, sizeof(req), &m, key_home);
	check_reach(out, reach_serve1(req, len, 0, out, sizeof(out)), &m, 429,
	    NULL);
	fake_mono += 1;
	m = reach_msg("a", RDV_UDP, port);
	len = build(req, sizeof(req), &m, key_home);
	check_reach(out, reach_serve1(req, len, 0, out, sizeof(out)), &m, 0,
	    NULL);
	m = reach_msg("a", RDV_UDP, port);
	len = build(req, sizeof(req), &m, key_home);
	check_reach(out, reach_serve1(req, len, 0, out, sizeof(out)), &m, 429,
	    NULL);
	get_stats(&st);
	assert_int_equal(st.rate_limited - st0.rate_limited, 4);
	assert_int_equal(st.reached - st0.reached, 7);
	assert_int_equal(st.reach - st0.reach, 11);
	/* 7 nonces came, no more */
	for (i = 0; i < 7; i++)
		assert_int_equal(recv(fd, out, sizeof(out), MSG_DONTWAIT),
		    RDV_NONCE_LEN);
	assert_int_equal(recv(fd, out, sizeof(out), MSG_DONTWAIT), -1);
	close(fd);
}

/*
 * TC_SILENT: accepted, nothing sent; TC_FULL: the listener's accept queue
 * is full (backlog 0 and one connection in it), so Linux drops the SYNs:
 * no connection at all.
 */
enum tcp_case { TC_OK, TC_WRONG, TC_SILENT, TC_REFUSED, TC_FULL };

/* One TCP dial-back to a listener on 127.0.0.1 that does what c says. */
static void
reach_tcp(enum tcp_case c, int tcp, int code, const char *reason)
{
	struct rdv_server_stats st0, st;
	struct sockaddr_storage src;
	struct sockaddr_in *sin = (void *)&src;
	struct pollfd pf;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512], wrong[RDV_NONCE_LEN];
	socklen_t slen = sizeof(src);
	uint16_t port;
	size_t len;
	ssize_t r;
	int n, lfd, cfd = -1, ffd = -1, i, sunk0 = sunk.n;

	reach_register("a");
	lfd = bound(SOCK_STREAM, "127.0.0.1", 0, &port);
	if (c == TC_REFUSED)
		close(lfd);
	if (c == TC_FULL) {
		struct sockaddr_storage to = tu_sa("127.0.0.1", port);

		assert_int_equal(listen(lfd, 0), 0);
		ffd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(ffd != -1);
		assert_int_equal(connect(ffd, (struct sockaddr *)&to,
		    sizeof(struct sockaddr_in)), 0);
	}
	get_stats(&st0);
	m = reach_msg("a", RDV_TCP, port);
	len = build(req, sizeof(req), &m, key_home);
	n = reach_serve1(req, len, tcp, out, sizeof(out));
	assert_int_equal(n, RDV_ANSWER_LATER);
	assert_int_equal(rdv_server_reach_pending(), 1);
	/* a retransmission while it is under way: nothing, no second dial */
	assert_int_equal(reach_serve1(req, len, tcp, out, sizeof(out)),
	    RDV_ANSWER_LATER);
	assert_int_equal(rdv_server_reach_pending(), 1);
	if (c != TC_REFUSED && c != TC_FULL) {
		cfd = accept(lfd, (struct sockaddr *)&src, &slen);
		assert_true(cfd != -1);
		assert_int_equal(sin->sin_addr.s_addr, htonl(0x7f000002));
		assert_true(ntohs(sin->sin_port) != 3480 &&
		    ntohs(sin->sin_port) != 3481);
		/* one connection, not two */
		pf.fd = lfd;
		pf.events = POLLIN;
		assert_int_equal(poll(&pf, 1, 50), 0);
	}
	if (c == TC_OK)
		assert_int_equal(send(cfd, m.nonce, RDV_NONCE_LEN, 0),
		    RDV_NONCE_LEN);
	if (c == TC_WRONG) {
		memcpy(wrong, m.nonce, sizeof(wrong));
		wrong[15] ^= 1;
		/* in two pieces */
		assert_int_equal(send(cfd, wrong, 5, 0), 5);
		for (i = 0; i < 5; i++)
			loop_once(10);
		assert_int_equal(sunk.n, sunk0);
		assert_int_equal(send(cfd, wrong + 5, 11, 0), 11);
	}
	if (c == TC_SILENT || c == TC_FULL) {
		for (i = 0; i < 10; i++)
			loop_once(10);
		assert_int_equal(sunk.n, sunk0);
		fake_mono += RDV_DIAL_TIMEOUT_MS - 1;
		loop_run_timers();
		assert_int_equal(sunk.n, sunk0);
		fake_mono += 1;
		loop_run_timers();
	}
	loop_until_sunk(sunk0 + 1);
	assert_int_equal(rdv_server_reach_pending(), 0);
	check_reach(sunk.buf, (int)sunk.len, &m, code, reason);
	assert_true(sunk.len <= len);
	assert_int_equal(sunk.tcp, tcp);
	assert_int_equal(sunk.sock, 0);
	assert_sa(&sunk.to, "127.0.0.1", 40000);
	get_stats(&st);
	assert_int_equal(st.reach - st0.reach, 1);
	assert_int_equal(st.retransmits - st0.retransmits, 1);
	assert_int_equal(st.reached - st0.reached, code == 0);
	assert_int_equal(st.not_reached - st0.not_reached, code != 0);
	if (cfd != -1) {
		/* the server wrote nothing, and is gone */
		r = recv(cfd, out, sizeof(out), 0);
		assert_true(r <= 0);
		close(cfd);
	}
	/* a retransmission after: the same answer, at once */
	n = reach_serve1(req, len, tcp, out, sizeof(out));
	assert_int_equal(n, (int)sunk.len);
	assert_memory_equal(out, sunk.buf, sunk.len);
	if (ffd != -1)
		close(ffd);
	if (c != TC_REFUSED)
		close(lfd);
}

static void
test_reach_tcp_ok(void **state)
{
	(void)state;
	reach_tcp(TC_OK, 0, 0, NULL);
	/* the request over TCP: the answer for that connection */
	fake_mono += 6000;
	reach_tcp(TC_OK, 1, 0, NULL);
}

static void
test_reach_tcp_wrong(void **state)
{
	(void)state;
	reach_tcp(TC_WRONG, 0, 404, "not reached: wrong nonce");
}

/* Connected, and nothing came: told apart from no connection at all. */
static void
test_reach_tcp_silent(void **state)
{
	(void)state;
	reach_tcp(TC_SILENT, 1, 404, "not reached: no nonce");
}

static void
test_reach_tcp_timeout(void **state)
{
	(void)state;
	reach_tcp(TC_FULL, 0, 404, "not reached: timed out");
}

static void
test_reach_tcp_refused(void **state)
{
	(void)state;
	reach_tcp(TC_REFUSED, 0, 404, "not reached: refused");
}

/* RDV_REACH_INFLIGHT TCP dial-backs at once, then 503 */
static void
test_reach_busy(void **state)
{
	struct rdv_server_stats st0, st;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	char node[16];
	uint16_t port;
	size_t len;
	int i, n, lfd;

	(void)state;
	lfd = bound(SOCK_STREAM, "127.0.0.1", 0, &port);
	for (i = 0; i <= RDV_REACH_INFLIGHT / RDV_REACH_BURST; i++) {
		snprintf(node, sizeof(node), "n%d", i);
		reach_register(node);
	}
	get_stats(&st0);
	for (i = 0; i < RDV_REACH_INFLIGHT + 1; i++) {
		snprintf(node, sizeof(node), "n%d", i / RDV_REACH_BURST);
		m = reach_msg(node, RDV_TCP, port);
		len = build(req, sizeof(req), &m, key_home);
		n = reach_serve1(req, len, 0, out, sizeof(out));
		if (i < RDV_REACH_INFLIGHT)
			assert_int_equal(n, RDV_ANSWER_LATER);
		else
			check_reach(out, n, &m, 503, "too many dial-backs");
	}
	assert_int_equal(rdv_server_reach_pending(), RDV_REACH_INFLIGHT);
	/* UDP is sent at once: not held back (n51 has 4 tokens left) */
	m = reach_msg("n51", RDV_UDP, port);
	len = build(req, sizeof(req), &m, key_home);
	check_reach(out, reach_serve1(req, len, 0, out, sizeof(out)), &m, 0,
	    NULL);
	/* nobody sends a nonce: all time out */
	fake_mono += RDV_DIAL_TIMEOUT_MS;
	loop_run_timers();
	assert_int_equal(rdv_server_reach_pending(), 0);
	get_stats(&st);
	assert_int_equal(st.not_reached - st0.not_reached,
	    RDV_REACH_INFLIGHT);
	close(lfd);
}

/* SIGHUP's new networks: registrations follow their network, or go with it. */
static void
test_reload(void **state)
{
	struct rdv_networks nets;
	struct rdv_reg_info info;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	char t[CRYPTO_KEY_TEXT_LEN + 1], text[256], err[256];
	size_t len;

	(void)state;
	m = reg_msg("work", "w1", fake_wall);
	len = build(req, sizeof(req), &m, key_work);
	check_ok(out, serve(req, len, 0, out, sizeof(out)), &m, key_work, 75);
	m = reg_msg("home", "h1", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	check_ok(out, serve(req, len, 0, out, sizeof(out)), &m, key_home, 75);
	/* a network before both (indices shift), work kept, home gone */
	crypto_key_format(key_work, t);
	snprintf(text, sizeof(text), "aaa %s\nwork %s\n", t, t);
	assert_int_equal(rdv_networks_parse(&nets, "t", text, strlen(text),
	    err, sizeof(err)), 0);
	rdv_server_set_networks(&nets);
	assert_int_equal(rdv_server_lookup("work", "w1", &info), 0);
	assert_int_equal(rdv_server_lookup("aaa", "w1", &info), -1);
	assert_int_equal(rdv_server_lookup("home", "h1", &info), -1);
}

/* ---- SIGNAL: sent on to where PEER registered ---- */

static int
setup_signal(void **state)
{
	if (setup_networks(state) == -1)
		return -1;
	rdv_server_set_signal_sink(sink);
	memset(&sunk, 0, sizeof(sunk));
	return 0;
}

static int
teardown_signal(void **state)
{
	rdv_server_set_signal_sink(NULL);
	return teardown_networks(state);
}

/* A message from ip:port to the server's socket sock (of an RFC 5780 set), over UDP or TCP. */
static int
serve_at(const uint8_t *req, size_t len, int tcp, int sock, const char *ip,
    uint16_t port, uint8_t *out, size_t outlen)
{
	struct sockaddr_storage l[4], peer = tu_sa(ip, port), to;
	int from = -1, n;

	locals(l);
	n = rdv_server_answer(req, len, sock, tcp, &peer, l, 1, out, outlen,
	    &from, &to);
	if (n > 0) {
		assert_int_equal(from, sock);
		assert_sa(&to, ip, port);
	}
	return n;
}

/* node registers in network from ip:port at socket sock. */
static void
sig_register(const char *network, const char *node, int tcp, int sock,
    const char *ip, uint16_t port)
{
	struct rdv_msg m = reg_msg(network, node, fake_wall);
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	len = build(req, sizeof(req), &m,
	    strcmp(network, "home") == 0 ? key_home : key_work);
	n = serve_at(req, len, tcp, sock, ip, port, out, sizeof(out));
	assert_true(n > 0);
}

/* A SIGNAL request of node to peer in network with a payload of paylen bytes. */
static struct rdv_msg
sig_msg(const char *network, const char *node, const char *peer,
    size_t paylen)
{
	struct rdv_msg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.method = RDV_SIGNAL;
	m.cls = STUN_REQUEST;
	tid_seq++;
	memcpy(m.tid, &tid_seq, sizeof(tid_seq));
	m.tid[11] = 0x51;
	snprintf(m.network, sizeof(m.network), "%s", network);
	snprintf(m.node, sizeof(m.node), "%s", node);
	snprintf(m.peer, sizeof(m.peer), "%s", peer);
	m.timestamp = fake_wall;
	m.payload_len = paylen;
	for (i = 0; i < paylen; i++)
		m.payload[i] = (uint8_t)(i ^ tid_seq);
	m.has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_TIMESTAMP |
	    RDV_HAS_PEER | RDV_HAS_PAYLOAD;
	return m;
}

/* The answer to req: a SIGNAL success (code 0) or error code, under key, no longer than the request. */
static void
check_signal(const uint8_t *out, int n, size_t reqlen,
    const struct rdv_msg *req, const uint8_t *key, int code,
    const char *reason)
{
	struct rdv_msg a;
	const char *why = NULL;

	assert_true(n > 0);
	assert_true((size_t)n <= reqlen);
	assert_int_equal(rdv_parse(out, (size_t)n, &a, &why), 0);
	assert_int_equal(rdv_verify(out, (size_t)n, &a, key), 1);
	assert_int_equal(a.method, RDV_SIGNAL);
	assert_memory_equal(a.tid, req->tid, STUN_TID_LEN);
	assert_string_equal(a.network, req->network);
	assert_true(a.server_time == fake_wall);
	if (code == 0) {
		assert_int_equal(a.cls, STUN_SUCCESS);
		return;
	}
	assert_int_equal(a.cls, STUN_ERROR);
	assert_int_equal(a.error_code, code);
	if (reason != NULL)
		assert_string_equal(a.error_reason, reason);
}

/* The indication sunk: from node to peer with req's payload, under key, sent from sock to ip:port. */
static void
check_ind(const struct rdv_msg *req, const uint8_t *key, int sock, int tcp,
    const char *ip, uint16_t port)
{
	struct rdv_msg i;
	const char *why = NULL;

	assert_int_equal(rdv_parse(sunk.buf, sunk.len, &i, &why), 0);
	assert_int_equal(rdv_verify(sunk.buf, sunk.len, &i, key), 1);
	assert_int_equal(rdv_verify(sunk.buf, sunk.len, &i,
	    key == key_home ? key_work : key_home), 0);
	assert_int_equal(i.method, RDV_SIGNAL);
	assert_int_equal(i.cls, STUN_INDICATION);
	assert_string_equal(i.network, req->network);
	assert_string_equal(i.node, req->node);
	assert_string_equal(i.peer, req->peer);
	assert_int_equal(i.payload_len, req->payload_len);
	assert_memory_equal(i.payload, req->payload, req->payload_len);
	assert_true(i.server_time == fake_wall);
	assert_false(i.has & RDV_HAS_TIMESTAMP);
	/* an ID of the server's own: never taken for an answer */
	assert_memory_not_equal(i.tid, req->tid, STUN_TID_LEN);
	assert_int_equal(sunk.sock, sock);
	assert_int_equal(sunk.tcp, tcp);
	assert_sa(&sunk.to, ip, port);
}

static void
test_signal_sent_on(void **state)
{
	struct rdv_server_stats st0, st;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	(void)state;
	sig_register("home", "x", 0, 0, "198.51.100.7", 40000);
	/* y's REGISTER came to the alternate address and port */
	sig_register("home", "y", 0, 3, "198.51.100.8", 41000);
	sig_register("home", "t", 1, 1, "198.51.100.9", 42000);
	get_stats(&st0);
	/* x to y: sent from socket 3 to where y's REGISTER came from */
	m = sig_msg("home", "x", "y", 37);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 0, "198.51.100.7", 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 0, NULL);
	assert_int_equal(sunk.n, 1);
	check_ind(&m, key_home, 3, 0, "198.51.100.8", 41000);
	/* y to x, the largest payload, from another port of y's: x's socket 0 */
	m = sig_msg("home", "y", "x", RDV_PAYLOAD_MAX);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 2, "198.51.100.8", 41001, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 0, NULL);
	assert_int_equal(sunk.n, 2);
	check_ind(&m, key_home, 0, 0, "198.51.100.7", 40000);
	/* to a node registered over TCP: on its connection */
	m = sig_msg("home", "x", "t", 1);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 0, "198.51.100.7", 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 0, NULL);
	check_ind(&m, key_home, 1, 1, "198.51.100.9", 42000);
	/* over TCP, the answer on the connection */
	m = sig_msg("home", "t", "x", 5);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 1, 1, "198.51.100.9", 42000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 0, NULL);
	check_ind(&m, key_home, 0, 0, "198.51.100.7", 40000);
	get_stats(&st);
	assert_int_equal(st.signal - st0.signal, 4);
	assert_int_equal(st.signalled - st0.signalled, 4);
	assert_int_equal(st.signal_refused, st0.signal_refused);
	assert_int_equal(sunk.n, 4);
}

static void
test_signal_refused(void **state)
{
	struct rdv_server_stats st0, st;
	struct rdv_msg m;
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	(void)state;
	sig_register("home", "x", 0, 0, "198.51.100.7", 40000);
	sig_register("work", "w", 0, 0, "198.51.100.20", 40000);
	get_stats(&st0);
	/* to a node not registered: 404, nothing sent */
	m = sig_msg("home", "x", "nobody", 16);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 0, "198.51.100.7", 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 404, "no such node");
	/* the smallest request gets an answer no longer (names of 1, payload of 1) */
	m = sig_msg("home", "x", "q", 1);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 0, "198.51.100.7", 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 404, "no such node");
	/* to a node of another network: w is in work, not in home */
	m = sig_msg("home", "x", "w", 16);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 0, "198.51.100.7", 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 404, "no such node");
	/* x asking in work (under work's key): x is not registered there */
	m = sig_msg("work", "x", "w", 16);
	len = build(req, sizeof(req), &m, key_work);
	n = serve_at(req, len, 0, 0, "198.51.100.7", 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_work, 403, "register first");
	/* in work under home's key: a bad MAC, dropped */
	m = sig_msg("work", "w", "w", 16);
	len = build(req, sizeof(req), &m, key_home);
	expect_drop(req, len, 0, offsetof(struct rdv_server_stats, bad_mac),
	    "SIGNAL under another network's key");
	/* a flipped payload byte, FINGERPRINT made right: the MAC fails */
	m = sig_msg("home", "x", "x", 16);
	len = build(req, sizeof(req), &m, key_home);
	req[len - 44 - 8] ^= 0x01;
	wire_put32(req + len - 4, stun_crc32(req, len - 8) ^ 0x5354554e);
	expect_drop(req, len, 0, offsetof(struct rdv_server_stats, bad_mac),
	    "SIGNAL with a flipped payload byte");
	/* the same bytes twice: the second is a replay */
	m = sig_msg("home", "x", "x", 16);
	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 0, "198.51.100.7", 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, 0, NULL);
	expect_drop(req, len, 0, offsetof(struct rdv_server_stats, replayed),
	    "SIGNAL again");
	/* stale */
	m = sig_msg("home", "x", "x", 16);
	m.timestamp = fake_wall - RDV_SKEW_MAX_MS - 1;
	len = build(req, sizeof(req), &m, key_home);
	expect_drop(req, len, 0, offsetof(struct rdv_server_stats, stale),
	    "SIGNAL 30 s old");
	/* an indication sent to the server: not a request, dropped */
	m = sig_msg("home", "x", "x", 16);
	m.cls = STUN_INDICATION;
	m.has = (m.has & ~RDV_HAS_TIMESTAMP) | RDV_HAS_SERVER_TIME;
	len = build(req, sizeof(req), &m, key_home);
	expect_drop(req, len, 0, offsetof(struct rdv_server_stats, malformed),
	    "SIGNAL indication to the server");
	get_stats(&st);
	assert_int_equal(st.signal - st0.signal, 5);
	assert_int_equal(st.signalled - st0.signalled, 1);
	assert_int_equal(st.signal_refused - st0.signal_refused, 4);
	assert_int_equal(sunk.n, 1);	/* x to itself, once */
}

/* A SIGNAL of node to peer in home over UDP from ip:40000 at socket 0: answered code. */
static void
sig_try(const char *node, const char *peer, const char *ip, int code,
    const char *reason)
{
	struct rdv_msg m = sig_msg("home", node, peer, 8);
	uint8_t req[STUN_MAX_MSG], out[512];
	size_t len;
	int n;

	len = build(req, sizeof(req), &m, key_home);
	n = serve_at(req, len, 0, 0, ip, 40000, out, sizeof(out));
	check_signal(out, n, len, &m, key_home, code, reason);
}

static void
test_signal_rate(void **state)
{
	int i;

	(void)state;
	sig_register("home", "x", 0, 0, "198.51.100.7", 40000);
	sig_register("home", "y", 0, 0, "198.51.100.8", 40000);
	/* a burst of 16, then 429; a 404 costs a token too */
	for (i = 0; i < RDV_SIGNAL_BURST + 2; i++)
		sig_try("x", i == 3 ? "nobody" : "y", "198.51.100.7",
		    i == 3 ? 404 : i < RDV_SIGNAL_BURST ? 0 : 429,
		    i == 3 ? "no such node" : i < RDV_SIGNAL_BURST ? NULL :
		    "rate limit");
	assert_int_equal(sunk.n, RDV_SIGNAL_BURST - 1);
	/* y has its own bucket */
	sig_try("y", "x", "198.51.100.8", 0, NULL);
	/* one back after 100 ms, not before */
	fake_mono += RDV_SIGNAL_INTERVAL_MS - 1;
	sig_try("x", "y", "198.51.100.7", 429, NULL);
	fake_mono += 1;
	sig_try("x", "y", "198.51.100.7", 0, NULL);
	sig_try("x", "y", "198.51.100.7", 429, NULL);
	/* a lapsed registration: 403 for the sender, 404 for the peer */
	fake_mono += (uint64_t)RDV_REG_LIFETIME * 1000;
	sig_register("home", "z", 0, 0, "198.51.100.9", 40000);
	sig_try("x", "z", "198.51.100.7", 403, "register first");
	sig_try("z", "x", "198.51.100.9", 404, "no such node");
}

/*
 * TURN credentials: none without rdv_server_set_turn; with it, every
 * REGISTER success carries the relay and a pair sealed for the node,
 * good for an hour from the server's clock: the username and password
 * computed apart (python3's hmac, base64) for the secret "north-secret";
 * they open only under the network's key, in that answer, for that
 * node, unchanged; the next answer has a new seal and a later expiry.
 */
static void
test_turn(void **state)
{
	struct rdv_server_stats st;
	struct sockaddr_storage relay = tu_sa("203.0.113.8", 3478);
	struct rdv_msg m, a;
	struct rdv_turn t;
	uint8_t req[STUN_MAX_MSG], out[512], cred[RDV_TURN_SEALED_MAX];
	size_t len, i;
	int n;

	(void)state;
	m = reg_msg("home", "nas.home", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	n = serve(req, len, 0, out, sizeof(out));
	check_ok(out, n, &m, key_home, RDV_REG_LIFETIME);
	assert_int_equal(rdv_parse(out, (size_t)n, &a, NULL), 0);
	assert_false(a.has & (RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL));

	rdv_server_set_turn(&relay, "north-secret", 12);
	m = reg_msg("home", "nas.home", fake_wall);
	m.tid[0] ^= 0x40;
	len = build(req, sizeof(req), &m, key_home);
	n = serve(req, len, 0, out, sizeof(out));
	check_ok(out, n, &m, key_home, RDV_REG_LIFETIME);
	assert_int_equal(rdv_parse(out, (size_t)n, &a, NULL), 0);
	assert_true(a.has & RDV_HAS_TURN_SERVER);
	assert_true(a.has & RDV_HAS_TURN_CREDENTIAL);
	assert_sa(&a.turn_server, "203.0.113.8", 3478);
	assert_int_equal(rdv_turn_open(key_home, a.tid, "home", "nas.home",
	    a.turn_cred, a.turn_cred_len, &t), 0);
	assert_string_equal(t.username, "1767229200:nas.home");
	assert_string_equal(t.password, "3gkB51v7+Zc7xwKFJh+037NajOY=");
	assert_true(t.expiry == T0 / 1000 + RDV_TURN_LIFETIME);
	/* the plain text is not in the answer */
	for (i = 0; i + 28 <= (size_t)n; i++)
		assert_int_not_equal(memcmp(out + i, t.password, 28), 0);
	/* another key, node, network or answer: it does not open */
	assert_int_equal(rdv_turn_open(key_work, a.tid, "home", "nas.home",
	    a.turn_cred, a.turn_cred_len, &t), -1);
	assert_string_equal(t.username, "");
	assert_string_equal(t.password, "");
	assert_int_equal(rdv_turn_open(key_home, a.tid, "home", "gw.home",
	    a.turn_cred, a.turn_cred_len, &t), -1);
	assert_int_equal(rdv_turn_open(key_home, a.tid, "work", "nas.home",
	    a.turn_cred, a.turn_cred_len, &t), -1);
	assert_int_equal(rdv_turn_open(key_home, tid, "home", "nas.home",
	    a.turn_cred, a.turn_cred_len, &t), -1);
	/* any byte changed (nonce, cipher text, tag), or cut: refused */
	for (i = 0; i < a.turn_cred_len; i++) {
		memcpy(cred, a.turn_cred, a.turn_cred_len);
		cred[i] ^= 0x01;
		assert_int_equal(rdv_turn_open(key_home, a.tid, "home",
		    "nas.home", cred, a.turn_cred_len, &t), -1);
	}
	assert_int_equal(rdv_turn_open(key_home, a.tid, "home", "nas.home",
	    a.turn_cred, a.turn_cred_len - 1, &t), -1);
	get_stats(&st);
	assert_int_equal(st.turn_creds, 1);

	/* 25 s later: a new pair, 25 s later expiry, another nonce */
	memcpy(cred, a.turn_cred, a.turn_cred_len);
	fake_wall += 25000;
	m = reg_msg("home", "gw.home", fake_wall - 25000);
	m.timestamp = fake_wall;
	len = build(req, sizeof(req), &m, key_home);
	n = serve(req, len, 0, out, sizeof(out));
	assert_int_equal(rdv_parse(out, (size_t)n, &a, NULL), 0);
	assert_int_equal(rdv_turn_open(key_home, a.tid, "home", "gw.home",
	    a.turn_cred, a.turn_cred_len, &t), 0);
	assert_string_equal(t.username, "1767229225:gw.home");
	assert_true(t.expiry == 1767229225ULL);
	assert_int_not_equal(memcmp(cred, a.turn_cred, CRYPTO_AEAD_NONCE_LEN),
	    0);

	/* TURN off again: none */
	rdv_server_set_turn(NULL, NULL, 0);
	fake_wall += 1000;
	m = reg_msg("home", "gw.home", fake_wall);
	len = build(req, sizeof(req), &m, key_home);
	n = serve(req, len, 0, out, sizeof(out));
	assert_int_equal(rdv_parse(out, (size_t)n, &a, NULL), 0);
	assert_false(a.has & (RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL));
	get_stats(&st);
	assert_int_equal(st.turn_creds, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_change_without_alt),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_response_port),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test_setup_teardown(test_register,
		    setup_networks, teardown_networks),
		cmocka_unit_test_setup_teardown(test_negatives,
		    setup_networks, teardown_networks),
		cmocka_unit_test_setup_teardown(test_reach_not_registered,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_no_alt,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_udp,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_rate,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_tcp_ok,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_tcp_wrong,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_tcp_silent,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_tcp_timeout,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_tcp_refused,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_reach_busy,
		    setup_reach, teardown_reach),
		cmocka_unit_test_setup_teardown(test_cap,
		    setup_networks, teardown_networks),
		cmocka_unit_test_setup_teardown(test_reload,
		    setup_networks, teardown_networks),
		cmocka_unit_test_setup_teardown(test_signal_sent_on,
		    setup_signal, teardown_signal),
		cmocka_unit_test_setup_teardown(test_signal_refused,
		    setup_signal, teardown_signal),
		cmocka_unit_test_setup_teardown(test_signal_rate,
		    setup_signal, teardown_signal),
		cmocka_unit_test_setup_teardown(test_turn,
		    setup_networks, teardown_networks),
	};

	return TU_RUN("rdv-server", tests);
}
