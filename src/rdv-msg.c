/* SPDX-License-Identifier: ISC */
/* The rendezvous messages (wire format in rdv-msg.h): built, parsed, MAC checked; no I/O. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "rdv-msg.h"
#include "stun-msg.h"
#include "wire.h"

#define ATTR_HDR		4
#define FINGERPRINT_XOR		0x5354554e	/* "STUN", RFC 8489 14.7 */
#define FAMILY_IPV4		0x01
#define FAMILY_IPV6		0x02
#define CAND_HDR		4	/* kind, transport, 2 zero bytes */
#define REASON_MAX		127	/* RFC 8489 14.8: under 128 characters */

/* What each message must have, beyond NETWORK, MAC and FINGERPRINT. */
#define NEED_REGISTER_REQ	(RDV_HAS_NODE | RDV_HAS_TIMESTAMP)
#define NEED_REGISTER_OK	(RDV_HAS_SERVER_TIME | RDV_HAS_LIFETIME | \
	    RDV_HAS_MAPPED)
#define NEED_REACH_REQ		(RDV_HAS_NODE | RDV_HAS_TIMESTAMP | \
	    RDV_HAS_NONCE | RDV_HAS_REACH_TARGET)
#define NEED_REACH_OK		RDV_HAS_SERVER_TIME
#define NEED_SIGNAL_REQ		(RDV_HAS_NODE | RDV_HAS_TIMESTAMP | \
	    RDV_HAS_PEER | RDV_HAS_PAYLOAD)
#define NEED_SIGNAL_OK		RDV_HAS_SERVER_TIME
#define NEED_SIGNAL_IND		(RDV_HAS_NODE | RDV_HAS_PEER | RDV_HAS_PAYLOAD | \
	    RDV_HAS_SERVER_TIME)
#define NEED_ERROR		(RDV_HAS_SERVER_TIME | RDV_HAS_ERROR)


const char *
rdv_method_name(uint16_t method)
{
	static char buf[sizeof("method 0x0fff")];
	static const char hex[] = "0123456789abcdef";

	switch (method) {
	case RDV_REGISTER:
		return "REGISTER";
	case RDV_REACH:
		return "REACH";
	case RDV_SIGNAL:
		return "SIGNAL";
	}
	memcpy(buf, "method 0x", 9);
	buf[9] = hex[method >> 8 & 0x0f];
	buf[10] = hex[method >> 4 & 0x0f];
	buf[11] = hex[method & 0x0f];
	buf[12] = '\0';
	return buf;
}

/* RFC 8489 figure 3: M11-M7, C1, M6-M4, C0, M3-M0. */
static uint16_t
rdv_type(uint16_t method, uint8_t cls)
{
	return (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 |
	    (method & 0x0f80) << 2 | (cls & 0x01) << 4 | (cls & 0x02) << 7);
}

static uint16_t
rdv_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000f) | (type & 0x00e0) >> 1 |
	    (type & 0x3e00) >> 2);
}

static uint8_t
rdv_type_class(uint16_t type)
{
	return (uint8_t)((type >> 4 & 0x01) | (type >> 7 & 0x02));
}

static void
put64(uint8_t *p, uint64_t v)
{
	wire_put32(p, (uint32_t)(v >> 32));
	wire_put32(p + 4, (uint32_t)v);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)wire_get32(p) << 32 | wire_get32(p + 4);
}

/* NETWORK: 1-32 of [A-Za-z0-9._-]. */
int
rdv_network_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > RDV_NETWORK_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* NODE: 1-63 bytes, labels of [a-z0-9-] joined by single dots, no "-" at a label's ends. */
int
rdv_node_ok(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n < 1 || n > RDV_NODE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			label++;
		else if (c == '-' && label > 0)
			label++;
		else
			return 0;
	}
	return label > 0 && s[n - 1] != '-';
}

static int
rdv_transport_ok(uint8_t t)
{
	return t == RDV_TCP || t == RDV_UDP;
}

/* AF_INET or AF_INET6 with a port, nothing else. */
static int
rdv_addr_ok(const struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	switch (ss->ss_family) {
	case AF_INET:
		memcpy(&sin, ss, sizeof(sin));
		return sin.sin_port != 0;
	case AF_INET6:
		memcpy(&sin6, ss, sizeof(sin6));
		return sin6.sin6_port != 0;
	}
	return 0;
}

