/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous: UDP and TCP sockets, STUN Binding answers (RFC 8489, RFC 5780), REGISTER, REACH and SIGNAL dispatch. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "rdv-dial.h"
#include "rdv-msg.h"
#include "rdv-networks.h"
#include "rdv-registry.h"
#include "rdv-replay.h"
#include "rdv-server.h"
#include "rdv-turn.h"
#include "sock.h"
#include "stun-msg.h"
#include "stun.h"

#define RDV_SOFTWARE		"natmapd-rendezvous " PACKAGE_VERSION
#define RDV_UDP_BURST		64	/* datagrams read a wake-up, per socket */
#define RDV_TCP_OUT		4096	/* answers and SIGNAL indications waiting for a slow reader */
#define RDV_ANSWER_MAX		512	/* room for one answer */
#define RDV_SWEEP_MS		250	/* the registrations' expiry step */
#define RDV_REACH_ANSWER_MAX	160	/* the longest REACH answer is 148 bytes */
#define RDV_REACH_MAC_KEPT	16	/* of a REACH's MAC, to know its retransmissions */

struct rdv_sock {
	int			 fd;
	struct loop_fd		 lfd;
	struct sockaddr_storage	 local;		/* AF_UNSPEC for a wildcard */
	int			 index;		/* 0..3 */
};

struct rdv_conn {
	int			 fd;
	struct loop_fd		 lfd;
	struct timer		 idle;
	struct sockaddr_storage	 peer;
	int			 index;		/* the listener's */
	uint64_t		 id;		/* for a REACH's answer that comes later */
	size_t			 inlen, outlen;
	uint8_t			 in[STUN_MAX_MSG];
	uint8_t			 out[RDV_TCP_OUT];
	struct rdv_conn		*next;
};

enum reach_state {
	RECENT_FREE = 0,
	RECENT_PENDING,		/* its TCP dial-back is under way */
	RECENT_ANSWERED,
};

/* A REACH taken lately: what a retransmission of it gets. */
struct reach_recent {
	struct sockaddr_storage	 peer;
	uint32_t		 net;		/* net_id */
	uint8_t			 tid[STUN_TID_LEN];
	uint8_t			 mac[RDV_REACH_MAC_KEPT];
	uint8_t			 tcp;
	uint8_t			 state;		/* enum reach_state */
	uint16_t		 len;
	uint8_t			 answer[RDV_REACH_ANSWER_MAX];
};

/* A TCP dial-back under way, and where its answer goes. */
struct reach_pending {
	struct rdv_dial		 dial;
	struct sockaddr_storage	 peer;		/* the request's source */
	uint64_t		 conn;		/* the TCP client's id, 0 for UDP */
	int			 sock;		/* the socket the request came to */
	int			 tcp;
	size_t			 inlen;		/* the request's length */
	uint16_t		 port;
	uint8_t			 tid[STUN_TID_LEN];
	char			 network[RDV_NETWORK_MAX + 1];
	char			 node[RDV_NODE_MAX + 1];
	struct reach_pending	*next;
};

static struct {
	struct rdv_sock		 udp[4], tcp[4];
	int			 nsock;		/* 1 or 4 */
	struct sockaddr_storage	 local[4];
	struct rdv_conn		*conns;
	size_t			 nconns;
	struct rdv_networks	 nets;
	struct rdv_server_stats	 stats;
	struct rdv_replay	*replay;
	struct rdv_registry	*reg;
	size_t			 max_nodes;
	struct timer		 sweep;
	uint64_t		(*wall)(void);	/* tests: a fake clock */
	uint64_t		(*mono)(void);
	uint64_t		 conn_seq;
	uint64_t		 serving;	/* the TCP client whose message is answered */
	struct reach_pending	*pending;
	size_t			 npending;
	struct reach_recent	 recent[RDV_REACH_RECENT];
	size_t			 recent_next;
	void			(*sink)(const uint8_t *, size_t, int, int,
				    const struct sockaddr_storage *);
	void			(*ssink)(const uint8_t *, size_t, int, int,
				    const struct sockaddr_storage *);
	int			 have_turn;
	struct sockaddr_storage	 turn;		/* the TURN server */
	size_t			 turn_secret_len;
	char			 turn_secret[RDV_TURN_SECRET_MAX + 1];	/* never logged */
} srv;

static int	reach_serve(const struct rdv_msg *, const struct rdv_network *,
		    const uint8_t *, size_t, int, int,
		    const struct sockaddr_storage *,
		    const struct sockaddr_storage [4], int, uint8_t *, size_t,
		    uint64_t);
static struct reach_recent *reach_recent_find(uint32_t,
		    const uint8_t [STUN_TID_LEN]);
static int	signal_serve(const struct rdv_msg *, const struct rdv_network *,
		    size_t, const struct sockaddr_storage *, uint8_t *, size_t,
		    uint64_t);

/* The wall clock, ms since the epoch: what TIMESTAMP and SERVER-TIME are on. */
static uint64_t
wall_ms(void)
{
	struct timespec ts;

	if (srv.wall != NULL)
		return srv.wall();
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The loop's monotonic clock, ms: what registrations expire on. */
static uint64_t
mono_ms(void)
{
	return srv.mono != NULL ? srv.mono() : loop_now();
}

/* The replay cache and the registrations, made on first use. */
static void
srv_tables(void)
{
	size_t cap;

	if (srv.max_nodes == 0)
		srv.max_nodes = RDV_REG_NODES_DEFAULT;
	if (srv.reg == NULL &&
	    (srv.reg = rdv_registry_new(srv.max_nodes)) == NULL)
		fatal("registrations for %zu nodes", srv.max_nodes);
	/*
	 * A node re-registers every 25 s and an ID is held for 62 s: 3
	 * entries a node, at least 4096.
	 */
	cap = srv.max_nodes * 3 < 4096 ? 4096 : srv.max_nodes * 3;
	if (srv.replay == NULL && (srv.replay = rdv_replay_new(cap)) == NULL)
		fatal("replay cache of %zu entries", cap);
}

/* A stable number for the network's name, for the replay cache (FNV-1a). */
static uint32_t
net_id(const char *name)
{
	uint32_t h = 2166136261U;

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)*name) * 16777619U;
	return h;
}

