/* SPDX-License-Identifier: ISC */
/* The expose and connect statements: what parses, what prints back, what is refused and why. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "conf.h"
#include "conf-peer.h"
#include "log.h"

/* Each good statement prints back as given (or as its canonical form). */
static void
test_expose_good(void **state)
{
	static const char *const cases[][2] = {
		{ "ssh=127.0.0.1:22/tcp", NULL },
		{ "game=[::1]:27015/udp@beta,gamma.lan", NULL },
		{ "dns=[2001:db8::53]:53/udp@beta", NULL },
		{ "a.b_c-9=192.168.1.20:65535/udp", NULL },
		{ "web=192.168.1.20:80/tcp@a,b,c,d,e,f,g,h", NULL },
	};
	struct conf_expose e;
	char err[256], buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(config_parse_expose(cases[i][0], &e, err,
		    sizeof(err)), 0);
		config_format_expose(&e, buf, sizeof(buf));
		assert_string_equal(buf, cases[i][1] != NULL ? cases[i][1] :
		    cases[i][0]);
	}
	assert_int_equal(config_parse_expose("ssh=127.0.0.1:22/tcp@beta,gamma",
	    &e, err, sizeof(err)), 0);
	assert_string_equal(e.name, "ssh");
	assert_int_equal(e.proto, CONF_TCP);
	assert_int_equal(e.target.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&e.target)->sin_port), 22);
	assert_int_equal(e.nallow, 2);
	assert_string_equal(e.allow[1], "gamma");
}

static void
test_expose_bad(void **state)
{
	static const char *const cases[][2] = {
		{ "ssh", "is not NAME=ADDRESS:PORT/PROTO" },
		{ "=127.0.0.1:22/tcp", "is not a service name" },
		{ "SSH=127.0.0.1:22/tcp", "is not a service name" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=127.0.0.1:22/tcp",
		    "is not a service name" },
		{ "ssh=127.0.0.1:22", "needs /tcp or /udp" },
		{ "ssh=127.0.0.1:22/sctp", "needs /tcp or /udp" },
		{ "ssh=127.0.0.1/tcp", "is not ADDRESS:PORT" },
		{ "ssh=localhost:22/tcp", "is not ADDRESS:PORT" },
		{ "ssh=127.0.0.1:0/tcp", "is not ADDRESS:PORT" },
		{ "ssh=127.0.0.1:65536/tcp", "is not ADDRESS:PORT" },
		{ "ssh=[::1:22/tcp", "is not ADDRESS:PORT" },
		{ "ssh=[::1]22/tcp", "is not ADDRESS:PORT" },
		{ "ssh=22/tcp", "is not ADDRESS:PORT" },
		{ "ssh=127.0.0.1:22/tcp@", "is not a node name" },
		{ "ssh=127.0.0.1:22/tcp@a,,b", "is not a node name" },
		{ "ssh=127.0.0.1:22/tcp@Beta", "is not a node name" },
		{ "ssh=127.0.0.1:22/tcp@a,b,c,d,e,f,g,h,i", "more than 8 nodes" },
	};
	struct conf_expose e;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_expose(cases[i][0], &e, err,
		    sizeof(err)), -1);
		if (strstr(err, cases[i][1]) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", cases[i][0],
			    err, cases[i][1]);
	}
}

