/* SPDX-License-Identifier: ISC */
/* The rendezvous protocol's messages (natmapd <-> natmapd-rendezvous): bytes <-> structs, no I/O. */
#ifndef NATMAPD_RDV_MSG_H
#define NATMAPD_RDV_MSG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "rdv-turn.h"
#include "stun-msg.h"

/*
 * WIRE FORMAT (the protocol's reference until natmapd-rendezvous(8) has
 * a PROTOCOL section).
 *
 * Every message is a STUN message (RFC 8489 section 5): the 20-byte
 * header (first two bits 0, the 14-bit message type that interleaves a
 * 12-bit method with a 2-bit class, the length of what follows, the magic
 * cookie 0x2112A442, a 96-bit transaction ID from getrandom), then
 * type-length-value attributes, each padded with zeros to 4 bytes (the
 * padding is not counted in the attribute's length and is not checked on
 * receipt).  Wireshark and tcpdump show it as STUN.  Over UDP one
 * datagram is one message; over TCP, messages follow one another and are
 * cut with stun_frame_len().  At most STUN_MAX_MSG (1500) bytes.
 *
 * Methods.  The IANA "STUN Methods" registry: 0x000-0x07F by IETF Review
 * (0x001-0x00C assigned, to Binding and TURN), 0x080-0x0FF by Expert
 * Review (only 0x080, GOOG-PING, assigned), 0x100-0xFFF reserved by RFC
 * 7983 (a method there would put a first byte over 3 on the wire, where
 * RFC 7983's demultiplexer of STUN, DTLS, RTP and TURN channels on one
 * port stops seeing STUN).  So the block is taken from the top of the
 * unassigned Expert Review range, as far as can be from both ends that
 * the registry fills: 0x0F0-0x0FF, unassigned (the registry as of
 * its 2024-12-20 update).  A STUN server that gets one of these answers
 * with an error or not at all; it never takes it for a Binding.
 *	0x0F0	REGISTER	request, success, error
 *	0x0F1	REACH		request, success, error
 *	0x0F2	SIGNAL		request, success, error, indication
 *	0x0F3-0x0FF	kept for later; not defined here, refused today
 * Only SIGNAL has an indication (the server's to the node a SIGNAL
 * names); any other indication is refused.  On the wire REGISTER is
 * 0x02E0 (request), 0x03E0 (success), 0x03F0 (error); REACH 0x02E1,
 * 0x03E1, 0x03F1; SIGNAL 0x02E2, 0x03E2, 0x03F2 and 0x02F2 (indication).
 *
 * Attributes.  The registry: 0x0000-0x3FFF and 0x8000-0xBFFF by IETF
 * Review, 0x4000-0x7FFF and 0xC000-0xFFFF by Expert Review; nothing is
 * assigned in 0x4000-0x7FFF, and 0xC000-0xC003 and 0xC056-0xC060 (Cisco,
 * Citrix, Google) are in 0xC000-0xFFFF.  Our attributes carry what a
 * receiver must act on (which network, which node, which port to reach):
 * one that is not understood must fail the message, not be skipped, and
 * RFC 8489 has a class for that, comprehension-required.  They are in
 * 0x4E40-0x4E5F ("N" is 0x4E), in the Expert Review half, away from
 * the IETF Review range that standards fill from the bottom.  Advice a
 * receiver may ignore is comprehension-optional, in 0xCE40-0xCE5F;
 * SERVER-TIME is the one so far.  Only our methods carry them, so no
 * STUN agent meets them in a message it could act on.  Unknown
 * attributes in 0x0000-0x7FFF fail the message (USERNAME and
 * MESSAGE-INTEGRITY included: they are not ours); unknown ones in
 * 0x8000-0xFFFF are skipped.  Every attribute but CANDIDATE comes at
 * most once; a second one fails the message.
 *
 *	0x4E40 NETWORK	1-32 bytes of [A-Za-z0-9._-]: the network's name.
 *			In every message, before the MAC, so that the
 *			receiver finds the key before it checks (as USERNAME
 *			does in STUN).
 *	0x4E41 NODE	1-63 bytes, a host-name-like name: [a-z0-9-] in
 *			labels of 1 or more separated by single dots, a label
 *			neither starting nor ending with "-".  Upper case is
 *			refused so that a name has one spelling.
 *	0x4E42 TIMESTAMP	8 bytes: the sender's clock, milliseconds since
 *			the Unix epoch (UTC).  In requests; the receiver
 *			refuses one more than RDV_SKEW_MAX_MS off its own
 *			clock (rdv_fresh) and remembers the transaction ID
 *			for the window (rdv-replay.h).
 *	0x4E43 NONCE	16 random bytes, new for each attempt.  In REACH
 *			requests: what the server sends to the port (UDP) or
 *			expects to read from it (TCP).
 *	0x4E44 CANDIDATE	repeatable, at most RDV_CAND_MAX (16):
 *			   0      kind: 1 host, 2 srflx (seen by STUN),
 *			          3 mapped (by the gateway: PCP, NAT-PMP, UPnP)
 *			   1      transport: 6 TCP, 17 UDP (IP protocol numbers)
 *			   2-3    0
 *			   4..    an XOR-MAPPED-ADDRESS value (RFC 8489
 *			          14.2): 0, family 1 (IPv4) or 2 (IPv6),
 *			          port and address XORed with the cookie (and
 *			          the transaction ID for IPv6), so that an ALG
 *			          that rewrites addresses in payloads does not
 *			          break the MAC; port not 0
 *			12 bytes for IPv4, 24 for IPv6.
 *	0x4E45 LIFETIME	4 bytes, seconds.  In a REGISTER request what the
 *			node asks for (optional), in the success what the
 *			server grants (required).
 *	0x4E46 REACH-TARGET	4 bytes: transport (6 TCP, 17 UDP), 0, and a
 *			port (not 0).  No address: the server reaches only
 *			the address it sees the request come from.
 *	0x4E47 PEER	1-63 bytes, a NODE name: the node a SIGNAL is for.
 *	0x4E48 PAYLOAD	1-RDV_PAYLOAD_MAX (1024) bytes, opaque to the
 *			server: what a SIGNAL carries from node to node
 *			(doc/hole-punching.md: authenticated end to end
 *			under a key the server does not hold).
 *	0x4E49 TURN-SERVER	an XOR-MAPPED-ADDRESS value (as in CANDIDATE,
 *			reserved byte 0): the TURN server (coturn) the
 *			rendezvous hands credentials for.
 *	0x4E4A TURN-CREDENTIAL	RDV_TURN_SEALED_MIN-RDV_TURN_SEALED_MAX
 *			(31-189) bytes: a TURN username and password for the
 *			node, sealed end to end under a key derived from
 *			the server key (rdv-turn.h).  Only with
 *			TURN-SERVER, and both only in a REGISTER success,
 *			from a server given --turn.
 *	0xCE40 SERVER-TIME	8 bytes, the server's clock in milliseconds since
 *			the epoch, in every answer, so that a node can warn
 *			of skew.
 *	0x0020 XOR-MAPPED-ADDRESS	(RFC 8489 14.2) in REGISTER successes:
 *			where the server saw the request come from.
 *	0x0009 ERROR-CODE	(RFC 8489 14.8) in, and only in, error answers.
 *	0x001C MESSAGE-INTEGRITY-SHA256	(RFC 8489 14.6) 32 bytes: HMAC-SHA256,
 *			under the network's server key (crypto_server_key of
 *			its secret), of the message up to this attribute
 *			with the header's length field counting up to its
 *			end (not the FINGERPRINT).  In every message,
 *			answers too; nothing but FINGERPRINT may follow it.
 *	0x8028 FINGERPRINT	(RFC 8489 14.7) last, in every message.
 *
 * Which message holds what (anything else of ours is allowed and ignored
 * by the receiver, the order is free before the MAC):
 *	every message	NETWORK, MESSAGE-INTEGRITY-SHA256, FINGERPRINT
 *	REGISTER request	NODE, TIMESTAMP; CANDIDATE 0-16, LIFETIME
 *	REGISTER success	SERVER-TIME, LIFETIME, XOR-MAPPED-ADDRESS;
 *			TURN-SERVER and TURN-CREDENTIAL (both or neither)
 *	REACH request	NODE, TIMESTAMP, NONCE, REACH-TARGET
 *	REACH success	SERVER-TIME (TCP: the nonce was read back from the
 *			port; UDP: it was sent there)
 *	SIGNAL request	NODE (the sender), TIMESTAMP, PEER (the node it is
 *			for), PAYLOAD
 *	SIGNAL success	SERVER-TIME (the indication was sent on)
 *	SIGNAL indication	from the server to PEER where PEER registered:
 *			NODE (the sender, as the server authenticated
 *			it), PEER (the receiver, as the server looked it
 *			up), PAYLOAD, SERVER-TIME; a transaction ID of the
 *			server's own, from getrandom; MAC under the same
 *			network's server key
 *	error answers	SERVER-TIME, ERROR-CODE
 * An answer has the transaction ID of its request; that, and the MAC,
 * is what makes it the answer: answers carry no TIMESTAMP.
 * The largest SIGNAL request is 1276 bytes (20 + NETWORK 36 + NODE 68 +
 * TIMESTAMP 12 + PEER 68 + PAYLOAD 1028 + MAC 36 + FINGERPRINT 8), and
 * so is the largest indication (SERVER-TIME for TIMESTAMP): with the UDP
 * and IPv6 headers 1324 bytes, over IPv6's minimum MTU of 1280, so a
 * payload near the limit may be fragmented on such a path.
 */

