/* SPDX-License-Identifier: ISC */
/* The built-in forwarder: TCP connections and UDP sessions relayed to a service. */
#ifndef NATMAPD_FORWARD_H
#define NATMAPD_FORWARD_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/*
 * A forwarder relays what arrives on a socket that the caller made (the
 * one keeping a NAT binding) to a target, the service (127.0.0.1:22,
 * 192.168.77.10:8080 ...), and the answers back.  It runs on the event
 * loop (loop.h) and never blocks; every wake-up does a bounded amount of
 * work per descriptor, so that many busy connections do not hold up the
 * loop's timers (mapping renewals, keep-alives).
 *
 * The caller's socket stays the caller's: the forwarder watches it while
 * it lives, never closes it, and forward_free() stops watching it.  The
 * caller may go on sending from it (STUN keep-alives from the UDP one).
 *
 * TCP (forward_tcp_new): fd is a listening socket (made non-blocking),
 * perhaps bound with SO_REUSEADDR/SO_REUSEPORT to the port of the
 * binding.  Each connection accepted is handed to opts->accept_cb first,
 * if set (a dial-back checking that the port is open can be answered
 * there); else the forwarder connects to the target, non-blocking, and
 * copies both ways through a bounded buffer per direction (bufsize; a
 * full buffer stops the reading of its side).  A FIN one way is passed on
 * with shutdown(SHUT_WR) while the other way goes on; the connection ends
 * when both ways are done, on an error or a reset of either side (the
 * other side is then reset too), when the target does not answer within
 * connect_ms (or refuses: the client is reset at once), or when nothing
 * has moved either way for idle_ms.  Past max_conns at once, a new
 * connection is accepted and closed at once, and counted (refused).
 *
 * UDP (forward_udp_new): fd is a bound UDP socket (made non-blocking).
 * A datagram that is STUN (first two bits 0, the magic cookie, the length
 * field matching the datagram: stun_frame_len()) is not forwarded but
 * handed to opts->stun_cb (dropped and counted as stun if there is none):
 * the caller's own STUN answers and rendezvous messages come back to the
 * socket it sends them from.  Any other datagram belongs to the session
 * of its source address: a socket connected to the target, made for the
 * first datagram; what the target sends to that socket goes back to the
 * remote from fd.  A session that has carried nothing either way for
 * idle_ms is removed; past max_conns sessions, the least recently used
 * one is removed to make room (counted as evicted).
 *
 * With FORWARD_COPY_SPLICE, each direction of a connection is a pipe
 * (bufsize) that splice(2) fills from one socket and empties into the
 * other, with no copy through user space: 4 more descriptors per
 * connection.  Where a pipe cannot be made (or on a system without
 * splice), that connection copies with recv() and send().
 *
 * The callbacks run inside the forwarder's own event handling: they must
 * not call forward_free() on the forwarder that called them.
 *
 * Addresses are IPv4 or IPv6 (the target's family need not be the
 * socket's).  Every descriptor must fit in RLIMIT_NOFILE: 1 + 2 x
 * max_conns for TCP (6 x with splice), 1 + max_conns for UDP; when the
 * system refuses one, the connection or datagram is dropped and counted,
 * and after an accept() refused, accepting pauses for a second.
 */

/* Defaults, used for a 0 in struct forward_opts. */
#define FORWARD_TCP_IDLE_MS	(3600 * 1000)	/* 1 h: an idle ssh session lives */
#define FORWARD_UDP_IDLE_MS	(120 * 1000)	/* RFC 4787 REQ-5's floor */
#define FORWARD_CONNECT_MS	(10 * 1000)
#define FORWARD_TCP_MAX		256		/* connections at once */
#define FORWARD_UDP_MAX		1024		/* sessions at once */
#define FORWARD_BUFSIZE		(64 * 1024)	/* per direction */

/* How TCP data is moved: FORWARD_COPY_AUTO picks the faster, as measured. */
#define FORWARD_COPY_AUTO	0
#define FORWARD_COPY_RW		1	/* recv() and send() through a buffer */
#define FORWARD_COPY_SPLICE	2	/* splice(2) through a pipe (Linux) */

/* A connection accepted (TCP): 1 if the callee took fd (it closes it), 0 to forward. */
typedef int (*forward_accept_cb)(void *arg, int fd,
    const struct sockaddr *from, socklen_t fromlen);
/* A STUN datagram that arrived on the UDP socket; buf is the forwarder's. */
typedef void (*forward_stun_cb)(void *arg, const uint8_t *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen);

struct forward_opts {
	uint64_t		 idle_ms;	/* 0: FORWARD_{TCP,UDP}_IDLE_MS */
	uint64_t		 connect_ms;	/* TCP; 0: FORWARD_CONNECT_MS */
	size_t			 max_conns;	/* 0: FORWARD_{TCP,UDP}_MAX */
	size_t			 bufsize;	/* TCP; 0: FORWARD_BUFSIZE */
	int			 copy;		/* TCP; FORWARD_COPY_* */
	forward_accept_cb	 accept_cb;	/* TCP; may be NULL */
	forward_stun_cb		 stun_cb;	/* UDP; may be NULL */
	void			*arg;		/* for the callbacks */
	const char		*name;		/* for the log, e.g. "tcp 40211" */
};

/* Counters since the forwarder was made (for the status). */
struct forward_stats {
	uint64_t	accepted;	/* connections forwarded, sessions made */
	uint64_t	active;		/* connections or sessions now */
	uint64_t	refused;	/* over max_conns (TCP) */
	uint64_t	failed;		/* target refused or too slow (TCP) */
	uint64_t	spliced;	/* connections moved with splice(2) */
	uint64_t	idle;		/* ended for idleness */
	uint64_t	evicted;	/* sessions removed for room (UDP) */
	uint64_t	bytes_in;	/* from remotes to the target */
	uint64_t	bytes_out;	/* from the target to remotes */
	uint64_t	dgrams_in;	/* UDP datagrams forwarded each way */
	uint64_t	dgrams_out;
	uint64_t	stun;		/* STUN datagrams handed back (UDP) */
	uint64_t	drops;		/* datagrams not sent, descriptors refused */
};

struct forward;

/* NULL on error (errno): bad target, out of memory.  opts may be NULL. */
struct forward	*forward_tcp_new(int fd, const struct sockaddr *target,
		    socklen_t targetlen, const struct forward_opts *opts);
struct forward	*forward_udp_new(int fd, const struct sockaddr *target,
		    socklen_t targetlen, const struct forward_opts *opts);
/* Ends every connection or session (resets TCP ones); fd stays open. */
void		 forward_free(struct forward *);
void		 forward_stats(const struct forward *, struct forward_stats *);

#endif
