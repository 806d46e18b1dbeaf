/* SPDX-License-Identifier: ISC */
/* Unit tests of natmapd.conf(5) parsing, map specifications, merging and printing. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "conf.h"

/* ---- helpers ---- */

/* Parse s (length len) as a file named "t.conf"; returns config_parse_buf's result. */
static int
parse_len(struct config *c, const char *s, size_t len, char *err, size_t elen)
{
	config_init(c);
	err[0] = '\0';
	return config_parse_buf(c, "t.conf", s, len, err, elen);
}

static int
parse(struct config *c, const char *s, char *err, size_t elen)
{
	return parse_len(c, s, strlen(s), err, elen);
}

/* The file must be accepted. */
static void
parse_ok(struct config *c, const char *s)
{
	char err[256];

	if (parse(c, s, err, sizeof(err)) != 0)
		fail_msg("rejected: %s", err);
}

/* The file must be refused with exactly this message. */
static void
parse_err(const char *s, size_t len, const char *want)
{
	struct config c;
	char err[256];

	if (parse_len(&c, s, len, err, sizeof(err)) != -1) {
		config_free(&c);
		fail_msg("accepted, wanted \"%s\"", want);
	}
	assert_string_equal(err, want);
	config_free(&c);
}

#define PARSE_ERR(s, want)	parse_err((s), sizeof(s) - 1, (want))

/* config_print into a string; free() it. */
static char *
print_conf(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	config_print(fp, c);
	fclose(fp);
	return buf;
}

static void
assert_print(const struct config *c, const char *want)
{
	char *got = print_conf(c);

	assert_string_equal(got, want);
	free(got);
}

static void
map_ok(const char *spec, int proto, unsigned int ifirst, unsigned int ilast,
    unsigned int efirst)
{
	struct conf_map m;
	char err[128] = "";

	if (config_parse_map(spec, &m, err, sizeof(err)) != 0)
		fail_msg("%s: rejected: %s", spec, err);
	assert_int_equal(m.proto, proto);
	assert_int_equal(m.int_first, ifirst);
	assert_int_equal(m.int_last, ilast);
	assert_int_equal(m.ext_first, efirst);
}

static void
map_err(const char *spec, const char *want)
{
	struct conf_map m;
	char err[128] = "";

	if (config_parse_map(spec, &m, err, sizeof(err)) != -1)
		fail_msg("%s: accepted, wanted \"%s\"", spec, want);
	assert_string_equal(err, want);
}

