/* SPDX-License-Identifier: ISC */
/* The daemon's look past the gateway: does the internet see the gateway's external address? */
#ifndef NATMAPD_WANCHECK_H
#define NATMAPD_WANCHECK_H

#include <netinet/in.h>

#include <stddef.h>

#include "conf.h"

/* The STUN servers to ask (the config's stun-server statements); copied. */
void	wancheck_set_servers(const struct conf_server *, size_t);
/*
 * Ask the servers in turn, from local, which address they see; warn if it
 * is not gw_ext, the address the gateway (named by who, for the log) says
 * it has.  Replaces a check under way; nothing happens without servers.
 */
void	wancheck_start(struct in_addr local, struct in_addr gw_ext,
	    const char *who);
void	wancheck_stop(void);

#endif
