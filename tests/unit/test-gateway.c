/* SPDX-License-Identifier: ISC */
/* The race between protocol drivers and the gateway's life (src/gateway.c), with two fake drivers and a fake clock. */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
static const char	*where;		/* NULL: "<id>-where" */
static long		 bootid = -1;	/* the answer's BOOTID */
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
	if (where != NULL)
		snprintf(gw.where, sizeof(gw.where), "%s", where);
	else
		snprintf(gw.where, sizeof(gw.where), "%s-where", d->id);
	inet_pton(AF_INET, ext != NULL ? ext : "0.0.0.0", &gw.external);
	inet_pton(AF_INET, device, &gw.addr);
	gw.bootid = bootid;
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
	where = NULL;
	bootid = -1;
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

/* ---- the gateway's life: what the engine hears ---- */

static struct {
	int				 ready, lost, reset, checking, none;
	const struct mapping_driver	*drv;	/* ready()'s */
	int				 flags;
	int				 why;	/* lost()'s */
	char				 order[256];	/* "reset ready ..." */
} heard;

static void
heard_add(const char *what)
{
	size_t l = strlen(heard.order);

	snprintf(heard.order + l, sizeof(heard.order) - l, "%s%s",
	    l > 0 ? " " : "", what);
}

static void
on_ready(const struct mapping_driver *d, int flags)
{
	heard.ready++;
	heard.drv = d;
	heard.flags = flags;
	heard_add("ready");
}

static void
on_lost(int why)
{
	heard.lost++;
	heard.why = why;
	heard_add("lost");
}

static void
on_reset(void)
{
	heard.reset++;
	heard_add("reset");
}

static void
on_checking(void)
{
	heard.checking++;
	heard_add("checking");
}

static void
on_none(void)
{
	heard.none++;
	heard_add("none");
}

static const struct gateway_watcher watcher = {
	.ready = on_ready,
	.lost = on_lost,
	.reset = on_reset,
	.checking = on_checking,
	.none = on_none,
};

/* What the module logs (stderr) between cap_begin() and cap_end(). */
static FILE	*cap;
static int	 cap_saved = -1;
static char	 cap_buf[4096];

static void
cap_begin(void)
{
	fflush(stderr);
	assert_non_null(cap = tmpfile());
	cap_saved = dup(2);
	assert_true(cap_saved != -1);
	assert_int_equal(dup2(fileno(cap), 2), 2);
}

static const char *
cap_end(void)
{
	size_t n;

	cap_buf[0] = '\0';
	if (cap == NULL)
		return cap_buf;
	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	cap_saved = -1;
	rewind(cap);
	n = fread(cap_buf, 1, sizeof(cap_buf) - 1, cap);
	cap_buf[n] = '\0';
	fclose(cap);
	cap = NULL;
	return cap_buf;
}

static int
setup_life(void **state)
{
	struct in_addr gw;

	setup(state);
	memset(&heard, 0, sizeof(heard));
	gateway_init(drivers, 2, &watcher);
	inet_pton(AF_INET, "127.0.0.1", &gw);
	assert_int_equal(gateway_set_where(NULL, &gw), 1);
	assert_int_equal(gateway_set_where("", &gw), 0);
	return 0;
}

static int
teardown_life(void **state)
{
	(void)state;
	cap_end();
	gateway_free();
	return 0;
}

/* Run the clock until the better driver is probed again (at most ms); when. */
static uint64_t
next_probe(uint64_t ms)
{
	uint64_t end = fake_now + ms;
	int n = fk[0].probes;

	while (fake_now < end && fk[0].probes == n)
		advance(1);
	assert_int_equal(fk[0].probes, n + 1);
	return fake_now;
}

/* Neither driver answers: the better fails, then the worse it let start. */
static void
race_fails(void)
{
	answer(&better_drv, 0, NULL);
	answer(&worse_drv, 0, NULL);
}

