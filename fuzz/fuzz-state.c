/* SPDX-License-Identifier: ISC */
/* Fuzz target: the state file, parsed, printed and parsed again (state.c). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "state.h"
#include "fuzz.h"

/* state_print into a string; NULL if out of memory. */
static char *
print(const struct state_entry *e, size_t n, size_t *len)
{
	char *s = NULL;
	FILE *fp;

	if ((fp = open_memstream(&s, len)) == NULL)
		return NULL;
	state_print(fp, e, n);
	if (fclose(fp) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void
check_entry(const struct state_entry *e)
{
	CHECK(strcmp(e->protocol, "pcp") == 0 ||
	    strcmp(e->protocol, "natpmp") == 0 ||
	    strcmp(e->protocol, "upnp") == 0);
	CHECK(e->proto == DRV_TCP || e->proto == DRV_UDP);
	CHECK(e->int_port >= 1 && e->ext_port >= 1);
}

static int
same(const struct state_entry *a, const struct state_entry *b)
{
	return strcmp(a->protocol, b->protocol) == 0 &&
	    a->proto == b->proto && a->int_port == b->int_port &&
	    a->ext_port == b->ext_port &&
	    memcmp(a->nonce, b->nonce, sizeof(a->nonce)) == 0 &&
	    a->gateway.s_addr == b->gateway.s_addr &&
	    a->local.s_addr == b->local.s_addr;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_entry *e, *e2;
	char err[512], *out, *out2;
	size_t n, n2, i, len, len2;

	if (state_parse("fuzz.state", (const char *)data, size, &e, &n, err,
	    sizeof(err)) == -1) {
		/* a damaged file is refused whole, with its position */
		CHECK(e == NULL && n == 0);
		CHECK(strncmp(err, "fuzz.state:", 11) == 0);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	CHECK(n <= STATE_MAX_ENTRIES);
	CHECK((n == 0) == (e == NULL));
	for (i = 0; i < n; i++)
		check_entry(&e[i]);

	/* what is printed reads back to the same entries and the same text */
	if ((out = print(e, n, &len)) != NULL) {
		if (state_parse("printed", out, len, &e2, &n2, err,
		    sizeof(err)) == -1)
			abort();
		CHECK(n2 == n);
		for (i = 0; i < n; i++)
			CHECK(same(&e[i], &e2[i]));
		if ((out2 = print(e2, n2, &len2)) != NULL) {
			CHECK(len == len2 && memcmp(out, out2, len) == 0);
			free(out2);
		}
		free(e2);
		free(out);
	}
	free(e);
	return 0;
}
