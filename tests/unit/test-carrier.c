/* SPDX-License-Identifier: ISC */
/* Unit tests of carrier.c: the keys of a carrier's number in a session, two carriers up on connections handed to them (as the relay's are), the carrier port held toward a peer, then moved, and the STUN look-up started again while due. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "carrier.h"
#include "crypto.h"
#include "loop.h"

struct side {
	struct carrier	*c;
	int		 up, down;
	char		 why[128];
};

static int
cb_service(const char *peer, const char *name, int relayed,
    struct sockaddr_storage *t, void *arg)
{
	(void)peer;
	(void)name;
	(void)relayed;
	(void)t;
	(void)arg;
	return 1;
}

static void
cb_up(struct carrier *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->up++;
}

static void
cb_down(struct carrier *c, const char *why, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->down++;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static const struct carrier_ops ops = {
	.service = cb_service,
	.up = cb_up,
	.down = cb_down,
};

/* The keys of one session as its two sides hold them. */
static void
session_pair(struct session_keys *i, struct session_keys *r)
{
	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	memset(i->tcp_send, 0x11, sizeof(i->tcp_send));
	memset(i->tcp_recv, 0x22, sizeof(i->tcp_recv));
	memcpy(r->tcp_send, i->tcp_recv, sizeof(r->tcp_send));
	memcpy(r->tcp_recv, i->tcp_send, sizeof(r->tcp_recv));
}

/* Number 0 is the session's; 1 and 2 differ from it and from each other;
 * the two sides derive one pair; the cipher is the session's. */
static void
test_keys(void **state)
{
	struct session_keys i, r, i0, i1, i2, r1;

	(void)state;
	session_pair(&i, &r);
	i.cipher = CRYPTO_AES256_GCM;
	memset(&i0, 0, sizeof(i0));
	memset(&i1, 0, sizeof(i1));
	carrier_keys(&i, 0, &i0);
	carrier_keys(&i, 1, &i1);
	carrier_keys(&i, 2, &i2);
	carrier_keys(&r, 1, &r1);
	assert_memory_equal(i0.tcp_send, i.tcp_send, SESSION_KEY_LEN);
	assert_memory_equal(i0.tcp_recv, i.tcp_recv, SESSION_KEY_LEN);
	assert_memory_not_equal(i1.tcp_send, i.tcp_send, SESSION_KEY_LEN);
	assert_memory_not_equal(i1.tcp_recv, i.tcp_recv, SESSION_KEY_LEN);
	assert_memory_not_equal(i1.tcp_send, i2.tcp_send, SESSION_KEY_LEN);
	assert_memory_not_equal(i1.tcp_send, i1.tcp_recv, SESSION_KEY_LEN);
	assert_memory_equal(i1.tcp_send, r1.tcp_recv, SESSION_KEY_LEN);
	assert_memory_equal(i1.tcp_recv, r1.tcp_send, SESSION_KEY_LEN);
	/* the session's cipher goes with the keys */
	assert_int_equal(i0.cipher, CRYPTO_AES256_GCM);
	assert_int_equal(i1.cipher, CRYPTO_AES256_GCM);
	assert_int_equal(r1.cipher, CRYPTO_CHACHA20_POLY1305);
}

/* The initiator's side of the session: beta, attempt 1, 2 s. */
static void
initiator_params(struct carrier_params *p, const struct session_keys *ki)
{
	memset(p, 0, sizeof(*p));
	p->peer = "beta";
	memset(p->sid, 0x5a, sizeof(p->sid));
	p->attempt = 1;
	p->deadline = loop_now() + 2000;
	p->initiator = 1;
	p->keys = ki;
}

/*
 * An initiator of number gi and a responder of number gr of one session,
 * on a socketpair handed to both with carrier_take_conn; the loop run
 * until both are up or 2 s passed.
 */
