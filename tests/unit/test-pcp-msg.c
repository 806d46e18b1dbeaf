/* SPDX-License-Identifier: ISC */
/* Unit tests of pcp-msg.c: requests, RFC vectors, miniupnpd's answers. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "driver.h"
#include "pcp-msg.h"

#define CAP	"miniupnpd-2.3.1/"

/* ::ffff:a.b.c.d */
static struct in6_addr
v4m(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	assert_int_equal(inet_pton(AF_INET, s, &a4), 1);
	pcp_addr_from_v4(&a6, a4);
	return a6;
}

static void
assert_addr(const struct in6_addr *a6, const char *want)
{
	char s[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET6, a6, s, sizeof(s)));
	assert_string_equal(s, want);
}

/* The parser, through testutil.h's exact-size copy. */
static int
parse_fn(const uint8_t *buf, size_t len, void *out, const char **err)
{
	return pcp_parse_response(buf, len, out, err);
}

static int
parse_n(const uint8_t *buf, size_t len, struct pcp_response *r, const char **err)
{
	return tu_parse_exact(parse_fn, buf, len, r, sizeof(*r), err);
}

static void
parse_ok(const uint8_t *buf, size_t len, struct pcp_response *r)
{
	tu_parse_ok(parse_fn, buf, len, r, sizeof(*r));
}

static void
parse_fails(const uint8_t *buf, size_t len, const char *why)
{
	tu_parse_fails(parse_fn, buf, len, sizeof(struct pcp_response), why);
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

/* ---- requests, byte for byte: RFC 6887 figures 2, 9; RFC 6886 3.2, 3.3 ---- */

static const uint8_t nonce1[PCP_NONCE_LEN] = "natmapd-pcp1";

static void
test_build_announce(void **state)
{
	static const uint8_t want[] = {
		0x02, 0x00, 0x00, 0x00,		/* version 2, R 0, opcode 0, reserved */
		0x00, 0x00, 0x00, 0x00,		/* requested lifetime 0 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0xff, 0xff, 0xc0, 0xa8, 0x4d, 0x0a, /* ::ffff:192.168.77.10 */
	};
	struct in6_addr client = v4m("192.168.77.10");
	uint8_t buf[64];
	size_t l;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(pcp_build_announce(buf, sizeof(buf), &client), 24);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[24], 0xee);	/* nothing written past it */
	for (l = 0; l < sizeof(want); l++)
		assert_int_equal(pcp_build_announce(buf, l, &client), -1);
	assert_int_equal(pcp_build_announce(buf, 24, &client), 24);
}

static const uint8_t map_req_want[] = {
	0x02, 0x01, 0x00, 0x00,		/* version 2, R 0, opcode 1 (MAP), reserved */
	0x00, 0x00, 0x0e, 0x10,		/* requested lifetime 3600 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xff, 0xff, 0xc0, 0xa8, 0x4d, 0x0a, /* client ::ffff:192.168.77.10 */
	'n', 'a', 't', 'm', 'a', 'p', 'd', '-', 'p', 'c', 'p', '1', /* nonce */
	0x06, 0x00, 0x00, 0x00,		/* protocol 6 (TCP), 24 reserved bits */
	0x1f, 0x90, 0x1f, 0x91,		/* internal 8080, suggested external 8081 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, /* ::ffff:0.0.0.0, any */
};

static void
map_req_init(struct pcp_map_req *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->nonce, nonce1, sizeof(m->nonce));
	m->protocol = IPPROTO_TCP;
	m->internal_port = 8080;
	m->external_port = 8081;
	m->external_addr = v4m("0.0.0.0");
}

static void
test_build_map(void **state)
{
	struct in6_addr client = v4m("192.168.77.10");
	struct pcp_map_req m;
	uint8_t buf[128];
	size_t l;

	(void)state;
	map_req_init(&m);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(pcp_build_map(buf, sizeof(buf), &client, 3600, &m),
	    60);
	assert_memory_equal(buf, map_req_want, sizeof(map_req_want));
	assert_int_equal(buf[60], 0xee);
	for (l = 0; l < 60; l++)
		assert_int_equal(pcp_build_map(buf, l, &client, 3600, &m), -1);
	assert_int_equal(pcp_build_map(buf, 60, &client, 3600, &m), 60);

	/* UDP, an IPv6 "any" address, every bit of the ports and lifetime */
	m.protocol = IPPROTO_UDP;
	m.internal_port = 0xfedc;
	m.external_port = 0x0102;
	memset(&m.external_addr, 0, sizeof(m.external_addr));
	assert_int_equal(pcp_build_map(buf, sizeof(buf), &client,
	    0xa1b2c3d4, &m), 60);
	assert_memory_equal(buf + 4, "\xa1\xb2\xc3\xd4", 4);
	assert_int_equal(buf[36], 17);
	assert_memory_equal(buf + 37, "\0\0\0", 3);
	assert_memory_equal(buf + 40, "\xfe\xdc\x01\x02", 4);
	assert_true(all_zero(buf + 44, 16));
}

static void
test_build_map_prefer_failure(void **state)
{
	struct in6_addr client = v4m("192.168.77.10");
	struct pcp_map_req m;
	uint8_t buf[128];
	size_t l;

	(void)state;
	map_req_init(&m);
	m.prefer_failure = 1;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(pcp_build_map(buf, sizeof(buf), &client, 3600, &m),
	    64);
	assert_memory_equal(buf, map_req_want, sizeof(map_req_want));
	/* RFC 6887 13.2: code 2, reserved, option length 0 */
	assert_memory_equal(buf + 60, "\x02\x00\x00\x00", 4);
	assert_int_equal(buf[64], 0xee);
	for (l = 0; l < 64; l++)
		assert_int_equal(pcp_build_map(buf, l, &client, 3600, &m), -1);
	/* delete: lifetime 0 */
	assert_int_equal(pcp_build_map(buf, 64, &client, 0, &m), 64);
	assert_true(all_zero(buf + 4, 4));
}

