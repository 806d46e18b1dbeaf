/* SPDX-License-Identifier: ISC */
/* Unit tests of mux-msg.c: frames and UDP flow frames written out by hand, round trips, every truncation and refusal. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mux-msg.h"

/* The frames as include/mux-msg.h draws them, byte by byte. */
static const uint8_t f_open[] = {		/* OPEN 1 "ssh" */
	0x01, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 's', 's', 'h',
};
static const uint8_t f_data[] = {		/* DATA 0x01020304 "hi!" */
	0x02, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04, 'h', 'i', '!',
};
static const uint8_t f_window[] = {		/* WINDOW 2 +131072 */
	0x03, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x02, 0x00, 0x00,
};
static const uint8_t f_fin[] = {		/* FIN 7 */
	0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
};
static const uint8_t f_rst[] = {		/* RST 9 not exposed */
	0x05, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x02,
};
static const uint8_t f_ping[] = {
	0x06, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
	0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03,
};
static const uint8_t f_pong[] = {
	0x07, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
	0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03,
};
static const uint8_t f_goaway[] = {		/* GOAWAY last 12, protocol */
	0x08, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x0c, 0x01,
};
/* flow 0xcafef00d to "game", 3 bytes */
static const uint8_t fl_game[] = {
	0x10, 0x00, 0x04, 0x00, 0xca, 0xfe, 0xf0, 0x0d, 'g', 'a', 'm', 'e',
	0x01, 0x02, 0x03,
};

static const struct {
	const char	*what;
	const uint8_t	*b;
	size_t		 len;
} good[] = {
	{ "OPEN", f_open, sizeof(f_open) },
	{ "DATA", f_data, sizeof(f_data) },
	{ "WINDOW", f_window, sizeof(f_window) },
	{ "FIN", f_fin, sizeof(f_fin) },
	{ "RST", f_rst, sizeof(f_rst) },
	{ "PING", f_ping, sizeof(f_ping) },
	{ "PONG", f_pong, sizeof(f_pong) },
	{ "GOAWAY", f_goaway, sizeof(f_goaway) },
};

static int
parse(const uint8_t *b, size_t len, void *out, const char **err)
{
	return mux_parse(b, len, out, err);
}

static int
flow_parse(const uint8_t *b, size_t len, void *out, const char **err)
{
	return mux_flow_parse(b, len, out, err);
}

static void
test_fields(void **state)
{
	struct mux_frame f;

	(void)state;
	tu_parse_ok(parse, f_open, sizeof(f_open), &f, sizeof(f));
	assert_int_equal(f.type, MUX_OPEN);
	assert_int_equal(f.id, 1);
	assert_string_equal(f.name, "ssh");
	tu_parse_ok(parse, f_data, sizeof(f_data), &f, sizeof(f));
	assert_int_equal(f.type, MUX_DATA);
	assert_int_equal(f.id, 0x01020304);
	assert_int_equal(f.len, 3);
	tu_parse_ok(parse, f_window, sizeof(f_window), &f, sizeof(f));
	assert_int_equal(f.type, MUX_WINDOW);
	assert_int_equal(f.id, 2);
	assert_int_equal(f.value, 131072);
	tu_parse_ok(parse, f_fin, sizeof(f_fin), &f, sizeof(f));
	assert_int_equal(f.type, MUX_FIN);
	assert_int_equal(f.id, 7);
	tu_parse_ok(parse, f_rst, sizeof(f_rst), &f, sizeof(f));
	assert_int_equal(f.type, MUX_RST);
	assert_int_equal(f.id, 9);
	assert_int_equal(f.reason, MUX_RST_NOT_EXPOSED);
	assert_string_equal(mux_rst_str(f.reason), "not exposed");
	tu_parse_ok(parse, f_ping, sizeof(f_ping), &f, sizeof(f));
	assert_int_equal(f.type, MUX_PING);
	assert_memory_equal(f.ping, f_ping + 8, 8);
	tu_parse_ok(parse, f_pong, sizeof(f_pong), &f, sizeof(f));
	assert_int_equal(f.type, MUX_PONG);
	tu_parse_ok(parse, f_goaway, sizeof(f_goaway), &f, sizeof(f));
	assert_int_equal(f.type, MUX_GOAWAY);
	assert_int_equal(f.value, 12);
	assert_int_equal(f.reason, MUX_GOAWAY_PROTOCOL);
	assert_string_equal(mux_type_str(MUX_GOAWAY), "GOAWAY");
	assert_string_equal(mux_type_str(0), "unknown");
	assert_string_equal(mux_type_str(200), "unknown");
	assert_string_equal(mux_rst_str(0), "unknown reason");
	assert_string_equal(mux_rst_str(77), "unknown reason");
	assert_string_equal(mux_rst_str(MUX_RST_RELAY_ONLY),
	    "relay always: through the relay only");
}

