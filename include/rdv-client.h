/* SPDX-License-Identifier: ISC */
/* The node's side of the rendezvous: REGISTER with each server, REACH for the fallback, SIGNAL for hole punching. */
#ifndef NATMAPD_RDV_CLIENT_H
#define NATMAPD_RDV_CLIENT_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "loop.h"
#include "rdv-msg.h"
#include "rdv-turn.h"
#include "stun-msg.h"

struct config;

/*
 * A node registers with each configured natmapd-rendezvous server over
 * UDP, from one socket of the module's own (one per address family),
 * every RDV_CLIENT_INTERVAL_MS, asking for RDV_CLIENT_LIFETIME seconds:
 * its name, its host candidates (the IPv4 address of the interface
 * toward the gateway, and its global IPv6 one, at the socket's port) and
 * the server-reflexive one the last answer from that server said
 * (XOR-MAPPED-ADDRESS), authenticated under crypto_server_key(secret).
 * An unanswered REGISTER is sent again, RFC 8489's RTO doubling from
 * RDV_CLIENT_RTO_MS, within RDV_CLIENT_BUDGET_MS, each attempt with a new
 * transaction ID and TIMESTAMP (the server drops what it has seen).  Each
 * server's state goes to status_rdv_update(): registered until when, the
 * last round-trip time, the last error.
 */
#define RDV_CLIENT_INTERVAL_MS	25000
#define RDV_CLIENT_LIFETIME	75	/* seconds asked for */
#define RDV_CLIENT_RTO_MS	500
#define RDV_CLIENT_BUDGET_MS	10000
#define RDV_CLIENT_SKEW_WARN_MS	10000	/* a SERVER-TIME this far off: warn once */
#define RDV_CLIENT_TIDS		8	/* attempts of one REGISTER answered to */
/*
 * UDP blocked: a round whose REGISTERs over UDP got not one datagram back
 * from the server within RDV_CLIENT_TCP_AFTER_MS goes on over TCP to the
 * same address and port (natmapd-rendezvous serves both; messages framed
 * by their STUN header's length), with a new budget.  The node stays on
 * TCP while the connection holds, registering every
 * RDV_CLIENT_TCP_INTERVAL_MS (under the server's RDV_TCP_IDLE_MS): the
 * server sends SIGNAL indications on that connection.  The connection
 * lost: registered again over TCP RDV_CLIENT_TCP_AGAIN_MS later; a round
 * without an answer over TCP: the next one tries UDP first again.  While
 * on TCP, the first round RDV_CLIENT_UDP_AGAIN_MS after the last try of
 * UDP sends its REGISTERs over UDP for RDV_CLIENT_TCP_AFTER_MS (anything
 * else still goes over the connection): a datagram back from the server
 * and the node is on UDP again, the connection closed; none, and the
 * round goes on over TCP.
 */
#define RDV_CLIENT_TCP_AFTER_MS	3000
#define RDV_CLIENT_TCP_INTERVAL_MS 20000
#define RDV_CLIENT_TCP_AGAIN_MS	1000
#define RDV_CLIENT_UDP_AGAIN_MS	60000
#define RDV_CLIENT_TCP_OUT	(4 * STUN_MAX_MSG)	/* bytes waiting to go */

/* Who the node is: what every message it sends says and is keyed with. */
struct rdv_client_id {
	char		network[RDV_NETWORK_MAX + 1];
	char		node[RDV_NODE_MAX + 1];
	uint8_t		server_key[CRYPTO_KEY_LEN];	/* never logged */
};

/* What an answer said, once rdv_client_check took it. */
struct rdv_client_answer {
	int		ok;		/* a success answer */
	int		error_code;	/* an error answer: 300-699 */
	char		reason[128];	/* its reason, escaped */
	uint32_t	lifetime;	/* REGISTER success: granted, seconds */
	struct sockaddr_storage mapped;	/* REGISTER success: the srflx */
	uint64_t	server_time;	/* ms since the epoch */
	int64_t		skew_ms;	/* server_time - the local clock */
	int		skewed;		/* |skew_ms| > RDV_CLIENT_SKEW_WARN_MS */
};

