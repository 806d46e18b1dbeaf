# SPDX-License-Identifier: ISC
# The relay in the matrix cells that punch-relay.sh leaves out (issue 12).
# Site 1's NAT maps endpoint-independently and filters per address and port
# (the lab's default masquerade, a port-restricted cone), site 2's is
# symmetric (masquerade fully-random): no direct path can be punched.
# alpha on site 1 exposes a UDP and a TCP echo to beta on site 2; coturn is
# the TURN server, the rendezvous hands out its credentials.
#   1. relay fallback: the path is relayed on both sides (log, natmapctl
#      status), 20 datagrams and 1 MB of TCP (the carrier over RFC 6062)
#      pass end to end and reach alpha's services.
#   2. UDP to the TURN server blocked on site 2: beta allocates over TCP,
#      and datagrams and 1 MB of TCP still pass through the relay.
#   3. relay never on beta: no path, it says why, nothing passes.
#   4. A bad secret: the rendezvous restarted with a turn-secret-file that
#      is not coturn's static-auth-secret: the nodes say that coturn refused
#      the credentials and why, natmapctl status says why the peer has no
#      relayed path, beta does not take UDP to coturn for blocked, the
#      nodes keep running, nothing passes.
# No TURN secret, username or password in any log, status or natmapctl
# output.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_relay_lab
node() { punch_node "$@"; }
punch_nat_modes default random \
    "site 1's NAT a port-restricted cone (masquerade), site 2's symmetric (fully-random)"
# another secret than coturn's, for cell 4
bad="lab-bad-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077 && printf '%s\n' "$bad" >"$LAB_DIR/turn-bad.secret")
punch_echoes

