/* SPDX-License-Identifier: ISC */
/* The one door to the crypto library (nettle and hogweed, loaded on first use): HMAC, hashes, HKDF, AEAD, X25519, keys, random bytes. */
#ifndef NATMAPD_CRYPTO_H
#define NATMAPD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN		32	/* a network's secret, a derived key */
#define CRYPTO_SHA256_LEN	32	/* SHA-256, HMAC-SHA256 */
#define CRYPTO_SHA1_LEN		20	/* HMAC-SHA1 (TURN's MESSAGE-INTEGRITY, REST credentials) */
#define CRYPTO_MD5_LEN		16	/* MD5 (TURN's long-term key) */
#define CRYPTO_X25519_LEN	32	/* an X25519 key, public or private */
#define CRYPTO_AEAD_NONCE_LEN	12	/* ChaCha20-Poly1305 (RFC 8439), AES-256-GCM */
#define CRYPTO_AEAD_TAG_LEN	16
#define CRYPTO_HKDF_MAX		(255 * CRYPTO_SHA256_LEN)	/* RFC 5869 */
/* A key as text: standard base64 of its 32 bytes, "=" included. */
#define CRYPTO_KEY_TEXT_LEN	44
/* A key file is one line; anything longer is not one. */
#define CRYPTO_KEY_FILE_MAX	256

/* One piece of a message that is authenticated in several pieces. */
struct crypto_part {
	const void	*data;
	size_t		 len;
};

/*
 * Load the crypto library (dlopen, once): 0, or -1 with the reason in err.
 * Every function below but crypto_random, crypto_equal and crypto_wipe
 * needs it: crypto_key_read, crypto_key_parse and crypto_hash_new* fail
 * without it, the others end the program (fatalx), so a program calls
 * this, or crypto_key_read, before it uses them.
 */
int	crypto_load(char *err, size_t errlen);
/*
 * The same for X25519, which is in hogweed (loaded apart, so that the
 * rendezvous server does without it): loads nettle and hogweed; 0, or -1
 * with the reason in err.  The crypto_x25519* functions end the program
 * (fatalx) without it.
 */
int	crypto_load_x25519(char *err, size_t errlen);
/* len bytes from getrandom(2); 0, or -1 with errno set. */
int	crypto_random(void *, size_t len);
/* HMAC-SHA256 of the parts, in order, under key. */
void	crypto_hmac_sha256(const void *key, size_t keylen,
	    const struct crypto_part *, size_t nparts,
	    uint8_t out[CRYPTO_SHA256_LEN]);
/*
 * HMAC-SHA1 and MD5, which TURN (RFC 8656) and coturn's REST credentials
 * are made of and nothing else here uses: HMAC-SHA1 of the parts under
 * key; MD5 of the parts.
 */
void	crypto_hmac_sha1(const void *key, size_t keylen,
	    const struct crypto_part *, size_t nparts,
	    uint8_t out[CRYPTO_SHA1_LEN]);
void	crypto_md5(const struct crypto_part *, size_t nparts,
	    uint8_t out[CRYPTO_MD5_LEN]);
/*
 * Standard base64 (RFC 4648 section 4, "=" padding) of len bytes, NUL-
 * terminated, into out of outlen bytes: the length of the text, or -1
 * when out is too small (4 * ceil(len / 3) + 1 bytes are needed).
 */
int	crypto_base64(const void *, size_t len, char *out, size_t outlen);
/* 1 if the len bytes are equal, in a time that does not depend on where they differ. */
int	crypto_equal(const void *, const void *, size_t len);
/* Zero a secret; the compiler may not drop it. */
void	crypto_wipe(void *, size_t len);

/*
 * What natmapd-rendezvous stores for a network: HMAC-SHA256 of a fixed
 * label under the network's secret.  It authenticates the nodes' messages
 * to the server; the secret itself, which the nodes keep for what they say
 * to each other, cannot be had back from it.
 */
void	crypto_server_key(const uint8_t secret[CRYPTO_KEY_LEN],
	    uint8_t out[CRYPTO_KEY_LEN]);
/*
 * The key the nodes of a network authenticate their end-to-end payloads
 * (include/punch-msg.h) with: HMAC-SHA256 of another fixed label under the
 * secret.  natmapd-rendezvous, which holds only the server key, cannot
 * make it.
 */
void	crypto_peer_key(const uint8_t secret[CRYPTO_KEY_LEN],
	    uint8_t out[CRYPTO_KEY_LEN]);

/* SHA-256 of the parts, in order. */
void	crypto_sha256(const struct crypto_part *, size_t nparts,
	    uint8_t out[CRYPTO_SHA256_LEN]);

/*
 * HKDF with HMAC-SHA256 (RFC 5869): extract a pseudorandom key from the
 * input keying material and a salt (saltlen 0: the RFC's zeros), then
 * expand it with info to outlen bytes (at most CRYPTO_HKDF_MAX; 0, or -1
 * with errno EINVAL beyond).
 */
void	crypto_hkdf_extract(const void *salt, size_t saltlen,
	    const void *ikm, size_t ikmlen, uint8_t prk[CRYPTO_SHA256_LEN]);
int	crypto_hkdf_expand(const uint8_t prk[CRYPTO_SHA256_LEN],
	    const void *info, size_t infolen, uint8_t *out, size_t outlen);

