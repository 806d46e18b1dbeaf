/* SPDX-License-Identifier: ISC */
/* bench/window.h: the send loop of bench/rdv-rate.c and bench/rdv-register-rate.c: windows of UDP requests out, their answers in, counted. */
#ifndef NATMAPD_BENCH_WINDOW_H
#define NATMAPD_BENCH_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define WINDOW_MAX	256	/* requests in one window, at most */
#define WINDOW_MSG_MAX	512	/* bytes of a request or an answer */

/* What window_run() makes of an answer. */
enum {
	WINDOW_OTHER,		/* received, not counted */
	WINDOW_ANSWER,
	WINDOW_ERROR,
};

struct window_run {
	/* Request i of a window into buf: its length, or <= 0 to stop. */
	int		(*build)(int i, uint8_t *buf, size_t len, void *arg);
	/* An answer of len bytes: WINDOW_ANSWER, WINDOW_ERROR or WINDOW_OTHER. */
	int		(*judge)(const uint8_t *buf, size_t len, void *arg);
	void		 *arg;
	/* Filled in by window_run(). */
	unsigned long	  answers, errors, lost;
	double		  secs;		/* how long it ran */
};

/*
 * A UDP socket connected to ADDR (IPv4) and PORT: the descriptor, -2 if
 * ADDR is not an address, -1 (perror() said why) if no socket.
 */
int	window_connect(const char *addr, const char *port);

/*
 * For secs seconds: a window of w requests out in one sendmmsg(), then
 * their answers read until w came or none for 100 ms; what did not come
 * back is lost, and a window that could not go out is lost whole.
 * 0, or -1 if build() stopped it.
 */
int	window_run(int fd, double secs, int w, struct window_run *);

#endif
