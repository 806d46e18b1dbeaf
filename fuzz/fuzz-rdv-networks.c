/* SPDX-License-Identifier: ISC */
/* Fuzz target: natmapd-rendezvous's networks file (rdv-networks.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "rdv-networks.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdv_networks nets;
	char err[512], key[CRYPTO_KEY_TEXT_LEN + 1];
	const struct rdv_network *f;
	size_t i, len, nlines = 1;

	err[0] = '\0';
	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			nlines++;
	if (rdv_networks_parse(&nets, "f", (const char *)data, size, err,
	    sizeof(err)) == -1) {
		/* refused: why, with the file's name, and nothing left */
		CHECK(strncmp(err, "f:", 2) == 0);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(nets.v == NULL && nets.n == 0);
		return 0;
	}
	CHECK(nets.n <= nlines);
	CHECK(nets.n == 0 || nets.v != NULL);
	for (i = 0; i < nets.n; i++) {
		len = strlen(nets.v[i].name);
		CHECK(rdv_network_name_valid(nets.v[i].name, len));
		CHECK(nets.v[i].line >= 1 && nets.v[i].line <= nlines);
		/* sorted, each name once, found by its name */
		if (i > 0)
			CHECK(strcmp(nets.v[i - 1].name, nets.v[i].name) < 0);
		f = rdv_networks_find(&nets, nets.v[i].name, len);
		CHECK(f == &nets.v[i]);
		/* a shorter name is another network's, or none */
		f = rdv_networks_find(&nets, nets.v[i].name, len - 1);
		CHECK(f == NULL || (strlen(f->name) == len - 1 &&
		    strncmp(f->name, nets.v[i].name, len - 1) == 0));
		/* the key's text is in the input, as the file had it */
		crypto_key_format(nets.v[i].key, key);
		CHECK(size >= CRYPTO_KEY_TEXT_LEN);
	}
	CHECK(rdv_networks_find(&nets, "", 0) == NULL);
	rdv_networks_free(&nets);
	CHECK(nets.v == NULL && nets.n == 0);
	return 0;
}
