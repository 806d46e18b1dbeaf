/* SPDX-License-Identifier: ISC */
/* What the UDP and TCP STUN-kept bindings share: the status report, the servers' lookups, the ports to keep. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "driver.h"
#include "fallback.h"
#include "fallback-rung.h"
#include "log.h"
#include "loop.h"
#include "resolve.h"
#include "status.h"
#include "stun.h"

void
fb_rung_set(struct fb_rung *r, int state, uint64_t renew_at,
    const char *proof, const char *fmt, va_list ap)
{
	struct status_map st;
	char error[sizeof(r->error)] = "", ep[64];
	const char *proto = r->proto == DRV_UDP ? "udp" : "tcp";
	int changed;

	if (fmt != NULL)
		vsnprintf(error, sizeof(error), fmt, ap);
	if (state != r->state)
		r->since = loop_now();
	changed = state != r->state || strcmp(error, r->error) != 0 ||
	    r->logged.ss_family != r->mapped.ss_family ||
	    (r->mapped.ss_family != AF_UNSPEC &&
	    !stun_addr_eq(&r->logged, &r->mapped));
	r->logged = r->mapped;
	r->state = state;
	memcpy(r->error, error, sizeof(r->error));
	memset(&st, 0, sizeof(st));
	st.proto = r->proto;
	st.int_port = r->int_port;
	st.ext_want = r->ext_want;
	snprintf(st.method, sizeof(st.method), "stun");
	st.state = state;
	st.int_addr = r->local;
	if (r->mapped.ss_family == AF_INET) {
		st.ext_addr = ((struct sockaddr_in *)(void *)&r->mapped)->sin_addr;
		st.ext_port = stun_addr_port(&r->mapped);
	}
	st.since = r->since;
	st.renew_at = renew_at;
	memcpy(st.error, r->error, sizeof(st.error));
	status_fallback_update(&st);
	if (!changed)
		return;
	stun_addr_str(&r->mapped, ep, sizeof(ep));
	if (state == STATUS_VERIFIED)
		log_info("%s %u: reachable at %s (a binding kept with STUN, "
		    "proven by %s)", proto, r->int_port, ep, proof);
	else
		log_info("%s %u: binding %s %s: %s", proto, r->int_port, ep,
		    status_state_name(state), r->error);
}

void
fb_rung_remove(struct fb_rung *r)
{
	if (r->state != -1)
		status_fallback_remove(r->proto, r->int_port, r->ext_want);
	r->state = -1;
}

/* ---- servers ---- */

static void
fb_servers_retry(struct timer *t)
{
	fb_servers_resolve(container_of(t, struct fb_servers, retry));
}

void
fb_servers_set(struct fb_servers *s, const struct conf_server *srv,
    size_t n, int socktype, const char *what, void (*done)(void))
{
	fb_servers_cancel(s);
	memset(s, 0, sizeof(*s));
	if (n > CONF_MAX_SERVERS)
		n = CONF_MAX_SERVERS;
	memcpy(s->srv, srv, n * sizeof(s->srv[0]));
	s->nsrv = n;
	s->socktype = socktype;
	s->what = what;
	s->done = done;
	timer_init(&s->retry, fb_servers_retry);
}

int
fb_servers_same(const struct fb_servers *s, const struct conf_server *srv,
    size_t n)
{
	if (n > CONF_MAX_SERVERS)
		n = CONF_MAX_SERVERS;
	return n == s->nsrv && memcmp(srv, s->srv, n * sizeof(s->srv[0])) == 0;
}

