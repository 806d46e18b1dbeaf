#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The built-in forwarder (src/forward.c) against a direct connection, in the
# same run, over loopback in a network namespace of its own: throughput (SIZE
# bytes sent one way, timed until the receiver has counted them all and
# said so), and the latency of small messages (RTTS round trips of 64 bytes
# to an echo server, median and p99) and what the forwarder adds to it.  The
# sender, the receiver and the echo server are one small Python program;
# bench/forward-run is one forwarder on the event loop, as natmapd runs it,
# run twice: copying with recv()/send() (rw) and with splice(2) (splice).
# Runs alternate direct, rw and splice, RUNS of each; the figures are the
# medians.  On a small shared machine the sender, the receiver and the
# forwarder compete for the cores (the load average is printed): the CPU
# time the forwarder itself takes per GiB is printed too.  The issue's targets: at least 0.8x the direct throughput, under
# 1 ms added latency.
# Over loopback the three compete for the cores: the throughput is the
# CPU's, not a network's.  The same SIZE is then sent from a second
# namespace through a veth link shaped to LINK_MBIT Mbit/s (tbf on the
# sender's side, as a WAN uplink is), to the server directly and through
# each forwarder: what a remote client sees of a forwarder behind a link
# of that speed.
# A benchmark, not a test: it prints figures, it passes or fails nothing.
#   usage: bench/forward.sh [FORWARD-RUN]   (as root)
#   (build it first: make bench/forward-run in the build directory)
#   environment: SIZE (bytes, default 1073741824), RUNS (default 3),
#   RTTS (default 10000), LINK_MBIT (default 1000; 0: no link runs),
#   LINK_SIZE (bytes, default 268435456)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
fwd=${1:-${FORWARD_RUN:-}}
if [ -z "$fwd" ]; then
	for c in "$top/_b/bench/forward-run" "$top/_build/plain/bench/forward-run" "$top/bench/forward-run"; do
		[ -x "$c" ] && fwd=$c && break
	done
fi
{ [ -n "$fwd" ] && [ -x "$fwd" ]; } || { echo "bench: build bench/forward-run first (make bench/forward-run)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: run as root (a network namespace)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench: needs python3" >&2; exit 1; }
size=${SIZE:-1073741824}
runs=${RUNS:-3}
rtts=${RTTS:-10000}
link=${LINK_MBIT:-1000}
lsize=${LINK_SIZE:-268435456}

# Everything below runs in a namespace of its own, gone when the last process exits.
if [ -z "${FWD_BENCH_NS:-}" ]; then
	exec unshare --net env FWD_BENCH_NS=1 "$0" "$fwd"
fi
ip link set lo up || exit 1

