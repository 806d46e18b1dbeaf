#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""traffic.py - data that must arrive intact, and a manual UDP hole punch,
for the natmapd lab's two sites (see LAB_SITES in tests/lab/lab.sh).

usage: traffic.py serve tcp|udp ADDR PORT [-d]
       traffic.py check tcp|udp ADDR PORT [-n N] [-b ADDR] [-p PORT] [-t SECONDS] [-r]
       traffic.py punch LOCAL_ADDR LOCAL_PORT PEER_ADDR PEER_PORT
                  [-i SECONDS] [-t SECONDS] [-l SECONDS]
       traffic.py rtt tcp|udp ADDR PORT [-n N] [-t SECONDS]
       traffic.py flood ADDR PORT [-n N] [-s SIZE] [-w WINDOW] [-t SECONDS]

serve  An echo service on ADDR:PORT (an IPv6 ADDR such as :: takes IPv4
       too): TCP sends back every byte of each connection until the client
       half-closes, UDP sends every datagram back to where it came from.
       Prints "listening" once bound, then "tcp from A:P BYTES" when a
       connection ends, "udp from A:P" per datagram; with -d, "tcp from A:P
       BYTES SHA" and "udp from A:P LEN SHA", SHA being the first 16 hex
       digits of the SHA-256 of what it received (the connection's bytes,
       the datagram): what reached the service.  600 s at most.