/* What mux_parse gives, mux_build writes back byte for byte. */
static void
test_roundtrip(void **state)
{
	struct mux_frame f;
	uint8_t out[MUX_FRAME_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(good); i++) {
		/* in place: a DATA frame points into what was parsed */
		assert_int_equal(mux_parse(good[i].b, good[i].len, &f, NULL),
		    0);
		assert_int_equal(mux_frame_len(good[i].b, good[i].len),
		    good[i].len);
		assert_int_equal(mux_build(out, sizeof(out), &f),
		    (int)good[i].len);
		assert_memory_equal(out, good[i].b, good[i].len);
		/* one byte short of room: refused */
		assert_int_equal(mux_build(out, good[i].len - 1, &f), -1);
	}
}

/* Every cut of every frame is refused, and mux_frame_len says wait. */
static void
test_truncations(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(good); i++)
		for (n = 0; n < good[i].len; n++) {
			tu_parse_fails(parse, good[i].b, n,
			    sizeof(struct mux_frame), n < MUX_HDR_LEN ?
			    "frame header truncated" : "frame truncated");
			if (n < MUX_HDR_LEN)
				assert_int_equal(mux_frame_len(good[i].b, n),
				    0);
			else
				assert_true(mux_frame_len(good[i].b, n) > n);
		}
}

/* Change one byte of a good frame (or its length) and expect why. */
static void
bad(const uint8_t *b, size_t len, size_t at, uint8_t v, const char *why)
{
	uint8_t c[64];

	assert_true(len <= sizeof(c));
	memcpy(c, b, len);
	if (at < len)
		c[at] = v;
	tu_parse_fails(parse, c, len, sizeof(struct mux_frame), why);
}

static void
test_refusals(void **state)
{
	uint8_t c[64];

	(void)state;
	bad(f_fin, 8, 0, 0, "unknown frame type");
	bad(f_fin, 8, 0, 9, "unknown frame type");
	bad(f_fin, 8, 0, 0xff, "unknown frame type");
	bad(f_fin, 8, 1, 1, "frame flags not 0");
	bad(f_fin, 8, 1, 0x80, "frame flags not 0");
	bad(f_fin, 8, 7, 0, "stream id 0");
	bad(f_data, sizeof(f_data), 3, 4, "frame truncated");
	bad(f_data, sizeof(f_data), 3, 2, "bytes after the frame");
	bad(f_rst, sizeof(f_rst), 7, 0, "stream id 0");
	bad(f_open, sizeof(f_open), 7, 0, "stream id 0");
	bad(f_window, sizeof(f_window), 7, 0, "stream id 0");
	bad(f_ping, sizeof(f_ping), 7, 1, "stream id on a carrier frame");
	bad(f_pong, sizeof(f_pong), 4, 1, "stream id on a carrier frame");
	bad(f_goaway, sizeof(f_goaway), 5, 1, "stream id on a carrier frame");
	/* service names: each refused byte, and the bounds */
	bad(f_open, sizeof(f_open), 8, 'S', "bad service name");
	bad(f_open, sizeof(f_open), 9, '/', "bad service name");
	bad(f_open, sizeof(f_open), 10, 0, "bad service name");
	bad(f_open, sizeof(f_open), 10, ' ', "bad service name");
	bad(f_open, sizeof(f_open), 10, 0xc3, "bad service name");
	/* window increments 0 and 2^31 */
	bad(f_window, sizeof(f_window), 9, 0, "window increment out of range");
	memcpy(c, f_window, sizeof(f_window));
	memcpy(c + 8, "\x80\x00\x00\x00", 4);
	tu_parse_fails(parse, c, sizeof(f_window), sizeof(struct mux_frame),
	    "window increment out of range");
	memcpy(c + 8, "\x7f\xff\xff\xff", 4);
	{
		struct mux_frame f;

		tu_parse_ok(parse, c, sizeof(f_window), &f, sizeof(f));
		assert_int_equal(f.value, MUX_WINDOW_MAX);
	}
	/* one byte too many after a frame */
	memcpy(c, f_fin, 8);
	c[8] = 0;
	tu_parse_fails(parse, c, 9, sizeof(struct mux_frame),
	    "bytes after the frame");
}

