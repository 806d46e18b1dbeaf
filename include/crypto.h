/* SPDX-License-Identifier: ISC */
/* The one door to the crypto library (nettle, loaded on first use): HMAC, keys, random bytes. */
#ifndef NATMAPD_CRYPTO_H
#define NATMAPD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN		32	/* a network's secret, a derived key */
#define CRYPTO_SHA256_LEN	32	/* HMAC-SHA256 */
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
/* len bytes from getrandom(2); 0, or -1 with errno set. */
int	crypto_random(void *, size_t len);
/* HMAC-SHA256 of the parts, in order, under key. */
void	crypto_hmac_sha256(const void *key, size_t keylen,
	    const struct crypto_part *, size_t nparts,
	    uint8_t out[CRYPTO_SHA256_LEN]);
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
