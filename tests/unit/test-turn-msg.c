/* SPDX-License-Identifier: ISC */
/* Unit tests of turn-msg.c: RFC 5769's long-term request, coturn's messages, ChannelData, TCP framing, refusals. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "crypto.h"
#include "turn-msg.h"

/*
 * RFC 5769 section 2.4: a Binding request with the long-term credential
 * mechanism; USERNAME "<U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>"
 * (18 bytes of UTF-8), REALM "example.org", password "TheMatrIX" (the
 * RFC's bytes after SASLprep).  The same bytes as
 * tests/data/rfc5769/long-term-request.bin.
 */
static const char rfc_long_term[] =
    "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e3"
    "83aae38383e382afe382b900000015001c662f2f3439396b39353464364f4c"
    "33346f4c394653547679363473410014000b6578616d706c652e6f72670000"
    "080014f67024656dd64a3e02b8e0712e85c9a28ca89666";

/*
 * Real traffic between coturn 4.6.1 (Debian 12's coturn 4.6.1-1) and its
 * test client turnutils_uclient, captured by tests/data/turn/capture.sh
 * (which holds every message of the run as NN-*.bin): in a network
 * namespace of its own (ip netns add turnmsg-cap) with 203.0.113.3 (the
 * server), .10 (the client) and .20 (a peer) on lo,
 *
 *   turnserver -n --no-cli --no-tls --no-dtls -L 203.0.113.3 \
 *       --relay-ip 203.0.113.3 --use-auth-secret \
 *       --static-auth-secret=natmapd-test-secret --realm=example.test
 *   turnutils_peer -L 203.0.113.20 -p 3480
 *   turnutils_uclient -L 203.0.113.10 -W natmapd-test-secret -u alpha \
 *       -n 2 -l 32 -e 203.0.113.20 -r 3480 -c -g 203.0.113.3   (channels)
 *   ... -e 203.0.113.20 -r 3480 -c -s 203.0.113.3   (Send/Data indications)
 *   ... -T 203.0.113.3   (RFC 6062: TCP relay between two clients)
 *
 * then coturn restarted and the first authenticated Allocate sent again
 * (from python3, 203.0.113.10:40000): 438, a nonce it never gave.  The
 * packets: tcpdump -i lo 'port 3478', cut by capture.py (TCP streams
 * reassembled, then cut into frames).  The client's credentials are the
 * TURN REST API's: username "EXPIRY:alpha", password
 * base64(HMAC-SHA1("natmapd-test-secret", username)).
 */
#define CAP_SECRET	"natmapd-test-secret"
#define CAP_REALM	"example.test"

