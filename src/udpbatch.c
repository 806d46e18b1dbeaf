/* SPDX-License-Identifier: ISC */
/* Datagrams in batches (include/udpbatch.h): recvmmsg into slots, a queue sent with sendmmsg. */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "udpbatch.h"

struct out {
	const void	*data;
	size_t		 len;
	uint64_t	*counter;
};

struct udpbatch {
	uint8_t			*area;		/* UDPBATCH_SLOTS * slot_size */
	size_t			 slot_size;
	/* receiving */
	struct mmsghdr		 rmsg[UDPBATCH_SLOTS];
	struct iovec		 riov[UDPBATCH_SLOTS];
	struct sockaddr_storage	 from[UDPBATCH_SLOTS];
	/* sending */
	int			 out_fd;
	int			 nout;
	struct mmsghdr		 smsg[UDPBATCH_SLOTS];
	struct iovec		 siov[UDPBATCH_SLOTS];
	struct sockaddr_storage	 to[UDPBATCH_SLOTS];
	struct out		 out[UDPBATCH_SLOTS];
	/* runs of them sent as one (UDP_SEGMENT) */
	struct mmsghdr		 gmsg[UDPBATCH_SLOTS];
	int			 gfirst[UDPBATCH_SLOTS], gcount[UDPBATCH_SLOTS];
	union {
		char		 buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	 align;
	}			 gctl[UDPBATCH_SLOTS];
	struct udpbatch_stats	 st;
};

/*
 * Runs sent as one: off until udpbatch_runs_check() has seen the kernel
 * cut one apart, and off for good once the kernel refuses one.
 */
static int gso_off = 1;
static int gso_checked;
static char gso_why[128] = "not checked";

