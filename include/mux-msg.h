/* SPDX-License-Identifier: ISC */
/* The stream multiplexer's frames (inside the TCP carrier) and the UDP flow frame: bytes <-> structs, no I/O. */
#ifndef NATMAPD_MUX_MSG_H
#define NATMAPD_MUX_MSG_H

#include <stddef.h>
#include <stdint.h>

/*
 * WIRE FORMAT (the reference; doc/hole-punching.md only points here).
 *
 * The TCP carrier between two nodes is a byte stream of frames, carried
 * inside the carrier's encrypted records (session.c); a frame may span
 * records, so the receiver cuts the stream with mux_frame_len().  Every
 * frame is an 8-byte header and a payload, all integers big-endian:
 *
 *	type (1) | flags (1) = 0 | length (2) | stream id (4) | payload (length)
 *
 *	type	name	stream id	payload
 *	0x01	OPEN	the new stream	service name, 1-32 bytes of [a-z0-9._-]
 *	0x02	DATA	an open stream	1-16384 bytes of the stream's data
 *	0x03	WINDOW	an open stream	credit increment (4), 1 to 2^31 - 1
 *	0x04	FIN	an open stream	none: the sender sends no more data
 *	0x05	RST	a stream	reason (1), see enum mux_rst
 *	0x06	PING	0		8 opaque bytes
 *	0x07	PONG	0		the 8 bytes of the PING it answers
 *	0x08	GOAWAY	0		last stream id (4) of the receiver's that
 *					the sender took, reason (1), see enum
 *					mux_goaway
 *
 * Anything else is refused: an unknown type, flags not 0, a length out of
 * its type's range (a fixed-size payload of another size), a stream id 0
 * on a stream frame or not 0 on a carrier frame (PING, PONG, GOAWAY), a
 * service name with a byte outside [a-z0-9._-].  A refused frame is a
 * protocol error that ends the carrier (mux.c): the stream cannot be
 * resynchronised after it.
 *
 * Stream ids: the carrier's initiator (the side of the session that sent
 * CONNECT) opens odd ids, the other side even ones, each side counting up
 * from its first (1 or 2) and never reusing an id in a carrier.  A stream
 * is opened by its OPEN frame (DATA may follow at once, without waiting
 * for an answer); the receiver either takes it silently or answers RST
 * (refused, not exposed, not allowed, service down).  Each direction of a
 * stream ends with FIN (half-close: the other direction goes on) or with
 * RST (both directions, now; data in flight is dropped).
 *
 * Flow control, per stream and direction: a sender may have sent at most
 * MUX_WINDOW_INITIAL (256 KiB) bytes of DATA payload more than the
 * receiver's WINDOW increments add up to.  The receiver sends a WINDOW
 * once its application has consumed half the window.  Carrier frames are
 * not flow-controlled; a side answers one PING at a time with the latest.
 *
 * UDP flows.  A UDP service's datagrams travel over the punched UDP
 * socket, one flow per client endpoint (address and port) on the
 * connecting side.  The plaintext of the encrypted datagram (session.c)
 * starts with a type byte; the flow frame's is MUX_FLOW_TYPE, the others
 * (probes, acknowledgements, keep-alives) are punch.c's:
 *
 *	0x10 (1) | direction (1) | name length (1) | 0 (1) | flow id (4) |
 *	service name (1-32) | payload (0 or more bytes: one datagram)
 *
 * direction 0: from the connecting side's client to the service; 1: the
 * service's answer, back to that client.  The flow id is chosen by the
 * connecting side (one per client endpoint, random, never 0) and echoed
 * in answers; the name is in every frame, so that a datagram lost or
 * reordered never leaves the other side without the flow's service.
 */

#define MUX_HDR_LEN		8
#define MUX_DATA_MAX		16384	/* a DATA frame's payload */
#define MUX_FRAME_MAX		(MUX_HDR_LEN + MUX_DATA_MAX)
#define MUX_NAME_MAX		32
#define MUX_PING_LEN		8
#define MUX_WINDOW_INITIAL	262144	/* each stream, each direction */
#define MUX_WINDOW_MAX		0x7fffffffU	/* credit never above */

