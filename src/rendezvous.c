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

#include "crypto.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "rdv-conf.h"
#include "rdv-networks.h"
#include "rdv-server.h"
#include "rdv-turn.h"
#include "sdnotify.h"
#include "stun.h"

#define EXIT_USAGE	64
#define EXIT_CONFIG	78

#ifndef RDV_CONF_FILE
#define RDV_CONF_FILE	"/etc/natmapd-rendezvous.conf"
#endif
#ifndef RDV_PID_FILE
#define RDV_PID_FILE	"/run/natmapd-rendezvous.pid"
#endif

enum {
	OPT_LISTEN = 256,
	OPT_ALTADDR,
	OPT_ALTPORT,
	OPT_NETWORKS,
	OPT_MAXNODES,
	OPT_TURN,
	OPT_TURNSECRET,
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
	{ "max-nodes",		required_argument,	NULL, OPT_MAXNODES },
	{ "turn",		required_argument,	NULL, OPT_TURN },
	{ "turn-secret-file",	required_argument,	NULL, OPT_TURNSECRET },
	{ NULL,			0,			NULL, 0 },
};

static struct rdv_conf	cli, running;
static const char	*conf_file = RDV_CONF_FILE;
static int		conf_explicit;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: natmapd-rendezvous [-fhnVv] [-c file] --listen ADDR[:PORT]\n"
	    "                          [--alt-address ADDR] [--alt-port PORT]"
	    " [--networks FILE]\n"
	    "                          [--max-nodes N] [--turn ADDR[:PORT]"
	    " --turn-secret-file FILE]\n"
	    "  -f, --foreground      stay in the foreground, log to stderr\n"
	    "  -c, --config FILE     configuration file (default %s)\n"
	    "  -n, --check-config    check the configuration and exit (-nv "
	    "prints it)\n"
	    "  -v, --verbose         log more (repeatable)\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "      --listen A[:P]    address and port to serve on (default "
	    "port %d)\n"
	    "      --alt-address A   a second address: RFC 5780 on both, "
	    "REACH's dial-back\n"
	    "      --alt-port PORT   the second port (default: the port + 1)\n"
	    "      --networks FILE   NAME SERVER-KEY lines\n"
	    "      --max-nodes N     registrations held at most (default "
	    "%d)\n"
	    "      --turn A[:P]      the TURN server (coturn) to hand nodes "
	    "credentials for\n"
	    "                        (default port %d)\n"
	    "      --turn-secret-file FILE  coturn's static-auth-secret\n",
	    RDV_CONF_FILE, RDV_PORT_DEFAULT, RDV_REG_NODES_DEFAULT,
	    RDV_TURN_PORT);
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
		rc = rdv_conf_parse(conf, conf_file, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* File, then command line, then the checks across settings; -1 with err. */
static int
conf_build(struct rdv_conf *conf, char *err, size_t errlen)
{
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
	if (cli.have_max_nodes) {
		conf->max_nodes = cli.max_nodes;
		conf->have_max_nodes = 1;
	}
	if (cli.networks[0] != '\0')
		memcpy(conf->networks, cli.networks, sizeof(conf->networks));
	if (cli.have_turn) {
		conf->turn = cli.turn;
		conf->have_turn = 1;
	}
	if (cli.turn_secret_file[0] != '\0')
		memcpy(conf->turn_secret_file, cli.turn_secret_file,
		    sizeof(conf->turn_secret_file));
	return rdv_conf_check(conf, conf_file, err, errlen);
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
			if (rdv_conf_set(&cli, "listen", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_ALTADDR:
			if (rdv_conf_set(&cli, "alt-address", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_ALTPORT:
			if (rdv_conf_set(&cli, "alt-port", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_MAXNODES:
			if (rdv_conf_set(&cli, "max-nodes", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_NETWORKS:
			if (rdv_conf_set(&cli, "networks", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_TURN:
			if (rdv_conf_set(&cli, "turn", optarg, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			break;
		case OPT_TURNSECRET:
			if (rdv_conf_set(&cli, "turn-secret-file", optarg, err,
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

/* The TURN secret file of conf, or none (*len 0); -1 with err (never the secret). */
static int
turn_load(const struct rdv_conf *conf, char secret[RDV_TURN_SECRET_MAX + 1],
    size_t *len, char *err, size_t errlen)
{
	*len = 0;
	memset(secret, 0, RDV_TURN_SECRET_MAX + 1);
	if (!conf->have_turn)
		return 0;
	return rdv_turn_secret_read(conf->turn_secret_file, secret, len, err,
	    errlen);
}

/* The server takes the TURN settings of conf; logged when they change. */
static void
turn_apply(const struct rdv_conf *conf, const char *secret, size_t len,
    int changed)
{
	char a[INET6_ADDRSTRLEN + 8];

	rdv_server_set_turn(conf->have_turn ? &conf->turn : NULL, secret, len);
	if (!changed)
		return;
	if (conf->have_turn)
		log_info("TURN credentials for %s (secret from %s)",
		    stun_addr_str(&conf->turn, a, sizeof(a)),
		    conf->turn_secret_file);
	else
		log_info("no TURN credentials");
}

/* The line a service manager shows: "2 networks, RFC 5780". */
static void
notify_status(void)
{
	char line[128];

	snprintf(line, sizeof(line), "%zu network%s%s",
	    rdv_server_network_count(),
	    rdv_server_network_count() == 1 ? "" : "s",
	    running.have_alt ? ", RFC 5780" : "");
	sdnotify_set_status(line);
}

static void
reload_conf(void)
{
	struct rdv_conf conf;
	struct rdv_networks nets;
	char err[1024], secret[RDV_TURN_SECRET_MAX + 1];
	size_t slen;
	int changed;

	if (conf_build(&conf, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; configuration not changed", err);
		return;
	}
	if (turn_load(&conf, secret, &slen, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; configuration not changed", err);
		return;
	}
	if (networks_load(&conf, &nets, err, sizeof(err)) == -1) {
		crypto_wipe(secret, sizeof(secret));
		log_warnx("SIGHUP: %s; keeping the %zu network%s loaded", err,
		    rdv_server_network_count(),
		    rdv_server_network_count() == 1 ? "" : "s");
		return;
	}
	changed = conf.have_turn != running.have_turn ||
	    memcmp(&conf.turn, &running.turn, sizeof(conf.turn)) != 0 ||
	    strcmp(conf.turn_secret_file, running.turn_secret_file) != 0;
	running.have_turn = conf.have_turn;
	running.turn = conf.turn;
	memcpy(running.turn_secret_file, conf.turn_secret_file,
	    sizeof(running.turn_secret_file));
	turn_apply(&conf, secret, slen, changed);
	crypto_wipe(secret, sizeof(secret));
	if (memcmp(&conf.listen, &running.listen, sizeof(conf.listen)) != 0 ||
	    conf.have_alt != running.have_alt ||
	    memcmp(&conf.alt, &running.alt, sizeof(conf.alt)) != 0 ||
	    conf.alt_port != running.alt_port ||
	    conf.have_max_nodes != running.have_max_nodes ||
	    conf.max_nodes != running.max_nodes)
		log_warnx("SIGHUP: new addresses, ports or max-nodes take "
		    "effect when natmapd-rendezvous restarts");
	memcpy(running.networks, conf.networks, sizeof(running.networks));
	rdv_server_set_networks(&nets);
	log_info("SIGHUP: %zu network%s", rdv_server_network_count(),
	    rdv_server_network_count() == 1 ? "" : "s");
}

/* SIGHUP: RELOADING=1 before, READY=1 after, whatever came of it. */
static void
reload(void)
{
	sdnotify_reloading();
	reload_conf();
	notify_status();
	sdnotify_reloaded();
}

/* SIGUSR1, and at exit: the counters on one line. */
static void
log_stats(const char *when)
{
	struct rdv_server_stats st;

	rdv_server_get_stats(&st);
	log_info("%s: registrations %llu registered %llu refused %llu "
	    "unknown-network %llu bad-mac %llu stale %llu replayed %llu "
	    "malformed %llu answers %llu errors %llu dropped %llu "
	    "tcp-refused %llu reach %llu reached %llu not-reached %llu "
	    "rate-limited %llu retransmits %llu signal %llu signalled %llu "
	    "signal-refused %llu turn-creds %llu", when,
	    (unsigned long long)st.registrations,
	    (unsigned long long)st.registered,
	    (unsigned long long)st.refused,
	    (unsigned long long)st.unknown_network,
	    (unsigned long long)st.bad_mac,
	    (unsigned long long)st.stale,
	    (unsigned long long)st.replayed,
	    (unsigned long long)st.malformed,
	    (unsigned long long)st.answers, (unsigned long long)st.errors,
	    (unsigned long long)st.dropped,
	    (unsigned long long)st.tcp_refused,
	    (unsigned long long)st.reach,
	    (unsigned long long)st.reached,
	    (unsigned long long)st.not_reached,
	    (unsigned long long)st.rate_limited,
	    (unsigned long long)st.retransmits,
	    (unsigned long long)st.signal,
	    (unsigned long long)st.signalled,
	    (unsigned long long)st.signal_refused,
	    (unsigned long long)st.turn_creds);
}

/* What a signal does, from the loop. */
static void
signal_cb(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("signal %d: exiting", sig);
		sdnotify_stopping();
		loop_stop();
		break;
	case SIGHUP:
		reload();
		break;
	case SIGUSR1:
		log_stats("stats");
		break;
	}
}

int
main(int argc, char *argv[])
{
	struct rdv_server_conf sc;
	struct rdv_networks nets;
	char err[1024], secret[RDV_TURN_SECRET_MAX + 1];
	size_t slen = 0;
	int foreground = 0, check = 0, verbose = 0;

	parse_args(argc, argv, &foreground, &check, &verbose);
	if (crypto_load(err, sizeof(err)) == -1 ||
	    conf_build(&running, err, sizeof(err)) == -1 ||
	    turn_load(&running, secret, &slen, err, sizeof(err)) == -1 ||
	    networks_load(&running, &nets, err, sizeof(err)) == -1) {
		crypto_wipe(secret, sizeof(secret));
		fprintf(stderr, "natmapd-rendezvous: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		crypto_wipe(secret, sizeof(secret));
		if (verbose)
			rdv_conf_print(stdout, &running);
		rdv_networks_free(&nets);
		return 0;
	}
	memset(&sc, 0, sizeof(sc));
	sc.listen = running.listen;
	sc.max_nodes = running.have_max_nodes ? running.max_nodes : 0;
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
		daemon_detach();
	log_init(foreground, verbose);
	daemon_signals(signal_cb);
	if (!foreground)
		daemon_pidfile_write(RDV_PID_FILE);
	rdv_server_set_networks(&nets);
	turn_apply(&running, secret, slen, running.have_turn);
	crypto_wipe(secret, sizeof(secret));
	log_info("natmapd-rendezvous %s starting: %zu network%s%s",
	    PACKAGE_VERSION, rdv_server_network_count(),
	    rdv_server_network_count() == 1 ? "" : "s",
	    running.have_alt ? ", RFC 5780" : "");
	/* The sockets are bound: a service manager may start what needs us. */
	sdnotify_init_server("");
	notify_status();
	sdnotify_ready();
	loop_run();
	log_stats("natmapd-rendezvous stopped");
	sdnotify_free();
	rdv_server_stop();
	daemon_pidfile_remove();
	return 0;
}
