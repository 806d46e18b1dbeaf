/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of netwatch-linux.c: rtnetlink messages captured from the
 * kernel (tests/data/netlink), hand-built malformed ones, and, as root, a
 * live run in a network namespace of the test's own (unshare), where veth
 * links, addresses and routes are changed with ip(8).
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "log.h"
#include "netwatch.h"

#define R	NETWATCH_ROUTE
#define A	NETWATCH_ADDR
#define L	NETWATCH_LINK
#define ALL	(R | A | L)

#define GROUPS	(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | \
		    RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE)

static int	in_netns;	/* in a network namespace of our own */

/* Parse an exact-size heap copy (malloc aligns it): ASan sees reads past it. */
static int
parse_n(const void *buf, size_t len)
{
	void *copy = malloc(len == 0 ? 1 : len);
	int r;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	r = netwatch_parse(copy, len);
	free(copy);
	return r;
}

/* ---- captures: tests/data/netlink/README.txt says what each one is ---- */

static const struct capture {
	const char	*file;
	int		 bits;
} captures[] = {
	{ "01-lo-up-1.bin", 0 },
	{ "01-lo-up-2.bin", 0 },
	{ "01-lo-up-3.bin", 0 },
	{ "01-lo-up-4.bin", 0 },
	{ "01-lo-up-5.bin", 0 },
	{ "01-lo-up-6.bin", 0 },
	{ "01-lo-up-7.bin", 0 },
	{ "02-link-add-1.bin", 0 },
	{ "02-link-add-2.bin", 0 },
	{ "03-peer-up-1.bin", L },
	{ "04-link-up-1.bin", L },
	{ "04-link-up-2.bin", 0 },
	{ "04-link-up-3.bin", 0 },
	{ "04-link-up-4.bin", L },
	{ "04-link-up-5.bin", 0 },
	{ "04-link-up-6.bin", 0 },
	{ "04-link-up-7.bin", L },
	{ "04-link-up-8.bin", 0 },
	{ "04-link-up-9.bin", 0 },
	{ "04-link-up-10.bin", 0 },
	{ "04-link-up-11.bin", 0 },
	{ "05-addr-add-v4-1.bin", A },
	{ "05-addr-add-v4-2.bin", 0 },
	{ "05-addr-add-v4-3.bin", 0 },
	{ "05-addr-add-v4-4.bin", 0 },
	{ "06-route-add-default-v4-1.bin", R },
	{ "07-route-add-default-table-1.bin", 0 },
	{ "08-route-add-default-table-big-1.bin", 0 },
	{ "09-route-add-unreachable-1.bin", 0 },
	{ "10-route-del-unreachable-1.bin", 0 },
	{ "11-route-add-net-v4-1.bin", 0 },
	{ "12-route-del-net-v4-1.bin", 0 },
	{ "13-route-del-default-v4-1.bin", R },
	{ "14-addr-add-v6-linklocal-1.bin", 0 },
	{ "14-addr-add-v6-linklocal-2.bin", 0 },
	{ "14-addr-add-v6-linklocal-3.bin", 0 },
	{ "15-addr-add-v6-1.bin", 0 },
	{ "15-addr-add-v6-2.bin", 0 },
	{ "15-addr-add-v6-3.bin", A },
	{ "15-addr-add-v6-4.bin", 0 },
	{ "16-route-add-default-v6-1.bin", R },
	{ "17-route-del-default-v6-1.bin", R },
	{ "18-addr-del-v6-1.bin", A },
	{ "18-addr-del-v6-2.bin", 0 },
	{ "18-addr-del-v6-3.bin", 0 },
	{ "19-addr-del-v4-1.bin", A },
	{ "19-addr-del-v4-2.bin", 0 },
	{ "19-addr-del-v4-3.bin", 0 },
	{ "19-addr-del-v4-4.bin", 0 },
	{ "20-readd-addr-v4-1.bin", A },
	{ "20-readd-addr-v4-2.bin", 0 },
	{ "20-readd-addr-v4-3.bin", 0 },
	{ "20-readd-addr-v4-4.bin", 0 },
	{ "21-readd-default-v4-1.bin", R },
	{ "22-readd-addr-v6-1.bin", 0 },
	{ "22-readd-addr-v6-2.bin", A },
	{ "22-readd-addr-v6-3.bin", 0 },
	{ "23-readd-default-v6-1.bin", R },
	{ "24-carrier-down-1.bin", L },
	{ "24-carrier-down-2.bin", 0 },
	{ "24-carrier-down-3.bin", 0 },
	{ "24-carrier-down-4.bin", 0 },
	{ "24-carrier-down-5.bin", 0 },
	{ "24-carrier-down-6.bin", L },
	{ "25-carrier-up-1.bin", L },
	{ "25-carrier-up-2.bin", 0 },
	{ "25-carrier-up-3.bin", 0 },
	{ "25-carrier-up-4.bin", L },
	{ "25-carrier-up-5.bin", L },
	{ "25-carrier-up-6.bin", 0 },
	{ "25-carrier-up-7.bin", 0 },
	{ "26-link-down-1.bin", L },
	{ "26-link-down-2.bin", 0 },
	{ "26-link-down-3.bin", 0 },
	{ "26-link-down-4.bin", R },
	{ "26-link-down-5.bin", 0 },
	{ "26-link-down-6.bin", 0 },
	{ "26-link-down-7.bin", 0 },
	{ "26-link-down-8.bin", 0 },
	{ "26-link-down-9.bin", A },
	{ "26-link-down-10.bin", 0 },
	{ "26-link-down-11.bin", 0 },
	{ "26-link-down-12.bin", L },
	{ "27-link-del-1.bin", L },
	{ "27-link-del-2.bin", 0 },
	{ "27-link-del-3.bin", 0 },
	{ "27-link-del-4.bin", 0 },
	{ "27-link-del-5.bin", 0 },
	{ "27-link-del-6.bin", A },
	{ "27-link-del-7.bin", 0 },
	{ "27-link-del-8.bin", L },
	{ "27-link-del-9.bin", L },
};

