#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Many mappings on the lab's miniupnpd (nftables backend, which slows down as
# its table fills): for 1, 10, 100 and 300 UDP mappings through PCP, NAT-PMP
# and UPnP, the time from natmapd's start until the router forwards every one
# of them (its DNAT rule is there: the router's table, read with nft, is the
# outside truth), the time from SIGTERM until natmapd exits, what it left on
# the router and how much of that its state file keeps for its next start
# (all of it: nothing lost), and its peak resident memory.  Where a router
# cannot do all of the work in the time allowed (CELL_LIMIT, or natmapd's
# 85 s bound at SIGTERM), the figure says how many were done, and the ratio
# compares the time per operation.  Beside it, in the
# same run against the same router, the same work done one request at a time:
# `natpmpc -a` (for PCP and NAT-PMP: there is no PCP client in Debian) and
# `upnpc -u URL -a` (the description URL given, so that each call does not
# search for the router for 2 s), each deleted the same way.
# A benchmark, not a test: it prints figures, it passes or fails nothing.
#   usage: bench/scale.sh [NATMAPD]   (as root)
#   environment: SIZES (default "1 10 100 300"), PROTOS (default
#   "pcp natpmp upnp"), CELL_LIMIT (seconds one install or delete may take,
#   default 300; past it the figure is ">LIMIT" and the rest is flushed),
#   ANCHOR_LIMIT (the same for the anchors, default CELL_LIMIT: give them
#   more time so that their deletes start from a table as full as
#   natmapd's), ANCHORS (default yes; no: natmapd alone)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
natmapd=${1:-${NATMAPD:-$top/_build/plain/src/natmapd}}
sizes=${SIZES:-1 10 100 300}
protos=${PROTOS:-pcp natpmp upnp}
limit=${CELL_LIMIT:-300}
alimit=${ANCHOR_LIMIT:-$limit}
if [ ! -x "$natmapd" ]; then
	for c in "$top/_build/demo/src/natmapd" "$top/_b/src/natmapd" "$top/src/natmapd"; do
		[ -x "$c" ] && natmapd=$c && break
	done
fi
[ -x "$natmapd" ] || { echo "bench: build natmapd first (no $natmapd)" >&2; exit 1; }
command -v upnpc >/dev/null || { echo "bench: needs upnpc (apt-get install miniupnpc)" >&2; exit 1; }
command -v natpmpc >/dev/null || { echo "bench: needs natpmpc (apt-get install natpmpc)" >&2; exit 1; }

