/* SPDX-License-Identifier: ISC */
/* natmapd --probe: ask the gateway, STUN servers and echo services at once, then say what --map can do. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conf.h"
#include "driver.h"
#include "echo.h"
#include "gateway.h"
#include "log.h"
#include "loop.h"
#include "osdep.h"
#include "probe.h"
#include "resolve.h"
#include "stun.h"
#include "verdict.h"

/* The whole probe ends by then, answered or not. */
#define PROBE_DEADLINE_MS	8000

/* STUN: RFC 8489's 500 ms first RTO, fewer sends, a few seconds at most. */
static const struct stun_schedule probe_sched = {
	.rto_ms = 500,
	.sends = 4,
	.last_wait = 2,
	.budget_ms = 2500,
};
/* A filtering test expects silence from a NAT that filters: keep it short. */
static const struct stun_schedule filter_sched = {
	.rto_ms = 300,
	.sends = 3,
	.last_wait = 2,
	.budget_ms = 1500,
};

enum { ST_IDLE, ST_RUNNING, ST_OK, ST_FAILED };

struct stun_srv {
	const struct conf_server	*cs;
	struct resolve_req		*rr;
	struct sockaddr_storage		 addr;
	struct stun_txn			*txn;
	struct stun_answer		 a;
	int				 state;
	char				 err[160];
	/* the same over IPv6, when the server has an IPv6 address and we do */
	struct sockaddr_storage		 addr6;
	struct stun_txn			*txn6;
	struct stun_answer		 a6;
	int				 state6;
};

struct echo_slot {
	const char		*url;
	struct echo_req		*req;
	int			 state;
	struct echo_result	 r;
};

/* A test of RFC 5780: one Binding and its answer. */
struct test {
	struct stun_txn		*txn;
	struct stun_answer	 a;
	int			 state;
};

static struct {
	const struct config	*conf;
	struct drv_env		 env;
	int			 have_env;
	char			 env_err[128];
	uint64_t		 t0;
	int			 pending;
	struct timer		 deadline;
	struct stun_srv		 srv[CONF_MAX_SERVERS];
	size_t			 nsrv;
	struct stun_sock	*sock;
	struct sockaddr_storage	 local;		/* sock's address and port */
	struct stun_sock	*sock6;		/* from the global IPv6 address */
	struct sockaddr_storage	 local6;
	int			 primary;	/* server with OTHER-ADDRESS, or -1 */
	struct test		 f2, f3, m2, m3, tcp;
	/* hairpinning: a Binding from hsock to our own mapped address */
	struct stun_sock	*hsock;
	uint8_t			 htid[STUN_TID_LEN];
	struct timer		 htimer;
	int			 hsends;
	int			 hairpin;	/* -1 not tried, 0 no, 1 yes */
	struct echo_slot	 echo[CONF_MAX_SERVERS];
	size_t			 necho;
	int			 echo_missing;	/* built without libcurl */
} run;

/*
 * The UDP mapping lifetime (RFC 5780 4.6), when asked: each round maps a
 * fresh socket X, stays quiet T seconds, then asks from socket Y for the
 * answer to be sent to X's public port (RESPONSE-PORT).  X hears it only
 * if its mapping is still there.  T doubles from 2 s until the mapping is
 * gone (or T passes the maximum), then is halved down to about 10%.
 */
static struct {
	unsigned int		 max;
	unsigned int		 lo;		/* alive after lo seconds */
	unsigned int		 hi;		/* gone after hi seconds; 0: not seen */
	unsigned int		 t;		/* this round's quiet time */
	int			 state;		/* ST_IDLE, ST_RUNNING, ST_OK, ST_FAILED */
	int			 heard;		/* X got the answer */
	struct stun_sock	*x, *y;
	struct sockaddr_storage	 xmapped;
	uint8_t			 ytid[STUN_TID_LEN];
	struct timer		 quiet;
	struct timer		 step;		/* acts on an answer, outside its callback */
	int			 outcome;	/* what step acts on */
	char			 err[160];
} life;

enum { LIFE_ALIVE, LIFE_GONE, LIFE_FAILED };

static const struct stun_schedule life_sched = {
	.rto_ms = 300,
	.sends = 3,
	.last_wait = 2,
	.budget_ms = 1500,
};

static void	stun_phase_next(void);
static void	life_round(void);

static void
pending_done(void)
{
	if (--run.pending == 0)
		loop_stop();
}

/* ---- gateway protocols ---- */

/* The race of PCP, NAT-PMP and UPnP, every one to the end. */
static void
gw_race_done(const struct gateway_slot *best)
{
	(void)best;
	pending_done();
}

/* ---- STUN: test I to every server, then RFC 5780 against the first with OTHER-ADDRESS ---- */

static void
test_cb(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	struct test *t = arg;

	(void)txn;
	t->txn = NULL;
	t->a = *a;
	t->state = a->ok ? ST_OK : ST_FAILED;
	log_debug("probe: STUN test to %s: %s", stun_addr_str(&a->server,
	    (char[64]){ 0 }, 64), a->ok ? "answered" : a->err);
	stun_phase_next();
	pending_done();
}

