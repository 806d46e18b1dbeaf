/* SPDX-License-Identifier: ISC */
/* natmapd.conf(5) and map specifications: parsing, merging and printing. */
#include "config.h"

#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "rdv-msg.h"

_Static_assert(CONF_KEY_LEN == CRYPTO_KEY_LEN, "CONF_KEY_LEN");
_Static_assert(CONF_NETWORK_MAX == RDV_NETWORK_MAX, "CONF_NETWORK_MAX");
_Static_assert(CONF_NODE_MAX == RDV_NODE_MAX, "CONF_NODE_MAX");
_Static_assert(CONF_RDV_PORT == RDV_PORT, "CONF_RDV_PORT");

#define CONF_MAX_FILE	(1024 * 1024)
#define CONF_MAX_LINE	1024
#define CONF_MAX_TOKENS	8

void
config_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
config_proto_name(int proto)
{
	return proto == CONF_UDP ? "udp" : "tcp";
}

static const char *const gwproto_names[] = {
	[CONF_GW_AUTO] = "auto",
	[CONF_GW_PCP] = "pcp",
	[CONF_GW_NATPMP] = "natpmp",
	[CONF_GW_UPNP] = "upnp",
};

int
config_parse_gwproto(const char *s, int *v)
{
	size_t i;

	for (i = 0; i < sizeof(gwproto_names) / sizeof(gwproto_names[0]); i++)
		if (strcmp(s, gwproto_names[i]) == 0) {
			*v = (int)i;
			return 0;
		}
	return -1;
}

const char *
config_gwproto_name(int v)
{
	if (v < 0 || (size_t)v >= sizeof(gwproto_names) /
	    sizeof(gwproto_names[0]))
		return "?";
	return gwproto_names[v];
}

void
config_init(struct config *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->lease = CONF_LEASE_DEFAULT;
}

void
config_free(struct config *conf)
{
	size_t i;

	free(conf->maps);
	free(conf->interface);
	free(conf->pidfile);
	free(conf->state_file);
	free(conf->status_file);
	free(conf->user);
	free(conf->control);
	for (i = 0; i < conf->necho; i++)
		free(conf->echo[i]);
	free(conf->hook);
	free(conf->peer_hook);
	free(conf->network);
	free(conf->key_file);
	free(conf->node);
	free(conf->expose);
	free(conf->connect);
	crypto_wipe(conf->key, sizeof(conf->key));
	memset(conf, 0, sizeof(*conf));
}

int
config_parse_server(const char *s, struct conf_server *srv, char *err,
    size_t errlen)
{
	return config_parse_server_port(s, CONF_STUN_PORT, srv, err, errlen);
}

int
config_parse_server_port(const char *s, uint16_t defport,
    struct conf_server *srv, char *err, size_t errlen)
{
	const char *host = s, *colon, *p;
	size_t hlen;
	struct in6_addr a6;
	char tmp[INET6_ADDRSTRLEN];

