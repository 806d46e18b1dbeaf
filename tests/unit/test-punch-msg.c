/* SPDX-License-Identifier: ISC */
/* punch-msg.c: the handshake's payloads against bytes made apart (tests/data/punch), every truncation, flipped bits, wrong keys and names, bad candidates, the ciphers offered, the limits, the replay cache. */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "crypto.h"
#include "punch-msg.h"
#include "session.h"
#include "wire.h"

#define CLOCK	UINT64_C(1765000000000)

static const char *const files[] = {
	"punch/connect.bin", "punch/offer.bin", "punch/answer.bin",
	"punch/reject.bin",
};

static uint8_t	peer_key[CRYPTO_KEY_LEN];

static void
keys(void)
{
	uint8_t secret[CRYPTO_KEY_LEN];
	size_t i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	crypto_peer_key(secret, peer_key);
}

/* The file's sender and receiver. */
static const char *
file_from(const struct punch_msg *m)
{
	return m->type == PUNCH_CONNECT || m->type == PUNCH_ANSWER ? "beta" :
	    "alpha";
}

static const char *
file_to(const struct punch_msg *m)
{
	return m->type == PUNCH_CONNECT || m->type == PUNCH_ANSWER ? "alpha" :
	    "beta";
}

static void
expect_cand(const struct rdv_cand *c, uint8_t kind, uint8_t transport,
    const char *ip, uint16_t port)
{
	struct sockaddr_storage want = tu_sa(ip, port);

	assert_int_equal(c->kind, kind);
	assert_int_equal(c->transport, transport);
	assert_memory_equal(&c->addr, &want, sizeof(want));
}

/* The four payloads made apart parse to their fields, verify, and build back to the same bytes. */
static void
test_files(void **state)
{
	struct punch_msg m[4];
	uint8_t *b[4], out[PUNCH_MSG_MAX], h[PUNCH_HASH_LEN],
	    want[CRYPTO_X25519_LEN];
	const char *err = NULL;
	size_t len[4], i;

	(void)state;
	for (i = 0; i < 4; i++) {
		b[i] = (uint8_t *)tu_read(files[i], &len[i]);
		assert_int_equal(punch_parse(b[i], len[i], &m[i], &err), 0);
		assert_null(err);
		assert_int_equal(m[i].type, i + 1);
		assert_int_equal(m[i].attempt, 1);
		assert_string_equal(m[i].network, "home");
		assert_string_equal(m[i].from, file_from(&m[i]));
		assert_string_equal(m[i].to, file_to(&m[i]));
		assert_int_equal(m[i].session[0], 1);
		assert_int_equal(m[i].session[7], 8);
		assert_int_equal(m[i].nonce[0], 0x10 * (i + 1));
		assert_int_equal(punch_verify(b[i], len[i], &m[i], peer_key,
		    "home", file_from(&m[i]), file_to(&m[i]), &err), 0);
		assert_int_equal(punch_build(out, sizeof(out), &m[i], peer_key),
		    (int)len[i]);
		assert_memory_equal(out, b[i], len[i]);
	}
	assert_true(m[0].clock_ms == CLOCK);
	assert_true(m[1].clock_ms == CLOCK + 150);
	assert_true(m[2].clock_ms == CLOCK + 300);
	assert_int_equal(m[0].index[0], 0xa1);
	assert_int_equal(m[1].index[3], 0x44);
	tu_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    want, sizeof(want));
	assert_memory_equal(m[0].pub, want, sizeof(want));
	assert_int_equal(m[0].ncand, 4);
	expect_cand(&m[0].cand[0], RDV_CAND_HOST, RDV_UDP, "192.168.1.10",
	    40000);
	expect_cand(&m[0].cand[1], RDV_CAND_SRFLX, RDV_UDP, "203.0.113.7",
	    51413);
	expect_cand(&m[0].cand[2], RDV_CAND_HOST, RDV_TCP, "2001:db8::10",
	    40001);
	expect_cand(&m[0].cand[3], RDV_CAND_MAPPED, RDV_TCP, "198.51.100.2",
	    2222);
	assert_int_equal(m[1].ncand, 2);
	expect_cand(&m[1].cand[1], RDV_CAND_SRFLX, RDV_UDP, "2001:db8:1::5",
	    41000);
	/* the hashes chain: OFFER and REJECT over the CONNECT, ANSWER over the OFFER */
	punch_hash(b[0], len[0], h);
	assert_memory_equal(m[1].hash, h, sizeof(h));
	assert_memory_equal(m[3].hash, h, sizeof(h));
	punch_hash(b[1], len[1], h);
	assert_memory_equal(m[2].hash, h, sizeof(h));
	assert_int_equal(m[3].reason, PUNCH_REJECT_NOT_ALLOWED);
	assert_int_equal(m[2].ncand, 0);
	assert_string_equal(punch_type_name(m[3].type), "REJECT");
	assert_string_equal(punch_type_name(9), "type 9");
	for (i = 0; i < 4; i++)
		free(b[i]);
}

