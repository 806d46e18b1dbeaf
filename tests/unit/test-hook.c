/* SPDX-License-Identifier: ISC */
/* The hook runner against real child processes: argv, environment, collapsing, timeouts, output. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "driver.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "status.h"

/* Generous: two cores shared with other builds. */
#define WAIT_MS		20000
#define LEAK_FD		57	/* open without close-on-exec: the hook must not see it */

static char	dir[256];
static char	hookpath[300];
static char	logpath[300];
static int	saved_stderr = -1;

/* ---- files ---- */

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
touch(const char *name)
{
	char p[512];
	int fd;

	path_in(p, sizeof(p), name);
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0644)) != -1);
	close(fd);
}

static int
exists(const char *name)
{
	char p[512];
	struct stat st;

	path_in(p, sizeof(p), name);
	return stat(p, &st) == 0;
}

/* The whole file, NUL-terminated; NULL if it does not exist. */
static char *
slurp(const char *path)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	for (;;) {
		if (cap - n < 1024) {
			cap = cap ? cap * 2 : 4096;
			assert_non_null(buf = realloc(buf, cap + 1));
		}
		if ((r = read(fd, buf + n, cap - n)) <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

/*
 * The hook: does head, records its argv, environment and surroundings in
 * run.<private port>.<n> (a mapping runs one at a time, so the count is
 * its own), waits for "go" when "gate" exists, then does body.
 */
static void
write_hook_head(const char *head, const char *body)
{
	FILE *fp;

	assert_non_null(fp = fopen(hookpath, "w"));
	fprintf(fp,
	    "#!/bin/sh\n"
	    "%s\n"
	    "d=%s\n"
	    "p=$NATMAPD_PRIVATE_PORT\n"
	    "n=$(cat \"$d/count.$p\" 2>/dev/null || echo 0)\n"
	    "n=$((n + 1))\n"
	    "echo \"$n\" >\"$d/count.$p\"\n"
	    "{\n"
	    "\tprintf 'argc=%%s\\n' \"$#\"\n"
	    "\tprintf 'arg0=%%s\\n' \"$0\"\n"
	    "\ti=1\n"
	    "\tfor a in \"$@\"; do printf 'arg%%s=%%s\\n' \"$i\" \"$a\"; "
	    "i=$((i + 1)); done\n"
	    "\tprintf 'pid=%%s\\n' \"$$\"\n"
	    "\tprintf 'cwd=%%s\\n' \"$(pwd)\"\n"
	    "\tprintf 'stdin=%%s\\n' \"$(readlink /proc/$$/fd/0)\"\n"
	    "\t[ -e /proc/$$/fd/%d ] && echo leakfd=yes\n"
	    "\tsed -n 's/^SigIgn:[[:space:]]*/sigign=/p' /proc/$$/status\n"
	    "\tenv | sed 's/^/env:/' | sort\n"
	    "} >\"$d/run.$p.$n.tmp\"\n"
	    "mv \"$d/run.$p.$n.tmp\" \"$d/run.$p.$n\"\n"
	    "if [ -e \"$d/gate\" ]; then\n"
	    "\twhile [ ! -e \"$d/go\" ]; do sleep 0.02; done\n"
	    "fi\n"
	    "%s\n",
	    head, dir, LEAK_FD, body != NULL ? body : "exit 0");
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(hookpath, 0755), 0);
}

static void
write_hook(const char *body)
{
	write_hook_head("", body);
}

/* Line "key=value" of run file port.n, value into out; 0 or -1. */
static int
run_get(uint16_t port, int n, const char *key, char *out, size_t len)
{
	char p[512], name[64], *buf, *line, *save = NULL;
	size_t klen = strlen(key);
	int r = -1;

	snprintf(name, sizeof(name), "run.%u.%d", port, n);
	path_in(p, sizeof(p), name);
	if ((buf = slurp(p)) == NULL)
		fail_msg("no %s", name);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(out, len, "%s", line + klen + 1);
			r = 0;
			break;
		}
	free(buf);
	return r;
}

