# SPDX-License-Identifier: ISC
# The lab's two sites (LAB_SITES=2), proven with real traffic and no natmapd:
# for each lab_nat_mode of site 2's router, what two STUN servers see
# (endpoint-independent or -dependent mapping) and who may knock on a binding
# (filtering; the rst mode's resets); a manual UDP hole punch between the two
# LAN hosts through masquerade (works) and fully-random (fails) NATs, and
# through a router without lab_wan_input_filter (fails: its kernel's
# conntrack entry for the early datagrams moves the host's port); IPv6
# behind both stateful firewalls; lab_nat_flush and lab_nat_block_udp on
# rtr2; miniupnpd on site 1 and the traffic check across; lab_down.
# shellcheck disable=SC2016,SC2015
# (eval strings expand later, on purpose; A && B || tap_fail is meant)
. "$(dirname "$0")/common.sh"
lab_need_python

PUB=$LAB_PUBLIC_IP S2=$LAB_RTR2_WAN_IP
A=$LAB_WAN_IP B=$LAB_WAN2_IP AP=$LAB_NAT_PEER_PORT
STUN1=$LAB_STUN_IP:$LAB_STUN_PORT STUN2=$LAB_STUN_ALT_IP:$LAB_STUN_PORT

# here DESC CMD...: tap_check, but CMD runs in this shell: what it starts
# and the variables it sets stay (tap_check runs it in a subshell)
here() {
	local desc=$1 rc
	shift
	"$@" >"$LAB_DIR/here.out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$(cat "$LAB_DIR/here.out")"
	fi
	return "$rc"
}

LAB_SITES=2 LAB_IPV6=1 lab_init ||
    { tap_fail "the two-site lab builds"; tap_done; exit 1; }
tap_ok "the two-site lab builds (LAB_SITES=2, LAB_IPV6=1)"
here "coturn starts" lab_stun_start
here "the peer A and the stranger B start" lab_nat_peer_start
here "the echo service starts" lab_echo_start

seen_by_echo() {	# HOST ADDR: the echo service sees HOST as ADDR
	local o
	o=$(lab_echo_get / "$1") || return 1
	echo "seen as $o"
	[ "$o" = "$2" ]
}
tap_check "site 2 reaches the internet, seen as $S2" seen_by_echo site2 "$S2"
tap_check "site 1 still seen as $PUB" seen_by_echo lan "$PUB"

# ---- per mode: mapping (two STUN servers) and filtering (knocks) ----
# mapped PORT same|differ: from site 2's PORT, one socket, STUN1 and STUN2
# (two addresses) see $S2:PORT both (same) or two different ports (differ)
mapped() {
	local o p1 p2
	o=$(lab_stun_probe site2 -t 2 -p "$1" "$STUN1" "$STUN2" 2>&1)
	echo "$o"
	p1=$(sed -n 1p <<<"$o") p2=$(sed -n 2p <<<"$o")
	case $p1$p2 in *timeout*|*error*) return 1 ;; esac
	[ "${p1%:*}" = "$S2" ] && [ "${p2%:*}" = "$S2" ] || return 1
	if [ "$2" = same ]; then
		[ "$p1" = "$S2:$1" ] && [ "$p2" = "$S2:$1" ]
	else
		[ "$p1" != "$p2" ]
	fi
}
# seen_port NAME: the public port peer A last reported to site 2's binding
seen_port() {
	sed -n "s/^got $A:$AP seen $S2:\([0-9]*\)\$/\1/p" "$LAB_DIR/$1.log" |
	    tail -n 1
}
has_seen() { [ -n "$(seen_port "$1")" ]; }
seen_count() { grep -c "^got $A:$AP seen " "$LAB_DIR/$1.log"; }
seen_more() { [ "$(seen_count "$1")" -gt "$2" ]; }
# hold NAME PROTO PORT: site 2 holds a binding to A; its pid in HOLD_PID and
# its public port in HOLD_PORT
hold() {
	HOLD_PID='' HOLD_PORT=''
	lab_nat_hold_in site2 "$@" || return 1
	HOLD_PID=$LAB_BG_PID
	lab_wait 3 has_seen "$1" || return 1
	HOLD_PORT=$(seen_port "$1")
	echo "A sees $1 as $S2:$HOLD_PORT"
}
HOLD_PID='' HOLD_PORT=''
# knock PROTO PORT NAME FROM in|rst|drop: a knock from FROM on $S2:PORT gets
# to binding NAME (in), is answered by a reset (rst: TCP) or by nothing
# (drop); NAME never sees a knock that was not let in
knock() {
	local o rc tok="k${EPOCHREALTIME/[.,]/}"	# (unique: knock runs in a subshell)
	o=$(lab_nat_knock_at "$S2" "$1" "$2" "$tok" "$4" 1)
	rc=$?
	echo "$o (exit $rc)"
	case $5 in
	in)	[ "$rc" = 0 ] &&
		    grep -q "^got $4:[0-9]* knock $tok\$" "$LAB_DIR/$3.log" ;;
	rst)	[ "$rc" = 1 ] && ! grep -q " knock $tok\$" "$LAB_DIR/$3.log" ;;
	drop)	[ "$rc" = 2 ] && ! grep -q " knock $tok\$" "$LAB_DIR/$3.log" ;;
	esac
}

