/* SPDX-License-Identifier: ISC */
/* Fuzz target: STUN messages (stun-msg.c). */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdv-server.h"
#include "stun-msg.h"
#include "fuzz.h"
#include "wire.h"

static void
check_addr(const struct sockaddr_storage *ss)
{
	switch (ss->ss_family) {
	case AF_UNSPEC:
		CHECK(fuzz_all_zero(ss, sizeof(*ss)));
		break;
	case AF_INET: {
		struct sockaddr_in sin;

		memcpy(&sin, ss, sizeof(sin));
		CHECK(fuzz_all_zero((const uint8_t *)ss + sizeof(sin),
		    sizeof(*ss) - sizeof(sin)));
		break;
	}
	case AF_INET6: {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, ss, sizeof(sin6));
		CHECK(sin6.sin6_scope_id == 0 && sin6.sin6_flowinfo == 0);
		break;
	}
	default:
		abort();
	}
}

/* A Binding request with the message's ID parses back as what it is. */
static void
check_build(const struct stun_msg *m, uint8_t change, int fingerprint)
{
	struct stun_msg r;
	uint8_t req[64];
	const char *err = NULL;
	int n, want;

	want = STUN_HDR_LEN + (change != 0 ? 8 : 0) + (fingerprint ? 8 : 0);
	n = stun_build_binding(req, sizeof(req), m->tid, change, fingerprint);
	CHECK(n == want);
	CHECK(stun_build_binding(req, (size_t)n - 1, m->tid, change,
	    fingerprint) == -1);
	CHECK(stun_frame_len(req, (size_t)n) == n);
	CHECK(stun_parse(req, (size_t)n, &r, &err) == 0);
	CHECK(err == NULL);
	CHECK(r.method == STUN_BINDING && r.cls == STUN_REQUEST);
	CHECK(memcmp(r.tid, m->tid, STUN_TID_LEN) == 0);
	CHECK(r.has_fingerprint == (fingerprint != 0));
	CHECK(r.n_unknown == 0 && r.error_code == 0 && !r.has_integrity);
	CHECK(stun_msg_mapped(&r) == NULL);
	CHECK(r.has_change == (change != 0) && r.change == change);
	CHECK(r.response_port == 0);
}

/* What a server would answer with the message's addresses parses back to them. */
static void
check_answer(const struct stun_msg *m, int fingerprint)
{
	struct stun_answer_spec a;
	struct stun_msg r;
	uint8_t out[512];
	const char *err = NULL;
	int n;

	if (m->xor_mapped.ss_family == AF_UNSPEC)
		return;
	memset(&a, 0, sizeof(a));
	a.method = m->method;
	a.tid = m->tid;
	a.mapped = &m->xor_mapped;
	a.legacy_mapped = 1;
	a.origin = m->origin.ss_family != AF_UNSPEC ? &m->origin : NULL;
	a.other = m->other.ss_family != AF_UNSPEC ? &m->other : NULL;
	a.software = m->software;
	a.fingerprint = fingerprint;
	n = stun_build_success(out, sizeof(out), &a);
	CHECK(n > STUN_HDR_LEN && n % 4 == 0);
	CHECK(stun_parse(out, (size_t)n, &r, &err) == 0);
	CHECK(r.cls == STUN_SUCCESS && r.method == m->method);
	CHECK(memcmp(&r.xor_mapped, &m->xor_mapped, sizeof(r.xor_mapped)) == 0);
	CHECK(memcmp(&r.mapped, &m->xor_mapped, sizeof(r.mapped)) == 0);
	CHECK(memcmp(&r.origin, &m->origin, sizeof(r.origin)) == 0);
	CHECK(memcmp(&r.other, &m->other, sizeof(r.other)) == 0);
	CHECK(r.has_fingerprint == (fingerprint != 0));
	CHECK(stun_build_success(out, (size_t)n - 1, &a) == -1);
	n = stun_build_error(out, sizeof(out), m->method, m->tid, 420,
	    m->software, m->unknown, m->n_unknown, NULL, fingerprint);
	if (m->n_unknown == 0 && n > 0) {
		CHECK(stun_parse(out, (size_t)n, &r, &err) == 0);
		CHECK(r.cls == STUN_ERROR && r.error_code == 420);
	}
}

/*
 * natmapd-rendezvous's dispatch on the input, as a request on each of its
 * four sockets over UDP and TCP: an answer is a STUN success or error to
 * the request's ID, from one of the four sockets, to the source address
 * (another port only over UDP).
 */
