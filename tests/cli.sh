#!/bin/bash
# SPDX-License-Identifier: ISC
# cli.sh - natmapd's command line: options, exit statuses and messages (TAP).
# Environment: NATMAPD and SRCDIR, as set by "make check".  Nothing here
# starts the daemon: every run either exits at once or uses -n.

: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${NATMAPD:=$SRCDIR/src/natmapd}"
. "$SRCDIR/tests/tap.sh"

if [ ! -x "$NATMAPD" ]; then
	echo "1..0 # SKIP no natmapd binary at $NATMAPD"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natmapd-cli.XXXXXX") || exit 1
cleanup() {
	rm -rf "$tmp"
}
trap cleanup EXIT

OUT=$tmp/stdout
ERR=$tmp/stderr
RC=0

# run ARG...: run natmapd in $tmp; status in $RC, output in $OUT and $ERR.
run() {
	(cd "$tmp" && exec "$NATMAPD" "$@") >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# what: the last command, its status and output, as diagnostics.
what() {
	printf 'natmapd %s\nexit status %s\n' "$*" "$RC"
	[ -s "$OUT" ] && { echo "stdout:"; cat "$OUT"; }
	[ -s "$ERR" ] && { echo "stderr (3 lines):"; head -n 3 "$ERR" | cat -v; }
	return 0
}

# expect_usage DESC NEEDLE ARG...: exit 64, and stderr's first line names
# NEEDLE (the bad argument) and is printable.
expect_usage() {
	local desc=$1 needle=$2 first
	shift 2
	run "$@"
	first=$(head -n 1 "$ERR")
	if [ "$RC" -ne 64 ]; then
		tap_fail "$desc: exit 64" "$(what "$@")"
	elif ! printf '%s' "$first" | grep -qF -- "$needle"; then
		tap_fail "$desc: message names \"$needle\"" "$(what "$@")"
	elif printf '%s' "$first" | LC_ALL=C grep -q '[^[:print:]]'; then
		tap_fail "$desc: message is printable" "$(what "$@")"
	elif [ -s "$OUT" ]; then
		tap_fail "$desc: nothing on stdout" "$(what "$@")"
	else
		tap_ok "$desc: exit 64, \"$first\""
	fi
}

# expect_config DESC NEEDLE ARG...: exit 78 and a message holding NEEDLE.
expect_config() {
	local desc=$1 needle=$2
	shift 2
	run "$@"
	if [ "$RC" -ne 78 ]; then
		tap_fail "$desc: exit 78" "$(what "$@")"
	elif ! grep -qF -- "$needle" "$ERR"; then
		tap_fail "$desc: message holds \"$needle\"" "$(what "$@")"
	else
		tap_ok "$desc: exit 78, \"$(head -n 1 "$ERR")\""
	fi
}

# expect_output DESC WANT ARG...: exit 0, stdout is WANT, stderr empty.
expect_output() {
	local desc=$1 want=$2
	shift 2
	run "$@"
	printf '%s' "$want" >"$tmp/want"
	if [ "$RC" -ne 0 ]; then
		tap_fail "$desc: exit 0" "$(what "$@")"
	elif ! diff -u "$tmp/want" "$OUT" >"$tmp/diff"; then
		tap_fail "$desc" "natmapd $*" "$(cat "$tmp/diff")"
	elif [ -s "$ERR" ]; then
		tap_fail "$desc: quiet on stderr" "$(what "$@")"
	else
		tap_ok "$desc"
	fi
}

cat >"$tmp/good.conf" <<'EOF'
# file settings, some overridden by the command line
map 8080/tcp
map 5000-5010:6000/udp
lease 7200
interface eth0
gateway 192.168.1.1
pidfile /run/file.pid
any-port no
EOF
printf '# no map here\nlease 600\n' >"$tmp/nomap.conf"
: >"$tmp/empty.conf"
printf 'map 8080/tcp\nmapp 1/tcp\n' >"$tmp/bad.conf"

# ---- version and help ----
run -V
if [ "$RC" -eq 0 ] && [ -s "$OUT" ] && [ ! -s "$ERR" ] &&
    [ "$(wc -l <"$OUT")" -eq 1 ] && grep -qxE '[0-9]+\.[0-9]+\.[0-9]+' "$OUT"
then
	tap_ok "-V prints only the version ($(cat "$OUT"))"
else
	tap_fail "-V prints only the version" "$(what -V)"
fi
version=$(cat "$OUT")
run --version
if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "$version" ] && [ ! -s "$ERR" ]; then
	tap_ok "--version prints the same"
else
	tap_fail "--version prints the same" "$(what --version)"
