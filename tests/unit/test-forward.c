/* SPDX-License-Identifier: ISC */
/* The forwarder on 127.0.0.1 in a network namespace of the test's own: TCP and UDP. */
#include "config.h"

#include <sys/random.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "forward.h"
#include "log.h"
#include "loop.h"
#include "testutil.h"

/* ---- helpers ---- */

static uint64_t	fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* A test that failed half-way must not leave its fake clock to the next. */
static int
real_clock(void **state)
{
	(void)state;
	loop_set_clock(NULL);
	return 0;
}

/* Real milliseconds, whatever the loop's clock is. */
static uint64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct sockaddr_in
lo4(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static uint16_t
port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	return ntohs(sin.sin_port);
}

/* A socket bound to 127.0.0.1 on a port of the kernel's choice; listening if TCP and listen. */
static int
bound(int type, int listening, uint16_t *port)
{
	struct sockaddr_in sin = lo4(0);
	int fd;

	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (listening)
		assert_int_equal(listen(fd, 512), 0);
	*port = port_of(fd);
	return fd;
}

static int
tcp_connect(uint16_t port)
{
	struct sockaddr_in sin = lo4(port);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

/* Run the loop until cond(arg) holds or ms (real time) pass: 1 if it held. */
static int
run_until(int (*cond)(void *), void *arg, uint64_t ms)
{
	uint64_t end = real_ms() + ms;

	while (!cond(arg)) {
		if (real_ms() > end)
			return 0;
		loop_once(1);
	}
	return 1;
}

/* A few rounds of the loop, for what should NOT happen. */
static void
run_rounds(int n)
{
	while (n-- > 0)
		loop_once(2);
}

static struct forward_stats
stats(struct forward *fw)
{
	struct forward_stats st;

	forward_stats(fw, &st);
	return st;
}

/* A TCP forwarder from a new listener to a new target listener. */
struct tcp_fix {
	int		 lfd, tfd;
	uint16_t	 lport, tport;
	struct forward	*fw;
};

/* FORWARD_COPY_RW or FORWARD_COPY_SPLICE: every TCP test runs with each. */
static int	copy_mode;

static void
tcp_fix_up(struct tcp_fix *f, const struct forward_opts *given)
{
	struct forward_opts d = { 0 }, *o = &d;
	struct sockaddr_in t;

	if (given != NULL)
		d = *given;
	d.copy = copy_mode;

	f->lfd = bound(SOCK_STREAM, 1, &f->lport);
	f->tfd = bound(SOCK_STREAM, 1, &f->tport);
	t = lo4(f->tport);
	f->fw = forward_tcp_new(f->lfd, (struct sockaddr *)&t, sizeof(t), o);
	assert_non_null(f->fw);
}

static void
tcp_fix_down(struct tcp_fix *f)
{
	forward_free(f->fw);
	close(f->lfd);
	close(f->tfd);
}

/* The next connection at the target, within 2 s. */
static int	accepted_fd;

static int
cond_accept(void *arg)
{
	int *tfd = arg;

	accepted_fd = accept4(*tfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	return accepted_fd >= 0;
}

static int
target_accept(struct tcp_fix *f)
{
	if (!run_until(cond_accept, &f->tfd, 2000))
		fail_msg("no connection reached the target");
	return accepted_fd;
}

/* Read exactly len bytes from fd within 2 s. */
struct rd {
	int		 fd;
	uint8_t		*buf;
	size_t		 len, got;
	int		 eof, err;
};

static int
cond_read(void *arg)
{
	struct rd *r = arg;
	ssize_t n;

	while (r->got < r->len) {
		n = recv(r->fd, r->buf + r->got, r->len - r->got, 0);
		if (n > 0)
			r->got += (size_t)n;
		else if (n == 0) {
			r->eof = 1;
			return 1;
		} else {
			if (errno != EAGAIN)
				r->err = errno;
			return r->err != 0;
		}
	}
	return 1;
}

static void
read_exact(int fd, const void *want, size_t len)
{
	struct rd r = { .fd = fd, .len = len };

	r.buf = malloc(len);
	assert_non_null(r.buf);
	if (!run_until(cond_read, &r, 2000) || r.got != len)
		fail_msg("read %zu of %zu bytes (eof %d, %s)", r.got, len,
		    r.eof, strerror(r.err));
	assert_memory_equal(r.buf, want, len);
	free(r.buf);
}

/* EOF (1) or a reset (2) on fd, within ms. */
static int
cond_end(void *arg)
{
	int *fd = arg;
	char c;
	ssize_t n = recv(*fd, &c, 1, 0);

	return n == 0 || (n == -1 && errno != EAGAIN);
}

static void
wait_end(int fd, uint64_t ms, const char *what)
{
	if (!run_until(cond_end, &fd, ms))
		fail_msg("%s: the connection was not closed", what);
}

static int
still_open(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK) == -1 && errno == EAGAIN;
}

static void
send_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

struct fw_active {
	struct forward	*fw;
	uint64_t	 n;
};

static int
cond_active(void *arg)
{
	struct fw_active *a = arg;

	return stats(a->fw).active == a->n;
}

static void
wait_active(struct forward *fw, uint64_t n)
{
	struct fw_active a = { fw, n };

	if (!run_until(cond_active, &a, 2000))
		fail_msg("%llu active, wanted %llu",
		    (unsigned long long)stats(fw).active,
		    (unsigned long long)n);
}

/* ---- TCP ---- */

/* Both ends of a bulk transfer, each sending its data and reading the other's. */
struct bulk_end {
	int		 fd;
	const uint8_t	*out;
	size_t		 outlen, sent;
	int		 shut;
	uint8_t		*in;
	size_t		 inlen, got;
	int		 eof;
};

static void
bulk_pump(struct bulk_end *e)
{
	ssize_t n;
	size_t chunk;

	if (e->sent < e->outlen) {
		chunk = e->outlen - e->sent;
		if (chunk > 65536)
			chunk = 65536;
		n = send(e->fd, e->out + e->sent, chunk, MSG_NOSIGNAL);
		if (n > 0)
			e->sent += (size_t)n;
		else if (n == -1 && errno != EAGAIN)
			fail_msg("send: %s", strerror(errno));
	}
	if (e->sent == e->outlen && !e->shut) {
		assert_int_equal(shutdown(e->fd, SHUT_WR), 0);
		e->shut = 1;
	}
	if (!e->eof) {
		n = recv(e->fd, e->in + e->got, e->inlen + 1 - e->got, 0);
		if (n > 0)
			e->got += (size_t)n;
		else if (n == 0)
			e->eof = 1;
		else if (errno != EAGAIN)
			fail_msg("recv: %s", strerror(errno));
		assert_true(e->got <= e->inlen);
	}
}

static int
cond_bulk(void *arg)
{
	struct bulk_end *e = arg;

	bulk_pump(&e[0]);
	bulk_pump(&e[1]);
	return e[0].eof && e[1].eof;
}

#define BULK	(10 * 1024 * 1024)

/* 10 MB of random data each way at once arrives intact, then both FINs. */
static void
test_tcp_bulk(void **state)
{
	struct tcp_fix f;
	struct bulk_end e[2];
	struct forward_stats st;
	uint8_t *a, *b;
	size_t i;

	(void)state;
	tcp_fix_up(&f, NULL);
	a = malloc(BULK);
	b = malloc(BULK);
	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < BULK; i += 256)
		assert_int_equal(getrandom(a + i, 256, 0), 256);
	for (i = 0; i < BULK; i += 256)
		assert_int_equal(getrandom(b + i, 256, 0), 256);
	memset(e, 0, sizeof(e));
	e[0].fd = tcp_connect(f.lport);
	e[1].fd = target_accept(&f);
	e[0].out = a;
	e[1].out = b;
	e[0].outlen = e[1].outlen = e[0].inlen = e[1].inlen = BULK;
	e[0].in = malloc(BULK + 1);
	e[1].in = malloc(BULK + 1);
	assert_non_null(e[0].in);
	assert_non_null(e[1].in);
	if (!run_until(cond_bulk, e, 60000))
		fail_msg("not done in 60 s: %zu and %zu bytes of %d arrived",
		    e[1].got, e[0].got, BULK);
	/* both ways whole, byte for byte */
	assert_int_equal(e[1].got, BULK);
	assert_int_equal(e[0].got, BULK);
	assert_memory_equal(e[1].in, a, BULK);
	assert_memory_equal(e[0].in, b, BULK);
	wait_active(f.fw, 0);
	st = stats(f.fw);
	assert_int_equal(st.bytes_in, BULK);
	assert_int_equal(st.bytes_out, BULK);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.spliced, copy_mode == FORWARD_COPY_SPLICE);
	close(e[0].fd);
	close(e[1].fd);
	free(e[0].in);
	free(e[1].in);
	free(a);
	free(b);
	tcp_fix_down(&f);
}

