#!/bin/bash
# selftest.sh - TAP test of the lab itself: miniupnpd behind NAT, STUN by
# coturn, mappings made with upnpc and natpmpc reach LAN services from the WAN;
# coturn's RFC 5780 answers; the NAT behaviours of lab_nat_mode seen by a STUN
# client (tests/lab/stun-probe.py) and end to end: a LAN host's UDP and TCP
# bindings knocked on from the WAN (tests/lab/nat-peer.py) in every mode, a
# lost binding (lab_nat_flush), a 10 s UDP timeout (lab_nat_udp_timeout); the
# echo service; each stun-liar mode; the double-NAT and carrier-grade-NAT
# topologies (LAB_UPSTREAM), the first with an outer full cone.

# shellcheck disable=SC2317,SC2016
# (helpers run through ok/nok; eval strings expand later, on purpose)

here=$(cd "$(dirname "$0")" && pwd)
unset LAB_UPSTREAM	# the first cases need the plain topology
# shellcheck source=SCRIPTDIR/lab.sh
. "$here/lab.sh"

if ! why=$( (lab_need_root_tools) 2>&1 ); then
	echo "1..0 # SKIP ${why#SKIP: }"
	exit 0
fi

tap_log=$(mktemp) || exit 1
trap 'lab_down; rm -f "$tap_log"' EXIT
trap 'exit 1' INT TERM

EXT=$LAB_RTR_WAN_IP
n=0
failed=0

# ok DESCRIPTION CMD...: one TAP line; on failure the command's output as
# diagnostics.  CMD runs in this shell (lab state lives in variables).
ok() {
	local desc=$1 rc
	shift
	n=$((n + 1))
	"$@" >"$tap_log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
		sed 's/^/# /' "$tap_log"
	fi
	return $rc
}
# nok DESCRIPTION CMD...: passes when CMD fails.
nok() {
	local desc=$1
	shift
	ok "$desc" lab_not "$@"
}
lab_not() { ! "$@"; }

upnpc_lan() { lab_lan upnpc -u "$LAB_ROOTDESC" "$@"; }

# upnpc reports errors on stdout and exits 0 on some of them: check the text
upnp_add() {	# NS IP PORT PROTO
	local o
	o=$(ip netns exec "$(lab_ns_of "$1")" upnpc -u "$LAB_ROOTDESC" \
	    -e "lab selftest" -a "$2" "$3" "$3" "$4" 2>&1)
	echo "$o"
	grep -q "external $EXT:$3 $4 is redirected to internal $2:$3" <<<"$o"
}
upnp_del() {	# PORT PROTO
	local o
	o=$(upnpc_lan -d "$1" "$2" 2>&1)
	echo "$o"
	grep -q 'UPNP_DeletePortMapping() returned : 0' <<<"$o"
}
has_rule() { lab_rules | grep -qx "$1"; }
no_rules() { local r; r=$(lab_rules) || return 1; echo "$r"; [ -z "$r" ]; }
igd_by_ssdp() {	# discovery by multicast M-SEARCH (no -u)
	local o
	o=$(lab_lan upnpc -s 2>&1)
	echo "$o"
	grep -q "desc: $LAB_ROOTDESC\$" <<<"$o"
}
ext_ip() {
	local o
	o=$(upnpc_lan -s 2>&1)
	echo "$o"
	grep -q "ExternalIPAddress = $EXT\$" <<<"$o"
}
pmp_add() {	# PORT PROTO LIFETIME
	local o
	o=$(lab_lan natpmpc -g "$LAB_RTR_LAN_IP" -a "$1" "$1" "$2" "$3" 2>&1)
	echo "$o"
	grep -q "Mapped public port $1 protocol ${2^^} to local port $1 " <<<"$o"
}
pmp_pubaddr() {
	local o
	o=$(lab_lan natpmpc -g "$LAB_RTR_LAN_IP" 2>&1)
	echo "$o"
	grep -q "Public IP address : $EXT\$" <<<"$o"
}
reach_from_lan() {	# PROTO PORT: the answer names the lan host
	local o
	o=$(lab_reach_"$1" "$EXT" "$2") || { echo "$o"; return 1; }
	echo "$o"
	[ "$o" = "natmapd-lab lan $1 $2 from $LAB_WAN_IP" ]
}
lab_gone() {
	ip netns list | grep -q "^nmt$LAB_ID-" && return 1
	[ ! -d "$1" ]
}

