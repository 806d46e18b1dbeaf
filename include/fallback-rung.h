/* SPDX-License-Identifier: ISC */
/* What the UDP (fallback.c) and TCP (fallback-tcp.c) STUN-kept bindings share: their report, their servers, their ports. */
#ifndef NATMAPD_FALLBACK_RUNG_H
#define NATMAPD_FALLBACK_RUNG_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "loop.h"

struct resolve_req;

/* A binding as the status table sees it. */
struct fb_rung {
	int			 proto;		/* DRV_UDP, DRV_TCP */
	uint16_t		 int_port;
	uint16_t		 ext_want;	/* the status table's key */
	struct in_addr		 local;		/* toward the server: the service's */
	struct sockaddr_storage	 mapped;	/* AF_UNSPEC: not known */
	int			 state;		/* STATUS_VERIFIED ... or -1 */
	uint64_t		 since;
	char			 error[128];
	struct sockaddr_storage	 logged;	/* the endpoint last logged */
};

/*
 * The rung's new state and error (printf-style, NULL for none), sent to
 * status_fallback_update() with renew_at (0: none), and logged when the
 * state, the error or the endpoint changed ("udp 5000: reachable at A:P (a binding
 * kept with STUN, proven by <proof>)" or "udp 5000: binding A:P
 * <state>: <error>").
 */
void	fb_rung_set(struct fb_rung *, int state, uint64_t renew_at,
	    const char *proof, const char *fmt, va_list);
/* Withdraw it from the status table, if it was ever there. */
void	fb_rung_remove(struct fb_rung *);

/*
 * Servers resolved together (IPv4): when every lookup is over, done()
 * runs; none with an address: resolved again after FALLBACK_RETRY_MS.
 */
struct fb_servers {
	struct conf_server	 srv[CONF_MAX_SERVERS];
	size_t			 nsrv;
	struct sockaddr_storage	 addr[CONF_MAX_SERVERS];	/* AF_UNSPEC: none */
	struct resolve_req	*rr[CONF_MAX_SERVERS];
	size_t			 resolving;
	struct timer		 retry;
	int			 socktype;	/* SOCK_DGRAM, SOCK_STREAM */
	const char		*what;		/* "STUN server", "rendezvous" */
	void			(*done)(void);
};

void	fb_servers_set(struct fb_servers *, const struct conf_server *,
	    size_t n, int socktype, const char *what, void (*done)(void));
int	fb_servers_same(const struct fb_servers *, const struct conf_server *,
	    size_t n);
void	fb_servers_resolve(struct fb_servers *);
void	fb_servers_cancel(struct fb_servers *);
size_t	fb_servers_known(const struct fb_servers *);
/* The next server with an address after *i (into *i): 0, or -1 if none. */
int	fb_servers_next(const struct fb_servers *, size_t *i);
const char *fb_servers_name(const struct fb_servers *, size_t, char *,
	    size_t);

/*
 * The ports of the map statements of conf_proto (CONF_UDP, CONF_TCP) as
 * internal, external pairs, at most FALLBACK_MAX (a warning, once per
 * *warned, for more); NULL and *n 0 when none.
 */
uint16_t *fb_ports(const struct config *, int conf_proto, size_t *n,
	    int *warned);
/* The local address the kernel sends from toward to: the service's. */
int	fb_local_toward(const struct sockaddr_storage *to, struct in_addr *);

#endif
