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

nm_start lan conflict.log -m 8080/tcp --protocol upnp
tap_check "the error names the host that holds the port" \
    nm_wait_log 10 "^tcp $LAB_LAN_IP:8080: mapping failed: external port 8080 is held by $LAB_LAN2_IP:8080 \(ConflictInMappingEntry\); retrying in [0-9]+s$"
tap_check "natmapd keeps running and retries with backoff" \
    nm_wait_log 10 "retrying in [2-3]s$"
tap_check "the other host's mapping is untouched" \
    has_rule "dport 8080 dnat to $LAB_LAN2_IP:8080"
nm_stop TERM
tap_check "SIGTERM after a conflict exits 0" test "$NM_STATUS" = 0
tap_check "and leaves the other host's mapping alone" \
    has_rule "dport 8080 dnat to $LAB_LAN2_IP:8080"

nm_start lan anyport.log -m 8080/tcp --any-port --protocol upnp
if nm_wait_log 10 "^tcp $LAB_LAN_IP:8080 -> $LAB_RTR_WAN_IP:[0-9]+ via UPnP"; then
	port=$(sed -n "s/^tcp $LAB_LAN_IP:8080 -> $LAB_RTR_WAN_IP:\([0-9]*\) via.*/\1/p" "$NM_LOG" | head -n 1)
	if [ -n "$port" ] && [ "$port" != 8080 ]; then
		tap_ok "--any-port: mapped to another external port ($port)"
	else
		tap_fail "--any-port: mapped to another external port (got '$port')"
	fi
	tap_check "--any-port: the WAN reaches the service on port $port" \
	    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" "$port"
else
	tap_fail "--any-port: mapped to another external port"; nm_diag
	tap_fail "--any-port: the WAN reaches the service"
fi
nm_stop TERM
tap_check "--any-port mapping deleted on SIGTERM" \
    eval '[ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]'
tap_done
