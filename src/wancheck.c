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
#include "status.h"
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
} check;

static void	wancheck_next(void);

void
wancheck_set_servers(const struct conf_server *srv, size_t n)
{
	if (n > CONF_MAX_SERVERS)
		n = CONF_MAX_SERVERS;
	memcpy(check.srv, srv, n * sizeof(*srv));
	check.nsrv = n;
}

void
wancheck_stop(void)
{
	if (check.rr != NULL)
		resolve_cancel(check.rr);
	check.rr = NULL;
	if (check.txn != NULL)
		stun_cancel(check.txn);
	check.txn = NULL;
	if (check.sock != NULL)
		stun_sock_close(check.sock);
	check.sock = NULL;
	timer_stop(&check.timer);
}

static void
wancheck_answer(struct stun_txn *txn, const struct stun_answer *a, void *arg)
{
	const struct conf_server *s = arg;
	struct addrclass_verdict v;
	struct in_addr seen;
	char gw[INET_ADDRSTRLEN], sa[INET_ADDRSTRLEN];

	(void)txn;
	check.txn = NULL;
	if (!a->ok || a->mapped.ss_family != AF_INET) {
		log_debug("wancheck: STUN server %s:%u: %s", s->host, s->port,
		    a->ok ? "no IPv4 address in the answer" : a->err);
		/* The socket may not be closed in here: the next step waits. */
		timer_set(&check.timer, 0);
		return;
	}
	seen = ((const struct sockaddr_in *)(const void *)&a->mapped)->sin_addr;
	inet_ntop(AF_INET, &check.gw_ext, gw, sizeof(gw));
	inet_ntop(AF_INET, &seen, sa, sizeof(sa));
	addrclass_judge(check.gw_ext, seen, &v);
	if (v.double_nat)
		log_warnx("%s reports external address %s, but STUN server "
		    "%s:%u sees this host as %s: %s; a mapping is reachable "
		    "from the internet only if that NAT forwards the port too",
		    check.who, gw, s->host, s->port, sa, v.why);
	else
		log_info("STUN server %s:%u sees this host as %s, the "
		    "gateway's external address: no NAT upstream", s->host,
		    s->port, sa);
	status_gateway_seen(check.gw_ext, seen, v.double_nat);
	check.answered = 1;
	check.next = check.nsrv;	/* done: the timer closes the socket */
	timer_set(&check.timer, 0);
}

static void
wancheck_resolved(struct resolve_req *rr, const struct sockaddr_storage *addrs,
    size_t n, const char *err, void *arg)
{
	const struct conf_server *s = arg;

	(void)rr;
	check.rr = NULL;
	if (n == 0) {
		log_debug("wancheck: STUN server %s: %s", s->host, err);
		wancheck_next();
		return;
	}
	check.txn = stun_binding(check.sock, (const struct sockaddr *)&addrs[0],
	    sizeof(struct sockaddr_in), 0, &wancheck_sched, wancheck_answer,
	    (void *)s);
	if (check.txn == NULL) {
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

	while (check.next < check.nsrv) {
		s = &check.srv[check.next++];
		check.rr = resolve_start(s->host, s->port, AF_INET, SOCK_DGRAM,
		    wancheck_resolved, (void *)s);
		if (check.rr != NULL)
			return;
		log_debug("wancheck: STUN server %s: cannot resolve: %s",
		    s->host, strerror(errno));
	}
	if (!check.answered)
		log_info("no STUN server answered: whether another NAT is "
		    "upstream of %s is unknown", check.who);
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
	if (check.nsrv == 0)
		return;
	timer_init(&check.timer, wancheck_timer);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = local;
	if ((check.sock = stun_sock_open((struct sockaddr *)&sin,
	    sizeof(sin))) == NULL) {
		log_warn("wancheck: STUN socket");
		return;
	}
	check.local = local;
	check.gw_ext = gw_ext;
	snprintf(check.who, sizeof(check.who), "%s", who);
	check.next = 0;
	check.answered = 0;
	wancheck_next();
}
