/* SPDX-License-Identifier: ISC */
/* Finds the gateway and follows it: the race between PCP, NAT-PMP and UPnP, checks, announcements. */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addrclass.h"
#include "announce.h"
#include "driver.h"
#include "gateway.h"
#include "log.h"
#include "loop.h"
#include "netwatch.h"
#include "osdep.h"
#include "pcp-msg.h"
#include "wancheck.h"

/*
 * One race at a time: a driver's probe callback carries no argument, so
 * the answers find their slot here.
 */
static struct {
	struct gateway_slot	 slot[GATEWAY_MAX_DRIVERS];
	size_t			 nslots;
	struct drv_env		 env;
	int			 mode;
	int			 running;
	uint64_t		 started;
	struct timer		 grace;		/* a worse answer waits */
	struct timer		 defer;		/* the deferred drivers start */
	void			(*done)(const struct gateway_slot *);
} race;

static void	race_decide(int);

void
gateway_race_cancel(void)
{
	size_t i;

	race.running = 0;
	timer_stop(&race.grace);
	timer_stop(&race.defer);
	for (i = 0; i < race.nslots; i++) {
		struct gateway_slot *sl = &race.slot[i];

		if (sl->state == GATEWAY_SLOT_RUNNING &&
		    sl->drv->probe_cancel != NULL)
			sl->drv->probe_cancel();
		if (sl->state == GATEWAY_SLOT_RUNNING ||
		    sl->state == GATEWAY_SLOT_DEFERRED) {
			sl->state = GATEWAY_SLOT_FAILED;
			snprintf(sl->detail, sizeof(sl->detail),
			    "no answer in time");
		}
	}
}

/* The race is decided: tell the caller, once. */
static void
race_end(const struct gateway_slot *winner)
{
	void (*done)(const struct gateway_slot *) = race.done;

	gateway_race_cancel();
	race.done = NULL;
	if (done != NULL)
		done(winner);
}

static void
slot_start(struct gateway_slot *sl, drv_probe_cb cb)
{
	sl->state = GATEWAY_SLOT_RUNNING;
	if (sl->drv->probe(&race.env, cb) == -1) {
		sl->state = GATEWAY_SLOT_FAILED;
		sl->ms = loop_now() - race.started;
		snprintf(sl->detail, sizeof(sl->detail), "cannot send");
	}
}

static void	probe_cb(const struct mapping_driver *, int,
		    const struct drv_gateway *, const char *);

/* Start the drivers that waited; 0 if there were none. */
static int
start_deferred(void)
{
	size_t i;
	int n = 0;

	timer_stop(&race.defer);
	for (i = 0; i < race.nslots && race.running; i++)
		if (race.slot[i].state == GATEWAY_SLOT_DEFERRED) {
			n++;
			slot_start(&race.slot[i], probe_cb);
		}
	return n;
}

/*
 * Slots are in order of preference.  BEST: take the best answer once
 * every better driver has failed, or once the grace time has passed.
 * ALL: wait for every driver, then take the best.
 */
static void
race_decide(int grace_over)
{
	const struct gateway_slot *best = NULL;
	size_t i, better_out = 0, out = 0;

	for (i = 0; i < race.nslots; i++) {
		int st = race.slot[i].state;

		if (st == GATEWAY_SLOT_OK && best == NULL)
			best = &race.slot[i];
		if (st == GATEWAY_SLOT_RUNNING || st == GATEWAY_SLOT_DEFERRED) {
			out++;
			if (best == NULL)
				better_out++;
		}
	}
	if (race.mode == GATEWAY_RACE_BEST && best != NULL) {
		if (better_out > 0 && !grace_over) {
			if (!timer_armed(&race.grace))
				timer_set(&race.grace, GATEWAY_GRACE_MS);
			return;
		}
		race_end(best);
		return;
	}
	for (i = 0; i < race.nslots; i++)
		if (race.slot[i].state == GATEWAY_SLOT_RUNNING)
			return;
	/* Every probe out has ended: the ones that waited go now. */
	if (out > 0) {
		if (start_deferred() > 0 && race.running)
			race_decide(0);
		return;
	}
	race_end(best);
}

