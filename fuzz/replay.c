/* SPDX-License-Identifier: ISC */
/* Replay driver for builds without libFuzzer: a corpus, then seeded mutations of it. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * usage: fuzz-NAME [-n N] [-q] FILE|DIR...
 *
 * Runs LLVMFuzzerTestOneInput on every file named (directories are
 * read, not recursively, in name order), then on N (default 2000)
 * mutations of each: bit flips, byte inserts, deletes and overwrites,
 * block copies, splices with another input, and truncations; inputs of
 * at most TRUNC_ALL bytes are also run cut at every length.  The
 * mutations come from a xorshift64* generator seeded from a fixed
 * constant and the file's contents, so a run is the same every time
 * and a failure can be replayed.  Every input is passed in a heap
 * buffer of exactly its size, so that ASan sees any read past it.
 * Exit status: 0, or 64 for a usage error, 66 for an unreadable file;
 * a crash in the target is the target's.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DEFAULT_MUTATIONS	2000
#define TRUNC_ALL		1024
#define REPLAY_MAX_INPUT		(1024 * 1024)
#define SEED			0x6e61746d61706421ULL	/* "natmapd!" */

struct input {
	char		*name;
	uint8_t		*data;
	size_t		 len;
};

static struct input	*inputs;
static size_t		 ninputs;
static unsigned long long runs;
static int		 quiet;

static uint64_t	rng;

static uint64_t
next(void)
{
	/* xorshift64* (Vigna) */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static size_t
below(size_t n)
{
	return n == 0 ? 0 : (size_t)(next() % n);
}

static void
run(const uint8_t *data, size_t len)
{
	/* an exact-size copy: the target may not touch data[len] */
	uint8_t *copy = malloc(len == 0 ? 1 : len);

	if (copy == NULL) {
		perror("malloc");
		exit(1);
	}
	if (len > 0)
		memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	runs++;
}

static void
add_input(const char *path)
{
	struct input *in;
	FILE *fp;
	uint8_t *buf;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(66);
	}
	if ((buf = malloc(REPLAY_MAX_INPUT + 1)) == NULL) {
		perror("malloc");
		exit(1);
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT + 1, fp);
	if (ferror(fp) || n > REPLAY_MAX_INPUT) {
		fprintf(stderr, "%s: unreadable or over %d bytes\n", path,
		    REPLAY_MAX_INPUT);
		exit(66);
	}
	fclose(fp);
	if (n > 0 && (buf = realloc(buf, n)) == NULL) {
		perror("realloc");
		exit(1);
	}
	if ((in = realloc(inputs, (ninputs + 1) * sizeof(*in))) == NULL ||
	    (in[ninputs].name = strdup(path)) == NULL) {
		perror("malloc");
		exit(1);
	}
	inputs = in;
	in[ninputs].data = buf;
	in[ninputs].len = n;
	ninputs++;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char **names = NULL, **nn, full[4096];
	size_t n = 0, i;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(66);
	}
	if (!S_ISDIR(st.st_mode)) {
		add_input(path);
		return;
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(66);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		if (stat(full, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*nn))) == NULL ||
		    (nn[n] = strdup(full)) == NULL) {
			perror("malloc");
			exit(1);
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		add_input(names[i]);
		free(names[i]);
	}
	free(names);
}

/* Bytes that mean something to the parsers under test. */
static const uint8_t interesting[] = {
	'\0', '\r', '\n', '\t', ' ', ':', '/', '-', '#', '<', '>', '&', '"',
	'0', '1', '5', '9', 'a', 'f', 'x', 0x7f, 0x80, 0xff, ';', '=', '.',
};

static const char *const tokens[] = {
	"\r\n", "\r\n\r\n", "\n\n", "HTTP/1.1 200 OK\r\n", "Content-Length: ",
	"Transfer-Encoding: chunked\r\n", "0\r\n\r\n", "ffffffff\r\n",
	"99999999999999999999", "LOCATION: http://", "ST: ", "NT: ",
	"NTS: ssdp:alive", "urn:schemas-upnp-org:service:WANIPConnection:2",
	"<errorCode>", "</errorCode>", "<controlURL>", "<URLBase>",
	"<serviceType>", "</service>", "map ", "lease ", "/tcp", "/udp",
	"65535", "65536", "-", ":", "#", "any-port yes",
};

