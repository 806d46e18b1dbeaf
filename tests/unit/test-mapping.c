/* SPDX-License-Identifier: ISC */
/* The mapping engine against a fake driver and a fake clock. */
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "driver.h"
#include "log.h"
#include "loop.h"
#include "mapping.h"
#include "status.h"
#include "pace.h"
#include "state.h"

/* Row i of the status table as shown (it must be there). */
static struct status_map
row(size_t i)
{
	struct status_map m;

	assert_int_equal(status_map_get(i, &m), 0);
	return m;
}

static uint64_t	fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* Run the loop's timers up to t, one millisecond at a time where they are due. */
static void
advance_to(uint64_t t)
{
	while (fake_now < t) {
		fake_now++;
		loop_run_timers();
	}
}

static void
advance(uint64_t ms)
{
	advance_to(fake_now + ms);
}

#define MAXREQ	512
enum { REQ_MAP, REQ_UNMAP, REQ_VERIFY };

static struct {
	int		probes;
	uint64_t	probe_at[32];
	drv_probe_cb	probe_cb;
	int		cancels;
	struct {
		int		kind;
		struct drv_op	*op;
		struct drv_map	m;
		int		answered;
		uint64_t	at;
	}		req[MAXREQ];
	int		nreq;
} F;

static int
fake_probe(const struct drv_env *env, drv_probe_cb cb)
{
	(void)env;
	if (F.probes < 32)
		F.probe_at[F.probes] = fake_now;
	F.probes++;
	F.probe_cb = cb;
	return 0;
}

static void
fake_probe_cancel(void)
{
	F.probe_cb = NULL;
}

static int
fake_req(int kind, struct drv_op *op, const struct drv_map *m)
{
	assert_true(F.nreq < MAXREQ);
	F.req[F.nreq].kind = kind;
	F.req[F.nreq].op = op;
	F.req[F.nreq].m = *m;
	F.req[F.nreq].answered = 0;
	F.req[F.nreq].at = fake_now;
	op->priv = &F.req[F.nreq];
	F.nreq++;
	return 0;
}

static int
fake_map(struct drv_op *op, const struct drv_map *m)
{
	return fake_req(REQ_MAP, op, m);
}

static int
fake_unmap(struct drv_op *op, const struct drv_map *m)
{
	return fake_req(REQ_UNMAP, op, m);
}

static int
fake_verify(struct drv_op *op, const struct drv_map *m)
{
	return fake_req(REQ_VERIFY, op, m);
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

const struct mapping_driver fake_driver;
static const struct mapping_driver *const drivers[] = { &fake_driver };
/* The same with a look-up (UPnP's GetSpecificPortMappingEntry); see start_upnp(). */
static struct mapping_driver fake_upnp_driver;
static const struct mapping_driver *const upnp_drivers[] = {
	&fake_upnp_driver };

const struct mapping_driver fake_driver = {
	.name = "FAKE",
	.id = "pcp",		/* what the state file accepts */
	.probe = fake_probe,
	.probe_cancel = fake_probe_cancel,
	.map = fake_map,
	.unmap = fake_unmap,
	.cancel = fake_cancel,
};

/* The driver the engine was given, which the probe answers as. */
static const struct mapping_driver *fake_cur = &fake_driver;

/* The probe answers: the gateway at where, with that external address. */
static void
gateway_answer(const char *external, const char *where)
{
	struct drv_gateway gw;
	drv_probe_cb cb = F.probe_cb;

	memset(&gw, 0, sizeof(gw));
	snprintf(gw.name, sizeof(gw.name), "FAKE");
	snprintf(gw.where, sizeof(gw.where), "%s", where);
	inet_pton(AF_INET, external, &gw.external);
	gw.bootid = -1;
	assert_non_null(cb);
	F.probe_cb = NULL;
	cb(fake_cur, DRV_OK, &gw, NULL);
}

static void
gateway_up_with(const char *external)
{
	gateway_answer(external, "http://192.0.2.1/x");
}

/* The gateway found again elsewhere (another control URL): a change. */
static void
gateway_moved(void)
{
	gateway_answer("198.51.100.7", "http://192.0.2.1/moved");
}

static void
gateway_up(void)
{
	gateway_up_with("198.51.100.7");
}

static void
gateway_none(void)
{
	drv_probe_cb cb = F.probe_cb;

	assert_non_null(cb);
	F.probe_cb = NULL;
	cb(fake_cur, DRV_ERR_GATEWAY, NULL, "nothing answered");
}

static void
answer(int i, int status, uint16_t ext, uint32_t lease)
{
	struct drv_result r;

	assert_true(i < F.nreq);
	assert_int_equal(F.req[i].answered, 0);
	F.req[i].answered = 1;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.ext_port = ext;
	r.lease = lease;
	snprintf(r.detail, sizeof(r.detail), "fake status %d", status);
	F.req[i].op->priv = NULL;
	F.req[i].op->done(F.req[i].op, &r);
}

static int	stopped;

static void
on_stopped(void)
{
	stopped++;
}

static int	observed[8];

static void
observer(const struct mapping_status *st)
{
	if (st->state >= 0 && st->state < 8)
		observed[st->state]++;
}

static struct config conf;

static void
setup_conf(const char *const *maps, uint32_t lease)
{
	struct conf_map m;
	char err[128];

	config_init(&conf);
	conf.lease = lease;
	conf.have_gateway = 1;
	inet_pton(AF_INET, "127.0.0.1", &conf.gateway);
	for (; *maps != NULL; maps++) {
		assert_int_equal(config_parse_map(*maps, &m, err, sizeof(err)),
		    0);
		assert_int_equal(config_add_map(&conf, &m, err, sizeof(err)),
		    0);
	}
}

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	memset(observed, 0, sizeof(observed));
	stopped = 0;
	fake_cur = &fake_driver;
	fake_now = 1000000;
	loop_set_clock(fake_clock);
	status_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mapping_free();
	status_free();
	config_free(&conf);
	loop_set_clock(NULL);
	return 0;
}

static void
start(const char *const *maps, uint32_t lease)
{
	setup_conf(maps, lease);
	mapping_init(&conf, drivers, 1);
	mapping_set_observer(observer);
	mapping_start();
}

