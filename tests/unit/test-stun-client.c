/* SPDX-License-Identifier: ISC */
/*
 * The STUN client (stun.c) and the resolver (resolve.c) against a scripted
 * server on the same loop, in a network namespace of their own with only
 * loopback up: retransmission and budget, answers matched by transaction
 * ID, lying answers, error responses, CHANGE-REQUEST answers from another
 * port, TCP framing, hairpin requests.  Without root they are skipped.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <sched.h>
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

#include "log.h"
#include "loop.h"
#include "resolve.h"
#include "stun-msg.h"
#include "stun.h"
#include "wire.h"

#define SRV_PORT	3478
#define ALT_PORT	3479

enum reply {
	R_GOOD,		/* XOR-MAPPED-ADDRESS with the sender's address */
	R_DROP,		/* say nothing */
	R_WRONG_TID,
	R_BAD_FP,
	R_TRUNCATED,
	R_ERROR_420,
	R_FROM_ALT,	/* a good answer, from the other port */
	R_NO_MAPPED,
};

static struct {
	int		fd, alt, tcp;
	struct loop_fd	lfd, tcp_lfd;
	enum reply	script[8];	/* one per request received, then R_GOOD */
	int		got;
	uint8_t		last_change;
	uint16_t	last_rport;	/* RESPONSE-PORT asked for */
	int		conn;		/* accepted TCP connection */
	struct loop_fd	conn_lfd;
	int		tcp_split;	/* answer in two writes */
} S;

static int	in_netns;
static struct stun_answer A;
static int	done;
static int	answers;	/* answer_cb calls that were ok */
static uint64_t	ended_at;

/* A success response to tid with XOR-MAPPED-ADDRESS = from, FINGERPRINT last. */
static size_t
build_answer(uint8_t *b, const uint8_t *tid, const struct sockaddr_in *from,
    enum reply how)
{
	size_t n = STUN_HDR_LEN;
	uint32_t crc;

	wire_put16(b, how == R_ERROR_420 ? 0x0111 : 0x0101);
	wire_put32(b + 4, STUN_MAGIC);
	memcpy(b + 8, tid, STUN_TID_LEN);
	if (how == R_WRONG_TID)
		b[19] ^= 0x55;
	if (how == R_ERROR_420) {
		wire_put16(b + n, STUN_A_ERROR_CODE);
		wire_put16(b + n + 2, 12);
		wire_put32(b + n + 4, 4 << 8 | 20);
		memcpy(b + n + 8, "Bad!", 4);
		n += 16;
	} else if (how != R_NO_MAPPED) {
		wire_put16(b + n, STUN_A_XOR_MAPPED_ADDRESS);
		wire_put16(b + n + 2, how == R_TRUNCATED ? 40 : 8);
		b[n + 4] = 0;
		b[n + 5] = 1;
		wire_put16(b + n + 6, (uint16_t)(ntohs(from->sin_port) ^
		    (STUN_MAGIC >> 16)));
		wire_put32(b + n + 8, ntohl(from->sin_addr.s_addr) ^ STUN_MAGIC);
		n += 12;
	}
	wire_put16(b + 2, (uint16_t)(n - STUN_HDR_LEN + 8));
	crc = stun_crc32(b, n) ^ 0x5354554e;
	if (how == R_BAD_FP)
		crc ^= 1;
	wire_put16(b + n, STUN_A_FINGERPRINT);
	wire_put16(b + n + 2, 4);
	wire_put32(b + n + 4, crc);
	return n + 8;
}

