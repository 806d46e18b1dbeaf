/* SPDX-License-Identifier: ISC */
/* TURN credentials of natmapd-rendezvous (rdv-turn.h): the secret file, the REST pair, its seal and opening; I/O only in rdv_turn_secret_read. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "rdv-msg.h"
#include "rdv-turn.h"
#include "stun-msg.h"

#define AD_MAX	(STUN_TID_LEN + RDV_NETWORK_MAX + 1 + RDV_NODE_MAX)
#define PLAIN_MAX	(1 + RDV_TURN_USER_MAX + RDV_TURN_PASS_MAX)

/* why (no secret in it) into err; -1. */
static int
turn_fail(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return -1;
}

int
rdv_turn_secret_parse(const char *buf, size_t len,
    char out[RDV_TURN_SECRET_MAX + 1], size_t *outlen, char *err,
    size_t errlen)
{
	size_t i;

	memset(out, 0, RDV_TURN_SECRET_MAX + 1);
	*outlen = 0;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0)
		return turn_fail(err, errlen, "empty: the file holds coturn's "
		    "static-auth-secret");
	if (len > RDV_TURN_SECRET_MAX)
		return turn_fail(err, errlen, "longer than 256 characters");
	for (i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] >= 0x7f)
			return turn_fail(err, errlen, "not one line of printable "
			    "ASCII without blanks");
	memcpy(out, buf, len);
	*outlen = len;
	return 0;
}

int
rdv_turn_secret_read(const char *path, char out[RDV_TURN_SECRET_MAX + 1],
    size_t *outlen, char *err, size_t errlen)
{
	/* the secret, "\r\n" */
	char buf[RDV_TURN_SECRET_MAX + 2], msg[256];
	size_t len;
	int r;

	memset(out, 0, RDV_TURN_SECRET_MAX + 1);
	*outlen = 0;
	if (crypto_secret_read(path, "secret", buf, sizeof(buf), &len, err,
	    errlen) == -1)
		return -1;
	r = rdv_turn_secret_parse(buf, len, out, outlen, msg, sizeof(msg));
	crypto_wipe(buf, sizeof(buf));
	if (r == -1 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	return r;
}

int
rdv_turn_make(const char *secret, size_t secretlen, const char *node,
    uint64_t expiry, struct rdv_turn *t)
{
	struct crypto_part part;
	uint8_t mac[CRYPTO_SHA1_LEN];
	int n;

	rdv_turn_wipe(t);
	if (!rdv_node_ok(node, strlen(node)))
		return -1;
	n = snprintf(t->username, sizeof(t->username), "%llu:%s",
	    (unsigned long long)expiry, node);
	if (n < 0 || (size_t)n >= sizeof(t->username))
		return -1;
	part.data = t->username;
	part.len = (size_t)n;
	crypto_hmac_sha1(secret, secretlen, &part, 1, mac);
	n = crypto_base64(mac, sizeof(mac), t->password, sizeof(t->password));
	crypto_wipe(mac, sizeof(mac));
	if (n == -1) {
		rdv_turn_wipe(t);
		return -1;
	}
	t->expiry = expiry;
	return 0;
}

/* The associated data: tid, network, 0, node; its length, or 0 for a name too long. */
static size_t
turn_ad(uint8_t ad[AD_MAX], const uint8_t tid[STUN_TID_LEN],
    const char *network, const char *node)
{
	size_t nl = strlen(network), dl = strlen(node);

	if (nl > RDV_NETWORK_MAX || dl > RDV_NODE_MAX)
		return 0;
	memcpy(ad, tid, STUN_TID_LEN);
	memcpy(ad + STUN_TID_LEN, network, nl);
	ad[STUN_TID_LEN + nl] = 0;
	memcpy(ad + STUN_TID_LEN + nl + 1, node, dl);
	return STUN_TID_LEN + nl + 1 + dl;
}

static void
seal_key(const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint8_t out[CRYPTO_KEY_LEN])
{
	uint8_t prk[CRYPTO_SHA256_LEN];

	crypto_hkdf_extract(nonce, CRYPTO_AEAD_NONCE_LEN, key, CRYPTO_KEY_LEN,
	    prk);
	(void)crypto_hkdf_expand(prk, RDV_TURN_INFO, strlen(RDV_TURN_INFO), out,
	    CRYPTO_KEY_LEN);
	crypto_wipe(prk, sizeof(prk));
}

int
rdv_turn_seal(const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t tid[STUN_TID_LEN], const char *network, const char *node,
    const struct rdv_turn *t, uint8_t *out, size_t outlen)
{
	uint8_t ad[AD_MAX], plain[PLAIN_MAX], k[CRYPTO_KEY_LEN];
	size_t adlen, ul, pl, len;

	ul = strnlen(t->username, sizeof(t->username));
	pl = strnlen(t->password, sizeof(t->password));
	if (ul < 1 || ul > RDV_TURN_USER_MAX || pl < 1 ||
	    pl > RDV_TURN_PASS_MAX ||
	    (adlen = turn_ad(ad, tid, network, node)) == 0)
		return -1;
	len = 1 + ul + pl;
	if (outlen < CRYPTO_AEAD_NONCE_LEN + len + CRYPTO_AEAD_TAG_LEN ||
	    crypto_random(out, CRYPTO_AEAD_NONCE_LEN) == -1)
		return -1;
	plain[0] = (uint8_t)ul;
	memcpy(plain + 1, t->username, ul);
	memcpy(plain + 1 + ul, t->password, pl);
	seal_key(key, out, k);
	crypto_aead_seal(k, out, ad, adlen, plain, len,
	    out + CRYPTO_AEAD_NONCE_LEN);
	crypto_wipe(k, sizeof(k));
	crypto_wipe(plain, sizeof(plain));
	return (int)(CRYPTO_AEAD_NONCE_LEN + len + CRYPTO_AEAD_TAG_LEN);
}

/* base64's alphabet and padding, nothing else. */
static int
is_base64(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

/* "EXPIRY:NODE" with node's name: the expiry, or 0 when it is not. */
static uint64_t
user_expiry(const char *u, size_t n, const char *node)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && u[i] >= '0' && u[i] <= '9'; i++) {
		if (i >= 19)	/* at most 19 digits: no overflow */
			return 0;
		v = v * 10 + (uint64_t)(u[i] - '0');
	}
	if (i == 0 || i == n || u[i] != ':' || (u[0] == '0' && i > 1) ||
	    n - i - 1 != strlen(node) || memcmp(u + i + 1, node, n - i - 1) != 0)
		return 0;
	return v;
}