/* The same over a driver that can look a mapping up. */
static void
start_upnp(const char *const *maps, uint32_t lease)
{
	setup_conf(maps, lease);
	fake_upnp_driver = fake_driver;
	fake_upnp_driver.verify = fake_verify;
	fake_cur = &fake_upnp_driver;
	mapping_init(&conf, upnp_drivers, 1);
	mapping_set_observer(observer);
	mapping_start();
}

/* A mapping is added once the gateway is found, and renewed at half the granted lease. */
static void
test_map_and_renew(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 3600);
	assert_int_equal(F.probes, 1);
	assert_int_equal(F.nreq, 0);
	gateway_up();
	assert_int_equal(F.nreq, 1);
	assert_int_equal(F.req[0].kind, REQ_MAP);
	assert_int_equal(F.req[0].m.proto, DRV_TCP);
	assert_int_equal(F.req[0].m.int_port, 8080);
	assert_int_equal(F.req[0].m.ext_port, 8080);
	assert_int_equal(F.req[0].m.lease, 3600);
	assert_string_equal(F.req[0].m.desc, "natmapd tcp 8080");
	/* The router grants less than asked: the renewal follows the grant. */
	answer(0, DRV_OK, 8080, 600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 1);
	advance(300 * 1000 - 1);
	assert_int_equal(F.nreq, 1);
	advance(1);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(F.req[1].kind, REQ_MAP);
	assert_int_equal(F.req[1].m.ext_port, 8080);
	assert_int_equal(mapping_count(MAPPING_RENEWING), 1);
	answer(1, DRV_OK, 8080, 600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 1);
	assert_int_equal(observed[MAPPING_BOUND], 2);
}

/* gwcheck's word: a bound mapping deleted and added again, whatever the delete's answer. */
static void
test_readd(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9090/tcp", NULL };

	(void)state;
	start(maps, 3600);
	/* not bound yet: refused */
	assert_int_equal(mapping_readd(DRV_TCP, 8080, 8080), -1);
	gateway_up();
	assert_int_equal(F.nreq, 2);
	answer(0, DRV_OK, 8080, 3600);
	answer(1, DRV_OK, 9090, 3600);
	assert_int_equal(mapping_readd(DRV_UDP, 8080, 8080), -1);
	assert_int_equal(mapping_readd(DRV_TCP, 8080, 8080), 0);
	advance(100);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(F.req[2].kind, REQ_UNMAP);
	assert_int_equal(F.req[2].m.ext_port, 8080);
	assert_int_equal(mapping_count(MAPPING_DELETING), 1);
	/* a request out: not again */
	assert_int_equal(mapping_readd(DRV_TCP, 8080, 8080), -1);
	answer(2, DRV_OK, 8080, 0);
	advance(100);
	assert_int_equal(F.nreq, 4);
	assert_int_equal(F.req[3].kind, REQ_MAP);
	assert_int_equal(F.req[3].m.ext_port, 8080);
	assert_int_equal(mapping_count(MAPPING_ADDING), 1);
	answer(3, DRV_OK, 8080, 3600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
	/* a delete the gateway refuses (the entry is not there): added all the same */
	assert_int_equal(mapping_readd(DRV_TCP, 9090, 9090), 0);
	advance(100);
	assert_int_equal(F.req[4].kind, REQ_UNMAP);
	answer(4, DRV_ERR_FAILED, 0, 0);
	advance(100);
	assert_int_equal(F.req[5].kind, REQ_MAP);
	assert_int_equal(F.req[5].m.ext_port, 9090);
	answer(5, DRV_OK, 9090, 3600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
	/* at shutdown, a delete for gwcheck is only a delete */
	assert_int_equal(mapping_readd(DRV_TCP, 8080, 8080), 0);
	advance(100);
	mapping_shutdown(on_stopped);
	advance(100);
	for (int i = 6; i < F.nreq; i++)
		if (F.req[i].answered == 0)
			answer(i, DRV_OK, F.req[i].m.ext_port, 0);
	advance(100);
	for (int i = 6; i < F.nreq; i++)
		assert_int_equal(F.req[i].kind, REQ_UNMAP);
	assert_int_equal(stopped, 1);
}

/* A range expands to one mapping per port; a different external port is kept. */
static void
test_range(void **state)
{
	static const char *const maps[] = { "5000-5002:6000/udp", NULL };
	int i;

	(void)state;
	start(maps, 120);
	gateway_up();
	assert_int_equal(F.nreq, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(F.req[i].m.proto, DRV_UDP);
		assert_int_equal(F.req[i].m.int_port, 5000 + i);
		assert_int_equal(F.req[i].m.ext_port, 6000 + i);
		answer(i, DRV_OK, (uint16_t)(6000 + i), 120);
	}
	assert_int_equal(mapping_count(MAPPING_BOUND), 3);
}

/* With no gateway, probes back off 1 s, 2 s, 4 s ... up to 60 s, with jitter. */
static void
test_probe_backoff(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };
	uint64_t expect = 1000, gap, failed_at, hi;
	int i;

	(void)state;
	start(maps, 3600);
	for (i = 0; i < 10; i++) {
		int before = F.probes;

		failed_at = fake_now;
		gateway_none();
		/* no re-probe before 80% of the step, one by 120% (60 s at most) */
		hi = expect * 12 / 10 > 60000 ? 60000 : expect * 12 / 10;
		advance(expect * 8 / 10 - 1);
		assert_int_equal(F.probes, before);
		advance(hi - (expect * 8 / 10 - 1));
		assert_int_equal(F.probes, before + 1);
		gap = F.probe_at[before] - failed_at;
		assert_true(gap >= expect * 8 / 10 && gap <= hi);
		expect = expect * 2 > 60000 ? 60000 : expect * 2;
	}
	assert_int_equal(F.nreq, 0);
	assert_int_equal(mapping_count(MAPPING_WAIT), 1);
	/* The gateway appears: the waiting mapping is added at once. */
	gateway_up();
	assert_int_equal(F.nreq, 1);
}

/* A conflict is retried with backoff, not in a tight loop. */
static void
test_conflict_backoff(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_ERR_CONFLICT, 8080, 0);
	assert_int_equal(mapping_count(MAPPING_RETRY), 1);
	advance(799);
	assert_int_equal(F.nreq, 1);
	advance(401);
	assert_int_equal(F.nreq, 2);
	answer(1, DRV_ERR_CONFLICT, 8080, 0);
	advance(1599);
	assert_int_equal(F.nreq, 2);
	advance(801);
	assert_int_equal(F.nreq, 3);
	answer(2, DRV_OK, 8080, 3600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 1);
}

