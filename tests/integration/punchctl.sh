# SPDX-License-Identifier: ISC
# Services at run time through natmapctl (expose, unexpose, connect,
# disconnect) between two natmapd nodes in the two-site lab: alpha on site
# 1 exposes a TCP and a UDP echo from its configuration; beta on site 2
# starts with no connect at all and gets its connects from natmapctl.
# Judged by data end to end: a connect added carries data, a second one
# keeps the first's path, carrier and live stream, a disconnect closes the
# local port and its stream, a service alpha exposes at run time is
# reached from beta, and once unexposed its stream ends and new ones are
# refused; once beta disconnects its last service of alpha, the path and
# carrier close on both sides (30 s unused), the status shows no peer, a
# new connect punches again, and a connect left idle keeps its path.
# Bad specs and refusals come back with their message.
# shellcheck disable=SC2015
. "$(dirname "$0")/common.sh"
it_need_rdv
lab_need_python

it_punch_lab
it_rendezvous_start "$LAB_DIR/nets"
rdv="$LAB_RDV_IP:$LAB_RDV_PORT"

# node NAME HOST ARGS...: a natmapd in namespace HOST (it_natmapd)
node() { it_natmapd "$@"; }
rdv_args() { echo --rendezvous "$rdv" --network home --key-file "$LAB_DIR/home.key" --node "$1"; }
log_has() { grep -Eq -- "$2" "$LAB_DIR/$1.log"; }
log_count() { grep -Ec -- "$2" "$LAB_DIR/$1.log"; }
diag() { sed "s/^/# $1: /" "$LAB_DIR/$1.log" | tail -n "${2:-25}"; }
# ctl NODE HOST ARG...: natmapctl on NODE's socket; output in $LAB_DIR/ctl.out
ctl() {
	local name=$1 ns
	ns=$(lab_ns_of "$2") || return 1
	shift 2
	ip netns exec "$ns" "$NATMAPCTL" -s "$LAB_DIR/$name.ctl" "$@" \
	    >"$LAB_DIR/ctl.out" 2>&1
}
# refused DESC STATUS NEEDLE NODE HOST ARG...: natmapctl exits STATUS and says NEEDLE
refused() {
	local desc=$1 want=$2 needle=$3 rc
	shift 3
	ctl "$@"
	rc=$?
	if [ "$rc" = "$want" ] && grep -qF -- "$needle" "$LAB_DIR/ctl.out"; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "natmapctl ${*:3}: exit $rc, wanted $want and \"$needle\"" \
		    "$(cat "$LAB_DIR/ctl.out")"
	fi
}
# port_closed HOST PORT: a TCP connection to 127.0.0.1:PORT is refused
port_closed() {
	ip netns exec "$(lab_ns_of "$1")" python3 - "$2" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)
PY
}

# A client that holds one TCP connection: a line on its FIFO is sent, the
# echo written to its file ("got LINE"), "closed ..." once the connection
# is gone.  hold_start NAME HOST PORT; hold_send NAME LINE.
cat >"$LAB_DIR/hold.py" <<'PY'
import socket, sys
out = open(sys.argv[2], "a", buffering=1)
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
except OSError as e:
    out.write("closed %s\n" % e)
    sys.exit(0)
out.write("connected\n")
for line in sys.stdin:
    try:
        s.sendall(line.encode())
        got = b""
        while not got.endswith(b"\n"):
            b = s.recv(4096)
            if not b:
                raise ConnectionError("end of stream")
            got += b
        out.write("got " + got.decode())
    except (OSError, ConnectionError) as e:
        out.write("closed %s\n" % e)
        break
PY
hold_start() {
	mkfifo "$LAB_DIR/$1.fifo"
	ip netns exec "$(lab_ns_of "$2")" python3 -u "$LAB_DIR/hold.py" "$3" \
	    "$LAB_DIR/$1.out" <"$LAB_DIR/$1.fifo" &
	it_on_exit "kill $! 2>/dev/null"
	# held open for writing until the end: the client reads line by line
	eval "exec {HOLD_FD_$1}>\"\$LAB_DIR/\$1.fifo\""
}
hold_send() { local fd="HOLD_FD_$1"; echo "$2" >&"${!fd}"; }
hold_has() { grep -q -- "$2" "$LAB_DIR/$1.out" 2>/dev/null; }