static void
test_build_natpmp(void **state)
{
	static const uint8_t udp[] = {
		0x00, 0x01, 0x00, 0x00,		/* version 0, opcode 1 (UDP), reserved */
		0x23, 0x8c, 0x23, 0x8d,		/* internal 9100, suggested 9101 */
		0x00, 0x00, 0x0e, 0x10,		/* requested lifetime 3600 */
	};
	static const uint8_t tcp_delete[] = {
		0x00, 0x02, 0x00, 0x00,		/* opcode 2 (TCP) */
		0x23, 0x8c, 0x00, 0x00,		/* internal 9100, external 0 */
		0x00, 0x00, 0x00, 0x00,		/* lifetime 0: delete */
	};
	uint8_t buf[32];
	size_t l;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(natpmp_build_public(buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\x00\x00\xee", 3);
	assert_int_equal(natpmp_build_public(buf, 1), -1);
	assert_int_equal(natpmp_build_public(buf, 0), -1);

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(natpmp_build_map(buf, sizeof(buf), IPPROTO_UDP,
	    9100, 9101, 3600), 12);
	assert_memory_equal(buf, udp, sizeof(udp));
	assert_int_equal(buf[12], 0xee);
	assert_int_equal(natpmp_build_map(buf, sizeof(buf), IPPROTO_TCP,
	    9100, 0, 0), 12);
	assert_memory_equal(buf, tcp_delete, sizeof(tcp_delete));
	for (l = 0; l < 12; l++)
		assert_int_equal(natpmp_build_map(buf, l, IPPROTO_UDP, 9100,
		    9101, 3600), -1);
	/* NAT-PMP maps UDP and TCP only */
	assert_int_equal(natpmp_build_map(buf, sizeof(buf), 0, 1, 1, 1), -1);
	assert_int_equal(natpmp_build_map(buf, sizeof(buf), IPPROTO_SCTP, 1,
	    1, 1), -1);
	assert_int_equal(natpmp_build_map(buf, sizeof(buf), NATPMP_OP_MAP_UDP,
	    1, 1, 1), -1);
}

/* ---- natmapd's requests are those miniupnpd answered in the captures ---- */

static const struct req_case {
	const char	*file;
	int		 kind;		/* 0 PCP ANNOUNCE, 1 PCP MAP, 2 NAT-PMP */
	const char	*client;	/* PCP client address */
	const char	*nonce;
	uint8_t		 protocol;
	uint16_t	 iport, eport;
	uint32_t	 lifetime;
	const char	*ext;		/* suggested external address */
	int		 prefer_failure;
} req_cases[] = {
	{ CAP "pcp-announce.req", 0, "192.168.77.10", NULL, 0, 0, 0, 0, NULL,
	    0 },
	{ CAP "pcp-announce-after-restart.req", 0, "192.168.77.10", NULL, 0, 0,
	    0, 0, NULL, 0 },
	{ CAP "pcp-map-tcp.req", 1, "192.168.77.10", "natmapd-pcp1",
	    IPPROTO_TCP, 8080, 8080, 3600, "0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-renew.req", 1, "192.168.77.10", "natmapd-pcp1",
	    IPPROTO_TCP, 8080, 8080, 3600, "0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-other-nonce.req", 1, "192.168.77.10",
	    "natmapd-pcp2", IPPROTO_TCP, 8080, 8080, 3600, "0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-lan2-prefer-failure.req", 1, "192.168.77.11",
	    "natmapd-lan2", IPPROTO_TCP, 8080, 8080, 3600, "0.0.0.0", 1 },
	{ CAP "pcp-map-tcp-lan2-taken.req", 1, "192.168.77.11", "natmapd-lan2",
	    IPPROTO_TCP, 8080, 8080, 3600, "0.0.0.0", 0 },
	{ CAP "pcp-map-udp-short.req", 1, "192.168.77.10", "natmapd-pcp1",
	    IPPROTO_UDP, 9000, 9000, 10, "0.0.0.0", 0 },
	/* sent from 192.168.77.10 with another client address */
	{ CAP "pcp-map-address-mismatch.req", 1, "192.168.77.11",
	    "natmapd-pcp1", IPPROTO_TCP, 8082, 8082, 3600, "0.0.0.0", 0 },
	{ CAP "pcp-map-ext-mismatch.req", 1, "192.168.77.10", "natmapd-pcp1",
	    IPPROTO_TCP, 8085, 8085, 3600, "203.0.113.77", 0 },
	{ CAP "pcp-map-tcp-delete-old-nonce.req", 1, "192.168.77.10",
	    "natmapd-pcp1", IPPROTO_TCP, 8080, 8080, 0, "0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-delete.req", 1, "192.168.77.10", "natmapd-pcp2",
	    IPPROTO_TCP, 8080, 8080, 0, "0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-delete-again.req", 1, "192.168.77.10",
	    "natmapd-pcp2", IPPROTO_TCP, 8080, 8080, 0, "0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-before-restart.req", 1, "192.168.77.10",
	    "natmapd-pcp1", IPPROTO_TCP, 8080, 8080, 3600, "0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-after-restart.req", 1, "192.168.77.10",
	    "natmapd-pcp1", IPPROTO_TCP, 8080, 8080, 3600, "0.0.0.0", 0 },
	{ CAP "natpmp-public.req", 2, NULL, NULL, 0, 0, 0, 0, NULL, 0 },
	{ CAP "natpmp-public-after-restart.req", 2, NULL, NULL, 0, 0, 0, 0,
	    NULL, 0 },
	{ CAP "natpmp-map-udp.req", 2, NULL, NULL, IPPROTO_UDP, 9100, 9100,
	    3600, NULL, 0 },
	{ CAP "natpmp-map-tcp.req", 2, NULL, NULL, IPPROTO_TCP, 9101, 9101,
	    3600, NULL, 0 },
	{ CAP "natpmp-map-udp-short.req", 2, NULL, NULL, IPPROTO_UDP, 9102,
	    9102, 10, NULL, 0 },
	{ CAP "natpmp-map-udp-delete.req", 2, NULL, NULL, IPPROTO_UDP, 9100,
	    0, 0, NULL, 0 },
};

static void
test_req_as_captured(void **state)
{
	const struct req_case *c = NULL;
	struct in6_addr client;
	struct pcp_map_req m;
	uint8_t buf[PCP_MAX_MSG];
	size_t i, len;
	char *req;
	int n;

	for (i = 0; i < TU_ARRAY_LEN(req_cases); i++)
		if (strcmp(req_cases[i].file, *state) == 0)
			c = &req_cases[i];
	assert_non_null(c);
	req = tu_read(c->file, &len);
	switch (c->kind) {
	case 0:
		client = v4m(c->client);
		n = pcp_build_announce(buf, sizeof(buf), &client);
		break;
	case 1:
		client = v4m(c->client);
		memset(&m, 0, sizeof(m));
		memcpy(m.nonce, c->nonce, PCP_NONCE_LEN);
		m.protocol = c->protocol;
		m.internal_port = c->iport;
		m.external_port = c->eport;
		m.external_addr = v4m(c->ext);
		m.prefer_failure = c->prefer_failure;
		n = pcp_build_map(buf, sizeof(buf), &client, c->lifetime, &m);
		break;
	default:
		if (c->protocol == 0)
			n = natpmp_build_public(buf, sizeof(buf));
		else
			n = natpmp_build_map(buf, sizeof(buf), c->protocol,
			    c->iport, c->eport, c->lifetime);
		break;
	}
	assert_int_equal(n, len);
	assert_memory_equal(buf, req, len);
	/* a request is never mistaken for an answer */
	{
		struct pcp_response r;
		const char *err;

		assert_int_equal(parse_n(buf, len, &r, &err), -1);
	}
	free(req);
}

/* ---- answers by hand: RFC 6887 figures 3, 10; RFC 6886 3.2, 3.3, 3.5 ---- */

static const uint8_t rfc_announce[] = {
	0x02, 0x80, 0x00, 0x00,		/* version 2, R 1, opcode 0, reserved, SUCCESS */
	0x00, 0x00, 0x00, 0x00,		/* lifetime 0 */
	0x00, 0x00, 0x12, 0x34,		/* epoch time 4660 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,		/* 96 reserved bits */
};

#define RFC_MAP_HEAD \
	0x02, 0x81, 0x00, 0x00,		/* version 2, R 1, opcode 1, SUCCESS */ \
	0x00, 0x00, 0x1c, 0x20,		/* lifetime 7200 */ \
	0x00, 0x01, 0x51, 0x80,		/* epoch time 86400 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, \
	0x00, 0x00, 0x00, 0x00,		/* 96 reserved bits */ \
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, \
	0x09, 0x0a, 0x0b, 0x0c,		/* mapping nonce */ \
	0x11, 0x00, 0x00, 0x00,		/* protocol 17 (UDP), reserved */ \
	0x30, 0x39, 0xd4, 0x31,		/* internal 12345, assigned 54321 */ \
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, \
	0x00, 0x00, 0xff, 0xff, 0xcb, 0x00, 0x71, 0x07	/* ::ffff:203.0.113.7 */

static const uint8_t rfc_map[] = { RFC_MAP_HEAD };

static const uint8_t rfc_map_options[] = {
	RFC_MAP_HEAD,
	/* THIRD_PARTY (RFC 6887 13.1): code 1, reserved, length 16, address */
	0x01, 0x00, 0x00, 0x10,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x0a,
	/* PREFER_FAILURE (13.2): code 2, length 0 */
	0x02, 0x00, 0x00, 0x00,
	/* FILTER (13.3): code 3, length 20: reserved, prefix length 128,
	 * remote peer port 443, remote peer ::ffff:198.51.100.1 */
	0x03, 0x00, 0x00, 0x14,
	0x00, 0x80, 0x01, 0xbb,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xff, 0xff, 0xc6, 0x33, 0x64, 0x01,
	/* an optional option (200) of 3 bytes, padded to 4 (7.3) */
	0xc8, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc, 0x00,
};

/* UNSUPP_VERSION to a MAP, the common header alone */
static const uint8_t rfc_map_unsupp_version[] = {
	0x02, 0x81, 0x00, 0x01,		/* MAP response, UNSUPP_VERSION */
	0x00, 0x00, 0x07, 0x08,		/* lifetime 1800 */
	0x00, 0x00, 0x00, 0x10,		/* epoch 16 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

static const uint8_t rfc_natpmp_public[] = {
	0x00, 0x80, 0x00, 0x00,		/* version 0, opcode 128, result 0 */
	0x00, 0x00, 0x0e, 0x10,		/* seconds since start of epoch 3600 */
	0xcb, 0x00, 0x71, 0x07,		/* external address 203.0.113.7 */
};

static const uint8_t rfc_natpmp_map_udp[] = {
	0x00, 0x81, 0x00, 0x00,		/* version 0, opcode 129 (UDP), result 0 */
	0x00, 0x00, 0x0e, 0x10,		/* epoch 3600 */
	0x23, 0x8c, 0x23, 0x8d,		/* internal 9100, mapped external 9101 */
	0x00, 0x00, 0x0e, 0x10,		/* lifetime 3600 */
};

static const uint8_t rfc_natpmp_map_tcp[] = {
	0x00, 0x82, 0x00, 0x00,		/* opcode 130 (TCP) */
	0x00, 0x00, 0x0e, 0x10,
	0x23, 0x8c, 0x23, 0x8d,
	0x00, 0x00, 0x0e, 0x10,
};

/* RFC 6886 3.5 as corrected by erratum 3618: opcode 128 */
static const uint8_t rfc_natpmp_unsupp_version[] = {
	0x00, 0x80, 0x00, 0x01,		/* result 1, Unsupported Version */
	0x00, 0x00, 0x0e, 0x10,
};

static void
check_rfc_map(const struct pcp_response *r)
{
	static const uint8_t nonce[] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	};

	assert_int_equal(r->version, PCP_VERSION);
	assert_int_equal(r->opcode, PCP_OP_MAP);
	assert_int_equal(r->result, PCP_SUCCESS);
	assert_int_equal(r->lifetime, 7200);
	assert_int_equal(r->epoch, 86400);
	assert_memory_equal(r->nonce, nonce, sizeof(nonce));
	assert_int_equal(r->protocol, IPPROTO_UDP);
	assert_int_equal(r->internal_port, 12345);
	assert_int_equal(r->external_port, 54321);
	assert_addr(&r->external_addr, "::ffff:203.0.113.7");
}

static void
test_rfc_pcp(void **state)
{
	struct pcp_response r;

	(void)state;
	parse_ok(rfc_announce, sizeof(rfc_announce), &r);
	assert_int_equal(r.version, PCP_VERSION);
	assert_int_equal(r.opcode, PCP_OP_ANNOUNCE);
	assert_int_equal(r.result, PCP_SUCCESS);
	assert_int_equal(r.lifetime, 0);
	assert_int_equal(r.epoch, 4660);
	assert_true(all_zero(r.nonce, sizeof(r.nonce)));
	assert_int_equal(r.protocol, 0);
	assert_int_equal(r.internal_port, 0);
	assert_int_equal(r.external_port, 0);
	assert_true(all_zero(&r.external_addr, sizeof(r.external_addr)));

	parse_ok(rfc_map, sizeof(rfc_map), &r);
	check_rfc_map(&r);
	parse_ok(rfc_map_options, sizeof(rfc_map_options), &r);
	check_rfc_map(&r);

	parse_ok(rfc_map_unsupp_version, sizeof(rfc_map_unsupp_version), &r);
	assert_int_equal(r.version, PCP_VERSION);
	assert_int_equal(r.opcode, PCP_OP_MAP);
	assert_int_equal(r.result, PCP_UNSUPP_VERSION);
	assert_int_equal(r.lifetime, 1800);
	assert_int_equal(r.epoch, 16);
	assert_int_equal(r.internal_port, 0);
	assert_true(all_zero(&r.external_addr, sizeof(r.external_addr)));
}

static void
test_rfc_natpmp(void **state)
{
	struct pcp_response r;

	(void)state;
	parse_ok(rfc_natpmp_public, sizeof(rfc_natpmp_public), &r);
	assert_int_equal(r.version, NATPMP_VERSION);
	assert_int_equal(r.opcode, NATPMP_OP_PUBLIC);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.epoch, 3600);
	assert_int_equal(r.lifetime, 0);
	assert_addr(&r.external_addr, "::ffff:203.0.113.7");

	parse_ok(rfc_natpmp_map_udp, sizeof(rfc_natpmp_map_udp), &r);
	assert_int_equal(r.version, NATPMP_VERSION);
	assert_int_equal(r.opcode, NATPMP_OP_MAP_UDP);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.epoch, 3600);
	assert_int_equal(r.protocol, IPPROTO_UDP);
	assert_int_equal(r.internal_port, 9100);
	assert_int_equal(r.external_port, 9101);
	assert_int_equal(r.lifetime, 3600);
	assert_true(all_zero(&r.external_addr, sizeof(r.external_addr)));
	assert_true(all_zero(r.nonce, sizeof(r.nonce)));

	parse_ok(rfc_natpmp_map_tcp, sizeof(rfc_natpmp_map_tcp), &r);
	assert_int_equal(r.opcode, NATPMP_OP_MAP_TCP);
	assert_int_equal(r.protocol, IPPROTO_TCP);
	assert_int_equal(r.external_port, 9101);

	parse_ok(rfc_natpmp_unsupp_version, sizeof(rfc_natpmp_unsupp_version),
	    &r);
	assert_int_equal(r.version, NATPMP_VERSION);
	assert_int_equal(r.opcode, NATPMP_OP_PUBLIC);
	assert_int_equal(r.result, 1);
	assert_int_equal(r.epoch, 3600);
	assert_true(all_zero(&r.external_addr, sizeof(r.external_addr)));
}

