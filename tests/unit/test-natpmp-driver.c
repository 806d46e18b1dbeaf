/* SPDX-License-Identifier: ISC */
/*
 * The NAT-PMP driver against a scripted fake gateway on 127.0.0.1:5351, for
 * the answers a router gives that are not the one asked for: duplicates,
 * late answers, refusals, other ports, silence, strangers.  It runs in a
 * network namespace of its own with only loopback up, on a fake clock that
 * the test moves on; without root it is skipped.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "driver.h"
#include "log.h"
#include "loop.h"
#include "wire.h"

#define PMP_PORT	5351
#define PMP_EPOCH	4242
#define STEP_MS		1	/* the fake clock's tick */

/* RFC 6886 3.5 result codes */
#define RC_OK		0
#define RC_REFUSED	2
#define RC_NO_RESOURCES	4

/* A mapping request as the fake gateway read it. */
struct fake_req {
	int		opcode;		/* 1 UDP, 2 TCP */
	uint16_t	int_port;
	uint16_t	ext_port;	/* suggested */
	uint32_t	life;
};

static struct {
	int		 fd;		/* the gateway, 127.0.0.1:5351 */
	struct loop_fd	 lfd;
	int		 stranger;	/* another host, 127.0.0.2 */
	struct sockaddr_in client;	/* where the driver sends from */
	struct fake_req	 req[64];
	int		 nreq;		/* mapping requests read */
	int		 probes;	/* public address requests read */
	int		 grant;		/* answer each request at once, as asked */
} FK;

/* Send a datagram from fd to the driver. */
static void
fake_sendto(int fd, const uint8_t *buf, size_t len)
{
	assert_true(FK.client.sin_port != 0);
	assert_int_equal(sendto(fd, buf, len, 0,
	    (const struct sockaddr *)&FK.client, sizeof(FK.client)),
	    (ssize_t)len);
}

/* The answer to mapping request q, sent from fd. */
static void
fake_answer_from(int fd, const struct fake_req *q, uint16_t result,
    uint16_t ext, uint32_t life)
{
	uint8_t out[16];

	out[0] = 0;
	out[1] = (uint8_t)(128 + q->opcode);
	wire_put16(out + 2, result);
	wire_put32(out + 4, PMP_EPOCH);
	wire_put16(out + 8, q->int_port);
	wire_put16(out + 10, ext);
	wire_put32(out + 12, life);
	fake_sendto(fd, out, sizeof(out));
}

static void
fake_answer(const struct fake_req *q, uint16_t result, uint16_t ext,
    uint32_t life)
{
	fake_answer_from(FK.fd, q, result, ext, life);
}

static void
fake_read(struct loop_fd *lf, int ev)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	uint8_t buf[64], out[12];
	struct fake_req *q;
	ssize_t n;

	(void)lf;
	(void)ev;
	n = recvfrom(FK.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	FK.client = from;
	assert_int_equal(buf[0], 0);
	if (n == 2 && buf[1] == 0) {
		FK.probes++;
		out[0] = 0;
		out[1] = 128;
		wire_put16(out + 2, RC_OK);
		wire_put32(out + 4, PMP_EPOCH);
		assert_int_equal(inet_pton(AF_INET, "198.51.100.7", out + 8), 1);
		fake_sendto(FK.fd, out, sizeof(out));
		return;
	}
	assert_int_equal(n, 12);
	assert_true(buf[1] == 1 || buf[1] == 2);
	assert_true(FK.nreq < (int)TU_ARRAY_LEN(FK.req));
	q = &FK.req[FK.nreq++];
	q->opcode = buf[1];
	q->int_port = wire_get16(buf + 4);
	q->ext_port = wire_get16(buf + 6);
	q->life = (uint32_t)wire_get16(buf + 8) << 16 | wire_get16(buf + 10);
	if (FK.grant)
		fake_answer(q, RC_OK, q->ext_port, q->life);
}

static struct tu_op	A, B, C;

static int	probed, probe_status;

static void
probe_cb(const struct mapping_driver *drv, int status,
    const struct drv_gateway *gw, const char *detail)
{
	(void)gw;
	(void)detail;
	assert_ptr_equal(drv, &natpmp_driver);
	probed++;
	probe_status = status;
}

