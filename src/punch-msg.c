/* SPDX-License-Identifier: ISC */
/* The hole-punching handshake's payloads (include/punch-msg.h): build, parse, verify, a replay cache; no I/O. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "punch-msg.h"
#include "rdv-msg.h"
#include "wire.h"

_Static_assert(PUNCH_MSG_MAX <= PUNCH_SIGNAL_PAYLOAD_MAX,
    "a payload must fit a SIGNAL's PAYLOAD");

#define HDR_LEN		16
#define COOKIE		0x2112a442u
#define FAMILY_IPV4	1
#define FAMILY_IPV6	2
#define CAND_HDR	8	/* kind, transport, 0 0 0, family, port */

/* ---- the rules a payload keeps, for build and parse alike ---- */

static int
cand_ok(const struct rdv_cand *c)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (c->kind == PUNCH_CAND_RELAY_BESIDE) {
		if (c->transport != RDV_TCP)
			return 0;
	} else if (c->kind < RDV_CAND_HOST || c->kind > RDV_CAND_RELAY)
		return 0;
	if (c->transport != RDV_TCP && c->transport != RDV_UDP)
		return 0;
	switch (c->addr.ss_family) {
	case AF_INET:
		memcpy(&sin, &c->addr, sizeof(sin));
		return sin.sin_port != 0;
	case AF_INET6:
		memcpy(&sin6, &c->addr, sizeof(sin6));
		return sin6.sin6_port != 0;
	}
	return 0;
}

static int
has_keys(uint8_t type)
{
	return type == PUNCH_CONNECT || type == PUNCH_OFFER;
}

static int
punch_check(const struct punch_msg *m, const char **err)
{
	int i;

	if (m->type < PUNCH_CONNECT || m->type > PUNCH_REJECT)
		return wire_fail(err, "unknown payload type");
	if (m->attempt == 0)
		return wire_fail(err, "attempt 0");
	if (!rdv_network_ok(m->network, strnlen(m->network,
	    sizeof(m->network))))
		return wire_fail(err, "not a network name");
	if (!rdv_node_ok(m->from, strnlen(m->from, sizeof(m->from))))
		return wire_fail(err, "sender not a node name");
	if (!rdv_node_ok(m->to, strnlen(m->to, sizeof(m->to))))
		return wire_fail(err, "receiver not a node name");
	if (m->type == PUNCH_REJECT && m->reason == 0)
		return wire_fail(err, "REJECT without a reason");
	if (has_keys(m->type)) {
		if (m->ncand < 0 ||
		    m->ncand + (m->ciphers != 0) > PUNCH_CAND_MAX)
			return wire_fail(err, "more than 16 candidates");
		if (m->ciphers & ~PUNCH_CIPHERS_KNOWN)
			return wire_fail(err, "an unknown cipher offered");
		for (i = 0; i < m->ncand; i++)
			if (!cand_ok(&m->cand[i]))
				return wire_fail(err, "bad candidate: kind, "
				    "transport, family or port");
	}
	return 0;
}

/* The address mask: the cookie, then (IPv6) the nonce's first 12 bytes. */
static void
addr_mask(uint8_t mask[16], const uint8_t nonce[PUNCH_NONCE_LEN])
{
	wire_put32(mask, COOKIE);
	memcpy(mask + 4, nonce, 12);
}

/* ---- building ---- */

/* The bytes a payload of m takes. */
static size_t
punch_len(const struct punch_msg *m)
{
	size_t n;
	int i;

	n = HDR_LEN + strlen(m->network) + strlen(m->from) + strlen(m->to) +
	    PUNCH_NONCE_LEN + 8;
	switch (m->type) {
	case PUNCH_CONNECT:
	case PUNCH_OFFER:
		n += PUNCH_INDEX_LEN + CRYPTO_X25519_LEN + 1;
		if (m->type == PUNCH_OFFER)
			n += PUNCH_HASH_LEN;
		for (i = 0; i < m->ncand; i++)
			n += m->cand[i].addr.ss_family == AF_INET6 ? 24 : 12;
		if (m->ciphers != 0)
			n += 12;	/* the ciphers' IPv4-shaped record */
		break;
	case PUNCH_ANSWER:
		n += PUNCH_HASH_LEN;
		break;
	default:
		n += PUNCH_HASH_LEN + 1;
		break;
	}
	return n + PUNCH_MAC_LEN;
}

