/* SPDX-License-Identifier: ISC */
/* STUN-kept UDP bindings: learn the public endpoint, prove it reachable (RFC 5780 filtering test), keep it open, forward to the service. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "driver.h"
#include "fallback.h"
#include "fallback-rung.h"
#include "fallback-tcp.h"
#include "forward.h"
#include "log.h"
#include "loop.h"
#include "status.h"
#include "stun-msg.h"
#include "stun.h"

/* The binding's endpoint: a few seconds per server at most. */
static const struct stun_schedule fb_query_sched = {
	.rto_ms = 500,
	.sends = 4,
	.last_wait = 4,
	.budget_ms = 4000,
};

/*
 * The filtering test: its answer is silence when the NAT filters, so it
 * is kept short; three sends survive the loss of two.
 */
static const struct stun_schedule fb_test_sched = {
	.rto_ms = 400,
	.sends = 3,
	.last_wait = 3,
	.budget_ms = 2400,
};

/* A binding not proven reachable is tested again every this many keep-alives. */
#define FB_RETEST_EVERY		4

/*
 * The NAT's idle timeout for UDP, found as RFC 5780's binding lifetime
 * test does, on sockets of its own: a Binding request from a fresh
 * socket X makes a binding; after a keep-alive interval of silence, a
 * request from another socket asks the server to answer to X's public
 * port (RESPONSE-PORT).  The answer reaches X only if the NAT kept the
 * binding that long.  If not, the interval is halved (down to
 * FALLBACK_KEEPALIVE_MIN_MS) for every binding and tried again with a new
 * X: a dropped answer leaves state behind on some NATs (a Linux NAT keeps
 * a conntrack entry for it that changes the port of the next binding
 * there), so the service's bindings are never used for the test.
 */
static const struct stun_schedule fb_life_sched = {
	.rto_ms = 500,
	.sends = 2,
	.last_wait = 2,
	.budget_ms = 1500,
};

enum fb_step {
	FB_IDLE,		/* waiting for the servers' addresses */
	FB_QUERY,		/* which endpoint has the binding? */
	FB_TEST,		/* may anyone send to it? */
	FB_KEEP,		/* between keep-alives */
};

struct fb_binding {
	struct fb_rung		 r;		/* what the status shows */
	int			 fd;
	uint16_t		 local_port;
	struct stun_sock	*ss;
	struct forward		*fwd;
	struct stun_txn		*txn;
	struct timer		 timer;
	int			 step;		/* enum fb_step */
	size_t			 srv;		/* the server in use */
	size_t			 failed;	/* servers tried in a row without answer */
	struct sockaddr_storage	 other;		/* the server's OTHER-ADDRESS */
	unsigned int		 keepalives;	/* since the last filtering test */
	uint64_t		 interval;	/* ms between keep-alives */
};

static struct {
	struct fb_servers	 servers;	/* the STUN servers */
	uint16_t		*ports;		/* the UDP ports: int, ext pairs */
	size_t			 nports;
	uint16_t		 port_first, port_last;	/* local ports */
	struct fb_binding	*b;
	size_t			 nb;
	struct stun_sock	*probe;		/* where the lifetime test asks from */
	struct {
		int		 on;		/* a trial under way */
		int		 over;		/* settled, or the server cannot */
		size_t		 srv;
		struct stun_sock *x;		/* the trial's binding */
		struct stun_txn	*txn;
		struct sockaddr_storage	 xm;	/* its public endpoint */
		uint8_t		 tid[STUN_TID_LEN];
		int		 alive;
		uint64_t	 trial_ms;	/* the silence tried */
		struct timer	 timer;
	} life;
	int			 running;
	int			 warned_max;
} fb;

static void	fb_query(struct fb_binding *);

/* ---- reporting ---- */

