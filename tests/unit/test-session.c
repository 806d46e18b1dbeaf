/* SPDX-License-Identifier: ISC */
/* session.c: the key schedule, sealed UDP datagrams and their replay window, TCP records, with either cipher. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "crypto.h"
#include "session.h"

static const uint8_t idx_i[SESSION_INDEX_LEN] = { 0x11, 0x22, 0x33, 0x44 };
static const uint8_t idx_r[SESSION_INDEX_LEN] = { 0xa1, 0xb2, 0xc3, 0xd4 };

/* Both sides' keys from fresh pairs and the given handshake bytes. */
static void
derive_pair(struct session_keys *ki, struct session_keys *kr,
    const char *connect, const char *offer)
{
	uint8_t a[CRYPTO_X25519_LEN], apub[CRYPTO_X25519_LEN],
	    b[CRYPTO_X25519_LEN], bpub[CRYPTO_X25519_LEN];

	assert_int_equal(crypto_x25519_keypair(a, apub), 0);
	assert_int_equal(crypto_x25519_keypair(b, bpub), 0);
	assert_int_equal(session_keys_derive(ki, 1, a, bpub,
	    (const uint8_t *)connect, strlen(connect),
	    (const uint8_t *)offer, strlen(offer)), 0);
	assert_int_equal(session_keys_derive(kr, 0, b, apub,
	    (const uint8_t *)connect, strlen(connect),
	    (const uint8_t *)offer, strlen(offer)), 0);
}

/* An initiator's session and a responder's, of one handshake. */
static void
pair(struct session **si, struct session **sr)
{
	struct session_keys ki, kr;

	derive_pair(&ki, &kr, "CONNECT", "OFFER");
	assert_non_null(*si = session_new(&ki, idx_i, idx_r));
	assert_non_null(*sr = session_new(&kr, idx_r, idx_i));
	crypto_wipe(&ki, sizeof(ki));
	crypto_wipe(&kr, sizeof(kr));
}

/*
 * The key schedule worked out apart (Python: cryptography's X25519 and
 * HKDF, hashlib) for RFC 7748's Alice (initiator) and Bob, CONNECT "abc"
 * and OFFER "defg": salt = SHA-256("abcdefg").
 */
#define UDP_IR	"710572947961ac93b88acf45ad74d943af568effb054490be925d36d60570e6d"
#define UDP_RI	"0fee4dd8e896b42b3e74ec811d1ff5daa3be9a0578b6d0fbc995cd250a8cc133"
#define TCP_IR	"c4acb6c0071d6fa5e970e1181eba0b04a8cc032706b585ec329e775ee7c3daa9"
#define TCP_RI	"31824cda48050399f54a75b94469aee90d261b2dbd52397f6e6bcc26d8b40e8a"

static void
test_schedule_vector(void **state)
{
	uint8_t a[CRYPTO_X25519_LEN], b[CRYPTO_X25519_LEN],
	    apub[CRYPTO_X25519_LEN], bpub[CRYPTO_X25519_LEN];
	uint8_t want[4][SESSION_KEY_LEN];
	struct session_keys ki, kr;

	(void)state;
	tu_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, sizeof(a));
	tu_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, sizeof(b));
	crypto_x25519_public(a, apub);
	crypto_x25519_public(b, bpub);
	tu_unhex(UDP_IR, want[0], SESSION_KEY_LEN);
	tu_unhex(UDP_RI, want[1], SESSION_KEY_LEN);
	tu_unhex(TCP_IR, want[2], SESSION_KEY_LEN);
	tu_unhex(TCP_RI, want[3], SESSION_KEY_LEN);
	assert_int_equal(session_keys_derive(&ki, 1, a, bpub,
	    (const uint8_t *)"abc", 3, (const uint8_t *)"defg", 4), 0);
	assert_int_equal(session_keys_derive(&kr, 0, b, apub,
	    (const uint8_t *)"abc", 3, (const uint8_t *)"defg", 4), 0);
	assert_memory_equal(ki.udp_send, want[0], SESSION_KEY_LEN);
	assert_memory_equal(ki.udp_recv, want[1], SESSION_KEY_LEN);
	assert_memory_equal(ki.tcp_send, want[2], SESSION_KEY_LEN);
	assert_memory_equal(ki.tcp_recv, want[3], SESSION_KEY_LEN);
	assert_memory_equal(kr.udp_send, want[1], SESSION_KEY_LEN);
	assert_memory_equal(kr.udp_recv, want[0], SESSION_KEY_LEN);
	assert_memory_equal(kr.tcp_send, want[3], SESSION_KEY_LEN);
	assert_memory_equal(kr.tcp_recv, want[2], SESSION_KEY_LEN);
}

