/* SPDX-License-Identifier: ISC */
/* The stream multiplexer of a TCP carrier: stream states, flow control, round-robin sending; no I/O (include/mux.h). */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mux.h"
#include "mux-msg.h"

#define MUX_BUCKETS	256

/* The two send lists a stream can be on. */
enum {
	MUX_L_CTL,	/* OPEN or WINDOW to send */
	MUX_L_RR,	/* DATA or FIN to send, in turn */
	MUX_L_N
};

struct mux_stream {
	struct mux_stream *hnext;		/* hash chain */
	struct mux_stream *next[MUX_L_N], *prev[MUX_L_N];
	uint8_t		 on[MUX_L_N];
	uint32_t	 id;
	void		*udata;
	char		 name[MUX_NAME_MAX + 1];	/* for the OPEN */
	unsigned int	 open_pending:1;	/* OPEN not framed yet */
	unsigned int	 fin_queued:1;		/* mux_fin() called */
	unsigned int	 fin_sent:1;		/* FIN framed */
	unsigned int	 fin_recvd:1;
	unsigned int	 want_writable:1;	/* room ran out */
	uint32_t	 credit;	/* DATA we may still frame */
	uint32_t	 recv_left;	/* DATA the peer may still send */
	uint32_t	 unconsumed;	/* given to on_data, not consumed */
	uint32_t	 consumed;	/* consumed, not yet in a WINDOW */
	uint32_t	 window_pending;	/* WINDOW increment to frame */
	uint8_t		*buf;		/* MUX_SENDBUF ring, when used */
	size_t		 head, used;
};

struct mux_list {
	struct mux_stream *head, *tail;
};

struct mux_reset {
	uint32_t	id;
	uint8_t		reason;
};

struct mux {
	int		 initiator;
	struct mux_callbacks cb;
	void		*arg;
	struct mux_stream *hash[MUX_BUCKETS];
	struct mux_list	 list[MUX_L_N];
	uint32_t	 nstreams;
	uint64_t	 next_id;	/* ours, odd or even */
	uint32_t	 peer_max;	/* the peer's highest opened */
	const char	*error;		/* the carrier failed */
	int		 goaway_sent, goaway_recvd;
	uint32_t	 goaway_last;	/* the peer takes ours up to this */
	/* carrier frames to send */
	int		 goaway_pending;
	uint8_t		 goaway_reason;
	uint32_t	 goaway_taken;	/* the peer's last stream we took */
	int		 pong_pending, ping_pending, ping_outstanding;
	uint8_t		 pong[MUX_PING_LEN], ping[MUX_PING_LEN];
	uint64_t	 ping_time, ping_seq;
	/* RSTs of streams already forgotten: a ring */
	struct mux_reset resets[MUX_RESETS_MAX];
	size_t		 rst_head, rst_used;
	/* a frame cut by the record boundary */
	uint8_t		 in[MUX_FRAME_MAX];
	size_t		 inlen;
	struct mux_stats st;
};

static void	mux_fail(struct mux *, const char *);

static struct mux_stream **
mux_bucket(struct mux *m, uint32_t id)
{
	return &m->hash[(id ^ (id >> 8) ^ (id >> 16)) % MUX_BUCKETS];
}

static struct mux_stream *
mux_find(const struct mux *m, uint32_t id)
{
	const struct mux_stream *s;

	for (s = m->hash[(id ^ (id >> 8) ^ (id >> 16)) % MUX_BUCKETS];
	    s != NULL; s = s->hnext)
		if (s->id == id)
			return (struct mux_stream *)s;
	return NULL;
}

/* mux_find for the API: NULL with errno ENOENT. */
static struct mux_stream *
mux_get(const struct mux *m, uint32_t id)
{
	struct mux_stream *s = mux_find(m, id);

	if (s == NULL)
		errno = ENOENT;
	return s;
}

static void
mux_list_add(struct mux *m, int l, struct mux_stream *s)
{
	if (s->on[l])
		return;
	s->on[l] = 1;
	s->next[l] = NULL;
	s->prev[l] = m->list[l].tail;
	if (m->list[l].tail != NULL)
		m->list[l].tail->next[l] = s;
	else
		m->list[l].head = s;
	m->list[l].tail = s;
}

