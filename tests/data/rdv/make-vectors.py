#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Rendezvous messages (include/rdv-msg.h) built by hand, apart from the C
# codec, with Python's hmac and zlib: the vectors of
# tests/unit/test-rdv-msg.c (printed as hex) and the fuzz seeds
# tests/data/rdv/*.bin.  Run from this directory: python3 make-vectors.py
import hashlib
import hmac
import ipaddress
import struct
import sys
import zlib

COOKIE = 0x2112A442
# the server key of the secret 00 01 .. 1f (tests/unit/test-crypto.c)
KEY = bytes.fromhex(
    "04a297107f7559c074de5fe85662eb58e44b9f71f033d936faf4ac1d07d033bd")
assert KEY == hmac.new(bytes(range(32)), b"natmapd rendezvous server key v1",
                       hashlib.sha256).digest()


def msg_type(method, cls):
    return ((method & 0x00F) | (method & 0x070) << 1 | (method & 0xF80) << 2
            | (cls & 1) << 4 | (cls & 2) << 7)


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def xaddr(tid, ip, port):
    a = ipaddress.ip_address(ip)
    key = struct.pack("!I", COOKIE) + tid
    raw = a.packed
    x = bytes(b ^ key[i] for i, b in enumerate(raw))
    fam = 1 if a.version == 4 else 2
    return struct.pack("!BBH", 0, fam, port ^ (COOKIE >> 16)) + x


def build(method, cls, tid, attrs):
    body = b"".join(attrs)
    # MESSAGE-INTEGRITY-SHA256: the length counts it, HMAC up to it
    hdr = struct.pack("!HHI", msg_type(method, cls), len(body) + 36,
                      COOKIE) + tid
    mac = hmac.new(KEY, hdr + body, hashlib.sha256).digest()
    body += attr(0x001C, mac)
    # FINGERPRINT: the length counts it, CRC-32 up to it
    hdr = struct.pack("!HHI", msg_type(method, cls), len(body) + 8,
                      COOKIE) + tid
    crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
    return hdr + body + attr(0x8028, struct.pack("!I", crc))


TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")
TS = 1764864000000          # 2025-12-04 16:00:00 UTC, in ms

register = build(0x0F0, 0, TID, [
    attr(0x4E40, b"home"),
    attr(0x4E41, b"nas.lan"),
    attr(0x4E42, struct.pack("!Q", TS)),
    attr(0x4E45, struct.pack("!I", 75)),
    attr(0x4E44, bytes([1, 17, 0, 0]) + xaddr(TID, "192.168.1.10", 51413)),
    attr(0x4E44, bytes([2, 17, 0, 0]) + xaddr(TID, "203.0.113.7", 40211)),
    attr(0x4E44, bytes([3, 6, 0, 0]) + xaddr(TID, "2001:db8::10", 8080)),
])
register_ok = build(0x0F0, 2, TID, [
    attr(0x4E40, b"home"),
    attr(0xCE40, struct.pack("!Q", TS + 1234)),
    attr(0x4E45, struct.pack("!I", 75)),
    attr(0x0020, xaddr(TID, "203.0.113.7", 40211)),
])
TID2 = bytes.fromhex("0102030405060708090a0b0c")
reach = build(0x0F1, 0, TID2, [
    attr(0x4E40, b"home"),
    attr(0x4E41, b"nas.lan"),
    attr(0x4E42, struct.pack("!Q", TS + 5000)),
    attr(0x4E43, bytes(range(0xA0, 0xB0))),
    attr(0x4E46, bytes([6, 0]) + struct.pack("!H", 40211)),
])
reach_err = build(0x0F1, 3, TID2, [
    attr(0x4E40, b"home"),
    attr(0xCE40, struct.pack("!Q", TS + 5100)),
    attr(0x0009, bytes([0, 0, 4, 3]) + b"Forbidden"),
])