/* Each type with each wrong payload length. */
static void
test_lengths(void **state)
{
	static const struct {
		uint8_t	type;
		size_t	min, max;
	} t[] = {
		{ MUX_OPEN, 1, 32 }, { MUX_DATA, 1, 16384 },
		{ MUX_WINDOW, 4, 4 }, { MUX_FIN, 0, 0 }, { MUX_RST, 1, 1 },
		{ MUX_PING, 8, 8 }, { MUX_PONG, 8, 8 }, { MUX_GOAWAY, 5, 5 },
	};
	uint8_t *b = malloc(MUX_HDR_LEN + 65535);
	struct mux_frame f;
	const char *err;
	size_t i, plen;
	int carrier, rc;

	(void)state;
	assert_non_null(b);
	memset(b, 'a', MUX_HDR_LEN + 65535);
	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		carrier = t[i].type >= MUX_PING;
		for (plen = 0; plen <= 65535;
		    plen = plen < 40 ? plen + 1 : plen * 2 + 1) {
			b[0] = t[i].type;
			b[1] = 0;
			b[2] = (uint8_t)(plen >> 8);
			b[3] = (uint8_t)plen;
			memcpy(b + 4, carrier ? "\0\0\0\0" : "\0\0\0\5", 4);
			if (t[i].type == MUX_WINDOW)
				memcpy(b + 8, "\0\0\0\1", 4);
			rc = tu_parse_exact(parse, b, MUX_HDR_LEN + plen, &f,
			    sizeof(f), &err);
			if (plen >= t[i].min && plen <= t[i].max)
				assert_int_equal(rc, 0);
			else {
				assert_int_equal(rc, -1);
				assert_string_equal(err,
				    "frame length wrong for its type");
			}
		}
	}
	/* the largest DATA parses and builds */
	b[0] = MUX_DATA;
	b[2] = MUX_DATA_MAX >> 8;
	b[3] = MUX_DATA_MAX & 0xff;
	memcpy(b + 4, "\0\0\0\5", 4);
	tu_parse_ok(parse, b, MUX_FRAME_MAX, &f, sizeof(f));
	assert_int_equal(f.len, MUX_DATA_MAX);
	free(b);
}

static void
test_build_refusals(void **state)
{
	struct mux_frame f;
	uint8_t out[MUX_FRAME_MAX + 1], d[MUX_DATA_MAX + 1];

	(void)state;
	memset(d, 0, sizeof(d));
	memset(&f, 0, sizeof(f));
	f.type = MUX_OPEN;
	f.id = 3;
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);	/* no name */
	snprintf(f.name, sizeof(f.name), "Ssh");
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);
	memset(f.name, 'a', MUX_NAME_MAX);
	f.name[MUX_NAME_MAX] = '\0';
	assert_int_equal(mux_build(out, sizeof(out), &f), 8 + MUX_NAME_MAX);
	f.id = 0;
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);
	f.type = MUX_PING;
	assert_int_equal(mux_build(out, sizeof(out), &f), 16);
	f.id = 1;
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);
	f.type = MUX_WINDOW;
	f.value = 0;
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);
	f.value = MUX_WINDOW_MAX + 1;
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);
	f.type = 0;
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);
	f.type = 9;
	assert_int_equal(mux_build(out, sizeof(out), &f), -1);
	assert_int_equal(mux_build_data(out, sizeof(out), 1, d, 0), -1);
	assert_int_equal(mux_build_data(out, sizeof(out), 0, d, 1), -1);
	assert_int_equal(mux_build_data(out, sizeof(out), 1, d,
	    MUX_DATA_MAX + 1), -1);
	assert_int_equal(mux_build_data(out, MUX_FRAME_MAX - 1, 1, d,
	    MUX_DATA_MAX), -1);
	assert_int_equal(mux_build_data(out, MUX_FRAME_MAX, 1, d,
	    MUX_DATA_MAX), MUX_FRAME_MAX);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(mux_name_valid("ssh"));
	assert_true(mux_name_valid("a.b_c-d0"));
	assert_true(mux_name_valid("0123456789abcdefghijklmnopqrstuv"));
	assert_false(mux_name_valid("0123456789abcdefghijklmnopqrstuvw"));
	assert_false(mux_name_valid(""));
	assert_false(mux_name_valid("SSH"));
	assert_false(mux_name_valid("a b"));
	assert_false(mux_name_valid("a/b"));
	assert_false(mux_name_valid("ä"));
}

