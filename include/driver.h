/* SPDX-License-Identifier: ISC */
/* The interface between the mapping engine and the protocol drivers. */
#ifndef NATMAPD_DRIVER_H
#define NATMAPD_DRIVER_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

enum drv_proto {
	DRV_TCP,
	DRV_UDP,
};

enum drv_status {
	DRV_OK = 0,
	DRV_ERR_GATEWAY,	/* the gateway did not answer, or is gone */
	DRV_ERR_CONFLICT,	/* the external port is held by another host */
	DRV_ERR_DENIED,		/* the gateway refuses this mapping */
	DRV_ERR_FAILED,		/* any other failure */
	DRV_ERR_SLOW,		/* no answer to this one, while the gateway
				   answers others (pace.c says so, no driver) */
};

/* Where to look for a gateway; filled in by the engine for each probe. */
struct drv_env {
	char		ifname[16];
	struct in_addr	local;		/* our address toward the gateway */
	struct in_addr	gateway;
	/*
	 * The netmask of local: the LAN hosts a UPnP device may be on.
	 * INADDR_ANY when unknown: then only the gateway is trusted.
	 */
	struct in_addr	netmask;
	/* IPv6, when the interface has a global address and an IPv6 router */
	int		have6;
	struct in6_addr	local6;
	struct in6_addr	gateway6;	/* may be link-local: */
	unsigned int	ifindex6;	/* its interface */
};

/* What a probe found. */
struct drv_gateway {
	char		name[64];	/* "UPnP (WANIPConnection:2)" */
	char		where[256];	/* the description URL, for logs */
	struct in_addr	external;	/* INADDR_ANY if unknown */
	int		has_epoch;	/* PCP and NAT-PMP: the server's epoch time */
	uint32_t	epoch;
	long		bootid;		/* UPnP: BOOTID.UPNP.ORG, -1 if none */
	struct in_addr	addr;		/* UPnP: the device's address */
};

#define DRV_NONCE_LEN	12
#define DRV_DESC_LEN	32

struct drv_map {
	int		proto;
	struct in_addr	int_addr;
	uint16_t	int_port;
	uint16_t	ext_port;	/* the one wanted */
	uint32_t	lease;		/* wanted, seconds; 0 = permanent */
	int		any_port;	/* on conflict, take another external port */
	/* "natmapd:1a2b udp 65535" at most: every mapping holds one */
	char		desc[DRV_DESC_LEN];
	uint8_t		nonce[DRV_NONCE_LEN];	/* the mapping's own, for PCP */
	/* The gateway's pace (pace.c): retransmit no sooner; 0: the protocol's. */
	uint32_t	rto_ms;
};

/* One entry of the gateway's table, as a listing returns it. */
struct drv_entry {
	int		proto;
	uint16_t	ext_port;
	struct in_addr	int_addr;
	uint16_t	int_port;
	uint32_t	lease;		/* left; 0 = permanent */
	char		desc[64];	/* as the router keeps it, unescaped */
};

struct drv_result {
	int		status;		/* enum drv_status */
	uint16_t	ext_port;	/* granted */
	uint32_t	lease;		/* granted; 0 = permanent */
	struct in_addr	ext_addr;
	uint32_t	renew_in;	/* seconds; 0: half the lease */
	int		has_epoch;	/* the answer carried the server's epoch time */
	uint32_t	epoch;
	char		detail[160];	/* why, for the log */
	/*
	 * Requests sent for this answer (0: the driver does not say).  The
	 * pacing takes the answer's time as a round trip only after one
	 * (Karn's rule: an answer to a retransmitted request may answer any
	 * of its copies).
	 */
	unsigned int	sends;
	/*
	 * Loop times of the first and the last copy sent (0: the driver does
	 * not say).  A driver that sends one request at a time holds the
	 * others back: the round trip runs from its first copy, not from the
	 * hand-over.  An answer can come no sooner after the last copy.
	 */
	uint64_t	first_sent;
	uint64_t	last_sent;
	/* list: the entry at the index asked for; end when there is none */
	struct drv_entry entry;
	int		end;
};


/* One outstanding request; the engine owns it, the driver uses priv while in flight. */
struct drv_op {
	void		(*done)(struct drv_op *, const struct drv_result *);
	void		 *priv;
};

struct mapping_driver;
typedef void (*drv_probe_cb)(const struct mapping_driver *, int status,
    const struct drv_gateway *, const char *detail);

struct mapping_driver {
	const char	*name;		/* for people: "NAT-PMP" */
	const char	*id;		/* for the state file: "natpmp" */
	/*
	 * With other protocols probed first: wait this long before probing,
	 * unless they have all failed (UPnP: its SSDP search slows down a
	 * router answering PCP at the same moment).
	 */
	unsigned int	 probe_delay_ms;
	/* Find the gateway; cb is called once, unless probe_cancel() comes first. */
	int		(*probe)(const struct drv_env *, drv_probe_cb);
	void		(*probe_cancel)(void);
	/* Add or renew; op->done is called once, unless cancel() comes first. */
	int		(*map)(struct drv_op *, const struct drv_map *);
	int		(*unmap)(struct drv_op *, const struct drv_map *);
	/* Optional: is the mapping still there?  DRV_ERR_FAILED if it is gone. */
	int		(*verify)(struct drv_op *, const struct drv_map *);
	/*
	 * Optional: the gateway's entry at an index (0, 1, ...); op->done
	 * gets DRV_OK with res->entry, or res->end set past the last one.
	 */
	int		(*list)(struct drv_op *, unsigned int index);
	void		(*cancel)(struct drv_op *);
};

/*
 * PCP and NAT-PMP grant another external port when the one asked for is
 * taken (miniupnpd ignores PCP's PREFER_FAILURE).  Unless the mapping takes
 * any port, that grant is refused: 1, with the reason in detail, and the
 * driver gives the port back; 0 when the grant is the mapping's.
 */
int	drv_offer_refused(const struct drv_map *, uint16_t granted,
	    const char *proto, char *detail, size_t len);

/*
 * The lifetime a PCP or NAT-PMP add asks for.  Neither protocol has a
 * permanent mapping (lifetime 0 deletes, RFC 6886 3.4, RFC 6887 15), so
 * lease 0 asks for this, the longest lease natmapd asks for otherwise;
 * the router grants what it allows and the grant is renewed as any other.
 */
#define DRV_LEASE_LONGEST	604800
uint32_t drv_map_lifetime(const struct drv_map *);

/*
 * A driver heard from its gateway but had no answer to deliver: a late
 * answer, or a copy of one (a busy router answers retransmissions too).
 * The gateway is alive, and busy: the engine's hook (NULL: none) counts it
 * as an answer when it judges whether the gateway is silent.
 */
extern void	(*drv_heard_hook)(void);
void	drv_heard(void);

extern const struct mapping_driver upnp_driver;
extern const struct mapping_driver natpmp_driver;
extern const struct mapping_driver pcp_driver;

#endif
