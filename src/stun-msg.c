/* SPDX-License-Identifier: ISC */
/* STUN (RFC 8489, RFC 5780) Binding messages, built and parsed; no I/O. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "stun-msg.h"
#include "wire.h"

#define STUN_A_MESSAGE_INTEGRITY_SHA256	0x001c	/* RFC 8489 14.6 */

/* What was seen, so that the first of duplicate attributes wins. */
#define SEEN_XOR_MAPPED		0x01
#define SEEN_MAPPED		0x02
#define SEEN_ORIGIN		0x04	/* RESPONSE-ORIGIN */
#define SEEN_OTHER		0x08	/* OTHER-ADDRESS */
#define SEEN_ALTERNATE		0x10
#define SEEN_ERROR_CODE		0x20
#define SEEN_SOFTWARE		0x40

uint32_t
stun_crc32(const uint8_t *buf, size_t len)
{
	uint32_t crc = 0xffffffff;
	size_t i;
	int k;

	/* bit by bit: a message is at most 1500 bytes, a table buys nothing */
	for (i = 0; i < len; i++) {
		crc ^= buf[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & (0U - (crc & 1)));
	}
	return crc ^ 0xffffffff;
}

/*
 * The header of RFC 8489 figure 2: the 14-bit message type, the length
 * of what follows, the magic cookie and the transaction ID.  The length
 * is filled in by the caller once the attributes are there.
 */
void
stun_put_header(uint8_t *p, uint16_t type, size_t attrlen,
    const uint8_t tid[STUN_TID_LEN])
{
	wire_put16(p, type);
	wire_put16(p + 2, (uint16_t)attrlen);
	wire_put32(p + 4, STUN_MAGIC);
	memcpy(p + 8, tid, STUN_TID_LEN);
}

int
stun_build_binding(uint8_t *buf, size_t len, const uint8_t tid[STUN_TID_LEN],
    uint8_t change, int fingerprint)
{
	return stun_build_request(buf, len, tid, change, 0, fingerprint);
}

int
stun_build_request(uint8_t *buf, size_t len, const uint8_t tid[STUN_TID_LEN],
    uint8_t change, uint16_t response_port, int fingerprint)
{
	size_t need = STUN_HDR_LEN, off = STUN_HDR_LEN;

	if (change != 0)
		need += STUN_ATTR_HDR_LEN + 4;
	if (response_port != 0)
		need += STUN_ATTR_HDR_LEN + 4;
	if (fingerprint)
		need += STUN_ATTR_HDR_LEN + 4;
	if (len < need)
		return -1;
	/* a request of class 0, method Binding: type 0x0001 */
	stun_put_header(buf, STUN_BINDING, need - STUN_HDR_LEN, tid);
	if (change != 0) {
		/* RFC 5780 7.2: 32 bits, A (0x04) and B (0x02) at the end */
		wire_put16(buf + off, STUN_A_CHANGE_REQUEST);
		wire_put16(buf + off + 2, 4);
		wire_put32(buf + off + 4, change);
		off += STUN_ATTR_HDR_LEN + 4;
	}
	if (response_port != 0) {
		/* RFC 5780 7.5: the port, then 16 bits of padding */
		wire_put16(buf + off, STUN_A_RESPONSE_PORT);
		wire_put16(buf + off + 2, 4);
		wire_put32(buf + off + 4, (uint32_t)response_port << 16);
		off += STUN_ATTR_HDR_LEN + 4;
	}
	if (fingerprint) {
		/*
		 * RFC 8489 14.7: the CRC-32 of the message up to this
		 * attribute, the header's length already counting it.
		 */
		wire_put16(buf + off, STUN_A_FINGERPRINT);
		wire_put16(buf + off + 2, 4);
		wire_put32(buf + off + 4,
		    stun_crc32(buf, off) ^ STUN_FINGERPRINT_XOR);
		off += STUN_ATTR_HDR_LEN + 4;
	}
	return (int)off;
}

uint16_t
stun_type(uint16_t method, unsigned int cls)
{
	return (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 |
	    (method & 0x0f80) << 2 | (cls & 0x01) << 4 | (cls & 0x02) << 7);
}

