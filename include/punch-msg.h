/* SPDX-License-Identifier: ISC */
/* The hole-punching handshake's end-to-end payloads (CONNECT, OFFER, ANSWER, REJECT): bytes <-> structs, and a replay cache; no I/O. */
#ifndef NATMAPD_PUNCH_MSG_H
#define NATMAPD_PUNCH_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "rdv-msg.h"

/*
 * WIRE FORMAT.  A payload travels in a rendezvous SIGNAL's PAYLOAD
 * (include/rdv-msg.h), opaque to natmapd-rendezvous, at most
 * PUNCH_MSG_MAX bytes (under the 1024 a PAYLOAD may hold).  Numbers are
 * big-endian.
 *
 *	0	version, 1
 *	1	type: 1 CONNECT, 2 OFFER, 3 ANSWER, 4 REJECT
 *	2-3	length of the whole payload, MAC included: so that two
 *		payloads one after the other cut one way only (the session
 *		keys' salt is SHA-256(CONNECT || OFFER), include/session.h)
 *	4-11	session ID: 8 random bytes the initiator chose, one per pair
 *		of nodes and session, the same in all the session's payloads
 *	12	attempt, 1 or more (three with fresh nonces, roles swapped on
 *		the last: doc/hole-punching.md)
 *	13	n, the network name's length, 1-32
 *	14	f, the sending node's name's length, 1-63
 *	15	t, the receiving node's name's length, 1-63
 *	16..	the network's name, the sender's, the receiver's, n + f + t
 *		bytes with no NUL, the syntax of rdv-msg.h's NETWORK and NODE
 *	then	nonce, 16 random bytes, new for each payload
 *		clock, 8 bytes: the sender's wall clock, milliseconds since
 *		the Unix epoch
 *	then, by type:
 *	CONNECT	index (4): the initiator's receiver index (session.h);
 *		public key (32): its ephemeral X25519 key;
 *		c (1), 0-16 candidates, then c candidates (the ciphers
 *		offered among them, below)
 *	OFFER	index (4), public key (32): the responder's;
 *		hash (32): SHA-256 of the CONNECT answered, as received;
 *		c (1), then c candidates
 *	ANSWER	hash (32): SHA-256 of the OFFER answered
 *	REJECT	hash (32): SHA-256 of the CONNECT refused;
 *		reason (1), not 0: 1 nothing exposed to the sender,
 *		2 the sender not allowed, 3 too many sessions; others are
 *		taken and shown as numbers
 *	last	MAC (32): HMAC-SHA256, under the peer key (crypto_peer_key of
 *		the network's secret), of every byte before it
 * Nothing may follow the MAC; a payload is refused whole for any field
 * out of range.
 *
 * A candidate is 12 bytes (IPv4) or 24 (IPv6), as rdv-msg.h's CANDIDATE
 * attribute value:
 *	0	kind: 1 host, 2 srflx (seen by STUN), 3 mapped (by the gateway),
 *		4 relay (a TURN allocation's relayed address), 5 ciphers
 *		(not an address: below), 6 a TCP relayed address for a
 *		carrier beside the direct one only (TCP only; a version
 *		before it skips it); a kind above 6, and 6 over UDP,
 *		is skipped by the receiver (its bytes read and checked as
 *		any candidate's), so that a later kind does not make this
 *		node refuse the payload.  A node older than kind 4 refuses a
 *		payload with a relay candidate whole: natmapd offers one only
 *		to a node that offered one itself, or with relay always.
 *	1	transport: 6 TCP, 17 UDP
 *	2-4	0
 *	5	family: 1 IPv4, 2 IPv6
 *	6-7	port XOR 0x2112, not 0
 *	8..	the address XOR the STUN magic cookie 0x2112A442 (IPv4), or
 *		XOR the cookie then the payload's nonce's first 12 bytes
 *		(IPv6): so that an ALG that rewrites addresses it finds in
 *		payloads does not break the MAC
 *
 * The ciphers a node offers for the session's datagrams and records
 * (include/session.h) besides ChaCha20-Poly1305, which every node
 * takes: at most one candidate of kind 5 in a CONNECT or OFFER, shaped as
 * an IPv4 one so that a node older than it skips it whole: transport 17,
 * family 1, the port's place a bit mask (1: AES-256-GCM; the other bits
 * are a later version's, ignored), the address 0.0.0.0.  A session uses
 * AES-256-GCM when its CONNECT and its OFFER both offer it (their bytes
 * are in the session keys' salt, so neither side can be talked into the
 * other cipher), ChaCha20-Poly1305 otherwise.
 *
 * The receiver, in order: parses (punch_parse), checks the MAC and that
 * the payload names its network, the node the rendezvous says sent it,
 * and itself (punch_verify), then the clock and the replay cache
 * (punch_replay_check: a clock more than RDV_SKEW_MAX_MS off, or a
 * (session, attempt, type, nonce) seen lately, is dropped).
 */

