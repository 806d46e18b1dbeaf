/* SPDX-License-Identifier: ISC */
/* natmapctl: ask a running natmapd for its status, or tell it what to do, over its control socket. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"
#include "control-msg.h"
#include "log.h"

#ifndef NATMAPD_CONTROL_SOCKET
#define NATMAPD_CONTROL_SOCKET	"/run/natmapd/control"
#endif

#define EXIT_REFUSED	1	/* natmapd said no */
#define EXIT_USAGE	2
#define EXIT_CONNECT	3	/* no natmapd to talk to, or no answer */
#define EXIT_TIMEOUT	4	/* wait: not reachable in time */

#define ANSWER_TIMEOUT_S 30	/* and the wait's own timeout on top */

static void __attribute__((noreturn))
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: natmapctl [-h] [-s socket] command [argument]\n"
	    "commands:\n"
	    "  status [--json]             mappings, gateway and counters\n"
	    "  check                       probe the gateway and check the "
	    "mappings now\n"
	    "  reload                      read the configuration again\n"
	    "  add SPEC                    map PORT[-LAST][:EXTERNAL]/tcp|udp "
	    "until removed\n"
	    "  remove SPEC                 delete a mapping added with add\n"
	    "  wait SPEC [--timeout S]     until SPEC is reachable; print its "
	    "address:port\n"
	    "  expose NAME=ADDRESS:PORT/tcp|udp[@NODE,...] [relay=POLICY]\n"
	    "                              offer a service to the network's "
	    "nodes\n"
	    "  unexpose NAME               withdraw a service exposed with "
	    "expose\n"
	    "  connect NODE/NAME=[ADDRESS:]PORT[/tcp|udp] [relay=POLICY]\n"
	    "                              make NODE's service appear here\n"
	    "  disconnect NODE/NAME        undo a connect\n"
	    "the socket is %s unless -s names another\n",
	    NATMAPD_CONTROL_SOCKET);
	exit(fp == stdout ? 0 : EXIT_USAGE);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "natmapctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

/* What natmapd sent, made safe for a terminal. */
static const char *
safe(const char *s, char *buf, size_t len)
{
	return log_escape(buf, len, s, strlen(s));
}

/* ---- talking to natmapd ---- */

static int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die(EXIT_USAGE, "%s: longer than %zu bytes", path,
		    sizeof(sun.sun_path) - 1);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die(EXIT_CONNECT, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die(EXIT_CONNECT, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT || errno == ECONNREFUSED ?
		    " (is natmapd running?)" : "");
	return fd;
}

static void
ctl_send(int fd, const char *line, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, line, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die(EXIT_CONNECT, "send: %s", strerror(errno));
		line += n;
		len -= (size_t)n;
	}
}

/* The answer line, parsed; *ok its "ok".  Waits at most timeout_s seconds. */
static struct json_object *
ctl_answer(int fd, unsigned int timeout_s, int *ok)
{
	struct json_object *o;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts;
	char *buf, *nl = NULL, err[256];
	size_t len = 0;
	time_t deadline;
	ssize_t n;
	int r;

	if ((buf = malloc(CONTROL_MAX_ANSWER + 1)) == NULL)
		die(EXIT_CONNECT, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = ts.tv_sec + (time_t)timeout_s;
	while (nl == NULL) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec >= deadline)
			die(EXIT_CONNECT, "no answer from natmapd in %u s",
			    timeout_s);
		r = poll(&pfd, 1, (int)(deadline - ts.tv_sec) * 1000);
		if (r == -1 && errno != EINTR)
			die(EXIT_CONNECT, "poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		n = read(fd, buf + len, CONTROL_MAX_ANSWER + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die(EXIT_CONNECT, "read: %s", strerror(errno));
		if (n == 0)
			die(EXIT_CONNECT, "natmapd closed the connection "
			    "without an answer");
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl == NULL && len > CONTROL_MAX_ANSWER)
			die(EXIT_CONNECT, "answer longer than %d bytes",
			    CONTROL_MAX_ANSWER);
	}
	if (control_parse_answer(buf, (size_t)(nl - buf), &o, ok, err,
	    sizeof(err)) == -1)
		die(EXIT_CONNECT, "%s", err);
	free(buf);
	return o;
}

/* ---- reading the answer ---- */

/* A member of o: NULL when missing or null. */
static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *
get_string(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

/* An integer member; -1 when missing or null. */
static int64_t
get_int(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : -1;
}

/* Seconds for a person, in 6 columns at most: "42s", "12m05s", "5h02m", "3d04h". */
static const char *
duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02lld", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lld", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return buf;
}

