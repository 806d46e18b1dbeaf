/* SPDX-License-Identifier: ISC */
/* The control protocol's requests and answers, as json-c objects and lines: no I/O. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conf.h"
#include "conf-peer.h"
#include "control-msg.h"
#include "log.h"

#define CONTROL_ANSWER_DEPTH	8	/* status: object, mappings, a mapping */
#define CONTROL_ECHO_MAX	32	/* bytes of the client's text put in a message */

static const char *const cmd_names[CONTROL_NCMDS] = {
	[CONTROL_STATUS] = "status",
	[CONTROL_CHECK] = "check",
	[CONTROL_RELOAD] = "reload",
	[CONTROL_ADD] = "add",
	[CONTROL_REMOVE] = "remove",
	[CONTROL_WAIT] = "wait",
	[CONTROL_EXPOSE] = "expose",
	[CONTROL_UNEXPOSE] = "unexpose",
	[CONTROL_CONNECT] = "connect",
	[CONTROL_DISCONNECT] = "disconnect",
};

const char *
control_cmd_name(int cmd)
{
	if (cmd < 0 || cmd >= CONTROL_NCMDS)
		return "?";
	return cmd_names[cmd];
}

int
control_cmd_parse(const char *s)
{
	int i;

	for (i = 0; i < CONTROL_NCMDS; i++)
		if (strcmp(s, cmd_names[i]) == 0)
			return i;
	return -1;
}

int
control_cmd_has_spec(int cmd)
{
	return cmd == CONTROL_ADD || cmd == CONTROL_REMOVE ||
	    cmd == CONTROL_WAIT || cmd == CONTROL_EXPOSE ||
	    cmd == CONTROL_UNEXPOSE || cmd == CONTROL_CONNECT ||
	    cmd == CONTROL_DISCONNECT;
}

size_t
control_spec_max(int cmd)
{
	if (cmd == CONTROL_ADD || cmd == CONTROL_REMOVE || cmd == CONTROL_WAIT)
		return CONTROL_MAX_SPEC;
	return control_cmd_has_spec(cmd) ? CONTROL_MAX_SVC_SPEC : 0;
}

int
control_parse_spec(int cmd, const char *spec, struct control_req *req,
    char *err, size_t errlen)
{
	const char *what = control_cmd_name(cmd);

	if (strlen(spec) > control_spec_max(cmd)) {
		config_seterr(err, errlen, "%s: spec longer than %zu bytes",
		    what, control_spec_max(cmd));
		return -1;
	}
	switch (cmd) {
	case CONTROL_ADD:
	case CONTROL_REMOVE:
	case CONTROL_WAIT:
		if (config_parse_map(spec, &req->map, err, errlen) == -1)
			return -1;
		if (cmd == CONTROL_WAIT &&
		    req->map.int_first != req->map.int_last) {
			config_seterr(err, errlen, "one port, not a range");
			return -1;
		}
		return 0;
	case CONTROL_EXPOSE:
		return config_parse_expose(spec, &req->expose, err, errlen);
	case CONTROL_CONNECT:
		return config_parse_connect(spec, &req->connect, err, errlen);
	case CONTROL_UNEXPOSE:
		return config_parse_service_name(what, spec, NULL,
		    req->service, err, errlen);
	case CONTROL_DISCONNECT:
		return config_parse_service_name(what, spec, req->node,
		    req->service, err, errlen);
	}
	config_seterr(err, errlen, "%s takes no spec", what);
	return -1;
}

/* The client's text, cut and escaped, for a message. */
static const char *
echo(char *buf, size_t len, const char *s, size_t slen)
{
	if (slen > CONTROL_ECHO_MAX)
		slen = CONTROL_ECHO_MAX;
	return log_escape(buf, len, s, slen);
}

/* A string member without NUL bytes; NULL if it is not one. */
static const char *
member_string(struct json_object *v, size_t *len)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (s == NULL || memchr(s, '\0', *len) != NULL)
		return NULL;
	return s;
}

