/* SPDX-License-Identifier: ISC */
/* The end-to-end check of the TCP mappings a gateway made: REACH through a rendezvous server, and a mapping that does not forward made again. */
#ifndef NATMAPD_GWCHECK_H
#define NATMAPD_GWCHECK_H

#include <stdint.h>

#include "rdv-client.h"

struct config;
struct status_map;

/*
 * With a rendezvous server configured, each TCP mapping a gateway
 * protocol made, at a public external address, is checked from outside:
 * a REACH asks the server to connect to the external port (rdv-client.c).
 * The rule forwards to the service, not to natmapd, so no nonce comes
 * back, but a connection made proves that the rule forwards, and none at
 * all (no answer to the SYNs, unreachable) that it does not; a reset
 * proves nothing (a router without the rule resets too).
 *
 * A check GWCHECK_FIRST_MS after the mapping is made, then every
 * GWCHECK_INTERVAL_MS (+-10%); after a check that found no connection,
 * again in GWCHECK_AGAIN_MS; after one that proved nothing, in
 * GWCHECK_AGAIN_MS doubling up to GWCHECK_INTERVAL_MS.  GWCHECK_FAILS
 * checks in a row without a connection: the mapping is deleted and
 * added again (mapping_readd), at most once in GWCHECK_READD_MIN_MS.
 *
 * REACHes leave at most GWCHECK_BURST at once, then one every
 * GWCHECK_SPACING_MS for the whole node, under the server's limit
 * (RDV_REACH_BURST 5, then one every RDV_REACH_INTERVAL_MS 6 s) with room
 * left for the fallback's own; a 429 is no failure: the checks wait.  So
 * a round of n mappings takes n * 8 s at least: beyond 37 mappings, each
 * is checked less often than every 5 minutes.  One REACH at most is out
 * per mapping.
 */
#define GWCHECK_FIRST_MS	3000
#define GWCHECK_AGAIN_MS	10000
#define GWCHECK_INTERVAL_MS	300000
#define GWCHECK_FAILS		2
#define GWCHECK_READD_MIN_MS	GWCHECK_INTERVAL_MS
#define GWCHECK_BURST		3
#define GWCHECK_SPACING_MS	8000

/* One mapping's record of its checks (pure: gwcheck_next). */
struct gwcheck_state {
	int		fails;		/* no connection, in a row */
	int		unproven;	/* nothing proven, in a row */
	uint64_t	readd_at;	/* the last re-add; 0: none */
};

/*
 * After a check at now that found v (RDV_REACH_NOT_TRIED also when no
 * REACH could be sent or none was answered): 1 if the mapping is to be
 * deleted and added again (then the next check is GWCHECK_FIRST_MS
 * after it is made again), else 0 and *next_ms is the delay to the next
 * check (without the jitter).  A connection resets the failures, no
 * connection counts one, nothing proven leaves them, a 429 is no check.
 */
int	gwcheck_next(struct gwcheck_state *, enum rdv_reach_verdict v,
	    uint64_t now, uint64_t *next_ms);

/*
 * The node's pace (GCRA): a burst of GWCHECK_BURST, then one every
 * GWCHECK_SPACING_MS.  wait: the ms until one may go (0: now); take:
 * one goes now; limited: the server said 429, the pace starts over.
 */
struct gwcheck_pace {
	uint64_t	tat;		/* theoretical arrival time */
};
uint64_t gwcheck_pace_wait(const struct gwcheck_pace *, uint64_t now);
void	gwcheck_pace_take(struct gwcheck_pace *, uint64_t now);
void	gwcheck_pace_limited(struct gwcheck_pace *, uint64_t now);

/*
 * The loop's side.  gwcheck_init() subscribes to the status (call once,
 * after status_init); gwcheck_configure() after rdv_client_configure():
 * with rendezvous servers, the mappings up now and every one that comes
 * up are checked; without, none is and the status forgets the checks.
 * gwcheck_check_now(): every one at once, paced (SIGUSR1, natmapctl
 * check).  gwcheck_stop() at shutdown, before rdv_client_stop().
 */
void	gwcheck_init(void);
void	gwcheck_configure(const struct config *);
void	gwcheck_check_now(void);
void	gwcheck_stop(void);

#endif
