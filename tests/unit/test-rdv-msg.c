/* SPDX-License-Identifier: ISC */
/* Unit tests of rdv-msg.c and rdv-replay.c: vectors built apart, round trips, every refusal, the replay cache. */
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
#include "rdv-msg.h"
#include "rdv-replay.h"
#include "stun-msg.h"
#include "wire.h"

/*
 * The vectors: built by hand with Python's hmac and zlib, apart from this
 * codec, by tests/data/rdv/make-vectors.py (which also writes them as
 * the .bin files in tests/data/rdv, the fuzz seeds); its hex output pasted here.  The
 * key is the server key of the secret 00 01 .. 1f (test-crypto.c).
 */
static const char *const vec_register_req =
    "02e000902112a442b7e7a701bc34d686fa87dfae4e400004686f6d654e4100076e"
    "61732e6c616e004e4200080000019aea1780004e4500040000004b4e44000c0111"
    "00000001e9c7e1baa5484e44000c021100000001bc01ea12d5454e440018030600"
    "0000023e820113a9fab7e7a701bc34d686fa87dfbe001c0020487586b7bdb589d7"
    "9e5dd437a5c35283e19483503cad5f9c5d652af89f59e4d9802800043fec1f98";
static const char *const vec_register_ok =
    "03e000542112a442b7e7a701bc34d686fa87dfae4e400004686f6d65ce40000800"
    "00019aea1784d24e4500040000004b002000080001bc01ea12d545001c0020f57a"
    "7e465ae080451c0040312e0ef228ccbde9ea59eb5a701752f539b0522e77802800"
    "0428afcad4";
static const char *const vec_reach_req =
    "02e100682112a4420102030405060708090a0b0c4e400004686f6d654e4100076e"
    "61732e6c616e004e4200080000019aea1793884e430010a0a1a2a3a4a5a6a7a8a9"
    "aaabacadaeaf4e46000406009d13001c0020a5d3b2bee5cfec85d57db288b8159b"
    "5096a6f5aa44789dae52650226e9de3d0780280004c2bf7a46";
static const char *const vec_reach_err =
    "03f100542112a4420102030405060708090a0b0c4e400004686f6d65ce40000800"
    "00019aea1793ec0009000d00000403466f7262696464656e000000001c00201e75"
    "329510c1d9ad75980f14cfde3f23c4034cf0c23724c9ced5d1634cb48e18802800"
    "04ec1be343";
static const char *const vec_signal_req =
    "02e200842112a442a1a2a3a4a5a6a7a8a9aaabac4e400004686f6d654e4100076e"
    "61732e6c616e004e4200080000019aea179f404e47000763616d2e6c616e004e48"
    "0025303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e"
    "4f5051525354000000001c0020ad16014d64ce762a7237c097b31582621441a266"
    "ff543393696251150eafb8ac8028000472d82bf9";
static const char *const vec_signal_ok =
    "03e200402112a442a1a2a3a4a5a6a7a8a9aaabac4e400004686f6d65ce40000800"
    "00019aea179f4a001c00207428680d33594b1a00f21edef27a301a0e186fb5fd43"
    "a60cfe2eeba2f0b795fa80280004d1af4af8";
static const char *const vec_signal_err =
    "03f200542112a442a1a2a3a4a5a6a7a8a9aaabac4e400004686f6d65ce40000800"
    "00019aea179f5400090010000004046e6f2073756368206e6f6465001c0020aca3"
    "f5f355afcbfe9b6024f53a0a71b6fc4c38d2ad3dfd37732e283d9b49f5ae802800"
    "04ac53bf14";
static const char *const vec_signal_ind =
    "02f200842112a4425e5e5e5e00000001000000024e400004686f6d654e4100076e"
    "61732e6c616e00ce4000080000019aea179f454e47000763616d2e6c616e004e48"
    "0025303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e"
    "4f5051525354000000001c0020e2fc18541087713cdb5fbdcfeda9373d4340db23"
    "e96e9a0db4650236e0af7ae680280004935797e1";

#define TS	1764864000000ULL	/* the vectors' TIMESTAMP */

static const uint8_t tid1[STUN_TID_LEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
};
static const uint8_t tid2[STUN_TID_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};
static const uint8_t tid5[STUN_TID_LEN] = {
	0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
	0xa9, 0xaa, 0xab, 0xac,
};
static const uint8_t tid6[STUN_TID_LEN] = {
	0x5e, 0x5e, 0x5e, 0x5e, 0, 0, 0, 1, 0, 0, 0, 2,
};

static uint8_t	key[CRYPTO_KEY_LEN];	/* the server key of 00 .. 1f */
static uint8_t	other_key[CRYPTO_KEY_LEN];