fi
# -V wins over whatever follows, even a bad config
run -V -c "$tmp/missing.conf"
if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "$version" ]; then
	tap_ok "-V exits before reading the config"
else
	tap_fail "-V exits before reading the config" "$(what -V -c missing)"
fi

for h in -h --help; do
	run "$h"
	if [ "$RC" -eq 0 ] && grep -q '^usage: natmapd' "$OUT" &&
	    [ ! -s "$ERR" ]; then
		tap_ok "$h: usage on stdout, exit 0"
	else
		tap_fail "$h: usage on stdout, exit 0" "$(what "$h")"
	fi
done

# ---- usage errors: exit 64, the message names the bad argument ----
expect_usage "unknown short option" "-x" -x
expect_usage "unknown option in a bundle" "-q" -nq
expect_usage "unknown long option" "--bogus" --bogus
expect_usage "unknown long option with a value" "--bogus" --bogus=1
expect_usage "bad --protocol" "--protocol igd" -n -m 1/tcp --protocol igd
expect_usage "relative --state-file" "--state-file state" -n -m 1/tcp --state-file state
expect_usage "relative --hook" "--hook hook.sh" -n -m 1/tcp --hook hook.sh
expect_usage "--hook without a value" "--hook" -n -m 1/tcp --hook
expect_usage "relative --peer-hook" "--peer-hook peer.sh" -n -m 1/tcp --peer-hook peer.sh
expect_usage "relative --status-file" "--status-file status.json" -n -m 1/tcp \
    --status-file status.json
expect_usage "--protocol without a value" "--protocol" -n -m 1/tcp --protocol
expect_usage "argument to --any-port" "--any-port" -n --any-port=yes \
    -m 8080/tcp -c "$tmp/empty.conf"
expect_usage "argument to --version" "--version" --version=2
expect_usage "--map without its argument" "--map" -n --map
expect_usage "--json without --probe" "--json" -n -m 1/tcp --json
expect_usage "--mapping-lifetime without --probe" "--mapping-lifetime" \
    -n -m 1/tcp --mapping-lifetime 30
expect_usage "--mapping-lifetime 0" "--mapping-lifetime 0" --probe \
    --mapping-lifetime 0
expect_usage "--mapping-lifetime past its maximum" "--mapping-lifetime 3601" \
    --probe --mapping-lifetime 3601
expect_usage "bad --stun-server port" "--stun-server 203.0.113.3:99999" \
    -n -m 1/tcp --stun-server 203.0.113.3:99999
expect_usage "--echo-url with another scheme" "ftp://203.0.113.5/" \
    -n -m 1/tcp --echo-url ftp://203.0.113.5/
expect_usage "-m without its argument" "-m" -n -m
expect_usage "--user that is no user name" "--user root:root" \
    -n -m 1/tcp --user root:root
expect_usage "--user without a value" "--user" -n -m 1/tcp --user
expect_usage "-c without its argument" "-c" -n -c
expect_usage "--lease without its argument" "--lease" -n --lease
expect_usage "bad --map port" "70000/tcp" -n -m 70000/tcp
expect_usage "bad --map protocol" "8080/sctp" -n --map 8080/sctp
expect_usage "--map without a protocol" "8080" -n --map=8080
expect_usage "bad --map range" "10-5/tcp" -n --map 10-5/tcp
expect_usage "overlapping --map" "8080/tcp" -n -m 8000-8100/tcp -m 8080/tcp
expect_usage "bad --lease (too short)" "30" -n -m 1/tcp --lease 30
expect_usage "bad --lease (not a number)" "1h" -n -m 1/tcp --lease 1h
expect_usage "bad --lease (empty)" "--lease" -n -m 1/tcp --lease=
expect_usage "bad --gateway" "192.168.1" -n -m 1/tcp --gateway 192.168.1
expect_usage "bad --gateway (a name)" "router.lan" -n -m 1/tcp \
    --gateway router.lan
expect_usage "bad --gateway (IPv6)" "fe80::1" -n -m 1/tcp --gateway fe80::1
expect_usage "bad --interface (too long)" "averyveryverylongif0" -n -m 1/tcp \
    --interface averyveryverylongif0
expect_usage "bad --interface (empty)" "--interface" -n -m 1/tcp --interface=
expect_usage "bad --interface (a slash, refused in natmapd.conf)" "a/b" \
    -n -m 1/tcp -c "$tmp/empty.conf" --interface a/b
expect_usage "bad --pidfile (relative)" "natmapd.pid" -n -m 1/tcp \
    --pidfile natmapd.pid
