#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The TURN relay (issue 12) in the two-site lab (LAB_SITES=2, both NATs
# cone), coturn as the TURN server (lab_turn_start, use-auth-secret) and
# natmapd-rendezvous handing out its credentials (--turn): natmapd on site
# 1 (alpha) exposes a TCP and a UDP echo, natmapd on site 2 (beta)
# connects to them.  Figures:
#   - first byte through the relay (relay always on beta): RUNS times
#     (default 5) both nodes started afresh (new allocations on coturn);
#     warm: from beta's start to its relayed path and to its TCP carrier
#     through coturn (RFC 6062), then a client's first connection to
#     beta's TCP port: from its connect until the first byte back from
#     alpha's echo; then its first UDP datagram until it came back; cold:
#     nodes started afresh again, a TCP and a UDP client as soon as beta's
#     ports listen, before any path: the same times; median and max;
#   - throughput and added latency: MB (default 20) through the TCP echo,
#     and round trips of 64-byte datagrams (and of 64 bytes over TCP) one
#     at a time, through the relay (beta relay always) and through a
#     direct punched path (beta relay never) in the same run, the ratio
#     and the difference;
#   - upgrade to direct: beta with relay fallback (the default) while the
#     wan namespace drops everything between the two sites' public
#     addresses: the first attempt fails, the relay carries the path; the
#     drop rule removed, the time until beta's log says the path is direct
#     (natmapd tries direct again every 30 s while relayed, doubling).
# A benchmark, not a test: it prints figures, it passes or fails nothing.
#   usage: bench/relay.sh [NATMAPD]   (as root; NATMAPD_RENDEZVOUS beside it)
#   environment: RUNS (default 5), MB (default 20; traffic.py takes at
#   most 64 MiB), UPGRADE_WAIT (s, default 150)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
natmapd=${1:-${NATMAPD:-$top/_b/src/natmapd}}
rdvbin=${NATMAPD_RENDEZVOUS:-$(dirname "$natmapd")/natmapd-rendezvous}
runs=${RUNS:-5}
mb=${MB:-20}
upgrade_wait=${UPGRADE_WAIT:-150}
[ -x "$natmapd" ] && [ -x "$rdvbin" ] ||
    { echo "bench: build natmapd and natmapd-rendezvous first" >&2; exit 1; }
command -v turnserver >/dev/null || { echo "bench: needs coturn (turnserver)" >&2; exit 1; }
export NATMAPD_RENDEZVOUS=$rdvbin

. "$top/bench/lab2.sh"
bench_lab2 "$natmapd"
lab_nat_mode cone rtr && lab_nat_mode cone rtr2 ||
    { echo "bench: lab_nat_mode cone failed" >&2; exit 1; }
secret="lab-turn-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077 && printf '%s\n' "$secret" >"$LAB_DIR/turn.secret")
lab_turn_start "$secret" || { echo "bench: coturn did not start" >&2; exit 1; }
lab_rendezvous_start --networks "$LAB_DIR/nets" --turn "$LAB_RELAY_IP" \
    --turn-secret-file "$LAB_DIR/turn.secret" || exit 1
rdv="$LAB_RDV_IP:$LAB_RDV_PORT"
: >"$LAB_DIR/empty.conf"
lab_traffic_serve lan tcp 7100 127.0.0.1 || exit 1
lab_traffic_serve lan udp 7000 127.0.0.1 || exit 1
relay_re=${LAB_RELAY_IP//./\\.}

nm() { bench_node "$natmapd" empty "$@"; }
stop() {	# stop PID
	kill -TERM "$1" 2>/dev/null
	lab_wait 5 bash -c "! kill -0 $1 2>/dev/null"
}
alpha_start() {
	nm alpha lan --expose tcpecho=127.0.0.1:7100/tcp --expose echo=127.0.0.1:7000/udp
	A_PID=$NM_PID
	lab_wait 10 has alpha "registered as alpha" || { echo "bench: alpha did not register" >&2; exit 1; }
}
beta_start() {	# beta_start POLICY
	nm beta site2 --connect alpha/tcpecho=127.0.0.1:7101/tcp \
	    --connect alpha/echo=127.0.0.1:7001/udp --relay "$1"
	B_PID=$NM_PID
}
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }
max() { printf '%s\n' "$@" | sort -n | tail -n 1; }
# fb tcp|udp: ms from a client's first byte sent (its connect, for TCP)
# until the first byte / datagram back through beta's port
fb() {
	local port=7101
	[ "$1" = udp ] && port=7001
	lab_traffic_check site2 "$1" 127.0.0.1 "$port" -n 1 -t 10 | awk '$1 == "ok" { print $3 }'
}
relayed() { has beta "alpha: relayed path up, to $relay_re:"; }
carrier_relayed() { has beta "alpha: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"; }