# SIGNAL: nas.lan to cam.lan, a payload of 37 bytes (padding), the
# answers, and the server's indication to cam.lan (its own ID).
TID5 = bytes.fromhex("a1a2a3a4a5a6a7a8a9aaabac")
TID6 = bytes.fromhex("5e5e5e5e0000000100000002")
PAYLOAD = bytes(range(0x30, 0x30 + 37))
signal = build(0x0F2, 0, TID5, [
    attr(0x4E40, b"home"),
    attr(0x4E41, b"nas.lan"),
    attr(0x4E42, struct.pack("!Q", TS + 8000)),
    attr(0x4E47, b"cam.lan"),
    attr(0x4E48, PAYLOAD),
])
signal_ok = build(0x0F2, 2, TID5, [
    attr(0x4E40, b"home"),
    attr(0xCE40, struct.pack("!Q", TS + 8010)),
])
signal_err = build(0x0F2, 3, TID5, [
    attr(0x4E40, b"home"),
    attr(0xCE40, struct.pack("!Q", TS + 8020)),
    attr(0x0009, bytes([0, 0, 4, 4]) + b"no such node"),
])
signal_ind = build(0x0F2, 1, TID6, [
    attr(0x4E40, b"home"),
    attr(0x4E41, b"nas.lan"),
    attr(0xCE40, struct.pack("!Q", TS + 8005)),
    attr(0x4E47, b"cam.lan"),
    attr(0x4E48, PAYLOAD),
])

vectors = {
    "register-req": register, "register-ok": register_ok,
    "reach-req": reach, "reach-err": reach_err,
    "signal-req": signal, "signal-ok": signal_ok,
    "signal-err": signal_err, "signal-ind": signal_ind,
}
for name, b in vectors.items():
    print(name, len(b), b.hex())
    if "-n" not in sys.argv:
        with open(name + ".bin", "wb") as f:
            f.write(b)

# Seeds of fuzz-rdv that tests/fuzz-replay.sh hands over after these (from
# ../fuzz/fuzz-rdv/): REACHes of nas.lan once it registered (register-req),
# UDP and TCP, so that the dispatch goes past "register first"; a SIGNAL
# of nas.lan to itself, sent on.
TID3 = bytes.fromhex("0c0b0a090807060504030201")
TID4 = bytes.fromhex("1c1b1a191817161514131211")
later = {
    "reach-udp-registered": build(0x0F1, 0, TID3, [
        attr(0x4E40, b"home"),
        attr(0x4E41, b"nas.lan"),
        attr(0x4E42, struct.pack("!Q", TS + 6000)),
        attr(0x4E43, bytes(range(0xB0, 0xC0))),
        attr(0x4E46, bytes([17, 0]) + struct.pack("!H", 40211)),
    ]),
    "reach-tcp-registered": build(0x0F1, 0, TID4, [
        attr(0x4E40, b"home"),
        attr(0x4E41, b"nas.lan"),
        attr(0x4E42, struct.pack("!Q", TS + 7000)),
        attr(0x4E43, bytes(range(0xC0, 0xD0))),
        attr(0x4E46, bytes([6, 0]) + struct.pack("!H", 8080)),
    ]),
    # nas.lan to itself: the one node registered, so that SIGNAL is sent on
    "signal-self": build(0x0F2, 0, TID5[::-1], [
        attr(0x4E40, b"home"),
        attr(0x4E41, b"nas.lan"),
        attr(0x4E42, struct.pack("!Q", TS + 9000)),
        attr(0x4E47, b"nas.lan"),
        attr(0x4E48, b"offer"),
    ]),
    # a REGISTER success with TURN-SERVER and TURN-CREDENTIAL: 12 bytes of
    # nonce and 47 of "sealed" pair and tag (opaque to the codec; these do
    # not open)
    "register-ok-turn": build(0x0F0, 2, TID, [
        attr(0x4E40, b"home"),
        attr(0xCE40, struct.pack("!Q", TS + 1234)),
        attr(0x4E45, struct.pack("!I", 75)),
        attr(0x0020, xaddr(TID, "203.0.113.7", 40211)),
        attr(0x4E49, xaddr(TID, "203.0.113.8", 3478)),
        attr(0x4E4A, bytes(range(0x60, 0x60 + 59))),
    ]),
}
for name, b in later.items():
    print(name, len(b), b.hex())
    if "-n" not in sys.argv:
        with open("../fuzz/fuzz-rdv/" + name + ".bin", "wb") as f:
            f.write(b)