/* The sides agree, each key differs from the other three, and from those of another handshake. */
static void
test_keys(void **state)
{
	struct session_keys ki, kr, k2i, k2r, zi;
	const uint8_t *all[4];
	uint8_t zero[CRYPTO_X25519_LEN], a[CRYPTO_X25519_LEN],
	    apub[CRYPTO_X25519_LEN];
	size_t i, j;

	(void)state;
	derive_pair(&ki, &kr, "CONNECT", "OFFER");
	assert_memory_equal(ki.udp_send, kr.udp_recv, SESSION_KEY_LEN);
	assert_memory_equal(ki.udp_recv, kr.udp_send, SESSION_KEY_LEN);
	assert_memory_equal(ki.tcp_send, kr.tcp_recv, SESSION_KEY_LEN);
	assert_memory_equal(ki.tcp_recv, kr.tcp_send, SESSION_KEY_LEN);
	all[0] = ki.udp_send;
	all[1] = ki.udp_recv;
	all[2] = ki.tcp_send;
	all[3] = ki.tcp_recv;
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			assert_memory_not_equal(all[i], all[j],
			    SESSION_KEY_LEN);
	/* another handshake (new ephemeral keys): other keys */
	derive_pair(&k2i, &k2r, "CONNECT", "OFFER2");
	assert_memory_not_equal(ki.udp_send, k2i.udp_send, SESSION_KEY_LEN);
	/* a public key of small order: refused, nothing derived */
	assert_int_equal(crypto_x25519_keypair(a, apub), 0);
	memset(zero, 0, sizeof(zero));
	memset(&zi, 0x55, sizeof(zi));
	assert_int_equal(session_keys_derive(&zi, 1, a, zero,
	    (const uint8_t *)"x", 1, (const uint8_t *)"y", 1), -1);
	memset(&k2i, 0, sizeof(k2i));
	assert_memory_equal(&zi, &k2i, sizeof(zi));
}

/* The salt is the handshake's: a byte of CONNECT or OFFER changes every key. */
static void
test_keys_bound(void **state)
{
	uint8_t a[CRYPTO_X25519_LEN], apub[CRYPTO_X25519_LEN],
	    b[CRYPTO_X25519_LEN], bpub[CRYPTO_X25519_LEN];
	struct session_keys k1, k2, k3;

	(void)state;
	assert_int_equal(crypto_x25519_keypair(a, apub), 0);
	assert_int_equal(crypto_x25519_keypair(b, bpub), 0);
	assert_int_equal(session_keys_derive(&k1, 1, a, bpub,
	    (const uint8_t *)"abc", 3, (const uint8_t *)"def", 3), 0);
	assert_int_equal(session_keys_derive(&k2, 1, a, bpub,
	    (const uint8_t *)"abd", 3, (const uint8_t *)"def", 3), 0);
	assert_int_equal(session_keys_derive(&k3, 1, a, bpub,
	    (const uint8_t *)"abc", 3, (const uint8_t *)"deg", 3), 0);
	assert_memory_not_equal(k1.udp_send, k2.udp_send, SESSION_KEY_LEN);
	assert_memory_not_equal(k1.tcp_recv, k2.tcp_recv, SESSION_KEY_LEN);
	assert_memory_not_equal(k1.udp_send, k3.udp_send, SESSION_KEY_LEN);
	assert_memory_not_equal(k2.udp_send, k3.udp_send, SESSION_KEY_LEN);
}