/* A gateway that stops answering a renewal is looked for again. */
static void
test_gateway_lost(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 120);
	gateway_up();
	answer(0, DRV_OK, 8080, 120);
	advance(60 * 1000);
	assert_int_equal(F.nreq, 2);
	answer(1, DRV_ERR_GATEWAY, 8080, 0);
	assert_int_equal(mapping_count(MAPPING_RETRY), 1);
	advance(1);
	assert_int_equal(F.probes, 2);
	gateway_up();
	advance(1200);
	assert_int_equal(F.nreq, 3);
	answer(2, DRV_OK, 8080, 120);
	assert_int_equal(mapping_count(MAPPING_BOUND), 1);
}

/*
 * The gateway stopped answering (a router restarting) and is not found again
 * before the signal: what it may hold is still deleted, through the gateway
 * last found, not forgotten.
 */
static void
test_shutdown_gateway_lost(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 120);
	gateway_up();
	answer(0, DRV_OK, 8080, 120);
	advance(60 * 1000);
	assert_int_equal(F.nreq, 2);
	answer(1, DRV_ERR_GATEWAY, 8080, 0);
	advance(1);
	assert_int_equal(F.probes, 2);
	gateway_none();
	assert_int_equal(mapping_count(MAPPING_RETRY), 1);
	mapping_shutdown(on_stopped);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(F.req[2].kind, REQ_UNMAP);
	assert_int_equal(F.req[2].m.ext_port, 8080);
	answer(2, DRV_OK, 8080, 0);
	assert_int_equal(stopped, 1);
}

/* A gateway never found: nothing to delete, nothing asked. */
static void
test_shutdown_never_found(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 120);
	gateway_none();
	mapping_shutdown(on_stopped);
	assert_int_equal(F.nreq, 0);
	assert_int_equal(stopped, 1);
}

/* Shutdown deletes what is on the router, with the granted port, then reports. */
static void
test_shutdown_deletes(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp",
	    "7000/tcp", NULL };

	(void)state;
	start(maps, 3600);
	gateway_up();
	assert_int_equal(F.nreq, 3);
	answer(0, DRV_OK, 18080, 3600);	/* any-port gave another one */
	answer(1, DRV_OK, 9000, 3600);
	/* 7000/tcp is still being added when the signal comes. */
	mapping_shutdown(on_stopped);
	assert_int_equal(F.cancels, 1);
	assert_int_equal(F.nreq, 6);
	assert_int_equal(F.req[3].kind, REQ_UNMAP);
	assert_int_equal(F.req[3].m.ext_port, 18080);
	assert_int_equal(F.req[4].m.ext_port, 9000);
	assert_int_equal(F.req[5].m.ext_port, 7000);
	assert_int_equal(stopped, 0);
	answer(3, DRV_OK, 18080, 0);
	answer(4, DRV_OK, 9000, 0);
	assert_int_equal(stopped, 0);
	answer(5, DRV_OK, 7000, 0);
	assert_int_equal(stopped, 1);
	assert_int_equal(mapping_count(MAPPING_GONE), 3);
}

/* A gateway that never answers the deletes cannot hold up the exit past the deadline. */
static void
test_shutdown_deadline(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 3600);
	mapping_shutdown(on_stopped);
	assert_int_equal(F.nreq, 2);
	advance(MAPPING_SHUTDOWN_MS - 1);
	assert_int_equal(stopped, 0);
	advance(1);
	assert_int_equal(stopped, 1);
}

/*
 * A busy router answering copies of earlier requests (a late answer the
 * driver drops, drv_heard()) is not silent: the deletes go on past
 * MAPPING_SHUTDOWN_MS while it is heard, and end once it is quiet.
 */
static void
test_shutdown_busy_router(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };
	int i;

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 3600);
	mapping_shutdown(on_stopped);
	assert_int_equal(F.nreq, 2);
	for (i = 0; i < 10; i++) {
		advance(1000);
		drv_heard();
	}
	assert_int_equal(stopped, 0);
	advance(MAPPING_SHUTDOWN_QUIET_MS + 1);
	assert_int_equal(stopped, 1);
}

/* The status table follows every mapping: up with its endpoint, the error. */
static void
test_status_reported(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000:19000/udp", NULL };
	struct status_map a, b;

	(void)state;
	start(maps, 3600);
	assert_int_equal(status_map_count(), 2);
	assert_int_equal(row(0).state, STATUS_WAITING);
	gateway_up();
	answer(0, DRV_OK, 8080, 600);
	answer(1, DRV_ERR_DENIED, 0, 0);
	a = row(0);
	b = row(1);
	assert_int_equal(a.state, STATUS_UP);
	assert_int_equal(a.ext_port, 8080);
	assert_int_equal(a.lease, 600);
	assert_int_equal(a.renew_at, fake_now + 300 * 1000);
	assert_string_equal(a.method, fake_driver.id);
	assert_int_equal(b.state, STATUS_RETRYING);
	assert_int_equal(b.ext_want, 19000);
	assert_int_equal(b.ext_port, 0);
	assert_true(b.error[0] != '\0');
	assert_int_equal(status_counter(STATUS_REQUESTS), 2);
	assert_int_equal(status_counter(STATUS_ANSWERS), 2);
	assert_int_equal(status_counter(STATUS_FAILURES), 1);
	mapping_shutdown(on_stopped);
	assert_int_equal(row(0).state, STATUS_DELETING);
	answer(2, DRV_OK, 8080, 0);
	assert_int_equal(row(0).state, STATUS_DOWN);
}

/* Nothing mapped yet: shutdown is immediate. */
static void
test_shutdown_nothing(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 3600);
	mapping_shutdown(on_stopped);
	assert_int_equal(stopped, 1);
	assert_int_equal(F.nreq, 0);
}

