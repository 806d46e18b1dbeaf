/* SPDX-License-Identifier: ISC */
/* The node's side of the rendezvous: REGISTER with each server over UDP (over TCP where UDP gets no answer), REACH messages for the fallback, SIGNAL payloads to and from other nodes. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "osdep.h"
#include "rdv-client.h"
#include "rdv-msg.h"
#include "rdv-replay.h"
#include "resolve.h"
#include "sock.h"
#include "status.h"
#include "stun.h"

/* ---- the messages: pure functions ---- */

uint64_t
rdv_client_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
rdv_client_id_init(struct rdv_client_id *id, const char *network,
    const char *node, const uint8_t secret[CRYPTO_KEY_LEN])
{
	memset(id, 0, sizeof(*id));
	snprintf(id->network, sizeof(id->network), "%s", network);
	snprintf(id->node, sizeof(id->node), "%s", node);
	crypto_server_key(secret, id->server_key);
}

/* A request of method with the id's NETWORK, NODE, TIMESTAMP and a new tid. */
static int
request_init(struct rdv_msg *m, uint16_t method,
    const struct rdv_client_id *id, uint64_t now_ms)
{
	memset(m, 0, sizeof(*m));
	m->method = method;
	m->cls = STUN_REQUEST;
	if (crypto_random(m->tid, sizeof(m->tid)) == -1)
		return -1;
	memcpy(m->network, id->network, sizeof(m->network));
	memcpy(m->node, id->node, sizeof(m->node));
	m->timestamp = now_ms;
	m->has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_TIMESTAMP;
	return 0;
}

int
rdv_client_register_build(const struct rdv_client_id *id,
    const struct rdv_cand *cand, int ncand, uint32_t lifetime,
    uint64_t now_ms, uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t len)
{
	struct rdv_msg m;
	int n;

	if (ncand < 0 || ncand > RDV_CAND_MAX ||
	    request_init(&m, RDV_REGISTER, id, now_ms) == -1)
		return -1;
	if (ncand > 0)
		memcpy(m.cand, cand, (size_t)ncand * sizeof(*cand));
	m.ncand = ncand;
	if (lifetime > 0) {
		m.lifetime = lifetime;
		m.has |= RDV_HAS_LIFETIME;
	}
	if ((n = rdv_build(buf, len, &m, id->server_key)) == -1)
		return -1;
	memcpy(tid, m.tid, STUN_TID_LEN);
	return n;
}

int
rdv_client_check(uint16_t method, const struct rdv_client_id *id,
    const uint8_t (*tids)[STUN_TID_LEN], size_t ntid, const uint8_t *buf,
    size_t len, uint64_t now_ms, struct rdv_client_answer *a, size_t *which,
    const char **why)
{
	struct rdv_msg m;
	const char *err = NULL;
	size_t i;

	memset(a, 0, sizeof(*a));
	if (rdv_parse(buf, len, &m, &err) == -1) {
		*why = err != NULL ? err : "not a rendezvous message";
		return -1;
	}
	if (m.cls != STUN_SUCCESS && m.cls != STUN_ERROR) {
		*why = "not an answer";
		return -1;
	}
	if (m.method != method) {
		*why = "an answer of another method";
		return -1;
	}
	for (i = 0; i < ntid; i++)
		if (memcmp(m.tid, tids[i], STUN_TID_LEN) == 0)
			break;
	if (i == ntid) {
		*why = "no request of ours has its transaction ID";
		return -1;
	}
	if (strcmp(m.network, id->network) != 0) {
		*why = "an answer for another network";
		return -1;
	}
	if (!rdv_verify(buf, len, &m, id->server_key)) {
		*why = "bad MAC";
		return -1;
	}
	if (which != NULL)
		*which = i;
	a->ok = m.cls == STUN_SUCCESS;
	if (!a->ok) {
		a->error_code = m.error_code;
		snprintf(a->reason, sizeof(a->reason), "%s", m.error_reason);
	}
	a->lifetime = m.lifetime;
	a->mapped = m.mapped;
	a->server_time = m.server_time;
	a->skew_ms = (int64_t)(m.server_time - now_ms);
	a->skewed = a->skew_ms > RDV_CLIENT_SKEW_WARN_MS ||
	    a->skew_ms < -RDV_CLIENT_SKEW_WARN_MS;
	return 0;
}

int
rdv_client_turn_open(const struct rdv_client_id *id, const uint8_t *buf,
    size_t len, struct rdv_turn *t)
{
	struct rdv_msg m;

	rdv_turn_wipe(t);
	if (rdv_parse(buf, len, &m, NULL) == -1 ||
	    m.method != RDV_REGISTER || m.cls != STUN_SUCCESS ||
	    !(m.has & RDV_HAS_TURN_CREDENTIAL))
		return 0;
	if (rdv_turn_open(id->server_key, m.tid, id->network, id->node,
	    m.turn_cred, m.turn_cred_len, t) == -1)
		return -1;
	t->relay = m.turn_server;
	return 1;
}

int
rdv_client_reach_build(const struct rdv_client_id *id, uint8_t transport,
    uint16_t port, uint64_t now_ms, struct rdv_reach *r, uint8_t *buf,
    size_t len)
{
	struct rdv_msg m;
	int n;

	if ((transport != RDV_TCP && transport != RDV_UDP) || port == 0 ||
	    request_init(&m, RDV_REACH, id, now_ms) == -1 ||
	    crypto_random(m.nonce, sizeof(m.nonce)) == -1)
		return -1;
	m.reach_transport = transport;
	m.reach_port = port;
	m.has |= RDV_HAS_NONCE | RDV_HAS_REACH_TARGET;
	if ((n = rdv_build(buf, len, &m, id->server_key)) == -1)
		return -1;
	memset(r, 0, sizeof(*r));
	memcpy(r->tid, m.tid, sizeof(r->tid));
	memcpy(r->nonce, m.nonce, sizeof(r->nonce));
	r->transport = transport;
	r->port = port;
	return n;
}

int
rdv_client_reach_check(const struct rdv_client_id *id,
    const struct rdv_reach *r, const uint8_t *buf, size_t len,
    uint64_t now_ms, struct rdv_client_answer *a, const char **why)
{
	const uint8_t (*tids)[STUN_TID_LEN] = &r->tid;

	if (rdv_client_check(RDV_REACH, id, tids, 1, buf, len, now_ms, a,
	    NULL, why) == -1)
		return -1;
	return a->ok ? 1 : 0;
}

int
rdv_client_is_dialback(const struct rdv_reach *r, const uint8_t *buf,
    size_t len)
{
	return len == RDV_NONCE_LEN &&
	    crypto_equal(buf, r->nonce, RDV_NONCE_LEN);
}

