/* SPDX-License-Identifier: ISC */
/* Unit tests of the SSDP codec: M-SEARCH building, answers and NOTIFY parsing. */
#include "config.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "http-msg.h"
#include "ssdp-msg.h"

#define LOC	"http://192.168.77.1:5000/rootDesc.xml"

/* The BOOTID.UPNP.ORG a capture carries, as natmapd must read it. */
static long
capture_bootid(const char *buf)
{
	const char *p = strstr(buf, "\r\nBOOTID.UPNP.ORG: ");

	assert_non_null(p);
	return strtol(p + 19, NULL, 10);
}

/* Parse an exact-size heap copy, so that ASan sees any read past len. */
static int
parse_n(const char *buf, size_t len, struct ssdp_msg *m, const char **err)
{
	char *copy = malloc(len == 0 ? 1 : len);
	int r;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	*err = NULL;
	r = ssdp_parse(copy, len, m, err);
	free(copy);
	if (r == 0)
		assert_null(*err);
	else
		assert_non_null(*err);
	return r;
}

static void
parse_ok(const char *s, size_t len, struct ssdp_msg *m)
{
	const char *err;

	if (parse_n(s, len, m, &err) != 0)
		fail_msg("refused: %s", err);
}

static void
parse_fails(const char *s, size_t len, const char *why)
{
	struct ssdp_msg m;
	const char *err;

	if (parse_n(s, len, &m, &err) != -1)
		fail_msg("accepted, wanted \"%s\": %.*s", why, (int)len, s);
	assert_string_equal(err, why);
}

#define OK(lit, m)	parse_ok((lit), sizeof(lit) - 1, (m))
#define FAILS(lit, why)	parse_fails((lit), sizeof(lit) - 1, (why))

#define RESP_HEAD	"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\n"
#define IGD2_ST		"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n"
#define LOC_HDR		"LOCATION: " LOC "\r\n"

/* ---- M-SEARCH ---- */

static void
test_msearch_build(void **state)
{
	char buf[512];
	int n;

	(void)state;
	n = ssdp_build_msearch(buf, sizeof(buf), SSDP_MCAST_ADDR, SSDP_PORT,
	    SSDP_ST_IGD2, 2);
	assert_string_equal(buf,
	    "M-SEARCH * HTTP/1.1\r\n"
	    "HOST: 239.255.255.250:1900\r\n"
	    "MAN: \"ssdp:discover\"\r\n"
	    "MX: 2\r\n"
	    "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n"
	    "\r\n");
	assert_int_equal(n, strlen(buf));
	/* unicast: no MX */
	n = ssdp_build_msearch(buf, sizeof(buf), "192.168.1.1", 1900,
	    SSDP_ST_IGD1, -1);
	assert_string_equal(buf,
	    "M-SEARCH * HTTP/1.1\r\n"
	    "HOST: 192.168.1.1:1900\r\n"
	    "MAN: \"ssdp:discover\"\r\n"
	    "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
	    "\r\n");
	assert_int_equal(n, strlen(buf));
	/* MX 0 is still an MX */
	n = ssdp_build_msearch(buf, sizeof(buf), SSDP_MCAST_ADDR, SSDP_PORT,
	    "ssdp:all", 0);
	assert_non_null(strstr(buf, "\r\nMX: 0\r\n"));
}

static void
test_msearch_too_small(void **state)
{
	char buf[512];
	int n, m;

	(void)state;
	n = ssdp_build_msearch(buf, sizeof(buf), SSDP_MCAST_ADDR, SSDP_PORT,
	    SSDP_ST_IGD2, 1);
	assert_true(n > 0);
	/* the NUL needs a byte too */
	m = ssdp_build_msearch(buf, (size_t)n, SSDP_MCAST_ADDR, SSDP_PORT,
	    SSDP_ST_IGD2, 1);
	assert_int_equal(m, -1);
	m = ssdp_build_msearch(buf, (size_t)n + 1, SSDP_MCAST_ADDR, SSDP_PORT,
	    SSDP_ST_IGD2, 1);
	assert_int_equal(m, n);
	assert_int_equal(ssdp_build_msearch(buf, 10, SSDP_MCAST_ADDR,
	    SSDP_PORT, SSDP_ST_IGD2, -1), -1);
	assert_int_equal(ssdp_build_msearch(buf, 0, SSDP_MCAST_ADDR,
	    SSDP_PORT, SSDP_ST_IGD2, -1), -1);
}

