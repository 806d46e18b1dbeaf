/* SPDX-License-Identifier: ISC */
/* IPv6 pinholes through PCP (RFC 6887), twins of the PCP driver's IPv4 mappings: map, renew, delete, follow restarts. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "announce.h"
#include "driver.h"
#include "log.h"
#include "loop.h"
#include "pcp-msg.h"
#include "pcp6.h"

/* ANNOUNCE: does the IPv6 router speak PCP?  As the IPv4 probe. */
static const unsigned int pcp6_probe_waits[] = { 250, 250, 500 };
/* A pinhole refused or unanswered is asked for again this much later. */
#define PCP6_RETRY_MS		30000
/* After a restart of the router, pinholes come back within this (RFC 6887 14.1.3). */
#define PCP6_RESET_SPREAD_MS	5000
/*
 * A pinhole mapped this recently is not asked for again when the IPv4
 * side asks: after a restart both sides re-map within the spread above,
 * and miniupnpd 2.3.1 loses a pinhole's nonce each time a MAP renews it.
 */
#define PCP6_FRESH_MS		(2 * PCP6_RESET_SPREAD_MS)

enum twin_state {
	TW_QUEUED,		/* waits for the router to answer over IPv6 */
	TW_MAPPING,		/* a MAP is out */
	TW_MAPPED,		/* renews itself */
	TW_RETRY,		/* failed; asks again later */
	TW_DELETING,		/* a MAP with lifetime 0 is out */
};

struct twin {
	struct drv_map		 req;	/* proto, int_port, lease, nonce */
	int			 state;
	int			 open;	/* the router holds it (logged so) */
	struct pcp_rt		 rt;
	uint32_t		 lifetime;
	uint16_t		 ext_port;
	uint64_t		 mapped_at;	/* the last success */
	struct timer		 timer;
	void			(*done)(void *);
	void			*done_arg;
	struct twin		*next;
};

static struct {
	int			 fd;
	struct loop_fd		 lfd;
	int			 afd;		/* announcements, ff02::1:5350 */
	struct loop_fd		 alfd;
	struct drv_env		 env;
	int			 ready;		/* the router answered over IPv6 */
	unsigned int		 probe_sends;
	struct timer		 probe_timer;
	struct pcp_epoch	 epoch;
	struct twin		*twins;
} pin6 = { .fd = -1, .afd = -1 };

static void	twin_send(struct twin *);

static const char *
proto_name(int proto)
{
	return proto == DRV_UDP ? "udp" : "tcp";
}

static const char *
local_str(void)
{
	static char s[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, &pin6.env.local6, s, sizeof(s));
}

static struct twin *
twin_find(const struct drv_map *m)
{
	struct twin *t;

	for (t = pin6.twins; t != NULL; t = t->next)
		if (t->req.proto == m->proto && t->req.int_port == m->int_port)
			return t;
	return NULL;
}

