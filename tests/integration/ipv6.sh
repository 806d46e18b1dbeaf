# SPDX-License-Identifier: ISC
# IPv6: where the LAN host has a global address and its router speaks PCP
# over IPv6, natmapd opens a pinhole for each mapping next to the IPv4 one
# (same nonce), keeps it through a router restart, and closes it on SIGTERM.
# The router forwards IPv6 without NAT; its firewall lets in only what
# miniupnpd's chain accepts.
. "$(dirname "$0")/common.sh"

export LAB_IPV6=1
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp6 8080
lab_serve_udp6 9000
lab_serve_tcp 8080

pinhole_rules() { lab_rtr nft list chain inet "$LAB_NFT_TABLE" "$LAB_NFT_FWD_CHAIN" | grep -c "0x20010db8007700000000000000000010"; }
both6_reached() {
	lab_reach_tcp6 "$LAB_LAN6_IP" 8080 >/dev/null &&
	    lab_reach_udp "$LAB_LAN6_IP" 9000 >/dev/null
}

tap_check "without natmapd the WAN cannot reach tcp [$LAB_LAN6_IP]:8080" \
    eval '! lab_reach_tcp6 "$LAB_LAN6_IP" 8080'

nm_start lan natmapd.log -m 8080/tcp -m 9000/udp
tap_check "tcp 8080 over IPv6: the log says the pinhole is open" \
    nm_wait_log 10 "^tcp \[$LAB_LAN6_IP\]:8080 open to the internet as \[$LAB_LAN6_IP\]:8080 via PCP \(IPv6\), lifetime 3600s$"
tap_check "udp 9000 over IPv6: likewise" \
    nm_wait_log 10 "^udp \[$LAB_LAN6_IP\]:9000 open to the internet as \[$LAB_LAN6_IP\]:9000 via PCP \(IPv6\)"
tap_check "tcp [$LAB_LAN6_IP]:8080 reached from the WAN over IPv6" \
    lab_wait 5 lab_reach_tcp6 "$LAB_LAN6_IP" 8080
tap_check "udp [$LAB_LAN6_IP]:9000 reached from the WAN over IPv6" \
    lab_wait 5 lab_reach_udp "$LAB_LAN6_IP" 9000
tap_check "and tcp 8080 over IPv4 as before" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "the router holds one pinhole per mapping" \
    test "$(pinhole_rules)" = 2

# The router restarts and forgets everything: the pinholes come back.
lab_router_stop
lab_rules_flush
lab_flush_conntrack
rm -f "$LAB_DIR/miniupnpd.leases"
tap_check "the restart took the pinholes away" \
    eval '! lab_reach_tcp6 "$LAB_LAN6_IP" 8080'
lab_router_start || tap_fail "miniupnpd comes back"
t0=$(lab_now_ms)
if lab_wait 10 both6_reached; then
	tap_ok "tcp and udp reached again over IPv6 $(( $(lab_now_ms) - t0 )) ms after the router answered"
else
	tap_fail "tcp and udp reached again over IPv6 within 10 s"; nm_diag
fi
tap_check "still one pinhole per mapping" \
    lab_wait 3 eval '[ "$(pinhole_rules)" = 2 ]'

nm_stop_check "SIGTERM" 5000
tap_check "SIGTERM closes the pinholes" \
    test "$(pinhole_rules)" = 0
tap_check "and the log says so" \
    nm_log_has "^tcp \[$LAB_LAN6_IP\]:8080 closed$"
tap_check "the WAN no longer reaches [$LAB_LAN6_IP]:8080" \
    eval '! lab_reach_tcp6 "$LAB_LAN6_IP" 8080'

# Renumbered: the host's global address changes; the pinholes follow it.
# (The old address's pinholes cannot be deleted from the new one: they end
# with their lifetime.)
pinholes_for() { lab_rtr nft list chain inet "$LAB_NFT_TABLE" "$LAB_NFT_FWD_CHAIN" | grep -c "$1"; }
old6_hex=0x20010db8007700000000000000000010
new6_hex=0x20010db8007700000000000000000020
nm_start lan renumber.log -m 8080/tcp
tap_check "renumber: the router opens a pinhole for the first address" \
    lab_wait 10 eval '[ "$(pinholes_for $old6_hex)" = 1 ]'
