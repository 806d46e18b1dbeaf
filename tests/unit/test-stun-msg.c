/* SPDX-License-Identifier: ISC */
/* Unit tests of stun-msg.c: RFC 5769 vectors, coturn's answers, by hand. */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "stun-msg.h"

#define COTURN	"coturn/"

/* "a.b.c.d:port" or "[v6]:port" */
static void
assert_no_sa(const struct sockaddr_storage *ss)
{
	static const struct sockaddr_storage zero;

	assert_memory_equal(ss, &zero, sizeof(zero));
}

/* The parser, through testutil.h's exact-size copy. */
static int
parse_fn(const uint8_t *buf, size_t len, void *out, const char **err)
{
	return stun_parse(buf, len, out, err);
}

static int
parse_n(const uint8_t *buf, size_t len, struct stun_msg *m, const char **err)
{
	return tu_parse_exact(parse_fn, buf, len, m, sizeof(*m), err);
}

static void
parse_ok(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	tu_parse_ok(parse_fn, buf, len, m, sizeof(*m));
}

static void
parse_fails(const uint8_t *buf, size_t len, const char *why)
{
	tu_parse_fails(parse_fn, buf, len, sizeof(struct stun_msg), why);
}

/* frame_len on an exact-size heap copy */
static int
frame_n(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len == 0 ? 1 : len);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	rc = stun_frame_len(copy, len);
	free(copy);
	return rc;
}

/* ---- a message built by hand, attribute by attribute ---- */

/* An attribute, zero-padded to 4 bytes; the header's length follows. */
/* An address attribute, XORed as the XOR-* attributes are if xor. */
static void
mb_addr(struct tu_msgb *mb, uint16_t type, const char *ip, uint16_t port,
    int xor)
{
	uint8_t v[20];
	size_t alen, i;

	memset(v, 0, sizeof(v));
	if (inet_pton(AF_INET, ip, v + 4) == 1) {
		v[1] = 1;
		alen = 4;
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, v + 4), 1);
		v[1] = 2;
		alen = 16;
	}
	v[2] = (uint8_t)(port >> 8);
	v[3] = (uint8_t)port;
	/* port ^ the cookie's top half, address ^ header bytes 4.. */
	if (xor) {
		v[2] ^= mb->b[4];
		v[3] ^= mb->b[5];
		for (i = 0; i < alen; i++)
			v[4 + i] ^= mb->b[4 + i];
	}
	tu_mb_attr(mb, type, v, 4 + alen);
}

static void
mb_error(struct tu_msgb *mb, int code, const char *reason)
{
	uint8_t v[256];
	size_t rlen = strlen(reason);

	assert_true(rlen <= sizeof(v) - 4);
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rlen);
	tu_mb_attr(mb, STUN_A_ERROR_CODE, v, 4 + rlen);
}

/* ---- RFC 5769 ---- */

static const uint8_t rfc_tid[STUN_TID_LEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
};

/* 2.1: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MI, FINGERPRINT */
static const uint8_t rfc_request[] = {
	0x00, 0x01, 0x00, 0x58,		/* Binding request, length 88 */
	0x21, 0x12, 0xa4, 0x42,		/* magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,		/* transaction ID */
	0x80, 0x22, 0x00, 0x10,		/* SOFTWARE, 16 bytes */
	'S', 'T', 'U', 'N', ' ', 't', 'e', 's', 't', ' ',
	'c', 'l', 'i', 'e', 'n', 't',
	0x00, 0x24, 0x00, 0x04,		/* PRIORITY */
	0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08,		/* ICE-CONTROLLED */
	0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09,		/* USERNAME "evtj:h6vY", space-padded */
	'e', 'v', 't', 'j', ':', 'h', '6', 'v', 'Y', ' ', ' ', ' ',
	0x00, 0x08, 0x00, 0x14,		/* MESSAGE-INTEGRITY */
	0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
	0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04,		/* FINGERPRINT */
	0xe5, 0x7a, 0x3b, 0xcf,
};

/* 2.2: SOFTWARE, XOR-MAPPED-ADDRESS 192.0.2.1:32853, MI, FINGERPRINT */
static const uint8_t rfc_ipv4[] = {
	0x01, 0x01, 0x00, 0x3c,		/* Binding success, length 60 */
	0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b,		/* SOFTWARE "test vector" */
	't', 'e', 's', 't', ' ', 'v', 'e', 'c', 't', 'o', 'r', ' ',
	0x00, 0x20, 0x00, 0x08,		/* XOR-MAPPED-ADDRESS */
	0x00, 0x01, 0xa1, 0x47,		/* IPv4, port 32853 ^ 0x2112 */
	0xe1, 0x12, 0xa6, 0x43,		/* 192.0.2.1 ^ the cookie */
	0x00, 0x08, 0x00, 0x14,		/* MESSAGE-INTEGRITY */
	0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53,
	0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04,		/* FINGERPRINT */
	0xc0, 0x7d, 0x4c, 0x96,
};

/* 2.3: as 2.2 with [2001:db8:1234:5678:11:2233:4455:6677]:32853 */
static const uint8_t rfc_ipv6[] = {
	0x01, 0x01, 0x00, 0x48,		/* Binding success, length 72 */
	0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b,		/* SOFTWARE "test vector" */
	't', 'e', 's', 't', ' ', 'v', 'e', 'c', 't', 'o', 'r', ' ',
	0x00, 0x20, 0x00, 0x14,		/* XOR-MAPPED-ADDRESS */
	0x00, 0x02, 0xa1, 0x47,		/* IPv6, port 32853 ^ 0x2112 */
	0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
	0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, /* ^ cookie, ID */
	0x00, 0x08, 0x00, 0x14,		/* MESSAGE-INTEGRITY */
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
	0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04,		/* FINGERPRINT */
	0xc8, 0xfb, 0x0b, 0x4c,
};

/* 2.4: USERNAME, NONCE, REALM, MESSAGE-INTEGRITY, no FINGERPRINT */
static const uint8_t rfc_long_term[] = {
	0x00, 0x01, 0x00, 0x60,		/* Binding request, length 96 */
	0x21, 0x12, 0xa4, 0x42,
	0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0,
	0x29, 0xda, 0x41, 0x2e,
	0x00, 0x06, 0x00, 0x12,		/* USERNAME, 18 bytes of UTF-8 */
	0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa,
	0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9,
	0x00, 0x00,
	0x00, 0x15, 0x00, 0x1c,		/* NONCE, 28 bytes */
	'f', '/', '/', '4', '9', '9', 'k', '9', '5', '4', 'd', '6', 'O', 'L',
	'3', '4', 'o', 'L', '9', 'F', 'S', 'T', 'v', 'y', '6', '4', 's', 'A',
	0x00, 0x14, 0x00, 0x0b,		/* REALM "example.org", padded */
	'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g', 0x00,
	0x00, 0x08, 0x00, 0x14,		/* MESSAGE-INTEGRITY */
	0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e,
	0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2,
	0x8c, 0xa8, 0x96, 0x66,
};

static const struct {
	const char	*file;
	const uint8_t	*bytes;
	size_t		 len;
} rfc_vectors[] = {
#define V(name, a)	{ "rfc5769/" name, a, sizeof(a) }
	V("sample-request.bin", rfc_request),
	V("ipv4-response.bin", rfc_ipv4),
	V("ipv6-response.bin", rfc_ipv6),
	V("long-term-request.bin", rfc_long_term),
#undef V
};

static void
test_crc32(void **state)
{
	(void)state;
	/* the CRC-32/ISO-HDLC check value */
	assert_int_equal(stun_crc32((const uint8_t *)"123456789", 9),
	    0xcbf43926);
	assert_int_equal(stun_crc32((const uint8_t *)"", 0), 0);
	assert_int_equal(stun_crc32((const uint8_t *)"a", 1), 0xe8b7be43);
	/* RFC 5769 2.2: the FINGERPRINT's value, before and after the XOR */
	assert_int_equal(stun_crc32(rfc_ipv4, sizeof(rfc_ipv4) - 8) ^
	    0x5354554e, 0xc07d4c96);
}

static void
test_rfc_request(void **state)
{
	struct stun_msg m;

	(void)state;
	parse_ok(rfc_request, sizeof(rfc_request), &m);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_memory_equal(m.tid, rfc_tid, STUN_TID_LEN);
	assert_string_equal(m.software, "STUN test client");
	assert_true(m.has_integrity);
	assert_true(m.has_fingerprint);
	/* PRIORITY (ICE) is comprehension-required and not natmapd's */
	assert_int_equal(m.n_unknown, 1);
	assert_int_equal(m.unknown[0], 0x0024);
	assert_int_equal(m.error_code, 0);
	assert_string_equal(m.error_reason, "");
	assert_no_sa(&m.xor_mapped);
	assert_no_sa(&m.mapped);
	assert_no_sa(&m.origin);
	assert_no_sa(&m.other);
	assert_no_sa(&m.alternate);
	assert_null(stun_msg_mapped(&m));
}