/* tests/data/rfc holds the same bytes, as fuzz seeds */
static void
test_rfc_files(void **state)
{
	static const struct {
		const char	*file;
		const uint8_t	*bytes;
		size_t		 len;
	} t[] = {
#define F(name, a)	{ "rfc/" name, a, sizeof(a) }
		F("pcp-announce-response.bin", rfc_announce),
		F("pcp-map-response.bin", rfc_map),
		F("pcp-map-response-options.bin", rfc_map_options),
		F("pcp-map-unsupp-version-header.bin", rfc_map_unsupp_version),
		F("natpmp-public-response.bin", rfc_natpmp_public),
		F("natpmp-map-udp-response.bin", rfc_natpmp_map_udp),
		F("natpmp-map-tcp-response.bin", rfc_natpmp_map_tcp),
		F("natpmp-unsupp-version.bin", rfc_natpmp_unsupp_version),
#undef F
	};
	size_t i, len;
	char *buf;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		buf = tu_read(t[i].file, &len);
		if (len != t[i].len || memcmp(buf, t[i].bytes, len) != 0)
			fail_msg("tests/data/%s differs from the test's bytes",
			    t[i].file);
		free(buf);
	}
}

/* ---- miniupnpd 2.3.1's answers ---- */

#define NONE	NULL
static const struct resp_case {
	const char	*file;
	uint8_t		 version, opcode;
	uint16_t	 result;
	uint32_t	 lifetime;
	const char	*nonce;
	uint8_t		 protocol;
	uint16_t	 iport, eport;
	const char	*ext;
	int		 epoch0;	/* an announcement with epoch 0 */
} resp_cases[] = {
	{ CAP "pcp-announce.bin", 2, 0, 0, 0, NONE, 0, 0, 0, NONE, 0 },
	{ CAP "pcp-announce-after-restart.bin", 2, 0, 0, 0, NONE, 0, 0, 0,
	    NONE, 0 },
	{ CAP "pcp-announce-version3.bin", 2, 0, PCP_UNSUPP_VERSION, 0, NONE,
	    0, 0, 0, NONE, 0 },
	{ CAP "pcp-mcast-start-5350-01.bin", 2, 0, 0, 0, NONE, 0, 0, 0, NONE,
	    1 },
	{ CAP "pcp-mcast-restart-5350-01.bin", 2, 0, 0, 0, NONE, 0, 0, 0,
	    NONE, 1 },
	{ CAP "pcp-mcast-usr1-5350-03.bin", 2, 0, 0, 0, NONE, 0, 0, 0, NONE,
	    1 },
	{ CAP "pcp-map-tcp.bin", 2, 1, 0, 3600, "natmapd-pcp1", IPPROTO_TCP,
	    8080, 8080, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-tcp-renew.bin", 2, 1, 0, 3600, "natmapd-pcp1",
	    IPPROTO_TCP, 8080, 8080, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-tcp-other-nonce.bin", 2, 1, 0, 3600, "natmapd-pcp2",
	    IPPROTO_TCP, 8080, 8080, "::ffff:203.0.113.2", 0 },
	/* PREFER_FAILURE ignored: another port, and the option echoed */
	{ CAP "pcp-map-tcp-lan2-prefer-failure.bin", 2, 1, 0, 3600,
	    "natmapd-lan2", IPPROTO_TCP, 8080, 8081, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-tcp-lan2-taken.bin", 2, 1, 0, 3600, "natmapd-lan2",
	    IPPROTO_TCP, 8080, 8081, "::ffff:203.0.113.2", 0 },
	/* 10 s asked, min_lifetime 60 granted */
	{ CAP "pcp-map-udp-short.bin", 2, 1, 0, 60, "natmapd-pcp1",
	    IPPROTO_UDP, 9000, 9000, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-address-mismatch.bin", 2, 1, PCP_ADDRESS_MISMATCH, 0,
	    "natmapd-pcp1", IPPROTO_TCP, 8082, 8082, "::ffff:0.0.0.0", 0 },
	/* THIRD_PARTY echoed in the answer */
	{ CAP "pcp-map-third-party.bin", 2, 1, PCP_UNSUPP_OPTION, 0,
	    "natmapd-pcp1", IPPROTO_TCP, 8083, 8083, "::ffff:0.0.0.0", 0 },
	{ CAP "pcp-map-ext-mismatch.bin", 2, 1, 0, 3600, "natmapd-pcp1",
	    IPPROTO_TCP, 8085, 8085, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-tcp-delete-old-nonce.bin", 2, 1, PCP_NOT_AUTHORIZED, 0,
	    "natmapd-pcp1", IPPROTO_TCP, 8080, 8080, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-tcp-delete.bin", 2, 1, 0, 0, "natmapd-pcp2",
	    IPPROTO_TCP, 8080, 8080, "::ffff:203.0.113.2", 0 },
	/* a short-lifetime error: 30 s */
	{ CAP "pcp-map-tcp-delete-again.bin", 2, 1, PCP_NO_RESOURCES, 30,
	    "natmapd-pcp2", IPPROTO_TCP, 8080, 8080, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-version3.bin", 2, 1, PCP_UNSUPP_VERSION, 0,
	    "natmapd-pcp1", IPPROTO_TCP, 0, 0, "::ffff:0.0.0.0", 0 },
	{ CAP "pcp-map-tcp-before-restart.bin", 2, 1, 0, 3600, "natmapd-pcp1",
	    IPPROTO_TCP, 8080, 8080, "::ffff:203.0.113.2", 0 },
	{ CAP "pcp-map-tcp-after-restart.bin", 2, 1, 0, 3600, "natmapd-pcp1",
	    IPPROTO_TCP, 8080, 8080, "::ffff:203.0.113.2", 0 },
	{ CAP "natpmp-public.bin", 0, 0, 0, 0, NONE, 0, 0, 0,
	    "::ffff:203.0.113.2", 0 },
	{ CAP "natpmp-public-after-restart.bin", 0, 0, 0, 0, NONE, 0, 0, 0,
	    "::ffff:203.0.113.2", 0 },
	{ CAP "natpmp-mcast-usr1-5350-01.bin", 0, 0, 0, 0, NONE, 0, 0, 0,
	    "::ffff:203.0.113.2", 0 },
	{ CAP "natpmp-mcast-usr1-5351-02.bin", 0, 0, 0, 0, NONE, 0, 0, 0,
	    "::ffff:203.0.113.2", 0 },
	{ CAP "natpmp-map-udp.bin", 0, 1, 0, 3600, NONE, IPPROTO_UDP, 9100,
	    9100, "::", 0 },
	{ CAP "natpmp-map-tcp.bin", 0, 2, 0, 3600, NONE, IPPROTO_TCP, 9101,
	    9101, "::", 0 },
	/* NAT-PMP grants 10 s where PCP gave min_lifetime */
	{ CAP "natpmp-map-udp-short.bin", 0, 1, 0, 10, NONE, IPPROTO_UDP,
	    9102, 9102, "::", 0 },
	{ CAP "natpmp-map-udp-delete.bin", 0, 1, 0, 0, NONE, IPPROTO_UDP,
	    9100, 0, "::", 0 },
	/* the 8-byte error form */
	{ CAP "natpmp-unsupp-opcode.bin", 0, 3, 5, 0, NONE, 0, 0, 0, "::", 0 },
};

