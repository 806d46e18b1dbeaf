/* SPDX-License-Identifier: ISC */
/* crypto.c: HMAC-SHA256 (RFC 4231), HMAC-SHA1 (RFC 2202), MD5 (RFC 1321), base64 (RFC 4648), SHA-256, HKDF (RFC 5869), ChaCha20-Poly1305 (RFC 8439), AES-256-GCM (the GCM specification, NIST CAVP), X25519 (RFC 7748) against their RFCs' vectors, the server and peer keys, key text and key files. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
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

/* Hex into a buffer of exactly that many bytes. */
static void
unhex_n(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(tu_unhex(hex, out, n), n);
}

/* The peer key of the secret 00 01 .. 1f (Python's hmac), not the server key. */
static void
test_peer_key(void **state)
{
	uint8_t secret[CRYPTO_KEY_LEN], pk[CRYPTO_KEY_LEN], sk[CRYPTO_KEY_LEN],
	    want[CRYPTO_KEY_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	crypto_peer_key(secret, pk);
	unhex_n("dcb8d5b464ed1e993d3f431824feb29d43335697326b4cd3998067056ff0f6b7",
	    want, sizeof(want));
	assert_memory_equal(pk, want, sizeof(want));
	crypto_server_key(secret, sk);
	assert_memory_not_equal(pk, sk, sizeof(sk));
}

/* FIPS 180-2's "abc", the empty message, and parts. */
static void
test_sha256(void **state)
{
	struct crypto_part parts[3] = { { "a", 1 }, { "", 0 }, { "bc", 2 } };
	uint8_t want[CRYPTO_SHA256_LEN], got[CRYPTO_SHA256_LEN];

	(void)state;
	unhex_n("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    want, sizeof(want));
	crypto_sha256(parts, 3, got);
	assert_memory_equal(got, want, sizeof(want));
	unhex_n("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    want, sizeof(want));
	crypto_sha256(NULL, 0, got);
	assert_memory_equal(got, want, sizeof(want));
}

static void
expect_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, const char *prk_hex,
    const char *okm_hex)
{
	uint8_t prk[CRYPTO_SHA256_LEN], want_prk[CRYPTO_SHA256_LEN];
	uint8_t okm[128], want[128];
	size_t n;

	unhex_n(prk_hex, want_prk, sizeof(want_prk));
	n = tu_unhex(okm_hex, want, sizeof(want));
	crypto_hkdf_extract(salt, saltlen, ikm, ikmlen, prk);
	assert_memory_equal(prk, want_prk, sizeof(prk));
	memset(okm, 0xee, sizeof(okm));
	assert_int_equal(crypto_hkdf_expand(prk, info, infolen, okm, n), 0);
	assert_memory_equal(okm, want, n);
	/* not a byte more */
	assert_int_equal(okm[n], 0xee);
}

/* RFC 5869 appendix A: test cases 1, 2 and 3 (the SHA-256 ones). */
static void
test_rfc5869(void **state)
{
	uint8_t ikm[80], salt[80], info[80], prk[CRYPTO_SHA256_LEN];
	uint8_t big[CRYPTO_HKDF_MAX + 1];
	size_t i;

	(void)state;
	memset(ikm, 0x0b, 22);
	for (i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	expect_hkdf(salt, 13, ikm, 22, info, 10,
	    "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865");
	for (i = 0; i < 80; i++) {
		ikm[i] = (uint8_t)i;
		salt[i] = (uint8_t)(0x60 + i);
		info[i] = (uint8_t)(0xb0 + i);
	}
	expect_hkdf(salt, 80, ikm, 80, info, 80,
	    "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
	    "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	    "cc30c58179ec3e87c14c01d5c1f3434f1d87");
	memset(ikm, 0x0b, 22);
	expect_hkdf(NULL, 0, ikm, 22, NULL, 0,
	    "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8");
	/* 255 blocks at most */
	assert_int_equal(crypto_hkdf_expand(prk, NULL, 0, big, sizeof(big)), -1);
	assert_int_equal(crypto_hkdf_expand(prk, NULL, 0, big, CRYPTO_HKDF_MAX),
	    0);
}

/* RFC 8439 section 2.8.2: the AEAD's example, sealed, opened, in place, and refused when any bit is wrong. */
static void
test_rfc8439(void **state)
{
	static const char plain[] = "Ladies and Gentlemen of the class of "
	    "'99: If I could offer you only one tip for the future, sunscreen "
	    "would be it.";
	uint8_t key[CRYPTO_KEY_LEN], nonce[CRYPTO_AEAD_NONCE_LEN], ad[12];
	uint8_t want[114 + CRYPTO_AEAD_TAG_LEN], buf[sizeof(want)],
	    out[sizeof(want)], zero[114];
	size_t i, len = sizeof(plain) - 1;

	(void)state;
	assert_int_equal(len, 114);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	unhex_n("070000004041424344454647", nonce, sizeof(nonce));
	unhex_n("50515253c0c1c2c3c4c5c6c7", ad, sizeof(ad));
	unhex_n("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	    "3ff4def08e4b7a9de576d26586cec64b6116"
	    "1ae10b594f09e26a7e902ecbd0600691", want, sizeof(want));
	crypto_aead_seal(key, nonce, ad, sizeof(ad), plain, len, buf);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad), buf,
	    sizeof(buf), out), 0);
	assert_memory_equal(out, plain, len);
	/* in place, both ways */
	memcpy(buf, plain, len);
	crypto_aead_seal(key, nonce, ad, sizeof(ad), buf, len, buf);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad), buf,
	    sizeof(buf), buf), 0);
	assert_memory_equal(buf, plain, len);
	/* any bit flipped, of the ciphertext, tag, data, nonce or key: refused, nothing let out */
	memset(zero, 0, sizeof(zero));
	for (i = 0; i < sizeof(want) * 8; i++) {
		memcpy(buf, want, sizeof(want));
		buf[i / 8] ^= (uint8_t)(1 << (i % 8));
		memset(out, 0x55, sizeof(out));
		assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad),
		    buf, sizeof(buf), out), -1);
		assert_memory_equal(out, zero, len);
	}
	for (i = 0; i < sizeof(ad) * 8; i++) {
		ad[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad),
		    want, sizeof(want), out), -1);
		ad[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	nonce[11] ^= 1;
	assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad), want,
	    sizeof(want), out), -1);
	nonce[11] ^= 1;
	key[31] ^= 0x80;
	assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad), want,
	    sizeof(want), out), -1);
	key[31] ^= 0x80;
	/* a byte short, no additional data, shorter than a tag */
	assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad), want,
	    sizeof(want) - 1, out), -1);
	assert_int_equal(crypto_aead_open(key, nonce, NULL, 0, want,
	    sizeof(want), out), -1);
	assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad), want,
	    CRYPTO_AEAD_TAG_LEN - 1, out), -1);
	/* nothing to hide: the tag alone */
	crypto_aead_seal(key, nonce, ad, sizeof(ad), NULL, 0, buf);
	assert_int_equal(crypto_aead_open(key, nonce, ad, sizeof(ad), buf,
	    CRYPTO_AEAD_TAG_LEN, out), 0);
	assert_memory_not_equal(buf, want + len, CRYPTO_AEAD_TAG_LEN);
}