static void
probe_cb(const struct mapping_driver *drv, int status,
    const struct drv_gateway *gw, const char *detail)
{
	size_t i;

	if (!race.running)
		return;
	for (i = 0; i < race.nslots; i++) {
		struct gateway_slot *sl = &race.slot[i];

		if (sl->drv != drv || sl->state != GATEWAY_SLOT_RUNNING)
			continue;
		sl->ms = loop_now() - race.started;
		if (status == DRV_OK && gw != NULL) {
			sl->state = GATEWAY_SLOT_OK;
			sl->gw = *gw;
			log_debug("%s answered after %llu ms: %s", drv->name,
			    (unsigned long long)sl->ms, gw->name);
		} else {
			sl->state = GATEWAY_SLOT_FAILED;
			snprintf(sl->detail, sizeof(sl->detail), "%s",
			    detail != NULL ? detail : "no answer");
			log_debug("%s failed after %llu ms: %s", drv->name,
			    (unsigned long long)sl->ms, sl->detail);
		}
		break;
	}
	race_decide(0);
}

static void
grace_cb(struct timer *t)
{
	(void)t;
	race_decide(1);
}

static void
defer_cb(struct timer *t)
{
	(void)t;
	if (race.running && start_deferred() > 0 && race.running)
		race_decide(0);
}

void
gateway_race_init(const struct mapping_driver *const *drivers, size_t n)
{
	size_t i;

	gateway_race_cancel();
	memset(&race, 0, sizeof(race));
	for (i = 0; i < n && i < GATEWAY_MAX_DRIVERS; i++)
		race.slot[i].drv = drivers[i];
	race.nslots = i;
	timer_init(&race.grace, grace_cb);
	timer_init(&race.defer, defer_cb);
}

int
gateway_race_start(const struct drv_env *env, int mode,
    void (*done)(const struct gateway_slot *))
{
	uint64_t delay = 0;
	size_t i;

	if (race.running) {
		errno = EBUSY;
		return -1;
	}
	gateway_lookup_cancel();	/* the race probes every driver */
	race.env = *env;
	race.mode = mode;
	race.done = done;
	race.running = 1;
	race.started = loop_now();
	for (i = 0; i < race.nslots; i++) {
		struct gateway_slot *sl = &race.slot[i];

		sl->state = i > 0 && sl->drv->probe_delay_ms > 0 ?
		    GATEWAY_SLOT_DEFERRED : GATEWAY_SLOT_IDLE;
		sl->detail[0] = '\0';
		sl->ms = 0;
		memset(&sl->gw, 0, sizeof(sl->gw));
		if (sl->state == GATEWAY_SLOT_DEFERRED &&
		    (delay == 0 || sl->drv->probe_delay_ms < delay))
			delay = sl->drv->probe_delay_ms;
	}
	if (delay > 0)
		timer_set(&race.defer, delay);
	/* Every driver at once; one may answer from inside probe(). */
	for (i = 0; i < race.nslots && race.running; i++)
		if (race.slot[i].state == GATEWAY_SLOT_IDLE)
			slot_start(&race.slot[i], probe_cb);
	if (race.running)
		race_decide(0);
	return 0;
}

int
gateway_race_running(void)
{
	return race.running;
}

size_t
gateway_race_nslots(void)
{
	return race.nslots;
}

const struct gateway_slot *
gateway_race_slot(size_t i)
{
	return i < race.nslots ? &race.slot[i] : NULL;
}

void
gateway_race_why(char *buf, size_t len)
{
	size_t i, l;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < race.nslots; i++) {
		l = strlen(buf);
		snprintf(buf + l, len - l, "%s%s: %s", i ? "; " : "",
		    race.slot[i].drv->name, race.slot[i].detail[0] != '\0' ?
		    race.slot[i].detail : "no answer");
	}
}

/* ---- a second driver to look mappings up with ---- */

static struct {
	const struct mapping_driver	*drv;
	struct in_addr			 gateway;
	void				(*found)(const struct mapping_driver *,
					    const struct drv_gateway *);
} lookup;

