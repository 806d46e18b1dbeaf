# SPDX-License-Identifier: ISC
# relay=fallback for one service on nodes whose relay is never (issue 12):
# relay-never.sh's lab (both NATs cone, site 2's router dropping
# everything between the two sites' public addresses, so that only
# coturn joins them).  Both nodes run with --relay never; alpha exposes a
# UDP and a TCP echo with relay=fallback and two more echoes without the
# word (the node's never), beta connects to each the same way.  The
# fallback services win the relay for themselves: 20 datagrams and 1 MB
# byte for byte through coturn; the others keep the node's never: nothing
# of theirs crosses the relay, each side says why, and their echoes on
# site 1 receive nothing.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_cone_relay_lab
node() { punch_node "$@"; }
punch_side_echoes "the node-policy services"

punch_block_sites relayfb_block
it_on_exit "lab_rtr2 nft delete table inet relayfb_block 2>/dev/null"

relay_re=${LAB_RELAY_IP//./\\.}
# PORT: 20 datagrams through beta's 127.0.0.1:PORT; PORT N: N bytes
udp_passes() { lab_traffic_check site2 udp 127.0.0.1 "$1" -n 20 -t 5; }
tcp_passes() { lab_traffic_check site2 tcp 127.0.0.1 "$1" -n "$2" -t 20; }

node alpha lan "$LAB_DIR/home.key" home --relay never \
    --expose 'echo=127.0.0.1:7000/udp@beta relay=fallback' \
    --expose 'tcpecho=127.0.0.1:7100/tcp@beta relay=fallback' \
    --expose plain=127.0.0.1:7200/tcp@beta \
    --expose uplain=127.0.0.1:7201/udp@beta
node beta site2 "$LAB_DIR/home.key" home --relay never \
    --connect 'alpha/echo=127.0.0.1:7001/udp relay=fallback' \
    --connect 'alpha/tcpecho=127.0.0.1:7101/tcp relay=fallback' \
    --connect alpha/plain=127.0.0.1:7102/tcp \
    --connect alpha/uplain=127.0.0.1:7002/udp
tap_check "both nodes: relay never, and the fallback services in the status file" \
    lab_wait 10 eval "punch_status_has beta services s \"s['spec'].startswith('alpha/echo=') and 'relay=fallback' in s['spec']\" >/dev/null &&
	punch_status_has alpha services s \"s['spec'].startswith('tcpecho=') and 'relay=fallback' in s['spec']\" >/dev/null"

# ---- the fallback services take the relay ----
punch_wait_relayed "beta: a relayed path to alpha (its node says never, two services fallback)"
tap_check "beta: the TCP carrier goes through coturn" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"
tap_check "the relay=fallback UDP service: 20 datagrams end to end through the relay" \
    lab_wait 10 udp_passes 7001
tap_check "the relay=fallback TCP service: 1 MB byte for byte through the relay" \
    tcp_passes 7101 1000000

# ---- the others keep the node's never ----
out=$(tcp_passes 7102 100000 2>&1)
tap_check "the node's never, TCP: nothing comes back ($out)" test "${out%% *}" != ok
tap_check "beta's log: that client reset, and why" \
    lab_wait 15 log_has beta "connect alpha/plain: relay=never, and no direct TCP carrier to alpha in 10 s \\(the one up goes through the relay\\); connection reset"
out=$(udp_passes 7002 2>&1)
tap_check "the node's never, UDP: no datagram comes back ($out)" test "${out%% *}" != ok
tap_check "beta's log: those datagrams dropped, and why" \
    log_has beta "connect alpha/uplain: relay=never, and the path to alpha goes through the relay: a datagram dropped"
kept() {
	punch_ctl beta site2 status 2>&1 |
	    grep -Eq "^connect alpha/plain=127\\.0\\.0\\.1:7102/tcp; kept off the relay: 1 stream, 0 datagrams"
}
tap_check "natmapctl status, beta: the node-policy TCP service kept 1 stream off the relay" \
    lab_wait 5 kept
tap_check "nothing reached alpha's echoes of the node-policy services" \
    eval '! punch_echo_got 7200 tcp && ! punch_echo_got 7201 udp'
tap_check "the relay=fallback UDP service still passes after all that" \
    udp_passes 7001
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log*"
tap_done
