/* SPDX-License-Identifier: ISC */
/* The control socket: a UNIX stream socket, bounded clients, one JSON request a line. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"
#include "control-msg.h"
#include "control.h"
#include "driver.h"
#include "log.h"
#include "loop.h"
#include "status.h"

#define CONTROL_BACKLOG		16
#define CONTROL_BURST		1	/* lines a client gets served a round */
#define CONTROL_ACCEPT_BURST	8	/* connections taken a wake-up */
#define CONTROL_PAUSE_MS	1000	/* no accept() this long after EMFILE */
#define CONTROL_WARN_MS		60000	/* "too many clients" at most this often */

/*
 * A client.  Requests are served in order, one line at a time: while a
 * wait is pending, what follows it stays in the input buffer.  The timer
 * is the idle timeout (no complete request, or answers not read, for
 * CONTROL_IDLE_MS), the pending wait's deadline, or "now" to go on with
 * the lines after a wait that a status event answered (from inside the
 * engine, where no other request may run) or after the CONTROL_BURST
 * lines served in a round: a status of 1024 mappings takes some
 * milliseconds, and 32 clients sending many must not hold up the timers
 * that renew mappings.
 */
struct ctl_client {
	struct loop_fd		 lfd;
	struct timer		 timer;
	unsigned int		 id;		/* for the log */
	char			 in[CONTROL_MAX_LINE + 1];
	size_t			 inlen;
	char			*out;
	size_t			 outoff, outlen, outcap;
	int			 eof;		/* nothing more will come */
	int			 closing;	/* close once the output is out */
	int			 waiting;
	struct control_req	 wait;
	int			 resume;	/* the timer serves the next lines */
};

static struct {
	int			 fd;
	char			*path;		/* ours to remove */
	dev_t			 dev;		/* the socket file made there */
	ino_t			 ino;
	struct loop_fd		 lfd;
	struct timer		 pause;
	struct control_ops	 ops;
	struct ctl_client	*clients[CONTROL_MAX_CLIENTS];
	size_t			 nclients;
	unsigned int		 next_id;
	uint64_t		 busy_warned;	/* loop_now() + 1 of the last warning */
} ctl = { .fd = -1 };

static int	client_process(struct ctl_client *);

static void
client_drop(struct ctl_client *c)
{
	size_t i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl.clients[i] == c)
			ctl.clients[i] = NULL;
	ctl.nclients--;
	timer_stop(&c->timer);
	loop_fd_del(&c->lfd);
	close(c->lfd.fd);
	free(c->out);
	free(c);
}

/* A last word before closing, if the socket takes it now: never waits. */
static void
say(int fd, const char *code, const char *msg)
{
	char *line;
	size_t len;

	if ((line = control_error(code, msg, &len)) != NULL) {
		if (send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
			/* the client is gone or not reading: nothing to do */
		}
		free(line);
	}
}

static void
client_events(struct ctl_client *c)
{
	int ev = 0;

	if (!c->eof && !c->closing && c->inlen < sizeof(c->in))
		ev |= LOOP_READ;
	if (c->outoff < c->outlen)
		ev |= LOOP_WRITE;
	/*
	 * No events (a wait pending and nothing more to read): poll(2)
	 * still reports a hang-up, and client_cb() takes it as one.
	 */
	loop_fd_events(&c->lfd, ev);
}

/* Queue an answer line (taken; NULL: out of memory).  -1: the client was dropped. */
static int
client_queue(struct ctl_client *c, char *line)
{
	size_t pending = c->outlen - c->outoff, len, cap;
	char *n;

	if (line == NULL) {
		log_warnx("control: out of memory for an answer");
		client_drop(c);
		return -1;
	}
	len = strlen(line);		/* json-c escapes NUL */
	if (pending + len > CONTROL_MAX_OUTPUT) {
		log_debug("control: client %u does not read its answers: "
		    "dropped", c->id);
		free(line);
		client_drop(c);
		return -1;
	}
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, pending);
		c->outoff = 0;
		c->outlen = pending;
	}
	if (c->outlen + len > c->outcap) {
		/* doubling, up to the bound: many small answers copy little */
		cap = c->outcap * 2 < CONTROL_MAX_OUTPUT ? c->outcap * 2 :
		    CONTROL_MAX_OUTPUT;
		if (cap < c->outlen + len)
			cap = c->outlen + len;
		if ((n = realloc(c->out, cap)) == NULL) {
			log_warnx("control: out of memory for an answer");
			free(line);
			client_drop(c);
			return -1;
		}
		c->out = n;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, line, len);
	c->outlen += len;
	free(line);
	client_events(c);
	return 0;
}

