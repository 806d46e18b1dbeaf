/* SPDX-License-Identifier: ISC */
/* STUN-kept TCP bindings: a kept connection from the port inbound connections reach, its endpoint from STUN over it, proven by a REACH dial-back. */
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
#include "crypto.h"
#include "driver.h"
#include "fallback.h"
#include "fallback-rung.h"
#include "fallback-tcp.h"
#include "forward.h"
#include "log.h"
#include "loop.h"
#include "rdv-client.h"
#include "rdv-msg.h"
#include "sock.h"
#include "status.h"
#include "stun-msg.h"
#include "stun.h"

/* A binding not proven reachable is tested again every this many keep-alives. */
#define FBT_RETEST_EVERY	4
#define FBT_IN_MAX		1024	/* a STUN or REACH answer: far less */
#define FBT_403_FIRST_MS	500	/* not registered yet: the client is at it */
#define FBT_403_MS		8000	/* ... doubling up to this */
#define FBT_429_MS		12000	/* the server's rate: 1 per 6 s */

enum fbt_step {
	FBT_IDLE,		/* waiting: the timer opens or asks again */
	FBT_CONNECT,		/* connecting from the binding's port */
	FBT_QUERY,		/* a Binding request sent on the connection */
	FBT_REACH,		/* a REACH sent: the dial-back is due */
	FBT_KEEP,		/* between keep-alives */
};

struct fbt_binding {
	struct fb_rung		 r;		/* what the status shows */
	uint16_t		 local_port;
	int			 opened;	/* a port chosen, a server's route known */
	int			 lfd;		/* forward mode */		/* listening on local_port */
	struct forward		*fwd;
	int			 cfd;		/* the connection keeping the binding */
	struct loop_fd		 clfd;
	struct timer		 timer;		/* next step, or the answer's deadline */
	int			 step;		/* enum fbt_step */
	size_t			 srv;		/* the server in use */
	size_t			 failed;	/* servers tried in a row without answer */
	int			 reconnects;	/* in a row, none kept */
	int			 fresh;		/* no answer yet on this connection */
	uint64_t		 connected_at;	/* loop_now() it was made */
	uint64_t		 wait_403;	/* the next wait for a registration */
	uint8_t			 tid[STUN_TID_LEN];	/* the Binding request's */
	struct rdv_reach	 reach;		/* the REACH under way */
	int			 reach_on;
	int			 dialled;	/* the nonce was handed to the dial-back */
	uint8_t			 in[FBT_IN_MAX];
	size_t			 nin;
	struct sockaddr_storage	 other;		/* the server's OTHER-ADDRESS */
	unsigned int		 keepalives;	/* since the last test */
};

static struct {
	struct fb_servers	 servers;	/* rendezvous or STUN servers */
	int			 rdv;		/* the servers are rendezvous ones */
	struct rdv_client_id	 id;		/* with rdv: who asks REACH */
	int			 mode;		/* enum conf_fbmode */
	uint32_t		 idle;		/* s; 0: the forwarder's default */
	uint16_t		*ports;		/* int, ext pairs */
	size_t			 nports;
	uint16_t		 port_first, port_last;
	struct fbt_binding	*b;
	size_t			 nb;
	int			 running;
	int			 warned_max;
} fbt;

static void	fbt_open(struct fbt_binding *);
static void	fbt_connect(struct fbt_binding *);

/* ---- reporting ---- */