/* The epoch as the bytes carry it, read apart from the parser. */
static uint32_t
raw_epoch(const uint8_t *b)
{
	const uint8_t *p = b[0] == 0 ? b + 4 : b + 8;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
test_capture_response(void **state)
{
	const struct resp_case *c = NULL;
	struct pcp_response r, t;
	const uint8_t *b;
	const char *err;
	size_t i, len, l;
	char *buf;

	for (i = 0; i < TU_ARRAY_LEN(resp_cases); i++)
		if (strcmp(resp_cases[i].file, *state) == 0)
			c = &resp_cases[i];
	assert_non_null(c);
	buf = tu_read(c->file, &len);
	b = (const uint8_t *)buf;
	parse_ok(b, len, &r);
	assert_int_equal(r.version, c->version);
	assert_int_equal(r.opcode, c->opcode);
	assert_int_equal(r.result, c->result);
	assert_int_equal(r.lifetime, c->lifetime);
	assert_int_equal(r.epoch, raw_epoch(b));
	if (c->epoch0)
		assert_int_equal(r.epoch, 0);
	assert_true(r.epoch < 120);	/* seconds since miniupnpd started */
	if (c->nonce != NULL)
		assert_memory_equal(r.nonce, c->nonce, PCP_NONCE_LEN);
	else
		assert_true(all_zero(r.nonce, sizeof(r.nonce)));
	assert_int_equal(r.protocol, c->protocol);
	assert_int_equal(r.internal_port, c->iport);
	assert_int_equal(r.external_port, c->eport);
	assert_addr(&r.external_addr, c->ext != NULL ? c->ext : "::");

	/*
	 * Cut short, it is refused, or it is still a well-formed answer
	 * (an error's header alone, a MAP without its trailing option):
	 * then the same answer as far as it goes.
	 */
	for (l = 0; l < len; l++) {
		if (parse_n(b, l, &t, &err) == -1)
			continue;
		assert_int_equal(t.version, r.version);
		assert_int_equal(t.opcode, r.opcode);
		assert_int_equal(t.result, r.result);
		assert_int_equal(t.epoch, r.epoch);
		assert_true(r.result != 0 || (r.version == 2 && l >= 60));
	}
	free(buf);
}

/*
 * miniupnpd echoes an unknown mandatory option in its UNSUPP_OPTION
 * answer; RFC 6887 7.3 has the client ignore it and read the answer.
 */
static void
test_capture_unknown_option(void **state)
{
	size_t len;
	char *buf;

	buf = tu_read(*state, &len);
	assert_int_equal(len, 68);
	assert_int_equal((uint8_t)buf[3], PCP_UNSUPP_OPTION);
	assert_int_equal((uint8_t)buf[60], 99);
	{
		struct pcp_response r0;

		parse_ok((const uint8_t *)buf, len, &r0);
		assert_int_equal(r0.result, PCP_UNSUPP_OPTION);
	}
	/* without the option it is an ordinary UNSUPP_OPTION answer */
	{
		struct pcp_response r;

		parse_ok((const uint8_t *)buf, 60, &r);
		assert_int_equal(r.result, PCP_UNSUPP_OPTION);
		assert_int_equal(r.internal_port, 8084);
	}
	free(buf);
}

/* Every capture is in the tables above. */
static void
test_captures_listed(void **state)
{
	static const char *const pats[] = {
		CAP "pcp-*.bin", CAP "natpmp-*.bin",
		CAP "pcp-*.req", CAP "natpmp-*.req",
	};
	/* answers natmapd refuses, requests it cannot send */
	static const char *const others[] = {
		CAP "pcp-map-unknown-option.bin",
		CAP "pcp-map-unknown-option.req",
		CAP "pcp-map-third-party.req",
		CAP "pcp-map-version3.req",
		CAP "pcp-announce-version3.req",
		CAP "natpmp-unsupp-opcode.req",
	};
	size_t i, j, k, found = 0;
	char path[4096];
	glob_t g;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(pats); i++) {
		tu_data_path(path, sizeof(path), pats[i]);
		if (glob(path, 0, NULL, &g) != 0)
			fail_msg("%s: no file", path);
		for (j = 0; j < g.gl_pathc; j++) {
			const char *rel = strstr(g.gl_pathv[j], CAP);
			int known = 0;

			assert_non_null(rel);
			for (k = 0; k < TU_ARRAY_LEN(resp_cases); k++)
				known |= strcmp(rel, resp_cases[k].file) == 0;
			for (k = 0; k < TU_ARRAY_LEN(req_cases); k++)
				known |= strcmp(rel, req_cases[k].file) == 0;
			for (k = 0; k < TU_ARRAY_LEN(others); k++)
				known |= strcmp(rel, others[k]) == 0;
			if (!known)
				fail_msg("%s is in no table of this test", rel);
			found++;
		}
		globfree(&g);
	}
	assert_true(found >= 50);
}