lab_traffic_serve lan tcp 7100 127.0.0.1 &&
    tap_ok "a TCP echo on site 1's host, 127.0.0.1:7100" ||
    tap_fail "a TCP echo on site 1's host, 127.0.0.1:7100"
lab_traffic_serve lan udp 7000 127.0.0.1 &&
    tap_ok "a UDP echo on site 1's host, 127.0.0.1:7000" ||
    tap_fail "a UDP echo on site 1's host, 127.0.0.1:7000"
lab_traffic_serve lan tcp 7200 127.0.0.1 &&
    tap_ok "a second TCP echo on site 1's host, 127.0.0.1:7200" ||
    tap_fail "a second TCP echo on site 1's host, 127.0.0.1:7200"

# shellcheck disable=SC2046
node alpha lan $(rdv_args alpha) --expose tcpecho=127.0.0.1:7100/tcp@beta \
    --expose echo=127.0.0.1:7000/udp@beta
# shellcheck disable=SC2046
node beta site2 $(rdv_args beta)
# no rendezvous at all: nothing to punch with (a mapping to keep it busy)
node gamma site2 --map 8080/tcp
all_answer() { ctl alpha lan status && ctl beta site2 status && ctl gamma site2 status; }
tap_check "alpha, beta and gamma answer natmapctl status" lab_wait 10 all_answer
tap_check "beta: registered with the rendezvous, no hole punching yet" \
    lab_wait 15 bash -c "grep -q 'registered as beta' '$LAB_DIR/beta.log' &&
    ! grep -q 'punch: node beta' '$LAB_DIR/beta.log'"

# ---- bad specs and refusals, with their message ----
refused "natmapctl connect without NODE/NAME=: refused before sending" 2 \
    'connect: "alpha" is not NODE/NAME=[ADDRESS:]PORT[/PROTO]' beta site2 connect alpha
refused "natmapctl expose with a host name: refused" 2 \
    'expose: "localhost:80" is not ADDRESS:PORT' beta site2 expose web=localhost:80/tcp
refused "natmapctl disconnect of a bare name: refused" 2 \
    'disconnect: "tcpecho" is not NODE/NAME' beta site2 disconnect tcpecho
bad_json() {
	ip netns exec "$(lab_ns_of site2)" python3 - "$LAB_DIR/beta.ctl" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"command":"connect","spec":"alpha/x=127.0.0.1:70000/tcp"}\n'
          b'{"command":"expose","spec":"' + b"a" * 641 + b'"}\n')
f = s.makefile()
for want in ('is not ADDRESS:PORT', '"spec" is longer than 640 bytes'):
    a = json.loads(f.readline())
    print(a)
    assert a["ok"] is False and a["code"] == "bad-request", a
    assert want in a["error"], (want, a)
PY
}
tap_check "the control socket itself: a bad connect spec and one too long refused, said why" bad_json
refused "gamma, no rendezvous: expose refused" 1 "no rendezvous configured" \
    gamma site2 expose web=127.0.0.1:80/tcp
refused "gamma, no rendezvous: connect refused" 1 "no rendezvous configured" \
    gamma site2 connect alpha/tcpecho=7101/tcp
refused "disconnect of what is not connected: no such service" 1 \
    "no such service: nothing connected as alpha/tcpecho" beta site2 disconnect alpha/tcpecho

# ---- beta: a connect at run time ----
tap_check "beta: natmapctl connect alpha/tcpecho=127.0.0.1:7101/tcp" \
    ctl beta site2 connect alpha/tcpecho=127.0.0.1:7101/tcp