. "$top/tests/lab/lab.sh"
lab_need_root_tools
NM_PID=
cleanup() { [ -n "$NM_PID" ] && kill -KILL "$NM_PID" 2>/dev/null; lab_down; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
lab_init && lab_router_start || { echo "bench: lab did not come up" >&2; exit 1; }
: >"$LAB_DIR/empty.conf"
url="http://$LAB_RTR_LAN_IP:$LAB_HTTP_PORT/rootDesc.xml"
FIRST=20000

# How many of the N ports from FIRST the router forwards to the LAN host.
count() {
	lab_rules | awk -v lo="$FIRST" -v hi="$((FIRST + $1 - 1))" -v to="$LAB_LAN_IP" '
	    $1 == "udp" && $3 >= lo && $3 <= hi && index($6, to ":") == 1 { n++ }
	    END { print n + 0 }'
}
all_there() { [ "$(count "$1")" -ge "$1" ]; }
none_there() { [ "$(count "$1")" = 0 ]; }
# A cell that ran out of time leaves what it left: start the next one clean.
settle() {
	lab_wait 10 none_there "$1" && return 0
	echo "bench: $2 left $(count "$1") entries; flushing the router's table" >&2
	lab_rules_flush
}
exited() {	# exited PID: gone or a zombie
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	[ "${s%% *}" = Z ]
}
# hwm PID: keep the peak RSS seen (KiB) in HWM, and in PRIV the most of
# it seen private to the process (not pages of shared libraries, which
# every process using them shares): Private_Clean + Private_Dirty
hwm() {
	local v
	v=$(awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$v" ] && [ "$v" -gt "${HWM:-0}" ] && HWM=$v
	v=$(awk '/^Private_(Clean|Dirty)/ { n += $2 } END { print n + 0 }' \
	    "/proc/$1/smaps_rollup" 2>/dev/null)
	[ -n "$v" ] && [ "$v" -gt "${PRIV:-0}" ] && PRIV=$v
	return 0
}
# while natmapd installs: sample its memory, stop when all are there
installed_sampling() { hwm "$NM_PID"; all_there "$1"; }
# while natmapd deletes: sample its memory, stop when it has exited
stopped_sampling() { hwm "$NM_PID"; exited "$NM_PID"; }
ms_since() { echo $(( $(lab_now_ms) - $1 )); }
fmt_ms() { case $1 in '>'*|-) printf '%9s' "$1" ;; *) printf '%7.1f s' "$(awk -v m="$1" 'BEGIN { print m / 1000 }')" ;; esac; }
# cell MS DONE N: "12.3 s", or "300.0 s: 212" when only DONE of N were done
cell() {
	if [ "$1" = - ]; then
		printf '%15s' -
	elif [ "$2" -ge "$3" ]; then
		printf '%15s' "$(fmt_ms "$1" | tr -s ' ')"
	else
		printf '%15s' "$(fmt_ms "$1" | tr -s ' '): $2"
	fi
}
# ratio MS DONE MS DONE: the time one operation took, natmapd's over the
# anchor's (the plain time ratio when both did all of it); used where the
# anchor's own times are not known
ratio() {
	case "$1$3" in
	*-*) printf '%6s' n/a; return ;;
	esac
	awk -v a="$1" -v an="$2" -v b="$3" -v bn="$4" 'BEGIN {
	    if (an > 0 && bn > 0 && b > 0) printf "%5.2fx", (a / an) / (b / bn);
	    else printf "%6s", "n/a" }'
}

# same_ratio MS DONE FIRST "T1 T2 ..." AOPS: natmapd did DONE operations in
# MS, the first of them at table size FIRST counted from the anchor's start
# (install: 0; delete: how many fewer the router held for natmapd than for
# the anchor, negative when more); T1... are the anchor's times (ms since
# its loop began) after each of its AOPS operations.  The router's cost of
# an operation grows with its table, so natmapd's time per operation is
# compared with the anchor's over the same operations, at the same table
# sizes (where natmapd's table was larger than the anchor's ever was, the
# anchor's nearest ones, which are cheaper: that favours the anchor).
same_ratio() {
	awk -v ms="$1" -v done="$2" -v first="$3" -v t="$4" -v aops="$5" 'BEGIN {
	    n = split(t, T, " ")
	    if (aops < n) n = aops
	    lo = first < 0 ? 0 : first; hi = first + done
	    if (hi > n) hi = n
	    if (done <= 0 || hi <= lo) { printf "%6s", "n/a"; exit }
	    # T[i] is after operation i (1-based): operations lo+1..hi
	    a = T[hi] - (lo > 0 ? T[lo] : 0)
	    if (a <= 0) { printf "%6s", "n/a"; exit }
	    printf "%5.2fx", (ms / done) / (a / (hi - lo)) }'
}

