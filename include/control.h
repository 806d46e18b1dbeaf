/* SPDX-License-Identifier: ISC */
/* The control socket: natmapctl's requests, served from the event loop. */
#ifndef NATMAPD_CONTROL_H
#define NATMAPD_CONTROL_H

#include <stddef.h>

#include "control-msg.h"

#define CONTROL_MAX_CLIENTS	32
#define CONTROL_IDLE_MS		30000	/* a client without a complete request */
/* Answers a client has not read yet: the largest answer and some more. */
#define CONTROL_MAX_OUTPUT	(CONTROL_MAX_ANSWER + 64 * 1024)

/*
 * What the commands do, filled in by main.c: 0, or -1 with a message for
 * the client in err.  A NULL entry answers "not supported yet".  status
 * and wait are served here, from status.h.
 */
struct control_ops {
	int	(*check)(const struct control_req *, char *err, size_t);
	int	(*reload)(const struct control_req *, char *err, size_t);
	int	(*add)(const struct control_req *, char *err, size_t);
	int	(*remove)(const struct control_req *, char *err, size_t);
	/* services at run time (punch.c) */
	int	(*expose)(const struct control_req *, char *err, size_t);
	int	(*unexpose)(const struct control_req *, char *err, size_t);
	int	(*connect)(const struct control_req *, char *err, size_t);
	int	(*disconnect)(const struct control_req *, char *err, size_t);
};

/*
 * Listen on the UNIX socket path (mode 0660; missing directories above it
 * are created, mode 0755).  A socket left there by a natmapd that is gone
 * is replaced; one that answers is not.  Subscribes to status events for
 * wait: call it after status_init().  0, or -1 with a message in err.
 */
int	control_open(const char *path, const struct control_ops *,
	    char *err, size_t errlen);
/* Close every client and the socket, and remove it. */
void	control_close(void);
size_t	control_client_count(void);

#endif
