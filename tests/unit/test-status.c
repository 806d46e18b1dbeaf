/* SPDX-License-Identifier: ISC */
/* The reported state: endpoint events for the hooks, the JSON object, the status file. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "testutil.h"

#include "driver.h"
#include "log.h"
#include "loop.h"
#include "status.h"

static uint64_t fake_now;

/* Row i of the status table as shown (it must be there). */
static struct status_map
row(size_t i)
{
	struct status_map m;

	assert_int_equal(status_map_get(i, &m), 0);
	return m;
}

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* The events a subscriber saw. */
static struct {
	int		 n;
	int		 event[16];
	struct status_map map[16];
} E;

static void
on_event(int event, const struct status_map *m)
{
	if (E.n >= 16)
		return;		/* the tests that count look at fewer */
	E.event[E.n] = event;
	E.map[E.n] = *m;
	E.n++;
}

static struct in_addr
a4(const char *s)
{
	struct in_addr in;

	assert_int_equal(inet_pton(AF_INET, s, &in), 1);
	return in;
}

static struct status_map
mk(int proto, uint16_t port, int state, const char *ext, uint16_t eport)
{
	struct status_map m;

	memset(&m, 0, sizeof(m));
	m.proto = proto;
	m.int_port = port;
	m.ext_want = port;
	m.state = state;
	snprintf(m.method, sizeof(m.method), "pcp");
	m.int_addr = a4("192.168.77.10");
	if (ext != NULL)
		m.ext_addr = a4(ext);
	m.ext_port = eport;
	m.lease = 3600;
	m.since = fake_now;
	return m;
}

static int
setup(void **state)
{
	(void)state;
	memset(&E, 0, sizeof(E));
	fake_now = 1000000;
	loop_set_clock(fake_clock);
	status_init();
	status_subscribe(on_event);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	status_free();
	return 0;
}

/* up once, nothing on a renewal, change on a new port or address, down. */
static void
test_events(void **state)
{
	struct status_map m;

	(void)state;
	m = mk(DRV_TCP, 8080, STATUS_MAPPING, NULL, 0);
	status_map_update(&m);
	assert_int_equal(E.n, 0);
	m = mk(DRV_TCP, 8080, STATUS_UP, "203.0.113.2", 8080);
	status_map_update(&m);
	assert_int_equal(E.n, 1);
	assert_int_equal(E.event[0], STATUS_EVENT_UP);
	assert_int_equal(E.map[0].ext_port, 8080);
	/* renewing and renewed: still the same endpoint, no event */
	m.state = STATUS_RENEWING;
	status_map_update(&m);
	m.state = STATUS_UP;
	m.lease = 1800;
	status_map_update(&m);
	assert_int_equal(E.n, 1);
	/* the router's WAN address changed */
	m.ext_addr = a4("203.0.113.9");
	status_map_update(&m);
	assert_int_equal(E.n, 2);
	assert_int_equal(E.event[1], STATUS_EVENT_CHANGE);
	assert_int_equal(E.map[1].ext_addr.s_addr, a4("203.0.113.9").s_addr);
	/* another port */
	m.ext_port = 18080;
	status_map_update(&m);
	assert_int_equal(E.n, 3);
	assert_int_equal(E.event[2], STATUS_EVENT_CHANGE);
	/* deleted: down, with the endpoint that was up */
	m.state = STATUS_DOWN;
	m.ext_port = 0;
	status_map_update(&m);
	assert_int_equal(E.n, 4);
	assert_int_equal(E.event[3], STATUS_EVENT_DOWN);
	assert_int_equal(E.map[3].ext_port, 18080);
	assert_int_equal(status_map_count(), 1);
	/* a second mapping is its own */
	m = mk(DRV_UDP, 8080, STATUS_UP, "203.0.113.2", 8080);
	status_map_update(&m);
	assert_int_equal(E.n, 5);
	assert_int_equal(E.event[4], STATUS_EVENT_UP);
	assert_int_equal(E.map[4].proto, DRV_UDP);
	assert_int_equal(status_map_count(), 2);
	/* removed from the configuration while up */
	status_map_remove(DRV_UDP, 8080, 8080);
	assert_int_equal(E.n, 6);
	assert_int_equal(E.event[5], STATUS_EVENT_DOWN);
	assert_int_equal(status_map_count(), 1);
	status_map_remove(DRV_UDP, 8080, 8080);
	assert_int_equal(E.n, 6);
}

