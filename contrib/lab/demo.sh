#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Quick start: build natmapd, then watch it map a port on a real UPnP router
# (miniupnpd, nftables NAT) in a throwaway network-namespace lab, see a host on
# the "internet" side reach the service and natmapctl say so, see the mapping go when natmapd
# stops, then see natmapd --probe's report on the lab's network.  Needs
# root; touches nothing outside the namespaces it creates.  Each step checks
# what it shows: the first that fails stops the demo with "demo: ..." on
# stderr and exit status 1; "done" and status 0 mean every step worked.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "demo: run me as root (the lab uses network namespaces)" >&2
	exit 1
fi
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

step "installing build and lab dependencies (apt-get)"
[ "${NATMAPD_SKIP_DEPS:-}" = 1 ] || bash contrib/install-deps.sh >/dev/null ||
    die "dependencies did not install"

step "building natmapd"
build="$top/_build/demo"
mkdir -p "$build"
autoreconf -fi >/dev/null 2>&1 &&
    (cd "$build" && "$top/configure" -q && make -j"$(nproc)" src/natmapd src/natmapctl >/dev/null) ||
    die "build failed"
natmapd="$build/src/natmapd"
natmapctl="$build/src/natmapctl"
"$natmapd" --version || die "the natmapd just built does not run"

. "$top/tests/lab/lab.sh"
NM_PID=
cleanup() {
	[ -n "$NM_PID" ] && kill -KILL "$NM_PID" 2>/dev/null
	lab_down
}
trap cleanup EXIT

step "building the lab: LAN host $LAB_LAN_IP -- router (miniupnpd, NAT) $LAB_RTR_WAN_IP -- WAN host $LAB_WAN_IP"
lab_init && lab_router_start || die "the lab did not come up"
lab_serve_tcp 8080 || die "the service on $LAB_LAN_IP:8080 did not start"
echo "a service listens on $LAB_LAN_IP:8080 in the LAN"
printf 'from the WAN host, before natmapd: '
lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null &&
    die "the service is reachable from the WAN without natmapd"
echo "not reachable"

step "natmapd --map 8080/tcp (on the LAN host)"
log="$LAB_DIR/natmapd.log"
: >"$LAB_DIR/empty.conf"
ip netns exec "$LAB_NS_LAN" "$natmapd" -f -c "$LAB_DIR/empty.conf" \
    --state-file "$LAB_DIR/natmapd.state" --status-file "$LAB_DIR/status.json" \
    --control "$LAB_DIR/control" --map 8080/tcp >"$log" 2>&1 &
NM_PID=$!
t0=$(lab_now_ms)
if lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null; then
	echo "reachable $(( $(lab_now_ms) - t0 )) ms after natmapd started"
else
	cat "$log"
	die "the WAN host could not reach the service"
fi
sed 's/^/  natmapd: /' "$log"
printf 'the WAN host %s connects to %s:8080 and gets: ' "$LAB_WAN_IP" "$LAB_RTR_WAN_IP"
lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 || die "the WAN host lost the service"
echo "the router's port-forwarding rules:"
rules=$(lab_rules) || die "the router's rules cannot be listed"
printf '%s\n' "$rules" | sed 's/^/  /'
grep -q "dport 8080 dnat to $LAB_LAN_IP:8080" <<<"$rules" ||
    die "no rule on the router forwards 8080 to $LAB_LAN_IP"
echo "what natmapd says it holds (natmapctl status):"
ctlout=$("$natmapctl" -s "$LAB_DIR/control" status) ||
    die "natmapctl status failed"
printf '%s\n' "$ctlout" | sed 's/^/  /'
grep -Eq "^8080/tcp +[a-z]+ +up +$LAB_RTR_WAN_IP:8080 " <<<"$ctlout" ||
    die "natmapctl does not say 8080/tcp is up at $LAB_RTR_WAN_IP:8080"

step "stopping natmapd (SIGTERM)"
kill -TERM "$NM_PID"
lab_wait 6 eval '! kill -0 $NM_PID 2>/dev/null' ||
    die "natmapd still runs 6 s after SIGTERM"
wait "$NM_PID"
status=$?
NM_PID=
echo "natmapd exited with status $status"
sed 's/^/  natmapd: /' "$log" | tail -n 3
[ "$status" = 0 ] || die "natmapd exited with status $status"
rules=$(lab_rules) || die "the router's rules cannot be listed"
echo "the router's port-forwarding rules now: $(grep -c dnat <<<"$rules") rule(s)"
[ -z "$rules" ] || die "natmapd left rules on the router"
printf 'from the WAN host: '
lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null &&
    die "the service is still reachable after natmapd stopped"
echo "not reachable any more"

step "natmapd --probe: what the network allows (STUN: coturn on the WAN side)"
lab_echo_start || die "the lab's HTTP echo server did not start"
: >"$LAB_DIR/probe.conf"
probe=$(lab_lan "$natmapd" --probe -c "$LAB_DIR/probe.conf" \
    --stun-server "$LAB_STUN_IP" --echo-url "$LAB_ECHO_URL")
status=$?
printf '%s\n' "$probe" | sed 's/^/  /'
[ "$status" = 0 ] || die "natmapd --probe exited with status $status"
# every source must have seen the lab's public address
for source in "gateway" "STUN" "HTTP echo"; do
	grep -Eq "^  $source +$LAB_PUBLIC_IP[ :]" <<<"$probe" ||
	    die "the probe's $source line does not show $LAB_PUBLIC_IP"
done

step "tearing the lab down"
lab_down
echo "done"