/* A FIN each way is passed on while the other way still flows. */
static void
test_tcp_half_close(void **state)
{
	struct tcp_fix f;
	int c, s, round;

	(void)state;
	for (round = 0; round < 2; round++) {
		/* round 0: the client ends first; round 1: the service */
		tcp_fix_up(&f, NULL);
		c = tcp_connect(f.lport);
		s = target_accept(&f);
		if (round == 1) {
			int t = c;

			c = s;
			s = t;
		}
		run_rounds(3);		/* c may still be connecting */
		send_all(c, "question", 8);
		read_exact(s, "question", 8);
		assert_int_equal(shutdown(c, SHUT_WR), 0);
		wait_end(s, 2000, "the FIN");
		/* the other way is still open */
		send_all(s, "answer one", 10);
		read_exact(c, "answer one", 10);
		send_all(s, "answer two", 10);
		read_exact(c, "answer two", 10);
		assert_int_equal(stats(f.fw).active, 1);
		assert_int_equal(shutdown(s, SHUT_WR), 0);
		wait_end(c, 2000, "the second FIN");
		wait_active(f.fw, 0);
		assert_int_equal(stats(f.fw).bytes_in + stats(f.fw).bytes_out,
		    28);
		close(c);
		close(s);
		tcp_fix_down(&f);
	}
}