int
rdv_client_signal_build(const struct rdv_client_id *id, const char *peer,
    const uint8_t *payload, size_t len, uint64_t now_ms,
    uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t buflen)
{
	struct rdv_msg m;
	int n;

	if (len < 1 || len > RDV_PAYLOAD_MAX ||
	    !rdv_node_ok(peer, strnlen(peer, RDV_NODE_MAX + 1)) ||
	    request_init(&m, RDV_SIGNAL, id, now_ms) == -1)
		return -1;
	snprintf(m.peer, sizeof(m.peer), "%s", peer);
	memcpy(m.payload, payload, len);
	m.payload_len = len;
	m.has |= RDV_HAS_PEER | RDV_HAS_PAYLOAD;
	if ((n = rdv_build(buf, buflen, &m, id->server_key)) == -1)
		return -1;
	memcpy(tid, m.tid, STUN_TID_LEN);
	return n;
}

int
rdv_client_indication(const struct rdv_client_id *id, const uint8_t *buf,
    size_t len, uint64_t now_ms, struct rdv_client_signal_in *in,
    const char **why)
{
	struct rdv_msg m;
	const char *err = NULL;

	memset(in, 0, sizeof(*in));
	if (rdv_parse(buf, len, &m, &err) == -1) {
		*why = err != NULL ? err : "not a rendezvous message";
		return -1;
	}
	if (m.method != RDV_SIGNAL || m.cls != STUN_INDICATION) {
		*why = "not a SIGNAL indication";
		return -1;
	}
	if (strcmp(m.network, id->network) != 0) {
		*why = "a SIGNAL indication for another network";
		return -1;
	}
	if (!rdv_verify(buf, len, &m, id->server_key)) {
		*why = "bad MAC";
		return -1;
	}
	if (strcmp(m.peer, id->node) != 0) {
		*why = "a SIGNAL indication for another node";
		return -1;
	}
	if (!rdv_fresh(m.server_time, now_ms)) {
		*why = "a SIGNAL indication with a SERVER-TIME over 30 s off";
		return -1;
	}
	memcpy(in->from, m.node, sizeof(in->from));
	memcpy(in->tid, m.tid, STUN_TID_LEN);
	in->server_time = m.server_time;
	in->len = m.payload_len;
	memcpy(in->payload, m.payload, m.payload_len);
	return 0;
}

enum rdv_reach_verdict
rdv_client_reach_verdict(const struct rdv_client_answer *a)
{
	static const char *const connected[] = {
		RDV_REASON_WRONG_NONCE, RDV_REASON_CLOSED, RDV_REASON_NO_NONCE,
	};
	static const char *const none[] = {
		RDV_REASON_TIMED_OUT, RDV_REASON_UNREACHABLE,
	};
	size_t i;

	if (a->ok)
		return RDV_REACH_CONNECTED;
	if (a->error_code == 429)
		return RDV_REACH_LIMITED;
	if (a->error_code != 404)
		return RDV_REACH_NOT_TRIED;
	for (i = 0; i < sizeof(connected) / sizeof(connected[0]); i++)
		if (strcmp(a->reason, connected[i]) == 0)
			return RDV_REACH_CONNECTED;
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (strcmp(a->reason, none[i]) == 0)
			return RDV_REACH_NO_CONNECTION;
	return RDV_REACH_NOT_PROVEN;
}

const char *
rdv_client_verdict_name(enum rdv_reach_verdict v)
{
	switch (v) {
	case RDV_REACH_CONNECTED:
		return "connected";
	case RDV_REACH_NO_CONNECTION:
		return "no connection";
	case RDV_REACH_NOT_PROVEN:
		return "not proven";
	case RDV_REACH_LIMITED:
		return "rate-limited";
	case RDV_REACH_NOT_TRIED:
		break;
	}
	return "not tried";
}

/* ---- registering: the event loop's side ---- */

enum rdv_phase {
	RDV_IDLE,		/* the timer starts the next round */
	RDV_RESOLVING,
	RDV_PENDING,		/* a REGISTER is out; the timer sends again */
};

/* The connection to a server reached over TCP (allocated when first needed). */
struct rdv_tcp {
	int			 fd;
	int			 connected;
	struct loop_fd		 lfd;
	size_t			 inlen;
	size_t			 outlen;
	uint8_t			 in[STUN_MAX_MSG];
	uint8_t			 out[RDV_CLIENT_TCP_OUT];
};

struct rdv_srv {
	struct conf_server	 cs;
	char			 name[300];	/* "host:port" */
	int			 phase;		/* enum rdv_phase */
	struct timer		 timer;
	struct timer		 lapse;		/* at expires: the status changes */
	struct resolve_req	*rr;
	struct sockaddr_storage	 addr;
	int			 have_addr;
	/* the attempts of the REGISTER out: IDs and when each was sent */
	uint8_t			 tids[RDV_CLIENT_TIDS][STUN_TID_LEN];
	uint64_t		 sent_at[RDV_CLIENT_TIDS];
	size_t			 ntid;
	uint64_t		 first_sent;
	uint64_t		 rto;
	/* what is known */
	uint64_t		 expires;	/* loop clock; 0: never registered */
	int64_t			 rtt_ms;
	char			 error[128];
	struct sockaddr_storage	 srflx;
	int			 have_srflx;
	int			 skew_warned;
	int			 turn_warned;
	/* the transport: UDP, or TCP once UDP got no answer in a round */
	int			 tcp;		/* over TCP this round */
	int			 heard_udp;	/* a datagram came from it */
	int			 udp_try;	/* on TCP, this round's REGISTERs
						   over UDP */
	uint64_t		 udp_again;	/* on TCP: UDP tried again at */
	int			 srflx_tcp;	/* srflx is the connection's */
	struct rdv_tcp		*conn;		/* NULL: none */
};

struct rdv_sock {
	int			 fd;		/* -1: not open */
	struct loop_fd		 lfd;
};

static struct {
	struct rdv_client_id	 id;
	int			 have_id;
	char			 ifname[IF_NAMESIZE + 1];	/* "" default route's */
	struct rdv_srv		 srv[CONF_MAX_SERVERS];
	size_t			 nsrv;
	struct rdv_sock		 sock[2];	/* IPv4, IPv6 */
	int			 running;
	uint64_t		 dropped;	/* datagrams that were no answer */
	struct rdv_client_op	*ops;		/* REACHes out */
	size_t			 next_srv;	/* where the next REACH looks first */
	struct rdv_signal_op	*sops;		/* SIGNALs out */
	void			(*on_signal)(const char *, const uint8_t *,
				    size_t, void *);
	void			*on_signal_arg;
	struct rdv_replay	*seen;		/* indications taken lately */
	struct rdv_turn		 turn;		/* the latest TURN credentials */
	int			 have_turn;
	struct sockaddr_storage	 turn_logged;	/* the relay last logged */
} rc;	/* zero: in .bss, touched only when used; rdv_client_init() */

