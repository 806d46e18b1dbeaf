# SPDX-License-Identifier: ISC
# Sourced by the two-site benchmarks (punch.sh, carrier-rst.sh): the lab of
# tests/lab/lab.sh with LAB_SITES=2, torn down at exit with the processes
# in PIDS; NATs that keep an idle UDP binding 30 s (a node must hear its
# SIGNALs between two registrations).
#   bench_lab2 NATMAPD: the lab; network home's secret in $LAB_DIR/home.key,
#   its server key in $LAB_DIR/nets (for lab_rendezvous_start --networks);
#   exits with a message if any of it fails
. "$top/tests/lab/lab.sh"
lab_need_root_tools
lab_need_python
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; lab_down; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
bench_lab2() {
	LAB_SITES=2 lab_init || { echo "bench: lab did not come up" >&2; exit 1; }
	lab_nat_udp_timeout 30 rtr && lab_nat_udp_timeout 30 rtr2 || exit 1
	(umask 077 && "$1" --keygen >"$LAB_DIR/home.key") || exit 1
	echo "home $("$1" --server-key "$LAB_DIR/home.key")" >"$LAB_DIR/nets" &&
	    chmod 600 "$LAB_DIR/nets" || exit 1
}
#   bench_node BIN CONF NAME HOST ARGS...: natmapd BIN as node NAME of network
#   home in namespace HOST (lab_ns_of), configuration $LAB_DIR/CONF.conf,
#   the rendezvous at $rdv, its log $LAB_DIR/NAME.log; its pid in NM_PID
bench_node() {
	local bin=$1 conf=$2 name=$3 ns
	ns=$(lab_ns_of "$4") || return 1
	shift 4
	# no log until the node writes one: has never reads a former node's
	rm -f "$LAB_DIR/$name.log"
	ip netns exec "$ns" "$bin" -f -v -c "$LAB_DIR/$conf.conf" \
	    --state-file "$LAB_DIR/$name.state" --status-file none \
	    --control none --rendezvous "$rdv" --network home \
	    --key-file "$LAB_DIR/home.key" --node "$name" "$@" \
	    </dev/null >"$LAB_DIR/$name.log" 2>&1 &
	NM_PID=$!
	PIDS+=("$NM_PID")
}
# has NAME REGEX: NAME's log has a line that matches (no log yet: no)
has() { grep -Eqs -- "$2" "$LAB_DIR/$1.log"; }
