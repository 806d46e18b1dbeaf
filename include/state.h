/* SPDX-License-Identifier: ISC */
/* The state file: what natmapd holds on the router, kept across its own restarts. */
#ifndef NATMAPD_STATE_H
#define NATMAPD_STATE_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Twice the most mappings a configuration holds: old entries besides. */
#define STATE_MAX_ENTRIES	2048
#define STATE_NONCE_LEN		12

/*
 * One mapping natmapd made and has not deleted.  The file has one line
 * per entry, '#' comments and blank lines allowed:
 *
 *	map PROTOCOL PROTO INTERNAL EXTERNAL NONCE GATEWAY LOCAL
 *	map pcp tcp 8080 8080 0123456789abcdef01234567 192.168.1.1 192.168.1.10
 *
 * PROTOCOL is pcp, natpmp or upnp; PROTO tcp or udp; the ports are 1 to
 * 65535; NONCE is 24 lower-case hex digits; GATEWAY and LOCAL are IPv4
 * addresses.  Lines longer than 256 bytes, unknown words and bad values
 * are errors ("state:3: bad nonce"): a damaged file is reported and then
 * ignored whole, never half-read.
 */
struct state_entry {
	char		protocol[8];	/* "pcp", "natpmp", "upnp" */
	int		proto;		/* DRV_TCP, DRV_UDP */
	uint16_t	int_port;
	uint16_t	ext_port;
	uint8_t		nonce[STATE_NONCE_LEN];
	struct in_addr	gateway;
	struct in_addr	local;
};

/* Parse a whole file held in memory; 0, or -1 with "name:line: message" in err. */
int	state_parse(const char *name, const char *buf, size_t len,
	    struct state_entry **entries, size_t *n, char *err, size_t errlen);
/* Read a file: a missing file is no error (0 entries). */
int	state_load(const char *path, struct state_entry **entries, size_t *n,
	    char *err, size_t errlen);
/* Write the entries in the format above, with a comment header. */
void	state_print(FILE *, const struct state_entry *, size_t);
/* Create the missing directories above path (0755, the last one 0700). */
int	state_mkdir_parent(const char *path);
/* Write atomically: a temporary file in the same directory, then rename(2). */
int	state_save(const char *path, const struct state_entry *, size_t);

#endif
