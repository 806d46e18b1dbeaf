/* SPDX-License-Identifier: ISC */
/* The life cycle natmapd and natmapd-rendezvous share: detaching, the pid file, signals into the loop. */
#ifndef NATMAPD_DAEMON_H
#define NATMAPD_DAEMON_H

/*
 * Go on in a grandchild that leads no session and has no terminal (the
 * parents exit 0), in /, with stdin, stdout and stderr on /dev/null.
 * fatal() if a fork, setsid() or chdir() fails.
 */
void	daemon_detach(void);

/*
 * SIGTERM, SIGINT, SIGHUP and SIGUSR1 through a self-pipe watched by the
 * loop: cb(signo) runs there, never in the handler.  SIGPIPE is ignored.
 * Once, at start; fatal() if it cannot be set up.
 */
void	daemon_signals(void (*cb)(int));

/*
 * Write our pid to path, and keep a copy of path (the configuration that
 * named it may be replaced); a failure to write is logged, not fatal.
 */
void	daemon_pidfile_write(const char *path);
/* At exit: remove the pid file written, if any; a failure is logged. */
void	daemon_pidfile_remove(void);
/* The same, nothing logged nor freed: before _exit(). */
void	daemon_pidfile_unlink(void);

#endif
