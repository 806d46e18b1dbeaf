/* SPDX-License-Identifier: ISC */
/* Unit tests of the control protocol codec: request lines, garbage, answers. */
#include "config.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "testutil.h"

#include "conf.h"
#include "control-msg.h"

/* control_parse on an exact-size heap copy of s[0..len). */
static int
parse_len(const char *s, size_t len, struct control_req *req, char *err,
    size_t errlen)
{
	char *copy = malloc(len == 0 ? 1 : len);
	int r;

	assert_non_null(copy);
	memcpy(copy, s, len);
	err[0] = '\0';
	r = control_parse(copy, len, req, err, errlen);
	free(copy);
	if (r == 0)
		assert_string_equal(err, "");
	else {
		assert_int_equal(r, -1);
		assert_true(err[0] != '\0');
		assert_int_equal(req->cmd, -1);
	}
	return r;
}

static struct control_req
req_ok(const char *s)
{
	struct control_req req;
	char err[256];

	if (parse_len(s, strlen(s), &req, err, sizeof(err)) != 0)
		fail_msg("%s: refused: %s", s, err);
	return req;
}

static void
req_err_len(const char *s, size_t len, const char *want)
{
	struct control_req req;
	char err[256];

	if (parse_len(s, len, &req, err, sizeof(err)) != -1)
		fail_msg("%s: accepted, wanted \"%s\"", s, want);
	assert_string_equal(err, want);
}

#define REQ_ERR(s, want)	req_err_len((s), sizeof(s) - 1, (want))

static void
test_commands(void **state)
{
	struct control_req r;

	(void)state;
	r = req_ok("{\"command\":\"status\"}");
	assert_int_equal(r.cmd, CONTROL_STATUS);
	assert_string_equal(r.spec, "");
	r = req_ok("{\"command\":\"check\"}");
	assert_int_equal(r.cmd, CONTROL_CHECK);
	r = req_ok("{\"command\":\"reload\"}");
	assert_int_equal(r.cmd, CONTROL_RELOAD);
	r = req_ok("{\"command\":\"add\",\"spec\":\"8080/tcp\"}");
	assert_int_equal(r.cmd, CONTROL_ADD);
	assert_string_equal(r.spec, "8080/tcp");
	assert_int_equal(r.map.proto, CONF_TCP);
	assert_int_equal(r.map.int_first, 8080);
	assert_int_equal(r.map.int_last, 8080);
	assert_int_equal(r.map.ext_first, 8080);
	r = req_ok("{\"spec\":\"5000-5010:6000/udp\",\"command\":\"remove\"}");
	assert_int_equal(r.cmd, CONTROL_REMOVE);
	assert_int_equal(r.map.proto, CONF_UDP);
	assert_int_equal(r.map.int_first, 5000);
	assert_int_equal(r.map.int_last, 5010);
	assert_int_equal(r.map.ext_first, 6000);
	r = req_ok("{\"command\":\"wait\",\"spec\":\"53/udp\"}");
	assert_int_equal(r.cmd, CONTROL_WAIT);
	assert_int_equal(r.timeout, CONTROL_WAIT_MAX);
	r = req_ok("{\"command\":\"wait\",\"spec\":\"8080:18080/tcp\","
	    "\"timeout\":30}");
	assert_int_equal(r.timeout, 30);
	assert_int_equal(r.map.ext_first, 18080);
	r = req_ok("{\"command\":\"wait\",\"spec\":\"1/tcp\",\"timeout\":0}");
	assert_int_equal(r.timeout, 0);
	r = req_ok("{\"command\":\"wait\",\"spec\":\"1/tcp\","
	    "\"timeout\":86400}");
	assert_int_equal(r.timeout, 86400);
}

