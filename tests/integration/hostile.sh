# SPDX-License-Identifier: ISC
# A hostile host on the LAN: SSDP answers naming other hosts (off the LAN, or
# the router on a port of no service) are not fetched, the search goes on for
# the genuine IGD; SSDP NOTIFYs from another host, or naming another host, are
# not heeded; forged PCP ANNOUNCE, NAT-PMP and PCP answers from another host,
# or from the router's address but another port than 5351, change nothing.
# shellcheck disable=SC2016,SC2034  # checks run through eval, in single quotes
. "$(dirname "$0")/common.sh"
lab_need_python

OFF_URL="http://$LAB_WAN_IP:5000/rootDesc.xml"		# off the LAN
ON_URL="http://$LAB_RTR_LAN_IP:5001/rootDesc.xml"	# the router, not the liar
# The refusal natmapd says at info, once per URL (again: at debug, "(again)").
refusal() { echo "upnp: LOCATION $1 from $LAB_LAN2_IP is not the answering host; not fetched"; }
refusals() { grep -cxF -- "$(refusal "$1")" "$NM_LOG"; }
baits() { echo "$(lab_tcp_count "$LAB_WAN_IP" 5000) $(lab_tcp_count "$LAB_RTR_LAN_IP" 5001)"; }
no_rules() { [ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]; }

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
# First a router whose UPnP is off: only the liar answers searches.
lab_router_start enable_upnp=no || { tap_fail "miniupnpd starts without UPnP"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_tcp_count_start wan "$LAB_WAN_IP" 5000 &&
    lab_tcp_count_start rtr "$LAB_RTR_LAN_IP" 5001 ||
    { tap_fail "the counting listeners start"; tap_done; exit 1; }
# The baits count what reaches them: one connection each from lan2, by hand.
lab_lan2 timeout 3 bash -c "exec 3<>/dev/tcp/$LAB_WAN_IP/5000" 2>/dev/null
lab_lan2 timeout 3 bash -c "exec 3<>/dev/tcp/$LAB_RTR_LAN_IP/5001" 2>/dev/null
tap_check "the counting listeners count a connection from the LAN" \
    lab_wait 5 eval '[ "$(baits)" = "1 1" ]'
lab_ssdp_liar_start "$OFF_URL" "$ON_URL" || { tap_fail "the SSDP liar starts"; tap_done; exit 1; }

# -- Only the liar answers: natmapd connects nowhere and finds no IGD.
nm_start lan liar-only.log -m 8080/tcp --protocol upnp
two_probes() { [ "$(grep -c '^ssdp: M-SEARCH round 2 sent$' "$NM_LOG")" -ge 2 ] &&
    [ "$(grep -c 'UPnP: no usable UPnP IGD answered' "$NM_LOG")" -ge 1 ] &&
    [ "$(lab_ssdp_liar_answers)" -ge 8 ]; }
tap_check "liar only: natmapd searches twice, the liar answers each time" lab_wait 15 two_probes
tap_check "liar only: no IGD reported" \
    nm_log_has "^no gateway protocol answered on eth0 \(UPnP: no usable UPnP IGD answered\); retrying in [0-9]+s$"
tap_check "liar only: the off-LAN LOCATION is refused, said once at info" \
    eval '[ "$(refusals "$OFF_URL")" = 1 ]'
tap_check "liar only: the LOCATION naming the router is refused, said once at info" \
    eval '[ "$(refusals "$ON_URL")" = 1 ]'
tap_check "liar only: later answers are refused at debug" \
    nm_log_has "^$(refusal "$OFF_URL") \(again\)$"
tap_check "liar only: nothing connected to either bait" eval '[ "$(baits)" = "1 1" ]'
tap_check "liar only: nothing mapped" no_rules
nm_stop_check "liar only: SIGTERM" 5000
tap_check "liar only: still nothing connected to either bait" eval '[ "$(baits)" = "1 1" ]'

# -- The genuine IGD answers too: natmapd maps through it.
lab_router_stop
lab_router_start || { tap_fail "miniupnpd starts with UPnP"; tap_done; exit 1; }
answers=$(lab_ssdp_liar_answers)
nm_start lan liar-and-igd.log -m 8080/tcp --protocol upnp
tap_check "beside the liar: tcp 8080 reached from the WAN through miniupnpd" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "beside the liar: mapped via UPnP, as the router's lease says" \
    eval '[[ $(lease_desc tcp 8080) =~ ^natmapd: ]]'
tap_check "beside the liar: the gateway is the genuine one" \
    nm_log_has "^UPnP \(WANIPConnection:2\) gateway http://$LAB_RTR_LAN_IP:$LAB_HTTP_PORT/rootDesc.xml$"
tap_check "beside the liar: the liar answered natmapd's search" \
    eval '[ "$(lab_ssdp_liar_answers)" -gt "$answers" ]'
tap_check "beside the liar: nothing connected to either bait" eval '[ "$(baits)" = "1 1" ]'
tap_check "beside the liar: never more than one info line per refused URL" \
    eval '[ "$(refusals "$OFF_URL")" -le 1 ] && [ "$(refusals "$ON_URL")" -le 1 ]'
# NOTIFY: from lan2, or from the router naming another host, not heeded
# (a new BOOTID would map everything again, a new LOCATION search again).
lab_ssdp_notify lan2 "http://$LAB_LAN2_IP:5000/rootDesc.xml" 7 >/dev/null
lab_ssdp_notify rtr "$OFF_URL" 7 >/dev/null
tap_check "NOTIFY from the router naming another host: dropped" \
    nm_wait_log 5 "^ssdp: dropped a NOTIFY from $LAB_RTR_LAN_IP: its LOCATION $OFF_URL is not on that host$"
tap_check "NOTIFY from lan2 or naming another host: no restart, no new search" \
    eval '! nm_log_has "restarted \(UPnP BOOTID|describes itself"'
# The control: the router naming itself on another port is heard.
lab_ssdp_notify rtr "http://$LAB_RTR_LAN_IP:5002/rootDesc.xml" >/dev/null
tap_check "NOTIFY from the router naming itself: heard" \
    nm_wait_log 5 "^gateway $LAB_RTR_LAN_IP now describes itself at http://$LAB_RTR_LAN_IP:5002/rootDesc.xml; looking for it again$"
tap_check "beside the liar: after the NOTIFYs, nothing connected to either bait" \
    eval '[ "$(baits)" = "1 1" ]'
nm_stop_check "beside the liar: SIGTERM" 5000
tap_check "beside the liar: nothing left on the router" lab_wait 3 no_rules
lab_ssdp_liar_stop

# -- Forged PCP and NAT-PMP from another host, or the router's address but not port 5351.
nm_start lan forged.log -m 8080/tcp --protocol pcp
tap_check "forged: the router forwards tcp 8080" \
    lab_wait 10 has_rule "^tcp dport 8080 dnat to $LAB_LAN_IP:8080$"
tap_check "forged: mapped via PCP, as the router's lease says" \
    eval '[[ $(lease_desc tcp 8080) =~ ^PCP\ MAP\  ]]'
nm_wait_log 5 "^tcp $LAB_LAN_IP:8080 -> " || true	# and natmapd knows it
rule_before=$(lab_rules | grep "dnat to $LAB_LAN_IP:8080")
maps() { grep -c "^tcp $LAB_LAN_IP:8080 -> " "$NM_LOG"; }
maps_before=$(maps)
# A mapping made again would move the lease's expiry on: the second turns.
lease_before=$(lease_of tcp 8080)
second_turns
pcp_port=$(lab_lan ss -Hnu "dst $LAB_RTR_LAN_IP:5351" | awk '{ sub(/.*:/, "", $4); print $4; exit }')
for from in "lan2 5351" "rtr 5352"; do
	set -- $from
	lab_pmp_forge "$1" announce "$2" 224.0.0.1 5350 >/dev/null
	lab_pmp_forge "$1" public "$2" 224.0.0.1 5350 198.51.100.66 >/dev/null
	lab_pmp_forge "$1" announce "$2" "$LAB_LAN_IP" 5350 >/dev/null
	[ -n "$pcp_port" ] &&
	    lab_pmp_forge "$1" map "$2" "$LAB_LAN_IP" "$pcp_port" 198.51.100.66 >/dev/null
done
tap_check "forged: the PCP client socket was found and sent to" [ -n "$pcp_port" ]
tap_check "forged: announcements from lan2 are dropped" \
    nm_wait_log 5 "^announce: dropped a datagram from $LAB_LAN2_IP:5351$"
tap_check "forged: announcements from the router's port 5352 are dropped" \
    nm_wait_log 5 "^announce: dropped a datagram from $LAB_RTR_LAN_IP:5352$"
tap_check "forged: no restart heeded, nothing mapped again" \
    eval '! nm_log_has "announced a restart" && [ "$(maps)" = "$maps_before" ]'
tap_check "forged: the external address is not the forged one" \
    eval '! nm_log_has "198\.51\.100\.66"'
tap_check "forged: the router's rule is unchanged" \
    eval '[ "$(lab_rules | grep "dnat to $LAB_LAN_IP:8080")" = "$rule_before" ] && [ -n "$rule_before" ]'
tap_check "forged: and its lease too: nothing was mapped again" \
    eval '[ -n "$lease_before" ] && [ "$(lease_of tcp 8080)" = "$lease_before" ]'
tap_check "forged: tcp 8080 still reached from the WAN" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
# The control: the router itself restarting is heard (the listener works).
lab_router_stop
lab_router_start || tap_fail "miniupnpd starts again"
tap_check "forged: a genuine restart announcement is heeded" \
    nm_wait_log 10 "^gateway $LAB_RTR_LAN_IP announced a restart \(epoch [0-9]+\); mapping again$"
tap_check "forged: the restarted router is asked to map tcp 8080 again" \
    lab_wait 10 grep -q "PCP MAP: added mapping TCP 8080->$LAB_LAN_IP:8080 " \
    "$LAB_DIR/miniupnpd.log"
nm_stop_check "forged: SIGTERM" 5000
tap_done
