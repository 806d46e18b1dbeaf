# SPDX-License-Identifier: ISC
# natmapd-rendezvous in the lab: natmapd --probe gives the same NAT verdicts
# with it as with coturn (RFC 5780 on two addresses), STUN over TCP, garbage
# and idle clients that do not stop it, more TCP clients than it holds, its
# configuration checks, SIGHUP and SIGTERM.
. "$(dirname "$0")/rdv-common.sh"

# probe NAME ARGS...: natmapd --probe --json from the LAN host into
# $LAB_DIR/NAME.json; sets PROBE_RC and PROBE_JSON.
probe() {
	local name=$1
	shift
	: >"$LAB_DIR/empty.conf"
	lab_lan timeout 90 "$NATMAPD" --probe --json -v -c "$LAB_DIR/empty.conf" \
	    "$@" >"$LAB_DIR/$name.json" 2>"$LAB_DIR/$name.err"
	PROBE_RC=$?
	PROBE_JSON=$LAB_DIR/$name.json
}

# jget FILE KEY.PATH: a value of a probe's JSON (null as such)
jget() {
	python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if not isinstance(v, str) else v)
PY
}

# udp_answers HOST: a Binding over UDP from HOST to the rendezvous is answered
udp_answers() {
	lab_stun_probe "${1:-wan}" -t 2 "$rdv" >"$LAB_DIR/udp-probe.out" 2>&1
}

rdv_alive() { kill -0 "$LAB_RDV_PID" 2>/dev/null; }

# ---- the configuration, without the lab's network ----
rdv_tmp rdv
key1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
key2=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=
printf '# two networks\nhome %s\noffice %s\n' "$key1" "$key2" >"$tmp/nets"
chmod 600 "$tmp/nets"
printf '# the lab\nlisten 203.0.113.30\t# port 3480\nalt-address 203.0.113.31\nnetworks %s\n' \
    "$tmp/nets" >"$tmp/good.conf"
out=$("$RDV" -nv -c "$tmp/good.conf" 2>&1)
rc=$?
want="listen 203.0.113.30:3480
alt-address 203.0.113.31
alt-port 3481
networks $tmp/nets"
if [ "$rc" = 0 ] && [ "$out" = "$want" ]; then
	tap_ok "-nv: exit 0, the normalized configuration (ports filled in)"
else
	tap_fail "-nv: exit 0, the normalized configuration" "exit $rc" "$out"
fi
out=$("$RDV" -n -c "$tmp/good.conf" 2>&1)
tap_check "-n: exit 0 and silent" test "$?" = 0 -a -z "$out"
out=$("$RDV" -nv -c "$tmp/good.conf" --listen '[2001:db8::1]:9' --alt-address 2001:db8::2 --alt-port 10 2>&1)
tap_check "-nv: the command line wins, IPv6 in brackets" \
    test "$out" = "listen [2001:db8::1]:9
alt-address 2001:db8::2
alt-port 10
networks $tmp/nets"
printf 'listen 203.0.113.30\n\nalt-adress 203.0.113.31\n' >"$tmp/bad.conf"
out=$("$RDV" -n -c "$tmp/bad.conf" 2>&1)
rc=$?
tap_check "a misspelt keyword: exit 78, file:line: ($out)" \
    test "$rc" = 78 -a "$out" = "natmapd-rendezvous: $tmp/bad.conf:3: unknown keyword alt-adress"
printf 'listen 203.0.113.30:70000\n' >"$tmp/bad2.conf"
out=$("$RDV" -n -c "$tmp/bad2.conf" 2>&1)
tap_check "a bad port: file:line: ($out)" \
    grep -q "^natmapd-rendezvous: $tmp/bad2.conf:1: listen 203.0.113.30:70000: " <<<"$out"
printf 'home %s\nhome %s\n' "$key1" "$key2" >"$tmp/dup"
chmod 600 "$tmp/dup"
out=$("$RDV" -n --listen 203.0.113.30 --networks "$tmp/dup" 2>&1)
rc=$?
tap_check "a network twice: exit 78, file:line:, no key in the message ($out)" \
    test "$rc" = 78 -a "$out" = "natmapd-rendezvous: $tmp/dup:2: network home already on line 1"
printf 'home %s\n' "${key1%=}" >"$tmp/short"
chmod 600 "$tmp/short"
out=$("$RDV" -n --listen 203.0.113.30 --networks "$tmp/short" 2>&1)
if grep -q "$tmp/short:1: network home: not a server key" <<<"$out" &&
    ! grep -q "${key1:0:20}" <<<"$out"; then
	tap_ok "a bad key: file:line:, the key not printed"
else
	tap_fail "a bad key: file:line:, the key not printed" "$out"