size_t
stun_addr_attr_len(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return STUN_ATTR_HDR_LEN + 8;
	if (ss->ss_family == AF_INET6)
		return STUN_ATTR_HDR_LEN + 20;
	return 0;
}

size_t
stun_put_addr(uint8_t *p, uint16_t type, const struct sockaddr_storage *ss,
    int xor, const uint8_t *hdr)
{
	const uint8_t *a;
	uint16_t port;
	size_t alen, i;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		a = (const uint8_t *)&sin->sin_addr;
		alen = 4;
		port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		a = (const uint8_t *)&sin6->sin6_addr;
		alen = 16;
		port = ntohs(sin6->sin6_port);
	}
	wire_put16(p, type);
	wire_put16(p + 2, (uint16_t)(4 + alen));
	p[4] = 0;
	p[5] = alen == 4 ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6;
	wire_put16(p + 6, xor ? port ^ (uint16_t)(STUN_MAGIC >> 16) : port);
	for (i = 0; i < alen; i++)
		p[8 + i] = a[i] ^ (xor ? hdr[4 + i] : 0);
	return STUN_ATTR_HDR_LEN + 4 + alen;
}

size_t
stun_put_text(uint8_t *p, uint16_t type, const char *s, size_t slen)
{
	size_t padded = (slen + 3) & ~(size_t)3;

	wire_put16(p, type);
	wire_put16(p + 2, (uint16_t)slen);
	memcpy(p + 4, s, slen);
	memset(p + 4 + slen, 0, padded - slen);
	return STUN_ATTR_HDR_LEN + padded;
}

size_t
stun_put_fingerprint(uint8_t *buf, size_t off)
{
	wire_put16(buf + off, STUN_A_FINGERPRINT);
	wire_put16(buf + off + 2, 4);
	wire_put32(buf + off + 4, stun_crc32(buf, off) ^ STUN_FINGERPRINT_XOR);
	return STUN_ATTR_HDR_LEN + 4;
}

#define STUN_SOFTWARE_MAX	763	/* RFC 8489 14.14: fewer than 128 characters, 763 bytes */
#define STUN_REASON_MAX		763	/* RFC 8489 14.8 */

int
stun_build_success(uint8_t *buf, size_t len,
    const struct stun_answer_spec *a)
{
	size_t need = STUN_HDR_LEN, off = STUN_HDR_LEN, n, slen = 0;

	if (a->mapped == NULL || (n = stun_addr_attr_len(a->mapped)) == 0)
		return -1;
	need += n;
	if (a->legacy_mapped)
		need += n;
	if (a->origin != NULL) {
		if ((n = stun_addr_attr_len(a->origin)) == 0)
			return -1;
		need += n;
	}
	if (a->other != NULL) {
		if ((n = stun_addr_attr_len(a->other)) == 0)
			return -1;
		need += n;
	}
	if (a->software != NULL) {
		slen = strlen(a->software);
		if (slen > STUN_SOFTWARE_MAX)
			return -1;
		need += STUN_ATTR_HDR_LEN + ((slen + 3) & ~(size_t)3);
	}
	if (a->fingerprint)
		need += STUN_ATTR_HDR_LEN + 4;
	if (len < need || need > STUN_MAX_MSG)
		return -1;
	stun_put_header(buf, stun_type(a->method, STUN_SUCCESS),
	    need - STUN_HDR_LEN, a->tid);
	off += stun_put_addr(buf + off, STUN_A_XOR_MAPPED_ADDRESS, a->mapped,
	    1, buf);
	if (a->legacy_mapped)
		off += stun_put_addr(buf + off, STUN_A_MAPPED_ADDRESS,
		    a->mapped, 0, buf);
	if (a->origin != NULL)
		off += stun_put_addr(buf + off, STUN_A_RESPONSE_ORIGIN,
		    a->origin, 0, buf);
	if (a->other != NULL)
		off += stun_put_addr(buf + off, STUN_A_OTHER_ADDRESS,
		    a->other, 0, buf);
	if (a->software != NULL)
		off += stun_put_text(buf + off, STUN_A_SOFTWARE, a->software,
		    slen);
	if (a->fingerprint)
		off += stun_put_fingerprint(buf, off);
	return (int)off;
}

