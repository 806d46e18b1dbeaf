# SPDX-License-Identifier: ISC
# A router reboot (miniupnpd stopped, its rules, conntrack and lease file gone,
# started again) is noticed, and every mapping is back within the target; a
# natmapd killed with -9 and started again leaves one entry per mapping.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 9000

router_reboot() {
	lab_router_stop
	lab_rules_flush
	lab_flush_conntrack
	rm -f "$LAB_DIR/miniupnpd.leases"
	tap_check "--protocol $p: the reboot took the mappings away" \
	    test "$(count_rules 8080)" = 0
	lab_router_start
}
# Each mapping comes back after its own random 0..5 s: wait for both at once.
both_reached() {
	lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null &&
	    lab_reach_udp "$LAB_RTR_WAN_IP" 9000 >/dev/null
}

for p in pcp natpmp upnp; do
	nm_start lan "reboot-$p.log" -m 8080/tcp -m 9000/udp --protocol "$p"
	tap_check "--protocol $p: reached before the reboot" \
	    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
	router_reboot || tap_fail "miniupnpd comes back"
	t0=$(lab_now_ms)
	# The time it takes is bench/startup.sh's business (median 4.5 s,
	# the RFC's random 0-5 s included); a test only bounds the wait.
	if lab_wait 15 both_reached; then
		tap_ok "--protocol $p: tcp and udp reached again $(( $(lab_now_ms) - t0 )) ms after the router answered"
	else
		tap_fail "--protocol $p: reached again after the reboot"; nm_diag
	fi
	tap_check "--protocol $p: the log says why it mapped again" \
	    nm_log_has "(announced a restart|restarted or lost its mappings)"
	nm_stop_check "--protocol $p: SIGTERM" 5000
	tap_check "--protocol $p: nothing left" lab_wait 3 eval '[ "$(count_rules 8080)" = 0 ]'
done

# A router that speaks UPnP only announces nothing over PCP: its SSDP NOTIFY
# with a new BOOTID tells natmapd.
lab_router_stop
lab_router_start enable_natpmp=no || tap_fail "miniupnpd starts without NAT-PMP/PCP"
p=upnp-only
nm_start lan reboot-upnp-only.log -m 8080/tcp -m 9000/udp
# the router's lease for it was made through UPnP (natmapd's description)
by_upnp() { [[ $(lease_desc "$1" "$2") =~ ^natmapd: ]]; }
tap_check "UPnP-only router: mapped via UPnP, as the router's lease says" \
    lab_wait 10 by_upnp udp 9000
tap_check "UPnP-only router: tcp and udp reached before the reboot" \
    lab_wait 10 both_reached
lab_router_stop
lab_rules_flush
lab_flush_conntrack
rm -f "$LAB_DIR/miniupnpd.leases"
# miniupnpd's BOOTID is the second it started in; a real reboot takes many:
# let the clock's second turn, as it would.
second_turns
lab_router_start enable_natpmp=no
t0=$(lab_now_ms)
if lab_wait 15 both_reached; then
	tap_ok "UPnP-only router: reached again $(( $(lab_now_ms) - t0 )) ms after the router answered"
else
	tap_fail "UPnP-only router: reached again after the reboot"; nm_diag
fi
tap_check "UPnP-only router: the log says the BOOTID changed" \
    nm_log_has "restarted \\(UPnP BOOTID [0-9]+ -> [0-9]+\\); mapping again"
nm_stop_check "UPnP-only router: SIGTERM" 5000

# It comes back on another HTTP port (miniupnpd takes a new one at each
# start unless told one): its NOTIFY's LOCATION says where; the old control
# URL is dead.
nm_start lan moved.log -m 8080/tcp --protocol upnp
tap_check "moved IGD: mapped via UPnP, as the router's lease says" \
    lab_wait 10 by_upnp tcp 8080
tap_check "moved IGD: reached before the move" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
lab_router_stop
lab_rules_flush
lab_flush_conntrack
rm -f "$LAB_DIR/miniupnpd.leases"
LAB_HTTP_PORT=5001 lab_router_start enable_natpmp=no ||
    tap_fail "miniupnpd starts on port 5001"
t0=$(lab_now_ms)
tap_check "moved IGD: the new LOCATION is noticed" \
    nm_wait_log 5 "^gateway $LAB_RTR_LAN_IP now describes itself at http://$LAB_RTR_LAN_IP:5001/rootDesc.xml; looking for it again$"
if lab_wait 8 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null; then
	tap_ok "moved IGD: reached again $(( $(lab_now_ms) - t0 )) ms after the router answered"
else
	tap_fail "moved IGD: reached again after the move"; nm_diag
fi
tap_check "moved IGD: mapped through the new description" \
    nm_log_has "^UPnP \\(WANIPConnection:2\\) gateway http://$LAB_RTR_LAN_IP:5001/rootDesc.xml$"
nm_stop_check "moved IGD: SIGTERM" 5000
tap_check "moved IGD: nothing left" lab_wait 3 eval '[ "$(count_rules 8080)" = 0 ]'
lab_router_stop
lab_router_start || tap_fail "miniupnpd starts again with everything"

# kill -9, then a new natmapd: one entry per configured mapping, no more.
# The router's lease for it tells when the new natmapd has mapped: its
# expiry moves on.
lease_8080() { lease_of tcp 8080; }
lease_renewed() { [ -n "$(lease_8080)" ] && [ "$(lease_8080)" != "$lease" ]; }
for p in pcp natpmp upnp; do
	nm_start lan "kill9-$p.log" -m 8080/tcp --protocol "$p"
	tap_check "--protocol $p: mapped before the kill" \
	    lab_wait 10 eval '[ "$(count_rules 8080)" = 1 ] && [ -n "$(lease_8080)" ]'
	kill -KILL "$NM_PID"
	wait "$NM_PID" 2>/dev/null
	NM_PID=
	lease=$(lease_8080)
	tap_check "--protocol $p: kill -9 leaves the mapping behind" \
	    eval '[ "$(count_rules 8080)" = 1 ] && [ -n "$lease" ]'
	# the expiry is in seconds: let the second turn, or a renewal
	# could write the same line
	second_turns
	nm_start lan "restart-$p.log" -m 8080/tcp --protocol "$p"
	if lab_wait 10 lease_renewed; then
		tap_ok "--protocol $p: the new natmapd renewed the router's lease"
	else
		tap_fail "--protocol $p: the new natmapd renewed the router's lease" \
		    "before: $lease" "now: $(lease_8080)"
		nm_diag
	fi
	tap_check "--protocol $p: the new natmapd's mapping is reached from the WAN" \
	    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
	tap_check "--protocol $p: exactly one entry for 8080 after the restart" \
	    eval '[ "$(count_rules 8080)" = 1 ] &&
	    [ "$(grep -c "^TCP:8080:" "$LAB_DIR/miniupnpd.leases")" = 1 ]'
	nm_stop_check "--protocol $p: SIGTERM after the restart" 5000
	tap_check "--protocol $p: and none after it" \
	    lab_wait 3 eval '[ "$(count_rules 8080)" = 0 ]'
done
tap_done
