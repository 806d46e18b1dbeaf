#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The whole test suite, as on a fresh Debian 12 machine, as root: installs the
# dependencies, builds with warnings as errors, runs every unit and integration
# test, then builds again under AddressSanitizer and UBSan and runs them again,
# then make distcheck.  The last line is "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)

if [ "${NATMAPD_SKIP_DEPS:-}" != 1 ]; then
	bash contrib/install-deps.sh || { echo "dependencies did not install"; echo "0 passed, 1 failed"; exit 1; }
fi

passed=0 failed=0 skipped=0
count() {	# add the counts of an automake test-suite.log
	local log=$1 p f x e s
	p=$(awk '/^# PASS:/ { print $3 }' "$log")
	x=$(awk '/^# XFAIL:/ { print $3 }' "$log")
	f=$(awk '/^# FAIL:/ { print $3 }' "$log")
	e=$(awk '/^# ERROR:/ { print $3 }' "$log")
	s=$(awk '/^# SKIP:/ { print $3 }' "$log")
	passed=$((passed + ${p:-0} + ${x:-0}))
	failed=$((failed + ${f:-0} + ${e:-0}))
	skipped=$((skipped + ${s:-0}))
}

# run NAME DIR CONFIGURE-ARGS...: configure and build in DIR, then make check.
run() {
	local name=$1 dir=$2
	shift 2
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
	(cd "$dir" && make -j"$jobs" check >check.out 2>&1)
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$dir/check.out" | grep -v '^PASS' || true
	sed -n '/^# TOTAL/,/^# ERROR/p' "$dir/check.out"
	if [ -f "$dir/test-suite.log" ]; then
		count "$dir/test-suite.log"
		if grep -q '^# FAIL: *[1-9]\|^# ERROR: *[1-9]' "$dir/test-suite.log"; then
			# show what failed
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

# The OpenWrt footprint: natmapd without libcurl must build.
echo "=== build --without-curl"
rm -rf "$top/_build/nocurl"
mkdir -p "$top/_build/nocurl"
if (cd "$top/_build/nocurl" && "$top/configure" -q --enable-werror --without-curl &&
    grep -q 'HAVE_CURL' config.h && ! grep -q '^#define HAVE_CURL' config.h &&
    make -j"$jobs" src/natmapd >make.out 2>&1 && ! ldd src/natmapd | grep -q libcurl); then
	echo "--without-curl: ok"
	passed=$((passed + 1))
else
	echo "--without-curl: FAILED"
	failed=$((failed + 1))
fi

if [ "${NATMAPD_SKIP_DISTCHECK:-}" != 1 ]; then
	echo "=== make distcheck"
	if (cd "$top/_build/plain" && make -j"$jobs" distcheck >distcheck.out 2>&1); then
		echo "distcheck: ok"
		passed=$((passed + 1))
	else
		tail -n 60 "$top/_build/plain/distcheck.out"
		echo "distcheck: FAILED"
		failed=$((failed + 1))
	fi
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
