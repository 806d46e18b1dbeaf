/* SPDX-License-Identifier: ISC */
/* PCP (RFC 6887) and NAT-PMP (RFC 6886) messages, built and parsed; no I/O. */
#include "config.h"

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcp-msg.h"
#include "wire.h"

#define PCP_R_BIT		0x80	/* response bit, atop the opcode */
#define PCP_HDR_LEN		24	/* request and response headers */
#define PCP_MAP_LEN		36	/* MAP opcode-specific data */
#define PCP_OPT_HDR_LEN		4
#define PCP_OPT_THIRD_PARTY	1
#define PCP_OPT_PREFER_FAILURE	2
#define PCP_OPT_FILTER		3
#define PCP_OPT_OPTIONAL	128	/* codes 128-255 are optional */

#define NATPMP_HDR_LEN		8	/* all of an error */
#define NATPMP_PUBLIC_LEN	12
#define NATPMP_MAP_LEN		16
#define NATPMP_MAP_REQ_LEN	12

/*
 * RFC 6887 figure 2: version, R (0) and opcode, 16 reserved bits,
 * requested lifetime, the PCP client's IP address.
 */
static void
pcp_put_header(uint8_t *p, uint8_t opcode, uint32_t lifetime,
    const struct in6_addr *client)
{
	p[0] = PCP_VERSION;
	p[1] = opcode & 0x7f;
	p[2] = 0;
	p[3] = 0;
	wire_put32(p + 4, lifetime);
	memcpy(p + 8, client->s6_addr, 16);
}

int
pcp_build_announce(uint8_t *buf, size_t len, const struct in6_addr *client)
{
	if (len < PCP_HDR_LEN)
		return -1;
	/* the requested lifetime of an ANNOUNCE is 0 (RFC 6887 14.1) */
	pcp_put_header(buf, PCP_OP_ANNOUNCE, 0, client);
	return PCP_HDR_LEN;
}

int
pcp_build_map(uint8_t *buf, size_t len, const struct in6_addr *client,
    uint32_t lifetime, const struct pcp_map_req *req)
{
	size_t need = PCP_HDR_LEN + PCP_MAP_LEN;
	uint8_t *p;

	if (req->prefer_failure)
		need += PCP_OPT_HDR_LEN;
	if (len < need)
		return -1;
	pcp_put_header(buf, PCP_OP_MAP, lifetime, client);
	/*
	 * RFC 6887 figure 9: nonce, protocol, 24 reserved bits, internal
	 * port, suggested external port, suggested external address.
	 */
	p = buf + PCP_HDR_LEN;
	memcpy(p, req->nonce, PCP_NONCE_LEN);
	p[12] = req->protocol;
	p[13] = p[14] = p[15] = 0;
	wire_put16(p + 16, req->internal_port);
	wire_put16(p + 18, req->external_port);
	memcpy(p + 20, req->external_addr.s6_addr, 16);
	if (req->prefer_failure) {
		/* RFC 6887 13.2: code 2, reserved, length 0, no data */
		p = buf + PCP_HDR_LEN + PCP_MAP_LEN;
		p[0] = PCP_OPT_PREFER_FAILURE;
		p[1] = 0;
		wire_put16(p + 2, 0);
	}
	return (int)need;
}

int
natpmp_build_public(uint8_t *buf, size_t len)
{
	/* RFC 6886 3.2: version 0, opcode 0 */
	if (len < 2)
		return -1;
	buf[0] = NATPMP_VERSION;
	buf[1] = NATPMP_OP_PUBLIC;
	return 2;
}

int
natpmp_build_map(uint8_t *buf, size_t len, uint8_t protocol,
    uint16_t internal_port, uint16_t external_port, uint32_t lifetime)
{
	uint8_t op;

	if (protocol == IPPROTO_UDP)
		op = NATPMP_OP_MAP_UDP;
	else if (protocol == IPPROTO_TCP)
		op = NATPMP_OP_MAP_TCP;
	else
		return -1;
	if (len < NATPMP_MAP_REQ_LEN)
		return -1;
	/*
	 * RFC 6886 3.3: version, opcode, 16 reserved bits, internal port,
	 * suggested external port, requested lifetime.
	 */
	buf[0] = NATPMP_VERSION;
	buf[1] = op;
	buf[2] = buf[3] = 0;
	wire_put16(buf + 4, internal_port);
	wire_put16(buf + 6, external_port);
	wire_put32(buf + 8, lifetime);
	return NATPMP_MAP_REQ_LEN;
}

/*
 * The options after the opcode-specific data, off to len (both multiples
 * of 4, so a length within what is left has its padding within it too).
 */
