# SPDX-License-Identifier: ISC
# Hole punching between two natmapd nodes (--expose, --connect) in the
# two-site lab: alpha on site 1 (behind the router) exposes a UDP echo,
# beta on site 2 (behind rtr2, which maps nothing) connects to it through
# natmapd-rendezvous; datagrams to beta's local port must come back from
# the echo at alpha, over the direct path; a node with another network's
# key and a node alpha does not allow get nothing through.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_lab other
node() { punch_node "$@"; }
punch_echoes

node alpha lan "$LAB_DIR/home.key" home --expose echo=127.0.0.1:7000/udp@beta \
    --expose tcpecho=127.0.0.1:7100/tcp@beta
node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp

if lab_wait 20 log_has beta "alpha: direct path up"; then
	tap_ok "beta: a direct path to alpha"
else
	tap_fail "beta: a direct path to alpha" "$(diag beta)" "$(diag alpha)"
fi
if lab_wait 10 log_has alpha "beta: direct path up"; then
	tap_ok "alpha: a direct path to beta"
else
	tap_fail "alpha: a direct path to beta" "$(diag alpha)"
fi
# the path goes to the other site's NAT, not through the rendezvous
tap_check "beta's path goes to site 1's public address" \
    grep -Eq "alpha: direct path up, to $LAB_PUBLIC_IP:[0-9]+" "$LAB_DIR/beta.log"
tap_check "alpha's path goes to site 2's public address" \
    grep -Eq "beta: direct path up, to $LAB_RTR2_WAN_IP:[0-9]+" "$LAB_DIR/alpha.log"

# data end to end: 20 datagrams to beta's 127.0.0.1:7001 come back intact
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
tap_check "alpha opened one flow to the echo" \
    grep -q "beta: a new flow to echo/udp" "$LAB_DIR/alpha.log"
tap_check "the echo saw the datagrams come from alpha's own host" \
    grep -q "udp from 127.0.0.1:" "$LAB_DIR/traffic-lan-udp-7000.log"

# ---- TCP: the carrier by simultaneous open, streams on it ----
if lab_wait 20 log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:[0-9]+"; then
	tap_ok "beta: a TCP carrier to alpha's public address"
else
	tap_fail "beta: a TCP carrier to alpha's public address" "$(diag beta)"
fi
tap_check "alpha: a TCP carrier to beta's public address" \
    lab_wait 10 log_has alpha "beta: TCP carrier up, to $LAB_RTR2_WAN_IP:[0-9]+"
tap_check "1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo intact" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20
# three at once: three streams on the one carrier
tcp3() {
	local i pids=() rc=0
	for i in 1 2 3; do
		lab_traffic_check site2 tcp 127.0.0.1 7101 -n 300000 -t 20 \
		    >"$LAB_DIR/tcp3.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	cat "$LAB_DIR"/tcp3.*
	return "$rc"
}
tap_check "three connections at once, each intact" tcp3
# the path in natmapctl status and the status file
ctl_status() { ip netns exec "$(lab_ns_of "$1")" "$NATMAPCTL" -s "$LAB_DIR/$2.ctl" status; }
peer_line_ok() {
	local o
	o=$(ctl_status site2 beta) || return 1
	echo "$o"
	grep -Eq "^peer alpha up: direct-v4 to $LAB_PUBLIC_IP:[0-9]+(, rtt [0-9]+ ms)?; tcp carrier to $LAB_PUBLIC_IP:[0-9]+.*; in [1-9][0-9]* B, out [1-9][0-9]* B" <<<"$o"
}
tap_check "natmapctl status on beta: alpha up, direct-v4, the carrier, bytes both ways" \
    lab_wait 15 peer_line_ok
peer_json_ok() {
	python3 - "$LAB_DIR/beta.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["peers"]
assert len(p) == 1 and p[0]["node"] == "alpha", p
assert p[0]["state"] == "up" and p[0]["path"] == "direct-v4", p
assert p[0]["endpoint"] and p[0]["carrier"], p
assert p[0]["bytes_in"] > 0 and p[0]["bytes_out"] > 0, p
PY
}
tap_check "beta's status file: peers[0] alpha, up, direct-v4, carrier, counters" \
    lab_wait 15 peer_json_ok
tap_check "alpha: the streams came over one carrier" \
    bash -c "[ \"\$(grep -c 'TCP carrier up' '$LAB_DIR/alpha.log')\" = 1 ]"
tap_check "the TCP echo saw its connections come from alpha's own host" \
    grep -q "tcp from 127.0.0.1:" "$LAB_DIR/traffic-lan-tcp-7100.log"

# ---- SIGHUP with nothing changed: the path and the carrier stay ----
kill -HUP "$NODE_PID_alpha" "$NODE_PID_beta"
tap_check "SIGHUP: both nodes reloaded" \
    lab_wait 5 bash -c "grep -q 'SIGHUP: configuration reloaded' '$LAB_DIR/alpha.log' &&
    grep -q 'SIGHUP: configuration reloaded' '$LAB_DIR/beta.log'"
