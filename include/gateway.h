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
 * The gateway's life, for the mapping engine: searching (the race, backing
 * off while nothing answers), ready, lost, checked every
 * GATEWAY_CHECK_INTERVAL_S, and what its announcements and the network's
 * changes mean for it.  gateway.c decides about the gateway; the engine,
 * told through a struct gateway_watcher, decides about its mappings.
 */

/* A gateway found is probed again this often: a new address, another device? */
#define GATEWAY_CHECK_INTERVAL_S	300
/* A search that finds nothing is tried again after 1 s, 2 s, 4 s ... 60 s. */
#define GATEWAY_BACKOFF_MIN_MS	1000
#define GATEWAY_BACKOFF_MAX_MS	60000

/* ready()'s flags */
#define GATEWAY_CHANGED	0x1	/* another device, protocol or local address
				   than the last one ready, or the first */
#define GATEWAY_CHECKED	0x2	/* a check found it (periodic, or asked for) */

enum gateway_lost_why {
	GATEWAY_LOST_SILENT,	/* it stopped answering: gateway_lost() */
	GATEWAY_LOST_NETWORK,	/* routes, addresses or links changed */
	GATEWAY_LOST_CONFIG,	/* told to look elsewhere: gateway_forget() */
};

/* What the engine hears: from the loop, or from inside a gateway_*() call. */
struct gateway_watcher {
	/*
	 * A search or a check found the gateway, through drv; gateway_env()
	 * and gateway_info() say where.  GATEWAY_CHANGED: what was mapped
	 * elsewhere is to be mapped anew.
	 */
	void	(*ready)(const struct mapping_driver *drv, int flags);
	/* It is not ready any more (enum gateway_lost_why); a search follows. */
	void	(*lost)(int why);
	/*
	 * The same gateway restarted, lost its mappings or took another
	 * external address: every mapping is to be made again.  Said once,
	 * before ready(), when a search or a check finds that out.
	 */
	void	(*reset)(void);
	/* A periodic check probes the gateway now (a request of its own). */
	void	(*checking)(void);
	/*
	 * A search ended and found nothing: no protocol answered, or there is
	 * no route to look along; another search follows, backing off.
	 */
	void	(*none)(void);
};

/*
 * The drivers, in order of preference (they must outlive the module), and
 * the watcher (copied).  Forgets any gateway; searches only after
 * gateway_start().
 */
void	gateway_init(const struct mapping_driver *const *, size_t,
	    const struct gateway_watcher *);
/*
 * Where to look: the interface (NULL or "": the default route's), the
 * gateway (NULL: the default route's).  1 if that is not where it looked
 * so far; the next search looks there (gateway_forget(): now).
 */
int	gateway_set_where(const char *ifname, const struct in_addr *gateway);
/* Search now. */
void	gateway_start(void);
/* Forget the gateway (it is lost if it was ready) and search again, now. */
void	gateway_forget(void);
/* SIGUSR1: check the gateway now; -1 if it is not ready, or a search is out. */
int	gateway_check_now(void);
/* The gateway did not answer a request: look for it again. */
void	gateway_lost(void);
/*
 * An answer named the gateway's external address: 1 if it had another
 * one (logged), 0 if the same, the first, or none.  A new one is judged
 * (double NAT?) and, if public, checked through STUN (wancheck.c).
 */
int	gateway_note_external(struct in_addr);
/* An answer carried the gateway's epoch time: 1 if it went back (logged). */
int	gateway_note_epoch(uint32_t);
int	gateway_is_ready(void);
/* A gateway was ready once since gateway_init(). */
int	gateway_was_found(void);
/* Where the last search looked: the interface, our address, the gateway's. */
const struct drv_env *gateway_env(void);
/* The gateway found last (zeros before the first, after gateway_forget()). */
const struct drv_gateway *gateway_info(void);
/*
 * Shutdown: no more searches or checks, and what the gateway or the
 * network says is ignored; what was found stays, for the deletes.
 */
void	gateway_stop(void);
/* Stop, end the STUN check, and close what gateway_watch() opened. */
void	gateway_free(void);

/*
 * Watch the network (rtnetlink) from now on, and the gateway's
 * announcements (224.0.0.1:5350, SSDP NOTIFY) once it is found.
 */
void	gateway_watch(void);

/*
 * Hear of every change gateway_watch() sees in the host's routes,
 * addresses or links (NETWATCH_* bits, a burst debounced into one), after
 * the gateway search it starts; none once gateway_stop() was called.  At
 * most GATEWAY_MAX_NETCHANGE_SUBS subscribers, kept across gateway_init().
 */
#define GATEWAY_MAX_NETCHANGE_SUBS	4
typedef void (*gateway_netchange_cb)(int bits);
void	gateway_subscribe_netchange(gateway_netchange_cb);

/*
 * Where to look for a gateway: the interface, our address on it, the
 * gateway's.  ifname and gateway may be NULL (the default route's).
 */
int	gateway_find_env(struct drv_env *, const char *ifname,
	    const struct in_addr *gateway, char *why, size_t whylen);

#endif
