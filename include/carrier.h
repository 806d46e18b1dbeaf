/* SPDX-License-Identifier: ISC */
/* The TCP carrier between two nodes: simultaneous open, HELLO, encrypted records, streams to local sockets. */
#ifndef NATMAPD_CARRIER_H
#define NATMAPD_CARRIER_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "punch-msg.h"
#include "session.h"

/*
 * A node punches TCP from one local port (the carrier port, random in
 * fallback-ports): a listener there, a STUN Binding over TCP from it to a
 * rendezvous server to learn its public endpoint (asked again every
 * CARRIER_STUN_MS, the connection reset after each answer so that no
 * TIME_WAIT holds the port), and, during an attempt, a connect() from it
 * to every TCP candidate of the other node at once, again after
 * CARRIER_RETRY_MS on average (CARRIER_RETRY_JITTER percent either way,
 * at random, so that the two sides' tries do not keep one phase) when
 * refused or reset (some NATs reset unsolicited SYNs), until the
 * attempt's deadline.  The other node does the same:
 * the two SYNs cross (TCP simultaneous open), or one reaches the other's
 * listener.  The port is one number for IPv4 and IPv6 (two listeners,
 * an IPv6 one where the system has IPv6 and the number is free there):
 * each candidate is connected to from a socket of its family.
 *
 * On each connection made, the attempt's initiator sends its HELLO (the
 * session ID, the attempt and an HMAC under its TCP sending key); the
 * responder answers with its own HELLO on the first connection whose
 * HELLO is right, and that connection is the carrier: the others are
 * closed.  IPv6 is preferred (as for the UDP path, punch.c): while
 * the other node has an IPv6 candidate, the initiator holds its HELLO
 * on an IPv4 connection for CARRIER_V6_HEAD_MS from the start, so that
 * an IPv6 connection made meanwhile is the carrier; after that the first
 * connection of either family is.  Then records (session.h) carry the
 * multiplexer's frames (mux.h): each stream a local client's connection
 * to a service.  A record that fails ends the carrier (its streams are
 * reset).  A PING
 * every CARRIER_PING_MS measures the round trip; a carrier silent for
 * CARRIER_DEAD_MS is closed.
 */
#define CARRIER_STUN_MS		25000
#define CARRIER_RETRY_MS	200	/* on average: */
#define CARRIER_RETRY_JITTER	50	/* +-50%: 100 to 300 ms */
#define CARRIER_PING_MS		5000
#define CARRIER_DEAD_MS		20000
#define CARRIER_V6_HEAD_MS	1000	/* IPv6's head start over IPv4 */
#define CARRIER_HELLO_LEN	(PUNCH_SESSION_ID_LEN + 1 + 32)
#define CARRIER_OUT_MAX		(256 * 1024)	/* sealed, not yet written */

struct carrier;

/* What the carrier asks its owner (punch.c). */
struct carrier_ops {
	/*
	 * The peer opened a stream to service, over a carrier that runs
	 * through a relay (relayed 1) or not: 0 and *target (where to
	 * connect) when it may, else a MUX_RST_* reason.
	 */
	int	(*service)(const char *peer, const char *service, int relayed,
		    struct sockaddr_storage *target, void *arg);
	/* The carrier is up (HELLO exchanged), or down (why, never NULL). */
	void	(*up)(struct carrier *, void *arg);
	void	(*down)(struct carrier *, const char *why, void *arg);
};

struct carrier_params {
	const char		*peer;		/* the other node's name */
	int			 initiator;	/* this side leads the attempt */
	uint8_t			 sid[PUNCH_SESSION_ID_LEN];
	uint8_t			 attempt;
	const struct session_keys *keys;	/* copied */
	const struct sockaddr_storage *cand;	/* the peer's TCP candidates */
	int			 ncand;
	uint64_t		 deadline;	/* loop clock: give up then */
	/*
	 * The carrier's number in the session: 0 the first; 1 one made
	 * beside a carrier through the relay once a direct path is found
	 * (punch.c), both up at once.  Its TCP keys are derived apart
	 * (carrier_keys), so no record nonce is used twice under one key and
	 * a connection of the one never passes the other's HELLO.
	 */
	uint8_t			 gen;
};