# mode: mapping; UDP from B, UDP from A's address; TCP from B, TCP from A's
# address (another port than the binding's peer, always)
expect=(
	"default same  drop drop drop drop"
	"random  differ drop drop drop drop"
	"cone    same  in   in   in   in"
	"eif     same  in   in   drop drop"
	"adf     same  drop in   drop drop"
	"restricted same drop in drop in"
	"rst     same  drop drop rst  rst"
)
i=0
for row in "${expect[@]}"; do
	read -r mode map ub ua tb ta <<<"$row"
	i=$((i + 1))
	port=$((41000 + i * 10))
	if ! lab_nat_mode "$mode" rtr2; then
		tap_fail "lab_nat_mode $mode rtr2"
		continue
	fi
	tap_check "$mode: STUN from two addresses: $map mapped port" \
	    mapped "$port" "$map"
	for proto in udp tcp; do
		if [ $proto = udp ]; then fb=$ub fa=$ua; else fb=$tb fa=$ta; fi
		port=$((port + 1))
		if here "$mode: site 2 holds a $proto binding to A" \
		    hold "$mode-$proto" $proto $port; then
			tap_check "$mode: a $proto knock from B: $fb" \
			    knock $proto "$HOLD_PORT" "$mode-$proto" "$B" "$fb"
			tap_check "$mode: a $proto knock from A's address, another port: $fa" \
			    knock $proto "$HOLD_PORT" "$mode-$proto" "$A" "$fa"
		fi
		[ -n "$HOLD_PID" ] && lab_kill "$HOLD_PID"
	done
done

# refused PROTO PORT rst|drop: a knock on $S2:PORT, where nothing was ever sent
# from, is answered by a reset within its 1 s (rst) or by nothing (drop)
refused() {
	local o rc
	o=$(lab_nat_knock_at "$S2" "$1" "$2" x "$B" 1)
	rc=$?
	echo "$o (exit $rc)"
	case $3 in
	rst) [ "$rc" = 1 ] ;;
	drop) [ "$rc" = 2 ] ;;
	esac
}
lab_nat_mode rst rtr2
tap_check "rst: an unsolicited SYN to an unused port is answered by a reset" \
    refused tcp 41500 rst
tap_check "rst: an unsolicited UDP datagram still gets no answer" \
    refused udp 41500 drop
lab_nat_mode default rtr2
tap_check "default: an unsolicited SYN to rtr2 gets no answer" \
    refused tcp 41500 drop

# ---- a manual UDP hole punch between the two LAN hosts ----
# punch NAME PORT1 PORT2 SECONDS: lan from PORT1 to $S2:PORT2 and site2 from
# PORT2 to $PUB:PORT1 at the same time; prints both statuses
punch() {
	local p1 p2 r1 r2
	lab_punch_start "$1-1" lan "$2" "$S2" "$3" -t "$4" || return 1
	p1=$LAB_BG_PID
	lab_punch_start "$1-2" site2 "$3" "$PUB" "$2" -t "$4" || return 1
	p2=$LAB_BG_PID
	lab_punch_wait "$p1"; r1=$?
	lab_punch_wait "$p2"; r2=$?
	echo "site 1: $(tr '\n' ' ' <"$LAB_DIR/$1-1.log")(exit $r1)"
	echo "site 2: $(tr '\n' ' ' <"$LAB_DIR/$1-2.log")(exit $r2)"
	PUNCH="$r1 $r2"
}
punched() { punch "$@"; [ "$PUNCH" = "0 0" ]; }
not_punched() { punch "$@"; [ "$PUNCH" = "1 1" ]; }
lab_nat_mode default && lab_nat_mode default rtr2
here "masquerade on both sites: the UDP hole punch passes both ways" \
    punched masq 42000 42001 5