static uint8_t *
put_cand(uint8_t *p, const struct rdv_cand *c, const uint8_t mask[16])
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const uint8_t *a;
	uint16_t port;
	size_t alen, i;

	memset(p, 0, CAND_HDR);
	p[0] = c->kind;
	p[1] = c->transport;
	if (c->addr.ss_family == AF_INET6) {
		memcpy(&sin6, &c->addr, sizeof(sin6));
		p[5] = FAMILY_IPV6;
		port = ntohs(sin6.sin6_port);
		a = (const uint8_t *)&sin6.sin6_addr;
		alen = 16;
	} else {
		memcpy(&sin, &c->addr, sizeof(sin));
		p[5] = FAMILY_IPV4;
		port = ntohs(sin.sin_port);
		a = (const uint8_t *)&sin.sin_addr;
		alen = 4;
	}
	wire_put16(p + 6, (uint16_t)(port ^ (COOKIE >> 16)));
	for (i = 0; i < alen; i++)
		p[CAND_HDR + i] = a[i] ^ mask[i];
	return p + CAND_HDR + alen;
}

/*
 * The ciphers offered, as a candidate of kind PUNCH_CAND_CIPHERS that a
 * node older than it skips: UDP, IPv4, the bits in the port's place,
 * address 0.0.0.0.
 */
static uint8_t *
put_ciphers(uint8_t *p, uint8_t ciphers, const uint8_t mask[16])
{
	struct rdv_cand c;
	struct sockaddr_in sin;

	memset(&c, 0, sizeof(c));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(ciphers);
	memcpy(&c.addr, &sin, sizeof(sin));
	c.kind = PUNCH_CAND_CIPHERS;
	c.transport = RDV_UDP;
	return put_cand(p, &c, mask);
}

int
punch_build(uint8_t *buf, size_t len, const struct punch_msg *m,
    const uint8_t key[CRYPTO_KEY_LEN])
{
	struct crypto_part part;
	uint8_t mask[16], *p;
	size_t n, nl, fl, tl;
	int i;

	if (punch_check(m, NULL) == -1)
		return -1;
	n = punch_len(m);
	if (n > len || n > PUNCH_MSG_MAX)
		return -1;
	nl = strlen(m->network);
	fl = strlen(m->from);
	tl = strlen(m->to);
	buf[0] = PUNCH_VERSION;
	buf[1] = m->type;
	wire_put16(buf + 2, (uint16_t)n);
	memcpy(buf + 4, m->session, PUNCH_SESSION_ID_LEN);
	buf[12] = m->attempt;
	buf[13] = (uint8_t)nl;
	buf[14] = (uint8_t)fl;
	buf[15] = (uint8_t)tl;
	p = buf + HDR_LEN;
	memcpy(p, m->network, nl);
	p += nl;
	memcpy(p, m->from, fl);
	p += fl;
	memcpy(p, m->to, tl);
	p += tl;
	memcpy(p, m->nonce, PUNCH_NONCE_LEN);
	p += PUNCH_NONCE_LEN;
	wire_put32(p, (uint32_t)(m->clock_ms >> 32));
	wire_put32(p + 4, (uint32_t)m->clock_ms);
	p += 8;
	if (has_keys(m->type)) {
		memcpy(p, m->index, PUNCH_INDEX_LEN);
		p += PUNCH_INDEX_LEN;
		memcpy(p, m->pub, CRYPTO_X25519_LEN);
		p += CRYPTO_X25519_LEN;
		if (m->type == PUNCH_OFFER) {
			memcpy(p, m->hash, PUNCH_HASH_LEN);
			p += PUNCH_HASH_LEN;
		}
		*p++ = (uint8_t)(m->ncand + (m->ciphers != 0));
		addr_mask(mask, m->nonce);
		for (i = 0; i < m->ncand; i++)
			p = put_cand(p, &m->cand[i], mask);
		if (m->ciphers != 0)
			p = put_ciphers(p, m->ciphers, mask);
	} else {
		memcpy(p, m->hash, PUNCH_HASH_LEN);
		p += PUNCH_HASH_LEN;
		if (m->type == PUNCH_REJECT)
			*p++ = m->reason;
	}
	part.data = buf;
	part.len = (size_t)(p - buf);
	crypto_hmac_sha256(key, CRYPTO_KEY_LEN, &part, 1, p);
	return (int)n;
}