/*
 * Each datagram of a step (the files "NN-step-K.bin" with the NN of
 * *state) gives its bits, alone and all in one buffer, and any datagram
 * cut short (each holds one message) is malformed.
 */
static void
test_capture_step(void **state)
{
	const char *rel = *state, *base = strrchr(rel, '/') + 1;
	unsigned char *all = NULL, *buf;
	size_t i, k, len, alllen = 0, n = 0;
	char path[256];
	int want = 0;

	for (i = 0; i < TU_ARRAY_LEN(captures); i++) {
		if (strncmp(captures[i].file, base, 3) != 0)
			continue;
		snprintf(path, sizeof(path), "netlink/%s", captures[i].file);
		buf = (unsigned char *)tu_read(path, &len);
		if (parse_n(buf, len) != captures[i].bits)
			fail_msg("%s: %d, wanted %d", captures[i].file,
			    parse_n(buf, len), captures[i].bits);
		/* one message, padded: a cut anywhere leaves it incomplete */
		assert_true(len >= NLMSG_HDRLEN && len % NLMSG_ALIGNTO == 0);
		assert_int_equal(NLMSG_ALIGN(((struct nlmsghdr *)(void *)buf)->
		    nlmsg_len), len);
		assert_int_equal(parse_n(buf, 0), 0);
		for (k = 1; k < len; k++)
			if (parse_n(buf, k) != -1)
				fail_msg("%s cut at %zu: accepted",
				    captures[i].file, k);
		all = realloc(all, alllen + len);
		assert_non_null(all);
		memcpy(all + alllen, buf, len);
		alllen += len;
		want |= captures[i].bits;
		free(buf);
		n++;
	}
	assert_true(n > 0);
	assert_int_equal(parse_n(all, alllen), want);
	free(all);
}

/* The table lists every capture; all of them together give every bit. */
static void
test_capture_table(void **state)
{
	unsigned char *all = NULL, *buf;
	size_t i, k, len, alllen = 0;
	char pattern[4096], path[256];
	glob_t g;

	(void)state;
	tu_data_path(pattern, sizeof(pattern), "netlink/*.bin");
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, TU_ARRAY_LEN(captures));
	for (k = 0; k < g.gl_pathc; k++) {
		const char *b = strrchr(g.gl_pathv[k], '/') + 1;

		for (i = 0; i < TU_ARRAY_LEN(captures); i++)
			if (strcmp(captures[i].file, b) == 0)
				break;
		if (i == TU_ARRAY_LEN(captures))
			fail_msg("%s is not in the table", b);
	}
	globfree(&g);
	for (i = 0; i < TU_ARRAY_LEN(captures); i++) {
		snprintf(path, sizeof(path), "netlink/%s", captures[i].file);
		buf = (unsigned char *)tu_read(path, &len);
		all = realloc(all, alllen + len);
		assert_non_null(all);
		memcpy(all + alllen, buf, len);
		alllen += len;
		free(buf);
	}
	assert_int_equal(parse_n(all, alllen), ALL);
	/* the kernel's length check: one byte short at the end */
	assert_int_equal(parse_n(all, alllen - 1), -1);
	free(all);
}

#define CAPTURE_STEP(stem)	TU_FILE_TEST(test_capture_step, \
				    "netlink/" stem "-1.bin")

/* ---- hand-built messages ---- */

struct nlbuf {
	uint32_t	 w[1024];	/* aligned like a receive buffer */
	size_t		 len;		/* bytes used */
	size_t		 msg;		/* where the open message starts */
};

static unsigned char *
nb_bytes(struct nlbuf *b)
{
	return (unsigned char *)b->w;
}

static void
nb_put(struct nlbuf *b, const void *p, size_t n)
{
	assert_true(b->len + NLMSG_ALIGN(n) <= sizeof(b->w));
	memset(nb_bytes(b) + b->len, 0, NLMSG_ALIGN(n));
	if (n > 0)
		memcpy(nb_bytes(b) + b->len, p, n);
	b->len += NLMSG_ALIGN(n);
}

/* Open a message: header, then its fixed part of hlen bytes. */
static void
nb_msg(struct nlbuf *b, uint16_t type, const void *h, size_t hlen)
{
	struct nlmsghdr nh;

	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_type = type;
	b->msg = b->len;
	nb_put(b, &nh, sizeof(nh));
	nb_put(b, h, hlen);
}

static void
nb_attr(struct nlbuf *b, uint16_t type, const void *data, size_t n)
{
	struct rtattr rta;

	rta.rta_len = (unsigned short)RTA_LENGTH(n);
	rta.rta_type = type;
	nb_put(b, &rta, sizeof(rta));
	b->len -= NLMSG_ALIGN(sizeof(rta)) - sizeof(rta);
	nb_put(b, data, n);
}

