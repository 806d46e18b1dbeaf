/* SPDX-License-Identifier: ISC */
/* Fuzz target: rendezvous messages (rdv-msg.c), the replay cache (rdv-replay.c) and natmapd-rendezvous's REGISTER, REACH and SIGNAL dispatch (rdv-server.c). */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "rdv-client.h"
#include "rdv-msg.h"
#include "rdv-networks.h"
#include "rdv-replay.h"
#include "rdv-server.h"
#include "rdv-turn.h"
#include "stun-msg.h"
#include "wire.h"

/* The server key of the secret 00 01 .. 1f: the seeds' key. */
static const uint8_t key[CRYPTO_KEY_LEN] = {
	0x04, 0xa2, 0x97, 0x10, 0x7f, 0x75, 0x59, 0xc0,
	0x74, 0xde, 0x5f, 0xe8, 0x56, 0x62, 0xeb, 0x58,
	0xe4, 0x4b, 0x9f, 0x71, 0xf0, 0x33, 0xd9, 0x36,
	0xfa, 0xf4, 0xac, 0x1d, 0x07, 0xd0, 0x33, 0xbd,
};

static struct rdv_replay	*cache;

/* NUL-terminated within size, only bytes of the set before it, n..max long. */
static size_t
check_name(const char *s, size_t size, const char *set, size_t min,
    size_t max)
{
	const char *nul = memchr(s, '\0', size);
	size_t n;

	CHECK(nul != NULL);
	n = (size_t)(nul - s);
	CHECK(n >= min && n <= max);
	CHECK(strspn(s, set) == n);
	CHECK(fuzz_all_zero(nul, size - n));
	return n;
}

static void
check_addr(const struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	switch (ss->ss_family) {
	case AF_INET:
		memcpy(&sin, ss, sizeof(sin));
		CHECK(sin.sin_port != 0);
		CHECK(fuzz_all_zero((const uint8_t *)ss + sizeof(sin),
		    sizeof(*ss) - sizeof(sin)));
		break;
	case AF_INET6:
		memcpy(&sin6, ss, sizeof(sin6));
		CHECK(sin6.sin6_port != 0);
		CHECK(sin6.sin6_flowinfo == 0 && sin6.sin6_scope_id == 0);
		break;
	default:
		abort();
	}
}

