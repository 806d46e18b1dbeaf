# SPDX-License-Identifier: ISC
# Shared by the hole-punching tests (punch.sh, punch-tamper.sh,
# punch-relay.sh, relay-cells.sh, relay-upgrade.sh, relay-never.sh), on top of
# common.sh: the two-site lab with the rendezvous, natmapd nodes in it, the
# echoes their services are.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
it_need_rdv
lab_need_python

# punch_lab [NETWORK...]: the two-site lab; NATs that keep an idle UDP
# binding 30 s, as many home routers do (the lab's default of 5 to 10 s is
# shorter than the rendezvous client's 25 s between registrations: a node
# would stop hearing its SIGNALs); network home's secret in
# $LAB_DIR/home.key, each NETWORK's in $LAB_DIR/NETWORK.key; the rendezvous
# serving them all, its address in $rdv.  TAP lines; the test ends if any
# of it fails.
punch_lab() {
	local net
	it_punch_lab
	for net in "$@"; do
		(umask 077 && "$NATMAPD" --keygen >"$LAB_DIR/$net.key") &&
		    echo "$net $("$NATMAPD" --server-key "$LAB_DIR/$net.key")" \
		    >>"$LAB_DIR/nets" ||
		    { tap_fail "keys of network $net"; tap_done; exit 1; }
	done
	it_rendezvous_start "$LAB_DIR/nets"
	rdv="$LAB_RDV_IP:$LAB_RDV_PORT"
}

# punch_node NAME HOST KEYFILE NETWORK ARGS...: it_node (common.sh)
punch_node() { it_node "$@"; }
# log_has NAME REGEX: NAME's log has a line that matches
log_has() { grep -Eq -- "$2" "$LAB_DIR/$1.log"; }
# diag NAME [LINES]: the end of NAME's log as TAP comments
diag() { sed "s/^/# $1: /" "$LAB_DIR/$1.log" | tail -n "${2:-25}"; }
# ok_if DESC CMD...: tap_ok DESC if CMD succeeds, else tap_fail with the
# end of beta's and alpha's logs
ok_if() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "$(diag beta 30)" "$(diag alpha 20)"
	fi
}

# punch_echoes: a UDP echo on 127.0.0.1:7000 and a TCP echo on
# 127.0.0.1:7100 of site 1's host (tests/lab/traffic.py, its logs
# $LAB_DIR/traffic-lan-udp-7000.log and -tcp-7100.log with a digest of
# what each received), a TAP line each
punch_echoes() {
	lab_traffic_serve lan udp 7000 127.0.0.1 -d &&
	    tap_ok "a UDP echo on site 1's host, 127.0.0.1:7000" ||
	    tap_fail "a UDP echo on site 1's host, 127.0.0.1:7000"
	lab_traffic_serve lan tcp 7100 127.0.0.1 -d &&
	    tap_ok "a TCP echo on site 1's host, 127.0.0.1:7100" ||
	    tap_fail "a TCP echo on site 1's host, 127.0.0.1:7100"
}

# punch_creds_seen SECRET FILE...: succeeds (and says where) when the TURN
# secret SECRET (a |-separated list of them), a REST username of alpha or
# beta ("EXPIRY:NODE") or a 28-character base64 password (coturn's REST
# password) is in the nodes' logs, status files or FILEs
punch_creds_seen() {
	local f secrets=$1
	shift
	for f in "$LAB_DIR"/alpha.* "$LAB_DIR"/beta.* "$@"; do
		[ -f "$f" ] || continue
		case $f in *.key|*.secret) continue ;; esac
		if grep -aqE -- "$secrets" "$f" ||
		    grep -aqE -- '[0-9]{9,}:(alpha|beta)' "$f" ||
		    grep -aqE -- '(^|[^A-Za-z0-9+/])[A-Za-z0-9+/]{27}=' "$f"; then
			echo "# in $f"
			return 0
		fi
	done
	return 1
}

