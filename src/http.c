/* SPDX-License-Identifier: ISC */
/* Non-blocking HTTP requests: connect, send, read to the end, parse, call back. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "sock.h"

#define HTTP_READ_CAP	(HTTP_MAX_HEAD + HTTP_MAX_BODY + 4096)
#define HTTP_READ_FIRST	2048	/* a SOAP answer fits; grown by doubling */

static struct http_req	*queue_head, **queue_tail = &queue_head;
static int		 inflight;

static void	http_io(struct loop_fd *, int);
static void	http_timeout(struct timer *);
static void	http_begin(struct http_req *);

const char *
http_strerror(int err)
{
	switch (err) {
	case HTTP_OK:
		return "ok";
	case HTTP_ERR_CONNECT:
		return "connection failed";
	case HTTP_ERR_TIMEOUT:
		return "no answer in time";
	case HTTP_ERR_PROTOCOL:
		return "unreadable HTTP answer";
	default:
		return "local error";
	}
}

/*
 * Close the connection; an abandoned request (timed out, cancelled) is
 * reset (SO_LINGER 0), so that the kernel does not go on sending what is
 * left of it: on a lossy link an AddPortMapping retransmitted by TCP would
 * otherwise reach the router after the retry, even after a later delete.
 */
static void
http_release(struct http_req *r, int abandon)
{
	if (r->fd != -1) {
		loop_fd_del(&r->lfd);
		if (abandon)
			sock_close_reset(r->fd);
		else
			close(r->fd);
		r->fd = -1;
	}
	timer_stop(&r->timer);
	free(r->out);
	free(r->in);
	r->out = r->in = NULL;
	r->outlen = r->sent = r->inlen = r->incap = 0;
}

static void
http_dequeue(struct http_req *r)
{
	struct http_req **p;

	for (p = &queue_head; *p != NULL; p = &(*p)->qnext) {
		if (*p == r) {
			*p = r->qnext;
			if (queue_tail == &r->qnext)
				queue_tail = p;
			break;
		}
	}
	r->qnext = NULL;
	r->queued = 0;
}

/* Start queued requests while there is room. */
static void
http_pump(void)
{
	struct http_req *r;

	while (inflight < HTTP_MAX_INFLIGHT && (r = queue_head) != NULL) {
		http_dequeue(r);
		http_begin(r);
	}
}

static void
http_finish(struct http_req *r, int err, const struct http_response *resp,
    const char *body)
{
	http_done_cb done = r->done;

	r->active = 0;
	inflight--;
	http_release(r, err == HTTP_ERR_TIMEOUT);
	done(r, err, resp, body);
	http_pump();
}

/* Called with the request active and the connection finished or failed. */
static void
http_complete(struct http_req *r, int eof)
{
	struct http_response resp;
	enum http_parse p;
	char *body;

	if ((body = malloc(HTTP_MAX_BODY + 1)) == NULL) {
		http_finish(r, HTTP_ERR_LOCAL, NULL, NULL);
		return;
	}
	p = http_parse_response(r->in, r->inlen, eof, &resp, body,
	    HTTP_MAX_BODY);
	if (p == HTTP_PARSE_INCOMPLETE) {
		free(body);
		return;
	}
	if (p == HTTP_PARSE_ERROR) {
		log_debug("http %s:%u: %s", inet_ntoa(r->dst), r->port,
		    resp.error);
		free(body);
		http_finish(r, HTTP_ERR_PROTOCOL, NULL, NULL);
		return;
	}
	body[resp.body_len] = '\0';
	http_finish(r, HTTP_OK, &resp, body);
	free(body);
}

/*
 * Room for more of the answer: most are a few hundred bytes, so the
 * buffer starts small and doubles up to HTTP_READ_CAP, and many requests
 * in flight cost little memory.
 */
static int
http_grow(struct http_req *r)
{
	size_t cap;
	char *p;

	cap = r->incap == 0 ? HTTP_READ_FIRST : 2 * r->incap;
	if (cap > HTTP_READ_CAP)
		cap = HTTP_READ_CAP;
	if ((p = realloc(r->in, cap)) == NULL)
		return -1;
	r->in = p;
	r->incap = cap;
	return 0;
}

