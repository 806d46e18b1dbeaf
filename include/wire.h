/* SPDX-License-Identifier: ISC */
/* Big-endian fields of wire formats, read and written byte by byte (no casts over buffers). */
#ifndef NATMAPD_WIRE_H
#define NATMAPD_WIRE_H

#include <stddef.h>
#include <stdint.h>

static inline void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t
wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A codec's refusal: *err = why (if err), and -1. */
static inline int
wire_fail(const char **err, const char *why)
{
	if (err != NULL)
		*err = why;
	return -1;
}

#endif
