/* SPDX-License-Identifier: ISC */
/* HMAC-SHA256, SHA-256, HMAC-SHA1 and MD5 (TURN), HKDF, ChaCha20-Poly1305 and AES-256-GCM, X25519, key text and key files, random bytes: nettle and hogweed (loaded on first use) and getrandom(2), nothing hand-made. */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/base64.h>
#include <nettle/chacha-poly1305.h>
#include <nettle/curve25519.h>
#include <nettle/gcm.h>
#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "crypto.h"
#include "log.h"

/*
 * nettle is loaded when the rendezvous first needs it, not linked: natmapd
 * without a rendezvous never maps it (about 0.2 MB of its RSS).  Its
 * soname (NETTLE_SONAME, "libnettle.so.8") was read at configure time from
 * a program linked with it.
 */
/*
 * hogweed (HOGWEED_SONAME), nettle's public-key half, holds X25519; it is
 * loaded apart, when a punch session first needs a key, so that the
 * rendezvous server never maps it (nor the GMP it needs).
 */
#if !defined(NETTLE_CURVE25519_RFC7748)
#error "nettle's curve25519_mul is not RFC 7748's (nettle 3.1 or later)"
#endif
#if CHACHA_POLY1305_NONCE_SIZE != CRYPTO_AEAD_NONCE_LEN || \
    CHACHA_POLY1305_DIGEST_SIZE != CRYPTO_AEAD_TAG_LEN || \
    CHACHA_POLY1305_KEY_SIZE != CRYPTO_KEY_LEN || \
    CURVE25519_SIZE != CRYPTO_X25519_LEN
#error "nettle's sizes are not RFC 8439's and RFC 7748's"
#endif
#if GCM_DIGEST_SIZE != CRYPTO_AEAD_TAG_LEN || \
    AES256_KEY_SIZE != CRYPTO_KEY_LEN
#error "nettle's GCM sizes are not NIST SP 800-38D's with AES-256"
#endif
/* (fn_ names: nettle's headers #define the plain ones) */
#define NETTLE_FN(name)	__typeof__(nettle_##name) *fn_##name
static struct {
	void	*lib;
	int	 tried;
	char	 err[256];	/* why it could not be loaded */
	NETTLE_FN(base64_decode_final);
	NETTLE_FN(base64_decode_init);
	NETTLE_FN(base64_decode_update);
	NETTLE_FN(base64_encode_raw);
	NETTLE_FN(chacha_poly1305_decrypt);
	NETTLE_FN(chacha_poly1305_digest);
	NETTLE_FN(chacha_poly1305_encrypt);
	NETTLE_FN(chacha_poly1305_set_key);
	NETTLE_FN(chacha_poly1305_set_nonce);
	NETTLE_FN(chacha_poly1305_update);
	NETTLE_FN(gcm_aes256_decrypt);
	NETTLE_FN(gcm_aes256_digest);
	NETTLE_FN(gcm_aes256_encrypt);
	NETTLE_FN(gcm_aes256_set_iv);
	NETTLE_FN(gcm_aes256_set_key);
	NETTLE_FN(gcm_aes256_update);
	NETTLE_FN(hkdf_expand);
	NETTLE_FN(hkdf_extract);
	NETTLE_FN(hmac_sha1_digest);
	NETTLE_FN(hmac_sha1_set_key);
	NETTLE_FN(hmac_sha1_update);
	NETTLE_FN(hmac_sha256_digest);
	NETTLE_FN(hmac_sha256_set_key);
	NETTLE_FN(hmac_sha256_update);
	NETTLE_FN(md5_digest);
	NETTLE_FN(md5_init);
	NETTLE_FN(md5_update);
	NETTLE_FN(sha256_digest);
	NETTLE_FN(sha256_init);
	NETTLE_FN(sha256_update);
} nettle;
static struct {
	void	*lib;
	int	 tried;
	char	 err[256];
	NETTLE_FN(curve25519_mul);
	NETTLE_FN(curve25519_mul_g);
} hogweed;
#undef NETTLE_FN

