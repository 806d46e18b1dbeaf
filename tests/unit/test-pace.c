/* SPDX-License-Identifier: ISC */
/* The pacing of requests against a fake driver and a fake clock. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "driver.h"
#include "log.h"
#include "loop.h"
#include "pace.h"

static uint64_t	fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

#define MAXREQ	256
#define NOPS	64

/* What the fake driver was asked, in order. */
static struct {
	struct {
		int		 kind;
		struct drv_op	*op;
		struct drv_map	 m;
		uint64_t	 at;
		int		 answered;
	}		req[MAXREQ];
	int		nreq;
	int		cancels;
	int		refuse;		/* map() and unmap() return -1 */
} F;

static int
fake_req(int kind, struct drv_op *op, const struct drv_map *m)
{
	if (F.refuse)
		return -1;
	assert_true(F.nreq < MAXREQ);
	F.req[F.nreq].kind = kind;
	F.req[F.nreq].op = op;
	F.req[F.nreq].m = *m;
	F.req[F.nreq].at = fake_now;
	F.req[F.nreq].answered = 0;
	op->priv = &F.req[F.nreq];
	F.nreq++;
	return 0;
}

static int
fake_map(struct drv_op *op, const struct drv_map *m)
{
	return fake_req(PACE_MAP, op, m);
}

static int
fake_unmap(struct drv_op *op, const struct drv_map *m)
{
	return fake_req(PACE_UNMAP, op, m);
}

static void
fake_cancel(struct drv_op *op)
{
	int i;

	for (i = 0; i < F.nreq; i++)
		if (F.req[i].op == op && !F.req[i].answered)
			F.req[i].answered = -1;
	op->priv = NULL;
	F.cancels++;
}

static int
fake_verify(struct drv_op *op, const struct drv_map *m)
{
	return fake_req(PACE_VERIFY, op, m);
}

static const struct mapping_driver fake_driver = {
	.name = "FAKE",
	.id = "fake",
	.map = fake_map,
	.unmap = fake_unmap,
	.verify = fake_verify,
	.cancel = fake_cancel,
};

/* A driver that cannot look a mapping up. */
static const struct mapping_driver blind_driver = {
	.name = "BLIND",
	.id = "blind",
	.map = fake_map,
	.unmap = fake_unmap,
	.cancel = fake_cancel,
};

/* The owners: what each op was told, last. */
static struct pace	P;
static struct pace_op	ops[NOPS];
static int		done_status[NOPS];
static int		done_count[NOPS];

static void
op_done(struct pace_op *o, const struct drv_result *res)
{
	int i = (int)(o - ops);

	done_status[i] = res->status;
	done_count[i]++;
}

/* Request i answered with r. */
static void
deliver(int i, const struct drv_result *r)
{
	struct drv_op *op = F.req[i].op;

	assert_true(i < F.nreq);
	assert_int_equal(F.req[i].answered, 0);
	F.req[i].answered = 1;
	op->priv = NULL;
	op->done(op, r);
}

/* Request i answered, after the driver sent it sends times (0: unsaid). */
static void
answer_after(int i, int status, unsigned int sends)
{
	struct drv_result r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.sends = sends;
	deliver(i, &r);
}

/*
 * Request i answered after the driver sent it sends times, its first copy
 * first ms after the hand-over and its last copy last ms before now.
 */
static void
answer_sent(int i, int status, unsigned int sends, uint64_t first,
    uint64_t last)
{
	struct drv_result r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.sends = sends;
	r.first_sent = F.req[i].at + first;
	r.last_sent = fake_now - last;
	deliver(i, &r);
}

static void
answer(int i, int status)
{
	answer_after(i, status, 0);
}

/* How many requests are out (sent, not answered nor cancelled). */
static int
out(void)
{
	int i, n = 0;

	for (i = 0; i < F.nreq; i++)
		if (F.req[i].answered == 0)
			n++;
	return n;
}

/* The oldest request still out. */
static int
oldest(void)
{
	int i;

	for (i = 0; i < F.nreq; i++)
		if (F.req[i].answered == 0)
			return i;
	fail_msg("no request out");
	return -1;
}

static void
queue(int n)
{
	struct drv_map m;
	int i;

	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.proto = DRV_UDP;
		m.int_port = (uint16_t)(10000 + i);
		m.ext_port = m.int_port;
		pace_map(&P, &ops[i], &fake_driver, &m);
	}
}

