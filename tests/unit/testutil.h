/* SPDX-License-Identifier: ISC */
/* Helpers shared by the cmocka unit tests: test data files, a TAP-safe runner, bytes, addresses and STUN messages built by hand. */
#ifndef NATMAPD_TESTUTIL_H
#define NATMAPD_TESTUTIL_H

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

#include "driver.h"
#include "loop.h"
#include "stun-msg.h"

#define TU_ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* A request a test makes of a driver, and what came back to it. */
struct tu_op {
	struct drv_op		op;
	int			done;
	struct drv_result	res;
};

static inline void
tu_op_done(struct drv_op *op, const struct drv_result *r)
{
	struct tu_op *o = container_of(op, struct tu_op, op);

	o->done++;
	o->res = *r;
}

static inline void
tu_op_reset(struct tu_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op.done = tu_op_done;
}

/* A driver's view of lo: the gateway 127.0.0.1, this host local (host order). */
static inline void
tu_env_lo(struct drv_env *env, uint32_t local)
{
	memset(env, 0, sizeof(*env));
	snprintf(env->ifname, sizeof(env->ifname), "lo");
	env->local.s_addr = htonl(local);
	env->gateway.s_addr = htonl(INADDR_LOOPBACK);
	env->netmask.s_addr = htonl(0xff000000);
}

/*
 * A fake clock that moves only when the test says (loop_set_clock(
 * tu_fake_clock)), and the loop run on it: for drivers talking to a fake
 * on loopback, where a datagram sent is there to read at the next round.
 */
static inline uint64_t *
tu_fake_now(void)
{
	static uint64_t now = 1000;

	return &now;
}

static inline uint64_t
tu_fake_clock(void)
{
	return *tu_fake_now();
}

/* Run the loop until *v reaches want or ms of fake time have passed. */
static inline void
tu_run_until(const int *v, int want, unsigned int ms)
{
	uint64_t end = *tu_fake_now() + ms;

	for (;;) {
		loop_once(0);
		if (*v >= want || *tu_fake_now() >= end)
			return;
		*tu_fake_now() += 1;
	}
}

/* Move the fake clock on by ms, serving what comes. */
static inline void
tu_run_for(unsigned int ms)
{
	static const int never;

	tu_run_until(&never, 1, ms);
}

/* The source tree: $SRCDIR (set by "make check"), else the current directory. */
static inline const char *
tu_srcdir(void)
{
	const char *s = getenv("SRCDIR");

	return s != NULL && *s != '\0' ? s : ".";
}

/*
 * How many times slower than a machine of its own the test runs: 1, or
 * $TEST_SLOWDOWN (1 to 100), which contrib/openwrt/check.sh sets where the
 * unit tests of a big-endian build run under qemu-user.  Bounds on real
 * time are multiplied by it.
 */
static inline unsigned int
tu_slowdown(void)
{
	const char *s = getenv("TEST_SLOWDOWN");
	int n = s != NULL ? atoi(s) : 1;

	return n >= 1 && n <= 100 ? (unsigned int)n : 1;
}

/* "$SRCDIR/tests/data/<rel>" into buf. */
static inline void
tu_data_path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/tests/data/%s", tu_srcdir(), rel);
}

