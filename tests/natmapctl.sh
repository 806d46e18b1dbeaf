#!/bin/bash
# SPDX-License-Identifier: ISC
# natmapctl.sh - natmapctl against a scripted control socket: what it sends,
# how it prints the answers, its exit statuses (TAP).  The real daemon's
# side is tests/unit/test-control.c and tests/integration/control.sh.
# Environment: NATMAPCTL and SRCDIR, as set by "make check".

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${NATMAPCTL:=$SRCDIR/src/natmapctl}"
. "$SRCDIR/tests/tap.sh"

if [ ! -x "$NATMAPCTL" ]; then
	echo "1..0 # SKIP no natmapctl binary at $NATMAPCTL"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapctl.XXXXXX") || exit 1
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

SOCK=$tmp/control
OUT=$tmp/stdout
ERR=$tmp/stderr
RC=0

# ctl ARG...: natmapctl on the fake socket; status in $RC, output in $OUT and $ERR.
ctl() {
	"$NATMAPCTL" -s "$SOCK" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

what() {
	printf 'natmapctl %s\nexit status %s\n' "$*" "$RC"
	[ -s "$OUT" ] && { echo "stdout:"; cat "$OUT"; }
	[ -s "$ERR" ] && { echo "stderr:"; cat -v "$ERR"; }
	return 0
}

# expect DESC STATUS NEEDLE ARG...: exit STATUS, and NEEDLE (fixed string)
# in stdout or stderr; an empty NEEDLE wants both empty.
expect() {
	local desc=$1 want=$2 needle=$3
	shift 3
	ctl "$@"
	if [ "$RC" -ne "$want" ]; then
		tap_fail "$desc: exit $want" "$(what "$@")"
	elif [ -z "$needle" ] && { [ -s "$OUT" ] || [ -s "$ERR" ]; }; then
		tap_fail "$desc: says nothing" "$(what "$@")"
	elif [ -n "$needle" ] && ! grep -qF -- "$needle" "$OUT" "$ERR"; then
		tap_fail "$desc: says \"$needle\"" "$(what "$@")"
	else
		tap_ok "$desc: exit $want${needle:+, \"$needle\"}"
	fi
}

# ---- no daemon needed ----
ctl -h
if [ "$RC" -eq 0 ] && grep -q '^usage: natmapctl' "$OUT" && grep -q 'wait SPEC' "$OUT"; then
	tap_ok "-h: the usage on stdout, exit 0"
else
	tap_fail "-h: the usage on stdout, exit 0" "$(what -h)"
fi
expect "no command" 2 "usage: natmapctl"
expect "unknown command" 2 "frobnicate: unknown command" frobnicate
expect "add without a spec" 2 "add: which mapping?" add
expect "add with a bad spec" 2 "add 8080: missing /tcp or /udp" add 8080
expect "wait for a range" 2 "wait 1-2/tcp: one port, not a range" wait 1-2/tcp
expect "expose without a spec" 2 "expose: which service? (NAME=ADDRESS:PORT/tcp|udp" expose
expect "connect without NAME=" 2 \
    'connect: "alpha" is not NODE/NAME=[ADDRESS:]PORT[/PROTO]' connect alpha
expect "expose with a host name" 2 'expose: "localhost:80" is not ADDRESS:PORT' \
    expose web=localhost:80/tcp
expect "unexpose of NODE/NAME" 2 'unexpose: "alpha/web" is not a service name' \
    unexpose alpha/web
expect "disconnect of a bare name" 2 'disconnect: "web" is not NODE/NAME' \
    disconnect web
expect "expose: a spec past 640 bytes" 2 "expose aaaaaaaa" \
    expose "$(printf 'a%.0s' $(seq 641))"
expect "expose: two specs" 2 "unexpected argument" \
    expose a=192.168.1.1:1/tcp b=192.168.1.1:2/tcp
expect "wait with a bad timeout" 2 "--timeout 1m: seconds, 0 to 86400" \
    wait 1/tcp --timeout 1m
expect "wait with a timeout past a day" 2 "--timeout 86401" \
    wait 1/tcp --timeout=86401
expect "status with an unknown option" 2 "status --bogus: unexpected argument" \
    status --bogus
expect "check with an argument" 2 "check 1/tcp: unexpected argument" \
    check 1/tcp
expect "no natmapd on the socket" 3 "(is natmapd running?)" status
: >"$SOCK"
expect "a file, not a socket" 3 "$SOCK: Connection refused" status
rm -f "$SOCK"

if ! command -v python3 >/dev/null 2>&1; then
	tap_skip "natmapctl against a scripted socket" "python3 is not installed"
	tap_done
fi

# ---- a scripted natmapd: one answer per connection, requests logged ----
cat >"$tmp/fake.py" <<'EOF'
import json, os, socket, sys, time

path, log = sys.argv[1], sys.argv[2]
now = int(time.time())
status = {
    "version": 1, "pid": 4242,
    "gateway": {"found": True, "method": "pcp", "address": "192.168.1.1",
                "where": "192.168.1.1:5351",
                "external_address": "203.0.113.7", "since": now - 7500},
    "mappings": [
        {"spec": "8080/tcp", "protocol": "tcp", "method": "pcp",
         "state": "up", "reachable": True,
         "internal_address": "192.168.1.10", "internal_port": 8080,
         "external_address": "203.0.113.7", "external_port": 40211,
         "lease": 7200, "renew_in": 3552, "since": now - 3725,
         "error": None, "runtime": False},
        {"spec": "5353:15353/udp", "protocol": "udp", "method": None,
         "state": "retrying", "reachable": False,
         "internal_address": "192.168.1.10", "internal_port": 5353,
         "external_address": None, "external_port": None,
         "lease": None, "renew_in": 42, "since": None,
         "error": "refused: \u001b[31mNOT_AUTHORIZED", "runtime": True},
    ],
    "services": [
        {"kind": "expose", "spec": "web=192.168.1.10:80/tcp@beta",
         "runtime": False},
        {"kind": "connect", "spec": "alpha/dns=127.0.0.1:5353/udp\u001b",
         "runtime": True},
        {"kind": "connect", "spec": "alpha/ssh=127.0.0.1:2222/tcp relay=never",
         "runtime": False, "relay_refused_streams": 1,
         "relay_refused_datagrams": 0,
         "relay_refused": "connect alpha/ssh: relay=never\u001b"},
    ],
    "counters": {"requests": 12, "answers": 11, "failures": 1,
                 "renewals": 3, "address_changes": 0},
}
answers = {
    "status": {"ok": True, "status": status},
    "check": {"ok": True},
    "reload": {"ok": False, "code": "failed",
               "error": "configuration not changed: natmapd.conf:3: "
                        "unknown keyword \"mapp\""},
    "add": {"ok": False, "code": "unsupported",
            "error": "add: not supported yet"},
    "expose": {"ok": True},
    "unexpose": {"ok": True},
    "connect": {"ok": False, "code": "failed",
                "error": "connect alpha/web: name in use "
                         "(alpha/web=127.0.0.1:8080/tcp, added at run time)"},
    "disconnect": {"ok": False, "code": "failed",
                   "error": "no such service: nothing connected as alpha/ssh"},
}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
while True:
    c, _ = s.accept()
    line = c.makefile("rb").readline()
    with open(log, "ab") as f:
        f.write(line)
    req = json.loads(line)
    cmd, spec = req["command"], req.get("spec")
    if cmd == "wait" and spec == "8080/tcp":
        ans = {"ok": True, "mapping": status["mappings"][0]}
    elif cmd == "wait" and spec == "9/udp":
        ans = {"ok": False, "code": "timeout",
               "error": "9/udp: not reachable after 1 s"}
    elif cmd == "wait" and spec == "7/tcp":
        c.close()
        continue
    elif cmd == "wait" and spec == "6/tcp":
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n")
        c.close()
        continue
    else:
        ans = answers[cmd]
    with open(os.path.join(os.path.dirname(log), "sent.json"), "w") as f:
        json.dump(ans, f)
    c.sendall(json.dumps(ans).encode() + b"\n")
    c.close()
EOF
python3 "$tmp/fake.py" "$SOCK" "$tmp/requests" 2>"$tmp/fake.err" &
FAKE_PID=$!
for _ in $(seq 100); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
[ -S "$SOCK" ] || { tap_fail "the scripted socket is up" "$(cat "$tmp/fake.err")"; tap_done; }

# last_request: the line natmapctl sent last.
last_request() { tail -n 1 "$tmp/requests"; }

ctl status
cat >"$tmp/want" <<'EOF'
gateway 192.168.1.1 (pcp, 192.168.1.1:5351) for 2h05
external address 203.0.113.7
SPEC            METHOD STATE    PUBLIC                LEASE RENEW SINCE  ERROR
8080/tcp        pcp    up       203.0.113.7:40211      2h00 59m12  1h02  -
5353:15353/udp  -      retrying -                         -   42s     -  refused: \x1b[31mNOT_AUTHORIZED
expose web=192.168.1.10:80/tcp@beta
connect alpha/dns=127.0.0.1:5353/udp\x1b (run time)
connect alpha/ssh=127.0.0.1:2222/tcp relay=never; kept off the relay: 1 stream, 0 datagrams (connect alpha/ssh: relay=never\x1b)
requests 12, answers 11, failures 1, renewals 3, address changes 0
EOF
if [ "$RC" -eq 0 ] && diff -u "$tmp/want" "$OUT" >"$tmp/diff"; then
	tap_ok "status: the gateway, a line a mapping, the counters; escaped"
else
	tap_fail "status: the gateway, a line a mapping, the counters; escaped" \
	    "$(what status)" "$(cat "$tmp/diff")"
fi
if [ "$(last_request)" = '{"command":"status"}' ]; then
	tap_ok "status: sends {\"command\":\"status\"}"
else
	tap_fail "status: sends {\"command\":\"status\"}" "sent: $(last_request)"
fi
if awk 'length > 80 && !/\\x1b/ { exit 1 }' "$OUT"; then
	tap_ok "status: lines fit 80 columns (but for a long error)"
else
	tap_fail "status: lines fit 80 columns" "$(cat "$OUT")"
fi

ctl status --json
if [ "$RC" -eq 0 ] && python3 -c '
import json, sys
got = json.load(open(sys.argv[1]))
sent = json.load(open(sys.argv[2]))["status"]
sys.exit(0 if got == sent else 1)' "$OUT" "$tmp/sent.json"; then
	tap_ok "status --json: the daemon's object as it is"
else
	tap_fail "status --json: the daemon's object as it is" "$(what status --json)"
fi

expect "check" 0 "" check
expect "reload refused: the daemon's reason" 1 \
    'natmapctl: configuration not changed: natmapd.conf:3: unknown keyword "mapp"' \
    reload
expect "add: not supported yet" 1 "natmapctl: add: not supported yet" \
    add 8080:18080/tcp
if [ "$(last_request)" = '{"command":"add","spec":"8080:18080/tcp"}' ]; then
	tap_ok "add: sends the spec"
else
	tap_fail "add: sends the spec" "sent: $(last_request)"
fi
expect "expose" 0 "" expose web=192.168.1.10:80/tcp@beta
if [ "$(last_request)" = '{"command":"expose","spec":"web=192.168.1.10:80/tcp@beta"}' ]; then
	tap_ok "expose: sends the spec"
else
	tap_fail "expose: sends the spec" "sent: $(last_request)"
fi
expect "expose with relay= as its own argument" 0 "" expose \
    web=192.168.1.10:80/tcp@beta relay=never
if [ "$(last_request)" = '{"command":"expose","spec":"web=192.168.1.10:80/tcp@beta relay=never"}' ]; then
	tap_ok "expose SPEC relay=never: sends the spec and the word"
else
	tap_fail "expose SPEC relay=never: sends the spec and the word" "sent: $(last_request)"
fi
expect "expose with relay=sometimes" 2 \
    "expose web: relay=sometimes: expected fallback, never or always" \
    expose web=192.168.1.10:80/tcp relay=sometimes
expect "connect with a word that is not relay=" 2 "unexpected argument" \
    connect alpha/web=8080/tcp never
expect "unexpose" 0 "" unexpose web
if [ "$(last_request)" = '{"command":"unexpose","spec":"web"}' ]; then
	tap_ok "unexpose: sends the name"
else
	tap_fail "unexpose: sends the name" "sent: $(last_request)"
fi
expect "connect refused: the daemon's reason" 1 \
    "natmapctl: connect alpha/web: name in use (alpha/web=127.0.0.1:8080/tcp, added at run time)" \
    connect alpha/web=8080/tcp
if [ "$(last_request)" = '{"command":"connect","spec":"alpha/web=8080/tcp"}' ]; then
	tap_ok "connect: sends the spec as given"
else
	tap_fail "connect: sends the spec as given" "sent: $(last_request)"
fi
expect "disconnect refused: no such service" 1 \
    "natmapctl: no such service: nothing connected as alpha/ssh" disconnect alpha/ssh
if [ "$(last_request)" = '{"command":"disconnect","spec":"alpha/ssh"}' ]; then
	tap_ok "disconnect: sends NODE/NAME"
else
	tap_fail "disconnect: sends NODE/NAME" "sent: $(last_request)"
fi
expect "wait: prints address:port" 0 "203.0.113.7:40211" wait 8080/tcp
if [ "$(cat "$OUT")" = "203.0.113.7:40211" ] &&
    [ "$(last_request)" = '{"command":"wait","spec":"8080/tcp"}' ]; then
	tap_ok "wait: that line only; no timeout sent without --timeout"
else
	tap_fail "wait: that line only; no timeout sent without --timeout" \
	    "$(what wait 8080/tcp)" "sent: $(last_request)"
fi
expect "wait timed out" 4 "natmapctl: 9/udp: not reachable after 1 s" \
    wait --timeout 1 9/udp
if [ "$(last_request)" = '{"command":"wait","spec":"9\/udp","timeout":1}' ] ||
    [ "$(last_request)" = '{"command":"wait","spec":"9/udp","timeout":1}' ]; then
	tap_ok "wait --timeout: sent as \"timeout\""
else
	tap_fail "wait --timeout: sent as \"timeout\"" "sent: $(last_request)"
fi
expect "the connection closed without an answer" 3 \
    "natmapd closed the connection without an answer" wait 7/tcp
expect "an answer that is not one" 3 "answer not JSON" wait 6/tcp

tap_done
