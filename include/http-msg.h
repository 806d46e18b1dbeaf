/* SPDX-License-Identifier: ISC */
/* HTTP/1.x message codec: header lines and response framing, no I/O. */
#ifndef NATMAPD_HTTP_MSG_H
#define NATMAPD_HTTP_MSG_H

#include <stddef.h>

#define HTTP_MAX_HEAD	8192		/* status line and headers */

enum http_parse {
	HTTP_PARSE_ERROR = -1,
	HTTP_PARSE_INCOMPLETE = 0,
	HTTP_PARSE_DONE = 1,
};

struct http_header_iter {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
};

struct http_response {
	int		 status;	/* 100..599 */
	size_t		 head_len;	/* bytes up to and including the empty line */
	size_t		 body_len;	/* decoded length */
	int		 chunked;
	long long	 content_length; /* -1 when absent */
	const char	*error;		/* why it failed to parse */
};

/*
 * Find the end of the head (the first empty line) within buf[0..len);
 * returns the length of the head including the blank line, 0 if not
 * complete, -1 if malformed or longer than HTTP_MAX_HEAD.
 */
long	http_head_end(const char *buf, size_t len);

/* Iterate over header lines after the first line of head[0..len). */
void	http_header_iter_init(struct http_header_iter *, const char *head,
	    size_t len);
/* 1: a header (name and value trimmed), 0: end, -1: malformed line. */
int	http_header_next(struct http_header_iter *, const char **name,
	    size_t *namelen, const char **value, size_t *valuelen);
int	http_token_eq(const char *s, size_t len, const char *lit);

/*
 * Parse a response received so far (eof: the peer closed).  On
 * HTTP_PARSE_DONE the decoded body is in body[0..r->body_len), which
 * must have room for bodycap bytes; a larger body is an error.
 */
enum http_parse	http_parse_response(const char *buf, size_t len, int eof,
	    struct http_response *r, char *body, size_t bodycap);

#endif
