# SPDX-License-Identifier: ISC
# natmapd's rendezvous client: natmapd on the LAN host, behind the router's
# NAT, registers with natmapd-rendezvous on the WAN side (--rendezvous,
# --network, --key-file, --node); the server's registry holds the node,
# the status file and natmapctl status say registered, the registration is
# renewed every 25 s (two REGISTERs within 35 s, the second with the srflx
# the first answer said), SIGHUP takes a new node name at once, and a
# server added by SIGHUP to a natmapd started without one, and with a
# wrong key nothing is registered, the status says why and the server
# counts the bad MACs.  No key in any log or status.
# The interval is the daemon's own (25 s): no test-only knob.
. "$(dirname "$0")/common.sh"

it_need_rdv
lab_need_python || { tap_fail "python3 for the status file"; tap_done; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-rdvc.XXXXXX") || exit 1
it_on_exit "rm -rf '$tmp'"
it_rdv_keys "$tmp"
(umask 077 && "$NATMAPD" --keygen >"$tmp/wrong.key")
tap_check "two keys and a networks file" \
    test -s "$tmp/home.key" -a -s "$tmp/wrong.key" -a -s "$tmp/nets"

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
it_rendezvous_start "$tmp/nets"
lab_nat_mode default || tap_fail "nat mode default"
rdv="$LAB_RDV_IP:$LAB_RDV_PORT"

rdv_log_has() { grep -Eq -- "$1" "$LAB_DIR/rendezvous.log"; }
rdv_count() { grep -cE -- "$1" "$LAB_DIR/rendezvous.log"; }
# rdv FIELD: the first rendezvous server's FIELD in the status file ("" if
# null or none; booleans as true/false)
rdv() {
	python3 - "$LAB_DIR/status.json" "$1" <<'PY' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))
r = s.get("rendezvous") or [{}]
v = r[0].get(sys.argv[2])
print("" if v is None else json.dumps(v).strip('"'))
PY
}
rdv_is() { [ "$(rdv "$1")" = "$2" ]; }
# stats: the server's counters line after a SIGUSR1 (registrations: the
# nodes in its registry; registered: the REGISTERs it took)
stats() {
	local before
	before=$(grep -c "stats: registrations" "$LAB_DIR/rendezvous.log")
	kill -USR1 "$LAB_RDV_PID"
	lab_wait 5 stats_more "$before" || true
	grep "stats: registrations" "$LAB_DIR/rendezvous.log" | tail -n 1
}
stats_more() { [ "$(grep -c "stats: registrations" "$LAB_DIR/rendezvous.log")" -gt "$1" ]; }
stat() { sed -E "s/.* $1 ([0-9]+).*/\1/" <<<"$2"; }
# ctl_status_has DESC REGEX: a line of natmapctl status matches REGEX
ctl_status_has() {
	local out
	out=$("$NATMAPCTL" -s "$NM_CTL" status 2>&1)
	if grep -qE -- "$2" <<<"$out"; then
		tap_ok "$1"
	else
		tap_fail "$1" "$out"
	fi
}
no_key_in() {
	! grep -qF -e "$(cat "$tmp/home.key")" -e "$(cat "$tmp/wrong.key")" \
	    -e "$(cut -d' ' -f2 "$tmp/nets")" "$@"
}

# ---- registered: the server holds the node, the status says so ----
cat >"$LAB_DIR/natmapd.conf" <<EOF
rendezvous $LAB_RDV_IP
network home
key-file $tmp/home.key
node nas.lan
EOF
rm -f "$LAB_DIR/status.json"
nm_start lan rdvclient.log -m 5000/udp
if lab_wait 10 rdv_is registered true; then
	tap_ok "registered $(( $(lab_now_ms) - NM_T0 )) ms after the start"
else
	tap_fail "registered (status: $(rdv registered), error $(rdv error))"
	nm_diag
fi
tap_check "the status names the server $rdv" rdv_is server "$rdv"
exp=$(rdv expires_in)
tap_check "expires_in is 60-75 s ($exp)" test "${exp:-0}" -ge 60 -a "${exp:-0}" -le 75
rtt=$(rdv rtt_ms)
tap_check "rtt_ms is a number under 1000 ($rtt)" test -n "$rtt" -a "${rtt:-9999}" -lt 1000
tap_check "error is null" rdv_is error ""
tap_check "the server logged REGISTER nas.lan in network home" \
    lab_wait 5 rdv_log_has "REGISTER nas.lan in network home, [0-9]+ candidates?, lifetime 75s"
line=$(stats)
tap_check "the server's registry holds 1 node ($line)" test "$(stat registrations "$line")" = 1
tap_check "natmapd logs where the server sees it (the router's address)" \
    nm_log_has "rendezvous $rdv: seen as $LAB_RTR_WAN_IP:[0-9]+"