static void
nb_u32(struct nlbuf *b, uint16_t type, uint32_t v)
{
	nb_attr(b, type, &v, sizeof(v));
}

/* Close the open message: nlmsg_len covers what was put since nb_msg. */
static void
nb_end(struct nlbuf *b)
{
	uint32_t len = (uint32_t)(b->len - b->msg);

	memcpy(nb_bytes(b) + b->msg, &len, sizeof(len));
}

static int
nb_parse(struct nlbuf *b)
{
	return parse_n(b->w, b->len);
}

#define TABLE_NONE	0xffffffffu

static void
nb_route(struct nlbuf *b, uint16_t type, int family, int dst_len,
    int rtm_table, int rtm_type, uint32_t table)
{
	struct rtmsg rtm;
	unsigned char dst[16] = { 10, 9 };

	memset(&rtm, 0, sizeof(rtm));
	rtm.rtm_family = (unsigned char)family;
	rtm.rtm_dst_len = (unsigned char)dst_len;
	rtm.rtm_table = (unsigned char)rtm_table;
	rtm.rtm_type = (unsigned char)rtm_type;
	rtm.rtm_protocol = RTPROT_BOOT;
	nb_msg(b, type, &rtm, sizeof(rtm));
	if (table != TABLE_NONE)
		nb_u32(b, RTA_TABLE, table);
	if (dst_len > 0)
		nb_attr(b, RTA_DST, dst, family == AF_INET6 ? 16 : 4);
	nb_u32(b, RTA_OIF, 2);
	nb_end(b);
}

static int
route(uint16_t type, int family, int dst_len, int rtm_table, int rtm_type,
    uint32_t table)
{
	struct nlbuf b = { .len = 0 };

	nb_route(&b, type, family, dst_len, rtm_table, rtm_type, table);
	return nb_parse(&b);
}

/* An address message; local and address are 4 or 16 bytes, or NULL. */
static void
nb_addr(struct nlbuf *b, uint16_t type, int family, int scope, int flags,
    const char *local, const char *address)
{
	struct ifaddrmsg ifa;
	unsigned char a[16];
	size_t alen = family == AF_INET6 ? 16 : 4;

	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = (unsigned char)family;
	ifa.ifa_prefixlen = family == AF_INET6 ? 64 : 24;
	ifa.ifa_flags = (unsigned char)flags;
	ifa.ifa_scope = (unsigned char)scope;
	ifa.ifa_index = 2;
	nb_msg(b, type, &ifa, sizeof(ifa));
	if (address != NULL) {
		assert_int_equal(inet_pton(family, address, a), 1);
		nb_attr(b, IFA_ADDRESS, a, alen);
	}
	if (local != NULL) {
		assert_int_equal(inet_pton(family, local, a), 1);
		nb_attr(b, IFA_LOCAL, a, alen);
	}
}

static int
addr(uint16_t type, int family, int scope, int flags, const char *local,
    const char *address)
{
	struct nlbuf b = { .len = 0 };

	nb_addr(&b, type, family, scope, flags, local, address);
	nb_end(&b);
	return nb_parse(&b);
}

static void
nb_link(struct nlbuf *b, uint16_t type, int family, unsigned int flags,
    unsigned int change)
{
	struct ifinfomsg ifi;

	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_family = (unsigned char)family;
	ifi.ifi_type = 1;	/* ARPHRD_ETHER */
	ifi.ifi_index = 2;
	ifi.ifi_flags = flags;
	ifi.ifi_change = change;
	nb_msg(b, type, &ifi, sizeof(ifi));
	nb_attr(b, IFLA_IFNAME, "wlan0", 6);
}

static int
link_msg(uint16_t type, int family, unsigned int flags, unsigned int change,
    int wireless)
{
	struct nlbuf b = { .len = 0 };

	nb_link(&b, type, family, flags, change);
	if (wireless)
		nb_attr(&b, IFLA_WIRELESS, "\x08\x00\x15\x8b\x00\x00\x00\x00",
		    8);
	nb_end(&b);
	return nb_parse(&b);
}

#define UP_RUNNING	(IFF_UP | IFF_RUNNING | IFF_BROADCAST | IFF_MULTICAST)

