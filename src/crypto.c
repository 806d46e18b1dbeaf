/* SPDX-License-Identifier: ISC */
/* HMAC-SHA256, key text and key files, random bytes: nettle (loaded on first use) and getrandom(2), nothing hand-made. */
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
#include <nettle/hmac.h>

#include "crypto.h"
#include "log.h"

/*
 * nettle is loaded when the rendezvous first needs it, not linked: natmapd
 * without a rendezvous never maps it (about 0.2 MB of its RSS).  Its
 * soname (NETTLE_SONAME, "libnettle.so.8") was read at configure time from
 * a program linked with it.
 */
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
	NETTLE_FN(hmac_sha256_digest);
	NETTLE_FN(hmac_sha256_set_key);
	NETTLE_FN(hmac_sha256_update);
} nettle;
#undef NETTLE_FN

#define NETTLE_SYM(name)	{ "nettle_" #name, (void *)&nettle.fn_##name }
static const struct {
	const char	*sym;
	void		*slot;		/* a function pointer in C */
} nettle_syms[] = {
	NETTLE_SYM(base64_decode_final), NETTLE_SYM(base64_decode_init),
	NETTLE_SYM(base64_decode_update), NETTLE_SYM(base64_encode_raw),
	NETTLE_SYM(hmac_sha256_digest), NETTLE_SYM(hmac_sha256_set_key),
	NETTLE_SYM(hmac_sha256_update),
};
#undef NETTLE_SYM

/* From here on, nettle's functions are called through the pointers. */
#undef base64_decode_final
#undef base64_decode_init
#undef base64_decode_update
#undef base64_encode_raw
#undef hmac_sha256_digest
#undef hmac_sha256_set_key
#undef hmac_sha256_update
#define base64_decode_final	(*nettle.fn_base64_decode_final)
#define base64_decode_init	(*nettle.fn_base64_decode_init)
#define base64_decode_update	(*nettle.fn_base64_decode_update)
#define base64_encode_raw	(*nettle.fn_base64_encode_raw)
#define hmac_sha256_digest	(*nettle.fn_hmac_sha256_digest)
#define hmac_sha256_set_key	(*nettle.fn_hmac_sha256_set_key)
#define hmac_sha256_update	(*nettle.fn_hmac_sha256_update)

/* dlopen nettle once: 0, or -1 with the reason kept in nettle.err. */
static int
nettle_load(void)
{
	void *lib, *p;
	size_t i;

	if (nettle.lib != NULL)
		return 0;
	if (nettle.tried)
		return -1;
	nettle.tried = 1;
	if ((lib = dlopen(NETTLE_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(nettle.err, sizeof(nettle.err), "cannot load %s "
		    "(nettle, needed for the rendezvous): %s", NETTLE_SONAME,
		    dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(nettle_syms) / sizeof(nettle_syms[0]); i++) {
		if ((p = dlsym(lib, nettle_syms[i].sym)) == NULL) {
			snprintf(nettle.err, sizeof(nettle.err), "%s has no "
			    "%s", NETTLE_SONAME, nettle_syms[i].sym);
			dlclose(lib);
			return -1;
		}
		memcpy(nettle_syms[i].slot, &p, sizeof(p));
	}
	nettle.lib = lib;
	return 0;
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

/* Fixed for good: changing it changes every server key. */
#define SERVER_KEY_LABEL	"natmapd rendezvous server key v1"

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
crypto_key_read(const char *path, uint8_t key[CRYPTO_KEY_LEN], char *err,
    size_t errlen)
{
	char buf[CRYPTO_KEY_FILE_MAX + 1];
	struct stat st;
	size_t len = 0, start, end;
	ssize_t n;
	int fd, r;

	if (nettle_load() == -1)
		return key_err(err, errlen, "%s", nettle.err);
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
		    "it (mode %04o); a key file is 0600 or 0640", path,
		    (unsigned)(st.st_mode & 07777));
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = errno;
			close(fd);
			crypto_wipe(buf, sizeof(buf));
			return key_err(err, errlen, "%s: %s", path,
			    strerror(r));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > CRYPTO_KEY_FILE_MAX) {
		crypto_wipe(buf, sizeof(buf));
		return key_err(err, errlen, "%s: longer than a key file "
		    "(%d bytes at most)", path, CRYPTO_KEY_FILE_MAX);
	}
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
