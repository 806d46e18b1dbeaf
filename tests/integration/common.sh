# SPDX-License-Identifier: ISC
# Shared by the integration tests: the lab, TAP output, and natmapd's life cycle.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NATMAPD=${NATMAPD:-$SRCDIR/src/natmapd}
. "$SRCDIR/tests/lab/lab.sh"
. "$SRCDIR/tests/tap.sh"

# Without root or a tool, the whole script is one TAP skip that says why (a
# user's "make check"); tests/run-suite.sh, as root, counts it as a failure.
if ! why=$( (lab_need_root_tools) 2>&1 ); then
	echo "1..0 # SKIP ${why#SKIP: }"
	exit 0
fi
if [ ! -x "$NATMAPD" ]; then
	echo "1..0 # SKIP no natmapd binary at $NATMAPD"
	exit 0
fi

NM_PID=
NM_LOG=
IT_ON_EXIT=()

# it_on_exit CMD: run the shell command CMD in the clean-up, before the lab
# goes (a test must not set a trap of its own: it would replace this one).
it_on_exit() { IT_ON_EXIT+=("$1"); }

# The test's verdict is its TAP lines and tap_done's status: the clean-up
# keeps that status, and runs without set -u (a variable a half-built lab
# never set must not end it half-way, leaving namespaces behind).
it_cleanup() {
	local rc=$? c
	set +u
	for c in "${IT_ON_EXIT[@]}"; do
		eval "$c"
	done
	[ -n "$NM_PID" ] && kill -KILL "$NM_PID" 2>/dev/null
	lab_down
	exit "$rc"
}
trap it_cleanup EXIT

# A rule check reads lab_rules, often as "$(lab_rules | grep ...)", where
# its failure is lost: if the router's chain could not be listed at any
# time, the test fails at its end (tap_done runs TAP_FINAL).
it_rules_listed() {
	lab_rules_failed 2>/dev/null || return 0
	tap_fail "the router's nat chain could be listed at every rule check" \
	    "$(sed 's/^/nft: /' "$LAB_DIR/lab_rules.failed")"
}
TAP_FINAL+=(it_rules_listed)

# nm_start HOST LOGNAME ARGS...: natmapd in the foreground, in the background
# of the test; its control socket is NM_CTL, one for each LOGNAME, so that
# natmapds started side by side do not meet on it.
nm_start() {
	local ns
	ns=$(lab_ns_of "$1") || return 1
	NM_LOG="$LAB_DIR/$2"
	NM_CTL="$LAB_DIR/${2%.log}.ctl"
	NM_CONF="$LAB_DIR/natmapd.conf"
	[ -f "$NM_CONF" ] || : >"$NM_CONF"
	shift 2
	ip netns exec "$ns" "$NATMAPD" -f -v -c "$NM_CONF" \
	    --state-file "$LAB_DIR/natmapd.state" \
	    --status-file "$LAB_DIR/status.json" \
	    --control "$NM_CTL" "$@" \
	    </dev/null >"$NM_LOG" 2>&1 &
	NM_PID=$!
	NM_T0=$(lab_now_ms)
}

# it_rdv_keys DIR: DIR/home.key, the secret of network "home", and
# DIR/nets, the server's networks file for it.
it_rdv_keys() {
	(umask 077 && "$NATMAPD" --keygen >"$1/home.key") || return 1
	echo "home $("$NATMAPD" --server-key "$1/home.key")" >"$1/nets" &&
	    chmod 600 "$1/nets"
}
# it_punch_lab: the two-site lab for hole punching (punch.sh, punchctl.sh),
# its routers keeping an idle UDP binding 30 s, as many home routers do
# (the lab's default of 5 to 10 s is shorter than the rendezvous client's
# 25 s between registrations: a node would stop hearing its SIGNALs), and
# it_rdv_keys in LAB_DIR; one TAP line, and the test ends if one fails.
it_punch_lab() {
	LAB_SITES=2 lab_init ||
	    { tap_fail "the two-site lab builds"; tap_done; exit 1; }
	tap_ok "the two-site lab builds"
	lab_nat_udp_timeout 30 rtr && lab_nat_udp_timeout 30 rtr2 ||
	    { tap_fail "UDP bindings of 30 s on both routers"; tap_done; exit 1; }
	it_rdv_keys "$LAB_DIR" || { tap_fail "keys"; tap_done; exit 1; }
}
# it_rendezvous_start NETS: natmapd-rendezvous on the WAN side serving the
# networks file NETS (lab_rendezvous_start), stopped at the end; one TAP
# line, and the test ends if it does not start.
it_rendezvous_start() {
	if ! lab_rendezvous_start --networks "$1"; then
		tap_fail "natmapd-rendezvous starts"
		tap_done
		exit 1
	fi
	tap_ok "natmapd-rendezvous starts on $LAB_RDV_IP:$LAB_RDV_PORT"
	it_on_exit lab_rendezvous_stop
}