lab_nat_mode random && lab_nat_mode random rtr2
here "fully-random on both sites: the UDP hole punch fails" \
    not_punched random 42010 42011 3
lab_nat_mode default && lab_nat_mode default rtr2
# (why the routers have lab_wan_input_filter) without it, a router whose
# kernel refuses site 2's early datagrams keeps an entry for them, and its
# masquerade moves site 1's host to another port: site 2 starts first
rtr_tracks() { lab_rtr conntrack -L -p udp 2>/dev/null | grep -q "$1"; }
early() {
	local p1 p2 r1 r2 o
	lab_rtr nft delete table inet lab_wan_in || return 1
	lab_punch_start early-2 site2 42021 "$PUB" 42020 -t 4 || return 1
	p2=$LAB_BG_PID
	lab_wait 5 rtr_tracks "src=$S2 dst=$PUB sport=42021 dport=42020 " ||
	    { echo "site 2's datagrams did not reach the router"; return 1; }
	lab_punch_start early-1 lan 42020 "$S2" 42021 -t 3 || return 1
	p1=$LAB_BG_PID
	lab_punch_wait "$p1"; r1=$?
	o=$(lab_rtr conntrack -L -p udp 2>/dev/null |
	    grep "src=$LAB_LAN_IP dst=$S2 sport=42020 dport=42021 ")
	lab_punch_wait "$p2"; r2=$?
	lab_wan_input_filter "$LAB_NS_RTR" reject || return 1
	echo "exit $r1 $r2; site 1's flow: $o"
	# the punch failed both ways, and site 1's host left from another port
	[ "$r1" = 1 ] && [ "$r2" = 1 ] && [ -n "$o" ] &&
	    ! grep -q "dport=42020 " <<<"$o"
}
here "no input filter on site 1's router: the punch fails" early

# ---- IPv6: both sites behind stateful firewalls, no NAT66 ----
lab_traffic_serve site2 udp 43000 && lab_traffic_serve site2 tcp 43000 &&
    lab_traffic_serve lan tcp 43001 ||
    tap_fail "the IPv6 echo services start"
tap_check "IPv6: site 1's UDP to site 2's service does not get in" \
    eval '! lab_traffic_check lan udp "$LAB_SITE2_6_IP" 43000 -n 3 -t 1'
tap_check "IPv6: nor its TCP (dropped: no answer)" eval \
    'o=$(lab_traffic_check lan tcp "$LAB_SITE2_6_IP" 43000 -t 1); echo "$o"; [ "$o" = "timeout connecting" ]'
tap_check "IPv6: site 2's TCP to site 1's service does not get in (reset)" eval \
    'o=$(lab_traffic_check site2 tcp "$LAB_LAN6_IP" 43001 -t 1); echo "$o"; [ "$o" = refused ]'
tap_check "IPv6: nothing of that reached site 2's echo" \
    eval '! grep -q from "$LAB_DIR/traffic-site2-udp-43000.log" "$LAB_DIR/traffic-site2-tcp-43000.log"'
here "IPv6: site 2's hosts reach the internet unchanged" \
    eval 'lab_traffic_serve wan udp 43002 && lab_traffic_check site2 udp "$LAB_WAN6_IP" 43002 -n 3 &&
    grep -q "udp from \[$LAB_SITE2_6_IP\]:" "$LAB_DIR/traffic-wan-udp-43002.log"'
# site 1 sends first (refused by rtr2, above), then site 2 sends too: both
# directions pass, between the hosts' own addresses (traffic.py punch takes
# nothing from another address)
v6punch() {
	local p1 p2 r1 r2
	lab_punch_start v6-1 lan 43010 "$LAB_SITE2_6_IP" 43011 -t 6 || return 1
	p1=$LAB_BG_PID
	sleep 1
	lab_punch_start v6-2 site2 43011 "$LAB_LAN6_IP" 43010 -t 4 || return 1
	p2=$LAB_BG_PID
	lab_punch_wait "$p1"; r1=$?
	lab_punch_wait "$p2"; r2=$?
	echo "site 1: $(tr '\n' ' ' <"$LAB_DIR/v6-1.log")(exit $r1)"
	echo "site 2: $(tr '\n' ' ' <"$LAB_DIR/v6-2.log")(exit $r2)"
	[ "$r1" = 0 ] && [ "$r2" = 0 ]
}
here "IPv6: a punch passes once site 2 sent too, addresses unchanged" v6punch

