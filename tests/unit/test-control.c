/* SPDX-License-Identifier: ISC */
/* The control socket server, driven by loop_once(): clients, limits, timeouts, wait. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "testutil.h"

#include "control-msg.h"
#include "control.h"
#include "driver.h"
#include "loop.h"
#include "status.h"

#define PUMP_MS		10000	/* real time a condition may take: wide, 2 CPUs shared */

static char	dir[64];
static char	path[96];
static uint64_t	fake_now;
static int	nchecks, nreloads, nadds;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static uint64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
op_check(const struct control_req *r, char *err, size_t len)
{
	(void)r;
	(void)err;
	(void)len;
	nchecks++;
	return 0;
}

static int
op_reload(const struct control_req *r, char *err, size_t len)
{
	(void)r;
	(void)err;
	(void)len;
	nreloads++;
	return 0;
}

static int
op_add(const struct control_req *r, char *err, size_t len)
{
	nadds++;
	snprintf(err, len, "map %s: external ports overlap map 8080/tcp",
	    r->spec);
	return -1;
}

static const struct control_ops ops = {
	.check = op_check,
	.reload = op_reload,
	.add = op_add,
	/* remove: not supported yet */
};

static void
set_map(int proto, uint16_t port, int state, uint16_t ext_port)
{
	struct status_map m;

	memset(&m, 0, sizeof(m));
	m.proto = proto;
	m.int_port = port;
	m.state = state;
	snprintf(m.method, sizeof(m.method), "pcp");
	inet_pton(AF_INET, "192.168.1.10", &m.int_addr);
	if (ext_port != 0) {
		inet_pton(AF_INET, "203.0.113.7", &m.ext_addr);
		m.ext_port = ext_port;
		m.lease = 7200;
	}
	m.since = fake_now;
	status_map_update(&m);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/natmapd-control.XXXXXX",
	    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 30 ?
	    getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/run/natmapd/control", dir);
	fake_now = 1000000;
	loop_set_clock(fake_clock);
	status_init();
	set_map(DRV_TCP, 8080, STATUS_UP, 40211);
	set_map(DRV_UDP, 5353, STATUS_MAPPING, 0);
	nchecks = nreloads = nadds = 0;
	if (control_open(path, &ops, err, sizeof(err)) == -1) {
		fprintf(stderr, "control_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	control_close();
	status_free();
	loop_set_clock(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- the client side ---- */

/* One round of the loop, the clock a millisecond on. */
static void
round1(void)
{
	fake_now++;
	loop_once(10);
}

/* Connected, once the backlog has room: the loop runs meanwhile. */
static int
cli_connect(void)
{
	struct sockaddr_un sun;
	uint64_t t0 = real_ms();
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		assert_int_equal(errno, EAGAIN);
		if (real_ms() - t0 > PUMP_MS)
			fail_msg("cannot connect within %d ms", PUMP_MS);
		round1();
	}
	assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
	return fd;
}

static void
cli_send_len(int fd, const char *s, size_t len)
{
	assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void
cli_send(int fd, const char *s)
{
	cli_send_len(fd, s, strlen(s));
}

/* Run the loop until cond(arg) holds; fails the test after PUMP_MS. */
static void
pump(int (*cond)(int), int arg, const char *what)
{
	uint64_t t0 = real_ms();

	while (!cond(arg)) {
		if (real_ms() - t0 > PUMP_MS)
			fail_msg("%s: not within %d ms", what, PUMP_MS);
		round1();
	}
}

/* Something (or the end) is waiting on fd. */
static int
data_ready(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
	    errno != EAGAIN;
}

/* The next answer line on fd, parsed; NULL at the end of the connection. */
static struct json_object *
cli_answer(int fd, int *ok)
{
	static char line[CONTROL_MAX_ANSWER + 1];
	struct json_object *o;
	char err[256];
	uint64_t t0 = real_ms();
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, line + len, 1, MSG_DONTWAIT);
		if (n == 1) {
			if (line[len++] == '\n')
				break;
			assert_true(len < sizeof(line));
			continue;
		}
		if (n == 0 || errno != EAGAIN) {
			/* the end: not in the middle of a line */
			assert_int_equal(len, 0);
			return NULL;
		}
		if (real_ms() - t0 > PUMP_MS)
			fail_msg("no answer within %d ms", PUMP_MS);
		round1();
	}
	if (control_parse_answer(line, len - 1, &o, ok, err,
	    sizeof(err)) == -1)
		fail_msg("not an answer: %s: %.*s", err, (int)len, line);
	return o;
}

static const char *
member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* The next answer is a refusal with this code and message. */
static void
expect_error(int fd, const char *code, const char *msg)
{
	struct json_object *o;
	int ok;

	o = cli_answer(fd, &ok);
	assert_non_null(o);
	assert_false(ok);
	assert_string_equal(member(o, "code"), code);
	if (msg != NULL)
		assert_string_equal(member(o, "error"), msg);
	json_object_put(o);
}

static void
expect_ok(int fd)
{
	struct json_object *o;
	int ok;

	o = cli_answer(fd, &ok);
	assert_non_null(o);
	if (!ok)
		fail_msg("refused: %s", member(o, "error"));
	json_object_put(o);
}

/* The server closed the connection (after what was sent before). */
static void
expect_closed(int fd)
{
	int ok;

	assert_null(cli_answer(fd, &ok));
}

static int
clients_are(int n)
{
	return control_client_count() == (size_t)n;
}

/* The status answer, its mappings counted. */
static void
expect_status(int fd, size_t nmaps)
{
	struct json_object *o, *st, *maps;
	int ok;

	o = cli_answer(fd, &ok);
	assert_non_null(o);
	assert_true(ok);
	assert_true(json_object_object_get_ex(o, "status", &st));
	assert_true(json_object_object_get_ex(st, "mappings", &maps));
	assert_int_equal(json_object_array_length(maps), nmaps);
	json_object_put(o);
}

/* ---- tests ---- */

/* The socket: its directories made, mode 0660, gone after close. */
static void
test_open_close(void **state)
{
	struct stat st;
	char parent[160];

	(void)state;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	snprintf(parent, sizeof(parent), "%s/run/natmapd", dir);
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	control_close();
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void
open_err(const char *p, const char *want)
{
	char err[256] = "";

	assert_int_equal(control_open(p, &ops, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

/*
 * A socket nobody answers on is replaced; a listening one, a regular file
 * and a relative or over-long path are refused, and left as they are.
 */
static void
test_stale(void **state)
{
	struct sockaddr_un sun;
	struct stat st;
	char err[256], want[512], longp[200];
	int fd;

	(void)state;
	control_close();
	/* bound, never listened on: what a killed natmapd leaves */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(control_open(path, &ops, err, sizeof(err)), 0);
	control_close();

	/* another natmapd */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 1), 0);
	snprintf(want, sizeof(want), "control socket %s: another natmapd "
	    "answers there", path);
	open_err(path, want);
	assert_int_equal(lstat(path, &st), 0);
	close(fd);
	unlink(path);

	/* a file of someone else's */
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	snprintf(want, sizeof(want), "control socket %s: exists and is not "
	    "a socket", path);
	open_err(path, want);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 1);
	unlink(path);

	open_err("run/control", "control socket run/control: not an absolute "
	    "path of at most 107 bytes");
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[108] = '\0';
	snprintf(want, sizeof(want), "control socket %s: not an absolute "
	    "path of at most 107 bytes", longp);
	open_err(longp, want);

	assert_int_equal(control_open(path, &ops, err, sizeof(err)), 0);

	/* replaced meanwhile (by a natmapd that found it stale): left be */
	assert_int_equal(unlink(path), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	control_close();
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	close(fd);
	unlink(path);
	assert_int_equal(control_open(path, &ops, err, sizeof(err)), 0);
}

/* Every command answers; the callbacks run; a NULL one is "not supported yet". */
static void
test_commands(void **state)
{
	int fd;

	(void)state;
	fd = cli_connect();
	cli_send(fd, "{\"command\":\"status\"}\n");
	expect_status(fd, 2);
	cli_send(fd, "{\"command\":\"check\"}\n");
	expect_ok(fd);
	assert_int_equal(nchecks, 1);
	cli_send(fd, "{\"command\":\"reload\"}\n");
	expect_ok(fd);
	assert_int_equal(nreloads, 1);
	cli_send(fd, "{\"command\":\"add\",\"spec\":\"8080:80/tcp\"}\n");
	expect_error(fd, "failed", "map 8080:80/tcp: external ports overlap "
	    "map 8080/tcp");
	assert_int_equal(nadds, 1);
	cli_send(fd, "{\"command\":\"remove\",\"spec\":\"8080/tcp\"}\n");
	expect_error(fd, "unsupported", "remove: not supported yet");
	assert_int_equal(control_client_count(), 1);
	close(fd);
	pump(clients_are, 0, "the client gone");
}

/*
 * Garbage gets an error and the connection stays usable; requests sent
 * together are answered in order; blank lines and CRLF are fine.
 */
static void
test_garbage(void **state)
{
	int fd;

	(void)state;
	fd = cli_connect();
	cli_send(fd, "GET / HTTP/1.1\r\n");
	expect_error(fd, "bad-request", "request not JSON: unexpected "
	    "character");
	cli_send_len(fd, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", 12);
	expect_error(fd, "bad-request", "NUL byte in the request");
	cli_send(fd, "{\"command\":\"shutdown\"}\n");
	expect_error(fd, "bad-request", "unknown command \"shutdown\"");
	cli_send(fd, "\n \r\n{\"command\":\"check\"}\r\n"
	    "{\"command\":\"status\"}\n{\"command\":\"reload\"}\n");
	expect_ok(fd);
	expect_status(fd, 2);
	expect_ok(fd);
	assert_int_equal(nchecks, 1);
	assert_int_equal(nreloads, 1);
	/* a request in pieces */
	cli_send(fd, "{\"comm");
	round1();
	cli_send(fd, "and\":\"check\"}");
	round1();
	cli_send(fd, "\n");
	expect_ok(fd);
	assert_int_equal(nchecks, 2);
	close(fd);
}

/* A line over 4096 bytes: an error, then the connection is closed. */
static void
test_too_long(void **state)
{
	char big[5000];
	int fd;

	(void)state;
	fd = cli_connect();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cli_send(fd, big);
	expect_error(fd, "too-long", "request longer than 4096 bytes");
	expect_closed(fd);
	close(fd);
	pump(clients_are, 0, "the client gone");

	/* 4096 bytes and a newline are still a request */
	fd = cli_connect();
	memset(big, ' ', 4096);
	memcpy(big, "{\"command\":\"check\"}", 19);
	big[4096] = '\n';
	big[4097] = '\0';
	cli_send(fd, big);
	expect_ok(fd);
	close(fd);
}

/* The last request may lack its newline: answered when the client shuts down its side. */
static void
test_eof(void **state)
{
	int fd;

	(void)state;
	fd = cli_connect();
	cli_send(fd, "{\"command\":\"check\"}\n{\"command\":\"status\"}");
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	expect_ok(fd);
	expect_status(fd, 2);
	expect_closed(fd);
	close(fd);
	pump(clients_are, 0, "the client gone");
}

static void
advance(uint64_t ms)
{
	fake_now += ms;
	loop_once(0);
}

/* A client without a complete request for 30 s is told and dropped; one that asks is not. */
static void
test_idle(void **state)
{
	int fd, slow;

	(void)state;
	fd = cli_connect();
	slow = cli_connect();
	pump(clients_are, 2, "two clients");
	advance(20000);
	cli_send(fd, "{\"command\":\"check\"}\n");
	expect_ok(fd);
	cli_send(slow, "{\"comm");		/* and never the rest */
	advance(9000);
	assert_int_equal(control_client_count(), 2);
	advance(2000);
	assert_int_equal(control_client_count(), 1);
	expect_error(slow, "idle", "no request for 30 s");
	expect_closed(slow);
	close(slow);
	advance(18000);
	assert_int_equal(control_client_count(), 1);
	advance(2000);
	assert_int_equal(control_client_count(), 0);
	expect_error(fd, "idle", NULL);
	expect_closed(fd);
	close(fd);
}

/* 32 clients at once; the 33rd is told so and closed; the 32 are still served. */
static void
test_max_clients(void **state)
{
	int fds[CONTROL_MAX_CLIENTS], extra, i;

	(void)state;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		fds[i] = cli_connect();
	pump(clients_are, CONTROL_MAX_CLIENTS, "32 clients");
	extra = cli_connect();
	expect_error(extra, "busy", "too many clients (32)");
	expect_closed(extra);
	close(extra);
	assert_int_equal(control_client_count(), CONTROL_MAX_CLIENTS);
	cli_send(fds[0], "{\"command\":\"status\"}\n");
	expect_status(fds[0], 2);
	cli_send(fds[31], "{\"command\":\"check\"}\n");
	expect_ok(fds[31]);
	/* one leaves: room for another */
	close(fds[5]);
	pump(clients_are, CONTROL_MAX_CLIENTS - 1, "a client gone");
	fds[5] = cli_connect();
	pump(clients_are, CONTROL_MAX_CLIENTS, "32 clients again");
	cli_send(fds[5], "{\"command\":\"check\"}\n");
	expect_ok(fds[5]);
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
	pump(clients_are, 0, "all gone");
}

static int	renewals;
static struct timer renew_timer;

static void
renew_cb(struct timer *t)
{
	renewals++;
	timer_set(t, 100);
}

/*
 * A client that asks for the status again and again and never reads is
 * dropped once its answers pass CONTROL_MAX_OUTPUT; no write blocks, the
 * timers go on, and another client is served meanwhile.
 */
static void
test_never_reads(void **state)
{
	char req[64 * 21];
	uint64_t t0, longest = 0, t;
	int hog, fd, i, n = 0;

	(void)state;
	for (i = 0; i < 1024; i++)
		set_map(i % 2 ? DRV_UDP : DRV_TCP, (uint16_t)(10000 + i),
		    STATUS_UP, (uint16_t)(20000 + i));
	hog = cli_connect();
	fd = cli_connect();
	pump(clients_are, 2, "two clients");
	req[0] = '\0';
	for (i = 0; i < 20; i++)
		strcat(req, "{\"command\":\"status\"}\n");
	timer_init(&renew_timer, renew_cb);
	timer_set(&renew_timer, 100);
	renewals = 0;
	cli_send(hog, req);
	t0 = real_ms();
	while (control_client_count() == 2) {
		t = real_ms();
		advance(100);
		round1();
		if (real_ms() - t > longest)
			longest = real_ms() - t;
		if (real_ms() - t0 > PUMP_MS)
			fail_msg("the client that never reads is still there");
		n++;
	}
	/* 20 answers of 1026 mappings do not fit */
	assert_int_equal(control_client_count(), 1);
	assert_true(renewals >= n - 1);
	print_message("# dropped after %d rounds, the longest %llu ms, "
	    "%d renewals\n", n, (unsigned long long)longest, renewals);
	/* the other client is served */
	cli_send(fd, "{\"command\":\"status\"}\n");
	expect_status(fd, 1026);
	timer_stop(&renew_timer);
	close(hog);
	close(fd);
}

/* wait: answered at once when reachable, on the status event, or at the timeout. */
static void
test_wait(void **state)
{
	struct json_object *o, *m, *v;
	int fd, ok;

	(void)state;
	fd = cli_connect();
	/* up already */
	cli_send(fd, "{\"command\":\"wait\",\"spec\":\"8080/tcp\"}\n");
	o = cli_answer(fd, &ok);
	assert_true(ok);
	assert_true(json_object_object_get_ex(o, "mapping", &m));
	assert_string_equal(member(m, "spec"), "8080/tcp");
	assert_string_equal(member(m, "external_address"), "203.0.113.7");
	assert_true(json_object_object_get_ex(m, "external_port", &v));
	assert_int_equal(json_object_get_int(v), 40211);
	json_object_put(o);

	cli_send(fd, "{\"command\":\"wait\",\"spec\":\"9999/tcp\"}\n");
	expect_error(fd, "no-mapping", "no mapping 9999/tcp");
	cli_send(fd, "{\"command\":\"wait\",\"spec\":\"5353/udp\","
	    "\"timeout\":0}\n");
	expect_error(fd, "timeout", "5353/udp is not reachable");

	/* not yet: the lines after it wait too */
	cli_send(fd, "{\"command\":\"wait\",\"spec\":\"5353/udp\","
	    "\"timeout\":60}\n{\"command\":\"check\"}\n");
	round1();
	advance(30000);
	assert_false(data_ready(fd));
	assert_int_equal(nchecks, 0);
	set_map(DRV_UDP, 5353, STATUS_MAPPING, 0);	/* no event */
	set_map(DRV_TCP, 5353, STATUS_UP, 1234);	/* another protocol */
	round1();
	assert_false(data_ready(fd));
	set_map(DRV_UDP, 5353, STATUS_UP, 45353);
	o = cli_answer(fd, &ok);
	assert_true(ok);
	assert_true(json_object_object_get_ex(o, "mapping", &m));
	assert_string_equal(member(m, "spec"), "5353/udp");
	assert_true(json_object_object_get_ex(m, "external_port", &v));
	assert_int_equal(json_object_get_int(v), 45353);
	json_object_put(o);
	expect_ok(fd);
	assert_int_equal(nchecks, 1);

	/* the timeout, not the idle time, ends it; then the connection goes on */
	set_map(DRV_UDP, 5353, STATUS_RETRYING, 0);
	cli_send(fd, "{\"command\":\"wait\",\"spec\":\"5353/udp\","
	    "\"timeout\":45}\n");
	round1();
	advance(44000);
	assert_false(data_ready(fd));
	advance(2000);
	expect_error(fd, "timeout", "5353/udp: not reachable after 45 s");
	cli_send(fd, "{\"command\":\"check\"}\n");
	expect_ok(fd);
	close(fd);
}

/* A client that hangs up during a wait is dropped then, not at the timeout. */
static void
test_wait_hangup(void **state)
{
	int fd;

	(void)state;
	fd = cli_connect();
	cli_send(fd, "{\"command\":\"wait\",\"spec\":\"5353/udp\"}\n");
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	pump(clients_are, 1, "the client accepted");
	round1();
	round1();
	assert_int_equal(control_client_count(), 1);	/* still waiting */
	close(fd);
	pump(clients_are, 0, "the client gone");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_close, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_clients, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_never_reads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_hangup, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return TU_RUN("control", tests);
}
