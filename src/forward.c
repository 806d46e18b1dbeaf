/* SPDX-License-Identifier: ISC */
/* The built-in forwarder: TCP connections copied both ways, UDP sessions by remote endpoint. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "log.h"
#include "loop.h"
#include "osdep.h"
#include "sock.h"
#include "stun-msg.h"

#define FWD_ACCEPT_BURST	16	/* connections taken a wake-up */
#define FWD_UDP_BURST		64	/* datagrams read from a socket a wake-up */
#define FWD_PAUSE_MS		1000	/* no accept() this long after EMFILE */
#define FWD_DGRAM_MAX		65536

/*
 * One way of a TCP connection: what was read from one side and not yet
 * written to the other, at buf[off, off + len), or in pipe (splice:
 * then len counts what the pipe holds).  eof: the reading side sent its
 * FIN; shut: the FIN was passed on (shutdown(SHUT_WR)).  blocked: the
 * pipe took no more though it holds less than the buffer size (it counts
 * pages, not bytes): no reading until something has been written.
 */
struct fwd_dir {
	uint8_t		*buf;
	size_t		 off, len;
	int		 pipe[2];
	int		 eof;
	int		 shut;
	int		 blocked;
};

/*
 * What FORWARD_COPY_AUTO means.  Measured with bench/forward.sh (1 GiB over
 * loopback, Linux 6.18, 2 cores): the forwarder took 0.58 CPU seconds per
 * GiB with recv()/send() and 0.61 with splice(), which also costs 4 more
 * descriptors per connection: not worth it there.
 */
#define FWD_COPY_DEFAULT	FORWARD_COPY_RW

/*
 * A TCP connection: cl is the accepted socket, up the one to the target.
 * The timer is the connect timeout until the target answers, then the
 * idle timeout, re-armed from last when it fires (not on every read).
 */
struct fwd_conn {
	struct forward		*fw;
	struct fwd_conn		*prev, *next;
	struct loop_fd		 cl, up;
	struct timer		 timer;
	int			 connected;
	uint64_t		 last;		/* loop_now() of the last byte moved */
	struct fwd_dir		 c2u, u2c;
};

/*
 * A UDP session: the remote endpoint and a socket connected to the
 * target.  On the LRU list (head: most recently used) and in a hash
 * chain.
 */
struct fwd_sess {
	struct forward		*fw;
	struct fwd_sess		*hnext;
	struct fwd_sess		*lprev, *lnext;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct loop_fd		 lfd;
	uint64_t		 last;
};

struct forward {
	int			 type;		/* SOCK_STREAM, SOCK_DGRAM */
	int			 fd;		/* the caller's */
	struct loop_fd		 lfd;
	struct timer		 timer;		/* TCP: accept pause; UDP: expiry */
	struct sockaddr_storage	 target;
	socklen_t		 targetlen;
	struct forward_opts	 o;
	char			 name[64];
	struct forward_stats	 st;
	struct fwd_conn		*conns;
	struct fwd_sess		**hash;
	size_t			 hmask;
	uint32_t		 hseed;
	struct fwd_sess		*lru_head, *lru_tail;
	uint8_t			*dgram;
};

static int
fwd_init(struct forward *fw, int type, int fd, const struct sockaddr *target,
    socklen_t targetlen, const struct forward_opts *opts)
{
	if (target == NULL || targetlen > sizeof(fw->target) ||
	    (target->sa_family == AF_INET &&
	    targetlen < sizeof(struct sockaddr_in)) ||
	    (target->sa_family == AF_INET6 &&
	    targetlen < sizeof(struct sockaddr_in6)) ||
	    (target->sa_family != AF_INET && target->sa_family != AF_INET6)) {
		errno = EINVAL;
		return -1;
	}
	if (sock_nonblock(fd) == -1)
		return -1;
	fw->type = type;
	fw->fd = fd;
	memcpy(&fw->target, target, targetlen);
	fw->targetlen = targetlen;
	if (opts != NULL)
		fw->o = *opts;
	if (fw->o.idle_ms == 0)
		fw->o.idle_ms = type == SOCK_STREAM ? FORWARD_TCP_IDLE_MS :
		    FORWARD_UDP_IDLE_MS;
	if (fw->o.connect_ms == 0)
		fw->o.connect_ms = FORWARD_CONNECT_MS;
	if (fw->o.max_conns == 0)
		fw->o.max_conns = type == SOCK_STREAM ? FORWARD_TCP_MAX :
		    FORWARD_UDP_MAX;
	if (fw->o.bufsize == 0)
		fw->o.bufsize = FORWARD_BUFSIZE;
	if (fw->o.copy == FORWARD_COPY_AUTO)
		fw->o.copy = FWD_COPY_DEFAULT;
	snprintf(fw->name, sizeof(fw->name), "forward %s",
	    fw->o.name != NULL ? fw->o.name : type == SOCK_STREAM ? "tcp" :
	    "udp");
	fw->o.name = NULL;		/* not kept: the caller's string */
	return 0;
}

