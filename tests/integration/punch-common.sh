# SPDX-License-Identifier: ISC
# Shared by the hole-punching tests (punch.sh, punch-tamper.sh,
# punch-relay.sh), on top of
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
