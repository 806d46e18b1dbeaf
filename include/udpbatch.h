/* SPDX-License-Identifier: ISC */
/* Datagrams in batches: several received with one recvmmsg, several sent with one sendmmsg. */
#ifndef NATMAPD_UDPBATCH_H
#define NATMAPD_UDPBATCH_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/*
 * A batch is UDPBATCH_SLOTS slots of slot_size bytes each, one datagram
 * a slot.  The slots are one allocation, made when the batch is
 * initialised and never touched by anything but the kernel's copies and
 * the caller: pages a datagram never reached are never resident.
 *
 * Receiving: udpbatch_recv() fills slots 0..n-1 from one socket, each
 * datagram at offset off of its slot (room before it for headers to be
 * built in place), at most room bytes of it (room after it for a tag),
 * its source in udpbatch_from().  A datagram longer than room is cut, and
 * udpbatch_cut() says so: the caller drops it.
 *
 * Sending: udpbatch_add() queues a datagram (its bytes stay where they
 * are: anywhere, in a slot or not, until the next flush) to a socket and
 * an address (NULL: the socket is connected); a datagram for another
 * socket, or a full queue, flushes what is queued first.
 * udpbatch_flush() sends the queue with sendmmsg: a datagram the kernel
 * refuses (a full send buffer, an unreachable address) is dropped,
 * counted in the batch's send_failed, and the rest still go; a datagram
 * sent adds its length to the counter given with it (NULL: none).  On a
 * UDP socket, a run of datagrams of one length to one address goes as one
 * message with UDP_SEGMENT once udpbatch_runs_check() has found that the
 * kernel cuts such a run apart again (delivered as the datagrams they
 * were; send_calls counts sendmmsg calls, sent datagrams, runs the
 * messages that carried more than one).
 */
#define UDPBATCH_SLOTS	16

struct udpbatch;

/* What a batch did, for tests and figures. */
struct udpbatch_stats {
	uint64_t	recv_calls, received;
	uint64_t	send_calls, sent, send_failed;
	uint64_t	runs;
};

/* A batch of slot_size bytes a slot, or NULL (errno ENOMEM). */
struct udpbatch *udpbatch_new(size_t slot_size);
/* The batch and its slots freed (the queue is dropped: flush first); NULL is fine. */
void	udpbatch_free(struct udpbatch *);
/* Slot i's first byte, and how many bytes a slot has. */
uint8_t	*udpbatch_slot(struct udpbatch *, int i);
size_t	udpbatch_slot_size(const struct udpbatch *);
void	udpbatch_get_stats(const struct udpbatch *, struct udpbatch_stats *);

/*
 * Up to max (at most UDPBATCH_SLOTS) datagrams from fd, non-blocking,
 * each at offset off of its slot, at most room bytes (off + room <=
 * slot_size): how many (1..max), or -1 with errno (EAGAIN when none was
 * waiting).  Slot i's datagram is udpbatch_slot(b, i) + off,
 * udpbatch_len(b, i) bytes, from udpbatch_from(b, i); udpbatch_cut(b, i)
 * is 1 if it was longer than room (what is there is its start).
 */
int	udpbatch_recv(struct udpbatch *, int fd, size_t off, size_t room,
	    int max);
size_t	udpbatch_len(const struct udpbatch *, int i);
int	udpbatch_cut(const struct udpbatch *, int i);
const struct sockaddr_storage *udpbatch_from(const struct udpbatch *, int i);

/* Queue len bytes at data for fd, to `to` (NULL: connected); see above. */
void	udpbatch_add(struct udpbatch *, int fd,
	    const struct sockaddr_storage *to, const void *data, size_t len,
	    uint64_t *counter);
/* Send what is queued: how many datagrams went. */
int	udpbatch_flush(struct udpbatch *);

/*
 * Whether runs go as one (UDP_SEGMENT): the first call sends a run to
 * itself over loopback (a bounded wait of at most 200 ms, once per
 * process) and turns runs on if it arrives as the datagrams it was.
 * 1: on; 0: off, and why says why (if not NULL).  Until it is called,
 * and after the kernel refuses a run, runs are off.
 */
int	udpbatch_runs_check(char *why, size_t len);

#endif
