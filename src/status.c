/* SPDX-License-Identifier: ISC */
/* The reported state: the mappings, the gateway and counters; endpoint events; the status file. */
#include "config.h"


#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "addrclass.h"
#include "driver.h"
#include "log.h"
#include "loop.h"
#include "replace.h"
#include "status.h"

#define STATUS_MAX_SUBSCRIBERS	8
#define STATUS_JSON_VERSION	1
#define STATUS_MAX_RDV		8	/* CONF_MAX_SERVERS */

/*
 * The gateway rung's word on a mapping as the table keeps it: a struct
 * status_map without its two text buffers, whose strings are allocated
 * only when there is one (an error, a check's detail: rare), so that
 * hundreds of rows stay small (about 100 bytes each, not 256).
 */
struct status_slot {
	int			 proto;
	uint16_t		 int_port;
	uint16_t		 ext_want;
	char			 method[8];
	int			 state;
	struct in_addr		 int_addr;
	struct in_addr		 ext_addr;
	uint16_t		 ext_port;
	uint32_t		 lease;
	uint64_t		 since;
	uint64_t		 renew_at;
	char			*error;		/* NULL: none */
	int			 runtime;
	char			 owner[8];
	int			 reach;
	uint64_t		 reach_at;
	char			*reach_detail;	/* NULL: none */
};

/*
 * What the rungs of the ladder said of one mapping: the gateway protocol
 * (mapping.c) in status.maps[i] (its keys only, if has_gw is 0) and the
 * STUN-kept fallback (fallback.c), rarely there, in fb.  The row shown is
 * the gateway's while it holds the mapping or works on it, else the
 * fallback's when there is one (row_view).
 */
struct status_row {
	struct status_map	*fb;		/* NULL: none */
	int			 has_gw;
};

static struct {
	struct status_slot	*maps;		/* the gateway's rung, the keys */
	struct status_row	*rows;		/* parallel: the rest */
	size_t			 nmaps;
	size_t			 cap;
	struct status_gateway	 gw;
	uint64_t		 counters[STATUS_NCOUNTERS];
	status_event_cb		 subs[STATUS_MAX_SUBSCRIBERS];
	status_gateway_cb	 gw_subs[STATUS_MAX_SUBSCRIBERS];
	size_t			 gw_nsubs;
	status_peer_cb		 peer_subs[STATUS_MAX_SUBSCRIBERS];
	size_t			 peer_nsubs;
	size_t			 nsubs;
	struct status_rdv	 rdv[STATUS_MAX_RDV];
	size_t			 nrdv;
	struct status_peer	*peers;
	size_t			 npeers;
	struct status_service	*services;
	size_t			 nservices;
	char			*file;
	struct timer		 file_timer;
	int			 file_warned;
} status;

static void	status_file_write(void);

static void
status_file_cb(struct timer *t)
{
	(void)t;
	status_file_write();
}

void
status_init(void)
{
	memset(&status, 0, sizeof(status));
	timer_init(&status.file_timer, status_file_cb);
}

void
status_free(void)
{
	timer_stop(&status.file_timer);
	while (status.nmaps > 0) {
		status.nmaps--;
		free(status.rows[status.nmaps].fb);
		free(status.maps[status.nmaps].error);
		free(status.maps[status.nmaps].reach_detail);
	}
	free(status.maps);
	free(status.rows);
	free(status.file);
	free(status.peers);
	free(status.services);
	memset(&status, 0, sizeof(status));
}