/* Started, found through the better driver: ready, a new gateway. */
static void
life_found(void)
{
	gateway_start();
	assert_int_equal(fk[0].probes, 1);
	assert_false(gateway_is_ready());
	advance(10);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(heard.ready, 1);
	assert_true(gateway_is_ready());
	memset(&heard, 0, sizeof(heard));
}

/* The race's winner is the gateway: the engine hears it is ready, and new. */
static void
test_life_ready(void **state)
{
	char ext[INET_ADDRSTRLEN];

	(void)state;
	assert_false(gateway_is_ready());
	assert_false(gateway_was_found());
	assert_int_equal(gateway_check_now(), -1);
	gateway_start();
	assert_int_equal(fk[0].probes, 1);
	assert_int_equal(heard.ready, 0);
	advance(10);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(heard.ready, 1);
	assert_ptr_equal(heard.drv, &better_drv);
	assert_int_equal(heard.flags, GATEWAY_CHANGED);
	assert_string_equal(heard.order, "ready");
	assert_true(gateway_is_ready());
	assert_true(gateway_was_found());
	assert_string_equal(gateway_info()->where, "better-where");
	inet_ntop(AF_INET, &gateway_info()->external, ext, sizeof(ext));
	assert_string_equal(ext, "203.0.113.2");
	inet_ntop(AF_INET, &gateway_env()->gateway, ext, sizeof(ext));
	assert_string_equal(ext, "127.0.0.1");
	advance(1000);
	assert_int_equal(fk[1].probes, 0);	/* the race is over */
	assert_int_equal(heard.ready, 1);
}

/*
 * Lost: the engine hears it, the search starts at once and backs off
 * (1 s, 2 s, +-20%) while nothing answers; the same gateway found again
 * is not a new one.
 */
static void
test_life_lost_backoff(void **state)
{
	uint64_t failed, at;
	const char *log;

	(void)state;
	life_found();
	gateway_lost();
	assert_int_equal(heard.lost, 1);
	assert_int_equal(heard.why, GATEWAY_LOST_SILENT);
	assert_false(gateway_is_ready());
	assert_true(gateway_was_found());
	gateway_lost();			/* lost already: nothing more */
	assert_int_equal(heard.lost, 1);
	advance(1);
	assert_int_equal(fk[0].probes, 2);

	failed = fake_now;
	assert_int_equal(heard.none, 0);
	cap_begin();
	race_fails();
	log = cap_end();
	/* a search that found nothing is told, once a search */
	assert_int_equal(heard.none, 1);
	assert_non_null(strstr(log, "no gateway protocol answered on the "
	    "default route (BETTER: nothing there; WORSE: nothing there); "
	    "retrying in "));
	/* 0.8 to 1.2 s, rounded up */
	assert_true(strstr(log, " in 1s\n") != NULL ||
	    strstr(log, " in 2s\n") != NULL);
	advance(799);
	assert_int_equal(fk[0].probes, 2);
	at = next_probe(401);
	assert_true(at - failed >= 800 && at - failed <= 1200);

	failed = fake_now;
	race_fails();
	advance(1599);
	assert_int_equal(fk[0].probes, 3);
	at = next_probe(801);
	assert_true(at - failed >= 1600 && at - failed <= 2400);
	assert_int_equal(heard.ready, 0);
	assert_int_equal(heard.lost, 1);
	assert_int_equal(heard.none, 2);
	assert_string_equal(heard.order, "lost none none");

	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(heard.ready, 1);
	assert_int_equal(heard.flags, 0);	/* the same gateway */
	assert_int_equal(heard.reset, 0);
	assert_true(gateway_is_ready());

	/* found: the backoff starts over */
	gateway_lost();
	advance(1);
	failed = fake_now;
	race_fails();
	at = next_probe(1200);
	assert_true(at - failed >= 800);
}

/*
 * Every GATEWAY_CHECK_INTERVAL_S (+-10%) the gateway is probed again; the
 * same gateway at the same address is a check that says nothing: no line
 * in the log, no change, no reset.
 */
