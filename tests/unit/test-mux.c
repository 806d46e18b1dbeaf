/* SPDX-License-Identifier: ISC */
/* Unit tests of mux.c: two multiplexers back to back in memory, and a hand-driven peer for every protocol error. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mux.h"
#include "mux-msg.h"

#define MAXID	8200

/* What the application on one side saw of one stream. */
struct app {
	uint8_t		*rx;
	size_t		 rxlen, rxcap;
	size_t		 consumed;
	int		 opened, fin, rst, closed, writable;
	uint8_t		 reason;
	char		 service[MUX_NAME_MAX + 1];
};

struct side {
	struct mux	*m;
	struct app	 s[MAXID];
	int		 refuse;	/* on_open answers this */
	int		 consume;	/* mux_consumed as data comes */
	int		 echo_fin;	/* mux_fin on on_fin */
	int		 bang;		/* on_data of "!...": mux_reset, mux_open */
	int		 pongs, goaways;
	uint64_t	 rtt;
	uint8_t		 goaway_reason;
	uint64_t	 now;
};

static struct side *A, *B;

static struct app *
app_of(struct side *sd, uint32_t id, void *udata)
{
	assert_true(id < MAXID);
	assert_ptr_equal(udata, &sd->s[id]);
	return udata;
}

static struct side *
side_of(struct mux *m)
{
	return A != NULL && A->m == m ? A : B;
}

static int
cb_open(struct mux *m, uint32_t id, const char *service, void *arg)
{
	struct side *sd = arg;

	assert_ptr_equal(side_of(m), sd);
	assert_true(id < MAXID);
	snprintf(sd->s[id].service, sizeof(sd->s[id].service), "%s", service);
	if (sd->refuse != 0)
		return sd->refuse;
	sd->s[id].opened = 1;
	assert_int_equal(mux_set_udata(m, id, &sd->s[id]), 0);
	return 0;
}

static void
cb_data(struct mux *m, uint32_t id, void *udata, const uint8_t *d, size_t len)
{
	struct side *sd = side_of(m);
	struct app *a = app_of(sd, id, udata);

	assert_false(a->fin);
	if (a->rxlen + len > a->rxcap) {
		a->rxcap = (a->rxlen + len) * 2;
		a->rx = realloc(a->rx, a->rxcap);
		assert_non_null(a->rx);
	}
	memcpy(a->rx + a->rxlen, d, len);
	a->rxlen += len;
	if (sd->consume) {
		assert_int_equal(mux_consumed(m, id, len), 0);
		a->consumed += len;
	}
	if (sd->bang && d[0] == '!') {
		/* from inside the callback, on the stream it is about */
		assert_int_equal(mux_reset(m, id, MUX_RST_ABORTED), 0);
		assert_true(a->closed);
		assert_int_equal(mux_open(m, "again", &sd->s[sd->bang]),
		    (uint32_t)sd->bang);
	}
}

static void
cb_fin(struct mux *m, uint32_t id, void *udata)
{
	struct side *sd = side_of(m);
	struct app *a = app_of(sd, id, udata);

	assert_false(a->fin);
	a->fin = 1;
	if (sd->echo_fin)
		assert_int_equal(mux_fin(m, id), 0);
}

static void
cb_rst(struct mux *m, uint32_t id, void *udata, uint8_t reason)
{
	struct app *a = app_of(side_of(m), id, udata);

	assert_false(a->rst);
	assert_false(a->closed);
	assert_null(mux_udata(m, id));
	a->rst = 1;
	a->reason = reason;
}

static void
cb_writable(struct mux *m, uint32_t id, void *udata)
{
	struct app *a = app_of(side_of(m), id, udata);

	assert_true(mux_room(m, id) > 0);
	a->writable++;
}

static void
cb_close(struct mux *m, uint32_t id, void *udata)
{
	struct app *a = app_of(side_of(m), id, udata);

	assert_false(a->closed);
	assert_null(mux_udata(m, id));
	a->closed = 1;
}

static void
cb_pong(struct mux *m, uint64_t rtt, void *arg)
{
	struct side *sd = arg;

	assert_ptr_equal(side_of(m), sd);
	sd->pongs++;
	sd->rtt = rtt;
}

static void
cb_goaway(struct mux *m, uint8_t reason, void *arg)
{
	struct side *sd = arg;

	assert_ptr_equal(side_of(m), sd);
	sd->goaways++;
	sd->goaway_reason = reason;
}

static const struct mux_callbacks cbs = {
	.on_open = cb_open, .on_data = cb_data, .on_fin = cb_fin,
	.on_rst = cb_rst, .on_writable = cb_writable, .on_close = cb_close,
	.on_pong = cb_pong, .on_goaway = cb_goaway,
};

static struct side *
side_new(int initiator)
{
	struct side *sd = calloc(1, sizeof(*sd));

	assert_non_null(sd);
	sd->consume = 1;
	sd->echo_fin = 0;
	assert_non_null(sd->m = mux_new(initiator, &cbs, sd));
	return sd;
}

