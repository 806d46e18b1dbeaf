/* SPDX-License-Identifier: ISC */
/* Fuzz target: PCP and NAT-PMP responses and announcements (pcp-msg.c). */
#include "config.h"

#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcp-msg.h"
#include "fuzz.h"
#include "wire.h"

/* A request built from what was parsed must never pass for an answer. */
static void
check_requests_refused(const struct pcp_response *r)
{
	struct pcp_response again;
	struct pcp_map_req m;
	uint8_t req[PCP_MAX_MSG];
	const char *err = NULL;
	int n;

	memset(&m, 0, sizeof(m));
	memcpy(m.nonce, r->nonce, sizeof(m.nonce));
	m.protocol = r->protocol;
	m.internal_port = r->internal_port;
	m.external_port = r->external_port;
	m.external_addr = r->external_addr;
	m.prefer_failure = r->lifetime & 1;
	n = pcp_build_map(req, sizeof(req), &r->external_addr, r->lifetime,
	    &m);
	CHECK(n == (m.prefer_failure ? 64 : 60));
	CHECK(pcp_parse_response(req, (size_t)n, &again, &err) == -1);
	CHECK(err != NULL);
	n = pcp_build_announce(req, sizeof(req), &r->external_addr);
	CHECK(n == 24);
	CHECK(pcp_parse_response(req, (size_t)n, &again, &err) == -1);
	n = natpmp_build_map(req, sizeof(req),
	    r->protocol == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP,
	    r->internal_port, r->external_port, r->lifetime);
	CHECK(n == 12);
	CHECK(pcp_parse_response(req, (size_t)n, &again, &err) == -1);
	n = natpmp_build_public(req, sizeof(req));
	CHECK(n == 2);
	CHECK(pcp_parse_response(req, (size_t)n, &again, &err) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_response r;
	struct in_addr a4;
	const char *err = NULL;

	if (pcp_parse_response(data, size, &r, &err) == -1) {
		CHECK(err != NULL);
		CHECK(fuzz_all_zero(&r, sizeof(r)));
		return 0;
	}
	CHECK(err == NULL);
	CHECK(size >= 8 && size <= PCP_MAX_MSG);
	CHECK(r.version == PCP_VERSION || r.version == NATPMP_VERSION);
	CHECK(r.version == data[0]);
	CHECK(r.opcode < 128 && r.opcode == (data[1] & 0x7f));
	CHECK(data[1] & 0x80);
	CHECK(pcp_result_str(r.result) != NULL);
	CHECK(natpmp_result_str(r.result) != NULL);
	if (r.version == PCP_VERSION) {
		CHECK(size >= 24 && size % 4 == 0);
		CHECK(r.opcode == PCP_OP_ANNOUNCE || r.opcode == PCP_OP_MAP);
		CHECK(r.result == data[3]);
		CHECK(r.lifetime == wire_get32(data + 4));
		CHECK(r.epoch == wire_get32(data + 8));
		if (r.opcode == PCP_OP_ANNOUNCE || size < 60) {
			/* no MAP data: an ANNOUNCE, or an error's header */
			CHECK(r.opcode == PCP_OP_ANNOUNCE ||
			    (r.result != PCP_SUCCESS && size == 24));
			CHECK(fuzz_all_zero(r.nonce, sizeof(r.nonce)));
			CHECK(r.protocol == 0 && r.internal_port == 0 &&
			    r.external_port == 0);
			CHECK(fuzz_all_zero(&r.external_addr,
			    sizeof(r.external_addr)));
		} else {
			CHECK(memcmp(r.nonce, data + 24, PCP_NONCE_LEN) == 0);
			CHECK(r.protocol == data[36]);
			CHECK(r.internal_port == wire_get16(data + 40));
			CHECK(r.external_port == wire_get16(data + 42));
			CHECK(memcmp(&r.external_addr, data + 44, 16) == 0);
		}
	} else {
		CHECK(r.result == wire_get16(data + 2));
		CHECK(r.epoch == wire_get32(data + 4));
		CHECK(fuzz_all_zero(r.nonce, sizeof(r.nonce)));
		if (r.result == 0)
			CHECK(r.opcode <= NATPMP_OP_MAP_TCP);
		if (r.result == 0 && r.opcode == NATPMP_OP_PUBLIC) {
			CHECK(size == 12);
			CHECK(pcp_addr_to_v4(&r.external_addr, &a4) == 0);
			CHECK(memcmp(&a4.s_addr, data + 8, 4) == 0);
		}
		if (r.protocol != 0) {
			CHECK(size == 16);
			CHECK(r.opcode == NATPMP_OP_MAP_UDP ||
			    r.opcode == NATPMP_OP_MAP_TCP);
			CHECK(r.protocol == (r.opcode == NATPMP_OP_MAP_UDP ?
			    IPPROTO_UDP : IPPROTO_TCP));
			CHECK(r.internal_port == wire_get16(data + 8));
			CHECK(r.external_port == wire_get16(data + 10));
			CHECK(r.lifetime == wire_get32(data + 12));
		} else {
			CHECK(r.result != 0 || r.opcode == NATPMP_OP_PUBLIC);
			CHECK(r.lifetime == 0 && r.internal_port == 0 &&
			    r.external_port == 0);
		}
	}
	check_requests_refused(&r);
	return 0;
}
