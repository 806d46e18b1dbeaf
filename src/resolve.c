/* SPDX-License-Identifier: ISC */
/* Name resolution off the event loop: getaddrinfo() runs in a child that writes the answer to a pipe. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "resolve.h"

/*
 * What the child writes: a count byte, then that many sockaddr_storage, or
 * a count of 0 and an error text.  At most one pipe buffer, so the child
 * never blocks on a parent that stopped reading.
 */
struct resolve_req {
	resolve_cb		 cb;
	void			*arg;
	pid_t			 pid;
	int			 fd;
	struct loop_fd		 lfd;
	struct timer		 timer;
	unsigned char		 buf[1 + RESOLVE_MAX_ADDRS *
				    sizeof(struct sockaddr_storage)];
	size_t			 got;
	struct sockaddr_storage	 literal;	/* answered without a child */
};

int
resolve_literal(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

static void
req_free(struct resolve_req *r)
{
	if (r->fd != -1) {
		loop_fd_del(&r->lfd);
		close(r->fd);
	}
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	timer_stop(&r->timer);
	free(r);
}

static void
finish(struct resolve_req *r, const struct sockaddr_storage *a, size_t n,
    const char *err)
{
	resolve_cb cb = r->cb;
	void *arg = r->arg;

	/* The child is done writing; reap it before calling back. */
	if (r->pid > 0) {
		while (waitpid(r->pid, NULL, 0) == -1 && errno == EINTR)
			;
		r->pid = 0;
	}
	cb(r, a, n, err, arg);
	req_free(r);
}

static void
child(int fd, const char *host, uint16_t port, int family, int socktype)
{
	struct addrinfo hints, *res, *ai;
	unsigned char out[sizeof(((struct resolve_req *)0)->buf)];
	char serv[8];
	size_t n = 0, len;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	snprintf(serv, sizeof(serv), "%u", port);
	rc = getaddrinfo(host, serv, &hints, &res);
	if (rc != 0) {
		out[0] = 0;
		len = 1 + (size_t)snprintf((char *)out + 1, sizeof(out) - 1,
		    "%s", gai_strerror(rc));
	} else {
		for (ai = res; ai != NULL && n < RESOLVE_MAX_ADDRS;
		    ai = ai->ai_next) {
			struct sockaddr_storage ss;

			if ((ai->ai_family != AF_INET &&
			    ai->ai_family != AF_INET6) ||
			    ai->ai_addrlen > sizeof(ss))
				continue;
			memset(&ss, 0, sizeof(ss));
			memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
			memcpy(out + 1 + n * sizeof(ss), &ss, sizeof(ss));
			n++;
		}
		freeaddrinfo(res);
		out[0] = (unsigned char)n;
		len = 1 + n * sizeof(struct sockaddr_storage);
		if (n == 0)
			len += (size_t)snprintf((char *)out + 1,
			    sizeof(out) - 1, "no IPv4 or IPv6 address");
	}
	if (write(fd, out, len) == -1)
		_exit(1);
	_exit(0);
}

static void
on_read(struct loop_fd *lf, int ev)
{
	struct resolve_req *r = container_of(lf, struct resolve_req, lfd);
	struct sockaddr_storage a[RESOLVE_MAX_ADDRS];
	char err[128];
	size_t n, i, elen;
	ssize_t k;

	(void)ev;
	k = read(r->fd, r->buf + r->got, sizeof(r->buf) - r->got);
	if (k == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (k > 0) {
		r->got += (size_t)k;
		if (r->got < sizeof(r->buf))
			return;
	}
	/* End of file (or a full buffer): the whole answer is in. */
	if (r->got == 0) {
		finish(r, NULL, 0, "the resolver process failed");
		return;
	}
	n = r->buf[0];
	if (n == 0) {
		elen = r->got - 1 < sizeof(err) - 1 ? r->got - 1 :
		    sizeof(err) - 1;
		memcpy(err, r->buf + 1, elen);
		err[elen] = '\0';
		for (i = 0; i < elen; i++)
			if (err[i] < ' ' || err[i] > '~')
				err[i] = '?';
		finish(r, NULL, 0, elen > 0 ? err : "no address");
		return;
	}
	if (n > RESOLVE_MAX_ADDRS || r->got < 1 + n * sizeof(a[0])) {
		finish(r, NULL, 0, "short answer from the resolver process");
		return;
	}
	memcpy(a, r->buf + 1, n * sizeof(a[0]));
	finish(r, a, n, NULL);
}

static void
on_timeout(struct timer *t)
{
	struct resolve_req *r = container_of(t, struct resolve_req, timer);

	if (r->pid == 0) {
		/* A literal, answered on the next turn of the loop. */
		finish(r, &r->literal, 1, NULL);
		return;
	}
	finish(r, NULL, 0, "name resolution timed out");
}

struct resolve_req *
resolve_start(const char *host, uint16_t port, int family, int socktype,
    resolve_cb cb, void *arg)
{
	struct resolve_req *r;
	int p[2];

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cb = cb;
	r->arg = arg;
	r->fd = -1;
	timer_init(&r->timer, on_timeout);
	if (resolve_literal(host, port, &r->literal) == 0 &&
	    (family == AF_UNSPEC || family == r->literal.ss_family)) {
		timer_set(&r->timer, 0);
		return r;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		free(r);
		return NULL;
	}
	r->pid = fork();
	if (r->pid == -1) {
		close(p[0]);
		close(p[1]);
		free(r);
		return NULL;
	}
	if (r->pid == 0) {
		close(p[0]);
		child(p[1], host, port, family, socktype);
	}
	close(p[1]);
	r->fd = p[0];
	if (fcntl(r->fd, F_SETFL, O_NONBLOCK) == -1)
		log_debug("resolve: O_NONBLOCK: %s", strerror(errno));
	loop_fd_add(&r->lfd, r->fd, LOOP_READ, on_read);
	timer_set(&r->timer, RESOLVE_TIMEOUT_MS);
	return r;
}

void
resolve_cancel(struct resolve_req *r)
{
	if (r != NULL)
		req_free(r);
}