static void
check_server(const uint8_t *data, size_t size)
{
	struct sockaddr_storage local[4], peer, to;
	struct sockaddr_in sin;
	struct stun_msg r;
	uint8_t out[512];
	int sock, tcp, rfc5780, n, from;

	memset(local, 0, sizeof(local));
	for (sock = 0; sock < 4; sock++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)(3480 + (sock & 1)));
		sin.sin_addr.s_addr = htonl(0xcb00711e + (uint32_t)(sock >> 1));
		memcpy(&local[sock], &sin, sizeof(sin));
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(0xc6336407);
	memset(&peer, 0, sizeof(peer));
	memcpy(&peer, &sin, sizeof(sin));
	for (rfc5780 = 0; rfc5780 < 2; rfc5780++)
		for (tcp = 0; tcp < 2; tcp++)
			for (sock = 0; sock < (rfc5780 ? 4 : 1); sock++) {
				from = -1;
				n = rdv_server_answer(data, size, sock, tcp,
				    &peer, local, rfc5780, out, sizeof(out),
				    &from, &to);
				CHECK(n >= 0 && n <= (int)sizeof(out));
				if (n == 0)
					continue;
				CHECK(from >= 0 && from < (rfc5780 ? 4 : 1));
				CHECK(!tcp || from == sock);
				CHECK(stun_parse(out, (size_t)n, &r, NULL) == 0);
				CHECK(r.cls == STUN_SUCCESS || r.cls == STUN_ERROR);
				CHECK(r.method == STUN_BINDING);
				CHECK(memcmp(r.tid, data + 8, STUN_TID_LEN) == 0);
				CHECK(to.ss_family == AF_INET &&
				    memcmp(&((struct sockaddr_in *)(void *)&to)->
				    sin_addr, &sin.sin_addr, 4) == 0);
				if (tcp)
					CHECK(memcmp(&to, &peer, sizeof(to)) == 0);
				if (r.cls == STUN_SUCCESS)
					CHECK(memcmp(&r.xor_mapped, &peer,
					    sizeof(peer)) == 0);
			}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	const struct sockaddr_storage *mapped;
	const char *err = NULL;
	uint16_t type;
	int fl, i;

	check_server(data, size);
	fl = stun_frame_len(data, size);
	CHECK(fl >= -1 && fl <= STUN_MAX_MSG);
	CHECK(fl == 0 ? size < STUN_HDR_LEN : size >= STUN_HDR_LEN);
	CHECK(fl == -1 || fl == 0 || (fl >= STUN_HDR_LEN && fl % 4 == 0));

	if (stun_parse(data, size, &m, &err) == -1) {
		CHECK(err != NULL);
		CHECK(fuzz_all_zero(&m, sizeof(m)));
		return 0;
	}
	CHECK(err == NULL);
	CHECK(size >= STUN_HDR_LEN && size <= STUN_MAX_MSG && size % 4 == 0);
	CHECK(fl >= 0 && (size_t)fl == size);

	/* the header, as the bytes have it */
	type = wire_get16(data);
	CHECK((type & 0xc000) == 0);
	CHECK(m.method == ((type & 0x000f) | (type & 0x00e0) >> 1 |
	    (type & 0x3e00) >> 2));
	CHECK(m.method < 0x1000);
	CHECK(m.cls == ((type & 0x0010) >> 4 | (type & 0x0100) >> 7));
	CHECK(wire_get16(data + 2) == size - STUN_HDR_LEN);
	CHECK(memcmp(data + 4, "\x21\x12\xa4\x42", 4) == 0);
	CHECK(memcmp(m.tid, data + 8, STUN_TID_LEN) == 0);

	check_addr(&m.xor_mapped);
	check_addr(&m.mapped);
	check_addr(&m.origin);
	check_addr(&m.other);
	check_addr(&m.alternate);
	mapped = stun_msg_mapped(&m);
	if (m.xor_mapped.ss_family != AF_UNSPEC)
		CHECK(mapped == &m.xor_mapped);
	else if (m.mapped.ss_family != AF_UNSPEC)
		CHECK(mapped == &m.mapped);
	else
		CHECK(mapped == NULL);

	CHECK(m.error_code == 0 ||
	    (m.error_code >= 300 && m.error_code <= 699));
	if (m.error_code == 0)
		CHECK(m.error_reason[0] == '\0');
	fuzz_check_string(m.error_reason, sizeof(m.error_reason));
	fuzz_check_string(m.software, sizeof(m.software));
	CHECK(m.has_integrity == 0 || m.has_integrity == 1);
	CHECK(m.has_fingerprint == 0 || m.has_fingerprint == 1);
	if (m.has_fingerprint)
		CHECK(size >= STUN_HDR_LEN + 8 &&
		    wire_get16(data + size - 8) == STUN_A_FINGERPRINT);
	CHECK(m.n_unknown >= 0 && m.n_unknown <= STUN_MAX_UNKNOWN);
	for (i = 0; i < m.n_unknown; i++)
		CHECK(m.unknown[i] < 0x8000);
	for (; i < STUN_MAX_UNKNOWN; i++)
		CHECK(m.unknown[i] == 0);

	/* the same message with another attribute after it is refused */
	if (m.has_fingerprint) {
		uint8_t *more = malloc(size + 8);
		struct stun_msg m2;

		CHECK(more != NULL);
		memcpy(more, data, size);
		memcpy(more + size, "\x80\x22\x00\x04zzzz", 8);
		more[2] = (uint8_t)((size - STUN_HDR_LEN + 8) >> 8);
		more[3] = (uint8_t)(size - STUN_HDR_LEN + 8);
		if (size + 8 <= STUN_MAX_MSG)
			CHECK(stun_parse(more, size + 8, &m2, &err) == -1);
		free(more);
	}

	CHECK(m.has_change == 0 || m.has_change == 1);
	CHECK((m.change & ~(STUN_CHANGE_IP | STUN_CHANGE_PORT)) == 0);
	if (!m.has_change)
		CHECK(m.change == 0);

	check_answer(&m, data[size - 1] & 1);
	check_build(&m, 0, 0);
	check_build(&m, STUN_CHANGE_IP | STUN_CHANGE_PORT, 1);
	check_build(&m, (uint8_t)(data[size - 1] & 0x06), data[size - 2] & 1);
	return 0;
}
