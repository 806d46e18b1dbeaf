# SPDX-License-Identifier: ISC
# No gateway protocol: a TCP port kept open with a connection to
# natmapd-rendezvous, proven by its dial-back (REACH).  Behind a full cone
# the rendezvous connects to the binding's public endpoint from its other
# address, the listener hands it the REACH's nonce: "verified", the hook
# runs and a WAN host reaches the TCP service through the binding; behind
# filtering NATs (address-restricted, port-restricted, symmetric) the
# dial-back is refused: "filtered", no hook, nobody gets in.  The
# connection reset by the server is made again from the same local port
# and the endpoint proven again, as after the router's WAN address
# changed.  With only a STUN server (coturn over
# TCP) the endpoint is known but "unverified": no dial-back, no hook.
# fallback-ports picks the local port.  The rendezvous is the STUN server
# of the UDP bindings when no stun-server is given.  With fallback-mode
# bind the binding is kept from the service's own port (SO_REUSEPORT);
# --fallback-idle closes a forwarded connection that carries nothing.
. "$(dirname "$0")/common.sh"

it_need_rdv
lab_need_python || { tap_fail "python3 for the status file"; tap_done; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-fbtcp.XXXXXX") || exit 1
it_on_exit "rm -rf '$tmp'"
(umask 077 && "$NATMAPD" --keygen >"$tmp/home.key")
echo "home $("$NATMAPD" --server-key "$tmp/home.key")" >"$tmp/nets"
chmod 600 "$tmp/nets"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_rendezvous_start --networks "$tmp/nets" ||
    { tap_fail "natmapd-rendezvous starts"; tap_done; exit 1; }
it_on_exit lab_rendezvous_stop
lab_stun_start || { tap_fail "coturn starts"; tap_done; exit 1; }
lab_serve_tcp 8080 || { tap_fail "a TCP service on the LAN host"; tap_done; exit 1; }
lab_serve_udp 5000 || { tap_fail "a UDP service on the LAN host"; tap_done; exit 1; }

it_hook_recorder
# row FIELD: the 8080/tcp mapping's FIELD in the status file ("" if none)
row() { status_field 8080/tcp "$1"; }
spec_verified() { [ "$(status_field "$1" state)" = verified ]; }
state_is() { [ "$(row state)" = "$1" ]; }
# local_port: the binding's local port, from natmapd's debug log
local_port() {
	sed -nE 's/.*tcp 8080: keeping a binding from local port ([0-9]+)$/\1/p' \
	    "$NM_LOG" | tail -n1
}
# the binding's connection to the rendezvous, from local_port
bound_conn() {
	lab_lan ss -Hnt state established "sport = :$(local_port)" \
	    "dport = :$LAB_RDV_PORT" 2>/dev/null | grep -q .
}

cat >"$LAB_DIR/rdv.conf" <<EOF
rendezvous $LAB_RDV_IP
network home
key-file $tmp/home.key
node web.lan
EOF
start() {	# LOG [options]: natmapd with 8080/tcp, the rendezvous, the hook
	local log=$1
	shift
	rm -f "$LAB_DIR/status.json"
	cp "$LAB_DIR/rdv.conf" "$LAB_DIR/natmapd.conf"
	nm_start lan "$log" -m 8080/tcp --hook "$IT_HOOK" "$@"
}

# --- a full cone: verified by the dial-back, reached from the WAN ---
lab_nat_mode cone || tap_fail "the router becomes a full cone"
# 8082: a service that accepts and says nothing (for --fallback-idle)
lab_bg serve-lan-tcp-8082 "$LAB_NS_LAN" socat TCP4-LISTEN:8082,reuseaddr,fork \
    "SYSTEM:sleep 30"
lab_wait 5 lab_listening "$LAB_NS_LAN" tcp 8082 || tap_fail "a silent TCP service on the LAN host"
start fbtcp-cone.log --fallback-ports 41000-41009 -m 5000/udp -m 8082/tcp \
    --fallback-idle 2
if lab_wait 20 state_is verified; then
	tap_ok "full cone: 8080/tcp verified $(( $(lab_now_ms) - NM_T0 )) ms after the start"
else
	tap_fail "full cone: 8080/tcp verified (state '$(row state)', $(row error))"
	nm_diag
fi
port=$(row external_port)
tap_check "full cone: method stun, reachable at the router's WAN address" \
    test "$(row method) $(row reachable) $(row external_address)" = "stun True $LAB_RTR_WAN_IP"
lp=$(local_port)
tap_check "full cone: the local port ($lp) is from --fallback-ports 41000-41009" \
    test -n "$lp" -a "${lp:-0}" -ge 41000 -a "${lp:-0}" -le 41009
tap_check "full cone: a connection from that port to the rendezvous keeps the binding" bound_conn
tap_check "full cone: the rendezvous dialled back and read the nonce" \
    grep -qE "REACH .* tcp port $port: reached" "$LAB_DIR/rendezvous.log"
if [ -n "$port" ] && out=$(lab_reach_tcp "$LAB_RTR_WAN_IP" "$port"); then
	tap_ok "full cone: a WAN host reaches the service through $LAB_RTR_WAN_IP:$port ($out)"
else
	tap_fail "full cone: a WAN host reaches the service through $LAB_RTR_WAN_IP:${port:-?}"
	nm_diag
fi
case $out in
*"tcp 8080 from $LAB_LAN_IP"*) tap_ok "full cone: the service saw the forwarder on the LAN address" ;;
*) tap_fail "full cone: the service saw the forwarder on the LAN address ($out)" ;;
esac
if lab_wait 5 hook_ran "up $LAB_RTR_WAN_IP $port 8080 tcp"; then
	tap_ok "full cone: the hook ran up with natmap's arguments"
