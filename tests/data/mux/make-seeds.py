#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Writes the fuzz seeds of fuzz-mux (tests/data/mux/*.bin) from the wire
# format in include/mux-msg.h, apart from the C codec.  Run it here.
import struct

def frame(t, sid, payload=b""):
    return struct.pack(">BBHI", t, 0, len(payload), sid) + payload

OPEN, DATA, WINDOW, FIN, RST, PING, PONG, GOAWAY = range(1, 9)

def seeds(peer_first):
    # streams the peer opens: even ids if we (the fuzzed side) opened odd
    a, b = peer_first, peer_first + 2
    return {
        "open-data-fin": frame(OPEN, a, b"ssh") + frame(DATA, a, b"SSH-2.0-x\r\n")
            + frame(WINDOW, a, struct.pack(">I", 4096)) + frame(FIN, a),
        "two-streams": frame(OPEN, a, b"web") + frame(OPEN, b, b"ssh")
            + frame(DATA, b, b"y" * 300) + frame(DATA, a, b"x" * 40)
            + frame(RST, a, b"\x06") + frame(FIN, b),
        "refused": frame(OPEN, a, b"rdp") + frame(DATA, a, b"late"),
        "reset-echo": frame(OPEN, a, b"echo") + frame(DATA, a, b"!bang"),
        "carrier": frame(PING, 0, b"\x00\x01\x02\x03\x04\x05\x06\x07")
            + frame(PONG, 0, b"\x00\x00\x00\x00\x00\x00\x00\x01")
            + frame(GOAWAY, 0, struct.pack(">IB", 0, 0)),
        "to-ours": frame(WINDOW, 3 - peer_first, struct.pack(">I", 65536))
            + frame(DATA, 3 - peer_first, b"ok") + frame(FIN, 3 - peer_first),
    }

for peer_first, side in ((2, "init"), (1, "resp")):
    for name, b in seeds(peer_first).items():
        with open(f"{side}-{name}.bin", "wb") as f:
            f.write(b)
with open("flow-game.bin", "wb") as f:
    f.write(bytes([0x10, 0, 4, 0]) + struct.pack(">I", 0xcafef00d)
            + b"game" + b"\x01\x02\x03")
with open("flow-reply.bin", "wb") as f:
    f.write(bytes([0x10, 1, 3, 0]) + struct.pack(">I", 7) + b"dns")
