/* SPDX-License-Identifier: ISC */
/* --probe's verdict from what the sources said: pure, on enums, unit-tested without a network. */
#ifndef NATMAPD_VERDICT_H
#define NATMAPD_VERDICT_H

#include <netinet/in.h>

/* RFC 4787 / RFC 5780 behaviour, as far as the tests told it. */
enum verdict_mapping {
	VERDICT_MAP_UNKNOWN,
	VERDICT_MAP_NONE,		/* no NAT: the server saw our own address */
	VERDICT_MAP_EI,			/* endpoint-independent */
	VERDICT_MAP_DEPENDENT,		/* two servers disagree; no more known */
	VERDICT_MAP_AD,			/* address-dependent */
	VERDICT_MAP_APD,		/* address-and-port-dependent */
};

enum verdict_filtering {
	VERDICT_FILTER_UNKNOWN,
	VERDICT_FILTER_NONE,
	VERDICT_FILTER_EI,
	VERDICT_FILTER_AD,
	VERDICT_FILTER_APD,
};

/* What --map (or another means) can do. */
enum verdict_means {
	VERDICT_MEANS_UNKNOWN,
	VERDICT_MEANS_PROTOCOL,		/* the gateway protocol (proto_id) */
	VERDICT_MEANS_DIRECT,
	VERDICT_MEANS_STUN,
	VERDICT_MEANS_HOLE_PUNCHING,
	VERDICT_MEANS_NONE,
};

struct verdict_facts {
	const char	*proto_name;	/* the protocol --map would use; NULL: none */
	struct in_addr	 gw_ext;	/* its external address; 0 if not said */
	struct in_addr	 ext;		/* the internet's view (STUN, echo); 0 */
	int		 mapping;	/* enum verdict_mapping */
	int		 filtering;	/* enum verdict_filtering */
	int		 answered;	/* any source answered */
	int		 have_stun;	/* a stun-server was configured */
};

struct verdict_result {
	struct in_addr	 ext;		/* best view: facts.ext, else gw_ext */
	int		 double_nat;	/* 1, 0, -1 unknown */
	int		 cgnat;
	const char	*double_why;	/* NULL unless double_nat is 1 */
	int		 reachable;
	int		 means;		/* enum verdict_means */
	char		 text[512];
};

void	verdict_judge(const struct verdict_facts *, struct verdict_result *);
const char *verdict_mapping_name(int);	/* "endpoint-independent", ... */
const char *verdict_filtering_name(int);
/* "direct", "stun", ...; VERDICT_MEANS_PROTOCOL gives proto_id */
const char *verdict_means_name(int, const char *proto_id);

#endif