static void
set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Watch lf for ev; with nothing to wait for, not at all (poll would report a hang-up forever). */
static void
watch(struct loop_fd *lf, int ev, void (*cb)(struct loop_fd *, int))
{
	if (ev == 0)
		loop_fd_del(lf);
	else if (!lf->added)
		loop_fd_add(lf, lf->fd, ev, cb);
	else
		loop_fd_events(lf, ev);
}

/* ---- TCP ---- */

static void	conn_cl_cb(struct loop_fd *, int);
static void	conn_up_cb(struct loop_fd *, int);
static void	tcp_listen(struct forward *);

static void
conn_pipes_close(struct fwd_conn *c)
{
	if (c->c2u.pipe[0] == -1)
		return;
	close(c->c2u.pipe[0]);
	close(c->c2u.pipe[1]);
	close(c->u2c.pipe[0]);
	close(c->u2c.pipe[1]);
}

static void
conn_end(struct fwd_conn *c, int reset)
{
	struct forward *fw = c->fw;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		fw->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	fw->st.active--;
	timer_stop(&c->timer);
	loop_fd_del(&c->cl);
	loop_fd_del(&c->up);
	if (reset) {
		sock_close_reset(c->cl.fd);
		sock_close_reset(c->up.fd);
	} else {
		close(c->cl.fd);
		close(c->up.fd);
	}
	free(c->c2u.buf);		/* u2c.buf is in the same block */
	conn_pipes_close(c);
	free(c);
}

static void
conn_events(struct fwd_conn *c)
{
	struct forward *fw = c->fw;
	int ev;

	ev = 0;
	if (!c->c2u.eof && !c->c2u.blocked && c->c2u.len < fw->o.bufsize)
		ev |= LOOP_READ;
	if (c->u2c.len > 0)
		ev |= LOOP_WRITE;
	watch(&c->cl, ev, conn_cl_cb);
	ev = 0;
	if (!c->connected)
		ev = LOOP_WRITE;
	else {
		if (!c->u2c.eof && !c->u2c.blocked &&
		    c->u2c.len < fw->o.bufsize)
			ev |= LOOP_READ;
		if (c->c2u.len > 0)
			ev |= LOOP_WRITE;
	}
	watch(&c->up, ev, conn_up_cb);
}

/* One read from fd into d: 0, or -1 on an error or a reset. */
static int
dir_read(struct fwd_conn *c, struct fwd_dir *d, int fd)
{
	size_t cap = c->fw->o.bufsize;
	ssize_t n;

	if (d->eof || d->blocked || d->len >= cap)
		return 0;
	if (d->pipe[0] != -1) {
		n = osdep_splice(fd, d->pipe[1], cap - d->len);
		if (n > 0) {
			d->len += (size_t)n;
			c->last = loop_now();
		} else if (n == 0)
			d->eof = 1;
		else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* with something in the pipe, it may be the pipe that is full */
			if (d->len > 0)
				d->blocked = 1;
		} else if (errno != EINTR)
			return -1;
		return 0;
	}
	if (d->off + d->len == cap) {
		memmove(d->buf, d->buf + d->off, d->len);
		d->off = 0;
	}
	n = recv(fd, d->buf + d->off + d->len, cap - d->off - d->len, 0);
	if (n > 0) {
		d->len += (size_t)n;
		c->last = loop_now();
	} else if (n == 0)
		d->eof = 1;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	return 0;
}