static const struct cap {
	const char	*file;
	const char	*hex;
} caps[] = {
	{ "04-s2c-udp-allocate-error.bin",
	    "011300582112a442940aef63dcd8107a798a64600009001000000401"
	    "556e617574686f72697a656400150010363065663432663265306631"
	    "393230340014000c6578616d706c652e7465737480220014436f7475"
	    "726e2d342e362e312027476f7273742780280004c1c2f177" },
	{ "08-c2s-udp-allocate-request.bin",
	    "0003007c2112a4421af6cfc98e65ef15c9729cf60019000411000000"
	    "000d00040000030900180001000000000017000401000000001a0000"
	    "00060010313739363535383136313a616c7068610015001036306566"
	    "3432663265306631393230340014000c6578616d706c652e74657374"
	    "000800147d709ff015d3ba1e3741c5d27f2604ef06318c2080280004"
	    "8c8a4904" },
	{ "09-s2c-udp-allocate-success.bin",
	    "010300582112a4421af6cfc98e65ef15c9729cf6001600080001fda6"
	    "ea12d541002000080001f4e3ea12d548000d00040000030980220014"
	    "436f7475726e2d342e362e312027476f72737427000800146beaf424"
	    "f6db23238ca7d2f55e504cd7a3efde5180280004b5cad3c3" },
	{ "18-c2s-udp-channelbind-request.bin",
	    "0009006c2112a442eebefb1f3accc85170a3ce4a000c00045a030000"
	    "0012000800012c8bea12d55600060010313739363535383136313a61"
	    "6c70686100150010376265323339343039336635356663650014000c"
	    "6578616d706c652e7465737400080014b49dc8436c4d4ebe528eb991"
	    "7a211bab733933fe80280004b8508e57" },
	{ "19-s2c-udp-channelbind-success.bin",
	    "010900382112a442eebefb1f3accc85170a3ce4a80220014436f7475"
	    "726e2d342e362e312027476f7273742700080014f3870de4a85f6f50"
	    "d16e406b777e0494751a4e3e80280004e455f5ee" },
	{ "27-c2s-udp-createpermission-request.bin",
	    "000800642112a4425f2eb126b3d68da914b33fdc0012000800012c8a"
	    "ea12d55600060010313739363535383136313a616c70686100150010"
	    "376265323339343039336635356663650014000c6578616d706c652e"
	    "746573740008001428227aaf167faf920a78256b1044a0d5e954813f"
	    "802800044e533a2d" },
	{ "30-s2c-udp-createpermission-success.bin",
	    "010800382112a4425f2eb126b3d68da914b33fdc80220014436f7475"
	    "726e2d342e362e312027476f727374270008001459a44ca4455faae8"
	    "afb4b47a2b329741ee3f882f80280004bd12841a" },
	{ "32-c2s-udp-channeldata-593e.bin",
	    "593e00200000000007070707921f0000000000000707070707070707"
	    "0707070707070707" },
	{ "58-c2s-udp-send-indication.bin",
	    "001600382112a44293d9c8ce415361b034429f770013002000000000"
	    "070707071b0e00000000000007070707070707070707070707070707"
	    "0012000800012c8aea12d55680280004d9b117dd" },
	{ "59-s2c-udp-data-indication.bin",
	    "001700502112a4424d3f877aca3cd107a32297ce0013002000000000"
	    "070707071b0e00000000000007070707070707070707070707070707"
	    "0012000800012c8aea12d55680220014436f7475726e2d342e362e31"
	    "2027476f7273742780280004af7dfeed" },
	{ "62-c2s-udp-refresh-request.bin",
	    "000400602112a442311ce8552a36d1cab93b3d95000d000400000000"
	    "00060010313739363535383137313a616c7068610015001036623665"
	    "6666613464663634373830330014000c6578616d706c652e74657374"
	    "0008001494c4c5968c025e2642c049988da05c91f6795c5a80280004"
	    "a31bd8f2" },
	{ "63-s2c-udp-refresh-success.bin",
	    "010400402112a442311ce8552a36d1cab93b3d95000d000400000000"
	    "80220014436f7475726e2d342e362e312027476f7273742700080014"
	    "c30babef8c236811cf3f876588746cd935a22e1980280004403aa101" },
	{ "67-s2c-tcp1-allocate-error.bin",
	    "011300582112a4423b282ad2ee8cd5e8658683b00009001000000401"
	    "556e617574686f72697a656400150010663866303330623538383262"
	    "356434340014000c6578616d706c652e7465737480220014436f7475"
	    "726e2d342e362e312027476f72737427802800043f109a8f" },
	{ "68-s2c-tcp1-allocate-success.bin",
	    "010300582112a44274e78b7c6ea68b47bc386d19001600080001fdf6"
	    "ea12d541002000080001a0c7ea12d548000d00040000030980220014"
	    "436f7475726e2d342e362e312027476f7273742700080014662f4e3d"
	    "726d5113e4e3323c0ab3e2c1bf1f535b8028000422ba3aa7" },
	{ "74-c2s-tcp2-connect-request.bin",
	    "000a00642112a442e28cae56f37ffcc84c46de0c001200080001c6a6"
	    "ea12d54100060010313739363535383137373a616c70686100150010"
	    "653462373134643861666334666630370014000c6578616d706c652e"
	    "7465737400080014f43cfa09e57d47ad5b03768b9add34d77cff23f7"
	    "80280004c738994a" },
	{ "79-s2c-tcp2-connect-success.bin",
	    "010a00202112a442e28cae56f37ffcc84c46de0c002a0004777dcf01"
	    "00080014afe5e5cae53c50b92da16f58dfca5597dbd75735" },
	{ "88-s2c-tcp3-connectionattempt-indication.bin",
	    "001c00342112a442bc567bb3b1085c153a3ad2cb002a000472c25b00"
	    "001200080001db2bea12d54180220014436f7475726e2d342e362e31"
	    "2027476f727374278028000440e5cb70" },
	{ "89-c2s-tcp4-connectionbind-request.bin",
	    "000b00602112a442539b3b1cfb27a9787e0d297e002a000472c25b00"
	    "00060010313739363535383137373a616c7068610015001061363764"
	    "6136636262313865666366650014000c6578616d706c652e74657374"
	    "0008001466318f0f559433cbfc3522b9abbbddf0522eb1bb80280004"
	    "c108a870" },
	{ "90-s2c-tcp4-connectionbind-success.bin",
	    "010b00382112a442539b3b1cfb27a9787e0d297e80220014436f7475"
	    "726e2d342e362e312027476f72737427000800144cfda4a5cf6535a5"
	    "d20992fde251604f8be285d880280004143a17b7" },
	{ "94-s2c-udp-allocate-error.bin",
	    "011300582112a4421af6cfc98e65ef15c9729cf60009001000000426"
	    "57726f6e67206e6f6e63650000150010333536396161326461616330"
	    "626432360014000c6578616d706c652e7465737480220014436f7475"
	    "726e2d342e362e312027476f727374278028000468687063" },
};

/* The indexes of caps[] the tests name. */
enum {
	C_ALLOC_401, C_ALLOC_REQ, C_ALLOC_OK, C_CHBIND_REQ, C_CHBIND_OK,
	C_PERM_REQ, C_PERM_OK, C_CHDATA, C_SEND, C_DATA, C_REFRESH0_REQ,
	C_REFRESH0_OK, C_TCP_ALLOC_401, C_TCP_ALLOC_OK, C_CONNECT_REQ,
	C_CONNECT_OK, C_ATTEMPT, C_CBIND_REQ, C_CBIND_OK, C_STALE,
	C_COUNT
};

/* The bytes of a capture (or of rfc_long_term) into a fresh buffer of their exact size. */
static uint8_t *
unhex(const char *hex, size_t *len)
{
	uint8_t *buf = malloc(strlen(hex) / 2 + 1);

	assert_non_null(buf);
	*len = tu_unhex(hex, buf, strlen(hex) / 2);
	return buf;
}

static uint8_t *
cap_bytes(int i, size_t *len)
{
	assert_true(i >= 0 && (size_t)i < TU_ARRAY_LEN(caps));
	return unhex(caps[i].hex, len);
}

static int
parse_fn(const uint8_t *buf, size_t len, void *out, const char **err)
{
	return turn_parse(buf, len, out, err);
}

/* Parsed from an exact-size copy; m's pointers then point into buf. */
static void
parse_ok(const uint8_t *buf, size_t len, struct turn_msg *m)
{
	const char *err = NULL;

	tu_parse_ok(parse_fn, buf, len, m, sizeof(*m));
	assert_int_equal(turn_parse(buf, len, m, &err), 0);
	assert_null(err);
}

static void
parse_fails(const uint8_t *buf, size_t len, const char *why)
{
	tu_parse_fails(parse_fn, buf, len, sizeof(struct turn_msg), why);
}

