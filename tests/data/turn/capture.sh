#!/bin/bash
# SPDX-License-Identifier: ISC
# capture.sh - rebuild the coturn captures in this folder (see README.txt):
# coturn and its test client in a throwaway network namespace with
# TEST-NET-3 addresses on its loopback (never the host's interfaces),
# tcpdump on that loopback, capture.py to cut the capture into messages.
# Needs root, ip(8), turnserver, turnutils_uclient, turnutils_peer,
# tcpdump and python3; run by hand, not by make check:
#   sudo bash tests/data/turn/capture.sh [OUTDIR]

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
ns=turnmsg-cap
tmp=$(mktemp -d /tmp/turncap.XXXXXX) || exit 1
secret=natmapd-test-secret
pids=()

if [ "$(id -u)" -ne 0 ]; then
	echo "capture.sh: needs root" >&2
	exit 1
fi
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$out" || exit 1
ip netns add "$ns" || exit 1
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
# the server, the client, the peer
for a in 203.0.113.3 203.0.113.10 203.0.113.20; do
	in_ns ip addr add "$a/32" dev lo || exit 1
done

# turnd N: start coturn (the Nth time: its nonces are new each start)
turnd() {
	in_ns turnserver -n --no-cli --no-tls --no-dtls -L 203.0.113.3 \
	    --relay-ip 203.0.113.3 --use-auth-secret \
	    --static-auth-secret="$secret" --realm=example.test \
	    --log-file stdout --simple-log --pidfile "$tmp/turnserver$1.pid" \
	    --db "$tmp/turndb$1" >"$tmp/turnserver$1.log" 2>&1 &
	pids+=($!)
	# coturn says when its relay ports are ready
	for _ in $(seq 100); do
		grep -q 'Relay ports initialization done' \
		    "$tmp/turnserver$1.log" && return 0
		sleep 0.1
	done
	echo "capture.sh: turnserver did not start" >&2
	exit 1
}

in_ns tcpdump -i lo -U -w "$tmp/turn.pcap" 'port 3478' \
    >"$tmp/tcpdump.log" 2>&1 &
pids+=($!)
in_ns turnutils_peer -L 203.0.113.20 -p 3480 >"$tmp/peer.log" 2>&1 &
pids+=($!)
turnd 1
uclient() {
	in_ns timeout 30 turnutils_uclient -L 203.0.113.10 -W "$secret" \
	    -u alpha -n 2 -l 32 "$@" 203.0.113.3
}
# UDP: channels (ChannelBind, ChannelData), DONT-FRAGMENT
uclient -e 203.0.113.20 -r 3480 -c -g >"$tmp/uclient-channel.log" 2>&1
# UDP: Send and Data indications
uclient -e 203.0.113.20 -r 3480 -c -s >"$tmp/uclient-send.log" 2>&1
# TCP relay (RFC 6062) between two clients: Connect, ConnectionAttempt,
# ConnectionBind
uclient -T >"$tmp/uclient-tcp.log" 2>&1
# a restarted coturn: the first run's authenticated Allocate again, with
# a nonce the new server never gave (438 Stale Nonce)
kill "${pids[2]}"
wait "${pids[2]}" 2>/dev/null
mkdir -p "$tmp/cut"
python3 "$here/capture.py" "$tmp/turn.pcap" "$tmp/cut" >/dev/null 2>&1
turnd 2
in_ns python3 - "$tmp" <<'PY'
import glob, socket, sys
# the first Allocate with credentials (the first without is answered 401)
req = [f for f in sorted(glob.glob(sys.argv[1] + "/cut/*-c2s-udp-allocate-request.bin"))
       if b"example.test" in open(f, "rb").read()][0]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.10", 40000))
s.settimeout(5)
s.sendto(open(req, "rb").read(), ("203.0.113.3", 3478))
s.recvfrom(2048)
PY
sleep 1		# tcpdump -U has written the last packet
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
rm -f "$out"/[0-9][0-9]-*.bin
python3 "$here/capture.py" "$tmp/turn.pcap" "$out"