/* Datagrams both ways, of several lengths, copied and in place; the header as documented. */
static void
test_udp_round_trip(void **state)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 1200, 9000 };
	struct session *si, *sr;
	struct session_stats st;
	uint8_t *plain, *buf, *out, type;
	size_t i, k;
	int n;

	(void)state;
	pair(&si, &sr);
	assert_non_null(plain = malloc(9000));
	assert_non_null(buf = malloc(9000 + SESSION_UDP_OVERHEAD));
	assert_non_null(out = malloc(9000));
	for (i = 0; i < 9000; i++)
		plain[i] = (uint8_t)(i * 7);
	for (k = 0; k < TU_ARRAY_LEN(lens); k++) {
		n = session_udp_seal(si, (uint8_t)(0xd0 + k), plain, lens[k],
		    buf, lens[k] + SESSION_UDP_OVERHEAD);
		assert_int_equal(n, lens[k] + SESSION_UDP_OVERHEAD);
		assert_int_equal(buf[0], 0xd0 + k);
		assert_memory_equal(buf + 4, idx_r, SESSION_INDEX_LEN);
		/* counter k, little-endian */
		assert_int_equal(buf[8], k);
		assert_int_equal(buf[9] | buf[10] | buf[15], 0);
		{
			uint8_t idx[SESSION_INDEX_LEN];

			assert_int_equal(session_udp_index(buf, (size_t)n,
			    idx), 0);
			assert_memory_equal(idx, idx_r, sizeof(idx));
		}
		assert_int_equal(session_udp_open(sr, buf, (size_t)n, &type,
		    out, lens[k]), (int)lens[k]);
		assert_int_equal(type, 0xd0 + k);
		if (lens[k] > 0)
			assert_memory_equal(out, plain, lens[k]);
		/* the other way, in place */
		memcpy(buf + SESSION_UDP_HDR_LEN, plain, lens[k]);
		n = session_udp_seal(sr, 0xdf, buf + SESSION_UDP_HDR_LEN,
		    lens[k], buf, lens[k] + SESSION_UDP_OVERHEAD);
		assert_int_equal(n, lens[k] + SESSION_UDP_OVERHEAD);
		assert_memory_equal(buf + 4, idx_i, SESSION_INDEX_LEN);
		assert_int_equal(session_udp_open(si, buf, (size_t)n, &type,
		    buf + SESSION_UDP_HDR_LEN, lens[k]), (int)lens[k]);
		if (lens[k] > 0)
			assert_memory_equal(buf + SESSION_UDP_HDR_LEN, plain,
			    lens[k]);
	}
	/* no room, a type out of the block: refused */
	assert_int_equal(session_udp_seal(si, 0xd0, plain, 10, buf,
	    10 + SESSION_UDP_OVERHEAD - 1), -1);
	assert_int_equal(session_udp_seal(si, 0xcf, plain, 10, buf, 9000), -1);
	assert_int_equal(session_udp_seal(si, 0xe0, plain, 10, buf, 9000), -1);
	assert_int_equal(session_udp_seal(si, 0x01, plain, 10, buf, 9000), -1);
	session_get_stats(sr, &st);
	assert_int_equal(st.udp_opened, TU_ARRAY_LEN(lens));
	assert_int_equal(st.udp_sealed, TU_ARRAY_LEN(lens));
	assert_int_equal(st.tag_failed + st.replayed + st.too_old +
	    st.malformed, 0);
	/* a datagram sealed for one direction does not open in the other */
	n = session_udp_seal(si, 0xd0, plain, 100, buf, 9000);
	assert_int_equal(session_udp_open(si, buf, (size_t)n, &type, out, 9000),
	    -1);
	free(plain);
	free(buf);
	free(out);
	session_free(si);
	session_free(sr);
}

