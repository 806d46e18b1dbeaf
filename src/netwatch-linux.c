/* SPDX-License-Identifier: ISC */
/* Linux: default route, address and link changes from rtnetlink. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netwatch.h"

#define NETWATCH_ALL		(NETWATCH_ROUTE | NETWATCH_ADDR | NETWATCH_LINK)
#define NETWATCH_GROUPS		(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | \
				    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | \
				    RTMGRP_IPV6_ROUTE)
#define NETWATCH_MAX_READS	64		/* datagrams per netwatch_read */
#define NETWATCH_BUFSIZE	32768		/* a link message is ~1.5 KiB */
#define NETWATCH_RCVBUF		(256 * 1024)	/* a burst as a link goes down */
#define NETWATCH_NEW_LINK	0xffffffffu	/* ifi_change of a new link */

int
netwatch_open(void)
{
	struct sockaddr_nl snl;
	int fd, rcvbuf = NETWATCH_RCVBUF, saved;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (fd == -1)
		return -1;
	/* Capped by net.core.rmem_max; an overrun still reads as a change. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&snl, 0, sizeof(snl));
	snl.nl_family = AF_NETLINK;
	snl.nl_groups = NETWATCH_GROUPS;
	if (bind(fd, (struct sockaddr *)&snl, sizeof(snl)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
netwatch_read(int fd)
{
	union {
		struct nlmsghdr	 hdr;	/* aligns the buffer for the macros */
		char		 buf[NETWATCH_BUFSIZE];
	} u;
	struct sockaddr_nl snl;
	socklen_t sl;
	ssize_t n;
	int i, r, bits = 0;

	for (i = 0; i < NETWATCH_MAX_READS; i++) {
		memset(&snl, 0, sizeof(snl));
		sl = sizeof(snl);
		n = recvfrom(fd, u.buf, sizeof(u.buf), MSG_TRUNC,
		    (struct sockaddr *)&snl, &sl);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* the kernel dropped messages: assume all */
				log_debug("netwatch: receive buffer overrun");
				bits |= NETWATCH_ALL;
				continue;
			}
			return -1;
		}
		if (sl != sizeof(snl) || snl.nl_family != AF_NETLINK ||
		    snl.nl_pid != 0) {
			log_debug("netwatch: message from port %u dropped",
			    (unsigned int)snl.nl_pid);
			continue;
		}
		if ((size_t)n > sizeof(u.buf)) {
			log_debug("netwatch: %zd-byte message truncated", n);
			bits |= NETWATCH_ALL;
			continue;
		}
		if ((r = netwatch_parse(u.buf, (size_t)n)) == -1) {
			log_debug("netwatch: malformed %zd-byte message dropped",
			    n);
			continue;
		}
		bits |= r;
	}
	return bits;
}

/* A default route of the main table came or went. */
static int
route_bits(const struct nlmsghdr *nh)
{
	const struct rtmsg *rtm;
	const struct rtattr *rta;
	uint32_t table;
	int left;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return -1;
	rtm = NLMSG_DATA(nh);
	table = rtm->rtm_table;		/* RT_TABLE_COMPAT above 255 */
	left = (int)RTM_PAYLOAD(nh);
	for (rta = RTM_RTA(rtm); RTA_OK(rta, left);
	    rta = RTA_NEXT(rta, left)) {
		if ((rta->rta_type & NLA_TYPE_MASK) != RTA_TABLE)
			continue;
		if (RTA_PAYLOAD(rta) != sizeof(table))
			return -1;
		memcpy(&table, RTA_DATA(rta), sizeof(table));
	}
	if (left > 0)
		return -1;	/* an attribute runs past the message */
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0;
	if (rtm->rtm_dst_len != 0 || table != RT_TABLE_MAIN ||
	    rtm->rtm_type != RTN_UNICAST)
		return 0;
	return NETWATCH_ROUTE;
}