static void	srv_round(struct rdv_srv *);
static void	tcp_close(struct rdv_srv *);
static int	srv_xmit(struct rdv_srv *, const uint8_t *, size_t);
static int	udp_xmit(struct rdv_srv *, const uint8_t *, size_t);

static struct rdv_sock *
sock_for(int family)
{
	return &rc.sock[family == AF_INET6 ? 1 : 0];
}

static void
status_push(void)
{
	struct status_rdv st[CONF_MAX_SERVERS];
	size_t i;

	memset(st, 0, sizeof(st));
	for (i = 0; i < rc.nsrv; i++) {
		snprintf(st[i].server, sizeof(st[i].server), "%s",
		    rc.srv[i].name);
		st[i].expires = rc.srv[i].expires;
		st[i].rtt_ms = rc.srv[i].rtt_ms;
		snprintf(st[i].error, sizeof(st[i].error), "%s",
		    rc.srv[i].error);
		snprintf(st[i].transport, sizeof(st[i].transport), "%s",
		    rc.srv[i].tcp ? "tcp" : "udp");
	}
	status_rdv_update(st, rc.running ? rc.nsrv : 0);
}

/* Registered now? Says so once when a registration lapses. */
static int
srv_registered(struct rdv_srv *s)
{
	if (s->expires == 0)
		return 0;
	if (s->expires > loop_now())
		return 1;
	log_warnx("rendezvous %s: registration lapsed%s%s", s->name,
	    s->error[0] != '\0' ? ": " : "", s->error);
	s->expires = 0;
	return 0;
}

static void
srv_error(struct rdv_srv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
srv_error(struct rdv_srv *s, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(s->error)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(msg, s->error) != 0)
		log_info("rendezvous %s: %s", s->name, msg);
	memcpy(s->error, msg, sizeof(s->error));
}

/* The round is over: the next in RDV_CLIENT_INTERVAL_MS. */
static void
srv_idle(struct rdv_srv *s)
{
	s->phase = RDV_IDLE;
	(void)srv_registered(s);
	timer_set(&s->timer, loop_jitter(s->tcp ? RDV_CLIENT_TCP_INTERVAL_MS :
	    RDV_CLIENT_INTERVAL_MS, 4));
	status_push();
}

/* A host candidate: the interface's address of family at the port of our socket of that family. */
static int
host_candidate(const char *ifname, int family, struct rdv_cand *c)
{
	const struct rdv_sock *k = sock_for(family);
	struct sockaddr_storage local;
	socklen_t sl = sizeof(local);
	struct sockaddr_in *sin = (struct sockaddr_in *)&local;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&local;

	if (k->fd == -1 || getsockname(k->fd, (struct sockaddr *)&local,
	    &sl) == -1 || local.ss_family != family)
		return 0;
	if (family == AF_INET ? osdep_if_addr(ifname, &sin->sin_addr) == -1 :
	    osdep_if_addr6(ifname, &sin6->sin6_addr) == -1)
		return 0;
	if (family == AF_INET6)
		sin6->sin6_scope_id = 0;
	memset(c, 0, sizeof(*c));
	c->kind = RDV_CAND_HOST;
	c->transport = RDV_UDP;
	c->addr = local;
	return 1;
}

/* The host candidates (the interface toward the gateway) and this server's srflx. */
static int
srv_candidates(const struct rdv_srv *s, struct rdv_cand *c)
{
	char ifname[IF_NAMESIZE + 1];
	struct in_addr gw;
	int n = 0;

	snprintf(ifname, sizeof(ifname), "%s", rc.ifname);
	if (ifname[0] == '\0' && osdep_default_gateway(NULL, &gw,
	    ifname) == -1)
		ifname[0] = '\0';
	if (ifname[0] != '\0') {
		n += host_candidate(ifname, AF_INET, &c[n]);
		n += host_candidate(ifname, AF_INET6, &c[n]);
	}
	if (s->have_srflx) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].kind = RDV_CAND_SRFLX;
		c[n].transport = s->srflx_tcp ? RDV_TCP : RDV_UDP;
		c[n].addr = s->srflx;
		n++;
	}
	return n;
}

static void	sock_read(struct loop_fd *, int);

