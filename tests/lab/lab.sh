# lab.sh - network-namespace test lab for natmapd: a LAN, a NAT router running
# miniupnpd (UPnP IGD, NAT-PMP, PCP) and a fake internet with a STUN server.
#
# Source it from bash (>= 5), then:
#
#	. tests/lab/lab.sh
#	lab_need_root_tools
#	trap lab_down EXIT
#	lab_init
#	lab_router_start            # or: lab_router_start enable_natpmp=no
#	lab_serve_tcp 8080
#	lab_lan upnpc -u "$LAB_ROOTDESC" -a 192.168.77.10 8080 8080 TCP
#	lab_reach_tcp 203.0.113.2 8080
#
# Topology (namespace names are unique per process: nmt<pid>-lan, ...):
#
#   nmtP-lan   eth0 192.168.77.10 --+
#                                   +-- lan0 (bridge) 192.168.77.1
#   nmtP-lan2  eth0 192.168.77.11 --+   nmtP-rtr: miniupnpd, nftables NAT
#                                       wan0 203.0.113.2
#                                         |
#   nmtP-wan   eth0 203.0.113.100 (the WAN client),
#                   203.0.113.3 and .4 (coturn STUN, ports 3478 and 3479),
#                   203.0.113.5 (HTTP echo, once lab_echo_start ran),
#                   203.0.113.6 (bad STUN, once lab_stun_liar_start ran)
#                   203.0.113.30 and .31 (natmapd-rendezvous, ports 3480
#                   and 3481, once lab_rendezvous_start ran)
#
# Both LAN hosts: default route and 239.255.255.250 via/on eth0.
#
# Upstream NAT (LAB_UPSTREAM, read by lab_init; default none = the above):
#   LAB_UPSTREAM=private  double NAT: a fifth namespace nmtP-isp between the
#                         router and the fake internet; the router's wan0 is
#                         192.168.88.2/24, the isp's lan0 192.168.88.1 (and
#                         .3), its wan0 203.0.113.2/24
#   LAB_UPSTREAM=shared   carrier-grade NAT: the same with 100.64.0.2/10 on
#                         the router, 100.64.0.1 (and .3) on the isp
#   LAB_UPSTREAM=public   a NAT upstream that the router cannot tell: the
#                         same with 198.51.100.2/24 on the router (a public
#                         address, as far as anyone can see), 198.51.100.1
#                         (and .3) on the isp; only STUN shows the NAT
#
#   rtr wan0 192.168.88.2 -- lan0 192.168.88.1 nmtP-isp wan0 203.0.113.2 -- wan
#
# The isp forwards and masquerades to 203.0.113.2 (port-preserving, filtering
# by conntrack) and speaks no mapping protocol.  The router routes only
# 203.0.113.0/24 via the isp; the wan namespace has no route to 192.168.88.0/24
# or 100.64.0.0/10, so a mapping made on the router alone is not reachable
# from the WAN.  The isp runs a second coturn on its inside (192.168.88.1 and
# .3 / 100.64.0.1 and .3, ports 3478 and 3479) for miniupnpd alone: miniupnpd
# 2.3.1 (Debian 12) has no ext_allow_private_ipv4, refuses a reserved ext_ip=,
# and without ext_perform_stun disables port forwarding on a reserved WAN
# address (UPnP: empty ExternalIPAddress, 501; NAT-PMP: network failure).  Its
# STUN check against that inner server sees the router untranslated and
# unfiltered, so miniupnpd reports its own WAN address 192.168.88.2 /
# 100.64.0.2 and maps, as a newer miniupnpd with ext_allow_private_ipv4=yes.
#
# Two sites (LAB_SITES=2, read by lab_init; default 1 = the above alone): a
# second LAN behind a second NAT router that maps nothing (no miniupnpd), on
# its own link to the wan namespace, which then forwards between its links:
#
#   nmtP-s2lan eth0 192.168.2.10 -- lan0 192.168.2.1  nmtP-rtr2  (nftables NAT)
#                                   wan0 203.0.113.200/32 -- eth1 203.0.113.199/32
#                                                               nmtP-wan
#
# lab_site2 CMD / lab_rtr2 CMD run CMD there (host names site2 and rtr2 for
# lab_ns_of, lab_stun_probe, lab_serve_*, lab_reach_*, lab_echo_get ...).
# The wan namespace answers the router's ARP for 203.0.113.200 (proxy ARP on
# its eth0) and speaks to site 2 from 203.0.113.100.  Both routers (and an
# isp) then refuse unsolicited input on their WAN side in an input filter
# (lab_wan_input_filter): the router (and the isp) as the kernel did (TCP
# reset, ICMP port unreachable), rtr2 by dropping it in silence; ICMP and
# answers from ports 3478/3479 pass.  Refused in the filter, such a packet
# leaves no conntrack entry that would take the tuple of the inside host's
# first packet out (then the masquerade would move that host to another
# port, and no hole punch could work).  Site 2's LAN host is the only one:
# LAB_SITE2_IP (192.168.2.10), LAB_RTR2_LAN_IP, LAB_RTR2_WAN_IP
# (203.0.113.200), LAB_WAN_RTR2_IP (203.0.113.199), LAB_SITE2_NET,
# LAB_RTR2_NAT_MODE.  With LAB_IPV6 too: site 2's 2001:db8:2::10/64
# (LAB_SITE2_6_IP) behind rtr2 (2001:db8:2::1 and fe80::1 on the LAN,
# 2001:db8:200::2 on the WAN, the wan namespace 2001:db8:200::1), routed
# without NAT; the router routes 2001:db8::/32 (LAB_WAN_NET6) to the wan
# namespace.  Both routers are stateful firewalls: out anything, in what
# conntrack calls established or related; the router refuses the rest (TCP
# reset, ICMP), rtr2 drops it.
#
# Variables for callers: LAB_RTR_WAN_IP is the router's WAN address
# (203.0.113.2, or 192.168.88.2 / 100.64.0.2 behind an isp), LAB_PUBLIC_IP the
# address the internet sees (203.0.113.2 in every topology); LAB_ECHO_IP,
# LAB_ECHO_PORT, LAB_ECHO_URL (http://203.0.113.5/); LAB_LIAR_IP, LAB_LIAR_PORT
# (203.0.113.6 3478); LAB_NAT_MODE, LAB_ISP_NAT_MODE (see lab_nat_mode).
#
# lab_nat_mode MODE [rtr|isp|rtr2]: after lab_init (again to switch), the
#   NAT's behaviour toward LAN host 192.168.77.10 (isp: toward the router;
#   rtr2: toward site 2's host 192.168.2.10):
#     default  what lab_init sets: masquerade, i.e. endpoint-independent
#              mapping (Linux keeps the source port when it is free) and
#              address-and-port-dependent filtering (conntrack), for UDP and
#              TCP (a "port-restricted cone")
#     random   masquerade fully-random: address-and-port-dependent mapping,
#              a new external port per destination (a "symmetric" NAT)
#     cone     full cone for UDP and TCP: endpoint-independent filtering,
#              inbound from anyone to a port the host sent from (that
#              protocol) goes to the host's same port
#     restricted  address-restricted cone for UDP and TCP: address-dependent
#              filtering, inbound to port x from any port of an address the
#              host sent to from x
#     eif      the full cone for UDP only; TCP as in default
#     adf      the address-restricted cone for UDP only; TCP as in default
#     rst      default, and every unsolicited inbound TCP SYN (to the NAT's
#              WAN address; over IPv6 to an inside host) is answered by a
#              reset from the NAT's filter (rtr2 otherwise drops it; the
#              router's kernel answers so anyway)
#     drop     default, and every unsolicited inbound TCP SYN to the NAT's
#              WAN address is dropped in silence in the NAT's filter (a home
#              router whose input policy is drop; rtr2 does so anyway, the
#              router otherwise answers with a reset)
#   miniupnpd's chains are left alone and keep precedence; the namespace's
#   UDP conntrack entries are deleted (see lab_nat_mode for the rules).
# lab_wan_delay MS|off: (LAB_SITES=2) every IPv4 packet between the two
#   sites (forwarded by the wan namespace from one router to the other)
#   takes MS (0-1000) ms more, one way (tests/lab/delay.py, a TUN delay
#   line: the lab's kernel may have no netem); what the wan namespace sends
#   or receives itself (STUN, rendezvous) is not delayed.  off: no delay.
# lab_nat_udp_timeout SECONDS|default [rtr|isp|rtr2]: UDP bindings of that
#   NAT die SECONDS after their last packet (conntrack and the cone's filter).
# lab_nat_flush [rtr|isp|rtr2]: that NAT forgets every binding (conntrack and
#   the cone's filter), as after a reboot.
# lab_nat_block_udp on|off [rtr|isp|rtr2]: that NAT forwards no UDP at all
#   (either way, IPv4 and IPv6), whatever the mode; off lifts it.
# lab_nat_peer_start, lab_nat_hold, lab_nat_knock: a peer A on the WAN
#   ($LAB_WAN_IP:$LAB_NAT_PEER_PORT), a LAN host holding a binding to it, and
#   a stranger B ($LAB_WAN2_IP) knocking on the binding's public port
#   (tests/lab/nat-peer.py; see lab_nat_peer_start).
# lab_echo_start: HTTP echo server (tests/lab/echo-server.py) on
#   203.0.113.5:80 in the wan namespace: GET / -> the client's address and a
#   newline, /garbage -> "hello" and a newline, /slow -> the address after
#   10 s, anything else 404.
#   lab_echo_get [PATH] [HOST] fetches from HOST (lan by default).
# lab_stun_liar_start MODE: a bad STUN server (tests/lab/stun-liar.py) on
#   203.0.113.6:3478 in the wan namespace; MODE good, wrongtid, truncated,
#   badfp, silent or elsewhere (maps every client to 198.51.100.77); called
#   again, it replaces the running one.
# lab_stun_probe HOST [stun-probe.py args]: a STUN Binding (tests/lab/
#   stun-probe.py) from namespace HOST; prints the mapped address or timeout.
#
# coturn (lab_stun_start) does RFC 5780 with 203.0.113.3 as the primary
# address: from 203.0.113.3 (port 3478 or 3479) its answers carry
# RESPONSE-ORIGIN and OTHER-ADDRESS 203.0.113.4:<the other port>, and it honours
# CHANGE-REQUEST change-IP, change-port and both.  From 203.0.113.4 it names
# 203.0.113.4 itself as OTHER-ADDRESS and answers a change-IP request from
# 203.0.113.4 again (change-port works): coturn 4.6.1's get_alt_addr() always
# picks the address after the first listening one.  A prober must start from
# 203.0.113.3.
#
# lab_turn_start runs a second coturn as a real TURN server (RFC 8656, RFC
# 6062) on 203.0.113.8 (LAB_RELAY_IP), port 3478, UDP and TCP, relaying from
# that address, with coturn's REST credentials (use-auth-secret,
# static-auth-secret SECRET, realm LAB_RELAY_REALM), no TLS or DTLS.
#
# 203.0.113.5, .6, .8 and .101 (LAB_WAN2_IP) are put on the wan namespace's
# eth0 only when their server starts (.101: lab_nat_peer_start):
# tests/integration/wanaddr.sh moves the router's WAN address to 203.0.113.5.
#
# Everything stays inside these namespaces: no namespace has a route to any
# address outside 192.168.77.0/24 and 203.0.113.0/24 (and 192.168.88.0/24 or
# 100.64.0.0/10 with an isp, 192.168.2.0/24 with two sites, 2001:db8::/32
# with IPv6).
#
# Every wait is a poll with a deadline (lab_wait).  Nothing here installs a
# trap; lab_down is idempotent and safe on a half-built lab.
#
# shellcheck shell=bash disable=SC2034,SC2016
# (variables are for the callers; single-quoted scripts run in namespaces)

LAB_ID=${LAB_ID:-$$}
LAB_NS_LAN="nmt${LAB_ID}-lan"
LAB_NS_LAN2="nmt${LAB_ID}-lan2"
LAB_NS_RTR="nmt${LAB_ID}-rtr"
LAB_NS_WAN="nmt${LAB_ID}-wan"
LAB_NS_ISP="nmt${LAB_ID}-isp"		# only with LAB_UPSTREAM
LAB_NS_SITE2="nmt${LAB_ID}-s2lan"	# only with LAB_SITES=2
LAB_NS_RTR2="nmt${LAB_ID}-rtr2"		# only with LAB_SITES=2
LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

