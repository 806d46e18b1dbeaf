/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's settings: parsed from its configuration file and command line, checked and printed; no I/O. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdv-conf.h"
#include "rdv-server.h"
#include "rdv-turn.h"

/* A port, 1-65535, all digits. */
static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* An IPv4 or IPv6 address (no port) into ss, port 0. */
static int
parse_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(ss, 0, sizeof(*ss));
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, s, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		memcpy(ss, &sin, sizeof(sin));
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		memcpy(ss, &sin6, sizeof(sin6));
		return 0;
	}
	return -1;
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
}

static uint16_t
get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->
		    sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
	    sin6_port);
}

/* ADDR, ADDR:PORT, [V6] or [V6]:PORT; the default port when none. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN + 16];
	const char *colon;
	char *end;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if (buf[0] == '[') {
		if ((end = strchr(buf, ']')) == NULL)
			return -1;
		*end = '\0';
		if (end[1] == ':') {
			if (parse_port(end + 2, &port) == -1)
				return -1;
		} else if (end[1] != '\0')
			return -1;
		if (parse_addr(buf + 1, ss) == -1 || ss->ss_family != AF_INET6)
			return -1;
	} else if ((colon = strchr(buf, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		buf[colon - buf] = '\0';
		if (parse_port(colon + 1, &port) == -1 ||
		    parse_addr(buf, ss) == -1 || ss->ss_family != AF_INET)
			return -1;
	} else if (parse_addr(buf, ss) == -1)
		return -1;
	set_port(ss, port);
	return 0;
}

static void
addr_text(const struct sockaddr_storage *ss, int with_port, char *buf,
    size_t len)
{
	char a[INET6_ADDRSTRLEN];
	const void *p = ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)(const void *)ss)->
	    sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)(const void *)ss)->
	    sin6_addr;

	inet_ntop(ss->ss_family, p, a, sizeof(a));
	if (!with_port)
		snprintf(buf, len, "%s", a);
	else if (ss->ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, get_port(ss));
	else
		snprintf(buf, len, "%s:%u", a, get_port(ss));
}

/* One keyword and its value into conf; -1 with err (no file:line yet). */
int
rdv_conf_set(struct rdv_conf *conf, const char *kw, const char *val, char *err,
    size_t errlen)
{
	if (strcmp(kw, "listen") == 0) {
		if (parse_listen(val, &conf->listen, RDV_PORT_DEFAULT) == -1) {
			snprintf(err, errlen, "listen %s: not ADDR, ADDR:PORT "
			    "or [ADDR]:PORT", val);
			return -1;
		}
		conf->have_listen = 1;
	} else if (strcmp(kw, "alt-address") == 0) {
		if (parse_addr(val, &conf->alt) == -1) {
			snprintf(err, errlen, "alt-address %s: not an IPv4 or "
			    "IPv6 address", val);
			return -1;
		}
		conf->have_alt = 1;
	} else if (strcmp(kw, "alt-port") == 0) {
		if (parse_port(val, &conf->alt_port) == -1) {
			snprintf(err, errlen, "alt-port %s: not a port "
			    "(1-65535)", val);
			return -1;
		}
		conf->have_alt_port = 1;
	} else if (strcmp(kw, "max-nodes") == 0) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(val, &end, 10);
		if (val[0] < '0' || val[0] > '9' || *end != '\0' ||
		    errno != 0 || v < 1 || v > RDV_CONF_NODES_MAX) {
			snprintf(err, errlen, "max-nodes %s: not a number of "
			    "1-%d", val, RDV_CONF_NODES_MAX);
			return -1;
		}
		conf->max_nodes = (size_t)v;
		conf->have_max_nodes = 1;
	} else if (strcmp(kw, "networks") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(conf->networks)) {
			snprintf(err, errlen, "networks %s: not an absolute "
			    "path", val);
			return -1;
		}
		snprintf(conf->networks, sizeof(conf->networks), "%s", val);
	} else if (strcmp(kw, "turn") == 0) {
		char a[64] = "";

		if (parse_listen(val, &conf->turn, RDV_TURN_PORT) == 0)
			addr_text(&conf->turn, 0, a, sizeof(a));
		if (a[0] == '\0' || strcmp(a, "0.0.0.0") == 0 ||
		    strcmp(a, "::") == 0) {
			snprintf(err, errlen, "turn %s: not ADDR, ADDR:PORT or "
			    "[ADDR]:PORT (an IPv4 or IPv6 address, not a "
			    "wildcard)", val);
			return -1;
		}
		conf->have_turn = 1;
	} else if (strcmp(kw, "turn-secret-file") == 0) {
		if (val[0] != '/' ||
		    strlen(val) >= sizeof(conf->turn_secret_file)) {
			snprintf(err, errlen, "turn-secret-file %s: not an "
			    "absolute path", val);
			return -1;
		}
		snprintf(conf->turn_secret_file,
		    sizeof(conf->turn_secret_file), "%s", val);
	} else {
		snprintf(err, errlen, "unknown keyword %s", kw);
		return -1;
	}
	return 0;
}

