# SPDX-License-Identifier: ISC
# No gateway protocol: a UDP port kept open with STUN.  Behind a full cone
# the binding is proven reachable (RFC 5780's filtering test with coturn),
# reported "verified", the hook runs, and a WAN host reaches the service
# through it; behind filtering NATs (address-restricted, port-restricted,
# symmetric) it is "filtered", no hook runs and nothing gets in; a NAT
# whose UDP bindings die after 10 s loses the first binding, natmapd keeps
# the next one with keep-alives twice as often and reports the change; a
# gateway that maps the port takes over from the binding.  Behind a router
# behind another NAT, whose WAN address is private (LAB_UPSTREAM=private)
# or looks public but is not what STUN sees (LAB_UPSTREAM=public), the
# binding through both NATs is what is shown.
. "$(dirname "$0")/common.sh"

NATMAPCTL=${NATMAPCTL:-$(dirname "$NATMAPD")/natmapctl}
lab_need_python || { tap_fail "python3 for the status file"; tap_done; exit 1; }
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_stun_start || { tap_fail "coturn starts"; tap_done; exit 1; }
lab_serve_udp 5000 || { tap_fail "a UDP service on the LAN host"; tap_done; exit 1; }
stun="$LAB_STUN_IP:$LAB_STUN_PORT"

it_hook_recorder
# row FIELD: the 5000/udp mapping's FIELD in the status file ("" if none)
row() { status_field 5000/udp "$1"; }
state_is() { [ "$(row state)" = "$1" ]; }
# bound_port: the binding's public port, from natmapd's log ("binding
# 203.0.113.2:P filtered" or "reachable at 203.0.113.2:P")
bound_port() {
	sed -nE "s/.*udp 5000: (reachable at|binding) $LAB_RTR_WAN_IP:([0-9]+).*/\2/p" \
	    "$NM_LOG" | tail -n1
}

# local_port: the binding's local port, from natmapd's debug log
local_port() {
	sed -nE 's/.*udp 5000: keeping a binding from local port ([0-9]+)$/\1/p' "$NM_LOG" | tail -n1
}
# binding_socket: natmapd has the binding's socket open, on a port of 40000-59999
binding_socket() {
	local lp
	lp=$(local_port)
	[ -n "$lp" ] && [ "$lp" -ge 40000 ] && [ "$lp" -le 59999 ] &&
	    lab_lan ss -Hnaup "sport = :$lp" 2>/dev/null | grep -q "pid=$NM_PID,"
}

start() {	# LOG: natmapd with 5000/udp, the lab's coturn, the hook
	rm -f "$LAB_DIR/status.json"
	nm_start lan "$1" -m 5000/udp --stun-server "$stun" --hook "$IT_HOOK"
}

# --- a full cone: verified, reached from the WAN ---
lab_nat_mode cone || tap_fail "the router becomes a full cone"
start fallback-cone.log
if lab_wait 15 state_is verified; then
	ms=$(( $(lab_now_ms) - NM_T0 ))
	tap_ok "full cone: 5000/udp verified $ms ms after the start"
else
	tap_fail "full cone: 5000/udp verified (state '$(row state)')"; nm_diag
fi
port=$(row external_port)
tap_check "full cone: method stun, reachable at the router's WAN address" \
    test "$(row method) $(row reachable) $(row external_address)" = "stun True $LAB_RTR_WAN_IP"
if [ -n "$port" ] && out=$(lab_reach_udp "$LAB_RTR_WAN_IP" "$port"); then
	tap_ok "full cone: a WAN host reaches the service through $LAB_RTR_WAN_IP:$port ($out)"
else
	tap_fail "full cone: a WAN host reaches the service through $LAB_RTR_WAN_IP:${port:-?}"
	nm_diag
fi
case $out in
*"udp 5000 from $LAB_LAN_IP"*) tap_ok "full cone: the service saw the forwarder on the LAN address" ;;
*) tap_fail "full cone: the service saw the forwarder on the LAN address ($out)" ;;
esac
if lab_wait 5 last_run_is "up $LAB_RTR_WAN_IP $port 5000 udp"; then
	tap_ok "full cone: the hook ran up with natmap's arguments"
else
	tap_fail "full cone: the hook ran up $LAB_RTR_WAN_IP $port 5000 udp (last: $(last_run))"
fi
tap_check "full cone: the binding's socket is on a port of 40000-59999" binding_socket
ctl_line=$("$NATMAPCTL" -s "$NM_CTL" status 2>&1 | grep '^5000/udp')
case $ctl_line in
"5000/udp"*" stun "*" verified $LAB_RTR_WAN_IP:$port "*) tap_ok "full cone: natmapctl status: $ctl_line" ;;
*) tap_fail "full cone: natmapctl status shows 5000/udp stun verified at $LAB_RTR_WAN_IP:$port ($ctl_line)" ;;
esac
nm_stop_check "full cone: SIGTERM" 3000
if lab_wait 5 last_run_is "down $LAB_RTR_WAN_IP $port 5000 udp"; then
	tap_ok "full cone: the hook ran down at the exit"
