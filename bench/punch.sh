#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Hole punching in the two-site lab (LAB_SITES=2): natmapd on site 1 (alpha)
# exposes a TCP and a UDP echo, natmapd on site 2 (beta) connects to them.
# Figures:
#   - start to path: from beta's start until its direct UDP path and its TCP
#     carrier are up (both nodes registered first);
#   - first byte: from a client's first connection to beta's port until the
#     first byte back from alpha's echo (TCP), and the first datagram back
#     (UDP), over the punched path;
#   - throughput and added latency: the same TCP transfer and the same UDP
#     round trips through natmapd's path and through a plain port forward
#     (miniupnpd's DNAT on site 1's router, mapped with upnpc) in the same
#     run, and the ratio;
#   - CPU: natmapd's CPU seconds (both nodes) per GB through the carrier.
#   - success per cell of the NAT matrix (site 2's NAT: CELLS, default
#     "default cone rst random mapped"; alpha runs with punch-map no, so
#     that each cell is punching, but for "mapped": site 2 symmetric as in
#     random, alpha's punching ports mapped by site 1's miniupnpd (punch-map
#     yes, the default), the candidates of kind mapped; site 1 stays the
#     plain masquerade, whose
#     kernel resets unsolicited SYNs, but for rst, where site 1 drops them
#     so that one side resets, as in issue 11's matrix): RUNS
#     fresh starts of beta (default 20; RUNS_HOPELESS, default 5, where no
#     direct path can be made, the symmetric "random"): how many get a
#     direct path and data through, and where none can, how many said why
#     within 30 s;
#   - round trips one at a time (microseconds, median and 90th percentile)
#     and UDP throughput (1200-byte datagrams, a window of FLOOD_WINDOW,
#     default 256), through
#     natmapd's path and through the port forward.
# A benchmark, not a test: it prints figures, it passes or fails nothing.
#   usage: bench/punch.sh [NATMAPD]   (as root; NATMAPD_RENDEZVOUS beside it)
#   environment: RUNS (default 20), RUNS_HOPELESS (default 5), CELLS, MB
#   (default 60; traffic.py takes at most 64 MiB), ROUNDS (default 3:
#   each throughput measured that many times, natmapd's and the port
#   forward's in turn; every round's ratio printed, and their median),
#   CIPHER (both nodes' cipher statement, natmapd.conf(5): auto, the
#   default, or chacha20-poly1305)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
natmapd=${1:-${NATMAPD:-$top/_b/src/natmapd}}
rdvbin=${NATMAPD_RENDEZVOUS:-$(dirname "$natmapd")/natmapd-rendezvous}
runs=${RUNS:-20}
runs_hopeless=${RUNS_HOPELESS:-5}
cells=${CELLS:-default cone rst random mapped}
mb=${MB:-60}
rounds=${ROUNDS:-3}
[ -x "$natmapd" ] && [ -x "$rdvbin" ] ||
    { echo "bench: build natmapd and natmapd-rendezvous first" >&2; exit 1; }
command -v upnpc >/dev/null || { echo "bench: needs upnpc" >&2; exit 1; }
export NATMAPD_RENDEZVOUS=$rdvbin

. "$top/bench/lab2.sh"
bench_lab2 "$natmapd"
lab_router_start || { echo "bench: miniupnpd did not start" >&2; exit 1; }
lab_rendezvous_start --networks "$LAB_DIR/nets" || exit 1
rdv="$LAB_RDV_IP:$LAB_RDV_PORT"
cipher=${CIPHER:-auto}
echo "cipher $cipher" >"$LAB_DIR/empty.conf"
printf '%s\n' "punch-map no" "cipher $cipher" >"$LAB_DIR/nomap.conf"
alpha_conf=nomap	# alpha's configuration: nomap, or empty (punch-map yes)

