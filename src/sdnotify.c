/* SPDX-License-Identifier: ISC */
/* sd_notify(3) without libsystemd: readiness, reloads, stop, a status line and the watchdog, as datagrams to $NOTIFY_SOCKET. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "sdnotify.h"
#include "status.h"

#define SDNOTIFY_MAX_MSG	512

static struct {
	int			 fd;		/* -1: no service manager */
	int			 connected;
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	int			 warned;
	int			 ready;
	int			 stopping;
	int			 subscribed;
	uint64_t		 watchdog_ms;
	struct timer		 watchdog;
	struct timer		 status_timer;
	uint64_t		 status_sent;	/* loop_now() of the last STATUS= */
	int			 status_ever;
	char			 status_last[256];
	struct timer		 ready_timer;
	int			 ready_waiting;	/* for the first search's end */
	int			 server;	/* natmapd-rendezvous: no status table */
	char			 server_status[256];
} sd = { .fd = -1 };

/* The address from $NOTIFY_SOCKET: an absolute path, or '@' for the abstract namespace. */
static int
sdnotify_address(const char *s)
{
	size_t len = strlen(s);

	memset(&sd.sun, 0, sizeof(sd.sun));
	sd.sun.sun_family = AF_UNIX;
	if (s[0] == '@' && len >= 2 && len <= sizeof(sd.sun.sun_path)) {
		/* The leading NUL names the abstract socket; no NUL at the end. */
		memcpy(sd.sun.sun_path + 1, s + 1, len - 1);
		sd.sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len);
		return 0;
	}
	if (s[0] == '/' && len < sizeof(sd.sun.sun_path)) {
		memcpy(sd.sun.sun_path, s, len);
		sd.sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len + 1);
		return 0;
	}
	return -1;
}

static int
sdnotify_connect(void)
{
	if (connect(sd.fd, (struct sockaddr *)&sd.sun, sd.sunlen) == -1)
		return -1;
	sd.connected = 1;
	return 0;
}

