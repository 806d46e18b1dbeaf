#!/bin/bash
# SPDX-License-Identifier: ISC
# man-lint.sh - the manual pages: mandoc -Tlint is clean, every long option
# of `natmapd --help` is in natmapd.8, every natmapd.conf keyword the parser
# accepts is in natmapd.conf.5, every key of the status object is in
# natmapctl.8 (TAP); natmapd-rendezvous.8 the same way: lint, every long
# option of `natmapd-rendezvous --help` and every keyword its configuration
# file takes.
# Environment: NATMAPD, NATMAPD_RENDEZVOUS and SRCDIR, as set by "make check".
#
# Without mandoc the whole file is skipped with a TAP "1..0 # SKIP" plan
# and status 0: automake's TAP driver counts exit status 77 as an error.

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${NATMAPD:=$SRCDIR/src/natmapd}"
: "${NATMAPD_RENDEZVOUS:=$SRCDIR/src/natmapd-rendezvous}"
. "$SRCDIR/tests/tap.sh"

if ! command -v mandoc >/dev/null 2>&1; then
	echo "1..0 # SKIP mandoc is not installed"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

man8=$SRCDIR/man/natmapd.8
man5=$SRCDIR/man/natmapd.conf.5
manctl=$SRCDIR/man/natmapctl.8
manrdv=$SRCDIR/man/natmapd-rendezvous.8

# render PAGE: the page as plain text, overstrike removed.
render() {
	mandoc -T ascii "$1" 2>/dev/null | sed 's/.\x08//g'
}

# ---- mandoc -Tlint ----
for page in "$man8" "$man5" "$manctl" "$manrdv"; do
	name=${page#"$SRCDIR/"}
	if [ ! -f "$page" ]; then
		tap_fail "$name exists"
		continue
	fi
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		tap_ok "mandoc -Tlint -W warning $name: clean"
	else
		tap_fail "mandoc -Tlint -W warning $name: clean" \
		    "exit status $rc" "${out//$SRCDIR\//}"
	fi
done

# ---- long options in natmapd.8 ----
if [ ! -x "$NATMAPD" ]; then
	tap_skip "long options of natmapd --help in natmapd.8" \
	    "no natmapd binary at $NATMAPD"
elif [ -f "$man8" ]; then
	render "$man8" >"$tmp/man8.txt"
	opts=$("$NATMAPD" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	if [ -z "$opts" ]; then
		tap_fail "natmapd --help lists long options" "$("$NATMAPD" --help)"
	fi
	for opt in $opts; do
		if grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" "$tmp/man8.txt"; then
			tap_ok "natmapd.8 documents $opt"
		else
			tap_fail "natmapd.8 documents $opt" \
			    "$opt is in natmapd --help but not in natmapd.8"
		fi
	done
fi

# ---- keywords in natmapd.conf.5 ----
# The keywords are the strings parse_statement() in src/config.c compares
# the first word with; each is checked to be accepted by natmapd too, so
# that this list cannot silently go stale.
if [ -f "$man5" ]; then
	render "$man5" >"$tmp/man5.txt"
	keywords=$(grep -oE 'strcmp\(kw, "[a-z][a-z0-9-]*"\)' \
	    "$SRCDIR/src/config.c" | sed 's/.*"\(.*\)".*/\1/' | sort -u)
	if [ -z "$keywords" ]; then
		tap_fail "keywords found in src/config.c"
	fi
	for kw in $keywords; do
		if [ -x "$NATMAPD" ]; then
			printf '%s\n' "$kw" >"$tmp/kw.conf"
			"$NATMAPD" -n -c "$tmp/kw.conf" -m 1/tcp 2>"$tmp/kw.err"
			if grep -q 'unknown keyword' "$tmp/kw.err"; then
				tap_fail "natmapd accepts the keyword $kw" \
				    "$(cat "$tmp/kw.err")"
				continue
			fi
		fi
		# an item of the keyword list: "     map spec"
		if grep -qE -- "^[[:space:]]+$kw( |\$)" "$tmp/man5.txt"; then
			tap_ok "natmapd.conf.5 documents $kw"
		else
			tap_fail "natmapd.conf.5 documents $kw" \
			    "the parser accepts $kw but natmapd.conf.5 lacks it"
		fi
	done
fi

# ---- the status object's keys in natmapctl.8 ----
# The keys are the strings status_json() in src/status.c adds, and the
# counters' names; each must be a tag of natmapctl.8's JSON STATUS list.
if [ -f "$manctl" ]; then
	render "$manctl" >"$tmp/manctl.txt"
	keys=$( { grep -oE 'add\((o|cnt), "[a-z_]+"' "$SRCDIR/src/status.c"
	    sed -n '/const char \*counter_names/,/};/p' "$SRCDIR/src/status.c" |
	    grep -oE '"[a-z_]+"'; } | grep -oE '"[a-z_]+"' | tr -d '"' |
	    sort -u)
	if [ -z "$keys" ]; then
		tap_fail "status keys found in src/status.c"
	fi
	for key in $keys; do
		# a tag line, or a key among others: "     key", "key (..."
		if grep -qE -- "(^[[:space:]]+|, )$key( |,|\$)" "$tmp/manctl.txt"; then
			tap_ok "natmapctl.8 documents the status key $key"
		else
			tap_fail "natmapctl.8 documents the status key $key" \
			    "status_json() has $key but natmapctl.8 lacks it"
		fi
	done
fi

# ---- natmapd-rendezvous.8: its long options and configuration keywords ----
if [ ! -x "$NATMAPD_RENDEZVOUS" ]; then
	tap_skip "long options of natmapd-rendezvous --help in natmapd-rendezvous.8" \
	    "no natmapd-rendezvous binary at $NATMAPD_RENDEZVOUS"
elif [ -f "$manrdv" ]; then
	render "$manrdv" >"$tmp/manrdv.txt"
	opts=$("$NATMAPD_RENDEZVOUS" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	if [ -z "$opts" ]; then
		tap_fail "natmapd-rendezvous --help lists long options"
	fi
	for opt in $opts; do
		if grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" "$tmp/manrdv.txt"; then
			tap_ok "natmapd-rendezvous.8 documents $opt"
		else
			tap_fail "natmapd-rendezvous.8 documents $opt" \
			    "$opt is in natmapd-rendezvous --help but not in the page"
		fi
	done
	# the keywords rdv_conf_set() in src/rdv-conf.c compares with
	keywords=$(grep -oE 'strcmp\(kw, "[a-z][a-z0-9-]*"\)' \
	    "$SRCDIR/src/rdv-conf.c" | sed 's/.*"\(.*\)".*/\1/' | sort -u)
	if [ -z "$keywords" ]; then
		tap_fail "keywords found in src/rdv-conf.c"
	fi
	for kw in $keywords; do
		printf '%s x\n' "$kw" >"$tmp/kw.conf"
		"$NATMAPD_RENDEZVOUS" -n -c "$tmp/kw.conf" 2>"$tmp/kw.err"
		if grep -q 'unknown keyword' "$tmp/kw.err"; then
			tap_fail "natmapd-rendezvous accepts the keyword $kw" \
			    "$(cat "$tmp/kw.err")"
			continue
		fi
		if grep -qE -- "^[[:space:]]+$kw( |\$)" "$tmp/manrdv.txt"; then
			tap_ok "natmapd-rendezvous.8 documents the keyword $kw"
		else
			tap_fail "natmapd-rendezvous.8 documents the keyword $kw" \
			    "the parser accepts $kw but natmapd-rendezvous.8 lacks it"
		fi
	done
fi

tap_done
