/* SPDX-License-Identifier: ISC */
/* The transaction IDs the rendezvous server saw lately: a ring in arrival order with a keyed hash index. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "rdv-msg.h"
#include "rdv-replay.h"
#include "wire.h"

#define NONE		UINT32_MAX

struct replay_entry {
	uint8_t		tid[STUN_TID_LEN];
	uint32_t	network;
	uint64_t	seen;		/* the clock when it was remembered */
	uint64_t	ts;		/* its TIMESTAMP */
	uint32_t	bucket;
	uint32_t	next;		/* in the bucket's chain */
};

struct rdv_replay {
	struct crypto_hash	*hash;
	struct replay_entry	*e;	/* a ring, the oldest at head */
	uint32_t		 cap;
	uint32_t		 head;
	uint32_t		 count;
	uint32_t		*bucket;	/* first entry of each chain */
	uint32_t		 mask;		/* buckets - 1, a power of 2 */
	int			 flooded;	/* the horizon holds */
	uint64_t		 horizon;	/* latest TIMESTAMP dropped early */
	uint64_t		 horizon_until;	/* when all of those are stale */
};

struct rdv_replay *
rdv_replay_new(size_t capacity)
{
	struct rdv_replay *r;
	size_t nb = 1, i;

	if (capacity == 0 || capacity > RDV_REPLAY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < capacity)
		nb <<= 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->e = calloc(capacity, sizeof(*r->e));
	r->bucket = calloc(nb, sizeof(*r->bucket));
	if (r->e == NULL || r->bucket == NULL ||
	    (r->hash = crypto_hash_new()) == NULL) {
		rdv_replay_free(r);
		return NULL;
	}
	for (i = 0; i < nb; i++)
		r->bucket[i] = NONE;
	r->cap = (uint32_t)capacity;
	r->mask = (uint32_t)(nb - 1);
	return r;
}

void
rdv_replay_free(struct rdv_replay *r)
{
	if (r == NULL)
		return;
	crypto_hash_free(r->hash);
	free(r->e);
	free(r->bucket);
	free(r);
}

size_t
rdv_replay_count(const struct rdv_replay *r)
{
	return r->count;
}

static uint32_t
replay_bucket(const struct rdv_replay *r, uint32_t network,
    const uint8_t tid[STUN_TID_LEN])
{
	uint8_t k[4 + STUN_TID_LEN];

	wire_put32(k, network);
	memcpy(k + 4, tid, STUN_TID_LEN);
	return (uint32_t)crypto_hash64(r->hash, k, sizeof(k)) & r->mask;
}

/* Forget the oldest entry. */
static void
replay_drop_head(struct rdv_replay *r)
{
	struct replay_entry *e = &r->e[r->head];
	uint32_t *p = &r->bucket[e->bucket];

	while (*p != r->head)
		p = &r->e[*p].next;
	*p = e->next;
	r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
	r->count--;
}

enum rdv_replay_verdict
rdv_replay_check(struct rdv_replay *r, uint32_t network,
    const uint8_t tid[STUN_TID_LEN], uint64_t ts_ms, uint64_t now_ms)
{
	struct replay_entry *e;
	uint32_t b, i, tail;

	if (!rdv_fresh(ts_ms, now_ms))
		return RDV_REPLAY_STALE;
	/* what is past its window could not come back fresh */
	while (r->count > 0 && now_ms > r->e[r->head].seen &&
	    now_ms - r->e[r->head].seen > RDV_REPLAY_WINDOW_MS)
		replay_drop_head(r);
	if (r->flooded && now_ms > r->horizon_until) {
		r->flooded = 0;
		r->horizon = 0;
	}

	b = replay_bucket(r, network, tid);
	for (i = r->bucket[b]; i != NONE; i = r->e[i].next)
		if (r->e[i].network == network &&
		    memcmp(r->e[i].tid, tid, STUN_TID_LEN) == 0)
			return RDV_REPLAY_SEEN;
	if (r->flooded && ts_ms <= r->horizon)
		return RDV_REPLAY_FLOOD;

	if (r->count == r->cap) {
		/* full of live entries: the oldest goes before its time */
		e = &r->e[r->head];
		if (!r->flooded || e->ts > r->horizon)
			r->horizon = e->ts;
		if (!r->flooded || e->seen + RDV_REPLAY_WINDOW_MS >
		    r->horizon_until)
			r->horizon_until = e->seen + RDV_REPLAY_WINDOW_MS;
		r->flooded = 1;
		replay_drop_head(r);
	}
	tail = r->head + r->count;
	if (tail >= r->cap)
		tail -= r->cap;
	e = &r->e[tail];
	memcpy(e->tid, tid, STUN_TID_LEN);
	e->network = network;
	e->seen = now_ms;
	e->ts = ts_ms;
	e->bucket = b;
	e->next = r->bucket[b];
	r->bucket[b] = tail;
	r->count++;
	return RDV_REPLAY_NEW;
}