	memset(srv, 0, sizeof(*srv));
	srv->port = defport;
	if (*s == '[') {
		if ((p = strchr(s, ']')) == NULL) {
			config_seterr(err, errlen, "no \"]\" after the address");
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(p - host);
		if (p[1] == ':') {
			if (config_parse_port(p + 2, strlen(p + 2),
			    &srv->port) == -1)
				goto badport;
		} else if (p[1] != '\0') {
			config_seterr(err, errlen, "unexpected text after \"]\"");
			return -1;
		}
		if (hlen == 0 || hlen >= sizeof(tmp))
			goto badv6;
		memcpy(tmp, host, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			goto badv6;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') != NULL) {
		/* Two colons or more: a bare IPv6 address, no port. */
		hlen = strlen(s);
		if (inet_pton(AF_INET6, s, &a6) != 1)
			goto badv6;
	} else {
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (colon != NULL && config_parse_port(colon + 1,
		    strlen(colon + 1), &srv->port) == -1)
			goto badport;
		if (hlen == 0 || hlen > 253) {
			config_seterr(err, errlen, "bad host name length");
			return -1;
		}
		for (p = s; p < s + hlen; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '.')) {
				config_seterr(err, errlen, "bad character in "
				    "host name");
				return -1;
			}
	}
	if (hlen >= sizeof(srv->host))
		goto badv6;
	memcpy(srv->host, host, hlen);
	srv->host[hlen] = '\0';
	return 0;
badport:
	config_seterr(err, errlen, "bad port");
	return -1;
badv6:
	config_seterr(err, errlen, "bad IPv6 address");
	return -1;
}

void
config_format_server(const struct conf_server *srv, char *buf, size_t len)
{
	snprintf(buf, len, strchr(srv->host, ':') != NULL ? "[%s]:%u" :
	    "%s:%u", srv->host, srv->port);
}

int
config_add_stun(struct config *conf, const char *s, char *err, size_t errlen)
{
	char why[64];

	if (conf->nstun == CONF_MAX_SERVERS) {
		config_seterr(err, errlen, "stun-server: more than %d servers",
		    CONF_MAX_SERVERS);
		return -1;
	}
	if (config_parse_server(s, &conf->stun[conf->nstun], why,
	    sizeof(why)) == -1) {
		config_seterr(err, errlen, "stun-server %s: %s", s, why);
		return -1;
	}
	conf->nstun++;
	return 0;
}

int
config_add_rdv(struct config *conf, const char *s, char *err, size_t errlen)
{
	char why[64];

	if (conf->nrdv == CONF_MAX_SERVERS) {
		config_seterr(err, errlen, "rendezvous: more than %d servers",
		    CONF_MAX_SERVERS);
		return -1;
	}
	if (config_parse_server_port(s, CONF_RDV_PORT, &conf->rdv[conf->nrdv],
	    why, sizeof(why)) == -1) {
		config_seterr(err, errlen, "rendezvous %s: %s", s, why);
		return -1;
	}
	conf->nrdv++;
	return 0;
}

int
config_valid_network(const char *s)
{
	return rdv_network_ok(s, strlen(s));
}

int
config_valid_node(const char *s)
{
	return rdv_node_ok(s, strlen(s));
}

int
config_rdv_check(struct config *conf, char *err, size_t errlen)
{
	char host[256], why[512];
	size_t i;

	if (conf->nrdv == 0 && (conf->nexpose > 0 || conf->nconnect > 0)) {
		config_seterr(err, errlen, "%s: needs a rendezvous server "
		    "(rendezvous, network and key-file)", conf->nexpose > 0 ?
		    "expose" : "connect");
		return -1;
	}
	if (conf->nrdv == 0)
		return 0;
	if (conf->network == NULL || conf->key_file == NULL) {
		config_seterr(err, errlen, "rendezvous: needs %s (the network's "
		    "name and its key)", conf->network == NULL &&
		    conf->key_file == NULL ? "network and key-file" :
		    conf->network == NULL ? "network" : "key-file");
		return -1;
	}
	if (crypto_key_read(conf->key_file, conf->key, why,
	    sizeof(why)) == -1) {
		config_seterr(err, errlen, "key-file: %s", why);
		return -1;
	}
	conf->have_key = 1;
	if (conf->node != NULL)
		return 0;
	if (gethostname(host, sizeof(host)) == -1) {
		config_seterr(err, errlen, "node: no host name (%s); give one "
		    "with node or --node", strerror(errno));
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	if (!config_valid_node(host)) {
		log_escape(why, sizeof(why), host, strlen(host));
		config_seterr(err, errlen, "node: the host name \"%s\" is not "
		    "a node name (1-%d of a-z, 0-9, - in dot-separated labels); "
		    "give one with node or --node", why, CONF_NODE_MAX);
		return -1;
	}
	if ((conf->node = strdup(host)) == NULL)
		fatal("strdup");
	return 0;
}

int
config_add_echo(struct config *conf, const char *s, char *err, size_t errlen)
{
	const char *p;

	if (conf->necho == CONF_MAX_SERVERS) {
		config_seterr(err, errlen, "echo-url: more than %d URLs",
		    CONF_MAX_SERVERS);
		return -1;
	}
	if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) ||
	    strlen(s) > 255 || strlen(s) <= 8) {
		config_seterr(err, errlen, "echo-url: \"%s\" is not an http:// "
		    "or https:// URL", s);
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f) {
			config_seterr(err, errlen, "echo-url: a space or control "
			    "character in the URL");
			return -1;
		}
	if ((conf->echo[conf->necho] = strdup(s)) == NULL)
		fatal("strdup");
	conf->necho++;
	return 0;
}

/* A decimal port 1..65535 from s[0..len). */
int
config_parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "P" or "P-Q" from s[0..len). */
static int
parse_range(const char *s, size_t len, uint16_t *first, uint16_t *last,
    int *is_range)
{
	const char *dash = memchr(s, '-', len);

	*is_range = dash != NULL;
	if (dash == NULL) {
		if (config_parse_port(s, len, first) == -1)
			return -1;
		*last = *first;
		return 0;
	}
	if (config_parse_port(s, (size_t)(dash - s), first) == -1 ||
	    config_parse_port(dash + 1, len - (size_t)(dash - s) - 1, last) == -1)
		return -1;
	return 0;
}