int
sdnotify_send(const char *msg)
{
	size_t len = strlen(msg);
	int tries;

	if (sd.fd == -1)
		return -1;
	/* A manager that went away and came back: connect again, once. */
	for (tries = 0; tries < 2; tries++) {
		if (!sd.connected && sdnotify_connect() == -1)
			break;
		if (send(sd.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    (ssize_t)len) {
			if (sd.warned)
				log_info("sd_notify: %s takes messages again",
				    sd.path);
			sd.warned = 0;
			return 0;
		}
		if (errno != ECONNREFUSED && errno != ENOTCONN)
			break;
		sd.connected = 0;
	}
	if (!sd.warned)
		log_warn("sd_notify: %s", sd.path);
	else
		log_debug("sd_notify: %s: %s", sd.path, strerror(errno));
	sd.warned = 1;
	return -1;
}

static const char *
method_name(const char *id)
{
	if (strcmp(id, "pcp") == 0)
		return "PCP";
	if (strcmp(id, "natpmp") == 0)
		return "NAT-PMP";
	if (strcmp(id, "upnp") == 0)
		return "UPnP";
	return id;
}

void
sdnotify_status_text(char *buf, size_t len)
{
	const struct status_gateway *gw = status_gateway();
	struct status_map m, first;
	const struct status_map *first_up = NULL;
	size_t i, n = status_map_count(), up = 0, retrying = 0;
	struct in_addr ext = { INADDR_ANY };
	char count[64], addr[INET_ADDRSTRLEN], more[32] = "";
	const char *method;

	for (i = 0; i < n; i++) {
		if (status_map_get(i, &m) == -1)
			continue;
		if (status_map_reachable(&m)) {
			if (first_up == NULL) {
				first = m;
				first_up = &first;
			}
			up++;
		} else if (m.state == STATUS_RETRYING)
			retrying++;
	}
	if (up == n)
		snprintf(count, sizeof(count), "%zu mapping%s", n,
		    n == 1 ? "" : "s");
	else
		snprintf(count, sizeof(count), "%zu of %zu mappings", up, n);
	if (retrying > 0)
		snprintf(more, sizeof(more), "; %zu retrying", retrying);
	if (gw->found) {
		method = method_name(gw->method);
		ext = gw->external;
	} else if (first_up != NULL)
		method = method_name(first_up->method);	/* no gateway's rung */
	else {
		if (n == 0)
			snprintf(buf, len, "no gateway yet");
		else
			snprintf(buf, len, "no gateway yet; %zu mapping%s "
			    "waiting", n, n == 1 ? "" : "s");
		return;
	}
	if (ext.s_addr == INADDR_ANY && first_up != NULL)
		ext = first_up->ext_addr;
	if (ext.s_addr != INADDR_ANY &&
	    inet_ntop(AF_INET, &ext, addr, sizeof(addr)) != NULL)
		snprintf(buf, len, "%s via %s at %s%s", count, method, addr,
		    more);
	else if (gw->found && gw->addr.s_addr != INADDR_ANY &&
	    inet_ntop(AF_INET, &gw->addr, addr, sizeof(addr)) != NULL)
		snprintf(buf, len, "%s via %s, gateway %s%s", count, method,
		    addr, more);
	else
		snprintf(buf, len, "%s via %s%s", count, method, more);
}

/* STATUS= if the summary changed since the last one that went out. */
static void
status_send(const char *prefix)
{
	char text[sizeof(sd.status_last)], msg[SDNOTIFY_MAX_MSG];

	if (sd.server)
		memcpy(text, sd.server_status, sizeof(text));
	else
		sdnotify_status_text(text, sizeof(text));
	if (prefix == NULL && sd.status_ever &&
	    strcmp(text, sd.status_last) == 0)
		return;
	snprintf(msg, sizeof(msg), "%s%sSTATUS=%s", prefix != NULL ? prefix :
	    "", prefix != NULL ? "\n" : "", text);
	if (sdnotify_send(msg) == -1)
		return;
	memcpy(sd.status_last, text, sizeof(sd.status_last));
	sd.status_ever = 1;
	sd.status_sent = loop_now();
	/* What was due soon went out now: the next change waits for the rate. */
	if (!sd.stopping && !sd.server)
		timer_set(&sd.status_timer, SDNOTIFY_STATUS_POLL_MS);
}

static void
status_timer_cb(struct timer *t)
{
	if (sd.stopping)
		return;
	status_send(NULL);
	timer_set(t, SDNOTIFY_STATUS_POLL_MS);
}

/* Something changed: the summary soon, but not sooner than the rate allows. */
static void
status_soon(void)
{
	uint64_t now = loop_now(), at = now + SDNOTIFY_STATUS_DELAY_MS;

	if (sd.fd == -1 || sd.stopping || sd.server)
		return;
	if (sd.status_ever && at < sd.status_sent + SDNOTIFY_STATUS_MIN_MS)
		at = sd.status_sent + SDNOTIFY_STATUS_MIN_MS;
	if (!timer_armed(&sd.status_timer) || sd.status_timer.deadline > at)
		timer_set_at(&sd.status_timer, at);
}

static void
status_event(int event, const struct status_map *m)
{
	(void)event;
	(void)m;
	status_soon();
}

static void
watchdog_cb(struct timer *t)
{
	(void)sdnotify_send("WATCHDOG=1");
	timer_set(t, sd.watchdog_ms);
}

/* WATCHDOG_USEC, for this process if WATCHDOG_PID says so (or is unset). */
static uint64_t
watchdog_interval(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (us == NULL)
		return 0;
	errno = 0;
	v = strtoull(us, &end, 10);
	if (*us < '0' || *us > '9' || *end != '\0' || errno != 0 || v == 0) {
		log_warnx("sd_notify: WATCHDOG_USEC=%s: not a number of "
		    "microseconds; no watchdog", us);
		return 0;
	}
	if (pid != NULL) {
		errno = 0;
		if (strtoll(pid, &end, 10) != (long long)getpid() ||
		    *end != '\0' || errno != 0) {
			log_debug("sd_notify: the watchdog is for pid %s", pid);
			return 0;
		}
	}
	v /= 2000;	/* half the timeout, in ms */
	return v > 0 ? v : 1;
}

static void	ready_timer_cb(struct timer *);

/* The engine reported the gateway: the first search may be over. */
static void
gateway_event(const struct status_gateway *g)
{
	if (sd.ready_waiting && g->searched)
		sdnotify_ready();
	else
		status_soon();
}

/* The socket and the watchdog; natmapd also follows the status table. */
static int
sdnotify_open(int server)
{
	const char *s = getenv("NOTIFY_SOCKET");

	sdnotify_free();
	sd.server = server;
	timer_init(&sd.watchdog, watchdog_cb);
	timer_init(&sd.status_timer, status_timer_cb);
	timer_init(&sd.ready_timer, ready_timer_cb);
	if (s == NULL || *s == '\0')
		goto none;
	if (strlen(s) >= sizeof(sd.path) || sdnotify_address(s) == -1) {
		log_warnx("sd_notify: NOTIFY_SOCKET=%.*s is not an absolute "
		    "path or @name that fits a socket address; not "
		    "notifying", 120, s);
		goto none;
	}
	snprintf(sd.path, sizeof(sd.path), "%s", s);
	sd.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sd.fd == -1) {
		log_warn("sd_notify: socket");
		goto none;
	}
	/* Now, while natmapd may still reach a directory only root can. */
	if (sdnotify_connect() == -1) {
		log_warn("sd_notify: %s", sd.path);
		sd.warned = 1;
	}
	sd.watchdog_ms = watchdog_interval();
	if (sd.watchdog_ms > 0)
		timer_set(&sd.watchdog, sd.watchdog_ms);
	if (!server && !sd.subscribed) {
		/* status.c keeps its subscribers for the life of the process. */
		status_subscribe(status_event);
		status_subscribe_gateway(gateway_event);
		sd.subscribed = 1;
	}
	if (!server)
		timer_set(&sd.status_timer, SDNOTIFY_STATUS_POLL_MS);
	log_debug("sd_notify: %s, watchdog %s%llu ms", sd.path,
	    sd.watchdog_ms > 0 ? "every " : "off, ",
	    (unsigned long long)sd.watchdog_ms);
none:
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return sd.fd == -1 ? -1 : 0;
}

