/* SPDX-License-Identifier: ISC */
/* Unit tests of the HTTP/1.x codec: head framing, header lines, bodies. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "http-msg.h"

#define BODYCAP	(64 * 1024)

static char body[BODYCAP];

static enum http_parse
parse_n(const char *buf, size_t len, int eof, struct http_response *r,
    size_t cap)
{
	char *copy;
	enum http_parse p;

	/* an exact-size heap copy, so that ASan sees any read past len */
	copy = malloc(len == 0 ? 1 : len);
	assert_non_null(copy);
	memcpy(copy, buf, len);
	p = http_parse_response(copy, len, eof, r, body, cap);
	free(copy);
	return p;
}

/* A literal that must fail with this error, with and without eof. */
static void
parse_fails(const char *buf, size_t len, size_t cap, const char *why)
{
	struct http_response r;
	int eof;

	for (eof = 0; eof <= 1; eof++) {
		if (parse_n(buf, len, eof, &r, cap) != HTTP_PARSE_ERROR)
			fail_msg("accepted (eof %d): %.*s", eof, (int)len, buf);
		assert_non_null(r.error);
		assert_string_equal(r.error, why);
	}
}

#define FAILS(lit, why)		parse_fails((lit), sizeof(lit) - 1, BODYCAP, (why))
#define FAILS_CAP(lit, cap, why) parse_fails((lit), sizeof(lit) - 1, (cap), (why))

/* A literal that parses completely (with eof 1) to this status and body. */
static void
parse_done(const char *buf, size_t len, int status, const char *want,
    size_t wantlen)
{
	struct http_response r;

	if (parse_n(buf, len, 1, &r, BODYCAP) != HTTP_PARSE_DONE)
		fail_msg("refused: %s: %.*s", r.error, (int)len, buf);
	assert_int_equal(r.status, status);
	assert_int_equal(r.body_len, wantlen);
	assert_memory_equal(body, want, wantlen);
}

#define DONE(lit, status, want) \
	parse_done((lit), sizeof(lit) - 1, (status), (want), sizeof(want) - 1)

/* ---- http_head_end ---- */

static long
head_end(const char *s, size_t len)
{
	char *copy = malloc(len == 0 ? 1 : len);
	long r;

	assert_non_null(copy);
	memcpy(copy, s, len);
	r = http_head_end(copy, len);
	free(copy);
	return r;
}

#define HEAD_END(lit)	head_end((lit), sizeof(lit) - 1)

static void
test_head_end(void **state)
{
	char *big;

	(void)state;
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\n\r\n"), 19);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\n\r\nbody"), 19);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\n\n"), 17);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\nA: b\n\r\nbody"), 23);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\nA: b\r\n\nbody"), 24);
	assert_int_equal(HEAD_END("\n\n"), 2);
	/* not complete yet */
	assert_int_equal(head_end("", 0), 0);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK"), 0);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\n"), 0);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\n\r"), 0);
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\nA: b\r\n"), 0);
	assert_int_equal(HEAD_END("\r\n\r"), 0);
	/* a "\r\r" is not an end */
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\r\r\r"), 0);
	/* NUL in the head */
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\n\0\r\n\r\n"), -1);
	assert_int_equal(HEAD_END("\0"), -1);
	/* a NUL after the head is the body's business */
	assert_int_equal(HEAD_END("HTTP/1.1 200 OK\r\n\r\n\0"), 19);

	/* the size limit */
	big = malloc(HTTP_MAX_HEAD + 64);
	assert_non_null(big);
	memset(big, 'a', HTTP_MAX_HEAD + 64);
	assert_int_equal(http_head_end(big, HTTP_MAX_HEAD - 1), 0);
	assert_int_equal(http_head_end(big, HTTP_MAX_HEAD), -1);
	assert_int_equal(http_head_end(big, HTTP_MAX_HEAD + 64), -1);
	/* an end just inside the limit */
	memcpy(big + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	assert_int_equal(http_head_end(big, HTTP_MAX_HEAD), HTTP_MAX_HEAD);
	assert_int_equal(http_head_end(big, HTTP_MAX_HEAD + 64),
	    HTTP_MAX_HEAD);
	/* an end just past it */
	memset(big, 'a', HTTP_MAX_HEAD + 64);
	memcpy(big + HTTP_MAX_HEAD + 1, "\n\n", 2);
	assert_int_equal(http_head_end(big, HTTP_MAX_HEAD + 64), -1);
	free(big);
}

