/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's server: STUN (RFC 8489, RFC 5780) sockets and dispatch. */
#ifndef NATMAPD_RDV_SERVER_H
#define NATMAPD_RDV_SERVER_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "rdv-networks.h"
#include "rdv-registry.h"

#define RDV_PORT_DEFAULT	3480	/* beside coturn's 3478 and 3479 */
/* TCP clients held at once; more are accepted and closed at once. */
#define RDV_TCP_MAX		256
#define RDV_TCP_IDLE_MS		30000	/* a client without a whole message for so long goes */

struct rdv_server_conf {
	struct sockaddr_storage	listen;		/* address and port */
	struct sockaddr_storage	alt;		/* AF_UNSPEC: no RFC 5780 */
	uint16_t		alt_port;	/* with alt only */
	size_t			max_nodes;	/* 0: RDV_REG_NODES_DEFAULT */
};

struct rdv_server_stats {
	uint64_t	udp_in;		/* datagrams read */
	uint64_t	tcp_in;		/* messages read from TCP clients */
	uint64_t	answers;	/* Binding success responses sent */
	uint64_t	errors;		/* error responses sent */
	uint64_t	dropped;	/* not STUN, not a request, unreadable */
	uint64_t	tcp_refused;	/* over RDV_TCP_MAX */
	uint64_t	tcp_closed;	/* idle, garbage or gone */
	/* our methods (rdv-msg.h); each drop also counts in dropped */
	uint64_t	malformed;	/* rdv_parse refused it, or not a request: dropped */
	uint64_t	unknown_network;	/* dropped */
	uint64_t	bad_mac;	/* dropped */
	uint64_t	stale;		/* TIMESTAMP over 30 s off: dropped */
	uint64_t	replayed;	/* transaction ID seen lately: dropped */
	uint64_t	registered;	/* REGISTERs served (new and renewals) */
	uint64_t	refused;	/* authenticated, answered with an error (full, REACH) */
	uint64_t	registrations;	/* held now (rdv_server_get_stats fills it) */
};

/* Open the sockets (2 or 8) and watch them; 0, or -1 with err. */
int	rdv_server_start(const struct rdv_server_conf *, char *err,
	    size_t errlen);
/* Close everything. */
void	rdv_server_stop(void);
/* Take nets (the server owns it from now on), freeing the previous table. */
void	rdv_server_set_networks(struct rdv_networks *nets);
size_t	rdv_server_network_count(void);
void	rdv_server_get_stats(struct rdv_server_stats *);
/* Hold at most max_nodes registrations (forgetting those held). */
void	rdv_server_set_max_nodes(size_t max_nodes);
/*
 * For tests: the wall clock (ms since the epoch; TIMESTAMP, SERVER-TIME)
 * and the monotonic one (ms; expiry) read from these; NULL for the real
 * ones (CLOCK_REALTIME, loop_now()).
 */
void	rdv_server_set_clocks(uint64_t (*wall)(void), uint64_t (*mono)(void));
/* One expiry step now (the server runs one every 250 ms); how many went. */
size_t	rdv_server_expire(void);
/* The registration of node in network now: 0 and *info, or -1. */
int	rdv_server_lookup(const char *network, const char *node,
	    struct rdv_reg_info *info);

/*
 * The answer to one STUN message that came on the socket of index sock
 * (bit 1: the alternate address, bit 0: the alternate port; 0 without
 * RFC 5780) from peer, over TCP when tcp: its length in out and, in
 * *from, the index of the socket to send it from and in *to where; 0 for
 * no answer (dropped).  No I/O: the server's sockets are only named by
 * the local addresses given, local[4] (AF_UNSPEC where there is none).
 * A message of our methods (rdv_is_rdv) is checked (structure, network,
 * MAC, TIMESTAMP, replay: each failure dropped and counted) and a
 * REGISTER served (the registration table, the answer under the
 * network's key to peer from sock); the server's state, not the sockets,
 * is used: rdv_server_set_networks first.
 */
int	rdv_server_answer(const uint8_t *req, size_t len, int sock, int tcp,
	    const struct sockaddr_storage *peer,
	    const struct sockaddr_storage local[4], int rfc5780,
	    uint8_t *out, size_t outlen, int *from,
	    struct sockaddr_storage *to);

#endif
