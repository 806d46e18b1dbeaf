/* SPDX-License-Identifier: ISC */
/* UPnP IGD driver: finds the gateway by SSDP and maps ports by SOAP, never blocking. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "driver.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "ssdp-msg.h"
#include "upnp-msg.h"
#include "upnp.h"

#define UPNP_MAX_CANDIDATES	8
/*
 * A SOAP answer is waited for this long, or twice the pace's RTO if that
 * is longer: TCP itself sends again what is lost, a resent SOAP request
 * only makes the router do the work twice.
 */
#define UPNP_SOAP_TIMEOUT_MS	3000
#define UPNP_DESC_TIMEOUT_MS	3000
#define UPNP_ANYPORT_TRIES	8
#define UPNP_HTTP_TRIES		3	/* a SOAP request unanswered this often: gateway gone */
#define UPNP_PROBE_TRIES	2	/* fetches of a candidate timed out: next one */
#define UPNP_RETRY_PAUSE_MS	500

/*
 * When M-SEARCH rounds go out, in ms from the start of a probe; then the
 * deadline.  MX is 1, so a device answers within a second; one that is
 * later is found by the next probe.
 */
static const unsigned int upnp_search_rounds[] = { 0, 300 };
#define UPNP_SEARCH_DEADLINE_MS	1000
/* How long an answer from a host other than the default gateway waits for the gateway's. */
#define UPNP_OTHER_GRACE_MS	150
/* Refused URLs remembered, so that each is logged at info once. */
#define UPNP_REFUSED_MAX	8
/* At most this many of them at info in one probe: no flood of new URLs. */
#define UPNP_REFUSED_SAY_MAX	4

enum upnp_probe_state {
	PROBE_IDLE,
	PROBE_SEARCH,		/* M-SEARCH out, waiting for answers */
	PROBE_DESC,		/* fetching a description */
	PROBE_EXTADDR,		/* GetExternalIPAddress */
	PROBE_DONE,
};

struct upnp_candidate {
	char		location[256];
	struct in_addr	from;
	int		igd;
	int		tried;
	int		fails;		/* fetches that timed out or were refused */
	long		bootid;
};

/* A URL not fetched: a LOCATION (or a control URL) and who named it. */
struct upnp_refused {
	char		url[256];
	struct in_addr	from;
};

static struct {
	int			 state;
	struct drv_env		 env;
	drv_probe_cb		 cb;
	int			 fd;
	struct loop_fd		 lfd;
	struct timer		 timer;
	uint64_t		 started;
	unsigned int		 round;
	struct upnp_candidate	 cand[UPNP_MAX_CANDIDATES];
	int			 ncand;
	struct upnp_candidate	*cur;		/* the one being fetched */
	struct http_req		 http;
	char			 location[256];
	struct in_addr		 desc_host;	/* where location was fetched */
	struct upnp_url		 ctl;
	struct upnp_igd		 igd;
	struct drv_gateway	 gw;
	int			 ready;		/* a gateway found; kept while probing again */
	long			 bootid;	/* of the candidate being fetched */
	int			 refusals;	/* URLs refused in this probe */
	int			 refusals_said;	/* of them, at info */
	struct upnp_refused	 refused[UPNP_REFUSED_MAX];	/* a ring */
	unsigned int		 nrefused;
} dev = { .fd = -1 };

enum upnp_step {
	STEP_ADD,
	STEP_ADD_ANY,
	STEP_WHO,		/* who holds the port we could not get */
	STEP_VERIFY,
	STEP_CHECK,		/* a periodic look: is it still there? */
	STEP_DELETE,
	STEP_LIST,		/* the entry at an index */
};

struct upnp_call {
	struct drv_op		*op;
	struct drv_map		 req;
	int			 step;
	int			 code;		/* the UPnP error that led to STEP_WHO */
	uint16_t		 ext_port;
	uint32_t		 lease;
	int			 perm_tried;
	int			 tries;
	int			 http_tries;	/* sends of this step that got nothing */
	struct timer		 retry;		/* a refused connection: try again soon */
	uint64_t		 added_at;	/* when the last add went out */
	unsigned int		 index;		/* STEP_LIST */
	struct drv_entry	 entry;		/* what it found */
	int			 end;		/* no entry at that index */
	struct http_req		 http;
};

static void	probe_finish(int, const char *);
static void	probe_next_candidate(void);
static void	call_send(struct upnp_call *);

static const char *
proto_name(int proto)
{
	return proto == DRV_UDP ? "UDP" : "TCP";
}

/* ---- discovery ---- */

/* "eth0's subnet", for the log. */
static const char *
probe_subnet(char *buf, size_t len)
{
	if (dev.env.ifname[0] == '\0')
		return "the local subnet";
	snprintf(buf, len, "%s's subnet", dev.env.ifname);
	return buf;
}

