/* SPDX-License-Identifier: ISC */
/* STUN-kept TCP bindings: a connection held open from the port that inbound connections reach, proven with a rendezvous dial-back. */
#ifndef NATMAPD_FALLBACK_TCP_H
#define NATMAPD_FALLBACK_TCP_H

#include <stddef.h>
#include <stdint.h>

struct config;

/*
 * For each TCP port of the configuration's map statements (at most
 * FALLBACK_MAX), a local port P from the fallback-ports range gets two
 * sockets, both with SO_REUSEADDR and SO_REUSEPORT: one listening, whose
 * connections are forwarded to the service (forward.c), and one connected
 * from P to a server, which makes and keeps the NAT's binding for P.
 *
 * With rendezvous servers (and a network and key), the connection goes to
 * the first that answers: a STUN Binding request over it says the
 * binding's public endpoint (and the server's OTHER-ADDRESS), then a REACH
 * asks the server to connect to that endpoint from its other address: the
 * connection arrives at the listener, which writes the REACH's nonce on it
 * instead of forwarding it.  The server's answer says whether it read the
 * nonce back: "verified", else "filtered" (the NAT refused a connection
 * from a host the binding never contacted).  Without a rendezvous, the
 * stun-server entries are asked over TCP: the endpoint is known but nobody
 * can prove it reachable: "unverified".
 *
 * A Binding request every FALLBACK_TCP_KEEPALIVE_MS keeps the connection
 * (and the binding) alive; a binding not verified is tested again every
 * few of them.  A connection that ends, or a server that stops answering
 * within FALLBACK_TCP_ANSWER_MS, is reset and made again from P at once
 * (then after FALLBACK_RETRY_MS), and its endpoint is proven again.
 * Connections are closed with a reset, so that no TIME_WAIT keeps P from
 * connecting again.
 *
 * Reported through status_fallback_update() (proto DRV_TCP, method "stun").
 */

#define FALLBACK_TCP_KEEPALIVE_MS	25000	/* under the rendezvous's 30 s TCP idle limit */
#define FALLBACK_TCP_ANSWER_MS		5000	/* connect, or a Binding answer */
#define FALLBACK_TCP_REACH_MS		8000	/* the server dials for 3 s */
#define FALLBACK_TCP_CONNS		64	/* forwarded connections per binding */

void	fallback_tcp_configure(const struct config *);
void	fallback_tcp_start(void);	/* idempotent */
void	fallback_tcp_stop(void);
size_t	fallback_tcp_recheck(void);	/* the network changed: ask again now; how many */
size_t	fallback_tcp_count(void);	/* bindings with a connection up */

#endif