static int
setup_keys(void **state)
{
	uint8_t secret[CRYPTO_KEY_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	crypto_server_key(secret, key);
	memcpy(other_key, key, sizeof(key));
	other_key[31] ^= 0x01;
	return 0;
}

static int
parse_fn(const uint8_t *buf, size_t len, void *out, const char **err)
{
	return rdv_parse(buf, len, out, err);
}

static void
parse_ok(const uint8_t *buf, size_t len, struct rdv_msg *m)
{
	tu_parse_ok(parse_fn, buf, len, m, sizeof(*m));
}

static void
parse_fails(const uint8_t *buf, size_t len, const char *why)
{
	tu_parse_fails(parse_fn, buf, len, sizeof(struct rdv_msg), why);
}

/* Parse and verify an exact-size copy: 1 if both take it. */
static int
takes(const uint8_t *buf, size_t len, const uint8_t *k)
{
	uint8_t *copy = malloc(len == 0 ? 1 : len);
	struct rdv_msg m;
	const char *err = NULL;
	int ok;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	ok = rdv_parse(copy, len, &m, &err) == 0 &&
	    rdv_verify(copy, len, &m, k);
	free(copy);
	return ok;
}

/* The structs of the four vectors, as the Python script has them. */
static void
want_register_req(struct rdv_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->method = RDV_REGISTER;
	m->cls = STUN_REQUEST;
	memcpy(m->tid, tid1, STUN_TID_LEN);
	m->has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_TIMESTAMP |
	    RDV_HAS_LIFETIME;
	strcpy(m->network, "home");
	strcpy(m->node, "nas.lan");
	m->timestamp = TS;
	m->lifetime = 75;
	m->ncand = 3;
	m->cand[0].kind = RDV_CAND_HOST;
	m->cand[0].transport = RDV_UDP;
	m->cand[0].addr = tu_sa("192.168.1.10", 51413);
	m->cand[1].kind = RDV_CAND_SRFLX;
	m->cand[1].transport = RDV_UDP;
	m->cand[1].addr = tu_sa("203.0.113.7", 40211);
	m->cand[2].kind = RDV_CAND_MAPPED;
	m->cand[2].transport = RDV_TCP;
	m->cand[2].addr = tu_sa("2001:db8::10", 8080);
}

static void
want_register_ok(struct rdv_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->method = RDV_REGISTER;
	m->cls = STUN_SUCCESS;
	memcpy(m->tid, tid1, STUN_TID_LEN);
	m->has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME | RDV_HAS_LIFETIME |
	    RDV_HAS_MAPPED;
	strcpy(m->network, "home");
	m->server_time = TS + 1234;
	m->lifetime = 75;
	m->mapped = tu_sa("203.0.113.7", 40211);
}

static void
want_reach_req(struct rdv_msg *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->method = RDV_REACH;
	m->cls = STUN_REQUEST;
	memcpy(m->tid, tid2, STUN_TID_LEN);
	m->has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_TIMESTAMP |
	    RDV_HAS_NONCE | RDV_HAS_REACH_TARGET;
	strcpy(m->network, "home");
	strcpy(m->node, "nas.lan");
	m->timestamp = TS + 5000;
	for (i = 0; i < RDV_NONCE_LEN; i++)
		m->nonce[i] = (uint8_t)(0xa0 + i);
	m->reach_transport = RDV_TCP;
	m->reach_port = 40211;
}

static void
want_reach_err(struct rdv_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->method = RDV_REACH;
	m->cls = STUN_ERROR;
	memcpy(m->tid, tid2, STUN_TID_LEN);
	m->has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME | RDV_HAS_ERROR;
	strcpy(m->network, "home");
	m->server_time = TS + 5100;
	m->error_code = 403;
	strcpy(m->error_reason, "Forbidden");
}

/* SIGNAL: nas.lan to cam.lan, 37 bytes 0x30.. */
static void
signal_head(struct rdv_msg *m, uint8_t cls, const uint8_t *t)
{
	memset(m, 0, sizeof(*m));
	m->method = RDV_SIGNAL;
	m->cls = cls;
	memcpy(m->tid, t, STUN_TID_LEN);
	m->has = RDV_HAS_NETWORK;
	strcpy(m->network, "home");
}

static void
signal_payload(struct rdv_msg *m)
{
	size_t i;

	m->has |= RDV_HAS_NODE | RDV_HAS_PEER | RDV_HAS_PAYLOAD;
	strcpy(m->node, "nas.lan");
	strcpy(m->peer, "cam.lan");
	m->payload_len = 37;
	for (i = 0; i < m->payload_len; i++)
		m->payload[i] = (uint8_t)(0x30 + i);
}

static void
want_signal_req(struct rdv_msg *m)
{
	signal_head(m, STUN_REQUEST, tid5);
	signal_payload(m);
	m->has |= RDV_HAS_TIMESTAMP;
	m->timestamp = TS + 8000;
}

static void
want_signal_ok(struct rdv_msg *m)
{
	signal_head(m, STUN_SUCCESS, tid5);
	m->has |= RDV_HAS_SERVER_TIME;
	m->server_time = TS + 8010;
}

static void
want_signal_err(struct rdv_msg *m)
{
	signal_head(m, STUN_ERROR, tid5);
	m->has |= RDV_HAS_SERVER_TIME | RDV_HAS_ERROR;
	m->server_time = TS + 8020;
	m->error_code = 404;
	strcpy(m->error_reason, "no such node");
}

static void
want_signal_ind(struct rdv_msg *m)
{
	signal_head(m, STUN_INDICATION, tid6);
	signal_payload(m);
	m->has |= RDV_HAS_SERVER_TIME;
	m->server_time = TS + 8005;
}

struct vector {
	const char	*name;
	void		(*want)(struct rdv_msg *);
};

static const struct vector vectors[] = {
	{ "register-req", want_register_req },
	{ "register-ok", want_register_ok },
	{ "reach-req", want_reach_req },
	{ "reach-err", want_reach_err },
	{ "signal-req", want_signal_req },
	{ "signal-ok", want_signal_ok },
	{ "signal-err", want_signal_err },
	{ "signal-ind", want_signal_ind },
};

static const char *
vector_hex(size_t i)
{
	static const char *const *hex[] = {
		&vec_register_req, &vec_register_ok, &vec_reach_req,
		&vec_reach_err, &vec_signal_req, &vec_signal_ok,
		&vec_signal_err, &vec_signal_ind,
	};

	return *hex[i];
}

static size_t
vector_bytes(size_t i, uint8_t *buf, size_t max)
{
	return tu_unhex(vector_hex(i), buf, max);
}

/*
 * Each vector parses to the struct the script built it from, verifies
 * under the key and not under another, and the struct builds back to the
 * same bytes.
 */
static void
test_vectors(void **state)
{
	uint8_t buf[1500], out[1500];
	struct rdv_msg m, want;
	size_t i, n;
	int len;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(vectors); i++) {
		n = vector_bytes(i, buf, sizeof(buf));
		parse_ok(buf, n, &m);
		vectors[i].want(&want);
		want.mac_off = m.mac_off;
		assert_memory_equal(&m, &want, sizeof(m));
		/* the MAC comes 44 bytes from the end: 36 of it, 8 of FINGERPRINT */
		assert_int_equal(m.mac_off, n - 44);
		assert_true(rdv_verify(buf, n, &m, key));
		assert_false(rdv_verify(buf, n, &m, other_key));
		assert_true(rdv_is_rdv(buf, n));
		len = rdv_build(out, sizeof(out), &want, key);
		assert_int_equal(len, (int)n);
		assert_memory_equal(out, buf, n);
	}
	/* the wire types of rdv-msg.h's comment */
	for (i = 0; i < TU_ARRAY_LEN(vectors); i++) {
		static const uint16_t type[] = {
			0x02e0, 0x03e0, 0x02e1, 0x03f1, 0x02e2, 0x03e2, 0x03f2,
			0x02f2,
		};

		n = vector_bytes(i, buf, sizeof(buf));
		assert_int_equal(buf[0] << 8 | buf[1], type[i]);
	}
	(void)n;
}

/* The seeds in tests/data/rdv are the same bytes. */
static void
test_seed_files(void **state)
{
	static const char *const files[] = {
		"rdv/register-req.bin", "rdv/register-ok.bin",
		"rdv/reach-req.bin", "rdv/reach-err.bin",
		"rdv/signal-req.bin", "rdv/signal-ok.bin",
		"rdv/signal-err.bin", "rdv/signal-ind.bin",
	};
	uint8_t buf[1500];
	char *data;
	size_t i, n, len;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(files); i++) {
		n = vector_bytes(i, buf, sizeof(buf));
		data = tu_read(files[i], &len);
		assert_int_equal(len, n);
		assert_memory_equal(data, buf, n);
		free(data);
	}
}

/* build -> parse -> verify gives the struct back; also every byte of the buffer is needed. */
static void
roundtrip(const struct rdv_msg *in)
{
	uint8_t buf[1500], *exact;
	struct rdv_msg out;
	int len, l2;
	size_t cut;

	len = rdv_build(buf, sizeof(buf), in, key);
	assert_true(len > STUN_HDR_LEN);
	parse_ok(buf, (size_t)len, &out);
	assert_true(rdv_verify(buf, (size_t)len, &out, key));
	assert_false(rdv_verify(buf, (size_t)len, &out, other_key));
	out.mac_off = in->mac_off;
	assert_memory_equal(&out, in, sizeof(out));
	assert_true(rdv_is_rdv(buf, (size_t)len));
	/* in a buffer of exactly its size, and not in one byte less */
	for (cut = 0; cut <= 1; cut++) {
		exact = malloc((size_t)len - cut);
		assert_non_null(exact);
		l2 = rdv_build(exact, (size_t)len - cut, in, key);
		if (cut == 0) {
			assert_int_equal(l2, len);
			assert_memory_equal(exact, buf, (size_t)len);
		} else
			assert_int_equal(l2, -1);
		free(exact);
	}
}

static void
base(struct rdv_msg *m, uint16_t method, uint8_t cls)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->method = method;
	m->cls = cls;
	for (i = 0; i < STUN_TID_LEN; i++)
		m->tid[i] = (uint8_t)(0x40 + 7 * i);
	m->has = RDV_HAS_NETWORK;
	strcpy(m->network, "Net_work-1.x");
}

