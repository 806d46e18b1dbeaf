# SPDX-License-Identifier: ISC
# The relayed path in one round through the rendezvous (issue 12,
# bench/relay.sh's "start to relayed path"): the two-site lab with both
# NATs cone, coturn as the TURN server.  alpha (relay fallback, the
# default, no allocation of its own yet) exposes a UDP and a TCP echo to
# beta, started afresh with --relay always.  beta's first CONNECT waits
# for its own allocation and carries its relayed address; alpha allocates
# on it and holds its OFFER until its own relay is up, so the OFFER
# carries alpha's relayed address: one CONNECT, one OFFER, the relayed
# path, without the second round ("its relay was not up; punching
# again").  Datagrams and 1 MB of TCP pass end to end through coturn.  beta
# restarted with relay fallback, a punchable NAT: nothing waits for a
# relay, the path is direct.  The times from beta's start are printed as
# TAP comments; the one limit on them is wide (5 s).
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_relay_lab
punch_nat_modes cone cone "both sites' NATs cone (punchable)"
punch_echoes
relay_re=${LAB_RELAY_IP//./\\.}

before() { punch_log_before "$@"; }
# count_before NAME REGEX1 REGEX2 N: exactly N of them
count_before() { [ "$(before "$1" "$2" "$3" | wc -l)" -eq "$4" ]; }

punch_always_pair

up_b="alpha: relayed path up, to $relay_re:[0-9]+ through TURN server $relay_re:$LAB_RELAY_PORT"
if lab_wait 30 log_has beta "$up_b"; then
	t_path=$(( $(lab_now_ms) - t0 ))
	echo "# beta's start to its relayed path: $t_path ms"
	tap_ok "beta: a relayed path to alpha"
else
	t_path=
	tap_fail "beta: a relayed path to alpha" "$(diag beta 40)" "$(diag alpha 40)"
fi
carrier() { log_has beta "alpha: TCP carrier up, to $relay_re:$LAB_RELAY_PORT"; }
if lab_wait 20 carrier; then
	echo "# beta's start to its TCP carrier through coturn: $(( $(lab_now_ms) - t0 )) ms"
	tap_ok "beta: the TCP carrier to alpha through coturn (RFC 6062)"
else
	tap_fail "beta: the TCP carrier to alpha through coturn" "$(diag beta 30)"
fi
tap_check "alpha: a relayed path to beta" \
    lab_wait 10 log_has alpha "beta: relayed path up, to $relay_re:[0-9]+ through TURN server"
tap_check "beta: its first CONNECT waited for its own relay" \
    log_has beta "alpha: the first CONNECT waits for our relay"
tap_check "beta: the CONNECT went with its relay up ($(grep -o 'alpha: the CONNECT goes .*' "$LAB_DIR/beta.log" | head -n 1))" \
    log_has beta "alpha: the CONNECT goes [0-9]+ ms later, our relay up"
tap_check "alpha: the CONNECT brought a relayed address; its OFFER waited for alpha's own relay" \
    log_has alpha "beta: CONNECT \\(attempt 1\\) with a relayed address: the OFFER waits for our relay"
tap_check "alpha: the OFFER went with alpha's relay up ($(grep -o 'beta: the OFFER goes .*' "$LAB_DIR/alpha.log" | head -n 1))" \
    log_has alpha "beta: the OFFER goes [0-9]+ ms later, our relay up"
tap_check "beta: no second round for alpha's relay (no \"its relay was not up; punching again\")" \
    bash -c "! grep -q 'its relay was not up' '$LAB_DIR/beta.log'"
tap_check "beta: one CONNECT before the relayed path ($(before beta 'alpha: attempt [0-9]+ of' 'alpha: relayed path up' | wc -l) attempts logged)" \
    count_before beta "alpha: attempt [0-9]+ of" "alpha: relayed path up" 1
offer_re='beta: CONNECT [(]attempt [0-9]+[)], answering'
tap_check "alpha: one OFFER before the relayed path ($(before alpha "$offer_re" 'beta: relayed path up' | wc -l) logged)" \
    count_before alpha "$offer_re" "beta: relayed path up" 1
within5() { [ -n "$t_path" ] && [ "$t_path" -lt 5000 ]; }
tap_check "beta: the relayed path within 5 s of its start (${t_path:-no} ms)" within5
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo, through the relay" \
    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
tap_check "1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo, byte for byte" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 30
tap_check "relay always: no direct path" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/beta.log'"

# ---- relay fallback with a punchable NAT: nothing waits for a relay ----
it_node_stop beta
t0=$(lab_now_ms)
punch_node beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp --connect alpha/tcpecho=127.0.0.1:7101/tcp
if lab_wait 30 log_has beta "alpha: direct path up"; then
	echo "# beta's start to its direct path (relay fallback): $(( $(lab_now_ms) - t0 )) ms"
	tap_ok "relay fallback: beta: a direct path to alpha"
else
	tap_fail "relay fallback: beta: a direct path to alpha" "$(diag beta 40)"
fi
tap_check "relay fallback: beta's CONNECT did not wait, no allocation made" \
    bash -c "! grep -Eq 'waits for our relay|relay: an allocation' '$LAB_DIR/beta.log'"
tap_check "relay fallback: 20 datagrams pass end to end" \
    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5

punch_no_creds_check "$secret"
tap_done
