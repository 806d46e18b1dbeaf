/* SPDX-License-Identifier: ISC */
/* What natmapd asks of the operating system about its network. */
#ifndef NATMAPD_OSDEP_H
#define NATMAPD_OSDEP_H

#include <sys/types.h>

#include <net/if.h>
#include <netinet/in.h>

#include <stddef.h>

/*
 * The IPv4 default route's gateway; with ifname set, only a route out of
 * that interface.  ifout (IF_NAMESIZE) receives the interface.
 */
int	osdep_default_gateway(const char *ifname, struct in_addr *gw,
	    char *ifout);
/* The IPv4 address of an interface. */
int	osdep_if_addr(const char *ifname, struct in_addr *);
/* The netmask of the interface address addr (a local address). */
int	osdep_addr_netmask(struct in_addr addr, struct in_addr *mask);
/* The source address the kernel would use toward dst (no packet is sent). */
int	osdep_source_addr(struct in_addr dst, struct in_addr *);

/*
 * The IPv6 default route's next hop (often link-local, hence the
 * interface index); with ifname set, only a route out of that interface.
 */
int	osdep_default_gateway6(const char *ifname, struct in6_addr *gw,
	    unsigned int *ifindex);
/* A global unicast IPv6 address (2000::/3) of an interface. */
int	osdep_if_addr6(const char *ifname, struct in6_addr *);

/* An IPv6 address of the host, and what the system says of it. */
struct osdep_addr6 {
	struct in6_addr	 addr;
	unsigned int	 ifindex;
	unsigned int	 flags;		/* OSDEP_ADDR6_* */
};
#define OSDEP_ADDR6_TEMPORARY	0x01	/* privacy address (RFC 8981) */
#define OSDEP_ADDR6_DEPRECATED	0x02	/* preferred lifetime over */
#define OSDEP_ADDR6_TENTATIVE	0x04	/* DAD not done, or failed */
/*
 * Up to max of the host's IPv6 addresses, every scope, in the system's
 * order; how many, or -1.  A system that cannot tell a flag leaves it 0.
 */
int	osdep_addrs6(struct osdep_addr6 *, size_t max);
/*
 * An IPv6 socket picks, where the system lets it choose, a public (stable)
 * source address over a temporary one (RFC 5014); -1 where it cannot.
 */
int	osdep_prefer_public_src(int fd);

/*
 * Zero-copy relaying (the forwarder): a non-blocking pipe holding about
 * size bytes, and moving up to len bytes from in to out where one of them
 * is that pipe, without a copy through user space.  -1 with ENOSYS where
 * the system has no such thing: the caller copies with read and write.
 */
int	osdep_pipe(int fds[2], size_t size);
ssize_t	osdep_splice(int in, int out, size_t len);

/*
 * A TCP socket's connect sends at most 1 + n SYNs (n >= 1) before it
 * gives up; -1 with errno set (ENOPROTOOPT where it cannot be told).
 */
int	osdep_tcp_syn_retries(int fd, int n);

#endif