/* ---- header iterator ---- */

struct hdr {
	const char	*name, *value;
};

static void
iterate(const char *head, const struct hdr *want, size_t n, int last)
{
	struct http_header_iter it;
	const char *name, *val;
	size_t nl, vl, i;
	int h;

	http_header_iter_init(&it, head, strlen(head));
	for (i = 0; i < n; i++) {
		h = http_header_next(&it, &name, &nl, &val, &vl);
		if (h != 1)
			fail_msg("header %zu (%s): got %d", i, want[i].name, h);
		assert_int_equal(nl, strlen(want[i].name));
		assert_memory_equal(name, want[i].name, nl);
		assert_int_equal(vl, strlen(want[i].value));
		assert_memory_equal(val, want[i].value, vl);
	}
	assert_int_equal(http_header_next(&it, &name, &nl, &val, &vl), last);
	/* at the end of the buffer, it stays at the end */
	if (last == 0 && it.pos == it.len)
		assert_int_equal(http_header_next(&it, &name, &nl, &val, &vl),
		    0);
}

static void
test_header_iter(void **state)
{
	static const struct hdr h1[] = {
		{ "Content-Type", "text/xml; charset=\"utf-8\"" },
		{ "Connection", "close" },
		{ "Content-Length", "3098" },
		{ "Ext", "" },
		{ "X-Spaces", "a  b" },
		{ "X-Tab", "v" },
		{ "X-Colon", "http://1.2.3.4:80/x" },
	};
	static const struct hdr h2[] = {
		{ "a", "1" },
		{ "B", "2" },
	};

	(void)state;
	iterate("HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/xml; charset=\"utf-8\"\r\n"
	    "Connection:close\r\n"
	    "Content-Length   :   3098   \r\n"
	    "Ext:\r\n"
	    "X-Spaces: a  b\r\n"
	    "X-Tab:\tv\t\r\n"
	    "X-Colon: http://1.2.3.4:80/x\r\n"
	    "\r\n"
	    "Body: not a header\r\n", h1, TU_ARRAY_LEN(h1), 0);
	/* LF only, and the end of the buffer as the end of the head */
	iterate("NOTIFY * HTTP/1.1\na: 1\nB: 2\n", h2, TU_ARRAY_LEN(h2), 0);
	iterate("NOTIFY * HTTP/1.1\na: 1\nB: 2", h2, TU_ARRAY_LEN(h2), 0);
	/* no header at all, or not even a first line end */
	iterate("HTTP/1.1 200 OK\r\n\r\n", NULL, 0, 0);
	iterate("HTTP/1.1 200 OK", NULL, 0, 0);
	iterate("", NULL, 0, 0);
	/* malformed lines */
	iterate("HTTP/1.1 200 OK\r\na: 1\r\nno colon here\r\n\r\n", h2, 1, -1);
	iterate("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", NULL, 0, -1);
	iterate("HTTP/1.1 200 OK\r\n   : blank name\r\n\r\n", NULL, 0, -1);
	iterate("HTTP/1.1 200 OK\r\n folded line\r\n\r\n", NULL, 0, -1);
	iterate("HTTP/1.1 200 OK\r\nX\r\n\r\n", NULL, 0, -1);
}

