# SPDX-License-Identifier: ISC
# A router that accepts TCP but never answers does not stall natmapd: signals stay prompt, exit within 5 s.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080

nm_start lan hung.log -m 8080/tcp -m 9000/udp --lease 60 --protocol upnp
tap_check "mapped while the router answers: both rules on the router" \
    lab_wait 10 eval '[ "$(count_rules 9000)" = 1 ] && [ "$(count_rules 8080)" = 1 ]'
tap_check "and the WAN reaches the service" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080

# Freeze miniupnpd: the kernel still accepts its TCP connections, nobody answers.
kill -STOP "$LAB_MINIUPNPD_PID"
it_on_exit 'kill -CONT "$LAB_MINIUPNPD_PID" 2>/dev/null'
# Force requests into the hung router: a SIGHUP with one more mapping.
printf 'map 7000/tcp\n' >"$NM_CONF"
kill -HUP "$NM_PID"
tap_check "SIGHUP is handled at once while the router hangs" \
    nm_wait_log 2 "SIGHUP: configuration reloaded"
tap_check "the new mapping's request is under way" \
    nm_wait_log 2 "AddPortMapping TCP 7000"
# seen from the router: a connection from the LAN host to miniupnpd's HTTP
# port whose request nobody read
unread_request() {
	lab_rtr ss -Htn state established "( sport = :$LAB_HTTP_PORT )" |
	    awk -v lan="$LAB_LAN_IP" '$1 > 0 && index($4, lan ":") == 1 { n++ }
	    END { exit !n }'
}
tap_check "the router holds the request, unread" lab_wait 2 unread_request

nm_stop_check "SIGTERM with a hung router" 5000
tap_check "the log says the deletes got no answer" \
    nm_log_has "no answer to the delete in time|delete failed"
kill -CONT "$LAB_MINIUPNPD_PID"
tap_done