expect_usage "stray argument" "extra" -n -m 1/tcp extra
expect_usage "stray argument after --" "8080/tcp" -n -- 8080/tcp

# more than 1024 ports on the command line
args=()
for i in $(seq 1 1025); do
	args+=(-m "$((10000 + i))/udp")
done
expect_usage "1025 --map options" "11025/udp" -n -c "$tmp/empty.conf" \
    "${args[@]}"
unset 'args[-1]' 'args[-1]'
run -n -c "$tmp/empty.conf" "${args[@]}"
if [ "$RC" -eq 0 ]; then
	tap_ok "1024 --map options are accepted"
else
	tap_fail "1024 --map options are accepted" "$(what -n "...")"
fi

# ---- config errors: exit 78 ----
expect_config "missing -c file" "missing.conf" -n -c "$tmp/missing.conf"
expect_config "missing --config file, even with --map" "missing.conf" \
    -n --config "$tmp/missing.conf" -m 8080/tcp
expect_config "-c names a directory" "$tmp" -n -c "$tmp"
expect_config "error in the file" "bad.conf:2: unknown keyword \"mapp\"" \
    -n -c "$tmp/bad.conf" -m 9000/tcp
expect_config "no map at all" "nothing to map" -n -c "$tmp/empty.conf"
expect_config "no map in the file, none given" "nothing to map" \
    -n -c "$tmp/nomap.conf" --lease 60
expect_config "--map overlapping a file map" "overlap" \
    -n -c "$tmp/good.conf" -m 8080/tcp
args=()
for i in $(seq 1 1013); do
	args+=(-m "$((10000 + i))/udp")
done
expect_config "file and command line over 1024 ports" "1024" \
    -n -c "$tmp/good.conf" "${args[@]}"

expect_config "--user that does not exist" \
    'user "natmapd-no-such-user": no such user' \
    -n -m 1/tcp --user natmapd-no-such-user

# ---- -n and -nv ----
expect_output "-n with a valid config: exit 0, silent" "" -n -c "$tmp/good.conf"
expect_output "--check-config with a valid config" "" \
    --check-config --config "$tmp/good.conf"
expect_output "-n with only --map and an empty file" "" \
    -n -c "$tmp/empty.conf" -m 8080/tcp

expect_output "-nv prints the file's config" "interface eth0
gateway 192.168.1.1
lease 7200
any-port no
protocol auto
pidfile /run/file.pid
map 8080/tcp
map 5000-5010:6000/udp
" -nv -c "$tmp/good.conf"

expect_output "-nv: command line overrides settings and adds maps" \
"interface wlan0
gateway 10.0.0.1
lease 120
any-port yes
protocol auto
pidfile /tmp/cli.pid
map 8080/tcp
map 5000-5010:6000/udp
map 53/udp
map 9000-9001:19000/tcp
" -n -v -c "$tmp/good.conf" --lease 120 --interface wlan0 \
    --gateway 10.0.0.1 --pidfile /tmp/cli.pid --any-port -m 53/udp \
    --map 9000-9001:19000/tcp

expect_output "-nv: the order of options does not matter" \
"interface wlan0
gateway 192.168.1.1
lease 0
any-port no
protocol auto
pidfile /run/file.pid
map 8080/tcp
map 5000-5010:6000/udp
map 53/udp
" -m 53/udp --lease 0 --verbose --interface=wlan0 --check-config \
    -c "$tmp/good.conf"

expect_output "-nv: command line only" "lease 3600
any-port yes
protocol auto
map 8080/tcp
map 8080/udp
" -nv -c "$tmp/empty.conf" -m 8080/tcp -m 8080/udp --any-port

expect_output "-nvv prints the same" "lease 3600
any-port no
protocol auto
map 1/tcp
" -nvv -c "$tmp/empty.conf" -m 1/tcp

expect_output "-nv: --protocol sets the gateway protocol" "lease 3600
any-port no
protocol natpmp
map 8080/tcp
" -nv -c "$tmp/empty.conf" -m 8080/tcp --protocol natpmp
printf 'protocol upnp\nmap 8080/tcp\n' >"$tmp/proto.conf"
expect_output "-nv: --protocol overrides the file's protocol" "lease 3600
any-port no
protocol pcp
map 8080/tcp
" -nv -c "$tmp/proto.conf" --protocol=pcp

expect_output "-nv: --state-file is printed" "lease 3600
any-port no
protocol auto
state-file /tmp/natmapd.state
map 8080/tcp
" -nv -c "$tmp/empty.conf" -m 8080/tcp --state-file /tmp/natmapd.state

