/* SPDX-License-Identifier: ISC */
/* The UPnP IGD driver: SSDP discovery, description, SOAP port mappings. */
#ifndef NATMAPD_UPNP_H
#define NATMAPD_UPNP_H

#include "driver.h"

extern const struct mapping_driver upnp_driver;

#endif