static struct conf_map
mkmap(const char *spec)
{
	struct conf_map m;
	char err[128];

	if (config_parse_map(spec, &m, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
	return m;
}

/* ---- config_parse_map ---- */

static void
test_map_forms(void **state)
{
	(void)state;
	map_ok("8080/tcp", CONF_TCP, 8080, 8080, 8080);
	map_ok("8080/udp", CONF_UDP, 8080, 8080, 8080);
	map_ok("8080:18080/udp", CONF_UDP, 8080, 8080, 18080);
	map_ok("5000-5010/udp", CONF_UDP, 5000, 5010, 5000);
	map_ok("5000-5010:6000/udp", CONF_UDP, 5000, 5010, 6000);
	map_ok("5000-5010:6000-6010/udp", CONF_UDP, 5000, 5010, 6000);
	map_ok("5000-5000/tcp", CONF_TCP, 5000, 5000, 5000);
	map_ok("1/tcp", CONF_TCP, 1, 1, 1);
	map_ok("65535/tcp", CONF_TCP, 65535, 65535, 65535);
	map_ok("00080/tcp", CONF_TCP, 80, 80, 80);
	map_ok("1-65535/udp", CONF_UDP, 1, 65535, 1);
	map_ok("65530-65535:65530/tcp", CONF_TCP, 65530, 65535, 65530);
	map_ok("80:65535/tcp", CONF_TCP, 80, 80, 65535);
}

static void
test_map_errors(void **state)
{
	(void)state;
	map_err("8080", "missing /tcp or /udp");
	map_err("", "missing /tcp or /udp");
	map_err("8080/", "protocol must be tcp or udp");
	map_err("8080/sctp", "protocol must be tcp or udp");
	map_err("8080/TCP", "protocol must be tcp or udp");
	map_err("8080/tcp ", "protocol must be tcp or udp");
	map_err("8080/tcp/udp", "bad internal port");
	map_err("/tcp", "bad internal port");
	map_err("0/tcp", "bad internal port");
	map_err("65536/tcp", "bad internal port");
	map_err("70000/tcp", "bad internal port");
	map_err("123456/tcp", "bad internal port");
	map_err("99999999999999999999/tcp", "bad internal port");
	map_err("-5/tcp", "bad internal port");
	map_err("5-/tcp", "bad internal port");
	map_err("1-2-3/tcp", "bad internal port");
	map_err("+80/tcp", "bad internal port");
	map_err(" 80/tcp", "bad internal port");
	map_err("80 /tcp", "bad internal port");
	map_err("0x50/tcp", "bad internal port");
	map_err("http/tcp", "bad internal port");
	map_err("10-5/tcp", "range 10-5 is backwards");
	map_err("8080:/tcp", "bad external port");
	map_err("8080:0/tcp", "bad external port");
	map_err("8080:65536/tcp", "bad external port");
	map_err("8080:x/tcp", "bad external port");
	map_err("8080:1:2/tcp", "bad external port");
	map_err(":8080/tcp", "bad internal port");
	map_err("5000-5010:6000-6005/udp",
	    "external range is not as long as the internal one");
	map_err("5000-5010:6010-6000/udp",
	    "external range is not as long as the internal one");
	map_err("8080:6001-6000/udp",
	    "external range is not as long as the internal one");
	map_err("8080:6000-6001/udp",
	    "external range is not as long as the internal one");
	map_err("65530-65535:65531/tcp", "external range goes past 65535");
	map_err("1-65535:2/tcp", "external range goes past 65535");
}

/* A NULL or empty error buffer is allowed. */
static void
test_map_no_errbuf(void **state)
{
	struct conf_map m;
	char err[1] = { 'x' };

	(void)state;
	assert_int_equal(config_parse_map("x/tcp", &m, NULL, 0), -1);
	assert_int_equal(config_parse_map("x/tcp", &m, err, 0), -1);
	assert_int_equal(err[0], 'x');
	assert_int_equal(config_parse_map("0/tcp", &m, err, 1), -1);
	assert_int_equal(err[0], '\0');
}

/* config_format_map writes what config_parse_map reads back. */
static void
test_map_format_roundtrip(void **state)
{
	static const struct {
		const char	*in, *out;
	} t[] = {
		{ "8080/tcp", "8080/tcp" },
		{ "8080:8080/tcp", "8080/tcp" },
		{ "8080:18080/udp", "8080:18080/udp" },
		{ "5000-5010/udp", "5000-5010/udp" },
		{ "5000-5010:6000/udp", "5000-5010:6000/udp" },
		{ "5000-5010:6000-6010/udp", "5000-5010:6000/udp" },
		{ "5000-5010:5000-5010/udp", "5000-5010/udp" },
		{ "5000-5000/tcp", "5000/tcp" },
		{ "00080/tcp", "80/tcp" },
		{ "1-65535/udp", "1-65535/udp" },
	};
	struct conf_map m, m2;
	char buf[64], err[128];
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		m = mkmap(t[i].in);
		config_format_map(&m, buf, sizeof(buf));
		assert_string_equal(buf, t[i].out);
		assert_int_equal(config_parse_map(buf, &m2, err, sizeof(err)), 0);
		assert_int_equal(m.proto, m2.proto);
		assert_int_equal(m.int_first, m2.int_first);
		assert_int_equal(m.int_last, m2.int_last);
		assert_int_equal(m.ext_first, m2.ext_first);
	}
	/* a short buffer is truncated, not overrun */
	m = mkmap("5000-5010:6000/udp");
	memset(buf, 'Z', sizeof(buf));
	config_format_map(&m, buf, 8);
	assert_string_equal(buf, "5000-50");
	assert_int_equal(buf[8], 'Z');
	assert_string_equal(config_proto_name(CONF_TCP), "tcp");
	assert_string_equal(config_proto_name(CONF_UDP), "udp");
}

/* ---- config_parse_lease ---- */

static void
lease_ok(const char *s, uint32_t want)
{
	uint32_t v = 12345;
	char err[128] = "";

	if (config_parse_lease(s, &v, err, sizeof(err)) != 0)
		fail_msg("lease %s rejected: %s", s, err);
	assert_int_equal(v, want);
}

static void
lease_err(const char *s, const char *want)
{
	uint32_t v = 12345;
	char err[128] = "";

	if (config_parse_lease(s, &v, err, sizeof(err)) != -1)
		fail_msg("lease \"%s\" accepted", s);
	assert_string_equal(err, want);
	assert_int_equal(v, 12345);	/* untouched */
}

static void
test_lease(void **state)
{
	(void)state;
	lease_ok("0", 0);
	lease_ok("60", 60);
	lease_ok("3600", 3600);
	lease_ok("604800", 604800);
	lease_ok("000060", 60);
	lease_err("59", "lease 59: must be 0 or 60 to 604800 seconds");
	lease_err("1", "lease 1: must be 0 or 60 to 604800 seconds");
	lease_err("604801", "lease 604801: must be 0 or 60 to 604800 seconds");
	lease_err("4294967356",
	    "lease 4294967356: must be 0 or 60 to 604800 seconds");
	lease_err("", "lease \"\": not a number of seconds");
	lease_err("abc", "lease \"abc\": not a number of seconds");
	lease_err("-1", "lease \"-1\": not a number of seconds");
	lease_err("+60", "lease \"+60\": not a number of seconds");
	lease_err(" 60", "lease \" 60\": not a number of seconds");
	lease_err("60 ", "lease \"60 \": not a number of seconds");
	lease_err("60s", "lease \"60s\": not a number of seconds");
	lease_err("1h", "lease \"1h\": not a number of seconds");
	lease_err("0x3c", "lease \"0x3c\": not a number of seconds");
	lease_err("99999999999999999999999",
	    "lease \"99999999999999999999999\": not a number of seconds");
}

/* ---- config_add_map: overlaps and the 1024-port limit ---- */

static void
add_ok(struct config *c, const char *spec)
{
	struct conf_map m = mkmap(spec);
	char err[256];

	if (config_add_map(c, &m, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
}

static void
add_err(struct config *c, const char *spec, const char *want)
{
	struct conf_map m = mkmap(spec);
	size_t nmaps = c->nmaps, nports = c->nports;
	char err[256] = "";

	if (config_add_map(c, &m, err, sizeof(err)) != -1)
		fail_msg("%s: accepted", spec);
	assert_string_equal(err, want);
	assert_int_equal(c->nmaps, nmaps);
	assert_int_equal(c->nports, nports);
}

static void
test_overlap(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	add_ok(&c, "8080/tcp");
	add_ok(&c, "8080/udp");			/* other protocol */
	add_ok(&c, "8070-8079/tcp");		/* adjacent below */
	add_ok(&c, "8081-8089/tcp");		/* adjacent above */
	add_ok(&c, "9000:8090/tcp");		/* adjacent by its external port */
	assert_int_equal(c.nmaps, 5);
	assert_int_equal(c.nports, 1 + 1 + 10 + 9 + 1);
	add_err(&c, "8080/tcp",
	    "map 8080/tcp: external ports overlap map 8080/tcp");
	add_err(&c, "8000-8070/tcp",
	    "map 8000-8070/tcp: external ports overlap map 8070-8079/tcp");
	add_err(&c, "8089-8100/tcp",
	    "map 8089-8100/tcp: external ports overlap map 8081-8089/tcp");
	add_err(&c, "7000:8080/tcp",
	    "map 7000:8080/tcp: external ports overlap map 8080/tcp");
	add_err(&c, "7000-7100:8050/tcp",
	    "map 7000-7100:8050/tcp: external ports overlap map 8080/tcp");
	add_err(&c, "8090/tcp",
	    "map 8090/tcp: external ports overlap map 9000:8090/tcp");
	add_err(&c, "1-65535/udp",
	    "map 1-65535/udp: external ports overlap map 8080/udp");
	/* an internal port already used, mapped to a free external port */
	add_ok(&c, "8080:18080/tcp");
	config_free(&c);
}

static void
test_limit_single(void **state)
{
	struct config c;
	char spec[32];
	int i;

	(void)state;
	config_init(&c);
	for (i = 0; i < CONF_MAX_MAPS; i++) {
		snprintf(spec, sizeof(spec), "%d/%s", 10000 + i / 2,
		    i % 2 ? "udp" : "tcp");
		add_ok(&c, spec);
	}
	assert_int_equal(c.nmaps, 1024);
	assert_int_equal(c.nports, 1024);
	add_err(&c, "20000/tcp",
	    "too many mappings: at most 1024 ports in all");
	config_free(&c);
}

static void
test_limit_range(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	add_ok(&c, "1000-2023/udp");		/* 1024 ports in one map */
	assert_int_equal(c.nports, 1024);
	add_err(&c, "1/tcp", "too many mappings: at most 1024 ports in all");
	config_free(&c);

	config_init(&c);
	add_err(&c, "1000-2024/udp",
	    "too many mappings: at most 1024 ports in all");
	add_err(&c, "1-65535/udp",
	    "too many mappings: at most 1024 ports in all");
	add_ok(&c, "1000-1199/udp");
	add_err(&c, "2000-2824/tcp",
	    "too many mappings: at most 1024 ports in all");
	add_ok(&c, "2000-2823/tcp");
	assert_int_equal(c.nports, 1024);
	assert_int_equal(c.nmaps, 2);
	config_free(&c);
}

/* ---- config_parse_buf ---- */

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	assert_int_equal(c.lease, CONF_LEASE_DEFAULT);
	assert_int_equal(c.lease, 3600);
	assert_int_equal(c.any_port, 0);
	assert_null(c.interface);
	assert_null(c.pidfile);
	assert_int_equal(c.have_gateway, 0);
	assert_int_equal(c.nmaps, 0);
	assert_int_equal(c.nports, 0);
	assert_print(&c, "lease 3600\nany-port no\nprotocol auto\n");
	config_free(&c);
	config_free(&c);	/* freeing twice is harmless: it zeroes */

	parse_ok(&c, "");
	assert_int_equal(c.nmaps, 0);
	assert_int_equal(c.lease, 3600);
	config_free(&c);
}

static void
test_every_keyword(void **state)
{
	struct config c;
	struct in_addr gw;

	(void)state;
	parse_ok(&c,
	    "map 8080/tcp\n"
	    "map 8080:18080/udp\n"
	    "map 5000-5010/udp\n"
	    "map 6000-6010:7000/tcp\n"
	    "lease 7200\n"
	    "interface eth0\n"
	    "gateway 192.168.1.1\n"
	    "pidfile /run/natmapd.pid\n"
	    "status-file /run/natmapd/s.json\n"
	    "any-port yes\n"
	    "protocol natpmp\n");
	assert_int_equal(c.nmaps, 4);
	assert_int_equal(c.gwproto, CONF_GW_NATPMP);
	assert_int_equal(c.nports, 1 + 1 + 11 + 11);
	assert_int_equal(c.maps[3].proto, CONF_TCP);
	assert_int_equal(c.maps[3].int_first, 6000);
	assert_int_equal(c.maps[3].int_last, 6010);
	assert_int_equal(c.maps[3].ext_first, 7000);
	assert_int_equal(c.lease, 7200);
	assert_string_equal(c.interface, "eth0");
	assert_int_equal(c.have_gateway, 1);
	inet_pton(AF_INET, "192.168.1.1", &gw);
	assert_int_equal(c.gateway.s_addr, gw.s_addr);
	assert_string_equal(c.pidfile, "/run/natmapd.pid");
	assert_string_equal(c.status_file, "/run/natmapd/s.json");
	assert_int_equal(c.any_port, 1);
	assert_print(&c,
	    "interface eth0\n"
	    "gateway 192.168.1.1\n"
	    "lease 7200\n"
	    "any-port yes\n"
	    "protocol natpmp\n"
	    "pidfile /run/natmapd.pid\n"
	    "status-file /run/natmapd/s.json\n"
	    "map 8080/tcp\n"
	    "map 8080:18080/udp\n"
	    "map 5000-5010/udp\n"
	    "map 6000-6010:7000/tcp\n");
	config_free(&c);
}

/* A later setting replaces an earlier one; lease 0 and any-port no are kept. */
static void
test_last_setting_wins(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c,
	    "lease 120\nlease 0\n"
	    "any-port yes\nany-port no\n"
	    "interface eth0\ninterface wlan0\n"
	    "gateway 10.0.0.1\ngateway 10.0.0.254\n"
	    "pidfile /a\npidfile /var/run/b.pid\n");
	assert_print(&c,
	    "interface wlan0\n"
	    "gateway 10.0.0.254\n"
	    "lease 0\n"
	    "any-port no\n"
	    "protocol auto\n"
	    "pidfile /var/run/b.pid\n");
	config_free(&c);
}

static void
test_comments_blanks(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c,
	    "# natmapd.conf\n"
	    "\n"
	    "   \n"
	    "\t\t\n"
	    "#map 1/tcp\n"
	    "   # indented comment\n"
	    "map 8080/tcp # trailing comment\n"
	    "map 8081/tcp# no blank before the comment\n"
	    "lease 60#\n"
	    "#\n"
	    "\tany-port\tyes\t\n"
	    "  map   9000/udp   \n"
	    "map 9001/udp");		/* no newline at the end */
	assert_int_equal(c.nmaps, 4);
	assert_int_equal(c.lease, 60);
	assert_int_equal(c.any_port, 1);
	assert_print(&c,
	    "lease 60\n"
	    "any-port yes\n"
	    "protocol auto\n"
	    "map 8080/tcp\n"
	    "map 8081/tcp\n"
	    "map 9000/udp\n"
	    "map 9001/udp\n");
	config_free(&c);
}