/* The socket of the server's family, opened when first needed. */
static int
sock_open(int family)
{
	struct rdv_sock *k = sock_for(family);
	struct sockaddr_storage any;
	int fd;

	if (k->fd != -1)
		return k->fd;
	if ((fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&any, 0, sizeof(any));
	any.ss_family = (sa_family_t)family;
	if (family == AF_INET6) {
		int on = 1;

		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	}
	/* a port now, for the host candidates */
	if (bind(fd, (struct sockaddr *)&any, family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == -1) {
		close(fd);
		return -1;
	}
	k->fd = fd;
	loop_fd_add(&k->lfd, fd, LOOP_READ, sock_read);
	return fd;
}

static void
sock_close(struct rdv_sock *k)
{
	if (k->fd == -1)
		return;
	loop_fd_del(&k->lfd);
	close(k->fd);
	k->fd = -1;
}

/* The next attempt in rto ms (doubled after), within RDV_CLIENT_BUDGET_MS of the first. */
static void
rto_arm(struct timer *t, uint64_t first_sent, uint64_t *rto)
{
	uint64_t left = first_sent + RDV_CLIENT_BUDGET_MS - loop_now();

	timer_set(t, *rto < left ? *rto : left);
	*rto *= 2;
}

/* One attempt of the REGISTER: a new ID and TIMESTAMP, sent; the timer waits for the answer. */
static void
srv_send(struct rdv_srv *s)
{
	uint8_t buf[STUN_MAX_MSG];
	struct rdv_cand cand[RDV_CAND_MAX];
	uint64_t now = loop_now();
	size_t slot = s->ntid % RDV_CLIENT_TIDS;
	int n, ncand;

	if ((!s->tcp || s->udp_try) && sock_open(s->addr.ss_family) == -1) {
		srv_error(s, "no socket: %s", strerror(errno));
		srv_idle(s);
		return;
	}
	ncand = srv_candidates(s, cand);
	if ((n = rdv_client_register_build(&rc.id, cand, ncand,
	    RDV_CLIENT_LIFETIME, rdv_client_wall_ms(), s->tids[slot], buf,
	    sizeof(buf))) == -1) {
		srv_error(s, "cannot build a REGISTER");
		srv_idle(s);
		return;
	}
	s->sent_at[slot] = now;
	s->ntid++;
	if ((s->udp_try ? udp_xmit(s, buf, (size_t)n) :
	    srv_xmit(s, buf, (size_t)n)) == -1)
		log_debug("rendezvous %s: REGISTER not sent: %s", s->name,
		    strerror(errno));
	else
		log_debug("rendezvous %s: REGISTER %s over %s, %d candidate%s, "
		    "attempt %zu", s->name, rc.id.node,
		    s->tcp && !s->udp_try ? "TCP" : s->tcp ? "UDP (on TCP)" :
		    "UDP", ncand, ncand == 1 ? "" : "s", s->ntid);
	rto_arm(&s->timer, s->first_sent, &s->rto);
}

static void
srv_resolved(struct resolve_req *rr, const struct sockaddr_storage *addrs,
    size_t n, const char *err, void *arg)
{
	struct rdv_srv *s = arg;
	size_t i;

	(void)rr;
	s->rr = NULL;
	if (n == 0) {
		srv_error(s, "cannot resolve: %s", err);
		srv_idle(s);
		return;
	}
	/* IPv4 first: it is what the NAT in front of us translates */
	for (i = 0; i < n && addrs[i].ss_family != AF_INET; i++)
		;
	s->addr = addrs[i < n ? i : 0];
	s->have_addr = 1;
	srv_round(s);
}

/* A REGISTER round: resolve if needed, then the first attempt. */
static void
srv_round(struct rdv_srv *s)
{
	if (!s->have_addr) {
		s->phase = RDV_RESOLVING;
		if ((s->rr = resolve_start(s->cs.host, s->cs.port, AF_UNSPEC,
		    SOCK_DGRAM, srv_resolved, s)) == NULL) {
			srv_error(s, "cannot resolve: %s", strerror(errno));
			srv_idle(s);
		}
		return;
	}
	s->phase = RDV_PENDING;
	if (!s->tcp)
		s->heard_udp = 0;
	else if (loop_now() >= s->udp_again) {
		/* on TCP: does UDP pass again?  This round's REGISTERs say */
		s->udp_try = 1;
		s->heard_udp = 0;
	}
	s->ntid = 0;
	s->first_sent = loop_now();
	s->rto = RDV_CLIENT_RTO_MS;
	srv_send(s);
}

static void
srv_lapse(struct timer *t)
{
	struct rdv_srv *s = container_of(t, struct rdv_srv, lapse);

	if (!srv_registered(s))
		status_push();
}

static void
srv_timer(struct timer *t)
{
	struct rdv_srv *s = container_of(t, struct rdv_srv, timer);

	if (s->phase != RDV_PENDING) {
		srv_round(s);
		return;
	}
	if (!s->tcp && !s->heard_udp &&
	    loop_now() - s->first_sent >= RDV_CLIENT_TCP_AFTER_MS) {
		/* not a word over UDP: UDP blocked on the way, or the server down */
		log_info("rendezvous %s: no answer over UDP in %.1f s; over TCP",
		    s->name, (double)(loop_now() - s->first_sent) / 1000.0);
		s->tcp = 1;
		s->udp_again = loop_now() + RDV_CLIENT_UDP_AGAIN_MS;
		s->first_sent = loop_now();
		s->rto = RDV_CLIENT_RTO_MS;
		srv_send(s);
		status_push();
		return;
	}
	if (s->udp_try && !s->heard_udp &&
	    loop_now() - s->first_sent >= RDV_CLIENT_TCP_AFTER_MS) {
		log_debug("rendezvous %s: still no answer over UDP; the round "
		    "goes on over TCP", s->name);
		s->udp_try = 0;
		s->udp_again = loop_now() + RDV_CLIENT_UDP_AGAIN_MS;
		s->first_sent = loop_now();
		s->rto = RDV_CLIENT_RTO_MS;
		srv_send(s);
		return;
	}
	if (loop_now() - s->first_sent < RDV_CLIENT_BUDGET_MS) {
		srv_send(s);
		return;
	}
	srv_error(s, "no answer within %d s", RDV_CLIENT_BUDGET_MS / 1000);
	s->have_addr = 0;	/* its address is looked up again */
	if (s->tcp) {
		/* the next round tries UDP first again */
		tcp_close(s);
		s->tcp = 0;
		s->udp_try = 0;
	}
	srv_idle(s);
}

/*
 * The TURN credentials of s's REGISTER success buf, if any, become the
 * latest; the relay is logged when it is new.
 */
static void
turn_take(struct rdv_srv *s, const uint8_t *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + 8];
	struct rdv_turn t;

	switch (rdv_client_turn_open(&rc.id, buf, len, &t)) {
	case 0:
		return;
	case -1:
		if (!s->turn_warned)
			log_warnx("rendezvous %s: TURN credentials that do not "
			    "open; ignored", s->name);
		s->turn_warned = 1;
		return;
	}
	rdv_turn_wipe(&rc.turn);
	rc.turn = t;
	rc.have_turn = 1;
	rdv_turn_wipe(&t);
	if (!stun_addr_eq(&rc.turn_logged, &rc.turn.relay)) {
		rc.turn_logged = rc.turn.relay;
		log_info("the rendezvous offers a TURN relay at %s",
		    stun_addr_str(&rc.turn.relay, a, sizeof(a)));
	}
}

int
rdv_client_turn(struct rdv_turn *t)
{
	if (!rc.have_turn || rc.turn.expiry <= rdv_client_wall_ms() / 1000)
		return -1;
	*t = rc.turn;
	return 0;
}

/* An answer from the server s, checked. */
static void
srv_answer(struct rdv_srv *s, const struct rdv_client_answer *a,
    size_t which, const uint8_t *buf, size_t len)
{
	char mapped[INET6_ADDRSTRLEN + 8];
	uint64_t now = loop_now();
	int was = srv_registered(s);

	s->rtt_ms = (int64_t)(now - s->sent_at[which % RDV_CLIENT_TIDS]);
	if (a->skewed && !s->skew_warned) {
		log_warnx("rendezvous %s: the server's clock is %+.1f s from "
		    "this host's; it drops requests more than %d s off",
		    s->name, (double)a->skew_ms / 1000.0,
		    RDV_SKEW_MAX_MS / 1000);
		s->skew_warned = 1;
	}
	if (!a->ok) {
		srv_error(s, "error %d %s", a->error_code, a->reason);
		srv_idle(s);
		return;
	}
	turn_take(s, buf, len);
	s->error[0] = '\0';
	s->expires = now + (uint64_t)a->lifetime * 1000;
	timer_set_at(&s->lapse, s->expires);
	if (!s->have_srflx || !stun_addr_eq(&s->srflx, &a->mapped) ||
	    s->srflx_tcp != s->tcp) {
		s->srflx = a->mapped;
		s->have_srflx = 1;
		s->srflx_tcp = s->tcp;
		log_info("rendezvous %s: seen as %s%s", s->name,
		    stun_addr_str(&a->mapped, mapped, sizeof(mapped)),
		    s->tcp ? " over TCP" : "");
	}
	if (!was)
		log_info("rendezvous %s: registered as %s in network %s, "
		    "lifetime %us%s", s->name, rc.id.node, rc.id.network,
		    a->lifetime, s->tcp ? ", over TCP" : "");
	else
		log_debug("rendezvous %s: registration renewed, lifetime %us, "
		    "rtt %lld ms", s->name, a->lifetime, (long long)s->rtt_ms);
	srv_idle(s);
}

/* Which server a datagram came from: its address and port. */
static struct rdv_srv *
srv_from(const struct sockaddr_storage *from)
{
	size_t i;

	for (i = 0; i < rc.nsrv; i++)
		if (rc.srv[i].have_addr && stun_addr_eq(&rc.srv[i].addr, from))
			return &rc.srv[i];
	return NULL;
}

static void	dropped(const struct sockaddr_storage *, const char *);
static int	reach_answer(struct rdv_srv *, const uint8_t *, size_t,
		    const struct sockaddr_storage *);
static int	signal_input(struct rdv_srv *, const uint8_t *, size_t,
		    const struct sockaddr_storage *);

static void
dropped(const struct sockaddr_storage *from, const char *why)
{
	char a[INET6_ADDRSTRLEN + 8];

	rc.dropped++;
	log_debug("rendezvous: a datagram from %s dropped: %s (%llu so far)",
	    stun_addr_str(from, a, sizeof(a)), why,
	    (unsigned long long)rc.dropped);
}

/* A message from server s (a datagram, or one framed off its connection). */
static void
srv_input(struct rdv_srv *s, const uint8_t *buf, size_t n,
    const struct sockaddr_storage *from)
{
	struct rdv_client_answer a;
	const char *why;
	size_t which, ntid;

	if (signal_input(s, buf, n, from))
		return;
	if (reach_answer(s, buf, n, from))
		return;
	if (s->phase != RDV_PENDING) {
		dropped(from, "no REGISTER out to that server");
		return;
	}
	ntid = s->ntid < RDV_CLIENT_TIDS ? s->ntid : RDV_CLIENT_TIDS;
	if (rdv_client_check(RDV_REGISTER, &rc.id,
	    (const uint8_t (*)[STUN_TID_LEN])s->tids, ntid, buf, n,
	    rdv_client_wall_ms(), &a, &which, &why) == -1) {
		dropped(from, why);
		return;
	}
	timer_stop(&s->timer);
	srv_answer(s, &a, which, buf, n);
}

/*
 * A datagram from s, which we reach over TCP: UDP passes both ways again
 * (an answer to a REGISTER of a udp_try round, most likely).  Back to
 * UDP: the server took that REGISTER as the latest, so its indications
 * come over UDP now; the connection is closed.
 */
static void
udp_back(struct rdv_srv *s)
{
	log_info("rendezvous %s: an answer over UDP again; back to UDP",
	    s->name);
	tcp_close(s);
	s->tcp = 0;
	s->udp_try = 0;
	status_push();
}

static void
sock_read(struct loop_fd *lfd, int revents)
{
	struct rdv_sock *k = container_of(lfd, struct rdv_sock, lfd);
	uint8_t buf[STUN_MAX_MSG + 1];
	struct sockaddr_storage from;
	struct rdv_srv *s;
	socklen_t fl;
	ssize_t n;
	int i;

	(void)revents;
	for (i = 0; i < 16; i++) {
		fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		n = recvfrom(k->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fl);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_debug("rendezvous: recvfrom: %s",
				    strerror(errno));
			return;
		}
		if ((s = srv_from(&from)) == NULL) {
			dropped(&from, "not from a server");
			continue;
		}
		s->heard_udp = 1;
		if (s->tcp)
			udp_back(s);
		srv_input(s, buf, (size_t)n, &from);
	}
}

