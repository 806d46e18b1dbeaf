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

# Site 2's router counts the UDP bytes its LAN sends to and gets from
# coturn and site 1's public address (before its NAT: the LAN's side).
# Bytes, not packets: natmapd sends a run of datagrams to one address as
# one (UDP_SEGMENT), and the router forwards and counts it as one packet.
if lab_rtr2 nft -f - <<NFT
table inet relayalw_count {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip daddr $LAB_RELAY_IP meta l4proto udp counter comment "to-relay"
		ip saddr $LAB_RELAY_IP meta l4proto udp counter comment "from-relay"
		ip daddr $LAB_PUBLIC_IP meta l4proto udp counter comment "to-site1"
		ip saddr $LAB_PUBLIC_IP meta l4proto udp counter comment "from-site1"
	}
}
NFT
then
	tap_ok "site 2's router counts UDP to and from coturn and site 1"
else
	tap_fail "site 2's router counts UDP"; tap_done; exit 1
fi
it_on_exit "lab_rtr2 nft delete table inet relayalw_count 2>/dev/null"
# count NAME: the bytes of the counter commented NAME
count() {
	lab_rtr2 nft list table inet relayalw_count |
	    sed -n "s/.*counter packets [0-9]* bytes \([0-9]*\) comment \"$1\".*/\1/p"
}
# counts: "to-relay from-relay to-site1 from-site1"
counts() { echo "$(count to-relay) $(count from-relay) $(count to-site1) $(count from-site1)"; }

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
c0=$(counts)
out=$(udp_n 7001 200 2>&1)
c1=$(counts)
tap_check "relay=always: 200 datagrams end to end ($out)" test "${out%% *}" = ok
read -r tr0 fr0 ts0 fs0 <<<"$c0"
read -r tr1 fr1 ts1 fs1 <<<"$c1"
echo "# relay=always, 200 datagrams: bytes to/from coturn +$((tr1 - tr0))/+$((fr1 - fr0)), to/from site 1 +$((ts1 - ts0))/+$((fs1 - fs0))"
tap_check "relay=always: they went to and came from coturn (at least 200 x 200 bytes each way)" \
    test $((tr1 - tr0)) -ge 40000 -a $((fr1 - fr0)) -ge 40000
tap_check "relay=always: not over the direct path (under 10000 bytes each way: keep-alives)" \
    test $((ts1 - ts0)) -lt 10000 -a $((fs1 - fs0)) -lt 10000

out=$(udp_n 7002 200 2>&1)
c2=$(counts)
read -r tr2 fr2 ts2 fs2 <<<"$c2"
tap_check "the same service without the word: 200 datagrams end to end ($out)" test "${out%% *}" = ok
echo "# no word, 200 datagrams: bytes to/from coturn +$((tr2 - tr1))/+$((fr2 - fr1)), to/from site 1 +$((ts2 - ts1))/+$((fs2 - fs1))"
tap_check "without the word: over the direct path (at least 200 x 200 bytes each way)" \
    test $((ts2 - ts1)) -ge 40000 -a $((fs2 - fs1)) -ge 40000
tap_check "without the word: not through coturn (under 10000 bytes each way)" \
    test $((tr2 - tr1)) -lt 10000 -a $((fr2 - fr1)) -lt 10000
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
c3=$(counts)
tap_check "that connect: 100 datagrams end to end" udp_n 7005 100
c4=$(counts)
read -r tr3 fr3 _ _ <<<"$c3"
read -r tr4 fr4 _ _ <<<"$c4"
tap_check "through coturn (+$((tr4 - tr3))/+$((fr4 - fr3)) bytes)" \
    test $((tr4 - tr3)) -ge 20000 -a $((fr4 - fr3)) -ge 20000
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log*"
tap_done
