# SPDX-License-Identifier: ISC
# Hole punching over IPv6 (issue 11): the two-site lab with IPv6 on both
# sites, each host's global address behind its router's stateful firewall
# (out anything, in only what conntrack knows; no NAT66), IPv4 NATed as in
# punch.sh.  alpha (site 1) exposes a UDP and a TCP echo to beta (site 2);
# the nodes offer their IPv6 addresses as candidates, probe both families
# and keep the IPv6 path: datagrams and a TCP stream of 1 MB pass end to end
# over direct-v6, between the hosts' own IPv6 addresses, and a stranger on
# the WAN side gets in to neither host.  With IPv6 cut between the sites,
# the same nodes fall back to direct-v4, and move to IPv6 once it is back;
# a node without an IPv6 address of its own neither offers nor probes any.
# shellcheck disable=SC2015,SC2016,SC2034
. "$(dirname "$0")/common.sh"
it_need_rdv
lab_need_python

LAB_SITES=2 LAB_IPV6=1 lab_init ||
    { tap_fail "the two-site lab builds, with IPv6"; tap_done; exit 1; }
tap_ok "the two-site lab builds, with IPv6"
# idle UDP bindings live 30 s (the rendezvous client registers every 25 s)
lab_nat_udp_timeout 30 rtr && lab_nat_udp_timeout 30 rtr2 ||
    { tap_fail "UDP bindings of 30 s on both routers"; tap_done; exit 1; }
it_rdv_keys "$LAB_DIR" || { tap_fail "keys"; tap_done; exit 1; }
it_rendezvous_start "$LAB_DIR/nets"

# node NAME HOST ARGS...: a natmapd node of network home (it_node)
node() { it_node "$1" "$2" "$LAB_DIR/home.key" home "${@:3}"; }
node_stop() { it_node_stop "$@"; }
log_has() { grep -Eq -- "$2" "$LAB_DIR/$1.log"; }
# diag NAME [LINES]: the end of NAME's log as TAP comments, without the
# control socket's lines (the waits poll natmapctl status)
diag() { grep -v '^control: client' "$LAB_DIR/$1.log" | sed "s/^/# $1: /" | tail -n "${2:-25}"; }
ctl_status() { ip netns exec "$(lab_ns_of "$1")" "$NATMAPCTL" -s "$LAB_DIR/$2.ctl" status; }
# v6 ADDR: the regex of [ADDR]:port
v6() { printf '\\[%s\\]:[0-9]+' "$1"; }

# ---- the firewalls: nothing unsolicited from the WAN side gets in ----
lab_traffic_serve lan udp 7200 && lab_traffic_serve lan tcp 7200 &&
    lab_traffic_serve site2 udp 7200 && lab_traffic_serve site2 tcp 7200 &&
    tap_ok "UDP and TCP echoes on both hosts' IPv6 addresses, port 7200" ||
    tap_fail "UDP and TCP echoes on both hosts' IPv6 addresses, port 7200"
# (each echo answers its own site: the refusals below are the routers')
tap_check "site 1's echoes answer on its own LAN" eval \
    'lab_traffic_check lan udp "$LAB_LAN6_IP" 7200 -n 2 && lab_traffic_check lan tcp "$LAB_LAN6_IP" 7200 -n 1000'
tap_check "site 2's echoes answer on its own LAN" eval \
    'lab_traffic_check site2 udp "$LAB_SITE2_6_IP" 7200 -n 2 && lab_traffic_check site2 tcp "$LAB_SITE2_6_IP" 7200 -n 1000'
n1=$(grep -c from "$LAB_DIR/traffic-lan-udp-7200.log")
n2=$(grep -c from "$LAB_DIR/traffic-site2-udp-7200.log")
tap_check "the WAN's UDP to site 1's host does not get in" \
    eval '! lab_traffic_check wan udp "$LAB_LAN6_IP" 7200 -n 3 -t 1'
tap_check "the WAN's UDP to site 2's host does not get in" \
    eval '! lab_traffic_check wan udp "$LAB_SITE2_6_IP" 7200 -n 3 -t 1'
tap_check "the WAN's TCP to site 1's host: refused by its router (reset)" eval \
    'o=$(lab_traffic_check wan tcp "$LAB_LAN6_IP" 7200 -t 1); echo "$o"; [ "$o" = refused ]'
tap_check "the WAN's TCP to site 2's host: dropped by its router" eval \
    'o=$(lab_traffic_check wan tcp "$LAB_SITE2_6_IP" 7200 -t 1); echo "$o"; [ "$o" = "timeout connecting" ]'
tap_check "no datagram of the WAN's reached either echo" eval \
    '[ "$(grep -c from "$LAB_DIR/traffic-lan-udp-7200.log")" = "$n1" ] &&
    [ "$(grep -c from "$LAB_DIR/traffic-site2-udp-7200.log")" = "$n2" ]'