static void
test_crlf(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c,
	    "# written on Windows\r\n"
	    "\r\n"
	    "map 8080/tcp\r\n"
	    "lease 600\r\n"
	    "interface eth0\r\n"
	    "gateway 192.168.1.1\r\n"
	    "pidfile /run/x.pid\r\n"
	    "any-port no\r\n"
	    "map 53/udp\r");
	assert_int_equal(c.nmaps, 2);
	assert_string_equal(c.interface, "eth0");
	assert_string_equal(c.pidfile, "/run/x.pid");
	assert_int_equal(c.lease, 600);
	config_free(&c);
	/* line numbers still count \n, not \r */
	PARSE_ERR("map 1/tcp\r\n\r\nmapp 2/tcp\r\n",
	    "t.conf:3: unknown keyword \"mapp\"");
}

/* Every error message, with its line number. */
static void
test_errors(void **state)
{
	(void)state;
	PARSE_ERR("mapp 8080/tcp\n", "t.conf:1: unknown keyword \"mapp\"");
	PARSE_ERR("\n\n# x\nMAP 8080/tcp\n",
	    "t.conf:4: unknown keyword \"MAP\"");
	PARSE_ERR("map 8080/tcp\nmap=8081/tcp\n",
	    "t.conf:2: unknown keyword \"map=8081/tcp\"");
	PARSE_ERR("map\n", "t.conf:1: map: expected one argument, got 0");
	PARSE_ERR("map 1/tcp 2/tcp\n",
	    "t.conf:1: map: expected one argument, got 2");
	PARSE_ERR("map 70000/tcp\n",
	    "t.conf:1: map 70000/tcp: bad internal port");
	PARSE_ERR("map 8080\n", "t.conf:1: map 8080: missing /tcp or /udp");
	PARSE_ERR("map 8080/icmp\n",
	    "t.conf:1: map 8080/icmp: protocol must be tcp or udp");
	PARSE_ERR("map 10-5/tcp\n",
	    "t.conf:1: map 10-5/tcp: range 10-5 is backwards");
	PARSE_ERR("map 1:x/tcp\n", "t.conf:1: map 1:x/tcp: bad external port");
	PARSE_ERR("map 1-3:5-6/tcp\n", "t.conf:1: map 1-3:5-6/tcp: external "
	    "range is not as long as the internal one");
	PARSE_ERR("map 65535-65535:65535/tcp\nmap 65534-65535:65535/tcp\n",
	    "t.conf:2: map 65534-65535:65535/tcp: external range goes past "
	    "65535");
	PARSE_ERR("map 8080/tcp\nmap 8080/tcp\n",
	    "t.conf:2: map 8080/tcp: external ports overlap map 8080/tcp");
	PARSE_ERR("map 8000-8100/tcp\n\nmap 9000:8050/tcp\n",
	    "t.conf:3: map 9000:8050/tcp: external ports overlap map "
	    "8000-8100/tcp");
	PARSE_ERR("map 1-1025/tcp\n",
	    "t.conf:1: too many mappings: at most 1024 ports in all");
	PARSE_ERR("lease\n", "t.conf:1: lease: expected one argument, got 0");
	PARSE_ERR("lease 1 2\n",
	    "t.conf:1: lease: expected one argument, got 2");
	PARSE_ERR("lease 30\n",
	    "t.conf:1: lease 30: must be 0 or 60 to 604800 seconds");
	PARSE_ERR("lease 1w\n", "t.conf:1: lease \"1w\": not a number of "
	    "seconds");
	PARSE_ERR("any-port\n",
	    "t.conf:1: any-port: expected one argument, got 0");
	PARSE_ERR("any-port maybe\n",
	    "t.conf:1: any-port: expected yes or no, not \"maybe\"");
	PARSE_ERR("any-port YES\n",
	    "t.conf:1: any-port: expected yes or no, not \"YES\"");
	PARSE_ERR("any-port 1\n",
	    "t.conf:1: any-port: expected yes or no, not \"1\"");
	PARSE_ERR("interface\n",
	    "t.conf:1: interface: expected one argument, got 0");
	PARSE_ERR("interface eth0 eth1\n",
	    "t.conf:1: interface: expected one argument, got 2");
	PARSE_ERR("interface 0123456789abcdef\n",
	    "t.conf:1: interface: bad name \"0123456789abcdef\"");
	PARSE_ERR("interface ../eth0\n",
	    "t.conf:1: interface: bad name \"../eth0\"");
	PARSE_ERR("gateway\n", "t.conf:1: gateway: expected one argument, got 0");
	PARSE_ERR("gateway 192.168.1\n",
	    "t.conf:1: gateway: \"192.168.1\" is not an IPv4 address");
	PARSE_ERR("gateway 192.168.1.256\n",
	    "t.conf:1: gateway: \"192.168.1.256\" is not an IPv4 address");
	PARSE_ERR("gateway fe80::1\n",
	    "t.conf:1: gateway: \"fe80::1\" is not an IPv4 address");
	PARSE_ERR("gateway router.lan\n",
	    "t.conf:1: gateway: \"router.lan\" is not an IPv4 address");
	PARSE_ERR("pidfile\n", "t.conf:1: pidfile: expected one argument, got 0");
	PARSE_ERR("pidfile natmapd.pid\n",
	    "t.conf:1: pidfile: \"natmapd.pid\" is not an absolute path");
	PARSE_ERR("pidfile ./natmapd.pid\n",
	    "t.conf:1: pidfile: \"./natmapd.pid\" is not an absolute path");
	PARSE_ERR("status-file status.json\n",
	    "t.conf:1: status-file: \"status.json\" is not an absolute path "
	    "or none");
	PARSE_ERR("status-file\n",
	    "t.conf:1: status-file: expected one argument, got 0");
	PARSE_ERR("map 1/tcp 2 3 4 5 6 7 8\n",
	    "t.conf:1: too many words");
	PARSE_ERR("map 1/tcp 2 3 4 5 6 7\n",
	    "t.conf:1: map: expected one argument, got 7");
}