/* How long ago a Unix time was; -1 if not known. */
static int64_t
age(struct json_object *o, const char *key, time_t now)
{
	int64_t t = get_int(o, key);

	return t < 0 || t > (int64_t)now ? -1 : (int64_t)now - t;
}

/* "gateway 192.168.1.1 (pcp, 192.168.1.1:5351) for 2h05", then the external address. */
static void
print_gateway(struct json_object *gw, time_t now)
{
	const char *addr = get_string(gw, "address");
	const char *method = get_string(gw, "method");
	const char *where = get_string(gw, "where");
	const char *ext = get_string(gw, "external_address");
	struct json_object *found = get(gw, "found");
	char e1[64], e2[64], e3[256], e4[64], d[32];

	if (found == NULL || !json_object_get_boolean(found)) {
		struct json_object *searched = get(gw, "searched");

		printf("gateway: %s\n", searched != NULL &&
		    !json_object_get_boolean(searched) ? "searching" :
		    "none found");
		return;
	}
	printf("gateway %s (%s", addr != NULL ? safe(addr, e1, sizeof(e1)) :
	    "?", method != NULL ? safe(method, e2, sizeof(e2)) : "?");
	if (where != NULL)
		printf(", %s", safe(where, e3, sizeof(e3)));
	printf(")");
	if (age(gw, "since", now) >= 0)
		printf(" for %s", duration(age(gw, "since", now), d,
		    sizeof(d)));
	printf("\nexternal address %s\n", ext != NULL ? safe(ext, e4,
	    sizeof(e4)) : "-");
}

/* Under a mapping a gateway made: "  reach ok, checked 2m05 ago (not reached: wrong nonce)". */
static void
print_reach(struct json_object *m, time_t now)
{
	const char *reach = get_string(m, "reach");
	const char *detail = get_string(m, "reach_detail");
	char e1[64], e2[128], d[32];

	if (reach == NULL)
		return;
	printf("  reach %s, checked %s ago", safe(reach, e1, sizeof(e1)),
	    duration(age(m, "reach_checked", now), d, sizeof(d)));
	if (detail != NULL)
		printf(" (%s)", safe(detail, e2, sizeof(e2)));
	printf("\n");
}

static void
print_mapping(struct json_object *m, time_t now)
{
	const char *spec = get_string(m, "spec");
	const char *method = get_string(m, "method");
	const char *state = get_string(m, "state");
	const char *ext = get_string(m, "external_address");
	const char *error = get_string(m, "error");
	const char *owner;
	int64_t port = get_int(m, "external_port");
	char e1[128], e2[64], e3[64], e4[256], e5[512], pub[160], d1[32],
	    d2[32], d3[32];

	if (ext != NULL && port > 0)
		snprintf(pub, sizeof(pub), "%s:%lld", safe(ext, e4,
		    sizeof(e4)), (long long)port);
	else
		snprintf(pub, sizeof(pub), "-");
	printf("%-15s %-6s %-8s %-21s %5s %5s %5s  %s\n",
	    spec != NULL ? safe(spec, e1, sizeof(e1)) : "?",
	    method != NULL ? safe(method, e2, sizeof(e2)) : "-",
	    state != NULL ? safe(state, e3, sizeof(e3)) : "?", pub,
	    duration(get_int(m, "lease"), d1, sizeof(d1)),
	    duration(get_int(m, "renew_in"), d2, sizeof(d2)),
	    duration(age(m, "since", now), d3, sizeof(d3)),
	    error != NULL ? safe(error, e5, sizeof(e5)) : "-");
	if ((owner = get_string(m, "owner")) != NULL)
		printf("  natmapd's own, for %s\n", safe(owner, e2,
		    sizeof(e2)));
	print_reach(m, now);
}

/* "rendezvous 203.0.113.30:3480 registered, expires in 1m10, rtt 3 ms", or why not. */
static void
print_rendezvous(struct json_object *r)
{
	const char *server = get_string(r, "server");
	const char *error = get_string(r, "error");
	const char *transport = get_string(r, "transport");
	struct json_object *reg = get(r, "registered");
	int64_t rtt = get_int(r, "rtt_ms");
	char e1[320], e2[256], d[32];

	printf("rendezvous %s ", server != NULL ? safe(server, e1, sizeof(e1)) :
	    "?");
	if (reg != NULL && json_object_get_boolean(reg))
		printf("registered, expires in %s",
		    duration(get_int(r, "expires_in"), d, sizeof(d)));
	else
		printf("not registered");
	if (rtt >= 0)
		printf(", rtt %lld ms", (long long)rtt);
	if (transport != NULL && strcmp(transport, "tcp") == 0)
		printf(", over tcp");
	if (error != NULL)
		printf(", error: %s", safe(error, e2, sizeof(e2)));
	printf("\n");
}