/* Every length short of the whole, and one byte more: refused, the struct zeroed. */
static void
test_truncated(void **state)
{
	struct punch_msg m, zero;
	uint8_t *b, big[PUNCH_MSG_MAX + 2];
	const char *err;
	size_t len, i, n;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (i = 0; i < TU_ARRAY_LEN(files); i++) {
		b = (uint8_t *)tu_read(files[i], &len);
		for (n = 0; n < len; n++) {
			err = NULL;
			memset(&m, 0x55, sizeof(m));
			assert_int_equal(punch_parse(b, n, &m, &err), -1);
			assert_non_null(err);
			assert_memory_equal(&m, &zero, sizeof(m));
			/* its length field made to match: still cut short */
			memcpy(big, b, n);
			if (n >= 4) {
				wire_put16(big + 2, (uint16_t)n);
				assert_int_equal(punch_parse(big, n, &m, &err),
				    -1);
			}
		}
		/* a byte after the MAC, counted or not */
		memcpy(big, b, len);
		big[len] = 0;
		assert_int_equal(punch_parse(big, len + 1, &m, &err), -1);
		wire_put16(big + 2, (uint16_t)(len + 1));
		assert_int_equal(punch_parse(big, len + 1, &m, &err), -1);
		assert_string_equal(err, "bytes after the MAC");
		free(b);
	}
}

/* Any bit flipped: refused by the parser or the MAC. */
static void
test_flipped(void **state)
{
	struct punch_msg m;
	uint8_t *b;
	size_t len, i, bit, parsed;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(files); i++) {
		b = (uint8_t *)tu_read(files[i], &len);
		parsed = 0;
		for (bit = 0; bit < len * 8; bit++) {
			b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			if (punch_parse(b, len, &m, NULL) == 0) {
				parsed++;
				assert_int_equal(punch_verify(b, len, &m,
				    peer_key, m.network, m.from, m.to, NULL),
				    -1);
			}
			b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		}
		/* the MAC's bits, the nonce's, the clock's... parse */
		assert_true(parsed >= (PUNCH_MAC_LEN + PUNCH_NONCE_LEN) * 8);
		free(b);
	}
}