static void
mux_list_del(struct mux *m, int l, struct mux_stream *s)
{
	if (!s->on[l])
		return;
	if (s->prev[l] != NULL)
		s->prev[l]->next[l] = s->next[l];
	else
		m->list[l].head = s->next[l];
	if (s->next[l] != NULL)
		s->next[l]->prev[l] = s->prev[l];
	else
		m->list[l].tail = s->prev[l];
	s->next[l] = s->prev[l] = NULL;
	s->on[l] = 0;
}

/* Keep a stream on the send lists exactly when it has something to send. */
static void
mux_sched(struct mux *m, struct mux_stream *s)
{
	int ctl = s->open_pending || s->window_pending > 0;
	int rr = (s->used > 0 && s->credit > 0) ||
	    (s->fin_queued && !s->fin_sent && s->used == 0);

	if (ctl)
		mux_list_add(m, MUX_L_CTL, s);
	else
		mux_list_del(m, MUX_L_CTL, s);
	if (rr)
		mux_list_add(m, MUX_L_RR, s);
	else
		mux_list_del(m, MUX_L_RR, s);
}

static struct mux_stream *
mux_stream_new(struct mux *m, uint32_t id, const char *name, void *udata)
{
	struct mux_stream *s, **b;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->id = id;
	s->udata = udata;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->credit = MUX_WINDOW_INITIAL;
	s->recv_left = MUX_WINDOW_INITIAL;
	b = mux_bucket(m, id);
	s->hnext = *b;
	*b = s;
	m->nstreams++;
	return s;
}

/*
 * Forget a stream: on_rst (if rst, with reason) then on_close (if
 * notify) once it is gone, so that they may call the mux.
 */
static void
mux_forget(struct mux *m, struct mux_stream *s, int notify, int rst,
    uint8_t reason)
{
	struct mux_stream **p;
	uint32_t id = s->id;
	void *udata = s->udata;
	int l;

	for (p = mux_bucket(m, id); *p != s; p = &(*p)->hnext)
		;
	*p = s->hnext;
	for (l = 0; l < MUX_L_N; l++)
		mux_list_del(m, l, s);
	m->nstreams--;
	free(s->buf);
	free(s);
	if (notify && rst && m->cb.on_rst != NULL)
		m->cb.on_rst(m, id, udata, reason);
	if (notify && m->cb.on_close != NULL)
		m->cb.on_close(m, id, udata);
}

/* Queue a RST for a stream id that is (or is being) forgotten. */
static void
mux_queue_rst(struct mux *m, uint32_t id, uint8_t reason)
{
	struct mux_reset *r;

	if (m->error != NULL)
		return;
	if (m->rst_used == MUX_RESETS_MAX) {
		mux_fail(m, "too many resets waiting to be sent");
		return;
	}
	r = &m->resets[(m->rst_head + m->rst_used) % MUX_RESETS_MAX];
	r->id = id;
	r->reason = reason;
	m->rst_used++;
}

/* A stream broke the protocol: RST to the peer, on_rst to the application. */
static void
mux_kill(struct mux *m, struct mux_stream *s, uint8_t reason,
    const char *why)
{
	log_debug("mux: stream %u reset: %s", s->id, why);
	mux_queue_rst(m, s->id, reason);
	m->st.resets_out++;
	if (m->error == NULL)
		mux_forget(m, s, 1, 1, reason);
}

/* The carrier is lost: every stream ends, only a GOAWAY is left to send. */
static void
mux_fail(struct mux *m, const char *why)
{
	struct mux_stream *s;
	size_t i;

	if (m->error != NULL)
		return;
	log_debug("mux: carrier failed: %s", why);
	m->error = why;
	m->goaway_pending = 1;
	m->goaway_reason = MUX_GOAWAY_PROTOCOL;
	if (!m->goaway_sent)
		m->goaway_taken = m->peer_max;
	m->pong_pending = m->ping_pending = m->ping_outstanding = 0;
	m->rst_used = 0;
	m->inlen = 0;
	for (i = 0; i < MUX_BUCKETS; i++)
		while ((s = m->hash[i]) != NULL)
			mux_forget(m, s, 1, 1, 0);
}

struct mux *
mux_new(int initiator, const struct mux_callbacks *cb, void *arg)
{
	struct mux *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->initiator = initiator != 0;
	m->cb = *cb;
	m->arg = arg;
	m->next_id = m->initiator ? 1 : 2;
	return m;
}

void
mux_free(struct mux *m)
{
	struct mux_stream *s;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < MUX_BUCKETS; i++)
		while ((s = m->hash[i]) != NULL)
			mux_forget(m, s, 1, 0, 0);
	free(m);
}