# it_natmapd NAME HOST ARGS...: a natmapd in namespace HOST with its own
# state, status, control and log ($LAB_DIR/NAME.*) and ARGS; its pid in
# NODE_PID_<NAME>, stopped at the end.
it_natmapd() {
	local name=$1 ns
	ns=$(lab_ns_of "$2") || return 1
	shift 2
	: >"$LAB_DIR/$name.conf"
	ip netns exec "$ns" "$NATMAPD" -f -vv -c "$LAB_DIR/$name.conf" \
	    --state-file "$LAB_DIR/$name.state" \
	    --status-file "$LAB_DIR/$name.json" \
	    --control "$LAB_DIR/$name.ctl" "$@" \
	    </dev/null >"$LAB_DIR/$name.log" 2>&1 &
	printf -v "NODE_PID_$name" %s "$!"
	it_on_exit "kill -TERM $! 2>/dev/null"
}
# it_node NAME HOST KEYFILE NETWORK ARGS...: it_natmapd as node NAME of
# NETWORK with the secret in KEYFILE, registered with the lab's rendezvous
it_node() {
	local name=$1 host=$2 key=$3 net=$4
	shift 4
	it_natmapd "$name" "$host" --rendezvous "$LAB_RDV_IP:$LAB_RDV_PORT" \
	    --network "$net" --key-file "$key" --node "$name" "$@"
}
# it_node_stop NAME: the node stopped (5 s at most), its log kept aside
it_node_stop() {
	local pid_var="NODE_PID_$1"
	kill -TERM "${!pid_var}" 2>/dev/null
	lab_wait 5 bash -c "! kill -0 ${!pid_var} 2>/dev/null"
	mv "$LAB_DIR/$1.log" "$LAB_DIR/$1.log.$(date +%s%N)"
}

nm_log_has() { grep -Eq -- "$1" "$NM_LOG"; }
# nm_wait_log SECONDS REGEX
nm_wait_log() { lab_wait "$1" nm_log_has "$2"; }
nm_alive() { kill -0 "$NM_PID" 2>/dev/null; }
nm_dead() { ! kill -0 "$NM_PID" 2>/dev/null; }

# nm_stop [SIGNAL]: signal natmapd, wait at most 10 s; sets NM_STATUS and NM_STOP_MS.
nm_stop() {
	local t0
	t0=$(lab_now_ms)
	kill -"${1:-TERM}" "$NM_PID" 2>/dev/null
	if lab_wait 10 nm_dead; then
		wait "$NM_PID"
		NM_STATUS=$?
	else
		kill -KILL "$NM_PID" 2>/dev/null
		wait "$NM_PID"
		NM_STATUS=timeout
	fi
	NM_STOP_MS=$(( $(lab_now_ms) - t0 ))
	NM_PID=
}

# nm_stop_check DESC LIMIT_MS [SIGNAL]: stop natmapd, one TAP line for
# "exited 0 within LIMIT_MS".
nm_stop_check() {
	nm_stop "${3:-TERM}"
	if [ "$NM_STATUS" = 0 ] && [ "$NM_STOP_MS" -le "$2" ]; then
		tap_ok "$1: exit 0 in $NM_STOP_MS ms (limit $2)"
	else
		tap_fail "$1: exit 0 within $2 ms (status $NM_STATUS after $NM_STOP_MS ms)"
		nm_diag
	fi
}

# The router holds no forwarding rule for this port / a rule matching
# REGEX; both fail when the rules cannot be listed.
no_rule_for() { local r; r=$(lab_rules) && ! grep -q "dport $1 " <<<"$r"; }
has_rule() { local r; r=$(lab_rules) && grep -q "$1" <<<"$r"; }
# count_rules PORT: the rules forwarding PORT to the LAN host's PORT;
# prints nothing and fails when the rules cannot be listed.
count_rules() {
	local r
	r=$(lab_rules) || return 1
	grep -c "dport $1 dnat to $LAB_LAN_IP:$1" <<<"$r"
	return 0
}

# wan_move FROM TO: the router's WAN address changes and miniupnpd is
# restarted, keeping its rules and lease file, as OpenWrt's hotplug does
# when the WAN interface comes up again (a PPPoE redial).
wan_move() {
	wan_readdress "$1" "$2"
	lab_router_stop
	lab_router_start
}
# wan_readdress FROM TO: the router's WAN address changes and its NAT
# forgets every connection (no miniupnpd started).
wan_readdress() {
	# (the old one first: deleting a primary address takes its
	# secondaries with it)
	lab_rtr ip addr del "$1/24" dev "$LAB_RTR_WAN_IF"
	lab_rtr ip addr add "$2/24" dev "$LAB_RTR_WAN_IF"
	lab_flush_conntrack
}

# ext_port PROTO IP PORT: the external port the router forwards to IP:PORT
# (the first, if several); nothing when none.
ext_port() {
	lab_rules | sed -n "s/^$1 dport \([0-9]*\) dnat to $2:$3\$/\1/p" | head -n 1
}

