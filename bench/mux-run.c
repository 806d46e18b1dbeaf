/* SPDX-License-Identifier: ISC */
/* The multiplexer alone: MiB through two muxes back to back in memory over N streams, CPU seconds per GiB (no crypto, no sockets). */
/* usage: mux-run [MIB [STREAMS]]   (defaults 1024 MiB, 4 streams) */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mux.h"

static uint64_t	received;

static void
on_data(struct mux *m, uint32_t id, void *udata, const uint8_t *d,
    size_t len)
{
	(void)udata;
	(void)d;
	received += len;
	(void)mux_consumed(m, id, len);
}

static int
on_open(struct mux *m, uint32_t id, const char *service, void *arg)
{
	(void)m;
	(void)id;
	(void)service;
	(void)arg;
	return 0;
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	static const struct mux_callbacks cb = {
		.on_open = on_open, .on_data = on_data,
	};
	static uint8_t chunk[MUX_SENDBUF], out[MUX_FRAME_MAX * 4];
	uint64_t want, sent = 0;
	uint32_t *ids;
	struct mux *a, *b;
	double t0, t;
	long mib = argc > 1 ? atol(argv[1]) : 1024;
	long n = argc > 2 ? atol(argv[2]) : 4, i;
	size_t got;
	ssize_t k;

	if (mib < 1 || n < 1 || n > MUX_STREAMS_MAX) {
		fprintf(stderr, "usage: mux-run [MIB [STREAMS (1-%d)]]\n",
		    MUX_STREAMS_MAX);
		return 2;
	}
	want = (uint64_t)mib << 20;
	memset(chunk, 0x5a, sizeof(chunk));
	if ((a = mux_new(1, &cb, NULL)) == NULL ||
	    (b = mux_new(0, &cb, NULL)) == NULL ||
	    (ids = calloc((size_t)n, sizeof(*ids))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if ((ids[i] = mux_open(a, "bench", NULL)) == 0)
			return 1;
	t0 = cpu_seconds();
	while (received < want) {
		for (i = 0; i < n && sent < want; i++) {
			k = mux_write(a, ids[i], chunk, sizeof(chunk));
			if (k < 0)
				return 1;
			sent += (uint64_t)k;
		}
		/* records of 16 KiB and a bit, as the carrier would seal */
		while ((got = mux_output(a, out, MUX_FRAME_MAX)) > 0)
			if (mux_input(b, out, got, 0) == -1)
				return 1;
		while ((got = mux_output(b, out, MUX_FRAME_MAX)) > 0)
			if (mux_input(a, out, got, 0) == -1)
				return 1;
	}
	t = cpu_seconds() - t0;
	printf("%ld MiB over %ld streams: %.3f s CPU, %.0f MiB/s, "
	    "%.3f s CPU per GiB\n", mib, n, t, t > 0 ? (double)mib / t : 0,
	    t * 1024 / (double)mib);
	mux_free(a);
	mux_free(b);
	free(ids);
	return 0;
}