static void
test_start(struct test *t, const struct sockaddr_storage *to, uint8_t change,
    const struct stun_schedule *sch)
{
	t->state = ST_RUNNING;
	run.pending++;
	t->txn = stun_binding(run.sock, (const struct sockaddr *)to,
	    to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in), change, sch, test_cb, t);
	if (t->txn == NULL) {
		t->state = ST_FAILED;
		snprintf(t->a.err, sizeof(t->a.err), "cannot send: %s",
		    strerror(errno));
		pending_done();
	}
}

static void
tcp_start(const struct sockaddr_storage *to)
{
	struct sockaddr_in local;

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr = run.env.local;
	run.tcp.state = ST_RUNNING;
	run.pending++;
	run.tcp.txn = stun_binding_tcp(run.have_env
	    ? (struct sockaddr *)&local :
	    NULL, (const struct sockaddr *)to, sizeof(struct sockaddr_in),
	    &probe_sched, test_cb, &run.tcp);
	if (run.tcp.txn == NULL) {
		run.tcp.state = ST_FAILED;
		snprintf(run.tcp.a.err, sizeof(run.tcp.a.err),
		    "cannot connect: %s",
		    strerror(errno));
		pending_done();
	}
}

static void
hairpin_request(struct stun_sock *s, int cls, const uint8_t *tid,
    const struct sockaddr_storage *from, void *arg)
{
	(void)s;
	(void)from;
	(void)arg;
	if (cls != STUN_REQUEST || run.hairpin != -1 || run.hsock == NULL ||
	    memcmp(tid, run.htid, STUN_TID_LEN) != 0)
		return;
	run.hairpin = 1;
	timer_stop(&run.htimer);
	pending_done();
}

static void
htimer_cb(struct timer *t)
{
	const struct stun_srv *pr = &run.srv[run.primary];

	(void)t;
	if (run.hsends == 3) {
		run.hairpin = 0;
		pending_done();
		return;
	}
	run.hsends++;
	(void)stun_sock_send_raw(run.hsock, (const struct sockaddr *)&pr->a.mapped,
	    sizeof(struct sockaddr_in), run.htid);
	timer_set(&run.htimer, 300);
}

static void
hairpin_start(void)
{
	struct sockaddr_in local;
	size_t i;

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr = run.env.local;
	run.hsock = stun_sock_open((struct sockaddr *)&local, sizeof(local));
	if (run.hsock == NULL)
		return;
	for (i = 0; i < STUN_TID_LEN; i++)
		run.htid[i] = (uint8_t)loop_random(256);
	stun_sock_on_stray(run.sock, hairpin_request, NULL);
	timer_init(&run.htimer, htimer_cb);
	run.pending++;
	timer_set(&run.htimer, 0);
}

/* sa with the IP of ip and the port of port. */
static void
addr_mix(struct sockaddr_storage *out, const struct sockaddr_storage *ip,
    uint16_t port)
{
	*out = *ip;
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)out)->sin6_port = htons(port);
}

/* Test I is in from every server: pick one for RFC 5780, then filtering, then mapping. */
static void
stun_phase_next(void)
{
	struct stun_srv *pr;
	struct sockaddr_storage to;
	size_t i;

	for (i = 0; i < run.nsrv; i++)
		if (run.srv[i].state == ST_RUNNING
		    || run.srv[i].state == ST_IDLE)
			return;
	if (run.primary == -1) {
		for (i = 0; i < run.nsrv; i++) {
			pr = &run.srv[i];
			if (pr->state == ST_OK &&
			    pr->addr.ss_family == AF_INET &&
			    pr->a.other.ss_family == AF_INET &&
			    !stun_addr_eq_ip(&pr->a.other, &pr->addr) &&
			    stun_addr_port(&pr->a.other) !=
			    stun_addr_port(&pr->addr)) {
				run.primary = (int)i;
				break;
			}
		}
		/* TCP to the first server that answered over UDP. */
		for (i = 0; i < run.nsrv; i++)
			if (run.srv[i].state == ST_OK &&
			    run.srv[i].addr.ss_family == AF_INET) {
				tcp_start(&run.srv[i].addr);
				break;
			}
		if (run.primary == -1)
			return;
		pr = &run.srv[run.primary];
		/*
		 * Filtering first: only the primary address has been sent to,
		 * so an answer from elsewhere went through no hole we made.
		 */
		test_start(&run.f2, &pr->addr,
		    STUN_CHANGE_IP | STUN_CHANGE_PORT,
		    &filter_sched);
		test_start(&run.f3, &pr->addr, STUN_CHANGE_PORT, &filter_sched);
		return;
	}
	pr = &run.srv[run.primary];
	if (run.f2.state == ST_RUNNING || run.f3.state == ST_RUNNING)
		return;
	if (run.m2.state == ST_IDLE) {
		/* Mapping: the other address with the primary port, then both other. */
		addr_mix(&to, &pr->a.other, stun_addr_port(&pr->addr));
		test_start(&run.m2, &to, 0, &probe_sched);
		test_start(&run.m3, &pr->a.other, 0, &probe_sched);
		hairpin_start();
	}
}