static void
lookup_cb(const struct mapping_driver *drv, int status,
    const struct drv_gateway *gw, const char *detail)
{
	void (*found)(const struct mapping_driver *,
	    const struct drv_gateway *) = lookup.found;
	char dev[INET_ADDRSTRLEN];

	lookup.found = NULL;
	if (found == NULL || drv != lookup.drv)
		return;
	if (status != DRV_OK || gw == NULL) {
		log_debug("%s: %s; mappings cannot be looked up", drv->name,
		    detail != NULL ? detail : "no answer");
		return;
	}
	if (gw->addr.s_addr != lookup.gateway.s_addr) {
		inet_ntop(AF_INET, &gw->addr, dev, sizeof(dev));
		log_debug("%s answered from %s, not the gateway; mappings "
		    "cannot be looked up", drv->name, dev);
		return;
	}
	found(drv, gw);
}

void
gateway_lookup_cancel(void)
{
	if (lookup.found != NULL && lookup.drv->probe_cancel != NULL)
		lookup.drv->probe_cancel();
	lookup.found = NULL;
}

int
gateway_lookup_start(const struct drv_env *env,
    const struct mapping_driver *primary,
    void (*found)(const struct mapping_driver *, const struct drv_gateway *))
{
	const struct mapping_driver *d = NULL;
	size_t i;

	gateway_lookup_cancel();
	for (i = 0; i < race.nslots && d == NULL; i++)
		if (race.slot[i].drv != primary &&
		    race.slot[i].drv->verify != NULL)
			d = race.slot[i].drv;
	if (d == NULL || race.running) {
		errno = d == NULL ? ENOENT : EBUSY;
		return -1;
	}
	lookup.drv = d;
	lookup.gateway = env->gateway;
	lookup.found = found;
	if (d->probe(env, lookup_cb) == -1) {
		lookup.found = NULL;
		return -1;
	}
	return 0;
}

/* ---- what the gateway and the network say unasked ---- */

static void	life_announced(const struct pcp_response *);
static void	life_notified(long, const char *);
static void	life_netchanged(int);

static struct {
	int			 on;		/* gateway_watch() was called */
	struct in_addr		 local;		/* the sockets' interface address */
	struct in_addr		 gateway;	/* whose announcements count */
	int			 announce_fd;
	struct loop_fd		 announce_lfd;
	int			 ssdp_fd;
	struct loop_fd		 ssdp_lfd;
	int			 netwatch_fd;
	struct loop_fd		 netwatch_lfd;
	struct timer		 netchange;	/* the debounce */
	int			 netchange_bits;
} watch = { .announce_fd = -1, .ssdp_fd = -1, .netwatch_fd = -1 };

/* Who hears of a network change besides the gateway search. */
static struct {
	gateway_netchange_cb	 cb[GATEWAY_MAX_NETCHANGE_SUBS];
	size_t			 n;
} netchange_subs;

void
gateway_subscribe_netchange(gateway_netchange_cb cb)
{
	if (netchange_subs.n < GATEWAY_MAX_NETCHANGE_SUBS)
		netchange_subs.cb[netchange_subs.n++] = cb;
}

static void
watch_close(int *fd, struct loop_fd *lfd)
{
	if (*fd == -1)
		return;
	loop_fd_del(lfd);
	close(*fd);
	*fd = -1;
}

static void
announce_cb(struct loop_fd *lf, int ev)
{
	struct pcp_response r;
	int i;

	(void)ev;
	/* A bounded number a wake-up: a flood must not starve the loop. */
	for (i = 0; i < 8; i++) {
		if (announce_read(lf->fd, watch.gateway, &r) != 1)
			return;
		log_debug("announcement from the gateway: %s, epoch %u",
		    r.version == PCP_VERSION ? "PCP ANNOUNCE" :
		    "NAT-PMP public address", r.epoch);
		life_announced(&r);
	}
}

static void
ssdp_cb(struct loop_fd *lf, int ev)
{
	char location[256];
	long bootid;
	int i;

	(void)ev;
	for (i = 0; i < 32; i++) {
		if (announce_ssdp_read(lf->fd, watch.gateway, &bootid, location,
		    sizeof(location)) != 1)
			return;
		life_notified(bootid, location);
	}
}

static void
netchange_cb(struct timer *t)
{
	int bits = watch.netchange_bits;

	(void)t;
	watch.netchange_bits = 0;
	life_netchanged(bits);
}

