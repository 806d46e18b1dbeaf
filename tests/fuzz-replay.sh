#!/bin/bash
# SPDX-License-Identifier: ISC
# fuzz-replay.sh - run each fuzz target over its seed corpus and seeded
# mutations of it (fuzz/replay.c), one TAP line per target.
# Environment: BUILDDIR and SRCDIR, as set by "make check";
# FUZZ_MUTATIONS (default 2000) mutations per input.
#
# Seeds: the captures and hand-made inputs in tests/data, the golden
# configs in tests/config, and any regression inputs kept in
# tests/data/fuzz/TARGET/ (e.g. crashes found by libFuzzer, once fixed).
# With --enable-fuzzing the targets are libFuzzer binaries: each seed is
# then run once, without mutations.

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILDDIR:=$SRCDIR}"
. "$SRCDIR/tests/tap.sh"

mutations=${FUZZ_MUTATIONS:-2000}
data=$SRCDIR/tests/data
tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# seeds TARGET: the seed files of a target, one a line.
seeds() {
	shopt -s nullglob
	case $1 in
	fuzz-control)
		printf '%s\n' "$data"/control/* ;;
	fuzz-echo)
		printf '%s\n' "$data"/echo/* ;;
	fuzz-http)
		printf '%s\n' "$data"/miniupnpd-2.3.1/*.resp \
		    "$data"/handmade/*.resp ;;
	fuzz-mux)
		printf '%s\n' "$data"/mux/*.bin ;;
	fuzz-netwatch)
		printf '%s\n' "$data"/netlink/*.bin ;;
	fuzz-pcp)
		printf '%s\n' "$data"/miniupnpd-2.3.1/pcp-*.bin \
		    "$data"/miniupnpd-2.3.1/natpmp-*.bin "$data"/rfc/*.bin ;;
	fuzz-punch)
		printf '%s\n' "$data"/punch/*.bin ;;
	fuzz-rdv)
		printf '%s\n' "$data"/rdv/*.bin ;;
	fuzz-ssdp)
		printf '%s\n' "$data"/miniupnpd-2.3.1/ssdp-* \
		    "$data"/handmade/ssdp-* ;;
	fuzz-upnp)
		printf '%s\n' "$data"/miniupnpd-2.3.1/*.resp \
		    "$data"/handmade/*.xml "$data"/handmade/*.body \
		    "$data"/handmade/*.resp ;;
	fuzz-state)
		printf '%s\n' "$data"/state/* ;;
	fuzz-rdv-networks)
		printf '%s\n' "$data"/networks/* ;;
	fuzz-rdv-conf)
		printf '%s\n' "$data"/rdv-conf/* ;;
	fuzz-stun)
		printf '%s\n' "$data"/rfc5769/*.bin "$data"/coturn/*.bin ;;
	fuzz-turn)
		printf '%s\n' "$data"/turn/*.bin "$data"/rfc5769/*.bin ;;
	fuzz-config)
		printf '%s\n' "$SRCDIR"/tests/config/*.conf \
		    "$SRCDIR"/contrib/natmapd.conf.example ;;
	esac
	printf '%s\n' "$data/fuzz/$1"/*
	shopt -u nullglob
}

for target in fuzz-config fuzz-control fuzz-echo fuzz-http fuzz-mux fuzz-netwatch fuzz-pcp \
    fuzz-punch fuzz-rdv fuzz-rdv-conf fuzz-rdv-networks fuzz-ssdp fuzz-state fuzz-stun fuzz-turn fuzz-upnp; do
	bin=$BUILDDIR/fuzz/$target
	if [ ! -x "$bin" ]; then
		tap_fail "$target: built" "no $bin"
		continue
	fi
	mapfile -t files < <(seeds "$target")
	# skip what capture.sh and the READMEs are: not inputs
	files=("${files[@]//*\/README*/}")
	files=("${files[@]//*\/capture.*/}")
	mapfile -t files < <(printf '%s\n' "${files[@]}" | sed '/^$/d')
	if [ "${#files[@]}" -eq 0 ]; then
		tap_fail "$target: has seeds"
		continue
	fi
	if grep -qa 'INFO: Seed: ' "$bin"; then
		# a libFuzzer binary: run the seeds once each
		"$bin" "${files[@]}" >"$tmp/out" 2>&1
		rc=$?
		what="${#files[@]} seeds (libFuzzer build, no mutations)"
	else
		"$bin" -q -n "$mutations" "${files[@]}" >"$tmp/out" 2>&1
		rc=$?
		# "/path/fuzz/fuzz-http: 25 inputs, 61933 runs"
		what=$(tail -n 1 "$tmp/out" | sed 's|^.*: ||')
	fi
	if [ "$rc" -eq 0 ]; then
		tap_ok "$target: $what"
	else
		tap_fail "$target: ${#files[@]} seeds, $mutations mutations each" \
		    "exit status $rc" "$(tail -n 40 "$tmp/out")"
	fi
done

tap_done
