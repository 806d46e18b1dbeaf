/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous: command line, configuration file, daemon life cycle and signals. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "rdv-networks.h"
#include "rdv-server.h"

#define EXIT_USAGE	64
#define EXIT_CONFIG	78

#ifndef RDV_CONF_FILE
#define RDV_CONF_FILE	"/etc/natmapd-rendezvous.conf"
#endif
#ifndef RDV_PID_FILE
#define RDV_PID_FILE	"/run/natmapd-rendezvous.pid"
#endif
#define RDV_CONF_MAX	65536	/* a bigger configuration file is refused */

enum {
	OPT_LISTEN = 256,
	OPT_ALTADDR,
	OPT_ALTPORT,
	OPT_NETWORKS,
};

static const struct option longopts[] = {
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "config",		required_argument,	NULL, 'c' },
	{ "check-config",	no_argument,		NULL, 'n' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "listen",		required_argument,	NULL, OPT_LISTEN },
	{ "alt-address",	required_argument,	NULL, OPT_ALTADDR },
	{ "alt-port",		required_argument,	NULL, OPT_ALTPORT },
	{ "networks",		required_argument,	NULL, OPT_NETWORKS },
	{ NULL,			0,			NULL, 0 },
};

/* The settings, from the file then the command line; SIGHUP builds a new one whole. */
struct rdv_conf {
	int			have_listen, have_alt, have_alt_port;
	struct sockaddr_storage	listen;
	struct sockaddr_storage	alt;
	uint16_t		alt_port;
	char			networks[4096];	/* "" for none */
};

static struct rdv_conf	cli, running;
static const char	*conf_file = RDV_CONF_FILE;
static int		conf_explicit;
static char		*pidfile_written;
static int		sigpipe[2] = { -1, -1 };
static struct loop_fd	sig_lfd;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: natmapd-rendezvous [-fhnVv] [-c file] --listen ADDR[:PORT]\n"
	    "                          [--alt-address ADDR] [--alt-port PORT]"
	    " [--networks FILE]\n"
	    "  -f, --foreground      stay in the foreground, log to stderr\n"
	    "  -c, --config FILE     configuration file (default %s)\n"
	    "  -n, --check-config    check the configuration and exit (-nv "
	    "prints it)\n"
	    "  -v, --verbose         log more (repeatable)\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "      --listen A[:P]    address and port to serve on (default "
	    "port %d)\n"
	    "      --alt-address A   a second address: RFC 5780 on both\n"
	    "      --alt-port PORT   the second port (default: the port + 1)\n"
	    "      --networks FILE   NAME SERVER-KEY lines\n",
	    RDV_CONF_FILE, RDV_PORT_DEFAULT);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "natmapd-rendezvous: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(EXIT_USAGE);
}

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
parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN + 16];
	const char *colon;
	char *end;
	uint16_t port = RDV_PORT_DEFAULT;

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
static int
conf_set(struct rdv_conf *conf, const char *kw, const char *val, char *err,
    size_t errlen)
{
	if (strcmp(kw, "listen") == 0) {
		if (parse_listen(val, &conf->listen) == -1) {
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
	} else if (strcmp(kw, "networks") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(conf->networks)) {
			snprintf(err, errlen, "networks %s: not an absolute "
			    "path", val);
			return -1;
		}
		snprintf(conf->networks, sizeof(conf->networks), "%s", val);
	} else {
		snprintf(err, errlen, "unknown keyword %s", kw);
		return -1;
	}
	return 0;
}

/* The file: "keyword value" lines, # comments; -1 with "file:line: message". */
static int
conf_parse_buf(struct rdv_conf *conf, const char *name, const char *buf,
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
		if (conf_set(conf, kw, val, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			return -1;
		}
	}
	return 0;
}

