/* SPDX-License-Identifier: ISC */
/* Fuzz target: the hole-punching payloads (punch-msg.c) and the session's datagrams, records and replay window (session.c). */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "punch-msg.h"
#include "rdv-msg.h"
#include "session.h"
#include "wire.h"

/* The peer key of the secret 00 01 .. 1f: the seeds' key. */
static const uint8_t key[CRYPTO_KEY_LEN] = {
	0xdc, 0xb8, 0xd5, 0xb4, 0x64, 0xed, 0x1e, 0x99,
	0x3d, 0x3f, 0x43, 0x18, 0x24, 0xfe, 0xb2, 0x9d,
	0x43, 0x33, 0x56, 0x97, 0x32, 0x6b, 0x4c, 0xd3,
	0x99, 0x80, 0x67, 0x05, 0x6f, 0xf0, 0xf6, 0xb7,
};

static const uint8_t idx_i[SESSION_INDEX_LEN] = { 1, 2, 3, 4 };
static const uint8_t idx_r[SESSION_INDEX_LEN] = { 5, 6, 7, 8 };

static void
check_name(const char *s, size_t size, int node)
{
	const char *nul = memchr(s, '\0', size);

	CHECK(nul != NULL);
	CHECK(node ? rdv_node_ok(s, (size_t)(nul - s)) :
	    rdv_network_ok(s, (size_t)(nul - s)));
	CHECK(fuzz_all_zero(nul, size - (size_t)(nul - s)));
}

static void
check_msg(const struct punch_msg *m)
{
	int i;

	CHECK(m->type >= PUNCH_CONNECT && m->type <= PUNCH_REJECT);
	CHECK(m->attempt != 0);
	check_name(m->network, sizeof(m->network), 0);
	check_name(m->from, sizeof(m->from), 1);
	check_name(m->to, sizeof(m->to), 1);
	CHECK(m->ncand >= 0 && m->ncand <= PUNCH_CAND_MAX);
	CHECK((m->ciphers & ~PUNCH_CIPHERS_KNOWN) == 0);
	if (m->ciphers != 0)
		CHECK(m->ncand < PUNCH_CAND_MAX);
	if (m->type != PUNCH_CONNECT && m->type != PUNCH_OFFER) {
		CHECK(m->ncand == 0);
		CHECK(m->ciphers == 0);
		CHECK(fuzz_all_zero(m->pub, sizeof(m->pub)));
		CHECK(fuzz_all_zero(m->index, sizeof(m->index)));
	}
	if (m->type == PUNCH_CONNECT)
		CHECK(fuzz_all_zero(m->hash, sizeof(m->hash)));
	CHECK((m->type == PUNCH_REJECT) == (m->reason != 0));
	for (i = 0; i < m->ncand; i++) {
		CHECK((m->cand[i].kind >= RDV_CAND_HOST &&
		    m->cand[i].kind <= RDV_CAND_RELAY) ||
		    (m->cand[i].kind == PUNCH_CAND_RELAY_BESIDE &&
		    m->cand[i].transport == RDV_TCP));
		CHECK(m->cand[i].transport == RDV_TCP ||
		    m->cand[i].transport == RDV_UDP);
		CHECK(m->cand[i].addr.ss_family == AF_INET ||
		    m->cand[i].addr.ss_family == AF_INET6);
	}
	for (; i < PUNCH_CAND_MAX; i++)
		CHECK(fuzz_all_zero(&m->cand[i], sizeof(m->cand[i])));
}

/*
 * A payload that parses builds back to the same bytes but its MAC (the
 * format has one spelling; less the candidates of a later kind, left out), which verifies under the key, for its names
 * only; a byte less does not fit; the replay cache sees it once.
 */
/*
 * Did the parse leave candidates out (a kind above RDV_CAND_RELAY but
 * PUNCH_CAND_RELAY_BESIDE over TCP), or
 * take the ciphers from a record (which punch_build writes last, with
 * the known bits only)?  The count on the wire, after the header, names,
 * nonce, clock, index, key (and an OFFER's hash), is more than the parse
 * took.
 */
static int
skipped_cands(const uint8_t *data, const struct punch_msg *m)
{
	size_t at;

	if (m->type != PUNCH_CONNECT && m->type != PUNCH_OFFER)
		return 0;
	if (m->ciphers != 0)
		return 1;
	at = 16 + (size_t)data[13] + data[14] + data[15] + PUNCH_NONCE_LEN +
	    8 + PUNCH_INDEX_LEN + CRYPTO_X25519_LEN +
	    (m->type == PUNCH_OFFER ? PUNCH_HASH_LEN : 0);
	return data[at] != m->ncand;
}