static void
netwatch_cb(struct loop_fd *lf, int ev)
{
	int bits;

	(void)ev;
	if ((bits = netwatch_read(lf->fd)) <= 0)
		return;
	watch.netchange_bits |= bits;
	if (!timer_armed(&watch.netchange))
		timer_set(&watch.netchange, GATEWAY_NETCHANGE_DEBOUNCE_MS);
}

void
gateway_watch(void)
{
	if (!watch.on)
		timer_init(&watch.netchange, netchange_cb);
	watch.on = 1;
	if (watch.netwatch_fd != -1)
		return;
	if ((watch.netwatch_fd = netwatch_open()) == -1) {
		log_warn("cannot watch the network for changes");
		return;
	}
	loop_fd_add(&watch.netwatch_lfd, watch.netwatch_fd, LOOP_READ,
	    netwatch_cb);
}

/*
 * Listen for the announcements of gateway on the interface of local
 * (224.0.0.1:5350 and SSDP 239.255.255.250:1900); the sockets are opened
 * again only when local changes.  Nothing before gateway_watch().
 */
static void
gateway_listen(struct in_addr local, struct in_addr gateway)
{
	if (!watch.on)
		return;
	watch.gateway = gateway;
	if (watch.announce_fd != -1 && watch.local.s_addr == local.s_addr)
		return;
	watch_close(&watch.announce_fd, &watch.announce_lfd);
	watch_close(&watch.ssdp_fd, &watch.ssdp_lfd);
	if ((watch.ssdp_fd = announce_ssdp_open(local)) == -1)
		log_warn("cannot listen for SSDP NOTIFY on port 1900");
	else
		loop_fd_add(&watch.ssdp_lfd, watch.ssdp_fd, LOOP_READ, ssdp_cb);
	if ((watch.announce_fd = announce_open(local)) == -1) {
		log_warn("cannot listen for the gateway's announcements on "
		    "port %d", PCP_CLIENT_PORT);
		return;
	}
	watch.local = local;
	loop_fd_add(&watch.announce_lfd, watch.announce_fd, LOOP_READ,
	    announce_cb);
}

/* Close what gateway_watch() and gateway_listen() opened. */
static void
gateway_unwatch(void)
{
	watch_close(&watch.netwatch_fd, &watch.netwatch_lfd);
	watch_close(&watch.announce_fd, &watch.announce_lfd);
	watch_close(&watch.ssdp_fd, &watch.ssdp_lfd);
	if (watch.on)
		timer_stop(&watch.netchange);
	watch.netchange_bits = 0;
	watch.on = 0;
}

int
gateway_find_env(struct drv_env *env, const char *ifname,
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
	/* The subnet: where a UPnP device may answer from (none if unknown). */
	if (osdep_addr_netmask(env->local, &env->netmask) == -1)
		env->netmask.s_addr = INADDR_ANY;
	/* IPv6 on the same interface: PCP opens pinholes there too. */
	env->have6 = osdep_if_addr6(env->ifname, &env->local6) == 0 &&
	    osdep_default_gateway6(env->ifname, &env->gateway6,
	    &env->ifindex6) == 0;
	return 0;
}

/* ---- the gateway's life: searching, ready, lost, checked ---- */

enum life_state {
	LIFE_NONE,
	LIFE_SEARCHING,
	LIFE_READY,
};

static struct {
	struct gateway_watcher		 w;
	int				 state;
	int				 stopped;	/* gateway_stop() */
	/* Where to look, as configured. */
	char				 ifname[16];
	int				 have_gateway;
	struct in_addr			 gateway;
	struct drv_env			 env;	/* where the last search looked */
	const struct mapping_driver	*drv;	/* the gateway's, found last */
	struct drv_gateway		 gw;
	struct in_addr			 ready_local;	/* env.local when it was ready */
	int				 found;	/* ready once */
	struct timer			 search;	/* the next search */
	uint64_t			 backoff;
	struct timer			 check;		/* the periodic re-probe */
	int				 quiet;		/* a check: log only changes */
	long				 bootid;	/* its last BOOTID, -1: none yet */
	struct pcp_epoch		 epoch;		/* its epoch time, RFC 6887 8.5 */
} life;

static void	life_search(void);