/* Every method and class, every attribute, at its limits. */
static void
test_roundtrip(void **state)
{
	struct rdv_msg m;
	int i;

	(void)state;
	/* REGISTER request: 16 candidates of every kind, both transports and families */
	base(&m, RDV_REGISTER, STUN_REQUEST);
	m.has |= RDV_HAS_NODE | RDV_HAS_TIMESTAMP | RDV_HAS_LIFETIME |
	    RDV_HAS_NONCE;
	memset(m.network, 0, sizeof(m.network));
	strcpy(m.network, "abcdefghijklmnopqrstuvwxyz.-_09A");	/* 32 */
	strcpy(m.node, "a23456789.123456789.123456789.123456789.123456789."
	    "123456789-12a");	/* 63 */
	m.timestamp = UINT64_MAX;
	m.lifetime = UINT32_MAX;
	memset(m.nonce, 0xff, sizeof(m.nonce));
	m.ncand = RDV_CAND_MAX;
	for (i = 0; i < m.ncand; i++) {
		char ip[64];

		m.cand[i].kind = (uint8_t)(RDV_CAND_HOST + i % 3);
		m.cand[i].transport = i % 2 ? RDV_TCP : RDV_UDP;
		if (i % 4 < 2)
			snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		else
			snprintf(ip, sizeof(ip), "2001:db8:ffff::%x", i);
		m.cand[i].addr = tu_sa(ip, (uint16_t)(i == 5 ? 65535 : 1 + i));
	}
	roundtrip(&m);
	/* no candidate, no LIFETIME: both optional */
	base(&m, RDV_REGISTER, STUN_REQUEST);
	m.has |= RDV_HAS_NODE | RDV_HAS_TIMESTAMP;
	memset(m.network, 0, sizeof(m.network));
	strcpy(m.network, "n");
	strcpy(m.node, "x");
	roundtrip(&m);

	/* REGISTER success, IPv6 and IPv4 mapped addresses */
	base(&m, RDV_REGISTER, STUN_SUCCESS);
	m.has |= RDV_HAS_SERVER_TIME | RDV_HAS_LIFETIME | RDV_HAS_MAPPED;
	m.server_time = 1;
	m.lifetime = 0;
	m.mapped = tu_sa("2001:db8::1:2:3:4", 1);
	roundtrip(&m);
	m.mapped = tu_sa("203.0.113.200", 65535);
	roundtrip(&m);

	/* REACH request, UDP and TCP */
	base(&m, RDV_REACH, STUN_REQUEST);
	m.has |= RDV_HAS_NODE | RDV_HAS_TIMESTAMP | RDV_HAS_NONCE |
	    RDV_HAS_REACH_TARGET;
	strcpy(m.node, "host-1.example");
	m.timestamp = 0;
	m.reach_transport = RDV_UDP;
	m.reach_port = 1;
	roundtrip(&m);
	m.reach_transport = RDV_TCP;
	m.reach_port = 65535;
	roundtrip(&m);

	/* REACH success, with the server's view too */
	base(&m, RDV_REACH, STUN_SUCCESS);
	m.has |= RDV_HAS_SERVER_TIME;
	m.server_time = TS;
	roundtrip(&m);
	m.has |= RDV_HAS_MAPPED;
	m.mapped = tu_sa("198.51.100.9", 4000);
	roundtrip(&m);

	/* errors of both methods: 300, 699, a reason of 0 and 127 bytes */
	base(&m, RDV_REGISTER, STUN_ERROR);
	m.has |= RDV_HAS_SERVER_TIME | RDV_HAS_ERROR;
	m.error_code = 300;
	roundtrip(&m);
	base(&m, RDV_REACH, STUN_ERROR);
	m.has |= RDV_HAS_SERVER_TIME | RDV_HAS_ERROR;
	m.error_code = 699;
	memset(m.error_reason, 'r', 127);
	roundtrip(&m);

	/* SIGNAL request and indication: payloads of 1 to 1024 bytes, names of 63 */
	for (i = 0; i < 8; i++) {
		static const size_t len[8] = { 1, 2, 3, 4, 5, 700, 1023, 1024 };
		size_t j;

		base(&m, RDV_SIGNAL, i % 2 ? STUN_INDICATION : STUN_REQUEST);
		m.has |= RDV_HAS_NODE | RDV_HAS_PEER | RDV_HAS_PAYLOAD |
		    (i % 2 ? RDV_HAS_SERVER_TIME : RDV_HAS_TIMESTAMP);
		strcpy(m.node, "a23456789.123456789.123456789.123456789."
		    "123456789.123456789-12a");
		strcpy(m.peer, i < 4 ? "p" : "b23456789.123456789.123456789."
		    "123456789.123456789.123456789-12b");
		m.timestamp = i % 2 ? 0 : TS;
		m.server_time = i % 2 ? UINT64_MAX : 0;
		m.payload_len = len[i];
		for (j = 0; j < len[i]; j++)
			m.payload[j] = (uint8_t)(j * 7 + i);
		roundtrip(&m);
	}
	/* SIGNAL success and error */
	base(&m, RDV_SIGNAL, STUN_SUCCESS);
	m.has |= RDV_HAS_SERVER_TIME;
	m.server_time = TS;
	roundtrip(&m);
	base(&m, RDV_SIGNAL, STUN_ERROR);
	m.has |= RDV_HAS_SERVER_TIME | RDV_HAS_ERROR;
	m.error_code = 429;
	strcpy(m.error_reason, "rate limit");
	roundtrip(&m);
}

/* What rdv_build refuses: what rdv_parse would. */
static void
test_build_refuses(void **state)
{
	uint8_t buf[1500];
	struct rdv_msg m, good;

	(void)state;
	want_register_req(&good);
	assert_true(rdv_build(buf, sizeof(buf), &good, key) > 0);
#define REFUSED(stmt) do {						\
	m = good;							\
	stmt;								\
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);	\
} while (0)
	REFUSED(m.method = STUN_BINDING);
	REFUSED(m.method = RDV_REACH);		/* no NONCE, no target */
	REFUSED(m.cls = STUN_INDICATION);
	REFUSED(m.cls = STUN_SUCCESS);		/* no SERVER-TIME... */
	REFUSED(m.has &= ~(unsigned)RDV_HAS_NETWORK);
	REFUSED(m.has &= ~(unsigned)RDV_HAS_NODE);
	REFUSED(m.has &= ~(unsigned)RDV_HAS_TIMESTAMP);
	REFUSED(m.network[0] = '\0');
	REFUSED(memset(m.network, 'a', sizeof(m.network)));	/* no NUL */
	REFUSED(strcpy(m.network, "ho me"));
	REFUSED(strcpy(m.node, "Nas"));
	REFUSED(memset(m.node, 'a', sizeof(m.node)));
	REFUSED(m.ncand = RDV_CAND_MAX + 1);
	REFUSED(m.ncand = -1);
	REFUSED(m.cand[1].kind = 0);
	REFUSED(m.cand[1].kind = 4);
	REFUSED(m.cand[1].transport = 1);
	REFUSED(m.cand[1].addr.ss_family = AF_UNIX);
	REFUSED(m.cand[2].addr = tu_sa("2001:db8::1", 0));
	REFUSED((m.has |= RDV_HAS_ERROR, m.error_code = 400));
	REFUSED((m.has |= RDV_HAS_MAPPED));	/* AF_UNSPEC */
	REFUSED((m.has |= RDV_HAS_REACH_TARGET, m.reach_transport = RDV_TCP));
	m = good;
	m.method = RDV_REACH;
	m.has |= RDV_HAS_NONCE | RDV_HAS_REACH_TARGET;
	m.reach_transport = RDV_UDP;
	m.reach_port = 9;
	assert_true(rdv_build(buf, sizeof(buf), &m, key) > 0);
	REFUSED((m.method = RDV_REACH, m.has |= RDV_HAS_NONCE |
	    RDV_HAS_REACH_TARGET, m.reach_transport = 0, m.reach_port = 9));
	REFUSED((m.method = RDV_REACH, m.has |= RDV_HAS_NONCE |
	    RDV_HAS_REACH_TARGET, m.reach_transport = RDV_UDP,
	    m.reach_port = 0));
	want_reach_err(&good);
	assert_true(rdv_build(buf, sizeof(buf), &good, key) > 0);
	REFUSED(m.error_code = 299);
	REFUSED(m.error_code = 700);
	REFUSED(m.has &= ~(unsigned)RDV_HAS_ERROR);
	REFUSED(m.has &= ~(unsigned)RDV_HAS_SERVER_TIME);
	/* too small a buffer: header only, and none at all */
	assert_int_equal(rdv_build(buf, STUN_HDR_LEN, &good, key), -1);
	assert_int_equal(rdv_build(buf, 0, &good, key), -1);
#undef REFUSED
}

/*
 * TURN-SERVER and TURN-CREDENTIAL: round trips (IPv4, IPv6, the shortest
 * and longest credential); both or neither, only in a REGISTER success,
 * lengths 31-189, each once, a reserved byte 0: anything else refused,
 * by build and parse alike.
 */
static void
test_turn_attrs(void **state)
{
	uint8_t buf[1500];
	struct rdv_msg m, good;
	size_t i, off;
	int n;

	(void)state;
	want_register_ok(&good);
	good.has |= RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL;
	good.turn_server = tu_sa("203.0.113.8", 3478);
	good.turn_cred_len = RDV_TURN_SEALED_MIN;
	for (i = 0; i < good.turn_cred_len; i++)
		good.turn_cred[i] = (uint8_t)(0x80 + i);
	roundtrip(&good);
	m = good;
	m.turn_server = tu_sa("2001:db8:113::8", 5349);
	m.turn_cred_len = RDV_TURN_SEALED_MAX;
	for (i = 0; i < m.turn_cred_len; i++)
		m.turn_cred[i] = (uint8_t)i;
	roundtrip(&m);
#define REFUSED(stmt) do {						\
	m = good;							\
	stmt;								\
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);	\
} while (0)
	REFUSED(m.has &= ~(unsigned)RDV_HAS_TURN_SERVER);
	REFUSED(m.has &= ~(unsigned)RDV_HAS_TURN_CREDENTIAL);
	REFUSED(m.turn_cred_len = RDV_TURN_SEALED_MIN - 1);
	REFUSED(m.turn_cred_len = RDV_TURN_SEALED_MAX + 1);
	REFUSED(m.turn_server = tu_sa("203.0.113.8", 0));
	REFUSED(m.turn_server.ss_family = AF_UNIX);
	REFUSED(m.cls = STUN_ERROR);
	REFUSED((want_register_req(&m), m.has |= RDV_HAS_TURN_SERVER |
	    RDV_HAS_TURN_CREDENTIAL, m.turn_server = good.turn_server,
	    m.turn_cred_len = good.turn_cred_len));
