/* SPDX-License-Identifier: ISC */
/* Unit tests of rdv-client.c: REGISTER, REACH and SIGNAL built and parsed back, their answers checked, the dial-back; SIGNAL through natmapd-rendezvous in-process. */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "conf.h"
#include "crypto.h"
#include "loop.h"
#include "rdv-client.h"
#include "rdv-msg.h"
#include "rdv-networks.h"
#include "rdv-server.h"
#include "status.h"
#include "stun-msg.h"

#define NOW	1764864000000ULL	/* the local wall clock of the tests */

static uint8_t			secret[CRYPTO_KEY_LEN];	/* 00 01 .. 1f */
static struct rdv_client_id	id;

static int
setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	rdv_client_id_init(&id, "home", "nas.lan", secret);
	return 0;
}

/* The server's side of an answer: method, class, tid, under key. */
static int
answer(uint8_t *buf, size_t len, uint16_t method, uint8_t cls,
    const uint8_t tid[STUN_TID_LEN], const char *network,
    uint64_t server_time, const uint8_t key[CRYPTO_KEY_LEN])
{
	struct rdv_msg m;

	memset(&m, 0, sizeof(m));
	m.method = method;
	m.cls = cls;
	memcpy(m.tid, tid, STUN_TID_LEN);
	snprintf(m.network, sizeof(m.network), "%s", network);
	m.server_time = server_time;
	m.has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME;
	if (cls == STUN_ERROR) {
		m.error_code = 403;
		snprintf(m.error_reason, sizeof(m.error_reason), "not yours");
		m.has |= RDV_HAS_ERROR;
	} else if (method == RDV_REGISTER) {
		m.lifetime = 75;
		m.mapped = tu_sa("203.0.113.2", 45123);
		m.has |= RDV_HAS_LIFETIME | RDV_HAS_MAPPED;
	}
	return rdv_build(buf, len, &m, key);
}

/* Is buf the answer to one of the first ntid REGISTERs of tids? */
static int
reg_check(uint8_t tids[][STUN_TID_LEN], size_t ntid, const uint8_t *buf,
    size_t len, struct rdv_client_answer *a, const char **why)
{
	return rdv_client_check(RDV_REGISTER, &id,
	    (const uint8_t (*)[STUN_TID_LEN])tids, ntid, buf, len, NOW, a,
	    NULL, why);
}

static void
test_id(void **state)
{
	uint8_t sk[CRYPTO_KEY_LEN];

	(void)state;
	crypto_server_key(secret, sk);
	assert_memory_equal(id.server_key, sk, sizeof(sk));
	/* the secret itself is not kept */
	assert_memory_not_equal(id.server_key, secret, sizeof(secret));
	assert_string_equal(id.network, "home");
	assert_string_equal(id.node, "nas.lan");
}

static void
test_register_build(void **state)
{
	struct rdv_cand cand[2];
	uint8_t buf[STUN_MAX_MSG], tid[STUN_TID_LEN], tid2[STUN_TID_LEN];
	struct rdv_msg m;
	const char *err = NULL;
	int n;

	(void)state;
	memset(cand, 0, sizeof(cand));
	cand[0].kind = RDV_CAND_HOST;
	cand[0].transport = RDV_UDP;
	cand[0].addr = tu_sa("192.168.77.10", 40001);
	cand[1].kind = RDV_CAND_SRFLX;
	cand[1].transport = RDV_UDP;
	cand[1].addr = tu_sa("203.0.113.2", 40001);
	n = rdv_client_register_build(&id, cand, 2, 75, NOW, tid, buf,
	    sizeof(buf));
	assert_true(n > 20);
	assert_int_equal(rdv_parse(buf, (size_t)n, &m, &err), 0);
	assert_int_equal(m.method, RDV_REGISTER);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_string_equal(m.network, "home");
	assert_string_equal(m.node, "nas.lan");
	assert_true(m.timestamp == NOW);
	assert_true(m.has & RDV_HAS_LIFETIME);
	assert_int_equal(m.lifetime, 75);
	assert_int_equal(m.ncand, 2);
	assert_int_equal(m.cand[0].kind, RDV_CAND_HOST);
	tu_assert_sa(&m.cand[0].addr, "192.168.77.10:40001");
	assert_int_equal(m.cand[1].kind, RDV_CAND_SRFLX);
	tu_assert_sa(&m.cand[1].addr, "203.0.113.2:40001");
	/* under the server key, which the server has; not under the secret */
	assert_int_equal(rdv_verify(buf, (size_t)n, &m, id.server_key), 1);
	assert_int_equal(rdv_verify(buf, (size_t)n, &m, secret), 0);
	/* the key is nowhere in the message */
	assert_null(memmem(buf, (size_t)n, secret, 8));
	assert_null(memmem(buf, (size_t)n, id.server_key, 8));
	/* a new transaction ID each time */
	assert_true(rdv_client_register_build(&id, NULL, 0, 0, NOW, tid2, buf,
	    sizeof(buf)) > 0);
	assert_memory_not_equal(tid, tid2, STUN_TID_LEN);
}

static void
test_register_build_refused(void **state)
{
	struct rdv_cand cand;
	uint8_t buf[STUN_MAX_MSG], tid[STUN_TID_LEN];

	(void)state;
	memset(&cand, 0, sizeof(cand));
	cand.kind = RDV_CAND_HOST;
	cand.transport = RDV_UDP;
	cand.addr = tu_sa("192.168.77.10", 0);	/* no port */
	assert_int_equal(rdv_client_register_build(&id, &cand, 1, 75, NOW, tid,
	    buf, sizeof(buf)), -1);
	assert_int_equal(rdv_client_register_build(&id, &cand, 17, 75, NOW,
	    tid, buf, sizeof(buf)), -1);
	assert_int_equal(rdv_client_register_build(&id, NULL, 0, 75, NOW, tid,
	    buf, 40), -1);	/* too small */
}

/* A REGISTER out (three attempts), and its tids. */
static void
three_attempts(uint8_t tids[3][STUN_TID_LEN])
{
	uint8_t buf[STUN_MAX_MSG];
	int i;

	for (i = 0; i < 3; i++)
		assert_true(rdv_client_register_build(&id, NULL, 0, 75, NOW,
		    tids[i], buf, sizeof(buf)) > 0);
}

static void
test_register_answer(void **state)
{
	uint8_t tids[3][STUN_TID_LEN], buf[STUN_MAX_MSG];
	struct rdv_client_answer a;
	const char *why = NULL;
	size_t which = 99;
	int n;

	(void)state;
	three_attempts(tids);
	/* the answer to the second attempt, the server 2 s ahead */
	n = answer(buf, sizeof(buf), RDV_REGISTER, STUN_SUCCESS, tids[1],
	    "home", NOW + 2000, id.server_key);
	assert_true(n > 0);
	assert_int_equal(rdv_client_check(RDV_REGISTER, &id,
	    (const uint8_t (*)[STUN_TID_LEN])tids, 3, buf, (size_t)n, NOW,
	    &a, &which, &why), 0);
	assert_int_equal(which, 1);
	assert_int_equal(a.ok, 1);
	assert_int_equal(a.lifetime, 75);
	tu_assert_sa(&a.mapped, "203.0.113.2:45123");
	assert_true(a.skew_ms == 2000);
	assert_int_equal(a.skewed, 0);
}

/*
 * One answer to three_attempts()'s REGISTER, built by the server's side,
 * and what reg_check() must make of it.
 */
