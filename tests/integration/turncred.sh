# SPDX-License-Identifier: ISC
# TURN credentials from natmapd-rendezvous (--turn, --turn-secret-file; turn
# and turn-secret-file in its configuration file): its checks of the
# options and of the secret file; then, in the lab, coturn as a TURN server
# (lab_turn_start) with the same secret, a natmapd node that registers and
# says the rendezvous offers the relay, and tests/lab/rdv-turncred, which
# registers as a node would and prints the pair it got: the password is
# base64(HMAC-SHA1(secret, "EXPIRY:NODE")) as openssl computes it apart,
# and turnutils_uclient allocates with it on coturn (over UDP and TCP) and
# gets its data back through the relay.  A wrong secret (the file changed,
# SIGHUP): coturn refuses the allocation.  Without --turn no credentials;
# turn lines in the configuration file and SIGHUP: credentials again.  The
# secrets, usernames and passwords appear in no log, status or natmapctl
# output.
# shellcheck disable=SC2015
. "$(dirname "$0")/common.sh"

it_need_rdv
PROBE=${BUILDDIR:-$(dirname "$NATMAPD")/..}/tests/lab/rdv-turncred
for t in turnutils_uclient openssl; do
	command -v "$t" >/dev/null || { tap_fail "$t installed"; tap_done; exit 1; }