static void
assert_bytes(const uint8_t *p, size_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

/* The key coturn holds for username: the REST password, then MD5(u:realm:p). */
static void
cap_key(const char *username, uint8_t key[TURN_KEY_LEN])
{
	struct crypto_part part = { username, strlen(username) };
	uint8_t mac[CRYPTO_SHA1_LEN];
	char password[64];
	int n;

	crypto_hmac_sha1(CAP_SECRET, strlen(CAP_SECRET), &part, 1, mac);
	n = crypto_base64(mac, sizeof(mac), password, sizeof(password));
	assert_int_equal(n, 28);
	turn_key(username, strlen(username), CAP_REALM, strlen(CAP_REALM),
	    password, (size_t)n, key);
}

/* A request's credentials, from the parsed request itself, with cap_key's key. */
static void
cap_auth(const struct turn_msg *m, struct turn_auth *a,
    uint8_t key[TURN_KEY_LEN])
{
	char user[TURN_USERNAME_MAX + 1];

	assert_non_null(m->username);
	memcpy(user, m->username, m->username_len);
	user[m->username_len] = '\0';
	cap_key(user, key);
	memset(a, 0, sizeof(*a));
	a->username = m->username;
	a->username_len = m->username_len;
	a->realm = m->realm;
	a->realm_len = m->realm_len;
	a->nonce = m->nonce;
	a->nonce_len = m->nonce_len;
	a->key = key;
	a->key_len = TURN_KEY_LEN;
}

/* The answer's MESSAGE-INTEGRITY is right under the request's key, wrong under another. */
static void
assert_mi(int answer, int request)
{
	struct turn_msg m, r;
	struct turn_auth a;
	uint8_t key[TURN_KEY_LEN], *buf, *req;
	size_t len, reqlen;

	req = cap_bytes(request, &reqlen);
	parse_ok(req, reqlen, &r);
	cap_auth(&r, &a, key);
	assert_int_equal(turn_verify(req, reqlen, &r, key, sizeof(key)), 0);
	buf = cap_bytes(answer, &len);
	parse_ok(buf, len, &m);
	assert_true(m.has_integrity);
	assert_int_equal(turn_verify(buf, len, &m, key, sizeof(key)), 0);
	key[0] ^= 1;
	assert_int_equal(turn_verify(buf, len, &m, key, sizeof(key)), -1);
	assert_int_equal(turn_verify(req, reqlen, &r, key, sizeof(key)), -1);
	free(buf);
	free(req);
}

/*
 * The request rebuilt by turn_finish after add(), from what it parsed to
 * (the same order of attributes as turnutils_uclient), equals the
 * capture byte for byte: its MESSAGE-INTEGRITY and FINGERPRINT too.
 */
static void
assert_rebuilt(int i, void (*add)(struct turn_builder *,
    const struct turn_msg *))
{
	struct turn_builder b;
	struct turn_msg m;
	struct turn_auth a;
	uint8_t key[TURN_KEY_LEN], *buf, out[512];
	size_t len, cut;
	int n;

	buf = cap_bytes(i, &len);
	parse_ok(buf, len, &m);
	turn_begin(&b, out, sizeof(out), m.method, m.cls, m.tid);
	add(&b, &m);
	if (m.has_integrity) {
		cap_auth(&m, &a, key);
		n = turn_finish(&b, &a, m.has_fingerprint);
	} else
		n = turn_finish(&b, NULL, m.has_fingerprint);
	assert_int_equal(n, (int)len);
	assert_memory_equal(out, buf, len);
	/* every buffer too small: -1, never a write past it */
	for (cut = 0; cut < len; cut++) {
		uint8_t *small = malloc(cut == 0 ? 1 : cut);

		assert_non_null(small);
		turn_begin(&b, small, cut, m.method, m.cls, m.tid);
		add(&b, &m);
		assert_int_equal(turn_finish(&b, m.has_integrity ? &a : NULL,
		    m.has_fingerprint), -1);
		free(small);
	}
	free(buf);
}

/*
 * coturn's answer built again from what it parsed to, under the key of
 * the request it answered (add() lays out what comes before SOFTWARE):
 * the same bytes, coturn's MESSAGE-INTEGRITY and FINGERPRINT included.
 */
static void
assert_answer_rebuilt(int answer, int request,
    void (*add)(struct turn_builder *, const struct turn_msg *))
{
	struct turn_builder b;
	struct turn_msg m, r;
	struct turn_auth a;
	uint8_t key[TURN_KEY_LEN], *buf, *req, out[512];
	size_t len, reqlen;

	req = cap_bytes(request, &reqlen);
	parse_ok(req, reqlen, &r);
	cap_auth(&r, &a, key);
	buf = cap_bytes(answer, &len);
	parse_ok(buf, len, &m);
	turn_begin(&b, out, sizeof(out), m.method, m.cls, m.tid);
	if (add != NULL)
		add(&b, &m);
	turn_add_bytes(&b, STUN_A_SOFTWARE, m.software, strlen(m.software));
	assert_int_equal(turn_finish_key(&b, key, sizeof(key),
	    m.has_fingerprint), (int)len);
	assert_memory_equal(out, buf, len);
	free(buf);
	free(req);
}

/* ---- RFC 5769 2.4 ---- */

static void
test_rfc5769_long_term(void **state)
{
	static const char user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa"
	    "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
	struct turn_builder b;
	struct turn_auth a;
	struct turn_msg m;
	uint8_t key[TURN_KEY_LEN], *buf, out[256];
	char *file;
	size_t len, flen;

	(void)state;
	buf = unhex(rfc_long_term, &len);
	file = tu_read("rfc5769/long-term-request.bin", &flen);
	assert_int_equal(flen, len);
	assert_memory_equal(file, buf, len);
	free(file);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_bytes(m.username, m.username_len, user);
	assert_bytes(m.realm, m.realm_len, "example.org");
	assert_bytes(m.nonce, m.nonce_len, "f//499k954d6OL34oL9FSTvy64sA");
	assert_true(m.has_integrity);
	assert_int_equal(m.integrity_off, len - 24);
	assert_false(m.has_fingerprint);
	assert_int_equal(m.n_unknown, 0);
	turn_key(user, strlen(user), "example.org", 11, "TheMatrIX", 9, key);
	assert_int_equal(turn_verify(buf, len, &m, key, sizeof(key)), 0);
	/* the same request built: the same bytes, the MAC included */
	a.username = user;
	a.username_len = strlen(user);
	a.realm = "example.org";
	a.realm_len = 11;
	a.nonce = "f//499k954d6OL34oL9FSTvy64sA";
	a.nonce_len = 28;
	a.key = key;
	a.key_len = sizeof(key);
	turn_begin(&b, out, sizeof(out), STUN_BINDING, STUN_REQUEST, m.tid);
	assert_int_equal(turn_finish(&b, &a, 0), (int)len);
	assert_memory_equal(out, buf, len);
	/* the wrong password */
	turn_key(user, strlen(user), "example.org", 11, "TheMatrix", 9, key);
	assert_int_equal(turn_verify(buf, len, &m, key, sizeof(key)), -1);
	free(buf);
}

/* ---- coturn ---- */

/* Each capture above is the file capture.sh wrote. */
static void
test_cap_files(void **state)
{
	char rel[128], *file;
	uint8_t *buf;
	size_t i, len, flen;

	(void)state;
	assert_int_equal(TU_ARRAY_LEN(caps), C_COUNT);
	for (i = 0; i < TU_ARRAY_LEN(caps); i++) {
		snprintf(rel, sizeof(rel), "turn/%s", caps[i].file);
		file = tu_read(rel, &flen);
		buf = cap_bytes((int)i, &len);
		assert_int_equal(flen, len);
		assert_memory_equal(file, buf, len);
		free(file);
		free(buf);
	}
}

/* The 401 to an Allocate without credentials: REALM and NONCE to answer with. */
static void
test_cap_401(void **state)
{
	struct turn_msg m;
	uint8_t *buf;
	size_t len;
	int i;

	(void)state;
	for (i = C_ALLOC_401; i <= C_TCP_ALLOC_401;
	    i += C_TCP_ALLOC_401 - C_ALLOC_401) {
		buf = cap_bytes(i, &len);
		parse_ok(buf, len, &m);
		assert_int_equal(m.method, TURN_ALLOCATE);
		assert_int_equal(m.cls, STUN_ERROR);
		assert_int_equal(m.error_code, TURN_ERR_UNAUTHORIZED);
		assert_string_equal(m.error_reason, "Unauthorized");
		assert_bytes(m.realm, m.realm_len, CAP_REALM);
		assert_bytes(m.nonce, m.nonce_len, i == C_ALLOC_401 ?
		    "60ef42f2e0f19204" : "f8f030b5882b5d44");
		assert_string_equal(m.software, "Coturn-4.6.1 'Gorst'");
		assert_false(m.has_integrity);
		assert_true(m.has_fingerprint);
		assert_int_equal(m.n_unknown, 0);
		free(buf);
	}
}

/* 438 from a restarted coturn: a new NONCE (coturn's reason: "Wrong nonce"). */
static void
test_cap_438(void **state)
{
	struct turn_msg m;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = cap_bytes(C_STALE, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_ALLOCATE);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(m.error_code, TURN_ERR_STALE_NONCE);
	assert_string_equal(m.error_reason, "Wrong nonce");
	assert_bytes(m.realm, m.realm_len, CAP_REALM);
	assert_bytes(m.nonce, m.nonce_len, "3569aa2daac0bd26");
	assert_false(m.has_integrity);
	free(buf);
}

static void
add_allocate(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_transport(b, m->transport);
	turn_add_u32(b, TURN_A_LIFETIME, m->lifetime);
	/* uclient asks for EVEN-PORT (R bit 0) too: 1 byte */
	turn_add_bytes(b, TURN_A_EVEN_PORT, "", 1);
	turn_add_family(b, AF_INET);
	turn_add_bytes(b, TURN_A_DONT_FRAGMENT, NULL, 0);
}

/* coturn's Allocate success: XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME */
static void
add_allocated(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_addr(b, TURN_A_XOR_RELAYED_ADDRESS, &m->relayed);
	turn_add_addr(b, STUN_A_XOR_MAPPED_ADDRESS, &m->xor_mapped);
	turn_add_u32(b, TURN_A_LIFETIME, m->lifetime);
}

static void
test_cap_allocate(void **state)
{
	struct turn_msg m;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = cap_bytes(C_ALLOC_REQ, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_ALLOCATE);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_int_equal(m.transport, TURN_TRANSPORT_UDP);
	assert_int_equal(m.family, STUN_FAMILY_IPV4);
	assert_true(m.has_lifetime);
	assert_int_equal(m.lifetime, 777);
	assert_true(m.dont_fragment);
	assert_bytes(m.username, m.username_len, "1796558161:alpha");
	assert_bytes(m.nonce, m.nonce_len, "60ef42f2e0f19204");
	assert_bytes(m.realm, m.realm_len, CAP_REALM);
	assert_true(m.has_integrity);
	assert_true(m.has_fingerprint);
	assert_int_equal(m.n_unknown, 0);
	free(buf);
	assert_rebuilt(C_ALLOC_REQ, add_allocate);

	buf = cap_bytes(C_ALLOC_OK, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_ALLOCATE);
	assert_int_equal(m.cls, STUN_SUCCESS);
	tu_assert_sa(&m.relayed, "203.0.113.3:56500");
	tu_assert_sa(&m.xor_mapped, "203.0.113.10:54769");
	assert_int_equal(m.lifetime, 777);
	assert_string_equal(m.software, "Coturn-4.6.1 'Gorst'");
	assert_true(m.has_fingerprint);
	free(buf);
	assert_mi(C_ALLOC_OK, C_ALLOC_REQ);
	assert_answer_rebuilt(C_ALLOC_OK, C_ALLOC_REQ, add_allocated);

	/* over TCP (RFC 6062): the same answer to REQUESTED-TRANSPORT TCP */
	buf = cap_bytes(C_TCP_ALLOC_OK, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.cls, STUN_SUCCESS);
	tu_assert_sa(&m.relayed, "203.0.113.3:56548");
	tu_assert_sa(&m.xor_mapped, "203.0.113.10:33237");
	free(buf);
}

/*
 * uclient binds channels of RFC 5766's range (0x5a03), which
 * turn_add_channel refuses (RFC 8656's is 0x4000-0x4fff): laid out by
 * hand, as turn_add_channel lays them out.
 */
static void
add_channel_bind(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_u32(b, TURN_A_CHANNEL_NUMBER, (uint32_t)m->channel << 16);
	turn_add_addr(b, TURN_A_XOR_PEER_ADDRESS, &m->peer);
}

static void
add_peer(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_addr(b, TURN_A_XOR_PEER_ADDRESS, &m->peer);
}

static void
test_cap_permission_channel(void **state)
{
	struct turn_msg m;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = cap_bytes(C_CHBIND_REQ, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_CHANNEL_BIND);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_int_equal(m.channel, 0x5a03);
	tu_assert_sa(&m.peer, "203.0.113.20:3481");
	assert_int_equal(m.n_peers, 1);
	free(buf);
	assert_rebuilt(C_CHBIND_REQ, add_channel_bind);
	assert_mi(C_CHBIND_OK, C_CHBIND_REQ);
	assert_answer_rebuilt(C_CHBIND_OK, C_CHBIND_REQ, NULL);

	buf = cap_bytes(C_PERM_REQ, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_CREATE_PERMISSION);
	tu_assert_sa(&m.peer, "203.0.113.20:3480");
	free(buf);
	assert_rebuilt(C_PERM_REQ, add_peer);
	assert_mi(C_PERM_OK, C_PERM_REQ);
}

static void
add_refresh(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_u32(b, TURN_A_LIFETIME, m->lifetime);
}

/* Refresh with LIFETIME 0: the allocation's end. */
static void
test_cap_refresh(void **state)
{
	struct turn_msg m;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_rebuilt(C_REFRESH0_REQ, add_refresh);
	assert_mi(C_REFRESH0_OK, C_REFRESH0_REQ);
	assert_answer_rebuilt(C_REFRESH0_OK, C_REFRESH0_REQ, add_refresh);
	buf = cap_bytes(C_REFRESH0_OK, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_REFRESH);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_true(m.has_lifetime);
	assert_int_equal(m.lifetime, 0);
	free(buf);
}

static void
add_send(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_bytes(b, TURN_A_DATA, m->data, m->data_len);
	turn_add_addr(b, TURN_A_XOR_PEER_ADDRESS, &m->peer);
}

/* Send and Data indications: no credentials, DATA and XOR-PEER-ADDRESS. */
static void
test_cap_indications(void **state)
{
	struct turn_msg s, d;
	uint8_t *sbuf, *dbuf;
	size_t slen, dlen;

	(void)state;
	sbuf = cap_bytes(C_SEND, &slen);
	parse_ok(sbuf, slen, &s);
	assert_int_equal(s.method, TURN_SEND);
	assert_int_equal(s.cls, STUN_INDICATION);
	assert_int_equal(s.data_len, 32);
	tu_assert_sa(&s.peer, "203.0.113.20:3480");
	assert_false(s.has_integrity);
	assert_rebuilt(C_SEND, add_send);

	/* the peer echoed it: the same 32 bytes come back in a Data indication */
	dbuf = cap_bytes(C_DATA, &dlen);
	parse_ok(dbuf, dlen, &d);
	assert_int_equal(d.method, TURN_DATA);
	assert_int_equal(d.cls, STUN_INDICATION);
	tu_assert_sa(&d.peer, "203.0.113.20:3480");
	assert_int_equal(d.data_len, 32);
	assert_memory_equal(d.data, s.data, 32);
	assert_ptr_equal(d.data, dbuf + 24);
	assert_string_equal(d.software, "Coturn-4.6.1 'Gorst'");
	free(sbuf);
	free(dbuf);
}

static void
add_connect(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_addr(b, TURN_A_XOR_PEER_ADDRESS, &m->peer);
}

static void
add_connection_bind(struct turn_builder *b, const struct turn_msg *m)
{
	turn_add_u32(b, TURN_A_CONNECTION_ID, m->connection_id);
}

/* RFC 6062: Connect, ConnectionAttempt, ConnectionBind. */
static void
test_cap_tcp_relay(void **state)
{
	struct turn_msg m;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = cap_bytes(C_CONNECT_REQ, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_CONNECT);
	assert_int_equal(m.cls, STUN_REQUEST);
	tu_assert_sa(&m.peer, "203.0.113.3:59316");
	free(buf);
	assert_rebuilt(C_CONNECT_REQ, add_connect);

	/* coturn answers Connect without a FINGERPRINT, asked one or not */
	buf = cap_bytes(C_CONNECT_OK, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_CONNECT);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_true(m.has_connection_id);
	assert_int_equal(m.connection_id, 2004733697);
	assert_false(m.has_fingerprint);
	free(buf);
	assert_mi(C_CONNECT_OK, C_CONNECT_REQ);

	buf = cap_bytes(C_ATTEMPT, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_CONNECTION_ATTEMPT);
	assert_int_equal(m.cls, STUN_INDICATION);
	assert_int_equal(m.connection_id, 1925339904);
	tu_assert_sa(&m.peer, "203.0.113.3:64057");
	assert_false(m.has_integrity);
	free(buf);

	buf = cap_bytes(C_CBIND_REQ, &len);
	parse_ok(buf, len, &m);
	assert_int_equal(m.method, TURN_CONNECTION_BIND);
	assert_int_equal(m.connection_id, 1925339904);
	free(buf);
	assert_rebuilt(C_CBIND_REQ, add_connection_bind);
	assert_mi(C_CBIND_OK, C_CBIND_REQ);
	assert_answer_rebuilt(C_CBIND_OK, C_CBIND_REQ, NULL);
}

/* ---- ChannelData ---- */

static int
chdata_exact(const uint8_t *buf, size_t len, int tcp, uint16_t *ch,
    const uint8_t **data, size_t *dlen, const char **err)
{
	uint8_t *copy = malloc(len == 0 ? 1 : len);
	int rc;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	*err = NULL;
	rc = turn_parse_channel_data(copy, len, tcp, ch, data, dlen, err);
	if (rc == 0) {
		assert_null(*err);
		assert_true(*data == copy + TURN_CHANNEL_HDR_LEN);
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(*err);
		assert_int_equal(*ch, 0);
		assert_null(*data);
	}
	free(copy);
	return rc;
}

static void
test_channel_data(void **state)
{
	uint8_t *buf, out[64];
	const uint8_t *data;
	const char *err;
	uint16_t ch;
	size_t len, dlen;

	(void)state;
	buf = cap_bytes(C_CHDATA, &len);
	assert_int_equal(chdata_exact(buf, len, 0, &ch, &data, &dlen, &err),
	    0);
	assert_int_equal(ch, 0x593e);
	assert_int_equal(dlen, 32);
	assert_int_equal(turn_frame_len(buf, len), (int)len);
	/* natmapd binds 0x4000-0x4fff only: the same on 0x493e */
	assert_int_equal(turn_build_channel_data(out, sizeof(out), ch,
	    buf + 4, dlen, 0), -1);
	assert_int_equal(turn_build_channel_data(out, sizeof(out), 0x493e,
	    buf + 4, dlen, 0), (int)len);
	assert_int_equal(out[0], 0x49);
	assert_memory_equal(out + 1, buf + 1, len - 1);
	free(buf);

	/* 5 bytes: 9 over UDP, 12 over TCP (3 zeros) */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(turn_build_channel_data(out, sizeof(out), 0x4000,
	    "hello", 5, 1), 12);
	assert_memory_equal(out, "\x40\x00\x00\x05hello\0\0\0", 12);
	assert_int_equal(turn_frame_len(out, 4), 12);
	assert_int_equal(chdata_exact(out, 12, 1, &ch, &data, &dlen, &err), 0);
	assert_int_equal(dlen, 5);
	assert_int_equal(chdata_exact(out, 9, 0, &ch, &data, &dlen, &err), 0);
	assert_int_equal(chdata_exact(out, 12, 0, &ch, &data, &dlen, &err), 0);
	assert_int_equal(chdata_exact(out, 9, 1, &ch, &data, &dlen, &err), -1);
	assert_string_equal(err, "ChannelData over TCP not padded to 4");
	out[12] = 0;
	assert_int_equal(chdata_exact(out, 13, 0, &ch, &data, &dlen, &err),
	    -1);
	assert_string_equal(err, "ChannelData longer than its padding");
	assert_int_equal(chdata_exact(out, 8, 0, &ch, &data, &dlen, &err), -1);
	assert_string_equal(err, "ChannelData length past the end");
	assert_int_equal(chdata_exact(out, 3, 0, &ch, &data, &dlen, &err), -1);
	assert_string_equal(err, "ChannelData shorter than 4 bytes");
	assert_int_equal(turn_build_channel_data(out, 11, 0x4000, "hello", 5,
	    1), -1);
	assert_int_equal(turn_build_channel_data(out, 9, 0x4000, "hello", 5,
	    0), 9);
	/* built: 0x4000-0x4fff only (RFC 8656); read: up to 0x7ffe (RFC 5766) */
	assert_int_equal(turn_build_channel_data(out, sizeof(out), 0x3fff,
	    "", 0, 0), -1);
	assert_int_equal(turn_build_channel_data(out, sizeof(out), 0x5000,
	    "", 0, 0), -1);
	memcpy(out, "\x7f\xfe\x00\x00", 4);
	assert_int_equal(chdata_exact(out, 4, 0, &ch, &data, &dlen, &err), 0);
	assert_int_equal(ch, 0x7ffe);
	assert_int_equal(turn_frame_len(out, 4), 4);
	memcpy(out, "\x7f\xff\x00\x00", 4);
	assert_int_equal(chdata_exact(out, 4, 0, &ch, &data, &dlen, &err), -1);
	assert_string_equal(err, "ChannelData channel not in 0x4000-0x7ffe");
	assert_int_equal(turn_frame_len(out, 4), -1);
	/* an empty payload */
	assert_int_equal(turn_build_channel_data(out, sizeof(out), 0x4fff,
	    NULL, 0, 1), 4);
	assert_int_equal(chdata_exact(out, 4, 1, &ch, &data, &dlen, &err), 0);
	assert_int_equal(ch, 0x4fff);
	assert_int_equal(dlen, 0);
}

/* ---- TCP framing ---- */

/*
 * What the server's side of a TCP connection carried (the 401, the
 * success, a ChannelData of 5 bytes padded), cut again by turn_frame_len
 * fed a byte at a time: nothing until the header is there, then each
 * frame whole.
 */
static void
test_frame_len(void **state)
{
	uint8_t stream[512], *a, *b;
	size_t alen, blen, have, off, n;
	int want[3], k, r;

	(void)state;
	a = cap_bytes(C_TCP_ALLOC_401, &alen);
	b = cap_bytes(C_TCP_ALLOC_OK, &blen);
	memcpy(stream, a, alen);
	memcpy(stream + alen, b, blen);
	r = turn_build_channel_data(stream + alen + blen, 16, 0x4001,
	    "hello", 5, 1);
	assert_int_equal(r, 12);
	want[0] = (int)alen;
	want[1] = (int)blen;
	want[2] = 12;
	n = alen + blen + 12;
	for (off = 0, k = 0; off < n; k++) {
		for (have = 0; have <= n - off; have++) {
			r = turn_frame_len(stream + off, have);
			if (have < (k == 2 ? 4 : STUN_HDR_LEN))
				assert_int_equal(r, 0);
			else
				assert_int_equal(r, want[k]);
		}
		off += (size_t)want[k];
	}
	assert_int_equal(k, 3);
	free(a);
	free(b);

	/* garbage */
	assert_int_equal(turn_frame_len((const uint8_t *)"\x80\0\0\0", 4), -1);
	assert_int_equal(turn_frame_len((const uint8_t *)"\xc0\0\0\0", 4), -1);
	assert_int_equal(turn_frame_len((const uint8_t *)"\x7f\xff\0\0", 4),
	    -1);
	memset(stream, 0, STUN_HDR_LEN);
	stream[1] = 0x01;
	assert_int_equal(turn_frame_len(stream, 4), 0);
	assert_int_equal(turn_frame_len(stream, STUN_HDR_LEN), -1);
	memcpy(stream + 4, "\x21\x12\xa4\x42", 4);
	assert_int_equal(turn_frame_len(stream, STUN_HDR_LEN), STUN_HDR_LEN);
	stream[3] = 2;
	assert_int_equal(turn_frame_len(stream, STUN_HDR_LEN), -1);
	/* the longest: 65532 bytes of attributes, 0xffff bytes of ChannelData */
	stream[2] = 0xff;
	stream[3] = 0xfc;
	assert_int_equal(turn_frame_len(stream, STUN_HDR_LEN), TURN_MAX_MSG);
	assert_int_equal(turn_frame_len((const uint8_t *)"\x4f\xff\xff\xff",
	    4), 4 + 65536);
}

/* ---- refusals ---- */

/*
 * Every capture cut short at every length, and with each bit flipped:
 * refused with a reason, never a crash (the exact-size copies let ASan
 * see a read past the end).  A flipped message with a FINGERPRINT is
 * taken only without it (the bit made its type another, or a length
 * before it swallowed it: STUN cannot tell); without one (Connect's
 * answer), one that parses fails its MESSAGE-INTEGRITY; flipped
 * ChannelData parses only to a channel in range.
 */
static void
test_cut_and_flipped(void **state)
{
	struct turn_msg m, r;
	struct turn_auth a;
	uint8_t key[TURN_KEY_LEN], *buf, *req;
	const uint8_t *data;
	const char *err;
	uint16_t ch;
	size_t i, cut, bit, len, reqlen, dlen;
	int rc;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(caps); i++) {
		buf = cap_bytes((int)i, &len);
		if (i == C_CHDATA) {
			for (cut = 0; cut < len; cut++)
				assert_int_equal(chdata_exact(buf, cut, 0, &ch,
				    &data, &dlen, &err), -1);
			for (bit = 0; bit < 8 * len; bit++) {
				buf[bit / 8] ^= (uint8_t)(1 << bit % 8);
				if (chdata_exact(buf, len, 0, &ch, &data,
				    &dlen, &err) == 0)
					assert_true(ch >= TURN_CHANNEL_MIN &&
					    ch <= TURN_CHANNEL_READ_MAX);
				buf[bit / 8] ^= (uint8_t)(1 << bit % 8);
			}
			free(buf);
			continue;
		}
		parse_ok(buf, len, &m);
		for (cut = 0; cut < len; cut++)
			assert_int_equal(tu_parse_exact(parse_fn, buf, cut, &r,
			    sizeof(r), &err), -1);
		memset(key, 0, sizeof(key));
		if (i == C_CONNECT_OK) {
			req = cap_bytes(C_CONNECT_REQ, &reqlen);
			parse_ok(req, reqlen, &r);
			cap_auth(&r, &a, key);
			free(req);
		}
		for (bit = 0; bit < 8 * len; bit++) {
			buf[bit / 8] ^= (uint8_t)(1 << bit % 8);
			rc = tu_parse_exact(parse_fn, buf, len, &r, sizeof(r),
			    &err);
			if (m.has_fingerprint && rc == 0) {
				/* only with its FINGERPRINT lost */
				if (r.has_fingerprint)
					fail_msg("%s: bit %zu flipped: taken",
					    caps[i].file, bit);
			} else if (rc == 0) {
				assert_int_equal(i, C_CONNECT_OK);
				/* r's pointers are freed; only the offset is used */
				assert_int_equal(turn_verify(buf, len, &r, key,
				    sizeof(key)), -1);
			}
			buf[bit / 8] ^= (uint8_t)(1 << bit % 8);
		}
		free(buf);
	}
}

