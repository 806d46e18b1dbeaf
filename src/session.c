/* SPDX-License-Identifier: ISC */
/* A punched session's crypto (include/session.h): the key schedule, UDP datagrams with a replay window, TCP records; no I/O. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "session.h"
#include "wire.h"

/*
 * The replay window (RFC 6479): a ring of 64-bit words, one bit per
 * counter.  The words hold the blocks of 64 counters from the one with
 * the highest counter taken back to 32 blocks before it: 33 words cover
 * any SESSION_WINDOW counters below the highest, wherever it sits in its
 * block.  Moving the highest on clears the words of the blocks passed.
 */
#define WIN_BLOCK	64
#define WIN_WORDS	(SESSION_WINDOW / WIN_BLOCK + 1)

enum { K_UDP_SEND, K_UDP_RECV, K_TCP_SEND, K_TCP_RECV, K_N };

struct session {
	struct crypto_aead	*k[K_N];	/* the keys, set up for the cipher */
	uint8_t		own_index[SESSION_INDEX_LEN];
	uint8_t		peer_index[SESSION_INDEX_LEN];
	uint64_t	udp_next;	/* the next counter to send */
	uint64_t	udp_top;	/* the highest counter taken */
	int		udp_any;	/* one was taken */
	uint64_t	win[WIN_WORDS];
	uint64_t	tcp_next_send;
	uint64_t	tcp_next_recv;
	int		tcp_failed;
	struct session_stats	stats;
};

/* Fixed for good: changing one changes every session key. */
static const char *const labels[4] = {
	"natmapd udp i->r", "natmapd udp r->i",
	"natmapd tcp i->r", "natmapd tcp r->i",
};

int
session_keys_derive(struct session_keys *k, int initiator,
    const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t peer_pub[CRYPTO_X25519_LEN],
    const uint8_t *connect, size_t connect_len,
    const uint8_t *offer, size_t offer_len)
{
	struct crypto_part parts[2] = {
		{ connect, connect_len }, { offer, offer_len },
	};
	uint8_t ikm[CRYPTO_X25519_LEN], salt[CRYPTO_SHA256_LEN],
	    prk[CRYPTO_SHA256_LEN], okm[4][SESSION_KEY_LEN];
	size_t i;

	memset(k, 0, sizeof(*k));
	if (crypto_x25519(priv, peer_pub, ikm) == -1)
		return -1;
	crypto_sha256(parts, 2, salt);
	crypto_hkdf_extract(salt, sizeof(salt), ikm, sizeof(ikm), prk);
	for (i = 0; i < 4; i++)
		/* 32 bytes, well within HKDF's 8160 */
		(void)crypto_hkdf_expand(prk, labels[i], strlen(labels[i]),
		    okm[i], SESSION_KEY_LEN);
	memcpy(k->udp_send, okm[initiator ? 0 : 1], SESSION_KEY_LEN);
	memcpy(k->udp_recv, okm[initiator ? 1 : 0], SESSION_KEY_LEN);
	memcpy(k->tcp_send, okm[initiator ? 2 : 3], SESSION_KEY_LEN);
	memcpy(k->tcp_recv, okm[initiator ? 3 : 2], SESSION_KEY_LEN);
	crypto_wipe(ikm, sizeof(ikm));
	crypto_wipe(prk, sizeof(prk));
	crypto_wipe(okm, sizeof(okm));
	return 0;
}

struct session *
session_new(const struct session_keys *k,
    const uint8_t own_index[SESSION_INDEX_LEN],
    const uint8_t peer_index[SESSION_INDEX_LEN])
{
	const uint8_t *raw[K_N] = {
		k->udp_send, k->udp_recv, k->tcp_send, k->tcp_recv,
	};
	struct session *s;
	int i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	for (i = 0; i < K_N; i++)
		if ((s->k[i] = crypto_aead_new(k->cipher, raw[i])) == NULL) {
			session_free(s);
			return NULL;
		}
	memcpy(s->own_index, own_index, SESSION_INDEX_LEN);
	memcpy(s->peer_index, peer_index, SESSION_INDEX_LEN);
	return s;
}

void
session_free(struct session *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < K_N; i++)
		crypto_aead_free(s->k[i]);
	crypto_wipe(s, sizeof(*s));
	free(s);
}

int
session_cipher(const struct session *s)
{
	return crypto_aead_cipher(s->k[K_UDP_SEND]);
}

void
session_get_stats(const struct session *s, struct session_stats *st)
{
	*st = s->stats;
}

/* 4 zero bytes, then the counter little-endian (RFC 8439's own layout). */
static void
put_counter_le(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_counter_le(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
make_nonce(uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	put_counter_le(nonce + 4, counter);
}

int
session_udp_index(const uint8_t *dgram, size_t len,
    uint8_t index[SESSION_INDEX_LEN])
{
	if (len < SESSION_UDP_OVERHEAD || len > SESSION_UDP_MAX ||
	    dgram[0] < SESSION_UDP_TYPE_MIN || dgram[0] > SESSION_UDP_TYPE_MAX)
		return -1;
	memcpy(index, dgram + 4, SESSION_INDEX_LEN);
	return 0;
}

int
session_udp_seal(struct session *s, uint8_t type, const void *plain,
    size_t len, uint8_t *out, size_t outlen)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	if (type < SESSION_UDP_TYPE_MIN || type > SESSION_UDP_TYPE_MAX ||
	    len > SESSION_UDP_MAX - SESSION_UDP_OVERHEAD ||
	    outlen < len + SESSION_UDP_OVERHEAD || s->udp_next == UINT64_MAX)
		return -1;
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, s->peer_index, SESSION_INDEX_LEN);
	put_counter_le(out + 8, s->udp_next);
	make_nonce(nonce, s->udp_next);
	crypto_aead_key_seal(s->k[K_UDP_SEND], nonce, out, SESSION_UDP_HDR_LEN,
	    plain, len, out + SESSION_UDP_HDR_LEN);
	s->udp_next++;
	s->stats.udp_sealed++;
	return (int)(len + SESSION_UDP_OVERHEAD);
}

