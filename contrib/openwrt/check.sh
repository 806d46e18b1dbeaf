#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Checks the OpenWrt package of contrib/openwrt on Debian 12, as root:
# the init scripts pass shellcheck -s sh; test-init.sh runs each with
# stand-ins for UCI's and procd's shell functions on the sample UCI files
# of tests/, and what it would start (command line, procd parameters,
# triggers, the configuration made) is compared with what is expected and
# given to the natmapd built here (-n); then natmapd is built against musl
# (musl-gcc, the libraries built by build-deps.sh from Debian's sources) and
# its unit tests run; then the same for s390x, a big-endian target, with
# Debian's cross compiler, the tests run by qemu-user (OPENWRT_BIGENDIAN=0
# leaves this part out).  One "ok N - ..." or "not ok N - ..." line a check,
# then "N passed, N failed"; exit 0 only when none failed.
#
# Installs what it needs with apt-get (only what is missing).  Keeps the
# musl-built libraries in /var/cache/natmapd-openwrt (OPENWRT_CACHE), so a
# second run does not build them again; everything else is made in a work
# directory under /tmp, removed at exit (OPENWRT_KEEP=1 keeps it).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/contrib/openwrt
t0=$(date +%s)
jobs=2

n=0 passed=0 failed=0
ok() { n=$((n + 1)) passed=$((passed + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)) failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() {
	echo "# $(($(date +%s) - t0)) s"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}
# check DESC CMD...: one check, CMD's output shown only when it fails
check() {
	local desc=$1 log t
	shift
	log=$work/log.$((n + 1))
	t=$(date +%s)
	if "$@" >"$log" 2>&1; then
		ok "$desc ($(($(date +%s) - t)) s)"
	else
		notok "$desc ($(($(date +%s) - t)) s)"
		tail -n 25 "$log" | sed 's/^/#   /'
	fi
}

if [ "$(id -u)" != 0 ]; then
	echo "check.sh: run me as root (apt-get)"
	echo "0 passed, 1 failed"
	exit 1
fi
work=$(mktemp -d /tmp/natmapd-openwrt.XXXXXX) || exit 1
# the background builds of the libraries, while they run
deps_musl='' deps_be=''
stop_deps() {
	[ -n "$deps_musl$deps_be" ] || return 0
	# shellcheck disable=SC2086
	kill $deps_musl $deps_be 2>/dev/null
	wait
}
if [ "${OPENWRT_KEEP:-}" = 1 ]; then
	echo "# work directory $work"
	trap 'stop_deps' EXIT
else
	trap 'stop_deps; cd /; rm -rf "$work"' EXIT
fi
cache=${OPENWRT_CACHE:-/var/cache/natmapd-openwrt}

# --- what it needs ----------------------------------------------------------
pkgs="gcc make autoconf automake pkg-config binutils shellcheck musl-tools
    cmake dpkg-dev linux-libc-dev libminiupnpc-dev libnatpmp-dev
    libjson-c-dev nettle-dev libcmocka-dev xz-utils ca-certificates"
install_missing() {
	local p missing=''
	for p in $pkgs; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q '^install ok installed$' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing ||
	    { apt-get -q -o DPkg::Lock::Timeout=600 update &&
	      apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing; }
}
be=s390x-linux-gnu
[ "${OPENWRT_BIGENDIAN:-1}" = 1 ] && pkgs="$pkgs gcc-$be libc6-dev-s390x-cross qemu-user"
check "the tools and libraries it needs are installed" install_missing
[ "$failed" = 0 ] || finish

# The libraries for musl (and s390x) built in the background meanwhile:
# much of it is configure scripts, on one core.
bash "$here/build-deps.sh" "$cache/musl" >"$work/deps-musl.log" 2>&1 &
deps_musl=$!
if [ "${OPENWRT_BIGENDIAN:-1}" = 1 ]; then
	bash "$here/build-deps.sh" "$cache/s390x" "$be" >"$work/deps-s390x.log" 2>&1 &
	deps_be=$!
fi
# wait_deps VAR LOG: the status of the background build whose PID is in
# VAR, its log shown
wait_deps() {
	local r
	wait "${!1}"
	r=$?
	eval "$1=''"
	cat "$2"
	return "$r"
}

# --- natmapd for this machine (the harness gives it what the init makes) ---
# The source copied, so the tree is left as it was.
copy_tree() {
	mkdir -p "$work/src" &&
	    (cd "$top" && tar -cf - --exclude=./.git --exclude='./_*' \
		--exclude=./autom4te.cache .) | tar -xf - -C "$work/src" &&
	    (cd "$work/src" && autoreconf -fi)
}
build_native() {
	mkdir -p "$work/native" && (cd "$work/native" &&
	    ../src/configure --without-curl --enable-werror &&
	    make -j"$jobs" src/natmapd src/natmapd-rendezvous)
}
check "the source copied and autoreconf'd" copy_tree
if [ -n "${NATMAPD:-}" ] && [ -n "${NATMAPD_RENDEZVOUS:-}" ]; then
	echo "# natmapd and natmapd-rendezvous from NATMAPD and NATMAPD_RENDEZVOUS"
else
	check "natmapd built for this machine (for the harness)" build_native
	NATMAPD=$work/native/src/natmapd
	NATMAPD_RENDEZVOUS=$work/native/src/natmapd-rendezvous
fi

# --- the init scripts ------------------------------------------------------
files=$here/natmapd/files
for s in natmapd natmapd-rendezvous; do
	check "$s.init passes shellcheck -s sh" shellcheck -s sh "$files/$s.init"
done
check "test-init.sh passes shellcheck -s sh" shellcheck -s sh -x "$here/test-init.sh"

# run_init NAME UCI OUT ACTION...: test-init.sh on the init of NAME with UCI
# (a file of tests/, @WORK@ replaced)
run_init() {
	local name=$1 uci=$2 out=$3 prog
	shift 3
	prog=$NATMAPD
	[ "$name" = natmapd-rendezvous ] && prog=$NATMAPD_RENDEZVOUS
	mkdir -p "$out"
	sed "s|@WORK@|$work|g" "$uci" >"$out.uci"
	sh "$here/test-init.sh" "$files/$name.init" "$out.uci" "$out" "$prog" "$@"
}
# expect_procd OUT WANT: the procd calls recorded in OUT are WANT's lines
# (@OUT@ and @PROG@ replaced)
expect_procd() {
	local out=$1 want=$2 prog=$3
	diff -u <(printf '%s\n' "$want" | sed "s|@OUT@|$out|g; s|@PROG@|$prog|g") \
	    "$out/procd"
}
expect_file() {
	diff -u <(sed "s|@WORK@|$work|g" "$1") "$2"
}

# natmapd: a key file for the sample's rendezvous
"$NATMAPD" --keygen >"$work/home.key" 2>"$work/keygen.err" && chmod 600 "$work/home.key"
o=$work/init-natmapd
run_init natmapd "$here/tests/natmapd.uci" "$o" start triggers >"$o.out" 2>&1
check "natmapd.init start: the command line and procd parameters" \
    expect_procd "$o" "open_instance
set_param command @PROG@ -f -c @OUT@/etc/natmapd.conf --protocol pcp --user nobody
append_param command -v
append_param command -v
set_param file @OUT@/etc/natmapd.conf
set_param reload_signal HUP
set_param respawn 3600 5 5
set_param stderr 1
set_param term_timeout 15
close_instance
exit 0
reload_trigger natmapd
reload_interface_trigger wan
exit 0" "$NATMAPD"
check "natmapd.init start: the natmapd.conf made from the sample UCI" \
    expect_file "$here/tests/natmapd.conf.ok" "$o/etc/natmapd.conf"
# natmapd -nv prints what it understood: the same statements, keyword for
# keyword (its order, its defaults added)
same_statements() {
	local conf=$1 bin=$2
	"$bin" -nv -c "$conf" --protocol pcp --user nobody >"$conf.nv" || return 1
	grep -v '^#' "$conf" | sort >"$conf.want"
	grep -Fx -f "$conf.want" "$conf.nv" | sort | diff -u "$conf.want" -
}
check "natmapd -n takes the natmapd.conf made, with the init's options, and -nv prints its statements back" \
    same_statements "$o/etc/natmapd.conf" "$NATMAPD"

# The reload: a map changed is a new natmapd.conf (procd sends SIGHUP); the
# protocol changed is a restart.
o2=$work/init-reload
reload_case() {
	local edit=$1 want=$2
	rm -rf "$o2" && mkdir -p "$o2" &&
	    run_init natmapd "$here/tests/natmapd.uci" "$o2" start >/dev/null 2>&1 &&
	    cp "$o2/etc/natmapd.conf" "$o2.before" &&
	    sed -i "$edit" "$o2.uci" &&
	    sh "$here/test-init.sh" "$files/natmapd.init" "$o2.uci" "$o2" "$NATMAPD" reload &&
	    grep -E '^(stop|start|exit)' "$o2/procd" | tr '\n' ' ' | grep -qx "$want" ||
	    { cat "$o2/procd"; return 1; }
	! cmp -s "$o2.before" "$o2/etc/natmapd.conf"
}
check "natmapd.init reload, a map changed: no stop, a new natmapd.conf for procd's SIGHUP" \
    reload_case "s/'8080'/'8081'/" "start exit 0 "
check "natmapd.init reload, the protocol changed: stop, then start" \
    reload_case "s/'pcp'/'upnp'/" "stop start exit 0 "

o=$work/init-disabled
sed "s/option enabled '1'/option enabled '0'/" "$here/tests/natmapd.uci" >"$work/disabled.uci"
run_init natmapd "$work/disabled.uci" "$o" start >"$o.out" 2>&1
check "natmapd.init start, enabled 0: no instance" expect_procd "$o" "exit 0" "$NATMAPD"
o=$work/init-bad
sed "s/'8080'/'80800'/" "$here/tests/natmapd.uci" >"$work/bad.uci"
run_init natmapd "$work/bad.uci" "$o" start >"$o.out" 2>&1
bad_refused() {
	expect_procd "$o" "exit 1" "$NATMAPD" && grep -q 'map 80800/tcp' "$o/log"
}
check "natmapd.init start, a bad port: no instance, natmapd's error logged" bad_refused

# natmapd-rendezvous: its networks file and TURN secret
printf 'home %s\n' "$("$NATMAPD" --server-key "$work/home.key" 2>/dev/null)" >"$work/networks"
printf 'secret-of-the-check\n' >"$work/turn-secret"
chmod 600 "$work/networks" "$work/turn-secret"
o=$work/init-rdv
run_init natmapd-rendezvous "$here/tests/natmapd-rendezvous.uci" "$o" start triggers >"$o.out" 2>&1
check "natmapd-rendezvous.init start: the command line and procd parameters" \
    expect_procd "$o" "open_instance
set_param command @PROG@ -f -c @OUT@/etc/natmapd-rendezvous.conf --listen 192.0.2.30:3480 --alt-address 192.0.2.31 --max-nodes 5000
append_param command -v
set_param file @OUT@/etc/natmapd-rendezvous.conf
append_param file $work/networks
set_param reload_signal HUP
set_param respawn 3600 5 5
set_param stderr 1
close_instance
exit 0
reload_trigger natmapd-rendezvous
exit 0" "$NATMAPD_RENDEZVOUS"
check "natmapd-rendezvous.init start: the configuration made from the sample UCI" \
    expect_file "$here/tests/natmapd-rendezvous.conf.ok" "$o/etc/natmapd-rendezvous.conf"
check "natmapd-rendezvous -n takes the configuration made, with the init's options" \
    "$NATMAPD_RENDEZVOUS" -n -c "$o/etc/natmapd-rendezvous.conf" \
    --listen 192.0.2.30:3480 --alt-address 192.0.2.31 --max-nodes 5000
o=$work/init-rdv-disabled
sed "s/option enabled '1'/option enabled '0'/" "$here/tests/natmapd-rendezvous.uci" >"$work/rdv-disabled.uci"
run_init natmapd-rendezvous "$work/rdv-disabled.uci" "$o" start >"$o.out" 2>&1
check "natmapd-rendezvous.init start, enabled 0: no instance" expect_procd "$o" "exit 0" "$NATMAPD_RENDEZVOUS"

# The feed Makefile installs files that are there.
feed_files() {
	local f
	for f in $(grep -o '\./files/[A-Za-z0-9._-]*' "$here/natmapd/Makefile" | sort -u); do
		[ -f "$here/natmapd/$f" ] || { echo "missing: $f"; return 1; }
	done
	grep -q '^PKG_FIXUP:=autoreconf$' "$here/natmapd/Makefile"
}
check "the feed Makefile: PKG_FIXUP:=autoreconf, every ./files/ it installs exists" feed_files

# run_units LABEL BUILD [MAKE-ARGS...]: make check of the unit tests in
# BUILD (but those in $not_here), one check a unit test: all its TAP cases
# passed; the only skips allowed are those of a build without libcurl (as
# tests/run-suite.sh's).
run_units() {
	local label=$1 b=$2 list t p bad sk osk g
	shift 2
	# shellcheck disable=SC2016
	list=$(cd "$b" && make -s -f Makefile -f - print-unit \
	    <<<'print-unit: ; @echo $(UNIT_TESTS)' 2>/dev/null)
	if [ -z "$list" ]; then
		notok "$label: the list of unit tests (UNIT_TESTS) could not be read"
		return
	fi
	for t in ${not_here:-}; do
		list=$(tr ' ' '\n' <<<"$list" | grep -vx -- "$t")
	done
	list=$(echo $list)
	# only the unit tests are built, not the other check programs
	(cd "$b" && make -j"$jobs" check TESTS="$list" check_PROGRAMS="$list" \
	    "$@" >"$b/unit.out" 2>&1)
	for t in $list; do
		p=$(grep -c '^:test-result: PASS' "$b/$t.trs" 2>/dev/null)
		bad=$(grep -Ec '^:test-result: (FAIL|ERROR|XPASS)' "$b/$t.trs" 2>/dev/null)
		sk=$(grep -c '^SKIP: .*# SKIP built without libcurl$' "$b/$t.log" 2>/dev/null)
		osk=$(grep '^SKIP: ' "$b/$t.log" 2>/dev/null | grep -vc '# SKIP built without libcurl$')
		g=$(sed -n 's/^:global-test-result: //p' "$b/$t.trs" 2>/dev/null)
		if [ "${p:-0}" -gt 0 ] && [ "${bad:-0}" = 0 ] && [ "${osk:-0}" = 0 ] &&
		    { [ "$g" = PASS ] || [ "$g" = SKIP ]; }; then
			if [ "${sk:-0}" = 0 ]; then sk=''; else sk=", $sk skipped: built without libcurl"; fi
			ok "$label: $t ($p passed$sk)"
		else
			notok "$label: $t (${p:-0} passed, ${bad:-0} failed, ${osk:-0} skipped; ${g:-not run})"
			grep -E -A4 '^(not ok|ERROR|FAIL|SKIP)' "$b/$t.log" 2>/dev/null |
			    grep -v 'without libcurl' | head -n 20 | sed 's/^/#   /'
		fi
	done
}

# --- musl ------------------------------------------------------------------
prefix=$cache/musl/prefix
kinc=$cache/musl/kernel-include
check "miniupnpc, libnatpmp, nettle, json-c, cmocka built with musl-gcc (build-deps.sh; the wait for it)" \
    wait_deps deps_musl "$work/deps-musl.log"
# build_in DIR PREFIX ELF CONFIGURE-ARGS...: natmapd configured
# --without-curl --enable-werror against the libraries in PREFIX and built
# in $work/DIR; readelf -lh must show ELF of src/natmapd
build_in() {
	local dir=$1 pfx=$2 elf=$3
	shift 3
	mkdir -p "$work/$dir" && (cd "$work/$dir" &&
	    ../src/configure --without-curl --enable-werror "$@" \
		CPPFLAGS="-I$pfx/include" \
		LDFLAGS="-L$pfx/lib -Wl,-rpath,$pfx/lib" \
		PKG_CONFIG_LIBDIR="$pfx/lib/pkgconfig" PKG_CONFIG_PATH= &&
	    make -j"$jobs" &&
	    readelf -lh src/natmapd | grep -q "$elf")
}
check "natmapd built with musl-gcc --without-curl --enable-werror, linked to musl's loader" \
    build_in musl "$prefix" ld-musl CC=musl-gcc CFLAGS="-O2 -g -isystem $kinc"
if [ -x "$work/musl/src/natmapd" ]; then
	m=$work/musl
	run_units musl "$m"
	keygen_musl() {
		"$m/src/natmapd" --keygen >"$work/musl.key" && chmod 600 "$work/musl.key" &&
		    "$m/src/natmapd" --server-key "$work/musl.key" | grep -Eq '^[A-Za-z0-9+/]{43}=$'
	}
	check "musl: natmapd --keygen and --server-key (nettle loaded with dlopen)" keygen_musl
	check "musl: natmapd -n takes the natmapd.conf the init made, -nv prints its statements back" \
	    same_statements "$work/init-natmapd/etc/natmapd.conf" "$m/src/natmapd"
	check "musl: natmapd-rendezvous -n takes the configuration the init made" \
	    "$m/src/natmapd-rendezvous" -n -c "$work/init-rdv/etc/natmapd-rendezvous.conf" \
	    --listen 192.0.2.30:3480 --alt-address 192.0.2.31 --max-nodes 5000
fi

# --- big-endian: s390x under qemu-user ---------------------------------------
[ "${OPENWRT_BIGENDIAN:-1}" = 1 ] || finish
bepfx=$cache/s390x/prefix
check "miniupnpc, libnatpmp, nettle, json-c, cmocka built for s390x (build-deps.sh; the wait for it)" \
    wait_deps deps_be "$work/deps-s390x.log"
check "natmapd built for s390x (big-endian) --without-curl --enable-werror" \
    build_in s390x "$bepfx" 'big endian' --host="$be"
if [ -x "$work/s390x/src/natmapd" ]; then
	# test-netwatch's inputs are rtnetlink messages captured from an x86
	# kernel; netlink is in the host's byte order, so a big-endian host
	# reads them as other messages (and refuses them: 30 of 42 cases).
	not_here=tests/unit/test-netwatch
	echo "# s390x: $not_here not run: its rtnetlink captures are little-endian, netlink is host byte order"
	# emulated, time runs 5 to 10 times slower: bounds on it are
	# multiplied (tests/unit/testutil.h, tu_slowdown)
	TEST_SLOWDOWN=10 run_units "s390x (qemu-user)" "$work/s390x" \
	    LOG_COMPILER="qemu-s390x -L /usr/$be"
	not_here=''
fi
finish
