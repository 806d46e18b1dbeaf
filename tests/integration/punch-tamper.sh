# SPDX-License-Identifier: ISC
# An on-path attacker between two punched natmapd nodes: alpha on site 1
# exposes a UDP and a TCP echo, beta on site 2 uses them (set up as in
# punch.sh); tests/lab/tamper.py in the wan namespace, which forwards
# between the sites, captures the path's live traffic and sends it back
# replayed, with a byte flipped, and reordered, from the peer's own public
# address and port.  What reaches the echoes must be exactly what beta's
# clients sent, each datagram once; the nodes count what they dropped; the
# path stays up.  On the TCP carrier a segment at the right sequence
# number, with a byte flipped or a record sent again, ends the carrier and
# its stream, no altered byte reaches the service, and a new carrier, made
# in a new session with new keys, carries new streams.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_lab
wan_ns=$(lab_ns_of wan)
site2_ns=$(lab_ns_of site2)
log_count() { grep -Ec -- "$2" "$LAB_DIR/$1.log"; }
udp_log=$LAB_DIR/traffic-lan-udp-7000.log
tcp_log=$LAB_DIR/traffic-lan-tcp-7100.log

punch_echoes
punch_node alpha lan "$LAB_DIR/home.key" home \
    --expose echo=127.0.0.1:7000/udp@beta --expose tcpecho=127.0.0.1:7100/tcp@beta
punch_node beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp --connect alpha/tcpecho=127.0.0.1:7101/tcp

if lab_wait 20 log_has beta "alpha: direct path up, to $LAB_PUBLIC_IP:"; then
	tap_ok "beta: a direct path to alpha"
else
	tap_fail "beta: a direct path to alpha" "$(diag beta)" "$(diag alpha)"
fi
tap_check "alpha: a direct path to beta" \
    lab_wait 10 log_has alpha "beta: direct path up, to $LAB_RTR2_WAN_IP:"
tap_check "beta: a TCP carrier to alpha" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:"
tap_check "before the attack: 10 datagrams end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10

# dropped NAME: peers[0].dropped in NAME's status file
dropped() {
	python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["peers"][0]["dropped"])' "$LAB_DIR/$1.json"
}
# state NAME: peers[0].state
peer_up() {
	python3 -c 'import json, sys
sys.exit(json.load(open(sys.argv[1]))["peers"][0]["state"] != "up")' "$LAB_DIR/$1.json"
}
a0=$(dropped alpha) && b0=$(dropped beta) ||
    { tap_fail "the status files have the peers' dropped counters"; tap_done; exit 1; }
tap_ok "the status files have the peers' dropped counters (alpha $a0, beta $b0)"

# ---- UDP: replays, flipped bytes, reordered old datagrams ----
lab_bg tamper-udp "$wan_ns" python3 "$LAB_HERE/tamper.py" udp \
    "$LAB_PUBLIC_IP" "$LAB_RTR2_WAN_IP" -t 20 -m 40
tamper_pid=$LAB_BG_PID
lab_bg_listening tamper-udp &&
    tap_ok "tamper.py captures in the wan namespace" ||
    tap_fail "tamper.py captures in the wan namespace"
n0=$(wc -l <"$udp_log")
# 100 datagrams, each different and sent once, 20 ms apart, through
# beta's 127.0.0.1:7001; their digests into udp-sent; every echo must come
# back intact and once
ip netns exec "$site2_ns" timeout 30 python3 - "$LAB_DIR/udp-sent" \
    >"$LAB_DIR/udp-client.log" 2>&1 <<'PY'
import hashlib, os, select, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", 7001))
sent, back, dup, bad = {}, set(), 0, 0
end = time.monotonic() + 8
for i in range(100):
    d = b"tamper %03d " % i + os.urandom(100)
    sent[d] = hashlib.sha256(d).hexdigest()[:16]
    s.send(d)
    t = time.monotonic() + 0.02
    while True:
        left = t - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        e = s.recv(2048)
        if e not in sent: bad += 1
        elif e in back: dup += 1
        else: back.add(e)
while len(back) + bad < 100 and time.monotonic() < end:
    if select.select([s], [], [], end - time.monotonic())[0]:
        e = s.recv(2048)
        if e not in sent: bad += 1
        elif e in back: dup += 1
        else: back.add(e)