/* The wrong key, network, sender or receiver: refused, each saying so. */
static void
test_wrong(void **state)
{
	struct punch_msg m;
	uint8_t *b, other[CRYPTO_KEY_LEN], secret[CRYPTO_KEY_LEN];
	const char *err;
	size_t len;

	(void)state;
	b = (uint8_t *)tu_read("punch/connect.bin", &len);
	assert_int_equal(punch_parse(b, len, &m, NULL), 0);
	memset(secret, 0, sizeof(secret));
	crypto_peer_key(secret, other);
	assert_int_equal(punch_verify(b, len, &m, other, "home", "beta",
	    "alpha", &err), -1);
	assert_non_null(strstr(err, "MAC"));
	/* the server key of the same secret is not the peer key */
	for (len = 0; len < sizeof(secret); len++)
		secret[len] = (uint8_t)len;
	crypto_server_key(secret, other);
	free(b);
	b = (uint8_t *)tu_read("punch/connect.bin", &len);
	assert_int_equal(punch_verify(b, len, &m, other, "home", "beta",
	    "alpha", &err), -1);
	assert_int_equal(punch_verify(b, len, &m, peer_key, "work", "beta",
	    "alpha", &err), -1);
	assert_string_equal(err, "for another network");
	assert_int_equal(punch_verify(b, len, &m, peer_key, "home", "gamma",
	    "alpha", &err), -1);
	assert_non_null(strstr(err, "sender"));
	assert_int_equal(punch_verify(b, len, &m, peer_key, "home", "beta",
	    "gamma", &err), -1);
	assert_string_equal(err, "for another node");
	/* reflected back to its sender */
	assert_int_equal(punch_verify(b, len, &m, peer_key, "home", "alpha",
	    "beta", &err), -1);
	/* a payload built for work, under the same key, is for work only */
	strcpy(m.network, "work");
	assert_int_equal(punch_build(b, len, &m, peer_key), (int)len);
	assert_int_equal(punch_parse(b, len, &m, NULL), 0);
	assert_int_equal(punch_verify(b, len, &m, peer_key, "home", "beta",
	    "alpha", &err), -1);
	assert_int_equal(punch_verify(b, len, &m, peer_key, "work", "beta",
	    "alpha", &err), 0);
	free(b);
}

/* Re-MAC a changed payload, so that only the parser judges it. */
static void
remac(uint8_t *b, size_t len)
{
	struct crypto_part part = { b, len - PUNCH_MAC_LEN };

	crypto_hmac_sha256(peer_key, CRYPTO_KEY_LEN, &part, 1,
	    b + len - PUNCH_MAC_LEN);
}