/*
 * "peer alpha up: direct-v4 to 203.0.113.2:40000, rtt 1 ms; tcp carrier to
 * 203.0.113.2:41000 direct, rtt 1 ms, 2 streams; in 12345 B, out 6789 B,
 * dropped 0, aes-256-gcm", or why not (the cipher once a session has keys).  ", 1 on the relayed carrier" after the streams
 * while a carrier through the relay keeps streams beside a direct one.
 */
static void
print_peer(struct json_object *p)
{
	const char *node = get_string(p, "node"), *state = get_string(p, "state");
	const char *path = get_string(p, "path"), *ep = get_string(p, "endpoint");
	const char *car = get_string(p, "carrier"), *err = get_string(p, "error");
	const char *via = get_string(p, "via"), *relay = get_string(p, "relay");
	const char *cvia = get_string(p, "carrier_via");
	const char *cipher = get_string(p, "cipher");
	const char *beside = get_string(p, "relay_beside");
	const char *cbeside = get_string(p, "carrier_beside");
	int64_t rtt = get_int(p, "rtt_ms"), crtt = get_int(p, "carrier_rtt_ms");
	char e1[128], e2[64], e3[64], e4[128], e5[256], e6[64];

	printf("peer %s %s", node != NULL ? safe(node, e1, sizeof(e1)) : "?",
	    state != NULL ? safe(state, e6, sizeof(e6)) : "?");
	if (path != NULL) {
		printf(": %s to %s", safe(path, e2, sizeof(e2)),
		    ep != NULL ? safe(ep, e3, sizeof(e3)) : "?");
		if (via != NULL)
			printf(" via %s", safe(via, e1, sizeof(e1)));
		if (relay != NULL)
			printf(" through TURN server %s",
			    safe(relay, e1, sizeof(e1)));
		if (rtt >= 0)
			printf(", rtt %lld ms", (long long)rtt);
		if (beside != NULL)
			printf(", relayed path beside it to %s",
			    safe(beside, e3, sizeof(e3)));
	} else
		printf(": no direct path yet");
	if (car != NULL) {
		printf("; tcp carrier to %s", safe(car, e4, sizeof(e4)));
		if (cvia != NULL)
			printf(" %s", strcmp(cvia, "relay") == 0 ?
			    "through the relay" : "direct");
		if (crtt >= 0)
			printf(", rtt %lld ms", (long long)crtt);
		printf(", %lld stream%s", (long long)get_int(p, "streams"),
		    get_int(p, "streams") == 1 ? "" : "s");
		if (get_int(p, "relay_carrier_streams") > 0)
			printf(", %lld on the relayed carrier",
			    (long long)get_int(p, "relay_carrier_streams"));
		if (cbeside != NULL)
			printf(", tcp carrier beside it through the relay to %s",
			    safe(cbeside, e3, sizeof(e3)));
	}
	printf("; in %lld B, out %lld B", (long long)get_int(p, "bytes_in"),
	    (long long)get_int(p, "bytes_out"));
	if (get_int(p, "dropped") >= 0)
		printf(", dropped %lld", (long long)get_int(p, "dropped"));
	if (cipher != NULL)
		printf(", %s", safe(cipher, e2, sizeof(e2)));
	if (err != NULL)
		printf("; %s", safe(err, e5, sizeof(e5)));
	printf("\n");
}

