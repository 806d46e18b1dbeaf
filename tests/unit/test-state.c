/* SPDX-License-Identifier: ISC */
/* Unit tests of the state file: parsing, printing, loading and atomic saving (state.c). */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "driver.h"
#include "state.h"

#define HEADER	"# natmapd state: mappings it made on the router; " \
		"written by natmapd, do not edit\n"
#define NONCE	"0123456789abcdef01234567"
#define LINE	"map pcp tcp 8080 8080 " NONCE " 192.168.1.1 192.168.1.10\n"

/* ---- helpers ---- */

static int
parse_len(const char *s, size_t len, struct state_entry **e, size_t *n,
    char *err, size_t elen)
{
	err[0] = '\0';
	return state_parse("t.state", s, len, e, n, err, elen);
}

/* The text must be accepted with want entries; free() *e. */
static struct state_entry *
parse_ok_len(const char *s, size_t len, size_t want)
{
	struct state_entry *e = (void *)1;
	size_t n = 99;
	char err[512];

	if (parse_len(s, len, &e, &n, err, sizeof(err)) != 0)
		fail_msg("rejected: %s", err);
	assert_int_equal(n, want);
	if (want == 0)
		assert_null(e);
	else
		assert_non_null(e);
	return e;
}

static struct state_entry *
parse_ok(const char *s, size_t want)
{
	return parse_ok_len(s, strlen(s), want);
}

/* The text must be refused with exactly this message, and nothing returned. */
static void
parse_err_len(const char *s, size_t len, const char *want)
{
	struct state_entry *e = (void *)1;
	size_t n = 99;
	char err[512];

	if (parse_len(s, len, &e, &n, err, sizeof(err)) != -1) {
		free(e);
		fail_msg("accepted, wanted \"%s\"", want);
	}
	assert_null(e);
	assert_int_equal(n, 0);
	assert_string_equal(err, want);
}

#define PARSE_ERR(s, want)	parse_err_len((s), sizeof(s) - 1, (want))

static char *
print_state(const struct state_entry *e, size_t n, size_t *len)
{
	char *buf = NULL;
	size_t l = 0;
	FILE *fp = open_memstream(&buf, &l);

	assert_non_null(fp);
	state_print(fp, e, n);
	assert_int_equal(fclose(fp), 0);
	if (len != NULL)
		*len = l;
	return buf;
}

static void
assert_entry(const struct state_entry *e, const char *protocol, int proto,
    unsigned ip, unsigned ep, const char *nonce, const char *gw,
    const char *local)
{
	char buf[INET_ADDRSTRLEN], hex[2 * STATE_NONCE_LEN + 1];
	size_t k;

	assert_string_equal(e->protocol, protocol);
	assert_int_equal(e->proto, proto);
	assert_int_equal(e->int_port, ip);
	assert_int_equal(e->ext_port, ep);
	for (k = 0; k < STATE_NONCE_LEN; k++)
		snprintf(hex + 2 * k, 3, "%02x", e->nonce[k]);
	assert_string_equal(hex, nonce);
	assert_string_equal(inet_ntop(AF_INET, &e->gateway, buf, sizeof(buf)),
	    gw);
	assert_string_equal(inet_ntop(AF_INET, &e->local, buf, sizeof(buf)),
	    local);
}

static int
entries_equal(const struct state_entry *a, const struct state_entry *b,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].protocol, b[i].protocol) != 0 ||
		    a[i].proto != b[i].proto ||
		    a[i].int_port != b[i].int_port ||
		    a[i].ext_port != b[i].ext_port ||
		    memcmp(a[i].nonce, b[i].nonce, STATE_NONCE_LEN) != 0 ||
		    a[i].gateway.s_addr != b[i].gateway.s_addr ||
		    a[i].local.s_addr != b[i].local.s_addr)
			return 0;
	return 1;
}