/* The id for a network, node and secret (the server key is derived here). */
void	rdv_client_id_init(struct rdv_client_id *, const char *network,
	    const char *node, const uint8_t secret[CRYPTO_KEY_LEN]);
/* Zero an id (its server key); inline: a run without a rendezvous calls it too. */
static inline void
rdv_client_id_wipe(struct rdv_client_id *id)
{
	crypto_wipe(id, sizeof(*id));
}

/*
 * A REGISTER request with ncand candidates and a LIFETIME of lifetime
 * seconds (0: none asked), TIMESTAMP now_ms (the wall clock, ms since the
 * epoch), a new transaction ID from crypto_random put in tid.  The length
 * written to buf, or -1 (no random bytes, a bad candidate, buf too small).
 */
int	rdv_client_register_build(const struct rdv_client_id *,
	    const struct rdv_cand *, int ncand, uint32_t lifetime,
	    uint64_t now_ms, uint8_t tid[STUN_TID_LEN], uint8_t *buf,
	    size_t len);

/*
 * Is buf the answer to the request of method (RDV_REGISTER, RDV_REACH)
 * whose transaction ID is one of the ntid in tids?  It must parse
 * (rdv_parse), be an answer of that method in our network, have a right
 * MAC under the id's server key (rdv_verify) and one of the IDs.  Then 0,
 * the ID's index in *which (if not NULL), and what it said in *a (skew
 * against now_ms, the wall clock); otherwise -1 and *why says why (for
 * the debug log: the answer is to be dropped).
 */
int	rdv_client_check(uint16_t method, const struct rdv_client_id *,
	    const uint8_t (*tids)[STUN_TID_LEN], size_t ntid,
	    const uint8_t *buf, size_t len, uint64_t now_ms,
	    struct rdv_client_answer *a, size_t *which, const char **why);

/*
 * The TURN credentials of a REGISTER success that rdv_client_check took
 * (the same buf and len): 1 and the relay and pair in *t when they open
 * for the id's node (rdv-turn.h), 0 when it carries none, -1 when they do
 * not open (t's username and password zeros).  The taker wipes t.
 */
int	rdv_client_turn_open(const struct rdv_client_id *, const uint8_t *buf,
	    size_t len, struct rdv_turn *t);

/*
 * The TURN relay the rendezvous servers offer and credentials for it, the
 * latest a REGISTER success brought (each brings a new pair; see
 * rdv-turn.h): 0 and *t when there is a pair not yet expired by the wall
 * clock, -1 otherwise.  For the relay module; the username and password
 * must not reach a log, the status or natmapctl.
 */
int	rdv_client_turn(struct rdv_turn *t);

/* A REACH request made by rdv_client_reach_build, for its answer and the dial-back. */
struct rdv_reach {
	uint8_t		tid[STUN_TID_LEN];
	uint8_t		nonce[RDV_NONCE_LEN];
	uint8_t		transport;	/* RDV_TCP, RDV_UDP */
	uint16_t	port;
};

/*
 * A REACH request asking the server to reach port (transport RDV_TCP or
 * RDV_UDP) of the address it sees the request come from: NODE, TIMESTAMP
 * now_ms, a NONCE and a transaction ID from crypto_random, kept in *r.
 * The length written to buf, or -1.  The caller sends it (over the
 * binding's own socket or connection) and reads the answer.
 */
int	rdv_client_reach_build(const struct rdv_client_id *, uint8_t transport,
	    uint16_t port, uint64_t now_ms, struct rdv_reach *r, uint8_t *buf,
	    size_t len);

/*
 * The answer to r: 1 reached (a success: UDP, the nonce was sent; TCP,
 * it was read back), 0 not reached (an error answer: a->error_code and
 * a->reason say why), -1 not its answer (*why says why; drop it).
 */
int	rdv_client_reach_check(const struct rdv_client_id *,
	    const struct rdv_reach *r, const uint8_t *buf, size_t len,
	    uint64_t now_ms, struct rdv_client_answer *a, const char **why);

/*
 * What a REACH answer says of a TCP port that a gateway's rule forwards
 * to a service, not to natmapd: the nonce never comes back there, but a
 * connection made (the SYN-ACK came from behind the rule) shows that the
 * rule forwards, and none at all that it does not.
 */