LAB_LAN_NET=192.168.77.0/24
LAB_RTR_LAN_IP=192.168.77.1
LAB_LAN_IP=192.168.77.10
LAB_LAN2_IP=192.168.77.11
LAB_RTR_WAN_IP=203.0.113.2
LAB_WAN_IP=203.0.113.100
LAB_STUN_IP=203.0.113.3
LAB_STUN_ALT_IP=203.0.113.4
LAB_STUN_PORT=3478
LAB_STUN_ALT_PORT=3479
LAB_RTR_LAN_IF=lan0		# bridge in the router namespace
LAB_RTR_WAN_IF=wan0
LAB_HOST_IF=eth0		# interface name inside lan, lan2 and wan
LAB_HTTP_PORT=5000
LAB_ROOTDESC="http://${LAB_RTR_LAN_IP}:${LAB_HTTP_PORT}/rootDesc.xml"
LAB_WAN_NET=203.0.113.0/24
LAB_PUBLIC_IP=203.0.113.2	# what the internet sees, whatever the topology
LAB_ECHO_IP=203.0.113.5
LAB_ECHO_PORT=80
LAB_ECHO_URL="http://${LAB_ECHO_IP}/"
LAB_LIAR_IP=203.0.113.6
LAB_LIAR_PORT=3478
LAB_RELAY_IP=203.0.113.8	# coturn as a TURN server (lab_turn_start)
LAB_RELAY_PORT=3478
LAB_RELAY_REALM=natmapd.lab
LAB_ISP_LAN_IF=lan0		# in the isp namespace, toward the router
LAB_ISP_WAN_IF=wan0		# in the isp namespace, toward the wan namespace
LAB_NAT_MODE=default		# set by lab_nat_mode (router)
LAB_ISP_NAT_MODE=default	# set by lab_nat_mode MODE isp
LAB_NAT_TIMEOUT=30		# s a UDP filter entry (eif, adf, cone, restricted)
				# lives after the last packet out
LAB_NAT_TCP_TIMEOUT=120		# the same for TCP (cone, restricted)
LAB_NAT_PEER_PORT=7100		# the peer A of lab_nat_peer_start, on $LAB_WAN_IP
LAB_WAN2_IP=203.0.113.101	# the stranger B of lab_nat_knock (wan namespace)
LAB_NAT_CTMARK=0x6c6162		# conntrack mark of flows lab_nat_mode let in
# IPv6 (LAB_IPV6=1 before lab_init): documentation prefixes (RFC 3849), no NAT
LAB_LAN6_NET=2001:db8:77::/64
LAB_RTR_LAN6_IP=2001:db8:77::1
LAB_RTR_LL6=fe80::1		# the LAN hosts' IPv6 default router, link-local
LAB_LAN6_IP=2001:db8:77::10
LAB_LAN2_6_IP=2001:db8:77::11
LAB_RTR_WAN6_IP=2001:db8:113::2
LAB_WAN6_IP=2001:db8:113::100
LAB_STUN6_IP=2001:db8:113::3	# coturn over IPv6 (lab_stun6_start)
LAB_STUN6_ALT_IP=2001:db8:113::4
# the second site (LAB_SITES=2 before lab_init)
LAB_SITE2_NET=192.168.2.0/24
LAB_RTR2_LAN_IP=192.168.2.1
LAB_SITE2_IP=192.168.2.10	# the LAN host of site 2
LAB_RTR2_WAN_IP=203.0.113.200	# its router's WAN address, /32
LAB_WAN_RTR2_IP=203.0.113.199	# the wan namespace's end of that link, /32
LAB_WAN_RTR2_IF=eth1		# in the wan namespace, toward rtr2
LAB_RTR2_NAT_MODE=default	# set by lab_nat_mode MODE rtr2
LAB_SITE2_6_NET=2001:db8:2::/64
LAB_RTR2_LAN6_IP=2001:db8:2::1
LAB_SITE2_6_IP=2001:db8:2::10
LAB_RTR2_WAN6_IP=2001:db8:200::2
LAB_WAN_RTR2_6_IP=2001:db8:200::1
LAB_WAN_NET6=2001:db8::/32	# what the routers of two sites route to the wan

# lab_topology: set the addresses that depend on LAB_UPSTREAM (none, private
# or shared); at load time and by lab_init.
lab_topology() {
	LAB_ISP_LAN_IP='' LAB_ISP_LAN_ALT_IP='' LAB_ISP_NET=''
	LAB_RTR_WAN_PREFIX=24
	case ${LAB_UPSTREAM:-none} in
	none)	LAB_RTR_WAN_IP=$LAB_PUBLIC_IP ;;
	private)
		LAB_RTR_WAN_IP=192.168.88.2
		LAB_ISP_LAN_IP=192.168.88.1
		LAB_ISP_LAN_ALT_IP=192.168.88.3
		LAB_ISP_NET=192.168.88.0/24 ;;
	public)
		LAB_RTR_WAN_IP=198.51.100.2
		LAB_ISP_LAN_IP=198.51.100.1
		LAB_ISP_LAN_ALT_IP=198.51.100.3
		LAB_ISP_NET=198.51.100.0/24 ;;
	shared)
		LAB_RTR_WAN_IP=100.64.0.2
		LAB_RTR_WAN_PREFIX=10
		LAB_ISP_LAN_IP=100.64.0.1
		LAB_ISP_LAN_ALT_IP=100.64.0.3
		LAB_ISP_NET=100.64.0.0/10 ;;
	*)	LAB_RTR_WAN_IP=$LAB_PUBLIC_IP
		lab_log "LAB_UPSTREAM=$LAB_UPSTREAM: none, private, public or shared"
		return 1 ;;
	esac
}

# nftables objects that miniupnpd fills (named in its config)
LAB_NFT_TABLE=lab_filter
LAB_NFT_NAT_TABLE=lab_nat
LAB_NFT_FWD_CHAIN=miniupnpd
LAB_NFT_NAT_CHAIN=prerouting_miniupnpd
LAB_NFT_POST_CHAIN=postrouting_miniupnpd
# and the ones lab_nat_mode rewrites (in the router and in the isp)
LAB_NFT_MODE_FWD_CHAIN=lab_mode_fwd	# in $LAB_NFT_TABLE
LAB_NFT_MASQ_CHAIN=lab_mode_masq	# in $LAB_NFT_NAT_TABLE
LAB_NFT_MODE_TABLE=lab_mode		# eif/adf: sets, tracking, DNAT

LAB_DIR=			# set by lab_init, removed by lab_down
LAB_PIDS=()			# every background process we started
LAB_MINIUPNPD_PID=
LAB_TURN_PID=
LAB_TURN6_PID=
LAB_ISP_TURN_PID=
LAB_RELAY_PID=
LAB_ECHO_PID=
LAB_LIAR_PID=
LAB_DELAY_PID=

lab_log() { printf '# lab: %s\n' "$*" >&2; }
lab_topology

# lab_need_root_tools: exit 77 (automake SKIP) unless root with every tool.
lab_need_root_tools() {
	local t missing=
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: the network-namespace lab needs root" >&2
		exit 77
	fi
	for t in ip nft conntrack miniupnpd turnserver socat upnpc natpmpc \
	    ss timeout unshare; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		echo "SKIP: missing tools:$missing (see contrib/install-deps.sh)" >&2
		exit 77
	fi
	if ! unshare --net true 2>/dev/null; then
		echo "SKIP: cannot create network namespaces here" >&2
		exit 77
	fi
}

# lab_now_ms: milliseconds on a clock for measuring intervals (bash 5's
# EPOCHREALTIME, no fork).
lab_now_ms() {
	local now=${EPOCHREALTIME/[.,]/}
	echo $((now / 1000))
}

# lab_wait SECONDS CMD...: run CMD every ~20 ms until it succeeds (return 0)
# or SECONDS (may be fractional: 0.5) have passed (return 1).  CMD runs in
# this shell, so it may be a function.
lab_wait() {
	local secs=$1 int frac now deadline
	shift
	int=${secs%%.*}
	frac=000000
	case $secs in *.*) frac=${secs#*.}000000 ;; esac
	# microseconds, from bash 5's EPOCHREALTIME (no fork per poll)
	now=${EPOCHREALTIME/[.,]/}
	deadline=$((now + ${int:-0} * 1000000 + 10#${frac:0:6}))
	while :; do
		"$@" && return 0
		now=${EPOCHREALTIME/[.,]/}
		[ "$now" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

lab_lan()  { ip netns exec "$LAB_NS_LAN"  "$@"; }
lab_lan2() { ip netns exec "$LAB_NS_LAN2" "$@"; }
lab_rtr()  { ip netns exec "$LAB_NS_RTR"  "$@"; }
lab_wan()  { ip netns exec "$LAB_NS_WAN"  "$@"; }
lab_isp()  { ip netns exec "$LAB_NS_ISP"  "$@"; }
lab_site2() { ip netns exec "$LAB_NS_SITE2" "$@"; }
lab_rtr2() { ip netns exec "$LAB_NS_RTR2" "$@"; }

# lab_ns_of lan|lan2|rtr|wan|isp|site2|rtr2: print the namespace name.
lab_ns_of() {
	case $1 in
	site2) echo "$LAB_NS_SITE2" ;;
	rtr2) echo "$LAB_NS_RTR2" ;;
	lan) echo "$LAB_NS_LAN" ;;
	lan2) echo "$LAB_NS_LAN2" ;;
	rtr) echo "$LAB_NS_RTR" ;;
	wan) echo "$LAB_NS_WAN" ;;
	isp) echo "$LAB_NS_ISP" ;;
	*) echo "lab: unknown host '$1'" >&2; return 1 ;;
	esac
}

lab_ns_exists() { [ -e "/run/netns/$1" ]; }

# lab_all_ns: every namespace name the lab may have made (isp included)
lab_all_ns() {
	echo "$LAB_NS_LAN" "$LAB_NS_LAN2" "$LAB_NS_RTR" "$LAB_NS_WAN" "$LAB_NS_ISP" \
	    "$LAB_NS_SITE2" "$LAB_NS_RTR2"
}

# lab_bg NAME NS CMD...: start CMD in namespace NS in the background, output to
# $LAB_DIR/NAME.log; sets LAB_BG_PID and records it for lab_down.
lab_bg() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" </dev/null >"$LAB_DIR/$name.log" 2>&1 &
	LAB_BG_PID=$!
	LAB_PIDS+=("$LAB_BG_PID")
}

# lab_kill PID...: SIGTERM, wait up to 3 s, then SIGKILL.
lab_kill() {
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	lab_wait 3 lab_all_gone "$@" && return 0
	for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
	lab_wait 2 lab_all_gone "$@"
	return 0
}
lab_all_gone() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}

# lab_init: build namespaces, links, addresses, routes and the router's
# nftables (NAT and the chains miniupnpd fills); with LAB_UPSTREAM=private or
# shared the isp namespace too.  Sets LAB_DIR, LAB_RTR_WAN_IP.
lab_init() {
	local ns nslist
	[ -n "$LAB_DIR" ] && lab_down	# a second lab_init rebuilds the lab
	lab_topology || return 1
	# leftovers of a dead process that had our pid
	for ns in $(lab_all_ns); do
		lab_ns_exists "$ns" && ip netns del "$ns" 2>/dev/null
	done
	LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-lab.XXXXXX") || return 1
	LAB_PIDS=()
	LAB_MINIUPNPD_PID=
	LAB_TURN_PID=
	LAB_TURN6_PID=
	LAB_ISP_TURN_PID=
	LAB_RELAY_PID=
	LAB_ECHO_PID=
	LAB_LIAR_PID=
	LAB_DELAY_PID=
	LAB_NAT_MODE=default
	LAB_ISP_NAT_MODE=default
	LAB_RTR2_NAT_MODE=default
	case ${LAB_SITES:-1} in
	1|2) ;;
	*) lab_log "LAB_SITES=$LAB_SITES: 1 or 2"; return 1 ;;
	esac

	nslist="$LAB_NS_LAN $LAB_NS_LAN2 $LAB_NS_RTR $LAB_NS_WAN"
	[ -n "$LAB_ISP_NET" ] && nslist="$nslist $LAB_NS_ISP"
	[ "${LAB_SITES:-1}" = 2 ] && nslist="$nslist $LAB_NS_RTR2 $LAB_NS_SITE2"
	for ns in $nslist; do
		ip netns add "$ns" || { lab_log "ip netns add $ns failed"; return 1; }
		# IPv4 only: no IPv6 autoconfiguration, DAD or MLD noise
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		    net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
		ip -n "$ns" link set lo up || return 1
	done

	# LAN: a bridge in the router, one veth per LAN host
	ip -n "$LAB_NS_RTR" link add "$LAB_RTR_LAN_IF" type bridge \
	    mcast_snooping 0 stp_state 0 forward_delay 0 || return 1
	ip link add name "$LAB_HOST_IF" netns "$LAB_NS_LAN" type veth \
	    peer name lan0p1 netns "$LAB_NS_RTR" || return 1
	ip link add name "$LAB_HOST_IF" netns "$LAB_NS_LAN2" type veth \
	    peer name lan0p2 netns "$LAB_NS_RTR" || return 1
	ip -n "$LAB_NS_RTR" link set lan0p1 master "$LAB_RTR_LAN_IF" up || return 1
	ip -n "$LAB_NS_RTR" link set lan0p2 master "$LAB_RTR_LAN_IF" up || return 1
	ip -n "$LAB_NS_RTR" addr add "$LAB_RTR_LAN_IP/24" dev "$LAB_RTR_LAN_IF" || return 1
	ip -n "$LAB_NS_RTR" link set "$LAB_RTR_LAN_IF" up || return 1

	# WAN: one veth between router and the fake internet, or router - isp
	# and isp - fake internet
	if [ -z "$LAB_ISP_NET" ]; then
		ip link add name "$LAB_RTR_WAN_IF" netns "$LAB_NS_RTR" type veth \
		    peer name "$LAB_HOST_IF" netns "$LAB_NS_WAN" || return 1
	else
		ip link add name "$LAB_RTR_WAN_IF" netns "$LAB_NS_RTR" type veth \
		    peer name "$LAB_ISP_LAN_IF" netns "$LAB_NS_ISP" || return 1
		ip link add name "$LAB_ISP_WAN_IF" netns "$LAB_NS_ISP" type veth \
		    peer name "$LAB_HOST_IF" netns "$LAB_NS_WAN" || return 1
		lab_isp_net || return 1
	fi
	ip -n "$LAB_NS_RTR" addr add "$LAB_RTR_WAN_IP/$LAB_RTR_WAN_PREFIX" \
	    dev "$LAB_RTR_WAN_IF" || return 1
	ip -n "$LAB_NS_RTR" link set "$LAB_RTR_WAN_IF" up || return 1
	if [ -n "$LAB_ISP_NET" ]; then	# the fake internet only, not default
		ip -n "$LAB_NS_RTR" route add "$LAB_WAN_NET" via "$LAB_ISP_LAN_IP" \
		    dev "$LAB_RTR_WAN_IF" || return 1
	fi
	ip -n "$LAB_NS_WAN" addr add "$LAB_WAN_IP/24" dev "$LAB_HOST_IF" || return 1
	ip -n "$LAB_NS_WAN" addr add "$LAB_STUN_IP/24" dev "$LAB_HOST_IF" || return 1
	ip -n "$LAB_NS_WAN" addr add "$LAB_STUN_ALT_IP/24" dev "$LAB_HOST_IF" || return 1
	ip -n "$LAB_NS_WAN" link set "$LAB_HOST_IF" up || return 1

	# LAN hosts: address, default route, SSDP multicast route
	lab_host_net "$LAB_NS_LAN" "$LAB_LAN_IP" || return 1
	lab_host_net "$LAB_NS_LAN2" "$LAB_LAN2_IP" || return 1

	# router: forwarding, NAT, the chains miniupnpd 2.3.1 needs, and two
	# that lab_nat_mode rewrites ($LAB_NFT_MODE_FWD_CHAIN: empty unless
	# eif/adf; $LAB_NFT_MASQ_CHAIN: the masquerade)
	lab_rtr sysctl -qw net.ipv4.ip_forward=1 >/dev/null || return 1
	lab_rtr nft -f - <<EOF || { lab_log "nft ruleset failed"; return 1; }
