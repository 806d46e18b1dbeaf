#!/bin/bash
# capture.sh - rebuild the rtnetlink captures in this folder: runs capture.py
# in a throwaway network namespace (never touches the host's interfaces).
# Needs root, ip(8) and python3; run by hand, not by make check:
#   sudo bash tests/data/netlink/capture.sh [OUTDIR]
# Prints what each datagram holds (README.txt is written from that).

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
ns=nwcap$$

if [ "$(id -u)" -ne 0 ]; then
	echo "capture.sh: needs root" >&2
	exit 1
fi
mkdir -p "$out" || exit 1
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip netns add "$ns" || exit 1
rm -f "$out"/[0-9][0-9]-*.bin
timeout 300 ip netns exec "$ns" python3 "$here/capture.py" "$out"