# the services on site 1: behind natmapd (loopback) and for the port forward
lab_traffic_serve lan tcp 7100 127.0.0.1 || exit 1
lab_traffic_serve lan udp 7000 127.0.0.1 || exit 1
lab_traffic_serve lan tcp 8100 "$LAB_LAN_IP" || exit 1
lab_traffic_serve lan udp 8000 "$LAB_LAN_IP" || exit 1
lab_lan upnpc -u "$LAB_ROOTDESC" -a "$LAB_LAN_IP" 8100 8100 TCP >/dev/null &&
    lab_lan upnpc -u "$LAB_ROOTDESC" -a "$LAB_LAN_IP" 8000 8000 UDP >/dev/null ||
    { echo "bench: upnpc could not map the anchor's ports" >&2; exit 1; }

# nm NAME HOST ARGS...: a natmapd node (bench_node), its pid in NM_PID
nm() { bench_node "$natmapd" "${NM_CONF:-empty}" "$@"; }
cpu_s() {	# CPU seconds (user + system) of PID
	awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null
}

alpha_start() {
	NM_CONF=$alpha_conf nm alpha lan --expose tcpecho=127.0.0.1:7100/tcp --expose echo=127.0.0.1:7000/udp
	A_PID=$NM_PID
	lab_wait 10 has alpha "registered as alpha" || { echo "bench: alpha did not register" >&2; exit 1; }
}
# site 1's NAT in MODE; alpha started again (a mode change wipes the
# router's UDP bindings, alpha's registration among them)
site1_mode() {
	lab_nat_mode "$1" rtr || { echo "bench: lab_nat_mode $1 rtr failed" >&2; exit 1; }
	kill -TERM "$A_PID"
	lab_wait 5 bash -c "! kill -0 $A_PID 2>/dev/null"
	alpha_start
}
alpha_start

# ---- success per cell over fresh starts, and the time to the path ----
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }
beta_start() {
	nm beta site2 --connect alpha/tcpecho=127.0.0.1:7101/tcp \
	    --connect alpha/echo=127.0.0.1:7001/udp
	B_PID=$NM_PID
}
beta_stop() {
	kill -TERM "$B_PID"
	lab_wait 5 bash -c "! kill -0 $B_PID 2>/dev/null"
}
# cell MODE: RUNS starts of beta with site 2's NAT in MODE (see
# lab_nat_mode); prints the cell's line; t_path, t_car: the default cell's
cell() {
	local mode=$1 n=$runs ok=0 said=0 i t0 tp=() tc=() nat=$1
	local up="alpha: direct path up"
	[ "$mode" = random ] && n=$runs_hopeless
	[ "$mode" = mapped ] && nat=random up="alpha: direct path up, .* via mapped"
	lab_nat_mode "$nat" rtr2 || { echo "bench: lab_nat_mode $nat failed" >&2; return 1; }
	[ "$mode" = rst ] && site1_mode drop
	if [ "$mode" = mapped ]; then
		alpha_conf=empty site1_mode default
		lab_wait 30 has alpha "the gateway maps TCP port" ||
		    { echo "bench: alpha's carrier port not mapped" >&2; return 1; }
	fi
	for i in $(seq 1 "$n"); do
		t0=$(lab_now_ms)
		beta_start
		if lab_wait 20 has beta "$up"; then
			tp+=($(( $(lab_now_ms) - t0 )))
			if lab_wait 10 has beta "alpha: TCP carrier up" &&
			    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 10000 -t 10 >/dev/null &&
			    lab_traffic_check site2 udp 127.0.0.1 7001 -n 3 -t 10 >/dev/null; then
				ok=$((ok + 1))
				tc+=($(( $(lab_now_ms) - t0 )))
			fi
		elif lab_wait 10 has beta "alpha: no direct path"; then
			said=$((said + 1))
		fi
		beta_stop
	done
	printf '  %-8s %2d of %2d starts: direct path, 10 kB over TCP and 3 datagrams back' "$mode" "$ok" "$n"
	[ "$ok" -lt "$n" ] && printf '; of the others, %d said why within 30 s' "$said"
	[ "${#tp[@]}" -gt 0 ] && printf '; start to path median %s ms' "$(med "${tp[@]}")"
	echo
	[ "$mode" = default ] && t_path=("${tp[@]}") && t_car=("${tc[@]}")
	[ "$mode" = rst ] && site1_mode default
	[ "$mode" = mapped ] && site1_mode default	# alpha_conf nomap again
	return 0
}
t_path=() t_car=()
echo "both nodes: cipher $cipher (natmapd.conf(5)); this CPU: $(grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo && echo "AES-NI and PCLMULQDQ" || echo "no AES-NI or no PCLMULQDQ")"
echo "success per cell (site 1: masquerade, which drops unsolicited SYNs in the rst cell; site 2's NAT as named):"
for c in $cells; do
	cell "$c"