static void
srv_read(struct loop_fd *lf, int ev)
{
	struct sockaddr_in from;
	struct stun_msg m;
	socklen_t flen = sizeof(from);
	uint8_t buf[1500], out[128];
	const char *err;
	enum reply how;
	ssize_t n;
	size_t len, i;

	(void)ev;
	n = recvfrom(lf->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &flen);
	if (n <= 0 || stun_parse(buf, (size_t)n, &m, &err) == -1 ||
	    m.cls != STUN_REQUEST)
		return;
	how = S.got < 8 ? S.script[S.got] : R_GOOD;
	S.got++;
	S.last_change = 0;
	S.last_rport = 0;
	/* The attributes the client may send: CHANGE-REQUEST, RESPONSE-PORT. */
	for (i = STUN_HDR_LEN; i + 8 <= (size_t)n; i += 4 + (size_t)
	    ((wire_get16(buf + i + 2) + 3) & ~3)) {
		if (wire_get16(buf + i) == STUN_A_CHANGE_REQUEST)
			S.last_change = buf[i + 7];
		if (wire_get16(buf + i) == STUN_A_RESPONSE_PORT)
			S.last_rport = wire_get16(buf + i + 4);
	}
	if (how == R_DROP)
		return;
	len = build_answer(out, m.tid, &from, how);
	if (S.last_rport != 0)
		from.sin_port = htons(S.last_rport);
	(void)sendto(how == R_FROM_ALT ? S.alt : S.fd, out, len, 0,
	    (struct sockaddr *)&from, flen);
}

static void
conn_read(struct loop_fd *lf, int ev)
{
	struct sockaddr_in from;
	struct stun_msg m;
	socklen_t flen = sizeof(from);
	uint8_t buf[256], out[128];
	const char *err;
	ssize_t n;
	size_t len;

	(void)ev;
	n = read(lf->fd, buf, sizeof(buf));
	if (n <= 0 || stun_parse(buf, (size_t)n, &m, &err) == -1)
		return;
	getpeername(lf->fd, (struct sockaddr *)&from, &flen);
	len = build_answer(out, m.tid, &from, R_GOOD);
	if (S.tcp_split) {
		/* The header alone first: the client must wait for the rest. */
		assert_int_equal(write(lf->fd, out, 7), 7);
		usleep(20000);
		assert_int_equal(write(lf->fd, out + 7, len - 7),
		    (ssize_t)(len - 7));
	} else
		assert_int_equal(write(lf->fd, out, len), (ssize_t)len);
}

static void
tcp_accept(struct loop_fd *lf, int ev)
{
	(void)ev;
	S.conn = accept(lf->fd, NULL, NULL);
	if (S.conn != -1)
		loop_fd_add(&S.conn_lfd, S.conn, LOOP_READ, conn_read);
}