/* Bad candidates, in a struct and on the wire; bad names, types, attempt, reason. */
static void
test_bad_fields(void **state)
{
	struct punch_msg m, good;
	uint8_t *b, *orig, out[PUNCH_MSG_MAX];
	const char *err;
	size_t len, off;
	struct sockaddr_in sin;

	(void)state;
	orig = (uint8_t *)tu_read("punch/connect.bin", &len);
	assert_int_equal(punch_parse(orig, len, &good, NULL), 0);
	/* in the struct: build refuses */
	m = good;
	m.cand[1].kind = 0;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m.cand[1].kind = RDV_CAND_RELAY + 1;	/* a kind unknown here */
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.cand[1].transport = 1;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	memcpy(&sin, &m.cand[0].addr, sizeof(sin));
	sin.sin_port = 0;
	memcpy(&m.cand[0].addr, &sin, sizeof(sin));
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.cand[0].addr.ss_family = AF_UNIX;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.ncand = PUNCH_CAND_MAX + 1;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.ncand = -1;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	strcpy(m.to, "Alpha");
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	strcpy(m.network, "ho me");
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.from[0] = '\0';
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	memset(m.network, 'n', sizeof(m.network));	/* no NUL */
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.attempt = 0;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.type = 5;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	m = good;
	m.type = PUNCH_REJECT;
	m.reason = 0;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	/* a relayed address beside: TCP only */
	m = good;
	m.cand[0].kind = PUNCH_CAND_RELAY_BESIDE;
	m.cand[0].transport = RDV_TCP;
	assert_true(punch_build(out, sizeof(out), &m, peer_key) > 0);
	m.cand[0].transport = RDV_UDP;
	assert_int_equal(punch_build(out, sizeof(out), &m, peer_key), -1);
	/* a byte short of room */
	assert_int_equal(punch_build(out, len - 1, &good, peer_key), -1);

	/*
	 * on the wire, MAC made right: the first candidate starts after the
	 * header, the names (4 + 4 + 5), nonce and clock, index, key, count
	 */
	b = malloc(len);
	off = 16 + 13 + 24 + 4 + 32 + 1;
	{
		static const struct { size_t at; uint8_t v; } bad[] = {
			{ 0, 0 }, { 1, 1 }, { 1, 0 }, { 2, 1 },
			{ 3, 1 }, { 4, 1 }, { 5, 0 }, { 5, 3 },
		};
		size_t k;

		for (k = 0; k < TU_ARRAY_LEN(bad); k++) {
			memcpy(b, orig, len);
			b[off + bad[k].at] = bad[k].v;
			remac(b, len);
			assert_int_equal(punch_parse(b, len, &m, &err), -1);
			assert_non_null(strstr(err, "candidate"));
		}
		/* kind 4: a relay candidate, taken */
		memcpy(b, orig, len);
		b[off] = RDV_CAND_RELAY;
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), 0);
		assert_int_equal(m.ncand, 4);
		assert_int_equal(m.cand[0].kind, RDV_CAND_RELAY);
		/* a TCP relayed address for a carrier beside: taken */
		memcpy(b, orig, len);
		b[off] = PUNCH_CAND_RELAY_BESIDE;
		b[off + 1] = RDV_TCP;
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), 0);
		assert_int_equal(m.ncand, 4);
		assert_int_equal(m.cand[0].kind, PUNCH_CAND_RELAY_BESIDE);
		assert_int_equal(m.cand[0].transport, RDV_TCP);
		/* ... over UDP it means nothing: left out */
		b[off + 1] = RDV_UDP;
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), 0);
		assert_int_equal(m.ncand, 3);
		assert_int_equal(m.cand[0].kind, good.cand[1].kind);
		/* a later kind: left out, the others taken */
		memcpy(b, orig, len);
		b[off] = 200;
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), 0);
		assert_int_equal(m.ncand, 3);
		assert_int_equal(m.cand[0].kind, good.cand[1].kind);
		assert_memory_equal(&m.cand[0].addr, &good.cand[1].addr,
		    sizeof(m.cand[0].addr));
		/* ... but its port, family and transport still checked */
		wire_put16(b + off + 6, 0x2112);
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		memcpy(b, orig, len);
		b[off] = 200;
		b[off + 1] = 1;
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		/* port 0: 0x2112 on the wire */
		memcpy(b, orig, len);
		wire_put16(b + off + 6, 0x2112);
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		/* IPv4 read as IPv6: runs past the end */
		memcpy(b, orig, len);
		b[off + 5] = 2;
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		/* 17 candidates said */
		memcpy(b, orig, len);
		b[off - 1] = 17;
		remac(b, len);
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		assert_string_equal(err, "more than 16 candidates");
		/* version, type, attempt, a NUL in a name, upper case */
		memcpy(b, orig, len);
		b[0] = 2;
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		memcpy(b, orig, len);
		b[1] = 0;
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		memcpy(b, orig, len);
		b[12] = 0;
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		assert_string_equal(err, "attempt 0");
		memcpy(b, orig, len);
		b[17] = 0;
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		memcpy(b, orig, len);
		b[20] = 'B';
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		/* name lengths that do not add up */
		memcpy(b, orig, len);
		b[13] = 0;
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
		memcpy(b, orig, len);
		b[13] = 200;
		assert_int_equal(punch_parse(b, len, &m, &err), -1);
	}
	free(b);
	free(orig);
}

/*
 * A file made apart (tests/data/punch/make-relay.py): it parses and
 * verifies, ncand candidates taken and skip left out; built again without
 * those, it is skip * 12 bytes shorter, its header the same, and parses to
 * the same.  *m is what it parsed to.
 */