static void
fb_report(struct fb_binding *b, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fb_report(struct fb_binding *b, int state, const char *fmt, ...)
{
	uint64_t renew_at = 0;
	va_list ap;

	if (b->step == FB_KEEP && timer_armed(&b->timer))
		renew_at = loop_now() + timer_remaining(&b->timer);
	va_start(ap, fmt);
	fb_rung_set(&b->r, state, renew_at, "RFC 5780's filtering test", fmt,
	    ap);
	va_end(ap);
}

/* ---- one binding ---- */

static const char *
srv_name(size_t i, char *buf, size_t len)
{
	return fb_servers_name(&fb.servers, i, buf, len);
}

static int
fb_next_server(struct fb_binding *b)
{
	return fb_servers_next(&fb.servers, &b->srv);
}

static void
fb_keep(struct fb_binding *b, uint64_t ms)
{
	b->step = FB_KEEP;
	timer_set(&b->timer, ms);
}

static void
fb_test_done(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	struct fb_binding *b = arg;
	char ep[64], s[64], from[64];

	(void)txn;
	b->txn = NULL;
	b->keepalives = 0;
	stun_addr_str(&b->r.mapped, ep, sizeof(ep));
	srv_name(b->srv, s, sizeof(s));
	fb_keep(b, b->interval);
	if (a->ok) {
		/*
		 * Only an answer from another address and port proves
		 * anything: a server that ignores CHANGE-REQUEST answers from
		 * the one asked, which the NAT lets through anyway.
		 */
		if (stun_addr_eq_ip(&a->from, &a->server) ||
		    stun_addr_port(&a->from) == stun_addr_port(&a->server)) {
			fb_report(b, STATUS_UNVERIFIED, "STUN server %s answered "
			    "the filtering test from %s, not from its other "
			    "address and port: it cannot prove %s reachable", s,
			    stun_addr_str(&a->from, from, sizeof(from)), ep);
			return;
		}
		fb_report(b, STATUS_VERIFIED, NULL);
		return;
	}
	if (!a->timeout) {
		fb_report(b, STATUS_UNVERIFIED, "filtering test with STUN "
		    "server %s: %s", s, a->err);
		return;
	}
	fb_report(b, STATUS_FILTERED, "the NAT drops what other hosts send "
	    "to %s (address- or port-dependent filtering): hole punching or "
	    "a relay would be needed", ep);
}

static void
fb_test(struct fb_binding *b)
{
	b->step = FB_TEST;
	b->txn = stun_binding(b->ss, (struct sockaddr *)&fb.servers.addr[b->srv],
	    sizeof(struct sockaddr_in), STUN_CHANGE_IP | STUN_CHANGE_PORT,
	    &fb_test_sched, fb_test_done, b);
	if (b->txn == NULL) {
		fb_report(b, STATUS_UNVERIFIED, "filtering test: %s",
		    strerror(errno));
		fb_keep(b, b->interval);
	}
}

static void
fb_query_done(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	struct fb_binding *b = arg;
	char s[64], old[64], now[64];
	int changed;

	(void)txn;
	b->txn = NULL;
	srv_name(b->srv, s, sizeof(s));
	if (!a->ok || a->mapped.ss_family != AF_INET) {
		const char *why = a->ok ? "no IPv4 address in the answer" :
		    a->err;

		/* Another server at once; all of them silent: later. */
		if (++b->failed < fb.servers.nsrv && fb_next_server(b) == 0) {
			log_debug("udp %u: STUN server %s: %s", b->r.int_port, s,
			    why);
			fb_keep(b, 0);
			return;
		}
		b->failed = 0;
		(void)fb_next_server(b);
		fb_keep(b, FALLBACK_RETRY_MS);
		/* A binding proven before may well still be there. */
		if (b->r.state == STATUS_VERIFIED)
			log_info("udp %u: STUN server %s: %s; keeping the "
			    "binding", b->r.int_port, s, why);
		else
			fb_report(b, STATUS_UNVERIFIED, "no STUN server "
			    "answered (%s: %s)", s, why);
		return;
	}
	b->failed = 0;
	changed = b->r.mapped.ss_family != AF_UNSPEC &&
	    !stun_addr_eq(&b->r.mapped, &a->mapped);
	if (changed) {
		stun_addr_str(&b->r.mapped, old, sizeof(old));
		stun_addr_str(&a->mapped, now, sizeof(now));
		/*
		 * A new port at the same address: the NAT forgot the
		 * binding between keep-alives.  A new address is the
		 * network's doing (a new WAN address), not the interval's.
		 */
		if (!stun_addr_eq_ip(&b->r.mapped, &a->mapped))
			log_info("udp %u: the binding moved from %s to %s: a new "
			    "public address", b->r.int_port, old, now);
		else if (b->interval / 2 >= FALLBACK_KEEPALIVE_MIN_MS) {
			b->interval /= 2;
			log_info("udp %u: the binding moved from %s to %s "
			    "between keep-alives: one every %llu s from now",
			    b->r.int_port, old, now,
			    (unsigned long long)(b->interval / 1000));
		} else
			log_info("udp %u: the binding moved from %s to %s",
			    b->r.int_port, old, now);
	}
	b->r.mapped = a->mapped;
	b->other = a->other;
	if (b->other.ss_family == AF_UNSPEC) {
		fb_keep(b, b->interval);
		fb_report(b, STATUS_UNVERIFIED, "STUN server %s gives no "
		    "OTHER-ADDRESS (no RFC 5780): it cannot test whether the "
		    "binding is reachable", s);
		return;
	}
	if (changed || b->r.state == -1 || b->r.state == STATUS_UNVERIFIED ||
	    (b->r.state != STATUS_VERIFIED &&
	    ++b->keepalives >= FB_RETEST_EVERY)) {
		fb_test(b);
		return;
	}
	fb_keep(b, b->interval);
	fb_report(b, b->r.state, "%s", b->r.error[0] != '\0' ? b->r.error : "");
}

static void
fb_query(struct fb_binding *b)
{
	b->step = FB_QUERY;
	b->txn = stun_binding(b->ss, (struct sockaddr *)&fb.servers.addr[b->srv],
	    sizeof(struct sockaddr_in), 0, &fb_query_sched, fb_query_done, b);
	if (b->txn == NULL) {
		log_debug("udp %u: STUN: %s", b->r.int_port, strerror(errno));
		fb_keep(b, FALLBACK_RETRY_MS);
	}
}

static void	fb_open(struct fb_binding *);

static void
fb_timer(struct timer *t)
{
	struct fb_binding *b = container_of(t, struct fb_binding, timer);

	if (b->step != FB_KEEP)
		return;
	if (b->ss == NULL)
		fb_open(b);
	else
		fb_query(b);
}

/* A STUN datagram on the binding's socket, handed over by the forwarder. */
static void
fb_stun_in(void *arg, const uint8_t *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	struct fb_binding *b = arg;

	(void)stun_sock_input(b->ss, buf, len, from, fromlen);
}

/* A socket on a free local port of the range: 0, or -1. */
static int
fb_bind(struct fb_binding *b)
{
	struct sockaddr_in sin;
	unsigned int span = (unsigned int)(fb.port_last - fb.port_first) + 1;
	int i, tries = span < 32 ? (int)span * 2 : 32;

	if ((b->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	for (i = 0; i < tries; i++) {
		b->local_port = (uint16_t)(fb.port_first + loop_random(span));
		sin.sin_port = htons(b->local_port);
		if (bind(b->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return 0;
		if (errno != EADDRINUSE)
			break;
	}
	close(b->fd);
	b->fd = -1;
	return -1;
}

static void
fb_close(struct fb_binding *b)
{
	if (b->txn != NULL)
		stun_cancel(b->txn);
	b->txn = NULL;
	timer_stop(&b->timer);
	if (b->fwd != NULL)
		forward_free(b->fwd);
	b->fwd = NULL;
	if (b->ss != NULL)
		stun_sock_close(b->ss);
	b->ss = NULL;
	if (b->fd != -1)
		close(b->fd);
	b->fd = -1;
}

/* Open the binding's socket and forwarder, and ask for its endpoint. */
static void
fb_open(struct fb_binding *b)
{
	struct forward_opts fo;
	struct sockaddr_in target;
	char name[32];

	if (fb_next_server(b) == -1) {
		fb_report(b, STATUS_UNVERIFIED, "no STUN server's address is "
		    "known");
		return;		/* fb.servers resolves them again */
	}
	if (fb_local_toward(&fb.servers.addr[b->srv], &b->r.local) == -1) {
		fb_report(b, STATUS_UNVERIFIED, "no route to STUN server: %s",
		    strerror(errno));
		fb_keep(b, FALLBACK_RETRY_MS);
		return;
	}
	if (fb_bind(b) == -1) {
		fb_report(b, STATUS_UNVERIFIED, "no local port for the "
		    "binding: %s", strerror(errno));
		fb_keep(b, FALLBACK_RETRY_MS);
		return;
	}
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_addr = b->r.local;
	target.sin_port = htons(b->r.int_port);
	memset(&fo, 0, sizeof(fo));
	fo.max_conns = FALLBACK_SESSIONS;
	fo.stun_cb = fb_stun_in;
	fo.arg = b;
	snprintf(name, sizeof(name), "udp %u", b->local_port);
	fo.name = name;
	if ((b->ss = stun_sock_wrap(b->fd)) == NULL ||
	    (b->fwd = forward_udp_new(b->fd, (struct sockaddr *)&target,
	    sizeof(target), &fo)) == NULL) {
		fb_report(b, STATUS_UNVERIFIED, "forwarder: %s",
		    strerror(errno));
		fb_close(b);
		fb_keep(b, FALLBACK_RETRY_MS);
		return;
	}
	log_debug("udp %u: keeping a binding from local port %u",
	    b->r.int_port, b->local_port);
	fb_query(b);
}

/* ---- the NAT's idle timeout ---- */

static void	fb_life_trial(void);

static void
fb_life_end_trial(void)
{
	if (fb.life.txn != NULL)
		stun_cancel(fb.life.txn);
	fb.life.txn = NULL;
	timer_stop(&fb.life.timer);
	if (fb.life.x != NULL)
		stun_sock_close(fb.life.x);
	fb.life.x = NULL;
	fb.life.on = 0;
}

/* Every binding keeps its NAT binding with a keep-alive every ms. */
static void
fb_set_interval(uint64_t ms)
{
	size_t i;
	struct fb_binding *b;

	for (i = 0; i < fb.nb; i++) {
		b = &fb.b[i];
		if (b->interval <= ms)
			continue;
		b->interval = ms;
		if (b->step == FB_KEEP && timer_armed(&b->timer) &&
		    timer_remaining(&b->timer) > ms)
			timer_set(&b->timer, ms);
	}
}

static void
fb_life_asked(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	uint64_t t = fb.life.trial_ms;

	(void)txn;
	(void)arg;
	fb.life.txn = NULL;
	if (!fb.life.alive && !a->timeout) {
		/* Answered to the asking socket, or refused: no RESPONSE-PORT. */
		log_debug("fallback: the NAT's idle timeout cannot be tested "
		    "with this STUN server (%s)", a->ok ?
		    "it ignores RESPONSE-PORT" : a->err);
		fb.life.over = 1;
		fb_life_end_trial();
		return;
	}
	fb_life_end_trial();
	if (fb.life.alive) {
		log_info("the NAT keeps an idle UDP binding %llu s: a keep-alive "
		    "every %llu s", (unsigned long long)(t / 1000),
		    (unsigned long long)(t / 1000));
		fb_set_interval(t);
		fb.life.over = 1;
		return;
	}
	if (t / 2 < FALLBACK_KEEPALIVE_MIN_MS) {
		log_info("the NAT drops an idle UDP binding within %llu s: "
		    "keep-alives cannot be sent more often", (unsigned long long)
		    (t / 1000));
		fb.life.over = 1;
		return;
	}
	fb.life.trial_ms = t / 2;
	log_info("the NAT dropped an idle UDP binding within %llu s: a "
	    "keep-alive every %llu s from now", (unsigned long long)(t / 1000),
	    (unsigned long long)(fb.life.trial_ms / 1000));
	fb_set_interval(fb.life.trial_ms);
	fb_life_trial();
}

/* An answer to no transaction of X's own: the one sent to its port? */
static void
fb_life_stray(struct stun_sock *ss, int cls, const uint8_t tid[STUN_TID_LEN],
    const struct sockaddr_storage *from, void *arg)
{
	(void)ss;
	(void)from;
	(void)arg;
	if (cls == STUN_SUCCESS && fb.life.txn != NULL &&
	    memcmp(tid, fb.life.tid, STUN_TID_LEN) == 0)
		fb.life.alive = 1;
}

/* The silence is over: ask for an answer to X's public port. */
static void
fb_life_timer(struct timer *t)
{
	(void)t;
	if (fb.life.over) {
		fb_life_end_trial();	/* X's binding failed */
		return;
	}
	fb.life.alive = 0;
	fb.life.txn = stun_binding_port(fb.probe,
	    (struct sockaddr *)&fb.servers.addr[fb.life.srv], sizeof(struct sockaddr_in),
	    0, stun_addr_port(&fb.life.xm), &fb_life_sched, fb_life_asked, NULL);
	if (fb.life.txn == NULL) {
		fb_life_end_trial();
		return;
	}
	memcpy(fb.life.tid, stun_txn_tid(fb.life.txn), STUN_TID_LEN);
}

static void
fb_life_opened(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	(void)txn;
	(void)arg;
	fb.life.txn = NULL;
	if (!a->ok || a->mapped.ss_family != AF_INET) {
		/* No binding to test now; the next trial is the next start. */
		log_debug("fallback: lifetime test: %s", a->ok ?
		    "no IPv4 address in the answer" : a->err);
		timer_set(&fb.life.timer, 0);	/* not from inside x's callback */
		fb.life.over = 1;
		return;
	}
	fb.life.xm = a->mapped;
	timer_set(&fb.life.timer, fb.life.trial_ms);
}

static void
fb_life_trial(void)
{
	size_t i;

	if (fb.life.on || fb.life.over || fb.probe == NULL)
		return;
	for (i = 0; i < fb.servers.nsrv; i++)
		if (fb.servers.addr[i].ss_family != AF_UNSPEC)
			break;
	if (i == fb.servers.nsrv)
		return;
	fb.life.srv = i;
	if ((fb.life.x = stun_sock_open(NULL, 0)) == NULL) {
		log_debug("fallback: lifetime test: %s", strerror(errno));
		return;
	}
	stun_sock_on_stray(fb.life.x, fb_life_stray, NULL);
	fb.life.on = 1;
	fb.life.txn = stun_binding(fb.life.x, (struct sockaddr *)&fb.servers.addr[i],
	    sizeof(struct sockaddr_in), 0, &fb_query_sched, fb_life_opened,
	    NULL);
	if (fb.life.txn == NULL)
		fb_life_end_trial();
}

/* ---- servers and the whole ---- */

static void	fb_stop_udp(void);

/* The servers' addresses are in (some of them): open what is not open. */
static void
fb_open_all(void)
{
	size_t i;

	if (fb_servers_known(&fb.servers) > 0)
		fb_life_trial();
	for (i = 0; i < fb.nb; i++)
		if (fb.b[i].ss == NULL && !timer_armed(&fb.b[i].timer))
			fb_open(&fb.b[i]);
}

/*
 * The configuration (SIGHUP too): bindings already kept stay as they are
 * (their public endpoints with them) when the UDP ports and the servers
 * are the same; else they are closed, and fallback_start() makes the new
 * ones.
 */
void
fallback_configure(const struct config *conf)
{
	const struct conf_server *srv = conf->stun;
	size_t nports, nsrv = conf->nstun;
	uint16_t *ports, first, last;

	fallback_tcp_configure(conf);
	/* natmapd-rendezvous is a STUN server with RFC 5780 as well */
	if (nsrv == 0) {
		srv = conf->rdv;
		nsrv = conf->nrdv;
	}
	first = conf->fb_port_first != 0 ? conf->fb_port_first :
	    FALLBACK_PORT_FIRST;
	last = conf->fb_port_last != 0 ? conf->fb_port_last :
	    FALLBACK_PORT_LAST;
	ports = fb_ports(conf, CONF_UDP, &nports, &fb.warned_max);
	if (fb_servers_same(&fb.servers, srv, nsrv) &&
	    nports == fb.nports && first == fb.port_first &&
	    last == fb.port_last && (nports == 0 ||
	    memcmp(ports, fb.ports, nports * 2 * sizeof(uint16_t)) == 0)) {
		free(ports);
		return;
	}
	fb_stop_udp();
	fb.port_first = first;
	fb.port_last = last;
	fb_servers_set(&fb.servers, srv, nsrv, SOCK_DGRAM, "STUN server",
	    fb_open_all);
	free(fb.ports);
	fb.ports = ports;
	fb.nports = nports;
}

void
fallback_start(void)
{
	size_t i;

	fallback_tcp_start();
	if (fb.running || fb.servers.nsrv == 0 || fb.nports == 0)
		return;
	if ((fb.b = calloc(fb.nports, sizeof(*fb.b))) == NULL) {
		log_warn("fallback");
		return;
	}
	fb.running = 1;
	fb.nb = fb.nports;
	for (i = 0; i < fb.nb; i++) {
		struct fb_binding *b = &fb.b[i];

		b->r.proto = DRV_UDP;
		b->r.int_port = fb.ports[2 * i];
		b->r.ext_want = fb.ports[2 * i + 1];
		b->fd = -1;
		b->r.state = -1;
		b->step = FB_IDLE;
		b->srv = fb.servers.nsrv - 1;	/* fb_next_server starts at 0 */
		b->interval = FALLBACK_KEEPALIVE_MS;
		timer_init(&b->timer, fb_timer);
	}
	memset(&fb.life, 0, sizeof(fb.life));
	fb.life.trial_ms = FALLBACK_KEEPALIVE_MS;
	timer_init(&fb.life.timer, fb_life_timer);
	if ((fb.probe = stun_sock_open(NULL, 0)) == NULL)
		log_warn("STUN-kept bindings: a socket for liveness checks");
	fb_servers_resolve(&fb.servers);
}

static void
fb_stop_udp(void)
{
	size_t i;

	fb_servers_cancel(&fb.servers);
	if (fb.running)
		fb_life_end_trial();
	for (i = 0; i < fb.nb; i++) {
		fb_close(&fb.b[i]);
		fb_rung_remove(&fb.b[i].r);
	}
	free(fb.b);
	fb.b = NULL;
	fb.nb = 0;
	if (fb.probe != NULL)
		stun_sock_close(fb.probe);
	fb.probe = NULL;
	fb.running = 0;
}

void
fallback_stop(void)
{
	fallback_tcp_stop();
	fb_stop_udp();
}

void
fallback_recheck(void)
{
	size_t i, n = 0;

	for (i = 0; i < fb.nb; i++)
		if (fb.b[i].step == FB_KEEP && fb.b[i].ss != NULL) {
			timer_set(&fb.b[i].timer, 0);
			n++;
		}
	n += fallback_tcp_recheck();
	if (n > 0)
		log_info("network changed: asking STUN for the endpoint of "
		    "%zu kept binding%s now", n, n == 1 ? "" : "s");
}

size_t
fallback_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < fb.nb; i++)
		if (fb.b[i].fd != -1)
			n++;
	return n + fallback_tcp_count();
}
