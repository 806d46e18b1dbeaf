/* SPDX-License-Identifier: ISC */
/* The mapping engine: gateway probing with backoff, and a state machine per mapping. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "announce.h"
#include "conf.h"
#include "driver.h"
#include "log.h"
#include "loop.h"
#include "mapping.h"
#include "netwatch.h"
#include "osdep.h"
#include "pace.h"
#include "pcp-msg.h"
#include "state.h"
#include "upnp-msg.h"

enum gw_state {
	GW_NONE,
	GW_PROBING,
	GW_READY,
};

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
	int		 on_router;	/* the gateway may hold it: delete on exit */
	int		 unwanted;	/* dropped from the config: delete, then free */
	/* A stale entry from the state file: made through this, here. */
	char		 stale_proto[8];
	struct in_addr	 stale_gateway;
	struct in_addr	 stale_local;
	uint64_t	 backoff;
	struct timer	 timer;
	struct pace_op	 op;		/* add, renew or delete, paced */
	struct drv_op	 vop;		/* a periodic verification */
	struct mapping	*next;
};

#define MAPPING_MAX_DRIVERS	4
/* How long a lower-preference answer waits for the higher ones still out. */
#define MAPPING_PROBE_GRACE_MS	150

enum probe_slot_state {
	SLOT_DEFERRED,		/* not started: waits for the better ones */
	SLOT_RUNNING,
	SLOT_OK,
	SLOT_FAILED,
};

struct probe_slot {
	const struct mapping_driver	*drv;
	int				 state;
	struct drv_gateway		 gw;
	char				 detail[96];
};

static struct {
	const struct mapping_driver	*drv;	/* the one chosen */
	struct probe_slot		 slot[MAPPING_MAX_DRIVERS];
	size_t				 nslots;
	struct timer			 grace_timer;
	struct timer			 defer_timer;
	uint32_t			 lease;
	int				 any_port;
	char				 ifname[16];
	int				 have_gateway;
	struct in_addr			 gateway;
	int				 gw_state;
	struct drv_env			 env;
	struct drv_gateway		 gw;
	struct timer			 probe_timer;
	uint64_t			 probe_backoff;
	int				 probe_failures;
	struct mapping			*maps;
	int				 stopping;
	void				(*stopped)(void);
	struct timer			 stop_timer;
	uint64_t			 stop_at;	/* SIGTERM came then */
	uint64_t			 stop_report_at;
	size_t				 stop_total;	/* deletes at the start */
	struct pace			 pace;	/* requests to the gateway */
	void				(*observer)(const struct mapping_status *);
	struct in_addr			 mapped_local;	/* the address mappings point at */
	struct pcp_epoch		 epoch;	/* the gateway's, RFC 6887 8.5 */
	char				*state_path;
	struct timer			 state_timer;
	int				 state_warned;
	int				 watching;	/* netwatch and announcements */
	struct timer			 check_timer;	/* the periodic re-probe */
	int				 gw_quiet;	/* a periodic probe: log only changes */
	int				 probing;	/* a probe is out (gw_state may be READY) */
	int				 announce_fd;
	struct loop_fd			 announce_lfd;
	int				 ssdp_fd;	/* SSDP NOTIFY from the gateway */
	struct loop_fd			 ssdp_lfd;
	long				 bootid;	/* its last BOOTID, -1: none yet */
	struct in_addr			 announce_local;
	int				 netwatch_fd;
	struct loop_fd			 netwatch_lfd;
	struct timer			 netchange_timer;
	int				 netchange_bits;
	char				 tag[16];	/* descriptions start with it */
	struct drv_op			 scan_op;	/* listing the gateway's table */
	unsigned int			 scan_index;
} E;

/* How far down a gateway's table natmapd looks for its own entries. */
#define MAPPING_SCAN_MAX		256

/* How often the gateway is probed again, to notice a new external address. */
#define MAPPING_CHECK_INTERVAL_S	300

/* After a gateway reset, mappings come back at random within this (RFC 6887 14.1.3). */
#define MAPPING_RESET_SPREAD_MS		5000

/* A burst of kernel messages is one change: wait this long for the rest. */
#define MAPPING_NETCHANGE_DEBOUNCE_MS	250

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
static void	announce_listen(void);
static void	probe_cancel_all(void);
static int	probe_start_deferred(void);
static void	verify_done(struct drv_op *, const struct drv_result *);
static void	probe_done(const struct mapping_driver *, int,
		    const struct drv_gateway *, const char *);
static void	mapping_probe(void);
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
	uint64_t d = *b < MAPPING_BACKOFF_MIN_MS ? MAPPING_BACKOFF_MIN_MS : *b;

	*b = d * 2 > MAPPING_BACKOFF_MAX_MS ? MAPPING_BACKOFF_MAX_MS : d * 2;
	d = loop_jitter(d, 20);
	return d > MAPPING_BACKOFF_MAX_MS ? MAPPING_BACKOFF_MAX_MS : d;
}

