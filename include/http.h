/* SPDX-License-Identifier: ISC */
/* A small non-blocking HTTP/1.1 client on the event loop, for UPnP descriptions and SOAP. */
#ifndef NATMAPD_HTTP_H
#define NATMAPD_HTTP_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "http-msg.h"
#include "loop.h"

#define HTTP_MAX_BODY		(64 * 1024)
#define HTTP_MAX_INFLIGHT	4

enum http_err {
	HTTP_OK = 0,
	HTTP_ERR_CONNECT,	/* refused, unreachable, reset */
	HTTP_ERR_TIMEOUT,
	HTTP_ERR_PROTOCOL,	/* the answer is not HTTP we can read */
	HTTP_ERR_LOCAL,		/* out of descriptors and such */
};

struct http_req;
typedef void (*http_done_cb)(struct http_req *, int err,
    const struct http_response *, const char *body);

struct http_req {
	/* Set by the caller before http_start(). */
	struct in_addr	  dst;
	uint16_t	  port;
	struct in_addr	  src;		/* INADDR_ANY for the kernel's choice */
	unsigned int	  timeout_ms;
	http_done_cb	  done;

	/* Private. */
	char		 *out;
	size_t		  outlen, sent;
	char		 *in;
	size_t		  inlen, incap;
	int		  fd;
	int		  active;	/* started and not finished */
	int		  queued;
	struct loop_fd	  lfd;
	struct timer	  timer;
	struct http_req	 *qnext;
};

/* Send request bytes (copied); done() is called exactly once unless cancelled. */
int	http_start(struct http_req *, const char *request, size_t len);
/* Abort; done() is not called.  Safe on an idle request. */
void	http_cancel(struct http_req *);
const char *http_strerror(int err);

#endif