static int
pcp_parse_options(const uint8_t *buf, size_t off, size_t len,
    const char **err)
{
	while (off < len) {
		uint8_t code;
		size_t olen, padded;

		if (len - off < PCP_OPT_HDR_LEN)
			return wire_fail(err, "PCP option header truncated");
		code = buf[off];
		/* buf[off + 1] is reserved: ignored (RFC 6887 7.3) */
		olen = wire_get16(buf + off + 2);
		off += PCP_OPT_HDR_LEN;
		padded = (olen + 3) & ~(size_t)3;
		if (padded > len - off)
			return wire_fail(err, "PCP option runs past the end");
		switch (code) {
		case PCP_OPT_THIRD_PARTY:
			if (olen != 16)
				return wire_fail(err, "THIRD_PARTY option length "
				    "not 16");
			break;
		case PCP_OPT_PREFER_FAILURE:
			if (olen != 0)
				return wire_fail(err, "PREFER_FAILURE option length "
				    "not 0");
			break;
		case PCP_OPT_FILTER:
			if (olen != 20)
				return wire_fail(err, "FILTER option length not 20");
			break;
		default:
			/*
			 * RFC 6887 7.3: a client ignores options it does not
			 * know in a response, mandatory ones included (a
			 * server echoes them in an UNSUPP_OPTION answer).
			 */
			break;
		}
		off += padded;
	}
	return 0;
}

static int
pcp_parse(const uint8_t *buf, size_t len, struct pcp_response *r,
    const char **err)
{
	const uint8_t *m;
	size_t off = PCP_HDR_LEN;

	if (len < PCP_HDR_LEN)
		return wire_fail(err, "PCP response shorter than 24 bytes");
	if (len > PCP_MAX_MSG)
		return wire_fail(err, "PCP response longer than 1100 bytes");
	if (len % 4 != 0)
		return wire_fail(err, "PCP response length not a multiple of 4");
	if ((buf[1] & PCP_R_BIT) == 0)
		return wire_fail(err, "PCP request, not a response (R bit clear)");
	/*
	 * RFC 6887 figure 3.  The reserved byte 2 and bytes 12-23 are
	 * ignored on receipt (7.2), as are the MAP data's and the options'
	 * reserved bits (11.1, 7.3).
	 */
	r->version = PCP_VERSION;
	r->opcode = buf[1] & 0x7f;
	r->result = buf[3];
	r->lifetime = wire_get32(buf + 4);
	r->epoch = wire_get32(buf + 8);
	switch (r->opcode) {
	case PCP_OP_ANNOUNCE:
		break;
	case PCP_OP_MAP:
		if (len - off < PCP_MAP_LEN) {
			/*
			 * An error to a request the server could not read
			 * (UNSUPP_VERSION, MALFORMED_REQUEST) may be the
			 * header alone.
			 */
			if (r->result != PCP_SUCCESS && len == PCP_HDR_LEN)
				return 0;
			return wire_fail(err, "PCP MAP response too short");
		}
		m = buf + off;
		memcpy(r->nonce, m, PCP_NONCE_LEN);
		r->protocol = m[12];
		r->internal_port = wire_get16(m + 16);
		r->external_port = wire_get16(m + 18);
		memcpy(r->external_addr.s6_addr, m + 20, 16);
		off += PCP_MAP_LEN;
		break;
	default:
		return wire_fail(err, "PCP response to an opcode natmapd never "
		    "sends");
	}
	return pcp_parse_options(buf, off, len, err);
}

static int
natpmp_parse(const uint8_t *buf, size_t len, struct pcp_response *r,
    const char **err)
{
	size_t want;

	if (len < NATPMP_HDR_LEN)
		return wire_fail(err, "NAT-PMP response shorter than 8 bytes");
	if (len > PCP_MAX_MSG)
		return wire_fail(err, "NAT-PMP response longer than 1100 bytes");
	if ((buf[1] & PCP_R_BIT) == 0)
		return wire_fail(err, "NAT-PMP request, not a response "
		    "(opcode below 128)");
	r->version = NATPMP_VERSION;
	r->opcode = buf[1] & 0x7f;
	r->result = wire_get16(buf + 2);
	r->epoch = wire_get32(buf + 4);
	switch (r->opcode) {
	case NATPMP_OP_PUBLIC:
		want = NATPMP_PUBLIC_LEN;
		break;
	case NATPMP_OP_MAP_UDP:
	case NATPMP_OP_MAP_TCP:
		want = NATPMP_MAP_LEN;
		break;
	default:
		want = 0;
		break;
	}
	if (r->result != 0) {
		/*
		 * An error: the 8-byte form of RFC 6886 3.5 (also a NAT-PMP
		 * server's answer to a PCP request, RFC 6887 9), the full
		 * layout with an error code (miniupnpd's mapping errors), or
		 * a request echoed back with result 5 (unsupported opcode;
		 * bytes 4-7 are then not an epoch).  Only the full layout
		 * carries fields.
		 */
		if (want == 0 || len != want)
			return 0;
	} else {
		if (want == 0)
			return wire_fail(err, "NAT-PMP response with an unknown "
			    "opcode");
		if (len != want)
			return wire_fail(err,
			    "NAT-PMP response of the wrong length");
	}
	if (r->opcode == NATPMP_OP_PUBLIC) {
		struct in_addr a;

		memcpy(&a.s_addr, buf + 8, 4);
		pcp_addr_from_v4(&r->external_addr, a);
	} else {
		r->protocol = r->opcode == NATPMP_OP_MAP_UDP ? IPPROTO_UDP :
		    IPPROTO_TCP;
		r->internal_port = wire_get16(buf + 8);
		r->external_port = wire_get16(buf + 10);
		r->lifetime = wire_get32(buf + 12);
	}
	return 0;
}

