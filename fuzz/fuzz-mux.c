/* SPDX-License-Identifier: ISC */
/* Fuzz target: the multiplexer's frames and UDP flow frames (mux-msg.c), and the input as a carrier's bytes into a mux (mux.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mux.h"
#include "mux-msg.h"

struct fz {
	long	live;		/* streams opened or taken, not closed */
};

static uint8_t	out[MUX_FRAME_MAX * 2];

static int
fz_open(struct mux *m, uint32_t id, const char *service, void *arg)
{
	struct fz *z = arg;

	CHECK(mux_name_valid(service));
	CHECK(mux_udata(m, id) == NULL);
	if (service[0] == 'r')
		return MUX_RST_NOT_EXPOSED;
	z->live++;
	CHECK(mux_set_udata(m, id, z) == 0);
	return 0;
}

static void
fz_data(struct mux *m, uint32_t id, void *udata, const uint8_t *d,
    size_t len)
{
	CHECK(udata != NULL);
	CHECK(len >= 1 && len <= MUX_DATA_MAX);
	/* echo what fits, consume it all, reset on a '!' */
	(void)mux_write(m, id, d, len);
	CHECK(mux_consumed(m, id, len) == 0);
	if (d[0] == '!')
		CHECK(mux_reset(m, id, MUX_RST_ABORTED) == 0);
}

static void
fz_fin(struct mux *m, uint32_t id, void *udata)
{
	CHECK(udata != NULL);
	(void)mux_fin(m, id);
}

static void
fz_rst(struct mux *m, uint32_t id, void *udata, uint8_t reason)
{
	(void)reason;
	CHECK(udata != NULL);
	CHECK(mux_udata(m, id) == NULL);	/* forgotten before */
}

static void
fz_close(struct mux *m, uint32_t id, void *udata)
{
	struct fz *z = udata;

	CHECK(z != NULL);
	CHECK(mux_udata(m, id) == NULL);
	CHECK(mux_room(m, id) == 0);
	z->live--;
	CHECK(z->live >= 0);
}

/* Everything a mux gives is frames that parse, one after another. */
static void
fz_drain(struct mux *m, size_t n)
{
	struct mux_frame f;
	size_t got, off, flen;
	int rounds = 0;

	while ((got = mux_output(m, out, n)) > 0) {
		CHECK(got <= n);
		for (off = 0; off < got; off += flen) {
			flen = mux_frame_len(out + off, got - off);
			CHECK(flen >= MUX_HDR_LEN && flen <= got - off);
			CHECK(mux_parse(out + off, flen, &f, NULL) == 0);
		}
		CHECK(++rounds < 10000);
	}
	CHECK(!mux_pending(m));
}

static void
fz_mux(const uint8_t *data, size_t size, int initiator)
{
	static const struct mux_callbacks cb = {
		.on_open = fz_open, .on_data = fz_data, .on_fin = fz_fin,
		.on_rst = fz_rst, .on_close = fz_close,
	};
	struct fz z = { 0 };
	struct mux_stats st;
	struct mux *m;
	size_t off = 0, cut;
	uint32_t id;
	int rc = 0;

	CHECK((m = mux_new(initiator, &cb, &z)) != NULL);
	/* a stream of ours, so that the peer's frames can reach one */
	CHECK((id = mux_open(m, "ssh", &z)) == (initiator ? 1u : 2u));
	z.live++;
	CHECK(mux_write(m, id, (const uint8_t *)"hello", 5) == 5);
	fz_drain(m, sizeof(out));
	while (off < size && rc == 0) {
		/* cut the input where its bytes say, to cross frames */
		cut = 1 + (size_t)(data[off] % 61) * (1 + initiator * 7);
		if (cut > size - off)
			cut = size - off;
		rc = mux_input(m, data + off, cut, off);
		off += cut;
		if (rc == -1)
			CHECK(mux_error(m) != NULL && z.live == 0);
		fz_drain(m, off % 2 ? sizeof(out) : MUX_OUTPUT_MIN);
		if (rc == 0 && off % 3 == 0)
			(void)mux_ping(m, off);
	}
	mux_stats(m, &st);
	CHECK(st.streams <= MUX_STREAMS_MAX);
	CHECK((long)st.streams == z.live);
	CHECK(st.bytes_in <= size);
	mux_free(m);
	CHECK(z.live == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mux_frame f;
	struct mux_flow fl;
	const char *err;
	size_t off, flen;
	int n;

	/* the input as a run of frames, as far as they parse */
	for (off = 0; off < size; off += flen) {
		flen = mux_frame_len(data + off, size - off);
		if (flen == 0 || flen > size - off)
			break;
		err = NULL;
		if (mux_parse(data + off, flen, &f, &err) == -1) {
			CHECK(err != NULL);
			CHECK(fuzz_all_zero(&f, sizeof(f)));
			break;
		}
		CHECK(err == NULL);
		CHECK(f.type == data[off]);
		n = mux_build(out, sizeof(out), &f);
		CHECK(n > 0 && (size_t)n == flen);
		CHECK(memcmp(out, data + off, flen) == 0);
	}
	/* the input as a UDP flow frame */
	err = NULL;
	if (mux_flow_parse(data, size, &fl, &err) == 0) {
		CHECK(err == NULL);
		CHECK(mux_name_valid(fl.name) && fl.id != 0);
		CHECK(fl.len == size - MUX_FLOW_HDR_LEN - strlen(fl.name));
		if (size <= sizeof(out)) {
			n = mux_flow_build(out, sizeof(out), &fl);
			CHECK(n > 0 && (size_t)n == size);
			CHECK(memcmp(out, data, size) == 0);
		}
	} else
		CHECK(err != NULL && fuzz_all_zero(&fl, sizeof(fl)));
	/* the input as what a peer sent, on either side of the carrier */
	fz_mux(data, size, 0);
	fz_mux(data, size, 1);
	return 0;
}