int
gateway_note_external(struct in_addr ext)
{
	struct in_addr none = { INADDR_ANY };
	struct addrclass_verdict v;
	char was[INET_ADDRSTRLEN], now[INET_ADDRSTRLEN], who[320];
	int changed = life.gw.external.s_addr != INADDR_ANY;

	if (ext.s_addr == INADDR_ANY || ext.s_addr == life.gw.external.s_addr)
		return 0;
	inet_ntop(AF_INET, &life.gw.external, was, sizeof(was));
	inet_ntop(AF_INET, &ext, now, sizeof(now));
	if (life.gw.external.s_addr == INADDR_ANY)
		log_info("%s gateway %s: external address %s", life.drv->name,
		    life.gw.where, now);
	else
		log_info("public address %s -> %s", was, now);
	life.gw.external = ext;
	addrclass_judge(ext, none, &v);
	if (v.double_nat)
		log_warnx("%s gateway %s reports external address %s: %s; "
		    "mapping anyway, but the internet reaches a mapping only "
		    "if the NAT upstream forwards the port too",
		    life.drv->name, life.gw.where, now, v.why);
	else {
		/* Public: what a STUN server sees tells if it is the internet's view. */
		snprintf(who, sizeof(who), "%s gateway %s", life.drv->name,
		    life.gw.where);
		wancheck_start(life.env.local, ext, who);
	}
	return changed;
}

int
gateway_note_epoch(uint32_t epoch)
{
	if (pcp_epoch_check(&life.epoch, epoch, loop_now()) == 0)
		return 0;
	log_info("%s gateway %s restarted or lost its mappings (epoch %u); "
	    "mapping again", life.drv->name, life.gw.where, epoch);
	return 1;
}

/* Not ready any more: tell the engine. */
static void
life_leave(int state, int why)
{
	int was = life.state;

	life.state = state;
	if (was == LIFE_READY && life.w.lost != NULL)
		life.w.lost(why);
}

/* Found: what it means (another gateway, a restart), then tell the engine. */
static void
life_ready(const struct mapping_driver *drv, const struct drv_gateway *gw)
{
	struct in_addr known = life.gw.external;
	int changed, reset, flags;

	changed = life.drv != drv || strcmp(gw->where, life.gw.where) != 0 ||
	    life.ready_local.s_addr != life.env.local.s_addr;
	flags = (changed ? GATEWAY_CHANGED : 0) |
	    (life.quiet ? GATEWAY_CHECKED : 0);
	life.ready_local = life.env.local;
	life.drv = drv;
	life.gw = *gw;
	/* The same gateway again: a new address is a change, logged as one. */
	life.gw.external.s_addr = changed ? INADDR_ANY : known.s_addr;
	life.state = LIFE_READY;
	life.found = 1;
	life.backoff = 0;
	if (changed || life.quiet == 0)
		log_info("%s gateway %s", gw->name, gw->where);
	life.quiet = 0;
	reset = gateway_note_external(gw->external) && !changed;
	timer_set(&life.check, loop_jitter((uint64_t)
	    GATEWAY_CHECK_INTERVAL_S * 1000, 10));
	if (changed) {
		memset(&life.epoch, 0, sizeof(life.epoch));
		life.bootid = -1;
	}
	/* The search answer's BOOTID: a baseline, or a restart seen by a check. */
	if (gw->bootid >= 0) {
		if (life.bootid >= 0 && gw->bootid != life.bootid) {
			log_info("gateway %s restarted (UPnP BOOTID %ld -> %ld); "
			    "mapping again", inet_ntoa(life.env.gateway),
			    life.bootid, gw->bootid);
			reset = 1;
		}
		life.bootid = gw->bootid;
	}
	if (gw->has_epoch && gateway_note_epoch(gw->epoch))
		reset = 1;
	gateway_listen(life.env.local, life.env.gateway);
	if (reset && life.w.reset != NULL)
		life.w.reset();
	if (life.w.ready != NULL)
		life.w.ready(drv, flags);
}