enum rdv_reach_verdict {
	RDV_REACH_CONNECTED,	/* success; 404 wrong nonce, closed, no nonce */
	RDV_REACH_NO_CONNECTION, /* 404 timed out, unreachable */
	RDV_REACH_NOT_PROVEN,	/* 404 refused, or another 404: a reset */
	RDV_REACH_LIMITED,	/* 429: the node's rate is spent; later */
	RDV_REACH_NOT_TRIED,	/* 403, 500, 501, 503...: no dial-back made */
};
enum rdv_reach_verdict rdv_client_reach_verdict(const struct rdv_client_answer *);
const char *rdv_client_verdict_name(enum rdv_reach_verdict);

/* 1 if a datagram is the UDP dial-back of r: exactly its 16-byte nonce. */
int	rdv_client_is_dialback(const struct rdv_reach *r, const uint8_t *buf,
	    size_t len);

/* The wall clock in ms since the epoch, as TIMESTAMP wants it. */
uint64_t rdv_client_wall_ms(void);

/*
 * The event-loop side.  rdv_client_configure() takes the configuration's
 * rendezvous servers, network, key and node (copied; the key is wiped
 * with the old configuration's copy); if they changed while running, the
 * registrations start again.  rdv_client_start() starts registering
 * (nothing without servers); rdv_client_stop() stops, closes the sockets
 * and withdraws the status.  Both idempotent.
 */
void	rdv_client_init(void);		/* once, before anything else here */
void	rdv_client_configure(const struct config *);
void	rdv_client_start(void);
void	rdv_client_stop(void);
size_t	rdv_client_count(void);		/* servers registered with now */

/*
 * A REACH for the node itself, sent from the module's registered socket
 * to a server the node is registered with and that sees it at seen_as
 * (the srflx its last REGISTER answer said): that server dials back
 * seen_as at port.  The same bytes are sent again, RFC 8489's RTO
 * doubling from RDV_CLIENT_RTO_MS, within RDV_CLIENT_BUDGET_MS (the
 * server answers a retransmission again and never dials twice); the
 * answer is matched by transaction ID, method and MAC.  done gets the
 * answer, or NULL when none came in time or the client stopped; it may
 * start another.  The caller embeds the op and paces its REACHes: the
 * server allows RDV_REACH_BURST, then one every RDV_REACH_INTERVAL_MS.
 */
#define RDV_CLIENT_REACH_MSG	256	/* a REACH request is at most 212 bytes */
#define RDV_CLIENT_REACH_MAX	8	/* REACHes out to one server at once */

struct rdv_client_op {
	struct rdv_reach	 r;
	uint8_t			 msg[RDV_CLIENT_REACH_MSG];
	size_t			 len;
	int			 srv;		/* the server's index; -1 idle */
	uint64_t		 first_sent;
	uint64_t		 rto;
	struct timer		 timer;
	void			(*done)(struct rdv_client_op *,
				    const struct rdv_client_answer *);
	struct rdv_client_op	*next;
};

void	rdv_client_op_init(struct rdv_client_op *,
	    void (*done)(struct rdv_client_op *,
	    const struct rdv_client_answer *));
/*
 * 0 once sent; -1 with errno: ENOTCONN no server registered, EADDRNOTAVAIL
 * none that sees the node at seen_as, EBUSY RDV_CLIENT_REACH_MAX out to
 * each that does, EALREADY op is out, else a build failure.
 */
int	rdv_client_reach(struct rdv_client_op *, uint8_t transport,
	    uint16_t port, struct in_addr seen_as);
void	rdv_client_reach_cancel(struct rdv_client_op *);	/* done not called */
int	rdv_client_reach_busy(const struct rdv_client_op *);

/*
 * SIGNAL (doc/hole-punching.md): a payload for another node of the
 * network, through the servers.  The pure side first.
 *
 * A SIGNAL request from the id's node to peer with len (1..
 * RDV_PAYLOAD_MAX) bytes of payload, TIMESTAMP now_ms, a new transaction
 * ID from crypto_random put in tid: its length in buf, or -1.  Its answer
 * is checked with rdv_client_check(RDV_SIGNAL, ...).
 */
