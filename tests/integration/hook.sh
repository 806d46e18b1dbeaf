# SPDX-License-Identifier: ISC
# The hook: natmap's argv and NATMAPD_* for up, change (the router's WAN
# address changed) and down (SIGTERM); changes while it runs fold into one
# more run; a hook that hangs is killed while the mappings keep renewing.
. "$(dirname "$0")/common.sh"

lab_need_python || { tap_fail "python3 for the status file"; tap_done; exit 1; }
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
old_ip=$LAB_RTR_WAN_IP
new_ip=203.0.113.5
third_ip=203.0.113.6

# The hook records each run in $runs/run.PORT.N (runs of one mapping come
# one at a time), says a line in natmapd's log, waits while $runs/gate
# exists and $runs/go does not, and hangs while $runs/hang exists.
runs=$LAB_DIR/hook-runs
hook=$LAB_DIR/hook.sh
mkdir -p "$runs"
cat >"$hook" <<EOF
#!/bin/sh
d=$runs
p=\$NATMAPD_PRIVATE_PORT
n=\$(cat "\$d/count.\$p" 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" >"\$d/count.\$p"
echo "\$\$" >"\$d/pid.\$p.\$n"
{ printf 'arg=%s\n' "\$@"; env | sort; } >"\$d/run.\$p.\$n.tmp"
mv "\$d/run.\$p.\$n.tmp" "\$d/run.\$p.\$n"
echo "run \$n: \$NATMAPD_EVENT \$1:\$2"
if [ -e "\$d/gate" ]; then
	while [ ! -e "\$d/go" ]; do sleep 0.1; done
fi
[ -e "\$d/hang" ] && exec sleep 3600
exit 0
EOF
chmod 755 "$hook"

ip4p() {	# ADDR PORT: natmap's IP4P address
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '2001::%04x:%04x:%04x' "$2" $(( a << 8 | b )) $(( c << 8 | d ))
}

# up_at SPEC IP: the status file has the mapping reachable at IP.
up_at() {
	python3 - "$LAB_DIR/status.json" "$1" "$2" <<'PY' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))
m = [m for m in s["mappings"] if m["spec"] == sys.argv[2]][0]
sys.exit(not (m["reachable"] and m["external_address"] == sys.argv[3]))
PY
}

# last_run_up_at PORT IP: the last run was told the mapping is up at IP.
last_run_up_at() {
	local f=$runs/run.$1.$(runs_of "$1")
	[ -e "$f" ] && grep -qx "NATMAPD_PUBLIC_IP=$2" "$f" &&
	    ! grep -qx "NATMAPD_EVENT=down" "$f"
}

run_var() {	# PORT N VAR: NATMAPD_VAR of run N
	sed -n "s/^NATMAPD_$3=//p" "$runs/run.$1.$2"
}

# check_sequence DESC PORT FIRST LAST IP: runs FIRST+1 to LAST each had
# natmap's argv and the environment for what they say, each told what
# changed since the one before (up after down, change to another address,
# down after up), and the last has the mapping up at IP.
check_sequence() {
	local desc=$1 port=$2 i ev ip pev pip ok=1 why=
	pev=$(run_var "$port" "$3" EVENT)
	pip=$(run_var "$port" "$3" PUBLIC_IP)
	for i in $(seq $(($3 + 1)) "$4"); do
		ev=$(run_var "$port" "$i" EVENT)
		ip=$(run_var "$port" "$i" PUBLIC_IP)
		expect_run "$desc, run $i: $ev" "$port" "$i" "$ev" "$ip" "$port" tcp
		case $ev:$pev in
		up:down | change:up | change:change | down:up | down:change) ;;
		*) ok=0; why="$why run $i: $ev after $pev;" ;;
		esac
		if [ "$ev" = change ] && [ "$ip" = "$pip" ]; then
			ok=0; why="$why run $i: change to the same $ip;"
		fi
		pev=$ev pip=$ip
	done
	if [ "$ok" = 1 ] && [ "$pev" != down ] && [ "$pip" = "$5" ]; then
		tap_ok "$desc: each run told what changed, the last up at $5"
	else
		tap_fail "$desc: each run told what changed, the last up at $5" \
		    "${why:-the last run: $pev at $pip}"
		nm_diag
	fi
}