static void
twin_free(struct twin *t)
{
	struct twin **p;

	for (p = &pin6.twins; *p != NULL; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	timer_stop(&t->timer);
	free(t);
}

/* A delete is over (answered or not): tell whoever waits, forget the twin. */
static void
twin_deleted(struct twin *t)
{
	void (*done)(void *) = t->done;
	void *arg = t->done_arg;

	if (t->open)
		log_info("%s [%s]:%u closed", proto_name(t->req.proto),
		    local_str(), t->req.int_port);
	twin_free(t);
	if (done != NULL)
		done(arg);
}

static void
twin_timer(struct timer *tm)
{
	struct twin *t = container_of(tm, struct twin, timer);

	switch (t->state) {
	case TW_MAPPING:
	case TW_DELETING:
		if (loop_now() - t->rt.first_sent < PCP_RT_BUDGET_MS) {
			twin_send(t);
			return;
		}
		if (t->state == TW_DELETING) {
			log_warnx("%s [%s]:%u: no answer to the IPv6 delete; "
			    "the pinhole ends with its lifetime",
			    proto_name(t->req.proto), local_str(),
			    t->req.int_port);
			t->open = 0;
			twin_deleted(t);
			return;
		}
		log_warnx("%s [%s]:%u: no answer over IPv6 (PCP); asking "
		    "again in %us", proto_name(t->req.proto), local_str(),
		    t->req.int_port, PCP6_RETRY_MS / 1000);
		t->state = TW_RETRY;
		timer_set(&t->timer, loop_jitter(PCP6_RETRY_MS, 20));
		return;
	case TW_MAPPED:
	case TW_RETRY:
		t->state = TW_MAPPING;
		t->rt.sends = 0;
		twin_send(t);
		return;
	default:
		return;
	}
}

static void
twin_send(struct twin *t)
{
	struct pcp_map_req mr;
	uint8_t buf[PCP_MAX_MSG];
	int n;

	/* No translation: the pinhole's port is ours; any address (::). */
	pcp_map_req_init(&mr, t->req.nonce, t->req.proto == DRV_UDP ?
	    IPPROTO_UDP : IPPROTO_TCP, t->req.int_port,
	    t->state == TW_DELETING && t->ext_port != 0 ? t->ext_port :
	    t->req.int_port);
	n = pcp_build_map(buf, sizeof(buf), &pin6.env.local6,
	    t->state == TW_DELETING ? 0 : drv_map_lifetime(&t->req), &mr);
	if (n < 0 || send(pin6.fd, buf, (size_t)n, 0) == -1)
		log_debug("pcp6: send: %s", n < 0 ? "cannot build" :
		    strerror(errno));
	timer_set(&t->timer, loop_jitter(pcp_rt_sent(&t->rt, loop_now()), 10));
}

/* The router restarted or lost its state: every pinhole again, spread out. */
static void
twin_remap_all(void)
{
	struct twin *t;

	for (t = pin6.twins; t != NULL; t = t->next)
		if (t->state == TW_MAPPED || t->state == TW_RETRY) {
			t->state = TW_RETRY;
			timer_set(&t->timer, loop_random(PCP6_RESET_SPREAD_MS));
		}
}

static void
twin_start_queued(void)
{
	struct twin *t;

	for (t = pin6.twins; t != NULL; t = t->next)
		if (t->state == TW_QUEUED) {
			t->state = TW_MAPPING;
			t->rt.sends = 0;
			twin_send(t);
		}
}

static void
answer_map(const struct pcp_response *r)
{
	char ext[INET6_ADDRSTRLEN];
	struct twin *t;
	uint32_t renew;

	for (t = pin6.twins; t != NULL; t = t->next)
		if (memcmp(t->req.nonce, r->nonce, PCP_NONCE_LEN) == 0 &&
		    r->protocol == (t->req.proto == DRV_UDP ? IPPROTO_UDP :
		    IPPROTO_TCP) && r->internal_port == t->req.int_port)
			break;
	if (t == NULL || (t->state != TW_MAPPING && t->state != TW_DELETING)) {
		log_debug("pcp6: dropped a MAP answer nobody asked for");
		return;
	}
	if (t->state == TW_DELETING) {
		if (r->result != PCP_SUCCESS) {
			/*
			 * miniupnpd 2.3.1 loses a pinhole's nonce when a MAP
			 * renews it, then refuses to delete it (NOT_AUTHORIZED).
			 */
			log_warnx("%s [%s]:%u: the router refused to close the "
			    "IPv6 pinhole (%s); it ends with its lifetime",
			    proto_name(t->req.proto), local_str(),
			    t->req.int_port, pcp_result_str(r->result));
			t->open = 0;
		}
		twin_deleted(t);
		return;
	}
	if (r->result != PCP_SUCCESS) {
		log_warnx("%s [%s]:%u: no IPv6 pinhole: %s (PCP %u); asking "
		    "again in %us", proto_name(t->req.proto), local_str(),
		    t->req.int_port, pcp_result_str(r->result), r->result,
		    PCP6_RETRY_MS / 1000);
		t->state = TW_RETRY;
		timer_set(&t->timer, loop_jitter(PCP6_RETRY_MS, 20));
		return;
	}
	inet_ntop(AF_INET6, &r->external_addr, ext, sizeof(ext));
	if (!t->open || t->ext_port != r->external_port)
		log_info("%s [%s]:%u open to the internet as [%s]:%u via PCP "
		    "(IPv6), lifetime %us", proto_name(t->req.proto),
		    local_str(), t->req.int_port, ext, r->external_port,
		    r->lifetime);
	else
		log_debug("%s [%s]:%u renewed, lifetime %us",
		    proto_name(t->req.proto), local_str(), t->req.int_port,
		    r->lifetime);
	t->open = 1;
	t->ext_port = r->external_port;
	t->lifetime = r->lifetime;
	t->mapped_at = loop_now();
	t->state = TW_MAPPED;
	/* RFC 6887 11.2.1: renew at a random point in [1/2, 5/8] of it. */
	renew = r->lifetime / 2 + loop_random(r->lifetime / 8 + 1);
	timer_set(&t->timer, (uint64_t)(renew > 0 ? renew : 1) * 1000);
}

static void
probe_timer(struct timer *tm)
{
	uint8_t buf[64];
	int n;

	(void)tm;
	if (pin6.probe_sends >= sizeof(pcp6_probe_waits) /
	    sizeof(pcp6_probe_waits[0])) {
		log_debug("pcp6: the IPv6 router does not answer PCP");
		return;
	}
	n = pcp_build_announce(buf, sizeof(buf), &pin6.env.local6);
	if (n < 0 || send(pin6.fd, buf, (size_t)n, 0) == -1)
		log_debug("pcp6: ANNOUNCE: %s", n < 0 ? "cannot build" :
		    strerror(errno));
	timer_set(&pin6.probe_timer, pcp6_probe_waits[pin6.probe_sends++]);
}

/* Any PCP answer from the router: its epoch (RFC 6887 8.5), then the rest. */
static void
answer(const struct pcp_response *r, int announced)
{
	if (r->version != PCP_VERSION)
		return;
	if (pcp_epoch_check(&pin6.epoch, r->epoch, loop_now()) == -1 ||
	    announced) {
		if (pin6.ready)
			log_info("IPv6 router restarted (PCP epoch %u): opening "
			    "the pinholes again", r->epoch);
		twin_remap_all();
	}
	if (!pin6.ready && (r->opcode == PCP_OP_ANNOUNCE || announced)) {
		pin6.ready = 1;
		timer_stop(&pin6.probe_timer);
		log_debug("pcp6: the IPv6 router speaks PCP, epoch %u",
		    r->epoch);
		twin_start_queued();
	}
	if (r->opcode == PCP_OP_MAP && !announced)
		answer_map(r);
}

static void
on_read(struct loop_fd *lf, int ev)
{
	struct pcp_response r;
	uint8_t buf[PCP_MAX_MSG + 4];
	const char *err;
	ssize_t n;
	int i;

	(void)lf;
	(void)ev;
	for (i = 0; i < 16 && pin6.fd != -1; i++) {
		/* Connected: only the router's port 5351 gets through. */
		if ((n = recv(pin6.fd, buf, sizeof(buf), 0)) == -1)
			return;
		if (pcp_parse_response(buf, (size_t)n, &r, &err) == -1) {
			log_debug("pcp6: dropped a datagram: %s", err);
			continue;
		}
		answer(&r, 0);
	}
}

static void
on_announce(struct loop_fd *lf, int ev)
{
	struct pcp_response r;
	int i;

	(void)ev;
	for (i = 0; i < 8 && pin6.afd != -1; i++) {
		if (announce_read6(lf->fd, &pin6.env.gateway6, &r) != 1)
			return;
		log_debug("pcp6: ANNOUNCE from the IPv6 router, epoch %u",
		    r.epoch);
		answer(&r, 1);
	}
}

static void
close_sockets(void)
{
	if (pin6.fd != -1) {
		loop_fd_del(&pin6.lfd);
		close(pin6.fd);
		pin6.fd = -1;
	}
	if (pin6.afd != -1) {
		loop_fd_del(&pin6.alfd);
		close(pin6.afd);
		pin6.afd = -1;
	}
	timer_stop(&pin6.probe_timer);
	pin6.ready = 0;
	memset(&pin6.epoch, 0, sizeof(pin6.epoch));
}

void
pcp6_close(void)
{
	struct twin *t;

	/* Deletes still out are over: nothing more can come. */
	while ((t = pin6.twins) != NULL) {
		t->open = 0;
		twin_deleted(t);
	}
	close_sockets();
}

void
pcp6_open(const struct drv_env *env)
{
	struct sockaddr_in6 sin6;
	struct twin *t;
	int fd;

	if (pin6.fd != -1 && env->have6 &&
	    memcmp(&pin6.env.local6, &env->local6, sizeof(env->local6)) == 0 &&
	    memcmp(&pin6.env.gateway6, &env->gateway6,
	    sizeof(env->gateway6)) == 0 && pin6.env.ifindex6 == env->ifindex6)
		return;
	if (!env->have6) {
		pcp6_close();
		return;
	}
	/*
	 * Another IPv6 address or router: the pinholes are asked for again
	 * there once it answers (a renumbered host, a new router).
	 */
	close_sockets();
	for (t = pin6.twins; t != NULL; t = t->next) {
		if (t->open && memcmp(&pin6.env.local6, &env->local6,
		    sizeof(env->local6)) != 0)
			log_info("%s [%s]:%u: the address is gone; its pinhole "
			    "ends with its lifetime", proto_name(t->req.proto),
			    local_str(), t->req.int_port);
		t->open = 0;
		if (t->state == TW_DELETING)
			continue;	/* ends at its timer */
		timer_stop(&t->timer);
		t->state = TW_QUEUED;
	}
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = env->local6;
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1)
		goto fail;
	sin6.sin6_addr = env->gateway6;
	sin6.sin6_port = htons(PCP_SERVER_PORT);
	if (IN6_IS_ADDR_LINKLOCAL(&env->gateway6))
		sin6.sin6_scope_id = env->ifindex6;
	if (connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1)
		goto fail;
	pin6.fd = fd;
	pin6.env = *env;
	loop_fd_add(&pin6.lfd, fd, LOOP_READ, on_read);
	if ((pin6.afd = announce_open6(env->ifindex6)) == -1)
		log_debug("pcp6: cannot listen on [ff02::1]:%d: %s",
		    PCP_CLIENT_PORT, strerror(errno));
	else
		loop_fd_add(&pin6.alfd, pin6.afd, LOOP_READ, on_announce);
	timer_init(&pin6.probe_timer, probe_timer);
	pin6.probe_sends = 0;
	probe_timer(&pin6.probe_timer);
	return;
fail:
	log_debug("pcp6: cannot reach the IPv6 router: %s", strerror(errno));
	close(fd);
}

