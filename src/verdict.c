/* SPDX-License-Identifier: ISC */
/* Turns --probe's findings (addresses and NAT behaviour) into a verdict: reachable, by what means, and why. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addrclass.h"
#include "verdict.h"

const char *
verdict_mapping_name(int m)
{
	switch (m) {
	case VERDICT_MAP_NONE:
		return "none";
	case VERDICT_MAP_EI:
		return "endpoint-independent";
	case VERDICT_MAP_DEPENDENT:
		return "dependent";
	case VERDICT_MAP_AD:
		return "address-dependent";
	case VERDICT_MAP_APD:
		return "address-and-port-dependent";
	}
	return "unknown";
}

const char *
verdict_filtering_name(int f)
{
	switch (f) {
	case VERDICT_FILTER_NONE:
		return "none";
	case VERDICT_FILTER_EI:
		return "endpoint-independent";
	case VERDICT_FILTER_AD:
		return "address-dependent";
	case VERDICT_FILTER_APD:
		return "address-and-port-dependent";
	}
	return "unknown";
}

const char *
verdict_means_name(int means, const char *proto_id)
{
	switch (means) {
	case VERDICT_MEANS_PROTOCOL:
		return proto_id != NULL ? proto_id : "unknown";
	case VERDICT_MEANS_DIRECT:
		return "direct";
	case VERDICT_MEANS_STUN:
		return "stun";
	case VERDICT_MEANS_HOLE_PUNCHING:
		return "hole-punching";
	case VERDICT_MEANS_NONE:
		return "none";
	}
	return "unknown";
}

static void
verdict_say(struct verdict_result *v, int reachable, int means,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
verdict_say(struct verdict_result *v, int reachable, int means,
    const char *fmt, ...)
{
	va_list ap;

	v->reachable = reachable;
	v->means = means;
	va_start(ap, fmt);
	vsnprintf(v->text, sizeof(v->text), fmt, ap);
	va_end(ap);
}

void
verdict_judge(const struct verdict_facts *f, struct verdict_result *v)
{
	struct addrclass_verdict av;
	char ext[INET_ADDRSTRLEN];

	memset(v, 0, sizeof(*v));
	v->double_nat = -1;
	v->ext = f->ext.s_addr != INADDR_ANY ? f->ext : f->gw_ext;
	if (f->proto_name != NULL && f->gw_ext.s_addr != INADDR_ANY) {
		addrclass_judge(f->gw_ext, v->ext, &av);
		v->double_nat = av.double_nat;
		v->cgnat = av.cgnat;
		v->double_why = av.why;
	} else if (f->proto_name == NULL && v->ext.s_addr != INADDR_ANY &&
	    f->mapping == VERDICT_MAP_NONE)
		v->double_nat = 0;

	if (f->proto_name != NULL && v->double_nat == 1)
		verdict_say(v, 0, VERDICT_MEANS_NONE, "the gateway speaks %s, "
		    "but %s; a mapping on it is not reached from the internet. "
		    "%s", f->proto_name, v->double_why, v->cgnat ?
		    "Ask the provider for a public address, or rely on STUN "
		    "and hole punching." : "The outer router must forward the "
		    "port too.");
	else if (f->proto_name != NULL) {
		inet_ntop(AF_INET, &v->ext, ext, sizeof(ext));
		verdict_say(v, 1, VERDICT_MEANS_PROTOCOL, "--map will make "
		    "ports reachable from the internet through %s%s%s%s.",
		    f->proto_name, v->ext.s_addr != INADDR_ANY ? " at " : "",
		    v->ext.s_addr != INADDR_ANY ? ext : "",
		    v->double_nat == -1 ? " (whether another NAT is upstream "
		    "is not known: no external address to compare)" : "");
	} else if (f->mapping == VERDICT_MAP_NONE)
		verdict_say(v, 1, VERDICT_MEANS_DIRECT, "no NAT between this "
		    "host and the internet: ports are reachable directly, "
		    "unless a firewall blocks them.");
	else if (f->mapping == VERDICT_MAP_EI &&
	    f->filtering == VERDICT_FILTER_EI)
		verdict_say(v, 1, VERDICT_MEANS_STUN, "no gateway protocol, "
		    "but the NAT maps and filters independently of the peer: a "
		    "port kept open with STUN is reachable by anyone who "
		    "learns its public address.");
	else if (f->mapping == VERDICT_MAP_EI)
		verdict_say(v, 0, VERDICT_MEANS_HOLE_PUNCHING, "no gateway "
		    "protocol, and the NAT filters by peer: not reachable "
		    "unsolicited; peers can connect by hole punching through a "
		    "rendezvous server.");
	else if (f->answered && f->mapping != VERDICT_MAP_UNKNOWN)
		verdict_say(v, 0, VERDICT_MEANS_NONE, "no gateway protocol, "
		    "and the NAT maps each peer to another port: not "
		    "reachable; only a relay can carry inbound connections.");
	else
		verdict_say(v, 0, VERDICT_MEANS_UNKNOWN, "no gateway protocol "
		    "answered%s; reachability cannot be told.", f->have_stun ?
		    "" : " and no STUN server is configured (stun-server)");
}
