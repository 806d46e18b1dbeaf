/* SPDX-License-Identifier: ISC */
/* The race between protocol drivers (src/gateway.c) with two fake drivers and a fake clock. */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "driver.h"
#include "gateway.h"
#include "loop.h"

static uint64_t	fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static void
advance(uint64_t ms)
{
	uint64_t t = fake_now + ms;

	while (fake_now < t) {
		fake_now++;
		loop_run_timers();
	}
}

/* One fake driver: when it was probed, its callback, and what to answer at once. */
struct fake {
	int		 probes;
	uint64_t	 probed_at;
	int		 cancels;
	drv_probe_cb	 cb;
	int		 sync_status;	/* answer from inside probe(): 1 ok, -1 fail */
	int		 refuse;	/* probe() returns -1 */
};

static struct fake	fk[2];
static const char	*device = "192.168.77.1";	/* who answers */
static const struct mapping_driver better_drv, worse_drv;

static struct fake *
fake_of(const struct mapping_driver *d)
{
	return d == &better_drv ? &fk[0] : &fk[1];
}

static void
answer(const struct mapping_driver *d, int ok, const char *ext)
{
	struct fake *f = fake_of(d);
	struct drv_gateway gw;
	drv_probe_cb cb = f->cb;

	assert_non_null(cb);
	f->cb = NULL;
	memset(&gw, 0, sizeof(gw));
	snprintf(gw.name, sizeof(gw.name), "%s", d->name);
	snprintf(gw.where, sizeof(gw.where), "%s-where", d->id);
	inet_pton(AF_INET, ext != NULL ? ext : "0.0.0.0", &gw.external);
	inet_pton(AF_INET, device, &gw.addr);
	if (ok)
		cb(d, DRV_OK, &gw, NULL);
	else
		cb(d, DRV_ERR_GATEWAY, NULL, "nothing there");
}

static int
probe_any(const struct mapping_driver *d, drv_probe_cb cb)
{
	struct fake *f = fake_of(d);

	if (f->refuse)
		return -1;
	f->probes++;
	f->probed_at = fake_now;
	f->cb = cb;
	if (f->sync_status != 0)
		answer(d, f->sync_status > 0, "203.0.113.9");
	return 0;
}

static int
better_probe(const struct drv_env *env, drv_probe_cb cb)
{
	(void)env;
	return probe_any(&better_drv, cb);
}

static int
worse_probe(const struct drv_env *env, drv_probe_cb cb)
{
	(void)env;
	return probe_any(&worse_drv, cb);
}

static void
better_cancel(void)
{
	fk[0].cancels++;
	fk[0].cb = NULL;
}

/* Present, never called here: it marks the driver that looks mappings up. */
static int
worse_verify(struct drv_op *op, const struct drv_map *m)
{
	(void)op;
	(void)m;
	return -1;
}

static void
worse_cancel(void)
{
	fk[1].cancels++;
	fk[1].cb = NULL;
}

static const struct mapping_driver better_drv = {
	.name = "BETTER", .id = "better",
	.probe = better_probe, .probe_cancel = better_cancel,
};
/* Waits 30 ms unless the better one has failed, as UPnP does. */
static const struct mapping_driver worse_drv = {
	.name = "WORSE", .id = "worse", .probe_delay_ms = 30,
	.probe = worse_probe, .probe_cancel = worse_cancel,
	.verify = worse_verify,
};
static const struct mapping_driver *const drivers[] = {
	&better_drv, &worse_drv,
};

static int				 ndone;
static const struct gateway_slot	*winner;
static uint64_t				 done_at;

static void
on_done(const struct gateway_slot *best)
{
	ndone++;
	winner = best;
	done_at = fake_now;
}

static int
setup(void **state)
{
	(void)state;
	fake_now = 1000;
	loop_set_clock(fake_clock);
	memset(fk, 0, sizeof(fk));
	ndone = 0;
	winner = NULL;
	gateway_race_init(drivers, 2);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	gateway_race_cancel();
	return 0;
}

