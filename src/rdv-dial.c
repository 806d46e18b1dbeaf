/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's dial-back: a UDP nonce, or a non-blocking TCP connect that must read the nonce back, from a fresh port. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "osdep.h"
#include "rdv-dial.h"
#include "sock.h"

#define DIAL_BIND_TRIES		4	/* ephemeral ports drawn before giving up */

static socklen_t
dial_sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

static uint16_t
dial_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
}

int
rdv_dial_socket(int type, const struct sockaddr_storage *from,
    const uint16_t avoid[2])
{
	struct sockaddr_storage a;
	socklen_t alen;
	uint16_t port;
	int fd, i, saved;

	if (from->ss_family != AF_INET && from->ss_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	for (i = 0; i < DIAL_BIND_TRIES; i++) {
		fd = socket(from->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1)
			return -1;
		a = *from;
		if (a.ss_family == AF_INET6)
			((struct sockaddr_in6 *)(void *)&a)->sin6_port = 0;
		else
			((struct sockaddr_in *)(void *)&a)->sin_port = 0;
		alen = sizeof(a);
		if (bind(fd, (struct sockaddr *)&a, dial_sa_len(&a)) == -1 ||
		    getsockname(fd, (struct sockaddr *)&a, &alen) == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		port = dial_port(&a);
		/* the kernel's ephemeral range may hold the server's ports */
		if (port != avoid[0] && port != avoid[1])
			return fd;
		close(fd);
	}
	errno = EADDRINUSE;
	return -1;
}

int
rdv_dial_udp(const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t nonce[RDV_NONCE_LEN],
    const uint16_t avoid[2])
{
	ssize_t r;
	int fd, saved;

	if ((fd = rdv_dial_socket(SOCK_DGRAM, from, avoid)) == -1)
		return -1;
	r = sendto(fd, nonce, RDV_NONCE_LEN, MSG_DONTWAIT,
	    (const struct sockaddr *)to, dial_sa_len(to));
	saved = errno;
	close(fd);
	if (r != RDV_NONCE_LEN) {
		errno = r == -1 ? saved : EMSGSIZE;
		return -1;
	}
	return 0;
}

/* The socket goes with a reset: nothing was written, no TIME_WAIT stays. */
static void
dial_close(struct rdv_dial *d)
{
	loop_fd_del(&d->lfd);
	timer_stop(&d->deadline);
	if (d->fd != -1) {
		sock_close_reset(d->fd);
		d->fd = -1;
	}
}

static void
dial_finish(struct rdv_dial *d, enum rdv_dial_result res)
{
	dial_close(d);
	d->done(d, res);	/* d may be gone after this */
}

static enum rdv_dial_result
dial_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return RDV_DIAL_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return RDV_DIAL_CLOSED;
	case ETIMEDOUT:
		return RDV_DIAL_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EACCES:
	case EPERM:
		return RDV_DIAL_UNREACHABLE;
	default:
		return RDV_DIAL_ERROR;
	}
}

/*
 * Connected, though the loop may not have seen it yet: the handshake is
 * over (no error pending, a peer).
 */
static int
dial_connected(struct rdv_dial *d)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer), elen;
	int e = 0;

	if (d->connected)
		return 1;
	elen = sizeof(e);
	return d->fd != -1 &&
	    getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 &&
	    e == 0 && getpeername(d->fd, (struct sockaddr *)&peer,
	    &plen) == 0;
}

/*
 * The deadline, or an early end put off to the loop.  At the deadline,
 * a connection made that did not hand the nonce over in time is not one
 * never made: something took it (a gateway's rule forwards to a service).
 */
static void
dial_timer(struct timer *t)
{
	struct rdv_dial *d = container_of(t, struct rdv_dial, deadline);

	if (d->result == RDV_DIAL_TIMEOUT && dial_connected(d))
		d->result = RDV_DIAL_NO_NONCE;
	dial_finish(d, d->result);
}

static void
dial_io(struct loop_fd *lf, int ev)
{
	struct rdv_dial *d = container_of(lf, struct rdv_dial, lfd);
	socklen_t elen;
	ssize_t r;
	int e = 0;

	(void)ev;
	if (!d->connected) {
		elen = sizeof(e);
		if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1)
			e = errno;
		if (e == EINPROGRESS || e == EALREADY)
			return;
		if (e != 0) {
			dial_finish(d, dial_errno(e));
			return;
		}
		d->connected = 1;
		loop_fd_events(&d->lfd, LOOP_READ);
		/* what came with the handshake is read below or next round */
	}
	r = recv(d->fd, d->got + d->ngot, sizeof(d->got) - d->ngot,
	    MSG_DONTWAIT);
	if (r == 0) {
		dial_finish(d, RDV_DIAL_CLOSED);
		return;
	}
	if (r == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		dial_finish(d, dial_errno(errno));
		return;
	}
	d->ngot += (size_t)r;
	if (d->ngot < sizeof(d->got))
		return;
	dial_finish(d, crypto_equal(d->got, d->nonce, sizeof(d->nonce)) ?
	    RDV_DIAL_REACHED : RDV_DIAL_WRONG_NONCE);
}

int
rdv_dial_tcp(struct rdv_dial *d, const struct sockaddr_storage *from,
    const struct sockaddr_storage *to, const uint8_t nonce[RDV_NONCE_LEN],
    const uint16_t avoid[2], uint64_t timeout_ms,
    void (*done)(struct rdv_dial *, enum rdv_dial_result))
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->done = done;
	d->result = RDV_DIAL_TIMEOUT;
	memcpy(d->nonce, nonce, sizeof(d->nonce));
	timer_init(&d->deadline, dial_timer);
	if ((d->fd = rdv_dial_socket(SOCK_STREAM, from, avoid)) == -1)
		return -1;
	/* two SYNs at most (at 0 and 1 s) within the 3 s: no third at 3 s */
	(void)osdep_tcp_syn_retries(d->fd, 1);
	if (connect(d->fd, (const struct sockaddr *)to, dial_sa_len(to)) == -1 &&
	    errno != EINPROGRESS) {
		/* refused or unreachable at once: told from the loop all the same */
		d->result = dial_errno(errno);
		close(d->fd);
		d->fd = -1;
		timer_set(&d->deadline, 0);
		return 0;
	}
	loop_fd_add(&d->lfd, d->fd, LOOP_WRITE, dial_io);
	timer_set(&d->deadline, timeout_ms);
	return 0;
}

void
rdv_dial_cancel(struct rdv_dial *d)
{
	dial_close(d);
}

const char *
rdv_dial_reason(enum rdv_dial_result r)
{
	switch (r) {
	case RDV_DIAL_REACHED:
		return "reached";
	case RDV_DIAL_REFUSED:
		return RDV_REASON_REFUSED;
	case RDV_DIAL_UNREACHABLE:
		return RDV_REASON_UNREACHABLE;
	case RDV_DIAL_TIMEOUT:
		return RDV_REASON_TIMED_OUT;
	case RDV_DIAL_WRONG_NONCE:
		return RDV_REASON_WRONG_NONCE;
	case RDV_DIAL_CLOSED:
		return RDV_REASON_CLOSED;
	case RDV_DIAL_NO_NONCE:
		return RDV_REASON_NO_NONCE;
	case RDV_DIAL_ERROR:
		break;
	}
	return "not reached: error";
}
