# SPDX-License-Identifier: ISC
# The TURN client (src/relay.c) against the lab's real coturn
# (lab_turn_start, use-auth-secret): two sites behind NATs in
# symmetric, fully random mode, where no hole punching could work, each
# running tests/lab/relay-pair (relay.c in a small program of its own):
# each allocates, permits the other's relayed address, and numbered
# datagrams pass both ways through the relay, checked at the other end
# (counts and contents); coturn restarted mid-run: a new allocation on
# each side and datagrams again within 10 s; UDP blocked on site 2 (an nft
# rule in its router): no allocation over UDP there, one over TCP, and
# datagrams both ways again; an RFC 6062 TCP connection between the two
# relays carrying 1 MB there and back, checked by sha256sum; wrong
# credentials: the clear error and a non-zero exit.  No username or
# password in any of relay-pair's logs.
# shellcheck disable=SC2015
. "$(dirname "$0")/common.sh"

PAIR=${BUILDDIR:-$(dirname "$NATMAPD")/..}/tests/lab/relay-pair
for t in openssl sha256sum; do
	command -v "$t" >/dev/null || { tap_fail "$t installed"; tap_done; exit 1; }
done
[ -x "$PAIR" ] || { tap_fail "tests/lab/relay-pair built ($PAIR)"; tap_done; exit 1; }

LAB_SITES=2 lab_init || { tap_fail "the two-site lab builds"; tap_done; exit 1; }
tap_ok "the two-site lab builds"
if lab_nat_mode random rtr && lab_nat_mode random rtr2; then
	tap_ok "both sites' NATs symmetric (masquerade fully-random)"
else
	tap_fail "both sites' NATs symmetric"; tap_done; exit 1
fi
secret="lab-turn-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
if lab_turn_start "$secret"; then
	tap_ok "coturn listens as a TURN server on $LAB_RELAY_IP:$LAB_RELAY_PORT"
else
	tap_fail "coturn starts as a TURN server"; tap_done; exit 1
fi
it_on_exit lab_turn_stop

# cred NAME [PASSWORD]: coturn's REST pair for NAME (an hour), computed
# apart with openssl, into $LAB_DIR/NAME.cred; PASSWORD replaces the right one
hmac() { printf %s "$1" | openssl dgst -sha1 -hmac "$2" -binary | base64; }
users=() passes=()
cred() {
	local user pass
	user="$(( $(date +%s) + 3600 )):$1"
	pass=${2:-$(hmac "$user" "$secret")}
	(umask 077 && printf '%s %s\n' "$user" "$pass" >"$LAB_DIR/$1.cred")
	users+=("$user")
	passes+=("$pass")
}
cred alpha
cred beta

# pair TAG HOST ARGS...: relay-pair in HOST (lan: site 1, site2), its output
# in $LAB_DIR/pair-TAG.log, its pid in PAIR_TAG
pair() {
	local tag=$1 host=$2
	shift 2
	lab_bg "pair-$tag" "$(lab_ns_of "$host")" "$PAIR" "$@"
	eval "PAIR_$tag=\$LAB_BG_PID"
}
stop_pair() { local p; for p in "$@"; do eval "lab_kill \"\$PAIR_$p\""; done; }
has() { grep -Eq -- "$2" "$LAB_DIR/pair-$1.log" 2>/dev/null; }
count() { grep -Ec -- "$2" "$LAB_DIR/pair-$1.log" 2>/dev/null; }
diag() { sed "s/^/# pair-$1: /" "$LAB_DIR/pair-$1.log" | tail -n "${2:-15}"; }
addr() { tr ' ' : <"$LAB_DIR/$1.addr" 2>/dev/null; }
relay_re="${LAB_RELAY_IP//./\\.}:[0-9]+"
srv=("$LAB_RELAY_IP" "$LAB_RELAY_PORT")

# ---- datagrams both ways through UDP allocations ----
pair a lan -k 1000 "${srv[@]}" "$LAB_DIR/alpha.cred" alpha "$LAB_DIR/a.addr" \
    "$LAB_DIR/b.addr" udp 20
pair b site2 -k 1000 "${srv[@]}" "$LAB_DIR/beta.cred" beta "$LAB_DIR/b.addr" \
    "$LAB_DIR/a.addr" udp 20
if lab_wait 10 has a "^up $relay_re allocation 1\$" && lab_wait 5 has b "^up $relay_re allocation 1\$"; then
	tap_ok "site 1 and site 2 each allocate a UDP relay on coturn ($(addr a), $(addr b))"