# ---- two nodes: a direct path over IPv6 ----
lab_traffic_serve lan udp 7000 127.0.0.1 &&
    lab_traffic_serve lan tcp 7100 127.0.0.1 &&
    tap_ok "a UDP and a TCP echo on site 1's 127.0.0.1" ||
    tap_fail "a UDP and a TCP echo on site 1's 127.0.0.1"
# addresses of site 1's host that alpha must not offer: a deprecated global
# one and a unique local one beside the global one (and its link-local)
lab_lan ip -6 addr add 2001:db8:77::99/64 dev "$LAB_HOST_IF" nodad preferred_lft 0 &&
    lab_lan ip -6 addr add fd00:77::10/64 dev "$LAB_HOST_IF" nodad &&
    tap_ok "site 1's host has a deprecated and a unique local IPv6 address too" ||
    tap_fail "site 1's host has a deprecated and a unique local IPv6 address too"
node alpha lan --expose echo=127.0.0.1:7000/udp@beta \
    --expose tcpecho=127.0.0.1:7100/tcp@beta
node beta site2 --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp

tap_check "beta punches from IPv6 too" \
    lab_wait 10 log_has beta "punching from UDP port [0-9]+ and TCP port [0-9]+ \(IPv6: UDP and TCP\)"
# its OFFER or CONNECT carries the host's global address, UDP and TCP
# (the lab's hosts have link-local addresses too, never offered)
path6_up() {
	local o
	o=$(ctl_status "$1" "$2") || return 1
	echo "$o"
	grep -Eq "^peer $3 up: direct-v6 to $(v6 "$4")" <<<"$o"
}
if lab_wait 25 path6_up site2 beta alpha "$LAB_LAN6_IP" >/dev/null; then
	tap_ok "beta: up, direct-v6 to site 1's host [$LAB_LAN6_IP]"
else
	tap_fail "beta: up, direct-v6 to site 1's host [$LAB_LAN6_IP]" \
	    "$(ctl_status site2 beta)" "$(diag beta)" "$(diag alpha)"
fi
tap_check "alpha: up, direct-v6 to site 2's host [$LAB_SITE2_6_IP]" \
    lab_wait 10 path6_up lan alpha beta "$LAB_SITE2_6_IP"
tap_check "alpha offered 6 candidates: one IPv6 address, the IPv4 one, the public one (UDP, TCP)" \
    log_has alpha "beta: CONNECT \(attempt 1\), answering with 6 candidates"
tap_check "beta probed alpha's global address, and no deprecated, unique local or link-local one" \
    eval 'log_has beta "alpha: probe to $(v6 "$LAB_LAN6_IP")" &&
    ! log_has beta "alpha: probe to \[(2001:db8:77::99|fd00:77::10|fe80:)"'
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
tap_check "the path stayed direct-v6 (no move back to IPv4)" eval \
    'path6_up site2 beta alpha "$LAB_LAN6_IP" && path6_up lan alpha beta "$LAB_SITE2_6_IP"'
tap_check "beta's log: the IPv6 path, to site 1's host" \
    log_has beta "alpha: direct path (up|now over IPv6), to $(v6 "$LAB_LAN6_IP")"

# ---- TCP: the carrier by simultaneous open over IPv6 ----
tap_check "beta: the TCP carrier to site 1's host's IPv6 address" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $(v6 "$LAB_LAN6_IP")"
tap_check "alpha: the TCP carrier to site 2's host's IPv6 address" \
    lab_wait 10 log_has alpha "beta: TCP carrier up, to $(v6 "$LAB_SITE2_6_IP")"
tap_check "1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo intact" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20
tap_check "the TCP echo saw the stream come from alpha's own host" \
    grep -q "tcp from 127.0.0.1:" "$LAB_DIR/traffic-lan-tcp-7100.log"
peer_line_ok() {
	local o
	o=$(ctl_status site2 beta) || return 1
	echo "$o"
	grep -Eq "^peer alpha up: direct-v6 to $(v6 "$LAB_LAN6_IP") via [a-z]+(, rtt [0-9]+ ms)?; tcp carrier to $(v6 "$LAB_LAN6_IP").*; in [1-9][0-9]* B, out [1-9][0-9]* B" <<<"$o"
}
tap_check "natmapctl status on beta: direct-v6 and the carrier, both to [$LAB_LAN6_IP]" \
    lab_wait 15 peer_line_ok