static inline int
tu_data_exists(const char *rel)
{
	char path[4096];
	struct stat st;

	tu_data_path(path, sizeof(path), rel);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Read tests/data/<rel> whole; the buffer has a NUL after the last byte
 * (not counted in *len) so that text can be used as a string.  Fails the
 * running test if the file cannot be read.  free() the result.
 */
static inline char *
tu_read(const char *rel, size_t *len)
{
	char path[4096], *buf = NULL;
	size_t cap = 0, n = 0, r;
	FILE *fp;

	tu_data_path(path, sizeof(path), rel);
	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - n < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				fail_msg("out of memory");
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(fp))
		fail_msg("%s: read error", path);
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * Split a captured HTTP response in head and body at the first empty
 * line; returns the offset of the body.
 */
static inline size_t
tu_body_offset(const char *buf, size_t len)
{
	const char *p;

	for (p = buf; p + 4 <= buf + len; p++)
		if (memcmp(p, "\r\n\r\n", 4) == 0)
			return (size_t)(p - buf) + 4;
	fail_msg("no end of head in the capture");
	return 0;
}

static inline void
tu_skipped(void **state)
{
	(void)state;
}

static inline void
tu_skip_overflow(void **state)
{
	(void)state;
	fail_msg("cannot run here, and too many skips to name this one");
}

/*
 * A test that cannot run here (no root, no namespace, no data file):
 * cmocka 1.1.5's skip() prints "not ok N # SKIP", a failure to automake's
 * TAP driver, so it is renamed "NAME # SKIP why" and runs nothing ("ok N -
 * NAME # SKIP why"): it is counted as skipped, never just left out.  The
 * names live until the program ends; past 128 of them, a test that should
 * skip fails instead, with the reason on a '#' line.
 */
static inline void
tu_skip_test(struct CMUnitTest *t, const char *why)
{
	static char names[128][256];
	static size_t used;

	if (used == TU_ARRAY_LEN(names)) {
		printf("# %s: cannot run here: %s\n", t->name, why);
		t->test_func = tu_skip_overflow;
		t->setup_func = NULL;
		t->teardown_func = NULL;
		t->initial_state = NULL;
		return;
	}
	snprintf(names[used], sizeof(names[used]), "%s # SKIP %s", t->name,
	    why);
	t->name = names[used++];
	t->test_func = tu_skipped;
	t->setup_func = NULL;
	t->teardown_func = NULL;
	t->initial_state = NULL;
}

/* tu_skip_test for each of tests[0..n). */
static inline void
tu_skip_tests(struct CMUnitTest *tests, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++)
		tu_skip_test(&tests[i], why);
}

/*
 * Run a group of tests.  Tests built with cmocka_unit_test_prestate(f,
 * "relative/path") need tests/data/<path>: when that file is missing the
 * test is a SKIP naming it (tu_skip_test).  All other tests must have a
 * NULL initial state.
 */
static inline int
tu_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
	struct CMUnitTest *run;
	char why[192];
	size_t i;
	int r;

	if ((run = calloc(n, sizeof(*run))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		const char *rel = tests[i].initial_state;

		run[i] = tests[i];
		if (rel != NULL && !tu_data_exists(rel)) {
			snprintf(why, sizeof(why), "tests/data/%s is missing",
			    rel);
			tu_skip_test(&run[i], why);
		}
	}
	fflush(stdout);
	r = _cmocka_run_group_tests(name, run, n, NULL, NULL);
	free(run);
	return r;
}

#define TU_RUN(name, tests)	tu_run((name), (tests), TU_ARRAY_LEN(tests))

/*
 * A test with a data file (a string literal): *state is the path relative
 * to tests/data, and the test is named after the function and the file.
 */
#define TU_FILE_TEST(f, rel) \
	{ #f " " rel, f, NULL, NULL, (void *)(rel) }

/*
 * Enter a network namespace of the test's own, with only lo (up): what
 * the test sends cannot leave it.  0, or -1 (not root, no namespaces).
 */
static inline int
tu_netns_enter(void)
{
	struct ifreq ifr;
	int s, r = -1;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) == -1)
		return -1;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return r;
}

/* A codec's parser: bytes in, a struct out, -1 with *err on refusal. */
typedef int (*tu_parse_fn)(const uint8_t *, size_t, void *, const char **);

/*
 * Parse an exact-size heap copy, so that ASan sees any read past len; the
 * struct is filled with 0xa5 first (the parser must clear it), and the
 * return value and *err must agree.
 */
static inline int
tu_parse_exact(tu_parse_fn parse, const uint8_t *buf, size_t len, void *out,
    size_t outsize, const char **err)
{
	uint8_t *copy = malloc(len == 0 ? 1 : len);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	*err = NULL;
	memset(out, 0xa5, outsize);
	rc = parse(copy, len, out, err);
	free(copy);
	if (rc == 0)
		assert_null(*err);
	else {
		assert_int_equal(rc, -1);
		assert_non_null(*err);
	}
	return rc;
}

static inline void
tu_parse_ok(tu_parse_fn parse, const uint8_t *buf, size_t len, void *out,
    size_t outsize)
{
	const char *err;

	if (tu_parse_exact(parse, buf, len, out, outsize, &err) != 0)
		fail_msg("refused (%zu bytes): %s", len, err);
}

/* Refused with exactly why, and nothing half-parsed left behind. */
static inline void
tu_parse_fails(tu_parse_fn parse, const uint8_t *buf, size_t len,
    size_t outsize, const char *why)
{
	uint8_t *out = malloc(outsize), *zero = calloc(1, outsize);
	const char *err;

	assert_non_null(out);
	assert_non_null(zero);
	if (tu_parse_exact(parse, buf, len, out, outsize, &err) != -1)
		fail_msg("accepted %zu bytes, wanted \"%s\"", len, why);
	assert_string_equal(err, why);
	assert_memory_equal(out, zero, outsize);
	free(out);
	free(zero);
}