# ---- lab_nat_flush rtr2: a binding lost mid-session ----
lab_nat_mode cone rtr2
if here "flush: site 2 holds a UDP binding (cone)" hold fl-udp udp 44000; then
	tap_check "flush: B's knock gets in" knock udp "$HOLD_PORT" fl-udp "$B" in
	tap_check "flush: lab_nat_flush rtr2" lab_nat_flush rtr2
	tap_check "flush: B's knock no longer gets in" \
	    knock udp "$HOLD_PORT" fl-udp "$B" drop
	n=$(seen_count fl-udp)
	tap_check "flush: site 2 sends again, A answers, same port" eval \
	    'kill -USR1 $HOLD_PID && lab_wait 3 seen_more fl-udp $n && [ "$(seen_port fl-udp)" = "$HOLD_PORT" ]'
	tap_check "flush: B's knock gets in again" knock udp "$HOLD_PORT" fl-udp "$B" in
fi
[ -n "$HOLD_PID" ] && lab_kill "$HOLD_PID"
lab_nat_mode default rtr2
if here "flush: site 2 holds a TCP connection to A (masquerade)" \
    hold fl-tcp tcp 44001; then
	lab_nat_flush rtr2
	n=$(seen_count fl-tcp)
	tap_check "flush: the TCP connection carries on once site 2 sends, same port" eval \
	    'kill -USR1 $HOLD_PID && lab_wait 3 seen_more fl-tcp $n && [ "$(seen_port fl-tcp)" = "$HOLD_PORT" ]'
fi
[ -n "$HOLD_PID" ] && lab_kill "$HOLD_PID"

here "lab_nat_udp_timeout 7 rtr2: its UDP bindings live 7 s, its mode kept" eval \
    'lab_nat_mode cone rtr2 && lab_nat_udp_timeout 7 rtr2 &&
    lab_rtr2 sysctl -n net.netfilter.nf_conntrack_udp_timeout | grep -qx 7 &&
    [ "$LAB_RTR2_NAT_MODE" = cone ] &&
    lab_rtr2 nft list set inet "$LAB_NFT_MODE_TABLE" open_udp | grep -q "timeout 7s"'
lab_nat_udp_timeout default rtr2 && lab_nat_mode default rtr2

# ---- lab_nat_block_udp rtr2 ----
tap_check "block: lab_nat_block_udp on rtr2" lab_nat_block_udp on rtr2
tap_check "block: site 2's STUN gets no answer" \
    eval 'o=$(lab_stun_probe site2 -t 1 "$STUN1"); echo "$o"; [ "$o" = timeout ]'
tap_check "block: its IPv6 UDP neither" \
    eval '! lab_traffic_check site2 udp "$LAB_WAN6_IP" 43002 -n 2 -t 1'
tap_check "block: its TCP passes" seen_by_echo site2 "$S2"
tap_check "block: site 1's UDP passes" \
    eval 'lab_stun_probe lan -t 2 "$STUN1"'
tap_check "block: lab_nat_block_udp off rtr2" lab_nat_block_udp off rtr2
tap_check "block: site 2's STUN answered again" \
    eval 'lab_stun_probe site2 -t 2 "$STUN1"'

# ---- site 1 as today: miniupnpd, and the traffic check across ----
here "miniupnpd starts on site 1's router" lab_router_start
lab_traffic_serve lan tcp 8080 && lab_traffic_serve lan udp 8081 ||
    tap_fail "the echo services on site 1 start"
tap_check "upnpc maps tcp 8080 and udp 8081 on site 1" eval \
    'lab_lan upnpc -u "$LAB_ROOTDESC" -a "$LAB_LAN_IP" 8080 8080 TCP &&
    lab_lan upnpc -u "$LAB_ROOTDESC" -a "$LAB_LAN_IP" 8081 8081 UDP'
tap_check "traffic: 1 MB from site 2 over the mapped TCP port comes back intact" \
    lab_traffic_check site2 tcp "$PUB" 8080 -n 1048576 -t 20
tap_check "traffic: 50 datagrams over the mapped UDP port come back intact" \
    lab_traffic_check site2 udp "$PUB" 8081 -n 50
tap_check "traffic: and an unmapped port does not answer (reset)" eval \
    'o=$(lab_traffic_check site2 tcp "$PUB" 8082 -t 2); echo "$o"; [ "$o" = refused ]'

# ---- lab_down leaves nothing ----
ns_left() { ip netns list | grep -c "^nmt${LAB_ID}-" || true; }
lab_down
tap_check "lab_down: no namespace of the lab left" eval '[ "$(ns_left)" = 0 ]'
tap_done
