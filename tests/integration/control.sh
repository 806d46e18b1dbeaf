# SPDX-License-Identifier: ISC
# natmapctl and the control socket: status --json says what a WAN host reaches;
# wait, check and reload are answered; add and remove at run time, reached and
# gone from the WAN; 100 idle clients, garbage, an over-long line and a client
# that never reads do not stop a renewal.
. "$(dirname "$0")/common.sh"

NATMAPCTL=${NATMAPCTL:-$(dirname "$NATMAPD")/natmapctl}
if [ ! -x "$NATMAPCTL" ]; then
	echo "1..0 # SKIP no natmapctl binary at $NATMAPCTL"
	exit 0
fi
lab_need_python || { tap_fail "python3 for the clients"; tap_done; exit 1; }
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 5353
lab_serve_tcp 7000
lab_serve_udp 7100
RENEW_LIMIT=50		# s to the next renewal (PCP: 30..37.5 s after the last)

# A UNIX socket is a file: natmapctl reaches it from any namespace.
ctl() { "$NATMAPCTL" -s "$CTL" "$@"; }
# json_get EXPR: a Python expression over s, the object status --json prints
json_get() {
	ctl status --json 2>/dev/null | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1" 2>/dev/null
}
map_get() { json_get "[m for m in s['mappings'] if m['spec'] == '$1'][0]['$2']"; }
# refused DESC NEEDLE ARG...: natmapctl ARG... exits 1 with NEEDLE in its message
refused() {
	local desc=$1 needle=$2 out rc
	shift 2
	out=$(ctl "$@" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$needle" <<<"$out"; then
		tap_ok "$desc: exit 1, \"$out\""
	else
		tap_fail "$desc: exit 1, \"$needle\"" "exit $rc: $out"
	fi
}
up_at() {	# up_at SPEC PORT: up, reachable, at the router's WAN address and PORT
	[ "$(map_get "$1" state)" = up ] &&
	    [ "$(map_get "$1" reachable)" = True ] &&
	    [ "$(map_get "$1" external_address)" = "$LAB_RTR_WAN_IP" ] &&
	    [ "$(map_get "$1" external_port)" = "$2" ]
}

nm_start lan natmapd.log -m 8080/tcp -m 5353:15353/udp --protocol pcp \
    --lease 60
CTL=$NM_CTL
tap_check "the control socket is there, mode 0660" \
    lab_wait 10 eval '[ -S "$CTL" ] && [ "$(stat -c %a "$CTL")" = 660 ]'
tap_check "tcp 8080 reached from the WAN" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "status --json: 8080/tcp up at the endpoint the WAN reached" \
    lab_wait 5 up_at 8080/tcp 8080
tap_check "udp 5353 reached from the WAN as 15353" \
    lab_wait 10 lab_reach_udp "$LAB_RTR_WAN_IP" 15353
tap_check "status --json: 5353:15353/udp up at 15353" \
    lab_wait 5 up_at 5353:15353/udp 15353
tap_check "status --json: the gateway, through PCP, at the router's LAN address" \
    eval '[ "$(json_get "s[\"gateway\"][\"method\"]")" = pcp ] &&
	[ "$(json_get "s[\"gateway\"][\"address\"]")" = "$LAB_RTR_LAN_IP" ]'
out=$(ctl status 2>&1)
if grep -Eq "^8080/tcp +pcp +up +$LAB_RTR_WAN_IP:8080 " <<<"$out" &&
    grep -Eq "^5353:15353/udp +pcp +up +$LAB_RTR_WAN_IP:15353 " <<<"$out"; then
	tap_ok "status: a line a mapping, up at the endpoints reached"
else
	tap_fail "status: a line a mapping, up at the endpoints reached" "$out"
fi
out=$(ctl wait 8080/tcp --timeout 5 2>&1)
if [ "$out" = "$LAB_RTR_WAN_IP:8080" ]; then
	tap_ok "wait 8080/tcp: $out at once"
else
	tap_fail "wait 8080/tcp: $LAB_RTR_WAN_IP:8080 at once" "got: $out"
fi
refused "wait for a mapping natmapd does not hold" "no mapping 9999/tcp" \
    wait 9999/tcp --timeout 1

ctl check >"$LAB_DIR/ctl.out" 2>&1
rc=$?
tap_check "check: answered, exit 0" test "$rc" = 0
tap_check "check: natmapd probes again, as for SIGUSR1" \
    nm_wait_log 5 "^control socket: check$"

# reload: a new mapping, and wait for it
printf 'map 7000/tcp\n' >"$NM_CONF"
ctl reload >"$LAB_DIR/ctl.out" 2>&1
rc=$?
tap_check "reload: answered, exit 0" test "$rc" = 0
out=$(ctl wait 7000/tcp --timeout 20 2>&1)
if [ "$out" = "$LAB_RTR_WAN_IP:7000" ]; then
	tap_ok "wait 7000/tcp after the reload: $out"
else
	tap_fail "wait 7000/tcp after the reload: $LAB_RTR_WAN_IP:7000" \
	    "got: $out"
fi
tap_check "and a WAN host reaches it" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 7000
printf 'mapp 7000/tcp\n' >"$NM_CONF"
refused "reload of a broken file" 'unknown keyword "mapp"' reload
printf 'map 7000/tcp\n' >"$NM_CONF"

# add and remove at run time
out=$(ctl add 7100:17100/udp 2>&1)
tap_check "add 7100:17100/udp: exit 0" test $? = 0 -a -z "$out"
out=$(ctl wait 7100/udp --timeout 20 2>&1)
if [ "$out" = "$LAB_RTR_WAN_IP:17100" ]; then
	tap_ok "wait 7100/udp: $out"
else
	tap_fail "wait 7100/udp: $LAB_RTR_WAN_IP:17100" "got: $out"
fi
tap_check "a WAN host reaches it at 17100" \
    lab_wait 10 lab_reach_udp "$LAB_RTR_WAN_IP" 17100
tap_check "status --json: up, added at run time" \
    eval '[ "$(map_get 7100:17100/udp runtime)" = True ] &&
	up_at 7100:17100/udp 17100'
tap_check "and in the state file" \
    lab_wait 5 grep -q "^map pcp udp 7100 17100 " "$LAB_DIR/natmapd.state"
refused "add of a port mapped already" "mapped already" add 7000/tcp
refused "remove of a configured mapping" "in the configuration file" \
    remove 8080/tcp
kill -HUP "$NM_PID"
tap_check "SIGHUP keeps it" \
    eval 'nm_wait_log 10 "^SIGHUP: configuration reloaded" &&
	[ "$(map_get 7100:17100/udp runtime)" = True ] &&
	lab_reach_udp "$LAB_RTR_WAN_IP" 17100 >/dev/null'
out=$(ctl remove 7100:17100/udp 2>&1)
tap_check "remove 7100:17100/udp: exit 0" test $? = 0 -a -z "$out"
tap_check "gone from the router" lab_wait 10 no_rule_for 17100
tap_check "no longer reached from the WAN" \
    eval '! lab_reach_udp "$LAB_RTR_WAN_IP" 17100 >/dev/null'
tap_check "and gone from the status" \
    lab_wait 5 eval '[ -z "$(map_get 7100:17100/udp spec)" ]'

# a second natmapd on the same socket does not start
lab_lan timeout 10 "$NATMAPD" -f -c "$NM_CONF" --state-file \
    "$LAB_DIR/second.state" --status-file none --control "$CTL" -m 9/tcp \
    </dev/null >"$LAB_DIR/second.log" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "another natmapd answers there" "$LAB_DIR/second.log"; then
	tap_ok "a second natmapd on the socket: exit 1, \"$(head -n 1 "$LAB_DIR/second.log")\""
else
	tap_fail "a second natmapd on the socket: exit 1" "exit $rc" \
	    "$(cat "$LAB_DIR/second.log")"
fi
tap_check "the first one still answers" eval 'ctl status >/dev/null'

# ---- abuse while the renewal is due ----
cat >"$LAB_DIR/abuse.py" <<'PY'
import os, socket, sys, time

path, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
n = {"connects": 0, "busy": 0, "dropped": 0, "garbage_answers": 0,
     "hog_sent": 0, "hog_dropped": 0, "long_closed": 0}

def connect():
    """Connected once the backlog has room (natmapd takes 8 a round)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    end = time.monotonic() + 10
    while True:
        try:
            s.connect(path)
            break
        except BlockingIOError:
            if time.monotonic() > end:
                raise
            time.sleep(0.01)
    n["connects"] += 1
    return s

def gone(s):
    """Read what came; True once natmapd closed it."""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return True
            n["busy"] += b.count(b'"code":"busy"')
            n["dropped"] += b.count(b'"code":"idle"')
    except BlockingIOError:
        return False
    except OSError:
        return True

def too_long():
    """A line with no end: told so, then closed."""
    s = connect()
    s.setblocking(True)
    s.settimeout(5)
    got = b""
    try:
        s.sendall(b"x" * 6000)
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    return b'"code":"too-long"' in got

hog = connect()
garbage = connect()
n["long_closed"] += too_long()
def report():
    """The counts so far, whole: the test polls them."""
    with open(out + ".tmp", "w") as f:
        f.write(" ".join("%s=%d" % kv for kv in sorted(n.items())) + "\n")
    os.rename(out + ".tmp", out)

idle = [connect() for _ in range(100)]
while not os.path.exists(stop):
    # 100 clients that say nothing: those closed come back
    for i, s in enumerate(idle):
        if gone(s):
            s.close()
            idle[i] = connect()
    # a client that asks for the status and never reads
    try:
        hog.send(b'{"command":"status"}\n' * 20)
        n["hog_sent"] += 20
    except BlockingIOError:
        pass
    except OSError:
        # refused for want of room (a busy line), or dropped for not reading
        try:
            first = hog.recv(64)
        except OSError:
            first = b""
        if b'"code":"busy"' not in first:
            n["hog_dropped"] += 1
        hog.close()
        hog = connect()
    # garbage, and a line with no end
    try:
        garbage.send(b'\x16\x03\x01 GET / HTTP/1.1 {"command":[[[\n')
        b = garbage.recv(65536)
        n["garbage_answers"] += b.count(b'"code":"bad-request"')
        if not b:
            raise OSError
    except BlockingIOError:
        pass
    except OSError:
        garbage.close()
        garbage = connect()
    report()
    time.sleep(0.2)
report()
PY
rm -f "$LAB_DIR/abuse.stop"
renewals() { grep -c "^tcp 8080 renewed, lease 60s$" "$NM_LOG"; }
R0=$(renewals)
EXP0=$(lease_expiry tcp 8080)
ABUSE=$(lab_now_ms)
python3 "$LAB_DIR/abuse.py" "$CTL" "$LAB_DIR/abuse.stop" "$LAB_DIR/abuse.out" \
    2>"$LAB_DIR/abuse.err" &
abuse=$!
it_on_exit "kill $abuse 2>/dev/null"
# the next renewal, natmapd's word and the router's lease, both
renewed() {
	local e
	[ "$(renewals)" -gt "$R0" ] &&
	    e=$(lease_expiry tcp 8080) && [ -n "$EXP0" ] && [ "$e" -ge $((EXP0 + 15)) ]
}
if lab_wait "$RENEW_LIMIT" renewed; then
	tap_ok "renewed during the abuse, the router's lease too, $(( ($(lab_now_ms) - ABUSE) / 1000 )) s after it began (limit $RENEW_LIMIT s)"
else
	tap_fail "renewed during the abuse within $RENEW_LIMIT s" \
	    "lease: $(lease_of tcp 8080), expiry before: $EXP0" "$(nm_diag)"
fi
tap_check "still reached from the WAN after the renewal" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
# the client that never reads fills 1 MiB of answers and more: on a busy
# machine that may take longer than the renewal
get_stat() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" "$LAB_DIR/abuse.out" 2>/dev/null; }
lab_wait 90 eval '[ "$(get_stat hog_dropped)" -ge 1 ] 2>/dev/null'
touch "$LAB_DIR/abuse.stop"
lab_wait 20 eval '! kill -0 '"$abuse"' 2>/dev/null'
stats=$(cat "$LAB_DIR/abuse.out" 2>/dev/null)
tap_diag "abuse: ${stats:-no figures}" "$(cat "$LAB_DIR/abuse.err")"
if [ "$(get_stat busy)" -ge 68 ] 2>/dev/null; then
	tap_ok "clients past 32 were told busy ($(get_stat busy) times)"
else
	tap_fail "clients past 32 were told busy" "$stats"
fi
if [ "$(get_stat garbage_answers)" -ge 1 ] 2>/dev/null &&
    [ "$(get_stat long_closed)" -ge 1 ] 2>/dev/null; then
	tap_ok "garbage got errors, an over-long line was told so and closed"
else
	tap_fail "garbage got errors, an over-long line was told so and closed" "$stats"
fi
if [ "$(get_stat hog_dropped)" -ge 1 ] 2>/dev/null; then
	tap_ok "a client that never reads was dropped ($(get_stat hog_dropped) times)"
else
	tap_fail "a client that never reads was dropped" "$stats"
fi
tap_check "natmapd answers once they are gone" \
    lab_wait 10 eval 'ctl status >/dev/null 2>&1'
tap_check "and 8080/tcp is still up in the status" up_at 8080/tcp 8080

# a slow router (a loaded machine) is given its time to answer the deletes
nm_stop_check "SIGTERM" 10000
tap_check "the control socket is gone after SIGTERM" test ! -e "$CTL"
ctl status >/dev/null 2>&1
tap_check "natmapctl then: exit 3" test $? = 3
tap_done
