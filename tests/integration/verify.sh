# SPDX-License-Identifier: ISC
# A router that drops a UPnP rule behind natmapd's back (idle purge, a reload):
# the periodic check, here brought forward with SIGUSR1, finds it gone and puts it back.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 9000

# What the router was asked since line $RMARK of its log: miniupnpd -d logs
# each GetSpecificPortMappingEntry it answers, with port and protocol.
asked_about() {
	tail -n +"$((RMARK + 1))" "$LAB_DIR/miniupnpd.log" |
	    grep -q "GetSpecificPortMappingEntry: rhost='[^']*' $1 $2 "
}

nm_start lan verify.log -m 8080/tcp -m 9000/udp --protocol upnp
tap_check "mapped: udp 9000 reached from the WAN" \
    lab_wait 10 lab_reach_udp "$LAB_RTR_WAN_IP" 9000
tap_check "mapped: tcp 8080 reached from the WAN" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
# The router loses one entry (deleted here through UPnP, from the same host).
lab_lan upnpc -u "$LAB_ROOTDESC" -d 8080 TCP >/dev/null 2>&1
tap_check "the router no longer forwards tcp 8080" \
    lab_wait 3 eval '! has_rule "dport 8080 dnat"'
tap_check "the WAN no longer reaches tcp 8080" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null'
# The lease of the entry still there: the clock's second turns first, so a
# needless add would write another expiry.
lease_9000=$(lease_of udp 9000)
second_turns
RMARK=$(wc -l <"$LAB_DIR/miniupnpd.log")
t0=$(lab_now_ms)
kill -USR1 "$NM_PID"
tap_check "SIGUSR1: natmapd says it checks at once" \
    nm_wait_log 2 "^checking the gateway and the mappings now$"
tap_check "SIGUSR1: the router is asked about tcp 8080 at once" \
    lab_wait 5 asked_about 8080 TCP
if lab_wait 5 has_rule "dport 8080 dnat to $LAB_LAN_IP:8080"; then
	tap_ok "the missing entry is back on the router ($(( $(lab_now_ms) - t0 )) ms after SIGUSR1)"
else
	tap_fail "the missing entry is back on the router"; nm_diag
fi
tap_check "and reached again: tcp 8080 from the WAN" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "the log says why it was added again" \
    nm_log_has "^tcp 8080 -> 8080: no longer on the gateway; adding it again$"
tap_check "the entry still there is asked about" \
    lab_wait 3 asked_about 9000 UDP
lease_9000_kept() { [ -n "$lease_9000" ] && [ "$(lease_of udp 9000)" = "$lease_9000" ]; }
tap_check "and left alone: its lease on the router unchanged" lease_9000_kept
tap_check "and the log does not claim to add it again" \
    eval '! nm_log_has "^udp 9000 -> 9000: .*adding it again"'
tap_check "udp 9000 still reached" lab_reach_udp "$LAB_RTR_WAN_IP" 9000
nm_stop_check "SIGTERM" 5000
tap_check "nothing left" \
    lab_wait 3 eval '[ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]'
tap_check "neither reached from the WAN" eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null &&
    ! lab_reach_udp "$LAB_RTR_WAN_IP" 9000 >/dev/null'
tap_done
