/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's settings: the configuration file's lines and the command line's values, checked; no I/O. */
#ifndef NATMAPD_RDV_CONF_H
#define NATMAPD_RDV_CONF_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RDV_CONF_MAX	65536	/* a bigger configuration file is refused */
#define RDV_CONF_NODES_MAX	10000000	/* max-nodes at most (RDV_REG_NODES_MAX) */

/* The settings, from the file then the command line; SIGHUP builds a new one whole. */
struct rdv_conf {
	int			have_listen, have_alt, have_alt_port;
	struct sockaddr_storage	listen;
	struct sockaddr_storage	alt;
	uint16_t		alt_port;
	int			have_max_nodes;
	size_t			max_nodes;	/* registrations held at most */
	char			networks[4096];	/* "" for none */
	int			have_turn;
	struct sockaddr_storage	turn;		/* the TURN server, port set */
	char			turn_secret_file[4096];	/* "" for none */
};

/*
 * One keyword ("listen", "alt-address", "alt-port", "max-nodes",
 * "networks", "turn", "turn-secret-file") and its
 * value into conf: 0, or -1 with the reason in err (no file:line).
 */
int	rdv_conf_set(struct rdv_conf *, const char *kw, const char *val,
	    char *err, size_t errlen);
/*
 * The file's len bytes ("keyword value" lines, # comments), named name in
 * errors: 0, or -1 with "name:line: message" in err.
 */
int	rdv_conf_parse(struct rdv_conf *, const char *name, const char *buf,
	    size_t len, char *err, size_t errlen);
/*
 * The checks across settings once file and command line are in (conf_file
 * named in the message when nothing is to be listened on; turn and
 * turn-secret-file both or neither); fills in the alternate port.  0, or
 * -1 with err.
 */
int	rdv_conf_check(struct rdv_conf *, const char *conf_file, char *err,
	    size_t errlen);
/* The normalized settings, as -nv prints them. */
void	rdv_conf_print(FILE *, const struct rdv_conf *);

#endif
