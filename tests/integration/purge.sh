# SPDX-License-Identifier: ISC
# A router that purges its table without a word (no reboot, no new BOOTID, no
# announcement): natmapd's canary, one GetSpecificPortMappingEntry every 15 s,
# finds a mapping gone, looks up the others at once and puts them all back,
# reachable from the WAN within 30 s; one entry dropped is found when its turn
# comes.  When nothing changes it costs at most one request per 15 s, however
# many mappings there are.  Through PCP, the canary asks UPnP on the same
# router.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_tcp 8081
lab_serve_udp 9000

PORTS="8080/tcp 8081/tcp 9000/udp"
all_rules() {
	local m rules
	rules=$(lab_rules)
	for m in $PORTS; do
		grep -q "^${m#*/} dport ${m%/*} dnat to $LAB_LAN_IP:${m%/*}$" \
		    <<<"$rules" || return 1
	done
}
no_rules() { [ -z "$(lab_rules | grep "dnat to $LAB_LAN_IP")" ]; }
all_reached() {
	lab_reach_tcp "$LAB_RTR_WAN_IP" 8080 >/dev/null &&
	    lab_reach_tcp "$LAB_RTR_WAN_IP" 8081 >/dev/null &&
	    lab_reach_udp "$LAB_RTR_WAN_IP" 9000 >/dev/null
}
# What natmapd sent the router since line $MARK of its log: SOAP actions,
# description fetches, SSDP searches (natmapd -v logs each one).
since_mark() { tail -n +"$((MARK + 1))" "$NM_LOG"; }
requests() {
	since_mark | grep -cE '^(upnp: [A-Z][A-Za-z]+ |upnp: fetching |ssdp: M-SEARCH )'
}
# And what the router saw from natmapd's host since line $RMARK of its log.
router_requests() {
	tail -n +"$((RMARK + 1))" "$LAB_DIR/miniupnpd.log" |
	    grep -cE "(HTTP REQUEST|SSDP M-SEARCH) from $LAB_LAN_IP:"
}
lookups() { since_mark | grep -c '^upnp: GetSpecificPortMappingEntry '; }
# leases_by REGEX: the router's leases for every mapping have a description
# matching REGEX (which protocol made them: see lease_desc)
leases_by() {
	local m
	for m in $PORTS; do
		[[ $(lease_desc "${m#*/}" "${m%/*}") =~ $1 ]] || return 1
	done
}
lookups_at_least() { [ "$(lookups)" -ge "$1" ]; }

nm_start lan purge.log -m 8080/tcp -m 8081/tcp -m 9000/udp --protocol upnp
tap_check "mapped via UPnP" lab_wait 15 all_rules
tap_check "reached from the WAN" lab_wait 10 all_reached
# The look at the gateway's table natmapd makes once it has found the
# gateway (for entries an earlier natmapd left) is part of starting, not of
# the quiet spell: under ASan it can still be going on here.
scan_over() { grep -q '^looked at [0-9]* entries on the gateway' "$NM_LOG"; }
tap_check "the start's look at the gateway's table is over" lab_wait 30 scan_over

# A quiet spell: four canary look-ups (a bounded wait, 75 s at most), and
# every request natmapd sent meanwhile counted against the time it took.
MARK=$(wc -l <"$NM_LOG")
RMARK=$(wc -l <"$LAB_DIR/miniupnpd.log")
t0=$(lab_now_ms)
if lab_wait 75 lookups_at_least 4; then
	ms=$(( $(lab_now_ms) - t0 ))
	n=$(requests)
	rn=$(router_requests)
	limit=$(( ms / 15000 + 1 ))
	if [ "$n" -le "$limit" ] && [ "$rn" -le "$limit" ]; then
		tap_ok "nothing changes: $n requests sent, $rn seen by the router in $ms ms, $(( n * 60000 / ms )) a minute (at most $limit)"
	else
		tap_fail "nothing changes: $n requests sent, $rn seen by the router in $ms ms, more than $limit"
		since_mark | sed 's/^/# natmapd: /'
	fi
	tap_check "the canary takes each mapping in turn" eval \
	    '[ "$(since_mark | grep "^upnp: GetSpecificPortMappingEntry " |
	    head -n 3 | awk "{ print \$3, \$4 }" | sort -u | wc -l)" = 3 ]'
else
	tap_fail "the canary looks a mapping up every 15 s (4 in 75 s)"
	nm_diag 40
fi