static void
test_rfc_ipv4(void **state)
{
	struct stun_msg m;

	(void)state;
	parse_ok(rfc_ipv4, sizeof(rfc_ipv4), &m);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_memory_equal(m.tid, rfc_tid, STUN_TID_LEN);
	assert_string_equal(m.software, "test vector");
	assert_true(m.has_integrity);
	assert_true(m.has_fingerprint);
	assert_int_equal(m.n_unknown, 0);
	tu_assert_sa(&m.xor_mapped, "192.0.2.1:32853");
	assert_no_sa(&m.mapped);
	assert_no_sa(&m.origin);
	assert_no_sa(&m.other);
	assert_ptr_equal(stun_msg_mapped(&m), &m.xor_mapped);
}

static void
test_rfc_ipv6(void **state)
{
	struct stun_msg m;
	struct sockaddr_in6 sin6;

	(void)state;
	parse_ok(rfc_ipv6, sizeof(rfc_ipv6), &m);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_memory_equal(m.tid, rfc_tid, STUN_TID_LEN);
	assert_string_equal(m.software, "test vector");
	assert_true(m.has_integrity);
	assert_true(m.has_fingerprint);
	tu_assert_sa(&m.xor_mapped,
	    "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
	memcpy(&sin6, &m.xor_mapped, sizeof(sin6));
	assert_int_equal(sin6.sin6_scope_id, 0);
	assert_int_equal(sin6.sin6_flowinfo, 0);
	assert_ptr_equal(stun_msg_mapped(&m), &m.xor_mapped);
}

static void
test_rfc_long_term(void **state)
{
	static const uint8_t tid[STUN_TID_LEN] = {
		0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0,
		0x29, 0xda, 0x41, 0x2e,
	};
	struct stun_msg m;

	(void)state;
	parse_ok(rfc_long_term, sizeof(rfc_long_term), &m);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_true(m.has_integrity);
	assert_false(m.has_fingerprint);
	assert_string_equal(m.software, "");
	/* NONCE and REALM: natmapd has no credentials to answer them with */
	assert_int_equal(m.n_unknown, 2);
	assert_int_equal(m.unknown[0], 0x0015);
	assert_int_equal(m.unknown[1], 0x0014);
	assert_null(stun_msg_mapped(&m));
}

/* tests/data/rfc5769 holds the same bytes, as fuzz seeds */
static void
test_rfc_files(void **state)
{
	size_t i, len;
	char *buf;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(rfc_vectors); i++) {
		buf = tu_read(rfc_vectors[i].file, &len);
		if (len != rfc_vectors[i].len ||
		    memcmp(buf, rfc_vectors[i].bytes, len) != 0)
			fail_msg("tests/data/%s differs from the test's bytes",
			    rfc_vectors[i].file);
		free(buf);
	}
}

/* Where the attributes of a well-formed message start, walked apart. */
static int
is_boundary(const uint8_t *b, size_t len, size_t at)
{
	size_t off = STUN_HDR_LEN;

	while (off < len) {
		if (off == at)
			return 1;
		off += 4 + (((size_t)(b[off + 2] << 8 | b[off + 3]) + 3) &
		    ~(size_t)3);
	}
	return off == at;
}

/*
 * Cut short, each vector is refused: the datagram no longer matches
 * the length field.  With the length field set to the cut, it parses
 * when the cut falls between two attributes, and is refused when it
 * falls within one.
 */
static void
test_rfc_truncated(void **state)
{
	uint8_t buf[256];
	struct stun_msg m;
	size_t i, l;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(rfc_vectors); i++) {
		const uint8_t *v = rfc_vectors[i].bytes;
		size_t len = rfc_vectors[i].len;

		for (l = 0; l < len; l++) {
			parse_fails(v, l, l < STUN_HDR_LEN ?
			    "STUN message shorter than 20 bytes" :
			    "STUN length does not match the datagram");
			assert_int_equal(frame_n(v, l),
			    l < STUN_HDR_LEN ? 0 : (int)len);
		}
		for (l = STUN_HDR_LEN; l < len; l += 4) {
			memcpy(buf, v, l);
			buf[2] = (uint8_t)((l - STUN_HDR_LEN) >> 8);
			buf[3] = (uint8_t)(l - STUN_HDR_LEN);
			if (is_boundary(v, len, l)) {
				parse_ok(buf, l, &m);
				assert_memory_equal(m.tid, v + 8,
				    STUN_TID_LEN);
				assert_false(m.has_fingerprint);
			} else
				parse_fails(buf, l,
				    "STUN attribute runs past the end");
		}
	}
}

static void
test_bad_fingerprint(void **state)
{
	uint8_t buf[256];
	struct stun_msg m;
	size_t i, len, bit;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(rfc_vectors); i++) {
		len = rfc_vectors[i].len;
		memcpy(buf, rfc_vectors[i].bytes, len);
		if (!is_boundary(buf, len, len - 8) ||
		    buf[len - 8] != 0x80 || buf[len - 7] != 0x28)
			continue;	/* 2.4 has no FINGERPRINT */
		/* any bit of the value, or of what it covers */
		for (bit = 0; bit < 32; bit++) {
			buf[len - 4 + bit / 8] ^= (uint8_t)(1 << bit % 8);
			parse_fails(buf, len, "bad FINGERPRINT");
			buf[len - 4 + bit / 8] ^= (uint8_t)(1 << bit % 8);
		}
		buf[9] ^= 0x01;		/* the transaction ID */
		parse_fails(buf, len, "bad FINGERPRINT");
		buf[9] ^= 0x01;
		buf[25] ^= 0x20;	/* SOFTWARE's text */
		parse_fails(buf, len, "bad FINGERPRINT");
		buf[25] ^= 0x20;
		buf[1] ^= 0x10;		/* the class */
		parse_fails(buf, len, "bad FINGERPRINT");
		buf[1] ^= 0x10;
		buf[len - 12] ^= 0xff;	/* MESSAGE-INTEGRITY */
		parse_fails(buf, len, "bad FINGERPRINT");
		buf[len - 12] ^= 0xff;
		parse_ok(buf, len, &m);
		assert_true(m.has_fingerprint);
	}
}

/* ---- what coturn sends: built by hand as coturn 4.6 lays it out ---- */

static void
test_coturn_layout(void **state)
{
	struct tu_msgb mb;
	struct stun_msg m;

	(void)state;
	tu_mb_init(&mb, 0x0101, "natmapd-tid1");
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "198.51.100.20", 40000, 1);
	mb_addr(&mb, STUN_A_MAPPED_ADDRESS, "198.51.100.20", 40000, 0);
	mb_addr(&mb, STUN_A_RESPONSE_ORIGIN, "203.0.113.3", 3478, 0);
	mb_addr(&mb, STUN_A_OTHER_ADDRESS, "203.0.113.4", 3479, 0);
	tu_mb_str(&mb, STUN_A_SOFTWARE, "Coturn-4.6.1 'Gorst'");
	tu_mb_fingerprint(&mb);
	assert_int_equal(mb.len, 100);
	assert_int_equal(frame_n(mb.b, mb.len), 100);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_memory_equal(m.tid, "natmapd-tid1", STUN_TID_LEN);
	tu_assert_sa(&m.xor_mapped, "198.51.100.20:40000");
	tu_assert_sa(&m.mapped, "198.51.100.20:40000");
	tu_assert_sa(&m.origin, "203.0.113.3:3478");
	tu_assert_sa(&m.other, "203.0.113.4:3479");
	assert_no_sa(&m.alternate);
	assert_string_equal(m.software, "Coturn-4.6.1 'Gorst'");
	assert_true(m.has_fingerprint);
	assert_false(m.has_integrity);
	assert_int_equal(m.n_unknown, 0);
	assert_int_equal(m.error_code, 0);
	assert_ptr_equal(stun_msg_mapped(&m), &m.xor_mapped);

	/* IPv6 all through */
	tu_mb_init(&mb, 0x0101, "natmapd-tid2");
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "2001:db8::20", 40001, 1);
	mb_addr(&mb, STUN_A_MAPPED_ADDRESS, "2001:db8::20", 40001, 0);
	mb_addr(&mb, STUN_A_RESPONSE_ORIGIN, "2001:db8:1::3", 3478, 0);
	mb_addr(&mb, STUN_A_OTHER_ADDRESS, "2001:db8:1::4", 3479, 0);
	tu_mb_fingerprint(&mb);
	parse_ok(mb.b, mb.len, &m);
	tu_assert_sa(&m.xor_mapped, "[2001:db8::20]:40001");
	tu_assert_sa(&m.mapped, "[2001:db8::20]:40001");
	tu_assert_sa(&m.origin, "[2001:db8:1::3]:3478");
	tu_assert_sa(&m.other, "[2001:db8:1::4]:3479");
	assert_string_equal(m.software, "");
}