#define ANSWER_STRANGER	(-1)	/* tid: the third attempt's with a bit flipped */
struct answer_case {
	uint16_t	 method;
	uint8_t		 cls;
	int		 tid;		/* an index in tids, or ANSWER_STRANGER */
	const char	*network;
	int64_t		 server_skew;	/* the server's time - NOW, ms */
	const uint8_t	*key;		/* what it is authenticated under */
	size_t		 ntid;		/* how many of the tids are ours */
	int		 ret;		/* reg_check()'s */
	const char	*why;		/* why it was dropped; NULL: not looked at */
	int		 ok;		/* a.ok; -1: not looked at */
	int		 skewed;	/* a.skewed; -1: not looked at */
	int64_t		 skew_ms;	/* a.skew_ms; 0: not looked at */
	int		 error_code;	/* a.error_code and a.reason; 0: not looked at */
};

static uint8_t	other_key[CRYPTO_KEY_LEN];	/* 5a 5a .. 5a: not the network's */

static void
answer_cases(const struct answer_case *c, size_t n)
{
	uint8_t tids[3][STUN_TID_LEN], buf[STUN_MAX_MSG], tid[STUN_TID_LEN];
	struct rdv_client_answer a;
	const char *why;
	size_t i;
	int len;

	memset(other_key, 0x5a, sizeof(other_key));
	three_attempts(tids);
	for (i = 0; i < n; i++, c++) {
		if (c->tid == ANSWER_STRANGER) {
			memcpy(tid, tids[2], sizeof(tid));
			tid[11] ^= 1;
		} else
			memcpy(tid, tids[c->tid], sizeof(tid));
		len = answer(buf, sizeof(buf), c->method, c->cls, tid,
		    c->network, (uint64_t)((int64_t)NOW + c->server_skew),
		    c->key);
		why = NULL;
		assert_int_equal(reg_check(tids, c->ntid, buf, (size_t)len, &a,
		    &why), c->ret);
		if (c->why != NULL)
			assert_string_equal(why, c->why);
		if (c->ok != -1)
			assert_int_equal(a.ok, c->ok);
		if (c->skew_ms != 0)
			assert_true(a.skew_ms == c->skew_ms);
		if (c->skewed != -1)
			assert_int_equal(a.skewed, c->skewed);
		if (c->error_code != 0) {
			assert_int_equal(a.error_code, c->error_code);
			assert_string_equal(a.reason, "not yours");
		}
	}
}

#define ANSWER_CASES(t)	answer_cases((t), sizeof(t) / sizeof((t)[0]))

static void
test_register_answer_wrong_mac(void **state)
{
	static const struct answer_case t[] = {
		{ RDV_REGISTER, STUN_SUCCESS, 0, "home", 0, other_key, 3,
		    -1, "bad MAC", -1, -1, 0, 0 },
		/* under the secret rather than the server key: no better */
		{ RDV_REGISTER, STUN_SUCCESS, 0, "home", 0, secret, 3,
		    -1, "bad MAC", 0, -1, 0, 0 },
	};

	(void)state;
	ANSWER_CASES(t);
}

static void
test_register_answer_wrong_tid(void **state)
{
	static const struct answer_case t[] = {
		{ RDV_REGISTER, STUN_SUCCESS, ANSWER_STRANGER, "home", 0,
		    id.server_key, 3, -1,
		    "no request of ours has its transaction ID", -1, -1, 0, 0 },
		/* the third attempt's ID, counted out of the list: not ours either */
		{ RDV_REGISTER, STUN_SUCCESS, 2, "home", 0, id.server_key, 2,
		    -1, NULL, -1, -1, 0, 0 },
		{ RDV_REGISTER, STUN_SUCCESS, 2, "home", 0, id.server_key, 0,
		    -1, NULL, -1, -1, 0, 0 },
	};

	(void)state;
	ANSWER_CASES(t);
}

static void
test_register_answer_stale_server_time(void **state)
{
	static const struct answer_case t[] = {
		/* 40 s behind: still the answer (its ID and MAC make it so), flagged */
		{ RDV_REGISTER, STUN_SUCCESS, 0, "home", -40000, id.server_key,
		    3, 0, NULL, 1, 1, -40000, 0 },
		/* 10.001 s ahead: flagged; 10 s exactly: not */
		{ RDV_REGISTER, STUN_SUCCESS, 0, "home", 10001, id.server_key,
		    3, 0, NULL, -1, 1, 0, 0 },
		{ RDV_REGISTER, STUN_SUCCESS, 0, "home", 10000, id.server_key,
		    3, 0, NULL, -1, 0, 0, 0 },
	};

	(void)state;
	ANSWER_CASES(t);
}

static void
test_register_answer_others(void **state)
{
	static const struct answer_case t[] = {
		/* an error answer: taken, with its code and reason */
		{ RDV_REGISTER, STUN_ERROR, 0, "home", 0, id.server_key, 3,
		    0, NULL, 0, -1, 0, 403 },
		/* a REACH answer with a REGISTER's ID */
		{ RDV_REACH, STUN_SUCCESS, 0, "home", 0, id.server_key, 3,
		    -1, "an answer of another method", -1, -1, 0, 0 },
		/* another network's answer, even under our key */
		{ RDV_REGISTER, STUN_SUCCESS, 0, "other", 0, id.server_key, 3,
		    -1, "an answer for another network", -1, -1, 0, 0 },
	};
	uint8_t tids[3][STUN_TID_LEN], buf[STUN_MAX_MSG];
	struct rdv_client_answer a;
	const char *why = NULL;
	int n;

	(void)state;
	ANSWER_CASES(t);
	three_attempts(tids);
	/* our own request sent back */
	n = rdv_client_register_build(&id, NULL, 0, 75, NOW, tids[0], buf,
	    sizeof(buf));
	assert_int_equal(reg_check(tids, 3, buf, (size_t)n, &a, &why), -1);
	assert_string_equal(why, "not an answer");
	/* one byte flipped anywhere: dropped */
	n = answer(buf, sizeof(buf), RDV_REGISTER, STUN_SUCCESS, tids[0],
	    "home", NOW, id.server_key);
	for (int i = 0; i < n; i++) {
		buf[i] ^= 0x01;
		assert_int_equal(reg_check(tids, 3, buf, (size_t)n, &a, &why), -1);
		buf[i] ^= 0x01;
	}
	/* truncated, garbage, empty */
	assert_int_equal(reg_check(tids, 3, buf, (size_t)n - 8, &a, &why), -1);
	assert_int_equal(reg_check(tids, 3, buf, 0, &a, &why), -1);
}