/* The race between the drivers is over: the best one, or none answered. */
static void
life_race_done(const struct gateway_slot *best)
{
	char why[256];
	uint64_t d;

	if (life.stopped)
		return;
	if (best != NULL) {
		life_ready(best->drv, &best->gw);
		return;
	}
	if (life.quiet && life.state == LIFE_READY) {
		/*
		 * A periodic check: the renewals will tell if it is gone.
		 * Ask again soon (a router that just restarted may not
		 * answer everything yet), backing off.
		 */
		life.quiet = 0;
		d = loop_backoff(&life.backoff, GATEWAY_BACKOFF_MIN_MS,
		    GATEWAY_BACKOFF_MAX_MS);
		log_debug("the gateway check got no answer; again in %llus",
		    (unsigned long long)(d + 999) / 1000);
		timer_set(&life.check, d);
		return;
	}
	/* Nothing answered: say what each protocol found, and back off. */
	gateway_race_why(why, sizeof(why));
	d = loop_backoff(&life.backoff, GATEWAY_BACKOFF_MIN_MS,
	    GATEWAY_BACKOFF_MAX_MS);
	life.state = LIFE_NONE;
	log_warnx("no gateway protocol answered on %s (%s); retrying in %llus",
	    life.env.ifname[0] ? life.env.ifname : "the default route", why,
	    (unsigned long long)(d + 999) / 1000);
	timer_set(&life.search, d);
	if (life.w.none != NULL)
		life.w.none();
}

static void
life_search(void)
{
	char why[128];

	if (life.stopped)
		return;
	if (gateway_find_env(&life.env, life.ifname, life.have_gateway ?
	    &life.gateway : NULL, why, sizeof(why)) == -1) {
		uint64_t d = loop_backoff(&life.backoff,
		    GATEWAY_BACKOFF_MIN_MS, GATEWAY_BACKOFF_MAX_MS);

		log_warnx("%s; retrying in %llus", why,
		    (unsigned long long)(d + 999) / 1000);
		timer_set(&life.search, d);
		if (life.state != LIFE_READY && life.w.none != NULL)
			life.w.none();
		return;
	}
	if (!life.quiet)
		life.state = LIFE_SEARCHING;
	log_debug("probing for a gateway from %s via %s",
	    inet_ntoa(life.env.local), life.env.ifname);
	gateway_race_cancel();
	if (gateway_race_start(&life.env, GATEWAY_RACE_BEST,
	    life_race_done) == -1)
		log_warn("cannot probe for a gateway");
}

static void
life_search_cb(struct timer *t)
{
	(void)t;
	life_search();
}

/* Every few minutes: the same gateway, the same address?  Quietly. */
static void
life_check_cb(struct timer *t)
{
	(void)t;
	if (life.stopped || life.state != LIFE_READY)
		return;
	life.quiet = 1;
	if (life.w.checking != NULL)
		life.w.checking();
	life_search();
}

void
gateway_lost(void)
{
	if (life.state != LIFE_READY || life.stopped)
		return;
	log_info("%s gateway %s stopped answering; looking for it again",
	    life.drv->name, life.gw.where);
	life.quiet = 0;
	life.backoff = 0;
	life_leave(LIFE_NONE, GATEWAY_LOST_SILENT);
	gateway_race_cancel();
	timer_set(&life.search, 0);
}

/* A PCP or NAT-PMP announcement from the gateway. */
static void
life_announced(const struct pcp_response *r)
{
	struct in_addr ext;

	if (life.state != LIFE_READY || life.stopped)
		return;
	if (r->version == NATPMP_VERSION &&
	    pcp_addr_to_v4(&r->external_addr, &ext) == 0)
		gateway_note_external(ext);
	/*
	 * Servers announce when they start, lose their state or change
	 * address (RFC 6887 14.1.3, RFC 6886 3.2.1): map again whatever the
	 * epoch says, which a server up for a few seconds only cannot tell.
	 * Keep the epoch for the checks on ordinary answers.
	 */
	(void)pcp_epoch_check(&life.epoch, r->epoch, loop_now());
	log_info("gateway %s announced a restart (epoch %u); mapping again",
	    inet_ntoa(life.env.gateway), r->epoch);
	if (life.w.reset != NULL)
		life.w.reset();
	/* And ask soon what the external address is now. */
	if (!gateway_race_running())
		timer_set(&life.check, loop_jitter(500, 20));
}

