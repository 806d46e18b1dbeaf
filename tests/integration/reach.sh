# SPDX-License-Identifier: ISC
# natmapd-rendezvous serves REACH, the dial-back: a node behind the lab's NAT
# registers from a port and asks the server to reach that port's mapping,
# over UDP (a nonce sent) and TCP (a connection that must hand the nonce
# back).  Behind a full cone it is reached, from the server's alternate
# address; behind the default masquerade (port-restricted) and an
# address-restricted cone it is not: the dial-back comes from an address the
# node never sent to.  The dial-back goes only to the address the request
# came from (listeners on other WAN hosts count no connection), a node gets
# 5 REACHes and then 429, a retransmission is answered again without a
# second nonce, and SIGUSR1's counters say so.  The client is
# tests/lab/rdv-register.py reach.
. "$(dirname "$0")/rdv-common.sh"

# reach udp|tcp NODE SPORT [ARGS]: one line of key=value (rdv-register.py)
reach() {
	lab_lan timeout 30 python3 "$SRCDIR/tests/lab/rdv-register.py" reach \
	    "$1" "$rdv" home "$tmp/home.key" "$2" "$3" "${@:4}" 2>&1
}
# field NAME LINE: the value of NAME= in LINE (reason= runs to the end)
field() {
	if [ "$1" = reason ]; then
		sed -nE 's/.* reason=(.*)$/\1/p' <<<"$2"
	else
		sed -nE "s/.* $1=([^ ]*).*/\1/p" <<<" $2"
	fi
}
# from_alt LINE: the nonce came from the alternate address, not one of the server's ports
from_alt() {
	local n
	n=$(field nonce "$1")
	[ "${n%:*}" = "$LAB_RDV_ALT_IP" ] && [ "${n#*:}" != "$LAB_RDV_PORT" ] &&
	    [ "${n#*:}" != "$LAB_RDV_ALT_PORT" ]
}

rdv_tmp reach
umask 077
rdv_networks home

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
rdv_start "natmapd-rendezvous starts with --alt-address $LAB_RDV_ALT_IP" \
    --networks "$tmp/nets"

# ---- full cone: reached, from the alternate address ----
lab_nat_mode cone || tap_fail "nat mode cone"
out=$(reach udp cone-u.lan 45200)
tap_check "cone, UDP: REACH to the mapped port answered 200 ($out)" \
    test "$(field answer "$out")" = 200
tap_check "cone, UDP: the nonce arrived, from $LAB_RDV_ALT_IP and a fresh port" \
    from_alt "$out"
tap_check "cone, UDP: REACH went to the observed address $LAB_RTR_WAN_IP:45200" \
    lab_wait 5 rdv_log_has "REACH cone-u.lan in network home: nonce sent to udp $LAB_RTR_WAN_IP:45200"
out=$(reach tcp cone-t.lan 45201)
tap_check "cone, TCP: REACH answered 200: the nonce was read back ($out)" \
    test "$(field answer "$out")" = 200
tap_check "cone, TCP: one connection, from $LAB_RDV_ALT_IP and a fresh port" \
    test "$(field accepted "$out")" = 1 -a -n "$(from_alt "$out" && echo y)"
out=$(reach tcp cone-w.lan 45202 -w)
tap_check "cone, TCP, a wrong nonce: error 404 not reached: wrong nonce ($out)" \
    test "$(field answer "$out")" = 404 -a "$(field reason "$out")" = "not reached: wrong nonce"
out=$(reach tcp cone-q.lan 45203 -q)
tap_check "cone, TCP, nothing sent: error 404 not reached: closed ($out)" \
    test "$(field answer "$out")" = 404 -a "$(field reason "$out")" = "not reached: closed"

# a retransmission (the same bytes again): answered again, no second nonce
out=$(reach udp retx.lan 45204 -r)
tap_check "a retransmitted REACH: two answers 200, one nonce ($out)" \
    test "$(field answers "$out")" = 200,200 -a "$(field nonces "$out")" = 1