int
config_parse_map(const char *spec, struct conf_map *m, char *err,
    size_t errlen)
{
	const char *slash, *colon, *proto;
	uint16_t ef, el;
	int irange, erange;
	size_t ilen;

	memset(m, 0, sizeof(*m));
	slash = strrchr(spec, '/');
	if (slash == NULL) {
		config_seterr(err, errlen, "missing /tcp or /udp");
		return -1;
	}
	proto = slash + 1;
	if (strcmp(proto, "tcp") == 0)
		m->proto = CONF_TCP;
	else if (strcmp(proto, "udp") == 0)
		m->proto = CONF_UDP;
	else {
		config_seterr(err, errlen, "protocol must be tcp or udp");
		return -1;
	}
	colon = memchr(spec, ':', (size_t)(slash - spec));
	ilen = (size_t)((colon != NULL ? colon : slash) - spec);
	if (parse_range(spec, ilen, &m->int_first, &m->int_last,
	    &irange) == -1) {
		config_seterr(err, errlen, "bad internal port");
		return -1;
	}
	if (m->int_last < m->int_first) {
		config_seterr(err, errlen, "range %u-%u is backwards",
		    m->int_first, m->int_last);
		return -1;
	}
	m->ext_first = m->int_first;
	if (colon != NULL) {
		if (parse_range(colon + 1, (size_t)(slash - colon - 1), &ef,
		    &el, &erange) == -1) {
			config_seterr(err, errlen, "bad external port");
			return -1;
		}
		if (erange && el - ef != m->int_last - m->int_first) {
			config_seterr(err, errlen, "external range is not as long as "
			    "the internal one");
			return -1;
		}
		m->ext_first = ef;
	}
	if ((unsigned)m->ext_first + (m->int_last - m->int_first) > 65535) {
		config_seterr(err, errlen, "external range goes past 65535");
		return -1;
	}
	return 0;
}

int
config_parse_lease(const char *s, uint32_t *lease, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	if (v != 0 && (v < CONF_LEASE_MIN || v > CONF_LEASE_MAX)) {
		config_seterr(err, errlen, "lease %s: must be 0 or %d to %d seconds",
		    s, CONF_LEASE_MIN, CONF_LEASE_MAX);
		return -1;
	}
	*lease = (uint32_t)v;
	return 0;
bad:
	config_seterr(err, errlen, "lease \"%s\": not a number of seconds", s);
	return -1;
}

void
config_format_map(const struct conf_map *m, char *buf, size_t len)
{
	char ip[16] = "", ep[16] = "";

	if (m->int_first == m->int_last)
		snprintf(ip, sizeof(ip), "%u", m->int_first);
	else
		snprintf(ip, sizeof(ip), "%u-%u", m->int_first, m->int_last);
	if (m->ext_first != m->int_first)
		snprintf(ep, sizeof(ep), ":%u", m->ext_first);
	snprintf(buf, len, "%s%s/%s", ip, ep, config_proto_name(m->proto));
}

int
config_add_expose(struct config *conf, const struct conf_expose *e, char *err,
    size_t errlen)
{
	struct conf_expose *n;
	size_t i;

	for (i = 0; i < conf->nexpose; i++)
		if (config_expose_clash(&conf->expose[i], e)) {
			config_seterr(err, errlen, "expose: %s/%s given twice",
			    e->name, e->proto == CONF_TCP ? "tcp" : "udp");
			return -1;
		}
	if (conf->nexpose == CONF_MAX_PEER) {
		config_seterr(err, errlen, "too many expose statements: at most "
		    "%d", CONF_MAX_PEER);
		return -1;
	}
	if ((n = reallocarray(conf->expose, conf->nexpose + 1,
	    sizeof(*n))) == NULL)
		fatal("reallocarray");
	conf->expose = n;
	conf->expose[conf->nexpose++] = *e;
	return 0;
}

int
config_add_connect(struct config *conf, const struct conf_connect *c,
    char *err, size_t errlen)
{
	struct conf_connect *n;
	char a[128], b[128];
	size_t i;

	for (i = 0; i < conf->nconnect; i++)
		if (config_connect_clash(&conf->connect[i], c)) {
			config_format_connect(c, a, sizeof(a));
			config_format_connect(&conf->connect[i], b, sizeof(b));
			config_seterr(err, errlen, "connect %s: listens where "
			    "connect %s does", a, b);
			return -1;
		}
	if (conf->nconnect == CONF_MAX_PEER) {
		config_seterr(err, errlen, "too many connect statements: at "
		    "most %d", CONF_MAX_PEER);
		return -1;
	}
	if ((n = reallocarray(conf->connect, conf->nconnect + 1,
	    sizeof(*n))) == NULL)
		fatal("reallocarray");
	conf->connect = n;
	conf->connect[conf->nconnect++] = *c;
	return 0;
}

