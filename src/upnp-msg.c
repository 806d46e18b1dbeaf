/* SPDX-License-Identifier: ISC */
/* UPnP IGD messages: description and SOAP parsing through miniupnpc's parsers. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <miniupnpc/igd_desc_parse.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnperrors.h>
#include <miniupnpc/upnpreplyparse.h>

#include "upnp-msg.h"

#define UPNP_MAX_XML	(256 * 1024)

int
upnp_url_parse(const char *url, struct upnp_url *u)
{
	const char *h, *end, *colon, *slash;
	char host[INET_ADDRSTRLEN];
	unsigned long port = 80;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	h = url + 7;
	slash = strchr(h, '/');
	end = slash != NULL ? slash : h + strlen(h);
	colon = memchr(h, ':', (size_t)(end - h));
	hl = (size_t)((colon != NULL ? colon : end) - h);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &u->addr) != 1)
		return -1;
	if (colon != NULL) {
		const char *p = colon + 1;

		if (p == end || end - p > 5)
			return -1;
		port = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return -1;
	}
	u->port = (uint16_t)port;
	snprintf(u->host, sizeof(u->host), "%s:%lu", host, port);
	if (slash == NULL)
		strcpy(u->path, "/");
	else {
		size_t pl = strlen(slash), i;

		if (pl >= sizeof(u->path))
			return -1;
		for (i = 0; i < pl; i++)
			if ((unsigned char)slash[i] <= 0x20 ||
			    (unsigned char)slash[i] >= 0x7f)
				return -1;
		memcpy(u->path, slash, pl + 1);
	}
	return 0;
}

static int
service_rank(const char *type)
{
	if (strcmp(type, UPNP_SVC_WANIP2) == 0)
		return 3;
	if (strcmp(type, UPNP_SVC_WANIP1) == 0)
		return 2;
	if (strcmp(type, UPNP_SVC_WANPPP1) == 0)
		return 1;
	return 0;
}

/* The text of the first <open>...</close> in [from, end), as is; -1 if none fits. */
static int
xml_text(const char *from, const char *end, const char *open,
    const char *close, char *out, size_t outlen)
{
	const char *a, *b;
	size_t ol = strlen(open), cl = strlen(close);

	if ((a = memmem(from, (size_t)(end - from), open, ol)) == NULL)
		return -1;
	a += ol;
	if ((b = memmem(a, (size_t)(end - a), close, cl)) == NULL)
		return -1;
	if (a == b || (size_t)(b - a) >= outlen)
		return -1;
	memcpy(out, a, (size_t)(b - a));
	out[b - a] = '\0';
	return 0;
}

/*
 * miniupnpc's parser keeps two WAN connection services at most; walk every
 * <service> element so that the preference holds whatever their order.
 */
static int
desc_best_service(const char *xml, size_t len, struct IGDdatas_service *best)
{
	const char *p = xml, *end = xml + len, *s, *e;
	struct IGDdatas_service svc;
	int rank, best_rank = 0;

	while ((s = memmem(p, (size_t)(end - p), "<service>", 9)) != NULL) {
		if ((e = memmem(s, (size_t)(end - s), "</service>", 10)) == NULL)
			break;
		memset(&svc, 0, sizeof(svc));
		if (xml_text(s, e, "<serviceType>", "</serviceType>",
		    svc.servicetype, sizeof(svc.servicetype)) == 0 &&
		    xml_text(s, e, "<controlURL>", "</controlURL>",
		    svc.controlurl, sizeof(svc.controlurl)) == 0 &&
		    (rank = service_rank(svc.servicetype)) > best_rank) {
			*best = svc;
			best_rank = rank;
		}
		p = e + 10;
	}
	return best_rank;
}

int
upnp_url_check(const char *url, struct in_addr from, struct in_addr local,
    struct in_addr netmask, struct in_addr gateway, struct upnp_url *u)
{
	if (upnp_url_parse(url, u) == -1)
		return UPNP_URL_UNUSABLE;
	if (u->addr.s_addr != from.s_addr)
		return UPNP_URL_OTHER_HOST;
	if (from.s_addr == gateway.s_addr && gateway.s_addr != INADDR_ANY)
		return UPNP_URL_OK;
	if (netmask.s_addr == INADDR_ANY ||
	    (from.s_addr & netmask.s_addr) != (local.s_addr & netmask.s_addr))
		return UPNP_URL_OFF_LAN;
	return UPNP_URL_OK;
}