static void
test_reach_build(void **state)
{
	uint8_t buf[STUN_MAX_MSG];
	struct rdv_reach r, r2;
	struct rdv_msg m;
	const char *err = NULL;
	int n;

	(void)state;
	n = rdv_client_reach_build(&id, RDV_TCP, 40123, NOW, &r, buf,
	    sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(rdv_parse(buf, (size_t)n, &m, &err), 0);
	assert_int_equal(m.method, RDV_REACH);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_memory_equal(m.tid, r.tid, STUN_TID_LEN);
	assert_string_equal(m.node, "nas.lan");
	assert_true(m.timestamp == NOW);
	assert_true(m.has & RDV_HAS_NONCE);
	assert_memory_equal(m.nonce, r.nonce, RDV_NONCE_LEN);
	assert_int_equal(m.reach_transport, RDV_TCP);
	assert_int_equal(m.reach_port, 40123);
	assert_int_equal(r.transport, RDV_TCP);
	assert_int_equal(r.port, 40123);
	assert_int_equal(rdv_verify(buf, (size_t)n, &m, id.server_key), 1);
	/* a new nonce and ID each time */
	assert_true(rdv_client_reach_build(&id, RDV_UDP, 40123, NOW, &r2, buf,
	    sizeof(buf)) > 0);
	assert_memory_not_equal(r.nonce, r2.nonce, RDV_NONCE_LEN);
	assert_memory_not_equal(r.tid, r2.tid, STUN_TID_LEN);
	/* no transport, no port, no room */
	assert_int_equal(rdv_client_reach_build(&id, 1, 40123, NOW, &r2, buf,
	    sizeof(buf)), -1);
	assert_int_equal(rdv_client_reach_build(&id, RDV_UDP, 0, NOW, &r2, buf,
	    sizeof(buf)), -1);
	assert_int_equal(rdv_client_reach_build(&id, RDV_UDP, 1, NOW, &r2, buf,
	    60), -1);
}

static void
test_reach_check(void **state)
{
	uint8_t buf[STUN_MAX_MSG], other[CRYPTO_KEY_LEN];
	uint8_t tid[STUN_TID_LEN];
	struct rdv_client_answer a;
	struct rdv_reach r;
	const char *why = NULL;
	int n;

	(void)state;
	assert_true(rdv_client_reach_build(&id, RDV_UDP, 40123, NOW, &r, buf,
	    sizeof(buf)) > 0);
	/* reached */
	n = answer(buf, sizeof(buf), RDV_REACH, STUN_SUCCESS, r.tid, "home",
	    NOW + 50, id.server_key);
	assert_int_equal(rdv_client_reach_check(&id, &r, buf, (size_t)n, NOW,
	    &a, &why), 1);
	assert_true(a.skew_ms == 50);
	/* not reached: the code and the reason */
	n = answer(buf, sizeof(buf), RDV_REACH, STUN_ERROR, r.tid, "home",
	    NOW, id.server_key);
	assert_int_equal(rdv_client_reach_check(&id, &r, buf, (size_t)n, NOW,
	    &a, &why), 0);
	assert_int_equal(a.error_code, 403);
	assert_string_equal(a.reason, "not yours");
	/* not its answer: another ID, a wrong MAC, a REGISTER answer */
	memcpy(tid, r.tid, sizeof(tid));
	tid[0] ^= 0x80;
	n = answer(buf, sizeof(buf), RDV_REACH, STUN_SUCCESS, tid, "home",
	    NOW, id.server_key);
	assert_int_equal(rdv_client_reach_check(&id, &r, buf, (size_t)n, NOW,
	    &a, &why), -1);
	assert_string_equal(why, "no request of ours has its transaction ID");
	memset(other, 0xa5, sizeof(other));
	n = answer(buf, sizeof(buf), RDV_REACH, STUN_SUCCESS, r.tid, "home",
	    NOW, other);
	assert_int_equal(rdv_client_reach_check(&id, &r, buf, (size_t)n, NOW,
	    &a, &why), -1);
	assert_string_equal(why, "bad MAC");
	n = answer(buf, sizeof(buf), RDV_REGISTER, STUN_SUCCESS, r.tid,
	    "home", NOW, id.server_key);
	assert_int_equal(rdv_client_reach_check(&id, &r, buf, (size_t)n, NOW,
	    &a, &why), -1);
	assert_string_equal(why, "an answer of another method");
}

static void
test_dialback(void **state)
{
	uint8_t buf[STUN_MAX_MSG], d[RDV_NONCE_LEN + 1];
	struct rdv_reach r;

	(void)state;
	assert_true(rdv_client_reach_build(&id, RDV_UDP, 40123, NOW, &r, buf,
	    sizeof(buf)) > 0);
	memcpy(d, r.nonce, RDV_NONCE_LEN);
	d[RDV_NONCE_LEN] = 0;
	assert_int_equal(rdv_client_is_dialback(&r, d, RDV_NONCE_LEN), 1);
	assert_int_equal(rdv_client_is_dialback(&r, d, RDV_NONCE_LEN - 1), 0);
	assert_int_equal(rdv_client_is_dialback(&r, d, RDV_NONCE_LEN + 1), 0);
	assert_int_equal(rdv_client_is_dialback(&r, d, 0), 0);
	d[RDV_NONCE_LEN - 1] ^= 1;
	assert_int_equal(rdv_client_is_dialback(&r, d, RDV_NONCE_LEN), 0);
}

/* What an answer says of a port a gateway's rule forwards to a service. */
static void
test_reach_verdict(void **state)
{
	static const struct {
		int		 ok;
		int		 code;
		const char	*reason;
		enum rdv_reach_verdict v;
	} t[] = {
		{ 1, 0, "", RDV_REACH_CONNECTED },
		{ 0, 404, "not reached: wrong nonce", RDV_REACH_CONNECTED },
		{ 0, 404, "not reached: closed", RDV_REACH_CONNECTED },
		{ 0, 404, "not reached: no nonce", RDV_REACH_CONNECTED },
		{ 0, 404, "not reached: timed out", RDV_REACH_NO_CONNECTION },
		{ 0, 404, "not reached: unreachable", RDV_REACH_NO_CONNECTION },
		{ 0, 404, "not reached: refused", RDV_REACH_NOT_PROVEN },
		{ 0, 404, "not reached: error", RDV_REACH_NOT_PROVEN },
		{ 0, 404, "something new", RDV_REACH_NOT_PROVEN },
		{ 0, 404, "not reached: timed out ", RDV_REACH_NOT_PROVEN },
		{ 0, 429, "too many REACH requests", RDV_REACH_LIMITED },
		{ 0, 403, "register first", RDV_REACH_NOT_TRIED },
		{ 0, 501, "no alt address for dial-back", RDV_REACH_NOT_TRIED },
		{ 0, 503, "too many dial-backs", RDV_REACH_NOT_TRIED },
		{ 0, 500, "dial-back failed", RDV_REACH_NOT_TRIED },
		/* a reason of the timeout under another code proves nothing */
		{ 0, 500, "not reached: timed out", RDV_REACH_NOT_TRIED },
	};
	struct rdv_client_answer a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.ok = t[i].ok;
		a.error_code = t[i].code;
		snprintf(a.reason, sizeof(a.reason), "%s", t[i].reason);
		assert_int_equal(rdv_client_reach_verdict(&a), t[i].v);
	}
	assert_string_equal(rdv_client_verdict_name(RDV_REACH_CONNECTED),
	    "connected");
	assert_string_equal(rdv_client_verdict_name(RDV_REACH_NO_CONNECTION),
	    "no connection");
	assert_string_equal(rdv_client_verdict_name(RDV_REACH_LIMITED),
	    "rate-limited");
}

/* ---- SIGNAL: the messages ---- */