open(sys.argv[1], "w").write("".join(h + "\n" for h in sent.values()))
print("sent 100 echoed %d duplicated %d altered %d" % (len(back), dup, bad))
sys.exit(0 if len(back) == 100 and dup == 0 and bad == 0 else 1)
PY
udp_rc=$?
lab_wait 25 lab_all_gone "$tamper_pid" || lab_kill "$tamper_pid"
sed 's/^/# /' "$LAB_DIR/tamper-udp.log"
# sent_to ADDR: how many tamper.py sent toward ADDR
sent_to() { sed -n "s/^to $1: .* sent \([0-9]*\)$/\1/p" "$LAB_DIR/tamper-udp.log"; }
to_alpha=$(sent_to "$LAB_PUBLIC_IP")
to_beta=$(sent_to "$LAB_RTR2_WAN_IP")
tap_check "tamper.py sent replays, flipped and reordered datagrams both ways" \
    bash -c "[ '${to_alpha:-0}' -gt 100 ] && [ '${to_beta:-0}' -gt 100 ]"
tap_check "beta's client: 100 datagrams echoed, none twice, none altered" \
    bash -c "[ $udp_rc = 0 ] && cat '$LAB_DIR/udp-client.log'"
# what reached the echo: exactly the 100 datagrams, each once
echo_saw_sent() {
	tail -n +"$((n0 + 1))" "$udp_log" | grep "udp from" |
	    awk '{print $5}' | sort >"$LAB_DIR/udp-seen"
	sort "$LAB_DIR/udp-sent" | diff -u - "$LAB_DIR/udp-seen"
}
tap_check "the UDP echo received exactly beta's 100 datagrams, each once" \
    echo_saw_sent
rose() {
	local a b
	a=$(dropped alpha) && b=$(dropped beta) || return 1
	[ $((a - a0)) -ge "${to_alpha:-1}" ] && [ $((b - b0)) -ge "${to_beta:-1}" ]
}
if lab_wait 25 rose; then
	tap_ok "dropped counters rose by what was injected (alpha +$(($(dropped alpha) - a0)) >= $to_alpha, beta +$(($(dropped beta) - b0)) >= $to_beta)"
else
	tap_fail "dropped counters rose by what was injected" \
	    "# alpha $a0 -> $(dropped alpha), injected $to_alpha" \
	    "# beta $b0 -> $(dropped beta), injected $to_beta"
fi
ctl_peer() {
	ip netns exec "$site2_ns" "$NATMAPCTL" -s "$LAB_DIR/beta.ctl" status |
	    grep -E "^peer alpha up: direct-v4 .*; in [0-9]+ B, out [0-9]+ B, dropped [1-9][0-9]*"
}
tap_check "natmapctl status on beta: alpha up, its dropped datagrams" ctl_peer
tap_check "after the attack: both nodes' path still up" \
    bash -c "LAB_DIR='$LAB_DIR'; $(declare -f peer_up); peer_up alpha && peer_up beta &&
    ! grep -q 'is silent; probing again\|no direct path' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"
tap_check "after the attack: 20 datagrams end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10

