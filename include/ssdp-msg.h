/* SPDX-License-Identifier: ISC */
/* SSDP message codec: M-SEARCH requests, search responses and NOTIFY, no I/O. */
#ifndef NATMAPD_SSDP_MSG_H
#define NATMAPD_SSDP_MSG_H

#include <stddef.h>

#define SSDP_PORT		1900
#define SSDP_MCAST_ADDR		"239.255.255.250"
#define SSDP_ST_IGD2		"urn:schemas-upnp-org:device:InternetGatewayDevice:2"
#define SSDP_ST_IGD1		"urn:schemas-upnp-org:device:InternetGatewayDevice:1"

enum ssdp_kind {
	SSDP_RESPONSE = 1,	/* HTTP/1.1 200 OK to an M-SEARCH */
	SSDP_ALIVE,		/* NOTIFY ssdp:alive */
	SSDP_BYEBYE,		/* NOTIFY ssdp:byebye */
};

struct ssdp_msg {
	int	kind;
	char	location[256];	/* empty for byebye */
	char	st[128];	/* ST of a response, NT of a NOTIFY */
	char	usn[256];
	long	bootid;		/* BOOTID.UPNP.ORG, -1 if absent */
	int	igd;		/* 1 or 2 for an InternetGatewayDevice or its WAN services, else 0 */
};

/* Build an M-SEARCH; mx < 0 for a unicast search (no MX header).  Returns length or -1. */
int	ssdp_build_msearch(char *buf, size_t len, const char *host, int port,
	    const char *st, int mx);
/* Parse one datagram; -1 with *err set when it is not a usable SSDP message. */
int	ssdp_parse(const char *buf, size_t len, struct ssdp_msg *,
	    const char **err);

#endif