static void
test_signal_build(void **state)
{
	uint8_t buf[STUN_MAX_MSG], tid[STUN_TID_LEN], pay[RDV_PAYLOAD_MAX];
	struct rdv_msg m;
	const char *err = NULL;
	int n;

	(void)state;
	memset(pay, 0xc3, sizeof(pay));
	n = rdv_client_signal_build(&id, "cam.lan", pay, 300, NOW, tid, buf,
	    sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(rdv_parse(buf, (size_t)n, &m, &err), 0);
	assert_true(rdv_verify(buf, (size_t)n, &m, id.server_key));
	assert_int_equal(m.method, RDV_SIGNAL);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_memory_equal(m.tid, tid, STUN_TID_LEN);
	assert_string_equal(m.network, "home");
	assert_string_equal(m.node, "nas.lan");
	assert_string_equal(m.peer, "cam.lan");
	assert_true(m.timestamp == NOW);
	assert_int_equal(m.payload_len, 300);
	assert_memory_equal(m.payload, pay, 300);
	/* the limits */
	assert_true(rdv_client_signal_build(&id, "cam.lan", pay,
	    RDV_PAYLOAD_MAX, NOW, tid, buf, sizeof(buf)) > 0);
	assert_int_equal(rdv_client_signal_build(&id, "cam.lan", pay,
	    RDV_PAYLOAD_MAX + 1, NOW, tid, buf, sizeof(buf)), -1);
	assert_int_equal(rdv_client_signal_build(&id, "cam.lan", pay, 0, NOW,
	    tid, buf, sizeof(buf)), -1);
	assert_int_equal(rdv_client_signal_build(&id, "Cam", pay, 1, NOW, tid,
	    buf, sizeof(buf)), -1);
	assert_int_equal(rdv_client_signal_build(&id, "cam.lan", pay, 300,
	    NOW, tid, buf, 100), -1);
}

/* A SIGNAL indication as the server sends it, with what may be changed. */
static int
indication(uint8_t *buf, size_t len, const char *network, const char *from,
    const char *to, uint64_t server_time, const uint8_t *key)
{
	struct rdv_msg m;

	memset(&m, 0, sizeof(m));
	m.method = RDV_SIGNAL;
	m.cls = STUN_INDICATION;
	memset(m.tid, 0x77, STUN_TID_LEN);
	snprintf(m.network, sizeof(m.network), "%s", network);
	snprintf(m.node, sizeof(m.node), "%s", from);
	snprintf(m.peer, sizeof(m.peer), "%s", to);
	m.server_time = server_time;
	m.payload_len = 5;
	memcpy(m.payload, "offer", 5);
	m.has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_PEER |
	    RDV_HAS_PAYLOAD | RDV_HAS_SERVER_TIME;
	return rdv_build(buf, len, &m, key);
}

static void
test_signal_indication(void **state)
{
	uint8_t buf[STUN_MAX_MSG], other[CRYPTO_KEY_LEN], tid[STUN_TID_LEN];
	struct rdv_client_signal_in in;
	const char *why = NULL;
	size_t cut;
	int n;

	(void)state;
	n = indication(buf, sizeof(buf), "home", "cam.lan", "nas.lan", NOW,
	    id.server_key);
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), 0);
	assert_string_equal(in.from, "cam.lan");
	assert_int_equal(in.len, 5);
	assert_memory_equal(in.payload, "offer", 5);
	assert_true(in.server_time == NOW);
	/* SERVER-TIME 30 s off either way is still fresh, not more */
	n = indication(buf, sizeof(buf), "home", "cam.lan", "nas.lan",
	    NOW - RDV_SKEW_MAX_MS, id.server_key);
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), 0);
	n = indication(buf, sizeof(buf), "home", "cam.lan", "nas.lan",
	    NOW + RDV_SKEW_MAX_MS + 1, id.server_key);
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), -1);
	assert_string_equal(why, "a SIGNAL indication with a SERVER-TIME "
	    "over 30 s off");
	/* for another node, another network, under another key */
	n = indication(buf, sizeof(buf), "home", "cam.lan", "tv.lan", NOW,
	    id.server_key);
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), -1);
	assert_string_equal(why, "a SIGNAL indication for another node");
	n = indication(buf, sizeof(buf), "work", "cam.lan", "nas.lan", NOW,
	    id.server_key);
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), -1);
	assert_string_equal(why, "a SIGNAL indication for another network");
	memset(other, 0x5a, sizeof(other));
	n = indication(buf, sizeof(buf), "home", "cam.lan", "nas.lan", NOW,
	    other);
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), -1);
	assert_string_equal(why, "bad MAC");
	assert_true(in.len == 0 && in.from[0] == '\0');
	/* every truncation of a good one */
	n = indication(buf, sizeof(buf), "home", "cam.lan", "nas.lan", NOW,
	    id.server_key);
	for (cut = 0; cut < (size_t)n; cut++)
		assert_int_equal(rdv_client_indication(&id, buf, cut, NOW, &in,
		    &why), -1);
	/* a SIGNAL request, a SIGNAL answer: not indications */
	n = rdv_client_signal_build(&id, "nas.lan", (const uint8_t *)"x", 1,
	    NOW, tid, buf, sizeof(buf));
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), -1);
	assert_string_equal(why, "not a SIGNAL indication");
	n = answer(buf, sizeof(buf), RDV_SIGNAL, STUN_SUCCESS, tid, "home",
	    NOW, id.server_key);
	assert_int_equal(rdv_client_indication(&id, buf, (size_t)n, NOW, &in,
	    &why), -1);
	/* and the answer is SIGNAL's, not REGISTER's */
	{
		struct rdv_client_answer a;

		assert_int_equal(rdv_client_check(RDV_SIGNAL, &id,
		    (const uint8_t (*)[STUN_TID_LEN])tid, 1, buf, (size_t)n,
		    NOW, &a, NULL, &why), 0);
		assert_true(a.ok);
		assert_int_equal(rdv_client_check(RDV_REGISTER, &id,
		    (const uint8_t (*)[STUN_TID_LEN])tid, 1, buf, (size_t)n,
		    NOW, &a, NULL, &why), -1);
	}
}

/* ---- SIGNAL: the event loop's side, against natmapd-rendezvous in this process ---- */

static struct {
	int			ndone;
	int			ok;
	int			code;
	int			none;		/* done(NULL) */
	int			nok, n429;
	int			nin;
	char			from[RDV_NODE_MAX + 1];
	uint8_t			payload[RDV_PAYLOAD_MAX];
	size_t			len;
} got;

static void
signal_done(struct rdv_signal_op *op, const struct rdv_client_answer *a)
{
	(void)op;
	got.ndone++;
	got.none = a == NULL;
	got.ok = a != NULL && a->ok;
	got.code = a != NULL ? a->error_code : 0;
	got.nok += got.ok;
	got.n429 += got.code == 429;
}

static void
signal_in(const char *from, const uint8_t *payload, size_t len, void *arg)
{
	assert_ptr_equal(arg, &got);
	got.nin++;
	snprintf(got.from, sizeof(got.from), "%s", from);
	memcpy(got.payload, payload, len);
	got.len = len;
}

/* Turn the loop until *flag reaches want, at most 3 s. */
static void
turn_until(const int *flag, int want)
{
	int i;

	for (i = 0; i < 300 && *flag < want; i++)
		loop_once(10);
	assert_int_equal(*flag, want);
}

/* A free port on 127.0.0.1 for UDP and TCP alike (bound, then let go). */
static uint16_t
free_port(void)
{
	struct sockaddr_storage ss = tu_sa("127.0.0.1", 0);
	socklen_t sl = sizeof(ss);
	uint16_t port;
	int fd, fd2;
	struct sockaddr_storage t;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sizeof(struct
	    sockaddr_in)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	fd2 = socket(AF_INET, SOCK_STREAM, 0);
	t = tu_sa("127.0.0.1", port);
	assert_int_equal(bind(fd2, (struct sockaddr *)&t, sizeof(struct
	    sockaddr_in)), 0);
	close(fd2);
	close(fd);
	return port;
}

/* The other node, cam.lan: a plain socket, its messages built here. */
static int
cam_recv(int fd, uint8_t *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int i;
	ssize_t n;

	for (i = 0; i < 300; i++) {
		loop_once(10);
		if (poll(&pfd, 1, 0) == 1) {
			n = recv(fd, buf, len, 0);
			assert_true(n > 0);
			return (int)n;
		}
	}
	fail_msg("cam.lan: nothing came");
	return -1;
}