/* Every bit of a datagram flipped, every length short: dropped and counted, and the datagram itself still opens after. */
static void
test_udp_flip(void **state)
{
	struct session *si, *sr;
	struct session_stats st;
	uint8_t plain[40], buf[40 + SESSION_UDP_OVERHEAD], bad[sizeof(buf)],
	    out[40], type;
	size_t i;
	int n;

	(void)state;
	pair(&si, &sr);
	memset(plain, 0x42, sizeof(plain));
	n = session_udp_seal(si, 0xd5, plain, sizeof(plain), buf, sizeof(buf));
	assert_int_equal(n, sizeof(buf));
	for (i = 0; i < sizeof(buf) * 8; i++) {
		memcpy(bad, buf, sizeof(buf));
		bad[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(session_udp_open(sr, bad, sizeof(bad), &type,
		    out, sizeof(out)), -1);
	}
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(session_udp_open(sr, buf, i, &type, out,
		    sizeof(out)), -1);
	session_get_stats(sr, &st);
	assert_int_equal(st.udp_opened, 0);
	assert_int_equal(st.replayed, 0);
	/*
	 * malformed: the type's 4 high bits, the zeros' and the index's 56,
	 * the 32 lengths shorter than a header and a tag; the tag fails for
	 * every other flip (a flipped counter is a new one: nothing was taken,
	 * none is old) and for the 40 longer lengths
	 */
	assert_int_equal(st.too_old, 0);
	assert_int_equal(st.malformed, 4 + 56 + 32);
	assert_int_equal(st.tag_failed, sizeof(buf) * 8 - 60 + 40);
	assert_int_equal(session_udp_open(sr, buf, sizeof(buf), &type, out,
	    sizeof(out)), sizeof(plain));
	assert_memory_equal(out, plain, sizeof(plain));
	session_free(si);
	session_free(sr);
}

/* A replay is dropped; reordered datagrams are each taken once; too old dropped. */
static void
test_udp_replay(void **state)
{
	struct session *si, *sr;
	struct session_stats st;
	uint8_t d[3000][SESSION_UDP_OVERHEAD + 4], out[4], type;
	uint32_t i;

	(void)state;
	pair(&si, &sr);
	for (i = 0; i < 3000; i++) {
		uint8_t p[4] = { (uint8_t)i, (uint8_t)(i >> 8), 0, 0 };

		assert_int_equal(session_udp_seal(si, 0xd0, p, 4, d[i],
		    sizeof(d[i])), sizeof(d[i]));
	}
	/* 5, 5 again, 3, 4, 3 again */
	assert_int_equal(session_udp_open(sr, d[5], sizeof(d[5]), &type, out,
	    4), 4);
	assert_int_equal(out[0], 5);
	assert_int_equal(session_udp_open(sr, d[5], sizeof(d[5]), &type, out,
	    4), -1);
	assert_int_equal(session_udp_open(sr, d[3], sizeof(d[3]), &type, out,
	    4), 4);
	assert_int_equal(session_udp_open(sr, d[4], sizeof(d[4]), &type, out,
	    4), 4);
	assert_int_equal(session_udp_open(sr, d[3], sizeof(d[3]), &type, out,
	    4), -1);
	session_get_stats(sr, &st);
	assert_int_equal(st.replayed, 2);
	/* 2052 taken: 4 is 2048 below, too old; 5, 2047 below, a replay; 6 new */
	assert_int_equal(session_udp_open(sr, d[2052], sizeof(d[2052]), &type,
	    out, 4), 4);
	assert_int_equal(session_udp_open(sr, d[4], sizeof(d[4]), &type, out,
	    4), -1);
	assert_int_equal(session_udp_open(sr, d[5], sizeof(d[5]), &type, out,
	    4), -1);
	assert_int_equal(session_udp_open(sr, d[6], sizeof(d[6]), &type, out,
	    4), 4);
	assert_int_equal(session_udp_open(sr, d[6], sizeof(d[6]), &type, out,
	    4), -1);
	session_get_stats(sr, &st);
	assert_int_equal(st.too_old, 1);
	assert_int_equal(st.replayed, 4);
	assert_int_equal(st.udp_opened, 5);
	/* a forged datagram with a new counter does not take it */
	d[2999][20] ^= 1;
	assert_int_equal(session_udp_open(sr, d[2999], sizeof(d[2999]), &type,
	    out, 4), -1);
	d[2999][20] ^= 1;
	assert_int_equal(session_udp_open(sr, d[2999], sizeof(d[2999]), &type,
	    out, 4), 4);
	/* that moved the window on: 951 is 2048 below, 952 within */
	assert_int_equal(session_udp_open(sr, d[951], sizeof(d[951]), &type,
	    out, 4), -1);
	assert_int_equal(session_udp_open(sr, d[952], sizeof(d[952]), &type,
	    out, 4), 4);
	session_get_stats(sr, &st);
	assert_int_equal(st.tag_failed, 1);
	assert_int_equal(st.too_old, 2);
	session_free(si);
	session_free(sr);
}

/*
 * The window against a model (the set of counters taken, the highest):
 * datagrams of 6,000 counters delivered in a shuffled order with
 * duplicates, the highest jumping by small steps, across 64-bit words,
 * and by more than the window, so that every word boundary and the ring's
 * wrap are crossed many times.
 */
static void
test_udp_window_model(void **state)
{
	enum { N = 6000 };
	struct session *si, *sr;
	static uint8_t d[N][SESSION_UDP_OVERHEAD];
	static uint8_t taken[N];
	uint8_t out[1], type;
	uint64_t top = 0;
	int any = 0, want, got, c, i, round;
	unsigned int seed = 11;

	(void)state;
	pair(&si, &sr);
	for (i = 0; i < N; i++)
		assert_int_equal(session_udp_seal(si, 0xd1, NULL, 0, d[i],
		    sizeof(d[i])), SESSION_UDP_OVERHEAD);
	for (round = 0; round < 40000; round++) {
		seed = seed * 1103515245 + 12345;
		switch ((seed >> 16) % 4) {
		case 0:		/* a little ahead of the highest */
			c = (int)top + (int)((seed >> 8) % 70);
			break;
		case 1:		/* near the window's edge */
			c = (int)top - 2040 + (int)((seed >> 8) % 16);
			break;
		case 2:		/* anywhere within */
			c = (int)top - (int)((seed >> 8) % 2100);
			break;
		default:	/* rarely, a jump */
			c = (seed >> 8) % 50 == 0 ? (int)top +
			    (int)((seed >> 4) % 3000) : (int)top - 1;
			break;
		}
		if (c < 0 || c >= N)
			continue;
		want = !taken[c] && (!any || (uint64_t)c > top ||
		    top - (uint64_t)c < SESSION_WINDOW);
		got = session_udp_open(sr, d[c], sizeof(d[c]), &type, out,
		    sizeof(out)) == 0;
		if (want != got)
			fail_msg("counter %d, highest %llu: %s", c,
			    (unsigned long long)top, got ? "taken" : "dropped");
		if (got) {
			taken[c] = 1;
			if (!any || (uint64_t)c > top)
				top = (uint64_t)c;
			any = 1;
		}
	}
	assert_true(top > N - 200);
	session_free(si);
	session_free(sr);
}

/* Records both ways, cut from a stream by their length; in place; the limits. */
static void
test_tcp_round_trip(void **state)
{
	struct session *si, *sr;
	uint8_t *stream, *out, plain[300];
	size_t off = 0, used = 0, i;
	int n, k;

	(void)state;
	pair(&si, &sr);
	assert_non_null(stream = malloc(SESSION_TCP_MAX * 2));
	assert_non_null(out = malloc(SESSION_TCP_MAX));
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i ^ 0x5a);
	for (k = 0; k < 10; k++) {
		n = session_tcp_seal(si, plain, (size_t)k * 30,
		    stream + used, SESSION_TCP_MAX);
		assert_int_equal(n, k * 30 + SESSION_TCP_OVERHEAD);
		used += (size_t)n;
	}
	for (k = 0; k < 10; k++) {
		assert_int_equal(session_tcp_record_len(stream + off, 0), 0);
		assert_int_equal(session_tcp_record_len(stream + off, 1), 0);
		n = session_tcp_record_len(stream + off, used - off);
		assert_int_equal(n, k * 30 + SESSION_TCP_OVERHEAD);
		assert_int_equal(session_tcp_open(sr, stream + off, (size_t)n,
		    out, SESSION_TCP_MAX), k * 30);
		assert_memory_equal(out, plain, (size_t)k * 30);
		off += (size_t)n;
	}
	/* the largest record, in place, the other way */
	memset(stream + SESSION_TCP_HDR_LEN, 0xab, SESSION_TCP_PLAIN_MAX);
	n = session_tcp_seal(sr, stream + SESSION_TCP_HDR_LEN,
	    SESSION_TCP_PLAIN_MAX, stream, SESSION_TCP_MAX);
	assert_int_equal(n, SESSION_TCP_MAX);
	assert_int_equal(session_tcp_record_len(stream, (size_t)n), n);
	assert_int_equal(session_tcp_open(si, stream, (size_t)n,
	    stream + SESSION_TCP_HDR_LEN, SESSION_TCP_PLAIN_MAX),
	    SESSION_TCP_PLAIN_MAX);
	assert_int_equal(stream[SESSION_TCP_HDR_LEN], 0xab);
	assert_int_equal(stream[SESSION_TCP_MAX - CRYPTO_AEAD_TAG_LEN - 1],
	    0xab);
	/* one more byte does not fit a record; no room */
	assert_int_equal(session_tcp_seal(si, stream, SESSION_TCP_PLAIN_MAX + 1,
	    out, SESSION_TCP_MAX * 2), -1);
	assert_int_equal(session_tcp_seal(si, plain, 10, out,
	    10 + SESSION_TCP_OVERHEAD - 1), -1);
	/* a length shorter than a tag: a broken stream */
	stream[0] = 0;
	stream[1] = CRYPTO_AEAD_TAG_LEN - 1;
	assert_int_equal(session_tcp_record_len(stream, 2), -1);
	stream[1] = CRYPTO_AEAD_TAG_LEN;
	assert_int_equal(session_tcp_record_len(stream, 2),
	    SESSION_TCP_OVERHEAD);
	assert_false(session_tcp_failed(si));
	assert_false(session_tcp_failed(sr));
	free(stream);
	free(out);
	session_free(si);
	session_free(sr);
}

