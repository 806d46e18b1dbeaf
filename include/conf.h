/* SPDX-License-Identifier: ISC */
/* The configuration: one immutable struct, built from the file and the command line. */
#ifndef NATMAPD_CONF_H
#define NATMAPD_CONF_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "conf-peer.h"
#include <stdio.h>

#define CONF_MAX_MAPS		1024
#define CONF_LEASE_DEFAULT	3600
#define CONF_LEASE_MIN		60
#define CONF_LEASE_MAX		604800
#define CONF_MAX_SERVERS	8	/* stun-server and echo-url statements each */
#define CONF_STUN_PORT		3478
#define CONF_RDV_PORT		3480	/* natmapd-rendezvous's default */
#define CONF_NETWORK_MAX	32	/* rdv-msg.h's RDV_NETWORK_MAX */
#define CONF_NODE_MAX		63	/* rdv-msg.h's RDV_NODE_MAX */
#define CONF_KEY_LEN		32	/* crypto.h's CRYPTO_KEY_LEN */
/* A UNIX socket's path: sizeof(sun_path) - 1. */
#define CONF_CONTROL_MAX	((size_t)107)

enum conf_proto {
	CONF_TCP,
	CONF_UDP,
};

/* Which gateway protocols to use (--protocol). */
enum conf_gwproto {
	CONF_GW_AUTO,		/* PCP, then NAT-PMP, then UPnP: all probed at once */
	CONF_GW_PCP,
	CONF_GW_NATPMP,
	CONF_GW_UPNP,
};

/* One "map" statement: a port or a range, as written. */
struct conf_map {
	int		proto;		/* CONF_TCP, CONF_UDP */
	uint16_t	int_first;
	uint16_t	int_last;
	uint16_t	ext_first;	/* ext_last = ext_first + (int_last - int_first) */
};

/* A "stun-server" statement: a name or an address literal, and a port. */
struct conf_server {
	char		host[256];
	uint16_t	port;
};

struct config {
	struct conf_map	*maps;
	size_t		 nmaps;
	size_t		 nports;	/* mappings once ranges are expanded */
	uint32_t	 lease;
	int		 any_port;
	int		 gwproto;	/* enum conf_gwproto */
	char		*interface;
	int		 have_gateway;
	struct in_addr	 gateway;
	char		*pidfile;
	char		*state_file;
	char		*status_file;	/* NULL: the default; "none": no file */
	char		*user;		/* drop root to this user; NULL: stay */
	char		*control;	/* control socket; "none": no socket */
	struct conf_server stun[CONF_MAX_SERVERS];
	size_t		 nstun;
	char		*echo[CONF_MAX_SERVERS];	/* echo-url */
	size_t		 necho;
	char		*hook;		/* run on endpoint events; NULL: none */
	char		*peer_hook;	/* run on peers' path events; NULL: none */
	/* The rendezvous client (rdv-client.c): servers, network, key, name. */
	struct conf_server rdv[CONF_MAX_SERVERS];
	size_t		 nrdv;
	char		*network;
	char		*key_file;
	char		*node;		/* NULL: the host name (config_rdv_check) */
	int		 have_key;	/* key read by config_rdv_check() */
	uint8_t		 key[CONF_KEY_LEN];	/* the network's secret */
	/* The STUN-kept bindings' local ports (fallback.c); 0: the default. */
	uint16_t	 fb_port_first;
	uint16_t	 fb_port_last;
	int		 fb_mode;	/* enum conf_fbmode */
	uint32_t	 fb_idle;	/* s a forwarded TCP connection may idle; 0: default */
	/* punch-map no: the punching ports are not mapped on the gateway */
	int		 punch_nomap;
	/* cipher auto|chacha20-poly1305: what a punched session's data offers */
	int		 punch_cipher;	/* enum conf_cipher */
	/* relay fallback|never|always: when the TURN relay carries a path */
	int		 relay_policy;	/* enum conf_relay */
	/* Hole punching (punch.c): services offered, services wanted. */
	struct conf_expose *expose;
	size_t		 nexpose;
	struct conf_connect *connect;
	size_t		 nconnect;
};

/* How a TCP binding kept with STUN reaches the service (fallback-mode). */
enum conf_fbmode {
	CONF_FBMODE_FORWARD = 0,	/* a port of its own, forwarded */
	CONF_FBMODE_BIND,		/* the service's own port (SO_REUSEPORT) */
};

/* When a peer's path goes through the TURN relay (doc/relay.md). */
enum conf_relay {
	CONF_RELAY_FALLBACK = 0,	/* when punching fails (the default) */
	CONF_RELAY_NEVER,		/* direct paths only */
	CONF_RELAY_ALWAYS,		/* through the relay only */
};

/* The ciphers a node offers for a punched session's data (cipher). */
enum conf_cipher {
	CONF_CIPHER_AUTO = 0,	/* AES-256-GCM too with AES-NI and PCLMULQDQ */
	CONF_CIPHER_CHACHA = 1,	/* ChaCha20-Poly1305 only */
};

