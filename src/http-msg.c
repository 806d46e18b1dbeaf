/* SPDX-License-Identifier: ISC */
/* HTTP/1.x response parsing with bounds checks on every field. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "http-msg.h"

long
http_head_end(const char *buf, size_t len)
{
	size_t i, lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;

	for (i = 0; i < lim; i++) {
		if (buf[i] == '\0')
			return -1;
		if (buf[i] != '\n')
			continue;
		/* "\n\n" or "\n\r\n" ends the head. */
		if (i + 1 < len && buf[i + 1] == '\n')
			return (long)(i + 2);
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return (long)(i + 3);
	}
	if (len >= HTTP_MAX_HEAD)
		return -1;
	return 0;
}

void
http_header_iter_init(struct http_header_iter *it, const char *head,
    size_t len)
{
	const char *nl = memchr(head, '\n', len);

	it->buf = head;
	it->len = len;
	it->pos = nl != NULL ? (size_t)(nl - head) + 1 : len;
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
	    (*s)[*len - 1] == '\r'))
		(*len)--;
}

int
http_header_next(struct http_header_iter *it, const char **name,
    size_t *namelen, const char **value, size_t *valuelen)
{
	const char *line, *nl, *colon;
	size_t ll;

	while (it->pos < it->len) {
		line = it->buf + it->pos;
		nl = memchr(line, '\n', it->len - it->pos);
		ll = nl != NULL ? (size_t)(nl - line) : it->len - it->pos;
		it->pos += ll + (nl != NULL);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			return 0;	/* the blank line ends the head */
		colon = memchr(line, ':', ll);
		if (colon == NULL || colon == line)
			return -1;
		*name = line;
		*namelen = (size_t)(colon - line);
		trim(name, namelen);
		*value = colon + 1;
		*valuelen = ll - (size_t)(colon - line) - 1;
		trim(value, valuelen);
		if (*namelen == 0)
			return -1;
		return 1;
	}
	return 0;
}

int
http_token_eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	if (strlen(lit) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (tolower((unsigned char)s[i]) !=
		    tolower((unsigned char)lit[i]))
			return 0;
	return 1;
}

static int
parse_decimal(const char *s, size_t len, long long max, long long *out)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* "HTTP/1.x NNN reason" */
static int
parse_status_line(const char *buf, size_t len, int *status)
{
	const char *nl = memchr(buf, '\n', len);
	size_t ll = nl != NULL ? (size_t)(nl - buf) : len;
	long long v;

	if (ll < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
		return -1;
	if (parse_decimal(buf + 9, 3, 599, &v) == -1 || v < 100)
		return -1;
	if (ll > 12 && buf[12] != ' ' && buf[12] != '\r')
		return -1;
	*status = (int)v;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a chunked body from b[0..len); -1 error, 0 incomplete, 1 done. */
static int
dechunk(const char *b, size_t len, struct http_response *r, char *body,
    size_t cap)
{
	size_t pos = 0, out = 0, digits;
	unsigned long long sz;
	const char *nl;
	int h;

	for (;;) {
		sz = 0;
		digits = 0;
		while (pos < len && (h = hexval(b[pos])) != -1) {
			if (++digits > 8) {
				r->error = "chunk size too large";
				return -1;
			}
			sz = sz * 16 + (unsigned)h;
			pos++;
		}
		if (pos >= len)
			return 0;
		if (digits == 0) {
			r->error = "bad chunk size";
			return -1;
		}
		/* Skip chunk extensions up to the end of the line. */
		nl = memchr(b + pos, '\n', len - pos);
		if (nl == NULL) {
			if (len - pos > 256) {
				r->error = "bad chunk line";
				return -1;
			}
			return 0;
		}
		pos = (size_t)(nl - b) + 1;
		if (sz == 0)
			break;
		if (sz > cap - out) {
			r->error = "body too large";
			return -1;
		}
		if (len - pos < sz)
			return 0;
		memcpy(body + out, b + pos, (size_t)sz);
		out += (size_t)sz;
		pos += (size_t)sz;
		/* CRLF after the data */
		if (pos < len && b[pos] == '\r')
			pos++;
		if (pos >= len)
			return 0;
		if (b[pos] != '\n') {
			r->error = "missing line end after chunk";
			return -1;
		}
		pos++;
	}
	/* Trailers are not needed: the last chunk is enough. */
	r->body_len = out;
	return 1;
}

enum http_parse
http_parse_response(const char *buf, size_t len, int eof,
    struct http_response *r, char *body, size_t bodycap)
{
	struct http_header_iter it;
	const char *name, *val, *b;
	size_t nlen, vlen, blen;
	long headlen;
	long long cl;
	int h, d;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	headlen = http_head_end(buf, len);
	if (headlen == -1) {
		r->error = "malformed or oversized head";
		return HTTP_PARSE_ERROR;
	}
	if (headlen == 0) {
		if (eof) {
			r->error = "connection closed before the end of the head";
			return HTTP_PARSE_ERROR;
		}
		return HTTP_PARSE_INCOMPLETE;
	}
	if (parse_status_line(buf, (size_t)headlen, &r->status) == -1) {
		r->error = "bad status line";
		return HTTP_PARSE_ERROR;
	}
	r->head_len = (size_t)headlen;
	http_header_iter_init(&it, buf, (size_t)headlen);
	while ((h = http_header_next(&it, &name, &nlen, &val, &vlen)) == 1) {
		if (http_token_eq(name, nlen, "content-length")) {
			if (parse_decimal(val, vlen, 1LL << 40, &cl) == -1 ||
			    (r->content_length != -1 &&
			    r->content_length != cl)) {
				r->error = "bad Content-Length";
				return HTTP_PARSE_ERROR;
			}
			r->content_length = cl;
		} else if (http_token_eq(name, nlen, "transfer-encoding")) {
			if (http_token_eq(val, vlen, "chunked"))
				r->chunked = 1;
			else if (!http_token_eq(val, vlen, "identity")) {
				r->error = "unsupported Transfer-Encoding";
				return HTTP_PARSE_ERROR;
			}
		}
	}
	if (h == -1) {
		r->error = "malformed header line";
		return HTTP_PARSE_ERROR;
	}
	b = buf + headlen;
	blen = len - (size_t)headlen;
	if (r->chunked) {
		d = dechunk(b, blen, r, body, bodycap);
		if (d == -1)
			return HTTP_PARSE_ERROR;
		if (d == 0) {
			if (eof) {
				r->error = "connection closed inside a chunked body";
				return HTTP_PARSE_ERROR;
			}
			return HTTP_PARSE_INCOMPLETE;
		}
		return HTTP_PARSE_DONE;
	}
	if (r->content_length >= 0) {
		if ((unsigned long long)r->content_length > bodycap) {
			r->error = "body too large";
			return HTTP_PARSE_ERROR;
		}
		if (blen < (size_t)r->content_length) {
			if (eof) {
				r->error = "connection closed before the end of the body";
				return HTTP_PARSE_ERROR;
			}
			return HTTP_PARSE_INCOMPLETE;
		}
		blen = (size_t)r->content_length;
	} else {
		if (blen > bodycap) {
			r->error = "body too large";
			return HTTP_PARSE_ERROR;
		}
		if (!eof)
			return HTTP_PARSE_INCOMPLETE;
	}
	memcpy(body, b, blen);
	r->body_len = blen;
	return HTTP_PARSE_DONE;
}
