# SPDX-License-Identifier: ISC
# A short lease is renewed at half its length, so the mapping outlives it.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080

# remaining lease of the router's entry for port 8080, from upnpc -l
remaining() {
	lab_lan upnpc -u "$LAB_ROOTDESC" -l 2>/dev/null |
	    awk '/natmapd:[0-9a-f]+ tcp 8080/ { print $NF }' | tr -d "'"
}

nm_start lan natmapd.log -m 8080/tcp --lease 60 --protocol upnp
tap_check "mapped: the WAN reaches tcp 8080" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
left=$(lease_left tcp 8080)
if [ -n "$left" ] && [ "$left" -le 60 ] && [ "$left" -gt 45 ]; then
	tap_ok "the router holds the 60 s lease asked for ($left s left)"
else
	tap_fail "the router holds the 60 s lease asked for (got '$left' s left)" \
	    "$(sed 's/^/lease: /' "$LAB_DIR/miniupnpd.leases" 2>/dev/null)"
fi
first=$(lease_expiry tcp 8080)
# The renewal is due at 30 s (half the granted lease): the router's expiry
# moves on by about as much.
moved_on() {
	local e
	e=$(lease_expiry tcp 8080) && [ "$e" -ge $((first + 15)) ]
}
if [ -n "$first" ] && lab_wait 40 moved_on; then
	tap_ok "renewed at half the lease: the router's expiry moved on by $(( $(lease_expiry tcp 8080) - first )) s, $(( ($(lab_now_ms) - NM_T0) / 1000 )) s after start"
else
	tap_fail "renewed at half the lease: the router's expiry moved on" \
	    "first expiry '$first'" \
	    "$(sed 's/^/lease: /' "$LAB_DIR/miniupnpd.leases" 2>/dev/null)"
	nm_diag
fi
r=$(remaining)
if [ -n "$r" ] && [ "$r" -gt 45 ] 2>/dev/null; then
	tap_ok "the router's remaining lease went back up ($r s left)"
else
	tap_fail "the router's remaining lease went back up (got '$r')"
fi
tap_check "still reached from the WAN after the renewal" \
    lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
# The first lease ends (miniupnpd removes an entry a few seconds after its
# lease's end): the renewed mapping outlives it, not gone once in 10 s.
past_first() { [ "$EPOCHSECONDS" -ge "${first:-0}" ]; }
gone() { ! has_rule "dport 8080 dnat to $LAB_LAN_IP:8080"; }
lab_wait 45 past_first
if lab_wait 10 gone; then
	tap_fail "the router forwards tcp 8080 through the 10 s after the first lease's end" \
	    "gone $(( EPOCHSECONDS - first )) s after it"
else
	tap_ok "the router forwards tcp 8080 through the 10 s after the first lease's end"
fi
tap_check "and the WAN still reaches it" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
nm_stop TERM
tap_check "SIGTERM leaves no mapping" no_rule_for 8080
tap_check "nor a lease on the router" eval '! lease_of tcp 8080'
tap_check "and the WAN no longer reaches tcp 8080" \
    eval '! lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null'
tap_done
