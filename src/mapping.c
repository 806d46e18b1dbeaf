/* SPDX-License-Identifier: ISC */
/* The mapping engine: a state machine per mapping, on the gateway gateway.c finds. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "driver.h"
#include "gateway.h"
#include "log.h"
#include "loop.h"
#include "mapping.h"
#include "pace.h"
#include "state.h"
#include "status.h"
#include "wancheck.h"

struct mapping {
	int		 state;
	int		 proto;
	uint16_t	 int_port;
	uint16_t	 ext_want;	/* as configured */
	uint16_t	 ext_port;	/* granted */
	uint32_t	 lease;		/* granted */
	uint32_t	 renew_in;	/* seconds, as the driver advised; 0: lease/2 */
	uint64_t	 soon_ms;	/* re-add this soon instead (gateway reset) */
	uint8_t		 nonce[DRV_NONCE_LEN];
	/* flags, a bit each: hundreds of mappings */
	unsigned int	 on_router:1;	/* the gateway may hold it: delete on exit */
	unsigned int	 unwanted:1;	/* dropped from the config: delete, then free */
	unsigned int	 runtime:1;	/* added through natmapctl: not the config's */
	unsigned int	 readd:1;	/* being deleted, to be added again */
	char		 owner[8];	/* natmapd's own (mapping_own_add); "" not */
	/* A stale entry from the state file: made through this, here. */
	char		 stale_proto[8];
	char		*error;		/* the last failure, for the status; NULL none */
	uint64_t	 since;		/* loop_now() of the last state change */
	struct in_addr	 stale_gateway;
	struct in_addr	 stale_local;
	uint64_t	 backoff;
	struct timer	 timer;
	struct pace_op	 op;		/* add, renew or delete, paced */
	struct verify	*vop;		/* a look at the gateway's table; NULL none */
	struct mapping	*next;
};

/*
 * A look at the gateway's table for one mapping, paced, allocated only
 * while it is out: most mappings, most of the time, have none (hundreds
 * of mappings on a small router).
 */
struct verify {
	struct pace_op	 op;
	struct mapping	*m;
	int		 canary;	/* the canary's look (a miss: check all) */
};

static struct {
	const struct mapping_driver	*drv;	/* the gateway's, as gateway.c found it */
	uint32_t			 lease;
	int				 any_port;
	struct mapping			*maps;
	int				 stopping;
	void				(*stopped)(void);
	struct timer			 stop_timer;
	uint64_t			 stop_at;	/* SIGTERM came then */
	uint64_t			 stop_report_at;
	size_t				 stop_total;	/* deletes at the start */
	struct pace			 pace;	/* requests to the gateway */
	struct pace			 look_pace;	/* lookups (verify) */
	void				(*observer)(const struct mapping_status *);
	struct in_addr			 mapped_local;	/* the address mappings point at */
	char				*state_path;
	struct timer			 state_timer;
	int				 state_warned;
	char				 tag[16];	/* descriptions start with it */
	struct drv_op			 scan_op;	/* listing the gateway's table */
	unsigned int			 scan_index;
	struct timer			 canary_timer;	/* one mapping looked up */
	int				 canary_proto;	/* the last one looked up */
	uint16_t			 canary_port;
	int				 check_all;	/* SIGUSR1: verify every mapping */
	/*
	 * The driver that looks mappings up: the one in use, or, for one
	 * that cannot (PCP, NAT-PMP), UPnP on the same gateway; NULL: none.
	 */
	const struct mapping_driver	*look;
} engine;

/* How far down a gateway's table natmapd looks for its own entries: twice
 * what it may hold, so that others' entries cannot hide ours. */
#define MAPPING_SCAN_MAX		(2 * CONF_MAX_MAPS)

/* After a gateway reset, mappings come back at random within this (RFC 6887 14.1.3). */
#define MAPPING_RESET_SPREAD_MS		5000

static const char *const state_names[] = {
	[MAPPING_WAIT] = "wait",
	[MAPPING_ADDING] = "adding",
	[MAPPING_BOUND] = "bound",
	[MAPPING_RENEWING] = "renewing",
	[MAPPING_RETRY] = "retry",
	[MAPPING_DELETING] = "deleting",
	[MAPPING_GONE] = "gone",
};

static void	mapping_add(struct mapping *);
static void	verify_done(struct pace_op *, const struct drv_result *);
static void	verify_all(void);
static void	mapping_check_stopped(void);