/* A reset on one side resets the other (each way), and ends the connection. */
static void
test_tcp_reset(void **state)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	struct tcp_fix f;
	struct rd r;
	uint8_t b[8];
	int c, s, round;

	(void)state;
	for (round = 0; round < 2; round++) {
		tcp_fix_up(&f, NULL);
		c = tcp_connect(f.lport);
		s = target_accept(&f);
		if (round == 1) {
			int t = c;

			c = s;
			s = t;
		}
		run_rounds(3);
		send_all(c, "hi", 2);
		read_exact(s, "hi", 2);
		assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &l,
		    sizeof(l)), 0);
		close(c);
		memset(&r, 0, sizeof(r));
		r.fd = s;
		r.buf = b;
		r.len = sizeof(b);
		if (!run_until(cond_read, &r, 2000))
			fail_msg("round %d: the other side heard nothing", round);
		assert_int_equal(r.err, ECONNRESET);
		wait_active(f.fw, 0);
		assert_int_equal(stats(f.fw).failed, 0);
		close(s);
		tcp_fix_down(&f);
	}
}

/* A target that refuses: the client's connection ends at once, counted as failed. */
static void
test_tcp_refused(void **state)
{
	struct forward_opts o = { .copy = copy_mode };
	struct sockaddr_in t;
	struct forward *fw;
	uint16_t lport, tport;
	uint64_t t0;
	int lfd, tfd, c;

	(void)state;
	lfd = bound(SOCK_STREAM, 1, &lport);
	tfd = bound(SOCK_STREAM, 0, &tport);	/* bound, not listening: RST */
	t = lo4(tport);
	fw = forward_tcp_new(lfd, (struct sockaddr *)&t, sizeof(t), &o);
	assert_non_null(fw);
	t0 = real_ms();
	c = tcp_connect(lport);
	wait_end(c, 1000, "refused target");
	assert_true(real_ms() - t0 < 1000 * tu_slowdown());
	wait_active(fw, 0);
	assert_int_equal(stats(fw).failed, 1);
	assert_int_equal(stats(fw).accepted, 1);
	close(c);
	forward_free(fw);
	close(lfd);
	close(tfd);
}

/* A connection that moves nothing for idle_ms is closed; traffic defers that (fake clock). */
static void
test_tcp_idle(void **state)
{
	struct forward_opts o = { .idle_ms = 60000 };
	struct tcp_fix f;
	uint64_t t0;
	int c, s;

	(void)state;
	loop_set_clock(fake_clock);
	fake_now = t0 = 1000000;
	tcp_fix_up(&f, &o);
	c = tcp_connect(f.lport);
	s = target_accept(&f);
	run_rounds(3);
	send_all(c, "x", 1);
	read_exact(s, "x", 1);
	fake_now = t0 + 30000;
	send_all(s, "y", 1);		/* traffic at t0 + 30 s */
	read_exact(c, "y", 1);
	fake_now = t0 + 60000 + 1;	/* idle 30 s only */
	run_rounds(5);
	assert_true(still_open(c));
	assert_true(still_open(s));
	assert_int_equal(stats(f.fw).active, 1);
	fake_now = t0 + 30000 + 60000 - 1;
	run_rounds(5);
	assert_int_equal(stats(f.fw).active, 1);
	fake_now = t0 + 30000 + 60000;	/* idle 60 s */
	wait_end(c, 2000, "idle client side");
	wait_end(s, 2000, "idle service side");
	assert_int_equal(stats(f.fw).active, 0);
	assert_int_equal(stats(f.fw).idle, 1);
	close(c);
	close(s);
	tcp_fix_down(&f);
	loop_set_clock(NULL);
}