# The router's lease for PROTO (tcp or udp) PORT, from miniupnpd's lease
# file: one line PROTO:PORT:CLIENT:CLIENT_PORT:EXPIRY:DESCRIPTION a mapping,
# whichever protocol made it (PCP's description is "PCP MAP <nonce>"), EXPIRY
# in seconds since the epoch.  lease_of prints the line, lease_expiry the
# expiry, lease_left the seconds left; they fail when the router holds no
# lease for it.
lease_of() { grep -m 1 "^${1^^}:$2:" "$LAB_DIR/miniupnpd.leases" 2>/dev/null; }
lease_expiry() {
	local l e
	l=$(lease_of "$1" "$2") || return 1
	IFS=: read -r _ _ _ _ e _ <<<"$l"
	echo "$e"
}
# lease_ext_port PROTO IP PORT: the external port of the router's lease
# that forwards to IP:PORT (the first, if several).  A file read: cheap to
# poll where a time is measured (lab_rules runs nft, slow on a busy machine).
lease_ext_port() {
	local l
	l=$(grep -m 1 "^${1^^}:[0-9]*:$2:$3:" "$LAB_DIR/miniupnpd.leases" \
	    2>/dev/null) || return 1
	l=${l#*:}
	echo "${l%%:*}"
}
# lease_desc PROTO PORT: its description, whose start tells which protocol
# made it: "PCP MAP <nonce>", "NAT-PMP <port> <proto>", or what the UPnP
# client asked for ("natmapd:<instance> <proto> <port>").
lease_desc() {
	local l
	l=$(lease_of "$1" "$2") || return 1
	echo "${l#*:*:*:*:*:}"
}
lease_left() {
	local e
	e=$(lease_expiry "$1" "$2") || return 1
	echo $((e - EPOCHSECONDS))
}
# second_turns: wait for the clock's next second: an expiry is in seconds,
# and a lease refreshed within the second it was made would not change.
second_turns() { lab_wait 2 second_other_than "$EPOCHSECONDS"; }
second_other_than() { [ "$EPOCHSECONDS" != "$1" ]; }

nm_diag() {
	sed 's/^/# natmapd: /' "$NM_LOG" | tail -n "${1:-30}"
}

# it_need_rdv: natmapd-rendezvous (RDV, exported as NATMAPD_RENDEZVOUS) and
# natmapctl (NATMAPCTL) next to natmapd, else the whole script is a skip
it_need_rdv() {
	RDV=${NATMAPD_RENDEZVOUS:-$SRCDIR/src/natmapd-rendezvous}
	export NATMAPD_RENDEZVOUS=$RDV
	NATMAPCTL=${NATMAPCTL:-$(dirname "$NATMAPD")/natmapctl}
	if [ ! -x "$RDV" ] || [ ! -x "$NATMAPCTL" ]; then
		echo "1..0 # SKIP no natmapd-rendezvous or natmapctl binary"
		exit 0
	fi
}

# it_hook_recorder: IT_HOOK is a hook that writes each of its runs as
# "EVENT PUBLIC_IP PUBLIC_PORT PRIVATE_PORT PROTOCOL" (natmap's arguments)
# to a file of its own, named by the time and its pid (hooks of two
# mappings run at once); hook_runs counts them, last_run prints the last.
it_hook_recorder() {
	IT_HOOK_RUNS=$LAB_DIR/hook-runs
	IT_HOOK=$LAB_DIR/hook.sh
	mkdir -p "$IT_HOOK_RUNS"
	cat >"$IT_HOOK" <<HOOK
#!/bin/sh
printf '%s %s %s %s %s\n' "\$NATMAPD_EVENT" "\$1" "\$2" "\$4" "\$5" >"$IT_HOOK_RUNS/run.\$(date +%s%N).\$\$"
HOOK
	chmod 755 "$IT_HOOK"
}
hook_runs() { ls "$IT_HOOK_RUNS" | wc -l; }
last_run() {
	local f
	f=$(ls "$IT_HOOK_RUNS" | sort | tail -n 1)
	[ -n "$f" ] && cat "$IT_HOOK_RUNS/$f"
}
last_run_is() { [ "$(last_run)" = "$1" ]; }

# status_field SPEC FIELD: the mapping SPEC's FIELD in natmapd's status
# file ("" if none or null; Python's True/False for booleans)
status_field() {
	python3 - "$LAB_DIR/status.json" "$1" "$2" <<'PY' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))
for m in s["mappings"]:
    if m["spec"] == sys.argv[2]:
        v = m.get(sys.argv[3])
        print("" if v is None else v)
PY
}
# hook_ran LINE: one of the hook's runs was LINE
hook_ran() { cat "$IT_HOOK_RUNS"/run.* 2>/dev/null | grep -qxF -- "$1"; }