static void
start(int mode)
{
	struct drv_env env;

	memset(&env, 0, sizeof(env));
	assert_int_equal(gateway_race_start(&env, mode, on_done), 0);
}

/* The better driver answers first: it wins at once, the other never starts. */
static void
test_better_first(void **state)
{
	(void)state;
	start(GATEWAY_RACE_BEST);
	assert_int_equal(fk[0].probes, 1);
	assert_int_equal(fk[1].probes, 0);	/* deferred */
	advance(10);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(ndone, 1);
	assert_ptr_equal(winner->drv, &better_drv);
	assert_int_equal(winner->ms, 10);
	advance(100);
	assert_int_equal(fk[1].probes, 0);
	assert_false(gateway_race_running());
}

/* The worse answers first: it waits the grace time for the better one. */
static void
test_grace_better_wins(void **state)
{
	(void)state;
	start(GATEWAY_RACE_BEST);
	advance(30);
	assert_int_equal(fk[1].probes, 1);
	assert_int_equal(fk[1].probed_at, 1030);
	advance(5);
	answer(&worse_drv, 1, "203.0.113.2");
	assert_int_equal(ndone, 0);
	advance(GATEWAY_GRACE_MS - 10);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(ndone, 1);
	assert_ptr_equal(winner->drv, &better_drv);
}

/* ... and takes the worse one when the better stays silent; the better is cancelled. */
static void
test_grace_over(void **state)
{
	(void)state;
	start(GATEWAY_RACE_BEST);
	advance(40);
	answer(&worse_drv, 1, "203.0.113.2");
	advance(GATEWAY_GRACE_MS - 1);
	assert_int_equal(ndone, 0);
	advance(1);
	assert_int_equal(ndone, 1);
	assert_ptr_equal(winner->drv, &worse_drv);
	assert_int_equal(done_at, 1040 + GATEWAY_GRACE_MS);
	assert_int_equal(fk[0].cancels, 1);
	assert_int_equal(gateway_race_slot(0)->state, GATEWAY_SLOT_FAILED);
	assert_string_equal(gateway_race_slot(0)->detail, "no answer in time");
}

/* The better one fails: the deferred one starts at once, before its delay. */
static void
test_failure_starts_deferred(void **state)
{
	(void)state;
	start(GATEWAY_RACE_BEST);
	advance(5);
	answer(&better_drv, 0, NULL);
	assert_int_equal(fk[1].probes, 1);
	assert_int_equal(fk[1].probed_at, 1005);
	answer(&worse_drv, 1, "203.0.113.2");
	assert_int_equal(ndone, 1);
	assert_ptr_equal(winner->drv, &worse_drv);
	advance(100);
	assert_int_equal(fk[1].probes, 1);	/* not twice */
}

/* Both fail: done with none, and the reasons of both. */
static void
test_both_fail(void **state)
{
	char why[256];

	(void)state;
	start(GATEWAY_RACE_BEST);
	advance(40);
	answer(&worse_drv, 0, NULL);
	assert_int_equal(ndone, 0);
	answer(&better_drv, 0, NULL);
	assert_int_equal(ndone, 1);
	assert_null(winner);
	gateway_race_why(why, sizeof(why));
	assert_string_equal(why, "BETTER: nothing there; WORSE: nothing there");
}

/* A driver that cannot send counts as failed, and says so. */
static void
test_cannot_send(void **state)
{
	char why[256];

	(void)state;
	fk[0].refuse = 1;
	fk[1].refuse = 1;
	start(GATEWAY_RACE_BEST);
	assert_int_equal(ndone, 1);
	assert_null(winner);
	gateway_race_why(why, sizeof(why));
	assert_string_equal(why, "BETTER: cannot send; WORSE: cannot send");
}

/* An answer from inside probe() ends the race inside start. */
static void
test_answer_at_once(void **state)
{
	(void)state;
	fk[0].sync_status = 1;
	start(GATEWAY_RACE_BEST);
	assert_int_equal(ndone, 1);
	assert_ptr_equal(winner->drv, &better_drv);
	assert_false(gateway_race_running());
}