static void
assert_run(uint16_t port, int n, const char *key, const char *want)
{
	char got[512];

	/* cmocka's TAP output drops fail_msg()'s text: a '#' line too */
	if (run_get(port, n, key, got, sizeof(got)) == -1) {
		printf("# run.%u.%d: no %s (wanted \"%s\")\n", port, n, key,
		    want);
		fail_msg("run.%u.%d: no %s (wanted \"%s\")", port, n, key, want);
	}
	if (strcmp(got, want) != 0) {
		printf("# run.%u.%d: %s is \"%s\", wanted \"%s\"\n", port, n,
		    key, got, want);
		fail_msg("run.%u.%d: %s is \"%s\", wanted \"%s\"", port, n, key,
		    got, want);
	}
}

/* How many run files run.KEY.1, run.KEY.2... there are. */
static int
runs_of(const char *key)
{
	char name[128];
	int n = 0;

	for (;;) {
		snprintf(name, sizeof(name), "run.%s.%d", key, n + 1);
		if (!exists(name))
			return n;
		n++;
	}
}

static int
runs(uint16_t port)
{
	char key[8];

	snprintf(key, sizeof(key), "%u", port);
	return runs_of(key);
}

/* ---- the log: our stderr, into a file ---- */

static char *
log_text(void)
{
	char *s;

	fflush(stderr);
	assert_non_null(s = slurp(logpath));
	return s;
}

static int
log_has(const char *needle)
{
	char *s = log_text();
	int r = strstr(s, needle) != NULL;

	free(s);
	return r;
}

static void
assert_log(const char *needle)
{
	if (!log_has(needle)) {
		char *s = log_text();

		fprintf(stdout, "# log:\n");
		fprintf(stdout, "# %s\n", s);
		free(s);
		fail_msg("not in the log: \"%s\"", needle);
	}
}

/* ---- the loop, bounded ---- */

static int
idle(void)
{
	return hook_running() == 0 && hook_waiting() == 0;
}

/* Turn the loop until cond holds or ms pass; fail the test on time-out. */
#define RUN_UNTIL(cond, ms) do {					\
	uint64_t end_ = loop_now() + (ms);				\
									\
	while (!(cond)) {						\
		if (loop_now() >= end_)					\
			fail_msg("not within %d ms: %s", (int)(ms), #cond); \
		loop_once(50);						\
	}								\
} while (0)

/* ---- the fake feed: the real status table, fed by the test ---- */

static struct in_addr
a4(const char *s)
{
	struct in_addr in;

	assert_int_equal(inet_pton(AF_INET, s, &in), 1);
	return in;
}

static struct status_map
mk(int proto, uint16_t port, const char *ext, uint16_t eport)
{
	struct status_map m;

	memset(&m, 0, sizeof(m));
	m.proto = proto;
	m.int_port = port;
	m.ext_want = port;
	m.state = STATUS_UP;
	snprintf(m.method, sizeof(m.method), "pcp");
	m.int_addr = a4("192.168.77.10");
	m.ext_addr = a4(ext);
	m.ext_port = eport;
	m.lease = 3600;
	m.since = loop_now();
	return m;
}

static void
feed_down(struct status_map *m)
{
	/* as mapping.c reports it: no endpoint, no lease */
	m->state = STATUS_DOWN;
	m->ext_addr.s_addr = INADDR_ANY;
	m->ext_port = 0;
	m->lease = 0;
	status_map_update(m);
}

/*
 * The hook with body (held at its gate when gated), and 8080/tcp up at
 * 203.0.113.2:eport; returns once its first run has begun.
 */
static struct status_map
first_run(const char *body, int gated, uint16_t eport)
{
	struct status_map m;

	write_hook(body);
	if (gated)
		touch("gate");
	hook_init(hookpath);
	m = mk(DRV_TCP, 8080, "203.0.113.2", eport);
	status_map_update(&m);
	RUN_UNTIL(runs(8080) == 1, WAIT_MS);
	return m;
}