table inet $LAB_NFT_TABLE {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "$LAB_RTR_LAN_IF" oifname "$LAB_RTR_WAN_IF" accept
		jump $LAB_NFT_FWD_CHAIN
		jump $LAB_NFT_MODE_FWD_CHAIN
		# What no mapping lets in is refused, not dropped: miniupnpd
		# adds its DNAT rule before its filter rule, and a probe caught
		# between the two would wait (1 s for a SYN to be sent again,
		# a UDP probe its whole timeout), blurring every "reached
		# again after N ms".
		iifname "$LAB_RTR_WAN_IF" meta l4proto tcp reject with tcp reset
		iifname "$LAB_RTR_WAN_IF" meta l4proto udp reject
	}
	chain $LAB_NFT_FWD_CHAIN {
	}
	chain $LAB_NFT_MODE_FWD_CHAIN {
	}
}
table inet $LAB_NFT_NAT_TABLE {
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump $LAB_NFT_NAT_CHAIN
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump $LAB_NFT_POST_CHAIN
		jump $LAB_NFT_MASQ_CHAIN
	}
	chain $LAB_NFT_NAT_CHAIN {
	}
	chain $LAB_NFT_POST_CHAIN {
	}
	chain $LAB_NFT_MASQ_CHAIN {
		oifname "$LAB_RTR_WAN_IF" ip saddr $LAB_LAN_NET masquerade
	}
}
EOF
	lab_conntrack_timeouts "$LAB_NS_RTR"
	if [ "${LAB_SITES:-1}" = 2 ]; then
		lab_site2_net || { lab_log "site 2 setup failed"; return 1; }
	fi
	if [ -n "${LAB_IPV6:-}" ]; then
		lab_ipv6_net || { lab_log "IPv6 setup failed"; return 1; }
	fi
	return 0
}

# lab_site2_net: with LAB_SITES=2, the second site: the LAN host site2
# ($LAB_SITE2_IP) on a veth to the router rtr2 ($LAB_RTR2_LAN_IP), whose
# wan0 ($LAB_RTR2_WAN_IP/32) is a point-to-point veth to the wan
# namespace's $LAB_WAN_RTR2_IF ($LAB_WAN_RTR2_IP/32).  The wan namespace
# forwards between its two links, as the internet between two sites.  rtr2
# has the router's NAT chains (lab_nat_mode works there) but no miniupnpd
# chains; both routers (and an isp) get lab_wan_input_filter.
lab_site2_net() {
	local r2=$LAB_NS_RTR2
	ip link add name "$LAB_HOST_IF" netns "$LAB_NS_SITE2" type veth \
	    peer name "$LAB_RTR_LAN_IF" netns "$r2" || return 1
	ip link add name "$LAB_RTR_WAN_IF" netns "$r2" type veth \
	    peer name "$LAB_WAN_RTR2_IF" netns "$LAB_NS_WAN" || return 1
	ip -n "$r2" addr add "$LAB_RTR2_LAN_IP/24" dev "$LAB_RTR_LAN_IF" || return 1
	ip -n "$r2" link set "$LAB_RTR_LAN_IF" up || return 1
	ip -n "$r2" addr add "$LAB_RTR2_WAN_IP/32" peer "$LAB_WAN_RTR2_IP/32" \
	    dev "$LAB_RTR_WAN_IF" || return 1
	ip -n "$r2" link set "$LAB_RTR_WAN_IF" up || return 1
	ip -n "$r2" route add default via "$LAB_WAN_RTR2_IP" \
	    dev "$LAB_RTR_WAN_IF" || return 1
	# the wan namespace answers site 2 from its main address (a service
	# bound to 0.0.0.0 would answer from $LAB_WAN_RTR2_IP otherwise)
	ip -n "$LAB_NS_WAN" addr add "$LAB_WAN_RTR2_IP/32" \
	    dev "$LAB_WAN_RTR2_IF" || return 1
	ip -n "$LAB_NS_WAN" link set "$LAB_WAN_RTR2_IF" up || return 1
	ip -n "$LAB_NS_WAN" route add "$LAB_RTR2_WAN_IP/32" dev "$LAB_WAN_RTR2_IF" \
	    src "$LAB_WAN_IP" || return 1
	# site 1's router (or isp) has 203.0.113.0/24 on its link: the wan
	# namespace answers its ARP for $LAB_RTR2_WAN_IP (proxy ARP)
	lab_wan sysctl -qw net.ipv4.ip_forward=1 \
	    "net.ipv4.conf.$LAB_HOST_IF.proxy_arp=1" >/dev/null || return 1
	ip -n "$LAB_NS_SITE2" addr add "$LAB_SITE2_IP/24" dev "$LAB_HOST_IF" || return 1
	ip -n "$LAB_NS_SITE2" link set "$LAB_HOST_IF" up || return 1
	ip -n "$LAB_NS_SITE2" route add default via "$LAB_RTR2_LAN_IP" \
	    dev "$LAB_HOST_IF" || return 1
	lab_rtr2 sysctl -qw net.ipv4.ip_forward=1 >/dev/null || return 1
	lab_nat_box_rules "$r2" "$LAB_RTR_LAN_IF" "$LAB_RTR_WAN_IF" \
	    "$LAB_SITE2_NET" || { lab_log "rtr2 nft ruleset failed"; return 1; }
	lab_conntrack_timeouts "$r2"
	lab_wan_input_filter "$LAB_NS_RTR" reject || return 1
	lab_wan_input_filter "$r2" drop || return 1
	if [ -n "$LAB_ISP_NET" ]; then
		lab_wan_input_filter "$LAB_NS_ISP" reject "$LAB_ISP_WAN_IF" || return 1
	fi
}

# lab_wan_input_filter NS reject|drop [WANIF]: (LAB_SITES=2) what comes in on
# the WAN interface for the NAT box itself and is not a reply (ct state new)
# is refused by an input filter: reject (TCP reset, ICMP port unreachable:
# what the kernel itself answers with no filter) or drop (silence).  ICMP and
# the answers from coturn's ports (miniupnpd's STUN check: its change-address
# answers are new flows) pass.  The point: a packet the filter refuses leaves
# no conntrack entry, whereas one that the kernel refuses after input leaves
# an unreplied entry W:x <- R:y that takes the tuple the inside host's first
# packet from x to R:y needs, so the masquerade gives that host another port
# and a hole punch between two sites fails while the peer keeps sending (a
# home router's firewall, OpenWrt's wan zone input REJECT, refuses in the
# filter, before conntrack confirms the entry).
lab_wan_input_filter() {
	local ns=$1 how=$2 wanif=${3:-$LAB_RTR_WAN_IF} refuse
	case $how in
	reject) refuse="meta l4proto tcp reject with tcp reset
		iifname \"$wanif\" meta l4proto udp reject
		iifname \"$wanif\" drop" ;;
	drop) refuse="drop" ;;
	*) lab_log "lab_wan_input_filter: reject or drop"; return 1 ;;
	esac
	ip netns exec "$ns" nft -f - <<EOF || { lab_log "input filter in $ns failed"; return 1; }
table inet lab_wan_in {
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "$wanif" ct state established,related accept
		iifname "$wanif" meta l4proto { icmp, ipv6-icmp } accept
		iifname "$wanif" udp sport { $LAB_STUN_PORT, $LAB_STUN_ALT_PORT } accept
		iifname "$wanif" $refuse
	}
}
EOF
}

# lab_ipv6_net: with LAB_IPV6 set, IPv6 on the LAN and the WAN, routed by the
# router without NAT.  The router's forward chain (inet) already lets in
# only what miniupnpd's chain accepts: a PCP MAP opens a pinhole there.
# Addresses are added without DAD and no router advertisement is sent: the
# LAN hosts' default route is fixed, via the router's link-local fe80::1.
lab_ipv6_net() {
	local ns
	lab_ipv6_on "$LAB_NS_LAN" "$LAB_NS_LAN2" "$LAB_NS_RTR" "$LAB_NS_WAN" ||
	    return 1
	ip netns exec "$LAB_NS_RTR" sysctl -qw net.ipv6.conf.all.forwarding=1 \
	    >/dev/null || return 1
	ip -n "$LAB_NS_RTR" addr add "$LAB_RTR_LAN6_IP/64" dev "$LAB_RTR_LAN_IF" nodad || return 1
	ip -n "$LAB_NS_RTR" addr add "$LAB_RTR_LL6/64" dev "$LAB_RTR_LAN_IF" nodad || return 1
	ip -n "$LAB_NS_RTR" addr add "$LAB_RTR_WAN6_IP/64" dev "$LAB_RTR_WAN_IF" nodad || return 1
	ip -n "$LAB_NS_LAN" addr add "$LAB_LAN6_IP/64" dev "$LAB_HOST_IF" nodad || return 1
	ip -n "$LAB_NS_LAN2" addr add "$LAB_LAN2_6_IP/64" dev "$LAB_HOST_IF" nodad || return 1
	ip -n "$LAB_NS_WAN" addr add "$LAB_WAN6_IP/64" dev "$LAB_HOST_IF" nodad || return 1
	ip -n "$LAB_NS_WAN" addr add "$LAB_STUN6_IP/64" dev "$LAB_HOST_IF" nodad || return 1
	ip -n "$LAB_NS_WAN" addr add "$LAB_STUN6_ALT_IP/64" dev "$LAB_HOST_IF" nodad || return 1
	for ns in "$LAB_NS_LAN" "$LAB_NS_LAN2"; do
		ip -n "$ns" -6 route add default via "$LAB_RTR_LL6" dev "$LAB_HOST_IF" || return 1
	done
	ip -n "$LAB_NS_WAN" -6 route add "$LAB_LAN6_NET" via "$LAB_RTR_WAN6_IP" || return 1
	if [ "${LAB_SITES:-1}" = 2 ]; then
		lab_site2_ipv6_net || return 1
	fi
}

# lab_ipv6_on NS...: IPv6 on in these namespaces (lab_init turned it off),
# with no DAD and no router advertisements taken
lab_ipv6_on() {
	local ns
	for ns in "$@"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		    net.ipv6.conf.default.disable_ipv6=0 \
		    net.ipv6.conf.all.accept_dad=0 \
		    net.ipv6.conf.default.accept_dad=0 \
		    net.ipv6.conf.all.accept_ra=0 \
		    net.ipv6.conf.default.accept_ra=0 >/dev/null || return 1
		ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 0 >"$f"; done' || return 1
	done
}