/* natmapd's M-SEARCH is byte for byte the one miniupnpd answered in the capture. */
static void
test_msearch_as_captured(void **state)
{
	const char *rel = *state;
	char buf[512], *req;
	size_t len;
	int n, mx;
	const char *st;

	req = tu_read(rel, &len);
	st = strstr(rel, "igd2") != NULL ? SSDP_ST_IGD2 : SSDP_ST_IGD1;
	assert_non_null(strstr(req, "\r\nMX: "));
	mx = atoi(strstr(req, "\r\nMX: ") + 6);
	n = ssdp_build_msearch(buf, sizeof(buf), SSDP_MCAST_ADDR, SSDP_PORT,
	    st, mx);
	assert_int_equal(n, len);
	assert_memory_equal(buf, req, len);
	free(req);
}

/* ---- real answers and NOTIFYs ---- */

static void
test_capture_response(void **state)
{
	const char *rel = *state;
	struct ssdp_msg m;
	size_t len;
	char *buf;

	buf = tu_read(rel, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.kind, SSDP_RESPONSE);
	assert_string_equal(m.location, LOC);
	assert_int_equal(m.bootid, capture_bootid(buf));
	assert_true(m.bootid > 0);
	if (strstr(rel, "igd2") != NULL) {
		assert_string_equal(m.st, SSDP_ST_IGD2);
		assert_int_equal(m.igd, 2);
		assert_string_equal(m.usn, "uuid:4e617461-6d61-7064-2d6c-"
		    "616200000001::" SSDP_ST_IGD2);
	} else {
		assert_string_equal(m.st, SSDP_ST_IGD1);
		assert_int_equal(m.igd, 1);
		assert_string_equal(m.usn, "uuid:4e617461-6d61-7064-2d6c-"
		    "616200000001::" SSDP_ST_IGD1);
	}
	/* every truncation is refused or parsed within bounds */
	for (size_t l = 0; l < len; l++) {
		const char *err;

		(void)parse_n(buf, l, &m, &err);
	}
	free(buf);
}

/* The IGD version that natmapd must see in an NT or ST. */
static int
expected_igd(const char *nt)
{
	static const char *const one[] = {
		"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
		"urn:schemas-upnp-org:service:WANIPConnection:1",
		"urn:schemas-upnp-org:service:WANPPPConnection:1",
	};
	static const char *const two[] = {
		"urn:schemas-upnp-org:device:InternetGatewayDevice:2",
		"urn:schemas-upnp-org:service:WANIPConnection:2",
	};
	size_t i;

	for (i = 0; i < TU_ARRAY_LEN(one); i++)
		if (strcmp(nt, one[i]) == 0)
			return 1;
	for (i = 0; i < TU_ARRAY_LEN(two); i++)
		if (strcmp(nt, two[i]) == 0)
			return 2;
	return 0;
}

/* Each NOTIFY file of a capture, by glob; returns how many were checked. */
static size_t
check_notify_files(const char *pattern, int kind)
{
	char path[4096];
	glob_t g;
	size_t i, len, igds = 0;

	tu_data_path(path, sizeof(path), pattern);
	if (glob(path, 0, NULL, &g) != 0)
		fail_msg("%s: no file", path);
	for (i = 0; i < g.gl_pathc; i++) {
		struct ssdp_msg m;
		const char *rel = g.gl_pathv[i] + strlen(path) -
		    strlen(pattern);
		char *buf = tu_read(rel, &len), *nt;

		parse_ok(buf, len, &m);
		assert_int_equal(m.kind, kind);
		assert_int_equal(m.bootid, capture_bootid(buf));
		assert_non_null(nt = strstr(buf, "\r\nNT: "));
		nt += 6;
		assert_memory_equal(m.st, nt, strlen(m.st));
		assert_memory_equal(nt + strlen(m.st), "\r\n", 2);
		assert_int_equal(m.igd, expected_igd(m.st));
		assert_true(strncmp(m.usn, "uuid:4e617461-6d61-7064-2d6c-6162",
		    33) == 0);
		if (kind == SSDP_ALIVE)
			assert_string_equal(m.location, LOC);
		igds += m.igd != 0;
		free(buf);
	}
	assert_true(igds > 0);	/* IGD and WANIPConnection among them */
	i = g.gl_pathc;
	globfree(&g);
	return i;
}