/* RFC 3489 servers: MAPPED, SOURCE and CHANGED-ADDRESS (with the cookie). */
static void
test_legacy(void **state)
{
	struct tu_msgb mb;
	struct stun_msg m;

	(void)state;
	tu_mb_init(&mb, 0x0101, "natmapd-old1");
	mb_addr(&mb, STUN_A_MAPPED_ADDRESS, "198.51.100.20", 1024, 0);
	mb_addr(&mb, STUN_A_SOURCE_ADDRESS, "203.0.113.3", 3478, 0);
	mb_addr(&mb, STUN_A_CHANGED_ADDRESS, "203.0.113.4", 3479, 0);
	parse_ok(mb.b, mb.len, &m);
	assert_no_sa(&m.xor_mapped);
	tu_assert_sa(&m.mapped, "198.51.100.20:1024");
	assert_ptr_equal(stun_msg_mapped(&m), &m.mapped);
	tu_assert_sa(&m.origin, "203.0.113.3:3478");
	tu_assert_sa(&m.other, "203.0.113.4:3479");
	assert_int_equal(m.n_unknown, 0);

	/* the RFC 5780 attributes win, before or after the old ones */
	tu_mb_init(&mb, 0x0101, "natmapd-old2");
	mb_addr(&mb, STUN_A_SOURCE_ADDRESS, "192.0.2.1", 1, 0);
	mb_addr(&mb, STUN_A_CHANGED_ADDRESS, "192.0.2.2", 2, 0);
	mb_addr(&mb, STUN_A_RESPONSE_ORIGIN, "203.0.113.3", 3478, 0);
	mb_addr(&mb, STUN_A_OTHER_ADDRESS, "203.0.113.4", 3479, 0);
	mb_addr(&mb, STUN_A_SOURCE_ADDRESS, "192.0.2.3", 3, 0);
	mb_addr(&mb, STUN_A_CHANGED_ADDRESS, "192.0.2.4", 4, 0);
	parse_ok(mb.b, mb.len, &m);
	tu_assert_sa(&m.origin, "203.0.113.3:3478");
	tu_assert_sa(&m.other, "203.0.113.4:3479");
	assert_null(stun_msg_mapped(&m));
}

/* ---- errors and redirections ---- */

static void
test_error_420(void **state)
{
	static const uint8_t unknown[] = { 0x7f, 0x01, 0x00, 0x02 };
	struct tu_msgb mb;
	struct stun_msg m;

	(void)state;
	tu_mb_init(&mb, 0x0111, "natmapd-err1");
	mb_error(&mb, 420, "Unknown Attribute");
	tu_mb_attr(&mb, STUN_A_UNKNOWN_ATTRIBUTES, unknown, sizeof(unknown));
	tu_mb_attr(&mb, 0x7ff0, "xyz", 3);	/* comprehension-required */
	tu_mb_attr(&mb, 0xc001, "opt", 3);	/* comprehension-optional */
	tu_mb_str(&mb, STUN_A_SOFTWARE, "natmapd test");
	tu_mb_fingerprint(&mb);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(m.error_code, 420);
	assert_string_equal(m.error_reason, "Unknown Attribute");
	assert_int_equal(m.n_unknown, 1);
	assert_int_equal(m.unknown[0], 0x7ff0);
	assert_int_equal(m.unknown[1], 0);
	assert_string_equal(m.software, "natmapd test");
	assert_true(m.has_fingerprint);
	assert_null(stun_msg_mapped(&m));
}

static void
test_error_codes(void **state)
{
	static const int good[] = { 300, 399, 400, 401, 420, 438, 500, 599,
	    600, 699 };
	static const struct { uint8_t cls, num; } bad[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 0 }, { 2, 99 }, { 7, 0 }, { 3, 100 },
		{ 4, 255 }, { 6, 100 },
	};
	struct tu_msgb mb;
	struct stun_msg m;
	uint8_t v[4];
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(good); i++) {
		tu_mb_init(&mb, 0x0111, "natmapd-err2");
		mb_error(&mb, good[i], "");
		parse_ok(mb.b, mb.len, &m);
		assert_int_equal(m.error_code, good[i]);
		assert_string_equal(m.error_reason, "");
	}
	for (i = 0; i < TU_ARRAY_LEN(bad); i++) {
		v[0] = v[1] = 0;
		v[2] = bad[i].cls;
		v[3] = bad[i].num;
		tu_mb_init(&mb, 0x0111, "natmapd-err3");
		tu_mb_attr(&mb, STUN_A_ERROR_CODE, v, 4);
		parse_fails(mb.b, mb.len, "ERROR-CODE not in 300-699");
	}
	/* the 21 reserved bits are ignored */
	v[0] = 0xff;
	v[1] = 0xff;
	v[2] = 0xfc;
	v[3] = 1;
	tu_mb_init(&mb, 0x0111, "natmapd-err4");
	tu_mb_attr(&mb, STUN_A_ERROR_CODE, v, 4);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.error_code, 401);
	for (i = 0; i < 4; i++) {
		tu_mb_init(&mb, 0x0111, "natmapd-err5");
		tu_mb_attr(&mb, STUN_A_ERROR_CODE, "\0\0\4\24", i);
		parse_fails(mb.b, mb.len, "ERROR-CODE shorter than 4 bytes");
	}
}

/*
 * Text off the wire: printable ASCII kept, anything else (and the
 * backslash) as \xNN, cut to fit without splitting an escape, NULs at
 * the end (coturn counts them) dropped.
 */
static void
test_text_escaped(void **state)
{
	char longs[600], want[128];
	struct tu_msgb mb;
	struct stun_msg m;

	(void)state;
	tu_mb_init(&mb, 0x0111, "natmapd-txt1");
	mb_error(&mb, 500, "Server\tError \xe2\x80\x94 \\ \x7f\x01");
	tu_mb_attr(&mb, STUN_A_SOFTWARE, "soft\0ware\0\0\0", 12);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.error_code, 500);
	assert_string_equal(m.error_reason,
	    "Server\\x09Error \\xe2\\x80\\x94 \\x5c \\x7f\\x01");
	assert_string_equal(m.software, "soft\\x00ware");

	/* cut to 127 characters */
	memset(longs, 'x', sizeof(longs));
	longs[sizeof(longs) - 1] = '\0';
	tu_mb_init(&mb, 0x0101, "natmapd-txt2");
	tu_mb_str(&mb, STUN_A_SOFTWARE, longs);
	parse_ok(mb.b, mb.len, &m);
	memset(want, 'x', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	assert_string_equal(m.software, want);

	/* an escape that would not fit is left out whole */
	memset(longs, 'y', 125);
	longs[125] = '\x80';
	longs[126] = '\0';
	tu_mb_init(&mb, 0x0111, "natmapd-txt3");
	mb_error(&mb, 400, longs);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(strlen(m.error_reason), 125);
	assert_int_equal(strspn(m.error_reason, "y"), 125);
}

static void
test_alternate_server(void **state)
{
	struct tu_msgb mb;
	struct stun_msg m;

	(void)state;
	tu_mb_init(&mb, 0x0111, "natmapd-alt1");
	mb_error(&mb, 300, "Try Alternate");
	mb_addr(&mb, STUN_A_ALTERNATE_SERVER, "198.51.100.7", 3479, 0);
	tu_mb_fingerprint(&mb);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(m.error_code, 300);
	assert_string_equal(m.error_reason, "Try Alternate");
	tu_assert_sa(&m.alternate, "198.51.100.7:3479");
	assert_null(stun_msg_mapped(&m));

	tu_mb_init(&mb, 0x0111, "natmapd-alt2");
	mb_error(&mb, 300, "Try Alternate");
	mb_addr(&mb, STUN_A_ALTERNATE_SERVER, "2001:db8::7", 3478, 0);
	parse_ok(mb.b, mb.len, &m);
	tu_assert_sa(&m.alternate, "[2001:db8::7]:3478");
	assert_false(m.has_fingerprint);
}

/* ---- malformed messages ---- */

static const uint16_t addr_types[] = {
	STUN_A_XOR_MAPPED_ADDRESS, STUN_A_MAPPED_ADDRESS,
	STUN_A_RESPONSE_ORIGIN, STUN_A_SOURCE_ADDRESS, STUN_A_OTHER_ADDRESS,
	STUN_A_CHANGED_ADDRESS, STUN_A_ALTERNATE_SERVER,
};

