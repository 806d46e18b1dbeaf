/* SPDX-License-Identifier: ISC */
/* natmapd-rendezvous's networks file: lines of NAME SERVER-KEY, parsed and checked. */
#ifndef NATMAPD_RDV_NETWORKS_H
#define NATMAPD_RDV_NETWORKS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define RDV_NETWORK_NAME_MAX	32
/* A bigger file is refused (100,000 networks take about 8 MB). */
#define RDV_NETWORKS_FILE_MAX	(32 * 1024 * 1024)
#define RDV_NETWORKS_LINE_MAX	1024

struct rdv_network {
	char		name[RDV_NETWORK_NAME_MAX + 1];
	uint8_t		key[CRYPTO_KEY_LEN];	/* the server key, never logged */
	unsigned int	line;
};

/* Sorted by name; n may be 0 (a file of comments only). */
struct rdv_networks {
	struct rdv_network	*v;
	size_t			 n;
};

/* 1 if s (len bytes) is a network name: 1-32 of A-Z a-z 0-9 . _ - */
int	rdv_network_name_valid(const char *s, size_t len);

/*
 * The file's text (len bytes, NULs refused) into nets: "# comments" and
 * blank lines skipped, otherwise NAME SERVER-KEY (crypto_key_parse)
 * separated by blanks, each name once.  0, or -1 with "file:line:
 * message" in err (never a key's text) and nets left empty.  No I/O.
 */
int	rdv_networks_parse(struct rdv_networks *nets, const char *file,
	    const char *buf, size_t len, char *err, size_t errlen);
/*
 * Read and parse path; refused if it is not a regular file or others
 * may read or write it (as crypto_key_read).  0, or -1 with err.
 */
int	rdv_networks_load(struct rdv_networks *nets, const char *path,
	    char *err, size_t errlen);
/* The network called name (len bytes), or NULL. */
const struct rdv_network *rdv_networks_find(const struct rdv_networks *,
	    const char *name, size_t len);
/* Wipe the keys and free; nets is then empty. */
void	rdv_networks_free(struct rdv_networks *nets);

#endif
