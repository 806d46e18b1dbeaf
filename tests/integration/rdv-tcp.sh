#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# UDP blocked altogether on a site (issue 12's "UDP blocked on one side"
# cell): site 2's router drops every UDP datagram to and from its LAN, so
# beta on site 2 can neither register with the rendezvous over UDP, nor
# punch, nor reach coturn over UDP.  Both NATs are cones otherwise.
#   - beta registers over TCP (the rendezvous client's fallback: no answer
#     over UDP in 3 s), natmapctl status and the status file say so;
#   - beta allocates on coturn over TCP, the path to alpha goes through the
#     relay on both sides, 20 datagrams pass end to end and reach alpha's
#     UDP service (riding TURN over TCP on beta's side), no direct UDP
#     path; the TCP carrier (direct by simultaneous open, TCP not being
#     blocked, or through coturn) carries 1 MB to alpha's TCP echo;
#   - the rule did drop UDP from site 2 (its counter);
#   - the rendezvous restarted: beta's connection is gone, beta registers
#     again over TCP; alpha restarted then: beta's new path to it (a new
#     CONNECT and OFFER through the rendezvous, the OFFER on beta's new
#     connection) carries data again;
#   - alpha, whose UDP is not blocked, stays on UDP;
#   - UDP let through again: beta's next try of UDP (a minute after its
#     last) is answered, it is back on UDP, natmapctl and the status file
#     say so, and a new path after alpha's restart is signalled over UDP.
# No TURN secret, username or password in any log, status or natmapctl
# output.
# shellcheck disable=SC2015
. "$(dirname "$0")/punch-common.sh"

punch_cone_relay_lab
node() { punch_node "$@"; }
relay_re=${LAB_RELAY_IP//./\\.}
srv_re="$relay_re:$LAB_RELAY_PORT"
rdv_re="${LAB_RDV_IP//./\\.}:$LAB_RDV_PORT"

# site 2's UDP dropped both ways, counted
if lab_rtr2 nft -f - <<NFT
table inet udp_block {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip saddr $LAB_SITE2_NET meta l4proto udp counter drop
		ip daddr $LAB_SITE2_NET meta l4proto udp counter drop
	}
}
NFT
then
	tap_ok "site 2's router drops all UDP to and from its LAN"
else
	tap_fail "site 2's router drops all UDP to and from its LAN"
	tap_done
	exit 1
fi

ctl() {
	ip netns exec "$(lab_ns_of "$2")" "$NATMAPCTL" -s "$LAB_DIR/$1.ctl" "${@:3}"
}
dg_served() { grep -c "^udp from " "$LAB_DIR/traffic-lan-udp-7000.log"; }
mb_served() { grep -c "^tcp from .* 1000000 " "$LAB_DIR/traffic-lan-tcp-7100.log"; }
tcp_mb() {
	local out
	out=$(lab_traffic_check site2 tcp 127.0.0.1 "$1" -n 1000000 -t 30 2>&1) ||
	    { echo "# $out"; return 1; }
}
udp_dropped() {
	lab_rtr2 nft list table inet udp_block |
	    awk '/saddr/ { for (i = 1; i < NF; i++) if ($i == "packets") n = $(i + 1) }
		END { print "# UDP from site 2 dropped: " n; exit !(n > 0) }'
}

node alpha lan "$LAB_DIR/home.key" home \
    --expose echo=127.0.0.1:7000/udp@beta --expose tcpecho=127.0.0.1:7100/tcp@beta
node beta site2 "$LAB_DIR/home.key" home \
    --connect alpha/echo=127.0.0.1:7001/udp --connect alpha/tcpecho=127.0.0.1:7101/tcp

ok_if "alpha registers over UDP" \
    lab_wait 15 log_has alpha "rendezvous $rdv_re: registered as alpha in network home, lifetime [0-9]+s$"
ok_if "beta: no answer over UDP, so TCP" \
    lab_wait 15 log_has beta "rendezvous $rdv_re: no answer over UDP in [0-9.]+ s; over TCP"
ok_if "beta registers over TCP" \
    lab_wait 15 log_has beta "rendezvous $rdv_re: registered as beta in network home, lifetime [0-9]+s, over TCP"
out=$(ctl beta site2 status 2>&1 | grep "^rendezvous ")
tap_check "natmapctl status, beta: registered over tcp ($out)" \
    grep -Eq "^rendezvous $rdv_re registered, expires in .*, over tcp" <<<"$out"
out=$(ctl alpha lan status 2>&1 | grep "^rendezvous ")
tap_check "natmapctl status, alpha: registered, not over tcp ($out)" \
    bash -c "grep -Eq '^rendezvous $rdv_re registered' <<<'$out' && ! grep -q 'over tcp' <<<'$out'"
tap_check "beta's status file: the rendezvous's transport is tcp" \
    lab_wait 5 python3 -c "import json,sys; r=json.load(open('$LAB_DIR/beta.json'))['rendezvous']; print('#', r); sys.exit(not (r and r[0]['transport'] == 'tcp' and r[0]['registered']))"

ok_if "beta allocates on coturn over TCP" \
    lab_wait 60 log_has beta "relay up: $relay_re:[0-9]+ on TURN server $srv_re \\(over TCP\\)"
ok_if "beta: a relayed path to alpha through coturn" \
    lab_wait 60 log_has beta "alpha: relayed path up, to $relay_re:[0-9]+ through TURN server $srv_re"
ok_if "alpha: a relayed path to beta" \
    lab_wait 30 log_has alpha "beta: relayed path up, to $relay_re:[0-9]+ through TURN server $srv_re"