/* A failed renewal is down; a retry that succeeds is up again. */
static void
test_retry_is_down(void **state)
{
	struct status_map m;

	(void)state;
	m = mk(DRV_UDP, 5000, STATUS_UP, "203.0.113.2", 5000);
	status_map_update(&m);
	m.state = STATUS_RETRYING;
	snprintf(m.error, sizeof(m.error), "no answer");
	status_map_update(&m);
	m.state = STATUS_UP;
	m.error[0] = '\0';
	status_map_update(&m);
	assert_int_equal(E.n, 3);
	assert_int_equal(E.event[0], STATUS_EVENT_UP);
	assert_int_equal(E.event[1], STATUS_EVENT_DOWN);
	assert_int_equal(E.event[2], STATUS_EVENT_UP);
}

static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key \"%s\"", key);
	return v;
}

/*
 * The fallback's rung: shown while the gateway's waits, reachable only
 * when verified; the gateway's word wins once it works on the mapping,
 * and withdrawing the fallback shows the gateway's row again.
 */
static void
test_fallback_rung(void **state)
{
	struct status_map g, f;
	struct status_gateway gw;

	(void)state;
	g = mk(DRV_UDP, 5000, STATUS_WAITING, NULL, 0);
	g.method[0] = '\0';
	status_map_update(&g);
	f = mk(DRV_UDP, 5000, STATUS_FILTERED, NULL, 0);
	snprintf(f.method, sizeof(f.method), "stun");
	status_fallback_update(&f);
	assert_int_equal(status_map_count(), 1);
	/* hidden while the first search for a gateway goes on */
	assert_int_equal(row(0).state, STATUS_WAITING);
	memset(&gw, 0, sizeof(gw));
	gw.searched = 1;
	status_gateway_update(&gw);
	assert_int_equal(row(0).state, STATUS_FILTERED);
	assert_string_equal(status_state_name(row(0).state),
	    "filtered");
	assert_int_equal(E.n, 0);		/* filtered is not reachable */
	f.state = STATUS_VERIFIED;
	f.ext_addr = a4("203.0.113.2");
	f.ext_port = 41234;
	status_fallback_update(&f);
	assert_int_equal(E.n, 1);
	assert_int_equal(E.event[0], STATUS_EVENT_UP);
	assert_int_equal(E.map[0].ext_port, 41234);
	assert_string_equal(E.map[0].method, "stun");
	/* the gateway's rung waiting again changes nothing shown */
	status_map_update(&g);
	assert_int_equal(row(0).state, STATUS_VERIFIED);
	assert_int_equal(E.n, 1);
	/* a gateway appears and maps: its endpoint replaces the binding's */
	g = mk(DRV_UDP, 5000, STATUS_MAPPING, NULL, 0);
	status_map_update(&g);
	assert_int_equal(row(0).state, STATUS_MAPPING);
	assert_int_equal(E.n, 2);
	assert_int_equal(E.event[1], STATUS_EVENT_DOWN);
	assert_int_equal(E.map[1].ext_port, 41234);
	g = mk(DRV_UDP, 5000, STATUS_UP, "203.0.113.2", 5000);
	status_map_update(&g);
	assert_int_equal(E.n, 3);
	assert_int_equal(E.event[2], STATUS_EVENT_UP);
	status_fallback_remove(DRV_UDP, 5000, 5000);
	assert_int_equal(status_map_count(), 1);
	assert_int_equal(row(0).state, STATUS_UP);
	assert_int_equal(E.n, 3);
	/* a fallback row with no gateway row goes when withdrawn */
	f = mk(DRV_TCP, 22, STATUS_VERIFIED, "203.0.113.2", 40022);
	snprintf(f.method, sizeof(f.method), "stun");
	status_fallback_update(&f);
	assert_int_equal(status_map_count(), 2);
	assert_int_equal(E.event[3], STATUS_EVENT_UP);
	status_fallback_remove(DRV_TCP, 22, 22);
	assert_int_equal(status_map_count(), 1);
	assert_int_equal(E.n, 5);
	assert_int_equal(E.event[4], STATUS_EVENT_DOWN);
	assert_int_equal(row(0).int_port, 5000);
}

