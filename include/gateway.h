/* SPDX-License-Identifier: ISC */
/* Finding the gateway: where to look, and the race between the protocol drivers. */
#ifndef NATMAPD_GATEWAY_H
#define NATMAPD_GATEWAY_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "driver.h"

#define GATEWAY_MAX_DRIVERS	4
/* How long a lower-preference answer waits for the better ones still out. */
#define GATEWAY_GRACE_MS	150
/* A burst of kernel messages is one change: wait this long for the rest. */
#define GATEWAY_NETCHANGE_DEBOUNCE_MS	250

enum gateway_slot_state {
	GATEWAY_SLOT_IDLE,
	GATEWAY_SLOT_DEFERRED,	/* not started: waits for the better ones */
	GATEWAY_SLOT_RUNNING,
	GATEWAY_SLOT_OK,
	GATEWAY_SLOT_FAILED,
};

/* One driver's part in a race. */
struct gateway_slot {
	const struct mapping_driver	*drv;
	int				 state;
	struct drv_gateway		 gw;	/* GATEWAY_SLOT_OK */
	char				 detail[128];	/* why not, for people */
	uint64_t			 ms;	/* answered or failed after this */
};

enum gateway_race_mode {
	/*
	 * The daemon's: the best answer wins once every better driver has
	 * failed, or GATEWAY_GRACE_MS after it came; the rest are cancelled.
	 */
	GATEWAY_RACE_BEST,
	/* --probe's: every driver answers or fails; the best is reported. */
	GATEWAY_RACE_ALL,
};

/*
 * The drivers, in order of preference; they must outlive the module.
 * Ends a race under way.
 */
void	gateway_race_init(const struct mapping_driver *const *, size_t);
/*
 * Probe through every driver at once (a driver with probe_delay_ms after
 * that delay, or as soon as the others have failed).  done is called once
 * (from inside this call if a driver answers at once) with the winning
 * slot, or NULL if every driver failed; not if gateway_race_cancel()
 * comes first.  -1 if a race is under way.
 */
int	gateway_race_start(const struct drv_env *, int mode,
	    void (*done)(const struct gateway_slot *));
void	gateway_race_cancel(void);
int	gateway_race_running(void);
size_t	gateway_race_nslots(void);
const struct gateway_slot *gateway_race_slot(size_t);
/* "PCP: no answer; NAT-PMP: ..." for a race that found nothing. */
void	gateway_race_why(char *, size_t);

/*
 * For a gateway found through a driver that cannot look a mapping up
 * (PCP, NAT-PMP): probe the first other driver that can (UPnP), and call
 * found if it answers from the same device, env's gateway.  Nothing is
 * called if it does not, or on gateway_lookup_cancel(), or when a race
 * starts (the race probes the drivers itself).  -1 if there is no such
 * driver, or a race is under way.
 */
int	gateway_lookup_start(const struct drv_env *,
	    const struct mapping_driver *primary,
	    void (*found)(const struct mapping_driver *,
	    const struct drv_gateway *));
void	gateway_lookup_cancel(void);

/*
 * What the gateway and the network say unasked, heard for the engine.
 * Each handler runs from the loop, once per message.
 */
struct pcp_response;
struct gateway_events {
	/* A PCP ANNOUNCE or a NAT-PMP public address from the gateway:5351. */
	void	(*announced)(const struct pcp_response *);
	/* An SSDP ssdp:alive from the gateway: BOOTID (-1 if none), LOCATION. */
	void	(*notified)(long bootid, const char *location);
	/* Routes, addresses or links changed (NETWATCH_* bits), debounced. */
	void	(*netchanged)(int bits);
};

/* Watch the network (rtnetlink) from now on, and allow gateway_listen(). */
void	gateway_watch(const struct gateway_events *);
/*
 * Listen for the announcements of gateway on the interface of local
 * (224.0.0.1:5350 and SSDP 239.255.255.250:1900); the sockets are opened
 * again only when local changes.  Nothing before gateway_watch().
 */
void	gateway_listen(struct in_addr local, struct in_addr gateway);
/* Close what gateway_watch and gateway_listen opened. */
void	gateway_unwatch(void);

/*
 * Where to look for a gateway: the interface, our address on it, the
 * gateway's.  ifname and gateway may be NULL (the default route's).
 */
int	gateway_find_env(struct drv_env *, const char *ifname,
	    const struct in_addr *gateway, char *why, size_t whylen);

#endif
