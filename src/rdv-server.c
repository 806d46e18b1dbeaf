/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous: UDP and TCP sockets, STUN Binding answers (RFC 8489, RFC 5780), REGISTER dispatch. */
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

#include "log.h"
#include "loop.h"
#include "rdv-msg.h"
#include "rdv-networks.h"
#include "rdv-registry.h"
#include "rdv-replay.h"
#include "rdv-server.h"
#include "stun-msg.h"
#include "stun.h"

#define RDV_SOFTWARE		"natmapd-rendezvous " PACKAGE_VERSION
#define RDV_UDP_BURST		64	/* datagrams read a wake-up, per socket */
#define RDV_TCP_OUT		2048	/* answers waiting for a slow reader */
#define RDV_ANSWER_MAX		512	/* room for one answer */
#define RDV_SWEEP_MS		250	/* the registrations' expiry step */

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
	size_t			 inlen, outlen;
	uint8_t			 in[STUN_MAX_MSG];
	uint8_t			 out[RDV_TCP_OUT];
	struct rdv_conn		*next;
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
} srv;

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
 * One of our messages (rdv_is_rdv): parsed, its network found, its MAC
 * checked, its freshness and transaction ID checked, in that order; any
 * failure drops it without an answer, counted.  Then a REGISTER is
 * served, a REACH refused.
 */
static int
rdv_answer(const uint8_t *req, size_t len, int tcp,
    const struct sockaddr_storage *peer, uint8_t *out, size_t outlen)
{
	const struct rdv_network *net;
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
	switch (rdv_replay_check(srv.replay, net_id(net->name), m.tid,
	    m.timestamp, now)) {
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
	if (m.method != RDV_REGISTER) {
		srv.stats.refused++;
		log_debug("rendezvous: %s: %s for network %s: not supported",
		    stun_addr_str(peer, pa, sizeof(pa)), rdv_method_name(m.method),
		    m.network);
		return rdv_error(out, outlen, &m, net, now, 400,
		    "REACH not yet supported");
	}
	granted = rdv_registry_lifetime(m.has & RDV_HAS_LIFETIME, m.lifetime);
	mono = mono_ms();
	switch (rdv_registry_put(srv.reg, (uint32_t)(net - srv.nets.v), m.node,
	    peer, tcp ? RDV_TCP : RDV_UDP, m.cand, m.ncand, mono,
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
	n = rdv_build(out, outlen, &a, net->key);
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
		return rdv_answer(req, len, tcp, peer, out, outlen);
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
		n = rdv_server_answer(buf, (size_t)r, s->index, 0, &peer,
		    srv.local, srv.nsock == 4, out, sizeof(out), &from, &to);
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
	ssize_t r;

	while (c->outlen > 0) {
		r = send(c->fd, c->out, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		memmove(c->out, c->out + r, c->outlen - (size_t)r);
		c->outlen -= (size_t)r;
	}
	return 0;
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
		n = rdv_server_answer(c->in, (size_t)fl, c->index, 1, &c->peer,
		    srv.local, srv.nsock == 4, c->out + c->outlen,
		    sizeof(c->out) - c->outlen, &from, &to);
		memmove(c->in, c->in + fl, c->inlen - (size_t)fl);
		c->inlen -= (size_t)fl;
		timer_set(&c->idle, RDV_TCP_IDLE_MS);
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
	/* a client that does not read its answers is not read either */
	loop_fd_events(&c->lfd,
	    (sizeof(c->out) - c->outlen >= RDV_ANSWER_MAX ? LOOP_READ : 0) |
	    (c->outlen > 0 ? LOOP_WRITE : 0));
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
	int i;

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
