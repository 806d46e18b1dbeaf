#!/bin/bash
# SPDX-License-Identifier: ISC
# contrib/debian/check.sh: builds the Debian packages from a clean copy of
# this tree and checks them as Debian would, one TAP-like line a check:
# the build (unit tests included), lintian, blhc, install / purge /
# reinstall leaving nothing behind, systemd-analyze verify and security
# on both units, and the autopkgtests under "autopkgtest ... -- null".
# Ends with "N passed, N failed"; exit status 0 only when none failed.
#
# As root on Debian 12 (a debootstrap chroot will do: no systemd needs to
# run, "ip netns" must work for the autopkgtests).  It installs what it
# needs with apt-get, only what is missing.  A git tree is cloned (what is
# committed, at HEAD), anything else copied.  CHECK_KEEP=1 keeps the work
# folder (its path is printed) with the build log and every check's log.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8

N=0
PASSED=0
FAILED=0
FAILS=()

if [ "$(id -u)" != 0 ]; then
	echo "check.sh: run as root (it installs packages and builds network namespaces)" >&2
	exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-debcheck.XXXXXX") || exit 1
LOGS=$WORK/logs
mkdir -p "$LOGS"
INSTALLED_BY_US=
MADE_POLICY=
MADE_PRIVATE=
[ -e /var/lib/private ] || MADE_PRIVATE=1	# by used(), below

