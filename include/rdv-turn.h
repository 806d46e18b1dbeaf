/* SPDX-License-Identifier: ISC */
/* TURN credentials handed out by natmapd-rendezvous: coturn's shared secret, the REST username and password, sealed end to end to the node. */
#ifndef NATMAPD_RDV_TURN_H
#define NATMAPD_RDV_TURN_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "stun-msg.h"

/*
 * coturn's "TURN REST API" credentials (its use-auth-secret and
 * static-auth-secret): the username is "EXPIRY:NODE", EXPIRY the Unix
 * time in seconds after which coturn refuses it, NODE the node's name
 * (rdv_node_ok: [a-z0-9-.] only, so never a ':' and nothing coturn would
 * change); the password is the standard base64 of HMAC-SHA1(secret,
 * username).  natmapd-rendezvous makes a new pair for every REGISTER it
 * answers, RDV_TURN_LIFETIME seconds long: a node renews every
 * RDV_CLIENT_INTERVAL_MS, so it always holds a pair with nearly the whole
 * lifetime left, and the server keeps no state for it.
 *
 * The pair travels sealed (TURN-CREDENTIAL, rdv-msg.h): a 12-byte nonce
 * from getrandom, then ChaCha20-Poly1305 of "ULEN USERNAME PASSWORD"
 * (ULEN one byte) under the key HKDF-SHA256(salt = the nonce, IKM = the
 * network's server key, info = RDV_TURN_INFO), with the nonce as the
 * AEAD nonce and, as associated data, the answer's transaction ID, the
 * network's name, a 0 byte and the node's name: a credential opens only
 * in the answer it was made for, for the node it was made for.  Only
 * the server and the nodes of the network hold the server key; the
 * MESSAGE-INTEGRITY-SHA256 of the answer authenticates it all again.
 */
#define RDV_TURN_PORT		3478	/* coturn's default */
#define RDV_TURN_LIFETIME	3600	/* seconds a pair is good for */
#define RDV_TURN_SECRET_MAX	256	/* a longer secret file is refused */
#define RDV_TURN_USER_MAX	96	/* 20 digits, ':', a 63-byte name */
#define RDV_TURN_PASS_MAX	64	/* base64 of HMAC-SHA1 is 28 */
#define RDV_TURN_INFO		"natmapd-rendezvous turn credential v1"
/* TURN-CREDENTIAL's value: nonce, sealed ULEN, username, password, tag. */
#define RDV_TURN_SEALED_MIN	(CRYPTO_AEAD_NONCE_LEN + 3 + \
	    CRYPTO_AEAD_TAG_LEN)
#define RDV_TURN_SEALED_MAX	(CRYPTO_AEAD_NONCE_LEN + 1 + \
	    RDV_TURN_USER_MAX + RDV_TURN_PASS_MAX + CRYPTO_AEAD_TAG_LEN)

/* A relay and the credentials for it (never logged: only the relay is). */
struct rdv_turn {
	struct sockaddr_storage	relay;		/* the TURN server, port set */
	uint64_t		expiry;		/* Unix time, seconds */
	char			username[RDV_TURN_USER_MAX + 1];
	char			password[RDV_TURN_PASS_MAX + 1];
};

/*
 * A secret file's len bytes: one line of 1-RDV_TURN_SECRET_MAX printable
 * ASCII characters without blanks (what coturn's static-auth-secret
 * takes); one trailing newline ("\n" or "\r\n") is ignored.  The secret
 * into out (NUL-terminated) and *outlen: 0, or -1 with why in err (never
 * the secret).  No I/O.
 */
int	rdv_turn_secret_parse(const char *buf, size_t len,
	    char out[RDV_TURN_SECRET_MAX + 1], size_t *outlen, char *err,
	    size_t errlen);
/*
 * Read a secret file at path: refused, as key files are, if it is not a
 * regular file or others may read or write it; then as
 * rdv_turn_secret_parse, errors prefixed with the path.
 */
int	rdv_turn_secret_read(const char *path,
	    char out[RDV_TURN_SECRET_MAX + 1], size_t *outlen, char *err,
	    size_t errlen);
/*
 * The username and password of node until expiry (Unix seconds) under
 * secret into t (t->relay is left alone): 0, or -1 when node is not a
 * node name.
 */
int	rdv_turn_make(const char *secret, size_t secretlen, const char *node,
	    uint64_t expiry, struct rdv_turn *t);
/*
 * Seal t's username and password for node in network, in the answer of
 * transaction ID tid, under the network's server key (see above): the
 * length written to out, or -1 (no random bytes, out too small, a name
 * too long).
 */
int	rdv_turn_seal(const uint8_t key[CRYPTO_KEY_LEN],
	    const uint8_t tid[STUN_TID_LEN], const char *network,
	    const char *node, const struct rdv_turn *t, uint8_t *out,
	    size_t outlen);
/*
 * Open what rdv_turn_seal made: the username (which must be
 * "EXPIRY:NODE", node's name) and password into t, the expiry read from
 * the username (t->relay is left alone).  0, or -1 when it does not open
 * (another key, answer or node, a byte changed) or what opens is not a
 * pair for node; t's username and password are then zeros.
 */
int	rdv_turn_open(const uint8_t key[CRYPTO_KEY_LEN],
	    const uint8_t tid[STUN_TID_LEN], const char *network,
	    const char *node, const uint8_t *in, size_t len,
	    struct rdv_turn *t);
/* Zero t's username and password. */
void	rdv_turn_wipe(struct rdv_turn *t);

#endif
