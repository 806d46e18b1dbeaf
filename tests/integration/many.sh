# SPDX-License-Identifier: ISC
# 100 mappings through PCP on a router that slows down as its table fills: all are
# made without losing the gateway, SIGTERM deletes them all while the router answers,
# and a silent router is given up within seconds, leaving its deletes to the next start.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
state=$LAB_DIR/natmapd.state
# Wide limits: the figures belong to bench/scale.sh.
ADD_LIMIT=150		# s, 100 adds
STOP_LIMIT=90000	# ms, systemd's stop timeout
SILENT_LIMIT=10000	# ms, a router that answers nothing

# How many of 10000-10099/udp the router forwards to us.
ours() {
	lab_rules | grep -Ec "^udp dport 100[0-9][0-9] dnat to $LAB_LAN_IP:100[0-9][0-9]"
}
# nm_term LIMIT_S: SIGTERM, wait for the exit; NM_STATUS, NM_STOP_MS.
nm_term() {
	local t0
	t0=$(lab_now_ms)
	kill -TERM "$NM_PID"
	if lab_wait "$1" nm_dead; then
		wait "$NM_PID"
		NM_STATUS=$?
	else
		kill -KILL "$NM_PID"
		wait "$NM_PID"
		NM_STATUS=timeout
	fi
	NM_STOP_MS=$(( $(lab_now_ms) - t0 ))
	NM_PID=
}
# nm_term_check DESC LIMIT_MS: SIGTERM, one TAP line for "exited 0 within LIMIT_MS".
nm_term_check() {
	nm_term $(( $2 / 1000 + 5 ))
	if [ "$NM_STATUS" = 0 ] && [ "$NM_STOP_MS" -le "$2" ]; then
		tap_ok "$1: exit 0 in $NM_STOP_MS ms (limit $2)"
	else
		tap_fail "$1: exit 0 within $2 ms (status $NM_STATUS after $NM_STOP_MS ms)"
		nm_diag
	fi
}

nm_start lan many.log -m 10000-10099/udp --protocol pcp
tap_check "100 mappings are on the router" \
    lab_wait "$ADD_LIMIT" eval '[ "$(ours)" = 100 ]'
tap_check "the state file lists them" \
    lab_wait 5 eval '[ "$(grep -c "^map pcp udp 100" "$state")" = 100 ]'
tap_check "a slow router is never taken for a lost one" \
    eval '! nm_log_has "stopped answering"'
nm_term_check "SIGTERM" "$STOP_LIMIT"
tap_check "SIGTERM deleted all 100 from the router" eval '[ "$(ours)" = 0 ]'
tap_check "and from the state file" eval '[ "$(grep -c "^map " "$state")" = 0 ]'
tap_check "the log says how many deletes are left while it works" \
    eval '[ "$NM_STOP_MS" -lt 6000 ] || nm_log_has "^deleting: [0-9]+ of 100 left$"'
tap_check "no delete went unanswered" \
    eval '! nm_log_has "no answer to the delete"'

# A router that stops answering: natmapd does not wait for it.
nm_start lan silent.log -m 10000-10099/udp --protocol pcp
tap_check "100 mappings again" lab_wait "$ADD_LIMIT" eval '[ "$(ours)" = 100 ]'
lab_wait 5 eval '[ "$(grep -c "^map pcp udp 100" "$state")" = 100 ]' || true
kill -STOP "$LAB_MINIUPNPD_PID"
trap 'kill -CONT "$LAB_MINIUPNPD_PID" 2>/dev/null; it_cleanup' EXIT
nm_term_check "SIGTERM with a silent router" "$SILENT_LIMIT"
tap_check "the log says the deletes got no answer" \
    nm_log_has "^100 of 100 mappings: no answer to the delete in time"
tap_check "the state file keeps all 100" \
    eval '[ "$(grep -c "^map pcp udp 100" "$state")" = 100 ]'
tap_check "they are still on the router" eval '[ "$(ours)" = 100 ]'
# (Woken up, it may still act on deletes it had received.)
kill -CONT "$LAB_MINIUPNPD_PID"

# The next start, configured otherwise, deletes what the last one left.
lab_serve_tcp 8080
nm_start lan next.log -m 8080/tcp --protocol pcp
tap_check "the next start names what the last one left" \
    nm_wait_log 30 "^udp 10099 -> 10099, made by an earlier natmapd, is no longer configured: deleting it$"
tap_check "and deletes it from the router" \
    lab_wait "$ADD_LIMIT" eval '[ "$(ours)" = 0 ]'
tap_check "and maps its own: the router forwards tcp 8080" \
    lab_wait 30 has_rule "^tcp dport 8080 dnat to $LAB_LAN_IP:8080$"
tap_check "which the WAN reaches" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "the state file lists 8080 alone" \
    lab_wait 5 eval '[ "$(grep -c "^map " "$state")" = 1 ] && grep -q "^map pcp tcp 8080 " "$state"'
nm_stop_check "SIGTERM" 5000
tap_check "nothing left on the router" lab_wait 3 no_rule_for 8080
tap_done