static int
setup(void **state)
{
	int i;

	(void)state;
	memset(&F, 0, sizeof(F));
	memset(done_status, 0xff, sizeof(done_status));
	memset(done_count, 0, sizeof(done_count));
	fake_now = 1000000;
	loop_set_clock(fake_clock);
	pace_init(&P);
	for (i = 0; i < NOPS; i++)
		pace_op_init(&ops[i], op_done);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pace_free(&P);
	loop_set_clock(NULL);
	return 0;
}

/* A few requests go out at first; a prompt answer makes room for two. */
static void
test_window_first(void **state)
{
	(void)state;
	queue(20);
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST);
	assert_true(pace_busy(&ops[19]));
	assert_false(pace_sent(&ops[19]));
	assert_true(pace_sent(&ops[0]));
	fake_now += 5;
	answer(0, DRV_OK);
	assert_int_equal(done_count[0], 1);
	assert_int_equal(done_status[0], DRV_OK);
	assert_false(pace_busy(&ops[0]));
	assert_int_equal(pace_window(&P), PACE_WINDOW_FIRST + 1);
	assert_int_equal(out(), PACE_WINDOW_FIRST + 1);
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST + 2);
	/* In the order queued. */
	assert_int_equal(F.req[F.nreq - 1].m.int_port, 10000 + F.nreq - 1);
}

/* A fast gateway: the window grows to its cap and no further. */
static void
test_window_cap(void **state)
{
	int i;

	(void)state;
	queue(NOPS);
	for (i = 0; i < 200 && out() > 0; i++) {
		fake_now += 1;
		answer(oldest(), DRV_OK);
		assert_true(out() <= PACE_WINDOW_MAX);
	}
	assert_int_equal(pace_window(&P), PACE_WINDOW_MAX);
	for (i = 0; i < NOPS; i++)
		assert_int_equal(done_count[i], 1);
	assert_int_equal(F.nreq, NOPS);
}

/*
 * A gateway that takes 300 ms a request, one after the other: the window
 * comes down to one or two, once a round, and never to zero.
 */
static void
test_slow_gateway(void **state)
{
	int i, maxout = 0, n = 0;

	(void)state;
	queue(NOPS);
	while (out() > 0) {
		fake_now += 300;	/* the router works on the oldest */
		answer(oldest(), DRV_OK);
		n++;
		assert_true(pace_window(&P) >= 1);
		if (n > 8 && out() > maxout)
			maxout = out();
	}
	for (i = 0; i < NOPS; i++)
		assert_int_equal(done_count[i], 1);
	assert_true(maxout >= 1);
	assert_true(maxout <= 3);
	/* The drivers are told not to retransmit before the answers come. */
	assert_true(F.req[NOPS - 1].m.rto_ms >= 300);
	assert_true(F.req[NOPS - 1].m.rto_ms <= PACE_RTO_MAX_MS);
	assert_int_equal(F.req[0].m.rto_ms, 0);
}

/*
 * Karn's rule: an answer that came after the driver sent the request
 * again (a lossy link) says nothing of the round trip, and does not make
 * the drivers wait longer before they retransmit the next ones.
 */
static void
test_retransmitted_answer_no_rtt(void **state)
{
	(void)state;
	queue(3);
	fake_now += 20;
	answer_after(0, DRV_OK, 1);
	assert_int_equal(pace_srtt(&P), 20);
	fake_now += 3000;		/* the fourth copy got through */
	answer_after(1, DRV_OK, 4);
	assert_int_equal(pace_srtt(&P), 20);
	fake_now += 3000;
	answer_after(2, DRV_OK, 1);	/* one send, 6 s: a slow router */
	assert_true(pace_srtt(&P) > 20);
}

/*
 * A driver that sends one request at a time (NAT-PMP) held the second
 * back while it sent the first again and again on a lossy link: neither
 * answer says the gateway is slow, and the round trip is the second's
 * own, from the driver's first copy, not from the hand-over.
 */
static void
test_held_back_by_driver(void **state)
{
	unsigned int w;

	(void)state;
	queue(2);
	w = pace_window(&P);
	fake_now += 3000;		/* its fourth copy, 10 ms ago, got through */
	answer_sent(0, DRV_OK, 4, 0, 10);
	assert_int_equal(pace_window(&P), w);
	assert_int_equal(pace_srtt(&P), 0);
	fake_now += 20;			/* the second, sent 20 ms ago, at once */
	answer_sent(1, DRV_OK, 1, 3000, 20);
	assert_int_equal(pace_srtt(&P), 20);
	assert_true(pace_window(&P) >= w);
	queue(3);			/* and the next wait no longer for it */
	assert_true(F.req[F.nreq - 1].m.rto_ms <= 100);
}