/*
 * A URL from the wire that natmapd will not connect to: said at info the
 * first time, at debug when the same host names it again (each search round,
 * each probe) or when this probe has said enough already.
 */
static void
probe_refuse(const char *url, struct in_addr from, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
probe_refuse(const char *url, struct in_addr from, const char *fmt, ...)
{
	struct upnp_refused *r;
	char msg[768];
	va_list ap;
	size_t i;

	dev.refusals++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < UPNP_REFUSED_MAX; i++) {
		r = &dev.refused[i];
		if (r->from.s_addr == from.s_addr && strcmp(r->url, url) == 0) {
			log_debug("%s (again)", msg);
			return;
		}
	}
	if (dev.refusals_said == UPNP_REFUSED_SAY_MAX) {
		log_debug("%s (too many to say)", msg);
		return;
	}
	dev.refusals_said++;
	r = &dev.refused[dev.nrefused++ % UPNP_REFUSED_MAX];
	snprintf(r->url, sizeof(r->url), "%s", url);
	r->from = from;
	log_info("%s", msg);
}

/* Whether natmapd may fetch the LOCATION of an answer from a host. */
static int
probe_location_ok(const char *location, struct in_addr from)
{
	struct upnp_url u;
	char esc[512], sub[40], host[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &from, host, sizeof(host));
	log_escape(esc, sizeof(esc), location, strlen(location));
	switch (upnp_url_check(location, from, dev.env.local, dev.env.netmask,
	    dev.env.gateway, &u)) {
	case UPNP_URL_OK:
		return 1;
	case UPNP_URL_OTHER_HOST:
		probe_refuse(location, from, "upnp: LOCATION %s from %s is not "
		    "the answering host; not fetched", esc, host);
		return 0;
	case UPNP_URL_OFF_LAN:
		probe_refuse(location, from, "upnp: LOCATION %s: the answering "
		    "host %s is not on %s nor the gateway; not fetched", esc,
		    host, probe_subnet(sub, sizeof(sub)));
		return 0;
	default:
		log_debug("upnp: unusable LOCATION %s from %s", esc, host);
		return 0;
	}
}

static void
probe_close_socket(void)
{
	if (dev.fd != -1) {
		loop_fd_del(&dev.lfd);
		close(dev.fd);
		dev.fd = -1;
	}
}

static void
probe_send_round(void)
{
	static const char *const sts[] = { SSDP_ST_IGD2, SSDP_ST_IGD1 };
	struct sockaddr_in sin;
	char buf[512], gw[INET_ADDRSTRLEN];
	size_t i;
	int n;

	inet_ntop(AF_INET, &dev.env.gateway, gw, sizeof(gw));
	for (i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(SSDP_PORT);
		/* Unicast to the default gateway: answered at once. */
		if (dev.env.gateway.s_addr != INADDR_ANY) {
			n = ssdp_build_msearch(buf, sizeof(buf), gw, SSDP_PORT,
			    sts[i], 1);
			sin.sin_addr = dev.env.gateway;
			if (n > 0 && sendto(dev.fd, buf, (size_t)n, 0,
			    (struct sockaddr *)&sin, sizeof(sin)) == -1)
				log_debug("ssdp: sendto %s: %s", gw,
				    strerror(errno));
		}
		/* Multicast, for an IGD that is not the default gateway. */
		n = ssdp_build_msearch(buf, sizeof(buf), SSDP_MCAST_ADDR,
		    SSDP_PORT, sts[i], 1);
		inet_pton(AF_INET, SSDP_MCAST_ADDR, &sin.sin_addr);
		if (n > 0 && sendto(dev.fd, buf, (size_t)n, 0,
		    (struct sockaddr *)&sin, sizeof(sin)) == -1)
			log_debug("ssdp: sendto %s: %s", SSDP_MCAST_ADDR,
			    strerror(errno));
	}
	log_debug("ssdp: M-SEARCH round %u sent", dev.round + 1);
}

static int
probe_fetching(void)
{
	return dev.state == PROBE_DESC || dev.state == PROBE_EXTADDR;
}

