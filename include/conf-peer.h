/* SPDX-License-Identifier: ISC */
/* The "expose" and "connect" statements (hole punching): text <-> structs, no I/O. */
#ifndef NATMAPD_CONF_PEER_H
#define NATMAPD_CONF_PEER_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define CONF_SERVICE_MAX	32	/* a service's name: 1-32 of [a-z0-9._-] */
#define CONF_ALLOW_MAX		8	/* nodes named after "@" */
#define CONF_MAX_PEER		64	/* expose and connect statements each */

/* Either transport (a connect without /tcp or /udp listens on both). */
#define CONF_ANY_PROTO		(-1)

/*
 * A service's own relay policy, the word "relay=fallback|never|always"
 * after it: relay_set 0, the node's (relay, --relay); otherwise relay is
 * an enum conf_relay.  "relay=always" is refused for a TCP service (and a
 * connect without /udp): built for UDP only.
 */

/*
 * "expose NAME=ADDRESS:PORT/PROTO[@NODE[,NODE...]]": the service NAME,
 * reached at ADDRESS:PORT (IPv4, or IPv6 in brackets) over PROTO (tcp or
 * udp), offered to the nodes of the network, or only to those named.
 */
struct conf_expose {
	char		name[CONF_SERVICE_MAX + 1];
	int		proto;		/* CONF_TCP, CONF_UDP */
	struct sockaddr_storage target;	/* AF_INET or AF_INET6, port set */
	size_t		nallow;		/* 0: every node of the network */
	char		allow[CONF_ALLOW_MAX][64];	/* CONF_NODE_MAX + 1 */
	int		relay_set;	/* 0: the node's relay policy */
	int		relay;		/* enum conf_relay, if relay_set */
};

/*
 * "connect NODE/NAME=[ADDRESS:]PORT[/PROTO]": NODE's service NAME, made to
 * appear at ADDRESS:PORT here (default 127.0.0.1), over PROTO or, without
 * one, both.
 */
struct conf_connect {
	char		node[64];	/* CONF_NODE_MAX + 1 */
	char		service[CONF_SERVICE_MAX + 1];
	int		proto;		/* CONF_TCP, CONF_UDP, CONF_ANY_PROTO */
	struct sockaddr_storage listen;	/* AF_INET or AF_INET6, port set */
	int		relay_set;	/* 0: the node's relay policy */
	int		relay;		/* enum conf_relay, if relay_set */
};

/* 1 if s is a service name. */
int	config_valid_service(const char *s);
/*
 * Parse one statement's argument, the service and then, after a space,
 * its words ("relay=never"); 0, or -1 with err set.
 */
int	config_parse_expose(const char *s, struct conf_expose *, char *err,
	    size_t errlen);
int	config_parse_connect(const char *s, struct conf_connect *, char *err,
	    size_t errlen);
/*
 * "NAME" (node NULL) or "NODE/NAME" (node: 64 bytes): an exposed service,
 * a connected one, as natmapctl unexpose and disconnect name them.  0, or
 * -1 with err set (what names the command).
 */
int	config_parse_service_name(const char *what, const char *s, char *node,
	    char name[CONF_SERVICE_MAX + 1], char *err, size_t errlen);
/*
 * The relay policy of a service (relay_set, relay) on a node whose own
 * is node: the service's word if it has one, else the node's.
 */
int	config_service_relay(int relay_set, int relay, int node);
/*
 * The relay policy the node acts on: node, but fallback where node is
 * never and a service (of e[0..ne), c[0..nc)) says relay=fallback or
 * relay=always: its word wins for it (the relay is made; the others keep
 * off it).
 */
int	config_relay_node(int node, const struct conf_expose *e, size_t ne,
	    const struct conf_connect *c, size_t nc);
/*
 * May data of a service whose relay policy is policy cross a relayed
 * path or carrier (relayed 1) or a direct one (relayed 0)?  1 or 0.
 */
int	config_relay_allows(int policy, int relayed);
/* The argument back as text, as config_print writes it. */
void	config_format_expose(const struct conf_expose *, char *buf, size_t);
void	config_format_connect(const struct conf_connect *, char *buf, size_t);
/*
 * 1 if the two would clash: the same service name and transport
 * (expose), the same local address, port and a transport in common
 * (connect).
 */
int	config_expose_clash(const struct conf_expose *,
	    const struct conf_expose *);
int	config_connect_clash(const struct conf_connect *,
	    const struct conf_connect *);

#endif
