#!/bin/sh
# SPDX-License-Identifier: ISC
# Runs an OpenWrt init script of contrib/openwrt outside OpenWrt, with
# stand-ins for the shell functions rc.common, /lib/functions.sh (UCI),
# /lib/functions/network.sh and /lib/functions/procd.sh give it, reading
# a UCI file of the caller's.  check.sh compares what it records.
#
# usage: test-init.sh INIT UCI-FILE OUTDIR PROG ACTION...
#   ACTION: start (start_service), reload (reload_service), triggers
#   (service_triggers); several run in order in one shell, as procd would.
# Records in OUTDIR/procd one line per procd call, e.g.
#   open_instance
#   set_param command /usr/sbin/natmapd -f -c OUTDIR/etc/natmapd.conf
#   close_instance
# plus "stop" and "start" for rc.common's functions and "exit N" for each
# action's status.  The init script's configuration directory is
# OUTDIR/etc, its program PROG (the natmapd or natmapd-rendezvous built),
# and the network "wan" has the device "eth1" (any other has none).
#
# The one change made to the init script: its ". /lib/functions/network.sh"
# reads the stand-in instead.
# The stand-ins are called by the init script, and the variables set after
# it is sourced are its own.
# shellcheck disable=SC2034,SC2154,SC2317
set -u
[ $# -ge 5 ] || { echo "usage: test-init.sh INIT UCI-FILE OUTDIR PROG ACTION..." >&2; exit 64; }
init=$1 uci=$2 out=$3 prog=$4
shift 4
mkdir -p "$out/etc"
: >"$out/procd"

# --- UCI (/lib/functions.sh) ---------------------------------------------
# The UCI file as shell assignments: CONFIG_SECTIONS (in order), and
# CONFIG_<section>_TYPE / CONFIG_<section>_<option>; a list's values are
# joined by spaces, as config_get gives them.  Unnamed sections are cfg01,
# cfg02 ... Values are single-quoted in the file (as uci export writes).
uci_to_shell() {
	awk '
	function val(s) {
		sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
		if (s ~ /^\x27.*\x27$/ || s ~ /^".*"$/)
			s = substr(s, 2, length(s) - 2)
		return s
	}
	function q(s) { gsub(/\x27/, "\x27\\\x27\x27", s); return "\x27" s "\x27" }
	/^[ \t]*(#|$)/ { next }
	$1 == "config" {
		n++
		sec = (NF >= 3) ? val($3) : sprintf("cfg%02d", n)
		print "CONFIG_SECTIONS=\"${CONFIG_SECTIONS:+$CONFIG_SECTIONS }" sec "\""
		print "CONFIG_" sec "_TYPE=" q(val($2))
		next
	}
	$1 == "option" || $1 == "list" {
		key = $2; rest = $0
		sub(/^[ \t]*(option|list)[ \t]+[^ \t]+/, "", rest)
		v = val(rest)
		if ($1 == "list")
			print "CONFIG_" sec "_" key "=\"${CONFIG_" sec "_" key ":+$CONFIG_" sec "_" key " }\"" q(v)
		else
			print "CONFIG_" sec "_" key "=" q(v)
		next
	}
	{ print "echo \"test-init.sh: bad UCI line: " NR "\" >&2; exit 65" }
	' "$1"
}

config_load() {
	CONFIG_SECTIONS=''
	eval "$(uci_to_shell "$uci")"
}

config_get() {
	# config_get VAR SECTION OPTION [DEFAULT]
	eval "_v=\${CONFIG_${2}_${3}-}"
	[ -n "$_v" ] || _v=${4-}
	eval "$1=\$_v"
}

config_get_bool() {
	config_get _b "$2" "$3" "${4-}"
	case "$_b" in
	1|on|true|yes|enabled) _b=1 ;;
	0|off|false|no|disabled) _b=0 ;;
	*) _b=${4-0} ;;
	esac
	eval "$1=\$_b"
}

config_foreach() {
	# config_foreach FUNCTION TYPE
	for _s in $CONFIG_SECTIONS; do
		eval "_t=\$CONFIG_${_s}_TYPE"
		[ "$_t" = "$2" ] || continue
		"$1" "$_s"
	done
}

# --- /lib/functions/network.sh -------------------------------------------
cat >"$out/network.sh" <<'EOF'
network_get_device() {
	case "$2" in
	wan) eval "$1=eth1" ;;
	*) eval "$1=''"; return 1 ;;
	esac
}
EOF

# --- procd (/lib/functions/procd.sh) and rc.common ------------------------
rec() { echo "$*" >>"$out/procd"; }
procd_open_instance() { rec open_instance "$@"; }
procd_close_instance() { rec close_instance; }
procd_set_param() { rec set_param "$@"; }
procd_append_param() { rec append_param "$@"; }
procd_add_reload_trigger() { rec reload_trigger "$@"; }
procd_add_reload_interface_trigger() { rec reload_interface_trigger "$@"; }
procd_add_interface_trigger() { rec interface_trigger "$@"; }
logger() { echo "logger: $*" >>"$out/log"; }
start() { rec start; start_service; }
stop() { rec stop; }

# The init script, with the stand-in network.sh.
sed "s|/lib/functions/network.sh|$out/network.sh|" "$init" >"$out/init.sh"
# shellcheck source=/dev/null
. "$out/init.sh"
CONFDIR=$out/etc
CONF=$CONFDIR/$NAME.conf
RESTART_ARGS=$CONFDIR/$NAME.args
PROG=$prog

for action in "$@"; do
	case "$action" in
	start) start_service ;;
	reload) reload_service ;;
	triggers) service_triggers ;;
	*) echo "test-init.sh: unknown action $action" >&2; exit 64 ;;
	esac
	rec exit $?
done
exit 0
