/* SPDX-License-Identifier: ISC */
/* rdv-conf.c: natmapd-rendezvous's configuration lines, values, checks across them and the printed form. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "rdv-conf.h"

/* Parse text and check it: 0 or -1, with the message in err. */
static int
build(struct rdv_conf *c, const char *text, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	if (rdv_conf_parse(c, "r.conf", text, strlen(text), err, errlen) == -1)
		return -1;
	return rdv_conf_check(c, "r.conf", err, errlen);
}

static char *
printed(const struct rdv_conf *c)
{
	static char out[1024];
	FILE *fp = fmemopen(out, sizeof(out), "w");

	assert_non_null(fp);
	rdv_conf_print(fp, c);
	fclose(fp);
	return out;
}

static void
expect_ok(const char *text, const char *want)
{
	struct rdv_conf c;
	char err[512];

	if (build(&c, text, err, sizeof(err)) == -1)
		fail_msg("refused: \"%s\": %s", text, err);
	assert_string_equal(printed(&c), want);
}

static void
expect_err(const char *text, const char *want)
{
	struct rdv_conf c;
	char err[512];

	assert_int_equal(build(&c, text, err, sizeof(err)), -1);
	if (strcmp(err, want) != 0)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", text, err, want);
}

/* What parses, with the defaults filled in and printed back. */
static void
test_good(void **state)
{
	(void)state;
	expect_ok("listen 198.51.100.7\n", "listen 198.51.100.7:3480\n");
	expect_ok("listen 198.51.100.7:4000\n", "listen 198.51.100.7:4000\n");
	expect_ok("# rendezvous\n\n  listen\t198.51.100.7  # here\n",
	    "listen 198.51.100.7:3480\n");
	expect_ok("listen 198.51.100.7\nalt-address 198.51.100.8\n",
	    "listen 198.51.100.7:3480\nalt-address 198.51.100.8\n"
	    "alt-port 3481\n");
	expect_ok("listen 198.51.100.7:3478\nalt-address 198.51.100.8\n"
	    "alt-port 3479\nnetworks /etc/natmapd/networks",
	    "listen 198.51.100.7:3478\nalt-address 198.51.100.8\n"
	    "alt-port 3479\nnetworks /etc/natmapd/networks\n");
	expect_ok("listen [2001:db8::7]:3480\nalt-address 2001:db8::8\n",
	    "listen [2001:db8::7]:3480\nalt-address 2001:db8::8\n"
	    "alt-port 3481\n");
	expect_ok("listen 2001:db8::7\n", "listen [2001:db8::7]:3480\n");
	expect_ok("listen 0.0.0.0\n", "listen 0.0.0.0:3480\n");
	/* the last line of a keyword wins, as on the command line */
	expect_ok("listen 198.51.100.7\nlisten 198.51.100.9:5\n",
	    "listen 198.51.100.9:5\n");
}

/* What is refused, each with its file:line and reason. */
static void
test_bad(void **state)
{
	char big[1100];

	(void)state;
	expect_err("listen\n", "r.conf:1: listen: expected one value");
	expect_err("\nlisten a b\n", "r.conf:2: listen: expected one value");
	expect_err("bind 198.51.100.7\n", "r.conf:1: unknown keyword bind");
	expect_err("listen 198.51.100.7:0\n", "r.conf:1: listen "
	    "198.51.100.7:0: not ADDR, ADDR:PORT or [ADDR]:PORT");
	expect_err("listen 198.51.100.7:65536\n", "r.conf:1: listen "
	    "198.51.100.7:65536: not ADDR, ADDR:PORT or [ADDR]:PORT");
	expect_err("listen 198.51.100.7:+80\n", "r.conf:1: listen "
	    "198.51.100.7:+80: not ADDR, ADDR:PORT or [ADDR]:PORT");
	expect_err("listen [198.51.100.7]:80\n", "r.conf:1: listen "
	    "[198.51.100.7]:80: not ADDR, ADDR:PORT or [ADDR]:PORT");
	expect_err("listen [2001:db8::7\n", "r.conf:1: listen "
	    "[2001:db8::7: not ADDR, ADDR:PORT or [ADDR]:PORT");
	expect_err("listen rv.example.net\n", "r.conf:1: listen "
	    "rv.example.net: not ADDR, ADDR:PORT or [ADDR]:PORT");
	expect_err("alt-address 198.51.100.8:3481\n", "r.conf:1: "
	    "alt-address 198.51.100.8:3481: not an IPv4 or IPv6 address");
	expect_err("alt-port 0\n", "r.conf:1: alt-port 0: not a port "
	    "(1-65535)");
	expect_err("networks etc/networks\n", "r.conf:1: networks "
	    "etc/networks: not an absolute path");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_err(big, "r.conf:1: line too long");
	/* across settings */
	expect_err("", "nothing to listen on: give --listen or a listen line "
	    "in r.conf");
	expect_err("listen 198.51.100.7\nalt-port 3481\n",
	    "alt-port without alt-address");
	expect_err("listen 198.51.100.7:65535\nalt-address 198.51.100.8\n",
	    "port 65535: give alt-port");
	expect_err("listen 198.51.100.7\nalt-address 198.51.100.8\n"
	    "alt-port 3480\n", "alt-port 3480 is the listen port");
	expect_err("listen 198.51.100.7\nalt-address 2001:db8::8\n",
	    "alt-address and listen of different families");
	expect_err("listen 198.51.100.7\nalt-address 198.51.100.7\n",
	    "alt-address 198.51.100.7 is the listen address");
	expect_err("listen 0.0.0.0\nalt-address 198.51.100.8\n",
	    "with alt-address, listen and alt-address are addresses of this "
	    "host, not a wildcard");
}