static void
srv_cb(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	struct stun_srv *s = arg;
	char as[64];

	(void)txn;
	s->txn = NULL;
	s->a = *a;
	s->state = a->ok ? ST_OK : ST_FAILED;
	if (a->ok)
		log_debug("probe: STUN %s: mapped %s in %llu ms",
		    stun_addr_str(&s->addr, as, sizeof(as)),
		    stun_addr_str(&a->mapped, (char[64]){ 0 }, 64),
		    (unsigned long long)a->rtt_ms);
	else {
		snprintf(s->err, sizeof(s->err), "%s", a->err);
		log_debug("probe: STUN %s:%u: %s", s->cs->host, s->cs->port,
		    a->err);
	}
	stun_phase_next();
	pending_done();
}

/* Test I over IPv6: the public IPv6 address (no NAT expected: the host's own). */
static void
srv6_cb(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	struct stun_srv *s = arg;

	(void)txn;
	s->txn6 = NULL;
	s->a6 = *a;
	s->state6 = a->ok ? ST_OK : ST_FAILED;
	log_debug("probe: STUN over IPv6 %s:%u: %s", s->cs->host, s->cs->port,
	    a->ok ? "answered" : a->err);
	pending_done();
}

static void
srv_resolved(struct resolve_req *rr, const struct sockaddr_storage *addrs,
    size_t n, const char *err, void *arg)
{
	struct stun_srv *s = arg;
	size_t i, v4 = n, v6 = n;

	(void)rr;
	s->rr = NULL;
	for (i = 0; i < n; i++) {
		if (addrs[i].ss_family == AF_INET && v4 == n)
			v4 = i;
		if (addrs[i].ss_family == AF_INET6 && v6 == n)
			v6 = i;
	}
	if (v6 < n && run.sock6 != NULL) {
		s->addr6 = addrs[v6];
		s->state6 = ST_RUNNING;
		run.pending++;
		s->txn6 = stun_binding(run.sock6, (const struct sockaddr *)&s->addr6,
		    sizeof(struct sockaddr_in6), 0, &probe_sched, srv6_cb, s);
		if (s->txn6 == NULL) {
			s->state6 = ST_FAILED;
			snprintf(s->a6.err, sizeof(s->a6.err), "cannot send: %s",
			    strerror(errno));
			pending_done();
		}
	}
	if (n == 0 || v4 == n || run.sock == NULL) {
		s->state = ST_FAILED;
		snprintf(s->err, sizeof(s->err), "%s", n == 0 ? err :
		    v4 == n ? "no IPv4 address" : "no socket");
		stun_phase_next();
		pending_done();
		return;
	}
	s->addr = addrs[v4];
	s->txn = stun_binding(run.sock, (const struct sockaddr *)&s->addr,
	    sizeof(struct sockaddr_in), 0, &probe_sched, srv_cb, s);
	if (s->txn == NULL) {
		s->state = ST_FAILED;
		snprintf(s->err, sizeof(s->err), "cannot send: %s",
		    strerror(errno));
		stun_phase_next();
		pending_done();
	}
}

static void
stun_start(void)
{
	struct sockaddr_in local;
	size_t i;

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	if (run.have_env)
		local.sin_addr = run.env.local;
	run.sock = stun_sock_open((struct sockaddr *)&local, sizeof(local));
	if (run.sock != NULL)
		stun_sock_local(run.sock, &run.local);
	if (run.have_env && run.env.have6) {
		struct sockaddr_in6 local6;

		memset(&local6, 0, sizeof(local6));
		local6.sin6_family = AF_INET6;
		local6.sin6_addr = run.env.local6;
		run.sock6 = stun_sock_open((struct sockaddr *)&local6,
		    sizeof(local6));
		if (run.sock6 != NULL)
			stun_sock_local(run.sock6, &run.local6);
	}
	run.nsrv = run.conf->nstun;
	for (i = 0; i < run.nsrv; i++) {
		struct stun_srv *s = &run.srv[i];

		s->cs = &run.conf->stun[i];
		s->state = ST_RUNNING;
		run.pending++;
		s->rr = resolve_start(s->cs->host, s->cs->port, AF_UNSPEC,
		    SOCK_DGRAM, srv_resolved, s);
		if (s->rr == NULL) {
			s->state = ST_FAILED;
			snprintf(s->err, sizeof(s->err), "cannot resolve: %s",
			    strerror(errno));
			pending_done();
		}
	}
}

/* ---- HTTP echo ---- */

static void
echo_done(struct echo_req *req, const struct echo_result *r, void *arg)
{
	struct echo_slot *e = arg;

	(void)req;
	e->req = NULL;
	e->r = *r;
	e->state = r->ok ? ST_OK : ST_FAILED;
	log_debug("probe: echo %s: %s", e->url, r->ok ? "answered" : r->err);
	pending_done();
}

static void
echo_start_all(void)
{
	struct sockaddr_in local;
	size_t i;

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr = run.env.local;
	run.necho = run.conf->necho;
	for (i = 0; i < run.necho; i++) {
		struct echo_slot *e = &run.echo[i];

		e->url = run.conf->echo[i];
		e->state = ST_RUNNING;
		run.pending++;
		e->req = echo_start(e->url, run.have_env ?
		    (struct sockaddr *)&local : NULL, 0, echo_done, e);
		if (e->req == NULL) {
			e->state = ST_FAILED;
			if (errno == ENOTSUP)
				run.echo_missing = 1;
			snprintf(e->r.err, sizeof(e->r.err), "%s",
			    errno == ENOTSUP ? "natmapd was built without "
			    "libcurl" : strerror(errno));
			pending_done();
		}
	}
}