# punch_turn_udp_block on|off: site 2's router drops (on) or forwards
# again (off) the site's UDP to the TURN server ($LAB_RELAY_IP)
punch_turn_udp_block() {
	if [ "$1" = off ]; then
		lab_rtr2 nft delete table inet relay_block
		return
	fi
	lab_rtr2 nft -f - <<NFT
table inet relay_block {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip saddr $LAB_SITE2_NET ip daddr $LAB_RELAY_IP meta l4proto udp drop
	}
}
NFT
}

# punch_status_has NAME LIST VAR PYEXPR: NAME's status file has an entry
# VAR of its LIST (peers, services) for which PYEXPR holds (it is printed
# as a TAP comment)
punch_status_has() {
	python3 - "$LAB_DIR/$1.json" "$2" "$3" "$4" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1])).get(sys.argv[2]) or []
ok = any(eval(sys.argv[4], {}, {sys.argv[3]: e}) for e in entries)
print("#", entries)
sys.exit(0 if ok else 1)
PY
}

# punch_ctl NAME HOST ARGS...: natmapctl ARGS to node NAME on HOST
punch_ctl() {
	local name=$1 host=$2
	shift 2
	ip netns exec "$(lab_ns_of "$host")" "$NATMAPCTL" -s "$LAB_DIR/$name.ctl" "$@"
}
# punch_echo_got PORT PROTO: site 1's echo on PORT (lab_traffic_serve
# lan PROTO PORT ... -d) logged something received
punch_echo_got() { grep -q "$2 from" "$LAB_DIR/traffic-lan-$2-$1.log" 2>/dev/null; }
# punch_side_echoes: the echoes relay-never.sh and relay-fallback-svc.sh
# give their services of their own, on site 1's host: 127.0.0.1:7200/tcp
# and :7201/udp; a TAP line
punch_side_echoes() {
	lab_traffic_serve lan tcp 7200 127.0.0.1 -d &&
	    lab_traffic_serve lan udp 7201 127.0.0.1 -d &&
	    tap_ok "$1: their echoes on site 1's host, 127.0.0.1:7200/tcp and :7201/udp" ||
	    tap_fail "$1: echoes on 127.0.0.1:7200/tcp and :7201/udp"
}