/* The members of a request object into req; has_* say which were there. */
static int
parse_members(struct json_object *o, struct control_req *req, int *has_spec,
    int *has_timeout, char *err, size_t errlen)
{
	struct json_object_iterator it, end;
	struct json_object *v;
	const char *key, *s;
	char e[4 * CONTROL_ECHO_MAX + 1];
	size_t slen;
	int64_t t;
	int have_cmd = 0;

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		v = json_object_iter_peek_value(&it);
		if (strcmp(key, "command") == 0) {
			if ((s = member_string(v, &slen)) == NULL) {
				config_seterr(err, errlen, "\"command\" is not "
				    "a string");
				return -1;
			}
			if ((req->cmd = control_cmd_parse(s)) == -1) {
				config_seterr(err, errlen, "unknown command "
				    "\"%s\"", echo(e, sizeof(e), s, slen));
				return -1;
			}
			have_cmd = 1;
		} else if (strcmp(key, "spec") == 0) {
			if ((s = member_string(v, &slen)) == NULL) {
				config_seterr(err, errlen, "\"spec\" is not a "
				    "string");
				return -1;
			}
			if (slen > CONTROL_MAX_SVC_SPEC) {
				config_seterr(err, errlen, "\"spec\" is longer "
				    "than %d bytes", CONTROL_MAX_SVC_SPEC);
				return -1;
			}
			memcpy(req->spec, s, slen);
			req->spec[slen] = '\0';
			*has_spec = 1;
		} else if (strcmp(key, "timeout") == 0) {
			if (!json_object_is_type(v, json_type_int) ||
			    (t = json_object_get_int64(v)) < 0 ||
			    t > CONTROL_WAIT_MAX) {
				config_seterr(err, errlen, "\"timeout\" is not "
				    "a number of seconds from 0 to %d",
				    CONTROL_WAIT_MAX);
				return -1;
			}
			req->timeout = (uint32_t)t;
			*has_timeout = 1;
		} else {
			config_seterr(err, errlen, "unknown member \"%s\"",
			    echo(e, sizeof(e), key, strlen(key)));
			return -1;
		}
	}
	if (!have_cmd) {
		config_seterr(err, errlen, "no \"command\"");
		return -1;
	}
	return 0;
}

/*
 * One JSON text in line[0..len), at most max bytes and depth levels deep,
 * nothing but blanks after it; NULL with a message naming what (a
 * "request", an "answer") in err.
 */
