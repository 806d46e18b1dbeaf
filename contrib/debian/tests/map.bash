# SPDX-License-Identifier: ISC
# autopkgtest "map": the installed natmapd, run with the installed
# /etc/natmapd.conf (map 8080/tcp), maps the LAN host's port on the lab's
# miniupnpd and the WAN host reaches the service through the mapping;
# natmapctl status says so; SIGTERM deletes it.  Then the same as the unit
# runs it: as an unprivileged user without capabilities or a way to gain
# any (setpriv), state and control socket in a directory of its own, and
# READY=1 on a notify socket.  Run from the top of the source tree.
export NATMAPD=/usr/sbin/natmapd NATMAPCTL=/usr/sbin/natmapctl
. tests/integration/common.sh
lab_need_python

tap_check "the installed /etc/natmapd.conf is accepted (natmapd -n)" \
    "$NATMAPD" -n
tap_check "natmapctl is installed and runs" "$NATMAPCTL" -h

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080

# ---- as root, the installed configuration ----
cp /etc/natmapd.conf "$LAB_DIR/natmapd.conf"
nm_start lan natmapd.log
tap_check "tcp 8080 reached from the WAN through the mapping" \
    lab_wait 15 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 || nm_diag
tap_check "natmapctl status names the mapping" \
    eval '"$NATMAPCTL" -s "$NM_CTL" status | grep -q "8080"'
nm_stop_check "SIGTERM" 10000
tap_check "the router holds no rule for it afterwards" no_rule_for 8080
tap_check "the WAN no longer reaches tcp 8080" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null'

# ---- as the unit runs it: no root, no capabilities, no new privileges ----
base=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-autopkgtest.XXXXXX") || exit 1
it_on_exit 'rm -rf "$base"'
chmod 0755 "$base"
mkdir -m 0700 "$base/state" && mkdir -m 0755 "$base/run"
chown nobody: "$base/state" "$base/run"
cp /etc/natmapd.conf "$base/natmapd.conf" && chmod 0644 "$base/natmapd.conf"
: >"$base/notify.out"
lab_bg notify "$(lab_ns_of lan)" python3 -u "$SRCDIR/tests/lab/notify.py" \
    "$base/run/notify" "$base/notify.out"
lab_wait 10 test -S "$base/run/notify" && chmod 0777 "$base/run/notify"
ip netns exec "$(lab_ns_of lan)" env NOTIFY_SOCKET="$base/run/notify" \
    setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
    --inh-caps=-all --bounding-set=-all \
    "$NATMAPD" -f -v -c "$base/natmapd.conf" \
    --state-file "$base/state/state" --status-file "$base/run/status.json" \
    --control "$base/run/control" </dev/null >"$LAB_DIR/nobody.log" 2>&1 &
NM_PID=$! NM_LOG=$LAB_DIR/nobody.log
tap_check "READY=1 on the notify socket" \
    lab_wait 35 grep -q '^READY=1' "$base/notify.out"
tap_check "as nobody without capabilities: tcp 8080 reached from the WAN" \
    lab_wait 15 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 || nm_diag
tap_check "it runs as nobody" \
    eval '[ "$(ps -o user= -p "$NM_PID")" = nobody ]'
# (written 100 ms after the mapping is made: it may follow the reach)
tap_check "its state file is written" lab_wait 5 test -s "$base/state/state"
nm_stop_check "SIGTERM as nobody" 10000
tap_check "STOPPING=1 on the notify socket" grep -q '^STOPPING=1' "$base/notify.out"
tap_check "the router holds no rule for it afterwards" no_rule_for 8080
tap_done