/* ---- error paths ---- */

static void
test_pcp_truncated(void **state)
{
	struct pcp_response r;
	const char *err;
	size_t l;

	(void)state;
	parse_fails(rfc_map, 0, "empty datagram");
	for (l = 1; l < 24; l++)
		parse_fails(rfc_map, l, "PCP response shorter than 24 bytes");
	for (l = 24; l < sizeof(rfc_map); l++)
		parse_fails(rfc_map, l, l % 4 != 0 ?
		    "PCP response length not a multiple of 4" :
		    "PCP MAP response too short");
	/* the options: each cut at a multiple of 4 is refused or parsed */
	for (l = sizeof(rfc_map); l < sizeof(rfc_map_options); l++) {
		int rc = parse_n(rfc_map_options, l, &r, &err);

		if (l % 4 != 0) {
			assert_int_equal(rc, -1);
			assert_string_equal(err,
			    "PCP response length not a multiple of 4");
		} else if (l == 60 || l == 80 || l == 84 || l == 108)
			assert_int_equal(rc, 0);	/* between options */
		else {
			assert_int_equal(rc, -1);
			assert_string_equal(err,
			    "PCP option runs past the end");
		}
	}
	for (l = 1; l < sizeof(rfc_announce); l++)
		parse_fails(rfc_announce, l,
		    "PCP response shorter than 24 bytes");
}

static void
test_pcp_version(void **state)
{
	static const uint8_t versions[] = { 1, 3, 4, 0x42, 0x80, 0xff };
	uint8_t buf[sizeof(rfc_map)];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(versions); i++) {
		memcpy(buf, rfc_map, sizeof(buf));
		buf[0] = versions[i];
		parse_fails(buf, sizeof(buf),
		    "neither PCP version 2 nor NAT-PMP version 0");
		parse_fails(buf, 1,
		    "neither PCP version 2 nor NAT-PMP version 0");
	}
}

static void
test_pcp_r_bit(void **state)
{
	uint8_t buf[sizeof(rfc_map)];

	(void)state;
	memcpy(buf, rfc_map, sizeof(buf));
	buf[1] = PCP_OP_MAP;
	parse_fails(buf, sizeof(buf),
	    "PCP request, not a response (R bit clear)");
	memcpy(buf, rfc_announce, sizeof(rfc_announce));
	buf[1] = PCP_OP_ANNOUNCE;
	parse_fails(buf, sizeof(rfc_announce),
	    "PCP request, not a response (R bit clear)");
}

