/* SPDX-License-Identifier: ISC */
/* The networks file of natmapd-rendezvous: NAME SERVER-KEY lines into a sorted table. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "rdv-networks.h"

static int __attribute__((format(printf, 3, 4)))
nets_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
rdv_network_name_valid(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > RDV_NETWORK_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

static int
nets_cmp(const void *a, const void *b)
{
	const struct rdv_network *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One line (without its newline): 0 and *got = 0 for a blank or comment
 * line, 0 and *got = 1 with the network in *net, or -1 with err.
 */
static int
nets_line(const char *file, unsigned int lineno, const char *p, size_t len,
    struct rdv_network *net, int *got, char *err, size_t errlen)
{
	const char *tok[3];
	size_t tlen[3], i = 0, n = 0;

	*got = 0;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > RDV_NETWORKS_LINE_MAX)
		return nets_err(err, errlen, "%s:%u: line longer than %d "
		    "bytes", file, lineno, RDV_NETWORKS_LINE_MAX);
	while (i < len) {
		while (i < len && is_blank(p[i]))
			i++;
		if (i == len || p[i] == '#')
			break;
		if (n == 3)
			break;
		tok[n] = p + i;
		while (i < len && !is_blank(p[i]))
			i++;
		tlen[n] = (size_t)(p + i - tok[n]);
		n++;
	}
	if (n == 0)
		return 0;
	if (n != 2)
		return nets_err(err, errlen, "%s:%u: expected NAME SERVER-KEY",
		    file, lineno);
	if (!rdv_network_name_valid(tok[0], tlen[0]))
		return nets_err(err, errlen, "%s:%u: bad network name (1 to "
		    "%d of A-Z a-z 0-9 . _ -)", file, lineno,
		    RDV_NETWORK_NAME_MAX);
	if (crypto_key_parse(tok[1], tlen[1], net->key) == -1)
		return nets_err(err, errlen, "%s:%u: network %.*s: not a "
		    "server key (%d characters of base64, as natmapd "
		    "--server-key prints)", file, lineno, (int)tlen[0], tok[0],
		    CRYPTO_KEY_TEXT_LEN);
	memcpy(net->name, tok[0], tlen[0]);
	net->name[tlen[0]] = '\0';
	net->line = lineno;
	*got = 1;
	return 0;
}

int
rdv_networks_parse(struct rdv_networks *nets, const char *file,
    const char *buf, size_t len, char *err, size_t errlen)
{
	struct rdv_network net, *v = NULL, *nv;
	size_t n = 0, cap = 0, off = 0, i, llen;
	unsigned int lineno = 0;
	const char *nl;
	int got;

	nets->v = NULL;
	nets->n = 0;
	if (len > RDV_NETWORKS_FILE_MAX)
		return nets_err(err, errlen, "%s: longer than %d bytes", file,
		    RDV_NETWORKS_FILE_MAX);
	if (memchr(buf, '\0', len) != NULL)
		return nets_err(err, errlen, "%s: a NUL byte: not a text "
		    "file", file);
	while (off < len) {
		lineno++;
		nl = memchr(buf + off, '\n', len - off);
		llen = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		memset(&net, 0, sizeof(net));
		if (nets_line(file, lineno, buf + off, llen, &net, &got, err,
		    errlen) == -1)
			goto fail;
		off += llen + (nl != NULL);
		if (!got)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = calloc(cap, sizeof(*nv))) == NULL) {
				nets_err(err, errlen, "%s: %s", file,
				    strerror(errno));
				goto fail;
			}
			if (n > 0)
				memcpy(nv, v, n * sizeof(*v));
			if (v != NULL) {
				crypto_wipe(v, n * sizeof(*v));
				free(v);
			}
			v = nv;
		}
		v[n++] = net;
	}
	crypto_wipe(&net, sizeof(net));
	if (n > 1)
		qsort(v, n, sizeof(*v), nets_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1].name, v[i].name) == 0) {
			nets_err(err, errlen, "%s:%u: network %s already on "
			    "line %u", file, v[i].line, v[i].name,
			    v[i - 1].line);
			goto fail;
		}
	nets->v = v;
	nets->n = n;
	return 0;
fail:
	crypto_wipe(&net, sizeof(net));
	if (v != NULL) {
		crypto_wipe(v, n * sizeof(*v));
		free(v);
	}
	return -1;
}

int
rdv_networks_load(struct rdv_networks *nets, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, e, rc;

	nets->v = NULL;
	nets->n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return nets_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		return nets_err(err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return nets_err(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		close(fd);
		return nets_err(err, errlen, "%s: others may read or write it "
		    "(mode %04o); a networks file is 0600 or 0640", path,
		    (unsigned)(st.st_mode & 07777));
	}
	if (st.st_size > RDV_NETWORKS_FILE_MAX) {
		close(fd);
		return nets_err(err, errlen, "%s: longer than %d bytes", path,
		    RDV_NETWORKS_FILE_MAX);
	}
	/* one byte more than allowed, to see a file that grew */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		e = errno;
		close(fd);
		return nets_err(err, errlen, "%s: %s", path, strerror(e));
	}
	while (len < (size_t)st.st_size + 1) {
		r = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			e = errno;
			close(fd);
			crypto_wipe(buf, len);
			free(buf);
			return nets_err(err, errlen, "%s: %s", path,
			    strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > (size_t)st.st_size)
		rc = nets_err(err, errlen, "%s: changed while read", path);
	else
		rc = rdv_networks_parse(nets, path, buf, len, err, errlen);
	crypto_wipe(buf, len);
	free(buf);
	return rc;
}

const struct rdv_network *
rdv_networks_find(const struct rdv_networks *nets, const char *name,
    size_t len)
{
	size_t lo = 0, hi = nets->n, mid;
	int c;

	if (len > RDV_NETWORK_NAME_MAX || memchr(name, '\0', len) != NULL)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(nets->v[mid].name, name, len);
		if (c == 0 && nets->v[mid].name[len] != '\0')
			c = 1;
		if (c == 0)
			return &nets->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
rdv_networks_free(struct rdv_networks *nets)
{
	if (nets->v != NULL) {
		crypto_wipe(nets->v, nets->n * sizeof(*nets->v));
		free(nets->v);
	}
	nets->v = NULL;
	nets->n = 0;
}