/* Blanks around, a CR before the newline, pretty-printed: all one request. */
static void
test_blanks(void **state)
{
	struct control_req r;

	(void)state;
	r = req_ok("  {\"command\":\"status\"}  ");
	assert_int_equal(r.cmd, CONTROL_STATUS);
	r = req_ok("{\"command\":\"check\"}\r");
	assert_int_equal(r.cmd, CONTROL_CHECK);
	r = req_ok("{ \"command\" : \"add\" ,\t\"spec\" : \"1/udp\" }");
	assert_int_equal(r.cmd, CONTROL_ADD);
	/* the same member twice: the last one counts */
	r = req_ok("{\"command\":\"check\",\"command\":\"reload\"}");
	assert_int_equal(r.cmd, CONTROL_RELOAD);
}

/* Every refusal, with its message. */
static void
test_garbage(void **state)
{
	(void)state;
	REQ_ERR("", "request not JSON: incomplete");
	REQ_ERR("   ", "request not JSON: incomplete");
	REQ_ERR("status", "request not JSON: unexpected character");
	REQ_ERR("GET / HTTP/1.1\r", "request not JSON: unexpected character");
	REQ_ERR("{\"command\":\"status\"", "request not JSON: incomplete");
	REQ_ERR("{\"command\":\"status\"} x",
	    "request not JSON: unexpected character");
	REQ_ERR("{\"command\":\"status\"}{\"command\":\"status\"}",
	    "request not JSON: unexpected character");
	REQ_ERR("{\"command\":\"status\",}",
	    "request not JSON: unexpected character");
	REQ_ERR("\"status\"", "request not a JSON object");
	REQ_ERR("[\"status\"]", "request not a JSON object");
	REQ_ERR("42", "request not JSON: incomplete");
	REQ_ERR("null", "request not JSON: incomplete");
	REQ_ERR("true ", "request not a JSON object");
	REQ_ERR("{}", "no \"command\"");
	REQ_ERR("{\"command\":1}", "\"command\" is not a string");
	REQ_ERR("{\"command\":null}", "\"command\" is not a string");
	REQ_ERR("{\"command\":\"STATUS\"}", "unknown command \"STATUS\"");
	REQ_ERR("{\"command\":\"stat\\u0000us\"}", "\"command\" is not a string");
	REQ_ERR("{\"command\":\"\\u001b[2Jx\"}",
	    "unknown command \"\\x1b[2Jx\"");
	REQ_ERR("{\"command\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	    "unknown command \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
	REQ_ERR("{\"command\":\"status\",\"verbose\":true}",
	    "unknown member \"verbose\"");
	REQ_ERR("{\"\\n\":1,\"command\":\"status\"}", "unknown member \"\\x0a\"");
	REQ_ERR("{\"command\":{\"x\":1}}", "request not JSON: nesting too deep");
	REQ_ERR("{\"command\":[\"status\"]}",
	    "request not JSON: nesting too deep");
	REQ_ERR("{\"command\":\"status\",\"spec\":\"1/tcp\"}",
	    "status takes no \"spec\"");
	REQ_ERR("{\"command\":\"check\",\"timeout\":1}",
	    "check takes no \"timeout\"");
	REQ_ERR("{\"command\":\"add\",\"spec\":\"1/tcp\",\"timeout\":1}",
	    "add takes no \"timeout\"");
	REQ_ERR("{\"command\":\"add\"}", "add: no \"spec\"");
	REQ_ERR("{\"command\":\"remove\",\"spec\":8080}",
	    "\"spec\" is not a string");
	REQ_ERR("{\"command\":\"add\",\"spec\":\"8080\"}",
	    "spec \"8080\": missing /tcp or /udp");
	REQ_ERR("{\"command\":\"add\",\"spec\":\"70000/tcp\"}",
	    "spec \"70000/tcp\": bad internal port");
	REQ_ERR("{\"command\":\"add\",\"spec\":\"1/tcp\\t\"}",
	    "spec \"1/tcp\\x09\": protocol must be tcp or udp");
	REQ_ERR("{\"command\":\"add\",\"spec\":"
	    "\"123456789012345678901234567890123\"}",
	    "\"spec\" is longer than 32 bytes");
	REQ_ERR("{\"command\":\"wait\",\"spec\":\"1-2/tcp\"}",
	    "wait: one port, not a range");
	REQ_ERR("{\"command\":\"wait\",\"spec\":\"1/tcp\",\"timeout\":-1}",
	    "\"timeout\" is not a number of seconds from 0 to 86400");
	REQ_ERR("{\"command\":\"wait\",\"spec\":\"1/tcp\",\"timeout\":86401}",
	    "\"timeout\" is not a number of seconds from 0 to 86400");
	REQ_ERR("{\"command\":\"wait\",\"spec\":\"1/tcp\","
	    "\"timeout\":99999999999999999999999}",
	    "\"timeout\" is not a number of seconds from 0 to 86400");
	REQ_ERR("{\"command\":\"wait\",\"spec\":\"1/tcp\",\"timeout\":1.5}",
	    "\"timeout\" is not a number of seconds from 0 to 86400");
	REQ_ERR("{\"command\":\"wait\",\"spec\":\"1/tcp\",\"timeout\":\"5\"}",
	    "\"timeout\" is not a number of seconds from 0 to 86400");
	REQ_ERR("{\"command\":\"status\"}\0", "NUL byte in the request");
	REQ_ERR("{\"command\":\"st\xc3\"}",
	    "request not JSON: invalid utf-8 string");
	REQ_ERR("{\"command\":\"\xff\xfe\"}",
	    "request not JSON: invalid utf-8 string");
}

/* The line limit: CONTROL_MAX_LINE bytes are a request, one more is not. */
static void
test_long_line(void **state)
{
	static const char head[] = "{\"command\":\"status\"";
	struct control_req r;
	char *buf, err[256];
	size_t len;

	(void)state;
	buf = malloc(CONTROL_MAX_LINE + 2);
	assert_non_null(buf);
	len = CONTROL_MAX_LINE;
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, ' ', len - sizeof(head));
	buf[len - 1] = '}';
	assert_int_equal(parse_len(buf, len, &r, err, sizeof(err)), 0);
	assert_int_equal(r.cmd, CONTROL_STATUS);
	memmove(buf + 1, buf, len);
	buf[0] = ' ';
	assert_int_equal(parse_len(buf, len + 1, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "request longer than 4096 bytes");
	free(buf);
}

/* Messages are cut to the buffer given, and still NUL-terminated. */
static void
test_small_errbuf(void **state)
{
	struct control_req r;
	char err[8];

	(void)state;
	assert_int_equal(control_parse("{}", 2, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "no \"com");
	assert_int_equal(control_parse("{}", 2, &r, NULL, 0), -1);
}

static void
roundtrip(int cmd, const char *spec, uint32_t timeout, const char *want)
{
	struct control_req r;
	char *line, err[256];
	size_t len = 0;

	line = control_request(cmd, spec, timeout, &len);
	assert_non_null(line);
	assert_string_equal(line, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(line[len - 1], '\n');
	if (parse_len(line, len - 1, &r, err, sizeof(err)) != 0)
		fail_msg("%s: %s", line, err);
	assert_int_equal(r.cmd, cmd);
	assert_string_equal(r.spec, spec != NULL ? spec : "");
	assert_int_equal(r.timeout, timeout == UINT32_MAX ? CONTROL_WAIT_MAX :
	    timeout);
	free(line);
}

/* What natmapctl sends parses back to what it meant. */
static void
test_request(void **state)
{
	size_t len;

	(void)state;
	roundtrip(CONTROL_STATUS, NULL, UINT32_MAX, "{\"command\":\"status\"}\n");
	roundtrip(CONTROL_CHECK, NULL, UINT32_MAX, "{\"command\":\"check\"}\n");
	roundtrip(CONTROL_RELOAD, NULL, UINT32_MAX, "{\"command\":\"reload\"}\n");
	roundtrip(CONTROL_ADD, "8080/tcp", UINT32_MAX,
	    "{\"command\":\"add\",\"spec\":\"8080/tcp\"}\n");
	roundtrip(CONTROL_REMOVE, "5000-5010:6000/udp", UINT32_MAX,
	    "{\"command\":\"remove\",\"spec\":\"5000-5010:6000/udp\"}\n");
	roundtrip(CONTROL_WAIT, "8080/tcp", UINT32_MAX,
	    "{\"command\":\"wait\",\"spec\":\"8080/tcp\"}\n");
	roundtrip(CONTROL_WAIT, "8080/tcp", 0,
	    "{\"command\":\"wait\",\"spec\":\"8080/tcp\",\"timeout\":0}\n");
	roundtrip(CONTROL_WAIT, "8080/tcp", 30,
	    "{\"command\":\"wait\",\"spec\":\"8080/tcp\",\"timeout\":30}\n");
	/* what is not a request is not built */
	assert_null(control_request(-1, NULL, UINT32_MAX, &len));
	assert_null(control_request(CONTROL_NCMDS, NULL, UINT32_MAX, &len));
	assert_null(control_request(CONTROL_ADD, NULL, UINT32_MAX, &len));
	assert_null(control_request(CONTROL_STATUS, "1/tcp", UINT32_MAX, &len));
	assert_null(control_request(CONTROL_CHECK, NULL, 5, &len));
	assert_null(control_request(CONTROL_WAIT, "1/tcp", 86401, &len));
	assert_null(control_request(CONTROL_ADD,
	    "123456789012345678901234567890123", UINT32_MAX, &len));
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < CONTROL_NCMDS; i++)
		assert_int_equal(control_cmd_parse(control_cmd_name(i)), i);
	assert_string_equal(control_cmd_name(-1), "?");
	assert_string_equal(control_cmd_name(CONTROL_NCMDS), "?");
	assert_int_equal(control_cmd_parse(""), -1);
	assert_int_equal(control_cmd_parse("?"), -1);
}

/* Answers: one line each, escaped, with their newline. */
static void
test_answers(void **state)
{
	struct json_object *o;
	char *line;
	size_t len;

	(void)state;
	line = control_ok(NULL, NULL, &len);
	assert_string_equal(line, "{\"ok\":true}\n");
	assert_int_equal(len, 12);
	free(line);

	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int(1));
	json_object_object_add(o, "where", json_object_new_string(
	    "http://192.168.1.1:5000/rootDesc.xml"));
	line = control_ok("status", o, &len);
	assert_string_equal(line, "{\"ok\":true,\"status\":{\"version\":1,"
	    "\"where\":\"http://192.168.1.1:5000/rootDesc.xml\"}}\n");
	free(line);

	/* a value without a key is dropped, not leaked */
	line = control_ok(NULL, json_object_new_int(3), &len);
	assert_string_equal(line, "{\"ok\":true}\n");
	free(line);
	/* a key without a value is a failure */
	assert_null(control_ok("status", NULL, &len));

	line = control_error(CONTROL_E_REQUEST, "line 1\nline \"2\"\x01", &len);
	assert_string_equal(line, "{\"ok\":false,\"code\":\"bad-request\","
	    "\"error\":\"line 1\\nline \\\"2\\\"\\u0001\"}\n");
	assert_int_equal(len, strlen(line));
	assert_null(memchr(line, '\n', len - 1));
	free(line);
}

static int
answer(const char *s, struct json_object **o, int *ok, char *err,
    size_t errlen)
{
	err[0] = '\0';
	return control_parse_answer(s, strlen(s), o, ok, err, errlen);
}

static void
answer_err(const char *s, const char *want)
{
	struct json_object *o;
	char err[256];
	int ok = 1;

	if (answer(s, &o, &ok, err, sizeof(err)) != -1)
		fail_msg("%s: accepted, wanted \"%s\"", s, want);
	assert_null(o);
	assert_int_equal(ok, 0);
	assert_string_equal(err, want);
}

/* natmapctl's side: what the daemon answers, and what it must not. */
static void
test_parse_answer(void **state)
{
	struct json_object *o, *v;
	char err[256], *line, *big;
	size_t len;
	int ok;

	(void)state;
	assert_int_equal(answer("{\"ok\":true,\"status\":{\"mappings\":"
	    "[{\"spec\":\"1/tcp\"}]}}", &o, &ok, err, sizeof(err)), 0);
	assert_int_equal(ok, 1);
	assert_true(json_object_object_get_ex(o, "status", &v));
	json_object_put(o);

	line = control_error(CONTROL_E_TIMEOUT, "timed out", &len);
	assert_int_equal(control_parse_answer(line, len, &o, &ok, err,
	    sizeof(err)), 0);
	assert_int_equal(ok, 0);
	assert_true(json_object_object_get_ex(o, "code", &v));
	assert_string_equal(json_object_get_string(v), "timeout");
	json_object_put(o);
	free(line);

	answer_err("", "answer not JSON: incomplete");
	answer_err("{\"ok\":true", "answer not JSON: incomplete");
	answer_err("HTTP/1.0 400", "answer not JSON: unexpected character");
	answer_err("[true]", "answer without \"ok\"");
	answer_err("{}", "answer without \"ok\"");
	answer_err("{\"ok\":1}", "answer without \"ok\"");
	answer_err("{\"ok\":false}", "refusal without \"error\"");
	answer_err("{\"ok\":false,\"error\":7}", "refusal without \"error\"");
	answer_err("[[[[[[[[[[]]]]]]]]]]", "answer not JSON: nesting too deep");

	big = malloc(CONTROL_MAX_ANSWER + 1);
	assert_non_null(big);
	memset(big, ' ', CONTROL_MAX_ANSWER + 1);
	assert_int_equal(control_parse_answer(big, CONTROL_MAX_ANSWER + 1, &o,
	    &ok, err, sizeof(err)), -1);
	assert_string_equal(err, "answer longer than 1048576 bytes");
	free(big);
	assert_int_equal(control_parse_answer("{\"ok\":true}\0", 12, &o, &ok,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "NUL byte in the answer");
}

/* The services' commands: their specs parsed as the command line's, their own bound. */
static void
test_services(void **state)
{
	struct control_req r;
	char spec[CONTROL_MAX_SVC_SPEC + 2], line[CONTROL_MAX_SVC_SPEC + 64];
	char err[1024], want[256];
	size_t n;
	int i;

	(void)state;
	r = req_ok("{\"command\":\"expose\",\"spec\":"
	    "\"web=192.168.1.10:80/tcp@beta,gamma\"}");
	assert_int_equal(r.cmd, CONTROL_EXPOSE);
	assert_string_equal(r.expose.name, "web");
	assert_int_equal(r.expose.proto, CONF_TCP);
	assert_int_equal(r.expose.nallow, 2);
	assert_string_equal(r.expose.allow[1], "gamma");
	r = req_ok("{\"command\":\"unexpose\",\"spec\":\"web\"}");
	assert_int_equal(r.cmd, CONTROL_UNEXPOSE);
	assert_string_equal(r.service, "web");
	r = req_ok("{\"command\":\"connect\",\"spec\":\"alpha/web=8080\"}");
	assert_int_equal(r.cmd, CONTROL_CONNECT);
	assert_string_equal(r.connect.node, "alpha");
	assert_string_equal(r.connect.service, "web");
	assert_int_equal(r.connect.proto, CONF_ANY_PROTO);
	r = req_ok("{\"command\":\"connect\",\"spec\":"
	    "\"alpha/dns=[::1]:5353/udp\"}");
	assert_int_equal(r.connect.proto, CONF_UDP);
	assert_int_equal(r.connect.listen.ss_family, AF_INET6);
	/* a service's relay policy, after a space in the spec */
	r = req_ok("{\"command\":\"connect\",\"spec\":"
	    "\"alpha/web=8080/tcp relay=never\"}");
	assert_int_equal(r.connect.relay_set, 1);
	assert_int_equal(r.connect.relay, CONF_RELAY_NEVER);
	r = req_ok("{\"command\":\"expose\",\"spec\":"
	    "\"web=192.168.1.10:80/tcp relay=fallback\"}");
	assert_int_equal(r.expose.relay_set, 1);
	assert_int_equal(r.expose.relay, CONF_RELAY_FALLBACK);
	r = req_ok("{\"command\":\"expose\",\"spec\":"
	    "\"web=192.168.1.10:80/tcp relay=always\"}");
	assert_int_equal(r.expose.relay_set, 1);
	assert_int_equal(r.expose.relay, CONF_RELAY_ALWAYS);
	r = req_ok("{\"command\":\"expose\",\"spec\":"
	    "\"game=192.168.1.10:27015/udp relay=always\"}");
	assert_int_equal(r.expose.relay_set, 1);
	assert_int_equal(r.expose.relay, CONF_RELAY_ALWAYS);
	r = req_ok("{\"command\":\"disconnect\",\"spec\":\"alpha/web\"}");
	assert_int_equal(r.cmd, CONTROL_DISCONNECT);
	assert_string_equal(r.node, "alpha");
	assert_string_equal(r.service, "web");

	REQ_ERR("{\"command\":\"expose\"}", "expose: no \"spec\"");
	REQ_ERR("{\"command\":\"disconnect\"}", "disconnect: no \"spec\"");
	REQ_ERR("{\"command\":\"expose\",\"spec\":\"web=80/tcp\"}",
	    "expose: \"80\" is not ADDRESS:PORT (an IPv4 address, or an IPv6 "
	    "one in brackets)");
	REQ_ERR("{\"command\":\"expose\",\"spec\":\"Web=1.2.3.4:80/tcp\"}",
	    "expose: \"Web\" is not a service name (1-32 of a-z, 0-9, ., _, -)");
	REQ_ERR("{\"command\":\"expose\",\"spec\":\"web=1.2.3.4:80\"}",
	    "expose: web: needs /tcp or /udp after the address");
	REQ_ERR("{\"command\":\"connect\",\"spec\":\"web=8080\"}",
	    "connect: \"web=8080\" is not NODE/NAME=[ADDRESS:]PORT[/PROTO]");
	REQ_ERR("{\"command\":\"connect\",\"spec\":\"a/web=8080/sctp\"}",
	    "connect: a/web: \"sctp\" is not tcp or udp");
	REQ_ERR("{\"command\":\"unexpose\",\"spec\":\"a/web\"}",
	    "unexpose: \"a/web\" is not a service name (1-32 of a-z, 0-9, ., "
	    "_, -)");
	REQ_ERR("{\"command\":\"disconnect\",\"spec\":\"web\"}",
	    "disconnect: \"web\" is not NODE/NAME");
	REQ_ERR("{\"command\":\"disconnect\",\"spec\":\"-a/web\"}",
	    "disconnect: \"-a/web\" is not NODE/NAME");
	REQ_ERR("{\"command\":\"disconnect\",\"spec\":\"a/\"}",
	    "disconnect: \"\" is not a service name (1-32 of a-z, 0-9, ., _, "
	    "-)");
	/* the client's bytes in a message come back escaped */
	REQ_ERR("{\"command\":\"unexpose\",\"spec\":\"w\\u001b[31m\"}",
	    "unexpose: \"w\\x1b[31m\" is not a service name (1-32 of "
	    "a-z, 0-9, ., _, -)");
	/* a mapping's spec keeps its bound; wait takes no service */
	REQ_ERR("{\"command\":\"add\",\"spec\":\"web=1.2.3.4:80/tcp\"}",
	    "spec \"web=1.2.3.4:80/tcp\": bad internal port");
	REQ_ERR("{\"command\":\"expose\",\"spec\":\"w=1.2.3.4:1/tcp\","
	    "\"timeout\":1}", "expose takes no \"timeout\"");

	/* the longest expose there is fits; one byte over the bound does not */
	n = (size_t)snprintf(spec, sizeof(spec), "%.32s=[ffff:ffff:ffff:ffff:"
	    "ffff:ffff:255.255.255.255]:65535/udp", "abcdefghijklmnopqrstuvwxyz"
	    "0123456789");
	for (i = 0; i < CONF_ALLOW_MAX; i++) {
		spec[n++] = i == 0 ? '@' : ',';
		memset(spec + n, 'a' + i, 63);
		n += 63;
	}
	spec[n] = '\0';
	assert_true(n <= CONTROL_MAX_SVC_SPEC);
	snprintf(line, sizeof(line), "{\"command\":\"expose\",\"spec\":\"%s\"}",
	    spec);
	r = req_ok(line);
	assert_int_equal(r.expose.nallow, CONF_ALLOW_MAX);
	assert_string_equal(r.spec, spec);
	memset(spec, 'a', CONTROL_MAX_SVC_SPEC + 1);
	spec[CONTROL_MAX_SVC_SPEC + 1] = '\0';
	snprintf(line, sizeof(line), "{\"command\":\"expose\",\"spec\":\"%s\"}",
	    spec);
	req_err_len(line, strlen(line), "\"spec\" is longer than 640 bytes");
	snprintf(line, sizeof(line), "{\"command\":\"unexpose\",\"spec\":"
	    "\"%.*s\"}", CONTROL_MAX_SVC_SPEC, spec);
	/* the message, cut to the buffer: the client's text, escaped */
	n = (size_t)snprintf(want, sizeof(want), "unexpose: \"");
	memset(want + n, 'a', 255 - n);
	want[255] = '\0';
	req_err_len(line, strlen(line), want);

	/* natmapctl's check, before sending: the same parser */
	memset(&r, 0, sizeof(r));
	assert_int_equal(control_parse_spec(CONTROL_CONNECT, "alpha/echo=9000/tcp",
	    &r, err, sizeof(err)), 0);
	assert_int_equal(r.connect.proto, CONF_TCP);
	assert_int_equal(control_parse_spec(CONTROL_DISCONNECT, "alpha",
	    &r, err, sizeof(err)), -1);
	assert_string_equal(err, "disconnect: \"alpha\" is not NODE/NAME");
	assert_int_equal(control_parse_spec(CONTROL_STATUS, "x", &r, err,
	    sizeof(err)), -1);
	assert_int_equal(control_parse_spec(CONTROL_WAIT, "1-2/tcp", &r, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "one port, not a range");
	assert_int_equal(control_cmd_has_spec(CONTROL_CONNECT), 1);
	assert_int_equal(control_cmd_has_spec(CONTROL_RELOAD), 0);
	assert_int_equal(control_spec_max(CONTROL_ADD), CONTROL_MAX_SPEC);
	assert_int_equal(control_spec_max(CONTROL_EXPOSE), CONTROL_MAX_SVC_SPEC);

	roundtrip(CONTROL_EXPOSE, "web=192.168.1.10:80/tcp@beta", UINT32_MAX,
	    "{\"command\":\"expose\",\"spec\":"
	    "\"web=192.168.1.10:80/tcp@beta\"}\n");
	roundtrip(CONTROL_DISCONNECT, "alpha/web", UINT32_MAX,
	    "{\"command\":\"disconnect\",\"spec\":\"alpha/web\"}\n");
	assert_null(control_request(CONTROL_UNEXPOSE, NULL, UINT32_MAX, &n));
	assert_null(control_request(CONTROL_CONNECT, "a/b=1", 5, &n));
	assert_null(control_request(CONTROL_EXPOSE, spec, UINT32_MAX, &n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_blanks),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_small_errbuf),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_parse_answer),
		cmocka_unit_test(test_services),
	};

	return TU_RUN("control-msg", tests);
}