/* An SSDP NOTIFY from the gateway: another BOOTID is a restart. */
static void
life_notified(long bootid, const char *location)
{
	if (life.state != LIFE_READY || life.stopped)
		return;
	/*
	 * The IGD we use now describes itself elsewhere (miniupnpd takes a
	 * new HTTP port at each start unless told one): its control URL is
	 * stale.  Look for it again, soon.
	 */
	if (strcmp(life.drv->id, "upnp") == 0 && location[0] != '\0' &&
	    strcmp(location, life.gw.where) != 0 && !gateway_race_running() &&
	    timer_remaining(&life.check) > 500) {
		log_info("gateway %s now describes itself at %s; looking for it "
		    "again", inet_ntoa(life.env.gateway), location);
		timer_set(&life.check, loop_jitter(200, 20));
	}
	if (bootid < 0)
		return;
	if (life.bootid >= 0 && bootid != life.bootid) {
		log_info("gateway %s restarted (UPnP BOOTID %ld -> %ld); mapping "
		    "again", inet_ntoa(life.env.gateway), life.bootid, bootid);
		if (life.w.reset != NULL)
			life.w.reset();
		if (!gateway_race_running())
			timer_set(&life.check, loop_jitter(500, 20));
	}
	life.bootid = bootid;
}

/* Routes, addresses or links changed: the gateway may be another now. */
static void
life_netchanged(int bits)
{
	size_t i;

	if (life.stopped)
		return;
	log_info("network changed (%s%s%s); probing for the gateway again",
	    bits & NETWATCH_ROUTE ? "route " : "",
	    bits & NETWATCH_ADDR ? "address " : "",
	    bits & NETWATCH_LINK ? "link " : "");
	gateway_race_cancel();
	life.quiet = 0;
	timer_stop(&life.search);
	life.backoff = 0;
	life_leave(LIFE_NONE, GATEWAY_LOST_NETWORK);
	life_search();
	for (i = 0; i < netchange_subs.n; i++)
		netchange_subs.cb[i](bits);
}

void
gateway_init(const struct mapping_driver *const *drivers, size_t n,
    const struct gateway_watcher *w)
{
	timer_stop(&life.search);
	timer_stop(&life.check);
	memset(&life, 0, sizeof(life));
	gateway_race_init(drivers, n);
	life.w = *w;
	life.drv = n > 0 ? drivers[0] : NULL;
	life.bootid = -1;
	timer_init(&life.search, life_search_cb);
	timer_init(&life.check, life_check_cb);
}

int
gateway_set_where(const char *ifname, const struct in_addr *gateway)
{
	int changed;

	if (ifname == NULL)
		ifname = "";
	changed = strcmp(life.ifname, ifname) != 0 ||
	    life.have_gateway != (gateway != NULL) || (gateway != NULL &&
	    life.gateway.s_addr != gateway->s_addr);
	snprintf(life.ifname, sizeof(life.ifname), "%s", ifname);
	life.have_gateway = gateway != NULL;
	life.gateway.s_addr = gateway != NULL ? gateway->s_addr : INADDR_ANY;
	return changed;
}

void
gateway_start(void)
{
	life_search();
}

void
gateway_forget(void)
{
	gateway_race_cancel();
	life.quiet = 0;
	memset(&life.gw, 0, sizeof(life.gw));
	life_leave(LIFE_NONE, GATEWAY_LOST_CONFIG);
	life_search();
}

int
gateway_check_now(void)
{
	if (life.stopped || life.state != LIFE_READY || gateway_race_running())
		return -1;
	timer_set(&life.check, 0);
	return 0;
}

int
gateway_is_ready(void)
{
	return life.state == LIFE_READY;
}

int
gateway_was_found(void)
{
	return life.found;
}

const struct drv_env *
gateway_env(void)
{
	return &life.env;
}

const struct drv_gateway *
gateway_info(void)
{
	return &life.gw;
}

void
gateway_stop(void)
{
	life.stopped = 1;
	timer_stop(&life.search);
	timer_stop(&life.check);
	gateway_race_cancel();
	gateway_lookup_cancel();
}

void
gateway_free(void)
{
	gateway_stop();
	wancheck_stop();
	gateway_unwatch();
}