#undef REFUSED
	/* on the wire: the credential's length, the server's reserved byte */
	n = rdv_build(buf, sizeof(buf), &good, key);
	assert_true(n > 0);
	for (off = STUN_HDR_LEN; off < (size_t)n; off += 4 +
	    ((wire_get16(buf + off + 2) + 3u) & ~3u))
		if (wire_get16(buf + off) == RDV_A_TURN_SERVER)
			break;
	assert_true(off < (size_t)n);
	buf[off + 4] = 1;
	parse_fails(buf, (size_t)n, "address with a reserved byte not 0");
	buf[off + 4] = 0;
	/* the server's attribute renamed a second CREDENTIAL: refused */
	wire_put16(buf + off, RDV_A_TURN_CREDENTIAL);
	parse_fails(buf, (size_t)n, "TURN-CREDENTIAL not 31-189 bytes");
	/* a 30-byte credential (the padding keeps the length right) */
	for (off = STUN_HDR_LEN; off < (size_t)n; off += 4 +
	    ((wire_get16(buf + off + 2) + 3u) & ~3u))
		if (wire_get16(buf + off) == RDV_A_TURN_CREDENTIAL &&
		    wire_get16(buf + off + 2) == RDV_TURN_SEALED_MIN)
			break;
	assert_true(off < (size_t)n);
	wire_put16(buf + off + 2, RDV_TURN_SEALED_MIN - 1);
	parse_fails(buf, (size_t)n, "TURN-CREDENTIAL not 31-189 bytes");
}

/* Any one byte changed, anywhere: the parser or the MAC says no. */
static void
test_flip_every_byte(void **state)
{
	static const uint8_t flips[] = { 0x01, 0x80, 0xff, 0x20 };
	uint8_t buf[1500];
	size_t i, n, b, f;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(vectors); i++) {
		n = vector_bytes(i, buf, sizeof(buf));
		assert_true(takes(buf, n, key));
		for (b = 0; b < n; b++)
			for (f = 0; f < TU_ARRAY_LEN(flips); f++) {
				buf[b] ^= flips[f];
				if (takes(buf, n, key))
					fail_msg("%s: byte %zu ^ 0x%02x taken",
					    vectors[i].name, b, flips[f]);
				buf[b] ^= flips[f];
			}
		/* the wrong key */
		assert_false(takes(buf, n, other_key));
	}
}

/* Cut anywhere, or the length field lying: refused. */
static void
test_truncated_and_lengths(void **state)
{
	uint8_t buf[1600];
	size_t i, n, l;
	uint16_t field;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(vectors); i++) {
		n = vector_bytes(i, buf, sizeof(buf));
		for (l = 0; l < n; l++)
			if (takes(buf, l, key))
				fail_msg("%s cut at %zu taken", vectors[i].name,
				    l);
		parse_fails(buf, 19, "shorter than a STUN header");
		parse_fails(buf, n - 4, "STUN length does not match the "
		    "datagram");
		/* the length field says more, less, an odd number */
		field = (uint16_t)(buf[2] << 8 | buf[3]);
		for (l = 0; l < 0x10000; l += l < 2048 ? 1 : 509) {
			if (l == field)
				continue;
			buf[2] = (uint8_t)(l >> 8);
			buf[3] = (uint8_t)l;
			parse_fails(buf, n, "STUN length does not match the "
			    "datagram");
		}
		buf[2] = (uint8_t)(field >> 8);
		buf[3] = (uint8_t)field;
		/* bytes after the message, the length field agreeing */
		memset(buf + n, 0, 4);
		buf[2] = (uint8_t)((field + 4) >> 8);
		buf[3] = (uint8_t)(field + 4);
		parse_fails(buf, n + 4, "attribute after FINGERPRINT");
	}
}

/* ---- messages built by hand, to reach each refusal ---- */

static void
mb_u64(struct tu_msgb *mb, uint16_t type, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	tu_mb_attr(mb, type, b, 8);
}

/* A CANDIDATE: kind, transport, then family, port and address XORed. */
static void
mb_cand(struct tu_msgb *mb, uint8_t kind, uint8_t transport, uint8_t family,
    const char *ip, uint16_t port)
{
	uint8_t v[24];
	size_t alen, i;

	memset(v, 0, sizeof(v));
	v[0] = kind;
	v[1] = transport;
	if (inet_pton(AF_INET, ip, v + 8) == 1)
		alen = 4;
	else {
		assert_int_equal(inet_pton(AF_INET6, ip, v + 8), 1);
		alen = 16;
	}
	v[5] = family;
	v[6] = (uint8_t)((port >> 8) ^ 0x21);
	v[7] = (uint8_t)(port ^ 0x12);
	for (i = 0; i < alen; i++)
		v[8 + i] ^= mb->b[4 + i];
	tu_mb_attr(mb, 0x4e44, v, 8 + alen);
}

/* The MAC (RFC 8489 14.6) under key, as the Python script computes it. */
static void
mb_mac(struct tu_msgb *mb)
{
	struct crypto_part part;
	uint8_t mac[32];

	tu_mb_len(mb, 36);
	part.data = mb->b;
	part.len = mb->len;
	crypto_hmac_sha256(key, sizeof(key), &part, 1, mac);
	tu_mb_attr(mb, 0x001c, mac, sizeof(mac));
}

static void
mb_end(struct tu_msgb *mb)
{
	mb_mac(mb);
	tu_mb_fingerprint(mb);
}

/* A REGISTER request's head: NETWORK, NODE, TIMESTAMP. */
static void
mb_register(struct tu_msgb *mb, const char *network, const char *node)
{
	tu_mb_init(mb, 0x02e0, tid1);
	tu_mb_str(mb, 0x4e40, network);
	tu_mb_str(mb, 0x4e41, node);
	mb_u64(mb, 0x4e42, TS);
}

static void
expect_refused(struct tu_msgb *mb, const char *why)
{
	parse_fails(mb->b, mb->len, why);
}

static void
expect_taken(struct tu_msgb *mb)
{
	struct rdv_msg m;

	parse_ok(mb->b, mb->len, &m);
	assert_true(rdv_verify(mb->b, mb->len, &m, key));
}

static void
test_names(void **state)
{
	static const char *const good_networks[] = {
		"a", "HOME", "home.net", "a_b-c.9",
		"abcdefghijklmnopqrstuvwxyz012345",
	};
	static const char *const bad_networks[] = {
		"ho me", "h\xc3\xb6me", "a/b", "a:b", "a@b", "home\n",
		"abcdefghijklmnopqrstuvwxyz0123456",	/* 33 */
	};
	static const char *const good_nodes[] = {
		"a", "nas", "nas.lan", "a-b.c-d", "0", "9a.b8",
		"a23456789a23456789a23456789a23456789a23456789a23456789a2345678",
	};
	static const char *const bad_nodes[] = {
		"Nas", "-nas", "nas-", "a..b", ".a", "a.", "a_b", "a b",
		"a.-b", "a-.b", "nas\xff", ".",
		"a23456789a23456789a23456789a23456789a23456789a23456789a234567890",
	};
	struct tu_msgb mb;
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(good_networks); i++) {
		mb_register(&mb, good_networks[i], "nas");
		mb_end(&mb);
		expect_taken(&mb);
	}
	for (i = 0; i < TU_ARRAY_LEN(bad_networks); i++) {
		mb_register(&mb, bad_networks[i], "nas");
		mb_end(&mb);
		expect_refused(&mb, "NETWORK not 1-32 of [A-Za-z0-9._-]");
	}
	for (i = 0; i < TU_ARRAY_LEN(good_nodes); i++) {
		mb_register(&mb, "home", good_nodes[i]);
		mb_end(&mb);
		expect_taken(&mb);
	}
	for (i = 0; i < TU_ARRAY_LEN(bad_nodes); i++) {
		mb_register(&mb, "home", bad_nodes[i]);
		mb_end(&mb);
		expect_refused(&mb, "NODE not a name of 1-63 [a-z0-9-] in "
		    "dotted labels");
	}
	/* empty, and a NUL inside */
	mb_register(&mb, "", "nas");
	mb_end(&mb);
	expect_refused(&mb, "NETWORK not 1-32 of [A-Za-z0-9._-]");
	tu_mb_init(&mb, 0x02e0, tid1);
	tu_mb_attr(&mb, 0x4e40, "ho\0me", 5);
	tu_mb_str(&mb, 0x4e41, "nas");
	mb_u64(&mb, 0x4e42, TS);
	mb_end(&mb);
	expect_refused(&mb, "NETWORK not 1-32 of [A-Za-z0-9._-]");
	mb_register(&mb, "home", "");
	mb_end(&mb);
	expect_refused(&mb, "NODE not a name of 1-63 [a-z0-9-] in dotted "
	    "labels");
}