/* One AES-256-GCM vector: sealed with a key made once, opened, in place too. */
static void
expect_gcm(const char *key_hex, const char *iv_hex, const char *ad_hex,
    const char *plain_hex, const char *sealed_hex)
{
	uint8_t key[CRYPTO_KEY_LEN], iv[CRYPTO_AEAD_NONCE_LEN], ad[64],
	    plain[128], want[128 + CRYPTO_AEAD_TAG_LEN], buf[sizeof(want)],
	    out[sizeof(want)];
	struct crypto_aead *a;
	size_t adlen, len;

	unhex_n(key_hex, key, sizeof(key));
	unhex_n(iv_hex, iv, sizeof(iv));
	adlen = strlen(ad_hex) / 2;
	len = strlen(plain_hex) / 2;
	assert_true(adlen <= sizeof(ad) && len <= sizeof(plain));
	unhex_n(ad_hex, ad, adlen);
	unhex_n(plain_hex, plain, len);
	unhex_n(sealed_hex, want, len + CRYPTO_AEAD_TAG_LEN);
	assert_non_null(a = crypto_aead_new(CRYPTO_AES256_GCM, key));
	assert_int_equal(crypto_aead_cipher(a), CRYPTO_AES256_GCM);
	crypto_aead_key_seal(a, iv, ad, adlen, plain, len, buf);
	assert_memory_equal(buf, want, len + CRYPTO_AEAD_TAG_LEN);
	assert_int_equal(crypto_aead_key_open(a, iv, ad, adlen, buf,
	    len + CRYPTO_AEAD_TAG_LEN, out), 0);
	if (len > 0)
		assert_memory_equal(out, plain, len);
	/* in place, both ways, the same key again */
	memcpy(buf, plain, len);
	crypto_aead_key_seal(a, iv, ad, adlen, buf, len, buf);
	assert_memory_equal(buf, want, len + CRYPTO_AEAD_TAG_LEN);
	assert_int_equal(crypto_aead_key_open(a, iv, ad, adlen, buf,
	    len + CRYPTO_AEAD_TAG_LEN, buf), 0);
	if (len > 0)
		assert_memory_equal(buf, plain, len);
	crypto_aead_free(a);
}

