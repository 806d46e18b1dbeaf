/* SPDX-License-Identifier: ISC */
/* Classifies IPv4 addresses (RFC 6890) and judges double NAT from a gateway's external address; which IPv6 addresses a peer may reach. */
#include "config.h"

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addrclass.h"
#include "osdep.h"

/*
 * RFC 6890's special-purpose blocks that a gateway's external address can
 * fall in and that are not globally reachable.  The documentation blocks
 * (TEST-NET-1/2/3, RFC 5737) and the benchmark block 198.18.0.0/15 are
 * deliberately absent: no router meets them but in a lab, and a lab uses
 * them as the internet (ours does), so they count as public.
 */
static const struct {
	uint32_t	net;
	unsigned int	bits;
	int		class;
} addrclass_blocks[] = {
	{ 0x00000000,  8, ADDRCLASS_PRIVATE },	/* "this" network */
	{ 0x0a000000,  8, ADDRCLASS_PRIVATE },	/* RFC 1918 */
	{ 0x64400000, 10, ADDRCLASS_SHARED },	/* RFC 6598 shared address space */
	{ 0x7f000000,  8, ADDRCLASS_PRIVATE },	/* loopback */
	{ 0xa9fe0000, 16, ADDRCLASS_PRIVATE },	/* link local */
	{ 0xac100000, 12, ADDRCLASS_PRIVATE },	/* RFC 1918 */
	{ 0xc0000000, 24, ADDRCLASS_PRIVATE },	/* IETF protocol assignments (DS-Lite) */
	{ 0xc0a80000, 16, ADDRCLASS_PRIVATE },	/* RFC 1918 */
	{ 0xe0000000,  4, ADDRCLASS_INVALID },	/* multicast */
	{ 0xf0000000,  4, ADDRCLASS_INVALID },	/* reserved, and broadcast */
};

int
addrclass_of(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);
	size_t i;

	if (h == 0)
		return ADDRCLASS_UNSPEC;
	for (i = 0; i < sizeof(addrclass_blocks) / sizeof(addrclass_blocks[0]);
	    i++) {
		uint32_t mask = 0xffffffffu << (32 - addrclass_blocks[i].bits);

		if ((h & mask) == addrclass_blocks[i].net)
			return addrclass_blocks[i].class;
	}
	return ADDRCLASS_PUBLIC;
}

const char *
addrclass_name(int c)
{
	switch (c) {
	case ADDRCLASS_PUBLIC:
		return "public";
	case ADDRCLASS_UNSPEC:
		return "unspecified";
	case ADDRCLASS_PRIVATE:
		return "private";
	case ADDRCLASS_SHARED:
		return "shared";
	case ADDRCLASS_INVALID:
		return "invalid";
	}
	return "?";
}

void
addrclass_judge(struct in_addr gw_ext, struct in_addr seen,
    struct addrclass_verdict *v)
{
	v->double_nat = 1;
	v->cgnat = 0;
	switch (addrclass_of(gw_ext)) {
	case ADDRCLASS_SHARED:
		v->cgnat = 1;
		v->why = "the gateway's external address is in the shared "
		    "address space 100.64.0.0/10 (RFC 6598): carrier-grade NAT";
		return;
	case ADDRCLASS_PRIVATE:
		v->why = "the gateway's external address is a private address: "
		    "another NAT is upstream";
		return;
	case ADDRCLASS_UNSPEC:
		v->why = "the gateway reports no external address (0.0.0.0): "
		    "it is not connected, or another NAT is upstream";
		return;
	case ADDRCLASS_INVALID:
		v->why = "the gateway's external address is not a unicast "
		    "address: the gateway is misconfigured";
		return;
	}
	if (seen.s_addr != INADDR_ANY && seen.s_addr != gw_ext.s_addr) {
		v->why = "the gateway's external address differs from the "
		    "address the internet sees: another NAT is upstream";
		return;
	}
	v->double_nat = 0;
	v->why = NULL;
}

int
addrclass6_of(const struct in6_addr *a)
{
	if ((a->s6_addr[0] & 0xe0) == 0x20)
		return ADDRCLASS6_GLOBAL;
	if ((a->s6_addr[0] & 0xfe) == 0xfc)
		return ADDRCLASS6_ULA;
	return ADDRCLASS6_LOCAL;
}

static size_t
pick_class(const struct osdep_addr6 *in, size_t n, int class,
    struct in6_addr *out, size_t max)
{
	size_t i, j, k = 0;

	for (i = 0; i < n && k < max; i++) {
		if (addrclass6_of(&in[i].addr) != class || (in[i].flags &
		    (OSDEP_ADDR6_TEMPORARY | OSDEP_ADDR6_DEPRECATED |
		    OSDEP_ADDR6_TENTATIVE)))
			continue;
		for (j = 0; j < k; j++)
			if (memcmp(&out[j], &in[i].addr, sizeof(out[j])) == 0)
				break;
		if (j == k)
			out[k++] = in[i].addr;
	}
	return k;
}

/*
 * A unique local address is reached only inside its site or over a link
 * between sites (a VPN); across the internet a probe to it is dropped at
 * the first border that filters fc00::/7 (RFC 4193 4.3).  Where the host
 * has a global address the ULA costs candidates (16 in all) for a case
 * the IPv4 host candidate covers already (the same LAN); an IPv6 site
 * numbered with ULAs alone has no other address to offer.
 */
size_t
addrclass6_pick(const struct osdep_addr6 *in, size_t n, struct in6_addr *out,
    size_t max)
{
	size_t k;

	if ((k = pick_class(in, n, ADDRCLASS6_GLOBAL, out, max)) > 0)
		return k;
	return pick_class(in, n, ADDRCLASS6_ULA, out, max);
}
