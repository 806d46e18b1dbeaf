/* SPDX-License-Identifier: ISC */
/* TURN (RFC 8656) and TURN-TCP (RFC 6062) message codec: bytes <-> structs, no I/O. */
#ifndef NATMAPD_TURN_MSG_H
#define NATMAPD_TURN_MSG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "stun-msg.h"

/* Methods (RFC 8656 18, RFC 6062 6.1). */
#define TURN_ALLOCATE		0x003
#define TURN_REFRESH		0x004
#define TURN_SEND		0x006	/* indication only */
#define TURN_DATA		0x007	/* indication only */
#define TURN_CREATE_PERMISSION	0x008
#define TURN_CHANNEL_BIND	0x009
#define TURN_CONNECT		0x00a	/* RFC 6062 */
#define TURN_CONNECTION_BIND	0x00b	/* RFC 6062 */
#define TURN_CONNECTION_ATTEMPT	0x00c	/* RFC 6062, indication only */

/* Attributes (RFC 8656 18, RFC 6062 6.2), besides stun-msg.h's. */
#define TURN_A_CHANNEL_NUMBER		0x000c
#define TURN_A_LIFETIME			0x000d
#define TURN_A_XOR_PEER_ADDRESS		0x0012
#define TURN_A_DATA			0x0013
#define TURN_A_REALM			0x0014
#define TURN_A_NONCE			0x0015
#define TURN_A_XOR_RELAYED_ADDRESS	0x0016
#define TURN_A_REQUESTED_ADDRESS_FAMILY	0x0017
#define TURN_A_EVEN_PORT		0x0018	/* known, not used */
#define TURN_A_REQUESTED_TRANSPORT	0x0019
#define TURN_A_DONT_FRAGMENT		0x001a
#define TURN_A_RESERVATION_TOKEN	0x0022	/* known, not used */
#define TURN_A_CONNECTION_ID		0x002a	/* RFC 6062 */

/* REQUESTED-TRANSPORT's protocol numbers. */
#define TURN_TRANSPORT_UDP	17
#define TURN_TRANSPORT_TCP	6	/* RFC 6062 */

/* Error codes a client acts on. */
#define TURN_ERR_UNAUTHORIZED	401
#define TURN_ERR_MISMATCH	437	/* Allocation Mismatch */
#define TURN_ERR_STALE_NONCE	438

/*
 * ChannelData (RFC 8656 12.4): channel numbers and header.  natmapd binds
 * only RFC 8656's 0x4000-0x4fff; it reads RFC 5766's 0x4000-0x7ffe, which
 * coturn 4.6.1 still takes and its own client still binds (0x5a03 and
 * 0x593e in tests/data/turn).
 */
#define TURN_CHANNEL_MIN	0x4000
#define TURN_CHANNEL_MAX	0x4fff
#define TURN_CHANNEL_READ_MAX	0x7ffe
#define TURN_CHANNEL_HDR_LEN	4

/*
 * The largest message the codec takes: what a 16-bit length field allows
 * (a STUN header and 65532 bytes of attributes; a ChannelData frame of
 * 65535 bytes padded is shorter).  Over UDP a message is one datagram;
 * over TCP turn_frame_len cuts the stream.
 */
#define TURN_MAX_MSG		(STUN_HDR_LEN + 65532)

/* RFC 8489 14.3, 14.9, 14.10: USERNAME < 513 bytes, REALM and NONCE < 128 characters (763 bytes). */
#define TURN_USERNAME_MAX	512
#define TURN_REALM_MAX		763
#define TURN_NONCE_MAX		763

/* The long-term key (RFC 8489 9.2.2): MD5(username ":" realm ":" password). */
#define TURN_KEY_LEN		16

/*
 * One parsed message.  Addresses are AF_INET or AF_INET6 sockaddrs, un-
 * XORed, with the port set; ss_family is AF_UNSPEC (0) when absent.
 * username, realm, nonce and data point into the parsed buffer (valid
 * while it is; NULL when absent): realm and nonce are what a client
 * sends back, byte for byte, and what its key is made of.
 */