/* natmapd-rendezvous on 127.0.0.1:port, serving network home (the secret 00 .. 1f). */
static void
server_up(uint16_t port)
{
	struct rdv_server_conf sc;
	struct rdv_networks nets;
	uint8_t skey[CRYPTO_KEY_LEN];
	char kt[CRYPTO_KEY_TEXT_LEN + 1], text[128], err[128];

	crypto_server_key(secret, skey);
	crypto_key_format(skey, kt);
	snprintf(text, sizeof(text), "home %s\n", kt);
	assert_int_equal(rdv_networks_parse(&nets, "test", text, strlen(text),
	    err, sizeof(err)), 0);
	rdv_server_set_networks(&nets);
	memset(&sc, 0, sizeof(sc));
	sc.listen = tu_sa("127.0.0.1", port);
	sc.max_nodes = 16;
	assert_int_equal(rdv_server_start(&sc, err, sizeof(err)), 0);
}

/* Where client_conf's servers are: 127.0.0.1 but in the IPv6 test. */
static const char *conf_host = "127.0.0.1";

/* This node, nas.lan of home, with the servers conf_host:ports[0..n). */
static void
client_conf(struct config *conf, const uint16_t *ports, size_t n)
{
	size_t i;

	memset(conf, 0, sizeof(*conf));
	for (i = 0; i < n; i++) {
		snprintf(conf->rdv[i].host, sizeof(conf->rdv[i].host), "%s",
		    conf_host);
		conf->rdv[i].port = ports[i];
	}
	conf->nrdv = n;
	conf->network = "home";
	conf->node = "nas.lan";
	conf->have_key = 1;
	memcpy(conf->key, secret, sizeof(conf->key));
	rdv_client_configure(conf);
}

static void
test_signal_loop(void **state)
{
	struct rdv_client_id cam;
	struct rdv_client_signal_in in;
	struct rdv_client_answer a;
	struct rdv_signal_op op, ops[20];
	struct config conf;
	struct sockaddr_storage srv;
	uint8_t buf[STUN_MAX_MSG], tid[STUN_TID_LEN];
	uint8_t pay[RDV_PAYLOAD_MAX];
	const char *why;
	uint16_t port = free_port();
	size_t i;
	int fd, n;

	(void)state;
	server_up(port);
	srv = tu_sa("127.0.0.1", port);
	/* this node, nas.lan, registers through rdv-client */
	client_conf(&conf, &port, 1);
	rdv_client_on_signal(signal_in, &got);
	rdv_client_signal_init(&op, signal_done);
	memset(pay, 0xa5, sizeof(pay));
	/* not registered yet: ENOTCONN */
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, 10), -1);
	assert_int_equal(errno, ENOTCONN);
	rdv_client_start();
	for (i = 0; i < 300 && rdv_client_count() == 0; i++)
		loop_once(10);
	assert_int_equal(rdv_client_count(), 1);

	/* cam.lan registers from its own socket */
	rdv_client_id_init(&cam, "home", "cam.lan", secret);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	n = rdv_client_register_build(&cam, NULL, 0, 60, rdv_client_wall_ms(),
	    tid, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&srv,
	    sizeof(struct sockaddr_in)) == n);
	n = cam_recv(fd, buf, sizeof(buf));
	assert_int_equal(rdv_client_check(RDV_REGISTER, &cam,
	    (const uint8_t (*)[STUN_TID_LEN])tid, 1, buf, (size_t)n,
	    rdv_client_wall_ms(), &a, NULL, &why), 0);
	assert_true(a.ok);

	/* nas.lan to cam.lan: sent on, success */
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, 300), 0);
	assert_true(rdv_client_signal_busy(&op));
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, 300), -1);
	assert_int_equal(errno, EALREADY);
	turn_until(&got.ndone, 1);
	assert_true(got.ok);
	assert_false(rdv_client_signal_busy(&op));
	n = cam_recv(fd, buf, sizeof(buf));
	assert_int_equal(rdv_client_indication(&cam, buf, (size_t)n,
	    rdv_client_wall_ms(), &in, &why), 0);
	assert_string_equal(in.from, "nas.lan");
	assert_int_equal(in.len, 300);
	assert_memory_equal(in.payload, pay, 300);

	/* cam.lan to nas.lan: the subscriber gets it, once */
	n = rdv_client_signal_build(&cam, "nas.lan", (const uint8_t *)"answer",
	    6, rdv_client_wall_ms(), tid, buf, sizeof(buf));
	assert_true(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&srv,
	    sizeof(struct sockaddr_in)) == n);
	turn_until(&got.nin, 1);
	assert_string_equal(got.from, "cam.lan");
	assert_int_equal(got.len, 6);
	assert_memory_equal(got.payload, "answer", 6);
	n = cam_recv(fd, buf, sizeof(buf));	/* cam.lan's answer: success */
	assert_int_equal(rdv_client_check(RDV_SIGNAL, &cam,
	    (const uint8_t (*)[STUN_TID_LEN])tid, 1, buf, (size_t)n,
	    rdv_client_wall_ms(), &a, NULL, &why), 0);
	assert_true(a.ok);
	/* nobody subscribed: dropped */
	rdv_client_on_signal(NULL, NULL);
	n = rdv_client_signal_build(&cam, "nas.lan", (const uint8_t *)"again",
	    5, rdv_client_wall_ms(), tid, buf, sizeof(buf));
	assert_true(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&srv,
	    sizeof(struct sockaddr_in)) == n);
	n = cam_recv(fd, buf, sizeof(buf));
	for (i = 0; i < 10; i++)
		loop_once(10);
	assert_int_equal(got.nin, 1);
	rdv_client_on_signal(signal_in, &got);

	/* to a node not registered: 404 reported */
	assert_int_equal(rdv_client_signal(&op, "nobody", pay, 1), 0);
	turn_until(&got.ndone, 2);
	assert_false(got.ok);
	assert_int_equal(got.code, 404);
	/* 20 at once: the bucket holds 16 at most, the rest get 429 */
	got.nok = got.n429 = 0;
	for (i = 0; i < TU_ARRAY_LEN(ops); i++) {
		rdv_client_signal_init(&ops[i], signal_done);
		assert_int_equal(rdv_client_signal(&ops[i], "cam.lan", pay, 8),
		    0);
	}
	turn_until(&got.ndone, 2 + (int)TU_ARRAY_LEN(ops));
	assert_int_equal(got.nok + got.n429, (int)TU_ARRAY_LEN(ops));
	assert_true(got.nok >= 1 && got.nok <= RDV_SIGNAL_BURST);
	for (i = 0; i < (size_t)got.nok; i++)
		(void)cam_recv(fd, buf, sizeof(buf));

	/* stopped with a SIGNAL out: done(NULL) */
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, 8), 0);
	rdv_client_stop();
	assert_int_equal(got.ndone, 3 + (int)TU_ARRAY_LEN(ops));
	assert_true(got.none);
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, 8), -1);
	assert_int_equal(errno, ENOTCONN);

	close(fd);
	rdv_client_on_signal(NULL, NULL);
	rdv_client_id_wipe(&cam);
	memset(&conf, 0, sizeof(conf));
	rdv_client_configure(&conf);
	rdv_server_stop();
}

/*
 * The node's TURN credentials: none before it registers; once registered
 * with a server that hands them out, the relay and a pair for nas.lan
 * that the secret makes, an hour long; none once stopped.
 */
