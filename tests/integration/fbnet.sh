# SPDX-License-Identifier: ISC
# A network change rechecks the STUN-kept bindings at once: behind a full
# cone, 5000/udp is kept with STUN and verified; the router's WAN address
# changes and its NAT forgets every connection; a netlink change on the
# LAN host (an address added and removed) makes natmapd ask STUN for the
# binding's endpoint within seconds, not at the next 15 s keep-alive, and
# the new endpoint is proven, shown and reached from the WAN.
. "$(dirname "$0")/common.sh"

NATMAPCTL=${NATMAPCTL:-$(dirname "$NATMAPD")/natmapctl}
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_stun_start || { tap_fail "coturn starts"; tap_done; exit 1; }
lab_serve_udp 5000 || { tap_fail "a UDP service on the LAN host"; tap_done; exit 1; }
old_ip=$LAB_RTR_WAN_IP
new_ip=203.0.113.42
RECHECK_LIMIT=5		# s from the netlink change; the keep-alive is 15 s

# ctl_line: natmapctl status's 5000/udp line ("5000/udp ... stun verified
# ADDR:PORT ..."); port_at ADDR: the public port when verified at ADDR
ctl_line() { "$NATMAPCTL" -s "$NM_CTL" status 2>/dev/null | grep '^5000/udp '; }
port_at() {
	ctl_line | sed -nE "s/.* stun +verified +$1:([0-9]+) .*/\1/p" | grep .
}
verified_at() { port_at "$1" >/dev/null; }

lab_nat_mode cone || tap_fail "the router becomes a full cone"
nm_start lan fbnet.log -m 5000/udp --stun-server "$LAB_STUN_IP:$LAB_STUN_PORT"
if lab_wait 15 verified_at "$old_ip"; then
	tap_ok "5000/udp verified at $old_ip"
else
	tap_fail "5000/udp verified at $old_ip ($(ctl_line))"; nm_diag
fi
port=$(port_at "$old_ip")
tap_check "a WAN host reaches the service at $old_ip:${port:-?}" \
    lab_reach_udp "$old_ip" "${port:-0}"

# The WAN address moves; the full cone's inbound rule follows it.
wan_readdress "$old_ip" "$new_ip"
LAB_RTR_WAN_IP=$new_ip
lab_nat_mode cone || tap_fail "the router is a full cone at $new_ip"
# A netlink change where natmapd runs: an address comes and goes.
t0=$(lab_now_ms)
lab_lan ip addr add 192.168.77.222/24 dev "$LAB_HOST_IF"
lab_lan ip addr del 192.168.77.222/24 dev "$LAB_HOST_IF"
tap_check "the network change makes natmapd ask STUN again" \
    nm_wait_log "$RECHECK_LIMIT" "^network changed: asking STUN for the endpoint of 1 kept binding now$"
if nm_wait_log "$RECHECK_LIMIT" "^udp 5000: the binding moved from $old_ip:[0-9]+ to $new_ip:[0-9]+"; then
	tap_ok "the move is seen $(( $(lab_now_ms) - t0 )) ms after the netlink change (limit ${RECHECK_LIMIT} s)"
else
	tap_fail "the move is seen within $RECHECK_LIMIT s of the netlink change"; nm_diag
fi
if lab_wait "$RECHECK_LIMIT" verified_at "$new_ip"; then
	tap_ok "5000/udp verified again, at $new_ip"
else
	tap_fail "5000/udp verified at $new_ip ($(ctl_line))"; nm_diag
fi
port=$(port_at "$new_ip")
if [ -n "$port" ] && out=$(lab_reach_udp "$new_ip" "$port"); then
	tap_ok "a WAN host reaches the service at $new_ip:$port ($out)"
else
	tap_fail "a WAN host reaches the service at $new_ip:${port:-?}"; nm_diag
fi
nm_stop_check "SIGTERM" 3000
tap_done
