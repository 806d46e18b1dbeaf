/* SPDX-License-Identifier: ISC */
/* Fuzz target: natmapd-rendezvous's configuration (rdv-conf.c). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rdv-conf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdv_conf conf, again;
	char err[1024], *text = NULL;
	size_t len = 0;
	FILE *fp;

	memset(&conf, 0, sizeof(conf));
	err[0] = '\0';
	if (rdv_conf_parse(&conf, "f", (const char *)data, size, err,
	    sizeof(err)) == -1) {
		/* refused: why, with the file's name and a line */
		CHECK(strncmp(err, "f:", 2) == 0);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	if (rdv_conf_check(&conf, "f", err, sizeof(err)) == -1) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	/* what is printed parses to the same settings, printed the same */
	if ((fp = open_memstream(&text, &len)) == NULL)
		return 0;
	rdv_conf_print(fp, &conf);
	if (fclose(fp) != 0) {
		free(text);
		return 0;
	}
	memset(&again, 0, sizeof(again));
	CHECK(rdv_conf_parse(&again, "p", text, len, err, sizeof(err)) == 0);
	CHECK(rdv_conf_check(&again, "p", err, sizeof(err)) == 0);
	CHECK(again.have_alt == conf.have_alt);
	CHECK(again.alt_port == conf.alt_port);
	CHECK(strcmp(again.networks, conf.networks) == 0);
	CHECK(memcmp(&again.listen, &conf.listen, sizeof(conf.listen)) == 0);
	free(text);
	return 0;
}