static struct json_object *
parse_json(const char *line, size_t len, size_t max, int depth,
    const char *what, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;

	if (len > max) {
		config_seterr(err, errlen, "%s longer than %zu bytes", what, max);
		return NULL;
	}
	if (memchr(line, '\0', len) != NULL) {
		config_seterr(err, errlen, "NUL byte in the %s", what);
		return NULL;
	}
	if ((tok = json_tokener_new_ex(depth)) == NULL) {
		config_seterr(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (o != NULL && jerr == json_tokener_success)
		return o;
	json_object_put(o);
	config_seterr(err, errlen, "%s not JSON: %s", what,
	    jerr == json_tokener_continue ? "incomplete" :
	    json_tokener_error_desc(jerr));
	return NULL;
}

int
control_parse(const char *line, size_t len, struct control_req *req,
    char *err, size_t errlen)
{
	struct json_object *o;
	char why[CONTROL_MAX_SVC_SPEC + 256];
	int has_spec = 0, has_timeout = 0, r = -1;

	memset(req, 0, sizeof(*req));
	req->cmd = -1;
	req->timeout = CONTROL_WAIT_MAX;
	if ((o = parse_json(line, len, CONTROL_MAX_LINE, CONTROL_MAX_DEPTH,
	    "request", err, errlen)) == NULL)
		return -1;
	if (!json_object_is_type(o, json_type_object)) {
		config_seterr(err, errlen, "request not a JSON object");
		goto out;
	}
	if (parse_members(o, req, &has_spec, &has_timeout, err, errlen) == -1)
		goto out;
	if (control_cmd_has_spec(req->cmd) && !has_spec) {
		config_seterr(err, errlen, "%s: no \"spec\"",
		    control_cmd_name(req->cmd));
		goto out;
	}
	if (!control_cmd_has_spec(req->cmd) && has_spec) {
		config_seterr(err, errlen, "%s takes no \"spec\"",
		    control_cmd_name(req->cmd));
		goto out;
	}
	if (req->cmd != CONTROL_WAIT && has_timeout) {
		config_seterr(err, errlen, "%s takes no \"timeout\"",
		    control_cmd_name(req->cmd));
		goto out;
	}
	if (has_spec && strlen(req->spec) > control_spec_max(req->cmd)) {
		config_seterr(err, errlen, "\"spec\" is longer than %zu bytes",
		    control_spec_max(req->cmd));
		goto out;
	}
	if (has_spec && req->cmd != CONTROL_EXPOSE &&
	    req->cmd != CONTROL_UNEXPOSE && req->cmd != CONTROL_CONNECT &&
	    req->cmd != CONTROL_DISCONNECT) {
		if (config_parse_map(req->spec, &req->map, why,
		    sizeof(why)) == -1) {
			char e[4 * CONTROL_MAX_SPEC + 1];

			config_seterr(err, errlen, "spec \"%s\": %s",
			    log_escape(e, sizeof(e), req->spec,
			    strlen(req->spec)), why);
			goto out;
		}
		if (req->cmd == CONTROL_WAIT &&
		    req->map.int_first != req->map.int_last) {
			config_seterr(err, errlen, "wait: one port, not a "
			    "range");
			goto out;
		}
	} else if (has_spec && control_parse_spec(req->cmd, req->spec, req,
	    why, sizeof(why)) == -1) {
		/* the message quotes the client's text: escaped */
		char e[4 * sizeof(why) + 1];

		config_seterr(err, errlen, "%s", log_escape(e, sizeof(e), why,
		    strlen(why)));
		goto out;
	}
	r = 0;
out:
	json_object_put(o);
	if (r == -1) {
		memset(req, 0, sizeof(*req));
		req->cmd = -1;
	}
	return r;
}

/* v added to o as key, or put: json-c leaves it to the caller on failure. */
static int
add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* o as one line with a newline; o is put.  NULL if out of memory. */
static char *
line_of(struct json_object *o, size_t *len)
{
	const char *s;
	char *line = NULL;
	size_t n;

	if (o == NULL)
		return NULL;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL) {
		n = strlen(s);
		if ((line = malloc(n + 2)) != NULL) {
			memcpy(line, s, n);
			line[n] = '\n';
			line[n + 1] = '\0';
			*len = n + 1;
		}
	}
	json_object_put(o);
	return line;
}

char *
control_request(int cmd, const char *spec, uint32_t timeout, size_t *len)
{
	struct json_object *o;
	int r = 0;

	if (cmd < 0 || cmd >= CONTROL_NCMDS ||
	    (spec != NULL) != control_cmd_has_spec(cmd) ||
	    (spec != NULL && strlen(spec) > control_spec_max(cmd)) ||
	    (timeout != UINT32_MAX && (cmd != CONTROL_WAIT ||
	    timeout > CONTROL_WAIT_MAX)))
		return NULL;
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	r |= add(o, "command", json_object_new_string(cmd_names[cmd]));
	if (spec != NULL)
		r |= add(o, "spec", json_object_new_string(spec));
	if (timeout != UINT32_MAX)
		r |= add(o, "timeout", json_object_new_int64(timeout));
	if (r != 0) {
		json_object_put(o);
		return NULL;
	}
	return line_of(o, len);
}

char *
control_ok(const char *key, struct json_object *value, size_t *len)
{
	struct json_object *o;

	if (key == NULL) {
		json_object_put(value);
		value = NULL;
	}
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(value);
		return NULL;
	}
	if (add(o, "ok", json_object_new_boolean(1)) == -1) {
		json_object_put(value);
		json_object_put(o);
		return NULL;
	}
	/* add() puts value when it fails */
	if (key != NULL && add(o, key, value) == -1) {
		json_object_put(o);
		return NULL;
	}
	return line_of(o, len);
}

char *
control_error(const char *code, const char *msg, size_t *len)
{
	struct json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (add(o, "ok", json_object_new_boolean(0)) == -1 ||
	    add(o, "code", json_object_new_string(code)) == -1 ||
	    add(o, "error", json_object_new_string(msg)) == -1) {
		json_object_put(o);
		return NULL;
	}
	return line_of(o, len);
}

int
control_parse_answer(const char *line, size_t len,
    struct json_object **answer, int *ok, char *err, size_t errlen)
{
	struct json_object *o, *v;

	*answer = NULL;
	*ok = 0;
	if ((o = parse_json(line, len, CONTROL_MAX_ANSWER,
	    CONTROL_ANSWER_DEPTH, "answer", err, errlen)) == NULL)
		return -1;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "ok", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		config_seterr(err, errlen, "answer without \"ok\"");
		json_object_put(o);
		return -1;
	}
	*ok = json_object_get_boolean(v);
	if (!*ok && (!json_object_object_get_ex(o, "error", &v) ||
	    !json_object_is_type(v, json_type_string))) {
		config_seterr(err, errlen, "refusal without \"error\"");
		json_object_put(o);
		*ok = 0;
		return -1;
	}
	*answer = o;
	return 0;
}