/* ---- the UDP mapping lifetime ---- */

static void
life_close(void)
{
	stun_sock_close(life.x);
	stun_sock_close(life.y);
	life.x = life.y = NULL;
}

static void
life_end(int state, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
life_end(int state, const char *fmt, ...)
{
	va_list ap;

	life_close();
	timer_stop(&life.quiet);
	timer_stop(&life.step);
	life.state = state;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(life.err, sizeof(life.err), fmt, ap);
		va_end(ap);
	}
	loop_stop();
}

/* One round is over: alive or not after life.t seconds; the next,
    or the end. */
static void
life_next(int alive)
{
	unsigned int slack;

	log_debug("probe: mapping %s after %u s quiet", alive ? "alive" :
	    "gone", life.t);
	if (alive)
		life.lo = life.t;
	else
		life.hi = life.t;
	life_close();
	if (life.hi == 0) {
		if (life.t >= life.max) {
			life_end(ST_OK, NULL);
			return;
		}
		life.t = life.t * 2 > life.max ? life.max : life.t * 2;
	} else {
		slack = life.lo / 10 > 1 ? life.lo / 10 : 1;
		if (life.hi - life.lo <= slack) {
			life_end(ST_OK, NULL);
			return;
		}
		life.t = life.lo + (life.hi - life.lo) / 2;
	}
	life_round();
}

static void
life_stray(struct stun_sock *s, int cls, const uint8_t *tid,
    const struct sockaddr_storage *from, void *arg)
{
	(void)s;
	(void)from;
	(void)arg;
	if (cls == STUN_SUCCESS && memcmp(tid, life.ytid, STUN_TID_LEN) == 0)
		life.heard = 1;
}

/*
 * A transaction's callback may not close its own socket (stun.h): the
 * round goes on from a timer, once the callback has returned.
 */
static void
life_step(struct timer *tm)
{
	(void)tm;
	if (life.outcome == LIFE_FAILED)
		life_end(ST_FAILED, NULL);
	else
		life_next(life.outcome == LIFE_ALIVE);
}

static void
life_later(int outcome)
{
	life.outcome = outcome;
	timer_set(&life.step, 0);
}

/* Y's request is over: X heard the answer, Y did (no RESPONSE-PORT), or nobody. */
static void
life_asked(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	(void)txn;
	(void)arg;
	if (a->ok) {
		snprintf(life.err, sizeof(life.err), "the server ignores "
		    "RESPONSE-PORT");
		life_later(LIFE_FAILED);
		return;
	}
	life_later(life.heard ? LIFE_ALIVE : LIFE_GONE);
}

static void
life_quiet_over(struct timer *tm)
{
	const struct stun_srv *pr = &run.srv[run.primary];
	struct sockaddr_in local;
	struct stun_txn *t;

	(void)tm;
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr = run.env.local;
	life.heard = 0;
	if ((life.y = stun_sock_open((struct sockaddr *)&local,
	    sizeof(local))) == NULL) {
		life_end(ST_FAILED, "socket: %s", strerror(errno));
		return;
	}
	t = stun_binding_port(life.y, (const struct sockaddr *)&pr->addr,
	    sizeof(struct sockaddr_in), 0, stun_addr_port(&life.xmapped),
	    &life_sched, life_asked, NULL);
	if (t == NULL) {
		life_end(ST_FAILED, "cannot send: %s", strerror(errno));
		return;
	}
	memcpy(life.ytid, stun_txn_tid(t), STUN_TID_LEN);
}

/* X is mapped: be quiet for life.t seconds. */
static void
life_mapped(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	(void)txn;
	(void)arg;
	if (!a->ok) {
		snprintf(life.err, sizeof(life.err), "%s", a->err);
		life_later(LIFE_FAILED);
		return;
	}
	life.xmapped = a->mapped;
	timer_set(&life.quiet, (uint64_t)life.t * 1000);
}

static void
life_round(void)
{
	const struct stun_srv *pr = &run.srv[run.primary];
	struct sockaddr_in local;

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr = run.env.local;
	if ((life.x = stun_sock_open((struct sockaddr *)&local,
	    sizeof(local))) == NULL) {
		life_end(ST_FAILED, "socket: %s", strerror(errno));
		return;
	}
	stun_sock_on_stray(life.x, life_stray, NULL);
	if (stun_binding(life.x, (const struct sockaddr *)&pr->addr,
	    sizeof(struct sockaddr_in), 0, &probe_sched, life_mapped,
	    NULL) == NULL)
		life_end(ST_FAILED, "cannot send: %s", strerror(errno));
}

/* After the rest of the probe: needs a server that gave OTHER-ADDRESS. */
static void
life_run(void)
{
	timer_init(&life.quiet, life_quiet_over);
	timer_init(&life.step, life_step);
	if (run.primary < 0) {
		life.state = ST_FAILED;
		snprintf(life.err, sizeof(life.err), "no STUN server with "
		    "OTHER-ADDRESS (RFC 5780) answered");
		return;
	}
	life.state = ST_RUNNING;
	life.t = 2 > life.max ? life.max : 2;
	life_round();
	if (life.state == ST_RUNNING)
		loop_run();
}

