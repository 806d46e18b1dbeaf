/* SPDX-License-Identifier: ISC */
/* What the protocol drivers share beyond their interface: the rule for a port offered instead. */
#include "config.h"

#include <stdio.h>

#include "driver.h"

int
drv_offer_refused(const struct drv_map *req, uint16_t granted,
    const char *proto, char *detail, size_t len)
{
	if (granted == req->ext_port || req->any_port)
		return 0;
	snprintf(detail, len, "external port %u is taken; the gateway offered "
	    "%u (%s)", req->ext_port, granted, proto);
	return 1;
}

uint32_t
drv_map_lifetime(const struct drv_map *m)
{
	return m->lease != 0 ? m->lease : DRV_LEASE_LONGEST;
}

void	(*drv_heard_hook)(void);

void
drv_heard(void)
{
	if (drv_heard_hook != NULL)
		drv_heard_hook();
}
