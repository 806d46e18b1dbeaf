# SPDX-License-Identifier: ISC
# natmapd maps a TCP and a UDP service and a range on a real miniupnpd; the WAN reaches them; SIGTERM removes them.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 5353
lab_serve_tcp 7001

nm_start lan natmapd.log -m 8080/tcp -m 5353:15353/udp -m 7000-7002/tcp --protocol upnp
if lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null; then
	tap_ok "tcp 8080 reached from the WAN through the mapping ($(( $(lab_now_ms) - NM_T0 )) ms after start)"
else
	tap_fail "tcp 8080 reached from the WAN through the mapping"; nm_diag
fi
tap_check "udp 5353 reached from the WAN as 15353" \
    lab_wait 10 lab_reach_udp "$LAB_RTR_WAN_IP" 15353
tap_check "a port of a range (7001 of 7000-7002) reached from the WAN" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 7001
tap_check "the router holds one rule per mapped port" \
    lab_wait 5 eval '[ "$(lab_rules | grep -c "dnat to $LAB_LAN_IP")" = 5 ]'
tap_check "the log says what was mapped, to where, by which service and lease" \
    nm_wait_log 5 "^tcp $LAB_LAN_IP:8080 -> $LAB_RTR_WAN_IP:8080 via UPnP \(WANIPConnection:2\), lease 3600s$"
# the lease it names is the router's: 3600 s, less the seconds since
tcp_lease_left=$(lease_left tcp 8080)
if [ -n "$tcp_lease_left" ] && [ "$tcp_lease_left" -le 3600 ] &&
    [ "$tcp_lease_left" -gt 3500 ]; then
	tap_ok "the router holds the 3600 s lease the log names ($tcp_lease_left s left)"
else
	tap_fail "the router holds the 3600 s lease the log names (got '$tcp_lease_left' s left)" \
	    "$(sed 's/^/lease: /' "$LAB_DIR/miniupnpd.leases" 2>/dev/null)"
fi
tap_check "a public external address draws no double-NAT warning" \
    eval '! nm_log_has "reports external address .*NAT"'
listing=$(lab_lan upnpc -u "$LAB_ROOTDESC" -l 2>/dev/null)
if printf '%s\n' "$listing" | grep -Eq "natmapd:[0-9a-f]{4} tcp 8080"; then
	tap_ok "the mapping's description identifies natmapd and its instance"
else
	tap_fail "the mapping's description identifies natmapd and its instance"
	printf '%s\n' "$listing" | sed 's/^/# upnpc: /'
fi

nm_stop_check "SIGTERM" 5000
if [ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]; then
	tap_ok "SIGTERM leaves no mapping on the router"
else
	tap_fail "SIGTERM leaves no mapping on the router"; lab_rules | sed 's/^/# rule: /'
fi
tap_check "the WAN no longer reaches tcp 8080" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null'
tap_check "nor udp 15353" \
    eval '! lab_reach_udp "$LAB_RTR_WAN_IP" 15353 >/dev/null'
tap_check "nor tcp 7001 of the range" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 7001 >/dev/null'
tap_check "and the router holds no lease for $LAB_LAN_IP" \
    eval '! grep -q ":$LAB_LAN_IP:" "$LAB_DIR/miniupnpd.leases"'
tap_done