/* user: a name as useradd(8) takes it; the last one wins; the command line's over the file's. */
static void
test_user(void **state)
{
	static const char *good[] = { "nobody", "_natmapd", "a.b-c_d",
	    "NatMap", "65534", "machine$",
	    "abcdefghijklmnopqrstuvwxyz012345" };
	static const char *bad[] = { "", "-x", "$", "x$y", "a/b", "a:b",
	    "a b", "a\tb", "\xc3\xa9t\xc3\xa9",
	    "abcdefghijklmnopqrstuvwxyz0123456" };
	struct config file, cli;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(good); i++)
		if (!config_valid_user(good[i]))
			fail_msg("\"%s\" refused", good[i]);
	for (i = 0; i < TU_ARRAY_LEN(bad); i++)
		if (config_valid_user(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);

	parse_ok(&file, "user natmapd\nuser nobody\nmap 8080/tcp\n");
	assert_string_equal(file.user, "nobody");
	assert_print(&file,
	    "lease 3600\n"
	    "any-port no\n"
	    "protocol auto\n"
	    "user nobody\n"
	    "map 8080/tcp\n");
	config_init(&cli);
	cli.user = strdup("_natmapd");
	assert_int_equal(config_merge(&file, &cli, 0, err, sizeof(err)), 0);
	assert_string_equal(file.user, "nobody");
	assert_int_equal(config_merge(&file, &cli, CONF_SET_USER, err,
	    sizeof(err)), 0);
	assert_string_equal(file.user, "_natmapd");
	assert_ptr_not_equal(file.user, cli.user);
	config_free(&cli);
	config_free(&file);

	PARSE_ERR("user\n", "t.conf:1: user: expected one argument, got 0");
	PARSE_ERR("user a b\n", "t.conf:1: user: expected one argument, got 2");
	PARSE_ERR("map 1/tcp\nuser -root\n",
	    "t.conf:2: user: \"-root\" is not a user name");
	PARSE_ERR("user a:0\n", "t.conf:1: user: \"a:0\" is not a user name");
}

