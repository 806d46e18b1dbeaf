#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""pmp-forge.py - send one forged PCP or NAT-PMP message, as a hostile LAN
host (or the router's address from the wrong port) would.

usage: pmp-forge.py KIND SRC_ADDR SRC_PORT DST_ADDR DST_PORT [EXT_ADDR]

KIND is one of
  announce  a PCP ANNOUNCE response (RFC 6887 14.1.3), epoch 0
  public    a NAT-PMP public address response (RFC 6886 3.2), epoch 0,
            external address EXT_ADDR (198.51.100.66 by default)
  map       a PCP MAP response, success, lifetime 7200, TCP 8080 mapped to
            EXT_ADDR:40404 under a random nonce

Binds SRC_ADDR:SRC_PORT (SO_REUSEADDR), sends to DST_ADDR:DST_PORT (a
multicast DST_ADDR goes out of the interface of SRC_ADDR), prints "sent
KIND N bytes" and exits.  Standard library only.
"""

import os
import socket
import struct
import sys


def build(kind, ext):
    ext4 = socket.inet_aton(ext)
    if kind == "announce":
        # version 2, R|ANNOUNCE, reserved, result 0, lifetime 0, epoch 0
        return struct.pack("!BBBBII", 2, 0x80, 0, 0, 0, 0) + bytes(12)
    if kind == "public":
        # version 0, opcode 128, result 0, epoch 0, external address
        return struct.pack("!BBHI", 0, 128, 0, 0) + ext4
    if kind == "map":
        head = struct.pack("!BBBBII", 2, 0x81, 0, 0, 7200, 0) + bytes(12)
        body = (os.urandom(12) + struct.pack("!B3xHH", 6, 8080, 40404) +
                bytes(10) + b"\xff\xff" + ext4)
        return head + body
    sys.exit("unknown KIND " + kind)


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    kind, src, sport, dst, dport = sys.argv[1:6]
    ext = sys.argv[6] if len(sys.argv) == 7 else "198.51.100.66"
    msg = build(kind, ext)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, int(sport)))
    if socket.inet_aton(dst)[0] & 0xf0 == 0xe0:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                     socket.inet_aton(src))
    s.sendto(msg, (dst, int(dport)))
    print("sent %s %d bytes" % (kind, len(msg)))


if __name__ == "__main__":
    main()
