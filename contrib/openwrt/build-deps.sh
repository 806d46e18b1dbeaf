#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Builds the libraries natmapd needs (miniupnpc, libnatpmp, nettle with
# hogweed, json-c, and cmocka for the unit tests) from Debian's source
# packages into a private prefix: with musl-gcc, as OpenWrt's musl targets
# have them, or with a cross compiler for another Debian architecture
# (s390x-linux-gnu: a big-endian one that qemu-user runs).
#
# usage: build-deps.sh WORKDIR [HOST]
# HOST: none for musl-gcc, else a GNU triplet whose HOST-gcc is installed.
# Leaves WORKDIR/prefix (include, lib, lib/pkgconfig), and for musl
# WORKDIR/kernel-include (the kernel's uapi headers, which musl-gcc does not
# search).  A finished prefix is kept: a second run with the same WORKDIR
# builds nothing.
#
# Sources come from deb.debian.org with apt-get source under a private apt
# configuration (deb-src lines of this script only; the system's apt is not
# touched).  Bookworm first; where the mirror does not have a package's bookworm
# source, the upstream tarball of a later suite's source package (the .orig
# tarball, checked against the hash of apt's Sources index) is used.
set -eu
work=${1:?usage: build-deps.sh WORKDIR [HOST]}
host=${2:-}
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix
stamp=$prefix/.complete
jobs=2

# Only the packages this script was written for, and a stamp naming them.
want="miniupnpc libnatpmp nettle json-c cmocka (2) ${host:-musl}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "build-deps: $prefix is complete"
	exit 0
fi
rm -rf "$prefix" "$work/build"
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$work/build" "$work/src"

if [ -z "$host" ]; then
	# The kernel's uapi headers (linux-libc-dev) beside musl's libc
	# headers, as an OpenWrt toolchain has them.
	kinc=$work/kernel-include
	mkdir -p "$kinc"
	arch_inc=/usr/include/$(gcc -print-multiarch)
	for d in /usr/include/linux /usr/include/asm-generic "$arch_inc/asm"; do
		[ -d "$d" ] || { echo "build-deps: $d missing (install linux-libc-dev)" >&2; exit 1; }
		ln -sfn "$d" "$kinc/$(basename "$d")"
	done
	export CC=musl-gcc
	export CFLAGS="-O2 -fPIC -isystem $kinc"
	hostopt=()
	cmake_cross=()
else
	export CC=$host-gcc
	export CFLAGS="-O2 -fPIC"
	hostopt=(--host="$host")
	cmake_cross=(-DCMAKE_SYSTEM_NAME=Linux
	    -DCMAKE_SYSTEM_PROCESSOR="${host%%-*}"
	    -DCMAKE_FIND_ROOT_PATH="$prefix;/usr/$host")
fi
export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig
unset PKG_CONFIG_PATH

# apt, with this script's deb-src lines only, and lists and caches of its
# own: check.sh runs two of these at once (musl and s390x), and two apts
# that share /var/cache/apt race on its pkgcache.bin (it failed CI once:
# "Problem renaming the file /var/cache/apt/pkgcache.bin...").
aptdir=$work/apt
apt_for() {
	local suite=$1 d=$aptdir/$1
	aptopts=(-o Dir::Etc::SourceList="$d/sources.list"
	    -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$d/lists"
	    -o Dir::Cache="$d/cache")
	if [ ! -f "$d/updated" ]; then
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		echo "deb-src http://deb.debian.org/debian $suite main" >"$d/sources.list"
		apt-get -q "${aptopts[@]}" update >&2
		touch "$d/updated"
	fi
}