static void
test_turn_loop(void **state)
{
	struct sockaddr_storage relay = tu_sa("127.0.0.1", 3478);
	struct rdv_turn t, want;
	struct config conf;
	uint16_t port = free_port();
	uint64_t now;
	size_t i;

	(void)state;
	server_up(port);
	rdv_server_set_turn(&relay, "north-secret", 12);
	client_conf(&conf, &port, 1);
	assert_int_equal(rdv_client_turn(&t), -1);
	rdv_client_start();
	for (i = 0; i < 300 && rdv_client_count() == 0; i++)
		loop_once(10);
	assert_int_equal(rdv_client_count(), 1);
	now = rdv_client_wall_ms() / 1000;
	assert_int_equal(rdv_client_turn(&t), 0);
	assert_memory_equal(&t.relay, &relay, sizeof(relay));
	assert_true(t.expiry >= now + RDV_TURN_LIFETIME - 5 &&
	    t.expiry <= now + RDV_TURN_LIFETIME);
	assert_int_equal(rdv_turn_make("north-secret", 12, "nas.lan",
	    t.expiry, &want), 0);
	assert_string_equal(t.username, want.username);
	assert_string_equal(t.password, want.password);
	rdv_client_stop();
	assert_int_equal(rdv_client_turn(&t), -1);
	memset(&conf, 0, sizeof(conf));
	rdv_client_configure(&conf);
	rdv_server_stop();
}

/* ---- SIGNAL through two servers: the real one and one faked here ---- */

enum fake_mode { FAKE_SILENT, FAKE_OK, FAKE_404, FAKE_429, FAKE_SILENT_ONCE };

static struct {
	int			fd;
	enum fake_mode		mode;
	int			signals;	/* SIGNAL requests seen */
	uint8_t			tids[8][STUN_TID_LEN];
} fake;

/* A success answer to the request m; a REGISTER's says it came from mapped. */
static void
fake_success(const struct rdv_msg *m, const struct sockaddr_storage *mapped,
    struct rdv_msg *a)
{
	memset(a, 0, sizeof(*a));
	a->method = m->method;
	a->cls = STUN_SUCCESS;
	memcpy(a->tid, m->tid, STUN_TID_LEN);
	strcpy(a->network, m->network);
	a->server_time = rdv_client_wall_ms();
	a->has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME;
	if (m->method == RDV_REGISTER) {
		a->lifetime = 75;
		a->mapped = *mapped;
		a->has |= RDV_HAS_LIFETIME | RDV_HAS_MAPPED;
	}
}

/* Answer what came to the fake server: REGISTER a success, SIGNAL as fake.mode says. */
static void
fake_serve(void)
{
	struct sockaddr_storage from;
	struct rdv_msg m, a;
	uint8_t buf[STUN_MAX_MSG], skey[CRYPTO_KEY_LEN];
	socklen_t fl;
	ssize_t r;
	int n;

	crypto_server_key(secret, skey);
	for (;;) {
		fl = sizeof(from);
		r = recvfrom(fake.fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		if (r <= 0)
			return;
		assert_int_equal(rdv_parse(buf, (size_t)r, &m, NULL), 0);
		assert_true(rdv_verify(buf, (size_t)r, &m, skey));
		fake_success(&m, &from, &a);
		if (m.method != RDV_REGISTER) {
			assert_int_equal(m.method, RDV_SIGNAL);
			if (fake.signals < 8)
				memcpy(fake.tids[fake.signals], m.tid,
				    STUN_TID_LEN);
			fake.signals++;
			if (fake.mode == FAKE_SILENT)
				continue;
			if (fake.mode == FAKE_SILENT_ONCE) {
				fake.mode = FAKE_OK;
				continue;
			}
			if (fake.mode != FAKE_OK) {
				a.cls = STUN_ERROR;
				a.error_code = fake.mode == FAKE_404 ? 404 : 429;
				strcpy(a.error_reason, "fake");
				a.has |= RDV_HAS_ERROR;
			}
		}
		n = rdv_build(buf, sizeof(buf), &a, skey);
		assert_true(n > 0);
		assert_true(sendto(fake.fd, buf, (size_t)n, 0,
		    (struct sockaddr *)&from, fl) == n);
	}
}

/* Turn the loop, serving the fake, until *flag reaches want (at most 5 s). */
static void
turn_fake(const int *flag, int want)
{
	int i;

	for (i = 0; i < 500 && *flag < want; i++) {
		loop_once(10);
		fake_serve();
	}
	assert_int_equal(*flag, want);
}

static void
test_signal_two_servers(void **state)
{
	struct rdv_signal_op op;
	struct config conf;
	struct sockaddr_storage fa = tu_sa("127.0.0.1", 0);
	socklen_t fl = sizeof(fa);
	uint8_t pay[16];
	uint16_t ports[2] = { free_port(), 0 };
	uint64_t t0;
	int i;

	(void)state;
	server_up(ports[0]);
	fake.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fake.fd >= 0);
	assert_int_equal(bind(fake.fd, (struct sockaddr *)&fa,
	    sizeof(struct sockaddr_in)), 0);
	assert_int_equal(getsockname(fake.fd, (struct sockaddr *)&fa, &fl), 0);

	ports[1] = ntohs(((struct sockaddr_in *)&fa)->sin_port);
	client_conf(&conf, ports, 2);
	rdv_client_start();
	for (i = 0; i < 300 && rdv_client_count() < 2; i++) {
		loop_once(10);
		fake_serve();
	}
	assert_int_equal(rdv_client_count(), 2);
	rdv_client_signal_init(&op, signal_done);
	memset(pay, 0x11, sizeof(pay));
	memset(&got, 0, sizeof(got));

	/* the real server: 404 (cam.lan is nowhere); the fake: 429, which is told */
	fake.mode = FAKE_429;
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, sizeof(pay)),
	    0);
	turn_fake(&got.ndone, 1);
	assert_int_equal(got.code, 429);
	/* both 404: 404 */
	fake.mode = FAKE_404;
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, sizeof(pay)),
	    0);
	turn_fake(&got.ndone, 2);
	assert_false(got.ok);
	assert_int_equal(got.code, 404);
	/* the fake sent it on: success, whatever the real one said */
	fake.mode = FAKE_OK;
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, sizeof(pay)),
	    0);
	turn_fake(&got.ndone, 3);
	assert_true(got.ok);
	/* the fake silent once: asked again after 500 ms, a new transaction ID */
	fake.mode = FAKE_SILENT_ONCE;
	fake.signals = 0;
	t0 = loop_now();
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, sizeof(pay)),
	    0);
	turn_fake(&got.ndone, 4);
	assert_true(got.ok);
	assert_true(loop_now() - t0 >= RDV_CLIENT_RTO_MS);
	assert_int_equal(fake.signals, 2);
	assert_memory_not_equal(fake.tids[0], fake.tids[1], STUN_TID_LEN);
	/* the fake silent, the real one 404: the 404 once the time is up */
	fake.mode = FAKE_SILENT;
	fake.signals = 0;
	t0 = loop_now();
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, sizeof(pay)),
	    0);
	for (i = 0; i < 1200 && got.ndone < 5; i++) {
		loop_once(20);
		fake_serve();
	}
	assert_int_equal(got.ndone, 5);
	assert_int_equal(got.code, 404);
	assert_true(loop_now() - t0 >= RDV_CLIENT_BUDGET_MS);
	/* 500 ms doubling within 10 s: sent at 0, 0.5, 1.5, 3.5, 7.5 s */
	assert_int_equal(fake.signals, 5);

	rdv_client_stop();
	close(fake.fd);
	memset(&conf, 0, sizeof(conf));
	rdv_client_configure(&conf);
	rdv_server_stop();
}

static void
test_wall_clock(void **state)
{
	(void)state;
	/* after 2025-01-01 and in milliseconds */
	assert_true(rdv_client_wall_ms() > 1735689600000ULL);
	assert_true(rdv_client_wall_ms() < 1735689600000ULL * 10);
}

/* ---- over TCP: a server that UDP does not reach ---- */