/* Is id one the peer opens (by its parity)? */
static int
mux_peers(const struct mux *m, uint32_t id)
{
	return (id & 1) == (m->initiator ? 0 : 1);
}

static void
mux_in_open(struct mux *m, const struct mux_frame *f)
{
	struct mux_stream *s;
	uint32_t id = f->id;
	int r;

	if (!mux_peers(m, id)) {
		mux_fail(m, "OPEN with a stream id of this side's");
		return;
	}
	if (id <= m->peer_max) {
		mux_fail(m, "OPEN of a stream id already used");
		return;
	}
	m->peer_max = id;
	if (m->goaway_sent || m->nstreams >= MUX_STREAMS_MAX ||
	    m->cb.on_open == NULL ||
	    (s = mux_stream_new(m, id, f->name, NULL)) == NULL) {
		m->st.refused_in++;
		m->st.resets_out++;
		mux_queue_rst(m, id, MUX_RST_REFUSED);
		return;
	}
	r = m->cb.on_open(m, id, f->name, m->arg);
	if ((s = mux_find(m, id)) == NULL || m->error != NULL)
		return;		/* reset from inside on_open */
	if (r != 0) {
		m->st.refused_in++;
		m->st.resets_out++;
		mux_forget(m, s, 0, 0, 0);
		mux_queue_rst(m, id, (uint8_t)r);
		return;
	}
	m->st.opened_in++;
}

static void
mux_in_stream(struct mux *m, const struct mux_frame *f, uint64_t now)
{
	struct mux_stream *s;
	uint32_t id = f->id;
	void *udata;
	int was_blocked;

	(void)now;
	if ((s = mux_find(m, id)) == NULL) {
		/* a stream forgotten here, or never opened */
		if (mux_peers(m, id) ? id <= m->peer_max : id < m->next_id) {
			m->st.late_frames++;
			return;
		}
		mux_fail(m, "frame for a stream never opened");
		return;
	}
	udata = s->udata;
	switch (f->type) {
	case MUX_DATA:
		if (s->fin_recvd) {
			mux_kill(m, s, MUX_RST_PROTOCOL, "DATA after FIN");
			return;
		}
		if (f->len > s->recv_left) {
			mux_kill(m, s, MUX_RST_PROTOCOL, "DATA beyond window");
			return;
		}
		s->recv_left -= (uint32_t)f->len;
		s->unconsumed += (uint32_t)f->len;
		m->st.bytes_in += f->len;
		if (m->cb.on_data != NULL)
			m->cb.on_data(m, id, udata, f->data, f->len);
		return;
	case MUX_WINDOW:
		if (f->value > MUX_WINDOW_MAX - s->credit) {
			mux_kill(m, s, MUX_RST_PROTOCOL, "window past 2^31-1");
			return;
		}
		was_blocked = s->want_writable && mux_room(m, id) == 0;
		s->credit += f->value;
		mux_sched(m, s);
		if (was_blocked && mux_room(m, id) > 0) {
			s->want_writable = 0;
			if (m->cb.on_writable != NULL)
				m->cb.on_writable(m, id, udata);
		}
		return;
	case MUX_FIN:
		if (s->fin_recvd) {
			mux_kill(m, s, MUX_RST_PROTOCOL, "a second FIN");
			return;
		}
		s->fin_recvd = 1;
		s->consumed = s->window_pending = 0;	/* no more WINDOW */
		mux_sched(m, s);
		if (m->cb.on_fin != NULL)
			m->cb.on_fin(m, id, udata);
		if ((s = mux_find(m, id)) != NULL && s->fin_sent)
			mux_forget(m, s, 1, 0, 0);
		return;
	case MUX_RST:
		m->st.resets_in++;
		mux_forget(m, s, 1, 1, f->reason);
		return;
	}
}

static void
mux_in_goaway(struct mux *m, const struct mux_frame *f)
{
	struct mux_stream *s, *next;
	uint32_t last = f->value;
	size_t i;

	if (!m->goaway_recvd || last < m->goaway_last)
		m->goaway_last = last;
	m->goaway_recvd = 1;
	/* ours above last were not taken: they end as refused */
	for (i = 0; i < MUX_BUCKETS; i++)
		for (s = m->hash[i]; s != NULL; s = next) {
			next = s->hnext;
			if (!mux_peers(m, s->id) && s->id > m->goaway_last) {
				mux_forget(m, s, 1, 1, MUX_RST_REFUSED);
				if (m->error != NULL)
					return;
				next = m->hash[i];	/* the callbacks ran */
			}
		}
	if (m->cb.on_goaway != NULL)
		m->cb.on_goaway(m, f->reason, m->arg);
}

