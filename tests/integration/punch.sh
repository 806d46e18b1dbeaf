# SPDX-License-Identifier: ISC
# Hole punching between two natmapd nodes (--expose, --connect) in the
# two-site lab: alpha on site 1 (behind the router) exposes a UDP echo,
# beta on site 2 (behind rtr2, which maps nothing) connects to it through
# natmapd-rendezvous; datagrams to beta's local port must come back from
# the echo at alpha, over the direct path; a node with another network's
# key and a node alpha does not allow get nothing through.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_lab other
node() { punch_node "$@"; }
punch_echoes

# a TCP service on site 1 that is slow to take a connection: its accept
# queue is full (one connection of its own waits there) until the kernel
# dropped a SYN to it (TcpExt ListenOverflows grows); then it takes them,
# reads each until EOF (10 s at most) and answers "eof N" (N bytes read) or
# "no eof N"
cat >"$LAB_DIR/slow.py" <<'PY'
import socket, sys, time
def overflows():
    with open("/proc/net/netstat") as f:
        rows = [l.split() for l in f if l.startswith("TcpExt:")]
    return int(rows[1][rows[0].index("ListenOverflows")])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(0)
filler = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("listening", flush=True)
end = time.monotonic() + 600
n0 = overflows()
while overflows() == n0 and time.monotonic() < end:
    time.sleep(0.05)
ls.accept()[0].close()
filler.close()
print("a SYN was dropped: taking connections", flush=True)
while time.monotonic() < end:
    ls.settimeout(max(end - time.monotonic(), 0.1))
    try:
        c = ls.accept()[0]
    except OSError:
        break
    c.settimeout(10)
    got, eof = 0, False
    try:
        while True:
            d = c.recv(65536)
            if not d:
                eof = True
                break
            got += len(d)
    except OSError:
        pass
    print("eof" if eof else "no eof", got, flush=True)
    c.sendall(b"%s %d\n" % (b"eof" if eof else b"no eof", got))
    c.close()
PY
lab_bg slow "$(lab_ns_of lan)" python3 "$LAB_DIR/slow.py" 7200 &&
    lab_bg_listening slow &&
    tap_ok "a slow TCP service on site 1's host, 127.0.0.1:7200" ||
    tap_fail "a slow TCP service on site 1's host, 127.0.0.1:7200"

alpha_args=(--expose echo=127.0.0.1:7000/udp@beta
    --expose tcpecho=127.0.0.1:7100/tcp@beta --expose slow=127.0.0.1:7200/tcp@beta)
node alpha lan "$LAB_DIR/home.key" home "${alpha_args[@]}"
node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp --connect alpha/slow=127.0.0.1:7201/tcp

if lab_wait 20 log_has beta "alpha: direct path up"; then
	tap_ok "beta: a direct path to alpha"
else
	tap_fail "beta: a direct path to alpha" "$(diag beta)" "$(diag alpha)"
fi
if lab_wait 10 log_has alpha "beta: direct path up"; then
	tap_ok "alpha: a direct path to beta"
else
	tap_fail "alpha: a direct path to beta" "$(diag alpha)"
fi
# the path goes to the other site's NAT, not through the rendezvous
tap_check "beta's path goes to site 1's public address" \
    grep -Eq "alpha: direct path up, to $LAB_PUBLIC_IP:[0-9]+" "$LAB_DIR/beta.log"
tap_check "alpha's path goes to site 2's public address" \
    grep -Eq "beta: direct path up, to $LAB_RTR2_WAN_IP:[0-9]+" "$LAB_DIR/alpha.log"

# data end to end: 20 datagrams to beta's 127.0.0.1:7001 come back intact
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
tap_check "alpha opened one flow to the echo" \
    grep -q "beta: a new flow to echo/udp" "$LAB_DIR/alpha.log"
tap_check "the echo saw the datagrams come from alpha's own host" \
    grep -q "udp from 127.0.0.1:" "$LAB_DIR/traffic-lan-udp-7000.log"

# ---- TCP: the carrier by simultaneous open, streams on it; cell (b) of
# issue 11: site 1's router resets unsolicited SYNs, rtr2 drops them ----
if lab_wait 20 log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:[0-9]+"; then
	tap_ok "site 1 resets SYNs, site 2 drops them: beta: a TCP carrier to alpha's public address"
else
	tap_fail "site 1 resets SYNs, site 2 drops them: beta: a TCP carrier to alpha's public address" "$(diag beta)"
fi
tap_check "site 1 resets SYNs, site 2 drops them: alpha: a TCP carrier to beta's public address" \
    lab_wait 10 log_has alpha "beta: TCP carrier up, to $LAB_RTR2_WAN_IP:[0-9]+"
