# SPDX-License-Identifier: ISC
# Each gateway protocol forced, and auto: TCP and UDP reached from the WAN through
# miniupnpd; routers that speak only PCP/NAT-PMP or only UPnP.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 9000

no_rules() { [ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]; }
neither_reached() {
	! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null &&
	    ! lab_reach_udp "$LAB_RTR_WAN_IP" 9000 >/dev/null
}
# made_by PROTO PORT REGEX: the router's lease for it was made by the
# protocol its description names (see lease_desc)
made_by() { [[ $(lease_desc "$1" "$2") =~ $3 ]]; }
both_made_by() { made_by tcp 8080 "$1" && made_by udp 9000 "$1"; }

# round PROTOCOL NAME-IN-LOG LEASE-DESCRIPTION
round() {
	nm_start lan "$1.log" -m 8080/tcp -m 9000/udp --protocol "$1"
	tap_check "--protocol $1: tcp 8080 reached from the WAN" \
	    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
	tap_check "--protocol $1: udp 9000 reached from the WAN" \
	    lab_wait 10 lab_reach_udp "$LAB_RTR_WAN_IP" 9000
	tap_check "--protocol $1: the router's leases were made through $2" \
	    both_made_by "$3"
	tap_check "--protocol $1: the log says mapped via $2" \
	    nm_wait_log 5 "^udp $LAB_LAN_IP:9000 -> $LAB_RTR_WAN_IP:9000 via $2, lease 3600s$"
	nm_stop_check "--protocol $1: SIGTERM" 5000
	tap_check "--protocol $1: nothing left on the router" lab_wait 2 no_rules
	tap_check "--protocol $1: neither reached from the WAN" neither_reached
}

round pcp PCP "^PCP MAP "
round natpmp NAT-PMP "^NAT-PMP "
round upnp "UPnP \(WANIPConnection:2\)" "^natmapd:[0-9a-f]{4} "
round auto PCP "^PCP MAP "

# Conflicts: another LAN host holds external port 8080.
lab_lan2 upnpc -u "$LAB_ROOTDESC" -e "other host" -a "$LAB_LAN2_IP" 8080 8080 TCP 3600 >/dev/null 2>&1
tap_check "another LAN host holds external port 8080" \
    has_rule "dport 8080 dnat to $LAB_LAN2_IP:8080"
mine() { lab_rules | grep -q "dnat to $LAB_LAN_IP:8080"; }
for p in pcp natpmp; do
	nm_start lan "conflict-$p.log" -m 8080/tcp --protocol "$p"
	tap_check "--protocol $p: a held port is reported, with what was offered" \
	    nm_wait_log 10 "^tcp $LAB_LAN_IP:8080: mapping failed: external port 8080 is taken; the gateway offered [0-9]+ \((PCP|NAT-PMP)\); retrying in [0-9]+s$"
	tap_check "--protocol $p: the port offered instead is given back" \
	    lab_wait 3 eval '! mine'
	nm_stop_check "--protocol $p: SIGTERM after a conflict" 5000
	nm_start lan "anyport-$p.log" -m 8080/tcp --protocol "$p" --any-port
	port=
	lab_wait 10 eval 'port=$(ext_port tcp "$LAB_LAN_IP" 8080); [ -n "$port" ]'
	if [ -n "$port" ] && [ "$port" != 8080 ]; then
		tap_check "--protocol $p --any-port: reached on the port offered ($port)" \
		    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" "$port"
		tap_check "--protocol $p --any-port: the log names that port" \
		    nm_wait_log 5 "^tcp $LAB_LAN_IP:8080 -> $LAB_RTR_WAN_IP:$port via"
	else
		tap_fail "--protocol $p --any-port: the router forwards another port (got '$port')"
		nm_diag
	fi
	nm_stop_check "--protocol $p --any-port: SIGTERM" 5000
	tap_check "--protocol $p --any-port: deleted" lab_wait 3 eval '! mine'
	tap_check "--protocol $p --any-port: port ${port:-?} no longer reached" \
	    eval '[ -n "$port" ] && ! lab_reach_tcp "$LAB_RTR_WAN_IP" "$port" >/dev/null'
	tap_check "--protocol $p: the other host's mapping is untouched" \
	    has_rule "dport 8080 dnat to $LAB_LAN2_IP:8080"
done
lab_lan2 upnpc -u "$LAB_ROOTDESC" -d 8080 TCP >/dev/null 2>&1

# A router with PCP and NAT-PMP but no UPnP.
lab_router_stop
lab_router_start enable_upnp=no || tap_fail "miniupnpd starts without UPnP"
round auto PCP "^PCP MAP "
nm_start lan upnp-missing.log -m 8080/tcp --protocol upnp
tap_check "--protocol upnp on a router without UPnP: a clear message" \
    nm_wait_log 5 "^no gateway protocol answered on eth0 \(UPnP: no UPnP IGD answered\); retrying in [0-9]+s$"
tap_check "--protocol upnp on a router without UPnP: nothing mapped" no_rules
nm_stop_check "--protocol upnp without UPnP: SIGTERM" 1000

# A router with UPnP only: PCP and NAT-PMP get port unreachable at once.
lab_router_stop
lab_router_start enable_natpmp=no || tap_fail "miniupnpd starts without NAT-PMP/PCP"
nm_start lan upnp-only.log -m 8080/tcp -m 9000/udp
t0=$NM_T0
if lab_wait 10 made_by udp 9000 "^natmapd:"; then
	tap_ok "auto on a UPnP-only router: mapped via UPnP in $(( $(lab_now_ms) - t0 )) ms"
else
	tap_fail "auto on a UPnP-only router: mapped via UPnP" \
	    "$(sed 's/^/lease: /' "$LAB_DIR/miniupnpd.leases" 2>/dev/null)"
	nm_diag
fi
tap_check "auto on a UPnP-only router: the log says via UPnP" \
    nm_wait_log 5 "^udp $LAB_LAN_IP:9000 -> $LAB_RTR_WAN_IP:9000 via UPnP"
tap_check "auto on a UPnP-only router: tcp 8080 reached" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "auto on a UPnP-only router: udp 9000 reached" \
    lab_wait 10 lab_reach_udp "$LAB_RTR_WAN_IP" 9000
nm_stop_check "auto on a UPnP-only router: SIGTERM" 5000
tap_check "auto on a UPnP-only router: nothing left" lab_wait 2 no_rules
tap_check "auto on a UPnP-only router: neither reached" neither_reached
tap_done