static void
test_candidates(void **state)
{
	struct tu_msgb mb;
	struct rdv_msg m;
	uint8_t v[32];
	int i;

	(void)state;
	/* 16 are taken, 17 are not */
	mb_register(&mb, "home", "nas");
	for (i = 0; i < 16; i++)
		mb_cand(&mb, 1, 17, 1, "192.168.1.2", (uint16_t)(1000 + i));
	mb_end(&mb);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.ncand, 16);
	tu_assert_sa(&m.cand[15].addr, "192.168.1.2:1015");
	mb_register(&mb, "home", "nas");
	for (i = 0; i < 17; i++)
		mb_cand(&mb, 1, 17, 1, "192.168.1.2", (uint16_t)(1000 + i));
	mb_end(&mb);
	expect_refused(&mb, "more than 16 CANDIDATE attributes");

	/* families: 0, 3, and each with the other's length */
#define ONE_CAND(kind, tr, fam, ip, port, why) do {			\
	mb_register(&mb, "home", "nas");				\
	mb_cand(&mb, kind, tr, fam, ip, port);				\
	mb_end(&mb);							\
	if ((why) == NULL)						\
		expect_taken(&mb);					\
	else								\
		expect_refused(&mb, why);				\
} while (0)
	ONE_CAND(1, 17, 1, "198.51.100.1", 1, NULL);
	ONE_CAND(3, 6, 2, "2001:db8::1", 65535, NULL);
	ONE_CAND(1, 17, 0, "198.51.100.1", 1, "address family not IPv4 or IPv6");
	ONE_CAND(1, 17, 3, "198.51.100.1", 1, "address family not IPv4 or IPv6");
	ONE_CAND(1, 17, 2, "198.51.100.1", 1, "address of the wrong length");
	ONE_CAND(1, 17, 1, "2001:db8::1", 1, "address of the wrong length");
	ONE_CAND(1, 17, 1, "198.51.100.1", 0, "address with port 0");
	ONE_CAND(0, 17, 1, "198.51.100.1", 1,
	    "CANDIDATE kind not host, srflx or mapped");
	ONE_CAND(4, 17, 1, "198.51.100.1", 1,
	    "CANDIDATE kind not host, srflx or mapped");
	ONE_CAND(1, 0, 1, "198.51.100.1", 1,
	    "CANDIDATE transport not udp or tcp");
	ONE_CAND(1, 132, 1, "198.51.100.1", 1,
	    "CANDIDATE transport not udp or tcp");
#undef ONE_CAND
	/* reserved bytes, and too short */
	memset(v, 0, sizeof(v));
	v[0] = 1;
	v[1] = 17;
	v[2] = 1;
	v[5] = 1;
	v[6] = 0x21;
	v[7] = 0x13;
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x4e44, v, 12);
	mb_end(&mb);
	expect_refused(&mb, "CANDIDATE too short or its reserved bytes not 0");
	v[2] = 0;
	v[4] = 1;		/* the address's own reserved byte */
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x4e44, v, 12);
	mb_end(&mb);
	expect_refused(&mb, "address with a reserved byte not 0");
	v[4] = 0;
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x4e44, v, 12);
	mb_end(&mb);
	expect_taken(&mb);
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x4e44, v, 3);
	mb_end(&mb);
	expect_refused(&mb, "CANDIDATE too short or its reserved bytes not 0");
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x4e44, v, 7);
	mb_end(&mb);
	expect_refused(&mb, "address of the wrong length");
}

/* The MAC and FINGERPRINT: where they must be, what may follow. */
static void
test_mac_and_fingerprint(void **state)
{
	struct tu_msgb mb;
	uint8_t mac[32];

	(void)state;
	/* no MAC at all, with a right FINGERPRINT */
	mb_register(&mb, "home", "nas");
	tu_mb_fingerprint(&mb);
	expect_refused(&mb, "no MESSAGE-INTEGRITY-SHA256");
	/* a MAC and no FINGERPRINT */
	mb_register(&mb, "home", "nas");
	mb_mac(&mb);
	expect_refused(&mb, "no FINGERPRINT");
	/* an attribute of ours after the MAC, before the FINGERPRINT */
	mb_register(&mb, "home", "nas");
	mb_mac(&mb);
	mb_u64(&mb, 0xce40, TS);
	tu_mb_fingerprint(&mb);
	expect_refused(&mb, "attribute after MESSAGE-INTEGRITY-SHA256");
	/* even an optional unknown one */
	mb_register(&mb, "home", "nas");
	mb_mac(&mb);
	tu_mb_str(&mb, 0x8022, "sw");
	tu_mb_fingerprint(&mb);
	expect_refused(&mb, "attribute after MESSAGE-INTEGRITY-SHA256");
	/* two MACs */
	mb_register(&mb, "home", "nas");
	mb_mac(&mb);
	mb_mac(&mb);
	tu_mb_fingerprint(&mb);
	expect_refused(&mb, "attribute after MESSAGE-INTEGRITY-SHA256");
	/* NETWORK after the MAC: the key could not be found first */
	tu_mb_init(&mb, 0x02e0, tid1);
	tu_mb_str(&mb, 0x4e41, "nas");
	mb_u64(&mb, 0x4e42, TS);
	mb_mac(&mb);
	tu_mb_str(&mb, 0x4e40, "home");
	tu_mb_fingerprint(&mb);
	expect_refused(&mb, "attribute after MESSAGE-INTEGRITY-SHA256");
	/* a MAC of 20 (SHA-1's) or 16 bytes */
	memset(mac, 0, sizeof(mac));
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x001c, mac, 20);
	tu_mb_fingerprint(&mb);
	expect_refused(&mb, "MESSAGE-INTEGRITY-SHA256 length not 32");
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x001c, mac, 16);
	tu_mb_fingerprint(&mb);
	expect_refused(&mb, "MESSAGE-INTEGRITY-SHA256 length not 32");
	/* STUN's MESSAGE-INTEGRITY (HMAC-SHA1) is not ours */
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x0008, mac, 20);
	mb_end(&mb);
	expect_refused(&mb, "unknown comprehension-required attribute");
	/* a bad FINGERPRINT, one of the wrong length, one not last */
	mb_register(&mb, "home", "nas");
	mb_end(&mb);
	mb.b[mb.len - 1] ^= 0x01;
	expect_refused(&mb, "bad FINGERPRINT");
	mb_register(&mb, "home", "nas");
	mb_mac(&mb);
	tu_mb_attr(&mb, 0x8028, mac, 8);
	expect_refused(&mb, "FINGERPRINT length not 4");
	mb_register(&mb, "home", "nas");
	mb_mac(&mb);
	tu_mb_fingerprint(&mb);
	tu_mb_str(&mb, 0x8022, "late");
	expect_refused(&mb, "attribute after FINGERPRINT");
	/* a right message whose MAC is of another key */
	mb_register(&mb, "home", "nas");
	mb_end(&mb);
	{
		struct rdv_msg m;

		parse_ok(mb.b, mb.len, &m);
		assert_true(rdv_verify(mb.b, mb.len, &m, key));
		assert_false(rdv_verify(mb.b, mb.len, &m, other_key));
		/* a struct whose mac_off is not this message's */
		m.mac_off = 20;
		assert_false(rdv_verify(mb.b, mb.len, &m, key));
		m.mac_off = mb.len;
		assert_false(rdv_verify(mb.b, mb.len, &m, key));
		m.mac_off = SIZE_MAX;
		assert_false(rdv_verify(mb.b, mb.len, &m, key));
	}
}