static void
test_route_rules(void **state)
{
	(void)state;
	/* default routes of the main table */
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN,
	    RTN_UNICAST, TABLE_NONE), R);
	assert_int_equal(route(RTM_DELROUTE, AF_INET, 0, RT_TABLE_MAIN,
	    RTN_UNICAST, RT_TABLE_MAIN), R);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN,
	    RTN_UNICAST, RT_TABLE_MAIN), R);
	assert_int_equal(route(RTM_DELROUTE, AF_INET6, 0, RT_TABLE_MAIN,
	    RTN_UNICAST, TABLE_NONE), R);
	/* RTA_TABLE decides: rtm_table is RT_TABLE_COMPAT above 255 */
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_COMPAT,
	    RTN_UNICAST, RT_TABLE_MAIN), R);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_COMPAT,
	    RTN_UNICAST, 51820), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN,
	    RTN_UNICAST, 1000), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET6, 0, 100,
	    RTN_UNICAST, 100), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_LOCAL,
	    RTN_UNICAST, TABLE_NONE), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_DEFAULT,
	    RTN_UNICAST, RT_TABLE_DEFAULT), 0);
	/* not a default route */
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 16, RT_TABLE_MAIN,
	    RTN_UNICAST, RT_TABLE_MAIN), 0);
	assert_int_equal(route(RTM_DELROUTE, AF_INET, 32, RT_TABLE_MAIN,
	    RTN_UNICAST, RT_TABLE_MAIN), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET6, 128, RT_TABLE_MAIN,
	    RTN_UNICAST, RT_TABLE_MAIN), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET6, 1, RT_TABLE_MAIN,
	    RTN_UNICAST, RT_TABLE_MAIN), 0);
	/* not unicast */
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN,
	    RTN_UNREACHABLE, RT_TABLE_MAIN), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN,
	    RTN_BLACKHOLE, RT_TABLE_MAIN), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN,
	    RTN_MULTICAST, RT_TABLE_MAIN), 0);
	assert_int_equal(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN,
	    RTN_LOCAL, RT_TABLE_MAIN), 0);
	/* neither IPv4 nor IPv6 */
	assert_int_equal(route(RTM_NEWROUTE, AF_UNSPEC, 0, RT_TABLE_MAIN,
	    RTN_UNICAST, RT_TABLE_MAIN), 0);
	assert_int_equal(route(RTM_NEWROUTE, 28 /* AF_MPLS */, 0,
	    RT_TABLE_MAIN, RTN_UNICAST, RT_TABLE_MAIN), 0);
}

static void
test_addr_rules(void **state)
{
	struct nlbuf b = { .len = 0 };
	uint32_t fl;

	(void)state;
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE,
	    IFA_F_PERMANENT, "192.0.2.7", "192.0.2.7"), A);
	assert_int_equal(addr(RTM_DELADDR, AF_INET, RT_SCOPE_UNIVERSE, 0,
	    "100.64.3.1", "100.64.3.1"), A);
	/* IPv4: any scope, but not 127/8 */
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_LINK, 0,
	    "169.254.7.7", NULL), A);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_HOST, 0,
	    "127.0.0.1", "127.0.0.1"), 0);
	assert_int_equal(addr(RTM_DELADDR, AF_INET, RT_SCOPE_UNIVERSE, 0,
	    "127.5.5.5", NULL), 0);
	/* IFA_LOCAL is ours, IFA_ADDRESS the peer's (PPP) */
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE, 0,
	    "127.0.0.2", "10.0.0.1"), 0);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE, 0,
	    "100.70.1.2", "127.0.0.1"), A);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE, 0,
	    NULL, "198.51.100.9"), A);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE, 0,
	    NULL, "127.9.9.9"), 0);
	/* no address at all: cannot be told from a real one */
	assert_int_equal(addr(RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE, 0,
	    NULL, NULL), A);
	/* IPv6: not link or host scope, not ::1 */
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_UNIVERSE,
	    IFA_F_PERMANENT, NULL, "2001:db8::2"), A);
	assert_int_equal(addr(RTM_DELADDR, AF_INET6, RT_SCOPE_UNIVERSE, 0,
	    NULL, "fd00:1::5"), A);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_SITE, 0,
	    NULL, "fec0::5"), A);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_LINK, 0,
	    NULL, "fe80::1"), 0);
	assert_int_equal(addr(RTM_DELADDR, AF_INET6, RT_SCOPE_LINK, 0,
	    NULL, "fe80::1"), 0);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_HOST, 0,
	    NULL, "::1"), 0);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_UNIVERSE, 0,
	    NULL, "::1"), 0);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_UNIVERSE, 0,
	    "::1", "2001:db8::99"), 0);
	/* in DAD: not yet usable, unless optimistic; its loss counts */
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_UNIVERSE,
	    IFA_F_TENTATIVE, NULL, "2001:db8::2"), 0);
	assert_int_equal(addr(RTM_NEWADDR, AF_INET6, RT_SCOPE_UNIVERSE,
	    IFA_F_TENTATIVE | IFA_F_OPTIMISTIC, NULL, "2001:db8::2"), A);
	assert_int_equal(addr(RTM_DELADDR, AF_INET6, RT_SCOPE_UNIVERSE,
	    IFA_F_TENTATIVE, NULL, "2001:db8::2"), A);
	/* IFA_FLAGS, when there, holds the flags */
	nb_addr(&b, RTM_NEWADDR, AF_INET6, RT_SCOPE_UNIVERSE, 0, NULL,
	    "2001:db8::3");
	fl = IFA_F_TENTATIVE | IFA_F_MANAGETEMPADDR;
	nb_attr(&b, IFA_FLAGS, &fl, sizeof(fl));
	nb_end(&b);
	assert_int_equal(nb_parse(&b), 0);
	b.len = 0;
	nb_addr(&b, RTM_NEWADDR, AF_INET6, RT_SCOPE_UNIVERSE,
	    IFA_F_TENTATIVE, NULL, "2001:db8::3");
	fl = IFA_F_PERMANENT;
	nb_attr(&b, IFA_FLAGS, &fl, sizeof(fl));
	nb_end(&b);
	assert_int_equal(nb_parse(&b), A);
	/* other families: ignored, whatever their attributes */
	b.len = 0;
	{
		struct ifaddrmsg ifa = { .ifa_family = 17 /* AF_PACKET */ };

		nb_msg(&b, RTM_NEWADDR, &ifa, sizeof(ifa));
		nb_attr(&b, IFA_LOCAL, "\x01\x02\x03\x04\x05\x06", 6);
		nb_end(&b);
	}
	assert_int_equal(nb_parse(&b), 0);
}

