/* SPDX-License-Identifier: ISC */
/* Linux: the default route from /proc/net/route, interface addresses. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
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

int
osdep_if_addr(const char *ifname, struct in_addr *addr)
{
	struct ifaddrs *ifa, *p;
	int found = 0;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL || p->ifa_addr->sa_family != AF_INET ||
		    strcmp(p->ifa_name, ifname) != 0)
			continue;
		*addr = ((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr;
		found = 1;
		break;
	}
	freeifaddrs(ifa);
	if (!found) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	return 0;
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
