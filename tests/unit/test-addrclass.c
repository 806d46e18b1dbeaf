/* SPDX-License-Identifier: ISC */
/* Unit tests of the address classifier and the double-NAT rule shared by the daemon and --probe. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "addrclass.h"
#include "osdep.h"

static struct in_addr
a4(const char *s)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		fail_msg("bad test address %s", s);
	return in;
}

static int
class_of(const char *s)
{
	return addrclass_of(a4(s));
}

static void
test_blocks(void **state)
{
	/* each block: the address before it, its first, its last, the one after */
	static const struct {
		const char	*addr[4];
		int		 class;
	} blocks[] = {
		{ { NULL, "0.0.0.1", "0.255.255.255", "1.0.0.0" },
		    ADDRCLASS_PRIVATE },
		{ { "9.255.255.255", "10.0.0.0", "10.255.255.255", "11.0.0.0" },
		    ADDRCLASS_PRIVATE },
		{ { "100.63.255.255", "100.64.0.0", "100.127.255.255",
		    "100.128.0.0" }, ADDRCLASS_SHARED },
		{ { "126.255.255.255", "127.0.0.0", "127.255.255.255",
		    "128.0.0.0" }, ADDRCLASS_PRIVATE },
		{ { "169.253.255.255", "169.254.0.0", "169.254.255.255",
		    "169.255.0.0" }, ADDRCLASS_PRIVATE },
		{ { "172.15.255.255", "172.16.0.0", "172.31.255.255",
		    "172.32.0.0" }, ADDRCLASS_PRIVATE },
		{ { "191.255.255.255", "192.0.0.0", "192.0.0.255",
		    "192.0.1.0" }, ADDRCLASS_PRIVATE },
		{ { "192.167.255.255", "192.168.0.0", "192.168.255.255",
		    "192.169.0.0" }, ADDRCLASS_PRIVATE },
		{ { "223.255.255.255", "224.0.0.0", "239.255.255.255", NULL },
		    ADDRCLASS_INVALID },
		{ { NULL, "240.0.0.0", "255.255.255.255", NULL },
		    ADDRCLASS_INVALID },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(blocks); i++)
		for (k = 0; k < 4; k++) {
			const char *s = blocks[i].addr[k];
			int want = k == 1 || k == 2 ? blocks[i].class :
			    ADDRCLASS_PUBLIC;

			if (s != NULL && class_of(s) != want)
				fail_msg("%s: %s, not %s", s,
				    addrclass_name(class_of(s)),
				    addrclass_name(want));
		}
	assert_int_equal(class_of("0.0.0.0"), ADDRCLASS_UNSPEC);
}

