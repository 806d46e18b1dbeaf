/* SPDX-License-Identifier: ISC */
/* Hole punching between two natmapd nodes: --expose and --connect over a direct, encrypted path. */
#ifndef NATMAPD_PUNCH_H
#define NATMAPD_PUNCH_H

#include <stddef.h>
#include <stdint.h>

struct config;

/*
 * A node exposes services (expose statements) to the other nodes of its
 * rendezvous network, and makes other nodes' services appear here
 * (connect statements).  Two nodes meet through natmapd-rendezvous
 * (SIGNAL: CONNECT, OFFER, ANSWER, doc/hole-punching.md), agree on
 * session keys, and punch a direct UDP path: authenticated probes to each
 * other's candidates, paced from PUNCH_PROBE_FIRST_MS, until both have
 * heard the other.  A UDP service's datagrams then travel over that path
 * as flows (mux-msg.h's flow frame), encrypted (session.h).
 *
 * Timing without synchronized clocks (libp2p's DCUtR): the initiator
 * measures the time from its CONNECT to the OFFER (the round trip
 * through the rendezvous) and starts probing half that time after it
 * sends the ANSWER; the responder starts when the ANSWER, or the first
 * probe, arrives.  PUNCH_ATTEMPTS attempts of PUNCH_ATTEMPT_MS, each with
 * fresh keys and nonces; the last one started by the other side.
 *
 * Once up, the path is checked every PUNCH_KEEPALIVE_MS; silent for
 * PUNCH_PATH_DEAD_MS it is probed again, and punched again through the
 * rendezvous if that fails.
 */
#define PUNCH_PROBE_FIRST_MS	50	/* the first probes' interval */
#define PUNCH_PROBE_MAX_MS	1000	/* growing by half up to this */
#define PUNCH_ATTEMPT_MS	5000	/* probing, one attempt */
/*
 * While probing, a probe of the peer's is answered with an ACK and with a
 * probe of ours back to where it came from, at most every
 * PUNCH_TRIGGERED_MS; one that came in the attempt's last
 * PUNCH_TRIGGERED_GRACE_MS keeps it going that much longer for the ACK.
 */
#define PUNCH_TRIGGERED_MS	100
#define PUNCH_TRIGGERED_GRACE_MS	1000
#define PUNCH_ATTEMPTS		3
#define PUNCH_SIGNAL_WAIT_MS	3000	/* for an OFFER, then again */
#define PUNCH_KEEPALIVE_MS	5000
#define PUNCH_PATH_DEAD_MS	15000
/*
 * A direct path while a relay could carry it (relay fallback, and the
 * rendezvous offers a TURN server): a keep-alive every
 * PUNCH_KEEPALIVE_STANDBY_MS, its answer looked for half-way, then one
 * every PUNCH_PROBE_LATE_MS while none comes; given up for the relay when
 * none came for PUNCH_PATH_FAILOVER_MS and PUNCH_FAILOVER_PROBES
 * keep-alives went unanswered over its last 2 s (a timer that fired late
 * on a loaded machine is not silence).  With the relay's setup: traffic
 * again about 4 s after the direct path's end.
 */
#define PUNCH_KEEPALIVE_STANDBY_MS	2000
#define PUNCH_PROBE_LATE_MS		500
#define PUNCH_PATH_FAILOVER_MS		4000
#define PUNCH_FAILOVER_PROBES		3
/* then this long at most for our allocation, before the CONNECT goes */
#define PUNCH_FAILOVER_RELAY_WAIT_MS	1000
#define PUNCH_RETRY_MS		30000	/* after the attempts failed, doubling */
#define PUNCH_RETRY_MAX_MS	600000
/*
 * A carrier that was up and ended (a record that failed authentication, a
 * reset) is never started again under the same keys (its records' nonces
 * would repeat): the connecting side opens a new session through the
 * rendezvous after PUNCH_RECARRIER_MS, doubling to PUNCH_RETRY_MAX_MS for
 * each carrier lost in a row; one that lasted PUNCH_RECARRIER_STABLE_MS
 * starts the doubling again.
 */
#define PUNCH_RECARRIER_MS	2000
/* A TCP client before the carrier waits this long at most, this many at once. */
#define PUNCH_CLIENT_WAIT_MS	10000
#define PUNCH_CLIENT_WAIT_MAX	64
#define PUNCH_RECARRIER_STABLE_MS	60000
/*
 * A direct path found while the TCP carrier runs through the relay: a
 * direct carrier is tried for PUNCH_UPGRADE_MS; the relayed one, kept for
 * its streams, is checked every PUNCH_DRAIN_MS and closed at the second
 * check in a row that finds none.
 */
#define PUNCH_UPGRADE_MS	10000
#define PUNCH_DRAIN_MS		1000
#define PUNCH_FLOW_IDLE_MS	120000	/* a UDP flow silent this long ends */
/*
 * A path that neither node uses closes, carrier and all, after
 * PUNCH_UNUSED_MS (checked every 10 s): no connect here names the other
 * node, no attempt is under way, no stream is open on the carrier either
 * way, no flow's datagram passed, and the other node's probes say that it
 * has no connect to this one.  Every keep-alive probe carries that word
 * (PROBE_WANTED), so that the exposing side keeps the path of a connect
 * that nobody uses at the moment, and closes one that no connect names.
 */
#define PUNCH_UNUSED_MS		30000
#define PUNCH_PEERS_MAX		64
#define PUNCH_FLOWS_MAX		1024	/* each side, in all */

/*
 * Take the configuration's settings and its expose and connect statements
 * (copied).  With the same rendezvous, network, key, node and ports, the
 * services change one at a time: the other services' paths, carriers and
 * flows stay.  What punch_runtime_*() added stays over a reload, unless
 * the configuration names it (then it is the configuration's) or another
 * in its place.
 */
/* Once, before anything else here. */
void	punch_init(void);
void	punch_configure(const struct config *);
/* Start (nothing without expose or connect statements), stop; idempotent. */
void	punch_start(void);
void	punch_stop(void);

/*
 * natmapctl expose, unexpose, connect, disconnect: services at run time,
 * until removed or natmapd exits.  0, or -1 with a message in err: no
 * rendezvous configured, a name or a port in use, no such service, one
 * from the configuration file (removed there, and reloaded).
 */
struct conf_expose;
struct conf_connect;
int	punch_runtime_expose(const struct conf_expose *, char *err, size_t);
int	punch_runtime_unexpose(const char *name, char *err, size_t);
int	punch_runtime_connect(const struct conf_connect *, char *err, size_t);
int	punch_runtime_disconnect(const char *node, const char *service,
	    char *err, size_t);

#endif