static void
test_pcp_length(void **state)
{
	static uint8_t buf[PCP_MAX_MSG + 8];
	struct pcp_response r;
	size_t l, olen;

	(void)state;
	/* not a multiple of 4: one to three bytes more */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, rfc_map, sizeof(rfc_map));
	for (l = sizeof(rfc_map) + 1; l < sizeof(rfc_map) + 4; l++)
		parse_fails(buf, l, "PCP response length not a multiple of 4");
	memcpy(buf, rfc_announce, sizeof(rfc_announce));
	for (l = 25; l < 28; l++)
		parse_fails(buf, l, "PCP response length not a multiple of 4");

	/* 1100 bytes, the most: a MAP and one optional option filling it */
	memcpy(buf, rfc_map, sizeof(rfc_map));
	olen = PCP_MAX_MSG - sizeof(rfc_map) - 4;
	buf[60] = 200;
	buf[62] = (uint8_t)(olen >> 8);
	buf[63] = (uint8_t)olen;
	parse_ok(buf, PCP_MAX_MSG, &r);
	check_rfc_map(&r);
	/* 1104: too long, whatever it holds */
	olen += 4;
	buf[62] = (uint8_t)(olen >> 8);
	buf[63] = (uint8_t)olen;
	parse_fails(buf, PCP_MAX_MSG + 4,
	    "PCP response longer than 1100 bytes");
	parse_fails(buf, PCP_MAX_MSG + 1,
	    "PCP response longer than 1100 bytes");
}

/* rfc_map with one option appended: code, length and data given */
static size_t
map_with_option(uint8_t *buf, uint8_t code, uint16_t olen, size_t datalen)
{
	memcpy(buf, rfc_map, sizeof(rfc_map));
	buf[60] = code;
	buf[61] = 0;
	buf[62] = (uint8_t)(olen >> 8);
	buf[63] = (uint8_t)olen;
	memset(buf + 64, 0x5a, datalen);
	return 64 + datalen;
}

static void
test_pcp_options(void **state)
{
	static const uint8_t mandatory[] = { 0, 4, 5, 64, 99, 127 };
	static const uint8_t optional[] = { 128, 129, 200, 255 };
	uint8_t buf[256];
	struct pcp_response r;
	size_t i, n;

	(void)state;
	/* unknown options are skipped, mandatory or not (RFC 6887 7.3) */
	for (i = 0; i < sizeof(mandatory); i++) {
		n = map_with_option(buf, mandatory[i], 4, 4);
		parse_ok(buf, n, &r);
		check_rfc_map(&r);
		n = map_with_option(buf, mandatory[i], 0, 0);
		parse_ok(buf, n, &r);
		check_rfc_map(&r);
	}
	for (i = 0; i < sizeof(optional); i++) {
		n = map_with_option(buf, optional[i], 4, 4);
		parse_ok(buf, n, &r);
		check_rfc_map(&r);
		n = map_with_option(buf, optional[i], 0, 0);
		parse_ok(buf, n, &r);
	}
	/* padding: 1 to 3 bytes of data take 4 */
	for (i = 1; i <= 4; i++) {
		n = map_with_option(buf, 200, (uint16_t)i, 4);
		parse_ok(buf, n, &r);
	}
	n = map_with_option(buf, 200, 5, 4);
	parse_fails(buf, n, "PCP option runs past the end");

	/* an option running past the end */
	n = map_with_option(buf, 200, 8, 4);
	parse_fails(buf, n, "PCP option runs past the end");
	n = map_with_option(buf, 200, 0xffff, 4);
	parse_fails(buf, n, "PCP option runs past the end");
	n = map_with_option(buf, 1, 16, 12);	/* THIRD_PARTY */
	parse_fails(buf, n, "PCP option runs past the end");
	/* after three good options, the last one's reaches past the end */
	memcpy(buf, rfc_map_options, sizeof(rfc_map_options));
	buf[110] = 0;
	buf[111] = 8;
	parse_fails(buf, sizeof(rfc_map_options),
	    "PCP option runs past the end");

	/* the known options with a wrong length */
	n = map_with_option(buf, 1, 12, 12);
	parse_fails(buf, n, "THIRD_PARTY option length not 16");
	n = map_with_option(buf, 1, 20, 20);
	parse_fails(buf, n, "THIRD_PARTY option length not 16");
	n = map_with_option(buf, 2, 4, 4);
	parse_fails(buf, n, "PREFER_FAILURE option length not 0");
	n = map_with_option(buf, 3, 16, 16);
	parse_fails(buf, n, "FILTER option length not 20");
	n = map_with_option(buf, 3, 17, 20);
	parse_fails(buf, n, "FILTER option length not 20");

	/* options after an ANNOUNCE are walked the same way */
	memcpy(buf, rfc_announce, 24);
	memcpy(buf + 24, "\xc8\x00\x00\x01\xff\x00\x00\x00", 8);
	parse_ok(buf, 32, &r);
	assert_int_equal(r.opcode, PCP_OP_ANNOUNCE);
	buf[24] = 0x10;
	parse_ok(buf, 32, &r);
	assert_int_equal(r.opcode, PCP_OP_ANNOUNCE);
}

/* RFC 6887 7.2, 7.3, 11.1: reserved bits are ignored when received. */
static void
test_pcp_reserved(void **state)
{
	static const size_t reserved[] = {
		2, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
		37, 38, 39,	/* MAP */
		61, 81, 85, 109,	/* each option's reserved byte */
		88,		/* FILTER's reserved byte */
	};
	uint8_t buf[sizeof(rfc_map_options)];
	struct pcp_response r;
	size_t i;

	(void)state;
	memcpy(buf, rfc_map_options, sizeof(buf));
	for (i = 0; i < TU_ARRAY_LEN(reserved); i++)
		buf[reserved[i]] = 0xff;
	/* padding octets that are not 0 */
	buf[115] = 0xff;
	parse_ok(buf, sizeof(buf), &r);
	check_rfc_map(&r);
	memcpy(buf, rfc_announce, sizeof(rfc_announce));
	memset(buf + 12, 0xff, 12);
	buf[2] = 0x01;
	parse_ok(buf, sizeof(rfc_announce), &r);
	assert_int_equal(r.epoch, 4660);
	assert_int_equal(r.result, 0);
}

static void
test_pcp_opcodes(void **state)
{
	static const uint8_t ops[] = { PCP_OP_PEER, 3, 4, 63, 96, 127 };
	uint8_t buf[128];
	size_t i;

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < sizeof(ops); i++) {
		memcpy(buf, rfc_map, sizeof(rfc_map));
		buf[1] = 0x80 | ops[i];
		parse_fails(buf, sizeof(rfc_map),
		    "PCP response to an opcode natmapd never sends");
		/* PEER's 56 bytes of data */
		parse_fails(buf, 80, "PCP response to an opcode natmapd never "
		    "sends");
		parse_fails(buf, 24, "PCP response to an opcode natmapd never "
		    "sends");
	}
}

/* A MAP error may be the header alone, nothing in between. */
static void
test_pcp_map_error_lengths(void **state)
{
	uint8_t buf[sizeof(rfc_map)];
	struct pcp_response r;
	size_t l;

	(void)state;
	memcpy(buf, rfc_map, sizeof(buf));
	buf[3] = PCP_MALFORMED_REQUEST;
	parse_ok(buf, 24, &r);
	assert_int_equal(r.result, PCP_MALFORMED_REQUEST);
	assert_int_equal(r.internal_port, 0);
	assert_true(all_zero(r.nonce, sizeof(r.nonce)));
	for (l = 28; l < 60; l += 4)
		parse_fails(buf, l, "PCP MAP response too short");
	parse_ok(buf, 60, &r);
	assert_int_equal(r.internal_port, 12345);
	/* a success must carry the MAP data */
	buf[3] = PCP_SUCCESS;
	parse_fails(buf, 24, "PCP MAP response too short");
	/* every result code is passed on, known or not */
	for (l = 0; l < 256; l++) {
		buf[3] = (uint8_t)l;
		parse_ok(buf, 60, &r);
		assert_int_equal(r.result, l);
	}
}

