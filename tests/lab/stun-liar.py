#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""stun-liar.py - a STUN server that answers Binding requests badly, on
purpose, so that the natmapd test lab can show a client refusing the answer.

usage: stun-liar.py MODE ADDR PORT

MODE is one of
  good      a correct Binding success response: XOR-MAPPED-ADDRESS (the
            request's source) and FINGERPRINT; shows the script itself works
  wrongtid  the same, but under another transaction ID than the request's
  truncated an XOR-MAPPED-ADDRESS whose length (8) runs past the end of the
            message: the header's length field covers only 4 of its bytes
  badfp     the good response with a FINGERPRINT that does not match
  silent    reads requests, never answers
  elsewhere a correct response that maps the request to 198.51.100.77 and
            the same port: the view of a server behind which another NAT
            translated the client (nobody is sent anything there)

Messages are built per RFC 8489: magic cookie 0x2112A442, attributes padded
to 4 bytes, FINGERPRINT = CRC-32 of the message before it XOR 0x5354554e,
computed with the header's length already counting the FINGERPRINT.
Anything that is not a Binding request with the magic cookie is ignored.
One line per request on stdout.  Standard library only; SIGTERM ends it.
"""

import socket
import struct
import sys
import zlib

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028
FINGERPRINT_XOR = 0x5354554E
MODES = ("good", "wrongtid", "truncated", "badfp", "silent", "elsewhere")
ELSEWHERE = "198.51.100.77"


def attr(atype, value):
    pad = b"\0" * (-len(value) % 4)
    return struct.pack("!HH", atype, len(value)) + value + pad


def xor_mapped(addr, port):
    ip, = struct.unpack("!I", socket.inet_aton(addr))
    return struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), ip ^ MAGIC)


def message(mtype, tid, attrs, fingerprint=True, fp_delta=0):
    """Header + attrs (+ FINGERPRINT); fp_delta != 0 spoils the CRC."""
    length = len(attrs) + (8 if fingerprint else 0)
    msg = struct.pack("!HHI", mtype, length, MAGIC) + tid + attrs
    if fingerprint:
        crc = (zlib.crc32(msg) ^ FINGERPRINT_XOR ^ fp_delta) & 0xFFFFFFFF
        msg += attr(ATTR_FINGERPRINT, struct.pack("!I", crc))
    return msg


def answer(mode, tid, peer):
    body = attr(ATTR_XOR_MAPPED_ADDRESS, xor_mapped(*peer))
    body += attr(ATTR_SOFTWARE, b"natmapd-lab stun-liar " + mode.encode())
    if mode == "good":
        return message(BINDING_SUCCESS, tid, body)
    if mode == "elsewhere":
        body = attr(ATTR_XOR_MAPPED_ADDRESS, xor_mapped(ELSEWHERE, peer[1]))
        return message(BINDING_SUCCESS, tid, body)
    if mode == "wrongtid":
        other = bytes(b ^ 0xFF for b in tid)
        return message(BINDING_SUCCESS, other, body)
    if mode == "badfp":
        return message(BINDING_SUCCESS, tid, body, fp_delta=0x00000001)
    if mode == "truncated":
        value = xor_mapped(*peer)[:4]	# family and port; no address
        return message(BINDING_SUCCESS, tid,
                       struct.pack("!HH", ATTR_XOR_MAPPED_ADDRESS, 8) + value,
                       fingerprint=False)
    return None				# silent


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in MODES:
        sys.exit("usage: stun-liar.py %s ADDR PORT" % "|".join(MODES))
    mode = sys.argv[1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((sys.argv[2], int(sys.argv[3])))
    print("stun-liar %s on %s:%d" % ((mode,) + sock.getsockname()), flush=True)
    while True:
        data, peer = sock.recvfrom(2048)
        if len(data) < 20:
            continue
        mtype, _, cookie = struct.unpack("!HHI", data[:8])
        if mtype != BINDING_REQUEST or cookie != MAGIC:
            continue
        msg = answer(mode, data[8:20], peer)
        print("%s:%d %s%s" % (peer + (mode, "" if msg else " (no answer)")),
              flush=True)
        if msg:
            sock.sendto(msg, peer)


if __name__ == "__main__":
    main()
