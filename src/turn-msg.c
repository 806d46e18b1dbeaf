/* SPDX-License-Identifier: ISC */
/* TURN (RFC 8656) and TURN-TCP (RFC 6062) messages and ChannelData, built and parsed; no I/O. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "stun-msg.h"
#include "turn-msg.h"
#include "wire.h"

#define TURN_PAD4(n)	(((n) + 3) & ~(size_t)3)

/* What was seen, so that the first of duplicate attributes wins. */
#define SEEN_XOR_MAPPED		0x0001
#define SEEN_RELAYED		0x0002
#define SEEN_LIFETIME		0x0004
#define SEEN_CHANNEL		0x0008
#define SEEN_TRANSPORT		0x0010
#define SEEN_FAMILY		0x0020
#define SEEN_CONNECTION_ID	0x0040
#define SEEN_DATA		0x0080
#define SEEN_USERNAME		0x0100
#define SEEN_REALM		0x0200
#define SEEN_NONCE		0x0400
#define SEEN_ERROR_CODE		0x0800
#define SEEN_SOFTWARE		0x1000
#define SEEN_REFUSED		0x2000

const char *
turn_method_name(uint16_t method)
{
	static const char *const names[] = {
		[STUN_BINDING] = "binding",
		[TURN_ALLOCATE] = "allocate",
		[TURN_REFRESH] = "refresh",
		[TURN_SEND] = "send",
		[TURN_DATA] = "data",
		[TURN_CREATE_PERMISSION] = "create-permission",
		[TURN_CHANNEL_BIND] = "channel-bind",
		[TURN_CONNECT] = "connect",
		[TURN_CONNECTION_BIND] = "connection-bind",
		[TURN_CONNECTION_ATTEMPT] = "connection-attempt",
	};

	if (method < sizeof(names) / sizeof(names[0]) && names[method] != NULL)
		return names[method];
	return "unknown";
}

/* ---- building ---- */

void
turn_begin(struct turn_builder *b, uint8_t *buf, size_t cap, uint16_t method,
    uint8_t cls, const uint8_t tid[STUN_TID_LEN])
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	if (cap < STUN_HDR_LEN || method > 0x0fff || cls > STUN_ERROR) {
		b->failed = 1;
		return;
	}
	stun_put_header(buf, stun_type(method, cls), 0, tid);
	b->off = STUN_HDR_LEN;
}

/*
 * Room for an attribute of vlen bytes (padded) at b->off, the header's
 * length field counting it: 1, or 0 with the builder failed.
 */
static int
turn_room(struct turn_builder *b, size_t vlen)
{
	size_t n = STUN_ATTR_HDR_LEN + TURN_PAD4(vlen);

	if (b->failed || vlen > 0xffff || n > b->cap - b->off ||
	    b->off + n > TURN_MAX_MSG) {
		b->failed = 1;
		return 0;
	}
	wire_put16(b->buf + 2, (uint16_t)(b->off + n - STUN_HDR_LEN));
	return 1;
}

void
turn_add_addr(struct turn_builder *b, uint16_t type,
    const struct sockaddr_storage *ss)
{
	size_t n = stun_addr_attr_len(ss);

	if (n == 0) {
		b->failed = 1;
		return;
	}
	if (!turn_room(b, n - STUN_ATTR_HDR_LEN))
		return;
	b->off += stun_put_addr(b->buf + b->off, type, ss, 1, b->buf);
}

/* A 4-byte value, already laid out. */
static void
turn_add_4(struct turn_builder *b, uint16_t type, const uint8_t v[4])
{
	turn_add_bytes(b, type, v, 4);
}

void
turn_add_u32(struct turn_builder *b, uint16_t type, uint32_t value)
{
	uint8_t v[4];

	wire_put32(v, value);
	turn_add_4(b, type, v);
}

void
turn_add_channel(struct turn_builder *b, uint16_t channel)
{
	/* RFC 8656 18.1: the number, then 16 bits RFFU (zero) */
	if (channel < TURN_CHANNEL_MIN || channel > TURN_CHANNEL_MAX) {
		b->failed = 1;
		return;
	}
	turn_add_u32(b, TURN_A_CHANNEL_NUMBER, (uint32_t)channel << 16);
}