static int __attribute__((format(printf, 3, 4)))
srv_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

static uint16_t
get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_port);
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->
		    sin_port);
	return 0;
}

/* The same address and port (what recvfrom leaves past them may differ). */
static int
sa_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	return 0;
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
}

static int
is_wildcard(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)ss)->
		    sin_addr.s_addr == htonl(INADDR_ANY);
	return memcmp(&((const struct sockaddr_in6 *)(const void *)ss)->
	    sin6_addr, &any6, sizeof(any6)) == 0;
}

static int
rdv_error(uint8_t *out, size_t outlen, const struct rdv_msg *m,
    const struct rdv_network *net, uint64_t now, int code, const char *reason)
{
	struct rdv_msg a;
	int n;

	memset(&a, 0, sizeof(a));
	a.method = m->method;
	a.cls = STUN_ERROR;
	memcpy(a.tid, m->tid, STUN_TID_LEN);
	memcpy(a.network, m->network, sizeof(a.network));
	a.has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME | RDV_HAS_ERROR;
	a.server_time = now;
	a.error_code = code;
	snprintf(a.error_reason, sizeof(a.error_reason), "%s", reason);
	n = rdv_build(out, outlen, &a, net->key);
	return n > 0 ? n : 0;
}

/*
 * TURN credentials for node into the REGISTER success a, sealed under
 * the network's key: a new pair every time, RDV_TURN_LIFETIME seconds
 * from now (wall clock, ms).  Without them (no random bytes) the answer
 * goes without, and the node keeps the pair it had.
 */
static void
turn_add(struct rdv_msg *a, const struct rdv_network *net, const char *node,
    uint64_t now)
{
	struct rdv_turn t;
	int n;

	memset(&t, 0, sizeof(t));
	if (rdv_turn_make(srv.turn_secret, srv.turn_secret_len, node,
	    now / 1000 + RDV_TURN_LIFETIME, &t) == 0 &&
	    (n = rdv_turn_seal(net->key, a->tid, a->network, node, &t,
	    a->turn_cred, sizeof(a->turn_cred))) > 0) {
		a->turn_cred_len = (size_t)n;
		a->turn_server = srv.turn;
		a->has |= RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL;
		srv.stats.turn_creds++;
	} else
		log_warnx("rendezvous: no TURN credentials for %s in network "
		    "%s", node, a->network);
	rdv_turn_wipe(&t);
}

/*
 * One of our messages (rdv_is_rdv): parsed, its network found, its MAC
 * checked, its freshness and transaction ID checked, in that order; any
 * failure drops it without an answer, counted.  Then a REGISTER or a
 * REACH is served.
 *
 * A retransmission of a REACH (the same network, transaction ID and MAC
 * from the same source over the same transport, still fresh) is not a
 * replay: it gets the answer again, or nothing while its dial-back is
 * under way, and never a second dial-back.  From another source the
 * same bytes are a replay.  (A REGISTER again is dropped as a replay: it
 * is renewed every 25 s with a new transaction ID anyway.)
 */