static void
probe_timer(struct timer *t)
{
	uint64_t elapsed = loop_now() - dev.started, next;
	size_t nrounds = sizeof(upnp_search_rounds) /
	    sizeof(upnp_search_rounds[0]);

	(void)t;
	/* Send the rounds that are due. */
	while (dev.round < nrounds
	    && upnp_search_rounds[dev.round] <= elapsed) {
		probe_send_round();
		dev.round++;
	}
	if (!probe_fetching()) {
		/* An answer from another host has waited long enough. */
		if (dev.ncand > 0)
			probe_next_candidate();
		if (probe_fetching())
			return;
		if (elapsed >= UPNP_SEARCH_DEADLINE_MS) {
			probe_finish(DRV_ERR_GATEWAY,
			    dev.ncand + dev.refusals > 0 ?
			    "no usable UPnP IGD answered" :
			    "no UPnP IGD answered");
			return;
		}
	}
	if (dev.round < nrounds)
		next = upnp_search_rounds[dev.round];
	else if (probe_fetching())
		return;		/* the HTTP timeout brings the probe back */
	else
		next = UPNP_SEARCH_DEADLINE_MS;
	timer_set(&dev.timer, next > elapsed ? next - elapsed : 1);
}

static void	probe_desc_done(struct http_req *, int,
		    const struct http_response *, const char *);

/* Fetch the best candidate not tried yet: the default gateway's first. */
static void
probe_next_candidate(void)
{
	struct upnp_candidate *c = NULL;
	struct upnp_url u;
	char req[512];
	int i, n;

	for (i = 0; i < dev.ncand; i++) {
		if (dev.cand[i].tried)
			continue;
		if (c == NULL || (dev.cand[i].from.s_addr ==
		    dev.env.gateway.s_addr && c->from.s_addr !=
		    dev.env.gateway.s_addr) || (dev.cand[i].from.s_addr ==
		    c->from.s_addr && dev.cand[i].igd > c->igd))
			c = &dev.cand[i];
	}
	if (c == NULL)
		return;
	c->tried = 1;
	dev.cur = c;
	if (upnp_url_parse(c->location, &u) == -1) {
		char esc[128];

		log_debug("upnp: unusable LOCATION %s", log_escape(esc,
		    sizeof(esc), c->location, strlen(c->location)));
		probe_next_candidate();
		return;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: natmapd/" PACKAGE_VERSION " UPnP/1.1\r\n"
	    "Connection: close\r\n\r\n", u.path, u.host);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		probe_next_candidate();
		return;
	}
	snprintf(dev.location, sizeof(dev.location), "%s", c->location);
	dev.desc_host = u.addr;
	dev.bootid = c->bootid;
	memset(&dev.http, 0, sizeof(dev.http));
	dev.http.dst = u.addr;
	dev.http.port = u.port;
	dev.http.src = dev.env.local;
	dev.http.timeout_ms = UPNP_DESC_TIMEOUT_MS;
	dev.http.done = probe_desc_done;
	dev.state = PROBE_DESC;
	log_debug("upnp: fetching %s", dev.location);
	if (http_start(&dev.http, req, (size_t)n) == -1) {
		dev.state = PROBE_SEARCH;
		probe_next_candidate();
	}
}

static void
probe_read(struct loop_fd *lf, int ev)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct ssdp_msg m;
	const char *err;
	char buf[1536], esc[64];
	ssize_t n;
	int i;

	(void)lf;
	(void)ev;
	n = recvfrom(dev.fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from,
	    &fl);
	if (n <= 0)
		return;
	if (ssdp_parse(buf, (size_t)n, &m, &err) == -1) {
		log_debug("ssdp: %s: dropped: %s", inet_ntoa(from.sin_addr),
		    err);
		return;
	}
	if (m.kind != SSDP_RESPONSE || m.igd == 0) {
		log_debug("ssdp: %s: not an IGD answer (%s)",
		    inet_ntoa(from.sin_addr),
		    log_escape(esc, sizeof(esc), m.st, strlen(m.st)));
		return;
	}
	for (i = 0; i < dev.ncand; i++)
		if (strcmp(dev.cand[i].location, m.location) == 0)
			return;
	if (dev.ncand == UPNP_MAX_CANDIDATES)
		return;
	/* Only a host of the LAN, describing itself: nobody else is fetched. */
	if (!probe_location_ok(m.location, from.sin_addr))
		return;
	log_debug("ssdp: %s answered: IGD:%d at %s", inet_ntoa(from.sin_addr),
	    m.igd, log_escape(esc, sizeof(esc), m.location,
	    strlen(m.location)));
	memcpy(dev.cand[dev.ncand].location, m.location, sizeof(m.location));
	dev.cand[dev.ncand].from = from.sin_addr;
	dev.cand[dev.ncand].igd = m.igd;
	dev.cand[dev.ncand].tried = 0;
	dev.cand[dev.ncand].fails = 0;
	dev.cand[dev.ncand].bootid = m.bootid;
	dev.ncand++;
	if (dev.state != PROBE_SEARCH)
		return;
	if (from.sin_addr.s_addr == dev.env.gateway.s_addr)
		probe_next_candidate();
	else if (timer_remaining(&dev.timer) > UPNP_OTHER_GRACE_MS)
		timer_set(&dev.timer, UPNP_OTHER_GRACE_MS);
}