/* One symbol to look up: where its address goes. */
struct lib_sym {
	const char	*sym;
	void		*slot;		/* a function pointer in C */
};

#define NETTLE_SYM(name)	{ "nettle_" #name, (void *)&nettle.fn_##name }
static const struct lib_sym nettle_syms[] = {
	NETTLE_SYM(base64_decode_final), NETTLE_SYM(base64_decode_init),
	NETTLE_SYM(base64_decode_update), NETTLE_SYM(base64_encode_raw),
	NETTLE_SYM(chacha_poly1305_decrypt), NETTLE_SYM(chacha_poly1305_digest),
	NETTLE_SYM(chacha_poly1305_encrypt),
	NETTLE_SYM(chacha_poly1305_set_key),
	NETTLE_SYM(chacha_poly1305_set_nonce),
	NETTLE_SYM(chacha_poly1305_update),
	NETTLE_SYM(gcm_aes256_decrypt), NETTLE_SYM(gcm_aes256_digest),
	NETTLE_SYM(gcm_aes256_encrypt), NETTLE_SYM(gcm_aes256_set_iv),
	NETTLE_SYM(gcm_aes256_set_key), NETTLE_SYM(gcm_aes256_update),
	NETTLE_SYM(hkdf_expand), NETTLE_SYM(hkdf_extract),
	NETTLE_SYM(hmac_sha1_digest), NETTLE_SYM(hmac_sha1_set_key),
	NETTLE_SYM(hmac_sha1_update),
	NETTLE_SYM(hmac_sha256_digest), NETTLE_SYM(hmac_sha256_set_key),
	NETTLE_SYM(hmac_sha256_update),
	NETTLE_SYM(md5_digest), NETTLE_SYM(md5_init), NETTLE_SYM(md5_update),
	NETTLE_SYM(sha256_digest), NETTLE_SYM(sha256_init),
	NETTLE_SYM(sha256_update),
};
#undef NETTLE_SYM
#define HOGWEED_SYM(name)	{ "nettle_" #name, (void *)&hogweed.fn_##name }
static const struct lib_sym hogweed_syms[] = {
	HOGWEED_SYM(curve25519_mul), HOGWEED_SYM(curve25519_mul_g),
};
#undef HOGWEED_SYM