/* A gateway behind another NAT: a verified binding is shown over its mapping. */
static void
test_fallback_double_nat(void **state)
{
	struct status_map g, f;
	struct status_gateway gw;

	(void)state;
	memset(&gw, 0, sizeof(gw));
	gw.searched = gw.found = 1;
	gw.external = a4("192.168.88.2");
	status_gateway_update(&gw);
	g = mk(DRV_UDP, 5000, STATUS_UP, "192.168.88.2", 5000);
	status_map_update(&g);
	assert_int_equal(E.n, 1);
	f = mk(DRV_UDP, 5000, STATUS_FILTERED, "203.0.113.2", 41000);
	snprintf(f.method, sizeof(f.method), "stun");
	status_fallback_update(&f);
	assert_string_equal(row(0).method, "pcp");	/* not proven */
	f.state = STATUS_VERIFIED;
	status_fallback_update(&f);
	assert_string_equal(row(0).method, "stun");
	assert_int_equal(E.n, 2);
	assert_int_equal(E.event[1], STATUS_EVENT_CHANGE);
	assert_int_equal(E.map[1].ext_port, 41000);
	/* the same with a public external address: the gateway's mapping */
	gw.external = a4("203.0.113.2");
	status_gateway_update(&gw);
	assert_string_equal(row(0).method, "pcp");
	assert_int_equal(E.n, 3);
	assert_int_equal(E.event[2], STATUS_EVENT_CHANGE);
	assert_int_equal(E.map[2].ext_port, 5000);
	/* STUN sees another address: a NAT upstream after all */
	status_gateway_seen(a4("203.0.113.9"), a4("198.51.100.7"), 1);
	assert_false(status_gateway()->upstream_nat);	/* not its address */
	status_gateway_seen(a4("203.0.113.2"), a4("198.51.100.7"), 1);
	assert_true(status_gateway_behind_nat(status_gateway()));
	assert_int_equal(status_gateway()->seen.s_addr,
	    a4("198.51.100.7").s_addr);
	assert_string_equal(row(0).method, "stun");
	assert_int_equal(E.n, 4);
	assert_int_equal(E.map[3].ext_port, 41000);
	/* the gateway module's next word keeps it while its address stays */
	status_gateway_update(&gw);
	assert_true(status_gateway_behind_nat(status_gateway()));
	/* a new external address: unknown until STUN answers again */
	gw.external = a4("203.0.113.3");
	status_gateway_update(&gw);
	assert_false(status_gateway_behind_nat(status_gateway()));
	assert_int_equal(status_gateway()->seen.s_addr, INADDR_ANY);
	/* STUN sees the gateway's address: no NAT upstream */
	status_gateway_seen(a4("203.0.113.3"), a4("203.0.113.3"), 0);
	assert_false(status_gateway_behind_nat(status_gateway()));
	assert_string_equal(row(0).method, "pcp");
}