void
turn_add_transport(struct turn_builder *b, uint8_t proto)
{
	/* RFC 8656 18.11: the protocol, then 24 bits RFFU */
	turn_add_u32(b, TURN_A_REQUESTED_TRANSPORT, (uint32_t)proto << 24);
}

void
turn_add_family(struct turn_builder *b, int af)
{
	/* RFC 8656 18.10: the family as in address attributes, 24 bits reserved */
	if (af != AF_INET && af != AF_INET6) {
		b->failed = 1;
		return;
	}
	turn_add_u32(b, TURN_A_REQUESTED_ADDRESS_FAMILY, (uint32_t)(af ==
	    AF_INET ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6) << 24);
}

void
turn_add_bytes(struct turn_builder *b, uint16_t type, const void *v,
    size_t len)
{
	if (!turn_room(b, len))
		return;
	b->off += stun_put_text(b->buf + b->off, type, len > 0 ? v : "", len);
}

/*
 * HMAC-SHA1 of the message up to off under key, with the header's length
 * field as length (RFC 8489 14.5: as if the message ended just after the
 * MESSAGE-INTEGRITY that starts at off).
 */
static void
turn_mac(const uint8_t *buf, size_t off, uint16_t length, const uint8_t *key,
    size_t keylen, uint8_t out[CRYPTO_SHA1_LEN])
{
	uint8_t hdr[STUN_HDR_LEN];
	struct crypto_part parts[2];

	memcpy(hdr, buf, STUN_HDR_LEN);
	wire_put16(hdr + 2, length);
	parts[0].data = hdr;
	parts[0].len = STUN_HDR_LEN;
	parts[1].data = buf + STUN_HDR_LEN;
	parts[1].len = off - STUN_HDR_LEN;
	crypto_hmac_sha1(key, keylen, parts, 2, out);
}

int
turn_finish(struct turn_builder *b, const struct turn_auth *auth,
    int fingerprint)
{
	if (auth == NULL)
		return turn_finish_key(b, NULL, 0, fingerprint);
	if (auth->username_len > TURN_USERNAME_MAX ||
	    auth->realm_len > TURN_REALM_MAX ||
	    auth->nonce_len > TURN_NONCE_MAX || auth->key == NULL)
		b->failed = 1;
	turn_add_bytes(b, STUN_A_USERNAME, auth->username, auth->username_len);
	turn_add_bytes(b, TURN_A_NONCE, auth->nonce, auth->nonce_len);
	turn_add_bytes(b, TURN_A_REALM, auth->realm, auth->realm_len);
	return turn_finish_key(b, auth->key, auth->key_len, fingerprint);
}

int
turn_finish_key(struct turn_builder *b, const uint8_t *key, size_t keylen,
    int fingerprint)
{
	uint8_t mac[CRYPTO_SHA1_LEN];
	size_t mi;

	if (key != NULL) {
		if (!turn_room(b, STUN_MI_LEN))
			return -1;
		mi = b->off;
		turn_mac(b->buf, mi, (uint16_t)(mi + STUN_ATTR_HDR_LEN +
		    STUN_MI_LEN - STUN_HDR_LEN), key, keylen, mac);
		turn_add_bytes(b, STUN_A_MESSAGE_INTEGRITY, mac, sizeof(mac));
	}
	if (fingerprint && turn_room(b, 4))
		b->off += stun_put_fingerprint(b->buf, b->off);
	if (b->failed)
		return -1;
	return (int)b->off;
}

void
turn_key(const void *username, size_t ulen, const void *realm, size_t rlen,
    const void *password, size_t plen, uint8_t key[TURN_KEY_LEN])
{
	struct crypto_part parts[5] = {
		{ username, ulen }, { ":", 1 }, { realm, rlen }, { ":", 1 },
		{ password, plen },
	};

	crypto_md5(parts, 5, key);
}