/* --probe's mode: every driver to the end, the best reported. */
static void
test_all(void **state)
{
	(void)state;
	start(GATEWAY_RACE_ALL);
	advance(20);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(ndone, 0);
	advance(10);
	assert_int_equal(fk[1].probes, 1);
	advance(500);
	assert_int_equal(ndone, 0);	/* no grace: it waits */
	answer(&worse_drv, 0, NULL);
	assert_int_equal(ndone, 1);
	assert_ptr_equal(winner->drv, &better_drv);
	assert_int_equal(gateway_race_slot(0)->state, GATEWAY_SLOT_OK);
	assert_int_equal(gateway_race_slot(0)->ms, 20);
	assert_int_equal(gateway_race_slot(1)->state, GATEWAY_SLOT_FAILED);
	assert_int_equal(gateway_race_slot(1)->ms, 530);
	assert_null(gateway_race_slot(2));
}

/* Cancelled: no callback; a second start while running is refused. */
static void
test_cancel_and_busy(void **state)
{
	struct drv_env env;

	(void)state;
	memset(&env, 0, sizeof(env));
	start(GATEWAY_RACE_BEST);
	errno = 0;
	assert_int_equal(gateway_race_start(&env, GATEWAY_RACE_BEST, on_done),
	    -1);
	assert_int_equal(errno, EBUSY);
	gateway_race_cancel();
	assert_int_equal(fk[0].cancels, 1);
	assert_int_equal(fk[1].cancels, 0);	/* never started */
	advance(1000);
	assert_int_equal(ndone, 0);
	assert_int_equal(fk[1].probes, 0);
	/* and it starts again */
	start(GATEWAY_RACE_BEST);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(ndone, 1);
}

static int				 nfound;
static const struct mapping_driver	*found_drv;

static void
on_found(const struct mapping_driver *d, const struct drv_gateway *gw)
{
	(void)gw;
	nfound++;
	found_drv = d;
}

/* A gateway found through a driver that cannot look up: the other is asked. */
static void
test_lookup(void **state)
{
	struct drv_env env;

	(void)state;
	memset(&env, 0, sizeof(env));
	inet_pton(AF_INET, "192.168.77.1", &env.gateway);
	nfound = 0;
	found_drv = NULL;
	assert_int_equal(gateway_lookup_start(&env, &better_drv, on_found), 0);
	assert_int_equal(fk[1].probes, 1);
	assert_int_equal(fk[0].probes, 0);
	answer(&worse_drv, 1, "203.0.113.2");
	assert_int_equal(nfound, 1);
	assert_ptr_equal(found_drv, &worse_drv);

	/* the driver that can look up itself needs no other */
	errno = 0;
	assert_int_equal(gateway_lookup_start(&env, &worse_drv, on_found), -1);
	assert_int_equal(errno, ENOENT);

	/* another device answering is not the gateway's table */
	device = "192.168.77.99";
	assert_int_equal(gateway_lookup_start(&env, &better_drv, on_found), 0);
	answer(&worse_drv, 1, "203.0.113.2");
	assert_int_equal(nfound, 1);
	device = "192.168.77.1";

	/* nor a failure; and a race started meanwhile cancels the look */
	assert_int_equal(gateway_lookup_start(&env, &better_drv, on_found), 0);
	answer(&worse_drv, 0, NULL);
	assert_int_equal(nfound, 1);
	assert_int_equal(gateway_lookup_start(&env, &better_drv, on_found), 0);
	start(GATEWAY_RACE_BEST);
	assert_int_equal(fk[1].cancels, 1);
	errno = 0;
	assert_int_equal(gateway_lookup_start(&env, &better_drv, on_found), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(nfound, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_better_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grace_better_wins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grace_over, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failure_starts_deferred,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_fail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cannot_send, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_answer_at_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_busy, setup,
		    teardown),
	};

	return TU_RUN("gateway", tests);
}