int
pcp_parse_response(const uint8_t *buf, size_t len, struct pcp_response *r,
    const char **err)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (len == 0)
		return wire_fail(err, "empty datagram");
	switch (buf[0]) {
	case NATPMP_VERSION:
		rc = natpmp_parse(buf, len, r, err);
		break;
	case PCP_VERSION:
		rc = pcp_parse(buf, len, r, err);
		break;
	default:
		rc = wire_fail(err, "neither PCP version 2 nor NAT-PMP version 0");
		break;
	}
	if (rc == -1)
		memset(r, 0, sizeof(*r));
	return rc;
}

const char *
pcp_result_str(int result)
{
	static const char *const names[] = {
		[PCP_SUCCESS] = "SUCCESS",
		[PCP_UNSUPP_VERSION] = "UNSUPP_VERSION",
		[PCP_NOT_AUTHORIZED] = "NOT_AUTHORIZED",
		[PCP_MALFORMED_REQUEST] = "MALFORMED_REQUEST",
		[PCP_UNSUPP_OPCODE] = "UNSUPP_OPCODE",
		[PCP_UNSUPP_OPTION] = "UNSUPP_OPTION",
		[PCP_MALFORMED_OPTION] = "MALFORMED_OPTION",
		[PCP_NETWORK_FAILURE] = "NETWORK_FAILURE",
		[PCP_NO_RESOURCES] = "NO_RESOURCES",
		[PCP_UNSUPP_PROTOCOL] = "UNSUPP_PROTOCOL",
		[PCP_USER_EX_QUOTA] = "USER_EX_QUOTA",
		[PCP_CANNOT_PROVIDE_EXTERNAL] = "CANNOT_PROVIDE_EXTERNAL",
		[PCP_ADDRESS_MISMATCH] = "ADDRESS_MISMATCH",
		[PCP_EXCESSIVE_REMOTE_PEERS] = "EXCESSIVE_REMOTE_PEERS",
	};

	if (result < 0 || (size_t)result >= sizeof(names) / sizeof(names[0]))
		return "unknown PCP result";
	return names[result];
}

const char *
natpmp_result_str(int result)
{
	/* RFC 6886 3.5 */
	static const char *const names[] = {
		"Success",
		"Unsupported Version",
		"Not Authorized/Refused",
		"Network Failure",
		"Out of resources",
		"Unsupported opcode",
	};

	if (result < 0 || (size_t)result >= sizeof(names) / sizeof(names[0]))
		return "unknown NAT-PMP result";
	return names[result];
}

void
pcp_addr_from_v4(struct in6_addr *a6, struct in_addr a4)
{
	memset(a6->s6_addr, 0, 10);
	a6->s6_addr[10] = 0xff;
	a6->s6_addr[11] = 0xff;
	memcpy(a6->s6_addr + 12, &a4.s_addr, 4);
}

int
pcp_addr_to_v4(const struct in6_addr *a6, struct in_addr *a4)
{
	static const uint8_t prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	if (memcmp(a6->s6_addr, prefix, sizeof(prefix)) != 0)
		return -1;
	memcpy(&a4->s_addr, a6->s6_addr + 12, 4);
	return 0;
}

int
pcp_epoch_check(struct pcp_epoch *e, uint32_t server, uint64_t client_ms)
{
	uint64_t client_delta, server_delta;
	int r = 0;

	if (e->valid) {
		if ((uint64_t)server + 1 < e->server)
			r = -1;		/* the server's time went back */
		else if (client_ms >= e->client_ms) {
			client_delta = (client_ms - e->client_ms) / 1000;
			server_delta = server >= e->server ?
			    server - e->server : 0;
			/* Each side may run 1/16 off the other, plus 2 s. */
			if (client_delta + 2 < server_delta - server_delta / 16 ||
			    server_delta + 2 < client_delta - client_delta / 16)
				r = -1;
		}
	}
	e->valid = 1;
	e->server = server;
	e->client_ms = client_ms;
	return r;
}

uint64_t
pcp_rt_next(uint64_t wait)
{
	if (wait == 0)
		return PCP_RT_FIRST_MS;
	return wait * 2 > PCP_RT_MAX_MS ? PCP_RT_MAX_MS : wait * 2;
}

uint64_t
pcp_rt_sent(struct pcp_rt *rt, uint64_t now)
{
	if (rt->sends == 0) {
		rt->wait = 0;
		rt->first_sent = now;
	}
	rt->sends++;
	rt->wait = pcp_rt_next(rt->wait);
	return rt->wait;
}

void
pcp_map_req_init(struct pcp_map_req *mr, const uint8_t *nonce,
    uint8_t protocol, uint16_t internal_port, uint16_t external_port)
{
	memset(mr, 0, sizeof(*mr));
	memcpy(mr->nonce, nonce, sizeof(mr->nonce));
	mr->protocol = protocol;
	mr->internal_port = internal_port;
	mr->external_port = external_port;
}