else
	tap_fail "both sides allocate" "$(diag a)" "$(diag b)"; tap_done; exit 1
fi
tap_check "site 1: 20 datagrams from site 2's relayed address, intact" \
    lab_wait 15 has a "^peer $(addr b): 20 datagrams intact"
tap_check "site 2: 20 datagrams from site 1's relayed address, intact" \
    lab_wait 5 has b "^peer $(addr a): 20 datagrams intact"
tap_check "no datagram came damaged or from elsewhere" \
    test "$(count a "bad datagram")$(count b "bad datagram")" = 00
tap_check "coturn bound channels for them" \
    grep -q "CHANNEL_BIND processed, success" "$LAB_DIR/turn-relay.log"

# ---- coturn restarted: new allocations, data again within 10 s ----
old_a=$(addr a) old_b=$(addr b)
lab_turn_start "$secret" || { tap_fail "coturn starts again"; tap_done; exit 1; }
again() {
	has a "^up $relay_re allocation 2\$" && has b "^up $relay_re allocation 2\$" &&
	    [ "$(count a "datagrams intact")" -ge 2 ] &&
	    [ "$(count b "datagrams intact")" -ge 2 ]
}
if lab_wait 10 again; then
	tap_ok "coturn restarted: new allocations ($old_a -> $(addr a), $old_b -> $(addr b)) and 20 datagrams each way again within 10 s"
else
	tap_fail "coturn restarted: new allocations and datagrams again within 10 s" \
	    "$(diag a)" "$(diag b)"
fi
tap_check "site 1 said why the allocation went" has a "^down: TURN server $relay_re"
stop_pair a b

# ---- UDP blocked on site 2: TURN over TCP there ----
rm -f "$LAB_DIR/a.addr" "$LAB_DIR/b.addr"
if lab_rtr2 nft -f - <<NFT
table inet relay_block {
	chain forward {
		type filter hook forward priority -5; policy accept;
		ip saddr $LAB_SITE2_NET meta l4proto udp drop
	}
}
NFT
then
	tap_ok "site 2's router drops the site's UDP"
else
	tap_fail "site 2's router drops the site's UDP"
fi
pair u site2 -k 1000 "${srv[@]}" "$LAB_DIR/beta.cred" beta "$LAB_DIR/u.addr" \
    "$LAB_DIR/a.addr" udp 20
if lab_wait 5 has u "^up "; then
	tap_fail "UDP blocked: no allocation over UDP from site 2" "$(diag u)"
else
	tap_ok "UDP blocked: no allocation over UDP from site 2 in 5 s"
fi
stop_pair u
pair a lan -k 1000 "${srv[@]}" "$LAB_DIR/alpha.cred" alpha "$LAB_DIR/a.addr" \
    "$LAB_DIR/b.addr" udp 20
pair b site2 -t -k 1000 "${srv[@]}" "$LAB_DIR/beta.cred" beta "$LAB_DIR/b.addr" \
    "$LAB_DIR/a.addr" udp 20
if lab_wait 10 has b "^up $relay_re allocation 1\$" && lab_wait 5 has a "^up $relay_re allocation 1\$"; then
	tap_ok "site 2 allocates over TCP ($(addr b)), site 1 over UDP ($(addr a))"
else
	tap_fail "allocations with TCP on site 2" "$(diag a)" "$(diag b)"
fi
tap_check "site 1: 20 datagrams from site 2 (TCP to coturn), intact" \
    lab_wait 15 has a "^peer $(addr b): 20 datagrams intact"
tap_check "site 2 over TCP: 20 datagrams from site 1, intact" \
    lab_wait 5 has b "^peer $(addr a): 20 datagrams intact"
# coturn restarted under a TCP control connection
lab_turn_start "$secret" || { tap_fail "coturn starts again"; tap_done; exit 1; }
if lab_wait 10 again; then
	tap_ok "coturn restarted: site 2 over TCP allocates again and datagrams pass within 10 s"
else
	tap_fail "coturn restarted with TCP on site 2: data again within 10 s" \
	    "$(diag a)" "$(diag b)"
fi
tap_check "site 2 saw coturn close the TCP connection" \
    has b "^down: TURN server $relay_re closed the TCP connection"
stop_pair a b