/* One write of d to fd, then the FIN if it is due: 0, or -1. */
static int
dir_write(struct fwd_conn *c, struct fwd_dir *d, int fd, uint64_t *bytes)
{
	ssize_t n;

	if (d->len > 0) {
		if (d->pipe[0] != -1)
			n = osdep_splice(d->pipe[0], fd, d->len);
		else
			n = send(fd, d->buf + d->off, d->len, MSG_NOSIGNAL);
		if (n > 0) {
			d->blocked = 0;
			d->off += (size_t)n;
			d->len -= (size_t)n;
			*bytes += (uint64_t)n;
			c->last = loop_now();
			if (d->len == 0)
				d->off = 0;
		} else if (n == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR)
			return -1;
	}
	if (d->len == 0 && d->eof && !d->shut) {
		if (shutdown(fd, SHUT_WR) == -1 && errno != ENOTCONN)
			return -1;
		d->shut = 1;
	}
	return 0;
}

/* After some I/O: end the connection if it is over, else watch what is next. */
static void
conn_after(struct fwd_conn *c, int failed)
{
	if (failed) {
		log_debug("%s: connection reset or failed: %s", c->fw->name,
		    strerror(errno));
		conn_end(c, 1);
	} else if (c->c2u.shut && c->u2c.shut)
		conn_end(c, 0);
	else
		conn_events(c);
}

static void
conn_cl_cb(struct loop_fd *lf, int ev)
{
	struct fwd_conn *c = container_of(lf, struct fwd_conn, cl);
	int failed = 0;

	if ((ev & LOOP_READ) && dir_read(c, &c->c2u, c->cl.fd) == -1)
		failed = 1;
	/* what was read goes on at once, if the target takes it */
	if (!failed && c->connected &&
	    dir_write(c, &c->c2u, c->up.fd, &c->fw->st.bytes_in) == -1)
		failed = 1;
	if (!failed && (ev & LOOP_WRITE) &&
	    dir_write(c, &c->u2c, c->cl.fd, &c->fw->st.bytes_out) == -1)
		failed = 1;
	conn_after(c, failed);
}

static void
conn_connected(struct fwd_conn *c)
{
	c->connected = 1;
	c->last = loop_now();
	timer_set(&c->timer, c->fw->o.idle_ms);
	log_debug("%s: connected to the target (%llu now)", c->fw->name,
	    (unsigned long long)c->fw->st.active);
}

static void
conn_failed(struct fwd_conn *c, int err)
{
	c->fw->st.failed++;
	log_debug("%s: the target: %s", c->fw->name, strerror(err));
	conn_end(c, 1);
}

static void
conn_up_cb(struct loop_fd *lf, int ev)
{
	struct fwd_conn *c = container_of(lf, struct fwd_conn, up);
	socklen_t len = sizeof(int);
	int err = 0, failed = 0;

	if (!c->connected) {
		if (getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			conn_failed(c, err);
			return;
		}
		conn_connected(c);
		ev = LOOP_WRITE;
	}
	if ((ev & LOOP_READ) && dir_read(c, &c->u2c, c->up.fd) == -1)
		failed = 1;
	if (!failed &&
	    dir_write(c, &c->u2c, c->cl.fd, &c->fw->st.bytes_out) == -1)
		failed = 1;
	if (!failed && (ev & LOOP_WRITE) &&
	    dir_write(c, &c->c2u, c->up.fd, &c->fw->st.bytes_in) == -1)
		failed = 1;
	conn_after(c, failed);
}

static void
conn_timer_cb(struct timer *t)
{
	struct fwd_conn *c = container_of(t, struct fwd_conn, timer);
	uint64_t now = loop_now();

	if (!c->connected) {
		conn_failed(c, ETIMEDOUT);
		return;
	}
	if (now - c->last < c->fw->o.idle_ms) {
		timer_set_at(&c->timer, c->last + c->fw->o.idle_ms);
		return;
	}
	c->fw->st.idle++;
	log_debug("%s: idle for %llu s: closed", c->fw->name,
	    (unsigned long long)(c->fw->o.idle_ms / 1000));
	conn_end(c, 0);
}

