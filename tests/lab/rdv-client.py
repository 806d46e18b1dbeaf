#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""rdv-client.py - STUN clients that test natmapd-rendezvous in the lab.

usage: rdv-client.py tcp SERVER:PORT [-b ADDR] [-p PORT]
       rdv-client.py garbage-udp SERVER:PORT
       rdv-client.py garbage-tcp SERVER:PORT
       rdv-client.py idle SERVER:PORT COUNT
       rdv-client.py rate SERVER:PORT SECONDS [WINDOW]
       rdv-client.py pipeline SERVER:PORT COUNT

tcp: one Binding request over TCP (RFC 8489 framing: the answer is read by
  its length field), from ADDR:PORT if given; prints the XOR-MAPPED-ADDRESS
  as A:P, or "timeout" / "closed" (exit 1).
garbage-udp: one datagram that is not STUN.
garbage-tcp: connects, sends bytes that are not STUN, and prints "closed"
  when the server closes the connection within 5 s, else "open" (exit 1).
idle: opens COUNT TCP connections and sends nothing; after 2 s prints
  "held H closed C" (C: connections the server closed or refused), then
  keeps the held ones open until killed.
rate: Binding requests over UDP for SECONDS with WINDOW (default 32)
  outstanding, answers matched by transaction ID; prints "N answers in S s:
  R/s" and the number of requests lost.
pipeline: COUNT Binding requests over TCP in one write, then one more cut
  in two writes 0.2 s apart; prints "answers N" once N whole answers came
  (or after 3 s without more).
Every wait is bounded.
"""

import os
import select
import socket
import struct
import sys
import time

MAGIC = 0x2112A442


def addr_arg(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def request(tid):
    return struct.pack("!HHI", 0x0001, 0, MAGIC) + tid


def xor_mapped(msg):
    off = 20
    while off + 4 <= len(msg):
        atype, alen = struct.unpack("!HH", msg[off:off + 4])
        value = msg[off + 4:off + 4 + alen]
        if atype == 0x0020 and alen == 8:
            port, addr = struct.unpack("!HI", value[2:8])
            return "%s:%d" % (socket.inet_ntoa(struct.pack("!I", addr ^ MAGIC)),
                              port ^ (MAGIC >> 16))
        off += 4 + ((alen + 3) & ~3)
    return None


def recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return None
        chunk = s.recv(n - len(buf))
        if not chunk:
            return b""
        buf += chunk
    return buf


def do_tcp(server, bind, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.settimeout(3)
    s.connect(server)
    tid = os.urandom(12)
    s.sendall(request(tid))
    deadline = time.monotonic() + 3
    hdr = recv_exact(s, 20, deadline)
    if not hdr:
        print("timeout" if hdr is None else "closed")
        return 1
    length = struct.unpack("!H", hdr[2:4])[0]
    body = recv_exact(s, length, deadline)
    if body is None or len(body) != length or hdr[8:20] != tid:
        print("bad answer")
        return 1
    m = xor_mapped(hdr + body)
    print(m if m else "no XOR-MAPPED-ADDRESS")
    return 0 if m else 1


def do_garbage_udp(server):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)), server)
    return 0


def do_garbage_tcp(server):
    s = socket.create_connection(server, timeout=3)
    s.sendall(b"\xff\xfe garbage, not STUN at all \x00\x01\x02\x03" * 4)
    r, _, _ = select.select([s], [], [], 5)
    if r:
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        if not data:
            print("closed")
            return 0
    print("open")
    return 1


def do_idle(server, count):
    socks = []
    refused = 0
    for _ in range(count):
        try:
            socks.append(socket.create_connection(server, timeout=3))
        except OSError:
            refused += 1
    time.sleep(2)
    held, closed = [], refused
    for s in socks:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                data = s.recv(1)
            except OSError:
                data = b""
            if not data:
                closed += 1
                s.close()
                continue
        held.append(s)
    print("held %d closed %d" % (len(held), closed), flush=True)
    # until killed (the test's clean-up), at most 10 minutes
    time.sleep(600)
    return 0


def do_rate(server, seconds, window):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(server)
    s.setblocking(False)
    out = {}
    answers = lost = 0
    start = time.monotonic()
    end = start + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        while len(out) < window:
            tid = os.urandom(12)
            try:
                s.send(request(tid))
            except BlockingIOError:
                break
            out[tid] = now
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            # a window lost: start again
            lost += len(out)
            out.clear()
            continue
        while True:
            try:
                msg = s.recv(2048)
            except BlockingIOError:
                break
            tid = msg[8:20]
            if len(msg) >= 20 and out.pop(tid, None) is not None:
                answers += 1
    took = time.monotonic() - start
    print("%d answers in %.2f s: %d/s, %d lost" % (answers, took, answers / took, lost))
    return 0 if answers > 0 else 1


def do_pipeline(server, count):
    s = socket.create_connection(server, timeout=3)
    req = request(os.urandom(12))
    s.sendall(req * count + req[:10])
    time.sleep(0.2)
    s.sendall(req[10:])
    n, buf = 0, b""
    deadline = time.monotonic() + 3
    while n < count + 1:
        left = deadline - time.monotonic()
        r, _, _ = select.select([s], [], [], max(left, 0))
        if not r:
            break
        data = s.recv(65536)
        if not data:
            break
        buf += data
        while len(buf) >= 20:
            length = struct.unpack("!H", buf[2:4])[0]
            if len(buf) < 20 + length:
                break
            buf = buf[20 + length:]
            n += 1
    print("answers %d" % n)
    return 0 if n == count + 1 else 1


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, server = argv[1], addr_arg(argv[2])
    if cmd == "tcp":
        bind, port = "0.0.0.0", 0
        rest = argv[3:]
        while rest:
            if rest[0] == "-b":
                bind = rest[1]
            elif rest[0] == "-p":
                port = int(rest[1])
            rest = rest[2:]
        return do_tcp(server, bind, port)
    if cmd == "garbage-udp":
        return do_garbage_udp(server)
    if cmd == "garbage-tcp":
        return do_garbage_tcp(server)
    if cmd == "idle":
        return do_idle(server, int(argv[3]))
    if cmd == "pipeline":
        return do_pipeline(server, int(argv[3]))
    if cmd == "rate":
        return do_rate(server, float(argv[3]), int(argv[4]) if len(argv) > 4 else 32)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except OSError as e:
        print("error: %s" % e)
        sys.exit(1)