/* SIGHUP: a dropped map is deleted, a new one added, a kept one untouched. */
static void
test_reconfigure(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp", NULL };
	struct config c2;
	struct conf_map m;
	char err[128];

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 3600);
	answer(1, DRV_OK, 9000, 3600);
	config_init(&c2);
	c2.have_gateway = 1;
	c2.gateway = conf.gateway;
	assert_int_equal(config_parse_map("8080/tcp", &m, err, sizeof(err)), 0);
	assert_int_equal(config_add_map(&c2, &m, err, sizeof(err)), 0);
	assert_int_equal(config_parse_map("7000/tcp", &m, err, sizeof(err)), 0);
	assert_int_equal(config_add_map(&c2, &m, err, sizeof(err)), 0);
	mapping_reconfigure(&c2);
	assert_int_equal(F.nreq, 4);
	assert_int_equal(F.req[2].kind, REQ_UNMAP);
	assert_int_equal(F.req[2].m.int_port, 9000);
	assert_int_equal(F.req[3].kind, REQ_MAP);
	assert_int_equal(F.req[3].m.int_port, 7000);
	answer(2, DRV_OK, 9000, 0);
	answer(3, DRV_OK, 7000, 3600);
	assert_int_equal(mapping_count(-1), 2);
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
	config_free(&c2);
}

/* 8080/tcp configured and bound. */
static void
start_8080(void)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 3600);
}

/* A SIGHUP with a file naming only 8080/tcp (c2 freed by the caller). */
static void
reload_8080(struct config *c2, struct conf_map *m)
{
	char err[128];

	config_init(c2);
	c2->have_gateway = 1;
	c2->gateway = conf.gateway;
	c2->lease = 3600;
	assert_int_equal(config_parse_map("8080/tcp", m, err, sizeof(err)), 0);
	assert_int_equal(config_add_map(c2, m, err, sizeof(err)), 0);
	mapping_reconfigure(c2);
}

/* natmapctl add and remove: kept over SIGHUP, removed only when asked. */
static void
test_runtime(void **state)
{
	struct config c2;
	struct conf_map m;
	char err[128];

	(void)state;
	start_8080();
	assert_int_equal(config_parse_map("7000-7001:17000/udp", &m, err,
	    sizeof(err)), 0);
	assert_int_equal(mapping_runtime_add(&m, err, sizeof(err)), 0);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(F.req[1].kind, REQ_MAP);
	assert_int_equal(F.req[1].m.ext_port, 17000);
	assert_int_equal(F.req[2].m.int_port, 7001);
	answer(1, DRV_OK, 17000, 3600);
	answer(2, DRV_OK, 17001, 3600);
	assert_int_equal(status_map_count(), 3);
	assert_true(row(1).runtime);
	/* the same external port again, or the config's: refused */
	assert_int_equal(mapping_runtime_add(&m, err, sizeof(err)), -1);
	assert_string_equal(err, "external port 17000/udp is mapped already "
	    "(from 7000, added at run time)");
	assert_int_equal(config_parse_map("9000:8080/tcp", &m, err,
	    sizeof(err)), 0);
	assert_int_equal(mapping_runtime_add(&m, err, sizeof(err)), -1);
	/* SIGHUP with the same file keeps them */
	reload_8080(&c2, &m);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(mapping_count(MAPPING_BOUND), 3);
	/* remove: the config's is not natmapctl's to remove */
	assert_int_equal(mapping_runtime_remove(&m, err, sizeof(err)), -1);
	assert_string_equal(err, "8080:8080/tcp is in the configuration file: "
	    "remove it there and reload");
	assert_int_equal(config_parse_map("7000-7001:17000/udp", &m, err,
	    sizeof(err)), 0);
	assert_int_equal(mapping_runtime_remove(&m, err, sizeof(err)), 0);
	assert_int_equal(F.nreq, 5);
	assert_int_equal(F.req[3].kind, REQ_UNMAP);
	assert_int_equal(F.req[4].kind, REQ_UNMAP);
	answer(3, DRV_OK, 17000, 0);
	answer(4, DRV_OK, 17001, 0);
	assert_int_equal(mapping_count(-1), 1);
	assert_int_equal(status_map_count(), 1);
	assert_int_equal(mapping_runtime_remove(&m, err, sizeof(err)), -1);
	config_free(&c2);
}

/*
 * natmapd's own mappings (hole punching's ports): made like the others,
 * marked in the status, kept over SIGHUP, not natmapctl's to remove,
 * deleted when the owner drops them.
 */
static void
test_own(void **state)
{
	struct config c2;
	struct conf_map m;
	char err[128];

	(void)state;
	start_8080();
	assert_int_equal(mapping_own_add(DRV_UDP, 41000, "punch"), 0);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(F.req[1].kind, REQ_MAP);
	assert_int_equal(F.req[1].m.int_port, 41000);
	assert_int_equal(F.req[1].m.ext_port, 41000);
	answer(1, DRV_OK, 41000, 3600);
	assert_int_equal(status_map_count(), 2);
	assert_string_equal(row(1).owner, "punch");
	assert_false(row(1).runtime);
	assert_string_equal(row(0).owner, "");
	/* asked again: nothing new; the config's external port: refused */
	assert_int_equal(mapping_own_add(DRV_UDP, 41000, "punch"), 0);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(mapping_own_add(DRV_TCP, 8080, "punch"), -1);
	assert_int_equal(errno, EEXIST);
	/* natmapctl add of its port is refused, remove too */
	assert_int_equal(config_parse_map("41000/udp", &m, err, sizeof(err)),
	    0);
	assert_int_equal(mapping_runtime_add(&m, err, sizeof(err)), -1);
	assert_string_equal(err, "external port 41000/udp is mapped already "
	    "(from 41000, natmapd's own for punch)");
	assert_int_equal(mapping_runtime_remove(&m, err, sizeof(err)), -1);
	assert_string_equal(err, "41000:41000/udp is natmapd's own (punch): "
	    "it goes when punch no longer needs it");
	/* SIGHUP with a file that does not name it keeps it */
	reload_8080(&c2, &m);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
	/* its owner drops it: deleted from the router */
	mapping_own_remove(DRV_UDP, 41000);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(F.req[2].kind, REQ_UNMAP);
	assert_int_equal(F.req[2].m.int_port, 41000);
	answer(2, DRV_OK, 41000, 0);
	assert_int_equal(mapping_count(-1), 1);
	assert_int_equal(status_map_count(), 1);
	config_free(&c2);
}

