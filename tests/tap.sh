# SPDX-License-Identifier: ISC
# tap.sh - a tiny TAP producer for the bash tests; source it, do not run it.
#
#   . "$SRCDIR/tests/tap.sh"
#   tap_plan 3                      # optional: else tap_done prints the plan
#   tap_ok "daemon started"
#   tap_fail "mapping seen" "no DNAT rule for 8080"
#   tap_check "config accepted" "$NATMAPD" -n -c x.conf
#   tap_skip "IGD:1 test" "miniupnpd has no IGD:1 mode here"
#   tap_diag "anything" "printed as # comments"
#   TAP_FINAL+=(fn)                 # optional: tap_done runs fn first
#   tap_done                        # prints the plan if needed; exit 1 on failure
#
# Only stdout carries TAP; diagnostics are '# ' lines on stdout too, so that
# they show up in the .log file next to the result they explain.

TAP_N=0
TAP_FAILED=0
TAP_PLANNED=
TAP_FINAL=()	# commands tap_done runs first: last checks, silent when fine

# tap_plan N: print the plan first (call at most once, before any result).
tap_plan() {
	TAP_PLANNED=$1
	printf '1..%s\n' "$1"
}

# tap_diag LINE...: each argument, and each line of it, as a '# ' comment.
tap_diag() {
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

# tap_ok DESC: a passed test.
tap_ok() {
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s\n' "$TAP_N" "$1"
}

# tap_fail DESC [DIAG...]: a failed test, with optional diagnostics.
tap_fail() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s\n' "$TAP_N" "$1"
	shift
	[ $# -gt 0 ] && tap_diag "$@"
	return 0
}

# tap_check DESC CMD [ARG...]: ok if CMD exits 0; its output is shown as
# diagnostics when it fails.  Returns CMD's exit status.
tap_check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "command: $*" "exit status $rc" ${out:+"$out"}
	fi
	return "$rc"
}

# tap_skip DESC REASON: a skipped test.
tap_skip() {
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$1" "${2:-}"
}

# tap_done: run the TAP_FINAL commands, print the plan if it was not given
# first, check it, and exit 0 if every test passed, 1 otherwise.
tap_done() {
	local c
	for c in "${TAP_FINAL[@]}"; do
		"$c"
	done
	if [ -z "$TAP_PLANNED" ]; then
		printf '1..%d\n' "$TAP_N"
	elif [ "$TAP_PLANNED" -ne "$TAP_N" ]; then
		tap_diag "planned $TAP_PLANNED tests but ran $TAP_N"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	[ "$TAP_FAILED" -eq 0 ] && exit 0
	exit 1
}
