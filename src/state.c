/* SPDX-License-Identifier: ISC */
/* The state file: parsing, printing, loading and atomic saving of the mappings natmapd holds. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "driver.h"
#include "replace.h"
#include "state.h"

#define STATE_MAX_FILE	(1024 * 1024)
#define STATE_MAX_LINE	256	/* bytes, without the "\n" or "\r\n" */
#define STATE_WORDS	8	/* "map" and its seven fields */

#define STATE_HEADER	"# natmapd state: mappings it made on the router; " \
			"written by natmapd, do not edit\n"


static const char *const protocol_names[] = { "pcp", "natpmp", "upnp" };

/* One of protocol_names into out (sizeof(struct state_entry.protocol)). */
static int
parse_protocol(const char *s, char *out)
{
	size_t i;

	for (i = 0; i < sizeof(protocol_names) / sizeof(protocol_names[0]);
	    i++)
		if (strcmp(s, protocol_names[i]) == 0) {
			/* each name is shorter than protocol[8] */
			memcpy(out, protocol_names[i],
			    strlen(protocol_names[i]) + 1);
			return 0;
		}
	return -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2 * STATE_NONCE_LEN lower-case hex digits. */
static int
parse_nonce(const char *s, uint8_t *nonce)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * STATE_NONCE_LEN)
		return -1;
	for (i = 0; i < STATE_NONCE_LEN; i++) {
		if ((hi = hexval(s[2 * i])) == -1 ||
		    (lo = hexval(s[2 * i + 1])) == -1)
			return -1;
		nonce[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* One "map" line split in words; msg receives the error without position. */
static int
parse_map(char **tok, struct state_entry *e, char *msg, size_t msglen)
{
	memset(e, 0, sizeof(*e));
	if (parse_protocol(tok[1], e->protocol) == -1) {
		config_seterr(msg, msglen, "bad protocol \"%s\": expected pcp, natpmp "
		    "or upnp", tok[1]);
		return -1;
	}
	if (strcmp(tok[2], "tcp") == 0)
		e->proto = DRV_TCP;
	else if (strcmp(tok[2], "udp") == 0)
		e->proto = DRV_UDP;
	else {
		config_seterr(msg, msglen, "bad proto \"%s\": expected tcp or udp",
		    tok[2]);
		return -1;
	}
	if (config_parse_port(tok[3], strlen(tok[3]), &e->int_port) == -1) {
		config_seterr(msg, msglen, "bad internal port \"%s\"", tok[3]);
		return -1;
	}
	if (config_parse_port(tok[4], strlen(tok[4]), &e->ext_port) == -1) {
		config_seterr(msg, msglen, "bad external port \"%s\"", tok[4]);
		return -1;
	}
	if (parse_nonce(tok[5], e->nonce) == -1) {
		config_seterr(msg, msglen, "bad nonce \"%s\"", tok[5]);
		return -1;
	}
	if (inet_pton(AF_INET, tok[6], &e->gateway) != 1) {
		config_seterr(msg, msglen, "bad gateway address \"%s\"", tok[6]);
		return -1;
	}
	if (inet_pton(AF_INET, tok[7], &e->local) != 1) {
		config_seterr(msg, msglen, "bad local address \"%s\"", tok[7]);
		return -1;
	}
	return 0;
}

int
state_parse(const char *name, const char *buf, size_t len,
    struct state_entry **entries, size_t *n, char *err, size_t errlen)
{
	char line[STATE_MAX_LINE + 1], msg[STATE_MAX_LINE + 128];
	char *tok[STATE_WORDS], *p;
	struct state_entry *v = NULL, *nv;
	size_t pos = 0, ll, i, count = 0, cap = 0;
	int lineno = 0, ntok;

	*entries = NULL;
	*n = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);

		ll = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		lineno++;
		/* CRLF line ends: the '\r' is part of the line end */
		if (ll > 0 && buf[pos + ll - 1] == '\r')
			ll--;
		if (ll > STATE_MAX_LINE) {
			config_seterr(err, errlen, "%s:%d: line too long (more than "
			    "%d bytes)", name, lineno, STATE_MAX_LINE);
			goto fail;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = '\0';
		pos = nl != NULL ? (size_t)(nl - buf) + 1 : len;

		/* every byte, comments included: printable ASCII or tab */
		for (i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)line[i];

			if (c == '\0') {
				config_seterr(err, errlen, "%s:%d: NUL byte in line",
				    name, lineno);
				goto fail;
			}
			if (c != '\t' && (c < 0x20 || c > 0x7e)) {
				config_seterr(err, errlen, "%s:%d: unexpected byte "
				    "0x%02x", name, lineno, c);
				goto fail;
			}
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';

		ntok = 0;
		for (p = line; *p != '\0';) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\0')
				break;
			if (ntok < STATE_WORDS)
				tok[ntok] = p;
			ntok++;
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
			if (*p != '\0')
				*p++ = '\0';
		}
		if (ntok == 0)
			continue;
		if (strcmp(tok[0], "map") != 0) {
			config_seterr(err, errlen, "%s:%d: unknown keyword \"%s\"",
			    name, lineno, tok[0]);
			goto fail;
		}
		if (ntok != STATE_WORDS) {
			config_seterr(err, errlen, "%s:%d: map: expected %d fields, "
			    "got %d", name, lineno, STATE_WORDS - 1, ntok - 1);
			goto fail;
		}
		if (count == STATE_MAX_ENTRIES) {
			config_seterr(err, errlen, "%s:%d: too many entries: at most "
			    "%d", name, lineno, STATE_MAX_ENTRIES);
			goto fail;
		}
		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if (cap > STATE_MAX_ENTRIES)
				cap = STATE_MAX_ENTRIES;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				config_seterr(err, errlen, "%s:%d: out of memory",
				    name, lineno);
				goto fail;
			}
			v = nv;
		}
		if (parse_map(tok, &v[count], msg, sizeof(msg)) == -1) {
			config_seterr(err, errlen, "%s:%d: %s", name, lineno, msg);
			goto fail;
		}
		count++;
	}
	if (count == 0) {
		free(v);
		v = NULL;
	}
	*entries = v;
	*n = count;
	return 0;