# lab_site2_ipv6_net: (LAB_SITES=2 and LAB_IPV6) site 2 over IPv6, routed
# without NAT: $LAB_SITE2_6_IP behind rtr2 ($LAB_RTR2_LAN6_IP, fe80::1 on the
# LAN; $LAB_RTR2_WAN6_IP toward the wan namespace's $LAB_WAN_RTR2_6_IP).  The
# wan namespace forwards IPv6 too, and both routers send $LAB_WAN_NET6 to it.
# rtr2's forward chain is a stateful firewall: out anything, in only what
# conntrack calls established or related; the rest is dropped in silence
# (site 1's router refuses it: TCP reset, ICMP).
lab_site2_ipv6_net() {
	lab_ipv6_on "$LAB_NS_SITE2" "$LAB_NS_RTR2" || return 1
	lab_rtr2 sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null || return 1
	lab_wan sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null || return 1
	ip -n "$LAB_NS_RTR2" addr add "$LAB_RTR2_LAN6_IP/64" dev "$LAB_RTR_LAN_IF" nodad || return 1
	ip -n "$LAB_NS_RTR2" addr add "$LAB_RTR_LL6/64" dev "$LAB_RTR_LAN_IF" nodad || return 1
	ip -n "$LAB_NS_RTR2" addr add "$LAB_RTR2_WAN6_IP/64" dev "$LAB_RTR_WAN_IF" nodad || return 1
	ip -n "$LAB_NS_WAN" addr add "$LAB_WAN_RTR2_6_IP/64" dev "$LAB_WAN_RTR2_IF" nodad || return 1
	ip -n "$LAB_NS_SITE2" addr add "$LAB_SITE2_6_IP/64" dev "$LAB_HOST_IF" nodad || return 1
	ip -n "$LAB_NS_SITE2" -6 route add default via "$LAB_RTR_LL6" dev "$LAB_HOST_IF" || return 1
	ip -n "$LAB_NS_RTR2" -6 route add default via "$LAB_WAN_RTR2_6_IP" || return 1
	ip -n "$LAB_NS_WAN" -6 route add "$LAB_SITE2_6_NET" via "$LAB_RTR2_WAN6_IP" \
	    src "$LAB_WAN6_IP" || return 1
	ip -n "$LAB_NS_RTR" -6 route add "$LAB_WAN_NET6" via "$LAB_WAN6_IP" || return 1
}

# lab_conntrack_timeouts NS: short conntrack timeouts so a deleted mapping
# stops working quickly
lab_conntrack_timeouts() {
	ip netns exec "$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=5 \
	    net.netfilter.nf_conntrack_udp_timeout_stream=10 \
	    net.netfilter.nf_conntrack_tcp_timeout_time_wait=2 \
	    net.netfilter.nf_conntrack_tcp_timeout_fin_wait=2 \
	    net.netfilter.nf_conntrack_tcp_timeout_close_wait=2 \
	    net.netfilter.nf_conntrack_tcp_timeout_syn_sent=5 \
	    net.netfilter.nf_conntrack_tcp_timeout_established=120 \
	    >/dev/null 2>&1 || lab_log "could not shorten conntrack timeouts"
	return 0
}

# lab_isp_net: the isp namespace (LAB_UPSTREAM): addresses, forwarding, and a
# NAT like the router's (no miniupnpd chains; the same chain names for
# lab_nat_mode).  Its links exist already.
lab_isp_net() {
	local ns=$LAB_NS_ISP
	ip -n "$ns" addr add "$LAB_ISP_LAN_IP/$LAB_RTR_WAN_PREFIX" \
	    dev "$LAB_ISP_LAN_IF" || return 1
	ip -n "$ns" addr add "$LAB_ISP_LAN_ALT_IP/$LAB_RTR_WAN_PREFIX" \
	    dev "$LAB_ISP_LAN_IF" || return 1
	ip -n "$ns" addr add "$LAB_PUBLIC_IP/24" dev "$LAB_ISP_WAN_IF" || return 1
	ip -n "$ns" link set "$LAB_ISP_LAN_IF" up || return 1
	ip -n "$ns" link set "$LAB_ISP_WAN_IF" up || return 1
	lab_isp sysctl -qw net.ipv4.ip_forward=1 >/dev/null || return 1
	lab_nat_box_rules "$ns" "$LAB_ISP_LAN_IF" "$LAB_ISP_WAN_IF" "$LAB_ISP_NET" \
	    reject || { lab_log "isp nft ruleset failed"; return 1; }
	lab_conntrack_timeouts "$ns"
}

# lab_nat_box_rules NS LANIF WANIF NET [reject]: the nftables of a NAT box
# without miniupnpd (the isp, rtr2): forwarding out, in what conntrack knows,
# the masquerade of NET, the chains lab_nat_mode rewrites; with reject, what
# else comes in to be forwarded is refused (TCP reset, ICMP), else dropped.
lab_nat_box_rules() {
	local refuse=
	[ "${5:-}" = reject ] && refuse="iifname \"$3\" meta l4proto tcp reject with tcp reset
		iifname \"$3\" meta l4proto udp reject"
	ip netns exec "$1" nft -f - <<EOF
table inet $LAB_NFT_TABLE {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "$2" oifname "$3" accept
		jump $LAB_NFT_MODE_FWD_CHAIN
		$refuse
	}
	chain $LAB_NFT_MODE_FWD_CHAIN {
	}
}
table inet $LAB_NFT_NAT_TABLE {
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump $LAB_NFT_MASQ_CHAIN
	}
	chain $LAB_NFT_MASQ_CHAIN {
		oifname "$3" ip saddr $4 masquerade
	}
}
EOF
}

lab_host_net() {
	local ns=$1 ip=$2
	ip -n "$ns" addr add "$ip/24" dev "$LAB_HOST_IF" || return 1
	ip -n "$ns" link set "$LAB_HOST_IF" up || return 1
	ip -n "$ns" route add default via "$LAB_RTR_LAN_IP" dev "$LAB_HOST_IF" || return 1
	ip -n "$ns" route add 239.255.255.250/32 dev "$LAB_HOST_IF" || return 1
}

# lab_stun_start: coturn as a STUN-only server (RFC 5780: two addresses, two
# ports; see the header for what it honours).
lab_stun_start() {
	if [ -n "$LAB_TURN_PID" ] && kill -0 "$LAB_TURN_PID" 2>/dev/null; then
		return 0
	fi
	lab_coturn turnserver turndb "$LAB_NS_WAN" "$LAB_STUN_IP" "$LAB_STUN_ALT_IP"
	LAB_TURN_PID=$LAB_BG_PID
	lab_coturn_wait "$LAB_NS_WAN" "$LAB_TURN_PID" turnserver \
	    "$LAB_STUN_IP" "$LAB_STUN_ALT_IP"
}

# lab_turn_start SECRET: coturn as a TURN server on $LAB_RELAY_IP:$LAB_RELAY_PORT
# (UDP and TCP) in the wan namespace, relaying from $LAB_RELAY_IP, taking
# coturn's REST credentials made with SECRET (use-auth-secret) in realm
# $LAB_RELAY_REALM; returns once it listens.  Started again (a new secret)
# if it runs.  Its log: $LAB_DIR/turn-relay.log.  lab_turn_stop, or lab_down,
# stops it.
lab_turn_start() {
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_turn_stop
	lab_wan_addr "$LAB_RELAY_IP" || return 1
	lab_bg turn-relay "$LAB_NS_WAN" turnserver -n \
	    --listening-ip "$LAB_RELAY_IP" --listening-port "$LAB_RELAY_PORT" \
	    --relay-ip "$LAB_RELAY_IP" --min-port 49152 --max-port 49407 \
	    --use-auth-secret --static-auth-secret="$1" \
	    --realm "$LAB_RELAY_REALM" \
	    --no-tls --no-dtls --no-cli --no-multicast-peers --verbose \
	    --pidfile "$LAB_DIR/turn-relay.pid" --userdb "$LAB_DIR/turndb-relay" \
	    --log-file stdout --simple-log
	LAB_RELAY_PID=$LAB_BG_PID
	lab_bg_ready "$LAB_RELAY_PID" turn-relay "coturn (TURN)" lab_turn_ready
}

# lab_bg_ready PID LOGNAME DESC CMD...: wait up to 10 s for CMD to succeed;
# 0 if PID then runs, else the log ($LAB_DIR/LOGNAME.log) shown and 1.
lab_bg_ready() {
	local pid=$1 log=$2 desc=$3
	shift 3
	if ! lab_wait 10 "$@" || ! kill -0 "$pid" 2>/dev/null; then
		lab_log "$desc did not start; log:"
		sed 's/^/#   /' "$LAB_DIR/$log.log" >&2
		return 1
	fi
}

# succeeds when the TURN coturn listens on UDP and TCP, or has died
lab_turn_ready() {
	kill -0 "$LAB_RELAY_PID" 2>/dev/null || return 0
	lab_listening_on "$LAB_NS_WAN" udp "$LAB_RELAY_IP" "$LAB_RELAY_PORT" &&
	    lab_listening_on "$LAB_NS_WAN" tcp "$LAB_RELAY_IP" "$LAB_RELAY_PORT"
}

lab_turn_stop() {
	[ -n "$LAB_RELAY_PID" ] || return 0
	lab_kill "$LAB_RELAY_PID"
	wait "$LAB_RELAY_PID" 2>/dev/null
	LAB_RELAY_PID=
}

# lab_stun6_start: a second coturn, on the WAN's IPv6 addresses (LAB_IPV6).
lab_stun6_start() {
	if [ -n "${LAB_TURN6_PID:-}" ] && kill -0 "$LAB_TURN6_PID" 2>/dev/null; then
		return 0
	fi
	lab_coturn turnserver6 turndb6 "$LAB_NS_WAN" "$LAB_STUN6_IP" "$LAB_STUN6_ALT_IP"
	LAB_TURN6_PID=$LAB_BG_PID
	lab_bg_ready "$LAB_TURN6_PID" turnserver6 "coturn (IPv6)" lab_stun6_ready
}

lab_stun6_ready() {
	kill -0 "$LAB_TURN6_PID" 2>/dev/null || return 0
	ip netns exec "$LAB_NS_WAN" ss -Hnlu6 2>/dev/null |
	    grep -qF "[$LAB_STUN6_IP]:$LAB_STUN_PORT"
}

# lab_isp_stun_start: the isp's inner coturn, for miniupnpd's STUN check
# (see the header); nothing without LAB_UPSTREAM.
lab_isp_stun_start() {
	[ -n "$LAB_ISP_NET" ] || return 0
	if [ -n "$LAB_ISP_TURN_PID" ] && kill -0 "$LAB_ISP_TURN_PID" 2>/dev/null; then
		return 0
	fi
	lab_coturn turnserver-isp turndb-isp "$LAB_NS_ISP" \
	    "$LAB_ISP_LAN_IP" "$LAB_ISP_LAN_ALT_IP"
	LAB_ISP_TURN_PID=$LAB_BG_PID
	lab_coturn_wait "$LAB_NS_ISP" "$LAB_ISP_TURN_PID" turnserver-isp \
	    "$LAB_ISP_LAN_IP" "$LAB_ISP_LAN_ALT_IP"
}

# lab_coturn NAME DB NS IP ALT_IP: start coturn (UDP and TCP) in NS on IP and ALT_IP, ports
# $LAB_STUN_PORT and $LAB_STUN_ALT_PORT; log $LAB_DIR/NAME.log.
lab_coturn() {
	lab_bg "$1" "$3" turnserver -n --stun-only \
	    --listening-ip "$4" --listening-ip "$5" \
	    --listening-port "$LAB_STUN_PORT" --alt-listening-port "$LAB_STUN_ALT_PORT" \
	    --relay-ip "$4" \
	    --no-tls --no-dtls --no-cli --no-auth \
	    --pidfile "$LAB_DIR/$1.pid" --userdb "$LAB_DIR/$2" \
	    --log-file stdout --simple-log
}

# lab_coturn_wait NS PID NAME IP ALT_IP
lab_coturn_wait() {
	if ! lab_wait 10 lab_coturn_ready "$1" "$2" "$4" "$5" ||
	    ! kill -0 "$2" 2>/dev/null; then
		lab_log "coturn ($3) did not start; log:"
		sed 's/^/#   /' "$LAB_DIR/$3.log" >&2
		return 1
	fi
}

# succeeds when coturn listens on its 4 address:port pairs, or has died
lab_stun_ready() {
	lab_coturn_ready "$LAB_NS_WAN" "$LAB_TURN_PID" "$LAB_STUN_IP" "$LAB_STUN_ALT_IP"
}
lab_coturn_ready() {	# NS PID IP ALT_IP
	kill -0 "$2" 2>/dev/null || return 0
	local s
	s=$(ip netns exec "$1" ss -Hnlu 2>/dev/null) || return 1
	case $s in *"$3:$LAB_STUN_PORT"*) ;; *) return 1 ;; esac
	case $s in *"$4:$LAB_STUN_ALT_PORT"*) ;; *) return 1 ;; esac
	case $s in *"$3:$LAB_STUN_ALT_PORT"*) ;; *) return 1 ;; esac
	case $s in *"$4:$LAB_STUN_PORT"*) ;; *) return 1 ;; esac
}

# lab_miniupnpd_conf [extra lines...]: write $LAB_DIR/miniupnpd.conf.  An extra
# "key=value" line replaces the default for that key; extra allow/deny lines
# replace the default permission rules.  miniupnpd learns its address by STUN
# from coturn at $LAB_STUN_IP, or with an isp from the isp's inner coturn
# (see the header: that is what makes 2.3.1 map on a private/shared address).
lab_miniupnpd_conf() {
	local conf="$LAB_DIR/miniupnpd.conf" line key keys=" " perms=0
	for line in "$@"; do
		case $line in
		allow\ *|deny\ *) perms=1 ;;
		*=*) key=${line%%=*}; keys="$keys${key// /} " ;;
		esac
	done
	{
		echo "# generated by tests/lab/lab.sh"
		while IFS= read -r line; do
			key=${line%%=*}
			case $keys in *" $key "*) continue ;; esac
			echo "$line"
		done <<EOF
