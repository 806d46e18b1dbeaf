#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""delay.py - a delay line for the natmapd lab: every IPv4 packet routed
into the TUN device IFNAME comes out of it again MS milliseconds later, in
order, and the kernel routes it on.  lab_wan_delay (tests/lab/lab.sh) sends
the traffic between the two sites through it: the lab's kernel has no
netem (CONFIG_NET_SCH_NETEM), this does the same for one fixed delay.

usage: delay.py IFNAME MS

Creates IFNAME (IFF_TUN, no packet information), prints "listening" once it
exists, and runs until killed or for 600 s at most.  Standard library only.
"""

import fcntl
import os
import select
import struct
import sys
import time
from collections import deque

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
LIFETIME = 600
QUEUE_MAX = 4096  # packets held at once; more are dropped, as a full queue


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: delay.py IFNAME MS")
    name, ms = sys.argv[1], int(sys.argv[2])
    if not 0 <= ms <= 1000 or not 0 < len(name) < 16:
        sys.exit("delay.py: MS 0-1000, IFNAME up to 15 characters")
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(),
                                           IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    print("listening", flush=True)
    held = deque()
    end = time.monotonic() + LIFETIME
    while True:
        now = time.monotonic()
        if now >= end:
            return
        while held and held[0][0] <= now:
            try:
                os.write(fd, held.popleft()[1])
            except OSError:
                pass
        wait = min(end - now, held[0][0] - now if held else 1.0)
        r, _, _ = select.select([fd], [], [], max(wait, 0))
        if not r:
            continue
        for _ in range(256):
            try:
                pkt = os.read(fd, 65536)
            except BlockingIOError:
                break
            if len(held) < QUEUE_MAX:
                held.append((time.monotonic() + ms / 1000.0, pkt))


if __name__ == "__main__":
    main()