#define PUNCH_VERSION		1
#define PUNCH_SESSION_ID_LEN	8
#define PUNCH_NONCE_LEN		16
#define PUNCH_HASH_LEN		CRYPTO_SHA256_LEN
#define PUNCH_MAC_LEN		CRYPTO_SHA256_LEN
#define PUNCH_INDEX_LEN		4
#define PUNCH_CAND_MAX		RDV_CAND_MAX	/* 16, the ciphers' record included */
#define PUNCH_CAND_CIPHERS	5	/* the kind of the ciphers' record */
/*
 * A TCP relayed address for a carrier beside the direct one only (the
 * sender's relay is there for relay=always services, not for whole paths
 * and carriers): a version before it leaves it out.
 */
#define PUNCH_CAND_RELAY_BESIDE	6
#define PUNCH_CIPHER_AES256GCM	0x01	/* offers AES-256-GCM */
#define PUNCH_CIPHERS_KNOWN	PUNCH_CIPHER_AES256GCM

enum punch_type {
	PUNCH_CONNECT = 1,
	PUNCH_OFFER = 2,
	PUNCH_ANSWER = 3,
	PUNCH_REJECT = 4,
};

/* REJECT reasons (others are taken and shown as numbers). */
#define PUNCH_REJECT_NOT_EXPOSED	1	/* nothing exposed to the sender */
#define PUNCH_REJECT_NOT_ALLOWED	2	/* the sender may not connect */
#define PUNCH_REJECT_BUSY		3	/* too many sessions */

/*
 * The longest payload: an OFFER with the longest names and 16 IPv6
 * candidates (the header, the names, nonce and clock, index, key, hash,
 * count, candidates, MAC).
 */
#define PUNCH_MSG_MAX	(16 + RDV_NETWORK_MAX + 2 * RDV_NODE_MAX + 24 + \
	PUNCH_INDEX_LEN + CRYPTO_X25519_LEN + PUNCH_HASH_LEN + 1 + \
	PUNCH_CAND_MAX * 24 + PUNCH_MAC_LEN)
/* What a rendezvous SIGNAL's PAYLOAD may hold, which a payload must fit. */
#define PUNCH_SIGNAL_PAYLOAD_MAX	1024

struct punch_msg {
	uint8_t		type;		/* enum punch_type */
	uint8_t		attempt;	/* 1.. */
	uint8_t		session[PUNCH_SESSION_ID_LEN];
	char		network[RDV_NETWORK_MAX + 1];
	char		from[RDV_NODE_MAX + 1];
	char		to[RDV_NODE_MAX + 1];
	uint8_t		nonce[PUNCH_NONCE_LEN];
	uint64_t	clock_ms;	/* ms since the epoch, the sender's */
	uint8_t		index[PUNCH_INDEX_LEN];	/* CONNECT, OFFER */
	uint8_t		pub[CRYPTO_X25519_LEN];	/* CONNECT, OFFER */
	uint8_t		hash[PUNCH_HASH_LEN];	/* OFFER, ANSWER, REJECT */
	uint8_t		reason;			/* REJECT */
	int		ncand;			/* CONNECT, OFFER */
	struct rdv_cand	cand[PUNCH_CAND_MAX];
	/*
	 * CONNECT, OFFER: PUNCH_CIPHER_* offered, 0 for none but
	 * ChaCha20-Poly1305; sent as a candidate record, so ncand is at
	 * most PUNCH_CAND_MAX - 1 when it is not 0.
	 */
	uint8_t		ciphers;
};