const char *
status_state_name(int s)
{
	static const char *names[] = {
		"waiting", "mapping", "up", "renewing", "retrying",
		"deleting", "down", "verified", "filtered", "unverified",
	};

	if (s < 0 || (size_t)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}

const char *
status_event_name(int e)
{
	switch (e) {
	case STATUS_EVENT_UP:
		return "up";
	case STATUS_EVENT_CHANGE:
		return "change";
	default:
		return "down";
	}
}

void
status_map_spec(const struct status_map *m, char *buf, size_t len)
{
	const char *p = m->proto == DRV_UDP ? "udp" : "tcp";

	if (m->ext_want == 0 || m->ext_want == m->int_port)
		snprintf(buf, len, "%u/%s", m->int_port, p);
	else
		snprintf(buf, len, "%u:%u/%s", m->int_port, m->ext_want, p);
}

/*
 * Reachable: the gateway granted it and nothing says it is gone, or a
 * binding proven reachable from outside.
 */
int
status_map_reachable(const struct status_map *m)
{
	return (m->state == STATUS_UP || m->state == STATUS_RENEWING ||
	    m->state == STATUS_VERIFIED) && m->ext_port != 0;
}

static void
status_changed(void)
{
	if (status.file != NULL && !timer_armed(&status.file_timer))
		timer_set(&status.file_timer, STATUS_FILE_DELAY_MS);
}

static void
emit(int event, const struct status_map *m)
{
	size_t i;

	for (i = 0; i < status.nsubs; i++)
		status.subs[i](event, m);
}

/* One internal port may be mapped to two external ports: all three key it. */
static ssize_t
find(int proto, uint16_t int_port, uint16_t ext_want)
{
	size_t i;

	for (i = 0; i < status.nmaps; i++)
		if (status.maps[i].proto == proto &&
		    status.maps[i].int_port == int_port &&
		    status.maps[i].ext_want == ext_want)
			return (ssize_t)i;
	return -1;
}

/* Room for cap rows: 0, or -1 (what there was is kept). */
static int
rows_grow(size_t cap)
{
	struct status_slot *nm;
	struct status_row *nr;

	if (cap <= status.cap)
		return 0;
	if ((nm = reallocarray(status.maps, cap, sizeof(*nm))) == NULL)
		return -1;
	status.maps = nm;
	if ((nr = reallocarray(status.rows, cap, sizeof(*nr))) == NULL)
		return -1;
	status.rows = nr;
	status.cap = cap;
	return 0;
}

void
status_reserve(size_t n)
{
	if (rows_grow(n) == -1)
		log_warn("status");
}

/* A new row at the end, keyed as n, or -1. */
static ssize_t
row_add(const struct status_map *n)
{
	struct status_slot *m;

	/* By half again: the configuration's rows came at once (status_reserve). */
	if (status.nmaps == status.cap &&
	    rows_grow(status.cap < 16 ? 16 : status.cap + status.cap / 2) == -1) {
		log_warn("status");
		return -1;
	}
	m = &status.maps[status.nmaps];
	memset(m, 0, sizeof(*m));
	m->proto = n->proto;
	m->int_port = n->int_port;
	m->ext_want = n->ext_want;
	m->state = STATUS_DOWN;
	memset(&status.rows[status.nmaps], 0, sizeof(status.rows[0]));
	return (ssize_t)status.nmaps++;
}

static void
row_remove(size_t i)
{
	free(status.rows[i].fb);
	free(status.maps[i].error);
	free(status.maps[i].reach_detail);
	status.nmaps--;
	status.maps[i] = status.maps[status.nmaps];
	status.rows[i] = status.rows[status.nmaps];
}

/*
 * *p holds s (at most max bytes of it), or NULL for "": 0, or -1 when
 * there was no memory (then *p is NULL, and the row shows no text).
 */
static int
slot_text(char **p, const char *s, size_t max)
{
	size_t len = strnlen(s, max);

	if (*p != NULL && strncmp(*p, s, len) == 0 && (*p)[len] == '\0')
		return 0;
	free(*p);
	*p = NULL;
	if (len == 0)
		return 0;
	if ((*p = strndup(s, len)) == NULL) {
		log_warn("status");
		return -1;
	}
	return 0;
}

/* The members a slot and a struct status_map share, texts aside. */
#define SLOT_FIELDS(F)							\
	F(proto) F(int_port) F(ext_want) F(state) F(int_addr)		\
	F(ext_addr) F(ext_port) F(lease) F(since) F(renew_at) F(runtime)
#define SLOT_TO(x)	d->x = n->x;
#define SLOT_FROM(x)	m->x = s->x;

/* The gateway's word n into slot d; its check (reach*) is left alone. */
static void
slot_set(struct status_slot *d, const struct status_map *n)
{
	SLOT_FIELDS(SLOT_TO)
	memcpy(d->method, n->method, sizeof(d->method));
	d->method[sizeof(d->method) - 1] = '\0';
	memcpy(d->owner, n->owner, sizeof(d->owner));
	d->owner[sizeof(d->owner) - 1] = '\0';
	(void)slot_text(&d->error, n->error, sizeof(n->error) - 1);
}

/* Slot s as the struct the subscribers and the readers take. */
static void
slot_view(const struct status_slot *s, struct status_map *m)
{
	memset(m, 0, sizeof(*m));
	SLOT_FIELDS(SLOT_FROM)
	memcpy(m->method, s->method, sizeof(m->method));
	memcpy(m->owner, s->owner, sizeof(m->owner));
	m->reach = s->reach;
	m->reach_at = s->reach_at;
	if (s->error != NULL)
		snprintf(m->error, sizeof(m->error), "%s", s->error);
	if (s->reach_detail != NULL)
		snprintf(m->reach_detail, sizeof(m->reach_detail), "%s",
		    s->reach_detail);
}

/*
 * The gateway's word while it holds the mapping or works on it, or while
 * the first search for a gateway is still under way; else the fallback's.
 * A gateway whose external address is not public (another NAT upstream)
 * maps nothing the internet reaches: a binding proven reachable through
 * every NAT is shown instead.  Into *out: 0, or -1 for a row that neither
 * has.
 */
static int
row_view(size_t i, struct status_map *out)
{
	const struct status_slot *gw = &status.maps[i];
	const struct status_row *r = &status.rows[i];

	if (r->fb != NULL && r->fb->state == STATUS_VERIFIED &&
	    status_gateway_behind_nat(&status.gw))
		*out = *r->fb;
	else if (r->has_gw && ((gw->state != STATUS_WAITING &&
	    gw->state != STATUS_DOWN) || !status.gw.searched))
		slot_view(gw, out);
	else if (r->fb != NULL)
		*out = *r->fb;
	else if (r->has_gw)
		slot_view(gw, out);
	else
		return -1;
	return 0;
}

/* What row i showed before a change, for row_changed; DOWN if nothing. */
static void
row_before(size_t i, struct status_map *old)
{
	if (row_view(i, old) == -1) {
		memset(old, 0, sizeof(*old));
		old->state = STATUS_DOWN;
	}
}

/* Row i shows what its rungs now say: tell the subscribers what changed. */
static void
row_changed(size_t i, const struct status_map *old)
{
	struct status_map view, *m = &view;
	int was, is;

	if (row_view(i, m) == -1)
		return;
	status_changed();
	was = status_map_reachable(old);
	is = status_map_reachable(m);
	if (!was && is)
		emit(STATUS_EVENT_UP, m);
	else if (was && is && (old->ext_port != m->ext_port ||
	    old->ext_addr.s_addr != m->ext_addr.s_addr))
		emit(STATUS_EVENT_CHANGE, m);
	else if (was && !is) {
		/* Down is about the endpoint that was up. */
		struct status_map gone = *m;

		gone.ext_addr = old->ext_addr;
		gone.ext_port = old->ext_port;
		emit(STATUS_EVENT_DOWN, &gone);
	}
}

static void
update(const struct status_map *n, int fallback)
{
	struct status_map old, *m;
	struct status_row *r;
	ssize_t i;

	if ((i = find(n->proto, n->int_port, n->ext_want)) == -1 &&
	    (i = row_add(n)) == -1)
		return;
	row_before((size_t)i, &old);
	r = &status.rows[i];
	if (fallback) {
		if (r->fb == NULL && (r->fb = malloc(sizeof(*r->fb))) == NULL) {
			log_warn("status");
			if (!r->has_gw)
				row_remove((size_t)i);	/* just added */
			return;
		}
		m = r->fb;
		*m = *n;
		m->error[sizeof(m->error) - 1] = '\0';
		/* the check's word is gwcheck's alone, of the gateway's row alone */
		m->reach = STATUS_REACH_NONE;
		m->reach_at = 0;
		m->reach_detail[0] = '\0';
	} else {
		slot_set(&status.maps[i], n);
		r->has_gw = 1;
	}
	row_changed((size_t)i, &old);
}

void
status_map_update(const struct status_map *n)
{
	update(n, 0);
}

void
status_fallback_update(const struct status_map *n)
{
	update(n, 1);
}

void
status_map_reach(int proto, uint16_t int_port, uint16_t ext_want, int reach,
    const char *detail)
{
	struct status_slot *m;
	struct status_map v;
	ssize_t i;

	if ((i = find(proto, int_port, ext_want)) == -1 ||
	    !status.rows[i].has_gw)
		return;
	m = &status.maps[i];
	m->reach = reach;
	m->reach_at = reach == STATUS_REACH_NONE ? 0 : loop_now();
	(void)slot_text(&m->reach_detail, reach != STATUS_REACH_NONE &&
	    detail != NULL ? detail : "", sizeof(v.reach_detail) - 1);
	status_changed();
}

const char *
status_reach_name(int r)
{
	switch (r) {
	case STATUS_REACH_OK:
		return "ok";
	case STATUS_REACH_NOT_FORWARDING:
		return "not forwarding";
	case STATUS_REACH_UNKNOWN:
		return "unknown";
	default:
		return NULL;
	}
}

/* The row goes: DOWN if what it showed was reachable. */
static void
forget(size_t i)
{
	struct status_map gone;

	row_before(i, &gone);
	row_remove(i);
	status_changed();
	if (status_map_reachable(&gone)) {
		gone.state = STATUS_DOWN;
		emit(STATUS_EVENT_DOWN, &gone);
	}
}

void
status_map_remove(int proto, uint16_t int_port, uint16_t ext_want)
{
	ssize_t i;

	if ((i = find(proto, int_port, ext_want)) != -1)
		forget((size_t)i);
}

void
status_fallback_remove(int proto, uint16_t int_port, uint16_t ext_want)
{
	struct status_map old;
	struct status_row *r;
	ssize_t i;

	if ((i = find(proto, int_port, ext_want)) == -1)
		return;
	r = &status.rows[i];
	if (r->fb == NULL)
		return;
	if (!r->has_gw) {
		forget((size_t)i);
		return;
	}
	row_before((size_t)i, &old);
	free(r->fb);
	r->fb = NULL;
	row_changed((size_t)i, &old);
}

void
status_gateway_update(const struct status_gateway *gw)
{
	struct status_gateway prev = status.gw;
	struct status_map *old = NULL;
	size_t i, n = 0;

	/* The fallback's rows wait for the search's end. */
	for (i = 0; i < status.nmaps; i++)
		n += status.rows[i].fb != NULL;
	if (n > 0 && (old = calloc(status.nmaps, sizeof(*old))) != NULL)
		for (i = 0; i < status.nmaps; i++)
			if (status.rows[i].fb != NULL)
				row_before(i, &old[i]);
	/* the gateway module does not know what STUN saw: kept */
	status.gw = *gw;
	if (gw->seen.s_addr == INADDR_ANY && prev.found && gw->found &&
	    prev.external.s_addr == gw->external.s_addr) {
		status.gw.seen = prev.seen;
		status.gw.upstream_nat = prev.upstream_nat;
	}
	status_changed();
	for (i = 0; old != NULL && i < status.nmaps; i++)
		if (status.rows[i].fb != NULL)
			row_changed(i, &old[i]);
	free(old);
	for (i = 0; i < status.gw_nsubs; i++)
		status.gw_subs[i](&status.gw);
}

void
status_gateway_seen(struct in_addr external, struct in_addr seen,
    int upstream_nat)
{
	struct status_gateway gw = status.gw;

	if (!gw.found || gw.external.s_addr != external.s_addr)
		return;		/* an answer about an address gone */
	if (gw.seen.s_addr == seen.s_addr && gw.upstream_nat == upstream_nat)
		return;
	gw.seen = seen;
	gw.upstream_nat = upstream_nat;
	status_gateway_update(&gw);
}

int
status_gateway_behind_nat(const struct status_gateway *gw)
{
	return gw->found && (addrclass_of(gw->external) != ADDRCLASS_PUBLIC ||
	    gw->upstream_nat);
}

void
status_rdv_update(const struct status_rdv *r, size_t n)
{
	if (n > STATUS_MAX_RDV)
		n = STATUS_MAX_RDV;
	if (n == status.nrdv && (n == 0 ||
	    memcmp(status.rdv, r, n * sizeof(*r)) == 0))
		return;
	if (n > 0)
		memcpy(status.rdv, r, n * sizeof(*r));
	status.nrdv = n;
	status_changed();
}

static const struct status_peer *
peer_find(const struct status_peer *v, size_t n, const char *node)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].node, node) == 0)
			return &v[i];
	return NULL;
}

