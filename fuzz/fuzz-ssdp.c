/* SPDX-License-Identifier: ISC */
/* Fuzz target: SSDP answers and NOTIFY messages (ssdp-msg.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssdp-msg.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssdp_msg m;
	const char *err = NULL;
	char req[1024];

	if (ssdp_parse((const char *)data, size, &m, &err) == -1) {
		CHECK(err != NULL);
		return 0;
	}
	CHECK(m.kind == SSDP_RESPONSE || m.kind == SSDP_ALIVE ||
	    m.kind == SSDP_BYEBYE);
	CHECK(memchr(m.location, '\0', sizeof(m.location)) != NULL);
	CHECK(memchr(m.st, '\0', sizeof(m.st)) != NULL);
	CHECK(memchr(m.usn, '\0', sizeof(m.usn)) != NULL);
	CHECK(m.st[0] != '\0');
	CHECK(m.igd >= 0 && m.igd <= 2);
	CHECK(m.bootid >= -1);
	if (m.kind != SSDP_BYEBYE)
		CHECK(strncmp(m.location, "http://", 7) == 0);
	/* an ST seen on the wire can be searched for again */
	if (ssdp_build_msearch(req, sizeof(req), SSDP_MCAST_ADDR, SSDP_PORT,
	    m.st, 2) < 0)
		abort();
	return 0;
}
