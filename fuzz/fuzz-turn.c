/* SPDX-License-Identifier: ISC */
/* Fuzz target: TURN messages, ChannelData and TCP framing (turn-msg.c). */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "turn-msg.h"
#include "fuzz.h"
#include "wire.h"

static const uint8_t key[TURN_KEY_LEN] = "natmapd-fuzz-key";

static void
check_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_UNSPEC)
		CHECK(fuzz_all_zero(ss, sizeof(*ss)));
	else
		CHECK(ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
}

/* A pointer and length of m: NULL and 0, or within the input. */
static void
check_span(const uint8_t *p, size_t len, const uint8_t *data, size_t size,
    size_t max)
{
	if (p == NULL) {
		CHECK(len == 0);
		return;
	}
	CHECK(p >= data + STUN_HDR_LEN && p <= data + size);
	CHECK(len <= (size_t)(data + size - p) && len <= max);
}

/*
 * What was parsed, built again (with credentials under key when the input
 * had all three), parses back to the same fields and verifies under key
 * and no other.
 */
static void
check_rebuild(const struct turn_msg *m)
{
	static uint8_t out[TURN_MAX_MSG];
	struct turn_builder b;
	struct turn_auth a;
	struct turn_msg r;
	const char *err = NULL;
	uint8_t other[TURN_KEY_LEN];
	int n, auth, channel;

	auth = m->username != NULL && m->realm != NULL && m->nonce != NULL;
	channel = m->channel >= TURN_CHANNEL_MIN &&
	    m->channel <= TURN_CHANNEL_MAX;
	turn_begin(&b, out, sizeof(out), m->method, m->cls, m->tid);
	if (m->relayed.ss_family != AF_UNSPEC)
		turn_add_addr(&b, TURN_A_XOR_RELAYED_ADDRESS, &m->relayed);
	if (m->xor_mapped.ss_family != AF_UNSPEC)
		turn_add_addr(&b, STUN_A_XOR_MAPPED_ADDRESS, &m->xor_mapped);
	if (m->n_peers > 0)
		turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, &m->peer);
	if (m->has_lifetime)
		turn_add_u32(&b, TURN_A_LIFETIME, m->lifetime);
	if (channel)
		turn_add_channel(&b, m->channel);
	if (m->transport != 0)
		turn_add_transport(&b, m->transport);
	if (m->family != 0)
		turn_add_family(&b, m->family == STUN_FAMILY_IPV4 ? AF_INET :
		    AF_INET6);
	if (m->dont_fragment)
		turn_add_bytes(&b, TURN_A_DONT_FRAGMENT, NULL, 0);
	if (m->has_connection_id)
		turn_add_u32(&b, TURN_A_CONNECTION_ID, m->connection_id);
	if (m->data != NULL)
		turn_add_bytes(&b, TURN_A_DATA, m->data, m->data_len);
	memset(&a, 0, sizeof(a));
	a.username = m->username;
	a.username_len = m->username_len;
	a.realm = m->realm;
	a.realm_len = m->realm_len;
	a.nonce = m->nonce;
	a.nonce_len = m->nonce_len;
	a.key = key;
	a.key_len = sizeof(key);
	n = turn_finish(&b, auth ? &a : NULL, 1);
	CHECK(n > 0 && n % 4 == 0);
	CHECK(turn_frame_len(out, (size_t)n) == n);
	CHECK(turn_parse(out, (size_t)n, &r, &err) == 0 && err == NULL);
	CHECK(r.method == m->method && r.cls == m->cls);
	CHECK(memcmp(r.tid, m->tid, STUN_TID_LEN) == 0);
	CHECK(memcmp(&r.relayed, &m->relayed, sizeof(r.relayed)) == 0);
	CHECK(memcmp(&r.xor_mapped, &m->xor_mapped, sizeof(r.xor_mapped)) ==
	    0);
	CHECK(r.n_peers == (m->n_peers > 0));
	CHECK(memcmp(&r.peer, &m->peer, sizeof(r.peer)) == 0);
	CHECK(r.has_lifetime == m->has_lifetime && r.lifetime == m->lifetime);
	CHECK(r.channel == (channel ? m->channel : 0));
	CHECK(r.transport == m->transport && r.family == m->family);
	CHECK(r.dont_fragment == m->dont_fragment);
	CHECK(r.has_connection_id == m->has_connection_id &&
	    r.connection_id == m->connection_id);
	CHECK(r.data_len == m->data_len &&
	    (m->data == NULL) == (r.data == NULL));
	if (m->data_len > 0)
		CHECK(memcmp(r.data, m->data, m->data_len) == 0);
	CHECK(r.has_fingerprint && r.n_unknown == 0);
	CHECK(r.has_integrity == auth);
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	CHECK(turn_verify(out, (size_t)n, &r, key, sizeof(key)) ==
	    (auth ? 0 : -1));
	CHECK(turn_verify(out, (size_t)n, &r, other, sizeof(other)) == -1);
	if (auth) {
		CHECK(r.username_len == m->username_len &&
		    memcmp(r.username, m->username, m->username_len) == 0);
		CHECK(r.realm_len == m->realm_len &&
		    memcmp(r.realm, m->realm, m->realm_len) == 0);
		CHECK(r.nonce_len == m->nonce_len &&
		    memcmp(r.nonce, m->nonce, m->nonce_len) == 0);
	}
}