static void
payload(const uint8_t *data, size_t size)
{
	static struct punch_replay cache;
	static int ready;
	struct punch_msg m, back;
	uint8_t out[PUNCH_MSG_MAX];
	const char *err = NULL;
	int n;

	if (!ready) {
		punch_replay_init(&cache);
		ready = 1;
	}
	if (punch_parse(data, size, &m, &err) == -1) {
		CHECK(err != NULL);
		CHECK(fuzz_all_zero(&m, sizeof(m)));
		return;
	}
	CHECK(err == NULL);
	CHECK(size <= PUNCH_MSG_MAX);
	check_msg(&m);
	(void)punch_verify(data, size, &m, key, m.network, m.from, m.to,
	    NULL);
	n = punch_build(out, sizeof(out), &m, key);
	if (skipped_cands(data, &m)) {
		/* a later kind left out: built back shorter, to the same;
		 * the ciphers' record last, known bits only: no longer */
		CHECK(n > 0 && n <= (int)size);
		size = (size_t)n;
	} else {
		CHECK(n == (int)size);
		CHECK(memcmp(out, data, size - PUNCH_MAC_LEN) == 0);
	}
	CHECK(punch_build(out, size - 1, &m, key) == -1);
	CHECK(punch_parse(out, size, &back, NULL) == 0);
	CHECK(memcmp(&back, &m, sizeof(m)) == 0);
	CHECK(punch_verify(out, size, &m, key, m.network, m.from, m.to,
	    NULL) == 0);
	CHECK(punch_verify(out, size, &m, key, m.network, m.to, m.from,
	    NULL) == (strcmp(m.from, m.to) == 0 ? 0 : -1));
	if (m.clock_ms > UINT64_MAX / 2)
		return;
	switch (punch_replay_check(&cache, &m, m.clock_ms)) {
	case PUNCH_REPLAY_NEW:
		CHECK(punch_replay_check(&cache, &m, m.clock_ms) ==
		    PUNCH_REPLAY_SEEN);
		break;
	case PUNCH_REPLAY_SEEN:
	case PUNCH_REPLAY_FLOOD:
		break;
	default:
		abort();
	}
	CHECK(punch_replay_check(&cache, &m, m.clock_ms +
	    RDV_SKEW_MAX_MS + 1) == PUNCH_REPLAY_STALE);
}

static void
make_keys(struct session_keys *ki, struct session_keys *kr, int cipher)
{
	memset(ki, 0, sizeof(*ki));
	memset(kr, 0, sizeof(*kr));
	ki->cipher = kr->cipher = cipher;
	memset(ki->udp_send, 1, SESSION_KEY_LEN);
	memset(ki->udp_recv, 2, SESSION_KEY_LEN);
	memset(ki->tcp_send, 3, SESSION_KEY_LEN);
	memset(ki->tcp_recv, 4, SESSION_KEY_LEN);
	memcpy(kr->udp_send, ki->udp_recv, SESSION_KEY_LEN);
	memcpy(kr->udp_recv, ki->udp_send, SESSION_KEY_LEN);
	memcpy(kr->tcp_send, ki->tcp_recv, SESSION_KEY_LEN);
	memcpy(kr->tcp_recv, ki->tcp_send, SESSION_KEY_LEN);
}

/*
 * The input as a datagram and as a stream of records from the peer:
 * nothing opens (no one has the key), every failure is counted, and a
 * TCP failure is final; the input as a payload sealed and opened both
 * ways comes back whole.
 */
