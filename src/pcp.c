/* SPDX-License-Identifier: ISC */
/* PCP driver (RFC 6887): ANNOUNCE to probe, MAP to map, renew and delete; answers matched by nonce. */
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

#include "driver.h"
#include "log.h"
#include "loop.h"
#include "pcp-msg.h"
#include "pcp6.h"
#include "upnp-msg.h"

/* The probe: fast, so that a LAN without PCP is concluded within about 1 s. */
static const unsigned int pcp_probe_waits[] = { 250, 250, 500 };

enum pcp_kind {
	PCP_CALL_PROBE,
	PCP_CALL_MAP,
	PCP_CALL_UNMAP,
};

struct pcp_call {
	int			 kind;
	struct drv_op		*op;
	struct drv_map		 req;
	int			 prefer_failure;
	unsigned int		 sends;		/* the probe's */
	uint64_t		 wait;		/* the current retransmission time */
	struct pcp_rt		 rt;		/* a MAP's retransmission */
	uint64_t		 last_sent;	/* its last copy */
	struct timer		 timer;
	struct pcp_call		*next;
	/* A delete: its IPv6 twin's delete is out; hold the answer till then. */
	int			 twin_wait;
	int			 held;
	struct drv_result	 res;
};

static struct {
	int			 fd;
	struct loop_fd		 lfd;
	struct drv_env		 env;
	struct pcp_call		*calls;
	drv_probe_cb		 probe_cb;
	int			 ready;
	struct drv_gateway	 gw;
	uint32_t		 epoch;
} pcp = { .fd = -1 };

static void	pcp_send(struct pcp_call *);

static uint8_t
pcp_ipproto(int proto)
{
	return proto == DRV_UDP ? IPPROTO_UDP : IPPROTO_TCP;
}