fi
chmod 644 "$tmp/nets"
out=$("$RDV" -n -c "$tmp/good.conf" 2>&1)
rc=$?
tap_check "a networks file others may read: refused, exit 78 ($out)" \
    test "$rc" = 78 -a -n "$(grep 'others may read' <<<"$out")"
chmod 600 "$tmp/nets"
out=$("$RDV" -n --listen 203.0.113.30 --alt-port 4000 2>&1)
tap_check "alt-port without alt-address: refused ($out)" \
    test "$out" = "natmapd-rendezvous: alt-port without alt-address"

# ---- the lab: coturn and natmapd-rendezvous side by side ----
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_stun_start || { tap_fail "coturn starts"; tap_done; exit 1; }
rdv_start "natmapd-rendezvous starts on 4 address:port pairs" \
    --networks "$tmp/nets"
tap_check "it says it holds 2 networks" lab_wait 5 rdv_log_has "starting: 2 networks, RFC 5780"

for mode in default random eif adf; do
	lab_nat_mode "$mode" || tap_fail "nat mode $mode"
	probe "coturn-$mode" --stun-server "$LAB_STUN_IP"
	c_rc=$PROBE_RC c_json=$PROBE_JSON
	probe "rdv-$mode" --stun-server "$rdv"
	r_rc=$PROBE_RC r_json=$PROBE_JSON
	tap_check "$mode: both probes exit 0 (coturn $c_rc, rendezvous $r_rc)" \
	    test "$c_rc" = 0 -a "$r_rc" = 0
	for key in nat.mapping nat.filtering; do
		c=$(jget "$c_json" "$key" 2>&1) r=$(jget "$r_json" "$key" 2>&1)
		if [ "$c" = "$r" ] && [ "$r" != unknown ] && [ "$r" != null ]; then
			tap_ok "$mode: $key $r, as with coturn"
		else
			tap_fail "$mode: $key the same as with coturn" \
			    "coturn: $c" "rendezvous: $r" \
			    "$(sed 's/^/err: /' "$LAB_DIR/rdv-$mode.err" | tail -20)"
		fi
	done
	r=$(jget "$r_json" stun.0.other_address 2>&1)
	tap_check "$mode: OTHER-ADDRESS $r" test "$r" = "$LAB_RDV_ALT_IP:$LAB_RDV_ALT_PORT"
	r=$(jget "$r_json" sources.stun 2>&1)
	tap_check "$mode: the address STUN sees is the NAT's ($r)" test "$r" = "$LAB_PUBLIC_IP"
	r=$(jget "$r_json" stun_tcp 2>&1)
	tap_check "$mode: STUN over TCP answered, the NAT's address ($r)" \
	    test "${r%:*}" = "$LAB_PUBLIC_IP"
done
lab_nat_mode default || tap_fail "nat mode default"

# The verdicts expected in each mode (tests/integration/probe.sh's, from coturn):
# checked once more on the rendezvous alone, so that two wrong servers agreeing fails.
r=$(jget "$LAB_DIR/rdv-eif.json" nat.filtering)
tap_check "full cone: endpoint-independent filtering ($r)" test "$r" = endpoint-independent
r=$(jget "$LAB_DIR/rdv-adf.json" nat.filtering)
tap_check "address-restricted: address-dependent filtering ($r)" test "$r" = address-dependent
r=$(jget "$LAB_DIR/rdv-default.json" nat.filtering)
tap_check "masquerade: address-and-port-dependent filtering ($r)" test "$r" = address-and-port-dependent
r=$(jget "$LAB_DIR/rdv-random.json" nat.mapping)
tap_check "fully random: address-and-port-dependent mapping ($r)" test "$r" = address-and-port-dependent

# STUN over TCP from a known port: masquerade keeps it
out=$(lab_rdv_client lan tcp "$rdv" -p 45123 2>&1)
tap_check "TCP from the LAN's port 45123: mapped to $LAB_PUBLIC_IP:45123 ($out)" \
    test "$out" = "$LAB_PUBLIC_IP:45123"
out=$(lab_rdv_client wan tcp "$LAB_RDV_ALT_IP:$LAB_RDV_ALT_PORT" -b "$LAB_WAN_IP" -p 45124 2>&1)
tap_check "TCP to the alternate pair, no NAT: $LAB_WAN_IP:45124 ($out)" \
    test "$out" = "$LAB_WAN_IP:45124"

# 74 requests in one segment: more answers than fit the output at once
out=$(lab_rdv_client wan pipeline "$rdv" 74 2>&1)
tap_check "TCP: 74 requests in one write and one cut in two, 75 answers ($out)" \
    test "$out" = "answers 75"