# ---- RFC 6062: a TCP connection through two TCP allocations ----
rm -f "$LAB_DIR/a.addr" "$LAB_DIR/b.addr"
head -c 1000000 /dev/urandom >"$LAB_DIR/in.bin"
pair c lan -k 1000 "${srv[@]}" "$LAB_DIR/alpha.cred" alpha "$LAB_DIR/c.addr" \
    "$LAB_DIR/d.addr" connect "$LAB_DIR/in.bin" "$LAB_DIR/out.bin"
pair d site2 -k 1000 "${srv[@]}" "$LAB_DIR/beta.cred" beta "$LAB_DIR/d.addr" \
    "$LAB_DIR/c.addr" accept
if lab_wait 10 has c "^up $relay_re allocation 1\$" && lab_wait 5 has d "^up $relay_re allocation 1\$"; then
	tap_ok "TCP allocations (RFC 6062) on both sides ($(addr c), $(addr d))"
else
	tap_fail "TCP allocations" "$(diag c)" "$(diag d)"
fi
tap_check "site 2 accepts a connection from site 1's relayed address (ConnectionAttempt, ConnectionBind)" \
    lab_wait 15 has d "^accepted from $(addr c)\$"
tap_check "site 1 is connected (Connect, ConnectionBind)" \
    lab_wait 5 has c "^connected to $(addr d)\$"
tap_check "1 MB there and back through the relay" \
    lab_wait 30 has c "^tcp: 1000000 bytes back"
sum_in=$(sha256sum <"$LAB_DIR/in.bin") sum_out=$(sha256sum <"$LAB_DIR/out.bin" 2>/dev/null)
tap_check "what came back is what was sent (sha256 ${sum_in%% *})" \
    test "$sum_in" = "$sum_out"
stop_pair c d

# ---- wrong credentials: the clear error, a non-zero exit ----
cred wrong "not-the-password"
lab_lan timeout 30 "$PAIR" -x "${srv[@]}" "$LAB_DIR/wrong.cred" wrong \
    "$LAB_DIR/w.addr" "$LAB_DIR/a.addr" udp 1 >"$LAB_DIR/pair-w.log" 2>&1
rc=$?
if [ "$rc" = 3 ] && has w "refused the credentials \\(401 Unauthorized\\): the rendezvous's turn-secret-file does not match coturn's static-auth-secret"; then
	tap_ok "wrong credentials: exit 3 and \"$(grep -m1 -o "refused the credentials (401 Unauthorized)" "$LAB_DIR/pair-w.log")...\""
else
	tap_fail "wrong credentials: exit 3 with the clear error" "exit $rc" "$(diag w)"
fi

# ---- a REST username that expires under a live allocation ----
# coturn checks a username's expiry when it first makes the session's key
# (an Allocate); the Refreshes of that allocation are checked with the key
# it keeps, so the allocation outlives its username (doc/relay.md, Client)
exp=$(( $(date +%s) + 4 ))
(umask 077 && printf '%s %s\n' "$exp:short" "$(hmac "$exp:short" "$secret")" \
    >"$LAB_DIR/short.cred")
users+=("$exp:short")
pair e lan -k 1000 "${srv[@]}" "$LAB_DIR/short.cred" short "$LAB_DIR/e.addr" \
    "$LAB_DIR/none.addr" udp 1
tap_check "a username expiring in 4 s: allocated" lab_wait 4 has e "^up $relay_re allocation 1\$"
refreshes() { grep -cF "user <$exp:short>: incoming packet REFRESH processed, success" "$LAB_DIR/turn-relay.log"; }
past_expiry() { [ "$(date +%s)" -gt $((exp + 1)) ]; }
lab_wait 10 past_expiry
n0=$(refreshes)
more_refreshes() { [ "$(refreshes)" -gt "$n0" ]; }
tap_check "its Refreshes still succeed once the username expired ($n0 before)" \
    lab_wait 5 more_refreshes
tap_check "and the allocation was not lost" test "$(count e "^down")" = 0
stop_pair e

# ---- no username or password in any log of relay.c ----
pats=()
for p in "${users[@]}" "${passes[@]}" "$secret"; do pats+=(-e "$p"); done
logs=("$LAB_DIR"/pair-*.log)
found=$(grep -lF "${pats[@]}" "${logs[@]}")
tap_check "no secret, username or password in relay-pair's logs (${found:-none} of ${#logs[@]})" \
    test -z "$found"
tap_done