else
	tap_fail "full cone: the hook ran up $LAB_RTR_WAN_IP $port 8080 tcp (last: $(last_run))"
fi
ctl_line=$("$NATMAPCTL" -s "$NM_CTL" status 2>&1 | grep '^8080/tcp')
case $ctl_line in
"8080/tcp"*" stun "*" verified $LAB_RTR_WAN_IP:$port "*) tap_ok "full cone: natmapctl status: $ctl_line" ;;
*) tap_fail "full cone: natmapctl status shows 8080/tcp stun verified at $LAB_RTR_WAN_IP:$port ($ctl_line)" ;;
esac

# the rendezvous alone is the STUN server of the UDP bindings too
if lab_wait 10 spec_verified 5000/udp; then
	uport=$(status_field 5000/udp external_port)
	tap_ok "full cone: 5000/udp verified with the rendezvous as STUN server (port $uport)"
else
	tap_fail "full cone: 5000/udp verified with the rendezvous as STUN server ($(status_field 5000/udp state))"
fi
if [ -n "${uport:-}" ] && lab_reach_udp "$LAB_RTR_WAN_IP" "$uport" >/dev/null; then
	tap_ok "full cone: a WAN host reaches the UDP service through $LAB_RTR_WAN_IP:$uport"
else
	tap_fail "full cone: a WAN host reaches the UDP service through $LAB_RTR_WAN_IP:${uport:-?}"
fi

# --fallback-idle 2: a forwarded connection that carries nothing is closed
if lab_wait 15 spec_verified 8082/tcp; then
	iport=$(status_field 8082/tcp external_port)
	t0=$(lab_now_ms)
	lab_wan timeout 10 socat -u "TCP4:$LAB_RTR_WAN_IP:$iport,connect-timeout=2" - >/dev/null 2>&1
	took=$(( $(lab_now_ms) - t0 ))
	tap_check "--fallback-idle 2: an idle forwarded connection closed after $took ms" \
	    test "$took" -ge 1500 -a "$took" -lt 6000
else
	tap_fail "--fallback-idle: 8082/tcp verified ($(status_field 8082/tcp state))"
fi

# --- the connection reset: made again from the same port, proven again ---
reached_before=$(grep -cE "REACH .* tcp port [0-9]+: reached" "$LAB_DIR/rendezvous.log")
lp=$(local_port)
lab_wan ss -K dst "$LAB_RTR_WAN_IP" "sport = :$LAB_RDV_PORT" >/dev/null 2>&1
if nm_wait_log 10 "tcp 8080: the connection to .* keeping the binding: .*connecting again"; then
	tap_ok "reset: natmapd connects again at once"
