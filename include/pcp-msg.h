/* SPDX-License-Identifier: ISC */
/* PCP (RFC 6887) and NAT-PMP (RFC 6886) message codec: bytes <-> structs, no I/O. */
#ifndef NATMAPD_PCP_MSG_H
#define NATMAPD_PCP_MSG_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define PCP_SERVER_PORT		5351	/* PCP and NAT-PMP requests go here */
#define PCP_CLIENT_PORT		5350	/* announcements arrive here (224.0.0.1, ff02::1) */
#define PCP_VERSION		2
#define NATPMP_VERSION		0
#define PCP_NONCE_LEN		12
#define PCP_MAX_MSG		1100	/* RFC 6887 section 7 */

#define PCP_OP_ANNOUNCE		0
#define PCP_OP_MAP		1
#define PCP_OP_PEER		2
#define NATPMP_OP_PUBLIC	0	/* public address request; answer 128 */
#define NATPMP_OP_MAP_UDP	1
#define NATPMP_OP_MAP_TCP	2

/* PCP result codes (RFC 6887 section 7.4). */
enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
	PCP_EXCESSIVE_REMOTE_PEERS = 13,
};

/*
 * One parsed response, PCP (version 2) or NAT-PMP (version 0): a NAT-PMP
 * server answers a PCP request with a version 0 UNSUPP_VERSION.  After a
 * restart a server multicasts a PCP ANNOUNCE (miniupnpd: epoch 0) or a
 * NAT-PMP public-address answer to 224.0.0.1:5350.
 */
struct pcp_response {
	uint8_t		version;	/* 2 (PCP) or 0 (NAT-PMP) */
	uint8_t		opcode;		/* without the response bit */
	uint16_t	result;		/* PCP: 8 bits; NAT-PMP: 16 bits */
	uint32_t	lifetime;	/* PCP and NAT-PMP map: seconds */
	uint32_t	epoch;		/* seconds since the server's start */
	/* MAP (PCP) or mapping / public address (NAT-PMP) */
	uint8_t		nonce[PCP_NONCE_LEN];	/* PCP MAP only */
	uint8_t		protocol;	/* IPPROTO_TCP, IPPROTO_UDP */
	uint16_t	internal_port;
	uint16_t	external_port;	/* assigned */
	struct in6_addr	external_addr;	/* assigned; IPv4 as ::ffff:a.b.c.d */
};

/* A MAP request's variable part. */
struct pcp_map_req {
	uint8_t		nonce[PCP_NONCE_LEN];
	uint8_t		protocol;	/* IPPROTO_TCP, IPPROTO_UDP */
	uint16_t	internal_port;
	uint16_t	external_port;	/* suggested; 0 for any */
	struct in6_addr	external_addr;	/* suggested; :: or ::ffff:0.0.0.0 for any */
	int		prefer_failure;	/* add the PREFER_FAILURE option */
};

/* Requests: return the length written, or -1 if buf is too small. */
int	pcp_build_announce(uint8_t *buf, size_t len,
	    const struct in6_addr *client);
int	pcp_build_map(uint8_t *buf, size_t len, const struct in6_addr *client,
	    uint32_t lifetime, const struct pcp_map_req *);
int	natpmp_build_public(uint8_t *buf, size_t len);
int	natpmp_build_map(uint8_t *buf, size_t len, uint8_t protocol,
	    uint16_t internal_port, uint16_t external_port, uint32_t lifetime);

/*
 * Parse a datagram from port 5351 (or an announcement): 0, or -1 with *err
 * saying why (too short, not a response, a bad length, an option running
 * past the end...).  Checks every length before reading; reserved bits and
 * unknown options are ignored, as RFC 6887 7.3 and 11.1 say.
 */
int	pcp_parse_response(const uint8_t *buf, size_t len,
	    struct pcp_response *, const char **err);

/* What a client keeps to tell a server that lost its state (RFC 6887 8.5). */
struct pcp_epoch {
	int		valid;
	uint32_t	server;		/* the server's epoch time, seconds */
	uint64_t	client_ms;	/* our clock when it was seen */
};

/*
 * Check a server's epoch time seen at client_ms against what came before,
 * then remember it: 0 if consistent, -1 if the server restarted or lost
 * its mappings (its time went back, or ran at another pace than ours).
 */
int	pcp_epoch_check(struct pcp_epoch *, uint32_t server, uint64_t client_ms);

/*
 * Retransmission of MAP requests.  RFC 6887 8.1.1 starts at 3 s and
 * doubles: on a link that loses 30% each way an exchange succeeds half
 * the time, and three such sends take 21 s to fail one time in eight.
 * natmapd goes at NAT-PMP's pace instead (RFC 6886 3.1: 250 ms, doubling),
 * capped at 4 s between sends, with the RFC's +-10% jitter, and gives the
 * gateway up after about 25 s.
 */
#define PCP_RT_FIRST_MS		250
#define PCP_RT_MAX_MS		4000
#define PCP_RT_BUDGET_MS	25000
/* The wait after a send: PCP_RT_FIRST_MS after none (0), then doubling to the cap. */
uint64_t pcp_rt_next(uint64_t wait);

/* A request's retransmission: set sends to 0 to start again. */
struct pcp_rt {
	unsigned int	sends;
	uint64_t	wait;
	uint64_t	first_sent;
};
/* One more send at now: the wait before the next (no jitter yet). */
uint64_t pcp_rt_sent(struct pcp_rt *, uint64_t now);

/* A MAP request's fields (the external address left as ::). */
void	pcp_map_req_init(struct pcp_map_req *, const uint8_t *nonce,
	    uint8_t protocol, uint16_t internal_port, uint16_t external_port);

const char *pcp_result_str(int result);		/* "NOT_AUTHORIZED" */
const char *natpmp_result_str(int result);	/* RFC 6886 3.5 */
void	pcp_addr_from_v4(struct in6_addr *, struct in_addr);
int	pcp_addr_to_v4(const struct in6_addr *, struct in_addr *);

#endif
