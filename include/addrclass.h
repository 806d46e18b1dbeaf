/* SPDX-License-Identifier: ISC */
/* What an IPv4 or IPv6 address says about where a host sits: one classifier for the daemon and --probe. */
#ifndef NATMAPD_ADDRCLASS_H
#define NATMAPD_ADDRCLASS_H

#include <netinet/in.h>

#include <stddef.h>

struct osdep_addr6;

enum addrclass {
	ADDRCLASS_PUBLIC,	/* globally routable (TEST-NET counts: see .c) */
	ADDRCLASS_UNSPEC,	/* 0.0.0.0: no address */
	ADDRCLASS_PRIVATE,	/* RFC 1918, loopback, link-local, 0/8, 192.0.0/24 */
	ADDRCLASS_SHARED,	/* RFC 6598 100.64.0.0/10: carrier-grade NAT */
	ADDRCLASS_INVALID,	/* multicast, 240/4, broadcast: no host has it */
};

int	addrclass_of(struct in_addr);
const char *addrclass_name(int);	/* "public", "private", ... */

/* Whether a gateway's external address shows another NAT upstream. */
struct addrclass_verdict {
	int		 double_nat;	/* 1 if another NAT is upstream */
	int		 cgnat;		/* ... and it is the provider's (RFC 6598) */
	const char	*why;		/* for people; NULL when double_nat is 0 */
};

/*
 * The rule for the daemon's warning and --probe's verdict alike: the
 * gateway's external address gw_ext is not public, or differs from seen,
 * the address the internet sees us from (STUN, echo; INADDR_ANY when
 * nobody said).
 */
void	addrclass_judge(struct in_addr gw_ext, struct in_addr seen,
	    struct addrclass_verdict *);

/* IPv6 (RFC 4291, RFC 4193) */
enum addrclass6 {
	ADDRCLASS6_GLOBAL,	/* 2000::/3, documentation too */
	ADDRCLASS6_ULA,		/* unique local, fc00::/7 */
	ADDRCLASS6_LOCAL,	/* the rest: link-local, loopback,
				   unspecified, multicast, IPv4-mapped,
				   site-local, NAT64 */
};

int	addrclass6_of(const struct in6_addr *);

/*
 * The host's addresses a peer may reach it at, out of the n that
 * osdep_addrs6 gave, into out (at most max, each once): the global ones
 * that are neither temporary, deprecated nor tentative, in the system's
 * order; unique local ones (same conditions) only when there is no
 * global one.  How many.
 */
size_t	addrclass6_pick(const struct osdep_addr6 *, size_t n,
	    struct in6_addr *out, size_t max);

#endif