cleanup() {
	if [ -n "$INSTALLED_BY_US" ]; then
		timeout 120 dpkg --purge natmapd natmapd-rendezvous \
		    >"$LOGS/final-purge.log" 2>&1
	fi
	[ -n "$MADE_POLICY" ] && rm -f /usr/sbin/policy-rc.d
	[ -n "$MADE_PRIVATE" ] && rmdir /var/lib/private 2>/dev/null
	if [ "${CHECK_KEEP:-0}" = 1 ]; then
		echo "# kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# check DESC CMD...: run CMD (its output in a log of its own), one line.
check() {
	local desc=$1 log
	shift
	N=$((N + 1))
	log=$LOGS/$N.log
	if "$@" >"$log" 2>&1; then
		PASSED=$((PASSED + 1))
		echo "ok $N - $desc"
	else
		FAILED=$((FAILED + 1))
		FAILS+=("$N - $desc")
		echo "not ok $N - $desc"
		tail -n 25 "$log" | sed 's/^/#   /'
	fi
}
# note LINE...: diagnostics, shown as '# ' lines
note() { printf '%s\n' "$@" | sed 's/^/# /'; }

# ---- what it needs, installed only when missing ----
NEED=(build-essential dpkg-dev debhelper fakeroot git lintian blhc
    autopkgtest systemd man-db iproute2 procps util-linux)
deps() {
	local p missing=()
	for p in "${NEED[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q '^install ok installed$' || missing+=("$p")
	done
	echo "missing: ${missing[*]:-none}"
	[ ${#missing[@]} = 0 ] && return 0
	timeout 300 apt-get update &&
	timeout 600 apt-get install -y --no-install-recommends \
	    -o Dpkg::Options::=--force-confdef \
	    -o Dpkg::Options::=--force-confold "${missing[@]}"
}
# No service may start while packages are installed (a chroot).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	MADE_POLICY=1
fi
T0=$SECONDS
check "the tools are installed (${NEED[*]})" deps

# ---- a clean copy of the tree ----
copy_tree() {	# DEST
	if git -c safe.directory='*' -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		git -c safe.directory='*' clone -q "$SRC" "$1" &&
		    git -C "$1" log -1 --format='cloned at %h %s'
	else
		mkdir -p "$1" && cp -a "$SRC/." "$1/" && echo "copied $SRC"
	fi
}
TREE=$WORK/build/natmapd
check "a clean copy of the tree" copy_tree "$TREE"
cp -r "$TREE/contrib/debian" "$TREE/debian" 2>/dev/null

version_matches() {
	local up deb
	up=$(sed -n 's/^AC_INIT(\[natmapd\], \[\([^]]*\)\].*/\1/p' "$TREE/configure.ac")
	deb=$(cd "$TREE" && dpkg-parsechangelog -S Version)
	echo "configure.ac $up, debian/changelog $deb"
	[ -n "$up" ] && [ "${deb%-*}" = "$up" ]
}
check "debian/changelog's version is configure.ac's AC_INIT version" version_matches

build_deps() {
	(cd "$TREE" && dpkg-checkbuilddeps) && return 0
	timeout 300 apt-get update &&
	timeout 600 apt-get build-dep -y --no-install-recommends "$TREE"
}
check "the build dependencies are installed" build_deps

# ---- the build: both packages from the clean copy ----
build() {
	(cd "$TREE" && DEB_BUILD_OPTIONS="parallel=2" \
	    timeout 900 dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1
	local rc=$?
	tail -n 30 "$WORK/build.log"
	grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP):' "$WORK/build.log"
	return "$rc"
}
check "dpkg-buildpackage -us -uc -b builds natmapd and natmapd-rendezvous (unit tests pass)" build
first() { [ -e "$1" ] && echo "$1"; }	# the first match of a glob
DEB_NM=$(first "$WORK"/build/natmapd_*_*.deb)
DEB_RDV=$(first "$WORK"/build/natmapd-rendezvous_*_*.deb)
CHANGES=$(first "$WORK"/build/natmapd_*_*.changes)
check "both .deb files are there" test -n "$DEB_NM" -a -n "$DEB_RDV" -a -n "$CHANGES"

# ---- lintian and blhc ----
# Fails on any tag shown: errors and warnings, and info and pedantic tags
# that are neither fixed nor overridden (overrides carry their reason).
lint() {
	local out rc
	out=$(timeout 300 lintian -I -E --pedantic --fail-on error,warning \
	    "$CHANGES" 2>&1)
	rc=$?
	out=$(grep -v 'running with root privileges is not recommended' <<<"$out")
	printf '%s\n' "$out"
	[ "$rc" = 0 ] && ! grep -q '^[EWIPX]: ' <<<"$out"
}
check "lintian --fail-on error,warning -I -E --pedantic: no tag left" lint
blhc_check() {
	local out
	out=$(timeout 120 blhc "$WORK/build.log" 2>&1)
	local rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 0 ] && [ -z "$out" ]
}
check "blhc finds no missing hardening flag in the build log" blhc_check

# ---- install, purge, reinstall: nothing left behind ----
# What the package may touch, outside the databases that record it.
snapshot() {
	find /etc /var/lib /lib/systemd /usr/sbin /usr/share/doc \
	    /usr/share/man /usr/share/lintian -xdev 2>/dev/null |
	    grep -Ev '^/var/lib/(dpkg|apt|ucf|man-db|systemd/deb-systemd-helper-enabled$|systemd/deb-systemd-helper-masked$)(/|$)' |
	    grep -Ev '^/etc/(ld\.so\.cache|mtab)$|^/var/lib/private$' | sort
	find /run -maxdepth 1 -name 'natmapd*' 2>/dev/null
}
install_debs() {
	timeout 300 apt-get install -y --no-install-recommends \
	    -o Dpkg::Options::=--force-confdef \
	    -o Dpkg::Options::=--force-confold "$DEB_NM" "$DEB_RDV"
}
installed_right() {
	dpkg-query -W -f='${Package} ${Status}\n' natmapd natmapd-rendezvous &&
	    test "$(dpkg-query -W -f='${Conffiles}' natmapd | awk '{print $1}')" = /etc/natmapd.conf &&
	    test -x /usr/sbin/natmapd -a -x /usr/sbin/natmapctl \
	        -a -x /usr/sbin/natmapd-rendezvous &&
	    test -f /lib/systemd/system/natmapd.service \
	        -a -f /lib/systemd/system/natmapd-rendezvous.service &&
	    /usr/sbin/natmapd -n && /usr/sbin/natmapd-rendezvous -V
}
# What the units leave while they run: StateDirectory= with DynamicUser=
# (/var/lib/private/natmapd and the link /var/lib/natmapd to it), and a
# RuntimeDirectory= that systemd removes itself when the unit stops.
used() {
	mkdir -p /var/lib/private/natmapd &&
	    chmod 0700 /var/lib/private &&
	    echo '{}' >/var/lib/private/natmapd/state &&
	    ln -sfn private/natmapd /var/lib/natmapd
}
purge() {
	timeout 120 dpkg --purge natmapd natmapd-rendezvous || return 1
	! dpkg-query -W -f='${Status}\n' natmapd natmapd-rendezvous 2>/dev/null |
	    grep -q 'installed'
}
left_behind() {	# BEFORE
	local now
	now=$(snapshot)
	diff -u "$1" <(printf '%s\n' "$now") | sed -n 's/^[-+]\//&/p'
	[ "$(printf '%s\n' "$now")" = "$(cat "$1")" ]
}
WAS_INSTALLED=$(dpkg-query -W -f='${Status}' natmapd 2>/dev/null)
if [ "$WAS_INSTALLED" = "install ok installed" ]; then
	note "natmapd was installed before: purged first"
	timeout 120 dpkg --purge natmapd natmapd-rendezvous >/dev/null 2>&1
fi
snapshot >"$WORK/before.list"
INSTALLED_BY_US=1
check "install: apt-get install ./natmapd*.deb ./natmapd-rendezvous*.deb" install_debs
check "installed: programs, units, /etc/natmapd.conf a conffile that natmapd -n accepts" installed_right
check "the state a running unit leaves (/var/lib/natmapd, DynamicUser's private dir)" used
check "purge both" purge
check "after purge nothing is left under /etc, /var/lib, /run, /lib/systemd, /usr" \
    left_behind "$WORK/before.list"
check "reinstall" install_debs
check "reinstalled: the same files and conffile" installed_right
check "the state a running unit leaves, again" used
check "purge again" purge
check "after the second purge nothing is left" left_behind "$WORK/before.list"
check "install once more for the unit and autopkgtest checks" install_debs

# ---- the units ----
verify() {
	local out
	out=$(timeout 60 systemd-analyze verify \
	    "/lib/systemd/system/$1.service" 2>&1)
	printf '%s\n' "$out"
	[ -z "$out" ]
}
security() {
	local out score
	out=$(timeout 60 systemd-analyze security --offline=yes \
	    "/lib/systemd/system/$1.service" 2>&1)
	score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$out")
	printf '%s\n' "$out" | tail -n 3
	echo "score: ${score:-none}"
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
}
for unit in natmapd natmapd-rendezvous; do
	check "systemd-analyze verify $unit.service prints nothing" verify "$unit"
	check "systemd-analyze security --offline=yes $unit.service: 2.0 or lower ($(systemd-analyze security --offline=yes "/lib/systemd/system/$unit.service" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'))" \
	    security "$unit"
done

# ---- the autopkgtests, from another clean copy ----
TESTTREE=$WORK/test/natmapd
autopkgtests() {
	copy_tree "$TESTTREE" && cp -r "$TESTTREE/contrib/debian" "$TESTTREE/debian" &&
	    timeout 600 autopkgtest "$DEB_NM" "$DEB_RDV" "$TESTTREE" -- null \
	    >"$WORK/autopkgtest.log" 2>&1
	local rc=$?
	grep -E '^(not ok|tap-run)|^(map|rendezvous) +[A-Z]+' "$WORK/autopkgtest.log"
	[ "$rc" = 0 ] &&
	    grep -Eq '^map +PASS' "$WORK/autopkgtest.log" &&
	    grep -Eq '^rendezvous +PASS' "$WORK/autopkgtest.log"
}
check "autopkgtest natmapd*.deb natmapd-rendezvous*.deb TREE -- null: map and rendezvous PASS" autopkgtests

note "$((SECONDS - T0)) s"
for f in "${FAILS[@]}"; do
	note "failed: $f"
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