/* From here on, nettle's functions are called through the pointers. */
#undef base64_decode_final
#undef base64_decode_init
#undef base64_decode_update
#undef base64_encode_raw
#undef hmac_sha1_digest
#undef hmac_sha1_set_key
#undef hmac_sha1_update
#undef md5_digest
#undef md5_init
#undef md5_update
#undef hmac_sha256_digest
#undef hmac_sha256_set_key
#undef hmac_sha256_update
#undef chacha_poly1305_decrypt
#undef chacha_poly1305_digest
#undef chacha_poly1305_encrypt
#undef chacha_poly1305_set_key
#undef chacha_poly1305_set_nonce
#undef chacha_poly1305_update
#undef curve25519_mul
#undef curve25519_mul_g
#undef gcm_aes256_decrypt
#undef gcm_aes256_digest
#undef gcm_aes256_encrypt
#undef gcm_aes256_set_iv
#undef gcm_aes256_set_key
#undef gcm_aes256_update
#undef hkdf_expand
#undef hkdf_extract
#undef sha256_digest
#undef sha256_init
#undef sha256_update
#define base64_decode_final	(*nettle.fn_base64_decode_final)
#define base64_decode_init	(*nettle.fn_base64_decode_init)
#define base64_decode_update	(*nettle.fn_base64_decode_update)
#define base64_encode_raw	(*nettle.fn_base64_encode_raw)
#define hmac_sha1_digest	(*nettle.fn_hmac_sha1_digest)
#define hmac_sha1_set_key	(*nettle.fn_hmac_sha1_set_key)
#define hmac_sha1_update	(*nettle.fn_hmac_sha1_update)
#define md5_digest		(*nettle.fn_md5_digest)
#define md5_init		(*nettle.fn_md5_init)
#define md5_update		(*nettle.fn_md5_update)
#define hmac_sha256_digest	(*nettle.fn_hmac_sha256_digest)
#define hmac_sha256_set_key	(*nettle.fn_hmac_sha256_set_key)
#define hmac_sha256_update	(*nettle.fn_hmac_sha256_update)
#define chacha_poly1305_decrypt	(*nettle.fn_chacha_poly1305_decrypt)
#define chacha_poly1305_digest	(*nettle.fn_chacha_poly1305_digest)
#define chacha_poly1305_encrypt	(*nettle.fn_chacha_poly1305_encrypt)
#define chacha_poly1305_set_key	(*nettle.fn_chacha_poly1305_set_key)
#define chacha_poly1305_set_nonce	(*nettle.fn_chacha_poly1305_set_nonce)
#define chacha_poly1305_update	(*nettle.fn_chacha_poly1305_update)
#define gcm_aes256_decrypt	(*nettle.fn_gcm_aes256_decrypt)
#define gcm_aes256_digest	(*nettle.fn_gcm_aes256_digest)
#define gcm_aes256_encrypt	(*nettle.fn_gcm_aes256_encrypt)
#define gcm_aes256_set_iv	(*nettle.fn_gcm_aes256_set_iv)
#define gcm_aes256_set_key	(*nettle.fn_gcm_aes256_set_key)
#define gcm_aes256_update	(*nettle.fn_gcm_aes256_update)
#define curve25519_mul		(*hogweed.fn_curve25519_mul)
#define curve25519_mul_g	(*hogweed.fn_curve25519_mul_g)
#define hkdf_expand		(*nettle.fn_hkdf_expand)
#define hkdf_extract		(*nettle.fn_hkdf_extract)
#define sha256_digest		(*nettle.fn_sha256_digest)
#define sha256_init		(*nettle.fn_sha256_init)
#define sha256_update		(*nettle.fn_sha256_update)

/*
 * dlopen soname and fill the slots of its symbols: the library, or NULL
 * with the reason in err (why: what it is needed for).
 */
static void *
lib_open(const char *soname, const char *why, const struct lib_sym *syms,
    size_t nsyms, char *err, size_t errlen)
{
	void *lib, *p;
	size_t i;

	if ((lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "cannot load %s (%s): %s", soname, why,
		    dlerror());
		return NULL;
	}
	for (i = 0; i < nsyms; i++) {
		if ((p = dlsym(lib, syms[i].sym)) == NULL) {
			snprintf(err, errlen, "%s has no %s", soname,
			    syms[i].sym);
			dlclose(lib);
			return NULL;
		}
		memcpy(syms[i].slot, &p, sizeof(p));
	}
	return lib;
}

/* dlopen nettle once: 0, or -1 with the reason kept in nettle.err. */
static int
nettle_load(void)
{
	if (nettle.lib != NULL)
		return 0;
	if (nettle.tried)
		return -1;
	nettle.tried = 1;
	nettle.lib = lib_open(NETTLE_SONAME, "nettle, needed for the "
	    "rendezvous", nettle_syms, sizeof(nettle_syms) /
	    sizeof(nettle_syms[0]), nettle.err, sizeof(nettle.err));
	return nettle.lib != NULL ? 0 : -1;
}

