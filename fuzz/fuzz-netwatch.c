/* SPDX-License-Identifier: ISC */
/* Fuzz target: rtnetlink messages (netwatch-linux.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netwatch.h"
#include "fuzz.h"

#define ALL_BITS	(NETWATCH_ROUTE | NETWATCH_ADDR | NETWATCH_LINK)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf, *twice;
	int r;

	/*
	 * Netlink messages sit 4-byte aligned in a receive buffer: parse a
	 * malloc()ed copy of exactly the input's size, so that ASan sees
	 * any read past it.
	 */
	if ((buf = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	if (size > 0)
		memcpy(buf, data, size);
	r = netwatch_parse(buf, size);
	CHECK(r == -1 || (r & ~ALL_BITS) == 0);
	/* the messages of a good buffer, twice over, say the same */
	if (r >= 0 && size % 4 == 0 && size > 0) {
		if ((twice = malloc(size * 2)) == NULL)
			abort();
		memcpy(twice, buf, size);
		memcpy(twice + size, buf, size);
		CHECK(netwatch_parse(twice, size * 2) == r);
		free(twice);
	}
	free(buf);
	return 0;
}