static void
http_io(struct loop_fd *lf, int ev)
{
	struct http_req *r = container_of(lf, struct http_req, lfd);
	socklen_t sl;
	ssize_t n;
	int soerr;

	if ((ev & LOOP_WRITE) && r->sent < r->outlen) {
		sl = sizeof(soerr);
		if (r->sent == 0 && (getsockopt(r->fd, SOL_SOCKET, SO_ERROR,
		    &soerr, &sl) == -1 || soerr != 0)) {
			log_debug("http %s:%u: connect: %s", inet_ntoa(r->dst),
			    r->port, strerror(soerr));
			http_finish(r, HTTP_ERR_CONNECT, NULL, NULL);
			return;
		}
		n = send(r->fd, r->out + r->sent, r->outlen - r->sent,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			http_finish(r, HTTP_ERR_CONNECT, NULL, NULL);
			return;
		}
		r->sent += (size_t)n;
		if (r->sent == r->outlen)
			loop_fd_events(&r->lfd, LOOP_READ);
		return;
	}
	if (!(ev & LOOP_READ))
		return;
	if (r->inlen >= HTTP_READ_CAP) {
		http_finish(r, HTTP_ERR_PROTOCOL, NULL, NULL);
		return;
	}
	if (r->inlen == r->incap && http_grow(r) == -1) {
		http_finish(r, HTTP_ERR_LOCAL, NULL, NULL);
		return;
	}
	n = recv(r->fd, r->in + r->inlen, r->incap - r->inlen, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* A reset after a complete answer is still an answer. */
		if (r->inlen > 0)
			http_complete(r, 1);
		else
			http_finish(r, HTTP_ERR_CONNECT, NULL, NULL);
		return;
	}
	if (n == 0) {
		if (r->inlen == 0)
			http_finish(r, HTTP_ERR_CONNECT, NULL, NULL);
		else
			http_complete(r, 1);
		return;
	}
	r->inlen += (size_t)n;
	http_complete(r, 0);
}

static void
http_timeout(struct timer *t)
{
	struct http_req *r = container_of(t, struct http_req, timer);

	log_debug("http %s:%u: timed out", inet_ntoa(r->dst), r->port);
	http_finish(r, HTTP_ERR_TIMEOUT, NULL, NULL);
}

static void
http_begin(struct http_req *r)
{
	struct sockaddr_in sin;
	int fd;

	inflight++;
	timer_init(&r->timer, http_timeout);
	timer_set(&r->timer, r->timeout_ms ? r->timeout_ms : 3000);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("http: socket");
		http_finish(r, HTTP_ERR_LOCAL, NULL, NULL);
		return;
	}
	r->fd = fd;
	if (r->src.s_addr != INADDR_ANY) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr = r->src;
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			log_debug("http: bind %s: %s", inet_ntoa(r->src),
			    strerror(errno));
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = r->dst;
	sin.sin_port = htons(r->port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		log_debug("http %s:%u: connect: %s", inet_ntoa(r->dst),
		    r->port, strerror(errno));
		http_finish(r, HTTP_ERR_CONNECT, NULL, NULL);
		return;
	}
	loop_fd_add(&r->lfd, fd, LOOP_WRITE, http_io);
}

int
http_start(struct http_req *r, const char *request, size_t len)
{
	if (r->active)
		http_cancel(r);
	r->fd = -1;
	r->sent = r->inlen = r->incap = 0;
	r->in = NULL;
	if ((r->out = malloc(len)) == NULL)
		return -1;
	memcpy(r->out, request, len);
	r->outlen = len;
	r->active = 1;
	r->queued = 1;
	r->qnext = NULL;
	*queue_tail = r;
	queue_tail = &r->qnext;
	http_pump();
	return 0;
}

void
http_cancel(struct http_req *r)
{
	if (!r->active)
		return;
	r->active = 0;
	if (r->queued)
		http_dequeue(r);
	else
		inflight--;
	http_release(r, 1);
	http_pump();
}