printf 'hook /etc/natmapd/file-hook\nmap 8080/tcp\n' >"$tmp/hook.conf"
expect_output "-nv: --hook replaces the file's hook" "lease 3600
any-port no
protocol auto
hook /usr/local/bin/cli-hook
map 8080/tcp
" -nv -c "$tmp/hook.conf" --hook /usr/local/bin/cli-hook

printf 'peer-hook /etc/natmapd/file-peer\nmap 8080/tcp\n' >"$tmp/peerhook.conf"
expect_output "-nv: --peer-hook replaces the file's peer-hook" "lease 3600
any-port no
protocol auto
peer-hook /usr/local/bin/cli-peer
map 8080/tcp
" -nv -c "$tmp/peerhook.conf" --peer-hook /usr/local/bin/cli-peer

printf 'status-file /tmp/file.json\nmap 8080/tcp\n' >"$tmp/status.conf"
expect_output "-nv: --status-file replaces the file's" "lease 3600
any-port no
protocol auto
status-file none
map 8080/tcp
" -nv -c "$tmp/status.conf" --status-file none

printf 'stun-server 198.51.100.1\necho-url http://198.51.100.2/\nmap 8080/tcp\n' \
    >"$tmp/sources.conf"
expect_output "-nv: --stun-server and --echo-url replace the file's" "lease 3600
any-port no
protocol auto
stun-server 203.0.113.3:3479
stun-server [2001:db8::3]:3478
echo-url https://203.0.113.5/ip
map 8080/tcp
" -nv -c "$tmp/sources.conf" --stun-server 203.0.113.3:3479 \
    --stun-server '[2001:db8::3]' --echo-url https://203.0.113.5/ip
expect_output "-nv: without them the file's stay" "lease 3600
any-port no
protocol auto
stun-server 198.51.100.1:3478
echo-url http://198.51.100.2/
map 8080/tcp
" -nv -c "$tmp/sources.conf"

printf 'user natmapd-no-such-user\nmap 8080/tcp\n' >"$tmp/user.conf"
expect_output "-nv: --user replaces the file's user" "lease 3600
any-port no
protocol auto
user nobody
map 8080/tcp
" -nv -c "$tmp/user.conf" --user nobody
printf 'control /run/natmapd/control\nmap 8080/tcp\n' >"$tmp/control.conf"
expect_output "-nv: --control replaces the file's control" "lease 3600
any-port no
protocol auto
control none
map 8080/tcp
" -nv -c "$tmp/control.conf" --control none
expect_usage "relative --control" "--control natmapd.sock" -n -m 1/tcp \
    --control natmapd.sock

# ---- rendezvous keys: --keygen and --server-key ----
run --keygen
if [ "$RC" -eq 0 ] && [ ! -s "$ERR" ] && [ "$(wc -l <"$OUT")" -eq 1 ] &&
    grep -qxE '[A-Za-z0-9+/]{43}=' "$OUT"; then
	tap_ok "--keygen prints one key of 44 base64 characters"
else
	tap_fail "--keygen prints one key of 44 base64 characters" \
	    "$(what --keygen)"
fi
key1=$(cat "$OUT")
run --keygen
if [ "$RC" -eq 0 ] && [ -n "$key1" ] && [ "$(cat "$OUT")" != "$key1" ]; then
	tap_ok "--keygen: two runs give two keys"
else
	tap_fail "--keygen: two runs give two keys" "first: $key1" \
	    "$(what --keygen)"
fi
# a key --keygen printed is one --server-key reads
(umask 077 && printf '%s\n' "$key1" >"$tmp/new.key")
run --server-key "$tmp/new.key"
if [ "$RC" -eq 0 ] && grep -qxE '[A-Za-z0-9+/]{43}=' "$OUT" &&
    [ "$(cat "$OUT")" != "$key1" ]; then
	tap_ok "--server-key reads what --keygen printed"
else
	tap_fail "--server-key reads what --keygen printed" \
	    "$(what --server-key new.key)"
fi
# the secret 00 01 .. 1f: its server key worked out with Python's hmac
# (tests/unit/test-crypto.c has the same vector)
secret=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
(umask 077 && printf '%s\n' "$secret" >"$tmp/known.key")
expect_output "--server-key of a known secret" \
    "BKKXEH91WcB03l/oVmLrWORLn3HwM9k2+vSsHQfQM70=