/* A target that does not answer (its accept queue full: SYNs dropped): connect_ms, fake clock. */
static void
test_tcp_connect_timeout(void **state)
{
	struct forward_opts o = { .connect_ms = 5000, .copy = copy_mode };
	struct sockaddr_in t;
	struct forward *fw;
	uint16_t lport, tport;
	uint64_t t0;
	int lfd, tfd, fill[2], c, i;

	(void)state;
	loop_set_clock(fake_clock);
	fake_now = t0 = 7000000;
	lfd = bound(SOCK_STREAM, 1, &lport);
	tfd = bound(SOCK_STREAM, 0, &tport);
	assert_int_equal(listen(tfd, 0), 0);	/* one connection fills it */
	for (i = 0; i < 2; i++)
		fill[i] = tcp_connect(tport);
	run_rounds(5);
	t = lo4(tport);
	fw = forward_tcp_new(lfd, (struct sockaddr *)&t, sizeof(t), &o);
	assert_non_null(fw);
	c = tcp_connect(lport);
	wait_active(fw, 1);
	fake_now = t0 + 4999;
	run_rounds(5);
	assert_true(still_open(c));
	assert_int_equal(stats(fw).active, 1);
	fake_now = t0 + 5000;
	wait_end(c, 2000, "unanswered target");
	assert_int_equal(stats(fw).active, 0);
	assert_int_equal(stats(fw).failed, 1);
	close(c);
	for (i = 0; i < 2; i++)
		close(fill[i]);
	forward_free(fw);
	close(lfd);
	close(tfd);
	loop_set_clock(NULL);
}

/* The caller's accept callback takes what it wants (a dial-back), the rest is forwarded. */
static int	take_next, taken;

static int
take_cb(void *arg, int fd, const struct sockaddr *from, socklen_t fromlen)
{
	assert_ptr_equal(arg, &take_next);
	assert_int_equal(from->sa_family, AF_INET);
	assert_int_equal(fromlen, sizeof(struct sockaddr_in));
	if (!take_next)
		return 0;
	taken++;
	assert_int_equal(send(fd, "nonce", 5, MSG_NOSIGNAL), 5);
	close(fd);
	return 1;
}

static void
test_tcp_accept_cb(void **state)
{
	struct forward_opts o = { .accept_cb = take_cb, .arg = &take_next };
	struct tcp_fix f;
	int c, d, s;

	(void)state;
	taken = 0;
	tcp_fix_up(&f, &o);
	take_next = 1;
	c = tcp_connect(f.lport);
	read_exact(c, "nonce", 5);
	wait_end(c, 2000, "taken connection");
	assert_int_equal(taken, 1);
	take_next = 0;
	d = tcp_connect(f.lport);
	s = target_accept(&f);
	send_all(d, "data", 4);
	read_exact(s, "data", 4);
	assert_int_equal(taken, 1);
	assert_int_equal(stats(f.fw).accepted, 1);
	close(c);
	close(d);
	close(s);
	tcp_fix_down(&f);
}

/* An IPv6 target behind an IPv4 listener. */
static void
test_tcp_v6_target(void **state)
{
	struct forward_opts o = { .copy = copy_mode };
	struct sockaddr_in6 t;
	struct forward *fw;
	socklen_t sl = sizeof(t);
	uint16_t lport;
	int lfd, tfd, c, s;

	(void)state;
	lfd = bound(SOCK_STREAM, 1, &lport);
	tfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(tfd >= 0);
	memset(&t, 0, sizeof(t));
	t.sin6_family = AF_INET6;
	t.sin6_addr = in6addr_loopback;
	if (bind(tfd, (struct sockaddr *)&t, sizeof(t)) == -1) {
		/* no IPv6 here: say so, and fail rather than pass */
		fail_msg("bind [::1]: %s", strerror(errno));
	}
	assert_int_equal(listen(tfd, 16), 0);
	assert_int_equal(getsockname(tfd, (struct sockaddr *)&t, &sl), 0);
	fw = forward_tcp_new(lfd, (struct sockaddr *)&t, sizeof(t), &o);
	assert_non_null(fw);
	c = tcp_connect(lport);
	if (!run_until(cond_accept, &tfd, 2000))
		fail_msg("nothing reached [::1]");
	s = accepted_fd;
	send_all(s, "six", 3);
	read_exact(c, "six", 3);
	close(c);
	close(s);
	forward_free(fw);
	close(lfd);
	close(tfd);
}

