# SPDX-License-Identifier: ISC
# natmapd without root: started as nobody, and started as root with --user nobody, it maps
# ports the WAN reaches, answers natmapctl run by nobody on its own control socket and
# deletes them on SIGTERM; sd_notify messages are captured on a socket.
. "$(dirname "$0")/common.sh"
lab_need_python
NATMAPCTL=${NATMAPCTL:-$(dirname "$NATMAPD")/natmapctl}
[ -x "$NATMAPCTL" ] || { echo "1..0 # SKIP no natmapctl at $NATMAPCTL"; exit 0; }
command -v setpriv >/dev/null 2>&1 || { echo "1..0 # SKIP no setpriv"; exit 0; }

NOBODY=nobody
NOBODY_UID=$(id -u "$NOBODY" 2>/dev/null) || {
	echo "1..0 # SKIP no user $NOBODY here"; exit 0; }
NOBODY_GID=$(id -g "$NOBODY")
NOBODY_GROUPS=$(id -G "$NOBODY" | tr ' ' '\n' | sort -n | tr '\n' ' ')

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 5353

# A directory nobody can reach (the lab's own is root's alone).
base=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-unpriv.XXXXXX") || exit 1
it_on_exit 'rm -rf "$base"'
chmod 0755 "$base"
printf 'map 8080/tcp\nmap 5353/udp\n' >"$base/natmapd.conf"
chmod 0644 "$base/natmapd.conf"
# The binary where nobody can run it.
nmbin=$NATMAPD
if ! setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups \
    "$nmbin" -V >/dev/null 2>&1; then
	cp "$NATMAPD" "$base/natmapd" && chmod 0755 "$base/natmapd"
	nmbin=$base/natmapd
fi
ctlbin=$NATMAPCTL
if ! setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups \
    "$ctlbin" -h >/dev/null 2>&1; then
	cp "$NATMAPCTL" "$base/natmapctl" && chmod 0755 "$base/natmapctl"
	ctlbin=$base/natmapctl
fi
# ctl_as_nobody SOCKET ARGS...: natmapctl run by nobody
ctl_as_nobody() {
	local sock=$1
	shift
	setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --init-groups \
	    "$ctlbin" -s "$sock" "$@"
}
# both_up_via SOCKET: natmapctl status --json, run by nobody, says both
# mappings are reachable
both_up_via() {
	ctl_as_nobody "$1" status --json 2>/dev/null | python3 -c 'import json, sys
d = json.load(sys.stdin)
sys.exit(sum(1 for m in d["mappings"] if m["reachable"]) != 2)'
}

# The service manager's end: one line per datagram (tests/lab/notify.py).
NOTIFY=$base/notify
NOTIFY_OUT=$base/notify.out
# notify_start MODE: the socket with MODE (systemd's is 0777).
notify_start() {
	rm -f "$NOTIFY" "$NOTIFY_OUT"
	: >"$NOTIFY_OUT"
	lab_bg notify "$(lab_ns_of lan)" python3 -u "$SRCDIR/tests/lab/notify.py" "$NOTIFY" \
	    "$NOTIFY_OUT"
	NOTIFY_PID=$LAB_BG_PID
	lab_wait 15 test -S "$NOTIFY" && chmod "$1" "$NOTIFY"
}
notify_stop() { lab_kill "$NOTIFY_PID"; }
notify_has() { grep -Eq -- "$1" "$NOTIFY_OUT"; }
# notify_line REGEX: the number of the first line matching REGEX, or nothing
notify_line() { grep -En -- "$1" "$NOTIFY_OUT" | head -n 1 | cut -d: -f1; }
notify_diag() { sed 's/^/# notify: /' "$NOTIFY_OUT"; }

# nm_start_env LOGNAME WRAPPER... -- ARGS...: natmapd in the lan namespace
# with NOTIFY_SOCKET, through WRAPPER (setpriv ...; or nothing).
nm_start_env() {
	local ns wrap=()
	ns=$(lab_ns_of lan)
	NM_LOG="$LAB_DIR/$1"
	shift
	while [ "$1" != -- ]; do wrap+=("$1"); shift; done
	shift
	env NOTIFY_SOCKET="$NOTIFY" ip netns exec "$ns" "${wrap[@]}" \
	    "$nmbin" -f -v -c "$base/natmapd.conf" "$@" \
	    </dev/null >"$NM_LOG" 2>&1 &
	NM_PID=$!
	NM_T0=$(lab_now_ms)
}