static void
session_bytes(const uint8_t *data, size_t size)
{
	struct session_keys ki, kr;
	struct session_stats st;
	struct session *si, *sr;
	uint8_t *buf, *out, type, idx[SESSION_INDEX_LEN];
	size_t off = 0, len;
	int n, failed = 0;

	/* either cipher, by the input's length */
	make_keys(&ki, &kr, size & 1 ? CRYPTO_AES256_GCM :
	    CRYPTO_CHACHA20_POLY1305);
	CHECK((si = session_new(&ki, idx_i, idx_r)) != NULL);
	CHECK((sr = session_new(&kr, idx_r, idx_i)) != NULL);
	CHECK((buf = malloc(size + SESSION_TCP_MAX)) != NULL);
	CHECK((out = malloc(size + SESSION_TCP_MAX)) != NULL);

	if (session_udp_index(data, size, idx) == 0)
		CHECK(size >= SESSION_UDP_OVERHEAD);
	CHECK(session_udp_open(sr, data, size, &type, out, size) == -1);
	while (off < size) {
		n = session_tcp_record_len(data + off, size - off);
		if (n <= 0 || (size_t)n > size - off)
			break;
		CHECK(n >= SESSION_TCP_OVERHEAD);
		CHECK(session_tcp_open(sr, data + off, (size_t)n, out,
		    (size_t)n) == -1);
		failed = 1;
		off += (size_t)n;
	}
	CHECK(session_tcp_failed(sr) == failed);
	session_get_stats(sr, &st);
	CHECK(st.udp_opened == 0 && st.tcp_opened == 0);
	CHECK(st.tag_failed + st.malformed + st.replayed + st.too_old ==
	    1 + (uint64_t)failed);

	len = size > SESSION_UDP_MAX - SESSION_UDP_OVERHEAD ?
	    SESSION_UDP_MAX - SESSION_UDP_OVERHEAD : size;
	n = session_udp_seal(si, 0xd0 | (size & 0x0f), data, len, buf,
	    len + SESSION_UDP_OVERHEAD);
	CHECK(n == (int)(len + SESSION_UDP_OVERHEAD));
	CHECK(session_udp_open(sr, buf, (size_t)n, &type, out, len) ==
	    (int)len);
	CHECK(type == (0xd0 | (size & 0x0f)));
	CHECK(len == 0 || memcmp(out, data, len) == 0);
	CHECK(session_udp_open(sr, buf, (size_t)n, &type, out, len) == -1);
	len = size > SESSION_TCP_PLAIN_MAX ? SESSION_TCP_PLAIN_MAX : size;
	n = session_tcp_seal(sr, data, len, buf, len + SESSION_TCP_OVERHEAD);
	CHECK(n == (int)(len + SESSION_TCP_OVERHEAD));
	CHECK(session_tcp_record_len(buf, (size_t)n) == n);
	CHECK(session_tcp_open(si, buf, (size_t)n, out, len) == (int)len);
	CHECK(len == 0 || memcmp(out, data, len) == 0);
	free(buf);
	free(out);
	session_free(si);
	session_free(sr);
}

/*
 * The input as an order of delivery: each 2 bytes a counter, relative to
 * the highest taken (the first byte's top bit: ahead or behind), of
 * datagrams sealed beforehand; the window must agree with a model (the
 * counters taken, the highest).
 */
#define NDGRAM	4096
static void
window(const uint8_t *data, size_t size)
{
	static uint8_t d[NDGRAM][SESSION_UDP_OVERHEAD];
	static int ready;
	uint8_t taken[NDGRAM], out[1], type;
	struct session_keys ki, kr;
	struct session *s;
	int64_t top = -1, c;
	size_t i;
	int want, got;
	uint16_t v;

	make_keys(&ki, &kr, CRYPTO_CHACHA20_POLY1305);
	if (!ready) {
		CHECK((s = session_new(&ki, idx_i, idx_r)) != NULL);
		for (i = 0; i < NDGRAM; i++)
			CHECK(session_udp_seal(s, 0xd1, NULL, 0, d[i],
			    sizeof(d[i])) == SESSION_UDP_OVERHEAD);
		session_free(s);
		ready = 1;
	}
	CHECK((s = session_new(&kr, idx_r, idx_i)) != NULL);
	memset(taken, 0, sizeof(taken));
	for (i = 0; i + 1 < size; i += 2) {
		v = wire_get16(data + i);
		c = (v & 0x8000) ? (top < 0 ? 0 : top) + (v & 0x0fff) :
		    top - (v & 0x0fff);
		if (c < 0 || c >= NDGRAM)
			continue;
		want = !taken[c] && (top < 0 || c > top ||
		    top - c < SESSION_WINDOW);
		got = session_udp_open(s, d[c], sizeof(d[c]), &type, out,
		    sizeof(out)) == 0;
		CHECK(want == got);
		if (got) {
			taken[c] = 1;
			if (c > top)
				top = c;
		}
	}
	session_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	payload(data, size);
	/*
	 * Again with the length field made right: else nearly every
	 * mutation that grows or shrinks the input stops there.
	 */
	if (size >= 4 && size <= PUNCH_MSG_MAX) {
		CHECK((copy = malloc(size)) != NULL);
		memcpy(copy, data, size);
		wire_put16(copy + 2, (uint16_t)size);
		payload(copy, size);
		free(copy);
	}
	session_bytes(data, size);
	window(data, size);
	return 0;
}
