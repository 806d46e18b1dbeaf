/* SPDX-License-Identifier: ISC */
/* The single-threaded event loop: fd watchers and timers on one monotonic clock. */
#ifndef NATMAPD_LOOP_H
#define NATMAPD_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct timer {
	uint64_t	  deadline;		/* ms on the loop clock */
	void		(*cb)(struct timer *);
	struct timer	 *next;
	int		  armed;
};

#define LOOP_READ	0x1
#define LOOP_WRITE	0x2

struct loop_fd {
	int		  fd;
	int		  events;		/* LOOP_READ | LOOP_WRITE */
	void		(*cb)(struct loop_fd *, int revents);
	struct loop_fd	 *next;
	int		  added;
};

/* The clock, in milliseconds; tests may replace it. */
uint64_t	loop_now(void);
void		loop_set_clock(uint64_t (*)(void));

void		timer_init(struct timer *, void (*)(struct timer *));
void		timer_set(struct timer *, uint64_t delay_ms);
void		timer_set_at(struct timer *, uint64_t deadline);
void		timer_stop(struct timer *);
int		timer_armed(const struct timer *);
/* Milliseconds until the timer fires, 0 if due, UINT64_MAX if not armed. */
uint64_t	timer_remaining(const struct timer *);

void		loop_fd_add(struct loop_fd *, int fd, int events,
		    void (*)(struct loop_fd *, int));
void		loop_fd_events(struct loop_fd *, int events);
void		loop_fd_del(struct loop_fd *);

/* Run the timers that are due now; returns how many ran. */
int		loop_run_timers(void);
/* Wait for at most one round of events (and due timers). */
int		loop_once(int max_wait_ms);
void		loop_run(void);
void		loop_stop(void);

/* A random value in [0, n); from getrandom(). */
uint32_t	loop_random(uint32_t n);
/* d scaled by a random factor in [1 - pct/100, 1 + pct/100]. */
uint64_t	loop_jitter(uint64_t d, unsigned int pct);
/*
 * The next wait of a backoff whose step is in *b (0 at first): the step,
 * at least min, with 20% jitter and at most max; the step doubles, up to max.
 */
uint64_t	loop_backoff(uint64_t *b, uint64_t min, uint64_t max);

#endif
