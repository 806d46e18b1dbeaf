#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# connect-relay.bin: connect.bin (see README) with other candidates, made
# from include/punch-msg.h's WIRE FORMAT apart from src/punch-msg.c:
# relay udp 203.0.113.50:49152, srflx udp 203.0.113.7:51413, and one of
# kind 9 (none known yet: a receiver skips it) udp 198.51.100.9:3478;
# and connect-beside.bin, the same with relay udp 203.0.113.50:49152, a
# TCP relayed address for a carrier beside the direct one (kind 6) tcp
# 203.0.113.50:49300, the same kind over udp 203.0.113.50:49301
# (meaningless: a receiver skips it), and srflx udp 203.0.113.7:51413.
import hashlib, hmac, os, struct

here = os.path.dirname(os.path.abspath(__file__))
secret = bytes(range(32))
key = hmac.new(secret, b"natmapd peer key v1", hashlib.sha256).digest()
base = open(os.path.join(here, "connect.bin"), "rb").read()
n, f, t = base[13], base[14], base[15]
at = 16 + n + f + t + 16 + 8 + 4 + 32	# the candidate count
assert base[at] == 4

def cand(kind, transport, ip, port):
    a = bytes(int(x) for x in ip.split("."))
    a = bytes(x ^ y for x, y in zip(a, struct.pack(">I", 0x2112a442)))
    return bytes([kind, transport, 0, 0, 0, 1]) + \
        struct.pack(">H", port ^ 0x2112) + a

def write(name, cands):
    body = bytearray(base[:at]) + bytes([len(cands)]) + b"".join(cands)
    length = len(body) + 32
    body[2:4] = struct.pack(">H", length)
    out = bytes(body) + hmac.new(key, bytes(body), hashlib.sha256).digest()
    open(os.path.join(here, name), "wb").write(out)

write("connect-relay.bin", [cand(4, 17, "203.0.113.50", 49152),
                            cand(2, 17, "203.0.113.7", 51413),
                            cand(9, 17, "198.51.100.9", 3478)])
write("connect-beside.bin", [cand(4, 17, "203.0.113.50", 49152),
                             cand(6, 6, "203.0.113.50", 49300),
                             cand(6, 17, "203.0.113.50", 49301),
                             cand(2, 17, "203.0.113.7", 51413)])
