/* SPDX-License-Identifier: ISC */
/* Linux: the default routes from /proc/net/route and /proc/net/ipv6_route, interface addresses. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "osdep.h"

int
osdep_default_gateway(const char *ifname, struct in_addr *gw, char *ifout)
{
	char line[256], ifn[IF_NAMESIZE + 1] = "";
	unsigned int dst, gateway, flags, mask, metric, best_metric = ~0u;
	int found = 0;
	FILE *fp;

	if ((fp = fopen("/proc/net/route", "re")) == NULL)
		return -1;
	/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%16s %x %x %x %*d %*d %u %x", ifn, &dst,
		    &gateway, &flags, &metric, &mask) != 6)
			continue;
		if (dst != 0 || mask != 0 || !(flags & 0x2) || gateway == 0)
			continue;	/* not a default route via a gateway */
		if (ifname != NULL && strcmp(ifn, ifname) != 0)
			continue;
		if (found && metric >= best_metric)
			continue;
		gw->s_addr = gateway;	/* already in network order */
		if (ifout != NULL) {
			ifn[IF_NAMESIZE - 1] = '\0';
			memcpy(ifout, ifn, IF_NAMESIZE);
		}
		best_metric = metric;
		found = 1;
	}
	fclose(fp);
	if (!found) {
		errno = ENETUNREACH;
		return -1;
	}
	return 0;
}

/* An address of family in an entry, or its netmask. */
static const void *
sa_addr(const struct sockaddr *sa, int family)
{
	if (family == AF_INET)
		return &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	return &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
}

/*
 * The first address of family on ifname (any interface if NULL) that
 * ok(address, arg) takes, into out (len bytes); its netmask into mask
 * (len bytes) unless NULL.
 */
static int
if_addr(const char *ifname, int family, int (*ok)(const void *, const void *),
    const void *arg, void *out, void *mask, size_t len)
{
	struct ifaddrs *ifa, *p;
	const void *a;
	int found = 0;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (p = ifa; p != NULL && !found; p = p->ifa_next) {
		if (p->ifa_addr == NULL || p->ifa_addr->sa_family != family ||
		    (ifname != NULL && strcmp(p->ifa_name, ifname) != 0) ||
		    (mask != NULL && p->ifa_netmask == NULL))
			continue;
		a = sa_addr(p->ifa_addr, family);
		if (ok != NULL && !ok(a, arg))
			continue;
		memcpy(out, a, len);
		if (mask != NULL)
			memcpy(mask, sa_addr(p->ifa_netmask, family), len);
		found = 1;
	}
	freeifaddrs(ifa);
	if (!found) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	return 0;
}

int
osdep_if_addr(const char *ifname, struct in_addr *addr)
{
	return if_addr(ifname, AF_INET, NULL, NULL, addr, NULL, sizeof(*addr));
}

static int
same4(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in_addr)) == 0;
}

int
osdep_addr_netmask(struct in_addr addr, struct in_addr *mask)
{
	struct in_addr found;

	return if_addr(NULL, AF_INET, same4, &addr, &found, mask,
	    sizeof(found));
}

int
osdep_source_addr(struct in_addr dst, struct in_addr *src)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, r = -1;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = dst;
	sin.sin_port = htons(9);
	/* A UDP connect only picks the route and source; nothing is sent. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0) {
		*src = sin.sin_addr;
		r = 0;
	}
	close(fd);
	return r;
}

/* 32 hex digits, as /proc/net/ipv6_route writes an address. */
static int
hex_addr6(const char *s, struct in6_addr *a)
{
	unsigned int v;
	int i;

	for (i = 0; i < 16; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		a->s6_addr[i] = (uint8_t)v;
	}
	return 0;
}