static void	probe_extaddr_done(struct http_req *, int,
		    const struct http_response *, const char *);

/*
 * A fetch from the candidate in hand timed out or was refused: a lost SYN
 * or a lossy link is no verdict (the SOAP calls' rule), so the candidate
 * is fetched again, description first, up to UPNP_PROBE_TRIES times.
 */
static void
probe_failed_fetch(int err)
{
	if ((err == HTTP_ERR_TIMEOUT || err == HTTP_ERR_CONNECT) &&
	    dev.cur != NULL && ++dev.cur->fails < UPNP_PROBE_TRIES) {
		log_debug("upnp: %s: %s; asking again", dev.location,
		    http_strerror(err));
		dev.cur->tried = 0;
	}
}

static void
probe_desc_done(struct http_req *h, int err, const struct http_response *r,
    const char *body)
{
	struct upnp_igd igd;
	struct upnp_url ctl;
	char req[2048], esc[512];
	int n, v;

	(void)h;
	dev.state = PROBE_SEARCH;
	/* Anything but 200, a redirect too, ends this candidate: none is followed. */
	if (err != HTTP_OK || r->status != 200) {
		log_debug("upnp: %s: %s", dev.location, err != HTTP_OK ?
		    http_strerror(err) : "HTTP status not 200");
		probe_failed_fetch(err);
		goto next;
	}
	if (upnp_desc_parse(body, r->body_len, dev.location, &igd) == -1) {
		log_debug("upnp: %s: no usable WAN connection service",
		    dev.location);
		goto next;
	}
	log_escape(esc, sizeof(esc), igd.control_url, strlen(igd.control_url));
	/* The control URL is on the host the description came from. */
	if ((v = upnp_url_check(igd.control_url, dev.desc_host, dev.env.local,
	    dev.env.netmask, dev.env.gateway, &ctl)) != UPNP_URL_OK) {
		char lesc[512];

		log_escape(lesc, sizeof(lesc), dev.location,
		    strlen(dev.location));
		if (v == UPNP_URL_UNUSABLE)
			log_debug("upnp: %s: unusable control URL %s", lesc,
			    esc);
		else
			probe_refuse(igd.control_url, dev.desc_host, "upnp: %s "
			    "names the control URL %s, not on %s; not used",
			    lesc, esc, inet_ntoa(dev.desc_host));
		goto next;
	}
	dev.igd = igd;
	dev.ctl = ctl;
	log_debug("upnp: %s: %s at %s", dev.location, dev.igd.service, esc);
	n = upnp_soap_build(req, sizeof(req), &dev.ctl, dev.igd.service,
	    "GetExternalIPAddress", NULL, 0);
	if (n < 0)
		goto next;
	memset(&dev.http, 0, sizeof(dev.http));
	dev.http.dst = dev.ctl.addr;
	dev.http.port = dev.ctl.port;
	dev.http.src = dev.env.local;
	dev.http.timeout_ms = UPNP_SOAP_TIMEOUT_MS;
	dev.http.done = probe_extaddr_done;
	dev.state = PROBE_EXTADDR;
	if (http_start(&dev.http, req, (size_t)n) == 0)
		return;
	dev.state = PROBE_SEARCH;
next:
	probe_next_candidate();
	if (!probe_fetching() && !timer_armed(&dev.timer))
		timer_set(&dev.timer, 0);
}

static void
probe_extaddr_done(struct http_req *h, int err, const struct http_response *r,
    const char *body)
{
	struct upnp_reply rep;
	const char *ext, *svc;

	(void)h;
	memset(&dev.gw, 0, sizeof(dev.gw));
	svc = dev.igd.service;
	if (strncmp(svc, UPNP_SVC_PREFIX, strlen(UPNP_SVC_PREFIX)) == 0)
		svc += strlen(UPNP_SVC_PREFIX);
	snprintf(dev.gw.name, sizeof(dev.gw.name), "UPnP (%.48s)", svc);
	memcpy(dev.gw.where, dev.location, sizeof(dev.gw.where));
	dev.gw.bootid = dev.bootid;
	dev.gw.addr = dev.ctl.addr;
	if (err != HTTP_OK) {
		dev.state = PROBE_SEARCH;
		log_debug("upnp: GetExternalIPAddress: %s", http_strerror(err));
		probe_failed_fetch(err);
		probe_next_candidate();
		if (!probe_fetching())
			timer_set(&dev.timer, 0);
		return;
	}
	if (upnp_soap_parse(body, r->body_len, r->status, &rep) == -1 ||
	    rep.errcode != 0 ||
	    (ext = upnp_reply_get(&rep, "NewExternalIPAddress")) == NULL ||
	    inet_pton(AF_INET, ext, &dev.gw.external) != 1) {
		/* Not fatal: the IGD may be disconnected on its WAN side for now. */
		dev.gw.external.s_addr = INADDR_ANY;
		log_debug("upnp: GetExternalIPAddress gave no address");
	}
	probe_finish(DRV_OK, NULL);
}