/* The TCP fake: its listener, the connection it accepted, what came on it. */
static struct {
	int		lfd;
	int		fd;		/* -1: none accepted */
	int		accepted;	/* connections accepted */
	uint8_t		in[4 * STUN_MAX_MSG];
	size_t		inlen;
	int		registers;	/* REGISTERs answered */
	int		signals;	/* SIGNALs answered */
	uint8_t		rest[STUN_MAX_MSG];	/* an answer's second half */
	size_t		restlen;
} tf;

/*
 * Accept, read, answer every whole message: REGISTER and SIGNAL a
 * success.  The first REGISTER's answer goes in two halves, the second
 * at the next call: the client frames across reads.
 */
static void
tcp_fake_serve(void)
{
	struct sockaddr_storage mapped = tu_sa("203.0.113.200", 40001);
	struct rdv_msg m, a;
	uint8_t buf[STUN_MAX_MSG], skey[CRYPTO_KEY_LEN];
	ssize_t r;
	int fl, n;

	crypto_server_key(secret, skey);
	if (tf.fd == -1) {
		if ((tf.fd = accept4(tf.lfd, NULL, NULL, SOCK_NONBLOCK)) == -1)
			return;
		tf.accepted++;
		tf.inlen = tf.restlen = 0;
	}
	if (tf.restlen > 0) {
		assert_true(send(tf.fd, tf.rest, tf.restlen, MSG_NOSIGNAL) ==
		    (ssize_t)tf.restlen);
		tf.restlen = 0;
	}
	r = recv(tf.fd, tf.in + tf.inlen, sizeof(tf.in) - tf.inlen,
	    MSG_DONTWAIT);
	if (r == 0) {
		close(tf.fd);
		tf.fd = -1;
		return;
	}
	if (r > 0)
		tf.inlen += (size_t)r;
	while ((fl = stun_frame_len(tf.in, tf.inlen)) > 0 &&
	    (size_t)fl <= tf.inlen) {
		assert_int_equal(rdv_parse(tf.in, (size_t)fl, &m, NULL), 0);
		assert_true(rdv_verify(tf.in, (size_t)fl, &m, skey));
		memmove(tf.in, tf.in + fl, tf.inlen - (size_t)fl);
		tf.inlen -= (size_t)fl;
		fake_success(&m, &mapped, &a);
		if (m.method == RDV_REGISTER) {
			tf.registers++;
		} else {
			assert_int_equal(m.method, RDV_SIGNAL);
			tf.signals++;
		}
		n = rdv_build(buf, sizeof(buf), &a, skey);
		assert_true(n > 20);
		if (m.method == RDV_REGISTER && tf.registers == 1) {
			assert_true(send(tf.fd, buf, 7, MSG_NOSIGNAL) == 7);
			memcpy(tf.rest, buf + 7, (size_t)n - 7);
			tf.restlen = (size_t)n - 7;
			continue;
		}
		assert_true(send(tf.fd, buf, (size_t)n, MSG_NOSIGNAL) == n);
	}
}

/* Turn the loop, serving the TCP fake, until cond() (at most ms). */
static void
turn_tcp(int (*cond)(void), uint64_t ms)
{
	uint64_t t0 = loop_now();

	while (!cond() && loop_now() - t0 < ms) {
		loop_once(10);
		tcp_fake_serve();
	}
	assert_true(cond());
}

/* The TCP fake listening on ip:port. */
static void
tf_listen(const char *ip, uint16_t port)
{
	struct sockaddr_storage sa = tu_sa(ip, port);
	int on = 1;

	memset(&tf, 0, sizeof(tf));
	tf.fd = -1;
	assert_true((tf.lfd = socket(sa.ss_family, SOCK_STREAM |
	    SOCK_NONBLOCK, 0)) >= 0);
	(void)setsockopt(tf.lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	assert_int_equal(bind(tf.lfd, (struct sockaddr *)&sa,
	    sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in)), 0);
	assert_int_equal(listen(tf.lfd, 4), 0);
}

static int registered(void) { return rdv_client_count() == 1; }
static int signal_done_1(void);

/* A SIGNAL to cam.lan, answered by the TCP fake (its first). */
static void
tf_signal(struct rdv_signal_op *op)
{
	uint8_t pay[10];

	memset(pay, 0xa5, sizeof(pay));
	assert_int_equal(rdv_client_signal(op, "cam.lan", pay, sizeof(pay)),
	    0);
	turn_tcp(signal_done_1, 3000);
	assert_true(got.ok);
	assert_int_equal(tf.signals, 1);
}

/* The client stopped (its status gone), the TCP fake closed. */
static void
tf_end(struct config *conf)
{
	rdv_client_stop();
	assert_int_equal(status_rdv_count(), 0);
	if (tf.fd != -1)
		close(tf.fd);
	close(tf.lfd);
	rdv_client_on_signal(NULL, NULL);
	memset(conf, 0, sizeof(*conf));
	rdv_client_configure(conf);
}
static int unregistered(void) { return rdv_client_count() == 0; }
static int signal_done_1(void) { return got.ndone == 1; }
static int signal_in_1(void) { return got.nin == 1; }

/*
 * Nothing answers on the server's UDP port (none is bound there): 3 s
 * later the round goes on over TCP to the same port, registers, says so
 * in the status; SIGNALs go and come on the connection, a message in
 * pieces too; garbage from the server and a connection closed by it are
 * followed by a new connection and a new registration.
 */
static void
test_tcp_fallback(void **state)
{
	struct rdv_signal_op op;
	struct rdv_msg m;
	struct config conf;
	const struct status_rdv *st;
	uint8_t buf[STUN_MAX_MSG];
	uint16_t port = free_port();
	uint64_t t0;
	int n;

	(void)state;
	memset(&got, 0, sizeof(got));
	tf_listen("127.0.0.1", port);
	client_conf(&conf, &port, 1);
	rdv_client_on_signal(signal_in, &got);
	rdv_client_signal_init(&op, signal_done);
	t0 = loop_now();
	rdv_client_start();
	turn_tcp(registered, 8000);
	assert_true(loop_now() - t0 >= RDV_CLIENT_TCP_AFTER_MS);
	assert_int_equal(tf.accepted, 1);
	assert_true(tf.registers >= 1);
	assert_non_null(st = status_rdv_at(0));
	assert_string_equal(st->transport, "tcp");
	assert_string_equal(st->error, "");

	/* a SIGNAL out over the connection, answered there */
	tf_signal(&op);

	/* an indication from cam.lan, written a byte, then the rest */
	memset(&m, 0, sizeof(m));
	m.method = RDV_SIGNAL;
	m.cls = STUN_INDICATION;
	memset(m.tid, 0x78, STUN_TID_LEN);
	strcpy(m.network, "home");
	strcpy(m.node, "cam.lan");
	strcpy(m.peer, "nas.lan");
	m.server_time = rdv_client_wall_ms();
	m.payload_len = 5;
	memcpy(m.payload, "offer", 5);
	m.has = RDV_HAS_NETWORK | RDV_HAS_NODE | RDV_HAS_PEER |
	    RDV_HAS_PAYLOAD | RDV_HAS_SERVER_TIME;
	assert_true((n = rdv_build(buf, sizeof(buf), &m, id.server_key)) > 1);
	assert_true(send(tf.fd, buf, 1, MSG_NOSIGNAL) == 1);
	loop_once(10);
	loop_once(10);
	assert_int_equal(got.nin, 0);
	assert_true(send(tf.fd, buf + 1, (size_t)n - 1, MSG_NOSIGNAL) ==
	    n - 1);
	turn_tcp(signal_in_1, 3000);
	assert_string_equal(got.from, "cam.lan");
	assert_int_equal(got.len, 5);
	assert_memory_equal(got.payload, "offer", 5);

	/* not STUN from the server: the client closes, then registers anew */
	memset(buf, 0xff, 20);
	assert_true(send(tf.fd, buf, 20, MSG_NOSIGNAL) == 20);
	turn_tcp(unregistered, 3000);
	assert_non_null(strstr(status_rdv_at(0)->error, "not STUN"));
	turn_tcp(registered, 5000);
	assert_int_equal(tf.accepted, 2);
	assert_string_equal(status_rdv_at(0)->transport, "tcp");

	/* closed by the server (a restart): the same */
	close(tf.fd);
	tf.fd = -1;
	turn_tcp(unregistered, 3000);
	turn_tcp(registered, 5000);
	assert_int_equal(tf.accepted, 3);
	tf_end(&conf);
}