/* Start forwarding the accepted socket fd. */
static void
conn_start(struct forward *fw, int fd)
{
	struct fwd_conn *c;
	int up;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("%s: out of memory for a connection", fw->name);
		fw->st.drops++;
		sock_close_reset(fd);
		return;
	}
	c->c2u.pipe[0] = c->c2u.pipe[1] = c->u2c.pipe[0] = c->u2c.pipe[1] = -1;
	if (fw->o.copy == FORWARD_COPY_SPLICE &&
	    osdep_pipe(c->c2u.pipe, fw->o.bufsize) == 0 &&
	    osdep_pipe(c->u2c.pipe, fw->o.bufsize) == -1) {
		close(c->c2u.pipe[0]);
		close(c->c2u.pipe[1]);
		c->c2u.pipe[0] = c->c2u.pipe[1] = -1;
	}
	if (c->c2u.pipe[0] == -1 &&
	    (c->c2u.buf = malloc(2 * fw->o.bufsize)) == NULL) {
		free(c);
		log_warnx("%s: out of memory for a connection", fw->name);
		fw->st.drops++;
		sock_close_reset(fd);
		return;
	}
	if (c->c2u.buf != NULL)
		c->u2c.buf = c->c2u.buf + fw->o.bufsize;
	else
		fw->st.spliced++;
	if ((up = socket(fw->target.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", fw->name);
		fw->st.drops++;
		free(c->c2u.buf);
		conn_pipes_close(c);
		free(c);
		sock_close_reset(fd);
		return;
	}
	c->fw = fw;
	c->cl.fd = fd;
	c->up.fd = up;
	c->last = loop_now();
	timer_init(&c->timer, conn_timer_cb);
	c->next = fw->conns;
	if (fw->conns != NULL)
		fw->conns->prev = c;
	fw->conns = c;
	fw->st.active++;
	fw->st.accepted++;
	set_nodelay(fd);
	set_nodelay(up);
	if (connect(up, (struct sockaddr *)&fw->target, fw->targetlen) == 0)
		conn_connected(c);
	else if (errno == EINPROGRESS)
		timer_set(&c->timer, fw->o.connect_ms);
	else {
		conn_failed(c, errno);
		return;
	}
	conn_events(c);
}

static void
tcp_pause_cb(struct timer *t)
{
	tcp_listen(container_of(t, struct forward, timer));
}

static void
tcp_accept_cb(struct loop_fd *lf, int ev)
{
	struct forward *fw = container_of(lf, struct forward, lfd);
	struct sockaddr_storage ss;
	socklen_t sl;
	int i, fd;

	(void)ev;
	for (i = 0; i < FWD_ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		fd = accept4(fw->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* EMFILE and the like: the backlog waits a while */
			log_warn("%s: accept (paused %d ms)", fw->name,
			    FWD_PAUSE_MS);
			fw->st.drops++;
			loop_fd_del(&fw->lfd);
			timer_set(&fw->timer, FWD_PAUSE_MS);
			break;
		}
		if (fw->o.accept_cb != NULL && fw->o.accept_cb(fw->o.arg, fd,
		    (struct sockaddr *)&ss, sl))
			continue;
		if (fw->st.active >= fw->o.max_conns) {
			fw->st.refused++;
			log_debug("%s: %zu connections: one more refused",
			    fw->name, fw->o.max_conns);
			sock_close_reset(fd);
			continue;
		}
		conn_start(fw, fd);
	}
}

static void
tcp_listen(struct forward *fw)
{
	loop_fd_add(&fw->lfd, fw->fd, LOOP_READ, tcp_accept_cb);
}

struct forward *
forward_tcp_new(int fd, const struct sockaddr *target, socklen_t targetlen,
    const struct forward_opts *opts)
{
	struct forward *fw;

	if ((fw = calloc(1, sizeof(*fw))) == NULL)
		return NULL;
	if (fwd_init(fw, SOCK_STREAM, fd, target, targetlen, opts) == -1) {
		free(fw);
		return NULL;
	}
	timer_init(&fw->timer, tcp_pause_cb);
	tcp_listen(fw);
	return fw;
}

/* ---- UDP ---- */

static void	sess_cb(struct loop_fd *, int);

/* The hash of an endpoint (address and port; the seed is random). */
static size_t
sess_hash(const struct forward *fw, const struct sockaddr *sa)
{
	const uint8_t *p;
	size_t i, n;
	uint32_t h = 2166136261u ^ fw->hseed;
	uint16_t port;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		p = s6->sin6_addr.s6_addr;
		n = 16;
		port = s6->sin6_port;
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		p = (const uint8_t *)&s4->sin_addr;
		n = 4;
		port = s4->sin_port;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h & fw->hmask;
}

static int
sess_match(const struct fwd_sess *s, const struct sockaddr *sa)
{
	if (s->peer.ss_family != sa->sa_family)
		return 0;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&s->peer;
		const struct sockaddr_in6 *b = (const void *)sa;

		return a->sin6_port == b->sin6_port &&
		    a->sin6_scope_id == b->sin6_scope_id &&
		    memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0;
	} else {
		const struct sockaddr_in *a = (const void *)&s->peer;
		const struct sockaddr_in *b = (const void *)sa;

		return a->sin_port == b->sin_port &&
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
}

static void
lru_unlink(struct forward *fw, struct fwd_sess *s)
{
	if (s->lprev != NULL)
		s->lprev->lnext = s->lnext;
	else
		fw->lru_head = s->lnext;
	if (s->lnext != NULL)
		s->lnext->lprev = s->lprev;
	else
		fw->lru_tail = s->lprev;
	s->lprev = s->lnext = NULL;
}

static void
lru_push(struct forward *fw, struct fwd_sess *s)
{
	s->lnext = fw->lru_head;
	s->lprev = NULL;
	if (fw->lru_head != NULL)
		fw->lru_head->lprev = s;
	fw->lru_head = s;
	if (fw->lru_tail == NULL)
		fw->lru_tail = s;
}

static void
sess_end(struct fwd_sess *s)
{
	struct forward *fw = s->fw;
	struct fwd_sess **p;

	for (p = &fw->hash[sess_hash(fw, (struct sockaddr *)&s->peer)];
	    *p != NULL; p = &(*p)->hnext) {
		if (*p == s) {
			*p = s->hnext;
			break;
		}
	}
	lru_unlink(fw, s);
	loop_fd_del(&s->lfd);
	close(s->lfd.fd);
	fw->st.active--;
	free(s);
}

/* Something moved: the session is the most recently used; the expiry timer runs. */
static void
sess_touch(struct fwd_sess *s)
{
	struct forward *fw = s->fw;

	s->last = loop_now();
	if (fw->lru_head != s) {
		lru_unlink(fw, s);
		lru_push(fw, s);
	}
	if (!timer_armed(&fw->timer))
		timer_set_at(&fw->timer, fw->lru_tail->last + fw->o.idle_ms);
}

/* The oldest sessions first, up to the first one still in use. */
static void
udp_expire_cb(struct timer *t)
{
	struct forward *fw = container_of(t, struct forward, timer);
	uint64_t now = loop_now();
	struct fwd_sess *s;

	while ((s = fw->lru_tail) != NULL && now - s->last >= fw->o.idle_ms) {
		fw->st.idle++;
		sess_end(s);
	}
	if (s != NULL)
		timer_set_at(&fw->timer, s->last + fw->o.idle_ms);
}

static struct fwd_sess *
sess_new(struct forward *fw, const struct sockaddr *sa, socklen_t sl,
    size_t h)
{
	struct fwd_sess *s;
	int fd;

	if (fw->st.active >= fw->o.max_conns && fw->lru_tail != NULL) {
		fw->st.evicted++;
		log_debug("%s: %zu sessions: the least recently used ends",
		    fw->name, fw->o.max_conns);
		sess_end(fw->lru_tail);
	}
	if ((fd = socket(fw->target.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", fw->name);
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&fw->target, fw->targetlen) == -1) {
		log_warn("%s: connect to the target", fw->name);
		close(fd);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warnx("%s: out of memory for a session", fw->name);
		close(fd);
		return NULL;
	}
	s->fw = fw;
	memcpy(&s->peer, sa, sl);
	s->peerlen = sl;
	s->hnext = fw->hash[h];
	fw->hash[h] = s;
	lru_push(fw, s);
	loop_fd_add(&s->lfd, fd, LOOP_READ, sess_cb);
	fw->st.active++;
	fw->st.accepted++;
	log_debug("%s: a new session (%llu now)", fw->name,
	    (unsigned long long)fw->st.active);
	return s;
}

/* The target answers: back to the remote, from the caller's socket. */
static void
sess_cb(struct loop_fd *lf, int ev)
{
	struct fwd_sess *s = container_of(lf, struct fwd_sess, lfd);
	struct forward *fw = s->fw;
	ssize_t n;
	int i;

	(void)ev;
	for (i = 0; i < FWD_UDP_BURST; i++) {
		n = recv(lf->fd, fw->dgram, FWD_DGRAM_MAX, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* ECONNREFUSED: an ICMP error for an earlier datagram */
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			log_debug("%s: from the target: %s", fw->name,
			    strerror(errno));
			break;
		}
		if (sendto(fw->fd, fw->dgram, (size_t)n, 0,
		    (struct sockaddr *)&s->peer, s->peerlen) == -1) {
			fw->st.drops++;
			continue;
		}
		fw->st.dgrams_out++;
		fw->st.bytes_out += (uint64_t)n;
		sess_touch(s);
	}
}

/* A datagram from a remote: the caller's if STUN, else to its session's socket. */
static void
udp_recv_cb(struct loop_fd *lf, int ev)
{
	struct forward *fw = container_of(lf, struct forward, lfd);
	struct sockaddr_storage ss;
	struct fwd_sess *s;
	socklen_t sl;
	ssize_t n;
	size_t h;
	int i;

	(void)ev;
	for (i = 0; i < FWD_UDP_BURST; i++) {
		sl = sizeof(ss);
		n = recvfrom(fw->fd, fw->dgram, FWD_DGRAM_MAX, 0,
		    (struct sockaddr *)&ss, &sl);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			log_debug("%s: recvfrom: %s", fw->name,
			    strerror(errno));
			break;
		}
		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
			fw->st.drops++;
			continue;
		}
		if (stun_frame_len(fw->dgram, (size_t)n) == n) {
			fw->st.stun++;
			if (fw->o.stun_cb != NULL)
				fw->o.stun_cb(fw->o.arg, fw->dgram, (size_t)n,
				    (struct sockaddr *)&ss, sl);
			continue;
		}
		h = sess_hash(fw, (struct sockaddr *)&ss);
		for (s = fw->hash[h]; s != NULL; s = s->hnext)
			if (sess_match(s, (struct sockaddr *)&ss))
				break;
		if (s == NULL && (s = sess_new(fw, (struct sockaddr *)&ss, sl,
		    h)) == NULL) {
			fw->st.drops++;
			continue;
		}
		if (send(s->lfd.fd, fw->dgram, (size_t)n, 0) == -1) {
			fw->st.drops++;
			continue;
		}
		fw->st.dgrams_in++;
		fw->st.bytes_in += (uint64_t)n;
		sess_touch(s);
	}
}

