/* SPDX-License-Identifier: ISC */
/* Unit tests of the UPnP IGD codec: URLs, descriptions, SOAP requests and answers. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "upnp-msg.h"

#define MINIUPNPD	"miniupnpd-2.3.1/"

/* ---- upnp_url_parse ---- */

static void
url_ok(const char *url, const char *addr, unsigned int port, const char *host,
    const char *path)
{
	struct upnp_url u;
	struct in_addr a;

	if (upnp_url_parse(url, &u) != 0)
		fail_msg("%s: refused", url);
	assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	assert_int_equal(u.addr.s_addr, a.s_addr);
	assert_int_equal(u.port, port);
	assert_string_equal(u.host, host);
	assert_string_equal(u.path, path);
}

static void
url_bad(const char *url)
{
	struct upnp_url u;

	if (upnp_url_parse(url, &u) != -1)
		fail_msg("%s: accepted", url);
}

static void
test_url_ok(void **state)
{
	(void)state;
	url_ok("http://192.168.77.1:5000/rootDesc.xml", "192.168.77.1", 5000,
	    "192.168.77.1:5000", "/rootDesc.xml");
	url_ok("http://192.168.77.1:5000/ctl/IPConn", "192.168.77.1", 5000,
	    "192.168.77.1:5000", "/ctl/IPConn");
	url_ok("http://10.0.0.1/igd.xml", "10.0.0.1", 80, "10.0.0.1:80",
	    "/igd.xml");
	url_ok("http://10.0.0.1", "10.0.0.1", 80, "10.0.0.1:80", "/");
	url_ok("http://10.0.0.1:49152", "10.0.0.1", 49152, "10.0.0.1:49152",
	    "/");
	url_ok("http://10.0.0.1/", "10.0.0.1", 80, "10.0.0.1:80", "/");
	url_ok("http://255.255.255.255:65535/", "255.255.255.255", 65535,
	    "255.255.255.255:65535", "/");
	url_ok("http://0.0.0.0:1/", "0.0.0.0", 1, "0.0.0.0:1", "/");
	url_ok("http://1.2.3.4:00080/x", "1.2.3.4", 80, "1.2.3.4:80", "/x");
	url_ok("http://1.2.3.4/upnp/control?WANIPConn1&x=%20",
	    "1.2.3.4", 80, "1.2.3.4:80", "/upnp/control?WANIPConn1&x=%20");
	url_ok("http://1.2.3.4/a:b/c", "1.2.3.4", 80, "1.2.3.4:80", "/a:b/c");
}

static void
test_url_bad(void **state)
{
	char url[400];

	(void)state;
	/* scheme */
	url_bad("");
	url_bad("https://192.168.1.1/");
	url_bad("HTTP://192.168.1.1/");
	url_bad("ftp://192.168.1.1/");
	url_bad("http:/192.168.1.1/");
	url_bad("http//192.168.1.1/");
	url_bad("192.168.1.1/");
	url_bad("/ctl/IPConn");
	url_bad("ctl/IPConn");
	/* hosts */
	url_bad("http://");
	url_bad("http:///x");
	url_bad("http://:80/");
	url_bad("http://router.lan/");
	url_bad("http://localhost:80/");
	url_bad("http://[fe80::1]:80/");
	url_bad("http://[::1]/");
	url_bad("http://1.2.3/");
	url_bad("http://1.2.3.4.5/");
	url_bad("http://256.1.1.1/");
	url_bad("http://1.2.3.-4/");
	url_bad("http://0x7f.0.0.1/");
	url_bad("http://2130706433/");
	url_bad("http:// 1.2.3.4/");
	url_bad("http://1.2.3.4 /");
	url_bad("http://1111.2222.3333.4444/");
	url_bad("http://user@1.2.3.4/");
	url_bad("http://user:pw@1.2.3.4/");
	url_bad("http://1.2.3.4?x");
	url_bad("http://1.2.3.4#x");
	/* ports */
	url_bad("http://1.2.3.4:/");
	url_bad("http://1.2.3.4:");
	url_bad("http://1.2.3.4:0/");
	url_bad("http://1.2.3.4:00000/");
	url_bad("http://1.2.3.4:65536/");
	url_bad("http://1.2.3.4:99999/");
	url_bad("http://1.2.3.4:123456/");
	url_bad("http://1.2.3.4:000080/");
	url_bad("http://1.2.3.4:8o/");
	url_bad("http://1.2.3.4:-1/");
	url_bad("http://1.2.3.4:+80/");
	url_bad("http://1.2.3.4: 80/");
	url_bad("http://1.2.3.4:80 /");
	url_bad("http://1.2.3.4:80:81/");
	url_bad("http://1.2.3.4:0x50/");
	url_bad("http://1.2.3.4:80?x");
	/* paths */
	url_bad("http://1.2.3.4/a b");
	url_bad("http://1.2.3.4/a\tb");
	url_bad("http://1.2.3.4/a\r\nHost: evil");
	url_bad("http://1.2.3.4/a\x01");
	url_bad("http://1.2.3.4/a\x7f");
	url_bad("http://1.2.3.4/caf\xc3\xa9");
	/* path length: 255 fit with the NUL, 256 do not */
	memset(url, 'a', sizeof(url));
	memcpy(url, "http://1.2.3.4/", 15);
	url[14 + 255] = '\0';
	url_ok(url, "1.2.3.4", 80, "1.2.3.4:80", url + 14);
	url[14 + 255] = 'a';
	url[14 + 256] = '\0';
	url_bad(url);
}