static void
test_bad_family(void **state)
{
	static const uint8_t fams[] = { 0, 3, 4, 6, 10, 0x81, 0xff };
	struct tu_msgb mb;
	uint8_t v[20];
	size_t i, j;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(addr_types); i++)
		for (j = 0; j < TU_ARRAY_LEN(fams); j++) {
			memset(v, 0, sizeof(v));
			v[1] = fams[j];
			tu_mb_init(&mb, 0x0101, "natmapd-fam1");
			tu_mb_attr(&mb, addr_types[i], v, 8);
			parse_fails(mb.b, mb.len,
			    "STUN address family not IPv4 or IPv6");
			tu_mb_init(&mb, 0x0101, "natmapd-fam2");
			tu_mb_attr(&mb, addr_types[i], v, 20);
			parse_fails(mb.b, mb.len,
			    "STUN address family not IPv4 or IPv6");
		}
	/* the reserved byte before the family is ignored */
	memset(v, 0, sizeof(v));
	v[0] = 0xff;
	v[1] = 1;
	tu_mb_init(&mb, 0x0101, "natmapd-fam3");
	tu_mb_attr(&mb, STUN_A_MAPPED_ADDRESS, v, 8);
	{
		struct stun_msg m;

		parse_ok(mb.b, mb.len, &m);
		tu_assert_sa(&m.mapped, "0.0.0.0:0");
	}
}

static void
test_bad_address_length(void **state)
{
	static const struct { uint8_t fam; size_t len; } bad[] = {
		{ 1, 0 }, { 1, 2 }, { 1, 4 }, { 1, 5 }, { 1, 7 }, { 1, 9 },
		{ 1, 12 }, { 1, 20 }, { 2, 0 }, { 2, 4 }, { 2, 8 }, { 2, 16 },
		{ 2, 19 }, { 2, 21 }, { 2, 24 },
	};
	struct tu_msgb mb;
	uint8_t v[32];
	size_t i, j;

	(void)state;
	memset(v, 0, sizeof(v));
	for (i = 0; i < TU_ARRAY_LEN(addr_types); i++)
		for (j = 0; j < TU_ARRAY_LEN(bad); j++) {
			v[1] = bad[j].fam;
			tu_mb_init(&mb, 0x0101, "natmapd-len1");
			tu_mb_attr(&mb, addr_types[i], v, bad[j].len);
			parse_fails(mb.b, mb.len,
			    "STUN address attribute of the wrong length");
		}
}

static void
test_attr_past_end(void **state)
{
	struct tu_msgb mb;
	size_t l;

	(void)state;
	/* an attribute claiming more than is left, padding included */
	for (l = 1; l < 40; l++) {
		tu_mb_init(&mb, 0x0101, "natmapd-end1");
		tu_mb_str(&mb, STUN_A_SOFTWARE, "abcdefgh");
		mb.b[22] = 0;
		mb.b[23] = (uint8_t)(8 + l);
		parse_fails(mb.b, mb.len, "STUN attribute runs past the end");
	}
	/* the padding of the last attribute missing */
	tu_mb_init(&mb, 0x0101, "natmapd-end2");
	tu_mb_str(&mb, STUN_A_SOFTWARE, "abcde");
	mb.len -= 4;
	tu_mb_len(&mb, 0);
	parse_fails(mb.b, mb.len, "STUN attribute runs past the end");
	/* 65535 bytes */
	tu_mb_init(&mb, 0x0101, "natmapd-end3");
	tu_mb_str(&mb, 0x8000, "abcd");
	mb.b[22] = mb.b[23] = 0xff;
	parse_fails(mb.b, mb.len, "STUN attribute runs past the end");
	/* an empty attribute is fine, as is a message of the header alone */
	{
		struct stun_msg m;

		tu_mb_init(&mb, 0x0101, "natmapd-end4");
		parse_ok(mb.b, mb.len, &m);
		tu_mb_attr(&mb, STUN_A_SOFTWARE, "", 0);
		tu_mb_attr(&mb, 0x8123, "", 0);
		parse_ok(mb.b, mb.len, &m);
		assert_int_equal(mb.len, 28);
	}
}

static void
test_header(void **state)
{
	uint8_t buf[STUN_MAX_MSG + 8];
	struct tu_msgb mb;
	struct stun_msg m;
	size_t i, l;

	(void)state;
	tu_mb_init(&mb, 0x0101, "natmapd-hdr1");
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "192.0.2.1", 1, 1);
	parse_ok(mb.b, mb.len, &m);

	/* no magic cookie: any bit of it */
	for (i = 0; i < 32; i++) {
		mb.b[4 + i / 8] ^= (uint8_t)(1 << i % 8);
		parse_fails(mb.b, mb.len, "not STUN: no magic cookie");
		assert_int_equal(frame_n(mb.b, mb.len), -1);
		mb.b[4 + i / 8] ^= (uint8_t)(1 << i % 8);
	}
	/* the top two bits */
	for (i = 0x40; i <= 0xc0; i += 0x40) {
		mb.b[0] |= (uint8_t)i;
		parse_fails(mb.b, mb.len, "not STUN: first two bits not 0");
		assert_int_equal(frame_n(mb.b, mb.len), -1);
		mb.b[0] &= 0x3f;
	}
	/* the length field: not a multiple of 4, or not the datagram's */
	for (l = 1; l < 4; l++) {
		mb.b[3] = (uint8_t)(12 + l);
		parse_fails(mb.b, mb.len, "STUN length not a multiple of 4");
		assert_int_equal(frame_n(mb.b, mb.len), -1);
		mb.b[3] = (uint8_t)(12 - l);
		parse_fails(mb.b, mb.len, "STUN length not a multiple of 4");
	}
	mb.b[3] = 16;
	parse_fails(mb.b, mb.len, "STUN length does not match the datagram");
	mb.b[3] = 8;
	parse_fails(mb.b, mb.len, "STUN length does not match the datagram");
	mb.b[3] = 12;
	/* more bytes than the length says: not one message */
	memcpy(buf, mb.b, mb.len);
	memset(buf + mb.len, 0, 4);
	parse_fails(buf, mb.len + 4,
	    "STUN length does not match the datagram");
	parse_ok(buf, mb.len, &m);

	/* at most 1500 bytes */
	tu_mb_init(&mb, 0x0101, "natmapd-hdr2");
	memset(buf, 'p', sizeof(buf));
	tu_mb_attr(&mb, 0x8026, buf, STUN_MAX_MSG - STUN_HDR_LEN - 4);
	assert_int_equal(mb.len, STUN_MAX_MSG);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(frame_n(mb.b, mb.len), STUN_MAX_MSG);
	tu_mb_init(&mb, 0x0101, "natmapd-hdr3");
	tu_mb_attr(&mb, 0x8026, buf, STUN_MAX_MSG - STUN_HDR_LEN);
	assert_int_equal(mb.len, STUN_MAX_MSG + 4);
	parse_fails(mb.b, mb.len, "STUN message longer than 1500 bytes");
	assert_int_equal(frame_n(mb.b, mb.len), -1);
	/* a length field saying so on a short datagram */
	parse_fails(mb.b, STUN_MAX_MSG, "STUN message longer than 1500 bytes");
	assert_int_equal(frame_n(mb.b, STUN_HDR_LEN), -1);
}

/* Every method and class decodes from the interleaved type bits. */
static void
test_method_class(void **state)
{
	static const struct { uint16_t type, method; uint8_t cls; } t[] = {
		{ 0x0001, 0x001, STUN_REQUEST },
		{ 0x0011, 0x001, STUN_INDICATION },
		{ 0x0101, 0x001, STUN_SUCCESS },
		{ 0x0111, 0x001, STUN_ERROR },
		{ 0x0003, 0x003, STUN_REQUEST },	/* TURN Allocate */
		{ 0x0113, 0x003, STUN_ERROR },
		{ 0x0016, 0x006, STUN_INDICATION },	/* TURN Send */
		{ 0x3eef, 0xfff, STUN_REQUEST },
		{ 0x3fff, 0xfff, STUN_ERROR },
		{ 0x0000, 0x000, STUN_REQUEST },
		{ 0x0020, 0x010, STUN_REQUEST },
		{ 0x0200, 0x080, STUN_REQUEST },
		{ 0x2000, 0x800, STUN_REQUEST },
	};
	struct tu_msgb mb;
	struct stun_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		tu_mb_init(&mb, t[i].type, "natmapd-typ1");
		parse_ok(mb.b, mb.len, &m);
		assert_int_equal(m.method, t[i].method);
		assert_int_equal(m.cls, t[i].cls);
	}
}