static void
test_link_rules(void **state)
{
	(void)state;
	/* ip link set up/down */
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, UP_RUNNING, IFF_UP,
	    0), L);
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_BROADCAST,
	    IFF_UP, 0), L);
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_UP,
	    IFF_RUNNING, 0), L);
	/* carrier or operstate (linkwatch): ifi_change 0 */
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_UP, 0, 0), L);
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, UP_RUNNING, 0, 0),
	    L);
	/* a wireless extension event (a scan, an association) */
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, UP_RUNNING, 0, 1),
	    0);
	/* other flags */
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, UP_RUNNING |
	    IFF_PROMISC, IFF_PROMISC, 0), 0);
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, UP_RUNNING,
	    IFF_ALLMULTI, 0), 0);
	/* a new link: only if it comes up at once */
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_BROADCAST,
	    0xffffffffu, 0), 0);
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, UP_RUNNING,
	    0xffffffffu, 0), L);
	/* a link deleted */
	assert_int_equal(link_msg(RTM_DELLINK, AF_UNSPEC, IFF_BROADCAST,
	    0xffffffffu, 0), L);
	assert_int_equal(link_msg(RTM_DELLINK, AF_UNSPEC, UP_RUNNING, 0, 0),
	    L);
	/* loopback */
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_UP |
	    IFF_LOOPBACK, IFF_UP, 0), 0);
	assert_int_equal(link_msg(RTM_NEWLINK, AF_UNSPEC, IFF_LOOPBACK, 0,
	    0), 0);
	/* bridge port news: a port leaving its bridge is a DELLINK */
	assert_int_equal(link_msg(RTM_NEWLINK, AF_BRIDGE, UP_RUNNING, 0, 0),
	    0);
	assert_int_equal(link_msg(RTM_DELLINK, AF_BRIDGE, UP_RUNNING, 0, 0),
	    0);
}

static void
test_other_messages(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct nlmsgerr e;
	int done = 0;

	(void)state;
	assert_int_equal(parse_n("", 0), 0);
	nb_msg(&b, NLMSG_NOOP, NULL, 0);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), 0);
	nb_msg(&b, NLMSG_DONE, &done, sizeof(done));
	nb_end(&b);
	memset(&e, 0, sizeof(e));
	e.error = -EEXIST;
	nb_msg(&b, NLMSG_ERROR, &e, sizeof(e));
	nb_end(&b);
	nb_msg(&b, NLMSG_ERROR, NULL, 0);	/* no room for an nlmsgerr */
	nb_end(&b);
	nb_msg(&b, RTM_NEWNEIGH, "\x02\0\0\0\x02\0\0\0\x02\0\x01\0", 12);
	nb_end(&b);
	nb_msg(&b, 0xffff, NULL, 0);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), 0);
	/* a default route after them still counts, and so does what follows */
	nb_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST,
	    RT_TABLE_MAIN);
	assert_int_equal(nb_parse(&b), R);
	nb_link(&b, RTM_NEWLINK, AF_UNSPEC, IFF_UP, IFF_UP);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), R | L);
	nb_addr(&b, RTM_DELADDR, AF_INET, 0, 0, "192.0.2.1", NULL);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), ALL);
}

/* A last message need not be padded to 4 bytes. */
static void
test_unpadded_end(void **state)
{
	struct nlbuf b = { .len = 0 };
	unsigned char one = 1;

	(void)state;
	nb_msg(&b, NLMSG_NOOP, &one, 1);
	b.len -= 3;
	nb_end(&b);
	assert_int_equal(b.w[0], 17);
	assert_int_equal(nb_parse(&b), 0);
	/* a default route whose last attribute has one byte */
	b.len = 0;
	nb_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST,
	    TABLE_NONE);
	nb_attr(&b, RTA_PREF, &one, 1);
	b.len -= 3;
	nb_end(&b);
	assert_int_equal(b.len % 4, 1);
	assert_int_equal(nb_parse(&b), R);
}

/* Set a message's nlmsg_len (at offset off) by hand. */
static void
set_len(struct nlbuf *b, size_t off, uint32_t len)
{
	memcpy(nb_bytes(b) + off, &len, sizeof(len));
}