/* Apply 1 to 4 random edits to buf (length *len, room cap). */
static void
mutate(uint8_t *buf, size_t *len, size_t cap, const struct input *self)
{
	size_t edits = 1 + below(4), i, pos, n;

	for (i = 0; i < edits; i++) {
		switch (below(9)) {
		case 0:		/* flip a bit */
			if (*len > 0)
				buf[below(*len)] ^= (uint8_t)(1u << below(8));
			break;
		case 1:		/* overwrite with a random byte */
			if (*len > 0)
				buf[below(*len)] = (uint8_t)next();
			break;
		case 2:		/* overwrite with an interesting byte */
			if (*len > 0)
				buf[below(*len)] =
				    interesting[below(sizeof(interesting))];
			break;
		case 3:		/* insert a byte */
			if (*len < cap) {
				pos = below(*len + 1);
				memmove(buf + pos + 1, buf + pos, *len - pos);
				buf[pos] = below(2) ? (uint8_t)next() :
				    interesting[below(sizeof(interesting))];
				(*len)++;
			}
			break;
		case 4:		/* delete bytes */
			if (*len > 0) {
				pos = below(*len);
				n = 1 + below(below(2) ? 1 : *len - pos);
				if (n > *len - pos)
					n = *len - pos;
				memmove(buf + pos, buf + pos + n,
				    *len - pos - n);
				*len -= n;
			}
			break;
		case 5:		/* truncate */
			*len = below(*len + 1);
			break;
		case 6:		/* copy a block of the input elsewhere */
			if (*len > 0 && *len < cap) {
				size_t from = below(*len);
				uint8_t *tmp;

				n = 1 + below(*len - from);
				if (n > cap - *len)
					n = cap - *len;
				if ((tmp = malloc(n)) == NULL)
					break;
				memcpy(tmp, buf + from, n);
				pos = below(*len + 1);
				memmove(buf + pos + n, buf + pos, *len - pos);
				memcpy(buf + pos, tmp, n);
				free(tmp);
				*len += n;
			}
			break;
		case 7:		/* insert a token */
		{
			const char *t = tokens[below(sizeof(tokens) /
			    sizeof(tokens[0]))];

			n = strlen(t);
			if (n <= cap - *len) {
				pos = below(*len + 1);
				memmove(buf + pos + n, buf + pos, *len - pos);
				memcpy(buf + pos, t, n);
				*len += n;
			}
			break;
		}
		case 8:		/* splice with another input */
		{
			const struct input *o = &inputs[below(ninputs)];
			size_t keep = below(*len + 1), from, take;

			if (o == self || o->len == 0)
				break;
			from = below(o->len);
			take = o->len - from;
			if (take > cap - keep)
				take = cap - keep;
			memcpy(buf + keep, o->data + from, take);
			*len = keep + take;
			break;
		}
		}
	}
}

static uint64_t
hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

int
main(int argc, char *argv[])
{
	unsigned long mutations = DEFAULT_MUTATIONS, k;
	uint8_t *buf;
	size_t i, l, len, cap;
	int c;
	char *end;

	while ((c = getopt(argc, argv, "n:q")) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			mutations = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg == '\0')
				goto usage;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind == argc)
		goto usage;
	for (; optind < argc; optind++)
		add_path(argv[optind]);
	if (ninputs == 0) {
		fprintf(stderr, "%s: no input files\n", argv[0]);
		return 66;
	}

	for (i = 0; i < ninputs; i++) {
		const struct input *in = &inputs[i];

		if (!quiet)
			fprintf(stderr, "%s: %zu bytes\n", in->name, in->len);
		run(in->data, in->len);
		if (in->len <= TRUNC_ALL)
			for (l = 0; l < in->len; l++)
				run(in->data, l);
		cap = in->len * 2 + 4096;
		if ((buf = malloc(cap)) == NULL) {
			perror("malloc");
			return 1;
		}
		rng = SEED ^ hash(in->data, in->len);
		if (rng == 0)
			rng = SEED;
		for (k = 0; k < mutations; k++) {
			memcpy(buf, in->data, in->len);
			len = in->len;
			mutate(buf, &len, cap, in);
			run(buf, len);
		}
		free(buf);
	}
	printf("%s: %zu inputs, %llu runs\n", argv[0], ninputs, runs);
	for (i = 0; i < ninputs; i++) {
		free(inputs[i].name);
		free(inputs[i].data);
	}
	free(inputs);
	return 0;
usage:
	fprintf(stderr, "usage: %s [-n mutations] [-q] file|dir ...\n",
	    argv[0]);
	return 64;
}
