/* SPDX-License-Identifier: ISC */
/* Listening for a gateway's PCP and NAT-PMP announcements (224.0.0.1:5350, ff02::1:5350). */
#ifndef NATMAPD_ANNOUNCE_H
#define NATMAPD_ANNOUNCE_H

#include <netinet/in.h>

#include "pcp-msg.h"

/* A socket on port 5350 in the all-hosts group, on the interface of local; -1 on error. */
int	announce_open(struct in_addr local);
/*
 * Read what is there; 1 with *r filled for an announcement from gateway's
 * port 5351 (a PCP ANNOUNCE or a NAT-PMP public address answer), 0 for
 * nothing or anything else (dropped), -1 on a socket error.
 */
int	announce_read(int fd, struct in_addr gateway, struct pcp_response *r);

/* The same for IPv6: port 5350 in ff02::1 on interface ifindex. */
int	announce_open6(unsigned int ifindex);
/* As announce_read, from gateway's port 5351: PCP ANNOUNCE only (NAT-PMP has no IPv6). */
int	announce_read6(int fd, const struct in6_addr *gateway,
	    struct pcp_response *r);

/* A socket on 239.255.255.250:1900 for SSDP NOTIFY, on the interface of local. */
int	announce_ssdp_open(struct in_addr local);
/*
 * Read one datagram: 1 for an ssdp:alive from gateway, with *bootid its
 * BOOTID.UPNP.ORG (-1 if none) and location its LOCATION; 0 for anything
 * else (dropped), -1 on error.
 */
int	announce_ssdp_read(int fd, struct in_addr gateway, long *bootid,
	    char *location, size_t loclen);

#endif