/*
 * Build a payload with its MAC under key (the peer key).  Fields a type
 * does not have are not looked at.  Returns its length, or -1 when buf is
 * too small or the payload is not one punch_parse would take (a bad name,
 * type, attempt, reason, candidate...).
 */
int	punch_build(uint8_t *buf, size_t len, const struct punch_msg *,
	    const uint8_t key[CRYPTO_KEY_LEN]);

/*
 * Parse one whole payload: its structure only, the MAC and the names are
 * punch_verify's.  0, or -1 with *err saying why (and the struct zeroed):
 * shorter or longer than its length says or than PUNCH_MSG_MAX, an
 * unknown version or type, attempt 0, a name that is not one, more than
 * PUNCH_CAND_MAX candidates, a bad candidate, bytes after the MAC.
 * A candidate of a kind above RDV_CAND_RELAY is left out (ncand counts
 * those taken), but for PUNCH_CAND_RELAY_BESIDE over TCP; the ciphers'
 * record sets ciphers.
 * Fields the type does not have are left zero.
 */
int	punch_parse(const uint8_t *buf, size_t len, struct punch_msg *,
	    const char **err);

/*
 * A payload punch_parse took (the same buf and len): 0 if its MAC is
 * right under key (compared in constant time) and it names network,
 * comes from from (the node the rendezvous's SIGNAL indication named)
 * and is for to (this node); else -1 with *err saying which.
 */
int	punch_verify(const uint8_t *buf, size_t len, const struct punch_msg *,
	    const uint8_t key[CRYPTO_KEY_LEN], const char *network,
	    const char *from, const char *to, const char **err);

/* SHA-256 of a payload as sent or received: what OFFER, ANSWER and REJECT carry. */
void	punch_hash(const uint8_t *buf, size_t len,
	    uint8_t out[PUNCH_HASH_LEN]);

/* "CONNECT", "OFFER", "ANSWER", "REJECT", or "type N". */
const char *punch_type_name(uint8_t type);

/*
 * A replay cache of the payloads taken lately: (session, attempt, type,
 * nonce), each kept PUNCH_REPLAY_WINDOW_MS after it was seen, in a table
 * of PUNCH_REPLAY_SLOTS (payloads come a few per session, through a
 * rate-limited rendezvous).  When the table is full of live entries, the
 * oldest is dropped and its clock raises a horizon: a payload whose clock
 * is not after it is refused from then on (it could be a replay of the
 * dropped one), so a replay is never taken.  Check only payloads that
 * punch_verify took, or anyone could fill it.
 */
#define PUNCH_REPLAY_WINDOW_MS	(2 * RDV_SKEW_MAX_MS + 2000)
#define PUNCH_REPLAY_SLOTS	256

enum punch_replay_verdict {
	PUNCH_REPLAY_NEW = 0,	/* remembered now: take it */
	PUNCH_REPLAY_SEEN,	/* taken lately: a replay */
	PUNCH_REPLAY_STALE,	/* its clock more than RDV_SKEW_MAX_MS off */
	PUNCH_REPLAY_FLOOD,	/* not after the horizon */
};

struct punch_replay_entry {
	uint8_t		key[PUNCH_SESSION_ID_LEN + 2 + PUNCH_NONCE_LEN];
	uint64_t	clock_ms;
	uint64_t	seen_ms;
	int		used;
};

struct punch_replay {
	struct punch_replay_entry	e[PUNCH_REPLAY_SLOTS];
	uint64_t			horizon_ms;
};

/* An empty cache. */
void	punch_replay_init(struct punch_replay *);
/* The verdict on a verified payload at now_ms (the wall clock, ms since the epoch). */
enum punch_replay_verdict punch_replay_check(struct punch_replay *,
	    const struct punch_msg *, uint64_t now_ms);

#endif