#define RDV_PORT		3480	/* natmapd-rendezvous's default */

/* The methods (12 bits, of STUN's message type). */
#define RDV_METHOD_FIRST	0x0f0
#define RDV_METHOD_LAST		0x0ff	/* the block, 0x0f3.. not yet defined */
#define RDV_REGISTER		0x0f0
#define RDV_REACH		0x0f1
#define RDV_SIGNAL		0x0f2

/* Attribute types. */
#define RDV_A_NETWORK		0x4e40
#define RDV_A_NODE		0x4e41
#define RDV_A_TIMESTAMP		0x4e42
#define RDV_A_NONCE		0x4e43
#define RDV_A_CANDIDATE		0x4e44
#define RDV_A_LIFETIME		0x4e45
#define RDV_A_REACH_TARGET	0x4e46
#define RDV_A_PEER		0x4e47
#define RDV_A_PAYLOAD		0x4e48
#define RDV_A_TURN_SERVER	0x4e49
#define RDV_A_TURN_CREDENTIAL	0x4e4a
#define RDV_A_SERVER_TIME	0xce40
#define RDV_A_MESSAGE_INTEGRITY_SHA256	0x001c

#define RDV_NETWORK_MAX		32
#define RDV_NODE_MAX		63
#define RDV_NONCE_LEN		16
#define RDV_CAND_MAX		16
#define RDV_MAC_LEN		32	/* all of HMAC-SHA256 */
#define RDV_PAYLOAD_MAX		1024	/* a SIGNAL's PAYLOAD */
#define RDV_SKEW_MAX_MS		30000	/* a TIMESTAMP this far off is fresh */

