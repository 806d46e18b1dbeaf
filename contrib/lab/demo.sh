#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Quick start: build natmapd, then watch it map a port on a real UPnP router
# (miniupnpd, nftables NAT) in a throwaway network-namespace lab, see a host on
# the "internet" side reach the service, see the mapping go when natmapd
# stops, then see natmapd --probe's report on the lab's network.  Needs
# root; touches nothing outside the namespaces it creates.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "demo: run me as root (the lab uses network namespaces)" >&2
	exit 1
fi
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "installing build and lab dependencies (apt-get)"
[ "${NATMAPD_SKIP_DEPS:-}" = 1 ] || bash contrib/install-deps.sh >/dev/null ||
    { echo "demo: dependencies did not install" >&2; exit 1; }

step "building natmapd"
build="$top/_build/demo"
mkdir -p "$build"
autoreconf -fi >/dev/null 2>&1 &&
    (cd "$build" && "$top/configure" -q && make -j"$(nproc)" src/natmapd >/dev/null) ||
    { echo "demo: build failed" >&2; exit 1; }
natmapd="$build/src/natmapd"
"$natmapd" --version

. "$top/tests/lab/lab.sh"
NM_PID=
cleanup() {
	[ -n "$NM_PID" ] && kill -KILL "$NM_PID" 2>/dev/null
	lab_down
}
trap cleanup EXIT

step "building the lab: LAN host $LAB_LAN_IP -- router (miniupnpd, NAT) $LAB_RTR_WAN_IP -- WAN host $LAB_WAN_IP"
lab_init && lab_router_start || { echo "demo: the lab did not come up" >&2; exit 1; }
lab_serve_tcp 8080 || exit 1
echo "a service listens on $LAB_LAN_IP:8080 in the LAN"
printf 'from the WAN host, before natmapd: '
lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null && echo "reached (unexpected)" || echo "not reachable"

step "natmapd --map 8080/tcp (on the LAN host)"
log="$LAB_DIR/natmapd.log"
: >"$LAB_DIR/empty.conf"
ip netns exec "$LAB_NS_LAN" "$natmapd" -f -c "$LAB_DIR/empty.conf" \
    --state-file "$LAB_DIR/natmapd.state" --map 8080/tcp >"$log" 2>&1 &
NM_PID=$!
t0=$(lab_now_ms)
if lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null; then
	echo "reachable $(( $(lab_now_ms) - t0 )) ms after natmapd started"
else
	echo "demo: the WAN host could not reach the service" >&2
	cat "$log"
	exit 1
fi
sed 's/^/  natmapd: /' "$log"
printf 'the WAN host %s connects to %s:8080 and gets: ' "$LAB_WAN_IP" "$LAB_RTR_WAN_IP"
lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
echo "the router's port-forwarding rules:"
lab_rules | sed 's/^/  /'

step "stopping natmapd (SIGTERM)"
kill -TERM "$NM_PID"
lab_wait 6 eval '! kill -0 $NM_PID 2>/dev/null'
wait "$NM_PID"
echo "natmapd exited with status $?"
NM_PID=
sed 's/^/  natmapd: /' "$log" | tail -n 3
echo "the router's port-forwarding rules now: $(lab_rules | grep -c dnat) rule(s)"
printf 'from the WAN host: '
lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null && echo "still reached (unexpected)" || echo "not reachable any more"

step "natmapd --probe: what the network allows (STUN: coturn on the WAN side)"
lab_echo_start >/dev/null 2>&1 || true
: >"$LAB_DIR/probe.conf"
lab_lan "$natmapd" --probe -c "$LAB_DIR/probe.conf" \
    --stun-server "$LAB_STUN_IP" --echo-url "$LAB_ECHO_URL" | sed 's/^/  /'

step "tearing the lab down"
lab_down
echo "done"
