# SPDX-License-Identifier: ISC
# Hole punching through the TURN relay (issue 12): the two-site lab with
# both NATs symmetric (masquerade fully-random), where no direct path can
# be punched; coturn as the TURN server (lab_turn_start) and the
# rendezvous handing out its credentials (--turn).  alpha on site 1
# exposes a UDP echo to beta on site 2, which connects to it.  With relay
# fallback (the default) the first attempt fails, both nodes allocate on
# coturn and punch again with their relayed addresses: the path goes
# through the relay on both sides (log, natmapctl status, the status
# file's path "relay"), and datagrams pass end to end.  coturn restarted:
# datagrams again within 10 s.  UDP to the TURN server blocked on site 2:
# beta allocates over TCP and datagrams pass.  beta with --relay never:
# it says why there is no path, and nothing passes.  No TURN username,
# password or secret in any log, status or natmapctl output.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_relay_lab
node() { punch_node "$@"; }
punch_nat_modes random random \
    "both sites' NATs symmetric (masquerade fully-random)"
punch_echoes

relay_re=${LAB_RELAY_IP//./\\.}
# ctl NAME HOST: natmapctl status of node NAME
ctl() {
	ip netns exec "$(lab_ns_of "$2")" "$NATMAPCTL" -s "$LAB_DIR/$1.ctl" status
}
# udp_passes N: N datagrams through beta's 127.0.0.1:7001 come back
udp_passes() { lab_traffic_check site2 udp 127.0.0.1 7001 -n "$1" -t 3 >/dev/null 2>&1; }

# relayed_passes TAG: beta (restarted) has a relayed path to alpha again
# within 60 s, and 20 datagrams pass end to end; two TAP lines
relayed_passes() {
	if lab_wait 60 log_has beta "alpha: relayed path up"; then
		tap_ok "$1: beta: a relayed path to alpha"
	else
		tap_fail "$1: beta: a relayed path to alpha" "$(diag beta 40)" \
		    "$(diag alpha 30)"
	fi
	tap_check "$1: 20 datagrams pass end to end" \
	    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
}

node alpha lan "$LAB_DIR/home.key" home --expose echo=127.0.0.1:7000/udp@beta \
    --expose tcpecho=127.0.0.1:7100/tcp@beta
beta_args=(--connect alpha/echo=127.0.0.1:7001/udp
    --connect alpha/tcpecho=127.0.0.1:7101/tcp)
# beta's peer hook: one line per run, "event EVENT NODE KIND ENDPOINT
# RELAY", and its environment (scanned for credentials at the end)
cat >"$LAB_DIR/peer-hook.sh" <<HOOK
#!/bin/sh
{ printf 'event %s %s %s %s %s\\n' "\$NATMAPD_EVENT" "\$1" "\$2" "\$3" "\$NATMAPD_RELAY"
  env | sed 's/^/env /'; } >>"$LAB_DIR/beta.peer-events"
HOOK
chmod 755 "$LAB_DIR/peer-hook.sh"
node beta site2 "$LAB_DIR/home.key" home "${beta_args[@]}" \
    --peer-hook "$LAB_DIR/peer-hook.sh"
# events: beta's peer hook's runs so far; event_since N REGEX: one after
# the first N matches
events() { grep '^event ' "$LAB_DIR/beta.peer-events" 2>/dev/null; }
event_since() { events | tail -n +"$(($1 + 1))" | grep -Eq -- "$2"; }

# ---- relay fallback (the default): punching fails, the relay carries it ----
if lab_wait 60 log_has beta "alpha: relayed path up, to $relay_re:[0-9]+ through TURN server $relay_re:$LAB_RELAY_PORT"; then
	tap_ok "beta: a relayed path to alpha's relayed address on coturn"
else
	tap_fail "beta: a relayed path to alpha" "$(diag beta 40)" "$(diag alpha 40)"
fi
tap_check "alpha: a relayed path to beta" \
    lab_wait 20 log_has alpha "beta: relayed path up, to $relay_re:[0-9]+ through TURN server"
tap_check "beta: its NAT maps per destination (RFC 5780's test against the rendezvous's other address)" \
    log_has beta "punch: the punching socket is seen at .*: the NAT maps per destination"
tap_check "beta: so the relay at once, before any attempt failed (relay fallback)" \
    log_has beta "relay: an allocation on TURN server $relay_re:$LAB_RELAY_PORT \\(this node's NAT maps per destination\\)"
tap_check "no direct path either side (both NATs symmetric)" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo, through the relay" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
tap_check "alpha opened a flow to the echo" \
    grep -q "beta: a new flow to echo/udp" "$LAB_DIR/alpha.log"
tap_check "beta's peer hook: up, alpha, relay, alpha's relayed address, the TURN server ($(events | head -n 3 | tr '\n' ';'))" \
    lab_wait 10 event_since 0 "^event up alpha relay $relay_re:[0-9]+ $relay_re:$LAB_RELAY_PORT\$"
tap_check "beta's peer hook: NATMAPD_PATH=relay, NATMAPD_PEER=alpha" \
    bash -c "grep -qx 'env NATMAPD_PATH=relay' '$LAB_DIR/beta.peer-events' &&
	grep -qx 'env NATMAPD_PEER=alpha' '$LAB_DIR/beta.peer-events'"
out_b=$(ctl beta site2)
out_a=$(ctl alpha lan)
tap_check "natmapctl status, beta: peer alpha up: relay through TURN server $LAB_RELAY_IP:$LAB_RELAY_PORT ($(grep '^peer' <<<"$out_b"))" \
    grep -Eq "^peer alpha up: relay to $relay_re:[0-9]+ via relay through TURN server $relay_re:$LAB_RELAY_PORT, rtt [0-9]+ ms; (tcp carrier to [^;]*; )?in [1-9][0-9]* B, out [1-9][0-9]* B" <<<"$out_b"
tap_check "natmapctl status, alpha: peer beta up: relay ($(grep '^peer' <<<"$out_a"))" \
    grep -Eq "^peer beta up: relay to $relay_re:[0-9]+ via relay through TURN server $relay_re:$LAB_RELAY_PORT" <<<"$out_a"
# file_relayed NAME: NAME's status file has a peer on the relay path
# (the file is written 100 ms after a change: the checks wait for it)
file_relayed() {
	python3 - "$LAB_DIR/$1.json" "$LAB_RELAY_IP:$LAB_RELAY_PORT" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
peers = st.get("peers") or []
ok = any(p.get("path") == "relay" and p.get("relay") == sys.argv[2] and
         p.get("via") == "relay" and p.get("bytes_in", 0) > 0 for p in peers)
print("#", peers)
sys.exit(0 if ok else 1)
PY
}
for n in alpha beta; do
	tap_check "$n's status file: path relay, the TURN server" \
	    lab_wait 5 file_relayed "$n"
done

# ---- TCP through the relays: the carrier over an RFC 6062 connection ----
tap_check "beta: the TCP carrier to alpha goes through coturn (RFC 6062)" \
    lab_wait 20 log_has beta "alpha: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"
tap_check "alpha: the TCP carrier to beta goes through coturn" \
    lab_wait 10 log_has alpha "beta: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"
tap_check "1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo, byte for byte, through the relay" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 30

# ---- coturn restarted: new allocations, data again within 10 s ----
nev=$(events | wc -l)
lab_turn_start "$secret" >/dev/null 2>&1 &&
    tap_ok "coturn restarted" || tap_fail "coturn restarted"
t0=$(date +%s)
if lab_wait 10 udp_passes 3; then
	tap_ok "datagrams pass again $(( $(date +%s) - t0 )) s after coturn restarted (10 s at most)"
else
	tap_fail "datagrams pass again within 10 s of coturn's restart" "$(diag beta 30)" "$(diag alpha 30)"
fi
tap_check "beta said the relay went down" log_has beta "relay down: "
tap_check "20 datagrams through the new allocations" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
# (the path's end moved to a new relayed address: down then up, or change)
tap_check "beta's peer hook: told of the path through the new allocation ($(events | tail -n +"$((nev + 1))" | tr '\n' ';'))" \
    lab_wait 10 event_since "$nev" "^event (up|change) alpha relay $relay_re:[0-9]+ $relay_re:$LAB_RELAY_PORT\$"
tcp_passes() { lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20; }
if out=$(lab_wait 30 tcp_passes 2>&1); then
	tap_ok "1 MB through the TCP echo again, a new carrier through the new allocations"
else
	tap_fail "1 MB through the TCP echo again, a new carrier through the new allocations" \
	    "$out" "$(diag beta 60)" "$(diag alpha 40)"
fi

# ---- UDP to the TURN server blocked on site 2: TURN over TCP ----
it_node_stop beta
if punch_turn_udp_block on; then
	tap_ok "site 2's router drops the site's UDP to the TURN server"
else
	tap_fail "site 2's router drops the site's UDP to the TURN server"
fi
node beta site2 "$LAB_DIR/home.key" home "${beta_args[@]}"
tap_check "UDP blocked: beta allocates over TCP" \
    lab_wait 60 log_has beta "relay up: $relay_re:[0-9]+ on TURN server $relay_re:$LAB_RELAY_PORT \\(over TCP\\)"
relayed_passes "UDP blocked"
punch_turn_udp_block off

# ---- relay never: no path, said why, nothing passes ----
it_node_stop beta
node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
    --relay never
if lab_wait 60 log_has beta "alpha: no direct path: .*3 attempts made; relay never: no relayed path tried"; then
	tap_ok "relay never: beta says there is no path and that no relay was tried"
else
	tap_fail "relay never: beta says why there is no path" "$(diag beta 30)"
fi
tap_check "relay never: no relay allocated by beta" \
    bash -c "! grep -q 'relay: an allocation' '$LAB_DIR/beta.log'"
tap_check "relay never: natmapctl status says why ($(ctl beta site2 | grep '^peer'))" \
    bash -c "ip netns exec '$(lab_ns_of site2)' '$NATMAPCTL' -s '$LAB_DIR/beta.ctl' status | grep -q '^peer alpha failed: .*relay never: no relayed path tried'"
udp_blocked() { ! udp_passes 3 >/dev/null 2>&1; }
tap_check "relay never: datagrams do not pass" udp_blocked

# ---- relay always, where a direct path would work: through the relay ----
it_node_stop beta
regs() { grep -c "registration renewed" "$LAB_DIR/alpha.log"; }
regs0=$(regs)
if lab_nat_mode cone rtr && lab_nat_mode cone rtr2; then
	tap_ok "both NATs now cone (punchable)"
else
	tap_fail "both NATs now cone"
fi
# the switch dropped alpha's binding to the rendezvous: SIGNALs reach it
# again once it registered anew (every 25 s)
registered_again() { [ "$(regs)" -gt "$regs0" ]; }
tap_check "alpha registered again through its new NAT" lab_wait 40 registered_again
node beta site2 "$LAB_DIR/home.key" home "${beta_args[@]}" --relay always
tap_check "relay always: beta allocates at once" \
    lab_wait 20 log_has beta "relay: an allocation on TURN server $relay_re:$LAB_RELAY_PORT \\(relay always\\)"
relayed_passes "relay always"
tap_check "relay always: no direct path, though the NATs would let one through" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/beta.log'"

# ---- no TURN credential anywhere ----
punch_no_creds_check "$secret"
tap_done
