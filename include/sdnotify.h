/* SPDX-License-Identifier: ISC */
/* Telling a service manager how natmapd is doing: sd_notify(3)'s datagrams, without libsystemd. */
#ifndef NATMAPD_SDNOTIFY_H
#define NATMAPD_SDNOTIFY_H

#include <stddef.h>
#include <stdint.h>

/*
 * STATUS= goes out when the summary changed: this long after an endpoint
 * or gateway event (a burst is one message), never sooner than MIN_MS
 * after the last one; the table is also looked at every POLL_MS.
 */
#define SDNOTIFY_STATUS_DELAY_MS	200
#define SDNOTIFY_STATUS_MIN_MS		5000
#define SDNOTIFY_STATUS_POLL_MS		20000
/* sdnotify_ready_after_search(): READY=1 at the latest this long after. */
#define SDNOTIFY_READY_MAX_MS		30000

/*
 * Read $NOTIFY_SOCKET ("/path" or "@abstract"), $WATCHDOG_USEC and
 * $WATCHDOG_PID, and unset them (hooks do not inherit them); connect to the
 * socket (before dropping root: its directory may be root's alone), follow
 * the status table (after status_init()) and start the watchdog.  0 if
 * there is a socket to talk to; -1 if not, and every other call does
 * nothing.
 */
int	sdnotify_init(void);
/*
 * The same for natmapd-rendezvous, which has no status table: STATUS= is
 * the line given here or to sdnotify_set_status() (sent when it changed,
 * once READY=1 went out), and STOPPING=1 says "exiting".
 */
int	sdnotify_init_server(const char *);
void	sdnotify_set_status(const char *);
void	sdnotify_free(void);
/* READY=1 and STATUS=, once: the first gateway probe is over, found or not. */
void	sdnotify_ready(void);
/*
 * sdnotify_ready() as soon as the status table says the first search for
 * the gateway has ended (found or not; now if it has), and READY_MAX_MS
 * after this call if it has not.
 */
void	sdnotify_ready_after_search(void);
/* SIGHUP: RELOADING=1 with MONOTONIC_USEC=, then READY=1 once reloaded. */
void	sdnotify_reloading(void);
void	sdnotify_reloaded(void);
/* SIGTERM: STOPPING=1; STATUS= stops, the watchdog goes on until exit. */
void	sdnotify_stopping(void);
/* One datagram; 0, or -1 (a failure is logged once until a send works). */
int	sdnotify_send(const char *);
/* The one-line summary: "3 mappings via PCP at 203.0.113.7". */
void	sdnotify_status_text(char *, size_t);
/* Half of WATCHDOG_USEC, in ms; 0 when there is no watchdog for us. */
uint64_t sdnotify_watchdog_ms(void);

#endif