static void
test_flow(void **state)
{
	struct mux_flow fl;
	uint8_t out[128];

	(void)state;
	tu_parse_ok(flow_parse, fl_game, sizeof(fl_game), &fl, sizeof(fl));
	/* again in place: the payload points into what was parsed */
	assert_int_equal(mux_flow_parse(fl_game, sizeof(fl_game), &fl, NULL),
	    0);
	assert_int_equal(fl.direction, MUX_FLOW_TO_SERVICE);
	assert_int_equal(fl.id, 0xcafef00d);
	assert_string_equal(fl.name, "game");
	assert_int_equal(fl.len, 3);
	assert_memory_equal(fl.payload, "\1\2\3", 3);
	assert_int_equal(mux_flow_build(out, sizeof(out), &fl),
	    (int)sizeof(fl_game));
	assert_memory_equal(out, fl_game, sizeof(fl_game));
	assert_int_equal(mux_flow_build(out, sizeof(fl_game) - 1, &fl), -1);
	/* an empty datagram, back to the client */
	tu_parse_ok(flow_parse, fl_game, 12, &fl, sizeof(fl));
	assert_int_equal(fl.len, 0);
	assert_null(fl.payload);
	fl.direction = MUX_FLOW_TO_CLIENT;
	assert_int_equal(mux_flow_build(out, sizeof(out), &fl), 12);
	assert_int_equal(out[1], 1);
	/* the payload may already be in place (read into the buffer) */
	memcpy(out + 12, "xyz", 3);
	fl.payload = out + 12;
	fl.len = 3;
	assert_int_equal(mux_flow_build(out, sizeof(out), &fl), 15);
	assert_memory_equal(out + 12, "xyz", 3);
	fl.id = 0;
	assert_int_equal(mux_flow_build(out, sizeof(out), &fl), -1);
	fl.id = 1;
	fl.direction = 2;
	assert_int_equal(mux_flow_build(out, sizeof(out), &fl), -1);
	fl.direction = 0;
	snprintf(fl.name, sizeof(fl.name), "Game");
	assert_int_equal(mux_flow_build(out, sizeof(out), &fl), -1);
}

static void
flow_bad(size_t at, uint8_t v, size_t len, const char *why)
{
	uint8_t c[sizeof(fl_game)];

	memcpy(c, fl_game, sizeof(c));
	if (at < sizeof(c))
		c[at] = v;
	tu_parse_fails(flow_parse, c, len, sizeof(struct mux_flow), why);
}

static void
test_flow_refusals(void **state)
{
	size_t n;

	(void)state;
	for (n = 0; n < 12; n++)
		flow_bad(99, 0, n, n < 8 ? "flow header truncated" :
		    "flow name truncated");
	flow_bad(0, 0x11, sizeof(fl_game), "not a flow frame");
	flow_bad(0, 0xd0, sizeof(fl_game), "not a flow frame");
	flow_bad(1, 2, sizeof(fl_game), "bad flow direction");
	flow_bad(3, 1, sizeof(fl_game), "flow reserved byte not 0");
	flow_bad(2, 0, sizeof(fl_game), "bad service name");
	flow_bad(2, 33, sizeof(fl_game), "flow name truncated");
	flow_bad(9, 'G', sizeof(fl_game), "bad service name");
	{
		uint8_t c[8 + 40];

		memset(c, 'a', sizeof(c));
		memcpy(c, fl_game, 8);
		c[2] = 33;
		tu_parse_fails(flow_parse, c, sizeof(c),
		    sizeof(struct mux_flow), "bad service name");
		c[2] = 32;
		{
			struct mux_flow fl;

			tu_parse_ok(flow_parse, c, sizeof(c), &fl,
			    sizeof(fl));
			assert_int_equal(strlen(fl.name), 32);
			assert_int_equal(fl.len, 8);
		}
	}
	{
		uint8_t c[sizeof(fl_game)];

		memcpy(c, fl_game, sizeof(c));
		memset(c + 4, 0, 4);
		tu_parse_fails(flow_parse, c, sizeof(c),
		    sizeof(struct mux_flow), "flow id 0");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_flow_refusals),
	};

	return TU_RUN("mux-msg", tests);
}