# ---- first byte through the relay, fresh nodes each run ----
# warm: the client's first connection once beta's relayed path and TCP
# carrier are up; cold: the client connects as soon as beta's ports
# listen, before any path (a TCP and a UDP client at once)
t_path=() t_car=() fb_t=() fb_u=() cold_t=() cold_u=() failed=0 cold_failed=0
cold_tries=()
listening() { has beta "7101/tcp: listening" && has beta "7001/udp: listening"; }
for i in $(seq 1 "$runs"); do
	alpha_start
	t0=$(lab_now_ms)
	beta_start always
	if lab_wait 30 relayed; then
		t_path+=($(( $(lab_now_ms) - t0 )))
		if lab_wait 20 carrier_relayed; then
			t_car+=($(( $(lab_now_ms) - t0 )))
			t=$(fb tcp) u=$(fb udp)
			[ -n "$t" ] && fb_t+=("$t")
			[ -n "$u" ] && fb_u+=("$u")
			[ -n "$t" ] && [ -n "$u" ] || failed=$((failed + 1))
		else
			failed=$((failed + 1))
		fi
	else
		failed=$((failed + 1))
	fi
	stop "$B_PID"
	stop "$A_PID"
	# each run's logs kept (LAB_KEEP=1 keeps the lab dir)
	cp "$LAB_DIR/alpha.log" "$LAB_DIR/alpha-warm$i.log"
	cp "$LAB_DIR/beta.log" "$LAB_DIR/beta-warm$i.log"

	alpha_start
	beta_start always
	if lab_wait 10 listening; then
		lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1 -r -t 20 >"$LAB_DIR/cold-tcp.out" &
		ct=$!
		lab_traffic_check site2 udp 127.0.0.1 7001 -n 1 -t 20 >"$LAB_DIR/cold-udp.out" &
		cu=$!
		wait "$ct" "$cu"	# both bounded by their -t 20 (and timeout 60)
		t=$(awk '$1 == "ok" { print $3 }' "$LAB_DIR/cold-tcp.out")
		tries=$(awk '$1 == "tries" { print $2 }' "$LAB_DIR/cold-tcp.out")
		[ -n "$t" ] || cat "$LAB_DIR/cold-tcp.out" >&2
		cold_tries+=("${tries:-?}")
		u=$(awk '$1 == "ok" { print $3 }' "$LAB_DIR/cold-udp.out")
		[ -n "$t" ] && cold_t+=("$t")
		[ -n "$u" ] && cold_u+=("$u")
		[ -n "$t" ] && [ -n "$u" ] || cold_failed=$((cold_failed + 1))
	else
		cold_failed=$((cold_failed + 1))
	fi
	stop "$B_PID"
	stop "$A_PID"
	cp "$LAB_DIR/alpha.log" "$LAB_DIR/alpha-cold$i.log"
	cp "$LAB_DIR/beta.log" "$LAB_DIR/beta-cold$i.log"
done
# line LABEL VALUES...: median, max and the values
line() {
	local l=$1
	shift
	[ $# -gt 0 ] && echo "  $l: median $(med "$@") ms, max $(max "$@") ms ($# runs: $*)"
}
echo "relay always, both NATs cone, coturn on $LAB_RELAY_IP:$LAB_RELAY_PORT; $runs runs of each kind, both nodes started afresh each time:"
echo " warm ($failed runs without a relayed path, carrier or data):"
line "beta's start to its relayed path" "${t_path[@]}"
line "beta's start to its TCP carrier through coturn" "${t_car[@]}"
line "the first TCP connection then: its connect to the first byte back" "${fb_t[@]}"
line "the first UDP datagram then: sent to its echo back" "${fb_u[@]}"
echo " cold: a TCP and a UDP client as soon as beta's ports listen ($cold_failed runs where one failed):"
echo "  TCP: connections the client made (one made before the carrier waits for it, 10 s at most; after a reset the client connects again 0.05 s later): ${cold_tries[*]}"
line "TCP: from the client's first connect to the first byte back" "${cold_t[@]}"
line "UDP: the first datagram sent (again every 0.2 s) to its echo back" "${cold_u[@]}"

# ---- throughput and round trips: through the relay, then direct ----
bytes=$((mb * 1000000))
trf() { ip netns exec "$(lab_ns_of site2)" timeout 120 python3 "$top/tests/lab/traffic.py" "$@"; }
rt() { trf rtt "$1" 127.0.0.1 "$2" -n 500 -t 60 | awk '$1 == "rtt" { print $3 }'; }
# measure POLICY: sets ms (the TCP echo of $bytes), ru, rtu (UDP and TCP
# round trip medians, microseconds)
measure() {
	local o
	o=$(lab_traffic_check site2 tcp 127.0.0.1 7101 -n "$bytes" -t 55)
	ms=$(awk '$1 == "ok" { print $3 }' <<<"$o")
	[ -n "$ms" ] || echo "  $1: TCP echo of $mb MB: ${o:-nothing}" >&2
	ru=$(rt udp 7001) rtu=$(rt tcp 7101)
}
alpha_start
beta_start always
lab_wait 30 relayed && lab_wait 20 carrier_relayed ||
    { echo "bench: relay always: no relayed path and carrier" >&2; exit 1; }
measure relay
r_ms=$ms r_ru=$ru r_rtu=$rtu
has beta "direct path up" && echo "bench: relay always went direct: the figures below are not the relay's" >&2
stop "$B_PID"
t0=$(lab_now_ms)
beta_start never
lab_wait 30 has beta "alpha: direct path up" ||
    { echo "bench: relay never: no direct path" >&2; exit 1; }
t_dpath=$(( $(lab_now_ms) - t0 ))
lab_wait 20 has beta "alpha: TCP carrier up" ||
    { echo "bench: relay never: no direct carrier" >&2; exit 1; }
t_dcar=$(( $(lab_now_ms) - t0 ))
measure direct
d_ms=$ms d_ru=$ru d_rtu=$rtu
echo "anchor, relay never (one start, the same lab): beta's start to its direct path $t_dpath ms, to its TCP carrier $t_dcar ms"
awk -v b="$bytes" -v rm="${r_ms:-}" -v dm="${d_ms:-}" 'BEGIN {
    if (rm == "" || dm == "") exit
    r = b / 1e6 / (rm / 1000); d = b / 1e6 / (dm / 1000)
    printf "TCP echo of %d MB (MB/s each way): %.1f MB/s through the relay, %.1f MB/s direct: %.2fx\n", b / 1e6, r, d, r / d }'