/* Every state change passes here. */
static void
mapping_notify(struct mapping *m, int old)
{
	struct mapping_status st;

	log_debug("%s %u: %s -> %s", proto_name(m->proto), m->int_port,
	    mapping_state_name(old), mapping_state_name(m->state));
	/* What the router holds changed: write it down, a burst at a time. */
	if (E.state_path != NULL && (m->state == MAPPING_BOUND ||
	    m->state == MAPPING_GONE) && !timer_armed(&E.state_timer))
		timer_set(&E.state_timer, 100);
	if (E.observer == NULL)
		return;
	memset(&st, 0, sizeof(st));
	st.state = m->state;
	st.old_state = old;
	st.proto = m->proto;
	st.int_addr = E.env.local;
	st.int_port = m->int_port;
	st.ext_port = m->ext_port;
	st.ext_addr = E.gw.external;
	st.lease = m->lease;
	E.observer(&st);
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
	req->int_addr = E.env.local;
	req->int_port = m->int_port;
	req->lease = E.lease;
	snprintf(req->desc, sizeof(req->desc), "%s %s %u", E.tag,
	    proto_name(m->proto), m->int_port);
	memcpy(req->nonce, m->nonce, sizeof(req->nonce));
	if (m->state == MAPPING_RENEWING || m->state == MAPPING_DELETING) {
		req->ext_port = m->ext_port;
		req->any_port = 0;
	} else {
		req->ext_port = m->ext_want;
		req->any_port = E.any_port;
	}
}

static void
scan_cancel(void)
{
	if (E.scan_op.priv != NULL && E.drv != NULL)
		E.drv->cancel(&E.scan_op);
	E.scan_op.priv = NULL;
}

static void
gateway_lost(void)
{
	if (E.gw_state != GW_READY || E.stopping)
		return;
	log_info("%s gateway %s stopped answering; looking for it again",
	    E.drv->name, E.gw.where);
	scan_cancel();
	E.gw_state = GW_NONE;
	E.gw_quiet = 0;
	E.probe_backoff = 0;
	if (E.probing)
		probe_cancel_all();
	timer_set(&E.probe_timer, 0);
}

static void
mapping_free_one(struct mapping *m)
{
	struct mapping **p;

	for (p = &E.maps; *p != NULL; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	timer_stop(&m->timer);
	pace_cancel(&m->op);
	if (m->vop.priv != NULL)
		E.drv->cancel(&m->vop);
	free(m);
}

/* The gateway lost its mappings: add every bound one again, spread over 0..5 s. */
static void
remap_all(const struct mapping *except)
{
	struct mapping *m;

	for (m = E.maps; m != NULL; m = m->next) {
		if (m == except || m->state != MAPPING_BOUND)
			continue;
		/* Already due soon (announcements come in bursts): leave it. */
		if (timer_remaining(&m->timer) <= MAPPING_RESET_SPREAD_MS)
			continue;
		m->soon_ms = 1 + loop_random(MAPPING_RESET_SPREAD_MS);
		mapping_transition(m, MAPPING_BOUND);
	}
}

/* Every epoch time the gateway tells: a jump back means it restarted. */
static void
epoch_seen(uint32_t epoch, const struct mapping *except)
{
	if (pcp_epoch_check(&E.epoch, epoch, loop_now()) == 0)
		return;
	log_info("%s gateway %s restarted or lost its mappings (epoch %u); "
	    "mapping again", E.drv->name, E.gw.where, epoch);
	remap_all(except);
}

/* An answer names the external address: the first one, or a change (1). */
static int
note_external(struct in_addr ext)
{
	char was[INET_ADDRSTRLEN], now[INET_ADDRSTRLEN];
	int changed = E.gw.external.s_addr != INADDR_ANY;

	if (ext.s_addr == INADDR_ANY || ext.s_addr == E.gw.external.s_addr)
		return 0;
	inet_ntop(AF_INET, &E.gw.external, was, sizeof(was));
	inet_ntop(AF_INET, &ext, now, sizeof(now));
	if (E.gw.external.s_addr == INADDR_ANY)
		log_info("%s gateway %s: external address %s", E.drv->name,
		    E.gw.where, now);
	else
		log_info("public address %s -> %s", was, now);
	E.gw.external = ext;
	E.gw.external_reserved = upnp_addr_reserved(ext);
	if (E.gw.external_reserved)
		log_info("%s gateway %s reports external address %s, which is "
		    "reserved: double NAT or carrier-grade NAT is possible; "
		    "mapping anyway", E.drv->name, E.gw.where, now);
	return changed;
}

static void
mapping_done(struct pace_op *op, const struct drv_result *res)
{
	struct mapping *m = container_of(op, struct mapping, op);
	char ia[INET_ADDRSTRLEN], ea[INET_ADDRSTRLEN];
	int was = m->state;

	inet_ntop(AF_INET, &E.env.local, ia, sizeof(ia));
	inet_ntop(AF_INET, &res->ext_addr, ea, sizeof(ea));
	if (was == MAPPING_DELETING && (res->status == DRV_ERR_SLOW ||
	    (res->status == DRV_ERR_GATEWAY && E.stopping))) {
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
		if (m->unwanted && !E.stopping)
			mapping_free_one(m);
		mapping_check_stopped();
		return;
	}
	if (res->status == DRV_OK) {
		int changed;

		if (note_external(res->ext_addr))
			remap_all(m);
		if (res->has_epoch)
			epoch_seen(res->epoch, m);
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
			    m->ext_port, E.gw.name, lease);
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

	if (E.gw_state != GW_READY) {
		mapping_transition(m, MAPPING_WAIT);
		return;
	}
	if (m->state != MAPPING_BOUND && m->state != MAPPING_RENEWING)
		mapping_transition(m, MAPPING_ADDING);
	mapping_request(m, &req);
	/* Queued; the driver may answer at once, from inside. */
	pace_map(&E.pace, &m->op, E.drv, &req);
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
		pace_unmap(&E.pace, &m->op, E.drv, &req);
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
	m->vop.done = verify_done;
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

	for (m = E.maps; m != NULL; m = m->next)
		if (m->proto == proto && m->int_port == int_port &&
		    m->ext_want == ext_want && !m->unwanted)
			return m;
	return NULL;
}

static void
apply_settings(const struct config *conf)
{
	E.lease = conf->lease;
	E.any_port = conf->any_port;
	snprintf(E.ifname, sizeof(E.ifname), "%s",
	    conf->interface != NULL ? conf->interface : "");
	E.have_gateway = conf->have_gateway;
	E.gateway = conf->gateway;
}

/* Add the config's mappings that are not there yet; returns how many. */
static int
add_missing(const struct config *conf)
{
	struct mapping *m, **tail;
	size_t i;
	unsigned int p;
	int n = 0;

	for (tail = &E.maps; *tail != NULL; tail = &(*tail)->next)
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
			*tail = m;
			tail = &m->next;
			n++;
		}
	}
	return n;
}