/* An attribute alone in a message, and why it is refused. */
static const struct {
	uint16_t	 type;
	const char	*v;
	size_t		 vlen;
	const char	*why;
} refused[] = {
	{ TURN_A_LIFETIME, "\0\0\0", 3, "LIFETIME length not 4" },
	{ TURN_A_CHANNEL_NUMBER, "\x3f\xff\0\0", 4,
	    "CHANNEL-NUMBER not in 0x4000-0x7ffe" },
	{ TURN_A_CHANNEL_NUMBER, "\x7f\xff\0\0", 4,
	    "CHANNEL-NUMBER not in 0x4000-0x7ffe" },
	{ TURN_A_CHANNEL_NUMBER, "\x40\0", 2, "CHANNEL-NUMBER length not 4" },
	{ TURN_A_REQUESTED_TRANSPORT, "\x11", 1,
	    "REQUESTED-TRANSPORT length not 4" },
	{ TURN_A_REQUESTED_ADDRESS_FAMILY, "\x03\0\0\0", 4,
	    "REQUESTED-ADDRESS-FAMILY not IPv4 or IPv6" },
	{ TURN_A_REQUESTED_ADDRESS_FAMILY, "\x01", 1,
	    "REQUESTED-ADDRESS-FAMILY length not 4" },
	{ TURN_A_DONT_FRAGMENT, "\0", 1, "DONT-FRAGMENT not empty" },
	{ TURN_A_CONNECTION_ID, "\0\0\0\0\0", 5,
	    "CONNECTION-ID length not 4" },
	{ TURN_A_XOR_RELAYED_ADDRESS, "\0\x03\0\0\0\0\0\0", 8,
	    "STUN address family not IPv4 or IPv6" },
	{ TURN_A_XOR_PEER_ADDRESS, "\0\x01\0\0\0\0", 6,
	    "STUN address attribute of the wrong length" },
	{ STUN_A_UNKNOWN_ATTRIBUTES, "\0\x01\0", 3,
	    "UNKNOWN-ATTRIBUTES length not even" },
	{ STUN_A_MESSAGE_INTEGRITY, "0123456789", 10,
	    "MESSAGE-INTEGRITY length not 20" },
	{ STUN_A_ERROR_CODE, "\0\0\x02\x00", 4, "ERROR-CODE not in 300-699" },
	{ STUN_A_FINGERPRINT, "\0\0", 2, "FINGERPRINT length not 4" },
	{ STUN_A_FINGERPRINT, "\0\0\0\0", 4, "bad FINGERPRINT" },
};