static int
client_error(struct ctl_client *c, const char *code, const char *msg)
{
	size_t len = 0;

	return client_queue(c, control_error(code, msg, &len));
}

/*
 * Serve the next lines from the loop, in the next round: a timer due now
 * would run in this round's loop_run_timers() again.
 */
static void
client_resume(struct ctl_client *c)
{
	c->resume = 1;
	timer_set(&c->timer, 1);
}

/* Write what the socket takes.  -1: the client was dropped. */
static int
client_flush(struct ctl_client *c)
{
	ssize_t n;
	int progress = 0;

	while (c->outoff < c->outlen) {
		n = send(c->lfd.fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			log_debug("control: client %u: %s", c->id,
			    strerror(errno));
			client_drop(c);
			return -1;
		}
		c->outoff += (size_t)n;
		progress = 1;
	}
	if (c->outoff == c->outlen) {
		free(c->out);
		c->out = NULL;
		c->outoff = c->outlen = c->outcap = 0;
		if (c->closing) {
			client_drop(c);
			return -1;
		}
	}
	/* a client that reads is not idle */
	if (progress && !c->waiting && !c->resume)
		timer_set(&c->timer, CONTROL_IDLE_MS);
	client_events(c);
	return 0;
}

/* ---- wait ---- */

/*
 * The mapping req names, as status --json shows it (a new reference), or
 * NULL; *status is the whole object to put, NULL if out of memory.
 */
static struct json_object *
wait_lookup(const struct control_req *req, struct json_object **status)
{
	struct json_object *maps, *m, *v;
	const char *proto = config_proto_name(req->map.proto);
	size_t i, n;

	if ((*status = status_json()) == NULL ||
	    !json_object_object_get_ex(*status, "mappings", &maps))
		return NULL;
	n = json_object_array_length(maps);
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(maps, i);
		if (json_object_object_get_ex(m, "protocol", &v) &&
		    strcmp(json_object_get_string(v), proto) == 0 &&
		    json_object_object_get_ex(m, "internal_port", &v) &&
		    json_object_get_int(v) == req->map.int_first)
			return json_object_get(m);
	}
	return NULL;
}

static int
reachable(struct json_object *m)
{
	struct json_object *v;

	return json_object_object_get_ex(m, "reachable", &v) &&
	    json_object_get_boolean(v);
}

/* Answer the wait if its mapping is reachable: 1 answered, 0 not yet, -1 dropped. */
static int
wait_check(struct ctl_client *c, const struct control_req *req)
{
	struct json_object *status, *m;
	size_t len = 0;
	char msg[128];
	int r = 0;

	m = wait_lookup(req, &status);
	if (status == NULL)
		r = client_error(c, CONTROL_E_INTERNAL, "out of memory") == -1 ?
		    -1 : 1;
	else if (m == NULL) {
		snprintf(msg, sizeof(msg), "no mapping %.*s", CONTROL_MAX_SPEC,
		    req->spec);
		r = client_error(c, CONTROL_E_NOMAPPING, msg) == -1 ? -1 : 1;
	} else if (reachable(m)) {
		r = client_queue(c, control_ok("mapping", m, &len)) == -1 ?
		    -1 : 1;
		m = NULL;
	}
	json_object_put(m);
	json_object_put(status);
	return r;
}

/* The wait was answered: the next lines are served from the loop. */
static void
wait_over(struct ctl_client *c)
{
	c->waiting = 0;
	client_resume(c);
}