/* RFC 8489 14: the first of duplicate attributes is the one taken. */
static void
test_duplicates(void **state)
{
	struct tu_msgb mb;
	struct stun_msg m;
	uint8_t v[8];

	(void)state;
	tu_mb_init(&mb, 0x0111, "natmapd-dup1");
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "192.0.2.1", 1, 1);
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "192.0.2.2", 2, 1);
	mb_addr(&mb, STUN_A_MAPPED_ADDRESS, "192.0.2.3", 3, 0);
	mb_addr(&mb, STUN_A_MAPPED_ADDRESS, "192.0.2.4", 4, 0);
	mb_addr(&mb, STUN_A_ALTERNATE_SERVER, "192.0.2.5", 5, 0);
	mb_addr(&mb, STUN_A_ALTERNATE_SERVER, "192.0.2.6", 6, 0);
	mb_addr(&mb, STUN_A_RESPONSE_ORIGIN, "192.0.2.7", 7, 0);
	mb_addr(&mb, STUN_A_RESPONSE_ORIGIN, "192.0.2.8", 8, 0);
	mb_addr(&mb, STUN_A_OTHER_ADDRESS, "192.0.2.9", 9, 0);
	mb_addr(&mb, STUN_A_OTHER_ADDRESS, "192.0.2.10", 10, 0);
	mb_error(&mb, 401, "first");
	mb_error(&mb, 438, "second");
	tu_mb_str(&mb, STUN_A_SOFTWARE, "");
	tu_mb_str(&mb, STUN_A_SOFTWARE, "second");
	tu_mb_fingerprint(&mb);
	parse_ok(mb.b, mb.len, &m);
	tu_assert_sa(&m.xor_mapped, "192.0.2.1:1");
	tu_assert_sa(&m.mapped, "192.0.2.3:3");
	tu_assert_sa(&m.alternate, "192.0.2.5:5");
	tu_assert_sa(&m.origin, "192.0.2.7:7");
	tu_assert_sa(&m.other, "192.0.2.9:9");
	assert_int_equal(m.error_code, 401);
	assert_string_equal(m.error_reason, "first");
	assert_string_equal(m.software, "");

	/* a second one is still checked */
	memset(v, 0, sizeof(v));
	v[1] = 3;
	tu_mb_init(&mb, 0x0101, "natmapd-dup2");
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "192.0.2.1", 1, 1);
	tu_mb_attr(&mb, STUN_A_XOR_MAPPED_ADDRESS, v, 8);
	parse_fails(mb.b, mb.len, "STUN address family not IPv4 or IPv6");
	v[2] = 7;
	tu_mb_init(&mb, 0x0111, "natmapd-dup3");
	mb_error(&mb, 401, "first");
	tu_mb_attr(&mb, STUN_A_ERROR_CODE, v, 4);
	parse_fails(mb.b, mb.len, "ERROR-CODE not in 300-699");
}

/* RFC 8489 14.5, 14.6: after the MAC, only FINGERPRINT is read. */
static void
test_integrity(void **state)
{
	static const uint8_t mac[32];
	uint8_t bad[8];
	struct tu_msgb mb;
	struct stun_msg m;
	size_t l;

	(void)state;
	memset(bad, 0, sizeof(bad));
	bad[1] = 9;	/* no such family */
	tu_mb_init(&mb, 0x0101, "natmapd-mi01");
	mb_addr(&mb, STUN_A_MAPPED_ADDRESS, "192.0.2.1", 1, 0);
	tu_mb_attr(&mb, STUN_A_MESSAGE_INTEGRITY, mac, 20);
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "192.0.2.2", 2, 1);
	tu_mb_attr(&mb, STUN_A_XOR_MAPPED_ADDRESS, bad, 8);
	tu_mb_attr(&mb, 0x7001, "zz", 2);
	tu_mb_attr(&mb, 0x001c, mac, 32);	/* MESSAGE-INTEGRITY-SHA256 */
	mb_error(&mb, 999, "bad");
	tu_mb_attr(&mb, STUN_A_MESSAGE_INTEGRITY, mac, 3);
	tu_mb_fingerprint(&mb);
	parse_ok(mb.b, mb.len, &m);
	assert_true(m.has_integrity);
	assert_true(m.has_fingerprint);
	tu_assert_sa(&m.mapped, "192.0.2.1:1");
	assert_no_sa(&m.xor_mapped);
	assert_int_equal(m.n_unknown, 0);
	assert_int_equal(m.error_code, 0);
	assert_ptr_equal(stun_msg_mapped(&m), &m.mapped);

	/* MESSAGE-INTEGRITY-SHA256 alone, 16 to 32 bytes */
	for (l = 16; l <= 32; l += 4) {
		tu_mb_init(&mb, 0x0101, "natmapd-mi02");
		tu_mb_attr(&mb, 0x001c, mac, l);
		tu_mb_attr(&mb, 0x7001, "zz", 2);
		parse_ok(mb.b, mb.len, &m);
		assert_true(m.has_integrity);
		assert_int_equal(m.n_unknown, 0);
	}
	/* lengths */
	for (l = 0; l < 32; l++) {
		if (l == 20)
			continue;
		tu_mb_init(&mb, 0x0101, "natmapd-mi03");
		tu_mb_attr(&mb, STUN_A_MESSAGE_INTEGRITY, mac, l);
		parse_fails(mb.b, mb.len, "MESSAGE-INTEGRITY length not 20");
	}
	for (l = 0; l < 32; l++) {
		if (l >= 16 && l % 4 == 0)
			continue;
		tu_mb_init(&mb, 0x0101, "natmapd-mi04");
		tu_mb_attr(&mb, 0x001c, mac, l);
		parse_fails(mb.b, mb.len,
		    "MESSAGE-INTEGRITY-SHA256 length not 16-32");
	}
	tu_mb_init(&mb, 0x0101, "natmapd-mi05");
	tu_mb_attr(&mb, 0x001c, mac, 32);
	tu_mb_attr(&mb, 0x001c, mac, 32);	/* ignored: after the first */
	parse_ok(mb.b, mb.len, &m);
	{
		uint8_t big[36];

		memset(big, 0, sizeof(big));
		tu_mb_init(&mb, 0x0101, "natmapd-mi06");
		tu_mb_attr(&mb, 0x001c, big, 36);
		parse_fails(mb.b, mb.len,
		    "MESSAGE-INTEGRITY-SHA256 length not 16-32");
	}
	/* still walked: an attribute running past the end is refused */
	tu_mb_init(&mb, 0x0101, "natmapd-mi07");
	tu_mb_attr(&mb, STUN_A_MESSAGE_INTEGRITY, mac, 20);
	tu_mb_attr(&mb, 0x7001, "zz", 2);
	mb.b[mb.len - 5] = 9;	/* its length: 9, past the end */
	parse_fails(mb.b, mb.len, "STUN attribute runs past the end");
}

static void
test_after_fingerprint(void **state)
{
	struct tu_msgb mb;
	size_t l;

	(void)state;
	tu_mb_init(&mb, 0x0101, "natmapd-fp01");
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "192.0.2.1", 1, 1);
	tu_mb_fingerprint(&mb);
	tu_mb_str(&mb, STUN_A_SOFTWARE, "late");
	parse_fails(mb.b, mb.len, "attribute after FINGERPRINT");
	/* two of them */
	tu_mb_init(&mb, 0x0101, "natmapd-fp02");
	tu_mb_fingerprint(&mb);
	tu_mb_fingerprint(&mb);
	parse_fails(mb.b, mb.len, "attribute after FINGERPRINT");
	/* after the MAC too */
	tu_mb_init(&mb, 0x0101, "natmapd-fp03");
	tu_mb_attr(&mb, STUN_A_MESSAGE_INTEGRITY, "01234567890123456789", 20);
	tu_mb_fingerprint(&mb);
	tu_mb_attr(&mb, STUN_A_MESSAGE_INTEGRITY, "01234567890123456789", 20);
	parse_fails(mb.b, mb.len, "attribute after FINGERPRINT");
	/* its length */
	for (l = 0; l < 12; l++) {
		if (l == 4)
			continue;
		tu_mb_init(&mb, 0x0101, "natmapd-fp04");
		tu_mb_attr(&mb, STUN_A_FINGERPRINT,
		    "\0\0\0\0\0\0\0\0\0\0\0\0", l);
		parse_fails(mb.b, mb.len, "FINGERPRINT length not 4");
	}
	/* a FINGERPRINT counting on a length field without itself */
	tu_mb_init(&mb, 0x0101, "natmapd-fp05");
	mb_addr(&mb, STUN_A_XOR_MAPPED_ADDRESS, "192.0.2.1", 1, 1);
	{
		uint32_t crc = stun_crc32(mb.b, mb.len) ^ 0x5354554e;
		uint8_t v[4];

		v[0] = (uint8_t)(crc >> 24);
		v[1] = (uint8_t)(crc >> 16);
		v[2] = (uint8_t)(crc >> 8);
		v[3] = (uint8_t)crc;
		tu_mb_attr(&mb, STUN_A_FINGERPRINT, v, 4);
	}
	parse_fails(mb.b, mb.len, "bad FINGERPRINT");
}