# The purge: the router forgets every entry, its process and BOOTID
# untouched, nothing announced.  Emptying miniupnpd's chains with nft is not
# enough: miniupnpd keeps a copy of its rules, and would go on listing them
# (and answering natmapd that they are there) while nothing is forwarded.
# So the entries are deleted through miniupnpd itself, by another program on
# the LAN host (secure_mode lets only the host an entry points at delete it),
# and the connections the router tracked are forgotten.
purge() {
	local m proto
	for m in $PORTS; do
		proto=${m#*/}
		lab_lan upnpc -u "$LAB_ROOTDESC" -d "${m%/*}" "${proto^^}" \
		    >/dev/null 2>&1 || return 1
	done
	lab_flush_conntrack
}
MARK=$(wc -l <"$NM_LOG")
t0=$(lab_now_ms)
purge || tap_fail "upnpc deletes the entries"
tap_check "the purge took every rule ($(( $(lab_now_ms) - t0 )) ms)" no_rules
# The target is 30 s (a canary every 15-16.5 s, then one round of requests);
# the limit leaves room for a sanitizer build on a loaded machine.
if lab_wait 45 all_rules && lab_wait 5 all_reached; then
	ms=$(( $(lab_now_ms) - t0 ))
	tap_ok "every rule back and reached from the WAN $ms ms after the purge (target 30000, limit 45000)"
	[ "$ms" -le 30000 ] || echo "# over the 30 s target: a slow machine?"
else
	tap_fail "every rule back and reached from the WAN within 45 s of the purge"
	nm_diag 40
fi
tap_check "the log says why" eval 'since_mark | grep -q " lost an entry; looking for the others$"'
tap_check "each mapping was found missing and added again" eval \
    '[ "$(since_mark | grep -c ": no longer on the gateway; adding it again$")" = 3 ]'
tap_check "no restart was seen (no BOOTID change, no announcement)" eval \
    '! since_mark | grep -qE "restarted|announced"'

# One entry dropped, not the whole table: found when its turn comes, within
# three canary intervals for three mappings (16.5 s each at most); only it
# is added again.
MARK=$(wc -l <"$NM_LOG")
# the leases of the entries left: an add would move their expiry on
leases_kept="$(lease_of tcp 8080) $(lease_of tcp 8081)"
second_turns
t0=$(lab_now_ms)
lab_lan upnpc -u "$LAB_ROOTDESC" -d 9000 UDP >/dev/null 2>&1
lab_flush_conntrack
tap_check "the router dropped udp 9000 only" eval \
    '! has_rule "^udp dport 9000 " && has_rule "^tcp dport 8081 "'
if lab_wait 60 all_rules && lab_wait 5 all_reached; then
	tap_ok "udp 9000 back and reached $(( $(lab_now_ms) - t0 )) ms after it was dropped (limit 60000)"
else
	tap_fail "udp 9000 back and reached within 60 s"; nm_diag 40
fi
tap_check "only udp 9000 was added again" eval \
    '[ "$(since_mark | grep ": no longer on the gateway; adding it again$")" = "udp 9000 -> 9000: no longer on the gateway; adding it again" ]'
leases_as_kept() {
	[ "$(lease_of tcp 8080) $(lease_of tcp 8081)" = "$leases_kept" ] &&
	    [ "$leases_kept" != " " ]
}
tap_check "the router's leases for tcp 8080 and 8081 are as they were" \
    leases_as_kept

nm_stop_check "SIGTERM" 5000
tap_check "nothing left" lab_wait 3 no_rules

# PCP, which cannot look a mapping up without renewing it, on a router that
# also speaks UPnP: the canary asks UPnP about the entries PCP made (they are
# one table in miniupnpd), and a miss is mapped again through PCP.
nm_start lan purge-pcp.log -m 8080/tcp -m 8081/tcp -m 9000/udp
tap_check "auto: mapped via PCP, as the router's leases say" \
    lab_wait 15 leases_by "^PCP MAP "
tap_check "auto: the PCP mappings are looked up through UPnP" \
    nm_wait_log 10 "^PCP gateway .*: its mappings are looked up through UPnP at $LAB_ROOTDESC$"
tap_check "auto: reached from the WAN" lab_wait 10 all_reached
MARK=$(wc -l <"$NM_LOG")
t0=$(lab_now_ms)
purge || tap_fail "auto: upnpc deletes the PCP entries"
tap_check "auto: the purge took every rule" no_rules
if lab_wait 45 all_rules && lab_wait 5 all_reached; then
	tap_ok "auto: every rule back via PCP and reached $(( $(lab_now_ms) - t0 )) ms after the purge (target 30000, limit 45000)"
else
	tap_fail "auto: every rule back and reached within 45 s of the purge"
	nm_diag 40
fi
tap_check "auto: each found missing and added again" eval \
    '[ "$(since_mark | grep -c ": no longer on the gateway; adding it again$")" = 3 ]'
tap_check "auto: added again through PCP, not UPnP" eval \
    '! since_mark | grep -q "^upnp: AddPortMapping"'
tap_check "auto: the router holds PCP's entries again, all three" \
    leases_by "^PCP MAP "
nm_stop_check "auto: SIGTERM" 5000
tap_check "auto: nothing left" lab_wait 3 no_rules
tap_done