if lab_wait 20 log_has beta "alpha: TCP carrier up"; then
	tap_ok "beta: a path and a TCP carrier to alpha, from the connect at run time"
else
	tap_fail "beta: a path and a TCP carrier to alpha, from the connect at run time" \
	    "$(diag beta)" "$(diag alpha)"
fi
tap_check "200 kB through beta's 127.0.0.1:7101 come back from alpha's TCP echo" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 200000 -t 20
status_has() { ctl "$1" "$2" status && grep -qF -- "$3" "$LAB_DIR/ctl.out"; }
tap_check "natmapctl status on beta: the connect, flagged run time" \
    status_has beta site2 "connect alpha/tcpecho=127.0.0.1:7101/tcp (run time)"
json_services() {
	python3 - "$LAB_DIR/$1.json" "$2" <<'PY'
import json, sys
want = json.loads(sys.argv[2])
got = json.load(open(sys.argv[1]))["services"]
assert got == want, (got, want)
PY
}
tap_check "beta's status file: services = the connect, runtime true" \
    lab_wait 5 json_services beta \
    '[{"kind":"connect","spec":"alpha/tcpecho=127.0.0.1:7101/tcp","runtime":true}]'
tap_check "alpha's status file: its two exposes, from the configuration" \
    lab_wait 5 json_services alpha '[{"kind":"expose","spec":"tcpecho=127.0.0.1:7100/tcp@beta","runtime":false},
    {"kind":"expose","spec":"echo=127.0.0.1:7000/udp@beta","runtime":false}]'
refused "the same service again: name in use" 1 "name in use" \
    beta site2 connect alpha/tcpecho=127.0.0.1:7109/tcp
refused "another service on the same port: in use" 1 "address and port in use" \
    beta site2 connect alpha/echo=127.0.0.1:7101/tcp

# a live stream, held across what follows
hold_start h1 site2 7101
hold_send h1 "first line"
tap_check "a held connection through 7101: echoed" lab_wait 10 hold_has h1 "got first line"

# ---- a second connect: the first's path, carrier and stream stay ----
paths0=$(log_count beta "alpha: direct path up")
carriers0=$(log_count beta "alpha: TCP carrier up")
tap_check "beta: natmapctl connect alpha/echo=127.0.0.1:7001/udp" \
    ctl beta site2 connect alpha/echo=127.0.0.1:7001/udp
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's UDP echo" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
hold_send h1 "second line"
tap_check "the held connection still echoes after the second connect" \
    lab_wait 10 hold_has h1 "got second line"