/* ---- TCP to a server: where UDP gets no answer ---- */

static void
tcp_close(struct rdv_srv *s)
{
	struct rdv_tcp *c = s->conn;

	if (c == NULL)
		return;
	loop_fd_del(&c->lfd);
	close(c->fd);
	free(c);
	s->conn = NULL;
}

static void
tcp_events(struct rdv_tcp *c)
{
	loop_fd_events(&c->lfd, LOOP_READ |
	    (!c->connected || c->outlen > 0 ? LOOP_WRITE : 0));
}

/*
 * The connection to s is gone (why): closed.  The server holds the
 * registration for the connection it came on, so a node registered
 * over it registers again (over TCP) in about a second.
 */
static void
tcp_lost(struct rdv_srv *s, const char *why)
{
	int was = s->expires != 0 && s->expires > loop_now();

	tcp_close(s);
	srv_error(s, "TCP: %s", why);
	if (!was)
		return;
	log_warnx("rendezvous %s: the TCP connection is gone (%s); "
	    "registering again", s->name, why);
	s->expires = 0;
	timer_stop(&s->lapse);
	if (s->phase == RDV_IDLE)
		timer_set(&s->timer, loop_jitter(RDV_CLIENT_TCP_AGAIN_MS, 20));
	status_push();
}

/* Send what waits; -1 and errno when the connection is gone. */
static int
tcp_flush(struct rdv_tcp *c)
{
	return sock_send_pending(c->fd, c->out, &c->outlen);
}

static void
tcp_io(struct loop_fd *lfd, int revents)
{
	struct rdv_tcp *c = container_of(lfd, struct rdv_tcp, lfd);
	struct rdv_srv *s = NULL;
	char why[96];
	socklen_t el = sizeof(int);
	ssize_t r;
	size_t i;
	int err = 0, fl, k;

	for (i = 0; i < rc.nsrv && s == NULL; i++)
		if (rc.srv[i].conn == c)
			s = &rc.srv[i];
	if (s == NULL)
		return;
	if (!c->connected) {
		if (!(revents & (LOOP_WRITE | LOOP_READ)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			err = errno;
		if (err != 0) {
			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			tcp_lost(s, why);
			return;
		}
		c->connected = 1;
		log_debug("rendezvous %s: connected over TCP", s->name);
	}
	if (tcp_flush(c) == -1) {
		snprintf(why, sizeof(why), "send: %s", strerror(errno));
		tcp_lost(s, why);
		return;
	}
	/* a few reads a wake-up; the messages are small and few */
	for (k = 0; k < 4 && (revents & LOOP_READ); k++) {
		r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen,
		    MSG_DONTWAIT);
		if (r == 0) {
			tcp_lost(s, "closed by the server");
			return;
		}
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			snprintf(why, sizeof(why), "recv: %s", strerror(errno));
			tcp_lost(s, why);
			return;
		}
		c->inlen += (size_t)r;
		/* every whole message, framed by its STUN header */
		while ((fl = stun_frame_len(c->in, c->inlen)) > 0 &&
		    (size_t)fl <= c->inlen) {
			uint8_t msg[STUN_MAX_MSG];

			memcpy(msg, c->in, (size_t)fl);
			memmove(c->in, c->in + fl, c->inlen - (size_t)fl);
			c->inlen -= (size_t)fl;
			srv_input(s, msg, (size_t)fl, &s->addr);
			if (s->conn != c)
				return;		/* closed meanwhile */
		}
		if (fl == -1) {
			tcp_lost(s, "not STUN from the server");
			return;
		}
	}
	tcp_events(c);
}