static int
conf_load(struct rdv_conf *conf, char *err, size_t errlen)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	if ((fd = open(conf_file, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !conf_explicit)
			return 0;
		snprintf(err, errlen, "%s: %s", conf_file, strerror(errno));
		return -1;
	}
	if ((buf = malloc(RDV_CONF_MAX + 1)) == NULL)
		fatal("malloc");
	while (len <= RDV_CONF_MAX) {
		r = read(fd, buf + len, RDV_CONF_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > RDV_CONF_MAX) {
		snprintf(err, errlen, "%s: longer than %d bytes", conf_file,
		    RDV_CONF_MAX);
		rc = -1;
	} else
		rc = conf_parse_buf(conf, conf_file, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* File, then command line, then the checks across settings; -1 with err. */
static int
conf_build(struct rdv_conf *conf, char *err, size_t errlen)
{
	uint16_t port;

	memset(conf, 0, sizeof(*conf));
	if (conf_load(conf, err, errlen) == -1)
		return -1;
	if (cli.have_listen) {
		conf->listen = cli.listen;
		conf->have_listen = 1;
	}
	if (cli.have_alt) {
		conf->alt = cli.alt;
		conf->have_alt = 1;
	}
	if (cli.have_alt_port) {
		conf->alt_port = cli.alt_port;
		conf->have_alt_port = 1;
	}
	if (cli.networks[0] != '\0')
		memcpy(conf->networks, cli.networks, sizeof(conf->networks));
	if (!conf->have_listen) {
		snprintf(err, errlen, "nothing to listen on: give --listen or "
		    "a listen line in %s", conf_file);
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

static void
conf_print(FILE *fp, const struct rdv_conf *conf)
{
	char a[64];

	addr_text(&conf->listen, 1, a, sizeof(a));
	fprintf(fp, "listen %s\n", a);
	if (conf->have_alt) {
		addr_text(&conf->alt, 0, a, sizeof(a));
		fprintf(fp, "alt-address %s\n", a);
		fprintf(fp, "alt-port %u\n", conf->alt_port);
	}
	if (conf->networks[0] != '\0')
		fprintf(fp, "networks %s\n", conf->networks);
}

static void
parse_args(int argc, char *argv[], int *foreground, int *check, int *verbose)
{
	char err[512];
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":fc:nvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			*foreground = 1;
			break;
		case 'c':
			conf_file = optarg;
			conf_explicit = 1;
			break;
		case 'n':
			*check = 1;
			break;
		case 'v':
			(*verbose)++;
			break;
		case 'V':
			printf("%s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_LISTEN:
			if (conf_set(&cli, "listen", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_ALTADDR:
			if (conf_set(&cli, "alt-address", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_ALTPORT:
			if (conf_set(&cli, "alt-port", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_NETWORKS:
			if (conf_set(&cli, "networks", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case ':':
			usage_error("%s: needs an argument", argv[optind - 1]);
		default:
			usage_error("%s: unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("%s: unexpected argument", argv[optind]);
}

/* The networks file of conf, or none; -1 with err. */
static int
networks_load(const struct rdv_conf *conf, struct rdv_networks *nets,
    char *err, size_t errlen)
{
	nets->v = NULL;
	nets->n = 0;
	if (conf->networks[0] == '\0')
		return 0;
	return rdv_networks_load(nets, conf->networks, err, errlen);
}

static void
reload(void)
{
	struct rdv_conf conf;
	struct rdv_networks nets;
	char err[1024];

	if (conf_build(&conf, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; configuration not changed", err);
		return;
	}
	if (networks_load(&conf, &nets, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; keeping the %zu network%s loaded", err,
		    rdv_server_network_count(),
		    rdv_server_network_count() == 1 ? "" : "s");
		return;
	}
	if (memcmp(&conf.listen, &running.listen, sizeof(conf.listen)) != 0 ||
	    conf.have_alt != running.have_alt ||
	    memcmp(&conf.alt, &running.alt, sizeof(conf.alt)) != 0 ||
	    conf.alt_port != running.alt_port)
		log_warnx("SIGHUP: new addresses or ports take effect when "
		    "natmapd-rendezvous restarts");
	memcpy(running.networks, conf.networks, sizeof(running.networks));
	rdv_server_set_networks(&nets);
	log_info("SIGHUP: %zu network%s", rdv_server_network_count(),
	    rdv_server_network_count() == 1 ? "" : "s");
}

static void
signal_handler(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved_errno = errno;

	if (write(sigpipe[1], &c, 1) == -1) {
		/* the pipe is full: a signal is pending anyway */
	}
	errno = saved_errno;
}

static void
signal_read(struct loop_fd *lf, int ev)
{
	unsigned char c;

	(void)ev;
	while (read(lf->fd, &c, 1) == 1) {
		switch (c) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: exiting", c);
			loop_stop();
			break;
		case SIGHUP:
			reload();
			break;
		}
	}
}

static void
setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = signal_handler;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	loop_fd_add(&sig_lfd, sigpipe[0], LOOP_READ, signal_read);
}

static void
write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("%s", path);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n)
		log_warn("%s", path);
	close(fd);
	if ((pidfile_written = strdup(path)) == NULL)
		fatal("strdup");
}

static void
fork_child(void)
{
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		return;
	default:
		_exit(0);
	}
}

static void
detach(void)
{
	int fd;

	fork_child();
	if (setsid() == -1)
		fatal("setsid");
	fork_child();
	if (chdir("/") == -1)
		fatal("chdir");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

int
main(int argc, char *argv[])
{
	struct rdv_server_conf sc;
	struct rdv_server_stats st;
	struct rdv_networks nets;
	char err[1024];
	int foreground = 0, check = 0, verbose = 0;

	parse_args(argc, argv, &foreground, &check, &verbose);
	if (conf_build(&running, err, sizeof(err)) == -1 ||
	    networks_load(&running, &nets, err, sizeof(err)) == -1) {
		fprintf(stderr, "natmapd-rendezvous: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		if (verbose)
			conf_print(stdout, &running);
		rdv_networks_free(&nets);
		return 0;
	}
	memset(&sc, 0, sizeof(sc));
	sc.listen = running.listen;
	if (running.have_alt) {
		sc.alt = running.alt;
		sc.alt_port = running.alt_port;
	}
	log_init(1, verbose);
	if (rdv_server_start(&sc, err, sizeof(err)) == -1) {
		fprintf(stderr, "natmapd-rendezvous: %s\n", err);
		rdv_networks_free(&nets);
		return 1;
	}
	if (!foreground)
		detach();
	log_init(foreground, verbose);
	setup_signals();
	if (!foreground)
		write_pidfile(RDV_PID_FILE);
	rdv_server_set_networks(&nets);
	log_info("natmapd-rendezvous %s starting: %zu network%s%s",
	    PACKAGE_VERSION, rdv_server_network_count(),
	    rdv_server_network_count() == 1 ? "" : "s",
	    running.have_alt ? ", RFC 5780" : "");
	loop_run();
	rdv_server_get_stats(&st);
	log_info("natmapd-rendezvous stopped: %llu answers, %llu errors, "
	    "%llu dropped, %llu TCP clients refused",
	    (unsigned long long)st.answers, (unsigned long long)st.errors,
	    (unsigned long long)st.dropped,
	    (unsigned long long)st.tcp_refused);
	rdv_server_stop();
	if (pidfile_written != NULL) {
		if (unlink(pidfile_written) == -1 && errno != ENOENT)
			log_warn("cannot remove %s", pidfile_written);
		free(pidfile_written);
	}
	return 0;
}