/* A failed parse leaves nothing half-filled behind. */
static void
test_url_cleared(void **state)
{
	struct upnp_url u;

	(void)state;
	assert_int_equal(upnp_url_parse("http://1.2.3.4:5/x", &u), 0);
	assert_int_equal(upnp_url_parse("http://1.2.3.4:0/x", &u), -1);
	assert_int_equal(u.host[0], '\0');
	assert_int_equal(u.path[0], '\0');
	assert_int_equal(u.port, 0);
}

static struct in_addr
ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* url_check URL FROM NETMASK: the verdict on a LAN 192.168.77.10, gateway .1. */
static int
url_check(const char *url, const char *from, const char *netmask)
{
	struct upnp_url u;

	return upnp_url_check(url, ip4(from), ip4("192.168.77.10"),
	    ip4(netmask), ip4("192.168.77.1"), &u);
}

/* Only the answering host, on the subnet or the gateway, is fetched. */
static void
test_url_check(void **state)
{
	(void)state;
	/* The gateway, and another device of the /24, naming themselves. */
	assert_int_equal(url_check("http://192.168.77.1:5000/rootDesc.xml",
	    "192.168.77.1", "255.255.255.0"), UPNP_URL_OK);
	assert_int_equal(url_check("http://192.168.77.11:49152/desc.xml",
	    "192.168.77.11", "255.255.255.0"), UPNP_URL_OK);
	/* Off the LAN, or another host of it, named by a LAN host. */
	assert_int_equal(url_check("http://203.0.113.100:5000/rootDesc.xml",
	    "192.168.77.11", "255.255.255.0"), UPNP_URL_OTHER_HOST);
	assert_int_equal(url_check("http://192.168.77.10:5001/rootDesc.xml",
	    "192.168.77.11", "255.255.255.0"), UPNP_URL_OTHER_HOST);
	assert_int_equal(url_check("http://192.168.77.1:5000/rootDesc.xml",
	    "192.168.77.11", "255.255.255.0"), UPNP_URL_OTHER_HOST);
	/* Even the gateway names only itself. */
	assert_int_equal(url_check("http://192.168.77.11:5000/rootDesc.xml",
	    "192.168.77.1", "255.255.255.0"), UPNP_URL_OTHER_HOST);
	/* A host of another subnet naming itself. */
	assert_int_equal(url_check("http://192.168.78.5:5000/rootDesc.xml",
	    "192.168.78.5", "255.255.255.0"), UPNP_URL_OFF_LAN);
	assert_int_equal(url_check("http://10.0.0.1:5000/rootDesc.xml",
	    "10.0.0.1", "255.255.255.0"), UPNP_URL_OFF_LAN);
	/* The prefix counts: in a /16, 192.168.78.5 is on it. */
	assert_int_equal(url_check("http://192.168.78.5:5000/rootDesc.xml",
	    "192.168.78.5", "255.255.0.0"), UPNP_URL_OK);
	assert_int_equal(url_check("http://192.168.77.129/",
	    "192.168.77.129", "255.255.255.128"), UPNP_URL_OFF_LAN);
	/* Netmask unknown: the gateway alone. */
	assert_int_equal(url_check("http://192.168.77.1:5000/rootDesc.xml",
	    "192.168.77.1", "0.0.0.0"), UPNP_URL_OK);
	assert_int_equal(url_check("http://192.168.77.11:5000/rootDesc.xml",
	    "192.168.77.11", "0.0.0.0"), UPNP_URL_OFF_LAN);
	/* Not a URL natmapd reads at all. */
	assert_int_equal(url_check("http://router.lan/rootDesc.xml",
	    "192.168.77.1", "255.255.255.0"), UPNP_URL_UNUSABLE);
	assert_int_equal(url_check("https://192.168.77.1/rootDesc.xml",
	    "192.168.77.1", "255.255.255.0"), UPNP_URL_UNUSABLE);
}

/* ---- upnp_desc_parse ---- */

static char *
read_body(const char *rel, size_t *len)
{
	size_t n, off;
	char *buf = tu_read(rel, &n);

	off = tu_body_offset(buf, n);
	memmove(buf, buf + off, n - off + 1);
	*len = n - off;
	return buf;
}

static void
desc_file(const char *rel, const char *descurl, int want, const char *ctl,
    const char *service, int version)
{
	struct upnp_igd igd;
	size_t len;
	char *xml;
	int r;

	if (strstr(rel, ".xml") == rel + strlen(rel) - 4)
		xml = tu_read(rel, &len);
	else
		xml = read_body(rel, &len);
	/* parsed from an exact-size copy: no NUL after the text */
	xml = realloc(xml, len);
	assert_non_null(xml);
	r = upnp_desc_parse(xml, len, descurl, &igd);
	free(xml);
	assert_int_equal(r, want);
	if (want == 0) {
		assert_string_equal(igd.control_url, ctl);
		assert_string_equal(igd.service, service);
		assert_int_equal(igd.version, version);
	} else {
		assert_string_equal(igd.control_url, "");
		assert_string_equal(igd.service, "");
		assert_int_equal(igd.version, 0);
	}
}

#define HM_URL	"http://192.168.0.1:49152/igd.xml"

