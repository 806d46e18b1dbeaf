/* SPDX-License-Identifier: ISC */
/* The rung below the gateway protocols: NAT bindings kept open with STUN, reported only once proven reachable. */
#ifndef NATMAPD_FALLBACK_H
#define NATMAPD_FALLBACK_H

#include <stdint.h>

struct config;

/*
 * For each UDP port of the configuration's map statements, a socket of
 * its own on a local port from the fallback-ports range
 * keeps a binding open on the NAT: a STUN server (the configuration's
 * stun-server statements, the first that answers) says which public
 * address and port the binding has, and RFC 5780's filtering test from
 * the same socket (a Binding request asking the server to answer from its
 * other address and port) proves that anyone may send to it.  What
 * arrives there is forwarded to the service (forward.c), at the local
 * address toward the STUN server and the mapped port.
 *
 * Each binding is reported through status_fallback_update() (method
 * "stun"): "verified" (the answer from the other address came: reachable),
 * "filtered" (it did not: the NAT drops what the binding did not ask
 * for), "unverified" (no server could test it).  The status table shows
 * it only while the gateway protocols have nothing for the mapping.
 *
 * A Binding request from the socket every FALLBACK_KEEPALIVE_MS keeps the
 * binding open and notices a new public endpoint, which is tested and
 * reported again; a binding that changed between two of them halves the
 * interval, down to FALLBACK_KEEPALIVE_MIN_MS.
 *
 * TCP ports are kept by fallback-tcp.c, which this module starts,
 * stops and rechecks with its own.  Local ports come from the
 * configuration's fallback-ports (FALLBACK_PORT_FIRST..LAST by default).
 */

#define FALLBACK_PORT_FIRST	40000
#define FALLBACK_PORT_LAST	59999
#define FALLBACK_MAX		64	/* bindings; more UDP ports are not kept */
#define FALLBACK_KEEPALIVE_MS	15000	/* RFC 8085 3.1.3's floor */
#define FALLBACK_KEEPALIVE_MIN_MS 5000
#define FALLBACK_RETRY_MS	30000	/* after no server answered */
#define FALLBACK_SESSIONS	64	/* forwarded UDP sessions per binding */

/* The configuration (copied): its UDP map statements and STUN servers. */
void	fallback_configure(const struct config *);
/*
 * Keep the bindings (again); nothing without STUN servers or UDP ports.
 * Runs beside the gateway search: what it finds is shown once that
 * search ends with nothing.  Idempotent.
 */
void	fallback_start(void);
/* A gateway maps the ports: close the bindings and withdraw what was reported. */
void	fallback_stop(void);
/* The network changed: ask for every binding's endpoint again now. */
void	fallback_recheck(void);
size_t	fallback_count(void);	/* bindings kept now */

#endif