int
stun_build_error(uint8_t *buf, size_t len, uint16_t method,
    const uint8_t tid[STUN_TID_LEN], int code, const char *reason,
    const uint16_t *unknown, int n, const char *software, int fingerprint)
{
	size_t need = STUN_HDR_LEN, off = STUN_HDR_LEN, rlen = 0, slen = 0;
	size_t ulen = 0, padded;
	int i;

	if (code < 300 || code > 699 || n < 0 || n > STUN_MAX_UNKNOWN ||
	    (n > 0 && unknown == NULL))
		return -1;
	if (reason != NULL && (rlen = strlen(reason)) > STUN_REASON_MAX)
		return -1;
	need += STUN_ATTR_HDR_LEN + ((4 + rlen + 3) & ~(size_t)3);
	if (n > 0) {
		ulen = 2 * (size_t)n;
		need += STUN_ATTR_HDR_LEN + ((ulen + 3) & ~(size_t)3);
	}
	if (software != NULL) {
		if ((slen = strlen(software)) > STUN_SOFTWARE_MAX)
			return -1;
		need += STUN_ATTR_HDR_LEN + ((slen + 3) & ~(size_t)3);
	}
	if (fingerprint)
		need += STUN_ATTR_HDR_LEN + 4;
	if (len < need || need > STUN_MAX_MSG)
		return -1;
	stun_put_header(buf, stun_type(method, STUN_ERROR),
	    need - STUN_HDR_LEN, tid);
	/* RFC 8489 14.8: 21 zero bits, the class (hundreds), the number */
	padded = (4 + rlen + 3) & ~(size_t)3;
	wire_put16(buf + off, STUN_A_ERROR_CODE);
	wire_put16(buf + off + 2, (uint16_t)(4 + rlen));
	wire_put16(buf + off + 4, 0);
	buf[off + 6] = (uint8_t)(code / 100);
	buf[off + 7] = (uint8_t)(code % 100);
	if (rlen > 0)
		memcpy(buf + off + 8, reason, rlen);
	memset(buf + off + 8 + rlen, 0, padded - 4 - rlen);
	off += STUN_ATTR_HDR_LEN + padded;
	if (n > 0) {
		/* RFC 8489 14.9: 16-bit types, padded with zeros */
		padded = (ulen + 3) & ~(size_t)3;
		wire_put16(buf + off, STUN_A_UNKNOWN_ATTRIBUTES);
		wire_put16(buf + off + 2, (uint16_t)ulen);
		for (i = 0; i < n; i++)
			wire_put16(buf + off + 4 + 2 * (size_t)i, unknown[i]);
		memset(buf + off + 4 + ulen, 0, padded - ulen);
		off += STUN_ATTR_HDR_LEN + padded;
	}
	if (software != NULL)
		off += stun_put_text(buf + off, STUN_A_SOFTWARE, software, slen);
	if (fingerprint)
		off += stun_put_fingerprint(buf, off);
	return (int)off;
}

int
stun_check_header(const uint8_t *buf, size_t max, const char **err)
{
	uint16_t mlen;

	if ((buf[0] & 0xc0) != 0)
		return wire_fail(err, "not STUN: first two bits not 0");
	if (wire_get32(buf + 4) != STUN_MAGIC)
		return wire_fail(err, "not STUN: no magic cookie");
	mlen = wire_get16(buf + 2);
	if (mlen % 4 != 0)
		return wire_fail(err, "STUN length not a multiple of 4");
	if (STUN_HDR_LEN + (size_t)mlen > max)
		return wire_fail(err, max == STUN_MAX_MSG ?
		    "STUN message longer than 1500 bytes" :
		    "STUN message longer than the limit");
	return mlen;
}

int
stun_frame_len(const uint8_t *buf, size_t len)
{
	int mlen;

	if (len < STUN_HDR_LEN)
		return 0;
	if ((mlen = stun_check_header(buf, STUN_MAX_MSG, NULL)) == -1)
		return -1;
	return STUN_HDR_LEN + mlen;
}