int
rdv_turn_open(const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t tid[STUN_TID_LEN], const char *network, const char *node,
    const uint8_t *in, size_t len, struct rdv_turn *t)
{
	uint8_t ad[AD_MAX], plain[PLAIN_MAX], k[CRYPTO_KEY_LEN];
	size_t adlen, plen, ul, pl;
	uint64_t expiry;
	int r;

	rdv_turn_wipe(t);
	if (len < RDV_TURN_SEALED_MIN || len > RDV_TURN_SEALED_MAX ||
	    (adlen = turn_ad(ad, tid, network, node)) == 0)
		return -1;
	plen = len - CRYPTO_AEAD_NONCE_LEN - CRYPTO_AEAD_TAG_LEN;
	seal_key(key, in, k);
	r = crypto_aead_open(k, in, ad, adlen, in + CRYPTO_AEAD_NONCE_LEN,
	    len - CRYPTO_AEAD_NONCE_LEN, plain);
	crypto_wipe(k, sizeof(k));
	if (r == -1)
		goto fail;
	ul = plain[0];
	if (ul < 1 || ul > RDV_TURN_USER_MAX || 1 + ul >= plen)
		goto fail;
	pl = plen - 1 - ul;
	if (pl > RDV_TURN_PASS_MAX || !is_base64((const char *)plain + 1 + ul,
	    pl) || (expiry = user_expiry((const char *)plain + 1, ul,
	    node)) == 0)
		goto fail;
	memcpy(t->username, plain + 1, ul);
	memcpy(t->password, plain + 1 + ul, pl);
	t->expiry = expiry;
	crypto_wipe(plain, sizeof(plain));
	return 0;
fail:
	crypto_wipe(plain, sizeof(plain));
	return -1;
}

void
rdv_turn_wipe(struct rdv_turn *t)
{
	crypto_wipe(t->username, sizeof(t->username));
	crypto_wipe(t->password, sizeof(t->password));
	t->expiry = 0;
}
