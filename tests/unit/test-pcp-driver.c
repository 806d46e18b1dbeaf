/* SPDX-License-Identifier: ISC */
/*
 * The PCP driver against a fake PCP server on 127.0.0.1:5351 that answers
 * only when the test says: requests whose answers are lost (a lossy LAN)
 * must go out again, the oldest first, and none may wait on another for
 * ever.  It runs in a network namespace of its own with only loopback up,
 * on a fake clock that the test moves on; without root it is skipped.
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

#define PCP_PORT	5351
#define PCP_EPOCH	777
#define HDR		24	/* RFC 6887 7.1 / 7.2 */
#define MAP_LEN		36	/* RFC 6887 11.1 */

/* A MAP request as the fake server read it (RFC 6887 11.1). */
struct fake_req {
	uint8_t		nonce[12];
	uint8_t		protocol;
	uint16_t	int_port;
	uint16_t	ext_port;
	uint32_t	life;
};

static struct {
	int		 fd;
	struct loop_fd	 lfd;
	struct sockaddr_in client;
	struct fake_req	 req[256];
	int		 nreq;
	int		 announces;
} FK;

static void
fake_sendto(const uint8_t *buf, size_t len)
{
	assert_true(FK.client.sin_port != 0);
	assert_int_equal(sendto(FK.fd, buf, len, 0,
	    (const struct sockaddr *)&FK.client, sizeof(FK.client)),
	    (ssize_t)len);
}

/* The response header: version 2, R set, result, lifetime, epoch. */
static void
fake_header(uint8_t *out, uint8_t opcode, uint8_t result, uint32_t life)
{
	memset(out, 0, HDR);
	out[0] = 2;
	out[1] = (uint8_t)(0x80 | opcode);
	out[3] = result;
	wire_put32(out + 4, life);
	wire_put32(out + 8, PCP_EPOCH);
}

/* Grant q as asked: its ports, on 198.51.100.7, for its lifetime. */
static void
fake_grant(const struct fake_req *q)
{
	uint8_t out[HDR + MAP_LEN];

	fake_header(out, 1, 0, q->life);
	memcpy(out + HDR, q->nonce, 12);
	out[HDR + 12] = q->protocol;
	wire_put16(out + HDR + 16, q->int_port);
	wire_put16(out + HDR + 18, q->ext_port);
	out[HDR + 30] = 0xff;
	out[HDR + 31] = 0xff;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.7", out + HDR + 32), 1);
	fake_sendto(out, sizeof(out));
}

static void
fake_read(struct loop_fd *lf, int ev)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	uint8_t buf[1100], out[HDR];
	struct fake_req *q;
	ssize_t n;

	(void)lf;
	(void)ev;
	n = recvfrom(FK.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	FK.client = from;
	assert_true(n >= HDR);
	assert_int_equal(buf[0], 2);
	if (buf[1] == 0) {		/* ANNOUNCE */
		FK.announces++;
		fake_header(out, 0, 0, 0);
		fake_sendto(out, sizeof(out));
		return;
	}
	assert_int_equal(buf[1], 1);	/* MAP */
	assert_true(n >= HDR + MAP_LEN);
	assert_true(FK.nreq < (int)TU_ARRAY_LEN(FK.req));
	q = &FK.req[FK.nreq++];
	q->life = wire_get32(buf + 4);
	memcpy(q->nonce, buf + HDR, 12);
	q->protocol = buf[HDR + 12];
	q->int_port = wire_get16(buf + HDR + 16);
	q->ext_port = wire_get16(buf + HDR + 18);
}

/* How many copies of the request for int_port the server has read. */
static int
copies(uint16_t int_port)
{
	int i, n = 0;

	for (i = 0; i < FK.nreq; i++)
		if (FK.req[i].int_port == int_port)
			n++;
	return n;
}

/* The last copy read of the request for int_port. */
static const struct fake_req *
last_copy(uint16_t int_port)
{
	int i;

	for (i = FK.nreq - 1; i >= 0; i--)
		if (FK.req[i].int_port == int_port)
			return &FK.req[i];
	fail_msg("no request for port %u", int_port);
	return NULL;
}

static struct tu_op	A, B;

static int	probed, probe_status;

