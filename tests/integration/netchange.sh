# SPDX-License-Identifier: ISC
# A network change (new address and default route, as after a DHCP renewal) is
# seen through rtnetlink: natmapd probes again and maps to the new address at once.
# The entry for the old address cannot be deleted from the new one (PCP checks
# the source, miniupnpd's secure mode refuses): it holds its port until its lease
# ends, so the new mapping takes another port (--any-port).
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
new_ip=192.168.77.20

for p in pcp natpmp upnp; do
	nm_start lan "netchange-$p.log" -m 8080/tcp --protocol "$p" --any-port
	tap_check "--protocol $p: the router forwards 8080 to $LAB_LAN_IP" \
	    lab_wait 10 has_rule "^tcp dport 8080 dnat to $LAB_LAN_IP:8080$"
	tap_check "--protocol $p: and the WAN reaches the service" \
	    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
	# A DHCP renewal with a new lease: the old address goes (and the
	# default route with it), the new one comes, the route is added again.
	t0=$(lab_now_ms)
	lab_lan ip addr del "$LAB_LAN_IP/24" dev "$LAB_HOST_IF"
	lab_lan ip addr add "$new_ip/24" dev "$LAB_HOST_IF"
	lab_lan ip route add default via "$LAB_RTR_LAN_IP"
	# timed on the router's lease, then its rule checked
	port=
	if lab_wait 10 eval 'port=$(lease_ext_port tcp "$new_ip" 8080)' &&
	    ms=$(( $(lab_now_ms) - t0 )) &&
	    lab_wait 3 has_rule "^tcp dport $port dnat to $new_ip:8080$"; then
		# a bound with a wide margin (it takes well under 1 s on an
		# idle machine); measuring is a benchmark's business
		if [ "$ms" -le 5000 ]; then
			tap_ok "--protocol $p: re-mapped to $new_ip in $ms ms (limit 5000)"
		else
			tap_fail "--protocol $p: re-mapped to $new_ip within 5000 ms (took $ms ms)"
		fi
	else
		tap_fail "--protocol $p: re-mapped to $new_ip"; nm_diag
	fi
	tap_check "--protocol $p: the log says the network changed" \
	    nm_log_has "^network changed \\((route|address)"
	tap_check "--protocol $p: the WAN reaches the service at its new address (port ${port:-?})" \
	    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" "${port:-0}"
	tap_check "--protocol $p: the log names the new mapping" \
	    nm_wait_log 5 "^tcp $new_ip:8080 -> $LAB_RTR_WAN_IP:${port:-0} via"
	nm_stop_check "--protocol $p: SIGTERM" 5000
	tap_check "--protocol $p: the mapping to $new_ip is deleted" \
	    lab_wait 3 eval '! has_rule "dnat to $new_ip:8080"'
	tap_check "--protocol $p: the WAN no longer reaches port ${port:-?}" \
	    eval '[ -n "$port" ] && ! lab_reach_tcp "$LAB_RTR_WAN_IP" "$port" >/dev/null'
	# Back to the first address for the next round; drop what the old
	# address left on the router (it cannot be deleted from the new one).
	lab_lan ip addr del "$new_ip/24" dev "$LAB_HOST_IF"
	lab_lan ip addr add "$LAB_LAN_IP/24" dev "$LAB_HOST_IF"
	lab_lan ip route add default via "$LAB_RTR_LAN_IP"
	lab_lan upnpc -u "$LAB_ROOTDESC" -d 8080 TCP >/dev/null 2>&1
	lab_lan natpmpc -g "$LAB_RTR_LAN_IP" -a 8080 8080 tcp 0 >/dev/null 2>&1
	lab_wait 3 eval '! has_rule "dport 8080 "' || lab_rules_flush
done
tap_done