/* Attributes: past the end, twice, unknown, the wrong length, missing. */
static void
test_attributes(void **state)
{
	struct tu_msgb mb;
	uint8_t v[64];

	(void)state;
	memset(v, 0, sizeof(v));
	/* an attribute whose length runs past the message */
	mb_register(&mb, "home", "nas");
	mb_end(&mb);
	mb.b[STUN_HDR_LEN + 3] = 200;	/* NETWORK's length */
	expect_refused(&mb, "attribute runs past the end");
	mb_register(&mb, "home", "nas");
	mb_end(&mb);
	mb.b[mb.len - 6] = 0x01;	/* FINGERPRINT's length: 260 */
	expect_refused(&mb, "attribute runs past the end");
	/* twice */
	mb_register(&mb, "home", "nas");
	tu_mb_str(&mb, 0x4e40, "home");
	mb_end(&mb);
	expect_refused(&mb, "rendezvous attribute twice");
	mb_register(&mb, "home", "nas");
	mb_u64(&mb, 0x4e42, TS);
	mb_end(&mb);
	expect_refused(&mb, "rendezvous attribute twice");
	/* unknown: comprehension-required refused, optional skipped */
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0x4e5f, v, 4);
	mb_end(&mb);
	expect_refused(&mb, "unknown comprehension-required attribute");
	mb_register(&mb, "home", "nas");
	tu_mb_str(&mb, 0x0006, "user");	/* USERNAME */
	mb_end(&mb);
	expect_refused(&mb, "unknown comprehension-required attribute");
	mb_register(&mb, "home", "nas");
	tu_mb_attr(&mb, 0xce5f, v, 5);
	tu_mb_str(&mb, 0x8022, "natmapd");	/* SOFTWARE */
	tu_mb_attr(&mb, 0xffff, v, 0);
	mb_end(&mb);
	expect_taken(&mb);
	/* the wrong lengths */
#define BAD_LEN(type, n, why) do {					\
	mb_register(&mb, "home", "nas");				\
	tu_mb_attr(&mb, type, v, n);					\
	mb_end(&mb);							\
	expect_refused(&mb, why);					\
} while (0)
	BAD_LEN(0x4e43, 15, "NONCE length not 16");
	BAD_LEN(0x4e43, 17, "NONCE length not 16");
	BAD_LEN(0x4e45, 8, "LIFETIME length not 4");
	BAD_LEN(0xce40, 4, "SERVER-TIME length not 8");
	BAD_LEN(0x4e46, 8, "REACH-TARGET not 4 bytes with a 0");
	BAD_LEN(0x0020, 12, "address family not IPv4 or IPv6");
	v[1] = 1;
	BAD_LEN(0x0020, 12, "address of the wrong length");
	v[1] = 0;
	BAD_LEN(0x0009, 3, "ERROR-CODE shorter than 4 bytes");
#undef BAD_LEN
	tu_mb_init(&mb, 0x02e0, tid1);
	tu_mb_str(&mb, 0x4e40, "home");
	tu_mb_str(&mb, 0x4e41, "nas");
	tu_mb_attr(&mb, 0x4e42, v, 4);
	mb_end(&mb);
	expect_refused(&mb, "TIMESTAMP length not 8");
	/* REACH-TARGET values */
#define TARGET(b0, b1, port, why) do {					\
	tu_mb_init(&mb, 0x02e1, tid2);					\
	tu_mb_str(&mb, 0x4e40, "home");					\
	tu_mb_str(&mb, 0x4e41, "nas");					\
	mb_u64(&mb, 0x4e42, TS);					\
	tu_mb_attr(&mb, 0x4e43, v, 16);					\
	v[40] = b0;							\
	v[41] = b1;							\
	v[42] = (uint8_t)((port) >> 8);					\
	v[43] = (uint8_t)(port);					\
	tu_mb_attr(&mb, 0x4e46, v + 40, 4);				\
	mb_end(&mb);							\
	if ((why) == NULL)						\
		expect_taken(&mb);					\
	else								\
		expect_refused(&mb, why);				\
} while (0)
	TARGET(17, 0, 51413, NULL);
	TARGET(6, 0, 1, NULL);
	TARGET(6, 1, 80, "REACH-TARGET not 4 bytes with a 0");
	TARGET(1, 0, 80, "REACH-TARGET not udp or tcp and a port");
	TARGET(17, 0, 0, "REACH-TARGET not udp or tcp and a port");
#undef TARGET
	/* what each message must have */
	tu_mb_init(&mb, 0x02e0, tid1);
	tu_mb_str(&mb, 0x4e40, "home");
	mb_u64(&mb, 0x4e42, TS);
	mb_end(&mb);
	expect_refused(&mb, "rendezvous attribute missing");
	tu_mb_init(&mb, 0x02e0, tid1);
	tu_mb_str(&mb, 0x4e41, "nas");
	mb_u64(&mb, 0x4e42, TS);
	mb_end(&mb);
	expect_refused(&mb, "no NETWORK, or not 1-32 of [A-Za-z0-9._-]");
	tu_mb_init(&mb, 0x02e1, tid2);	/* REACH without a target */
	tu_mb_str(&mb, 0x4e40, "home");
	tu_mb_str(&mb, 0x4e41, "nas");
	mb_u64(&mb, 0x4e42, TS);
	tu_mb_attr(&mb, 0x4e43, v, 16);
	mb_end(&mb);
	expect_refused(&mb, "rendezvous attribute missing");
	tu_mb_init(&mb, 0x03f0, tid1);	/* an error without ERROR-CODE */
	tu_mb_str(&mb, 0x4e40, "home");
	mb_u64(&mb, 0xce40, TS);
	mb_end(&mb);
	expect_refused(&mb, "rendezvous attribute missing");
	tu_mb_init(&mb, 0x03e1, tid1);	/* ERROR-CODE in a success */
	tu_mb_str(&mb, 0x4e40, "home");
	mb_u64(&mb, 0xce40, TS);
	v[2] = 4;
	tu_mb_attr(&mb, 0x0009, v, 4);
	mb_end(&mb);
	expect_refused(&mb, "ERROR-CODE in a message not an error");
	tu_mb_init(&mb, 0x03f1, tid1);	/* code 700 */
	tu_mb_str(&mb, 0x4e40, "home");
	mb_u64(&mb, 0xce40, TS);
	v[2] = 7;
	tu_mb_attr(&mb, 0x0009, v, 4);
	mb_end(&mb);
	expect_refused(&mb, "ERROR-CODE not in 300-699");
	v[2] = 0;
}

/* Methods and classes that are not ours, and telling ours from Binding. */
static void
test_methods(void **state)
{
	struct tu_msgb mb;
	uint8_t req[64];
	int n;

	(void)state;
	/* a Binding request, as natmapd sends them: not ours */
	n = stun_build_binding(req, sizeof(req), tid1, 0, 1);
	assert_true(n > 0);
	assert_false(rdv_is_rdv(req, (size_t)n));
	parse_fails(req, (size_t)n, "not a rendezvous method");
	/* our block, a method not defined yet (0x0f3) */
	tu_mb_init(&mb, 0x02e3, tid1);
	tu_mb_str(&mb, 0x4e40, "home");
	mb_end(&mb);
	assert_true(rdv_is_rdv(mb.b, mb.len));
	expect_refused(&mb, "not a rendezvous method");
	/* the last of the block, 0x0ff, and the one after, 0x100 */
	tu_mb_init(&mb, 0x03ff & ~0x0110, tid1);
	assert_true(rdv_is_rdv(mb.b, mb.len));
	tu_mb_init(&mb, 0x0400, tid1);
	assert_false(rdv_is_rdv(mb.b, mb.len));
	tu_mb_init(&mb, 0x02df, tid1);	/* 0x0ef */
	assert_false(rdv_is_rdv(mb.b, mb.len));
	/* an indication of REGISTER */
	mb_register(&mb, "home", "nas");
	mb.b[1] = 0xf0;
	mb_end(&mb);
	assert_true(rdv_is_rdv(mb.b, mb.len));
	expect_refused(&mb, "rendezvous indication not a SIGNAL");
	/* and of REACH */
	tu_mb_init(&mb, 0x02f1, tid1);
	tu_mb_str(&mb, 0x4e40, "home");
	mb_u64(&mb, 0xce40, TS);
	mb_end(&mb);
	expect_refused(&mb, "rendezvous indication not a SIGNAL");
	/* not STUN: first bits, cookie; too short */
	mb_register(&mb, "home", "nas");
	mb_end(&mb);
	mb.b[0] |= 0x40;
	assert_false(rdv_is_rdv(mb.b, mb.len));
	expect_refused(&mb, "not STUN");
	mb_register(&mb, "home", "nas");
	mb_end(&mb);
	mb.b[7] ^= 0x01;
	assert_false(rdv_is_rdv(mb.b, mb.len));
	expect_refused(&mb, "not STUN");
	assert_false(rdv_is_rdv(mb.b, 19));
	assert_false(rdv_is_rdv(mb.b, 0));
	assert_string_equal(rdv_method_name(RDV_REGISTER), "REGISTER");
	assert_string_equal(rdv_method_name(RDV_REACH), "REACH");
	assert_string_equal(rdv_method_name(RDV_SIGNAL), "SIGNAL");
	assert_string_equal(rdv_method_name(0x0f3), "method 0x0f3");
	/* over 1500 bytes */
	mb_register(&mb, "home", "nas");
	while (mb.len < 1500)
		tu_mb_attr(&mb, 0xce41, req, 32);
	mb_end(&mb);
	expect_refused(&mb, "longer than 1500 bytes");
}