static void
test_json(void **state)
{
	struct status_map m;
	struct status_gateway gw;
	struct json_object *o, *maps, *j;

	(void)state;
	memset(&gw, 0, sizeof(gw));
	gw.found = 1;
	snprintf(gw.method, sizeof(gw.method), "pcp");
	snprintf(gw.where, sizeof(gw.where), "192.168.77.1:5351");
	gw.addr = a4("192.168.77.1");
	gw.external = a4("203.0.113.2");
	gw.since = fake_now;
	status_gateway_update(&gw);
	m = mk(DRV_TCP, 8080, STATUS_UP, "203.0.113.2", 18080);
	m.ext_want = 18080;
	m.renew_at = fake_now + 1800 * 1000;
	status_map_update(&m);
	m = mk(DRV_UDP, 5000, STATUS_RETRYING, NULL, 0);
	snprintf(m.error, sizeof(m.error), "NOT_AUTHORIZED");
	status_map_update(&m);
	status_count(STATUS_REQUESTS);
	status_count(STATUS_REQUESTS);
	status_count(STATUS_RENEWALS);
	fake_now += 10 * 1000;

	o = status_json();
	assert_non_null(o);
	assert_int_equal(json_object_get_int(get(o, "version")), 1);
	j = get(o, "gateway");
	assert_true(json_object_get_boolean(get(j, "found")));
	assert_string_equal(json_object_get_string(get(j, "method")), "pcp");
	assert_string_equal(json_object_get_string(get(j, "address")),
	    "192.168.77.1");
	assert_string_equal(json_object_get_string(get(j,
	    "external_address")), "203.0.113.2");
	maps = get(o, "mappings");
	assert_int_equal(json_object_array_length(maps), 2);
	j = json_object_array_get_idx(maps, 0);
	assert_string_equal(json_object_get_string(get(j, "spec")),
	    "8080:18080/tcp");
	assert_string_equal(json_object_get_string(get(j, "state")), "up");
	assert_true(json_object_get_boolean(get(j, "reachable")));
	assert_string_equal(json_object_get_string(get(j,
	    "external_address")), "203.0.113.2");
	assert_int_equal(json_object_get_int(get(j, "external_port")), 18080);
	assert_int_equal(json_object_get_int(get(j, "internal_port")), 8080);
	assert_int_equal(json_object_get_int(get(j, "renew_in")), 1790);
	assert_null(get(j, "error"));
	j = json_object_array_get_idx(maps, 1);
	assert_string_equal(json_object_get_string(get(j, "state")),
	    "retrying");
	assert_false(json_object_get_boolean(get(j, "reachable")));
	assert_null(get(j, "external_port"));
	assert_string_equal(json_object_get_string(get(j, "error")),
	    "NOT_AUTHORIZED");
	j = get(o, "counters");
	assert_int_equal(json_object_get_int(get(j, "requests")), 2);
	assert_int_equal(json_object_get_int(get(j, "renewals")), 1);
	assert_int_equal(json_object_get_int(get(j, "failures")), 0);
	json_object_put(o);
}

static void test_print_matches(void **);

