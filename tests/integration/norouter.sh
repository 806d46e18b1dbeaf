# SPDX-License-Identifier: ISC
# No gateway protocol on the LAN: concluded in about 1 s, a clear message, growing backoff, no spinning, no exit.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
# The router forwards and NATs, but runs no miniupnpd.

nm_start lan norouter.log -m 8080/tcp
if nm_wait_log 5 "^no gateway protocol answered"; then
	ms=$(( $(lab_now_ms) - NM_T0 ))
	# about 1 s on an idle machine: the bound keeps a wide margin
	if [ "$ms" -le 3000 ]; then
		tap_ok "no gateway protocol concluded in $ms ms (limit 3000)"
	else
		tap_fail "no gateway protocol concluded within 3000 ms (took $ms ms)"
	fi
else
	tap_fail "no gateway protocol concluded"; nm_diag
fi
if nm_wait_log 20 "retrying in (1|2)s$" && nm_wait_log 25 "retrying in (3|4|5)s$"; then
	tap_ok "retries with a growing backoff"
else
	tap_fail "retries with a growing backoff"; nm_diag
fi
tap_check "the message says what each protocol found" \
    nm_log_has "^no gateway protocol answered on eth0 \(PCP: port 5351 unreachable; NAT-PMP: port 5351 unreachable; UPnP: no UPnP IGD answered\); retrying in [0-9]+s$"
tap_check "natmapd is still running" nm_alive
# CPU time used so far, in clock ticks (utime + stime): a spinning loop would use seconds.
ticks=$(awk '{ print $14 + $15 }' "/proc/$NM_PID/stat")
hz=$(getconf CLK_TCK)
if [ "$ticks" -lt $(( hz / 2 )) ]; then
	tap_ok "not spinning: $ticks ticks of CPU in $(( ($(lab_now_ms) - NM_T0) / 1000 )) s"
else
	tap_fail "not spinning: $ticks ticks of CPU (limit $(( hz / 2 )))"
fi
nm_stop_check "SIGTERM with nothing mapped" 1000
tap_done