/*
 * The reasons of a REACH's error 404, how a TCP dial-back ended
 * (natmapd-rendezvous(8), Dial-back), each at most 28 characters.  The
 * first three say a connection to the port was made, the next two that
 * none was; a reset (refused) says neither: a NAT with no rule for the
 * port resets too.
 */
#define RDV_REASON_WRONG_NONCE	"not reached: wrong nonce"
#define RDV_REASON_CLOSED	"not reached: closed"
#define RDV_REASON_NO_NONCE	"not reached: no nonce"
#define RDV_REASON_TIMED_OUT	"not reached: timed out"
#define RDV_REASON_UNREACHABLE	"not reached: unreachable"
#define RDV_REASON_REFUSED	"not reached: refused"

/* CANDIDATE kinds */
enum rdv_cand_kind {
	RDV_CAND_HOST = 1,
	RDV_CAND_SRFLX = 2,
	RDV_CAND_MAPPED = 3,
	/*
	 * A TURN allocation's relayed address (doc/relay.md): only in the
	 * hole-punching payloads (punch-msg.h), never in a REGISTER.
	 */
	RDV_CAND_RELAY = 4,
};

/* Transports: IP protocol numbers. */
#define RDV_TCP			6
#define RDV_UDP			17

/* Which attributes a message has (rdv_msg.has). */
#define RDV_HAS_NETWORK		0x0001
#define RDV_HAS_NODE		0x0002
#define RDV_HAS_TIMESTAMP	0x0004
#define RDV_HAS_NONCE		0x0008
#define RDV_HAS_LIFETIME	0x0010
#define RDV_HAS_REACH_TARGET	0x0020
#define RDV_HAS_SERVER_TIME	0x0040
#define RDV_HAS_MAPPED		0x0080
#define RDV_HAS_ERROR		0x0100
#define RDV_HAS_PEER		0x0200
#define RDV_HAS_PAYLOAD		0x0400
#define RDV_HAS_TURN_SERVER	0x0800
#define RDV_HAS_TURN_CREDENTIAL	0x1000

struct rdv_cand {
	uint8_t		kind;		/* enum rdv_cand_kind */
	uint8_t		transport;	/* RDV_TCP, RDV_UDP */
	struct sockaddr_storage	addr;	/* AF_INET or AF_INET6, port set */
};

