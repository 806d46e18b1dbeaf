# SPDX-License-Identifier: ISC
# relay=always for one UDP service (issue 12), where a direct path works:
# both NATs cone, coturn on the internet side, nothing blocked.  beta
# connects to alpha's UDP echo twice, once with relay=always and once
# without, and to its TCP echo; alpha exposes one more UDP echo with
# relay=always, which beta connects to both ways.  The path is direct and
# the relayed path is kept beside it; counters on site 2's router show
# each service's datagrams on its own way: the relay=always one's to and
# from coturn, the other's to and from site 1.  The service alpha exposes
# relay=always takes nothing that came direct.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_cone_relay_lab
node() { punch_node "$@"; }
punch_side_echoes "the relay=always exposed service"

punch_count_setup udp UDP

relay_re=${LAB_RELAY_IP//./\\.}
pub_re=${LAB_PUBLIC_IP//./\\.}
# udp_n PORT N: N datagrams (about 205 bytes each) through beta's
# 127.0.0.1:PORT, each echoed
udp_n() { lab_traffic_check site2 udp 127.0.0.1 "$1" -n "$2" -t 10; }

node alpha lan "$LAB_DIR/home.key" home \
    --expose echo=127.0.0.1:7000/udp@beta \
    --expose echo2=127.0.0.1:7000/udp@beta \
    --expose tcpecho=127.0.0.1:7100/tcp@beta \
    --expose 'guarded=127.0.0.1:7201/udp@beta relay=always'
node beta site2 "$LAB_DIR/home.key" home \
    --connect 'alpha/echo=127.0.0.1:7001/udp relay=always' \
    --connect alpha/echo=127.0.0.1:7002/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp \
    --connect alpha/guarded=127.0.0.1:7003/udp \
    --connect 'alpha/guarded=127.0.0.1:7004/udp relay=always'

# ---- a direct path, the relayed one beside it ----
ok_if "beta: a direct path to alpha" \
    lab_wait 30 log_has beta "alpha: direct path up(, the relay left)?, to $pub_re:"
ok_if "beta: the relayed path up beside it, through coturn" \
    lab_wait 30 log_has beta "alpha: relayed path up beside the direct one, to $relay_re:[0-9]+ through TURN server $relay_re:$LAB_RELAY_PORT, for its relay=always services"
tap_check "beta's status file: path direct-v4, relay_beside the relayed address" \
    lab_wait 5 punch_status_has beta peers p "p['node'] == 'alpha' and p['path'] == 'direct-v4' and (p['relay_beside'] or '').startswith('$LAB_RELAY_IP:')"
ctl_beside() {
	punch_ctl beta site2 status 2>&1 |
	    grep -Eq "^peer alpha up: direct-v4 to $pub_re:[0-9]+ via [a-z]+, rtt [0-9]+ ms, relayed path beside it to $relay_re:[0-9]+"
}
tap_check "natmapctl status, beta: the direct path and the relayed one beside it" ctl_beside
tap_check "alpha: no relayed path of its own beside (it connects to nothing)" \
    punch_status_has alpha peers p "p['node'] == 'beta' and p['path'] == 'direct-v4' and p['relay_beside'] is None"

# ---- each service's datagrams on their own way ----
c0=$(punch_counts)
out=$(udp_n 7001 200 2>&1)
c1=$(punch_counts)
tap_check "relay=always: 200 datagrams end to end ($out)" test "${out%% *}" = ok
read -r dtr dfr dts dfs <<<"$(punch_count_delta "$c0" "$c1")"
echo "# relay=always, 200 datagrams: bytes to/from coturn +$dtr/+$dfr, to/from site 1 +$dts/+$dfs"
tap_check "relay=always: they went to and came from coturn (at least 200 x 200 bytes each way)" \
    test "$dtr" -ge 40000 -a "$dfr" -ge 40000
tap_check "relay=always: not over the direct path (under 10000 bytes each way: keep-alives)" \
    test "$dts" -lt 10000 -a "$dfs" -lt 10000

out=$(udp_n 7002 200 2>&1)
c2=$(punch_counts)
read -r dtr dfr dts dfs <<<"$(punch_count_delta "$c1" "$c2")"
tap_check "the same service without the word: 200 datagrams end to end ($out)" test "${out%% *}" = ok
echo "# no word, 200 datagrams: bytes to/from coturn +$dtr/+$dfr, to/from site 1 +$dts/+$dfs"
tap_check "without the word: over the direct path (at least 200 x 200 bytes each way)" \
    test "$dts" -ge 40000 -a "$dfs" -ge 40000
tap_check "without the word: not through coturn (under 10000 bytes each way)" \
    test "$dtr" -lt 10000 -a "$dfr" -lt 10000
tap_check "alpha's echo got them all" \
    eval "[ \"\$(grep -c '^udp from' '$LAB_DIR/traffic-lan-udp-7000.log')\" -ge 400 ]"

tap_check "the TCP service: its carrier direct" \
    lab_wait 20 punch_status_has beta peers p "p['node'] == 'alpha' and p['carrier_via'] == 'direct'"
tap_check "the TCP service: 1 MB byte for byte" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20

# ---- a service alpha exposes relay=always ----
out=$(udp_n 7003 20 2>&1)
tap_check "alpha's relay=always service, connected without the word: no datagram comes back ($out)" \
    test "${out%% *}" != ok
tap_check "alpha's log: they came direct, dropped" \
    lab_wait 5 log_has alpha "beta: guarded/udp is relay=always: a datagram that came direct dropped"
kept() {
	punch_ctl alpha lan status 2>&1 |
	    grep -Eq "^expose guarded=127\\.0\\.0\\.1:7201/udp@beta relay=always; kept off the direct path: 0 streams, [1-9][0-9]* datagrams"
}
tap_check "natmapctl status, alpha: that service kept datagrams off the direct path" \
    lab_wait 5 kept
tap_check "nothing reached its echo" eval '! punch_echo_got 7201 udp'
tap_check "connected with relay=always too: 20 datagrams end to end" udp_n 7004 20
tap_check "its echo got them" punch_echo_got 7201 udp

# ---- at run time ----
tap_check "natmapctl connect ... relay=always at run time" \
    punch_ctl beta site2 connect 'alpha/echo2=127.0.0.1:7005/udp' relay=always
c3=$(punch_counts)
tap_check "that connect: 100 datagrams end to end" udp_n 7005 100
read -r dtr dfr _ _ <<<"$(punch_count_delta "$c3" "$(punch_counts)")"
tap_check "through coturn (+$dtr/+$dfr bytes)" test "$dtr" -ge 20000 -a "$dfr" -ge 20000
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log*"
tap_done