work=$(mktemp -d) || exit 1
pids=
cns=
cleanup() {
	local p
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	[ -n "$cns" ] && ip netns del "$cns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

cat >"$work/peer.py" <<'EOF'
import socket, sys, threading, time, statistics

def sink(conn):
    # count until EOF, then say how many
    buf = bytearray(1 << 20)
    n = 0
    while True:
        r = conn.recv_into(buf)
        if r == 0:
            break
        n += r
    conn.sendall(b"%d\n" % n)
    conn.close()

def echo(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        d = conn.recv(65536)
        if not d:
            break
        conn.sendall(d)
    conn.close()

def serve(port, handler):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()

def send(port, size, host="127.0.0.1"):
    s = socket.create_connection((host, port))
    chunk = bytes(1 << 20)
    left = size
    t0 = time.perf_counter()
    while left > 0:
        k = min(left, len(chunk))
        s.sendall(memoryview(chunk)[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    got = b""
    while not got.endswith(b"\n"):
        d = s.recv(64)
        if not d:
            break
        got += d
    t = time.perf_counter() - t0
    s.close()
    if int(got or b"0") != size:
        print("error: %s of %d bytes arrived" % (got.strip(), size))
        sys.exit(1)
    print("%.1f" % (size / t / 1e6))

def rtt(port, n):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 64
    ts = []
    for _ in range(100):		# warm-up, not counted
        s.sendall(msg)
        got = 0
        while got < 64:
            got += len(s.recv(64 - got))
    for _ in range(n):
        t0 = time.perf_counter()
        s.sendall(msg)
        got = 0
        while got < 64:
            got += len(s.recv(64 - got))
        ts.append(time.perf_counter() - t0)
    s.close()
    ts.sort()
    print("%.1f %.1f" % (statistics.median(ts) * 1e6, ts[int(len(ts) * 0.99)] * 1e6))

mode = sys.argv[1]
if mode == "serve":
    threading.Thread(target=serve, args=(9000, sink), daemon=True).start()
    serve(9001, echo)
elif mode == "send":
    send(int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
elif mode == "rtt":
    rtt(int(sys.argv[2]), int(sys.argv[3]))
EOF

python3 "$work/peer.py" serve & pids="$pids $!"
declare -A tpid
"$fwd" 9100 127.0.0.1 9000 rw >"$work/f0" 2>&1 & pids="$pids $!"; tpid[rw]=$!
"$fwd" 9101 127.0.0.1 9001 rw >"$work/f1" 2>&1 & pids="$pids $!"
"$fwd" 9200 127.0.0.1 9000 splice >"$work/f2" 2>&1 & pids="$pids $!"; tpid[splice]=$!
"$fwd" 9201 127.0.0.1 9001 splice >"$work/f3" 2>&1 & pids="$pids $!"
up() { python3 -c 'import socket,sys
for p in (9000, 9001, 9100, 9101, 9200, 9201):
    socket.create_connection(("127.0.0.1", p)).close()' 2>/dev/null; }
i=0
until up; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "bench: the servers did not come up" >&2; exit 1; }
	sleep 0.05
done

# CPU time (clock ticks, user + system) of a process so far
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

echo "forwarder: $fwd (64 KiB per direction)"
echo "kernel $(uname -r), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $size bytes a run, $runs runs each, $rtts round trips a run"
# port of each way: direct, through the rw forwarder, through the splice one
declare -A tport=([direct]=9000 [rw]=9100 [splice]=9200) eport=([direct]=9001 [rw]=9101 [splice]=9201)
ways="direct rw splice"
for w in $ways; do : >"$work/tp.$w"; : >"$work/m.$w"; : >"$work/p.$w"; done
declare -A cpu0
for w in rw splice; do cpu0[$w]=$(ticks "${tpid[$w]}"); done
for r in $(seq "$runs"); do
	line="run $r: MB/s"
	for w in $ways; do
		v=$(python3 "$work/peer.py" send "${tport[$w]}" "$size") || { echo "bench: $w: $v" >&2; exit 1; }
		echo "$v" >>"$work/tp.$w"
		line="$line  $w $v"
	done
	echo "$line"
done
declare -A cpu
for w in rw splice; do cpu[$w]=$(( $(ticks "${tpid[$w]}") - cpu0[$w] )); done
for r in $(seq "$runs"); do
	line="run $r: round trip us (median/p99)"
	for w in $ways; do
		read -r m p < <(python3 "$work/peer.py" rtt "${eport[$w]}" "$rtts")
		echo "$m" >>"$work/m.$w"; echo "$p" >>"$work/p.$w"
		line="$line  $w $m/$p"
	done
	echo "$line"
done
echo
td=$(median <"$work/tp.direct"); md=$(median <"$work/m.direct"); pd=$(median <"$work/p.direct")
printf 'direct: %.1f MB/s; round trip %.1f us, p99 %.1f us\n' "$td" "$md" "$pd"
hz=$(getconf CLK_TCK)
for w in rw splice; do
	t=$(median <"$work/tp.$w"); m=$(median <"$work/m.$w"); p=$(median <"$work/p.$w")
	printf '%-6s: %.1f MB/s, %sx direct (target >= 0.8); round trip %.1f us, +%s us (target < 1000); p99 %.1f us, +%s us\n' \
	    "$w" "$t" "$(ratio "$t" "$td")" "$m" "$(minus "$m" "$md")" "$p" "$(minus "$p" "$pd")"
	printf '        the forwarder itself: %.2f CPU seconds per GiB forwarded\n' \
	    "$(awk -v c="${cpu[$w]}" -v hz="$hz" -v n="$runs" -v sz="$size" 'BEGIN { print c / hz / (n * sz / 1073741824) }')"
done

# --- the same through a link of LINK_MBIT Mbit/s from another namespace ---
[ "$link" -gt 0 ] 2>/dev/null || exit 0
cns=nmfwd-$$
if ! ip netns add "$cns" ||
    ! ip link add fwd0 type veth peer name fwd1 netns "$cns" ||
    ! ip addr add 192.168.250.1/24 dev fwd0 || ! ip link set fwd0 up ||
    ! ip -n "$cns" addr add 192.168.250.2/24 dev fwd1 ||
    ! ip -n "$cns" link set fwd1 up || ! ip -n "$cns" link set lo up ||
    ! tc -n "$cns" qdisc add dev fwd1 root tbf rate "${link}mbit" \
    burst 256kb latency 50ms; then
	echo "bench: no shaped link (ip netns, veth, tc tbf)" >&2
	exit 1
fi
echo
echo "through a ${link} Mbit/s link (tbf) from another namespace, $lsize bytes a run"
for w in $ways; do : >"$work/lt.$w"; done
for r in $(seq "$runs"); do
	line="run $r: MB/s"
	for w in $ways; do
		v=$(ip netns exec "$cns" python3 "$work/peer.py" send "${tport[$w]}" \
		    "$lsize" 192.168.250.1) || { echo "bench: link $w: $v" >&2; exit 1; }
		echo "$v" >>"$work/lt.$w"
		line="$line  $w $v"
	done
	echo "$line"
done
ld=$(median <"$work/lt.direct")
printf 'direct: %.1f MB/s (the link: %.1f MB/s)\n' "$ld" "$(awk -v m="$link" 'BEGIN { print m / 8 }')"
for w in rw splice; do
	t=$(median <"$work/lt.$w")
	printf '%-6s: %.1f MB/s, %sx direct (target >= 0.8)\n' "$w" "$t" "$(ratio "$t" "$ld")"
done