static void
probe_finish(int status, const char *detail)
{
	drv_probe_cb cb = dev.cb;

	timer_stop(&dev.timer);
	probe_close_socket();
	http_cancel(&dev.http);
	dev.state = status == DRV_OK ? PROBE_DONE : PROBE_IDLE;
	/* A failed probe again keeps what worked: requests tell if it is gone. */
	if (status == DRV_OK)
		dev.ready = 1;
	dev.cb = NULL;
	if (cb != NULL)
		cb(&upnp_driver, status, status == DRV_OK ? &dev.gw : NULL,
		    detail);
}

static void
upnp_probe_cancel(void)
{
	timer_stop(&dev.timer);
	probe_close_socket();
	http_cancel(&dev.http);
	dev.state = PROBE_IDLE;
	dev.cb = NULL;
}

static int
upnp_probe(const struct drv_env *env, drv_probe_cb cb)
{
	struct sockaddr_in sin;
	unsigned char ttl = 2;
	int fd;

	upnp_probe_cancel();
	dev.env = *env;
	dev.cb = cb;
	dev.ncand = 0;
	dev.cur = NULL;
	dev.refusals = dev.refusals_said = 0;
	dev.round = 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("ssdp: socket");
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = env->local;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("ssdp: bind %s", inet_ntoa(env->local));
		close(fd);
		return -1;
	}
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &env->local,
	    sizeof(env->local)) == -1)
		log_debug("ssdp: IP_MULTICAST_IF: %s", strerror(errno));
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
	    sizeof(ttl)) == -1)
		log_debug("ssdp: IP_MULTICAST_TTL: %s", strerror(errno));
	dev.fd = fd;
	loop_fd_add(&dev.lfd, fd, LOOP_READ, probe_read);
	dev.state = PROBE_SEARCH;
	dev.started = loop_now();
	timer_init(&dev.timer, probe_timer);
	probe_timer(&dev.timer);
	return 0;
}

/* ---- port mappings ---- */

static void	call_http_done(struct http_req *, int,
		    const struct http_response *, const char *);

static void
call_end(struct upnp_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
call_end(struct upnp_call *c, int status, const char *fmt, ...)
{
	struct drv_result res;
	struct drv_op *op = c->op;
	va_list ap;

	memset(&res, 0, sizeof(res));
	res.status = status;
	/*
	 * sends stays 0: every answer is a round trip.  Over TCP the kernel
	 * retransmits unseen, and an answer after a request sent again means
	 * the SOAP timeout (from the RTO) was too short: it must count.
	 */
	res.ext_port = c->ext_port;
	res.lease = c->lease;
	res.ext_addr = dev.gw.external;
	res.entry = c->entry;
	res.end = c->end;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(res.detail, sizeof(res.detail), fmt, ap);
		va_end(ap);
	}
	op->priv = NULL;
	timer_stop(&c->retry);
	free(c);
	op->done(op, &res);
}