/*
 * The rules a whole message keeps, for build and parse alike: our method
 * and class, the attributes it must have, the values in range.  Names
 * are NUL-terminated here (parse checked and copied the bytes).
 */
static int
rdv_check(const struct rdv_msg *m, const char **err)
{
	unsigned int need;
	int i;

	if (m->method != RDV_REGISTER && m->method != RDV_REACH &&
	    m->method != RDV_SIGNAL)
		return wire_fail(err, "not a rendezvous method");
	switch (m->cls) {
	case STUN_REQUEST:
		need = m->method == RDV_REGISTER ? NEED_REGISTER_REQ :
		    m->method == RDV_REACH ? NEED_REACH_REQ : NEED_SIGNAL_REQ;
		break;
	case STUN_SUCCESS:
		need = m->method == RDV_REGISTER ? NEED_REGISTER_OK :
		    m->method == RDV_REACH ? NEED_REACH_OK : NEED_SIGNAL_OK;
		break;
	case STUN_ERROR:
		need = NEED_ERROR;
		break;
	case STUN_INDICATION:
		if (m->method != RDV_SIGNAL)
			return wire_fail(err, "rendezvous indication not "
			    "a SIGNAL");
		need = NEED_SIGNAL_IND;
		break;
	default:
		return wire_fail(err, "not a STUN class");
	}
	if (!(m->has & RDV_HAS_NETWORK) ||
	    !rdv_network_ok(m->network, strnlen(m->network,
	    sizeof(m->network))))
		return wire_fail(err, "no NETWORK, or not 1-32 of [A-Za-z0-9._-]");
	if ((m->has & need) != need)
		return wire_fail(err, "rendezvous attribute missing");
	if ((m->has & RDV_HAS_ERROR) && m->cls != STUN_ERROR)
		return wire_fail(err, "ERROR-CODE in a message not an error");
	if ((m->has & RDV_HAS_NODE) &&
	    !rdv_node_ok(m->node, strnlen(m->node, sizeof(m->node))))
		return wire_fail(err, "NODE not a name of 1-63 [a-z0-9-] "
		    "in dotted labels");
	if ((m->has & RDV_HAS_PEER) &&
	    !rdv_node_ok(m->peer, strnlen(m->peer, sizeof(m->peer))))
		return wire_fail(err, "PEER not a name of 1-63 [a-z0-9-] "
		    "in dotted labels");
	if ((m->has & RDV_HAS_PAYLOAD) &&
	    (m->payload_len < 1 || m->payload_len > RDV_PAYLOAD_MAX))
		return wire_fail(err, "PAYLOAD not 1-1024 bytes");
	if ((m->has & RDV_HAS_REACH_TARGET) &&
	    (!rdv_transport_ok(m->reach_transport) || m->reach_port == 0))
		return wire_fail(err, "REACH-TARGET not udp or tcp and a port");
	if ((m->has & RDV_HAS_ERROR) &&
	    (m->error_code < 300 || m->error_code > 699))
		return wire_fail(err, "ERROR-CODE not in 300-699");
	if ((m->has & RDV_HAS_MAPPED) && !rdv_addr_ok(&m->mapped))
		return wire_fail(err, "XOR-MAPPED-ADDRESS not IPv4 or IPv6 "
		    "with a port");
	if ((m->has & (RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL)) != 0 &&
	    ((m->has & (RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL)) !=
	    (RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL) ||
	    m->method != RDV_REGISTER || m->cls != STUN_SUCCESS))
		return wire_fail(err, "TURN-SERVER and TURN-CREDENTIAL not "
		    "both in a REGISTER success");
	if ((m->has & RDV_HAS_TURN_SERVER) && !rdv_addr_ok(&m->turn_server))
		return wire_fail(err, "TURN-SERVER not IPv4 or IPv6 with a "
		    "port");
	if ((m->has & RDV_HAS_TURN_CREDENTIAL) &&
	    (m->turn_cred_len < RDV_TURN_SEALED_MIN ||
	    m->turn_cred_len > RDV_TURN_SEALED_MAX))
		return wire_fail(err, "TURN-CREDENTIAL not 31-189 bytes");
	if (m->ncand < 0 || m->ncand > RDV_CAND_MAX)
		return wire_fail(err, "more than 16 CANDIDATE attributes");
	for (i = 0; i < m->ncand; i++) {
		if (m->cand[i].kind < RDV_CAND_HOST ||
		    m->cand[i].kind > RDV_CAND_MAPPED)
			return wire_fail(err, "CANDIDATE kind not host, srflx "
			    "or mapped");
		if (!rdv_transport_ok(m->cand[i].transport))
			return wire_fail(err, "CANDIDATE transport not udp "
			    "or tcp");
		if (!rdv_addr_ok(&m->cand[i].addr))
			return wire_fail(err, "CANDIDATE address not IPv4 or "
			    "IPv6 with a port");
	}
	return 0;
}

