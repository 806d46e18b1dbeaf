/* SPDX-License-Identifier: ISC */
/* The event loop: poll(2) over the watched descriptors, timers in a sorted list. */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"

static struct timer	*timers;	/* sorted by deadline */
static struct loop_fd	*fds;
static size_t		 nfds_added;
static int		 loop_stopped;

/* poll(2)'s arrays, grown to the number of watched descriptors. */
static struct pollfd	*pfd;
static struct loop_fd	**pmap;
static size_t		 pcap;

static uint64_t
loop_monotonic(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t	(*loop_clock)(void) = loop_monotonic;

uint64_t
loop_now(void)
{
	return loop_clock();
}

void
loop_set_clock(uint64_t (*clock)(void))
{
	loop_clock = clock != NULL ? clock : loop_monotonic;
}

void
timer_init(struct timer *t, void (*cb)(struct timer *))
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
}

void
timer_stop(struct timer *t)
{
	struct timer **p;

	if (!t->armed)
		return;
	for (p = &timers; *p != NULL; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = 0;
}

void
timer_set_at(struct timer *t, uint64_t deadline)
{
	struct timer **p;

	timer_stop(t);
	t->deadline = deadline;
	for (p = &timers; *p != NULL && (*p)->deadline <= deadline;
	    p = &(*p)->next)
		;
	t->next = *p;
	*p = t;
	t->armed = 1;
}

void
timer_set(struct timer *t, uint64_t delay_ms)
{
	timer_set_at(t, loop_now() + delay_ms);
}

int
timer_armed(const struct timer *t)
{
	return t->armed;
}

uint64_t
timer_remaining(const struct timer *t)
{
	uint64_t now;

	if (!t->armed)
		return UINT64_MAX;
	now = loop_now();
	return t->deadline > now ? t->deadline - now : 0;
}

void
loop_fd_add(struct loop_fd *lf, int fd, int events,
    void (*cb)(struct loop_fd *, int))
{
	if (lf->added)
		loop_fd_del(lf);
	lf->fd = fd;
	lf->events = events;
	lf->cb = cb;
	lf->next = fds;
	lf->added = 1;
	fds = lf;
	nfds_added++;
}

void
loop_fd_events(struct loop_fd *lf, int events)
{
	lf->events = events;
}

void
loop_fd_del(struct loop_fd *lf)
{
	struct loop_fd **p;

	if (!lf->added)
		return;
	for (p = &fds; *p != NULL; p = &(*p)->next) {
		if (*p == lf) {
			*p = lf->next;
			break;
		}
	}
	lf->next = NULL;
	lf->added = 0;
	nfds_added--;
}

int
loop_run_timers(void)
{
	struct timer *t;
	uint64_t now = loop_now();
	int n = 0;

	/* A callback may re-arm itself for "now": bound the round. */
	while ((t = timers) != NULL && t->deadline <= now && n < 10000) {
		timers = t->next;
		t->next = NULL;
		t->armed = 0;
		t->cb(t);
		n++;
	}
	return n;
}

int
loop_once(int max_wait_ms)
{
	struct loop_fd *lf;
	uint64_t now;
	size_t cap;
	int i, n = 0, timeout = max_wait_ms, r;

	loop_run_timers();

	if (nfds_added > pcap) {
		/* every watched descriptor is polled: there is no cap here */
		cap = pcap == 0 ? 64 : pcap;
		while (cap < nfds_added)
			cap *= 2;
		if ((pfd = reallocarray(pfd, cap, sizeof(*pfd))) == NULL ||
		    (pmap = reallocarray(pmap, cap, sizeof(*pmap))) == NULL)
			fatal("loop: %zu descriptors", cap);
		pcap = cap;
	}
	for (lf = fds; lf != NULL && (size_t)n < pcap; lf = lf->next) {
		pfd[n].fd = lf->fd;
		pfd[n].events = ((lf->events & LOOP_READ) ? POLLIN : 0) |
		    ((lf->events & LOOP_WRITE) ? POLLOUT : 0);
		pfd[n].revents = 0;
		pmap[n++] = lf;
	}
	if (timers != NULL) {
		now = loop_now();
		if (timers->deadline <= now)
			timeout = 0;
		else if (timeout < 0 ||
		    timers->deadline - now < (uint64_t)timeout)
			timeout = (int)(timers->deadline - now);
	}
	r = poll(pfd, (nfds_t)n, timeout);
	if (r == -1) {
		if (errno != EINTR)
			fatal("poll");
		return 0;
	}
	for (i = 0; i < n && r > 0; i++) {
		int rev = 0;

		if (pfd[i].revents == 0)
			continue;
		r--;
		/* The callback of an earlier descriptor may have removed this one. */
		for (lf = fds; lf != NULL && lf != pmap[i]; lf = lf->next)
			;
		if (lf == NULL || lf->fd != pfd[i].fd)
			continue;
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			rev |= LOOP_READ;
		if (pfd[i].revents & (POLLOUT | POLLHUP | POLLERR))
			rev |= LOOP_WRITE;
		rev &= lf->events ? lf->events : rev;
		if (rev)
			lf->cb(lf, rev);
	}
	loop_run_timers();
	return 1;
}

void
loop_stop(void)
{
	loop_stopped = 1;
}

void
loop_run(void)
{
	loop_stopped = 0;
	while (!loop_stopped)
		loop_once(-1);
}

uint32_t
loop_random(uint32_t n)
{
	uint32_t v, lim;

	if (n <= 1)
		return 0;
	lim = UINT32_MAX - UINT32_MAX % n;
	do {
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			fatal("getrandom");
	} while (v >= lim);
	return v % n;
}

uint64_t
loop_jitter(uint64_t d, unsigned int pct)
{
	uint64_t span = d * pct / 100;

	if (span == 0)
		return d;
	return d - span + loop_random((uint32_t)(2 * span + 1));
}

uint64_t
loop_backoff(uint64_t *b, uint64_t min, uint64_t max)
{
	uint64_t d = *b < min ? min : *b;

	*b = d * 2 > max ? max : d * 2;
	d = loop_jitter(d, 20);
	return d > max ? max : d;
}