/* A NUL byte is not text; a value from the command line goes through the same checks. */
static void
test_nul_and_set(void **state)
{
	struct rdv_conf c;
	char err[512];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(rdv_conf_parse(&c, "r.conf", "listen 1.2.3.4\0x", 16,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "r.conf: a NUL byte: not a text file");
	assert_int_equal(rdv_conf_set(&c, "listen", "198.51.100.7:99",
	    err, sizeof(err)), 0);
	assert_int_equal(rdv_conf_set(&c, "alt-port", "65536", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "alt-port 65536: not a port (1-65535)");
	assert_int_equal(rdv_conf_check(&c, "r.conf", err, sizeof(err)), 0);
	assert_string_equal(printed(&c), "listen 198.51.100.7:99\n");
	/* max-nodes: 1 to 10000000, printed when set */
	assert_int_equal(rdv_conf_set(&c, "max-nodes", "0", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "max-nodes 0: not a number of 1-10000000");
	assert_int_equal(rdv_conf_set(&c, "max-nodes", "10000001", err,
	    sizeof(err)), -1);
	assert_int_equal(rdv_conf_set(&c, "max-nodes", "-5", err,
	    sizeof(err)), -1);
	assert_int_equal(rdv_conf_set(&c, "max-nodes", "12x", err,
	    sizeof(err)), -1);
	assert_int_equal(rdv_conf_set(&c, "max-nodes", "", err,
	    sizeof(err)), -1);
	assert_false(c.have_max_nodes);
	assert_int_equal(rdv_conf_set(&c, "max-nodes", "10000000", err,
	    sizeof(err)), 0);
	assert_int_equal(rdv_conf_parse(&c, "r.conf", "max-nodes 250000\n",
	    17, err, sizeof(err)), 0);
	assert_int_equal(c.max_nodes, 250000);
	assert_string_equal(printed(&c),
	    "listen 198.51.100.7:99\nmax-nodes 250000\n");
}

/* turn and turn-secret-file: an address (port 3478 by default) and an absolute path, both or neither. */
static void
test_turn(void **state)
{
	(void)state;
	expect_ok("listen 198.51.100.7\nturn 203.0.113.8\n"
	    "turn-secret-file /etc/turn.secret\n",
	    "listen 198.51.100.7:3480\nturn 203.0.113.8:3478\n"
	    "turn-secret-file /etc/turn.secret\n");
	expect_ok("listen 198.51.100.7\nturn [2001:db8::8]:5349\n"
	    "turn-secret-file /s\nturn 203.0.113.9:80\n",
	    "listen 198.51.100.7:3480\nturn 203.0.113.9:80\n"
	    "turn-secret-file /s\n");
	expect_ok("listen 198.51.100.7\nturn 2001:db8::8\n"
	    "turn-secret-file /s\n",
	    "listen 198.51.100.7:3480\nturn [2001:db8::8]:3478\n"
	    "turn-secret-file /s\n");
	expect_err("listen 198.51.100.7\nturn 203.0.113.8\n",
	    "turn without turn-secret-file: give both or neither");
	expect_err("listen 198.51.100.7\nturn-secret-file /s\n",
	    "turn-secret-file without turn: give both or neither");
	expect_err("turn relay.example\n", "r.conf:1: turn relay.example: "
	    "not ADDR, ADDR:PORT or [ADDR]:PORT (an IPv4 or IPv6 address, "
	    "not a wildcard)");
	expect_err("turn 0.0.0.0\n", "r.conf:1: turn 0.0.0.0: "
	    "not ADDR, ADDR:PORT or [ADDR]:PORT (an IPv4 or IPv6 address, "
	    "not a wildcard)");
	expect_err("turn [::]:3478\n", "r.conf:1: turn [::]:3478: "
	    "not ADDR, ADDR:PORT or [ADDR]:PORT (an IPv4 or IPv6 address, "
	    "not a wildcard)");
	expect_err("turn 203.0.113.8:0\n", "r.conf:1: turn 203.0.113.8:0: "
	    "not ADDR, ADDR:PORT or [ADDR]:PORT (an IPv4 or IPv6 address, "
	    "not a wildcard)");
	expect_err("\nturn-secret-file etc/s\n", "r.conf:2: "
	    "turn-secret-file etc/s: not an absolute path");
	expect_err("turn-secret-file\n",
	    "r.conf:1: turn-secret-file: expected one value");
}

/* The seeds the fuzz target starts from parse as the README says. */
static void
test_seed(void **state)
{
	struct rdv_conf c;
	char path[512], buf[4096], err[512];
	size_t n;
	FILE *fp;

	(void)state;
	tu_data_path(path, sizeof(path), "rdv-conf/full.conf");
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	memset(&c, 0, sizeof(c));
	assert_int_equal(rdv_conf_parse(&c, "full.conf", buf, n, err,
	    sizeof(err)), 0);
	assert_int_equal(rdv_conf_check(&c, "full.conf", err, sizeof(err)), 0);
	assert_string_equal(printed(&c), "listen 198.51.100.7:3480\n"
	    "alt-address 198.51.100.8\nalt-port 3481\n"
	    "networks /etc/natmapd/networks\nturn 203.0.113.8:3478\n"
	    "turn-secret-file /etc/natmapd/turn.secret\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_nul_and_set),
		cmocka_unit_test(test_turn),
		cmocka_unit_test(test_seed),
	};

	return TU_RUN("rdv-conf", tests);
}
