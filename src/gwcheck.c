/* SPDX-License-Identifier: ISC */
/* The TCP mappings a gateway made, checked from outside with REACH; one listed on the router but not forwarding is made again. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrclass.h"
#include "conf.h"
#include "driver.h"
#include "gwcheck.h"
#include "log.h"
#include "loop.h"
#include "mapping.h"
#include "rdv-client.h"
#include "status.h"

/* ---- pure: what a result leads to, and the pace ---- */

int
gwcheck_next(struct gwcheck_state *st, enum rdv_reach_verdict v,
    uint64_t now, uint64_t *next_ms)
{
	uint64_t ms;
	int i;

	switch (v) {
	case RDV_REACH_CONNECTED:
		st->fails = 0;
		st->unproven = 0;
		*next_ms = GWCHECK_INTERVAL_MS;
		return 0;
	case RDV_REACH_LIMITED:
		*next_ms = GWCHECK_AGAIN_MS;
		return 0;
	case RDV_REACH_NOT_PROVEN:
	case RDV_REACH_NOT_TRIED:
		/* proves neither: the failures so far stand */
		ms = GWCHECK_AGAIN_MS;
		for (i = 0; i < st->unproven && ms < GWCHECK_INTERVAL_MS; i++)
			ms *= 2;
		if (st->unproven < 30)
			st->unproven++;
		*next_ms = ms < GWCHECK_INTERVAL_MS ? ms : GWCHECK_INTERVAL_MS;
		return 0;
	case RDV_REACH_NO_CONNECTION:
		break;
	}
	st->unproven = 0;
	if (++st->fails < GWCHECK_FAILS) {
		*next_ms = GWCHECK_AGAIN_MS;
		return 0;
	}
	if (st->readd_at != 0 && now - st->readd_at < GWCHECK_READD_MIN_MS) {
		/* made again lately and still not forwarding: not again yet */
		*next_ms = st->readd_at + GWCHECK_READD_MIN_MS - now;
		if (*next_ms < GWCHECK_AGAIN_MS)
			*next_ms = GWCHECK_AGAIN_MS;
		return 0;
	}
	st->fails = 0;
	st->readd_at = now;
	*next_ms = GWCHECK_FIRST_MS;
	return 1;
}

uint64_t
gwcheck_pace_wait(const struct gwcheck_pace *p, uint64_t now)
{
	uint64_t allow = (uint64_t)(GWCHECK_BURST - 1) * GWCHECK_SPACING_MS;

	return p->tat > now + allow ? p->tat - now - allow : 0;
}

void
gwcheck_pace_take(struct gwcheck_pace *p, uint64_t now)
{
	p->tat = (p->tat > now ? p->tat : now) + GWCHECK_SPACING_MS;
}

void
gwcheck_pace_limited(struct gwcheck_pace *p, uint64_t now)
{
	uint64_t full = now + (uint64_t)GWCHECK_BURST * GWCHECK_SPACING_MS;

	if (p->tat < full)
		p->tat = full;
}

/* ---- the loop's side ---- */

struct gwc {
	uint16_t		 int_port;
	uint16_t		 ext_want;
	uint16_t		 ext_port;
	struct in_addr		 ext_addr;
	int			 readding;	/* deleted for us: kept until it is back */
	int			 queued;
	int			 reach;		/* enum status_reach, as reported */
	struct gwcheck_state	 st;
	struct timer		 timer;		/* the next check */
	struct rdv_client_op	 op;
	struct gwc		*next;
	struct gwc		*qnext;		/* due, waiting for the pace */
};

static struct {
	int			 enabled;
	struct gwc		*list;
	struct gwc		*qhead, **qtail;
	struct gwcheck_pace	 pace;
	struct timer		 pace_timer;
	int			 inited;
} gw = { .qtail = &gw.qhead };

static void	gwc_send(struct gwc *);

static struct gwc *
gwc_find(uint16_t int_port, uint16_t ext_want)
{
	struct gwc *c;

	for (c = gw.list; c != NULL; c = c->next)
		if (c->int_port == int_port && c->ext_want == ext_want)
			return c;
	return NULL;
}

static void
dequeue(struct gwc *c)
{
	struct gwc **pp;

	if (!c->queued)
		return;
	for (pp = &gw.qhead; *pp != NULL; pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			if (gw.qtail == &c->qnext)
				gw.qtail = pp;
			break;
		}
	c->qnext = NULL;
	c->queued = 0;
}

