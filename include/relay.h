/* SPDX-License-Identifier: ISC */
/* natmapd's TURN client (RFC 8656, RFC 6062): one allocation on a TURN server, kept alive on the event loop, used as a path. */
#ifndef NATMAPD_RELAY_H
#define NATMAPD_RELAY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "rdv-turn.h"

enum relay_state {
	RELAY_IDLE = 0,		/* waiting to (re)start: backoff */
	RELAY_CONNECTING,	/* TCP to the server under way */
	RELAY_ALLOCATING,	/* Allocate sent (401/438 dance included) */
	RELAY_UP,		/* allocated: relayed address known */
};

/*
 * What a relay is told.  server: the TURN server (AF_UNSPEC: the relay
 * the credentials getter names).  server_tcp: TURN over TCP to the
 * server (where UDP is blocked); alloc_tcp: an RFC 6062 TCP allocation
 * (forces server_tcp).  creds: called whenever a credential is needed
 * (each Allocate, each ConnectionBind); 0 with *t filled, -1 when none
 * (natmapd passes a wrapper of rdv_client_turn).  The rest tunes timers
 * and is 0 for the defaults (tests shorten them).
 */
struct relay_conf {
	struct sockaddr_storage	 server;
	int			 server_tcp;
	int			 alloc_tcp;
	int			(*creds)(void *arg, struct rdv_turn *t);
	void			*creds_arg;
	uint32_t		 lifetime;	/* asked for, s; 0: the server's (600) */
	uint32_t		 keepalive_ms;	/* silence before a Refresh; 0: 15000 */
	uint32_t		 rto_ms;	/* UDP first RTO; 0: 500 (RFC 8489) */
	unsigned int		 sends;		/* UDP sends per request; 0: 7 (Rc) */
	uint32_t		 tcp_timeout_ms; /* a request over TCP; 0: 39500 (Ti) */
	uint32_t		 backoff_min_ms; /* before a new allocation; 0: 1000 */
	uint32_t		 backoff_max_ms; /* 0: 60000 */
};

/*
 * What the relay tells its user; any may be NULL.  arg is relay_new's.
 * up: allocated, relayed is the relayed address (again, with a new
 * address, after a down).  down: the allocation is lost or could not be
 * made (why says so, for an administrator: never a credential); the
 * relay tries again by itself, with backoff.  data: a datagram from peer
 * through a UDP allocation (Data indication or ChannelData).  conn: an
 * RFC 6062 data connection bound: fd is a non-blocking TCP socket, a
 * plain byte stream to peer, now the caller's; incoming is 1 for a
 * ConnectionAttempt, 0 for relay_connect; fd is -1 and err says why when
 * a relay_connect failed.
 */
struct relay_cbs {
	void	(*up)(void *arg, const struct sockaddr_storage *relayed);
	void	(*down)(void *arg, const char *why);
	void	(*data)(void *arg, const struct sockaddr_storage *peer,
		    const uint8_t *buf, size_t len);
	void	(*conn)(void *arg, int fd, const struct sockaddr_storage *peer,
		    int incoming, const char *err);
};

/* relay_stats's answer. */
struct relay_stats {
	enum relay_state	 state;
	struct sockaddr_storage	 server;
	struct sockaddr_storage	 relayed;	/* AF_UNSPEC unless RELAY_UP */
	struct sockaddr_storage	 mapped;	/* the server saw us from */
	uint32_t		 lifetime;	/* s, as the server granted it */
	uint64_t		 rtt_ms;	/* of the last transaction answered */
	uint64_t		 bytes_out;	/* payload sent to peers */
	uint64_t		 bytes_in;	/* payload from peers */
	unsigned int		 allocations;	/* made so far */
	unsigned int		 answers;	/* from the server, errors too */
	unsigned int		 peers;		/* permitted */
	char			 last_error[256];
};

#define RELAY_MAX_PEERS	64

/*
 * A relay: starts allocating at once (on the loop); NULL with errno set
 * (EINVAL: a bad conf).  conf and cbs are copied.
 */
struct relay *relay_new(const struct relay_conf *, const struct relay_cbs *,
	    void *arg);
/*
 * The allocation released (a Refresh of lifetime 0 sent once, not
 * waited for), every socket closed, no callback after: r is gone.  Data
 * connections already handed out are the caller's.
 */
void	relay_free(struct relay *);
/*
 * Keep a permission for peer's address (CreatePermission now if the
 * allocation is up, and on every new allocation; refreshed before its
 * 300 s run out): 0, or -1 (errno ENOSPC: RELAY_MAX_PEERS already;
 * EAFNOSUPPORT).
 */
int	relay_permit(struct relay *, const struct sockaddr_storage *peer);
/* Stop keeping it (the server lets it lapse). */
void	relay_unpermit(struct relay *, const struct sockaddr_storage *peer);
/*
 * A datagram to peer through a UDP allocation: ChannelData once a channel
 * is bound to peer, a Send indication before (the first send binds one,
 * which also permits the peer): 0, or -1 (errno EAGAIN: not up;
 * EOPNOTSUPP: a TCP allocation; EMSGSIZE; ENOBUFS: the TCP connection to
 * the server is backed up; ENOSPC: too many peers).
 */
int	relay_send(struct relay *, const struct sockaddr_storage *peer,
	    const void *buf, size_t len);
/*
 * RFC 6062: a TCP connection through a TCP allocation to peer (Connect,
 * then a new connection to the server and ConnectionBind); the result
 * comes to cbs->conn.  0 once asked, -1 (EAGAIN: not up; EOPNOTSUPP: a
 * UDP allocation).
 */
int	relay_connect(struct relay *, const struct sockaddr_storage *peer);
void	relay_stats(const struct relay *, struct relay_stats *);
const char *relay_state_name(enum relay_state);

#endif