/* ---- SIGNAL: hand-built refusals, limits, rdv_peek ---- */

/* A SIGNAL of class cls (request or indication) with the attributes of want set. */
static void
mb_signal(struct tu_msgb *mb, uint16_t type, unsigned int want,
    size_t paylen)
{
	uint8_t pay[1100];

	memset(pay, 0x5a, sizeof(pay));
	tu_mb_init(mb, type, tid5);
	tu_mb_str(mb, 0x4e40, "home");
	if (want & RDV_HAS_NODE)
		tu_mb_str(mb, 0x4e41, "nas.lan");
	if (want & RDV_HAS_TIMESTAMP)
		mb_u64(mb, 0x4e42, TS);
	if (want & RDV_HAS_SERVER_TIME)
		mb_u64(mb, 0xce40, TS);
	if (want & RDV_HAS_PEER)
		tu_mb_str(mb, 0x4e47, "cam.lan");
	if (want & RDV_HAS_PAYLOAD)
		tu_mb_attr(mb, 0x4e48, pay, paylen);
}

static void
test_signal(void **state)
{
	static const unsigned int req = RDV_HAS_NODE | RDV_HAS_TIMESTAMP |
	    RDV_HAS_PEER | RDV_HAS_PAYLOAD;
	static const unsigned int ind = RDV_HAS_NODE | RDV_HAS_SERVER_TIME |
	    RDV_HAS_PEER | RDV_HAS_PAYLOAD;
	static const unsigned int bits[] = {
		RDV_HAS_NODE, RDV_HAS_TIMESTAMP, RDV_HAS_SERVER_TIME,
		RDV_HAS_PEER, RDV_HAS_PAYLOAD,
	};
	struct tu_msgb mb;
	struct rdv_msg m, good;
	uint8_t buf[1500];
	uint16_t method;
	uint8_t cls;
	size_t i;
	int n;

	(void)state;
	/* whole: taken; each attribute it needs missing: refused */
	mb_signal(&mb, 0x02e2, req, 1);
	mb_end(&mb);
	expect_taken(&mb);
	mb_signal(&mb, 0x02f2, ind, RDV_PAYLOAD_MAX);
	mb_end(&mb);
	expect_taken(&mb);
	for (i = 0; i < TU_ARRAY_LEN(bits); i++) {
		if (req & bits[i]) {
			mb_signal(&mb, 0x02e2, req & ~bits[i], 8);
			mb_end(&mb);
			expect_refused(&mb, "rendezvous attribute missing");
		}
		if (ind & bits[i]) {
			mb_signal(&mb, 0x02f2, ind & ~bits[i], 8);
			mb_end(&mb);
			expect_refused(&mb, "rendezvous attribute missing");
		}
	}
	/* PAYLOAD of 0 and of 1025 bytes */
	mb_signal(&mb, 0x02e2, req, 0);
	mb_end(&mb);
	expect_refused(&mb, "PAYLOAD not 1-1024 bytes");
	mb_signal(&mb, 0x02e2, req, RDV_PAYLOAD_MAX + 1);
	mb_end(&mb);
	expect_refused(&mb, "PAYLOAD not 1-1024 bytes");
	/* twice */
	mb_signal(&mb, 0x02e2, req, 4);
	tu_mb_attr(&mb, 0x4e48, "abcd", 4);
	mb_end(&mb);
	expect_refused(&mb, "rendezvous attribute twice");
	mb_signal(&mb, 0x02e2, req, 4);
	tu_mb_str(&mb, 0x4e47, "cam.lan");
	mb_end(&mb);
	expect_refused(&mb, "rendezvous attribute twice");
	/* PEER not a node name */
	mb_signal(&mb, 0x02e2, req & ~RDV_HAS_PEER, 4);
	tu_mb_str(&mb, 0x4e47, "Cam");
	mb_end(&mb);
	expect_refused(&mb, "PEER not a name of 1-63 [a-z0-9-] in dotted "
	    "labels");
	mb_signal(&mb, 0x02e2, req & ~RDV_HAS_PEER, 4);
	tu_mb_attr(&mb, 0x4e47, "", 0);
	mb_end(&mb);
	expect_refused(&mb, "PEER not a name of 1-63 [a-z0-9-] in dotted "
	    "labels");
	/* PAYLOAD and PEER in a REGISTER: ours, allowed, kept */
	mb_register(&mb, "home", "nas");
	tu_mb_str(&mb, 0x4e47, "cam");
	tu_mb_attr(&mb, 0x4e48, "xy", 2);
	mb_end(&mb);
	parse_ok(mb.b, mb.len, &m);
	assert_string_equal(m.peer, "cam");
	assert_int_equal(m.payload_len, 2);

	/* what build refuses */
	want_signal_req(&good);
	assert_true(rdv_build(buf, sizeof(buf), &good, key) > 0);
	m = good;
	m.payload_len = 0;
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);
	m = good;
	m.payload_len = RDV_PAYLOAD_MAX + 1;
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);
	m = good;
	strcpy(m.peer, "-x");
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);
	m = good;
	m.has &= ~RDV_HAS_PEER;
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);
	want_signal_ind(&good);
	m = good;
	m.has &= ~RDV_HAS_SERVER_TIME;
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);
	m = good;
	m.method = RDV_REACH;	/* an indication of another method */
	assert_int_equal(rdv_build(buf, sizeof(buf), &m, key), -1);

	/* the largest request, as rdv-msg.h counts it: 1276 bytes */
	want_signal_req(&good);
	strcpy(good.network, "abcdefghijklmnopqrstuvwxyz012345");
	strcpy(good.node, "a23456789.123456789.123456789.123456789."
	    "123456789.123456789-12a");
	strcpy(good.peer, good.node);
	good.payload_len = RDV_PAYLOAD_MAX;
	n = rdv_build(buf, sizeof(buf), &good, key);
	assert_int_equal(n, 1276);
	parse_ok(buf, (size_t)n, &m);
	assert_int_equal(m.payload_len, RDV_PAYLOAD_MAX);

	/* rdv_peek: the method and class from the header */
	for (i = 0; i < TU_ARRAY_LEN(vectors); i++) {
		struct rdv_msg w;
		size_t len = vector_bytes(i, buf, sizeof(buf));

		vectors[i].want(&w);
		assert_int_equal(rdv_peek(buf, len, &method, &cls), 0);
		assert_int_equal(method, w.method);
		assert_int_equal(cls, w.cls);
	}
	n = stun_build_binding(buf, sizeof(buf), tid1, 0, 1);
	assert_int_equal(rdv_peek(buf, (size_t)n, &method, &cls), -1);
	assert_int_equal(rdv_peek(buf, 19, &method, &cls), -1);
}

/* An error's reason, escaped; a long one cut. */
static void
test_error_reason(void **state)
{
	struct tu_msgb mb;
	struct rdv_msg m;
	uint8_t v[300];

	(void)state;
	memset(v, 0, sizeof(v));
	v[2] = 4;
	v[3] = 29;
	memcpy(v + 4, "bad\n\xff\\", 6);
	tu_mb_init(&mb, 0x03f0, tid1);
	tu_mb_str(&mb, 0x4e40, "home");
	mb_u64(&mb, 0xce40, TS);
	tu_mb_attr(&mb, 0x0009, v, 10);
	mb_end(&mb);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.error_code, 429);
	assert_string_equal(m.error_reason, "bad\\x0a\\xff\\x5c");
	memset(v + 4, 'z', 290);
	tu_mb_init(&mb, 0x03f0, tid1);
	tu_mb_str(&mb, 0x4e40, "home");
	mb_u64(&mb, 0xce40, TS);
	tu_mb_attr(&mb, 0x0009, v, 294);
	mb_end(&mb);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(strlen(m.error_reason), sizeof(m.error_reason) - 1);
}

static void
test_fresh(void **state)
{
	const uint64_t now = TS;

	(void)state;
	assert_true(rdv_fresh(now, now));
	assert_true(rdv_fresh(now - 29000, now));
	assert_true(rdv_fresh(now + 29000, now));
	assert_true(rdv_fresh(now - 30000, now));
	assert_true(rdv_fresh(now + 30000, now));
	assert_false(rdv_fresh(now - 30001, now));
	assert_false(rdv_fresh(now + 30001, now));
	assert_false(rdv_fresh(now - 31000, now));
	assert_false(rdv_fresh(now + 31000, now));
	/* no wrap-around at either end */
	assert_false(rdv_fresh(0, 31000));
	assert_true(rdv_fresh(0, 29000));
	assert_false(rdv_fresh(UINT64_MAX, 0));
	assert_false(rdv_fresh(0, UINT64_MAX));
	assert_true(rdv_fresh(UINT64_MAX, UINT64_MAX - 1000));
}