static void
test_capture_notify_alive(void **state)
{
	(void)state;
	assert_true(check_notify_files("miniupnpd-2.3.1/ssdp-notify-alive-*.bin",
	    SSDP_ALIVE) >= 5);
}

static void
test_capture_notify_byebye(void **state)
{
	(void)state;
	assert_true(check_notify_files(
	    "miniupnpd-2.3.1/ssdp-notify-byebye-*.bin", SSDP_BYEBYE) >= 5);
}

static void
test_handmade_lowercase(void **state)
{
	struct ssdp_msg m;
	size_t len, l;
	char *buf;

	buf = tu_read(*state, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.kind, SSDP_RESPONSE);
	assert_string_equal(m.location, "http://192.168.0.1:49152/igd.xml");
	assert_string_equal(m.st, SSDP_ST_IGD1);
	assert_string_equal(m.usn, "uuid:00000000-0000-1000-8000-"
	    "000000000001::" SSDP_ST_IGD1);
	assert_int_equal(m.igd, 1);
	assert_int_equal(m.bootid, -1);
	/* the last header cut short is still read as far as it goes */
	parse_ok(buf, len - 10, &m);
	assert_string_equal(m.usn, "uuid:00000000-0000-1000-8000-"
	    "000000000001::urn:schemas-upnp-org:device:InternetGatew");
	for (l = 0; l < len; l++) {
		const char *err;

		(void)parse_n(buf, l, &m, &err);
	}
	free(buf);
}

/* ---- hand-written shapes ---- */

static void
test_minimal_shapes(void **state)
{
	struct ssdp_msg m;

	(void)state;
	/* LF only, blank line */
	OK("HTTP/1.1 200 OK\nST: upnp:rootdevice\nLOCATION: http://1.2.3.4/\n\n",
	    &m);
	assert_int_equal(m.kind, SSDP_RESPONSE);
	assert_string_equal(m.st, "upnp:rootdevice");
	assert_int_equal(m.igd, 0);
	assert_string_equal(m.usn, "");
	assert_int_equal(m.bootid, -1);
	/* blanks around the values and names, odd case */
	OK("HTTP/1.1 200 OK\r\n  Location  :  http://1.2.3.4:80/d.xml  \r\n"
	    "sT:\turn:schemas-upnp-org:service:WANIPConnection:1\t\r\n\r\n", &m);
	assert_string_equal(m.location, "http://1.2.3.4:80/d.xml");
	assert_int_equal(m.igd, 1);
	/* the last header wins */
	OK("HTTP/1.1 200 OK\r\nST: a\r\nST: " SSDP_ST_IGD2 "\r\n" LOC_HDR
	    "\r\n", &m);
	assert_int_equal(m.igd, 2);
	/* NT is not ST in an answer, ST is not NT in a NOTIFY */
	FAILS("HTTP/1.1 200 OK\r\nNT: " SSDP_ST_IGD2 "\r\n" LOC_HDR "\r\n",
	    "no ST header");
	FAILS("NOTIFY * HTTP/1.1\r\n" IGD2_ST LOC_HDR "NTS: ssdp:alive\r\n\r\n",
	    "no NT header");
	/* NTS means nothing in an answer */
	OK("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "NTS: ssdp:byebye\r\n\r\n", &m);
	assert_int_equal(m.kind, SSDP_RESPONSE);
	/* a byebye needs no LOCATION */
	OK("NOTIFY * HTTP/1.1\r\nNT: " SSDP_ST_IGD2 "\r\nNTS: ssdp:byebye\r\n"
	    "USN: uuid:x\r\n\r\n", &m);
	assert_int_equal(m.kind, SSDP_BYEBYE);
	assert_string_equal(m.location, "");
	assert_int_equal(m.igd, 2);
	/* a body after the head is ignored */
	OK("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "\r\nLOCATION: https://x/\r\n",
	    &m);
	assert_string_equal(m.location, LOC);
	/* a reason phrase other than OK */
	OK("HTTP/1.1 200 Okay\r\n" IGD2_ST LOC_HDR "\r\n", &m);
}

static void
test_igd_versions(void **state)
{
	static const struct {
		const char	*st;
		int		 igd;
	} t[] = {
		{ SSDP_ST_IGD1, 1 },
		{ SSDP_ST_IGD2, 2 },
		{ "urn:schemas-upnp-org:service:WANIPConnection:1", 1 },
		{ "urn:schemas-upnp-org:service:WANIPConnection:2", 2 },
		{ "urn:schemas-upnp-org:service:WANPPPConnection:1", 1 },
		{ "urn:schemas-upnp-org:device:InternetGatewayDevice:3", 0 },
		{ "urn:schemas-upnp-org:device:InternetGatewayDevice:10", 0 },
		{ "urn:schemas-upnp-org:device:InternetGatewayDevice:", 0 },
		{ "urn:schemas-upnp-org:device:InternetGatewayDevice:1x", 0 },
		{ "urn:schemas-upnp-org:device:WANDevice:1", 0 },
		{ "urn:schemas-upnp-org:device:WANConnectionDevice:2", 0 },
		{ "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1", 0 },
		{ "URN:SCHEMAS-UPNP-ORG:DEVICE:INTERNETGATEWAYDEVICE:1", 0 },
		{ "upnp:rootdevice", 0 },
		{ "ssdp:all", 0 },
		{ "uuid:4e617461-6d61-7064-2d6c-616200000001", 0 },
	};
	char buf[512];
	struct ssdp_msg m;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nST: %s\r\n"
		    LOC_HDR "\r\n", t[i].st);
		parse_ok(buf, (size_t)n, &m);
		if (m.igd != t[i].igd)
			fail_msg("%s: igd %d, wanted %d", t[i].st, m.igd,
			    t[i].igd);
		n = snprintf(buf, sizeof(buf), "NOTIFY * HTTP/1.1\r\nNT: %s\r\n"
		    "NTS: ssdp:alive\r\n" LOC_HDR "\r\n", t[i].st);
		parse_ok(buf, (size_t)n, &m);
		assert_int_equal(m.kind, SSDP_ALIVE);
		assert_int_equal(m.igd, t[i].igd);
	}
}

