/* SPDX-License-Identifier: ISC */
/* Unit tests of the address classifier and the double-NAT rule shared by the daemon and --probe. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "addrclass.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_public),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_judge),
	};

	return TU_RUN("addrclass", tests);
}