static int
bound(int type, uint16_t port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, type, 0);
	assert_true(fd != -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static int
setup(void **state)
{
	(void)state;
	if (!in_netns)
		return 0;
	memset(&S, 0, sizeof(S));
	S.fd = bound(SOCK_DGRAM, SRV_PORT);
	S.alt = bound(SOCK_DGRAM, ALT_PORT);
	S.tcp = bound(SOCK_STREAM, SRV_PORT);
	S.conn = -1;
	assert_int_equal(listen(S.tcp, 4), 0);
	loop_fd_add(&S.lfd, S.fd, LOOP_READ, srv_read);
	loop_fd_add(&S.tcp_lfd, S.tcp, LOOP_READ, tcp_accept);
	memset(&A, 0, sizeof(A));
	done = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (!in_netns)
		return 0;
	loop_fd_del(&S.lfd);
	loop_fd_del(&S.tcp_lfd);
	if (S.conn != -1) {
		loop_fd_del(&S.conn_lfd);
		close(S.conn);
	}
	close(S.fd);
	close(S.alt);
	close(S.tcp);
	return 0;
}

static void
answer_cb(struct stun_txn *t, const struct stun_answer *a, void *arg)
{
	(void)t;
	(void)arg;
	A = *a;
	done = 1;
	answers += a->ok;
	ended_at = loop_now();
}

/* Run the loop until the answer or limit_ms. */
static uint64_t
run_until_done(uint64_t limit_ms)
{
	uint64_t t0 = loop_now();

	while (!done && loop_now() - t0 < limit_ms)
		loop_once(20);
	assert_true(done);
	return ended_at - t0;
}

static struct sockaddr_in
srv_addr(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	return sin;
}

static const struct stun_schedule fast = {
	.rto_ms = 50, .sends = 4, .last_wait = 2, .budget_ms = 5000,
};

static struct stun_sock *
client(void)
{
	struct sockaddr_in local = srv_addr(0);
	struct stun_sock *s;

	s = stun_sock_open((struct sockaddr *)&local, sizeof(local));
	assert_non_null(s);
	return s;
}

static void
ask(struct stun_sock *s, uint8_t change, const struct stun_schedule *sch)
{
	struct sockaddr_in srv = srv_addr(SRV_PORT);

	assert_non_null(stun_binding(s, (struct sockaddr *)&srv, sizeof(srv),
	    change, sch, answer_cb, NULL));
}

static void
test_answer(void **state)
{
	struct sockaddr_storage local;
	struct stun_sock *s;

	(void)state;
	s = client();
	ask(s, 0, &fast);
	assert_false(done);	/* never inside the call */
	run_until_done(2000);
	assert_true(A.ok);
	assert_int_equal(A.sends, 1);
	/* The mapped address is the client's own here: no NAT on lo. */
	stun_sock_local(s, &local);
	assert_true(stun_addr_eq(&A.mapped, &local));
	stun_sock_close(s);
}

/* Two requests lost: the third send, after 50 + 100 ms, is answered. */
static void
test_retransmit(void **state)
{
	struct stun_sock *s;
	uint64_t ms;

	(void)state;
	S.script[0] = R_DROP;
	S.script[1] = R_DROP;
	s = client();
	ask(s, 0, &fast);
	ms = run_until_done(3000);
	assert_true(A.ok);
	assert_int_equal(A.sends, 3);
	assert_int_equal(S.got, 3);
	assert_true(ms >= 150 && ms < 600);
	stun_sock_close(s);
}

/* A server that never answers: how long the client waits, in ms. */
static uint64_t
ask_silent(const struct stun_schedule *sch)
{
	struct stun_sock *s;
	uint64_t ms;
	int i;

	for (i = 0; i < 8; i++)
		S.script[i] = R_DROP;
	s = client();
	ask(s, 0, sch);
	ms = run_until_done(3000);
	assert_false(A.ok);
	assert_true(A.timeout);
	stun_sock_close(s);
	return ms;
}

/* Silence: 4 sends at 0, 50, 150, 350 ms, then 2 RTOs: gives up at 450 ms. */
static void
test_silence(void **state)
{
	uint64_t ms;

	(void)state;
	ms = ask_silent(&fast);
	assert_int_equal(S.got, 4);
	assert_non_null(strstr(A.err, "no answer after 4 sends"));
	assert_true(ms >= 440 && ms < 900);
}

/* The budget ends it before the schedule does. */
static void
test_budget(void **state)
{
	static const struct stun_schedule sch = {
		.rto_ms = 100, .sends = 7, .last_wait = 16, .budget_ms = 250,
	};
	uint64_t ms;

	(void)state;
	ms = ask_silent(&sch);
	assert_int_equal(S.got, 2);
	assert_non_null(strstr(A.err, "within 250 ms"));
	assert_true(ms >= 240 && ms < 500);
}

/* Lies are no answers: the reason is kept, a later good answer still counts. */
static void
test_lies_then_truth(void **state)
{
	static const enum reply lies[] = { R_WRONG_TID, R_BAD_FP, R_TRUNCATED,
	    R_NO_MAPPED };
	struct stun_sock *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		S.got = 0;
		memset(S.script, 0, sizeof(S.script));
		S.script[0] = lies[i];
		done = 0;
		s = client();
		ask(s, 0, &fast);
		run_until_done(3000);
		assert_true(A.ok);
		assert_int_equal(A.sends, 2);
		stun_sock_close(s);
	}
}

static void
test_lies_only(void **state)
{
	static const struct {
		enum reply	 how;
		const char	*why;
	} lies[] = {
		{ R_WRONG_TID, "transaction ID we did not send" },
		{ R_BAD_FP, "unreadable answer" },
		{ R_TRUNCATED, "unreadable answer" },
		{ R_NO_MAPPED, "without a mapped address" },
	};
	struct stun_sock *s;
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		S.got = 0;
		for (j = 0; j < 8; j++)
			S.script[j] = lies[i].how;
		done = 0;
		s = client();
		ask(s, 0, &fast);
		run_until_done(3000);
		assert_false(A.ok);
		if (strstr(A.err, lies[i].why) == NULL)
			fail_msg("%s: \"%s\"", lies[i].why, A.err);
		stun_sock_close(s);
	}
}