static void
test_unknown(void **state)
{
	struct tu_msgb mb;
	struct stun_msg m;
	uint16_t t;
	int i;

	(void)state;
	/* more than STUN_MAX_UNKNOWN: the first ones, the count capped */
	tu_mb_init(&mb, 0x0101, "natmapd-unk1");
	for (t = 0x7f00; t < 0x7f0c; t++) {
		tu_mb_attr(&mb, t, "", 0);
		tu_mb_attr(&mb, 0x7f00, "again", 5);	/* noted once */
		tu_mb_attr(&mb, (uint16_t)(t | 0x8000), "opt", 3);
	}
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.n_unknown, STUN_MAX_UNKNOWN);
	for (i = 0; i < STUN_MAX_UNKNOWN; i++)
		assert_int_equal(m.unknown[i], 0x7f00 + i);

	/* those natmapd knows are not unknown, those it sends neither */
	tu_mb_init(&mb, 0x0101, "natmapd-unk2");
	tu_mb_attr(&mb, STUN_A_USERNAME, "user", 4);
	tu_mb_attr(&mb, STUN_A_UNKNOWN_ATTRIBUTES, "\x7f\x01", 2);
	tu_mb_attr(&mb, STUN_A_CHANGE_REQUEST, "\0\0\0\6", 4);
	tu_mb_attr(&mb, 0x0002, "\0\1\0\1\1\2\3\4", 8); /* RESPONSE-ADDRESS */
	tu_mb_attr(&mb, 0x0000, "", 0);
	tu_mb_attr(&mb, 0x7fff, "", 0);
	tu_mb_attr(&mb, 0x8000, "", 0);
	tu_mb_attr(&mb, 0xffff, "", 0);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.n_unknown, 3);
	assert_int_equal(m.unknown[0], 0x0002);
	assert_int_equal(m.unknown[1], 0x0000);
	assert_int_equal(m.unknown[2], 0x7fff);

	tu_mb_init(&mb, 0x0001, "natmapd-unk3");
	tu_mb_attr(&mb, STUN_A_CHANGE_REQUEST, "\0\0\6", 3);
	parse_fails(mb.b, mb.len, "CHANGE-REQUEST length not 4");
}

/* ---- requests ---- */

static const uint8_t tid1[STUN_TID_LEN] = "natmapd-stn1";

/* RESPONSE-PORT (RFC 5780 7.5): the port, 16 bits of padding; before FINGERPRINT. */
static void
test_build_response_port(void **state)
{
	static const uint8_t want[] = {
		0x00, 0x01, 0x00, 0x18,		/* length 24 */
		0x21, 0x12, 0xa4, 0x42,
		'n', 'a', 't', 'm', 'a', 'p', 'd', '-', 's', 't', 'n', '1',
		0x00, 0x03, 0x00, 0x04,		/* CHANGE-REQUEST */
		0x00, 0x00, 0x00, 0x02,		/* change port */
		0x00, 0x27, 0x00, 0x04,		/* RESPONSE-PORT */
		0xa1, 0x47, 0x00, 0x00,		/* 41287, padding */
		0x80, 0x28, 0x00, 0x04,		/* FINGERPRINT */
	};
	uint8_t buf[64];
	struct stun_msg m;
	size_t l;

	(void)state;
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1,
	    STUN_CHANGE_PORT, 41287, 1), 44);
	assert_memory_equal(buf, want, sizeof(want));
	/* It parses, FINGERPRINT right; RESPONSE-PORT is no answer's business. */
	parse_ok(buf, 44, &m);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_true(m.has_fingerprint);
	/* ... a server's business: both attributes are read */
	assert_true(m.has_change);
	assert_int_equal(m.change, STUN_CHANGE_PORT);
	assert_int_equal(m.response_port, 41287);
	/* Without the port it is stun_build_binding's request. */
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1, 0, 0, 0),
	    20);
	for (l = 0; l < 44; l++)
		assert_int_equal(stun_build_request(buf, l, tid1,
		    STUN_CHANGE_PORT, 41287, 1), -1);
}

/* A request's CHANGE-REQUEST and RESPONSE-PORT, as a server reads them. */
static void
test_parse_change(void **state)
{
	uint8_t buf[64];
	struct stun_msg m;

	(void)state;
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1,
	    STUN_CHANGE_IP | STUN_CHANGE_PORT, 0, 0), 28);
	parse_ok(buf, 28, &m);
	assert_true(m.has_change);
	assert_int_equal(m.change, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	assert_int_equal(m.response_port, 0);
	/* no attribute: nothing */
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1, 0, 0, 1),
	    28);
	parse_ok(buf, 28, &m);
	assert_false(m.has_change);
	assert_int_equal(m.change, 0);
	/* bits other than A and B mean nothing */
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1,
	    STUN_CHANGE_IP, 0, 0), 28);
	buf[27] = 0xff;
	buf[24] = 0x80;
	parse_ok(buf, 28, &m);
	assert_int_equal(m.change, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	/* of two CHANGE-REQUESTs the first counts */
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1,
	    STUN_CHANGE_PORT, 0, 0), 28);
	memcpy(buf + 28, buf + 20, 8);
	buf[35] = STUN_CHANGE_IP;
	buf[3] = 16;
	parse_ok(buf, 36, &m);
	assert_int_equal(m.change, STUN_CHANGE_PORT);
	/* wrong lengths, port 0 */
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1,
	    STUN_CHANGE_PORT, 0, 0), 28);
	buf[23] = 8;
	buf[3] = 12;
	memset(buf + 28, 0, 4);
	parse_fails(buf, 32, "CHANGE-REQUEST length not 4");
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1, 0, 9, 0),
	    28);
	buf[24] = buf[25] = 0;
	parse_fails(buf, 28, "RESPONSE-PORT 0");
	assert_int_equal(stun_build_request(buf, sizeof(buf), tid1, 0, 9, 0),
	    28);
	buf[23] = 8;
	buf[3] = 12;
	memset(buf + 28, 0, 4);
	parse_fails(buf, 32, "RESPONSE-PORT length not 4");
}

/*
 * A server's answer, against RFC 5769 2.2 and 2.3: the same ID, address
 * and SOFTWARE give the vectors' XOR-MAPPED-ADDRESS bytes exactly (the
 * vectors' MESSAGE-INTEGRITY is not built here), and parse back to the
 * same addresses.
 */
static void
test_build_success_rfc5769(void **state)
{
	struct sockaddr_storage v4 = tu_sa("192.0.2.1", 32853);
	struct sockaddr_storage v6 =
	    tu_sa("2001:db8:1234:5678:11:2233:4455:6677", 32853);
	struct stun_answer_spec a;
	struct stun_msg m;
	uint8_t buf[256];
	int n;
	size_t l;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.method = STUN_BINDING;
	a.tid = rfc_tid;
	a.mapped = &v4;
	a.software = "test vector";
	n = stun_build_success(buf, sizeof(buf), &a);
	/* header, XOR-MAPPED-ADDRESS (12), SOFTWARE (4 + 12) */
	assert_int_equal(n, 20 + 12 + 16);
	assert_memory_equal(buf, "\x01\x01\x00\x1c\x21\x12\xa4\x42", 8);
	assert_memory_equal(buf + 8, rfc_tid, STUN_TID_LEN);
	/* rfc_ipv4: SOFTWARE at 20, XOR-MAPPED-ADDRESS at 36 */
	assert_memory_equal(buf + 20, rfc_ipv4 + 36, 12);
	/* SOFTWARE's header and text; the vector pads with a space, we with 0 */
	assert_memory_equal(buf + 32, rfc_ipv4 + 20, 4 + 11);
	assert_int_equal(buf[32 + 15], 0);
	parse_ok(buf, (size_t)n, &m);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_int_equal(m.method, STUN_BINDING);
	assert_memory_equal(m.tid, rfc_tid, STUN_TID_LEN);
	tu_assert_sa(&m.xor_mapped, "192.0.2.1:32853");
	assert_string_equal(m.software, "test vector");
	assert_false(m.has_fingerprint);
	assert_no_sa(&m.mapped);
	assert_no_sa(&m.origin);
	assert_no_sa(&m.other);

	a.mapped = &v6;
	n = stun_build_success(buf, sizeof(buf), &a);
	assert_int_equal(n, 20 + 24 + 16);
	assert_memory_equal(buf + 20, rfc_ipv6 + 36, 24);
	parse_ok(buf, (size_t)n, &m);
	tu_assert_sa(&m.xor_mapped,
	    "[2001:db8:1234:5678:11:2233:4455:6677]:32853");

	/* every room too small is refused */
	for (l = 0; l < (size_t)n; l++)
		assert_int_equal(stun_build_success(buf, l, &a), -1);
}