static void
test_malformed_headers(void **state)
{
	struct nlbuf b = { .len = 0 };
	size_t k;

	(void)state;
	nb_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST,
	    RT_TABLE_MAIN);
	assert_int_equal(nb_parse(&b), R);
	/* truncated: less than a header, or less than nlmsg_len */
	for (k = 1; k < b.len; k++)
		assert_int_equal(parse_n(b.w, k), -1);
	/* nlmsg_len below a header */
	set_len(&b, 0, 0);
	assert_int_equal(nb_parse(&b), -1);
	set_len(&b, 0, 8);
	assert_int_equal(nb_parse(&b), -1);
	set_len(&b, 0, NLMSG_HDRLEN - 1);
	assert_int_equal(nb_parse(&b), -1);
	/* nlmsg_len past the buffer */
	set_len(&b, 0, (uint32_t)b.len + 4);
	assert_int_equal(nb_parse(&b), -1);
	set_len(&b, 0, 0xffffffffu);
	assert_int_equal(nb_parse(&b), -1);
	set_len(&b, 0, 0x80000000u);
	assert_int_equal(nb_parse(&b), -1);
	/* trailing bytes after a good message: too few for a header */
	set_len(&b, 0, (uint32_t)b.len);
	b.len += 8;
	memset(nb_bytes(&b) + b.len - 8, 0, 8);
	assert_int_equal(nb_parse(&b), -1);
	/* a good message, then a bad one: the buffer is refused whole */
	b.len -= 8;
	nb_msg(&b, NLMSG_NOOP, NULL, 0);
	set_len(&b, b.msg, 4);
	assert_int_equal(nb_parse(&b), -1);
	/* not aligned as a receive buffer is */
	b.len = 0;
	nb_msg(&b, NLMSG_NOOP, NULL, 0);
	nb_end(&b);
	{
		unsigned char *p = malloc(b.len + 1);

		assert_non_null(p);
		memcpy(p + 1, b.w, b.len);
		assert_int_equal(netwatch_parse(p + 1, b.len), -1);
		memcpy(p, b.w, b.len);
		assert_int_equal(netwatch_parse(p, b.len), 0);
		free(p);
	}
}

/* A message shorter than the fixed part of its type. */
static void
test_malformed_short_payload(void **state)
{
	static const struct {
		uint16_t	type;
		size_t		size;
	} t[] = {
		{ RTM_NEWROUTE, sizeof(struct rtmsg) },
		{ RTM_DELROUTE, sizeof(struct rtmsg) },
		{ RTM_NEWADDR, sizeof(struct ifaddrmsg) },
		{ RTM_DELADDR, sizeof(struct ifaddrmsg) },
		{ RTM_NEWLINK, sizeof(struct ifinfomsg) },
		{ RTM_DELLINK, sizeof(struct ifinfomsg) },
	};
	unsigned char zero[sizeof(struct ifinfomsg)];
	struct nlbuf b;
	size_t i, k;

	(void)state;
	memset(zero, 0, sizeof(zero));
	for (i = 0; i < TU_ARRAY_LEN(t); i++) {
		for (k = 0; k < t[i].size; k++) {
			b.len = 0;
			nb_msg(&b, t[i].type, zero, k);
			set_len(&b, 0, (uint32_t)(NLMSG_HDRLEN + k));
			if (nb_parse(&b) != -1)
				fail_msg("type %d with %zu of %zu bytes: "
				    "accepted", t[i].type, k, t[i].size);
		}
		/* the whole fixed part and nothing else is fine */
		b.len = 0;
		nb_msg(&b, t[i].type, zero, t[i].size);
		nb_end(&b);
		assert_true(nb_parse(&b) >= 0);
	}
}

static void
test_malformed_attributes(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct rtattr rta;
	size_t at;

	(void)state;
	/* an attribute longer than what is left of its message */
	nb_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST,
	    RT_TABLE_MAIN);
	at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct rtmsg));
	memcpy(&rta, nb_bytes(&b) + at, sizeof(rta));
	assert_int_equal(rta.rta_type, RTA_TABLE);
	rta.rta_len = (unsigned short)(b.len - at + 4);
	memcpy(nb_bytes(&b) + at, &rta, sizeof(rta));
	assert_int_equal(nb_parse(&b), -1);
	/* rta_len below an attribute header */
	rta.rta_len = 2;
	memcpy(nb_bytes(&b) + at, &rta, sizeof(rta));
	assert_int_equal(nb_parse(&b), -1);
	/* a tail too short for an attribute header */
	b.len = 0;
	nb_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST,
	    RT_TABLE_MAIN);
	memset(nb_bytes(&b) + b.len, 0, 4);
	b.len += 2;
	nb_end(&b);
	b.len += 2;	/* padding */
	assert_int_equal(nb_parse(&b), -1);
	/* the last attribute past nlmsg_len, though inside the buffer */
	b.len = 0;
	nb_link(&b, RTM_NEWLINK, AF_UNSPEC, IFF_UP, IFF_UP);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), L);
	set_len(&b, 0, (uint32_t)b.len - 4);
	assert_int_equal(parse_n(b.w, b.len - 4), -1);
	b.len = 0;
	nb_addr(&b, RTM_NEWADDR, AF_INET, 0, 0, "192.0.2.1", NULL);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), A);
	set_len(&b, 0, (uint32_t)b.len - 4);
	assert_int_equal(parse_n(b.w, b.len - 4), -1);
	/* sizes that the kernel never sends */
	b.len = 0;
	nb_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST,
	    TABLE_NONE);
	nb_attr(&b, RTA_TABLE, "\xfe\0", 2);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), -1);
	b.len = 0;
	nb_addr(&b, RTM_NEWADDR, AF_INET, 0, 0, NULL, NULL);
	nb_attr(&b, IFA_LOCAL, "\xc0\0\x02\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), -1);
	b.len = 0;
	nb_addr(&b, RTM_DELADDR, AF_INET6, 0, 0, NULL, NULL);
	nb_attr(&b, IFA_ADDRESS, "\x20\x01\x0d\xb8", 4);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), -1);
	b.len = 0;
	nb_addr(&b, RTM_NEWADDR, AF_INET6, 0, 0, NULL, "2001:db8::1");
	nb_attr(&b, IFA_FLAGS, "\x80", 1);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), -1);
	/* a message we ignore must still be well-formed */
	b.len = 0;
	nb_route(&b, RTM_NEWROUTE, AF_INET, 16, RT_TABLE_LOCAL, RTN_LOCAL,
	    RT_TABLE_LOCAL);
	nb_attr(&b, RTA_TABLE, "\xff", 1);
	nb_end(&b);
	assert_int_equal(nb_parse(&b), -1);
}