# ---- never any other address ----
# listeners on the port asked for, on two other WAN hosts; the dial-back
# goes to the router, where nothing listens on that port for the host
lab_wan_addr "$LAB_WAN2_IP" || tap_fail "the wan namespace gets $LAB_WAN2_IP"
for ip in "$LAB_WAN_IP" "$LAB_WAN2_IP"; do
	lab_bg "count-$ip" "$LAB_NS_WAN" python3 "$SRCDIR/tests/lab/tcp-count.py" "$ip" 45220
	lab_bg_listening "count-$ip" || tap_fail "tcp-count on $ip:45220 starts"
done
out=$(reach tcp other.lan 45221 -t 45220)
tap_check "REACH to port 45220 from port 45221: not reached ($out)" \
    test "$(field answer "$out")" = 404 -a "$(field accepted "$out")" = 0
tap_check "the server dialled the observed address $LAB_RTR_WAN_IP:45220" \
    lab_wait 5 rdv_log_has "REACH other.lan in network home: dialling tcp $LAB_RTR_WAN_IP:45220"
n=$(cat "$LAB_DIR/count-$LAB_WAN_IP.log" "$LAB_DIR/count-$LAB_WAN2_IP.log" | grep -c '^connection from')
tap_check "no connection on $LAB_WAN_IP:45220 or $LAB_WAN2_IP:45220 ($n)" test "$n" = 0

# ---- the rate: a burst of 5, then 429 ----
out=$(reach udp rate.lan 45230 -n 7)
tap_check "7 REACHes at once: 5 answered 200, then 429 twice ($out)" \
    test "$(field answers "$out")" = 200,200,200,200,200,429,429

# ---- the default masquerade (port-restricted cone): not reached ----
lab_nat_mode default || tap_fail "nat mode default"
out=$(reach udp def-u.lan 45240)
tap_check "default NAT, UDP: answered 200 (sent), the nonce did not arrive ($out)" \
    test "$(field answer "$out")" = 200 -a "$(field nonce "$out")" = none -a "$(field nonces "$out")" = 0
out=$(reach tcp def-t.lan 45241)
tap_check "default NAT, TCP: error 404, no connection ($out)" \
    test "$(field answer "$out")" = 404 -a "$(field accepted "$out")" = 0
# a TCP dial-back asked over UDP: its answer, later, from the UDP socket
out=$(reach udp def-x.lan 45242 -p tcp)
tap_check "default NAT, TCP asked over UDP: error 404 comes over UDP ($out)" \
    test "$(field answer "$out")" = 404 -a "$(field reason "$out")" = "not reached: refused"

# ---- an address-restricted cone: the alternate address was never sent to ----
lab_nat_mode restricted || tap_fail "nat mode restricted"
out=$(reach udp res-u.lan 45250)
tap_check "address-restricted NAT, UDP: the nonce did not arrive ($out)" \
    test "$(field answer "$out")" = 200 -a "$(field nonces "$out")" = 0
out=$(reach tcp res-t.lan 45251)
tap_check "address-restricted NAT, TCP: error 404, no connection ($out)" \
    test "$(field answer "$out")" = 404 -a "$(field accepted "$out")" = 0

# ---- the counters ----
rdv_stats
tap_check "SIGUSR1 logs a stats line ($line)" test -n "$line"
# UDP: cone-u, retx, rate x5, def-u, res-u = 9; TCP: cone-t, cone-w,
# cone-q, other, def-t, def-x, res-t = 7
tap_check "reach 18 (16 served, 2 rate-limited)" test "$(rdv_stat reach)" = 18
tap_check "reached 10 (9 UDP nonces sent, 1 TCP nonce read back)" test "$(rdv_stat reached)" = 10
tap_check "not-reached 6" test "$(rdv_stat not-reached)" = 6
tap_check "rate-limited 2" test "$(rdv_stat rate-limited)" = 2
tap_check "retransmits 1, replayed 0" test "$(rdv_stat retransmits)" = 1 -a "$(rdv_stat replayed)" = 0

lab_rendezvous_stop
tap_check "SIGTERM: exit 0 ($LAB_RDV_STATUS)" test "$LAB_RDV_STATUS" = 0
tap_done