/*
 * An answer that came long even after the last copy is slow whatever
 * copy it answers; one soon after the last copy is loss, not slowness.
 */
static void
test_retransmitted_slow_or_lost(void **state)
{
	struct drv_map m;
	int i;

	(void)state;
	queue(1);
	fake_now += 10;
	answer(0, DRV_OK);		/* base 10 ms; window 5 */
	assert_int_equal(pace_window(&P), 5);
	memset(&m, 0, sizeof(m));
	for (i = 1; i < 5; i++) {
		m.int_port = (uint16_t)(20000 + i);
		pace_map(&P, &ops[i], &fake_driver, &m);
	}
	fake_now += 3000;
	answer_sent(1, DRV_OK, 3, 0, 5);	/* lost twice */
	assert_int_equal(pace_window(&P), 5);
	answer_sent(2, DRV_OK, 3, 0, 2000);	/* 2 s after the last copy */
	assert_true(pace_window(&P) < 5);
	assert_int_equal(pace_srtt(&P), 10);
}

/*
 * A slow answer brings the window down to what the gateway answers
 * promptly (here 70 ms of a 505 ms turn: one), at once; what was sent
 * before does not bring it lower, nor raise it.
 */
static void
test_slow_answer_fits(void **state)
{
	(void)state;
	queue(20);
	fake_now += 10;
	answer(0, DRV_OK);		/* base 10 ms; window 5 */
	assert_int_equal(pace_window(&P), 5);
	fake_now += 1000;
	answer(1, DRV_OK);		/* 2 out in 1010 ms, 70 ms prompt */
	assert_int_equal(pace_window(&P), 1);
	answer(2, DRV_OK);
	answer(3, DRV_OK);
	assert_int_equal(pace_window(&P), 1);
	assert_int_equal(done_count[3], 1);
	assert_int_equal(out(), 2);	/* sent before, still out */
}

/*
 * No answer at all to requests out together: the window halves once,
 * not once each.
 */
static void
test_no_answer_halves_once(void **state)
{
	struct drv_map m;
	int i;

	(void)state;
	queue(1);
	fake_now += 10;
	answer(0, DRV_OK);		/* window 5 */
	memset(&m, 0, sizeof(m));
	for (i = 1; i < 4; i++)
		pace_map(&P, &ops[i], &fake_driver, &m);
	assert_int_equal(F.nreq, 4);
	fake_now += 25000;
	answer(1, DRV_ERR_GATEWAY);
	answer(2, DRV_ERR_GATEWAY);
	answer(3, DRV_ERR_GATEWAY);
	assert_int_equal(pace_window(&P), 2);
	assert_int_equal(done_status[1], DRV_ERR_GATEWAY);
}

/*
 * A request unanswered while the gateway answers others is slow, not a
 * lost gateway: sent again (the owner hears nothing), then DRV_ERR_SLOW.
 */
static void
test_unanswered_while_others_are(void **state)
{
	int i, again, other;

	(void)state;
	queue(3);
	assert_int_equal(F.nreq, 3);
	fake_now += 100;
	answer(1, DRV_OK);
	answer(2, DRV_OK);
	again = 0;
	for (i = 0; i <= PACE_RESENDS; i++) {
		/* Another request, answered while this one waits. */
		pace_map(&P, &ops[3 + i], &fake_driver, &F.req[1].m);
		other = F.nreq - 1;
		assert_ptr_equal(F.req[other].op, &ops[3 + i].op);
		fake_now += 50;
		answer(other, DRV_OK);
		fake_now += 25000;	/* the retransmission budget is over */
		answer(again, DRV_ERR_GATEWAY);
		if (i < PACE_RESENDS) {
			/* Sent again; its owner hears nothing yet. */
			assert_int_equal(done_count[0], 0);
			again = F.nreq - 1;
			assert_ptr_equal(F.req[again].op, &ops[0].op);
			assert_int_equal(F.req[again].m.int_port, 10000);
		}
	}
	assert_int_equal(done_count[0], 1);
	assert_int_equal(done_status[0], DRV_ERR_SLOW);
	assert_true(pace_window(&P) < PACE_WINDOW_FIRST);
}

