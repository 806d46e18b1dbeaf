/* SPDX-License-Identifier: ISC */
/* Pacing of the requests to a gateway: a window that follows its answers, and the lost-gateway rule. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "log.h"
#include "loop.h"
#include "pace.h"

static void	pace_kick(struct pace *);

static void
pace_kick_cb(struct timer *t)
{
	pace_kick(container_of(t, struct pace, kick_timer));
}

void
pace_init(struct pace *p)
{
	memset(p, 0, sizeof(*p));
	p->window = PACE_WINDOW_FIRST;
	timer_init(&p->kick_timer, pace_kick_cb);
}

void
pace_free(struct pace *p)
{
	timer_stop(&p->kick_timer);
}

static void	pace_answer(struct drv_op *, const struct drv_result *);

void
pace_op_init(struct pace_op *o,
    void (*done)(struct pace_op *, const struct drv_result *))
{
	memset(o, 0, sizeof(*o));
	o->done = done;
	o->op.done = pace_answer;
}

/* Another gateway or protocol: what was learnt of the last one does not hold. */
static void
pace_forget(struct pace *p, const struct mapping_driver *drv)
{
	p->drv = drv;
	p->window = PACE_WINDOW_FIRST;
	p->cut_at = 0;
	p->prompt = 0;
	p->base_rtt = 0;
	p->base_cur = 0;
	p->base_prev = 0;
	p->srtt = 0;
	p->rttvar = 0;
}

static void
pace_unqueue(struct pace_op *o)
{
	struct pace *p = o->pace;
	struct pace_op **q, *prev = NULL;

	for (q = &p->head; *q != NULL; prev = *q, q = &(*q)->next)
		if (*q == o) {
			*q = o->next;
			if (p->tail == o)
				p->tail = prev;
			p->queued--;
			break;
		}
	o->next = NULL;
}

static void
pace_enqueue(struct pace *p, struct pace_op *o, int first)
{
	o->state = PACE_QUEUED;
	o->pace = p;
	if (first || p->head == NULL) {
		o->next = p->head;
		p->head = o;
		if (p->tail == NULL)
			p->tail = o;
	} else {
		o->next = NULL;
		p->tail->next = o;
		p->tail = o;
	}
	p->queued++;
}

/* The first retransmission the gateway's answers call for: RFC 6298's RTO. */
static uint32_t
pace_rto(const struct pace *p)
{
	uint64_t rto;

	if (p->srtt == 0)
		return 0;
	rto = p->srtt + 4 * p->rttvar;
	return (uint32_t)(rto > PACE_RTO_MAX_MS ? PACE_RTO_MAX_MS : rto);
}

static void
pace_deliver(struct pace_op *o, int status, const char *detail)
{
	struct drv_result res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	snprintf(res.detail, sizeof(res.detail), "%s", detail);
	o->state = PACE_IDLE;
	o->done(o, &res);
}

/* Send what fits in the window. */
static void
pace_kick(struct pace *p)
{
	struct pace_op *o;
	int r;

	/* A driver may answer from inside map(): the outer call goes on. */
	if (p->kicking)
		return;
	p->kicking = 1;
	timer_stop(&p->kick_timer);
	while (p->sent < p->window && (o = p->head) != NULL) {
		pace_unqueue(o);
		o->state = PACE_SENT;
		o->sent_at = loop_now();
		o->req.rto_ms = pace_rto(p);
		p->sent++;
		o->ahead = p->sent;
		switch (o->kind) {
		case PACE_MAP:
			r = o->drv->map(&o->op, &o->req);
			break;
		case PACE_UNMAP:
			r = o->drv->unmap(&o->op, &o->req);
			break;
		default:
			r = o->drv->verify != NULL ?
			    o->drv->verify(&o->op, &o->req) : -1;
			break;
		}
		if (r == -1) {
			/* The driver has no gateway to ask. */
			p->sent--;
			pace_deliver(o, DRV_ERR_GATEWAY, "cannot send a request");
		}
	}
	p->kicking = 0;
}

static void
pace_submit(struct pace *p, struct pace_op *o,
    const struct mapping_driver *drv, const struct drv_map *req, int kind)
{
	if (o->state != PACE_IDLE)
		pace_cancel(o);
	if (drv != p->drv)
		pace_forget(p, drv);
	o->drv = drv;
	o->kind = kind;
	o->req = *req;
	o->resends = 0;
	pace_enqueue(p, o, 0);
	pace_kick(p);
}

void
pace_map(struct pace *p, struct pace_op *o, const struct mapping_driver *drv,
    const struct drv_map *req)
{
	pace_submit(p, o, drv, req, PACE_MAP);
}

void
pace_unmap(struct pace *p, struct pace_op *o, const struct mapping_driver *drv,
    const struct drv_map *req)
{
	pace_submit(p, o, drv, req, PACE_UNMAP);
}

void
pace_verify(struct pace *p, struct pace_op *o,
    const struct mapping_driver *drv, const struct drv_map *req)
{
	pace_submit(p, o, drv, req, PACE_VERIFY);
}

void
pace_cancel(struct pace_op *o)
{
	struct pace *p = o->pace;

	switch (o->state) {
	case PACE_QUEUED:
		pace_unqueue(o);
		break;
	case PACE_SENT:
		o->drv->cancel(&o->op);
		p->sent--;
		/* Room in the window; not from inside the owner's loop. */
		if (p->head != NULL && !timer_armed(&p->kick_timer))
			timer_set(&p->kick_timer, 0);
		break;
	default:
		break;
	}
	o->state = PACE_IDLE;
}

int
pace_busy(const struct pace_op *o)
{
	return o->state != PACE_IDLE;
}

