# SPDX-License-Identifier: ISC
# relay=always for one TCP service (issue 12), where a direct path works:
# both NATs cone, coturn on the internet side, nothing blocked.  beta
# connects to alpha's TCP echo twice, once with relay=always and once
# without.  The TCP carrier is direct, and a second carrier through the
# relays (RFC 6062, from beta's TCP allocation to alpha's) is kept beside
# it for the relay=always connect's streams.  Counters on site 2's router
# show each connect's bytes on its own way: the relay=always one's to and
# from coturn, the other's to and from site 1.  A TCP service alpha
# exposes relay=always takes no stream that came over the direct carrier.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_cone_relay_lab
node() { punch_node "$@"; }
punch_side_echoes "the relay=always exposed service"

punch_count_setup tcp TCP

relay_re=${LAB_RELAY_IP//./\\.}
pub_re=${LAB_PUBLIC_IP//./\\.}
# tcp_n PORT BYTES: BYTES through beta's 127.0.0.1:PORT, echoed byte for byte
tcp_n() { lab_traffic_check site2 tcp 127.0.0.1 "$1" -n "$2" -t 20; }

node alpha lan "$LAB_DIR/home.key" home \
    --expose tcpecho=127.0.0.1:7100/tcp@beta \
    --expose tcpecho2=127.0.0.1:7100/tcp@beta \
    --expose 'guarded=127.0.0.1:7200/tcp@beta relay=always'
node beta site2 "$LAB_DIR/home.key" home \
    --connect 'alpha/tcpecho=127.0.0.1:7101/tcp relay=always' \
    --connect alpha/tcpecho=127.0.0.1:7102/tcp \
    --connect alpha/guarded=127.0.0.1:7103/tcp \
    --connect 'alpha/guarded=127.0.0.1:7104/tcp relay=always'

# ---- a direct carrier, the relayed one beside it ----
ok_if "beta: a direct path to alpha" \
    lab_wait 30 log_has beta "alpha: direct path up(, the relay left)?, to $pub_re:"
ok_if "beta: the TCP carrier up, direct" \
    lab_wait 30 log_has beta "alpha: TCP carrier up, to $pub_re:[0-9]+ "
ok_if "beta: a TCP carrier through the relay up beside it, for the relay=always service" \
    lab_wait 30 log_has beta "alpha: TCP carrier through the relay up beside the direct one, to $relay_re:[0-9]+, for its relay=always services"
tap_check "alpha: the same carrier up on its side" \
    lab_wait 10 log_has alpha "beta: TCP carrier through the relay up beside the direct one, to $relay_re:[0-9]+"
tap_check "beta's status file: carrier_via direct, carrier_beside through coturn" \
    lab_wait 5 punch_status_has beta peers p "p['node'] == 'alpha' and p['carrier_via'] == 'direct' and (p['carrier_beside'] or '').startswith('$LAB_RELAY_IP:')"
ctl_beside() {
	punch_ctl beta site2 status 2>&1 |
	    grep -Eq "^peer alpha up: direct-v4 to $pub_re:[0-9]+ .*; tcp carrier to $pub_re:[0-9]+ direct, .*tcp carrier beside it through the relay to $relay_re:[0-9]+"
}
tap_check "natmapctl status, beta: the direct carrier and the one beside it" ctl_beside

# ---- each connect's bytes on their own way ----
# tcp_way PORT LABEL: 1 MB through beta's 127.0.0.1:PORT byte for byte;
# sets dtr dfr dts dfs to the TCP bytes to/from coturn and site 1 it took
tcp_way() {
	local c0
	c0=$(punch_counts)
	tap_check "$2: 1 MB byte for byte" tcp_n "$1" 1000000
	read -r dtr dfr dts dfs <<<"$(punch_count_delta "$c0" "$(punch_counts)")"
	echo "# $2, 1 MB: TCP bytes to/from coturn +$dtr/+$dfr, to/from site 1 +$dts/+$dfs"
}
tcp_way 7101 "relay=always"
tap_check "relay=always: it went to and came from coturn (at least 1 MB each way)" \
    test "$dtr" -ge 1000000 -a "$dfr" -ge 1000000
tap_check "relay=always: not over the direct carrier (under 100000 bytes each way)" \
    test "$dts" -lt 100000 -a "$dfs" -lt 100000
tcp_way 7102 "the same service without the word"
tap_check "without the word: over the direct carrier (at least 1 MB each way)" \
    test "$dts" -ge 1000000 -a "$dfs" -ge 1000000
tap_check "without the word: not through coturn (under 100000 bytes each way)" \
    test "$dtr" -lt 100000 -a "$dfr" -lt 100000

# ---- a TCP service alpha exposes relay=always ----
out=$(tcp_n 7103 100000 2>&1)
tap_check "alpha's relay=always service, connected without the word: nothing comes back ($out)" \
    test "${out%% *}" != ok
tap_check "alpha's log: the stream came over the direct carrier, refused" \
    lab_wait 5 log_has alpha "beta: a stream to guarded/tcp refused: it is relay=always and came over the direct TCP carrier"
tap_check "beta's log: the peer refused the stream, and why" \
    log_has beta "carrier: alpha: a stream to guarded/tcp refused by the peer: relay always: through the relay only"
kept() {
	punch_ctl alpha lan status 2>&1 |
	    grep -Eq "^expose guarded=127\\.0\\.0\\.1:7200/tcp@beta relay=always; kept off the direct path: 1 stream, 0 datagrams"
}
tap_check "natmapctl status, alpha: that service kept 1 stream off the direct path" \
    lab_wait 5 kept
tap_check "nothing reached its echo" eval '! punch_echo_got 7200 tcp'
tap_check "connected with relay=always too: 100 KB byte for byte" tcp_n 7104 100000
tap_check "its echo got them" punch_echo_got 7200 tcp

# ---- at run time ----
tap_check "natmapctl connect ... relay=always at run time, for a TCP service" \
    punch_ctl beta site2 connect 'alpha/tcpecho2=127.0.0.1:7105/tcp' relay=always
c3=$(punch_counts)
tap_check "that connect: 200 KB byte for byte" tcp_n 7105 200000
read -r dtr dfr _ _ <<<"$(punch_count_delta "$c3" "$(punch_counts)")"
tap_check "through coturn (+$dtr/+$dfr bytes)" test "$dtr" -ge 200000 -a "$dfr" -ge 200000
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log*"
tap_done
