#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# capture.py - cut a pcap (tcpdump -i lo, Ethernet framing) of TURN traffic
# on port 3478 into its messages: each UDP datagram, and each TCP stream
# (reassembled by sequence number) cut into STUN messages and ChannelData
# frames as RFC 6062 / RFC 8656 section 12.5 frame them.  Writes
# OUT/NN-<dir>-<proto>-<what>.bin, one message a file, and prints a line
# for each.  Used by capture.sh.
import struct
import sys

METHODS = {1: "binding", 3: "allocate", 4: "refresh", 6: "send", 7: "data",
           8: "createpermission", 9: "channelbind", 10: "connect",
           11: "connectionbind", 12: "connectionattempt"}
CLASSES = {0: "request", 1: "indication", 2: "success", 3: "error"}


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def describe(msg):
    if msg[0] & 0xc0 == 0x40:
        return "channeldata-%04x" % struct.unpack(">H", msg[:2])[0]
    t = struct.unpack(">H", msg[:2])[0]
    method = (t & 0x000f) | (t & 0x00e0) >> 1 | (t & 0x3e00) >> 2
    cls = (t >> 4 & 1) | (t >> 7 & 2)
    return "%s-%s" % (METHODS.get(method, "m%x" % method), CLASSES[cls])


def frames(stream, tcp):
    off = 0
    while off + 4 <= len(stream):
        if stream[off] & 0xc0 == 0x40:
            n = 4 + struct.unpack(">H", stream[off + 2:off + 4])[0]
            if tcp:
                n = (n + 3) & ~3
        else:
            n = 20 + struct.unpack(">H", stream[off + 2:off + 4])[0]
        yield stream[off:off + n]
        off += n


def main():
    pcap, out = sys.argv[1], sys.argv[2]
    msgs = []        # (order, direction, proto, bytes)
    streams = {}     # (src, sport, dst, dport) -> {seq: payload}, first index
    for i, pkt in enumerate(packets(pcap)):
        if len(pkt) < 34 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 0x0f) * 4
        proto = ip[9]
        tot = struct.unpack(">H", ip[2:4])[0]
        src, dst = ip[12:16], ip[16:20]
        l4 = ip[ihl:tot]
        sport, dport = struct.unpack(">HH", l4[:4])
        if proto == 17:
            payload = l4[8:]
            way = "c2s" if dport == 3478 else "s2c"
            msgs.append((i, way, "udp", payload))
        elif proto == 6:
            doff = (l4[12] >> 4) * 4
            seq = struct.unpack(">I", l4[4:8])[0]
            payload = l4[doff:]
            if not payload:
                continue
            key = (src, sport, dst, dport)
            s = streams.setdefault(key, [i, {}])
            s[1].setdefault(seq, payload)
    conns = []       # client ports, in the order the connections came
    for key, (first, segs) in sorted(streams.items(), key=lambda s: s[1][0]):
        way = "c2s" if key[3] == 3478 else "s2c"
        port = key[1] if way == "c2s" else key[3]
        if port not in conns:
            conns.append(port)
        data = b"".join(segs[k] for k in sorted(segs))
        for j, f in enumerate(frames(data, True)):
            msgs.append((first + j / 1000.0, way,
                         "tcp%d" % (conns.index(port) + 1), f))
    msgs.sort(key=lambda m: m[0])
    for n, (_, way, proto, b) in enumerate(msgs):
        name = "%02d-%s-%s-%s.bin" % (n, way, proto, describe(b))
        with open("%s/%s" % (out, name), "wb") as f:
            f.write(b)
        print(name, len(b), b.hex())


main()