# natmapd_cell PROTOCOL N: sets IN_MS, IN_DONE, DEL_MS, DEL_DONE, LEFT, KEPT
# (what is left and in the state file, for the next start), HWM, LOST
# (gateway lost)
natmapd_cell() {
	local p=$1 n=$2 t0 log="$LAB_DIR/nm-$1-$2.log"
	rm -f "$LAB_DIR/natmapd.state"
	HWM=0
	PRIV=0
	t0=$(lab_now_ms)
	ip netns exec "$LAB_NS_LAN" "$natmapd" -f -v -c "$LAB_DIR/empty.conf" \
	    --state-file "$LAB_DIR/natmapd.state" --protocol "$p" \
	    -m "$FIRST-$((FIRST + n - 1))/udp" >"$log" 2>&1 &
	NM_PID=$!
	lab_wait "$limit" installed_sampling "$n"
	IN_MS=$(ms_since "$t0")
	IN_DONE=$(count "$n")
	hwm "$NM_PID"
	IN_HWM=$HWM	# the peak by the end of the install; the rest is shutdown's
	t0=$(lab_now_ms)
	kill -TERM "$NM_PID"
	if ! lab_wait 120 stopped_sampling; then
		echo "bench: natmapd did not exit within 120 s of SIGTERM" >&2
		kill -KILL "$NM_PID"
	fi
	DEL_MS=$(ms_since "$t0")
	wait "$NM_PID" 2>/dev/null
	NM_PID=
	LEFT=$(count "$n")
	DEL_DONE=$((IN_DONE > LEFT ? IN_DONE - LEFT : 0))
	KEPT=$(grep -c '^map ' "$LAB_DIR/natmapd.state" 2>/dev/null)
	KEPT=${KEPT:-0}
	# "?" when the log cannot be read: the table's columns stay in place
	LOST=$(grep -c "stopped answering" "$log" 2>/dev/null)
	LOST=${LOST:-?}
	cp "$log" "/tmp/bench-scale-nm-$p-$n.log" 2>/dev/null
	settle "$n" "natmapd --protocol $p"
}

# oneshot_cell natpmpc|upnpc N: the same work one request at a time; sets
# IN_MS, IN_DONE, DEL_MS, DEL_DONE, LEFT, HWM (peak RSS of one call), and
# IN_T, DEL_T (ms since the loop began, after each call)
oneshot_cell() {
	local tool=$1 n=$2 t0 i port end
	HWM=0
	IN_T=
	DEL_T=
	end=$(( $(lab_now_ms) + alimit * 1000 ))
	t0=$(lab_now_ms)
	for ((i = 0; i < n; i++)); do
		port=$((FIRST + i))
		if [ "$tool" = natpmpc ]; then
			lab_lan timeout 15 natpmpc -a "$port" "$port" udp 3600 >/dev/null 2>&1
		else
			lab_lan timeout 15 upnpc -u "$url" -e bench -a "$LAB_LAN_IP" "$port" "$port" UDP 3600 >/dev/null 2>&1
		fi
		IN_T="$IN_T $(ms_since "$t0")"
		[ "$(lab_now_ms)" -ge "$end" ] && break
	done
	lab_wait 5 all_there "$n"
	IN_MS=$(ms_since "$t0")
	IN_DONE=$(count "$n")
	end=$(( $(lab_now_ms) + alimit * 1000 ))
	t0=$(lab_now_ms)
	for ((i = 0; i < n; i++)); do
		port=$((FIRST + i))
		if [ "$tool" = natpmpc ]; then
			lab_lan timeout 15 natpmpc -a "$port" "$port" udp 0 >/dev/null 2>&1
		else
			lab_lan timeout 15 upnpc -u "$url" -d "$port" UDP >/dev/null 2>&1
		fi
		DEL_T="$DEL_T $(ms_since "$t0")"
		[ "$(lab_now_ms)" -ge "$end" ] && break
	done
	lab_wait 5 none_there "$n"
	DEL_MS=$(ms_since "$t0")
	LEFT=$(count "$n")
	DEL_DONE=$((IN_DONE > LEFT ? IN_DONE - LEFT : 0))
	# one call's peak RSS, measured apart (a mapping there already)
	port=$FIRST
	if [ "$tool" = natpmpc ]; then
		HWM=$(lab_lan /usr/bin/time -f '%M' natpmpc -a "$port" "$port" udp 0 2>&1 >/dev/null | tail -n1)
	else
		HWM=$(lab_lan /usr/bin/time -f '%M' upnpc -u "$url" -d "$port" UDP 2>&1 >/dev/null | tail -n1)
	fi
	settle "$n" "$tool"
}

