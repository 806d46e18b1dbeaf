# SPDX-License-Identifier: ISC
# A mapping the gateway made, checked end to end with REACH: natmapd on the
# LAN host maps 8080/tcp (a lab service listens there) and 9000/udp through
# the lab's miniupnpd, registers with natmapd-rendezvous on the WAN side,
# and asks it to connect to 203.0.113.2:8080 from its alternate address.
# The service answers with a line, so the server reads 16 bytes that are
# not the nonce: "not reached: wrong nonce", a connection made, reach ok.
#
# Then forwarding breaks while the router still lists the mapping: a rule
# at the top of the router's forward chain drops what goes to the LAN
# host's port 8080 (dropped, not refused: a reset would prove nothing, the
# router without a rule resets too).  Deleting only the DNAT rule would
# not do: miniupnpd's nftables backend lists its mappings from the rules
# of its nat chain, so the mapping would be gone from the list as well
# (the canary's business, verify.sh and purge.sh), and the router's
# "reject with tcp reset" would answer.  With the drop: no connection
# ("not reached: timed out"), twice in a row, and natmapd deletes the
# mapping and adds it again (its log, miniupnpd's rules and the status
# say so); it still does not forward, and natmapd does not make it again
# within 5 minutes.  The drop removed, the next check says ok and the WAN
# host reaches the service.
#
# The checks' times are the daemon's own: 3 s after a mapping is made, 10 s
# after a failure; a new check is asked with SIGUSR1 (natmapd(8)), which
# checks every mapping now, instead of waiting the 5 minutes.  The UDP
# mapping is not checked (reach null).
. "$(dirname "$0")/common.sh"

it_need_rdv
lab_need_python || { tap_fail "python3 for the status file"; tap_done; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-gwcheck.XXXXXX") || exit 1
it_on_exit "rm -rf '$tmp'"
it_rdv_keys "$tmp" || tap_fail "a key and a networks file"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
it_rendezvous_start "$tmp/nets"
lab_serve_tcp 8080 || tap_fail "a TCP service on the LAN host's 8080"

rdv_log_has() { grep -Eq -- "$1" "$LAB_DIR/rendezvous.log"; }
# map SPEC FIELD: FIELD of the mapping SPEC in the status file ("" if null)
map() {
	python3 - "$LAB_DIR/status.json" "$1" "$2" <<'PY' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))
for m in s.get("mappings") or []:
	if m.get("spec") == sys.argv[2]:
		v = m.get(sys.argv[3])
		print("" if v is None else json.dumps(v).strip('"'))
PY
}
map_is() { [ "$(map "$1" "$2")" = "$3" ]; }
# checked_since SPEC T: the mapping's reach_checked is T or later
checked_since() { [ "$(map "$1" reach_checked)" -ge "$2" ] 2>/dev/null; }
ctl_status() { "$NATMAPCTL" -s "$NM_CTL" status 2>&1; }
ctl_has() { ctl_status | grep -qE -- "$1"; }
# count REGEX: lines of natmapd's log that match
count() { grep -cE -- "$1" "$NM_LOG"; }
# the rule that breaks forwarding, by its comment
BREAK=natmapd-gwcheck-break
break_forwarding() {
	lab_rtr nft insert rule inet "$LAB_NFT_TABLE" forward ip daddr \
	    "$LAB_LAN_IP" tcp dport 8080 counter drop comment "\"$BREAK\""
}
mend_forwarding() {
	local h
	h=$(lab_rtr nft -a list chain inet "$LAB_NFT_TABLE" forward |
	    sed -n "s/.*comment \"$BREAK\".* handle \([0-9]*\).*/\1/p")
	[ -n "$h" ] && lab_rtr nft delete rule inet "$LAB_NFT_TABLE" forward handle "$h"
}
dropped_packets() {
	lab_rtr nft list chain inet "$LAB_NFT_TABLE" forward |
	    sed -n "s/.*counter packets \([0-9]*\) .*comment \"$BREAK\".*/\1/p"
}

cat >"$LAB_DIR/natmapd.conf" <<EOF
rendezvous $LAB_RDV_IP
network home
key-file $tmp/home.key
node gw.lan
EOF
rm -f "$LAB_DIR/status.json"
nm_start lan gwcheck.log -m 8080/tcp -m 9000/udp

# ---- made, and checked from outside: ok ----
tap_check "8080/tcp is mapped on the router" lab_wait 15 has_rule "tcp dport 8080 dnat to $LAB_LAN_IP:8080"
if lab_wait 20 map_is 8080/tcp reach ok; then
	tap_ok "the check says ok $(( $(lab_now_ms) - NM_T0 )) ms after the start"
else
	tap_fail "the check says ok (reach $(map 8080/tcp reach), $(map 8080/tcp reach_detail))"
	nm_diag
fi
tap_check "the server dialled the router's address, port 8080" \
    rdv_log_has "REACH gw.lan in network home: dialling tcp $LAB_PUBLIC_IP:8080"
tap_check "what it said: the service answered, not with the nonce ($(map 8080/tcp reach_detail))" \
    map_is 8080/tcp reach_detail "not reached: wrong nonce"
