/* SPDX-License-Identifier: ISC */
/* natmapd: command line, configuration, daemon life cycle and signals. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addrclass.h"
#include "conf.h"
#include "control.h"
#include "crypto.h"
#include "daemon.h"
#include "driver.h"
#include "fallback.h"
#include "gateway.h"
#include "gwcheck.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "mapping.h"
#include "status.h"
#include "priv.h"
#include "probe.h"
#include "punch.h"
#include "rdv-client.h"
#include "sdnotify.h"
#include "upnp.h"

#define EXIT_USAGE	64
#define EXIT_CONFIG	78

#ifndef NATMAPD_CONF_FILE
#define NATMAPD_CONF_FILE	"/etc/natmapd.conf"
#endif
#ifndef NATMAPD_PID_FILE
#define NATMAPD_PID_FILE	"/run/natmapd.pid"
#endif
#ifndef NATMAPD_STATE_FILE
#define NATMAPD_STATE_FILE	"/var/lib/natmapd/state"
#endif
#ifndef NATMAPD_CONTROL_SOCKET
#define NATMAPD_CONTROL_SOCKET	"/run/natmapd/control"
#endif
#ifndef NATMAPD_STATUS_FILE
#define NATMAPD_STATUS_FILE	"/run/natmapd/status.json"
#endif

enum {
	OPT_LEASE = 256,
	OPT_INTERFACE,
	OPT_GATEWAY,
	OPT_PIDFILE,
	OPT_ANYPORT,
	OPT_PROTOCOL,
	OPT_STATEFILE,
	OPT_STATUSFILE,
	OPT_PROBE,
	OPT_JSON,
	OPT_STUNSERVER,
	OPT_ECHOURL,
	OPT_LIFETIME,
	OPT_HOOK,
	OPT_PEERHOOK,
	OPT_USER,
	OPT_CONTROL,
	OPT_KEYGEN,
	OPT_SERVERKEY,
	OPT_RENDEZVOUS,
	OPT_NETWORK,
	OPT_KEYFILE,
	OPT_NODE,
	OPT_FBPORTS,
	OPT_FBMODE,
	OPT_FBIDLE,
	OPT_EXPOSE,
	OPT_CONNECT,
	OPT_PUNCHMAP,
	OPT_CIPHER,
	OPT_RELAY,
};

static const struct option longopts[] = {
	{ "map",		required_argument,	NULL, 'm' },
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "config",		required_argument,	NULL, 'c' },
	{ "check-config",	no_argument,		NULL, 'n' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "lease",		required_argument,	NULL, OPT_LEASE },
	{ "interface",		required_argument,	NULL, OPT_INTERFACE },
	{ "gateway",		required_argument,	NULL, OPT_GATEWAY },
	{ "pidfile",		required_argument,	NULL, OPT_PIDFILE },
	{ "any-port",		no_argument,		NULL, OPT_ANYPORT },
	{ "protocol",		required_argument,	NULL, OPT_PROTOCOL },
	{ "state-file",		required_argument,	NULL, OPT_STATEFILE },
	{ "status-file",	required_argument,	NULL, OPT_STATUSFILE },
	{ "probe",		no_argument,		NULL, OPT_PROBE },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "stun-server",	required_argument,	NULL, OPT_STUNSERVER },
	{ "echo-url",		required_argument,	NULL, OPT_ECHOURL },
	{ "mapping-lifetime",	required_argument,	NULL, OPT_LIFETIME },
	{ "hook",		required_argument,	NULL, OPT_HOOK },
	{ "peer-hook",		required_argument,	NULL, OPT_PEERHOOK },
	{ "user",		required_argument,	NULL, OPT_USER },
	{ "control",		required_argument,	NULL, OPT_CONTROL },
	{ "keygen",		no_argument,		NULL, OPT_KEYGEN },
	{ "server-key",		required_argument,	NULL, OPT_SERVERKEY },
	{ "rendezvous",		required_argument,	NULL, OPT_RENDEZVOUS },
	{ "network",		required_argument,	NULL, OPT_NETWORK },
	{ "key-file",		required_argument,	NULL, OPT_KEYFILE },
	{ "node",		required_argument,	NULL, OPT_NODE },
	{ "fallback-ports",	required_argument,	NULL, OPT_FBPORTS },
	{ "fallback-mode",	required_argument,	NULL, OPT_FBMODE },
	{ "fallback-idle",	required_argument,	NULL, OPT_FBIDLE },
	{ "expose",		required_argument,	NULL, OPT_EXPOSE },
	{ "connect",		required_argument,	NULL, OPT_CONNECT },
	{ "punch-map",		required_argument,	NULL, OPT_PUNCHMAP },
	{ "cipher",		required_argument,	NULL, OPT_CIPHER },
	{ "relay",		required_argument,	NULL, OPT_RELAY },
	{ NULL,			0,			NULL, 0 },
};

/* What the command line says, kept to rebuild the config on SIGHUP. */
static struct config	cli;
static int		cli_mask;
static const char	*conf_file = NATMAPD_CONF_FILE;
static int		conf_explicit;
static struct config	running;

