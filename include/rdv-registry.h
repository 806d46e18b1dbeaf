/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's registrations: (network, node) -> observed address and candidates, with expiry; no I/O. */
#ifndef NATMAPD_RDV_REGISTRY_H
#define NATMAPD_RDV_REGISTRY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "rdv-msg.h"

#define RDV_REG_LIFETIME	75	/* seconds: granted at most, and by default */
#define RDV_REG_NODES_DEFAULT	100000	/* registrations held at most */
#define RDV_REG_NODES_MAX	10000000
#define RDV_REG_SWEEP		8192	/* hash buckets looked at by one rdv_registry_expire */

enum rdv_reg_result {
	RDV_REG_NEW = 0,	/* a new registration */
	RDV_REG_UPDATED,	/* the node's registration, renewed */
	RDV_REG_FULL,		/* refused: max_nodes held */
	RDV_REG_NOMEM,		/* refused: out of memory */
};

/*
 * How a REGISTER came: what the server needs to send to the node later
 * (a SIGNAL indication) the way the node's NAT lets it in.
 */
struct rdv_reg_via {
	uint8_t			transport;	/* RDV_UDP, RDV_TCP */
	uint8_t			sock;		/* the server socket's index, 0-3 */
	uint64_t		conn;		/* TCP: the connection's id; UDP: 0 */
};

/* What a registration holds (rdv_registry_get). */
struct rdv_reg_info {
	struct sockaddr_storage	observed;	/* where the REGISTER came from */
	uint8_t			transport;	/* RDV_UDP, RDV_TCP */
	uint8_t			sock;		/* the socket it came to */
	uint64_t		conn;		/* TCP: its connection's id */
	int			ncand;
	struct rdv_cand		cand[RDV_CAND_MAX];
	uint64_t		expires;	/* the caller's clock, ms */
};

struct rdv_registry;

/* Up to max_nodes (1..RDV_REG_NODES_MAX) registrations; NULL with errno set. */
struct rdv_registry *rdv_registry_new(size_t max_nodes);
void	rdv_registry_free(struct rdv_registry *);

/* The lifetime granted for a LIFETIME of asked seconds (has: it was given). */
uint32_t rdv_registry_lifetime(int has, uint32_t asked);

/*
 * Register or renew node (a name rdv_parse took) of network (the
 * server's index of it), seen at observed, come via (transport, socket,
 * connection), with its candidates, until expires (ms on the caller's
 * monotonic clock, now_ms its present: a registration found expired is
 * replaced, not renewed).
 */
enum rdv_reg_result rdv_registry_put(struct rdv_registry *, uint32_t network,
	    const char *node, const struct sockaddr_storage *observed,
	    const struct rdv_reg_via *via, const struct rdv_cand *cand,
	    int ncand, uint64_t now_ms, uint64_t expires);

/* 0 and the node's registration in *info if it has one at now_ms, else -1. */
int	rdv_registry_get(const struct rdv_registry *, uint32_t network,
	    const char *node, uint64_t now_ms, struct rdv_reg_info *info);

/*
 * REACH's rate limit of a node: a token bucket of burst tokens, one back
 * every interval_ms.  -1 when node of network has no registration at
 * now_ms, 0 when its bucket is empty, 1 when it has a token (taken when
 * take is set).  8 bytes a registration.
 */
int	rdv_registry_reach(struct rdv_registry *, uint32_t network,
	    const char *node, uint64_t now_ms, uint64_t interval_ms,
	    unsigned int burst, int take);

/* SIGNAL's rate limit of a node: the same, with a bucket of its own. */
int	rdv_registry_signal(struct rdv_registry *, uint32_t network,
	    const char *node, uint64_t now_ms, uint64_t interval_ms,
	    unsigned int burst, int take);

/*
 * Remove the registrations expired at now_ms in the next RDV_REG_SWEEP
 * buckets (a whole pass takes max_nodes / RDV_REG_SWEEP calls, rounded
 * up to a power of two); how many went.
 */
size_t	rdv_registry_expire(struct rdv_registry *, uint64_t now_ms);

/*
 * The networks were reloaded: map[i] is the new index of the network
 * that was i (nold of them), or UINT32_MAX for one that is gone, whose
 * registrations go.  How many went.
 */
size_t	rdv_registry_remap(struct rdv_registry *, const uint32_t *map,
	    size_t nold);

/* Registrations held (some may have expired and not been swept yet). */
size_t	rdv_registry_count(const struct rdv_registry *);

#endif
