/* SPDX-License-Identifier: ISC */
/* STUN client (RFC 8489): Binding transactions over UDP and TCP, matched by transaction ID, on the loop. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "stun-msg.h"
#include "stun.h"

const struct stun_schedule stun_schedule_rfc = {
	.rto_ms = 500,
	.sends = 7,
	.last_wait = 16,
	.budget_ms = 39500,
};

struct stun_txn {
	struct stun_sock	*sock;		/* UDP; NULL over TCP */
	struct stun_txn		*next;
	uint8_t			 tid[STUN_TID_LEN];
	struct sockaddr_storage	 server;
	socklen_t		 slen;
	uint8_t			 change;
	uint16_t		 response_port;
	struct stun_schedule	 sch;
	unsigned int		 sends;
	uint64_t		 started;
	struct timer		 rexmit;
	struct timer		 budget;
	stun_cb			 cb;
	void			*arg;
	char			 why[160];	/* the last bad answer, if any */
	/* TCP */
	int			 fd;
	struct loop_fd		 lfd;
	uint8_t			 out[64];
	size_t			 outlen, outoff;
	uint8_t			 in[STUN_MAX_MSG];
	size_t			 inlen;
};

struct stun_sock {
	int			 fd;
	int			 wrapped;	/* the caller's: not watched, not closed */
	struct loop_fd		 lfd;
	struct stun_txn		*txns;
	void			(*on_stray)(struct stun_sock *, int,
				    const uint8_t *, const struct sockaddr_storage *,
				    void *);
	void			*stray_arg;
};

const char *
stun_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "-");
	return buf;
}

uint16_t
stun_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
	return 0;
}

int
stun_addr_eq_ip(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		    16) == 0;
	return 0;
}

int
stun_addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return stun_addr_eq_ip(a, b) && stun_addr_port(a) == stun_addr_port(b);
}

static socklen_t
ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

/* ---- transactions ---- */

