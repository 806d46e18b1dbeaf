/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's registrations in a hash table of bounded size, with expiry in bounded steps; no I/O. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "rdv-registry.h"
#include "wire.h"

/* An address in 20 bytes, not a sockaddr_storage's 128. */
struct reg_addr {
	uint8_t		family;		/* 4, 6 */
	uint8_t		kind;		/* candidates: enum rdv_cand_kind */
	uint8_t		transport;	/* RDV_TCP, RDV_UDP */
	uint8_t		sock;		/* observed: the server socket it came to */
	uint16_t	port;		/* host order */
	uint8_t		addr[16];
};

struct reg_entry {
	struct reg_entry	*next;		/* in the bucket */
	struct reg_addr		*cand;		/* ncand of them, or NULL */
	uint64_t		 expires;
	uint64_t		 reach_tat;	/* REACH's bucket (rdv_registry_reach) */
	uint64_t		 signal_tat;	/* SIGNAL's (rdv_registry_signal) */
	uint64_t		 conn;		/* TCP: the connection's id */
	uint32_t		 network;
	uint8_t			 ncand;
	uint8_t			 nodelen;
	struct reg_addr		 observed;
	char			 node[];	/* nodelen bytes, no NUL */
};

struct rdv_registry {
	struct reg_entry	**b;
	size_t			  nb;		/* a power of two */
	size_t			  n, max;
	size_t			  sweep;	/* the next bucket to expire */
	struct crypto_hash	 *hash;
};

struct rdv_registry *
rdv_registry_new(size_t max_nodes)
{
	struct rdv_registry *r;

	if (max_nodes == 0 || max_nodes > RDV_REG_NODES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->max = max_nodes;
	for (r->nb = 16; r->nb < max_nodes; r->nb <<= 1)
		;
	if ((r->b = calloc(r->nb, sizeof(*r->b))) == NULL ||
	    (r->hash = crypto_hash_new()) == NULL) {
		free(r->b);
		free(r);
		return NULL;
	}
	return r;
}

static void
entry_free(struct reg_entry *e)
{
	free(e->cand);
	free(e);
}

void
rdv_registry_free(struct rdv_registry *r)
{
	struct reg_entry *e, *next;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nb; i++)
		for (e = r->b[i]; e != NULL; e = next) {
			next = e->next;
			entry_free(e);
		}
	free(r->b);
	crypto_hash_free(r->hash);
	free(r);
}

uint32_t
rdv_registry_lifetime(int has, uint32_t asked)
{
	if (!has || asked == 0 || asked > RDV_REG_LIFETIME)
		return RDV_REG_LIFETIME;
	return asked;
}

static size_t
reg_bucket(const struct rdv_registry *r, uint32_t network, const char *node,
    size_t len)
{
	uint8_t k[4 + RDV_NODE_MAX];

	wire_put32(k, network);
	memcpy(k + 4, node, len);
	return (size_t)(crypto_hash64(r->hash, k, 4 + len) & (r->nb - 1));
}

static struct reg_entry **
reg_find(const struct rdv_registry *r, uint32_t network, const char *node,
    size_t len)
{
	struct reg_entry **p;

	for (p = &r->b[reg_bucket(r, network, node, len)]; *p != NULL;
	    p = &(*p)->next)
		if ((*p)->network == network && (*p)->nodelen == len &&
		    memcmp((*p)->node, node, len) == 0)
			return p;
	return p;
}

static void
addr_pack(struct reg_addr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		a->family = 4;
		a->port = ntohs(sin->sin_port);
		memcpy(a->addr, &sin->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		a->family = 6;
		a->port = ntohs(sin6->sin6_port);
		memcpy(a->addr, &sin6->sin6_addr, 16);
	}
}

static void
addr_unpack(struct sockaddr_storage *ss, const struct reg_addr *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
	} else if (a->family == 6) {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
	}
}

/* The entry's candidates become cand; -1 (entry unchanged) without memory. */
static int
entry_set_cand(struct reg_entry *e, const struct rdv_cand *cand, int ncand)
{
	struct reg_addr *v = NULL;
	int i;

	if (ncand < 0 || ncand > RDV_CAND_MAX)
		ncand = 0;
	if (ncand > 0) {
		if (ncand == e->ncand)
			v = e->cand;
		else if ((v = calloc((size_t)ncand, sizeof(*v))) == NULL)
			return -1;
		for (i = 0; i < ncand; i++) {
			addr_pack(&v[i], &cand[i].addr);
			v[i].kind = cand[i].kind;
			v[i].transport = cand[i].transport;
		}
	}
	if (v != e->cand)
		free(e->cand);
	e->cand = v;
	e->ncand = (uint8_t)ncand;
	return 0;
}

