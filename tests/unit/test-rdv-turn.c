/* SPDX-License-Identifier: ISC */
/* rdv-turn.c: the TURN secret file, coturn's REST credentials against values computed apart, their seal and opening, and the node's check of a REGISTER success that carries them. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "crypto.h"
#include "rdv-client.h"
#include "rdv-msg.h"
#include "rdv-turn.h"
#include "stun-msg.h"

static const uint8_t tid[STUN_TID_LEN] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
};
static uint8_t key[CRYPTO_KEY_LEN], other[CRYPTO_KEY_LEN];

static int
setup(void **state)
{
	char err[256];
	int i;

	(void)state;
	if (crypto_load(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	for (i = 0; i < CRYPTO_KEY_LEN; i++) {
		key[i] = (uint8_t)(0x40 + i);
		other[i] = (uint8_t)(0x40 + i);
	}
	other[5] ^= 0x01;
	return 0;
}

static void
parse_ok(const char *text, size_t len, const char *want)
{
	char out[RDV_TURN_SECRET_MAX + 1], err[256];
	size_t n;

	if (rdv_turn_secret_parse(text, len, out, &n, err, sizeof(err)) == -1)
		fail_msg("refused %zu bytes: %s", len, err);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void
parse_err(const char *text, size_t len, const char *want)
{
	char out[RDV_TURN_SECRET_MAX + 1], err[256];
	size_t n = 99;

	assert_int_equal(rdv_turn_secret_parse(text, len, out, &n, err,
	    sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
}

/* One line of 1-256 printable characters without blanks; one newline ignored. */
static void
test_secret_parse(void **state)
{
	char big[RDV_TURN_SECRET_MAX + 2], want[RDV_TURN_SECRET_MAX + 1];

	(void)state;
	parse_ok("s3cret", 6, "s3cret");
	parse_ok("s3cret\n", 7, "s3cret");
	parse_ok("s3cret\r\n", 8, "s3cret");
	parse_ok("!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\n", 32,
	    "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
	memset(big, 'x', sizeof(big));
	big[RDV_TURN_SECRET_MAX] = '\n';
	big[RDV_TURN_SECRET_MAX + 1] = '\0';
	memset(want, 'x', RDV_TURN_SECRET_MAX);
	want[RDV_TURN_SECRET_MAX] = '\0';
	parse_ok(big, RDV_TURN_SECRET_MAX + 1, want);
	big[RDV_TURN_SECRET_MAX] = 'x';
	parse_err(big, RDV_TURN_SECRET_MAX + 1, "longer than 256 characters");
	parse_err("", 0, "empty: the file holds coturn's static-auth-secret");
	parse_err("\n", 1, "empty: the file holds coturn's static-auth-secret");
	parse_err("\r\n", 2, "empty: the file holds coturn's static-auth-secret");
	parse_err("two words", 9, "not one line of printable ASCII without "
	    "blanks");
	parse_err("tab\there", 8, "not one line of printable ASCII without "
	    "blanks");
	parse_err("s3cret\n\n", 8, "not one line of printable ASCII without "
	    "blanks");
	parse_err(" s3cret", 7, "not one line of printable ASCII without "
	    "blanks");
	parse_err("s3\0cret", 7, "not one line of printable ASCII without "
	    "blanks");
	parse_err("s3\xc3\xa9", 4, "not one line of printable ASCII without "
	    "blanks");
	parse_err("s3\x7f", 3, "not one line of printable ASCII without "
	    "blanks");
}

/* path in dir with text, mode; the path */
static const char *
put(const char *dir, const char *name, const char *text, size_t len,
    mode_t mode)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_true(write(fd, text, len) == (ssize_t)len);
	/* the mode asked for, whatever the umask */
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	return path;
}