/* ---- building ---- */

struct wbuf {
	uint8_t		*b;
	size_t		 len;
	size_t		 off;
	int		 full;
};

/* Room for an attribute of vlen bytes, zero-padded: its value, or NULL when full. */
static uint8_t *
w_attr(struct wbuf *w, uint16_t type, size_t vlen)
{
	size_t padded = (vlen + 3) & ~(size_t)3;
	uint8_t *p;

	if (w->full || w->len - w->off < ATTR_HDR + padded) {
		w->full = 1;
		return NULL;
	}
	p = w->b + w->off;
	wire_put16(p, type);
	wire_put16(p + 2, (uint16_t)vlen);
	memset(p + ATTR_HDR, 0, padded);
	w->off += ATTR_HDR + padded;
	return p + ATTR_HDR;
}

static void
w_bytes(struct wbuf *w, uint16_t type, const void *v, size_t vlen)
{
	uint8_t *p;

	if ((p = w_attr(w, type, vlen)) != NULL && vlen > 0)
		memcpy(p, v, vlen);
}

static void
w_u64(struct wbuf *w, uint16_t type, uint64_t v)
{
	uint8_t *p;

	if ((p = w_attr(w, type, 8)) != NULL)
		put64(p, v);
}

/*
 * An XOR-MAPPED-ADDRESS value (RFC 8489 14.2) at p: 8 or 20 bytes,
 * XORed with bytes 4.. of the header (the cookie, then the ID).
 */
static size_t
xaddr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? 20 : 8;
}

static void
put_xaddr(uint8_t *p, const struct sockaddr_storage *ss, const uint8_t *hdr)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const uint8_t *a;
	uint16_t port;
	size_t alen, i;

	if (ss->ss_family == AF_INET6) {
		memcpy(&sin6, ss, sizeof(sin6));
		p[1] = FAMILY_IPV6;
		port = ntohs(sin6.sin6_port);
		a = (const uint8_t *)&sin6.sin6_addr;
		alen = 16;
		memcpy(p + 4, a, alen);
	} else {
		memcpy(&sin, ss, sizeof(sin));
		p[1] = FAMILY_IPV4;
		port = ntohs(sin.sin_port);
		a = (const uint8_t *)&sin.sin_addr;
		alen = 4;
		memcpy(p + 4, a, alen);
	}
	p[0] = 0;
	wire_put16(p + 2, port ^ (uint16_t)(STUN_MAGIC >> 16));
	for (i = 0; i < alen; i++)
		p[4 + i] ^= hdr[4 + i];
}