/*
 * A mapping dropped while the gateway is away (a router rebooting) may
 * still be on it: it is kept, out of the status, and deleted once the
 * gateway is back, not forgotten there.
 */
static void
test_drop_gateway_away(void **state)
{
	int i, unmap = -1;

	(void)state;
	start_8080();
	assert_int_equal(mapping_own_add(DRV_UDP, 41000, "punch"), 0);
	answer(1, DRV_OK, 41000, 3600);
	assert_int_equal(status_map_count(), 2);
	/* the next renewal finds no gateway, nor does the search after it */
	advance(1800 * 1000);
	assert_int_equal(F.nreq, 4);
	answer(2, DRV_ERR_GATEWAY, 8080, 0);
	answer(3, DRV_ERR_GATEWAY, 41000, 0);
	advance(1);
	gateway_none();
	mapping_own_remove(DRV_UDP, 41000);
	assert_int_equal(F.nreq, 4);
	assert_int_equal(status_map_count(), 1);
	assert_int_equal(mapping_count(-1), 2);
	/* the gateway back: the other re-added (paced: one at a time after
	 * the failures), then the old entry deleted */
	advance(60 * 1000);
	gateway_up();
	advance(2000);
	assert_int_equal(F.req[4].kind, REQ_MAP);
	assert_int_equal(F.req[4].m.int_port, 8080);
	answer(4, DRV_OK, 8080, 3600);
	advance(1);
	for (i = 4; i < F.nreq; i++)
		if (F.req[i].kind == REQ_UNMAP) {
			assert_int_equal(unmap, -1);
			unmap = i;
		}
	assert_int_not_equal(unmap, -1);
	assert_int_equal(F.req[unmap].m.int_port, 41000);
	assert_int_equal(F.req[unmap].m.ext_port, 41000);
	assert_int_equal(F.req[unmap].m.proto, DRV_UDP);
	answer(unmap, DRV_OK, 41000, 0);
	assert_int_equal(mapping_count(-1), 1);
	assert_int_equal(status_map_count(), 1);
}

/* A permanent mapping (lease 0) is re-added every MAPPING_PERMANENT_CHECK_S. */
static void
test_permanent(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 0);
	advance((uint64_t)MAPPING_PERMANENT_CHECK_S * 1000 - 1);
	assert_int_equal(F.nreq, 1);
	advance(1);
	assert_int_equal(F.nreq, 2);
}

/*
 * Every 5 minutes the gateway is probed again, quietly: renewals go on
 * while it runs, a silent answer changes nothing, a new external address
 * re-adds every mapping within 5 s.
 */
static void
test_periodic_check(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp", NULL };
	int n;

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 3600);
	answer(1, DRV_OK, 9000, 3600);
	advance(330 * 1000);
	assert_int_equal(F.probes, 2);
	/* no answer to the check: still bound, nothing re-added */
	gateway_none();
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
	advance(330 * 1000);
	assert_int_equal(F.probes, 3);
	/* the same gateway, a new address: both mapped again within 5 s */
	n = F.nreq;
	gateway_up_with("198.51.100.9");
	assert_int_equal(F.nreq, n);
	advance(5001);
	assert_int_equal(F.nreq, n + 2);
	assert_int_equal(mapping_count(MAPPING_RENEWING), 2);
	answer(n, DRV_OK, 8080, 3600);
	answer(n + 1, DRV_OK, 9000, 3600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
}

/*
 * The periodic check finds the gateway changed (another protocol or
 * place) while a renewal is out the old way: that request is dropped and
 * the mapping made again the new way at once, as a bound one is; its
 * late answer changes nothing.  (Once, a renewal that was out when
 * natmapd went from UPnP to PCP left a mapping UPnP had made, which
 * miniupnpd then refused to delete through PCP.)
 */
static void
test_changed_while_renewing(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp", NULL };
	int n, cancels;

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 600);
	answer(1, DRV_OK, 9000, 3600);
	/* 8080's renewal at 300 s, left unanswered */
	advance(300 * 1000);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(F.req[2].m.int_port, 8080);
	assert_int_equal(mapping_count(MAPPING_RENEWING), 1);
	advance(30 * 1000);
	assert_int_equal(F.probes, 2);
	n = F.nreq;
	cancels = F.cancels;
	gateway_moved();
	/* both made again the new way, the renewal dropped */
	assert_int_equal(F.cancels, cancels + 1);
	assert_int_equal(F.req[2].answered, -1);
	assert_int_equal(F.nreq, n + 2);
	assert_int_equal(F.req[n].kind, REQ_MAP);
	assert_int_equal(F.req[n + 1].kind, REQ_MAP);
	assert_int_equal(mapping_count(MAPPING_ADDING), 2);
	answer(n, DRV_OK, F.req[n].m.int_port, 3600);
	answer(n + 1, DRV_OK, F.req[n + 1].m.int_port, 3600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
}

/* At shutdown a delete that got no answer is sent again while time is left. */
static void
test_shutdown_retries_delete(void **state)
{
	static const char *const maps[] = { "8080/tcp", NULL };

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 3600);
	mapping_shutdown(on_stopped);
	assert_int_equal(F.nreq, 2);
	answer(1, DRV_ERR_GATEWAY, 8080, 0);
	assert_int_equal(stopped, 0);
	advance(249);
	assert_int_equal(F.nreq, 2);
	advance(1);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(F.req[2].kind, REQ_UNMAP);
	assert_int_equal(F.req[2].m.ext_port, 8080);
	answer(2, DRV_OK, 8080, 0);
	assert_int_equal(stopped, 1);
	assert_int_equal(mapping_count(MAPPING_GONE), 1);
}

/* Three mappings on a gateway that can be asked, all added and answered. */
static void
canary_setup_lease(uint32_t lease)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp",
	    "7000/tcp", NULL };

	start_upnp(maps, lease);
	gateway_up();
	assert_int_equal(F.nreq, 3);
	answer(0, DRV_OK, 8080, lease);
	answer(1, DRV_OK, 9000, lease);
	answer(2, DRV_OK, 7000, lease);
	assert_int_equal(mapping_count(MAPPING_BOUND), 3);
}