struct forward *
forward_udp_new(int fd, const struct sockaddr *target, socklen_t targetlen,
    const struct forward_opts *opts)
{
	struct forward *fw;
	size_t n = 1;

	if ((fw = calloc(1, sizeof(*fw))) == NULL)
		return NULL;
	if (fwd_init(fw, SOCK_DGRAM, fd, target, targetlen, opts) == -1) {
		free(fw);
		return NULL;
	}
	while (n < fw->o.max_conns && n < ((size_t)1 << 30))
		n *= 2;
	fw->hmask = n - 1;
	fw->hseed = loop_random(UINT32_MAX);
	if ((fw->hash = calloc(n, sizeof(*fw->hash))) == NULL ||
	    (fw->dgram = malloc(FWD_DGRAM_MAX)) == NULL) {
		free(fw->hash);
		free(fw);
		errno = ENOMEM;
		return NULL;
	}
	timer_init(&fw->timer, udp_expire_cb);
	loop_fd_add(&fw->lfd, fd, LOOP_READ, udp_recv_cb);
	return fw;
}

/* ---- both ---- */

void
forward_free(struct forward *fw)
{
	if (fw == NULL)
		return;
	loop_fd_del(&fw->lfd);
	timer_stop(&fw->timer);
	while (fw->conns != NULL)
		conn_end(fw->conns, 1);
	while (fw->lru_head != NULL)
		sess_end(fw->lru_head);
	free(fw->hash);
	free(fw->dgram);
	free(fw);
}

void
forward_stats(const struct forward *fw, struct forward_stats *st)
{
	*st = fw->st;
}
