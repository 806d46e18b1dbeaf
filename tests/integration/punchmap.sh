# SPDX-License-Identifier: ISC
# Hole punching with a candidate from a gateway mapping: site 1's router
# runs miniupnpd, site 2's NAT is symmetric (fully random ports), the one
# cell of issue 11's matrix where no punch gets through.  alpha (site 1)
# has the gateway map its punching ports (UDP and the TCP carrier's) and
# offers the mapped endpoints first; beta (site 2) reaches them without
# punching.  Each exposes a UDP and a TCP echo to the other and connects
# to the other's: data end to end both ways, UDP and TCP.  Then the router
# stops forwarding (miniupnpd stopped, its rules and the NAT's bindings
# flushed): alpha says its mapping is gone, beta punches again and says
# why there is no direct path (the symmetric NAT), the mapped path gone.
# shellcheck disable=SC2015,SC2016
. "$(dirname "$0")/punch-common.sh"

punch_lab
node() { punch_node "$@"; }
punch_echoes
lab_traffic_serve site2 udp 7000 127.0.0.1 -d &&
    lab_traffic_serve site2 tcp 7100 127.0.0.1 -d &&
    tap_ok "a UDP and a TCP echo on site 2's host" ||
    tap_fail "a UDP and a TCP echo on site 2's host"
lab_router_start || { tap_fail "miniupnpd starts on site 1's router"; tap_done; exit 1; }
tap_ok "miniupnpd starts on site 1's router"
lab_nat_mode random rtr2 && tap_ok "site 2: symmetric NAT (fully random)" ||
    tap_fail "site 2: symmetric NAT (fully random)"

# own NAME PROTO FIELD: FIELD of NAME's status row of natmapd's own
# mapping of PROTO ("" if none or null)
own() {
	python3 - "$LAB_DIR/$1.json" "$2" "$3" <<'PY' 2>/dev/null
import json, sys
for m in json.load(open(sys.argv[1])).get("mappings") or []:
	if m.get("owner") == "punch" and m.get("protocol") == sys.argv[2]:
		v = m.get(sys.argv[3])
		print("" if v is None else json.dumps(v).strip('"'))
PY
}
own_is() { [ "$(own "$1" "$2" "$3")" = "$4" ]; }
# peer NAME FIELD: FIELD of NAME's (only) peer in its status file
peer() {
	python3 - "$LAB_DIR/$1.json" "$2" <<'PY' 2>/dev/null
import json, sys
p = json.load(open(sys.argv[1]))["peers"][0].get(sys.argv[2])
print("" if p is None else p)
PY
}
# ctl NAME HOST: natmapctl status of node NAME; ctl_has NAME HOST REGEX
ctl() { ip netns exec "$(lab_ns_of "$2")" "$NATMAPCTL" -s "$LAB_DIR/$1.ctl" status; }
ctl_has() { ctl "$1" "$2" | grep -Eq -- "$3"; }
log_has() { grep -Eq -- "$2" "$LAB_DIR/$1.log" 2>/dev/null; }
# expect SECONDS DESC CMD...: a TAP line, CMD within SECONDS, both logs' ends if not
expect() {
	local secs=$1 desc=$2
	shift 2
	if lab_wait "$secs" "$@"; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$(diag beta 40)" "$(diag alpha 40)"
	fi
}

# a lease of 60 s: renewed every 30 s, so that a router gone is seen soon
node alpha lan "$LAB_DIR/home.key" home --lease 60 \
    --expose echo=127.0.0.1:7000/udp@beta --expose tcpecho=127.0.0.1:7100/tcp@beta \
    --connect beta/echo=127.0.0.1:7001/udp --connect beta/tcpecho=127.0.0.1:7101/tcp

# ---- alpha's punching ports mapped on the gateway, marked as its own ----
expect 30 "alpha: the gateway maps its UDP punching port" own_is alpha udp state up
expect 10 "alpha: the gateway maps its TCP carrier port" own_is alpha tcp state up
uport=$(own alpha udp internal_port)
tport=$(own alpha tcp internal_port)
tap_check "the router forwards $LAB_PUBLIC_IP:$uport/udp to alpha" \
    has_rule "udp dport $uport dnat to $LAB_LAN_IP:$uport"
tap_check "the router forwards $LAB_PUBLIC_IP:$tport/tcp to alpha" \
    has_rule "tcp dport $tport dnat to $LAB_LAN_IP:$tport"
tap_check "alpha says so (UDP)" lab_wait 5 log_has alpha \
    "the gateway maps UDP port $uport at $LAB_PUBLIC_IP:$uport: offered as a candidate"
