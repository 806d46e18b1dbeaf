/* SPDX-License-Identifier: ISC */
/* Shared by the fuzz targets: the entry point and invariant checks. */
#ifndef NATMAPD_FUZZ_H
#define NATMAPD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* A NUL within the array, and only printable ASCII before it. */
static inline void
fuzz_check_string(const char *s, size_t size)
{
	const char *nul = memchr(s, '\0', size);
	const char *p;

	CHECK(nul != NULL);
	for (p = s; p < nul; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

#endif