peer_json_ok() {
	python3 - "$LAB_DIR/$1.json" "$2" "$3" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["peers"]
want = "[%s]:" % sys.argv[3]
assert len(p) == 1 and p[0]["node"] == sys.argv[2], p
assert p[0]["state"] == "up" and p[0]["path"] == "direct-v6", p
assert p[0]["endpoint"].startswith(want), p
assert p[0]["carrier"].startswith(want), p
PY
}
tap_check "beta's status file: direct-v6, endpoint and carrier [$LAB_LAN6_IP]" \
    lab_wait 15 peer_json_ok beta alpha "$LAB_LAN6_IP"
tap_check "alpha's status file: direct-v6, endpoint and carrier [$LAB_SITE2_6_IP]" \
    lab_wait 15 peer_json_ok alpha beta "$LAB_SITE2_6_IP"

# ---- the firewall holds for a stranger even at beta's punched ports ----
tcp6=$(sed -n 's/.*punching from UDP port [0-9]* and TCP port \([0-9]*\) .*/\1/p' "$LAB_DIR/beta.log" | head -n 1)
tap_check "the WAN's TCP to beta's carrier port [$LAB_SITE2_6_IP]:$tcp6 is dropped" eval \
    'o=$(lab_traffic_check wan tcp "$LAB_SITE2_6_IP" "$tcp6" -t 1); echo "$o"; [ "$o" = "timeout connecting" ]'
tap_check "and the carrier still carries" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 10

# ---- IPv6 cut between the sites: the same nodes go direct-v4 ----
node_stop beta
# the WAN namespace forwards no IPv6 between the sites, and counts what it drops
lab_wan nft -f - <<EOF ||
table inet lab_no6 {
	chain forward {
		type filter hook forward priority -50; policy accept;
		meta nfproto ipv6 counter drop
	}
}
EOF
    tap_fail "IPv6 cut between the sites"
node beta site2 --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp
path4_up() {
	local o
	o=$(ctl_status site2 beta) || return 1
	echo "$o"
	grep -Eq "^peer alpha up: direct-v4 to $LAB_PUBLIC_IP:[0-9]+ via [a-z]+(, rtt [0-9]+ ms)?; tcp carrier to $LAB_PUBLIC_IP:" <<<"$o"
}
if lab_wait 30 path4_up >/dev/null; then
	tap_ok "no IPv6 between the sites: beta up direct-v4, its carrier over IPv4"
else
	tap_fail "no IPv6 between the sites: beta up direct-v4, its carrier over IPv4" \
	    "$(ctl_status site2 beta)" "$(diag beta)"
fi
no6_dropped() {
	lab_wan nft list chain inet lab_no6 forward | grep -Eq "counter packets [1-9]"
}
tap_check "no IPv6 between the sites: beta's IPv6 probes were tried, and dropped" \
    no6_dropped
tap_check "no IPv6 between the sites: datagrams end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10
tap_check "no IPv6 between the sites: 1 MB over the IPv4 carrier" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20

# ---- IPv6 back: the path up over IPv4 moves to it ----
lab_wan nft delete table inet lab_no6 ||
    tap_fail "IPv6 between the sites again"
tap_check "IPv6 back: beta's path moves to site 1's host's IPv6 address" \
    lab_wait 20 log_has beta "alpha: direct path now over IPv6, to $(v6 "$LAB_LAN6_IP")"
tap_check "IPv6 back: natmapctl status on beta says direct-v6" \
    lab_wait 10 path6_up site2 beta alpha "$LAB_LAN6_IP"
tap_check "IPv6 back: alpha's path moves too" \
    lab_wait 15 path6_up lan alpha beta "$LAB_SITE2_6_IP"
tap_check "IPv6 back: datagrams end to end over it" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10
tap_check "IPv6 back: the carrier made over IPv4 carries on" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 10

# ---- site 2's host without an IPv6 address: beta neither offers nor takes any ----
node_stop beta
lab_site2 ip -6 addr del "$LAB_SITE2_6_IP/64" dev "$LAB_HOST_IF" ||
    tap_fail "site 2's host loses its IPv6 address"
node beta site2 --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp
if lab_wait 30 path4_up >/dev/null; then
	tap_ok "no IPv6 address on site 2: beta up direct-v4, its carrier over IPv4"
else
	tap_fail "no IPv6 address on site 2: beta up direct-v4, its carrier over IPv4" \
	    "$(ctl_status site2 beta)" "$(diag beta 60)" "$(diag alpha 40)"
fi
tap_check "no IPv6 address on site 2: beta took alpha's 2 IPv4 UDP candidates only" \
    log_has beta "alpha: OFFER with 2 candidates"
tap_check "no IPv6 address on site 2: beta probed no IPv6 address" \
    eval '! log_has beta "alpha: probe to \["'
tap_check "no IPv6 address on site 2: datagrams end to end" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 10 -t 10
tap_check "no key in any log" bash -c "! grep -qF -e \"\$(cat '$LAB_DIR/home.key')\" '$LAB_DIR'/*.log*"

tap_done