static int
rdv_answer(const uint8_t *req, size_t len, int sock, int tcp,
    const struct sockaddr_storage *peer,
    const struct sockaddr_storage local[4], int rfc5780, uint8_t *out,
    size_t outlen)
{
	const struct rdv_network *net;
	struct reach_recent *r;
	enum rdv_replay_verdict verdict;
	struct rdv_reg_via via;
	struct rdv_msg m, a;
	const char *why = NULL;
	char pa[64];
	uint64_t now, mono;
	uint32_t granted;
	int n;

	srv_tables();
	if (rdv_parse(req, len, &m, &why) == -1) {
		srv.stats.malformed++;
		log_debug("rendezvous: %s: dropped: %s",
		    stun_addr_str(peer, pa, sizeof(pa)), why);
		return 0;
	}
	if (m.cls != STUN_REQUEST) {
		srv.stats.malformed++;
		log_debug("rendezvous: %s: dropped: %s, not a request",
		    stun_addr_str(peer, pa, sizeof(pa)), rdv_method_name(m.method));
		return 0;
	}
	/* the name is [A-Za-z0-9._-] (rdv_parse): safe to log */
	net = rdv_networks_find(&srv.nets, m.network, strlen(m.network));
	if (net == NULL) {
		srv.stats.unknown_network++;
		log_debug("rendezvous: %s: %s for network %s: unknown network, "
		    "dropped", stun_addr_str(peer, pa, sizeof(pa)),
		    rdv_method_name(m.method), m.network);
		return 0;
	}
	if (!rdv_verify(req, len, &m, net->key)) {
		srv.stats.bad_mac++;
		log_debug("rendezvous: %s: %s for network %s: bad MAC, dropped",
		    stun_addr_str(peer, pa, sizeof(pa)), rdv_method_name(m.method),
		    m.network);
		return 0;
	}
	now = wall_ms();
	verdict = rdv_replay_check(srv.replay, net_id(net->name), m.tid,
	    m.timestamp, now);
	/* only an ID seen lately can be a retransmission: no search else */
	if (verdict == RDV_REPLAY_SEEN && m.method == RDV_REACH &&
	    (r = reach_recent_find(net_id(net->name), m.tid)) != NULL &&
	    r->tcp == (tcp != 0) && sa_same(&r->peer, peer) &&
	    memcmp(r->mac, req + m.mac_off + 4, sizeof(r->mac)) == 0) {
		srv.stats.retransmits++;
		log_debug("rendezvous: %s: REACH %s in network %s again: %s",
		    stun_addr_str(peer, pa, sizeof(pa)), m.node, m.network,
		    r->state == RECENT_PENDING ? "under way" : "answered again");
		if (r->state == RECENT_PENDING)
			return RDV_ANSWER_LATER;
		if (r->len > outlen)
			return 0;
		memcpy(out, r->answer, r->len);
		return r->len;
	}
	switch (verdict) {
	case RDV_REPLAY_NEW:
		break;
	case RDV_REPLAY_STALE:
		srv.stats.stale++;
		log_debug("rendezvous: %s: %s for network %s: timestamp %+lld "
		    "ms off, dropped", stun_addr_str(peer, pa, sizeof(pa)),
		    rdv_method_name(m.method), m.network,
		    (long long)(m.timestamp - now));
		return 0;
	case RDV_REPLAY_SEEN:
	case RDV_REPLAY_FLOOD:
		srv.stats.replayed++;
		log_debug("rendezvous: %s: %s for network %s: replayed, "
		    "dropped", stun_addr_str(peer, pa, sizeof(pa)),
		    rdv_method_name(m.method), m.network);
		return 0;
	}
	if (m.method == RDV_REACH)
		return reach_serve(&m, net, req, len, sock, tcp, peer, local,
		    rfc5780, out, outlen, now);
	if (m.method == RDV_SIGNAL)
		return signal_serve(&m, net, len, peer, out, outlen, now);
	granted = rdv_registry_lifetime(m.has & RDV_HAS_LIFETIME, m.lifetime);
	mono = mono_ms();
	memset(&via, 0, sizeof(via));
	via.transport = tcp ? RDV_TCP : RDV_UDP;
	via.sock = (uint8_t)(sock & 3);
	via.conn = tcp ? srv.serving : 0;
	switch (rdv_registry_put(srv.reg, (uint32_t)(net - srv.nets.v), m.node,
	    peer, &via, m.cand, m.ncand, mono,
	    mono + (uint64_t)granted * 1000)) {
	case RDV_REG_NEW:
	case RDV_REG_UPDATED:
		break;
	case RDV_REG_FULL:
	case RDV_REG_NOMEM:
		srv.stats.refused++;
		log_debug("rendezvous: %s: REGISTER %s in network %s: "
		    "refused, %zu nodes held", stun_addr_str(peer, pa, sizeof(pa)),
		    m.node, m.network, rdv_registry_count(srv.reg));
		return rdv_error(out, outlen, &m, net, now, 508,
		    "Insufficient Capacity");
	}
	srv.stats.registered++;
	log_debug("rendezvous: %s: REGISTER %s in network %s, %d candidate%s, "
	    "lifetime %us", stun_addr_str(peer, pa, sizeof(pa)), m.node,
	    m.network, m.ncand, m.ncand == 1 ? "" : "s", granted);
	memset(&a, 0, sizeof(a));
	a.method = RDV_REGISTER;
	a.cls = STUN_SUCCESS;
	memcpy(a.tid, m.tid, STUN_TID_LEN);
	memcpy(a.network, m.network, sizeof(a.network));
	a.has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME | RDV_HAS_LIFETIME |
	    RDV_HAS_MAPPED;
	a.server_time = now;
	a.lifetime = granted;
	a.mapped = *peer;
	if (srv.have_turn)
		turn_add(&a, net, m.node, now);
	n = rdv_build(out, outlen, &a, net->key);
	crypto_wipe(a.turn_cred, sizeof(a.turn_cred));
	return n > 0 ? n : 0;
}

int
rdv_server_answer(const uint8_t *req, size_t len, int sock, int tcp,
    const struct sockaddr_storage *peer,
    const struct sockaddr_storage local[4], int rfc5780, uint8_t *out,
    size_t outlen, int *from, struct sockaddr_storage *to)
{
	static const uint16_t change_type[1] = { STUN_A_CHANGE_REQUEST };
	struct stun_answer_spec a;
	struct stun_msg m;
	const char *why = NULL;
	int n, j;

	if (rdv_is_rdv(req, len)) {
		*from = sock;
		*to = *peer;
		return rdv_answer(req, len, sock, tcp, peer, local, rfc5780,
		    out, outlen);
	}
	if (stun_parse(req, len, &m, &why) == -1) {
		log_debug("rendezvous: dropped: %s", why);
		return 0;
	}
	if (m.cls != STUN_REQUEST || m.method != STUN_BINDING) {
		log_debug("rendezvous: dropped: method 0x%03x class %d",
		    m.method, m.cls);
		return 0;
	}
	*from = sock;
	*to = *peer;
	if (m.n_unknown > 0)
		return stun_build_error(out, outlen, STUN_BINDING, m.tid, 420,
		    "Unknown Attribute", m.unknown, m.n_unknown, RDV_SOFTWARE,
		    m.has_fingerprint);
	if (m.change != 0) {
		/* RFC 5780 6.1: without another address and port, 420 */
		if (!rfc5780)
			return stun_build_error(out, outlen, STUN_BINDING,
			    m.tid, 420, "Unknown Attribute", change_type, 1,
			    RDV_SOFTWARE, m.has_fingerprint);
		/* RFC 5780 7.2: CHANGE-REQUEST is for UDP */
		if (tcp)
			return stun_build_error(out, outlen, STUN_BINDING,
			    m.tid, 400, "CHANGE-REQUEST over TCP", NULL, 0,
			    RDV_SOFTWARE, m.has_fingerprint);
		j = sock ^ ((m.change & STUN_CHANGE_IP) ? 2 : 0) ^
		    ((m.change & STUN_CHANGE_PORT) ? 1 : 0);
		*from = j;
	}
	/* RFC 5780 7.5: the answer to this port of the same address (UDP) */
	if (m.response_port != 0 && !tcp)
		set_port(to, m.response_port);
	memset(&a, 0, sizeof(a));
	a.method = STUN_BINDING;
	a.tid = m.tid;
	a.mapped = peer;
	a.legacy_mapped = 1;
	if (local[*from].ss_family != AF_UNSPEC)
		a.origin = &local[*from];
	/* RFC 5780 6.1: the address and port that differ in both */
	if (rfc5780 && local[sock ^ 3].ss_family != AF_UNSPEC)
		a.other = &local[sock ^ 3];
	a.software = RDV_SOFTWARE;
	a.fingerprint = m.has_fingerprint;
	n = stun_build_success(out, outlen, &a);
	return n > 0 ? n : 0;
}

