/* SPDX-License-Identifier: ISC */
/* Fuzz target: natmapd.conf(5) parsing and printing (config.c). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

static FILE	*devnull;

/* config_print into a string; NULL if out of memory. */
static char *
print(const struct config *c, size_t *len)
{
	char *s = NULL;
	FILE *fp;

	if ((fp = open_memstream(&s, len)) == NULL)
		return NULL;
	config_print(fp, c);
	fclose(fp);
	return s;
}

static void
check_maps(const struct config *c)
{
	size_t i, ports = 0;

	CHECK(c->nports <= CONF_MAX_MAPS);
	for (i = 0; i < c->nmaps; i++) {
		const struct conf_map *m = &c->maps[i];

		CHECK(m->proto == CONF_TCP || m->proto == CONF_UDP);
		CHECK(m->int_first >= 1 && m->int_first <= m->int_last);
		CHECK(m->ext_first >= 1);
		CHECK((unsigned)m->ext_first + (m->int_last - m->int_first) <=
		    65535);
		ports += (size_t)(m->int_last - m->int_first) + 1;
	}
	CHECK(ports == c->nports);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, c2;
	struct conf_map m;
	const uint8_t *nl;
	char err[512], *out, *out2, *line;
	size_t len, len2, ll;
	uint32_t lease;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	config_init(&c);
	if (config_parse_buf(&c, "fuzz.conf", (const char *)data, size, err,
	    sizeof(err)) == -1) {
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		config_print(devnull, &c);
		config_free(&c);
	} else {
		check_maps(&c);
		config_print(devnull, &c);
		/* the normalised config reads back to itself */
		if ((out = print(&c, &len)) != NULL) {
			config_init(&c2);
			if (config_parse_buf(&c2, "printed", out, len, err,
			    sizeof(err)) == -1)
				abort();
			if ((out2 = print(&c2, &len2)) != NULL) {
				CHECK(len == len2 && memcmp(out, out2, len) == 0);
				free(out2);
			}
			config_free(&c2);
			free(out);
		}
		config_free(&c);
	}

	/* the first line as a --map and a --lease argument */
	nl = memchr(data, '\n', size);
	ll = nl != NULL ? (size_t)(nl - data) : size;
	if ((line = malloc(ll + 1)) != NULL) {
		memcpy(line, data, ll);
		line[ll] = '\0';
		if (config_parse_map(line, &m, err, sizeof(err)) == 0) {
			char buf[64];
			struct conf_map m2;

			config_format_map(&m, buf, sizeof(buf));
			CHECK(config_parse_map(buf, &m2, err, sizeof(err)) == 0);
			CHECK(m.proto == m2.proto &&
			    m.int_first == m2.int_first &&
			    m.int_last == m2.int_last &&
			    m.ext_first == m2.ext_first);
		}
		if (config_parse_lease(line, &lease, err, sizeof(err)) == 0)
			CHECK(lease == 0 || (lease >= CONF_LEASE_MIN &&
			    lease <= CONF_LEASE_MAX));
		free(line);
	}
	return 0;
}