int
upnp_desc_parse(const char *xml, size_t len, const char *descurl,
    struct upnp_igd *igd)
{
	struct IGDdatas *data;
	struct IGDdatas_service scanned;
	struct UPNPUrls urls;
	struct IGDdatas_service *best;
	int r = -1, ra, rb, rs;

	memset(igd, 0, sizeof(*igd));
	if (len == 0 || len > UPNP_MAX_XML)
		return -1;
	/* IGDdatas is large; keep it off the stack. */
	if ((data = calloc(1, sizeof(*data))) == NULL)
		return -1;
	/* miniupnpc's parser gives the URL base and handles namespaced tags. */
	parserootdesc(xml, (int)len, data);
	ra = service_rank(data->first.servicetype);
	rb = service_rank(data->second.servicetype);
	best = rb > ra ? &data->second : &data->first;
	memset(&scanned, 0, sizeof(scanned));
	rs = desc_best_service(xml, len, &scanned);
	if (rs > ra && rs > rb)
		best = &scanned;
	if (service_rank(best->servicetype) == 0 || best->controlurl[0] == '\0')
		goto out;
	if (best != &data->first)
		memcpy(&data->first, best, sizeof(data->first));
	memset(&urls, 0, sizeof(urls));
	GetUPNPUrls(&urls, data, descurl, 0);
	if (urls.controlURL != NULL &&
	    strlen(urls.controlURL) < sizeof(igd->control_url)) {
		strcpy(igd->control_url, urls.controlURL);
		snprintf(igd->service, sizeof(igd->service), "%s",
		    data->first.servicetype);
		igd->version = strcmp(igd->service, UPNP_SVC_WANIP2) == 0 ?
		    2 : 1;
		r = 0;
	}
	FreeUPNPUrls(&urls);
out:
	free(data);
	return r;
}