/* dlopen hogweed once (nettle first): 0, or -1 with the reason in hogweed.err. */
static int
hogweed_load(void)
{
	if (hogweed.lib != NULL)
		return 0;
	if (hogweed.tried)
		return -1;
	hogweed.tried = 1;
	if (nettle_load() == -1) {
		snprintf(hogweed.err, sizeof(hogweed.err), "%s", nettle.err);
		return -1;
	}
	hogweed.lib = lib_open(HOGWEED_SONAME, "hogweed, needed for hole "
	    "punching", hogweed_syms, sizeof(hogweed_syms) /
	    sizeof(hogweed_syms[0]), hogweed.err, sizeof(hogweed.err));
	return hogweed.lib != NULL ? 0 : -1;
}

int
crypto_load_x25519(char *err, size_t errlen)
{
	if (hogweed_load() == 0)
		return 0;
	if (errlen > 0)
		snprintf(err, errlen, "%s", hogweed.err);
	return -1;
}

int
crypto_load(char *err, size_t errlen)
{
	if (nettle_load() == 0)
		return 0;
	if (errlen > 0)
		snprintf(err, errlen, "%s", nettle.err);
	return -1;
}

/*
 * For the functions that cannot fail: their callers had crypto_load() (or
 * crypto_key_read()) succeed at start-up, so a failure here is a broken
 * invariant.
 */
static void
nettle_need(void)
{
	if (nettle_load() == -1)
		fatalx("crypto: %s", nettle.err);
}

static void
hogweed_need(void)
{
	if (hogweed_load() == -1)
		fatalx("crypto: %s", hogweed.err);
}

/* Fixed for good: changing one changes every key made from a secret. */
#define SERVER_KEY_LABEL	"natmapd rendezvous server key v1"
#define PEER_KEY_LABEL		"natmapd peer key v1"

int
crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
crypto_hmac_sha256(const void *key, size_t keylen,
    const struct crypto_part *parts, size_t nparts,
    uint8_t out[CRYPTO_SHA256_LEN])
{
	struct hmac_sha256_ctx ctx;
	size_t i;

	nettle_need();
	hmac_sha256_set_key(&ctx, keylen, key);
	for (i = 0; i < nparts; i++)
		hmac_sha256_update(&ctx, parts[i].len, parts[i].data);
	hmac_sha256_digest(&ctx, CRYPTO_SHA256_LEN, out);
	crypto_wipe(&ctx, sizeof(ctx));
}

/*
 * nettle's memeql_sec() loop, here so that a comparison does not load the
 * library: natmapd compares its (empty) rendezvous identity on every
 * (re)configuration, with a rendezvous or not.
 */
int
crypto_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

void
crypto_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}

void
crypto_server_key(const uint8_t secret[CRYPTO_KEY_LEN],
    uint8_t out[CRYPTO_KEY_LEN])
{
	struct crypto_part label = { SERVER_KEY_LABEL,
	    sizeof(SERVER_KEY_LABEL) - 1 };

	crypto_hmac_sha256(secret, CRYPTO_KEY_LEN, &label, 1, out);
}

void
crypto_peer_key(const uint8_t secret[CRYPTO_KEY_LEN],
    uint8_t out[CRYPTO_KEY_LEN])
{
	struct crypto_part label = { PEER_KEY_LABEL,
	    sizeof(PEER_KEY_LABEL) - 1 };

	crypto_hmac_sha256(secret, CRYPTO_KEY_LEN, &label, 1, out);
}

void
crypto_sha256(const struct crypto_part *parts, size_t nparts,
    uint8_t out[CRYPTO_SHA256_LEN])
{
	struct sha256_ctx ctx;
	size_t i;

	nettle_need();
	sha256_init(&ctx);
	for (i = 0; i < nparts; i++)
		sha256_update(&ctx, parts[i].len, parts[i].data);
	sha256_digest(&ctx, CRYPTO_SHA256_LEN, out);
	crypto_wipe(&ctx, sizeof(ctx));
}