static void
pcp_unlink(struct pcp_call *c)
{
	struct pcp_call **p;

	timer_stop(&c->timer);
	for (p = &pcp.calls; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
}

static void
pcp_end(struct pcp_call *c, int status, uint16_t ext, struct in_addr ea,
    uint32_t life, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
pcp_finish(struct pcp_call *c)
{
	struct drv_op *op = c->op;
	struct drv_result res = c->res;

	free(c);
	if (op == NULL)
		return;
	op->priv = NULL;
	op->done(op, &res);
}

static void
pcp_end(struct pcp_call *c, int status, uint16_t ext, struct in_addr ea,
    uint32_t life, const char *fmt, ...)
{
	struct drv_result *res = &c->res;
	va_list ap;

	pcp_unlink(c);
	memset(res, 0, sizeof(*res));
	res->status = status;
	res->ext_port = ext;
	res->ext_addr = ea;
	res->lease = life;
	res->sends = c->sends;
	res->first_sent = c->rt.first_sent;
	res->last_sent = c->last_sent;
	/* RFC 6887 11.2.1: renew at a random point in [1/2, 5/8] of the lifetime. */
	if (life > 0)
		res->renew_in = life / 2 + loop_random(life / 8 + 1);
	if (status == DRV_OK) {
		res->has_epoch = 1;
		res->epoch = pcp.epoch;
	}
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
		va_end(ap);
	}
	if (c->twin_wait) {
		c->held = 1;	/* pcp_twin_done finishes it */
		return;
	}
	pcp_finish(c);
}

/* The IPv6 twin's delete is over: a delete answered over IPv4 too is done. */
static void
pcp_twin_done(void *arg)
{
	struct pcp_call *c = arg;

	c->twin_wait = 0;
	if (c->held)
		pcp_finish(c);
}

static void
pcp_probe_end(int status, const char *detail)
{
	drv_probe_cb cb = pcp.probe_cb;

	pcp.probe_cb = NULL;
	/* A failed probe again keeps what worked: requests tell if it is gone. */
	if (status == DRV_OK)
		pcp.ready = 1;
	if (cb != NULL)
		cb(&pcp_driver, status, status == DRV_OK ? &pcp.gw : NULL, detail);
}

static void
pcp_close(void)
{
	struct pcp_call *c;
	struct in_addr none = { INADDR_ANY };

	if (pcp.fd != -1) {
		loop_fd_del(&pcp.lfd);
		close(pcp.fd);
		pcp.fd = -1;
	}
	pcp6_close();
	pcp.ready = 0;
	while ((c = pcp.calls) != NULL) {
		if (c->kind == PCP_CALL_PROBE) {
			pcp_unlink(c);
			free(c);
		} else {
			c->twin_wait = 0;	/* pcp6_close ended the twins */
			pcp_end(c, DRV_ERR_GATEWAY, 0, none, 0,
			    "PCP: gateway gone");
		}
	}
}

/*
 * Is a request older than this one still unanswered?  Older by its first
 * copy: the oldest is never held back, so the one in front always goes
 * out again (comparing with this one's last copy made two requests whose
 * answers were lost wait for each other until PCP_RT_BUDGET_MS).
 */
static int
pcp_queued_behind(const struct pcp_call *c)
{
	const struct pcp_call *d;

	for (d = pcp.calls; d != NULL; d = d->next)
		if (d != c && d->kind != PCP_CALL_PROBE &&
		    d->rt.first_sent < c->rt.first_sent)
			return 1;
	return 0;
}

static void
pcp_timer(struct timer *t)
{
	struct pcp_call *c = container_of(t, struct pcp_call, timer);
	size_t nprobe = sizeof(pcp_probe_waits) / sizeof(pcp_probe_waits[0]);
	struct in_addr none = { INADDR_ANY };

	if (c->kind == PCP_CALL_PROBE) {
		if (c->sends >= nprobe) {
			pcp_unlink(c);
			free(c);
			pcp_probe_end(DRV_ERR_GATEWAY, "no answer");
			return;
		}
	} else if (loop_now() - c->rt.first_sent >= PCP_RT_BUDGET_MS) {
		pcp_end(c, DRV_ERR_GATEWAY, 0, none, 0, "PCP: no answer");
		return;
	} else if (pcp_queued_behind(c)) {
		/*
		 * A server answers in turn: while one sent before is still
		 * out, this one waits behind it, not lost; a copy would only
		 * add to the queue.  The oldest retransmits for all.
		 */
		timer_set(&c->timer, loop_jitter(c->wait, 10));
		return;
	}
	pcp_send(c);
}

static void
pcp_send(struct pcp_call *c)
{
	struct pcp_map_req mr;
	struct in6_addr client;
	uint8_t buf[PCP_MAX_MSG];
	int n;

	pcp_addr_from_v4(&client, pcp.env.local);
	if (c->kind == PCP_CALL_PROBE) {
		n = pcp_build_announce(buf, sizeof(buf), &client);
		c->wait = pcp_probe_waits[c->sends];
	} else {
		pcp_map_req_init(&mr, c->req.nonce, pcp_ipproto(c->req.proto),
		    c->req.int_port, c->req.ext_port);
		pcp_addr_from_v4(&mr.external_addr, pcp.gw.external);
		mr.prefer_failure = c->kind == PCP_CALL_MAP && c->prefer_failure;
		n = pcp_build_map(buf, sizeof(buf), &client,
		    c->kind == PCP_CALL_MAP ? drv_map_lifetime(&c->req) : 0,
		    &mr);
		c->wait = pcp_rt_sent(&c->rt, loop_now());
		c->last_sent = loop_now();
		/* A slow gateway's answers take longer: no early repeats. */
		if (c->rt.sends == 1 && c->req.rto_ms > c->wait)
			c->wait = c->rt.wait = c->req.rto_ms;
	}
	if (n < 0 || send(pcp.fd, buf, (size_t)n, 0) == -1)
		log_debug("pcp: send: %s", n < 0 ? "cannot build" :
		    strerror(errno));
	c->sends++;
	timer_set(&c->timer, loop_jitter(c->wait, 10));
}

static void
pcp_start(struct pcp_call *c)
{
	timer_init(&c->timer, pcp_timer);
	c->next = pcp.calls;
	pcp.calls = c;
	pcp_send(c);
}

static struct pcp_call *
pcp_find_map(const struct pcp_response *r)
{
	struct pcp_call *c;

	for (c = pcp.calls; c != NULL; c = c->next)
		if (c->kind != PCP_CALL_PROBE &&
		    memcmp(c->req.nonce, r->nonce, PCP_NONCE_LEN) == 0 &&
		    pcp_ipproto(c->req.proto) == r->protocol &&
		    c->req.int_port == r->internal_port)
			return c;
	return NULL;
}

static struct pcp_call *
pcp_find_probe(void)
{
	struct pcp_call *c;

	for (c = pcp.calls; c != NULL; c = c->next)
		if (c->kind == PCP_CALL_PROBE)
			return c;
	return NULL;
}

static void
pcp_answer_map(const struct pcp_response *r)
{
	struct pcp_call *c = pcp_find_map(r);
	struct in_addr ea = { INADDR_ANY };
	char why[160];

	if (c == NULL) {
		log_debug("pcp: dropped a MAP answer nobody asked for");
		drv_heard();
		return;
	}
	pcp_addr_to_v4(&r->external_addr, &ea);
	switch (r->result) {
	case PCP_SUCCESS:
		if (c->kind == PCP_CALL_UNMAP && r->lifetime != 0) {
			/* The late answer to an add before: the delete's follows. */
			log_debug("pcp: an earlier request's answer for %u; "
			    "waiting for the delete's", c->req.int_port);
			return;
		}
		if (c->kind == PCP_CALL_UNMAP) {
			pcp_end(c, DRV_OK, c->req.ext_port, ea, 0, NULL);
			return;
		}
		if (ea.s_addr != INADDR_ANY) {
			if (pcp.gw.external.s_addr != ea.s_addr)
				log_debug("pcp: external address %s",
				    inet_ntoa(ea));
			pcp.gw.external = ea;
		}
		if (drv_offer_refused(&c->req, r->external_port, "PCP", why,
		    sizeof(why))) {
			/* Give back what it granted: a delete of that port. */
			struct pcp_call *rel = calloc(1, sizeof(*rel));

			if (rel != NULL) {
				rel->kind = PCP_CALL_UNMAP;
				rel->req = c->req;
				rel->req.ext_port = r->external_port;
				pcp_start(rel);
			}
			pcp_end(c, DRV_ERR_CONFLICT, 0, ea, 0, "%s", why);
			return;
		}
		pcp_end(c, DRV_OK, r->external_port, ea, r->lifetime, NULL);
		return;
	case PCP_UNSUPP_OPTION:
		if (c->prefer_failure) {
			/* No PREFER_FAILURE there: ask again, check the port. */
			c->prefer_failure = 0;
			c->rt.sends = 0;
			timer_stop(&c->timer);
			pcp_send(c);
			return;
		}
		break;
	case PCP_NOT_AUTHORIZED:
		pcp_end(c, DRV_ERR_DENIED, 0, ea, 0, "the gateway refuses: %s "
		    "(PCP %u)", pcp_result_str(r->result), r->result);
		return;
	case PCP_CANNOT_PROVIDE_EXTERNAL:
		pcp_end(c, DRV_ERR_CONFLICT, 0, ea, 0, "external port %u is not "
		    "available (%s)", c->req.ext_port,
		    pcp_result_str(r->result));
		return;
	case PCP_NETWORK_FAILURE:
		pcp_end(c, DRV_ERR_GATEWAY, 0, ea, 0, "PCP: %s",
		    pcp_result_str(r->result));
		return;
	}
	pcp_end(c, DRV_ERR_FAILED, 0, ea, 0, "PCP: %s (%u)",
	    pcp_result_str(r->result), r->result);
}

static void
pcp_read(struct loop_fd *lf, int ev)
{
	struct pcp_response r;
	struct pcp_call *c;
	uint8_t buf[PCP_MAX_MSG + 4];
	const char *err;
	ssize_t n;
	int i;

	(void)lf;
	(void)ev;
	for (i = 0; i < 16 && pcp.fd != -1; i++) {
		/* Connected: only the gateway's port 5351 gets through. */
		n = recv(pcp.fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == ECONNREFUSED && pcp_find_probe() != NULL) {
				c = pcp_find_probe();
				pcp_unlink(c);
				free(c);
				pcp_probe_end(DRV_ERR_GATEWAY,
				    "port 5351 unreachable");
			}
			return;
		}
		if (pcp_parse_response(buf, (size_t)n, &r, &err) == -1) {
			log_debug("pcp: dropped a datagram: %s", err);
			continue;
		}
		if (r.version == NATPMP_VERSION) {
			/* A NAT-PMP server telling us it has no PCP. */
			if ((c = pcp_find_probe()) != NULL) {
				pcp_unlink(c);
				free(c);
				pcp_probe_end(DRV_ERR_GATEWAY, "the gateway "
				    "speaks NAT-PMP, not PCP");
			}
			continue;
		}
		pcp.epoch = r.epoch;
		if (r.opcode == PCP_OP_ANNOUNCE) {
			if ((c = pcp_find_probe()) == NULL)
				continue;
			pcp_unlink(c);
			free(c);
			log_debug("pcp: ANNOUNCE answered: %s, epoch %u",
			    pcp_result_str(r.result), r.epoch);
			/* Any PCP answer, even UNSUPP_OPCODE, shows a PCP server. */
			if (r.result == PCP_UNSUPP_VERSION) {
				pcp_probe_end(DRV_ERR_GATEWAY, "unsupported "
				    "PCP version");
				continue;
			}
			pcp.gw.has_epoch = 1;
			pcp.gw.epoch = r.epoch;
			pcp_probe_end(DRV_OK, NULL);
			continue;
		}
		if (r.opcode == PCP_OP_MAP)
			pcp_answer_map(&r);
	}
}

