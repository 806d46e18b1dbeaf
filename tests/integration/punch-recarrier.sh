# SPDX-License-Identifier: ISC
# A TCP carrier missed while the UDP path comes up is tried again (issue
# 11): site 2's router drops TCP between the two sites' public addresses
# (not to the rendezvous), so beta's first attempt punches the UDP path
# but makes no carrier.  Then the rule goes: beta makes a new session for
# the carrier on its own (the waits doubling from 2 s), and 1 MB passes
# through the TCP echo byte for byte, datagrams too.  And a client that
# connects before the carrier is up waits for it (10 s at most) rather
# than being reset: beta restarted, a client at once gets its echo.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

command -v nft >/dev/null || { tap_fail "nft installed"; tap_done; exit 1; }
punch_lab
node() { punch_node "$@"; }
punch_echoes

if lab_rtr2 nft -f - <<NFT
table inet recarrier_block {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip daddr $LAB_PUBLIC_IP meta l4proto tcp drop
		ip saddr $LAB_PUBLIC_IP meta l4proto tcp drop
	}
}
NFT
then
	tap_ok "site 2's router drops TCP to and from site 1's public address"
else
	tap_fail "site 2's router drops TCP to and from site 1's public address"
fi

node alpha lan "$LAB_DIR/home.key" home --expose echo=127.0.0.1:7000/udp@beta \
    --expose tcpecho=127.0.0.1:7100/tcp@beta
node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp

if lab_wait 30 log_has beta "alpha: direct path up"; then
	tap_ok "beta: a direct UDP path to alpha"
else
	tap_fail "beta: a direct UDP path to alpha" "$(diag beta 40)" "$(diag alpha 30)"
fi
tap_check "20 datagrams pass through beta's 127.0.0.1:7001" \
    lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 10
if lab_wait 20 log_has beta "alpha: TCP carrier not made"; then
	tap_ok "beta: the TCP carrier not made (TCP dropped)"
else
	tap_fail "beta: the TCP carrier not made" "$(diag beta 40)"
fi
tap_check "beta: a new session for the carrier, though the UDP path is up" \
    lab_wait 5 log_has beta "alpha: a new session for a new carrier in [0-9]+ ms"

# (at once: the tries after it come 2, 4, 8... s apart, and one may lose
# the race of the two SYNs in the lab's NATs, so the more the better)
lab_rtr2 nft delete table inet recarrier_block &&
    tap_ok "the TCP drop rule removed" || tap_fail "the TCP drop rule removed"
t0=$(date +%s)
if lab_wait 60 log_has beta "alpha: TCP carrier up"; then
	tap_ok "beta: the carrier up $(( $(date +%s) - t0 )) s after the rule went, with no restart"
else
	tap_fail "beta: the carrier up within 60 s of the rule going" "$(diag beta 40)" "$(diag alpha 30)"
fi
tap_check "alpha: the carrier up too" lab_wait 10 log_has alpha "beta: TCP carrier up"
tap_check "1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo, byte for byte" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 1000000 -t 20
tap_check "20 datagrams still pass" \
    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5

# ---- a client before the carrier waits for it ----
it_node_stop beta
node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
    --connect alpha/tcpecho=127.0.0.1:7101/tcp
listening() { log_has beta "connect alpha/tcpecho=127.0.0.1:7101/tcp: listening"; }
tap_check "beta started again, its TCP connect port open" lab_wait 10 listening
tap_check "a client at once, before any carrier: 100 KB through the TCP echo, byte for byte, no reset" \
    lab_traffic_check site2 tcp 127.0.0.1 7101 -n 100000 -t 20
tap_check "beta: the client waited for the carrier" \
    log_has beta "connect alpha/tcpecho: no TCP carrier to alpha yet; the connection waits for it"
tap_done