tap_check "site 1 resets SYNs, site 2 drops them: 1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo intact" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20
# three at once: three streams on the one carrier
tcp3() {
	local i pids=() rc=0
	for i in 1 2 3; do
		lab_traffic_check site2 tcp 127.0.0.1 7101 -n 300000 -t 20 \
		    >"$LAB_DIR/tcp3.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	cat "$LAB_DIR"/tcp3.*
	return "$rc"
}
tap_check "three connections at once, each intact" tcp3
# a client that half-closes at once, sending nothing, while alpha's connect
# to the slow service is still under way (its SYN dropped): once connected,
# alpha shuts the service connection's write side, and the service sees EOF
halfclose() {
	ip netns exec "$(lab_ns_of site2)" python3 - <<'PY'
import socket
c = socket.create_connection(("127.0.0.1", 7201), timeout=20)
c.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = c.recv(100)
    if not d:
        break
    got += d
print(got.decode(errors="replace").strip())
raise SystemExit(0 if got == b"eof 0\n" else 1)
PY
}
tap_check "a client's half-close before the connect to the service completed reaches the service" \
    halfclose
tap_check "the slow service: its connect was held back (a SYN dropped)" \
    grep -q "a SYN was dropped" "$LAB_DIR/slow.log"
# a client that sends 200 kB, half-closes and never reads: the echo's
# answer and its FIN end the stream, data for the client is left at beta
# (more than the client's socket and beta's send buffer hold);
# 10 s after the client last took a byte beta resets its socket
noread() {
	ip netns exec "$(lab_ns_of site2)" python3 - <<'PY'
import select, socket, time
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
# small segments: beta's socket to it takes little (over lo's MTU of 64 kB
# its send buffer would grow to hold all 200 kB)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
c.settimeout(20)
c.connect(("127.0.0.1", 7101))
c.sendall(bytes(200000))
c.shutdown(socket.SHUT_WR)
t0 = time.monotonic()
p = select.poll()
p.register(c, select.POLLERR | select.POLLHUP)
ev = p.poll(30000)
err = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
secs = time.monotonic() - t0
print("events", ev, "error", err, "after %.1f s" % secs)
raise SystemExit(0 if ev and err == 104 and secs >= 9 else 1)
PY
}
tap_check "a client that never reads: reset once it took nothing for 10 s" noread
tap_check "beta says so" \
    log_has beta "carrier: stream [0-9]+: the client took nothing in 10 s, [1-9][0-9]* bytes left for it: reset"
# the path in natmapctl status and the status file
ctl_status() { ip netns exec "$(lab_ns_of "$1")" "$NATMAPCTL" -s "$LAB_DIR/$2.ctl" status; }
peer_line_ok() {
	local o
	o=$(ctl_status site2 beta) || return 1
	echo "$o"
	grep -Eq "^peer alpha up: direct-v4 to $LAB_PUBLIC_IP:[0-9]+ via [a-z]+(, rtt [0-9]+ ms)?; tcp carrier to $LAB_PUBLIC_IP:[0-9]+.*; in [1-9][0-9]* B, out [1-9][0-9]* B" <<<"$o"
}
tap_check "natmapctl status on beta: alpha up, direct-v4, the carrier, bytes both ways" \
    lab_wait 15 peer_line_ok
peer_json_ok() {
	python3 - "$LAB_DIR/beta.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["peers"]
assert len(p) == 1 and p[0]["node"] == "alpha", p
assert p[0]["state"] == "up" and p[0]["path"] == "direct-v4", p
assert p[0]["endpoint"] and p[0]["carrier"], p
assert p[0]["bytes_in"] > 0 and p[0]["bytes_out"] > 0, p
PY
}
tap_check "beta's status file: peers[0] alpha, up, direct-v4, carrier, counters" \
    lab_wait 15 peer_json_ok
# the session's cipher (include/punch-msg.h): both nodes run on this
# machine, so AES-256-GCM when its CPU has AES-NI and PCLMULQDQ, else
# ChaCha20-Poly1305; in both status files and natmapctl's line
if grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo; then
	fast=aes-256-gcm
else
	fast=chacha20-poly1305
fi
tap_check "the session's cipher on both sides: $fast (this CPU's best)" \
    lab_wait 5 eval "punch_status_has beta peers p \"p['node'] == 'alpha' and p['cipher'] == '$fast'\" &&
	punch_status_has alpha peers p \"p['node'] == 'beta' and p['cipher'] == '$fast'\""
