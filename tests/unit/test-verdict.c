/* SPDX-License-Identifier: ISC */
/* Unit tests of --probe's verdict: every outcome from its facts, without a network or root. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "verdict.h"

static struct in_addr
a4(const char *s)
{
	struct in_addr in = { INADDR_ANY };

	if (s != NULL && inet_pton(AF_INET, s, &in) != 1)
		fail_msg("bad test address %s", s);
	return in;
}

/* facts: protocol (NULL none), gateway's and internet's address, behaviour */
static void
facts(struct verdict_facts *f, const char *proto, const char *gw,
    const char *ext, int mapping, int filtering)
{
	memset(f, 0, sizeof(*f));
	f->proto_name = proto;
	f->gw_ext = a4(gw);
	f->ext = a4(ext);
	f->mapping = mapping;
	f->filtering = filtering;
	f->answered = proto != NULL || ext != NULL;
	f->have_stun = 1;
}

static void
expect(const struct verdict_facts *f, int reachable, const char *means,
    int double_nat, int cgnat, const char *text)
{
	struct verdict_result v;

	verdict_judge(f, &v);
	assert_int_equal(v.reachable, reachable);
	assert_string_equal(verdict_means_name(v.means, "pcp"), means);
	assert_int_equal(v.double_nat, double_nat);
	assert_int_equal(v.cgnat, cgnat);
	if (strstr(v.text, text) == NULL)
		fail_msg("verdict \"%s\" lacks \"%s\"", v.text, text);
	if (double_nat == 1)
		assert_non_null(v.double_why);
	else
		assert_null(v.double_why);
}

static void
test_protocol(void **state)
{
	struct verdict_facts f;
	struct verdict_result v;

	(void)state;
	/* the lab's plain router: PCP, public address, STUN agrees */
	facts(&f, "PCP", "203.0.113.2", "203.0.113.2", VERDICT_MAP_EI,
	    VERDICT_FILTER_APD);
	expect(&f, 1, "pcp", 0, 0, "through PCP at 203.0.113.2.");
	/* no STUN: the gateway's address is the best view; nothing to compare */
	facts(&f, "PCP", "203.0.113.2", NULL, VERDICT_MAP_UNKNOWN,
	    VERDICT_FILTER_UNKNOWN);
	expect(&f, 1, "pcp", 0, 0, "at 203.0.113.2.");
	verdict_judge(&f, &v);
	assert_int_equal(v.ext.s_addr, a4("203.0.113.2").s_addr);
	/* a gateway that names no address: double NAT unknown, said so */
	facts(&f, "UPnP", NULL, NULL, VERDICT_MAP_UNKNOWN,
	    VERDICT_FILTER_UNKNOWN);
	expect(&f, 1, "pcp", -1, 0, "is not known: no external address");
}

static void
test_double_nat(void **state)
{
	struct verdict_facts f;

	(void)state;
	facts(&f, "NAT-PMP", "192.168.88.2", "203.0.113.2", VERDICT_MAP_EI,
	    VERDICT_FILTER_APD);
	expect(&f, 0, "none", 1, 0, "The outer router must forward");
	facts(&f, "PCP", "100.64.0.2", "203.0.113.2", VERDICT_MAP_EI,
	    VERDICT_FILTER_APD);
	expect(&f, 0, "none", 1, 1, "Ask the provider for a public address");
	/* public, but the internet sees another address */
	facts(&f, "UPnP", "198.51.100.9", "203.0.113.2", VERDICT_MAP_EI,
	    VERDICT_FILTER_APD);
	expect(&f, 0, "none", 1, 0, "differs from the address the internet");
}

static void
test_no_protocol(void **state)
{
	struct verdict_facts f;

	(void)state;
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_NONE,
	    VERDICT_FILTER_NONE);
	expect(&f, 1, "direct", 0, 0, "no NAT between this host");
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_EI, VERDICT_FILTER_EI);
	expect(&f, 1, "stun", -1, 0, "a port kept open with STUN");
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_EI, VERDICT_FILTER_AD);
	expect(&f, 0, "hole-punching", -1, 0, "hole punching");
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_EI,
	    VERDICT_FILTER_APD);
	expect(&f, 0, "hole-punching", -1, 0, "hole punching");
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_EI,
	    VERDICT_FILTER_UNKNOWN);
	expect(&f, 0, "hole-punching", -1, 0, "filters by peer");
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_APD,
	    VERDICT_FILTER_APD);
	expect(&f, 0, "none", -1, 0, "only a relay");
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_DEPENDENT,
	    VERDICT_FILTER_UNKNOWN);
	expect(&f, 0, "none", -1, 0, "only a relay");
	/* STUN answered, but the mapping could not be told */
	facts(&f, NULL, NULL, "203.0.113.2", VERDICT_MAP_UNKNOWN,
	    VERDICT_FILTER_UNKNOWN);
	expect(&f, 0, "unknown", -1, 0, "cannot be told");
	/* nothing answered, no STUN configured: the text says what to add */
	facts(&f, NULL, NULL, NULL, VERDICT_MAP_UNKNOWN,
	    VERDICT_FILTER_UNKNOWN);
	f.have_stun = 0;
	expect(&f, 0, "unknown", -1, 0, "no STUN server is configured");
	f.have_stun = 1;
	expect(&f, 0, "unknown", -1, 0, "no gateway protocol answered;");
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(verdict_mapping_name(VERDICT_MAP_UNKNOWN),
	    "unknown");
	assert_string_equal(verdict_mapping_name(VERDICT_MAP_NONE), "none");
	assert_string_equal(verdict_mapping_name(VERDICT_MAP_EI),
	    "endpoint-independent");
	assert_string_equal(verdict_mapping_name(VERDICT_MAP_DEPENDENT),
	    "dependent");
	assert_string_equal(verdict_mapping_name(VERDICT_MAP_AD),
	    "address-dependent");
	assert_string_equal(verdict_mapping_name(VERDICT_MAP_APD),
	    "address-and-port-dependent");
	assert_string_equal(verdict_filtering_name(VERDICT_FILTER_UNKNOWN),
	    "unknown");
	assert_string_equal(verdict_filtering_name(VERDICT_FILTER_NONE),
	    "none");
	assert_string_equal(verdict_filtering_name(VERDICT_FILTER_EI),
	    "endpoint-independent");
	assert_string_equal(verdict_filtering_name(VERDICT_FILTER_AD),
	    "address-dependent");
	assert_string_equal(verdict_filtering_name(VERDICT_FILTER_APD),
	    "address-and-port-dependent");
	assert_string_equal(verdict_means_name(VERDICT_MEANS_PROTOCOL,
	    "natpmp"), "natpmp");
	assert_string_equal(verdict_means_name(VERDICT_MEANS_DIRECT, NULL),
	    "direct");
	assert_string_equal(verdict_means_name(-1, NULL), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol),
		cmocka_unit_test(test_double_nat),
		cmocka_unit_test(test_no_protocol),
		cmocka_unit_test(test_names),
	};

	return TU_RUN("verdict", tests);
}