/* A peer's entry: its counters, the datagrams dropped among them; no path is null. */
static void
test_peer_json(void **state)
{
	struct status_peer p[2];
	struct json_object *o, *a, *j;

	(void)state;
	memset(p, 0, sizeof(p));
	snprintf(p[0].node, sizeof(p[0].node), "alpha");
	snprintf(p[0].state, sizeof(p[0].state), "up");
	snprintf(p[0].path, sizeof(p[0].path), "direct-v4");
	snprintf(p[0].endpoint, sizeof(p[0].endpoint), "203.0.113.2:40000");
	snprintf(p[0].via, sizeof(p[0].via), "mapped");
	p[0].rtt_ms = 1;
	p[0].carrier_rtt_ms = -1;
	p[0].bytes_in = 1000;
	p[0].bytes_out = 2000;
	p[0].dropped = 37;
	p[0].attempt = 1;
	snprintf(p[1].node, sizeof(p[1].node), "beta");
	snprintf(p[1].state, sizeof(p[1].state), "failed");
	p[1].rtt_ms = p[1].carrier_rtt_ms = -1;
	status_peers_update(p, 2);
	assert_int_equal(status_peer_count(), 2);
	o = status_json();
	j = json_object_array_get_idx(get(o, "peers"), 0);
	assert_null(get(j, "relay"));
	json_object_put(o);
	/* through a TURN relay: path relay, the server */
	snprintf(p[0].path, sizeof(p[0].path), "relay");
	snprintf(p[0].relay, sizeof(p[0].relay), "203.0.113.8:3478");
	snprintf(p[0].via, sizeof(p[0].via), "relay");
	status_peers_update(p, 2);
	o = status_json();
	j = json_object_array_get_idx(get(o, "peers"), 0);
	assert_string_equal(json_object_get_string(get(j, "path")), "relay");
	assert_string_equal(json_object_get_string(get(j, "relay")),
	    "203.0.113.8:3478");
	assert_string_equal(json_object_get_string(get(j, "via")), "relay");
	assert_null(get(j, "carrier_via"));
	assert_int_equal(json_object_get_int64(get(j,
	    "relay_carrier_streams")), 0);
	json_object_put(o);
	/* direct, a direct carrier beside the relayed one that keeps a stream */
	snprintf(p[0].path, sizeof(p[0].path), "direct-v4");
	snprintf(p[0].carrier, sizeof(p[0].carrier), "203.0.113.2:41000");
	snprintf(p[0].carrier_via, sizeof(p[0].carrier_via), "direct");
	p[0].streams = 2;
	p[0].relay_streams = 1;
	status_peers_update(p, 2);
	o = status_json();
	j = json_object_array_get_idx(get(o, "peers"), 0);
	assert_string_equal(json_object_get_string(get(j, "carrier_via")),
	    "direct");
	assert_int_equal(json_object_get_int64(get(j, "streams")), 2);
	assert_int_equal(json_object_get_int64(get(j,
	    "relay_carrier_streams")), 1);
	json_object_put(o);
	p[0].carrier[0] = p[0].carrier_via[0] = '\0';
	p[0].streams = p[0].relay_streams = 0;
	p[0].relay[0] = '\0';
	snprintf(p[0].via, sizeof(p[0].via), "mapped");
	status_peers_update(p, 2);
	o = status_json();
	assert_non_null(o);
	a = get(o, "peers");
	assert_int_equal(json_object_array_length(a), 2);
	j = json_object_array_get_idx(a, 0);
	assert_string_equal(json_object_get_string(get(j, "node")), "alpha");
	assert_int_equal(json_object_get_int64(get(j, "dropped")), 37);
	assert_int_equal(json_object_get_int64(get(j, "bytes_in")), 1000);
	assert_null(get(j, "carrier"));
	assert_string_equal(json_object_get_string(get(j, "via")), "mapped");
	j = json_object_array_get_idx(a, 1);
	assert_int_equal(json_object_get_int64(get(j, "dropped")), 0);
	assert_null(get(j, "path"));
	assert_null(get(j, "via"));
	json_object_put(o);
	/* the file's writer says the same */
	p[1].dropped = UINT64_C(1) << 40;
	status_peers_update(p, 2);
	test_print_matches(state);
}

/* A rendezvous server's entry: registered, its transport (udp unless said). */
static void
test_rdv_json(void **state)
{
	struct status_rdv r[2];
	struct json_object *o, *a;

	(void)state;
	memset(r, 0, sizeof(r));
	snprintf(r[0].server, sizeof(r[0].server), "203.0.113.30:3480");
	r[0].expires = loop_now() + 75000;
	r[0].rtt_ms = 3;
	snprintf(r[0].transport, sizeof(r[0].transport), "tcp");
	snprintf(r[1].server, sizeof(r[1].server), "rv.example.net:3480");
	r[1].rtt_ms = -1;
	snprintf(r[1].error, sizeof(r[1].error), "no answer within 10 s");
	status_rdv_update(r, 2);
	assert_non_null(o = status_json());
	a = get(o, "rendezvous");
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(json_object_get_string(get(
	    json_object_array_get_idx(a, 0), "transport")), "tcp");
	assert_true(json_object_get_boolean(get(
	    json_object_array_get_idx(a, 0), "registered")));
	assert_string_equal(json_object_get_string(get(
	    json_object_array_get_idx(a, 1), "transport")), "udp");
	assert_false(json_object_get_boolean(get(
	    json_object_array_get_idx(a, 1), "registered")));
	json_object_put(o);
	test_print_matches(state);
}