static int
wait_start(struct ctl_client *c, const struct control_req *req)
{
	char msg[128];
	int r;

	if ((r = wait_check(c, req)) != 0)
		return r == -1 ? -1 : 0;
	if (req->timeout == 0) {
		snprintf(msg, sizeof(msg), "%.*s is not reachable",
		    CONTROL_MAX_SPEC, req->spec);
		return client_error(c, CONTROL_E_TIMEOUT, msg);
	}
	c->waiting = 1;
	c->wait = *req;
	timer_set(&c->timer, (uint64_t)req->timeout * 1000);
	return 0;
}

/* Every change of a mapping's endpoint: the waits for it may be over. */
static void
control_status_event(int event, const struct status_map *m)
{
	struct ctl_client *c;
	int proto = m->proto == DRV_UDP ? CONF_UDP : CONF_TCP;
	size_t i;

	if (event == STATUS_EVENT_DOWN)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if ((c = ctl.clients[i]) == NULL || !c->waiting ||
		    c->wait.map.proto != proto ||
		    c->wait.map.int_first != m->int_port)
			continue;
		if (wait_check(c, &c->wait) == 1)
			wait_over(c);
	}
}

/* ---- requests ---- */

static int
run_op(struct ctl_client *c, const struct control_req *req,
    int (*op)(const struct control_req *, char *, size_t))
{
	char err[256];
	size_t len = 0;

	if (op == NULL) {
		snprintf(err, sizeof(err), "%s: not supported yet",
		    control_cmd_name(req->cmd));
		return client_error(c, CONTROL_E_UNSUPPORTED, err);
	}
	log_info("control socket: %s%s%s", control_cmd_name(req->cmd),
	    req->spec[0] != '\0' ? " " : "", req->spec);
	err[0] = '\0';
	if (op(req, err, sizeof(err)) == -1)
		return client_error(c, CONTROL_E_FAILED, err[0] != '\0' ? err :
		    "failed");
	return client_queue(c, control_ok(NULL, NULL, &len));
}

static int
serve_status(struct ctl_client *c)
{
	struct json_object *o;
	char *line;
	size_t len = 0;

	if ((o = status_json()) == NULL)
		return client_error(c, CONTROL_E_INTERNAL, "out of memory");
	if ((line = control_ok("status", o, &len)) != NULL &&
	    len > CONTROL_MAX_ANSWER) {
		free(line);
		return client_error(c, CONTROL_E_INTERNAL, "status too large");
	}
	return client_queue(c, line);
}

/* One line, without its newline.  -1: the client was dropped. */
static int
client_request(struct ctl_client *c, const char *line, size_t len)
{
	struct control_req req;
	char err[256], esc[512];
	size_t i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' ||
	    line[i] == '\r'); i++)
		;
	if (i == len)
		return 0;		/* a blank line: nothing asked */
	if (control_parse(line, len, &req, err, sizeof(err)) == -1) {
		log_debug("control: client %u: %s", c->id,
		    log_escape(esc, sizeof(esc), err, strlen(err)));
		return client_error(c, CONTROL_E_REQUEST, err);
	}
	/* a complete request: not idle */
	timer_set(&c->timer, CONTROL_IDLE_MS);
	log_debug("control: client %u: %s%s%s", c->id,
	    control_cmd_name(req.cmd), req.spec[0] != '\0' ? " " : "",
	    req.spec);
	switch (req.cmd) {
	case CONTROL_STATUS:
		return serve_status(c);
	case CONTROL_CHECK:
		return run_op(c, &req, ctl.ops.check);
	case CONTROL_RELOAD:
		return run_op(c, &req, ctl.ops.reload);
	case CONTROL_ADD:
		return run_op(c, &req, ctl.ops.add);
	case CONTROL_REMOVE:
		return run_op(c, &req, ctl.ops.remove);
	case CONTROL_WAIT:
		return wait_start(c, &req);
	case CONTROL_EXPOSE:
		return run_op(c, &req, ctl.ops.expose);
	case CONTROL_UNEXPOSE:
		return run_op(c, &req, ctl.ops.unexpose);
	case CONTROL_CONNECT:
		return run_op(c, &req, ctl.ops.connect);
	case CONTROL_DISCONNECT:
		return run_op(c, &req, ctl.ops.disconnect);
	}
	return client_error(c, CONTROL_E_REQUEST, "unknown command");
}