static int		stopping;
/*
 * The rendezvous client and hole punching are set up the first time the
 * settings name a rendezvous (or natmapctl names a service), and called
 * from then on; a run that never does never calls them, so their code,
 * which the link puts last (Makefile.am), is never mapped.
 */
static int		rdv_used;
static int		rdv_started;	/* natmapd runs: what is configured starts */
static int		probe_mode;	/* --probe: report and exit */
static char		config_error[512];	/* why build_config() failed */
static struct probe_opts probe_opts;
static struct priv_user	user;		/* --user, looked up at start */
static int		keygen_mode;	/* --keygen: print a new key and exit */
static const char	*server_key_file;	/* --server-key FILE */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: natmapd [-fhnVv] [-c file] [-m spec]... [--lease seconds]\n"
	    "               [--interface if] [--gateway addr] [--pidfile file]"
	    " [--any-port]\n"
	    "               [--protocol auto|pcp|natpmp|upnp] [--state-file file]\n"
	    "               [--status-file file|none]\n"
	    "               [--stun-server host[:port]]... [--echo-url url]...\n"
	    "               [--hook path] [--user user] [--control path|none]\n"
	    "               [--rendezvous host[:port]]... [--network name]\n"
	    "               [--key-file file] [--node name]\n"
	    "               [--fallback-ports first-last] [--fallback-mode mode]\n"
	    "               [--fallback-idle seconds]\n"
	    "               [--expose name=addr:port/proto[@node,...]]...\n"
	    "               [--connect node/name=[addr:]port[/proto]]...\n"
	    "               [--punch-map yes|no] [--relay fallback|never|always]\n"
	    "               [--cipher auto|chacha20-poly1305]\n"
	    "               [--peer-hook path]\n"
	    "       natmapd --probe [--json] [--mapping-lifetime max] [-v] "
	    "[-c file]\n"
	    "               [--interface if] [--gateway addr]\n"
	    "               [--stun-server host[:port]]... [--echo-url url]...\n"
	    "       natmapd --keygen\n"
	    "       natmapd --server-key file\n"
	    "  -m, --map SPEC        map PORT[-LAST][:EXTERNAL]/tcp|udp "
	    "(repeatable)\n"
	    "  -f, --foreground      stay in the foreground, log to stderr\n"
	    "  -c, --config FILE     configuration file (default %s)\n"
	    "  -n, --check-config    check the configuration and exit "
	    "(-nv prints it)\n"
	    "  -v, --verbose         log more (repeatable)\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "      --lease SECONDS   lease to ask for, 0 or 60..604800 "
	    "(default %d)\n"
	    "      --interface IF    LAN interface to map from\n"
	    "      --gateway ADDR    gateway address (default: the default "
	    "route's)\n"
	    "      --pidfile FILE    pid file when detached (default %s)\n"
	    "      --any-port        take another external port if the one "
	    "asked for is held\n"
	    "      --protocol PROTO  auto (default: PCP, NAT-PMP, UPnP, probed "
	    "at once),\n"
	    "                        pcp, natpmp or upnp\n"
	    "      --state-file FILE what natmapd holds on the router "
	    "(default %s)\n"
	    "      --status-file FILE the status as JSON, kept up to date "
	    "(none: no file;\n"
	    "                        default %s)\n"
	    "      --control PATH    control socket for natmapctl, or none "
	    "(default %s)\n"
	    "      --stun-server S   STUN server HOST[:PORT] (repeatable; "
	    "replaces the file's)\n"
	    "      --echo-url URL    HTTP(S) echo service (repeatable; "
	    "replaces the file's)\n"
	    "      --rendezvous S    natmapd-rendezvous server HOST[:PORT] "
	    "(default port\n"
	    "                        3480; repeatable; replaces the file's)\n"
	    "      --network NAME    the rendezvous network to register in\n"
	    "      --key-file FILE   the network's key (natmapd --keygen), "
	    "mode 0600 or 0640\n"
	    "      --node NAME       this node's name (default: the host "
	    "name)\n"
	    "      --fallback-ports FIRST-LAST  local ports of the bindings kept "
	    "with STUN\n"
	    "                        when no gateway maps (default 40000-59999)\n"
	    "      --fallback-mode M forward (default): a TCP binding on a port "
	    "of its own,\n"
	    "                        forwarded; bind: on the service's port "
	    "(SO_REUSEPORT)\n"
	    "      --fallback-idle S forwarded TCP connections idle S seconds "
	    "are closed\n"
	    "                        (default 3600)\n"
	    "      --expose SPEC     offer NAME=ADDR:PORT/tcp|udp[@NODE,...] "
	    "to the network's\n"
	    "                        nodes (repeatable; replaces the file's)\n"
	    "      --connect SPEC    NODE/NAME=[ADDR:]PORT[/tcp|udp]: that "
	    "node's service here,\n"
	    "                        hole-punched (repeatable; replaces the "
	    "file's)\n"
	    "                        either SPEC may end in \" relay=never|"
	    "fallback|always\"\n"
	    "                        the service's own relay policy\n"
	    "      --punch-map Y|N   yes (default): the gateway maps the "
	    "punching ports too\n"
	    "      --cipher C        auto (default): AES-256-GCM when both "
	    "nodes' CPUs have\n"
	    "                        AES-NI, else ChaCha20-Poly1305; or "
	    "chacha20-poly1305\n"
	    "      --relay POLICY    fallback (default), never or always: "
	    "when a peer's\n"
	    "                        path goes through the TURN relay\n"
	    "      --hook PATH       program run when a mapping's public "
	    "endpoint changes\n"
	    "      --peer-hook PATH  program run when a peer's path changes "
	    "(direct, relay, none)\n"
	    "      --user USER       once started, drop root for USER and its "
	    "groups\n"
	    "      --probe           report on the network, the NAT and the "
	    "gateway, and exit\n"
	    "      --json            with --probe: print the report as JSON\n"
	    "      --mapping-lifetime MAX  with --probe: measure how long the "
	    "NAT keeps\n"
	    "                        an idle UDP mapping, up to MAX seconds "
	    "(slow)\n"
	    "      --keygen          print a new rendezvous network key and "
	    "exit\n"
	    "      --server-key FILE print what natmapd-rendezvous stores for "
	    "the key in FILE\n",
	    NATMAPD_CONF_FILE, CONF_LEASE_DEFAULT, NATMAPD_PID_FILE,
	    NATMAPD_STATE_FILE, NATMAPD_STATUS_FILE, NATMAPD_CONTROL_SOCKET);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "natmapd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(EXIT_USAGE);
}