echo "round trips of 64 bytes, one at a time (500; median, microseconds):"
for p in "UDP $r_ru $d_ru" "TCP $r_rtu $d_rtu"; do
	read -r proto r d <<<"$p"
	awk -v p="$proto" -v r="${r:-}" -v d="${d:-}" 'BEGIN {
	    if (r == "" || d == "") { printf "  %s: relay %s, direct %s\n", p, r == "" ? "failed" : r, d == "" ? "failed" : d; exit }
	    printf "  %s: %d through the relay, %d direct: %+d us added by natmapd plus coturn (%.2fx)\n", p, r, d, r - d, r / d }'
done
stop "$B_PID"

# ---- upgrade to direct once a path opens ----
block() {
	lab_wan nft -f - <<NFT
table inet relaybench_block {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip saddr $LAB_PUBLIC_IP ip daddr $LAB_RTR2_WAN_IP drop
		ip saddr $LAB_RTR2_WAN_IP ip daddr $LAB_PUBLIC_IP drop
	}
}
NFT
}
block || { echo "bench: the drop rule did not go in" >&2; exit 1; }
t0=$(lab_now_ms)
beta_start fallback
lab_wait 60 relayed || { echo "bench: relay fallback: no relayed path" >&2; exit 1; }
t_rel=$(lab_now_ms)
udp_passes() { lab_traffic_check site2 udp 127.0.0.1 7001 -n 3 -t 3 >/dev/null 2>&1; }
lab_wait 10 udp_passes || echo "bench: no datagrams through the relay" >&2
has beta "direct path up" && echo "bench: a direct path came up through the drop rule" >&2
lab_wan nft delete table inet relaybench_block
t_open=$(lab_now_ms)
echo "upgrade: relay fallback, the sites' public addresses cut from each other: relayed path $((t_rel - t0)) ms after beta's start; the cut lifted $((t_open - t_rel)) ms after that:"
# both nodes' paths: the time each said it went direct
ta_up="" tb_up=""
both_direct() {
	[ -z "$tb_up" ] && has beta "alpha: direct path up, the relay left" && tb_up=$(lab_now_ms)
	[ -z "$ta_up" ] && has alpha "beta: direct path up, the relay left" && ta_up=$(lab_now_ms)
	[ -n "$tb_up" ] && [ -n "$ta_up" ]
}
lab_wait "$upgrade_wait" both_direct
for n in beta:"$tb_up" alpha:"$ta_up"; do
	t=${n#*:} n=${n%%:*}
	if [ -n "$t" ]; then
		echo "  $n's path direct $((t - t_open)) ms after the cut was lifted ($((t - t_rel)) ms after beta's relayed path came up)"
	else
		echo "  $n's path not direct within $upgrade_wait s of the cut being lifted"
	fi
done
if lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10 >/dev/null; then
	echo "  20 datagrams passed after it"
else
	echo "  20 datagrams did not pass after it"
fi
if lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20 >/dev/null; then
	echo "  1 MB through the TCP echo after it (new streams over the last carrier made: $(grep -o 'alpha: TCP carrier up, to [^ ]*' "$LAB_DIR/beta.log" | tail -n 1 | sed 's/.*to //'))"
else
	echo "  1 MB did not pass through the TCP echo after it"
fi