static void
test_life_check_quiet(void **state)
{
	uint64_t t0, at;

	(void)state;
	life_found();
	t0 = fake_now;
	cap_begin();
	at = next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	assert_true(at - t0 >= GATEWAY_CHECK_INTERVAL_S * 900);
	assert_int_equal(heard.checking, 1);
	assert_true(gateway_is_ready());	/* while it is checked */
	answer(&better_drv, 1, "203.0.113.2");
	assert_string_equal(cap_end(), "");
	assert_int_equal(heard.ready, 1);
	assert_int_equal(heard.flags, GATEWAY_CHECKED);
	assert_int_equal(heard.reset, 0);
	assert_int_equal(heard.lost, 0);
	assert_string_equal(heard.order, "checking ready");

	/* and again, one interval on */
	t0 = fake_now;
	at = next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	assert_true(at - t0 >= GATEWAY_CHECK_INTERVAL_S * 900);
	assert_int_equal(heard.checking, 2);
}

/* A check that gets no answer loses nothing: asked again soon, backing off. */
static void
test_life_check_silent(void **state)
{
	uint64_t failed, at;

	(void)state;
	life_found();
	next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	failed = fake_now;
	race_fails();
	assert_true(gateway_is_ready());
	assert_int_equal(heard.lost, 0);
	assert_int_equal(heard.ready, 0);
	assert_int_equal(heard.none, 0);	/* a check, not a search */
	at = next_probe(1200);
	assert_true(at - failed >= 800);
	assert_int_equal(heard.checking, 2);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(heard.flags, GATEWAY_CHECKED);
}

/*
 * A check finds another gateway (another description URL, then another
 * protocol): a change, logged; its address is its first, not a change of
 * the old one's.
 */
static void
test_life_check_other(void **state)
{
	const char *log;

	(void)state;
	life_found();
	next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	where = "http://192.168.77.1:5001/rootDesc.xml";
	cap_begin();
	answer(&better_drv, 1, "203.0.113.7");
	log = cap_end();
	assert_int_equal(heard.ready, 1);
	assert_int_equal(heard.flags, GATEWAY_CHANGED | GATEWAY_CHECKED);
	assert_int_equal(heard.reset, 0);
	assert_non_null(strstr(log, "BETTER gateway "
	    "http://192.168.77.1:5001/rootDesc.xml\n"));
	assert_non_null(strstr(log, ": external address 203.0.113.7\n"));
	assert_null(strstr(log, "public address"));
	assert_string_equal(gateway_info()->where,
	    "http://192.168.77.1:5001/rootDesc.xml");

	/* the better protocol is gone; the worse one answers the check */
	where = NULL;
	memset(&heard, 0, sizeof(heard));
	next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	answer(&better_drv, 0, NULL);
	answer(&worse_drv, 1, "203.0.113.7");
	assert_int_equal(heard.ready, 1);
	assert_ptr_equal(heard.drv, &worse_drv);
	assert_int_equal(heard.flags, GATEWAY_CHANGED | GATEWAY_CHECKED);
	assert_int_equal(heard.reset, 0);
}

/*
 * The same gateway with another external address, or another BOOTID:
 * a reset, told before ready(), once.
 */
static void
test_life_check_reset(void **state)
{
	(void)state;
	life_found();
	next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	cap_begin();
	answer(&better_drv, 1, "203.0.113.3");
	assert_non_null(strstr(cap_end(),
	    "public address 203.0.113.2 -> 203.0.113.3\n"));
	assert_string_equal(heard.order, "checking reset ready");
	assert_int_equal(heard.flags, GATEWAY_CHECKED);

	/* a BOOTID is a baseline first, a restart when it changes */
	memset(&heard, 0, sizeof(heard));
	bootid = 7;
	next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	answer(&better_drv, 1, "203.0.113.3");
	assert_int_equal(heard.reset, 0);
	bootid = 8;
	next_probe(GATEWAY_CHECK_INTERVAL_S * 1100);
	answer(&better_drv, 1, "203.0.113.3");
	assert_int_equal(heard.reset, 1);
	assert_int_equal(heard.ready, 2);
	assert_int_equal(heard.flags, GATEWAY_CHECKED);
}