check  The client.  TCP: one connection that sends N bytes (default 65536)
       of a pattern made from the time, half-closes, and reads everything
       back; the bytes back must be exactly the bytes sent.  UDP: N
       datagrams (default 20), each with its number and a pattern, sent
       again every 0.2 s until its echo came back intact.  Prints
       "ok BYTES|COUNT MS" (milliseconds from the first byte sent to the
       last byte checked) and exits 0, or prints what went wrong ("mismatch
       at BYTE", "short BYTES of N", "refused", "timeout ...") and exits 1.
       -b/-p bind the client's socket; -t bounds the whole check (default 5).
       -r (TCP): a connection refused or reset before any byte came back
       is made again 0.05 s later, until -t; MS counts from the first
       connect, and "tries N" says how many connections were made.
punch  A UDP hole punch from LOCAL_ADDR:LOCAL_PORT toward PEER_ADDR:PEER_PORT
       with plain datagrams: "punch SEQ HEARD" every -i seconds (default
       0.1), HEARD being 1 once anything came from the peer's exact address
       and port (datagrams from elsewhere are printed, "stray A:P", and
       ignored).  Done when a datagram from the peer came and the peer said
       HEARD=1: both directions pass.  It then keeps sending for -l seconds
       (default 1) so that the peer can finish too, prints "punched MS"
       (from the first datagram sent) and exits 0.  Prints "timeout heard=H
       acked=A" and exits 1 after -t seconds (default 5).

rtt    N round trips (default 200) of a 64-byte message to an echo, one at
       a time: UDP datagrams (one unanswered for 1 s is lost, and the next
       goes), or one TCP connection with Nagle off.  Prints "rtt N MEDIAN_US
       P90_US LOST" (microseconds) and exits 0 when 90% came back intact.
flood  N UDP datagrams (default 20000) of SIZE bytes (default 1200) to an
       echo, at most WINDOW (default 64) unanswered at once; a window that
       stalls 0.2 s is counted lost and refilled.  Prints "flood SENT ECHOED
       MS" (from the first sent to the last echo) and exits 0 when 90% came
       back intact.

Standard library only; every wait is bounded.
"""

import argparse
import errno
import hashlib
import os
import selectors
import socket
import sys
import time

LIFETIME = 600


def say(*words):
    print(*words, flush=True)


def now_ms():
    return int(time.monotonic() * 1000)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sockaddr(addr, port):
    if ":" in addr:
        return (addr, port, 0, 0)
    return (addr, port)


def endpoint(sa):
    host = sa[0]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    if ":" in host:
        return "[%s]:%d" % (host, sa[1])
    return "%s:%d" % (host, sa[1])


def bound_socket(kind, addr, port):
    fam = family_of(addr)
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(sockaddr(addr, port))
    return s


def pattern(seed, n):
    """n bytes that depend on seed and on their offset: a byte lost, added
    or moved shows up as a mismatch."""
    out = bytearray(n)
    x = (seed * 2654435761 + 1) & 0xFFFFFFFF
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def serve(args):
    sel = selectors.DefaultSelector()
    if args.proto == "tcp":
        ls = bound_socket(socket.SOCK_STREAM, args.addr, args.port)
        ls.listen(16)
        ls.setblocking(False)
        sel.register(ls, selectors.EVENT_READ, "listen")
    else:
        us = bound_socket(socket.SOCK_DGRAM, args.addr, args.port)
        us.setblocking(False)
        sel.register(us, selectors.EVENT_READ, "udp")
    say("listening")
    conns = {}
    deadline = time.monotonic() + LIFETIME
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            if key.data == "listen":
                try:
                    c, peer = s.accept()
                except OSError:
                    continue
                c.setblocking(True)
                c.settimeout(10)
                conns[c] = [peer, 0, hashlib.sha256() if args.d else None]
                sel.register(c, selectors.EVENT_READ, "conn")
            elif key.data == "udp":
                try:
                    data, peer = s.recvfrom(65535)
                except OSError:
                    continue
                say("udp from", endpoint(peer), *([len(data), hashlib.sha256(
                    data).hexdigest()[:16]] if args.d else []))
                try:
                    s.sendto(data, peer)
                except OSError:
                    pass
            else:
                try:
                    data = s.recv(65536)
                    if data:
                        conns[s][1] += len(data)
                        if args.d:
                            conns[s][2].update(data)
                        s.sendall(data)
                        continue
                except OSError:
                    pass
                peer, total, digest = conns.pop(s)
                sel.unregister(s)
                s.close()
                say("tcp from", endpoint(peer), total,
                    *([digest.hexdigest()[:16]] if digest else []))
    return 0


RESETS = (errno.ECONNRESET, errno.ECONNREFUSED, errno.EPIPE, errno.ENOTCONN)


def check_tcp(args, deadline):
    """With -r, a connection refused or reset before any byte came back is
    made again 0.05 s later until the deadline; MS from the first connect."""
    data = pattern(os.getpid() ^ now_ms(), args.n)
    t0 = now_ms()
    tries = 0
    while True:
        tries += 1
        rc = check_tcp_once(args, deadline, data, t0)
        if rc != "again":
            if args.r:
                say("tries", tries)
            return rc
        time.sleep(0.05)


def check_tcp_once(args, deadline, data, t0):
    def failed(e, back, *words):
        if args.r and not back and e.errno in RESETS and \
                time.monotonic() + 0.05 < deadline:
            return "again"
        say(*words)
        return 1
    s = socket.socket(family_of(args.addr), socket.SOCK_STREAM)
    if args.bind or args.bind_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(sockaddr(args.bind or ("::" if ":" in args.addr else "0.0.0.0"),
                        args.bind_port))
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        s.connect(sockaddr(args.addr, args.port))
    except socket.timeout:
        say("timeout connecting")
        return 1
    except OSError as e:
        return failed(e, b"", "refused" if e.errno == errno.ECONNREFUSED
                      else "error " + e.strerror)
    s.setblocking(False)
    sent = 0
    back = bytearray()
    shut = False
    while time.monotonic() < deadline:
        events = selectors.EVENT_READ
        if sent < len(data):
            events |= selectors.EVENT_WRITE
        sel = selectors.DefaultSelector()
        sel.register(s, events)
        ready = sel.select(timeout=max(0.01, deadline - time.monotonic()))
        sel.close()
        for _, ev in ready:
            if ev & selectors.EVENT_WRITE and sent < len(data):
                try:
                    sent += s.send(data[sent:sent + 65536])
                except BlockingIOError:
                    pass
                except OSError as e:
                    return failed(e, back, "error sending after", sent,
                                  e.strerror)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    return failed(e, back, "error receiving after",
                                  len(back), e.strerror)
                if not chunk:
                    return tcp_verdict(data, back, t0)
                back += chunk
                if len(back) > len(data):
                    return tcp_verdict(data, back, t0)
        if sent == len(data) and not shut:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError as e:	# reset before the half-close
                return failed(e, back, "error half-closing after",
                              len(back), e.strerror)
            shut = True
    say("timeout: sent", sent, "got back", len(back), "of", len(data))
    return 1


def tcp_verdict(data, back, t0):
    n = min(len(data), len(back))
    for i in range(n):
        if data[i] != back[i]:
            say("mismatch at", i)
            return 1
    if len(back) != len(data):
        say("short" if len(back) < len(data) else "long", len(back), "of", len(data))
        return 1
    say("ok", len(data), now_ms() - t0)
    return 0


def check_udp(args, deadline):
    s = socket.socket(family_of(args.addr), socket.SOCK_DGRAM)
    if args.bind or args.bind_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(sockaddr(args.bind or ("::" if ":" in args.addr else "0.0.0.0"),
                        args.bind_port))
    dst = sockaddr(args.addr, args.port)
    seed = os.getpid() ^ now_ms()
    grams = {i: b"%d " % i + pattern(seed + i, 200) for i in range(args.n)}
    pending = set(grams)
    t0 = now_ms()
    next_send = 0.0
    refused = 0
    s.setblocking(False)
    while pending and time.monotonic() < deadline:
        if time.monotonic() >= next_send:
            for i in sorted(pending):
                try:
                    s.sendto(grams[i], dst)
                except OSError as e:
                    if e.errno != errno.ECONNREFUSED:
                        say("error sending", e.strerror)
                        return 1
                    refused += 1
            next_send = time.monotonic() + 0.2
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_READ)
        ready = sel.select(timeout=max(0.0, min(next_send, deadline) - time.monotonic()))
        sel.close()
        if not ready:
            continue
        try:
            data, peer = s.recvfrom(65535)
        except OSError:
            continue
        if endpoint(peer) != endpoint(dst):
            say("stray", endpoint(peer))
            continue
        num = data.split(b" ", 1)[0]
        if not num.isdigit() or int(num) not in grams:
            say("mismatch: unknown datagram")
            return 1
        if grams[int(num)] != data:
            say("mismatch in datagram", int(num))
            return 1
        pending.discard(int(num))
    if pending:
        say("timeout:", args.n - len(pending), "of", args.n, "echoed")
        return 1
    say("ok", args.n, now_ms() - t0)
    return 0


def check(args):
    deadline = time.monotonic() + args.t
    if args.proto == "tcp":
        return check_tcp(args, deadline)
    return check_udp(args, deadline)


def punch(args):
    s = bound_socket(socket.SOCK_DGRAM, args.local_addr, args.local_port)
    s.setblocking(False)
    peer = sockaddr(args.peer_addr, args.peer_port)
    want = endpoint(peer)
    heard = acked = False
    t0 = now_ms()
    deadline = time.monotonic() + args.t
    done_at = None
    seq = 0
    next_send = 0.0
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if done_at is not None and time.monotonic() >= done_at:
            say("punched", punched_ms)
            return 0
        if time.monotonic() >= next_send:
            seq += 1
            try:
                s.sendto(b"punch %d %d" % (seq, 1 if heard else 0), peer)
            except OSError:
                pass	# an ICMP error from an earlier datagram
            next_send = time.monotonic() + args.i
        for _ in sel.select(timeout=max(0.0, next_send - time.monotonic())):
            try:
                data, src = s.recvfrom(2048)
            except OSError:
                continue
            if endpoint(src) != want:
                say("stray", endpoint(src))
                continue
            words = data.split()
            if len(words) != 3 or words[0] != b"punch":
                say("stray", endpoint(src))
                continue
            if not heard:
                say("heard", want, now_ms() - t0)
                heard = True
            if words[2] == b"1" and not acked:
                say("acked", now_ms() - t0)
                acked = True
            if heard and acked and done_at is None:
                punched_ms = now_ms() - t0
                done_at = time.monotonic() + args.l
    say("timeout heard=%d acked=%d" % (heard, acked))
    return 1


def rtt(args):
    deadline = time.monotonic() + args.t
    kind = socket.SOCK_STREAM if args.proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family_of(args.addr), kind)
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        s.connect(sockaddr(args.addr, args.port))
    except OSError as e:
        say("connect:", e.strerror)
        return 1
    if kind == socket.SOCK_STREAM:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    lost = 0
    for i in range(args.n):
        if time.monotonic() >= deadline:
            break
        msg = (b"%08d " % i + pattern(i, 64))[:64]
        t0 = time.perf_counter_ns()
        try:
            s.settimeout(max(0.01, min(1.0, deadline - time.monotonic())))
            s.sendall(msg) if kind == socket.SOCK_STREAM else s.send(msg)
            got = b""
            while len(got) < len(msg):
                part = s.recv(len(msg) - len(got) if kind == socket.SOCK_STREAM else 2048)
                if not part:
                    say("closed")
                    return 1
                if kind == socket.SOCK_DGRAM and part[:8] != msg[:8]:
                    continue	# a late echo of a round trip counted lost
                got += part
        except socket.timeout:
            lost += 1
            if kind == socket.SOCK_STREAM:
                break
            continue
        except OSError as e:
            say("error:", e.strerror)
            return 1
        if got != msg:
            say("mismatch in round trip", i)
            return 1
        times.append((time.perf_counter_ns() - t0) // 1000)
    if not times:
        say("timeout: no round trip")
        return 1
    times.sort()
    say("rtt", len(times), times[len(times) // 2], times[len(times) * 9 // 10], lost)
    return 0 if len(times) * 10 >= args.n * 9 else 1


def flood(args):
    deadline = time.monotonic() + args.t
    s = socket.socket(family_of(args.addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.connect(sockaddr(args.addr, args.port))
    s.setblocking(False)
    body = pattern(os.getpid(), args.s)
    out = {}
    sent = echoed = 0
    t0 = time.monotonic()
    last = t0
    stall = t0
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    while (sent < args.n or out) and time.monotonic() < deadline:
        while sent < args.n and len(out) < args.w:
            msg = (b"%08d " % sent + body)[:args.s]
            try:
                s.send(msg)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno != errno.ECONNREFUSED:
                    say("error sending", e.strerror)
                    return 1
            out[sent] = msg
            sent += 1
        if not sel.select(timeout=0.05):
            if time.monotonic() - stall >= 0.2:
                out.clear()	# lost: refill the window
                stall = time.monotonic()
            continue
        while True:
            try:
                data = s.recv(65535)
            except (BlockingIOError, ConnectionRefusedError):
                break
            num = data[:8]
            if not num.isdigit() or int(num) not in out:
                continue	# late, after its window was counted lost
            if out.pop(int(num)) != data:
                say("mismatch in datagram", int(num))
                return 1
            echoed += 1
            last = stall = time.monotonic()
    say("flood", sent, echoed, int((last - t0) * 1000))
    return 0 if echoed * 10 >= args.n * 9 else 1


def main():
    ap = argparse.ArgumentParser(description="lab traffic: echo, check, punch")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("proto", choices=("tcp", "udp"))
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("-d", action="store_true")
    p = sub.add_parser("check")
    p.add_argument("proto", choices=("tcp", "udp"))
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("-n", type=int, default=None)
    p.add_argument("-b", dest="bind", default="")
    p.add_argument("-p", dest="bind_port", type=int, default=0)
    p.add_argument("-t", type=float, default=5.0)
    p.add_argument("-r", action="store_true")
    p = sub.add_parser("punch")
    p.add_argument("local_addr")
    p.add_argument("local_port", type=int)
    p.add_argument("peer_addr")
    p.add_argument("peer_port", type=int)
    p.add_argument("-i", type=float, default=0.1)
    p.add_argument("-t", type=float, default=5.0)
    p.add_argument("-l", type=float, default=1.0)
    p = sub.add_parser("rtt")
    p.add_argument("proto", choices=("tcp", "udp"))
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("-n", type=int, default=200)
    p.add_argument("-t", type=float, default=30.0)
    p = sub.add_parser("flood")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("-n", type=int, default=20000)
    p.add_argument("-s", type=int, default=1200)
    p.add_argument("-w", type=int, default=64)
    p.add_argument("-t", type=float, default=60.0)
    args = ap.parse_args()
    if args.cmd in ("rtt", "flood"):
        if not 1 <= args.n <= 1000000 or not 0 < args.t <= 600:
            ap.error("-n 1-1000000, -t 0-600 seconds")
        if args.cmd == "rtt":
            return rtt(args)
        if not 16 <= args.s <= 8192 or not 1 <= args.w <= 4096:
            ap.error("-s 16-8192 bytes, -w 1-4096")
        return flood(args)
    if args.cmd == "serve":
        return serve(args)
    if args.cmd == "check":
        if args.n is None:
            args.n = 65536 if args.proto == "tcp" else 20
        if args.n < 1 or args.n > 1 << 26:
            ap.error("-n: 1 to 67108864")
        return check(args)
    if not 0 < args.i <= 5 or not 0 < args.t <= 600 or not 0 <= args.l <= 10:
        ap.error("-i 0-5, -t 0-600, -l 0-10 seconds")
    return punch(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(1)