/* An earlier natmapd's entry: delete it through the same protocol and gateway. */
static void
stale_delete(struct mapping *m)
{
	struct drv_map req;

	if (strcmp(m->stale_proto, E.drv->id) != 0 ||
	    m->stale_gateway.s_addr != E.env.gateway.s_addr ||
	    m->stale_local.s_addr != E.env.local.s_addr) {
		log_info("%s %u -> %u was made through %s at %s: cannot delete "
		    "it from here; it ends with its lease",
		    proto_name(m->proto), m->int_port, m->ext_port,
		    m->stale_proto, inet_ntoa(m->stale_gateway));
		mapping_free_one(m);
		if (E.state_path != NULL)
			timer_set(&E.state_timer, 100);
		return;
	}
	mapping_transition(m, MAPPING_DELETING);
	mapping_request(m, &req);
	pace_unmap(&E.pace, &m->op, E.drv, &req);
}

static void
verify_done(struct drv_op *op, const struct drv_result *res)
{
	struct mapping *m = container_of(op, struct mapping, vop);

	if (m->state != MAPPING_BOUND || E.stopping)
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
}

/* Routers purge rules (idle ones, or all on a reload): look, and put back. */
static void
verify_all(void)
{
	struct mapping *m;
	struct drv_map req;

	if (E.drv->verify == NULL)
		return;
	for (m = E.maps; m != NULL; m = m->next) {
		if (m->state != MAPPING_BOUND || m->vop.priv != NULL)
			continue;
		mapping_request(m, &req);
		req.ext_port = m->ext_port;
		req.lease = m->lease;
		if (E.drv->verify(&m->vop, &req) == -1)
			log_debug("%s %u: cannot verify", proto_name(m->proto),
			    m->int_port);
	}
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

	snprintf(mine, sizeof(mine), "%s %s %u", E.tag, proto_name(e->proto),
	    e->int_port);
	log_debug("gateway entry %u: %s %u -> %s:%u \"%s\"", E.scan_index,
	    proto_name(e->proto), e->ext_port, inet_ntoa(e->int_addr),
	    e->int_port, e->desc);
	if (e->int_addr.s_addr != E.env.local.s_addr ||
	    strcmp(e->desc, mine) != 0)
		return;
	for (m = E.maps; m != NULL; m = m->next) {
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
	snprintf(m->stale_proto, sizeof(m->stale_proto), "%s", E.drv->id);
	m->stale_gateway = E.env.gateway;
	m->stale_local = E.env.local;
	for (tail = &E.maps; *tail != NULL; tail = &(*tail)->next)
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

	log_debug("looked at %u entries on the gateway", E.scan_index);
	for (m = next_m = E.maps; (m = next_m) != NULL;) {
		next_m = m->next;
		if (m->unwanted && m->stale_proto[0] != '\0' &&
		    m->state == MAPPING_WAIT)
			stale_delete(m);
	}
}

static void
scan_done(struct drv_op *op, const struct drv_result *res)
{
	if (E.stopping || E.gw_state != GW_READY)
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
	if (++E.scan_index >= MAPPING_SCAN_MAX ||
	    E.drv->list(op, E.scan_index) == -1)
		scan_end();
}

/* A new gateway: look through its table for what an earlier natmapd left. */
static void
scan_start(void)
{
	if (E.drv->list == NULL || E.stopping)
		return;
	scan_cancel();
	E.scan_index = 0;
	E.scan_op.done = scan_done;
	if (E.drv->list(&E.scan_op, 0) == -1)
		log_debug("cannot list the gateway's mappings");
}

/* The gateway is found: map what waits, and re-map on another gateway. */
static void
gateway_ready(const struct mapping_driver *drv, const struct drv_gateway *gw)
{
	struct mapping *m, *next_m;
	struct in_addr known = E.gw.external;
	int changed, was_check = E.gw_quiet;

	changed = E.drv != drv || strcmp(gw->where, E.gw.where) != 0 ||
	    E.mapped_local.s_addr != E.env.local.s_addr;
	if (changed)
		scan_cancel();
	E.mapped_local = E.env.local;
	E.drv = drv;
	E.gw = *gw;
	/* The same gateway again: a new address is a change, logged as one. */
	E.gw.external.s_addr = changed ? INADDR_ANY : known.s_addr;
	E.gw_state = GW_READY;
	E.probe_backoff = 0;
	E.probe_failures = 0;
	if (changed || E.gw_quiet == 0)
		log_info("%s gateway %s", gw->name, gw->where);
	E.gw_quiet = 0;
	E.probing = 0;
	if (note_external(gw->external) && !changed)
		remap_all(NULL);
	timer_set(&E.check_timer, loop_jitter((uint64_t)
	    MAPPING_CHECK_INTERVAL_S * 1000, 10));
	/* A periodic check of the same gateway: are the mappings still there? */
	if (was_check && !changed)
		verify_all();
	if (changed) {
		memset(&E.epoch, 0, sizeof(E.epoch));
		E.bootid = -1;
	}
	/* The search answer's BOOTID: a baseline, or a restart seen by a check. */
	if (gw->bootid >= 0) {
		if (E.bootid >= 0 && gw->bootid != E.bootid) {
			log_info("gateway %s restarted (UPnP BOOTID %ld -> %ld); "
			    "mapping again", inet_ntoa(E.env.gateway),
			    E.bootid, gw->bootid);
			remap_all(NULL);
		}
		E.bootid = gw->bootid;
	}
	if (gw->has_epoch)
		epoch_seen(gw->epoch, NULL);
	announce_listen();
	for (m = next_m = E.maps; (m = next_m) != NULL;) {
		next_m = m->next;
		if (m->unwanted && m->stale_proto[0] != '\0' &&
		    m->state == MAPPING_WAIT) {
			stale_delete(m);
			continue;
		}
		if (m->state == MAPPING_WAIT)
			mapping_add(m);
		else if (changed && m->state == MAPPING_BOUND) {
			/*
			 * Another gateway, protocol or local address: a new
			 * mapping, not a renewal (the port wanted, --any-port).
			 */
			mapping_transition(m, MAPPING_WAIT);
			mapping_add(m);
		}
	}
	if (changed)
		scan_start();
}

static void
announce_cb(struct loop_fd *lf, int ev)
{
	struct pcp_response r;
	struct in_addr ext;
	int i;

	(void)ev;
	for (i = 0; i < 8; i++) {
		if (announce_read(lf->fd, E.env.gateway, &r) != 1)
			return;
		if (E.gw_state != GW_READY || E.stopping)
			continue;
		log_debug("announcement from the gateway: %s, epoch %u",
		    r.version == PCP_VERSION ? "PCP ANNOUNCE" :
		    "NAT-PMP public address", r.epoch);
		if (r.version == NATPMP_VERSION &&
		    pcp_addr_to_v4(&r.external_addr, &ext) == 0)
			note_external(ext);
		/*
		 * Servers announce when they start, lose their state or
		 * change address (RFC 6887 14.1.3, RFC 6886 3.2.1): map
		 * again whatever the epoch says, which a server up for a
		 * few seconds only cannot tell.  Keep the epoch for the
		 * checks on ordinary answers.
		 */
		(void)pcp_epoch_check(&E.epoch, r.epoch, loop_now());
		log_info("gateway %s announced a restart (epoch %u); mapping "
		    "again", inet_ntoa(E.env.gateway), r.epoch);
		remap_all(NULL);
		/* And ask soon what the external address is now. */
		if (!E.probing)
			timer_set(&E.check_timer, loop_jitter(500, 20));
	}
}

/* A NOTIFY with another BOOTID: the gateway's UPnP device restarted. */
static void
ssdp_cb(struct loop_fd *lf, int ev)
{
	char location[256];
	long bootid;
	int i;

	(void)ev;
	for (i = 0; i < 32; i++) {
		if (announce_ssdp_read(lf->fd, E.env.gateway, &bootid, location,
		    sizeof(location)) != 1)
			return;
		if (E.gw_state != GW_READY || E.stopping)
			continue;
		/*
		 * The IGD we use now describes itself elsewhere (miniupnpd
		 * takes a new HTTP port at each start unless told one): its
		 * control URL is stale.  Look for it again, soon.
		 */
		if (strcmp(E.drv->id, "upnp") == 0 && location[0] != '\0' &&
		    strcmp(location, E.gw.where) != 0 && !E.probing &&
		    timer_remaining(&E.check_timer) > 500) {
			log_info("gateway %s now describes itself at %s; looking "
			    "for it again", inet_ntoa(E.env.gateway), location);
			timer_set(&E.check_timer, loop_jitter(200, 20));
		}
		if (bootid < 0)
			continue;
		if (E.bootid >= 0 && bootid != E.bootid) {
			log_info("gateway %s restarted (UPnP BOOTID %ld -> %ld); "
			    "mapping again", inet_ntoa(E.env.gateway),
			    E.bootid, bootid);
			remap_all(NULL);
			if (!E.probing)
				timer_set(&E.check_timer, loop_jitter(500, 20));
		}
		E.bootid = bootid;
	}
}

/* Hear the gateway's announcements, on the interface our mappings use. */
static void
announce_listen(void)
{
	if (!E.watching)
		return;
	if (E.announce_fd != -1 &&
	    E.announce_local.s_addr == E.env.local.s_addr)
		return;
	if (E.announce_fd != -1) {
		loop_fd_del(&E.announce_lfd);
		close(E.announce_fd);
	}
	if (E.ssdp_fd != -1) {
		loop_fd_del(&E.ssdp_lfd);
		close(E.ssdp_fd);
	}
	if ((E.ssdp_fd = announce_ssdp_open(E.env.local)) == -1)
		log_warn("cannot listen for SSDP NOTIFY on port 1900");
	else
		loop_fd_add(&E.ssdp_lfd, E.ssdp_fd, LOOP_READ, ssdp_cb);
	if ((E.announce_fd = announce_open(E.env.local)) == -1) {
		log_warn("cannot listen for the gateway's announcements on "
		    "port %d", PCP_CLIENT_PORT);
		return;
	}
	E.announce_local = E.env.local;
	loop_fd_add(&E.announce_lfd, E.announce_fd, LOOP_READ, announce_cb);
}

static void
probe_cancel_all(void)
{
	size_t i;

	E.probing = 0;
	timer_stop(&E.grace_timer);
	timer_stop(&E.defer_timer);
	for (i = 0; i < E.nslots; i++) {
		if (E.slot[i].state == SLOT_RUNNING &&
		    E.slot[i].drv->probe_cancel != NULL)
			E.slot[i].drv->probe_cancel();
		if (E.slot[i].state == SLOT_RUNNING ||
		    E.slot[i].state == SLOT_DEFERRED)
			E.slot[i].state = SLOT_FAILED;
	}
}

/*
 * Slots are in order of preference.  Take the best answer once every
 * better protocol has failed, or once the grace time has passed.
 */
static void
probe_decide(int grace_over)
{
	struct probe_slot *best = NULL;
	char why[256] = "";
	size_t i, running = 0;
	uint64_t d;

	for (i = 0; i < E.nslots; i++) {
		if (E.slot[i].state == SLOT_OK) {
			best = &E.slot[i];
			break;
		}
		if (E.slot[i].state == SLOT_RUNNING ||
		    E.slot[i].state == SLOT_DEFERRED)
			running++;
	}
	if (best != NULL) {
		if (running > 0 && !grace_over) {
			if (!timer_armed(&E.grace_timer))
				timer_set(&E.grace_timer,
				    MAPPING_PROBE_GRACE_MS);
			return;
		}
		probe_cancel_all();
		gateway_ready(best->drv, &best->gw);
		return;
	}
	for (i = 0; i < E.nslots; i++)
		if (E.slot[i].state == SLOT_RUNNING)
			return;
	/* Every probe out has failed: the ones that waited go now. */
	for (i = 0; i < E.nslots; i++)
		if (E.slot[i].state == SLOT_DEFERRED) {
			if (probe_start_deferred() > 0 && E.probing)
				probe_decide(0);
			return;
		}
	/* Nothing answered: say what each protocol found, and back off. */
	timer_stop(&E.grace_timer);
	E.probing = 0;
	if (E.gw_quiet && E.gw_state == GW_READY) {
		/*
		 * A periodic check: the renewals will tell if it is gone.
		 * Ask again soon (a router that just restarted may not
		 * answer everything yet), backing off.
		 */
		E.gw_quiet = 0;
		d = backoff_next(&E.probe_backoff);
		log_debug("the gateway check got no answer; again in %llus",
		    (unsigned long long)(d + 999) / 1000);
		timer_set(&E.check_timer, d);
		return;
	}
	for (i = 0; i < E.nslots; i++) {
		size_t l = strlen(why);

		snprintf(why + l, sizeof(why) - l, "%s%s: %s", i ? "; " : "",
		    E.slot[i].drv->name, E.slot[i].detail);
	}
	d = backoff_next(&E.probe_backoff);
	E.gw_state = GW_NONE;
	E.probe_failures++;
	log_warnx("no gateway protocol answered on %s (%s); retrying in %llus",
	    E.env.ifname[0] ? E.env.ifname : "the default route", why,
	    (unsigned long long)(d + 999) / 1000);
	timer_set(&E.probe_timer, d);
}

/* Start the probes that waited; 0 if there were none. */
static int
probe_start_deferred(void)
{
	size_t i;
	int n = 0;

	timer_stop(&E.defer_timer);
	for (i = 0; i < E.nslots && E.probing; i++) {
		if (E.slot[i].state != SLOT_DEFERRED)
			continue;
		n++;
		E.slot[i].state = SLOT_RUNNING;
		if (E.slot[i].drv->probe(&E.env, probe_done) == -1) {
			E.slot[i].state = SLOT_FAILED;
			snprintf(E.slot[i].detail, sizeof(E.slot[i].detail),
			    "cannot send");
		}
	}
	return n;
}

static void
defer_timer_cb(struct timer *t)
{
	(void)t;
	if (E.probing && probe_start_deferred() > 0 && E.probing)
		probe_decide(0);
}

static void
grace_timer_cb(struct timer *t)
{
	(void)t;
	probe_decide(1);
}

static void
probe_done(const struct mapping_driver *drv, int status,
    const struct drv_gateway *gw, const char *detail)
{
	size_t i;

	if (E.stopping || !E.probing)
		return;
	for (i = 0; i < E.nslots; i++) {
		struct probe_slot *sl = &E.slot[i];

		if (sl->drv != drv || sl->state != SLOT_RUNNING)
			continue;
		if (status == DRV_OK) {
			sl->state = SLOT_OK;
			sl->gw = *gw;
			log_debug("%s answered: %s", drv->name, gw->name);
		} else {
			sl->state = SLOT_FAILED;
			snprintf(sl->detail, sizeof(sl->detail), "%s",
			    detail != NULL ? detail : "no answer");
			log_debug("%s: %s", drv->name, sl->detail);
		}
		break;
	}
	probe_decide(0);
}

/* Where to look for a gateway: the interface, our address, the gateway's. */
int
mapping_find_env(struct drv_env *env, const char *ifname,
    const struct in_addr *gateway, char *why, size_t whylen)
{
	char ifout[IF_NAMESIZE] = "";

	memset(env, 0, sizeof(*env));
	if (ifname != NULL && ifname[0] == '\0')
		ifname = NULL;
	if (gateway != NULL)
		env->gateway = *gateway;
	else if (osdep_default_gateway(ifname, &env->gateway, ifout) == -1) {
		snprintf(why, whylen, "no IPv4 default route%s%s",
		    ifname != NULL ? " on " : "", ifname != NULL ? ifname : "");
		return -1;
	}
	if (ifname != NULL) {
		snprintf(env->ifname, sizeof(env->ifname), "%s", ifname);
		if (osdep_if_addr(ifname, &env->local) == -1) {
			snprintf(why, whylen, "interface %s has no IPv4 address",
			    ifname);
			return -1;
		}
	} else {
		snprintf(env->ifname, sizeof(env->ifname), "%s", ifout);
		if (osdep_source_addr(env->gateway, &env->local) == -1) {
			snprintf(why, whylen, "no route to gateway %s: %s",
			    inet_ntoa(env->gateway), strerror(errno));
			return -1;
		}
	}
	/* IPv6 on the same interface: PCP opens pinholes there too. */
	env->have6 = osdep_if_addr6(env->ifname, &env->local6) == 0 &&
	    osdep_default_gateway6(env->ifname, &env->gateway6,
	    &env->ifindex6) == 0;
	return 0;
}

static int
mapping_env(struct drv_env *env, char *why, size_t whylen)
{
	return mapping_find_env(env, E.ifname, E.have_gateway ? &E.gateway :
	    NULL, why, whylen);
}

static void
mapping_probe(void)
{
	char why[128];
	size_t i;

	if (E.stopping)
		return;
	if (mapping_env(&E.env, why, sizeof(why)) == -1) {
		uint64_t d = backoff_next(&E.probe_backoff);

		log_warnx("%s; retrying in %llus", why,
		    (unsigned long long)(d + 999) / 1000);
		timer_set(&E.probe_timer, d);
		return;
	}
	if (!E.gw_quiet)
		E.gw_state = GW_PROBING;
	E.probing = 1;
	log_debug("probing for a gateway from %s via %s",
	    inet_ntoa(E.env.local), E.env.ifname);
	/* Every protocol at once; a driver may answer from inside probe(). */
	for (i = 0; i < E.nslots; i++) {
		E.slot[i].state = i > 0 && E.slot[i].drv->probe_delay_ms > 0 ?
		    SLOT_DEFERRED : SLOT_RUNNING;
		E.slot[i].detail[0] = '\0';
		if (E.slot[i].state == SLOT_DEFERRED &&
		    !timer_armed(&E.defer_timer))
			timer_set(&E.defer_timer,
			    E.slot[i].drv->probe_delay_ms);
	}
	for (i = 0; i < E.nslots && E.probing; i++) {
		if (E.slot[i].state != SLOT_RUNNING)
			continue;
		if (E.slot[i].drv->probe(&E.env, probe_done) == -1) {
			E.slot[i].state = SLOT_FAILED;
			snprintf(E.slot[i].detail, sizeof(E.slot[i].detail),
			    "cannot send");
		}
	}
	if (E.probing)
		probe_decide(0);
}

static void
probe_timer_cb(struct timer *t)
{
	(void)t;
	mapping_probe();
}

static void
netchange_timer_cb(struct timer *t)
{
	int bits = E.netchange_bits;

	(void)t;
	E.netchange_bits = 0;
	if (E.stopping)
		return;
	log_info("network changed (%s%s%s); probing for the gateway again",
	    bits & NETWATCH_ROUTE ? "route " : "",
	    bits & NETWATCH_ADDR ? "address " : "",
	    bits & NETWATCH_LINK ? "link " : "");
	if (E.probing)
		probe_cancel_all();
	E.gw_quiet = 0;
	timer_stop(&E.probe_timer);
	E.gw_state = GW_NONE;
	E.probe_backoff = 0;
	mapping_probe();
}

/* Write down what the router holds: the mappings made and not deleted. */
static void
state_write(void)
{
	struct state_entry *ents;
	struct mapping *m;
	size_t n = 0;
	int r;

	if (E.state_path == NULL || E.drv == NULL)
		return;
	timer_stop(&E.state_timer);
	if ((ents = calloc(STATE_MAX_ENTRIES, sizeof(*ents))) == NULL)
		return;
	for (m = E.maps; m != NULL && n < STATE_MAX_ENTRIES; m = m->next) {
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
			    "%s", E.drv->id);
		ents[n].proto = m->proto;
		ents[n].int_port = m->int_port;
		ents[n].ext_port = m->ext_port;
		memcpy(ents[n].nonce, m->nonce, sizeof(ents[n].nonce));
		ents[n].gateway = m->stale_proto[0] ? m->stale_gateway :
		    E.env.gateway;
		ents[n].local = m->stale_proto[0] ? m->stale_local :
		    E.mapped_local;
		n++;
	}
	/* The first time, /var/lib/natmapd may not be there yet. */
	r = state_save(E.state_path, ents, n);
	if (r == -1 && errno == ENOENT && state_mkdir_parent(E.state_path) == 0)
		r = state_save(E.state_path, ents, n);
	if (r == -1) {
		if (!E.state_warned)
			log_warn("cannot write %s", E.state_path);
		E.state_warned = 1;
	} else
		E.state_warned = 0;
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
	snprintf(E.tag, sizeof(E.tag), "natmapd:%04x",
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

	free(E.state_path);
	if ((E.state_path = strdup(path)) == NULL)
		fatal("strdup");
	tag_from_path(path);
	if (state_load(path, &ents, &n, err, sizeof(err)) == -1) {
		log_warnx("%s; ignoring the state file", err);
		return;
	}
	for (i = 0; i < n; i++) {
		struct state_entry *e = &ents[i];

		for (m = E.maps; m != NULL; m = m->next)
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
		for (tail = &E.maps; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = m;
		log_info("%s %u -> %u, made by an earlier natmapd, is no longer "
		    "configured: deleting it", proto_name(m->proto),
		    m->int_port, m->ext_port);
	}
	free(ents);
}

/* Every few minutes: the same gateway, the same address?  Quietly. */
static void
check_timer_cb(struct timer *t)
{
	(void)t;
	if (E.stopping || E.gw_state != GW_READY)
		return;
	E.gw_quiet = 1;
	mapping_probe();
}

static void
netwatch_cb(struct loop_fd *lf, int ev)
{
	int bits;

	(void)ev;
	if ((bits = netwatch_read(lf->fd)) <= 0)
		return;
	E.netchange_bits |= bits;
	if (!timer_armed(&E.netchange_timer))
		timer_set(&E.netchange_timer, MAPPING_NETCHANGE_DEBOUNCE_MS);
}

void
mapping_check_now(void)
{
	if (E.stopping || E.gw_state != GW_READY || E.probing)
		return;
	log_info("checking the gateway and the mappings now");
	timer_set(&E.check_timer, 0);
}

void
mapping_watch_network(void)
{
	E.watching = 1;
	if (E.netwatch_fd != -1)
		return;
	if ((E.netwatch_fd = netwatch_open()) == -1) {
		log_warn("cannot watch the network for changes");
		return;
	}
	loop_fd_add(&E.netwatch_lfd, E.netwatch_fd, LOOP_READ, netwatch_cb);
}

void
mapping_init(const struct config *conf,
    const struct mapping_driver *const *drivers, size_t ndrivers)
{
	size_t i;

	memset(&E, 0, sizeof(E));
	pace_init(&E.pace);
	for (i = 0; i < ndrivers && i < MAPPING_MAX_DRIVERS; i++)
		E.slot[i].drv = drivers[i];
	E.nslots = i;
	E.drv = E.nslots > 0 ? E.slot[0].drv : NULL;
	apply_settings(conf);
	timer_init(&E.probe_timer, probe_timer_cb);
	timer_init(&E.grace_timer, grace_timer_cb);
	timer_init(&E.defer_timer, defer_timer_cb);
	timer_init(&E.netchange_timer, netchange_timer_cb);
	timer_init(&E.check_timer, check_timer_cb);
	timer_init(&E.state_timer, state_timer_cb);
	E.netwatch_fd = -1;
	E.announce_fd = -1;
	E.ssdp_fd = -1;
	E.bootid = -1;
	snprintf(E.tag, sizeof(E.tag), "natmapd");
	timer_init(&E.stop_timer, NULL);
	add_missing(conf);
}

void
mapping_start(void)
{
	mapping_probe();
}

void
mapping_reconfigure(const struct config *conf)
{
	struct mapping *m, *next;
	int reprobe;

	reprobe = strcmp(E.ifname, conf->interface != NULL ?
	    conf->interface : "") != 0 || E.have_gateway !=
	    conf->have_gateway || E.gateway.s_addr != conf->gateway.s_addr;
	apply_settings(conf);
	for (m = E.maps; m != NULL; m = next) {
		next = m->next;
		if (m->unwanted || wants(conf, m->proto, m->int_port,
		    m->ext_want))
			continue;
		m->unwanted = 1;
		pace_cancel(&m->op);
		if (m->on_router && E.gw_state == GW_READY) {
			struct drv_map req;

			mapping_transition(m, MAPPING_DELETING);
			mapping_request(m, &req);
			pace_unmap(&E.pace, &m->op, E.drv, &req);
		} else
			mapping_free_one(m);
	}
	if (add_missing(conf) > 0 && !reprobe)
		for (m = E.maps; m != NULL; m = m->next)
			if (m->state == MAPPING_WAIT && E.gw_state == GW_READY)
				mapping_add(m);
	if (reprobe) {
		if (E.probing)
			probe_cancel_all();
		E.gw_quiet = 0;
		E.gw_state = GW_NONE;
		memset(&E.gw, 0, sizeof(E.gw));
		mapping_probe();
	}
}

static void
mapping_check_stopped(void)
{
	struct mapping *m;
	void (*done)(void);

	if (!E.stopping || E.stopped == NULL)
		return;
	for (m = E.maps; m != NULL; m = m->next)
		if (m->state == MAPPING_DELETING)
			return;
	timer_stop(&E.stop_timer);
	state_write();
	done = E.stopped;
	E.stopped = NULL;
	done();
}

static size_t
deletes_left(void)
{
	struct mapping *m;
	size_t n = 0;

	for (m = E.maps; m != NULL; m = m->next)
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

	for (m = E.maps; m != NULL; m = m->next) {
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
		    "time (%s)%s", n, E.stop_total, E.stop_total == 1 ? "" :
		    "s", silent ? "the gateway is silent" : "the time is up",
		    E.state_path != NULL ? "; the state file keeps what is "
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

	quiet = pace_last_answer(&E.pace) > E.stop_at ?
	    pace_last_answer(&E.pace) : E.stop_at;
	/* Quiet: for longer than it takes to answer, three times over. */
	next = 3 * pace_srtt(&E.pace);
	next = quiet + (next > MAPPING_SHUTDOWN_QUIET_MS ? next :
	    MAPPING_SHUTDOWN_QUIET_MS);
	if (next < E.stop_at + MAPPING_SHUTDOWN_MS)
		next = E.stop_at + MAPPING_SHUTDOWN_MS;
	if (now >= next) {
		stop_give_up(1);
		return;
	}
	if (now - E.stop_at >= MAPPING_SHUTDOWN_MAX_MS) {
		stop_give_up(0);
		return;
	}
	if (now >= E.stop_report_at) {
		log_info("deleting: %zu of %zu left", deletes_left(),
		    E.stop_total);
		E.stop_report_at = now + MAPPING_SHUTDOWN_REPORT_MS;
	}
	if (next > E.stop_at + MAPPING_SHUTDOWN_MAX_MS)
		next = E.stop_at + MAPPING_SHUTDOWN_MAX_MS;
	if (next > E.stop_report_at)
		next = E.stop_report_at;
	timer_set_at(t, next);
}

void
mapping_shutdown(void (*done)(void))
{
	struct mapping *m;
	struct drv_map req;

	E.stopping = 1;
	E.stopped = done;
	scan_cancel();
	timer_stop(&E.probe_timer);
	timer_stop(&E.check_timer);
	if (E.probing)
		probe_cancel_all();
	for (m = E.maps; m != NULL; m = m->next) {
		/* A request not sent yet never reached the gateway. */
		int inflight = pace_sent(&m->op);

		if (m->vop.priv != NULL)
			E.drv->cancel(&m->vop);
		pace_cancel(&m->op);
		/* An add in flight may have reached the gateway: delete it too. */
		if ((m->on_router || inflight) && E.gw_state == GW_READY) {
			if (m->ext_port == 0)
				m->ext_port = m->ext_want;
			m->on_router = 1;
			mapping_transition(m, MAPPING_DELETING);
		} else if (m->state != MAPPING_GONE)
			mapping_transition(m, MAPPING_GONE);
	}
	/* Queued in the order of the list, paced like everything else. */
	for (m = E.maps; m != NULL; m = m->next) {
		if (m->state != MAPPING_DELETING)
			continue;
		E.stop_total++;
		mapping_request(m, &req);
		pace_unmap(&E.pace, &m->op, E.drv, &req);
	}
	E.stop_at = loop_now();
	E.stop_report_at = E.stop_at + MAPPING_SHUTDOWN_REPORT_MS;
	timer_init(&E.stop_timer, stop_tick);
	timer_set(&E.stop_timer, MAPPING_SHUTDOWN_MS);
	if (E.stop_total > 0)
		log_info("deleting %zu mapping%s", E.stop_total,
		    E.stop_total == 1 ? "" : "s");
	mapping_check_stopped();
}

void
mapping_free(void)
{
	struct mapping *m;

	scan_cancel();
	while ((m = E.maps) != NULL)
		mapping_free_one(m);
	pace_free(&E.pace);
	timer_stop(&E.probe_timer);
	timer_stop(&E.stop_timer);
	timer_stop(&E.netchange_timer);
	timer_stop(&E.check_timer);
	timer_stop(&E.state_timer);
	free(E.state_path);
	E.state_path = NULL;
	probe_cancel_all();
	if (E.netwatch_fd != -1) {
		loop_fd_del(&E.netwatch_lfd);
		close(E.netwatch_fd);
		E.netwatch_fd = -1;
	}
	if (E.announce_fd != -1) {
		loop_fd_del(&E.announce_lfd);
		close(E.announce_fd);
		E.announce_fd = -1;
	}
	if (E.ssdp_fd != -1) {
		loop_fd_del(&E.ssdp_lfd);
		close(E.ssdp_fd);
		E.ssdp_fd = -1;
	}
}

void
mapping_set_observer(void (*cb)(const struct mapping_status *))
{
	E.observer = cb;
}

size_t
mapping_count(int state)
{
	struct mapping *m;
	size_t n = 0;

	for (m = E.maps; m != NULL; m = m->next)
		if (state < 0 || m->state == state)
			n++;
	return n;
}
