/* SPDX-License-Identifier: ISC */
/* natmapd --probe: a one-shot report on the network, its NAT and what --map can do. */
#ifndef NATMAPD_PROBE_H
#define NATMAPD_PROBE_H

#include "conf.h"

#define PROBE_EXIT_NOTHING	69	/* EX_UNAVAILABLE: nothing answered */

#define PROBE_LIFETIME_MAX	3600	/* --mapping-lifetime's largest */

struct probe_opts {
	int		json;		/* the report as JSON */
	unsigned int	lifetime_max;	/* seconds; 0: no mapping lifetime test */
};

/* Measure, print the report, return the exit status. */
int	probe_run(const struct config *, const struct probe_opts *);

#endif