static void
made_apart(const char *name, struct punch_msg *m, int ncand, int skip)
{
	struct punch_msg m2;
	uint8_t *b, out[PUNCH_MSG_MAX];
	const char *err = NULL;
	size_t len;
	int n;

	b = (uint8_t *)tu_read(name, &len);
	assert_int_equal(punch_parse(b, len, m, &err), 0);
	assert_int_equal(punch_verify(b, len, m, peer_key, "home", "beta",
	    "alpha", &err), 0);
	assert_int_equal(m->ncand, ncand);
	n = punch_build(out, sizeof(out), m, peer_key);
	assert_int_equal(n, (int)len - 12 * skip);
	assert_memory_equal(out + 4, b + 4, 16 + 13 + 24 + 4 + 32 - 4);
	assert_int_equal(punch_parse(out, (size_t)n, &m2, &err), 0);
	assert_int_equal(m2.ncand, ncand);
	assert_memory_equal(m2.cand, m->cand, sizeof(m->cand));
	free(b);
}

/* connect-relay.bin: a relay candidate taken, a kind 9 left out. */
static void
test_relay_file(void **state)
{
	struct punch_msg m;

	(void)state;
	made_apart("punch/connect-relay.bin", &m, 2, 1);
	expect_cand(&m.cand[0], RDV_CAND_RELAY, RDV_UDP, "203.0.113.50",
	    49152);
	expect_cand(&m.cand[1], RDV_CAND_SRFLX, RDV_UDP, "203.0.113.7",
	    51413);
}

/*
 * connect-beside.bin: a TCP relayed address for a carrier beside the
 * direct one (kind 6) taken, the same kind over UDP left out.
 */
static void
test_beside_file(void **state)
{
	struct punch_msg m;

	(void)state;
	made_apart("punch/connect-beside.bin", &m, 3, 1);
	expect_cand(&m.cand[0], RDV_CAND_RELAY, RDV_UDP, "203.0.113.50",
	    49152);
	expect_cand(&m.cand[1], PUNCH_CAND_RELAY_BESIDE, RDV_TCP,
	    "203.0.113.50", 49300);
	expect_cand(&m.cand[2], RDV_CAND_SRFLX, RDV_UDP, "203.0.113.7",
	    51413);
}

/*
 * The ciphers offered: offer-ciphers.bin (made apart) has the record
 * between its candidates with a bit no version knows: AES-256-GCM taken,
 * the candidates as offer.bin's; built again, the record goes last with
 * the known bit, the same length, and parses to the same.  A record with
 * an address, or over TCP, is a later version's: ignored.  16 candidates
 * and the record do not fit; an unknown bit is not built.
 */