/* Past max_conns, a connection is accepted and closed at once; the others go on. */
static void
test_tcp_cap(void **state)
{
	struct forward_opts o = { .max_conns = 4 };
	struct tcp_fix f;
	int c[6], s[6], i;

	(void)state;
	tcp_fix_up(&f, &o);
	for (i = 0; i < 4; i++) {
		c[i] = tcp_connect(f.lport);
		s[i] = target_accept(&f);
	}
	wait_active(f.fw, 4);
	c[4] = tcp_connect(f.lport);
	wait_end(c[4], 2000, "fifth connection");
	assert_int_equal(stats(f.fw).refused, 1);
	assert_int_equal(stats(f.fw).accepted, 4);
	/* nothing reached the target for it */
	assert_int_equal(accept(f.tfd, NULL, NULL), -1);
	/* the four still carry data */
	for (i = 0; i < 4; i++) {
		send_all(c[i], "ping", 4);
		read_exact(s[i], "ping", 4);
	}
	/* one ends: room for a new one */
	close(c[0]);
	wait_end(s[0], 2000, "closed client");
	close(s[0]);
	wait_active(f.fw, 3);
	c[5] = tcp_connect(f.lport);
	s[5] = target_accept(&f);
	send_all(c[5], "pong", 4);
	read_exact(s[5], "pong", 4);
	assert_int_equal(stats(f.fw).accepted, 5);
	assert_int_equal(stats(f.fw).refused, 1);
	for (i = 1; i < 6; i++) {
		close(c[i]);
		if (i != 4)
			close(s[i]);
	}
	tcp_fix_down(&f);
}

/* 200 connections at once, each echoing 1 MiB, while a 100 ms timer keeps time. */
#define MANY		200
#define MANY_BYTES	(1024 * 1024)

struct many {
	struct tcp_fix	*f;
	int		 c[MANY], s[MANY];
	int		 ns;
	size_t		 sent[MANY], got[MANY];
	uint8_t		 echo[MANY][65536];	/* at the service, not yet echoed */
	size_t		 elen[MANY];
	const uint8_t	*data;
	uint8_t		*rbuf;
	int		 bad;
};