static void
pcp_probe_cancel(void)
{
	struct pcp_call *c;

	pcp.probe_cb = NULL;
	while ((c = pcp_find_probe()) != NULL) {
		pcp_unlink(c);
		free(c);
	}
}

static int
pcp_open(const struct drv_env *env)
{
	struct sockaddr_in sin;
	int fd;

	if (pcp.fd != -1 && pcp.env.gateway.s_addr == env->gateway.s_addr &&
	    pcp.env.local.s_addr == env->local.s_addr) {
		pcp6_open(env);
		return 0;
	}
	pcp_close();
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = env->local;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	sin.sin_addr = env->gateway;
	sin.sin_port = htons(PCP_SERVER_PORT);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	pcp.fd = fd;
	pcp.env = *env;
	loop_fd_add(&pcp.lfd, fd, LOOP_READ, pcp_read);
	pcp6_open(env);
	return 0;
}

static int
pcp_probe(const struct drv_env *env, drv_probe_cb cb)
{
	struct pcp_call *c;

	pcp_probe_cancel();
	if (pcp_open(env) == -1)
		return -1;
	memset(&pcp.gw, 0, sizeof(pcp.gw));
	snprintf(pcp.gw.name, sizeof(pcp.gw.name), "PCP");
	pcp.gw.bootid = -1;
	snprintf(pcp.gw.where, sizeof(pcp.gw.where), "%s:%d",
	    inet_ntoa(env->gateway), PCP_SERVER_PORT);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->kind = PCP_CALL_PROBE;
	pcp.probe_cb = cb;
	pcp_start(c);
	return 0;
}

