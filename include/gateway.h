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
 * Where to look for a gateway: the interface, our address on it, the
 * gateway's.  ifname and gateway may be NULL (the default route's).
 */
int	gateway_find_env(struct drv_env *, const char *ifname,
	    const struct in_addr *gateway, char *why, size_t whylen);

#endif