else
	tap_fail "full cone: the hook ran down at the exit (last: $(last_run))"
fi

# --- filtering NATs: filtered, no hook, nothing gets in ---
for mode in restricted default random; do
	lab_nat_mode "$mode" || tap_fail "the router's NAT becomes $mode"
	before=$(hook_runs)
	start "fallback-$mode.log"
	if lab_wait 20 state_is filtered; then
		tap_ok "$mode: 5000/udp filtered"
	else
		tap_fail "$mode: 5000/udp filtered (state '$(row state)')"; nm_diag
	fi
	tap_check "$mode: not reachable, the status says why" \
	    test "$(row reachable)" = False -a -n "$(row error)"
	port=$(bound_port)
	if [ -n "$port" ] && ! lab_reach_udp "$LAB_RTR_WAN_IP" "$port" >/dev/null; then
		tap_ok "$mode: a WAN host does not get through $LAB_RTR_WAN_IP:$port"
	else
		tap_fail "$mode: a WAN host does not get through $LAB_RTR_WAN_IP:${port:-?}"
	fi
	tap_check "$mode: the hook did not run" test "$(hook_runs)" = "$before"
	nm_stop_check "$mode: SIGTERM" 3000
done

# --- bindings that die after 10 s: lost once, then kept ---
lab_nat_mode cone || tap_fail "the router becomes a full cone again"
lab_nat_udp_timeout 10 || tap_fail "the router's UDP bindings live 10 s"
before=$(hook_runs)
start fallback-timeout.log
lab_wait 15 state_is verified || tap_fail "10 s timeout: verified first"
first=$(row external_port)
if nm_wait_log 40 "the NAT dropped an idle UDP binding within 15 s: a keep-alive every 7 s from now" &&
    nm_wait_log 20 "the NAT keeps an idle UDP binding 7 s: a keep-alive every 7 s"; then
	tap_ok "10 s timeout: found with the lifetime test, keep-alives every 7 s"
else
	tap_fail "10 s timeout: found with the lifetime test, keep-alives every 7 s"; nm_diag
fi
lost_at=$(lab_now_ms)
if lab_wait 10 state_is verified; then
	p=$(row external_port)
	tap_ok "10 s timeout: verified again at port $p (was $first)"
else
	tap_fail "10 s timeout: verified again (state '$(row state)')"
fi
# Linux keeps the port when it is free: a change only when it moved
if [ "$p" = "$first" ]; then
	tap_check "10 s timeout: the same endpoint, no hook run" test "$(hook_runs)" = $((before + 1))
elif lab_wait 5 last_run_is "change $LAB_RTR_WAN_IP $p 5000 udp"; then
	tap_ok "10 s timeout: the hook ran change"
else
	tap_fail "10 s timeout: the hook ran change (last: $(last_run))"
fi
# three keep-alive periods past the NAT's timeout: kept, never lost again
t_end=$(( lost_at + 23000 ))
waited() { [ "$(lab_now_ms)" -ge "$t_end" ] || ! state_is verified; }
lab_wait 30 waited
losses=$(grep -c "udp 5000: the binding moved" "$NM_LOG")
if [ "$losses" -le 1 ] && state_is verified && [ "$(row external_port)" = "$p" ] &&
    lab_reach_udp "$LAB_RTR_WAN_IP" "$p" >/dev/null; then
	tap_ok "10 s timeout: 23 s later the binding was not lost again and still reaches the service"
else
	tap_fail "10 s timeout: 23 s later kept and reaching the service (moved $losses times, port '$(row external_port)', state '$(row state)')"
	nm_diag
fi
nm_stop_check "10 s timeout: SIGTERM" 3000
lab_nat_udp_timeout default

# --- a gateway maps the port: the binding gives way ---
lab_router_start || tap_fail "miniupnpd starts"
start fallback-gateway.log
if lab_wait 15 state_is up; then
	tap_ok "with a gateway: 5000/udp up through $(row method)"
else
	tap_fail "with a gateway: 5000/udp up (state '$(row state)')"; nm_diag
fi
tap_check "with a gateway: the method is the gateway's" \
    test "$(row method)" != stun
no_binding_socket() { [ -n "$(local_port)" ] && ! binding_socket; }
if lab_wait 10 no_binding_socket; then
	tap_ok "with a gateway: no binding socket left open"
else
	tap_fail "with a gateway: no binding socket left open"
fi
nm_stop_check "with a gateway: SIGTERM" 5000
lab_down

# --- a gateway behind another NAT: the binding through both is shown ---
LAB_UPSTREAM=private lab_init || { tap_fail "double NAT lab builds"; tap_done; exit 1; }
lab_router_start || tap_fail "double NAT: miniupnpd starts"
lab_stun_start || tap_fail "double NAT: coturn starts"
lab_serve_udp 5000 || tap_fail "double NAT: a UDP service on the LAN host"
lab_nat_mode cone isp || tap_fail "double NAT: the outer NAT becomes a full cone"
lab_nat_mode cone || tap_fail "double NAT: the router becomes a full cone"
start fallback-double.log
if lab_wait 20 state_is verified; then
	tap_ok "double NAT: 5000/udp verified through both NATs"