runs_of() { local n=0; while [ -e "$runs/run.$1.$((n + 1))" ]; do n=$((n + 1)); done; echo "$n"; }
has_runs() { [ "$(runs_of "$1")" -ge "$2" ]; }

# expect_run DESC PORT N EVENT PUBLIC_IP PUBLIC_PORT PROTO: run N of the
# hook for PORT had exactly natmap's argv and natmapd's environment.
expect_run() {
	local desc=$1 port=$2 n=$3 event=$4 pip=$5 pport=$6 proto=$7 f lease
	f=$runs/run.$port.$n
	if [ ! -e "$f" ]; then
		tap_fail "$desc: the hook ran" "no $f"; nm_diag
		return
	fi
	lease=$(sed -n 's/^NATMAPD_LEASE=//p' "$f")
	# What sh adds to the environment of its own is left out; the
	# gateway has a check of its own (gateway_is).
	if diff -u - <(grep -Ev '^(PWD|OLDPWD|SHLVL|_|NATMAPD_GATEWAY)=' "$f") \
	    >"$LAB_DIR/diff" <<EOF
arg=$pip
arg=$pport
arg=$(ip4p "$pip" "$pport")
arg=$port
arg=$proto
arg=$LAB_LAN_IP
NATMAPD_EVENT=$event
NATMAPD_LEASE=$lease
NATMAPD_METHOD=pcp
NATMAPD_PRIVATE_IP=$LAB_LAN_IP
NATMAPD_PRIVATE_PORT=$port
NATMAPD_PROTOCOL=$proto
NATMAPD_PUBLIC_IP=$pip
NATMAPD_PUBLIC_PORT=$pport
PATH=/usr/sbin:/usr/bin:/sbin:/bin
EOF
	then
		if [ "$lease" -gt 0 ] 2>/dev/null; then
			tap_ok "$desc: natmap's argv, NATMAPD_* and PATH only"
		else
			tap_fail "$desc: NATMAPD_LEASE is a lease" "got '$lease'"
		fi
	else
		tap_fail "$desc: natmap's argv, NATMAPD_* and PATH only" \
		    "$(cat "$LAB_DIR/diff")"
	fi
}

# ---- up, change, down ----
nm_start lan hook.log -m 8080/tcp --protocol pcp --hook "$hook"
tap_check "mapped and reached at $old_ip" \
    lab_wait 10 lab_reach_tcp "$old_ip" 8080
tap_check "the hook ran for up" lab_wait 10 has_runs 8080 1
expect_run "up" 8080 1 up "$old_ip" 8080 tcp
gw=$(sed -n 's/^NATMAPD_GATEWAY=//p' "$runs/run.8080.1")
if [ "$gw" = "$LAB_RTR_LAN_IP" ]; then
	tap_ok "NATMAPD_GATEWAY is the router's address"
else
	tap_fail "NATMAPD_GATEWAY is the router's address" "got '$gw'"
fi
tap_check "its output is in natmapd's log" \
    nm_wait_log 5 "^hook 8080/tcp: run 1: up $old_ip:8080$"

wan_move "$old_ip" "$new_ip"
tap_check "the WAN address change is seen" \
    nm_wait_log 10 "^public address $old_ip -> $new_ip$"
tap_check "natmapd has the mapping up at $new_ip" \
    lab_wait 20 up_at 8080/tcp "$new_ip"
tap_check "the hook was told" lab_wait 10 last_run_up_at 8080 "$new_ip"
n=$(runs_of 8080)
# As a rule one run, change; but a renewal that meets the router while it
# restarts fails, and the mapping is down for a moment: then the hook is
# told that too, each run what changed since the one before.
tap_diag "after the move: $(for i in $(seq 2 "$n"); do
	printf '%s ' "$(run_var 8080 "$i" EVENT)@$(run_var 8080 "$i" PUBLIC_IP)"
done)"
check_sequence "the change" 8080 1 "$n" "$new_ip"

nm_stop_check "SIGTERM" 10000
# natmapd waited for the down hook before it exited: no wait here
expect_run "down at SIGTERM" 8080 $((n + 1)) down "$new_ip" 8080 tcp
if [ "$(runs_of 8080)" = $((n + 1)) ]; then
	tap_ok "one run for each event, none twice"