/* ---- the deadline: whatever is still out has not answered ---- */

static void
deadline_cb(struct timer *t)
{
	(void)t;
	log_debug("probe: deadline reached");
	gateway_race_cancel();	/* what is out: "no answer in time" */
	loop_stop();
}

/* ---- the verdict ---- */

struct verdict {
	struct in_addr	gw_ext;		/* 0 if no gateway said */
	const char	*gw_ext_by;
	struct in_addr	stun_ext;
	struct in_addr	echo_ext;
	int		 mapping;	/* enum verdict_mapping */
	int		 filtering;	/* enum verdict_filtering */
	int		 port_preserved;	/* -1 unknown */
	int		 answered;	/* anything at all */
	const struct gateway_slot *proto;	/* the protocol --map would use */
	struct verdict_result r;
};

static struct in_addr
sin_addr_of(const struct sockaddr_storage *ss)
{
	struct in_addr a = { 0 };

	if (ss->ss_family == AF_INET)
		a = ((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	return a;
}

static void
judge_nat(struct verdict *v)
{
	const struct stun_srv *pr, *s1 = NULL, *s2 = NULL;
	struct sockaddr_storage local = run.local;
	struct in_addr src;
	size_t i;

	v->mapping = VERDICT_MAP_UNKNOWN;
	v->filtering = VERDICT_FILTER_UNKNOWN;
	v->port_preserved = -1;
	for (i = 0; i < run.nsrv; i++)
		if (run.srv[i].state == ST_OK) {
			if (s1 == NULL)
				s1 = &run.srv[i];
			else if (s2 == NULL && !stun_addr_eq_ip(&s1->addr,
			    &run.srv[i].addr))
				s2 = &run.srv[i];
		}
	if (s1 == NULL)
		return;
	pr = run.primary >= 0 ? &run.srv[run.primary] : s1;
	/* Bound to any address (no default route): the one the server saw us from. */
	if (sin_addr_of(&local).s_addr == INADDR_ANY &&
	    osdep_source_addr(sin_addr_of(&pr->addr), &src) == 0)
		((struct sockaddr_in *)&local)->sin_addr = src;
	v->port_preserved = stun_addr_port(&pr->a.mapped) ==
	    stun_addr_port(&local);
	if (stun_addr_eq(&pr->a.mapped, &local)) {
		v->mapping = VERDICT_MAP_NONE;
		v->filtering = VERDICT_FILTER_NONE;
		return;
	}
	if (run.primary < 0) {
		/* No OTHER-ADDRESS: two servers tell the mapping, not the filter. */
		if (s2 != NULL)
			v->mapping = stun_addr_eq(&s1->a.mapped, &s2->a.mapped) ?
			    VERDICT_MAP_EI : VERDICT_MAP_DEPENDENT;
		return;
	}
	if (run.m2.state == ST_OK) {
		if (stun_addr_eq(&run.m2.a.mapped, &pr->a.mapped))
			v->mapping = VERDICT_MAP_EI;
		else if (run.m3.state == ST_OK)
			v->mapping = stun_addr_eq(&run.m3.a.mapped,
			    &run.m2.a.mapped) ? VERDICT_MAP_AD
			    : VERDICT_MAP_APD;
	}
	/* An answer from the server's own address: it ignored CHANGE-REQUEST. */
	if (run.f2.state == ST_OK && !stun_addr_eq_ip(&run.f2.a.from,
	    &pr->addr))
		v->filtering = VERDICT_FILTER_EI;
	else if (run.f3.state == ST_OK && stun_addr_eq_ip(&run.f3.a.from,
	    &pr->addr)
	    && stun_addr_port(&run.f3.a.from) != stun_addr_port(&pr->addr))
		v->filtering = VERDICT_FILTER_AD;
	else if (run.f2.state == ST_FAILED && run.f3.state == ST_FAILED &&
	    run.f2.a.timeout && run.f3.a.timeout)
		v->filtering = VERDICT_FILTER_APD;
}

static void
judge(struct verdict *v)
{
	struct verdict_facts f;
	size_t i;

	memset(v, 0, sizeof(*v));
	judge_nat(v);
	/* The protocol --map would use: PCP > NAT-PMP > UPnP, as in auto. */
	for (i = 0; i < gateway_race_nslots(); i++) {
		const struct gateway_slot *g = gateway_race_slot(i);

		if (g->state != GATEWAY_SLOT_OK)
			continue;
		v->answered = 1;
		if (v->proto == NULL)
			v->proto = g;
		if (v->gw_ext.s_addr == 0 && g->gw.external.s_addr != 0) {
			v->gw_ext = g->gw.external;
			v->gw_ext_by = g->drv->name;
		}
	}
	for (i = 0; i < run.nsrv; i++) {
		if (run.srv[i].state == ST_OK) {
			v->answered = 1;
			if (v->stun_ext.s_addr == 0)
				v->stun_ext = sin_addr_of(&run.srv[i].a.mapped);
		}
		if (run.srv[i].state6 == ST_OK)
			v->answered = 1;
	}
	for (i = 0; i < run.necho; i++)
		if (run.echo[i].state == ST_OK) {
			v->answered = 1;
			if (v->echo_ext.s_addr == 0)
				v->echo_ext = sin_addr_of(&run.echo[i].r.addr);
		}
	memset(&f, 0, sizeof(f));
	f.proto_name = v->proto != NULL ? v->proto->drv->name : NULL;
	f.gw_ext = v->gw_ext;
	f.ext = v->stun_ext.s_addr != 0 ? v->stun_ext : v->echo_ext;
	f.mapping = v->mapping;
	f.filtering = v->filtering;
	f.answered = v->answered;
	f.have_stun = run.nsrv > 0;
	verdict_judge(&f, &v->r);
}

/* The first IPv6 address STUN saw, as text; NULL if none. */
static const struct stun_srv *
srv6_ok(void)
{
	size_t i;

	for (i = 0; i < run.nsrv; i++)
		if (run.srv[i].state6 == ST_OK)
			return &run.srv[i];
	return NULL;
}

static const char *
ext6_of(void)
{
	static char s[INET6_ADDRSTRLEN];
	const struct stun_srv *sv = srv6_ok();

	if (sv == NULL)
		return NULL;
	return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
	    &sv->a6.mapped)->sin6_addr, s, sizeof(s));
}