/* Three records: a record replayed, reordered, flipped or cut ends the direction, for good. */
static void
test_tcp_fail(void **state)
{
	struct session *si, *sr;
	struct session_stats st;
	uint8_t r[3][SESSION_TCP_OVERHEAD + 8], out[8];
	size_t i, bit;
	int how;

	(void)state;
	for (how = 0; how < 5; how++) {
		pair(&si, &sr);
		for (i = 0; i < 3; i++)
			assert_int_equal(session_tcp_seal(si, "abcdefgh", 8,
			    r[i], sizeof(r[i])), sizeof(r[i]));
		assert_int_equal(session_tcp_open(sr, r[0], sizeof(r[0]), out,
		    8), 8);
		switch (how) {
		case 0:		/* r0 again */
			assert_int_equal(session_tcp_open(sr, r[0],
			    sizeof(r[0]), out, 8), -1);
			break;
		case 1:		/* r2 before r1 */
			assert_int_equal(session_tcp_open(sr, r[2],
			    sizeof(r[2]), out, 8), -1);
			break;
		case 2:		/* a bit of r1 */
			bit = (sizeof(r[1]) * 8 * 5) / 7;
			r[1][bit / 8] ^= (uint8_t)(1 << (bit % 8));
			assert_int_equal(session_tcp_open(sr, r[1],
			    sizeof(r[1]), out, 8), -1);
			r[1][bit / 8] ^= (uint8_t)(1 << (bit % 8));
			break;
		case 3:		/* r1 cut short */
			assert_int_equal(session_tcp_open(sr, r[1],
			    sizeof(r[1]) - 1, out, 8), -1);
			break;
		default:	/* r1 under the wrong direction's key */
			assert_int_equal(session_tcp_open(si, r[1],
			    sizeof(r[1]), out, 8), -1);
			assert_true(session_tcp_failed(si));
			/* the other direction is untouched */
			assert_int_equal(session_tcp_open(sr, r[1],
			    sizeof(r[1]), out, 8), 8);
			session_free(si);
			session_free(sr);
			continue;
		}
		assert_true(session_tcp_failed(sr));
		/* then even the right record is refused */
		assert_int_equal(session_tcp_open(sr, r[1], sizeof(r[1]), out,
		    8), -1);
		assert_int_equal(session_tcp_open(sr, r[2], sizeof(r[2]), out,
		    8), -1);
		session_get_stats(sr, &st);
		assert_int_equal(st.tcp_opened, 1);
		assert_int_equal(st.tag_failed + st.malformed, 1);
		/* the other direction still works */
		assert_int_equal(session_tcp_seal(sr, "x", 1, r[0],
		    sizeof(r[0])), 1 + SESSION_TCP_OVERHEAD);
		assert_int_equal(session_tcp_open(si, r[0],
		    1 + SESSION_TCP_OVERHEAD, out, 8), 1);
		session_free(si);
		session_free(sr);
	}
	/* every bit of a record: each a failure */
	for (bit = 0; bit < sizeof(r[0]) * 8; bit++) {
		pair(&si, &sr);
		assert_int_equal(session_tcp_seal(si, "abcdefgh", 8, r[0],
		    sizeof(r[0])), sizeof(r[0]));
		r[0][bit / 8] ^= (uint8_t)(1 << (bit % 8));
		assert_int_equal(session_tcp_open(sr, r[0], sizeof(r[0]), out,
		    8), -1);
		session_free(si);
		session_free(sr);
	}
}