/* The connection to s, opened (connecting) when there is none. */
static struct rdv_tcp *
tcp_open(struct rdv_srv *s)
{
	struct rdv_tcp *c;
	socklen_t sl = s->addr.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int on = 1;

	if (s->conn != NULL)
		return s->conn;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		free(c);
		return NULL;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c->fd, (const struct sockaddr *)&s->addr, sl) == -1 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(c->fd);
		free(c);
		errno = e;
		return NULL;
	}
	loop_fd_add(&c->lfd, c->fd, LOOP_READ | LOOP_WRITE, tcp_io);
	s->conn = c;
	return c;
}

/*
 * Send a message to s over the round's transport: a datagram from our
 * socket, or onto the connection (opened when there is none; held while
 * connecting).  0, or -1 and errno (ENOBUFS: the connection's output is
 * full; the caller's retransmission tries again).
 */
static int
udp_xmit(struct rdv_srv *s, const uint8_t *buf, size_t len)
{
	const struct rdv_sock *k = sock_for(s->addr.ss_family);

	if (k->fd == -1) {
		errno = ENOTCONN;
		return -1;
	}
	return sendto(k->fd, buf, len, 0, (const struct sockaddr *)&s->addr,
	    s->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in)) == -1 ? -1 : 0;
}

static int
srv_xmit(struct rdv_srv *s, const uint8_t *buf, size_t len)
{
	struct rdv_tcp *c;

	if (!s->tcp)
		return udp_xmit(s, buf, len);
	if ((c = tcp_open(s)) == NULL)
		return -1;
	if (sizeof(c->out) - c->outlen < len) {
		errno = ENOBUFS;
		return -1;
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	if (c->connected && tcp_flush(c) == -1) {
		char why[96];

		snprintf(why, sizeof(why), "send: %s", strerror(errno));
		tcp_lost(s, why);
		errno = ENOTCONN;
		return -1;
	}
	tcp_events(c);
	return 0;
}

/* Can a message go to s now: our UDP socket is open, or s is over TCP. */
static int
srv_can_send(const struct rdv_srv *s)
{
	return s->tcp || sock_for(s->addr.ss_family)->fd != -1;
}

static void
srv_reset(struct rdv_srv *s)
{
	if (s->rr != NULL)
		resolve_cancel(s->rr);
	s->rr = NULL;
	timer_stop(&s->timer);
	timer_stop(&s->lapse);
	tcp_close(s);
	s->phase = RDV_IDLE;
}

static void	reach_end(struct rdv_client_op *,
		    const struct rdv_client_answer *);
static void	signal_end(struct rdv_signal_op *,
		    const struct rdv_client_answer *);

void
rdv_client_stop(void)
{
	size_t i;

	while (rc.ops != NULL)
		reach_end(rc.ops, NULL);
	while (rc.sops != NULL)
		signal_end(rc.sops, NULL);
	rdv_replay_free(rc.seen);
	rc.seen = NULL;
	for (i = 0; i < rc.nsrv; i++)
		srv_reset(&rc.srv[i]);
	sock_close(&rc.sock[0]);
	sock_close(&rc.sock[1]);
	rdv_turn_wipe(&rc.turn);
	rc.have_turn = 0;
	memset(&rc.turn_logged, 0, sizeof(rc.turn_logged));
	if (rc.running)
		status_rdv_update(NULL, 0);
	rc.running = 0;
}

void
rdv_client_start(void)
{
	size_t i;

	if (rc.running || rc.nsrv == 0 || !rc.have_id)
		return;
	rc.running = 1;
	for (i = 0; i < rc.nsrv; i++) {
		struct rdv_srv *s = &rc.srv[i];

		timer_init(&s->timer, srv_timer);
		timer_init(&s->lapse, srv_lapse);
		s->phase = RDV_IDLE;
		s->have_addr = 0;
		s->expires = 0;
		s->rtt_ms = -1;
		s->error[0] = '\0';
		s->have_srflx = 0;
		s->skew_warned = 0;
		s->turn_warned = 0;
		s->tcp = 0;
		s->heard_udp = 0;
		s->udp_try = 0;
		s->udp_again = 0;
		s->srflx_tcp = 0;
		s->conn = NULL;
		srv_round(s);
	}
	status_push();
}

void
rdv_client_configure(const struct config *conf)
{
	struct rdv_client_id id;
	int have_id = conf->nrdv > 0 && conf->have_key &&
	    conf->network != NULL && conf->node != NULL;
	int same, was = rc.running;
	size_t i;

	memset(&id, 0, sizeof(id));
	if (have_id)
		rdv_client_id_init(&id, conf->network, conf->node, conf->key);
	same = have_id == rc.have_id && conf->nrdv == rc.nsrv &&
	    crypto_equal(&id, &rc.id, sizeof(id)) &&
	    strcmp(conf->interface != NULL ? conf->interface : "",
	    rc.ifname) == 0;
	for (i = 0; same && i < conf->nrdv; i++)
		same = strcmp(conf->rdv[i].host, rc.srv[i].cs.host) == 0 &&
		    conf->rdv[i].port == rc.srv[i].cs.port;
	if (same) {
		rdv_client_id_wipe(&id);
		return;
	}
	rdv_client_stop();
	rdv_client_id_wipe(&rc.id);
	rc.id = id;
	rdv_client_id_wipe(&id);
	rc.have_id = have_id;
	snprintf(rc.ifname, sizeof(rc.ifname), "%s",
	    conf->interface != NULL ? conf->interface : "");
	memset(rc.srv, 0, sizeof(rc.srv));
	rc.nsrv = have_id ? conf->nrdv : 0;
	for (i = 0; i < rc.nsrv; i++) {
		rc.srv[i].cs = conf->rdv[i];
		config_format_server(&conf->rdv[i], rc.srv[i].name,
		    sizeof(rc.srv[i].name));
	}
	if (was) {
		log_info("rendezvous: new settings, registering again");
		rdv_client_start();
	}
}

void
rdv_client_init(void)
{
	rc.sock[0].fd = -1;
	rc.sock[1].fd = -1;
}

size_t
rdv_client_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < rc.nsrv; i++)
		n += rc.running && rc.srv[i].expires > loop_now();
	return n;
}

/* ---- REACH for the node itself (gwcheck.c) ---- */

void
rdv_client_op_init(struct rdv_client_op *op,
    void (*done)(struct rdv_client_op *, const struct rdv_client_answer *))
{
	memset(op, 0, sizeof(*op));
	op->srv = -1;
	op->done = done;
	timer_init(&op->timer, NULL);
}