tap_check "the second connect started no path and no carrier again (one each in beta's log)" \
    bash -c "[ \"\$(grep -c 'alpha: direct path up' '$LAB_DIR/beta.log')\" = '$paths0' ] &&
    [ \"\$(grep -c 'alpha: TCP carrier up' '$LAB_DIR/beta.log')\" = '$carriers0' ] &&
    [ '$carriers0' = 1 ] && ! grep -q 'punch: new settings' '$LAB_DIR/beta.log'"

# ---- disconnect: the port closes, its stream ends, the other stays ----
tap_check "beta: natmapctl disconnect alpha/tcpecho" ctl beta site2 disconnect alpha/tcpecho
tap_check "beta's 127.0.0.1:7101 is closed" port_closed site2 7101
hold_send h1 "third line"
tap_check "the held connection through 7101 ended" lab_wait 10 hold_has h1 "^closed"
tap_check "the UDP connect still carries data" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10
tap_check "natmapctl status on beta: only the UDP connect left" \
    bash -c "ip netns exec '$(lab_ns_of site2)' '$NATMAPCTL' -s '$LAB_DIR/beta.ctl' status >'$LAB_DIR/ctl.out' &&
    grep -qF 'connect alpha/echo=127.0.0.1:7001/udp (run time)' '$LAB_DIR/ctl.out' &&
    ! grep -q 'connect alpha/tcpecho' '$LAB_DIR/ctl.out'"
tap_check "beta's status file: only alpha/echo, runtime" \
    lab_wait 5 json_services beta \
    '[{"kind":"connect","spec":"alpha/echo=127.0.0.1:7001/udp","runtime":true}]'

# ---- alpha exposes a service at run time; beta reaches it ----
tap_check "alpha: natmapctl expose tcp2=127.0.0.1:7200/tcp@beta" \
    ctl alpha lan expose tcp2=127.0.0.1:7200/tcp@beta
refused "alpha: the same name and transport again: name in use" 1 "name in use" \
    alpha lan expose tcp2=127.0.0.1:7300/tcp
tap_check "natmapctl status on alpha: tcp2 flagged run time" \
    status_has alpha lan "expose tcp2=127.0.0.1:7200/tcp@beta (run time)"
tap_check "beta: natmapctl connect alpha/tcp2=127.0.0.1:7201/tcp" \
    ctl beta site2 connect alpha/tcp2=127.0.0.1:7201/tcp
tap_check "100 kB through beta's 127.0.0.1:7201 come back from alpha's second echo" \
    lab_traffic_check site2 tcp 127.0.0.1 7201 -n 100000 -t 20
tap_check "the second echo saw them (alpha's own host)" \
    grep -q "tcp from 127.0.0.1:" "$LAB_DIR/traffic-lan-tcp-7200.log"
hold_start h2 site2 7201
hold_send h2 "before"
tap_check "a held connection through 7201: echoed" lab_wait 10 hold_has h2 "got before"

# ---- unexpose: the live stream ends, new ones are refused ----
refused "alpha: unexpose of a configured service: refused" 1 \
    "expose tcpecho is in the configuration file" alpha lan unexpose tcpecho
refused "alpha: unexpose of nothing: no such service" 1 \
    "no such service: nothing exposed as nothere" alpha lan unexpose nothere
tap_check "alpha: natmapctl unexpose tcp2" ctl alpha lan unexpose tcp2
tap_check "alpha: the live stream to tcp2 ended" \
    lab_wait 5 log_has alpha "expose tcp2/tcp removed; 1 stream ended"
hold_send h2 "after"
tap_check "the held connection through 7201 ended" lab_wait 10 hold_has h2 "^closed"
if lab_traffic_check site2 tcp 127.0.0.1 7201 -n 1000 -t 5 >/dev/null 2>&1; then
	tap_fail "a new connection through 7201 gets no echo"
else
	tap_ok "a new connection through 7201 gets no echo"
fi
tap_check "alpha: the new stream refused, not exposed" \
    lab_wait 5 log_has alpha "beta: a stream to tcp2/tcp refused: not exposed"
tap_check "the configured services still work: UDP through 7001" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10

# ---- SIGHUP keeps what natmapctl added, and the paths ----
tap_check "alpha: natmapctl expose tcp2 again" ctl alpha lan expose tcp2=127.0.0.1:7200/tcp@beta
kill -HUP "$NODE_PID_alpha" "$NODE_PID_beta"
tap_check "SIGHUP: both nodes reloaded" \
    lab_wait 5 bash -c "grep -q 'SIGHUP: configuration reloaded' '$LAB_DIR/alpha.log' &&
    grep -q 'SIGHUP: configuration reloaded' '$LAB_DIR/beta.log'"
tap_check "SIGHUP: alpha's tcp2 still there, run time" \
    status_has alpha lan "expose tcp2=127.0.0.1:7200/tcp@beta (run time)"
tap_check "SIGHUP: beta's connects still there, run time" \
    status_has beta site2 "connect alpha/tcp2=127.0.0.1:7201/tcp (run time)"
tap_check "SIGHUP: 50 kB through 7201 again" \
    lab_traffic_check site2 tcp 127.0.0.1 7201 -n 50000 -t 20
tap_check "SIGHUP: the same path and carrier (one of each in beta's log, no new settings)" \
    bash -c "[ \"\$(grep -c 'alpha: TCP carrier up' '$LAB_DIR/beta.log')\" = 1 ] &&
    [ \"\$(grep -c 'alpha: direct path up' '$LAB_DIR/beta.log')\" = 1 ] &&
    ! grep -q 'punch: new settings' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"
# ---- a reload whose file adds a service, and names a run-time one ----
# (beta: its command line names no service, the file's count)
tap_check "alpha: natmapctl expose tcp3=127.0.0.1:7100/tcp@beta" \
    ctl alpha lan expose tcp3=127.0.0.1:7100/tcp@beta
cat >"$LAB_DIR/beta.conf" <<'EOF'
connect alpha/tcp2=127.0.0.1:7201/tcp
connect alpha/tcp3=127.0.0.1:7301/tcp
EOF
kill -HUP "$NODE_PID_beta"
tap_check "SIGHUP with a new connect in beta's file: tcp3 connected, tcp2 the configuration's now" \
    lab_wait 5 json_services beta '[{"kind":"connect","spec":"alpha/echo=127.0.0.1:7001/udp","runtime":true},
    {"kind":"connect","spec":"alpha/tcp2=127.0.0.1:7201/tcp","runtime":false},
    {"kind":"connect","spec":"alpha/tcp3=127.0.0.1:7301/tcp","runtime":false}]'
tap_check "50 kB through beta's 127.0.0.1:7301 come back from tcp3" \
    lab_traffic_check site2 tcp 127.0.0.1 7301 -n 50000 -t 20
tap_check "the reload that added tcp3 restarted no path nor carrier" \
    bash -c "[ \"\$(grep -c 'alpha: TCP carrier up' '$LAB_DIR/beta.log')\" = 1 ] &&
    [ \"\$(grep -c 'alpha: direct path up' '$LAB_DIR/beta.log')\" = 1 ] &&
    ! grep -q 'punch: new settings' '$LAB_DIR/beta.log'"
refused "beta: disconnect of tcp2, now in the file: refused" 1 \
    "connect alpha/tcp2 is in the configuration file" beta site2 disconnect alpha/tcp2
: >"$LAB_DIR/beta.conf"
kill -HUP "$NODE_PID_beta"
tap_check "SIGHUP with the file emptied: only the run-time connect is left" \
    lab_wait 5 json_services beta \
    '[{"kind":"connect","spec":"alpha/echo=127.0.0.1:7001/udp","runtime":true}]'
tap_check "beta's 127.0.0.1:7301 is closed" port_closed site2 7301
tap_check "the path to alpha was not started again" \
    bash -c "[ \"\$(grep -c 'alpha: direct path up' '$LAB_DIR/beta.log')\" = 1 ]"
tap_check "20 datagrams through 7001 after both reloads" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
# the file names a run-time connect's service on another port: the file's wins
tap_check "beta: natmapctl connect alpha/tcp3=127.0.0.1:7302/tcp" \
    ctl beta site2 connect alpha/tcp3=127.0.0.1:7302/tcp
echo "connect alpha/tcp3=127.0.0.1:7303/tcp" >"$LAB_DIR/beta.conf"
kill -HUP "$NODE_PID_beta"
tap_check "SIGHUP: the file's alpha/tcp3 (port 7303) replaces the run-time one (7302)" \
    lab_wait 5 json_services beta '[{"kind":"connect","spec":"alpha/echo=127.0.0.1:7001/udp","runtime":true},
    {"kind":"connect","spec":"alpha/tcp3=127.0.0.1:7303/tcp","runtime":false}]'
tap_check "beta's 127.0.0.1:7302 is closed" port_closed site2 7302
tap_check "50 kB through beta's 127.0.0.1:7303 come back from tcp3" \
    lab_traffic_check site2 tcp 127.0.0.1 7303 -n 50000 -t 20

# ---- the last connect gone: the path and carrier close on both sides ----
# (PUNCH_UNUSED_MS, 30 s, checked every 10 s: closed 30 to 40 s after the
# last use; alpha counts from beta's last keep-alive that said "wanted")
: >"$LAB_DIR/beta.conf"
kill -HUP "$NODE_PID_beta"
tap_check "SIGHUP with the file emptied again: alpha/echo is beta's last connect" \
    lab_wait 5 json_services beta \
    '[{"kind":"connect","spec":"alpha/echo=127.0.0.1:7001/udp","runtime":true}]'
tap_check "no path closed while beta connected to alpha" \
    bash -c "! grep -q 'closed: no longer used' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"
t0=$(lab_now_ms)
tap_check "beta: natmapctl disconnect alpha/echo, its last" ctl beta site2 disconnect alpha/echo
both_closed() {
	log_has beta "punch: path to alpha closed: no longer used" &&
	    log_has alpha "punch: path to beta closed: no longer used"
}
if lab_wait 60 both_closed; then
	tap_ok "the path closed on both sides, no longer used (said in each log)"
else
	tap_fail "the path closed on both sides, no longer used (said in each log)" \
	    "$(diag beta)" "$(diag alpha)"
fi
t1=$(lab_now_ms)
tap_check "not before the grace period: $(( (t1 - t0) / 1000 )) s after the disconnect, at least 25" \
    test $(( t1 - t0 )) -ge 25000
no_peers() {
	ctl "$1" "$2" status && ! grep -q '^peer ' "$LAB_DIR/ctl.out" &&
	    python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["peers"]; assert p == [], p' \
	    "$LAB_DIR/$1.json"
}
tap_check "natmapctl status and the status file on beta: no peer left" lab_wait 5 no_peers beta site2
tap_check "natmapctl status and the status file on alpha: no peer left" lab_wait 5 no_peers alpha lan
tap_check "beta's carrier to alpha ended too (its log)" \
    bash -c "grep -Eq 'alpha: TCP carrier down|path to alpha closed' '$LAB_DIR/beta.log'"
ports_closed() {
	local port
	port=$(sed -En 's/.*punching from UDP port [0-9]+ and TCP port ([0-9]+).*/\1/p' \
	    "$LAB_DIR/alpha.log" | tail -n 1)
	[ -n "$port" ] || return 1
	ip netns exec "$(lab_ns_of lan)" ss -Htn state established "( sport = :$port )" |
	    { ! grep -q .; }
}
tap_check "alpha: no connection left on its carrier port" lab_wait 10 ports_closed

# ---- a new connect punches again; an idle connect's path stays ----
carriers0=$(log_count beta "alpha: TCP carrier up")
tap_check "beta: natmapctl connect alpha/tcpecho=127.0.0.1:7101/tcp again" \
    ctl beta site2 connect alpha/tcpecho=127.0.0.1:7101/tcp
new_carrier() { [ "$(log_count beta "alpha: TCP carrier up")" -gt "$carriers0" ]; }
if lab_wait 20 new_carrier; then
	tap_ok "beta: a new path and TCP carrier to alpha"
else
	tap_fail "beta: a new path and TCP carrier to alpha" "$(diag beta)" "$(diag alpha)"
fi
tap_check "100 kB through beta's 127.0.0.1:7101 again" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 20
# nothing uses the connect now: its path stays (beta's keep-alives say it
# connects); the wait fails the check as soon as either side closes it
closed0=$(( $(log_count alpha "closed: no longer used") + $(log_count beta "closed: no longer used") ))
more_closed() {
	[ $(( $(log_count alpha "closed: no longer used") + $(log_count beta "closed: no longer used") )) -gt "$closed0" ]
}
if lab_wait 45 more_closed; then
	tap_fail "an idle connect: its path stays 45 s on both sides" "$(diag beta)" "$(diag alpha)"
else
	tap_ok "an idle connect: its path stays 45 s on both sides"
fi
carriers1=$(log_count beta "alpha: TCP carrier up")
tap_check "after 45 s idle: 10 kB through 7101" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 10000 -t 20
tap_check "over the same carrier (no new one in beta's log)" \
    test "$(log_count beta "alpha: TCP carrier up")" = "$carriers1"
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log"

tap_done