/* Hex text ("0a1b...") into out, at most max bytes: how many. */
static inline size_t
tu_unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (hex[0] != '\0' && hex[1] != '\0') {
		assert_true(n < max);
		assert_int_equal(sscanf(hex, "%2x", &b), 1);
		out[n++] = (uint8_t)b;
		hex += 2;
	}
	return n;
}

/* "a.b.c.d" or an IPv6 address (it has a ':'), and a port. */
static inline struct sockaddr_storage
tu_sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') == NULL) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
		memcpy(&ss, &sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		memcpy(&ss, &sin6, sizeof(sin6));
	}
	return ss;
}

/* ss is want: "a.b.c.d:port" or "[v6]:port". */
static inline void
tu_assert_sa(const struct sockaddr_storage *ss, const char *want)
{
	char a[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 16];

	if (ss->ss_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, ss, sizeof(sin));
		assert_non_null(inet_ntop(AF_INET, &sin.sin_addr, a,
		    sizeof(a)));
		snprintf(s, sizeof(s), "%s:%u", a, ntohs(sin.sin_port));
	} else if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, ss, sizeof(sin6));
		assert_non_null(inet_ntop(AF_INET6, &sin6.sin6_addr, a,
		    sizeof(a)));
		snprintf(s, sizeof(s), "[%s]:%u", a, ntohs(sin6.sin6_port));
	} else
		snprintf(s, sizeof(s), "none (family %d)", ss->ss_family);
	assert_string_equal(s, want);
}

/*
 * A STUN message built by hand, attribute by attribute, apart from the
 * codec under test: to reach each refusal, or to stand for a peer.
 */
struct tu_msgb {
	uint8_t		b[2048];
	size_t		len;
};

/* The header's length field: the attributes so far, and extra to come. */
static inline void
tu_mb_len(struct tu_msgb *mb, size_t extra)
{
	size_t l = mb->len + extra - STUN_HDR_LEN;

	mb->b[2] = (uint8_t)(l >> 8);
	mb->b[3] = (uint8_t)l;
}

/* A header of type with the magic cookie and tid (STUN_TID_LEN bytes). */
static inline void
tu_mb_init(struct tu_msgb *mb, uint16_t type, const void *tid)
{
	memset(mb, 0, sizeof(*mb));
	mb->b[0] = (uint8_t)(type >> 8);
	mb->b[1] = (uint8_t)type;
	memcpy(mb->b + 4, "\x21\x12\xa4\x42", 4);
	memcpy(mb->b + 8, tid, STUN_TID_LEN);
	mb->len = STUN_HDR_LEN;
	tu_mb_len(mb, 0);
}

/* One attribute, padded to 4 bytes with zeros. */
static inline void
tu_mb_attr(struct tu_msgb *mb, uint16_t type, const void *v, size_t vlen)
{
	size_t padded = (vlen + 3) & ~(size_t)3;

	assert_true(mb->len + 4 + padded <= sizeof(mb->b));
	mb->b[mb->len] = (uint8_t)(type >> 8);
	mb->b[mb->len + 1] = (uint8_t)type;
	mb->b[mb->len + 2] = (uint8_t)(vlen >> 8);
	mb->b[mb->len + 3] = (uint8_t)vlen;
	if (vlen > 0)
		memcpy(mb->b + mb->len + 4, v, vlen);
	memset(mb->b + mb->len + 4 + vlen, 0, padded - vlen);
	mb->len += 4 + padded;
	tu_mb_len(mb, 0);
}

static inline void
tu_mb_str(struct tu_msgb *mb, uint16_t type, const char *s)
{
	tu_mb_attr(mb, type, s, strlen(s));
}

/* FINGERPRINT (RFC 8489 14.7) over what is there, the length counting it. */
static inline void
tu_mb_fingerprint(struct tu_msgb *mb)
{
	uint32_t crc;
	uint8_t v[4];

	tu_mb_len(mb, 8);
	crc = stun_crc32(mb->b, mb->len) ^ 0x5354554e;
	v[0] = (uint8_t)(crc >> 24);
	v[1] = (uint8_t)(crc >> 16);
	v[2] = (uint8_t)(crc >> 8);
	v[3] = (uint8_t)crc;
	tu_mb_attr(mb, STUN_A_FINGERPRINT, v, 4);
}

#endif