/* Does the internet see another IPv6 address or port than the host's? */
static int
ipv6_translated(void)
{
	const struct stun_srv *sv = srv6_ok();

	return sv != NULL && !stun_addr_eq(&sv->a6.mapped, &run.local6);
}

/* ---- output ---- */

static void
print_text(const struct verdict *v)
{
	char a[64], b[64];
	size_t i;

	printf("natmapd %s probe\n", PACKAGE_VERSION);
	if (run.have_env)
		printf("interface       %s, local address %s\n", run.env.ifname,
		    inet_ntoa(run.env.local));
	else
		printf("interface       %s\n", run.env_err);
	printf("gateway         %s\n", run.have_env ?
	    inet_ntoa(run.env.gateway) : "none");
	for (i = 0; i < gateway_race_nslots(); i++) {
		const struct gateway_slot *g = gateway_race_slot(i);

		printf("%-15s ", g->drv->name);
		if (g->state == GATEWAY_SLOT_OK) {
			printf("answered in %llu ms", (unsigned long long)g->ms);
			if (strcmp(g->gw.name, g->drv->name) != 0)
				printf(": %s at %s", g->gw.name, g->gw.where);
			if (g->gw.external.s_addr != 0)
				printf(", external address %s",
				    inet_ntoa(g->gw.external));
			printf("\n");
		} else if (g->state == GATEWAY_SLOT_IDLE)
			printf("not probed\n");
		else
			printf("no (%s)\n", g->detail[0] ? g->detail :
			    "no answer");
	}
	printf("external address\n");
	printf("  gateway       %s", v->gw_ext.s_addr ? inet_ntoa(v->gw_ext) :
	    "-");
	printf("%s%s%s\n", v->gw_ext_by ? " (" : "", v->gw_ext_by ?
	    v->gw_ext_by : "", v->gw_ext_by ? ")" : "");
	if (run.nsrv == 0)
		printf("  STUN          not configured\n");
	for (i = 0; i < run.nsrv; i++) {
		const struct stun_srv *s = &run.srv[i];

		config_format_server(s->cs, b, sizeof(b));
		if (s->state == ST_OK)
			printf("  STUN          %s (%s, %llu ms)\n",
			    stun_addr_str(&s->a.mapped, a, sizeof(a)), b,
			    (unsigned long long)s->a.rtt_ms);
		else
			printf("  STUN          - (%s: %s)\n", b, s->err);
		if (s->state6 == ST_OK)
			printf("  STUN (IPv6)   %s (%s, %llu ms)\n",
			    stun_addr_str(&s->a6.mapped, a, sizeof(a)), b,
			    (unsigned long long)s->a6.rtt_ms);
		else if (s->state6 == ST_FAILED)
			printf("  STUN (IPv6)   - (%s: %s)\n", b, s->a6.err);
	}
	if (run.sock6 != NULL && ext6_of() != NULL)
		printf("  IPv6          %s%s\n", ext6_of(), ipv6_translated() ?
		    ", translated (NAT66 or NPTv6)" : ", the host's own: no "
		    "NAT");
	if (run.tcp.state == ST_OK)
		printf("  STUN over TCP %s\n", stun_addr_str(&run.tcp.a.mapped,
		    a,
		    sizeof(a)));
	else if (run.tcp.state == ST_FAILED)
		printf("  STUN over TCP - (%s)\n", run.tcp.a.err);
	if (run.necho == 0)
		printf("  HTTP echo     not configured%s\n", echo_available() ?
		    "" : " (and natmapd was built without libcurl)");
	for (i = 0; i < run.necho; i++) {
		const struct echo_slot *e = &run.echo[i];

		if (e->state == ST_OK)
			printf("  HTTP echo     %s (%s, %llu ms)\n",
			    inet_ntoa(sin_addr_of(&e->r.addr)), e->url,
			    (unsigned long long)e->r.ms);
		else
			printf("  HTTP echo     - (%s: %s)\n", e->url, e->r.err);
	}
	printf("NAT\n");
	printf("  mapping       %s\n", verdict_mapping_name(v->mapping));
	printf("  filtering     %s\n", verdict_filtering_name(v->filtering));
	printf("  hairpinning   %s\n", run.hairpin == 1 ? "yes" :
	    run.hairpin == 0 ? "no" : "unknown");
	printf("  port preservation %s\n", v->port_preserved == 1 ? "yes" :
	    v->port_preserved == 0 ? "no" : "unknown");
	if (life.state == ST_OK && life.hi == 0)
		printf("  UDP mapping lifetime more than %u s\n", life.lo);
	else if (life.state == ST_OK)
		printf("  UDP mapping lifetime between %u and %u s\n", life.lo, life.hi);
	else if (life.state == ST_FAILED)
		printf("  UDP mapping lifetime unknown (%s)\n", life.err);
	printf("double NAT      %s%s%s%s\n", v->r.double_nat == 1 ? "yes" :
	    v->r.double_nat == 0 ? "no" : "unknown", v->r.cgnat ?
	    " (carrier-grade NAT)" : "", v->r.double_why ? ": " : "",
	    v->r.double_why ? v->r.double_why : "");
	printf("verdict         %s\n", v->r.text);
}