else
	tap_fail "reset: natmapd connects again at once"; nm_diag
fi
reached_more() { [ "$(grep -cE "REACH .* tcp port [0-9]+: reached" "$LAB_DIR/rendezvous.log")" -gt "$reached_before" ]; }
tap_check "reset: the new connection is from the same local port ($lp)" \
    lab_wait 10 bound_conn
tap_check "reset: the endpoint is proven again (a second dial-back reached)" \
    lab_wait 15 reached_more
lab_wait 5 state_is verified
port=$(row external_port)
if [ -n "$port" ] && lab_reach_tcp "$LAB_RTR_WAN_IP" "$port" >/dev/null; then
	tap_ok "reset: verified, a WAN host reaches the service through $LAB_RTR_WAN_IP:$port"
else
	tap_fail "reset: verified and reachable (state '$(row state)', port ${port:-?})"
fi

# --- the router's WAN address changes: at the next keep-alive the server
# resets the connection it does not know; a new binding, proven again ---
new_wan=203.0.113.42
wan_to() {	# FROM TO: the router's WAN address changes, its NAT state goes
	lab_rtr ip addr del "$1/24" dev "$LAB_RTR_WAN_IF"
	lab_rtr ip addr add "$2/24" dev "$LAB_RTR_WAN_IF"
	LAB_RTR_WAN_IP=$2
	lab_nat_mode "$LAB_NAT_MODE"	# its rules name the WAN address
	lab_flush_conntrack
}
wan_to "$LAB_RTR_WAN_IP" "$new_wan"
at_new_wan() { state_is verified && [ "$(row external_address)" = "$new_wan" ]; }
if lab_wait 45 at_new_wan; then
	port=$(row external_port)
	tap_ok "new WAN address: verified again at $new_wan:$port"
else
	tap_fail "new WAN address: verified again at $new_wan (state '$(row state)', $(row external_address))"
	nm_diag
fi
if [ -n "$port" ] && lab_reach_tcp "$new_wan" "$port" >/dev/null; then
	tap_ok "new WAN address: a WAN host reaches the service through $new_wan:$port"
else
	tap_fail "new WAN address: a WAN host reaches the service through $new_wan:${port:-?}"
fi
tap_check "new WAN address: the hook ran change" \
    lab_wait 5 hook_ran "change $new_wan $port 8080 tcp"
wan_to "$new_wan" "$LAB_RTR_WAN_IP"
nm_stop_check "full cone: SIGTERM" 3000
if lab_wait 5 hook_ran "down $new_wan $port 8080 tcp"; then
	tap_ok "full cone: the hook ran down at the exit"
else
	tap_fail "full cone: the hook ran down at the exit" "$(cat "$IT_HOOK_RUNS"/run.*)"
fi

# --- filtering NATs: the dial-back refused, filtered, no hook ---
for mode in restricted default random; do
	lab_nat_mode "$mode" || tap_fail "the router's NAT becomes $mode"
	before=$(hook_runs)
	start "fbtcp-$mode.log"
	if lab_wait 25 state_is filtered; then
		tap_ok "$mode: 8080/tcp filtered"
	else
		tap_fail "$mode: 8080/tcp filtered (state '$(row state)', $(row error))"; nm_diag
	fi
	tap_check "$mode: not reachable, the status says why" \
	    test "$(row reachable)" = False -a -n "$(row error)"
	port=$(sed -nE "s/.*tcp 8080: binding $LAB_RTR_WAN_IP:([0-9]+) filtered.*/\1/p" "$NM_LOG" | tail -n1)
	if [ -n "$port" ] && ! lab_reach_tcp "$LAB_RTR_WAN_IP" "$port" >/dev/null; then
		tap_ok "$mode: a WAN host does not get through $LAB_RTR_WAN_IP:$port"
	else
		tap_fail "$mode: a WAN host does not get through $LAB_RTR_WAN_IP:${port:-?}"
	fi
	tap_check "$mode: the hook did not run" test "$(hook_runs)" = "$before"
	nm_stop_check "$mode: SIGTERM" 3000