done
lab_nat_mode default rtr2 || exit 1
[ "${#t_path[@]}" -gt 0 ] &&
    echo "start to direct UDP path (default cell): median $(med "${t_path[@]}") ms; to path, carrier and data checked: median $(med "${t_car[@]}") ms"
beta_start
lab_wait 20 has beta "alpha: TCP carrier up" || { echo "bench: beta got no carrier" >&2; exit 1; }

# ---- first byte: a client's connection to the first byte back ----
fb() {	# fb tcp|udp ADDR PORT: ms from the first byte sent to the last checked, 1 byte / 1 datagram
	lab_traffic_check site2 "$1" "$2" "$3" -n 1 -t 10 | awk '$1 == "ok" { print $3 }'
}
fb_t=() fb_u=() an_t=() an_u=()
for i in 1 2 3 4 5; do
	fb_t+=($(fb tcp 127.0.0.1 7101)) fb_u+=($(fb udp 127.0.0.1 7001))
	an_t+=($(fb tcp "$LAB_PUBLIC_IP" 8100)) an_u+=($(fb udp "$LAB_PUBLIC_IP" 8000))
done
echo "first byte back (median of 5; the client's connect included for TCP):"
echo "  TCP: $(med "${fb_t[@]}") ms through natmapd, $(med "${an_t[@]}") ms through the port forward"
echo "  UDP: $(med "${fb_u[@]}") ms through natmapd, $(med "${an_u[@]}") ms through the port forward"

# ---- throughput, and CPU per GB ----
# ROUNDS of each transfer, natmapd's and the port forward's taking turns,
# so that what else the 2 cores do weighs on both alike: each round's
# ratio, and the median of them.
cpu_both() { awk -v a="$(cpu_s "$A_PID")" -v b="$(cpu_s "$B_PID")" 'BEGIN { print a + b }'; }
bytes=$((mb * 1000000))
t_r=() cpu_t=0 tline=""
for r in $(seq 1 "$rounds"); do
	c0=$(cpu_both)
	ms=$(lab_traffic_check site2 tcp 127.0.0.1 7101 -n "$bytes" -t 50 | awk '$1 == "ok" { print $3 }')
	c1=$(cpu_both)
	msa=$(lab_traffic_check site2 tcp "$LAB_PUBLIC_IP" 8100 -n "$bytes" -t 50 | awk '$1 == "ok" { print $3 }')
	if [ -z "$ms" ] || [ -z "$msa" ]; then
		tline="$tline round $r: natmapd ${ms:-failed}, port forward ${msa:-failed};"
		continue
	fi
	read -r t ta x <<<"$(awk -v b="$bytes" -v m="$ms" -v ma="$msa" 'BEGIN {
	    t = 2 * b * 8 / (m / 1000) / 1e6; ta = 2 * b * 8 / (ma / 1000) / 1e6
	    printf "%.0f %.0f %.2f", t, ta, t / ta }')"
	tline="$tline $t/$ta Mbit/s ${x}x;"
	t_r+=("$x")
	cpu_t=$(awk -v s="$cpu_t" -v a="$c0" -v b="$c1" 'BEGIN { print s + b - a }')
