/* SPDX-License-Identifier: ISC */
/* crypto.c: HMAC-SHA256 against RFC 4231's vectors, the server key, key text and key files. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "crypto.h"

static void
expect_hmac(const uint8_t *key, size_t keylen, const void *msg, size_t len,
    const char *want_hex)
{
	uint8_t want[CRYPTO_SHA256_LEN], got[CRYPTO_SHA256_LEN];
	struct crypto_part part = { msg, len };

	assert_int_equal(tu_unhex(want_hex, want, sizeof(want)), sizeof(want));
	crypto_hmac_sha256(key, keylen, &part, 1, got);
	assert_memory_equal(got, want, sizeof(want));
}

/* nettle is loaded on demand (dlopen, by the soname configure found), once. */
static void
test_load(void **state)
{
	char err[256] = "untouched";

	(void)state;
	assert_int_equal(crypto_load(err, sizeof(err)), 0);
	assert_int_equal(crypto_load(err, sizeof(err)), 0);
	assert_string_equal(err, "untouched");
}

/* RFC 4231, section 4: test cases 1, 2, 3, 4, 6 and 7 (5 is truncated). */
static void
test_rfc4231(void **state)
{
	uint8_t key[131], data[50];

	(void)state;
	memset(key, 0x0b, 20);
	expect_hmac(key, 20, "Hi There", 8,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	expect_hmac((const uint8_t *)"Jefe", 4,
	    "what do ya want for nothing?", 28,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	expect_hmac(key, 20, data, 50,
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	assert_int_equal(tu_unhex(
	    "0102030405060708090a0b0c0d0e0f10111213141516171819", key,
	    sizeof(key)), 25);
	memset(data, 0xcd, 50);
	expect_hmac(key, 25, data, 50,
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	memset(key, 0xaa, 131);
	expect_hmac(key, 131,
	    "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	expect_hmac(key, 131,
	    "This is a test using a larger than block-size key and a larger "
	    "than block-size data. The key needs to be hashed before being "
	    "used by the HMAC algorithm.", 152,
	    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* Pieces are one message: test case 2 cut in three. */
static void
test_parts(void **state)
{
	static const char *msg = "what do ya want for nothing?";
	struct crypto_part parts[3] = {
		{ msg, 4 }, { msg + 4, 0 }, { msg + 4, 24 },
	};
	uint8_t want[CRYPTO_SHA256_LEN], got[CRYPTO_SHA256_LEN];

	(void)state;
	tu_unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	    want, sizeof(want));
	crypto_hmac_sha256("Jefe", 4, parts, 3, got);
	assert_memory_equal(got, want, sizeof(want));
}

/*
 * The server key of the secret 00 01 .. 1f, worked out apart (Python's
 * hmac module), and both as text.
 */
static void
test_server_key(void **state)
{
	uint8_t secret[CRYPTO_KEY_LEN], sk[CRYPTO_KEY_LEN],
	    want[CRYPTO_KEY_LEN], back[CRYPTO_KEY_LEN];
	char text[CRYPTO_KEY_TEXT_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	crypto_key_format(secret, text);
	assert_string_equal(text, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	crypto_server_key(secret, sk);
	tu_unhex("04a297107f7559c074de5fe85662eb58e44b9f71f033d936faf4ac1d07d033bd",
	    want, sizeof(want));
	assert_memory_equal(sk, want, sizeof(want));
	crypto_key_format(sk, text);
	assert_string_equal(text, "BKKXEH91WcB03l/oVmLrWORLn3HwM9k2+vSsHQfQM70=");
	assert_int_equal(crypto_key_parse(text, strlen(text), back), 0);
	assert_memory_equal(back, sk, sizeof(sk));
}

/* Only the one text of a key is a key. */
static void
test_key_parse(void **state)
{
	static const char *bad[] = {
		"",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",	/* short */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",	/* long */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",	/* low bits */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH h8",	/* blank */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=",	/* not base64 */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd====",	/* 30 bytes */
	};
	uint8_t key[CRYPTO_KEY_LEN], again[CRYPTO_KEY_LEN];
	char text[CRYPTO_KEY_TEXT_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(bad); i++)
		assert_int_equal(crypto_key_parse(bad[i], strlen(bad[i]), key),
		    -1);
	/* new keys differ, and go through text and back */
	assert_int_equal(crypto_key_new(key), 0);
	assert_int_equal(crypto_key_new(again), 0);
	assert_memory_not_equal(key, again, sizeof(key));
	crypto_key_format(key, text);
	assert_int_equal(strlen(text), CRYPTO_KEY_TEXT_LEN);
	assert_int_equal(crypto_key_parse(text, strlen(text), again), 0);
	assert_memory_equal(key, again, sizeof(key));
}

static char	dir[64];

static const char *
put_file(const char *name, const char *body, mode_t mode)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
expect_read_fails(const char *path, const char *needle)
{
	uint8_t key[CRYPTO_KEY_LEN];
	char err[512];

	err[0] = '\0';
	assert_int_equal(crypto_key_read(path, key, err, sizeof(err)), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, needle);
	/* the error never holds the key */
	assert_null(strstr(err, "AAECAwQF"));
}

/* A key file: one line, 0600 or 0640; anything else is refused, saying why. */
static void
test_key_read(void **state)
{
	static const char *k = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	uint8_t key[CRYPTO_KEY_LEN];
	char err[512], body[400];
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/natmapd-test-crypto.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(body, sizeof(body), "%s\n", k);
	assert_int_equal(crypto_key_read(put_file("a", body, 0600), key, err,
	    sizeof(err)), 0);
	for (i = 0; i < sizeof(key); i++)
		assert_int_equal(key[i], i);
	snprintf(body, sizeof(body), "  %s \r\n", k);
	assert_int_equal(crypto_key_read(put_file("b", body, 0640), key, err,
	    sizeof(err)), 0);
	assert_int_equal(crypto_key_read(put_file("c", k, 0400), key, err,
	    sizeof(err)), 0);

	expect_read_fails(put_file("d", body, 0644), "others may read");
	expect_read_fails(put_file("e", body, 0602), "mode 0602");
	snprintf(body, sizeof(body), "%s\n\n", k);
	expect_read_fails(put_file("f", body, 0600), "not a key");
	snprintf(body, sizeof(body), "%s\n%s\n", k, k);
	expect_read_fails(put_file("g", body, 0600), "not a key");
	memset(body, 'A', 300);
	body[300] = '\0';
	expect_read_fails(put_file("h", body, 0600), "longer than a key file");
	expect_read_fails(put_file("i", "", 0600), "not a key");
	expect_read_fails(dir, "not a regular file");
	snprintf(body, sizeof(body), "%s/none", dir);
	expect_read_fails(body, "No such file");

	snprintf(body, sizeof(body), "rm -rf '%s'", dir);
	assert_int_equal(system(body), 0);
}

/* Equal or not, whatever the place of the difference. */
static void
test_equal(void **state)
{
	uint8_t a[32], b[32];
	size_t i;

	(void)state;
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(crypto_equal(a, b, sizeof(a)));
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x01;
		assert_false(crypto_equal(a, b, sizeof(a)));
		b[i] ^= 0x01;
	}
	assert_true(crypto_equal(a, b, 0));
}

/*
 * The keyed hash: the first 8 bytes of HMAC-SHA256 under the key 00 01 ..
 * 1f, worked out apart with Python's hmac module; the same every time,
 * and another key gives another hash.
 */
static void
test_hash(void **state)
{
	struct crypto_hash *h, *r1, *r2;
	uint8_t key[CRYPTO_KEY_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	h = crypto_hash_new_key(key);
	assert_non_null(h);
	assert_true(crypto_hash64(h, "natmapd replay", 14) ==
	    0x0d55e091b166e3e6ULL);
	assert_true(crypto_hash64(h, "", 0) == 0xd38b42096d80f45fULL);
	/* the key's state is not used up */
	assert_true(crypto_hash64(h, "natmapd replay", 14) ==
	    0x0d55e091b166e3e6ULL);
	r1 = crypto_hash_new();
	r2 = crypto_hash_new();
	assert_non_null(r1);
	assert_non_null(r2);
	assert_true(crypto_hash64(r1, "natmapd replay", 14) !=
	    crypto_hash64(r2, "natmapd replay", 14));
	crypto_hash_free(h);
	crypto_hash_free(r1);
	crypto_hash_free(r2);
	crypto_hash_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_server_key),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_key_read),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_hash),
	};

	return TU_RUN("crypto", tests);
}