static int
cond_many(void *arg)
{
	struct many *m = arg;
	ssize_t n;
	int i, done = 0;

	while (m->ns < MANY && (m->s[m->ns] = accept4(m->f->tfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		m->ns++;
	for (i = 0; i < MANY; i++) {
		if (m->sent[i] < MANY_BYTES) {
			n = send(m->c[i], m->data + m->sent[i],
			    MANY_BYTES - m->sent[i] > 16384 ? 16384 :
			    MANY_BYTES - m->sent[i], MSG_NOSIGNAL);
			if (n > 0)
				m->sent[i] += (size_t)n;
		}
		if (i < m->ns) {
			/* the service echoes */
			if (m->elen[i] < sizeof(m->echo[i])) {
				n = recv(m->s[i], m->echo[i] + m->elen[i],
				    sizeof(m->echo[i]) - m->elen[i], 0);
				if (n > 0)
					m->elen[i] += (size_t)n;
			}
			if (m->elen[i] > 0) {
				n = send(m->s[i], m->echo[i], m->elen[i],
				    MSG_NOSIGNAL);
				if (n > 0) {
					memmove(m->echo[i], m->echo[i] + n,
					    m->elen[i] - (size_t)n);
					m->elen[i] -= (size_t)n;
				}
			}
		}
		if (m->got[i] < MANY_BYTES) {
			n = recv(m->c[i], m->rbuf, 65536, 0);
			if (n > 0) {
				if (m->got[i] + (size_t)n > MANY_BYTES ||
				    memcmp(m->rbuf, m->data + m->got[i],
				    (size_t)n) != 0)
					m->bad++;
				m->got[i] += (size_t)n;
			}
		}
		if (m->got[i] >= MANY_BYTES)
			done++;
	}
	return done == MANY;
}

static uint64_t	worst_late;
static int	ticks;

static void
tick_cb(struct timer *t)
{
	uint64_t late = loop_now() - t->deadline;

	if (late > worst_late)
		worst_late = late;
	ticks++;
	timer_set(t, 100);
}

static void
test_tcp_many(void **state)
{
	struct tcp_fix f;
	struct timer tick;
	struct many *m;
	uint8_t *data;
	uint64_t t0, took;
	size_t i;

	(void)state;
	tcp_fix_up(&f, NULL);
	m = calloc(1, sizeof(*m));
	data = malloc(MANY_BYTES);
	assert_non_null(m);
	assert_non_null(data);
	for (i = 0; i < MANY_BYTES; i += 256)
		assert_int_equal(getrandom(data + i, 256, 0), 256);
	m->f = &f;
	m->data = data;
	m->rbuf = malloc(65536);
	assert_non_null(m->rbuf);
	worst_late = 0;
	ticks = 0;
	timer_init(&tick, tick_cb);
	timer_set(&tick, 100);
	t0 = real_ms();
	for (i = 0; i < MANY; i++)
		m->c[i] = tcp_connect(f.lport);
	if (!run_until(cond_many, m, 120000))
		fail_msg("not done in 120 s");
	took = real_ms() - t0;
	timer_stop(&tick);
	print_message("# %d connections x %d KiB echoed in %llu ms; "
	    "timer: %d ticks, worst %llu ms late\n", MANY, MANY_BYTES / 1024,
	    (unsigned long long)took, ticks, (unsigned long long)worst_late);
	assert_int_equal(m->bad, 0);
	assert_int_equal(m->ns, MANY);
	assert_int_equal(stats(f.fw).accepted, MANY);
	assert_int_equal(stats(f.fw).refused, 0);
	assert_int_equal(stats(f.fw).spliced,
	    copy_mode == FORWARD_COPY_SPLICE ? MANY : 0);
	assert_int_equal(stats(f.fw).bytes_in, (uint64_t)MANY * MANY_BYTES);
	/* the timer kept running: at least half its ticks, none 200 ms late */
	assert_true((uint64_t)ticks >= took / 100 / 2);
	assert_true(worst_late < 200 * tu_slowdown());
	for (i = 0; i < MANY; i++) {
		close(m->c[i]);
		close(m->s[i]);
	}
	wait_active(f.fw, 0);
	free(m->rbuf);
	free(m);
	free(data);
	tcp_fix_down(&f);
}

/* ---- UDP ---- */

struct udp_fix {
	int		 bfd, tfd;	/* the bound socket; the service */
	uint16_t	 bport, tport;
	struct forward	*fw;
};

static int		 stun_calls;
static size_t		 stun_len;
static uint16_t		 stun_from;

static void
stun_cb(void *arg, const uint8_t *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	const struct sockaddr_in *sin = (const void *)from;

	assert_ptr_equal(arg, &stun_calls);
	assert_int_equal(fromlen, sizeof(*sin));
	assert_true(len >= 20);
	assert_int_equal(buf[4], 0x21);
	stun_calls++;
	stun_len = len;
	stun_from = ntohs(sin->sin_port);
}

static void
udp_fix_up(struct udp_fix *f, struct forward_opts *o)
{
	struct forward_opts d = { 0 };
	struct sockaddr_in t;

	if (o == NULL)
		o = &d;
	o->stun_cb = stun_cb;
	o->arg = &stun_calls;
	stun_calls = 0;
	f->bfd = bound(SOCK_DGRAM, 0, &f->bport);
	f->tfd = bound(SOCK_DGRAM, 0, &f->tport);
	t = lo4(f->tport);
	f->fw = forward_udp_new(f->bfd, (struct sockaddr *)&t, sizeof(t), o);
	assert_non_null(f->fw);
}

static void
udp_fix_down(struct udp_fix *f)
{
	forward_free(f->fw);
	close(f->bfd);
	close(f->tfd);
}

static void
udp_send(int fd, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in sin = lo4(port);

	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), (ssize_t)len);
}

/* The next datagram at fd within 2 s; its source port in *from. */
struct urd {
	int		 fd;
	char		 buf[2048];
	ssize_t		 n;
	uint16_t	 from;
};

static int
cond_urecv(void *arg)
{
	struct urd *u = arg;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	u->n = recvfrom(u->fd, u->buf, sizeof(u->buf) - 1, 0,
	    (struct sockaddr *)&sin, &sl);
	if (u->n < 0)
		return 0;
	u->buf[u->n] = '\0';
	u->from = ntohs(sin.sin_port);
	return 1;
}

static uint16_t
udp_expect(int fd, const char *want)
{
	struct urd u = { .fd = fd };

	if (!run_until(cond_urecv, &u, 2000))
		fail_msg("no datagram; wanted \"%s\"", want);
	assert_int_equal(u.n, strlen(want));
	assert_string_equal(u.buf, want);
	return u.from;
}

#define REMOTES	40

/* Each remote has a session of its own, and its own answers come back to it. */
static void
test_udp_remotes(void **state)
{
	struct udp_fix f;
	uint16_t rport[REMOTES], sport[REMOTES], p;
	char msg[64], ans[80];
	int r[REMOTES], i, j, round;

	(void)state;
	udp_fix_up(&f, NULL);
	for (i = 0; i < REMOTES; i++)
		r[i] = bound(SOCK_DGRAM, 0, &rport[i]);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < REMOTES; i++) {
			snprintf(msg, sizeof(msg), "hello %d from %u", round,
			    rport[i]);
			udp_send(r[i], f.bport, msg, strlen(msg));
			/* the service answers whoever wrote, quoting it */
			p = udp_expect(f.tfd, msg);
			if (round == 0) {
				for (j = 0; j < i; j++)
					assert_int_not_equal(p, sport[j]);
				sport[i] = p;
			} else
				assert_int_equal(p, sport[i]);
			snprintf(ans, sizeof(ans), "re: %s", msg);
			udp_send(f.tfd, p, ans, strlen(ans));
		}
		for (i = 0; i < REMOTES; i++) {
			snprintf(ans, sizeof(ans), "re: hello %d from %u",
			    round, rport[i]);
			assert_int_equal(udp_expect(r[i], ans), f.bport);
		}
	}
	assert_int_equal(stats(f.fw).active, REMOTES);
	assert_int_equal(stats(f.fw).accepted, REMOTES);
	assert_int_equal(stats(f.fw).dgrams_in, 2 * REMOTES);
	assert_int_equal(stats(f.fw).dgrams_out, 2 * REMOTES);
	assert_int_equal(stats(f.fw).drops, 0);
	for (i = 0; i < REMOTES; i++)
		close(r[i]);
	udp_fix_down(&f);
}

