# SPDX-License-Identifier: ISC
# natmapd-rendezvous sends a SIGNAL on: nodes behind the lab's NAT (the
# default masquerade: port-restricted) register, one over UDP to the main
# port, one to the alternate port, one over TCP, one in another network;
# a SIGNAL of one to another reaches the target's socket through the NAT
# (from the server socket it registered to, or on its TCP connection) with
# the sender's name and the payload; an unknown node gets 404, a node of
# another network 404, an unregistered sender 403, a bad MAC nothing, a
# burst 429; SIGUSR1's counters say so, and the log never holds a payload.  The
# client is tests/lab/rdv-signal.py (messages built apart from the C code).
. "$(dirname "$0")/rdv-common.sh"

rdv_tmp signal
umask 077
rdv_networks home work

lab_init || { tap_fail "lab builds"; tap_done; exit 1; }
rdv_start "natmapd-rendezvous starts with --alt-address $LAB_RDV_ALT_IP" \
    --networks "$tmp/nets"

lab_lan timeout 60 python3 "$SRCDIR/tests/lab/rdv-signal.py" "$rdv" \
    "$LAB_RDV_ALT_PORT" home "$tmp/home.key" work "$tmp/work.key" \
    >"$LAB_DIR/signal.out" 2>&1
rc=$?
for name in sent-on received tcp unknown other-net unregistered bad-mac \
    rate; do
	line=$(grep "^$name " "$LAB_DIR/signal.out")
	tap_check "$name: ${line#"$name "}" test "$(awk '{print $2}' <<<"$line")" = ok
done
tap_check "rdv-signal.py: exit 0" test "$rc" = 0 || cat "$LAB_DIR/signal.out" >&2

tap_check "the log names the SIGNAL, sender, target and size" \
    rdv_log_has "SIGNAL x to y in network home, 1024 bytes: sent to udp $LAB_RTR_WAN_IP:"
tap_check "the log says why a SIGNAL was refused" \
    rdv_log_has "SIGNAL x to nobody in network home, 1 bytes: 404 no such node"
# the payloads were random bytes and "burst N"; none is printed
tap_check "the log holds no payload" sh -c "! grep -q 'burst\|across\|forged\|over tcp' '$LAB_DIR/rendezvous.log'"

rdv_stats
tap_check "SIGUSR1 logs a stats line ($line)" test -n "$line"
# authenticated: sent-on, tcp, unknown, x to w, w to x, u to y, 24 of the burst
n=$(rdv_stat signal)
sent=$(rdv_stat signalled)
refused=$(rdv_stat signal-refused)
tap_check "signal 30 = signalled $sent + signal-refused $refused" \
    test "$n" = 30 -a "$((sent + refused))" = 30
tap_check "bad-mac counted once" test "$(rdv_stat bad-mac)" = 1

lab_rendezvous_stop
tap_check "SIGTERM: exit 0 ($LAB_RDV_STATUS)" test "$LAB_RDV_STATUS" = 0
tap_done