static void
probe_cb(const struct mapping_driver *drv, int status,
    const struct drv_gateway *gw, const char *detail)
{
	(void)gw;
	(void)detail;
	assert_ptr_equal(drv, &pcp_driver);
	probed++;
	probe_status = status;
}

static int	in_netns;

static int
setup(void **state)
{
	struct sockaddr_in sin;
	struct drv_env env;

	(void)state;
	if (!in_netns)
		return 0;
	memset(&FK, 0, sizeof(FK));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(PCP_PORT);
	FK.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(FK.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	loop_fd_add(&FK.lfd, FK.fd, LOOP_READ, fake_read);
	tu_op_reset(&A);
	tu_op_reset(&B);
	probed = 0;
	tu_env_lo(&env, INADDR_LOOPBACK);
	assert_int_equal(pcp_driver.probe(&env, probe_cb), 0);
	tu_run_until(&probed, 1, 2000);
	assert_int_equal(probed, 1);
	assert_int_equal(probe_status, DRV_OK);
	assert_int_equal(FK.announces, 1);
	return 0;
}

/* The next test afresh: a probe from another address closes the socket. */
static int
teardown(void **state)
{
	struct drv_env env;

	(void)state;
	if (!in_netns)
		return 0;
	tu_env_lo(&env, INADDR_LOOPBACK + 3);
	if (pcp_driver.probe(&env, probe_cb) == 0)
		pcp_driver.probe_cancel();
	loop_fd_del(&FK.lfd);
	close(FK.fd);
	return 0;
}

static void
map(struct tu_op *o, int proto, uint16_t port)
{
	struct drv_map m;

	memset(&m, 0, sizeof(m));
	m.proto = proto;
	m.int_addr.s_addr = htonl(INADDR_LOOPBACK);
	m.int_port = port;
	m.ext_port = port;
	m.lease = 60;
	m.any_port = 1;
	snprintf(m.desc, sizeof(m.desc), "natmapd %u", port);
	assert_int_equal(pcp_driver.map(&o->op, &m), 0);
}

/*
 * Two requests out, every answer lost (the loss.sh lab's 30% both ways
 * can do that): the older keeps being sent again on its schedule (250 ms
 * doubling) and the younger waits behind it, as a server answers in turn;
 * once the older is answered, the younger goes out again.  Before the fix
 * each waited for the other after their first copies and both failed
 * after PCP's 25 s with two copies sent in all.
 */
static void
test_lost_answers_oldest_first(void **state)
{
	(void)state;
	map(&A, DRV_TCP, 6000);
	tu_run_for(5);
	map(&B, DRV_UDP, 6001);
	tu_run_for(6000);
	assert_int_equal(A.done, 0);
	assert_int_equal(B.done, 0);
	assert_true(copies(6000) >= 5);
	assert_int_equal(copies(6001), 1);
	fake_grant(last_copy(6000));
	tu_run_until(&A.done, 1, 100);
	assert_int_equal(A.done, 1);
	assert_int_equal(A.res.status, DRV_OK);
	assert_int_equal(A.res.ext_port, 6000);
	tu_run_for(5000);
	assert_true(copies(6001) >= 2);
	fake_grant(last_copy(6001));
	tu_run_until(&B.done, 1, 100);
	assert_int_equal(B.done, 1);
	assert_int_equal(B.res.status, DRV_OK);
	assert_int_equal(B.res.lease, 60);
}

/* A server that never answers: both end, as a lost gateway, in time. */
static void
test_silence_ends_both(void **state)
{
	(void)state;
	map(&A, DRV_TCP, 6002);
	tu_run_for(5);
	map(&B, DRV_UDP, 6003);
	tu_run_for(30000);
	assert_int_equal(A.done, 1);
	assert_int_equal(A.res.status, DRV_ERR_GATEWAY);
	assert_int_equal(B.done, 1);
	assert_int_equal(B.res.status, DRV_ERR_GATEWAY);
	assert_true(copies(6002) >= 8);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	struct CMUnitTest tests[] = {
		T(test_lost_answers_oldest_first),
		T(test_silence_ends_both),
	};

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	in_netns = tu_netns_enter() == 0;
	if (!in_netns)
		tu_skip_tests(tests, TU_ARRAY_LEN(tests),
		    "needs root (network namespace)");
	loop_set_clock(tu_fake_clock);
	return TU_RUN("pcp-driver", tests);
}