static void
txn_unlink(struct stun_txn *t)
{
	struct stun_txn **p;

	if (t->sock == NULL)
		return;
	for (p = &t->sock->txns; *p != NULL; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->sock = NULL;
}

static void
txn_free(struct stun_txn *t)
{
	txn_unlink(t);
	timer_stop(&t->rexmit);
	timer_stop(&t->budget);
	if (t->fd != -1) {
		loop_fd_del(&t->lfd);
		close(t->fd);
	}
	free(t);
}

static void
txn_end(struct stun_txn *t, const struct stun_msg *m,
    const struct sockaddr_storage *from, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
txn_end(struct stun_txn *t, const struct stun_msg *m,
    const struct sockaddr_storage *from, const char *fmt, ...)
{
	struct stun_answer a;
	va_list ap;

	memset(&a, 0, sizeof(a));
	a.server = t->server;
	a.sends = t->sends;
	a.rtt_ms = loop_now() - t->started;
	if (from != NULL)
		a.from = *from;
	if (m != NULL && fmt == NULL) {
		a.ok = 1;
		a.mapped = *stun_msg_mapped(m);
		a.other = m->other;
		a.origin = m->origin;
	} else if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(a.err, sizeof(a.err), fmt, ap);
		va_end(ap);
		a.timeout = m == NULL && from == NULL;
	}
	t->cb(t, &a, t->arg);
	txn_free(t);
}

/* A parsed answer to t: success or error (1: t is gone), or something to ignore (0). */
static int
txn_answer(struct stun_txn *t, const struct stun_msg *m,
    const struct sockaddr_storage *from)
{
	char s[64];

	stun_addr_str(from, s, sizeof(s));
	if (m->method != STUN_BINDING) {
		snprintf(t->why, sizeof(t->why), "%s answered another method",
		    s);
		return 0;
	}
	if (m->n_unknown > 0) {
		/* RFC 8489 6.3.1: discard, unknown comprehension-required. */
		snprintf(t->why, sizeof(t->why), "%s answered with unknown "
		    "attribute 0x%04x", s, m->unknown[0]);
		return 0;
	}
	if (m->cls == STUN_ERROR) {
		txn_end(t, m, from, "%s answered error %d%s%s", s,
		    m->error_code, m->error_reason[0] ? ": " : "",
		    m->error_reason);
		return 1;
	}
	if (m->cls != STUN_SUCCESS)
		return 0;
	if (stun_msg_mapped(m) == NULL) {
		snprintf(t->why, sizeof(t->why), "%s answered without a "
		    "mapped address", s);
		return 0;
	}
	txn_end(t, m, from, NULL);
	return 1;
}

/* Send (again): 0, or -1 when that ended the transaction. */
static int
txn_send(struct stun_txn *t)
{
	uint8_t buf[64];
	int n;

	n = stun_build_request(buf, sizeof(buf), t->tid, t->change,
	    t->response_port, 1);
	if (n < 0)
		return 0;
	t->sends++;
	if (sendto(t->sock->fd, buf, (size_t)n, 0,
	    (struct sockaddr *)&t->server, t->slen) == -1) {
		char s[64];

		snprintf(t->why, sizeof(t->why), "sending to %s: %s",
		    stun_addr_str(&t->server, s, sizeof(s)), strerror(errno));
		/* Unreachable now: say so at once rather than at the budget. */
		if (errno == ENETUNREACH || errno == EHOSTUNREACH) {
			txn_end(t, NULL, &t->server, "%s", t->why);
			return -1;
		}
	}
	return 0;
}

static void
rexmit_cb(struct timer *tm)
{
	struct stun_txn *t = container_of(tm, struct stun_txn, rexmit);
	uint64_t wait;

	if (t->sends >= t->sch.sends) {
		/* The wait after the last send is over. */
		if (t->why[0] != '\0')
			txn_end(t, NULL, NULL, "no valid answer (%s)", t->why);
		else
			txn_end(t, NULL, NULL, "no answer after %u sends",
			    t->sends);
		return;
	}
	if (txn_send(t) == -1)
		return;
	if (t->sends >= t->sch.sends)
		wait = (uint64_t)t->sch.rto_ms * t->sch.last_wait;
	else
		wait = (uint64_t)t->sch.rto_ms << (t->sends - 1);
	timer_set(&t->rexmit, wait);
}

static void
budget_cb(struct timer *tm)
{
	struct stun_txn *t = container_of(tm, struct stun_txn, budget);

	if (t->why[0] != '\0')
		txn_end(t, NULL, NULL, "no valid answer within %u ms (%s)",
		    t->sch.budget_ms, t->why);
	else
		txn_end(t, NULL, NULL, "no answer within %u ms (%u sends)",
		    t->sch.budget_ms, t->sends);
}

static struct stun_txn *
txn_new(const struct sockaddr *server, socklen_t slen,
    const struct stun_schedule *sch, stun_cb cb, void *arg)
{
	struct stun_txn *t;
	uint32_t r;
	size_t i;

	if (slen > sizeof(t->server) || (server->sa_family != AF_INET &&
	    server->sa_family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	memcpy(&t->server, server, slen);
	t->slen = slen;
	t->sch = *(sch != NULL ? sch : &stun_schedule_rfc);
	if (t->sch.sends == 0)
		t->sch.sends = 1;
	t->cb = cb;
	t->arg = arg;
	t->fd = -1;
	t->started = loop_now();
	for (i = 0; i < STUN_TID_LEN; i += 2) {
		r = loop_random(65536);
		t->tid[i] = (uint8_t)(r >> 8);
		t->tid[i + 1] = (uint8_t)r;
	}
	timer_init(&t->rexmit, rexmit_cb);
	timer_init(&t->budget, budget_cb);
	timer_set(&t->budget, t->sch.budget_ms);
	return t;
}

/* ---- UDP ---- */

/* One datagram that reached s: 1 if a callback ran (it may have closed s). */
static int
sock_datagram(struct stun_sock *s, const uint8_t *buf, size_t n,
    const struct sockaddr_storage *from)
{
	struct stun_txn *t;
	struct stun_msg m;
	const char *err;
	char fs[64];

	stun_addr_str(from, fs, sizeof(fs));
	if (stun_parse(buf, n, &m, &err) == -1) {
		/*
		 * Not a message.  If it names a transaction of ours, keep the
		 * reason for the report; it is no answer.
		 */
		if (n < STUN_HDR_LEN)
			return 0;
		for (t = s->txns; t != NULL; t = t->next)
			if (memcmp(t->tid, buf + 8, STUN_TID_LEN) == 0)
				break;
		if (t != NULL)
			snprintf(t->why, sizeof(t->why), "%s sent an "
			    "unreadable answer: %s", fs, err);
		log_debug("stun: from %s: %s", fs, err);
		return 0;
	}
	for (t = s->txns; t != NULL; t = t->next)
		if (memcmp(t->tid, m.tid, STUN_TID_LEN) == 0)
			break;
	if (m.cls == STUN_REQUEST || m.cls == STUN_INDICATION || t == NULL) {
		if (s->on_stray != NULL && m.method == STUN_BINDING &&
		    m.cls != STUN_INDICATION) {
			s->on_stray(s, m.cls, m.tid, from, s->stray_arg);
			return 1;
		}
		if (m.cls == STUN_REQUEST || m.cls == STUN_INDICATION)
			return 0;
	}
	if (t == NULL) {
		/* Another question's answer, or a forgery. */
		for (t = s->txns; t != NULL; t = t->next)
			if (stun_addr_eq(&t->server, from))
				snprintf(t->why, sizeof(t->why), "%s answered "
				    "with a transaction ID we did not send", fs);
		log_debug("stun: from %s: unknown transaction", fs);
		return 0;
	}
	return txn_answer(t, &m, from);
}

static void
sock_read(struct loop_fd *lf, int ev)
{
	struct stun_sock *s = container_of(lf, struct stun_sock, lfd);
	struct sockaddr_storage from;
	uint8_t buf[STUN_MAX_MSG + 1];
	socklen_t flen;
	ssize_t n;
	int i;

	(void)ev;
	for (i = 0; i < 16; i++) {
		flen = sizeof(from);
		memset(&from, 0, sizeof(from));
		n = recvfrom(s->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (n == -1)
			return;
		if (sock_datagram(s, buf, (size_t)n, &from) == 1)
			return;		/* the callback may have closed s */
	}
}

struct stun_sock *
stun_sock_wrap(int fd)
{
	struct stun_sock *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fd = fd;
	s->wrapped = 1;
	return s;
}

int
stun_sock_input(struct stun_sock *s, const uint8_t *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (fromlen > sizeof(ss))
		fromlen = sizeof(ss);
	memcpy(&ss, from, fromlen);
	return sock_datagram(s, buf, len, &ss);
}

struct stun_sock *
stun_sock_open(const struct sockaddr *local, socklen_t llen)
{
	struct stun_sock *s;
	struct sockaddr_in any;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (local == NULL) {
		memset(&any, 0, sizeof(any));
		any.sin_family = AF_INET;
		local = (struct sockaddr *)&any;
		llen = sizeof(any);
	}
	s->fd = socket(local->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd == -1 || bind(s->fd, local, llen) == -1) {
		int e = errno;

		if (s->fd != -1)
			close(s->fd);
		free(s);
		errno = e;
		return NULL;
	}
	loop_fd_add(&s->lfd, s->fd, LOOP_READ, sock_read);
	return s;
}

void
stun_sock_close(struct stun_sock *s)
{
	if (s == NULL)
		return;
	while (s->txns != NULL)
		txn_free(s->txns);
	if (!s->wrapped) {
		loop_fd_del(&s->lfd);
		close(s->fd);
	}
	free(s);
}

int
stun_sock_local(const struct stun_sock *s, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	return getsockname(s->fd, (struct sockaddr *)ss, &len);
}

void
stun_sock_on_stray(struct stun_sock *s,
    void (*cb)(struct stun_sock *, int, const uint8_t *,
    const struct sockaddr_storage *, void *), void *arg)
{
	s->on_stray = cb;
	s->stray_arg = arg;
}

int
stun_sock_send_raw(struct stun_sock *s, const struct sockaddr *to,
    socklen_t tolen, const uint8_t tid[STUN_TID_LEN])
{
	uint8_t buf[64];
	int n;

	if ((n = stun_build_binding(buf, sizeof(buf), tid, 0, 1)) < 0)
		return -1;
	return sendto(s->fd, buf, (size_t)n, 0, to, tolen) == -1 ? -1 : 0;
}

struct stun_txn *
stun_binding(struct stun_sock *s, const struct sockaddr *server,
    socklen_t slen, uint8_t change, const struct stun_schedule *sch,
    stun_cb cb, void *arg)
{
	return stun_binding_port(s, server, slen, change, 0, sch, cb, arg);
}

const uint8_t *
stun_txn_tid(const struct stun_txn *t)
{
	return t->tid;
}

struct stun_txn *
stun_binding_port(struct stun_sock *s, const struct sockaddr *server,
    socklen_t slen, uint8_t change, uint16_t response_port,
    const struct stun_schedule *sch, stun_cb cb, void *arg)
{
	struct stun_txn *t;

	if ((t = txn_new(server, slen, sch, cb, arg)) == NULL)
		return NULL;
	t->sock = s;
	t->change = change;
	t->response_port = response_port;
	t->next = s->txns;
	s->txns = t;
	/* The first send from the loop, so cb never runs inside this call. */
	timer_set(&t->rexmit, 0);
	return t;
}

/* ---- TCP ---- */

static void
tcp_event(struct loop_fd *lf, int ev)
{
	struct stun_txn *t = container_of(lf, struct stun_txn, lfd);
	struct stun_msg m;
	const char *err;
	char s[64];
	socklen_t len;
	ssize_t n;
	int e = 0, flen;

	stun_addr_str(&t->server, s, sizeof(s));
	if (ev & LOOP_WRITE) {
		len = sizeof(e);
		if (t->outoff == 0 && (getsockopt(t->fd, SOL_SOCKET, SO_ERROR,
		    &e, &len) == -1 || e != 0)) {
			txn_end(t, NULL, &t->server, "TCP to %s: %s", s,
			    strerror(e != 0 ? e : errno));
			return;
		}
		if (t->outoff == 0)
			t->sends = 1;
		n = write(t->fd, t->out + t->outoff, t->outlen - t->outoff);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			txn_end(t, NULL, &t->server, "TCP to %s: %s", s,
			    strerror(errno));
			return;
		}
		if (n > 0)
			t->outoff += (size_t)n;
		if (t->outoff == t->outlen)
			loop_fd_events(&t->lfd, LOOP_READ);
		return;
	}
	n = read(t->fd, t->in + t->inlen, sizeof(t->in) - t->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		txn_end(t, NULL, &t->server, "TCP to %s: %s", s, n == 0 ?
		    "closed before an answer" : strerror(errno));
		return;
	}
	t->inlen += (size_t)n;
	flen = stun_frame_len(t->in, t->inlen);
	if (flen == -1) {
		txn_end(t, NULL, &t->server, "TCP to %s: not a STUN answer", s);
		return;
	}
	if (flen == 0 || t->inlen < (size_t)flen)
		return;
	if (stun_parse(t->in, (size_t)flen, &m, &err) == -1) {
		txn_end(t, NULL, &t->server, "%s sent an unreadable answer: %s",
		    s, err);
		return;
	}
	if (memcmp(m.tid, t->tid, STUN_TID_LEN) != 0) {
		txn_end(t, NULL, &t->server, "%s answered with a transaction "
		    "ID we did not send", s);
		return;
	}
	if (txn_answer(t, &m, &t->server) == 0)
		txn_end(t, NULL, &t->server, "%s", t->why[0] != '\0' ? t->why :
		    "no usable answer");
}

struct stun_txn *
stun_binding_tcp(const struct sockaddr *local, const struct sockaddr *server,
    socklen_t slen, const struct stun_schedule *sch, stun_cb cb, void *arg)
{
	struct stun_txn *t;
	int n, one = 1;

	if ((t = txn_new(server, slen, sch, cb, arg)) == NULL)
		return NULL;
	if ((n = stun_build_binding(t->out, sizeof(t->out), t->tid, 0, 1)) < 0)
		goto fail;
	t->outlen = (size_t)n;
	t->fd = socket(server->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (t->fd == -1)
		goto fail;
	if (local != NULL) {
		(void)setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(t->fd, local, ss_len((const void *)local)) == -1)
			goto fail;
	}
	if (connect(t->fd, server, slen) == -1 && errno != EINPROGRESS)
		goto fail;
	loop_fd_add(&t->lfd, t->fd, LOOP_WRITE, tcp_event);
	return t;
fail:
	n = errno;
	txn_free(t);
	errno = n;
	return NULL;
}

void
stun_cancel(struct stun_txn *t)
{
	if (t != NULL)
		txn_free(t);
}
