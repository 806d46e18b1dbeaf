#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The whole test suite, as on a fresh Debian 12 machine, as root: installs the
# dependencies, builds with warnings as errors, runs every unit and integration
# test, then builds again under AddressSanitizer and UBSan and runs them again,
# then make distcheck, then the Debian and OpenWrt packages' checks
# (contrib/debian/check.sh, contrib/openwrt/check.sh).  The last line is
# "N passed, N failed".
#
# Here, as root with every tool installed, nothing may be skipped: each
# skipped test (a TAP "# SKIP" line in a test's log, or automake's SKIP total
# if that is more) counts as a failure, and is named.  A user's "make check"
# still skips what needs root, saying why.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)

if [ "$(id -u)" != 0 ]; then
	echo "run-suite.sh: run me as root: the lab's tests need network namespaces"
	echo "(as a user, \"make check\" in a build runs them as skipped)"
	echo "0 passed, 1 failed"
	exit 1
fi

if [ "${NATMAPD_SKIP_DEPS:-}" != 1 ]; then
	bash contrib/install-deps.sh || { echo "dependencies did not install"; echo "0 passed, 1 failed"; exit 1; }
fi

passed=0 failed=0 skipped=0
mkdir -p "$top/_build" && : >"$top/_build/recap.out"
# count DIR [ALLOWED]: add the counts of DIR's make check; every skip is a
# failure but those whose reason matches the extended regex ALLOWED (a
# build without a feature skips its tests).
count() {
	local dir=$1 allowed=${2:-} log=$1/test-suite.log p f x e s list n
	p=$(awk '/^# PASS:/ { print $3 }' "$log")
	x=$(awk '/^# XFAIL:/ { print $3 }' "$log")
	f=$(awk '/^# FAIL:/ { print $3 }' "$log")
	e=$(awk '/^# ERROR:/ { print $3 }' "$log")
	s=$(awk '/^# SKIP:/ { print $3 }' "$log")
	# the TAP skips, from each test's own log: "ok 3 - x # SKIP why",
	# "1..0 # SKIP why" (a whole script)
	list=$(cd "$dir" && find tests -name '*.log' -type f | sort |
	    xargs -r grep -EiH '^(ok|not ok)\b[^#]*#[[:space:]]*skip|^1\.\.0\b.*#[[:space:]]*skip')
	if [ -n "$allowed" ] && [ -n "$list" ]; then
		grep -E -- "$allowed" <<<"$list" | cut -d: -f1 | uniq -c |
		    sed "s|^ *\([0-9]*\) \(.*\)|\2: \1 skips allowed in this build ($allowed)|"
		list=$(grep -Ev -- "$allowed" <<<"$list")
		s=$(grep -c . <<<"$list")
	fi
	n=0
	[ -n "$list" ] && n=$(grep -c . <<<"$list")
	[ "${s:-0}" -gt "$n" ] && n=$s
	if [ "$n" -gt 0 ]; then
		echo "$n skipped, each a failure here (root, every tool installed):"
		[ -n "$list" ] && sed 's/^/  SKIP /' <<<"$list"
		[ "${s:-0}" -gt "$(grep -c . <<<"$list")" ] &&
		    echo "  (automake counted ${s:-0} skips)"
	fi
	passed=$((passed + ${p:-0} + ${x:-0}))
	failed=$((failed + ${f:-0} + ${e:-0} + n))
	skipped=$((skipped + n))
}

# recap DIR: each "not ok" line of DIR's test logs and the "# " lines
# right under it (at most 6), at most 60 lines in all; and each test that
# ended with a bad status without a "not ok" line.
recap() {
	local dir=$1
	echo "--- $(basename "$dir"): the checks that failed"
	(cd "$dir" && find tests -name '*.log' -type f | sort |
	    xargs -r awk '
	    FNR == 1 { n = 0; bad = 0 }
	    /^not ok/ { print FILENAME ": " $0; n = 6; bad = 1; next }
	    n > 0 && /^#/ { print "    " $0; n--; next }
	    { n = 0 }' | head -n 60)
	(cd "$dir" && grep -l '^:test-result: ERROR' tests/*.trs tests/*/*.trs 2>/dev/null |
	    sed 's/\.trs$/: exited with a bad status/')
}

# run NAME DIR [TESTS=...] [ALLOWED=REGEX] CONFIGURE-ARGS...: configure and
# build in DIR, then make check (of TESTS alone if given; skips whose reason
# matches ALLOWED are not failures).
run() {
	local name=$1 dir=$2 tests= allowed=
	shift 2
	case ${1:-} in TESTS=*) tests=${1#TESTS=}; shift ;; esac
	case ${1:-} in ALLOWED=*) allowed=${1#ALLOWED=}; shift ;; esac
	echo "=== $name: build in $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! (cd "$dir" && "$top/configure" -q --enable-werror "$@" &&
	    make -j"$jobs" >make.out 2>&1); then
		[ -f "$dir/make.out" ] && tail -n 40 "$dir/make.out"
		echo "=== $name: BUILD FAILED"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + 1))	# the -Werror build itself
	echo "=== $name: make check"
	if [ -n "$tests" ]; then
		(cd "$dir" && make -j"$jobs" check TESTS="$tests" >check.out 2>&1)
	else
		(cd "$dir" && make -j"$jobs" check >check.out 2>&1)
	fi
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$dir/check.out" | grep -v '^PASS' || true
	sed -n '/^# TOTAL/,/^# ERROR/p' "$dir/check.out"
	if [ -f "$dir/test-suite.log" ]; then
		count "$dir" "$allowed"
		if grep -q '^# FAIL: *[1-9]\|^# ERROR: *[1-9]' "$dir/test-suite.log"; then
			# what failed: first each failed check with the
			# diagnostics under it (short, so that it is seen
			# whatever cuts a long output), then the logs
			recap "$dir" | tee -a "$top/_build/recap.out"
			awk '/^(FAIL|ERROR):/ { show = 1 } show' "$dir/test-suite.log" | head -n 200
		fi
	else
		echo "=== $name: no test-suite.log"
		tail -n 40 "$dir/check.out"
		failed=$((failed + 1))
	fi
}

autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; echo "0 passed, 1 failed"; exit 1; }

run "plain" "$top/_build/plain"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run "asan+ubsan" "$top/_build/asan" \
    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
unset ASAN_OPTIONS UBSAN_OPTIONS

# The OpenWrt footprint: natmapd without libcurl builds, has no libcurl
# in it, and passes the unit tests (the echo tests that need libcurl say so
# and skip: the stub's own test runs).
unit_tests=$(cd "$top" && sed -n '/^UNIT_TESTS = /,/[^\\]$/p' Makefile.am |
    grep -o 'tests/unit/[a-z0-9-]*' | tr '\n' ' ')
run "--without-curl" "$top/_build/nocurl" TESTS="$unit_tests" \
    ALLOWED='# SKIP built without libcurl$' --without-curl
if (cd "$top/_build/nocurl" && grep -q 'HAVE_CURL' config.h &&
    ! grep -q '^#define HAVE_CURL' config.h && [ -x src/natmapd ] &&
    ! ldd src/natmapd | grep -q libcurl); then
	echo "--without-curl: no libcurl in natmapd"
	passed=$((passed + 1))
else
	echo "--without-curl: HAVE_CURL defined or libcurl linked: FAILED"
	failed=$((failed + 1))
fi

if [ "${NATMAPD_SKIP_DISTCHECK:-}" != 1 ]; then
	echo "=== make distcheck"
	if (cd "$top/_build/plain" && make -j"$jobs" distcheck >distcheck.out 2>&1); then
		echo "distcheck: ok"
		passed=$((passed + 1))
	else
		# the tests that failed in the distribution's build, then the end
		grep -E '^(FAIL|ERROR|XPASS):' "$top/_build/plain/distcheck.out"
		tail -n 30 "$top/_build/plain/distcheck.out"
		echo "distcheck: FAILED"
		failed=$((failed + 1))
	fi
fi

# The packages (issue 13): Debian's (the .debs built from a clean copy,
# lintian, blhc, install and purge, the systemd units, the autopkgtests)
# and OpenWrt's (the init scripts under stand-ins for procd and UCI, the
# musl build and its unit tests).  Each check script installs what it
# needs and ends with "N passed, N failed": its counts are added.
if [ "${NATMAPD_SKIP_PACKAGES:-}" != 1 ]; then
	for pkg in debian openwrt; do
		script=$top/contrib/$pkg/check.sh
		[ -f "$script" ] || continue
		echo "=== contrib/$pkg/check.sh"
		t0=$SECONDS
		bash "$script" >"$top/_build/check-$pkg.out" 2>&1
		rc=$?
		grep -E '^(not ok|ok) ' "$top/_build/check-$pkg.out"
		last=$(tail -n 1 "$top/_build/check-$pkg.out")
		case $last in
		[0-9]*" passed, "[0-9]*" failed"*)
			set -- $last
			passed=$((passed + $1))
			failed=$((failed + $3))
			if [ "$rc" != 0 ] && [ "$3" = 0 ]; then
				echo "contrib/$pkg/check.sh: status $rc with no failure counted: FAILED"
				failed=$((failed + 1))
			fi ;;
		*)
			echo "contrib/$pkg/check.sh: the last line is not a count: FAILED"
			tail -n 30 "$top/_build/check-$pkg.out"
			failed=$((failed + 1)) ;;
		esac
		if [ "$rc" != 0 ]; then
			# what failed, with the lines under it
			awk '/^not ok/ { show = 12 } show > 0 { print; show-- }' \
			    "$top/_build/check-$pkg.out" | head -n 120
		fi
		echo "contrib/$pkg/check.sh: status $rc in $((SECONDS - t0)) s"
	done
fi

if [ "$skipped" -gt 0 ]; then
	echo "$skipped of the failures are skipped tests (listed above with SKIP)"
fi
if [ -s "$top/_build/recap.out" ]; then
	echo "=== the checks that failed, again"
	head -n 120 "$top/_build/recap.out"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