/* What the engine's answers tell: an address changed, an epoch gone back. */
static void
test_life_notes(void **state)
{
	struct in_addr a;

	(void)state;
	life_found();
	inet_pton(AF_INET, "203.0.113.2", &a);
	assert_int_equal(gateway_note_external(a), 0);	/* the same */
	a.s_addr = INADDR_ANY;
	assert_int_equal(gateway_note_external(a), 0);	/* none */
	inet_pton(AF_INET, "203.0.113.4", &a);
	assert_int_equal(gateway_note_external(a), 1);
	assert_int_equal(gateway_info()->external.s_addr, a.s_addr);
	assert_int_equal(gateway_note_epoch(5000), 0);	/* the first */
	advance(10 * 1000);
	assert_int_equal(gateway_note_epoch(5010), 0);
	assert_int_equal(gateway_note_epoch(3), 1);	/* it restarted */
	assert_int_equal(heard.reset, 0);	/* the engine's to act on */
}

/* SIGUSR1 checks now, once; a stopped gateway module does nothing more. */
static void
test_life_check_now_and_stop(void **state)
{
	(void)state;
	life_found();
	assert_int_equal(gateway_check_now(), 0);
	advance(1);
	assert_int_equal(heard.checking, 1);
	assert_int_equal(fk[0].probes, 2);
	assert_int_equal(gateway_check_now(), -1);	/* a search is out */
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(heard.flags, GATEWAY_CHECKED);

	gateway_stop();
	assert_true(gateway_is_ready());	/* for the deletes */
	assert_int_equal(gateway_check_now(), -1);
	gateway_lost();
	assert_int_equal(heard.lost, 0);
	advance((uint64_t)GATEWAY_CHECK_INTERVAL_S * 2000);
	assert_int_equal(fk[0].probes, 2);
	assert_int_equal(heard.checking, 1);
}

/* Told to look elsewhere: the gateway is forgotten, lost, and looked for now. */
static void
test_life_forget(void **state)
{
	struct in_addr gw;

	(void)state;
	life_found();
	inet_pton(AF_INET, "127.0.0.2", &gw);
	assert_int_equal(gateway_set_where(NULL, &gw), 1);
	gateway_forget();
	assert_int_equal(heard.lost, 1);
	assert_int_equal(heard.why, GATEWAY_LOST_CONFIG);
	assert_string_equal(gateway_info()->where, "");
	assert_int_equal(fk[0].probes, 2);
	answer(&better_drv, 1, "203.0.113.2");
	assert_int_equal(heard.flags, GATEWAY_CHANGED);
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
		cmocka_unit_test_setup_teardown(test_life_ready, setup_life,
		    teardown_life),
		cmocka_unit_test_setup_teardown(test_life_lost_backoff,
		    setup_life, teardown_life),
		cmocka_unit_test_setup_teardown(test_life_check_quiet,
		    setup_life, teardown_life),
		cmocka_unit_test_setup_teardown(test_life_check_silent,
		    setup_life, teardown_life),
		cmocka_unit_test_setup_teardown(test_life_check_other,
		    setup_life, teardown_life),
		cmocka_unit_test_setup_teardown(test_life_check_reset,
		    setup_life, teardown_life),
		cmocka_unit_test_setup_teardown(test_life_notes, setup_life,
		    teardown_life),
		cmocka_unit_test_setup_teardown(test_life_check_now_and_stop,
		    setup_life, teardown_life),
		cmocka_unit_test_setup_teardown(test_life_forget, setup_life,
		    teardown_life),
	};

	return TU_RUN("gateway", tests);
}