#define MUX_FLOW_TYPE		0x10
#define MUX_FLOW_HDR_LEN	8
#define MUX_FLOW_TO_SERVICE	0
#define MUX_FLOW_TO_CLIENT	1

enum mux_type {
	MUX_OPEN = 1,
	MUX_DATA = 2,
	MUX_WINDOW = 3,
	MUX_FIN = 4,
	MUX_RST = 5,
	MUX_PING = 6,
	MUX_PONG = 7,
	MUX_GOAWAY = 8,
};

/* Why a stream was reset (RST); other values are taken as they come. */
enum mux_rst {
	MUX_RST_REFUSED = 1,	/* too many streams, going away, refused */
	MUX_RST_NOT_EXPOSED = 2,	/* no such service on this node */
	MUX_RST_NOT_ALLOWED = 3,	/* the service is not for that node */
	MUX_RST_SERVICE_DOWN = 4,	/* the service's address refused */
	MUX_RST_PROTOCOL = 5,	/* a protocol error on this stream */
	MUX_RST_ABORTED = 6,	/* the connection at one end was reset */
	MUX_RST_NO_RELAY = 7,	/* the service is relay=never, the carrier relayed */
	MUX_RST_RELAY_ONLY = 8,	/* the service is relay=always, the carrier direct */
};

/* Why a side goes away (GOAWAY). */
enum mux_goaway {
	MUX_GOAWAY_NORMAL = 0,	/* shutting down: no new streams */
	MUX_GOAWAY_PROTOCOL = 1,	/* the receiver broke the protocol */
};

/* One frame; data points into the parsed buffer (DATA only). */
struct mux_frame {
	uint8_t		 type;		/* enum mux_type */
	uint32_t	 id;		/* stream id; 0 on carrier frames */
	const uint8_t	*data;		/* DATA: the payload */
	size_t		 len;		/* DATA: its length */
	char		 name[MUX_NAME_MAX + 1];	/* OPEN: NUL-terminated */
	uint32_t	 value;		/* WINDOW: increment; GOAWAY: last id */
	uint8_t		 reason;	/* RST, GOAWAY */
	uint8_t		 ping[MUX_PING_LEN];	/* PING, PONG */
};

/* One UDP flow frame; payload points into the parsed buffer. */
struct mux_flow {
	uint8_t		 direction;	/* MUX_FLOW_TO_SERVICE, _TO_CLIENT */
	uint32_t	 id;		/* never 0 */
	char		 name[MUX_NAME_MAX + 1];
	const uint8_t	*payload;
	size_t		 len;
};

/*
 * How long the frame at the start of buf is (header and payload), from its
 * header: 0 when fewer than MUX_HDR_LEN bytes are there, else the length
 * (which may be more than len: wait for the rest).  It does not check the
 * frame; mux_parse does.
 */
size_t	mux_frame_len(const uint8_t *buf, size_t len);

/*
 * Parse exactly one frame, buf[0..len) (len = mux_frame_len): 0, or -1
 * with *err saying why and *f zeroed.
 */
int	mux_parse(const uint8_t *buf, size_t len, struct mux_frame *f,
	    const char **err);

/*
 * Build one frame into buf (at most len bytes): its length, or -1 if it
 * does not fit or f is not a frame mux_parse would take.
 */
int	mux_build(uint8_t *buf, size_t len, const struct mux_frame *f);

/*
 * Write a frame's header only (MUX_HDR_LEN bytes), the payload to follow
 * from elsewhere; no check: the caller keeps plen within its type's range.
 */
void	mux_build_header(uint8_t *buf, uint8_t type, size_t plen,
	    uint32_t id);

/* Build a DATA frame for data[0..n), 1 <= n <= MUX_DATA_MAX. */
int	mux_build_data(uint8_t *buf, size_t len, uint32_t id,
	    const uint8_t *data, size_t n);

/* A service name: 1-32 bytes of [a-z0-9._-], NUL-terminated. */
int	mux_name_valid(const char *name);

const char *mux_type_str(uint8_t type);
const char *mux_rst_str(uint8_t reason);

/* The UDP flow frame, as above. */
int	mux_flow_parse(const uint8_t *buf, size_t len, struct mux_flow *fl,
	    const char **err);
int	mux_flow_build(uint8_t *buf, size_t len, const struct mux_flow *fl);

#endif