static void
test_bootid(void **state)
{
	static const struct {
		const char	*v;
		long		 bootid;
	} t[] = {
		{ "0", 0 },
		{ "1", 1 },
		{ "  42  ", 42 },
		{ "2147483647", 2147483647L },
		{ "123456789012345", 123456789012345L },
		{ "", -1 },
		{ "-5", -1 },
		{ "+5", 5 },
		{ "12abc", -1 },
		{ "abc", -1 },
		{ "1 2", -1 },
		{ "1234567890123456", -1 },	/* does not fit the copy */
		{ "1\x01", -1 },
	};
	char buf[512];
	struct ssdp_msg m;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n" IGD2_ST
		    LOC_HDR "BOOTID.UPNP.ORG: %s\r\n\r\n", t[i].v);
		parse_ok(buf, (size_t)n, &m);
		if (m.bootid != t[i].bootid)
			fail_msg("\"%s\": bootid %ld, wanted %ld", t[i].v,
			    m.bootid, t[i].bootid);
	}
	/* case-insensitive name */
	OK("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "bootid.upnp.org: 7\r\n\r\n",
	    &m);
	assert_int_equal(m.bootid, 7);
}

/* ---- errors ---- */

static void
test_not_ssdp(void **state)
{
	char buf[512];
	int n;

	(void)state;
	FAILS("", "not an SSDP response or NOTIFY");
	FAILS("HTTP/1.1 200 O", "not an SSDP response or NOTIFY");
	FAILS("NOTIFY * HTTP/1.", "not an SSDP response or NOTIFY");
	FAILS("HTTP/1.1 404 Not Found\r\n\r\n", "not an SSDP response or NOTIFY");
	FAILS("HTTP/1.0 200 OK\r\n" IGD2_ST LOC_HDR "\r\n",
	    "not an SSDP response or NOTIFY");
	FAILS("http/1.1 200 OK\r\n" IGD2_ST LOC_HDR "\r\n",
	    "not an SSDP response or NOTIFY");
	FAILS("NOTIFY / HTTP/1.1\r\n\r\n", "not an SSDP response or NOTIFY");
	FAILS(" HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "\r\n",
	    "not an SSDP response or NOTIFY");
	/* natmapd's own M-SEARCH, looped back */
	n = ssdp_build_msearch(buf, sizeof(buf), SSDP_MCAST_ADDR, SSDP_PORT,
	    SSDP_ST_IGD2, 2);
	parse_fails(buf, (size_t)n, "not an SSDP response or NOTIFY");
}

