/* SPDX-License-Identifier: ISC */
/* What natmapd tells the world: one table of mappings and gateway, fed by the engine, read by everything else. */
#ifndef NATMAPD_STATUS_H
#define NATMAPD_STATUS_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The one place state leaves the engine.  The engine (mapping.c, later the
 * STUN-kept fallback, punching, the relay) calls status_map_update() and
 * status_gateway_update() on every change; natmapctl status, the status
 * file, the hooks and sd_notify read from here and never reach into the
 * engine.
 */

enum status_state {
	STATUS_WAITING,		/* no gateway to ask yet */
	STATUS_MAPPING,		/* asked, no answer yet */
	STATUS_UP,		/* granted: reachable at ext_addr:ext_port */
	STATUS_RENEWING,	/* up, a renewal is out */
	STATUS_RETRYING,	/* failed; tried again later (error says why) */
	STATUS_DELETING,
	STATUS_DOWN,		/* deleted, or lost and not back yet */
	/* A binding kept open with STUN (fallback.c), no gateway's: */
	STATUS_VERIFIED,	/* proven reachable from outside at ext_addr:ext_port */
	STATUS_FILTERED,	/* the NAT drops what the binding did not ask for */
	STATUS_UNVERIFIED,	/* a binding, not (yet) proven reachable */
};

/*
 * The end-to-end check of a TCP mapping a gateway made (gwcheck.c): a
 * REACH through a rendezvous server, whose dial-back connected to the
 * public port or not.
 */
enum status_reach {
	STATUS_REACH_NONE,		/* not checked (null) */
	STATUS_REACH_UNKNOWN,		/* checked, nothing proven */
	STATUS_REACH_OK,		/* a connection was made: it forwards */
	STATUS_REACH_NOT_FORWARDING,	/* no connection at all */
};

/* One mapping, as reported. */
struct status_map {
	int		 proto;		/* DRV_TCP, DRV_UDP */
	uint16_t	 int_port;
	uint16_t	 ext_want;	/* as configured; 0: any */
	char		 method[8];	/* "pcp", "natpmp", "upnp", "stun"; "" none yet */
	int		 state;		/* enum status_state */
	struct in_addr	 int_addr;
	struct in_addr	 ext_addr;	/* INADDR_ANY until up */
	uint16_t	 ext_port;	/* 0 until up */
	uint32_t	 lease;		/* granted, seconds; 0: permanent */
	uint64_t	 since;		/* loop_now() when the state was entered */
	uint64_t	 renew_at;	/* loop_now() of the next renewal; 0: none */
	char		 error[128];	/* the last error; "" none */
	int		 runtime;	/* added through the control socket */
	char		 owner[8];	/* natmapd's own mapping ("punch"); "" not */
	/* the gateway's row: kept over status_map_update, set by status_map_reach */
	int		 reach;		/* enum status_reach */
	uint64_t	 reach_at;	/* loop_now() of the last check; 0: none */
	char		 reach_detail[48];	/* what the server said; "" none */
};

/* The gateway in use. */
struct status_gateway {
	int		 searched;	/* a search has ended, found or not */
	int		 found;
	char		 method[8];	/* "pcp", "natpmp", "upnp" */
	char		 where[64];	/* "192.168.1.1:5351", a description URL */
	struct in_addr	 addr;
	struct in_addr	 external;	/* the address it reports */
	uint64_t	 since;
	/* What a STUN server saw (wancheck.c); kept while external stays. */
	struct in_addr	 seen;		/* INADDR_ANY: not known */
	int		 upstream_nat;	/* seen is not external: a NAT upstream */
};

/* A rendezvous server the node registers with (rdv-client.c). */
struct status_rdv {
	char		 server[300];	/* "host:port" as configured */
	uint64_t	 expires;	/* loop_now() the registration lapses; 0: none */
	int64_t		 rtt_ms;	/* the last round trip; -1: none yet */
	char		 error[128];	/* the last error; "" none */
	char		 transport[4];	/* "udp", "tcp" */
};

/* A node this one punches to (punch.c). */
struct status_peer {
	char		 node[64];
	char		 state[16];	/* "connecting", "probing", "up", "failed"... */
	char		 path[16];	/* "direct-v4", "direct-v6", "relay"; "" none yet */
	char		 endpoint[64];	/* the UDP path's other end; "" none */
	/* path relay: the TURN server the path goes through; "" none */
	char		 relay[64];
	/* the candidate kind the UDP path runs over: "mapped" (a gateway's
	 * mapping, either side's), "host", "srflx", "prflx", "relay" (the
	 * peer's relayed address); "" none */
	char		 via[8];
	/* path direct: the relayed path kept beside it for the peer's
	 * relay=always services, its other end; "" none */
	char		 relay_beside[64];
	char		 carrier[64];	/* the TCP carrier's other end; "" none */
	/* the carrier through the relay kept beside a direct one for the
	 * peer's relay=always TCP services, its other end; "" none */
	char		 carrier_beside[64];
	/* the carrier new streams go over: "direct", "relay"; "" none */
	char		 carrier_via[8];
	int64_t		 rtt_ms;	/* the UDP path's last probe; -1 none */
	int64_t		 carrier_rtt_ms;	/* the carrier's last PING; -1 none */
	uint64_t	 bytes_in, bytes_out;	/* both, encrypted, on the wire */
	uint32_t	 streams;	/* on the carriers now */
	/* of them, on a carrier through the relay kept beside a direct one
	 * (until they end) */
	uint32_t	 relay_streams;
	uint64_t	 dropped;	/* datagrams refused (failed, replayed) */
	/* the session's cipher: "aes-256-gcm", "chacha20-poly1305"; "" none */
	char		 cipher[20];
	unsigned int	 attempt;
	char		 error[256];	/* why there is no path; "" none */
};

