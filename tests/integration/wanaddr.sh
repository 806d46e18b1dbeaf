# SPDX-License-Identifier: ISC
# The router's public address changes (a PPPoE redial): natmapd reports the new
# address and the service is reached at it, through each protocol.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
old_ip=$LAB_RTR_WAN_IP
new_ip=203.0.113.5

for p in pcp natpmp upnp; do
	nm_start lan "wan-$p.log" -m 8080/tcp --protocol "$p"
	tap_check "--protocol $p: reached at $old_ip" \
	    lab_wait 10 lab_reach_tcp "$old_ip" 8080
	t0=$(lab_now_ms)
	wan_move "$old_ip" "$new_ip"
	if nm_wait_log 8 "^public address $old_ip -> $new_ip$"; then
		tap_ok "--protocol $p: the change is reported in $(( $(lab_now_ms) - t0 )) ms"
	else
		tap_fail "--protocol $p: the change is reported"; nm_diag
	fi
	if lab_wait 8 lab_reach_tcp "$new_ip" 8080 >/dev/null; then
		tap_ok "--protocol $p: reached at $new_ip $(( $(lab_now_ms) - t0 )) ms after the change"
	else
		tap_fail "--protocol $p: reached at $new_ip"; lab_rules | sed 's/^/# rule: /'
	fi
	nm_stop_check "--protocol $p: SIGTERM" 5000
	if lab_wait 3 eval '[ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]'; then
		tap_ok "--protocol $p: nothing left"
	else
		tap_fail "--protocol $p: nothing left"
		lab_rules | sed 's/^/# rule: /'
		sed 's/^/# lease: /' "$LAB_DIR/miniupnpd.leases" 2>/dev/null
		nm_diag 15
		tail -n 15 "$LAB_DIR/miniupnpd.log" | sed 's/^/# miniupnpd: /'
	fi
	wan_move "$new_ip" "$old_ip"
done
tap_done