static void
check_message(const uint8_t *data, size_t size)
{
	struct turn_msg m;
	const char *err = NULL;
	int i;

	if (turn_parse(data, size, &m, &err) == -1) {
		CHECK(err != NULL);
		fuzz_check_string(err, strlen(err) + 1);
		CHECK(fuzz_all_zero(&m, sizeof(m)));
		CHECK(turn_verify(data, size, &m, key, sizeof(key)) == -1);
		return;
	}
	CHECK(err == NULL);
	CHECK(size >= STUN_HDR_LEN && size % 4 == 0);
	CHECK(turn_frame_len(data, size) == (int)size);
	CHECK(wire_get16(data) == stun_type(m.method, m.cls));
	CHECK(memcmp(m.tid, data + 8, STUN_TID_LEN) == 0);
	check_addr(&m.relayed);
	check_addr(&m.xor_mapped);
	check_addr(&m.peer);
	CHECK((m.n_peers == 0) == (m.peer.ss_family == AF_UNSPEC));
	CHECK(m.has_lifetime || m.lifetime == 0);
	CHECK(m.channel == 0 || (m.channel >= TURN_CHANNEL_MIN &&
	    m.channel <= TURN_CHANNEL_READ_MAX));
	CHECK(m.family == 0 || m.family == STUN_FAMILY_IPV4 ||
	    m.family == STUN_FAMILY_IPV6);
	CHECK(m.has_connection_id || m.connection_id == 0);
	check_span(m.data, m.data_len, data, size, 0xffff);
	check_span(m.username, m.username_len, data, size, TURN_USERNAME_MAX);
	check_span(m.realm, m.realm_len, data, size, TURN_REALM_MAX);
	check_span(m.nonce, m.nonce_len, data, size, TURN_NONCE_MAX);
	CHECK(m.error_code == 0 || (m.error_code >= 300 &&
	    m.error_code <= 699));
	fuzz_check_string(m.error_reason, sizeof(m.error_reason));
	fuzz_check_string(m.software, sizeof(m.software));
	CHECK(m.n_refused >= 0 && m.n_refused <= STUN_MAX_UNKNOWN);
	CHECK(m.n_unknown >= 0 && m.n_unknown <= STUN_MAX_UNKNOWN);
	for (i = 0; i < m.n_unknown; i++)
		CHECK(m.unknown[i] < 0x8000);
	if (m.has_integrity) {
		CHECK(m.integrity_off >= STUN_HDR_LEN &&
		    m.integrity_off + 24 <= size);
		CHECK(wire_get16(data + m.integrity_off) ==
		    STUN_A_MESSAGE_INTEGRITY);
	} else {
		CHECK(m.integrity_off == 0);
		CHECK(turn_verify(data, size, &m, key, sizeof(key)) == -1);
	}
	/* a random MAC under a fixed key: right only by a 2^-160 chance */
	if (m.has_integrity)
		(void)turn_verify(data, size, &m, key, sizeof(key));
	/* room for credentials, MESSAGE-INTEGRITY and FINGERPRINT added */
	if (size + 32 <= TURN_MAX_MSG)
		check_rebuild(&m);
}

static void
check_channel_data(const uint8_t *data, size_t size)
{
	static uint8_t out[TURN_MAX_MSG];
	const uint8_t *payload;
	const char *err;
	uint16_t ch;
	size_t dlen;
	int tcp, n;

	for (tcp = 0; tcp < 2; tcp++) {
		err = NULL;
		if (turn_parse_channel_data(data, size, tcp, &ch, &payload,
		    &dlen, &err) == -1) {
			CHECK(err != NULL && ch == 0 && payload == NULL &&
			    dlen == 0);
			continue;
		}
		CHECK(err == NULL);
		CHECK(ch >= TURN_CHANNEL_MIN && ch <= TURN_CHANNEL_READ_MAX);
		CHECK(payload == data + TURN_CHANNEL_HDR_LEN);
		CHECK(dlen <= size - TURN_CHANNEL_HDR_LEN &&
		    size - TURN_CHANNEL_HDR_LEN - dlen < 4);
		CHECK(turn_frame_len(data, size) == (tcp ? (int)size :
		    (int)((TURN_CHANNEL_HDR_LEN + dlen + 3) & ~(size_t)3)));
		n = turn_build_channel_data(out, sizeof(out), ch, payload,
		    dlen, tcp);
		if (ch > TURN_CHANNEL_MAX) {
			CHECK(n == -1);
			continue;
		}
		CHECK(n >= 0 && (size_t)n <= size + 3);
		CHECK(memcmp(out, data, TURN_CHANNEL_HDR_LEN + dlen) == 0);
		if (tcp)
			CHECK((size_t)n == size);
	}
}

/* The input as what a TCP connection to the server carried: cut, each frame parsed. */
static void
check_stream(const uint8_t *data, size_t size)
{
	size_t off = 0;
	int n;

	while (off < size) {
		n = turn_frame_len(data + off, size - off);
		CHECK(n >= -1 && n <= TURN_MAX_MSG);
		if (n <= 0 || (size_t)n > size - off)
			return;
		CHECK(n >= TURN_CHANNEL_HDR_LEN);
		if ((data[off] & 0xc0) == 0)
			check_message(data + off, (size_t)n);
		else
			check_channel_data(data + off, (size_t)n);
		off += (size_t)n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int loaded;
	char err[256];

	if (!loaded) {
		if (crypto_load(err, sizeof(err)) == -1)
			abort();
		loaded = 1;
	}
	check_message(data, size);
	check_channel_data(data, size);
	check_stream(data, size);
	return 0;
}