/*
 * ChaCha20-Poly1305 (RFC 8439 section 2.8) with a 12-byte nonce, which
 * must never be used twice under one key.  Seal: len bytes of plain to
 * out, then the 16-byte tag (len + CRYPTO_AEAD_TAG_LEN bytes in all).
 * Open: len bytes of ciphertext and tag to len - CRYPTO_AEAD_TAG_LEN bytes
 * of plain text; 0, or -1 when len is shorter than a tag or the tag is
 * not right (out then holds zeros, never a forgery's plain text).  out may
 * be the input itself (in place); no other overlap.
 */
void	crypto_aead_seal(const uint8_t key[CRYPTO_KEY_LEN],
	    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad,
	    size_t adlen, const void *plain, size_t len, uint8_t *out);
int	crypto_aead_open(const uint8_t key[CRYPTO_KEY_LEN],
	    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad,
	    size_t adlen, const void *sealed, size_t len, uint8_t *out);

/*
 * A session's AEAD key, made once and used for many messages: the
 * cipher's key schedule (AES-256-GCM's, with its GHASH table) is not
 * made again for each one.  ChaCha20-Poly1305 as above, or AES-256-GCM
 * (NIST SP 800-38D) with a 12-byte nonce and a 16-byte tag; seal and open
 * as crypto_aead_seal and crypto_aead_open (the same lengths, in place
 * allowed, out zeroed when the tag is not right).  The key holds state
 * between the calls: one message at a time.
 */
enum crypto_cipher {
	CRYPTO_CHACHA20_POLY1305 = 0,
	CRYPTO_AES256_GCM = 1,
};
struct crypto_aead;

/* "chacha20-poly1305", "aes-256-gcm", or "unknown". */
const char *crypto_cipher_name(int cipher);
/*
 * 1 if this CPU has the instructions that make AES-256-GCM fast and
 * constant-time in nettle (x86's AES-NI and PCLMULQDQ), else 0: a node
 * offers AES-256-GCM only then.
 */
int	crypto_aes_fast(void);
/* A key of that cipher (enum crypto_cipher); NULL with errno set. */
struct crypto_aead *crypto_aead_new(int cipher,
	    const uint8_t key[CRYPTO_KEY_LEN]);
/* Wiped, then freed; NULL is fine. */
void	crypto_aead_free(struct crypto_aead *);
int	crypto_aead_cipher(const struct crypto_aead *);
void	crypto_aead_key_seal(struct crypto_aead *,
	    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad,
	    size_t adlen, const void *plain, size_t len, uint8_t *out);
int	crypto_aead_key_open(struct crypto_aead *,
	    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const void *ad,
	    size_t adlen, const void *sealed, size_t len, uint8_t *out);

/*
 * X25519 (RFC 7748): the public key of a private one (the scalar is
 * clamped as the RFC says); a new random pair (0, or -1 with errno set);
 * the shared secret of one's private key and the peer's public key: 0,
 * or -1 (shared wiped) when it is all zeros, as a public key of small
 * order makes it (RFC 7748 section 6.1): such a peer is refused.
 */
void	crypto_x25519_public(const uint8_t priv[CRYPTO_X25519_LEN],
	    uint8_t pub[CRYPTO_X25519_LEN]);
int	crypto_x25519_keypair(uint8_t priv[CRYPTO_X25519_LEN],
	    uint8_t pub[CRYPTO_X25519_LEN]);
int	crypto_x25519(const uint8_t priv[CRYPTO_X25519_LEN],
	    const uint8_t pub[CRYPTO_X25519_LEN],
	    uint8_t shared[CRYPTO_X25519_LEN]);

/* A new random key; 0, or -1 with errno set. */
int	crypto_key_new(uint8_t key[CRYPTO_KEY_LEN]);
/* The key as text, NUL-terminated. */
void	crypto_key_format(const uint8_t key[CRYPTO_KEY_LEN],
	    char out[CRYPTO_KEY_TEXT_LEN + 1]);
/* Text back to a key: exactly CRYPTO_KEY_TEXT_LEN characters; 0, or -1. */
int	crypto_key_parse(const char *text, size_t len,
	    uint8_t key[CRYPTO_KEY_LEN]);
/*
 * A key file: one key as text, surrounding blanks and one newline allowed.
 * Refused if others than its owner and group may read or write it, or if it
 * is not a regular file.  0, or -1 with the reason in err (never the key).
 */
int	crypto_key_read(const char *path, uint8_t key[CRYPTO_KEY_LEN],
	    char *err, size_t errlen);
/*
 * A small secret file, refused as key files are (not a regular file,
 * others may read or write it; "a WHAT file is 0600 or 0640" in the
 * message): its bytes into buf, at most max of them, and *len.  0, or -1
 * with "path: reason" in err (never the contents; buf then wiped), also
 * when the file holds more than max bytes.
 */
int	crypto_secret_read(const char *path, const char *what, char *buf,
	    size_t max, size_t *len, char *err, size_t errlen);


/*
 * A keyed hash for hash tables whose keys others choose (transaction
 * IDs): without the key, which nobody sees, no one can make entries
 * collide.  HMAC-SHA256 under a 32-byte key, its first 8 bytes read as a
 * big-endian number.
 */
struct crypto_hash;
/* With a random key (crypto_random); NULL with errno set. */
struct crypto_hash *crypto_hash_new(void);
/* With the given key (for tests); NULL with errno set. */
struct crypto_hash *crypto_hash_new_key(const uint8_t key[CRYPTO_KEY_LEN]);
uint64_t crypto_hash64(const struct crypto_hash *, const void *, size_t len);
void	crypto_hash_free(struct crypto_hash *);

#endif
