/* SPDX-License-Identifier: ISC */
/* The public address as an HTTP(S) echo service sees it, fetched with libcurl on the event loop. */
#ifndef NATMAPD_ECHO_H
#define NATMAPD_ECHO_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define ECHO_MAX_BODY		256	/* a longer answer is not a bare address */
#define ECHO_TIMEOUT_MS		3000	/* the default, whole request */

struct echo_req;

struct echo_result {
	int			 ok;		/* 1: addr holds the address */
	struct sockaddr_storage	 addr;		/* AF_INET or AF_INET6, port 0 */
	long			 http_status;	/* 0 if none came */
	uint64_t		 ms;		/* from start to the answer */
	char			 err[160];	/* why not, for people */
};

/* Called once per request, unless echo_cancel() came first; req is freed after it. */
typedef void (*echo_cb)(struct echo_req *, const struct echo_result *, void *arg);

/* 1 when built with libcurl, 0 with --without-curl (then echo_start fails with ENOTSUP). */
int	echo_available(void);

/*
 * GET url (http:// or https://; no other scheme, at most 3 redirects) from
 * the local address src (NULL: any), on the loop: never blocks, DNS
 * included.  timeout_ms bounds the whole request (0: ECHO_TIMEOUT_MS).
 * Returns the request, or NULL with errno set.
 */
struct echo_req *echo_start(const char *url, const struct sockaddr *src,
	    unsigned int timeout_ms, echo_cb cb, void *arg);
void	echo_cancel(struct echo_req *);
/* Drop the libcurl state when nothing is left (at exit). */
void	echo_shutdown(void);

/*
 * The body of an answer: one IPv4 or IPv6 address in text, with optional
 * whitespace (spaces, tabs, CR, LF) around it and nothing else.  0 with
 * *out set (port 0), or -1 with *err saying why (empty, too long, not an
 * address, something after the address...).  Pure: no I/O.
 */
int	echo_parse_body(const char *body, size_t len,
	    struct sockaddr_storage *out, const char **err);

#endif
