/* SPDX-License-Identifier: ISC */
/* Shared by the fuzz targets: the entry point and invariant checks. */
#ifndef NATMAPD_FUZZ_H
#define NATMAPD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A broken invariant is a crash, so libFuzzer reports wrong answers too. */
#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static inline int
fuzz_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

#endif