# py ok|nok DESCRIPTION CMD...: a case that needs python3 (skipped without)
have_py=
command -v python3 >/dev/null 2>&1 && have_py=1
py() {
	if [ -n "$have_py" ]; then
		"$@"
	else
		n=$((n + 1))
		echo "ok $n - $2 # SKIP python3 missing"
	fi
}

STUN1="$LAB_STUN_IP:$LAB_STUN_PORT"		# coturn's primary address
STUN2="$LAB_STUN_ALT_IP:$LAB_STUN_ALT_PORT"
PUB=$LAB_PUBLIC_IP

# stun_is EXPECTED ARGS...: the probe from the lan host prints EXPECTED
stun_is() {
	local want=$1 o
	shift
	o=$(lab_stun_probe lan "$@" 2>&1)
	echo "$o"
	[ "$o" = "$want" ]
}
# stun_two PORT same|differ: one socket, two STUN servers, both see $PUB:*;
# the same mapping (EIM) or two different ones
stun_two() {
	local o a b
	o=$(lab_stun_probe lan -t 2 -p "$1" "$STUN1" "$STUN2" 2>&1)
	echo "$o"
	a=$(sed -n 1p <<<"$o") b=$(sed -n 2p <<<"$o")
	case $a in "$PUB":[0-9]*) ;; *) return 1 ;; esac
	case $b in "$PUB":[0-9]*) ;; *) return 1 ;; esac
	if [ "$2" = same ]; then
		[ "$a" = "$PUB:$1" ] && [ "$b" = "$a" ]
	else
		[ "$a" != "$b" ]
	fi
}
# coturn_5780 [-c FLAG] FROM: from the WAN client (no NAT), coturn's answer
# comes from FROM, names it as RESPONSE-ORIGIN and 203.0.113.4:3479 as
# OTHER-ADDRESS
coturn_5780() {
	local o from=${*: -1}
	o=$(lab_stun_probe wan -b "$LAB_WAN_IP" -t 2 -v "${@:1:$#-1}" "$STUN1" 2>&1)
	echo "$o"
	grep -qx "$LAB_WAN_IP:[0-9]*" <<<"$o" &&
	    grep -qx "origin $from" <<<"$o" &&
	    grep -qx "from $from" <<<"$o" &&
	    grep -qx "other $STUN2" <<<"$o"
}
# liar MODE EXPECT [REASON]: with the liar in MODE, the probe prints EXPECT
# ("mapped": $PUB:port) and discards each answer for REASON
liar() {
	local o last
	lab_stun_liar_start "$1" || return 1
	o=$(lab_stun_probe lan -t 1 "$LAB_LIAR_IP:$LAB_LIAR_PORT" 2>&1)
	echo "$o"
	last=$(tail -n 1 <<<"$o")
	if [ "$2" = mapped ]; then
		case $last in "$PUB":[0-9]*) ;; *) return 1 ;; esac
	else
		[ "$last" = "$2" ] || return 1
	fi
	if [ -n "${3:-}" ]; then
		grep -qx "discarded $3 from $LAB_LIAR_IP:$LAB_LIAR_PORT" <<<"$o"
	else
		! grep -q discarded <<<"$o"
	fi
}
echo_is() {	# PATH BODY [HOST]: lab_echo_get answers 200 and BODY
	local o
	o=$(lab_echo_get "$1" "${3:-lan}") || { echo "$o"; return 1; }
	echo "$o"
	[ "$o" = "$2" ]
}
echo_404() {
	local o
	o=$(lab_echo_get "$1")
	echo "$o"
	[ "$o" = "not found" ] && ! lab_echo_get "$1" >/dev/null
}
slow_done() { [ -s "$slow_out" ]; }
slow_ok() {	# the /slow answer came, with the address, after >= 10 s
	lab_wait 14 slow_done || { echo "no answer to /slow"; return 1; }
	cat "$slow_out"
	[ "$(sed -n 1p "$slow_out")" = "$PUB" ] &&
	    [ "$(sed -n 2p "$slow_out")" -ge 9900 ]
}
in_addr() {	# NS-HOST IFACE ADDR/PREFIX
	ip -n "$(lab_ns_of "$1")" -4 -o addr show dev "$2" | grep -q " $3 "
}
no_route() { ! lab_wan ip route get "$1" >/dev/null 2>&1; }
isp_topology() {	# PREFIX
	lab_ns_exists "$LAB_NS_ISP" &&
	    in_addr rtr "$LAB_RTR_WAN_IF" "$LAB_RTR_WAN_IP/$1" &&
	    in_addr isp "$LAB_ISP_WAN_IF" "$LAB_PUBLIC_IP/24" &&
	    [ "$LAB_PUBLIC_IP" = 203.0.113.2 ]
}
# only_isp_reaches PORT: the router's mapping answers from the isp, not from
# the WAN (neither at the router's address nor at the public one)
only_isp_reaches() {
	lab_reach_tcp "$EXT" "$1" isp || { echo "not reached from the isp"; return 1; }
	if lab_reach_tcp "$EXT" "$1" wan; then echo "WAN reached $EXT"; return 1; fi
	if lab_reach_tcp "$PUB" "$1" wan; then echo "WAN reached $PUB"; return 1; fi
	return 0
}
# upstream private|shared PREFIX: the topology's cases
upstream() {
	local kind=$1 prefix=$2
	LAB_UPSTREAM=$kind
	ok "LAB_UPSTREAM=$kind: lab_init, lab_router_start" \
	    eval 'lab_init && lab_router_start' || exit 1
	EXT=$LAB_RTR_WAN_IP
	ok "$kind: isp namespace, router $EXT/$prefix, public $PUB" \
	    isp_topology "$prefix"
	ok "$kind: miniupnpd maps (STUN check passed)" \
	    grep -q 'Port forwarding is now enabled' "$LAB_DIR/miniupnpd.log"
	ok "$kind: GetExternalIPAddress: $EXT" ext_ip
	ok "$kind: natpmpc: public address $EXT" pmp_pubaddr
	py ok "$kind: the STUN-mapped address is $PUB" \
	    stun_is "$PUB:40100" -p 40100 "$STUN1"
	ok "$kind: the WAN has no route to $EXT" no_route "$EXT"
	ok "$kind: upnpc -a tcp 8080 on the router" eval \
	    'lab_serve_tcp 8080 && upnp_add lan "$LAB_LAN_IP" 8080 TCP'
	ok "$kind: the mapping answers the isp, not the WAN" only_isp_reaches 8080
	py ok "$kind: echo service sees the LAN client as $PUB" \
	    eval 'lab_echo_start && echo_is / "$PUB"'
}