int
rdv_client_reach_busy(const struct rdv_client_op *op)
{
	return op->srv != -1;
}

void
rdv_client_reach_cancel(struct rdv_client_op *op)
{
	struct rdv_client_op **pp;

	if (op->srv == -1)
		return;
	for (pp = &rc.ops; *pp != NULL; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	timer_stop(&op->timer);
	op->srv = -1;
	op->next = NULL;
}

/* The op is over: off the list, then done (which may start it again). */
static void
reach_end(struct rdv_client_op *op, const struct rdv_client_answer *a)
{
	rdv_client_reach_cancel(op);
	op->done(op, a);
}

static size_t
reach_out(int srv)
{
	const struct rdv_client_op *op;
	size_t n = 0;

	for (op = rc.ops; op != NULL; op = op->next)
		n += op->srv == srv;
	return n;
}

/* One attempt: the same bytes, to the same server. */
static void
reach_send(struct rdv_client_op *op)
{
	struct rdv_srv *s = &rc.srv[op->srv];

	if (srv_xmit(s, op->msg, op->len) == -1)
		log_debug("rendezvous %s: REACH not sent: %s", s->name,
		    strerror(errno));
	rto_arm(&op->timer, op->first_sent, &op->rto);
}

static void
reach_timer(struct timer *t)
{
	struct rdv_client_op *op = container_of(t, struct rdv_client_op,
	    timer);

	if (loop_now() - op->first_sent < RDV_CLIENT_BUDGET_MS) {
		reach_send(op);
		return;
	}
	log_debug("rendezvous %s: no answer to REACH %s %u within %d s",
	    rc.srv[op->srv].name, op->r.transport == RDV_TCP ? "tcp" : "udp",
	    op->r.port, RDV_CLIENT_BUDGET_MS / 1000);
	reach_end(op, NULL);
}

int
rdv_client_reach(struct rdv_client_op *op, uint8_t transport, uint16_t port,
    struct in_addr seen_as)
{
	struct rdv_srv *s = NULL;
	size_t i, j;
	int n, registered = 0, seen = 0;

	if (op->srv != -1) {
		errno = EALREADY;
		return -1;
	}
	/* round and round the servers that see the node there */
	for (j = 0; j < rc.nsrv && s == NULL; j++) {
		struct rdv_srv *c = &rc.srv[(rc.next_srv + j) % rc.nsrv];
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)&c->srflx;

		if (!rc.running || !c->have_addr ||
		    c->addr.ss_family != AF_INET || c->expires <= loop_now())
			continue;
		registered = 1;
		if (!c->have_srflx || c->srflx.ss_family != AF_INET ||
		    sin->sin_addr.s_addr != seen_as.s_addr)
			continue;
		seen = 1;
		if (reach_out((int)(c - rc.srv)) < RDV_CLIENT_REACH_MAX)
			s = c;
	}
	if (s == NULL) {
		errno = !registered ? ENOTCONN : !seen ? EADDRNOTAVAIL : EBUSY;
		return -1;
	}
	i = (size_t)(s - rc.srv);
	rc.next_srv = (i + 1) % rc.nsrv;
	if ((n = rdv_client_reach_build(&rc.id, transport, port,
	    rdv_client_wall_ms(), &op->r, op->msg, sizeof(op->msg))) == -1)
		return -1;
	op->len = (size_t)n;
	op->srv = (int)i;
	op->first_sent = loop_now();
	op->rto = RDV_CLIENT_RTO_MS;
	op->timer.cb = reach_timer;
	op->next = rc.ops;
	rc.ops = op;
	log_debug("rendezvous %s: REACH %s %u", s->name,
	    transport == RDV_TCP ? "tcp" : "udp", port);
	reach_send(op);
	return 0;
}

/*
 * A datagram from server s: the answer to one of its REACHes out?  1 if
 * it was taken or dropped here, 0 if it is for the REGISTER's side.
 */
static int
reach_answer(struct rdv_srv *s, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *from)
{
	uint8_t tids[RDV_CLIENT_REACH_MAX][STUN_TID_LEN];
	struct rdv_client_op *ops[RDV_CLIENT_REACH_MAX], *op;
	struct rdv_client_answer a;
	const char *why;
	size_t n = 0, which;
	int idx = (int)(s - rc.srv);

	for (op = rc.ops; op != NULL && n < RDV_CLIENT_REACH_MAX;
	    op = op->next)
		if (op->srv == idx) {
			memcpy(tids[n], op->r.tid, STUN_TID_LEN);
			ops[n++] = op;
		}
	if (n == 0)
		return 0;
	if (rdv_client_check(RDV_REACH, &rc.id,
	    (const uint8_t (*)[STUN_TID_LEN])tids, n, buf, len,
	    rdv_client_wall_ms(), &a, &which, &why) == -1) {
		/* a REGISTER's answer, or to be dropped there */
		if (s->phase == RDV_PENDING)
			return 0;
		dropped(from, why);
		return 1;
	}
	if (a.ok)
		log_debug("rendezvous %s: REACH %u: reached", s->name,
		    ops[which]->r.port);
	else
		log_debug("rendezvous %s: REACH %u: error %d %s", s->name,
		    ops[which]->r.port, a.error_code, a.reason);
	reach_end(ops[which], &a);
	return 1;
}

/* ---- SIGNAL: payloads to and from other nodes, through the servers ---- */

void
rdv_client_signal_init(struct rdv_signal_op *op,
    void (*done)(struct rdv_signal_op *, const struct rdv_client_answer *))
{
	memset(op, 0, sizeof(*op));
	op->done = done;
	timer_init(&op->timer, NULL);
}

int
rdv_client_signal_busy(const struct rdv_signal_op *op)
{
	return op->busy;
}

