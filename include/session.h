/* SPDX-License-Identifier: ISC */
/* A punched session's crypto: the key schedule from the handshake, sealed UDP datagrams and TCP records; no I/O. */
#ifndef NATMAPD_SESSION_H
#define NATMAPD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/*
 * KEY SCHEDULE (doc/hole-punching.md, Session keys).
 *
 *	ikm  = X25519(own ephemeral private, peer's ephemeral public)
 *	       (all zeros refused: the peer sent a point of small order)
 *	salt = SHA-256(CONNECT || OFFER), the two payloads as sent, MACs
 *	       included (include/punch-msg.h: each has its length in its
 *	       header, so the concatenation cuts one way only)
 *	prk  = HKDF-Extract(salt, ikm)			(RFC 5869, SHA-256)
 *	key  = HKDF-Expand(prk, label, 32) for each of the four labels
 *	       "natmapd udp i->r", "natmapd udp r->i",
 *	       "natmapd tcp i->r", "natmapd tcp r->i"
 * The initiator (the side that sent CONNECT) seals with the i->r keys
 * and opens with the r->i keys; the responder the other way round.
 *
 * WIRE FORMAT, UDP.  One datagram:
 *	0	type, 0xD0-0xDF (SESSION_UDP_TYPE_*): outside what RFC 7983
 *		gives STUN (0-3) and TURN channels (64-79), so that one
 *		socket takes both
 *	1-3	0
 *	4-7	the receiver's index: 4 bytes the receiver chose for the
 *		session and sent in its CONNECT or OFFER, copied as they
 *		are, so that one socket tells its sessions apart
 *	8-15	counter, 64 bits little-endian: 0 for the first datagram
 *		each way, one more for each
 *	16..	the payload sealed with the session's cipher (ChaCha20-
 *		Poly1305, RFC 8439, or AES-256-GCM, NIST SP 800-38D,
 *		when both nodes offered it: include/punch-msg.h), then
 *		its 16-byte tag
 * The nonce is 4 zero bytes and bytes 8-15 (the counter, little-endian as
 * RFC 8439's own nonces; the same 12 bytes are GCM's IV); the additional data is bytes 0-15, so the
 * header cannot be changed either.  At least 32 bytes (an empty payload),
 * at most SESSION_UDP_MAX.  The receiver keeps a window of the last
 * SESSION_WINDOW counters below the highest it took (RFC 6479's bitmap):
 * a datagram whose counter was taken already (replayed), or is
 * SESSION_WINDOW or more below the highest (too old), is dropped before
 * it is decrypted; one whose tag fails (tag failed) or whose header is not
 * the above (malformed) is dropped; none of them changes the window.
 * Reordered datagrams within the window are each taken once.
 *
 * WIRE FORMAT, TCP.  Records follow one another on the carrier
 * connection:
 *	0-1	length of what follows, big-endian, 16..65535
 *	2..	the payload (0..65519 bytes) sealed with the session's
 *		cipher, as a datagram's, then its tag
 * The nonce is 4 zero bytes and a counter, 64 bits little-endian, that
 * is not sent: 0 for the first record each way, one more for each; the
 * additional data is the 2 length bytes.  A record whose tag fails (a
 * wrong key, a flipped byte, a record replayed, dropped or reordered) ends
 * that direction: every later record is refused too, the carrier is to
 * be closed.
 */

#define SESSION_KEY_LEN		CRYPTO_KEY_LEN
#define SESSION_INDEX_LEN	4
#define SESSION_UDP_HDR_LEN	16
#define SESSION_UDP_OVERHEAD	(SESSION_UDP_HDR_LEN + CRYPTO_AEAD_TAG_LEN)
#define SESSION_UDP_MAX		65507	/* an IPv4 UDP datagram's payload */
#define SESSION_UDP_TYPE_MIN	0xd0
#define SESSION_UDP_TYPE_MAX	0xdf
#define SESSION_TCP_HDR_LEN	2
#define SESSION_TCP_OVERHEAD	(SESSION_TCP_HDR_LEN + CRYPTO_AEAD_TAG_LEN)
#define SESSION_TCP_MAX		(SESSION_TCP_HDR_LEN + 65535)	/* a record */
#define SESSION_TCP_PLAIN_MAX	(65535 - CRYPTO_AEAD_TAG_LEN)
#define SESSION_WINDOW		2048	/* counters, RFC 6479 */

/*
 * The four keys of a session, as one side uses them, and the cipher they
 * are for (enum crypto_cipher: ChaCha20-Poly1305, which
 * session_keys_derive leaves, or AES-256-GCM when both nodes offered it).
 */
struct session_keys {
	uint8_t	udp_send[SESSION_KEY_LEN];
	uint8_t	udp_recv[SESSION_KEY_LEN];
	uint8_t	tcp_send[SESSION_KEY_LEN];
	uint8_t	tcp_recv[SESSION_KEY_LEN];
	int	cipher;
};

/*
 * The key schedule above, for the initiator (initiator 1) or the
 * responder (0), from one's own ephemeral private key, the peer's public
 * key and the CONNECT and OFFER payloads as they were sent.  0, or -1
 * (keys zeroed) when the shared secret is all zeros.  Wipe priv once
 * this is done: it is what forward secrecy rests on.
 */
int	session_keys_derive(struct session_keys *, int initiator,
	    const uint8_t priv[CRYPTO_X25519_LEN],
	    const uint8_t peer_pub[CRYPTO_X25519_LEN],
	    const uint8_t *connect, size_t connect_len,
	    const uint8_t *offer, size_t offer_len);

/* Why datagrams and records were dropped, and how many went each way. */
struct session_stats {
	uint64_t	udp_sealed;
	uint64_t	udp_opened;
	uint64_t	tcp_sealed;
	uint64_t	tcp_opened;
	uint64_t	tag_failed;	/* UDP, and TCP (then at most 1) */
	uint64_t	replayed;	/* UDP: a counter taken already */
	uint64_t	too_old;	/* UDP: below the window */
	uint64_t	malformed;	/* too short or long, a bad header */
};

struct session;

/*
 * A session with these keys (copied), the index this side chose (what
 * datagrams to it carry) and the one the peer chose (what datagrams from
 * it carry).  NULL with errno set.
 */
struct session *session_new(const struct session_keys *,
	    const uint8_t own_index[SESSION_INDEX_LEN],
	    const uint8_t peer_index[SESSION_INDEX_LEN]);
/* Keys and state wiped, then freed; NULL is fine. */
void	session_free(struct session *);
/* The cipher its keys are for (enum crypto_cipher). */
int	session_cipher(const struct session *);
void	session_get_stats(const struct session *, struct session_stats *);

/*
 * The receiver's index of a datagram that looks like one of ours (length
 * and type; the rest is session_udp_open's): 0, or -1.  So that one socket
 * finds the session a datagram is for.
 */
int	session_udp_index(const uint8_t *dgram, size_t len,
	    uint8_t index[SESSION_INDEX_LEN]);

/*
 * Seal len bytes of payload as a datagram of the given type (0xD0-0xDF)
 * to the peer, in out (outlen bytes of room).  plain may be at
 * out + SESSION_UDP_HDR_LEN (in place), nowhere else in out.  Returns the
 * datagram's length (len + SESSION_UDP_OVERHEAD), or -1: a bad type, no
 * room, longer than SESSION_UDP_MAX, or the counter spent (2^64 datagrams,
 * never in practice: a new session is needed).
 */
int	session_udp_seal(struct session *, uint8_t type, const void *plain,
	    size_t len, uint8_t *out, size_t outlen);

/*
 * Open a datagram from the peer into out (outlen bytes of room; it may be
 * dgram + SESSION_UDP_HDR_LEN, in place): the payload's length, its type
 * in *type; or -1, counted by reason in the stats, the window unchanged
 * (out then holds nothing of the datagram's payload).
 */
int	session_udp_open(struct session *, const uint8_t *dgram, size_t len,
	    uint8_t *type, uint8_t *out, size_t outlen);

/*
 * Seal len bytes (at most SESSION_TCP_PLAIN_MAX) as the next record to
 * the peer, in out; plain may be at out + SESSION_TCP_HDR_LEN (in
 * place).  The record's length (len + SESSION_TCP_OVERHEAD), or -1 (no
 * room, too long, the counter spent).
 */
int	session_tcp_seal(struct session *, const void *plain, size_t len,
	    uint8_t *out, size_t outlen);

/*
 * How long the record at the start of a stream's buffered bytes is: 0 if
 * its 2 length bytes are not all there yet, else the record's whole
 * length (SESSION_TCP_HDR_LEN included; it may be more than len: read
 * on), or -1 if the length is shorter than a tag (a broken stream).
 */
int	session_tcp_record_len(const uint8_t *buf, size_t len);

/*
 * Open the next record from the peer (one whole record, as
 * session_tcp_record_len cut it) into out (it may be
 * rec + SESSION_TCP_HDR_LEN): the payload's length, or -1, and -1 for
 * every record after that (session_tcp_failed).
 */
int	session_tcp_open(struct session *, const uint8_t *rec, size_t len,
	    uint8_t *out, size_t outlen);
/* 1 once a record from the peer failed: the carrier is to be closed. */
int	session_tcp_failed(const struct session *);

#endif