/* status_print() writes the object status_json() builds, a mapping at a time. */
/* Two services, one of the configuration, one of natmapctl. */
static void
print_services(void)
{
	struct status_service v[2];

	memset(v, 0, sizeof(v));
	snprintf(v[0].kind, sizeof(v[0].kind), "expose");
	snprintf(v[0].spec, sizeof(v[0].spec), "web=192.168.1.10:80/tcp@beta");
	snprintf(v[1].kind, sizeof(v[1].kind), "connect");
	snprintf(v[1].spec, sizeof(v[1].spec), "alpha/web=127.0.0.1:8080");
	v[1].runtime = 1;
	status_services_update(v, 2);
}

/* The services in the status: kind, spec, runtime; replaced whole. */
static void
test_services(void **state)
{
	struct json_object *o, *a, *e, *v;

	(void)state;
	assert_non_null(o = status_json());
	assert_true(json_object_object_get_ex(o, "services", &a));
	assert_int_equal(json_object_array_length(a), 0);
	json_object_put(o);
	print_services();
	assert_non_null(o = status_json());
	assert_true(json_object_object_get_ex(o, "services", &a));
	assert_int_equal(json_object_array_length(a), 2);
	e = json_object_array_get_idx(a, 1);
	assert_true(json_object_object_get_ex(e, "kind", &v));
	assert_string_equal(json_object_get_string(v), "connect");
	assert_true(json_object_object_get_ex(e, "spec", &v));
	assert_string_equal(json_object_get_string(v),
	    "alpha/web=127.0.0.1:8080");
	assert_true(json_object_object_get_ex(e, "runtime", &v));
	assert_true(json_object_get_boolean(v));
	e = json_object_array_get_idx(a, 0);
	assert_true(json_object_object_get_ex(e, "runtime", &v));
	assert_false(json_object_get_boolean(v));
	json_object_put(o);
	status_services_update(NULL, 0);
	assert_non_null(o = status_json());
	assert_true(json_object_object_get_ex(o, "services", &a));
	assert_int_equal(json_object_array_length(a), 0);
	json_object_put(o);
}

static void
test_print_matches(void **state)
{
	struct status_map m;
	struct json_object *a, *b;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;
	int i, same;

	(void)state;
	for (i = 0; i < 50; i++) {
		m = mk(i % 2 ? DRV_UDP : DRV_TCP, (uint16_t)(9000 + i),
		    i % 3 ? STATUS_UP : STATUS_RETRYING, "203.0.113.2",
		    (uint16_t)(19000 + i));
		if (i % 3 == 0)
			snprintf(m.error, sizeof(m.error), "\"quoted\"\n\\ and /");
		status_map_update(&m);
	}
	status_count(STATUS_ANSWERS);
	print_services();
	/*
	 * The times are Unix time from the wall clock of each call: the two
	 * are compared only when made within one second (a slow build can
	 * cross one).
	 */
	for (i = 0; i < 5; i++) {
		time_t t0 = time(NULL);

		text = NULL;
		len = 0;
		assert_non_null(fp = open_memstream(&text, &len));
		assert_int_equal(status_print(fp), 0);
		assert_int_equal(fclose(fp), 0);
		assert_true(len > 0 && text[len - 1] == '\n');
		a = json_tokener_parse(text);
		b = status_json();
		free(text);
		assert_non_null(a);
		assert_non_null(b);
		if (time(NULL) == t0)
			break;
		json_object_put(a);
		json_object_put(b);
	}
	assert_true(i < 5);
	same = json_object_equal(a, b);
	json_object_put(a);
	json_object_put(b);
	assert_int_equal(same, 1);
}

