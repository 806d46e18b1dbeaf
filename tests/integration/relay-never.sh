# SPDX-License-Identifier: ISC
# relay=never for one service (issue 12): the two-site lab with both NATs
# cone, site 2's router dropping everything between the two sites' public
# addresses (as relay-upgrade.sh), so the path to alpha goes through
# coturn.  beta connects to four of alpha's services: a UDP and a TCP echo
# with the node's relay (fallback), and a UDP and a TCP echo of their own
# (ports 7201, 7200) with relay=never on both sides (the UDP one added
# with natmapctl at run time).  Two more services of alpha are relay=never
# on alpha's side only (beta connects to them without the word: an older
# or misconfigured node).  While blocked: the default services carry 20
# datagrams and 1 MB through the relay; the never ones carry nothing,
# each side says why in its log and natmapctl status, and alpha's own
# echoes of them receive nothing.  The block lifted: once the path and
# the carrier go direct, the never services carry 20 datagrams and 1 MB
# byte for byte, and alpha's echoes of them receive it.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_cone_relay_lab
node() { punch_node "$@"; }
punch_side_echoes "the relay=never services"

punch_block_sites relaynever_block
it_on_exit "lab_rtr2 nft delete table inet relaynever_block 2>/dev/null"

relay_re=${LAB_RELAY_IP//./\\.}
pub1_re=${LAB_PUBLIC_IP//./\\.}
udp_passes() { lab_traffic_check site2 udp 127.0.0.1 "$1" -n 20 -t 5; }
tcp_passes() { lab_traffic_check site2 tcp 127.0.0.1 "$1" -n "$2" -t 20; }
# svc_json NAME PYEXPR: NAME's status file has a service s for which PYEXPR holds
svc_json() { punch_status_has "$1" services s "$2"; }

node alpha lan "$LAB_DIR/home.key" home --expose echo=127.0.0.1:7000/udp@beta \
    --expose tcpecho=127.0.0.1:7100/tcp@beta \
    --expose 'secret=127.0.0.1:7200/tcp@beta relay=never' \
    --expose 'usecret=127.0.0.1:7201/udp@beta relay=never' \
    --expose 'guard=127.0.0.1:7200/tcp@beta relay=never' \
    --expose 'uguard=127.0.0.1:7201/udp@beta relay=never'
node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp \
    --connect 'alpha/secret=127.0.0.1:7102/tcp relay=never' \
    --connect alpha/guard=127.0.0.1:7103/tcp \
    --connect alpha/uguard=127.0.0.1:7003/udp
lab_wait 10 test -S "$LAB_DIR/beta.ctl"
out=$(punch_ctl beta site2 connect alpha/usecret=127.0.0.1:7002/udp relay=never 2>&1)
tap_check "natmapctl connect alpha/usecret=127.0.0.1:7002/udp relay=never (the word as its own argument): accepted ($out)" \
    lab_wait 5 bash -c "grep -q 'usecret' '$LAB_DIR/beta.json' 2>/dev/null"

# ---- relayed: the default services pass, the never ones do not ----
punch_wait_relayed "blocked: beta: a relayed path to alpha"
tap_check "blocked: beta: the TCP carrier goes through coturn" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"
tap_check "blocked: the default UDP service: 20 datagrams end to end through the relay" \
    lab_wait 10 udp_passes 7001
tap_check "blocked: the default TCP service: 1 MB byte for byte through the relay" \
    tcp_passes 7101 1000000

# the TCP never service: the client waits 10 s for a direct carrier, then is reset
out=$(tcp_passes 7102 100000 2>&1)
tap_check "blocked: relay=never TCP: nothing comes back ($out)" test "${out%% *}" != ok
tap_check "blocked: beta's log: the client waited for a direct carrier" \
    log_has beta "connect alpha/secret: relay=never, and the TCP carrier to alpha goes through the relay; the connection waits for a direct one"
tap_check "blocked: beta's log: the client reset, and why" \
    lab_wait 15 log_has beta "connect alpha/secret: relay=never, and no direct TCP carrier to alpha in 10 s \\(the one up goes through the relay\\); connection reset"
# the UDP never service: dropped on beta, counted
out=$(udp_passes 7002 2>&1)
tap_check "blocked: relay=never UDP: no datagram comes back ($out)" test "${out%% *}" != ok
tap_check "blocked: beta's log: the datagrams dropped, and why" \
    log_has beta "connect alpha/usecret: relay=never, and the path to alpha goes through the relay: a datagram dropped \\(datagrams dropped and counted\\)"
st=$(punch_ctl beta site2 status 2>&1)
tap_check "blocked: natmapctl status, beta: the TCP never service kept 1 stream off the relay, with the reason ($(grep 'alpha/secret' <<<"$st"))" \
    grep -Eq "^connect alpha/secret=127\\.0\\.0\\.1:7102/tcp relay=never; kept off the relay: 1 stream, 0 datagrams \\(connect alpha/secret: relay=never, and no direct TCP carrier" <<<"$st"
# (traffic.py sends its datagrams again while none comes back: 20 or more)
usecret_status() {
	local n
	n=$(punch_ctl beta site2 status 2>&1 | sed -En "s/^connect alpha\/usecret=127\\.0\\.0\\.1:7002\/udp relay=never \\(run time\\); kept off the relay: 0 streams, ([0-9]+) datagrams \\(connect alpha\/usecret: relay=never, and the path to alpha goes through the relay: a datagram dropped\\)$/\\1/p")
	[ "${n:-0}" -ge 20 ]
}
lab_wait 5 usecret_status
tap_check "blocked: natmapctl status, beta: the UDP never service (added at run time) kept 20 datagrams or more off the relay, with the reason ($(punch_ctl beta site2 status 2>&1 | grep 'alpha/usecret'))" \
    usecret_status
tap_check "blocked: beta's status file: the TCP never service's relay_refused_streams 1" \
    lab_wait 5 svc_json beta "s['spec'].startswith('alpha/secret=') and s.get('relay_refused_streams') == 1"

# alpha's defence: beta connects without the word, alpha's services say never
out=$(tcp_passes 7103 100000 2>&1)
tap_check "blocked: a stream to alpha's relay=never TCP service from a connect without the word: nothing comes back ($out)" \
    test "${out%% *}" != ok
tap_check "blocked: alpha's log: the stream refused, it came through the relay" \
    lab_wait 5 log_has alpha "beta: a stream to guard/tcp refused: it is relay=never and came over the TCP carrier through the relay"
tap_check "blocked: beta's log: the peer refused the stream, and why" \
    log_has beta "carrier: alpha: a stream to guard/tcp refused by the peer: relay never: not through the relay"
out=$(udp_passes 7003 2>&1)
tap_check "blocked: datagrams to alpha's relay=never UDP service from a connect without the word: none comes back ($out)" \
    test "${out%% *}" != ok
tap_check "blocked: alpha's log: the datagrams that came through the relay dropped" \
    log_has alpha "beta: uguard/udp is relay=never: a datagram that came through the relay dropped"
guard_status() {
	punch_ctl alpha lan status 2>&1 | grep -Eq "^expose guard=127\\.0\\.0\\.1:7200/tcp@beta relay=never; kept off the relay: 1 stream, 0 datagrams \\(beta: a stream to guard/tcp refused"
}
tap_check "blocked: natmapctl status, alpha: the guarded TCP service kept 1 stream off the relay, with the reason" \
    guard_status
tap_check "blocked: nothing reached alpha's echoes of the relay=never services" \
    eval '! punch_echo_got 7200 tcp && ! punch_echo_got 7201 udp'
tap_check "blocked: the default UDP service still passes through the relay after all that" \
    udp_passes 7001

# ---- the block lifted: the never services go direct ----
lab_rtr2 nft delete table inet relaynever_block
# direct probes again 30 s after the relayed path came up, then 60 s
# after that (PUNCH_RETRY_MS, doubling): the blocked part above takes
# about 40 s, so the direct path comes at the second retry, 90 s after
t0=$(date +%s)
if lab_wait 120 log_has beta "alpha: direct path up, the relay left, to $pub1_re:[0-9]+"; then
	tap_ok "beta: the direct path found $(( $(date +%s) - t0 )) s after the block went (120 s at most: the direct retries)"
else
	tap_fail "beta: a direct path within 120 s of the block going" "$(diag beta 40)" "$(diag alpha 30)"
fi
tap_check "beta: a direct TCP carrier" \
    lab_wait 15 log_has beta "alpha: TCP carrier up, to $pub1_re:[0-9]+ .*direct, beside the one through the relay"
tap_check "direct: relay=never UDP: 20 datagrams end to end" udp_passes 7002
tap_check "direct: relay=never TCP: 1 MB byte for byte" tcp_passes 7102 1000000
tap_check "direct: alpha's echoes of the relay=never services received them (a 1,000,000-byte connection, datagrams)" \
    eval 'grep -q "tcp from .* 1000000" "$LAB_DIR/traffic-lan-tcp-7200.log" && punch_echo_got 7201 udp'
tap_check "direct: alpha's relay=never TCP service takes a stream from a connect without the word over the direct carrier (100 KB)" \
    tcp_passes 7103 100000
tap_check "direct: the default TCP service still passes (100 KB)" tcp_passes 7101 100000
tap_done