static int
map_overlaps(const struct conf_map *a, const struct conf_map *b)
{
	unsigned int ae = a->ext_first + (a->int_last - a->int_first);
	unsigned int be = b->ext_first + (b->int_last - b->int_first);

	if (a->proto != b->proto)
		return 0;
	return a->ext_first <= be && b->ext_first <= ae;
}

int
config_add_map(struct config *conf, const struct conf_map *m, char *err,
    size_t errlen)
{
	struct conf_map *n;
	size_t i, count = (size_t)(m->int_last - m->int_first) + 1;
	char a[32], b[32];

	for (i = 0; i < conf->nmaps; i++) {
		if (map_overlaps(&conf->maps[i], m)) {
			config_format_map(m, a, sizeof(a));
			config_format_map(&conf->maps[i], b, sizeof(b));
			config_seterr(err, errlen, "map %s: external ports overlap "
			    "map %s", a, b);
			return -1;
		}
	}
	if (conf->nports + count > CONF_MAX_MAPS) {
		config_seterr(err, errlen, "too many mappings: at most %d ports in all",
		    CONF_MAX_MAPS);
		return -1;
	}
	n = reallocarray(conf->maps, conf->nmaps + 1, sizeof(*n));
	if (n == NULL)
		fatal("reallocarray");
	conf->maps = n;
	conf->maps[conf->nmaps++] = *m;
	conf->nports += count;
	return 0;
}

static int
parse_yesno(const char *s, int *v)
{
	if (strcmp(s, "yes") == 0)
		*v = 1;
	else if (strcmp(s, "no") == 0)
		*v = 0;
	else
		return -1;
	return 0;
}

int
config_valid_ifname(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 || len >= 16)
		return 0;
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '/')
			return 0;
	return 1;
}

int
config_valid_user(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > 32 || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-' &&
		    !(s[i] == '$' && i == len - 1 && i > 0))
			return 0;
	return 1;
}

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) ==
    CONF_CONTROL_MAX + 1, "CONF_CONTROL_MAX is not sun_path's");

int
config_valid_control(const char *s)
{
	return strcmp(s, "none") == 0 || (s[0] == '/' &&
	    strlen(s) <= CONF_CONTROL_MAX);
}

/* An expose or connect statement's arguments, joined by a space. */
#define CONF_SERVICE_ARG_MAX	1024

/* The n tokens in buf (len bytes), a space between each; 0, or -1 and msg. */
static int
join_args(char *buf, size_t len, char **tok, int n, char *msg, size_t msglen)
{
	size_t off = 0, l;
	int i;

	for (i = 0; i < n; i++) {
		l = strlen(tok[i]);
		if (off + (i > 0) + l >= len) {
			config_seterr(msg, msglen, "%s ...: too long (at most "
			    "%zu bytes)", tok[0], len - 1);
			return -1;
		}
		if (i > 0)
			buf[off++] = ' ';
		memcpy(buf + off, tok[i], l);
		off += l;
	}
	buf[off] = '\0';
	return 0;
}

