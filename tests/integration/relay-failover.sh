# SPDX-License-Identifier: ISC
# A direct path that dies falls back to the relay (issue 12: "within
# 5 s"): the two-site lab with both NATs cone, relay fallback (the
# default), coturn and the rendezvous with --turn.  The path comes up
# direct (no relay is made), datagrams and 1 MB of TCP pass over it; then
# site 2's router drops everything between the two sites' public
# addresses (not the TURN server's nor the rendezvous's traffic).  Both
# nodes keep a direct path alive every 2 s while a relay could carry it,
# give it up after 4 s without an answer, make the relay and punch again
# through the rendezvous: datagrams pass again through coturn (10 s
# allowed here; the time it took is printed), and 1 MB of TCP passes
# through a new carrier through coturn (RFC 6062).
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_cone_relay_lab
node() { punch_node "$@"; }

relay_re=${LAB_RELAY_IP//./\\.}
pub1_re=${LAB_PUBLIC_IP//./\\.}
pub2_re=${LAB_RTR2_WAN_IP//./\\.}
ctl() {
	ip netns exec "$(lab_ns_of "$2")" "$NATMAPCTL" -s "$LAB_DIR/$1.ctl" status
}
udp_once() { lab_traffic_check site2 udp 127.0.0.1 7001 -n 1 -t 0.3 >/dev/null 2>&1; }
tcp_passes() { lab_traffic_check site2 tcp 127.0.0.1 7101 -n "$1" -t 20; }
# since NAME MARK REGEX: NAME's log after line MARK has a line that matches
since() { tail -n +"$(($2 + 1))" "$LAB_DIR/$1.log" | grep -Eq -- "$3"; }

node alpha lan "$LAB_DIR/home.key" home --expose echo=127.0.0.1:7000/udp@beta \
    --expose tcpecho=127.0.0.1:7100/tcp@beta
node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp

# ---- direct first ----
if lab_wait 30 log_has beta "alpha: direct path up, to $pub1_re:[0-9]+"; then
	tap_ok "beta: a direct path to alpha"
else
	tap_fail "beta: a direct path to alpha" "$(diag beta 40)" "$(diag alpha 40)"
	tap_done; exit 1
fi
tap_check "alpha: a direct path to beta" \
    lab_wait 10 log_has alpha "beta: direct path up, to $pub2_re:[0-9]+"
tap_check "direct: 20 datagrams pass end to end" \
    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
tap_check "direct: beta's TCP carrier goes to alpha's public address" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $pub1_re:[0-9]+"
tap_check "direct: 1 MB through the TCP echo, byte for byte" tcp_passes 1000000
tap_check "direct: neither node made a relay (relay fallback, the path direct)" \
    bash -c "! grep -q 'relay: an allocation' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"

# ---- the direct path dies: site 2's router drops it, both ways ----
mark_a=$(wc -l <"$LAB_DIR/alpha.log")
mark_b=$(wc -l <"$LAB_DIR/beta.log")
t0=$(lab_now_ms)
punch_block_sites failover_block
if lab_wait 10 udp_once; then
	tap_ok "datagrams pass again $(( $(lab_now_ms) - t0 )) ms after the direct path died (10 s allowed)"
else
	tap_fail "datagrams pass again within 10 s of the direct path's end" "$(diag beta 40)" "$(diag alpha 40)"
fi
tap_check "beta: gave the silent direct path up for the relay" \
    since beta "$mark_b" "alpha: no answer on the direct path to $pub1_re:[0-9]+ for 4 s; to the relay"
tap_check "beta: made a relay for it" \
    since beta "$mark_b" "relay: an allocation on TURN server $relay_re:$LAB_RELAY_PORT \\(a direct path went silent\\)"
tap_check "beta: a relayed path to alpha" \
    lab_wait 10 since beta "$mark_b" "alpha: relayed path up, to $relay_re:[0-9]+ through TURN server"
tap_check "alpha: a relayed path to beta" \
    lab_wait 10 since alpha "$mark_a" "beta: relayed path up, to $relay_re:[0-9]+ through TURN server"
tap_check "relayed: 20 datagrams pass end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
tap_check "relayed: beta's TCP carrier goes through coturn" \
    lab_wait 20 since beta "$mark_b" "alpha: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"
tap_check "relayed: 1 MB through the TCP echo, byte for byte, through coturn" \
    lab_wait 30 tcp_passes 1000000
out_b=$(ctl beta site2)
tap_check "natmapctl status, beta: peer alpha up: relay through TURN server $LAB_RELAY_IP:$LAB_RELAY_PORT ($(grep '^peer' <<<"$out_b"))" \
    grep -Eq "^peer alpha up: relay to $relay_re:[0-9]+ via relay through TURN server $relay_re:$LAB_RELAY_PORT" <<<"$out_b"
tap_done