int
pace_sent(const struct pace_op *o)
{
	return o->state == PACE_SENT;
}

uint64_t
pace_last_answer(const struct pace *p)
{
	return p->last_answer;
}

void
pace_heard(struct pace *p)
{
	p->last_answer = loop_now();
}

uint64_t
pace_srtt(const struct pace *p)
{
	return p->srtt;
}

unsigned int
pace_window(const struct pace *p)
{
	return p->window;
}

/*
 * A prompt answer: one more request at a time; once the window was cut,
 * one more only after a window's worth of prompt answers (the answers to
 * a larger window come a round later).
 */
static void
pace_grow(struct pace *p, const struct pace_op *o)
{
	if (p->window >= PACE_WINDOW_MAX || o->sent_at < p->cut_at)
		return;
	if (p->cut_at != 0 && ++p->prompt < p->window)
		return;
	p->prompt = 0;
	p->window++;
}

static uint64_t
pace_prompt(const struct pace *p)
{
	return 2 * p->base_rtt + PACE_PROMPT_SLACK_MS;
}

/*
 * A slow answer: the gateway served the `ahead' requests out when this
 * one was sent in `rtt', so as many as answer promptly are
 * prompt * ahead / rtt (Little's law); no more than that from now on.
 */
static void
pace_slow(struct pace *p, const struct pace_op *o, uint64_t rtt, uint64_t now)
{
	uint64_t fit = pace_prompt(p) * o->ahead / rtt;

	if (fit < 1)
		fit = 1;
	if (fit >= p->window)
		return;
	p->window = (unsigned int)fit;
	p->cut_at = now;
	p->prompt = 0;
	log_debug("%s: the gateway is slow (%llu ms); %u request%s at a time",
	    p->drv->name, (unsigned long long)rtt, p->window,
	    p->window == 1 ? "" : "s");
}

/* No answer: halve the window, once for the requests sent before the last cut. */
static void
pace_cut(struct pace *p, const struct pace_op *o, uint64_t now)
{
	if (o->sent_at < p->cut_at)
		return;
	p->window = p->window / 2 > 1 ? p->window / 2 : 1;
	p->cut_at = now;
	p->prompt = 0;
	log_debug("%s: no answer; %u request%s at a time",
	    p->drv->name, p->window, p->window == 1 ? "" : "s");
}

static void
pace_rtt(struct pace *p, uint64_t rtt, uint64_t now)
{
	uint64_t d;

	if (p->srtt == 0) {
		p->srtt = rtt > 0 ? rtt : 1;
		p->rttvar = rtt / 2;
	} else {
		d = rtt > p->srtt ? rtt - p->srtt : p->srtt - rtt;
		p->rttvar = (3 * p->rttvar + d) / 4;
		p->srtt = (7 * p->srtt + rtt) / 8;
		if (p->srtt == 0)
			p->srtt = 1;
	}
	/* The quickest answer of this period and the one before. */
	if (rtt == 0)
		rtt = 1;
	if (p->base_cur == 0 || now - p->base_at > PACE_BASE_WINDOW_MS) {
		p->base_prev = p->base_cur;
		p->base_cur = rtt;
		p->base_at = now;
	} else if (rtt < p->base_cur)
		p->base_cur = rtt;
	p->base_rtt = p->base_prev != 0 && p->base_prev < p->base_cur ?
	    p->base_prev : p->base_cur;
}

/*
 * Every answer passes here.  The one rule for a lost gateway: a request
 * that got no answer for its whole retransmission budget while the gateway
 * answered nothing else either.
 */
static void
pace_answer(struct drv_op *dop, const struct drv_result *res)
{
	struct pace_op *o = container_of(dop, struct pace_op, op);
	struct pace *p = o->pace;
	uint64_t now = loop_now(), rtt, least;
	struct drv_result slow;

	/*
	 * From the driver's first copy where it says: a request it held back
	 * behind another did not wait for the gateway meanwhile.
	 */
	rtt = now - (res->first_sent > o->sent_at ? res->first_sent :
	    o->sent_at);
	/* The least the gateway can have taken: from the last copy. */
	least = res->sends > 1 && res->last_sent > now - rtt ?
	    now - res->last_sent : rtt;
	p->sent--;
	if (res->status != DRV_ERR_GATEWAY) {
		p->last_answer = now;
		/*
		 * Karn: the time to an answer of a copy is no round trip,
		 * and says the gateway is slow only when even the last copy
		 * waited long (a lossy link is not a slow gateway).
		 */
		if (res->sends <= 1) {
			pace_rtt(p, rtt, now);
			if (rtt <= pace_prompt(p))
				pace_grow(p, o);
			else
				pace_slow(p, o, rtt, now);
		} else if (least > pace_prompt(p))
			pace_slow(p, o, least, now);
		o->state = PACE_IDLE;
		o->done(o, res);
	} else if (p->last_answer > o->sent_at) {
		/* Others were answered meanwhile: slow, not gone (one cut). */
		if (o->resends == 0)
			pace_cut(p, o, now);
		if (o->resends < PACE_RESENDS) {
			o->resends++;
			log_debug("%s: no answer in %llu ms while the gateway "
			    "answers others; sending again", p->drv->name,
			    (unsigned long long)rtt);
			pace_enqueue(p, o, 1);
		} else {
			slow = *res;
			slow.status = DRV_ERR_SLOW;
			snprintf(slow.detail, sizeof(slow.detail), "%s: no "
			    "answer in time, while the gateway answers others "
			    "(slow)", p->drv->name);
			o->state = PACE_IDLE;
			o->done(o, &slow);
		}
	} else {
		pace_cut(p, o, now);
		o->state = PACE_IDLE;
		o->done(o, res);
	}
	pace_kick(p);
}
