/* SPDX-License-Identifier: ISC */
/* Unit tests of rdv-server.c's dispatch: which answer, from which socket, to where. */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "rdv-server.h"
#include "stun-msg.h"
#include "wire.h"

static const uint8_t tid[STUN_TID_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};

static struct sockaddr_storage
sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;

	memset(&ss, 0, sizeof(ss));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	memcpy(&ss, &sin, sizeof(sin));
	return ss;
}

static void
assert_sa(const struct sockaddr_storage *got, const char *ip, uint16_t port)
{
	struct sockaddr_storage want = sa(ip, port);

	assert_memory_equal(got, &want, sizeof(want));
}

/* the four sockets of an RFC 5780 server: .30/.31 x 3480/3481 */
static void
locals(struct sockaddr_storage l[4])
{
	l[0] = sa("203.0.113.30", 3480);
	l[1] = sa("203.0.113.30", 3481);
	l[2] = sa("203.0.113.31", 3480);
	l[3] = sa("203.0.113.31", 3481);
}

static int
answer(const uint8_t *req, size_t len, int sock, int tcp, int rfc5780,
    uint8_t *out, size_t outlen, int *from, struct sockaddr_storage *to)
{
	struct sockaddr_storage l[4], peer = sa("198.51.100.7", 40000);

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
	};

	return TU_RUN("rdv-server", tests);
}