/* A UDP datagram is not a TCP record, nor the reverse: the keys differ per channel. */
static void
test_channels(void **state)
{
	struct session *si, *sr;
	uint8_t buf[64], out[64], type;
	int n;

	(void)state;
	pair(&si, &sr);
	n = session_tcp_seal(si, "0123456789abcdef", 16, buf + 14,
	    sizeof(buf) - 14);
	assert_int_equal(n, 34);
	/* the record's bytes under a UDP header with counter 0 */
	memset(buf, 0, 16);
	buf[0] = 0xd0;
	memcpy(buf + 4, idx_r, 4);
	assert_int_equal(session_udp_open(sr, buf, 16 + 32, &type, out,
	    sizeof(out)), -1);
	n = session_udp_seal(si, 0xd0, "0123456789abcdef", 16, buf,
	    sizeof(buf));
	assert_int_equal(n, 48);
	buf[14] = 0;
	buf[15] = 32;
	assert_int_equal(session_tcp_open(sr, buf + 14, 34, out, sizeof(out)),
	    -1);
	session_free(si);
	session_free(sr);
	session_free(NULL);
}

/*
 * Both nodes offered AES-256-GCM: datagrams and records of such a
 * session are AES-256-GCM of the payload under the same keys, nonces and
 * additional data as ChaCha20-Poly1305's (worked out apart with
 * crypto_aead_new), open on the other side, and do not open in a session
 * of the same keys and the other cipher.
 */