int
sdnotify_init(void)
{
	return sdnotify_open(0);
}

int
sdnotify_init_server(const char *status)
{
	int rc = sdnotify_open(1);

	sdnotify_set_status(status);
	return rc;
}

void
sdnotify_set_status(const char *status)
{
	if (!sd.server)
		return;
	snprintf(sd.server_status, sizeof(sd.server_status), "%s", status);
	if (sd.ready && !sd.stopping)
		status_send(NULL);
}

void
sdnotify_free(void)
{
	int subscribed = sd.subscribed;

	timer_stop(&sd.watchdog);
	timer_stop(&sd.status_timer);
	timer_stop(&sd.ready_timer);
	if (sd.fd != -1)
		close(sd.fd);
	memset(&sd, 0, sizeof(sd));
	sd.fd = -1;
	sd.subscribed = subscribed;
}

void
sdnotify_ready(void)
{
	timer_stop(&sd.ready_timer);
	sd.ready_waiting = 0;
	if (sd.fd == -1 || sd.ready || sd.stopping)
		return;
	sd.ready = 1;
	status_send("READY=1");
}

static void
ready_timer_cb(struct timer *t)
{
	(void)t;
	log_debug("sd_notify: the first gateway search is still out after "
	    "%d ms; ready anyway", SDNOTIFY_READY_MAX_MS);
	sdnotify_ready();
}

void
sdnotify_ready_after_search(void)
{
	if (sd.fd == -1 || sd.ready)
		return;
	if (status_gateway()->searched) {
		sdnotify_ready();
		return;
	}
	sd.ready_waiting = 1;
	timer_set(&sd.ready_timer, SDNOTIFY_READY_MAX_MS);
}

void
sdnotify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	if (sd.fd == -1 || sd.stopping)
		return;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000);
	(void)sdnotify_send(msg);
}

void
sdnotify_reloaded(void)
{
	if (sd.fd == -1 || sd.stopping)
		return;
	/* Before the first probe is over, READY=1 waits for it. */
	if (sd.ready)
		status_send("READY=1");
}

void
sdnotify_stopping(void)
{
	if (sd.fd == -1 || sd.stopping)
		return;
	sd.stopping = 1;
	timer_stop(&sd.status_timer);
	timer_stop(&sd.ready_timer);
	if (sd.server)
		(void)sdnotify_send("STOPPING=1\nSTATUS=exiting");
	else
		(void)sdnotify_send("STOPPING=1\nSTATUS=deleting the mappings "
		    "and exiting");
}

uint64_t
sdnotify_watchdog_ms(void)
{
	return sd.watchdog_ms;
}
