# SPDX-License-Identifier: ISC
# natmapd's own restart: the state file names what it holds on the router; a new
# natmapd keeps the PCP nonces and deletes what the configuration no longer asks for.
. "$(dirname "$0")/common.sh"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
state=$LAB_DIR/natmapd.state
# nonce_of PORT: the nonce the state file holds for PORT (24 hex digits)
nonce_of() { awk -v p="$1" '$4 == p { print $6 }' "$state"; }
# a nonce natmapd made: 24 hex digits, not all zero
real_nonce() { [[ $1 =~ ^[0-9a-f]{24}$ ]] && [[ $1 =~ [1-9a-f] ]]; }
both_on_router() { [ "$(count_rules 8080)" = 1 ] && [ "$(count_rules 9000)" = 1 ]; }

for p in pcp natpmp upnp; do
	rm -f "$state"
	nm_start lan "first-$p.log" -m 8080/tcp -m 9000/udp --protocol "$p"
	tap_check "--protocol $p: both mapped on the router" \
	    lab_wait 10 both_on_router
	tap_check "--protocol $p: the state file lists both mappings" \
	    lab_wait 3 eval '[ "$(grep -c "^map $p " "$state")" = 2 ]'
	nonce=$(nonce_of 8080)
	tap_check "--protocol $p: the state file has a nonce for 8080" \
	    real_nonce "$nonce"
	kill -KILL "$NM_PID"
	wait "$NM_PID" 2>/dev/null
	NM_PID=
	# The configuration no longer has 9000/udp.
	nm_start lan "second-$p.log" -m 8080/tcp --protocol "$p"
	tap_check "--protocol $p: the mapping left behind and no longer wanted is named" \
	    nm_wait_log 5 "^udp 9000 -> 9000, made by an earlier natmapd, is no longer configured: deleting it$"
	tap_check "--protocol $p: and deleted from the router" \
	    lab_wait 5 eval '[ "$(count_rules 9000)" = 0 ]'
	tap_check "--protocol $p: 8080 is mapped, once" \
	    lab_wait 5 eval '[ "$(count_rules 8080)" = 1 ]'
	tap_check "--protocol $p: the state file now lists 8080 alone" \
	    lab_wait 3 eval '[ "$(grep -c "^map " "$state")" = 1 ] && grep -q "^map $p tcp 8080 " "$state"'
	tap_check "--protocol $p: with the same nonce as before" \
	    eval 'real_nonce "$nonce" && [ "$(nonce_of 8080)" = "$nonce" ]'
	nm_stop_check "--protocol $p: SIGTERM" 5000
	tap_check "--protocol $p: SIGTERM empties the state file" \
	    eval '[ "$(grep -c "^map " "$state")" = 0 ]'
	tap_check "--protocol $p: and the router" \
	    eval '[ "$(count_rules 8080)" = 0 ]'
done

# A natmapd that lost its state file still knows its own UPnP entries by the
# tag in their description; another instance's (another state file) are left.
rm -f "$state"
nm_start lan lost-1.log -m 8080/tcp -m 9000/udp --protocol upnp
tap_check "both mapped on the router" lab_wait 10 both_on_router
ip netns exec "$(lab_ns_of lan)" "$NATMAPD" -f -v -c "$NM_CONF" \
    --state-file "$LAB_DIR/other.state" -m 9001/udp --protocol upnp \
    </dev/null >"$LAB_DIR/other.log" 2>&1 &
other=$!
tap_check "another instance maps 9001/udp" \
    lab_wait 10 eval '[ "$(count_rules 9001)" = 1 ]'
kill -KILL "$NM_PID"
wait "$NM_PID" 2>/dev/null
NM_PID=
rm -f "$state"
RMARK=$(wc -l <"$LAB_DIR/miniupnpd.log")
nm_start lan lost-2.log -m 8080/tcp --protocol upnp
tap_check "without a state file, its own entry no longer wanted is found on the router" \
    nm_wait_log 5 "^udp 9000 -> 9000, made by an earlier natmapd, is no longer configured: deleting it$"
tap_check "and deleted from the router" \
    lab_wait 5 eval '[ "$(count_rules 9000)" = 0 ]'
tap_check "the whole table was looked at" \
    nm_wait_log 5 "looked at [0-9]+ entries on the gateway"
# The router's side: its three entries (8080 and 9000 left by the killed
# natmapd, the other instance's 9001) asked for by index, and the index
# after them (the end of the table).
asked_index() {
	tail -n +"$((RMARK + 1))" "$LAB_DIR/miniupnpd.log" |
	    grep -q "GetGenericPortMappingEntry: index=$1\$"
}
tap_check "the router was asked for every entry, index 0 to 3" asked_index 3
tap_check "8080 is mapped, once" \
    lab_wait 5 eval '[ "$(count_rules 8080)" = 1 ]'
tap_check "the other instance's 9001/udp is left alone" \
    eval '[ "$(count_rules 9001)" = 1 ] && ! grep -q "udp 9001 -> 9001, made by" "$NM_LOG"'
kill -TERM "$other"
tap_check "the other instance deletes its own on SIGTERM" \
    lab_wait 5 eval '[ "$(count_rules 9001)" = 0 ]'
wait "$other" 2>/dev/null
nm_stop_check "SIGTERM" 5000

# A damaged state file is reported and ignored, never half-read.
printf 'map pcp tcp 8080 8080 0123 192.168.77.1 192.168.77.10\n' >"$state"
nm_start lan damaged.log -m 8080/tcp
tap_check "a damaged state file is reported, with its line" \
    nm_wait_log 5 "natmapd.state:1: .*; ignoring the state file$"
tap_check "and natmapd maps all the same: the WAN reaches the service" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "through one rule on the router" \
    lab_wait 5 eval '[ "$(count_rules 8080)" = 1 ]'
nm_stop_check "SIGTERM" 5000
tap_done