/* ---- the replay cache ---- */

static void
tid_of(uint8_t tid[STUN_TID_LEN], uint32_t n)
{
	memset(tid, 0x5a, STUN_TID_LEN);
	tid[0] = (uint8_t)(n >> 24);
	tid[1] = (uint8_t)(n >> 16);
	tid[2] = (uint8_t)(n >> 8);
	tid[3] = (uint8_t)n;
}

static void
test_replay_basic(void **state)
{
	struct rdv_replay *r;
	uint8_t t[STUN_TID_LEN];
	uint64_t now = TS;

	(void)state;
	assert_null(rdv_replay_new(0));
	assert_null(rdv_replay_new((size_t)RDV_REPLAY_MAX + 1));
	r = rdv_replay_new(100);
	assert_non_null(r);
	tid_of(t, 1);
	assert_int_equal(rdv_replay_check(r, 0, t, now, now), RDV_REPLAY_NEW);
	/* the same again, later, with another timestamp even: seen */
	assert_int_equal(rdv_replay_check(r, 0, t, now, now + 1),
	    RDV_REPLAY_SEEN);
	assert_int_equal(rdv_replay_check(r, 0, t, now + 20000, now + 20000),
	    RDV_REPLAY_SEEN);
	/* the same ID in another network is another message */
	assert_int_equal(rdv_replay_check(r, 1, t, now, now), RDV_REPLAY_NEW);
	/* stale: 31 s either way */
	tid_of(t, 2);
	assert_int_equal(rdv_replay_check(r, 0, t, now - 31000, now),
	    RDV_REPLAY_STALE);
	assert_int_equal(rdv_replay_check(r, 0, t, now + 31000, now),
	    RDV_REPLAY_STALE);
	assert_int_equal(rdv_replay_check(r, 0, t, now - 29000, now),
	    RDV_REPLAY_NEW);
	assert_int_equal(rdv_replay_count(r), 3);
	/* still seen at the end of the window, fresh timestamp and all */
	tid_of(t, 1);
	assert_int_equal(rdv_replay_check(r, 0, t,
	    now + RDV_REPLAY_WINDOW_MS, now + RDV_REPLAY_WINDOW_MS),
	    RDV_REPLAY_SEEN);
	/* after the window (fake clock): forgotten, taken again */
	now += RDV_REPLAY_WINDOW_MS + 1;
	assert_int_equal(rdv_replay_check(r, 0, t, now, now), RDV_REPLAY_NEW);
	assert_int_equal(rdv_replay_count(r), 1);
	assert_int_equal(rdv_replay_check(r, 0, t, now, now), RDV_REPLAY_SEEN);
	rdv_replay_free(r);
	rdv_replay_free(NULL);
}

/*
 * Any message taken is one that could come back: a replay of it, at any
 * time its TIMESTAMP is still fresh, must never be taken.  Checked by
 * brute force against a log of everything taken.
 */
static void
replay_never_through(size_t cap, uint32_t nmsg, uint64_t step_ms,
    int spread)
{
	struct rdv_replay *r;
	struct { uint32_t n, net; uint64_t ts; } *taken;
	uint8_t t[STUN_TID_LEN];
	uint64_t now = TS, seed = 0x9e3779b97f4a7c15ULL;
	uint32_t i, j, ntaken = 0, flood = 0;
	enum rdv_replay_verdict v;

	taken = calloc(nmsg, sizeof(*taken));
	assert_non_null(taken);
	r = rdv_replay_new(cap);
	assert_non_null(r);
	for (i = 0; i < nmsg; i++) {
		uint64_t ts = now;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		if (spread)	/* clocks up to 30 s off either way */
			ts = now - 30000 + seed % 60001;
		tid_of(t, i);
		v = rdv_replay_check(r, i % 3, t, ts, now);
		assert_true(v == RDV_REPLAY_NEW || v == RDV_REPLAY_FLOOD);
		if (v == RDV_REPLAY_NEW) {
			taken[ntaken].n = i;
			taken[ntaken].net = i % 3;
			taken[ntaken].ts = ts;
			ntaken++;
		} else
			flood++;
		assert_true(rdv_replay_count(r) <= cap);
		/* now and then, replay everything taken so far */
		if (i % 97 == 0 || i + 1 == nmsg)
			for (j = 0; j < ntaken; j++) {
				tid_of(t, taken[j].n);
				v = rdv_replay_check(r, taken[j].net, t,
				    taken[j].ts, now);
				if (v == RDV_REPLAY_NEW)
					fail_msg("cap %zu: message %u taken "
					    "twice (at %u)", cap, taken[j].n,
					    i);
			}
		now += step_ms;
	}
	print_message("# cap %zu, %u messages %llu ms apart%s: %u taken, "
	    "%u refused as a flood\n", cap, nmsg, (unsigned long long)step_ms,
	    spread ? ", clocks spread" : "", ntaken, flood);
	assert_true(ntaken >= cap);
	rdv_replay_free(r);
	free(taken);
}

static void
test_replay_flood(void **state)
{
	(void)state;
	/* a flood: 2000 in 20 s into 64 places */
	replay_never_through(64, 2000, 10, 0);
	replay_never_through(64, 2000, 10, 1);
	/* a steady rate the cache holds: nothing refused */
	replay_never_through(1000, 3000, 100, 0);
	/* at the edge: cap just under a window's worth */
	replay_never_through(600, 3000, 100, 1);
}

/*
 * A flood refuses older timestamps for a while, then, a window after
 * the last entry it dropped was seen, the horizon goes and all is as
 * before.
 */
static void
test_replay_after_flood(void **state)
{
	struct rdv_replay *r;
	uint8_t t[STUN_TID_LEN];
	uint64_t now = TS;
	uint32_t i;

	(void)state;
	r = rdv_replay_new(8);
	assert_non_null(r);
	for (i = 0; i < 9; i++) {
		tid_of(t, i);
		assert_int_equal(rdv_replay_check(r, 0, t, now + i, now),
		    RDV_REPLAY_NEW);
	}
	/* message 0 was dropped early: it, and any as old, is refused */
	tid_of(t, 0);
	assert_int_equal(rdv_replay_check(r, 0, t, now, now),
	    RDV_REPLAY_FLOOD);
	tid_of(t, 100);
	assert_int_equal(rdv_replay_check(r, 0, t, now, now + 10),
	    RDV_REPLAY_FLOOD);
	assert_int_equal(rdv_replay_check(r, 0, t, now - 5000, now + 10),
	    RDV_REPLAY_FLOOD);
	/* a newer timestamp is taken */
	assert_int_equal(rdv_replay_check(r, 0, t, now + 1, now + 10),
	    RDV_REPLAY_NEW);
	/* a window later, old timestamps (fresh again) are taken */
	now += RDV_REPLAY_WINDOW_MS + 1;
	tid_of(t, 200);
	assert_int_equal(rdv_replay_check(r, 0, t, now - 20000, now),
	    RDV_REPLAY_NEW);
	rdv_replay_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_vectors, setup_keys),
		TU_FILE_TEST(test_seed_files, "rdv/register-req.bin"),
		cmocka_unit_test_setup(test_roundtrip, setup_keys),
		cmocka_unit_test_setup(test_build_refuses, setup_keys),
		cmocka_unit_test_setup(test_turn_attrs, setup_keys),
		cmocka_unit_test_setup(test_flip_every_byte, setup_keys),
		cmocka_unit_test_setup(test_truncated_and_lengths, setup_keys),
		cmocka_unit_test_setup(test_names, setup_keys),
		cmocka_unit_test_setup(test_candidates, setup_keys),
		cmocka_unit_test_setup(test_mac_and_fingerprint, setup_keys),
		cmocka_unit_test_setup(test_attributes, setup_keys),
		cmocka_unit_test_setup(test_methods, setup_keys),
		cmocka_unit_test_setup(test_signal, setup_keys),
		cmocka_unit_test_setup(test_error_reason, setup_keys),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_replay_basic),
		cmocka_unit_test(test_replay_flood),
		cmocka_unit_test(test_replay_after_flood),
	};

	return TU_RUN("rdv-msg", tests);
}
