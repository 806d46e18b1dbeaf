#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""tamper.py - an on-path attacker between two punched natmapd nodes, for
the natmapd lab's two sites (tests/integration/punch-tamper.sh).

usage: tamper.py udp A B [-t SECONDS] [-m CAPTURES] [-f OFFSETS] [-r DEPTH]
       tamper.py tcp A B --to ADDR [-t SECONDS] [-n SEGMENTS] [-q MS] [--replay]

Run it where the two sites' traffic passes (the lab's wan namespace, which
forwards between them).  A and B are the two sites' public IPv4 addresses.
It captures (AF_PACKET) the IPv4 packets that arrive there between A and B,
either way, and sends packets of its own back into the path (a raw socket,
IP_HDRINCL) with the captured source address and port, so that each site's
NAT takes them for the peer's and hands them to the node behind it.

udp  For each of the first -m (default 40) datagrams captured each way
     that look like the punch path's (first byte 0xD0-0xDF, at least 32
     bytes: header 16, tag 16), it sends on to the same destination:
       (a) the datagram again, unchanged (a replay);
       (b) a copy per offset in -f (default 0,2,9,16,-16,-1: the type, a
           reserved byte, the counter, the first byte of ciphertext, the
           first and the last byte of the tag; negative offsets count from
           the end) with that byte's lowest bit flipped; offsets 4-7 (the
           receiver index) are refused: such a datagram names no session
           and is no peer's to count;
       (c) every -r-th capture (default 5), the last -r captured that way,
           newest first (old datagrams, reordered).
     Prints "to ADDR: captured N replay N flip N reorder N sent N" for each
     destination when done (after -t seconds, default 10, or once both
     directions reached -m), and exits 0 if anything was sent.
tcp  Follows the TCP connections between A and B.  Once -n (default 5)
     data segments went to ADDR (--to) on one connection and no newer one
     has come for -q milliseconds (default 30: the sender is idle, its
     records complete), it sends one segment to ADDR as the peer would:
     the next sequence number, the peer's last acknowledgement, window and
     options (timestamps), and the payload of the last data segment with
     one byte in its middle flipped (--replay: unchanged, a record sent
     again), new data as far as TCP can tell.  Prints "injected SRC:P ->
     DST:P seq S len L flip at K" (or "... replayed") and exits 0,
     or "no quiet moment" / "no data" and exits 1 at -t seconds.

Prints "listening" first, once its sockets are open.  Standard library
only, root (raw and packet sockets); every loop is bounded by -t (at most
120 s).
"""

import argparse
import ipaddress
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
UDP_HDR_MIN = 32		# the punch path's header (16) and tag (16)


def say(*words):
    print(*words, flush=True)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_csum(src, dst, proto, seg):
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def parse_ip(pkt):
    """(proto, src, dst, l4 bytes) of an unfragmented IPv4 packet, or None."""
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None
    ihl = (pkt[0] & 15) * 4
    total = struct.unpack("!H", pkt[2:4])[0]
    frag = struct.unpack("!H", pkt[6:8])[0]
    if ihl < 20 or total < ihl or total > len(pkt) or frag & 0x3FFF:
        return None
    return pkt[9], pkt[12:16], pkt[16:20], pkt[ihl:total]


def ip_packet(proto, src, dst, l4):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64,
                      proto, 0, src, dst)
    return hdr + l4		# the kernel fills in the ID and the checksum


def udp_packet(src, sport, dst, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_csum(src, dst, socket.IPPROTO_UDP, seg) or 0xFFFF
    seg = seg[:6] + struct.pack("!H", c) + seg[8:]
    return ip_packet(socket.IPPROTO_UDP, src, dst, seg)


def tcp_packet(src, sport, dst, dport, seq, ack, flags, window, options,
               payload):
    off = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags,
                      window, 0, 0) + options + payload
    c = l4_csum(src, dst, socket.IPPROTO_TCP, seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return ip_packet(socket.IPPROTO_TCP, src, dst, seg)


def sockets():
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                        socket.htons(ETH_P_IP))
    cap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    say("listening")
    return cap, raw


def captured(cap, deadline):
    """Yield the packets that arrive (not the ones leaving), until deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([cap], [], [], min(left, 0.005))
        if not r:
            yield None		# a tick: time passes
            continue
        pkt, sa = cap.recvfrom(65535)
        if sa[2] == PACKET_OUTGOING:
            continue
        yield pkt


def flip(data, off):
    b = bytearray(data)
    b[off] ^= 1
    return bytes(b)