/* An expose or connect statement punch.c holds, from the configuration or natmapctl. */
#define STATUS_MAX_SERVICES	128	/* CONF_MAX_PEER of each */
struct status_service {
	char		 kind[12];	/* "expose", "connect" */
	char		 spec[640];	/* as natmapd -nv prints it */
	int		 runtime;	/* added through the control socket */
	/* relay=never: what was kept off the relay, and the last reason */
	uint64_t	 relay_refused_streams;
	uint64_t	 relay_refused_datagrams;
	char		 relay_refused[160];	/* "" none */
};

enum status_counter {
	STATUS_REQUESTS,
	STATUS_ANSWERS,
	STATUS_FAILURES,
	STATUS_RENEWALS,
	STATUS_ADDRESS_CHANGES,
	STATUS_NCOUNTERS,
};

/* Endpoint events, for the hooks: what a user acts on. */
enum status_event {
	STATUS_EVENT_UP,	/* reachable now */
	STATUS_EVENT_CHANGE,	/* reachable, at another address or port */
	STATUS_EVENT_DOWN,	/* no longer reachable */
};

/* A subscriber to endpoint events; called from the loop, after the change. */
typedef void (*status_event_cb)(int event, const struct status_map *);
/*
 * A subscriber to the peers' paths (the peer hook): UP when a peer gets
 * a path, CHANGE when its kind, endpoint or relay changes, DOWN when it
 * has none any more (or the peer is gone); after the change.
 */
typedef void (*status_peer_cb)(int event, const struct status_peer *);
/* A subscriber to the gateway's changes (sd_notify's READY=1), after the change. */
typedef void (*status_gateway_cb)(const struct status_gateway *);

void	status_init(void);
void	status_free(void);
/*
 * Room for n rows at once (the configured mappings), so that hundreds of
 * them do not make the table double past what it needs; more still fit.
 */
void	status_reserve(size_t n);
/* Add or replace the mapping (proto, int_port, ext_want); may emit an event. */
void	status_map_update(const struct status_map *);
/* The mapping is gone from the configuration: forget it (emits DOWN if up). */
void	status_map_remove(int proto, uint16_t int_port, uint16_t ext_want);
/*
 * The fallback's word on a mapping (method "stun"): shown while the
 * gateway's rung waits for a gateway or has none (status_map_update's
 * rows with STATUS_WAITING or STATUS_DOWN), or where it has no row.
 * status_fallback_remove() withdraws it.
 */
void	status_fallback_update(const struct status_map *);
/*
 * The last end-to-end check of the gateway's mapping (proto, int_port,
 * ext_want), at loop_now(); STATUS_REACH_NONE forgets it.  It stays
 * over the engine's updates of the row.
 */
void	status_map_reach(int proto, uint16_t int_port, uint16_t ext_want,
	    int reach, const char *detail);
const char *status_reach_name(int);	/* "ok", "not forwarding", "unknown" */
void	status_fallback_remove(int proto, uint16_t int_port, uint16_t ext_want);
void	status_gateway_update(const struct status_gateway *);
/* The rendezvous servers' state, the whole list (n 0: none). */
void	status_rdv_update(const struct status_rdv *, size_t n);
size_t	status_rdv_count(void);
const struct status_rdv *status_rdv_at(size_t);
/* Registered now: expires in the future. */
int	status_rdv_registered(const struct status_rdv *);
/* The punched-to nodes' state, the whole list (n 0: none), at most STATUS_MAX_PEERS. */
#define STATUS_MAX_PEERS	64
void	status_peers_update(const struct status_peer *, size_t n);
size_t	status_peer_count(void);
const struct status_peer *status_peer_at(size_t);	/* NULL past the end */
/* The services, the whole list (n 0: none), at most STATUS_MAX_SERVICES. */
void	status_services_update(const struct status_service *, size_t n);
void	status_count(int counter);
void	status_subscribe(status_event_cb);
void	status_subscribe_gateway(status_gateway_cb);
void	status_subscribe_peers(status_peer_cb);
/*
 * A STUN server saw this host as seen while the gateway reported
 * external (wancheck.c): recorded if the gateway still reports external.
 */
void	status_gateway_seen(struct in_addr external, struct in_addr seen,
	    int upstream_nat);
/*
 * The gateway's mappings do not reach the internet: its external address
 * is not public, or a STUN server sees another (double NAT, CGNAT).
 */
int	status_gateway_behind_nat(const struct status_gateway *);

size_t	status_map_count(void);
/* Row i as shown (the gateway's or the fallback's word) into *m: 0, or -1. */
int	status_map_get(size_t i, struct status_map *m);
const struct status_gateway *status_gateway(void);
uint64_t status_counter(int counter);
/* Up, renewing or verified, at an external port. */
int	status_map_reachable(const struct status_map *);
const char *status_state_name(int);		/* "up", "retrying", ... */
const char *status_event_name(int);		/* "up", "change", "down" */
/* "8080/tcp", "8080:18080/udp" */
void	status_map_spec(const struct status_map *, char *, size_t);

/*
 * The whole status as one JSON object with stable keys (natmapctl(8)
 * documents them); the caller puts it.  NULL if out of memory.
 */
struct json_object;
struct json_object *status_json(void);
/*
 * The same object written to fp a mapping at a time, compact, with a
 * newline: memory stays small whatever the number of mappings.  0 or -1.
 */
int	status_print(FILE *);

/* The status file: kept up to date on every change, a burst at a time. */
#define STATUS_FILE_DELAY_MS	100
void	status_file_set(const char *path);	/* NULL: none */
void	status_file_remove(void);		/* at exit */

#endif
