/* SPDX-License-Identifier: ISC */
/* natmapd --probe: a one-shot report on the network, its NAT and what --map can do. */
#ifndef NATMAPD_PROBE_H
#define NATMAPD_PROBE_H

#include "conf.h"

#define PROBE_EXIT_NOTHING	69	/* EX_UNAVAILABLE: nothing answered */

/* Measure, print the report (JSON if json), return the exit status. */
int	probe_run(const struct config *, int json);

#endif
