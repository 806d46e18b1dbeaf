/* SPDX-License-Identifier: ISC */
/* Watching the host's network for changes that call for a new probe (rtnetlink on Linux). */
#ifndef NATMAPD_NETWATCH_H
#define NATMAPD_NETWATCH_H

#include <stddef.h>

/* What a batch of kernel messages changed (bits). */
#define NETWATCH_ROUTE		0x01	/* an IPv4/IPv6 default route came or went */
#define NETWATCH_ADDR		0x02	/* a global or private address came or went */
#define NETWATCH_LINK		0x04	/* an interface went up or down */

/* A non-blocking socket subscribed to route, address and link changes; -1 on error. */
int	netwatch_open(void);
/* Drain the socket; returns the NETWATCH_* bits seen, 0 for nothing that matters, -1 on error. */
int	netwatch_read(int fd);
/*
 * Classify one buffer of netlink messages as received (the codec behind
 * netwatch_read, for tests and fuzzing): NETWATCH_* bits, -1 if malformed.
 */
int	netwatch_parse(const void *buf, size_t len);

#endif