/* One whole frame. */
static void
mux_in_frame(struct mux *m, const uint8_t *buf, size_t len, uint64_t now)
{
	struct mux_frame f;
	const char *err;

	if (mux_parse(buf, len, &f, &err) == -1) {
		mux_fail(m, err);
		return;
	}
	m->st.frames_in++;
	switch (f.type) {
	case MUX_OPEN:
		mux_in_open(m, &f);
		break;
	case MUX_DATA:
	case MUX_WINDOW:
	case MUX_FIN:
	case MUX_RST:
		mux_in_stream(m, &f, now);
		break;
	case MUX_PING:
		m->pong_pending = 1;	/* the latest only */
		memcpy(m->pong, f.ping, MUX_PING_LEN);
		break;
	case MUX_PONG:
		if (!m->ping_outstanding ||
		    memcmp(f.ping, m->ping, MUX_PING_LEN) != 0)
			break;	/* not ours, or late */
		m->ping_outstanding = 0;
		m->st.rtt = now >= m->ping_time ? now - m->ping_time : 0;
		if (m->cb.on_pong != NULL)
			m->cb.on_pong(m, m->st.rtt, m->arg);
		break;
	case MUX_GOAWAY:
		mux_in_goaway(m, &f);
		break;
	}
}

int
mux_input(struct mux *m, const uint8_t *buf, size_t len, uint64_t now)
{
	size_t flen, take;

	while (len > 0 && m->error == NULL) {
		if (m->inlen > 0) {
			/* complete the frame begun in an earlier call */
			if (m->inlen < MUX_HDR_LEN) {
				take = MUX_HDR_LEN - m->inlen;
				take = take < len ? take : len;
				memcpy(m->in + m->inlen, buf, take);
				m->inlen += take;
				buf += take;
				len -= take;
				if (m->inlen < MUX_HDR_LEN)
					break;
			}
			flen = mux_frame_len(m->in, m->inlen);
			if (flen > MUX_FRAME_MAX) {
				mux_fail(m, "frame longer than the largest");
				break;
			}
			take = flen - m->inlen < len ? flen - m->inlen : len;
			memcpy(m->in + m->inlen, buf, take);
			m->inlen += take;
			buf += take;
			len -= take;
			if (m->inlen < flen)
				break;
			m->inlen = 0;
			mux_in_frame(m, m->in, flen, now);
			continue;
		}
		flen = mux_frame_len(buf, len);
		if (flen > MUX_FRAME_MAX) {
			mux_fail(m, "frame longer than the largest");
			break;
		}
		if (flen == 0 || flen > len) {
			memcpy(m->in, buf, len);	/* len < MUX_FRAME_MAX */
			m->inlen = len;
			break;
		}
		mux_in_frame(m, buf, flen, now);
		buf += flen;
		len -= flen;
	}
	return m->error != NULL ? -1 : 0;
}

/* Copy k bytes from the front of a stream's ring to out, and drop them. */
static void
mux_ring_take(struct mux_stream *s, uint8_t *out, size_t k)
{
	size_t first = MUX_SENDBUF - s->head;

	if (first > k)
		first = k;
	memcpy(out, s->buf + s->head, first);
	memcpy(out + first, s->buf, k - first);
	s->head = (s->head + k) % MUX_SENDBUF;
	s->used -= k;
}