# punch_echo_nodes: alpha on site 1 exposes the UDP and TCP echoes
# (punch_echoes) to beta, beta on site 2 connects to them on its
# 127.0.0.1:7001/udp and :7101/tcp; ARGS after -- go to both
punch_echo_nodes() {
	punch_node alpha lan "$LAB_DIR/home.key" home --expose echo=127.0.0.1:7000/udp@beta \
	    --expose tcpecho=127.0.0.1:7100/tcp@beta "$@"
	punch_node beta site2 "$LAB_DIR/home.key" home --connect alpha/echo=127.0.0.1:7001/udp \
	    --connect alpha/tcpecho=127.0.0.1:7101/tcp "$@"
}
# punch_wait_relayed DESC: beta's path to alpha goes through the TURN
# server within 60 s: tap_ok DESC, or tap_fail with both logs and the test
# ends
punch_wait_relayed() {
	local re=${LAB_RELAY_IP//./\\.}
	if lab_wait 60 log_has beta "alpha: relayed path up, to $re:[0-9]+ through TURN server"; then
		tap_ok "$1"
	else
		tap_fail "$1" "$(diag beta 40)" "$(diag alpha 40)"
		tap_done; exit 1
	fi
}

# punch_fwd_drop ROUTER TABLE RULE...: ROUTER (lab_rtr, lab_rtr2) drops
# what each RULE (an nft match, "ip daddr 203.0.113.8") matches in its
# forward chain, before its NAT's chains (nft table TABLE; "ROUTER nft
# delete table inet TABLE" lifts it)
punch_fwd_drop() {
	local rtr=$1 table=$2 r rules=
	shift 2
	for r in "$@"; do
		rules+="		$r drop
"
	done
	"$rtr" nft -f - <<NFT
table inet $table {
	chain forward {
		type filter hook forward priority -5; policy accept;
$rules	}
}
NFT
}
# punch_sites_block TABLE: site 2's router drops everything to and from
# site 1's public address, both ways (punch_fwd_drop)
punch_sites_block() {
	punch_fwd_drop lab_rtr2 "$1" "ip daddr $LAB_PUBLIC_IP" \
	    "ip saddr $LAB_PUBLIC_IP"
}
# punch_always_pair: alpha on site 1 exposes the echoes (punch_echoes) to
# beta and registers (a TAP line); then beta on site 2, started with
# --relay always, connects to them on 127.0.0.1:7001/udp and :7101/tcp;
# $t0 the time of beta's start (lab_now_ms)
punch_always_pair() {
	punch_node alpha lan "$LAB_DIR/home.key" home \
	    --expose echo=127.0.0.1:7000/udp@beta --expose tcpecho=127.0.0.1:7100/tcp@beta
	tap_check "alpha registered" lab_wait 20 log_has alpha "registered as alpha"
	t0=$(lab_now_ms)
	punch_node beta site2 "$LAB_DIR/home.key" home --relay always \
	    --connect alpha/echo=127.0.0.1:7001/udp --connect alpha/tcpecho=127.0.0.1:7101/tcp
}
# punch_log_before NAME REGEX1 REGEX2: the lines of NAME's log that match
# REGEX1, up to its first line that matches REGEX2
punch_log_before() {
	awk -v a="$2" -v b="$3" '$0 ~ b { exit } $0 ~ a' "$LAB_DIR/$1.log"
}

# punch_relay_lab: punch_lab, coturn as the TURN server (lab_turn_start,
# stopped at the end) with a new secret ($secret, also in
# $LAB_DIR/turn.secret), and the rendezvous started again, handing out its
# credentials (punch_rdv_turn); TAP lines, the test ends if any of it fails.
punch_relay_lab() {
	command -v turnserver >/dev/null ||
	    { tap_fail "coturn (turnserver) installed"; tap_done; exit 1; }
	punch_lab
	secret="lab-turn-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	(umask 077 && printf '%s\n' "$secret" >"$LAB_DIR/turn.secret")
	if lab_turn_start "$secret"; then
		tap_ok "coturn listens as a TURN server on $LAB_RELAY_IP:$LAB_RELAY_PORT"
	else
		tap_fail "coturn starts as a TURN server"; tap_done; exit 1
	fi
	it_on_exit punch_relay_down
	if punch_rdv_turn "$LAB_DIR/turn.secret"; then
		tap_ok "natmapd-rendezvous starts with --turn $LAB_RELAY_IP"
	else
		tap_fail "natmapd-rendezvous starts with --turn"; tap_done; exit 1
	fi
}
# punch_relay_down: at the end, the nodes stopped before coturn (a TURN
# server gone first shows in the kept logs as resets of the nodes'
# connections to it, after the last check)
punch_relay_down() {
	local v pids=()
	for v in "${!NODE_PID_@}"; do
		pids+=("${!v}")
	done
	[ "${#pids[@]}" -eq 0 ] || lab_kill "${pids[@]}"
	lab_turn_stop
}
# punch_rdv_turn SECRETFILE: the rendezvous started again, handing out
# credentials for the TURN server made with SECRETFILE's secret
punch_rdv_turn() {
	lab_rendezvous_stop
	lab_rendezvous_start --networks "$LAB_DIR/nets" --turn "$LAB_RELAY_IP" \
	    --turn-secret-file "$1"
}
# punch_nat_modes MODE1 MODE2 DESC: site 1's NAT in lab_nat_mode MODE1,
# site 2's in MODE2; one TAP line DESC, and the test ends if it fails.
punch_nat_modes() {
	if lab_nat_mode "$1" rtr && lab_nat_mode "$2" rtr2; then
		tap_ok "$3"
	else
		tap_fail "$3"; tap_done; exit 1
	fi
}
# punch_no_creds_check SECRET: one TAP line, that no TURN secret (SECRET, a
# |-separated list), REST username or password is in alpha's (site 1) and
# beta's (site 2) logs, status files and natmapctl status
punch_no_creds_check() {
	local secrets=$1
	ip netns exec "$(lab_ns_of lan)" "$NATMAPCTL" -s "$LAB_DIR/alpha.ctl" \
	    status >"$LAB_DIR/ctl-alpha.out" 2>&1
	ip netns exec "$(lab_ns_of site2)" "$NATMAPCTL" -s "$LAB_DIR/beta.ctl" \
	    status >"$LAB_DIR/ctl-beta.out" 2>&1
	no_creds() {
		! punch_creds_seen "$secrets" "$LAB_DIR/ctl-alpha.out" \
		    "$LAB_DIR/ctl-beta.out"
	}
	tap_check "no TURN secret, username or password in the nodes' logs, status files or natmapctl status" \
	    no_creds
}

# punch_block_sites TABLE: punch_sites_block with a TAP line; the test
# ends when the rule cannot be made
punch_block_sites() {
	if punch_sites_block "$1"; then
		tap_ok "site 2's router drops all traffic to and from site 1's public address $LAB_PUBLIC_IP"
	else
		tap_fail "site 2's router drops traffic to and from site 1"
		tap_done
		exit 1
	fi
}

# punch_cone_relay_lab: punch_relay_lab with both sites' NATs cone
# (punchable) and punch_echoes, for the tests that block the direct path
# between the sites with nft (punch_block_sites)
punch_cone_relay_lab() {
	command -v nft >/dev/null ||
	    { tap_fail "nft installed"; tap_done; exit 1; }
	punch_relay_lab
	punch_nat_modes cone cone "both sites' NATs cone (punchable)"
	punch_echoes
}

# punch_count_setup PROTO LABEL: site 2's router counts the PROTO (udp,
# tcp) bytes its LAN sends to and gets from coturn and site 1's public
# address (before its NAT: the LAN's side), removed at exit; a TAP line
# with LABEL, and the test ends if it cannot.  Bytes, not packets: natmapd
# sends a run of datagrams to one address as one (UDP_SEGMENT), which the
# router forwards and counts as one packet.
punch_count_setup() {
	if lab_rtr2 nft -f - <<NFT
table inet natmapd_count {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip daddr $LAB_RELAY_IP meta l4proto $1 counter comment "to-relay"
		ip saddr $LAB_RELAY_IP meta l4proto $1 counter comment "from-relay"
		ip daddr $LAB_PUBLIC_IP meta l4proto $1 counter comment "to-site1"
		ip saddr $LAB_PUBLIC_IP meta l4proto $1 counter comment "from-site1"
	}
}
NFT
	then
		tap_ok "site 2's router counts $2 to and from coturn and site 1"
	else
		tap_fail "site 2's router counts $2"; tap_done; exit 1
	fi
	it_on_exit "lab_rtr2 nft delete table inet natmapd_count 2>/dev/null"
}
# punch_count NAME: the bytes of punch_count_setup's counter NAME
punch_count() {
	lab_rtr2 nft list table inet natmapd_count |
	    sed -n "s/.*counter packets [0-9]* bytes \([0-9]*\) comment \"$1\".*/\1/p"
}
# punch_counts: "to-relay from-relay to-site1 from-site1"
punch_counts() {
	echo "$(punch_count to-relay) $(punch_count from-relay) $(punch_count to-site1) $(punch_count from-site1)"
}
# punch_count_delta BEFORE AFTER: what each of punch_counts' four grew by
punch_count_delta() {
	local a b c d e f g h
	read -r a b c d <<<"$1"
	read -r e f g h <<<"$2"
	echo "$((e - a)) $((f - b)) $((g - c)) $((h - d))"
}
