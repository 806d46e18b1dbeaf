/* SPDX-License-Identifier: ISC */
/* Name resolution off the event loop: getaddrinfo() in a child process. */
#ifndef NATMAPD_RESOLVE_H
#define NATMAPD_RESOLVE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define RESOLVE_MAX_ADDRS	8
#define RESOLVE_TIMEOUT_MS	5000

struct resolve_req;

/* n addresses (port set), or n 0 with err saying why; req is freed after. */
typedef void (*resolve_cb)(struct resolve_req *,
    const struct sockaddr_storage *addrs, size_t n, const char *err,
    void *arg);

/*
 * Resolve host (a name or an address literal) for UDP or TCP (socktype
 * SOCK_DGRAM or SOCK_STREAM) and port.  A literal is answered without a
 * child, but still through the loop (cb never runs inside this call).
 * family AF_UNSPEC, AF_INET or AF_INET6.  NULL with errno on failure.
 */
struct resolve_req *resolve_start(const char *host, uint16_t port,
	    int family, int socktype, resolve_cb, void *arg);
void	resolve_cancel(struct resolve_req *);

/* Parse an address literal into ss with the port: 0, or -1 if not a literal. */
int	resolve_literal(const char *host, uint16_t port,
	    struct sockaddr_storage *ss);

#endif