ext_ifname=$LAB_RTR_WAN_IF
listening_ip=$LAB_RTR_LAN_IF
http_port=$LAB_HTTP_PORT
ext_perform_stun=yes
ext_stun_host=${LAB_ISP_LAN_IP:-$LAB_STUN_IP}
ext_stun_port=$LAB_STUN_PORT
enable_upnp=yes
enable_natpmp=yes
secure_mode=yes
ipv6_disable=yes
system_uptime=no
notify_interval=60
clean_ruleset_interval=0
min_lifetime=60
max_lifetime=86400
lease_file=$LAB_DIR/miniupnpd.leases
uuid=4e617461-6d61-7064-2d6c-616200000001
friendly_name=natmapd lab router
serial=12345678
model_number=1
upnp_table_name=$LAB_NFT_TABLE
upnp_nat_table_name=$LAB_NFT_NAT_TABLE
upnp_forward_chain=$LAB_NFT_FWD_CHAIN
upnp_nat_chain=$LAB_NFT_NAT_CHAIN
upnp_nat_postrouting_chain=$LAB_NFT_POST_CHAIN
EOF
		for line in "$@"; do
			echo "$line"
		done
		if [ "$perms" = 0 ]; then
			echo "allow 1-65535 $LAB_LAN_NET 1-65535"
			echo "deny 0-65535 0.0.0.0/0 0-65535"
		fi
	} >"$conf"
}

# lab_http_get HOSTNS URLPATH: raw HTTP/1.0 GET to the router from namespace
# HOSTNS (lan by default), response on stdout.  3 s bound.
lab_http_get() {
	local ns
	ns=$(lab_ns_of "${1:-lan}") || return 1
	ip netns exec "$ns" timeout 3 bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$2" "$0" "$1" >&3
		cat <&3' "$LAB_RTR_LAN_IP" "$LAB_HTTP_PORT" "${2:-/rootDesc.xml}"
}

# succeeds when miniupnpd serves rootDesc.xml, or has died (checked after)
lab_miniupnpd_ready() {
	kill -0 "$LAB_MINIUPNPD_PID" 2>/dev/null || return 0
	lab_http_get lan /rootDesc.xml 2>/dev/null | head -n1 | grep -q ' 200 '
}

# lab_router_start [extra miniupnpd.conf lines...]: start coturn (if not
# running; with an isp its inner one too) and miniupnpd; wait until miniupnpd
# serves its description.
lab_router_start() {
	local ready=lab_miniupnpd_ready
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	if [ -n "$LAB_MINIUPNPD_PID" ] && kill -0 "$LAB_MINIUPNPD_PID" 2>/dev/null; then
		lab_log "miniupnpd already running"
		return 1
	fi
	lab_stun_start || return 1
	lab_isp_stun_start || return 1
	if [ -n "${LAB_IPV6:-}" ]; then
		# PCP over IPv6 too: MAP for a LAN address opens a pinhole
		lab_miniupnpd_conf ipv6_disable=no \
		    "ext_ifname6=$LAB_RTR_WAN_IF" "$@"
	else
		lab_miniupnpd_conf "$@"
	fi
	grep -q '^enable_upnp=no' "$LAB_DIR/miniupnpd.conf" && ready=lab_pmp_ready
	rm -f "$LAB_DIR/miniupnpd.pid"
	lab_bg miniupnpd "$LAB_NS_RTR" miniupnpd -d -f "$LAB_DIR/miniupnpd.conf" \
	    -P "$LAB_DIR/miniupnpd.pid"
	LAB_MINIUPNPD_PID=$LAB_BG_PID
	if ! lab_wait 15 "$ready"; then
		lab_log "miniupnpd did not answer within 15 s; log:"
	elif ! kill -0 "$LAB_MINIUPNPD_PID" 2>/dev/null; then
		lab_log "miniupnpd exited; log:"
	elif grep -q 'Port forwarding is now disabled' "$LAB_DIR/miniupnpd.log"; then
		lab_log "miniupnpd disabled port forwarding (STUN); log:"
	else
		return 0
	fi
	sed 's/^/#   /' "$LAB_DIR/miniupnpd.log" >&2
	return 1
}

# succeeds when miniupnpd listens for NAT-PMP/PCP (UDP 5351), or has died
lab_pmp_ready() {
	kill -0 "$LAB_MINIUPNPD_PID" 2>/dev/null || return 0
	lab_listening "$LAB_NS_RTR" udp 5351
}

# lab_ns_pids [NS...]: pids of the processes in the lab namespaces
lab_ns_pids() {
	local ns
	# shellcheck disable=SC2046
	[ $# -gt 0 ] || set -- $(lab_all_ns)
	for ns in "$@"; do
		lab_ns_exists "$ns" && ip netns pids "$ns" 2>/dev/null
	done | tr '\n' ' '
}

# lab_ours NS PID: PID runs in namespace NS
lab_ours() {
	case " $(lab_ns_pids "$1") " in *" $2 "*) return 0 ;; esac
	return 1
}

# lab_router_stop: stop miniupnpd (SIGTERM), leave the nftables rules alone
# (miniupnpd 2.3.1 does not delete them on exit; the lease file stays too, so
# the next lab_router_start reloads the mappings from it).
lab_router_stop() {
	[ -n "$LAB_MINIUPNPD_PID" ] || return 0
	lab_ours "$LAB_NS_RTR" "$LAB_MINIUPNPD_PID" && lab_kill "$LAB_MINIUPNPD_PID"
	wait "$LAB_MINIUPNPD_PID" 2>/dev/null
	LAB_MINIUPNPD_PID=
	return 0
}

# lab_down: kill everything started in the lab, delete the namespaces and
# LAB_DIR.  Idempotent; fine on a half-built lab.
# Processes are found by namespace (ip netns pids), never by name: all we
# started runs inside our namespaces, and so does e.g. a daemon a test
# started with "lab_lan natmapd ... &".  A recorded pid that is no longer in
# a lab namespace (it exited, the number may be reused) is left alone.
lab_down() {
	local pids=() p ns
	read -r -a pids <<<"$(lab_ns_pids)"
	if [ "${#pids[@]}" -gt 0 ]; then
		lab_kill "${pids[@]}"
		for p in "${LAB_PIDS[@]}"; do
			wait "$p" 2>/dev/null
		done
	fi
	LAB_PIDS=()
	LAB_MINIUPNPD_PID=
	LAB_TURN_PID=
	LAB_TURN6_PID=
	LAB_ISP_TURN_PID=
	LAB_RELAY_PID=
	LAB_ECHO_PID=
	LAB_LIAR_PID=
	LAB_DELAY_PID=
	LAB_NAT_MODE=default
	LAB_ISP_NAT_MODE=default
	LAB_RTR2_NAT_MODE=default
	for ns in $(lab_all_ns); do
		lab_ns_exists "$ns" && ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		if [ -n "${LAB_KEEP:-}" ]; then
			lab_log "keeping $LAB_DIR"
		else
			rm -rf "$LAB_DIR"
		fi
	fi
	LAB_DIR=
	return 0
}

# lab_rules: the router's port forwards (the DNAT rules miniupnpd put in its
# nat chain), one per line:
#   tcp dport 8080 dnat to 192.168.77.10:8080
#   udp dport 9000 dnat to 192.168.77.10:9000 from 203.0.113.100
# ("from" only when the mapping is limited to one remote host).  miniupnpd
# 2.3.1 writes raw payload matches (@nh,72,8 0x6 = tcp, @nh,96,32 = saddr);
# the descriptions are not visible in nft (upnpc -l shows them).
# When the chain cannot be listed, nft's error goes to stderr, nothing to
# stdout, the status is 1, and $LAB_DIR/lab_rules.failed records it (a
# caller that only reads the output, "$(lab_rules | grep ...)" in a
# subshell, cannot see the status: lab_rules_failed can, afterwards).
lab_rules() {
	local out
	if ! out=$(lab_rtr nft list chain inet "$LAB_NFT_NAT_TABLE" \
	    "$LAB_NFT_NAT_CHAIN" 2>&1); then
		lab_log "lab_rules: nft list chain inet $LAB_NFT_NAT_TABLE $LAB_NFT_NAT_CHAIN failed:"
		printf '%s\n' "$out" | sed 's/^/#   /' >&2
		# one line a failure: its first line of error
		[ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ] &&
		    printf '%s\n' "${out%%$'\n'*}" >>"$LAB_DIR/lab_rules.failed"
		return 1
	fi
	printf '%s\n' "$out" | awk '
	function num(h,   n, i, c) {	# "0x11" or "17" (mawk has no strtonum)
		if (h !~ /^0x/)
			return h + 0
		n = 0
		for (i = 3; i <= length(h); i++) {
			c = index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
			n = n * 16 + c
		}
		return n
	}
	function hexip(h,   n) {
		n = num(h)
		return sprintf("%d.%d.%d.%d", int(n / 16777216) % 256,
		    int(n / 65536) % 256, int(n / 256) % 256, n % 256)
	}
	/dnat/ {
		proto = ""; dport = ""; to = ""; from = ""
		for (i = 1; i <= NF; i++) {
			if ($i == "@nh,72,8")
				proto = (num($(i + 1)) == 6) ? "tcp" : \
				    (num($(i + 1)) == 17) ? "udp" : $(i + 1)
			else if ($i == "@nh,96,32")
				from = hexip($(i + 1))
			else if ($i == "saddr")
				from = $(i + 1)
			else if (($i == "l4proto" || $i == "protocol") &&
			    ($(i + 1) == "tcp" || $(i + 1) == "udp"))
				proto = $(i + 1)
			else if ($i == "dport") {
				dport = $(i + 1)
				if ($(i - 1) == "tcp" || $(i - 1) == "udp")
					proto = $(i - 1)
			} else if ($i == "to")
				to = $(i + 1)
		}
		line = proto " dport " dport " dnat to " to
		if (from != "")
			line = line " from " from
		print line
	}'
}

# lab_rules_failed: succeeds (and says so) if a lab_rules since lab_init
# could not list the chain.
lab_rules_failed() {
	[ -n "$LAB_DIR" ] && [ -s "$LAB_DIR/lab_rules.failed" ] || return 1
	lab_log "the router's nat chain could not be listed $(grep -c . \
	    "$LAB_DIR/lab_rules.failed") time(s): every rule check after is void"
}

# lab_serve_tcp PORT [HOST] / lab_serve_udp PORT [HOST]: a service in HOST
# (lan by default; lan2, wan or rtr work too) that answers one line
#   natmapd-lab HOST PROTO PORT from PEERADDR
# e.g. "natmapd-lab lan tcp 8080 from 203.0.113.100" (UDP: one line per datagram).
lab_serve_tcp() { lab_serve tcp "$1" "${2:-lan}"; }
lab_serve_udp() { lab_serve udp "$1" "${2:-lan}"; }

lab_serve() {
	local proto=$1 port=$2 host=$3 ns addr
	ns=$(lab_ns_of "$host") || return 1
	# socat sets SOCAT_PEERADDR in the child: the answer tells who asked
	local answer="natmapd-lab $host $proto $port from \$SOCAT_PEERADDR"
	case $proto in
	tcp) addr="TCP4-LISTEN:$port,reuseaddr,fork" ;;
	udp) addr="UDP4-RECVFROM:$port,reuseaddr,fork" ;;
	tcp6) addr="TCP6-LISTEN:$port,reuseaddr,fork,ipv6only=1" ;;
	udp6) addr="UDP6-RECVFROM:$port,reuseaddr,fork,ipv6only=1" ;;
	esac
	lab_bg "serve-$host-$proto-$port" "$ns" socat "$addr" \
	    "SYSTEM:echo $answer"
	if ! lab_wait 5 lab_listening "$ns" "$proto" "$port"; then
		lab_log "socat $proto $port in $host did not start"
		return 1
	fi
}

lab_listening() {
	local flag=-Hnlt
	case $2 in udp*) flag=-Hnlu ;; esac
	case $2 in *6) flag=${flag}6 ;; esac
	ip netns exec "$1" ss $flag "sport = :$3" 2>/dev/null | grep -q .
}

# lab_serve_tcp6 / lab_serve_udp6 PORT [HOST]: the same over IPv6 (LAB_IPV6).
lab_serve_tcp6() { lab_serve tcp6 "$1" "${2:-lan}"; }
lab_serve_udp6() { lab_serve udp6 "$1" "${2:-lan}"; }

# lab_reach_tcp6 ADDR6 PORT [FROM]: lab_reach_tcp over IPv6.
lab_reach_tcp6() {
	local ns out
	ns=$(lab_ns_of "${3:-wan}") || return 1
	out=$(ip netns exec "$ns" timeout 3 socat -T 2 -u \
	    "TCP6:[$1]:$2,connect-timeout=2" - 2>/dev/null)
	[ -n "$out" ] && echo "$out"
	case $out in natmapd-lab\ *) return 0 ;; esac
	return 1
}