/* The file: written a burst at a time, whole, and removed at exit. */
static void
test_file(void **state)
{
	char dir[] = "/tmp/natmapd-status.XXXXXX", path[64];
	struct status_map m;
	struct json_object *o;
	struct stat st;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/status.json", dir);
	status_file_set(path);
	m = mk(DRV_TCP, 8080, STATUS_UP, "203.0.113.2", 8080);
	status_map_update(&m);
	/* not at once: a burst of changes is one write */
	assert_int_equal(stat(path, &st), -1);
	for (i = 0; i < 50 && stat(path, &st) == -1; i++) {
		fake_now += 10;
		loop_once(0);
	}
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	o = json_object_from_file(path);
	assert_non_null(o);
	assert_int_equal(json_object_array_length(get(o, "mappings")), 1);
	json_object_put(o);
	status_file_remove();
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(rmdir(dir), 0);
}

/* The end-to-end check: set by status_map_reach, kept over the engine's updates, in the JSON. */
static void
test_reach(void **state)
{
	struct status_map m, f;
	struct json_object *o, *j;

	(void)state;
	m = mk(DRV_TCP, 8080, STATUS_UP, "203.0.113.2", 8080);
	status_map_update(&m);
	o = status_json();
	j = json_object_array_get_idx(get(o, "mappings"), 0);
	assert_null(get(j, "reach"));
	assert_null(get(j, "reach_checked"));
	assert_null(get(j, "reach_detail"));
	assert_null(get(j, "owner"));
	json_object_put(o);
	/* natmapd's own mapping (hole punching's port): its owner named */
	f = mk(DRV_UDP, 41000, STATUS_UP, "203.0.113.2", 41000);
	snprintf(f.owner, sizeof(f.owner), "punch");
	status_map_update(&f);
	o = status_json();
	j = json_object_array_get_idx(get(o, "mappings"), 1);
	assert_string_equal(json_object_get_string(get(j, "owner")), "punch");
	json_object_put(o);
	status_map_remove(DRV_UDP, 41000, 41000);

	fake_now += 1000;
	status_map_reach(DRV_TCP, 8080, 8080, STATUS_REACH_NOT_FORWARDING,
	    "not reached: timed out");
	assert_int_equal(row(0).reach, STATUS_REACH_NOT_FORWARDING);
	assert_int_equal(row(0).reach_at, fake_now);
	/* a renewal of the engine's does not wipe it */
	m.state = STATUS_RENEWING;
	status_map_update(&m);
	assert_int_equal(row(0).reach, STATUS_REACH_NOT_FORWARDING);
	assert_string_equal(row(0).reach_detail,
	    "not reached: timed out");
	fake_now += 5000;
	o = status_json();
	j = json_object_array_get_idx(get(o, "mappings"), 0);
	assert_string_equal(json_object_get_string(get(j, "reach")),
	    "not forwarding");
	assert_true(json_object_is_type(get(j, "reach_checked"),
	    json_type_int));
	assert_string_equal(json_object_get_string(get(j, "reach_detail")),
	    "not reached: timed out");
	json_object_put(o);
	status_map_reach(DRV_TCP, 8080, 8080, STATUS_REACH_OK, NULL);
	assert_string_equal(status_reach_name(row(0).reach), "ok");
	assert_string_equal(row(0).reach_detail, "");
	status_map_reach(DRV_TCP, 8080, 8080, STATUS_REACH_NONE, "x");
	assert_int_equal(row(0).reach_at, 0);
	assert_null(status_reach_name(STATUS_REACH_NONE));
	/* no row, or the fallback's alone: nothing */
	status_map_reach(DRV_UDP, 8080, 8080, STATUS_REACH_OK, NULL);
	assert_int_equal(status_map_count(), 1);
	f = mk(DRV_UDP, 5000, STATUS_VERIFIED, "203.0.113.2", 5000);
	snprintf(f.method, sizeof(f.method), "stun");
	status_fallback_update(&f);
	status_map_reach(DRV_UDP, 5000, 5000, STATUS_REACH_OK, NULL);
	assert_int_equal(row(1).reach, STATUS_REACH_NONE);
}