static void
call_send(struct upnp_call *c)
{
	struct upnp_arg args[8];
	char req[4096], ext[8], intp[8], client[INET_ADDRSTRLEN], lease[12];
	char idx[12];
	const char *action;
	size_t nargs = 0;
	int n;

	snprintf(ext, sizeof(ext), "%u", c->ext_port);
	snprintf(intp, sizeof(intp), "%u", c->req.int_port);
	snprintf(lease, sizeof(lease), "%u", c->lease);
	inet_ntop(AF_INET, &c->req.int_addr, client, sizeof(client));
	if (c->step == STEP_LIST) {
		snprintf(idx, sizeof(idx), "%u", c->index);
		args[nargs++] = (struct upnp_arg){ "NewPortMappingIndex", idx };
		action = "GetGenericPortMappingEntry";
		goto build;
	}
	args[nargs++] = (struct upnp_arg){ "NewRemoteHost", "" };
	args[nargs++] = (struct upnp_arg){ "NewExternalPort", ext };
	args[nargs++] = (struct upnp_arg){ "NewProtocol",
	    proto_name(c->req.proto) };
	switch (c->step) {
	case STEP_ADD:
	case STEP_ADD_ANY:
		action = c->step == STEP_ADD ? "AddPortMapping" :
		    "AddAnyPortMapping";
		c->added_at = loop_now();
		args[nargs++] = (struct upnp_arg){ "NewInternalPort", intp };
		args[nargs++] = (struct upnp_arg){ "NewInternalClient",
		    client };
		args[nargs++] = (struct upnp_arg){ "NewEnabled", "1" };
		args[nargs++] = (struct upnp_arg){ "NewPortMappingDescription",
		    c->req.desc };
		args[nargs++] = (struct upnp_arg){ "NewLeaseDuration", lease };
		break;
	case STEP_WHO:
	case STEP_VERIFY:
	case STEP_CHECK:
		action = "GetSpecificPortMappingEntry";
		break;
	default:
		action = "DeletePortMapping";
		break;
	}
build:
	n = upnp_soap_build(req, sizeof(req), &dev.ctl, dev.igd.service, action,
	    args, nargs);
	if (n < 0) {
		call_end(c, DRV_ERR_FAILED, "cannot build %s request", action);
		return;
	}
	if (c->step == STEP_LIST)
		log_debug("upnp: %s %u", action, c->index);
	else
		log_debug("upnp: %s %s %u -> %s:%u lease %u", action,
		    proto_name(c->req.proto), c->ext_port, client,
		    c->req.int_port, c->lease);
	memset(&c->http, 0, sizeof(c->http));
	c->http.dst = dev.ctl.addr;
	c->http.port = dev.ctl.port;
	c->http.src = dev.env.local;
	/*
	 * A router that takes 2 to 5 s an operation (miniupnpd's nftables
	 * backend at 300 rules) is slow, not gone: asking again does the
	 * work twice.  Wait as long as its recent answers call for.
	 */
	c->http.timeout_ms = 2 * c->req.rto_ms > UPNP_SOAP_TIMEOUT_MS ?
	    2 * c->req.rto_ms : UPNP_SOAP_TIMEOUT_MS;
	c->http.done = call_http_done;
	if (http_start(&c->http, req, (size_t)n) == -1)
		call_end(c, DRV_ERR_FAILED, "out of memory");
}

static uint16_t
random_port(void)
{
	return (uint16_t)(1024 + loop_random(65536 - 1024));
}

/* The answer to AddPortMapping or AddAnyPortMapping. */
static void
call_added(struct upnp_call *c, const struct upnp_reply *rep)
{
	const char *v;

	switch (rep->errcode) {
	case 0:
		if (c->step == STEP_ADD_ANY &&
		    (v = upnp_reply_get(rep, "NewReservedPort")) != NULL) {
			long p = strtol(v, NULL, 10);

			if (p < 1 || p > 65535) {
				call_end(c, DRV_ERR_FAILED, "AddAnyPortMapping "
				    "reserved a bad port");
				return;
			}
			c->ext_port = (uint16_t)p;
		}
		c->step = STEP_VERIFY;
		call_send(c);
		return;
	case UPNP_ERR_ONLY_PERMANENT:
	case UPNP_ERR_INVALID_ARGS:
		/* Only permanent leases, or a router that rejects any lease. */
		if (c->lease != 0 && !c->perm_tried) {
			log_debug("upnp: error %d on a %us lease: asking for a "
			    "permanent mapping", rep->errcode, c->lease);
			c->perm_tried = 1;
			c->lease = 0;
			call_send(c);
			return;
		}
		break;
	case UPNP_ERR_CONFLICT:
	case UPNP_ERR_ACTION_FAILED:
		c->code = rep->errcode;
		c->step = STEP_WHO;
		call_send(c);
		return;
	case UPNP_ERR_NOT_AUTHORIZED:
		call_end(c, DRV_ERR_DENIED, "the gateway refuses: %s (%d)",
		    upnp_strerror(rep->errcode), rep->errcode);
		return;
	}
	call_end(c, DRV_ERR_FAILED, "%s (%d)", upnp_strerror(rep->errcode),
	    rep->errcode);
}

/* The answer to GetSpecificPortMappingEntry after a conflict. */
static void
call_who(struct upnp_call *c, const struct upnp_reply *rep)
{
	const char *client = upnp_reply_get(rep, "NewInternalClient");
	const char *port = upnp_reply_get(rep, "NewInternalPort");
	char mine[INET_ADDRSTRLEN], intp[8];

	inet_ntop(AF_INET, &c->req.int_addr, mine, sizeof(mine));
	snprintf(intp, sizeof(intp), "%u", c->req.int_port);
	if (rep->errcode != 0 || client == NULL) {
		call_end(c, DRV_ERR_FAILED, "%s (%d)", upnp_strerror(c->code),
		    c->code);
		return;
	}
	if (strcmp(client, mine) == 0 && port != NULL &&
	    strcmp(port, intp) == 0) {
		/* Ours already (a renewal the router would not extend). */
		c->step = STEP_VERIFY;
		call_send(c);
		return;
	}
	if (c->req.any_port && c->tries < UPNP_ANYPORT_TRIES) {
		c->tries++;
		if (dev.igd.version == 2 && c->tries == 1)
			c->step = STEP_ADD_ANY;
		else {
			c->step = STEP_ADD;
			c->ext_port = random_port();
		}
		log_debug("upnp: external port held by %s:%s, trying %s",
		    client, port != NULL ? port : "?",
		    c->step == STEP_ADD_ANY ? "AddAnyPortMapping" :
		    "another port");
		call_send(c);
		return;
	}
	call_end(c, DRV_ERR_CONFLICT, "external port %u is held by %s:%s (%s)",
	    c->ext_port, client, port != NULL ? port : "?",
	    upnp_strerror(c->code));
}