void
crypto_hmac_sha1(const void *key, size_t keylen,
    const struct crypto_part *parts, size_t nparts,
    uint8_t out[CRYPTO_SHA1_LEN])
{
	struct hmac_sha1_ctx ctx;
	size_t i;

	nettle_need();
	hmac_sha1_set_key(&ctx, keylen, key);
	for (i = 0; i < nparts; i++)
		hmac_sha1_update(&ctx, parts[i].len, parts[i].data);
	hmac_sha1_digest(&ctx, CRYPTO_SHA1_LEN, out);
	crypto_wipe(&ctx, sizeof(ctx));
}

void
crypto_md5(const struct crypto_part *parts, size_t nparts,
    uint8_t out[CRYPTO_MD5_LEN])
{
	struct md5_ctx ctx;
	size_t i;

	nettle_need();
	md5_init(&ctx);
	for (i = 0; i < nparts; i++)
		md5_update(&ctx, parts[i].len, parts[i].data);
	md5_digest(&ctx, CRYPTO_MD5_LEN, out);
	crypto_wipe(&ctx, sizeof(ctx));
}

/*
 * nettle's HKDF takes the MAC as a context and its update and digest
 * functions; hmac_sha256's, whose context is a struct hmac_sha256_ctx,
 * are passed as its generic ones, as nettle's manual does.
 */
void
crypto_hkdf_extract(const void *salt, size_t saltlen, const void *ikm,
    size_t ikmlen, uint8_t prk[CRYPTO_SHA256_LEN])
{
	struct hmac_sha256_ctx ctx;

	nettle_need();
	hmac_sha256_set_key(&ctx, saltlen, salt);
	hkdf_extract(&ctx, (nettle_hash_update_func *)nettle.fn_hmac_sha256_update,
	    (nettle_hash_digest_func *)nettle.fn_hmac_sha256_digest,
	    CRYPTO_SHA256_LEN, ikmlen, ikm, prk);
	crypto_wipe(&ctx, sizeof(ctx));
}

int
crypto_hkdf_expand(const uint8_t prk[CRYPTO_SHA256_LEN], const void *info,
    size_t infolen, uint8_t *out, size_t outlen)
{
	struct hmac_sha256_ctx ctx;

	if (outlen > CRYPTO_HKDF_MAX) {
		errno = EINVAL;
		return -1;
	}
	nettle_need();
	hmac_sha256_set_key(&ctx, CRYPTO_SHA256_LEN, prk);
	hkdf_expand(&ctx, (nettle_hash_update_func *)nettle.fn_hmac_sha256_update,
	    (nettle_hash_digest_func *)nettle.fn_hmac_sha256_digest,
	    CRYPTO_SHA256_LEN, infolen, info, outlen, out);
	crypto_wipe(&ctx, sizeof(ctx));
	return 0;
}

/* ---- AEAD: ChaCha20-Poly1305, AES-256-GCM ---- */

/* A key of either cipher; the one-shot calls make one on the stack. */
struct crypto_aead {
	int			cipher;		/* enum crypto_cipher */
	uint8_t			key[CRYPTO_KEY_LEN];	/* ChaCha20-Poly1305's */
	struct gcm_aes256_ctx	gcm;	/* AES-256-GCM's key schedule and H table */
};

/*
 * One message through a's cipher: the nonce, the additional data, len
 * bytes of in to out (encrypted, or decrypted), then the tag into tag.
 * RFC 8439 section 2.8: nettle's chacha_poly1305 is that construction
 * (Poly1305 over the additional data and the ciphertext, each padded to
 * 16 bytes, then both lengths as 64-bit little-endian numbers); nettle's
 * gcm_aes256 is NIST SP 800-38D's GCM with a 96-bit IV.  Both checked by
 * the unit tests against RFC 8439's and the GCM specification's vectors.
 */