else
	tap_fail "double NAT: 5000/udp verified (state '$(row state)', method '$(row method)')"; nm_diag
fi
port=$(row external_port)
tap_check "double NAT: shown at the public address, method stun" \
    test "$(row method) $(row external_address)" = "stun $LAB_PUBLIC_IP"
tap_check "double NAT: the router maps the port as well" \
    lab_wait 10 has_rule "^udp dport 5000 dnat to $LAB_LAN_IP:5000$"
if [ -n "$port" ] && out=$(lab_reach_udp "$LAB_PUBLIC_IP" "$port"); then
	tap_ok "double NAT: a WAN host reaches the service through $LAB_PUBLIC_IP:$port"
else
	tap_fail "double NAT: a WAN host reaches the service through $LAB_PUBLIC_IP:${port:-?}"
fi
# SIGHUP, the same ports and servers: the binding stays as it is
kill -HUP "$NM_PID"
nm_wait_log 10 "SIGHUP: configuration reloaded" || tap_fail "double NAT: SIGHUP reloads"
# the reload ran whole before natmapd reads this request: what it did shows
ctl_line=$("$NATMAPCTL" -s "$NM_CTL" status 2>&1 | grep '^5000/udp')
case $ctl_line in
*" stun "*" verified $LAB_PUBLIC_IP:$port "*) kept=1 ;;
*) kept=0 ;;
esac
if [ "$kept" = 1 ] &&
    [ "$(grep -c 'udp 5000: keeping a binding from local port' "$NM_LOG")" = 1 ]; then
	tap_ok "double NAT: after SIGHUP the same binding, still verified at port $port"
else
	tap_fail "double NAT: after SIGHUP the same binding ($ctl_line)"; nm_diag
fi
# another UDP port: the bindings are made again, beside the gateway
printf 'map 5001/udp\n' >"$NM_CONF"
kill -HUP "$NM_PID"
two() { [ "$(grep -c 'keeping a binding from local port' "$NM_LOG")" -ge 3 ]; }
if lab_wait 10 two && lab_wait 15 state_is verified &&
    [ "$(row external_address)" = "$LAB_PUBLIC_IP" ]; then
	tap_ok "double NAT: after a SIGHUP with another port, 5000/udp kept and verified again"
else
	tap_fail "double NAT: after a SIGHUP with another port, 5000/udp verified again (state '$(row state)')"; nm_diag
fi
: >"$NM_CONF"
nm_stop_check "double NAT: SIGTERM" 5000
lab_down

# --- a NAT upstream that only STUN shows: the router's address looks public ---
LAB_UPSTREAM=public lab_init || { tap_fail "hidden double NAT lab builds"; tap_done; exit 1; }
lab_router_start || tap_fail "hidden double NAT: miniupnpd starts"
lab_stun_start || tap_fail "hidden double NAT: coturn starts"
lab_serve_udp 5000 || tap_fail "hidden double NAT: a UDP service on the LAN host"
lab_nat_mode cone isp || tap_fail "hidden double NAT: the outer NAT becomes a full cone"
lab_nat_mode cone || tap_fail "hidden double NAT: the router becomes a full cone"
start fallback-hidden.log
gw() {	# FIELD of the status file's gateway object
	python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))["gateway"].get(sys.argv[2]); print("" if v is None else v)' \
	    "$LAB_DIR/status.json" "$1" 2>/dev/null
}
if lab_wait 20 state_is verified; then
	tap_ok "hidden double NAT: 5000/udp verified through both NATs"
else
	tap_fail "hidden double NAT: 5000/udp verified (state '$(row state)', method '$(row method)')"; nm_diag
fi
tap_check "hidden double NAT: the gateway reports $LAB_RTR_WAN_IP, STUN sees $LAB_PUBLIC_IP: behind a NAT" \
    test "$(gw external_address) $(gw stun_address) $(gw behind_nat)" = "$LAB_RTR_WAN_IP $LAB_PUBLIC_IP True"
port=$(row external_port)
tap_check "hidden double NAT: shown at the public address, method stun" \
    test "$(row method) $(row external_address)" = "stun $LAB_PUBLIC_IP"
if [ -n "$port" ] && out=$(lab_reach_udp "$LAB_PUBLIC_IP" "$port"); then
	tap_ok "hidden double NAT: a WAN host reaches the service through $LAB_PUBLIC_IP:$port"
else
	tap_fail "hidden double NAT: a WAN host reaches the service through $LAB_PUBLIC_IP:${port:-?}"
fi
nm_stop_check "hidden double NAT: SIGTERM" 5000
unset LAB_UPSTREAM
tap_done