static void
count_answer(const uint8_t *out)
{
	/* the class bits of the type: 0x0110 set for an error */
	if ((out[1] & 0x10) && (out[0] & 0x01))
		srv.stats.errors++;
	else
		srv.stats.answers++;
}

static void
udp_read(struct loop_fd *lf, int ev)
{
	struct rdv_sock *s = container_of(lf, struct rdv_sock, lfd);
	struct sockaddr_storage peer, to;
	uint8_t buf[STUN_MAX_MSG + 1], out[RDV_ANSWER_MAX];
	socklen_t plen;
	ssize_t r;
	int i, n, from;

	(void)ev;
	for (i = 0; i < RDV_UDP_BURST; i++) {
		plen = sizeof(peer);
		r = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&peer, &plen);
		if (r == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_debug("rendezvous: recvfrom: %s",
				    strerror(errno));
			return;
		}
		srv.stats.udp_in++;
		srv.serving = 0;
		n = rdv_server_answer(buf, (size_t)r, s->index, 0, &peer,
		    srv.local, srv.nsock == 4, out, sizeof(out), &from, &to);
		if (n == RDV_ANSWER_LATER)
			continue;
		if (n <= 0) {
			srv.stats.dropped++;
			continue;
		}
		if (sendto(srv.udp[from].fd, out, (size_t)n, MSG_DONTWAIT,
		    (struct sockaddr *)&to, sa_len(&to)) == -1) {
			log_debug("rendezvous: sendto: %s", strerror(errno));
			continue;
		}
		count_answer(out);
	}
}