static void
test_token_eq(void **state)
{
	(void)state;
	assert_true(http_token_eq("Content-Length", 14, "content-length"));
	assert_true(http_token_eq("CONTENT-LENGTH", 14, "content-length"));
	assert_true(http_token_eq("chunkedXYZ", 7, "chunked"));
	assert_false(http_token_eq("chunked", 6, "chunked"));
	assert_false(http_token_eq("chunked", 7, "chunkes"));
	assert_false(http_token_eq("chunkedd", 8, "chunked"));
	assert_true(http_token_eq("", 0, ""));
	assert_false(http_token_eq("a", 1, ""));
}

/* ---- status lines ---- */

static void
test_status_lines(void **state)
{
	(void)state;
	DONE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 200, "hi");
	DONE("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 200, "hi");
	DONE("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, "");
	DONE("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 200, "");
	DONE("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404, "");
	DONE("HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n", 100, "");
	DONE("HTTP/1.1 599 x\r\nContent-Length: 0\r\n\r\n", 599, "");
	FAILS("HTTP/1.1 099 x\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1 600 x\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1 999 x\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1 2000 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1 20 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1 200OK\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1  200 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1 2x0 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1 -20 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/1.2 200 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/2 200 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/2.0 200 OK\r\n\r\n", "bad status line");
	FAILS("http/1.1 200 OK\r\n\r\n", "bad status line");
	FAILS("ICY 200 OK\r\n\r\n", "bad status line");
	FAILS("HTTP/1.1\r\n\r\n", "bad status line");
	FAILS("\r\n\r\n", "bad status line");
	FAILS("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "bad status line");
	FAILS("NOTIFY * HTTP/1.1\r\n\r\n", "bad status line");
}

/* ---- framing errors ---- */

static void
test_head_errors(void **state)
{
	struct http_response r;
	char *big;
	size_t n;

	(void)state;
	FAILS("HTTP/1.1 200 OK\r\nA\0B: c\r\n\r\n",
	    "malformed or oversized head");
	FAILS("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "malformed header line");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n: x\r\n\r\n",
	    "malformed header line");
	/* truncated heads: wait for more, or fail at eof */
	assert_int_equal(parse_n("HTTP/1.1 200 OK\r\n", 17, 0, &r, BODYCAP),
	    HTTP_PARSE_INCOMPLETE);
	assert_int_equal(parse_n("HTTP/1.1 200 OK\r\n", 17, 1, &r, BODYCAP),
	    HTTP_PARSE_ERROR);
	assert_string_equal(r.error,
	    "connection closed before the end of the head");
	assert_int_equal(parse_n("", 0, 1, &r, BODYCAP), HTTP_PARSE_ERROR);
	assert_string_equal(r.error,
	    "connection closed before the end of the head");
	assert_int_equal(parse_n("", 0, 0, &r, BODYCAP),
	    HTTP_PARSE_INCOMPLETE);
	/* an endless head */
	n = HTTP_MAX_HEAD + 100;
	big = malloc(n);
	assert_non_null(big);
	memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
	memset(big + 17, 'x', n - 17);
	assert_int_equal(parse_n(big, n, 0, &r, BODYCAP), HTTP_PARSE_ERROR);
	assert_string_equal(r.error, "malformed or oversized head");
	/* many header lines, the blank line past the limit */
	for (size_t i = 17; i + 8 <= n; i += 8)
		memcpy(big + i, "X-A: b\r\n", 8);
	memcpy(big + n - 4, "\r\n\r\n", 4);
	assert_int_equal(parse_n(big, n, 1, &r, BODYCAP), HTTP_PARSE_ERROR);
	assert_string_equal(r.error, "malformed or oversized head");
	free(big);
}

static void
test_content_length(void **state)
{
	struct http_response r;

	(void)state;
	DONE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello");
	DONE("HTTP/1.1 200 OK\r\ncontent-length:5\r\n\r\nhello", 200, "hello");
	DONE("HTTP/1.1 200 OK\r\nCONTENT-LENGTH: \t 5 \t\r\n\r\nhello", 200,
	    "hello");
	DONE("HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\nhello", 200,
	    "hello");
	/* bytes past Content-Length are not the body */
	DONE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello", 200, "he");
	/* the same length twice is harmless */
	DONE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
	    "\r\nhi", 200, "hi");
	/* a body with NUL bytes is copied whole */
	DONE("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b", 200, "a\0b");
	assert_int_equal(parse_n("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
	    "hello", 43, 0, &r, BODYCAP), HTTP_PARSE_DONE);
	assert_int_equal(r.content_length, 5);
	assert_int_equal(r.head_len, 38);
	assert_int_equal(r.chunked, 0);
	assert_null(r.error);

	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
	    "\r\nhi", "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
	    "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\nhello",
	    "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
	    "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\nhello",
	    "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nhello",
	    "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 1099511627777\r\n\r\n",
	    "bad Content-Length");	/* 2^40 + 1 */
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n",
	    "bad Content-Length");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n"
	    "\r\n", "bad Content-Length");
	/* within 2^40 but more than the buffer */
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n",
	    "body too large");
	FAILS("HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n",
	    "body too large");
	FAILS_CAP("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello!", 5,
	    "body too large");
	/* exactly the buffer */
	assert_int_equal(parse_n("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
	    "hello", 43, 0, &r, 5), HTTP_PARSE_DONE);
	assert_int_equal(parse_n("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    38, 0, &r, 0), HTTP_PARSE_DONE);
	assert_int_equal(r.body_len, 0);
}

static void
test_content_length_truncated(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "\r\nhello";
	struct http_response r;
	size_t len;

	(void)state;
	for (len = 38; len < sizeof(resp) - 1; len++) {
		assert_int_equal(parse_n(resp, len, 0, &r, BODYCAP),
		    HTTP_PARSE_INCOMPLETE);
		assert_int_equal(parse_n(resp, len, 1, &r, BODYCAP),
		    HTTP_PARSE_ERROR);
		assert_string_equal(r.error,
		    "connection closed before the end of the body");
	}
}

static void
test_read_to_eof(void **state)
{
	struct http_response r;
	static const char resp[] = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nsome body";

	(void)state;
	assert_int_equal(parse_n(resp, sizeof(resp) - 1, 0, &r, BODYCAP),
	    HTTP_PARSE_INCOMPLETE);
	assert_int_equal(parse_n(resp, sizeof(resp) - 1, 1, &r, BODYCAP),
	    HTTP_PARSE_DONE);
	assert_int_equal(r.content_length, -1);
	assert_int_equal(r.body_len, 9);
	assert_memory_equal(body, "some body", 9);
	/* empty body at eof */
	DONE("HTTP/1.0 204 No Content\r\n\r\n", 204, "");
	/* identity is no transfer coding */
	DONE("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nabc", 200,
	    "abc");
	/* too much before eof */
	FAILS_CAP("HTTP/1.0 200 OK\r\n\r\n0123456789", 9, "body too large");
	assert_int_equal(parse_n("HTTP/1.0 200 OK\r\n\r\n0123456789", 29, 1,
	    &r, 10), HTTP_PARSE_DONE);
}

/* ---- chunked ---- */

static void
test_chunked(void **state)
{
	(void)state;
	DONE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 200, "hello world");
	/* LF only, upper and lower case hex, extensions, trailers */
	DONE("HTTP/1.1 200 OK\ntransfer-encoding: Chunked\n\n"
	    "A\nabcdefghij\na;x=y\nklmnopqrst\n0\nTrailer: 1\n\n", 200,
	    "abcdefghijklmnopqrst");
	DONE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0000000a\r\n0123456789\r\n0\r\n\r\n", 200, "0123456789");
	DONE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	    200, "");
	/* chunked wins over a Content-Length */
	DONE("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", 200, "hi");
	/* the zero chunk ends the body whatever follows */
	DONE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nhi\r\n0\r\n", 200, "hi");
}

