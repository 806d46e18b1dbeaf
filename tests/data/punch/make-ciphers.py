#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# offer-ciphers.bin: offer.bin (see README) with the ciphers' record (kind
# 5) between its two candidates, made from include/punch-msg.h's WIRE
# FORMAT apart from src/punch-msg.c: bits 0x03, AES-256-GCM and one no
# version knows yet (a receiver ignores it), address 0.0.0.0.
import hashlib, hmac, os, struct

here = os.path.dirname(os.path.abspath(__file__))
secret = bytes(range(32))
key = hmac.new(secret, b"natmapd peer key v1", hashlib.sha256).digest()
base = open(os.path.join(here, "offer.bin"), "rb").read()
n, f, t = base[13], base[14], base[15]
at = 16 + n + f + t + 16 + 8 + 4 + 32 + 32	# the candidate count
assert base[at] == 2
first = base[at + 1:at + 1 + 12]		# host udp 10.0.0.5:41000
second = base[at + 1 + 12:len(base) - 32]	# srflx udp, IPv6
assert first[5] == 1 and second[5] == 2 and len(second) == 24
cookie = struct.pack(">I", 0x2112a442)
record = bytes([5, 17, 0, 0, 0, 1]) + struct.pack(">H", 0x0003 ^ 0x2112) + \
    bytes(x ^ y for x, y in zip(bytes(4), cookie))
body = bytearray(base[:at]) + bytes([3]) + first + record + second
body[2:4] = struct.pack(">H", len(body) + 32)
out = bytes(body) + hmac.new(key, bytes(body), hashlib.sha256).digest()
open(os.path.join(here, "offer-ciphers.bin"), "wb").write(out)
