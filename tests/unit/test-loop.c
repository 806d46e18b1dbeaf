/* SPDX-License-Identifier: ISC */
/* Timers and descriptors of the event loop. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

static uint64_t	fake_now;
static int	fired[4];
static struct timer t[4];

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static void
cb(struct timer *tm)
{
	fired[tm - t]++;
}

/* Timers fire in deadline order, only when due, and can be stopped or re-armed. */
static void
test_timer_order(void **state)
{
	int i;

	(void)state;
	loop_set_clock(fake_clock);
	fake_now = 500;
	memset(fired, 0, sizeof(fired));
	for (i = 0; i < 4; i++)
		timer_init(&t[i], cb);
	timer_set(&t[0], 30);
	timer_set(&t[1], 10);
	timer_set(&t[2], 20);
	timer_set(&t[3], 40);
	timer_stop(&t[3]);
	assert_int_equal(timer_remaining(&t[0]), 30);
	assert_true(timer_remaining(&t[3]) == UINT64_MAX);
	fake_now = 509;
	assert_int_equal(loop_run_timers(), 0);
	fake_now = 520;
	assert_int_equal(loop_run_timers(), 2);
	assert_int_equal(fired[1], 1);
	assert_int_equal(fired[2], 1);
	assert_int_equal(fired[0], 0);
	timer_set(&t[0], 100);		/* re-arming moves it */
	fake_now = 600;
	assert_int_equal(loop_run_timers(), 0);
	fake_now = 620;
	assert_int_equal(loop_run_timers(), 1);
	assert_false(timer_armed(&t[0]));
	assert_int_equal(fired[3], 0);
	loop_set_clock(NULL);
}

static int	fd_events;

static void
fd_cb(struct loop_fd *lf, int ev)
{
	char c;

	if (ev & LOOP_READ)
		assert_int_equal(read(lf->fd, &c, 1), 1);
	fd_events++;
}

/* A readable descriptor wakes the loop; a due timer bounds the wait. */
static void
test_fd_and_wait(void **state)
{
	struct loop_fd lf;
	int p[2];
	uint64_t t0;

	(void)state;
	memset(&lf, 0, sizeof(lf));
	assert_int_equal(pipe(p), 0);
	loop_fd_add(&lf, p[0], LOOP_READ, fd_cb);
	assert_int_equal(write(p[1], "x", 1), 1);
	fd_events = 0;
	loop_once(1000);
	assert_int_equal(fd_events, 1);
	timer_init(&t[0], cb);
	memset(fired, 0, sizeof(fired));
	timer_set(&t[0], 20);
	t0 = loop_now();
	loop_once(5000);		/* returns when the timer is due */
	assert_true(loop_now() - t0 < 1000);
	assert_int_equal(fired[0], 1);
	loop_fd_del(&lf);
	close(p[0]);
	close(p[1]);
}

/* Every watched descriptor is polled, however many (once only 256 were). */
#define MANY_FDS	300		/* 600 descriptors: within the usual 1024 */

static int	many_reads;

static void
many_cb(struct loop_fd *lf, int ev)
{
	char c;

	assert_true(ev & LOOP_READ);
	assert_int_equal(read(lf->fd, &c, 1), 1);
	many_reads++;
}

static void
test_many_fds(void **state)
{
	static struct loop_fd lf[MANY_FDS];
	static int p[MANY_FDS][2];
	int i, rounds;

	(void)state;
	many_reads = 0;
	memset(lf, 0, sizeof(lf));
	for (i = 0; i < MANY_FDS; i++) {
		assert_int_equal(pipe(p[i]), 0);
		loop_fd_add(&lf[i], p[i][0], LOOP_READ, many_cb);
	}
	/* the oldest descriptors are the last in the loop's list */
	for (i = 0; i < MANY_FDS; i++)
		assert_int_equal(write(p[i][1], "", 1), 1);
	for (rounds = 0; rounds < 5; rounds++)
		loop_once(100);
	assert_int_equal(many_reads, MANY_FDS);
	for (i = 0; i < MANY_FDS; i++) {
		loop_fd_del(&lf[i]);
		close(p[i][0]);
		close(p[i][1]);
	}
}

/* Jitter stays within its bounds. */
static void
test_jitter(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		uint64_t j = loop_jitter(1000, 20);

		assert_true(j >= 800 && j <= 1200);
		assert_true(loop_random(7) < 7);
	}
	assert_int_equal(loop_jitter(0, 20), 0);
	assert_int_equal(loop_random(1), 0);
}

/* A backoff doubles from its floor to its ceiling, each wait within 20%. */
static void
test_backoff(void **state)
{
	uint64_t b = 0, step = 1000, d;
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		d = loop_backoff(&b, 1000, 60000);
		assert_true(d >= step * 8 / 10);
		assert_true(d <= step * 12 / 10 && d <= 60000);
		step = step * 2 > 60000 ? 60000 : step * 2;
		assert_int_equal(b, step);
	}
	b = 10;		/* below the floor: the floor */
	d = loop_backoff(&b, 500, 4000);
	assert_true(d >= 400 && d <= 600);
	assert_int_equal(b, 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_fd_and_wait),
		cmocka_unit_test(test_many_fds),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