struct udpbatch *
udpbatch_new(size_t slot_size)
{
	struct udpbatch *b;

	if (slot_size == 0 || slot_size > SIZE_MAX / UDPBATCH_SLOTS) {
		errno = ENOMEM;
		return NULL;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	/* large enough for malloc to map it: untouched pages stay out of RSS */
	if ((b->area = malloc(slot_size * UDPBATCH_SLOTS)) == NULL) {
		free(b);
		return NULL;
	}
	b->slot_size = slot_size;
	b->out_fd = -1;
	return b;
}

void
udpbatch_free(struct udpbatch *b)
{
	if (b == NULL)
		return;
	free(b->area);
	free(b);
}

size_t
udpbatch_slot_size(const struct udpbatch *b)
{
	return b->slot_size;
}

void
udpbatch_get_stats(const struct udpbatch *b, struct udpbatch_stats *st)
{
	*st = b->st;
}

uint8_t *
udpbatch_slot(struct udpbatch *b, int i)
{
	return b->area + (size_t)i * b->slot_size;
}

int
udpbatch_recv(struct udpbatch *b, int fd, size_t off, size_t room, int max)
{
	int i, n;

	if (max < 1 || max > UDPBATCH_SLOTS ||
	    off > b->slot_size || room > b->slot_size - off) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < max; i++) {
		b->riov[i].iov_base = udpbatch_slot(b, i) + off;
		b->riov[i].iov_len = room;
		memset(&b->rmsg[i], 0, sizeof(b->rmsg[i]));
		b->rmsg[i].msg_hdr.msg_name = &b->from[i];
		b->rmsg[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		b->rmsg[i].msg_hdr.msg_iov = &b->riov[i];
		b->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	do
		n = recvmmsg(fd, b->rmsg, (unsigned int)max, MSG_DONTWAIT,
		    NULL);
	while (n == -1 && errno == EINTR);
	b->st.recv_calls++;
	if (n > 0)
		b->st.received += (uint64_t)n;
	if (n == 0) {
		/* not for datagram sockets; as none waiting */
		errno = EAGAIN;
		return -1;
	}
	return n;
}

size_t
udpbatch_len(const struct udpbatch *b, int i)
{
	return b->rmsg[i].msg_len;
}

int
udpbatch_cut(const struct udpbatch *b, int i)
{
	return (b->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

const struct sockaddr_storage *
udpbatch_from(const struct udpbatch *b, int i)
{
	return &b->from[i];
}

static socklen_t
to_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

void
udpbatch_add(struct udpbatch *b, int fd, const struct sockaddr_storage *to,
    const void *data, size_t len, uint64_t *counter)
{
	struct mmsghdr *m;
	int i;

	if (b->nout > 0 && (fd != b->out_fd || b->nout == UDPBATCH_SLOTS))
		(void)udpbatch_flush(b);
	i = b->nout++;
	b->out_fd = fd;
	b->out[i].data = data;
	b->out[i].len = len;
	b->out[i].counter = counter;
	b->siov[i].iov_base = (void *)(uintptr_t)data;
	b->siov[i].iov_len = len;
	m = &b->smsg[i];
	memset(m, 0, sizeof(*m));
	if (to != NULL) {
		b->to[i] = *to;
		m->msg_hdr.msg_name = &b->to[i];
		m->msg_hdr.msg_namelen = to_len(to);
	}
	m->msg_hdr.msg_iov = &b->siov[i];
	m->msg_hdr.msg_iovlen = 1;
}

/* Datagrams i and j go to the same place: the same address, or both none. */
static int
same_to(const struct udpbatch *b, int i, int j)
{
	const struct msghdr *a = &b->smsg[i].msg_hdr, *c = &b->smsg[j].msg_hdr;

	if (a->msg_name == NULL || c->msg_name == NULL)
		return a->msg_name == c->msg_name;
	return a->msg_namelen == c->msg_namelen &&
	    memcmp(a->msg_name, c->msg_name, a->msg_namelen) == 0;
}

/* The queue from off, each datagram alone. */
static int
flush_each(struct udpbatch *b, int off)
{
	int n, sent = 0, i;

	while (off < b->nout) {
		n = sendmmsg(b->out_fd, b->smsg + off,
		    (unsigned int)(b->nout - off), MSG_DONTWAIT);
		b->st.send_calls++;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* the first one refused: dropped, the rest go on */
			b->st.send_failed++;
			off++;
			continue;
		}
		for (i = off; i < off + n; i++)
			if (b->out[i].counter != NULL)
				*b->out[i].counter += b->out[i].len;
		sent += n;
		off += n;
	}
	return sent;
}

/*
 * Runs of datagrams of one length to one place, each sent as one with
 * UDP_SEGMENT: the stack (and a router's) passes them once, and they are
 * cut apart where they are delivered.
 */
static int
flush_runs(struct udpbatch *b)
{
	int ng = 0, i, j, g, n, k, sent = 0;
	struct cmsghdr *cm;
	uint16_t seg;

	for (i = 0; i < b->nout; i = j) {
		for (j = i + 1; j < b->nout && j - i < 64 &&
		    b->out[j].len == b->out[i].len && same_to(b, i, j) &&
		    (size_t)(j - i + 1) * b->out[i].len <= 65000; j++)
			;
		b->gfirst[ng] = i;
		b->gcount[ng] = j - i;
		b->gmsg[ng] = b->smsg[i];
		b->gmsg[ng].msg_hdr.msg_iovlen = (size_t)(j - i);
		if (j - i > 1) {
			memset(&b->gctl[ng], 0, sizeof(b->gctl[ng]));
			b->gmsg[ng].msg_hdr.msg_control = b->gctl[ng].buf;
			b->gmsg[ng].msg_hdr.msg_controllen =
			    sizeof(b->gctl[ng].buf);
			cm = CMSG_FIRSTHDR(&b->gmsg[ng].msg_hdr);
			cm->cmsg_level = SOL_UDP;
#ifdef UDP_SEGMENT
			cm->cmsg_type = UDP_SEGMENT;
#endif
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			seg = (uint16_t)b->out[i].len;
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			b->st.runs++;
		}
		ng++;
	}
	for (g = 0; g < ng;) {
		n = sendmmsg(b->out_fd, b->gmsg + g, (unsigned int)(ng - g),
		    MSG_DONTWAIT);
		b->st.send_calls++;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/*
			 * No segmentation by this kernel or device: one by
			 * one from now on.  A run longer than the path's
			 * MTU allows (EINVAL): this batch one by one.
			 */
			if (b->gcount[g] > 1 && (errno == EIO ||
			    errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				gso_off = 1;
				snprintf(gso_why, sizeof(gso_why),
				    "refused by the kernel: %s",
				    strerror(errno));
			}
			if (b->gcount[g] > 1 && (gso_off || errno == EINVAL))
				return sent + flush_each(b, b->gfirst[g]);
			b->st.send_failed += (uint64_t)b->gcount[g];
			g++;
			continue;
		}
		for (k = g; k < g + n; k++) {
			for (i = b->gfirst[k]; i < b->gfirst[k] + b->gcount[k];
			    i++)
				if (b->out[i].counter != NULL)
					*b->out[i].counter += b->out[i].len;
			sent += b->gcount[k];
		}
		g += n;
	}
	return sent;
}

/* The queue's socket is UDP (UDP_SEGMENT means nothing to another). */
static int
out_udp(const struct udpbatch *b)
{
	int proto = 0;
	socklen_t len = sizeof(proto);

	return getsockopt(b->out_fd, SOL_SOCKET, SO_PROTOCOL, &proto,
	    &len) == 0 && proto == IPPROTO_UDP;
}

int
udpbatch_flush(struct udpbatch *b)
{
	int sent;

	sent = gso_off || b->nout < 2 || !out_udp(b) ? flush_each(b, 0) :
	    flush_runs(b);
	b->st.sent += (uint64_t)sent;
	b->nout = 0;
	return sent;
}

#define CHECK_SEG	100	/* 0x0064; read the other way round, 25600 */
#define CHECK_N		3
#define CHECK_MS	200

/*
 * Sends CHECK_N datagrams of CHECK_SEG bytes over loopback as one run
 * and reads them back: 1 if they arrive as CHECK_N, whole and in order.
 * A kernel without UDP_SEGMENT (before 4.18 it skips the cmsg) delivers
 * one datagram of them all; so does an emulator that passes the cmsg to
 * the host in the guest's byte order (qemu-user for a big-endian target).
 */
static int
runs_work(char *why, size_t len)
{
#ifdef UDP_SEGMENT
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	union {
		char		 buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	 align;
	} ctl;
	uint8_t out[CHECK_N * CHECK_SEG], in[CHECK_N * CHECK_SEG + 1];
	struct iovec iov = { out, sizeof(out) };
	struct msghdr msg;
	struct cmsghdr *cm;
	struct pollfd pfd;
	uint16_t seg = CHECK_SEG;
	ssize_t n;
	int r = -1, s = -1, got = 0, ok = 0, i;

	if ((r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    (s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, len, "socket: %s", strerror(errno));
		goto done;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(r, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(r, (struct sockaddr *)&sin, &slen) == -1) {
		snprintf(why, len, "loopback: %s", strerror(errno));
		goto done;
	}
	for (i = 0; i < CHECK_N; i++)
		memset(out + i * CHECK_SEG, 0x31 + i, CHECK_SEG);
	memset(&ctl, 0, sizeof(ctl));
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sin;
	msg.msg_namelen = sizeof(sin);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	if (sendmsg(s, &msg, MSG_DONTWAIT) == -1) {
		snprintf(why, len, "refused by the kernel: %s",
		    strerror(errno));
		goto done;
	}
	/* loopback delivers within the send; the wait is a bound, once */
	pfd.fd = r;
	pfd.events = POLLIN;
	while (got < CHECK_N && poll(&pfd, 1, CHECK_MS) == 1) {
		if ((n = recv(r, in, sizeof(in), MSG_DONTWAIT)) == -1)
			break;
		if (n != CHECK_SEG) {
			snprintf(why, len, "a run of %d datagrams arrived as "
			    "one of %zd bytes", CHECK_N, n);
			goto done;
		}
		for (i = 0; i < CHECK_SEG; i++)
			if (in[i] != 0x31 + got)
				break;
		if (i < CHECK_SEG) {
			snprintf(why, len, "a run arrived out of order");
			goto done;
		}
		got++;
	}
	if (got < CHECK_N)
		snprintf(why, len, "%d of a run of %d datagrams arrived", got,
		    CHECK_N);
	else
		ok = 1;
 done:
	if (r != -1)
		close(r);
	if (s != -1)
		close(s);
	return ok;
#else
	snprintf(why, len, "UDP_SEGMENT unknown at build time");
	return 0;
#endif
}

int
udpbatch_runs_check(char *why, size_t len)
{
	if (!gso_checked) {
		gso_checked = 1;
		gso_off = !runs_work(gso_why, sizeof(gso_why));
	}
	if (gso_off && why != NULL && len > 0)
		snprintf(why, len, "%s", gso_why);
	return !gso_off;
}