/* "expose web=192.168.1.10:80/tcp", "connect alpha/web=127.0.0.1:8080 (run time)". */
static void
print_service(struct json_object *v)
{
	const char *kind = get_string(v, "kind"), *spec = get_string(v, "spec");
	struct json_object *rt = get(v, "runtime");
	char e1[64], e2[4 * 640 + 1];

	const char *why = get_string(v, "relay_refused");
	long long ns = get_int(v, "relay_refused_streams");
	long long nd = get_int(v, "relay_refused_datagrams");
	char e3[4 * 160 + 1];

	printf("%s %s%s", kind != NULL ? safe(kind, e1, sizeof(e1)) : "?",
	    spec != NULL ? safe(spec, e2, sizeof(e2)) : "?",
	    rt != NULL && json_object_get_boolean(rt) ? " (run time)" : "");
	/*
	 * relay=never: "; kept off the relay: 2 streams, 20 datagrams (why)";
	 * relay=always: "; kept off the direct path: ..."
	 */
	if (ns > 0 || nd > 0)
		printf("; kept off the %s: %lld stream%s, %lld datagram%s%s%s%s",
		    spec != NULL && strstr(spec, "relay=always") != NULL ?
		    "direct path" : "relay", ns > 0 ? ns : 0, ns == 1 ? "" : "s", nd > 0 ? nd : 0,
		    nd == 1 ? "" : "s", why != NULL && *why != '\0' ? " (" : "",
		    why != NULL ? safe(why, e3, sizeof(e3)) : "",
		    why != NULL && *why != '\0' ? ")" : "");
	printf("\n");
}

/* natmapctl status: a gateway line, a mapping a line, a line per rendezvous server and per peer, the counters. */
static void
print_status(struct json_object *st)
{
	static const char *const counters[][2] = {
		{ "requests", "requests" }, { "answers", "answers" },
		{ "failures", "failures" }, { "renewals", "renewals" },
		{ "address_changes", "address changes" },
	};
	struct json_object *maps = get(st, "mappings"), *cnt, *rdv;
	time_t now = time(NULL);
	size_t i, n;

	print_gateway(get(st, "gateway"), now);
	n = json_object_is_type(maps, json_type_array) ?
	    json_object_array_length(maps) : 0;
	if (n == 0)
		printf("no mappings\n");
	else
		printf("%-15s %-6s %-8s %-21s %5s %5s %5s  %s\n", "SPEC",
		    "METHOD", "STATE", "PUBLIC", "LEASE", "RENEW", "SINCE",
		    "ERROR");
	for (i = 0; i < n; i++)
		print_mapping(json_object_array_get_idx(maps, i), now);
	rdv = get(st, "rendezvous");
	n = json_object_is_type(rdv, json_type_array) ?
	    json_object_array_length(rdv) : 0;
	for (i = 0; i < n; i++)
		print_rendezvous(json_object_array_get_idx(rdv, i));
	rdv = get(st, "peers");
	n = json_object_is_type(rdv, json_type_array) ?
	    json_object_array_length(rdv) : 0;
	for (i = 0; i < n; i++)
		print_peer(json_object_array_get_idx(rdv, i));
	rdv = get(st, "services");
	n = json_object_is_type(rdv, json_type_array) ?
	    json_object_array_length(rdv) : 0;
	for (i = 0; i < n; i++)
		print_service(json_object_array_get_idx(rdv, i));
	if ((cnt = get(st, "counters")) != NULL) {
		for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
			printf("%s%s %lld", i == 0 ? "" : ", ", counters[i][1],
			    (long long)get_int(cnt, counters[i][0]));
		printf("\n");
	}
}

/* ---- the command line ---- */

struct args {
	int		 cmd;		/* enum control_cmd */
	const char	*spec;
	uint32_t	 timeout;	/* wait; UINT32_MAX: not given */
	int		 json;
};

static void
parse_timeout(const char *s, struct args *a)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    v > CONTROL_WAIT_MAX)
		die(EXIT_USAGE, "--timeout %s: seconds, 0 to %d", s,
		    CONTROL_WAIT_MAX);
	a->timeout = (uint32_t)v;
}

