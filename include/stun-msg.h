/* SPDX-License-Identifier: ISC */
/* STUN (RFC 8489) message codec with RFC 5780 attributes: bytes <-> structs, no I/O. */
#ifndef NATMAPD_STUN_MSG_H
#define NATMAPD_STUN_MSG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define STUN_PORT		3478
#define STUN_HDR_LEN		20
#define STUN_MAGIC		0x2112a442
#define STUN_TID_LEN		12
#define STUN_MAX_MSG		1500	/* larger datagrams are refused */
#define STUN_ATTR_HDR_LEN	4	/* type, length */
#define STUN_MI_LEN		20	/* MESSAGE-INTEGRITY: HMAC-SHA1 */
#define STUN_FINGERPRINT_XOR	0x5354554e	/* "STUN" */
#define STUN_FAMILY_IPV4	0x01	/* in address attributes */
#define STUN_FAMILY_IPV6	0x02

#define STUN_BINDING		0x0001	/* the only method natmapd uses */

enum stun_class {
	STUN_REQUEST = 0,
	STUN_INDICATION = 1,
	STUN_SUCCESS = 2,
	STUN_ERROR = 3,
};

/* Attribute types natmapd reads or writes. */
#define STUN_A_MAPPED_ADDRESS		0x0001
#define STUN_A_CHANGE_REQUEST		0x0003	/* RFC 5780 */
#define STUN_A_SOURCE_ADDRESS		0x0004	/* RFC 3489, read as RESPONSE-ORIGIN */
#define STUN_A_CHANGED_ADDRESS		0x0005	/* RFC 3489, read as OTHER-ADDRESS */
#define STUN_A_USERNAME			0x0006
#define STUN_A_MESSAGE_INTEGRITY	0x0008
#define STUN_A_ERROR_CODE		0x0009
#define STUN_A_UNKNOWN_ATTRIBUTES	0x000a
#define STUN_A_XOR_MAPPED_ADDRESS	0x0020
#define STUN_A_RESPONSE_PORT		0x0027	/* RFC 5780 */
#define STUN_A_SOFTWARE			0x8022
#define STUN_A_ALTERNATE_SERVER		0x8023
#define STUN_A_FINGERPRINT		0x8028
#define STUN_A_RESPONSE_ORIGIN		0x802b	/* RFC 5780 */
#define STUN_A_OTHER_ADDRESS		0x802c	/* RFC 5780 */

/* CHANGE-REQUEST flags (RFC 5780 section 7.2). */
#define STUN_CHANGE_IP		0x04
#define STUN_CHANGE_PORT	0x02

#define STUN_MAX_UNKNOWN	8

/*
 * One parsed message.  Addresses are AF_INET or AF_INET6 sockaddrs with the
 * port set; ss_family is AF_UNSPEC (0) when the attribute was absent.  The
 * XOR attributes are already un-XORed.
 */
struct stun_msg {
	uint16_t	method;		/* STUN_BINDING */
	uint8_t		cls;		/* enum stun_class */
	uint8_t		tid[STUN_TID_LEN];
	struct sockaddr_storage	xor_mapped;	/* XOR-MAPPED-ADDRESS */
	struct sockaddr_storage	mapped;		/* MAPPED-ADDRESS */
	struct sockaddr_storage	origin;		/* RESPONSE-ORIGIN or SOURCE-ADDRESS */
	struct sockaddr_storage	other;		/* OTHER-ADDRESS or CHANGED-ADDRESS */
	struct sockaddr_storage	alternate;	/* ALTERNATE-SERVER */
	int		error_code;	/* ERROR-CODE: 300..699; 0 if absent */
	char		error_reason[128];	/* escaped (printable ASCII), truncated */
	char		software[128];		/* SOFTWARE, escaped, truncated */
	int		has_integrity;	/* MESSAGE-INTEGRITY seen (not verified) */
	int		has_fingerprint;	/* FINGERPRINT seen, and it was right */
	/* a request's RFC 5780 attributes (read before MESSAGE-INTEGRITY only) */
	int		has_change;	/* CHANGE-REQUEST seen */
	uint8_t		change;		/* its STUN_CHANGE_IP | STUN_CHANGE_PORT bits */
	uint16_t	response_port;	/* RESPONSE-PORT; 0 if absent */
	/* comprehension-required (< 0x8000) attributes not understood */
	int		n_unknown;
	uint16_t	unknown[STUN_MAX_UNKNOWN];
};

