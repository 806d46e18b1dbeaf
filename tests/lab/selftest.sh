#!/bin/bash
# selftest.sh - TAP test of the lab itself: miniupnpd behind NAT, STUN by
# coturn, mappings made with upnpc and natpmpc reach LAN services from the WAN.

# shellcheck disable=SC2317,SC2016
# (helpers run through ok/nok; eval strings expand later, on purpose)

here=$(cd "$(dirname "$0")" && pwd)
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
no_rules() { local r; r=$(lab_rules); echo "$r"; [ -z "$r" ]; }
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

echo "1..22"
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
dir=$LAB_DIR
lab_down
ok "lab_down removes namespaces and LAB_DIR" lab_gone "$dir"
exit $((failed > 0))