/*
 * MAPPED-ADDRESS and the like (RFC 8489 14.1, 14.2; RFC 5780 7.3, 7.4):
 * 8 reserved bits, the family, the port and 4 or 16 address bytes.  The
 * XOR forms have the port XORed with the cookie's top 16 bits and the
 * address with the cookie (IPv4) or the cookie and the transaction ID
 * (IPv6).
 */
int
stun_get_addr(const uint8_t *v, size_t vlen, const uint8_t *hdr, int xor,
    struct sockaddr_storage *ss, const char **err)
{
	uint8_t a[16];
	uint16_t port;
	size_t i;

	if (vlen < 4)
		return wire_fail(err, "STUN address attribute of the wrong length");
	port = wire_get16(v + 2);
	if (xor)
		port ^= (uint16_t)(STUN_MAGIC >> 16);
	memset(ss, 0, sizeof(*ss));
	switch (v[1]) {
	case STUN_FAMILY_IPV4: {
		struct sockaddr_in sin;

		if (vlen != 8)
			return wire_fail(err,
			    "STUN address attribute of the wrong length");
		for (i = 0; i < 4; i++)
			a[i] = v[4 + i] ^ (xor ? hdr[4 + i] : 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		memcpy(&sin.sin_addr, a, 4);
		memcpy(ss, &sin, sizeof(sin));
		break;
	}
	case STUN_FAMILY_IPV6: {
		struct sockaddr_in6 sin6;

		if (vlen != 20)
			return wire_fail(err,
			    "STUN address attribute of the wrong length");
		/* bytes 4..19 of the header: the cookie, then the ID */
		for (i = 0; i < 16; i++)
			a[i] = v[4 + i] ^ (xor ? hdr[4 + i] : 0);
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		memcpy(&sin6.sin6_addr, a, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		break;
	}
	default:
		return wire_fail(err, "STUN address family not IPv4 or IPv6");
	}
	return 0;
}

/*
 * A reason phrase or SOFTWARE (UTF-8 on the wire) as printable ASCII for
 * the logs: other bytes and the backslash as \xNN (log_escape), cut
 * short to fit, without the NULs coturn counts in the length.
 */
void
stun_get_text(char *dst, size_t dstlen, const uint8_t *v, size_t vlen)
{
	while (vlen > 0 && v[vlen - 1] == '\0')
		vlen--;
	log_escape(dst, dstlen, (const char *)v, vlen);
}

/*
 * RFC 8489 14.8: 21 reserved bits, the class (3 bits: the hundreds),
 * the number (0-99), then a UTF-8 reason phrase, escaped into reason
 * unless that is NULL.
 */
int
stun_get_error(const uint8_t *v, size_t vlen, int *code, char *reason,
    size_t reasonlen, const char **err)
{
	int cls, num;

	if (vlen < 4)
		return wire_fail(err, "ERROR-CODE shorter than 4 bytes");
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return wire_fail(err, "ERROR-CODE not in 300-699");
	*code = cls * 100 + num;
	if (reason != NULL)
		stun_get_text(reason, reasonlen, v + 4, vlen - 4);
	return 0;
}

void
stun_note_unknown(uint16_t unknown[STUN_MAX_UNKNOWN], int *n, uint16_t type)
{
	int i;

	for (i = 0; i < *n; i++)
		if (unknown[i] == type)
			return;
	if (*n < STUN_MAX_UNKNOWN)
		unknown[(*n)++] = type;
}

int
stun_next_attr(const uint8_t *buf, size_t len, size_t *off, uint16_t *type,
    const uint8_t **v, size_t *vlen, int *fingerprint, const char **err)
{
	size_t padded;

	if (*off >= len)
		return 0;
	if (len - *off < STUN_ATTR_HDR_LEN)
		return wire_fail(err, "STUN attribute header truncated");
	*type = wire_get16(buf + *off);
	*vlen = wire_get16(buf + *off + 2);
	padded = (*vlen + 3) & ~(size_t)3;
	if (padded > len - *off - STUN_ATTR_HDR_LEN)
		return wire_fail(err, "STUN attribute runs past the end");
	*v = buf + *off + STUN_ATTR_HDR_LEN;
	if (*type == STUN_A_FINGERPRINT) {
		/* RFC 8489 14.7: last, a CRC over all before it */
		if (*vlen != 4)
			return wire_fail(err, "FINGERPRINT length not 4");
		if (*off + STUN_ATTR_HDR_LEN + 4 != len)
			return wire_fail(err, "attribute after FINGERPRINT");
		if (wire_get32(*v) != (stun_crc32(buf, *off) ^
		    STUN_FINGERPRINT_XOR))
			return wire_fail(err, "bad FINGERPRINT");
		*fingerprint = 1;
		*off = len;
		return 0;
	}
	*off += STUN_ATTR_HDR_LEN + padded;
	return 1;
}

/*
 * The attributes, from the header to len (a multiple of 4), each padded
 * to 4 bytes.  Of attributes that come twice the first is taken (RFC
 * 8489 14), though a malformed second address or ERROR-CODE is still
 * refused; RESPONSE-ORIGIN and OTHER-ADDRESS win over RFC 3489's
 * SOURCE-ADDRESS and CHANGED-ADDRESS wherever they come.  Understood
 * are the attributes of stun-msg.h and MESSAGE-INTEGRITY-SHA256 (which
 * sets has_integrity too); any other comprehension-required type is
 * noted in unknown[] once, the first STUN_MAX_UNKNOWN of them only
 * (n_unknown stops there).  PRIORITY, REALM, NONCE... count as unknown:
 * natmapd neither does ICE nor has credentials.
 */
static int
stun_parse_attrs(const uint8_t *buf, size_t len, struct stun_msg *m,
    const char **err)
{
	struct sockaddr_storage ss;
	size_t off = STUN_HDR_LEN;
	unsigned int seen = 0;
	int code;

	for (;;) {
		const uint8_t *v;
		uint16_t type;
		size_t vlen;
		int rc;

		rc = stun_next_attr(buf, len, &off, &type, &v, &vlen,
		    &m->has_fingerprint, err);
		if (rc <= 0)
			return rc;
		/* RFC 8489 14.5, 14.6: what follows the MAC is not read */
		if (m->has_integrity)
			continue;

		switch (type) {
		case STUN_A_XOR_MAPPED_ADDRESS:
			if (stun_get_addr(v, vlen, buf, 1, &ss, err) == -1)
				return -1;
			if ((seen & SEEN_XOR_MAPPED) == 0)
				m->xor_mapped = ss;
			seen |= SEEN_XOR_MAPPED;
			break;
		case STUN_A_MAPPED_ADDRESS:
			if (stun_get_addr(v, vlen, buf, 0, &ss, err) == -1)
				return -1;
			if ((seen & SEEN_MAPPED) == 0)
				m->mapped = ss;
			seen |= SEEN_MAPPED;
			break;
		case STUN_A_RESPONSE_ORIGIN:
			/* preferred to an RFC 3489 SOURCE-ADDRESS */
			if (stun_get_addr(v, vlen, buf, 0, &ss, err) == -1)
				return -1;
			if ((seen & SEEN_ORIGIN) == 0)
				m->origin = ss;
			seen |= SEEN_ORIGIN;
			break;
		case STUN_A_SOURCE_ADDRESS:
			if (stun_get_addr(v, vlen, buf, 0, &ss, err) == -1)
				return -1;
			if (m->origin.ss_family == AF_UNSPEC)
				m->origin = ss;
			break;
		case STUN_A_OTHER_ADDRESS:
			/* preferred to an RFC 3489 CHANGED-ADDRESS */
			if (stun_get_addr(v, vlen, buf, 0, &ss, err) == -1)
				return -1;
			if ((seen & SEEN_OTHER) == 0)
				m->other = ss;
			seen |= SEEN_OTHER;
			break;
		case STUN_A_CHANGED_ADDRESS:
			if (stun_get_addr(v, vlen, buf, 0, &ss, err) == -1)
				return -1;
			if (m->other.ss_family == AF_UNSPEC)
				m->other = ss;
			break;
		case STUN_A_ALTERNATE_SERVER:
			if (stun_get_addr(v, vlen, buf, 0, &ss, err) == -1)
				return -1;
			if ((seen & SEEN_ALTERNATE) == 0)
				m->alternate = ss;
			seen |= SEEN_ALTERNATE;
			break;
		case STUN_A_ERROR_CODE:
			/* a second one is checked all the same, then dropped */
			if ((seen & SEEN_ERROR_CODE) == 0) {
				if (stun_get_error(v, vlen, &m->error_code,
				    m->error_reason, sizeof(m->error_reason),
				    err) == -1)
					return -1;
			} else if (stun_get_error(v, vlen, &code, NULL, 0,
			    err) == -1)
				return -1;
			seen |= SEEN_ERROR_CODE;
			break;
		case STUN_A_SOFTWARE:
			if ((seen & SEEN_SOFTWARE) == 0)
				stun_get_text(m->software,
				    sizeof(m->software), v, vlen);
			seen |= SEEN_SOFTWARE;
			break;
		case STUN_A_MESSAGE_INTEGRITY:
			if (vlen != STUN_MI_LEN)
				return wire_fail(err,
				    "MESSAGE-INTEGRITY length not 20");
			m->has_integrity = 1;
			break;
		case STUN_A_MESSAGE_INTEGRITY_SHA256:
			/* 16 to 32 bytes, a multiple of 4 (RFC 8489 14.6) */
			if (vlen < 16 || vlen > 32 || vlen % 4 != 0)
				return wire_fail(err, "MESSAGE-INTEGRITY-SHA256 "
				    "length not 16-32");
			m->has_integrity = 1;
			break;
		case STUN_A_CHANGE_REQUEST:
			/* RFC 5780 7.2: only bits A and B mean anything */
			if (vlen != 4)
				return wire_fail(err, "CHANGE-REQUEST length not 4");
			if (!m->has_change)
				m->change = (uint8_t)(wire_get32(v) &
				    (STUN_CHANGE_IP | STUN_CHANGE_PORT));
			m->has_change = 1;
			break;
		case STUN_A_RESPONSE_PORT:
			/* RFC 5780 7.5: 16 bits of port, 16 of padding */
			if (vlen != 4)
				return wire_fail(err, "RESPONSE-PORT length not 4");
			if (wire_get16(v) == 0)
				return wire_fail(err, "RESPONSE-PORT 0");
			if (m->response_port == 0)
				m->response_port = wire_get16(v);
			break;
		case STUN_A_USERNAME:
		case STUN_A_UNKNOWN_ATTRIBUTES:
			/* known, of no use to a client without credentials */
			break;
		default:
			if (type < 0x8000)
				stun_note_unknown(m->unknown, &m->n_unknown, type);
			break;
		}
	}
}

void
stun_split_type(uint16_t type, uint16_t *method, uint8_t *cls)
{
	*method = (uint16_t)((type & 0x000f) | (type & 0x00e0) >> 1 |
	    (type & 0x3e00) >> 2);
	*cls = (uint8_t)((type >> 4 & 0x01) | (type >> 7 & 0x02));
}

int
stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m,
    const char **err)
{
	uint16_t type;
	int mlen, rc;

	memset(m, 0, sizeof(*m));
	if (len < STUN_HDR_LEN)
		return wire_fail(err, "STUN message shorter than 20 bytes");
	if (len > STUN_MAX_MSG)
		return wire_fail(err, "STUN message longer than 1500 bytes");
	if ((mlen = stun_check_header(buf, STUN_MAX_MSG, err)) == -1)
		return -1;
	if ((size_t)mlen != len - STUN_HDR_LEN)
		return wire_fail(err, "STUN length does not match the datagram");

	/*
	 * RFC 8489 figure 3: the type's bits are M11-M7, C1, M6-M4, C0,
	 * M3-M0 (the top two bits are 0).
	 */
	type = wire_get16(buf);
	stun_split_type(type, &m->method, &m->cls);
	memcpy(m->tid, buf + 8, STUN_TID_LEN);

	rc = stun_parse_attrs(buf, len, m, err);
	if (rc == -1)
		memset(m, 0, sizeof(*m));
	return rc;
}

const struct sockaddr_storage *
stun_msg_mapped(const struct stun_msg *m)
{
	if (m->xor_mapped.ss_family != AF_UNSPEC)
		return &m->xor_mapped;
	if (m->mapped.ss_family != AF_UNSPEC)
		return &m->mapped;
	return NULL;
}
