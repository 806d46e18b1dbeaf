# SPDX-License-Identifier: ISC
# natmapd-rendezvous serves authenticated REGISTER: a node behind the lab's
# NAT registers over UDP and TCP with a network key from natmapd --keygen
# and gets, under that key, the router's public address and port; every
# authentication negative (wrong key, replay, 31 s skew, a flipped byte,
# an unknown network, a truncated message) gets no answer and is counted
# (SIGUSR1's stats line).  The client, tests/lab/rdv-register.py, builds
# the messages apart from the C codec.
. "$(dirname "$0")/rdv-common.sh"

reg() { lab_lan python3 "$SRCDIR/tests/lab/rdv-register.py" "$@"; }

rdv_tmp reg
umask 077
rdv_networks home other
tap_check "natmapd --keygen: two keys" test -s "$tmp/home.key" -a -s "$tmp/other.key"
tap_check "the networks file: 2 lines of NAME SERVER-KEY" \
    test "$(grep -cE '^(home|other) [A-Za-z0-9+/]{43}=$' "$tmp/nets")" = 2

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
rdv_start "natmapd-rendezvous starts with 2 networks" \
    --networks "$tmp/nets" --max-nodes 1000
lab_nat_mode default || tap_fail "nat mode default"

# ---- REGISTER over UDP and TCP: the router's address and the port it mapped ----
out=$(reg ok udp "$rdv" home "$tmp/home.key" nas.lan "$LAB_RTR_WAN_IP:45123" 45123 2>&1)
tap_check "REGISTER over UDP: answered under the key, XOR-MAPPED-ADDRESS $LAB_RTR_WAN_IP:45123 ($out)" \
    test "${out%% *}" = ok
out=$(reg ok tcp "$rdv" other "$tmp/other.key" cam-1.lan "$LAB_RTR_WAN_IP:45124" 45124 2>&1)
tap_check "REGISTER over TCP, another network: answered, $LAB_RTR_WAN_IP:45124 ($out)" \
    test "${out%% *}" = ok
# what the router mapped is what the server says (conntrack's reply tuple)
ct=$(lab_rtr conntrack -L -p udp --dst "$LAB_RDV_IP" --dport "$LAB_RDV_PORT" 2>/dev/null |
    grep -c "dport=45123 ")
tap_check "the router's conntrack holds the UDP binding to port 45123 ($ct)" test "$ct" -ge 1
tap_check "the server logged the REGISTER at debug, no key" \
    lab_wait 5 rdv_log_has "REGISTER nas.lan in network home, 1 candidate, lifetime 75s"

# ---- the negatives: no answer, counted ----
for kind in wrong-key tcp-wrong-key replay skew-ahead skew-behind flip unknown-network truncated; do
	out=$(reg neg "$kind" "$rdv" home "$tmp/home.key" node-"$kind" 2>&1)
	tap_check "$kind: no answer within 1.5 s ($out)" test "$out" = silent
done
# a key that is the other network's: a bad MAC too
out=$(reg neg wrong-key "$rdv" other "$tmp/home.key" node-x 2>&1)
out2=$(reg ok udp "$rdv" other "$tmp/home.key" node-x "$LAB_RTR_WAN_IP:*" 2>&1)
tap_check "home's key for network other: no answer ($out, $out2)" \
    test "$out" = silent -a "${out2%% *}" = FAIL

# the counters: SIGUSR1 logs one line
rdv_stats
tap_check "SIGUSR1 logs a stats line ($line)" test -n "$line"
tap_check "registrations 3 (nas.lan, cam-1.lan, node-replay)" test "$(rdv_stat registrations)" = 3
tap_check "registered 3" test "$(rdv_stat registered)" = 3
tap_check "unknown-network 1" test "$(rdv_stat unknown-network)" = 1
tap_check "bad-mac 5 (wrong key, over TCP, flipped byte, other's key twice)" test "$(rdv_stat bad-mac)" = 5
tap_check "stale 2 (31 s ahead, 31 s behind)" test "$(rdv_stat stale)" = 2
tap_check "replayed 1" test "$(rdv_stat replayed)" = 1
tap_check "malformed 1 (truncated)" test "$(rdv_stat malformed)" = 1
tap_check "no key in the log" sh -c "! grep -qF -e '$(cat "$tmp/home.key")' -e '$(cut -d' ' -f2 "$tmp/nets" | sed -n 2p)' '$LAB_DIR/rendezvous.log'"
tap_check "each drop logged at debug with its reason" \
    rdv_log_has "for network home: bad MAC, dropped"

lab_rendezvous_stop
tap_check "SIGTERM: exit 0 ($LAB_RDV_STATUS)" test "$LAB_RDV_STATUS" = 0
tap_check "the exit logs the counters" rdv_log_has "stopped: registrations 3"
tap_done