/* One statement already split in tokens; msg receives the error without position. */
static int
parse_statement(struct config *conf, char **tok, int ntok, char *msg,
    size_t msglen)
{
	const char *kw = tok[0];
	struct conf_map m;
	char err[128];
	int nargs = ntok - 1;

	if (strcmp(kw, "map") == 0) {
		if (nargs != 1)
			goto nargs;
		if (config_parse_map(tok[1], &m, err, sizeof(err)) == -1) {
			config_seterr(msg, msglen, "map %s: %s", tok[1], err);
			return -1;
		}
		return config_add_map(conf, &m, msg, msglen);
	} else if (strcmp(kw, "lease") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_parse_lease(tok[1], &conf->lease, msg, msglen);
	} else if (strcmp(kw, "any-port") == 0) {
		if (nargs != 1)
			goto nargs;
		if (parse_yesno(tok[1], &conf->any_port) == -1) {
			config_seterr(msg, msglen, "any-port: expected yes or no, "
			    "not \"%s\"", tok[1]);
			return -1;
		}
		return 0;
	} else if (strcmp(kw, "protocol") == 0) {
		if (nargs != 1)
			goto nargs;
		if (config_parse_gwproto(tok[1], &conf->gwproto) == -1) {
			config_seterr(msg, msglen, "protocol: expected auto, pcp, natpmp "
			    "or upnp, not \"%s\"", tok[1]);
			return -1;
		}
		return 0;
	} else if (strcmp(kw, "interface") == 0) {
		if (nargs != 1)
			goto nargs;
		if (!config_valid_ifname(tok[1])) {
			config_seterr(msg, msglen, "interface: bad name \"%s\"",
			    tok[1]);
			return -1;
		}
		free(conf->interface);
		if ((conf->interface = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "gateway") == 0) {
		if (nargs != 1)
			goto nargs;
		if (inet_pton(AF_INET, tok[1], &conf->gateway) != 1) {
			config_seterr(msg, msglen, "gateway: \"%s\" is not an IPv4 "
			    "address", tok[1]);
			return -1;
		}
		conf->have_gateway = 1;
		return 0;
	} else if (strcmp(kw, "state-file") == 0) {
		if (nargs != 1)
			goto nargs;
		if (tok[1][0] != '/') {
			config_seterr(msg, msglen, "state-file: \"%s\" is not an "
			    "absolute path", tok[1]);
			return -1;
		}
		free(conf->state_file);
		if ((conf->state_file = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "status-file") == 0) {
		if (nargs != 1)
			goto nargs;
		if (tok[1][0] != '/' && strcmp(tok[1], "none") != 0) {
			config_seterr(msg, msglen, "status-file: \"%s\" is not "
			    "an absolute path or none", tok[1]);
			return -1;
		}
		free(conf->status_file);
		if ((conf->status_file = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "user") == 0) {
		if (nargs != 1)
			goto nargs;
		if (!config_valid_user(tok[1])) {
			config_seterr(msg, msglen, "user: \"%s\" is not a user "
			    "name", tok[1]);
			return -1;
		}
		free(conf->user);
		if ((conf->user = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "control") == 0) {
		if (nargs != 1)
			goto nargs;
		if (!config_valid_control(tok[1])) {
			config_seterr(msg, msglen, "control: \"%s\" is not "
			    "none or an absolute path of at most %zu bytes",
			    tok[1], CONF_CONTROL_MAX);
			return -1;
		}
		free(conf->control);
		if ((conf->control = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "stun-server") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_add_stun(conf, tok[1], msg, msglen);
	} else if (strcmp(kw, "echo-url") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_add_echo(conf, tok[1], msg, msglen);
	} else if (strcmp(kw, "rendezvous") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_add_rdv(conf, tok[1], msg, msglen);
	} else if (strcmp(kw, "network") == 0) {
		if (nargs != 1)
			goto nargs;
		if (!config_valid_network(tok[1])) {
			config_seterr(msg, msglen, "network: \"%s\" is not a "
			    "network name (1-%d of A-Z, a-z, 0-9, ., _, -)",
			    tok[1], CONF_NETWORK_MAX);
			return -1;
		}
		free(conf->network);
		if ((conf->network = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "key-file") == 0) {
		if (nargs != 1)
			goto nargs;
		if (tok[1][0] != '/') {
			config_seterr(msg, msglen, "key-file: \"%s\" is not an "
			    "absolute path", tok[1]);
			return -1;
		}
		free(conf->key_file);
		if ((conf->key_file = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "fallback-idle") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_parse_fbidle(tok[1], conf, msg, msglen);
	} else if (strcmp(kw, "punch-map") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_parse_punchmap(tok[1], conf, msg, msglen);
	} else if (strcmp(kw, "cipher") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_parse_cipher(tok[1], conf, msg, msglen);
	} else if (strcmp(kw, "relay") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_parse_relay(tok[1], conf, msg, msglen);
	} else if (strcmp(kw, "fallback-mode") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_parse_fbmode(tok[1], conf, msg, msglen);
	} else if (strcmp(kw, "fallback-ports") == 0) {
		if (nargs != 1)
			goto nargs;
		return config_parse_fbports(tok[1], conf, msg, msglen);
	} else if (strcmp(kw, "expose") == 0 || strcmp(kw, "connect") == 0) {
		struct conf_expose e;
		struct conf_connect c;
		char arg[CONF_SERVICE_ARG_MAX];

		if (nargs < 1 || nargs > 2) {
			config_seterr(msg, msglen, "%s: expected one argument "
			    "and at most one word after it (relay=POLICY), got "
			    "%d", kw, nargs);
			return -1;
		}
		if (join_args(arg, sizeof(arg), tok + 1, nargs, msg,
		    msglen) == -1)
			return -1;
		if (kw[0] == 'e')
			return config_parse_expose(arg, &e, msg, msglen) ==
			    -1 ? -1 : config_add_expose(conf, &e, msg, msglen);
		return config_parse_connect(arg, &c, msg, msglen) == -1 ? -1 :
		    config_add_connect(conf, &c, msg, msglen);
	} else if (strcmp(kw, "node") == 0) {
		if (nargs != 1)
			goto nargs;
		if (!config_valid_node(tok[1])) {
			config_seterr(msg, msglen, "node: \"%s\" is not a node "
			    "name (1-%d of a-z, 0-9, - in dot-separated labels)",
			    tok[1], CONF_NODE_MAX);
			return -1;
		}
		free(conf->node);
		if ((conf->node = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "hook") == 0 || strcmp(kw, "peer-hook") == 0) {
		char **hp = kw[0] == 'h' ? &conf->hook : &conf->peer_hook;

		if (nargs != 1)
			goto nargs;
		if (tok[1][0] != '/') {
			config_seterr(msg, msglen, "%s: \"%s\" is not an "
			    "absolute path", kw, tok[1]);
			return -1;
		}
		free(*hp);
		if ((*hp = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	} else if (strcmp(kw, "pidfile") == 0) {
		if (nargs != 1)
			goto nargs;
		if (tok[1][0] != '/') {
			config_seterr(msg, msglen, "pidfile: \"%s\" is not an absolute "
			    "path", tok[1]);
			return -1;
		}
		free(conf->pidfile);
		if ((conf->pidfile = strdup(tok[1])) == NULL)
			fatal("strdup");
		return 0;
	}
	config_seterr(msg, msglen, "unknown keyword \"%s\"", kw);
	return -1;
nargs:
	config_seterr(msg, msglen, "%s: expected one argument, got %d", kw, nargs);
	return -1;
}

int
config_parse_buf(struct config *conf, const char *name, const char *buf,
    size_t len, char *err, size_t errlen)
{
	char line[CONF_MAX_LINE + 1], msg[256];
	char *tok[CONF_MAX_TOKENS], *p, *hash;
	size_t pos = 0, ll;
	int lineno = 0, ntok;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);

		ll = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		lineno++;
		if (ll > CONF_MAX_LINE) {
			config_seterr(err, errlen, "%s:%d: line too long", name,
			    lineno);
			return -1;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = '\0';
		pos += ll + (nl != NULL);
		if (memchr(line, '\0', ll) != NULL) {
			config_seterr(err, errlen, "%s:%d: NUL byte in line", name,
			    lineno);
			return -1;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		ntok = 0;
		for (p = line; *p != '\0';) {
			while (*p == ' ' || *p == '\t' || *p == '\r')
				p++;
			if (*p == '\0')
				break;
			if (!isprint((unsigned char)*p)) {
				config_seterr(err, errlen, "%s:%d: unexpected byte "
				    "0x%02x", name, lineno, (unsigned char)*p);
				return -1;
			}
			if (ntok == CONF_MAX_TOKENS) {
				config_seterr(err, errlen, "%s:%d: too many words",
				    name, lineno);
				return -1;
			}
			tok[ntok++] = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			    *p != '\r') {
				if (!isprint((unsigned char)*p)) {
					config_seterr(err, errlen, "%s:%d: unexpected "
					    "byte 0x%02x", name, lineno,
					    (unsigned char)*p);
					return -1;
				}
				p++;
			}
			if (*p != '\0')
				*p++ = '\0';
		}
		if (ntok == 0)
			continue;
		if (parse_statement(conf, tok, ntok, msg, sizeof(msg)) == -1) {
			config_seterr(err, errlen, "%s:%d: %s", name, lineno, msg);
			return -1;
		}
	}
	return 0;
}

int
config_load(struct config *conf, const char *path, int must_exist, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		config_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_MAX_FILE) {
		config_seterr(err, errlen, "%s: not a regular file of at most %d bytes",
		    path, CONF_MAX_FILE);
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("malloc");
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = config_parse_buf(conf, path, buf, got, err, errlen);
	free(buf);
	return r;
}

int
config_parse_fbports(const char *arg, struct config *conf, char *err,
    size_t errlen)
{
	const char *s = arg;
	unsigned long a, b;
	char *end;

	a = strtoul(s, &end, 10);
	if (end == s || *end != '-' || !isdigit((unsigned char)s[0]))
		goto bad;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end != '\0' || !isdigit((unsigned char)s[0]))
		goto bad;
	if (a < 1024 || b > 65535 || a > b) {
		config_seterr(err, errlen, "fallback-ports %lu-%lu: must be "
		    "FIRST-LAST within 1024-65535, FIRST not above LAST", a, b);
		return -1;
	}
	conf->fb_port_first = (uint16_t)a;
	conf->fb_port_last = (uint16_t)b;
	return 0;
bad:
	config_seterr(err, errlen, "fallback-ports \"%s\": not FIRST-LAST "
	    "(e.g. 40000-59999)", arg);
	return -1;
}

int
config_parse_fbidle(const char *s, struct config *conf, char *err,
    size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 ||
	    v < 1 || v > CONF_FBIDLE_MAX) {
		config_seterr(err, errlen, "fallback-idle \"%s\": not 1 to %d "
		    "seconds", s, CONF_FBIDLE_MAX);
		return -1;
	}
	conf->fb_idle = (uint32_t)v;
	return 0;
}

int
config_parse_punchmap(const char *s, struct config *conf, char *err,
    size_t errlen)
{
	int yes;

	if (parse_yesno(s, &yes) == -1) {
		config_seterr(err, errlen, "punch-map: expected yes or no, "
		    "not \"%s\"", s);
		return -1;
	}
	conf->punch_nomap = !yes;
	return 0;
}

int
config_parse_cipher(const char *s, struct config *conf, char *err,
    size_t errlen)
{
	if (strcmp(s, "auto") == 0)
		conf->punch_cipher = CONF_CIPHER_AUTO;
	else if (strcmp(s, "chacha20-poly1305") == 0)
		conf->punch_cipher = CONF_CIPHER_CHACHA;
	else {
		config_seterr(err, errlen, "cipher: expected auto or "
		    "chacha20-poly1305, not \"%s\"", s);
		return -1;
	}
	return 0;
}

int
config_parse_relay(const char *s, struct config *conf, char *err,
    size_t errlen)
{
	if (strcmp(s, "fallback") == 0)
		conf->relay_policy = CONF_RELAY_FALLBACK;
	else if (strcmp(s, "never") == 0)
		conf->relay_policy = CONF_RELAY_NEVER;
	else if (strcmp(s, "always") == 0)
		conf->relay_policy = CONF_RELAY_ALWAYS;
	else {
		config_seterr(err, errlen, "relay: expected fallback, never or "
		    "always, not \"%s\"", s);
		return -1;
	}
	return 0;
}

int
config_parse_fbmode(const char *s, struct config *conf, char *err,
    size_t errlen)
{
	if (strcmp(s, "forward") == 0)
		conf->fb_mode = CONF_FBMODE_FORWARD;
	else if (strcmp(s, "bind") == 0)
		conf->fb_mode = CONF_FBMODE_BIND;
	else {
		config_seterr(err, errlen, "fallback-mode \"%s\": forward or "
		    "bind", s);
		return -1;
	}
	return 0;
}

int
config_merge(struct config *conf, const struct config *over, int mask,
    char *err, size_t errlen)
{
	size_t i;

	if (mask & CONF_SET_LEASE)
		conf->lease = over->lease;
	if (mask & CONF_SET_ANYPORT)
		conf->any_port = over->any_port;
	if (mask & CONF_SET_GWPROTO)
		conf->gwproto = over->gwproto;
	if (mask & CONF_SET_INTERFACE) {
		free(conf->interface);
		if ((conf->interface = strdup(over->interface)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_GATEWAY) {
		conf->have_gateway = 1;
		conf->gateway = over->gateway;
	}
	if (mask & CONF_SET_STATEFILE) {
		free(conf->state_file);
		if ((conf->state_file = strdup(over->state_file)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_STATUSFILE) {
		free(conf->status_file);
		if ((conf->status_file = strdup(over->status_file)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_CONTROL) {
		free(conf->control);
		if ((conf->control = strdup(over->control)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_PIDFILE) {
		free(conf->pidfile);
		if ((conf->pidfile = strdup(over->pidfile)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_HOOK) {
		free(conf->hook);
		if ((conf->hook = strdup(over->hook)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_PEERHOOK) {
		free(conf->peer_hook);
		if ((conf->peer_hook = strdup(over->peer_hook)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_USER) {
		free(conf->user);
		if ((conf->user = strdup(over->user)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_STUN) {
		memcpy(conf->stun, over->stun, sizeof(conf->stun));
		conf->nstun = over->nstun;
	}
	if (mask & CONF_SET_RDV) {
		memcpy(conf->rdv, over->rdv, sizeof(conf->rdv));
		conf->nrdv = over->nrdv;
	}
	if (mask & CONF_SET_NETWORK) {
		free(conf->network);
		if ((conf->network = strdup(over->network)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_KEYFILE) {
		free(conf->key_file);
		if ((conf->key_file = strdup(over->key_file)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_NODE) {
		free(conf->node);
		if ((conf->node = strdup(over->node)) == NULL)
			fatal("strdup");
	}
	if (mask & CONF_SET_EXPOSE) {
		conf->nexpose = 0;
		for (i = 0; i < over->nexpose; i++)
			if (config_add_expose(conf, &over->expose[i], err,
			    errlen) == -1)
				return -1;
	}
	if (mask & CONF_SET_CONNECT) {
		conf->nconnect = 0;
		for (i = 0; i < over->nconnect; i++)
			if (config_add_connect(conf, &over->connect[i], err,
			    errlen) == -1)
				return -1;
	}
	if (mask & CONF_SET_FBMODE)
		conf->fb_mode = over->fb_mode;
	if (mask & CONF_SET_PUNCHMAP)
		conf->punch_nomap = over->punch_nomap;
	if (mask & CONF_SET_CIPHER)
		conf->punch_cipher = over->punch_cipher;
	if (mask & CONF_SET_RELAY)
		conf->relay_policy = over->relay_policy;
	if (mask & CONF_SET_FBIDLE)
		conf->fb_idle = over->fb_idle;
	if (mask & CONF_SET_FBPORTS) {
		conf->fb_port_first = over->fb_port_first;
		conf->fb_port_last = over->fb_port_last;
	}
	if (mask & CONF_SET_ECHO) {
		for (i = 0; i < conf->necho; i++)
			free(conf->echo[i]);
		conf->necho = 0;
		for (i = 0; i < over->necho; i++)
			if (config_add_echo(conf, over->echo[i], err,
			    errlen) == -1)
				return -1;
	}
	for (i = 0; i < over->nmaps; i++)
		if (config_add_map(conf, &over->maps[i], err, errlen) == -1)
			return -1;
	return 0;
}

void
config_print(FILE *fp, const struct config *conf)
{
	char buf[64];
	size_t i;

	if (conf->interface != NULL)
		fprintf(fp, "interface %s\n", conf->interface);
	if (conf->have_gateway)
		fprintf(fp, "gateway %s\n", inet_ntop(AF_INET, &conf->gateway,
		    buf, sizeof(buf)));
	fprintf(fp, "lease %u\n", conf->lease);
	fprintf(fp, "any-port %s\n", conf->any_port ? "yes" : "no");
	fprintf(fp, "protocol %s\n", config_gwproto_name(conf->gwproto));
	if (conf->pidfile != NULL)
		fprintf(fp, "pidfile %s\n", conf->pidfile);
	if (conf->state_file != NULL)
		fprintf(fp, "state-file %s\n", conf->state_file);
	if (conf->status_file != NULL)
		fprintf(fp, "status-file %s\n", conf->status_file);
	if (conf->user != NULL)
		fprintf(fp, "user %s\n", conf->user);
	if (conf->control != NULL)
		fprintf(fp, "control %s\n", conf->control);
	for (i = 0; i < conf->nstun; i++) {
		char srv[300];

		config_format_server(&conf->stun[i], srv, sizeof(srv));
		fprintf(fp, "stun-server %s\n", srv);
	}
	for (i = 0; i < conf->necho; i++)
		fprintf(fp, "echo-url %s\n", conf->echo[i]);
	for (i = 0; i < conf->nrdv; i++) {
		char srv[300];

		config_format_server(&conf->rdv[i], srv, sizeof(srv));
		fprintf(fp, "rendezvous %s\n", srv);
	}
	if (conf->network != NULL)
		fprintf(fp, "network %s\n", conf->network);
	if (conf->key_file != NULL)
		fprintf(fp, "key-file %s\n", conf->key_file);
	if (conf->node != NULL)
		fprintf(fp, "node %s\n", conf->node);
	if (conf->fb_mode == CONF_FBMODE_BIND)
		fprintf(fp, "fallback-mode bind\n");
	if (conf->fb_idle != 0)
		fprintf(fp, "fallback-idle %u\n", conf->fb_idle);
	if (conf->fb_port_first != 0)
		fprintf(fp, "fallback-ports %u-%u\n", conf->fb_port_first,
		    conf->fb_port_last);
	if (conf->punch_nomap)
		fprintf(fp, "punch-map no\n");
	if (conf->punch_cipher == CONF_CIPHER_CHACHA)
		fprintf(fp, "cipher chacha20-poly1305\n");
	if (conf->relay_policy != CONF_RELAY_FALLBACK)
		fprintf(fp, "relay %s\n", conf->relay_policy ==
		    CONF_RELAY_NEVER ? "never" : "always");
	for (i = 0; i < conf->nexpose; i++) {
		char e[256];

		config_format_expose(&conf->expose[i], e, sizeof(e));
		fprintf(fp, "expose %s\n", e);
	}
	for (i = 0; i < conf->nconnect; i++) {
		char c[256];

		config_format_connect(&conf->connect[i], c, sizeof(c));
		fprintf(fp, "connect %s\n", c);
	}
	if (conf->hook != NULL)
		fprintf(fp, "hook %s\n", conf->hook);
	if (conf->peer_hook != NULL)
		fprintf(fp, "peer-hook %s\n", conf->peer_hook);
	for (i = 0; i < conf->nmaps; i++) {
		config_format_map(&conf->maps[i], buf, sizeof(buf));
		fprintf(fp, "map %s\n", buf);
	}
}