/*
 * A Binding request: header, a CHANGE-REQUEST attribute when change is
 * not 0 (STUN_CHANGE_IP | STUN_CHANGE_PORT), then a FINGERPRINT when
 * fingerprint is not 0.  Returns the length written, or -1 when buf is
 * too small.
 */
int	stun_build_binding(uint8_t *buf, size_t len,
	    const uint8_t tid[STUN_TID_LEN], uint8_t change, int fingerprint);
/*
 * The same with a RESPONSE-PORT attribute (RFC 5780 7.5) when
 * response_port is not 0: the answer goes to that port of the address the
 * request came from.
 */
int	stun_build_request(uint8_t *buf, size_t len,
	    const uint8_t tid[STUN_TID_LEN], uint8_t change,
	    uint16_t response_port, int fingerprint);

/*
 * What a server puts in a Binding success response (RFC 8489 7.3.1, RFC
 * 5780 6.1), in this order: XOR-MAPPED-ADDRESS of mapped, MAPPED-ADDRESS
 * too when legacy_mapped, RESPONSE-ORIGIN and OTHER-ADDRESS when not NULL,
 * SOFTWARE when not NULL (at most 763 bytes, padded with zeros), and a
 * FINGERPRINT when fingerprint is not 0.  Addresses are AF_INET or
 * AF_INET6 sockaddrs.
 */
struct stun_answer_spec {
	uint16_t	 method;	/* STUN_BINDING */
	const uint8_t	*tid;		/* STUN_TID_LEN bytes */
	const struct sockaddr_storage *mapped;	/* where the request came from */
	int		 legacy_mapped;
	const struct sockaddr_storage *origin;	/* RESPONSE-ORIGIN, or NULL */
	const struct sockaddr_storage *other;	/* OTHER-ADDRESS, or NULL */
	const char	*software;	/* or NULL */
	int		 fingerprint;
};

/* The answer as spec says; the length written, or -1 (buf too small, a bad family). */
int	stun_build_success(uint8_t *buf, size_t len,
	    const struct stun_answer_spec *);
/*
 * An error response (RFC 8489 14.8) of method to tid: ERROR-CODE code
 * (300-699) with reason (may be NULL: none), UNKNOWN-ATTRIBUTES listing
 * the n types of unknown when n > 0 (code 420), SOFTWARE unless NULL,
 * FINGERPRINT when fingerprint.  The length written, or -1.
 */
int	stun_build_error(uint8_t *buf, size_t len, uint16_t method,
	    const uint8_t tid[STUN_TID_LEN], int code, const char *reason,
	    const uint16_t *unknown, int n, const char *software,
	    int fingerprint);

/*
 * Parse one whole message (a UDP datagram, or one message cut from a TCP
 * stream by stun_frame_len): 0, or -1 with *err saying why (too short,
 * not STUN, length not matching, an attribute running past the end, a
 * bad address family or length, a wrong FINGERPRINT...).  Every length
 * is checked before it is read; attributes are walked with their 4-byte
 * padding; after MESSAGE-INTEGRITY only FINGERPRINT is read (RFC 8489
 * 14.5).  On -1 the struct is left zeroed.  Requests and indications
 * parse too: the caller checks cls and tid.
 */
int	stun_parse(const uint8_t *buf, size_t len, struct stun_msg *,
	    const char **err);