static void
test_error_response(void **state)
{
	struct stun_sock *s;

	(void)state;
	S.script[0] = R_ERROR_420;
	s = client();
	ask(s, 0, &fast);
	run_until_done(2000);
	assert_false(A.ok);
	assert_false(A.timeout);
	assert_non_null(strstr(A.err, "error 420: Bad!"));
	stun_sock_close(s);
}

/* A CHANGE-REQUEST is sent as asked; the answer from the other port counts. */
static void
test_change_request(void **state)
{
	struct stun_sock *s;

	(void)state;
	S.script[0] = R_FROM_ALT;
	s = client();
	ask(s, STUN_CHANGE_PORT, &fast);
	run_until_done(2000);
	assert_true(A.ok);
	assert_int_equal(S.last_change, STUN_CHANGE_PORT);
	assert_int_equal(stun_addr_port(&A.from), ALT_PORT);
	assert_int_equal(stun_addr_port(&A.server), SRV_PORT);
	stun_sock_close(s);
}

/* Several transactions on one socket: each answer to its question. */
static void
test_many_on_one_socket(void **state)
{
	struct stun_sock *s;
	struct sockaddr_in srv = srv_addr(SRV_PORT);
	int i;

	(void)state;
	s = client();
	answers = 0;
	for (i = 0; i < 5; i++)
		assert_non_null(stun_binding(s, (struct sockaddr *)&srv,
		    sizeof(srv), 0, &fast, answer_cb, NULL));
	for (i = 0; i < 200 && answers < 5; i++)
		loop_once(20);
	assert_int_equal(answers, 5);
	assert_int_equal(S.got, 5);
	stun_sock_close(s);
}

static void
hairpin_cb(struct stun_sock *s, int cls, const uint8_t *tid,
    const struct sockaddr_storage *from, void *arg)
{
	(void)s;
	(void)from;
	if (cls == STUN_REQUEST && memcmp(tid, arg, STUN_TID_LEN) == 0)
		done = 1;
}

static void
test_request_hook(void **state)
{
	struct stun_sock *a, *b;
	struct sockaddr_storage la;
	uint8_t tid[STUN_TID_LEN] = "hairpin-test";
	int i;

	(void)state;
	a = client();
	b = client();
	stun_sock_local(a, &la);
	stun_sock_on_stray(a, hairpin_cb, tid);
	assert_int_equal(stun_sock_send_raw(b, (struct sockaddr *)&la,
	    sizeof(struct sockaddr_in), tid), 0);
	for (i = 0; i < 50 && !done; i++)
		loop_once(20);
	assert_true(done);
	stun_sock_close(a);
	stun_sock_close(b);
}

/* RESPONSE-PORT: the answer goes to another socket, which sees it as a stray. */
static int	stray_success;

static void
stray_cb(struct stun_sock *s, int cls, const uint8_t *tid,
    const struct sockaddr_storage *from, void *arg)
{
	(void)s;
	(void)from;
	if (cls == STUN_SUCCESS && memcmp(tid, arg, STUN_TID_LEN) == 0)
		stray_success = 1;
}

static void
test_response_port(void **state)
{
	static const struct stun_schedule once = {
		.rto_ms = 100, .sends = 1, .last_wait = 3, .budget_ms = 1000,
	};
	struct sockaddr_in srv = srv_addr(SRV_PORT);
	struct sockaddr_storage lx;
	struct stun_sock *x, *y;
	struct stun_txn *t;
	uint8_t tid[STUN_TID_LEN];

	(void)state;
	x = client();
	y = client();
	stun_sock_local(x, &lx);
	stray_success = 0;
	t = stun_binding_port(y, (struct sockaddr *)&srv, sizeof(srv), 0,
	    stun_addr_port(&lx), &once, answer_cb, NULL);
	assert_non_null(t);
	memcpy(tid, stun_txn_tid(t), sizeof(tid));
	stun_sock_on_stray(x, stray_cb, tid);
	run_until_done(3000);
	assert_int_equal(S.last_rport, stun_addr_port(&lx));
	assert_true(stray_success);
	/* y itself heard nothing */
	assert_false(A.ok);
	assert_true(A.timeout);
	stun_sock_close(x);
	stun_sock_close(y);
}