/* The window's verdict on counter c: NULL if new, else the count of its reason to drop it. */
static uint64_t *
window_check(struct session *s, uint64_t c)
{
	if (!s->udp_any || c > s->udp_top)
		return NULL;
	if (s->udp_top - c >= SESSION_WINDOW)
		return &s->stats.too_old;
	if (s->win[(c / WIN_BLOCK) % WIN_WORDS] & (UINT64_C(1) << (c % WIN_BLOCK)))
		return &s->stats.replayed;
	return NULL;
}

/* Counter c, checked new and authenticated, is taken. */
static void
window_take(struct session *s, uint64_t c)
{
	uint64_t from, to, b;

	if (!s->udp_any || c > s->udp_top) {
		to = c / WIN_BLOCK;
		from = s->udp_any ? s->udp_top / WIN_BLOCK : 0;
		if (!s->udp_any || to - from >= WIN_WORDS)
			memset(s->win, 0, sizeof(s->win));
		else
			for (b = from + 1; b <= to; b++)
				s->win[b % WIN_WORDS] = 0;
		s->udp_top = c;
		s->udp_any = 1;
	}
	s->win[(c / WIN_BLOCK) % WIN_WORDS] |= UINT64_C(1) << (c % WIN_BLOCK);
}

int
session_udp_open(struct session *s, const uint8_t *dgram, size_t len,
    uint8_t *type, uint8_t *out, size_t outlen)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
	uint64_t c, *drop;

	if (len < SESSION_UDP_OVERHEAD || len > SESSION_UDP_MAX ||
	    dgram[0] < SESSION_UDP_TYPE_MIN ||
	    dgram[0] > SESSION_UDP_TYPE_MAX ||
	    dgram[1] != 0 || dgram[2] != 0 || dgram[3] != 0 ||
	    memcmp(dgram + 4, s->own_index, SESSION_INDEX_LEN) != 0 ||
	    outlen < len - SESSION_UDP_OVERHEAD) {
		s->stats.malformed++;
		return -1;
	}
	c = get_counter_le(dgram + 8);
	if ((drop = window_check(s, c)) != NULL) {
		(*drop)++;
		return -1;
	}
	make_nonce(nonce, c);
	if (crypto_aead_key_open(s->k[K_UDP_RECV], nonce, dgram,
	    SESSION_UDP_HDR_LEN, dgram + SESSION_UDP_HDR_LEN,
	    len - SESSION_UDP_HDR_LEN, out) == -1) {
		s->stats.tag_failed++;
		return -1;
	}
	window_take(s, c);
	*type = dgram[0];
	s->stats.udp_opened++;
	return (int)(len - SESSION_UDP_OVERHEAD);
}

int
session_tcp_seal(struct session *s, const void *plain, size_t len,
    uint8_t *out, size_t outlen)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	if (len > SESSION_TCP_PLAIN_MAX || outlen < len + SESSION_TCP_OVERHEAD ||
	    s->tcp_next_send == UINT64_MAX)
		return -1;
	wire_put16(out, (uint16_t)(len + CRYPTO_AEAD_TAG_LEN));
	make_nonce(nonce, s->tcp_next_send);
	crypto_aead_key_seal(s->k[K_TCP_SEND], nonce, out, SESSION_TCP_HDR_LEN,
	    plain, len, out + SESSION_TCP_HDR_LEN);
	s->tcp_next_send++;
	s->stats.tcp_sealed++;
	return (int)(len + SESSION_TCP_OVERHEAD);
}

int
session_tcp_record_len(const uint8_t *buf, size_t len)
{
	uint16_t n;

	if (len < SESSION_TCP_HDR_LEN)
		return 0;
	n = wire_get16(buf);
	if (n < CRYPTO_AEAD_TAG_LEN)
		return -1;
	return SESSION_TCP_HDR_LEN + n;
}

int
session_tcp_open(struct session *s, const uint8_t *rec, size_t len,
    uint8_t *out, size_t outlen)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	if (s->tcp_failed)
		return -1;
	if (len < SESSION_TCP_OVERHEAD || len > SESSION_TCP_MAX ||
	    session_tcp_record_len(rec, len) != (int)len ||
	    outlen < len - SESSION_TCP_OVERHEAD ||
	    s->tcp_next_recv == UINT64_MAX) {
		s->tcp_failed = 1;
		s->stats.malformed++;
		return -1;
	}
	make_nonce(nonce, s->tcp_next_recv);
	if (crypto_aead_key_open(s->k[K_TCP_RECV], nonce, rec, SESSION_TCP_HDR_LEN,
	    rec + SESSION_TCP_HDR_LEN, len - SESSION_TCP_HDR_LEN, out) == -1) {
		s->tcp_failed = 1;
		s->stats.tag_failed++;
		return -1;
	}
	s->tcp_next_recv++;
	s->stats.tcp_opened++;
	return (int)(len - SESSION_TCP_OVERHEAD);
}

int
session_tcp_failed(const struct session *s)
{
	return s->tcp_failed;
}
