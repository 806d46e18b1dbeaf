# SPDX-License-Identifier: ISC
# Shared by the rendezvous tests (rendezvous.sh, register.sh, reach.sh), on
# top of common.sh: the server's binary, python3 for the lab's clients, the
# server's address and log, networks made with natmapd's own keys, its start
# and its counters.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RDV=${NATMAPD_RENDEZVOUS:-$SRCDIR/src/natmapd-rendezvous}
export NATMAPD_RENDEZVOUS=$RDV
if [ ! -x "$RDV" ]; then
	echo "1..0 # SKIP no natmapd-rendezvous binary at $RDV"
	exit 0
fi
lab_need_python

rdv="$LAB_RDV_IP:$LAB_RDV_PORT"
rdv_log_has() { grep -Eq -- "$1" "$LAB_DIR/rendezvous.log"; }

# rdv_tmp NAME: a private directory, $tmp, removed at the exit.
rdv_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-$1.XXXXXX") || exit 1
	it_on_exit "rm -rf '$tmp'"
}

# rdv_networks NAME...: for each network a secret from natmapd --keygen in
# $tmp/NAME.key (readable by all: the LAN host's client reads it), and the
# server's networks file $tmp/nets (mode 0600) with its server keys from
# natmapd --server-key.  After rdv_tmp (and umask 077: the secrets are
# written before they are made readable).
rdv_networks() {
	local net
	echo "# the lab's networks" >"$tmp/nets"
	for net in "$@"; do
		"$NATMAPD" --keygen >"$tmp/$net.key"
		echo "$net $("$NATMAPD" --server-key "$tmp/$net.key")" >>"$tmp/nets"
	done
	chmod 600 "$tmp/nets"
	for net in "$@"; do
		chmod 644 "$tmp/$net.key"
	done
}

# rdv_start DESC ARGS...: natmapd-rendezvous in the lab with ARGS (see
# lab_rendezvous_start), stopped at the exit; one TAP line DESC, and the
# test ends there if it does not start.
rdv_start() {
	local desc=$1
	shift
	if lab_rendezvous_start "$@"; then
		tap_ok "$desc"
	else
		tap_fail "$desc"
		tap_done
		exit 1
	fi
	it_on_exit lab_rendezvous_stop
}

# rdv_stats: SIGUSR1, and the server's last stats line in $line;
# rdv_stat NAME: a counter's value in it.
rdv_stats() {
	kill -USR1 "$LAB_RDV_PID"
	lab_wait 5 rdv_log_has "stats: registrations" || true
	line=$(grep "stats: registrations" "$LAB_DIR/rendezvous.log" | tail -n 1)
}
rdv_stat() { sed -E "s/.* $1 ([0-9]+).*/\1/" <<<"$line"; }
