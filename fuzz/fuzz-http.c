/* SPDX-License-Identifier: ISC */
/* Fuzz target: HTTP response framing (http-msg.c), with and without EOF. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http-msg.h"
#include "fuzz.h"

static char	body[64 * 1024];

static void
parse(const char *buf, size_t len, int eof, size_t cap)
{
	struct http_response r;
	enum http_parse p;

	p = http_parse_response(buf, len, eof, &r, body, cap);
	switch (p) {
	case HTTP_PARSE_DONE:
		CHECK(r.status >= 100 && r.status <= 599);
		CHECK(r.head_len > 0 && r.head_len <= len);
		CHECK(r.body_len <= cap);
		CHECK(r.error == NULL);
		if (!r.chunked)
			CHECK(r.head_len + r.body_len <= len);
		break;
	case HTTP_PARSE_ERROR:
		CHECK(r.error != NULL);
		break;
	case HTTP_PARSE_INCOMPLETE:
		CHECK(!eof);
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_header_iter it;
	const char *name, *val;
	size_t nl, vl;
	long end;
	int h, n = 0;

	end = http_head_end(buf, size);
	CHECK(end >= -1 && end <= (long)size);

	parse(buf, size, 0, sizeof(body));
	parse(buf, size, 1, sizeof(body));
	parse(buf, size, 1, 16);
	parse(buf, size, 0, 0);

	/* the header iterator over the head, or over everything */
	http_header_iter_init(&it, buf, end > 0 ? (size_t)end : size);
	while ((h = http_header_next(&it, &name, &nl, &val, &vl)) == 1) {
		CHECK(nl > 0);
		CHECK(name >= buf && name + nl <= buf + size);
		CHECK(val >= buf && val + vl <= buf + size);
		(void)http_token_eq(name, nl, "content-length");
		(void)http_token_eq(val, vl, "chunked");
		CHECK(++n <= (int)size);
	}
	CHECK(h == 0 || h == -1);
	CHECK(it.pos <= it.len);
	return 0;
}