static void
test_desc_miniupnpd(void **state)
{
	desc_file(*state, "http://192.168.77.1:5000/rootDesc.xml", 0,
	    "http://192.168.77.1:5000/ctl/IPConn", UPNP_SVC_WANIP2, 2);
}

static void
test_desc_wanppp1_only(void **state)
{
	desc_file(*state, HM_URL, 0,
	    "http://192.168.0.1:49152/upnp/control/WANPPPConn1",
	    UPNP_SVC_WANPPP1, 1);
}

/* WANIPConnection:1 is preferred to WANPPPConnection:1 in either order. */
static void
test_desc_wanip1_and_wanppp1(void **state)
{
	desc_file(*state, HM_URL, 0,
	    "http://192.168.0.1:49152/upnp/control/WANIPConn1",
	    UPNP_SVC_WANIP1, 1);
}

/* URLBase, and a control URL without a leading slash. */
static void
test_desc_igd2_urlbase(void **state)
{
	desc_file(*state, HM_URL, 0, "http://192.168.1.254:49000/ctl/IPConn",
	    UPNP_SVC_WANIP2, 2);
}

static void
test_desc_absolute_control(void **state)
{
	desc_file(*state, HM_URL, 0,
	    "http://192.168.1.254:49000/upnp/control/WANIPConn1",
	    UPNP_SVC_WANIP1, 1);
}

/*
 * WANPPPConnection:1, WANIPConnection:2 and WANIPConnection:1 in one
 * device: upnp-msg.h promises WANIPConnection:2 first.
 */
static void
test_desc_three_services(void **state)
{
	desc_file(*state, HM_URL, 0,
	    "http://192.168.0.1:49152/upnp/control/WANIPConn2",
	    UPNP_SVC_WANIP2, 2);
}

static void
test_desc_unusable(void **state)
{
	desc_file(*state, HM_URL, -1, NULL, NULL, 0);
}

static void
test_desc_garbage(void **state)
{
	static const char *const bad[] = {
		"x",
		"<",
		"<root>",
		"</service>",
		"<service><serviceType>urn:schemas-upnp-org:service:"
		    "WANIPConnection:1</serviceType></service>",
		"<service><serviceType>urn:schemas-upnp-org:service:"
		    "WANIPConnection:3</serviceType><controlURL>/c</controlURL>"
		    "</service>",
		"<service><serviceType>urn:schemas-upnp-org:service:"
		    "WANIPConnection:1 </serviceType><controlURL>/c</controlURL>"
		    "</service>",
		"<service><serviceType>urn:schemas-upnp-org:service:"
		    "WANIPConnection</serviceType><controlURL>/c</controlURL>"
		    "</service>",
		"<html><body>404 Not Found</body></html>",
	};
	static const char small[] = "<service><serviceType>" UPNP_SVC_WANIP1
	    "</serviceType><controlURL>/c</controlURL></service>";
	struct upnp_igd igd;
	char *big;
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(bad); i++)
		if (upnp_desc_parse(bad[i], strlen(bad[i]), HM_URL, &igd) != -1)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(upnp_desc_parse("", 0, HM_URL, &igd), -1);
	/* the smallest description that works */
	assert_int_equal(upnp_desc_parse(small, sizeof(small) - 1, HM_URL,
	    &igd), 0);
	assert_string_equal(igd.control_url, "http://192.168.0.1:49152/c");
	/* the size limit */
	big = malloc(256 * 1024 + 1);
	assert_non_null(big);
	memset(big, ' ', 256 * 1024 + 1);
	memcpy(big, small, sizeof(small) - 1);
	assert_int_equal(upnp_desc_parse(big, 256 * 1024, HM_URL, &igd), 0);
	assert_int_equal(upnp_desc_parse(big, 256 * 1024 + 1, HM_URL, &igd),
	    -1);
	free(big);
}

/* A control URL that does not fit struct upnp_igd is refused. */
static void
test_desc_long_control_url(void **state)
{
	char xml[1024], path[300];
	struct upnp_igd igd;
	int n;

	(void)state;
	/* miniupnpc keeps 127 bytes of a control URL */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	n = snprintf(xml, sizeof(xml), "<service><serviceType>" UPNP_SVC_WANIP1
	    "</serviceType><controlURL>%.*s</controlURL></service>", 127, path);
	assert_int_equal(upnp_desc_parse(xml, (size_t)n, HM_URL, &igd), 0);
	assert_int_equal(strlen(igd.control_url), strlen(HM_URL) - 8 + 127);
	/* a longer one is cut to 127 bytes by miniupnpc, not overrun */
	n = snprintf(xml, sizeof(xml), "<service><serviceType>" UPNP_SVC_WANIP1
	    "</serviceType><controlURL>http://1.2.3.4:5/%.*s</controlURL>"
	    "</service>", 200, path + 1);
	assert_int_equal(upnp_desc_parse(xml, (size_t)n, HM_URL, &igd), 0);
	assert_int_equal(strlen(igd.control_url), 127);
}

/* ---- upnp_soap_build ---- */

static struct upnp_url
ctl_url(const char *s)
{
	struct upnp_url u;

	if (upnp_url_parse(s, &u) != 0)
		fail_msg("%s", s);
	return u;
}

