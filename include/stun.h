/* SPDX-License-Identifier: ISC */
/* STUN client (RFC 8489) on the event loop: Binding transactions over UDP and TCP. */
#ifndef NATMAPD_STUN_H
#define NATMAPD_STUN_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "stun-msg.h"

/*
 * Retransmission (RFC 8489 6.2.1): the first RTO, the number of sends
 * (Rc) and the wait after the last one in RTOs (Rm), all under a budget.
 */
struct stun_schedule {
	unsigned int	rto_ms;
	unsigned int	sends;
	unsigned int	last_wait;
	unsigned int	budget_ms;	/* gives up at this whatever is left */
};

/* RFC 8489's defaults: 500 ms, 7 sends, 16 RTOs; 39.5 s in all. */
extern const struct stun_schedule stun_schedule_rfc;

struct stun_sock;
struct stun_txn;

struct stun_answer {
	int			 ok;		/* a success response came */
	struct sockaddr_storage	 server;	/* where the request went */
	struct sockaddr_storage	 from;		/* where the answer came from */
	struct sockaddr_storage	 mapped;	/* XOR-MAPPED (or MAPPED) */
	struct sockaddr_storage	 other;		/* OTHER-ADDRESS, if given */
	struct sockaddr_storage	 origin;	/* RESPONSE-ORIGIN, if given */
	uint64_t		 rtt_ms;
	unsigned int		 sends;
	int			 timeout;	/* no answer at all */
	char			 err[160];	/* why not ok, for people */
};

/*
 * Called once per transaction, which is freed after it returns: the
 * callback must not cancel it, nor close the socket it is on.
 */
typedef void (*stun_cb)(struct stun_txn *, const struct stun_answer *,
    void *arg);

/*
 * A UDP socket bound to local (NULL: any address, port 0), answering the
 * transactions sent from it by transaction ID: one local port can ask
 * several servers, as RFC 5780's tests need.
 */
struct stun_sock *stun_sock_open(const struct sockaddr *local, socklen_t);
void	stun_sock_close(struct stun_sock *);	/* cancels what is left */
/*
 * The same on the caller's bound UDP socket, which it keeps watching
 * (a forwarder does) and handing the STUN datagrams it reads to
 * stun_sock_input(); stun_sock_close() leaves fd open.
 */
struct stun_sock *stun_sock_wrap(int fd);
/*
 * A datagram read from a wrapped socket: 1 if it was answered to a
 * callback (which may have closed the socket), 0 if ignored.
 */
int	stun_sock_input(struct stun_sock *, const uint8_t *buf, size_t len,
	    const struct sockaddr *from, socklen_t fromlen);
/* The bound local address and port. */
int	stun_sock_local(const struct stun_sock *, struct sockaddr_storage *);
/*
 * Called for Binding messages that reach the socket but answer none of
 * its transactions: requests (a hairpin test sends one to our own mapped
 * address) and responses (a RESPONSE-PORT test has them sent here); cls
 * is enum stun_class.  NULL to ignore them.
 */
void	stun_sock_on_stray(struct stun_sock *,
	    void (*)(struct stun_sock *, int cls,
	    const uint8_t tid[STUN_TID_LEN], const struct sockaddr_storage *from,
	    void *), void *arg);
/* Send a Binding request from tid, without waiting for anything. */
int	stun_sock_send_raw(struct stun_sock *, const struct sockaddr *,
	    socklen_t, const uint8_t tid[STUN_TID_LEN]);

/* A Binding request (change: CHANGE-REQUEST flags, 0 for none). */
struct stun_txn *stun_binding(struct stun_sock *, const struct sockaddr *server,
	    socklen_t, uint8_t change, const struct stun_schedule *,
	    stun_cb, void *arg);
/* The same asking for the answer at response_port (RFC 5780 RESPONSE-PORT). */
struct stun_txn *stun_binding_port(struct stun_sock *,
	    const struct sockaddr *server, socklen_t, uint8_t change,
	    uint16_t response_port, const struct stun_schedule *, stun_cb,
	    void *arg);
/* The transaction ID of a request, as a stray answer to it would carry. */
const uint8_t *stun_txn_tid(const struct stun_txn *);
/*
 * The same over TCP (RFC 8489 6.2.2): a connection from local (NULL: any)
 * to server, one request, the answer framed by its length; the schedule's
 * budget bounds connect and answer.
 */
struct stun_txn *stun_binding_tcp(const struct sockaddr *local,
	    const struct sockaddr *server, socklen_t,
	    const struct stun_schedule *, stun_cb, void *arg);
void	stun_cancel(struct stun_txn *);

/* "203.0.113.7:3478", "[2001:db8::1]:3478"; "-" for AF_UNSPEC. */
const char *stun_addr_str(const struct sockaddr_storage *, char *, size_t);
/* Same address and port (family, address, port). */
int	stun_addr_eq(const struct sockaddr_storage *,
	    const struct sockaddr_storage *);
int	stun_addr_eq_ip(const struct sockaddr_storage *,
	    const struct sockaddr_storage *);
uint16_t stun_addr_port(const struct sockaddr_storage *);

#endif