two_marked() { [ "$(ctl alpha lan | grep -c "^  natmapd's own, for punch\$")" = 2 ]; }
tap_check "natmapctl status on alpha marks them natmapd's own" two_marked
tap_check "the status file: owner punch, not a run-time mapping" \
    lab_wait 5 own_is alpha udp runtime false

# ---- beta behind the symmetric NAT: direct, through the mapping ----
node beta site2 "$LAB_DIR/home.key" home \
    --expose echo=127.0.0.1:7000/udp@alpha --expose tcpecho=127.0.0.1:7100/tcp@alpha \
    --connect alpha/echo=127.0.0.1:7001/udp --connect alpha/tcpecho=127.0.0.1:7101/tcp
expect 30 "beta: a direct path to alpha's mapped UDP port" \
    log_has beta "alpha: direct path up, to $LAB_PUBLIC_IP:$uport via mapped"
tap_check "alpha: a direct path to beta, over its mapping" \
    lab_wait 10 log_has alpha "beta: direct path up, to $LAB_RTR2_WAN_IP:[0-9]+ via mapped"
tap_check "beta's status: the path is via mapped" lab_wait 10 eval '[ "$(peer beta via)" = mapped ]'
tap_check "natmapctl status on beta: via mapped" \
    ctl_has beta site2 "^peer alpha up: direct-v4 to $LAB_PUBLIC_IP:$uport via mapped"
tap_check "site 2 to site 1: 20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
tap_check "site 1 to site 2: 20 datagrams through alpha's 127.0.0.1:7001 come back from beta's echo" \
    lab_traffic_check lan udp 127.0.0.1 7001 -n 20 -t 10

# TCP: beta connects plainly to alpha's mapped carrier port, alpha's
# carrier listener takes it
expect 20 "beta: a TCP carrier to alpha's mapped TCP port" \
    log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:$tport"
tap_check "alpha: the TCP carrier up, from site 2's public address" \
    lab_wait 10 log_has alpha "beta: TCP carrier up, to $LAB_RTR2_WAN_IP:[0-9]+"
tap_check "site 2 to site 1: 1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo intact" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20
tap_check "site 1 to site 2: 1 MB through alpha's 127.0.0.1:7101 comes back from beta's TCP echo intact" \
    lab_traffic_check lan tcp 127.0.0.1 7101 -n 1000000 -t 20

# ---- the router stops forwarding: punching again, and why it fails ----
# (the bindings of both NATs flushed too: the path's own would carry it on)
# (the marks first: what follows may start at once)
mark_a=$(wc -l <"$LAB_DIR/alpha.log")
mark_b=$(wc -l <"$LAB_DIR/beta.log")
lab_router_stop && lab_rules_flush && rm -f "$LAB_DIR/miniupnpd.leases" &&
    lab_nat_flush rtr && lab_nat_flush rtr2 &&
    tap_ok "site 1's router stops forwarding (miniupnpd stopped, its rules and both NATs' bindings flushed)" ||
    tap_fail "site 1's router stops forwarding (miniupnpd stopped, its rules and both NATs' bindings flushed)"
# since NAME MARK REGEX: a line of NAME's log after line MARK matches
since() { tail -n +"$(($2 + 1))" "$LAB_DIR/$1.log" | grep -Eq -- "$3"; }
# the next renewal (30 s at most) gets no answer: the gateway is lost
expect 90 "alpha: the gateway lost, its mappings not offered, punching only" \
    since alpha "$mark_a" "punch: the gateway is lost: .*punching only"
# the attempts spent, on whichever side leads them
no_path() {
	since beta "$mark_b" "alpha: no direct path: .*attempts made" ||
	    since alpha "$mark_a" "beta: no direct path: .*attempts made"
}
expect 120 "punching again fails against the symmetric NAT, said why" no_path
tap_check "alpha's status: its UDP mapping no longer up" \
    eval '! own_is alpha udp state up'
tap_check "natmapctl status on beta: a line for alpha, not via mapped" \
    eval 'ctl beta site2 | grep "^peer alpha " | grep -vq "via mapped"'
tap_check "natmapctl status on beta: alpha without a path, with the reason" \
    ctl_has beta site2 "^peer alpha [a-z]+: no direct path yet; .+"

# ---- the router back (empty): mapped again, the path via mapped again;
# alpha stopped: its mappings deleted from the router ----
# (the marks before the router: its announcement brings the mapping and
# a try may come at once)
mark_a=$(wc -l <"$LAB_DIR/alpha.log")
mark_b=$(wc -l <"$LAB_DIR/beta.log")
lab_router_start || tap_fail "miniupnpd starts again"
# natmapctl check: the gateway looked for now, not after the back-off
ip netns exec "$(lab_ns_of lan)" "$NATMAPCTL" -s "$LAB_DIR/alpha.ctl" check >/dev/null ||
    tap_fail "natmapctl check on alpha"
# (its row up again: a row that stayed "renewing" through the outage
# comes back without a new "the gateway maps" line, one that went down
# with it)
expect 30 "the router back: alpha's UDP port mapped again" \
    own_is alpha udp state up
tap_check "the router forwards $LAB_PUBLIC_IP:$uport/udp to alpha again" \
    lab_wait 10 has_rule "udp dport $uport dnat to $LAB_LAN_IP:$uport"
tap_check "the router forwards $LAB_PUBLIC_IP:$tport/tcp to alpha again" \
    lab_wait 10 has_rule "tcp dport $tport dnat to $LAB_LAN_IP:$tport"
# (a try made before alpha's UDP mapping was back punches to its
# server-reflexive endpoint, the same address: alpha then sees its
# mapping under the path and says so)
again() {
	since beta "$mark_b" "alpha: direct path up, to $LAB_PUBLIC_IP:$uport via mapped" ||
	    since alpha "$mark_a" "beta: direct path up, to $LAB_RTR2_WAN_IP:[0-9]+ via mapped" ||
	    since alpha "$mark_a" "beta: the path to $LAB_RTR2_WAN_IP:[0-9]+ is now via mapped"
}
expect 150 "at the next try, the path via mapped again" again
# (it failed once in CI, 0 of 20 echoed, with nothing to read: the logs
# are shown when it fails)
if out=$(lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10 2>&1); then
	tap_ok "site 2 to site 1: 20 datagrams through beta's 127.0.0.1:7001 again"
else
	tap_fail "site 2 to site 1: 20 datagrams through beta's 127.0.0.1:7001 again" \
	    "$(sed 's/^/# /' <<<"$out")" "$(diag beta 40)" "$(diag alpha 40)"
fi
# punch-map no (natmapd.conf(5)) and a reload: the mappings deleted; yes
# again: made again
alpha_pid=NODE_PID_alpha	# it_natmapd's
mark_a=$(wc -l <"$LAB_DIR/alpha.log")
rmark=$(wc -l <"$LAB_DIR/miniupnpd.log")
echo "punch-map no" >"$LAB_DIR/alpha.conf"
kill -HUP "${!alpha_pid}"
# (30 s: one CI run under load did not see it gone in 10, while the
# deletes are two paced requests.  It failed again under ASan, with only
# the punching in the logs shown: now what alpha said of its mappings and
# gateway since the SIGHUP, what the router logged, and its rules.)
udp_gone() { ! has_rule "udp dport $uport dnat to $LAB_LAN_IP:$uport"; }
if lab_wait 30 udp_gone; then
	tap_ok "punch-map no, SIGHUP: alpha's UDP mapping deleted from the router"
else
	tap_fail "punch-map no, SIGHUP: alpha's UDP mapping deleted from the router" \
	    "$(tail -n +"$((mark_a + 1))" "$LAB_DIR/alpha.log" |
		grep -Ev '^(punch|carrier|rendezvous|control)' | sed 's/^/# alpha: /' | tail -n 60)" \
	    "$(tail -n +"$((rmark + 1))" "$LAB_DIR/miniupnpd.log" | sed 's/^/# miniupnpd: /' | tail -n 30)" \
	    "$(lab_rules | sed 's/^/# rule: /')"
fi
tap_check "punch-map no, SIGHUP: no row of alpha's own in its status" \
    lab_wait 5 eval '[ -z "$(own alpha udp state)$(own alpha tcp state)" ]'
mark_a=$(wc -l <"$LAB_DIR/alpha.log")
echo "punch-map yes" >"$LAB_DIR/alpha.conf"
kill -HUP "${!alpha_pid}"
expect 20 "punch-map yes, SIGHUP: alpha's UDP port mapped again" \
    since alpha "$mark_a" "the gateway maps UDP port $uport at $LAB_PUBLIC_IP:$uport"
tap_check "punch-map yes, SIGHUP: the router forwards $LAB_PUBLIC_IP:$tport/tcp to alpha" \
    lab_wait 10 has_rule "tcp dport $tport dnat to $LAB_LAN_IP:$tport"
it_node_stop alpha
tap_check "alpha stopped: its UDP mapping deleted from the router" \
    lab_wait 10 eval '! has_rule "udp dport $uport dnat to $LAB_LAN_IP:$uport"'
tap_check "alpha stopped: its TCP mapping deleted from the router" \
    eval '! has_rule "tcp dport $tport dnat to $LAB_LAN_IP:$tport"'
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log*"

tap_done