static void
test_soap_build(void **state)
{
	static const struct upnp_arg args[] = {
		{ "NewRemoteHost", "" },
		{ "NewExternalPort", "8080" },
		{ "NewProtocol", "TCP" },
	};
	struct upnp_url u = ctl_url("http://192.168.77.1:5000/ctl/IPConn");
	char buf[4096], want[4096];
	const char *body;
	int n, blen;

	(void)state;
	n = upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
	    "DeletePortMapping", args, TU_ARRAY_LEN(args));
	assert_int_equal(n, strlen(buf));
	body = "<?xml version=\"1.0\"?>\r\n"
	    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	    "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
	    "<s:Body><u:DeletePortMapping xmlns:u=\""
	    "urn:schemas-upnp-org:service:WANIPConnection:2\">"
	    "<NewRemoteHost></NewRemoteHost>"
	    "<NewExternalPort>8080</NewExternalPort>"
	    "<NewProtocol>TCP</NewProtocol>"
	    "</u:DeletePortMapping></s:Body></s:Envelope>\r\n";
	blen = (int)strlen(body);
	snprintf(want, sizeof(want),
	    "POST /ctl/IPConn HTTP/1.1\r\n"
	    "Host: 192.168.77.1:5000\r\n"
	    "User-Agent: natmapd/" PACKAGE_VERSION " UPnP/1.1\r\n"
	    "Content-Type: text/xml; charset=\"utf-8\"\r\n"
	    "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2"
	    "#DeletePortMapping\"\r\n"
	    "Content-Length: %d\r\n"
	    "Connection: close\r\n"
	    "\r\n%s", blen, body);
	assert_string_equal(buf, want);

	/* no arguments, port 80 */
	u = ctl_url("http://10.0.0.1/upnp/control/WANIPConn1");
	n = upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP1,
	    "GetExternalIPAddress", NULL, 0);
	assert_true(n > 0);
	assert_true(strncmp(buf, "POST /upnp/control/WANIPConn1 HTTP/1.1\r\n"
	    "Host: 10.0.0.1:80\r\n", 58) == 0);
	assert_non_null(strstr(buf, "<u:GetExternalIPAddress xmlns:u=\""
	    UPNP_SVC_WANIP1 "\"></u:GetExternalIPAddress>"));
}

static void
test_soap_build_refuses(void **state)
{
	static const char *const bad[] = {
		"<", ">", "&", "a<b", "natmapd </NewPortMappingDescription>",
		"&amp;", "\x01", "\t", "\r\n", "\x7f", "caf\xc3\xa9", "\xff",
	};
	struct upnp_url u = ctl_url("http://192.168.77.1:5000/ctl/IPConn");
	struct upnp_arg a[2] = { { "NewProtocol", "TCP" }, { NULL, NULL } };
	char buf[4096];
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(bad); i++) {
		a[1].name = "NewPortMappingDescription";
		a[1].value = bad[i];
		memset(buf, 'Z', sizeof(buf));
		if (upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
		    "AddPortMapping", a, 2) != -1)
			fail_msg("value \"%s\" accepted", bad[i]);
		a[1].name = bad[i];
		a[1].value = "1";
		if (upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
		    "AddPortMapping", a, 2) != -1)
			fail_msg("name \"%s\" accepted", bad[i]);
	}
	/* what natmapd does send */
	a[1].name = "NewPortMappingDescription";
	a[1].value = "natmapd tcp 8080 - ok: (yes) \"quoted\" 'x' ;=/";
	assert_true(upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
	    "AddPortMapping", a, 2) > 0);
}

static void
test_soap_build_sizes(void **state)
{
	struct upnp_url u = ctl_url("http://192.168.77.1:5000/ctl/IPConn");
	struct upnp_arg a[40];
	char buf[8192], val[1100];
	int n, m;
	size_t i;

	(void)state;
	n = upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
	    "GetExternalIPAddress", NULL, 0);
	assert_true(n > 0);
	/* the whole request must fit with its NUL */
	m = upnp_soap_build(buf, (size_t)n, &u, UPNP_SVC_WANIP2,
	    "GetExternalIPAddress", NULL, 0);
	assert_int_equal(m, -1);
	m = upnp_soap_build(buf, (size_t)n + 1, &u, UPNP_SVC_WANIP2,
	    "GetExternalIPAddress", NULL, 0);
	assert_int_equal(m, n);
	assert_int_equal(upnp_soap_build(buf, 1, &u, UPNP_SVC_WANIP2,
	    "GetExternalIPAddress", NULL, 0), -1);
	/* a body over 2 KiB: refused, not cut */
	memset(val, 'v', sizeof(val));
	val[sizeof(val) - 1] = '\0';
	a[0].name = "A";
	a[0].value = val;
	a[1].name = "B";
	a[1].value = val;
	assert_int_equal(upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
	    "AddPortMapping", a, 2), -1);
	for (i = 0; i < TU_ARRAY_LEN(a); i++) {
		a[i].name = "NewPortMappingDescription";
		a[i].value = "natmapd tcp 65535";
	}
	assert_int_equal(upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
	    "AddPortMapping", a, TU_ARRAY_LEN(a)), -1);
	assert_true(upnp_soap_build(buf, sizeof(buf), &u, UPNP_SVC_WANIP2,
	    "AddPortMapping", a, 10) > 0);
}