/* A secret file: refused as key files are; the secret never in a message. */
static void
test_secret_read(void **state)
{
	char dir[] = "/tmp/natmapd-test-turn.XXXXXX", path[512];
	char out[RDV_TURN_SECRET_MAX + 1], err[512], big[300];
	size_t n;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(rdv_turn_secret_read(put(dir, "a", "north-secret\n",
	    13, 0600), out, &n, err, sizeof(err)), 0);
	assert_string_equal(out, "north-secret");
	assert_int_equal(n, 12);
	assert_int_equal(rdv_turn_secret_read(put(dir, "b", "north-secret",
	    12, 0640), out, &n, err, sizeof(err)), 0);
	assert_string_equal(out, "north-secret");

	snprintf(path, sizeof(path), "%s/c", dir);
	assert_int_equal(rdv_turn_secret_read(put(dir, "c", "north-secret\n",
	    13, 0644), out, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/c: others may read or write it (mode "
	    "0644); a secret file is 0600 or 0640"));
	assert_null(strstr(err, "north"));
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
	assert_int_equal(rdv_turn_secret_read(put(dir, "d", "north-secret\n",
	    13, 0602), out, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "others may read or write it (mode 0602)"));
	assert_int_equal(rdv_turn_secret_read(put(dir, "e", "north secret\n",
	    13, 0600), out, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/e: not one line of printable ASCII "
	    "without blanks"));
	assert_null(strstr(err, "north"));
	assert_int_equal(rdv_turn_secret_read(put(dir, "f", "", 0, 0600), out,
	    &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/f: empty"));
	memset(big, 'y', sizeof(big));
	assert_int_equal(rdv_turn_secret_read(put(dir, "g", big, sizeof(big),
	    0600), out, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/g: longer than a secret file (258 bytes "
	    "at most)"));
	assert_null(strstr(err, "yyy"));
	assert_int_equal(rdv_turn_secret_read(dir, out, &n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, ": not a regular file"));
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(rdv_turn_secret_read(path, out, &n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/none: No such file or directory"));

	for (i = 0; i < 7; i++) {
		snprintf(path, sizeof(path), "%s/%c", dir, 'a' + i);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

/*
 * coturn's REST pair, checked against python3 (hmac.new(secret,
 * username, sha1), base64) and openssl dgst -sha1 -hmac; a name that is
 * not a node's is refused.
 */
static void
test_make(void **state)
{
	struct rdv_turn t;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(rdv_turn_make("north-secret", 12, "nas.home",
	    1767229200, &t), 0);
	assert_string_equal(t.username, "1767229200:nas.home");
	assert_string_equal(t.password, "3gkB51v7+Zc7xwKFJh+037NajOY=");
	assert_true(t.expiry == 1767229200);
	assert_int_equal(rdv_turn_make("north-secret", 12, "gw.home",
	    1767229200, &t), 0);
	assert_string_equal(t.password, "XLmolcWbnGbdASlpr1n2dHGIw5s=");
	/* the secret's length counts: "north" alone is another key */
	assert_int_equal(rdv_turn_make("north-secret", 5, "gw.home",
	    1767229200, &t), 0);
	assert_string_equal(t.password, "NgKPiN7qxJsZg6qrCzFsTe0Yyhk=");
	assert_int_equal(rdv_turn_make("north-secret", 12, "a:b", 1, &t), -1);
	assert_string_equal(t.username, "");
	assert_string_equal(t.password, "");
	assert_int_equal(rdv_turn_make("north-secret", 12, "Nas", 1, &t), -1);
	assert_int_equal(rdv_turn_make("north-secret", 12, "", 1, &t), -1);
}

static int
seal(const struct rdv_turn *t, const char *node, uint8_t *out, size_t len)
{
	return rdv_turn_seal(key, tid, "home", node, t, out, len);
}

/*
 * Sealed and opened; a fresh nonce each time; any byte changed, a byte
 * cut, another key, answer, network or node: refused, nothing filled in.
 */
static void
test_seal_open(void **state)
{
	struct rdv_turn t, o;
	uint8_t a[RDV_TURN_SEALED_MAX], b[RDV_TURN_SEALED_MAX];
	uint8_t x[RDV_TURN_SEALED_MAX], tid2[STUN_TID_LEN];
	int n, m, i;

	(void)state;
	assert_int_equal(rdv_turn_make("north-secret", 12, "nas.home",
	    1767229200, &t), 0);
	n = seal(&t, "nas.home", a, sizeof(a));
	assert_int_equal(n, CRYPTO_AEAD_NONCE_LEN + 1 + 19 + 28 +
	    CRYPTO_AEAD_TAG_LEN);
	assert_null(memmem(a, (size_t)n, "nas.home", 8));
	assert_null(memmem(a, (size_t)n, t.password, 8));
	m = seal(&t, "nas.home", b, sizeof(b));
	assert_int_equal(m, n);
	assert_memory_not_equal(a, b, CRYPTO_AEAD_NONCE_LEN);
	memset(&o, 0, sizeof(o));
	assert_int_equal(rdv_turn_open(key, tid, "home", "nas.home", a,
	    (size_t)n, &o), 0);
	assert_string_equal(o.username, t.username);
	assert_string_equal(o.password, t.password);
	assert_true(o.expiry == 1767229200);
	assert_int_equal(rdv_turn_open(key, tid, "home", "nas.home", b,
	    (size_t)m, &o), 0);
	/* too small a buffer */
	assert_int_equal(seal(&t, "nas.home", x, (size_t)n - 1), -1);

	for (i = 0; i < n; i++) {
		memcpy(x, a, (size_t)n);
		x[i] ^= 0x20;
		assert_int_equal(rdv_turn_open(key, tid, "home", "nas.home", x,
		    (size_t)n, &o), -1);
		assert_string_equal(o.username, "");
		assert_string_equal(o.password, "");
		assert_true(o.expiry == 0);
	}
	assert_int_equal(rdv_turn_open(key, tid, "home", "nas.home", a,
	    (size_t)n - 1, &o), -1);
	assert_int_equal(rdv_turn_open(other, tid, "home", "nas.home", a,
	    (size_t)n, &o), -1);
	memcpy(tid2, tid, sizeof(tid2));
	tid2[11] ^= 1;
	assert_int_equal(rdv_turn_open(key, tid2, "home", "nas.home", a,
	    (size_t)n, &o), -1);
	assert_int_equal(rdv_turn_open(key, tid, "hom", "nas.home", a,
	    (size_t)n, &o), -1);
	assert_int_equal(rdv_turn_open(key, tid, "home", "nas.hom", a,
	    (size_t)n, &o), -1);
	assert_int_equal(rdv_turn_open(key, tid, "home", "nas.home", a,
	    RDV_TURN_SEALED_MIN - 1, &o), -1);
	assert_int_equal(rdv_turn_open(key, tid, "home", "nas.home", a,
	    RDV_TURN_SEALED_MAX + 1, &o), -1);
}

/* seal u and p for nas.home as they are, then open: 0 or -1 */
static int
opens(const char *u, const char *p)
{
	struct rdv_turn t, o;
	uint8_t a[RDV_TURN_SEALED_MAX];
	int n;

	memset(&t, 0, sizeof(t));
	snprintf(t.username, sizeof(t.username), "%s", u);
	snprintf(t.password, sizeof(t.password), "%s", p);
	n = seal(&t, "nas.home", a, sizeof(a));
	assert_true(n > 0);
	return rdv_turn_open(key, tid, "home", "nas.home", a, (size_t)n, &o);
}

/* What opens must be a pair for the node: "EXPIRY:NODE" and base64. */
static void
test_open_checks(void **state)
{
	(void)state;
	assert_int_equal(opens("1767229200:nas.home", "abc="), 0);
	assert_int_equal(opens("1:nas.home", "+/09"), 0);
	assert_int_equal(opens("1767229200:gw.home", "abc="), -1);
	assert_int_equal(opens("1767229200:nas.home.x", "abc="), -1);
	assert_int_equal(opens("1767229200nas.home", "abc="), -1);
	assert_int_equal(opens(":nas.home", "abc="), -1);
	assert_int_equal(opens("0:nas.home", "abc="), -1);
	assert_int_equal(opens("0123:nas.home", "abc="), -1);
	assert_int_equal(opens("-1:nas.home", "abc="), -1);
	assert_int_equal(opens("12345678901234567890:nas.home", "abc="), -1);
	assert_int_equal(opens("1767229200:nas.home", "ab c"), -1);
	assert_int_equal(opens("1767229200:nas.home", "abc\n"), -1);
}

/*
 * The node's check of a REGISTER success, then its TURN credentials: the
 * pair opens for it, with the relay; for another node of the network it
 * does not; a credential changed under a right MAC (as only a holder of
 * the server key could send) is refused alone, the answer still taken;
 * an answer without them has none.
 */
static void
test_client_check(void **state)
{
	struct rdv_client_id id;
	struct rdv_client_answer a;
	struct rdv_turn t, o;
	struct rdv_msg m;
	uint8_t buf[STUN_MAX_MSG], secret[CRYPTO_KEY_LEN];
	const char *why = NULL;
	int n, i;

	(void)state;
	for (i = 0; i < CRYPTO_KEY_LEN; i++)
		secret[i] = (uint8_t)i;
	rdv_client_id_init(&id, "home", "nas.home", secret);
	memset(&m, 0, sizeof(m));
	m.method = RDV_REGISTER;
	m.cls = STUN_SUCCESS;
	memcpy(m.tid, tid, STUN_TID_LEN);
	strcpy(m.network, "home");
	m.has = RDV_HAS_NETWORK | RDV_HAS_SERVER_TIME | RDV_HAS_LIFETIME |
	    RDV_HAS_MAPPED;
	m.server_time = 1767225600000ULL;
	m.lifetime = 75;
	m.mapped = tu_sa("198.51.100.7", 40000);
	n = rdv_build(buf, sizeof(buf), &m, id.server_key);
	assert_true(n > 0);
	assert_int_equal(rdv_client_check(RDV_REGISTER, &id, &tid, 1, buf,
	    (size_t)n, m.server_time, &a, NULL, &why), 0);
	assert_int_equal(rdv_client_turn_open(&id, buf, (size_t)n, &o), 0);

	m.has |= RDV_HAS_TURN_SERVER | RDV_HAS_TURN_CREDENTIAL;
	m.turn_server = tu_sa("203.0.113.8", 3478);
	assert_int_equal(rdv_turn_make("north-secret", 12, "nas.home",
	    1767229200, &t), 0);
	n = rdv_turn_seal(id.server_key, tid, "home", "nas.home", &t,
	    m.turn_cred, sizeof(m.turn_cred));
	assert_true(n > 0);
	m.turn_cred_len = (size_t)n;
	n = rdv_build(buf, sizeof(buf), &m, id.server_key);
	assert_true(n > 0);
	assert_int_equal(rdv_client_check(RDV_REGISTER, &id, &tid, 1, buf,
	    (size_t)n, m.server_time, &a, NULL, &why), 0);
	assert_true(a.ok && a.lifetime == 75);
	assert_int_equal(rdv_client_turn_open(&id, buf, (size_t)n, &o), 1);
	assert_string_equal(o.username, "1767229200:nas.home");
	assert_string_equal(o.password, "3gkB51v7+Zc7xwKFJh+037NajOY=");
	assert_true(o.expiry == 1767229200);
	assert_memory_equal(&o.relay, &m.turn_server, sizeof(m.turn_server));

	/* another node of the network with the same answer: not for it */
	rdv_client_id_init(&id, "home", "gw.home", secret);
	assert_int_equal(rdv_client_turn_open(&id, buf, (size_t)n, &o), -1);
	assert_string_equal(o.password, "");

	/* a byte of the sealed pair changed, the MAC made right again */
	rdv_client_id_init(&id, "home", "nas.home", secret);
	m.turn_cred[20] ^= 0x01;
	n = rdv_build(buf, sizeof(buf), &m, id.server_key);
	assert_int_equal(rdv_client_check(RDV_REGISTER, &id, &tid, 1, buf,
	    (size_t)n, m.server_time, &a, NULL, &why), 0);
	assert_true(a.ok && a.lifetime == 75);
	assert_int_equal(rdv_client_turn_open(&id, buf, (size_t)n, &o), -1);
	assert_string_equal(o.username, "");
	/* and the bytes changed on the way: the MAC refuses the whole answer */
	m.turn_cred[20] ^= 0x01;
	n = rdv_build(buf, sizeof(buf), &m, id.server_key);
	buf[STUN_HDR_LEN + 60] ^= 0x01;
	assert_int_equal(rdv_client_check(RDV_REGISTER, &id, &tid, 1, buf,
	    (size_t)n, m.server_time, &a, NULL, &why), -1);
	rdv_client_id_wipe(&id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_parse),
		cmocka_unit_test(test_secret_read),
		cmocka_unit_test_setup(test_make, setup),
		cmocka_unit_test_setup(test_seal_open, setup),
		cmocka_unit_test_setup(test_open_checks, setup),
		cmocka_unit_test_setup(test_client_check, setup),
	};

	return TU_RUN("rdv-turn", tests);
}
