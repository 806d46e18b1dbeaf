#!/bin/bash
# SPDX-License-Identifier: ISC
# STUN Binding answers per second over UDP, natmapd-rendezvous against
# coturn (the anchor), in the same namespace lab and the same run: each
# server pinned to CPU 0 (taskset, every thread), the client (bench/
# rdv-rate.c, built here; sendmmsg/recvmmsg, a window of requests
# outstanding) in the wan namespace pinned to CPU 1, no NAT in between.
# RUNS runs of SECONDS each per server, alternating; medians.  A benchmark:
# it prints figures, it passes or fails nothing.
#   usage: bench/rendezvous.sh [RUNS] [SECONDS] [WINDOW]   (as root;
#          default 3 runs of 5 s, window 64; NATMAPD_RENDEZVOUS the binary)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
secs=${2:-5}
window=${3:-64}
rdv=${NATMAPD_RENDEZVOUS:-}
if [ -z "$rdv" ]; then
	for c in "$top/_b/src/natmapd-rendezvous" "$top/src/natmapd-rendezvous"; do
		[ -x "$c" ] && rdv=$c && break
	done
fi
[ -x "$rdv" ] || { echo "bench: build natmapd-rendezvous first" >&2; exit 1; }
export NATMAPD_RENDEZVOUS=$rdv
command -v taskset >/dev/null || { echo "bench: needs taskset" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "bench: needs 2 CPUs" >&2; exit 1; }

. "$top/tests/lab/lab.sh"
lab_need_root_tools
client=$(mktemp -d "${TMPDIR:-/tmp}/rdv-bench.XXXXXX") || exit 1
trap 'lab_down; rm -rf "$client"' EXIT
trap 'exit 1' INT TERM HUP
cc -O2 -Wall -o "$client/rdv-rate" "$top/bench/rdv-rate.c" ||
    { echo "bench: cannot build bench/rdv-rate.c" >&2; exit 1; }
lab_init && lab_stun_start && lab_rendezvous_start ||
    { echo "bench: lab did not come up" >&2; exit 1; }
taskset -a -p -c 0 "$LAB_TURN_PID" >/dev/null &&
    taskset -a -p -c 0 "$LAB_RDV_PID" >/dev/null ||
    { echo "bench: taskset failed" >&2; exit 1; }
echo "# coturn $(turnserver --version 2>/dev/null | head -n 1) threads: $(ls /proc/"$LAB_TURN_PID"/task | wc -l), pinned to CPU 0"
echo "# natmapd-rendezvous $("$rdv" -V), pinned to CPU 0; client on CPU 1, window $window"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

# run NAME ADDR PORT: one run; prints the client's line, appends the rate
run() {
	local out
	out=$(lab_wan taskset -c 1 "$client/rdv-rate" "$2" "$3" "$secs" "$window")
	echo "$1: $out"
	sed -n 's/^.*: \([0-9]*\)\/s,.*$/\1/p' <<<"$out" >>"$client/$1"
}

for ((i = 0; i < runs; i++)); do
	run coturn "$LAB_STUN_IP" "$LAB_STUN_PORT"
	run rendezvous "$LAB_RDV_IP" "$LAB_RDV_PORT"
done
c=$(median <"$client/coturn")
r=$(median <"$client/rendezvous")
echo "median answers/s: coturn $c, natmapd-rendezvous $r, ratio $(awk -v a="$r" -v b="$c" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
rss=$(awk '/^VmHWM/ { print $2 }' /proc/"$LAB_RDV_PID"/status)
echo "natmapd-rendezvous peak RSS: ${rss} kB"

# Authenticated REGISTERs: bench/rdv-register-bench.c, built here against
# the build tree's libnatmapd.a, calls the server's dispatch directly (MAC
# checked, replay cache, registration, answer built and MACed; no
# sockets), pinned to CPU 0: the rate on one core and the memory per
# registered node (RSS before and after 100,000 registrations).
b=$(dirname "$rdv")
if cc -O2 -Wall -I"$b/.." -I"$top/include" -o "$client/rdv-register-bench" \
    "$top/bench/rdv-register-bench.c" "$b/libnatmapd.a" -lnettle; then
	taskset -c 0 "$client/rdv-register-bench" 100000
else
	echo "bench: cannot build bench/rdv-register-bench.c" >&2
fi