/* Unescape nothing: the captured values are plain. */
static size_t
req_args(const char *body, const char *action, struct upnp_arg *a, size_t max,
    char *store, size_t storelen)
{
	char open[128];
	const char *p, *end;
	size_t n = 0;

	snprintf(open, sizeof(open), "<u:%s xmlns:u=\"", action);
	p = strstr(body, open);
	assert_non_null(p);
	p = strchr(p, '>') + 1;
	snprintf(open, sizeof(open), "</u:%s>", action);
	end = strstr(p, open);
	assert_non_null(end);
	while (p < end) {
		const char *gt = strchr(p, '>'), *close;
		size_t nl, vl;

		assert_true(*p == '<' && gt != NULL && n < max);
		nl = (size_t)(gt - p - 1);
		close = strstr(gt, "</");
		assert_non_null(close);
		vl = (size_t)(close - gt - 1);
		assert_true(nl + vl + 2 <= storelen);
		memcpy(store, p + 1, nl);
		store[nl] = '\0';
		a[n].name = store;
		store += nl + 1;
		storelen -= nl + 1;
		memcpy(store, gt + 1, vl);
		store[vl] = '\0';
		a[n].value = store;
		store += vl + 1;
		storelen -= vl + 1;
		n++;
		p = close + 2 + nl + 1;
	}
	return n;
}

/*
 * natmapd builds byte for byte the request that miniupnpd answered in
 * the capture, but for its User-Agent line.
 */
static void
test_soap_build_as_captured(void **state)
{
	const char *rel = *state;
	struct upnp_arg a[16];
	struct upnp_url u;
	char *req, *p, *ua, url[512], service[128], action[64], store[2048];
	char buf[8192];
	size_t len, n, uel;
	int r;

	req = tu_read(rel, &len);
	/* POST path, Host, SOAPAction */
	assert_true(strncmp(req, "POST ", 5) == 0);
	p = strstr(req, "\r\nHost: ");
	assert_non_null(p);
	snprintf(url, sizeof(url), "http://%.*s%.*s",
	    (int)strcspn(p + 8, "\r"), p + 8,
	    (int)strcspn(req + 5, " "), req + 5);
	u = ctl_url(url);
	p = strstr(req, "\r\nSOAPAction: \"");
	assert_non_null(p);
	p += 15;
	snprintf(service, sizeof(service), "%.*s", (int)strcspn(p, "#"), p);
	p += strcspn(p, "#") + 1;
	snprintf(action, sizeof(action), "%.*s", (int)strcspn(p, "\""), p);
	n = req_args(req + tu_body_offset(req, len), action, a, 16, store,
	    sizeof(store));

	r = upnp_soap_build(buf, sizeof(buf), &u, service, action, a, n);
	assert_true(r > 0);
	ua = strstr(buf, "\r\nUser-Agent: ");
	assert_non_null(ua);
	uel = strcspn(ua + 2, "\n") + 1;
	memmove(ua + 2, ua + 2 + uel, strlen(ua + 2 + uel) + 1);
	assert_int_equal(strlen(buf), len);
	assert_string_equal(buf, req);
	free(req);
}

/* ---- upnp_soap_parse ---- */

struct nv {
	const char	*name, *value;
};

static void
soap_file(const char *rel, int status, int errcode, const char *errdesc,
    const struct nv *nv, size_t nnv)
{
	struct upnp_reply rep;
	size_t len, i;
	char *body = read_body(rel, &len);

	body = realloc(body, len);	/* exact size, no NUL */
	assert_int_equal(upnp_soap_parse(body, len, status, &rep), 0);
	assert_int_equal(rep.errcode, errcode);
	assert_string_equal(rep.errdesc, errdesc);
	assert_int_equal(rep.nvalues, nnv);
	for (i = 0; i < nnv; i++) {
		const char *v = upnp_reply_get(&rep, nv[i].name);

		if (v == NULL)
			fail_msg("%s: no %s", rel, nv[i].name);
		if (nv[i].value != NULL)
			assert_string_equal(v, nv[i].value);
	}
	assert_null(upnp_reply_get(&rep, "NewNothing"));
	assert_null(upnp_reply_get(&rep, ""));
	free(body);
}

static void
test_soap_success_empty(void **state)
{
	soap_file(*state, 200, 0, "", NULL, 0);
}

static void
test_soap_getexternalipaddress(void **state)
{
	static const struct nv nv[] = {
		{ "NewExternalIPAddress", "203.0.113.2" },
	};

	soap_file(*state, 200, 0, "", nv, TU_ARRAY_LEN(nv));
}

static void
test_soap_getspecific_ok(void **state)
{
	static const struct nv nv[] = {
		{ "NewInternalPort", "8080" },
		{ "NewInternalClient", "192.168.77.10" },
		{ "NewEnabled", "1" },
		{ "NewPortMappingDescription", "natmapd tcp 8080" },
		{ "NewLeaseDuration", NULL },	/* counts down */
	};

	soap_file(*state, 200, 0, "", nv, TU_ARRAY_LEN(nv));
}

static void
test_soap_getgeneric_ok(void **state)
{
	/* only the out arguments natmapd reads are kept */
	static const struct nv nv[] = {
		{ "NewRemoteHost", "" },
		{ "NewExternalPort", "8081" },
		{ "NewProtocol", "TCP" },
		{ "NewInternalPort", "8080" },
		{ "NewInternalClient", "192.168.77.11" },
		{ "NewEnabled", "1" },
		{ "NewPortMappingDescription", "natmapd tcp 8080" },
		{ "NewLeaseDuration", NULL },
	};

	soap_file(*state, 200, 0, "", nv, TU_ARRAY_LEN(nv));
}

