# SPDX-License-Identifier: ISC
# A router that drops a UPnP rule behind natmapd's back (idle purge, a reload):
# the periodic check, here brought forward with SIGUSR1, finds it gone and puts it back.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 9000

nm_start lan verify.log -m 8080/tcp -m 9000/udp --protocol upnp
tap_check "mapped" nm_wait_log 10 "^udp $LAB_LAN_IP:9000 -> .* via UPnP"
nm_wait_log 10 "^tcp $LAB_LAN_IP:8080 -> .* via UPnP" || true
# The router loses one entry (deleted here through UPnP, from the same host).
lab_lan upnpc -u "$LAB_ROOTDESC" -d 8080 TCP >/dev/null 2>&1
tap_check "the router no longer forwards tcp 8080" \
    lab_wait 3 eval '! has_rule "dport 8080 dnat"'
t0=$(lab_now_ms)
kill -USR1 "$NM_PID"
tap_check "SIGUSR1: natmapd checks at once" \
    nm_wait_log 2 "^checking the gateway and the mappings now$"
if nm_wait_log 5 "^tcp 8080 -> 8080: no longer on the gateway; adding it again$"; then
	tap_ok "the missing entry is found ($(( $(lab_now_ms) - t0 )) ms after SIGUSR1)"
else
	tap_fail "the missing entry is found"; nm_diag
fi
tap_check "and put back: tcp 8080 reached again" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "the entry still there is left alone" \
    eval '! nm_log_has "^udp 9000 -> 9000: .*adding it again"'
tap_check "udp 9000 still reached" lab_reach_udp "$LAB_RTR_WAN_IP" 9000
nm_stop_check "SIGTERM" 5000
tap_check "nothing left" \
    lab_wait 3 eval '[ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]'
tap_done