int
osdep_default_gateway6(const char *ifname, struct in6_addr *gw,
    unsigned int *ifindex)
{
	char line[256], dst[33], nh[33], ifn[IF_NAMESIZE + 1];
	unsigned int plen, metric, flags, best_metric = ~0u;
	struct in6_addr a;
	int found = 0;
	FILE *fp;

	if ((fp = fopen("/proc/net/ipv6_route", "re")) == NULL)
		return -1;
	/* dst plen src plen nexthop metric refcnt use flags ifname */
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%32s %x %*32s %*x %32s %x %*x %*x %x %16s",
		    dst, &plen, nh, &metric, &flags, ifn) != 6)
			continue;
		if (plen != 0 || strspn(dst, "0") != 32 || !(flags & 0x2) ||
		    hex_addr6(nh, &a) == -1 || IN6_IS_ADDR_UNSPECIFIED(&a))
			continue;	/* not a default route via a router */
		if (ifname != NULL && strcmp(ifn, ifname) != 0)
			continue;
		if (found && metric >= best_metric)
			continue;
		*gw = a;
		*ifindex = if_nametoindex(ifn);
		best_metric = metric;
		found = *ifindex != 0;
	}
	fclose(fp);
	if (!found) {
		errno = ENETUNREACH;
		return -1;
	}
	return 0;
}

/* Global unicast (2000::/3): what the internet can reach. */
static int
global6(const void *a, const void *arg)
{
	(void)arg;
	return (((const struct in6_addr *)a)->s6_addr[0] & 0xe0) == 0x20;
}

int
osdep_if_addr6(const char *ifname, struct in6_addr *addr)
{
	return if_addr(ifname, AF_INET6, global6, NULL, addr, NULL,
	    sizeof(*addr));
}

/* The IFA_F_* bits /proc/net/if_inet6 prints (linux/if_addr.h). */
#define IF_INET6_TEMPORARY	0x01
#define IF_INET6_OPTIMISTIC	0x04
#define IF_INET6_DADFAILED	0x08
#define IF_INET6_DEPRECATED	0x20
#define IF_INET6_TENTATIVE	0x40

int
osdep_addrs6(struct osdep_addr6 *out, size_t max)
{
	char line[256], hex[33];
	unsigned int ifindex, plen, scope, flags;
	size_t n = 0;
	FILE *fp;

	/* address ifindex prefix-length scope flags ifname, all in hex */
	if ((fp = fopen("/proc/net/if_inet6", "re")) == NULL)
		return -1;
	while (n < max && fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%32s %x %x %x %x", hex, &ifindex, &plen,
		    &scope, &flags) != 5 || strlen(hex) != 32 ||
		    hex_addr6(hex, &out[n].addr) == -1)
			continue;
		out[n].ifindex = ifindex;
		out[n].flags = 0;
		if (flags & IF_INET6_TEMPORARY)
			out[n].flags |= OSDEP_ADDR6_TEMPORARY;
		if (flags & IF_INET6_DEPRECATED)
			out[n].flags |= OSDEP_ADDR6_DEPRECATED;
		if ((flags & IF_INET6_DADFAILED) || ((flags &
		    IF_INET6_TENTATIVE) && !(flags & IF_INET6_OPTIMISTIC)))
			out[n].flags |= OSDEP_ADDR6_TENTATIVE;
		n++;
	}
	fclose(fp);
	return (int)n;
}

/* linux/in6.h's, which cannot be included beside netinet/in.h */
#ifndef IPV6_PREFER_SRC_PUBLIC
#define IPV6_PREFER_SRC_PUBLIC	0x0002
#endif

int
osdep_prefer_public_src(int fd)
{
#ifdef IPV6_ADDR_PREFERENCES
	int v = IPV6_PREFER_SRC_PUBLIC;

	return setsockopt(fd, IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, &v,
	    sizeof(v));
#else
	(void)fd;
	errno = ENOPROTOOPT;
	return -1;
#endif
}

int
osdep_pipe(int fds[2], size_t size)
{
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	/* the kernel rounds up to pages; the default (64 KiB) if refused */
	(void)fcntl(fds[0], F_SETPIPE_SZ, (int)size);
	return 0;
}

ssize_t
osdep_splice(int in, int out, size_t len)
{
	return splice(in, NULL, out, NULL, len,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

int
osdep_tcp_syn_retries(int fd, int n)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &n, sizeof(n));
}