static void
call_verified(struct upnp_call *c, const struct upnp_reply *rep)
{
	const char *client = upnp_reply_get(rep, "NewInternalClient");
	const char *lease = upnp_reply_get(rep, "NewLeaseDuration");
	char mine[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->req.int_addr, mine, sizeof(mine));
	if (rep->errcode == UPNP_ERR_NO_SUCH_ENTRY) {
		call_end(c, DRV_ERR_FAILED, "the gateway accepted the mapping "
		    "but does not list it");
		return;
	}
	if (rep->errcode != 0 || client == NULL) {
		call_end(c, DRV_ERR_FAILED, "cannot verify the mapping: %s (%d)",
		    upnp_strerror(rep->errcode), rep->errcode);
		return;
	}
	if (strcmp(client, mine) != 0) {
		call_end(c, DRV_ERR_CONFLICT, "external port %u is held by %s",
		    c->ext_port, client);
		return;
	}
	if (lease != NULL) {
		char *end;
		unsigned long l = strtoul(lease, &end, 10);
		uint64_t since = (loop_now() - c->added_at + 999) / 1000;

		/*
		 * Routers report the time left, on a clock of whole seconds.
		 * Granted = what is left plus the seconds since the add went
		 * out plus one tick, up to what was asked: a router that grants
		 * less is still seen, a clock tick is not.
		 */
		if (*end == '\0' && end != lease && l <= 0x7fffffffUL) {
			if (c->lease != 0 && l + since + 1 >= c->lease)
				l = c->lease;
			c->lease = (uint32_t)l;
		}
	}
	call_end(c, DRV_OK, NULL);
}

/* A port number as a router writes it: digits only, 1..65535; else -1. */
static long
port_value(const char *s)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > 65535)
			return -1;
	}
	return v == 0 ? -1 : v;
}

/* The answer to GetGenericPortMappingEntry. */
static void
call_listed(struct upnp_call *c, const struct upnp_reply *rep)
{
	const char *proto = upnp_reply_get(rep, "NewProtocol");
	const char *ext = upnp_reply_get(rep, "NewExternalPort");
	const char *client = upnp_reply_get(rep, "NewInternalClient");
	const char *intp = upnp_reply_get(rep, "NewInternalPort");
	const char *desc = upnp_reply_get(rep, "NewPortMappingDescription");
	const char *lease = upnp_reply_get(rep, "NewLeaseDuration");
	struct drv_entry *e = &c->entry;
	long ep, ip;

	/* 713 past the end; 714 (some routers), 402 (IGD:2 out of range). */
	if (rep->errcode == UPNP_ERR_BAD_INDEX ||
	    rep->errcode == UPNP_ERR_NO_SUCH_ENTRY ||
	    rep->errcode == UPNP_ERR_INVALID_ARGS) {
		c->end = 1;
		call_end(c, DRV_OK, NULL);
		return;
	}
	if (rep->errcode != 0) {
		call_end(c, DRV_ERR_FAILED, "GetGenericPortMappingEntry: %s (%d)",
		    upnp_strerror(rep->errcode), rep->errcode);
		return;
	}
	if (proto == NULL || ext == NULL || client == NULL || intp == NULL ||
	    (strcasecmp(proto, "TCP") != 0 && strcasecmp(proto, "UDP") != 0) ||
	    (ep = port_value(ext)) == -1 ||
	    (ip = port_value(intp)) == -1 ||
	    inet_pton(AF_INET, client, &e->int_addr) != 1) {
		/* Not ours in any case (an IPv6 pinhole, a router's oddity). */
		memset(e, 0, sizeof(*e));
		call_end(c, DRV_OK, NULL);
		return;
	}
	e->proto = strcasecmp(proto, "UDP") == 0 ? DRV_UDP : DRV_TCP;
	e->ext_port = (uint16_t)ep;
	e->int_port = (uint16_t)ip;
	e->lease = 0;
	if (lease != NULL) {
		char *end;
		unsigned long l = strtoul(lease, &end, 10);

		if (*end == '\0' && end != lease && l <= 0x7fffffffUL)
			e->lease = (uint32_t)l;
	}
	snprintf(e->desc, sizeof(e->desc), "%s", desc != NULL ? desc : "");
	call_end(c, DRV_OK, NULL);
}