static void
canary_setup(void)
{
	canary_setup_lease(3600);
}

#define CANARY_MS	((uint64_t)MAPPING_CANARY_INTERVAL_S * 1000)
#define CANARY_MAX_MS	(CANARY_MS + CANARY_MS / 10)

/* Run the clock until the next request goes out (at most `within` ms); its index. */
static int
next_request(uint64_t within)
{
	uint64_t end = fake_now + within;
	int n = F.nreq;

	while (fake_now < end && F.nreq == n)
		advance(1);
	assert_true(F.nreq > n);
	return n;
}

/*
 * Nothing changes: one look-up per MAPPING_CANARY_INTERVAL_S (+0..10%),
 * never sooner, each mapping in turn; the 5-minute check takes a turn and
 * looks up nothing itself.  Ten minutes cost at most one request per
 * interval, whatever the number of mappings.
 */
static void
test_canary_schedule(void **state)
{
	uint64_t t0, last;
	int i = 0, r, first, probes;
	uint16_t ports[3] = { 0, 0, 0 };

	(void)state;
	canary_setup();
	t0 = last = fake_now;
	first = F.nreq;
	while (fake_now - t0 < 600 * 1000) {
		r = F.nreq;
		probes = F.probes;
		while (F.nreq == r && F.probes == probes &&
		    fake_now - t0 < 600 * 1000)
			advance(1);
		if (F.probes != probes) {
			/* the periodic check, in place of a look-up */
			assert_int_equal(F.nreq, r);
			assert_true(fake_now - t0 >= 270 * 1000);
			gateway_up();	/* the same gateway: nothing to do */
			assert_int_equal(F.nreq, r);
			last = fake_now;
			continue;
		}
		if (F.nreq == r)
			break;
		assert_int_equal(F.nreq, r + 1);
		assert_int_equal(F.req[r].kind, REQ_VERIFY);
		assert_true(F.req[r].at - last >= CANARY_MS);
		assert_true(F.req[r].at - last <= CANARY_MAX_MS);
		/* the port granted, each mapping in turn */
		if (i < 3)
			ports[i] = F.req[r].m.ext_port;
		else
			assert_int_equal(F.req[r].m.ext_port, ports[i % 3]);
		i++;
		last = F.req[r].at;
		answer(r, DRV_OK, F.req[r].m.ext_port, 3600);
	}
	/* the start, and one check or two (every 270..330 s) */
	assert_true(F.probes == 2 || F.probes == 3);
	assert_true(ports[0] != ports[1] && ports[1] != ports[2] &&
	    ports[0] != ports[2]);
	assert_int_equal(F.nreq - first, i);
	assert_true(i <= 600 / MAPPING_CANARY_INTERVAL_S - (F.probes - 1));
	assert_true(i >= 600 * 10 / 11 / MAPPING_CANARY_INTERVAL_S - 3);
	assert_int_equal(mapping_count(MAPPING_BOUND), 3);
}

/*
 * The canary is gone (a router that purged its table): it is added again
 * and every other mapping looked up, at once; the missing ones are added
 * again, the one still there is left alone.
 */
static void
test_canary_purge(void **state)
{
	int c, i, v[2], nv = 0, adds = 0;
	uint16_t canary, missing, kept;

	(void)state;
	canary_setup();
	c = next_request(CANARY_MAX_MS + 1);
	assert_int_equal(F.req[c].kind, REQ_VERIFY);
	canary = F.req[c].m.ext_port;
	answer(c, DRV_ERR_FAILED, canary, 0);
	/* the canary's add and two look-ups, all out now */
	assert_int_equal(F.nreq, c + 4);
	assert_int_equal(mapping_count(MAPPING_RENEWING), 1);
	for (i = c + 1; i < F.nreq; i++) {
		if (F.req[i].kind == REQ_MAP) {
			assert_int_equal(F.req[i].m.ext_port, canary);
			adds++;
		} else {
			assert_int_equal(F.req[i].kind, REQ_VERIFY);
			assert_true(F.req[i].m.ext_port != canary);
			v[nv++] = i;
		}
	}
	assert_int_equal(adds, 1);
	assert_int_equal(nv, 2);
	/* one of the others is gone too, one is still there */
	missing = F.req[v[0]].m.ext_port;
	kept = F.req[v[1]].m.ext_port;
	answer(v[0], DRV_ERR_FAILED, missing, 0);
	assert_int_equal(F.nreq, c + 5);
	assert_int_equal(F.req[c + 4].kind, REQ_MAP);
	assert_int_equal(F.req[c + 4].m.ext_port, missing);
	answer(v[1], DRV_OK, kept, 3600);
	/* a miss found by the sweep starts no other sweep */
	assert_int_equal(F.nreq, c + 5);
	for (i = c + 1; i < F.nreq; i++)
		if (F.req[i].kind == REQ_MAP)
			answer(i, DRV_OK, F.req[i].m.ext_port, 3600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 3);
	/* and the canary goes on at its pace */
	i = next_request(CANARY_MAX_MS + 1);
	assert_int_equal(F.req[i].kind, REQ_VERIFY);
	assert_true(F.req[i].at - F.req[c].at >= CANARY_MS);
}

/*
 * One entry dropped, not the first canary: found when its turn comes,
 * within three intervals for three mappings, and added again.
 */
static void
test_canary_partial(void **state)
{
	uint64_t t0;
	int r, i;

	(void)state;
	canary_setup();
	t0 = fake_now;
	/* the router drops udp 9000 now */
	for (;;) {
		r = next_request(CANARY_MAX_MS + 1);
		assert_int_equal(F.req[r].kind, REQ_VERIFY);
		if (F.req[r].m.ext_port == 9000)
			break;
		answer(r, DRV_OK, F.req[r].m.ext_port, 3600);
	}
	assert_true(fake_now - t0 <= 3 * CANARY_MAX_MS);
	answer(r, DRV_ERR_FAILED, 9000, 0);
	assert_int_equal(F.nreq, r + 4);
	assert_int_equal(F.req[r + 1].kind, REQ_MAP);
	assert_int_equal(F.req[r + 1].m.ext_port, 9000);
	assert_int_equal(F.req[r + 1].m.proto, DRV_UDP);
	for (i = r + 1; i < F.nreq; i++)
		answer(i, DRV_OK, F.req[i].m.ext_port, 3600);
	assert_int_equal(F.nreq, r + 4);
	assert_int_equal(mapping_count(MAPPING_BOUND), 3);
}