static void
test_bad_bytes(void **state)
{
	(void)state;
	PARSE_ERR("map 8080/tcp\nmap 80\00081/tcp\n",
	    "t.conf:2: NUL byte in line");
	PARSE_ERR("\0", "t.conf:1: NUL byte in line");
	PARSE_ERR("# comment \0 with a NUL\n", "t.conf:1: NUL byte in line");
	PARSE_ERR("map 8080/tcp\x01\n", "t.conf:1: unexpected byte 0x01");
	PARSE_ERR("\x1bmap 8080/tcp\n", "t.conf:1: unexpected byte 0x1b");
	PARSE_ERR("map\v8080/tcp\n", "t.conf:1: unexpected byte 0x0b");
	PARSE_ERR("map\f8080/tcp\n", "t.conf:1: unexpected byte 0x0c");
	PARSE_ERR("lease 60\x7f\n", "t.conf:1: unexpected byte 0x7f");
	PARSE_ERR("interface \xc3\xa9th0\n", "t.conf:1: unexpected byte 0xc3");
	PARSE_ERR("\xef\xbb\xbfmap 8080/tcp\n",
	    "t.conf:1: unexpected byte 0xef");	/* a UTF-8 BOM */
	PARSE_ERR("\n\nmap 1/tcp\xff\n", "t.conf:3: unexpected byte 0xff");
}

/* Non-ASCII bytes in a comment are fine. */
static void
test_bad_bytes_in_comment(void **state)
{
	struct config c;

	(void)state;
	parse_ok(&c, "# caf\xc3\xa9 \x01\x7f\xff\nmap 1/tcp # \xe2\x82\xac\n");
	assert_int_equal(c.nmaps, 1);
	config_free(&c);
}

