/* SPDX-License-Identifier: ISC */
/* UPnP IGD codec: URLs, device descriptions and SOAP messages, no I/O. */
#ifndef NATMAPD_UPNP_MSG_H
#define NATMAPD_UPNP_MSG_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define UPNP_SVC_PREFIX		"urn:schemas-upnp-org:service:"
#define UPNP_SVC_WANIP2		"urn:schemas-upnp-org:service:WANIPConnection:2"
#define UPNP_SVC_WANIP1		"urn:schemas-upnp-org:service:WANIPConnection:1"
#define UPNP_SVC_WANPPP1	"urn:schemas-upnp-org:service:WANPPPConnection:1"

/* UPnP error codes natmapd acts on. */
#define UPNP_ERR_INVALID_ARGS		402
#define UPNP_ERR_ACTION_FAILED		501
#define UPNP_ERR_NOT_AUTHORIZED		606
#define UPNP_ERR_BAD_INDEX		713
#define UPNP_ERR_NO_SUCH_ENTRY		714
#define UPNP_ERR_CONFLICT		718
#define UPNP_ERR_SAME_PORT_VALUES	724
#define UPNP_ERR_ONLY_PERMANENT		725
#define UPNP_ERR_EXT_PORT_WILDCARD	726
#define UPNP_ERR_NO_PORT_MAPS_AVAIL	728

struct upnp_url {
	struct in_addr	addr;
	uint16_t	port;
	char		host[32];	/* "a.b.c.d:port" for the Host header */
	char		path[256];
};

struct upnp_igd {
	char	control_url[256];
	char	service[128];		/* the chosen WAN*Connection service type */
	int	version;		/* 1 or 2 (of the service) */
};

struct upnp_arg {
	const char	*name;
	const char	*value;
};

#define UPNP_SOAP_MAX_VALUES	16

struct upnp_reply {
	int		errcode;	/* 0 on success, the UPnP errorCode otherwise */
	char		errdesc[64];
	size_t		nvalues;
	struct {
		char	name[48];
		char	value[128];
	}		values[UPNP_SOAP_MAX_VALUES];
};

/* Parse an http:// URL whose host is an IPv4 literal. */
int	upnp_url_parse(const char *url, struct upnp_url *);

/* What upnp_url_check thinks of a URL a host named. */
enum upnp_url_verdict {
	UPNP_URL_OK = 0,
	UPNP_URL_UNUSABLE,	/* not an http:// URL with an IPv4 literal */
	UPNP_URL_OTHER_HOST,	/* names a host other than the one that sent it */
	UPNP_URL_OFF_LAN,	/* the sender is off the subnet and not the gateway */
};

/*
 * May natmapd connect to url, named by the host at from (the sender of an
 * SSDP answer, or the host a description came from)?  Only if the URL's host
 * is from itself, and from is on the subnet local/netmask or is the gateway;
 * a netmask of INADDR_ANY trusts the gateway alone.  *u is filled when the
 * URL parses.
 */
int	upnp_url_check(const char *url, struct in_addr from,
	    struct in_addr local, struct in_addr netmask,
	    struct in_addr gateway, struct upnp_url *u);
/*
 * Pick the WAN connection service of a root description (WANIPConnection:2,
 * then :1, then WANPPPConnection:1) and resolve its control URL against
 * the description's URL.  -1 when the device offers none.
 */
int	upnp_desc_parse(const char *xml, size_t len, const char *descurl,
	    struct upnp_igd *);
/* Build a whole HTTP request for a SOAP action; returns its length or -1. */
int	upnp_soap_build(char *buf, size_t len, const struct upnp_url *ctl,
	    const char *service, const char *action, const struct upnp_arg *,
	    size_t nargs);
/* Parse a SOAP response body (success or UPnPError); -1 if it is neither. */
int	upnp_soap_parse(const char *body, size_t len, int http_status,
	    struct upnp_reply *);
const char *upnp_reply_get(const struct upnp_reply *, const char *name);
const char *upnp_strerror(int code);

#endif