# fetch PKG: unpack PKG's source into $work/src/PKG (Debian's patches applied
# when the whole source package came; the upstream tarball otherwise).
fetch() {
	local pkg=$1 suite dir uris orig hash f
	[ -d "$work/src/$pkg" ] && return 0
	for suite in bookworm trixie; do
		apt_for "$suite"
		dir=$work/dl/$pkg-$suite
		rm -rf "$dir" && mkdir -p "$dir"
		uris=$(cd "$dir" && apt-get -q "${aptopts[@]}" source --print-uris "$pkg" 2>/dev/null |
		    grep "^'") || continue
		(cd "$dir" && apt-get -q "${aptopts[@]}" source --download-only "$pkg" >&2) || true
		if f=$(ls "$dir"/*.dsc 2>/dev/null) && (cd "$dir" && dpkg-source -x "$f" "$work/src/$pkg" >&2); then
			echo "build-deps: $pkg from Debian $suite ($(basename "$f"))"
			return 0
		fi
		rm -rf "$work/src/$pkg"
		# the upstream tarball alone, if it came whole
		orig=$(awk '{ print $2 }' <<<"$uris" | grep -E '\.orig\.tar\.[a-z0-9]+$' | head -n1)
		[ -n "$orig" ] && [ -f "$dir/$orig" ] || continue
		hash=$(awk -v f="$orig" '$2 == f { sub(/^SHA256:/, "", $4); print $4 }' <<<"$uris")
		[ "$(sha256sum <"$dir/$orig" | cut -d' ' -f1)" = "$hash" ] || continue
		mkdir -p "$work/src/$pkg"
		tar -xf "$dir/$orig" -C "$work/src/$pkg" --strip-components=1
		echo "build-deps: $pkg from Debian $suite's upstream tarball $orig (the rest of its source package is not on the mirror)"
		return 0
	done
	echo "build-deps: no source of $pkg could be fetched" >&2
	return 1
}

cmake_build() {
	local name=$1; shift
	rm -rf "$work/build/$name"
	cmake -S "$work/src/$name" -B "$work/build/$name" \
	    -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Release "${cmake_cross[@]}" \
	    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
	    -DCMAKE_C_FLAGS="$CFLAGS" "$@" >&2
	cmake --build "$work/build/$name" -j "$jobs" >&2
	cmake --install "$work/build/$name" >&2
}

for p in miniupnpc libnatpmp nettle json-c cmocka; do
	fetch "$p"
done

# nettle with hogweed: mini-gmp, as OpenWrt's CONFIG_LIBNETTLE_MINI (no libgmp).
echo "build-deps: building nettle" >&2
(cd "$work/src/nettle" &&
    ./configure "${hostopt[@]}" --prefix="$prefix" --libdir="$prefix/lib" --enable-mini-gmp \
	--disable-documentation --disable-openssl --disable-static \
	--disable-assembler >&2 &&
    make -j"$jobs" install-headers install-shared-nettle install-shared-hogweed \
	install-pkgconfig >&2)

# miniupnpc and libnatpmp: their own Makefiles.
echo "build-deps: building miniupnpc" >&2
(cd "$work/src/miniupnpc" &&
    make -j"$jobs" CC="$CC" >&2 &&
    make CC="$CC" INSTALLPREFIX="$prefix" install >&2) ||
    { echo "build-deps: miniupnpc did not build" >&2; exit 1; }

echo "build-deps: building libnatpmp" >&2
(cd "$work/src/libnatpmp" &&
    make -j"$jobs" CC="$CC" INSTALLPREFIX="$prefix" install >&2 &&
    install -m 644 natpmp_declspec.h "$prefix/include/") ||
    { echo "build-deps: libnatpmp did not build" >&2; exit 1; }

echo "build-deps: building json-c" >&2
cmake_build json-c -DBUILD_TESTING=OFF -DBUILD_STATIC_LIBS=OFF \
    -DDISABLE_EXTRA_LIBS=ON -DDISABLE_WERROR=ON

echo "build-deps: building cmocka" >&2
cmake_build cmocka -DUNIT_TESTING=OFF -DWITH_EXAMPLES=OFF

echo "$want" >"$stamp"
echo "build-deps: done, $prefix"