static void
fbt_report(struct fbt_binding *b, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fbt_report(struct fbt_binding *b, int state, const char *fmt, ...)
{
	uint64_t renew_at = 0;
	va_list ap;

	if (b->step == FBT_KEEP && timer_armed(&b->timer))
		renew_at = loop_now() + timer_remaining(&b->timer);
	va_start(ap, fmt);
	fb_rung_set(&b->r, state, renew_at, "a dial-back from the rendezvous",
	    fmt, ap);
	va_end(ap);
}

static const char *
srv_name(size_t i, char *buf, size_t len)
{
	return fb_servers_name(&fbt.servers, i, buf, len);
}

static int
fbt_next_server(struct fbt_binding *b)
{
	return fb_servers_next(&fbt.servers, &b->srv);
}

/* ---- the connection keeping the binding ---- */

/* Reset it: a reset leaves no TIME_WAIT on the binding's port. */
static void
fbt_drop(struct fbt_binding *b)
{
	if (b->cfd == -1)
		return;
	loop_fd_del(&b->clfd);
	sock_close_reset(b->cfd);
	b->cfd = -1;
	b->nin = 0;
	b->reach_on = 0;
}

static void
fbt_wait(struct fbt_binding *b, int step, uint64_t ms)
{
	b->step = step;
	timer_set(&b->timer, ms);
}

/*
 * The connection is gone or useless (why): made again from the same port
 * at once, from the next server once every server failed, else later.
 * What was proven stays in the status until the new connection says more.
 */
static void
fbt_lost(struct fbt_binding *b, const char *why)
{
	char s[64];

	/* one that lived a keep-alive interval was kept: a first loss */
	if (b->cfd != -1 && b->step != FBT_CONNECT &&
	    loop_now() - b->connected_at >= FALLBACK_TCP_KEEPALIVE_MS)
		b->reconnects = 0;
	fbt_drop(b);
	srv_name(b->srv, s, sizeof(s));
	if (b->reconnects++ == 0) {
		log_info("tcp %u: the connection to %s keeping the binding: %s; "
		    "connecting again", b->r.int_port, s, why);
		fbt_wait(b, FBT_IDLE, 0);
		return;
	}
	log_debug("tcp %u: %s: %s", b->r.int_port, s, why);
	if (++b->failed < fbt.servers.nsrv && fbt_next_server(b) == 0) {
		fbt_wait(b, FBT_IDLE, 0);
		return;
	}
	b->failed = 0;
	(void)fbt_next_server(b);
	/*
	 * A STUN server need not keep connections (coturn resets them
	 * soon): what it said of the binding, and why it stays unproven,
	 * is what the status keeps.
	 */
	if (fbt.rdv ? b->r.state != STATUS_VERIFIED || b->reconnects > 2 :
	    b->r.mapped.ss_family == AF_UNSPEC)
		fbt_report(b, STATUS_UNVERIFIED, "no server kept a connection "
		    "(%s: %s)", s, why);
	fbt_wait(b, FBT_IDLE, FALLBACK_RETRY_MS);
}

static int
fbt_send(struct fbt_binding *b, const uint8_t *buf, size_t len)
{
	ssize_t n;

	n = send(b->cfd, buf, len, MSG_NOSIGNAL);
	if (n == (ssize_t)len)
		return 0;
	fbt_lost(b, n == -1 ? strerror(errno) : "a short send");
	return -1;
}

/* A Binding request on the connection: its endpoint, and a keep-alive. */
static void
fbt_query(struct fbt_binding *b)
{
	uint8_t buf[64];
	int n;

	if (crypto_random(b->tid, sizeof(b->tid)) == -1 ||
	    (n = stun_build_binding(buf, sizeof(buf), b->tid, 0, 1)) == -1) {
		fbt_lost(b, "no random bytes for a transaction ID");
		return;
	}
	if (fbt_send(b, buf, (size_t)n) == 0)
		fbt_wait(b, FBT_QUERY, FALLBACK_TCP_ANSWER_MS);
}

/* Ask the rendezvous to connect to the binding's endpoint. */
static void
fbt_reach(struct fbt_binding *b)
{
	uint8_t buf[512];
	int n;

	n = rdv_client_reach_build(&fbt.id, RDV_TCP, stun_addr_port(&b->r.mapped),
	    rdv_client_wall_ms(), &b->reach, buf, sizeof(buf));
	if (n == -1) {
		fbt_lost(b, "a REACH request could not be made");
		return;
	}
	b->reach_on = 1;
	b->dialled = 0;
	if (fbt_send(b, buf, (size_t)n) == 0)
		fbt_wait(b, FBT_REACH, FALLBACK_TCP_REACH_MS);
}

/* The endpoint is known: prove it, or say why it cannot be. */
static void
fbt_prove(struct fbt_binding *b)
{
	char s[64];

	b->keepalives = 0;
	if (fbt.rdv) {
		fbt_reach(b);
		return;
	}
	fbt_wait(b, FBT_KEEP, FALLBACK_TCP_KEEPALIVE_MS);
	fbt_report(b, STATUS_UNVERIFIED, "only a dial-back can prove a TCP "
	    "binding reachable: STUN server %s cannot (a rendezvous server "
	    "can)", srv_name(b->srv, s, sizeof(s)));
}

static void
fbt_binding_answer(struct fbt_binding *b, const struct stun_msg *m)
{
	const struct sockaddr_storage *mapped = stun_msg_mapped(m);
	char s[64], old[64], now[64];
	int changed;

	srv_name(b->srv, s, sizeof(s));
	if (m->cls != STUN_SUCCESS || mapped == NULL ||
	    mapped->ss_family != AF_INET) {
		char why[200];

		if (m->cls == STUN_ERROR)
			snprintf(why, sizeof(why), "error %d %s", m->error_code,
			    m->error_reason);
		else
			snprintf(why, sizeof(why), "no IPv4 address in the "
			    "answer");
		b->reconnects = 1;	/* another server, or later */
		fbt_lost(b, why);
		return;
	}
	b->failed = 0;
	/*
	 * A connection counts as kept from its second answer on (or once it
	 * lived a keep-alive interval: fbt_lost): a server that closes every
	 * connection at once (a STUN server not meant to hold them) is asked
	 * again only after FALLBACK_RETRY_MS.
	 */
	if (!b->fresh)
		b->reconnects = 0;
	changed = b->r.mapped.ss_family != AF_UNSPEC &&
	    !stun_addr_eq(&b->r.mapped, mapped);
	if (changed)
		log_info("tcp %u: the binding moved from %s to %s", b->r.int_port,
		    stun_addr_str(&b->r.mapped, old, sizeof(old)),
		    stun_addr_str(mapped, now, sizeof(now)));
	b->r.mapped = *mapped;
	b->other = m->other;
	/* a new connection is a new binding on the NAT: proven again */
	if (changed || b->fresh || b->r.state == -1 ||
	    (b->r.state != STATUS_VERIFIED &&
	    ++b->keepalives >= FBT_RETEST_EVERY)) {
		b->fresh = 0;
		fbt_prove(b);
		return;
	}
	fbt_wait(b, FBT_KEEP, FALLBACK_TCP_KEEPALIVE_MS);
	fbt_report(b, b->r.state, "%s", b->r.error);
}

static void
fbt_reach_answer(struct fbt_binding *b, const struct rdv_client_answer *a)
{
	char ep[64], s[64];

	b->reach_on = 0;
	if (a->error_code != 403)
		b->wait_403 = 0;
	stun_addr_str(&b->r.mapped, ep, sizeof(ep));
	srv_name(b->srv, s, sizeof(s));
	/*
	 * Forward mode: only the nonce read back proves it.  Bind mode: the
	 * service, not natmapd, answered the dial-back; a connection made
	 * from the server's other address is the proof.
	 */
	if (a->ok || (fbt.mode == CONF_FBMODE_BIND &&
	    rdv_client_reach_verdict(a) == RDV_REACH_CONNECTED)) {
		fbt_wait(b, FBT_KEEP, FALLBACK_TCP_KEEPALIVE_MS);
		fbt_report(b, STATUS_VERIFIED, NULL);
		return;
	}
	switch (a->error_code) {
	case 403:	/* the node's REGISTER has not reached it yet */
		b->wait_403 = b->wait_403 == 0 ? FBT_403_FIRST_MS :
		    b->wait_403 * 2 > FBT_403_MS ? FBT_403_MS : b->wait_403 * 2;
		fbt_wait(b, FBT_KEEP, b->wait_403);
		b->keepalives = FBT_RETEST_EVERY;
		if (b->r.state != STATUS_VERIFIED)
			fbt_report(b, STATUS_UNVERIFIED, "waiting to be "
			    "registered with %s to be dialled back", s);
		return;
	case 429:
		fbt_wait(b, FBT_KEEP, FBT_429_MS);
		b->keepalives = FBT_RETEST_EVERY;
		return;
	case 404:	/* the dial-back failed: a.reason says how */
		fbt_wait(b, FBT_KEEP, FALLBACK_TCP_KEEPALIVE_MS);
		fbt_report(b, STATUS_FILTERED, "the dial-back to %s: %s; the "
		    "NAT admits only hosts it sent to: hole punching or a relay "
		    "would be needed", ep, a->reason);
		return;
	default:
		fbt_wait(b, FBT_KEEP, FALLBACK_TCP_KEEPALIVE_MS);
		fbt_report(b, STATUS_UNVERIFIED, "the rendezvous %s cannot "
		    "dial back: %d %s", s, a->error_code, a->reason);
		return;
	}
}

/* One whole message from the server. */
static void
fbt_message(struct fbt_binding *b, const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	struct rdv_client_answer a;
	const char *why = NULL;
	int r;

	/* rdv_client_reach_check() takes only a REACH answer among them */
	if (b->reach_on && rdv_is_rdv(buf, len)) {
		r = rdv_client_reach_check(&fbt.id, &b->reach, buf, len,
		    rdv_client_wall_ms(), &a, &why);
		if (r == -1) {
			log_debug("tcp %u: a REACH answer dropped: %s",
			    b->r.int_port, why);
			return;
		}
		fbt_reach_answer(b, &a);
		return;
	}
	if (stun_parse(buf, len, &m, &why) == -1) {
		log_debug("tcp %u: a message dropped: %s", b->r.int_port, why);
		return;
	}
	if (m.method != STUN_BINDING || m.cls == STUN_REQUEST ||
	    m.cls == STUN_INDICATION || b->step != FBT_QUERY ||
	    memcmp(m.tid, b->tid, sizeof(b->tid)) != 0) {
		log_debug("tcp %u: a message that answers nothing asked, "
		    "dropped", b->r.int_port);
		return;
	}
	fbt_binding_answer(b, &m);
}

static void
fbt_read(struct fbt_binding *b)
{
	ssize_t n;
	int flen, cfd = b->cfd;
	size_t off;

	n = recv(b->cfd, b->in + b->nin, sizeof(b->in) - b->nin, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		fbt_lost(b, n == 0 ? "closed by the server" : strerror(errno));
		return;
	}
	b->nin += (size_t)n;
	off = 0;
	/* each message may reset the connection: stop when it did */
	while (b->cfd == cfd && b->nin - off >= STUN_HDR_LEN) {
		flen = stun_frame_len(b->in + off, b->nin - off);
		if (flen == -1 || (size_t)flen > sizeof(b->in)) {
			fbt_lost(b, "not STUN framing");
			return;
		}
		if ((size_t)flen > b->nin - off)
			break;
		fbt_message(b, b->in + off, (size_t)flen);
		off += (size_t)flen;
	}
	if (b->cfd != cfd)
		return;
	memmove(b->in, b->in + off, b->nin - off);
	b->nin -= off;
}

static void
fbt_io(struct loop_fd *lf, int ev)
{
	struct fbt_binding *b = container_of(lf, struct fbt_binding, clfd);
	int err = 0;
	socklen_t len = sizeof(err);

	if (b->step == FBT_CONNECT) {
		if (!(ev & LOOP_WRITE))
			return;
		if (getsockopt(b->cfd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			fbt_lost(b, strerror(err));
			return;
		}
		loop_fd_events(&b->clfd, LOOP_READ);
		b->fresh = 1;
		b->connected_at = loop_now();
		fbt_query(b);
		return;
	}
	if (ev & LOOP_READ)
		fbt_read(b);
}

static int
fbt_reuse(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1 ? -1 : 0;
}

/* Connect from the binding's port to the server. */
static void
fbt_connect(struct fbt_binding *b)
{
	struct sockaddr_in sin;

	b->cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (b->cfd == -1) {
		fbt_lost(b, strerror(errno));
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = b->r.local;
	sin.sin_port = htons(b->local_port);
	b->nin = 0;
	loop_fd_add(&b->clfd, b->cfd, LOOP_WRITE, fbt_io);
	if (fbt_reuse(b->cfd) == -1 ||
	    bind(b->cfd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (fbt.mode == CONF_FBMODE_BIND && errno == EADDRINUSE) {
			fbt_drop(b);
			fbt_report(b, STATUS_UNVERIFIED, "fallback-mode bind: "
			    "the service must listen on port %u with "
			    "SO_REUSEPORT (and as the same user)",
			    b->local_port);
			fbt_wait(b, FBT_IDLE, FALLBACK_RETRY_MS);
			return;
		}
		fbt_lost(b, strerror(errno));
		return;
	}
	if (connect(b->cfd, (struct sockaddr *)&fbt.servers.addr[b->srv],
	    sizeof(struct sockaddr_in)) == -1 && errno != EINPROGRESS) {
		fbt_lost(b, strerror(errno));
		return;
	}
	fbt_wait(b, FBT_CONNECT, FALLBACK_TCP_ANSWER_MS);
}

static void
fbt_timer(struct timer *t)
{
	struct fbt_binding *b = container_of(t, struct fbt_binding, timer);

	switch (b->step) {
	case FBT_IDLE:
		if (!b->opened)
			fbt_open(b);
		else if (b->cfd == -1)
			fbt_connect(b);
		break;
	case FBT_CONNECT:
		fbt_lost(b, "no connection in time");
		break;
	case FBT_QUERY:
		fbt_lost(b, "no answer to a Binding request in time");
		break;
	case FBT_REACH:
		fbt_lost(b, "no answer to a REACH in time");
		break;
	case FBT_KEEP:
		if (b->cfd == -1)
			fbt_connect(b);
		else if (b->keepalives >= FBT_RETEST_EVERY &&
		    b->r.state != STATUS_VERIFIED && b->r.mapped.ss_family != 0)
			fbt_prove(b);
		else
			fbt_query(b);
		break;
	}
}

/* ---- the listener: connections forwarded, or the dial-back answered ---- */

static int
fbt_accept(void *arg, int fd, const struct sockaddr *from, socklen_t fromlen)
{
	struct fbt_binding *b = arg;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)from;
	const struct sockaddr_in *oth;
	char who[64];

	if (!b->reach_on || b->dialled || fromlen < sizeof(*sin) ||
	    from->sa_family != AF_INET || b->other.ss_family != AF_INET)
		return 0;
	oth = (const struct sockaddr_in *)(const void *)&b->other;
	if (sin->sin_addr.s_addr != oth->sin_addr.s_addr)
		return 0;
	/* the server's other address: 16 bytes fit any socket buffer */
	b->dialled = 1;
	if (send(fd, b->reach.nonce, sizeof(b->reach.nonce), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(b->reach.nonce))
		log_debug("tcp %u: the dial-back from %s: %s", b->r.int_port,
		    inet_ntop(AF_INET, &sin->sin_addr, who, sizeof(who)),
		    strerror(errno));
	close(fd);
	return 1;
}

/* Is port free of every socket, TIME_WAIT ones too? Then 0. */
static int
fbt_port_free(uint16_t port)
{
	struct sockaddr_in sin;
	int fd, r;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return r;
}

/* A listening socket on a free port of the range: 0, or -1. */
static int
fbt_listen(struct fbt_binding *b)
{
	struct sockaddr_in sin;
	unsigned int span = (unsigned int)(fbt.port_last - fbt.port_first) + 1;
	int i, tries = span < 32 ? (int)span * 2 : 32;

	for (i = 0; i < tries; i++) {
		b->local_port = (uint16_t)(fbt.port_first + loop_random(span));
		if (fbt_port_free(b->local_port) == -1)
			continue;
		b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (b->lfd == -1)
			return -1;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(b->local_port);
		if (fbt_reuse(b->lfd) == 0 &&
		    bind(b->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    listen(b->lfd, 16) == 0)
			return 0;
		close(b->lfd);
		b->lfd = -1;
	}
	errno = EADDRINUSE;
	return -1;
}

static void
fbt_close(struct fbt_binding *b)
{
	timer_stop(&b->timer);
	fbt_drop(b);
	if (b->fwd != NULL)
		forward_free(b->fwd);
	b->fwd = NULL;
	if (b->lfd != -1)
		close(b->lfd);
	b->lfd = -1;
	b->opened = 0;
}

/* The listener and its forwarder, then the connection. */
static void
fbt_open(struct fbt_binding *b)
{
	struct forward_opts fo;
	struct sockaddr_in target;
	char name[32];

	if (fbt_next_server(b) == -1) {
		fbt_report(b, STATUS_UNVERIFIED, "no server's address is known");
		return;		/* fbt.servers resolves them again */
	}
	if (fb_local_toward(&fbt.servers.addr[b->srv], &b->r.local) == -1) {
		fbt_report(b, STATUS_UNVERIFIED, "no route to %s: %s",
		    srv_name(b->srv, name, sizeof(name)), strerror(errno));
		fbt_wait(b, FBT_IDLE, FALLBACK_RETRY_MS);
		return;
	}
	if (fbt.mode == CONF_FBMODE_BIND) {
		/* the service's port: it answers what comes in itself */
		b->local_port = b->r.int_port;
		b->opened = 1;
		log_debug("tcp %u: keeping a binding from the service's port",
		    b->r.int_port);
		fbt_connect(b);
		return;
	}
	if (fbt_listen(b) == -1) {
		fbt_report(b, STATUS_UNVERIFIED, "no local port for the "
		    "binding: %s", strerror(errno));
		fbt_wait(b, FBT_IDLE, FALLBACK_RETRY_MS);
		return;
	}
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_addr = b->r.local;
	target.sin_port = htons(b->r.int_port);
	memset(&fo, 0, sizeof(fo));
	fo.max_conns = FALLBACK_TCP_CONNS;
	fo.idle_ms = (uint64_t)fbt.idle * 1000;		/* 0: the default */
	fo.accept_cb = fbt_accept;
	fo.arg = b;
	snprintf(name, sizeof(name), "tcp %u", b->local_port);
	fo.name = name;
	if ((b->fwd = forward_tcp_new(b->lfd, (struct sockaddr *)&target,
	    sizeof(target), &fo)) == NULL) {
		fbt_report(b, STATUS_UNVERIFIED, "forwarder: %s",
		    strerror(errno));
		fbt_close(b);
		fbt_wait(b, FBT_IDLE, FALLBACK_RETRY_MS);
		return;
	}
	b->opened = 1;
	log_debug("tcp %u: keeping a binding from local port %u",
	    b->r.int_port, b->local_port);
	fbt_connect(b);
}

/* ---- servers and the whole ---- */

static void
fbt_open_all(void)
{
	size_t i;

	for (i = 0; i < fbt.nb; i++)
		if (!fbt.b[i].opened && !timer_armed(&fbt.b[i].timer))
			fbt_open(&fbt.b[i]);
}

/*
 * The rendezvous servers when a network and key are set (they can dial
 * back), else the STUN servers.  Kept bindings stay when nothing they
 * use changed.
 */
void
fallback_tcp_configure(const struct config *conf)
{
	const struct conf_server *srv;
	struct rdv_client_id id;
	size_t nsrv, nports;
	uint16_t *ports, first, last;
	int rdv;

	rdv = conf->nrdv > 0 && conf->have_key && conf->network != NULL &&
	    conf->node != NULL;
	memset(&id, 0, sizeof(id));
	if (rdv)
		rdv_client_id_init(&id, conf->network, conf->node, conf->key);
	srv = rdv ? conf->rdv : conf->stun;
	nsrv = rdv ? conf->nrdv : conf->nstun;
	first = conf->fb_port_first != 0 ? conf->fb_port_first :
	    FALLBACK_PORT_FIRST;
	last = conf->fb_port_last != 0 ? conf->fb_port_last :
	    FALLBACK_PORT_LAST;
	ports = fb_ports(conf, CONF_TCP, &nports, &fbt.warned_max);
	if (rdv == fbt.rdv && conf->fb_mode == fbt.mode &&
	    conf->fb_idle == fbt.idle &&
	    fb_servers_same(&fbt.servers, srv, nsrv) &&
	    nports == fbt.nports && first == fbt.port_first &&
	    last == fbt.port_last && crypto_equal(&id, &fbt.id, sizeof(id)) &&
	    (nports == 0 || memcmp(ports, fbt.ports, nports * 2 *
	    sizeof(uint16_t)) == 0)) {
		free(ports);
		rdv_client_id_wipe(&id);
		return;
	}
	fallback_tcp_stop();
	rdv_client_id_wipe(&fbt.id);
	fbt.id = id;
	rdv_client_id_wipe(&id);
	fbt.rdv = rdv;
	fbt.mode = conf->fb_mode;
	fbt.idle = conf->fb_idle;
	fb_servers_set(&fbt.servers, srv, nsrv, SOCK_STREAM,
	    rdv ? "rendezvous" : "STUN server", fbt_open_all);
	fbt.port_first = first;
	fbt.port_last = last;
	free(fbt.ports);
	fbt.ports = ports;
	fbt.nports = nports;
}

void
fallback_tcp_start(void)
{
	size_t i;

	if (fbt.running || fbt.servers.nsrv == 0 || fbt.nports == 0)
		return;
	if ((fbt.b = calloc(fbt.nports, sizeof(*fbt.b))) == NULL) {
		log_warn("fallback");
		return;
	}
	fbt.running = 1;
	fbt.nb = fbt.nports;
	for (i = 0; i < fbt.nb; i++) {
		struct fbt_binding *b = &fbt.b[i];

		b->r.proto = DRV_TCP;
		b->r.int_port = fbt.ports[2 * i];
		b->r.ext_want = fbt.ports[2 * i + 1];
		b->lfd = -1;
		b->cfd = -1;
		b->r.state = -1;
		b->step = FBT_IDLE;
		b->srv = fbt.servers.nsrv - 1;	/* fbt_next_server starts at 0 */
		timer_init(&b->timer, fbt_timer);
	}
	fb_servers_resolve(&fbt.servers);
}

void
fallback_tcp_stop(void)
{
	size_t i;

	fb_servers_cancel(&fbt.servers);
	for (i = 0; i < fbt.nb; i++) {
		fbt_close(&fbt.b[i]);
		fb_rung_remove(&fbt.b[i].r);
	}
	free(fbt.b);
	fbt.b = NULL;
	fbt.nb = 0;
	fbt.running = 0;
}

size_t
fallback_tcp_recheck(void)
{
	size_t i, n = 0;

	for (i = 0; i < fbt.nb; i++)
		if (fbt.b[i].step == FBT_KEEP && fbt.b[i].cfd != -1) {
			timer_set(&fbt.b[i].timer, 0);
			n++;
		}
	return n;
}

size_t
fallback_tcp_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < fbt.nb; i++)
		if (fbt.b[i].cfd != -1)
			n++;
	return n;
}
