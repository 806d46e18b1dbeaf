#!/bin/sh
# install-deps.sh - install what natmapd needs to build and to run "make check"
# (unit tests, fuzz targets, the network-namespace lab), contrib/lab/demo.sh
# and tests/run-suite.sh on Debian 12, from a bare debootstrap root up (.ci/run
# checks that). Run as root.
#
# No service is started by the install: miniupnpd-nftables ships none (and asks
# no debconf question; the "miniupnpd" package that does is not installed);
# coturn's is kept from starting by a policy-rc.d and disabled afterwards.
# The lab runs its own miniupnpd and coturn inside network namespaces.

set -eu

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# keep services from starting during the install (only if none is there yet)
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
cleanup() {
	if [ -n "$made_policy" ]; then
		rm -f "$policy"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# python3: the lab's HTTP echo server, bad STUN server and STUN prober
# (tests/lab/*.py) are python3 scripts, and a base system has no python3.
# openssl: turncred.sh computes the TURN password apart with its HMAC-SHA1.
apt-get update
apt-get install -y --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	build-essential autoconf automake libtool pkg-config \
	libminiupnpc-dev libnatpmp-dev libcurl4-openssl-dev libcmocka-dev \
	libjson-c-dev nettle-dev \
	mandoc clang libclang-rt-14-dev \
	miniupnpd-nftables coturn miniupnpc natpmpc \
	nftables iproute2 conntrack socat procps util-linux time \
	python3 openssl

# coturn: make sure no system-wide instance runs or starts at boot
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now coturn.service >/dev/null 2>&1 || true
elif [ -x /etc/init.d/coturn ]; then
	/etc/init.d/coturn stop >/dev/null 2>&1 || true
	if command -v update-rc.d >/dev/null 2>&1; then
		update-rc.d coturn disable >/dev/null 2>&1 || true
	fi
fi