/* ---- parsing ---- */

/* A reader over buf[0..len): every take checks what is left first. */
struct rbuf {
	const uint8_t	*b;
	size_t		 len;
	size_t		 off;
};

static const uint8_t *
take(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->len - r->off < n)
		return NULL;
	p = r->b + r->off;
	r->off += n;
	return p;
}

static int
take_name(struct rbuf *r, size_t n, char *out, size_t outlen)
{
	const uint8_t *p;

	if (n == 0 || n >= outlen || (p = take(r, n)) == NULL)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	/* a NUL inside is caught by the syntax check (strnlen is shorter) */
	return strlen(out) == n ? 0 : -1;
}

static int
take_cand(struct rbuf *r, struct rdv_cand *c, const uint8_t mask[16])
{
	struct rdv_cand tmp;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const uint8_t *p, *a;
	uint16_t port;
	size_t i;

	if ((p = take(r, CAND_HDR)) == NULL || p[2] != 0 || p[3] != 0 ||
	    p[4] != 0)
		return -1;
	port = (uint16_t)(wire_get16(p + 6) ^ (COOKIE >> 16));
	c->kind = p[0];
	c->transport = p[1];
	memset(&c->addr, 0, sizeof(c->addr));
	switch (p[5]) {
	case FAMILY_IPV4:
		if ((a = take(r, 4)) == NULL)
			return -1;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		for (i = 0; i < 4; i++)
			((uint8_t *)&sin.sin_addr)[i] = a[i] ^ mask[i];
		memcpy(&c->addr, &sin, sizeof(sin));
		break;
	case FAMILY_IPV6:
		if ((a = take(r, 16)) == NULL)
			return -1;
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		for (i = 0; i < 16; i++)
			sin6.sin6_addr.s6_addr[i] = a[i] ^ mask[i];
		memcpy(&c->addr, &sin6, sizeof(sin6));
		break;
	default:
		return -1;
	}
	/* a later kind: the rest checked as any candidate's */
	tmp = *c;
	if (tmp.kind > RDV_CAND_RELAY)
		tmp.kind = RDV_CAND_RELAY;
	return cand_ok(&tmp) ? 0 : -1;
}

/*
 * A PUNCH_CAND_CIPHERS record: the ciphers of this version it offers
 * (bits of a later version, and a record not UDP and IPv4 0.0.0.0, are
 * left out: that is a later version's too).
 */
static void
take_ciphers(struct punch_msg *m, const struct rdv_cand *c)
{
	struct sockaddr_in sin;

	if (c->transport != RDV_UDP || c->addr.ss_family != AF_INET)
		return;
	memcpy(&sin, &c->addr, sizeof(sin));
	if (sin.sin_addr.s_addr != INADDR_ANY)
		return;
	m->ciphers |= (uint8_t)(ntohs(sin.sin_port) & PUNCH_CIPHERS_KNOWN);
}

static int
parse_fail(struct punch_msg *m, const char **err, const char *why)
{
	memset(m, 0, sizeof(*m));
	return wire_fail(err, why);
}