/*
 * The same over IPv6: a server at ::1 that UDP does not reach (nothing
 * on its UDP port) is registered with over TCP, and a SIGNAL goes and is
 * answered on the connection.
 */
static void
test_tcp_fallback6(void **state)
{
	struct rdv_signal_op op;
	struct config conf;
	uint16_t port = free_port();

	(void)state;
	memset(&got, 0, sizeof(got));
	tf_listen("::1", port);
	conf_host = "::1";
	client_conf(&conf, &port, 1);
	conf_host = "127.0.0.1";
	rdv_client_on_signal(signal_in, &got);
	rdv_client_signal_init(&op, signal_done);
	rdv_client_start();
	turn_tcp(registered, 8000);
	assert_int_equal(tf.accepted, 1);
	assert_string_equal(status_rdv_at(0)->transport, "tcp");
	tf_signal(&op);
	tf_end(&conf);
}

/* ---- back to UDP: the loop clock moved on by hand ---- */

static uint64_t clock_ahead;

static uint64_t
ahead_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	    clock_ahead;
}

/*
 * Turn the loop, serving the TCP fake, until a datagram comes to the UDP
 * socket u (at most 2 s): its message in *m, its sender in *from.
 */
static void
udp_wait(int u, struct rdv_msg *m, struct sockaddr_storage *from)
{
	uint8_t buf[STUN_MAX_MSG];
	socklen_t fl;
	ssize_t r = -1;
	int i;

	for (i = 0; i < 200 && r <= 0; i++) {
		loop_once(10);
		tcp_fake_serve();
		fl = sizeof(*from);
		r = recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)from, &fl);
	}
	assert_true(r > 0);
	assert_int_equal(rdv_parse(buf, (size_t)r, m, NULL), 0);
}

static uint64_t expires0;
static int renewed(void) { return status_rdv_at(0)->expires > expires0; }
static int tf_closed(void) { return tf.fd == -1; }
static int on_udp(void)
{
	return strcmp(status_rdv_at(0)->transport, "udp") == 0;
}

/*
 * On TCP (UDP silent: a socket there that answers nothing), the round
 * RDV_CLIENT_UDP_AGAIN_MS later sends its REGISTER over UDP; unanswered
 * RDV_CLIENT_TCP_AFTER_MS, the round goes on over the same connection.
 * The next try is answered: the node is on UDP, the connection closed,
 * and a SIGNAL goes over UDP.
 */
static void
test_udp_back(void **state)
{
	struct sockaddr_storage from, sa, mapped = tu_sa("203.0.113.200", 40001);
	struct rdv_signal_op op;
	struct rdv_msg m, a;
	struct config conf;
	uint8_t buf[STUN_MAX_MSG], skey[CRYPTO_KEY_LEN], pay[4];
	uint16_t port = free_port();
	int u, n, regs;

	(void)state;
	memset(&got, 0, sizeof(got));
	clock_ahead = 0;
	loop_set_clock(ahead_clock);
	crypto_server_key(secret, skey);
	tf_listen("127.0.0.1", port);
	sa = tu_sa("127.0.0.1", port);
	assert_true((u = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	assert_int_equal(bind(u, (struct sockaddr *)&sa,
	    sizeof(struct sockaddr_in)), 0);
	client_conf(&conf, &port, 1);
	rdv_client_on_signal(signal_in, &got);
	rdv_client_signal_init(&op, signal_done);
	rdv_client_start();
	udp_wait(u, &m, &from);
	assert_int_equal(m.method, RDV_REGISTER);
	clock_ahead += RDV_CLIENT_TCP_AFTER_MS;
	turn_tcp(registered, 3000);
	assert_string_equal(status_rdv_at(0)->transport, "tcp");
	while (recv(u, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;

	/* a minute on: the round's REGISTER over UDP, not answered */
	clock_ahead += RDV_CLIENT_UDP_AGAIN_MS;
	regs = tf.registers;
	udp_wait(u, &m, &from);
	assert_int_equal(m.method, RDV_REGISTER);
	assert_int_equal(tf.registers, regs);
	expires0 = status_rdv_at(0)->expires;
	clock_ahead += RDV_CLIENT_TCP_AFTER_MS;
	turn_tcp(renewed, 3000);
	assert_int_equal(tf.registers, regs + 1);
	assert_int_equal(tf.accepted, 1);
	assert_string_equal(status_rdv_at(0)->transport, "tcp");

	/* a minute on again: answered over UDP, back to UDP */
	clock_ahead += RDV_CLIENT_UDP_AGAIN_MS;
	udp_wait(u, &m, &from);
	assert_int_equal(m.method, RDV_REGISTER);
	fake_success(&m, &mapped, &a);
	assert_true((n = rdv_build(buf, sizeof(buf), &a, skey)) > 0);
	assert_true(sendto(u, buf, (size_t)n, 0, (struct sockaddr *)&from,
	    sizeof(struct sockaddr_in)) == n);
	turn_tcp(on_udp, 2000);
	turn_tcp(tf_closed, 2000);
	assert_true(registered());
	assert_int_equal(tf.accepted, 1);

	/* a SIGNAL goes over UDP now */
	memset(pay, 0x5a, sizeof(pay));
	assert_int_equal(rdv_client_signal(&op, "cam.lan", pay, sizeof(pay)),
	    0);
	udp_wait(u, &m, &from);
	assert_int_equal(m.method, RDV_SIGNAL);

	rdv_client_stop();
	loop_set_clock(NULL);
	close(u);
	close(tf.lfd);
	rdv_client_on_signal(NULL, NULL);
	memset(&conf, 0, sizeof(conf));
	rdv_client_configure(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_id, setup),
		cmocka_unit_test_setup(test_register_build, setup),
		cmocka_unit_test_setup(test_turn_loop, setup),
		cmocka_unit_test_setup(test_register_build_refused, setup),
		cmocka_unit_test_setup(test_register_answer, setup),
		cmocka_unit_test_setup(test_register_answer_wrong_mac, setup),
		cmocka_unit_test_setup(test_register_answer_wrong_tid, setup),
		cmocka_unit_test_setup(test_register_answer_stale_server_time,
		    setup),
		cmocka_unit_test_setup(test_register_answer_others, setup),
		cmocka_unit_test_setup(test_reach_build, setup),
		cmocka_unit_test_setup(test_reach_check, setup),
		cmocka_unit_test_setup(test_dialback, setup),
		cmocka_unit_test(test_reach_verdict),
		cmocka_unit_test(test_wall_clock),
		cmocka_unit_test_setup(test_signal_build, setup),
		cmocka_unit_test_setup(test_signal_indication, setup),
		cmocka_unit_test_setup(test_signal_loop, setup),
		cmocka_unit_test_setup(test_signal_two_servers, setup),
		cmocka_unit_test_setup(test_tcp_fallback, setup),
		cmocka_unit_test_setup(test_tcp_fallback6, setup),
		cmocka_unit_test_setup(test_udp_back, setup),
	};

	rdv_client_init();
	return TU_RUN("rdv-client", tests);
}