/* The queue's head goes when the pace lets it; the rest wait their turn. */
static void
pace_run(void)
{
	struct gwc *c;
	uint64_t wait;

	while ((c = gw.qhead) != NULL) {
		if ((wait = gwcheck_pace_wait(&gw.pace, loop_now())) > 0) {
			timer_set(&gw.pace_timer, wait);
			return;
		}
		dequeue(c);
		gwc_send(c);
	}
}

static void
pace_timer_cb(struct timer *t)
{
	(void)t;
	pace_run();
}

/* Due now: in the queue, at its end. */
static void
gwc_due(struct timer *t)
{
	struct gwc *c = container_of(t, struct gwc, timer);

	if (c->queued || rdv_client_reach_busy(&c->op))
		return;
	c->queued = 1;
	c->qnext = NULL;
	*gw.qtail = c;
	gw.qtail = &c->qnext;
	pace_run();
}

static void
gwc_schedule(struct gwc *c, uint64_t ms)
{
	timer_set(&c->timer, ms);
}

static void
gwc_report(struct gwc *c, int reach, const char *detail)
{
	c->reach = reach;
	status_map_reach(DRV_TCP, c->int_port, c->ext_want, reach, detail);
}

static void
gwc_free(struct gwc *c, int forget)
{
	struct gwc **pp;

	for (pp = &gw.list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	dequeue(c);
	timer_stop(&c->timer);
	rdv_client_reach_cancel(&c->op);
	if (forget)
		status_map_reach(DRV_TCP, c->int_port, c->ext_want,
		    STATUS_REACH_NONE, NULL);
	free(c);
}

/* What a check found: reported, and what follows. */
static void
gwc_result(struct gwc *c, enum rdv_reach_verdict v, const char *detail)
{
	static const int reach_of[] = {
		[RDV_REACH_CONNECTED] = STATUS_REACH_OK,
		[RDV_REACH_NO_CONNECTION] = STATUS_REACH_NOT_FORWARDING,
		[RDV_REACH_NOT_PROVEN] = STATUS_REACH_UNKNOWN,
		[RDV_REACH_LIMITED] = -1,	/* no check: the last stands */
		[RDV_REACH_NOT_TRIED] = STATUS_REACH_UNKNOWN,
	};
	char ea[INET_ADDRSTRLEN];
	uint64_t next = 0;
	int was = c->reach;

	inet_ntop(AF_INET, &c->ext_addr, ea, sizeof(ea));
	log_debug("tcp %u -> %s:%u: checked from outside: %s", c->int_port,
	    ea, c->ext_port, detail);
	if (reach_of[v] != -1)
		gwc_report(c, reach_of[v], detail);
	if (v == RDV_REACH_LIMITED)
		gwcheck_pace_limited(&gw.pace, loop_now());
	if (v == RDV_REACH_CONNECTED && was == STATUS_REACH_NOT_FORWARDING)
		log_info("tcp %u -> %s:%u forwards again (%s)", c->int_port,
		    ea, c->ext_port, detail);
	if (gwcheck_next(&c->st, v, loop_now(), &next)) {
		log_info("tcp %u -> %s:%u is listed on the gateway but does not "
		    "forward (%s, %d checks in a row): deleting it and adding "
		    "it again", c->int_port, ea, c->ext_port, detail,
		    GWCHECK_FAILS);
		/* set first: the delete's DOWN comes from inside */
		c->readding = 1;
		if (mapping_readd(DRV_TCP, c->int_port, c->ext_want) == 0)
			return;		/* checked again once it is back */
		c->readding = 0;
		log_debug("tcp %u: cannot make it again now", c->int_port);
		next = GWCHECK_AGAIN_MS;
	} else if (v == RDV_REACH_NO_CONNECTION &&
	    c->st.fails >= GWCHECK_FAILS)
		log_info("tcp %u -> %s:%u still does not forward after it was "
		    "made again (%s); next check in %llus", c->int_port, ea,
		    c->ext_port, detail, (unsigned long long)(next / 1000));
	else if (v == RDV_REACH_NO_CONNECTION)
		log_info("tcp %u -> %s:%u: no connection from outside (%s); "
		    "checking again in %llus", c->int_port, ea, c->ext_port,
		    detail, (unsigned long long)(next / 1000));
	if (next >= GWCHECK_INTERVAL_MS)
		next = loop_jitter(next, 10);
	gwc_schedule(c, next);
}

static void
gwc_answer(struct rdv_client_op *op, const struct rdv_client_answer *a)
{
	struct gwc *c = container_of(op, struct gwc, op);
	char detail[160];

	if (a == NULL)
		gwc_result(c, RDV_REACH_NOT_TRIED, "no answer from the "
		    "rendezvous server");
	else if (a->ok)
		gwc_result(c, RDV_REACH_CONNECTED, "reached");
	else {
		if (a->error_code == 404)
			snprintf(detail, sizeof(detail), "%s", a->reason);
		else
			snprintf(detail, sizeof(detail), "error %d %s",
			    a->error_code, a->reason);
		gwc_result(c, rdv_client_reach_verdict(a), detail);
	}
}

/* Its turn: a REACH to its external port, from outside. */
static void
gwc_send(struct gwc *c)
{
	const char *why;

	if (rdv_client_reach(&c->op, RDV_TCP, c->ext_port, c->ext_addr) == 0) {
		gwcheck_pace_take(&gw.pace, loop_now());
		return;
	}
	switch (errno) {
	case ENOTCONN:
		why = "not registered with a rendezvous server";
		break;
	case EADDRNOTAVAIL:
		why = "no rendezvous server sees the gateway's address";
		break;
	case EBUSY:
		gwc_schedule(c, GWCHECK_SPACING_MS);
		return;
	default:
		why = "cannot send a REACH";
		break;
	}
	gwc_result(c, RDV_REACH_NOT_TRIED, why);
}

/* A mapping of a gateway's, TCP, at a public address: one to check. */
static int
checkable(const struct status_map *m)
{
	return m->proto == DRV_TCP && m->method[0] != '\0' &&
	    strcmp(m->method, "stun") != 0 && m->ext_port != 0 &&
	    addrclass_of(m->ext_addr) == ADDRCLASS_PUBLIC;
}

/* Up at ext_addr:ext_port, or there now: checked a bit later. */
static void
gwc_up(const struct status_map *m)
{
	struct gwc *c;

	if ((c = gwc_find(m->int_port, m->ext_want)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("gwcheck");
			return;
		}
		c->int_port = m->int_port;
		c->ext_want = m->ext_want;
		timer_init(&c->timer, gwc_due);
		rdv_client_op_init(&c->op, gwc_answer);
		c->next = gw.list;
		gw.list = c;
	}
	dequeue(c);
	rdv_client_reach_cancel(&c->op);
	c->ext_port = m->ext_port;
	c->ext_addr = m->ext_addr;
	c->readding = 0;
	gwc_schedule(c, GWCHECK_FIRST_MS);
}

static void
on_event(int event, const struct status_map *m)
{
	struct gwc *c;

	if (!gw.enabled || m->proto != DRV_TCP)
		return;
	c = gwc_find(m->int_port, m->ext_want);
	switch (event) {
	case STATUS_EVENT_UP:
	case STATUS_EVENT_CHANGE:
		if (checkable(m))
			gwc_up(m);
		else if (c != NULL)
			gwc_free(c, 1);
		break;
	case STATUS_EVENT_DOWN:
		if (c == NULL)
			break;
		if (c->readding) {
			/* ours: the last check stays shown until it is back */
			dequeue(c);
			timer_stop(&c->timer);
			rdv_client_reach_cancel(&c->op);
			break;
		}
		gwc_free(c, 1);
		break;
	}
}

void
gwcheck_init(void)
{
	if (gw.inited)
		return;
	gw.inited = 1;
	gw.qtail = &gw.qhead;
	timer_init(&gw.pace_timer, pace_timer_cb);
	status_subscribe(on_event);
}

void
gwcheck_configure(const struct config *conf)
{
	int on = conf->nrdv > 0 && conf->have_key && conf->network != NULL &&
	    conf->node != NULL;
	struct status_map m;
	size_t i;

	if (on == gw.enabled)
		return;
	gwcheck_stop();
	gw.enabled = on;
	if (!on)
		return;
	log_info("the TCP mappings a gateway makes are checked from outside "
	    "through the rendezvous");
	for (i = 0; i < status_map_count(); i++)
		if (status_map_get(i, &m) == 0 &&
		    status_map_reachable(&m) && checkable(&m))
			gwc_up(&m);
}

void
gwcheck_check_now(void)
{
	struct gwc *c;

	for (c = gw.list; c != NULL; c = c->next)
		if (!c->readding && !c->queued &&
		    !rdv_client_reach_busy(&c->op))
			gwc_schedule(c, 0);
}

void
gwcheck_stop(void)
{
	while (gw.list != NULL)
		gwc_free(gw.list, 1);
	timer_stop(&gw.pace_timer);
	gw.enabled = 0;
}
