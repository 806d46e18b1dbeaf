/* SPDX-License-Identifier: ISC */
/* The stream multiplexer of a TCP carrier: streams, flow control, fair sending; a state machine without I/O. */
#ifndef NATMAPD_MUX_H
#define NATMAPD_MUX_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "mux-msg.h"

/*
 * One struct mux per carrier (the frames: include/mux-msg.h).  It owns no
 * socket and no timer; the carrier's driver (punch.c) moves bytes:
 *
 *	received plaintext	-> mux_input(): frames, callbacks
 *	carrier writable	-> mux_output(buf, n): whole frames to seal
 *	client socket readable	-> mux_write(id, ...) up to mux_room(id)
 *	client socket written	-> mux_consumed(id, n): WINDOW to the peer
 *
 * Sending is fair: frames of the carrier first (GOAWAY, PONG, PING,
 * resets), then each stream's OPEN and WINDOW, then one DATA frame per
 * stream in turn (round robin, at most MUX_DATA_MAX bytes each), so a bulk
 * stream delays an interactive one by one frame per other busy stream.
 * What a stream may have queued is bounded by MUX_SENDBUF and by the
 * peer's credit, so the memory of a carrier is bounded.
 *
 * Callbacks run from mux_input() and mux_output() (on_close also from
 * mux_reset() and mux_free(), and on every stream when the carrier
 * fails); they may call any mux function but mux_free(), on any stream.
 * A stream's id is dead once on_close has run for it.
 */

#define MUX_STREAMS_MAX		1024	/* open streams per carrier, both ways */
#define MUX_SENDBUF		65536	/* queued, not yet framed, per stream */
#define MUX_OUTPUT_MIN		64	/* mux_output's smallest useful n */
#define MUX_RESETS_MAX		4096	/* resets of forgotten streams waiting */

struct mux;

struct mux_callbacks {
	/*
	 * The peer opened stream id to service: 0 takes it (mux_set_udata
	 * may be called), or a MUX_RST_* reason refuses it.
	 */
	int	(*on_open)(struct mux *, uint32_t id, const char *service,
		    void *arg);
	/* Data of a stream: take it all; mux_consumed() once written on. */
	void	(*on_data)(struct mux *, uint32_t id, void *udata,
		    const uint8_t *data, size_t len);
	/* The peer sent FIN: no more data comes on this stream. */
	void	(*on_fin)(struct mux *, uint32_t id, void *udata);
	/* The peer reset the stream, or the carrier failed (reason 0). */
	void	(*on_rst)(struct mux *, uint32_t id, void *udata,
		    uint8_t reason);
	/* mux_room() of a stream that had none is no longer 0. */
	void	(*on_writable)(struct mux *, uint32_t id, void *udata);
	/* The stream is forgotten: both FINs, a reset, or mux_free(). */
	void	(*on_close)(struct mux *, uint32_t id, void *udata);
	/* The PONG to mux_ping() came, rtt in the unit of the clock. */
	void	(*on_pong)(struct mux *, uint64_t rtt, void *arg);
	/* The peer sent GOAWAY: open nothing more on this carrier. */
	void	(*on_goaway)(struct mux *, uint8_t reason, void *arg);
};

struct mux_stats {
	uint32_t	streams;	/* open now */
	uint64_t	opened_out;	/* by mux_open, ever */
	uint64_t	opened_in;	/* by the peer, taken */
	uint64_t	refused_in;	/* by the peer, refused */
	uint64_t	resets_in;	/* RST received for a live stream */
	uint64_t	resets_out;	/* RST sent */
	uint64_t	bytes_in;	/* DATA payload received */
	uint64_t	bytes_out;	/* DATA payload framed to send */
	uint64_t	frames_in;
	uint64_t	frames_out;
	uint64_t	late_frames;	/* for streams already forgotten */
	uint64_t	rtt;		/* the last PING's, 0 if none yet */
};

/*
 * A multiplexer for one carrier: initiator is 1 on the side that opens
 * odd stream ids (the session's initiator), 0 on the other.  arg is
 * passed to on_open, on_pong and on_goaway.  NULL on out of memory.
 */
struct mux *mux_new(int initiator, const struct mux_callbacks *,
	    void *arg);
/* Forget every stream (on_close each, no on_rst) and free the mux. */
void	mux_free(struct mux *);

/*
 * Received bytes of the carrier, in order, any cut.  now is the clock
 * (monotonic, any unit: the driver's) for PONG's round trip.  0, or -1
 * once the carrier has failed: mux_error() says why, every stream got
 * on_rst (0) and on_close, and mux_output() still gives the GOAWAY to
 * send before closing the carrier.
 */
int	mux_input(struct mux *, const uint8_t *buf, size_t len, uint64_t now);

/*
 * The next whole frames to send, into buf (n >= MUX_OUTPUT_MIN; n >=
 * MUX_FRAME_MAX lets a DATA frame be full): their length, 0 when nothing
 * is ready.  May call on_writable, and on_close for a stream whose
 * last FIN it framed.
 */
size_t	mux_output(struct mux *, uint8_t *buf, size_t n);
/* Whether mux_output() has something to give. */
int	mux_pending(const struct mux *);

/*
 * Open a stream to the peer's service: its id, or 0 (errno ENOSPC: too
 * many streams or the ids are spent; EPIPE: the peer went away or the
 * carrier failed; EINVAL: a bad name).
 */
uint32_t mux_open(struct mux *, const char *service, void *udata);
int	mux_set_udata(struct mux *, uint32_t id, void *udata);
void	*mux_udata(const struct mux *, uint32_t id);

/* How many bytes mux_write() takes now on stream id (0 if none). */
size_t	mux_room(const struct mux *, uint32_t id);
/*
 * Queue data to send on stream id: how much was taken (at most
 * mux_room()), on_writable follows when room comes back.  -1 (errno
 * ENOENT) for a stream that is not open, EPIPE after mux_fin().
 */
ssize_t	mux_write(struct mux *, uint32_t id, const uint8_t *data, size_t n);
/* Half-close: FIN after what is queued. 0, or -1 (ENOENT, EPIPE). */
int	mux_fin(struct mux *, uint32_t id);
/*
 * Reset stream id now with a MUX_RST_* reason: queued data is dropped,
 * RST queued, on_close runs before this returns.  0, or -1 (ENOENT).
 */
int	mux_reset(struct mux *, uint32_t id, uint8_t reason);
/* The application wrote n received bytes on: WINDOW when half is used. */
int	mux_consumed(struct mux *, uint32_t id, size_t n);

/* Send a PING stamped now; 0, or -1 (EBUSY: one is outstanding). */
int	mux_ping(struct mux *, uint64_t now);
/* Take no new streams from the peer, and tell it (GOAWAY). */
void	mux_goaway(struct mux *, uint8_t reason);

/* Why the carrier failed, NULL while it has not. */
const char *mux_error(const struct mux *);
void	mux_stats(const struct mux *, struct mux_stats *);

#endif