/* Serve the complete lines in the input, in order.  -1: dropped. */
static int
client_process(struct ctl_client *c)
{
	char *nl;
	size_t len;
	int served = 0;

	if (c->resume) {
		c->resume = 0;
		timer_set(&c->timer, CONTROL_IDLE_MS);
	}
	while (!c->waiting && !c->closing) {
		if (served++ == CONTROL_BURST) {
			/* the others' turn, and the timers' */
			client_resume(c);
			break;
		}
		if ((nl = memchr(c->in, '\n', c->inlen)) != NULL)
			len = (size_t)(nl - c->in);
		else if (c->inlen == sizeof(c->in)) {
			/* no end of line in sight: no telling where the next begins */
			c->closing = 1;
			c->inlen = 0;
			if (client_error(c, CONTROL_E_TOOLONG, "request longer "
			    "than 4096 bytes") == -1)
				return -1;
			break;
		} else if (c->eof && c->inlen > 0)
			len = c->inlen;		/* the last line, unterminated */
		else
			break;
		if (client_request(c, c->in, len) == -1)
			return -1;
		len = len < c->inlen ? len + 1 : len;
		memmove(c->in, c->in + len, c->inlen - len);
		c->inlen -= len;
	}
	if (c->eof && !c->waiting && c->inlen == 0)
		c->closing = 1;
	if (c->closing && c->outoff == c->outlen) {
		client_drop(c);
		return -1;
	}
	client_events(c);
	return 0;
}

static int
client_read(struct ctl_client *c)
{
	ssize_t n;

	n = read(c->lfd.fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		log_debug("control: client %u: %s", c->id, strerror(errno));
		client_drop(c);
		return -1;
	}
	if (n == 0)
		c->eof = 1;
	c->inlen += (size_t)n;
	return client_process(c);
}

static void
client_cb(struct loop_fd *lf, int rev)
{
	struct ctl_client *c = container_of(lf, struct ctl_client, lfd);

	if (lf->events == 0) {
		/* nothing asked for: the client hung up */
		client_drop(c);
		return;
	}
	if ((rev & LOOP_WRITE) && client_flush(c) == -1)
		return;
	if ((rev & LOOP_READ) && (lf->events & LOOP_READ))
		client_read(c);
}

static void
client_timer(struct timer *t)
{
	struct ctl_client *c = container_of(t, struct ctl_client, timer);
	char msg[128];

	if (c->resume) {
		client_process(c);
		return;
	}
	if (c->waiting) {
		snprintf(msg, sizeof(msg), "%.*s: not reachable after %u s",
		    CONTROL_MAX_SPEC, c->wait.spec, c->wait.timeout);
		if (client_error(c, CONTROL_E_TIMEOUT, msg) == 0)
			wait_over(c);
		return;
	}
	log_debug("control: client %u idle: dropped", c->id);
	say(c->lfd.fd, CONTROL_E_IDLE, "no request for 30 s");
	client_drop(c);
}

/* ---- the listening socket ---- */

static void	control_accept(struct loop_fd *, int);

static void
control_resume(struct timer *t)
{
	(void)t;
	if (ctl.fd != -1)
		loop_fd_add(&ctl.lfd, ctl.fd, LOOP_READ, control_accept);
}

static void
control_refuse(int fd)
{
	char msg[64];
	uint64_t now = loop_now();

	if (ctl.busy_warned == 0 || now + 1 - ctl.busy_warned >=
	    CONTROL_WARN_MS) {
		log_warnx("control socket: %d clients already, refusing more",
		    CONTROL_MAX_CLIENTS);
		ctl.busy_warned = now + 1;
	}
	snprintf(msg, sizeof(msg), "too many clients (%d)",
	    CONTROL_MAX_CLIENTS);
	say(fd, CONTROL_E_BUSY, msg);
	close(fd);
}

