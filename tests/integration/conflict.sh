# SPDX-License-Identifier: ISC
# A port held by another LAN host gives a clear error; --any-port takes another port that works.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080

# The second LAN host takes external port 8080 for itself first.
if lab_lan2 upnpc -u "$LAB_ROOTDESC" -e "other host" -a "$LAB_LAN2_IP" 8080 8080 TCP 3600 >/dev/null 2>&1 &&
    has_rule "dport 8080 dnat to $LAB_LAN2_IP:8080"; then
	tap_ok "another LAN host holds external port 8080"
else
	tap_fail "another LAN host holds external port 8080"
fi

# The AddPortMapping requests the router answered since line $RMARK of its log.
adds_seen() {
	tail -n +"$((RMARK + 1))" "$LAB_DIR/miniupnpd.log" |
	    grep -c "^miniupnpd\[[0-9]*\]: SOAPAction: .*#AddPortMapping$"
}
RMARK=$(wc -l <"$LAB_DIR/miniupnpd.log")
nm_start lan conflict.log -m 8080/tcp --protocol upnp
tap_check "the error names the host that holds the port" \
    nm_wait_log 10 "^tcp $LAB_LAN_IP:8080: mapping failed: external port 8080 is held by $LAB_LAN2_IP:8080 \(ConflictInMappingEntry\); retrying in [0-9]+s$"
tap_check "natmapd keeps running and retries with backoff" \
    nm_wait_log 10 "retrying in [2-3]s$"
tap_check "the router is asked again" lab_wait 10 eval '[ "$(adds_seen)" -ge 2 ]'
tap_check "and forwards nothing to $LAB_LAN_IP" \
    eval '! has_rule "dnat to $LAB_LAN_IP:"'
tap_check "the other host's mapping is untouched" \
    has_rule "dport 8080 dnat to $LAB_LAN2_IP:8080"
nm_stop TERM
tap_check "SIGTERM after a conflict exits 0" test "$NM_STATUS" = 0
tap_check "and leaves the other host's mapping alone" \
    has_rule "dport 8080 dnat to $LAB_LAN2_IP:8080"

nm_start lan anyport.log -m 8080/tcp --any-port --protocol upnp
port=
lab_wait 10 eval 'port=$(ext_port tcp "$LAB_LAN_IP" 8080); [ -n "$port" ]'
if [ -n "$port" ] && [ "$port" != 8080 ]; then
	tap_ok "--any-port: the router forwards another external port ($port)"
	tap_check "--any-port: the WAN reaches the service on port $port" \
	    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" "$port"
	tap_check "--any-port: the log names that port" \
	    nm_wait_log 5 "^tcp $LAB_LAN_IP:8080 -> $LAB_RTR_WAN_IP:$port via UPnP"
else
	tap_fail "--any-port: the router forwards another external port (got '$port')"
	tap_fail "--any-port: the WAN reaches the service"
	tap_fail "--any-port: the log names that port"; nm_diag
fi
nm_stop TERM
tap_check "--any-port mapping deleted on SIGTERM" \
    eval '[ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]'
tap_check "--any-port: the WAN no longer reaches port ${port:-?}" \
    eval '[ -n "$port" ] && ! lab_reach_tcp "$LAB_RTR_WAN_IP" "$port" >/dev/null'
tap_done