done
[ -x "$PROBE" ] || { tap_fail "tests/lab/rdv-turncred built ($PROBE)"; tap_done; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-turncred.XXXXXX") || exit 1
it_on_exit "rm -rf '$tmp'"
it_rdv_keys "$tmp" || { tap_fail "keys"; tap_done; exit 1; }
secret="lab-turn-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
wrong="lab-wrong-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077 && printf '%s\n' "$secret" >"$tmp/turn.secret")

# ---- the options: checked, printed by -nv (never the secret) ----
: >"$tmp/empty.conf"
out=$("$RDV" -nv -c "$tmp/empty.conf" --listen 198.51.100.7 --turn 203.0.113.8 \
    --turn-secret-file "$tmp/turn.secret" 2>&1)
tap_check "-nv: turn with the default port 3478 and the secret file's path" \
    test "$out" = "listen 198.51.100.7:3480
turn 203.0.113.8:3478
turn-secret-file $tmp/turn.secret"
printf 'listen 198.51.100.7\nturn [2001:db8::8]:5349\nturn-secret-file %s\n' \
    "$tmp/turn.secret" >"$tmp/file.conf"
out=$("$RDV" -nv -c "$tmp/file.conf" 2>&1)
tap_check "-nv: turn and turn-secret-file from the file, IPv6 ($out)" \
    test "$out" = "listen 198.51.100.7:3480
turn [2001:db8::8]:5349
turn-secret-file $tmp/turn.secret"
out=$("$RDV" -nv -c "$tmp/file.conf" --turn 192.0.2.8:3479 2>&1)
tap_check "-nv: the command line's --turn wins ($out)" \
    grep -qx "turn 192.0.2.8:3479" <<<"$out"
# expect_rc DESC RC TEXT ARGS...: the server exits RC, its message has TEXT
expect_rc() {
	local desc=$1 want=$2 text=$3 out rc
	shift 3
	out=$("$RDV" -n -c "$tmp/empty.conf" --listen 198.51.100.7 "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out" &&
	    ! grep -qF -e "$secret" -e "$wrong" <<<"$out"; then
		tap_ok "$desc: exit $rc"
	else
		tap_fail "$desc: exit $want with \"$text\"" "exit $rc" "$out"
	fi
}
expect_rc "--turn without --turn-secret-file" 78 \
    "turn without turn-secret-file: give both or neither" --turn 203.0.113.8
expect_rc "--turn-secret-file without --turn" 78 \
    "turn-secret-file without turn: give both or neither" \
    --turn-secret-file "$tmp/turn.secret"
expect_rc "--turn with a name" 64 "turn relay.example: not ADDR" \
    --turn relay.example --turn-secret-file "$tmp/turn.secret"
expect_rc "--turn 0.0.0.0" 64 "not a wildcard" \
    --turn 0.0.0.0 --turn-secret-file "$tmp/turn.secret"
expect_rc "--turn port 0" 64 "turn 203.0.113.8:0: not ADDR" \
    --turn 203.0.113.8:0 --turn-secret-file "$tmp/turn.secret"
expect_rc "a relative secret file" 64 "not an absolute path" \
    --turn 203.0.113.8 --turn-secret-file turn.secret
expect_rc "a missing secret file" 78 "$tmp/none: No such file" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/none"
cp -p "$tmp/turn.secret" "$tmp/open.secret" && chmod 644 "$tmp/open.secret"
expect_rc "a secret file others may read" 78 "others may read or write it (mode 0644)" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/open.secret"
(umask 077 && : >"$tmp/empty.secret" && printf '\n' >"$tmp/nl.secret" &&
    head -c 257 /dev/zero | tr '\0' a >"$tmp/long.secret" &&
    printf 'two words\n' >"$tmp/blank.secret" &&
    printf '%s\n\n' "$secret" >"$tmp/twolines.secret")
expect_rc "an empty secret file" 78 "empty: the file holds coturn's static-auth-secret" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/empty.secret"
expect_rc "a secret file of a newline" 78 "$tmp/nl.secret: empty" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/nl.secret"
expect_rc "a secret of 257 characters" 78 "longer than 256 characters" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/long.secret"
expect_rc "a secret with a blank" 78 "not one line of printable ASCII without blanks" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/blank.secret"
expect_rc "a secret and an empty line" 78 "not one line of printable ASCII without blanks" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/twolines.secret"
head -c 256 /dev/zero | tr '\0' b >"$tmp/max.secret"; chmod 600 "$tmp/max.secret"
expect_rc "a secret of 256 characters, no newline" 0 "" \
    --turn 203.0.113.8 --turn-secret-file "$tmp/max.secret"

# ---- the lab: coturn with the secret, the rendezvous with --turn ----
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
if lab_turn_start "$secret"; then
	tap_ok "coturn listens as a TURN server on $LAB_RELAY_IP:$LAB_RELAY_PORT (UDP, TCP)"
else
	tap_fail "coturn starts as a TURN server"; tap_done; exit 1
fi
it_on_exit lab_turn_stop
relay="$LAB_RELAY_IP:$LAB_RELAY_PORT"
if lab_rendezvous_start --networks "$tmp/nets" --turn "$LAB_RELAY_IP" \
    --turn-secret-file "$tmp/turn.secret"; then
	tap_ok "natmapd-rendezvous starts with --turn $LAB_RELAY_IP"
else
	tap_fail "natmapd-rendezvous starts with --turn"; tap_done; exit 1
fi
it_on_exit lab_rendezvous_stop
rdv_log_has() { grep -Eq -- "$1" "$LAB_DIR/rendezvous.log"; }
tap_check "the rendezvous logs where its TURN credentials are for" \
    rdv_log_has "TURN credentials for $relay \\(secret from $tmp/turn.secret\\)"

# ---- a natmapd node registers and is offered the relay ----
cat >"$LAB_DIR/natmapd.conf" <<CONF
rendezvous $LAB_RDV_IP
network home
key-file $tmp/home.key
node nas.lan
CONF
nm_start lan turncred.log -m 5000/udp
if lab_wait 15 nm_log_has "the rendezvous offers a TURN relay at $relay\$"; then
	tap_ok "natmapd logs: the rendezvous offers a TURN relay at $relay"
else
	tap_fail "natmapd logs the TURN relay offered"; nm_diag
fi

# probe: rdv-turncred in the LAN, its "RELAY USER PASS" in $got
probe() {
	got=$(lab_lan "$PROBE" "$LAB_RDV_IP" "$LAB_RDV_PORT" home "$1" \
	    "$tmp/home.key" 2>"$tmp/probe.err")
}
# hmac USER SECRET: the password coturn expects, computed apart
hmac() { printf %s "$1" | openssl dgst -sha1 -hmac "$2" -binary | base64; }
# alloc DESC USER PASS [-t]: turnutils_uclient from the LAN allocates on
# coturn (two clients sending to each other's relayed address, 5 messages
# each way per pair); its output in $tmp/uclient.out
alloc() {
	lab_lan timeout 30 turnutils_uclient -y -n 5 -m 1 ${4:+"$4"} -u "$2" -w "$3" \
	    -p "$LAB_RELAY_PORT" "$LAB_RELAY_IP" >"$tmp/uclient.out" 2>&1
}
alloc_moved() {
	grep -q "tot_send_msgs=20, tot_recv_msgs=20" "$tmp/uclient.out" &&
	    grep -q "Total lost packets 0 " "$tmp/uclient.out"
}

now=$(date +%s)
probe probe.lan
read -r got_relay user pass <<<"$got"
tap_check "rdv-turncred: the relay is $relay ($got_relay; $(cat "$tmp/probe.err"))" \
    test "$got_relay" = "$relay"
exp=${user%%:*}
tap_check "the username is EXPIRY:probe.lan, EXPIRY an hour from now ($(( ${exp:-0} - now )) s)" \
    test "${user#*:}" = probe.lan -a "$(( ${exp:-0} - now ))" -ge 3590 \
    -a "$(( ${exp:-0} - now ))" -le 3610
tap_check "the password is base64(HMAC-SHA1(secret, username)) as openssl says" \
    test -n "$pass" -a "$pass" = "$(hmac "$user" "$secret")"
# turnutils_uclient counts a datagram that comes late as lost; on a
# loaded machine (CI runs two builds' suites) one run over UDP failed so
# (the cause not seen: the log was cut): up to three runs, each with the
# same pair, and one must move all 20 (a refused pair never does).  The
# run that did in $try.
alloc_moves() {	# DESC USER PASS [-t]
	for try in 1 2 3; do
		alloc "$@" && alloc_moved && return 0
		tap_diag "uclient $1, run $try: $(grep -E 'tot_send_msgs|lost packets|rror' \
		    "$tmp/uclient.out" | tail -n 3 | tr '\n' ' ')"
	done
	return 1
}
if alloc_moves udp "$user" "$pass" &&
    grep -qF "user <$user>: incoming packet ALLOCATE processed, success" \
    "$LAB_DIR/turn-relay.log"; then
	tap_ok "coturn takes them: ALLOCATE success for $user over UDP, 20 messages through the relay and back (run $try)"
else
	tap_fail "coturn takes them over UDP" "$(tail -n 5 "$tmp/uclient.out")"
fi
if alloc_moves tcp "$user" "$pass" -t; then
	tap_ok "coturn takes them over TCP too (run $try)"
else
	tap_fail "coturn takes them over TCP" "$(tail -n 5 "$tmp/uclient.out")"
fi
if alloc bad "$user" "x$pass"; then
	tap_fail "a password changed by one character: refused" "$(tail -n 3 "$tmp/uclient.out")"
else
	tap_ok "a password changed by one character: the allocation fails"
fi
probe probe.lan
read -r _ user2 pass2 <<<"$got"
tap_check "a second REGISTER: a new pair for the same node ($user2)" \
    test -n "$pass2" -a "${user2#*:}" = probe.lan -a "$pass2" = "$(hmac "$user2" "$secret")"

# ---- a wrong secret (the file changed, SIGHUP): coturn refuses ----
printf '%s\n' "$wrong" >"$tmp/turn.secret"
kill -HUP "$LAB_RDV_PID"
lab_wait 5 rdv_log_has "SIGHUP: 1 network" || tap_diag "no SIGHUP line"
probe probe.lan
read -r _ wuser wpass <<<"$got"
tap_check "SIGHUP: the new secret is used ($(cat "$tmp/probe.err"))" \
    test -n "$wpass" -a "$wpass" = "$(hmac "$wuser" "$wrong")"
if alloc wrong "$wuser" "$wpass"; then
	tap_fail "credentials of a wrong secret: coturn refuses" "$(tail -n 3 "$tmp/uclient.out")"
else
	tap_ok "credentials of a wrong secret: the allocation fails ($(tail -n 1 "$tmp/uclient.out"))"
fi
tap_check "coturn answered 401 to that user's authenticated requests" \
    grep -qF "user <$wuser>: incoming packet message processed, error 401" \
    "$LAB_DIR/turn-relay.log"
tap_check "and allocated nothing for it" \
    test "$(grep -cF "user <$wuser>: incoming packet ALLOCATE processed, success" \
    "$LAB_DIR/turn-relay.log")" = 0
printf '%s\n' "$secret" >"$tmp/turn.secret"

# ---- without --turn: none; turn lines in the file and SIGHUP: again ----
pid_before=$LAB_RDV_PID
if lab_rendezvous_start --networks "$tmp/nets"; then
	tap_ok "natmapd-rendezvous again, without --turn"
else
	tap_fail "natmapd-rendezvous without --turn"; tap_done; exit 1
fi
probe probe.lan
rc=$?
tap_check "without --turn: no credentials (exit 2: $(cat "$tmp/probe.err"))" \
    test "$rc" = 2 -a -z "$got"
printf 'turn %s\nturn-secret-file %s\n' "$LAB_RELAY_IP" "$tmp/turn.secret" \
    >>"$LAB_DIR/rendezvous.conf"
kill -HUP "$LAB_RDV_PID"
tap_check "SIGHUP with turn lines in the file: the rendezvous logs them" \
    lab_wait 5 rdv_log_has "TURN credentials for $relay"
probe cam.lan
read -r _ cuser cpass <<<"$got"
# (up to three runs as above: one CI run lost 10 of 20 here, late)
if [ -n "$cpass" ] && alloc_moves file "$cuser" "$cpass"; then
	tap_ok "and coturn takes the new pair ($cuser, run $try)"
else
	tap_fail "credentials after SIGHUP taken by coturn" "$got" "$(cat "$tmp/probe.err")" \
	    "$(tail -n 3 "$tmp/uclient.out")"
fi
: "$pid_before"

# ---- no secret, username or password in any log, status or natmapctl ----
ctl=$("$NATMAPCTL" -s "$NM_CTL" status 2>&1)
tap_check "natmapctl status answers ($(head -n 1 <<<"$ctl"))" test -n "$ctl"
printf '%s\n' "$ctl" >"$tmp/ctl.out"
pats=()
for p in "$secret" "$wrong" "$pass" "$pass2" "$wpass" "$cpass" "$user" \
    "$user2" "$wuser" "$cuser"; do
	[ -n "$p" ] && pats+=(-e "$p")
done
tap_check "10 secrets, usernames and passwords to look for (${#pats[@]} / 2)" \
    test "${#pats[@]}" = 20
found=$(grep -lF "${pats[@]}" "$LAB_DIR/rendezvous.log" "$NM_LOG" \
    "$LAB_DIR/status.json" "$tmp/ctl.out" "$tmp/probe.err")
tap_check "no secret, username or password in the logs, the status file or natmapctl (${found:-none})" \
    test -z "$found"
nm_stop_check "natmapd stops on SIGTERM" 3000
tap_done