/* What the path's subscribers act on: its kind, its other end, the relay. */
static int
path_differs(const struct status_peer *a, const struct status_peer *b)
{
	return strcmp(a->path, b->path) != 0 ||
	    strcmp(a->endpoint, b->endpoint) != 0 ||
	    strcmp(a->relay, b->relay) != 0;
}

/* The old table's paths against the new one's (status.peers): the events. */
static void
peer_events(const struct status_peer *old, size_t nold)
{
	const struct status_peer *o, *p;
	struct status_peer gone;
	size_t i, k;

	for (i = 0; i < nold; i++) {
		if (old[i].path[0] == '\0')
			continue;
		p = peer_find(status.peers, status.npeers, old[i].node);
		if (p != NULL && p->path[0] != '\0')
			continue;
		/* down: the path that was, with the reason now if any */
		gone = p != NULL ? *p : old[i];
		snprintf(gone.path, sizeof(gone.path), "%s", old[i].path);
		snprintf(gone.endpoint, sizeof(gone.endpoint), "%s",
		    old[i].endpoint);
		snprintf(gone.relay, sizeof(gone.relay), "%s", old[i].relay);
		for (k = 0; k < status.peer_nsubs; k++)
			status.peer_subs[k](STATUS_EVENT_DOWN, &gone);
	}
	for (i = 0; i < status.npeers; i++) {
		p = &status.peers[i];
		if (p->path[0] == '\0')
			continue;
		o = peer_find(old, nold, p->node);
		if (o != NULL && o->path[0] != '\0' && !path_differs(o, p))
			continue;
		for (k = 0; k < status.peer_nsubs; k++)
			status.peer_subs[k](o != NULL && o->path[0] != '\0' ?
			    STATUS_EVENT_CHANGE : STATUS_EVENT_UP, p);
	}
}

