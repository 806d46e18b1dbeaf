/* SPDX-License-Identifier: ISC */
/* SSDP (UPnP Device Architecture 1.1/2.0 discovery) message building and parsing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-msg.h"
#include "ssdp-msg.h"

int
ssdp_build_msearch(char *buf, size_t len, const char *host, int port,
    const char *st, int mx)
{
	int n;

	if (mx >= 0)
		n = snprintf(buf, len, "M-SEARCH * HTTP/1.1\r\n"
		    "HOST: %s:%d\r\n"
		    "MAN: \"ssdp:discover\"\r\n"
		    "MX: %d\r\n"
		    "ST: %s\r\n"
		    "\r\n", host, port, mx, st);
	else
		n = snprintf(buf, len, "M-SEARCH * HTTP/1.1\r\n"
		    "HOST: %s:%d\r\n"
		    "MAN: \"ssdp:discover\"\r\n"
		    "ST: %s\r\n"
		    "\r\n", host, port, st);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

static int
copy_value(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	size_t i;

	if (vlen >= dstlen)
		return -1;
	for (i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
			return -1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return 0;
}

static int
has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* IGD version an ST/NT speaks for, 0 if none. */
static int
igd_version(const char *st)
{
	static const struct {
		const char	*prefix;
	} types[] = {
		{ "urn:schemas-upnp-org:device:InternetGatewayDevice:" },
		{ "urn:schemas-upnp-org:service:WANIPConnection:" },
		{ "urn:schemas-upnp-org:service:WANPPPConnection:" },
	};
	size_t i, pl;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		pl = strlen(types[i].prefix);
		if (strncmp(st, types[i].prefix, pl) != 0)
			continue;
		if (strcmp(st + pl, "1") == 0)
			return 1;
		if (strcmp(st + pl, "2") == 0)
			return 2;
	}
	return 0;
}

int
ssdp_parse(const char *buf, size_t len, struct ssdp_msg *m,
    const char **err)
{
	struct http_header_iter it;
	const char *name, *val;
	size_t nlen, vlen;
	long headlen;
	char nts[32] = "";
	int h, notify;

	memset(m, 0, sizeof(*m));
	m->bootid = -1;
	if (len >= 15 && memcmp(buf, "HTTP/1.1 200", 12) == 0)
		notify = 0;
	else if (len >= 17 && memcmp(buf, "NOTIFY * HTTP/1.1", 17) == 0)
		notify = 1;
	else {
		*err = "not an SSDP response or NOTIFY";
		return -1;
	}
	headlen = http_head_end(buf, len);
	if (headlen <= 0) {
		/* Some devices omit the final empty line: take what there is. */
		if (headlen == -1 || memchr(buf, '\0', len) != NULL) {
			*err = "malformed head";
			return -1;
		}
		headlen = (long)len;
	}
	http_header_iter_init(&it, buf, (size_t)headlen);
	while ((h = http_header_next(&it, &name, &nlen, &val, &vlen)) == 1) {
		char *dst = NULL;
		size_t dstlen = 0;

		if (http_token_eq(name, nlen, "location")) {
			dst = m->location;
			dstlen = sizeof(m->location);
		} else if (http_token_eq(name, nlen, notify ? "nt" : "st")) {
			dst = m->st;
			dstlen = sizeof(m->st);
		} else if (http_token_eq(name, nlen, "usn")) {
			dst = m->usn;
			dstlen = sizeof(m->usn);
		} else if (notify && http_token_eq(name, nlen, "nts")) {
			dst = nts;
			dstlen = sizeof(nts);
		} else if (http_token_eq(name, nlen, "bootid.upnp.org")) {
			char tmp[16], *end;

			if (copy_value(tmp, sizeof(tmp), val, vlen) == 0) {
				long v = strtol(tmp, &end, 10);

				if (*end == '\0' && v >= 0 && end != tmp)
					m->bootid = v;
			}
			continue;
		}
		if (dst != NULL && copy_value(dst, dstlen, val, vlen) == -1) {
			*err = "header value too long or not printable";
			return -1;
		}
	}
	if (h == -1) {
		*err = "malformed header line";
		return -1;
	}
	if (notify) {
		if (strcmp(nts, "ssdp:alive") == 0)
			m->kind = SSDP_ALIVE;
		else if (strcmp(nts, "ssdp:byebye") == 0)
			m->kind = SSDP_BYEBYE;
		else {
			*err = "NOTIFY without a known NTS";
			return -1;
		}
	} else
		m->kind = SSDP_RESPONSE;
	if (m->st[0] == '\0') {
		*err = notify ? "no NT header" : "no ST header";
		return -1;
	}
	if (m->kind != SSDP_BYEBYE) {
		if (m->location[0] == '\0') {
			*err = "no LOCATION header";
			return -1;
		}
		if (!has_prefix(m->location, "http://")) {
			*err = "LOCATION is not an http:// URL";
			return -1;
		}
	}
	m->igd = igd_version(m->st);
	return 0;
}