int	rdv_client_signal_build(const struct rdv_client_id *, const char *peer,
	    const uint8_t *payload, size_t len, uint64_t now_ms,
	    uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t buflen);

/* A SIGNAL indication rdv_client_indication took. */
struct rdv_client_signal_in {
	char		from[RDV_NODE_MAX + 1];	/* NODE: the sender, as the server saw it */
	uint8_t		tid[STUN_TID_LEN];	/* the server's */
	uint64_t	server_time;
	size_t		len;
	uint8_t		payload[RDV_PAYLOAD_MAX];
};

/*
 * Is buf a SIGNAL indication for the id's node?  It must parse, be a
 * SIGNAL indication of our network, have a right MAC under the id's
 * server key, name our node as PEER and have a SERVER-TIME within
 * RDV_SKEW_MAX_MS of now_ms (the wall clock).  0 and *in filled, or -1
 * and *why says why (drop it).
 */
int	rdv_client_indication(const struct rdv_client_id *, const uint8_t *buf,
	    size_t len, uint64_t now_ms, struct rdv_client_signal_in *in,
	    const char **why);

/*
 * The event-loop side.  rdv_client_signal() sends the payload to peer
 * through every server the node is registered with (over the module's
 * registered UDP socket, so that the server sees it where it registered):
 * the first success answer wins (the server sent the indication on);
 * unanswered servers are asked again, RFC 8489's RTO doubling from
 * RDV_CLIENT_RTO_MS within RDV_CLIENT_BUDGET_MS, each attempt a new
 * transaction ID and TIMESTAMP (the server drops a repeated one), so that
 * peer may get the payload more than once (once per server, and per
 * attempt whose answer was lost): the payload protocol drops repeats.
 * done gets the success, or an error answer once every server asked gave
 * one (429 before 404 before any other: the most hopeful), or NULL when
 * no answer came in time or the client stopped; it may start another.
 * Answers are matched by server, transaction ID, method and MAC.  The
 * servers allow RDV_SIGNAL_BURST SIGNALs, then one every 100 ms.
 */
#define RDV_CLIENT_SIGNAL_TIDS	32	/* attempts of one SIGNAL answered to */

struct rdv_signal_op {
	char			 peer[RDV_NODE_MAX + 1];
	uint8_t			 payload[RDV_PAYLOAD_MAX];
	size_t			 len;
	int			 busy;
	uint32_t		 waiting;	/* servers not answered yet (bits) */
	struct rdv_client_answer err;		/* the error to report */
	int			 have_err;
	struct {
		uint8_t		 tid[STUN_TID_LEN];
		uint8_t		 srv;
	}			 sent[RDV_CLIENT_SIGNAL_TIDS];
	size_t			 nsent;
	uint64_t		 first_sent;
	uint64_t		 rto;
	struct timer		 timer;
	void			(*done)(struct rdv_signal_op *,
				    const struct rdv_client_answer *);
	struct rdv_signal_op	*next;
};

void	rdv_client_signal_init(struct rdv_signal_op *,
	    void (*done)(struct rdv_signal_op *,
	    const struct rdv_client_answer *));
/*
 * 0 once sent to at least one server; -1 with errno: EALREADY op is out,
 * ENOTCONN no server registered, EINVAL a bad peer name or length, else a
 * build failure.  payload is copied.
 */
int	rdv_client_signal(struct rdv_signal_op *, const char *peer,
	    const uint8_t *payload, size_t len);
void	rdv_client_signal_cancel(struct rdv_signal_op *);	/* done not called */
int	rdv_client_signal_busy(const struct rdv_signal_op *);

/*
 * The subscriber of SIGNAL indications (one: the punch module; NULL for
 * none): cb gets the sender's node name and the payload of each
 * indication rdv_client_indication took, once (a repeat of the same
 * server's transaction ID is dropped).  Without a subscriber they are
 * dropped (counted with the datagrams no answer).
 */
void	rdv_client_on_signal(void (*cb)(const char *from,
	    const uint8_t *payload, size_t len, void *arg), void *arg);

#endif