void
rdv_client_signal_cancel(struct rdv_signal_op *op)
{
	struct rdv_signal_op **pp;

	if (!op->busy)
		return;
	for (pp = &rc.sops; *pp != NULL; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	timer_stop(&op->timer);
	op->busy = 0;
	op->next = NULL;
	crypto_wipe(op->payload, sizeof(op->payload));
}

static void
signal_end(struct rdv_signal_op *op, const struct rdv_client_answer *a)
{
	struct rdv_client_answer copy;

	if (a != NULL)
		copy = *a;
	rdv_client_signal_cancel(op);
	op->done(op, a != NULL ? &copy : NULL);
}

/* One attempt to server i: a new ID and TIMESTAMP, the same payload. */
static void
signal_send_one(struct rdv_signal_op *op, size_t i)
{
	struct rdv_srv *s = &rc.srv[i];
	uint8_t buf[STUN_MAX_MSG], tid[STUN_TID_LEN];
	size_t slot = op->nsent % RDV_CLIENT_SIGNAL_TIDS;
	int n;

	if ((n = rdv_client_signal_build(&rc.id, op->peer, op->payload,
	    op->len, rdv_client_wall_ms(), tid, buf, sizeof(buf))) == -1) {
		log_debug("rendezvous %s: SIGNAL to %s not built", s->name,
		    op->peer);
		return;
	}
	memcpy(op->sent[slot].tid, tid, STUN_TID_LEN);
	op->sent[slot].srv = (uint8_t)i;
	op->nsent++;
	if (srv_xmit(s, buf, (size_t)n) == -1)
		log_debug("rendezvous %s: SIGNAL not sent: %s", s->name,
		    strerror(errno));
	else
		log_debug("rendezvous %s: SIGNAL to %s, %zu bytes, attempt %zu",
		    s->name, op->peer, op->len, op->nsent);
}

/* An attempt to each server not answered yet; the timer waits for the answers. */
static void
signal_round(struct rdv_signal_op *op)
{
	size_t i;

	for (i = 0; i < rc.nsrv; i++)
		if (op->waiting & 1U << i)
			signal_send_one(op, i);
	rto_arm(&op->timer, op->first_sent, &op->rto);
}

static void
signal_timer(struct timer *t)
{
	struct rdv_signal_op *op = container_of(t, struct rdv_signal_op,
	    timer);

	if (loop_now() - op->first_sent < RDV_CLIENT_BUDGET_MS) {
		signal_round(op);
		return;
	}
	log_debug("rendezvous: no answer to SIGNAL to %s within %d s",
	    op->peer, RDV_CLIENT_BUDGET_MS / 1000);
	signal_end(op, op->have_err ? &op->err : NULL);
}

int
rdv_client_signal(struct rdv_signal_op *op, const char *peer,
    const uint8_t *payload, size_t len)
{
	size_t i;

	if (op->busy) {
		errno = EALREADY;
		return -1;
	}
	if (len < 1 || len > RDV_PAYLOAD_MAX ||
	    !rdv_node_ok(peer, strnlen(peer, RDV_NODE_MAX + 1))) {
		errno = EINVAL;
		return -1;
	}
	op->waiting = 0;
	for (i = 0; i < rc.nsrv; i++)
		if (rc.running && rc.srv[i].have_addr &&
		    rc.srv[i].expires > loop_now() &&
		    srv_can_send(&rc.srv[i]))
			op->waiting |= 1U << i;
	if (op->waiting == 0) {
		errno = ENOTCONN;
		return -1;
	}
	snprintf(op->peer, sizeof(op->peer), "%s", peer);
	memcpy(op->payload, payload, len);
	op->len = len;
	op->have_err = 0;
	memset(&op->err, 0, sizeof(op->err));
	op->nsent = 0;
	op->first_sent = loop_now();
	op->rto = RDV_CLIENT_RTO_MS;
	op->timer.cb = signal_timer;
	op->busy = 1;
	op->next = rc.sops;
	rc.sops = op;
	signal_round(op);
	return 0;
}

/* Which error to report: 429 (try later) before 404 before the rest. */
static int
signal_err_rank(int code)
{
	return code == 429 ? 2 : code == 404 ? 1 : 0;
}

/* An answer of server s to one of the SIGNALs out: 1 if taken. */
static int
signal_answer(struct rdv_srv *s, const uint8_t *buf, size_t len,
    const char **why)
{
	uint8_t tids[RDV_CLIENT_SIGNAL_TIDS][STUN_TID_LEN];
	struct rdv_signal_op *op;
	struct rdv_client_answer a;
	size_t i, n, which;
	uint8_t idx = (uint8_t)(s - rc.srv);

	*why = "no SIGNAL of ours has its transaction ID";
	for (op = rc.sops; op != NULL; op = op->next) {
		if (!(op->waiting & 1U << idx))
			continue;
		n = 0;
		for (i = 0; i < op->nsent && i < RDV_CLIENT_SIGNAL_TIDS; i++)
			if (op->sent[i].srv == idx)
				memcpy(tids[n++], op->sent[i].tid,
				    STUN_TID_LEN);
		if (n == 0 || rdv_client_check(RDV_SIGNAL, &rc.id,
		    (const uint8_t (*)[STUN_TID_LEN])tids, n, buf, len,
		    rdv_client_wall_ms(), &a, &which, why) == -1)
			continue;
		op->waiting &= ~(1U << idx);
		if (a.ok) {
			log_debug("rendezvous %s: SIGNAL to %s sent on",
			    s->name, op->peer);
			signal_end(op, &a);
			return 1;
		}
		log_debug("rendezvous %s: SIGNAL to %s: error %d %s", s->name,
		    op->peer, a.error_code, a.reason);
		if (!op->have_err || signal_err_rank(a.error_code) >
		    signal_err_rank(op->err.error_code)) {
			op->err = a;
			op->have_err = 1;
		}
		if (op->waiting == 0)
			signal_end(op, &op->err);
		return 1;
	}
	return 0;
}

/*
 * A datagram from server s: a SIGNAL answer or indication?  1 if it was
 * taken or dropped here, 0 if it is for the others (not a SIGNAL).
 */
static int
signal_input(struct rdv_srv *s, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *from)
{
	struct rdv_client_signal_in in;
	const char *why;
	uint16_t method;
	uint8_t cls;
	uint64_t now = rdv_client_wall_ms();

	if (rdv_peek(buf, len, &method, &cls) == -1 || method != RDV_SIGNAL)
		return 0;
	if (cls != STUN_INDICATION) {
		if (!signal_answer(s, buf, len, &why))
			dropped(from, why);
		return 1;
	}
	if (rdv_client_indication(&rc.id, buf, len, now, &in, &why) == -1) {
		dropped(from, why);
		return 1;
	}
	if (rc.seen == NULL && (rc.seen = rdv_replay_new(1024)) == NULL) {
		dropped(from, "no memory for the replay cache");
		return 1;
	}
	if (rdv_replay_check(rc.seen, (uint32_t)(s - rc.srv), in.tid,
	    in.server_time, now) != RDV_REPLAY_NEW) {
		dropped(from, "a SIGNAL indication seen before");
		return 1;
	}
	if (rc.on_signal == NULL) {
		dropped(from, "a SIGNAL indication, and nobody subscribed");
		return 1;
	}
	/* the name is a node name (rdv_parse): safe to log */
	log_debug("rendezvous %s: SIGNAL from %s, %zu bytes", s->name, in.from,
	    in.len);
	rc.on_signal(in.from, in.payload, in.len, rc.on_signal_arg);
	crypto_wipe(&in, sizeof(in));
	return 1;
}

void
rdv_client_on_signal(void (*cb)(const char *, const uint8_t *, size_t,
    void *), void *arg)
{
	rc.on_signal = cb;
	rc.on_signal_arg = arg;
}