static void
aead_run(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
    const void *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
    int decrypt, uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	struct chacha_poly1305_ctx ctx;

	nettle_need();
	if (a->cipher == CRYPTO_AES256_GCM) {
		gcm_aes256_set_iv(&a->gcm, CRYPTO_AEAD_NONCE_LEN, nonce);
		if (adlen > 0)
			gcm_aes256_update(&a->gcm, adlen, ad);
		if (len > 0 && decrypt)
			gcm_aes256_decrypt(&a->gcm, len, out, in);
		else if (len > 0)
			gcm_aes256_encrypt(&a->gcm, len, out, in);
		gcm_aes256_digest(&a->gcm, CRYPTO_AEAD_TAG_LEN, tag);
		return;
	}
	chacha_poly1305_set_key(&ctx, a->key);
	chacha_poly1305_set_nonce(&ctx, nonce);
	if (adlen > 0)
		chacha_poly1305_update(&ctx, adlen, ad);
	if (len > 0 && decrypt)
		chacha_poly1305_decrypt(&ctx, len, out, in);
	else if (len > 0)
		chacha_poly1305_encrypt(&ctx, len, out, in);
	chacha_poly1305_digest(&ctx, CRYPTO_AEAD_TAG_LEN, tag);
	crypto_wipe(&ctx, sizeof(ctx));
}

void
crypto_aead_key_seal(struct crypto_aead *a,
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad, size_t adlen,
    const void *plain, size_t len, uint8_t *out)
{
	aead_run(a, nonce, ad, adlen, plain, len, out, 0, out + len);
}

int
crypto_aead_key_open(struct crypto_aead *a,
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad, size_t adlen,
    const void *sealed, size_t len, uint8_t *out)
{
	uint8_t tag[CRYPTO_AEAD_TAG_LEN], want[CRYPTO_AEAD_TAG_LEN];
	const uint8_t *in = sealed;
	size_t n;
	int ok;

	if (len < CRYPTO_AEAD_TAG_LEN)
		return -1;
	n = len - CRYPTO_AEAD_TAG_LEN;
	/* the tag, before decrypting in place may overwrite it */
	memcpy(tag, in + n, sizeof(tag));
	aead_run(a, nonce, ad, adlen, in, n, out, 1, want);
	ok = crypto_equal(want, tag, sizeof(want));
	crypto_wipe(want, sizeof(want));
	if (!ok) {
		/* nothing of a forgery is let out */
		crypto_wipe(out, n);
		return -1;
	}
	return 0;
}

void
crypto_aead_seal(const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad, size_t adlen,
    const void *plain, size_t len, uint8_t *out)
{
	struct crypto_aead a;

	a.cipher = CRYPTO_CHACHA20_POLY1305;
	memcpy(a.key, key, sizeof(a.key));
	crypto_aead_key_seal(&a, nonce, ad, adlen, plain, len, out);
	crypto_wipe(a.key, sizeof(a.key));
}

int
crypto_aead_open(const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad, size_t adlen,
    const void *sealed, size_t len, uint8_t *out)
{
	struct crypto_aead a;
	int r;

	a.cipher = CRYPTO_CHACHA20_POLY1305;
	memcpy(a.key, key, sizeof(a.key));
	r = crypto_aead_key_open(&a, nonce, ad, adlen, sealed, len, out);
	crypto_wipe(a.key, sizeof(a.key));
	return r;
}

const char *
crypto_cipher_name(int cipher)
{
	switch (cipher) {
	case CRYPTO_CHACHA20_POLY1305:
		return "chacha20-poly1305";
	case CRYPTO_AES256_GCM:
		return "aes-256-gcm";
	default:
		return "unknown";
	}
}

int
crypto_aes_fast(void)
{
#if defined(__x86_64__) || defined(__i386__)
	/*
	 * nettle picks its AES-NI and PCLMULQDQ code at run time (a "fat"
	 * build, as Debian's and OpenWrt's x86 ones are); without them its
	 * AES and GHASH in C are slower than ChaCha20-Poly1305 and not
	 * constant-time.
	 */
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes") &&
	    __builtin_cpu_supports("pclmul");
#else
	return 0;
#endif
}