t=$(map 8080/tcp reach_checked)
tap_check "reach_checked is a time of the last minute ($t)" \
    test "${t:-0}" -ge $(( $(date +%s) - 60 )) -a "${t:-0}" -le "$(date +%s)"
tap_check "9000/udp is up and not checked: reach null" \
    test "$(map 9000/udp state)/$(map 9000/udp reach)" = up/
tap_check "natmapctl status: a reach line under 8080/tcp" \
    ctl_has "^  reach ok, checked [0-9]+s ago \(not reached: wrong nonce\)$"
tap_check "natmapctl status: one reach line in all" \
    test "$(ctl_status | grep -c '^  reach ')" = 1
tap_check "the WAN host reaches the service" lab_reach_tcp "$LAB_PUBLIC_IP" 8080

# ---- broken: listed on the router, not forwarding ----
break_forwarding || tap_fail "the drop rule goes into the router's forward chain"
tap_check "the router still lists 8080/tcp" has_rule "tcp dport 8080 dnat to $LAB_LAN_IP:8080"
tap_check "the WAN host does not reach the service now" eval '! lab_reach_tcp "$LAB_PUBLIC_IP" 8080'
readds=$(count "tcp .*:8080 -> .* via ")
RMARK=$(wc -l <"$LAB_DIR/miniupnpd.log")
# miniupnpd_since REGEX: a line of miniupnpd's log since RMARK matches
miniupnpd_since() { tail -n +"$((RMARK + 1))" "$LAB_DIR/miniupnpd.log" | grep -Eq -- "$1"; }
t0=$(date +%s)
kill -USR1 "$NM_PID"
tap_check "SIGUSR1: checked again, no connection (not reached: timed out)" \
    lab_wait 15 nm_log_has "tcp 8080 -> $LAB_PUBLIC_IP:8080: no connection from outside \(not reached: timed out\); checking again in 10s"
# (the status file follows the log within its write delay)
tap_check "the status says not forwarding" \
    lab_wait 5 map_is 8080/tcp reach "not forwarding"
if nm_wait_log 25 "tcp 8080 -> $LAB_PUBLIC_IP:8080 is listed on the gateway but does not forward \(not reached: timed out, 2 checks in a row\): deleting it and adding it again"; then
	tap_ok "the second check in a row: natmapd logs it and makes the mapping again, $(( $(date +%s) - t0 )) s after the SIGUSR1"
else
	tap_fail "the second check in a row: natmapd makes the mapping again"
	nm_diag
fi
tap_check "natmapd deleted it" nm_wait_log 10 "tcp $LAB_LAN_IP:8080 -> [0-9.]+:8080 deleted"
tap_check "and added it again" lab_wait 10 eval '[ "$(count "tcp .*:8080 -> .* via ")" -gt "$readds" ]'
tap_check "miniupnpd removed it" miniupnpd_since \
    "TCP port 8080 mapping removed|DeletePortMapping.*8080|removing redirect rule port 8080"
tap_check "miniupnpd added it again" lab_wait 10 miniupnpd_since \
    "added mapping TCP 8080->$LAB_LAN_IP:8080|AddPortMapping.*8080.*$LAB_LAN_IP"
tap_check "the router lists it again" lab_wait 10 has_rule "tcp dport 8080 dnat to $LAB_LAN_IP:8080"
tap_check "the status still says not forwarding while it is made again" \
    map_is 8080/tcp reach "not forwarding"
tap_check "checked again after it is back, still no connection: not made again within 5 minutes" \
    nm_wait_log 40 "tcp 8080 -> $LAB_PUBLIC_IP:8080 still does not forward after it was made again \(not reached: timed out\); next check in [0-9]+s"
tap_check "made again once only" \
    test "$(count "deleting it and adding it again")" = 1
tap_check "natmapctl status says not forwarding" \
    ctl_has "^  reach not forwarding, checked [0-9]+s ago \(not reached: timed out\)$"
n=$(dropped_packets)
tap_check "the router dropped the server's SYNs ($n packets)" test "${n:-0}" -ge 4

# ---- mended: the next check says ok, the WAN host gets through ----
mend_forwarding || tap_fail "the drop rule goes"
t0=$(date +%s)
kill -USR1 "$NM_PID"
tap_check "SIGUSR1: checked again, ok" lab_wait 15 eval 'map_is 8080/tcp reach ok && checked_since 8080/tcp "$t0"'
tap_check "natmapd logs that it forwards again" \
    nm_wait_log 5 "tcp 8080 -> $LAB_PUBLIC_IP:8080 forwards again \(not reached: wrong nonce\)"
tap_check "the WAN host reaches the service again" lab_reach_tcp "$LAB_PUBLIC_IP" 8080
tap_check "natmapctl status says ok" ctl_has "^  reach ok, checked [0-9]+s ago"
# (the fallback's TCP rung, started beside the gateway search, may ask one
# REACH of its own for its binding's port before the gateway is found)
n=$(grep -c "REACH gw.lan in network home: dialling tcp $LAB_PUBLIC_IP:8080$" "$LAB_DIR/rendezvous.log")
tap_check "REACHes to 8080 the server took: one per check ($n, 6)" test "$n" = 6
tap_check "no 429 from the server" eval '! rdv_log_has "REACH gw.lan .* 429"'
nm_stop_check "SIGTERM" 5000
tap_done