def run_udp(args, a, b):
    cap, raw = sockets()
    offsets = [int(x) for x in args.f.split(",") if x != ""]
    for o in offsets:
        if 4 <= o <= 7 or not -UDP_HDR_MIN <= o < UDP_HDR_MIN:
            sys.exit("tamper: offset %d: 0-3, 8-31 or -32 to -1" % o)
    st = {d: {"captured": 0, "replay": 0, "flip": 0, "reorder": 0,
              "sent": 0, "old": []} for d in (a, b)}
    deadline = time.monotonic() + args.t

    def send(pkt, dst, kind):
        raw.sendto(pkt, (socket.inet_ntoa(dst), 0))
        st[dst][kind] += 1
        st[dst]["sent"] += 1

    for pkt in captured(cap, deadline):
        if all(s["captured"] >= args.m for s in st.values()):
            break
        if pkt is None:
            continue
        p = parse_ip(pkt)
        if p is None or p[0] != socket.IPPROTO_UDP or len(p[3]) < 8:
            continue
        proto, src, dst, l4 = p
        if {src, dst} != {a, b}:
            continue
        sport, dport = struct.unpack("!HH", l4[:4])
        data = l4[8:]
        if len(data) < UDP_HDR_MIN or not 0xD0 <= data[0] <= 0xDF:
            continue
        s = st[dst]
        if s["captured"] >= args.m:
            continue
        s["captured"] += 1
        send(udp_packet(src, sport, dst, dport, data), dst, "replay")
        for o in offsets:
            send(udp_packet(src, sport, dst, dport, flip(data, o)), dst, "flip")
        s["old"].append((sport, dport, data))
        if s["captured"] % args.r == 0:
            for sp, dp, old in reversed(s["old"][-args.r:]):
                send(udp_packet(src, sp, dst, dp, old), dst, "reorder")
        del s["old"][:-args.r]
    total = 0
    for d in (a, b):
        s = st[d]
        say("to %s: captured %d replay %d flip %d reorder %d sent %d" % (
            socket.inet_ntoa(d), s["captured"], s["replay"], s["flip"],
            s["reorder"], s["sent"]))
        total += s["sent"]
    return 0 if total > 0 else 1


def run_tcp(args, a, b):
    cap, raw = sockets()
    to = socket.inet_aton(args.to)
    if to not in (a, b):
        sys.exit("tamper: --to must be A or B")
    conns = {}	# (src, sport, dst, dport) -> what the sender said last
    deadline = time.monotonic() + args.t
    seen_data = False
    for pkt in captured(cap, deadline):
        now = time.monotonic()
        if pkt is not None:
            p = parse_ip(pkt)
            if p is None or p[0] != socket.IPPROTO_TCP or len(p[3]) < 20:
                continue
            proto, src, dst, l4 = p
            if {src, dst} != {a, b} or dst != to:
                continue
            sport, dport, seq, ack, off, flags, win = struct.unpack(
                "!HHIIBBH", l4[:16])
            hl = (off >> 4) * 4
            if hl < 20 or hl > len(l4):
                continue
            key = (src, sport, dst, dport)
            c = conns.setdefault(key, {"data": 0, "end": None, "at": now,
                                       "payload": b""})
            payload = l4[hl:]
            end = (seq + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
            if flags & 0x05:		# FIN or RST: that one is over
                c["done"] = True
            if c["end"] is None or ((end - c["end"]) & 0xFFFFFFFF) < 1 << 31:
                c["end"] = end
            c.update(ack=ack, win=win, opts=l4[20:hl])
            if payload:
                c["data"] += 1
                c["payload"] = payload
                c["at"] = now
                seen_data = True
            continue
        for key, c in conns.items():
            if (c["data"] >= args.n and not c.get("done") and
                    now - c["at"] >= args.q / 1000.0 and
                    len(c["payload"]) >= 3):
                src, sport, dst, dport = key
                k = len(c["payload"]) // 2
                data = c["payload"] if args.replay else flip(c["payload"], k)
                pkt = tcp_packet(src, sport, dst, dport, c["end"], c["ack"],
                                 0x18, c["win"], c["opts"], data)
                raw.sendto(pkt, (socket.inet_ntoa(dst), 0))
                say("injected %s:%d -> %s:%d seq %d len %d %s" % (
                    socket.inet_ntoa(src), sport, socket.inet_ntoa(dst),
                    dport, c["end"], len(data),
                    "replayed" if args.replay else "flip at %d" % k))
                return 0
    say("no quiet moment" if seen_data else "no data")
    return 1


def main():
    ap = argparse.ArgumentParser(description="lab on-path attacker")
    sub = ap.add_subparsers(dest="cmd", required=True)
    both = argparse.ArgumentParser(add_help=False)
    for name in ("a", "b"):
        both.add_argument(name)
    both.add_argument("-t", type=float, default=10.0)
    opts = {"udp": (("-m", int, 40), ("-f", str, "0,2,9,16,-16,-1"),
                    ("-r", int, 5)),
            "tcp": (("-n", int, 5), ("-q", float, 30.0))}
    for cmd, own in opts.items():
        p = sub.add_parser(cmd, parents=[both])
        for flag, kind, default in own:
            p.add_argument(flag, type=kind, default=default)
    sub.choices["tcp"].add_argument("--to", required=True)
    sub.choices["tcp"].add_argument("--replay", action="store_true")
    args = ap.parse_args()
    if not 0 < args.t <= 120:
        ap.error("-t: 0-120 seconds")
    try:
        a = socket.inet_aton(str(ipaddress.IPv4Address(args.a)))
        b = socket.inet_aton(str(ipaddress.IPv4Address(args.b)))
    except ValueError as e:
        ap.error(str(e))
    if args.cmd == "udp":
        if not 1 <= args.m <= 1000 or not 1 <= args.r <= 50:
            ap.error("-m 1-1000, -r 1-50")
        return run_udp(args, a, b)
    if not 1 <= args.n <= 10000 or not 1 <= args.q <= 5000:
        ap.error("-n 1-10000, -q 1-5000 ms")
    return run_tcp(args, a, b)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(1)