static void
test_chunked_errors(void **state)
{
	char *big;
	size_t n;

	(void)state;
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "unsupported Transfer-Encoding");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    "unsupported Transfer-Encoding");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n",
	    "unsupported Transfer-Encoding");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\nhello\r\n0\r\n\r\n", "bad chunk size");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "\r\n", "bad chunk size");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    " 5\r\nhello\r\n0\r\n\r\n", "bad chunk size");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "-5\r\nhello\r\n0\r\n\r\n", "bad chunk size");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\nzz\r\n", "bad chunk size");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "123456789\r\n", "chunk size too large");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "ffffffffffffffff\r\n", "chunk size too large");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "ffffffff\r\n", "body too large");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "10001\r\n", "body too large");
	FAILS_CAP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 5, "body too large");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhelloX\r\n0\r\n\r\n", "missing line end after chunk");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\rX0\r\n\r\n", "missing line end after chunk");
	FAILS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nhello\r\n0\r\n\r\n", "missing line end after chunk");

	/* a chunk line (extension) that never ends */
	n = 46 + 300;
	big = malloc(n);
	assert_non_null(big);
	memcpy(big, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 47);
	memset(big + 47, ';', n - 47);
	big[47] = '5';
	parse_fails(big, n, BODYCAP, "bad chunk line");
	free(big);
}