dg0=$(dg_served)
tap_check "20 datagrams through beta's 127.0.0.1:7001 come back from alpha's echo" \
    lab_wait 10 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
tap_check "alpha's UDP echo received them (20 datagrams or more)" \
    bash -c "[ \$(grep -c '^udp from ' '$LAB_DIR/traffic-lan-udp-7000.log') -ge $((dg0 + 20)) ]"
# TCP is not blocked: the carrier may be punched (simultaneous open
# between the two cones) or go through coturn (RFC 6062), whichever the
# attempt made first
ok_if "beta: a TCP carrier to alpha (direct or through coturn)" \
    lab_wait 30 log_has beta "alpha: TCP carrier up, to "
echo "# $(grep -m1 'alpha: TCP carrier up' "$LAB_DIR/beta.log")"
mb0=$(mb_served)
tap_check "1 MB through beta's 127.0.0.1:7101 comes back from alpha's TCP echo, byte for byte" \
    tcp_mb 7101
tap_check "alpha's TCP echo received the 1 MB" \
    bash -c "[ \$(grep -c '^tcp from .* 1000000 ' '$LAB_DIR/traffic-lan-tcp-7100.log') -ge $((mb0 + 1)) ]"
tap_check "no direct UDP path either side" \
    bash -c "! grep -q 'direct path up' '$LAB_DIR/alpha.log' '$LAB_DIR/beta.log'"
tap_check "site 2's router dropped UDP from the site (the block held)" udp_dropped

# the rendezvous restarted: the connection goes, beta registers again
n_reg=$(grep -cE "registered as beta in network home, lifetime [0-9]+s, over TCP" "$LAB_DIR/beta.log")
if punch_rdv_turn "$LAB_DIR/turn.secret"; then
	tap_ok "natmapd-rendezvous restarted"
else
	tap_fail "natmapd-rendezvous restarted"
fi
ok_if "beta: the TCP connection is gone, it says so" \
    lab_wait 10 log_has beta "rendezvous $rdv_re: the TCP connection is gone \\(.*\\); registering again"
reg_again() {
	[ "$(grep -cE "registered as beta in network home, lifetime [0-9]+s, over TCP" "$LAB_DIR/beta.log")" -gt "$n_reg" ]
}
ok_if "beta registers again over TCP within 10 s" lab_wait 10 reg_again
# alpha restarted: beta's path to it dies and beta punches again, its
# CONNECT and alpha's OFFER through the rendezvous, the OFFER on beta's new
# connection
n_up=$(grep -c "alpha: relayed path up" "$LAB_DIR/beta.log")
it_node_stop alpha
node alpha lan "$LAB_DIR/home.key" home \
    --expose echo=127.0.0.1:7000/udp@beta --expose tcpecho=127.0.0.1:7100/tcp@beta
up_again() {
	[ "$(grep -c "alpha: relayed path up" "$LAB_DIR/beta.log")" -gt "$n_up" ]
}
ok_if "alpha restarted: beta's path to alpha comes up again through coturn (SIGNALs over the new connection)" \
    lab_wait 90 up_again
tap_check "20 datagrams pass again" \
    lab_wait 20 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
tap_check "1 MB through the TCP echo again, byte for byte" \
    lab_wait 30 tcp_mb 7101

# UDP passes again: beta's next UDP try (a round's REGISTER over UDP a
# minute after the last, the rounds 20 s apart on TCP) is answered, and
# beta is back on UDP, its connection closed; alpha restarted once more,
# its SIGNALs reach beta over UDP
if lab_rtr2 nft delete table inet udp_block; then
	tap_ok "site 2's router lets UDP through again"
else
	tap_fail "site 2's router lets UDP through again"
fi
ok_if "beta: back to UDP within 90 s (an answer over UDP)" \
    lab_wait 90 log_has beta "rendezvous $rdv_re: an answer over UDP again; back to UDP"
ok_if "beta: seen over UDP again" \
    lab_wait 10 log_has beta "rendezvous $rdv_re: seen as [0-9.:]+$"
out=$(ctl beta site2 status 2>&1 | grep "^rendezvous ")
tap_check "natmapctl status, beta: registered, not over tcp ($out)" \
    bash -c "grep -Eq '^rendezvous $rdv_re registered' <<<'$out' && ! grep -q 'over tcp' <<<'$out'"
tap_check "beta's status file: the rendezvous's transport is udp" \
    lab_wait 10 python3 -c "import json,sys; r=json.load(open('$LAB_DIR/beta.json'))['rendezvous']; print('#', r); sys.exit(not (r and r[0]['transport'] == 'udp' and r[0]['registered']))"
n_up=$(grep -cE "alpha: (relayed|direct) path up" "$LAB_DIR/beta.log")
it_node_stop alpha
node alpha lan "$LAB_DIR/home.key" home \
    --expose echo=127.0.0.1:7000/udp@beta --expose tcpecho=127.0.0.1:7100/tcp@beta
path_again() {
	[ "$(grep -cE "alpha: (relayed|direct) path up" "$LAB_DIR/beta.log")" -gt "$n_up" ]
}
ok_if "alpha restarted: beta's path to alpha up again (SIGNALs over UDP)" \
    lab_wait 90 path_again
echo "# $(grep -E "alpha: (relayed|direct) path up" "$LAB_DIR/beta.log" | tail -1)"
tap_check "20 datagrams pass again" \
    lab_wait 20 lab_traffic_check site2 udp 127.0.0.1 7001 -n 20 -t 5
punch_no_creds_check "$secret"
tap_done