tap_check "renumber: tcp [$LAB_LAN6_IP]:8080 reached from the WAN" \
    lab_wait 5 lab_reach_tcp6 "$LAB_LAN6_IP" 8080
new6=2001:db8:77::20
ip -n "$LAB_NS_LAN" addr add "$new6/64" dev "$LAB_HOST_IF" nodad
ip -n "$LAB_NS_LAN" addr del "$LAB_LAN6_IP/64" dev "$LAB_HOST_IF"
tap_check "renumbered: the router opens a pinhole for the new address" \
    lab_wait 10 eval '[ "$(pinholes_for $new6_hex)" = 1 ]'
tap_check "renumbered: tcp [$new6]:8080 reached from the WAN" \
    lab_wait 5 lab_reach_tcp6 "$new6" 8080
tap_check "renumbered: the old address's pinhole is named as left to its lifetime" \
    nm_log_has "^tcp \[$LAB_LAN6_IP\]:8080: the address is gone; its pinhole ends with its lifetime"
tap_check "renumbered: and it is on the router still" \
    test "$(pinholes_for $old6_hex)" = 1
nm_stop_check "renumbered: SIGTERM" 5000
tap_check "renumbered: SIGTERM closes the new address's pinhole" \
    test "$(pinholes_for $new6_hex)" = 0
tap_check "renumbered: the WAN no longer reaches [$new6]:8080" \
    eval '! lab_reach_tcp6 "$new6" 8080'

# --probe: STUN over IPv6 too; no translation on IPv6.
lab_stun6_start || tap_fail "coturn (IPv6) starts"
: >"$LAB_DIR/empty.conf"
lab_lan timeout 20 "$NATMAPD" --probe --json -c "$LAB_DIR/empty.conf" \
    --stun-server "$LAB_STUN_IP" --stun-server "[$LAB_STUN6_IP]" \
    >"$LAB_DIR/probe6.json" 2>"$LAB_DIR/probe6.err"
tap_check "--probe: exit 0" test $? = 0
jv() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(v if isinstance(v,str) else json.dumps(v))' "$LAB_DIR/probe6.json" "$1"; }
tap_check "--probe: the public IPv6 address is the host's own (now $new6)" \
    test "$(jv external_ipv6)" = "$new6"
tap_check "--probe: no IPv6 translation" test "$(jv ipv6_translated)" = false
tap_check "--probe: the local IPv6 address" test "$(jv local_ipv6)" = "$new6"
tap_check "--probe: IPv4 as ever" test "$(jv external_ipv4)" = "$LAB_PUBLIC_IP"
tap_check "--probe: the IPv6-only server has no IPv4 answer, and says why" \
    test "$(jv stun.1.error)" = "no IPv4 address"

# A host without a global IPv6 address: no IPv6 traffic, no IPv6 message.
ip -n "$LAB_NS_LAN" addr del "$new6/64" dev "$LAB_HOST_IF"
# the LAN's pinholes on the router (the old address's is left from above)
lan_pinholes() { pinholes_for 0x20010db80077; }
pinholes_before=$(lan_pinholes)
nm_start lan noglobal.log -m 8080/tcp
tap_check "no global IPv6 address: IPv4 as before, the router forwards tcp 8080" \
    lab_wait 10 has_rule "^tcp dport 8080 dnat to $LAB_LAN_IP:8080$"
tap_check "and the WAN reaches it over IPv4" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "and nothing about IPv6" \
    eval '! grep -q "IPv6\|pcp6" "$NM_LOG"'
tap_check "and no new pinhole on the router" \
    test "$(lan_pinholes)" = "$pinholes_before"
nm_stop_check "SIGTERM" 5000
tap_done