static void
test_malformed(void **state)
{
	char *big;
	size_t n;

	(void)state;
	/* NUL in the head, with and without a final blank line */
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://1.2.3.4/\0x\r\n"
	    "\r\n", "malformed head");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://1.2.3.4/\0x\r\n",
	    "malformed head");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "\0", "malformed head");
	/* header lines */
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "EXT\r\n\r\n",
	    "malformed header line");
	/* "LOCATION http" is a header name, so no LOCATION here */
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION http://1.2.3.4/\r\n\r\n",
	    "no LOCATION header");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR ": x\r\n\r\n",
	    "malformed header line");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR " folded\r\n\r\n",
	    "malformed header line");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "EXT", "malformed header line");
	/* a datagram bigger than any head */
	n = HTTP_MAX_HEAD + 10;
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
	for (size_t i = 17; i + 8 <= n; i += 8)
		memcpy(big + i, "X-A: b\r\n", 8);
	parse_fails(big, n, "malformed head");
	memcpy(big + n - 4, "\r\n\r\n", 4);
	parse_fails(big, n, "malformed head");
	free(big);
}

static void
test_bad_values(void **state)
{
	char buf[1024], val[300];
	struct ssdp_msg m;
	int n;

	(void)state;
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://1.2.3.4/\x01x\r\n"
	    "\r\n", "header value too long or not printable");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://1.2.3.4/\x7f\r\n"
	    "\r\n", "header value too long or not printable");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://1.2.3.4/\xc3\xa9"
	    "\r\n\r\n", "header value too long or not printable");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://1.2.3.4/\ta\r\n"
	    "\r\n", "header value too long or not printable");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "USN: uuid:\x1b[31m\r\n"
	    "\r\n", "header value too long or not printable");
	FAILS("HTTP/1.1 200 OK\r\nST: urn:\x80\r\n" LOC_HDR "\r\n",
	    "header value too long or not printable");
	FAILS("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:\x01\r\n"
	    LOC_HDR "\r\n", "header value too long or not printable");
	/* a CR inside a value */
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://1.2.3.4/\rx\r\n"
	    "\r\n", "header value too long or not printable");
	/* headers natmapd does not read may hold anything */
	OK("HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR "SERVER: \x01\xff\r\n\r\n", &m);

	/* LOCATION: 255 bytes fit, 256 do not */
	memset(val, 'a', sizeof(val));
	memcpy(val, "http://1.2.3.4/", 15);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n" IGD2_ST
	    "LOCATION: %.*s\r\n\r\n", 255, val);
	parse_ok(buf, (size_t)n, &m);
	assert_int_equal(strlen(m.location), 255);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n" IGD2_ST
	    "LOCATION: %.*s\r\n\r\n", 256, val);
	parse_fails(buf, (size_t)n, "header value too long or not printable");
	/* ST: 127 and 128 */
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nST: %.*s\r\n"
	    LOC_HDR "\r\n", 127, val);
	parse_ok(buf, (size_t)n, &m);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nST: %.*s\r\n"
	    LOC_HDR "\r\n", 128, val);
	parse_fails(buf, (size_t)n, "header value too long or not printable");
	/* USN: 255 and 256 */
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR
	    "USN: %.*s\r\n\r\n", 255, val);
	parse_ok(buf, (size_t)n, &m);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n" IGD2_ST LOC_HDR
	    "USN: %.*s\r\n\r\n", 256, val);
	parse_fails(buf, (size_t)n, "header value too long or not printable");
	/* NTS: 31 and 32 */
	n = snprintf(buf, sizeof(buf), "NOTIFY * HTTP/1.1\r\nNT: a\r\n"
	    "NTS: %.*s\r\n" LOC_HDR "\r\n", 31, val);
	parse_fails(buf, (size_t)n, "NOTIFY without a known NTS");
	n = snprintf(buf, sizeof(buf), "NOTIFY * HTTP/1.1\r\nNT: a\r\n"
	    "NTS: %.*s\r\n" LOC_HDR "\r\n", 32, val);
	parse_fails(buf, (size_t)n, "header value too long or not printable");
}