static void
side_free(struct side *sd)
{
	size_t i;

	if (sd == NULL)
		return;
	for (i = 0; i < MAXID; i++)
		free(sd->s[i].rx);
	free(sd);
}

static int
setup(void **state)
{
	(void)state;
	A = side_new(1);
	B = side_new(0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* both before either side's records go: on_close looks them up */
	mux_free(A->m);
	A->m = NULL;
	mux_free(B->m);
	B->m = NULL;
	side_free(A);
	side_free(B);
	A = B = NULL;
	return 0;
}

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32);
}

/*
 * Move what from has to send into to, in outputs of at most n bytes,
 * each handed over in pieces cut at random when cut: how many bytes.
 */
static size_t
move(struct side *from, struct side *to, size_t n, int cut)
{
	static uint8_t buf[MUX_FRAME_MAX * 4];
	size_t got, off, k, total = 0;

	assert_true(n <= sizeof(buf));
	while ((got = mux_output(from->m, buf, n)) > 0) {
		assert_true(got <= n);
		total += got;
		for (off = 0; off < got; off += k) {
			k = cut ? 1 + rnd() % 3000 : got;
			if (k > got - off)
				k = got - off;
			assert_int_equal(mux_input(to->m, buf + off, k, to->now),
			    0);
		}
	}
	assert_false(mux_pending(from->m));
	return total;
}

/* Both ways until neither has anything to send. */
static void
pump(size_t n, int cut)
{
	while (move(A, B, n, cut) + move(B, A, n, cut) > 0)
		;
}

static void
write_all(struct side *sd, uint32_t id, const void *d, size_t len)
{
	assert_int_equal(mux_write(sd->m, id, d, len), (ssize_t)len);
}