struct crypto_aead *
crypto_aead_new(int cipher, const uint8_t key[CRYPTO_KEY_LEN])
{
	struct crypto_aead *a;

	if (cipher != CRYPTO_CHACHA20_POLY1305 && cipher != CRYPTO_AES256_GCM) {
		errno = EINVAL;
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->cipher = cipher;
	if (cipher == CRYPTO_AES256_GCM) {
		nettle_need();
		gcm_aes256_set_key(&a->gcm, key);
	} else
		memcpy(a->key, key, CRYPTO_KEY_LEN);
	return a;
}

void
crypto_aead_free(struct crypto_aead *a)
{
	if (a == NULL)
		return;
	crypto_wipe(a, sizeof(*a));
	free(a);
}

int
crypto_aead_cipher(const struct crypto_aead *a)
{
	return a->cipher;
}

void
crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN])
{
	hogweed_need();
	curve25519_mul_g(pub, priv);
}

int
crypto_x25519_keypair(uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN])
{
	if (crypto_random(priv, CRYPTO_X25519_LEN) == -1)
		return -1;
	crypto_x25519_public(priv, pub);
	return 0;
}

int
crypto_x25519(const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t pub[CRYPTO_X25519_LEN], uint8_t shared[CRYPTO_X25519_LEN])
{
	static const uint8_t zero[CRYPTO_X25519_LEN];

	hogweed_need();
	curve25519_mul(shared, priv, pub);
	/* RFC 7748 section 6.1: a point of small order gives all zeros */
	if (crypto_equal(shared, zero, sizeof(zero))) {
		crypto_wipe(shared, CRYPTO_X25519_LEN);
		return -1;
	}
	return 0;
}

int
crypto_key_new(uint8_t key[CRYPTO_KEY_LEN])
{
	return crypto_random(key, CRYPTO_KEY_LEN);
}

void
crypto_key_format(const uint8_t key[CRYPTO_KEY_LEN],
    char out[CRYPTO_KEY_TEXT_LEN + 1])
{
	/* BASE64_ENCODE_RAW_LENGTH(32) is 44: with its padding */
	nettle_need();
	base64_encode_raw(out, CRYPTO_KEY_LEN, key);
	out[CRYPTO_KEY_TEXT_LEN] = '\0';
}

int
crypto_base64(const void *in, size_t len, char *out, size_t outlen)
{
	size_t need = BASE64_ENCODE_RAW_LENGTH(len);

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3 || need + 1 > outlen)
		return -1;
	nettle_need();
	base64_encode_raw(out, len, in);
	out[need] = '\0';
	return (int)need;
}

int
crypto_key_parse(const char *text, size_t len, uint8_t key[CRYPTO_KEY_LEN])
{
	struct base64_decode_ctx ctx;
	uint8_t buf[BASE64_DECODE_LENGTH(CRYPTO_KEY_TEXT_LEN)];
	char canon[CRYPTO_KEY_TEXT_LEN + 1];
	size_t n = sizeof(buf);
	size_t i;

	if (len != CRYPTO_KEY_TEXT_LEN || nettle_load() == -1)
		return -1;
	/* nettle skips blanks inside; a key has none */
	for (i = 0; i < len; i++)
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
		    text[i] == '\r' || text[i] == '\0')
			return -1;
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, buf, len, text) ||
	    !base64_decode_final(&ctx) || n != CRYPTO_KEY_LEN) {
		crypto_wipe(buf, sizeof(buf));
		return -1;
	}
	/* one text for one key: the unused low bits must be zero */
	crypto_key_format(buf, canon);
	if (memcmp(canon, text, CRYPTO_KEY_TEXT_LEN) != 0) {
		crypto_wipe(buf, sizeof(buf));
		crypto_wipe(canon, sizeof(canon));
		return -1;
	}
	memcpy(key, buf, CRYPTO_KEY_LEN);
	crypto_wipe(buf, sizeof(buf));
	crypto_wipe(canon, sizeof(canon));
	return 0;
}