static void
test_natpmp_truncated(void **state)
{
	size_t l;

	(void)state;
	for (l = 1; l < 8; l++) {
		parse_fails(rfc_natpmp_public, l,
		    "NAT-PMP response shorter than 8 bytes");
		parse_fails(rfc_natpmp_map_udp, l,
		    "NAT-PMP response shorter than 8 bytes");
		parse_fails(rfc_natpmp_unsupp_version, l,
		    "NAT-PMP response shorter than 8 bytes");
	}
	for (l = 8; l < sizeof(rfc_natpmp_public); l++)
		parse_fails(rfc_natpmp_public, l,
		    "NAT-PMP response of the wrong length");
	for (l = 8; l < sizeof(rfc_natpmp_map_tcp); l++)
		parse_fails(rfc_natpmp_map_tcp, l,
		    "NAT-PMP response of the wrong length");
}

static void
test_natpmp_errors(void **state)
{
	static uint8_t buf[PCP_MAX_MSG + 4];
	struct pcp_response r;
	size_t l;
	int op;

	(void)state;
	/* a request: opcode below 128 */
	memcpy(buf, rfc_natpmp_map_udp, 16);
	for (op = 0; op < 128; op += 31) {
		buf[1] = (uint8_t)op;
		parse_fails(buf, 16, "NAT-PMP request, not a response "
		    "(opcode below 128)");
		parse_fails(buf, 8, "NAT-PMP request, not a response "
		    "(opcode below 128)");
	}
	/* success with room to spare */
	memcpy(buf, rfc_natpmp_public, 12);
	memset(buf + 12, 0, 8);
	parse_fails(buf, 16, "NAT-PMP response of the wrong length");
	memcpy(buf, rfc_natpmp_map_udp, 16);
	parse_fails(buf, 20, "NAT-PMP response of the wrong length");
	parse_fails(buf, 12, "NAT-PMP response of the wrong length");
	/* success to an opcode that does not exist */
	buf[1] = 131;
	parse_fails(buf, 16, "NAT-PMP response with an unknown opcode");
	parse_fails(buf, 8, "NAT-PMP response with an unknown opcode");
	/* too long */
	memset(buf, 0, sizeof(buf));
	buf[1] = 128;
	buf[3] = 1;
	parse_fails(buf, PCP_MAX_MSG + 1,
	    "NAT-PMP response longer than 1100 bytes");

	/*
	 * Errors: the 8-byte form to any opcode (what a NAT-PMP server
	 * answers a PCP request: RFC 6887 9), the full form with its fields,
	 * or a request echoed back.
	 */
	for (op = 128; op < 256; op++) {
		memset(buf, 0, 16);
		buf[1] = (uint8_t)op;
		buf[2] = 0x01;	/* a result above 255 */
		buf[3] = 0x02;
		buf[7] = 9;
		parse_ok(buf, 8, &r);
		assert_int_equal(r.version, NATPMP_VERSION);
		assert_int_equal(r.opcode, op - 128);
		assert_int_equal(r.result, 0x0102);
		assert_int_equal(r.epoch, 9);
		assert_int_equal(r.protocol, 0);
	}
	memcpy(buf, rfc_natpmp_map_tcp, 16);
	buf[3] = 2;	/* Not Authorized/Refused */
	parse_ok(buf, 16, &r);
	assert_int_equal(r.result, 2);
	assert_int_equal(r.protocol, IPPROTO_TCP);
	assert_int_equal(r.internal_port, 9100);
	assert_int_equal(r.external_port, 9101);
	assert_int_equal(r.lifetime, 3600);
	for (l = 9; l < 16; l++) {
		parse_ok(buf, l, &r);
		assert_int_equal(r.result, 2);
		assert_int_equal(r.internal_port, 0);
	}
	/* a PCP request answered by a NAT-PMP-only server */
	{
		static const uint8_t ans[] = {
			0x00, 0x81, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a,
		};

		parse_ok(ans, sizeof(ans), &r);
		assert_int_equal(r.version, NATPMP_VERSION);
		assert_int_equal(r.opcode, PCP_OP_MAP);
		assert_int_equal(r.result, PCP_UNSUPP_VERSION);
		assert_int_equal(r.epoch, 42);
	}
}

static void
test_result_str(void **state)
{
	static const char *const pcp[] = {
		"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED",
		"MALFORMED_REQUEST", "UNSUPP_OPCODE", "UNSUPP_OPTION",
		"MALFORMED_OPTION", "NETWORK_FAILURE", "NO_RESOURCES",
		"UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
	};
	static const char *const natpmp[] = {
		"Success", "Unsupported Version", "Not Authorized/Refused",
		"Network Failure", "Out of resources", "Unsupported opcode",
	};
	static const int odd[] = { -1, 14, 127, 128, 255, 256, 65535, -65536 };
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(pcp); i++)
		assert_string_equal(pcp_result_str((int)i), pcp[i]);
	assert_string_equal(pcp_result_str(PCP_ADDRESS_MISMATCH),
	    "ADDRESS_MISMATCH");
	for (i = 0; i < TU_ARRAY_LEN(natpmp); i++)
		assert_string_equal(natpmp_result_str((int)i), natpmp[i]);
	for (i = 0; i < TU_ARRAY_LEN(odd); i++) {
		assert_string_equal(pcp_result_str(odd[i]),
		    "unknown PCP result");
		assert_string_equal(natpmp_result_str(odd[i]),
		    "unknown NAT-PMP result");
	}
	assert_string_equal(natpmp_result_str(6), "unknown NAT-PMP result");
}

static void
test_addr(void **state)
{
	struct in6_addr a6;
	struct in_addr a4, out;

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.33", &a4), 1);
	pcp_addr_from_v4(&a6, a4);
	assert_addr(&a6, "::ffff:192.0.2.33");
	assert_int_equal(pcp_addr_to_v4(&a6, &out), 0);
	assert_int_equal(out.s_addr, a4.s_addr);

	assert_int_equal(inet_pton(AF_INET6, "::ffff:0.0.0.0", &a6), 1);
	assert_int_equal(pcp_addr_to_v4(&a6, &out), 0);
	assert_int_equal(out.s_addr, 0);
	assert_int_equal(inet_pton(AF_INET6, "::", &a6), 1);
	assert_int_equal(pcp_addr_to_v4(&a6, &out), -1);
	assert_int_equal(inet_pton(AF_INET6, "::192.0.2.33", &a6), 1);
	assert_int_equal(pcp_addr_to_v4(&a6, &out), -1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::ffff:c000:221", &a6),
	    1);
	assert_int_equal(pcp_addr_to_v4(&a6, &out), -1);
	assert_int_equal(inet_pton(AF_INET6, "::fffe:c000:221", &a6), 1);
	assert_int_equal(pcp_addr_to_v4(&a6, &out), -1);
}