static void
test_tcp(void **state)
{
	struct sockaddr_in srv = srv_addr(SRV_PORT);
	int split;

	(void)state;
	for (split = 0; split < 2; split++) {
		done = 0;
		S.tcp_split = split;
		assert_non_null(stun_binding_tcp(NULL, (struct sockaddr *)&srv,
		    sizeof(srv), &fast, answer_cb, NULL));
		run_until_done(3000);
		assert_true(A.ok);
		assert_int_equal(A.sends, 1);
		if (S.conn != -1) {
			loop_fd_del(&S.conn_lfd);
			close(S.conn);
			S.conn = -1;
		}
	}
}

static void
test_tcp_refused(void **state)
{
	struct sockaddr_in srv = srv_addr(9);

	(void)state;
	assert_non_null(stun_binding_tcp(NULL, (struct sockaddr *)&srv,
	    sizeof(srv), &fast, answer_cb, NULL));
	run_until_done(3000);
	assert_false(A.ok);
	assert_non_null(strstr(A.err, "refused"));
}

/* ---- resolve ---- */

static struct sockaddr_storage R_addr[RESOLVE_MAX_ADDRS];
static size_t	R_n;
static char	R_err[128];

static void
resolved(struct resolve_req *r, const struct sockaddr_storage *a, size_t n,
    const char *err, void *arg)
{
	(void)r;
	(void)arg;
	R_n = n;
	if (n > 0)
		memcpy(R_addr, a, n * sizeof(a[0]));
	snprintf(R_err, sizeof(R_err), "%s", err != NULL ? err : "");
	done = 1;
}

static void
resolve_wait(void)
{
	int i;

	for (i = 0; i < 300 && !done; i++)
		loop_once(20);
	assert_true(done);
}

static void
test_resolve_literal(void **state)
{
	char s[64];

	(void)state;
	done = 0;
	assert_non_null(resolve_start("203.0.113.3", 3478, AF_UNSPEC,
	    SOCK_DGRAM, resolved, NULL));
	assert_false(done);
	resolve_wait();
	assert_int_equal(R_n, 1);
	assert_string_equal(stun_addr_str(&R_addr[0], s, sizeof(s)),
	    "203.0.113.3:3478");
	done = 0;
	assert_non_null(resolve_start("2001:db8::3", 3479, AF_UNSPEC,
	    SOCK_DGRAM, resolved, NULL));
	resolve_wait();
	assert_int_equal(R_n, 1);
	assert_string_equal(stun_addr_str(&R_addr[0], s, sizeof(s)),
	    "[2001:db8::3]:3479");
}

/* A name goes to a child process; the loop keeps running meanwhile. */
static void
test_resolve_name(void **state)
{
	char s[64];
	size_t i;

	(void)state;
	done = 0;
	assert_non_null(resolve_start("localhost", 3478, AF_INET, SOCK_DGRAM,
	    resolved, NULL));
	resolve_wait();
	assert_true(R_n >= 1);
	for (i = 0; i < R_n; i++)
		assert_string_equal(stun_addr_str(&R_addr[i], s, sizeof(s)),
		    "127.0.0.1:3478");
}

static void
test_resolve_cancel(void **state)
{
	struct resolve_req *r;

	(void)state;
	done = 0;
	r = resolve_start("localhost", 3478, AF_INET, SOCK_DGRAM, resolved,
	    NULL);
	assert_non_null(r);
	resolve_cancel(r);
	loop_once(50);
	assert_false(done);
}

int
main(void)
{
	/* Against the scripted server: in a namespace of their own. */
	struct CMUnitTest net[] = {
		cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lies_then_truth, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lies_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_error_response, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_change_request, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_on_one_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_hook, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_response_port, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_refused, setup,
		    teardown),
	};
	const struct CMUnitTest resolve[] = {
		cmocka_unit_test(test_resolve_literal),
		cmocka_unit_test(test_resolve_name),
		cmocka_unit_test(test_resolve_cancel),
	};
	struct CMUnitTest all[TU_ARRAY_LEN(net) + TU_ARRAY_LEN(resolve)];

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	in_netns = tu_netns_enter() == 0;
	if (!in_netns)
		tu_skip_tests(net, TU_ARRAY_LEN(net),
		    "needs root (network namespace)");
	memcpy(all, net, sizeof(net));
	memcpy(all + TU_ARRAY_LEN(net), resolve, sizeof(resolve));
	return TU_RUN("stun-client", all);
}