done

# --- only a STUN server: the endpoint known, unverified ---
lab_nat_mode cone || tap_fail "the router becomes a full cone again"
before=$(hook_runs)
rm -f "$LAB_DIR/status.json"
: >"$LAB_DIR/natmapd.conf"
nm_start lan fbtcp-stun.log -m 8080/tcp --hook "$IT_HOOK" \
    --stun-server "$LAB_STUN_IP:$LAB_STUN_PORT"
stun_ep() { sed -nE "s/.*tcp 8080: binding ($LAB_RTR_WAN_IP:[0-9]+) unverified.*/\1/p" "$NM_LOG" | tail -n1; }
if lab_wait 15 state_is unverified && [ -n "$(stun_ep)" ]; then
	tap_ok "STUN only: unverified, the binding at $(stun_ep) (from coturn over TCP)"
else
	tap_fail "STUN only: unverified at the router's address (state '$(row state)', log: $(stun_ep))"
	nm_diag
fi
tap_check "STUN only: not reachable, no address in the status" \
    test "$(row reachable) $(row external_address)" = "False "

case $(row error) in
*"dial-back"*) tap_ok "STUN only: the status says a dial-back is needed" ;;
*) tap_fail "STUN only: the status says a dial-back is needed ($(row error))" ;;
esac
tap_check "STUN only: the hook did not run" test "$(hook_runs)" = "$before"
nm_stop_check "STUN only: SIGTERM" 3000

# --- fallback-mode bind: the binding from the service's own port ---
# 8081 listens with SO_REUSEPORT: its binding is proven by the connection
# the dial-back makes to it, and a WAN host reaches the service itself;
# 8080 does not: natmapd cannot share its port, and says so.
lab_bg serve-lan-tcp-8081 "$LAB_NS_LAN" socat TCP4-LISTEN:8081,reuseaddr,reuseport,fork \
    "SYSTEM:echo natmapd-lab lan tcp 8081 from \$SOCAT_PEERADDR"
lab_wait 5 lab_listening "$LAB_NS_LAN" tcp 8081 || tap_fail "bind: a TCP service with SO_REUSEPORT"
start fbtcp-bind.log -m 8081/tcp --fallback-mode bind
if lab_wait 20 spec_verified 8081/tcp; then
	port=$(status_field 8081/tcp external_port)
	tap_ok "bind: 8081/tcp verified at $(status_field 8081/tcp external_address):$port"
else
	tap_fail "bind: 8081/tcp verified ($(status_field 8081/tcp state): $(status_field 8081/tcp error))"
	nm_diag
fi
tap_check "bind: the connection to the rendezvous is from the service's port" \
    lab_wait 5 eval "lab_lan ss -Hnt state established 'sport = :8081' 'dport = :$LAB_RDV_PORT' | grep -q ."
# (the lab's service writes a line at once: 16 bytes that are no nonce)
tap_check "bind: the server's dial-back connected to the service itself" \
    grep -qE "REACH .* tcp port $port: not reached: (wrong nonce|no nonce|closed)" "$LAB_DIR/rendezvous.log"
out=$(lab_reach_tcp "$LAB_RTR_WAN_IP" "${port:-0}")
case $out in
*"tcp 8081 from $LAB_LAN_IP"*|"")
	tap_fail "bind: a WAN host reaches the service itself through $LAB_RTR_WAN_IP:${port:-?} ($out)" ;;
*"tcp 8081 from "*)
	tap_ok "bind: a WAN host reaches the service itself through $LAB_RTR_WAN_IP:$port ($out)" ;;
*)	tap_fail "bind: a WAN host reaches the service itself ($out)" ;;
esac
if lab_wait 10 state_is unverified; then
	case $(row error) in
	*SO_REUSEPORT*) tap_ok "bind: 8080/tcp, without SO_REUSEPORT, unverified: $(row error)" ;;
	*) tap_fail "bind: 8080/tcp says SO_REUSEPORT is needed ($(row error))" ;;
	esac
else
	tap_fail "bind: 8080/tcp unverified (state '$(row state)')"
fi
nm_stop_check "bind: SIGTERM" 3000
tap_done
