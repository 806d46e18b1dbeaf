/* SPDX-License-Identifier: ISC */
/* The control socket's protocol: newline-delimited JSON requests and answers, no I/O. */
#ifndef NATMAPD_CONTROL_MSG_H
#define NATMAPD_CONTROL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/*
 * One request a line, one answer a line, in order:
 *
 *   {"command":"status"}
 *   {"command":"check"}                 what SIGUSR1 does
 *   {"command":"reload"}                what SIGHUP does
 *   {"command":"add","spec":"8080/tcp"}
 *   {"command":"remove","spec":"8080/tcp"}
 *   {"command":"wait","spec":"8080/tcp","timeout":30}
 *   {"command":"expose","spec":"web=192.168.1.10:80/tcp@beta"}
 *   {"command":"unexpose","spec":"web"}
 *   {"command":"connect","spec":"alpha/web=8080/tcp"}
 *   {"command":"disconnect","spec":"alpha/web"}
 *
 *   {"ok":true[,"status":{...}|"mapping":{...}]}
 *   {"ok":false,"code":"bad-request","error":"..."}
 *
 * natmapctl(8) documents both.
 */
#define CONTROL_MAX_LINE	4096	/* a request, without its newline */
#define CONTROL_MAX_DEPTH	2	/* an object of scalars */
#define CONTROL_MAX_ANSWER	(1024 * 1024)	/* an answer (status of 1024 mappings) */
#define CONTROL_MAX_SPEC	32	/* "65535-65535:65535-65535/udp" */
/*
 * A service's spec (expose, unexpose, connect, disconnect): the longest
 * expose, "NAME=[IPV6]:PORT/udp@NODE,..." with 32 bytes of name, 47 of
 * address and port and 8 nodes of 63, is 600 bytes.
 */
#define CONTROL_MAX_SVC_SPEC	640
#define CONTROL_WAIT_MAX	86400	/* seconds; also the default */

enum control_cmd {
	CONTROL_STATUS,
	CONTROL_CHECK,
	CONTROL_RELOAD,
	CONTROL_ADD,
	CONTROL_REMOVE,
	CONTROL_WAIT,
	CONTROL_EXPOSE,
	CONTROL_UNEXPOSE,
	CONTROL_CONNECT,
	CONTROL_DISCONNECT,
	CONTROL_NCMDS,
};

/* Machine-readable reasons of a refusal ("code"). */
#define CONTROL_E_REQUEST	"bad-request"	/* the line is not a request */
#define CONTROL_E_TOOLONG	"too-long"	/* and the connection is closed */
#define CONTROL_E_UNSUPPORTED	"unsupported"
#define CONTROL_E_NOMAPPING	"no-mapping"
#define CONTROL_E_FAILED	"failed"	/* the command was refused */
#define CONTROL_E_TIMEOUT	"timeout"	/* wait: not reachable in time */
#define CONTROL_E_BUSY		"busy"		/* too many clients */
#define CONTROL_E_IDLE		"idle"		/* no request for too long */
#define CONTROL_E_INTERNAL	"internal"	/* out of memory */

struct control_req {
	int		 cmd;			/* enum control_cmd */
	/* add, remove, wait: CONTROL_MAX_SPEC; the services' CONTROL_MAX_SVC_SPEC */
	char		 spec[CONTROL_MAX_SVC_SPEC + 1];
	struct conf_map	 map;			/* add, remove, wait: spec, parsed */
	struct conf_expose expose;		/* expose: spec, parsed */
	struct conf_connect connect;		/* connect: spec, parsed */
	/* unexpose: service; disconnect: node and service */
	char		 node[64];
	char		 service[CONF_SERVICE_MAX + 1];
	uint32_t	 timeout;		/* wait: seconds, 0..CONTROL_WAIT_MAX */
};

const char *control_cmd_name(int);
/* "status" -> CONTROL_STATUS; -1 if unknown. */
int	control_cmd_parse(const char *);

/* 1 if cmd takes a spec; its longest (CONTROL_MAX_SPEC or _SVC_SPEC). */
int	control_cmd_has_spec(int cmd);
size_t	control_spec_max(int cmd);
/*
 * cmd's spec (NUL-terminated, at most control_spec_max(cmd) bytes) into
 * req's parsed members, as the command line and the configuration file
 * parse it; natmapctl checks it before sending.  0, or -1 with a message
 * in err.
 */
int	control_parse_spec(int cmd, const char *spec, struct control_req *,
	    char *err, size_t errlen);

/*
 * One request line (without its newline) into *req.  0, or -1 with a
 * message for the client in err (printable ASCII, NUL-terminated).
 */
int	control_parse(const char *line, size_t len, struct control_req *,
	    char *err, size_t errlen);

/*
 * The request line, with its newline, for natmapctl; spec for the commands
 * that take one, timeout for wait (UINT32_MAX: leave it out).  malloc'ed, NULL
 * when out of memory or the arguments do not make a request.
 */
char	*control_request(int cmd, const char *spec, uint32_t timeout,
	    size_t *len);

/*
 * Answer lines, with their newline, malloc'ed, NULL when out of memory.
 * control_ok: {"ok":true}, and key: value when key is not NULL (value is
 * taken: put here, even on failure).
 */
struct json_object;
char	*control_ok(const char *key, struct json_object *value, size_t *len);
char	*control_error(const char *code, const char *msg, size_t *len);

/*
 * An answer line, for natmapctl: *answer is the whole object (the caller
 * puts it), *ok its "ok".  0, or -1 with a message in err when the line is
 * not an answer.
 */
int	control_parse_answer(const char *line, size_t len,
	    struct json_object **answer, int *ok, char *err, size_t errlen);

#endif
