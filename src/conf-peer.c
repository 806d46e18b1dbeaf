/* SPDX-License-Identifier: ISC */
/* The "expose" and "connect" statements (hole punching): text <-> structs, no I/O. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf-peer.h"
#include "rdv-msg.h"

int
config_valid_service(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > CONF_SERVICE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* "tcp" or "udp" from s[0..n): 0, or -1. */
static int
parse_proto(const char *s, size_t n, int *proto)
{
	if (n == 3 && memcmp(s, "tcp", 3) == 0)
		*proto = CONF_TCP;
	else if (n == 3 && memcmp(s, "udp", 3) == 0)
		*proto = CONF_UDP;
	else
		return -1;
	return 0;
}

/*
 * "ADDRESS:PORT" or "[IPV6]:PORT" from s[0..n) into ss; with bare set, a
 * PORT alone is 127.0.0.1:PORT.  0, or -1 with err set (what names the
 * statement).
 */
static int
parse_endpoint(const char *what, const char *s, size_t n, int bare,
    struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *port;
	size_t hlen;
	uint16_t p;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (n > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', n);

		if (end == NULL || end + 1 == s + n || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port = end + 2;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
	} else {
		const char *colon = memchr(s, ':', n);

		if (colon == NULL) {
			if (!bare)
				goto bad;
			port = s;
			memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
		} else {
			hlen = (size_t)(colon - s);
			if (hlen == 0 || hlen >= sizeof(host))
				goto bad;
			memcpy(host, s, hlen);
			host[hlen] = '\0';
			port = colon + 1;
		}
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
		sin->sin_family = AF_INET;
	}
	if (config_parse_port(port, (size_t)(s + n - port), &p) == -1)
		goto bad;
	if (ss->ss_family == AF_INET)
		sin->sin_port = htons(p);
	else
		sin6->sin6_port = htons(p);
	return 0;
bad:
	config_seterr(err, errlen, "%s: \"%.*s\" is not ADDRESS:PORT (an IPv4 "
	    "address, or an IPv6 one in brackets%s)", what, (int)n, s,
	    bare ? ", or a port alone for 127.0.0.1" : "");
	return -1;
}

/*
 * The words after a service, from s (spaces and tabs between them):
 * "relay=fallback", "relay=never" or "relay=always", once.  what and name say whose
 * they are in err.  0, or -1 with err set.
 */
static int
parse_words(const char *what, const char *name, const char *s, int *set,
    int *relay, char *err, size_t errlen)
{
	const char *w, *v;
	size_t n;

	for (w = s;; w += n) {
		w += strspn(w, " \t");
		if (*w == '\0')
			return 0;
		n = strcspn(w, " \t");
		if (n < 6 || memcmp(w, "relay=", 6) != 0) {
			config_seterr(err, errlen, "%s %s: \"%.*s\" is not "
			    "relay=fallback, never or always", what, name,
			    (int)n, w);
			return -1;
		}
		if (*set) {
			config_seterr(err, errlen, "%s %s: relay= given twice",
			    what, name);
			return -1;
		}
		v = w + 6;
		if (n - 6 == 8 && memcmp(v, "fallback", 8) == 0)
			*relay = CONF_RELAY_FALLBACK;
		else if (n - 6 == 5 && memcmp(v, "never", 5) == 0)
			*relay = CONF_RELAY_NEVER;
		else if (n - 6 == 6 && memcmp(v, "always", 6) == 0)
			*relay = CONF_RELAY_ALWAYS;
		else {
			config_seterr(err, errlen, "%s %s: relay=%.*s: expected "
			    "fallback, never or always", what, name,
			    (int)(n - 6), v);
			return -1;
		}
		*set = 1;
	}
}

/*
 * s cut into the service (into buf, len bytes) and its words (*words,
 * "" none).  0, or -1 with err set: too long.
 */
static int
split_words(const char *what, const char *s, char *buf, size_t len,
    const char **words, char *err, size_t errlen)
{
	size_t n = strcspn(s, " \t");

	if (n >= len) {
		config_seterr(err, errlen, "%s: \"%.32s...\" is too long "
		    "(at most %zu bytes)", what, s, len - 1);
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*words = s + n;
	return 0;
}

/* The longest service, "NAME=[IPV6]:PORT/udp@NODE,...", is 600 bytes. */
#define SPEC_MAX	640

static int	parse_expose(const char *, struct conf_expose *, char *,
		    size_t);
static int	parse_connect(const char *, struct conf_connect *, char *,
		    size_t);

int
config_parse_expose(const char *s, struct conf_expose *e, char *err,
    size_t errlen)
{
	char buf[SPEC_MAX + 1];
	const char *words;

	memset(e, 0, sizeof(*e));
	if (split_words("expose", s, buf, sizeof(buf), &words, err,
	    errlen) == -1 || parse_expose(buf, e, err, errlen) == -1)
		return -1;
	return parse_words("expose", e->name, words, &e->relay_set,
	    &e->relay, err, errlen);
}

int
config_parse_connect(const char *s, struct conf_connect *c, char *err,
    size_t errlen)
{
	char buf[SPEC_MAX + 1], name[64 + CONF_SERVICE_MAX + 1];
	const char *words;

	memset(c, 0, sizeof(*c));
	if (split_words("connect", s, buf, sizeof(buf), &words, err,
	    errlen) == -1 || parse_connect(buf, c, err, errlen) == -1)
		return -1;
	snprintf(name, sizeof(name), "%s/%s", c->node, c->service);
	return parse_words("connect", name, words, &c->relay_set, &c->relay,
	    err, errlen);
}

int
config_service_relay(int relay_set, int relay, int node)
{
	return relay_set ? relay : node;
}

int
config_relay_node(int node, const struct conf_expose *e, size_t ne,
    const struct conf_connect *c, size_t nc)
{
	size_t i;

	if (node != CONF_RELAY_NEVER)
		return node;
	for (i = 0; i < ne; i++)
		if (e[i].relay_set && e[i].relay != CONF_RELAY_NEVER)
			return CONF_RELAY_FALLBACK;
	for (i = 0; i < nc; i++)
		if (c[i].relay_set && c[i].relay != CONF_RELAY_NEVER)
			return CONF_RELAY_FALLBACK;
	return node;
}

int
config_relay_allows(int policy, int relayed)
{
	return !(relayed && policy == CONF_RELAY_NEVER);
}

static int
parse_expose(const char *s, struct conf_expose *e, char *err,
    size_t errlen)
{
	const char *eq, *slash, *at, *end, *p, *comma;
	size_t n;

	memset(e, 0, sizeof(*e));
	if ((eq = strchr(s, '=')) == NULL) {
		config_seterr(err, errlen, "expose: \"%s\" is not "
		    "NAME=ADDRESS:PORT/PROTO[@NODE,...]", s);
		return -1;
	}
	n = (size_t)(eq - s);
	if (n == 0 || n > CONF_SERVICE_MAX) {
		config_seterr(err, errlen, "expose: \"%.*s\" is not a service "
		    "name (1-%d of a-z, 0-9, ., _, -)", (int)n, s,
		    CONF_SERVICE_MAX);
		return -1;
	}
	memcpy(e->name, s, n);
	if (!config_valid_service(e->name)) {
		config_seterr(err, errlen, "expose: \"%s\" is not a service "
		    "name (1-%d of a-z, 0-9, ., _, -)", e->name,
		    CONF_SERVICE_MAX);
		return -1;
	}
	at = strchr(eq + 1, '@');
	end = at != NULL ? at : eq + 1 + strlen(eq + 1);
	slash = NULL;
	for (p = eq + 1; p < end; p++)
		if (*p == '/')
			slash = p;
	if (slash == NULL || parse_proto(slash + 1, (size_t)(end - slash - 1),
	    &e->proto) == -1) {
		config_seterr(err, errlen, "expose: %s: needs /tcp or /udp "
		    "after the address", e->name);
		return -1;
	}
	if (parse_endpoint("expose", eq + 1, (size_t)(slash - eq - 1), 0,
	    &e->target, err, errlen) == -1)
		return -1;
	if (at == NULL)
		return 0;
	for (p = at + 1;; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (e->nallow == CONF_ALLOW_MAX) {
			config_seterr(err, errlen, "expose: %s: more than %d "
			    "nodes after @", e->name, CONF_ALLOW_MAX);
			return -1;
		}
		if (n == 0 || n > CONF_NODE_MAX || !rdv_node_ok(p, n)) {
			config_seterr(err, errlen, "expose: %s: \"%.*s\" is not "
			    "a node name", e->name, (int)n, p);
			return -1;
		}
		memcpy(e->allow[e->nallow], p, n);
		e->allow[e->nallow][n] = '\0';
		e->nallow++;
		if (comma == NULL)
			break;
	}
	return 0;
}

static int
parse_connect(const char *s, struct conf_connect *c, char *err,
    size_t errlen)
{
	const char *slash, *eq, *pslash;
	size_t n;

	memset(c, 0, sizeof(*c));
	c->proto = CONF_ANY_PROTO;
	eq = strchr(s, '=');
	slash = eq != NULL ? memchr(s, '/', (size_t)(eq - s)) : NULL;
	if (eq == NULL || slash == NULL) {
		config_seterr(err, errlen, "connect: \"%s\" is not "
		    "NODE/NAME=[ADDRESS:]PORT[/PROTO]", s);
		return -1;
	}
	n = (size_t)(slash - s);
	if (n == 0 || n > CONF_NODE_MAX || !rdv_node_ok(s, n)) {
		config_seterr(err, errlen, "connect: \"%.*s\" is not a node "
		    "name", (int)n, s);
		return -1;
	}
	memcpy(c->node, s, n);
	n = (size_t)(eq - slash - 1);
	if (n == 0 || n > CONF_SERVICE_MAX) {
		config_seterr(err, errlen, "connect: \"%.*s\" is not a service "
		    "name (1-%d of a-z, 0-9, ., _, -)", (int)n, slash + 1,
		    CONF_SERVICE_MAX);
		return -1;
	}
	memcpy(c->service, slash + 1, n);
	if (!config_valid_service(c->service)) {
		config_seterr(err, errlen, "connect: \"%s\" is not a service "
		    "name (1-%d of a-z, 0-9, ., _, -)", c->service,
		    CONF_SERVICE_MAX);
		return -1;
	}
	/* a "/" after the address: the transport (an IPv6 address has none) */
	if ((pslash = strrchr(eq + 1, '/')) != NULL) {
		if (parse_proto(pslash + 1, strlen(pslash + 1), &c->proto) ==
		    -1) {
			config_seterr(err, errlen, "connect: %s/%s: \"%s\" is "
			    "not tcp or udp", c->node, c->service, pslash + 1);
			return -1;
		}
		n = (size_t)(pslash - eq - 1);
	} else
		n = strlen(eq + 1);
	return parse_endpoint("connect", eq + 1, n, 1, &c->listen, err,
	    errlen);
}

int
config_parse_service_name(const char *what, const char *s, char *node,
    char name[CONF_SERVICE_MAX + 1], char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	size_t n;

	if (node != NULL) {
		n = slash != NULL ? (size_t)(slash - s) : 0;
		if (slash == NULL || n == 0 || n > CONF_NODE_MAX ||
		    !rdv_node_ok(s, n)) {
			config_seterr(err, errlen, "%s: \"%s\" is not "
			    "NODE/NAME", what, s);
			return -1;
		}
		memcpy(node, s, n);
		node[n] = '\0';
		s = slash + 1;
	}
	n = strlen(s);
	if (n == 0 || n > CONF_SERVICE_MAX || strchr(s, '/') != NULL) {
		config_seterr(err, errlen, "%s: \"%s\" is not a service name "
		    "(1-%d of a-z, 0-9, ., _, -)", what, s, CONF_SERVICE_MAX);
		return -1;
	}
	memcpy(name, s, n + 1);
	if (!config_valid_service(name)) {
		config_seterr(err, errlen, "%s: \"%s\" is not a service name "
		    "(1-%d of a-z, 0-9, ., _, -)", what, name, CONF_SERVICE_MAX);
		return -1;
	}
	return 0;
}

static void
format_endpoint(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

static const char *
proto_text(int proto)
{
	return proto == CONF_TCP ? "tcp" : proto == CONF_UDP ? "udp" : "";
}

static const char *
relay_text(int relay)
{
	return relay == CONF_RELAY_NEVER ? "never" : relay ==
	    CONF_RELAY_ALWAYS ? "always" : "fallback";
}

void
config_format_expose(const struct conf_expose *e, char *buf, size_t len)
{
	char ep[INET6_ADDRSTRLEN + 16];
	size_t i, off;
	int n;

	format_endpoint(&e->target, ep, sizeof(ep));
	n = snprintf(buf, len, "%s=%s/%s", e->name, ep, proto_text(e->proto));
	if (n < 0 || (size_t)n >= len)
		return;
	off = (size_t)n;
	for (i = 0; i < e->nallow; i++) {
		n = snprintf(buf + off, len - off, "%c%s", i == 0 ? '@' : ',',
		    e->allow[i]);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
	if (e->relay_set)
		snprintf(buf + off, len - off, " relay=%s",
		    relay_text(e->relay));
}

void
config_format_connect(const struct conf_connect *c, char *buf, size_t len)
{
	char ep[INET6_ADDRSTRLEN + 16];

	format_endpoint(&c->listen, ep, sizeof(ep));
	snprintf(buf, len, "%s/%s=%s%s%s%s%s", c->node, c->service, ep,
	    c->proto == CONF_ANY_PROTO ? "" : "/", proto_text(c->proto),
	    c->relay_set ? " relay=" : "",
	    c->relay_set ? relay_text(c->relay) : "");
}

int
config_expose_clash(const struct conf_expose *a, const struct conf_expose *b)
{
	return a->proto == b->proto && strcmp(a->name, b->name) == 0;
}

/* The same address and port. */
static int
same_endpoint(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
}

int
config_connect_clash(const struct conf_connect *a,
    const struct conf_connect *b)
{
	return same_endpoint(&a->listen, &b->listen) &&
	    (a->proto == CONF_ANY_PROTO || b->proto == CONF_ANY_PROTO ||
	    a->proto == b->proto);
}