# lab_reach_tcp ADDR PORT [FROM] / lab_reach_udp ADDR PORT [FROM]: connect
# from the WAN client (or namespace FROM: lan, lan2, wan); print the answer;
# return 0 if a lab service answered (3 s bound).
lab_reach_tcp() {
	local ns out
	ns=$(lab_ns_of "${3:-wan}") || return 1
	out=$(ip netns exec "$ns" timeout 3 socat -T 2 -u \
	    "TCP4:$1:$2,connect-timeout=2" - 2>/dev/null)
	[ -n "$out" ] && echo "$out"
	case $out in natmapd-lab\ *) return 0 ;; esac
	return 1
}

lab_reach_udp() {
	local ns out
	ns=$(lab_ns_of "${3:-wan}") || return 1
	# a connected UDP socket (bash /dev/udp), a datagram every ~300 ms;
	# dd does one read(2) so it gets the whole datagram (bash read would not)
	out=$(ip netns exec "$ns" timeout 4 bash -c '
		exec 3<>"/dev/udp/$0/$1" || exit 1
		for i in 1 2 3 4 5 6 7 8 9 10; do
			echo ping >&3 2>/dev/null
			line=$(timeout 0.25 dd bs=2048 count=1 <&3 2>/dev/null)
			if [ -n "$line" ]; then
				echo "$line"
				exit 0
			fi
			sleep 0.05
		done
		exit 1' "$1" "$2" 2>/dev/null)
	[ -n "$out" ] && echo "$out"
	case $out in natmapd-lab\ *) return 0 ;; esac
	return 1
}

# lab_rules_flush: empty the chains miniupnpd fills (a router that lost its
# mappings); remove $LAB_DIR/miniupnpd.leases too if miniupnpd is restarted.
lab_rules_flush() {
	local c
	for c in "$LAB_NFT_NAT_TABLE $LAB_NFT_NAT_CHAIN" \
	    "$LAB_NFT_NAT_TABLE $LAB_NFT_POST_CHAIN" \
	    "$LAB_NFT_TABLE $LAB_NFT_FWD_CHAIN"; do
		# shellcheck disable=SC2086
		lab_rtr nft flush chain inet $c || return 1
	done
}

# lab_flush_conntrack: forget every connection the router tracks.
lab_flush_conntrack() { lab_rtr conntrack -F >/dev/null 2>&1; return 0; }

# ---- NAT behaviour, upstream NAT, echo service, bad STUN server ----

# lab_nat_mode MODE [rtr|isp|rtr2]: set the NAT behaviour of the router
# (default), of the isp namespace (LAB_UPSTREAM) or of site 2's router
# (LAB_SITES=2) toward its one inside host: the LAN host 192.168.77.10 for
# the router, the router's WAN address for the isp, $LAB_SITE2_IP for rtr2.
# MODE is default, random, eif, adf, cone, restricted, rst or drop (see the
# header).  Sets LAB_NAT_MODE, LAB_ISP_NAT_MODE or LAB_RTR2_NAT_MODE.  miniupnpd's chains are not touched
# and keep precedence: their DNAT runs at prerouting priority -100, ours at
# -90, and nftables NAT uses the first binding made.  The namespace's UDP
# conntrack entries are deleted, so no UDP binding made under the previous
# mode outlives the switch (TCP connections live on: a NATed one would break
# without its entry); the filter sets start empty.
#
# The filtering modes are built on the default masquerade, which keeps the
# source port while it is free: the internal endpoint H:x is mapped to W:x
# (W the NAT's outside address) for every destination (endpoint-independent
# mapping).  What a cone NAT adds is the filter: once H:x has sent anything
# out, anyone (eif, cone), or any port of an address H:x sent to (adf,
# restricted), may send to W:x and reach H:x.  In the table
# $LAB_NFT_MODE_TABLE, per protocol P (udp; and tcp for cone, restricted):
#   - each P packet H sends out (forwarded, so not to the NAT itself) puts its
#     source port x in the set open_P (adf: the pair destination address . x);
#     an entry lives a while after the last packet out: the mapping's
#     lifetime, for UDP $LAB_NAT_TIMEOUT s (lab_nat_udp_timeout changes it),
#     for TCP $LAB_NAT_TCP_TIMEOUT s (the lab's conntrack timeout of an
#     established connection);
#   - the first packet of a new inbound P flow to W:x (a TCP SYN, or any
#     packet conntrack picks up), x in the set (adf: from that address), is
#     DNATed to H:x (the same port, as the mapping is W:x <-> H:x) and gets
#     conntrack mark $LAB_NAT_CTMARK, which the forward chain accepts before
#     its rejects.  A TCP connection then needs a listener on H:x: the one
#     connection out and the listener share x by SO_REUSEADDR/SO_REUSEPORT.
# The reply direction of that new flow is H:x -> remote, translated back to
# W:x: from the outside it is indistinguishable from a cone NAT for H (only
# for ports H has used, so unsolicited packets to other ports, e.g. the
# answers to miniupnpd's own STUN check on the router's random ports, are not
# stolen).  The ports miniupnpd serves are never redirected: UDP 1900
# (SSDP), 5351 (PCP, NAT-PMP), TCP $LAB_HTTP_PORT (HTTP).  It listens on the
# LAN side only (ss: 1900 and $LAB_HTTP_PORT bound to the bridge, 5351 and a
# random UDP port to 192.168.77.1), so no inbound packet for the WAN address
# is meant for it; the exclusion only keeps a LAN host from ever being handed
# those ports.  eif and adf leave TCP to conntrack (a home router's usual
# full cone: UDP only).
# Not modelled: another LAN host using the same port (the masquerade then
# still keeps x toward other destinations, and the DNAT would still name H).
#
# rst is the default masquerade whose NAT answers every unsolicited inbound
# TCP SYN with a reset: to its WAN address (chain refuse_in, input hook) and,
# over IPv6, to an inside host (chain refuse_fwd, forward hook), both at
# priority -10, in the filter, so that the refused SYN leaves no conntrack
# entry.  A TCP simultaneous open through it sees its first SYN, if it
# arrives before the inside host's own SYN went out, answered by a reset.
# On the router (and the isp) without LAB_SITES=2 the kernel already
# answers so, with no input filter (lab_wan_input_filter); rtr2's own
# answer is silence.
# drop is the same with silence for the SYN to the WAN address (chain
# refuse_in at priority -10, before lab_wan_input_filter's reset).
lab_nat_mode() {
	local mode=$1 where=${2:-rtr} ns host wanip net lanif wanif
	local masq filter="" protos="" p settype key match secs syn
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_nat_where "$where" || return 1
	masq="oifname \"$wanif\" ip saddr $net masquerade"
	case $mode in
	default) ;;
	random)	masq="$masq fully-random" ;;
	eif)	filter=eif protos=udp ;;
	adf)	filter=adf protos=udp ;;
	cone)	filter=eif protos="udp tcp" ;;
	restricted) filter=adf protos="udp tcp" ;;
	rst|drop) filter=$mode ;;
	*)	lab_log "lab_nat_mode: default, random, eif, adf, cone, restricted, rst or drop, not '$mode'"
		return 1 ;;
	esac
	{
		# one transaction: the old mode's rules go, the new ones come
		echo "flush chain inet $LAB_NFT_TABLE $LAB_NFT_MODE_FWD_CHAIN"
		echo "flush chain inet $LAB_NFT_NAT_TABLE $LAB_NFT_MASQ_CHAIN"
		echo "add rule inet $LAB_NFT_NAT_TABLE $LAB_NFT_MASQ_CHAIN $masq"
		echo "table inet $LAB_NFT_MODE_TABLE { }"
		echo "delete table inet $LAB_NFT_MODE_TABLE"
		if [ "$filter" = drop ]; then
			syn="tcp flags & (fin|syn|rst|ack) == syn ct state new"
			echo "table inet $LAB_NFT_MODE_TABLE {"
			echo "	chain refuse_in {"
			echo "		type filter hook input priority -10; policy accept;"
			echo "		iifname \"$wanif\" ip daddr $wanip $syn drop"
			echo "	}"
			echo "}"
		elif [ "$filter" = rst ]; then
			syn="tcp flags & (fin|syn|rst|ack) == syn ct state new"
			echo "table inet $LAB_NFT_MODE_TABLE {"
			echo "	chain refuse_in {"
			echo "		type filter hook input priority -10; policy accept;"
			echo "		iifname \"$wanif\" ip daddr $wanip $syn reject with tcp reset"
			echo "	}"
			echo "	chain refuse_fwd {"
			echo "		type filter hook forward priority -10; policy accept;"
			echo "		iifname \"$wanif\" meta nfproto ipv6 $syn reject with tcp reset"
			echo "	}"
			echo "}"
		elif [ -n "$filter" ]; then
			echo "add rule inet $LAB_NFT_TABLE $LAB_NFT_MODE_FWD_CHAIN" \
			    "ct mark $LAB_NAT_CTMARK accept"
			echo "table inet $LAB_NFT_MODE_TABLE {"
			for p in $protos; do
				settype=inet_service
				[ "$filter" = adf ] && settype="ipv4_addr . inet_service"
				secs=$LAB_NAT_TCP_TIMEOUT
				[ "$p" = udp ] && secs=$(lab_nat_udp_secs "$where")
				echo "	set open_$p { type $settype; flags dynamic,timeout; timeout ${secs}s; }"
			done
			echo "	chain track {"
			echo "		type filter hook forward priority -10; policy accept;"
			for p in $protos; do
				key="$p sport"
				[ "$filter" = adf ] && key="ip daddr . $p sport"
				echo "		iifname \"$lanif\" oifname \"$wanif\" ip saddr $host" \
				    "$p sport != { $(lab_nat_own_ports "$p") } update @open_$p { $key }"
			done
			echo "	}"
			echo "	chain inbound {"
			echo "		type nat hook prerouting priority -90; policy accept;"
			for p in $protos; do
				match="$p dport"
				[ "$filter" = adf ] && match="ip saddr . $p dport"
				echo "		iifname \"$wanif\" ip daddr $wanip" \
				    "$p dport != { $(lab_nat_own_ports "$p") } $match @open_$p" \
				    "ct mark set $LAB_NAT_CTMARK dnat ip to $host"
			done
			echo "	}"
			echo "}"
		fi
	} | ip netns exec "$ns" nft -f - || { lab_log "lab_nat_mode $mode failed"; return 1; }
	ip netns exec "$ns" conntrack -D -p udp >/dev/null 2>&1
	case $where in
	isp) LAB_ISP_NAT_MODE=$mode ;;
	rtr2) LAB_RTR2_NAT_MODE=$mode ;;
	*) LAB_NAT_MODE=$mode ;;
	esac
	return 0
}

# lab_nat_where rtr|isp|rtr2: set ns, host, wanip, net, lanif and wanif
# (locals of the caller) for the router's NAT, the isp's or site 2's.
lab_nat_where() {
	case $1 in
	rtr)	ns=$LAB_NS_RTR host=$LAB_LAN_IP wanip=$LAB_RTR_WAN_IP
		net=$LAB_LAN_NET lanif=$LAB_RTR_LAN_IF wanif=$LAB_RTR_WAN_IF ;;
	isp)	if [ -z "$LAB_ISP_NET" ]; then
			lab_log "lab_nat_mode: no isp (LAB_UPSTREAM=private or shared)"
			return 1
		fi
		ns=$LAB_NS_ISP host=$LAB_RTR_WAN_IP wanip=$LAB_PUBLIC_IP
		net=$LAB_ISP_NET lanif=$LAB_ISP_LAN_IF wanif=$LAB_ISP_WAN_IF ;;
	rtr2)	if ! lab_ns_exists "$LAB_NS_RTR2"; then
			lab_log "lab_nat_mode: no rtr2 (LAB_SITES=2)"
			return 1
		fi
		ns=$LAB_NS_RTR2 host=$LAB_SITE2_IP wanip=$LAB_RTR2_WAN_IP
		net=$LAB_SITE2_NET lanif=$LAB_RTR_LAN_IF wanif=$LAB_RTR_WAN_IF ;;
	*)	lab_log "lab_nat_mode: rtr, isp or rtr2, not '$1'"; return 1 ;;
	esac
}

# lab_nat_own_ports udp|tcp: the ports the NAT serves itself, never redirected
lab_nat_own_ports() {
	case $1 in
	udp) echo "1900, 5351" ;;
	tcp) echo "$LAB_HTTP_PORT" ;;
	esac
}

# lab_nat_udp_secs rtr|isp: the lifetime of a UDP filter entry there
lab_nat_udp_secs() {
	local f="$LAB_DIR/nat-udp-timeout.$1"
	if [ -s "$f" ]; then cat "$f"; else echo "$LAB_NAT_TIMEOUT"; fi
}

