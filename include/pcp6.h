/* SPDX-License-Identifier: ISC */
/*
 * IPv6 pinholes through PCP: for each mapping the PCP driver makes over
 * IPv4, a twin MAP over IPv6 (same nonce, same ports) when the host has a
 * global IPv6 address and its IPv6 router answers PCP.  Only pcp.c uses it.
 */
#ifndef NATMAPD_PCP6_H
#define NATMAPD_PCP6_H

#include "driver.h"

/* Follow env (its IPv6 part): ANNOUNCE to the router, listen on ff02::1. */
void	pcp6_open(const struct drv_env *);
void	pcp6_close(void);
/* Open or refresh the pinhole for m; it renews itself from then on. */
void	pcp6_want(const struct drv_map *);
/*
 * Close the pinhole for m: 0 when a delete is out, then done(arg) once it
 * is answered or given up; -1 when there was nothing to delete.
 */
int	pcp6_drop(const struct drv_map *, void (*done)(void *), void *arg);
/* No done() for arg any more (its request was cancelled). */
void	pcp6_forget(void *arg);

#endif