/* All the attributes of an RFC 5780 answer, FINGERPRINT right. */
static void
test_build_success_rfc5780(void **state)
{
	struct sockaddr_storage peer = tu_sa("198.51.100.7", 40000);
	struct sockaddr_storage origin = tu_sa("203.0.113.31", 3480);
	struct sockaddr_storage other = tu_sa("203.0.113.31", 3481);
	struct sockaddr_storage bad;
	struct stun_answer_spec a;
	struct stun_msg m;
	uint8_t buf[256];
	int n;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.method = STUN_BINDING;
	a.tid = tid1;
	a.mapped = &peer;
	a.legacy_mapped = 1;
	a.origin = &origin;
	a.other = &other;
	a.software = "x";
	a.fingerprint = 1;
	n = stun_build_success(buf, sizeof(buf), &a);
	assert_int_equal(n, 20 + 4 * 12 + 8 + 8);
	assert_int_equal(stun_frame_len(buf, (size_t)n), n);
	parse_ok(buf, (size_t)n, &m);
	assert_int_equal(m.cls, STUN_SUCCESS);
	tu_assert_sa(&m.xor_mapped, "198.51.100.7:40000");
	tu_assert_sa(&m.mapped, "198.51.100.7:40000");
	tu_assert_sa(&m.origin, "203.0.113.31:3480");
	tu_assert_sa(&m.other, "203.0.113.31:3481");
	assert_string_equal(m.software, "x");
	assert_true(m.has_fingerprint);
	/* MAPPED-ADDRESS is not XORed: the port in clear */
	assert_int_equal(buf[32 + 6], 40000 >> 8);
	assert_int_equal(buf[32 + 7], 40000 & 0xff);
	/* one bit changed: the FINGERPRINT no longer holds */
	buf[31] ^= 1;	/* the mapped address's last byte */
	parse_fails(buf, (size_t)n, "bad FINGERPRINT");

	/* an address of no family is refused */
	memset(&bad, 0, sizeof(bad));
	a.other = &bad;
	assert_int_equal(stun_build_success(buf, sizeof(buf), &a), -1);
	a.other = NULL;
	a.mapped = &bad;
	assert_int_equal(stun_build_success(buf, sizeof(buf), &a), -1);
	a.mapped = NULL;
	assert_int_equal(stun_build_success(buf, sizeof(buf), &a), -1);
}

static void
test_build_error(void **state)
{
	static const uint16_t unknown[2] = { 0x0024, 0x0003 };
	struct stun_msg m;
	uint8_t buf[256];
	int n;
	size_t l;

	(void)state;
	n = stun_build_error(buf, sizeof(buf), STUN_BINDING, tid1, 420,
	    "Unknown Attribute", unknown, 2, "sw", 1);
	/* ERROR-CODE 4 + 24, UNKNOWN-ATTRIBUTES 4 + 4, SOFTWARE 4 + 4, FINGERPRINT 8 */
	assert_int_equal(n, 20 + 28 + 8 + 8 + 8);
	assert_memory_equal(buf, "\x01\x11", 2);
	assert_memory_equal(buf + 20, "\x00\x09\x00\x15\x00\x00\x04\x14"
	    "Unknown Attribute\0\0\0", 28);
	assert_memory_equal(buf + 48, "\x00\x0a\x00\x04\x00\x24\x00\x03", 8);
	parse_ok(buf, (size_t)n, &m);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.error_code, 420);
	assert_string_equal(m.error_reason, "Unknown Attribute");
	assert_string_equal(m.software, "sw");
	assert_true(m.has_fingerprint);
	for (l = 0; l < (size_t)n; l++)
		assert_int_equal(stun_build_error(buf, l, STUN_BINDING, tid1,
		    420, "Unknown Attribute", unknown, 2, "sw", 1), -1);
	/* an odd count is padded; no reason, no SOFTWARE */
	n = stun_build_error(buf, sizeof(buf), STUN_BINDING, tid1, 400, NULL,
	    unknown, 1, NULL, 0);
	assert_int_equal(n, 20 + 8 + 8);
	assert_memory_equal(buf + 28, "\x00\x0a\x00\x02\x00\x24\x00\x00", 8);
	parse_ok(buf, (size_t)n, &m);
	assert_int_equal(m.error_code, 400);
	assert_string_equal(m.error_reason, "");
	/* codes out of range, too many unknowns */
	assert_int_equal(stun_build_error(buf, sizeof(buf), STUN_BINDING, tid1,
	    299, NULL, NULL, 0, NULL, 0), -1);
	assert_int_equal(stun_build_error(buf, sizeof(buf), STUN_BINDING, tid1,
	    700, NULL, NULL, 0, NULL, 0), -1);
	assert_int_equal(stun_build_error(buf, sizeof(buf), STUN_BINDING, tid1,
	    420, NULL, NULL, 1, NULL, 0), -1);
	assert_int_equal(stun_build_error(buf, sizeof(buf), STUN_BINDING, tid1,
	    420, NULL, unknown, STUN_MAX_UNKNOWN + 1, NULL, 0), -1);
	/* 699 and 300 are the edges */
	n = stun_build_error(buf, sizeof(buf), STUN_BINDING, tid1, 699, NULL,
	    NULL, 0, NULL, 0);
	parse_ok(buf, (size_t)n, &m);
	assert_int_equal(m.error_code, 699);
}

static void
test_build_binding(void **state)
{
	static const uint8_t plain[] = {
		0x00, 0x01, 0x00, 0x00,		/* Binding request, length 0 */
		0x21, 0x12, 0xa4, 0x42,
		'n', 'a', 't', 'm', 'a', 'p', 'd', '-', 's', 't', 'n', '1',
	};
	static const uint8_t change_hdr[] = {
		0x00, 0x01, 0x00, 0x10,		/* length 16 */
		0x21, 0x12, 0xa4, 0x42,
		'n', 'a', 't', 'm', 'a', 'p', 'd', '-', 's', 't', 'n', '1',
		0x00, 0x03, 0x00, 0x04,		/* CHANGE-REQUEST */
		0x00, 0x00, 0x00, 0x06,		/* change IP and port */
		0x80, 0x28, 0x00, 0x04,		/* FINGERPRINT */
	};
	static const struct {
		uint8_t	change;
		int	fingerprint;
		int	len;
	} t[] = {
		{ 0, 0, 20 }, { 0, 1, 28 },
		{ STUN_CHANGE_IP, 0, 28 }, { STUN_CHANGE_PORT, 0, 28 },
		{ STUN_CHANGE_IP | STUN_CHANGE_PORT, 0, 28 },
		{ STUN_CHANGE_PORT, 1, 36 },
		{ STUN_CHANGE_IP | STUN_CHANGE_PORT, 1, 36 },
	};
	uint8_t buf[64];
	struct stun_msg m;
	size_t i, l;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(stun_build_binding(buf, sizeof(buf), tid1, 0, 0), 20);
	assert_memory_equal(buf, plain, sizeof(plain));
	assert_int_equal(buf[20], 0xee);	/* nothing written past it */

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(stun_build_binding(buf, sizeof(buf), tid1,
	    STUN_CHANGE_IP | STUN_CHANGE_PORT, 1), 36);
	assert_memory_equal(buf, change_hdr, sizeof(change_hdr));
	/* CRC-32 of the first 28 bytes ^ 0x5354554e, worked out apart */
	assert_memory_equal(buf + 32, "\xe2\x41\xac\xf0", 4);
	assert_int_equal(buf[36], 0xee);

	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(stun_build_binding(buf, sizeof(buf), tid1,
		    t[i].change, t[i].fingerprint), t[i].len);
		assert_int_equal(buf[t[i].len], 0xee);
		assert_int_equal(buf[3], t[i].len - STUN_HDR_LEN);
		assert_int_equal(frame_n(buf, (size_t)t[i].len), t[i].len);
		parse_ok(buf, (size_t)t[i].len, &m);
		assert_int_equal(m.method, STUN_BINDING);
		assert_int_equal(m.cls, STUN_REQUEST);
		assert_memory_equal(m.tid, tid1, STUN_TID_LEN);
		assert_int_equal(m.has_fingerprint, t[i].fingerprint);
		assert_int_equal(m.n_unknown, 0);
		if (t[i].change != 0) {
			assert_memory_equal(buf + 20, "\x00\x03\x00\x04", 4);
			assert_memory_equal(buf + 24, "\0\0\0", 3);
			assert_int_equal(buf[27], t[i].change);
		} else if (t[i].len > 20)
			assert_memory_equal(buf + 20, "\x80\x28\x00\x04", 4);
		/* too small: -1, and for every length short of it */
		for (l = 0; l < (size_t)t[i].len; l++) {
			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(stun_build_binding(buf, l, tid1,
			    t[i].change, t[i].fingerprint), -1);
		}
		assert_int_equal(stun_build_binding(buf, (size_t)t[i].len,
		    tid1, t[i].change, t[i].fingerprint), t[i].len);
	}
}

/* ---- TCP framing ---- */