/* Hand-made messages for the refusals and the rest coturn did not show. */
static void
test_by_hand(void **state)
{
	static const uint8_t tid[STUN_TID_LEN] = "natmapd-trn1";
	struct sockaddr_storage p6 = tu_sa("2001:db8::7", 3478);
	struct tu_msgb mb;
	struct turn_builder b;
	struct turn_msg m;
	uint8_t out[256];
	size_t i;
	int n;

	(void)state;
	/* IPv6 peer, REQUESTED-ADDRESS-FAMILY IPv6, TCP transport */
	turn_begin(&b, out, sizeof(out), TURN_ALLOCATE, STUN_REQUEST, tid);
	turn_add_transport(&b, TURN_TRANSPORT_TCP);
	turn_add_family(&b, AF_INET6);
	turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, &p6);
	turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, &p6);
	n = turn_finish(&b, NULL, 1);
	assert_true(n > 0);
	parse_ok(out, (size_t)n, &m);
	assert_int_equal(m.transport, TURN_TRANSPORT_TCP);
	assert_int_equal(m.family, STUN_FAMILY_IPV6);
	tu_assert_sa(&m.peer, "[2001:db8::7]:3478");
	assert_int_equal(m.n_peers, 2);
	assert_true(m.has_fingerprint);
	assert_int_equal(turn_verify(out, (size_t)n, &m, tid, 12), -1);
	/* what the builder refuses */
	turn_begin(&b, out, sizeof(out), TURN_CHANNEL_BIND, STUN_REQUEST, tid);
	turn_add_channel(&b, 0x3fff);
	assert_int_equal(turn_finish(&b, NULL, 0), -1);
	turn_begin(&b, out, sizeof(out), TURN_ALLOCATE, STUN_REQUEST, tid);
	turn_add_family(&b, AF_UNIX);
	assert_int_equal(turn_finish(&b, NULL, 0), -1);
	turn_begin(&b, out, sizeof(out), 0x1000, STUN_REQUEST, tid);
	assert_int_equal(turn_finish(&b, NULL, 0), -1);

	/* 420 with UNKNOWN-ATTRIBUTES; an unknown comprehension-required type */
	tu_mb_init(&mb, 0x0113, tid);
	tu_mb_attr(&mb, STUN_A_ERROR_CODE, "\0\0\x04\x14Unknown", 11);
	tu_mb_attr(&mb, STUN_A_UNKNOWN_ATTRIBUTES, "\x7f\x01\x00\x24", 4);
	tu_mb_attr(&mb, 0x7f02, "x", 1);
	tu_mb_attr(&mb, 0xc001, "y", 1);	/* optional: ignored */
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.error_code, 420);
	assert_int_equal(m.n_refused, 2);
	assert_int_equal(m.refused[0], 0x7f01);
	assert_int_equal(m.refused[1], 0x0024);
	assert_int_equal(m.n_unknown, 1);
	assert_int_equal(m.unknown[0], 0x7f02);

	/* after MESSAGE-INTEGRITY nothing is read; the first of two wins */
	tu_mb_init(&mb, 0x0103, tid);
	tu_mb_attr(&mb, TURN_A_LIFETIME, "\0\0\0\x10", 4);
	tu_mb_attr(&mb, TURN_A_LIFETIME, "\0\0\0\x20", 4);
	tu_mb_attr(&mb, STUN_A_MESSAGE_INTEGRITY, "01234567890123456789", 20);
	tu_mb_attr(&mb, 0x7f03, "z", 1);
	tu_mb_attr(&mb, TURN_A_CHANNEL_NUMBER, "\0\0\0\0", 4);
	parse_ok(mb.b, mb.len, &m);
	assert_int_equal(m.lifetime, 16);
	assert_int_equal(m.n_unknown, 0);
	assert_int_equal(m.integrity_off, 36);

	for (i = 0; i < TU_ARRAY_LEN(refused); i++) {
		tu_mb_init(&mb, 0x0103, tid);
		tu_mb_attr(&mb, refused[i].type, refused[i].v, refused[i].vlen);
		parse_fails(mb.b, mb.len, refused[i].why);
	}
	{
		static uint8_t big[1024];

		memset(big, 'r', sizeof(big));
		tu_mb_init(&mb, 0x0113, tid);
		tu_mb_attr(&mb, TURN_A_REALM, big, 764);
		parse_fails(mb.b, mb.len, "REALM longer than 763 bytes");
		tu_mb_init(&mb, 0x0113, tid);
		tu_mb_attr(&mb, TURN_A_NONCE, big, 764);
		parse_fails(mb.b, mb.len, "NONCE longer than 763 bytes");
		tu_mb_init(&mb, 0x0113, tid);
		tu_mb_attr(&mb, STUN_A_USERNAME, big, 513);
		parse_fails(mb.b, mb.len, "USERNAME longer than 512 bytes");
		tu_mb_init(&mb, 0x0113, tid);
		tu_mb_attr(&mb, TURN_A_REALM, big, 763);
		parse_ok(mb.b, mb.len, &m);
		assert_int_equal(m.realm_len, 763);
	}
	assert_string_equal(turn_method_name(TURN_CONNECTION_ATTEMPT),
	    "connection-attempt");
	assert_string_equal(turn_method_name(0x0fff), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5769_long_term),
		cmocka_unit_test(test_cap_files),
		cmocka_unit_test(test_cap_401),
		cmocka_unit_test(test_cap_438),
		cmocka_unit_test(test_cap_allocate),
		cmocka_unit_test(test_cap_permission_channel),
		cmocka_unit_test(test_cap_refresh),
		cmocka_unit_test(test_cap_indications),
		cmocka_unit_test(test_cap_tcp_relay),
		cmocka_unit_test(test_channel_data),
		cmocka_unit_test(test_frame_len),
		cmocka_unit_test(test_cut_and_flipped),
		cmocka_unit_test(test_by_hand),
	};
	char err[256];

	if (crypto_load(err, sizeof(err)) == -1) {
		fprintf(stderr, "test-turn-msg: %s\n", err);
		return 1;
	}
	return TU_RUN("turn-msg", tests);
}