void
status_peers_update(const struct status_peer *p, size_t n)
{
	struct status_peer *np = NULL, *old;
	size_t nold;

	if (n > STATUS_MAX_PEERS)
		n = STATUS_MAX_PEERS;
	if (n == status.npeers && (n == 0 ||
	    memcmp(status.peers, p, n * sizeof(*p)) == 0))
		return;
	if (n > 0) {
		if ((np = reallocarray(NULL, n, sizeof(*np))) == NULL) {
			log_warn("status");
			return;
		}
		memcpy(np, p, n * sizeof(*p));
	}
	old = status.peers;
	nold = status.npeers;
	status.peers = np;
	status.npeers = n;
	if (status.peer_nsubs > 0)
		peer_events(old, nold);
	free(old);
	status_changed();
}

const struct status_peer *
status_peer_at(size_t i)
{
	return i < status.npeers ? &status.peers[i] : NULL;
}

size_t
status_peer_count(void)
{
	return status.npeers;
}

void
status_services_update(const struct status_service *v, size_t n)
{
	struct status_service *nv = NULL;

	if (n > STATUS_MAX_SERVICES)
		n = STATUS_MAX_SERVICES;
	if (n == status.nservices && (n == 0 ||
	    memcmp(status.services, v, n * sizeof(*v)) == 0))
		return;
	if (n > 0) {
		if ((nv = reallocarray(NULL, n, sizeof(*nv))) == NULL) {
			log_warn("status");
			return;
		}
		memcpy(nv, v, n * sizeof(*v));
	}
	free(status.services);
	status.services = nv;
	status.nservices = n;
	status_changed();
}