int
turn_verify(const uint8_t *buf, size_t len, const struct turn_msg *m,
    const uint8_t *key, size_t keylen)
{
	uint8_t mac[CRYPTO_SHA1_LEN];
	size_t off = m->integrity_off;
	int ok;

	if (!m->has_integrity || off < STUN_HDR_LEN ||
	    off + STUN_ATTR_HDR_LEN + STUN_MI_LEN > len ||
	    wire_get16(buf + off) != STUN_A_MESSAGE_INTEGRITY)
		return -1;
	turn_mac(buf, off, (uint16_t)(off + STUN_ATTR_HDR_LEN + STUN_MI_LEN -
	    STUN_HDR_LEN), key, keylen, mac);
	ok = crypto_equal(mac, buf + off + STUN_ATTR_HDR_LEN, sizeof(mac));
	crypto_wipe(mac, sizeof(mac));
	return ok ? 0 : -1;
}

/* ---- ChannelData ---- */

int
turn_build_channel_data(uint8_t *buf, size_t len, uint16_t channel,
    const void *data, size_t dlen, int tcp)
{
	size_t n = TURN_CHANNEL_HDR_LEN + dlen;

	if (tcp)
		n = TURN_PAD4(n);
	if (channel < TURN_CHANNEL_MIN || channel > TURN_CHANNEL_MAX ||
	    dlen > 0xffff || len < n)
		return -1;
	wire_put16(buf, channel);
	wire_put16(buf + 2, (uint16_t)dlen);
	if (dlen > 0)
		memmove(buf + TURN_CHANNEL_HDR_LEN, data, dlen);
	memset(buf + TURN_CHANNEL_HDR_LEN + dlen, 0,
	    n - TURN_CHANNEL_HDR_LEN - dlen);
	return (int)n;
}

int
turn_parse_channel_data(const uint8_t *buf, size_t len, int tcp,
    uint16_t *channel, const uint8_t **data, size_t *dlen, const char **err)
{
	uint16_t ch;
	size_t n;

	*channel = 0;
	*data = NULL;
	*dlen = 0;
	if (len < TURN_CHANNEL_HDR_LEN)
		return wire_fail(err, "ChannelData shorter than 4 bytes");
	ch = wire_get16(buf);
	if (ch < TURN_CHANNEL_MIN || ch > TURN_CHANNEL_READ_MAX)
		return wire_fail(err, "ChannelData channel not in 0x4000-0x7ffe");
	n = wire_get16(buf + 2);
	if (n > len - TURN_CHANNEL_HDR_LEN)
		return wire_fail(err, "ChannelData length past the end");
	if (tcp && len != TURN_PAD4(TURN_CHANNEL_HDR_LEN + n))
		return wire_fail(err, "ChannelData over TCP not padded to 4");
	if (!tcp && len > TURN_PAD4(TURN_CHANNEL_HDR_LEN + n))
		return wire_fail(err, "ChannelData longer than its padding");
	*channel = ch;
	*data = buf + TURN_CHANNEL_HDR_LEN;
	*dlen = n;
	return 0;
}

int
turn_frame_len(const uint8_t *buf, size_t len)
{
	int mlen;

	if (len < TURN_CHANNEL_HDR_LEN)
		return 0;
	switch (buf[0] & 0xc0) {
	case 0x40:
		/* ChannelData, 0x4000-0x7ffe (TURN_CHANNEL_READ_MAX) */
		if (wire_get16(buf) > TURN_CHANNEL_READ_MAX)
			return -1;
		return (int)TURN_PAD4(TURN_CHANNEL_HDR_LEN +
		    (size_t)wire_get16(buf + 2));
	case 0x00:
		if (len < STUN_HDR_LEN)
			return 0;
		if ((mlen = stun_check_header(buf, TURN_MAX_MSG, NULL)) == -1)
			return -1;
		return STUN_HDR_LEN + mlen;
	default:
		return -1;
	}
}

/* ---- parsing ---- */

/*
 * USERNAME, REALM, NONCE: kept as they came (pointing into the message),
 * the first of each, within their limits.
 */
static int
turn_get_opaque(const uint8_t *v, size_t vlen, size_t max, int first,
    const uint8_t **out, size_t *outlen, const char *why, const char **err)
{
	if (vlen > max)
		return wire_fail(err, why);
	if (first) {
		*out = v;
		*outlen = vlen;
	}
	return 0;
}

