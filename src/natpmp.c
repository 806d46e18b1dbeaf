/* SPDX-License-Identifier: ISC */
/* NAT-PMP driver (RFC 6886): libnatpmp builds and reads the packets, the event loop waits. */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <natpmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "log.h"
#include "loop.h"

/*
 * RFC 6886 3.1: retransmit after 250 ms, doubling.  A probe gives up after
 * 1 s (so that a LAN with no NAT-PMP is concluded fast); a request after
 * five sends, about 6 s, within the daemon's own budget.
 */
static const unsigned int natpmp_probe_waits[] = { 250, 250, 500 };
static const unsigned int natpmp_request_waits[] = {
	250, 500, 1000, 2000, 2000,
};

enum natpmp_kind {
	CALL_PUBLIC,		/* the probe: public address request */
	CALL_MAP,
	CALL_UNMAP,
	CALL_RELEASE,		/* our own clean-up of an unwanted grant */
};

struct natpmp_call {
	int			 kind;
	struct drv_op		*op;		/* NULL for CALL_PUBLIC, CALL_RELEASE */
	struct drv_map		 req;
	unsigned int		 sends;
	uint64_t		 first_sent;	/* loop times of the copies */
	uint64_t		 last_sent;
	struct natpmp_call	*next;
};

static struct {
	int			 open;
	natpmp_t		 n;
	struct in_addr		 gateway;
	struct in_addr		 local;
	struct loop_fd		 lfd;
	struct timer		 timer;
	struct natpmp_call	*head;		/* in flight; the rest wait */
	drv_probe_cb		 probe_cb;
	int			 ready;
	struct drv_gateway	 gw;
	uint32_t		 epoch;		/* of the last answer */
} pmp;

static void	natpmp_send(void);

static int
natpmp_proto(int proto)
{
	return proto == DRV_UDP ? NATPMP_PROTOCOL_UDP : NATPMP_PROTOCOL_TCP;
}

/* The lifetime a call asks for: 0 deletes (RFC 6886 3.4). */
static uint32_t
natpmp_life(const struct natpmp_call *c)
{
	return c->kind == CALL_MAP ? drv_map_lifetime(&c->req) : 0;
}

static const char *
natpmp_err_str(int r)
{
	switch (r) {
	case NATPMP_ERR_UNSUPPORTEDVERSION:
		return "Unsupported Version";
	case NATPMP_ERR_UNSUPPORTEDOPCODE:
		return "Unsupported opcode";
	case NATPMP_ERR_NOTAUTHORIZED:
		return "Not Authorized/Refused";
	case NATPMP_ERR_NETWORKFAILURE:
		return "Network Failure";
	case NATPMP_ERR_OUTOFRESOURCES:
		return "Out of resources";
	case NATPMP_ERR_NOGATEWAYSUPPORT:
		return "port 5351 unreachable";
	case NATPMP_ERR_WRONGPACKETSOURCE:
		return "answer from another host";
	case NATPMP_ERR_RECVFROM:
		return "cannot read the answer";
	case NATPMP_ERR_UNDEFINEDERROR:
		return "undefined error from the gateway";
	default:
		return "error";
	}
}

static void	natpmp_end(struct natpmp_call *, int, uint16_t, uint32_t,
		    const char *, ...) __attribute__((format(printf, 5, 6)));

/* Close the socket; whatever was still asked fails back to its owner. */
static void
natpmp_close(void)
{
	struct natpmp_call *q = pmp.head, *c;

	if (!pmp.open)
		return;
	timer_stop(&pmp.timer);
	loop_fd_del(&pmp.lfd);
	closenatpmp(&pmp.n);
	pmp.open = 0;
	pmp.ready = 0;
	pmp.head = NULL;
	while ((c = q) != NULL) {
		q = c->next;
		natpmp_end(c, DRV_ERR_GATEWAY, 0, 0, "NAT-PMP: gateway gone");
	}
}

/* Take the head call off the queue and start the next. */
static struct natpmp_call *
natpmp_pop(void)
{
	struct natpmp_call *c = pmp.head;

	timer_stop(&pmp.timer);
	if (c != NULL)
		pmp.head = c->next;
	if (pmp.head != NULL)
		natpmp_send();
	return c;
}