const char *
mapping_state_name(int s)
{
	if (s < 0 || (size_t)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}

static const char *
proto_name(int proto)
{
	return proto == DRV_UDP ? "udp" : "tcp";
}

static uint64_t
backoff_next(uint64_t *b)
{
	return loop_backoff(b, MAPPING_BACKOFF_MIN_MS, MAPPING_BACKOFF_MAX_MS);
}

/* The gateway as the world sees it: found or not, through what, where. */
static void
report_gateway(int found)
{
	struct status_gateway g;
	const struct status_gateway *was = status_gateway();

	memset(&g, 0, sizeof(g));
	g.searched = 1;
	g.found = found;
	if (found && engine.drv != NULL) {
		snprintf(g.method, sizeof(g.method), "%s", engine.drv->id);
		snprintf(g.where, sizeof(g.where), "%.*s",
		    (int)sizeof(g.where) - 1, gateway_info()->where);
		g.addr = gateway_env()->gateway;
		g.external = gateway_info()->external;
	}
	g.since = was->found == found && strcmp(was->where, g.where) == 0 ?
	    was->since : loop_now();
	status_gateway_update(&g);
}

static int
status_state_of(int state)
{
	switch (state) {
	case MAPPING_WAIT:
		return STATUS_WAITING;
	case MAPPING_ADDING:
		return STATUS_MAPPING;
	case MAPPING_BOUND:
		return STATUS_UP;
	case MAPPING_RENEWING:
		return STATUS_RENEWING;
	case MAPPING_RETRY:
		return STATUS_RETRYING;
	case MAPPING_DELETING:
		return STATUS_DELETING;
	default:
		return STATUS_DOWN;
	}
}

/* What the world sees of m: the status table (natmapctl, the hooks). */
static void
mapping_report(const struct mapping *m)
{
	struct status_map st;

	/* Old entries from an earlier natmapd are not the configuration's. */
	if (m->unwanted && m->stale_proto[0] != '\0')
		return;
	memset(&st, 0, sizeof(st));
	st.proto = m->proto;
	st.int_port = m->int_port;
	st.ext_want = m->ext_want;
	if (engine.drv != NULL && m->state != MAPPING_WAIT)
		snprintf(st.method, sizeof(st.method), "%s", engine.drv->id);
	st.state = status_state_of(m->state);
	st.int_addr = gateway_env()->local;
	if (m->state == MAPPING_BOUND || m->state == MAPPING_RENEWING) {
		st.ext_addr = gateway_info()->external;
		st.ext_port = m->ext_port;
		st.lease = m->lease;
	}
	st.since = m->since;
	if (m->state == MAPPING_BOUND && timer_armed(&m->timer))
		st.renew_at = loop_now() + timer_remaining(&m->timer);
	if (m->error != NULL)
		snprintf(st.error, sizeof(st.error), "%s", m->error);
	st.runtime = m->runtime;
	memcpy(st.owner, m->owner, sizeof(st.owner));
	status_map_update(&st);
}

/* Every state change passes here. */
static void
mapping_notify(struct mapping *m, int old)
{
	struct mapping_status st;

	log_debug("%s %u: %s -> %s", proto_name(m->proto), m->int_port,
	    mapping_state_name(old), mapping_state_name(m->state));
	if (m->state != old)
		m->since = loop_now();
	mapping_report(m);
	/* What the router holds changed: write it down, a burst at a time. */
	if (engine.state_path != NULL && (m->state == MAPPING_BOUND ||
	    m->state == MAPPING_GONE) && !timer_armed(&engine.state_timer))
		timer_set(&engine.state_timer, 100);
	if (engine.observer == NULL)
		return;
	memset(&st, 0, sizeof(st));
	st.state = m->state;
	st.old_state = old;
	st.proto = m->proto;
	st.int_addr = gateway_env()->local;
	st.int_port = m->int_port;
	st.ext_port = m->ext_port;
	st.ext_addr = gateway_info()->external;
	st.lease = m->lease;
	engine.observer(&st);
}

/* The only place that arms a mapping's timer. */
static void
mapping_transition(struct mapping *m, int state)
{
	int old = m->state;
	uint64_t ms;

	m->state = state;
	timer_stop(&m->timer);
	switch (state) {
	case MAPPING_BOUND:
		m->backoff = 0;
		if (m->soon_ms != 0) {
			ms = m->soon_ms;
			m->soon_ms = 0;
			timer_set(&m->timer, ms);
			break;
		}
		if (m->renew_in != 0)
			ms = (uint64_t)m->renew_in * 1000;
		else if (m->lease == 0)
			ms = (uint64_t)MAPPING_PERMANENT_CHECK_S * 1000;
		else
			ms = (uint64_t)m->lease * 1000 / 2;
		timer_set(&m->timer, ms > 1000 ? ms : 1000);
		break;
	case MAPPING_RETRY:
		timer_set(&m->timer, backoff_next(&m->backoff));
		break;
	case MAPPING_DELETING:
		/* A delete to send again shortly (at shutdown, unanswered). */
		if (m->soon_ms != 0) {
			timer_set(&m->timer, m->soon_ms);
			m->soon_ms = 0;
		}
		break;
	default:
		break;
	}
	mapping_notify(m, old);
}

static void
mapping_request(const struct mapping *m, struct drv_map *req)
{
	memset(req, 0, sizeof(*req));
	req->proto = m->proto;
	req->int_addr = gateway_env()->local;
	req->int_port = m->int_port;
	req->lease = engine.lease;
	snprintf(req->desc, sizeof(req->desc), "%s %s %u", engine.tag,
	    proto_name(m->proto), m->int_port);
	memcpy(req->nonce, m->nonce, sizeof(req->nonce));
	if (m->state == MAPPING_RENEWING || m->state == MAPPING_DELETING) {
		req->ext_port = m->ext_port;
		req->any_port = 0;
	} else {
		req->ext_port = m->ext_want;
		req->any_port = engine.any_port;
	}
}

static void
scan_cancel(void)
{
	if (engine.scan_op.priv != NULL && engine.drv != NULL)
		engine.drv->cancel(&engine.scan_op);
	engine.scan_op.priv = NULL;
}

static void
verify_cancel(struct mapping *m)
{
	if (m->vop == NULL)
		return;
	pace_cancel(&m->vop->op);
	free(m->vop);
	m->vop = NULL;
}

static void
mapping_free_one(struct mapping *m)
{
	struct mapping **p;

	for (p = &engine.maps; *p != NULL; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	timer_stop(&m->timer);
	pace_cancel(&m->op);
	verify_cancel(m);
	if (!(m->unwanted && m->stale_proto[0] != '\0'))
		status_map_remove(m->proto, m->int_port, m->ext_want);
	free(m->error);
	free(m);
}

/* The gateway lost its mappings: add every bound one again, spread over 0..5 s. */
static void
remap_all(const struct mapping *except)
{
	struct mapping *m;

	for (m = engine.maps; m != NULL; m = m->next) {
		if (m == except || m->state != MAPPING_BOUND)
			continue;
		/* Already due soon (announcements come in bursts): leave it. */
		if (timer_remaining(&m->timer) <= MAPPING_RESET_SPREAD_MS)
			continue;
		m->soon_ms = 1 + loop_random(MAPPING_RESET_SPREAD_MS);
		mapping_transition(m, MAPPING_BOUND);
	}
}

/* The last failure, kept for the status (NULL: none); at most 95 bytes. */
static void
mapping_error(struct mapping *m, const char *detail)
{
	free(m->error);
	m->error = NULL;
	if (detail != NULL && (m->error = strndup(detail, 95)) == NULL)
		log_warn("mapping error");
}

static void
mapping_done(struct pace_op *op, const struct drv_result *res)
{
	struct mapping *m = container_of(op, struct mapping, op);
	char ia[INET_ADDRSTRLEN], ea[INET_ADDRSTRLEN];
	int was = m->state;

	inet_ntop(AF_INET, &gateway_env()->local, ia, sizeof(ia));
	inet_ntop(AF_INET, &res->ext_addr, ea, sizeof(ea));
	if (res->status != DRV_ERR_GATEWAY && res->status != DRV_ERR_SLOW)
		status_count(STATUS_ANSWERS);
	if (res->status != DRV_OK) {
		status_count(STATUS_FAILURES);
		mapping_error(m, res->detail);
	} else {
		mapping_error(m, NULL);
		if (was == MAPPING_RENEWING)
			status_count(STATUS_RENEWALS);
	}
	if (was == MAPPING_DELETING && (res->status == DRV_ERR_SLOW ||
	    (res->status == DRV_ERR_GATEWAY && engine.stopping))) {
		/*
		 * No answer (a lossy link, a slow router): try again; at
		 * shutdown, until stop_tick() gives up.
		 */
		log_debug("%s %u: no answer to the delete; trying again",
		    proto_name(m->proto), m->int_port);
		m->soon_ms = 250;
		mapping_transition(m, MAPPING_DELETING);
		return;
	}
	if (was == MAPPING_DELETING) {
		if (res->status == DRV_OK)
			log_info("%s %s:%u -> %s:%u deleted",
			    proto_name(m->proto), ia, m->int_port, ea,
			    m->ext_port);
		else
			log_warnx("%s %s:%u -> %s:%u: delete failed: %s",
			    proto_name(m->proto), ia, m->int_port, ea,
			    m->ext_port, res->detail);
		m->on_router = 0;
		mapping_transition(m, MAPPING_GONE);
		if (m->readd && !m->unwanted && !engine.stopping) {
			m->readd = 0;
			mapping_add(m);
			return;
		}
		if (m->unwanted && !engine.stopping)
			mapping_free_one(m);
		mapping_check_stopped();
		return;
	}
	if (res->status == DRV_OK) {
		int changed;

		/* Another address, or an epoch gone back: the others again. */
		if (gateway_note_external(res->ext_addr)) {
			status_count(STATUS_ADDRESS_CHANGES);
			remap_all(m);
		}
		if (gateway_is_ready())
			report_gateway(1);
		if (res->has_epoch && gateway_note_epoch(res->epoch))
			remap_all(m);
		changed = was == MAPPING_ADDING ||
		    res->ext_port != m->ext_port || res->lease != m->lease;

		m->on_router = 1;
		m->ext_port = res->ext_port;
		m->lease = res->lease;
		m->renew_in = res->renew_in;
		if (changed) {
			char lease[32];

			if (res->lease == 0)
				snprintf(lease, sizeof(lease), "permanent");
			else
				snprintf(lease, sizeof(lease), "lease %us",
				    res->lease);
			log_info("%s %s:%u -> %s:%u via %s, %s",
			    proto_name(m->proto), ia, m->int_port, ea,
			    m->ext_port, gateway_info()->name, lease);
		} else
			log_debug("%s %u renewed, lease %us",
			    proto_name(m->proto), m->int_port, m->lease);
		mapping_transition(m, MAPPING_BOUND);
		return;
	}
	/* Unanswered, the add may have reached the gateway: delete it at exit. */
	if ((res->status == DRV_ERR_GATEWAY || res->status == DRV_ERR_SLOW) &&
	    m->ext_want != 0) {
		if (m->ext_port == 0)
			m->ext_port = m->ext_want;
		m->on_router = 1;
	}
	mapping_transition(m, MAPPING_RETRY);
	log_warnx("%s %s:%u: %s %s; retrying in %llus",
	    proto_name(m->proto), ia, m->int_port,
	    was == MAPPING_RENEWING ? "renewal failed:" : "mapping failed:",
	    res->detail, (unsigned long long)(timer_remaining(&m->timer) +
	    999) / 1000);
	if (res->status == DRV_ERR_GATEWAY)
		gateway_lost();
}

static void
mapping_add(struct mapping *m)
{
	struct drv_map req;

	if (!gateway_is_ready()) {
		mapping_transition(m, MAPPING_WAIT);
		return;
	}
	if (m->state != MAPPING_BOUND && m->state != MAPPING_RENEWING)
		mapping_transition(m, MAPPING_ADDING);
	mapping_request(m, &req);
	/* Queued; the driver may answer at once, from inside. */
	status_count(STATUS_REQUESTS);
	pace_map(&engine.pace, &m->op, engine.drv, &req);
}

static void
mapping_timer(struct timer *t)
{
	struct mapping *m = container_of(t, struct mapping, timer);

	switch (m->state) {
	case MAPPING_BOUND:
		mapping_transition(m, MAPPING_RENEWING);
		mapping_add(m);
		break;
	case MAPPING_RETRY:
		mapping_add(m);
		break;
	case MAPPING_DELETING: {
		struct drv_map req;

		mapping_request(m, &req);
		status_count(STATUS_REQUESTS);
		pace_unmap(&engine.pace, &m->op, engine.drv, &req);
		break;
	}
	default:
		break;
	}
}

static struct mapping *
mapping_new(int proto, uint16_t int_port, uint16_t ext_want)
{
	struct mapping *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("calloc");
	m->proto = proto;
	m->int_port = int_port;
	m->ext_want = ext_want;
	m->state = MAPPING_WAIT;
	pace_op_init(&m->op, mapping_done);
	for (size_t i = 0; i < sizeof(m->nonce); i += 4) {
		uint32_t r = loop_random(UINT32_MAX);

		memcpy(m->nonce + i, &r, 4);
	}
	timer_init(&m->timer, mapping_timer);
	return m;
}

static int
wants(const struct config *conf, int proto, uint16_t int_port,
    uint16_t ext_want)
{
	size_t i;

	for (i = 0; i < conf->nmaps; i++) {
		const struct conf_map *c = &conf->maps[i];
		int p = c->proto == CONF_UDP ? DRV_UDP : DRV_TCP;

		if (p == proto && int_port >= c->int_first &&
		    int_port <= c->int_last &&
		    ext_want == c->ext_first + (int_port - c->int_first))
			return 1;
	}
	return 0;
}

static struct mapping *
find(int proto, uint16_t int_port, uint16_t ext_want)
{
	struct mapping *m;

	for (m = engine.maps; m != NULL; m = m->next)
		if (m->proto == proto && m->int_port == int_port &&
		    m->ext_want == ext_want && !m->unwanted)
			return m;
	return NULL;
}

/*
 * No longer wanted: deleted from the router if it may be there, then
 * freed.  With the gateway away, an entry that may be on the router is
 * kept as an old one (the state file too) and deleted when it is back.
 */
static void
mapping_drop(struct mapping *m)
{
	struct drv_map req;

	pace_cancel(&m->op);
	m->unwanted = 1;
	if (m->on_router && gateway_is_ready()) {
		mapping_transition(m, MAPPING_DELETING);
		mapping_request(m, &req);
		status_count(STATUS_REQUESTS);
		pace_unmap(&engine.pace, &m->op, engine.drv, &req);
	} else if (m->on_router && engine.drv != NULL &&
	    m->stale_proto[0] == '\0') {
		status_map_remove(m->proto, m->int_port, m->ext_want);
		snprintf(m->stale_proto, sizeof(m->stale_proto), "%s",
		    engine.drv->id);
		m->stale_gateway = gateway_env()->gateway;
		m->stale_local = engine.mapped_local;
		verify_cancel(m);
		mapping_transition(m, MAPPING_WAIT);
		log_info("%s %u -> %u is no longer wanted; the gateway is away: "
		    "deleting it when it is back", proto_name(m->proto),
		    m->int_port, m->ext_port);
		if (engine.state_path != NULL)
			timer_set(&engine.state_timer, 100);
	} else
		mapping_free_one(m);
}

/* 1 if the gateway is to be looked for elsewhere now. */
static int
apply_settings(const struct config *conf)
{
	engine.lease = conf->lease;
	engine.any_port = conf->any_port;
	wancheck_set_servers(conf->stun, conf->nstun);
	return gateway_set_where(conf->interface, conf->have_gateway ?
	    &conf->gateway : NULL);
}

/* Add the config's mappings that are not there yet; returns how many. */
static int
add_missing(const struct config *conf)
{
	struct mapping *m, **tail;
	size_t i;
	unsigned int p;
	int n = 0;

	for (tail = &engine.maps; *tail != NULL; tail = &(*tail)->next)
		;
	for (i = 0; i < conf->nmaps; i++) {
		const struct conf_map *c = &conf->maps[i];
		int proto = c->proto == CONF_UDP ? DRV_UDP : DRV_TCP;

		for (p = c->int_first; p <= c->int_last; p++) {
			uint16_t ext = (uint16_t)(c->ext_first +
			    (p - c->int_first));

			if (find(proto, (uint16_t)p, ext) != NULL)
				continue;
			m = mapping_new(proto, (uint16_t)p, ext);
			m->since = loop_now();
			*tail = m;
			tail = &m->next;
			n++;
			mapping_report(m);
		}
	}
	return n;
}

/* An earlier natmapd's entry: delete it through the same protocol and gateway. */
static void
stale_delete(struct mapping *m)
{
	struct drv_map req;

	if (strcmp(m->stale_proto, engine.drv->id) != 0 ||
	    m->stale_gateway.s_addr != gateway_env()->gateway.s_addr ||
	    m->stale_local.s_addr != gateway_env()->local.s_addr) {
		log_info("%s %u -> %u was made through %s at %s: cannot delete "
		    "it from here; it ends with its lease",
		    proto_name(m->proto), m->int_port, m->ext_port,
		    m->stale_proto, inet_ntoa(m->stale_gateway));
		mapping_free_one(m);
		if (engine.state_path != NULL)
			timer_set(&engine.state_timer, 100);
		return;
	}
	mapping_transition(m, MAPPING_DELETING);
	mapping_request(m, &req);
	status_count(STATUS_REQUESTS);
	pace_unmap(&engine.pace, &m->op, engine.drv, &req);
}

static void
verify_done(struct pace_op *op, const struct drv_result *res)
{
	struct verify *v = container_of(op, struct verify, op);
	struct mapping *m = v->m;
	int canary = v->canary;

	m->vop = NULL;
	free(v);
	if (m->state != MAPPING_BOUND || engine.stopping)
		return;
	if (res->status == DRV_OK) {
		log_debug("%s %u: still on the gateway", proto_name(m->proto),
		    m->int_port);
		return;
	}
	if (res->status == DRV_ERR_GATEWAY)
		return;		/* the renewals will tell */
	log_info("%s %u -> %u: %s; adding it again", proto_name(m->proto),
	    m->int_port, m->ext_port, res->detail);
	mapping_transition(m, MAPPING_RENEWING);
	mapping_add(m);
	/* A router purges its whole table, more often than one entry. */
	if (canary) {
		log_info("%s gateway %s lost an entry; looking for the others",
		    engine.drv->name, gateway_info()->where);
		verify_all();
	}
}

/* Look m up in the gateway's table (engine.look), paced. */
static void
verify_start(struct mapping *m, int canary)
{
	struct verify *v;
	struct drv_map req;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		log_warn("verify");
		return;		/* the renewals will tell */
	}
	pace_op_init(&v->op, verify_done);
	v->m = m;
	v->canary = canary;
	m->vop = v;
	mapping_request(m, &req);
	req.ext_port = m->ext_port;
	req.lease = m->lease;
	/* may answer at once (done frees v) */
	pace_verify(&engine.look_pace, &v->op, engine.look, &req);
}

/*
 * Routers purge rules (idle ones, or all on a reload): look, and put back.
 * The looks go through a window of their own, at the gateway's pace, so
 * that a table of hundreds is not asked for at once.
 */
static void
verify_all(void)
{
	struct mapping *m;

	if (engine.look == NULL)
		return;
	for (m = engine.maps; m != NULL; m = m->next) {
		if (m->state == MAPPING_BOUND && m->vop == NULL)
			verify_start(m, 0);
	}
}

/*
 * The canary: routers drop their rules without a word (a purge, a reload
 * of the firewall).  Every MAPPING_CANARY_INTERVAL_S and a bit, never
 * sooner, one mapping is looked up, each in turn; the one found missing
 * is added again and every other one looked up at once.  One request per
 * turn whatever the number of mappings; a gateway that cannot be asked
 * (PCP, NAT-PMP) gets none.
 */
static void
canary_arm(void)
{
	if (engine.stopping || engine.look == NULL) {
		timer_stop(&engine.canary_timer);
		return;
	}
	timer_set(&engine.canary_timer,
	    (uint64_t)MAPPING_CANARY_INTERVAL_S * 1000 +
	    loop_random(MAPPING_CANARY_INTERVAL_S * 100));
}

static int
canary_fits(const struct mapping *m)
{
	return m->state == MAPPING_BOUND && !m->unwanted &&
	    !pace_busy(&m->op) && m->vop == NULL;
}

/* The one after the last canary, in the list's order, round and round. */
static struct mapping *
canary_next(void)
{
	struct mapping *last, *m;

	for (last = engine.maps; last != NULL; last = last->next)
		if (last->proto == engine.canary_proto &&
		    last->int_port == engine.canary_port && !last->unwanted)
			break;
	for (m = last != NULL ? last->next : engine.maps; m != last;
	    m = m != NULL ? m->next : engine.maps)
		if (m != NULL && canary_fits(m))
			return m;
	return last != NULL && canary_fits(last) ? last : NULL;
}

static void
canary_timer_cb(struct timer *t)
{
	struct mapping *m;

	(void)t;
	if (engine.stopping || !gateway_is_ready()
	    || engine.look == NULL)
		return;
	canary_arm();
	/* The gateway check, or a look at every mapping, is this turn's. */
	if (gateway_race_running())
		return;
	for (m = engine.maps; m != NULL; m = m->next)
		if (m->vop != NULL)
			return;
	if ((m = canary_next()) == NULL)
		return;
	engine.canary_proto = m->proto;
	engine.canary_port = m->int_port;
	verify_start(m, 1);
}

/*
 * One entry of the gateway's table.  natmapd's own (this instance's tag,
 * this host) that the configuration no longer asks for, left by a natmapd
 * that lost its state file, becomes a mapping to delete once the listing
 * is over (deleting shifts the indexes).
 */
static void
scan_entry(const struct drv_entry *e)
{
	struct mapping *m, **tail;
	char mine[sizeof(e->desc)];

	snprintf(mine, sizeof(mine), "%s %s %u", engine.tag,
	    proto_name(e->proto),
	    e->int_port);
	log_debug("gateway entry %u: %s %u -> %s:%u \"%s\"", engine.scan_index,
	    proto_name(e->proto), e->ext_port, inet_ntoa(e->int_addr),
	    e->int_port, e->desc);
	if (e->int_addr.s_addr != gateway_env()->local.s_addr ||
	    strcmp(e->desc, mine) != 0)
		return;
	for (m = engine.maps; m != NULL; m = m->next) {
		if (m->proto != e->proto || m->int_port != e->int_port)
			continue;
		/* Already being deleted, wanted there, or not settled yet. */
		if (m->unwanted ? m->ext_port == e->ext_port :
		    m->state != MAPPING_BOUND || m->ext_port == e->ext_port)
			return;
	}
	m = mapping_new(e->proto, e->int_port, e->ext_port);
	m->unwanted = 1;
	m->on_router = 1;
	m->ext_port = e->ext_port;
	snprintf(m->stale_proto, sizeof(m->stale_proto), "%s", engine.drv->id);
	m->stale_gateway = gateway_env()->gateway;
	m->stale_local = gateway_env()->local;
	for (tail = &engine.maps; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = m;
	log_info("%s %u -> %u, made by an earlier natmapd, is no longer "
	    "configured: deleting it", proto_name(m->proto), m->int_port,
	    m->ext_port);
}

static void
scan_end(void)
{
	struct mapping *m, *next_m;

	log_debug("looked at %u entries on the gateway", engine.scan_index);
	for (m = next_m = engine.maps; (m = next_m) != NULL;) {
		next_m = m->next;
		if (m->unwanted && m->stale_proto[0] != '\0' &&
		    m->state == MAPPING_WAIT)
			stale_delete(m);
	}
}

static void
scan_done(struct drv_op *op, const struct drv_result *res)
{
	if (engine.stopping || !gateway_is_ready())
		return;
	if (res->status != DRV_OK) {
		log_debug("cannot list the gateway's mappings: %s", res->detail);
		scan_end();
		return;
	}
	if (res->end) {
		scan_end();
		return;
	}
	scan_entry(&res->entry);
	if (++engine.scan_index >= MAPPING_SCAN_MAX ||
	    engine.drv->list(op, engine.scan_index) == -1)
		scan_end();
}

/* A new gateway: look through its table for what an earlier natmapd left. */
static void
scan_start(void)
{
	if (engine.drv->list == NULL || engine.stopping)
		return;
	scan_cancel();
	engine.scan_index = 0;
	engine.scan_op.done = scan_done;
	if (engine.drv->list(&engine.scan_op, 0) == -1)
		log_debug("cannot list the gateway's mappings");
}

/* UPnP on the gateway answered: the canary looks through it. */
static void
lookup_found(const struct mapping_driver *drv, const struct drv_gateway *gw)
{
	if (engine.stopping || !gateway_is_ready()
	    || engine.look != NULL)
		return;
	engine.look = drv;
	log_info("%s gateway %s: its mappings are looked up through %s at %s",
	    engine.drv->name, gateway_info()->where, drv->name, gw->where);
	canary_arm();
}

/*
 * Who looks the mappings up on this gateway: the driver in use if it can,
 * else the first other one that finds the same device (PCP's mappings are
 * in miniupnpd's UPnP table too); none if none does.
 */
static void
look_for_lookup(int changed)
{
	struct mapping *m;

	if (changed || (engine.look != NULL && engine.look != engine.drv &&
	    engine.drv->verify != NULL)) {
		for (m = engine.maps; m != NULL; m = m->next)
			verify_cancel(m);
		engine.look = NULL;
	}
	if (engine.drv->verify != NULL)
		engine.look = engine.drv;
	else if (engine.look == NULL)
		(void)gateway_lookup_start(gateway_env(), engine.drv,
		    lookup_found);
}

/*
 * The gateway is found (gateway.c): map what waits, and re-map on another
 * gateway.
 */
static void
on_ready(const struct mapping_driver *drv, int flags)
{
	struct mapping *m, *next_m;
	int changed = (flags & GATEWAY_CHANGED) != 0;

	if (changed)
		scan_cancel();
	engine.mapped_local = gateway_env()->local;
	engine.drv = drv;
	report_gateway(1);
	look_for_lookup(changed);
	/*
	 * SIGUSR1 on the same gateway: are the mappings still there?  The
	 * periodic check leaves that to the canary, at its steady cost.
	 */
	if ((flags & GATEWAY_CHECKED) && !changed && engine.check_all)
		verify_all();
	engine.check_all = 0;
	if (!timer_armed(&engine.canary_timer))
		canary_arm();
	for (m = next_m = engine.maps; (m = next_m) != NULL;) {
		next_m = m->next;
		if (m->unwanted && m->stale_proto[0] != '\0' &&
		    m->state == MAPPING_WAIT) {
			stale_delete(m);
			continue;
		}
		if (m->state == MAPPING_WAIT)
			mapping_add(m);
		else if (changed && !m->unwanted &&
		    (m->state == MAPPING_BOUND || m->state == MAPPING_ADDING ||
		    m->state == MAPPING_RENEWING)) {
			/*
			 * Another gateway, protocol or local address: a new
			 * mapping, not a renewal (the port wanted, --any-port).
			 * A request still out went the old way: its answer
			 * would leave the mapping as the old protocol made it
			 * (miniupnpd refuses a PCP delete of a mapping UPnP
			 * made), so it is dropped and made again this way.
			 */
			pace_cancel(&m->op);
			mapping_transition(m, MAPPING_WAIT);
			mapping_add(m);
		}
	}
	if (changed)
		scan_start();
}

/* A search found no gateway: say so (sd_notify's READY=1 waits for it). */
static void
on_none(void)
{
	report_gateway(0);
}

/* The gateway is not ready any more. */
static void
on_lost(int why)
{
	report_gateway(0);
	/* A silent one will not answer the listing of its table either. */
	if (why == GATEWAY_LOST_SILENT)
		scan_cancel();
}

/* The gateway restarted, lost its mappings or has another address. */
static void
on_reset(void)
{
	remap_all(NULL);
}

/* A periodic check of the gateway goes out: it takes the canary's turn. */
static void
on_checking(void)
{
	canary_arm();
}

/* Write down what the router holds: the mappings made and not deleted. */
static void
state_write(void)
{
	struct state_entry *ents;
	struct mapping *m;
	size_t n = 0, want = 0;
	int r;

	if (engine.state_path == NULL || engine.drv == NULL)
		return;
	timer_stop(&engine.state_timer);
	for (m = engine.maps; m != NULL; m = m->next)
		if (m->on_router)
			want++;
	if (want > STATE_MAX_ENTRIES)
		want = STATE_MAX_ENTRIES;
	if ((ents = calloc(want > 0 ? want : 1, sizeof(*ents))) == NULL)
		return;
	for (m = engine.maps; m != NULL && n < want; m = m->next) {
		/*
		 * Kept: what is on the router, old entries not deleted yet,
		 * and deletes the gateway never answered.
		 */
		if (!m->on_router)
			continue;
		if (m->stale_proto[0] != '\0')
			snprintf(ents[n].protocol, sizeof(ents[n].protocol),
			    "%s", m->stale_proto);
		else
			snprintf(ents[n].protocol, sizeof(ents[n].protocol),
			    "%s", engine.drv->id);
		ents[n].proto = m->proto;
		ents[n].int_port = m->int_port;
		ents[n].ext_port = m->ext_port;
		memcpy(ents[n].nonce, m->nonce, sizeof(ents[n].nonce));
		ents[n].gateway = m->stale_proto[0] ? m->stale_gateway :
		    gateway_env()->gateway;
		ents[n].local = m->stale_proto[0] ? m->stale_local :
		    engine.mapped_local;
		n++;
	}
	/* The first time, /var/lib/natmapd may not be there yet. */
	r = state_save(engine.state_path, ents, n);
	if (r == -1 && errno == ENOENT
	    && state_mkdir_parent(engine.state_path) == 0)
		r = state_save(engine.state_path, ents, n);
	if (r == -1) {
		if (!engine.state_warned)
			log_warn("cannot write %s", engine.state_path);
		engine.state_warned = 1;
	} else
		engine.state_warned = 0;
	free(ents);
}

static void
state_timer_cb(struct timer *t)
{
	(void)t;
	state_write();
}

/*
 * Each state file is one natmapd instance: its entries on a UPnP router
 * carry "natmapd:XXXX", a hash of the path (FNV-1a, folded to 16 bits), so
 * that a natmapd that lost its state file still knows its own entries and
 * two instances on one host never take each other's for stale.
 */
static void
tag_from_path(const char *path)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(engine.tag, sizeof(engine.tag), "natmapd:%04x",
	    (unsigned int)((h >> 16 ^ h) & 0xffff));
}

/*
 * What a natmapd before this one left on the router: the same mapping
 * keeps its nonce; one no longer configured is deleted once the same
 * gateway answers through the same protocol.
 */
void
mapping_state_file(const char *path)
{
	struct state_entry *ents = NULL;
	struct mapping *m, **tail;
	char err[256];
	size_t i, n = 0;

	free(engine.state_path);
	if ((engine.state_path = strdup(path)) == NULL)
		fatal("strdup");
	tag_from_path(path);
	if (state_load(path, &ents, &n, err, sizeof(err)) == -1) {
		log_warnx("%s; ignoring the state file", err);
		return;
	}
	for (i = 0; i < n; i++) {
		struct state_entry *e = &ents[i];

		for (m = engine.maps; m != NULL; m = m->next)
			if (m->proto == e->proto && m->int_port == e->int_port &&
			    !m->unwanted)
				break;
		if (m != NULL) {
			memcpy(m->nonce, e->nonce, sizeof(m->nonce));
			continue;
		}
		m = mapping_new(e->proto, e->int_port, e->ext_port);
		m->unwanted = 1;
		m->on_router = 1;
		m->ext_port = e->ext_port;
		memcpy(m->nonce, e->nonce, sizeof(m->nonce));
		snprintf(m->stale_proto, sizeof(m->stale_proto), "%s",
		    e->protocol);
		m->stale_gateway = e->gateway;
		m->stale_local = e->local;
		for (tail = &engine.maps; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = m;
		log_info("%s %u -> %u, made by an earlier natmapd, is no longer "
		    "configured: deleting it", proto_name(m->proto),
		    m->int_port, m->ext_port);
	}
	free(ents);
}

void
mapping_check_now(void)
{
	if (engine.stopping || gateway_check_now() == -1)
		return;
	log_info("checking the gateway and the mappings now");
	engine.check_all = 1;
}

void
mapping_watch_network(void)
{
	gateway_watch();
}

/* A late or repeated answer: the gateway is busy, not silent. */
static void
engine_heard(void)
{
	pace_heard(&engine.pace);
}

void
mapping_init(const struct config *conf,
    const struct mapping_driver *const *drivers, size_t ndrivers)
{
	static const struct gateway_watcher watcher = {
		.ready = on_ready,
		.lost = on_lost,
		.reset = on_reset,
		.checking = on_checking,
		.none = on_none,
	};

	memset(&engine, 0, sizeof(engine));
	pace_init(&engine.pace);
	pace_init(&engine.look_pace);
	drv_heard_hook = engine_heard;
	gateway_init(drivers, ndrivers, &watcher);
	engine.drv = ndrivers > 0 ? drivers[0] : NULL;
	(void)apply_settings(conf);
	timer_init(&engine.canary_timer, canary_timer_cb);
	timer_init(&engine.state_timer, state_timer_cb);
	snprintf(engine.tag, sizeof(engine.tag), "natmapd");
	timer_init(&engine.stop_timer, NULL);
	add_missing(conf);
}

void
mapping_start(void)
{
	gateway_start();
}

void
mapping_reconfigure(const struct config *conf)
{
	struct mapping *m, *next;
	int reprobe;

	reprobe = apply_settings(conf);
	for (m = engine.maps; m != NULL; m = next) {
		next = m->next;
		if (m->unwanted)
			continue;
		if (wants(conf, m->proto, m->int_port, m->ext_want)) {
			m->runtime = 0;		/* the config's now */
			continue;
		}
		if (m->runtime || m->owner[0] != '\0')
			continue;		/* until natmapctl remove, or its owner's */
		mapping_drop(m);
	}
	if (add_missing(conf) > 0 && !reprobe)
		for (m = engine.maps; m != NULL; m = m->next)
			if (m->state == MAPPING_WAIT
			    && gateway_is_ready())
				mapping_add(m);
	if (reprobe)
		gateway_forget();
}

/* natmapctl add: the ports of c, mapped until removed or natmapd exits. */
int
mapping_runtime_add(const struct conf_map *c, char *err, size_t errlen)
{
	struct mapping *m, **tail;
	int proto = c->proto == CONF_UDP ? DRV_UDP : DRV_TCP;
	size_t wanted = 0, n = (size_t)(c->int_last - c->int_first) + 1;
	unsigned int p;

	if (engine.stopping) {
		snprintf(err, errlen, "natmapd is stopping");
		return -1;
	}
	for (m = engine.maps; m != NULL; m = m->next)
		if (!m->unwanted)
			wanted++;
	if (wanted + n > CONF_MAX_MAPS) {
		snprintf(err, errlen, "too many mappings: at most %d ports in "
		    "all", CONF_MAX_MAPS);
		return -1;
	}
	for (p = c->int_first; p <= c->int_last; p++) {
		uint16_t ext = (uint16_t)(c->ext_first + (p - c->int_first));

		for (m = engine.maps; m != NULL; m = m->next)
			if (!m->unwanted && m->proto == proto &&
			    m->ext_want == ext) {
				snprintf(err, errlen, "external port %u/%s is "
				    "mapped already (from %u%s%s)", ext,
				    proto_name(proto), m->int_port,
				    m->owner[0] != '\0' ? ", natmapd's own for " :
				    m->runtime ? ", added at run time" :
				    ", in the configuration", m->owner);
				return -1;
			}
	}
	for (tail = &engine.maps; *tail != NULL; tail = &(*tail)->next)
		;
	for (p = c->int_first; p <= c->int_last; p++) {
		m = mapping_new(proto, (uint16_t)p,
		    (uint16_t)(c->ext_first + (p - c->int_first)));
		m->runtime = 1;
		m->since = loop_now();
		*tail = m;
		tail = &m->next;
		mapping_report(m);
		if (gateway_is_ready())
			mapping_add(m);
	}
	return 0;
}

/*
 * The gateway lists m but it does not forward (gwcheck.c): deleted, then
 * added again once the delete is answered, whatever the answer.
 */
int
mapping_readd(int proto, uint16_t int_port, uint16_t ext_want)
{
	struct mapping *m = find(proto, int_port, ext_want);
	struct drv_map req;

	if (m == NULL || engine.stopping || m->state != MAPPING_BOUND ||
	    !gateway_is_ready() || pace_busy(&m->op)) {
		errno = EAGAIN;
		return -1;
	}
	verify_cancel(m);
	m->readd = 1;
	mapping_transition(m, MAPPING_DELETING);
	mapping_request(m, &req);
	status_count(STATUS_REQUESTS);
	pace_unmap(&engine.pace, &m->op, engine.drv, &req);
	return 0;
}

/* natmapctl remove: only what natmapctl added; deleted from the router. */
int
mapping_runtime_remove(const struct conf_map *c, char *err, size_t errlen)
{
	struct mapping *m;
	int proto = c->proto == CONF_UDP ? DRV_UDP : DRV_TCP;
	unsigned int p;

	if (engine.stopping) {
		snprintf(err, errlen, "natmapd is stopping");
		return -1;
	}
	for (p = c->int_first; p <= c->int_last; p++) {
		uint16_t ext = (uint16_t)(c->ext_first + (p - c->int_first));

		if ((m = find(proto, (uint16_t)p, ext)) == NULL) {
			snprintf(err, errlen, "%u:%u/%s is not mapped", p, ext,
			    proto_name(proto));
			return -1;
		}
		if (m->owner[0] != '\0') {
			snprintf(err, errlen, "%u:%u/%s is natmapd's own (%s): "
			    "it goes when %s no longer needs it", p, ext,
			    proto_name(proto), m->owner, m->owner);
			return -1;
		}
		if (!m->runtime) {
			snprintf(err, errlen, "%u:%u/%s is in the configuration "
			    "file: remove it there and reload", p, ext,
			    proto_name(proto));
			return -1;
		}
	}
	for (p = c->int_first; p <= c->int_last; p++)
		mapping_drop(find(proto, (uint16_t)p,
		    (uint16_t)(c->ext_first + (p - c->int_first))));
	return 0;
}

int
mapping_own_add(int proto, uint16_t port, const char *owner)
{
	struct mapping *m, **tail;

	if (engine.stopping) {
		errno = EBUSY;
		return -1;
	}
	for (m = engine.maps; m != NULL; m = m->next)
		if (!m->unwanted && m->proto == proto && m->ext_want == port) {
			if (m->int_port == port && m->owner[0] != '\0')
				return 0;	/* ours already */
			errno = EEXIST;
			return -1;
		}
	for (tail = &engine.maps; *tail != NULL; tail = &(*tail)->next)
		;
	m = mapping_new(proto, port, port);
	snprintf(m->owner, sizeof(m->owner), "%s", owner);
	m->since = loop_now();
	*tail = m;
	mapping_report(m);
	if (gateway_is_ready())
		mapping_add(m);
	return 0;
}

void
mapping_own_remove(int proto, uint16_t port)
{
	struct mapping *m = find(proto, port, port);

	if (m != NULL && m->owner[0] != '\0' && !engine.stopping)
		mapping_drop(m);
}

static void
mapping_check_stopped(void)
{
	struct mapping *m;
	void (*done)(void);

	if (!engine.stopping || engine.stopped == NULL)
		return;
	for (m = engine.maps; m != NULL; m = m->next)
		if (m->state == MAPPING_DELETING)
			return;
	timer_stop(&engine.stop_timer);
	state_write();
	done = engine.stopped;
	engine.stopped = NULL;
	done();
}

static size_t
deletes_left(void)
{
	struct mapping *m;
	size_t n = 0;

	for (m = engine.maps; m != NULL; m = m->next)
		if (m->state == MAPPING_DELETING)
			n++;
	return n;
}

/* Give up on the deletes still out; the state file keeps them for the next start. */
static void
stop_give_up(int silent)
{
	struct mapping *m;
	size_t n = 0;

	for (m = engine.maps; m != NULL; m = m->next) {
		if (m->state != MAPPING_DELETING)
			continue;
		pace_cancel(&m->op);
		log_warnx("%s %u -> %u: no answer to the delete in time; the "
		    "gateway may still hold it", proto_name(m->proto),
		    m->int_port, m->ext_port);
		n++;
		mapping_transition(m, MAPPING_GONE);
	}
	if (n > 0)
		log_warnx("%zu of %zu mapping%s: no answer to the delete in "
		    "time (%s)%s", n, engine.stop_total, engine.stop_total == 1
		    ? "" :
		    "s", silent ? "the gateway is silent" : "the time is up",
		    engine.state_path != NULL
		    ? "; the state file keeps what is "
		    "left, for the next start to delete" : "");
	mapping_check_stopped();
}

/*
 * The deletes go on for MAPPING_SHUTDOWN_MS, and after that while the
 * gateway answers, up to MAPPING_SHUTDOWN_MAX_MS; a gateway quiet for
 * MAPPING_SHUTDOWN_QUIET_MS then ends them.  A line every
 * MAPPING_SHUTDOWN_REPORT_MS says how far they are.
 */
static void
stop_tick(struct timer *t)
{
	uint64_t now = loop_now(), quiet, next;

	quiet = pace_last_answer(&engine.pace) > engine.stop_at ?
	    pace_last_answer(&engine.pace) : engine.stop_at;
	/* Quiet: for longer than it takes to answer, three times over. */
	next = 3 * pace_srtt(&engine.pace);
	next = quiet + (next > MAPPING_SHUTDOWN_QUIET_MS ? next :
	    MAPPING_SHUTDOWN_QUIET_MS);
	if (next < engine.stop_at + MAPPING_SHUTDOWN_MS)
		next = engine.stop_at + MAPPING_SHUTDOWN_MS;
	if (now >= next) {
		stop_give_up(1);
		return;
	}
	if (now - engine.stop_at >= MAPPING_SHUTDOWN_MAX_MS) {
		stop_give_up(0);
		return;
	}
	if (now >= engine.stop_report_at) {
		log_info("deleting: %zu of %zu left", deletes_left(),
		    engine.stop_total);
		engine.stop_report_at = now + MAPPING_SHUTDOWN_REPORT_MS;
	}
	if (next > engine.stop_at + MAPPING_SHUTDOWN_MAX_MS)
		next = engine.stop_at + MAPPING_SHUTDOWN_MAX_MS;
	if (next > engine.stop_report_at)
		next = engine.stop_report_at;
	timer_set_at(t, next);
}

/*
 * At exit, does the gateway maybe hold m?  Then it is deleted: through the
 * gateway in use, or through the last one found when it is lost for now (a
 * router restarting keeps its lease file and is back by then, or stays
 * silent, and the state file keeps the entry for the next start).
 */
static int
shutdown_deletes(const struct mapping *m, int inflight)
{
	if (!m->on_router && !inflight)
		return 0;
	if (gateway_is_ready())
		return 1;
	return gateway_was_found() && m->stale_proto[0] == '\0';
}

void
mapping_shutdown(void (*done)(void))
{
	struct mapping *m;
	struct drv_map req;

	engine.stopping = 1;
	engine.stopped = done;
	scan_cancel();
	gateway_stop();
	for (m = engine.maps; m != NULL; m = m->next) {
		/* A request not sent yet never reached the gateway. */
		int inflight = pace_sent(&m->op);

		verify_cancel(m);
		pace_cancel(&m->op);
		/* An add in flight may have reached the gateway: delete it too. */
		if (shutdown_deletes(m, inflight)) {
			if (m->ext_port == 0)
				m->ext_port = m->ext_want;
			m->on_router = 1;
			mapping_transition(m, MAPPING_DELETING);
		} else if (m->state != MAPPING_GONE)
			mapping_transition(m, MAPPING_GONE);
	}
	/* Queued in the order of the list, paced like everything else. */
	for (m = engine.maps; m != NULL; m = m->next) {
		if (m->state != MAPPING_DELETING)
			continue;
		engine.stop_total++;
		mapping_request(m, &req);
		status_count(STATUS_REQUESTS);
		pace_unmap(&engine.pace, &m->op, engine.drv, &req);
	}
	engine.stop_at = loop_now();
	engine.stop_report_at = engine.stop_at + MAPPING_SHUTDOWN_REPORT_MS;
	timer_init(&engine.stop_timer, stop_tick);
	timer_set(&engine.stop_timer, MAPPING_SHUTDOWN_MS);
	if (engine.stop_total > 0)
		log_info("deleting %zu mapping%s", engine.stop_total,
		    engine.stop_total == 1 ? "" : "s");
	mapping_check_stopped();
}

void
mapping_free(void)
{
	struct mapping *m;

	scan_cancel();
	while ((m = engine.maps) != NULL)
		mapping_free_one(m);
	pace_free(&engine.pace);
	pace_free(&engine.look_pace);
	drv_heard_hook = NULL;
	timer_stop(&engine.stop_timer);
	timer_stop(&engine.canary_timer);
	timer_stop(&engine.state_timer);
	free(engine.state_path);
	engine.state_path = NULL;
	gateway_free();
}

void
mapping_set_observer(void (*cb)(const struct mapping_status *))
{
	engine.observer = cb;
}

size_t
mapping_count(int state)
{
	struct mapping *m;
	size_t n = 0;

	for (m = engine.maps; m != NULL; m = m->next)
		if (state < 0 || m->state == state)
			n++;
	return n;
}