tap_check "natmapd logs the registration at info" \
    nm_log_has "rendezvous $rdv: registered as nas.lan in network home, lifetime 75s"
ctl_status_has "natmapctl status: one line for the server, registered" \
    "^rendezvous $rdv registered, expires in [0-9]+[sm]"

# ---- renewed: a second REGISTER within 35 s, with the srflx candidate ----
first=$(rdv_count "REGISTER nas.lan in network home")
t0=$(lab_now_ms)
if lab_wait 35 rdv_log_has "REGISTER nas.lan in network home, 2 candidates"; then
	tap_ok "renewed after $(( ($(lab_now_ms) - t0) / 1000 )) s more, with 2 candidates (host and srflx)"
else
	tap_fail "renewed within 35 s with 2 candidates ($(rdv_count "REGISTER nas.lan") REGISTERs, $first at first)"
	tail -n 5 "$LAB_DIR/rendezvous.log" | sed 's/^/# rdv: /'
fi
# (the server logs the REGISTER before the node has its answer, and the
# status file is written 100 ms after that: waited for)
renewed_in_file() { rdv_is registered true && [ "$(rdv expires_in)" -ge 65 ]; }
if lab_wait 5 renewed_in_file; then
	tap_ok "still registered, expires_in back near 75 ($(rdv expires_in))"
else
	tap_fail "still registered, expires_in back near 75 ($(rdv registered), $(rdv expires_in))"
fi
line=$(stats)
tap_check "the server took at least 2 REGISTERs of the one node ($line)" \
    test "$(stat registered "$line")" -ge 2 -a "$(stat registrations "$line")" = 1

# ---- SIGHUP: a new node name takes effect at once ----
sed -i 's/^node nas.lan$/node nas-2.lan/' "$LAB_DIR/natmapd.conf"
kill -HUP "$NM_PID"
tap_check "SIGHUP: REGISTER nas-2.lan within 5 s" \
    lab_wait 5 rdv_log_has "REGISTER nas-2.lan in network home"
tap_check "SIGHUP: registered again" lab_wait 5 rdv_is registered true
tap_check "no key in natmapd's log or the status file" \
    no_key_in "$NM_LOG" "$LAB_DIR/status.json"
nm_stop_check "SIGTERM" 3000

# ---- a wrong key: not registered, the status says why, bad MACs counted ----
before=$(stat bad-mac "$(stats)")
sed -i "s|^key-file .*|key-file $tmp/wrong.key|" "$LAB_DIR/natmapd.conf"
rm -f "$LAB_DIR/status.json"
nm_start lan rdvclient-wrong.log -m 5000/udp
if lab_wait 15 rdv_is error "no answer within 10 s"; then
	tap_ok "wrong key: the status says no answer within 10 s"
else
	tap_fail "wrong key: the status says no answer within 10 s ($(rdv error))"
	nm_diag
fi
tap_check "wrong key: registered false, expires_in null" \
    test "$(rdv registered)/$(rdv expires_in)" = false/
line=$(stats)
n=$(stat bad-mac "$line")
tap_check "wrong key: the server counted every attempt as bad-mac ($before then $n)" \
    test "$((n - before))" -ge 3
tap_check "wrong key: the server logged the drop at debug" \
    rdv_log_has "for network home: bad MAC, dropped"
ctl_status_has "wrong key: natmapctl status says not registered and why" \
    "^rendezvous $rdv not registered, error: no answer within 10 s"
tap_check "wrong key: no key in natmapd's log or the status file" \
    no_key_in "$NM_LOG" "$LAB_DIR/status.json"
nm_stop_check "wrong key: SIGTERM" 3000

# ---- started without a rendezvous, one added by SIGHUP: it registers ----
cat >"$LAB_DIR/natmapd.conf" <<EOF
network home
key-file $tmp/home.key
node late.lan
EOF
rm -f "$LAB_DIR/status.json"
nm_start lan rdvclient-late.log -m 5000/udp
tap_check "no rendezvous: natmapd started" \
    lab_wait 5 nm_log_has "starting: 1 mapping"
sed -i "1i rendezvous $LAB_RDV_IP" "$LAB_DIR/natmapd.conf"
kill -HUP "$NM_PID"
tap_check "one added by SIGHUP: REGISTER late.lan within 5 s" \
    lab_wait 5 rdv_log_has "REGISTER late.lan in network home"
if lab_wait 5 rdv_is registered true; then
	tap_ok "one added by SIGHUP: the status says registered"
else
	tap_fail "one added by SIGHUP: the status says registered ($(rdv registered), error $(rdv error))"
	nm_diag
fi
nm_stop_check "late: SIGTERM" 3000
tap_check "no key in the server's log" no_key_in "$LAB_DIR/rendezvous.log"
tap_done
