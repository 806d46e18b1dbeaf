# SPDX-License-Identifier: ISC
# Running as a daemon (detach, pid file), --gateway without a default route, --interface.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
conf="$LAB_DIR/options.conf"
: >"$conf"

# --- as a daemon: the parent returns, the child writes its pid file and maps.
pidfile="$LAB_DIR/natmapd.pid"
if lab_lan "$NATMAPD" -c "$conf" --pidfile "$pidfile" \
    --state-file "$LAB_DIR/daemon.state" -m 8080/tcp </dev/null >/dev/null 2>&1; then
	tap_ok "without -f the command returns at once with status 0"
else
	tap_fail "without -f the command returns at once with status 0"
fi
pid_alive() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
tap_check "the pid file names the running daemon" lab_wait 5 pid_alive
NM_PID=$(cat "$pidfile" 2>/dev/null)
tap_check "the daemon's mapping is reached from the WAN" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
# Detached: another session than ours, and no controlling terminal.
if [ -n "$NM_PID" ] && [ "$(ps -o sid= -p "$NM_PID" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] &&
    [ "$(ps -o tty= -p "$NM_PID" | tr -d ' ')" = "?" ]; then
	tap_ok "the daemon runs in a session of its own, without a terminal"
else
	tap_fail "the daemon runs in a session of its own, without a terminal" \
	    "$(ps -o pid,sid,tty,args -p "$NM_PID" $$)"
fi
daemon_gone() { ! kill -0 "$NM_PID" 2>/dev/null; }
kill -TERM "$NM_PID" 2>/dev/null
tap_check "SIGTERM stops the daemon" lab_wait 6 daemon_gone
NM_PID=
tap_check "and it removed its mapping" lab_wait 2 no_rule_for 8080
tap_check "which the WAN no longer reaches" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null'
tap_check "and its pid file" test ! -e "$pidfile"

# --- no default route on the LAN host.
lab_lan ip route del default
nm_start lan noroute.log -m 8080/tcp
tap_check "without a default route: a clear message, and retries" \
    nm_wait_log 5 "^no IPv4 default route; retrying in [0-9]+s$"
tap_check "without a default route: nothing mapped on the router" \
    no_rule_for 8080
nm_stop TERM
tap_check "which SIGTERM ends with status 0" test "$NM_STATUS" = 0

# A route to the WAN client alone, not a default route: its answers
# get back to it.
lab_lan ip route add "$LAB_WAN_IP/32" via "$LAB_RTR_LAN_IP"
nm_start lan gateway.log -m 8080/tcp --gateway "$LAB_RTR_LAN_IP"
tap_check "--gateway: maps without a default route: the router holds the rule" \
    lab_wait 10 has_rule "dport 8080 dnat to $LAB_LAN_IP:8080"
tap_check "--gateway: the WAN reaches the service" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
nm_stop TERM
tap_check "--gateway: removed on SIGTERM" lab_wait 2 no_rule_for 8080
lab_lan ip route del "$LAB_WAN_IP/32"
lab_lan ip route add default via "$LAB_RTR_LAN_IP"

# --- --interface
nm_start lan iface.log -m 8080/tcp --interface "$LAB_HOST_IF"
tap_check "--interface $LAB_HOST_IF: the router forwards to that interface's address" \
    lab_wait 10 has_rule "dport 8080 dnat to $LAB_LAN_IP:8080"
tap_check "--interface $LAB_HOST_IF: the WAN reaches the service" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
nm_stop TERM
tap_check "--interface $LAB_HOST_IF: removed on SIGTERM" lab_wait 2 no_rule_for 8080
nm_start lan noiface.log -m 8080/tcp --interface nosuch0
tap_check "--interface with no such interface: a clear message, and retries" \
    nm_wait_log 5 "no IPv4 default route on nosuch0; retrying in [0-9]+s$"
tap_check "--interface with no such interface: nothing mapped on the router" \
    no_rule_for 8080
nm_stop TERM

# --- SIGHUP: the file now drops 8080/tcp and adds 9000/udp.
lab_serve_udp 9000
printf 'map 8080/tcp\n' >"$NM_CONF"
nm_start lan hup.log
tap_check "mapped from the configuration file: the WAN reaches tcp 8080" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
printf 'map 9000/udp\n' >"$NM_CONF"
kill -HUP "$NM_PID"
tap_check "SIGHUP: the dropped mapping is deleted from the router" \
    lab_wait 5 no_rule_for 8080
tap_check "SIGHUP: the WAN no longer reaches tcp 8080" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null'
tap_check "SIGHUP: the new mapping is reached from the WAN" \
    lab_wait 5 lab_reach_udp "$LAB_RTR_WAN_IP" 9000
printf 'map 9000/udp\nbogus line\n' >"$NM_CONF"
kill -HUP "$NM_PID"
tap_check "SIGHUP with a broken file: the error, and nothing changes" \
    nm_wait_log 3 "natmapd.conf:2: unknown keyword \"bogus\""
tap_check "the mapping stays" has_rule "dport 9000 dnat to $LAB_LAN_IP:9000"
tap_check "and is still reached from the WAN" lab_reach_udp "$LAB_RTR_WAN_IP" 9000
tap_check "and the dropped one does not come back" no_rule_for 8080
nm_stop_check "SIGTERM after reloads" 5000
tap_check "nothing left on the router" lab_wait 2 eval '[ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]'
tap_check "the WAN no longer reaches udp 9000" \
    eval '! lab_reach_udp "$LAB_RTR_WAN_IP" 9000 >/dev/null'
tap_done