static int
setup(void **state)
{
	struct status_gateway gw;
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/natmapd-hook.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	path_in(hookpath, sizeof(hookpath), "hook.sh");
	path_in(logpath, sizeof(logpath), "log");
	fflush(stderr);
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
	    0644)) == -1)
		return -1;
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_init(1, 1);
	hook_set_limits(NULL);
	status_init();
	memset(&gw, 0, sizeof(gw));
	gw.found = 1;
	snprintf(gw.method, sizeof(gw.method), "pcp");
	gw.addr = a4("192.168.77.1");
	gw.external = a4("203.0.113.2");
	status_gateway_update(&gw);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	hook_free();
	status_free();
	fflush(stderr);
	if (saved_stderr != -1) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (getenv("NATMAPD_TEST_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* ---- tests ---- */

static void
test_ip4p(void **state)
{
	char buf[64];

	(void)state;
	hook_ip4p(a4("203.0.113.7"), 8080, buf, sizeof(buf));
	assert_string_equal(buf, "2001::1f90:cb00:7107");
	/* natmap prints every group with four digits */
	hook_ip4p(a4("10.0.0.1"), 80, buf, sizeof(buf));
	assert_string_equal(buf, "2001::0050:0a00:0001");
	hook_ip4p(a4("255.255.255.255"), 65535, buf, sizeof(buf));
	assert_string_equal(buf, "2001::ffff:ffff:ffff");
}

/* natmap's argv and our environment, for up, change and down. */
static void
test_up_change_down(void **state)
{
	struct status_map m;

	(void)state;
	m = first_run(NULL, 0, 18080);
	RUN_UNTIL(idle(), WAIT_MS);
	assert_run(8080, 1, "argc", "6");
	assert_run(8080, 1, "arg0", hookpath);
	assert_run(8080, 1, "arg1", "203.0.113.2");
	assert_run(8080, 1, "arg2", "18080");
	assert_run(8080, 1, "arg3", "2001::46a0:cb00:7102");
	assert_run(8080, 1, "arg4", "8080");
	assert_run(8080, 1, "arg5", "tcp");
	assert_run(8080, 1, "arg6", "192.168.77.10");
	assert_run(8080, 1, "env:NATMAPD_EVENT", "up");
	assert_run(8080, 1, "env:NATMAPD_METHOD", "pcp");
	assert_run(8080, 1, "env:NATMAPD_PUBLIC_IP", "203.0.113.2");
	assert_run(8080, 1, "env:NATMAPD_PUBLIC_PORT", "18080");
	assert_run(8080, 1, "env:NATMAPD_PRIVATE_IP", "192.168.77.10");
	assert_run(8080, 1, "env:NATMAPD_PRIVATE_PORT", "8080");
	assert_run(8080, 1, "env:NATMAPD_PROTOCOL", "tcp");
	assert_run(8080, 1, "env:NATMAPD_LEASE", "3600");
	assert_run(8080, 1, "env:NATMAPD_GATEWAY", "192.168.77.1");
	assert_run(8080, 1, "env:PATH", "/usr/sbin:/usr/bin:/sbin:/bin");

	/* a renewal with the same endpoint is no event: nothing runs */
	m.state = STATUS_RENEWING;
	status_map_update(&m);
	m.state = STATUS_UP;
	m.lease = 1800;
	status_map_update(&m);
	assert_true(idle());

	/* the router's WAN address changed */
	m.ext_addr = a4("198.51.100.9");
	status_map_update(&m);
	RUN_UNTIL(runs(8080) == 2 && idle(), WAIT_MS);
	assert_run(8080, 2, "env:NATMAPD_EVENT", "change");
	assert_run(8080, 2, "arg1", "198.51.100.9");
	assert_run(8080, 2, "arg3", "2001::46a0:c633:6409");
	assert_run(8080, 2, "env:NATMAPD_LEASE", "1800");

	/* deleted: down, with the endpoint that was up */
	feed_down(&m);
	RUN_UNTIL(runs(8080) == 3 && idle(), WAIT_MS);
	assert_run(8080, 3, "env:NATMAPD_EVENT", "down");
	assert_run(8080, 3, "arg1", "198.51.100.9");
	assert_run(8080, 3, "arg2", "18080");
	assert_run(8080, 3, "env:NATMAPD_PUBLIC_PORT", "18080");
	/* the engine reports no lease once it is down: the one it had */
	assert_run(8080, 3, "env:NATMAPD_LEASE", "1800");

	/* UDP, and a mapping of its own */
	m = mk(DRV_UDP, 5353, "203.0.113.2", 5353);
	snprintf(m.method, sizeof(m.method), "natpmp");
	status_map_update(&m);
	RUN_UNTIL(runs(5353) == 1 && idle(), WAIT_MS);
	assert_run(5353, 1, "arg5", "udp");
	assert_run(5353, 1, "env:NATMAPD_PROTOCOL", "udp");
	assert_run(5353, 1, "env:NATMAPD_METHOD", "natpmp");
	assert_run(5353, 1, "env:NATMAPD_EVENT", "up");
	assert_int_equal(runs(8080), 3);
}

/* Nothing of natmapd's leaks into the hook: environment, descriptors, signals, stdin. */
static void
test_clean_process(void **state)
{
	struct sigaction sa, old;
	char buf[512], *s, *p;
	int fd;

	(void)state;
	setenv("NATMAPD_TEST_LEAK", "1", 1);
	assert_true((fd = open("/dev/null", O_RDONLY)) != -1);
	assert_int_equal(dup2(fd, LEAK_FD), LEAK_FD);	/* no close-on-exec */
	close(fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old);		/* as main.c does */
	first_run(NULL, 0, 8080);
	RUN_UNTIL(idle(), WAIT_MS);
	sigaction(SIGPIPE, &old, NULL);
	close(LEAK_FD);
	unsetenv("NATMAPD_TEST_LEAK");

	assert_run(8080, 1, "cwd", "/");
	assert_run(8080, 1, "stdin", "/dev/null");
	/*
	 * No signal ignored: none of 1 to 31 (SIGPIPE above all).  32 and
	 * 33 are glibc's own, which its sigaction() refuses to touch; a
	 * parent (make) may leave them ignored, and glibc sets them itself.
	 */
	assert_int_equal(run_get(8080, 1, "sigign", buf, sizeof(buf)), 0);
	if ((strtoull(buf, NULL, 16) & 0x7fffffffULL) != 0) {
		printf("# ignored in the hook: %s\n", buf);
		fail_msg("ignored in the hook: %s", buf);
	}
	assert_int_equal(run_get(8080, 1, "leakfd", buf, sizeof(buf)), -1);
	/* the environment: PATH and NATMAPD_*, and what sh adds itself */
	path_in(buf, sizeof(buf), "run.8080.1");
	assert_non_null(s = slurp(buf));
	for (p = strtok(s, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		if (strncmp(p, "env:", 4) != 0)
			continue;
		p += 4;
		if (strncmp(p, "NATMAPD_", 8) == 0 &&
		    strncmp(p, "NATMAPD_TEST", 12) != 0)
			continue;
		if (strncmp(p, "PATH=", 5) == 0 || strncmp(p, "PWD=", 4) == 0 ||
		    strncmp(p, "OLDPWD=", 7) == 0 ||
		    strncmp(p, "SHLVL=", 6) == 0 || strncmp(p, "_=", 2) == 0)
			continue;
		fail_msg("the hook's environment has %s", p);
	}
	free(s);
}

/* Five changes while the hook runs: one more run, with the last state. */
static void
test_burst(void **state)
{
	struct status_map m;
	int i;

	(void)state;
	m = first_run(NULL, 1, 8080);
	for (i = 1; i <= 5; i++) {
		m.ext_port = (uint16_t)(18080 + i);
		status_map_update(&m);
	}
	/* the loop goes on; the first run still holds the gate */
	for (i = 0; i < 5; i++)
		loop_once(20);
	assert_int_equal(hook_running(), 1);
	assert_int_equal(runs(8080), 1);
	touch("go");
	RUN_UNTIL(runs(8080) == 2 && idle(), WAIT_MS);
	assert_run(8080, 1, "env:NATMAPD_EVENT", "up");
	assert_run(8080, 1, "arg2", "8080");
	assert_run(8080, 2, "env:NATMAPD_EVENT", "change");
	assert_run(8080, 2, "arg2", "18085");
	assert_int_equal(runs(8080), 2);
	assert_true(idle());
}

/* A burst that ends where the hook already is runs nothing more (natmap issue 107). */
static void
test_burst_same_state(void **state)
{
	struct status_map m;
	char buf[512];

	(void)state;
	m = first_run(NULL, 1, 8080);
	/* lost and back, at another address and back again */
	feed_down(&m);
	m = mk(DRV_TCP, 8080, "203.0.113.2", 8080);
	status_map_update(&m);
	m.ext_addr = a4("198.51.100.9");
	status_map_update(&m);
	m.ext_addr = a4("203.0.113.2");
	status_map_update(&m);
	touch("go");
	RUN_UNTIL(idle(), WAIT_MS);
	assert_int_equal(runs(8080), 1);

	/* up and down while another mapping's hook waits for a slot: nothing */
	path_in(buf, sizeof(buf), "go");
	unlink(buf);
	hook_set_limits(&(struct hook_limits){ .timeout_ms = HOOK_TIMEOUT_MS,
	    .grace_ms = HOOK_GRACE_MS, .exit_wait_ms = HOOK_EXIT_WAIT_MS,
	    .max_running = 1 });
	m = mk(DRV_UDP, 9000, "203.0.113.2", 9000);
	status_map_update(&m);
	RUN_UNTIL(runs(9000) == 1, WAIT_MS);
	m = mk(DRV_UDP, 9001, "203.0.113.2", 9001);
	status_map_update(&m);
	assert_int_equal(hook_waiting(), 1);
	feed_down(&m);
	touch("go");
	RUN_UNTIL(idle(), WAIT_MS);
	assert_int_equal(runs(9001), 0);
	assert_int_equal(runs(9000), 1);
}

/* At most max_running at once; the others wait and then run. */
static void
test_bound(void **state)
{
	struct status_map m;
	uint16_t p;

	(void)state;
	write_hook(NULL);
	touch("gate");
	hook_init(hookpath);
	for (p = 7000; p < 7010; p++) {
		m = mk(DRV_UDP, p, "203.0.113.2", p);
		status_map_update(&m);
	}
	assert_int_equal(hook_running(), HOOK_MAX_RUNNING);
	assert_int_equal(hook_waiting(), 10 - HOOK_MAX_RUNNING);
	RUN_UNTIL(runs(7000) + runs(7001) + runs(7002) + runs(7003) +
	    runs(7004) + runs(7005) + runs(7006) + runs(7007) +
	    runs(7008) + runs(7009) == HOOK_MAX_RUNNING, WAIT_MS);
	/* first come, first served */
	assert_int_equal(runs(7008), 0);
	assert_int_equal(runs(7009), 0);
	touch("go");
	RUN_UNTIL(idle(), WAIT_MS);
	for (p = 7000; p < 7010; p++)
		assert_int_equal(runs(p), 1);
}

/* A hook that hangs is sent SIGTERM, then SIGKILL, and logged. */
static void
test_timeout(void **state)
{
	struct status_map m;
	uint64_t t0;

	(void)state;
	/* a long grace: under load, reaping may take a while */
	hook_set_limits(&(struct hook_limits){ .timeout_ms = 1000,
	    .grace_ms = WAIT_MS, .exit_wait_ms = HOOK_EXIT_WAIT_MS,
	    .max_running = HOOK_MAX_RUNNING });
	/* SIGTERM ends it, and the sleep of its process group */
	write_hook("sleep 1000");
	hook_init(hookpath);
	t0 = loop_now();
	m = mk(DRV_TCP, 8080, "203.0.113.2", 8080);
	status_map_update(&m);
	RUN_UNTIL(idle(), WAIT_MS);
	assert_true(loop_now() - t0 >= 1000);
	assert_log("hook 8080/tcp: still running after 1000 ms: SIGTERM");
	assert_log("hook 8080/tcp: killed (SIGTERM)");
	assert_false(log_has("SIGKILL"));

	/*
	 * One that ignores SIGTERM (and so does its sleep) gets SIGKILL; it
	 * ignores it first thing, and has 2 s to get there under load.
	 */
	hook_set_limits(&(struct hook_limits){ .timeout_ms = 2000,
	    .grace_ms = 500, .exit_wait_ms = HOOK_EXIT_WAIT_MS,
	    .max_running = HOOK_MAX_RUNNING });
	write_hook_head("trap '' TERM", "sleep 1000");
	m = mk(DRV_TCP, 8081, "203.0.113.2", 8081);
	status_map_update(&m);
	RUN_UNTIL(idle(), WAIT_MS);
	assert_log("hook 8081/tcp: still running 500 ms after SIGTERM: "
	    "SIGKILL");
	assert_log("hook 8081/tcp: killed (SIGKILL)");
	/* and the next event runs it again (with time enough to) */
	hook_set_limits(NULL);
	m.ext_port = 18081;
	write_hook(NULL);
	status_map_update(&m);
	RUN_UNTIL(runs(8081) == 2 && idle(), WAIT_MS);
	assert_run(8081, 2, "env:NATMAPD_EVENT", "change");
}

/* Output goes to the log a line at a time, escaped, bounded. */
static void
test_output(void **state)
{
	struct status_map m;
	char want[600];

	(void)state;
	first_run(
	    "printf 'plain line\\n'\n"
	    "printf 'esc \\033[31mred\\ttab\\\\\\n'\n"
	    "printf 'to stderr\\n' >&2\n"
	    "printf 'crlf\\r\\n'\n"
	    "printf '%0500d\\n' 0\n"
	    "printf 'no newline at the end'\n"
	    "exit 3", 0, 8080);
	RUN_UNTIL(idle(), WAIT_MS);
	assert_log("hook 8080/tcp: plain line\n");
	assert_log("hook 8080/tcp: esc \\x1b[31mred\\x09tab\\x5c\n");
	assert_log("hook 8080/tcp: to stderr\n");
	assert_log("hook 8080/tcp: crlf\n");
	assert_log("hook 8080/tcp: no newline at the end\n");
	assert_log("hook 8080/tcp: exited with status 3\n");
	/* a long line: its first HOOK_LINE_MAX bytes, marked as cut */
	memset(want, '0', HOOK_LINE_MAX);
	snprintf(want + HOOK_LINE_MAX, sizeof(want) - HOOK_LINE_MAX, "...\n");
	assert_log(want);
	want[HOOK_LINE_MAX] = '0';
	want[HOOK_LINE_MAX + 1] = '\0';
	assert_false(log_has(want));

	/* a flood: the first HOOK_MAX_LINES lines, then one word about it */
	write_hook("i=0\nwhile [ $i -lt 150 ]; do echo \"line $i\"; "
	    "i=$((i + 1)); done");
	m = mk(DRV_TCP, 8081, "203.0.113.2", 8081);
	status_map_update(&m);
	RUN_UNTIL(idle(), WAIT_MS);
	assert_log("hook 8081/tcp: line 99\n");
	assert_false(log_has("hook 8081/tcp: line 100\n"));
	assert_log("hook 8081/tcp: more than 100 lines of output");
}

/* A hook that cannot be run says why, and natmapd goes on. */
static void
test_exec_failure(void **state)
{
	struct status_map m;
	char missing[400];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/no-such-hook", dir);
	hook_init(missing);
	assert_log("hook ");	/* the warning at start-up */
	m = mk(DRV_TCP, 8080, "203.0.113.2", 8080);
	status_map_update(&m);
	RUN_UNTIL(idle(), WAIT_MS);
	assert_log("hook 8080/tcp: cannot execute ");
	assert_log("hook 8080/tcp: exited with status 127");
}

/* No hook: nothing runs; a hook set later (SIGHUP) hears of what is up now. */
static void
test_set_later(void **state)
{
	struct status_map m;

	(void)state;
	write_hook(NULL);
	hook_init(NULL);
	m = mk(DRV_TCP, 8080, "203.0.113.2", 8080);
	status_map_update(&m);
	m = mk(DRV_TCP, 8081, "203.0.113.2", 8081);
	status_map_update(&m);
	feed_down(&m);
	assert_true(idle());
	hook_set_path(hookpath);
	RUN_UNTIL(runs(8080) == 1 && idle(), WAIT_MS);
	assert_run(8080, 1, "env:NATMAPD_EVENT", "up");
	assert_int_equal(runs(8081), 0);
	/* the same path again is no change */
	hook_set_path(hookpath);
	assert_true(idle());
	/* no hook: events pass by */
	hook_set_path(NULL);
	m = mk(DRV_TCP, 8080, "203.0.113.2", 8080);
	feed_down(&m);
	assert_true(idle());
	assert_int_equal(runs(8080), 1);
}

/* The peer hook: each run's argv and environment into peer.NODE.N. */
static void
write_peer_hook(void)
{
	char p[512];
	FILE *fp;

	path_in(p, sizeof(p), "peer-hook.sh");
	assert_non_null(fp = fopen(p, "w"));
	fprintf(fp,
	    "#!/bin/sh\n"
	    "d=%s\n"
	    "n=$(cat \"$d/pcount.$1\" 2>/dev/null || echo 0)\n"
	    "n=$((n + 1))\n"
	    "echo \"$n\" >\"$d/pcount.$1\"\n"
	    "{\n"
	    "\tprintf 'argc=%%s\\n' \"$#\"\n"
	    "\ti=1\n"
	    "\tfor a in \"$@\"; do printf 'arg%%s=%%s\\n' \"$i\" \"$a\"; "
	    "i=$((i + 1)); done\n"
	    "\tenv | sed 's/^/env:/' | sort\n"
	    "} >\"$d/prun.tmp.$$\"\n"
	    "mv \"$d/prun.tmp.$$\" \"$d/run.$1.$n\"\n", dir);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(p, 0755), 0);
}

static struct status_peer
mkpeer(const char *node, const char *path, const char *endpoint)
{
	struct status_peer sp;

	memset(&sp, 0, sizeof(sp));
	snprintf(sp.node, sizeof(sp.node), "%s", node);
	snprintf(sp.state, sizeof(sp.state), "%s", path[0] ? "up" :
	    "probing");
	snprintf(sp.path, sizeof(sp.path), "%s", path);
	snprintf(sp.endpoint, sizeof(sp.endpoint), "%s", endpoint);
	if (strcmp(path, "relay") == 0) {
		snprintf(sp.relay, sizeof(sp.relay), "203.0.113.8:3478");
		snprintf(sp.via, sizeof(sp.via), "relay");
	} else if (path[0])
		snprintf(sp.via, sizeof(sp.via), "srflx");
	sp.rtt_ms = -1;
	sp.carrier_rtt_ms = -1;
	return sp;
}

/* Line key=value of the peer hook's run file run.NODE.N is want. */
static void
assert_prun(const char *node, int n, const char *key, const char *want)
{
	char p[512], name[128], *buf, *line, *save = NULL, *got = NULL;
	size_t klen = strlen(key);

	snprintf(name, sizeof(name), "run.%s.%d", node, n);
	path_in(p, sizeof(p), name);
	if ((buf = slurp(p)) == NULL) {
		printf("# no %s\n", name);
		fail_msg("no %s", name);
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			got = line + klen + 1;
			break;
		}
	if (got == NULL || strcmp(got, want) != 0) {
		printf("# %s: %s is \"%s\", wanted \"%s\"\n", name, key,
		    got != NULL ? got : "(none)", want);
		fail_msg("%s: %s", name, key);
	}
	free(buf);
}

#define pruns(node)	runs_of(node)

/* The peer hook: up, change of path, no event for counters, down, gone. */
static void
test_peer_hook(void **state)
{
	struct status_peer v[2];
	char p[512];

	(void)state;
	write_hook(NULL);
	write_peer_hook();
	path_in(p, sizeof(p), "peer-hook.sh");
	hook_init(hookpath);
	/* a peer up before the peer hook is set: told at once */
	v[0] = mkpeer("alpha", "direct-v4", "203.0.113.2:40000");
	status_peers_update(v, 1);
	assert_true(idle());
	hook_set_peer_path(p);
	RUN_UNTIL(pruns("alpha") == 1 && idle(), WAIT_MS);
	assert_prun("alpha", 1, "argc", "3");
	assert_prun("alpha", 1, "arg1", "alpha");
	assert_prun("alpha", 1, "arg2", "direct-v4");
	assert_prun("alpha", 1, "arg3", "203.0.113.2:40000");
	assert_prun("alpha", 1, "env:NATMAPD_EVENT", "up");
	assert_prun("alpha", 1, "env:NATMAPD_PEER", "alpha");
	assert_prun("alpha", 1, "env:NATMAPD_PATH", "direct-v4");
	assert_prun("alpha", 1, "env:NATMAPD_ENDPOINT", "203.0.113.2:40000");
	assert_prun("alpha", 1, "env:NATMAPD_VIA", "srflx");
	assert_prun("alpha", 1, "env:PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
	/* the mapping hook hears nothing of peers */
	assert_false(exists("count."));

	/* bytes and round trips are no event */
	v[0].bytes_in = 1000;
	v[0].rtt_ms = 3;
	status_peers_update(v, 1);
	assert_true(idle());

	/* a second peer, relayed; alpha now relayed too */
	v[1] = mkpeer("beta", "relay", "203.0.113.8:49152");
	status_peers_update(v, 2);
	RUN_UNTIL(pruns("beta") == 1 && idle(), WAIT_MS);
	assert_prun("beta", 1, "env:NATMAPD_EVENT", "up");
	assert_prun("beta", 1, "env:NATMAPD_PATH", "relay");
	assert_prun("beta", 1, "env:NATMAPD_RELAY", "203.0.113.8:3478");
	assert_int_equal(pruns("alpha"), 1);
	v[0] = mkpeer("alpha", "relay", "203.0.113.8:49153");
	status_peers_update(v, 2);
	RUN_UNTIL(pruns("alpha") == 2 && idle(), WAIT_MS);
	assert_prun("alpha", 2, "env:NATMAPD_EVENT", "change");
	assert_prun("alpha", 2, "arg2", "relay");
	assert_prun("alpha", 2, "env:NATMAPD_RELAY", "203.0.113.8:3478");

	/* alpha's path lost (probing again): down, with the path it had */
	v[0] = mkpeer("alpha", "", "");
	status_peers_update(v, 2);
	RUN_UNTIL(pruns("alpha") == 3 && idle(), WAIT_MS);
	assert_prun("alpha", 3, "env:NATMAPD_EVENT", "down");
	assert_prun("alpha", 3, "arg2", "none");
	assert_prun("alpha", 3, "env:NATMAPD_PATH", "none");
	assert_prun("alpha", 3, "env:NATMAPD_ENDPOINT", "203.0.113.8:49153");
	/* beta forgotten: down too */
	status_peers_update(v, 1);
	RUN_UNTIL(pruns("beta") == 2 && idle(), WAIT_MS);
	assert_prun("beta", 2, "env:NATMAPD_EVENT", "down");
	assert_int_equal(pruns("alpha"), 3);

	/* no peer hook: events pass by */
	hook_set_peer_path(NULL);
	v[0] = mkpeer("alpha", "direct-v6", "[2001:db8::2]:40000");
	status_peers_update(v, 1);
	assert_true(idle());
	assert_int_equal(pruns("alpha"), 3);
}

static int drained;

static void
on_drained(void)
{
	drained++;
}

/* At exit: the down hooks are waited for, a bounded time. */
static void
test_drain(void **state)
{
	struct status_map m;
	char pidbuf[32];
	uint64_t t0;
	pid_t pid;
	int status;

	(void)state;
	hook_set_limits(&(struct hook_limits){ .timeout_ms = HOOK_TIMEOUT_MS,
	    .grace_ms = HOOK_GRACE_MS, .exit_wait_ms = WAIT_MS,
	    .max_running = HOOK_MAX_RUNNING });
	m = first_run(NULL, 1, 8080);
	drained = 0;
	hook_drain(on_drained);
	assert_int_equal(drained, 0);
	touch("go");
	RUN_UNTIL(drained == 1, WAIT_MS);
	assert_true(idle());
	/* nothing left: at once */
	drained = 0;
	hook_drain(on_drained);
	assert_int_equal(drained, 1);

	/* a hook that hangs: given exit_wait_ms, then SIGTERM at hook_free() */
	hook_set_limits(&(struct hook_limits){ .timeout_ms = HOOK_TIMEOUT_MS,
	    .grace_ms = HOOK_GRACE_MS, .exit_wait_ms = 1000,
	    .max_running = HOOK_MAX_RUNNING });
	write_hook("sleep 1000");
	feed_down(&m);
	RUN_UNTIL(runs(8080) == 2, WAIT_MS);
	drained = 0;
	t0 = loop_now();
	hook_drain(on_drained);
	RUN_UNTIL(drained == 1, WAIT_MS);
	assert_true(loop_now() - t0 >= 1000);
	assert_int_equal(hook_running(), 1);
	assert_int_equal(run_get(8080, 2, "pid", pidbuf, sizeof(pidbuf)), 0);
	pid = (pid_t)atoi(pidbuf);
	hook_free();
	assert_log("hook 8080/tcp: still running at exit: SIGTERM");
	/* it is gone (natmapd would not wait; the test reaps it) */
	t0 = loop_now();
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (loop_now() - t0 > WAIT_MS)
			fail_msg("the hook survived SIGTERM");
		poll(NULL, 0, 10);
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4p),
		cmocka_unit_test_setup_teardown(test_up_change_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_clean_process, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_same_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_set_later, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_hook, setup,
		    teardown),
	};

	return TU_RUN("hook", tests);
}