static void
test_long_lines(void **state)
{
	struct config c;
	char buf[4096], err[256];

	(void)state;
	/* 1024 bytes: the longest line accepted */
	memset(buf, ' ', 1024);
	memcpy(buf, "map 8080/tcp", 12);
	buf[1024] = '\n';
	memcpy(buf + 1025, "lease 60\n", 10);
	assert_int_equal(parse_len(&c, buf, 1025 + 9, err, sizeof(err)), 0);
	assert_int_equal(c.nmaps, 1);
	assert_int_equal(c.lease, 60);
	config_free(&c);
	/* 1025 bytes */
	memset(buf, '#', 1025);
	buf[1025] = '\n';
	parse_err(buf, 1026, "t.conf:1: line too long");
	/* on the last line, without a newline */
	memcpy(buf, "map 1/tcp\n", 10);
	memset(buf + 10, ' ', 1025);
	parse_err(buf, 1035, "t.conf:2: line too long");
	/* a 4000-byte line */
	memset(buf, 'a', sizeof(buf));
	parse_err(buf, sizeof(buf), "t.conf:1: line too long");
	/* CR counts in the length */
	memset(buf, ' ', 1024);
	buf[1024] = '\r';
	buf[1025] = '\n';
	parse_err(buf, 1026, "t.conf:1: line too long");
}

/* The error buffer is always terminated, even when the message is cut. */
static void
test_error_truncated(void **state)
{
	struct config c;
	char err[16];

	(void)state;
	memset(err, 'Z', sizeof(err));
	config_init(&c);
	assert_int_equal(config_parse_buf(&c, "a-long-file-name.conf",
	    "mapp 1/tcp\n", 11, err, sizeof(err)), -1);
	assert_string_equal(err, "a-long-file-nam");
	config_free(&c);
	config_init(&c);
	assert_int_equal(config_parse_buf(&c, "x", "mapp\n", 5, NULL, 0), -1);
	config_free(&c);
}