/*
 * One message.  To build one, fill method, cls, tid, the fields wanted
 * and their RDV_HAS_* bits (candidates: ncand); rdv_parse fills the same.
 */
struct rdv_msg {
	uint16_t	method;		/* RDV_REGISTER, RDV_REACH, RDV_SIGNAL */
	uint8_t		cls;		/* STUN_REQUEST, STUN_SUCCESS, STUN_ERROR,
					   STUN_INDICATION (SIGNAL only) */
	uint8_t		tid[STUN_TID_LEN];
	unsigned int	has;		/* RDV_HAS_* */
	char		network[RDV_NETWORK_MAX + 1];
	char		node[RDV_NODE_MAX + 1];
	char		peer[RDV_NODE_MAX + 1];		/* PEER */
	uint64_t	timestamp;	/* ms since the epoch, the sender's clock */
	uint64_t	server_time;	/* ms since the epoch, the server's */
	uint8_t		nonce[RDV_NONCE_LEN];
	uint32_t	lifetime;	/* seconds */
	uint8_t		reach_transport;	/* RDV_TCP, RDV_UDP */
	uint16_t	reach_port;
	int		ncand;
	struct rdv_cand	cand[RDV_CAND_MAX];
	struct sockaddr_storage	mapped;	/* XOR-MAPPED-ADDRESS */
	int		error_code;	/* 300-699 */
	char		error_reason[128];	/* escaped, printable ASCII */
	size_t		payload_len;	/* PAYLOAD: 1..RDV_PAYLOAD_MAX */
	uint8_t		payload[RDV_PAYLOAD_MAX];
	struct sockaddr_storage	turn_server;	/* TURN-SERVER */
	size_t		turn_cred_len;	/* TURN-CREDENTIAL, sealed (rdv-turn.h) */
	uint8_t		turn_cred[RDV_TURN_SEALED_MAX];
	size_t		mac_off;	/* rdv_parse: where the MAC attribute is */
};

/*
 * Build a message with its MAC under key (the network's server key) and
 * its FINGERPRINT.  Returns the length written, or -1 when buf is too
 * small or the message is not one rdv_parse would take (a bad name, an
 * attribute missing or out of range, a bad address family...).
 */
int	rdv_build(uint8_t *buf, size_t len, const struct rdv_msg *,
	    const uint8_t key[CRYPTO_KEY_LEN]);

/*
 * Parse one whole message (a datagram, or one cut from a stream by
 * stun_frame_len): its structure only, the MAC is not checked (that
 * needs the key that NETWORK names: rdv_verify).  0, or -1 with *err
 * saying why: not STUN, not one of our methods or classes, a length that
 * does not match, an attribute running past the end, of the wrong length
 * or value, twice, missing, an unknown comprehension-required attribute,
 * more than RDV_CAND_MAX candidates, no MAC, anything but FINGERPRINT
 * after the MAC, no or a bad FINGERPRINT.  Every length is checked before
 * it is read.  On -1 the struct is left zeroed.
 */
int	rdv_parse(const uint8_t *buf, size_t len, struct rdv_msg *,
	    const char **err);

/*
 * The MAC of a message rdv_parse took (the same buf and len), under key:
 * 1 if it is right (compared with crypto_equal), else 0.
 */
int	rdv_verify(const uint8_t *buf, size_t len, const struct rdv_msg *,
	    const uint8_t key[CRYPTO_KEY_LEN]);

/* 1 if a TIMESTAMP of ts_ms is within RDV_SKEW_MAX_MS of now_ms, either way. */
int	rdv_fresh(uint64_t ts_ms, uint64_t now_ms);

/*
 * 1 if the datagram's header is STUN's with one of our methods (the
 * whole block, 0x0f0-0x0ff), 0 otherwise (a Binding request, not STUN,
 * too short): so that one port serves STUN and the rendezvous.  Only the
 * header is looked at; rdv_parse decides the rest.
 */
int	rdv_is_rdv(const uint8_t *buf, size_t len);

/* 1 if s[0..n) is a NETWORK name, a NODE name (the syntax above). */
int	rdv_network_ok(const char *s, size_t n);
int	rdv_node_ok(const char *s, size_t n);

/*
 * The method and class of a datagram rdv_is_rdv takes, from its header
 * alone (rdv_parse decides the rest): 0, or -1 when it is not ours.
 */
int	rdv_peek(const uint8_t *buf, size_t len, uint16_t *method,
	    uint8_t *cls);

/* "REGISTER", "REACH", "SIGNAL", or "method 0x0NN". */
const char *rdv_method_name(uint16_t method);

#endif