static void
test_soap_addany_ok(void **state)
{
	static const struct nv nv[] = {
		{ "NewReservedPort", "8081" },
	};

	soap_file(*state, 200, 0, "", nv, TU_ARRAY_LEN(nv));
}

static void
test_soap_getstatusinfo(void **state)
{
	static const struct nv nv[] = {
		{ "NewConnectionStatus", "Connected" },
		{ "NewLastConnectionError", "ERROR_NONE" },
		{ "NewUptime", NULL },
	};

	soap_file(*state, 200, 0, "", nv, TU_ARRAY_LEN(nv));
}

static void
test_soap_error_714(void **state)
{
	soap_file(*state, 500, UPNP_ERR_NO_SUCH_ENTRY, "NoSuchEntryInArray",
	    NULL, 0);
}

static void
test_soap_error_718(void **state)
{
	soap_file(*state, 500, UPNP_ERR_CONFLICT, "ConflictInMappingEntry",
	    NULL, 0);
}

static void
test_soap_error_713(void **state)
{
	soap_file(*state, 500, 713, "SpecifiedArrayIndexInvalid", NULL, 0);
}

static void
test_soap_error_606(void **state)
{
	soap_file(*state, 500, UPNP_ERR_NOT_AUTHORIZED, "Action not authorized",
	    NULL, 0);
}

static void
test_soap_chunked_body(void **state)
{
	static const struct nv nv[] = {
		{ "NewExternalIPAddress", "198.51.100.23" },
	};
	struct upnp_reply rep;
	size_t len;
	char *body = tu_read(*state, &len);

	assert_int_equal(upnp_soap_parse(body, len, 200, &rep), 0);
	assert_int_equal(rep.errcode, 0);
	assert_int_equal(rep.nvalues, 1);
	assert_string_equal(upnp_reply_get(&rep, nv[0].name), nv[0].value);
	free(body);
}

/* errorCode must be a number: the whole answer is refused otherwise. */
static void
test_soap_errorcode_nan(void **state)
{
	struct upnp_reply rep;
	size_t len;
	char *body = read_body(*state, &len);

	assert_int_equal(upnp_soap_parse(body, len, 500, &rep), -1);
	assert_int_equal(upnp_soap_parse(body, len, 200, &rep), -1);
	free(body);
}

static int
soap_fault(const char *code, const char *desc, int status,
    struct upnp_reply *rep)
{
	char xml[1024];
	int n;

	n = snprintf(xml, sizeof(xml), "<s:Envelope><s:Body><s:Fault>"
	    "<faultcode>s:Client</faultcode><faultstring>UPnPError"
	    "</faultstring><detail><UPnPError><errorCode>%s</errorCode>"
	    "<errorDescription>%s</errorDescription></UPnPError></detail>"
	    "</s:Fault></s:Body></s:Envelope>", code, desc);
	return upnp_soap_parse(xml, (size_t)n, status, rep);
}

static void
test_soap_errorcodes(void **state)
{
	static const char *const bad[] = {
		"", "x", "718x", "7 18", "0", "-718", "10000", "99999999999",
		"0x2ce", "ConflictInMappingEntry",
	};
	struct upnp_reply rep;
	char desc[100];
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(bad); i++)
		if (soap_fault(bad[i], "x", 500, &rep) != -1)
			fail_msg("errorCode \"%s\" accepted", bad[i]);
	assert_int_equal(soap_fault("1", "", 500, &rep), 0);
	assert_int_equal(rep.errcode, 1);
	assert_int_equal(soap_fault("9999", "x", 500, &rep), 0);
	assert_int_equal(rep.errcode, 9999);
	/* an error is an error whatever the HTTP status */
	assert_int_equal(soap_fault("718", "ConflictInMappingEntry", 200, &rep),
	    0);
	assert_int_equal(rep.errcode, 718);
	/* descriptions: control bytes made harmless, too long dropped */
	assert_int_equal(soap_fault("725", "Only\x01Permanent\x1b[0m\xff", 500,
	    &rep), 0);
	assert_int_equal(rep.errcode, 725);
	assert_string_equal(rep.errdesc, "Only?Permanent?[0m?");
	memset(desc, 'd', sizeof(desc));
	desc[63] = '\0';
	assert_int_equal(soap_fault("501", desc, 500, &rep), 0);
	assert_string_equal(rep.errdesc, desc);
	desc[63] = 'd';
	desc[64] = '\0';
	assert_int_equal(soap_fault("501", desc, 500, &rep), 0);
	assert_int_equal(rep.errcode, 501);
	assert_string_equal(rep.errdesc, "");
	/* no description at all */
	assert_int_equal(upnp_soap_parse("<errorCode>402</errorCode>", 26, 500,
	    &rep), 0);
	assert_int_equal(rep.errcode, 402);
	assert_string_equal(rep.errdesc, "");
}