size_t
status_rdv_count(void)
{
	return status.nrdv;
}

const struct status_rdv *
status_rdv_at(size_t i)
{
	return i < status.nrdv ? &status.rdv[i] : NULL;
}

int
status_rdv_registered(const struct status_rdv *r)
{
	return r->expires != 0 && r->expires > loop_now();
}

void
status_count(int counter)
{
	if (counter < 0 || counter >= STATUS_NCOUNTERS)
		return;
	status.counters[counter]++;
	/* Counters alone do not rewrite the file: they go with the next change. */
}

void
status_subscribe(status_event_cb cb)
{
	if (status.nsubs < STATUS_MAX_SUBSCRIBERS)
		status.subs[status.nsubs++] = cb;
}

void
status_subscribe_gateway(status_gateway_cb cb)
{
	if (status.gw_nsubs < STATUS_MAX_SUBSCRIBERS)
		status.gw_subs[status.gw_nsubs++] = cb;
}

void
status_subscribe_peers(status_peer_cb cb)
{
	if (status.peer_nsubs < STATUS_MAX_SUBSCRIBERS)
		status.peer_subs[status.peer_nsubs++] = cb;
}

size_t
status_map_count(void)
{
	return status.nmaps;
}

int
status_map_get(size_t i, struct status_map *m)
{
	return i < status.nmaps ? row_view(i, m) : -1;
}

const struct status_gateway *
status_gateway(void)
{
	return &status.gw;
}

uint64_t
status_counter(int counter)
{
	if (counter < 0 || counter >= STATUS_NCOUNTERS)
		return 0;
	return status.counters[counter];
}

/* ---- JSON ---- */

