/* SPDX-License-Identifier: ISC */
/* Pacing: requests to a gateway go out a window at a time, the window following its answers. */
#ifndef NATMAPD_PACE_H
#define NATMAPD_PACE_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "loop.h"

/*
 * A router that takes its time (miniupnpd with its nftables backend needs
 * 0.2 to 0.5 s an operation once it holds 100 rules) answers requests one
 * after the other: what is sent at once waits in its socket, retransmits,
 * and is taken for a lost gateway.  So at most `window' requests are out;
 * the window grows by one for each prompt answer (once it was cut, for
 * each window's worth of them), comes down to what the gateway answers
 * promptly on a slow answer, and halves, once a round, on a request that
 * got no answer.
 */
#define PACE_WINDOW_FIRST	4
#define PACE_WINDOW_MAX		32
/* Prompt: within twice the quickest answer of the last 10 to 20 s, plus this. */
#define PACE_PROMPT_SLACK_MS	50
#define PACE_BASE_WINDOW_MS	10000
/*
 * The first retransmission the drivers are told of: at most this.  (10 s
 * was tried: under loss, NAT-PMP then waited 10 s to send again, and a
 * SIGTERM's deletes overran their bound.)
 */
#define PACE_RTO_MAX_MS		4000
/* Sent again this often, while the gateway answers others, before giving up. */
#define PACE_RESENDS		2

enum pace_kind {
	PACE_MAP,
	PACE_UNMAP,
	PACE_VERIFY,		/* look a mapping up (drv->verify) */
};

enum pace_op_state {
	PACE_IDLE,
	PACE_QUEUED,		/* waits for room in the window: no clock runs */
	PACE_SENT,
};

struct pace;

/* One request; its owner embeds it, and may reuse it once done was called. */
struct pace_op {
	struct drv_op			 op;	/* what the driver sees */
	void				(*done)(struct pace_op *,
					    const struct drv_result *);
	struct pace			*pace;
	const struct mapping_driver	*drv;
	int				 kind;	/* enum pace_kind */
	int				 state;	/* enum pace_op_state */
	unsigned int			 resends;
	struct drv_map			 req;
	uint64_t			 sent_at;
	unsigned int			 ahead;	/* out when sent, itself too */
	struct pace_op			*next;	/* in the queue */
};

/* One gateway's queue and window. */
struct pace {
	const struct mapping_driver	*drv;	/* what the figures below are of */
	unsigned int			 window;
	unsigned int			 sent;	/* out now */
	struct pace_op			*head;
	struct pace_op			*tail;
	size_t				 queued;
	uint64_t			 last_answer;	/* 0: none yet */
	uint64_t			 cut_at;	/* the window's last halving */
	unsigned int			 prompt;	/* prompt answers since growing */
	uint64_t			 base_rtt;	/* quickest answer lately: */
	uint64_t			 base_cur;	/* of this period */
	uint64_t			 base_prev;	/* and the one before */
	uint64_t			 base_at;	/* this period's start */
	uint64_t			 srtt;		/* 0: no answer yet */
	uint64_t			 rttvar;
	int				 kicking;
	struct timer			 kick_timer;
};

void	pace_init(struct pace *);
void	pace_op_init(struct pace_op *,
	    void (*)(struct pace_op *, const struct drv_result *));
/*
 * Queue a request (one already out is cancelled first); it goes out when
 * the window has room, maybe at once.  done is called once, unless
 * pace_cancel() comes first, with DRV_ERR_GATEWAY only when the gateway
 * answered nothing at all since the request was first sent, and
 * DRV_ERR_SLOW when it answered others but not this one.
 */
void	pace_map(struct pace *, struct pace_op *,
	    const struct mapping_driver *, const struct drv_map *);
void	pace_unmap(struct pace *, struct pace_op *,
	    const struct mapping_driver *, const struct drv_map *);
/* Look a mapping up, paced the same way (a whole table is checked at once). */
void	pace_verify(struct pace *, struct pace_op *,
	    const struct mapping_driver *, const struct drv_map *);
void	pace_cancel(struct pace_op *);
int	pace_busy(const struct pace_op *);	/* queued or sent */
int	pace_sent(const struct pace_op *);	/* may have reached the gateway */
/* When the gateway last answered anything (0: never). */
uint64_t pace_last_answer(const struct pace *);
/* The gateway said something that answers none of ours: it is alive. */
void	pace_heard(struct pace *);
/* The smoothed time the gateway takes to answer (0: none yet). */
uint64_t pace_srtt(const struct pace *);
unsigned int pace_window(const struct pace *);
void	pace_free(struct pace *);

#endif
