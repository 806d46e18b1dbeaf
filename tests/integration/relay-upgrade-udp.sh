# SPDX-License-Identifier: ISC
# A direct path that appears while relayed, for UDP only (issue 12): the
# two-site lab with both NATs cone, site 2's router dropping everything
# between the two sites' public addresses, so the path and the TCP
# carrier go through coturn.  Then the block is narrowed to TCP: the UDP
# path goes direct at a direct retry, the direct TCP carrier tried beside
# the relayed one is not made (its SYNs are dropped), and new streams stay
# on the carrier through the relay: 1 MB byte for byte, while datagrams
# go direct (nft counters on site 2's router see them, and no TCP between
# the sites); both status files say path direct-v4, carrier through the
# relay.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_cone_relay_lab
punch_block_sites relayudp_block

relay_re=${LAB_RELAY_IP//./\\.}
pub1_re=${LAB_PUBLIC_IP//./\\.}
udp_passes() { lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5; }
tcp_passes() { lab_traffic_check site2 tcp 127.0.0.1 7101 -n "$1" -t 20; }
json_check() { punch_status_has "$1" peers p "$2"; }

punch_echo_nodes

# ---- relayed ----
punch_wait_relayed "blocked: beta: a relayed path to alpha"
tap_check "blocked: beta: the TCP carrier goes through coturn" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"
tap_check "blocked: 1 MB byte for byte through the relayed carrier" \
    tcp_passes 1000000

# ---- TCP still blocked, UDP let through, counted ----
lab_rtr2 nft delete table inet relayudp_block
if lab_rtr2 nft -f - <<NFT
table inet relayudp_tcp {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip saddr $LAB_PUBLIC_IP meta l4proto tcp counter name tcp_seen drop
		ip daddr $LAB_PUBLIC_IP meta l4proto tcp counter name tcp_seen drop
		ip saddr $LAB_PUBLIC_IP meta l4proto udp counter name udp_in
	}
	counter tcp_seen { }
	counter udp_in { }
}
NFT
then
	tap_ok "the block narrowed to TCP; site 2's router counts what passes between the two public addresses"
else
	tap_fail "the block narrowed to TCP"; tap_done; exit 1
fi
it_on_exit "lab_rtr2 nft delete table inet relayudp_tcp 2>/dev/null"
counter() { lab_rtr2 nft list counter inet relayudp_tcp "$1" | awk '/packets/ { print $2 }'; }

# (direct retries: 30 s after the relayed path came up, then 60 s more)
if lab_wait 120 log_has beta "alpha: direct path up, the relay left, to $pub1_re:[0-9]+"; then
	tap_ok "beta: the UDP path goes direct"
else
	tap_fail "beta: the UDP path goes direct" "$(diag beta 40)" "$(diag alpha 30)"
	tap_done; exit 1
fi
tap_check "beta: a direct TCP carrier tried beside the one through the relay" \
    lab_wait 10 log_has beta "alpha: making a direct TCP carrier beside the one through the relay"
tap_check "beta: it is not made, and new streams stay on the carrier through the relay" \
    lab_wait 30 eval 'log_has beta "alpha: TCP carrier not made: " &&
	log_has beta "alpha: new streams go over the TCP carrier through the relay"'
u0=$(counter udp_in)
tap_check "datagrams end to end over the direct path" udp_passes
tap_check "site 2's router saw them pass between the public addresses ($u0 -> $(counter udp_in) packets)" \
    eval '[ "$(counter udp_in)" -gt "${u0:-0}" ]'
tap_check "1 MB byte for byte over the carrier through the relay" tcp_passes 1000000
tap_check "beta's status file: path direct-v4, the carrier through the relay (the TURN server)" \
    lab_wait 5 json_check beta "p['path'] == 'direct-v4' and p.get('carrier_via') == 'relay' and p['carrier'] == '$LAB_RELAY_IP:$LAB_RELAY_PORT'"
tap_check "alpha's status file: path direct-v4, the carrier through the relay" \
    lab_wait 5 json_check alpha "p['path'] == 'direct-v4' and p.get('carrier_via') == 'relay'"
tap_check "no TCP between the two sites got through (only dropped SYNs: $(counter tcp_seen) packets)" \
    bash -c "! grep -Eq 'TCP carrier up, to $pub1_re' '$LAB_DIR/beta.log'"
tap_done