/* A STUN datagram goes to the callback, not to the service; a near miss is forwarded. */
static void
test_udp_stun(void **state)
{
	static const uint8_t stun[28] = {
		0x01, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		0x80, 0x28, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef,
	};
	uint8_t nearly[28];
	struct udp_fix f;
	struct urd u;
	uint16_t rport;
	int r;

	(void)state;
	udp_fix_up(&f, NULL);
	r = bound(SOCK_DGRAM, 0, &rport);
	udp_send(r, f.bport, stun, sizeof(stun));
	udp_send(r, f.bport, "after", 5);
	/* the service sees the datagram after it, and not the STUN one */
	udp_expect(f.tfd, "after");
	assert_int_equal(stun_calls, 1);
	assert_int_equal(stun_len, sizeof(stun));
	assert_int_equal(stun_from, rport);
	/* the length field says 4, the datagram has 8 more: not STUN */
	memcpy(nearly, stun, sizeof(nearly));
	nearly[3] = 4;
	udp_send(r, f.bport, nearly, sizeof(nearly));
	memset(&u, 0, sizeof(u));
	u.fd = f.tfd;
	if (!run_until(cond_urecv, &u, 2000))
		fail_msg("the near miss was not forwarded");
	assert_int_equal(u.n, sizeof(nearly));
	assert_memory_equal(u.buf, nearly, sizeof(nearly));
	assert_int_equal(stun_calls, 1);
	assert_int_equal(stats(f.fw).stun, 1);
	assert_int_equal(stats(f.fw).dgrams_in, 2);
	/* nothing else reached the service */
	run_rounds(5);
	assert_int_equal(recv(f.tfd, u.buf, sizeof(u.buf), 0), -1);
	close(r);
	udp_fix_down(&f);
}

/* A session idle for 120 s (the default) is removed (fake clock). */
static void
test_udp_expiry(void **state)
{
	struct udp_fix f;
	uint16_t rport, p1;
	uint64_t t0;
	int r;

	(void)state;
	loop_set_clock(fake_clock);
	fake_now = t0 = 5000000;
	udp_fix_up(&f, NULL);
	r = bound(SOCK_DGRAM, 0, &rport);
	udp_send(r, f.bport, "one", 3);
	p1 = udp_expect(f.tfd, "one");
	fake_now = t0 + 60000;
	udp_send(f.tfd, p1, "two", 3);	/* an answer is traffic too */
	udp_expect(r, "two");
	fake_now = t0 + 60000 + 120000 - 1;
	run_rounds(3);
	assert_int_equal(stats(f.fw).active, 1);
	fake_now = t0 + 60000 + 120000;
	run_rounds(3);
	assert_int_equal(stats(f.fw).active, 0);
	assert_int_equal(stats(f.fw).idle, 1);
	/* the remote comes back: a new session */
	udp_send(r, f.bport, "three", 5);
	udp_expect(f.tfd, "three");
	assert_int_equal(stats(f.fw).active, 1);
	assert_int_equal(stats(f.fw).accepted, 2);
	close(r);
	udp_fix_down(&f);
	loop_set_clock(NULL);
}

