/* SPDX-License-Identifier: ISC */
/* Replay protection for the rendezvous server: the transaction IDs seen lately, in bounded memory; no I/O. */
#ifndef NATMAPD_RDV_REPLAY_H
#define NATMAPD_RDV_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "rdv-msg.h"

/*
 * How long an entry is kept after it was seen.  A message is fresh while
 * its TIMESTAMP is within RDV_SKEW_MAX_MS of the server's clock, so one
 * that was fresh when first seen can come back fresh for up to twice
 * that; 2 seconds more for the time between the clock reads.
 */
#define RDV_REPLAY_WINDOW_MS	(2 * RDV_SKEW_MAX_MS + 2000)
#define RDV_REPLAY_MAX		(1U << 26)	/* entries at most */

enum rdv_replay_verdict {
	RDV_REPLAY_NEW = 0,	/* not seen lately: remembered now, take it */
	RDV_REPLAY_SEEN,	/* seen lately: a replay, drop it */
	RDV_REPLAY_STALE,	/* its TIMESTAMP is not fresh: drop it */
	RDV_REPLAY_FLOOD,	/* maybe a replay of one forgotten early: drop it */
};

/*
 * The cache remembers (network, transaction ID) pairs, each for
 * RDV_REPLAY_WINDOW_MS after it was seen, in a hash table under a random
 * key (crypto_hash: nobody can make IDs collide) with at most capacity
 * entries, allocated at once: 40 bytes each and 4 to 8 of index.
 *
 * Under a flood of more fresh messages than capacity per window, the
 * oldest entry is dropped before its time to make room, and its
 * TIMESTAMP raises a horizon: from then on a message whose TIMESTAMP is
 * not after the horizon is refused (RDV_REPLAY_FLOOD), since it could be
 * a replay of an entry dropped early.  So a replay is never taken; what a
 * flood costs is that fresh messages with older timestamps (nodes whose
 * clocks run behind the flood's) are refused too, until every dropped
 * entry would be stale anyway (a window after the last was seen).  The
 * clock is the wall clock that TIMESTAMP is checked against: if it steps
 * back after a flood, refusals last as long as the step.
 *
 * Check a message only once its MAC is verified, or anyone could fill
 * the cache.
 */
struct rdv_replay;

/* capacity 1..RDV_REPLAY_MAX; NULL with errno set (EINVAL, ENOMEM, getrandom's). */
struct rdv_replay *rdv_replay_new(size_t capacity);
void	rdv_replay_free(struct rdv_replay *);

/*
 * The verdict on a message of network (the server's index of it) with
 * transaction ID tid and TIMESTAMP ts_ms, at now_ms (the same clock, ms
 * since the epoch).  O(1) expected.
 */
enum rdv_replay_verdict rdv_replay_check(struct rdv_replay *,
	    uint32_t network, const uint8_t tid[STUN_TID_LEN], uint64_t ts_ms,
	    uint64_t now_ms);

/* Entries held now. */
size_t	rdv_replay_count(const struct rdv_replay *);

#endif