static void
test_connect(void **state)
{
	static const char *const good[][2] = {
		{ "alpha/ssh=2222", "alpha/ssh=127.0.0.1:2222" },
		{ "alpha/ssh=127.0.0.1:2222/tcp", NULL },
		{ "alpha/game=[::1]:27015/udp", NULL },
		{ "a.b-c/x=10.0.0.1:1", NULL },
	};
	static const char *const bad[][2] = {
		{ "ssh=2222", "is not NODE/NAME" },
		{ "alpha/ssh", "is not NODE/NAME" },
		{ "/ssh=2222", "is not a node name" },
		{ "Alpha/ssh=2222", "is not a node name" },
		{ "alpha/=2222", "is not a service name" },
		{ "alpha/ssh=0", "is not ADDRESS:PORT" },
		{ "alpha/ssh=2222/sctp", "is not tcp or udp" },
		{ "alpha/ssh=[::1]:22/", "is not tcp or udp" },
		{ "alpha/ssh=host:22", "is not ADDRESS:PORT" },
	};
	struct conf_connect c, d;
	char err[256], buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(config_parse_connect(good[i][0], &c, err,
		    sizeof(err)), 0);
		config_format_connect(&c, buf, sizeof(buf));
		assert_string_equal(buf, good[i][1] != NULL ? good[i][1] :
		    good[i][0]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_connect(bad[i][0], &c, err,
		    sizeof(err)), -1);
		if (strstr(err, bad[i][1]) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i][0],
			    err, bad[i][1]);
	}
	/* clashes: the same port, a transport in common */
	assert_int_equal(config_parse_connect("a/x=2222", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(config_parse_connect("b/y=127.0.0.1:2222/udp", &d,
	    err, sizeof(err)), 0);
	assert_true(config_connect_clash(&c, &d));
	assert_int_equal(config_parse_connect("a/x=2222/tcp", &c, err,
	    sizeof(err)), 0);
	assert_false(config_connect_clash(&c, &d));
	assert_int_equal(config_parse_connect("b/y=127.0.0.2:2222/tcp", &d,
	    err, sizeof(err)), 0);
	assert_false(config_connect_clash(&c, &d));
}

/* natmapctl unexpose NAME and disconnect NODE/NAME. */
static void
test_service_name(void **state)
{
	static const char *const bad[][3] = {
		{ "", NULL, "\"\" is not a service name" },
		{ "Web", NULL, "is not a service name" },
		{ "a/web", NULL, "\"a/web\" is not a service name" },
		{ "abcdefghijklmnopqrstuvwxyz0123456", NULL,
		    "is not a service name" },
		{ "web", "", "\"web\" is not NODE/NAME" },
		{ "/web", "", "is not NODE/NAME" },
		{ "Alpha/web", "", "is not NODE/NAME" },
		{ "alpha/", "", "\"\" is not a service name" },
		{ "alpha/web/x", "", "\"web/x\" is not a service name" },
	};
	char node[64], name[CONF_SERVICE_MAX + 1], err[256];
	size_t i;

	(void)state;
	assert_int_equal(config_parse_service_name("unexpose", "web.v2_x-1",
	    NULL, name, err, sizeof(err)), 0);
	assert_string_equal(name, "web.v2_x-1");
	assert_int_equal(config_parse_service_name("disconnect", "a.b-c/ssh",
	    node, name, err, sizeof(err)), 0);
	assert_string_equal(node, "a.b-c");
	assert_string_equal(name, "ssh");
	assert_int_equal(config_parse_service_name("unexpose",
	    "abcdefghijklmnopqrstuvwxyz012345", NULL, name, err, sizeof(err)),
	    0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_service_name("x", bad[i][0],
		    bad[i][1] != NULL ? node : NULL, name, err, sizeof(err)),
		    -1);
		if (strstr(err, bad[i][2]) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], err,
			    bad[i][2]);
	}
}