/* One DATA or FIN of the stream whose turn it is; 0 when it does not fit. */
static size_t
mux_out_stream(struct mux *m, uint8_t *buf, size_t room)
{
	struct mux_stream *s = m->list[MUX_L_RR].head;
	uint32_t id = s->id;
	void *udata = s->udata;
	size_t k;
	int writable = 0;

	if (s->used > 0) {
		if (room < MUX_HDR_LEN + 1)
			return 0;
		k = s->used;
		if (k > s->credit)
			k = s->credit;
		if (k > MUX_DATA_MAX)
			k = MUX_DATA_MAX;
		if (k > room - MUX_HDR_LEN)
			k = room - MUX_HDR_LEN;
		mux_build_header(buf, MUX_DATA, k, id);
		mux_ring_take(s, buf + MUX_HDR_LEN, k);
		s->credit -= (uint32_t)k;
		m->st.bytes_out += k;
		k += MUX_HDR_LEN;
		if (s->want_writable && mux_room(m, id) > 0) {
			s->want_writable = 0;
			writable = 1;
		}
	} else {
		struct mux_frame f = { .type = MUX_FIN, .id = id };
		int n;

		if ((n = mux_build(buf, room, &f)) == -1)
			return 0;
		k = (size_t)n;
		s->fin_sent = 1;
	}
	/* to the back of the line */
	mux_list_del(m, MUX_L_RR, s);
	mux_sched(m, s);
	if (s->fin_sent && s->fin_recvd)
		mux_forget(m, s, 1, 0, 0);
	else if (writable && m->cb.on_writable != NULL)
		m->cb.on_writable(m, id, udata);
	return k;
}

/* The first carrier or control frame into buf: its length, 0 if none fits. */
static size_t
mux_out_control(struct mux *m, uint8_t *buf, size_t room, int *none)
{
	struct mux_frame f;
	struct mux_stream *s;
	int n;

	memset(&f, 0, sizeof(f));
	*none = 0;
	if (m->goaway_pending) {
		f.type = MUX_GOAWAY;
		f.value = m->goaway_taken;
		f.reason = m->goaway_reason;
		if ((n = mux_build(buf, room, &f)) == -1)
			return 0;
		m->goaway_pending = 0;
		return (size_t)n;
	}
	if (m->pong_pending || m->ping_pending) {
		f.type = m->pong_pending ? MUX_PONG : MUX_PING;
		memcpy(f.ping, m->pong_pending ? m->pong : m->ping,
		    MUX_PING_LEN);
		if ((n = mux_build(buf, room, &f)) == -1)
			return 0;
		if (f.type == MUX_PONG)
			m->pong_pending = 0;
		else
			m->ping_pending = 0;
		return (size_t)n;
	}
	if (m->rst_used > 0) {
		f.type = MUX_RST;
		f.id = m->resets[m->rst_head].id;
		f.reason = m->resets[m->rst_head].reason;
		if ((n = mux_build(buf, room, &f)) == -1)
			return 0;
		m->rst_head = (m->rst_head + 1) % MUX_RESETS_MAX;
		m->rst_used--;
		return (size_t)n;
	}
	if ((s = m->list[MUX_L_CTL].head) != NULL) {
		f.id = s->id;
		if (s->open_pending) {
			f.type = MUX_OPEN;
			memcpy(f.name, s->name, sizeof(f.name));
		} else {
			f.type = MUX_WINDOW;
			f.value = s->window_pending;
		}
		if ((n = mux_build(buf, room, &f)) == -1)
			return 0;
		if (s->open_pending)
			s->open_pending = 0;
		else
			s->window_pending = 0;
		mux_sched(m, s);
		return (size_t)n;
	}
	*none = 1;
	return 0;
}

size_t
mux_output(struct mux *m, uint8_t *buf, size_t n)
{
	size_t off = 0, k;
	int none;

	if (n < MUX_OUTPUT_MIN)
		return 0;
	for (;;) {
		k = mux_out_control(m, buf + off, n - off, &none);
		if (none) {
			/* a stream's turn: only once no control is waiting */
			if (m->error != NULL || m->list[MUX_L_RR].head == NULL)
				break;
			k = mux_out_stream(m, buf + off, n - off);
		}
		if (k == 0)
			break;
		off += k;
		m->st.frames_out++;
	}
	return off;
}

int
mux_pending(const struct mux *m)
{
	return m->goaway_pending || m->pong_pending || m->ping_pending ||
	    m->rst_used > 0 || (m->error == NULL &&
	    (m->list[MUX_L_CTL].head != NULL ||
	    m->list[MUX_L_RR].head != NULL));
}

uint32_t
mux_open(struct mux *m, const char *service, void *udata)
{
	struct mux_stream *s;
	uint32_t id;

	if (!mux_name_valid(service)) {
		errno = EINVAL;
		return 0;
	}
	if (m->error != NULL || m->goaway_recvd) {
		errno = EPIPE;
		return 0;
	}
	if (m->nstreams >= MUX_STREAMS_MAX || m->next_id > UINT32_MAX) {
		errno = ENOSPC;
		return 0;
	}
	id = (uint32_t)m->next_id;
	if ((s = mux_stream_new(m, id, service, udata)) == NULL)
		return 0;
	m->next_id += 2;
	s->open_pending = 1;
	mux_sched(m, s);
	m->st.opened_out++;
	return id;
}