static void
parse_command(int argc, char *argv[], struct args *a)
{
	static char spec[CONTROL_MAX_SVC_SPEC + 1];
	struct control_req req;
	char err[CONTROL_MAX_SVC_SPEC + 256];
	int i;

	memset(a, 0, sizeof(*a));
	a->timeout = UINT32_MAX;
	if (argc < 1)
		usage(stderr);
	if ((a->cmd = control_cmd_parse(argv[0])) == -1)
		die(EXIT_USAGE, "%s: unknown command (status, check, reload, "
		    "add, remove, wait, expose, unexpose, connect, disconnect)",
		    argv[0]);
	for (i = 1; i < argc; i++) {
		if (a->cmd == CONTROL_STATUS && strcmp(argv[i], "--json") == 0)
			a->json = 1;
		else if (a->cmd == CONTROL_WAIT &&
		    strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			parse_timeout(argv[++i], a);
		else if (a->cmd == CONTROL_WAIT &&
		    strncmp(argv[i], "--timeout=", 10) == 0)
			parse_timeout(argv[i] + 10, a);
		else if (argv[i][0] != '-' && a->spec == NULL &&
		    control_cmd_has_spec(a->cmd))
			a->spec = argv[i];
		else if (a->spec != NULL && (a->cmd == CONTROL_EXPOSE ||
		    a->cmd == CONTROL_CONNECT) &&
		    strncmp(argv[i], "relay=", 6) == 0) {
			/* the service's word: "SPEC relay=never" */
			if (snprintf(spec, sizeof(spec), "%s %s", a->spec,
			    argv[i]) >= (int)sizeof(spec))
				die(EXIT_USAGE, "%s %.64s...: too long",
				    argv[0], a->spec);
			a->spec = spec;
		} else
			die(EXIT_USAGE, "%s %s: unexpected argument", argv[0],
			    argv[i]);
	}
	if (!control_cmd_has_spec(a->cmd))
		return;
	if (a->spec == NULL)
		die(EXIT_USAGE, "%s: %s", argv[0], a->cmd == CONTROL_EXPOSE ?
		    "which service? (NAME=ADDRESS:PORT/tcp|udp[@NODE,...])" :
		    a->cmd == CONTROL_UNEXPOSE ? "which service? (NAME)" :
		    a->cmd == CONTROL_CONNECT ? "which service? "
		    "(NODE/NAME=[ADDRESS:]PORT[/tcp|udp])" :
		    a->cmd == CONTROL_DISCONNECT ? "which service? (NODE/NAME)" :
		    "which mapping? (PORT[-LAST][:EXTERNAL]/tcp|udp)");
	memset(&req, 0, sizeof(req));
	if (strlen(a->spec) > control_spec_max(a->cmd))
		die(EXIT_USAGE, "%s %.64s...: too long", argv[0], a->spec);
	if (control_parse_spec(a->cmd, a->spec, &req, err, sizeof(err)) == -1) {
		if (a->cmd == CONTROL_ADD || a->cmd == CONTROL_REMOVE ||
		    a->cmd == CONTROL_WAIT)
			die(EXIT_USAGE, "%s %s: %s", argv[0], a->spec, err);
		die(EXIT_USAGE, "%s", err);
	}
}

int
main(int argc, char *argv[])
{
	struct json_object *answer, *v;
	struct args a;
	const char *path = NATMAPD_CONTROL_SOCKET, *addr;
	char *line, esc[1024];
	unsigned int wait_s;
	size_t len;
	int ch, fd, ok, rc;

	while ((ch = getopt(argc, argv, "+hs:")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
		case 's':
			path = optarg;
			break;
		default:
			usage(stderr);
		}
	}
	parse_command(argc - optind, argv + optind, &a);
	fd = ctl_connect(path);
	if ((line = control_request(a.cmd, a.spec, a.timeout, &len)) == NULL)
		die(EXIT_CONNECT, "out of memory");
	ctl_send(fd, line, len);
	free(line);
	wait_s = a.cmd != CONTROL_WAIT ? 0 : a.timeout != UINT32_MAX ?
	    a.timeout : CONTROL_WAIT_MAX;
	answer = ctl_answer(fd, ANSWER_TIMEOUT_S + wait_s, &ok);
	close(fd);
	if (!ok) {
		const char *code = get_string(answer, "code");

		fprintf(stderr, "natmapctl: %s\n",
		    safe(get_string(answer, "error"), esc, sizeof(esc)));
		rc = code != NULL && strcmp(code, CONTROL_E_TIMEOUT) == 0 ?
		    EXIT_TIMEOUT : EXIT_REFUSED;
		json_object_put(answer);
		return rc;
	}
	switch (a.cmd) {
	case CONTROL_STATUS:
		if ((v = get(answer, "status")) == NULL)
			die(EXIT_CONNECT, "an answer without the status");
		if (a.json)
			printf("%s\n", json_object_to_json_string_ext(v,
			    JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			print_status(v);
		break;
	case CONTROL_WAIT:
		v = get(answer, "mapping");
		if ((addr = get_string(v, "external_address")) == NULL ||
		    get_int(v, "external_port") <= 0)
			die(EXIT_CONNECT, "an answer without the endpoint");
		printf("%s:%lld\n", safe(addr, esc, sizeof(esc)),
		    (long long)get_int(v, "external_port"));
		break;
	}
	json_object_put(answer);
	if (fflush(stdout) == EOF || ferror(stdout))
		die(EXIT_REFUSED, "stdout: %s", strerror(errno));
	return 0;
}