/* ---- the socket ---- */

static void
test_open(void **state)
{
	struct sockaddr_nl snl;
	socklen_t sl = sizeof(snl);
	int fd, r;

	(void)state;
	fd = netwatch_open();
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&snl, &sl), 0);
	assert_int_equal(snl.nl_family, AF_NETLINK);
	assert_int_equal(snl.nl_groups, GROUPS);
	/* nothing yet: no wait, nothing seen (the host may be busy) */
	r = netwatch_read(fd);
	if (in_netns)
		assert_int_equal(r, 0);
	else
		assert_true(r >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(netwatch_read(fd), -1);
	assert_int_equal(errno, EBADF);
}

/* ---- live, as root, in the test's own network namespace ---- */

/*
 * A datagram from another socket than the kernel's is not believed.
 * Sending one takes CAP_NET_ADMIN (NL_CFG_F_NONROOT_SEND is not set for
 * NETLINK_ROUTE): a live test.
 */
static void
test_forged_sender(void **state)
{
	struct nlbuf b = { .len = 0 };
	struct sockaddr_nl snl, to;
	socklen_t sl = sizeof(snl);
	struct pollfd pfd;
	int fd, s;

	(void)state;
	nb_route(&b, RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST,
	    RT_TABLE_MAIN);
	assert_int_equal(nb_parse(&b), R);
	fd = netwatch_open();
	assert_true(fd >= 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&snl, &sl), 0);
	assert_int_not_equal(snl.nl_pid, 0);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	assert_true(s >= 0);
	memset(&to, 0, sizeof(to));
	to.nl_family = AF_NETLINK;
	to.nl_pid = snl.nl_pid;
	assert_int_equal(sendto(s, b.w, b.len, 0, (struct sockaddr *)&to,
	    sizeof(to)), (ssize_t)b.len);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_int_equal(netwatch_read(fd), 0);
	/* and it was read: nothing left */
	assert_int_equal(poll(&pfd, 1, 0), 0);
	close(s);
	close(fd);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run "ip ARGS" (split at spaces): the test fails unless it exits 0 in 5 s. */
static void
ip(const char *args)
{
	char buf[256], *argv[32], *p;
	uint64_t deadline;
	pid_t pid, w;
	int n = 0, st = 0;

	snprintf(buf, sizeof(buf), "%s", args);
	argv[n++] = (char *)"ip";
	for (p = strtok(buf, " "); p != NULL && n < 31; p = strtok(NULL, " "))
		argv[n++] = p;
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execvp("ip", argv);
		execv("/usr/sbin/ip", argv);
		execv("/sbin/ip", argv);
		_exit(127);
	}
	deadline = now_ms() + 5000;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(5000);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("ip %s: still running after 5 s", args);
	}
	assert_int_equal(w, pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("ip %s: exit status %d", args,
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/*
 * Read fd until all of want has been seen (3 s at most), then for
 * settle_ms more; returns all the bits seen.  Each poll waits 1 s at most.
 */
static int
wait_bits(int fd, int want, int settle_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t now, deadline = now_ms() + 3000, settle = 0;
	int i, r, timeout, bits = 0;

	for (i = 0; i < 200; i++) {
		now = now_ms();
		if ((bits & want) == want) {
			if (settle == 0)
				settle = now + (uint64_t)settle_ms;
			if (now >= settle)
				break;
			timeout = (int)(settle - now);
		} else {
			if (now >= deadline)
				break;
			timeout = (int)(deadline - now);
		}
		if (timeout > 1000)
			timeout = 1000;
		r = poll(&pfd, 1, timeout);
		if (r == -1 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0)
			continue;
		r = netwatch_read(fd);
		assert_int_not_equal(r, -1);
		bits |= r;
	}
	return bits;
}

static void
test_live_changes(void **state)
{
	static const struct {
		const char	*ip;
		int		 want;		/* must be seen */
		int		 never;		/* must not be seen */
	} steps[] = {
		{ "link add nw0 type veth peer name nw1", 0, ALL },
		{ "link set nw1 up", L, R | A },
		{ "link set nw0 up", L, R | A },	/* IPv6 link-local */
		{ "addr add 192.168.90.2/24 dev nw0", A, R },
		{ "route add 10.9.0.0/16 via 192.168.90.1", 0, R | A },
		{ "route add default via 192.168.90.1", R, A },
		{ "route del default", R, A },
		{ "addr add fe80::90:2/64 dev nw0 nodad", 0, R | A },
		{ "addr add 2001:db8::2/64 dev nw0 nodad", A, R },
		{ "-6 route add default via 2001:db8::1", R, A },
		{ "link set nw1 down", L, 0 },		/* nw0's carrier */
		{ "link set nw1 up", L, 0 },
		{ "-6 route del default", R, A },
		{ "addr del 192.168.90.2/24 dev nw0", A, R },
		{ "link set nw0 down", L | A, R },	/* IPv6 addresses go */
		{ "link del nw0", L, R },
	};
	size_t i;
	int fd, bits;

	(void)state;
	fd = netwatch_open();
	assert_true(fd >= 0);
	for (i = 0; i < TU_ARRAY_LEN(steps); i++) {
		ip(steps[i].ip);
		bits = wait_bits(fd, steps[i].want,
		    steps[i].never != 0 ? 300 : 0);
		if ((bits & steps[i].want) != steps[i].want ||
		    (bits & steps[i].never) != 0)
			fail_msg("ip %s: bits 0x%x, wanted 0x%x and none of "
			    "0x%x", steps[i].ip, bits, steps[i].want,
			    steps[i].never);
	}
	close(fd);
}

/* Write "ip -batch" input adding n routes 10.P.N.0/24 dev lo. */
static void
ip_routes(int prefix, int n)
{
	char path[] = "/tmp/natmapd-netwatch.XXXXXX", cmd[64];
	FILE *fp;
	int fd, i;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	for (i = 0; i < n; i++)
		fprintf(fp, "route add 10.%d.%d.0/24 dev lo\n", prefix, i);
	assert_int_equal(fclose(fp), 0);
	snprintf(cmd, sizeof(cmd), "-batch %s", path);
	ip(cmd);
	unlink(path);
}

/* An overrun (ENOBUFS) loses messages: everything may have changed. */
static void
test_live_overrun(void **state)
{
	int fd, tiny = 1;

	(void)state;
	fd = netwatch_open();
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny,
	    sizeof(tiny)), 0);
	ip_routes(77, 200);
	/* only routes to networks: but some were lost */
	assert_int_equal(netwatch_read(fd), ALL);
	assert_int_equal(netwatch_read(fd), 0);
	close(fd);
}

