# SPDX-License-Identifier: ISC
# The second round through the rendezvous when the peer's relay is late
# (issue 12, RELAY_PEER_WAIT_MS): punch-relay-fast.sh's lab (both NATs
# cone, coturn), but site 1's router drops alpha's UDP to coturn until
# alpha's OFFER has gone.  beta (--relay always) sends its first CONNECT
# with its relayed address; alpha begins an allocation, holds its OFFER 1 s
# for it and sends it without a relayed address.  beta then waits 1.5 s
# and punches again ("its relay was not up; punching again"), once; by
# then alpha's allocation is up (its Allocate is sent again 0.5 s and 1.5 s
# after the first), the second OFFER carries it, and the path is relayed.
# Datagrams and TCP pass end to end through coturn.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

command -v nft >/dev/null || { tap_fail "nft installed"; tap_done; exit 1; }
punch_relay_lab
punch_nat_modes cone cone "both sites' NATs cone (punchable)"
punch_echoes
relay_re=${LAB_RELAY_IP//./\\.}

before() { punch_log_before "$@"; }

if punch_fwd_drop lab_rtr peerwait_block "ip daddr $LAB_RELAY_IP meta l4proto udp"; then
	tap_ok "site 1's router drops UDP to coturn"
else
	tap_fail "site 1's router drops UDP to coturn"; tap_done; exit 1
fi
it_on_exit "lab_rtr nft delete table inet peerwait_block 2>/dev/null"

punch_always_pair

ok_if "alpha: the CONNECT brought a relayed address, the OFFER waits for alpha's relay" \
    lab_wait 20 log_has alpha "beta: CONNECT \\(attempt 1\\) with a relayed address: the OFFER waits for our relay"
ok_if "alpha: its OFFER went after 1 s without its relayed address" \
    lab_wait 5 log_has alpha "beta: the OFFER goes [0-9]+ ms later, without our relayed address"
lab_rtr nft delete table inet peerwait_block
tap_ok "site 1's router lets UDP to coturn through again"

t_again=
if lab_wait 10 log_has beta "alpha: its relay was not up; punching again"; then
	t_again=$(( $(lab_now_ms) - t0 ))
	tap_ok "beta: an OFFER without alpha's relayed address: it punches again ($t_again ms after its start)"
else
	tap_fail "beta: it punches again for alpha's relay" "$(diag beta 30)" "$(diag alpha 30)"
fi
up_b="alpha: relayed path up, to $relay_re:[0-9]+ through TURN server $relay_re:$LAB_RELAY_PORT"
t_path=
if lab_wait 20 log_has beta "$up_b"; then
	t_path=$(( $(lab_now_ms) - t0 ))
	echo "# beta's start to its relayed path: $t_path ms"
	tap_ok "beta: a relayed path to alpha"
else
	tap_fail "beta: a relayed path to alpha" "$(diag beta 40)" "$(diag alpha 40)"
fi
tap_check "alpha: its relay up between the two rounds" \
    log_has alpha "punch: relay up: $relay_re:[0-9]+ on TURN server"
offers() { grep -o 'alpha: OFFER with [0-9]* candidates*' "$LAB_DIR/beta.log" | grep -o '[0-9]*' | tr '\n' ' '; }
tap_check "beta: the first OFFER without alpha's relayed address, the second with it (relay always: candidates $(offers))" \
    eval '[ "$(offers)" = "0 1 " ]'
tap_check "beta: two CONNECT rounds before the relayed path ($(before beta 'alpha: attempt [0-9]+ of' 'alpha: relayed path up' | wc -l) logged)" \
    eval "[ \"\$(before beta 'alpha: attempt [0-9]+ of' 'alpha: relayed path up' | wc -l)\" -eq 2 ]"
tap_check "beta: the wait used once (one \"its relay was not up\")" \
    eval "[ \"\$(grep -c 'its relay was not up' '$LAB_DIR/beta.log')\" -eq 1 ]"
within() { [ -n "$t_path" ] && [ -n "$t_again" ] && [ "$t_path" -lt 10000 ]; }
tap_check "beta: the relayed path within 10 s of its start (${t_path:-no} ms)" within
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo, through the relay" \
    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
tap_check "100 KB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo, byte for byte" \
    lab_wait 20 lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 20
tap_check "relay always: no direct path" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/beta.log'"
tap_done