int
rdv_build(uint8_t *buf, size_t len, const struct rdv_msg *m,
    const uint8_t key[CRYPTO_KEY_LEN])
{
	struct wbuf w = { buf, len, STUN_HDR_LEN, 0 };
	struct crypto_part part;
	uint8_t *p;
	size_t mac_off, n;
	int i;

	if (rdv_check(m, NULL) == -1 || len < STUN_HDR_LEN)
		return -1;
	if (len > STUN_MAX_MSG)
		w.len = STUN_MAX_MSG;
	wire_put16(buf, rdv_type(m->method, m->cls));
	wire_put16(buf + 2, 0);
	wire_put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, m->tid, STUN_TID_LEN);

	w_bytes(&w, RDV_A_NETWORK, m->network, strlen(m->network));
	if (m->has & RDV_HAS_NODE)
		w_bytes(&w, RDV_A_NODE, m->node, strlen(m->node));
	if (m->has & RDV_HAS_TIMESTAMP)
		w_u64(&w, RDV_A_TIMESTAMP, m->timestamp);
	if (m->has & RDV_HAS_SERVER_TIME)
		w_u64(&w, RDV_A_SERVER_TIME, m->server_time);
	if (m->has & RDV_HAS_NONCE)
		w_bytes(&w, RDV_A_NONCE, m->nonce, RDV_NONCE_LEN);
	if ((m->has & RDV_HAS_LIFETIME) &&
	    (p = w_attr(&w, RDV_A_LIFETIME, 4)) != NULL)
		wire_put32(p, m->lifetime);
	if ((m->has & RDV_HAS_REACH_TARGET) &&
	    (p = w_attr(&w, RDV_A_REACH_TARGET, 4)) != NULL) {
		p[0] = m->reach_transport;
		wire_put16(p + 2, m->reach_port);
	}
	if (m->has & RDV_HAS_PEER)
		w_bytes(&w, RDV_A_PEER, m->peer, strlen(m->peer));
	if (m->has & RDV_HAS_PAYLOAD)
		w_bytes(&w, RDV_A_PAYLOAD, m->payload, m->payload_len);
	for (i = 0; i < m->ncand; i++) {
		n = CAND_HDR + xaddr_len(&m->cand[i].addr);
		if ((p = w_attr(&w, RDV_A_CANDIDATE, n)) == NULL)
			break;
		p[0] = m->cand[i].kind;
		p[1] = m->cand[i].transport;
		put_xaddr(p + CAND_HDR, &m->cand[i].addr, buf);
	}
	if ((m->has & RDV_HAS_MAPPED) &&
	    (p = w_attr(&w, STUN_A_XOR_MAPPED_ADDRESS,
	    xaddr_len(&m->mapped))) != NULL)
		put_xaddr(p, &m->mapped, buf);
	if ((m->has & RDV_HAS_TURN_SERVER) &&
	    (p = w_attr(&w, RDV_A_TURN_SERVER,
	    xaddr_len(&m->turn_server))) != NULL)
		put_xaddr(p, &m->turn_server, buf);
	if (m->has & RDV_HAS_TURN_CREDENTIAL)
		w_bytes(&w, RDV_A_TURN_CREDENTIAL, m->turn_cred,
		    m->turn_cred_len);
	if (m->has & RDV_HAS_ERROR) {
		n = strnlen(m->error_reason, sizeof(m->error_reason));
		if (n > REASON_MAX)
			n = REASON_MAX;
		if ((p = w_attr(&w, STUN_A_ERROR_CODE, 4 + n)) != NULL) {
			p[2] = (uint8_t)(m->error_code / 100);
			p[3] = (uint8_t)(m->error_code % 100);
			memcpy(p + 4, m->error_reason, n);
		}
	}

	/* RFC 8489 14.6: the length counts the MAC, then HMAC up to it */
	mac_off = w.off;
	if ((p = w_attr(&w, RDV_A_MESSAGE_INTEGRITY_SHA256, RDV_MAC_LEN)) ==
	    NULL)
		return -1;
	wire_put16(buf + 2, (uint16_t)(w.off - STUN_HDR_LEN));
	part.data = buf;
	part.len = mac_off;
	crypto_hmac_sha256(key, CRYPTO_KEY_LEN, &part, 1, p);

	/* RFC 8489 14.7: the length counts the FINGERPRINT, then the CRC */
	if ((p = w_attr(&w, STUN_A_FINGERPRINT, 4)) == NULL)
		return -1;
	wire_put16(buf + 2, (uint16_t)(w.off - STUN_HDR_LEN));
	wire_put32(p, stun_crc32(buf, w.off - ATTR_HDR - 4) ^ FINGERPRINT_XOR);
	return (int)w.off;
}

/* ---- parsing ---- */

/* An XOR-MAPPED-ADDRESS value; the reserved byte must be 0 when strict. */
static int
get_xaddr(const uint8_t *v, size_t vlen, const uint8_t *hdr, int strict,
    struct sockaddr_storage *ss, const char **err)
{
	uint16_t port;
	size_t i;