int
punch_parse(const uint8_t *buf, size_t len, struct punch_msg *m,
    const char **err)
{
	struct rbuf r = { buf, len, 0 };
	const uint8_t *p;
	uint8_t mask[16];
	const char *why;
	int i, nc;

	memset(m, 0, sizeof(*m));
	if (len < HDR_LEN)
		return parse_fail(m, err, "shorter than a header");
	if (len > PUNCH_MSG_MAX)
		return parse_fail(m, err, "longer than a payload may be");
	if (buf[0] != PUNCH_VERSION)
		return parse_fail(m, err, "unknown version");
	if (wire_get16(buf + 2) != len)
		return parse_fail(m, err, "length does not match");
	m->type = buf[1];
	if (m->type < PUNCH_CONNECT || m->type > PUNCH_REJECT)
		return parse_fail(m, err, "unknown payload type");
	memcpy(m->session, buf + 4, PUNCH_SESSION_ID_LEN);
	m->attempt = buf[12];
	r.off = HDR_LEN;
	if (take_name(&r, buf[13], m->network, sizeof(m->network)) == -1 ||
	    take_name(&r, buf[14], m->from, sizeof(m->from)) == -1 ||
	    take_name(&r, buf[15], m->to, sizeof(m->to)) == -1)
		return parse_fail(m, err, "a name too long, empty, cut short "
		    "or with a NUL");
	if ((p = take(&r, PUNCH_NONCE_LEN + 8)) == NULL)
		return parse_fail(m, err, "cut short before the clock");
	memcpy(m->nonce, p, PUNCH_NONCE_LEN);
	m->clock_ms = (uint64_t)wire_get32(p + PUNCH_NONCE_LEN) << 32 |
	    wire_get32(p + PUNCH_NONCE_LEN + 4);
	if (has_keys(m->type)) {
		if ((p = take(&r, PUNCH_INDEX_LEN)) == NULL)
			return parse_fail(m, err, "cut short in the index");
		memcpy(m->index, p, PUNCH_INDEX_LEN);
		if ((p = take(&r, CRYPTO_X25519_LEN)) == NULL)
			return parse_fail(m, err, "cut short in the key");
		memcpy(m->pub, p, CRYPTO_X25519_LEN);
		if (m->type == PUNCH_OFFER) {
			if ((p = take(&r, PUNCH_HASH_LEN)) == NULL)
				return parse_fail(m, err, "cut short in the "
				    "hash");
			memcpy(m->hash, p, PUNCH_HASH_LEN);
		}
		if ((p = take(&r, 1)) == NULL)
			return parse_fail(m, err, "cut short before the "
			    "candidates");
		nc = p[0];
		if (nc > PUNCH_CAND_MAX)
			return parse_fail(m, err, "more than 16 candidates");
		addr_mask(mask, m->nonce);
		for (i = 0; i < nc; i++) {
			if (take_cand(&r, &m->cand[m->ncand], mask) == -1)
				return parse_fail(m, err, "bad candidate: cut "
				    "short, kind, transport, family or port");
			/* the ciphers offered; a kind of a later version:
			 * left out */
			if (m->cand[m->ncand].kind == PUNCH_CAND_CIPHERS)
				take_ciphers(m, &m->cand[m->ncand]);
			if (m->cand[m->ncand].kind > RDV_CAND_RELAY &&
			    (m->cand[m->ncand].kind != PUNCH_CAND_RELAY_BESIDE ||
			    m->cand[m->ncand].transport != RDV_TCP))
				memset(&m->cand[m->ncand], 0,
				    sizeof(m->cand[0]));
			else
				m->ncand++;
		}
	} else {
		if ((p = take(&r, PUNCH_HASH_LEN)) == NULL)
			return parse_fail(m, err, "cut short in the hash");
		memcpy(m->hash, p, PUNCH_HASH_LEN);
		if (m->type == PUNCH_REJECT) {
			if ((p = take(&r, 1)) == NULL)
				return parse_fail(m, err, "cut short before "
				    "the reason");
			m->reason = p[0];
		}
	}
	if (take(&r, PUNCH_MAC_LEN) == NULL)
		return parse_fail(m, err, "cut short in the MAC");
	if (r.off != len)
		return parse_fail(m, err, "bytes after the MAC");
	if (punch_check(m, &why) == -1)
		return parse_fail(m, err, why);
	return 0;
}