/*
 * TCP framing (RFC 8489 section 6.2.2): given the first len bytes of a
 * stream, the length of the first message (20 + its length field) when
 * the header is there and looks like STUN, 0 when fewer than 20 bytes have
 * come, -1 when it is not STUN (first two bits not 0, no magic cookie,
 * length not a multiple of 4 or over STUN_MAX_MSG).
 */
int	stun_frame_len(const uint8_t *buf, size_t len);

/* CRC-32 as FINGERPRINT uses it (ISO HDLC, before the XOR with 0x5354554e). */
uint32_t stun_crc32(const uint8_t *buf, size_t len);

/*
 * The pieces of the codec that turn-msg.c (TURN, RFC 8656) shares; the
 * room each writes is checked by the caller.
 */
/* RFC 8489 figure 3: method bits M11-M0 and class bits C1 C0 interleaved, and back. */
uint16_t stun_type(uint16_t method, unsigned int cls);
void	stun_split_type(uint16_t type, uint16_t *method, uint8_t *cls);
/* The 20-byte header at p: type, attrlen (the length field), cookie, ID. */
void	stun_put_header(uint8_t *p, uint16_t type, size_t attrlen,
	    const uint8_t tid[STUN_TID_LEN]);
/*
 * stun_frame_len's and stun_parse's checks of the first 20 bytes, with
 * max (header included) in place of STUN_MAX_MSG: the length field, or
 * -1 with *err saying why.
 */
int	stun_check_header(const uint8_t *buf, size_t max, const char **err);
/* Bytes an address attribute takes, header included; 0 for a bad family. */
size_t	stun_addr_attr_len(const struct sockaddr_storage *);
/*
 * An address attribute at p, XORed as stun_get_addr undoes it when xor
 * (hdr: the message's header): the bytes written.
 */
size_t	stun_put_addr(uint8_t *p, uint16_t type,
	    const struct sockaddr_storage *, int xor, const uint8_t *hdr);
/* A text or opaque attribute of slen bytes, zero-padded: the bytes written. */
size_t	stun_put_text(uint8_t *p, uint16_t type, const char *s, size_t slen);
/* RFC 8489 14.7: a FINGERPRINT at off, the header's length already counting it. */
size_t	stun_put_fingerprint(uint8_t *buf, size_t off);
/*
 * An address attribute's value v of vlen bytes (XOR-ed ones with xor, hdr
 * the message's header) into ss: 0, or -1 with *err saying why.
 */
int	stun_get_addr(const uint8_t *v, size_t vlen, const uint8_t *hdr,
	    int xor, struct sockaddr_storage *ss, const char **err);
/* Text off the wire as escaped printable ASCII, NULs at its end dropped. */
void	stun_get_text(char *dst, size_t dstlen, const uint8_t *v,
	    size_t vlen);
/* ERROR-CODE's value: the code (300-699) and, unless reason is NULL, its phrase escaped. */
int	stun_get_error(const uint8_t *v, size_t vlen, int *code, char *reason,
	    size_t reasonlen, const char **err);
/*
 * The walk of the attributes (RFC 8489 14), from *off (STUN_HDR_LEN at
 * first) to len: 1 with the next one's type and value (v, vlen; *off
 * moved past its padding), 0 at the end (*fingerprint set when it was a
 * FINGERPRINT, checked: last, CRC right), -1 with *err (a header cut
 * short, a value past the end, a bad FINGERPRINT).
 */
int	stun_next_attr(const uint8_t *buf, size_t len, size_t *off,
	    uint16_t *type, const uint8_t **v, size_t *vlen,
	    int *fingerprint, const char **err);
/* A comprehension-required type not understood, added to unknown[*n] once (at most STUN_MAX_UNKNOWN). */
void	stun_note_unknown(uint16_t unknown[STUN_MAX_UNKNOWN], int *n,
	    uint16_t type);

/* The address a client should take as its public one: XOR-MAPPED, else MAPPED; NULL if neither. */
const struct sockaddr_storage *stun_msg_mapped(const struct stun_msg *);

#endif