void
pcp6_want(const struct drv_map *m)
{
	struct twin *t;

	if (pin6.fd == -1)
		return;
	if ((t = twin_find(m)) == NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return;
		timer_init(&t->timer, twin_timer);
		t->state = TW_QUEUED;
		t->next = pin6.twins;
		pin6.twins = t;
	} else if (t->state == TW_DELETING)
		return;		/* its delete is out; the next map comes after */
	t->req = *m;
	if (!pin6.ready) {
		t->state = TW_QUEUED;
		return;
	}
	if (t->state == TW_MAPPING)
		return;		/* asked already: the answer will do */
	if (t->state == TW_MAPPED && t->req.lease == t->lifetime &&
	    loop_now() - t->mapped_at < PCP6_FRESH_MS)
		return;		/* just mapped, as asked */
	t->state = TW_MAPPING;
	t->rt.sends = 0;
	twin_send(t);
}

int
pcp6_drop(const struct drv_map *m, void (*done)(void *), void *arg)
{
	struct twin *t = twin_find(m);

	if (t == NULL)
		return -1;
	/* Never asked for, or never sent: nothing on the router. */
	if ((!t->open && t->state != TW_MAPPING) || pin6.fd == -1
	    || !pin6.ready) {
		twin_free(t);
		return -1;
	}
	t->state = TW_DELETING;
	t->done = done;
	t->done_arg = arg;
	t->rt.sends = 0;
	twin_send(t);
	return 0;
}

void
pcp6_forget(void *arg)
{
	struct twin *t;

	for (t = pin6.twins; t != NULL; t = t->next)
		if (t->done_arg == arg) {
			t->done = NULL;
			t->done_arg = NULL;
		}
}