/* getopt_long() said '?': name the word that was wrong. */
static void __attribute__((noreturn))
bad_option(const char *word)
{
	const struct option *o;
	size_t nl;

	if (strncmp(word, "--", 2) == 0) {
		nl = strcspn(word + 2, "=");
		for (o = longopts; o->name != NULL; o++)
			if (strlen(o->name) == nl &&
			    strncmp(o->name, word + 2, nl) == 0 &&
			    word[2 + nl] == '=' && o->has_arg == no_argument)
				usage_error("%s: --%s takes no value", word,
				    o->name);
		usage_error("%s: unknown option", word);
	}
	if (optopt > 0 && optopt < 128 && isprint(optopt))
		usage_error("-%c: unknown option", optopt);
	usage_error("%s: unknown option", word);
}

static void
parse_args(int argc, char *argv[], int *foreground, int *check, int *verbose)
{
	struct conf_map m;
	char others[64] = "";	/* the first option of another mode */
	char err[256];
	int ch, li = -1;

	config_init(&cli);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:fc:nvVh", longopts,
	    &li)) != -1) {
		if (ch != OPT_KEYGEN && ch != OPT_SERVERKEY && ch != ':' &&
		    ch != '?' && others[0] == '\0') {
			if (li >= 0)
				snprintf(others, sizeof(others), "--%s",
				    longopts[li].name);
			else
				snprintf(others, sizeof(others), "-%c", ch);
		}
		li = -1;
		switch (ch) {
		case 'm':
			if (config_parse_map(optarg, &m, err, sizeof(err)) == -1 ||
			    config_add_map(&cli, &m, err, sizeof(err)) == -1)
				usage_error("--map %s: %s", optarg, err);
			break;
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
		case OPT_LEASE:
			if (config_parse_lease(optarg, &cli.lease, err,
			    sizeof(err)) == -1)
				usage_error("--lease %s: %s", optarg, err);
			cli_mask |= CONF_SET_LEASE;
			break;
		case OPT_INTERFACE:
			if (!config_valid_ifname(optarg))
				usage_error("--interface %s: bad interface name",
				    optarg);
			cli.interface = optarg;
			cli_mask |= CONF_SET_INTERFACE;
			break;
		case OPT_GATEWAY:
			if (inet_pton(AF_INET, optarg, &cli.gateway) != 1)
				usage_error("--gateway %s: not an IPv4 address",
				    optarg);
			cli_mask |= CONF_SET_GATEWAY;
			break;
		case OPT_PIDFILE:
			if (optarg[0] != '/')
				usage_error("--pidfile %s: not an absolute path",
				    optarg);
			cli.pidfile = optarg;
			cli_mask |= CONF_SET_PIDFILE;
			break;
		case OPT_ANYPORT:
			cli.any_port = 1;
			cli_mask |= CONF_SET_ANYPORT;
			break;
		case OPT_HOOK:
			if (optarg[0] != '/')
				usage_error("--hook %s: not an absolute path",
				    optarg);
			cli.hook = optarg;
			cli_mask |= CONF_SET_HOOK;
			break;
		case OPT_PEERHOOK:
			if (optarg[0] != '/')
				usage_error("--peer-hook %s: not an absolute "
				    "path", optarg);
			cli.peer_hook = optarg;
			cli_mask |= CONF_SET_PEERHOOK;
			break;
		case OPT_STATEFILE:
			if (optarg[0] != '/')
				usage_error("--state-file %s: not an absolute "
				    "path", optarg);
			cli.state_file = optarg;
			cli_mask |= CONF_SET_STATEFILE;
			break;
		case OPT_STATUSFILE:
			if (optarg[0] != '/' && strcmp(optarg, "none") != 0)
				usage_error("--status-file %s: not an absolute "
				    "path or none", optarg);
			cli.status_file = optarg;
			cli_mask |= CONF_SET_STATUSFILE;
			break;
		case OPT_CONTROL:
			if (!config_valid_control(optarg))
				usage_error("--control %s: not none or an absolute "
				    "path of at most %zu bytes", optarg,
				    CONF_CONTROL_MAX);
			cli.control = optarg;
			cli_mask |= CONF_SET_CONTROL;
			break;
		case OPT_USER:
			if (!config_valid_user(optarg))
				usage_error("--user %s: not a user name", optarg);
			cli.user = optarg;
			cli_mask |= CONF_SET_USER;
			break;
		case OPT_PROTOCOL:
			if (config_parse_gwproto(optarg, &cli.gwproto) == -1)
				usage_error("--protocol %s: expected auto, pcp, "
				    "natpmp or upnp", optarg);
			cli_mask |= CONF_SET_GWPROTO;
			break;
		case OPT_PROBE:
			probe_mode = 1;
			break;
		case OPT_KEYGEN:
			keygen_mode = 1;
			break;
		case OPT_SERVERKEY:
			server_key_file = optarg;
			break;
		case OPT_JSON:
			probe_opts.json = 1;
			break;
		case OPT_LIFETIME: {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || v < 1 || v > PROBE_LIFETIME_MAX)
				usage_error("--mapping-lifetime %s: seconds, 1 to "
				    "%d", optarg, PROBE_LIFETIME_MAX);
			probe_opts.lifetime_max = (unsigned int)v;
			break;
		}
		case OPT_STUNSERVER:
			if (config_add_stun(&cli, optarg, err, sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_STUN;
			break;
		case OPT_RENDEZVOUS:
			if (config_add_rdv(&cli, optarg, err, sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_RDV;
			break;
		case OPT_NETWORK:
			if (!config_valid_network(optarg))
				usage_error("--network %s: not a network name "
				    "(1-%d of A-Z, a-z, 0-9, ., _, -)", optarg,
				    CONF_NETWORK_MAX);
			cli.network = optarg;
			cli_mask |= CONF_SET_NETWORK;
			break;
		case OPT_KEYFILE:
			if (optarg[0] != '/')
				usage_error("--key-file %s: not an absolute path",
				    optarg);
			cli.key_file = optarg;
			cli_mask |= CONF_SET_KEYFILE;
			break;
		case OPT_FBPORTS:
			if (config_parse_fbports(optarg, &cli, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_FBPORTS;
			break;
		case OPT_FBIDLE:
			if (config_parse_fbidle(optarg, &cli, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_FBIDLE;
			break;
		case OPT_FBMODE:
			if (config_parse_fbmode(optarg, &cli, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_FBMODE;
			break;
		case OPT_PUNCHMAP:
			if (config_parse_punchmap(optarg, &cli, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_PUNCHMAP;
			break;
		case OPT_CIPHER:
			if (config_parse_cipher(optarg, &cli, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_CIPHER;
			break;
		case OPT_RELAY:
			if (config_parse_relay(optarg, &cli, err,
			    sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_RELAY;
			break;
		case OPT_EXPOSE: {
			struct conf_expose e;

			if (config_parse_expose(optarg, &e, err,
			    sizeof(err)) == -1 ||
			    config_add_expose(&cli, &e, err, sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_EXPOSE;
			break;
		}
		case OPT_CONNECT: {
			struct conf_connect c;

			if (config_parse_connect(optarg, &c, err,
			    sizeof(err)) == -1 ||
			    config_add_connect(&cli, &c, err, sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_CONNECT;
			break;
		}
		case OPT_NODE:
			if (!config_valid_node(optarg))
				usage_error("--node %s: not a node name (1-%d of "
				    "a-z, 0-9, - in dot-separated labels)", optarg,
				    CONF_NODE_MAX);
			cli.node = optarg;
			cli_mask |= CONF_SET_NODE;
			break;
		case OPT_ECHOURL:
			if (config_add_echo(&cli, optarg, err, sizeof(err)) == -1)
				usage_error("--%s", err);
			cli_mask |= CONF_SET_ECHO;
			break;
		case ':':
			usage_error("%s: needs an argument", argv[optind - 1]);
		default:
			bad_option(argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("%s: unexpected argument", argv[optind]);
	/* the key commands are modes of their own */
	if (keygen_mode && server_key_file != NULL)
		usage_error("--keygen: not with --server-key");
	if ((keygen_mode || server_key_file != NULL) && others[0] != '\0')
		usage_error("%s: not with %s", others,
		    keygen_mode ? "--keygen" : "--server-key");
	if (probe_opts.json && !probe_mode)
		usage_error("--json: only with --probe");
	if (probe_opts.lifetime_max > 0 && !probe_mode)
		usage_error("--mapping-lifetime: only with --probe");
}

/* --keygen: a new network secret, alone on one line. */
static int
keygen(void)
{
	uint8_t key[CRYPTO_KEY_LEN];
	char text[CRYPTO_KEY_TEXT_LEN + 1], err[512];
	int r = 0;

	if (crypto_load(err, sizeof(err)) == -1) {
		fprintf(stderr, "natmapd: %s\n", err);
		return 1;
	}
	if (crypto_key_new(key) == -1) {
		fprintf(stderr, "natmapd: no random bytes: %s\n",
		    strerror(errno));
		return 1;
	}
	crypto_key_format(key, text);
	if (printf("%s\n", text) < 0 || fflush(stdout) == EOF) {
		fprintf(stderr, "natmapd: cannot write the key: %s\n",
		    strerror(errno));
		r = 1;
	}
	crypto_wipe(key, sizeof(key));
	crypto_wipe(text, sizeof(text));
	return r;
}

/*
 * --server-key FILE: what natmapd-rendezvous stores for the network
 * whose secret FILE holds.  The secret itself is never printed, not even
 * in an error.
 */
static int
server_key(const char *path)
{
	uint8_t secret[CRYPTO_KEY_LEN], sk[CRYPTO_KEY_LEN];
	char text[CRYPTO_KEY_TEXT_LEN + 1], err[512];
	int r = 0;

	if (crypto_key_read(path, secret, err, sizeof(err)) == -1) {
		fprintf(stderr, "natmapd: %s\n", err);
		return EXIT_CONFIG;
	}
	crypto_server_key(secret, sk);
	crypto_wipe(secret, sizeof(secret));
	crypto_key_format(sk, text);
	if (printf("%s\n", text) < 0 || fflush(stdout) == EOF) {
		fprintf(stderr, "natmapd: cannot write the server key: %s\n",
		    strerror(errno));
		r = 1;
	}
	crypto_wipe(sk, sizeof(sk));
	crypto_wipe(text, sizeof(text));
	return r;
}

/* File, then command line.  Returns 0, or an exit status with the message printed. */
static int
build_config(struct config *conf, int foreground_errors)
{
	char err[512];

	config_init(conf);
	if (config_load(conf, conf_file, conf_explicit, err,
	    sizeof(err)) == -1 ||
	    config_merge(conf, &cli, cli_mask, err, sizeof(err)) == -1 ||
	    (!probe_mode && config_rdv_check(conf, err, sizeof(err)) == -1)) {
		if (foreground_errors)
			fprintf(stderr, "natmapd: %s\n", err);
		else
			log_warnx("%s", err);
		snprintf(config_error, sizeof(config_error), "%s", err);
		config_free(conf);
		return EXIT_CONFIG;
	}
	/* with a rendezvous, services may come later: natmapctl expose, connect */
	if (conf->nmaps == 0 && conf->nexpose == 0 && conf->nconnect == 0 &&
	    conf->nrdv == 0 && !probe_mode) {
		snprintf(err, sizeof(err), "nothing to map: give --map or a "
		    "map line in %s", conf_file);
		if (foreground_errors)
			fprintf(stderr, "natmapd: %s\n", err);
		else
			log_warnx("%s", err);
		snprintf(config_error, sizeof(config_error), "%s", err);
		config_free(conf);
		return EXIT_CONFIG;
	}
	return 0;
}

static void
shutdown_done(void)
{
	/* The down hooks run: a few seconds more at most. */
	hook_drain(loop_stop);
}

static const char *
status_path(const struct config *c)
{
	return c->status_file != NULL ? c->status_file : NATMAPD_STATUS_FILE;
}

/* The status file, unless "none"; its directory is made if missing. */
static void
status_start(const char *path)
{
	char dir[4096], *slash;

	if (strcmp(path, "none") == 0) {
		status_file_set(NULL);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			log_warn("cannot create %s", dir);
	}
	status_file_set(path);
}

/* Both NULL, or the same string. */
static int
same_setting(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * A gateway maps the ports, or none does: the STUN-kept bindings follow.
 * A gateway behind another NAT (its external address is not public) maps
 * what the internet does not reach: the bindings are kept beside it.
 */
static void
on_gateway(const struct status_gateway *gw)
{
	if (stopping)
		return;
	if (gw->found && !status_gateway_behind_nat(gw))
		fallback_stop();
	else
		fallback_start();
}

/*
 * Routes, addresses or links changed: the NAT's bindings may have moved
 * (another WAN address, another NAT); the STUN-kept ones are asked at
 * once, not at their next keep-alive.
 */
static void
on_netchange(int bits)
{
	(void)bits;
	if (!stopping)
		fallback_recheck();
}

/* The rendezvous client and hole punching, once: see rdv_used. */
static void
rdv_setup(void)
{
	if (rdv_used)
		return;
	rdv_used = 1;
	rdv_client_init();
	punch_init();
}

/* Both started, once natmapd runs (again after a reload: a no-op if running). */
static void
rdv_start(void)
{
	if (!rdv_used || !rdv_started)
		return;
	/* The node registers with its rendezvous servers, if any. */
	rdv_client_start();
	/* Hole punching to and from other nodes, through the rendezvous. */
	punch_start();
}

static void
rdv_stop(void)
{
	if (!rdv_used)
		return;
	punch_stop();
	rdv_client_stop();
}

/* The settings to both, if they name a rendezvous or did before. */
static void
rdv_configure(const struct config *conf)
{
	if (conf->nrdv == 0 && !rdv_used)
		return;
	rdv_setup();
	rdv_client_configure(conf);
	punch_configure(conf);
	rdv_start();
}

/* SIGHUP, or natmapctl reload (why says which).  0, or -1: config_error says why. */
static int
reload(const char *why)
{
	struct config conf;
	int r = 0;

	sdnotify_reloading();
	if (build_config(&conf, 0) != 0) {
		log_warnx("%s: configuration not changed", why);
		r = -1;
		goto out;
	}
	if (conf.gwproto != running.gwproto) {
		log_warnx("%s: a new protocol setting takes effect when "
		    "natmapd restarts; still using %s", why,
		    config_gwproto_name(running.gwproto));
		conf.gwproto = running.gwproto;
	}
	if (!same_setting(conf.control, running.control))
		log_warnx("%s: a new control socket takes effect when natmapd "
		    "restarts", why);
	if (!same_setting(conf.user, running.user)) {
		log_warnx("%s: a new user setting takes effect when "
		    "natmapd restarts; still running as %s", why,
		    running.user != NULL ? running.user :
		    "the user it started as");
		free(conf.user);
		conf.user = NULL;
		if (running.user != NULL &&
		    (conf.user = strdup(running.user)) == NULL)
			fatal("strdup");
	}
	log_info("%s: configuration reloaded from %s", why, conf_file);
	hook_set_path(conf.hook);
	hook_set_peer_path(conf.peer_hook);
	if (strcmp(status_path(&conf), status_path(&running)) != 0) {
		status_file_remove();
		status_start(status_path(&conf));
	}
	mapping_reconfigure(&conf);
	fallback_configure(&conf);
	rdv_configure(&conf);
	gwcheck_configure(&conf);
	on_gateway(status_gateway());	/* the bindings again, if wanted */
	config_free(&running);
	running = conf;
out:
	sdnotify_reloaded();
	return r;
}

/* natmapctl check: what SIGUSR1 does. */
static int
control_check(const struct control_req *req, char *err, size_t errlen)
{
	(void)req;
	if (stopping) {
		snprintf(err, errlen, "natmapd is stopping");
		return -1;
	}
	mapping_check_now();
	gwcheck_check_now();
	return 0;
}

/* natmapctl reload: what SIGHUP does. */
static int
control_reload(const struct control_req *req, char *err, size_t errlen)
{
	(void)req;
	if (stopping) {
		snprintf(err, errlen, "natmapd is stopping");
		return -1;
	}
	if (reload("control socket") == -1) {
		snprintf(err, errlen, "configuration not changed: %s",
		    config_error);
		return -1;
	}
	return 0;
}

/* natmapctl add and remove: mappings at run time (the engine says no while stopping). */
static int
control_add(const struct control_req *req, char *err, size_t errlen)
{
	return mapping_runtime_add(&req->map, err, errlen);
}

static int
control_remove(const struct control_req *req, char *err, size_t errlen)
{
	return mapping_runtime_remove(&req->map, err, errlen);
}

/* natmapctl expose, unexpose, connect, disconnect: services at run time (punch.c). */
static int
control_service(const struct control_req *req, char *err, size_t errlen)
{
	if (stopping) {
		snprintf(err, errlen, "natmapd is stopping");
		return -1;
	}
	rdv_setup();
	switch (req->cmd) {
	case CONTROL_EXPOSE:
		return punch_runtime_expose(&req->expose, err, errlen);
	case CONTROL_UNEXPOSE:
		return punch_runtime_unexpose(req->service, err, errlen);
	case CONTROL_CONNECT:
		return punch_runtime_connect(&req->connect, err, errlen);
	case CONTROL_DISCONNECT:
		return punch_runtime_disconnect(req->node, req->service, err,
		    errlen);
	}
	snprintf(err, errlen, "not a service command");
	return -1;
}

/*
 * The control socket, opened before detaching so that a failure is seen;
 * with --user, its directory and the socket are the user's.  The default
 * one is a convenience: natmapd without root, or a second natmapd, runs
 * without it.  One that was asked for must be there.
 */
static int
control_start(void)
{
	static const struct control_ops ops = {
		.check = control_check,
		.reload = control_reload,
		.add = control_add,
		.remove = control_remove,
		.expose = control_service,
		.unexpose = control_service,
		.connect = control_service,
		.disconnect = control_service,
	};
	const char *path = running.control != NULL ? running.control :
	    NATMAPD_CONTROL_SOCKET;
	char err[512];

	if (strcmp(path, "none") == 0)
		return 0;
	if (running.user != NULL)
		priv_prepare_dir(&user, path, 0755);
	if (control_open(path, &ops, err, sizeof(err)) == -1) {
		if (running.control != NULL) {
			fprintf(stderr, "natmapd: %s\n", err);
			return -1;
		}
		log_warnx("%s; running without a control socket", err);
		return 0;
	}
	if (running.user != NULL && chown(path, user.uid, user.gid) == -1)
		log_warn("cannot give %s to user %s", path, user.name);
	return 0;
}

/* What a signal does, from the loop. */
static void
signal_cb(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (stopping) {
			log_warnx("second signal: exiting now");
			control_close();
			daemon_pidfile_unlink();
			_exit(1);
		}
		stopping = 1;
		log_info("signal %d: deleting mappings and exiting", sig);
		sdnotify_stopping();
		fallback_stop();
		gwcheck_stop();
		rdv_stop();
		mapping_shutdown(shutdown_done);
		break;
	case SIGHUP:
		if (!stopping)
			reload("SIGHUP");
		break;
	case SIGUSR1:
		if (!stopping) {
			mapping_check_now();
			gwcheck_check_now();
		}
		break;
	}
}

/* The drivers for --protocol, best first. */
static const struct mapping_driver *const *
drivers_for(int gwproto, size_t *n)
{
	static const struct mapping_driver *const all[] = {
		&pcp_driver, &natpmp_driver, &upnp_driver,
	};

	switch (gwproto) {
	case CONF_GW_PCP:
		*n = 1;
		return &all[0];
	case CONF_GW_NATPMP:
		*n = 1;
		return &all[1];
	case CONF_GW_UPNP:
		*n = 1;
		return &all[2];
	}
	*n = 3;
	return all;
}

int
main(int argc, char *argv[])
{
	const struct mapping_driver *const *drivers;
	size_t ndrivers;
	const char *state_file, *pidfile;
	char err[256];
	int foreground = 0, check = 0, verbose = 0, r;

	parse_args(argc, argv, &foreground, &check, &verbose);
	if (keygen_mode)
		return keygen();
	if (server_key_file != NULL)
		return server_key(server_key_file);
	if ((r = build_config(&running, 1)) != 0)
		return r;
	if (running.user != NULL && !probe_mode &&
	    priv_lookup(running.user, &user, err, sizeof(err)) == -1) {
		fprintf(stderr, "natmapd: %s\n", err);
		config_free(&running);
		return EXIT_CONFIG;
	}
	if (check) {
		if (verbose)
			config_print(stdout, &running);
		config_free(&running);
		return 0;
	}
	if (probe_mode) {
		/* In the foreground, logging only with -v, then a report. */
		log_init(1, verbose > 0 ? verbose : -1);
		signal(SIGPIPE, SIG_IGN);
		r = probe_run(&running, &probe_opts);
		config_free(&running);
		return r;
	}
	/* the table status is reported into; the control socket reads it */
	status_init();
	if (control_start() == -1) {
		config_free(&running);
		return 1;
	}
	if (!foreground)
		daemon_detach();
	log_init(foreground, verbose);
	daemon_signals(signal_cb);
	state_file = running.state_file != NULL ? running.state_file :
	    NATMAPD_STATE_FILE;
	pidfile = running.pidfile != NULL ? running.pidfile : NATMAPD_PID_FILE;
	if (running.user != NULL) {
		/* What the user writes, made or given to it while root. */
		priv_prepare_dir(&user, state_file, 0700);
		if (strcmp(status_path(&running), "none") != 0)
			priv_prepare_dir(&user, status_path(&running), 0755);
		if (!foreground)
			priv_prepare_dir(&user, pidfile, 0755);
	}
	if (!foreground)
		daemon_pidfile_write(pidfile);
	log_info("natmapd %s starting: %zu mapping%s", PACKAGE_VERSION,
	    running.nports, running.nports == 1 ? "" : "s");
	drivers = drivers_for(running.gwproto, &ndrivers);
	status_start(status_path(&running));
	status_reserve(running.nports);
	mapping_init(&running, drivers, ndrivers);
	fallback_configure(&running);
	rdv_configure(&running);
	/* the gateway's TCP mappings, checked from outside through the rendezvous */
	gwcheck_init();
	gwcheck_configure(&running);
	status_subscribe_gateway(on_gateway);
	gateway_subscribe_netchange(on_netchange);
	mapping_state_file(state_file);
	mapping_watch_network();
	hook_init(running.hook);
	hook_set_peer_path(running.peer_hook);
	sdnotify_init();
	/* Netlink, the notify socket and the pid file are open: root goes. */
	if (running.user != NULL) {
		priv_drop(&user);
		priv_check_dir(state_file, "state file");
		if (strcmp(status_path(&running), "none") != 0)
			priv_check_dir(status_path(&running), "status file");
	}
	mapping_start();
	/* The STUN-kept bindings are made beside the search, not after it. */
	fallback_start();
	rdv_started = 1;
	rdv_start();
	/* Ready when the first search is over, a gateway found or not. */
	sdnotify_ready_after_search();
	loop_run();
	fallback_stop();
	gwcheck_stop();
	rdv_stop();
	control_close();
	hook_free();
	sdnotify_free();
	mapping_free();
	status_file_remove();
	status_free();
	config_free(&running);
	daemon_pidfile_remove();
	log_info("natmapd stopped");
	return 0;
}