enum rdv_reg_result
rdv_registry_put(struct rdv_registry *r, uint32_t network, const char *node,
    const struct sockaddr_storage *observed, const struct rdv_reg_via *via,
    const struct rdv_cand *cand, int ncand, uint64_t now_ms,
    uint64_t expires)
{
	struct reg_entry **p, *e;
	size_t len = strnlen(node, RDV_NODE_MAX + 1);
	enum rdv_reg_result res = RDV_REG_UPDATED;

	if (len == 0 || len > RDV_NODE_MAX)
		return RDV_REG_NOMEM;	/* rdv_parse never gives one */
	p = reg_find(r, network, node, len);
	if ((e = *p) != NULL && e->expires <= now_ms)
		res = RDV_REG_NEW;	/* lapsed: a new registration */
	if (e == NULL) {
		if (r->n >= r->max)
			return RDV_REG_FULL;
		if ((e = calloc(1, sizeof(*e) + len)) == NULL)
			return RDV_REG_NOMEM;
		e->network = network;
		e->nodelen = (uint8_t)len;
		memcpy(e->node, node, len);
		if (entry_set_cand(e, cand, ncand) == -1) {
			free(e);
			return RDV_REG_NOMEM;
		}
		*p = e;
		r->n++;
		res = RDV_REG_NEW;
	} else if (entry_set_cand(e, cand, ncand) == -1)
		return RDV_REG_NOMEM;
	addr_pack(&e->observed, observed);
	e->observed.transport = via->transport;
	e->observed.sock = via->sock;
	e->conn = via->transport == RDV_TCP ? via->conn : 0;
	e->expires = expires;
	return res;
}

int
rdv_registry_get(const struct rdv_registry *r, uint32_t network,
    const char *node, uint64_t now_ms, struct rdv_reg_info *info)
{
	const struct reg_entry *e;
	size_t len = strnlen(node, RDV_NODE_MAX + 1);
	int i;

	if (len == 0 || len > RDV_NODE_MAX)
		return -1;
	e = *reg_find(r, network, node, len);
	if (e == NULL || e->expires <= now_ms)
		return -1;
	memset(info, 0, sizeof(*info));
	addr_unpack(&info->observed, &e->observed);
	info->transport = e->observed.transport;
	info->sock = e->observed.sock;
	info->conn = e->conn;
	info->expires = e->expires;
	info->ncand = e->ncand;
	for (i = 0; i < e->ncand; i++) {
		addr_unpack(&info->cand[i].addr, &e->cand[i]);
		info->cand[i].kind = e->cand[i].kind;
		info->cand[i].transport = e->cand[i].transport;
	}
	return 0;
}

/*
 * A token bucket kept as one time (GCRA): *tat is when the bucket would
 * be full again.  A request at now is allowed while *tat is at most
 * (burst - 1) intervals ahead of now, and takes one interval.  signal:
 * SIGNAL's bucket, else REACH's.
 */
static int
reg_rate(struct rdv_registry *r, uint32_t network, const char *node,
    uint64_t now_ms, uint64_t interval_ms, unsigned int burst, int take,
    int signal)
{
	struct reg_entry *e;
	size_t len = strnlen(node, RDV_NODE_MAX + 1);
	uint64_t tat, *tp;

	if (len == 0 || len > RDV_NODE_MAX || burst == 0)
		return -1;
	e = *reg_find(r, network, node, len);
	if (e == NULL || e->expires <= now_ms)
		return -1;
	tp = signal ? &e->signal_tat : &e->reach_tat;
	tat = *tp > now_ms ? *tp : now_ms;
	if (tat - now_ms > (uint64_t)(burst - 1) * interval_ms)
		return 0;
	if (take)
		*tp = tat + interval_ms;
	return 1;
}

int
rdv_registry_reach(struct rdv_registry *r, uint32_t network,
    const char *node, uint64_t now_ms, uint64_t interval_ms,
    unsigned int burst, int take)
{
	return reg_rate(r, network, node, now_ms, interval_ms, burst, take, 0);
}

int
rdv_registry_signal(struct rdv_registry *r, uint32_t network,
    const char *node, uint64_t now_ms, uint64_t interval_ms,
    unsigned int burst, int take)
{
	return reg_rate(r, network, node, now_ms, interval_ms, burst, take, 1);
}

size_t
rdv_registry_expire(struct rdv_registry *r, uint64_t now_ms)
{
	struct reg_entry **p, *e;
	size_t i, gone = 0;

	for (i = 0; i < RDV_REG_SWEEP && i < r->nb; i++) {
		for (p = &r->b[r->sweep]; (e = *p) != NULL; ) {
			if (e->expires <= now_ms) {
				*p = e->next;
				entry_free(e);
				r->n--;
				gone++;
			} else
				p = &e->next;
		}
		r->sweep = (r->sweep + 1) & (r->nb - 1);
	}
	return gone;
}

size_t
rdv_registry_remap(struct rdv_registry *r, const uint32_t *map, size_t nold)
{
	struct reg_entry **p, *e, *moved = NULL;
	size_t i, gone = 0;

	/* take every entry out, then put back those that stay: new buckets */
	for (i = 0; i < r->nb; i++) {
		for (p = &r->b[i]; (e = *p) != NULL; ) {
			*p = e->next;
			if (e->network >= nold || map[e->network] == UINT32_MAX) {
				entry_free(e);
				r->n--;
				gone++;
				continue;
			}
			e->network = map[e->network];
			e->next = moved;
			moved = e;
		}
	}
	while ((e = moved) != NULL) {
		moved = e->next;
		p = &r->b[reg_bucket(r, e->network, e->node, e->nodelen)];
		e->next = *p;
		*p = e;
	}
	return gone;
}

size_t
rdv_registry_count(const struct rdv_registry *r)
{
	return r->n;
}