relay_re=${LAB_RELAY_IP//./\\.}
srv_re="$relay_re:$LAB_RELAY_PORT"
# ctl NAME HOST: natmapctl status of node NAME
ctl() {
	ip netns exec "$(lab_ns_of "$2")" "$NATMAPCTL" -s "$LAB_DIR/$1.ctl" status
}
udp_passes() { lab_traffic_check site2 udp 127.0.0.1 7001 -n "$1" -t 3 >/dev/null 2>&1; }
udp_blocked() { ! udp_passes 3; }
tcp_mb() { lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 30; }
# served N PROTO PORT REGEX: alpha's echo on PORT logged at least N lines
# that match REGEX (what reached the service)
served() {
	[ "$(grep -cE -- "$4" "$LAB_DIR/traffic-lan-$2-$3.log")" -ge "$1" ]
}
mb_served() { grep -c "^tcp from .* 1000000 " "$LAB_DIR/traffic-lan-tcp-7100.log"; }
dg_served() { grep -c "^udp from " "$LAB_DIR/traffic-lan-udp-7000.log"; }

alpha_args=(--expose echo=127.0.0.1:7000/udp@beta
    --expose tcpecho=127.0.0.1:7100/tcp@beta)
beta_args=(--connect alpha/echo=127.0.0.1:7001/udp
    --connect alpha/tcpecho=127.0.0.1:7101/tcp)
node alpha lan "$LAB_DIR/home.key" home "${alpha_args[@]}"
node beta site2 "$LAB_DIR/home.key" home "${beta_args[@]}"

# ---- 1. relay fallback: symmetric against a filtering NAT, relayed ----
ok_if "cell 1: beta: a relayed path to alpha through coturn" \
    lab_wait 60 log_has beta "alpha: relayed path up, to $relay_re:[0-9]+ through TURN server $srv_re"
ok_if "cell 1: alpha: a relayed path to beta" \
    lab_wait 20 log_has alpha "beta: relayed path up, to $relay_re:[0-9]+ through TURN server $srv_re"
tap_check "cell 1: beta's NAT maps per destination, so the relay at once" \
    log_has beta "relay: an allocation on TURN server $srv_re \\(this node's NAT maps per destination\\)"
tap_check "cell 1: alpha's NAT does not map per destination" \
    bash -c "! grep -q 'NAT maps per destination' '$LAB_DIR/alpha.log'"
tap_check "cell 1: alpha allocates because beta offered a relayed address" \
    log_has alpha "relay: an allocation on TURN server $srv_re \\(the peer offers a relayed address\\)"
dg0=$(dg_served)
tap_check "cell 1: 20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
tap_check "cell 1: alpha's UDP echo received them (20 datagrams or more)" \
    served $((dg0 + 20)) udp 7000 "^udp from "
ok_if "cell 1: beta: the TCP carrier to alpha goes through coturn (RFC 6062)" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $srv_re"
tap_check "cell 1: 1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo, byte for byte" \
    tcp_mb
tap_check "cell 1: alpha's TCP echo received the 1 MB" \
    served 1 tcp 7100 "^tcp from .* 1000000 "
tap_check "cell 1: no direct path either side" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"
# status_relayed NAME HOST PEER: NAME's natmapctl status says its path to
# PEER goes through the relay, bytes both ways
status_relayed() {
	local out
	out=$(ctl "$1" "$2" | grep "^peer $3 ")
	tap_check "cell 1: natmapctl status, $1: peer $3 up: relay ($out)" \
	    grep -Eq "^peer $3 up: relay to $relay_re:[0-9]+ via relay through TURN server $srv_re, rtt [0-9]+ ms; (tcp carrier to [^;]*; )?in [1-9][0-9]* B, out [1-9][0-9]* B" <<<"$out"
}
status_relayed beta site2 alpha
status_relayed alpha lan beta

# ---- 2. UDP to the TURN server blocked on site 2: TURN over TCP ----
it_node_stop beta
if punch_turn_udp_block on; then
	tap_ok "cell 2: site 2's router drops the site's UDP to the TURN server"
else
	tap_fail "cell 2: site 2's router drops the site's UDP to the TURN server"
fi
node beta site2 "$LAB_DIR/home.key" home "${beta_args[@]}"
ok_if "cell 2: beta allocates over TCP" \
    lab_wait 60 log_has beta "relay up: $relay_re:[0-9]+ on TURN server $srv_re \\(over TCP\\)"
ok_if "cell 2: beta: a relayed path to alpha" \
    lab_wait 60 log_has beta "alpha: relayed path up, to $relay_re:[0-9]+ through TURN server $srv_re"
tap_check "cell 2: 20 datagrams pass end to end" \
    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
ok_if "cell 2: beta: the TCP carrier to alpha goes through coturn" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $srv_re"
mb0=$(mb_served)
tap_check "cell 2: 1 MB through beta's TCP connect comes back from alpha's TCP echo, byte for byte" \
    tcp_mb
tap_check "cell 2: alpha's TCP echo received the 1 MB" \
    served $((mb0 + 1)) tcp 7100 "^tcp from .* 1000000 "
tap_check "cell 2: no direct path" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/beta.log'"
punch_turn_udp_block off

# ---- 3. relay never on beta: no path, said why, nothing passes ----
it_node_stop beta
node beta site2 "$LAB_DIR/home.key" home "${beta_args[@]}" --relay never
ok_if "cell 3, relay never: beta says there is no path and that no relay was tried" \
    lab_wait 60 log_has beta "alpha: no direct path: .*3 attempts made; relay never: no relayed path tried"
tap_check "cell 3, relay never: no relay allocated by beta" \
    bash -c "! grep -q 'relay: an allocation' '$LAB_DIR/beta.log'"
out_b=$(ctl beta site2)
tap_check "cell 3, relay never: natmapctl status says why ($(grep '^peer' <<<"$out_b"))" \
    grep -q '^peer alpha failed: .*relay never: no relayed path tried' <<<"$out_b"
tap_check "cell 3, relay never: datagrams do not pass" udp_blocked
no_tcp() { ! lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000 -t 3 >/dev/null 2>&1; }
tap_check "cell 3, relay never: TCP does not pass" no_tcp

# ---- 4. a bad secret: coturn refuses the credentials, said clearly ----
it_node_stop beta
it_node_stop alpha
if punch_rdv_turn "$LAB_DIR/turn-bad.secret"; then
	tap_ok "cell 4: natmapd-rendezvous restarted with a turn-secret-file that is not coturn's"
else
	tap_fail "cell 4: natmapd-rendezvous restarted with a bad turn-secret-file"
fi
node alpha lan "$LAB_DIR/home.key" home "${alpha_args[@]}"
tap_check "cell 4: alpha registered" \
    lab_wait 20 log_has alpha "registered"
node beta site2 "$LAB_DIR/home.key" home "${beta_args[@]}"
refused_re="TURN server $srv_re refused the credentials \\(401 Unauthorized\\): the rendezvous's turn-secret-file does not match coturn's static-auth-secret"
ok_if "cell 4: beta's log: coturn refused the credentials, the secrets differ" \
    lab_wait 30 log_has beta "$refused_re"
ok_if "cell 4: alpha's log: the same" \
    lab_wait 30 log_has alpha "$refused_re"
ok_if "cell 4: beta: no path to alpha, and why no relayed one" \
    lab_wait 60 log_has beta "alpha: no direct path: .*3 attempts made; no relay: $refused_re"
out_b=$(ctl beta site2)
tap_check "cell 4: natmapctl status says why there is no relayed path ($(grep '^peer' <<<"$out_b"))" \
    grep -Eq "^peer alpha failed: .*no relay: TURN server $srv_re refused the credentials" <<<"$out_b"
# (the status file is written 100 ms after a change: waited for)
file_says_refused() {
	python3 - "$LAB_DIR/beta.json" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
peers = st.get("peers") or []
print("#", peers)
sys.exit(0 if any("refused the credentials" in str(p) for p in peers) else 1)
PY
}
tap_check "cell 4: beta's status file says so too" lab_wait 5 file_says_refused
tap_check "cell 4: beta kept TURN over UDP (coturn answered it: UDP is not blocked)" \
    bash -c "! grep -q 'no allocation over UDP' '$LAB_DIR/beta.log'"
tap_check "cell 4: no relayed path" \
    bash -c "! grep -q 'relayed path up' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"
tap_check "cell 4: datagrams do not pass" udp_blocked
alive() { kill -0 "$NODE_PID_alpha" && kill -0 "$NODE_PID_beta" && ctl beta site2 >/dev/null; }
tap_check "cell 4: both nodes keep running and answer natmapctl" alive

# ---- no TURN credential anywhere ----
punch_no_creds_check "$secret|$bad"
rdv_quiet() {
	! grep -aqE -- "$secret|$bad|[0-9]{9,}:(alpha|beta)" "$LAB_DIR/rendezvous.log"
}
tap_check "nor either secret or a REST username in the rendezvous's log" rdv_quiet
tap_done
