#!/bin/bash
# SPDX-License-Identifier: ISC
# golden.sh - golden tests of natmapd.conf(5) parsing (OpenBSD bgpd regress style).
#
# For each tests/config/NAME.conf:
#   NAME.ok   : `natmapd -n -v -c NAME.conf` must exit 0, print NAME.ok on
#               stdout (the normalised config) and nothing on stderr.
#   NAME.err  : (bad-*.conf) it must exit 78, print nothing on stdout and
#               exactly NAME.err on stderr.
# natmapd runs in the directory of the files, so messages name "NAME.conf".
# Environment: NATMAPD (the binary) and SRCDIR (the source tree), as set by
# "make check".  One TAP line per file; diff -u on a mismatch.

: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NATMAPD:=$SRCDIR/src/natmapd}"
. "$SRCDIR/tests/tap.sh"

dir=$SRCDIR/tests/config
tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$NATMAPD" ]; then
	echo "1..0 # SKIP no natmapd binary at $NATMAPD"
	exit 0
fi

# check_good NAME: NAME.conf parses to NAME.ok.
check_good() {
	local name=$1 rc
	(cd "$dir" && exec "$NATMAPD" -n -v -c "$name.conf") \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		tap_fail "$name.conf: accepted" "exit status $rc, not 0" \
		    "$(cat "$tmp/err")"
	elif ! diff -u "$dir/$name.ok" "$tmp/out" >"$tmp/diff"; then
		tap_fail "$name.conf: prints $name.ok" \
		    "$(sed "s|$tmp/out|(natmapd -nv)|" "$tmp/diff")"
	elif [ -s "$tmp/err" ]; then
		tap_fail "$name.conf: quiet on stderr" "$(cat "$tmp/err")"
	else
		tap_ok "$name.conf: prints $name.ok"
	fi
}

# check_bad NAME: NAME.conf is refused with NAME.err and status 78.
check_bad() {
	local name=$1 rc
	(cd "$dir" && exec "$NATMAPD" -n -v -c "$name.conf") \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 78 ]; then
		tap_fail "$name.conf: refused with status 78" \
		    "exit status $rc" "$(cat "$tmp/out" "$tmp/err")"
	elif ! diff -u "$dir/$name.err" "$tmp/err" >"$tmp/diff"; then
		tap_fail "$name.conf: $(cat "$dir/$name.err")" \
		    "$(sed "s|$tmp/err|(natmapd stderr)|" "$tmp/diff")"
	elif [ -s "$tmp/out" ]; then
		tap_fail "$name.conf: nothing on stdout" "$(cat "$tmp/out")"
	else
		tap_ok "$name.conf: $(cat "$dir/$name.err")"
	fi
}

for conf in "$dir"/*.conf; do
	name=$(basename "$conf" .conf)
	if [ -f "$dir/$name.ok" ]; then
		check_good "$name"
	elif [ -f "$dir/$name.err" ]; then
		check_bad "$name"
	else
		tap_fail "$name.conf has a $name.ok or a $name.err"
	fi
done

# The shipped example must stay valid.
example=$SRCDIR/contrib/natmapd.conf.example
if [ -f "$example" ]; then
	tap_check "contrib/natmapd.conf.example is accepted" \
	    "$NATMAPD" -n -c "$example"
else
	tap_skip "contrib/natmapd.conf.example is accepted" "no such file"
fi

tap_done