# lab_nat_udp_timeout SECONDS|default [rtr|isp|rtr2]: a NAT (the router's,
# the isp's or rtr2's) whose UDP bindings die SECONDS (1-600) after their last packet:
# conntrack's UDP timeouts there (unreplied and stream both, so every UDP
# flow lives SECONDS after its last packet, either way) and the lifetime of
# a UDP filter entry (refreshed by packets out only) of the filtering modes.
# "default" goes back to the lab's (lab_conntrack_timeouts; $LAB_NAT_TIMEOUT
# for the filter).  The current mode is set again (lab_nat_mode: the UDP
# conntrack entries go, the filter sets start empty).  Until lab_init.
lab_nat_udp_timeout() {
	local secs=$1 where=${2:-rtr} ns host wanip net lanif wanif mode
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_nat_where "$where" || return 1
	case $secs in
	default)
		rm -f "$LAB_DIR/nat-udp-timeout.$where"
		lab_conntrack_timeouts "$ns" ;;
	[1-9]|[1-9][0-9]|[1-5][0-9][0-9]|600)
		ip netns exec "$ns" sysctl -qw \
		    net.netfilter.nf_conntrack_udp_timeout="$secs" \
		    net.netfilter.nf_conntrack_udp_timeout_stream="$secs" \
		    >/dev/null || { lab_log "lab_nat_udp_timeout: sysctl failed"; return 1; }
		echo "$secs" >"$LAB_DIR/nat-udp-timeout.$where" || return 1 ;;
	*)	lab_log "lab_nat_udp_timeout: 1-600 or default, not '$secs'"
		return 1 ;;
	esac
	mode=$LAB_NAT_MODE
	[ "$where" = isp ] && mode=$LAB_ISP_NAT_MODE
	[ "$where" = rtr2 ] && mode=$LAB_RTR2_NAT_MODE
	lab_nat_mode "$mode" "$where"
}

# lab_wan_delay MS|off: (LAB_SITES=2) the packets the wan namespace forwards
# from one site's router to the other's (IPv4) go through the TUN device
# dly0, where tests/lab/delay.py holds each MS ms: policy routing (rules
# "iif eth0 to rtr2's WAN address" and "iif eth1 to the router's WAN
# address" to table 77, whose default route is dly0); what comes out of dly0
# is routed by the main table.  The wan namespace's own traffic takes no
# delay.  off (or MS 0) removes all that.  Called again, it replaces it.
lab_wan_delay() {
	local ms=$1 a=$LAB_PUBLIC_IP b=$LAB_RTR2_WAN_IP
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_ns_exists "$LAB_NS_RTR2" || { lab_log "lab_wan_delay: LAB_SITES=2"; return 1; }
	lab_wan ip rule del pref 770 2>/dev/null
	lab_wan ip rule del pref 771 2>/dev/null
	if [ -n "${LAB_DELAY_PID:-}" ]; then
		lab_ours "$LAB_NS_WAN" "$LAB_DELAY_PID" && lab_kill "$LAB_DELAY_PID"
		LAB_DELAY_PID=
	fi
	case $ms in
	off|0)	return 0 ;;
	[1-9]|[1-9][0-9]|[1-9][0-9][0-9]|1000) ;;
	*)	lab_log "lab_wan_delay: 0-1000 or off, not '$ms'"; return 1 ;;
	esac
	lab_bg delay "$LAB_NS_WAN" python3 "$LAB_HERE/delay.py" dly0 "$ms"
	LAB_DELAY_PID=$LAB_BG_PID
	lab_bg_listening delay || return 1
	lab_wan sysctl -qw net.ipv4.conf.all.rp_filter=0 \
	    net.ipv4.conf.dly0.rp_filter=0 >/dev/null || return 1
	lab_wan ip link set dly0 up || return 1
	lab_wan ip route replace default dev dly0 table 77 || return 1
	lab_wan ip rule add pref 770 iif "$LAB_HOST_IF" to "$b/32" lookup 77 || return 1
	lab_wan ip rule add pref 771 iif "$LAB_WAN_RTR2_IF" to "$a/32" lookup 77 || return 1
}

# lab_nat_flush [rtr|isp|rtr2]: the NAT loses every binding, as a router that
# rebooted or dropped its state: the filter sets of the mode are emptied and
# conntrack is flushed (lab_flush_conntrack, for the router, leaves the sets).
# Inbound traffic then gets in only once the inside host sent again (a TCP
# connection it keeps is picked up by conntrack from its next packet).
lab_nat_flush() {
	local where=${1:-rtr} ns host wanip net lanif wanif p
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_nat_where "$where" || return 1
	for p in udp tcp; do
		ip netns exec "$ns" nft list set inet "$LAB_NFT_MODE_TABLE" \
		    "open_$p" >/dev/null 2>&1 || continue
		ip netns exec "$ns" nft flush set inet "$LAB_NFT_MODE_TABLE" \
		    "open_$p" || { lab_log "lab_nat_flush: open_$p"; return 1; }
	done
	ip netns exec "$ns" conntrack -F >/dev/null 2>&1
	return 0
}

# lab_nat_block_udp on|off [rtr|isp|rtr2]: (on) that NAT forwards no UDP at
# all, either way, IPv4 and IPv6 (a site whose firewall lets only TCP out);
# the table lab_block, apart from the mode, dropping at forward priority -20.
# Its UDP conntrack entries go.  (off) the table goes.  Until lab_init.
lab_nat_block_udp() {
	local how=$1 where=${2:-rtr} ns host wanip net lanif wanif
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_nat_where "$where" || return 1
	case $how in
	on)	ip netns exec "$ns" nft -f - <<EOF || return 1
table inet lab_block { }
delete table inet lab_block
table inet lab_block {
	chain forward {
		type filter hook forward priority -20; policy accept;
		meta l4proto udp drop
	}
}
EOF
		ip netns exec "$ns" conntrack -D -p udp >/dev/null 2>&1 ;;
	off)	ip netns exec "$ns" nft -f - <<EOF || return 1
table inet lab_block { }
delete table inet lab_block
EOF
		;;
	*)	lab_log "lab_nat_block_udp: on or off, not '$how'"; return 1 ;;
	esac
	return 0
}

# Three parties of a binding (tests/lab/nat-peer.py; see its usage):
# lab_nat_peer_start: the peer A, $LAB_WAN_IP:$LAB_NAT_PEER_PORT (UDP and
#   TCP) in the wan namespace, answering "seen ADDR:PORT"; also puts the
#   stranger's address $LAB_WAN2_IP on the wan namespace and lifts the ICMP
#   rate limit of the router (and isp).  Once per lab.
# lab_nat_hold NAME udp|tcp PORT [-e SECONDS] [-q]: the LAN host holds a
#   binding from PORT to A (log $LAB_DIR/NAME.log; LAB_BG_PID is its pid:
#   kill -USR1 makes it send again); returns once it sent its first hello.
# lab_nat_knock udp|tcp PORT TOKEN [FROM_IP [SECONDS]]: from the wan
#   namespace (FROM_IP: $LAB_WAN2_IP by default), a knock on
#   $LAB_PUBLIC_IP:PORT from a fresh port; prints what nat-peer.py knock
#   says; 0 when the LAN host answered.
#   lab_nat_hold_in HOST NAME ... and lab_nat_knock_at ADDR PROTO PORT ...:
#   the same from another LAN host (site2) and on another address
#   ($LAB_RTR2_WAN_IP).
# lab_traffic_serve HOST tcp|udp PORT [ADDR]: an echo (tests/lab/traffic.py)
#   in HOST; lab_traffic_check HOST tcp|udp ADDR PORT [-n N] [-t SECONDS]:
#   N bytes (TCP) or datagrams (UDP) through it come back exactly as sent.
# lab_punch_start NAME HOST PORT PEER_ADDR PEER_PORT [-t SECONDS]: one side
#   of a manual UDP hole punch (traffic.py punch); start the other side at
#   once; lab_punch_wait PID: 0 when both directions passed.
lab_nat_peer_start() {
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	if [ -n "${LAB_NAT_PEER_PID:-}" ] && lab_ours "$LAB_NS_WAN" "$LAB_NAT_PEER_PID"; then
		return 0
	fi
	lab_wan_addr "$LAB_WAN2_IP" || return 1
	# every refused knock told at once: no ICMP rate limit on the NATs
	# (a burst of 6 per destination, then one a second, by default)
	lab_rtr sysctl -qw net.ipv4.icmp_ratelimit=0 >/dev/null || return 1
	if [ -n "$LAB_ISP_NET" ]; then
		lab_isp sysctl -qw net.ipv4.icmp_ratelimit=0 >/dev/null || return 1
	fi
	if lab_ns_exists "$LAB_NS_RTR2"; then
		lab_rtr2 sysctl -qw net.ipv4.icmp_ratelimit=0 >/dev/null || return 1
	fi
	lab_bg nat-peer "$LAB_NS_WAN" python3 "$LAB_HERE/nat-peer.py" peer \
	    "$LAB_WAN_IP" "$LAB_NAT_PEER_PORT"
	LAB_NAT_PEER_PID=$LAB_BG_PID
	lab_bg_listening nat-peer
}

lab_nat_hold() { lab_nat_hold_in lan "$@"; }

# lab_nat_hold_in HOST NAME udp|tcp PORT [...]: lab_nat_hold from the
# namespace HOST (lan, lan2, site2).
lab_nat_hold_in() {
	local ns name=$2
	ns=$(lab_ns_of "$1") || return 1
	shift 2
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_bg "$name" "$ns" python3 "$LAB_HERE/nat-peer.py" host \
	    "$1" "$2" "$LAB_WAN_IP" "$LAB_NAT_PEER_PORT" "${@:3}"
	lab_bg_listening "$name"
}

lab_nat_knock() { lab_nat_knock_at "$LAB_PUBLIC_IP" "$@"; }

# lab_nat_knock_at ADDR udp|tcp PORT TOKEN [FROM_IP [SECONDS]]: lab_nat_knock
# on ADDR:PORT (e.g. $LAB_RTR2_WAN_IP); its status is nat-peer.py knock's:
# 0 answered, 1 refused (reset, ICMP), 2 no answer, 3 closed.
lab_nat_knock_at() {
	lab_wan timeout 10 python3 "$LAB_HERE/nat-peer.py" knock "$2" \
	    "$1" "$3" "$4" -b "${5:-$LAB_WAN2_IP}" -t "${6:-2}"
}

# lab_need_python: exit 77 (automake SKIP) without python3 (the echo server,
# the STUN liar and the STUN probe are python3 scripts).
lab_need_python() {
	command -v python3 >/dev/null 2>&1 && return 0
	echo "SKIP: python3 missing" >&2
	exit 77
}

# lab_wan_addr IP: put IP on the wan namespace's eth0 (once).
lab_wan_addr() {
	lab_wan ip -4 -o addr show dev "$LAB_HOST_IF" | grep -q " $1/" && return 0
	ip -n "$LAB_NS_WAN" addr add "$1/24" dev "$LAB_HOST_IF"
}

# lab_echo_start: the HTTP echo service on $LAB_ECHO_IP:$LAB_ECHO_PORT in the
# wan namespace (see the header); returns once it listens.  lab_down stops it.
lab_echo_start() {
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	if [ -n "$LAB_ECHO_PID" ] && kill -0 "$LAB_ECHO_PID" 2>/dev/null; then
		return 0
	fi
	lab_wan_addr "$LAB_ECHO_IP" || return 1
	lab_bg echo "$LAB_NS_WAN" python3 "$LAB_HERE/echo-server.py" \
	    "$LAB_ECHO_IP" "$LAB_ECHO_PORT"
	LAB_ECHO_PID=$LAB_BG_PID
	if ! lab_wait 10 lab_listening_on "$LAB_NS_WAN" tcp "$LAB_ECHO_IP" \
	    "$LAB_ECHO_PORT" || ! kill -0 "$LAB_ECHO_PID" 2>/dev/null; then
		lab_log "echo server did not start; log:"
		sed 's/^/#   /' "$LAB_DIR/echo.log" >&2
		return 1
	fi
}

# lab_echo_get [PATH] [HOST] [SECONDS]: GET PATH (/ by default) from the echo
# service, from namespace HOST (lan by default); print the body; return 0 on
# "200 OK" within SECONDS (3 by default).
lab_echo_get() {
	local ns out
	ns=$(lab_ns_of "${2:-lan}") || return 1
	out=$(ip netns exec "$ns" timeout "${3:-3}" bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3
		cat <&3' "$LAB_ECHO_IP" "$LAB_ECHO_PORT" "${1:-/}" 2>/dev/null) ||
	    return 1
	printf '%s\n' "${out#*$'\r\n\r\n'}"
	case $out in "HTTP/1."?" 200 "*) return 0 ;; esac
	return 1
}

# lab_stun_liar_start MODE: the bad STUN server on $LAB_LIAR_IP:$LAB_LIAR_PORT
# in the wan namespace, answering Binding requests as MODE says (good,
# wrongtid, truncated, badfp, silent: see tests/lab/stun-liar.py); replaces a
# running one; returns once it listens.  Log: $LAB_DIR/stun-liar.log.
lab_stun_liar_start() {
	case $1 in
	good|wrongtid|truncated|badfp|silent|elsewhere) ;;
	*) lab_log "lab_stun_liar_start: unknown mode '$1'"; return 1 ;;
	esac
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	if [ -n "$LAB_LIAR_PID" ]; then
		lab_ours "$LAB_NS_WAN" "$LAB_LIAR_PID" && lab_kill "$LAB_LIAR_PID"
		wait "$LAB_LIAR_PID" 2>/dev/null
		LAB_LIAR_PID=
	fi
	lab_wan_addr "$LAB_LIAR_IP" || return 1
	lab_bg stun-liar "$LAB_NS_WAN" python3 "$LAB_HERE/stun-liar.py" "$1" \
	    "$LAB_LIAR_IP" "$LAB_LIAR_PORT"
	LAB_LIAR_PID=$LAB_BG_PID
	if ! lab_wait 10 lab_listening_on "$LAB_NS_WAN" udp "$LAB_LIAR_IP" \
	    "$LAB_LIAR_PORT" || ! kill -0 "$LAB_LIAR_PID" 2>/dev/null; then
		lab_log "stun-liar $1 did not start; log:"
		sed 's/^/#   /' "$LAB_DIR/stun-liar.log" >&2
		return 1
	fi
}