	if (vlen < 4)
		return wire_fail(err, "address of the wrong length");
	if (strict && v[0] != 0)
		return wire_fail(err, "address with a reserved byte not 0");
	port = wire_get16(v + 2) ^ (uint16_t)(STUN_MAGIC >> 16);
	if (port == 0)
		return wire_fail(err, "address with port 0");
	memset(ss, 0, sizeof(*ss));
	switch (v[1]) {
	case FAMILY_IPV4: {
		struct sockaddr_in sin;
		uint8_t a[4];

		if (vlen != 8)
			return wire_fail(err, "address of the wrong length");
		for (i = 0; i < 4; i++)
			a[i] = v[4 + i] ^ hdr[4 + i];
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		memcpy(&sin.sin_addr, a, 4);
		memcpy(ss, &sin, sizeof(sin));
		return 0;
	}
	case FAMILY_IPV6: {
		struct sockaddr_in6 sin6;
		uint8_t a[16];

		if (vlen != 20)
			return wire_fail(err, "address of the wrong length");
		for (i = 0; i < 16; i++)
			a[i] = v[4 + i] ^ hdr[4 + i];
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		memcpy(&sin6.sin6_addr, a, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		return 0;
	}
	}
	return wire_fail(err, "address family not IPv4 or IPv6");
}

/* Mark an attribute that may come once; -1 if it came before. */
static int
once(unsigned int *seen, unsigned int bit, const char **err)
{
	if (*seen & bit)
		return wire_fail(err, "rendezvous attribute twice");
	*seen |= bit;
	return 0;
}

/* NODE or PEER (its has bit) into name: once, a node name. */
static int
get_node(const uint8_t *v, size_t vlen, struct rdv_msg *m, unsigned int bit,
    char name[RDV_NODE_MAX + 1], const char **err)
{
	if (once(&m->has, bit, err) == -1)
		return -1;
	if (!rdv_node_ok((const char *)v, vlen))
		return wire_fail(err, bit == RDV_HAS_NODE ? "NODE not a name of "
		    "1-63 [a-z0-9-] in dotted labels" : "PEER not a name of "
		    "1-63 [a-z0-9-] in dotted labels");
	memcpy(name, v, vlen);
	return 0;
}

/* One attribute (not MAC or FINGERPRINT) of type at v, vlen bytes. */
static int
rdv_parse_attr(const uint8_t *buf, uint16_t type, const uint8_t *v,
    size_t vlen, struct rdv_msg *m, const char **err)
{
	struct rdv_cand *c;

	switch (type) {
	case RDV_A_NETWORK:
		if (once(&m->has, RDV_HAS_NETWORK, err) == -1)
			return -1;
		if (!rdv_network_ok((const char *)v, vlen))
			return wire_fail(err, "NETWORK not 1-32 of "
			    "[A-Za-z0-9._-]");
		memcpy(m->network, v, vlen);
		return 0;
	case RDV_A_NODE:
		return get_node(v, vlen, m, RDV_HAS_NODE, m->node, err);
	case RDV_A_PEER:
		return get_node(v, vlen, m, RDV_HAS_PEER, m->peer, err);
	case RDV_A_PAYLOAD:
		if (once(&m->has, RDV_HAS_PAYLOAD, err) == -1)
			return -1;
		if (vlen < 1 || vlen > RDV_PAYLOAD_MAX)
			return wire_fail(err, "PAYLOAD not 1-1024 bytes");
		memcpy(m->payload, v, vlen);
		m->payload_len = vlen;
		return 0;
	case RDV_A_TIMESTAMP:
		if (once(&m->has, RDV_HAS_TIMESTAMP, err) == -1)
			return -1;
		if (vlen != 8)
			return wire_fail(err, "TIMESTAMP length not 8");
		m->timestamp = get64(v);
		return 0;
	case RDV_A_SERVER_TIME:
		if (once(&m->has, RDV_HAS_SERVER_TIME, err) == -1)
			return -1;
		if (vlen != 8)
			return wire_fail(err, "SERVER-TIME length not 8");
		m->server_time = get64(v);
		return 0;
	case RDV_A_NONCE:
		if (once(&m->has, RDV_HAS_NONCE, err) == -1)
			return -1;
		if (vlen != RDV_NONCE_LEN)
			return wire_fail(err, "NONCE length not 16");
		memcpy(m->nonce, v, RDV_NONCE_LEN);
		return 0;
	case RDV_A_LIFETIME:
		if (once(&m->has, RDV_HAS_LIFETIME, err) == -1)
			return -1;
		if (vlen != 4)
			return wire_fail(err, "LIFETIME length not 4");
		m->lifetime = wire_get32(v);
		return 0;
	case RDV_A_REACH_TARGET:
		if (once(&m->has, RDV_HAS_REACH_TARGET, err) == -1)
			return -1;
		if (vlen != 4 || v[1] != 0)
			return wire_fail(err, "REACH-TARGET not 4 bytes with "
			    "a 0");
		m->reach_transport = v[0];
		m->reach_port = wire_get16(v + 2);
		if (!rdv_transport_ok(m->reach_transport) ||
		    m->reach_port == 0)
			return wire_fail(err, "REACH-TARGET not udp or tcp and "
			    "a port");
		return 0;
	case RDV_A_CANDIDATE:
		if (m->ncand == RDV_CAND_MAX)
			return wire_fail(err, "more than 16 CANDIDATE "
			    "attributes");
		if (vlen < CAND_HDR || v[2] != 0 || v[3] != 0)
			return wire_fail(err, "CANDIDATE too short or its "
			    "reserved bytes not 0");
		c = &m->cand[m->ncand];
		if (v[0] < RDV_CAND_HOST || v[0] > RDV_CAND_MAPPED)
			return wire_fail(err, "CANDIDATE kind not host, srflx "
			    "or mapped");
		if (!rdv_transport_ok(v[1]))
			return wire_fail(err, "CANDIDATE transport not udp or "
			    "tcp");
		if (get_xaddr(v + CAND_HDR, vlen - CAND_HDR, buf, 1, &c->addr,
		    err) == -1)
			return -1;
		c->kind = v[0];
		c->transport = v[1];
		m->ncand++;
		return 0;
	case STUN_A_XOR_MAPPED_ADDRESS:
		if (once(&m->has, RDV_HAS_MAPPED, err) == -1)
			return -1;
		return get_xaddr(v, vlen, buf, 0, &m->mapped, err);
	case RDV_A_TURN_SERVER:
		if (once(&m->has, RDV_HAS_TURN_SERVER, err) == -1)
			return -1;
		return get_xaddr(v, vlen, buf, 1, &m->turn_server, err);
	case RDV_A_TURN_CREDENTIAL:
		if (once(&m->has, RDV_HAS_TURN_CREDENTIAL, err) == -1)
			return -1;
		if (vlen < RDV_TURN_SEALED_MIN || vlen > RDV_TURN_SEALED_MAX)
			return wire_fail(err, "TURN-CREDENTIAL not 31-189 "
			    "bytes");
		memcpy(m->turn_cred, v, vlen);
		m->turn_cred_len = vlen;
		return 0;
	case STUN_A_ERROR_CODE:
		if (once(&m->has, RDV_HAS_ERROR, err) == -1)
			return -1;
		/* 21 bits 0, the class (3-6), the number (0-99), a reason */
		if (vlen < 4)
			return wire_fail(err, "ERROR-CODE shorter than 4 bytes");
		if ((v[2] & 0x07) < 3 || (v[2] & 0x07) > 6 || v[3] > 99)
			return wire_fail(err, "ERROR-CODE not in 300-699");
		m->error_code = (v[2] & 0x07) * 100 + v[3];
		log_escape(m->error_reason, sizeof(m->error_reason),
		    (const char *)v + 4, vlen - 4);
		return 0;
	}
	if (type < 0x8000)
		return wire_fail(err, "unknown comprehension-required "
		    "attribute");
	return 0;	/* comprehension-optional: skipped */
}

static int
rdv_parse_msg(const uint8_t *buf, size_t len, struct rdv_msg *m,
    const char **err)
{
	size_t off = STUN_HDR_LEN;
	uint16_t type;
	int mac = 0, fingerprint = 0;

	if (len < STUN_HDR_LEN)
		return wire_fail(err, "shorter than a STUN header");
	if (len > STUN_MAX_MSG)
		return wire_fail(err, "longer than 1500 bytes");
	if ((buf[0] & 0xc0) != 0 || wire_get32(buf + 4) != STUN_MAGIC)
		return wire_fail(err, "not STUN");
	if (wire_get16(buf + 2) != len - STUN_HDR_LEN)
		return wire_fail(err, "STUN length does not match the datagram");
	if (len % 4 != 0)
		return wire_fail(err, "STUN length not a multiple of 4");
	type = wire_get16(buf);
	m->method = rdv_type_method(type);
	m->cls = rdv_type_class(type);
	if (m->method != RDV_REGISTER && m->method != RDV_REACH &&
	    m->method != RDV_SIGNAL)
		return wire_fail(err, "not a rendezvous method");
	if (m->cls == STUN_INDICATION && m->method != RDV_SIGNAL)
		return wire_fail(err, "rendezvous indication not a SIGNAL");
	memcpy(m->tid, buf + 8, STUN_TID_LEN);

	while (off < len) {
		const uint8_t *v;
		size_t vlen, padded;

		if (len - off < ATTR_HDR)
			return wire_fail(err, "attribute header truncated");
		type = wire_get16(buf + off);
		vlen = wire_get16(buf + off + 2);
		padded = (vlen + 3) & ~(size_t)3;
		if (padded > len - off - ATTR_HDR)
			return wire_fail(err, "attribute runs past the end");
		v = buf + off + ATTR_HDR;

		if (type == STUN_A_FINGERPRINT) {
			if (vlen != 4)
				return wire_fail(err, "FINGERPRINT length not 4");
			if (off + ATTR_HDR + 4 != len)
				return wire_fail(err, "attribute after "
				    "FINGERPRINT");
			if (wire_get32(v) !=
			    (stun_crc32(buf, off) ^ FINGERPRINT_XOR))
				return wire_fail(err, "bad FINGERPRINT");
			fingerprint = 1;
			break;
		}
		if (mac)
			return wire_fail(err, "attribute after "
			    "MESSAGE-INTEGRITY-SHA256");
		if (type == RDV_A_MESSAGE_INTEGRITY_SHA256) {
			if (vlen != RDV_MAC_LEN)
				return wire_fail(err, "MESSAGE-INTEGRITY-SHA256 "
				    "length not 32");
			mac = 1;
			m->mac_off = off;
		} else if (rdv_parse_attr(buf, type, v, vlen, m, err) == -1)
			return -1;
		off += ATTR_HDR + padded;
	}
	if (!mac)
		return wire_fail(err, "no MESSAGE-INTEGRITY-SHA256");
	if (!fingerprint)
		return wire_fail(err, "no FINGERPRINT");
	return rdv_check(m, err);
}

int
rdv_parse(const uint8_t *buf, size_t len, struct rdv_msg *m,
    const char **err)
{
	memset(m, 0, sizeof(*m));
	if (rdv_parse_msg(buf, len, m, err) == -1) {
		memset(m, 0, sizeof(*m));
		return -1;
	}
	return 0;
}

int
rdv_verify(const uint8_t *buf, size_t len, const struct rdv_msg *m,
    const uint8_t key[CRYPTO_KEY_LEN])
{
	struct crypto_part parts[2];
	uint8_t hdr[4], mac[RDV_MAC_LEN];
	size_t off = m->mac_off;
	int ok;

	/* the MAC rdv_parse found, whole, where it says */
	if (len < STUN_HDR_LEN || off < STUN_HDR_LEN || off > len ||
	    len - off < ATTR_HDR + RDV_MAC_LEN ||
	    wire_get16(buf + off) != RDV_A_MESSAGE_INTEGRITY_SHA256 ||
	    wire_get16(buf + off + 2) != RDV_MAC_LEN)
		return 0;
	/* the type, the length up to the MAC's end, the rest up to the MAC */
	memcpy(hdr, buf, 2);
	wire_put16(hdr + 2, (uint16_t)(off + ATTR_HDR + RDV_MAC_LEN -
	    STUN_HDR_LEN));
	parts[0].data = hdr;
	parts[0].len = sizeof(hdr);
	parts[1].data = buf + 4;
	parts[1].len = off - 4;
	crypto_hmac_sha256(key, CRYPTO_KEY_LEN, parts, 2, mac);
	ok = crypto_equal(mac, buf + off + ATTR_HDR, RDV_MAC_LEN);
	crypto_wipe(mac, sizeof(mac));
	return ok;
}

int
rdv_fresh(uint64_t ts_ms, uint64_t now_ms)
{
	if (ts_ms <= now_ms)
		return now_ms - ts_ms <= RDV_SKEW_MAX_MS;
	return ts_ms - now_ms <= RDV_SKEW_MAX_MS;
}

int
rdv_peek(const uint8_t *buf, size_t len, uint16_t *method, uint8_t *cls)
{
	if (!rdv_is_rdv(buf, len))
		return -1;
	*method = rdv_type_method(wire_get16(buf));
	*cls = rdv_type_class(wire_get16(buf));
	return 0;
}

int
rdv_is_rdv(const uint8_t *buf, size_t len)
{
	uint16_t method;

	if (len < STUN_HDR_LEN || (buf[0] & 0xc0) != 0 ||
	    wire_get32(buf + 4) != STUN_MAGIC)
		return 0;
	method = rdv_type_method(wire_get16(buf));
	return method >= RDV_METHOD_FIRST && method <= RDV_METHOD_LAST;
}