/*
 * The --json report, built with json-c (a NULL object is JSON's null).
 * A failed allocation leaves a key out; the report is printed all the same.
 */
static void
jadd(struct json_object *o, const char *key, struct json_object *v)
{
	if (o == NULL || json_object_object_add_ex(o, key, v,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT) != 0)
		json_object_put(v);
}

static struct json_object *
jstr(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

static struct json_object *
jaddr(struct in_addr a)
{
	return a.s_addr == 0 ? NULL : json_object_new_string(inet_ntoa(a));
}

static struct json_object *
jtri(int v)
{
	return v == -1 ? NULL : json_object_new_boolean(v == 1);
}

static struct json_object *
jprotocols(void)
{
	struct json_object *all, *o;
	size_t i;

	if ((all = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < gateway_race_nslots(); i++) {
		const struct gateway_slot *g = gateway_race_slot(i);
		int ok = g->state == GATEWAY_SLOT_OK;

		if ((o = json_object_new_object()) == NULL)
			continue;
		jadd(o, "answered", json_object_new_boolean(ok));
		if (ok) {
			jadd(o, "ms", json_object_new_uint64(g->ms));
			jadd(o, "name", jstr(g->gw.name));
			jadd(o, "where", jstr(g->gw.where));
			jadd(o, "external_ipv4", jaddr(g->gw.external));
		} else
			jadd(o, "error", jstr(g->state == GATEWAY_SLOT_IDLE ?
			    "not probed" : g->detail));
		/* driver ids are string literals */
		jadd(all, g->drv->id, o);
	}
	return all;
}

static struct json_object *
jstun(void)
{
	struct json_object *arr, *o;
	char a[64], b[64];
	size_t i;

	if ((arr = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < run.nsrv; i++) {
		const struct stun_srv *s = &run.srv[i];

		if ((o = json_object_new_object()) == NULL)
			continue;
		config_format_server(s->cs, b, sizeof(b));
		jadd(o, "server", jstr(b));
		if (s->state == ST_OK) {
			jadd(o, "mapped", jstr(stun_addr_str(&s->a.mapped, a,
			    sizeof(a))));
			jadd(o, "ms", json_object_new_uint64(s->a.rtt_ms));
			jadd(o, "other_address", s->a.other.ss_family == 0 ?
			    NULL : jstr(stun_addr_str(&s->a.other, a,
			    sizeof(a))));
		} else
			jadd(o, "error", jstr(s->err));
		jadd(o, "mapped_ipv6", s->state6 == ST_OK ?
		    jstr(stun_addr_str(&s->a6.mapped, a, sizeof(a))) : NULL);
		if (s->state6 == ST_FAILED)
			jadd(o, "error_ipv6", jstr(s->a6.err));
		if (json_object_array_add(arr, o) != 0)
			json_object_put(o);
	}
	return arr;
}

static struct json_object *
jecho(void)
{
	struct json_object *arr, *o;
	size_t i;

	if ((arr = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < run.necho; i++) {
		const struct echo_slot *e = &run.echo[i];

		if ((o = json_object_new_object()) == NULL)
			continue;
		jadd(o, "url", jstr(e->url));
		if (e->state == ST_OK) {
			jadd(o, "address", jaddr(sin_addr_of(&e->r.addr)));
			jadd(o, "ms", json_object_new_uint64(e->r.ms));
		} else
			jadd(o, "error", jstr(e->r.err));
		if (json_object_array_add(arr, o) != 0)
			json_object_put(o);
	}
	return arr;
}

static struct json_object *
jnat(const struct verdict *v)
{
	struct json_object *o, *l = NULL;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	jadd(o, "mapping", jstr(verdict_mapping_name(v->mapping)));
	jadd(o, "filtering", jstr(verdict_filtering_name(v->filtering)));
	jadd(o, "hairpinning", jtri(run.hairpin));
	jadd(o, "port_preservation", jtri(v->port_preserved));
	if ((life.state == ST_OK || life.state == ST_FAILED) &&
	    (l = json_object_new_object()) != NULL) {
		if (life.state == ST_OK) {
			jadd(l, "at_least", json_object_new_uint64(life.lo));
			jadd(l, "at_most", life.hi == 0 ? NULL :
			    json_object_new_uint64(life.hi));
		} else
			jadd(l, "error", jstr(life.err));
	}
	jadd(o, "udp_mapping_lifetime", l);
	return o;
}

static void
print_json(const struct verdict *v)
{
	struct json_object *o, *src;
	char l6[INET6_ADDRSTRLEN], a[64];

	if ((o = json_object_new_object()) == NULL) {
		log_warnx("--json: out of memory");
		return;
	}
	jadd(o, "version", jstr(PACKAGE_VERSION));
	jadd(o, "interface", run.have_env ? jstr(run.env.ifname) : NULL);
	jadd(o, "local_ipv6", run.have_env && run.env.have6 ?
	    jstr(inet_ntop(AF_INET6, &run.env.local6, l6, sizeof(l6))) :
	    NULL);
	jadd(o, "local_ipv4", run.have_env ? jaddr(run.env.local) : NULL);
	jadd(o, "gateway", run.have_env ? jaddr(run.env.gateway) : NULL);
	jadd(o, "protocols", jprotocols());
	jadd(o, "external_ipv4", jaddr(v->r.ext));
	if ((src = json_object_new_object()) != NULL) {
		jadd(src, "gateway", jaddr(v->gw_ext));
		jadd(src, "stun", jaddr(v->stun_ext));
		jadd(src, "echo", jaddr(v->echo_ext));
	}
	jadd(o, "sources", src);
	jadd(o, "stun", jstun());
	jadd(o, "external_ipv6", jstr(ext6_of()));
	jadd(o, "ipv6_translated", ext6_of() == NULL ? NULL :
	    jtri(ipv6_translated()));
	jadd(o, "stun_tcp", run.tcp.state == ST_OK ?
	    jstr(stun_addr_str(&run.tcp.a.mapped, a, sizeof(a))) : NULL);
	jadd(o, "echo", jecho());
	jadd(o, "nat", jnat(v));
	jadd(o, "double_nat", jtri(v->r.double_nat));
	jadd(o, "cgnat", json_object_new_boolean(v->r.cgnat));
	jadd(o, "double_nat_reason", jstr(v->r.double_why));
	jadd(o, "reachable", json_object_new_boolean(v->r.reachable));
	jadd(o, "means", jstr(verdict_means_name(v->r.means,
	    v->proto != NULL ? v->proto->drv->id : NULL)));
	jadd(o, "verdict", jstr(v->r.text));
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int
probe_run(const struct config *conf, const struct probe_opts *opts)
{
	static const struct mapping_driver *const drivers[] = {
		&pcp_driver, &natpmp_driver, &upnp_driver,
	};
	struct verdict v;
	size_t i;

	memset(&run, 0, sizeof(run));
	memset(&life, 0, sizeof(life));
	life.max = opts->lifetime_max;
	run.conf = conf;
	run.primary = -1;
	run.hairpin = -1;
	run.t0 = loop_now();
	gateway_race_init(drivers, sizeof(drivers) / sizeof(drivers[0]));
	timer_init(&run.deadline, deadline_cb);
	run.pending = 1;		/* until everything has started */

	run.have_env = gateway_find_env(&run.env, conf->interface,
	    conf->have_gateway ? &conf->gateway : NULL, run.env_err,
	    sizeof(run.env_err)) == 0;
	if (run.have_env && gateway_race_start(&run.env, GATEWAY_RACE_ALL,
	    gw_race_done) == 0)
		run.pending++;
	stun_start();
	echo_start_all();
	timer_set(&run.deadline, PROBE_DEADLINE_MS);
	if (--run.pending > 0)
		loop_run();
	timer_stop(&run.deadline);
	timer_stop(&run.htimer);
	for (i = 0; i < run.nsrv; i++) {
		resolve_cancel(run.srv[i].rr);
		if (run.srv[i].state == ST_RUNNING) {
			run.srv[i].state = ST_FAILED;
			snprintf(run.srv[i].err, sizeof(run.srv[i].err),
			    "no answer in time");
		}
		if (run.srv[i].state6 == ST_RUNNING) {
			run.srv[i].state6 = ST_FAILED;
			snprintf(run.srv[i].a6.err, sizeof(run.srv[i].a6.err),
			    "no answer in time");
		}
	}
	for (i = 0; i < run.necho; i++)
		if (run.echo[i].req != NULL) {
			echo_cancel(run.echo[i].req);
			run.echo[i].state = ST_FAILED;
			snprintf(run.echo[i].r.err, sizeof(run.echo[i].r.err),
			    "no answer in time");
		}
	stun_cancel(run.tcp.txn);
	if (run.tcp.state == ST_RUNNING)
		run.tcp.state = ST_FAILED;
	if (life.max > 0)
		life_run();
	judge(&v);
	if (opts->json)
		print_json(&v);
	else
		print_text(&v);
	fflush(stdout);
	stun_sock_close(run.hsock);
	stun_sock_close(run.sock);
	stun_sock_close(run.sock6);
	echo_shutdown();
	return v.answered ? 0 : PROBE_EXIT_NOTHING;
}
