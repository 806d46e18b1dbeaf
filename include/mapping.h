/* SPDX-License-Identifier: ISC */
/* The mapping engine: one state machine per mapping, over a protocol driver. */
#ifndef NATMAPD_MAPPING_H
#define NATMAPD_MAPPING_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

struct config;
struct mapping_driver;

enum mapping_state {
	MAPPING_WAIT,		/* for a gateway */
	MAPPING_ADDING,
	MAPPING_BOUND,
	MAPPING_RENEWING,
	MAPPING_RETRY,		/* failed; the timer brings it back */
	MAPPING_DELETING,
	MAPPING_GONE,
};

#define MAPPING_BACKOFF_MIN_MS	1000
#define MAPPING_BACKOFF_MAX_MS	60000
#define MAPPING_PERMANENT_CHECK_S 600	/* how often a permanent mapping is re-added */
/*
 * Shutdown: the deletes go on this long, then while the gateway answers
 * (it was not quiet for the QUIET time, or three times its answer time
 * if longer), and never beyond the max.
 */
#define MAPPING_SHUTDOWN_MS	4500
/* A UPnP gateway is asked for one mapping this often (+0..10%), never sooner. */
#define MAPPING_CANARY_INTERVAL_S 15
#define MAPPING_SHUTDOWN_QUIET_MS 2500
#define MAPPING_SHUTDOWN_MAX_MS	85000	/* within systemd's 90 s stop timeout */
#define MAPPING_SHUTDOWN_REPORT_MS 5000	/* a progress line this often */

/* What leaves the engine on every state change. */
struct mapping_status {
	int		state;
	int		old_state;
	int		proto;		/* DRV_TCP, DRV_UDP */
	struct in_addr	int_addr;
	uint16_t	int_port;
	uint16_t	ext_port;
	struct in_addr	ext_addr;
	uint32_t	lease;
};

/*
 * The config is copied.  The drivers, in order of preference, are probed
 * together; they must outlive the engine.
 */
void	mapping_init(const struct config *,
	    const struct mapping_driver *const *, size_t);
void	mapping_start(void);
/* SIGUSR1: probe the gateway again and verify the mappings, now. */
void	mapping_check_now(void);
/* Read what an earlier natmapd left there, and keep the file up to date. */
void	mapping_state_file(const char *path);
/*
 * Re-probe and re-map when routes, addresses or links change, and when the
 * gateway announces a restart (224.0.0.1:5350).
 */
void	mapping_watch_network(void);
/* SIGHUP: a new config; mappings it drops are deleted, new ones added. */
void	mapping_reconfigure(const struct config *);
/*
 * Delete every mapping, paced, then call done: as soon as the gateway
 * answered the last delete, after MAPPING_SHUTDOWN_MS if it is silent,
 * or MAPPING_SHUTDOWN_QUIET_MS after its last answer if later, and after
 * MAPPING_SHUTDOWN_MAX_MS at most.
 */
void	mapping_shutdown(void (*done)(void));
void	mapping_free(void);
void	mapping_set_observer(void (*)(const struct mapping_status *));
/*
 * natmapctl add and remove: mappings at run time, kept over SIGHUP until
 * removed; remove takes only those added so.  -1 with a reason in err.
 */
struct conf_map;
int	mapping_runtime_add(const struct conf_map *, char *err, size_t);
int	mapping_runtime_remove(const struct conf_map *, char *err, size_t);
/*
 * A mapping natmapd needs for itself (owner "punch": hole punching's
 * ports), internal port = external port wanted: made, renewed, checked
 * and deleted at exit like the others, kept over SIGHUP, never taken by
 * natmapctl remove; its status row names the owner.  What the gateway
 * granted is read from the status (status_map_get).  -1 with errno
 * EEXIST when that external port is mapped already, EBUSY when stopping.
 */
int	mapping_own_add(int proto, uint16_t port, const char *owner);
/* The owner's mapping of port is no longer needed: deleted from the router. */
void	mapping_own_remove(int proto, uint16_t port);
/*
 * The bound mapping (proto, int_port, ext_want) is listed on the gateway
 * but does not forward (gwcheck.c): delete it and add it again.  -1 with
 * errno EAGAIN if it is not bound now, or a request for it is out.
 */
int	mapping_readd(int proto, uint16_t int_port, uint16_t ext_want);
size_t	mapping_count(int state);
const char *mapping_state_name(int);

#endif