# lab_listening_on NS tcp|udp IP PORT
lab_listening_on() {
	local flag=-Hnlt
	[ "$2" = udp ] && flag=-Hnlu
	ip netns exec "$1" ss $flag "src $3 and sport = :$4" 2>/dev/null | grep -q .
}

# lab_stun_probe HOST ARGS...: tests/lab/stun-probe.py ARGS in namespace HOST
# (lan, lan2, rtr, wan, isp): e.g. lab_stun_probe lan -p 40000 -c both
# 203.0.113.3:3478 prints the mapped address, or "timeout" (exit 1).
lab_stun_probe() {
	local ns
	ns=$(lab_ns_of "$1") || return 1
	shift
	ip netns exec "$ns" python3 "$LAB_HERE/stun-probe.py" "$@"
}

# lab_lan_peers: the LAN hosts reach each other, as on a real LAN switch.
# With br_netfilter loaded on the machine (bridge-nf-call-iptables = 1, e.g.
# by a container runtime), frames between two ports of the router's bridge
# go through its forward chain, whose policy is drop: lan and lan2 would not
# hear each other's unicast or multicast.  Bridged frames skip it now.
lab_lan_peers() {
	local f=/proc/sys/net/bridge/bridge-nf-call-iptables
	lab_rtr test -e "$f" || return 0
	lab_rtr sysctl -qw net.bridge.bridge-nf-call-iptables=0
}

# lab_ssdp_liar_start LOCATION...: a hostile LAN host, lan2, answering every
# IGD M-SEARCH with one answer per LOCATION (tests/lab/ssdp-liar.py);
# replaces a running one; returns once it is in the SSDP group.  Log:
# $LAB_DIR/ssdp-liar.log.  lab_ssdp_liar_answers prints how many answers it
# sent; lab_ssdp_liar_stop ends it.
lab_ssdp_liar_start() {
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_ssdp_liar_stop
	lab_lan_peers || return 1
	lab_bg ssdp-liar "$LAB_NS_LAN2" python3 "$LAB_HERE/ssdp-liar.py" \
	    "$LAB_LAN2_IP" "$@"
	LAB_SSDP_LIAR_PID=$LAB_BG_PID
	lab_bg_listening ssdp-liar
}

# lab_bg_listening NAME: wait until the script lab_bg started as NAME says
# "listening" (10 s bound); else show its log and fail.
lab_bg_listening() {
	if ! lab_wait 10 grep -qs '^listening$' "$LAB_DIR/$1.log" ||
	    ! kill -0 "$LAB_BG_PID" 2>/dev/null; then
		lab_log "$1 did not start; log:"
		sed 's/^/#   /' "$LAB_DIR/$1.log" >&2
		return 1
	fi
}

lab_ssdp_liar_stop() {
	if [ -n "${LAB_SSDP_LIAR_PID:-}" ]; then
		lab_ours "$LAB_NS_LAN2" "$LAB_SSDP_LIAR_PID" &&
		    lab_kill "$LAB_SSDP_LIAR_PID"
		wait "$LAB_SSDP_LIAR_PID" 2>/dev/null
		LAB_SSDP_LIAR_PID=
	fi
	return 0
}

lab_ssdp_liar_answers() {
	grep -c '^answered ' "$LAB_DIR/ssdp-liar.log" 2>/dev/null || true
}

# lab_ssdp_notify HOST LOCATION [BOOTID]: one SSDP NOTIFY ssdp:alive for an
# IGD from HOST's LAN address (lan, lan2 or rtr) to 239.255.255.250:1900.
lab_ssdp_notify() {
	local ns src
	ns=$(lab_ns_of "$1") || return 1
	src=$(lab_lan_addr "$1") || return 1
	shift
	lab_lan_peers || return 1
	ip netns exec "$ns" python3 "$LAB_HERE/ssdp-liar.py" --notify "$src" "$@"
}

# lab_lan_addr HOST: the LAN address of lan, lan2 or rtr.
lab_lan_addr() {
	case $1 in
	lan) echo "$LAB_LAN_IP" ;;
	lan2) echo "$LAB_LAN2_IP" ;;
	rtr) echo "$LAB_RTR_LAN_IP" ;;
	*) lab_log "no LAN address on $1"; return 1 ;;
	esac
}

# lab_tcp_count_start HOST IP PORT: a listener on IP:PORT in namespace HOST
# that counts connections and closes them (tests/lab/tcp-count.py); returns
# once it listens.  lab_tcp_count IP PORT prints the count so far.
lab_tcp_count_start() {
	local ns
	ns=$(lab_ns_of "$1") || return 1
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	lab_bg "tcp-count-$2-$3" "$ns" python3 "$LAB_HERE/tcp-count.py" "$2" "$3"
	lab_bg_listening "tcp-count-$2-$3"
}

lab_tcp_count() {
	grep -c '^connection from ' "$LAB_DIR/tcp-count-$1-$2.log" 2>/dev/null ||
	    true
}

# lab_pmp_forge HOST KIND SRC_PORT DST_IP DST_PORT [EXT_IP]: one forged PCP or
# NAT-PMP message (tests/lab/pmp-forge.py: announce, public, map) from HOST's
# LAN address (lan, lan2 or rtr) and SRC_PORT.
lab_pmp_forge() {
	local ns src
	ns=$(lab_ns_of "$1") || return 1
	src=$(lab_lan_addr "$1") || return 1
	shift
	ip netns exec "$ns" python3 "$LAB_HERE/pmp-forge.py" "$1" "$src" "$2" \
	    "${@:3}"
}

# ---- natmapd-rendezvous on the internet side ----
# lab_rendezvous_start [ARGS...]: natmapd-rendezvous -f in the wan namespace
# on $LAB_RDV_IP:$LAB_RDV_PORT with --alt-address $LAB_RDV_ALT_IP (RFC 5780:
# ports $LAB_RDV_PORT and $LAB_RDV_ALT_PORT on both), ARGS added (e.g.
# --networks FILE); the binary is $NATMAPD_RENDEZVOUS, else the build
# tree's.  Both addresses are put on the wan namespace's eth0.  Returns once
# the four UDP sockets listen; sets LAB_RDV_PID, log $LAB_DIR/rendezvous.log.
# lab_rendezvous_stop: SIGTERM, wait at most 5 s (then SIGKILL); sets
# LAB_RDV_STATUS (the exit status, or "timeout") and LAB_RDV_STOP_MS.
LAB_RDV_IP=203.0.113.30
LAB_RDV_ALT_IP=203.0.113.31
LAB_RDV_PORT=3480
LAB_RDV_ALT_PORT=3481
LAB_RDV_PID=
lab_rendezvous_start() {
	local bin=${NATMAPD_RENDEZVOUS:-$LAB_HERE/../../src/natmapd-rendezvous}
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	[ -x "$bin" ] || { lab_log "no natmapd-rendezvous at $bin"; return 1; }
	if [ -n "$LAB_RDV_PID" ] && lab_ours "$LAB_NS_WAN" "$LAB_RDV_PID"; then
		lab_rendezvous_stop
	fi
	lab_wan_addr "$LAB_RDV_IP" || return 1
	lab_wan_addr "$LAB_RDV_ALT_IP" || return 1
	: >"$LAB_DIR/rendezvous.conf"
	lab_bg rendezvous "$LAB_NS_WAN" "$bin" -f -v -c "$LAB_DIR/rendezvous.conf" \
	    --listen "$LAB_RDV_IP:$LAB_RDV_PORT" --alt-address "$LAB_RDV_ALT_IP" \
	    --alt-port "$LAB_RDV_ALT_PORT" "$@"
	LAB_RDV_PID=$LAB_BG_PID
	if ! lab_wait 10 lab_rendezvous_ready || ! kill -0 "$LAB_RDV_PID" 2>/dev/null; then
		lab_log "natmapd-rendezvous did not start; log:"
		sed 's/^/#   /' "$LAB_DIR/rendezvous.log" >&2
		return 1
	fi
}

# succeeds when natmapd-rendezvous listens on its 4 UDP address:port pairs, or has died
lab_rendezvous_ready() {
	kill -0 "$LAB_RDV_PID" 2>/dev/null || return 0
	lab_rdv_listening "$LAB_NS_WAN" "$LAB_RDV_IP" "$LAB_RDV_ALT_IP" \
	    "$LAB_RDV_PORT" "$LAB_RDV_ALT_PORT"
}
lab_rdv_listening() {	# NS IP ALT_IP PORT ALT_PORT
	local s
	s=$(ip netns exec "$1" ss -Hnlu 2>/dev/null) || return 1
	case $s in *"$2:$4 "*) ;; *) return 1 ;; esac
	case $s in *"$2:$5 "*) ;; *) return 1 ;; esac
	case $s in *"$3:$4 "*) ;; *) return 1 ;; esac
	case $s in *"$3:$5 "*) ;; *) return 1 ;; esac
}

lab_rendezvous_stop() {
	local t0
	LAB_RDV_STATUS= LAB_RDV_STOP_MS=
	[ -n "$LAB_RDV_PID" ] || return 0
	t0=$(lab_now_ms)
	if lab_ours "$LAB_NS_WAN" "$LAB_RDV_PID"; then
		kill -TERM "$LAB_RDV_PID" 2>/dev/null
		if lab_wait 5 lab_all_gone "$LAB_RDV_PID"; then
			wait "$LAB_RDV_PID"
			LAB_RDV_STATUS=$?
		else
			kill -KILL "$LAB_RDV_PID" 2>/dev/null
			wait "$LAB_RDV_PID" 2>/dev/null
			LAB_RDV_STATUS=timeout
		fi
	else
		wait "$LAB_RDV_PID" 2>/dev/null
		LAB_RDV_STATUS=$?
	fi
	LAB_RDV_STOP_MS=$(( $(lab_now_ms) - t0 ))
	LAB_RDV_PID=
	return 0
}

# lab_rdv_client HOST ARGS...: tests/lab/rdv-client.py ARGS in namespace HOST.
lab_rdv_client() {
	local ns
	ns=$(lab_ns_of "$1") || return 1
	shift
	ip netns exec "$ns" python3 "$LAB_HERE/rdv-client.py" "$@"
}

# ---- traffic between the two sites (LAB_SITES=2), or anywhere ----
# lab_traffic_serve HOST tcp|udp PORT [ADDR [-d]]: tests/lab/traffic.py's echo in
# namespace HOST on ADDR (default ::, which takes IPv4 too; 0.0.0.0 where
# IPv6 is off), port PORT; returns once it listens; log
# $LAB_DIR/traffic-HOST-PROTO-PORT.log (-d: with a digest of what it
# received).  lab_down stops it.
lab_traffic_serve() {
	local ns addr=${4:-}
	ns=$(lab_ns_of "$1") || return 1
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	if [ -z "$addr" ]; then
		addr=::
		[ "$(ip netns exec "$ns" sysctl -n net.ipv6.conf.all.disable_ipv6 \
		    2>/dev/null)" = 1 ] && addr=0.0.0.0
	fi
	lab_bg "traffic-$1-$2-$3" "$ns" python3 "$LAB_HERE/traffic.py" serve \
	    "$2" "$addr" "$3" "${@:5}"
	lab_bg_listening "traffic-$1-$2-$3"
}

# lab_traffic_check HOST tcp|udp ADDR PORT [-n N] [-b ADDR] [-p PORT] [-t SECONDS]:
# from namespace HOST, N bytes (TCP, default 65536) or N datagrams (UDP,
# default 20) through the echo at ADDR:PORT must come back exactly as sent
# within SECONDS (default 5, at most 50); prints traffic.py's verdict ("ok N MS", or what
# went wrong); status 0 when it all came back.
lab_traffic_check() {
	local ns
	ns=$(lab_ns_of "$1") || return 1
	shift
	ip netns exec "$ns" timeout 60 python3 "$LAB_HERE/traffic.py" check "$@"
}

# lab_punch_start NAME HOST LOCAL_PORT PEER_ADDR PEER_PORT [-t SECONDS] ...:
# a manual UDP hole punch (traffic.py punch) from namespace HOST's port
# LOCAL_PORT (any address) toward PEER_ADDR:PEER_PORT, in the background
# (log $LAB_DIR/NAME.log, LAB_BG_PID its pid); start the other side with a
# second call at once.  lab_punch_wait PID [SECONDS]: its exit status (0
# when both directions passed; killed after SECONDS, default 20).
lab_punch_start() {
	local name=$1 ns any=0.0.0.0
	ns=$(lab_ns_of "$2") || return 1
	[ -n "$LAB_DIR" ] || { lab_log "lab_init first"; return 1; }
	case $4 in *:*) any=:: ;; esac
	lab_bg "$name" "$ns" python3 "$LAB_HERE/traffic.py" punch "$any" "$3" \
	    "$4" "$5" "${@:6}"
}

lab_punch_wait() {
	lab_wait "${2:-20}" lab_all_gone "$1" || lab_kill "$1"
	wait "$1"
}