/* json-c's null is a NULL object: v may be NULL.  Keys are literals, added once. */
static int
add(struct json_object *o, const char *key, struct json_object *v)
{
	return json_object_object_add_ex(o, key, v,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

static struct json_object *
addr_or_null(struct in_addr a)
{
	char buf[INET_ADDRSTRLEN];

	if (a.s_addr == INADDR_ANY ||
	    inet_ntop(AF_INET, &a, buf, sizeof(buf)) == NULL)
		return json_object_new_null();
	return json_object_new_string(buf);
}

/* A loop_now() time as Unix time, for people; 0 stays null. */
static struct json_object *
wall_time(uint64_t at, uint64_t now, time_t wall)
{
	if (at == 0 || at > now)
		return json_object_new_null();
	return json_object_new_int64((int64_t)wall -
	    (int64_t)((now - at) / 1000));
}

static struct json_object *
map_json(const struct status_map *m, uint64_t now, time_t wall)
{
	struct json_object *o;
	char spec[32];
	int r = 0, up = status_map_reachable(m);

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	status_map_spec(m, spec, sizeof(spec));
	r |= add(o, "spec", json_object_new_string(spec));
	r |= add(o, "protocol", json_object_new_string(m->proto == DRV_UDP ?
	    "udp" : "tcp"));
	r |= add(o, "method", m->method[0] != '\0' ?
	    json_object_new_string(m->method) : json_object_new_null());
	r |= add(o, "state", json_object_new_string(
	    status_state_name(m->state)));
	r |= add(o, "reachable", json_object_new_boolean(up));
	r |= add(o, "internal_address", addr_or_null(m->int_addr));
	r |= add(o, "internal_port", json_object_new_int(m->int_port));
	r |= add(o, "external_address", up ?
	    addr_or_null(m->ext_addr) : json_object_new_null());
	r |= add(o, "external_port", up ?
	    json_object_new_int(m->ext_port) : json_object_new_null());
	/* A binding kept with STUN has no lease: its keep-alive is renew_in. */
	r |= add(o, "lease", up && m->state != STATUS_VERIFIED ?
	    json_object_new_int64(m->lease) : json_object_new_null());
	r |= add(o, "renew_in", m->renew_at > now ?
	    json_object_new_int64((int64_t)((m->renew_at - now + 999) /
	    1000)) : json_object_new_null());
	r |= add(o, "since", wall_time(m->since, now, wall));
	r |= add(o, "error", m->error[0] != '\0' ?
	    json_object_new_string(m->error) : json_object_new_null());
	r |= add(o, "runtime", json_object_new_boolean(m->runtime));
	r |= add(o, "owner", m->owner[0] != '\0' ?
	    json_object_new_string(m->owner) : json_object_new_null());
	r |= add(o, "reach", m->reach != STATUS_REACH_NONE ?
	    json_object_new_string(status_reach_name(m->reach)) :
	    json_object_new_null());
	r |= add(o, "reach_checked", m->reach != STATUS_REACH_NONE ?
	    wall_time(m->reach_at, now, wall) : json_object_new_null());
	r |= add(o, "reach_detail", m->reach != STATUS_REACH_NONE &&
	    m->reach_detail[0] != '\0' ?
	    json_object_new_string(m->reach_detail) : json_object_new_null());
	if (r != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
gateway_json(uint64_t now, time_t wall)
{
	struct json_object *o;
	const struct status_gateway *g = &status.gw;
	int r = 0;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	r |= add(o, "searched", json_object_new_boolean(g->searched));
	r |= add(o, "found", json_object_new_boolean(g->found));
	r |= add(o, "method", g->found && g->method[0] != '\0' ?
	    json_object_new_string(g->method) : json_object_new_null());
	r |= add(o, "address", g->found ? addr_or_null(g->addr) :
	    json_object_new_null());
	r |= add(o, "where", g->found && g->where[0] != '\0' ?
	    json_object_new_string(g->where) : json_object_new_null());
	r |= add(o, "external_address", g->found ?
	    addr_or_null(g->external) : json_object_new_null());
	r |= add(o, "stun_address", g->found && g->seen.s_addr != INADDR_ANY ?
	    addr_or_null(g->seen) : json_object_new_null());
	r |= add(o, "behind_nat", json_object_new_boolean(
	    status_gateway_behind_nat(g)));
	r |= add(o, "since", wall_time(g->since, now, wall));
	if (r != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
rdv_json(const struct status_rdv *r, uint64_t now)
{
	struct json_object *o;
	int up = status_rdv_registered(r), ri = 0;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	ri |= add(o, "server", json_object_new_string(r->server));
	ri |= add(o, "registered", json_object_new_boolean(up));
	ri |= add(o, "expires_in", up ? json_object_new_int64((int64_t)
	    ((r->expires - now + 999) / 1000)) : json_object_new_null());
	ri |= add(o, "rtt_ms", r->rtt_ms >= 0 ?
	    json_object_new_int64(r->rtt_ms) : json_object_new_null());
	ri |= add(o, "transport", json_object_new_string(
	    r->transport[0] != '\0' ? r->transport : "udp"));
	ri |= add(o, "error", r->error[0] != '\0' ?
	    json_object_new_string(r->error) : json_object_new_null());
	if (ri != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
peer_json(const struct status_peer *p)
{
	struct json_object *o;
	int r = 0;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	r |= add(o, "node", json_object_new_string(p->node));
	r |= add(o, "state", json_object_new_string(p->state));
	r |= add(o, "path", p->path[0] != '\0' ?
	    json_object_new_string(p->path) : json_object_new_null());
	r |= add(o, "endpoint", p->endpoint[0] != '\0' ?
	    json_object_new_string(p->endpoint) : json_object_new_null());
	r |= add(o, "relay", p->relay[0] != '\0' ?
	    json_object_new_string(p->relay) : json_object_new_null());
	r |= add(o, "via", p->via[0] != '\0' ?
	    json_object_new_string(p->via) : json_object_new_null());
	r |= add(o, "relay_beside", p->relay_beside[0] != '\0' ?
	    json_object_new_string(p->relay_beside) : json_object_new_null());
	r |= add(o, "rtt_ms", p->rtt_ms >= 0 ?
	    json_object_new_int64(p->rtt_ms) : json_object_new_null());
	r |= add(o, "carrier", p->carrier[0] != '\0' ?
	    json_object_new_string(p->carrier) : json_object_new_null());
	r |= add(o, "carrier_via", p->carrier_via[0] != '\0' ?
	    json_object_new_string(p->carrier_via) : json_object_new_null());
	r |= add(o, "carrier_beside", p->carrier_beside[0] != '\0' ?
	    json_object_new_string(p->carrier_beside) :
	    json_object_new_null());
	r |= add(o, "relay_carrier_streams",
	    json_object_new_int64(p->relay_streams));
	r |= add(o, "carrier_rtt_ms", p->carrier_rtt_ms >= 0 ?
	    json_object_new_int64(p->carrier_rtt_ms) : json_object_new_null());
	r |= add(o, "streams", json_object_new_int64(p->streams));
	r |= add(o, "bytes_in", json_object_new_int64((int64_t)p->bytes_in));
	r |= add(o, "bytes_out", json_object_new_int64((int64_t)p->bytes_out));
	r |= add(o, "dropped", json_object_new_int64((int64_t)p->dropped));
	r |= add(o, "cipher", p->cipher[0] != '\0' ?
	    json_object_new_string(p->cipher) : json_object_new_null());
	r |= add(o, "attempt", json_object_new_int64(p->attempt));
	r |= add(o, "error", p->error[0] != '\0' ?
	    json_object_new_string(p->error) : json_object_new_null());
	if (r != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
service_json(const struct status_service *v)
{
	struct json_object *o;
	int r = 0;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	r |= add(o, "kind", json_object_new_string(v->kind));
	r |= add(o, "spec", json_object_new_string(v->spec));
	r |= add(o, "runtime", json_object_new_boolean(v->runtime));
	if (v->relay_refused_streams > 0 || v->relay_refused_datagrams > 0) {
		r |= add(o, "relay_refused_streams",
		    json_object_new_int64((int64_t)v->relay_refused_streams));
		r |= add(o, "relay_refused_datagrams",
		    json_object_new_int64((int64_t)v->relay_refused_datagrams));
		r |= add(o, "relay_refused",
		    json_object_new_string(v->relay_refused));
	}
	if (r != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const char *counter_names[STATUS_NCOUNTERS] = {
	"requests", "answers", "failures", "renewals", "address_changes",
};

static struct json_object *
counters_json(void)
{
	struct json_object *cnt;
	size_t i;
	int r = 0;

	if ((cnt = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < STATUS_NCOUNTERS; i++)
		r |= add(cnt, counter_names[i],
		    json_object_new_int64((int64_t)status.counters[i]));
	if (r != 0) {
		json_object_put(cnt);
		return NULL;
	}
	return cnt;
}

struct json_object *
status_json(void)
{
	struct json_object *o, *maps = NULL, *cnt = NULL, *rdv = NULL,
	    *peers = NULL, *svcs = NULL;
	uint64_t now = loop_now();
	time_t wall = time(NULL);
	size_t i;
	int r = 0;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	r |= add(o, "version", json_object_new_int(STATUS_JSON_VERSION));
	r |= add(o, "pid", json_object_new_int((int)getpid()));
	r |= add(o, "gateway", gateway_json(now, wall));
	if ((maps = json_object_new_array()) == NULL || add(o, "mappings",
	    maps) != 0) {
		json_object_put(maps);
		json_object_put(o);
		return NULL;
	}
	for (i = 0; i < status.nmaps; i++) {
		struct status_map view;
		struct json_object *m;

		if (row_view(i, &view) == -1)
			continue;
		if ((m = map_json(&view, now, wall)) == NULL ||
		    json_object_array_add(maps, m) != 0) {
			json_object_put(m);
			r = -1;
			break;
		}
	}
	if ((rdv = json_object_new_array()) == NULL || add(o, "rendezvous",
	    rdv) != 0) {
		json_object_put(rdv);
		json_object_put(o);
		return NULL;
	}
	for (i = 0; i < status.nrdv && r == 0; i++) {
		struct json_object *e = rdv_json(&status.rdv[i], now);

		if (e == NULL || json_object_array_add(rdv, e) != 0) {
			json_object_put(e);
			r = -1;
		}
	}
	if ((peers = json_object_new_array()) == NULL || add(o, "peers",
	    peers) != 0) {
		json_object_put(peers);
		json_object_put(o);
		return NULL;
	}
	for (i = 0; i < status.npeers && r == 0; i++) {
		struct json_object *e = peer_json(&status.peers[i]);

		if (e == NULL || json_object_array_add(peers, e) != 0) {
			json_object_put(e);
			r = -1;
		}
	}
	if ((svcs = json_object_new_array()) == NULL || add(o, "services",
	    svcs) != 0) {
		json_object_put(svcs);
		json_object_put(o);
		return NULL;
	}
	for (i = 0; i < status.nservices && r == 0; i++) {
		struct json_object *e = service_json(&status.services[i]);

		if (e == NULL || json_object_array_add(svcs, e) != 0) {
			json_object_put(e);
			r = -1;
		}
	}
	if ((cnt = counters_json()) == NULL || add(o, "counters", cnt) != 0) {
		json_object_put(cnt);
		json_object_put(o);
		return NULL;
	}
	if (r != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- the status file ---- */

void
status_file_set(const char *path)
{
	free(status.file);
	status.file = NULL;
	if (path != NULL && (status.file = strdup(path)) == NULL)
		fatal("strdup");
	if (status.file != NULL)
		status_changed();
}

/* One json-c object as compact text, then freed: 0, or -1. */
static int
put_json(FILE *fp, struct json_object *o)
{
	const char *text;
	int r = -1;

	if (o == NULL)
		return -1;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL && fputs(text, fp) >= 0)
		r = 0;
	json_object_put(o);
	return r;
}

/*
 * The object status_json() builds, written a member at a time: with
 * hundreds of mappings, a whole json-c tree would be most of the daemon's
 * memory, one mapping's is a kilobyte.  Every value is json-c's.
 */
int
status_print(FILE *fp)
{
	uint64_t now = loop_now();
	time_t wall = time(NULL);
	struct json_object *o;
	struct status_map view;
	size_t i, n;

	if (fprintf(fp, "{\"version\":%d,\"pid\":%d,\"gateway\":",
	    STATUS_JSON_VERSION, (int)getpid()) < 0 ||
	    put_json(fp, gateway_json(now, wall)) == -1 ||
	    fputs(",\"mappings\":[", fp) < 0)
		return -1;
	for (i = n = 0; i < status.nmaps; i++)
		if (row_view(i, &view) == 0 &&
		    ((n++ > 0 && fputc(',', fp) == EOF) ||
		    put_json(fp, map_json(&view, now, wall)) == -1))
			return -1;
	if (fputs("],\"rendezvous\":[", fp) < 0)
		return -1;
	for (i = 0; i < status.nrdv; i++)
		if ((i > 0 && fputc(',', fp) == EOF) ||
		    put_json(fp, rdv_json(&status.rdv[i], now)) == -1)
			return -1;
	if (fputs("],\"peers\":[", fp) < 0)
		return -1;
	for (i = 0; i < status.npeers; i++)
		if ((i > 0 && fputc(',', fp) == EOF) ||
		    put_json(fp, peer_json(&status.peers[i])) == -1)
			return -1;
	if (fputs("],\"services\":[", fp) < 0)
		return -1;
	for (i = 0; i < status.nservices; i++)
		if ((i > 0 && fputc(',', fp) == EOF) ||
		    put_json(fp, service_json(&status.services[i])) == -1)
			return -1;
	if (fputs("],\"counters\":", fp) < 0 ||
	    (o = counters_json()) == NULL || put_json(fp, o) == -1 ||
	    fputs("}\n", fp) < 0)
		return -1;
	return 0;
}

static int
status_out(FILE *fp, void *arg)
{
	(void)arg;
	return status_print(fp);
}

/* Write, fsync, rename: a reader sees the old file or the new, whole. */
static void
status_file_write(void)
{
	if (status.file == NULL)
		return;
	timer_stop(&status.file_timer);
	/* Status is for the operator's tools: readable like the socket. */
	if (file_replace(status.file, 0644, status_out, NULL) == -1) {
		if (!status.file_warned)
			log_warn("cannot write %s", status.file);
		status.file_warned = 1;
	} else
		status.file_warned = 0;
}

void
status_file_remove(void)
{
	timer_stop(&status.file_timer);
	if (status.file != NULL && unlink(status.file) == -1 &&
	    errno != ENOENT)
		log_warn("cannot remove %s", status.file);
}