done
echo "TCP echo of $mb MB (both ways), $rounds rounds (natmapd/port forward):$tline median $(med "${t_r[@]}")x"
[ "${#t_r[@]}" -gt 0 ] && awk -v c="$cpu_t" -v g="$((2 * mb * ${#t_r[@]}))" 'BEGIN {
    printf "natmapd CPU (both nodes): %.2f s for %.2f GB through the carrier: %.2f s per GB\n", c, g / 1000, c / (g / 1000) }'

# ---- round trips one at a time, and UDP throughput ----
trf() { ip netns exec "$(lab_ns_of site2)" timeout 120 python3 "$top/tests/lab/traffic.py" "$@"; }
rt() { trf rtt "$@" -n 500 | awk '$1 == "rtt" { print $3, $4 }'; }
echo "round trips of 64 bytes, one at a time (500; median / 90th percentile, microseconds):"
for p in "udp 7001 8000" "tcp 7101 8100"; do
	read -r proto pn pa <<<"$p"
	read -r nmed n90 <<<"$(rt "$proto" 127.0.0.1 "$pn")"
	read -r amed a90 <<<"$(rt "$proto" "$LAB_PUBLIC_IP" "$pa")"
	awk -v p="$proto" -v nm="${nmed:-}" -v n9="${n90:-}" -v am="${amed:-}" -v a9="${a90:-}" 'BEGIN {
	    if (nm == "" || am == "") { printf "  %s: natmapd %s, port forward %s\n", toupper(p), nm == "" ? "failed" : nm, am == "" ? "failed" : am; exit }
	    printf "  %s: %d / %d through natmapd, %d / %d through the port forward: %+d us added (median)\n", toupper(p), nm, n9, am, a9, nm - am }'
done
fl() { trf flood "$@" -n 20000 -s 1200 -w "${FLOOD_WINDOW:-256}" | awk '$1 == "flood" { print $2, $3, $4 }'; }
u_r=() cpu_u=0 gb_u=0 uline=""
for r in $(seq 1 "$rounds"); do
	c0=$(cpu_both)
	read -r ns ne nms <<<"$(fl 127.0.0.1 7001)"
	c1=$(cpu_both)
	read -r as ae ams <<<"$(fl "$LAB_PUBLIC_IP" 8000)"
	if [ "${nms:-0}" -le 0 ] 2>/dev/null || [ "${ams:-0}" -le 0 ] 2>/dev/null || [ "${ne:-0}" -le 0 ]; then
		uline="$uline round $r: natmapd ${ne:-0} of ${ns:-0} echoed, port forward ${ae:-0} of ${as:-0};"
		continue
	fi
	read -r t ta x <<<"$(awk -v ne="$ne" -v nms="$nms" -v ae="$ae" -v ams="$ams" 'BEGIN {
	    t = 2 * ne * 1200 * 8 / (nms / 1000) / 1e6; ta = 2 * ae * 1200 * 8 / (ams / 1000) / 1e6
	    printf "%.0f %.0f %.2f", t, ta, t / ta }')"
	uline="$uline $t/$ta Mbit/s ($ne/$ae echoed) ${x}x;"
	u_r+=("$x")
	cpu_u=$(awk -v s="$cpu_u" -v a="$c0" -v b="$c1" 'BEGIN { print s + b - a }')
	gb_u=$(awk -v s="$gb_u" -v n="$ne" 'BEGIN { print s + 2 * n * 1200 / 1e9 }')
done
echo "UDP echo of 20000 datagrams of 1200 bytes (both ways, a window of ${FLOOD_WINDOW:-256}), $rounds rounds (natmapd/port forward):$uline median $(med "${u_r[@]}")x"
[ "${#u_r[@]}" -gt 0 ] && awk -v c="$cpu_u" -v g="$gb_u" 'BEGIN {
    printf "natmapd CPU (both nodes) for the UDP echo: %.2f s for %.3f GB: %.2f s per GB\n", c, g, c / g }'