static void
natpmp_probe_end(int status, const char *detail)
{
	drv_probe_cb cb = pmp.probe_cb;

	pmp.probe_cb = NULL;
	/* A failed probe again keeps what worked: requests tell if it is gone. */
	if (status == DRV_OK)
		pmp.ready = 1;
	if (cb != NULL)
		cb(&natpmp_driver, status, status == DRV_OK ? &pmp.gw : NULL,
		    detail);
}

static void
natpmp_end(struct natpmp_call *c, int status, uint16_t ext, uint32_t life,
    const char *fmt, ...)
{
	struct drv_result res;
	struct drv_op *op = c->op;
	va_list ap;

	memset(&res, 0, sizeof(res));
	res.sends = c->sends;
	res.first_sent = c->first_sent;
	res.last_sent = c->last_sent;
	free(c);
	if (op == NULL)
		return;
	res.status = status;
	res.ext_port = ext;
	res.lease = life;
	res.renew_in = life / 2;	/* RFC 6886 3.3 */
	res.ext_addr = pmp.gw.external;
	if (status == DRV_OK) {
		res.has_epoch = 1;
		res.epoch = pmp.epoch;
	}
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(res.detail, sizeof(res.detail), fmt, ap);
		va_end(ap);
	}
	op->priv = NULL;
	op->done(op, &res);
}

/* The head call failed as a whole (no answer, or the gateway refused). */
static void
natpmp_fail(int status, const char *why)
{
	struct natpmp_call *c = natpmp_pop();

	if (c == NULL)
		return;
	if (c->kind == CALL_PUBLIC) {
		free(c);
		if (!pmp.ready)
			natpmp_close();
		natpmp_probe_end(DRV_ERR_GATEWAY, why);
		return;
	}
	natpmp_end(c, status, 0, 0, "NAT-PMP: %s", why);
}

static void
natpmp_timer(struct timer *t)
{
	struct natpmp_call *c = pmp.head;
	const unsigned int *waits;
	size_t nwaits;

	(void)t;
	if (c == NULL)
		return;
	if (c->kind == CALL_PUBLIC) {
		waits = natpmp_probe_waits;
		nwaits = sizeof(natpmp_probe_waits) / sizeof(waits[0]);
	} else {
		waits = natpmp_request_waits;
		nwaits = sizeof(natpmp_request_waits) / sizeof(waits[0]);
	}
	if (c->sends >= nwaits) {
		natpmp_fail(DRV_ERR_GATEWAY, "no answer");
		return;
	}
	natpmp_send();
}

/* (Re)send the head call and arm its retransmission. */
static void
natpmp_send(void)
{
	struct natpmp_call *c = pmp.head;
	const unsigned int *waits;
	int r;

	if (c->kind == CALL_PUBLIC) {
		r = sendpublicaddressrequest(&pmp.n);
		waits = natpmp_probe_waits;
	} else {
		uint16_t ext = c->kind == CALL_MAP ? c->req.ext_port : 0;

		r = sendnewportmappingrequest(&pmp.n,
		    natpmp_proto(c->req.proto),
		    c->req.int_port, ext, natpmp_life(c));
		waits = natpmp_request_waits;
	}
	if (r < 0)
		log_debug("natpmp: send: %s (%d)", natpmp_err_str(r), r);
	/* A slow gateway's answers take longer: no early repeats. */
	if (c->req.rto_ms > waits[c->sends])
		timer_set(&pmp.timer, loop_jitter(c->req.rto_ms, 10));
	else
		timer_set(&pmp.timer, loop_jitter(waits[c->sends], 10));
	c->last_sent = loop_now();
	if (c->sends == 0)
		c->first_sent = c->last_sent;
	c->sends++;
}

static void
natpmp_enqueue(struct natpmp_call *c)
{
	struct natpmp_call **p;

	for (p = &pmp.head; *p != NULL; p = &(*p)->next)
		;
	*p = c;
	if (pmp.head == c)
		natpmp_send();
}

static void
natpmp_answer_public(const natpmpresp_t *resp)
{
	struct natpmp_call *c = natpmp_pop();

	free(c);
	memset(&pmp.gw, 0, sizeof(pmp.gw));
	snprintf(pmp.gw.name, sizeof(pmp.gw.name), "NAT-PMP");
	snprintf(pmp.gw.where, sizeof(pmp.gw.where), "%s:%d",
	    inet_ntoa(pmp.gateway), NATPMP_PORT);
	pmp.gw.external = resp->pnu.publicaddress.addr;
	pmp.gw.has_epoch = 1;
	pmp.gw.bootid = -1;
	pmp.gw.epoch = resp->epoch;
	log_debug("natpmp: public address %s, epoch %u",
	    inet_ntoa(pmp.gw.external), resp->epoch);
	natpmp_probe_end(DRV_OK, NULL);
}