/* print -> parse gives the same entries; a second print the same bytes. */
static void
assert_roundtrip(const struct state_entry *e, size_t n)
{
	struct state_entry *e2;
	char *t1, *t2, err[512];
	size_t l1, l2, n2;

	t1 = print_state(e, n, &l1);
	assert_true(strncmp(t1, HEADER, strlen(HEADER)) == 0);
	if (state_parse("printed", t1, l1, &e2, &n2, err, sizeof(err)) != 0)
		fail_msg("printed text rejected: %s", err);
	assert_int_equal(n2, n);
	assert_true(entries_equal(e, e2, n));
	t2 = print_state(e2, n2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
	free(e2);
}

/* A temporary directory under $TMPDIR or /tmp; rmdir_all() it. */
static void
make_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/natmapd-state.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(buf) == NULL)
		fail_msg("mkdtemp %s: %s", buf, strerror(errno));
}

/* The names in dir other than . and .., sorted, joined with ' '. */
static void
list_dir(const char *dir, char *out, size_t len)
{
	struct dirent **names;
	int i, k;

	out[0] = '\0';
	if ((k = scandir(dir, &names, NULL, alphasort)) == -1)
		fail_msg("scandir %s: %s", dir, strerror(errno));
	for (i = 0; i < k; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0) {
			if (out[0] != '\0')
				strncat(out, " ", len - strlen(out) - 1);
			strncat(out, names[i]->d_name, len - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
}

/* Remove the files in dir (one level) and dir. */
static void
rmdir_all(const char *dir)
{
	struct dirent *d;
	char path[4096];
	DIR *dp;

	chmod(dir, 0700);
	if ((dp = opendir(dir)) != NULL) {
		while ((d = readdir(dp)) != NULL) {
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			if (unlink(path) == -1)
				rmdir(path);
		}
		closedir(dp);
	}
	rmdir(dir);
}

static void
write_file(const char *path, const char *s, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *
read_file(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, l = 0, r;
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	for (;;) {
		if (cap - l < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			assert_non_null(buf = realloc(buf, cap + 1));
		}
		if ((r = fread(buf + l, 1, cap - l, fp)) == 0)
			break;
		l += r;
	}
	fclose(fp);
	buf[l] = '\0';
	*len = l;
	return buf;
}

/* Three entries, one of each protocol. */
static const char good3[] = HEADER
    "map pcp tcp 8080 8080 " NONCE " 192.168.1.1 192.168.1.10\n"
    "map natpmp udp 51413 40211 00000000000000000000000a 10.0.0.1 10.0.0.2\n"
    "map upnp tcp 22 2222 ffffffffffffffffffffffff 172.16.0.1 172.16.5.9\n";

static void
assert_good3(const struct state_entry *e)
{
	assert_entry(&e[0], "pcp", DRV_TCP, 8080, 8080, NONCE, "192.168.1.1",
	    "192.168.1.10");
	assert_entry(&e[1], "natpmp", DRV_UDP, 51413, 40211,
	    "00000000000000000000000a", "10.0.0.1", "10.0.0.2");
	assert_entry(&e[2], "upnp", DRV_TCP, 22, 2222,
	    "ffffffffffffffffffffffff", "172.16.0.1", "172.16.5.9");
}

/* ---- parsing good files ---- */

static void
test_parse_several(void **state)
{
	struct state_entry *e;

	(void)state;
	e = parse_ok(good3, 3);
	assert_good3(e);
	free(e);
}

static void
test_parse_empty(void **state)
{
	(void)state;
	free(parse_ok("", 0));
	free(parse_ok(HEADER, 0));
	free(parse_ok("\n\n  \t\n# only comments\n", 0));
	free(parse_ok("\r\n", 0));
}

static void
test_parse_comments_blanks(void **state)
{
	struct state_entry *e;

	(void)state;
	e = parse_ok("# hand-made\n\n   \n\t" LINE
	    "  map\tupnp\tudp   1\t65535 " NONCE " 10.1.2.3 10.1.2.4 # why\n"
	    "#map nothing here\n"
	    "map natpmp tcp 2 3 " NONCE " 1.2.3.4 5.6.7.8#glued comment\n", 3);
	assert_entry(&e[0], "pcp", DRV_TCP, 8080, 8080, NONCE, "192.168.1.1",
	    "192.168.1.10");
	assert_entry(&e[1], "upnp", DRV_UDP, 1, 65535, NONCE, "10.1.2.3",
	    "10.1.2.4");
	assert_entry(&e[2], "natpmp", DRV_TCP, 2, 3, NONCE, "1.2.3.4",
	    "5.6.7.8");
	free(e);
}

static void
test_parse_crlf(void **state)
{
	struct state_entry *e;

	(void)state;
	e = parse_ok("# header\r\n"
	    "map pcp tcp 8080 8080 " NONCE " 192.168.1.1 192.168.1.10\r\n"
	    "\r\n"
	    "map natpmp udp 51413 40211 00000000000000000000000a 10.0.0.1 "
	    "10.0.0.2\r\n"
	    "map upnp tcp 22 2222 ffffffffffffffffffffffff 172.16.0.1 "
	    "172.16.5.9\r", 3);
	assert_good3(e);
	free(e);
	/* a CR elsewhere than before the newline is a stray byte */
	PARSE_ERR("map pcp tcp 8080 8080 " NONCE "\r 192.168.1.1 "
	    "192.168.1.10\n", "t.state:1: unexpected byte 0x0d");
	PARSE_ERR(LINE "# two\r\r\n", "t.state:2: unexpected byte 0x0d");
}

static void
test_parse_no_newline(void **state)
{
	struct state_entry *e;

	(void)state;
	e = parse_ok_len(good3, sizeof(good3) - 2, 3);
	assert_good3(e);
	free(e);
	e = parse_ok("map upnp udp 9 9 " NONCE " 1.1.1.1 2.2.2.2", 1);
	assert_entry(&e[0], "upnp", DRV_UDP, 9, 9, NONCE, "1.1.1.1",
	    "2.2.2.2");
	free(e);
}

/* Only the bytes given count: the parser must not read a terminating NUL. */
static void
test_parse_length(void **state)
{
	struct state_entry *e;
	char *buf;
	size_t len = strlen(LINE) - 1;

	(void)state;
	assert_non_null(buf = malloc(len));
	memcpy(buf, LINE, len);
	e = parse_ok_len(buf, len, 1);
	free(e);
	/* cut in the local address: still an address, another one */
	e = parse_ok_len(buf, len - 1, 1);
	assert_entry(&e[0], "pcp", DRV_TCP, 8080, 8080, NONCE, "192.168.1.1",
	    "192.168.1.1");
	free(e);
	parse_err_len(buf, len - 12, "t.state:1: map: expected 7 fields, "
	    "got 6");
	free(buf);
}

/* ---- errors ---- */

static void
test_errors(void **state)
{
	(void)state;
	PARSE_ERR(HEADER "map stun tcp 1 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:2: bad protocol \"stun\": expected pcp, natpmp or upnp");
	PARSE_ERR("map PCP tcp 1 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad protocol \"PCP\": expected pcp, natpmp or upnp");
	PARSE_ERR("\n\nmap pcp sctp 1 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:3: bad proto \"sctp\": expected tcp or udp");
	PARSE_ERR("map pcp TCP 1 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad proto \"TCP\": expected tcp or udp");
	PARSE_ERR("map pcp tcp 0 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad internal port \"0\"");
	PARSE_ERR("map pcp tcp 65536 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad internal port \"65536\"");
	PARSE_ERR("map pcp tcp +80 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad internal port \"+80\"");
	PARSE_ERR("map pcp tcp -80 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad internal port \"-80\"");
	PARSE_ERR("map pcp tcp 0x50 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad internal port \"0x50\"");
	PARSE_ERR("map pcp tcp 080808 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad internal port \"080808\"");
	PARSE_ERR("map pcp tcp 1 +1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad external port \"+1\"");
	PARSE_ERR("map pcp tcp 1 99999 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad external port \"99999\"");
	PARSE_ERR("map pcp tcp 1 1a " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad external port \"1a\"");
	PARSE_ERR("map pcp tcp 1 1 0123456789abcdef0123456 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad nonce \"0123456789abcdef0123456\"");
	PARSE_ERR("map pcp tcp 1 1 0123456789abcdef012345678 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad nonce \"0123456789abcdef012345678\"");
	PARSE_ERR("map pcp tcp 1 1 0123456789ABCDEF01234567 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad nonce \"0123456789ABCDEF01234567\"");
	PARSE_ERR("map pcp tcp 1 1 0123456789abcdeg01234567 1.1.1.1 2.2.2.2\n",
	    "t.state:1: bad nonce \"0123456789abcdeg01234567\"");
	PARSE_ERR("map pcp tcp 1 1 " NONCE " 1.1.1 2.2.2.2\n",
	    "t.state:1: bad gateway address \"1.1.1\"");
	PARSE_ERR("map pcp tcp 1 1 " NONCE " 256.1.1.1 2.2.2.2\n",
	    "t.state:1: bad gateway address \"256.1.1.1\"");
	PARSE_ERR("map pcp tcp 1 1 " NONCE " router 2.2.2.2\n",
	    "t.state:1: bad gateway address \"router\"");
	PARSE_ERR("map pcp tcp 1 1 " NONCE " 1.1.1.1 fe80::1\n",
	    "t.state:1: bad local address \"fe80::1\"");
	PARSE_ERR("map pcp tcp 1 1 " NONCE " 1.1.1.1 2.2.2.2.\n",
	    "t.state:1: bad local address \"2.2.2.2.\"");
	PARSE_ERR(LINE "mapping pcp tcp 1 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:2: unknown keyword \"mapping\"");
	PARSE_ERR("MAP pcp tcp 1 1 " NONCE " 1.1.1.1 2.2.2.2\n",
	    "t.state:1: unknown keyword \"MAP\"");
	PARSE_ERR("lease 3600\n", "t.state:1: unknown keyword \"lease\"");
	PARSE_ERR("map\n", "t.state:1: map: expected 7 fields, got 0");
	PARSE_ERR("map pcp tcp 1 1 " NONCE " 1.1.1.1\n",
	    "t.state:1: map: expected 7 fields, got 6");
	PARSE_ERR("map pcp tcp 1 1 " NONCE " 1.1.1.1 2.2.2.2 x\n",
	    "t.state:1: map: expected 7 fields, got 8");
	PARSE_ERR("map a b c d e f g h i j k l m n o p q r s t u v w x y z\n",
	    "t.state:1: map: expected 7 fields, got 26");
	/* the first error is reported, even when later lines are fine */
	PARSE_ERR(LINE "map pcp tcp 0 1 " NONCE " 1.1.1.1 2.2.2.2\n" LINE,
	    "t.state:2: bad internal port \"0\"");
}

static void
test_bad_bytes(void **state)
{
	(void)state;
	PARSE_ERR(LINE "map pcp tcp 1 1 " NONCE " 1.1.1.1\0 2.2.2.2\n",
	    "t.state:2: NUL byte in line");
	PARSE_ERR("\0\n", "t.state:1: NUL byte in line");
	PARSE_ERR("# a comment\0\n", "t.state:1: NUL byte in line");
	PARSE_ERR("# caf\xc3\xa9\n", "t.state:1: unexpected byte 0xc3");
	PARSE_ERR(LINE LINE "\x7f\n", "t.state:3: unexpected byte 0x7f");
	PARSE_ERR("map\x0bpcp\n", "t.state:1: unexpected byte 0x0b");
	PARSE_ERR("\x1b[31m\n", "t.state:1: unexpected byte 0x1b");
	PARSE_ERR("\xff", "t.state:1: unexpected byte 0xff");
}

static void
test_long_lines(void **state)
{
	char buf[1024];
	size_t base = strlen(LINE) - 1;

	(void)state;
	/* 256 bytes: the longest line (an entry, blanks, a '#') */
	memcpy(buf, LINE, base);
	memset(buf + base, ' ', 255 - base);
	memcpy(buf + 255, "#\n", 3);
	assert_int_equal(strlen(buf), 257);
	free(parse_ok(buf, 1));
	/* and with CRLF */
	memcpy(buf + 256, "\r\n", 3);
	free(parse_ok(buf, 1));
	/* without a newline */
	buf[256] = '\0';
	free(parse_ok(buf, 1));
	/* 257 bytes */
	memcpy(buf + 256, "#\n", 3);
	parse_err_len(buf, strlen(buf), "t.state:1: line too long (more than "
	    "256 bytes)");
	memcpy(buf + 256, "#\r\n", 4);
	parse_err_len(buf, strlen(buf), "t.state:1: line too long (more than "
	    "256 bytes)");
	buf[257] = '\0';
	parse_err_len(buf, strlen(buf), "t.state:1: line too long (more than "
	    "256 bytes)");
	/* a long line after a good one */
	snprintf(buf, sizeof(buf), "%s\n#%0300d\n", LINE, 0);
	parse_err_len(buf, strlen(buf), "t.state:3: line too long (more than "
	    "256 bytes)");
}

static void
test_error_buffers(void **state)
{
	struct state_entry *e = (void *)1;
	char err[12];
	size_t n = 5;

	(void)state;
	/* no buffer, a tiny one: no crash, truncated */
	assert_int_equal(state_parse("t", "x\n", 2, &e, &n, NULL, 0), -1);
	assert_null(e);
	assert_int_equal(n, 0);
	assert_int_equal(state_parse("t", "x\n", 2, &e, &n, err, 1), -1);
	assert_int_equal(state_parse("t.state", "map pcp tcp 0\n", 14, &e, &n,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "t.state:1: ");
}

/* ---- STATE_MAX_ENTRIES ---- */

static char *
many(size_t count, size_t *len)
{
	char *buf = NULL;
	size_t i;
	FILE *fp = open_memstream(&buf, len);

	assert_non_null(fp);
	fputs(HEADER, fp);
	for (i = 0; i < count; i++)
		fprintf(fp, "map %s %s %zu %zu %024zx 192.168.1.1 "
		    "192.168.%zu.%zu\n", i % 3 == 0 ? "pcp" : i % 3 == 1 ?
		    "natpmp" : "upnp", i % 2 ? "udp" : "tcp", i + 1,
		    65535 - i, i, i / 250, i % 250 + 1);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void
test_max_entries(void **state)
{
	struct state_entry *e;
	char *buf, want[64];
	size_t len;

	(void)state;
	buf = many(STATE_MAX_ENTRIES, &len);
	e = parse_ok_len(buf, len, STATE_MAX_ENTRIES);
	assert_int_equal(e[STATE_MAX_ENTRIES - 1].int_port, STATE_MAX_ENTRIES);
	assert_roundtrip(e, STATE_MAX_ENTRIES);
	free(e);
	free(buf);

	buf = many(STATE_MAX_ENTRIES + 1, &len);
	/* the header is line 1 */
	snprintf(want, sizeof(want), "t.state:%d: too many entries: at most %d",
	    STATE_MAX_ENTRIES + 2, STATE_MAX_ENTRIES);
	parse_err_len(buf, len, want);
	free(buf);
}

/* ---- printing and round trips ---- */

static void
test_print(void **state)
{
	struct state_entry e[2];
	char *out;

	(void)state;
	memset(e, 0, sizeof(e));
	memcpy(e[0].protocol, "pcp", 4);
	e[0].proto = DRV_TCP;
	e[0].int_port = 8080;
	e[0].ext_port = 8080;
	memcpy(e[0].nonce, "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67",
	    STATE_NONCE_LEN);
	inet_pton(AF_INET, "192.168.1.1", &e[0].gateway);
	inet_pton(AF_INET, "192.168.1.10", &e[0].local);
	memcpy(e[1].protocol, "natpmp", 7);
	e[1].proto = DRV_UDP;
	e[1].int_port = 1;
	e[1].ext_port = 65535;
	inet_pton(AF_INET, "0.0.0.0", &e[1].gateway);
	inet_pton(AF_INET, "255.255.255.255", &e[1].local);
	out = print_state(e, 2, NULL);
	assert_string_equal(out, HEADER LINE
	    "map natpmp udp 1 65535 000000000000000000000000 0.0.0.0 "
	    "255.255.255.255\n");
	free(out);
	out = print_state(e, 0, NULL);
	assert_string_equal(out, HEADER);
	free(out);
	assert_roundtrip(e, 2);
}

static void
test_roundtrip_text(void **state)
{
	struct state_entry *e;
	char *out;

	(void)state;
	e = parse_ok(good3, 3);
	out = print_state(e, 3, NULL);
	/* good3 is in the printed form already */
	assert_string_equal(out, good3);
	assert_roundtrip(e, 3);
	free(out);
	free(e);
	/* a hand-edited file normalises to the printed form */
	e = parse_ok("  map  pcp\ttcp 8080 8080 " NONCE " 192.168.1.1 "
	    "192.168.1.10 # x\r\n", 1);
	out = print_state(e, 1, NULL);
	assert_string_equal(out, HEADER LINE);
	free(out);
	free(e);
}

/* ---- the files in tests/data/state ---- */

static void
test_file_good(void **state)
{
	const char *rel = *state;
	struct state_entry *e;
	char path[4096], err[512];
	size_t n;

	tu_data_path(path, sizeof(path), rel);
	if (state_load(path, &e, &n, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	if (strstr(rel, "good.state") != NULL) {
		assert_int_equal(n, 3);
		assert_good3(e);
	} else if (strstr(rel, "empty") != NULL) {
		assert_int_equal(n, 0);
		assert_null(e);
	} else
		assert_int_equal(n, 2);
	assert_roundtrip(e, n);
	free(e);
}

static const struct {
	const char	*file;
	const char	*msg;	/* after "PATH:" */
} bad_files[] = {
	{ "bad-nonce.state", "3: bad nonce \"0123456789abcdef0123456\"" },
	{ "bad-nonce-upper.state",
	    "2: bad nonce \"0123456789ABCDEF01234567\"" },
	{ "bad-protocol.state",
	    "2: bad protocol \"stun\": expected pcp, natpmp or upnp" },
	{ "bad-proto.state", "2: bad proto \"sctp\": expected tcp or udp" },
	{ "bad-port-zero.state", "2: bad internal port \"0\"" },
	{ "bad-port-plus.state", "2: bad external port \"+8080\"" },
	{ "bad-port-big.state", "2: bad internal port \"65536\"" },
	{ "bad-gateway.state", "2: bad gateway address \"192.168.1\"" },
	{ "bad-local.state", "2: bad local address \"fe80::1\"" },
	{ "bad-keyword.state", "2: unknown keyword \"mapping\"" },
	{ "bad-few-words.state", "2: map: expected 7 fields, got 6" },
	{ "bad-many-words.state", "2: map: expected 7 fields, got 8" },
	{ "bad-long-line.state", "2: line too long (more than 256 bytes)" },
	{ "bad-nul.state", "2: NUL byte in line" },
	{ "bad-byte.state", "2: unexpected byte 0xc3" },
	{ "bad-truncated.state", "3: bad local address \"192.1\"" },
};

static void
test_file_bad(void **state)
{
	struct state_entry *e;
	char path[4096], err[512], want[4200], rel[64], *buf;
	size_t i, n, len;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(bad_files); i++) {
		snprintf(rel, sizeof(rel), "state/%s", bad_files[i].file);
		if (!tu_data_exists(rel))
			fail_msg("tests/data/%s is missing", rel);
		tu_data_path(path, sizeof(path), rel);
		e = (void *)1;
		n = 7;
		if (state_load(path, &e, &n, err, sizeof(err)) != -1)
			fail_msg("%s: accepted", rel);
		assert_null(e);
		assert_int_equal(n, 0);
		snprintf(want, sizeof(want), "%s:%s", path, bad_files[i].msg);
		assert_string_equal(err, want);
		/* and the same from memory */
		buf = tu_read(rel, &len);
		snprintf(want, sizeof(want), "t.state:%s", bad_files[i].msg);
		parse_err_len(buf, len, want);
		free(buf);
	}
}

/* ---- state_save and state_load ---- */

static void
test_save_load(void **state)
{
	struct state_entry *e, *e2;
	char dir[4096], path[4200], names[512], *text;
	struct stat st;
	size_t n, len;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	e = parse_ok(good3, 3);
	assert_int_equal(state_save(path, e, 3), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "state");
	text = read_file(path, &len);
	assert_string_equal(text, good3);
	free(text);
	assert_int_equal(state_load(path, &e2, &n, NULL, 0), 0);
	assert_int_equal(n, 3);
	assert_true(entries_equal(e, e2, 3));
	free(e2);

	/* replace it with one entry, then with none */
	assert_int_equal(state_save(path, e + 1, 1), 0);
	assert_int_equal(state_load(path, &e2, &n, NULL, 0), 0);
	assert_int_equal(n, 1);
	assert_true(entries_equal(e + 1, e2, 1));
	free(e2);
	assert_int_equal(state_save(path, NULL, 0), 0);
	assert_int_equal(state_load(path, &e2, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	assert_null(e2);
	text = read_file(path, &len);
	assert_string_equal(text, HEADER);
	free(text);
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "state");
	free(e);
	rmdir_all(dir);
}

static void
test_save_no_dir(void **state)
{
	struct state_entry *e;
	char dir[4096], path[4200], names[512];

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/missing/state", dir);
	e = parse_ok(good3, 3);
	errno = 0;
	assert_int_equal(state_save(path, e, 3), -1);
	assert_int_equal(errno, ENOENT);
	/* the directory is not created, nothing else either */
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "");
	free(e);
	rmdir_all(dir);
}

/* The rename fails (PATH is a directory): the old one stays, no temp file. */
static void
test_save_rename_fails(void **state)
{
	struct state_entry *e;
	char dir[4096], path[4200], names[512];
	struct stat st;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	e = parse_ok(good3, 3);
	errno = 0;
	assert_int_equal(state_save(path, e, 3), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "state");
	list_dir(path, names, sizeof(names));
	assert_string_equal(names, "");
	free(e);
	rmdir_all(dir);
}

/* A read-only directory (not as root, who ignores permissions). */
static void
test_save_readonly_dir(void **state)
{
	struct state_entry *e;
	char dir[4096], path[4200], names[512], *text;
	size_t len;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	write_file(path, LINE, strlen(LINE));
	assert_int_equal(chmod(dir, 0500), 0);
	e = parse_ok(good3, 3);
	if (geteuid() != 0) {
		errno = 0;
		assert_int_equal(state_save(path, e, 3), -1);
		assert_int_equal(errno, EACCES);
	} else
		printf("# test_save_readonly_dir: root ignores the mode, "
		    "only the success path is checked\n");
	assert_int_equal(chmod(dir, 0700), 0);
	if (geteuid() != 0) {
		text = read_file(path, &len);
		assert_string_equal(text, LINE);
		free(text);
	}
	list_dir(dir, names, sizeof(names));
	assert_string_equal(names, "state");
	free(e);
	rmdir_all(dir);
}

static void
test_load_missing(void **state)
{
	struct state_entry *e = (void *)1;
	char dir[4096], path[4200], err[64] = "untouched";
	size_t n = 3;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(state_load(path, &e, &n, err, sizeof(err)), 0);
	assert_null(e);
	assert_int_equal(n, 0);
	assert_string_equal(err, "untouched");
	rmdir_all(dir);
}

static void
test_load_errors(void **state)
{
	struct state_entry *e;
	char dir[4096], path[4200], err[8400], want[8400], *big;
	size_t n, len;

	(void)state;
	make_tmpdir(dir, sizeof(dir));

	/* a directory */
	e = (void *)1;
	n = 3;
	assert_int_equal(state_load(dir, &e, &n, err, sizeof(err)), -1);
	assert_null(e);
	assert_int_equal(n, 0);
	snprintf(want, sizeof(want), "%s: not a regular file of at most "
	    "1048576 bytes", dir);
	assert_string_equal(err, want);

	/* 1 MiB of comment lines is read; one byte more is too big */
	snprintf(path, sizeof(path), "%s/big", dir);
	len = 1024 * 1024;
	assert_non_null(big = malloc(len + 1));
	memset(big, '#', len + 1);
	for (n = 99; n < len + 1; n += 100)
		big[n] = '\n';
	write_file(path, big, len);
	assert_int_equal(state_load(path, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	write_file(path, big, len + 1);
	assert_int_equal(state_load(path, &e, &n, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file of at most "
	    "1048576 bytes", path);
	assert_string_equal(err, want);
	free(big);

	/* a bad file: the message names the path and the line */
	write_file(path, LINE LINE "map pcp udp 1 1 x 1.1.1.1 2.2.2.2\n",
	    strlen(LINE LINE "map pcp udp 1 1 x 1.1.1.1 2.2.2.2\n"));
	assert_int_equal(state_load(path, &e, &n, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: bad nonce \"x\"", path);
	assert_string_equal(err, want);

	/* not readable (not as root) */
	write_file(path, LINE, strlen(LINE));
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(state_load(path, &e, &n, err, sizeof(err)),
		    -1);
		snprintf(want, sizeof(want), "%s: %s", path, strerror(EACCES));
		assert_string_equal(err, want);
	}
	/* a path through a file */
	snprintf(path, sizeof(path), "%s/big/state", dir);
	assert_int_equal(state_load(path, &e, &n, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOTDIR));
	assert_string_equal(err, want);
	rmdir_all(dir);
}

/* A first start: the directories above the state file are made, the last 0700. */
static void
test_mkdir_parent(void **state)
{
	char base[] = "/tmp/natmapd-state-mkdir.XXXXXX", path[256], dir[256];
	struct state_entry *ents = NULL;
	struct stat st;
	size_t n = 0;
	char err[128];

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/var/lib/natmapd/state", base);
	assert_int_equal(state_mkdir_parent(path), 0);
	snprintf(dir, sizeof(dir), "%s/var/lib/natmapd", base);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(dir, sizeof(dir), "%s/var/lib", base);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	/* again: nothing to do, no error */
	assert_int_equal(state_mkdir_parent(path), 0);
	assert_int_equal(state_save(path, NULL, 0), 0);
	assert_int_equal(state_load(path, &ents, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(ents);
	/* a relative path is refused */
	assert_int_equal(state_mkdir_parent("var/lib/x"), -1);
	unlink(path);
	snprintf(dir, sizeof(dir), "%s/var/lib/natmapd", base);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/var/lib", base);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/var", base);
	rmdir(dir);
	assert_int_equal(rmdir(base), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdir_parent),
		cmocka_unit_test(test_parse_several),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_comments_blanks),
		cmocka_unit_test(test_parse_crlf),
		cmocka_unit_test(test_parse_no_newline),
		cmocka_unit_test(test_parse_length),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_error_buffers),
		cmocka_unit_test(test_max_entries),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_roundtrip_text),
		TU_FILE_TEST(test_file_good, "state/good.state"),
		TU_FILE_TEST(test_file_good, "state/good-comments.state"),
		TU_FILE_TEST(test_file_good, "state/good-crlf.state"),
		TU_FILE_TEST(test_file_good, "state/good-no-newline.state"),
		TU_FILE_TEST(test_file_good, "state/good-empty.state"),
		cmocka_unit_test(test_file_bad),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_save_no_dir),
		cmocka_unit_test(test_save_rename_fails),
		cmocka_unit_test(test_save_readonly_dir),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_errors),
	};

	return TU_RUN("state", tests);
}
