#!/bin/bash
# SPDX-License-Identifier: ISC
# What it costs to learn the public address and what the network allows:
# natmapd --probe (gateway only; with a STUN server; with STUN, an echo
# service and the RFC 5780 tests) against natpmpc (NAT-PMP public address)
# and upnpc -s (UPnP status, external address), in the same namespace lab,
# against the same miniupnpd and coturn.  Wall time and peak RSS per run
# (/usr/bin/time; wall time includes entering the namespace, a few ms,
# alike for all), medians, and ratios.  A benchmark: it prints figures, it
# passes or fails nothing.
#   usage: bench/probe.sh [RUNS] [NATMAPD]   (as root; default 5 runs)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
natmapd=${2:-${NATMAPD:-$top/_build/plain/src/natmapd}}
if [ ! -x "$natmapd" ]; then
	for c in "$top/_build/demo/src/natmapd" "$top/src/natmapd"; do
		[ -x "$c" ] && natmapd=$c && break
	done
fi
[ -x "$natmapd" ] || { echo "bench: build natmapd first (no $natmapd)" >&2; exit 1; }
for t in upnpc natpmpc; do
	command -v "$t" >/dev/null || { echo "bench: needs $t" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

. "$top/tests/lab/lab.sh"
lab_need_root_tools
trap lab_down EXIT
trap 'exit 1' INT TERM HUP
lab_init && lab_router_start && lab_echo_start ||
    { echo "bench: lab did not come up" >&2; exit 1; }
: >"$LAB_DIR/empty.conf"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

# measure NAME CHECK CMD...: RUNS runs of CMD on the LAN host; CHECK is a
# string its output must hold (the public address), or the run is marked
# failed.  Prints each run; sets MS (median wall ms) and KB (median RSS).
measure() {
	local name=$1 want=$2 i ms kb t0 bad=0
	shift 2
	: >"$LAB_DIR/ms" && : >"$LAB_DIR/kb"
	for i in $(seq "$runs"); do
		# wall time from here (ms, the lab's clock), peak RSS from time(1)
		t0=$(lab_now_ms)
		lab_lan /usr/bin/time -q -f '%M' -o "$LAB_DIR/time" "$@" \
		    >"$LAB_DIR/out" 2>/dev/null
		ms=$(( $(lab_now_ms) - t0 ))
		kb=$(tail -n 1 "$LAB_DIR/time")
		grep -qF -- "$want" "$LAB_DIR/out" || bad=$((bad + 1))
		echo "$ms" >>"$LAB_DIR/ms"
		echo "$kb" >>"$LAB_DIR/kb"
	done
	MS=$(median <"$LAB_DIR/ms")
	KB=$(median <"$LAB_DIR/kb")
	printf '  %-46s %6d ms %6d KiB  (runs: %s)%s\n' "$name" "$MS" "$KB" \
	    "$(tr '\n' ' ' <"$LAB_DIR/ms" | sed 's/ $//')" \
	    "$([ "$bad" -gt 0 ] && echo "  $bad run(s) without $want")"
}

ratio() { awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN { printf "  %-46s %7.2fx\n", l, a / b }'; }

ext=$LAB_RTR_WAN_IP
echo "== public address and network report, median of $runs (lab, $(nproc) cores)"
measure "natpmpc (NAT-PMP public address)" "$ext" natpmpc -g "$LAB_RTR_LAN_IP"
np_ms=$MS np_kb=$KB
measure "upnpc -i -s (UPnP status)" "$ext" upnpc -i -s
up_ms=$MS up_kb=$KB
measure "natmapd --probe, gateway protocols only" "$ext" \
    "$natmapd" --probe -c "$LAB_DIR/empty.conf"
gw_ms=$MS gw_kb=$KB
measure "natmapd --probe, + STUN, RFC 5780 tests" "$ext" \
    "$natmapd" --probe -c "$LAB_DIR/empty.conf" --stun-server "$LAB_STUN_IP"
stun_ms=$MS stun_kb=$KB
measure "natmapd --probe, + echo (libcurl loaded)" "$ext" \
    "$natmapd" --probe -c "$LAB_DIR/empty.conf" \
    --stun-server "$LAB_STUN_IP" --echo-url "$LAB_ECHO_URL"
all_ms=$MS all_kb=$KB
echo "== ratios (natmapd / anchor)"
ratio "gateway only / upnpc -i -s" "$gw_ms" "$up_ms"
ratio "gateway only / natpmpc" "$gw_ms" "$np_ms"
ratio "everything / upnpc -i -s" "$all_ms" "$up_ms"
ratio "peak RSS, gateway only / upnpc -i -s" "$gw_kb" "$up_kb"
ratio "peak RSS, with STUN / upnpc -i -s" "$stun_kb" "$up_kb"
ratio "peak RSS, with echo / upnpc -i -s" "$all_kb" "$up_kb"
echo "(natmapd asks PCP, NAT-PMP and UPnP at once and waits for UPnP's"
echo " description; with STUN the time is mostly the filtering test, whose"
echo " answer is silence: 1.5 s; libcurl is loaded only for an echo URL)"