/* A 4-byte attribute's value: 0, or -1 when it is not 4 bytes. */
static int
turn_get_4(size_t vlen, const char *why, const char **err)
{
	return vlen == 4 ? 0 : wire_fail(err, why);
}

/*
 * One attribute (type, value v of vlen bytes) into m; seen says which
 * came already.  0, or -1 with *err.
 */
static int
turn_parse_attr(const uint8_t *buf, uint16_t type, const uint8_t *v,
    size_t vlen, struct turn_msg *m, unsigned int *seen, const char **err)
{
	struct sockaddr_storage ss;
	unsigned int bit = 0;
	int code, i;

	switch (type) {
	case STUN_A_XOR_MAPPED_ADDRESS:
	case TURN_A_XOR_RELAYED_ADDRESS:
	case TURN_A_XOR_PEER_ADDRESS:
		if (stun_get_addr(v, vlen, buf, 1, &ss, err) == -1)
			return -1;
		if (type == TURN_A_XOR_PEER_ADDRESS) {
			if (m->n_peers++ == 0)
				m->peer = ss;
			return 0;
		}
		bit = type == STUN_A_XOR_MAPPED_ADDRESS ? SEEN_XOR_MAPPED :
		    SEEN_RELAYED;
		if ((*seen & bit) == 0)
			*(bit == SEEN_XOR_MAPPED ? &m->xor_mapped :
			    &m->relayed) = ss;
		break;
	case TURN_A_LIFETIME:
		if (turn_get_4(vlen, "LIFETIME length not 4", err) == -1)
			return -1;
		bit = SEEN_LIFETIME;
		if ((*seen & bit) == 0) {
			m->has_lifetime = 1;
			m->lifetime = wire_get32(v);
		}
		break;
	case TURN_A_CHANNEL_NUMBER:
		if (turn_get_4(vlen, "CHANNEL-NUMBER length not 4", err) == -1)
			return -1;
		if (wire_get16(v) < TURN_CHANNEL_MIN ||
		    wire_get16(v) > TURN_CHANNEL_READ_MAX)
			return wire_fail(err,
			    "CHANNEL-NUMBER not in 0x4000-0x7ffe");
		bit = SEEN_CHANNEL;
		if ((*seen & bit) == 0)
			m->channel = wire_get16(v);
		break;
	case TURN_A_REQUESTED_TRANSPORT:
		if (turn_get_4(vlen, "REQUESTED-TRANSPORT length not 4",
		    err) == -1)
			return -1;
		bit = SEEN_TRANSPORT;
		if ((*seen & bit) == 0)
			m->transport = v[0];
		break;
	case TURN_A_REQUESTED_ADDRESS_FAMILY:
		if (turn_get_4(vlen, "REQUESTED-ADDRESS-FAMILY length not 4",
		    err) == -1)
			return -1;
		if (v[0] != STUN_FAMILY_IPV4 && v[0] != STUN_FAMILY_IPV6)
			return wire_fail(err,
			    "REQUESTED-ADDRESS-FAMILY not IPv4 or IPv6");
		bit = SEEN_FAMILY;
		if ((*seen & bit) == 0)
			m->family = v[0];
		break;
	case TURN_A_DONT_FRAGMENT:
		if (vlen != 0)
			return wire_fail(err, "DONT-FRAGMENT not empty");
		m->dont_fragment = 1;
		break;
	case TURN_A_CONNECTION_ID:
		if (turn_get_4(vlen, "CONNECTION-ID length not 4", err) == -1)
			return -1;
		bit = SEEN_CONNECTION_ID;
		if ((*seen & bit) == 0) {
			m->has_connection_id = 1;
			m->connection_id = wire_get32(v);
		}
		break;
	case TURN_A_DATA:
		bit = SEEN_DATA;
		if ((*seen & bit) == 0) {
			m->data = v;
			m->data_len = vlen;
		}
		break;
	case STUN_A_USERNAME:
		bit = SEEN_USERNAME;
		if (turn_get_opaque(v, vlen, TURN_USERNAME_MAX, (*seen & bit) == 0,
		    &m->username, &m->username_len, "USERNAME longer than 512 bytes", err) == -1)
			return -1;
		break;
	case TURN_A_REALM:
		bit = SEEN_REALM;
		if (turn_get_opaque(v, vlen, TURN_REALM_MAX, (*seen & bit) == 0,
		    &m->realm, &m->realm_len, "REALM longer than 763 bytes", err) == -1)
			return -1;
		break;
	case TURN_A_NONCE:
		bit = SEEN_NONCE;
		if (turn_get_opaque(v, vlen, TURN_NONCE_MAX, (*seen & bit) == 0,
		    &m->nonce, &m->nonce_len, "NONCE longer than 763 bytes", err) == -1)
			return -1;
		break;
	case STUN_A_ERROR_CODE:
		/* a second one is checked all the same, then dropped */
		bit = SEEN_ERROR_CODE;
		if ((*seen & bit) == 0) {
			if (stun_get_error(v, vlen, &m->error_code,
			    m->error_reason, sizeof(m->error_reason), err) == -1)
				return -1;
		} else if (stun_get_error(v, vlen, &code, NULL, 0, err) == -1)
			return -1;
		break;
	case STUN_A_UNKNOWN_ATTRIBUTES:
		/* RFC 8489 14.9: 16-bit types */
		if (vlen % 2 != 0)
			return wire_fail(err,
			    "UNKNOWN-ATTRIBUTES length not even");
		bit = SEEN_REFUSED;
		if ((*seen & bit) == 0)
			for (i = 0; (size_t)i < vlen / 2; i++)
				stun_note_unknown(m->refused, &m->n_refused,
				    wire_get16(v + 2 * (size_t)i));
		break;
	case STUN_A_SOFTWARE:
		bit = SEEN_SOFTWARE;
		if ((*seen & bit) == 0)
			stun_get_text(m->software, sizeof(m->software), v,
			    vlen);
		break;
	case STUN_A_MESSAGE_INTEGRITY:
		if (vlen != STUN_MI_LEN)
			return wire_fail(err, "MESSAGE-INTEGRITY length not 20");
		m->has_integrity = 1;
		m->integrity_off = (size_t)(v - STUN_ATTR_HDR_LEN - buf);
		break;
	case TURN_A_EVEN_PORT:
	case TURN_A_RESERVATION_TOKEN:
		/* known; natmapd asks for neither */
		break;
	default:
		if (type < 0x8000)
			stun_note_unknown(m->unknown, &m->n_unknown, type);
		break;
	}
	*seen |= bit;
	return 0;
}