/*
 * AES-256-GCM: the GCM specification's test cases 13 to 16 (McGrew and
 * Viega, the ones NIST's SP 800-38D refers to) and one of NIST's CAVP
 * vectors (gcmEncryptExtIV256, 96-bit IV, 160-bit AAD).
 */
static void
test_gcm_vectors(void **state)
{
	static const char *k0 =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	static const char *kf =
	    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
	static const char *p16 =
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";

	(void)state;
	/* 13: nothing but the tag */
	expect_gcm(k0, "000000000000000000000000", "", "",
	    "530f8afbc74536b9a963b4f1c4cb738b");
	/* 14: one zero block */
	expect_gcm(k0, "000000000000000000000000", "",
	    "00000000000000000000000000000000",
	    "cea7403d4d606b6e074ec5d3baf39d18"
	    "d0d1c8a799996bf0265b98b5d48ab919");
	/* 16: 60 bytes, 20 of additional data */
	expect_gcm(kf, "cafebabefacedbaddecaf888",
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2", p16,
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
	    "76fc6ece0f4e1768cddf8853bb2d551b");
	/* CAVP */
	expect_gcm("83688deb4af8007f9b713b47cfa6c73e35ea7a3aa4ecdb414dded03bf7a0fd3a",
	    "0b459724904e010a46901cf3", "794a14ccd178c8ebfd1379dc704c5e208f9d8424",
	    "33d893a2114ce06fc15d55e454cf90c3",
	    "cc66bee423e3fcd4c0865715e9586696"
	    "0fb291bd3dba94a1dfd8b286cfb97ac5");
}

/*
 * A key made once (crypto_aead_new): AES-256-GCM refuses any bit flipped
 * of the ciphertext, the tag or the additional data, a wrong nonce or a
 * short message, and lets nothing out; ChaCha20-Poly1305 made once seals
 * what crypto_aead_seal seals; an unknown cipher is refused.
 */