static void
fb_servers_resolved(struct resolve_req *rr,
    const struct sockaddr_storage *addrs, size_t n, const char *err,
    void *arg)
{
	struct fb_servers *s = arg;
	char name[300];
	size_t i;

	for (i = 0; i < s->nsrv && s->rr[i] != rr; i++)
		;
	if (i == s->nsrv)
		return;
	s->rr[i] = NULL;
	s->resolving--;
	if (n > 0)
		s->addr[i] = addrs[0];
	else
		log_info("%s %s: %s", s->what, fb_servers_name(s, i, name,
		    sizeof(name)), err);
	if (s->resolving > 0)
		return;
	if (fb_servers_known(s) == 0)
		timer_set(&s->retry, FALLBACK_RETRY_MS);
	s->done();
}

void
fb_servers_resolve(struct fb_servers *s)
{
	size_t i;

	fb_servers_cancel(s);
	for (i = 0; i < s->nsrv; i++) {
		memset(&s->addr[i], 0, sizeof(s->addr[i]));
		s->rr[i] = resolve_start(s->srv[i].host, s->srv[i].port,
		    AF_INET, s->socktype, fb_servers_resolved, s);
		if (s->rr[i] != NULL)
			s->resolving++;
	}
	if (s->nsrv > 0 && s->resolving == 0) {
		log_info("STUN-kept bindings: no %s could be resolved",
		    s->what);
		timer_set(&s->retry, FALLBACK_RETRY_MS);
	}
}

void
fb_servers_cancel(struct fb_servers *s)
{
	size_t i;

	for (i = 0; i < CONF_MAX_SERVERS; i++) {
		if (s->rr[i] != NULL)
			resolve_cancel(s->rr[i]);
		s->rr[i] = NULL;
	}
	s->resolving = 0;
	if (s->retry.cb != NULL)
		timer_stop(&s->retry);
}

size_t
fb_servers_known(const struct fb_servers *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nsrv; i++)
		if (s->addr[i].ss_family != AF_UNSPEC)
			n++;
	return n;
}

int
fb_servers_next(const struct fb_servers *s, size_t *cur)
{
	size_t i, j;

	for (i = 1; i <= s->nsrv; i++) {
		j = (*cur + i) % s->nsrv;
		if (s->addr[j].ss_family != AF_UNSPEC) {
			*cur = j;
			return 0;
		}
	}
	return -1;
}

const char *
fb_servers_name(const struct fb_servers *s, size_t i, char *buf, size_t len)
{
	config_format_server(&s->srv[i], buf, len);
	return buf;
}

/* ---- ports ---- */

uint16_t *
fb_ports(const struct config *conf, int conf_proto, size_t *np, int *warned)
{
	const struct conf_map *c;
	size_t i, n = 0, nports = 0;
	uint16_t p, *ports;

	*np = 0;
	for (i = 0; i < conf->nmaps; i++)
		if (conf->maps[i].proto == conf_proto)
			n += (size_t)(conf->maps[i].int_last -
			    conf->maps[i].int_first) + 1;
	if (n > FALLBACK_MAX) {
		if (!*warned)
			log_warnx("STUN-kept bindings: %zu %s ports mapped, "
			    "only the first %d are kept when no gateway maps "
			    "them", n, conf_proto == CONF_UDP ? "UDP" : "TCP",
			    FALLBACK_MAX);
		*warned = 1;
		n = FALLBACK_MAX;
	}
	if (n == 0 || (ports = calloc(n, 2 * sizeof(uint16_t))) == NULL)
		return NULL;
	for (i = 0; i < conf->nmaps && nports < n; i++) {
		c = &conf->maps[i];
		if (c->proto != conf_proto)
			continue;
		for (p = c->int_first; nports < n; p++) {
			ports[2 * nports] = p;
			ports[2 * nports + 1] = (uint16_t)(c->ext_first +
			    (p - c->int_first));
			nports++;
			if (p == c->int_last)
				break;
		}
	}
	*np = nports;
	return ports;
}

int
fb_local_toward(const struct sockaddr_storage *to, struct in_addr *local)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, r = -1;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)to,
	    sizeof(struct sockaddr_in)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0) {
		*local = sin.sin_addr;
		r = 0;
	}
	close(fd);
	return r;
}