tap_check "SIGHUP with the same settings: no path started again" \
    bash -c "! grep -q 'punch: new settings' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log' &&
    [ \"\$(grep -c 'TCP carrier up' '$LAB_DIR/beta.log')\" = 1 ]"
tap_check "SIGHUP: TCP through the same carrier" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 10

# ---- negatives: nothing reaches the service ----
# gamma: the network "other": the rendezvous will not even forward for it
node gamma site2 "$LAB_DIR/other.key" other --connect alpha/echo=127.0.0.1:7002/udp
# delta: the right network, but alpha exposes echo to beta only
node delta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7003/udp
if lab_wait 20 log_has delta "alpha refused: this node is not allowed|no direct path"; then
	tap_ok "delta (not allowed by alpha): refused, says why"
else
	tap_fail "delta (not allowed by alpha): refused, says why" "$(diag delta)"
fi
tap_check "delta: no path up" bash -c "! grep -q 'direct path up' '$LAB_DIR/delta.log'"
if lab_wait 20 log_has gamma "no direct path: no node alpha registered in network other"; then
	tap_ok "gamma (another network): alpha is not found"
else
	tap_fail "gamma (another network): alpha is not found" "$(diag gamma)"
fi
n0=$(grep -c "udp from" "$LAB_DIR/traffic-lan-udp-7000.log")
ip netns exec "$(lab_ns_of site2)" python3 - <<'PY'
import socket
for port in (7002, 7003):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(5):
        s.sendto(b"not for you %d" % i, ("127.0.0.1", port))
PY
tap_check "alpha's echo: nothing from gamma nor delta" \
    bash -c "[ \"\$(grep -c 'udp from' '$LAB_DIR/traffic-lan-udp-7000.log')\" = $n0 ]"
tap_check "alpha: no flow but beta's" \
    bash -c "! grep -Eq '(gamma|delta): a new flow' '$LAB_DIR/alpha.log'"
# ---- a mapping lost mid-session: site 2's router forgets every binding ----
lab_nat_flush rtr2
tap_check "rtr2 forgot its bindings: datagrams come back again within 10 s" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 5 -t 10

# node_restart NAME HOST ARGS...: the node stopped, its log kept aside, and
# started again
node_restart() {
	local pid_var="NODE_PID_$1"
	kill -TERM "${!pid_var}" 2>/dev/null
	lab_wait 5 bash -c "! kill -0 ${!pid_var} 2>/dev/null"
	mv "$LAB_DIR/$1.log" "$LAB_DIR/$1.log.$(date +%s%N)"
	node "$@"
}

# ---- a NAT that resets unsolicited SYNs on site 2 (and site 1's router,
# which refuses them with a reset too): UDP still direct; TCP does not get
# through yet (each side's first SYN is reset by the other's NAT, and the
# reset closes the sender's own NAT entry): the carrier says so ----
lab_nat_mode rst rtr2
node_restart beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp --connect alpha/tcpecho=127.0.0.1:7101/tcp
if lab_wait 20 log_has beta "alpha: direct path up"; then
	tap_ok "rtr2 resets unsolicited SYNs: a direct UDP path all the same"
else
	tap_fail "rtr2 resets unsolicited SYNs: a direct UDP path all the same" "$(diag beta)"
fi
tap_check "rtr2 resets unsolicited SYNs: datagrams end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10
tap_check "rtr2 resets unsolicited SYNs: the TCP carrier's failure is logged with its reason" \
    lab_wait 15 log_has beta "alpha: TCP carrier (down|not made): no TCP connection in time"

# ---- full cone on site 2: direct ----
lab_nat_mode cone rtr2
node_restart beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp
if lab_wait 20 log_has beta "alpha: direct path up"; then
	tap_ok "full cone on site 2: a direct path"
else
	tap_fail "full cone on site 2: a direct path" "$(diag beta)"
fi
tap_check "full cone on site 2: datagrams end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10

# ---- symmetric (fully random) on site 2: no direct path, said why, no spin ----
lab_nat_mode random rtr2
node_restart beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp
if lab_wait 45 log_has beta "alpha: no direct path: no probe arrived either way; 3 attempts made"; then
	tap_ok "symmetric NAT on site 2: no direct path after 3 attempts, said why"
else
	tap_fail "symmetric NAT on site 2: no direct path after 3 attempts, said why" \
	    "$(diag beta)"
fi
tap_check "natmapctl status on beta: alpha failed, with the reason" \
    bash -c "ip netns exec '$(lab_ns_of site2)' '$NATMAPCTL' -s '$LAB_DIR/beta.ctl' status | grep -E '^peer alpha failed: no direct path yet; .*no probe arrived either way; 3 attempts made'"
tap_check "symmetric NAT on site 2: no path up" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/beta.log'"
n0=$(grep -c "attempt [0-9] of 3" "$LAB_DIR/beta.log")
# the next try is 30 s away: nothing in the next 5 s (a deadline, not a sleep:
# the check fails as soon as another attempt shows)
no_new_attempt() { [ "$(grep -c "attempt [0-9] of 3" "$LAB_DIR/beta.log")" != "$n0" ]; }
if lab_wait 5 no_new_attempt; then
	tap_fail "symmetric NAT on site 2: no attempt again at once (no spin)" "$(diag beta)"
else
	tap_ok "symmetric NAT on site 2: no attempt again at once (no spin)"
fi
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log"

tap_done
