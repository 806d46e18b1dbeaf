#!/bin/bash
# SPDX-License-Identifier: ISC
# hooks.sh - the example hooks of contrib/hooks, run as natmapd runs them
# (natmap's six arguments, NATMAPD_* in a clean environment); nsupdate is a
# stand-in that records what it was sent: no server is contacted (TAP).

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$SRCDIR/tests/tap.sh"

hooks=$SRCDIR/contrib/hooks
tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-hooks.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# run_hook EVENT HOOK ARGS...: the hook with natmapd's environment and
# nothing else; its output in $tmp/out, its status in RC.
run_hook() {
	local event=$1 hook=$2
	shift 2
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    NATMAPD_EVENT="$event" NATMAPD_METHOD=pcp \
	    NATMAPD_PUBLIC_IP="$1" NATMAPD_PUBLIC_PORT="$2" \
	    NATMAPD_PRIVATE_IP="$6" NATMAPD_PRIVATE_PORT="$4" \
	    NATMAPD_PROTOCOL="$5" NATMAPD_LEASE=3600 \
	    NATMAPD_GATEWAY=192.168.77.1 \
	    CONF=/nonexistent SERVER=192.0.2.53 ZONE=example.net \
	    NAME=home.example.net KEY= SRV_SERVICE="${SRV_SERVICE:-}" \
	    IP4P="${IP4P:-no}" NSUPDATE="$tmp/nsupdate" \
	    "$hook" "$@" >"$tmp/out" 2>&1 </dev/null
	RC=$?
}

args=(203.0.113.7 18080 2001::46a0:cb00:7107 8080 tcp 192.168.77.10)

# ---- log-event ----
run_hook up "$hooks/log-event" "${args[@]}"
want="up tcp 192.168.77.10:8080 reachable at 203.0.113.7:18080 (ip4p 2001::46a0:cb00:7107) via pcp, lease 3600s, gateway 192.168.77.1"
if [ "$RC" -eq 0 ] && [ "$(cat "$tmp/out")" = "$want" ]; then
	tap_ok "log-event: one line for up"
else
	tap_fail "log-event: one line for up" "status $RC" "$(cat "$tmp/out")"
fi
run_hook down "$hooks/log-event" 203.0.113.7 18080
if [ "$RC" -eq 2 ] && grep -q "expected 6 arguments, got 2" "$tmp/out"; then
	tap_ok "log-event: refuses a wrong argument count"
else
	tap_fail "log-event: refuses a wrong argument count" "status $RC" \
	    "$(cat "$tmp/out")"
fi

# ---- nsupdate-dns, against a stand-in nsupdate ----
cat >"$tmp/nsupdate" <<EOS
#!/bin/sh
printf '%s\n' "\$*" >"$tmp/ns.args"
cat >"$tmp/ns.in"
EOS
chmod 755 "$tmp/nsupdate"

# expect_update DESC EVENT WANT ARGS...: the hook sent WANT to nsupdate.
expect_update() {
	local desc=$1 event=$2 want=$3
	shift 3
	rm -f "$tmp/ns.in" "$tmp/ns.args"
	run_hook "$event" "$hooks/nsupdate-dns" "$@"
	if [ "$RC" -ne 0 ]; then
		tap_fail "$desc: exit 0" "status $RC" "$(cat "$tmp/out")"
	elif ! diff -u <(printf '%s' "$want") "$tmp/ns.in" >"$tmp/diff"; then
		tap_fail "$desc" "$(cat "$tmp/diff")"
	else
		tap_ok "$desc"
	fi
}

expect_update "nsupdate-dns: up sets the A record" up "server 192.0.2.53
zone example.net
update delete home.example.net A
update add home.example.net 60 A 203.0.113.7
send
" "${args[@]}"
if [ "$(cat "$tmp/ns.args" 2>/dev/null)" = "-t 10" ]; then
	tap_ok "nsupdate-dns: no key, no -k"
else
	tap_fail "nsupdate-dns: no key, no -k" "$(cat "$tmp/ns.args" 2>&1)"
fi
SRV_SERVICE=minecraft IP4P=yes expect_update \
    "nsupdate-dns: change with SRV and IP4P records" change "server 192.0.2.53
zone example.net
update delete home.example.net A
update add home.example.net 60 A 198.51.100.9
update delete _minecraft._udp.home.example.net SRV
update add _minecraft._udp.home.example.net 60 SRV 0 0 25565 home.example.net.
update delete ip4p.home.example.net AAAA
update add ip4p.home.example.net 60 AAAA 2001::63dd:c633:6409
send
" 198.51.100.9 25565 2001::63dd:c633:6409 25565 udp 192.168.77.10
SRV_SERVICE=minecraft IP4P=yes expect_update \
    "nsupdate-dns: down deletes the SRV and IP4P records, keeps A" down \
    "server 192.0.2.53
zone example.net
update delete _minecraft._udp.home.example.net SRV
update delete ip4p.home.example.net AAAA
send
" 198.51.100.9 25565 2001::63dd:c633:6409 25565 udp 192.168.77.10

rm -f "$tmp/ns.in"
run_hook up "$hooks/nsupdate-dns" "203.0.113.7;x" 18080 "" 8080 tcp 192.168.77.10
if [ "$RC" -eq 2 ] && [ ! -e "$tmp/ns.in" ] &&
    grep -q "not an IPv4 address" "$tmp/out"; then
	tap_ok "nsupdate-dns: refuses a bad address, sends nothing"
else
	tap_fail "nsupdate-dns: refuses a bad address, sends nothing" \
	    "status $RC" "$(cat "$tmp/out")"
fi

tap_done