/* Every prefix of a chunked response is incomplete until the last chunk. */
static void
test_chunked_truncated(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n5\r\nhello\r\n6;e=1\r\n world\r\n0\r\n\r\n";
	struct http_response r;
	size_t len, done = sizeof(resp) - 1 - 2;	/* "0\r\n" read */
	enum http_parse p;

	(void)state;
	for (len = 0; len < sizeof(resp); len++) {
		p = parse_n(resp, len, 0, &r, BODYCAP);
		if (len < done) {
			if (p != HTTP_PARSE_INCOMPLETE)
				fail_msg("prefix %zu: %d (%s)", len, p, r.error);
			p = parse_n(resp, len, 1, &r, BODYCAP);
			assert_int_equal(p, HTTP_PARSE_ERROR);
			assert_non_null(r.error);
		} else {
			assert_int_equal(p, HTTP_PARSE_DONE);
			assert_int_equal(r.body_len, 11);
			assert_memory_equal(body, "hello world", 11);
		}
	}
}

/* ---- real responses ---- */

static void
check_capture(const char *rel, int status, long long cl)
{
	struct http_response r;
	size_t len, len2, off;
	char *buf;

	buf = tu_read(rel, &len);
	off = tu_body_offset(buf, len);
	assert_int_equal(parse_n(buf, len, 1, &r, BODYCAP), HTTP_PARSE_DONE);
	assert_int_equal(r.status, status);
	assert_int_equal(r.head_len, off);
	assert_int_equal(r.content_length, cl);
	assert_int_equal(r.chunked, 0);
	assert_int_equal(r.body_len, len - off);
	assert_memory_equal(body, buf + off, len - off);
	/* complete without eof too, thanks to Content-Length */
	assert_int_equal(parse_n(buf, len, 0, &r, BODYCAP), HTTP_PARSE_DONE);
	/* any shorter read waits for more, or fails at eof */
	for (len2 = 0; len2 < len; len2++) {
		assert_int_equal(parse_n(buf, len2, 0, &r, BODYCAP),
		    HTTP_PARSE_INCOMPLETE);
		assert_int_equal(parse_n(buf, len2, 1, &r, BODYCAP),
		    HTTP_PARSE_ERROR);
	}
	/* a buffer one byte too small */
	assert_int_equal(parse_n(buf, len, 1, &r, len - off - 1),
	    HTTP_PARSE_ERROR);
	assert_string_equal(r.error, "body too large");
	/* the header iterator sees Content-Length */
	{
		struct http_header_iter it;
		const char *name, *val;
		size_t nl, vl;
		int seen = 0, h;

		http_header_iter_init(&it, buf, off);
		while ((h = http_header_next(&it, &name, &nl, &val, &vl)) == 1)
			if (http_token_eq(name, nl, "content-length"))
				seen++;
		assert_int_equal(h, 0);
		assert_int_equal(seen, 1);
	}
	free(buf);
}