# ---- garbage and silence ----
lab_rdv_client wan garbage-udp "$rdv"
lab_rdv_client lan garbage-udp "$rdv"
tap_check "after garbage datagrams: alive, UDP answered" eval 'rdv_alive && udp_answers wan'
out=$(lab_rdv_client wan garbage-tcp "$rdv" 2>&1)
tap_check "a TCP client sending garbage is disconnected ($out)" test "$out" = closed
lab_bg silent "$LAB_NS_WAN" python3 -c '
import select, socket, time
s = socket.create_connection(("'"$LAB_RDV_IP"'", '"$LAB_RDV_PORT"'), timeout=3)
t0 = time.monotonic()
print("connected", flush=True)
r, _, _ = select.select([s], [], [], 90)
if r and not s.recv(1):
    print("closed after %d s" % (time.monotonic() - t0), flush=True)
else:
    print("still open", flush=True)'
silent_pid=$LAB_BG_PID
it_on_exit "kill $silent_pid 2>/dev/null"
lab_wait 5 grep -q connected "$LAB_DIR/silent.log"
tap_check "with a TCP client that says nothing: UDP answered" udp_answers lan
out=$(lab_rdv_client lan tcp "$rdv" 2>&1)
tap_check "... and TCP answered ($out)" test "${out%:*}" = "$LAB_PUBLIC_IP"

# ---- 300 idle TCP clients: 256 held, the others closed, UDP answered ----
lab_bg idle "$LAB_NS_WAN" python3 "$LAB_HERE/rdv-client.py" idle "$rdv" 300
idle_pid=$LAB_BG_PID
it_on_exit "kill $idle_pid 2>/dev/null"
if lab_wait 30 grep -q '^held ' "$LAB_DIR/idle.log"; then
	read -r _ held _ closed <"$LAB_DIR/idle.log"
	# the silent client may still hold one of the 256
	tap_check "300 idle TCP clients: at most 256 held, the rest closed (held $held, closed $closed)" \
	    test "$held" -ge 200 -a "$held" -le 256 -a "$closed" -ge 44 -a $((held + closed)) = 300
else
	tap_fail "300 idle TCP clients connect" "$(cat "$LAB_DIR/idle.log")"
fi
tap_check "with 300 idle TCP clients: UDP answered from the LAN" udp_answers lan
tap_check "... and from the WAN" udp_answers wan
tap_check "... and a change-IP-and-port request answered from the other pair" \
    eval 'lab_stun_probe wan -v -t 2 -c both "$rdv" | grep -qx "from $LAB_RDV_ALT_IP:$LAB_RDV_ALT_PORT"'
kill "$idle_pid" 2>/dev/null
wait "$idle_pid" 2>/dev/null

# ---- SIGHUP: the networks file again; a bad one keeps the old ----
printf 'home %s\noffice %s\nlab %s\n' "$key1" "$key2" "$key1" >"$tmp/nets"
kill -HUP "$LAB_RDV_PID"
tap_check "SIGHUP: 3 networks" lab_wait 5 rdv_log_has "SIGHUP: 3 networks"
chmod 644 "$tmp/nets"
kill -HUP "$LAB_RDV_PID"
tap_check "SIGHUP with a file others may read: the 3 networks kept, and why" \
    lab_wait 5 rdv_log_has "others may read or write it .*keeping the 3 networks loaded"
chmod 600 "$tmp/nets"
printf 'home %s\nhome %s\n' "$key1" "$key2" >"$tmp/nets"
kill -HUP "$LAB_RDV_PID"
tap_check "SIGHUP with a duplicate: kept, file:line: said" \
    lab_wait 5 rdv_log_has "nets:2: network home already on line 1; keeping the 3 networks"
if grep -qF -e "${key1:0:20}" -e "${key2:0:20}" "$LAB_DIR/rendezvous.log"; then
	tap_fail "no key in the log"
else
	tap_ok "no key in the log"
fi
tap_check "after the SIGHUPs: UDP answered" udp_answers lan

# the client that said nothing: dropped after 30 s (RDV_TCP_IDLE_MS)
if lab_wait 60 grep -q '^closed after' "$LAB_DIR/silent.log"; then
	secs=$(sed -n 's/^closed after \([0-9]*\) s$/\1/p' "$LAB_DIR/silent.log")
	tap_check "the silent TCP client is disconnected after about 30 s ($secs s)" \
	    test "$secs" -ge 29 -a "$secs" -le 32
else
	tap_fail "the silent TCP client is disconnected after about 30 s" \
	    "$(cat "$LAB_DIR/silent.log")"
fi

# ---- SIGTERM ----
lab_rendezvous_stop
tap_check "SIGTERM: exit 0 within 2 s (status $LAB_RDV_STATUS, $LAB_RDV_STOP_MS ms)" \
    test "$LAB_RDV_STATUS" = 0 -a "$LAB_RDV_STOP_MS" -le 2000
tap_done