/* Nothing answered at all since the request went out: the gateway is lost. */
static void
test_silent_gateway_is_lost(void **state)
{
	(void)state;
	queue(1);
	fake_now += 10;
	answer(0, DRV_OK);
	assert_int_equal(pace_last_answer(&P), fake_now);
	queue(1);			/* the same op again */
	assert_int_equal(F.nreq, 2);
	fake_now += 25000;
	answer(1, DRV_ERR_GATEWAY);
	assert_int_equal(done_count[0], 2);
	assert_int_equal(done_status[0], DRV_ERR_GATEWAY);
	assert_int_equal(F.nreq, 2);
}

/*
 * Cancelling: a queued request is never sent; a sent one is cancelled in
 * the driver and its place in the window goes to the next, from the loop.
 */
static void
test_cancel(void **state)
{
	(void)state;
	queue(PACE_WINDOW_FIRST + 2);
	pace_cancel(&ops[PACE_WINDOW_FIRST + 1]);
	assert_false(pace_busy(&ops[PACE_WINDOW_FIRST + 1]));
	pace_cancel(&ops[0]);
	assert_int_equal(F.cancels, 1);
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST);
	loop_run_timers();
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST + 1);
	assert_int_equal(F.req[PACE_WINDOW_FIRST].m.int_port,
	    10000 + PACE_WINDOW_FIRST);
	fake_now += 5;
	answer(1, DRV_OK);
	answer(2, DRV_OK);
	answer(3, DRV_OK);
	answer(4, DRV_OK);
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST + 1);	/* none left */
	assert_int_equal(done_count[0], 0);
	assert_int_equal(done_count[PACE_WINDOW_FIRST + 1], 0);
}

/* A driver that cannot send: the owner hears DRV_ERR_GATEWAY, the window is free. */
static void
test_driver_refuses(void **state)
{
	(void)state;
	F.refuse = 1;
	queue(3);
	assert_int_equal(done_count[0], 1);
	assert_int_equal(done_status[0], DRV_ERR_GATEWAY);
	assert_int_equal(done_count[2], 1);
	F.refuse = 0;
	queue(3);
	assert_int_equal(F.nreq, 3);
}

/* A request queued again while out is cancelled in the driver first. */
static void
test_requeue(void **state)
{
	struct drv_map m;

	(void)state;
	queue(1);
	memset(&m, 0, sizeof(m));
	m.int_port = 10000;
	pace_unmap(&P, &ops[0], &fake_driver, &m);
	assert_int_equal(F.cancels, 1);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(F.req[1].kind, PACE_UNMAP);
	answer(1, DRV_OK);
	assert_int_equal(done_count[0], 1);
}

/* Looks at a whole table go out a window at a time, like the rest. */
static void
test_verify_paced(void **state)
{
	struct drv_map m;
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		memset(&m, 0, sizeof(m));
		m.proto = DRV_TCP;
		m.int_port = (uint16_t)(20000 + i);
		m.ext_port = m.int_port;
		pace_verify(&P, &ops[i], &fake_driver, &m);
	}
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST);
	for (i = 0; i < F.nreq; i++) {
		assert_int_equal(F.req[i].kind, PACE_VERIFY);
		assert_int_equal(F.req[i].m.int_port, 20000 + i);
	}
	/* A missing entry is an answer: the next look goes out. */
	answer(0, DRV_ERR_FAILED);
	assert_int_equal(done_count[0], 1);
	assert_int_equal(done_status[0], DRV_ERR_FAILED);
	assert_true(out() <= (int)pace_window(&P));
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST + 2);	/* and it grew */
	for (i = 0; i < 40 && out() > 0; i++)
		answer(oldest(), DRV_OK);
	assert_int_equal(out(), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(done_count[i], 1);
	assert_int_equal(F.nreq, 20);

	/* A driver without verify: the look fails at once, nothing sent. */
	memset(&m, 0, sizeof(m));
	m.int_port = 30000;
	pace_verify(&P, &ops[30], &blind_driver, &m);
	assert_int_equal(done_count[30], 1);
	assert_int_equal(done_status[30], DRV_ERR_GATEWAY);
	assert_int_equal(F.nreq, 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_window_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_window_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_gateway, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retransmitted_answer_no_rtt,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_back_by_driver,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmitted_slow_or_lost,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_answer_fits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_answer_halves_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_while_others_are,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_gateway_is_lost,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_requeue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_paced, setup,
		    teardown),
	};

	log_init(1, 0);
	return cmocka_run_group_tests_name("pace", tests, NULL, NULL);
}