" --server-key "$tmp/known.key"
# expect_key_refused DESC NEEDLE FILE: exit 78, the reason on stderr,
# nothing on stdout, and the secret nowhere.
expect_key_refused() {
	local desc=$1 needle=$2
	run --server-key "$3"
	if [ "$RC" -ne 78 ]; then
		tap_fail "$desc: exit 78" "$(what --server-key "$3")"
	elif ! grep -qF -- "$needle" "$ERR"; then
		tap_fail "$desc: message holds \"$needle\"" \
		    "$(what --server-key "$3")"
	elif [ -s "$OUT" ]; then
		tap_fail "$desc: nothing on stdout" "$(what --server-key "$3")"
	elif grep -qF -e "$secret" -e "${secret:0:12}" "$ERR"; then
		tap_fail "$desc: the key is never printed" \
		    "$(what --server-key "$3")"
	else
		tap_ok "$desc: exit 78, \"$(head -n 1 "$ERR")\""
	fi
}
cp "$tmp/known.key" "$tmp/open.key"
chmod 0644 "$tmp/open.key"
expect_key_refused "--server-key refuses a 0644 file" "others may read" \
    "$tmp/open.key"
(umask 077 && printf '%s\n' "${secret%=}x" >"$tmp/notkey.key")
expect_key_refused "--server-key refuses a file that is no key" "not a key" \
    "$tmp/notkey.key"
(umask 077 && printf '%s\n%s\n' "$secret" "$secret" >"$tmp/twokeys.key")
expect_key_refused "--server-key refuses two keys" "not a key" \
    "$tmp/twokeys.key"
expect_key_refused "--server-key: a missing file" "No such file" \
    "$tmp/missing.key"
expect_usage "--server-key without a file" "--server-key" --server-key
expect_usage "--keygen with --server-key" "--keygen" --keygen \
    --server-key "$tmp/known.key"
expect_usage "--keygen with --probe" "--probe" --probe --keygen
expect_usage "--keygen with -n" "-n" -n --keygen
expect_usage "--server-key with --map" "--map" --server-key "$tmp/known.key" \
    --map 8080/tcp
expect_usage "--keygen with a value" "--keygen" --keygen=1
expect_usage "--keygen with a stray argument" "extra" --keygen extra
# ---- the rendezvous client: --rendezvous, --network, --key-file, --node ----
rdv_ok=(-m 1/tcp --rendezvous 203.0.113.30 --network home --key-file
    "$tmp/known.key" --node nas.lan)
# what -nv prints before the services, with rdv_ok's settings (-nv's first lines)
peer_head="lease 3600
any-port no
protocol auto
rendezvous 203.0.113.30:3480
network home
key-file $tmp/known.key
node nas.lan
"
expect_output "-nv: the rendezvous settings, port 3480 by default" "lease 3600
any-port no
protocol auto
rendezvous 203.0.113.30:3480
rendezvous [2001:db8::30]:3490
network home
key-file $tmp/known.key
node nas.lan
map 1/tcp
" -nv -c "$tmp/empty.conf" "${rdv_ok[@]}" --rendezvous '[2001:db8::30]:3490'
# with a rendezvous, nothing to map is fine: services come through natmapctl
expect_output "-n with a rendezvous and no map, expose or connect: exit 0" "" \
    -n -c "$tmp/empty.conf" "${rdv_ok[@]:2}"
if grep -qF -e "$secret" -e "${secret:0:12}" "$OUT"; then
	tap_fail "-nv never prints the key" "$(what -nv)"
else
	tap_ok "-nv never prints the key"
fi
printf 'fallback-ports 41000-41999\nmap 8080/tcp\n' >"$tmp/fbports.conf"
printf 'rendezvous 198.51.100.30\nnetwork other\nnode file-node\nmap 8080/tcp\n' \
    >"$tmp/rdv.conf"
expect_output "-nv: the command line replaces the file's rendezvous, network, node" \
    "${peer_head}map 8080/tcp
" -nv -c "$tmp/rdv.conf" --rendezvous 203.0.113.30 --network home \
    --key-file "$tmp/known.key" --node nas.lan
expect_usage "bad --rendezvous port" "--rendezvous 203.0.113.30:0" -n \
    -m 1/tcp --rendezvous 203.0.113.30:0
expect_usage "bad --rendezvous host" "rendezvous rdv_host" -n -m 1/tcp \
    --rendezvous rdv_host
expect_usage "nine --rendezvous" "more than 8" -n -m 1/tcp \
    --rendezvous a --rendezvous b --rendezvous c --rendezvous d \
    --rendezvous e --rendezvous f --rendezvous g --rendezvous h \
    --rendezvous i
expect_usage "bad --network" "--network my/net" -n -m 1/tcp --network my/net
expect_usage "a 33-byte --network" "--network" -n -m 1/tcp \
    --network aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
expect_usage "relative --key-file" "--key-file home.key" -n -m 1/tcp \
    --key-file home.key