# ---- the filtering modes end to end (tests/lab/nat-peer.py) ----
# The LAN host holds a UDP binding from $CU and a TCP one from $CT to the peer
# A ($LAB_WAN_IP:$LAB_NAT_PEER_PORT); the stranger B ($LAB_WAN2_IP), or A from
# another port, knocks on $PUB:port.
CU=41000 CT=41002
A=$LAB_WAN_IP B=$LAB_WAN2_IP
knocks=0
# seen_as NAME: the public endpoint the peer last reported to binding NAME
seen_as() {
	sed -n "s/^got $A:$LAB_NAT_PEER_PORT seen //p" "$LAB_DIR/$1.log" |
	    tail -n 1
}
seen_count() { grep -c "^got $A:$LAB_NAT_PEER_PORT seen " "$LAB_DIR/$1.log"; }
seen_more() { [ "$(seen_count "$1")" -gt "$2" ]; }
# held NAME PORT: the peer saw binding NAME as $PUB:PORT (the port kept)
held() {
	local s
	s=$(seen_as "$1")
	echo "the peer saw $1 as $s"
	[ "$s" = "$PUB:$2" ]
}
# hold NAME PROTO PORT [ARGS]: the LAN host holds a binding, seen as $PUB:PORT;
# its pid in pid_NAME (for again)
hold() {
	lab_nat_hold "$@" || return 1
	printf -v "pid_${1//-/_}" %s "$LAB_BG_PID"
	lab_wait 3 held "$1" "$3"
}
# again NAME [PORT]: the host sends on binding NAME again (SIGUSR1) and the
# peer answers; it saw $PUB:PORT if PORT is given
again() {
	local before pid
	pid=pid_${1//-/_}
	before=$(seen_count "$1")
	kill -USR1 "${!pid}" || return 1
	lab_wait 3 seen_more "$1" "$before" ||
	    { echo "$1: no new answer from the peer"; return 1; }
	if [ -n "${2:-}" ]; then held "$1" "$2"; else seen_as "$1"; fi
}
# gets_in PROTO PORT NAME [FROM]: a knock from FROM ($B by default) on
# $PUB:PORT reaches the LAN host's binding NAME, which answers FROM
gets_in() {
	local o tok from=${4:-$B}
	knocks=$((knocks + 1)) tok="k$knocks"
	o=$(lab_nat_knock "$1" "$2" "$tok" "$from")
	echo "$o"
	grep -qx "natmapd-lab lan $1 $2 from $from:[0-9]*" <<<"$o" &&
	    grep -q "^got $from:[0-9]* knock $tok\$" "$LAB_DIR/$3.log"
}
# kept_out PROTO PORT [FROM]: a knock from FROM ($B) on $PUB:PORT is refused
# (or unanswered for 1 s) and no LAN binding or service got it
kept_out() {
	local o rc tok
	knocks=$((knocks + 1)) tok="k$knocks"
	o=$(lab_nat_knock "$1" "$2" "$tok" "${3:-$B}" 1)
	rc=$?
	echo "$o (exit $rc)"
	[ "$rc" = 1 ] || [ "$rc" = 2 ] || return 1
	! grep -qs " knock $tok\$" "$LAB_DIR"/cone-*.log
}
# both_held: the bindings udp $CU and tcp $CT, and LAN services on tcp $CU
# and udp $CT (no packet ever left from those)
both_held() {
	hold cone-udp udp "$CU" && hold cone-tcp tcp "$CT" &&
	    lab_serve_tcp "$CU" && lab_serve_udp "$CT"
}
# the UDP timeout of a NAT (rtr or isp): conntrack's and the cone filter's
udp_timeouts_are() {	# SECONDS [WHERE]
	local ns a b
	ns=$(lab_ns_of "${2:-rtr}") || return 1
	a=$(ip netns exec "$ns" sysctl -n net.netfilter.nf_conntrack_udp_timeout)
	b=$(ip netns exec "$ns" sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)
	echo "udp_timeout $a, udp_timeout_stream $b"
	ip netns exec "$ns" nft list set inet "$LAB_NFT_MODE_TABLE" open_udp |
	    grep -w timeout
	[ "$a" = "$1" ] && [ "$b" = "$1" ] &&
	    ip netns exec "$ns" nft list set inet "$LAB_NFT_MODE_TABLE" open_udp |
	    grep -q "timeout ${1}s"
}
# watch NAME PORT SECONDS: knock on $PUB:PORT every 0.25 s until a knock
# does not reach binding NAME (quiet) or SECONDS pass; output in
# $LAB_DIR/watch-NAME.out, the exit status last
watch_binding() {
	lab_wan timeout $(($3 + 5)) python3 "$LAB_HERE/nat-peer.py" watch \
	    "$PUB" "$2" "$LAB_DIR/$1.log" -b "$B" -t "$3" \
	    >"$LAB_DIR/watch-$1.out" 2>&1
	echo "exit $?" >>"$LAB_DIR/watch-$1.out"
}
# closed_after NAME LO HI: the watch on NAME saw the binding close LO..HI ms
# after the host's only packet, and open at every knock before, the first
# within 3 s of that packet, the last 1 s or less before the close
closed_after() {
	local w="$LAB_DIR/watch-$1.out" sent closed first last
	cat "$w"
	sent=$(sed -n 's/^sent 1 //p' "$LAB_DIR/$1.log")
	closed=$(sed -n 's/^closed [^ ]* //p' "$w")
	first=$(sed -n 's/^open [^ ]* //p' "$w" | head -n 1)
	last=$(sed -n 's/^open [^ ]* //p' "$w" | tail -n 1)
	grep -qx 'exit 0' "$w" && [ -n "$sent" ] && [ -n "$closed" ] &&
	    [ -n "$first" ] || return 1
	echo "closed $((closed - sent)) ms after the last packet out;" \
	    "open from $((first - sent)) to $((last - sent)) ms"
	[ $((closed - sent)) -ge "$2" ] && [ $((closed - sent)) -le "$3" ] &&
	    [ $((first - sent)) -le 3000 ] && [ $((closed - last)) -le 1000 ] &&
	    [ "$(grep -c '^sent ' "$LAB_DIR/$1.log")" = 1 ]
}
# open_all NAME MIN: the watch on NAME ran out of time with every knock in
open_all() {
	local w="$LAB_DIR/watch-$1.out"
	cat "$w"
	grep -qx 'exit 2' "$w" && ! grep -q '^closed ' "$w" &&
	    [ "$(grep -c '^open ' "$w")" -ge "$2" ]
}

# upstream_cone: in a double NAT, the isp's full cone end to end
upstream_cone() {
	py ok "private: lab_nat_mode cone on the isp and the router" eval \
	    'lab_nat_mode cone isp && lab_nat_mode cone && lab_nat_peer_start'
	py ok "private: bindings udp $CU and tcp $CT seen as $PUB:port" both_held
	py ok "double cone udp: B reaches the LAN host at $PUB:$CU" \
	    gets_in udp "$CU" cone-udp
	py ok "double cone udp: A from another port too" \
	    gets_in udp "$CU" cone-udp "$A"
	py ok "double cone tcp: B reaches the LAN host at $PUB:$CT" \
	    gets_in tcp "$CT" cone-tcp
	py ok "double cone tcp: A from another port too" \
	    gets_in tcp "$CT" cone-tcp "$A"
	py ok "double cone: no TCP in to $CU nor UDP to $CT (never sent from)" \
	    eval 'kept_out tcp "$CU" && kept_out udp "$CT"'
	py ok "lab_nat_flush isp: B no longer gets in, udp or tcp" \
	    eval 'lab_nat_flush isp && kept_out udp "$CU" && kept_out tcp "$CT"'
	py ok "isp flushed, the host sends again: B gets in, udp and tcp" \
	    eval 'again cone-udp "$CU" && gets_in udp "$CU" cone-udp &&
	    again cone-tcp "$CT" && gets_in tcp "$CT" cone-tcp'
	py ok "outer NAT default, router cone: B kept out by the isp" \
	    eval 'lab_nat_mode default isp && again cone-udp "$CU" &&
	    again cone-tcp "$CT" && kept_out udp "$CU" && kept_out tcp "$CT"'
	py ok "outer cone, router default with UPnP maps udp $CU, tcp $CT" \
	    eval 'lab_nat_mode cone isp && lab_nat_mode default &&
	    upnp_add lan "$LAB_LAN_IP" "$CU" UDP &&
	    upnp_add lan "$LAB_LAN_IP" "$CT" TCP'
	py ok "outer cone and UPnP: B gets in once the host sent, udp and tcp" \
	    eval 'kept_out udp "$CU" && kept_out tcp "$CT" &&
	    again cone-udp "$CU" && gets_in udp "$CU" cone-udp &&
	    again cone-tcp "$CT" && gets_in tcp "$CT" cone-tcp'
}

echo "1..107"
ok "lab_init builds namespaces, links and NAT" lab_init || exit 1
ok "lab_router_start: coturn + miniupnpd answer" lab_router_start || exit 1
ok "miniupnpd learned its address by STUN (full-cone)" \
    grep -q 'Port forwarding is now enabled' "$LAB_DIR/miniupnpd.log"
ok "services listen in the LAN" \
    eval 'lab_serve_tcp 8080 && lab_serve_udp 9000 && lab_serve_tcp 7000'
ok "LAN reaches the WAN through the NAT, seen as $EXT" eval \
    'lab_serve_tcp 8000 wan && o=$(lab_reach_tcp "$LAB_WAN_IP" 8000 lan) &&
     echo "$o" && [ "$o" = "natmapd-lab wan tcp 8000 from $EXT" ]'
nok "WAN cannot reach tcp 8080 without a mapping" lab_reach_tcp "$EXT" 8080
ok "upnpc finds the IGD by SSDP (multicast M-SEARCH)" igd_by_ssdp
ok "GetExternalIPAddress: $EXT" ext_ip
ok "upnpc -a tcp 8080" upnp_add lan "$LAB_LAN_IP" 8080 TCP
ok "upnpc -a udp 9000" upnp_add lan "$LAB_LAN_IP" 9000 UDP
ok "lab_rules shows both" eval \
    'has_rule "tcp dport 8080 dnat to $LAB_LAN_IP:8080" &&
     has_rule "udp dport 9000 dnat to $LAB_LAN_IP:9000"'
ok "WAN client reaches the LAN tcp service at $EXT:8080" reach_from_lan tcp 8080
ok "WAN client reaches the LAN udp service at $EXT:9000" reach_from_lan udp 9000
nok "secure_mode: lan2 may not map to another host" \
    upnp_add lan2 "$LAB_LAN_IP" 8081 TCP
ok "upnpc -d tcp 8080 and udp 9000" eval 'upnp_del 8080 TCP && upnp_del 9000 UDP'
ok "lab_rules shows none" no_rules
nok "WAN no longer reaches tcp 8080" lab_reach_tcp "$EXT" 8080
nok "WAN no longer reaches udp 9000" lab_reach_udp "$EXT" 9000
ok "natpmpc: public address $EXT" pmp_pubaddr
ok "natpmpc -a tcp 7000: rule and reachable" eval \
    'pmp_add 7000 tcp 60 && has_rule "tcp dport 7000 dnat to $LAB_LAN_IP:7000" &&
     reach_from_lan tcp 7000'
ok "natpmpc lifetime 0 deletes it" eval 'pmp_add 7000 tcp 0; no_rules'

# the echo service; /slow runs in the background meanwhile
py ok "lab_echo_start: listening on $LAB_ECHO_IP:$LAB_ECHO_PORT" lab_echo_start
slow_out="$LAB_DIR/slow.out"
if [ -n "$have_py" ]; then
	(t0=$(lab_now_ms); lab_echo_get /slow lan 14 >"$slow_out.tmp"
	 echo $(( $(lab_now_ms) - t0 )) >>"$slow_out.tmp"
	 mv "$slow_out.tmp" "$slow_out") &
	slow_pid=$!
fi
py ok "echo GET / from the LAN: $PUB" echo_is / "$PUB"
py ok "echo GET / from the WAN client: $LAB_WAN_IP" echo_is / "$LAB_WAN_IP" wan
py ok "echo GET /garbage: hello" echo_is /garbage hello
py ok "echo GET /nothing-here: 404" echo_404 /nothing-here

# coturn as lab_stun_start runs it: RFC 5780 (seen without NAT, from the WAN)
py ok "coturn: RESPONSE-ORIGIN $STUN1, OTHER-ADDRESS $STUN2" coturn_5780 "$STUN1"
py ok "coturn: CHANGE-REQUEST change IP" coturn_5780 -c ip "$LAB_STUN_ALT_IP:$LAB_STUN_PORT"
py ok "coturn: CHANGE-REQUEST change port" coturn_5780 -c port "$LAB_STUN_IP:$LAB_STUN_ALT_PORT"
py ok "coturn: CHANGE-REQUEST change IP and port" coturn_5780 -c both "$STUN2"

# NAT behaviour, as a STUN client in the LAN sees it
py ok "default: same mapping toward $STUN1 and $STUN2 (EIM)" stun_two 40000 same
py ok "default: a change-IP-and-port answer is filtered" \
    stun_is timeout -t 1 -p 40001 -c both "$STUN1"
py ok "lab_nat_mode random: a new mapping per destination" \
    eval 'lab_nat_mode random && stun_two 40002 differ'
py ok "lab_nat_mode eif: a change-IP-and-port answer arrives" \
    eval 'lab_nat_mode eif && stun_is "$PUB:40003" -p 40003 -c both "$STUN1"'
py ok "eif: a change-IP answer arrives" stun_is "$PUB:40004" -p 40004 -c ip "$STUN1"
nok "eif: WAN still cannot reach tcp 8080 unmapped" lab_reach_tcp "$EXT" 8080
nok "eif: nor a udp port the LAN host never sent from" lab_reach_udp "$EXT" 9000
py ok "lab_nat_mode adf: a change-port answer arrives" \
    eval 'lab_nat_mode adf && stun_is "$PUB:40005" -p 40005 -c port "$STUN1"'
py ok "adf: a change-IP answer is filtered" \
    stun_is timeout -t 1 -p 40006 -c ip "$STUN1"
py ok "lab_nat_mode default: filtered again, same mapping again" eval \
    'lab_nat_mode default && stun_is timeout -t 1 -p 40007 -c port "$STUN1" &&
     stun_two 40008 same'

# the bad STUN server
py ok "stun-liar good: a valid answer, $PUB:port" liar good mapped
py ok "stun-liar wrongtid: discarded, timeout" \
    liar wrongtid timeout wrong-transaction-id
py ok "stun-liar truncated: discarded, timeout" \
    liar truncated timeout truncated-attribute
py ok "stun-liar badfp: discarded, timeout" liar badfp timeout bad-fingerprint
py ok "stun-liar silent: reads, never answers" eval \
    'liar silent timeout && grep -q "(no answer)" "$LAB_DIR/stun-liar.log"'

py ok "echo GET /slow: $PUB after 10 s" slow_ok

# the filtering modes, end to end: B and A knock on the LAN host's bindings
# (after /slow: lab_nat_flush would cut its connection)
py ok "lab_nat_mode cone; the peer A and the stranger B start" eval \
    'lab_nat_mode cone && lab_nat_peer_start'
py ok "cone: bindings udp $CU and tcp $CT seen as $PUB:port" both_held
py ok "cone udp: B reaches the LAN host at $PUB:$CU, and back" \
    gets_in udp "$CU" cone-udp
py ok "cone udp: A from another port too" gets_in udp "$CU" cone-udp "$A"
py ok "cone tcp: B reaches the LAN host at $PUB:$CT, and back" \
    gets_in tcp "$CT" cone-tcp
py ok "cone tcp: A from another port too" gets_in tcp "$CT" cone-tcp "$A"
py ok "cone: no TCP in to $CU, where only UDP went out" kept_out tcp "$CU"
py ok "cone: no UDP in to $CT, where only TCP went out" kept_out udp "$CT"
py ok "cone: nor to tcp 8080, never sent from" kept_out tcp 8080
py ok "lab_nat_flush: B no longer gets in, udp" \
    eval 'lab_nat_flush && kept_out udp "$CU"'
py ok "flushed: nor tcp, nor A from another port" eval \
    'kept_out tcp "$CT" && kept_out udp "$CU" "$A" && kept_out tcp "$CT" "$A"'
py ok "flushed, the host sends again: B gets in again, udp" \
    eval 'again cone-udp "$CU" && gets_in udp "$CU" cone-udp'
py ok "flushed, the host sends again: B gets in again, tcp" \
    eval 'again cone-tcp "$CT" && gets_in tcp "$CT" cone-tcp'
py ok "lab_nat_mode restricted: the bindings sent again, ports kept" eval \
    'lab_nat_mode restricted && again cone-udp "$CU" && again cone-tcp "$CT"'
py ok "restricted udp: A from another port gets in" \
    gets_in udp "$CU" cone-udp "$A"
py ok "restricted udp: B does not" kept_out udp "$CU"
py ok "restricted tcp: A from another port gets in" \
    gets_in tcp "$CT" cone-tcp "$A"
py ok "restricted tcp: B does not" kept_out tcp "$CT"
py ok "lab_nat_mode default: the bindings sent again, ports kept" eval \
    'lab_nat_mode default && again cone-udp "$CU" && again cone-tcp "$CT"'
py ok "default udp: neither B nor A from another port gets in" \
    eval 'kept_out udp "$CU" && kept_out udp "$CU" "$A"'
py ok "default tcp: neither B nor A from another port gets in" \
    eval 'kept_out tcp "$CT" && kept_out tcp "$CT" "$A"'
py ok "lab_nat_mode random: the UDP binding sent again, on a new port" eval \
    'lab_nat_mode random && again cone-udp && rport=$(seen_as cone-udp) &&
     rport=${rport#"$PUB":} && [ "$rport" != "$CU" ]'
py ok "random: B gets in neither at the new port nor at $CU, nor tcp $CT" \
    eval 'kept_out udp "$rport" && kept_out udp "$CU" && kept_out tcp "$CT"'
py ok "lab_nat_udp_timeout 10 (cone): conntrack's and the filter's" eval \
    'lab_nat_mode cone && lab_nat_udp_timeout 10 && udp_timeouts_are 10'
# One binding silent after its first packet, one kept by a packet every 5 s;
# B knocks on both every 0.25 s (quiet hosts: a knock never refreshes) for
# up to 15 s (the silent one, which must close 10 s after its packet) and
# 12 s (the kept one, refreshed at 0, 5 and 10 s): the idle period is the
# point, and both watches run at once.
if [ -n "$have_py" ]; then
	hold cone-silent udp 41010 -q >"$LAB_DIR/hold-silent.out" 2>&1 &&
	    hold cone-kept udp 41011 -q -e 5 >"$LAB_DIR/hold-kept.out" 2>&1 &&
	    { watch_binding cone-kept 41011 12 & } &&
	    watch_pid=$! &&
	    watch_binding cone-silent 41010 15
	[ -n "${watch_pid:-}" ] && wait "$watch_pid"
fi
py ok "10 s: a silent UDP binding closes 10 s after its last packet" \
    closed_after cone-silent 9000 11500
py ok "10 s: a binding kept by a packet every 5 s stays open 12 s" \
    open_all cone-kept 35
py ok "lab_nat_udp_timeout default; lab_nat_mode default" eval \
    'lab_nat_udp_timeout default && lab_nat_mode default &&
     ! lab_rtr nft list table inet "$LAB_NFT_MODE_TABLE" >/dev/null 2>&1 &&
     lab_kill "$pid_cone_udp" "$pid_cone_tcp" "$pid_cone_silent" "$pid_cone_kept"'

dir=$LAB_DIR
lab_down
[ -n "${slow_pid:-}" ] && wait "$slow_pid" 2>/dev/null
ok "lab_down removes namespaces and LAB_DIR" lab_gone "$dir"

# the router behind a second NAT
upstream private 24
upstream_cone
upstream shared 10
dir=$LAB_DIR
lab_down
ok "lab_down removes the isp namespace too" lab_gone "$dir"
exit $((failed > 0))