static void
test_gcm_session(void **state)
{
	struct session_keys ki, kr;
	struct session *si, *sr, *sc;
	struct crypto_aead *a;
	uint8_t plain[200], buf[200 + SESSION_UDP_OVERHEAD], want[sizeof(buf)],
	    out[200], nonce[CRYPTO_AEAD_NONCE_LEN], type;
	size_t i;
	int n;

	(void)state;
	derive_pair(&ki, &kr, "CONNECT", "OFFER");
	assert_int_equal(ki.cipher, CRYPTO_CHACHA20_POLY1305);
	ki.cipher = kr.cipher = CRYPTO_AES256_GCM;
	assert_non_null(si = session_new(&ki, idx_i, idx_r));
	assert_non_null(sr = session_new(&kr, idx_r, idx_i));
	assert_int_equal(session_cipher(si), CRYPTO_AES256_GCM);
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 13);
	/* UDP: counter 0, the header its additional data */
	n = session_udp_seal(si, 0xd3, plain, sizeof(plain), buf, sizeof(buf));
	assert_int_equal(n, sizeof(buf));
	memset(nonce, 0, sizeof(nonce));
	assert_non_null(a = crypto_aead_new(CRYPTO_AES256_GCM, ki.udp_send));
	memcpy(want, buf, SESSION_UDP_HDR_LEN);
	crypto_aead_key_seal(a, nonce, want, SESSION_UDP_HDR_LEN, plain,
	    sizeof(plain), want + SESSION_UDP_HDR_LEN);
	crypto_aead_free(a);
	assert_memory_equal(buf, want, sizeof(buf));
	assert_int_equal(session_udp_open(sr, buf, (size_t)n, &type, out,
	    sizeof(out)), sizeof(plain));
	assert_int_equal(type, 0xd3);
	assert_memory_equal(out, plain, sizeof(plain));
	/* the same keys with ChaCha20-Poly1305: refused, counted */
	kr.cipher = CRYPTO_CHACHA20_POLY1305;
	assert_non_null(sc = session_new(&kr, idx_r, idx_i));
	assert_int_equal(session_cipher(sc), CRYPTO_CHACHA20_POLY1305);
	assert_int_equal(session_udp_open(sc, buf, (size_t)n, &type, out,
	    sizeof(out)), -1);
	/* TCP: record 0, its 2 length bytes the additional data */
	n = session_tcp_seal(sr, plain, 100, buf, sizeof(buf));
	assert_int_equal(n, 100 + SESSION_TCP_OVERHEAD);
	assert_non_null(a = crypto_aead_new(CRYPTO_AES256_GCM, kr.tcp_send));
	memcpy(want, buf, SESSION_TCP_HDR_LEN);
	crypto_aead_key_seal(a, nonce, want, SESSION_TCP_HDR_LEN, plain, 100,
	    want + SESSION_TCP_HDR_LEN);
	crypto_aead_free(a);
	assert_memory_equal(buf, want, (size_t)n);
	assert_int_equal(session_tcp_open(si, buf, (size_t)n, out,
	    sizeof(out)), 100);
	assert_memory_equal(out, plain, 100);
	assert_int_equal(session_tcp_open(sc, buf, (size_t)n, out,
	    sizeof(out)), -1);
	assert_true(session_tcp_failed(sc));
	session_free(si);
	session_free(sr);
	session_free(sc);
	crypto_wipe(&ki, sizeof(ki));
	crypto_wipe(&kr, sizeof(kr));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_vector),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_keys_bound),
		cmocka_unit_test(test_udp_round_trip),
		cmocka_unit_test(test_udp_flip),
		cmocka_unit_test(test_udp_replay),
		cmocka_unit_test(test_udp_window_model),
		cmocka_unit_test(test_tcp_round_trip),
		cmocka_unit_test(test_tcp_fail),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_gcm_session),
	};
	char err[256];

	if (crypto_load_x25519(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return TU_RUN("session", tests);
}
