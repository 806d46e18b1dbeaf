# SPDX-License-Identifier: ISC
# The status file says what the WAN sees: each mapping up at the endpoint a WAN host reaches;
# a reader never sees half a file while mappings come and go; the file is gone after SIGTERM.
. "$(dirname "$0")/common.sh"

lab_need_python || { tap_fail "python3 for the status reader"; tap_done; exit 1; }
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
lab_serve_udp 5353
status=$LAB_DIR/status.json

# jq-less reads of the status file: status_get EXPR (a Python expression over s)
status_get() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$status" "$1" 2>/dev/null
}
# the mapping with spec SPEC: its KEY
map_get() {
	status_get "[m for m in s['mappings'] if m['spec'] == '$1'][0]['$2']"
}
up_at() {	# up_at SPEC PORT: up, reachable, at the router's WAN address and PORT
	[ "$(map_get "$1" state)" = up ] &&
	    [ "$(map_get "$1" reachable)" = True ] &&
	    [ "$(map_get "$1" external_address)" = "$LAB_RTR_WAN_IP" ] &&
	    [ "$(map_get "$1" external_port)" = "$2" ]
}

nm_start lan natmapd.log -m 8080/tcp -m 5353:15353/udp --protocol pcp --lease 600
tap_check "tcp 8080 reached from the WAN" \
    lab_wait 10 lab_reach_tcp "$LAB_RTR_WAN_IP" 8080
tap_check "the status file has tcp 8080 up at the endpoint the WAN reached" \
    lab_wait 5 up_at 8080/tcp 8080
tap_check "udp 5353 reached from the WAN as 15353" \
    lab_wait 10 lab_reach_udp "$LAB_RTR_WAN_IP" 15353
tap_check "the status file has 5353:15353/udp up at 15353" \
    lab_wait 5 up_at 5353:15353/udp 15353
tap_check "the router holds the rule the status file names" \
    has_rule "dport 15353 dnat to $LAB_LAN_IP:5353"
tap_check "the gateway is there, through PCP, at the router's LAN address" \
    eval '[ "$(status_get "s[\"gateway\"][\"method\"]")" = pcp ] &&
	[ "$(status_get "s[\"gateway\"][\"address\"]")" = "$LAB_RTR_LAN_IP" ]'
echo "# 8080/tcp: lease $(map_get 8080/tcp lease), renew in $(map_get 8080/tcp renew_in) s"
# PCP renews at a random point in [1/2, 5/8] of the lease (RFC 6887 11.2.1)
tap_check "the lease the router granted, and a renewal ahead" \
    eval '[ "$(map_get 8080/tcp lease)" = 600 ] &&
	[ "$(map_get 8080/tcp renew_in)" -gt 200 ] &&
	[ "$(map_get 8080/tcp renew_in)" -le 375 ]'
tap_check "the counters count the requests and answers" \
    eval '[ "$(status_get "s[\"counters\"][\"answers\"]")" -ge 2 ]'
tap_check "the file is readable by others (0644)" \
    eval '[ "$(stat -c %a "$status")" = 644 ]'

# A reader in a loop while 40 mappings come and go by SIGHUP: never half a file.
lab_serve_tcp 7000
cat >"$LAB_DIR/reader.py" <<'PY'
import json, os, sys, time
path, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
reads = bad = 0
end = time.monotonic() + 120
while not os.path.exists(stop) and time.monotonic() < end:
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        continue
    reads += 1
    try:
        json.loads(text)
    except ValueError:
        bad += 1
with open(out, "w") as f:
    f.write("%d %d\n" % (reads, bad))
PY
python3 "$LAB_DIR/reader.py" "$status" "$LAB_DIR/reader.stop" "$LAB_DIR/reader.out" &
reader=$!
it_on_exit "kill $reader 2>/dev/null"
printf 'map 7000-7039/tcp\n' >"$NM_CONF"
kill -HUP "$NM_PID"
count_up() { status_get "len([m for m in s['mappings'] if m['state'] == 'up'])"; }
tap_check "SIGHUP: 40 more mappings up in the status file" \
    lab_wait 30 eval '[ "$(count_up)" = 42 ]'
tap_check "and a WAN host reaches one of them" \
    lab_wait 5 lab_reach_tcp "$LAB_RTR_WAN_IP" 7000
: >"$NM_CONF"
kill -HUP "$NM_PID"
count_all() { status_get "len(s['mappings'])"; }
tap_check "SIGHUP: they leave the status file once deleted" \
    lab_wait 30 eval '[ "$(count_all)" = 2 ]'
tap_check "and the router" \
    lab_wait 5 no_rule_for 7000
touch "$LAB_DIR/reader.stop"
lab_wait 10 eval '! kill -0 '"$reader"' 2>/dev/null'
read -r reads bad <"$LAB_DIR/reader.out" 2>/dev/null
if [ "${reads:-0}" -gt 10 ] && [ "${bad:-1}" = 0 ]; then
	tap_ok "a reader in a loop never saw half a file ($reads reads)"
else
	tap_fail "a reader in a loop never saw half a file" "reads ${reads:-?}, unparsable ${bad:-?}"
fi

nm_stop_check "SIGTERM" 5000
tap_check "the status file is gone after SIGTERM" \
    eval '[ ! -e "$status" ]'
tap_check "and so are the rules" \
    eval '! has_rule "dnat to $LAB_LAN_IP"'
tap_done