static void
test_ciphers(void **state)
{
	struct punch_msg m, m2, plain;
	uint8_t *b, *o, out[PUNCH_MSG_MAX];
	const char *err = NULL;
	size_t len, olen, at;
	int n;

	(void)state;
	b = (uint8_t *)tu_read("punch/offer-ciphers.bin", &len);
	o = (uint8_t *)tu_read("punch/offer.bin", &olen);
	assert_int_equal(len, olen + 12);
	assert_int_equal(punch_parse(b, len, &m, &err), 0);
	assert_int_equal(punch_verify(b, len, &m, peer_key, "home", "alpha",
	    "beta", &err), 0);
	assert_int_equal(m.ciphers, PUNCH_CIPHER_AES256GCM);
	assert_int_equal(punch_parse(o, olen, &plain, &err), 0);
	assert_int_equal(plain.ciphers, 0);
	assert_int_equal(m.ncand, 2);
	assert_memory_equal(m.cand, plain.cand, sizeof(m.cand));
	n = punch_build(out, sizeof(out), &m, peer_key);
	assert_int_equal(n, (int)len);
	/* the offer's count one more, its candidates (12 + 24 bytes), then
	 * the record */
	at = olen - PUNCH_MAC_LEN - 36 - 1;
	assert_memory_equal(out + 4, o + 4, at - 4);
	assert_int_equal(out[at], 3);
	assert_memory_equal(out + at + 1, o + at + 1, 36);
	assert_int_equal(out[at + 37], PUNCH_CAND_CIPHERS);
	assert_int_equal(punch_parse(out, (size_t)n, &m2, &err), 0);
	assert_memory_equal(&m2, &m, sizeof(m));

	/* the record with an address, then over TCP: ignored */
	plain.ciphers = PUNCH_CIPHER_AES256GCM;
	n = punch_build(out, sizeof(out), &plain, peer_key);
	assert_int_equal(n, (int)olen + 12);
	/* the record is the last 12 bytes before the MAC: its address */
	out[n - PUNCH_MAC_LEN - 1] ^= 1;
	remac(out, (size_t)n);
	assert_int_equal(punch_parse(out, (size_t)n, &m2, &err), 0);
	assert_int_equal(m2.ciphers, 0);
	assert_int_equal(m2.ncand, 2);
	out[n - PUNCH_MAC_LEN - 1] ^= 1;
	out[n - PUNCH_MAC_LEN - 12 + 1] = RDV_TCP;
	remac(out, (size_t)n);
	assert_int_equal(punch_parse(out, (size_t)n, &m2, &err), 0);
	assert_int_equal(m2.ciphers, 0);
	out[n - PUNCH_MAC_LEN - 12 + 1] = RDV_UDP;
	remac(out, (size_t)n);
	assert_int_equal(punch_parse(out, (size_t)n, &m2, &err), 0);
	assert_int_equal(m2.ciphers, PUNCH_CIPHER_AES256GCM);

	/* no room for the record beside 16 candidates; unknown bits */
	plain.ncand = PUNCH_CAND_MAX;
	for (n = 2; n < PUNCH_CAND_MAX; n++)
		plain.cand[n] = plain.cand[0];
	assert_int_equal(punch_build(out, sizeof(out), &plain, peer_key), -1);
	plain.ciphers = 0;
	assert_true(punch_build(out, sizeof(out), &plain, peer_key) > 0);
	plain.ncand = 2;
	plain.ciphers = 0x02;
	assert_int_equal(punch_build(out, sizeof(out), &plain, peer_key), -1);
	free(b);
	free(o);
}

/* The longest payload fits a SIGNAL's PAYLOAD, is built and parsed. */
static void
test_limits(void **state)
{
	struct punch_msg m, back;
	uint8_t out[PUNCH_MSG_MAX + 1];
	char ip[64];
	int i, n;

	(void)state;
	assert_true(PUNCH_MSG_MAX <= PUNCH_SIGNAL_PAYLOAD_MAX);
	memset(&m, 0, sizeof(m));
	m.type = PUNCH_OFFER;
	m.attempt = 3;
	memset(m.network, 'n', RDV_NETWORK_MAX);
	memset(m.from, 'f', RDV_NODE_MAX);
	memset(m.to, 't', RDV_NODE_MAX);
	m.clock_ms = UINT64_MAX;
	m.ncand = PUNCH_CAND_MAX;
	for (i = 0; i < PUNCH_CAND_MAX; i++) {
		m.cand[i].kind = RDV_CAND_SRFLX;
		m.cand[i].transport = RDV_UDP;
		snprintf(ip, sizeof(ip), "2001:db8::%x", i + 1);
		m.cand[i].addr = tu_sa(ip, (uint16_t)(65535 - i));
	}
	n = punch_build(out, sizeof(out), &m, peer_key);
	assert_int_equal(n, PUNCH_MSG_MAX);
	assert_int_equal(punch_parse(out, (size_t)n, &back, NULL), 0);
	assert_memory_equal(&back, &m, sizeof(m));
	assert_int_equal(punch_build(out, PUNCH_MSG_MAX - 1, &m, peer_key), -1);
	/* longer than any payload: refused before anything is read */
	assert_int_equal(punch_parse(out, PUNCH_MSG_MAX + 1, &back, NULL), -1);
}

static struct punch_msg
msg_at(uint8_t nonce0, uint64_t clock_ms)
{
	struct punch_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PUNCH_CONNECT;
	m.attempt = 1;
	m.nonce[0] = nonce0;
	m.clock_ms = clock_ms;
	return m;
}