static void
control_accept(struct loop_fd *lf, int rev)
{
	struct ctl_client *c;
	size_t i;
	int fd, n;

	(void)lf;
	(void)rev;
	for (n = 0; n < CONTROL_ACCEPT_BURST; n++) {
		fd = accept4(ctl.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* out of descriptors: the socket stays readable */
			log_warn("control socket: accept");
			loop_fd_del(&ctl.lfd);
			timer_set(&ctl.pause, CONTROL_PAUSE_MS);
			return;
		}
		if (ctl.nclients == CONTROL_MAX_CLIENTS) {
			control_refuse(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("control socket");
			close(fd);
			continue;
		}
		for (i = 0; ctl.clients[i] != NULL; i++)
			;
		ctl.clients[i] = c;
		ctl.nclients++;
		c->id = ++ctl.next_id;
		timer_init(&c->timer, client_timer);
		timer_set(&c->timer, CONTROL_IDLE_MS);
		loop_fd_add(&c->lfd, fd, LOOP_READ, client_cb);
		log_debug("control: client %u connected", c->id);
	}
}

/* mkdir -p of the directories above path, each new one mode 0755. */
static int
make_parents(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			config_seterr(err, errlen, "%s: %s", dir,
			    strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* Is a natmapd listening there?  1 yes, 0 no (a stale socket), -1 error. */
static int
socket_answers(const struct sockaddr_un *sun)
{
	int fd, r;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (r == 0 || errno == EAGAIN || errno == EINPROGRESS)
		r = 1;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		r = 0;
	else
		r = -1;
	close(fd);
	return r;
}

int
control_open(const char *path, const struct control_ops *ops, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || path[0] != '/' ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		config_seterr(err, errlen, "control socket %s: not an absolute "
		    "path of at most %zu bytes", path != NULL ? path : "(none)",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (make_parents(path, err, errlen) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			config_seterr(err, errlen, "control socket %s: exists "
			    "and is not a socket", path);
			return -1;
		}
		switch (socket_answers(&sun)) {
		case 1:
			config_seterr(err, errlen, "control socket %s: another "
			    "natmapd answers there", path);
			return -1;
		case -1:
			config_seterr(err, errlen, "control socket %s: %s",
			    path, strerror(errno));
			return -1;
		}
		log_info("control socket %s: removing what a natmapd that is "
		    "gone left", path);
		if (unlink(path) == -1 && errno != ENOENT) {
			config_seterr(err, errlen, "control socket %s: %s",
			    path, strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		config_seterr(err, errlen, "control socket: %s",
		    strerror(errno));
		return -1;
	}
	/* created 0660, not readable for a moment by the world */
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		config_seterr(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	if (listen(fd, CONTROL_BACKLOG) == -1 || chmod(path, 0660) == -1 ||
	    lstat(path, &st) == -1) {
		config_seterr(err, errlen, "control socket %s: %s", path,
		    strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	if ((ctl.path = strdup(path)) == NULL)
		fatal("strdup");
	ctl.dev = st.st_dev;
	ctl.ino = st.st_ino;
	ctl.fd = fd;
	ctl.ops = *ops;
	timer_init(&ctl.pause, control_resume);
	loop_fd_add(&ctl.lfd, fd, LOOP_READ, control_accept);
	status_subscribe(control_status_event);
	log_debug("control socket at %s", path);
	return 0;
}

void
control_close(void)
{
	struct stat st;
	size_t i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl.clients[i] != NULL)
			client_drop(ctl.clients[i]);
	if (ctl.fd != -1) {
		loop_fd_del(&ctl.lfd);
		timer_stop(&ctl.pause);
		close(ctl.fd);
		ctl.fd = -1;
	}
	if (ctl.path != NULL) {
		/* only the socket made here: another natmapd may have replaced it */
		if (lstat(ctl.path, &st) == 0 && st.st_dev == ctl.dev &&
		    st.st_ino == ctl.ino && unlink(ctl.path) == -1 &&
		    errno != ENOENT)
			log_warn("%s", ctl.path);
		free(ctl.path);
		ctl.path = NULL;
	}
	memset(&ctl.ops, 0, sizeof(ctl.ops));
	ctl.busy_warned = 0;
}

size_t
control_client_count(void)
{
	return ctl.nclients;
}