static void
check_msg(const struct rdv_msg *m, const uint8_t *data, size_t size)
{
	static const char lower[] = "abcdefghijklmnopqrstuvwxyz0123456789-.";
	static const char netset[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	const char *p;
	int i;

	CHECK(size >= STUN_HDR_LEN + 44 && size <= STUN_MAX_MSG &&
	    size % 4 == 0);
	CHECK(m->method == RDV_REGISTER || m->method == RDV_REACH ||
	    m->method == RDV_SIGNAL);
	CHECK(m->cls == STUN_REQUEST || m->cls == STUN_SUCCESS ||
	    m->cls == STUN_ERROR ||
	    (m->cls == STUN_INDICATION && m->method == RDV_SIGNAL));
	CHECK(memcmp(m->tid, data + 8, STUN_TID_LEN) == 0);
	CHECK(m->mac_off == size - 44);
	CHECK(m->has & RDV_HAS_NETWORK);
	check_name(m->network, sizeof(m->network), netset, 1,
	    RDV_NETWORK_MAX);
	if (m->has & RDV_HAS_NODE) {
		check_name(m->node, sizeof(m->node), lower, 1, RDV_NODE_MAX);
		CHECK(m->node[0] != '-' && m->node[0] != '.');
		CHECK(strstr(m->node, "..") == NULL &&
		    strstr(m->node, "-.") == NULL &&
		    strstr(m->node, ".-") == NULL);
	} else
		CHECK(fuzz_all_zero(m->node, sizeof(m->node)));
	if (m->has & RDV_HAS_PEER)
		check_name(m->peer, sizeof(m->peer), lower, 1, RDV_NODE_MAX);
	else
		CHECK(fuzz_all_zero(m->peer, sizeof(m->peer)));
	if (m->has & RDV_HAS_PAYLOAD)
		CHECK(m->payload_len >= 1 && m->payload_len <= RDV_PAYLOAD_MAX &&
		    fuzz_all_zero(m->payload + m->payload_len,
		    sizeof(m->payload) - m->payload_len));
	else
		CHECK(m->payload_len == 0 &&
		    fuzz_all_zero(m->payload, sizeof(m->payload)));
	if (m->method == RDV_SIGNAL && (m->cls == STUN_REQUEST ||
	    m->cls == STUN_INDICATION))
		CHECK((m->has & (RDV_HAS_NODE | RDV_HAS_PEER |
		    RDV_HAS_PAYLOAD)) == (RDV_HAS_NODE | RDV_HAS_PEER |
		    RDV_HAS_PAYLOAD));
	if (m->cls == STUN_REQUEST)
		CHECK((m->has & (RDV_HAS_NODE | RDV_HAS_TIMESTAMP)) ==
		    (RDV_HAS_NODE | RDV_HAS_TIMESTAMP));
	else
		CHECK(m->has & RDV_HAS_SERVER_TIME);
	CHECK(((m->has & RDV_HAS_ERROR) != 0) == (m->cls == STUN_ERROR));
	if (m->has & RDV_HAS_ERROR)
		CHECK(m->error_code >= 300 && m->error_code <= 699);
	else
		CHECK(m->error_code == 0 && m->error_reason[0] == '\0');
	CHECK(memchr(m->error_reason, '\0', sizeof(m->error_reason)) != NULL);
	for (p = m->error_reason; *p != '\0'; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	if (m->has & RDV_HAS_REACH_TARGET)
		CHECK((m->reach_transport == RDV_TCP ||
		    m->reach_transport == RDV_UDP) && m->reach_port != 0);
	if (m->has & RDV_HAS_MAPPED)
		check_addr(&m->mapped);
	else
		CHECK(fuzz_all_zero(&m->mapped, sizeof(m->mapped)));
	if (m->has & RDV_HAS_TURN_SERVER) {
		CHECK(m->method == RDV_REGISTER && m->cls == STUN_SUCCESS &&
		    (m->has & RDV_HAS_TURN_CREDENTIAL));
		check_addr(&m->turn_server);
	} else
		CHECK(fuzz_all_zero(&m->turn_server, sizeof(m->turn_server)));
	if (m->has & RDV_HAS_TURN_CREDENTIAL)
		CHECK((m->has & RDV_HAS_TURN_SERVER) &&
		    m->turn_cred_len >= RDV_TURN_SEALED_MIN &&
		    m->turn_cred_len <= RDV_TURN_SEALED_MAX &&
		    fuzz_all_zero(m->turn_cred + m->turn_cred_len,
		    sizeof(m->turn_cred) - m->turn_cred_len));
	else
		CHECK(m->turn_cred_len == 0 &&
		    fuzz_all_zero(m->turn_cred, sizeof(m->turn_cred)));
	CHECK(m->ncand >= 0 && m->ncand <= RDV_CAND_MAX);
	for (i = 0; i < m->ncand; i++) {
		CHECK(m->cand[i].kind >= RDV_CAND_HOST &&
		    m->cand[i].kind <= RDV_CAND_MAPPED);
		CHECK(m->cand[i].transport == RDV_TCP ||
		    m->cand[i].transport == RDV_UDP);
		check_addr(&m->cand[i].addr);
	}
	for (; i < RDV_CAND_MAX; i++)
		CHECK(fuzz_all_zero(&m->cand[i], sizeof(m->cand[i])));
}

/*
 * What was parsed builds, under the seeds' key, to a message that parses
 * to the same (the reason phrase aside when it has escapes: they would
 * be escaped again), verifies under that key and no other.
 */
static void
check_rebuild(const struct rdv_msg *m)
{
	uint8_t *buf, other[CRYPTO_KEY_LEN];
	struct rdv_msg r, a, b;
	const char *err = NULL;
	int n;

	CHECK((buf = malloc(STUN_MAX_MSG)) != NULL);
	n = rdv_build(buf, STUN_MAX_MSG, m, key);
	CHECK(n >= STUN_HDR_LEN + 44 && n <= STUN_MAX_MSG && n % 4 == 0);
	CHECK(rdv_is_rdv(buf, (size_t)n));
	CHECK(stun_frame_len(buf, (size_t)n) == n);
	CHECK(rdv_parse(buf, (size_t)n, &r, &err) == 0 && err == NULL);
	CHECK(rdv_verify(buf, (size_t)n, &r, key));
	memcpy(other, key, sizeof(other));
	other[0] ^= 0x80;
	CHECK(!rdv_verify(buf, (size_t)n, &r, other));
	a = *m;
	b = r;
	a.mac_off = b.mac_off = 0;
	if (strchr(m->error_reason, '\\') != NULL) {
		memset(a.error_reason, 0, sizeof(a.error_reason));
		memset(b.error_reason, 0, sizeof(b.error_reason));
	}
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	/* a byte short, it does not fit */
	CHECK(rdv_build(buf, (size_t)n - 1, m, key) == -1);
	free(buf);
}

/*
 * A SIGNAL indication under the seeds' key: the node it names takes it
 * (rdv_client_indication) at its SERVER-TIME, with the sender and the
 * payload; another node, or 30 s and 1 ms later, does not.
 */
static void
check_indication(const struct rdv_msg *m, const uint8_t *data, size_t size)
{
	struct rdv_client_id id;
	struct rdv_client_signal_in in;
	const char *why = NULL;

	memset(&id, 0, sizeof(id));
	memcpy(id.network, m->network, sizeof(id.network));
	memcpy(id.node, m->peer, sizeof(id.node));
	memcpy(id.server_key, key, sizeof(id.server_key));
	CHECK(rdv_client_indication(&id, data, size, m->server_time, &in,
	    &why) == 0);
	CHECK(strcmp(in.from, m->node) == 0 && in.len == m->payload_len &&
	    memcmp(in.payload, m->payload, in.len) == 0 &&
	    memcmp(in.tid, m->tid, STUN_TID_LEN) == 0);
	if (m->server_time < UINT64_MAX - RDV_SKEW_MAX_MS - 1)
		CHECK(rdv_client_indication(&id, data, size, m->server_time +
		    RDV_SKEW_MAX_MS + 1, &in, &why) == -1 && in.len == 0);
	id.node[0] = id.node[0] == 'z' ? 'y' : 'z';
	CHECK(rdv_client_indication(&id, data, size, m->server_time, &in,
	    &why) == -1 && why != NULL);
}

static void
one_input(const uint8_t *data, size_t size)
{
	struct rdv_msg m;
	const char *err = NULL;
	uint64_t ts;
	int is;

	is = rdv_is_rdv(data, size);
	CHECK(is == 0 || is == 1);
	if (rdv_parse(data, size, &m, &err) == -1) {
		CHECK(err != NULL);
		CHECK(fuzz_all_zero(&m, sizeof(m)));
		return;
	}
	CHECK(err == NULL);
	CHECK(is == 1);
	CHECK(stun_frame_len(data, size) == (int)size);
	check_msg(&m, data, size);
	/* the MAC: right only for the seeds and what libFuzzer keeps of them */
	if (rdv_verify(data, size, &m, key) && m.method == RDV_SIGNAL &&
	    m.cls == STUN_INDICATION)
		check_indication(&m, data, size);
	check_rebuild(&m);

	/* freshness is symmetric, and the cache sees a repeat at once */
	ts = m.cls == STUN_REQUEST ? m.timestamp : m.server_time;
	CHECK(rdv_fresh(ts, ts));
	CHECK(rdv_fresh(ts, ts + 1000) == rdv_fresh(ts + 1000, ts));
	if (cache == NULL)
		CHECK((cache = rdv_replay_new(64)) != NULL);
	if (ts < UINT64_MAX - RDV_SKEW_MAX_MS) {
		enum rdv_replay_verdict v;

		v = rdv_replay_check(cache, (uint32_t)m.ncand, m.tid, ts, ts);
		CHECK(v == RDV_REPLAY_NEW || v == RDV_REPLAY_SEEN ||
		    v == RDV_REPLAY_FLOOD);
		if (v == RDV_REPLAY_NEW)
			CHECK(rdv_replay_check(cache, (uint32_t)m.ncand, m.tid,
			    ts, ts) == RDV_REPLAY_SEEN);
		CHECK(rdv_replay_check(cache, 0, m.tid, ts,
		    ts + RDV_SKEW_MAX_MS + 1) == RDV_REPLAY_STALE);
		CHECK(rdv_replay_count(cache) <= 64);
	}
}

static uint64_t fz_now;
static uint8_t	ind_buf[STUN_MAX_MSG];
static size_t	ind_len;
static int	ind_count;

/* SIGNAL indications: kept, to be checked against their request */
static void
fz_sink(const uint8_t *buf, size_t len, int sock, int tcp,
    const struct sockaddr_storage *to)
{
	(void)tcp;
	CHECK(len <= sizeof(ind_buf) && sock == 0 && to->ss_family == AF_INET);
	memcpy(ind_buf, buf, len);
	ind_len = len;
	ind_count++;
}

static uint64_t
fz_clock(void)
{
	return fz_now;
}

/*
 * The server's dispatch on the input with its MAC made right under
 * network home's key (else nearly nothing gets past the MAC), the clocks
 * at its TIMESTAMP: an answer is one to this request, under the key,
 * REGISTER's success with the peer's address, or REACH's error (no
 * alternate address: no dial-back) no longer than the request; the same
 * bytes again are never answered (a replay), but for a REACH's from the
 * same source, which gets the same answer (a retransmission).  64
 * registrations at most, so the cap is met.
 */
static void
dispatch(const uint8_t *data, size_t size)
{
	static int ready;
	static struct sockaddr_storage turn;
	struct sockaddr_in *tsin = (void *)&turn;
	struct rdv_turn t, want;
	struct rdv_networks nets;
	struct rdv_server_stats st0, st1;
	struct sockaddr_storage l[4], peer, to;
	struct sockaddr_in *sin = (void *)&peer;
	struct crypto_part part[2];
	struct rdv_msg m, a;
	uint8_t *buf, hdr[STUN_HDR_LEN], out[512], out2[512];
	char text[128], kt[CRYPTO_KEY_TEXT_LEN + 1], err[128];
	int n, from, tcp = (int)(size & 1);

	if (!ready) {
		crypto_key_format(key, kt);
		snprintf(text, sizeof(text), "home %s\nwork %s\n", kt, kt);
		CHECK(rdv_networks_parse(&nets, "fuzz", text, strlen(text),
		    err, sizeof(err)) == 0);
		rdv_server_set_networks(&nets);
		rdv_server_set_clocks(fz_clock, fz_clock);
		rdv_server_set_max_nodes(64);
		rdv_server_set_signal_sink(fz_sink);
		memset(&turn, 0, sizeof(turn));
		tsin->sin_family = AF_INET;
		tsin->sin_port = htons(3478);
		tsin->sin_addr.s_addr = htonl(0xcb007108);
		rdv_server_set_turn(&turn, "fuzz-secret", 11);
		ready = 1;
	}
	memset(l, 0, sizeof(l));
	memset(&peer, 0, sizeof(peer));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(0xc6336407);
	if (size > STUN_MAX_MSG || rdv_parse(data, size, &m, NULL) == -1) {
		/* not ours, or broken: a Binding's answer at most */
		if (rdv_is_rdv(data, size))
			CHECK(rdv_server_answer(data, size, 0, tcp, &peer, l, 0,
			    out, sizeof(out), &from, &to) == 0);
		return;
	}
	if (m.timestamp >= UINT64_MAX - 2 * RDV_REPLAY_WINDOW_MS ||
	    m.server_time >= UINT64_MAX - 2 * RDV_REPLAY_WINDOW_MS)
		return;
	CHECK((buf = malloc(size)) != NULL);
	memcpy(buf, data, size);
	memcpy(hdr, buf, STUN_HDR_LEN);
	wire_put16(hdr + 2, (uint16_t)(m.mac_off + 36 - STUN_HDR_LEN));
	part[0].data = hdr;
	part[0].len = STUN_HDR_LEN;
	part[1].data = buf + STUN_HDR_LEN;
	part[1].len = m.mac_off - STUN_HDR_LEN;
	crypto_hmac_sha256(key, CRYPTO_KEY_LEN, part, 2, buf + m.mac_off + 4);
	wire_put32(buf + size - 4, stun_crc32(buf, size - 8) ^ 0x5354554e);
	CHECK(rdv_parse(buf, size, &m, NULL) == 0);
	CHECK(rdv_verify(buf, size, &m, key));
	fz_now = m.cls == STUN_REQUEST ? m.timestamp : m.server_time;
	rdv_server_get_stats(&st0);
	ind_count = 0;
	n = rdv_server_answer(buf, size, 0, tcp, &peer, l, 0, out, sizeof(out),
	    &from, &to);
	rdv_server_get_stats(&st1);
	CHECK(n >= 0);
	if (m.cls != STUN_REQUEST || (strcmp(m.network, "home") != 0 &&
	    strcmp(m.network, "work") != 0))
		CHECK(n == 0);
	else if (n == 0)	/* a request whose ID came before */
		CHECK(st1.replayed == st0.replayed + 1);
	else if (st1.retransmits != st0.retransmits)	/* a REACH again */
		CHECK(m.method == RDV_REACH && st1.reach == st0.reach);
	if (n > 0) {
		CHECK(from == 0 && memcmp(&to, &peer, sizeof(peer)) == 0);
		CHECK(rdv_parse(out, (size_t)n, &a, NULL) == 0);
		CHECK(rdv_verify(out, (size_t)n, &a, key));
		CHECK(memcmp(a.tid, m.tid, STUN_TID_LEN) == 0);
		CHECK(a.method == m.method && strcmp(a.network, m.network) == 0);
		CHECK(a.server_time == fz_now);
		if (a.cls == STUN_SUCCESS && m.method == RDV_SIGNAL) {
			struct rdv_msg i;

			/* one indication, to PEER, from NODE, the payload */
			CHECK(ind_count == 1);
			CHECK(rdv_parse(ind_buf, ind_len, &i, NULL) == 0);
			CHECK(rdv_verify(ind_buf, ind_len, &i, key));
			CHECK(i.method == RDV_SIGNAL && i.cls == STUN_INDICATION);
			CHECK(strcmp(i.network, m.network) == 0 &&
			    strcmp(i.node, m.node) == 0 &&
			    strcmp(i.peer, m.peer) == 0);
			CHECK(i.payload_len == m.payload_len && memcmp(i.payload,
			    m.payload, m.payload_len) == 0);
			CHECK(i.server_time == fz_now);
			CHECK((size_t)n <= size);
		} else if (a.cls == STUN_SUCCESS) {
			CHECK(m.method == RDV_REGISTER);
			CHECK(memcmp(&a.mapped, &peer, sizeof(peer)) == 0);
			CHECK(a.lifetime >= 1 && a.lifetime <= 75);
			/* TURN credentials for the node that opens them */
			CHECK((a.has & RDV_HAS_TURN_CREDENTIAL) &&
			    memcmp(&a.turn_server, &turn, sizeof(turn)) == 0);
			CHECK(rdv_turn_open(key, a.tid, a.network, m.node,
			    a.turn_cred, a.turn_cred_len, &t) == 0);
			CHECK(rdv_turn_make("fuzz-secret", 11, m.node,
			    fz_now / 1000 + RDV_TURN_LIFETIME, &want) == 0);
			CHECK(strcmp(t.username, want.username) == 0 &&
			    strcmp(t.password, want.password) == 0 &&
			    t.expiry == want.expiry);
		} else if (m.method == RDV_SIGNAL)
			/* never sent on, an answer no longer than the request */
			CHECK(ind_count == 0 && (a.error_code == 403 ||
			    a.error_code == 404 || a.error_code == 429) &&
			    (size_t)n <= size);
		else if (m.method == RDV_REACH)
			/* no alternate address here: never a dial-back */
			CHECK(a.cls == STUN_ERROR && (a.error_code == 403 ||
			    a.error_code == 429 || a.error_code == 501) &&
			    (size_t)n <= size);
		else
			CHECK(a.cls == STUN_ERROR && a.error_code == 508);
		if (m.method == RDV_REACH) {
			/*
			 * the same bytes again from the same source: a
			 * retransmission, the same answer; from another
			 * port, a replay, never answered
			 */
			CHECK(rdv_server_answer(buf, size, 0, tcp, &peer, l, 0,
			    out2, sizeof(out2), &from, &to) == n);
			CHECK(memcmp(out, out2, (size_t)n) == 0);
			sin->sin_port = htons(40001);
		}
		/* the same bytes again: a replay, never answered */
		CHECK(rdv_server_answer(buf, size, 0, tcp, &peer, l, 0, out,
		    sizeof(out), &from, &to) == 0);
	}
	if (n == 0)
		CHECK(ind_count == 0);
	CHECK(st1.registrations <= 64);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	one_input(data, size);
	/*
	 * Again with the FINGERPRINT made right when the input ends with
	 * one: else nearly every mutation stops at the CRC, and the
	 * attributes before it are never reached.
	 */
	if (size >= STUN_HDR_LEN + 8 && size <= STUN_MAX_MSG &&
	    wire_get16(data + size - 8) == STUN_A_FINGERPRINT &&
	    wire_get16(data + size - 6) == 4) {
		CHECK((copy = malloc(size)) != NULL);
		memcpy(copy, data, size);
		wire_put32(copy + size - 4, stun_crc32(copy, size - 8) ^
		    0x5354554e);
		one_input(copy, size);
		free(copy);
	}
	dispatch(data, size);
	return 0;
}