int
mux_set_udata(struct mux *m, uint32_t id, void *udata)
{
	struct mux_stream *s;

	if ((s = mux_get(m, id)) == NULL)
		return -1;
	s->udata = udata;
	return 0;
}

void *
mux_udata(const struct mux *m, uint32_t id)
{
	const struct mux_stream *s = mux_find(m, id);

	return s != NULL ? s->udata : NULL;
}

size_t
mux_room(const struct mux *m, uint32_t id)
{
	const struct mux_stream *s = mux_find(m, id);
	size_t cap;

	if (s == NULL || s->fin_queued)
		return 0;
	cap = s->credit < MUX_SENDBUF ? s->credit : MUX_SENDBUF;
	return cap > s->used ? cap - s->used : 0;
}

ssize_t
mux_write(struct mux *m, uint32_t id, const uint8_t *data, size_t n)
{
	struct mux_stream *s;
	size_t room, k, tail, first;

	if ((s = mux_get(m, id)) == NULL)
		return -1;
	if (s->fin_queued) {
		errno = EPIPE;
		return -1;
	}
	room = mux_room(m, id);
	k = n < room ? n : room;
	if (k < n || k == room)
		s->want_writable = 1;
	if (k == 0)
		return 0;
	if (s->buf == NULL && (s->buf = malloc(MUX_SENDBUF)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	tail = (s->head + s->used) % MUX_SENDBUF;
	first = MUX_SENDBUF - tail;
	if (first > k)
		first = k;
	memcpy(s->buf + tail, data, first);
	memcpy(s->buf, data + first, k - first);
	s->used += k;
	mux_sched(m, s);
	return (ssize_t)k;
}

int
mux_fin(struct mux *m, uint32_t id)
{
	struct mux_stream *s;

	if ((s = mux_get(m, id)) == NULL)
		return -1;
	if (s->fin_queued) {
		errno = EPIPE;
		return -1;
	}
	s->fin_queued = 1;
	s->want_writable = 0;
	mux_sched(m, s);
	return 0;
}

int
mux_reset(struct mux *m, uint32_t id, uint8_t reason)
{
	struct mux_stream *s;

	if ((s = mux_get(m, id)) == NULL)
		return -1;
	/* a stream whose OPEN never left is dropped without a word */
	if (!s->open_pending) {
		m->st.resets_out++;
		mux_queue_rst(m, id, reason);
		if (m->error != NULL)
			return 0;	/* the carrier failed: closed already */
	}
	mux_forget(m, s, 1, 0, 0);
	return 0;
}

int
mux_consumed(struct mux *m, uint32_t id, size_t n)
{
	struct mux_stream *s;

	if ((s = mux_get(m, id)) == NULL)
		return -1;
	if (n > s->unconsumed) {
		errno = EINVAL;
		return -1;
	}
	s->unconsumed -= (uint32_t)n;
	if (s->fin_recvd)
		return 0;
	s->consumed += (uint32_t)n;
	if (s->consumed >= MUX_WINDOW_INITIAL / 2) {
		s->window_pending += s->consumed;
		s->recv_left += s->consumed;
		s->consumed = 0;
		mux_sched(m, s);
	}
	return 0;
}

int
mux_ping(struct mux *m, uint64_t now)
{
	uint64_t seq;
	int i;

	if (m->error != NULL) {
		errno = EPIPE;
		return -1;
	}
	if (m->ping_outstanding) {
		errno = EBUSY;
		return -1;
	}
	seq = ++m->ping_seq;
	for (i = 0; i < MUX_PING_LEN; i++)
		m->ping[i] = (uint8_t)(seq >> (56 - 8 * i));
	m->ping_time = now;
	m->ping_pending = m->ping_outstanding = 1;
	return 0;
}

void
mux_goaway(struct mux *m, uint8_t reason)
{
	if (m->error != NULL || m->goaway_sent)
		return;
	m->goaway_sent = 1;
	m->goaway_pending = 1;
	m->goaway_reason = reason;
	m->goaway_taken = m->peer_max;
}

const char *
mux_error(const struct mux *m)
{
	return m->error;
}

void
mux_stats(const struct mux *m, struct mux_stats *st)
{
	*st = m->st;
	st->streams = m->nstreams;
}
