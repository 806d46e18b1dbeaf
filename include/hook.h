/* SPDX-License-Identifier: ISC */
/* The hook: a program run on every change of a mapping's public endpoint, natmap-compatible. */
#ifndef NATMAPD_HOOK_H
#define NATMAPD_HOOK_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

/*
 * hook.c subscribes to the endpoint events of status.c and runs the hook
 * for each mapping with execve(), off the loop:
 *
 *   PATH public-addr public-port ip4p private-port tcp|udp private-addr
 *
 * (heiher/natmap's order), with NATMAPD_* in a clean environment; its
 * standard output and error go to the log, a line at a time.  One run per
 * mapping at a time: events that come while it runs are folded into one
 * more run with the latest state, and none when the hook already knows
 * that state.
 */

#define HOOK_TIMEOUT_MS		30000	/* then SIGTERM to its process group */
#define HOOK_GRACE_MS		2000	/* then SIGKILL */
#define HOOK_MAX_RUNNING	8	/* at once; the others wait their turn */
#define HOOK_EXIT_WAIT_MS	3000	/* at exit, after the deletes */
#define HOOK_LINE_MAX		400	/* bytes of a line logged; the rest is cut */
#define HOOK_MAX_LINES		100	/* lines logged per run */
#define HOOK_PATH_ENV		"PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* The limits above; the tests shorten them. */
struct hook_limits {
	uint64_t	timeout_ms;
	uint64_t	grace_ms;
	uint64_t	exit_wait_ms;
	size_t		max_running;
};

/* Subscribe to status events (after status_init()); path NULL: no hook yet. */
void	hook_init(const char *path);
/*
 * SIGHUP: the hook to run from now on (NULL: none).  Runs under way go
 * on; a new path is run once with "up" for every mapping reachable now.
 */
void	hook_set_path(const char *path);
/*
 * The peer hook (NULL: none), run on every change of a peer's path
 * (status_subscribe_peers) as PATH NODE PATHKIND ENDPOINT, with
 * NATMAPD_EVENT, _PEER, _PATH, _ENDPOINT, _RELAY and _VIA; set at start
 * and by SIGHUP, when it is told of every path up now.
 */
void	hook_set_peer_path(const char *path);
/* At exit, once the deletes are done: done() when no hook runs or waits, or after exit_wait_ms. */
void	hook_drain(void (*done)(void));
/* SIGTERM to the hooks still running (not waited for), and forget all. */
void	hook_free(void);

void	hook_set_limits(const struct hook_limits *);	/* NULL: the defaults */
size_t	hook_running(void);
size_t	hook_waiting(void);
/* natmap's IP4P address: "2001::PPPP:AAAA:BBBB", port then IPv4, hexadecimal. */
void	hook_ip4p(struct in_addr, uint16_t port, char *, size_t);

#endif