# ---- TCP: bytes injected at the carrier's next sequence number ----
# tcp_attack flip|replay: while a slow stream runs through beta's
# 127.0.0.1:7101, tamper.py sends alpha a segment at the carrier's next
# sequence number carrying the last data segment's payload, one byte
# flipped (flip) or as it was (replay: a record again, as new data)
tcp_attack() {
	local what=$1 fails t0 tamper_pid tcp_rc flag=
	[ "$what" = replay ] && flag=--replay
	tap_check "before the $what: 100 kB through the TCP carrier" \
	    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 10
	fails=$(log_count alpha "beta: TCP carrier down: a record failed authentication")
	lab_bg "tamper-tcp-$what" "$wan_ns" python3 "$LAB_HERE/tamper.py" tcp \
	    "$LAB_PUBLIC_IP" "$LAB_RTR2_WAN_IP" --to "$LAB_PUBLIC_IP" -t 20 \
	    -n 5 -q 30 $flag
	tamper_pid=$LAB_BG_PID
	lab_bg_listening "tamper-tcp-$what" ||
	    tap_fail "tamper.py tcp captures in the wan namespace"
	t0=$(wc -l <"$tcp_log")
	# one connection: 1000 bytes every 100 ms, everything sent kept in
	# tcp-sent; it must end (reset or closed) within 15 s, and what came
	# back must be what was sent
	ip netns exec "$site2_ns" timeout 30 python3 - "$LAB_DIR/tcp-sent" \
	    >"$LAB_DIR/tcp-client-$what.log" 2>&1 <<'PY'
import os, select, socket, sys, time
s = socket.create_connection(("127.0.0.1", 7101), timeout=5)
s.setblocking(False)
sent, back, why = bytearray(), bytearray(), "still open after 15 s"
end = time.monotonic() + 15
nxt = 0.0
try:
    while time.monotonic() < end:
        if time.monotonic() >= nxt:
            chunk = os.urandom(1000)
            sent += chunk[:s.send(chunk)]
            nxt = time.monotonic() + 0.1
        if select.select([s], [], [], max(0, nxt - time.monotonic()))[0]:
            b = s.recv(65536)
            if not b:
                why = "closed"
                break
            back += b
except OSError as e:
    why = "ended: " + (e.strerror or str(e))
open(sys.argv[1], "wb").write(sent)
ok = bytes(back) == bytes(sent[:len(back)])
print("%s; sent %d, back %d, %s" % (why, len(sent), len(back),
      "back intact" if ok else "back ALTERED"))
sys.exit(0 if why != "still open after 15 s" and ok else 1)
PY
	tcp_rc=$?
	lab_wait 25 lab_all_gone "$tamper_pid" || lab_kill "$tamper_pid"
	sed 's/^/# /' "$LAB_DIR/tamper-tcp-$what.log"
	tap_check "$what: tamper.py injected a segment toward alpha" \
	    grep -q "^injected $LAB_RTR2_WAN_IP:[0-9]* -> $LAB_PUBLIC_IP:" \
	    "$LAB_DIR/tamper-tcp-$what.log"
	carrier_failed() {
		[ "$(log_count alpha "beta: TCP carrier down: a record failed authentication")" -gt "$fails" ]
	}
	tap_check "$what: alpha's carrier ends at the record that fails" \
	    lab_wait 5 carrier_failed
	tap_check "$what: beta's client: the stream ended, what came back intact" \
	    bash -c "[ $tcp_rc = 0 ] && cat '$LAB_DIR/tcp-client-$what.log'"
	# the echo's line for that connection: its bytes a prefix of those sent
	tcp_prefix() {
		local line
		line=$(tail -n +"$((t0 + 1))" "$tcp_log" | grep "tcp from" | tail -n 1)
		[ -n "$line" ] || return 1
		echo "$line"
		python3 - "$LAB_DIR/tcp-sent" "$line" <<'PY'
import hashlib, sys
sent = open(sys.argv[1], "rb").read()
w = sys.argv[2].split()
n, h = int(w[3]), w[4]
sys.exit(0 if n <= len(sent) and hashlib.sha256(sent[:n]).hexdigest()[:16] == h else 1)
PY
	}
	tap_check "$what: the TCP echo received only bytes beta's client sent, in order" \
	    lab_wait 10 tcp_prefix
}

tcp_attack flip
ups=$(log_count beta "alpha: TCP carrier up")
new_carrier() { [ "$(log_count beta "alpha: TCP carrier up")" -gt "$ups" ]; }
tap_check "a new TCP carrier comes up for new streams" lab_wait 30 new_carrier
tap_check "a new stream: 100 kB through it intact" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 10

# beta started again: a new session, a new carrier; then a record replayed
kill -TERM "$NODE_PID_beta"
lab_wait 5 bash -c "! kill -0 $NODE_PID_beta 2>/dev/null"
mv "$LAB_DIR/beta.log" "$LAB_DIR/beta-1.log"
punch_node beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp --connect alpha/tcpecho=127.0.0.1:7101/tcp
tap_check "beta started again: a new TCP carrier to alpha" \
    lab_wait 30 log_has beta "alpha: TCP carrier up, to $LAB_PUBLIC_IP:"
tcp_attack replay
tap_check "after the attacks: the UDP path up, 10 datagrams end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log"

tap_done