/* Rows reserved for the configuration, then more than that: all kept, in order. */
/*
 * The table keeps a row's error and its check's detail apart from the
 * row (allocated only when there is one): what is read back is what was
 * given, whole up to the view's size, changed, cleared, and the check's
 * detail kept over the gateway's updates; the same error given again is
 * kept as it was.
 */
static void
test_row_texts(void **state)
{
	struct status_map m, r;
	char long_err[sizeof(m.error) + 20];

	(void)state;
	m = mk(DRV_TCP, 8080, STATUS_RETRYING, NULL, 0);
	snprintf(m.error, sizeof(m.error), "no answer from 192.168.77.1");
	status_map_update(&m);
	assert_string_equal(row(0).error, "no answer from 192.168.77.1");
	assert_string_equal(row(0).reach_detail, "");
	status_map_update(&m);
	assert_string_equal(row(0).error, "no answer from 192.168.77.1");
	/* the longest an error may be: all of it comes back */
	memset(long_err, 'e', sizeof(long_err));
	memcpy(m.error, long_err, sizeof(m.error) - 1);
	m.error[sizeof(m.error) - 1] = '\0';
	status_map_update(&m);
	r = row(0);
	assert_int_equal(strlen(r.error), sizeof(m.error) - 1);
	assert_memory_equal(r.error, long_err, sizeof(m.error) - 1);
	/* an error not terminated within its buffer is cut, not overrun */
	memset(m.error, 'x', sizeof(m.error));
	status_map_update(&m);
	assert_int_equal(strlen(row(0).error), sizeof(m.error) - 1);
	m = mk(DRV_TCP, 8080, STATUS_UP, "203.0.113.2", 8080);
	status_map_update(&m);
	assert_string_equal(row(0).error, "");
	status_map_reach(DRV_TCP, 8080, 8080, STATUS_REACH_NOT_FORWARDING,
	    "connection refused from 203.0.113.2:8080 after 3 tries, then "
	    "more words than fit");
	r = row(0);
	assert_int_equal(strlen(r.reach_detail), sizeof(r.reach_detail) - 1);
	assert_memory_equal(r.reach_detail, "connection refused from 203.0.113.2",
	    35);
	m.lease = 1200;
	status_map_update(&m);
	r = row(0);
	assert_int_equal(r.lease, 1200);
	assert_int_equal(r.reach, STATUS_REACH_NOT_FORWARDING);
	assert_int_equal(strlen(r.reach_detail), sizeof(r.reach_detail) - 1);
	status_map_reach(DRV_TCP, 8080, 8080, STATUS_REACH_NONE, "ignored");
	assert_string_equal(row(0).reach_detail, "");
	status_map_remove(DRV_TCP, 8080, 8080);
	assert_int_equal(status_map_get(0, &r), -1);
}

static void
test_reserve(void **state)
{
	struct status_map m;
	struct status_map r;
	size_t i;

	(void)state;
	status_reserve(300);
	for (i = 0; i < 470; i++) {
		m = mk(DRV_UDP, (uint16_t)(20000 + i), STATUS_UP, "203.0.113.2",
		    (uint16_t)(20000 + i));
		status_map_update(&m);
	}
	assert_int_equal(status_map_count(), 470);
	for (i = 0; i < 470; i++) {
		r = row(i);
		assert_int_equal(r.int_port, 20000 + i);
		assert_int_equal(r.ext_port, 20000 + i);
	}
	/* reserving less than held keeps every row */
	status_reserve(10);
	assert_int_equal(status_map_count(), 470);
	assert_int_equal(row(469).int_port, 20469);
	assert_int_equal(E.n, 16);	/* every one an event; the recorder keeps 16 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_is_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fallback_rung, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fallback_double_nat, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_matches, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdv_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_services, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_texts, setup, teardown),
	};

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	return TU_RUN("status", tests);
}