static void
natpmp_answer_map(const natpmpresp_t *resp)
{
	struct natpmp_call *c = natpmp_pop(), *rel;
	uint16_t ext = resp->pnu.newportmapping.mappedpublicport;
	uint32_t life = resp->pnu.newportmapping.lifetime;
	char why[160];

	if (c->kind != CALL_MAP) {
		natpmp_end(c, DRV_OK, c->req.ext_port, 0, NULL);
		return;
	}
	if (drv_offer_refused(&c->req, ext, "NAT-PMP", why, sizeof(why))) {
		/* Give back what it granted: a release of the internal port. */
		if ((rel = calloc(1, sizeof(*rel))) != NULL) {
			rel->kind = CALL_RELEASE;
			rel->req = c->req;
			natpmp_enqueue(rel);
		}
		natpmp_end(c, DRV_ERR_CONFLICT, 0, 0, "%s", why);
		return;
	}
	natpmp_end(c, DRV_OK, ext, life, NULL);
}

/*
 * Does the datagram b[0..n) answer call c?  libnatpmp cannot tell: it
 * returns a refusal without its request, a grant and a delete's answer
 * alike, and a short datagram as a whole one, its fields taken from what its
 * buffer held before.  An answer has our opcode + 128 (RFC 6886 3.2, 3.3);
 * a grant or a delete's answer is whole (12 or 16 bytes), for our internal
 * port, its lifetime 0 when we asked for 0, a delete (3.4), else not; a
 * refusal is for our port or does not say (too short, or 0).  Another
 * version is the gateway's "unsupported version", for libnatpmp to tell.
 */
static int
natpmp_answers(const struct natpmp_call *c, const uint8_t *b, size_t n)
{
	int op = c->kind == CALL_PUBLIC ? 0 : natpmp_proto(c->req.proto);
	uint16_t port;
	uint32_t life;

	if (n >= 1 && b[0] != 0)
		return 1;
	if (n < 8 || b[1] != 128 + op)
		return 0;
	if (op == 0)
		return b[2] != 0 || b[3] != 0 || n >= 12;
	port = n >= 10 ? (uint16_t)(b[8] << 8 | b[9]) : 0;
	if (b[2] != 0 || b[3] != 0)
		return port == 0 || port == c->req.int_port;
	if (n < 16 || port != c->req.int_port)
		return 0;
	life = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
	    (uint32_t)b[14] << 8 | b[15];
	return (life != 0) == (natpmp_life(c) != 0);
}

/* Not NATPMP_TRYAGAIN nor an error of libnatpmp's: read and dropped. */
#define NATPMP_DROPPED	1

/*
 * Read one datagram through libnatpmp if it answers the head call, else
 * drop it (NATPMP_DROPPED).  Its reader keeps one request of its own:
 * after any answer it refuses to read more (NATPMP_ERR_NOPENDINGREQ), so
 * the answer to the next request would fail as an error, and with none it
 * retransmits on its own schedule.  Our timers do the retransmitting: tell
 * it a request is always pending and its retry time never comes.
 */
static int
natpmp_recv(natpmpresp_t *resp)
{
	uint8_t b[16];
	ssize_t n;

	n = recv(pmp.n.s, b, sizeof(b), MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return NATPMP_TRYAGAIN;
		/* The peek took the socket's error: tell it here. */
		return errno == ECONNREFUSED ? NATPMP_ERR_NOGATEWAYSUPPORT :
		    NATPMP_ERR_RECVFROM;
	}
	if (!natpmp_answers(pmp.head, b, (size_t)n)) {
		(void)recv(pmp.n.s, b, sizeof(b), MSG_DONTWAIT);
		return NATPMP_DROPPED;
	}
	memset(resp, 0, sizeof(*resp));
	pmp.n.has_pending_request = 1;
	pmp.n.try_number = 1;
	if (gettimeofday(&pmp.n.retry_time, NULL) == 0)
		pmp.n.retry_time.tv_sec += 24 * 60 * 60;
	return readnatpmpresponseorretry(&pmp.n, resp);
}