static void
pair_run(uint8_t gi, uint8_t gr, struct side *a, struct side *b)
{
	struct session_keys ki, kr;
	struct carrier_params p;
	int sv[2], n;

	session_pair(&ki, &kr);
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	initiator_params(&p, &ki);
	p.gen = gi;
	a->c = carrier_start(&p, &ops, a);
	p.peer = "alpha";
	p.initiator = 0;
	p.keys = &kr;
	p.gen = gr;
	b->c = carrier_start(&p, &ops, b);
	assert_non_null(a->c);
	assert_non_null(b->c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	assert_int_equal(carrier_take_conn(a->c, sv[0]), 0);
	assert_int_equal(carrier_take_conn(b->c, sv[1]), 0);
	for (n = 0; n < 200 && (a->up == 0 || b->up == 0) &&
	    a->down == 0 && b->down == 0; n++)
		loop_once(10);
}

/* Number 1 on both sides: up, and up through the connection handed over
 * (carrier_relayed), as number 0 is. */
static void
test_up(void **state)
{
	struct side a, b;
	uint8_t g;

	(void)state;
	for (g = 0; g < 2; g++) {
		pair_run(g, g, &a, &b);
		assert_int_equal(a.up, 1);
		assert_int_equal(b.up, 1);
		assert_true(carrier_is_up(a.c));
		assert_true(carrier_relayed(a.c));
		assert_true(carrier_relayed(b.c));
		carrier_free(a.c);
		carrier_free(b.c);
	}
	assert_false(carrier_relayed(NULL));
}

/* Numbers that differ: the responder finds the HELLO wrong, neither is up
 * (a connection of the one never passes for the other). */
static void
test_other_number(void **state)
{
	struct side a, b;

	(void)state;
	pair_run(1, 0, &a, &b);
	assert_int_equal(a.up, 0);
	assert_int_equal(b.up, 0);
	assert_false(carrier_is_up(a.c));
	assert_false(carrier_is_up(b.c));
	carrier_free(a.c);
	carrier_free(b.c);
	pair_run(0, 1, &a, &b);
	assert_int_equal(a.up + b.up, 0);
	carrier_free(a.c);
	carrier_free(b.c);
}

/* A loopback IPv4 address of port, in ss. */
static void
lo4(struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
}

static uint16_t
port_of(int fd, int peer)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	assert_int_equal(peer ? getpeername(fd, (struct sockaddr *)&sin, &sl) :
	    getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	return ntohs(sin.sin_port);
}

/* A blocking connect to 127.0.0.1:port: 0, or the errno. */
static int
connect_lo(uint16_t port, int *fdp)
{
	struct sockaddr_storage ss;
	int fd, e = 0;

	lo4(&ss, port);
	assert_int_not_equal(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	if (connect(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) ==
	    -1)
		e = errno;
	if (fdp != NULL && e == 0)
		*fdp = fd;
	else
		close(fd);
	return e;
}

static struct carrier *
start_to(uint16_t port, struct side *s)
{
	struct session_keys ki, kr;
	struct carrier_params p;
	struct sockaddr_storage cand;

	session_pair(&ki, &kr);
	memset(s, 0, sizeof(*s));
	initiator_params(&p, &ki);
	lo4(&cand, port);
	p.cand = &cand;
	p.ncand = 1;
	return carrier_start(&p, &ops, s);
}

/*
 * A connection the listener holds from the peer's endpoint (here one in
 * its queue, as a half-open one is in the kernel's) takes the four numbers
 * a try needs: the carrier says so (carrier_held).  carrier_port_move then
 * gives another number of the range, listening; the old one no longer is;
 * a carrier started after it connects from the new one, and is not held.
 */
static void
test_held_move(void **state)
{
	struct sockaddr_in sin;
	struct side a, b;
	uint16_t port, np, q;
	int peer, lq, fd = -1, n;

	(void)state;
	assert_int_equal(carrier_port_open(47000, 47999, &port), 0);
	assert_in_range(port, 47000, 47999);
	/* the peer's connection to our port, not accepted yet */
	assert_int_not_equal(peer = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	assert_int_equal(connect(peer, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	q = port_of(peer, 0);
	a.c = start_to(q, &a);
	assert_non_null(a.c);
	assert_true(carrier_held(a.c));
	carrier_free(a.c);
	close(peer);

	assert_int_equal(carrier_port_move(&np), 0);
	assert_int_not_equal(np, port);
	assert_in_range(np, 47000, 47999);
	assert_int_equal(carrier_srflx()->ss_family, AF_UNSPEC);
	assert_int_equal(connect_lo(np, NULL), 0);
	assert_int_equal(connect_lo(port, NULL), ECONNREFUSED);

	/* a listener of the peer's: the new carrier's try comes from np */
	assert_int_not_equal(lq = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lq, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lq, 4), 0);
	b.c = start_to(port_of(lq, 0), &b);
	assert_non_null(b.c);
	for (n = 0; n < 100 && fd == -1; n++) {
		loop_once(10);
		fd = accept4(lq, NULL, NULL, SOCK_NONBLOCK);
	}
	assert_int_not_equal(fd, -1);
	assert_int_equal(port_of(fd, 1), np);
	assert_false(carrier_held(b.c));
	close(fd);
	close(lq);
	carrier_free(b.c);
	carrier_port_close();
}

static uint64_t fake_now = 1000000;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static int other_fired;

static void
other_cb(struct timer *t)
{
	(void)t;
	other_fired++;
}

/*
 * carrier_stun_start again while the first's look-up is still due (the
 * rendezvous servers resolved again): the loop's other timers keep firing.
 * Once, initialising the armed timer cut them from the loop's list.
 */
static void
test_stun_again(void **state)
{
	struct sockaddr_storage server;
	struct sockaddr_in *sin = (struct sockaddr_in *)&server;
	struct timer other;
	uint16_t port;
	int n;

	(void)state;
	loop_set_clock(fake_clock);
	assert_int_equal(carrier_port_open(47000, 47999, &port), 0);
	memset(&server, 0, sizeof(server));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(9);	/* nothing listens: refused, retried */
	timer_init(&other, other_cb);
	other_fired = 0;
	timer_set(&other, 50);
	carrier_stun_start(&server);
	carrier_stun_start(&server);
	for (n = 0; n < 10 && other_fired == 0; n++) {
		fake_now += 20;
		loop_run_timers();
	}
	assert_int_equal(other_fired, 1);
	assert_false(timer_armed(&other));
	carrier_port_close();
	loop_set_clock(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_up),
		cmocka_unit_test(test_other_number),
		cmocka_unit_test(test_held_move),
		cmocka_unit_test(test_stun_again),
	};
	char err[256];

	if (crypto_load(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return TU_RUN("carrier", tests);
}
