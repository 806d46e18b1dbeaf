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
/* REACH: a node's burst, then one every interval; TCP dial-backs at once. */
#define RDV_REACH_BURST		5
#define RDV_REACH_INTERVAL_MS	6000
#define RDV_REACH_INFLIGHT	256
#define RDV_REACH_RECENT	1024	/* REACHes remembered for retransmissions */
/*
 * SIGNAL: a node's burst, then one every interval (a CONNECT, OFFER,
 * ANSWER exchange is 3; 16 is five attempts at once with room to spare,
 * and ten a second after that is far more than hole punching needs).
 */
#define RDV_SIGNAL_BURST	16
#define RDV_SIGNAL_INTERVAL_MS	100
/* rdv_server_answer: no answer now, one comes when a dial-back is done. */
#define RDV_ANSWER_LATER	(-1)

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
	uint64_t	refused;	/* authenticated, answered with an error at once (full, REACH, SIGNAL) */
	uint64_t	reach;		/* REACH requests taken (authenticated, not a retransmission) */
	uint64_t	reached;	/* dial-backs done: UDP nonce sent, TCP nonce read back */
	uint64_t	not_reached;	/* TCP dial-backs refused, timed out, wrong nonce... */
	uint64_t	rate_limited;	/* REACH answered 429 (also in refused) */
	uint64_t	signal;		/* SIGNAL requests taken (authenticated, fresh) */
	uint64_t	signalled;	/* SIGNAL indications sent on (answered success) */
	uint64_t	signal_refused;	/* SIGNAL answered with an error (also in refused) */
	uint64_t	retransmits;	/* a REACH again from its source: answered again or ignored */
	uint64_t	turn_creds;	/* REGISTER successes with TURN credentials */
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
/*
 * Hand every node a REGISTER success answers TURN credentials
 * (rdv-turn.h) for the TURN server at relay, made with coturn's
 * static-auth-secret secret (len bytes); relay NULL: none.  The secret
 * held before is wiped.
 */
void	rdv_server_set_turn(const struct sockaddr_storage *relay,
	    const char *secret, size_t len);
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
/*
 * For tests: the answers to REACHes whose dial-back ended later go to
 * sink (the request's socket index, TCP or not, its source) instead of
 * the sockets; NULL for the sockets.
 */
void	rdv_server_set_reach_sink(void (*sink)(const uint8_t *, size_t,
	    int sock, int tcp, const struct sockaddr_storage *to));
/*
 * For tests: SIGNAL indications go to sink (the index of the socket they
 * would leave from, TCP or not, where to) instead of the sockets; NULL
 * for the sockets.
 */
void	rdv_server_set_signal_sink(void (*sink)(const uint8_t *, size_t,
	    int sock, int tcp, const struct sockaddr_storage *to));
/* TCP dial-backs under way. */
size_t	rdv_server_reach_pending(void);
/* The registration of node in network now: 0 and *info, or -1. */
int	rdv_server_lookup(const char *network, const char *node,
	    struct rdv_reg_info *info);

/*
 * The answer to one STUN message that came on the socket of index sock
 * (bit 1: the alternate address, bit 0: the alternate port; 0 without
 * RFC 5780) from peer, over TCP when tcp: its length in out and, in
 * *from, the index of the socket to send it from and in *to where; 0 for
 * no answer (dropped).  The server's sockets are only named by the local
 * addresses given, local[4] (AF_UNSPEC where there is none).  A message
 * of our methods (rdv_is_rdv) is checked (structure, network, MAC,
 * TIMESTAMP, replay: each failure dropped and counted) and served: a
 * REGISTER from the registration table, with the answer under the
 * network's key to peer from sock; the server's state, not the
 * sockets, is used: rdv_server_set_networks first.
 *
 * A SIGNAL that passes every check (the sender registered, 403; within
 * its rate, 429; the PEER registered in the same network, 404) is sent
 * on as an indication to where PEER registered from: UDP from the socket
 * its REGISTER came to, TCP on the connection it came on (503 when that
 * connection does not read, 404 when it is gone).  The answer, success
 * or error, goes to the sender.
 *
 * A REACH is the one thing that does I/O here, and only when it passes
 * every check (registered, rate, local[2] the alternate address, room):
 * its dial-back from a fresh port of local[2]'s address to peer's
 * address.  For UDP the nonce is sent and the answer returned at once;
 * for TCP, RDV_ANSWER_LATER: the answer is sent when the dial-back ends,
 * from sock to peer (UDP) or on the TCP client's connection being served.
 * A REACH again from the same source with the same bytes (a
 * retransmission) is not dialled again: RDV_ANSWER_LATER while its
 * dial-back is under way, the same answer after.
 */
int	rdv_server_answer(const uint8_t *req, size_t len, int sock, int tcp,
	    const struct sockaddr_storage *peer,
	    const struct sockaddr_storage local[4], int rfc5780,
	    uint8_t *out, size_t outlen, int *from,
	    struct sockaddr_storage *to);

#endif
