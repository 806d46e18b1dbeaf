#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Start-to-reachable and memory: natmapd --map against upnpc -a, in the same
# namespace lab, against the same miniupnpd, measured the same way: from the
# moment the tool is started until a WAN host's TCP connection to the mapped
# port gets the LAN service's answer.  Prints each run, the medians and the ratio.
#   usage: bench/startup.sh [RUNS] [NATMAPD]   (as root; default 7 runs)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-7}
natmapd=${2:-${NATMAPD:-$top/_build/plain/src/natmapd}}
if [ ! -x "$natmapd" ]; then
	for c in "$top/_build/demo/src/natmapd" "$top/src/natmapd"; do
		[ -x "$c" ] && natmapd=$c && break
	done
fi
[ -x "$natmapd" ] || { echo "bench: build natmapd first (no $natmapd)" >&2; exit 1; }
command -v upnpc >/dev/null || { echo "bench: needs upnpc (apt-get install miniupnpc)" >&2; exit 1; }

. "$top/tests/lab/lab.sh"
lab_need_root_tools
NM_PID=
cleanup() { [ -n "$NM_PID" ] && kill -KILL "$NM_PID" 2>/dev/null; lab_down; }
trap cleanup EXIT
lab_init && lab_router_start || { echo "bench: lab did not come up" >&2; exit 1; }
lab_serve_tcp 8080 || exit 1
: >"$LAB_DIR/empty.conf"

# The probe: one TCP connection from the WAN; its own cost bounds the resolution.
reach() { lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null; }
t0=$(lab_now_ms); reach; t1=$(lab_now_ms)
probe_ms=$((t1 - t0))

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
gone() { [ -z "$(lab_rules | grep 'dport 8080 ')" ]; }

nm_times=() up_times=() nm_rss=() up_rss=()
for i in $(seq 1 "$runs"); do
	# natmapd
	t0=$(lab_now_ms)
	ip netns exec "$LAB_NS_LAN" "$natmapd" -f -c "$LAB_DIR/empty.conf" -m 8080/tcp \
	    >"$LAB_DIR/nm.log" 2>&1 &
	NM_PID=$!
	if lab_wait 10 reach; then
		nm_times+=($(( $(lab_now_ms) - t0 )))
	else
		echo "bench: natmapd run $i: not reached" >&2; cat "$LAB_DIR/nm.log" >&2; exit 1
	fi
	nm_rss+=("$(awk '/^VmHWM/ { print $2 }' "/proc/$NM_PID/status")")
	kill -TERM "$NM_PID"; wait "$NM_PID"; NM_PID=
	lab_wait 5 gone || { echo "bench: natmapd left its mapping" >&2; exit 1; }

	# upnpc -i -a, as a cron script would run it (-i: the lab IGD reports a reserved address)
	t0=$(lab_now_ms)
	ip netns exec "$LAB_NS_LAN" /usr/bin/time -f '%M' -o "$LAB_DIR/up.rss" \
	    upnpc -i -e "bench" -a "$LAB_LAN_IP" 8080 8080 TCP 3600 >"$LAB_DIR/up.log" 2>&1 &
	up=$!
	if lab_wait 15 reach; then
		up_times+=($(( $(lab_now_ms) - t0 )))
	else
		echo "bench: upnpc run $i: not reached" >&2; cat "$LAB_DIR/up.log" >&2; exit 1
	fi
	wait "$up"
	up_rss+=("$(cat "$LAB_DIR/up.rss")")
	lab_lan upnpc -i -d 8080 TCP >/dev/null 2>&1
	lab_wait 5 gone || { echo "bench: upnpc -d left the mapping" >&2; exit 1; }
	printf 'run %d: natmapd %4d ms (peak RSS %s KiB)   upnpc -a %4d ms (peak RSS %s KiB)\n' \
	    "$i" "${nm_times[-1]}" "${nm_rss[-1]}" "${up_times[-1]}" "${up_rss[-1]}"
done

nm=$(printf '%s\n' "${nm_times[@]}" | median)
up=$(printf '%s\n' "${up_times[@]}" | median)
nmr=$(printf '%s\n' "${nm_rss[@]}" | median)
upr=$(printf '%s\n' "${up_rss[@]}" | median)
echo
echo "start to reachable from the WAN, median of $runs runs (probe resolution ~${probe_ms} ms):"
printf '  natmapd --map 8080/tcp   %5d ms\n' "$nm"
printf '  upnpc -i -a              %5d ms\n' "$up"
awk -v a="$up" -v b="$nm" 'BEGIN { if (b > 0) printf "  ratio upnpc/natmapd      %5.1fx\n", a / b }'
echo "peak resident memory, median:"
printf '  natmapd (daemon, running) %5d KiB\n' "$nmr"
printf '  upnpc -i -a (one shot)    %5d KiB\n' "$upr"