static void
natpmp_read(struct loop_fd *lf, int ev)
{
	natpmpresp_t resp;
	int r, i;

	(void)lf;
	(void)ev;
	/* Bounded: a burst of stray datagrams cannot hold the loop. */
	for (i = 0; i < 8 && pmp.open; i++) {
		if (pmp.head == NULL) {
			/* Nothing asked: read and drop. */
			char junk[64];

			if (recv(pmp.n.s, junk, sizeof(junk), 0) <= 0)
				return;
			drv_heard();	/* connected: it is the gateway's */
			continue;
		}
		r = natpmp_recv(&resp);
		if (r == NATPMP_TRYAGAIN)
			return;
		if (r == NATPMP_DROPPED) {
			log_debug("natpmp: dropped a datagram that does not "
			    "answer the request out");
			drv_heard();
			continue;
		}
		if (r == NATPMP_ERR_WRONGPACKETSOURCE) {
			log_debug("natpmp: dropped a datagram from another host");
			continue;
		}
		if (r < 0) {
			int status = r == NATPMP_ERR_NOTAUTHORIZED ?
			    DRV_ERR_DENIED : r == NATPMP_ERR_NOGATEWAYSUPPORT ||
			    r == NATPMP_ERR_RECVFROM ? DRV_ERR_GATEWAY :
			    DRV_ERR_FAILED;
			char why[64];

			snprintf(why, sizeof(why), "%s", natpmp_err_str(r));
			natpmp_fail(status, why);
			return;
		}
		pmp.epoch = resp.epoch;
		if (pmp.head->kind == CALL_PUBLIC)
			natpmp_answer_public(&resp);
		else
			natpmp_answer_map(&resp);
	}
}

/* A socket per gateway and source address: a new local address needs a new one. */
static int
natpmp_open(struct in_addr gateway, struct in_addr local)
{
	if (pmp.open && pmp.gateway.s_addr == gateway.s_addr &&
	    pmp.local.s_addr == local.s_addr)
		return 0;
	natpmp_close();
	memset(&pmp.n, 0, sizeof(pmp.n));
	if (initnatpmp(&pmp.n, 1, gateway.s_addr) < 0) {
		log_debug("natpmp: initnatpmp failed");
		return -1;
	}
	pmp.open = 1;
	pmp.gateway = gateway;
	pmp.local = local;
	loop_fd_add(&pmp.lfd, pmp.n.s, LOOP_READ, natpmp_read);
	timer_init(&pmp.timer, natpmp_timer);
	return 0;
}

static void
natpmp_probe_cancel(void)
{
	struct natpmp_call **p = &pmp.head, *c;

	pmp.probe_cb = NULL;
	while ((c = *p) != NULL) {
		if (c->kind != CALL_PUBLIC)
			p = &c->next;
		else if (c == pmp.head) {
			free(natpmp_pop());	/* and the next one goes out */
			p = &pmp.head;
		} else {
			*p = c->next;
			free(c);
		}
	}
}

static int
natpmp_probe(const struct drv_env *env, drv_probe_cb cb)
{
	struct natpmp_call *c;

	natpmp_probe_cancel();
	if (natpmp_open(env->gateway, env->local) == -1)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->kind = CALL_PUBLIC;
	pmp.probe_cb = cb;
	natpmp_enqueue(c);
	return 0;
}

static int
natpmp_request(struct drv_op *op, const struct drv_map *m, int kind)
{
	struct natpmp_call *c;

	if (!pmp.open || !pmp.ready)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->kind = kind;
	c->op = op;
	c->req = *m;
	op->priv = c;
	natpmp_enqueue(c);
	return 0;
}

static int
natpmp_map(struct drv_op *op, const struct drv_map *m)
{
	return natpmp_request(op, m, CALL_MAP);
}

static int
natpmp_unmap(struct drv_op *op, const struct drv_map *m)
{
	return natpmp_request(op, m, CALL_UNMAP);
}

static void
natpmp_cancel(struct drv_op *op)
{
	struct natpmp_call **p, *c = op->priv;

	if (c == NULL)
		return;
	op->priv = NULL;
	if (c == pmp.head) {
		/* The request is out: its answer will be dropped as unasked. */
		c->op = NULL;
		return;
	}
	for (p = &pmp.head; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			free(c);
			return;
		}
}

const struct mapping_driver natpmp_driver = {
	.name = "NAT-PMP",
	.id = "natpmp",
	.probe = natpmp_probe,
	.probe_cancel = natpmp_probe_cancel,
	.map = natpmp_map,
	.unmap = natpmp_unmap,
	.cancel = natpmp_cancel,
};
