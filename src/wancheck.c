/* SPDX-License-Identifier: ISC */
/* Compares the gateway's external address with what a STUN server sees, to warn of a NAT upstream. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addrclass.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "resolve.h"
#include "stun.h"
#include "wancheck.h"

/* RFC 8489's first RTO, fewer sends: a few seconds per server at most. */
static const struct stun_schedule wancheck_sched = {
	.rto_ms = 500,
	.sends = 4,
	.last_wait = 4,
	.budget_ms = 4000,
};

static struct {
	struct conf_server	 srv[CONF_MAX_SERVERS];
	size_t			 nsrv;
	size_t			 next;		/* the server to ask next */
	struct in_addr		 local;
	struct in_addr		 gw_ext;
	char			 who[320];
	struct resolve_req	*rr;
	struct stun_sock	*sock;
	struct stun_txn		*txn;
	struct timer		 timer;		/* the next step, off any callback */
	int			 answered;
} W;

static void	wancheck_next(void);

void
wancheck_set_servers(const struct conf_server *srv, size_t n)
{
	if (n > CONF_MAX_SERVERS)
		n = CONF_MAX_SERVERS;
	memcpy(W.srv, srv, n * sizeof(*srv));
	W.nsrv = n;
}

void
wancheck_stop(void)
{
	if (W.rr != NULL)
		resolve_cancel(W.rr);
	W.rr = NULL;
	if (W.txn != NULL)
		stun_cancel(W.txn);
	W.txn = NULL;
	if (W.sock != NULL)
		stun_sock_close(W.sock);
	W.sock = NULL;
	timer_stop(&W.timer);
}

static void
wancheck_answer(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	const struct conf_server *s = arg;
	struct addrclass_verdict v;
	struct in_addr seen;
	char gw[INET_ADDRSTRLEN], sa[INET_ADDRSTRLEN];

	(void)txn;
	W.txn = NULL;
	if (!a->ok || a->mapped.ss_family != AF_INET) {
		log_debug("wancheck: STUN server %s:%u: %s", s->host, s->port,
		    a->ok ? "no IPv4 address in the answer" : a->err);
		/* The socket may not be closed in here: the next step waits. */
		timer_set(&W.timer, 0);
		return;
	}
	seen = ((const struct sockaddr_in *)(const void *)&a->mapped)->sin_addr;
	inet_ntop(AF_INET, &W.gw_ext, gw, sizeof(gw));
	inet_ntop(AF_INET, &seen, sa, sizeof(sa));
	addrclass_judge(W.gw_ext, seen, &v);
	if (v.double_nat)
		log_warnx("%s reports external address %s, but STUN server "
		    "%s:%u sees this host as %s: %s; a mapping is reachable "
		    "from the internet only if that NAT forwards the port too",
		    W.who, gw, s->host, s->port, sa, v.why);
	else
		log_info("STUN server %s:%u sees this host as %s, the "
		    "gateway's external address: no NAT upstream", s->host,
		    s->port, sa);
	W.answered = 1;
	W.next = W.nsrv;	/* done: the timer closes the socket */
	timer_set(&W.timer, 0);
}

static void
wancheck_resolved(struct resolve_req *rr, const struct sockaddr_storage *addrs,
    size_t n, const char *err, void *arg)
{
	const struct conf_server *s = arg;

	(void)rr;
	W.rr = NULL;
	if (n == 0) {
		log_debug("wancheck: STUN server %s: %s", s->host, err);
		wancheck_next();
		return;
	}
	W.txn = stun_binding(W.sock, (const struct sockaddr *)&addrs[0],
	    sizeof(struct sockaddr_in), 0, &wancheck_sched, wancheck_answer,
	    (void *)s);
	if (W.txn == NULL) {
		log_debug("wancheck: STUN server %s: cannot send: %s", s->host,
		    strerror(errno));
		wancheck_next();
	}
}

/* Ask the next server, or end the check. */
static void
wancheck_next(void)
{
	const struct conf_server *s;

	while (W.next < W.nsrv) {
		s = &W.srv[W.next++];
		W.rr = resolve_start(s->host, s->port, AF_INET, SOCK_DGRAM,
		    wancheck_resolved, (void *)s);
		if (W.rr != NULL)
			return;
		log_debug("wancheck: STUN server %s: cannot resolve: %s",
		    s->host, strerror(errno));
	}
	if (!W.answered)
		log_info("no STUN server answered: whether another NAT is "
		    "upstream of %s is unknown", W.who);
	wancheck_stop();
}

static void
wancheck_timer(struct timer *t)
{
	(void)t;
	wancheck_next();
}

void
wancheck_start(struct in_addr local, struct in_addr gw_ext, const char *who)
{
	struct sockaddr_in sin;

	wancheck_stop();
	if (W.nsrv == 0)
		return;
	timer_init(&W.timer, wancheck_timer);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = local;
	if ((W.sock = stun_sock_open((struct sockaddr *)&sin,
	    sizeof(sin))) == NULL) {
		log_warn("wancheck: STUN socket");
		return;
	}
	W.local = local;
	W.gw_ext = gw_ext;
	snprintf(W.who, sizeof(W.who), "%s", who);
	W.next = 0;
	W.answered = 0;
	wancheck_next();
}