fail:
	free(v);
	return -1;
}

int
state_load(const char *path, struct state_entry **entries, size_t *n,
    char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t got = 0;
	int fd, ret, saved;

	*entries = NULL;
	*n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		config_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		config_seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > STATE_MAX_FILE) {
		config_seterr(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, STATE_MAX_FILE);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		config_seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			config_seterr(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	ret = state_parse(path, buf, got, entries, n, err, errlen);
	free(buf);
	if (ret == -1)
		errno = EINVAL;
	return ret;
}

void
state_print(FILE *fp, const struct state_entry *e, size_t n)
{
	char gw[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN];
	char nonce[2 * STATE_NONCE_LEN + 1];
	size_t i, k;

	fputs(STATE_HEADER, fp);
	for (i = 0; i < n; i++) {
		for (k = 0; k < STATE_NONCE_LEN; k++)
			snprintf(nonce + 2 * k, 3, "%02x", e[i].nonce[k]);
		if (inet_ntop(AF_INET, &e[i].gateway, gw, sizeof(gw)) == NULL)
			gw[0] = '\0';
		if (inet_ntop(AF_INET, &e[i].local, local,
		    sizeof(local)) == NULL)
			local[0] = '\0';
		fprintf(fp, "map %.*s %s %u %u %s %s %s\n",
		    (int)sizeof(e[i].protocol), e[i].protocol,
		    e[i].proto == DRV_UDP ? "udp" : "tcp",
		    e[i].int_port, e[i].ext_port, nonce, gw, local);
	}
}

struct state_out {
	const struct state_entry	*e;
	size_t				 n;
};

static int
state_out(FILE *fp, void *arg)
{
	const struct state_out *o = arg;

	state_print(fp, o->e, o->n);
	return 0;
}

/*
 * Straight into the temporary file, through stdio's one buffer: with a
 * thousand entries, a copy in memory first would be most of the daemon's
 * heap.
 */
int
state_save(const char *path, const struct state_entry *e, size_t n)
{
	struct state_out o = { e, n };

	return file_replace(path, 0600, state_out, &o);
}

int
state_mkdir_parent(const char *path)
{
	char dir[PATH_MAX], *p, *last;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(dir) || path[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	memcpy(dir, path, len + 1);
	if ((last = strrchr(dir, '/')) == dir)
		return 0;		/* in / itself */
	*last = '\0';
	for (p = dir + 1; ; p++) {
		int end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(dir, end ? 0700 : 0755) == -1 && errno != EEXIST)
			return -1;
		if (end)
			break;
		*p = '/';
	}
	return 0;
}