static void
test_soap_not_soap(void **state)
{
	static const char ok[] = "<s:Envelope><s:Body><u:AddPortMappingResponse/>"
	    "</s:Body></s:Envelope>";
	struct upnp_reply rep;
	char *big;

	(void)state;
	/* not a UPnP error and not HTTP 200 */
	assert_int_equal(upnp_soap_parse(ok, sizeof(ok) - 1, 500, &rep), -1);
	assert_int_equal(upnp_soap_parse(ok, sizeof(ok) - 1, 404, &rep), -1);
	assert_int_equal(upnp_soap_parse("x", 1, 500, &rep), -1);
	/* empty or huge bodies */
	assert_int_equal(upnp_soap_parse("", 0, 200, &rep), -1);
	big = malloc(256 * 1024 + 1);
	assert_non_null(big);
	memset(big, ' ', 256 * 1024 + 1);
	memcpy(big, ok, sizeof(ok) - 1);
	assert_int_equal(upnp_soap_parse(big, 256 * 1024, 200, &rep), 0);
	assert_int_equal(upnp_soap_parse(big, 256 * 1024 + 1, 200, &rep), -1);
	free(big);
	/* a success with values natmapd reads */
	assert_int_equal(upnp_soap_parse(ok, sizeof(ok) - 1, 200, &rep), 0);
	assert_int_equal(rep.errcode, 0);
	assert_int_equal(rep.nvalues, 0);
}

/*
 * upnp-msg.h: "-1 if it is neither" a success nor a UPnPError.  A router
 * that answers 200 with an HTML page has not mapped anything.
 */
static void
test_soap_200_not_soap(void **state)
{
	static const char *const bodies[] = {
		"<html><body>Login required</body></html>",
		"OK",
		"\r\n",
	};
	struct upnp_reply rep;
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(bodies); i++)
		if (upnp_soap_parse(bodies[i], strlen(bodies[i]), 200, &rep) !=
		    -1)
			fail_msg("200 \"%s\" taken for a SOAP answer",
			    bodies[i]);
}

static void
test_soap_values(void **state)
{
	static const char xml[] =
	    "<s:Envelope><s:Body><u:GetSpecificPortMappingEntryResponse>"
	    "<NewInternalPort>8080</NewInternalPort>"
	    "<NewInternalClient>192.168.1.10</NewInternalClient>"
	    "<NewEnabled>1</NewEnabled>"
	    "<NewPortMappingDescription>a\x01" "b\x7f" "c</NewPortMappingDescription>"
	    "<NewLeaseDuration>0</NewLeaseDuration>"
	    "<NewUnknown>x</NewUnknown>"
	    "</u:GetSpecificPortMappingEntryResponse></s:Body></s:Envelope>";
	struct upnp_reply rep;
	char big[400];
	int n;

	(void)state;
	assert_int_equal(upnp_soap_parse(xml, sizeof(xml) - 1, 200, &rep), 0);
	assert_int_equal(rep.nvalues, 5);
	assert_string_equal(upnp_reply_get(&rep, "NewPortMappingDescription"),
	    "a?b?c");
	assert_string_equal(upnp_reply_get(&rep, "NewLeaseDuration"), "0");
	assert_null(upnp_reply_get(&rep, "NewUnknown"));
	/* empty values are values */
	assert_int_equal(upnp_soap_parse("<s:Envelope><u:GetExternalIPAddress"
	    "Response><NewExternalIPAddress></NewExternalIPAddress></u:"
	    "GetExternalIPAddressResponse></s:Envelope>", 135, 200, &rep), 0);
	assert_string_equal(upnp_reply_get(&rep, "NewExternalIPAddress"), "");
	/* 127 bytes fit; miniupnpc cuts longer values to 127 */
	n = snprintf(big, sizeof(big), "<s:Envelope><u:XResponse>"
	    "<NewPortMappingDescription>%0127d</NewPortMappingDescription>"
	    "</u:XResponse></s:Envelope>", 0);
	assert_int_equal(upnp_soap_parse(big, (size_t)n, 200, &rep), 0);
	assert_int_equal(strlen(upnp_reply_get(&rep,
	    "NewPortMappingDescription")), 127);
	n = snprintf(big, sizeof(big), "<s:Envelope><u:XResponse>"
	    "<NewPortMappingDescription>%0128d</NewPortMappingDescription>"
	    "</u:XResponse></s:Envelope>", 0);
	assert_int_equal(upnp_soap_parse(big, (size_t)n, 200, &rep), 0);
	assert_int_equal(strlen(upnp_reply_get(&rep,
	    "NewPortMappingDescription")), 127);
	assert_int_equal(rep.nvalues, 1);
}

