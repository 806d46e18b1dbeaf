#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""rdv-signal.py - SIGNAL through natmapd-rendezvous, with messages built
apart from the C codec (the helpers of rdv-register.py: Python's hmac and
zlib).

usage: rdv-signal.py SERVER:PORT ALT-PORT NETWORK SECRET-FILE OTHER-NETWORK
                     OTHER-SECRET-FILE

Runs every case from this host, each node a socket of its own, and prints
one line per check: "NAME ok DETAIL" or "NAME FAIL DETAIL" (exit 1 if any
failed).  The nodes of NETWORK: x (UDP, to PORT), y (UDP, to ALT-PORT: its
indications must come from there, or a port-restricted NAT drops them),
t (over TCP, the connection kept open); w of OTHER-NETWORK (UDP).
  sent-on       x to y, 1024 bytes: answered 200
  received      y got one indication: right MAC and FINGERPRINT, NODE x,
                PEER y, the payload, from ALT-PORT
  tcp           x to t: 200, and the indication came on t's connection
  unknown       x to "nobody": 404 no such node
  other-net     x to w (w is in OTHER-NETWORK): 404; w to x in
                OTHER-NETWORK: 404 (x is not registered there); y and w got
                nothing
  unregistered  u, never registered, to y: 403 register first
  bad-mac       x to y under another key: no answer within 1.5 s, y got
                nothing
  rate          x sends 24 at once: every answer is 200 or 429, 429 at least
                once, at most 16 are 200, and y got one indication per 200