/* The carrier port: 0 and its number, or -1 (logged). */
int	carrier_port_open(uint16_t first, uint16_t last, uint16_t *port);
void	carrier_port_close(void);
/*
 * Move the carrier port to another number of the same range, at random:
 * 0 and the new number, or -1 (none free; nothing changed).  Carriers up
 * and tries going keep the old one; the listeners move, and the public
 * endpoint is learned again (AF_UNSPEC meanwhile).
 */
int	carrier_port_move(uint16_t *port);
/* The port listens on IPv6 too. */
int	carrier_port_has6(void);
/* Learn, and keep learning, the port's public endpoint from server. */
void	carrier_stun_start(const struct sockaddr_storage *server);
/* The public endpoint, AF_UNSPEC while not known. */
const struct sockaddr_storage *carrier_srflx(void);

/* Start connecting; NULL on out of memory (logged). */
struct carrier *carrier_start(const struct carrier_params *,
	    const struct carrier_ops *, void *arg);
/*
 * A TCP connection made some other way (an RFC 6062 data connection
 * through the TURN relay, relay.h): fd, connected and non-blocking, is
 * taken (closed by the carrier) and tried as any connection of the
 * attempt: the initiator's HELLO on it, the first right one wins.  -1
 * (fd closed) when the carrier is up already or has no room.
 */
int	carrier_take_conn(struct carrier *, int fd);
/* Close it, its streams reset; no callback. */
void	carrier_free(struct carrier *);
int	carrier_is_up(const struct carrier *);
/* It was up once (a connection won the HELLO), gone since or not. */
int	carrier_was_up(const struct carrier *);
/*
 * A connect() of c's found its four numbers taken by another connection
 * of ours (EADDRNOTAVAIL): a half-open one the listener has from the peer,
 * or one closing; none of c's SYNs left on them.
 */
int	carrier_held(const struct carrier *);
/* Up on a connection given by carrier_take_conn (through the relay). */
int	carrier_relayed(const struct carrier *);
/* The connection's remote end, once up. */
const struct sockaddr_storage *carrier_remote(const struct carrier *);
/*
 * Carry the local client connection fd (taken: closed by the carrier) as
 * a stream to the peer's service.  0, or -1 (fd closed) when the carrier
 * is not up or takes no more streams.
 */
int	carrier_open_stream(struct carrier *, int fd, const char *service);
/*
 * End the streams to service: those opened here (local, a connect's
 * clients) or those the peer opened (an exposed service's).  Each is
 * reset both ways.  How many there were.
 */
unsigned int carrier_end_streams(struct carrier *, const char *service,
	    int local);
/* Counters for the status. */
struct carrier_stats {
	uint64_t	bytes_in, bytes_out;	/* of the connection */
	uint64_t	rtt;			/* ms, the last PING's; 0 none */
	uint32_t	streams;
};
void	carrier_get_stats(const struct carrier *, struct carrier_stats *);

/*
 * The TCP keys of carrier number gen of a session: k's for 0, else each
 * one HMAC-SHA256(k's, label, gen), so both sides derive the same pair.
 * Only tcp_send, tcp_recv and the cipher are set in out.
 */
void	carrier_keys(const struct session_keys *k, uint8_t gen,
	    struct session_keys *out);

/* The HELLO of one side: what its HMAC covers (for tests). */
void	carrier_hello(const uint8_t key[SESSION_KEY_LEN],
	    const uint8_t sid[PUNCH_SESSION_ID_LEN], uint8_t attempt,
	    uint8_t out[CARRIER_HELLO_LEN]);

#endif
