/* SPDX-License-Identifier: ISC */
/* sd_notify without libsystemd: what a service manager's socket receives, in order, on a fake clock. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "driver.h"
#include "log.h"
#include "loop.h"
#include "sdnotify.h"
#include "status.h"

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* The service manager's end: a datagram socket bound in a directory of the test's own. */
static char	dir[64];
static char	sockpath[128];
static int	mgr = -1;

static int
mgr_bind(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (name[0] == '@') {
		memcpy(sun.sun_path + 1, name + 1, strlen(name) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(name));
	} else {
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
		len = sizeof(sun);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

/* The next message, or "" if none is waiting. */
static const char *
mgr_recv(void)
{
	static char buf[1024];
	ssize_t n;

	n = recv(mgr, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n == -1) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

static void
mgr_expect(const char *want)
{
	assert_string_equal(mgr_recv(), want);
}

static void
mgr_expect_none(void)
{
	mgr_expect("");
}

/* Let the loop's timers run up to now + ms, 10 ms at a time. */
static void
advance(uint64_t ms)
{
	uint64_t end = fake_now + ms;

	while (fake_now < end) {
		fake_now += 10;
		loop_run_timers();
	}
}

static struct in_addr
a4(const char *s)
{
	struct in_addr in;

	assert_int_equal(inet_pton(AF_INET, s, &in), 1);
	return in;
}

static void
put_map(int proto, uint16_t port, int state, const char *ext)
{
	struct status_map m;

	memset(&m, 0, sizeof(m));
	m.proto = proto;
	m.int_port = port;
	m.ext_want = port;
	m.state = state;
	snprintf(m.method, sizeof(m.method), "pcp");
	m.int_addr = a4("192.168.77.10");
	if (ext != NULL) {
		m.ext_addr = a4(ext);
		m.ext_port = port;
	}
	status_map_update(&m);
}

static void
put_gateway(const char *method, const char *addr, const char *ext)
{
	struct status_gateway gw;

	memset(&gw, 0, sizeof(gw));
	gw.searched = 1;
	if (method != NULL) {
		gw.found = 1;
		snprintf(gw.method, sizeof(gw.method), "%s", method);
		gw.addr = a4(addr);
		if (ext != NULL)
			gw.external = a4(ext);
	}
	status_gateway_update(&gw);
}

/* The first search for the gateway is still out. */
static void
put_searching(void)
{
	struct status_gateway gw;

	memset(&gw, 0, sizeof(gw));
	status_gateway_update(&gw);
}

/* status.c keeps its subscribers: the table is emptied, not freed. */
static void
clear_table(void)
{
	struct status_map m;

	while (status_map_get(0, &m) == 0)
		status_map_remove(m.proto, m.int_port, m.ext_want);
	put_gateway(NULL, NULL, NULL);
}

static int
setup(void **state)
{
	(void)state;
	fake_now = 1000000;
	loop_set_clock(fake_clock);
	clear_table();
	snprintf(dir, sizeof(dir), "/tmp/natmapd-sdnotify.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sockpath, sizeof(sockpath), "%s/notify", dir);
	mgr = mgr_bind(sockpath);
	assert_int_equal(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sdnotify_free();
	if (mgr != -1)
		close(mgr);
	mgr = -1;
	unlink(sockpath);
	rmdir(dir);
	clear_table();
	return 0;
}

/* READY, RELOADING with the time, READY again, STOPPING: in that order, each once. */
static void
test_life_cycle(void **state)
{
	struct timespec ts;
	unsigned long long usec, now;
	const char *msg;

	(void)state;
	assert_int_equal(sdnotify_init(), 0);
	/* the children natmapd starts (hooks) do not inherit them */
	assert_null(getenv("NOTIFY_SOCKET"));
	mgr_expect_none();
	sdnotify_ready();
	mgr_expect("READY=1\nSTATUS=no gateway yet");
	sdnotify_ready();
	mgr_expect_none();

	sdnotify_reloading();
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	now = (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000;
	msg = mgr_recv();
	assert_int_equal(sscanf(msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    &usec), 1);
	assert_true(usec <= now && usec + 5000000 > now);
	sdnotify_reloaded();
	mgr_expect("READY=1\nSTATUS=no gateway yet");

	sdnotify_stopping();
	mgr_expect("STOPPING=1\nSTATUS=deleting the mappings and exiting");
	/* after STOPPING, neither READY nor a status line */
	sdnotify_reloading();
	sdnotify_reloaded();
	put_map(DRV_TCP, 8080, STATUS_UP, "203.0.113.7");
	advance(SDNOTIFY_STATUS_POLL_MS + 100);
	mgr_expect_none();
}

/* natmapd-rendezvous: its own status line, sent when it changes; the mapping table is not its business. */
static void
test_server(void **state)
{
	const char *msg;
	unsigned long long usec;

	(void)state;
	/* natmapd's subscription, made before in this process, stays quiet */
	assert_int_equal(sdnotify_init(), 0);
	sdnotify_free();
	assert_int_equal(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
	assert_int_equal(sdnotify_init_server("1 network"), 0);
	assert_null(getenv("NOTIFY_SOCKET"));
	mgr_expect_none();
	sdnotify_set_status("1 network");
	mgr_expect_none();
	sdnotify_ready();
	mgr_expect("READY=1\nSTATUS=1 network");
	sdnotify_set_status("1 network");
	mgr_expect_none();
	sdnotify_set_status("2 networks, RFC 5780");
	mgr_expect("STATUS=2 networks, RFC 5780");
	put_map(DRV_TCP, 8080, STATUS_UP, "203.0.113.7");
	advance(SDNOTIFY_STATUS_POLL_MS + 100);
	mgr_expect_none();

	sdnotify_reloading();
	msg = mgr_recv();
	assert_int_equal(sscanf(msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    &usec), 1);
	sdnotify_reloaded();
	mgr_expect("READY=1\nSTATUS=2 networks, RFC 5780");
	sdnotify_stopping();
	mgr_expect("STOPPING=1\nSTATUS=exiting");
	sdnotify_set_status("3 networks");
	mgr_expect_none();
}

/* An abstract socket ("@name") works the same. */
static void
test_abstract(void **state)
{
	char name[64];

	(void)state;
	close(mgr);
	snprintf(name, sizeof(name), "@natmapd-test-sdnotify-%ld",
	    (long)getpid());
	mgr = mgr_bind(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(sdnotify_init(), 0);
	sdnotify_ready();
	mgr_expect("READY=1\nSTATUS=no gateway yet");
	sdnotify_stopping();
	mgr_expect("STOPPING=1\nSTATUS=deleting the mappings and exiting");
}

/* No socket, or one natmapd cannot use: every call does nothing. */
static void
test_no_socket(void **state)
{
	static const char *bad[] = { "", "relative/notify", "@",
	    "vsock:2:1234" };
	size_t i;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_init(), -1);
	sdnotify_ready();
	sdnotify_stopping();
	assert_int_equal(sdnotify_send("READY=1"), -1);
	for (i = 0; i < TU_ARRAY_LEN(bad); i++) {
		assert_int_equal(setenv("NOTIFY_SOCKET", bad[i], 1), 0);
		assert_int_equal(sdnotify_init(), -1);
		assert_null(getenv("NOTIFY_SOCKET"));
		sdnotify_ready();
	}
	mgr_expect_none();
}

/* The manager went away: a failure; it is back at the same path: sent again. */
static void
test_reconnect(void **state)
{
	(void)state;
	assert_int_equal(sdnotify_init(), 0);
	assert_int_equal(sdnotify_send("A=1"), 0);
	mgr_expect("A=1");
	close(mgr);
	unlink(sockpath);
	assert_int_equal(sdnotify_send("B=1"), -1);
	assert_int_equal(sdnotify_send("B=2"), -1);
	mgr = mgr_bind(sockpath);
	assert_int_equal(sdnotify_send("C=1"), 0);
	mgr_expect("C=1");
	mgr_expect_none();
}

/* The summary, from the status table alone. */
static void
test_status_text(void **state)
{
	char buf[256];

	(void)state;
	sdnotify_status_text(buf, sizeof(buf));
	assert_string_equal(buf, "no gateway yet");
	put_map(DRV_TCP, 8080, STATUS_WAITING, NULL);
	put_map(DRV_UDP, 5353, STATUS_WAITING, NULL);
	put_map(DRV_TCP, 7000, STATUS_WAITING, NULL);
	sdnotify_status_text(buf, sizeof(buf));
	assert_string_equal(buf, "no gateway yet; 3 mappings waiting");

	put_gateway("pcp", "192.168.77.1", NULL);
	sdnotify_status_text(buf, sizeof(buf));
	assert_string_equal(buf, "0 of 3 mappings via PCP, gateway "
	    "192.168.77.1");
	put_gateway("pcp", "192.168.77.1", "203.0.113.7");
	put_map(DRV_TCP, 8080, STATUS_UP, "203.0.113.7");
	put_map(DRV_UDP, 5353, STATUS_RETRYING, NULL);
	sdnotify_status_text(buf, sizeof(buf));
	assert_string_equal(buf, "1 of 3 mappings via PCP at 203.0.113.7; "
	    "1 retrying");
	put_map(DRV_UDP, 5353, STATUS_RENEWING, "203.0.113.7");
	put_map(DRV_TCP, 7000, STATUS_UP, "203.0.113.7");
	sdnotify_status_text(buf, sizeof(buf));
	assert_string_equal(buf, "3 mappings via PCP at 203.0.113.7");

	/* the gateway does not say its address: the mappings do */
	put_gateway("upnp", "192.168.77.1", NULL);
	sdnotify_status_text(buf, sizeof(buf));
	assert_string_equal(buf, "3 mappings via UPnP at 203.0.113.7");
	status_map_remove(DRV_UDP, 5353, 5353);
	status_map_remove(DRV_TCP, 7000, 7000);
	put_gateway("natpmp", "192.168.77.1", "203.0.113.8");
	sdnotify_status_text(buf, sizeof(buf));
	assert_string_equal(buf, "1 mapping via NAT-PMP at 203.0.113.8");

	/* a short buffer is cut, not overrun */
	sdnotify_status_text(buf, 8);
	assert_string_equal(buf, "1 mappi");
}

/*
 * STATUS= after an endpoint event: a burst is one message, the next one
 * waits for the minimum interval, an unchanged summary is not sent, and a
 * gateway change is one too.
 */
static void
test_status_rate(void **state)
{
	uint64_t t0;

	(void)state;
	assert_int_equal(sdnotify_init(), 0);
	put_gateway("pcp", "192.168.77.1", "203.0.113.7");
	put_map(DRV_TCP, 8080, STATUS_MAPPING, NULL);
	put_map(DRV_UDP, 5353, STATUS_MAPPING, NULL);
	sdnotify_ready();
	mgr_expect("READY=1\nSTATUS=0 of 2 mappings via PCP at 203.0.113.7");

	t0 = fake_now;
	put_map(DRV_TCP, 8080, STATUS_UP, "203.0.113.7");
	advance(SDNOTIFY_STATUS_DELAY_MS + 20);
	/* READY's STATUS= was the last one: this waits for the rate */
	mgr_expect_none();
	put_map(DRV_UDP, 5353, STATUS_UP, "203.0.113.7");
	while (fake_now < t0 + SDNOTIFY_STATUS_MIN_MS - 20)
		advance(10);
	mgr_expect_none();
	advance(40);
	mgr_expect("STATUS=2 mappings via PCP at 203.0.113.7");
	mgr_expect_none();

	/* a renewal changes no endpoint and no summary: nothing */
	put_map(DRV_UDP, 5353, STATUS_RENEWING, "203.0.113.7");
	put_map(DRV_UDP, 5353, STATUS_UP, "203.0.113.7");
	advance(SDNOTIFY_STATUS_POLL_MS + 100);
	mgr_expect_none();

	/* the gateway's address changed: out after the delay */
	put_gateway("pcp", "192.168.77.1", "203.0.113.9");
	advance(SDNOTIFY_STATUS_DELAY_MS + 20);
	mgr_expect("STATUS=2 mappings via PCP at 203.0.113.9");
	mgr_expect_none();

	/* an endpoint down long after the last message: out after the delay */
	advance(SDNOTIFY_STATUS_MIN_MS);
	put_map(DRV_TCP, 8080, STATUS_RETRYING, NULL);
	advance(SDNOTIFY_STATUS_DELAY_MS + 20);
	mgr_expect("STATUS=1 of 2 mappings via PCP at 203.0.113.9; "
	    "1 retrying");
}

/* WATCHDOG=1 every WATCHDOG_USEC/2, for this pid or when none is named. */
static void
test_watchdog(void **state)
{
	char pid[32];
	int i;

	(void)state;
	assert_int_equal(setenv("WATCHDOG_USEC", "3000000", 1), 0);
	assert_int_equal(sdnotify_init(), 0);
	assert_null(getenv("WATCHDOG_USEC"));
	assert_int_equal(sdnotify_watchdog_ms(), 1500);
	advance(1490);
	mgr_expect_none();
	for (i = 0; i < 3; i++) {
		advance(i == 0 ? 10 : 1500);
		mgr_expect("WATCHDOG=1");
		mgr_expect_none();
	}
	/* while stopping too: the deletes may take a while */
	sdnotify_stopping();
	mgr_expect("STOPPING=1\nSTATUS=deleting the mappings and exiting");
	advance(1500);
	mgr_expect("WATCHDOG=1");

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	assert_int_equal(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
	assert_int_equal(setenv("WATCHDOG_USEC", "1000000", 1), 0);
	assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
	assert_int_equal(sdnotify_init(), 0);
	assert_int_equal(sdnotify_watchdog_ms(), 500);
	assert_null(getenv("WATCHDOG_PID"));

	/* another process's watchdog, or nonsense: none */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	assert_int_equal(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
	assert_int_equal(setenv("WATCHDOG_USEC", "1000000", 1), 0);
	assert_int_equal(setenv("WATCHDOG_PID", pid, 1), 0);
	assert_int_equal(sdnotify_init(), 0);
	assert_int_equal(sdnotify_watchdog_ms(), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
	assert_int_equal(setenv("WATCHDOG_USEC", "12x", 1), 0);
	assert_int_equal(sdnotify_init(), 0);
	assert_int_equal(sdnotify_watchdog_ms(), 0);
	advance(5000);
	mgr_expect_none();
}

/*
 * READY=1 when the engine reports the first search's end (found or not); at
 * once if it has ended; at the latest after the cap.
 */
static void
test_ready_after_search(void **state)
{
	char text[256], want[300];

	(void)state;
	put_searching();
	assert_int_equal(sdnotify_init(), 0);
	sdnotify_ready_after_search();
	mgr_expect_none();
	advance(5000);
	mgr_expect_none();
	/* a search that found nothing ends the wait too */
	put_gateway(NULL, NULL, NULL);
	mgr_expect("READY=1\nSTATUS=no gateway yet");
	sdnotify_ready_after_search();
	put_gateway("pcp", "192.168.77.1", "203.0.113.7");
	advance(SDNOTIFY_STATUS_MIN_MS + 20);
	assert_true(strncmp(mgr_recv(), "STATUS=", 7) == 0);
	mgr_expect_none();

	/* a reload before the search is over: READY=1 still waits for it */
	put_searching();
	assert_int_equal(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
	assert_int_equal(sdnotify_init(), 0);
	sdnotify_ready_after_search();
	sdnotify_reloading();
	assert_true(strncmp(mgr_recv(), "RELOADING=1\n", 12) == 0);
	sdnotify_reloaded();
	mgr_expect_none();
	advance(SDNOTIFY_READY_MAX_MS - 200);
	/* meanwhile, the status line says how it goes */
	mgr_expect("STATUS=no gateway yet");
	mgr_expect_none();
	advance(400);
	mgr_expect("READY=1\nSTATUS=no gateway yet");
	/* and a search ending later says nothing more */
	put_gateway(NULL, NULL, NULL);
	mgr_expect_none();

	/* over before it was asked */
	put_gateway("pcp", "192.168.77.1", "203.0.113.7");
	assert_int_equal(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
	assert_int_equal(sdnotify_init(), 0);
	sdnotify_ready_after_search();
	sdnotify_status_text(text, sizeof(text));
	snprintf(want, sizeof(want), "READY=1\nSTATUS=%s", text);
	mgr_expect(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_life_cycle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abstract, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status_rate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_after_search, setup,
		    teardown),
	};

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	status_init();
	return TU_RUN("sdnotify", tests);
}
