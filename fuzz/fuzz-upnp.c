/* SPDX-License-Identifier: ISC */
/* Fuzz target: UPnP URLs, device descriptions and SOAP answers (upnp-msg.c). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upnp-msg.h"
#include "fuzz.h"

static void
url(const char *s)
{
	struct upnp_url u;
	char req[4096];
	static const struct upnp_arg args[] = {
		{ "NewRemoteHost", "" },
		{ "NewExternalPort", "8080" },
		{ "NewProtocol", "TCP" },
	};

	struct in_addr from, local, mask, gw;
	int v;

	/* The fetch rule: only the sender itself, on the subnet or the gateway. */
	from.s_addr = htonl(0xc0a84d01);	/* 192.168.77.1 */
	local.s_addr = htonl(0xc0a84d0a);
	mask.s_addr = htonl(0xffffff00);
	gw = from;
	v = upnp_url_check(s, from, local, mask, gw, &u);
	CHECK(v >= UPNP_URL_OK && v <= UPNP_URL_OFF_LAN);
	if (v == UPNP_URL_OK)
		CHECK(u.addr.s_addr == from.s_addr);
	if (upnp_url_parse(s, &u) == -1)
		return;
	CHECK(u.port != 0);
	CHECK(u.path[0] == '/');
	CHECK(memchr(u.host, '\0', sizeof(u.host)) != NULL);
	CHECK(upnp_soap_build(req, sizeof(req), &u, UPNP_SVC_WANIP2,
	    "DeletePortMapping", args, 3) > 0);
}

/* Every "http://" URL in the text, up to a blank, quote or tag. */
static void
urls(const char *s)
{
	char one[512];
	const char *p;
	size_t n;

	url(s);
	for (p = s; (p = strstr(p, "http://")) != NULL; p++) {
		n = strcspn(p, " \t\r\n\"'<>");
		if (n >= sizeof(one))
			n = sizeof(one) - 1;
		memcpy(one, p, n);
		one[n] = '\0';
		url(one);
	}
}

static void
xml(const char *buf, size_t len)
{
	struct upnp_igd igd;
	struct upnp_reply rep;
	size_t i;

	if (upnp_desc_parse(buf, len, "http://192.168.77.1:5000/rootDesc.xml",
	    &igd) == 0) {
		CHECK(memchr(igd.control_url, '\0', sizeof(igd.control_url)));
		CHECK(igd.version == 1 || igd.version == 2);
		url(igd.control_url);
	}
	(void)upnp_desc_parse(buf, len, "http://1.2.3.4", &igd);
	if (upnp_soap_parse(buf, len, 200, &rep) == 0) {
		CHECK(rep.nvalues <= UPNP_SOAP_MAX_VALUES);
		for (i = 0; i < rep.nvalues; i++) {
			CHECK(memchr(rep.values[i].value, '\0',
			    sizeof(rep.values[i].value)) != NULL);
			CHECK(upnp_reply_get(&rep, rep.values[i].name) != NULL);
		}
		(void)upnp_strerror(rep.errcode);
	}
	if (upnp_soap_parse(buf, len, 500, &rep) == 0) {
		CHECK(rep.errcode > 0 && rep.errcode <= 9999);
		CHECK(memchr(rep.errdesc, '\0', sizeof(rep.errdesc)) != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *p;
	char *s;

	/* the parsers get exactly size bytes, no NUL after them */
	xml(buf, size);
	/* an HTTP response: its body too */
	if (size > 5 && memcmp(buf, "HTTP/", 5) == 0) {
		for (p = buf; p + 4 <= buf + size; p++)
			if (memcmp(p, "\r\n\r\n", 4) == 0) {
				xml(p + 4, size - (size_t)(p + 4 - buf));
				break;
			}
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	urls(s);
	free(s);
	return 0;
}