struct turn_msg {
	uint16_t	method;		/* TURN_ALLOCATE... */
	uint8_t		cls;		/* enum stun_class */
	uint8_t		tid[STUN_TID_LEN];
	struct sockaddr_storage	xor_mapped;	/* XOR-MAPPED-ADDRESS */
	struct sockaddr_storage	relayed;	/* XOR-RELAYED-ADDRESS */
	struct sockaddr_storage	peer;		/* the first XOR-PEER-ADDRESS */
	int		n_peers;	/* how many XOR-PEER-ADDRESS came */
	int		has_lifetime;
	uint32_t	lifetime;	/* LIFETIME, seconds */
	uint16_t	channel;	/* CHANNEL-NUMBER (0x4000-0x7ffe); 0 if absent */
	uint8_t		transport;	/* REQUESTED-TRANSPORT; 0 if absent */
	uint8_t		family;		/* REQUESTED-ADDRESS-FAMILY: STUN_FAMILY_IPV4/6; 0 if absent */
	int		dont_fragment;	/* DONT-FRAGMENT seen */
	int		has_connection_id;
	uint32_t	connection_id;	/* CONNECTION-ID (RFC 6062) */
	const uint8_t	*data;		/* DATA */
	size_t		data_len;
	const uint8_t	*username;	/* USERNAME */
	size_t		username_len;
	const uint8_t	*realm;		/* REALM */
	size_t		realm_len;
	const uint8_t	*nonce;		/* NONCE */
	size_t		nonce_len;
	int		error_code;	/* ERROR-CODE: 300..699; 0 if absent */
	char		error_reason[128];	/* escaped (printable ASCII), truncated */
	char		software[128];		/* SOFTWARE, escaped, truncated */
	/* UNKNOWN-ATTRIBUTES of a 420 answer: the types the server refused */
	int		n_refused;
	uint16_t	refused[STUN_MAX_UNKNOWN];
	int		has_integrity;	/* MESSAGE-INTEGRITY seen (turn_verify checks it) */
	size_t		integrity_off;	/* where it starts */
	int		has_fingerprint;	/* FINGERPRINT seen, and it was right */
	/* comprehension-required (< 0x8000) attributes not understood */
	int		n_unknown;
	uint16_t	unknown[STUN_MAX_UNKNOWN];
};

/*
 * Parse one whole STUN-format message (a UDP datagram, or one cut from a
 * TCP stream by turn_frame_len) of up to TURN_MAX_MSG bytes: 0, or -1
 * with *err saying why (too short, not STUN, length not matching, an
 * attribute running past the end, a value of the wrong length, a bad
 * address family, a channel number not 0x4000-0x7ffe, a wrong
 * FINGERPRINT...).
 * Every length is checked before it is read; attributes are walked with
 * their 4-byte padding; the first of two of a kind is taken; after
 * MESSAGE-INTEGRITY only FINGERPRINT is read (RFC 8489 14.5).  On -1 the
 * struct is left zeroed.  Any class and method parse: the caller checks
 * them and the transaction ID.
 */
int	turn_parse(const uint8_t *buf, size_t len, struct turn_msg *,
	    const char **err);

/*
 * The MESSAGE-INTEGRITY of a message turn_parse took, checked under key
 * (RFC 8489 14.5: HMAC-SHA1 of the message up to the attribute, the
 * header's length field made to end just after it), compared in constant
 * time: 0 when right, -1 when wrong or absent.
 */
int	turn_verify(const uint8_t *buf, size_t len, const struct turn_msg *,
	    const uint8_t *key, size_t keylen);

/* The long-term key of RFC 8489 9.2.2 (the strings as they go on the wire, already SASLprep-ed). */
void	turn_key(const void *username, size_t ulen, const void *realm,
	    size_t rlen, const void *password, size_t plen,
	    uint8_t key[TURN_KEY_LEN]);

/*
 * A message built attribute by attribute into buf (cap bytes): begin,
 * add what it carries in order, finish.  A piece that does not fit marks
 * the builder failed and finish returns -1; the adds need not be checked
 * one by one.
 */
struct turn_builder {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 off;
	int		 failed;
};