/* err may be NULL */
static void
test_null_err(void **state)
{
	struct pcp_response r;

	(void)state;
	assert_int_equal(pcp_parse_response(rfc_map, 23, &r, NULL), -1);
	assert_int_equal(pcp_parse_response(rfc_map, sizeof(rfc_map), &r,
	    NULL), 0);
}

#define REQ(f)	TU_FILE_TEST(test_req_as_captured, CAP f)
#define RESP(f)	TU_FILE_TEST(test_capture_response, CAP f)

/* RFC 6887 8.5: the client's and the server's clocks must advance alike. */
static void
test_epoch_check(void **state)
{
	struct pcp_epoch e;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(pcp_epoch_check(&e, 1000, 50000), 0);	/* first */
	assert_int_equal(pcp_epoch_check(&e, 1010, 60000), 0);	/* 10 s each */
	assert_int_equal(pcp_epoch_check(&e, 1010, 60500), 0);	/* same second */
	assert_int_equal(pcp_epoch_check(&e, 1009, 61000), 0);	/* 1 s jitter back */
	/* 1 hour on both sides: fine; server 2 s behind the 1/16 slack: fine */
	assert_int_equal(pcp_epoch_check(&e, 1009 + 3600, 61000 + 3600000), 0);
	/* the server restarted: its time went back to a few seconds */
	assert_int_equal(pcp_epoch_check(&e, 3, 61000 + 3601000), -1);
	/* and from there on it is consistent again */
	assert_int_equal(pcp_epoch_check(&e, 13, 61000 + 3611000), 0);
	/* the server's time ran far ahead of ours: it lost its state (1/16 + 2 s) */
	assert_int_equal(pcp_epoch_check(&e, 13 + 100, 61000 + 3621000), -1);
	/* ours ran far ahead of the server's: a reboot that came back up fast */
	assert_int_equal(pcp_epoch_check(&e, 113 + 5, 61000 + 3621000 + 600000),
	    -1);
	/* the edge of the slack: 160 s against 150 s + 2 + 9 passes, 175 fails */
	memset(&e, 0, sizeof(e));
	assert_int_equal(pcp_epoch_check(&e, 0, 0), 0);
	assert_int_equal(pcp_epoch_check(&e, 160, 150000), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(pcp_epoch_check(&e, 0, 0), 0);
	assert_int_equal(pcp_epoch_check(&e, 175, 150000), -1);
}

/* ---- drv_offer_refused: the rule PCP and NAT-PMP share ---- */

static void
test_offer_refused(void **state)
{
	struct drv_map req;
	char why[160] = "";

	(void)state;
	memset(&req, 0, sizeof(req));
	req.ext_port = 8080;
	/* the port asked for: taken */
	assert_int_equal(drv_offer_refused(&req, 8080, "PCP", why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	/* another one: given back, and said so */
	assert_int_equal(drv_offer_refused(&req, 18080, "NAT-PMP", why,
	    sizeof(why)), 1);
	assert_string_equal(why, "external port 8080 is taken; the gateway "
	    "offered 18080 (NAT-PMP)");
	/* --any-port: any port is the mapping's */
	req.any_port = 1;
	why[0] = '\0';
	assert_int_equal(drv_offer_refused(&req, 18080, "PCP", why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch_check),
		cmocka_unit_test(test_build_announce),
		cmocka_unit_test(test_build_map),
		cmocka_unit_test(test_build_map_prefer_failure),
		cmocka_unit_test(test_build_natpmp),
		REQ("pcp-announce.req"),
		REQ("pcp-announce-after-restart.req"),
		REQ("pcp-map-tcp.req"),
		REQ("pcp-map-tcp-renew.req"),
		REQ("pcp-map-tcp-other-nonce.req"),
		REQ("pcp-map-tcp-lan2-prefer-failure.req"),
		REQ("pcp-map-tcp-lan2-taken.req"),
		REQ("pcp-map-udp-short.req"),
		REQ("pcp-map-address-mismatch.req"),
		REQ("pcp-map-ext-mismatch.req"),
		REQ("pcp-map-tcp-delete-old-nonce.req"),
		REQ("pcp-map-tcp-delete.req"),
		REQ("pcp-map-tcp-delete-again.req"),
		REQ("pcp-map-tcp-before-restart.req"),
		REQ("pcp-map-tcp-after-restart.req"),
		REQ("natpmp-public.req"),
		REQ("natpmp-public-after-restart.req"),
		REQ("natpmp-map-udp.req"),
		REQ("natpmp-map-tcp.req"),
		REQ("natpmp-map-udp-short.req"),
		REQ("natpmp-map-udp-delete.req"),
		cmocka_unit_test(test_rfc_pcp),
		cmocka_unit_test(test_rfc_natpmp),
		cmocka_unit_test(test_rfc_files),
		RESP("pcp-announce.bin"),
		RESP("pcp-announce-after-restart.bin"),
		RESP("pcp-announce-version3.bin"),
		RESP("pcp-mcast-start-5350-01.bin"),
		RESP("pcp-mcast-restart-5350-01.bin"),
		RESP("pcp-mcast-usr1-5350-03.bin"),
		RESP("pcp-map-tcp.bin"),
		RESP("pcp-map-tcp-renew.bin"),
		RESP("pcp-map-tcp-other-nonce.bin"),
		RESP("pcp-map-tcp-lan2-prefer-failure.bin"),
		RESP("pcp-map-tcp-lan2-taken.bin"),
		RESP("pcp-map-udp-short.bin"),
		RESP("pcp-map-address-mismatch.bin"),
		RESP("pcp-map-third-party.bin"),
		RESP("pcp-map-ext-mismatch.bin"),
		RESP("pcp-map-tcp-delete-old-nonce.bin"),
		RESP("pcp-map-tcp-delete.bin"),
		RESP("pcp-map-tcp-delete-again.bin"),
		RESP("pcp-map-version3.bin"),
		RESP("pcp-map-tcp-before-restart.bin"),
		RESP("pcp-map-tcp-after-restart.bin"),
		RESP("natpmp-public.bin"),
		RESP("natpmp-public-after-restart.bin"),
		RESP("natpmp-mcast-usr1-5350-01.bin"),
		RESP("natpmp-mcast-usr1-5351-02.bin"),
		RESP("natpmp-map-udp.bin"),
		RESP("natpmp-map-tcp.bin"),
		RESP("natpmp-map-udp-short.bin"),
		RESP("natpmp-map-udp-delete.bin"),
		RESP("natpmp-unsupp-opcode.bin"),
		TU_FILE_TEST(test_capture_unknown_option,
		    CAP "pcp-map-unknown-option.bin"),
		TU_FILE_TEST(test_captures_listed, CAP "pcp-map-tcp.bin"),
		cmocka_unit_test(test_pcp_truncated),
		cmocka_unit_test(test_pcp_version),
		cmocka_unit_test(test_pcp_r_bit),
		cmocka_unit_test(test_pcp_length),
		cmocka_unit_test(test_pcp_options),
		cmocka_unit_test(test_pcp_reserved),
		cmocka_unit_test(test_pcp_opcodes),
		cmocka_unit_test(test_pcp_map_error_lengths),
		cmocka_unit_test(test_natpmp_truncated),
		cmocka_unit_test(test_natpmp_errors),
		cmocka_unit_test(test_result_str),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_offer_refused),
	};

	return TU_RUN("pcp-msg", tests);
}