static int
pcp_request(struct drv_op *op, const struct drv_map *m, int kind)
{
	struct pcp_call *c;

	if (pcp.fd == -1 || !pcp.ready)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->kind = kind;
	c->op = op;
	c->req = *m;
	c->prefer_failure = !m->any_port;
	op->priv = c;
	/* The same mapping over IPv6, where the host and its router have it. */
	if (kind == PCP_CALL_MAP)
		pcp6_want(m);
	else if (pcp6_drop(m, pcp_twin_done, c) == 0)
		c->twin_wait = 1;
	pcp_start(c);
	return 0;
}

static int
pcp_map(struct drv_op *op, const struct drv_map *m)
{
	return pcp_request(op, m, PCP_CALL_MAP);
}

static int
pcp_unmap(struct drv_op *op, const struct drv_map *m)
{
	return pcp_request(op, m, PCP_CALL_UNMAP);
}

static void
pcp_cancel(struct drv_op *op)
{
	struct pcp_call *c = op->priv;

	if (c == NULL)
		return;
	op->priv = NULL;
	pcp6_forget(c);
	pcp_unlink(c);
	free(c);
}

const struct mapping_driver pcp_driver = {
	.name = "PCP",
	.id = "pcp",
	.probe = pcp_probe,
	.probe_cancel = pcp_probe_cancel,
	.map = pcp_map,
	.unmap = pcp_unmap,
	.cancel = pcp_cancel,
};