static int	in_netns;

/* Find the gateway (it answers at once): each test's requests need it. */
static void
probe(void)
{
	struct drv_env env;

	tu_env_lo(&env, INADDR_LOOPBACK);
	assert_int_equal(natpmp_driver.probe(&env, probe_cb), 0);
	tu_run_until(&probed, 1, 2000);
	assert_int_equal(probed, 1);
	assert_int_equal(probe_status, DRV_OK);
	assert_int_equal(FK.probes, 1);
}

static int
setup(void **state)
{
	struct sockaddr_in sin;

	(void)state;
	if (!in_netns)
		return 0;
	memset(&FK, 0, sizeof(FK));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(PMP_PORT);
	FK.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(FK.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	loop_fd_add(&FK.lfd, FK.fd, LOOP_READ, fake_read);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	sin.sin_port = htons(PMP_PORT);
	FK.stranger = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(FK.stranger, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	tu_op_reset(&A);
	tu_op_reset(&B);
	tu_op_reset(&C);
	probed = 0;
	probe();
	return 0;
}

/*
 * Start the next test afresh, whatever this one left: a probe from another
 * local address makes the driver close its socket (what was queued ends)
 * and open another, and the probe is withdrawn.
 */
static int
teardown(void **state)
{
	struct drv_env env;

	(void)state;
	if (!in_netns)
		return 0;
	tu_env_lo(&env, INADDR_LOOPBACK + 3);
	if (natpmp_driver.probe(&env, probe_cb) == 0)
		natpmp_driver.probe_cancel();
	loop_fd_del(&FK.lfd);
	close(FK.fd);
	close(FK.stranger);
	return 0;
}

static void
fill(struct drv_map *m, int proto, uint16_t port, int any_port)
{
	memset(m, 0, sizeof(*m));
	m->proto = proto;
	m->int_addr.s_addr = htonl(INADDR_LOOPBACK);
	m->int_port = port;
	m->ext_port = port;
	m->lease = 3600;
	m->any_port = any_port;
	snprintf(m->desc, sizeof(m->desc), "natmapd %u", port);
}

/* Ask for proto port -> port; its answer comes to o. */
static void
map(struct tu_op *o, int proto, uint16_t port, int any_port)
{
	struct drv_map m;

	fill(&m, proto, port, any_port);
	assert_int_equal(natpmp_driver.map(&o->op, &m), 0);
}

static void
unmap(struct tu_op *o, int proto, uint16_t port)
{
	struct drv_map m;

	fill(&m, proto, port, 0);
	assert_int_equal(natpmp_driver.unmap(&o->op, &m), 0);
}

/* The gateway has read request number n (from 1): it is FK.req[n - 1]. */
static const struct fake_req *
sent(int n)
{
	tu_run_until(&FK.nreq, n, 1000);
	assert_int_equal(FK.nreq, n);
	return &FK.req[n - 1];
}

static void
assert_req(const struct fake_req *q, int opcode, uint16_t int_port,
    uint16_t ext_port, uint32_t life)
{
	assert_int_equal(q->opcode, opcode);
	assert_int_equal(q->int_port, int_port);
	assert_int_equal(q->ext_port, ext_port);
	assert_int_equal(q->life, life);
}

static void
assert_granted(const struct tu_op *o, uint16_t ext, uint32_t life)
{
	assert_int_equal(o->done, 1);
	assert_int_equal(o->res.status, DRV_OK);
	assert_int_equal(o->res.ext_port, ext);
	assert_int_equal(o->res.lease, life);
	assert_true(o->res.has_epoch);
	assert_int_equal(o->res.epoch, PMP_EPOCH);
}

/* The gateway grants q: ext for life seconds, and o ends with it. */
static void
grant(const struct fake_req *q, struct tu_op *o, uint16_t ext, uint32_t life)
{
	fake_answer(q, RC_OK, ext, life);
	tu_run_until(&o->done, 1, 1000);
	assert_granted(o, ext, life);
}

/*
 * Nothing left in flight: no request goes out in the longest retransmission
 * schedule, and nothing more is called back.
 */
static void
assert_quiet(void)
{
	int nreq = FK.nreq, a = A.done, b = B.done, c = C.done;

	tu_run_for(10000);
	assert_int_equal(FK.nreq, nreq);
	assert_int_equal(A.done, a);
	assert_int_equal(B.done, b);
	assert_int_equal(C.done, c);
}

/* Two maps in a row, each answered once: each gets its own port. */
static void
test_two_maps_in_a_row(void **state)
{
	(void)state;
	FK.grant = 1;
	map(&A, DRV_UDP, 5000, 0);
	tu_run_until(&A.done, 1, 1000);
	assert_granted(&A, 5000, 3600);
	map(&B, DRV_TCP, 5001, 0);
	tu_run_until(&B.done, 1, 1000);
	assert_granted(&B, 5001, 3600);
	assert_int_equal(FK.nreq, 2);
	assert_req(&FK.req[0], 1, 5000, 5000, 3600);
	assert_req(&FK.req[1], 2, 5001, 5001, 3600);
	assert_quiet();
}

/*
 * A slow router answers A twice (the request and its retransmission), then
 * answers B: B is granted its port (before bba20c2, libnatpmp's reader
 * refused to read after the duplicate and B failed as an error).
 */
static void
test_duplicate_answer_then_next(void **state)
{
	const struct fake_req *qa, *qb;

	(void)state;
	map(&A, DRV_UDP, 5000, 0);
	map(&B, DRV_UDP, 5001, 0);
	qa = sent(1);
	assert_req(qa, 1, 5000, 5000, 3600);
	fake_answer(qa, RC_OK, 5000, 3600);
	fake_answer(qa, RC_OK, 5000, 3600);
	qb = sent(2);
	assert_req(qb, 1, 5001, 5001, 3600);
	assert_granted(&A, 5000, 3600);
	tu_run_for(50);
	assert_int_equal(B.done, 0);
	grant(qb, &B, 5001, 3600);
	assert_int_equal(A.done, 1);
	assert_quiet();
}

/*
 * A (request 1) is answered and ends, B goes out (request 2), and A's
 * answer comes again, as a slow router answers A's retransmission: it is
 * not B's answer, and B still waits.  Returns B's request.
 */
static const struct fake_req *
answer_a_twice(uint16_t result, uint16_t ext, uint32_t life)
{
	const struct fake_req *qa = sent(1), *qb;

	fake_answer(qa, result, ext, life);
	tu_run_until(&A.done, 1, 100);
	assert_int_equal(A.done, 1);
	qb = sent(2);
	fake_answer(qa, result, ext, life);
	tu_run_for(100);
	assert_int_equal(B.done, 0);
	assert_int_equal(A.done, 1);
	return qb;
}

/* A's duplicate comes while B is out: dropped, B waits for its own answer. */
static void
test_late_duplicate_dropped(void **state)
{
	const struct fake_req *qb;

	(void)state;
	map(&A, DRV_TCP, 6000, 0);
	map(&B, DRV_TCP, 6001, 0);
	answer_a_twice(RC_OK, 6000, 3600);
	assert_granted(&A, 6000, 3600);
	/* B was not given up: it is sent again, and its answer counts. */
	qb = sent(3);
	assert_req(qb, 2, 6001, 6001, 3600);
	grant(qb, &B, 6001, 3600);
	assert_quiet();
}

/* The same with a refusal: A's second "no" is not B's. */
static void
test_late_duplicate_refusal_dropped(void **state)
{
	const struct fake_req *qb;

	(void)state;
	map(&A, DRV_UDP, 6100, 0);
	map(&B, DRV_UDP, 6101, 0);
	qb = answer_a_twice(RC_REFUSED, 0, 0);
	assert_int_equal(A.res.status, DRV_ERR_DENIED);
	grant(qb, &B, 6101, 3600);
	assert_quiet();
}

/*
 * A renewal then a delete of the same port (SIGTERM under loss): the
 * renewal's late duplicate is a grant, not the delete's answer (lifetime 0),
 * which the delete waits for.
 */
static void
test_unmap_waits_for_its_answer(void **state)
{
	const struct fake_req *qb;

	(void)state;
	map(&A, DRV_TCP, 6200, 0);
	unmap(&B, DRV_TCP, 6200);
	qb = answer_a_twice(RC_OK, 6200, 3600);
	assert_granted(&A, 6200, 3600);
	assert_req(qb, 2, 6200, 0, 0);
	fake_answer(qb, RC_OK, 0, 0);
	tu_run_until(&B.done, 1, 1000);
	assert_int_equal(B.res.status, DRV_OK);
	assert_quiet();
}

/*
 * A datagram shorter than an answer is not one, whatever the bytes after it
 * held: here a full answer of the other protocol read just before.
 */
static void
test_short_answer_dropped(void **state)
{
	const struct fake_req *q;
	struct fake_req tcp;
	uint8_t out[8];

	(void)state;
	map(&A, DRV_UDP, 6300, 0);
	q = sent(1);
	tcp = *q;
	tcp.opcode = 2;
	fake_answer(&tcp, RC_OK, 6399, 3600);
	tu_run_for(10);
	assert_int_equal(A.done, 0);
	out[0] = 0;
	out[1] = 128 + 1;
	wire_put16(out + 2, RC_OK);
	wire_put32(out + 4, PMP_EPOCH);
	fake_sendto(FK.fd, out, sizeof(out));
	tu_run_for(10);
	assert_int_equal(A.done, 0);
	grant(q, &A, 6300, 3600);
	assert_quiet();
}

/* Result codes end the request, and the next one goes out and succeeds. */
static void
test_error_results(void **state)
{
	(void)state;
	map(&A, DRV_UDP, 7000, 0);
	fake_answer(sent(1), RC_REFUSED, 0, 0);
	tu_run_until(&A.done, 1, 1000);
	assert_int_equal(A.done, 1);
	assert_int_equal(A.res.status, DRV_ERR_DENIED);
	assert_non_null(strstr(A.res.detail, "Not Authorized"));

	map(&B, DRV_TCP, 7001, 0);
	fake_answer(sent(2), RC_NO_RESOURCES, 0, 0);
	tu_run_until(&B.done, 1, 1000);
	assert_int_equal(B.done, 1);
	assert_int_equal(B.res.status, DRV_ERR_FAILED);
	assert_non_null(strstr(B.res.detail, "Out of resources"));

	FK.grant = 1;
	map(&C, DRV_TCP, 7002, 0);
	tu_run_until(&C.done, 1, 1000);
	assert_granted(&C, 7002, 3600);
	assert_int_equal(FK.nreq, 3);
	assert_quiet();
}

/*
 * The gateway grants 8081 for 8080, which the mapping requires: a conflict,
 * and the grant is given back (lifetime 0 for internal port 8080).
 */
static void
test_other_port_released(void **state)
{
	const struct fake_req *rel;

	(void)state;
	map(&A, DRV_TCP, 8080, 0);
	fake_answer(sent(1), RC_OK, 8081, 3600);
	tu_run_until(&A.done, 1, 1000);
	assert_int_equal(A.done, 1);
	assert_int_equal(A.res.status, DRV_ERR_CONFLICT);
	assert_non_null(strstr(A.res.detail, "8081"));
	rel = sent(2);
	assert_req(rel, 2, 8080, 0, 0);
	fake_answer(rel, RC_OK, 0, 0);
	tu_run_for(50);
	assert_int_equal(A.done, 1);
	assert_quiet();
}

/* A mapping that takes any port keeps what it is given, and nothing is released. */
static void
test_other_port_taken_when_any(void **state)
{
	(void)state;
	map(&A, DRV_UDP, 8080, 1);
	grant(sent(1), &A, 8081, 3600);
	assert_quiet();
}

/*
 * No answer: five sends (250, 500, 1000, 2000, 2000 ms, each +-10%), then
 * DRV_ERR_GATEWAY, and the request after it goes out.
 */
static void
test_no_answer(void **state)
{
	const struct fake_req *q;
	uint64_t t0;
	int i;

	(void)state;
	t0 = *tu_fake_now();
	map(&A, DRV_UDP, 9000, 0);
	map(&B, DRV_UDP, 9001, 0);
	tu_run_until(&A.done, 1, 8000);
	assert_int_equal(A.done, 1);
	assert_int_equal(A.res.status, DRV_ERR_GATEWAY);
	assert_true(*tu_fake_now() - t0 >= 5750 * 9 / 10);
	assert_true(*tu_fake_now() - t0 <= 5750 * 11 / 10 + STEP_MS);
	q = sent(6);
	for (i = 0; i < 5; i++)
		assert_req(&FK.req[i], 1, 9000, 9000, 3600);
	assert_req(q, 1, 9001, 9001, 3600);
	grant(q, &B, 9001, 3600);
	assert_quiet();
}

/*
 * An answer from another host, granting or refusing, is not the gateway's.
 * The driver's socket is connected to the gateway, so the kernel drops
 * them already: this holds it to that.
 */
static void
test_other_source_ignored(void **state)
{
	const struct fake_req *q;

	(void)state;
	map(&A, DRV_UDP, 10000, 0);
	q = sent(1);
	fake_answer_from(FK.stranger, q, RC_REFUSED, 0, 0);
	fake_answer_from(FK.stranger, q, RC_OK, 10000, 3600);
	tu_run_for(100);
	assert_int_equal(A.done, 0);
	grant(q, &A, 10000, 1200);
	assert_quiet();
}

/* A delete: lifetime 0 and no port asked; its answer ends it well. */
static void
test_unmap(void **state)
{
	const struct fake_req *q;

	(void)state;
	unmap(&A, DRV_UDP, 11000);
	q = sent(1);
	assert_req(q, 1, 11000, 0, 0);
	fake_answer(q, RC_OK, 0, 0);
	tu_run_until(&A.done, 1, 1000);
	assert_int_equal(A.done, 1);
	assert_int_equal(A.res.status, DRV_OK);
	assert_quiet();
}

/*
 * lease 0, a permanent mapping, cannot be asked for as lifetime 0 (that
 * deletes): the longest lease is asked for, and the router's grant kept.
 */
static void
test_permanent_asks_longest(void **state)
{
	struct drv_map m;
	const struct fake_req *q;

	(void)state;
	fill(&m, DRV_UDP, 12000, 0);
	m.lease = 0;
	assert_int_equal(natpmp_driver.map(&A.op, &m), 0);
	q = sent(1);
	assert_req(q, 1, 12000, 12000, DRV_LEASE_LONGEST);
	grant(q, &A, 12000, 86400);
	assert_quiet();
}

/*
 * A cancelled request is never called back: B while it waits behind A (it
 * is never sent), A while it is out (its answer is dropped).
 */
static void
test_cancel(void **state)
{
	const struct fake_req *qa, *qc;

	(void)state;
	map(&A, DRV_TCP, 12000, 0);
	map(&B, DRV_TCP, 12001, 0);
	map(&C, DRV_TCP, 12002, 0);
	qa = sent(1);
	natpmp_driver.cancel(&B.op);
	natpmp_driver.cancel(&A.op);
	fake_answer(qa, RC_OK, 12000, 3600);
	qc = sent(2);
	assert_req(qc, 2, 12002, 12002, 3600);
	grant(qc, &C, 12002, 3600);
	assert_int_equal(A.done, 0);
	assert_int_equal(B.done, 0);
	assert_quiet();
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	struct CMUnitTest tests[] = {
		T(test_two_maps_in_a_row),
		T(test_duplicate_answer_then_next),
		T(test_late_duplicate_dropped),
		T(test_late_duplicate_refusal_dropped),
		T(test_unmap_waits_for_its_answer),
		T(test_short_answer_dropped),
		T(test_error_results),
		T(test_other_port_released),
		T(test_other_port_taken_when_any),
		T(test_no_answer),
		T(test_other_source_ignored),
		T(test_permanent_asks_longest),
		T(test_unmap),
		T(test_cancel),
	};

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	in_netns = tu_netns_enter() == 0;
	if (!in_netns)
		tu_skip_tests(tests, TU_ARRAY_LEN(tests),
		    "needs root (network namespace)");
	loop_set_clock(tu_fake_clock);
	return TU_RUN("natpmp-driver", tests);
}
