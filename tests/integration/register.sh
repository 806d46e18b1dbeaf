# SPDX-License-Identifier: ISC
# natmapd-rendezvous serves authenticated REGISTER: a node behind the lab's
# NAT registers over UDP and TCP with a network key from natmapd --keygen
# and gets, under that key, the router's public address and port; every
# authentication negative (wrong key, replay, 31 s skew, a flipped byte,
# an unknown network, a truncated message) gets no answer and is counted
# (SIGUSR1's stats line).  The client, tests/lab/rdv-register.py, builds
# the messages apart from the C codec.
. "$(dirname "$0")/common.sh"

RDV=${NATMAPD_RENDEZVOUS:-$SRCDIR/src/natmapd-rendezvous}
export NATMAPD_RENDEZVOUS=$RDV
if [ ! -x "$RDV" ]; then
	echo "1..0 # SKIP no natmapd-rendezvous binary at $RDV"
	exit 0
fi
lab_need_python

rdv="$LAB_RDV_IP:$LAB_RDV_PORT"
rdv_log_has() { grep -Eq -- "$1" "$LAB_DIR/rendezvous.log"; }
reg() { lab_lan python3 "$SRCDIR/tests/lab/rdv-register.py" "$@"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-reg.XXXXXX") || exit 1
it_on_exit "rm -rf '$tmp'"
umask 077
"$NATMAPD" --keygen >"$tmp/home.key" && "$NATMAPD" --keygen >"$tmp/other.key"
tap_check "natmapd --keygen: two keys" test -s "$tmp/home.key" -a -s "$tmp/other.key"
{
	echo "# the lab's networks"
	echo "home $("$NATMAPD" --server-key "$tmp/home.key")"
	echo "other $("$NATMAPD" --server-key "$tmp/other.key")"
} >"$tmp/nets"
chmod 600 "$tmp/nets"
tap_check "the networks file: 2 lines of NAME SERVER-KEY" \
    test "$(grep -cE '^(home|other) [A-Za-z0-9+/]{43}=$' "$tmp/nets")" = 2
chmod 644 "$tmp/home.key" "$tmp/other.key"	# the LAN host's client reads them

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
if lab_rendezvous_start --networks "$tmp/nets" --max-nodes 1000; then
	tap_ok "natmapd-rendezvous starts with 2 networks"
else
	tap_fail "natmapd-rendezvous starts with 2 networks"
	tap_done
	exit 1
fi
it_on_exit lab_rendezvous_stop
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
kill -USR1 "$LAB_RDV_PID"
lab_wait 5 rdv_log_has "stats: registrations" || true
line=$(grep "stats: registrations" "$LAB_DIR/rendezvous.log" | tail -n 1)
# stat NAME: the counter's value in the line
stat() { sed -E "s/.* $1 ([0-9]+).*/\1/" <<<"$line"; }
tap_check "SIGUSR1 logs a stats line ($line)" test -n "$line"
tap_check "registrations 3 (nas.lan, cam-1.lan, node-replay)" test "$(stat registrations)" = 3
tap_check "registered 3" test "$(stat registered)" = 3
tap_check "unknown-network 1" test "$(stat unknown-network)" = 1
tap_check "bad-mac 5 (wrong key, over TCP, flipped byte, other's key twice)" test "$(stat bad-mac)" = 5
tap_check "stale 2 (31 s ahead, 31 s behind)" test "$(stat stale)" = 2
tap_check "replayed 1" test "$(stat replayed)" = 1
tap_check "malformed 1 (truncated)" test "$(stat malformed)" = 1
tap_check "no key in the log" sh -c "! grep -qF -e '$(cat "$tmp/home.key")' -e '$(cut -d' ' -f2 "$tmp/nets" | sed -n 2p)' '$LAB_DIR/rendezvous.log'"
tap_check "each drop logged at debug with its reason" \
    rdv_log_has "for network home: bad MAC, dropped"

lab_rendezvous_stop
tap_check "SIGTERM: exit 0 ($LAB_RDV_STATUS)" test "$LAB_RDV_STATUS" = 0
tap_check "the exit logs the counters" rdv_log_has "stopped: registrations 3"
tap_done
