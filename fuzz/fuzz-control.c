/* SPDX-License-Identifier: ISC */
/* Fuzz target: control socket lines, as requests (natmapd) and as answers (natmapctl). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conf.h"
#include "control-msg.h"
#include "fuzz.h"

static void
check_message(const char *err, size_t len)
{
	const char *end = memchr(err, '\0', len);
	const char *p;

	CHECK(end != NULL && end != err);
	/* the client's bytes come back escaped: printable ASCII only */
	for (p = err; p < end; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

static int
same_map(const struct conf_map *a, const struct conf_map *b)
{
	return a->proto == b->proto && a->int_first == b->int_first &&
	    a->int_last == b->int_last && a->ext_first == b->ext_first;
}

static void
request(const uint8_t *data, size_t size)
{
	struct control_req req, again;
	struct conf_map m;
	char err[256], *line;
	size_t len;
	int spec, map;

	if (control_parse((const char *)data, size, &req, err,
	    sizeof(err)) == -1) {
		check_message(err, sizeof(err));
		CHECK(req.cmd == -1);
		return;
	}
	CHECK(size <= CONTROL_MAX_LINE);
	CHECK(req.cmd >= 0 && req.cmd < CONTROL_NCMDS);
	CHECK(req.timeout <= CONTROL_WAIT_MAX);
	CHECK(memchr(req.spec, '\0', sizeof(req.spec)) != NULL);
	map = req.cmd == CONTROL_ADD || req.cmd == CONTROL_REMOVE ||
	    req.cmd == CONTROL_WAIT;
	spec = control_cmd_has_spec(req.cmd);
	if (spec)
		CHECK(strlen(req.spec) <= control_spec_max(req.cmd));
	if (map) {
		CHECK(config_parse_map(req.spec, &m, NULL, 0) == 0);
		CHECK(same_map(&m, &req.map));
		if (req.cmd == CONTROL_WAIT)
			CHECK(m.int_first == m.int_last);
	} else if (spec) {
		/* a service's spec: what natmapctl checks, parsed the same */
		memset(&again, 0, sizeof(again));
		CHECK(control_parse_spec(req.cmd, req.spec, &again, NULL,
		    0) == 0);
		CHECK(memcmp(&again.expose, &req.expose,
		    sizeof(req.expose)) == 0);
		CHECK(memcmp(&again.connect, &req.connect,
		    sizeof(req.connect)) == 0);
		CHECK(strcmp(again.node, req.node) == 0);
		CHECK(strcmp(again.service, req.service) == 0);
		CHECK(req.timeout == CONTROL_WAIT_MAX);
	} else {
		CHECK(req.spec[0] == '\0');
		CHECK(req.timeout == CONTROL_WAIT_MAX);
	}

	/* what natmapctl would send for it means the same */
	line = control_request(req.cmd, spec ? req.spec : NULL,
	    req.cmd == CONTROL_WAIT ? req.timeout : UINT32_MAX, &len);
	if (line == NULL)
		return;		/* out of memory */
	CHECK(len >= 2 && line[len - 1] == '\n');
	CHECK(memchr(line, '\n', len - 1) == NULL);
	CHECK(control_parse(line, len - 1, &again, err, sizeof(err)) == 0);
	CHECK(again.cmd == req.cmd && again.timeout == req.timeout);
	CHECK(strcmp(again.spec, req.spec) == 0);
	CHECK(!map || same_map(&again.map, &req.map));
	CHECK(memcmp(&again.expose, &req.expose, sizeof(req.expose)) == 0);
	CHECK(memcmp(&again.connect, &req.connect, sizeof(req.connect)) == 0);
	free(line);
}

static void
answer(const uint8_t *data, size_t size)
{
	struct json_object *o, *v;
	char err[256];
	int ok;

	if (control_parse_answer((const char *)data, size, &o, &ok, err,
	    sizeof(err)) == -1) {
		CHECK(o == NULL && ok == 0);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		return;
	}
	CHECK(json_object_is_type(o, json_type_object));
	CHECK(json_object_object_get_ex(o, "ok", &v));
	CHECK(json_object_get_boolean(v) == ok);
	if (!ok) {
		CHECK(json_object_object_get_ex(o, "error", &v));
		CHECK(json_object_is_type(v, json_type_string));
	}
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	request(data, size);
	answer(data, size);
	return 0;
}