declare -A R TIN TDEL
for n in $sizes; do
	for tool in natpmpc upnpc; do
		[ "${ANCHORS:-yes}" = no ] && continue
		case " $protos " in
		*" upnp "*) ;;
		*) [ "$tool" = upnpc ] && continue ;;
		esac
		case " $protos " in
		*" pcp "*|*" natpmp "*) ;;
		*) [ "$tool" = natpmpc ] && continue ;;
		esac
		oneshot_cell "$tool" "$n"
		R[$tool,$n]="$IN_MS $IN_DONE $DEL_MS $DEL_DONE $LEFT $HWM"
		TIN[$tool,$n]=$IN_T
		TDEL[$tool,$n]=$DEL_T
		echo "# $tool x$n: installed $IN_DONE in $IN_MS ms, deleted $DEL_DONE in $DEL_MS ms, left $LEFT, one call's peak RSS $HWM KiB" >&2
	done
	for p in $protos; do
		natmapd_cell "$p" "$n"
		R[$p,$n]="$IN_MS $IN_DONE $DEL_MS $DEL_DONE $LEFT $KEPT $HWM $LOST $PRIV"
		echo "# natmapd --protocol $p x$n: installed $IN_DONE in $IN_MS ms, deleted $DEL_DONE in $DEL_MS ms, left $LEFT ($KEPT in the state file), peak RSS $HWM KiB ($IN_HWM KiB by the end of the install; private $PRIV KiB), gateway lost $LOST times" >&2
	done
done

echo
echo "natmapd against one request at a time, on the lab's miniupnpd ($(miniupnpd --version 2>&1 | head -n1 || true))"
echo "(a time with \": K\" after it: only K of the maps were done by then; the ratio"
echo " is natmapd's time per operation over the anchor's, at the same table sizes;"
echo " left: on the router after the exit, kept: of those, in natmapd's state file"
echo " for its next start)"
printf '%-7s %4s | %15s %15s %6s | %15s %15s %6s | %4s %4s | %8s %8s | %s\n' \
    protocol maps install anchor ratio "delete (TERM)" anchor ratio left kept "peak RSS" private anchor
for p in $protos; do
	tool=natpmpc
	[ "$p" = upnp ] && tool=upnpc
	for n in $sizes; do
		read -r in indone del deldone left kept rss lost priv <<<"${R[$p,$n]}"
		a=${R[$tool,$n]:-- 0 - 0 - -}
		read -r ain aindone adel adeldone aleft arss <<<"$a"
		tin=${TIN[$tool,$n]:-}
		tdel=${TDEL[$tool,$n]:-}
		if [ -n "$tin" ] && [ "$in" != - ]; then
			rin=$(same_ratio "$in" "$indone" 0 "$tin" 1000000)
		else
			rin=$(ratio "$in" "$indone" "$ain" "$aindone")
		fi
		if [ -n "$tdel" ] && [ "$del" != - ]; then
			rdel=$(same_ratio "$del" "$deldone" "$((aindone - indone))" "$tdel" 1000000)
		else
			rdel=$(ratio "$del" "$deldone" "$adel" "$adeldone")
		fi
		printf '%-7s %4d | %15s %15s %6s | %15s %15s %6s | %4s %4s | %5.2f MiB %4.2f MiB | %s\n' \
		    "$p" "$n" "$(cell "$in" "$indone" "$n")" "$(cell "$ain" "$aindone" "$n")" \
		    "$rin" \
		    "$(cell "$del" "$deldone" "$indone")" "$(cell "$adel" "$adeldone" "$aindone")" \
		    "$rdel" \
		    "$left" "$kept" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
		    "$(awk -v k="${priv:-0}" 'BEGIN { print k / 1024 }')" "$tool (left $aleft)"
		[ "${lost:-0}" != 0 ] && echo "  ($p x$n: natmapd took the gateway for lost $lost times)"
	done
done