static void
test_public(void **state)
{
	static const char *const pub[] = {
		"8.8.8.8", "1.1.1.1", "9.9.9.9", "193.0.14.129", "80.0.0.1",
		"151.101.1.1", "223.5.5.5", "100.63.0.1", "172.217.0.1",
		"192.0.3.1", "198.51.99.1",
		/* documentation and benchmark blocks: the lab's internet */
		"192.0.2.1", "198.51.100.7", "203.0.113.2", "198.18.0.1",
		"198.19.255.254", "192.88.99.1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(pub); i++)
		if (class_of(pub[i]) != ADDRCLASS_PUBLIC)
			fail_msg("%s: %s", pub[i],
			    addrclass_name(class_of(pub[i])));
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(addrclass_name(ADDRCLASS_PUBLIC), "public");
	assert_string_equal(addrclass_name(ADDRCLASS_PRIVATE), "private");
	assert_string_equal(addrclass_name(ADDRCLASS_SHARED), "shared");
	assert_string_equal(addrclass_name(ADDRCLASS_UNSPEC), "unspecified");
	assert_string_equal(addrclass_name(ADDRCLASS_INVALID), "invalid");
	assert_string_equal(addrclass_name(-1), "?");
}

/* judge(gateway's external, what the internet sees) */
static void
judge(const char *gw, const char *seen, int double_nat, int cgnat,
    const char *why)
{
	struct addrclass_verdict v;

	memset(&v, 0x55, sizeof(v));
	addrclass_judge(a4(gw), a4(seen), &v);
	if (v.double_nat != double_nat || v.cgnat != cgnat)
		fail_msg("%s seen as %s: double NAT %d cgnat %d, wanted %d %d",
		    gw, seen, v.double_nat, v.cgnat, double_nat, cgnat);
	if (why == NULL)
		assert_null(v.why);
	else if (v.why == NULL || strstr(v.why, why) == NULL)
		fail_msg("%s seen as %s: reason \"%s\" lacks \"%s\"", gw, seen,
		    v.why != NULL ? v.why : "(none)", why);
}

static void
test_judge(void **state)
{
	(void)state;
	/* the lab's plain NAT: public, and STUN agrees or did not say */
	judge("203.0.113.2", "203.0.113.2", 0, 0, NULL);
	judge("203.0.113.2", "0.0.0.0", 0, 0, NULL);
	judge("8.8.4.4", "0.0.0.0", 0, 0, NULL);
	/* behind another NAT */
	judge("192.168.88.2", "203.0.113.2", 1, 0, "private address");
	judge("192.168.88.2", "0.0.0.0", 1, 0, "private address");
	judge("10.0.0.2", "0.0.0.0", 1, 0, "private address");
	judge("100.64.0.2", "203.0.113.2", 1, 1, "100.64.0.0/10");
	judge("100.64.0.2", "0.0.0.0", 1, 1, "carrier-grade NAT");
	judge("0.0.0.0", "203.0.113.2", 1, 0, "no external address");
	judge("224.0.0.1", "0.0.0.0", 1, 0, "not a unicast address");
	/* public, but the internet sees another address */
	judge("198.51.100.9", "203.0.113.2", 1, 0, "differs");
}

static struct in6_addr
a6(const char *s)
{
	struct in6_addr in;

	if (inet_pton(AF_INET6, s, &in) != 1)
		fail_msg("bad test address %s", s);
	return in;
}

static void
test_class6(void **state)
{
	static const struct {
		const char	*addr;
		int		 class;
	} t[] = {
		{ "2001:db8::10", ADDRCLASS6_GLOBAL },	/* the lab's */
		{ "2000::", ADDRCLASS6_GLOBAL },
		{ "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		    ADDRCLASS6_GLOBAL },
		{ "2a01:4f8::1", ADDRCLASS6_GLOBAL },
		{ "2002:cb00:7102::1", ADDRCLASS6_GLOBAL },	/* 6to4 */
		{ "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRCLASS6_LOCAL },
		{ "4000::", ADDRCLASS6_LOCAL },
		{ "fc00::", ADDRCLASS6_ULA },
		{ "fd12:3456:789a::1", ADDRCLASS6_ULA },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRCLASS6_ULA },
		{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDRCLASS6_LOCAL },
		{ "fe00::", ADDRCLASS6_LOCAL },
		{ "fe80::1", ADDRCLASS6_LOCAL },
		{ "fec0::1", ADDRCLASS6_LOCAL },	/* site-local */
		{ "ff02::1", ADDRCLASS6_LOCAL },
		{ "::", ADDRCLASS6_LOCAL },
		{ "::1", ADDRCLASS6_LOCAL },
		{ "::ffff:192.0.2.1", ADDRCLASS6_LOCAL },
		{ "64:ff9b::192.0.2.1", ADDRCLASS6_LOCAL },	/* NAT64 */
	};
	struct in6_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		a = a6(t[i].addr);
		if (addrclass6_of(&a) != t[i].class)
			fail_msg("%s: class %d, wanted %d", t[i].addr,
			    addrclass6_of(&a), t[i].class);
	}
}

/* pick from "addr/flags" entries; compare with the expected, in order */
static void
pick(const char *const *in, size_t max, const char *const *want)
{
	struct osdep_addr6 a[16];
	struct in6_addr out[16];
	char buf[64];
	size_t n = 0, k, i;

	for (; in[n] != NULL; n++) {
		const char *slash = strchr(in[n], '/');

		snprintf(buf, sizeof(buf), "%.*s", slash != NULL ?
		    (int)(slash - in[n]) : (int)strlen(in[n]), in[n]);
		memset(&a[n], 0, sizeof(a[n]));
		a[n].addr = a6(buf);
		a[n].ifindex = 2;
		if (slash != NULL) {
			if (strchr(slash, 't') != NULL)
				a[n].flags |= OSDEP_ADDR6_TEMPORARY;
			if (strchr(slash, 'd') != NULL)
				a[n].flags |= OSDEP_ADDR6_DEPRECATED;
			if (strchr(slash, 'n') != NULL)
				a[n].flags |= OSDEP_ADDR6_TENTATIVE;
		}
	}
	memset(out, 0xee, sizeof(out));
	k = addrclass6_pick(a, n, out, max);
	for (i = 0; want[i] != NULL; i++) {
		if (i >= k)
			fail_msg("picked %zu, wanted %s next", k, want[i]);
		inet_ntop(AF_INET6, &out[i], buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
	}
	assert_int_equal(k, i);
}

static void
test_pick6(void **state)
{
	(void)state;
	/* globals only, stable ones, in order; link-local and loopback never */
	pick((const char *[]){ "fe80::1", "::1", "2001:db8:2::10",
	    "2001:db8:2::abcd/t", "2001:db8:3::10/d", "2001:db8:4::10/n",
	    "2001:db8:5::10", NULL }, 8,
	    (const char *[]){ "2001:db8:2::10", "2001:db8:5::10", NULL });
	/* a ULA beside a global: not offered */
	pick((const char *[]){ "fd00::10", "2001:db8::10", NULL }, 8,
	    (const char *[]){ "2001:db8::10", NULL });
	/* a ULA alone: offered, stable ones only */
	pick((const char *[]){ "fe80::1", "fd00::10/t", "fd00::11", NULL }, 8,
	    (const char *[]){ "fd00::11", NULL });
	/* a global that is only temporary or deprecated counts as none */
	pick((const char *[]){ "2001:db8::99/t", "2001:db8::98/dt",
	    "fd00::11", NULL }, 8, (const char *[]){ "fd00::11", NULL });
	/* the same address on two interfaces: once; max holds */
	pick((const char *[]){ "2001:db8::1", "2001:db8::1", "2001:db8::2",
	    "2001:db8::3", NULL }, 2,
	    (const char *[]){ "2001:db8::1", "2001:db8::2", NULL });
	/* nothing reachable */
	pick((const char *[]){ "fe80::1", "::1", "ff02::1", NULL }, 8,
	    (const char *[]){ NULL });
	pick((const char *[]){ NULL }, 8, (const char *[]){ NULL });
	pick((const char *[]){ "2001:db8::1", NULL }, 0,
	    (const char *[]){ NULL });
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_public),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_class6),
		cmocka_unit_test(test_pick6),
	};

	return TU_RUN("addrclass", tests);
}