static void
conn_free(struct rdv_conn *c)
{
	struct rdv_conn **p;

	for (p = &srv.conns; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	loop_fd_del(&c->lfd);
	timer_stop(&c->idle);
	close(c->fd);
	srv.nconns--;
	srv.stats.tcp_closed++;
	free(c);
}

static void
conn_idle(struct timer *t)
{
	struct rdv_conn *c = container_of(t, struct rdv_conn, idle);
	char a[64];

	log_debug("rendezvous: tcp %s idle, closed",
	    stun_addr_str(&c->peer, a, sizeof(a)));
	conn_free(c);
}

/* Send what is waiting; -1 when the client is gone. */
static int
conn_flush(struct rdv_conn *c)
{
	return sock_send_pending(c->fd, c->out, &c->outlen);
}

/* a client that does not read its answers is not read either */
static void
conn_events(struct rdv_conn *c)
{
	loop_fd_events(&c->lfd,
	    (sizeof(c->out) - c->outlen >= RDV_ANSWER_MAX ? LOOP_READ : 0) |
	    (c->outlen > 0 ? LOOP_WRITE : 0));
}

/*
 * Answer the whole messages in the input: how many, or -1 to close (not
 * STUN, or unreadable).  Stops early while the output has no room for an
 * answer.
 */
static int
conn_process(struct rdv_conn *c)
{
	struct sockaddr_storage to;
	int fl, n, from, done = 0;

	while (c->inlen > 0) {
		if (sizeof(c->out) - c->outlen < RDV_ANSWER_MAX)
			return done;
		fl = stun_frame_len(c->in, c->inlen);
		if (fl == -1)
			return -1;
		if (fl == 0 || (size_t)fl > c->inlen)
			return done;
		srv.stats.tcp_in++;
		srv.serving = c->id;
		n = rdv_server_answer(c->in, (size_t)fl, c->index, 1, &c->peer,
		    srv.local, srv.nsock == 4, c->out + c->outlen,
		    sizeof(c->out) - c->outlen, &from, &to);
		srv.serving = 0;
		memmove(c->in, c->in + fl, c->inlen - (size_t)fl);
		c->inlen -= (size_t)fl;
		timer_set(&c->idle, RDV_TCP_IDLE_MS);
		if (n == RDV_ANSWER_LATER) {
			done++;
			continue;
		}
		if (n <= 0) {
			srv.stats.dropped++;
			return -1;
		}
		count_answer(c->out + c->outlen);
		c->outlen += (size_t)n;
		done++;
	}
	return done;
}

static void
conn_io(struct loop_fd *lf, int ev)
{
	struct rdv_conn *c = container_of(lf, struct rdv_conn, lfd);
	ssize_t r;
	char a[64];
	int n;

	if ((ev & LOOP_WRITE) && conn_flush(c) == -1)
		goto close;
	if ((ev & LOOP_READ) && c->inlen < sizeof(c->in) &&
	    sizeof(c->out) - c->outlen >= RDV_ANSWER_MAX) {
		r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen,
		    MSG_DONTWAIT);
		if (r == 0)
			goto close;
		if (r == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			goto close;
		if (r > 0)
			c->inlen += (size_t)r;
	}
	/*
	 * Answer what came, as long as the answers leave at once: messages
	 * that came together must not wait for more input that may never
	 * come.  A client that does not read stops this (outlen stays).
	 */
	do {
		if ((n = conn_process(c)) == -1) {
			log_debug("rendezvous: tcp %s: not STUN, closed",
			    stun_addr_str(&c->peer, a, sizeof(a)));
			goto close;
		}
		if (conn_flush(c) == -1)
			goto close;
	} while (n > 0 && c->outlen == 0 && c->inlen > 0);
	conn_events(c);
	return;
close:
	conn_free(c);
}

static void
tcp_accept(struct loop_fd *lf, int ev)
{
	struct rdv_sock *s = container_of(lf, struct rdv_sock, lfd);
	struct rdv_conn *c;
	struct sockaddr_storage peer;
	socklen_t plen;
	int fd, i;

	(void)ev;
	for (i = 0; i < 16; i++) {
		plen = sizeof(peer);
		fd = accept4(s->fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		if (srv.nconns >= RDV_TCP_MAX ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			srv.stats.tcp_refused++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = ++srv.conn_seq;
		c->peer = peer;
		c->index = s->index;
		timer_init(&c->idle, conn_idle);
		timer_set(&c->idle, RDV_TCP_IDLE_MS);
		loop_fd_add(&c->lfd, fd, LOOP_READ, conn_io);
		c->next = srv.conns;
		srv.conns = c;
		srv.nconns++;
	}
}

/* ---- REACH: the dial-back ---- */

static struct reach_recent *
reach_recent_find(uint32_t net, const uint8_t tid[STUN_TID_LEN])
{
	size_t i;

	for (i = 0; i < RDV_REACH_RECENT; i++)
		if (srv.recent[i].state != RECENT_FREE &&
		    srv.recent[i].net == net &&
		    memcmp(srv.recent[i].tid, tid, STUN_TID_LEN) == 0)
			return &srv.recent[i];
	return NULL;
}

/*
 * Remember a REACH taken (a ring of RDV_REACH_RECENT; one whose
 * dial-back is under way is never the one that goes: at most
 * RDV_REACH_INFLIGHT are).  Forgotten early under a flood, a
 * retransmission is dropped as a replay.
 */
static void
reach_recent_add(const struct rdv_msg *m, const uint8_t *req, uint32_t net,
    int tcp, const struct sockaddr_storage *peer, int state,
    const uint8_t *ans, int n)
{
	struct reach_recent *r = &srv.recent[srv.recent_next];
	size_t i;

	for (i = 0; i < RDV_REACH_RECENT && r->state == RECENT_PENDING; i++) {
		srv.recent_next = (srv.recent_next + 1) % RDV_REACH_RECENT;
		r = &srv.recent[srv.recent_next];
	}
	srv.recent_next = (srv.recent_next + 1) % RDV_REACH_RECENT;
	memset(r, 0, sizeof(*r));
	r->peer = *peer;
	r->net = net;
	memcpy(r->tid, m->tid, STUN_TID_LEN);
	memcpy(r->mac, req + m->mac_off + 4, sizeof(r->mac));
	r->tcp = tcp != 0;
	r->state = (uint8_t)state;
	if (state == RECENT_ANSWERED) {
		if (n <= 0 || (size_t)n > sizeof(r->answer)) {
			r->state = RECENT_FREE;
			return;
		}
		memcpy(r->answer, ans, (size_t)n);
		r->len = (uint16_t)n;
	}
}

/*
 * A REACH or SIGNAL answer, success (code 0) or error, under the
 * network's key: its length, or 0 (none) when it is not shorter than the
 * request by extra bytes (the UDP nonce): never more bytes out than in.
 * Every REACH reason is at most 28 characters and every SIGNAL reason at
 * most 16, so that this never happens (see the arithmetic in
 * natmapd-rendezvous(8)).
 */
static int
short_answer(uint8_t *out, size_t outlen, uint16_t method,
    const uint8_t tid[STUN_TID_LEN], const struct rdv_network *net,
    uint64_t now, int code, const char *reason, size_t inlen, size_t extra)
{
	struct rdv_msg a;
	int n;

	memset(&a, 0, sizeof(a));
	a.method = method;
	a.cls = code == 0 ? STUN_SUCCESS : STUN_ERROR;
	memcpy(a.tid, tid, STUN_TID_LEN);
	snprintf(a.network, sizeof(a.network), "%s", net->name);
	a.has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME;
	a.server_time = now;
	if (code != 0) {
		a.has |= RDV_HAS_ERROR;
		a.error_code = code;
		snprintf(a.error_reason, sizeof(a.error_reason), "%s", reason);
	}
	n = rdv_build(out, outlen, &a, net->key);
	if (n <= 0)
		return 0;
	if ((size_t)n + extra > inlen) {
		log_warnx("rendezvous: a %s answer of %d bytes (+%zu) to "
		    "one of %zu: not sent", rdv_method_name(method), n, extra,
		    inlen);
		return 0;
	}
	return n;
}

/* The answer of a dial-back that ended on the loop, to where its request came from. */
static void
reach_deliver(const struct reach_pending *p, const uint8_t *out, int n)
{
	struct rdv_conn *c;
	char pa[64];

	if (n <= 0)
		return;
	if (srv.sink != NULL) {
		srv.sink(out, (size_t)n, p->sock, p->tcp, &p->peer);
		count_answer(out);
		return;
	}
	if (!p->tcp) {
		if (sendto(srv.udp[p->sock].fd, out, (size_t)n, MSG_DONTWAIT,
		    (const struct sockaddr *)&p->peer, sa_len(&p->peer)) == -1) {
			log_debug("rendezvous: sendto: %s", strerror(errno));
			return;
		}
		count_answer(out);
		return;
	}
	for (c = srv.conns; c != NULL && c->id != p->conn; c = c->next)
		;
	if (c == NULL || sizeof(c->out) - c->outlen < (size_t)n) {
		log_debug("rendezvous: tcp %s: REACH answer dropped, the "
		    "client %s", stun_addr_str(&p->peer, pa, sizeof(pa)),
		    c == NULL ? "is gone" : "does not read");
		return;
	}
	memcpy(c->out + c->outlen, out, (size_t)n);
	c->outlen += (size_t)n;
	count_answer(out);
	if (conn_flush(c) == -1) {
		conn_free(c);
		return;
	}
	conn_events(c);
}

static void
reach_done(struct rdv_dial *d, enum rdv_dial_result res)
{
	struct reach_pending *p = container_of(d, struct reach_pending, dial);
	struct reach_pending **pp;
	struct reach_recent *r;
	const struct rdv_network *net;
	uint8_t out[RDV_REACH_ANSWER_MAX];
	char pa[64];
	int n = 0;

	for (pp = &srv.pending; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	srv.npending--;
	if (res == RDV_DIAL_REACHED)
		srv.stats.reached++;
	else
		srv.stats.not_reached++;
	log_debug("rendezvous: %s: REACH %s in network %s, tcp port %u: %s",
	    stun_addr_str(&p->peer, pa, sizeof(pa)), p->node, p->network,
	    p->port, rdv_dial_reason(res));
	r = reach_recent_find(net_id(p->network), p->tid);
	net = rdv_networks_find(&srv.nets, p->network, strlen(p->network));
	if (net != NULL)
		n = short_answer(out, sizeof(out), RDV_REACH, p->tid, net, wall_ms(),
		    res == RDV_DIAL_REACHED ? 0 : 404, rdv_dial_reason(res),
		    p->inlen, 0);
	if (r != NULL && r->state == RECENT_PENDING) {
		r->state = n > 0 ? RECENT_ANSWERED : RECENT_FREE;
		memcpy(r->answer, out, n > 0 ? (size_t)n : 0);
		r->len = (uint16_t)n;
	}
	reach_deliver(p, out, n);
	free(p);
}

/*
 * An authenticated REACH, fresh, not a replay: the node must be
 * registered (403) and within its rate (429), the server must have an
 * alternate address to dial back from (501: from the primary address a
 * NAT that filters by address would let the nonce in as an answer to
 * what the node sent there, and prove nothing) and room for a TCP
 * dial-back (503).  The dial-back goes to the request's source address,
 * whatever the registration says, to the port the request names.
 */
static int
reach_serve(const struct rdv_msg *m, const struct rdv_network *net,
    const uint8_t *req, size_t len, int sock, int tcp,
    const struct sockaddr_storage *peer,
    const struct sockaddr_storage local[4], int rfc5780, uint8_t *out,
    size_t outlen, uint64_t now)
{
	struct sockaddr_storage target;
	struct reach_pending *p;
	uint32_t idx = (uint32_t)(net - srv.nets.v), nid = net_id(net->name);
	uint16_t avoid[2];
	uint64_t mono = mono_ms();
	const char *why;
	char pa[64];
	int n, code, udp = m->reach_transport == RDV_UDP;

	srv.stats.reach++;
	target = *peer;
	set_port(&target, m->reach_port);
	stun_addr_str(&target, pa, sizeof(pa));
	switch (rdv_registry_reach(srv.reg, idx, m->node, mono,
	    RDV_REACH_INTERVAL_MS, RDV_REACH_BURST, 0)) {
	case -1:
		code = 403;
		why = "register first";
		goto refuse;
	case 0:
		srv.stats.rate_limited++;
		code = 429;
		why = "too many REACH requests";
		goto refuse;
	}
	if (!rfc5780 || local[2].ss_family != peer->ss_family) {
		code = 501;
		why = "no alt address for dial-back";
		goto refuse;
	}
	if (!udp && srv.npending >= RDV_REACH_INFLIGHT) {
		code = 503;
		why = "too many dial-backs";
		goto refuse;
	}
	(void)rdv_registry_reach(srv.reg, idx, m->node, mono,
	    RDV_REACH_INTERVAL_MS, RDV_REACH_BURST, 1);
	avoid[0] = get_port(&local[2]);
	avoid[1] = get_port(&local[3]);
	if (udp) {
		n = short_answer(out, outlen, RDV_REACH, m->tid, net, now, 0, NULL, len,
		    RDV_NONCE_LEN);
		if (n > 0 && rdv_dial_udp(&local[2], &target, m->nonce,
		    avoid) == 0) {
			srv.stats.reached++;
			log_debug("rendezvous: REACH %s in network %s: "
			    "nonce sent to udp %s", m->node, m->network, pa);
		} else {
			srv.stats.not_reached++;
			log_debug("rendezvous: REACH %s in network %s: udp %s: "
			    "%s", m->node, m->network, pa, n > 0 ?
			    strerror(errno) : "no answer fits");
			n = short_answer(out, outlen, RDV_REACH, m->tid, net, now, 500,
			    "dial-back failed", len, 0);
		}
		reach_recent_add(m, req, nid, tcp, peer, RECENT_ANSWERED, out,
		    n);
		return n;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    rdv_dial_tcp(&p->dial, &local[2], &target, m->nonce, avoid,
	    RDV_DIAL_TIMEOUT_MS, reach_done) == -1) {
		srv.stats.not_reached++;
		log_debug("rendezvous: REACH %s in network %s: tcp %s: %s",
		    m->node, m->network, pa, strerror(errno));
		free(p);
		n = short_answer(out, outlen, RDV_REACH, m->tid, net, now, 500,
		    "dial-back failed", len, 0);
		reach_recent_add(m, req, nid, tcp, peer, RECENT_ANSWERED, out,
		    n);
		return n;
	}
	p->peer = *peer;
	p->conn = tcp ? srv.serving : 0;
	p->sock = sock;
	p->tcp = tcp != 0;
	p->inlen = len;
	p->port = m->reach_port;
	memcpy(p->tid, m->tid, STUN_TID_LEN);
	memcpy(p->network, m->network, sizeof(p->network));
	memcpy(p->node, m->node, sizeof(p->node));
	p->next = srv.pending;
	srv.pending = p;
	srv.npending++;
	reach_recent_add(m, req, nid, tcp, peer, RECENT_PENDING, NULL, 0);
	log_debug("rendezvous: REACH %s in network %s: dialling tcp %s",
	    m->node, m->network, pa);
	return RDV_ANSWER_LATER;
refuse:
	srv.stats.refused++;
	log_debug("rendezvous: REACH %s in network %s to %s %s: %d %s",
	    m->node, m->network, udp ? "udp" : "tcp", pa, code, why);
	n = short_answer(out, outlen, RDV_REACH, m->tid, net, now, code, why, len, 0);
	reach_recent_add(m, req, nid, tcp, peer, RECENT_ANSWERED, out, n);
	return n;
}

/* ---- SIGNAL: sent on ---- */

/*
 * An indication to where the node of info registered: 0 once sent (or
 * queued on its TCP connection), else an error code and *why.
 */
static int
signal_send(const struct rdv_reg_info *info, const uint8_t *buf, size_t n,
    const char **why)
{
	struct rdv_conn *c;

	if (srv.ssink != NULL) {
		srv.ssink(buf, n, info->sock, info->transport == RDV_TCP,
		    &info->observed);
		return 0;
	}
	if (info->transport != RDV_TCP) {
		if (info->sock >= srv.nsock || srv.udp[info->sock].fd == -1) {
			*why = "no socket";
			return 500;
		}
		if (sendto(srv.udp[info->sock].fd, buf, n, MSG_DONTWAIT,
		    (const struct sockaddr *)&info->observed,
		    sa_len(&info->observed)) == -1) {
			log_debug("rendezvous: SIGNAL indication: sendto: %s",
			    strerror(errno));
			*why = "send failed";
			return 500;
		}
		return 0;
	}
	/* TCP: on the connection the node registered over, while it is open */
	for (c = srv.conns; c != NULL && c->id != info->conn; c = c->next)
		;
	if (c == NULL || info->conn == 0) {
		*why = "node unreachable";
		return 404;
	}
	if (sizeof(c->out) - c->outlen < n) {
		*why = "node not reading";
		return 503;
	}
	memcpy(c->out + c->outlen, buf, n);
	c->outlen += n;
	/* the connection being served flushes when its turn ends */
	if (c->id != srv.serving && conn_flush(c) == -1) {
		conn_free(c);
		*why = "node unreachable";
		return 404;
	}
	conn_events(c);
	return 0;
}

/*
 * An authenticated SIGNAL, fresh, not a replay: the sender must be
 * registered (403) and within its rate (429: RDV_SIGNAL_BURST, then one
 * every RDV_SIGNAL_INTERVAL_MS; a refused SIGNAL costs a token too, so
 * that names cannot be probed faster), PEER registered in the same
 * network (404).  The indication names the sender as the MAC proved it
 * and carries the payload unread; it has an ID of its own, so that the
 * receiver cannot take it for an answer.  Only the lengths are logged,
 * never the payload.
 */
static int
signal_serve(const struct rdv_msg *m, const struct rdv_network *net,
    size_t len, const struct sockaddr_storage *peer, uint8_t *out,
    size_t outlen, uint64_t now)
{
	struct rdv_reg_info info;
	struct rdv_msg ind;
	uint8_t buf[STUN_MAX_MSG];
	uint32_t idx = (uint32_t)(net - srv.nets.v);
	uint64_t mono = mono_ms();
	const char *why = NULL;
	char pa[64], ta[64];
	int n, code;

	srv.stats.signal++;
	stun_addr_str(peer, pa, sizeof(pa));
	switch (rdv_registry_signal(srv.reg, idx, m->node, mono,
	    RDV_SIGNAL_INTERVAL_MS, RDV_SIGNAL_BURST, 1)) {
	case -1:
		code = 403;
		why = "register first";
		goto refuse;
	case 0:
		code = 429;
		why = "rate limit";
		goto refuse;
	}
	if (rdv_registry_get(srv.reg, idx, m->peer, mono, &info) == -1) {
		code = 404;
		why = "no such node";
		goto refuse;
	}
	memset(&ind, 0, sizeof(ind));
	ind.method = RDV_SIGNAL;
	ind.cls = STUN_INDICATION;
	ind.has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_PEER |
	    RDV_HAS_PAYLOAD | RDV_HAS_SERVER_TIME;
	memcpy(ind.network, m->network, sizeof(ind.network));
	memcpy(ind.node, m->node, sizeof(ind.node));
	memcpy(ind.peer, m->peer, sizeof(ind.peer));
	memcpy(ind.payload, m->payload, m->payload_len);
	ind.payload_len = m->payload_len;
	ind.server_time = now;
	if (crypto_random(ind.tid, sizeof(ind.tid)) == -1 ||
	    (n = rdv_build(buf, sizeof(buf), &ind, net->key)) <= 0) {
		code = 500;
		why = "cannot build";
		goto refuse;
	}
	if ((code = signal_send(&info, buf, (size_t)n, &why)) != 0)
		goto refuse;
	srv.stats.signalled++;
	log_debug("rendezvous: %s: SIGNAL %s to %s in network %s, %zu bytes: "
	    "sent to %s %s", pa, m->node, m->peer, m->network, m->payload_len,
	    info.transport == RDV_TCP ? "tcp" : "udp",
	    stun_addr_str(&info.observed, ta, sizeof(ta)));
	return short_answer(out, outlen, RDV_SIGNAL, m->tid, net, now, 0, NULL,
	    len, 0);
refuse:
	srv.stats.refused++;
	srv.stats.signal_refused++;
	log_debug("rendezvous: %s: SIGNAL %s to %s in network %s, %zu bytes: "
	    "%d %s", pa, m->node, m->peer, m->network, m->payload_len, code,
	    why);
	return short_answer(out, outlen, RDV_SIGNAL, m->tid, net, now, code,
	    why, len, 0);
}

static void
sweep(struct timer *t)
{
	size_t gone;

	if (srv.reg != NULL && (gone = rdv_registry_expire(srv.reg,
	    mono_ms())) > 0)
		log_debug("rendezvous: %zu registration%s lapsed", gone,
		    gone == 1 ? "" : "s");
	timer_set(t, RDV_SWEEP_MS);
}

static int
open_sock(struct rdv_sock *s, int type, const struct sockaddr_storage *addr,
    int index, char *err, size_t errlen)
{
	char a[64];
	int one = 1;

	s->index = index;
	s->fd = socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		return srv_err(err, errlen, "socket: %s", strerror(errno));
	if (addr->ss_family == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->fd, (const struct sockaddr *)addr, sa_len(addr)) == -1 ||
	    (type == SOCK_STREAM && listen(s->fd, 128) == -1)) {
		srv_err(err, errlen, "%s %s: %s", type == SOCK_STREAM ?
		    "tcp" : "udp", stun_addr_str(addr, a, sizeof(a)),
		    strerror(errno));
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	loop_fd_add(&s->lfd, s->fd, LOOP_READ,
	    type == SOCK_STREAM ? tcp_accept : udp_read);
	return 0;
}

int
rdv_server_start(const struct rdv_server_conf *conf, char *err,
    size_t errlen)
{
	struct sockaddr_storage addr[4];
	uint16_t port;
	char a[64];
	int i;

	memset(&srv.stats, 0, sizeof(srv.stats));
	srv.max_nodes = conf->max_nodes;
	srv_tables();
	timer_init(&srv.sweep, sweep);
	timer_set(&srv.sweep, RDV_SWEEP_MS);
	for (i = 0; i < 4; i++)
		srv.udp[i].fd = srv.tcp[i].fd = -1;
	addr[0] = conf->listen;
	port = ntohs(conf->listen.ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)(const void *)&conf->listen)->
	    sin6_port :
	    ((const struct sockaddr_in *)(const void *)&conf->listen)->
	    sin_port);
	srv.nsock = 1;
	if (conf->alt.ss_family != AF_UNSPEC) {
		/* index: bit 1 the alternate address, bit 0 the alternate port */
		srv.nsock = 4;
		addr[1] = conf->listen;
		set_port(&addr[1], conf->alt_port);
		addr[2] = conf->alt;
		set_port(&addr[2], port);
		addr[3] = conf->alt;
		set_port(&addr[3], conf->alt_port);
	}
	for (i = 0; i < 4; i++)
		memset(&srv.local[i], 0, sizeof(srv.local[i]));
	for (i = 0; i < srv.nsock; i++) {
		if (open_sock(&srv.udp[i], SOCK_DGRAM, &addr[i], i, err,
		    errlen) == -1 ||
		    open_sock(&srv.tcp[i], SOCK_STREAM, &addr[i], i, err,
		    errlen) == -1) {
			rdv_server_stop();
			return -1;
		}
		if (!is_wildcard(&addr[i]))
			srv.local[i] = addr[i];
		log_info("rendezvous: STUN on %s, udp and tcp",
		    stun_addr_str(&addr[i], a, sizeof(a)));
	}
	return 0;
}

void
rdv_server_stop(void)
{
	struct reach_pending *p;
	int i;

	while ((p = srv.pending) != NULL) {
		srv.pending = p->next;
		rdv_dial_cancel(&p->dial);
		free(p);
	}
	srv.npending = 0;
	memset(srv.recent, 0, sizeof(srv.recent));
	while (srv.conns != NULL)
		conn_free(srv.conns);
	timer_stop(&srv.sweep);
	rdv_registry_free(srv.reg);
	srv.reg = NULL;
	rdv_replay_free(srv.replay);
	srv.replay = NULL;
	for (i = 0; i < 4; i++) {
		if (srv.udp[i].fd != -1) {
			loop_fd_del(&srv.udp[i].lfd);
			close(srv.udp[i].fd);
			srv.udp[i].fd = -1;
		}
		if (srv.tcp[i].fd != -1) {
			loop_fd_del(&srv.tcp[i].lfd);
			close(srv.tcp[i].fd);
			srv.tcp[i].fd = -1;
		}
	}
	rdv_networks_free(&srv.nets);
	rdv_server_set_turn(NULL, NULL, 0);
}

void
rdv_server_set_networks(struct rdv_networks *nets)
{
	const struct rdv_network *nn;
	uint32_t *map;
	size_t i, gone;

	/* the registrations follow their networks to their new indices */
	if (srv.reg != NULL && rdv_registry_count(srv.reg) > 0) {
		if ((map = calloc(srv.nets.n, sizeof(*map))) == NULL)
			fatal("calloc");
		for (i = 0; i < srv.nets.n; i++) {
			nn = rdv_networks_find(nets, srv.nets.v[i].name,
			    strlen(srv.nets.v[i].name));
			map[i] = nn == NULL ? UINT32_MAX :
			    (uint32_t)(nn - nets->v);
		}
		gone = rdv_registry_remap(srv.reg, map, srv.nets.n);
		free(map);
		if (gone > 0)
			log_info("rendezvous: %zu registration%s of networks "
			    "no longer served dropped", gone,
			    gone == 1 ? "" : "s");
	}
	rdv_networks_free(&srv.nets);
	srv.nets = *nets;
	nets->v = NULL;
	nets->n = 0;
}

size_t
rdv_server_network_count(void)
{
	return srv.nets.n;
}

void
rdv_server_get_stats(struct rdv_server_stats *st)
{
	*st = srv.stats;
	st->registrations = srv.reg != NULL ? rdv_registry_count(srv.reg) : 0;
}

void
rdv_server_set_turn(const struct sockaddr_storage *relay, const char *secret,
    size_t len)
{
	crypto_wipe(srv.turn_secret, sizeof(srv.turn_secret));
	srv.turn_secret_len = 0;
	srv.have_turn = 0;
	memset(&srv.turn, 0, sizeof(srv.turn));
	if (relay == NULL || len == 0 || len > RDV_TURN_SECRET_MAX)
		return;
	srv.turn = *relay;
	memcpy(srv.turn_secret, secret, len);
	srv.turn_secret_len = len;
	srv.have_turn = 1;
}

void
rdv_server_set_max_nodes(size_t max_nodes)
{
	rdv_registry_free(srv.reg);
	srv.reg = NULL;
	srv.max_nodes = max_nodes;
}

void
rdv_server_set_clocks(uint64_t (*wall)(void), uint64_t (*mono)(void))
{
	srv.wall = wall;
	srv.mono = mono;
}

void
rdv_server_set_reach_sink(void (*sink)(const uint8_t *, size_t, int, int,
    const struct sockaddr_storage *))
{
	srv.sink = sink;
}

void
rdv_server_set_signal_sink(void (*sink)(const uint8_t *, size_t, int, int,
    const struct sockaddr_storage *))
{
	srv.ssink = sink;
}

size_t
rdv_server_reach_pending(void)
{
	return srv.npending;
}

size_t
rdv_server_expire(void)
{
	return srv.reg != NULL ? rdv_registry_expire(srv.reg, mono_ms()) : 0;
}

int
rdv_server_lookup(const char *network, const char *node,
    struct rdv_reg_info *info)
{
	const struct rdv_network *net;

	net = rdv_networks_find(&srv.nets, network, strlen(network));
	if (net == NULL || srv.reg == NULL)
		return -1;
	return rdv_registry_get(srv.reg, (uint32_t)(net - srv.nets.v), node,
	    mono_ms(), info);
}