/* A read takes 64 datagrams at most and leaves the rest for the next one. */
static void
test_live_bounded_drain(void **state)
{
	struct pollfd pfd;
	int fd;

	(void)state;
	fd = netwatch_open();
	assert_true(fd >= 0);
	ip_routes(78, 80);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(netwatch_read(fd), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(netwatch_read(fd), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	close(fd);
}


int
main(void)
{
	const struct CMUnitTest base[] = {
		CAPTURE_STEP("01-lo-up"),
		CAPTURE_STEP("02-link-add"),
		CAPTURE_STEP("03-peer-up"),
		CAPTURE_STEP("04-link-up"),
		CAPTURE_STEP("05-addr-add-v4"),
		CAPTURE_STEP("06-route-add-default-v4"),
		CAPTURE_STEP("07-route-add-default-table"),
		CAPTURE_STEP("08-route-add-default-table-big"),
		CAPTURE_STEP("09-route-add-unreachable"),
		CAPTURE_STEP("10-route-del-unreachable"),
		CAPTURE_STEP("11-route-add-net-v4"),
		CAPTURE_STEP("12-route-del-net-v4"),
		CAPTURE_STEP("13-route-del-default-v4"),
		CAPTURE_STEP("14-addr-add-v6-linklocal"),
		CAPTURE_STEP("15-addr-add-v6"),
		CAPTURE_STEP("16-route-add-default-v6"),
		CAPTURE_STEP("17-route-del-default-v6"),
		CAPTURE_STEP("18-addr-del-v6"),
		CAPTURE_STEP("19-addr-del-v4"),
		CAPTURE_STEP("20-readd-addr-v4"),
		CAPTURE_STEP("21-readd-default-v4"),
		CAPTURE_STEP("22-readd-addr-v6"),
		CAPTURE_STEP("23-readd-default-v6"),
		CAPTURE_STEP("24-carrier-down"),
		CAPTURE_STEP("25-carrier-up"),
		CAPTURE_STEP("26-link-down"),
		CAPTURE_STEP("27-link-del"),
		cmocka_unit_test(test_capture_table),
		cmocka_unit_test(test_route_rules),
		cmocka_unit_test(test_addr_rules),
		cmocka_unit_test(test_link_rules),
		cmocka_unit_test(test_other_messages),
		cmocka_unit_test(test_unpadded_end),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_malformed_short_payload),
		cmocka_unit_test(test_malformed_attributes),
		cmocka_unit_test(test_open),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_forged_sender),
		cmocka_unit_test(test_live_changes),
		cmocka_unit_test(test_live_overrun),
		cmocka_unit_test(test_live_bounded_drain),
	};
	struct CMUnitTest tests[TU_ARRAY_LEN(base) + TU_ARRAY_LEN(live)];
	char why[128];

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	memcpy(tests, base, sizeof(base));
	memcpy(tests + TU_ARRAY_LEN(base), live, sizeof(live));
	/* Only root can change links: the live tests skip otherwise. */
	if (geteuid() != 0)
		tu_skip_tests(tests + TU_ARRAY_LEN(base), TU_ARRAY_LEN(live),
		    "needs root (a network namespace of its own)");
	else if (tu_netns_enter() == -1) {
		snprintf(why, sizeof(why), "no network namespace of our own: %s",
		    strerror(errno));
		tu_skip_tests(tests + TU_ARRAY_LEN(base), TU_ARRAY_LEN(live),
		    why);
	} else
		in_netns = 1;
	return TU_RUN("netwatch", tests);
}