/* A mapping busy when its turn comes (a renewal out) gets the next turn but one. */
static void
test_canary_turns(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp",
	    "7000/tcp", NULL };
	static const uint16_t order[] = { 8080, 7000, 8080, 9000, 7000 };
	int r, held;
	size_t i;

	(void)state;
	start_upnp(maps, 3600);
	gateway_up();
	answer(0, DRV_OK, 8080, 3600);
	answer(1, DRV_OK, 9000, 40);	/* renewed in 20 s */
	answer(2, DRV_OK, 7000, 3600);
	r = next_request(CANARY_MAX_MS + 1);
	assert_int_equal(F.req[r].kind, REQ_VERIFY);
	assert_int_equal(F.req[r].m.ext_port, order[0]);
	answer(r, DRV_OK, order[0], 3600);
	held = next_request(20 * 1000);
	assert_int_equal(F.req[held].kind, REQ_MAP);
	assert_int_equal(F.req[held].m.ext_port, 9000);
	for (i = 1; i < sizeof(order) / sizeof(order[0]); i++) {
		r = next_request(CANARY_MAX_MS + 1);
		assert_int_equal(F.req[r].kind, REQ_VERIFY);
		assert_int_equal(F.req[r].m.ext_port, order[i]);
		answer(r, DRV_OK, order[i], 3600);
		if (i == 1)	/* the renewal is answered after 7000's turn */
			answer(held, DRV_OK, 9000, 3600);
	}
}

/* SIGUSR1 still looks up every mapping; a gateway lost stops the canary. */
static void
test_canary_check_now(void **state)
{
	int n, i;

	(void)state;
	canary_setup_lease(120);
	n = F.nreq;
	mapping_check_now();
	advance(1);
	assert_int_equal(F.probes, 2);
	gateway_up();
	assert_int_equal(F.nreq, n + 3);
	for (i = n; i < n + 3; i++) {
		assert_int_equal(F.req[i].kind, REQ_VERIFY);
		answer(i, DRV_OK, F.req[i].m.ext_port, 120);
	}
	/* a renewal that gets no answer: no look-ups while it is looked for */
	i = next_request(60 * 1000 + 1);
	while (F.req[i].kind != REQ_MAP) {
		answer(i, DRV_OK, F.req[i].m.ext_port, 120);
		i = next_request(60 * 1000 + 1);
	}
	answer(i, DRV_ERR_GATEWAY, F.req[i].m.ext_port, 0);
	n = F.nreq;
	advance(10 * CANARY_MAX_MS);
	for (i = n; i < F.nreq; i++)
		assert_int_not_equal(F.req[i].kind, REQ_VERIFY);
}

/* The oldest request not answered yet, or -1. */
static int
oldest_out(void)
{
	int i;

	for (i = 0; i < F.nreq; i++)
		if (F.req[i].answered == 0)
			return i;
	return -1;
}

static int
count_out(void)
{
	int i, n = 0;

	for (i = 0; i < F.nreq; i++)
		if (F.req[i].answered == 0)
			n++;
	return n;
}

/* Map every request out OK, the oldest first, until none is left. */
static void
answer_all_maps(void)
{
	int i;

	while ((i = oldest_out()) != -1) {
		assert_int_equal(F.req[i].kind, REQ_MAP);
		answer(i, DRV_OK, F.req[i].m.ext_port, 3600);
	}
}

/*
 * Many mappings: a few requests at a time, never all at once; every one
 * is made in the end.
 */
static void
test_many_paced(void **state)
{
	static const char *const maps[] = { "10000-10099/udp", NULL };

	(void)state;
	start(maps, 3600);
	gateway_up();
	assert_int_equal(F.nreq, PACE_WINDOW_FIRST);
	assert_int_equal(mapping_count(MAPPING_ADDING), 100);
	answer_all_maps();
	assert_int_equal(F.nreq, 100);
	assert_int_equal(mapping_count(MAPPING_BOUND), 100);
}

/*
 * A request of a slow gateway unanswered while it answers others is not
 * a lost gateway: it is sent again, and nothing is probed.
 */
static void
test_slow_is_not_lost(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp", NULL };

	(void)state;
	start(maps, 3600);
	gateway_up();
	assert_int_equal(F.nreq, 2);
	advance(100);
	answer(1, DRV_OK, 9000, 3600);
	advance(25000);
	answer(0, DRV_ERR_GATEWAY, 0, 0);
	assert_int_equal(F.probes, 1);
	assert_int_equal(F.nreq, 3);
	assert_int_equal(F.req[2].m.int_port, 8080);
	assert_int_equal(mapping_count(MAPPING_ADDING), 1);
	advance(300);
	answer(2, DRV_OK, 8080, 3600);
	assert_int_equal(mapping_count(MAPPING_BOUND), 2);
	advance(1000);
	assert_int_equal(F.probes, 1);
}

/*
 * SIGTERM with 100 mappings on a gateway that answers a delete every
 * 400 ms: natmapd keeps deleting past MAPPING_SHUTDOWN_MS, a few at a
 * time, and stops as soon as the last one is answered.
 */
static void
test_shutdown_slow_gateway(void **state)
{
	static const char *const maps[] = { "10000-10099/udp", NULL };
	uint64_t t0;
	int i, first;

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer_all_maps();
	first = F.nreq;
	t0 = fake_now;
	mapping_shutdown(on_stopped);
	assert_int_equal(mapping_count(MAPPING_DELETING), 100);
	/* As many at once as the gateway took promptly, then fewer. */
	assert_true(count_out() <= PACE_WINDOW_MAX);
	assert_true(count_out() < 100);
	while ((i = oldest_out()) != -1) {
		assert_int_equal(stopped, 0);
		assert_int_equal(F.req[i].kind, REQ_UNMAP);
		if (i - first >= 60)
			assert_true(count_out() <= 4);
		advance(400);
		answer(i, DRV_OK, F.req[i].m.ext_port, 0);
	}
	assert_int_equal(F.nreq - first, 100);
	assert_int_equal(stopped, 1);
	assert_int_equal(mapping_count(MAPPING_GONE), 100);
	assert_true(fake_now - t0 >= 100 * 400);
	assert_true(fake_now - t0 < MAPPING_SHUTDOWN_MAX_MS);
}

