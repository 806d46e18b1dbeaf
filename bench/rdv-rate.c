/* SPDX-License-Identifier: ISC */
/* bench/rdv-rate.c: STUN Binding requests over UDP in windows, answers counted (bench/rendezvous.sh builds it). */
#include <sys/random.h>
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "window.h"

static uint8_t	prefix[4];
static uint32_t	seq;

/* A request: type 0x0001, length 0, cookie, ID */
static int
build(int i, uint8_t *req, size_t len, void *arg)
{
	(void)i;
	(void)len;
	(void)arg;
	memcpy(req, "\x00\x01\x00\x00\x21\x12\xa4\x42", 8);
	memcpy(req + 8, prefix, 4);
	memset(req + 12, 0, 4);
	req[16] = (uint8_t)(seq >> 24);
	req[17] = (uint8_t)(seq >> 16);
	req[18] = (uint8_t)(seq >> 8);
	req[19] = (uint8_t)seq;
	seq++;
	return 20;
}

/* A Binding success to one of ours */
static int
judge(const uint8_t *ans, size_t len, void *arg)
{
	(void)arg;
	if (len >= 20 && ans[0] == 0x01 && ans[1] == 0x01 &&
	    memcmp(ans + 8, prefix, 4) == 0)
		return WINDOW_ANSWER;
	return WINDOW_OTHER;
}

int
main(int argc, char *argv[])
{
	struct window_run run = { .build = build, .judge = judge };
	double secs;
	int fd, w;

	if (argc != 5) {
		fprintf(stderr, "usage: rdv-rate ADDR PORT SECONDS WINDOW\n");
		return 2;
	}
	secs = atof(argv[3]);
	w = atoi(argv[4]);
	if (w < 1 || w > WINDOW_MAX || secs <= 0)
		return 2;
	if ((fd = window_connect(argv[1], argv[2])) < 0)
		return fd == -2 ? 2 : 1;
	if (getrandom(prefix, sizeof(prefix), 0) != sizeof(prefix))
		return 1;
	window_run(fd, secs, w, &run);
	printf("%lu answers in %.2f s: %.0f/s, %lu lost\n", run.answers,
	    run.secs, (double)run.answers / run.secs, run.lost);
	close(fd);
	return run.answers > 0 ? 0 : 1;
}