/* Which settings a partial config (the command line) sets. */
#define CONF_SET_LEASE		0x01
#define CONF_SET_ANYPORT	0x02
#define CONF_SET_INTERFACE	0x04
#define CONF_SET_GATEWAY	0x08
#define CONF_SET_PIDFILE	0x10
#define CONF_SET_GWPROTO	0x20
#define CONF_SET_STATEFILE	0x40
#define CONF_SET_STUN		0x80	/* the command line's servers replace the file's */
#define CONF_SET_ECHO		0x100
#define CONF_SET_STATUSFILE	0x200
#define CONF_SET_USER		0x400
#define CONF_SET_HOOK		0x800
#define CONF_SET_CONTROL	0x1000
#define CONF_SET_RDV		0x2000	/* the command line's servers replace the file's */
#define CONF_SET_NETWORK	0x4000
#define CONF_SET_KEYFILE	0x8000
#define CONF_SET_NODE		0x10000
#define CONF_SET_FBPORTS	0x20000
#define CONF_SET_FBMODE		0x40000
#define CONF_SET_FBIDLE		0x80000
#define CONF_SET_EXPOSE		0x100000	/* the command line's replace the file's */
#define CONF_SET_CONNECT	0x200000	/* the command line's replace the file's */
#define CONF_SET_PUNCHMAP	0x400000
#define CONF_SET_RELAY		0x800000
#define CONF_SET_PEERHOOK	0x1000000
#define CONF_SET_CIPHER		0x2000000
#define CONF_FBIDLE_MAX		604800	/* a week */

void	 config_init(struct config *);
void	 config_free(struct config *);
/* Parse "8080/tcp", "8080:18080/udp", "5000-5010[:6000]/udp". */
int	 config_parse_map(const char *, struct conf_map *, char *err, size_t);
int	 config_parse_lease(const char *, uint32_t *, char *err, size_t);
/* fallback-ports FIRST-LAST, 1024..65535: into conf; 0, or -1 and err. */
int	 config_parse_fbports(const char *, struct config *, char *err, size_t);
/* fallback-idle SECONDS, 1..CONF_FBIDLE_MAX: into conf; 0, or -1 and err. */
int	 config_parse_fbidle(const char *, struct config *, char *err, size_t);
/* fallback-mode forward|bind: into conf; 0, or -1 and err. */
int	 config_parse_fbmode(const char *, struct config *, char *err, size_t);
/* "yes" or "no": punch-map, --punch-map. */
int	 config_parse_punchmap(const char *, struct config *, char *err,
	    size_t);
/* cipher auto|chacha20-poly1305, --cipher: into conf; 0, or -1 and err. */
int	 config_parse_cipher(const char *, struct config *, char *err,
	    size_t errlen);
/* relay fallback|never|always: into conf; 0, or -1 and err. */
int	 config_parse_relay(const char *, struct config *, char *err, size_t);
/* Format an error message into err[errlen], if err is not NULL. */
void	 config_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A decimal port 1..65535 from s[0..len): digits only, no sign. */
int	 config_parse_port(const char *s, size_t len, uint16_t *);
int	 config_add_map(struct config *, const struct conf_map *, char *err,
	    size_t);
/* Add an expose or connect statement; -1 and err when it clashes or is one too many. */
int	 config_add_expose(struct config *, const struct conf_expose *,
	    char *err, size_t);
int	 config_add_connect(struct config *, const struct conf_connect *,
	    char *err, size_t);
/* Parse a whole file held in memory; errors are "name:line: message". */
int	 config_parse_buf(struct config *, const char *name, const char *buf,
	    size_t len, char *err, size_t errlen);
/* Read and parse a file; a missing file is an error only if must_exist. */
int	 config_load(struct config *, const char *path, int must_exist,
	    char *err, size_t errlen);
/* Apply the settings of over (with its CONF_SET_* mask) onto conf; maps are appended. */
int	 config_merge(struct config *conf, const struct config *over,
	    int overmask, char *err, size_t errlen);
int	 config_valid_ifname(const char *);
/* A user name as useradd(8) takes it: [A-Za-z0-9_.-], not first '-', up to 32. */
int	 config_valid_user(const char *);
/* "none", or an absolute path of at most CONF_CONTROL_MAX bytes. */
int	 config_valid_control(const char *);
/* "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address. */
int	 config_parse_server(const char *, struct conf_server *, char *err,
	    size_t);
/* The same with another default port. */
int	 config_parse_server_port(const char *, uint16_t defport,
	    struct conf_server *, char *err, size_t);
int	 config_add_stun(struct config *, const char *, char *err, size_t);
int	 config_add_echo(struct config *, const char *, char *err, size_t);
/* A rendezvous server, HOST[:PORT] as for stun-server, port 3480 by default. */
int	 config_add_rdv(struct config *, const char *, char *err, size_t);
/* rdv-msg.h's NETWORK and NODE syntax. */
int	 config_valid_network(const char *);
int	 config_valid_node(const char *);
/*
 * Once the file and the command line are merged: with rendezvous servers,
 * network and key-file must be set; the key file is read (crypto_key_read:
 * refused if others may read it) into key, and a missing node is the host
 * name in lower case, which must then be a valid node name.  Without
 * servers, nothing is read.  0, or -1 with the reason in err (never the key).
 */
int	 config_rdv_check(struct config *, char *err, size_t errlen);
/* "host:port", with brackets around an IPv6 address. */
void	 config_format_server(const struct conf_server *, char *, size_t);
void	 config_print(FILE *, const struct config *);
void	 config_format_map(const struct conf_map *, char *, size_t);
const char *config_proto_name(int);
int	 config_parse_gwproto(const char *, int *);
const char *config_gwproto_name(int);

#endif
