/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's dial-back (REACH): a nonce by UDP, or a TCP connection that must hand it back, from a fresh port; on the loop. */
#ifndef NATMAPD_RDV_DIAL_H
#define NATMAPD_RDV_DIAL_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "rdv-msg.h"

#define RDV_DIAL_TIMEOUT_MS	3000	/* a TCP dial-back, connect and read, at most */

enum rdv_dial_result {
	RDV_DIAL_REACHED = 0,	/* TCP: the nonce read back */
	RDV_DIAL_REFUSED,	/* a reset: nothing listens, or a NAT said no */
	RDV_DIAL_UNREACHABLE,	/* ICMP unreachable, no route */
	RDV_DIAL_TIMEOUT,	/* no connection in time */
	RDV_DIAL_WRONG_NONCE,	/* 16 bytes that are not the nonce */
	RDV_DIAL_CLOSED,	/* connected, closed or reset before 16 bytes */
	RDV_DIAL_NO_NONCE,	/* connected, not 16 bytes in time */
	RDV_DIAL_ERROR,		/* another error */
};

/* A TCP dial-back; the caller embeds it and gets it back in done (container_of). */
struct rdv_dial {
	int		 fd;
	struct loop_fd	 lfd;
	struct timer	 deadline;
	int		 connected;
	enum rdv_dial_result	result;	/* an early end, told from the timer */
	size_t		 ngot;
	uint8_t		 nonce[RDV_NONCE_LEN];
	uint8_t		 got[RDV_NONCE_LEN];
	void		(*done)(struct rdv_dial *, enum rdv_dial_result);
};

/*
 * A socket of type bound to an ephemeral port of from's address (its
 * port is ignored), never to port avoid[0] or avoid[1] (the server's
 * own: 0 for none), so that the node's NAT sees an address and port the
 * node never sent to.  The fd, or -1 with errno set.
 */
int	rdv_dial_socket(int type, const struct sockaddr_storage *from,
	    const uint16_t avoid[2]);

/*
 * UDP: one datagram of exactly the RDV_NONCE_LEN bytes of nonce from a
 * fresh port of from to to, then the socket is closed.  0 once sent, or
 * -1 with errno set.
 */
int	rdv_dial_udp(const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to,
	    const uint8_t nonce[RDV_NONCE_LEN], const uint16_t avoid[2]);

/*
 * TCP: a non-blocking connection from a fresh port of from to to, which
 * must send the nonce (its first RDV_NONCE_LEN bytes) within timeout_ms
 * of now; nothing is ever written on it.  done is called once, on the
 * loop (never from here), with the socket already closed (by a reset:
 * no TIME_WAIT is left); d may be freed there.  0, or -1 with errno set
 * when no socket could be made (done is then never called).
 */
int	rdv_dial_tcp(struct rdv_dial *d, const struct sockaddr_storage *from,
	    const struct sockaddr_storage *to,
	    const uint8_t nonce[RDV_NONCE_LEN], const uint16_t avoid[2],
	    uint64_t timeout_ms,
	    void (*done)(struct rdv_dial *, enum rdv_dial_result));

/* Stop a dial-back under way without calling done. */
void	rdv_dial_cancel(struct rdv_dial *d);

/* What an error answer says for a result: at most 28 characters. */
const char *rdv_dial_reason(enum rdv_dial_result);

#endif