/* The file: "keyword value" lines, # comments; -1 with "file:line: message". */
int
rdv_conf_parse(struct rdv_conf *conf, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
	char line[1024], msg[512], *kw, *val, *p, *e;
	size_t off = 0, llen;
	unsigned int lineno = 0;
	const char *nl;

	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: a NUL byte: not a text file", name);
		return -1;
	}
	while (off < len) {
		lineno++;
		nl = memchr(buf + off, '\n', len - off);
		llen = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		if (llen >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line too long", name,
			    lineno);
			return -1;
		}
		memcpy(line, buf + off, llen);
		line[llen] = '\0';
		off += llen + (nl != NULL);
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (kw = line; *kw == ' ' || *kw == '\t'; kw++)
			;
		e = kw + strlen(kw);
		while (e > kw && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*kw == '\0')
			continue;
		val = kw + strcspn(kw, " \t");
		if (*val != '\0')
			*val++ = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		if (*val == '\0' || strcspn(val, " \t") != strlen(val)) {
			snprintf(err, errlen, "%s:%u: %s: expected one value",
			    name, lineno, kw);
			return -1;
		}
		if (rdv_conf_set(conf, kw, val, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			return -1;
		}
	}
	return 0;
}

int
rdv_conf_check(struct rdv_conf *conf, const char *conf_file, char *err,
    size_t errlen)
{
	uint16_t port;

	if (!conf->have_listen) {
		snprintf(err, errlen, "nothing to listen on: give --listen or "
		    "a listen line in %s", conf_file);
		return -1;
	}
	if (conf->have_turn != (conf->turn_secret_file[0] != '\0')) {
		snprintf(err, errlen, "%s without %s: give both or neither",
		    conf->have_turn ? "turn" : "turn-secret-file",
		    conf->have_turn ? "turn-secret-file" : "turn");
		return -1;
	}
	port = get_port(&conf->listen);
	if (conf->have_alt_port && !conf->have_alt) {
		snprintf(err, errlen, "alt-port without alt-address");
		return -1;
	}
	if (conf->have_alt) {
		char a[64];

		if (!conf->have_alt_port) {
			if (port == 65535) {
				snprintf(err, errlen, "port 65535: give "
				    "alt-port");
				return -1;
			}
			conf->alt_port = (uint16_t)(port + 1);
		}
		if (conf->alt_port == port) {
			snprintf(err, errlen, "alt-port %u is the listen port",
			    port);
			return -1;
		}
		if (conf->alt.ss_family != conf->listen.ss_family) {
			snprintf(err, errlen, "alt-address and listen of "
			    "different families");
			return -1;
		}
		addr_text(&conf->alt, 0, a, sizeof(a));
		set_port(&conf->alt, 0);
		{
			struct sockaddr_storage l = conf->listen;
			char b[64];

			set_port(&l, 0);
			addr_text(&l, 0, b, sizeof(b));
			if (strcmp(a, b) == 0) {
				snprintf(err, errlen, "alt-address %s is the "
				    "listen address", a);
				return -1;
			}
			if (strcmp(b, "0.0.0.0") == 0 || strcmp(b, "::") == 0 ||
			    strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0) {
				snprintf(err, errlen, "with alt-address, listen "
				    "and alt-address are addresses of this host, "
				    "not a wildcard");
				return -1;
			}
		}
	}
	return 0;
}

void
rdv_conf_print(FILE *fp, const struct rdv_conf *conf)
{
	char a[64];

	addr_text(&conf->listen, 1, a, sizeof(a));
	fprintf(fp, "listen %s\n", a);
	if (conf->have_alt) {
		addr_text(&conf->alt, 0, a, sizeof(a));
		fprintf(fp, "alt-address %s\n", a);
		fprintf(fp, "alt-port %u\n", conf->alt_port);
	}
	if (conf->have_max_nodes)
		fprintf(fp, "max-nodes %zu\n", conf->max_nodes);
	if (conf->networks[0] != '\0')
		fprintf(fp, "networks %s\n", conf->networks);
	if (conf->have_turn) {
		addr_text(&conf->turn, 1, a, sizeof(a));
		fprintf(fp, "turn %s\n", a);
		fprintf(fp, "turn-secret-file %s\n", conf->turn_secret_file);
	}
}