static int
key_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
crypto_secret_read(const char *path, const char *what, char *buf, size_t max,
    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	char extra;
	int fd, r;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return key_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		r = errno;
		close(fd);
		return key_err(err, errlen, "%s: %s", path, strerror(r));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return key_err(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		close(fd);
		return key_err(err, errlen, "%s: others may read or write "
		    "it (mode %04o); a %s file is 0600 or 0640", path,
		    (unsigned)(st.st_mode & 07777), what);
	}
	/* max bytes, then one more to see a file that is longer */
	for (;;) {
		if (got < max)
			n = read(fd, buf + got, max - got);
		else
			n = read(fd, &extra, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = errno;
			close(fd);
			crypto_wipe(buf, max);
			return key_err(err, errlen, "%s: %s", path,
			    strerror(r));
		}
		if (n == 0)
			break;
		if (got == max) {
			close(fd);
			crypto_wipe(buf, max);
			crypto_wipe(&extra, 1);
			return key_err(err, errlen, "%s: longer than a %s file "
			    "(%zu bytes at most)", path, what, max);
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
}

int
crypto_key_read(const char *path, uint8_t key[CRYPTO_KEY_LEN], char *err,
    size_t errlen)
{
	char buf[CRYPTO_KEY_FILE_MAX];
	size_t len = 0, start, end;
	int r;

	if (nettle_load() == -1)
		return key_err(err, errlen, "%s", nettle.err);
	if (crypto_secret_read(path, "key", buf, sizeof(buf), &len, err,
	    errlen) == -1)
		return -1;
	start = 0;
	while (start < len && (buf[start] == ' ' || buf[start] == '\t'))
		start++;
	end = len;
	if (end > start && buf[end - 1] == '\n')
		end--;
	if (end > start && buf[end - 1] == '\r')
		end--;
	while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	r = crypto_key_parse(buf + start, end - start, key);
	crypto_wipe(buf, sizeof(buf));
	if (r == -1)
		return key_err(err, errlen, "%s: not a key (one line of %d "
		    "base64 characters, as natmapd --keygen prints)", path,
		    CRYPTO_KEY_TEXT_LEN);
	return 0;
}

/* The key's HMAC state, set once: each hash is then two SHA-256 blocks. */
struct crypto_hash {
	struct hmac_sha256_ctx	ctx;
};

struct crypto_hash *
crypto_hash_new_key(const uint8_t key[CRYPTO_KEY_LEN])
{
	struct crypto_hash *h;

	if (nettle_load() == -1) {
		errno = ELIBACC;
		return NULL;
	}
	if ((h = malloc(sizeof(*h))) == NULL)
		return NULL;
	hmac_sha256_set_key(&h->ctx, CRYPTO_KEY_LEN, key);
	return h;
}

struct crypto_hash *
crypto_hash_new(void)
{
	struct crypto_hash *h;
	uint8_t key[CRYPTO_KEY_LEN];

	if (crypto_random(key, sizeof(key)) == -1)
		return NULL;
	h = crypto_hash_new_key(key);
	crypto_wipe(key, sizeof(key));
	return h;
}

uint64_t
crypto_hash64(const struct crypto_hash *h, const void *data, size_t len)
{
	struct hmac_sha256_ctx ctx = h->ctx;
	uint8_t out[8];
	uint64_t v = 0;
	size_t i;

	hmac_sha256_update(&ctx, len, data);
	hmac_sha256_digest(&ctx, sizeof(out), out);
	for (i = 0; i < sizeof(out); i++)
		v = v << 8 | out[i];
	crypto_wipe(&ctx, sizeof(ctx));
	return v;
}

void
crypto_hash_free(struct crypto_hash *h)
{
	if (h == NULL)
		return;
	crypto_wipe(h, sizeof(*h));
	free(h);
}