static void
test_frame_len(void **state)
{
	uint8_t two[128];
	struct stun_msg m;
	int n1, n2;
	size_t l;

	(void)state;
	/* short: wait for more */
	for (l = 0; l < STUN_HDR_LEN; l++)
		assert_int_equal(frame_n(rfc_ipv4, l), 0);
	assert_int_equal(frame_n(rfc_ipv4, STUN_HDR_LEN), sizeof(rfc_ipv4));
	assert_int_equal(frame_n(rfc_ipv4, sizeof(rfc_ipv4)),
	    sizeof(rfc_ipv4));
	assert_int_equal(frame_n(rfc_request, sizeof(rfc_request)),
	    sizeof(rfc_request));
	/* not STUN: HTTP, TLS, a ChannelData message */
	assert_int_equal(frame_n((const uint8_t *)
	    "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), -1);
	{
		uint8_t b[24];

		memset(b, 0, sizeof(b));
		b[0] = 0x16;	/* TLS handshake */
		b[1] = 0x03;
		b[2] = 0x01;
		assert_int_equal(frame_n(b, sizeof(b)), -1);
		memset(b, 0, sizeof(b));
		b[0] = 0x40;	/* ChannelData 0x4000 */
		assert_int_equal(frame_n(b, sizeof(b)), -1);
	}
	/* two messages back to back, then the start of a third */
	n1 = stun_build_binding(two, sizeof(two), tid1, STUN_CHANGE_PORT, 1);
	assert_int_equal(n1, 36);
	memcpy(two + n1, rfc_ipv6, sizeof(rfc_ipv6));
	n2 = n1 + (int)sizeof(rfc_ipv6);
	assert_int_equal(frame_n(two, (size_t)n2), n1);
	parse_ok(two, (size_t)n1, &m);
	assert_int_equal(frame_n(two + n1, (size_t)(n2 - n1)),
	    sizeof(rfc_ipv6));
	parse_ok(two + n1, (size_t)(n2 - n1), &m);
	tu_assert_sa(&m.xor_mapped,
	    "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
	assert_int_equal(frame_n(two, 10), 0);
	assert_int_equal(frame_n(two + n1, 19), 0);
	/* the whole stream is not one message */
	{
		const char *err;

		assert_int_equal(parse_n(two, (size_t)n2, &m, &err), -1);
	}
}

/* ---- coturn 4.6.1's answers ---- */

static const struct coturn_case {
	const char	*file;
	const char	*tid;
	uint8_t		 change;	/* what the request asked */
	int		 fingerprint;
	uint8_t		 cls;
	int		 error_code;
	const char	*reason;
	const char	*xor_mapped, *mapped, *origin, *other;
} coturn_cases[] = {
	{ COTURN "binding-success.bin", "natmapd-stn1", 0, 0, STUN_SUCCESS, 0,
	    "", "203.0.113.10:40000", "203.0.113.10:40000",
	    "203.0.113.3:3478", "203.0.113.4:3479" },
	{ COTURN "binding-success-fingerprint.bin", "natmapd-stn2", 0, 1,
	    STUN_SUCCESS, 0, "", "203.0.113.10:40000", "203.0.113.10:40000",
	    "203.0.113.3:3478", "203.0.113.4:3479" },
	{ COTURN "change-ip-port.bin", "natmapd-stn3",
	    STUN_CHANGE_IP | STUN_CHANGE_PORT, 0, STUN_SUCCESS, 0, "",
	    "203.0.113.10:40000", "203.0.113.10:40000", "203.0.113.4:3479",
	    "203.0.113.4:3479" },
	{ COTURN "change-port.bin", "natmapd-stn4", STUN_CHANGE_PORT, 0,
	    STUN_SUCCESS, 0, "", "203.0.113.10:40000", "203.0.113.10:40000",
	    "203.0.113.3:3479", "203.0.113.4:3479" },
	/* to a request with an unknown comprehension-required attribute */
	{ COTURN "unknown-attribute.bin", "natmapd-stn5", 0, 0, STUN_ERROR,
	    420, "Unknown Attribute", NULL, NULL, NULL, NULL },
};

static void
check_sa_or_none(const struct sockaddr_storage *ss, const char *want)
{
	if (want == NULL)
		assert_no_sa(ss);
	else
		tu_assert_sa(ss, want);
}

static void
test_coturn(void **state)
{
	const struct coturn_case *c = NULL;
	struct stun_msg m;
	char *buf, req[256];
	size_t i, len, reqlen;

	for (i = 0; i < TU_ARRAY_LEN(coturn_cases); i++)
		if (strcmp(coturn_cases[i].file, *state) == 0)
			c = &coturn_cases[i];
	assert_non_null(c);
	buf = tu_read(c->file, &len);
	parse_ok((const uint8_t *)buf, len, &m);
	assert_int_equal(frame_n((const uint8_t *)buf, len), len);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, c->cls);
	assert_memory_equal(m.tid, c->tid, STUN_TID_LEN);
	assert_int_equal(m.error_code, c->error_code);
	assert_string_equal(m.error_reason, c->reason);
	assert_string_equal(m.software, "Coturn-4.6.1 'Gorst'");
	check_sa_or_none(&m.xor_mapped, c->xor_mapped);
	check_sa_or_none(&m.mapped, c->mapped);
	check_sa_or_none(&m.origin, c->origin);
	check_sa_or_none(&m.other, c->other);
	assert_no_sa(&m.alternate);
	/* coturn adds a FINGERPRINT when the request had one */
	assert_int_equal(m.has_fingerprint, c->fingerprint);
	assert_false(m.has_integrity);
	assert_int_equal(m.n_unknown, 0);
	if (c->xor_mapped != NULL)
		assert_ptr_equal(stun_msg_mapped(&m), &m.xor_mapped);
	free(buf);

	/* natmapd's request is the one coturn answered */
	{
		char rel[128];
		uint8_t built[64];
		int n;

		snprintf(rel, sizeof(rel), "%.*s.req",
		    (int)(strlen(c->file) - 4), c->file);
		buf = tu_read(rel, &reqlen);
		assert_true(reqlen <= sizeof(req));
		memcpy(req, buf, reqlen);
		free(buf);
		if (c->cls == STUN_ERROR)
			return;	/* with an attribute natmapd never sends */
		n = stun_build_binding(built, sizeof(built),
		    (const uint8_t *)c->tid, c->change, c->fingerprint);
		assert_int_equal(n, reqlen);
		assert_memory_equal(built, req, reqlen);
	}
}

/* Every capture is in the table above. */
static void
test_coturn_listed(void **state)
{
	char path[4096];
	size_t i, j, found = 0;
	glob_t g;

	(void)state;
	tu_data_path(path, sizeof(path), COTURN "*.bin");
	if (glob(path, 0, NULL, &g) != 0)
		fail_msg("%s: no file", path);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *rel = strstr(g.gl_pathv[i], COTURN);
		int known = 0;

		assert_non_null(rel);
		for (j = 0; j < TU_ARRAY_LEN(coturn_cases); j++)
			known |= strcmp(rel, coturn_cases[j].file) == 0;
		if (!known)
			fail_msg("%s is in no table of this test", rel);
		found++;
	}
	globfree(&g);
	assert_int_equal(found, TU_ARRAY_LEN(coturn_cases));
}

static void
test_null_err(void **state)
{
	struct stun_msg m;

	(void)state;
	assert_int_equal(stun_parse(rfc_ipv4, 10, &m, NULL), -1);
	assert_int_equal(stun_parse(rfc_ipv4, sizeof(rfc_ipv4) - 4, &m, NULL),
	    -1);
	assert_int_equal(stun_parse(rfc_ipv4, sizeof(rfc_ipv4), &m, NULL), 0);
}

int
main(void)
{
#define CT(f)	TU_FILE_TEST(test_coturn, COTURN f)
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_rfc_request),
		cmocka_unit_test(test_rfc_ipv4),
		cmocka_unit_test(test_rfc_ipv6),
		cmocka_unit_test(test_rfc_long_term),
		cmocka_unit_test(test_rfc_files),
		cmocka_unit_test(test_rfc_truncated),
		cmocka_unit_test(test_bad_fingerprint),
		cmocka_unit_test(test_coturn_layout),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_error_420),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_text_escaped),
		cmocka_unit_test(test_alternate_server),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_bad_address_length),
		cmocka_unit_test(test_attr_past_end),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_method_class),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_integrity),
		cmocka_unit_test(test_after_fingerprint),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_build_binding),
		cmocka_unit_test(test_build_response_port),
		cmocka_unit_test(test_parse_change),
		cmocka_unit_test(test_build_success_rfc5769),
		cmocka_unit_test(test_build_success_rfc5780),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_frame_len),
		CT("binding-success.bin"),
		CT("binding-success-fingerprint.bin"),
		CT("change-ip-port.bin"),
		CT("change-port.bin"),
		CT("unknown-attribute.bin"),
		TU_FILE_TEST(test_coturn_listed, COTURN "binding-success.bin"),
		cmocka_unit_test(test_null_err),
	};
#undef CT

	return TU_RUN("stun-msg", tests);
}