/* The credentials a request carries (RFC 8489 9.2.4), all as sent on the wire. */
struct turn_auth {
	const void	*username;
	size_t		 username_len;
	const void	*realm;		/* from the server's 401 or 438 */
	size_t		 realm_len;
	const void	*nonce;		/* likewise */
	size_t		 nonce_len;
	const uint8_t	*key;		/* turn_key() */
	size_t		 key_len;
};

void	turn_begin(struct turn_builder *, uint8_t *buf, size_t cap,
	    uint16_t method, uint8_t cls, const uint8_t tid[STUN_TID_LEN]);
/* XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS: AF_INET or AF_INET6. */
void	turn_add_addr(struct turn_builder *, uint16_t type,
	    const struct sockaddr_storage *);
/* LIFETIME, CONNECTION-ID: a 32-bit value. */
void	turn_add_u32(struct turn_builder *, uint16_t type, uint32_t);
/* CHANNEL-NUMBER (0x4000-0x4fff; another marks the builder failed). */
void	turn_add_channel(struct turn_builder *, uint16_t channel);
/* REQUESTED-TRANSPORT: TURN_TRANSPORT_UDP or _TCP. */
void	turn_add_transport(struct turn_builder *, uint8_t proto);
/* REQUESTED-ADDRESS-FAMILY: AF_INET or AF_INET6. */
void	turn_add_family(struct turn_builder *, int af);
/* DATA, SOFTWARE or any opaque attribute, zero-padded; len 0 makes a flag (DONT-FRAGMENT). */
void	turn_add_bytes(struct turn_builder *, uint16_t type, const void *,
	    size_t len);
/*
 * The end of the message: USERNAME, NONCE, REALM and MESSAGE-INTEGRITY
 * under auth's key when auth is not NULL, then a FINGERPRINT when
 * fingerprint is not 0.  The message's length, or -1 (it did not fit, an
 * add failed, a credential over its limit).
 */
int	turn_finish(struct turn_builder *, const struct turn_auth *auth,
	    int fingerprint);
/*
 * The same without USERNAME, NONCE and REALM: MESSAGE-INTEGRITY under key
 * unless key is NULL (as a server's answers carry it), then FINGERPRINT
 * when fingerprint is not 0.  The length, or -1.
 */
int	turn_finish_key(struct turn_builder *, const uint8_t *key,
	    size_t keylen, int fingerprint);

/*
 * ChannelData (RFC 8656 12.4): the channel, the length, the payload;
 * padded with zeros to 4 bytes when tcp (RFC 8656 12.5: over TCP it must
 * be, over UDP it need not).  The bytes written, or -1 (buf too small,
 * channel out of range, payload over 65535 bytes).
 */
int	turn_build_channel_data(uint8_t *buf, size_t len, uint16_t channel,
	    const void *data, size_t dlen, int tcp);
/*
 * The same parsed: 0 with *channel (0x4000-0x7ffe), *data (into buf) and
 * *dlen set, or -1 with *err (a channel out of range, a length past the
 * end, over TCP not exactly padded, over UDP more than 3 bytes of
 * padding).
 */
int	turn_parse_channel_data(const uint8_t *buf, size_t len, int tcp,
	    uint16_t *channel, const uint8_t **data, size_t *dlen,
	    const char **err);

/*
 * TURN over TCP (RFC 8656 12.5, RFC 6062 4.1): given the first len bytes
 * buffered from the server, the length of the frame they begin with (a
 * STUN message: 20 + its length field; a ChannelData frame: 4 + its
 * length, padded to 4), as stun_frame_len does: known from the first 4
 * bytes of ChannelData, the first 20 of STUN; the frame is whole once len
 * reaches it.  0 when too few bytes have come to tell, -1 when they are
 * neither (first two bits 10 or 11, channel 0x7fff, no magic cookie, a
 * STUN length not a multiple of 4): the stream is garbage.
 */
int	turn_frame_len(const uint8_t *buf, size_t len);

/* The method's name, for logs ("allocate"...; "unknown" for others). */
const char *turn_method_name(uint16_t method);

#endif