int
punch_verify(const uint8_t *buf, size_t len, const struct punch_msg *m,
    const uint8_t key[CRYPTO_KEY_LEN], const char *network,
    const char *from, const char *to, const char **err)
{
	struct crypto_part part;
	uint8_t mac[PUNCH_MAC_LEN];
	int ok;

	if (len < HDR_LEN + PUNCH_MAC_LEN)
		return wire_fail(err, "shorter than a payload");
	part.data = buf;
	part.len = len - PUNCH_MAC_LEN;
	crypto_hmac_sha256(key, CRYPTO_KEY_LEN, &part, 1, mac);
	ok = crypto_equal(mac, buf + len - PUNCH_MAC_LEN, PUNCH_MAC_LEN);
	crypto_wipe(mac, sizeof(mac));
	if (!ok)
		return wire_fail(err, "wrong MAC (another network's key?)");
	if (strcmp(m->network, network) != 0)
		return wire_fail(err, "for another network");
	if (strcmp(m->from, from) != 0)
		return wire_fail(err, "sender not the node the rendezvous "
		    "named");
	if (strcmp(m->to, to) != 0)
		return wire_fail(err, "for another node");
	return 0;
}

void
punch_hash(const uint8_t *buf, size_t len, uint8_t out[PUNCH_HASH_LEN])
{
	struct crypto_part part = { buf, len };

	crypto_sha256(&part, 1, out);
}

const char *
punch_type_name(uint8_t type)
{
	static char other[16];

	switch (type) {
	case PUNCH_CONNECT:
		return "CONNECT";
	case PUNCH_OFFER:
		return "OFFER";
	case PUNCH_ANSWER:
		return "ANSWER";
	case PUNCH_REJECT:
		return "REJECT";
	}
	snprintf(other, sizeof(other), "type %u", type);
	return other;
}

/* ---- the replay cache ---- */

void
punch_replay_init(struct punch_replay *c)
{
	memset(c, 0, sizeof(*c));
}

enum punch_replay_verdict
punch_replay_check(struct punch_replay *c, const struct punch_msg *m,
    uint64_t now_ms)
{
	struct punch_replay_entry *e, *slot = NULL, *oldest = NULL;
	uint8_t key[sizeof(c->e[0].key)];
	size_t i;

	if (!rdv_fresh(m->clock_ms, now_ms))
		return PUNCH_REPLAY_STALE;
	memcpy(key, m->session, PUNCH_SESSION_ID_LEN);
	key[PUNCH_SESSION_ID_LEN] = m->attempt;
	key[PUNCH_SESSION_ID_LEN + 1] = m->type;
	memcpy(key + PUNCH_SESSION_ID_LEN + 2, m->nonce, PUNCH_NONCE_LEN);
	for (i = 0; i < PUNCH_REPLAY_SLOTS; i++) {
		e = &c->e[i];
		/* expired: forgotten (a clock stepped back counts as now) */
		if (e->used && now_ms >= e->seen_ms &&
		    now_ms - e->seen_ms >= PUNCH_REPLAY_WINDOW_MS)
			e->used = 0;
		if (!e->used) {
			if (slot == NULL)
				slot = e;
			continue;
		}
		if (memcmp(e->key, key, sizeof(key)) == 0)
			return PUNCH_REPLAY_SEEN;
		if (oldest == NULL || e->seen_ms < oldest->seen_ms)
			oldest = e;
	}
	if (m->clock_ms <= c->horizon_ms)
		return PUNCH_REPLAY_FLOOD;
	if (slot == NULL) {
		/* full of live entries: the oldest goes, its clock stays */
		slot = oldest;
		if (slot->clock_ms > c->horizon_ms)
			c->horizon_ms = slot->clock_ms;
	}
	memcpy(slot->key, key, sizeof(key));
	slot->clock_ms = m->clock_ms;
	slot->seen_ms = now_ms;
	slot->used = 1;
	return PUNCH_REPLAY_NEW;
}