static void
test_missing_headers(void **state)
{
	(void)state;
	FAILS("HTTP/1.1 200 OK\r\n" LOC_HDR "\r\n", "no ST header");
	FAILS("HTTP/1.1 200 OK\r\nST:\r\n" LOC_HDR "\r\n", "no ST header");
	FAILS("HTTP/1.1 200 OK\r\n\r\n", "no ST header");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "\r\n", "no LOCATION header");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION:   \r\n\r\n",
	    "no LOCATION header");
	FAILS("HTTP/1.1 200 OK\r\n" IGD2_ST "AL: <" LOC ">\r\n\r\n",
	    "no LOCATION header");
	FAILS("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n" LOC_HDR "\r\n",
	    "NOTIFY without a known NTS");
	FAILS("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:update\r\n"
	    LOC_HDR "\r\n", "NOTIFY without a known NTS");
	FAILS("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: SSDP:ALIVE\r\n"
	    LOC_HDR "\r\n", "NOTIFY without a known NTS");
	FAILS("NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\n" LOC_HDR "\r\n",
	    "no NT header");
	FAILS("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
	    "\r\n", "no LOCATION header");
}

static void
test_location_scheme(void **state)
{
	static const char *const bad[] = {
		"https://192.168.1.1:5000/rootDesc.xml",
		"HTTP://192.168.1.1:5000/rootDesc.xml",
		"Http://192.168.1.1/",
		"http:/192.168.1.1/",
		"http:192.168.1.1",
		"ftp://192.168.1.1/",
		"//192.168.1.1/",
		"/rootDesc.xml",
		"192.168.1.1:5000/rootDesc.xml",
		"file:///etc/passwd",
		"<http://192.168.1.1/>",
	};
	char buf[512];
	struct ssdp_msg m;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(bad); i++) {
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n" IGD2_ST
		    "LOCATION: %s\r\n\r\n", bad[i]);
		parse_fails(buf, (size_t)n, "LOCATION is not an http:// URL");
		n = snprintf(buf, sizeof(buf), "NOTIFY * HTTP/1.1\r\nNT: a\r\n"
		    "NTS: ssdp:alive\r\nLOCATION: %s\r\n\r\n", bad[i]);
		parse_fails(buf, (size_t)n, "LOCATION is not an http:// URL");
	}
	/* ssdp_parse checks the scheme only; upnp_url_parse does the rest */
	OK("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://\r\n\r\n", &m);
	OK("HTTP/1.1 200 OK\r\n" IGD2_ST "LOCATION: http://router.lan/\r\n\r\n",
	    &m);
	/* a byebye's LOCATION is not used, so not checked */
	OK("NOTIFY * HTTP/1.1\r\nNT: a\r\nNTS: ssdp:byebye\r\n"
	    "LOCATION: https://x/\r\n\r\n", &m);
	assert_int_equal(m.kind, SSDP_BYEBYE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msearch_build),
		cmocka_unit_test(test_msearch_too_small),
		TU_FILE_TEST(test_msearch_as_captured,
		    "miniupnpd-2.3.1/ssdp-msearch-igd2-multicast.req"),
		TU_FILE_TEST(test_msearch_as_captured,
		    "miniupnpd-2.3.1/ssdp-msearch-igd1-multicast.req"),
		TU_FILE_TEST(test_capture_response,
		    "miniupnpd-2.3.1/ssdp-msearch-igd2-multicast.resp"),
		TU_FILE_TEST(test_capture_response,
		    "miniupnpd-2.3.1/ssdp-msearch-igd2-unicast.resp"),
		TU_FILE_TEST(test_capture_response,
		    "miniupnpd-2.3.1/ssdp-msearch-igd1-multicast.resp"),
		TU_FILE_TEST(test_capture_response,
		    "miniupnpd-2.3.1/ssdp-msearch-igd1-unicast.resp"),
		TU_FILE_TEST(test_capture_notify_alive,
		    "miniupnpd-2.3.1/ssdp-notify-alive-01.bin"),
		TU_FILE_TEST(test_capture_notify_byebye,
		    "miniupnpd-2.3.1/ssdp-notify-byebye-01.bin"),
		TU_FILE_TEST(test_handmade_lowercase,
		    "handmade/ssdp-lowercase-noblank.resp"),
		cmocka_unit_test(test_minimal_shapes),
		cmocka_unit_test(test_igd_versions),
		cmocka_unit_test(test_bootid),
		cmocka_unit_test(test_not_ssdp),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_missing_headers),
		cmocka_unit_test(test_location_scheme),
	};

	return TU_RUN("ssdp-msg", tests);
}
