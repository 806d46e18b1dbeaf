#!/bin/bash
# SPDX-License-Identifier: ISC
# STUN Binding answers per second over UDP, natmapd-rendezvous against
# coturn (the anchor), in the same namespace lab and the same run: each
# server pinned to CPU 0 (taskset, every thread), the client (bench/
# rdv-rate.c, built here; sendmmsg/recvmmsg, a window of requests
# outstanding) in the wan namespace pinned to CPU 1, no NAT in between.
# RUNS runs of SECONDS each per server, alternating; medians.  Then
# authenticated REGISTERs (below).  A benchmark:
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
cc -O2 -Wall -o "$client/rdv-rate" "$top/bench/rdv-rate.c" \
    "$top/bench/window.c" ||
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

# Authenticated REGISTERs over UDP: bench/rdv-register-rate.c (built here
# against the build tree's libnatmapd.a, for rdv_build), a window of
# REGISTERs of NODES nodes (default 100,000) in turn, each a new
# transaction ID under the network's key, to natmapd-rendezvous restarted
# with that network and pinned to CPU 0; then its RSS against the RSS
# before, over the registrations it holds (SIGUSR1's stats line).
nodes=${NODES:-100000}
b=$(dirname "$rdv")
cc -O2 -Wall -I"$b/.." -I"$top/include" -o "$client/rdv-register-rate" \
    "$top/bench/rdv-register-rate.c" "$top/bench/window.c" "$b/libnatmapd.a" \
    -lnettle ||
    { echo "bench: cannot build bench/rdv-register-rate.c" >&2; exit 1; }
skey=$(head -c 32 /dev/urandom | base64)
printf 'bench %s\n' "$skey" >"$client/nets"
chmod 600 "$client/nets"
lab_rendezvous_start --networks "$client/nets" --max-nodes "$nodes" ||
    { echo "bench: natmapd-rendezvous did not restart" >&2; exit 1; }
taskset -a -p -c 0 "$LAB_RDV_PID" >/dev/null
rss0=$(awk '/^VmRSS/ { print $2 }' /proc/"$LAB_RDV_PID"/status)
for ((i = 0; i < runs; i++)); do
	out=$(lab_wan taskset -c 1 "$client/rdv-register-rate" "$LAB_RDV_IP" \
	    "$LAB_RDV_PORT" "$secs" "$window" "$nodes" bench "$skey")
	echo "register: $out"
	sed -n 's/^.*: \([0-9]*\)\/s,.*$/\1/p' <<<"$out" >>"$client/register"
done
rss1=$(awk '/^VmRSS/ { print $2 }' /proc/"$LAB_RDV_PID"/status)
kill -USR1 "$LAB_RDV_PID"
lab_wait 5 grep -q "stats: registrations" "$LAB_DIR/rendezvous.log"
line=$(grep "stats: registrations" "$LAB_DIR/rendezvous.log" | tail -n 1)
held=$(sed -E 's/.* registrations ([0-9]+).*/\1/' <<<"$line")
echo "median authenticated REGISTERs/s (one core): $(median <"$client/register")"
echo "natmapd-rendezvous RSS ${rss0} kB with 0 registrations, ${rss1} kB with ${held}: $(awk -v a="$rss0" -v b="$rss1" -v n="$held" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-" }') bytes per node"
echo "# ${line#*stats: }"

# The same, the dispatch alone (bench/rdv-register-bench.c: no sockets).
if cc -O2 -Wall -I"$b/.." -I"$top/include" -o "$client/rdv-register-bench" \
    "$top/bench/rdv-register-bench.c" "$b/libnatmapd.a" -lnettle; then
	taskset -c 0 "$client/rdv-register-bench" "$nodes"
else
	echo "bench: cannot build bench/rdv-register-bench.c" >&2
fi