expect_usage "upper case in --node" "--node NAS" -n -m 1/tcp --node NAS
expect_usage "a label ending in - in --node" "--node nas-.lan" -n -m 1/tcp \
    --node nas-.lan
expect_usage "--fallback-ports backwards" "--fallback-ports 50000-40000" \
    -n -m 1/tcp --fallback-ports 50000-40000
expect_usage "--fallback-ports below 1024" "within 1024-65535" \
    -n -m 1/tcp --fallback-ports 80-90
expect_usage "--fallback-ports above 65535" "within 1024-65535" \
    -n -m 1/tcp --fallback-ports 60000-70000
expect_usage "--fallback-ports one port" "not FIRST-LAST" \
    -n -m 1/tcp --fallback-ports 40000
expect_usage "--fallback-mode splice" "--fallback-mode \"splice\": forward or bind" \
    -n -m 1/tcp --fallback-mode splice
expect_usage "--fallback-idle 0" "--fallback-idle \"0\": not 1 to 604800 seconds" \
    -n -m 1/tcp --fallback-idle 0
expect_usage "--fallback-idle a week and a second" "not 1 to 604800" \
    -n -m 1/tcp --fallback-idle 604801
expect_output "-nv: --fallback-ports replaces the file's, --fallback-mode, --fallback-idle" \
    "lease 3600
any-port no
protocol auto
fallback-mode bind
fallback-idle 30
fallback-ports 42000-42009
map 8080/tcp
" -n -v -c "$tmp/fbports.conf" --fallback-ports 42000-42009 \
    --fallback-mode bind --fallback-idle 30
expect_usage "--punch-map maybe" "--punch-map: expected yes or no, not \"maybe\"" \
    -n -m 1/tcp --punch-map maybe
printf '%s\n' 'punch-map yes' 'map 8080/tcp' >"$tmp/punchmap.conf"
expect_output "-nv: --punch-map no replaces the file's yes" "lease 3600
any-port no
protocol auto
punch-map no
map 8080/tcp
" -n -v -c "$tmp/punchmap.conf" --punch-map no
expect_usage "--cipher aes" "--cipher: expected auto or chacha20-poly1305, not \"aes\"" \
    -n -m 1/tcp --cipher aes
printf '%s\n' 'cipher auto' 'map 8080/tcp' >"$tmp/cipher.conf"
expect_output "-nv: --cipher chacha20-poly1305 replaces the file's auto" "lease 3600
any-port no
protocol auto
cipher chacha20-poly1305
map 8080/tcp
" -n -v -c "$tmp/cipher.conf" --cipher chacha20-poly1305
printf '%s\n' 'cipher chacha20-poly1305' 'map 8080/tcp' >"$tmp/cipher.conf"
expect_output "-nv: --cipher auto (the default) replaces the file's, not printed" "lease 3600
any-port no
protocol auto
map 8080/tcp
" -n -v -c "$tmp/cipher.conf" --cipher auto
expect_usage "--relay sometimes" "--relay: expected fallback, never or always, not \"sometimes\"" \
    -n -m 1/tcp --relay sometimes
printf '%s\n' 'relay always' 'map 8080/tcp' >"$tmp/relay.conf"
expect_output "-nv: --relay never replaces the file's always" "lease 3600
any-port no
protocol auto
relay never
map 8080/tcp
" -n -v -c "$tmp/relay.conf" --relay never
expect_output "-nv: --relay fallback (the default) is not printed" "lease 3600
any-port no
protocol auto
map 8080/tcp
" -n -v -c "$tmp/relay.conf" --relay fallback
# ---- hole punching: --expose, --connect ----
printf '%s\n' 'expose web=192.168.1.20:80/udp' \
    'expose game=[::1]:27015/udp@beta,gamma.lan' 'connect beta/web=8080' \
    'connect alpha/game=[::1]:27015/udp' 'map 2/tcp' >"$tmp/peer.conf"
expect_output "-nv: expose and connect, written back in full" "${peer_head}expose web=192.168.1.20:80/udp
expose game=[::1]:27015/udp@beta,gamma.lan
connect beta/web=127.0.0.1:8080
connect alpha/game=[::1]:27015/udp
map 2/tcp
map 1/tcp
" -nv -c "$tmp/peer.conf" "${rdv_ok[@]}"
expect_output "-nv: --expose and --connect replace the file's" "${peer_head}expose ssh=127.0.0.1:22/udp
expose dns=[2001:db8::53]:53/udp@beta
connect alpha/ssh=127.0.0.1:2222
connect alpha/dns=127.0.0.1:2223/udp
map 2/tcp
map 1/tcp
" -nv -c "$tmp/peer.conf" "${rdv_ok[@]}" --expose ssh=127.0.0.1:22/udp \
    --expose 'dns=[2001:db8::53]:53/udp@beta' \
    --connect alpha/ssh=127.0.0.1:2222 --connect alpha/dns=2223/udp