/* Past max_conns sessions, the least recently used one goes. */
static void
test_udp_lru(void **state)
{
	struct forward_opts o = { .max_conns = 3 };
	struct udp_fix f;
	uint16_t rport[4], sp[4];
	int r[4], i;
	enum { A, B, C, D };

	(void)state;
	udp_fix_up(&f, &o);
	for (i = 0; i < 4; i++)
		r[i] = bound(SOCK_DGRAM, 0, &rport[i]);
	udp_send(r[A], f.bport, "a", 1);
	sp[A] = udp_expect(f.tfd, "a");
	udp_send(r[B], f.bport, "b", 1);
	sp[B] = udp_expect(f.tfd, "b");
	udp_send(r[C], f.bport, "c", 1);
	sp[C] = udp_expect(f.tfd, "c");
	udp_send(r[A], f.bport, "a", 1);	/* A is used again: B is the oldest */
	assert_int_equal(udp_expect(f.tfd, "a"), sp[A]);
	udp_send(r[D], f.bport, "d", 1);
	sp[D] = udp_expect(f.tfd, "d");
	assert_int_equal(stats(f.fw).evicted, 1);
	assert_int_equal(stats(f.fw).active, 3);
	/* A and C kept theirs */
	udp_send(r[A], f.bport, "a", 1);
	assert_int_equal(udp_expect(f.tfd, "a"), sp[A]);
	udp_send(r[C], f.bport, "c", 1);
	assert_int_equal(udp_expect(f.tfd, "c"), sp[C]);
	/* B's was the one that went: a new one, for which D's goes */
	udp_send(r[B], f.bport, "b", 1);
	udp_expect(f.tfd, "b");
	assert_int_equal(stats(f.fw).accepted, 5);
	assert_int_equal(stats(f.fw).evicted, 2);
	udp_send(r[A], f.bport, "a", 1);
	assert_int_equal(udp_expect(f.tfd, "a"), sp[A]);
	assert_int_equal(stats(f.fw).accepted, 5);
	for (i = 0; i < 4; i++)
		close(r[i]);
	udp_fix_down(&f);
}

/* Each TCP test with recv()/send() and with splice(2). */
#define BOTH(f)							\
static void								\
f##_rw(void **state)							\
{									\
	copy_mode = FORWARD_COPY_RW;					\
	f(state);							\
}									\
static void								\
f##_splice(void **state)						\
{									\
	copy_mode = FORWARD_COPY_SPLICE;				\
	f(state);							\
}
BOTH(test_tcp_bulk)
BOTH(test_tcp_half_close)
BOTH(test_tcp_refused)
BOTH(test_tcp_idle)
BOTH(test_tcp_cap)
BOTH(test_tcp_many)
BOTH(test_tcp_connect_timeout)
BOTH(test_tcp_v6_target)
BOTH(test_tcp_reset)

int
main(void)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_bulk_rw),
		cmocka_unit_test(test_tcp_half_close_rw),
		cmocka_unit_test(test_tcp_refused_rw),
		cmocka_unit_test_teardown(test_tcp_idle_rw, real_clock),
		cmocka_unit_test(test_tcp_cap_rw),
		cmocka_unit_test(test_tcp_many_rw),
		cmocka_unit_test(test_tcp_bulk_splice),
		cmocka_unit_test(test_tcp_half_close_splice),
		cmocka_unit_test(test_tcp_refused_splice),
		cmocka_unit_test_teardown(test_tcp_idle_splice, real_clock),
		cmocka_unit_test(test_tcp_cap_splice),
		cmocka_unit_test(test_tcp_many_splice),
		cmocka_unit_test_teardown(test_tcp_connect_timeout_rw,
		    real_clock),
		cmocka_unit_test_teardown(test_tcp_connect_timeout_splice,
		    real_clock),
		cmocka_unit_test(test_tcp_v6_target_rw),
		cmocka_unit_test(test_tcp_v6_target_splice),
		cmocka_unit_test(test_tcp_reset_rw),
		cmocka_unit_test(test_tcp_reset_splice),
		cmocka_unit_test(test_tcp_accept_cb),
		cmocka_unit_test(test_udp_remotes),
		cmocka_unit_test(test_udp_stun),
		cmocka_unit_test_teardown(test_udp_expiry, real_clock),
		cmocka_unit_test(test_udp_lru),
	};

	log_init(1, 0);
	if (tu_netns_enter() == -1)
		tu_skip_tests(tests, TU_ARRAY_LEN(tests),
		    "needs root and network namespaces");
	return TU_RUN("forward", tests);
}