static int
addr_is_loopback(int family, const unsigned char *a)
{
	static const unsigned char v6lo[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return memcmp(a, v6lo, sizeof(v6lo)) == 0;
}

/* An IPv4 address, or an IPv6 address wider than a link, came or went. */
static int
addr_bits(const struct nlmsghdr *nh)
{
	const struct ifaddrmsg *ifa;
	const struct rtattr *rta;
	const unsigned char *local = NULL, *address = NULL, *a;
	uint32_t flags;
	size_t alen;
	int left;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return -1;
	ifa = NLMSG_DATA(nh);
	flags = ifa->ifa_flags;
	if (ifa->ifa_family == AF_INET)
		alen = 4;
	else if (ifa->ifa_family == AF_INET6)
		alen = 16;
	else
		alen = 0;
	left = (int)IFA_PAYLOAD(nh);
	for (rta = IFA_RTA(ifa); RTA_OK(rta, left);
	    rta = RTA_NEXT(rta, left)) {
		switch (rta->rta_type & NLA_TYPE_MASK) {
		case IFA_LOCAL:
		case IFA_ADDRESS:
			if (alen == 0)
				break;
			if (RTA_PAYLOAD(rta) != alen)
				return -1;
			if ((rta->rta_type & NLA_TYPE_MASK) == IFA_LOCAL)
				local = RTA_DATA(rta);
			else
				address = RTA_DATA(rta);
			break;
		case IFA_FLAGS:		/* all the flags, ifa_flags the low 8 */
			if (RTA_PAYLOAD(rta) != sizeof(flags))
				return -1;
			memcpy(&flags, RTA_DATA(rta), sizeof(flags));
			break;
		}
	}
	if (left > 0)
		return -1;	/* an attribute runs past the message */
	if (alen == 0)
		return 0;
	if (ifa->ifa_family == AF_INET6 &&
	    (ifa->ifa_scope == RT_SCOPE_LINK || ifa->ifa_scope == RT_SCOPE_HOST))
		return 0;
	/* An IPv6 address in DAD cannot be used yet; its end is announced. */
	if (nh->nlmsg_type == RTM_NEWADDR && (flags & IFA_F_TENTATIVE) &&
	    !(flags & IFA_F_OPTIMISTIC))
		return 0;
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer's on point-to-point. */
	a = local != NULL ? local : address;
	if (a != NULL && addr_is_loopback(ifa->ifa_family, a))
		return 0;
	return NETWATCH_ADDR;
}

/*
 * An interface went up or down or away.  ifi_change has the flags set by
 * hand (ip link set up/down); carrier (IFF_RUNNING) and operstate changes
 * come from linkwatch with an ifi_change of 0 (netdev_state_change()),
 * which without a record of the old flags could also be a new MAC, MTU or
 * name; wireless extension events (scans) have IFLA_WIRELESS and are left out.
 */
static int
link_bits(const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	int left, wireless = 0;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -1;
	ifi = NLMSG_DATA(nh);
	left = (int)IFLA_PAYLOAD(nh);
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, left);
	    rta = RTA_NEXT(rta, left))
		if ((rta->rta_type & NLA_TYPE_MASK) == IFLA_WIRELESS)
			wireless = 1;
	if (left > 0)
		return -1;	/* an attribute runs past the message */
	/* AF_BRIDGE: a port's state, or a port leaving its bridge (DELLINK) */
	if (ifi->ifi_family != AF_UNSPEC || (ifi->ifi_flags & IFF_LOOPBACK))
		return 0;
	if (nh->nlmsg_type == RTM_DELLINK)
		return NETWATCH_LINK;
	if (ifi->ifi_change == NETWATCH_NEW_LINK)
		return (ifi->ifi_flags & IFF_UP) ? NETWATCH_LINK : 0;
	if (ifi->ifi_change & (IFF_UP | IFF_RUNNING))
		return NETWATCH_LINK;
	if (ifi->ifi_change == 0 && !wireless)
		return NETWATCH_LINK;
	return 0;
}

/*
 * NLMSG_OK for a signed length, which NLMSG_NEXT takes below 0 after
 * a last message without padding.
 */
static int
nlmsg_ok(const struct nlmsghdr *nh, int left)
{
	return left >= 0 && NLMSG_OK(nh, (unsigned int)left);
}

int
netwatch_parse(const void *buf, size_t len)
{
	const struct nlmsghdr *nh;
	int left, r, bits = 0;

	if (((uintptr_t)buf & (NLMSG_ALIGNTO - 1)) != 0 || len > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	left = (int)len;
	for (nh = buf; nlmsg_ok(nh, left); nh = NLMSG_NEXT(nh, left)) {
		switch (nh->nlmsg_type) {
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			r = route_bits(nh);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			r = addr_bits(nh);
			break;
		case RTM_NEWLINK:
		case RTM_DELLINK:
			r = link_bits(nh);
			break;
		default:	/* NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, ... */
			r = 0;
			break;
		}
		if (r == -1) {
			errno = EBADMSG;
			return -1;
		}
		bits |= r;
	}
	/* A header cut short, or a length past the buffer or below a header. */
	if (left > 0) {
		errno = EBADMSG;
		return -1;
	}
	return bits;
}