static void
test_aead_key(void **state)
{
	uint8_t key[CRYPTO_KEY_LEN], nonce[CRYPTO_AEAD_NONCE_LEN], ad[16],
	    plain[100], want[sizeof(plain) + CRYPTO_AEAD_TAG_LEN],
	    buf[sizeof(want)], out[sizeof(want)], zero[sizeof(plain)];
	struct crypto_aead *g, *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(3 * i + 1);
	memset(nonce, 7, sizeof(nonce));
	memset(ad, 9, sizeof(ad));
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	memset(zero, 0, sizeof(zero));
	assert_non_null(g = crypto_aead_new(CRYPTO_AES256_GCM, key));
	crypto_aead_key_seal(g, nonce, ad, sizeof(ad), plain, sizeof(plain),
	    want);
	for (i = 0; i < sizeof(want) * 8; i++) {
		memcpy(buf, want, sizeof(want));
		buf[i / 8] ^= (uint8_t)(1 << (i % 8));
		memset(out, 0x55, sizeof(out));
		assert_int_equal(crypto_aead_key_open(g, nonce, ad, sizeof(ad),
		    buf, sizeof(buf), out), -1);
		assert_memory_equal(out, zero, sizeof(plain));
	}
	for (i = 0; i < sizeof(ad) * 8; i++) {
		ad[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(crypto_aead_key_open(g, nonce, ad, sizeof(ad),
		    want, sizeof(want), out), -1);
		ad[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	nonce[0] ^= 1;
	assert_int_equal(crypto_aead_key_open(g, nonce, ad, sizeof(ad), want,
	    sizeof(want), out), -1);
	nonce[0] ^= 1;
	assert_int_equal(crypto_aead_key_open(g, nonce, ad, sizeof(ad), want,
	    CRYPTO_AEAD_TAG_LEN - 1, out), -1);
	/* still right after all those */
	assert_int_equal(crypto_aead_key_open(g, nonce, ad, sizeof(ad), want,
	    sizeof(want), out), 0);
	assert_memory_equal(out, plain, sizeof(plain));

	/* ChaCha20-Poly1305 made once: the same bytes as crypto_aead_seal */
	assert_non_null(c = crypto_aead_new(CRYPTO_CHACHA20_POLY1305, key));
	assert_int_equal(crypto_aead_cipher(c), CRYPTO_CHACHA20_POLY1305);
	crypto_aead_key_seal(c, nonce, ad, sizeof(ad), plain, sizeof(plain),
	    buf);
	crypto_aead_seal(key, nonce, ad, sizeof(ad), plain, sizeof(plain), out);
	assert_memory_equal(buf, out, sizeof(want));
	assert_memory_not_equal(buf, want, sizeof(want));
	assert_int_equal(crypto_aead_key_open(c, nonce, ad, sizeof(ad), buf,
	    sizeof(buf), out), 0);
	assert_memory_equal(out, plain, sizeof(plain));
	/* the one's sealed bytes are not the other's */
	assert_int_equal(crypto_aead_key_open(c, nonce, ad, sizeof(ad), want,
	    sizeof(want), out), -1);
	crypto_aead_free(c);
	crypto_aead_free(g);
	crypto_aead_free(NULL);

	errno = 0;
	assert_null(crypto_aead_new(7, key));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(crypto_cipher_name(CRYPTO_AES256_GCM),
	    "aes-256-gcm");
	assert_string_equal(crypto_cipher_name(CRYPTO_CHACHA20_POLY1305),
	    "chacha20-poly1305");
	assert_string_equal(crypto_cipher_name(7), "unknown");
	/* what this CPU says, as /proc/cpuinfo does on x86 */
	assert_true(crypto_aes_fast() == 0 || crypto_aes_fast() == 1);
}

static void
expect_x25519(const char *scalar_hex, const char *u_hex, const char *out_hex)
{
	uint8_t k[CRYPTO_X25519_LEN], u[CRYPTO_X25519_LEN],
	    want[CRYPTO_X25519_LEN], got[CRYPTO_X25519_LEN];

	unhex_n(scalar_hex, k, sizeof(k));
	unhex_n(u_hex, u, sizeof(u));
	unhex_n(out_hex, want, sizeof(want));
	assert_int_equal(crypto_x25519(k, u, got), 0);
	assert_memory_equal(got, want, sizeof(want));
}

/*
 * RFC 7748 section 5.2 (the two vectors: the second's u has its top bit
 * set, which must be ignored; the function iterated once and 1,000 times)
 * and section 6.1 (Alice and Bob).
 */
static void
test_rfc7748(void **state)
{
	uint8_t k[CRYPTO_X25519_LEN], u[CRYPTO_X25519_LEN],
	    r[CRYPTO_X25519_LEN], want[CRYPTO_X25519_LEN];
	uint8_t a[CRYPTO_X25519_LEN], b[CRYPTO_X25519_LEN],
	    apub[CRYPTO_X25519_LEN], bpub[CRYPTO_X25519_LEN],
	    ka[CRYPTO_X25519_LEN], kb[CRYPTO_X25519_LEN];
	char err[256];
	int i;

	(void)state;
	assert_int_equal(crypto_load_x25519(err, sizeof(err)), 0);
	expect_x25519(
	    "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	expect_x25519(
	    "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
	memset(k, 0, sizeof(k));
	k[0] = 9;
	memcpy(u, k, sizeof(u));
	for (i = 1; i <= 1000; i++) {
		assert_int_equal(crypto_x25519(k, u, r), 0);
		memcpy(u, k, sizeof(u));
		memcpy(k, r, sizeof(k));
		if (i == 1) {
			unhex_n("422c8e7a6227d7bca1350b3e2bb7279f"
			    "7897b87bb6854b783c60e80311ae3079", want,
			    sizeof(want));
			assert_memory_equal(k, want, sizeof(want));
		}
	}
	unhex_n("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
	    want, sizeof(want));
	assert_memory_equal(k, want, sizeof(want));

	unhex_n("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, sizeof(a));
	unhex_n("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, sizeof(b));
	crypto_x25519_public(a, apub);
	unhex_n("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    want, sizeof(want));
	assert_memory_equal(apub, want, sizeof(want));
	crypto_x25519_public(b, bpub);
	unhex_n("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    want, sizeof(want));
	assert_memory_equal(bpub, want, sizeof(want));
	assert_int_equal(crypto_x25519(a, bpub, ka), 0);
	assert_int_equal(crypto_x25519(b, apub, kb), 0);
	unhex_n("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    want, sizeof(want));
	assert_memory_equal(ka, want, sizeof(want));
	assert_memory_equal(kb, want, sizeof(want));
}

/* Points of small order give all zeros: refused, the output wiped; new pairs agree. */
static void
test_x25519_refuse(void **state)
{
	static const char *small[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		/* of order 8 */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	};
	uint8_t a[CRYPTO_X25519_LEN], apub[CRYPTO_X25519_LEN],
	    b[CRYPTO_X25519_LEN], bpub[CRYPTO_X25519_LEN],
	    u[CRYPTO_X25519_LEN], ka[CRYPTO_X25519_LEN], kb[CRYPTO_X25519_LEN],
	    zero[CRYPTO_X25519_LEN];
	size_t i;

	(void)state;
	memset(zero, 0, sizeof(zero));
	assert_int_equal(crypto_x25519_keypair(a, apub), 0);
	assert_int_equal(crypto_x25519_keypair(b, bpub), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	for (i = 0; i < TU_ARRAY_LEN(small); i++) {
		unhex_n(small[i], u, sizeof(u));
		memset(ka, 0x55, sizeof(ka));
		assert_int_equal(crypto_x25519(a, u, ka), -1);
		assert_memory_equal(ka, zero, sizeof(zero));
	}
	assert_int_equal(crypto_x25519(a, bpub, ka), 0);
	assert_int_equal(crypto_x25519(b, apub, kb), 0);
	assert_memory_equal(ka, kb, sizeof(ka));
	assert_memory_not_equal(ka, zero, sizeof(zero));
}

static void
expect_hmac_sha1(const uint8_t *key, size_t keylen, const char *msg,
    size_t len, const char *want_hex)
{
	uint8_t want[CRYPTO_SHA1_LEN], got[CRYPTO_SHA1_LEN];
	struct crypto_part part = { msg, len };

	assert_int_equal(tu_unhex(want_hex, want, sizeof(want)), sizeof(want));
	crypto_hmac_sha1(key, keylen, &part, 1, got);
	assert_memory_equal(got, want, sizeof(want));
}

/* RFC 2202 section 3: test cases 1, 2, 3, 4, 6 and 7 (5 is truncated). */
static void
test_rfc2202(void **state)
{
	uint8_t key[80];
	char data[50];

	(void)state;
	memset(key, 0x0b, 20);
	expect_hmac_sha1(key, 20, "Hi There", 8,
	    "b617318655057264e28bc0b6fb378c8ef146be00");
	expect_hmac_sha1((const uint8_t *)"Jefe", 4,
	    "what do ya want for nothing?", 28,
	    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	expect_hmac_sha1(key, 20, data, 50,
	    "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
	assert_int_equal(tu_unhex(
	    "0102030405060708090a0b0c0d0e0f10111213141516171819", key,
	    sizeof(key)), 25);
	memset(data, 0xcd, 50);
	expect_hmac_sha1(key, 25, data, 50,
	    "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
	memset(key, 0xaa, 80);
	expect_hmac_sha1(key, 80,
	    "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	    "aa4ae5e15272d00e95705637ce8a3b55ed402112");
	expect_hmac_sha1(key, 80,
	    "Test Using Larger Than Block-Size Key and Larger Than One "
	    "Block-Size Data", 73,
	    "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

/* RFC 1321 appendix A.5's test suite; a message in two parts is one. */
static void
test_md5(void **state)
{
	static const struct {
		const char *msg, *hex;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz",
		    "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "12345678901234567890123456789012345678901234567890123456789"
		    "012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a" },
	};
	uint8_t want[CRYPTO_MD5_LEN], got[CRYPTO_MD5_LEN];
	struct crypto_part parts[2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(tu_unhex(v[i].hex, want, sizeof(want)),
		    sizeof(want));
		parts[0].data = v[i].msg;
		parts[0].len = strlen(v[i].msg);
		crypto_md5(parts, 1, got);
		assert_memory_equal(got, want, sizeof(want));
	}
	parts[0].data = "message ";
	parts[0].len = 8;
	parts[1].data = "digest";
	parts[1].len = 6;
	crypto_md5(parts, 2, got);
	assert_int_equal(tu_unhex("f96b697d7cb7938d525a2f31aaf161d0", want,
	    sizeof(want)), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
}

/* RFC 4648 section 10's vectors; an output one byte short is refused. */
static void
test_base64(void **state)
{
	static const char *v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[16];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = strlen(v[i][1]);
		memset(out, 'x', sizeof(out));
		assert_int_equal(crypto_base64(v[i][0], strlen(v[i][0]), out,
		    sizeof(out)), (int)n);
		assert_string_equal(out, v[i][1]);
		assert_int_equal(crypto_base64(v[i][0], strlen(v[i][0]), out,
		    n), -1);
		assert_int_equal(crypto_base64(v[i][0], strlen(v[i][0]), out,
		    n + 1), (int)n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_rfc2202),
		cmocka_unit_test(test_md5),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_server_key),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_key_read),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_peer_key),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_rfc5869),
		cmocka_unit_test(test_rfc8439),
		cmocka_unit_test(test_gcm_vectors),
		cmocka_unit_test(test_aead_key),
		cmocka_unit_test(test_rfc7748),
		cmocka_unit_test(test_x25519_refuse),
	};

	return TU_RUN("crypto", tests);
}
