/* SPDX-License-Identifier: ISC */
/* Datagrams in batches (include/udpbatch.h): recvmmsg into slots, a queue sent with sendmmsg. */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	struct udpbatch_stats	 st;
};

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

int
udpbatch_flush(struct udpbatch *b)
{
	int off = 0, n, sent = 0, i;

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
	b->st.sent += (uint64_t)sent;
	b->nout = 0;
	return sent;
}
