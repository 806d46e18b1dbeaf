#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The TCP carrier where both NATs reset unsolicited SYNs (doc/hole-punching.md,
# "TCP through NATs that reset unsolicited SYNs"): both sites of the two-site
# lab in lab_nat_mode rst, DELAY ms one way between them (lab_wan_delay), so
# that a simultaneous open goes through only when the two nodes' SYNs leave
# within about DELAY ms of each other.  natmapd on site 1 (alpha) exposes a
# TCP echo, natmapd on site 2 (beta) connects to it; RUNS fresh starts of beta
# with each natmapd named (alternated, run by run, so that a busy machine
# weighs on each alike), each start an attempt of PUNCH_ATTEMPT_MS (5 s)
# whose carrier is made or not.  Per binary: carriers made of RUNS (10 kB
# through each), those made at the first try (no connect refused on either
# side before) and after refused tries, and the connects refused in all
# ("Connection refused": a NAT's reset; a host candidate of the other site,
# unreachable, is not counted).
# A benchmark, not a test: it prints figures, it passes or fails nothing.
#   usage: bench/carrier-rst.sh [NATMAPD...]   (as root; NATMAPD_RENDEZVOUS
#   beside the first)
#   environment: RUNS (default 20), DELAY (ms one way, default 10)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "${NATMAPD:-$top/_b/src/natmapd}"
bins=("$@")
rdvbin=${NATMAPD_RENDEZVOUS:-$(dirname "$1")/natmapd-rendezvous}
runs=${RUNS:-20}
delay=${DELAY:-10}
for b in "${bins[@]}"; do
	[ -x "$b" ] || { echo "bench: no natmapd at $b" >&2; exit 1; }
done
[ -x "$rdvbin" ] || { echo "bench: no natmapd-rendezvous at $rdvbin" >&2; exit 1; }
export NATMAPD_RENDEZVOUS=$rdvbin

. "$top/bench/lab2.sh"
bench_lab2 "${bins[0]}"
lab_nat_mode rst rtr && lab_nat_mode rst rtr2 || exit 1
lab_wan_delay "$delay" || { echo "bench: lab_wan_delay $delay failed" >&2; exit 1; }
lab_rendezvous_start --networks "$LAB_DIR/nets" || exit 1
rdv="$LAB_RDV_IP:$LAB_RDV_PORT"
echo "punch-map no" >"$LAB_DIR/nomap.conf"
lab_traffic_serve lan tcp 7100 127.0.0.1 || exit 1

# nm BIN NAME HOST ARGS...: a natmapd node (bench_node), punch-map no
nm() { local bin=$1; shift; bench_node "$bin" nomap "$@"; }
stop() {
	kill -TERM "$1"
	lab_wait 5 bash -c "! kill -0 $1 2>/dev/null"
}
outcome() { has beta "alpha: TCP carrier (up|not made)"; }

refused() { grep -c "carrier: $2: connect: Connection refused" "$LAB_DIR/$1.log"; }
declare -A made first tries runs_done
for b in "${bins[@]}"; do made[$b]=0 first[$b]=0 tries[$b]=0 runs_done[$b]=0; done
for i in $(seq 1 "$runs"); do
	for b in "${bins[@]}"; do
		# both nodes of the same build, both fresh
		nm "$b" alpha lan --expose tcpecho=127.0.0.1:7100/tcp
		A_PID=$NM_PID
		lab_wait 10 has alpha "registered as alpha" ||
		    { echo "bench: alpha did not register" >&2; exit 1; }
		nm "$b" beta site2 --connect alpha/tcpecho=127.0.0.1:7101/tcp
		B_PID=$NM_PID
		if lab_wait 30 outcome; then
			runs_done[$b]=$((runs_done[$b] + 1))
			# the tries refused before the outcome, both sides
			n=$(( $(refused beta alpha) + $(refused alpha beta) ))
			tries[$b]=$((tries[$b] + n))
			if has beta "alpha: TCP carrier up" &&
			    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 10000 -t 10 >/dev/null; then
				made[$b]=$((made[$b] + 1))
				[ "$n" = 0 ] && first[$b]=$((first[$b] + 1))
			fi
		else
			echo "bench: run $i of $b: no carrier outcome in 30 s" >&2
		fi
		stop "$B_PID"
		stop "$A_PID"
	done
done
echo "TCP carrier, both NATs resetting unsolicited SYNs, $delay ms one way between the sites:"
for b in "${bins[@]}"; do
	echo "  $b: ${made[$b]} of ${runs_done[$b]} starts made a carrier (10 kB through it): ${first[$b]} at the first try, $((made[$b] - first[$b])) after refused tries; ${tries[$b]} connects refused in all"
done