/* Values natmapd sends are numbers, addresses and its own descriptions: check anyway. */
static int
xml_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '<' || *s == '>' || *s == '&' ||
		    (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int
upnp_soap_build(char *buf, size_t len, const struct upnp_url *ctl,
    const char *service, const char *action, const struct upnp_arg *args,
    size_t nargs)
{
	char body[2048];
	size_t i, bl;
	int n;

	n = snprintf(body, sizeof(body),
	    "<?xml version=\"1.0\"?>\r\n"
	    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	    "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
	    "<s:Body><u:%s xmlns:u=\"%s\">", action, service);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -1;
	bl = (size_t)n;
	for (i = 0; i < nargs; i++) {
		if (!xml_safe(args[i].value) || !xml_safe(args[i].name))
			return -1;
		n = snprintf(body + bl, sizeof(body) - bl, "<%s>%s</%s>",
		    args[i].name, args[i].value, args[i].name);
		if (n < 0 || (size_t)n >= sizeof(body) - bl)
			return -1;
		bl += (size_t)n;
	}
	n = snprintf(body + bl, sizeof(body) - bl,
	    "</u:%s></s:Body></s:Envelope>\r\n", action);
	if (n < 0 || (size_t)n >= sizeof(body) - bl)
		return -1;
	bl += (size_t)n;
	n = snprintf(buf, len, "POST %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: natmapd/" PACKAGE_VERSION " UPnP/1.1\r\n"
	    "Content-Type: text/xml; charset=\"utf-8\"\r\n"
	    "SOAPAction: \"%s#%s\"\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "\r\n%s", ctl->path, ctl->host, service, action, bl, body);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* The out arguments of the actions natmapd calls. */
static const char *const upnp_out_args[] = {
	"NewConnectionStatus",
	"NewLastConnectionError",
	"NewUptime",
	"NewExternalIPAddress",
	"NewInternalPort",
	"NewInternalClient",
	"NewEnabled",
	"NewPortMappingDescription",
	"NewLeaseDuration",
	"NewReservedPort",
	"NewRemoteHost",		/* GetGenericPortMappingEntry */
	"NewExternalPort",
	"NewProtocol",
};

static int
copy_clean(char *dst, size_t dstlen, const char *src)
{
	size_t i, l = strlen(src);

	if (l >= dstlen)
		return -1;
	for (i = 0; i < l; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 ||
		    (unsigned char)src[i] >= 0x7f) ? '?' : src[i];
	dst[l] = '\0';
	return 0;
}

int
upnp_soap_parse(const char *body, size_t len, int http_status,
    struct upnp_reply *rep)
{
	struct NameValueParserData pd;
	const char *ec, *ed;
	char *end;
	long code;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	if (len == 0 || len > UPNP_MAX_XML)
		return -1;
	memset(&pd, 0, sizeof(pd));
	ParseNameValue(body, (int)len, &pd);
	ec = GetValueFromNameValueList(&pd, "errorCode");
	if (ec != NULL) {
		code = strtol(ec, &end, 10);
		if (end == ec || *end != '\0' || code <= 0 || code > 9999) {
			ClearNameValueList(&pd);
			return -1;
		}
		rep->errcode = (int)code;
		ed = GetValueFromNameValueList(&pd, "errorDescription");
		if (ed != NULL)
			copy_clean(rep->errdesc, sizeof(rep->errdesc), ed);
		ClearNameValueList(&pd);
		return 0;
	}
	/* Success is a SOAP envelope holding the action's response element. */
	if (http_status != 200 || memmem(body, len, "Envelope", 8) == NULL ||
	    memmem(body, len, "Response", 8) == NULL) {
		ClearNameValueList(&pd);
		return -1;
	}
	for (i = 0; i < sizeof(upnp_out_args) / sizeof(upnp_out_args[0]);
	    i++) {
		const char *v = GetValueFromNameValueList(&pd, upnp_out_args[i]);

		if (v == NULL || rep->nvalues == UPNP_SOAP_MAX_VALUES)
			continue;
		snprintf(rep->values[rep->nvalues].name,
		    sizeof(rep->values[0].name), "%s", upnp_out_args[i]);
		if (copy_clean(rep->values[rep->nvalues].value,
		    sizeof(rep->values[0].value), v) == 0)
			rep->nvalues++;
	}
	ClearNameValueList(&pd);
	return 0;
}

const char *
upnp_reply_get(const struct upnp_reply *rep, const char *name)
{
	size_t i;

	for (i = 0; i < rep->nvalues; i++)
		if (strcmp(rep->values[i].name, name) == 0)
			return rep->values[i].value;
	return NULL;
}

const char *
upnp_strerror(int code)
{
	const char *s;

	/* The codes natmapd acts on, named as in the WANIPConnection specs. */
	switch (code) {
	case UPNP_ERR_INVALID_ARGS:
		return "Invalid Args";
	case UPNP_ERR_ACTION_FAILED:
		return "Action Failed";
	case UPNP_ERR_NOT_AUTHORIZED:
		return "Action not authorized";
	case UPNP_ERR_BAD_INDEX:
		return "SpecifiedArrayIndexInvalid";
	case UPNP_ERR_NO_SUCH_ENTRY:
		return "NoSuchEntryInArray";
	case UPNP_ERR_CONFLICT:
		return "ConflictInMappingEntry";
	case UPNP_ERR_SAME_PORT_VALUES:
		return "SamePortValuesRequired";
	case UPNP_ERR_ONLY_PERMANENT:
		return "OnlyPermanentLeasesSupported";
	case UPNP_ERR_EXT_PORT_WILDCARD:
		return "RemoteHostOnlySupportsWildcard";
	case UPNP_ERR_NO_PORT_MAPS_AVAIL:
		return "NoPortMapsAvailable";
	}
	/* NULL for codes it does not know, in newer miniupnpc. */
	if ((s = strupnperror(code)) == NULL)
		s = "unknown error";
	return s;
}