/* The relay= word after a service: parsed, printed back, refused clearly. */
static void
test_relay_word(void **state)
{
	static const char *const good[][2] = {
		{ "ssh=127.0.0.1:22/tcp relay=never", NULL },
		{ "ssh=127.0.0.1:22/tcp relay=fallback", NULL },
		{ "ssh=127.0.0.1:22/tcp@beta,gamma relay=never", NULL },
		{ "ssh=127.0.0.1:22/tcp  \trelay=never ",
		    "ssh=127.0.0.1:22/tcp relay=never" },
		{ "ssh=127.0.0.1:22/tcp ", "ssh=127.0.0.1:22/tcp" },
		{ "game=127.0.0.1:27015/udp relay=always", NULL },
		{ "ssh=127.0.0.1:22/tcp relay=always", NULL },
	};
	static const char *const bad[][2] = {
		{ "ssh=127.0.0.1:22/tcp relay=sometimes",
		    "expose ssh: relay=sometimes: expected fallback, never or always" },
		{ "ssh=127.0.0.1:22/tcp relay=", "relay=: expected" },
		{ "ssh=127.0.0.1:22/tcp relay=neverr", "expected fallback" },
		{ "ssh=127.0.0.1:22/tcp relay=neve", "expected fallback" },
		{ "ssh=127.0.0.1:22/tcp relay=never relay=never",
		    "relay= given twice" },
		{ "ssh=127.0.0.1:22/tcp never",
		    "\"never\" is not relay=fallback, never or always" },
		{ "ssh=127.0.0.1:22/tcp relay", "is not relay=fallback" },
		{ "ssh=127.0.0.1:22/tcp@beta, relay=never",
		    "is not a node name" },
	};
	struct conf_expose e;
	struct conf_connect c;
	char err[256], buf[700], big[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(config_parse_expose(good[i][0], &e, err,
		    sizeof(err)), 0);
		config_format_expose(&e, buf, sizeof(buf));
		assert_string_equal(buf, good[i][1] != NULL ? good[i][1] :
		    good[i][0]);
	}
	assert_int_equal(config_parse_expose("ssh=127.0.0.1:22/tcp", &e, err,
	    sizeof(err)), 0);
	assert_int_equal(e.relay_set, 0);
	assert_int_equal(config_parse_expose("ssh=127.0.0.1:22/tcp relay=never",
	    &e, err, sizeof(err)), 0);
	assert_int_equal(e.relay_set, 1);
	assert_int_equal(e.relay, CONF_RELAY_NEVER);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_expose(bad[i][0], &e, err,
		    sizeof(err)), -1);
		if (strstr(err, bad[i][1]) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i][0],
			    err, bad[i][1]);
	}
	/* a service longer than any there is: refused, not cut */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(config_parse_expose(big, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(config_parse_connect(big, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));

	assert_int_equal(config_parse_connect("alpha/ssh=2222/tcp relay=never",
	    &c, err, sizeof(err)), 0);
	assert_int_equal(c.relay_set, 1);
	assert_int_equal(c.relay, CONF_RELAY_NEVER);
	config_format_connect(&c, buf, sizeof(buf));
	assert_string_equal(buf, "alpha/ssh=127.0.0.1:2222/tcp relay=never");
	assert_int_equal(config_parse_connect("alpha/ssh=2222 relay=fallback",
	    &c, err, sizeof(err)), 0);
	config_format_connect(&c, buf, sizeof(buf));
	assert_string_equal(buf, "alpha/ssh=127.0.0.1:2222 relay=fallback");
	assert_int_equal(config_parse_connect("alpha/ssh=2222 relay=maybe",
	    &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "connect alpha/ssh: relay=maybe: expected "
	    "fallback, never or always"));
	/* relay=always: for UDP, TCP, and a connect on both */
	assert_int_equal(config_parse_connect("alpha/game=27015/udp "
	    "relay=always", &c, err, sizeof(err)), 0);
	assert_int_equal(c.relay_set, 1);
	assert_int_equal(c.relay, CONF_RELAY_ALWAYS);
	config_format_connect(&c, buf, sizeof(buf));
	assert_string_equal(buf,
	    "alpha/game=127.0.0.1:27015/udp relay=always");
	assert_int_equal(config_parse_connect("alpha/game=27015 relay=always",
	    &c, err, sizeof(err)), 0);
	assert_int_equal(c.relay, CONF_RELAY_ALWAYS);
	assert_int_equal(config_parse_connect("alpha/ssh=2222/tcp "
	    "relay=always", &c, err, sizeof(err)), 0);
	assert_int_equal(c.proto, CONF_TCP);
	assert_int_equal(c.relay_set, 1);
	assert_int_equal(c.relay, CONF_RELAY_ALWAYS);
	config_format_connect(&c, buf, sizeof(buf));
	assert_string_equal(buf, "alpha/ssh=127.0.0.1:2222/tcp relay=always");
	/* the word is no part of what clashes: the same name twice */
	{
		struct conf_expose a, b;

		assert_int_equal(config_parse_expose("ssh=127.0.0.1:22/tcp",
		    &a, err, sizeof(err)), 0);
		assert_int_equal(config_parse_expose("ssh=127.0.0.1:23/tcp "
		    "relay=never", &b, err, sizeof(err)), 0);
		assert_true(config_expose_clash(&a, &b));
	}
}

/* The service's word over the node's; never keeps data off relayed paths. */
static void
test_relay_decision(void **state)
{
	(void)state;
	assert_int_equal(config_service_relay(0, 0, CONF_RELAY_NEVER),
	    CONF_RELAY_NEVER);
	assert_int_equal(config_service_relay(0, CONF_RELAY_NEVER,
	    CONF_RELAY_FALLBACK), CONF_RELAY_FALLBACK);
	assert_int_equal(config_service_relay(1, CONF_RELAY_NEVER,
	    CONF_RELAY_FALLBACK), CONF_RELAY_NEVER);
	assert_int_equal(config_service_relay(1, CONF_RELAY_FALLBACK,
	    CONF_RELAY_NEVER), CONF_RELAY_FALLBACK);
	assert_int_equal(config_service_relay(1, CONF_RELAY_NEVER,
	    CONF_RELAY_ALWAYS), CONF_RELAY_NEVER);
	{
		struct conf_expose e[2];
		struct conf_connect c[1];
		char err[256];

		assert_int_equal(config_parse_expose("a=127.0.0.1:1/tcp "
		    "relay=never", &e[0], err, sizeof(err)), 0);
		assert_int_equal(config_parse_expose("b=127.0.0.1:2/tcp",
		    &e[1], err, sizeof(err)), 0);
		assert_int_equal(config_parse_connect("alpha/c=3 "
		    "relay=fallback", &c[0], err, sizeof(err)), 0);
		/* a service's fallback wins over the node's never ... */
		assert_int_equal(config_relay_node(CONF_RELAY_NEVER, e, 2, c,
		    1), CONF_RELAY_FALLBACK);
		/* ... never and no word do not */
		assert_int_equal(config_relay_node(CONF_RELAY_NEVER, e, 2, c,
		    0), CONF_RELAY_NEVER);
		/* the node's fallback or always stays */
		assert_int_equal(config_relay_node(CONF_RELAY_ALWAYS, e, 2, c,
		    1), CONF_RELAY_ALWAYS);
		assert_int_equal(config_relay_node(CONF_RELAY_FALLBACK, e, 2,
		    c, 0), CONF_RELAY_FALLBACK);
		assert_int_equal(config_relay_node(CONF_RELAY_NEVER, NULL, 0,
		    NULL, 0), CONF_RELAY_NEVER);
		/* a service's always makes the relay too */
		assert_int_equal(config_parse_connect("alpha/g=4/udp "
		    "relay=always", &c[0], err, sizeof(err)), 0);
		assert_int_equal(config_relay_node(CONF_RELAY_NEVER, e, 2, c,
		    1), CONF_RELAY_FALLBACK);
	}
	assert_true(config_relay_allows(CONF_RELAY_FALLBACK, 1));
	assert_true(config_relay_allows(CONF_RELAY_FALLBACK, 0));
	assert_true(config_relay_allows(CONF_RELAY_ALWAYS, 1));
	assert_false(config_relay_allows(CONF_RELAY_NEVER, 1));
	assert_true(config_relay_allows(CONF_RELAY_NEVER, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expose_good),
		cmocka_unit_test(test_expose_bad),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_service_name),
		cmocka_unit_test(test_relay_word),
		cmocka_unit_test(test_relay_decision),
	};

	log_init(1, 0);
	return TU_RUN("conf-peer", tests);
}