else
	tap_fail "one run for each event, none twice" \
	    "$(runs_of 8080) runs"; nm_diag
fi

# ---- changes while the hook runs: one more run, the last state ----
rm -f "$runs"/*
touch "$runs/gate"
nm_start lan hook-burst.log -m 8080/tcp --protocol pcp --hook "$hook"
tap_check "up again, the hook held at its gate" lab_wait 10 has_runs 8080 1
t0=$(lab_now_ms)
wan_move "$new_ip" "$third_ip"
nm_wait_log 10 "^public address $new_ip -> $third_ip$"
wan_move "$third_ip" "$old_ip"
if nm_wait_log 10 "^public address $third_ip -> $old_ip$"; then
	tap_ok "two changes while the hook runs ($(( $(lab_now_ms) - t0 )) ms)"
else
	tap_fail "two changes while the hook runs"; nm_diag
fi
# A renewal that meets the restarting router may fail, and the mapping
# be down for a moment: release the hook once natmapd has it up again.
tap_check "natmapd has the mapping up at $old_ip" \
    lab_wait 20 up_at 8080/tcp "$old_ip"
tap_check "the mapping is reached at $old_ip" \
    lab_wait 10 lab_reach_tcp "$old_ip" 8080
if [ "$(runs_of 8080)" = 1 ]; then
	tap_ok "no second run while the first runs"
else
	tap_fail "no second run while the first runs" "$(runs_of 8080) runs"
fi
touch "$runs/go"
tap_check "one more run once it ends" lab_wait 10 has_runs 8080 2
expect_run "the run after the burst has the last state" 8080 2 change \
    "$old_ip" 8080 tcp
tap_check "and it ended" nm_wait_log 10 "^hook 8080/tcp: done in"
n=$(grep -c "^hook 8080/tcp: .*, running " "$NM_LOG")
if [ "$n" = 2 ] && [ "$(runs_of 8080)" = 2 ]; then
	tap_ok "two runs in all: the burst was one"
else
	tap_fail "two runs in all: the burst was one" "$n started, $(runs_of 8080) recorded"
	nm_diag
fi
nm_stop_check "SIGTERM" 10000

# ---- a hook that hangs: killed at 30 s; renewals go on meanwhile ----
rm -f "$runs"/*
touch "$runs/hang"
lab_serve_udp 9000
nm_start lan hook-hang.log -m 8080/tcp -m 9000/udp --lease 60 \
    --protocol pcp --hook "$hook"
tap_check "both hooks run, and hang" \
    lab_wait 10 eval 'has_runs 8080 1 && has_runs 9000 1'
t0=$(lab_now_ms)
# PCP renews at 1/2 to 5/8 of the 60 s lease: 30 to 37.5 s.
if nm_wait_log 45 "^tcp 8080 renewed, lease [0-9]+s$"; then
	tap_ok "renewed while its hook hangs ($(( ($(lab_now_ms) - NM_T0) / 1000 )) s after start)"
else
	tap_fail "renewed while its hook hangs"; nm_diag
fi
tap_check "the hanging hooks are sent SIGTERM after 30 s" \
    nm_wait_log 45 "^hook 9000/udp: still running after 30000 ms: SIGTERM$"
tap_check "and logged as killed" \
    nm_wait_log 10 "^hook 8080/tcp: killed \(SIGTERM\) after"
gone() { ! kill -0 "$(cat "$runs/pid.$1.$2")" 2>/dev/null; }
tap_check "the hook processes are gone" \
    lab_wait 5 eval 'gone 8080 1 && gone 9000 1'
tap_check "udp 9000 renewed too" \
    nm_wait_log 15 "^udp 9000 renewed, lease [0-9]+s$"
tap_check "still reached from the WAN" lab_reach_tcp "$old_ip" 8080
# the down hooks hang too: natmapd waits 3 s for them, then leaves
nm_stop_check "SIGTERM with hooks that hang" 10000
tap_check "the down hooks it did not wait for are named" \
    nm_log_has "^hook (8080/tcp|9000/udp): still running at exit: SIGTERM$"
down_gone() {
	[ -e "$runs/pid.8080.2" ] && [ -e "$runs/pid.9000.2" ] &&
	    gone 8080 2 && gone 9000 2
}
tap_check "no hook left running" lab_wait 5 down_gone
tap_done