/* The whole 256-port budget from a file, and one more. */
static void
test_file_limit(void **state)
{
	struct config c;
	char *buf, err[256];
	size_t len = 0;
	int i;

	(void)state;
	buf = malloc((CONF_MAX_MAPS + 1) * 32);
	assert_non_null(buf);
	for (i = 0; i < CONF_MAX_MAPS; i++)
		len += (size_t)sprintf(buf + len, "map %d/udp\n", 1024 + i);
	assert_int_equal(parse_len(&c, buf, len, err, sizeof(err)), 0);
	assert_int_equal(c.nmaps, CONF_MAX_MAPS);
	config_free(&c);
	len += (size_t)sprintf(buf + len, "map 1/udp\n");
	assert_int_equal(parse_len(&c, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "t.conf:1025: too many mappings: at most 1024 ports in all");
	config_free(&c);
	free(buf);
}

/* ---- config_load ---- */

static char tmpdir[64];

static void
write_file(const char *name, const char *data, size_t len)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static int
setup_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/natmapd-test-config.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_load(void **state)
{
	struct config c;
	char path[256], err[512], want[512];

	(void)state;
	assert_int_equal(setup_tmpdir(NULL), 0);

	/* a missing file: fine unless it must exist */
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	config_init(&c);
	assert_int_equal(config_load(&c, path, 0, err, sizeof(err)), 0);
	assert_int_equal(c.nmaps, 0);
	assert_int_equal(config_load(&c, path, 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	config_free(&c);

	/* a good file; errors name the path given */
	write_file("good.conf", "map 8080/tcp\nlease 60\n", 22);
	snprintf(path, sizeof(path), "%s/good.conf", tmpdir);
	config_init(&c);
	assert_int_equal(config_load(&c, path, 1, err, sizeof(err)), 0);
	assert_int_equal(c.nmaps, 1);
	assert_int_equal(c.lease, 60);
	config_free(&c);

	write_file("bad.conf", "map 8080/tcp\n\nlease 6\n", 22);
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	config_init(&c);
	assert_int_equal(config_load(&c, path, 0, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	    "%s:3: lease 6: must be 0 or 60 to 604800 seconds", path);
	assert_string_equal(err, want);
	config_free(&c);

	/* an empty file */
	write_file("empty.conf", "", 0);
	snprintf(path, sizeof(path), "%s/empty.conf", tmpdir);
	config_init(&c);
	assert_int_equal(config_load(&c, path, 1, err, sizeof(err)), 0);
	config_free(&c);

	/* a directory */
	config_init(&c);
	assert_int_equal(config_load(&c, tmpdir, 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	    "%s: not a regular file of at most 1048576 bytes", tmpdir);
	assert_string_equal(err, want);
	config_free(&c);

	/* /dev/null is not a regular file either */
	config_init(&c);
	assert_int_equal(config_load(&c, "/dev/null", 1, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "/dev/null: not a regular file of at most 1048576 bytes");
	config_free(&c);

	assert_int_equal(teardown_tmpdir(NULL), 0);
}

static void
test_load_size(void **state)
{
	struct config c;
	char path[256], err[512], want[512], *big;
	size_t n = 1024 * 1024;

	(void)state;
	assert_int_equal(setup_tmpdir(NULL), 0);
	big = malloc(n + 1);
	assert_non_null(big);
	/* exactly 1 MiB of blank lines and one map: accepted */
	memset(big, '\n', n);
	memcpy(big + n - 13, "map 8080/tcp\n", 13);
	write_file("max.conf", big, n);
	snprintf(path, sizeof(path), "%s/max.conf", tmpdir);
	config_init(&c);
	assert_int_equal(config_load(&c, path, 1, err, sizeof(err)), 0);
	assert_int_equal(c.nmaps, 1);
	config_free(&c);
	/* one byte more: refused */
	big[n] = '\n';
	write_file("big.conf", big, n + 1);
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	config_init(&c);
	assert_int_equal(config_load(&c, path, 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	    "%s: not a regular file of at most 1048576 bytes", path);
	assert_string_equal(err, want);
	config_free(&c);
	free(big);
	assert_int_equal(teardown_tmpdir(NULL), 0);
}

/* control: an absolute path that fits a socket address, or none; printed after state-file. */
static void
test_control(void **state)
{
	struct config c, cli;
	char err[256], line[160], want[256];

	(void)state;
	parse_ok(&c, "map 1/tcp\ncontrol /run/natmapd/control\n"
	    "state-file /var/lib/x\n");
	assert_string_equal(c.control, "/run/natmapd/control");
	assert_print(&c, "lease 3600\nany-port no\nprotocol auto\n"
	    "state-file /var/lib/x\ncontrol /run/natmapd/control\n"
	    "map 1/tcp\n");
	config_free(&c);
	parse_ok(&c, "control /a\ncontrol none\n");
	assert_string_equal(c.control, "none");
	assert_print(&c, "lease 3600\nany-port no\nprotocol auto\n"
	    "control none\n");

	/* the command line's wins */
	config_init(&cli);
	cli.control = strdup("/tmp/ctl");
	assert_int_equal(config_merge(&c, &cli, 0, err, sizeof(err)), 0);
	assert_string_equal(c.control, "none");
	assert_int_equal(config_merge(&c, &cli, CONF_SET_CONTROL, err,
	    sizeof(err)), 0);
	assert_string_equal(c.control, "/tmp/ctl");
	assert_ptr_not_equal(c.control, cli.control);
	config_free(&cli);
	config_free(&c);

	PARSE_ERR("control\n", "t.conf:1: control: expected one argument, "
	    "got 0");
	PARSE_ERR("control run/control\n", "t.conf:1: control: \"run/control\" "
	    "is not none or an absolute path of at most 107 bytes");
	PARSE_ERR("control NONE\n", "t.conf:1: control: \"NONE\" is not none "
	    "or an absolute path of at most 107 bytes");
	/* 107 bytes fit sun_path with its NUL, 108 do not */
	memset(line, 'a', sizeof(line));
	memcpy(line, "control /", 9);
	line[8 + 107] = '\0';
	parse_ok(&c, line);
	assert_int_equal(strlen(c.control), 107);
	config_free(&c);
	line[8 + 107] = 'a';
	line[8 + 108] = '\0';
	snprintf(want, sizeof(want), "t.conf:1: control: \"%s\" is not none "
	    "or an absolute path of at most 107 bytes", line + 8);
	parse_err(line, strlen(line), want);
	assert_true(config_valid_control("none"));
	assert_true(config_valid_control("/"));
	assert_false(config_valid_control(""));
	assert_false(config_valid_control("none/x"));
}

/* ---- config_merge ---- */

static void
test_merge_overrides(void **state)
{
	struct config file, cli;
	char err[256];
	struct conf_map m;

	(void)state;
	parse_ok(&file,
	    "map 8080/tcp\n"
	    "lease 7200\n"
	    "interface eth0\n"
	    "gateway 192.168.1.1\n"
	    "pidfile /run/file.pid\n"
	    "any-port yes\n");
	/* the command line as main.c builds it */
	config_init(&cli);
	cli.lease = 120;
	cli.any_port = 0;
	cli.interface = strdup("wlan0");
	cli.pidfile = strdup("/tmp/cli.pid");
	inet_pton(AF_INET, "10.1.1.1", &cli.gateway);
	m = mkmap("53/udp");
	assert_int_equal(config_add_map(&cli, &m, err, sizeof(err)), 0);
	m = mkmap("9000-9001:19000/tcp");
	assert_int_equal(config_add_map(&cli, &m, err, sizeof(err)), 0);

	assert_int_equal(config_merge(&file, &cli, CONF_SET_LEASE |
	    CONF_SET_ANYPORT | CONF_SET_INTERFACE | CONF_SET_GATEWAY |
	    CONF_SET_PIDFILE, err, sizeof(err)), 0);
	assert_print(&file,
	    "interface wlan0\n"
	    "gateway 10.1.1.1\n"
	    "lease 120\n"
	    "any-port no\n"
	    "protocol auto\n"
	    "pidfile /tmp/cli.pid\n"
	    "map 8080/tcp\n"
	    "map 53/udp\n"
	    "map 9000-9001:19000/tcp\n");
	assert_int_equal(file.nports, 4);
	/* the merged config owns its strings */
	assert_ptr_not_equal(file.interface, cli.interface);
	assert_ptr_not_equal(file.pidfile, cli.pidfile);
	config_free(&cli);
	config_free(&file);
}

/* Settings the command line does not set stay as the file has them. */
static void
test_merge_mask(void **state)
{
	struct config file, cli;
	char err[256];
	struct conf_map m;

	(void)state;
	parse_ok(&file,
	    "map 8080/tcp\nlease 7200\ninterface eth0\n"
	    "gateway 192.168.1.1\npidfile /run/file.pid\nany-port yes\n");
	config_init(&cli);		/* lease 3600, any-port no: not set */
	m = mkmap("8080/udp");
	assert_int_equal(config_add_map(&cli, &m, err, sizeof(err)), 0);
	assert_int_equal(config_merge(&file, &cli, 0, err, sizeof(err)), 0);
	assert_print(&file,
	    "interface eth0\n"
	    "gateway 192.168.1.1\n"
	    "lease 7200\n"
	    "any-port yes\n"
	    "protocol auto\n"
	    "pidfile /run/file.pid\n"
	    "map 8080/tcp\n"
	    "map 8080/udp\n");
	config_free(&cli);

	/* lease 0 and any-port on their own */
	config_init(&cli);
	cli.lease = 0;
	assert_int_equal(config_merge(&file, &cli, CONF_SET_LEASE, err,
	    sizeof(err)), 0);
	assert_int_equal(file.lease, 0);
	assert_int_equal(file.any_port, 1);
	cli.any_port = 0;
	assert_int_equal(config_merge(&file, &cli, CONF_SET_ANYPORT, err,
	    sizeof(err)), 0);
	assert_int_equal(file.any_port, 0);
	assert_string_equal(file.interface, "eth0");
	config_free(&cli);
	config_free(&file);

	/* an empty file: the command line alone */
	config_init(&file);
	config_init(&cli);
	cli.any_port = 1;
	inet_pton(AF_INET, "192.0.2.1", &cli.gateway);
	m = mkmap("1-2/tcp");
	assert_int_equal(config_add_map(&cli, &m, err, sizeof(err)), 0);
	assert_int_equal(config_merge(&file, &cli, CONF_SET_ANYPORT |
	    CONF_SET_GATEWAY, err, sizeof(err)), 0);
	assert_print(&file,
	    "gateway 192.0.2.1\n"
	    "lease 3600\n"
	    "any-port yes\n"
	    "protocol auto\n"
	    "map 1-2/tcp\n");
	config_free(&cli);
	config_free(&file);
}

static void
test_merge_conflicts(void **state)
{
	struct config file, cli;
	char err[256];
	struct conf_map m;
	int i;

	(void)state;
	/* a command-line map overlapping a file map */
	parse_ok(&file, "map 8000-8010/tcp\n");
	config_init(&cli);
	m = mkmap("8005/tcp");
	assert_int_equal(config_add_map(&cli, &m, err, sizeof(err)), 0);
	assert_int_equal(config_merge(&file, &cli, 0, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "map 8005/tcp: external ports overlap map 8000-8010/tcp");
	config_free(&cli);
	config_free(&file);

	/* 1000 ports in the file, 25 on the command line */
	parse_ok(&file, "map 1000-1999/udp\n");
	config_init(&cli);
	for (i = 0; i < 25; i++) {
		char spec[16];

		snprintf(spec, sizeof(spec), "%d/tcp", 2000 + i);
		m = mkmap(spec);
		assert_int_equal(config_add_map(&cli, &m, err, sizeof(err)), 0);
	}
	assert_int_equal(config_merge(&file, &cli, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "too many mappings: at most 1024 ports in all");
	assert_int_equal(file.nports, 1024);
	config_free(&cli);
	config_free(&file);
}

/* hook: an absolute path, the last one wins, the command line's over the file's. */
static void
test_hook(void **state)
{
	struct config c, cli;
	char err[256];

	(void)state;
	parse_ok(&c, "map 8080/tcp\nhook /etc/natmapd/hook\n");
	assert_string_equal(c.hook, "/etc/natmapd/hook");
	assert_print(&c,
	    "lease 3600\n"
	    "any-port no\n"
	    "protocol auto\n"
	    "hook /etc/natmapd/hook\n"
	    "map 8080/tcp\n");
	config_free(&c);
	assert_null(c.hook);

	parse_ok(&c, "hook /a\nhook /usr/local/bin/publish-port\n");
	assert_string_equal(c.hook, "/usr/local/bin/publish-port");
	config_init(&cli);
	cli.hook = strdup("/tmp/cli-hook");
	assert_int_equal(config_merge(&c, &cli, 0, err, sizeof(err)), 0);
	assert_string_equal(c.hook, "/usr/local/bin/publish-port");
	assert_int_equal(config_merge(&c, &cli, CONF_SET_HOOK, err,
	    sizeof(err)), 0);
	assert_string_equal(c.hook, "/tmp/cli-hook");
	assert_ptr_not_equal(c.hook, cli.hook);
	config_free(&cli);
	config_free(&c);

	config_init(&c);
	assert_null(c.hook);
	assert_print(&c, "lease 3600\nany-port no\nprotocol auto\n");
	config_free(&c);

	PARSE_ERR("hook\n", "t.conf:1: hook: expected one argument, got 0");
	PARSE_ERR("hook /a /b\n", "t.conf:1: hook: expected one argument, got 2");
	PARSE_ERR("hook hook.sh\n",
	    "t.conf:1: hook: \"hook.sh\" is not an absolute path");
	PARSE_ERR("hook ./hook.sh\n",
	    "t.conf:1: hook: \"./hook.sh\" is not an absolute path");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_forms),
		cmocka_unit_test(test_map_errors),
		cmocka_unit_test(test_map_no_errbuf),
		cmocka_unit_test(test_map_format_roundtrip),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_limit_single),
		cmocka_unit_test(test_limit_range),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_keyword),
		cmocka_unit_test(test_last_setting_wins),
		cmocka_unit_test(test_comments_blanks),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_bad_bytes_in_comment),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_error_truncated),
		cmocka_unit_test(test_file_limit),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_size),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_merge_overrides),
		cmocka_unit_test(test_merge_mask),
		cmocka_unit_test(test_merge_conflicts),
		cmocka_unit_test(test_hook),
	};

	return TU_RUN("config", tests);
}