/* start(), with a new, empty state file at path (a mkstemp template). */
static void
start_with_state(const char *const *maps, char *path)
{
	int fd;

	fd = mkstemp(path);
	assert_true(fd != -1);
	close(fd);
	setup_conf(maps, 3600);
	mapping_init(&conf, drivers, 1);
	mapping_state_file(path);
	mapping_start();
}

/*
 * A gateway that goes silent after a few answers: natmapd gives up
 * MAPPING_SHUTDOWN_MS after the signal; the deletes it never answered
 * stay in the state file, the deleted ones leave it.
 */
static void
test_shutdown_silent_keeps_state(void **state)
{
	static const char *const maps[] = { "10000-10009/udp", NULL };
	char path[] = "/tmp/natmapd-test-state-XXXXXX";
	struct state_entry *ents = NULL;
	char err[128];
	size_t n = 0, k;
	int i, j;

	(void)state;
	start_with_state(maps, path);
	gateway_up();
	answer_all_maps();
	mapping_shutdown(on_stopped);
	for (j = 0; j < 3; j++) {
		i = oldest_out();
		advance(200);
		answer(i, DRV_OK, F.req[i].m.ext_port, 0);
	}
	advance(MAPPING_SHUTDOWN_MS - 600 - 1);
	assert_int_equal(stopped, 0);
	advance(1);
	assert_int_equal(stopped, 1);
	assert_int_equal(state_load(path, &ents, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 7);
	for (k = 0; k < n; k++) {
		assert_string_equal(ents[k].protocol, "pcp");
		assert_true(ents[k].int_port >= 10003);
	}
	free(ents);
	unlink(path);
}

/*
 * A gateway that answers till 4 s and then goes quiet: natmapd gives up
 * MAPPING_SHUTDOWN_QUIET_MS after its last answer, or three times its
 * answer time (here 800 ms to 4 s) if longer.
 */
static void
test_shutdown_quiet_after_answers(void **state)
{
	static const char *const maps[] = { "10000-10009/udp", NULL };
	int i;

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer_all_maps();
	mapping_shutdown(on_stopped);
	for (i = 0; i < 5; i++) {
		advance(800);
		answer(oldest_out(), DRV_OK, 0, 0);
	}
	advance(MAPPING_SHUTDOWN_QUIET_MS - 1);
	assert_int_equal(stopped, 0);
	advance(3 * 4000 - MAPPING_SHUTDOWN_QUIET_MS + 1);
	assert_int_equal(stopped, 1);
	assert_int_equal(mapping_count(MAPPING_GONE), 10);
}

/*
 * An add that got no answer may be on the router: with the gateway gone
 * at SIGTERM, its delete is tried through the gateway last found, and when
 * that gets no answer either the state file keeps it for the next start.
 */
static void
test_unanswered_add_kept(void **state)
{
	static const char *const maps[] = { "8080/tcp", "9000/udp", NULL };
	char path[] = "/tmp/natmapd-test-state-XXXXXX";
	struct state_entry *ents = NULL;
	char err[128];
	size_t n = 0;

	(void)state;
	start_with_state(maps, path);
	gateway_up();
	answer(1, DRV_ERR_CONFLICT, 0, 0);	/* refused: not there */
	advance(25000);
	answer(0, DRV_ERR_GATEWAY, 0, 0);	/* lost, with its add */
	n = (size_t)F.nreq;
	mapping_shutdown(on_stopped);
	/*
	 * Two deletes: 8080's, and 9000's, whose add was refused but is out
	 * again (its retry) when the signal comes.
	 */
	assert_int_equal(F.nreq, (int)n + 2);
	assert_int_equal(F.req[n].kind, REQ_UNMAP);
	assert_int_equal(F.req[n].m.int_port, 8080);
	assert_int_equal(F.req[n + 1].kind, REQ_UNMAP);
	assert_int_equal(F.req[n + 1].m.int_port, 9000);
	advance(MAPPING_SHUTDOWN_MS + 1000);	/* silent */
	assert_int_equal(stopped, 1);
	n = 0;
	assert_int_equal(state_load(path, &ents, &n, err, sizeof(err)), 0);
	/* both deletes unanswered: both kept */
	assert_int_equal(n, 2);
	assert_int_equal(ents[0].int_port, 8080);
	assert_int_equal(ents[0].ext_port, 8080);
	assert_int_equal(ents[1].int_port, 9000);
	free(ents);
	unlink(path);
}

/* A gateway that answers, but too slowly: natmapd stops at MAPPING_SHUTDOWN_MAX_MS. */
static void
test_shutdown_bounded(void **state)
{
	static const char *const maps[] = { "10000-10199/udp", NULL };
	uint64_t t0;
	int i;

	(void)state;
	start(maps, 3600);
	gateway_up();
	answer_all_maps();
	t0 = fake_now;
	mapping_shutdown(on_stopped);
	while (!stopped && (i = oldest_out()) != -1) {
		advance(1000);
		if (!stopped)
			answer(i, DRV_OK, F.req[i].m.ext_port, 0);
	}
	assert_int_equal(stopped, 1);
	assert_true(fake_now - t0 == MAPPING_SHUTDOWN_MAX_MS);
	assert_true(mapping_count(MAPPING_GONE) == 200);
	assert_int_equal(count_out(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_readd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_and_renew, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_backoff, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conflict_backoff, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gateway_lost, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_deletes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_gateway_lost, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_never_found, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_deadline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_runtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_gateway_away, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_reported,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_busy_router,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_permanent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed_while_renewing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_retries_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_canary_schedule, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_canary_purge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_canary_partial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_canary_check_now, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_canary_turns, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_paced, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_is_not_lost, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_slow_gateway,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_silent_keeps_state,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_quiet_after_answers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_add_kept,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_bounded, setup,
		    teardown),
	};

	log_init(1, 0);
	return cmocka_run_group_tests_name("mapping", tests, NULL, NULL);
}