tap_check "natmapctl status on beta names it" \
    bash -c "ip netns exec '$(lab_ns_of site2)' '$NATMAPCTL' -s '$LAB_DIR/beta.ctl' status |
	grep -Eq '^peer alpha up: .*, dropped [0-9]+, $fast'"
tap_check "alpha: the streams came over one carrier" \
    bash -c "[ \"\$(grep -c 'TCP carrier up' '$LAB_DIR/alpha.log')\" = 1 ]"
tap_check "the TCP echo saw its connections come from alpha's own host" \
    grep -q "tcp from 127.0.0.1:" "$LAB_DIR/traffic-lan-tcp-7100.log"

# ---- SIGHUP with nothing changed: the path and the carrier stay ----
kill -HUP "$NODE_PID_alpha" "$NODE_PID_beta"
tap_check "SIGHUP: both nodes reloaded" \
    lab_wait 5 bash -c "grep -q 'SIGHUP: configuration reloaded' '$LAB_DIR/alpha.log' &&
    grep -q 'SIGHUP: configuration reloaded' '$LAB_DIR/beta.log'"
tap_check "SIGHUP with the same settings: no path started again" \
    bash -c "! grep -q 'punch: new settings' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log' &&
    [ \"\$(grep -c 'TCP carrier up' '$LAB_DIR/beta.log')\" = 1 ]"
tap_check "SIGHUP: TCP through the same carrier" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 10

# ---- negatives: nothing reaches the service ----
# gamma: the network "other": the rendezvous will not even forward for it
node gamma site2 "$LAB_DIR/other.key" other --connect alpha/echo=127.0.0.1:7002/udp
# delta: the right network, but alpha exposes echo to beta only
node delta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7003/udp
if lab_wait 20 log_has delta "alpha refused: this node is not allowed|no direct path"; then
	tap_ok "delta (not allowed by alpha): refused, says why"
else
	tap_fail "delta (not allowed by alpha): refused, says why" "$(diag delta)"
fi
tap_check "delta: no path up" bash -c "! grep -q 'direct path up' '$LAB_DIR/delta.log'"
if lab_wait 20 log_has gamma "no direct path: no node alpha registered in network other"; then
	tap_ok "gamma (another network): alpha is not found"
else
	tap_fail "gamma (another network): alpha is not found" "$(diag gamma)"
fi
n0=$(grep -c "udp from" "$LAB_DIR/traffic-lan-udp-7000.log")
ip netns exec "$(lab_ns_of site2)" python3 - <<'PY'
import socket
for port in (7002, 7003):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(5):
        s.sendto(b"not for you %d" % i, ("127.0.0.1", port))
PY
tap_check "alpha's echo: nothing from gamma nor delta" \
    bash -c "[ \"\$(grep -c 'udp from' '$LAB_DIR/traffic-lan-udp-7000.log')\" = $n0 ]"
tap_check "alpha: no flow but beta's" \
    bash -c "! grep -Eq '(gamma|delta): a new flow' '$LAB_DIR/alpha.log'"
# ---- a mapping lost mid-session: site 2's router forgets every binding ----
lab_nat_flush rtr2
tap_check "rtr2 forgot its bindings: datagrams come back again within 10 s" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 5 -t 10

# node_restart NAME HOST ARGS...: the node stopped, its log kept aside, and
# started again
node_restart() {
	it_node_stop "$1"
	node "$@"
}

# ---- which side's NAT resets unsolicited SYNs (issue 11) ----
# cell (b), above: site 1's router resets them (its input filter), rtr2
# drops them.  beta_direct NAME CONNECT...: beta started again with
# --connect alpha/echo and these; a direct path, datagrams end to end.
# tcp_cell NAME: the same with TCP too; tcp_cell_made NAME: the TCP
# carrier to site 1's public address and 1 MB through it
beta_direct() {
	local name=$1
	shift
	node_restart beta site2 "$LAB_DIR/home.key" home \
	    --connect alpha/echo=127.0.0.1:7001/udp "$@"
	if lab_wait 20 log_has beta "alpha: direct path up"; then
		tap_ok "$name: a direct path"
	else
		tap_fail "$name: a direct path" "$(diag beta)"
	fi
	tap_check "$name: datagrams end to end" \
	    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10
}
tcp_cell() { beta_direct "$1" --connect alpha/tcpecho=127.0.0.1:7101/tcp; }
# syn_answer HOST ADDR MIN_MS: a SYN from namespace HOST to ADDR:9 (nobody
# listens) is answered by a reset no sooner than MIN_MS ms, or says
# "timeout" (2 s) and fails; prints what happened
syn_answer() {
	ip netns exec "$(lab_ns_of "$1")" python3 - "$2" "$3" <<'PY'
import socket, sys, time
s = socket.socket()
s.settimeout(2)
t0 = time.monotonic()
try:
    s.connect((sys.argv[1], 9))
    r = "connected"
except ConnectionRefusedError:
    r = "reset"
except OSError as e:
    r = "timeout" if isinstance(e, socket.timeout) else str(e)
ms = int((time.monotonic() - t0) * 1000)
print(r, ms, "ms")
raise SystemExit(0 if r == "reset" and ms >= int(sys.argv[2]) else 1)
PY
}
# alpha_restart NAME: after a change of site 1's NAT mode (lab_nat_mode
# forgets its UDP bindings, alpha's to the rendezvous too) alpha starts
# again and registers at once
alpha_restart() {
	node_restart alpha lan "$LAB_DIR/home.key" home "${alpha_args[@]}"
	tap_check "$1: alpha started again, registered" \
	    lab_wait 15 log_has alpha "registered as alpha in network home"
}
tcp_cell_made() {
	if lab_wait 15 log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:[0-9]+"; then
		tap_ok "$1: the TCP carrier is made, direct"
	else
		tap_fail "$1: the TCP carrier is made, direct" "$(diag beta)" "$(diag alpha)"
	fi
	tap_check "$1: 1 MB through the carrier intact" \
	    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20
}

# ---- beta with cipher chacha20-poly1305: it offers no AES-256-GCM, so
# the session is ChaCha20-Poly1305 on both sides, and carries TCP and UDP
# all the same ----
beta_direct "beta with --cipher chacha20-poly1305" --cipher chacha20-poly1305 \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp
tap_check "--cipher chacha20-poly1305 on beta: ChaCha20-Poly1305 on both sides" \
    lab_wait 5 eval "punch_status_has beta peers p \"p['node'] == 'alpha' and p['cipher'] == 'chacha20-poly1305'\" &&
	punch_status_has alpha peers p \"p['node'] == 'beta' and p['cipher'] == 'chacha20-poly1305'\""
tcp_cell_made "--cipher chacha20-poly1305 on beta"

# cell (a): site 2's NAT resets unsolicited SYNs, site 1's drops them (a
# home router whose input policy is drop): each side's SYN that comes too
# early is dropped at site 1 (site 2's SYN_SENT entry lives on, its
# retries cross site 1's own SYN) or reset at site 2 (site 1's entry
# closes, its next try comes 200 ms later): made all the same
lab_nat_mode rst rtr2 && lab_nat_mode drop rtr ||
    tap_fail "site 2 resets unsolicited SYNs, site 1 drops them: the NATs set"
alpha_restart "site 2 resets SYNs, site 1 drops them"
syn_dropped() {
	local o
	o=$(syn_answer wan "$LAB_PUBLIC_IP" 0)
	echo "$o"
	[[ $o == timeout* ]]
}
tap_check "site 1's NAT drops an unsolicited SYN (no answer)" syn_dropped
tap_check "site 2's NAT resets an unsolicited SYN" syn_answer wan "$LAB_RTR2_WAN_IP" 0
tcp_cell "site 2 resets SYNs, site 1 drops them"
tcp_cell_made "site 2 resets SYNs, site 1 drops them"

# cell (c): both NATs reset unsolicited SYNs.  With the lab's ~0 ms between
# the sites the two SYNs never cross in flight: each reaches the other NAT
# before that NAT's own host sent, is reset, and the reset closes the
# sender's entry in its own NAT (doc/hole-punching.md, lab findings): the
# carrier fails, and says why; UDP is direct all the same
lab_nat_mode default rtr ||
    tap_fail "both reset unsolicited SYNs: site 1's router back to its reset"
alpha_restart "both NATs reset SYNs"
tap_check "site 1's NAT resets an unsolicited SYN again" syn_answer wan "$LAB_PUBLIC_IP" 0
tcp_cell "both NATs reset SYNs, 0 ms apart"
# while beta's carrier still waits, a connection to its carrier port from
# its own host (no candidate of alpha's) is not taken by the carrier: reset
# at once (the carrier would hold it as a try until its deadline)
stranger() {
	local port
	port=$(sed -En 's/.*punching from UDP port [0-9]+ and TCP port ([0-9]+).*/\1/p' \
	    "$LAB_DIR/beta.log" | tail -n 1)
	[ -n "$port" ] || return 1
	ip netns exec "$(lab_ns_of site2)" python3 - "$port" <<'PY'
import socket, sys, time
c = socket.socket()
c.settimeout(3)
t0 = time.monotonic()
try:
    c.connect(("127.0.0.1", int(sys.argv[1])))
    r = "data %r" % c.recv(100)
except ConnectionResetError:
    r = "reset"
except OSError as e:
    r = str(e)
secs = time.monotonic() - t0
print(r, "after %.2f s" % secs)
raise SystemExit(0 if r == "reset" and secs < 1 else 1)
PY
}
if lab_wait 15 log_has beta "carrier: alpha: connect: "; then
	tap_check "a connection to beta's carrier port from no candidate of alpha's: reset at once" stranger
else
	tap_fail "a connection to beta's carrier port from no candidate of alpha's: reset at once" \
	    "$(diag beta)"
fi
tap_check "beta: reset while the carrier waited, said so" \
    bash -c "grep -nE 'a connection from 127.0.0.1:[0-9]+ that no carrier waits for, reset|TCP carrier not made' '$LAB_DIR/beta.log' | head -n 1 | grep -q 'no carrier waits for'"
# The two first SYNs can still cross by chance (bench/punch.sh's both-reset
# cell: 2 starts in 20): natmapd must say which way it went, and a carrier
# it calls up must carry data
carrier_outcome() {
	log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:" ||
	    log_has beta "alpha: TCP carrier (down|not made): no TCP connection in time"
}
tap_check "both NATs reset SYNs, 0 ms apart: the TCP carrier's outcome is logged (up, or not made with its reason)" \
    lab_wait 15 carrier_outcome
if log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:"; then
	tap_check "both NATs reset SYNs, 0 ms apart: the first SYNs crossed; 100 kB through the carrier intact" \
	    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 20
else
	tap_check "both NATs reset SYNs, 0 ms apart: no carrier up, said so" \
	    bash -c "! grep -q 'TCP carrier up' '$LAB_DIR/beta.log' && grep -q 'TCP carrier not made' '$LAB_DIR/beta.log'"
fi

# the same with 40 ms one way between the sites (lab_wan_delay): both
# nodes start their tries when the rendezvous tells them (within a few ms
# of each other), so their SYNs cross before either NAT sees the other's
# and the simultaneous open goes through
lab_wan_delay 40 || tap_fail "40 ms between the sites"
tap_check "40 ms between the sites: a SYN from site 2 to site 1's NAT is reset after 80 ms or more" \
    syn_answer site2 "$LAB_PUBLIC_IP" 80
tcp_cell "both NATs reset SYNs, 40 ms apart"
tcp_cell_made "both NATs reset SYNs, 40 ms apart"
lab_wan_delay off || tap_fail "no delay between the sites again"
syn_fast() {
	local o ms
	o=$(syn_answer site2 "$LAB_PUBLIC_IP" 0)
	echo "$o"
	ms=${o#reset }
	ms=${ms% ms}
	[[ $ms =~ ^[0-9]+$ ]] && [ "$ms" -lt 60 ]
}
tap_check "no delay between the sites again: reset in under 60 ms" syn_fast
lab_nat_mode default rtr2

# ---- full cone on site 2: direct ----
lab_nat_mode cone rtr2
beta_direct "full cone on site 2"

# ---- symmetric (fully random) on site 2: no direct path, said why, no spin ----
lab_nat_mode random rtr2
node_restart beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp
if lab_wait 45 log_has beta "alpha: no direct path: no probe arrived either way; 3 attempts made"; then
	tap_ok "symmetric NAT on site 2: no direct path after 3 attempts, said why"
else
	tap_fail "symmetric NAT on site 2: no direct path after 3 attempts, said why" \
	    "$(diag beta)"
fi
tap_check "natmapctl status on beta: alpha failed, with the reason" \
    bash -c "ip netns exec '$(lab_ns_of site2)' '$NATMAPCTL' -s '$LAB_DIR/beta.ctl' status | grep -E '^peer alpha failed: no direct path yet; .*no probe arrived either way; 3 attempts made'"
tap_check "symmetric NAT on site 2: no path up" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/beta.log'"
n0=$(grep -c "attempt [0-9] of 3" "$LAB_DIR/beta.log")
# the next try is 30 s away: nothing in the next 5 s (a deadline, not a sleep:
# the check fails as soon as another attempt shows)
no_new_attempt() { [ "$(grep -c "attempt [0-9] of 3" "$LAB_DIR/beta.log")" != "$n0" ]; }
if lab_wait 5 no_new_attempt; then
	tap_fail "symmetric NAT on site 2: no attempt again at once (no spin)" "$(diag beta)"
else
	tap_ok "symmetric NAT on site 2: no attempt again at once (no spin)"
fi
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log"

tap_done