static void
call_http_done(struct http_req *h, int err, const struct http_response *r,
    const char *body)
{
	struct upnp_call *c = container_of(h, struct upnp_call, http);
	struct upnp_reply rep;

	if ((err == HTTP_ERR_TIMEOUT || err == HTTP_ERR_CONNECT) &&
	    ++c->http_tries < UPNP_HTTP_TRIES) {
		/*
		 * A lost SYN or a lossy link: one request is no verdict.  A
		 * refused connection (a router still starting its HTTP
		 * server) is tried again after a pause, a timeout at once.
		 */
		log_debug("upnp: %s; sending again", http_strerror(err));
		if (err == HTTP_ERR_CONNECT)
			timer_set(&c->retry, UPNP_RETRY_PAUSE_MS);
		else
			call_send(c);
		return;
	}
	if (err != HTTP_OK) {
		call_end(c, err == HTTP_ERR_PROTOCOL ? DRV_ERR_FAILED :
		    DRV_ERR_GATEWAY, "%s", http_strerror(err));
		return;
	}
	c->http_tries = 0;
	if (upnp_soap_parse(body, r->body_len, r->status, &rep) == -1) {
		call_end(c, DRV_ERR_FAILED, "unreadable SOAP answer (HTTP %d)",
		    r->status);
		return;
	}
	switch (c->step) {
	case STEP_ADD:
	case STEP_ADD_ANY:
		call_added(c, &rep);
		break;
	case STEP_WHO:
		call_who(c, &rep);
		break;
	case STEP_VERIFY:
		call_verified(c, &rep);
		break;
	case STEP_CHECK:
		if (rep.errcode == UPNP_ERR_NO_SUCH_ENTRY)
			call_end(c, DRV_ERR_FAILED, "no longer on the gateway");
		else
			call_verified(c, &rep);
		break;
	case STEP_LIST:
		call_listed(c, &rep);
		break;
	default:
		if (rep.errcode == 0 || rep.errcode == UPNP_ERR_NO_SUCH_ENTRY)
			call_end(c, DRV_OK, NULL);
		else
			call_end(c, DRV_ERR_FAILED, "%s (%d)",
			    upnp_strerror(rep.errcode), rep.errcode);
		break;
	}
}

static void
call_retry(struct timer *t)
{
	call_send(container_of(t, struct upnp_call, retry));
}

static struct upnp_call *
call_new(struct drv_op *op, const struct drv_map *m, int step)
{
	struct upnp_call *c;

	if (!dev.ready)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->op = op;
	c->req = *m;
	c->step = step;
	timer_init(&c->retry, call_retry);
	c->ext_port = m->ext_port;
	c->lease = m->lease;
	op->priv = c;
	return c;
}

static int
call_start(struct drv_op *op, const struct drv_map *m, int step)
{
	struct upnp_call *c;

	if ((c = call_new(op, m, step)) == NULL)
		return -1;
	call_send(c);
	return 0;
}

static int
upnp_map(struct drv_op *op, const struct drv_map *m)
{
	return call_start(op, m, STEP_ADD);
}

static int
upnp_unmap(struct drv_op *op, const struct drv_map *m)
{
	return call_start(op, m, STEP_DELETE);
}

static int
upnp_verify(struct drv_op *op, const struct drv_map *m)
{
	return call_start(op, m, STEP_CHECK);
}

static int
upnp_list(struct drv_op *op, unsigned int index)
{
	struct drv_map none;
	struct upnp_call *c;

	memset(&none, 0, sizeof(none));
	if ((c = call_new(op, &none, STEP_LIST)) == NULL)
		return -1;
	c->index = index;
	call_send(c);
	return 0;
}

static void
upnp_cancel(struct drv_op *op)
{
	struct upnp_call *c = op->priv;

	if (c == NULL)
		return;
	http_cancel(&c->http);
	timer_stop(&c->retry);
	free(c);
	op->priv = NULL;
}

const struct mapping_driver upnp_driver = {
	.name = "UPnP",
	.id = "upnp",
	.probe_delay_ms = 30,
	.probe = upnp_probe,
	.probe_cancel = upnp_probe_cancel,
	.map = upnp_map,
	.unmap = upnp_unmap,
	.verify = upnp_verify,
	.list = upnp_list,
	.cancel = upnp_cancel,
};