/* New, seen, stale; kept for the window, then forgotten; a flood never lets a replay through. */
static void
test_replay(void **state)
{
	struct punch_replay *c;
	struct punch_msg m;
	uint64_t now = CLOCK;
	int i;

	(void)state;
	assert_non_null(c = malloc(sizeof(*c)));
	punch_replay_init(c);
	m = msg_at(1, now);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	assert_int_equal(punch_replay_check(c, &m, now + 1000),
	    PUNCH_REPLAY_SEEN);
	/* each of type, attempt, session, nonce makes it another */
	m.type = PUNCH_OFFER;
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	m.attempt = 2;
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	m.session[7] = 1;
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	m.nonce[15] = 1;
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_SEEN);
	/* a clock 30 s off is fresh, one more ms is not, either way */
	m = msg_at(2, now - RDV_SKEW_MAX_MS);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	m = msg_at(3, now - RDV_SKEW_MAX_MS - 1);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_STALE);
	m = msg_at(3, now + RDV_SKEW_MAX_MS + 1);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_STALE);
	/* a payload whose clock runs ahead, seen again just before the window ends: still a replay */
	m = msg_at(4, now + RDV_SKEW_MAX_MS);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	assert_int_equal(punch_replay_check(c, &m,
	    now + 2 * RDV_SKEW_MAX_MS), PUNCH_REPLAY_SEEN);
	/* after the window, forgotten: and stale anyway */
	assert_int_equal(punch_replay_check(c, &m,
	    now + PUNCH_REPLAY_WINDOW_MS), PUNCH_REPLAY_STALE);

	/* a flood: more live payloads than slots */
	punch_replay_init(c);
	for (i = 0; i < PUNCH_REPLAY_SLOTS; i++) {
		m = msg_at((uint8_t)i, now + (uint64_t)i);
		m.session[0] = (uint8_t)(i >> 8);
		assert_int_equal(punch_replay_check(c, &m, now),
		    PUNCH_REPLAY_NEW);
	}
	m = msg_at(0, now + 10000);
	m.session[0] = 0xff;
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	/* the first was dropped early: its replay is refused by the horizon */
	m = msg_at(0, now);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_FLOOD);
	/* the others are still remembered; a later clock is taken */
	m = msg_at(5, now + 5);
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_SEEN);
	m = msg_at(200, now + 20000);
	m.session[0] = 0xfe;
	assert_int_equal(punch_replay_check(c, &m, now), PUNCH_REPLAY_NEW);
	free(c);
}

/* The handshake made apart gives both sides the same session keys. */
static void
test_handshake_keys(void **state)
{
	uint8_t a[CRYPTO_X25519_LEN], b[CRYPTO_X25519_LEN];
	struct punch_msg mc, mo;
	struct session_keys ki, kr;
	uint8_t *connect, *offer;
	size_t clen, olen;

	(void)state;
	tu_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, sizeof(a));
	tu_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, sizeof(b));
	connect = (uint8_t *)tu_read("punch/connect.bin", &clen);
	offer = (uint8_t *)tu_read("punch/offer.bin", &olen);
	assert_int_equal(punch_parse(connect, clen, &mc, NULL), 0);
	assert_int_equal(punch_parse(offer, olen, &mo, NULL), 0);
	/* the initiator (beta, Alice's key) with the OFFER's key, the responder with the CONNECT's */
	assert_int_equal(session_keys_derive(&ki, 1, a, mo.pub, connect, clen,
	    offer, olen), 0);
	assert_int_equal(session_keys_derive(&kr, 0, b, mc.pub, connect, clen,
	    offer, olen), 0);
	assert_memory_equal(ki.udp_send, kr.udp_recv, SESSION_KEY_LEN);
	assert_memory_equal(ki.tcp_recv, kr.tcp_send, SESSION_KEY_LEN);
	free(connect);
	free(offer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped),
		cmocka_unit_test(test_wrong),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_relay_file),
		cmocka_unit_test(test_beside_file),
		cmocka_unit_test(test_ciphers),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_handshake_keys),
	};
	char err[256];

	if (crypto_load_x25519(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	keys();
	return TU_RUN("punch-msg", tests);
}
