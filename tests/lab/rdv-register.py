#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""rdv-register.py - REGISTER requests to natmapd-rendezvous, built apart from
the C codec (Python's hmac and zlib, as tests/data/rdv/make-vectors.py).

usage: rdv-register.py ok udp|tcp SERVER:PORT NETWORK SECRET-FILE NODE WANT [SPORT]
       rdv-register.py neg KIND SERVER:PORT NETWORK SECRET-FILE NODE
       rdv-register.py reach udp|tcp SERVER:PORT NETWORK SECRET-FILE NODE SPORT
                       [-t PORT] [-p udp|tcp] [-n COUNT] [-w] [-r] [-q]

SECRET-FILE holds the network's secret as `natmapd --keygen` prints it;
the server key is derived here from it (HMAC-SHA256 of the fixed label).

ok: one REGISTER (asking a lifetime of 600 s, with one host candidate);
  the answer must come within 3 s, parse, carry a right
  MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, the request's transaction ID,
  a LIFETIME of 75 and an XOR-MAPPED-ADDRESS equal to WANT (A:P, or A:*
  for any port); sent from local port SPORT if given; prints "ok mapped A:P lifetime L skew MS" or "FAIL why"
  (exit 1).
neg: a REGISTER that must get no answer within 1.5 s; prints "silent" or
  "answered" (exit 1).  KIND: wrong-key (MAC under another key),
  replay (a good request, answered, then the same bytes again: only the
  second must go unanswered), skew-ahead / skew-behind (TIMESTAMP 31 s
  off), flip (one byte of NODE's value flipped, FINGERPRINT redone, so
  only the MAC is wrong), unknown-network (NETWORK "x" + the given name,
  MAC under the right key), truncated (the last 4 bytes cut), tcp-wrong-key
  (wrong-key over TCP: no answer, the connection closed or silent).
reach: from local port SPORT (over the transport of the target), a
  REGISTER (which also tells the mapped port), then a REACH of that
  transport to the mapped port (-t PORT: to PORT instead; -p: a target of
  that transport, the request still over the first), on the same socket
  or TCP connection.  For TCP it also listens on SPORT
  (SO_REUSEADDR, SO_REUSEPORT; only when the request goes over TCP too)
  and sends the nonce to whoever connects
  (-w: the nonce with its last byte flipped; -q: nothing).  For UDP it
  watches the socket for the 16-byte nonce.  Prints one line:
    mapped=A:P answer=CODE nonce=A:P|none accepted=N reason=TEXT
  CODE 200 for a success, the error code, or none (no answer within 6 s);
  nonce is where the nonce came from (UDP) or the last connection
  accepted (TCP), accepted how many connections came.  -n COUNT: COUNT
  REACHes one after the other (each a new transaction ID), the line
  carrying answers=CODE,CODE,... instead; -r: the first REACH sent twice,
  the same bytes (a retransmission), answers=CODE,CODE of both copies.
  Exit 0 when every REACH got an answer.
Every socket has a timeout; every wait is bounded.
"""

import base64
import hashlib
import hmac
import os
import select
import socket
import struct
import sys
import time
import zlib

COOKIE = 0x2112A442
LABEL = b"natmapd rendezvous server key v1"


def msg_type(method, cls):
    return ((method & 0x00F) | (method & 0x070) << 1 | (method & 0xF80) << 2
            | (cls & 1) << 4 | (cls & 2) << 7)


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def xaddr(tid, ip, port):
    raw = socket.inet_aton(ip)
    key = struct.pack("!I", COOKIE) + tid
    return struct.pack("!BBH", 0, 1, port ^ (COOKIE >> 16)) + \
        bytes(b ^ key[i] for i, b in enumerate(raw))


def fingerprint_fix(msg):
    crc = (zlib.crc32(msg[:-8]) ^ 0x5354554E) & 0xFFFFFFFF
    return msg[:-4] + struct.pack("!I", crc)


def build(key, method, cls, tid, attrs):
    body = b"".join(attrs)
    hdr = struct.pack("!HHI", msg_type(method, cls), len(body) + 36,
                      COOKIE) + tid
    body += attr(0x001C, hmac.new(key, hdr + body, hashlib.sha256).digest())
    hdr = struct.pack("!HHI", msg_type(method, cls), len(body) + 8,
                      COOKIE) + tid
    return fingerprint_fix(hdr + body + attr(0x8028, b"\0\0\0\0"))


def register(key, network, node, skew_ms=0):
    tid = os.urandom(12)
    ts = int(time.time() * 1000) + skew_ms
    return tid, build(key, 0x0F0, 0, tid, [
        attr(0x4E40, network.encode()),
        attr(0x4E41, node.encode()),
        attr(0x4E42, struct.pack("!Q", ts)),
        attr(0x4E45, struct.pack("!I", 600)),
        attr(0x4E44, bytes([1, 17, 0, 0]) + xaddr(tid, "192.168.1.10", 51413)),
    ])


def reach(key, network, node, transport, port):
    tid = os.urandom(12)
    ts = int(time.time() * 1000)
    nonce = os.urandom(16)
    return tid, nonce, build(key, 0x0F1, 0, tid, [
        attr(0x4E40, network.encode()),
        attr(0x4E41, node.encode()),
        attr(0x4E42, struct.pack("!Q", ts)),
        attr(0x4E43, nonce),
        attr(0x4E46, struct.pack("!BBH", 6 if transport == "tcp" else 17,
                                 0, port)),
    ])


def header(msg):
    """The message type, once the header and length are a STUN message's."""
    if len(msg) < 20:
        raise ValueError("short")
    mtype, mlen, cookie = struct.unpack("!HHI", msg[:8])
    if cookie != COOKIE or mlen + 20 != len(msg):
        raise ValueError("not STUN or bad length")
    return mtype


def attributes(msg, key, mtype):
    """The attributes, once FINGERPRINT and the MAC under key are right."""
    attrs, off, mac_off = {}, 20, None
    while off + 4 <= len(msg):
        t, n = struct.unpack("!HH", msg[off:off + 4])
        v = msg[off + 4:off + 4 + n]
        if len(v) != n:
            raise ValueError("attribute past the end")
        if t == 0x001C:
            mac_off = off
        attrs[t] = v
        off += 4 + ((n + 3) & ~3)
    if mac_off is None or 0x8028 not in attrs:
        raise ValueError("no MAC or no FINGERPRINT")
    crc = (zlib.crc32(msg[:-8]) ^ 0x5354554E) & 0xFFFFFFFF
    if struct.pack("!I", crc) != attrs[0x8028]:
        raise ValueError("bad FINGERPRINT")
    hdr = struct.pack("!HH", mtype, mac_off + 36 - 20) + msg[4:20]
    want = hmac.new(key, hdr + msg[20:mac_off], hashlib.sha256).digest()
    if not hmac.compare_digest(want, attrs[0x001C]):
        raise ValueError("bad MAC")
    return attrs


def parse_any(msg, key):
    """(transaction ID, message type, attributes) of an answer under key."""
    mtype = header(msg)
    return msg[8:20], mtype, attributes(msg, key, mtype)


def answer_code(mtype, attrs):
    """200 and "" for a REACH success, else the error code and reason."""
    if mtype == msg_type(0x0F1, 2):
        return 200, ""
    if mtype != msg_type(0x0F1, 3) or 0x0009 not in attrs:
        raise ValueError("type 0x%04x, not a REACH answer" % mtype)
    v = attrs[0x0009]
    return (v[2] & 7) * 100 + v[3], v[4:].decode("ascii", "replace")


def parse(msg, key, tid):
    """The answer's attributes, or raises ValueError."""
    mtype = header(msg)
    if msg[8:20] != tid:
        raise ValueError("another transaction ID")
    if mtype != msg_type(0x0F0, 2):
        raise ValueError("type 0x%04x, not a REGISTER success" % mtype)
    return attributes(msg, key, mtype)


def unxor(tid, v):
    port = struct.unpack("!H", v[2:4])[0] ^ (COOKIE >> 16)
    key = struct.pack("!I", COOKIE) + tid
    ip = socket.inet_ntoa(bytes(b ^ key[i] for i, b in enumerate(v[4:8])))
    return "%s:%d" % (ip, port)


def server_arg(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def exchange(transport, server, msg, wait, sport=0):
    """The answer to msg, or None within wait seconds (or a closed TCP)."""
    if transport == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("", sport))
        s.settimeout(wait)
        try:
            s.sendto(msg, server)
            return s.recvfrom(2048)[0]
        except socket.timeout:
            return None
        finally:
            s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", sport))
    s.settimeout(wait)
    try:
        s.connect(server)
        s.sendall(msg)
        buf = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if len(buf) >= 20 and len(buf) >= 20 + \
                    struct.unpack("!H", buf[2:4])[0]:
                return buf[:20 + struct.unpack("!H", buf[2:4])[0]]
            try:
                d = s.recv(2048)
            except socket.timeout:
                return None
            if not d:
                return None
            buf += d
        return None
    finally:
        s.close()


def stream_msgs(buf):
    """The whole messages at the start of buf, and what is left."""
    out = []
    while len(buf) >= 20:
        n = 20 + struct.unpack("!H", buf[2:4])[0]
        if len(buf) < n:
            break
        out.append(buf[:n])
        buf = buf[n:]
    return out, buf


def reach_main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="rdv-register.py reach")
    ap.add_argument("transport", choices=("udp", "tcp"))
    ap.add_argument("server")
    ap.add_argument("network")
    ap.add_argument("keyfile")
    ap.add_argument("node")
    ap.add_argument("sport", type=int)
    ap.add_argument("-t", dest="target", type=int, default=0)
    ap.add_argument("-p", dest="proto", choices=("udp", "tcp"))
    ap.add_argument("-n", dest="count", type=int, default=1)
    ap.add_argument("-w", dest="wrong", action="store_true")
    ap.add_argument("-q", dest="quiet", action="store_true")
    ap.add_argument("-r", dest="retransmit", action="store_true")
    a = ap.parse_args(argv)
    server = server_arg(a.server)
    secret = base64.b64decode(open(a.keyfile).read().strip(), validate=True)
    key = hmac.new(secret, LABEL, hashlib.sha256).digest()
    tcp = a.transport == "tcp"
    lsn = None
    if tcp:
        lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        lsn.bind(("", a.sport))
        lsn.listen(16)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("", a.sport))
        s.settimeout(3)
        s.connect(server)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("", a.sport))
    state = {"buf": b"", "nonce": None, "accepted": 0, "from": "none",
             "nonces": 0}

    def send(msg):
        if tcp:
            s.sendall(msg)
        else:
            s.sendto(msg, server)

    def wait(tids, secs):
        """Answers to the transaction IDs in tids, within secs: {tid: ...}."""
        got = {}
        deadline = time.monotonic() + secs
        while len(got) < len(tids) and time.monotonic() < deadline:
            socks = [s] + ([lsn] if lsn is not None else [])
            r, _, _ = select.select(socks, [], [],
                                    max(0, deadline - time.monotonic()))
            if lsn is not None and lsn in r:
                c, peer = lsn.accept()
                state["accepted"] += 1
                state["from"] = "%s:%d" % peer
                n = state["nonce"] or b"\0" * 16
                if a.wrong:
                    n = n[:15] + bytes([n[15] ^ 1])
                if not a.quiet:
                    c.sendall(n)
                    time.sleep(0.2)
                c.close()
            if s not in r:
                continue
            if tcp:
                d = s.recv(4096)
                if not d:
                    break
                msgs, state["buf"] = stream_msgs(state["buf"] + d)
            else:
                d, peer = s.recvfrom(4096)
                if (peer[0], peer[1]) != server:
                    if len(d) == 16 and d == state["nonce"]:
                        state["nonces"] += 1
                        state["from"] = "%s:%d" % peer
                    continue
                msgs = [d]
            for m in msgs:
                try:
                    tid, mtype, attrs = parse_any(m, key)
                except ValueError:
                    continue
                if tid in tids:
                    got.setdefault(tid, []).append((mtype, attrs))
        return got

    tid, msg = register(key, a.network, a.node)
    send(msg)
    got = wait([tid], 3)
    if tid not in got:
        print("FAIL no answer to the REGISTER")
        sys.exit(1)
    mapped = unxor(tid, got[tid][0][1].get(0x0020, b"\0" * 8))
    port = a.target or int(mapped.rpartition(":")[2])
    codes, reason, ok = [], "", True
    for i in range(a.count):
        tid, nonce, msg = reach(key, a.network, a.node,
                                a.proto or a.transport, port)
        state["nonce"] = nonce
        send(msg)
        if a.retransmit and i == 0:
            time.sleep(0.3)
            send(msg)
        want = 2 if a.retransmit and i == 0 else 1
        got = wait([tid], 6)
        answers = got.get(tid, [])
        if not tcp and want == 2:
            # the second copy's answer may come a little after the first's
            answers += wait([tid], 1).get(tid, [])
        if not answers:
            codes.append("none")
            ok = False
            continue
        for mtype, attrs in answers[:want]:
            code, reason = answer_code(mtype, attrs)
            codes.append(str(code))
        if len(answers) < want:
            codes.append("none")
    if not tcp:
        wait([b"-"], 1)         # a late nonce
    key_ = "answers" if a.count > 1 or a.retransmit else "answer"
    print("mapped=%s %s=%s nonce=%s accepted=%d nonces=%d reason=%s" %
          (mapped, key_, ",".join(codes),
           state["from"] if (tcp and state["accepted"]) or
           (not tcp and state["nonces"]) else "none",
           state["accepted"], state["nonces"], reason))
    sys.exit(0 if ok else 1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "reach":
        return reach_main(sys.argv[2:])
    if len(sys.argv) < 7 or (sys.argv[1] == "ok" and
                             len(sys.argv) not in (8, 9)) or \
            (sys.argv[1] == "neg" and len(sys.argv) != 7) or \
            sys.argv[1] not in ("ok", "neg"):
        sys.exit(__doc__)
    cmd, arg, server, network, keyfile, node = sys.argv[1:7]
    want = sys.argv[7] if cmd == "ok" else None
    sport = int(sys.argv[8]) if len(sys.argv) == 9 else 0
    server = server_arg(server)
    secret = base64.b64decode(open(keyfile).read().strip(), validate=True)
    if len(secret) != 32:
        sys.exit("FAIL the secret is not 32 bytes")
    key = hmac.new(secret, LABEL, hashlib.sha256).digest()
    if cmd == "ok":
        tid, msg = register(key, network, node)
        ans = exchange(arg, server, msg, 3, sport)
        if ans is None:
            print("FAIL no answer")
            sys.exit(1)
        try:
            a = parse(ans, key, tid)
        except ValueError as e:
            print("FAIL " + str(e))
            sys.exit(1)
        mapped = unxor(tid, a.get(0x0020, b"\0" * 8))
        life = struct.unpack("!I", a.get(0x4E45, b"\0\0\0\0"))[0]
        st = struct.unpack("!Q", a.get(0xCE40, b"\0" * 8))[0]
        skew = st - int(time.time() * 1000)
        wa, _, wp = want.rpartition(":")
        ma, _, mp = mapped.rpartition(":")
        if ma != wa or (wp != "*" and wp != mp) or life != 75 or \
                abs(skew) > 5000:
            print("FAIL mapped %s lifetime %d skew %d" % (mapped, life, skew))
            sys.exit(1)
        print("ok mapped %s lifetime %d skew %d" % (mapped, life, skew))
        return
    transport = "udp"
    if arg == "wrong-key" or arg == "tcp-wrong-key":
        _, msg = register(hashlib.sha256(key).digest(), network, node)
        transport = "tcp" if arg == "tcp-wrong-key" else "udp"
    elif arg == "replay":
        tid, msg = register(key, network, node)
        first = exchange("udp", server, msg, 3)
        if first is None:
            print("FAIL the first request was not answered")
            sys.exit(1)
        parse(first, key, tid)
    elif arg == "skew-ahead":
        _, msg = register(key, network, node, 31000)
    elif arg == "skew-behind":
        _, msg = register(key, network, node, -31000)
    elif arg == "flip":
        _, msg = register(key, network, node)
        at = msg.index(node.encode())
        msg = bytearray(msg)
        msg[at] ^= 0x01         # another letter: still a valid name
        msg = fingerprint_fix(bytes(msg))
    elif arg == "unknown-network":
        _, msg = register(key, "x" + network, node)
    elif arg == "truncated":
        _, msg = register(key, network, node)
        msg = msg[:-4]
    else:
        sys.exit("unknown KIND " + arg)
    ans = exchange(transport, server, msg, 1.5)
    print("silent" if ans is None else "answered")
    sys.exit(0 if ans is None else 1)


if __name__ == "__main__":
    main()