# ids_are PID UID GID GROUPS: real, effective, saved and fs ids, the
# supplementary groups (sorted, space-separated) and no capability left.
proc_field() { awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' \
    "/proc/$1/status" 2>/dev/null; }
ids_are() {
	local g
	g=$(proc_field "$1" Groups | tr ' \t' '\n\n' | grep . | sort -n |
	    tr '\n' ' ')
	[ "$(proc_field "$1" Uid | tr -s ' \t' ' ')" = "$2 $2 $2 $2" ] &&
	[ "$(proc_field "$1" Gid | tr -s ' \t' ' ')" = "$3 $3 $3 $3" ] &&
	[ "$g" = "$4" ] &&
	[ "$(proc_field "$1" CapEff)" = 0000000000000000 ] &&
	[ "$(proc_field "$1" CapPrm)" = 0000000000000000 ]
}
ids_diag() { grep -E '^(Uid|Gid|Groups|Cap(Eff|Prm)):' "/proc/$1/status" |
    sed 's/^/# proc: /'; }
no_rules_left() {
	local r
	r=$(lab_rules) && ! grep -q "dnat to $LAB_LAN_IP" <<<"$r"
}

# reached DESC: tcp 8080 and udp 5353 reached from the WAN (two TAP lines).
reached() {
	if lab_wait 20 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null; then
		tap_ok "$1: tcp 8080 reached from the WAN ($(( $(lab_now_ms) - NM_T0 )) ms after start)"
	else
		tap_fail "$1: tcp 8080 reached from the WAN"; nm_diag
	fi
	tap_check "$1: udp 5353 reached from the WAN" \
	    lab_wait 20 lab_reach_udp "$LAB_RTR_WAN_IP" 5353
}

# The status line names the mappings, the protocol and the public address.
check_status_line() {
	local desc="$1: STATUS= says 2 mappings via $2 at $LAB_PUBLIC_IP"
	if lab_wait 15 notify_has "STATUS=2 mappings via $2 at $LAB_PUBLIC_IP"; then
		tap_ok "$desc"
	else
		tap_fail "$desc"; notify_diag
	fi
}

# ---- started as nobody, no --user ----
sdir=$base/state-nobody
mkdir "$sdir" && chown "$NOBODY_UID:$NOBODY_GID" "$sdir" && chmod 0700 "$sdir"
notify_start 0777 || tap_fail "the notify listener starts"
nm_start_env nobody.log setpriv --reuid="$NOBODY_UID" \
    --regid="$NOBODY_GID" --init-groups -- --state-file "$sdir/state" \
    --status-file "$sdir/status.json" --control "$sdir/control"
if lab_wait 20 nm_log_has '^natmapd .* starting' && ids_are "$NM_PID" \
    "$NOBODY_UID" "$NOBODY_GID" "$NOBODY_GROUPS"; then
	tap_ok "as nobody: natmapd runs as uid $NOBODY_UID with no capability"
else
	tap_fail "as nobody: natmapd runs as uid $NOBODY_UID with no capability"
	ids_diag "$NM_PID"; nm_diag
fi
reached "as nobody"
tap_check "as nobody: the state file, nobody's, lists both mappings" \
    lab_wait 10 eval '[ "$(grep -c "^map " "$sdir/state" 2>/dev/null)" = 2 ] &&
	[ "$(stat -c %u "$sdir/state")" = "$NOBODY_UID" ]'
if lab_wait 10 notify_has '^READY=1\|STATUS='; then
	tap_ok "as nobody: READY=1 (with STATUS=) by the time the WAN reaches the mapping"
else
	tap_fail "as nobody: READY=1 by the time the WAN reaches the mapping"
	notify_diag; nm_diag
fi
check_status_line "as nobody" PCP
tap_check "as nobody: natmapctl status --json says both are reachable" \
    lab_wait 10 both_up_via "$sdir/control"
nm_stop_check "as nobody: SIGTERM" 9000
r=$(notify_line '^READY=1') s=$(notify_line '^STOPPING=1')
if [ -n "$s" ] && [ -n "$r" ] && [ "$r" -lt "$s" ] &&
    [ "$(grep -c '^READY=1' "$NOTIFY_OUT")" = 1 ]; then
	tap_ok "as nobody: STOPPING=1 at SIGTERM, after one READY=1"
else
	tap_fail "as nobody: STOPPING=1 at SIGTERM, after one READY=1"; notify_diag
fi
tap_check "as nobody: SIGTERM leaves no mapping on the router" no_rules_left
tap_check "as nobody: the WAN no longer reaches tcp 8080" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null'
notify_stop

# ---- started as root with --user nobody ----
# The directories of the state and status files do not exist: natmapd
# makes them for nobody.
sdir=$base/state-user
rdir=$base/run-user
notify_start 0755 || tap_fail "the notify listener starts"
nm_start_env user.log -- --user "$NOBODY" --state-file "$sdir/state" \
    --status-file "$rdir/status.json" --control "$rdir/control" \
    --protocol upnp
if nm_wait_log 20 "^running as user $NOBODY \\(uid $NOBODY_UID, gid $NOBODY_GID\\)$" &&
    ids_are "$NM_PID" "$NOBODY_UID" "$NOBODY_GID" "$NOBODY_GROUPS"; then
	tap_ok "--user $NOBODY: root dropped for its uid, gid and groups, no capability"
else
	tap_fail "--user $NOBODY: root dropped for its uid, gid and groups, no capability"
	ids_diag "$NM_PID"; nm_diag
fi
tap_check "--user $NOBODY: the state file's directory is made for it, 0700" \
    eval '[ "$(stat -c "%u %g %a" "$sdir" 2>&1)" = "$NOBODY_UID $NOBODY_GID 700" ]'
tap_check "--user $NOBODY: the status file's directory is made for it, 0755" \
    eval '[ "$(stat -c "%u %g %a" "$rdir" 2>&1)" = "$NOBODY_UID $NOBODY_GID 755" ]'
reached "--user $NOBODY (UPnP)"
tap_check "--user $NOBODY: the state file lists both mappings" \
    lab_wait 10 eval '[ "$(grep -c "^map upnp " "$sdir/state" 2>/dev/null)" = 2 ]'
# The notify socket is root's (0755): natmapd connected to it before the drop.
tap_check "--user $NOBODY: READY=1 on a socket only root may connect to" \
    lab_wait 10 notify_has '^READY=1'
check_status_line "--user $NOBODY" UPnP
# reachable_in_status: the status file, nobody's, says both are reachable
reachable_in_status() {
	[ "$(stat -c %u "$rdir/status.json" 2>/dev/null)" = "$NOBODY_UID" ] &&
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(sum(1 for m in d["mappings"] if m["reachable"]) != 2)' \
	    "$rdir/status.json" 2>/dev/null
}
tap_check "--user $NOBODY: the status file, written as nobody, lists both reachable" \
    lab_wait 10 reachable_in_status
tap_check "--user $NOBODY: the control socket is nobody's, mode 0660" \
    eval '[ "$(stat -c "%u %g %a" "$rdir/control" 2>&1)" = "$NOBODY_UID $NOBODY_GID 660" ]'
tap_check "--user $NOBODY: natmapctl run by nobody reads the status, both reachable" \
    lab_wait 10 both_up_via "$rdir/control"
kill -HUP "$NM_PID"
if lab_wait 10 notify_has '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' &&
    lab_wait 10 eval '[ "$(grep -c "^READY=1" "$NOTIFY_OUT")" = 2 ]' &&
    nm_log_has '^SIGHUP: configuration reloaded'; then
	tap_ok "--user $NOBODY: SIGHUP reads the file as nobody; RELOADING=1 then READY=1"
else
	tap_fail "--user $NOBODY: SIGHUP reads the file as nobody; RELOADING=1 then READY=1"
	notify_diag; nm_diag
fi
nm_stop_check "--user $NOBODY: SIGTERM" 9000
tap_check "--user $NOBODY: STOPPING=1 at SIGTERM" notify_has '^STOPPING=1'
tap_check "--user $NOBODY: SIGTERM leaves no mapping on the router" no_rules_left
tap_check "--user $NOBODY: and an empty state file" \
    eval '[ "$(grep -c "^map " "$sdir/state")" = 0 ]'
tap_check "--user $NOBODY: the status file is removed at exit" \
    eval '[ ! -e "$rdir/status.json" ]'
tap_check "--user $NOBODY: and so is the control socket" \
    eval '[ ! -e "$rdir/control" ]'
notify_stop

# ---- a user other than root cannot become another ----
nm_start_env refused.log setpriv --reuid="$NOBODY_UID" \
    --regid="$NOBODY_GID" --init-groups -- --user root \
    --state-file "$base/state-nobody/state" --status-file none \
    --control none
if lab_wait 30 nm_dead; then
	wait "$NM_PID"
	rc=$?
	NM_PID=
	if [ "$rc" = 1 ] && nm_log_has 'cannot become user root: natmapd runs as uid'; then
		tap_ok "as nobody, --user root is refused: exit 1, saying why"
	else
		tap_fail "as nobody, --user root is refused: exit 1, saying why" \
		    "exit status $rc"; nm_diag
	fi
else
	tap_fail "as nobody, --user root is refused: natmapd exits"; nm_diag
fi
tap_check "and it left nothing on the router" no_rules_left
tap_done