Every wait is bounded.
"""

import base64
import hashlib
import hmac
import importlib.util
import os
import select
import socket
import struct
import sys
import time

_spec = importlib.util.spec_from_file_location(
    "rdvreg", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "rdv-register.py"))
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

SIGNAL = 0x0F2
failed = False


def check(name, ok, detail=""):
    global failed
    print("%s %s %s" % (name, "ok" if ok else "FAIL", detail))
    sys.stdout.flush()
    failed |= not ok


def server_key(path):
    secret = base64.b64decode(open(path).read().strip(), validate=True)
    return hmac.new(secret, R.LABEL, hashlib.sha256).digest()


def signal_req(key, network, node, peer, payload):
    tid = os.urandom(12)
    ts = int(time.time() * 1000)
    return tid, R.build(key, SIGNAL, 0, tid, [
        R.attr(0x4E40, network.encode()),
        R.attr(0x4E41, node.encode()),
        R.attr(0x4E42, struct.pack("!Q", ts)),
        R.attr(0x4E47, peer.encode()),
        R.attr(0x4E48, payload),
    ])


class Node:
    """A node: a socket (UDP, or a TCP connection), its key and name."""

    def __init__(self, key, network, name, server, tcp=False):
        self.key, self.network, self.name = key, network, name
        self.server, self.tcp, self.buf = server, tcp, b""
        if tcp:
            self.s = socket.create_connection(server, timeout=3)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.bind(("", 0))

    def send(self, msg):
        if self.tcp:
            self.s.sendall(msg)
        else:
            self.s.sendto(msg, self.server)

    def recv(self, secs):
        """[(message, source)] that came within secs (stops at the first)."""
        deadline = time.monotonic() + secs
        while True:
            if self.tcp:
                msgs, self.buf = R.stream_msgs(self.buf)
                if msgs:
                    return [(m, self.server) for m in msgs]
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return []
            if self.tcp:
                d = self.s.recv(4096)
                if not d:
                    return []
                self.buf += d
            else:
                d, src = self.s.recvfrom(4096)
                return [(d, src)]

    def drain(self, secs):
        out, deadline = [], time.monotonic() + secs
        while time.monotonic() < deadline:
            got = self.recv(max(0, deadline - time.monotonic()))
            if not got:
                break
            out += got
        return out

    def register(self):
        tid, msg = R.register(self.key, self.network, self.name)
        self.send(msg)
        for m, _ in self.recv(3):
            try:
                R.parse(m, self.key, tid)
                return True
            except ValueError:
                pass
        return False

    def signal(self, peer, payload, key=None):
        tid, msg = signal_req(key or self.key, self.network, self.name,
                              peer, payload)
        self.send(msg)
        return tid


def answers(node, tids, secs=3):
    """{tid: (code, reason)} of the answers to tids that came within secs."""
    got, deadline = {}, time.monotonic() + secs
    while len(got) < len(tids) and time.monotonic() < deadline:
        for m, _ in node.recv(deadline - time.monotonic()):
            try:
                t, mtype, attrs = R.parse_any(m, node.key)
            except ValueError:
                continue
            if t not in tids:
                continue
            if mtype == R.msg_type(SIGNAL, 2):
                got[t] = (200, "")
            elif mtype == R.msg_type(SIGNAL, 3) and 0x0009 in attrs:
                v = attrs[0x0009]
                got[t] = ((v[2] & 7) * 100 + v[3],
                          v[4:].decode("ascii", "replace"))
            else:
                got[t] = (-1, "type 0x%04x" % mtype)
    return got


def answer(node, tid, secs=3):
    """(code, reason) of the answer to tid, or None."""
    return answers(node, [tid], secs).get(tid)


def indication(node, m):
    """The indication's (NODE, PEER, PAYLOAD), or raises ValueError."""
    tid, mtype, attrs = R.parse_any(m, node.key)
    if mtype != R.msg_type(SIGNAL, 1):
        raise ValueError("type 0x%04x, not a SIGNAL indication" % mtype)
    if 0x4E42 in attrs or 0xCE40 not in attrs:
        raise ValueError("a TIMESTAMP, or no SERVER-TIME")
    return attrs[0x4E41].decode(), attrs[0x4E47].decode(), attrs[0x4E48]


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    server = R.server_arg(sys.argv[1])
    alt = (server[0], int(sys.argv[2]))
    net, key = sys.argv[3], server_key(sys.argv[4])
    net2, key2 = sys.argv[5], server_key(sys.argv[6])

    x = Node(key, net, "x", server)
    y = Node(key, net, "y", alt)
    t = Node(key, net, "t", server, tcp=True)
    w = Node(key2, net2, "w", server)
    for n in (x, y, t, w):
        if not n.register():
            check("register-" + n.name, False, "no REGISTER success")
            sys.exit(1)

    payload = os.urandom(1024)
    a = answer(x, x.signal("y", payload))
    check("sent-on", a == (200, ""), "answer %s" % (a,))
    got = y.drain(1)
    ok, why = False, "%d datagrams" % len(got)
    if len(got) == 1:
        try:
            frm, to, pay = indication(y, got[0][0])
            ok = frm == "x" and to == "y" and pay == payload and \
                got[0][1] == alt
            why = "NODE %s PEER %s %d bytes from %s:%d" % (
                frm, to, len(pay), got[0][1][0], got[0][1][1])
        except (ValueError, KeyError) as e:
            why = str(e)
    check("received", ok, why)

    a = answer(x, x.signal("t", b"over tcp"))
    got = t.drain(1)
    ok = False
    if len(got) == 1:
        try:
            ok = indication(t, got[0][0]) == ("x", "t", b"over tcp")
        except (ValueError, KeyError):
            pass
    check("tcp", a == (200, "") and ok,
          "answer %s, %d on the connection" % (a, len(got)))

    a = answer(x, x.signal("nobody", b"?"))
    check("unknown", a == (404, "no such node"), "answer %s" % (a,))

    a = answer(x, x.signal("w", b"across"))
    b = answer(w, w.signal("x", b"across"))
    gy, gw = len(y.drain(0.5)), len(w.drain(0.5))
    check("other-net", a == (404, "no such node") and
          b == (404, "no such node") and gy == 0 and gw == 0,
          "x to w %s, w to x %s, y got %d, w got %d" % (a, b, gy, gw))

    u = Node(key, net, "u", server)
    a = answer(u, u.signal("y", b"unregistered"))
    gy = len(y.drain(0.5))
    check("unregistered", a == (403, "register first") and gy == 0,
          "answer %s, y got %d" % (a, gy))

    # the lab's NAT forgets a UDP mapping in seconds: y renews its own
    y.register()
    tid = x.signal("y", b"forged", key=hashlib.sha256(key).digest())
    a = answer(x, tid, 1.5)
    gy = len(y.drain(0.5))
    check("bad-mac", a is None and gy == 0, "answer %s, y got %d" % (a, gy))

    y.register()
    tids = [x.signal("y", b"burst %d" % i) for i in range(24)]
    got = answers(x, tids, 5)
    codes = [got[tid][0] if tid in got else None for tid in tids]
    n200 = codes.count(200)
    gy = len(y.drain(1))
    check("rate", all(c in (200, 429) for c in codes) and 429 in codes and
          n200 <= 16 and gy == n200,
          "answers %s, y got %d" % (",".join(map(str, codes)), gy))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
