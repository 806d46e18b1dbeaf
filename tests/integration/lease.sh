# SPDX-License-Identifier: ISC
# A short lease is renewed at half its length, so the mapping outlives it.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080

# remaining lease of the router's entry for port 8080, from upnpc -l
remaining() {
	lab_lan upnpc -u "$LAB_ROOTDESC" -l 2>/dev/null |
	    awk '/natmapd:[0-9a-f]+ tcp 8080/ { print $NF }' | tr -d "'"
}

nm_start lan natmapd.log -m 8080/tcp --lease 60 --protocol upnp
tap_check "mapped with the 60 s lease asked for" \
    nm_wait_log 10 "^tcp $LAB_LAN_IP:8080 -> .*:8080 via UPnP .*, lease 60s$"
# The renewal is due at 30 s (half the granted lease).
if nm_wait_log 40 "^tcp 8080 renewed, lease 60s$"; then
	tap_ok "renewed at half the lease ($(( ($(lab_now_ms) - NM_T0) / 1000 )) s after start)"
else
	tap_fail "renewed at half the lease"; nm_diag
fi
r=$(remaining)
if [ -n "$r" ] && [ "$r" -gt 45 ] 2>/dev/null; then
	tap_ok "the router's remaining lease went back up ($r s left)"
else
	tap_fail "the router's remaining lease went back up (got '$r')"
fi
tap_check "still reached from the WAN after the renewal" \
    lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
nm_stop TERM
tap_check "SIGTERM leaves no mapping" no_rule_for 8080
tap_done