/*
 * The attributes from the header to len (a multiple of 4), each padded to
 * 4 bytes; FINGERPRINT last, nothing but it read after MESSAGE-INTEGRITY.
 */
static int
turn_parse_attrs(const uint8_t *buf, size_t len, struct turn_msg *m,
    const char **err)
{
	size_t off = STUN_HDR_LEN, vlen;
	unsigned int seen = 0;
	const uint8_t *v;
	uint16_t type;
	int rc;

	while ((rc = stun_next_attr(buf, len, &off, &type, &v, &vlen,
	    &m->has_fingerprint, err)) == 1)
		/* RFC 8489 14.5: what follows the MAC is not read */
		if (!m->has_integrity &&
		    turn_parse_attr(buf, type, v, vlen, m, &seen, err) == -1)
			return -1;
	return rc;
}

int
turn_parse(const uint8_t *buf, size_t len, struct turn_msg *m,
    const char **err)
{
	int mlen, rc;

	memset(m, 0, sizeof(*m));
	if (len < STUN_HDR_LEN)
		return wire_fail(err, "STUN message shorter than 20 bytes");
	if (len > TURN_MAX_MSG)
		return wire_fail(err, "STUN message longer than the limit");
	if ((mlen = stun_check_header(buf, TURN_MAX_MSG, err)) == -1)
		return -1;
	if ((size_t)mlen != len - STUN_HDR_LEN)
		return wire_fail(err, "STUN length does not match the message");
	stun_split_type(wire_get16(buf), &m->method, &m->cls);
	memcpy(m->tid, buf + 8, STUN_TID_LEN);
	rc = turn_parse_attrs(buf, len, m, err);
	if (rc == -1)
		memset(m, 0, sizeof(*m));
	return rc;
}