static void
test_strerror(void **state)
{
	(void)state;
	/* never NULL, whatever the library knows */
	assert_non_null(upnp_strerror(9999));
	assert_non_null(upnp_strerror(-1));
	assert_string_equal(upnp_strerror(UPNP_ERR_CONFLICT),
	    "ConflictInMappingEntry");
	assert_string_equal(upnp_strerror(UPNP_ERR_NO_SUCH_ENTRY),
	    "NoSuchEntryInArray");
	assert_string_equal(upnp_strerror(UPNP_ERR_ONLY_PERMANENT),
	    "OnlyPermanentLeasesSupported");
	assert_string_equal(upnp_strerror(UPNP_ERR_NOT_AUTHORIZED),
	    "Action not authorized");
	assert_string_equal(upnp_strerror(UPNP_ERR_INVALID_ARGS),
	    "Invalid Args");
	assert_string_equal(upnp_strerror(UPNP_ERR_ACTION_FAILED),
	    "Action Failed");
	assert_non_null(upnp_strerror(UPNP_ERR_SAME_PORT_VALUES));
	assert_non_null(upnp_strerror(UPNP_ERR_EXT_PORT_WILDCARD));
	assert_non_null(upnp_strerror(UPNP_ERR_NO_PORT_MAPS_AVAIL));
	/* some text for any code */
	assert_non_null(upnp_strerror(9999));
	assert_non_null(upnp_strerror(1));
	assert_non_null(upnp_strerror(-1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_ok),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_url_cleared),
		cmocka_unit_test(test_url_check),
		TU_FILE_TEST(test_desc_miniupnpd, MINIUPNPD "http-rootdesc.resp"),
		TU_FILE_TEST(test_desc_wanppp1_only,
		    "handmade/desc-wanppp1-only.xml"),
		TU_FILE_TEST(test_desc_wanip1_and_wanppp1,
		    "handmade/desc-wanppp1-wanip1.xml"),
		TU_FILE_TEST(test_desc_wanip1_and_wanppp1,
		    "handmade/desc-wanip1-wanppp1.xml"),
		TU_FILE_TEST(test_desc_igd2_urlbase,
		    "handmade/desc-igd2-wanip2-urlbase.xml"),
		TU_FILE_TEST(test_desc_absolute_control,
		    "handmade/desc-wanip1-absolute.xml"),
		TU_FILE_TEST(test_desc_three_services,
		    "handmade/desc-igd2-three-services.xml"),
		TU_FILE_TEST(test_desc_unusable,
		    "handmade/desc-no-wan-service.xml"),
		TU_FILE_TEST(test_desc_unusable,
		    "handmade/desc-wanip1-no-controlurl.xml"),
		TU_FILE_TEST(test_desc_unusable,
		    MINIUPNPD "http-wanipcn-scpd.resp"),
		cmocka_unit_test(test_desc_garbage),
		cmocka_unit_test(test_desc_long_control_url),
		cmocka_unit_test(test_soap_build),
		cmocka_unit_test(test_soap_build_refuses),
		cmocka_unit_test(test_soap_build_sizes),
		TU_FILE_TEST(test_soap_build_as_captured,
		    MINIUPNPD "soap-getexternalipaddress.req"),
		TU_FILE_TEST(test_soap_build_as_captured,
		    MINIUPNPD "soap-getexternalipaddress-v1.req"),
		TU_FILE_TEST(test_soap_build_as_captured,
		    MINIUPNPD "soap-addportmapping-ok.req"),
		TU_FILE_TEST(test_soap_build_as_captured,
		    MINIUPNPD "soap-addportmapping-v1-ok.req"),
		TU_FILE_TEST(test_soap_build_as_captured,
		    MINIUPNPD "soap-addanyportmapping-ok.req"),
		TU_FILE_TEST(test_soap_build_as_captured,
		    MINIUPNPD "soap-getspecificportmappingentry-ok.req"),
		TU_FILE_TEST(test_soap_build_as_captured,
		    MINIUPNPD "soap-deleteportmapping-ok.req"),
		TU_FILE_TEST(test_soap_success_empty,
		    MINIUPNPD "soap-addportmapping-ok.resp"),
		TU_FILE_TEST(test_soap_success_empty,
		    MINIUPNPD "soap-addportmapping-v1-ok.resp"),
		TU_FILE_TEST(test_soap_success_empty,
		    MINIUPNPD "soap-deleteportmapping-ok.resp"),
		TU_FILE_TEST(test_soap_success_empty,
		    MINIUPNPD "soap-deleteportmapping-missing.resp"),
		TU_FILE_TEST(test_soap_getexternalipaddress,
		    MINIUPNPD "soap-getexternalipaddress.resp"),
		TU_FILE_TEST(test_soap_getexternalipaddress,
		    MINIUPNPD "soap-getexternalipaddress-v1.resp"),
		TU_FILE_TEST(test_soap_getspecific_ok,
		    MINIUPNPD "soap-getspecificportmappingentry-ok.resp"),
		TU_FILE_TEST(test_soap_getgeneric_ok,
		    MINIUPNPD "soap-getgenericportmappingentry-ok.resp"),
		TU_FILE_TEST(test_soap_addany_ok,
		    MINIUPNPD "soap-addanyportmapping-ok.resp"),
		TU_FILE_TEST(test_soap_getstatusinfo,
		    MINIUPNPD "soap-getstatusinfo.resp"),
		TU_FILE_TEST(test_soap_error_714,
		    MINIUPNPD "soap-getspecificportmappingentry-714.resp"),
		TU_FILE_TEST(test_soap_error_718,
		    MINIUPNPD "soap-addportmapping-718-conflict.resp"),
		TU_FILE_TEST(test_soap_error_718,
		    MINIUPNPD "soap-addportmapping-718-securemode.resp"),
		TU_FILE_TEST(test_soap_error_713,
		    MINIUPNPD "soap-getgenericportmappingentry-713.resp"),
		TU_FILE_TEST(test_soap_error_606,
		    MINIUPNPD "soap-deleteportmapping-otherhost.resp"),
		TU_FILE_TEST(test_soap_chunked_body,
		    "handmade/soap-chunked-getexternalipaddress.body"),
		TU_FILE_TEST(test_soap_errorcode_nan,
		    "handmade/soap-errorcode-nan.resp"),
		cmocka_unit_test(test_soap_errorcodes),
		cmocka_unit_test(test_soap_not_soap),
		cmocka_unit_test(test_soap_200_not_soap),
		cmocka_unit_test(test_soap_values),
		cmocka_unit_test(test_strerror),
	};

	return TU_RUN("upnp-msg", tests);
}