static void
test_open_data_fin(void **state)
{
	struct mux_stats st;
	uint32_t id;

	(void)state;
	id = mux_open(A->m, "ssh", &A->s[1]);
	assert_int_equal(id, 1);
	assert_int_equal(mux_open(A->m, "web", &A->s[3]), 3);
	assert_int_equal(mux_open(B->m, "dns", &B->s[2]), 2);
	write_all(A, 1, "hello", 5);
	assert_int_equal(mux_fin(A->m, 1), 0);
	assert_int_equal(mux_write(A->m, 1, (const uint8_t *)"x", 1), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(mux_fin(A->m, 1), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(mux_room(A->m, 1), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_true(B->s[1].opened);
	assert_string_equal(B->s[1].service, "ssh");
	assert_string_equal(B->s[3].service, "web");
	assert_string_equal(A->s[2].service, "dns");
	assert_int_equal(B->s[1].rxlen, 5);
	assert_memory_equal(B->s[1].rx, "hello", 5);
	assert_true(B->s[1].fin);
	assert_false(B->s[1].closed);
	write_all(B, 1, "world!", 6);
	assert_int_equal(mux_fin(B->m, 1), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(A->s[1].rxlen, 6);
	assert_memory_equal(A->s[1].rx, "world!", 6);
	assert_true(A->s[1].fin && A->s[1].closed && !A->s[1].rst);
	assert_true(B->s[1].closed && !B->s[1].rst);
	assert_int_equal(mux_write(A->m, 1, (const uint8_t *)"x", 1), -1);
	assert_int_equal(errno, ENOENT);
	mux_stats(A->m, &st);
	assert_int_equal(st.streams, 2);
	assert_int_equal(st.opened_out, 2);
	assert_int_equal(st.opened_in, 1);
	assert_int_equal(st.bytes_out, 5);
	assert_int_equal(st.bytes_in, 6);
	mux_stats(B->m, &st);
	assert_int_equal(st.bytes_out, 6);
	assert_int_equal(st.bytes_in, 5);
	assert_int_equal(st.opened_in, 2);
	assert_null(mux_error(A->m));
	assert_null(mux_error(B->m));
}

/* Many streams each way, written in turns, every output cut at random. */
static void
test_many_streams(void **state)
{
	enum { N = 60 };
	static uint8_t data[2][N][70000];
	size_t len[2][N], sent[2][N], k;
	uint32_t id;
	int i, w, busy;

	(void)state;
	for (w = 0; w < 2; w++)
		for (i = 0; i < N; i++) {
			struct side *sd = w == 0 ? A : B;

			len[w][i] = rnd() % sizeof(data[w][i]);
			sent[w][i] = 0;
			for (k = 0; k < len[w][i]; k++)
				data[w][i][k] = (uint8_t)rnd();
			id = (uint32_t)(2 * i + 1 + w);
			assert_int_equal(mux_open(sd->m, "bulk", &sd->s[id]),
			    id);
		}
	do {
		busy = 0;
		for (w = 0; w < 2; w++)
			for (i = 0; i < N; i++) {
				struct side *sd = w == 0 ? A : B;

				id = (uint32_t)(2 * i + 1 + w);
				if (sent[w][i] == len[w][i]) {
					if (!sd->s[id].writable)
						continue;
					/* once: FIN after the last byte */
					sd->s[id].writable = 0;
					assert_int_equal(mux_fin(sd->m, id),
					    0);
					continue;
				}
				busy = 1;
				k = 1 + rnd() % 5000;
				if (k > len[w][i] - sent[w][i])
					k = len[w][i] - sent[w][i];
				k = (size_t)mux_write(sd->m, id,
				    data[w][i] + sent[w][i], k);
				sent[w][i] += k;
				if (sent[w][i] == len[w][i])
					sd->s[id].writable = 1;
			}
		move(A, B, 1 + rnd() % (2 * MUX_FRAME_MAX), 1);
		move(B, A, 1 + rnd() % (2 * MUX_FRAME_MAX), 1);
	} while (busy);
	pump(MUX_FRAME_MAX, 1);
	for (w = 0; w < 2; w++)
		for (i = 0; i < N; i++) {
			struct side *to = w == 0 ? B : A;

			id = (uint32_t)(2 * i + 1 + w);
			assert_int_equal(to->s[id].rxlen, len[w][i]);
			if (len[w][i] > 0)
				assert_memory_equal(to->s[id].rx, data[w][i],
				    len[w][i]);
			assert_true(to->s[id].fin);
			assert_false(to->s[id].rst);
		}
	assert_null(mux_error(A->m));
	assert_null(mux_error(B->m));
}

/* The frames in buf[0..n), their types and ids into t[] and ids[]. */
static size_t
frames(const uint8_t *buf, size_t n, uint8_t *t, uint32_t *ids, size_t *lens,
    size_t max)
{
	struct mux_frame f;
	size_t off, flen, i = 0;

	for (off = 0; off < n; off += flen) {
		flen = mux_frame_len(buf + off, n - off);
		assert_true(flen >= MUX_HDR_LEN && flen <= n - off);
		assert_int_equal(mux_parse(buf + off, flen, &f, NULL), 0);
		assert_true(i < max);
		t[i] = f.type;
		ids[i] = f.id;
		lens[i++] = f.len;
	}
	return i;
}

/*
 * Round robin: the bulk streams take a frame each in turn, and a small
 * write waits behind at most one frame of each other busy stream.
 */
static void
test_fairness(void **state)
{
	static uint8_t big[3][40000], buf[MUX_FRAME_MAX];
	uint8_t t[64];
	uint32_t ids[64], order[64];
	size_t lens[64], n, i, nf, no = 0, at = 0, sum[8] = { 0 };

	(void)state;
	memset(big, 'b', sizeof(big));
	for (i = 0; i < 4; i++)
		assert_int_equal(mux_open(A->m, i < 3 ? "bulk" : "ssh",
		    &A->s[2 * i + 1]), 2 * i + 1);
	n = mux_output(A->m, buf, sizeof(buf));
	nf = frames(buf, n, t, ids, lens, 64);
	assert_int_equal(nf, 4);
	for (i = 0; i < nf; i++)
		assert_int_equal(t[i], MUX_OPEN);
	assert_int_equal(mux_input(B->m, buf, n, 0), 0);
	for (i = 0; i < 3; i++)
		write_all(A, (uint32_t)(2 * i + 1), big[i], sizeof(big[i]));
	while ((n = mux_output(A->m, buf, sizeof(buf))) > 0) {
		nf = frames(buf, n, t, ids, lens, 64);
		for (i = 0; i < nf; i++) {
			assert_int_equal(t[i], MUX_DATA);
			assert_true(no < TU_ARRAY_LEN(order));
			sum[ids[i]] += lens[i];
			order[no++] = ids[i];
		}
		assert_int_equal(mux_input(B->m, buf, n, 0), 0);
		if (at == 0 && no >= 4) {
			/* the interactive stream has something to say */
			write_all(A, 7, "ls\n", 3);
			at = no;
		}
	}
	/* a full frame each, in turn */
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 5);
	assert_int_equal(order[3], 1);
	/* stream 7 behind one frame of each of the three others at most */
	for (i = at; i < no && order[i] != 7; i++)
		;
	assert_true(i < no);
	assert_true(i - at <= 3);
	/* never twice in a row while another stream still has data */
	for (i = 1; i < no; i++)
		if (order[i] == order[i - 1]) {
			size_t j;

			for (j = i + 1; j < no; j++)
				assert_int_equal(order[j], order[i]);
		}
	assert_int_equal(sum[1], 40000);
	assert_int_equal(sum[3], 40000);
	assert_int_equal(sum[5], 40000);
	assert_int_equal(sum[7], 3);
	assert_int_equal(B->s[7].rxlen, 3);
	assert_int_equal(B->s[5].rxlen, 40000);
}

/* A stream whose receiver does not consume stops at the window, then resumes. */
static void
test_flow_control(void **state)
{
	static uint8_t chunk[100000];
	size_t total = 0;
	ssize_t k;
	int i;

	(void)state;
	memset(chunk, 'f', sizeof(chunk));
	B->consume = 0;
	assert_int_equal(mux_open(A->m, "bulk", &A->s[1]), 1);
	assert_int_equal(mux_room(A->m, 1), MUX_SENDBUF);
	for (i = 0; i < 20; i++) {
		k = mux_write(A->m, 1, chunk, sizeof(chunk));
		assert_true(k >= 0);
		total += (size_t)k;
		pump(MUX_FRAME_MAX, 1);
	}
	assert_true(A->s[1].writable > 0);	/* as each 64 KiB went out */
	A->s[1].writable = 0;
	pump(MUX_FRAME_MAX, 1);
	/* stalled at the window: nothing more taken, nothing more sent */
	assert_int_equal(total, MUX_WINDOW_INITIAL);
	assert_int_equal(B->s[1].rxlen, MUX_WINDOW_INITIAL);
	assert_int_equal(mux_room(A->m, 1), 0);
	assert_int_equal(mux_write(A->m, 1, chunk, 1), 0);
	assert_int_equal(A->s[1].writable, 0);
	/* less than half consumed: no WINDOW yet */
	assert_int_equal(mux_consumed(B->m, 1, MUX_WINDOW_INITIAL / 2 - 1),
	    0);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(mux_room(A->m, 1), 0);
	assert_int_equal(A->s[1].writable, 0);
	/* half: WINDOW, and A may write again */
	assert_int_equal(mux_consumed(B->m, 1, 1), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(A->s[1].writable, 1);
	assert_int_equal(mux_room(A->m, 1), MUX_SENDBUF);
	/* consuming more than was given is refused */
	assert_int_equal(mux_consumed(B->m, 1, MUX_WINDOW_INITIAL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(mux_consumed(B->m, 99, 1), -1);
	assert_int_equal(errno, ENOENT);
	B->consume = 1;
	assert_int_equal(mux_consumed(B->m, 1, MUX_WINDOW_INITIAL / 2), 0);
	for (i = 0; i < 10; i++) {
		k = mux_write(A->m, 1, chunk, sizeof(chunk));
		assert_true(k >= 0);
		total += (size_t)k;
		pump(MUX_FRAME_MAX, 1);
	}
	assert_true(total > 3 * MUX_WINDOW_INITIAL);
	assert_int_equal(B->s[1].rxlen, total);
	assert_null(mux_error(B->m));
}

/* Each side half-closes while the other goes on sending. */
static void
test_half_close(void **state)
{
	(void)state;
	/* A finishes first; B goes on, then finishes */
	assert_int_equal(mux_open(A->m, "ssh", &A->s[1]), 1);
	write_all(A, 1, "req", 3);
	assert_int_equal(mux_fin(A->m, 1), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_true(B->s[1].fin);
	write_all(B, 1, "part1", 5);
	pump(MUX_FRAME_MAX, 0);
	write_all(B, 1, "part2", 5);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(A->s[1].rxlen, 10);
	assert_false(A->s[1].closed);
	assert_int_equal(mux_fin(B->m, 1), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_true(A->s[1].fin && A->s[1].closed && B->s[1].closed);
	/* B's side of a stream A opened finishes first */
	assert_int_equal(mux_open(A->m, "ssh", &A->s[3]), 3);
	write_all(A, 3, "x", 1);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(mux_fin(B->m, 3), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_true(A->s[3].fin);
	write_all(A, 3, "more", 4);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(B->s[3].rxlen, 5);
	/* FIN straight after data queued: the data first */
	write_all(A, 3, "last", 4);
	assert_int_equal(mux_fin(A->m, 3), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(B->s[3].rxlen, 9);
	assert_memory_equal(B->s[3].rx, "xmorelast", 9);
	assert_true(A->s[3].closed && B->s[3].closed);
	assert_false(A->s[3].rst || B->s[3].rst);
	/* on_fin answering with FIN at once (echo_fin) */
	B->echo_fin = 1;
	assert_int_equal(mux_open(A->m, "ssh", &A->s[5]), 5);
	assert_int_equal(mux_fin(A->m, 5), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_true(A->s[5].closed && B->s[5].closed && A->s[5].fin);
}

static void
test_reset(void **state)
{
	struct mux_stats st;
	static uint8_t d[50000], buf[MUX_FRAME_MAX];
	size_t n;

	(void)state;
	memset(d, 'r', sizeof(d));
	assert_int_equal(mux_open(A->m, "ssh", &A->s[1]), 1);
	write_all(A, 1, d, 100);
	pump(MUX_FRAME_MAX, 0);
	/* queued data dropped, on_close at once, RST to the peer */
	write_all(A, 1, d, 40000);
	assert_int_equal(mux_reset(A->m, 1, MUX_RST_ABORTED), 0);
	assert_true(A->s[1].closed);
	assert_false(A->s[1].rst);
	assert_int_equal(mux_reset(A->m, 1, MUX_RST_ABORTED), -1);
	assert_int_equal(errno, ENOENT);
	pump(MUX_FRAME_MAX, 0);
	assert_true(B->s[1].rst && B->s[1].closed);
	assert_int_equal(B->s[1].reason, MUX_RST_ABORTED);
	assert_int_equal(B->s[1].rxlen, 100);
	/* B's data for it, already on its way, is late: counted, no error */
	assert_int_equal(mux_open(A->m, "ssh", &A->s[3]), 3);
	pump(MUX_FRAME_MAX, 0);
	write_all(B, 3, "late", 4);
	n = mux_output(B->m, buf, sizeof(buf));
	assert_int_equal(n, 12);
	assert_int_equal(mux_reset(A->m, 3, MUX_RST_ABORTED), 0);
	assert_int_equal(mux_input(A->m, buf, n, 0), 0);
	pump(MUX_FRAME_MAX, 0);
	assert_true(B->s[3].rst);
	mux_stats(A->m, &st);
	assert_int_equal(st.late_frames, 1);
	assert_int_equal(st.resets_out, 2);
	assert_int_equal(A->s[3].rxlen, 0);
	/* reset before its OPEN left: the peer hears nothing at all */
	assert_int_equal(mux_open(A->m, "ssh", &A->s[5]), 5);
	write_all(A, 5, "x", 1);
	assert_int_equal(mux_reset(A->m, 5, MUX_RST_ABORTED), 0);
	assert_false(mux_pending(A->m));
	assert_int_equal(mux_open(A->m, "ssh", &A->s[7]), 7);
	pump(MUX_FRAME_MAX, 0);
	assert_false(B->s[5].opened);
	assert_true(B->s[7].opened);
	mux_stats(B->m, &st);
	assert_int_equal(st.resets_in, 2);
	assert_int_equal(st.streams, 1);
	assert_null(mux_error(B->m));
}

static void
test_refused(void **state)
{
	struct mux_stats st;

	(void)state;
	B->refuse = MUX_RST_NOT_EXPOSED;
	assert_int_equal(mux_open(A->m, "nope", &A->s[1]), 1);
	write_all(A, 1, "data", 4);
	pump(MUX_FRAME_MAX, 0);
	assert_true(A->s[1].rst && A->s[1].closed);
	assert_int_equal(A->s[1].reason, MUX_RST_NOT_EXPOSED);
	assert_string_equal(B->s[1].service, "nope");
	assert_false(B->s[1].opened);
	mux_stats(B->m, &st);
	assert_int_equal(st.refused_in, 1);
	assert_int_equal(st.streams, 0);
	assert_int_equal(st.late_frames, 1);	/* the DATA behind the OPEN */
	assert_int_equal(st.bytes_in, 0);
	B->refuse = MUX_RST_SERVICE_DOWN;
	assert_int_equal(mux_open(A->m, "down", &A->s[3]), 3);
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(A->s[3].reason, MUX_RST_SERVICE_DOWN);
	assert_null(mux_error(A->m));
	assert_null(mux_error(B->m));
}

/* Raw frames into B, as a peer that opens odd ids would send them. */
static int
raw(uint8_t type, uint32_t id, const void *payload, size_t plen)
{
	uint8_t b[MUX_FRAME_MAX + 16];

	b[0] = type;
	b[1] = 0;
	b[2] = (uint8_t)(plen >> 8);
	b[3] = (uint8_t)plen;
	b[4] = (uint8_t)(id >> 24);
	b[5] = (uint8_t)(id >> 16);
	b[6] = (uint8_t)(id >> 8);
	b[7] = (uint8_t)id;
	if (plen > 0)
		memcpy(b + 8, payload, plen);
	return mux_input(B->m, b, 8 + plen, B->now);
}

static int
raw_window(uint32_t id, uint32_t inc)
{
	uint8_t v[4] = {
		(uint8_t)(inc >> 24), (uint8_t)(inc >> 16), (uint8_t)(inc >> 8),
		(uint8_t)inc,
	};

	return raw(MUX_WINDOW, id, v, 4);
}

/* B's output: exactly what frames of which types and ids. */
static size_t
b_output(uint8_t *t, uint32_t *ids, uint8_t *reasons, size_t max)
{
	static uint8_t buf[MUX_FRAME_MAX * 8];
	struct mux_frame f;
	size_t n = 0, got, off, flen;

	while ((got = mux_output(B->m, buf, sizeof(buf))) > 0)
		for (off = 0; off < got; off += flen) {
			flen = mux_frame_len(buf + off, got - off);
			assert_int_equal(mux_parse(buf + off, flen, &f, NULL),
			    0);
			if (n < max) {
				t[n] = f.type;
				ids[n] = f.id;
				reasons[n] = f.reason;
			}
			n++;
		}
	return n;
}

/* B failed: why, one GOAWAY (protocol) out, every stream closed. */
static void
assert_failed(const char *why)
{
	uint8_t t[4], r[4];
	uint32_t ids[4];
	size_t i;

	assert_non_null(mux_error(B->m));
	assert_string_equal(mux_error(B->m), why);
	assert_int_equal(b_output(t, ids, r, 4), 1);
	assert_int_equal(t[0], MUX_GOAWAY);
	assert_int_equal(r[0], MUX_GOAWAY_PROTOCOL);
	assert_false(mux_pending(B->m));
	for (i = 0; i < MAXID; i++)
		if (B->s[i].opened)
			assert_true(B->s[i].closed && B->s[i].rst);
	assert_int_equal(raw(MUX_FIN, 1, NULL, 0), -1);
	assert_int_equal(mux_open(B->m, "ssh", NULL), 0);
	assert_int_equal(errno, EPIPE);
	{
		uint8_t buf[MUX_FRAME_MAX];

		assert_int_equal(mux_output(B->m, buf, sizeof(buf)), 0);
	}
	assert_int_equal(mux_ping(B->m, 0), -1);
	assert_int_equal(errno, EPIPE);
}

/* A stream-level error: the stream is reset, the carrier lives on. */
static void
assert_stream_reset(uint32_t id)
{
	uint8_t t[8], r[8];
	uint32_t ids[8];
	size_t n;

	assert_null(mux_error(B->m));
	assert_true(B->s[id].rst && B->s[id].closed);
	assert_int_equal(B->s[id].reason, MUX_RST_PROTOCOL);
	n = b_output(t, ids, r, 8);
	assert_int_equal(n, 1);
	assert_int_equal(t[0], MUX_RST);
	assert_int_equal(ids[0], id);
	assert_int_equal(r[0], MUX_RST_PROTOCOL);
}

static void
test_err_parity(void **state)
{
	(void)state;
	assert_int_equal(raw(MUX_OPEN, 1, "ssh", 3), 0);
	assert_int_equal(raw(MUX_OPEN, 2, "ssh", 3), -1);
	assert_failed("OPEN with a stream id of this side's");
}

static void
test_err_duplicate_open(void **state)
{
	(void)state;
	assert_int_equal(raw(MUX_OPEN, 5, "ssh", 3), 0);
	assert_int_equal(raw(MUX_OPEN, 5, "ssh", 3), -1);
	assert_failed("OPEN of a stream id already used");
}

static void
test_err_reused_id(void **state)
{
	(void)state;
	assert_int_equal(raw(MUX_OPEN, 5, "ssh", 3), 0);
	assert_int_equal(raw(MUX_RST, 5, "\x06", 1), 0);
	assert_true(B->s[5].closed);
	/* an id below the highest: reuse, even of a closed stream */
	assert_int_equal(raw(MUX_OPEN, 3, "ssh", 3), -1);
	assert_failed("OPEN of a stream id already used");
}

static void
test_err_unknown_stream(void **state)
{
	(void)state;
	assert_int_equal(raw(MUX_OPEN, 1, "ssh", 3), 0);
	assert_int_equal(raw(MUX_DATA, 3, "x", 1), -1);
	assert_failed("frame for a stream never opened");
}

static void
test_err_unknown_own_stream(void **state)
{
	(void)state;
	assert_int_equal(mux_open(B->m, "ssh", &B->s[2]), 2);
	assert_int_equal(raw_window(2, 10), 0);
	assert_int_equal(raw(MUX_FIN, 4, NULL, 0), -1);
	assert_failed("frame for a stream never opened");
	assert_true(B->s[2].closed && B->s[2].rst);
}

static void
test_err_malformed(void **state)
{
	static const uint8_t flags[] = { 4, 1, 0, 0, 0, 0, 0, 1 };

	(void)state;
	assert_int_equal(mux_input(B->m, flags, sizeof(flags), 0), -1);
	assert_failed("frame flags not 0");
}

static void
test_err_too_long(void **state)
{
	static const uint8_t big[] = { 2, 0, 0x40, 0x01, 0, 0, 0, 1 };

	(void)state;
	/* a header announcing 16385 bytes: refused before they come */
	assert_int_equal(mux_input(B->m, big, 4, 0), 0);
	assert_int_equal(mux_input(B->m, big + 4, 4, 0), -1);
	assert_failed("frame longer than the largest");
}

static void
test_err_beyond_window(void **state)
{
	static uint8_t d[MUX_DATA_MAX];
	int i;

	(void)state;
	memset(d, 'w', sizeof(d));
	B->consume = 0;
	assert_int_equal(raw(MUX_OPEN, 1, "ssh", 3), 0);
	for (i = 0; i < MUX_WINDOW_INITIAL / MUX_DATA_MAX; i++)
		assert_int_equal(raw(MUX_DATA, 1, d, sizeof(d)), 0);
	assert_int_equal(B->s[1].rxlen, MUX_WINDOW_INITIAL);
	assert_false(B->s[1].rst);
	assert_int_equal(raw(MUX_DATA, 1, d, 1), 0);
	assert_stream_reset(1);
	assert_int_equal(B->s[1].rxlen, MUX_WINDOW_INITIAL);
}

static void
test_err_data_after_fin(void **state)
{
	(void)state;
	assert_int_equal(raw(MUX_OPEN, 1, "ssh", 3), 0);
	assert_int_equal(raw(MUX_FIN, 1, NULL, 0), 0);
	assert_true(B->s[1].fin);
	assert_int_equal(raw(MUX_DATA, 1, "x", 1), 0);
	assert_stream_reset(1);
	assert_int_equal(B->s[1].rxlen, 0);
}

static void
test_err_second_fin(void **state)
{
	(void)state;
	assert_int_equal(raw(MUX_OPEN, 1, "ssh", 3), 0);
	assert_int_equal(raw(MUX_FIN, 1, NULL, 0), 0);
	assert_int_equal(raw(MUX_FIN, 1, NULL, 0), 0);
	assert_stream_reset(1);
}

static void
test_err_window_overflow(void **state)
{
	(void)state;
	assert_int_equal(raw(MUX_OPEN, 1, "ssh", 3), 0);
	assert_int_equal(raw_window(1, MUX_WINDOW_MAX - MUX_WINDOW_INITIAL),
	    0);
	assert_false(B->s[1].rst);
	assert_int_equal(raw_window(1, 1), 0);
	assert_stream_reset(1);
}

/* 1024 streams at most; the peer's 1025th is refused, ours is not made. */
static void
test_stream_limit(void **state)
{
	uint8_t t[8], r[8];
	uint32_t ids[8], id;
	struct mux_stats st;
	int i;

	(void)state;
	for (i = 0; i < MUX_STREAMS_MAX / 2; i++)
		assert_int_equal(raw(MUX_OPEN, (uint32_t)(2 * i + 1), "s", 1),
		    0);
	for (i = 0; i < MUX_STREAMS_MAX / 2; i++)
		assert_int_equal(mux_open(B->m, "s", &B->s[2 * i + 2]),
		    2 * i + 2);
	assert_int_equal(mux_open(B->m, "s", NULL), 0);
	assert_int_equal(errno, ENOSPC);
	(void)b_output(t, ids, r, 0);		/* the OPENs */
	id = MUX_STREAMS_MAX + 1;
	assert_int_equal(raw(MUX_OPEN, id, "s", 1), 0);
	assert_int_equal(b_output(t, ids, r, 8), 1);
	assert_int_equal(t[0], MUX_RST);
	assert_int_equal(ids[0], id);
	assert_int_equal(r[0], MUX_RST_REFUSED);
	mux_stats(B->m, &st);
	assert_int_equal(st.streams, MUX_STREAMS_MAX);
	assert_int_equal(st.refused_in, 1);
	/* one closes: room for one more */
	assert_int_equal(raw(MUX_RST, 1, "\x06", 1), 0);
	assert_int_equal(mux_open(B->m, "s", &B->s[MUX_STREAMS_MAX + 2]),
	    MUX_STREAMS_MAX + 2);
	assert_null(mux_error(B->m));
}

/* Resets that cannot be sent pile up to a bound, then the carrier fails. */
static void
test_resets_bounded(void **state)
{
	int i;

	(void)state;
	B->refuse = MUX_RST_NOT_ALLOWED;
	for (i = 0; i < MUX_RESETS_MAX; i++)
		assert_int_equal(raw(MUX_OPEN, (uint32_t)(2 * i + 1), "s", 1),
		    0);
	assert_int_equal(raw(MUX_OPEN, 2 * MUX_RESETS_MAX + 1, "s", 1), -1);
	assert_failed("too many resets waiting to be sent");
}

static void
test_ping(void **state)
{
	static const uint8_t forged[] = {
		7, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9,
	};

	(void)state;
	A->now = 1000;
	assert_int_equal(mux_ping(A->m, A->now), 0);
	assert_int_equal(mux_ping(A->m, A->now), -1);
	assert_int_equal(errno, EBUSY);
	move(A, B, MUX_FRAME_MAX, 0);
	/* a PONG that is not the answer: nothing */
	assert_int_equal(mux_input(A->m, forged, sizeof(forged), 1100), 0);
	assert_int_equal(A->pongs, 0);
	A->now = 1250;
	move(B, A, MUX_FRAME_MAX, 0);
	assert_int_equal(A->pongs, 1);
	assert_int_equal(A->rtt, 250);
	{
		struct mux_stats st;

		mux_stats(A->m, &st);
		assert_int_equal(st.rtt, 250);
	}
	/* the same PONG again: not outstanding any more */
	assert_int_equal(mux_ping(A->m, 2000), 0);
	A->now = 2100;
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(A->pongs, 2);
	assert_int_equal(A->rtt, 100);
	assert_int_equal(B->pongs, 0);
}

static void
test_goaway(void **state)
{
	(void)state;
	assert_int_equal(mux_open(A->m, "ssh", &A->s[1]), 1);
	pump(MUX_FRAME_MAX, 0);
	/* stream 3's OPEN crosses B's GOAWAY on the wire */
	assert_int_equal(mux_open(A->m, "ssh", &A->s[3]), 3);
	mux_goaway(B->m, MUX_GOAWAY_NORMAL);
	/* the peer's last stream taken: 1, even if 3's OPEN came first */
	move(A, B, MUX_FRAME_MAX, 0);
	assert_false(B->s[3].opened);
	{
		static uint8_t buf[MUX_FRAME_MAX];
		struct mux_frame f;
		size_t n = mux_output(B->m, buf, sizeof(buf));

		/* GOAWAY, then the RST refusing 3 */
		assert_int_equal(n, 13 + 9);
		assert_int_equal(mux_parse(buf, 13, &f, NULL), 0);
		assert_int_equal(f.type, MUX_GOAWAY);
		assert_int_equal(f.value, 1);
		assert_int_equal(mux_input(A->m, buf, n, 0), 0);
	}
	assert_int_equal(A->goaways, 1);
	assert_int_equal(A->goaway_reason, MUX_GOAWAY_NORMAL);
	assert_true(A->s[3].rst && A->s[3].closed);
	assert_int_equal(A->s[3].reason, MUX_RST_REFUSED);
	assert_false(A->s[1].closed);
	assert_int_equal(mux_open(A->m, "ssh", &A->s[5]), 0);
	assert_int_equal(errno, EPIPE);
	/* stream 1 still works both ways */
	write_all(A, 1, "still", 5);
	assert_int_equal(mux_fin(A->m, 1), 0);
	B->echo_fin = 1;
	pump(MUX_FRAME_MAX, 0);
	assert_int_equal(B->s[1].rxlen, 5);
	assert_true(A->s[1].closed && B->s[1].closed);
	assert_null(mux_error(A->m));
	assert_null(mux_error(B->m));
}

/* Every frame fed a byte at a time, and outputs of the smallest size. */
static void
test_byte_at_a_time(void **state)
{
	static uint8_t buf[MUX_FRAME_MAX];
	uint8_t d[300];
	size_t n, i, total = 0;

	(void)state;
	memset(d, 'q', sizeof(d));
	assert_int_equal(mux_open(A->m, "abcdefghijklmnopqrstuvwxyz012345",
	    &A->s[1]), 1);
	write_all(A, 1, d, sizeof(d));
	assert_int_equal(mux_fin(A->m, 1), 0);
	assert_int_equal(mux_output(A->m, buf, MUX_OUTPUT_MIN - 1), 0);
	while ((n = mux_output(A->m, buf, MUX_OUTPUT_MIN)) > 0) {
		assert_true(n <= MUX_OUTPUT_MIN);
		for (i = 0; i < n; i++)
			assert_int_equal(mux_input(B->m, buf + i, 1, 0), 0);
		total += n;
	}
	assert_int_equal(B->s[1].rxlen, sizeof(d));
	assert_true(B->s[1].fin);
	assert_string_equal(B->s[1].service,
	    "abcdefghijklmnopqrstuvwxyz012345");
	assert_int_equal(mux_open(A->m, "Bad", NULL), 0);
	assert_int_equal(errno, EINVAL);
}

/* Callbacks that call the mux back: a reset and an open inside on_data. */
static void
test_reentrant(void **state)
{
	static const uint8_t two[] = {
		2, 0, 0, 2, 0, 0, 0, 1, '!', 'x',	/* DATA 1 "!x" */
		2, 0, 0, 1, 0, 0, 0, 1, 'y',		/* DATA 1 "y": late */
	};
	struct mux_stats st;

	(void)state;
	B->bang = 2;
	assert_int_equal(mux_open(A->m, "ssh", &A->s[1]), 1);
	write_all(A, 1, "hi", 2);
	pump(MUX_FRAME_MAX, 0);
	/* the frames of one input: the second is for a stream gone */
	assert_int_equal(mux_input(B->m, two, sizeof(two), 0), 0);
	assert_int_equal(B->s[1].rxlen, 4);
	assert_true(B->s[1].closed);
	mux_stats(B->m, &st);
	assert_int_equal(st.late_frames, 1);
	pump(MUX_FRAME_MAX, 0);
	assert_true(A->s[1].rst && A->s[1].closed);
	assert_int_equal(A->s[1].reason, MUX_RST_ABORTED);
	assert_string_equal(A->s[2].service, "again");
	assert_null(mux_error(A->m));
	assert_null(mux_error(B->m));
}

/* mux_free ends every stream with on_close, and only that. */
static void
test_free_closes(void **state)
{
	(void)state;
	assert_int_equal(mux_open(A->m, "ssh", &A->s[1]), 1);
	assert_int_equal(mux_open(A->m, "ssh", &A->s[3]), 3);
	pump(MUX_FRAME_MAX, 0);
	mux_free(A->m);
	A->m = mux_new(1, &cbs, A);
	assert_true(A->s[1].closed && A->s[3].closed);
	assert_false(A->s[1].rst || A->s[3].rst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_open_data_fin),
		T(test_many_streams),
		T(test_fairness),
		T(test_flow_control),
		T(test_half_close),
		T(test_reset),
		T(test_refused),
		T(test_err_parity),
		T(test_err_duplicate_open),
		T(test_err_reused_id),
		T(test_err_unknown_stream),
		T(test_err_unknown_own_stream),
		T(test_err_malformed),
		T(test_err_too_long),
		T(test_err_beyond_window),
		T(test_err_data_after_fin),
		T(test_err_second_fin),
		T(test_err_window_overflow),
		T(test_stream_limit),
		T(test_resets_bounded),
		T(test_ping),
		T(test_goaway),
		T(test_byte_at_a_time),
		T(test_reentrant),
		T(test_free_closes),
#undef T
	};

	return TU_RUN("mux", tests);
}
