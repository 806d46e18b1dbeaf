# SPDX-License-Identifier: ISC
# The daemon's double-NAT warning follows --probe's rule: a private, shared
# or unspecified gateway address, or a STUN server that sees another address.
. "$(dirname "$0")/common.sh"

warned() { nm_log_has "reports external address .*(NAT upstream|carrier-grade)"; }
# the router forwards tcp 8080 to the LAN host (within 10 s)
forwarded() { lab_wait 10 has_rule "^tcp dport 8080 dnat to $LAB_LAN_IP:8080$"; }

# ---- a plain NAT router with a public address: no warning, STUN agrees ----
lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
lab_router_start || { tap_fail "miniupnpd starts"; tap_done; exit 1; }
lab_serve_tcp 8080
nm_start lan plain.log -m 8080/tcp --protocol upnp --stun-server "$LAB_STUN_IP"
tap_check "plain: mapped on the router" forwarded
tap_check "plain: the STUN server confirms the gateway's address" \
    nm_wait_log 10 "STUN server $LAB_STUN_IP:3478 sees this host as $LAB_PUBLIC_IP, the gateway's external address: no NAT upstream"
tap_check "plain: no double-NAT warning" eval '! warned'
tap_check "plain: the WAN reaches the service" \
    lab_wait 10 lab_reach_tcp "$LAB_PUBLIC_IP" 8080
nm_stop_check "plain: SIGTERM" 5000
tap_check "plain: nothing left on the router" lab_wait 3 no_rule_for 8080
tap_check "plain: the WAN no longer reaches the service" \
    eval '! lab_reach_tcp "$LAB_PUBLIC_IP" 8080 >/dev/null'

# ---- a STUN server that sees this host elsewhere (lab_stun_liar elsewhere) ----
lab_stun_liar_start elsewhere || tap_fail "the STUN server of another view starts"
: >"$LAB_DIR/natmapd.state"
nm_start lan elsewhere.log -m 8080/tcp --protocol upnp \
    --stun-server "$LAB_LIAR_IP:$LAB_LIAR_PORT"
tap_check "elsewhere: mapped anyway: the router forwards tcp 8080" forwarded
tap_check "elsewhere: and the WAN reaches the service" \
    lab_wait 10 lab_reach_tcp "$LAB_PUBLIC_IP" 8080
tap_check "elsewhere: warns that another NAT is upstream" \
    nm_wait_log 10 "reports external address $LAB_PUBLIC_IP, but STUN server $LAB_LIAR_IP:$LAB_LIAR_PORT sees this host as 198.51.100.77: the gateway's external address differs from the address the internet sees: another NAT is upstream"
nm_stop_check "elsewhere: SIGTERM" 5000
tap_check "elsewhere: nothing left on the router" lab_wait 3 no_rule_for 8080

# ---- a silent STUN server: the question stays open, said once ----
lab_stun_liar_start silent || tap_fail "the silent STUN server starts"
nm_start lan silent.log -m 8080/tcp --protocol upnp \
    --stun-server "$LAB_LIAR_IP:$LAB_LIAR_PORT"
tap_check "silent: mapped on the router" forwarded
tap_check "silent: the WAN reaches the service" \
    lab_wait 10 lab_reach_tcp "$LAB_PUBLIC_IP" 8080
tap_check "silent: says it cannot tell" \
    nm_wait_log 15 "no STUN server answered: whether another NAT is upstream of UPnP gateway .* is unknown"
tap_check "silent: no warning" eval '! warned'
nm_stop_check "silent: SIGTERM" 5000
tap_check "silent: nothing left on the router" lab_wait 3 no_rule_for 8080
lab_down

# ---- an outer NAT: private (double NAT) and shared (carrier-grade NAT) ----
for up in private shared; do
	LAB_UPSTREAM=$up lab_init || { tap_fail "$up upstream lab builds"; continue; }
	lab_router_start || tap_fail "$up upstream: miniupnpd starts"
	lab_serve_tcp 8080
	case $up in
	private) why="is a private address: another NAT is upstream" ;;
	shared) why="is in the shared address space 100.64.0.0/10 \(RFC 6598\): carrier-grade NAT" ;;
	esac
	nm_start lan "$up.log" -m 8080/tcp --protocol upnp
	tap_check "$up upstream: mapped on the router" forwarded
	tap_check "$up upstream: warns, with the reason" \
	    nm_wait_log 5 "reports external address $LAB_RTR_WAN_IP: the gateway's external address $why; mapping anyway"
	tap_check "$up upstream: the WAN indeed does not reach the service" \
	    eval '! lab_reach_tcp "$LAB_PUBLIC_IP" 8080 >/dev/null'
	nm_stop_check "$up upstream: SIGTERM" 5000
	tap_check "$up upstream: nothing left on the router" \
	    lab_wait 3 no_rule_for 8080
	lab_down
done
unset LAB_UPSTREAM
tap_done