expect_output "-nv: relay= after a service, in the file and on the command line" "${peer_head}expose ssh=127.0.0.1:22/tcp relay=never
expose dns=127.0.0.1:53/udp@beta relay=fallback
connect alpha/ssh=127.0.0.1:2222/tcp relay=never
connect alpha/web=127.0.0.1:8080
map 2/tcp
map 1/tcp
" -nv -c "$tmp/peer.conf" "${rdv_ok[@]}" \
    --expose 'ssh=127.0.0.1:22/tcp relay=never' \
    --expose 'dns=127.0.0.1:53/udp@beta  relay=fallback' \
    --connect 'alpha/ssh=2222/tcp relay=never' --connect alpha/web=8080
printf '%s\n' 'expose ssh=127.0.0.1:22/tcp relay=never' \
    'connect alpha/ssh=2222/tcp   relay=never' 'map 2/tcp' >"$tmp/peer-relay.conf"
expect_output "-nv: relay= after expose and connect in the file" "${peer_head}expose ssh=127.0.0.1:22/tcp relay=never
connect alpha/ssh=127.0.0.1:2222/tcp relay=never
map 2/tcp
map 1/tcp
" -nv -c "$tmp/peer-relay.conf" "${rdv_ok[@]}"
expect_usage "--expose with relay=sometimes" \
    "--expose ssh: relay=sometimes: expected fallback, never or always" \
    -n -m 1/tcp --expose 'ssh=127.0.0.1:22/tcp relay=sometimes'
expect_output "-nv: relay=always after a TCP expose and connect" "${peer_head}expose ssh=127.0.0.1:22/tcp relay=always
connect alpha/ssh=127.0.0.1:2222/tcp relay=always
map 1/tcp
" -nv "${rdv_ok[@]}" --expose 'ssh=127.0.0.1:22/tcp relay=always' \
    --connect 'alpha/ssh=2222/tcp relay=always'
printf '%s\n' 'expose ssh=127.0.0.1:22/tcp relay=never extra' 'map 2/tcp' \
    >"$tmp/peer-3.conf"
expect_config "expose with two words after it in the file" \
    "expose: expected one argument and at most one word after it (relay=POLICY), got 3" \
    -n -c "$tmp/peer-3.conf" "${rdv_ok[@]}"
expect_usage "--expose without a transport" "--expose: ssh: needs /tcp or /udp" \
    -n -m 1/tcp --expose ssh=127.0.0.1:22
expect_usage "--expose with an upper-case name" "\"SSH\" is not a service name" \
    -n -m 1/tcp --expose SSH=127.0.0.1:22/tcp
expect_usage "--expose with a host name" "is not ADDRESS:PORT" \
    -n -m 1/tcp --expose ssh=localhost:22/tcp
expect_usage "--expose with an empty node after @" "\"\" is not a node name" \
    -n -m 1/tcp --expose 'ssh=127.0.0.1:22/tcp@beta,,gamma'
expect_usage "--expose twice" "expose: ssh/tcp given twice" \
    -n -m 1/tcp --expose ssh=127.0.0.1:22/tcp --expose ssh=127.0.0.1:2200/tcp
expect_usage "--expose with nine nodes" "more than 8 nodes" \
    -n -m 1/tcp --expose 'ssh=127.0.0.1:22/tcp@a,b,c,d,e,f,g,h,i'
expect_usage "--connect without a node" "is not NODE/NAME" \
    -n -m 1/tcp --connect ssh=2222
expect_usage "--connect port 0" "is not ADDRESS:PORT" \
    -n -m 1/tcp --connect alpha/ssh=0
expect_usage "--connect sctp" "\"sctp\" is not tcp or udp" \
    -n -m 1/tcp --connect 'alpha/ssh=[::1]:22/sctp'
expect_usage "two --connect on one port" "listens where connect alpha/ssh" \
    -n -m 1/tcp --connect alpha/ssh=2222 --connect beta/dns=2222/udp
expect_config "--expose without a rendezvous" \
    "expose: needs a rendezvous server" -n -c "$tmp/empty.conf" -m 1/tcp \
    --expose ssh=127.0.0.1:22/tcp
expect_config "--connect without a rendezvous" \
    "connect: needs a rendezvous server" -n -c "$tmp/empty.conf" -m 1/tcp \
    --connect alpha/ssh=2222