static void
test_miniupnpd_rootdesc(void **state)
{
	check_capture(*state, 200, 3098);
}

static void
test_miniupnpd_soap_ok(void **state)
{
	size_t len;
	char *buf = tu_read(*state, &len);
	size_t off = tu_body_offset(buf, len);

	free(buf);
	check_capture(*state, 200, (long long)(len - off));
}

static void
test_miniupnpd_soap_error(void **state)
{
	size_t len;
	char *buf = tu_read(*state, &len);
	size_t off = tu_body_offset(buf, len);

	free(buf);
	check_capture(*state, 500, (long long)(len - off));
}

static void
test_handmade_chunked(void **state)
{
	struct http_response r;
	size_t len, wlen, l2;
	char *buf, *want;

	(void)state;
	buf = tu_read("handmade/soap-chunked-getexternalipaddress.resp", &len);
	want = tu_read("handmade/soap-chunked-getexternalipaddress.body", &wlen);
	assert_int_equal(parse_n(buf, len, 0, &r, BODYCAP), HTTP_PARSE_DONE);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.chunked, 1);
	assert_int_equal(r.content_length, -1);
	assert_int_equal(r.body_len, wlen);
	assert_memory_equal(body, want, wlen);
	/* cut anywhere before the last chunk: wait, or fail at eof */
	for (l2 = 0; l2 < len - 5; l2++) {
		assert_int_equal(parse_n(buf, l2, 0, &r, BODYCAP),
		    HTTP_PARSE_INCOMPLETE);
		assert_int_equal(parse_n(buf, l2, 1, &r, BODYCAP),
		    HTTP_PARSE_ERROR);
	}
	/* a buffer too small for the decoded body */
	assert_int_equal(parse_n(buf, len, 0, &r, wlen - 1), HTTP_PARSE_ERROR);
	assert_string_equal(r.error, "body too large");
	free(buf);
	free(want);
}

static void
test_handmade_eof(void **state)
{
	struct http_response r;
	size_t len, off;
	char *buf;

	(void)state;
	buf = tu_read("handmade/soap-eof-getexternalipaddress.resp", &len);
	off = (size_t)(strstr(buf, "\n\n") - buf) + 2;
	assert_int_equal(parse_n(buf, len, 0, &r, BODYCAP),
	    HTTP_PARSE_INCOMPLETE);
	assert_int_equal(parse_n(buf, len, 1, &r, BODYCAP), HTTP_PARSE_DONE);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.head_len, off);
	assert_int_equal(r.body_len, len - off);
	assert_memory_equal(body, buf + off, len - off);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_end),
		cmocka_unit_test(test_header_iter),
		cmocka_unit_test(test_token_eq),
		cmocka_unit_test(test_status_lines),
		cmocka_unit_test(test_head_errors),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_content_length_truncated),
		cmocka_unit_test(test_read_to_eof),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_errors),
		cmocka_unit_test(test_chunked_truncated),
		TU_FILE_TEST(test_miniupnpd_rootdesc,
		    "miniupnpd-2.3.1/http-rootdesc.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_ok,
		    "miniupnpd-2.3.1/http-wanipcn-scpd.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_ok,
		    "miniupnpd-2.3.1/soap-addportmapping-ok.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_ok,
		    "miniupnpd-2.3.1/soap-addanyportmapping-ok.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_ok,
		    "miniupnpd-2.3.1/soap-getexternalipaddress.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_ok,
		    "miniupnpd-2.3.1/soap-getspecificportmappingentry-ok.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_ok,
		    "miniupnpd-2.3.1/soap-deleteportmapping-ok.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_error,
		    "miniupnpd-2.3.1/soap-addportmapping-718-conflict.resp"),
		TU_FILE_TEST(test_miniupnpd_soap_error,
		    "miniupnpd-2.3.1/soap-getspecificportmappingentry-714.resp"),
		cmocka_unit_test(test_handmade_chunked),
		cmocka_unit_test(test_handmade_eof),
	};

	return TU_RUN("http-msg", tests);
}
