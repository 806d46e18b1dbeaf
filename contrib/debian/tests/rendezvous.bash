# SPDX-License-Identifier: ISC
# autopkgtest "rendezvous": the installed natmapd-rendezvous, run as an
# unprivileged user without capabilities (as its unit runs it), serves the
# lab's WAN side; the installed natmapd on the LAN host, behind the
# router's NAT, registers with it and learns the router's public address
# from it; SIGTERM stops the server.  Run from the top of the source tree.
export NATMAPD=/usr/sbin/natmapd NATMAPCTL=/usr/sbin/natmapctl
. tests/integration/common.sh
lab_need_python

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-autopkgtest.XXXXXX") || exit 1
it_on_exit "rm -rf '$tmp'"
chmod 0755 "$tmp"
it_rdv_keys "$tmp"
chown nobody: "$tmp/nets"
tap_check "a key and a networks file" test -s "$tmp/home.key" -a -s "$tmp/nets"
# lab_rendezvous_start runs $NATMAPD_RENDEZVOUS: this one drops everything
cat >"$tmp/rdv" <<SH
#!/bin/sh
NOTIFY_SOCKET=$tmp/notify exec setpriv --reuid=nobody --regid=nogroup \
    --clear-groups --no-new-privs \
    --inh-caps=-all --bounding-set=-all /usr/sbin/natmapd-rendezvous "\$@"
SH
chmod 0755 "$tmp/rdv"
export NATMAPD_RENDEZVOUS=$tmp/rdv
tap_check "natmapd-rendezvous is installed and runs" /usr/sbin/natmapd-rendezvous -V

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
# the server, as nobody, reads its configuration from the lab's directory
chmod 0711 "$LAB_DIR"
# its notify socket, as systemd's (Type=notify)
: >"$tmp/notify.out"
lab_bg notify "$(lab_ns_of wan)" python3 -u "$SRCDIR/tests/lab/notify.py" \
    "$tmp/notify" "$tmp/notify.out"
lab_wait 10 test -S "$tmp/notify" && chmod 0777 "$tmp/notify"
it_rendezvous_start "$tmp/nets"
tap_check "READY=1 with its status on the notify socket" \
    lab_wait 5 grep -qx 'READY=1|STATUS=1 network, RFC 5780' "$tmp/notify.out"
tap_check "natmapd-rendezvous runs as nobody" \
    eval '[ "$(ps -o user= -p "$LAB_RDV_PID")" = nobody ]'
rdv="$LAB_RDV_IP:$LAB_RDV_PORT"

printf '%s\n' "rendezvous $rdv" "network home" "key-file $tmp/home.key" \
    "node nas.lan" >"$LAB_DIR/natmapd.conf"
nm_start lan rdvclient.log -m 5000/udp
# registered: natmapctl status says so (its line for the server)
registered() {
	"$NATMAPCTL" -s "$NM_CTL" status 2>/dev/null |
	    grep -Eq "^rendezvous $rdv registered"
}
tap_check "natmapd registered with natmapd-rendezvous (natmapctl status)" \
    lab_wait 15 registered || nm_diag
tap_check "the server logged the REGISTER of nas.lan in network home" \
    lab_wait 5 grep -Eq "REGISTER nas.lan in network home" "$LAB_DIR/rendezvous.log"
tap_check "natmapd logs the router's address as the server saw it" \
    lab_wait 5 nm_log_has "rendezvous $rdv: seen as $LAB_RTR_WAN_IP:[0-9]+"
nm_stop_check "natmapd SIGTERM" 10000
kill -HUP "$LAB_RDV_PID"
tap_check "SIGHUP: RELOADING=1, then READY=1 again" \
    lab_wait 5 eval '[ "$(grep -c "^RELOADING=1|MONOTONIC_USEC=" "$tmp/notify.out")" = 1 ] &&
    [ "$(grep -c "^READY=1" "$tmp/notify.out")" = 2 ]'
lab_rendezvous_stop
tap_check "STOPPING=1 on SIGTERM" grep -q '^STOPPING=1' "$tmp/notify.out"
tap_check "natmapd-rendezvous exits 0 on SIGTERM" test "$LAB_RDV_STATUS" = 0
tap_done