printf 'expose ssh 127.0.0.1:22/tcp\nmap 1/tcp\n' >"$tmp/badexpose.conf"
expect_config "an expose keyword with two words" "badexpose.conf:1: expose" \
    -n -c "$tmp/badexpose.conf"
expect_config "--rendezvous without --network nor --key-file" \
    "rendezvous: needs network and key-file" -n -c "$tmp/empty.conf" \
    -m 1/tcp --rendezvous 203.0.113.30
expect_config "--rendezvous without --key-file" "rendezvous: needs key-file" \
    -n -c "$tmp/empty.conf" -m 1/tcp --rendezvous 203.0.113.30 --network home
expect_config "--rendezvous without --network" "rendezvous: needs network" \
    -n -c "$tmp/empty.conf" -m 1/tcp --rendezvous 203.0.113.30 \
    --key-file "$tmp/known.key"
expect_config "--key-file readable by others" "others may read" \
    -n -c "$tmp/empty.conf" -m 1/tcp --rendezvous 203.0.113.30 \
    --network home --key-file "$tmp/open.key" --node nas
expect_config "--key-file holding no key" "not a key" \
    -n -c "$tmp/empty.conf" -m 1/tcp --rendezvous 203.0.113.30 \
    --network home --key-file "$tmp/notkey.key" --node nas
if grep -qF -e "$secret" -e "${secret:0:12}" "$ERR"; then
	tap_fail "a refused --key-file: the key is never printed" "$(what)"
else
	tap_ok "a refused --key-file: the key is never printed"
fi
printf 'network bad/name\nmap 1/tcp\n' >"$tmp/badnet.conf"
expect_config "a bad network keyword" "badnet.conf:1: network: \"bad/name\"" \
    -n -c "$tmp/badnet.conf"
printf 'node -nas\nmap 1/tcp\n' >"$tmp/badnode.conf"
expect_config "a bad node keyword" "badnode.conf:1: node: \"-nas\"" \
    -n -c "$tmp/badnode.conf"
# without --node the host name, lower case, must be a node name; unshare
# gives a UTS namespace of our own to name (as root only)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -u true 2>/dev/null; then
	out=$(cd "$tmp" && unshare -u sh -c 'hostname NAS-1.Lan && exec "$@"' sh \
	    "$NATMAPD" -nv -c "$tmp/empty.conf" -m 1/tcp \
	    --rendezvous 203.0.113.30 --network home --key-file "$tmp/known.key" 2>&1)
	if grep -qx 'node nas-1.lan' <<<"$out"; then
		tap_ok "no --node: the host name in lower case (NAS-1.Lan: nas-1.lan)"
	else
		tap_fail "no --node: the host name in lower case" "$out"
	fi
	out=$(cd "$tmp" && unshare -u sh -c 'echo nas_1 >/proc/sys/kernel/hostname && exec "$@"' sh \
	    "$NATMAPD" -n -c "$tmp/empty.conf" -m 1/tcp \
	    --rendezvous 203.0.113.30 --network home --key-file "$tmp/known.key" 2>&1)
	rc=$?
	if [ "$rc" = 78 ] && grep -qF 'host name "nas_1" is not a node name' <<<"$out"; then
		tap_ok "no --node, a host name that is no node name: exit 78, a clear error"
	else
		tap_fail "no --node, a host name that is no node name: exit 78" \
		    "status $rc" "$out"
	fi
else
	tap_skip "no --node: the host name in lower case" "needs root and unshare -u"
	tap_skip "no --node, a bad host name: exit 78" "needs root and unshare -u"
fi

"$NATMAPD" -h >"$tmp/help" 2>&1
if grep -q -- '--keygen ' "$tmp/help" && grep -q -- '--server-key FILE' \
    "$tmp/help"; then
	tap_ok "-h lists --keygen and --server-key"
else
	tap_fail "-h lists --keygen and --server-key" "$(cat "$tmp/help")"
fi

# The default config file, when there is none: only the command line.
default_conf=$("$NATMAPD" -h 2>/dev/null |
    sed -n 's/.*configuration file (default \([^)]*\)).*/\1/p')
if [ -z "$default_conf" ]; then
	tap_fail "natmapd -h names the default config file" "$("$NATMAPD" -h)"
elif [ -e "$default_conf" ]; then
	tap_skip "a missing default config file is no error" \
	    "$default_conf exists here"
else
	expect_output "a missing default config file is no error" \
	    "lease 3600
any-port no
protocol auto
map 8080/tcp
" -nv -m 8080/tcp
fi

tap_done
