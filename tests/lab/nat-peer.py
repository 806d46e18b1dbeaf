#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""nat-peer.py - the three parties of a NAT binding test in the natmapd lab:
the LAN host that holds a binding, the peer it talks to, and a stranger who
knocks on the binding's public port (see lab_nat_mode in tests/lab/lab.sh).

usage: nat-peer.py host udp|tcp PORT PEER_ADDR PEER_PORT [-e SECONDS] [-q]
       nat-peer.py peer ADDR PORT
       nat-peer.py knock udp|tcp ADDR PORT TOKEN [-b ADDR] [-t SECONDS]
       nat-peer.py watch ADDR PORT LOG [-b ADDR] [-i SECONDS] [-t SECONDS]

host   The LAN host.  UDP: one socket bound to PORT.  TCP: a listening socket
       and a socket connected to the peer, both bound to PORT with
       SO_REUSEADDR and SO_REUSEPORT (how a STUN-kept TCP binding is made).
       Sends "hello N" to the peer (UDP: a datagram; TCP: a line on the
       connection) at start, every SECONDS with -e, and at each SIGUSR1;
       prints "sent N MS" after each, MS being milliseconds since the epoch.
       Prints "listening" once set up (TCP: connected).  Prints
       "got ADDR:PORT TEXT" for every datagram or line it receives: the
       peer's "seen ..." answers, and knocks.  A knock ("knock TOKEN": a
       datagram, or the first line of an inbound connection) is answered
       "natmapd-lab lan PROTO PORT from ADDR:PORT" unless -q: a quiet host
       sends nothing but its hellos, so knocks never refresh its binding.
       Exits when the connection to the peer is lost (TCP), after 600 s,
       or on SIGTERM.
peer   The peer on the internet side: on ADDR:PORT, UDP and TCP, answers
       every datagram and every line with "seen ADDR:PORT" (where it came
       from); prints "from ADDR:PORT TEXT" for each.  600 s at most.
knock  The stranger: from a new socket (bound to ADDR -b, a fresh port),
       sends "knock TOKEN" to ADDR:PORT (UDP: again every 0.5 s; TCP: on a
       new connection) and prints "knock from ADDR:PORT", then the answer.
       Exit 0 when an answer came, 1 when refused (ICMP port unreachable,
       TCP reset), 2 on timeout (-t, default 2 s), 3 when a TCP connection
       closed without an answer.
watch  Knocks (UDP) on ADDR:PORT every SECONDS (-i, default 0.25) from a new
       port each time, until a knock is not delivered; a knock is delivered
       when the quiet host's LOG shows it within that interval.  Prints
       "open TOKEN MS" or "closed TOKEN MS" (refused, or not in LOG) per
       knock.  Exit 0 when a knock was not delivered, 2 when -t SECONDS
       (default 15) passed with every knock delivered.

Standard library only; every wait is bounded.
"""

import argparse
import errno
import os
import selectors
import signal
import socket
import sys
import time

LIFETIME = 600          # s: no process of this script outlives a test run


def now_ms():
    return int(time.time() * 1000)


def say(*words):
    print(*words, flush=True)


def text(data):
    return data.decode("utf-8", "replace").strip().replace("\n", " ")


def endpoint(addr):
    return "%s:%d" % addr[:2]


def reusable(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return s


def read_line(conn, timeout):
    """One line (or what came before EOF) from conn within timeout."""
    conn.settimeout(timeout)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buf and len(buf) < 512:
            conn.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = conn.recv(512)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    return buf.split(b"\n", 1)[0]


def host(args):
    proto, port = args.proto, args.port
    peer = (args.peer_addr, args.peer_port)
    sel = selectors.DefaultSelector()
    rfd, wfd = socket.socketpair()
    rfd.setblocking(False)
    wfd.setblocking(False)
    signal.set_wakeup_fd(wfd.fileno())
    pending = [0]

    def on_usr1(signum, frame):
        pending[0] += 1
    signal.signal(signal.SIGUSR1, on_usr1)
    sel.register(rfd, selectors.EVENT_READ, "wakeup")

    lsock = None
    if proto == "udp":
        sock = reusable(socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", port))
        sel.register(sock, selectors.EVENT_READ, "udp")
    else:
        lsock = reusable(socket.SOCK_STREAM)
        lsock.bind(("0.0.0.0", port))
        lsock.listen(16)
        sel.register(lsock, selectors.EVENT_READ, "accept")
        sock = reusable(socket.SOCK_STREAM)
        sock.bind(("0.0.0.0", port))
        sock.settimeout(3)
        try:
            sock.connect(peer)
        except OSError as e:
            say("connect %s: %s" % (endpoint(peer), e))
            return 1
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, "peer")

    count = [0]

    def hello():
        count[0] += 1
        msg = b"hello %d" % count[0]
        try:
            if proto == "udp":
                sock.sendto(msg, peer)
            else:
                sock.sendall(msg + b"\n")
        except OSError as e:
            say("send %d: %s" % (count[0], e))
            return
        say("sent %d %d" % (count[0], now_ms()))

    def answer(to, send):
        if not args.quiet:
            send(b"natmapd-lab lan %s %d from %s\n" %
                 (proto.encode(), port, endpoint(to).encode()))

    hello()
    say("listening")
    deadline = time.monotonic() + LIFETIME
    next_hello = time.monotonic() + args.every if args.every else None
    tcpbuf = b""
    while True:
        now = time.monotonic()
        if now >= deadline:
            return 0
        wait = deadline - now
        if next_hello is not None:
            if now >= next_hello:
                hello()
                next_hello += args.every
                continue
            wait = min(wait, next_hello - now)
        for key, _ in sel.select(wait):
            what = key.data
            if what == "wakeup":
                try:
                    rfd.recv(64)
                except OSError:
                    pass
                while pending[0] > 0:
                    pending[0] -= 1
                    hello()
            elif what == "udp":
                try:
                    data, src = sock.recvfrom(2048)
                except OSError:
                    continue
                say("got %s %s" % (endpoint(src), text(data)))
                if data.startswith(b"knock "):
                    answer(src, lambda m, s=src: sock.sendto(m.rstrip(), s))
            elif what == "accept":
                try:
                    conn, src = lsock.accept()
                except OSError:
                    continue
                line = read_line(conn, 2)
                say("got %s %s" % (endpoint(src), text(line)))
                if line.startswith(b"knock "):
                    try:
                        answer(src, conn.sendall)
                    except OSError:
                        pass
                conn.close()
            elif what == "peer":
                try:
                    chunk = sock.recv(2048)
                except BlockingIOError:
                    continue
                except OSError as e:
                    say("peer connection lost: %s" % e)
                    return 1
                if not chunk:
                    say("peer connection closed")
                    return 1
                tcpbuf += chunk
                while b"\n" in tcpbuf:
                    line, tcpbuf = tcpbuf.split(b"\n", 1)
                    say("got %s %s" % (endpoint(peer), text(line)))


def peer(args):
    sel = selectors.DefaultSelector()
    u = reusable(socket.SOCK_DGRAM)
    u.bind((args.addr, args.port))
    t = reusable(socket.SOCK_STREAM)
    t.bind((args.addr, args.port))
    t.listen(16)
    t.setblocking(False)
    sel.register(u, selectors.EVENT_READ, "udp")
    sel.register(t, selectors.EVENT_READ, "accept")
    bufs = {}
    say("listening")
    deadline = time.monotonic() + LIFETIME
    while time.monotonic() < deadline:
        for key, _ in sel.select(deadline - time.monotonic()):
            if key.data == "udp":
                try:
                    data, src = u.recvfrom(2048)
                except OSError:
                    continue
                say("from %s %s" % (endpoint(src), text(data)))
                try:
                    u.sendto(b"seen " + endpoint(src).encode(), src)
                except OSError:
                    pass
            elif key.data == "accept":
                try:
                    conn, src = t.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                bufs[conn] = (src, b"")
                sel.register(conn, selectors.EVENT_READ, "conn")
            else:
                conn = key.fileobj
                src, buf = bufs[conn]
                try:
                    chunk = conn.recv(2048)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    say("closed %s" % endpoint(src))
                    sel.unregister(conn)
                    del bufs[conn]
                    conn.close()
                    continue
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    say("from %s %s" % (endpoint(src), text(line)))
                    try:
                        conn.sendall(b"seen " + endpoint(src).encode() +
                                     b"\n")
                    except OSError:
                        pass
                bufs[conn] = (src, buf)
    return 0


def refused(e):
    return isinstance(e, ConnectionRefusedError) or \
        getattr(e, "errno", None) in (errno.ECONNREFUSED, errno.ECONNRESET)


def knock_udp(target, bind, token, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    s.connect(target)
    say("knock from %s" % endpoint(s.getsockname()))
    msg = b"knock " + token.encode()
    deadline = time.monotonic() + timeout
    next_send = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= deadline:
            say("timeout")
            return 2
        try:
            if now >= next_send:
                s.send(msg)
                next_send = now + 0.5
            s.settimeout(max(0.01, min(deadline, next_send) - now))
            data = s.recv(2048)
        except socket.timeout:
            continue
        except OSError as e:
            if refused(e):
                say("refused")
                return 1
            raise
        say(text(data))
        return 0


def knock_tcp(target, bind, token, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((bind, 0))
    say("knock from %s" % endpoint(s.getsockname()))
    s.settimeout(timeout)
    try:
        s.connect(target)
    except socket.timeout:
        say("timeout")
        return 2
    except OSError as e:
        if refused(e):
            say("refused")
            return 1
        raise
    try:
        s.sendall(b"knock " + token.encode() + b"\n")
    except OSError as e:
        say("send: %s" % e)
        return 3
    line = read_line(s, timeout)
    if not line:
        say("no answer")
        return 3
    say(text(line))
    return 0


def knock(args):
    target = (args.addr, args.port)
    if args.proto == "udp":
        return knock_udp(target, args.bind, args.token, args.timeout)
    return knock_tcp(target, args.bind, args.token, args.timeout)


def delivered(log, needle, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(log, "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def watch(args):
    target = (args.addr, args.port)
    deadline = time.monotonic() + args.timeout
    n = 0
    while time.monotonic() < deadline:
        n += 1
        token = "w%d-%d" % (os.getpid(), n)
        started = time.monotonic()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((args.bind, 0))
        s.connect(target)
        sent = now_ms()
        state = None
        try:
            s.send(b"knock " + token.encode())
            s.settimeout(0.02)
            s.recv(2048)
        except socket.timeout:
            pass
        except OSError as e:
            if refused(e):
                state = "closed"
        s.close()
        if state is None:
            needle = (" knock %s\n" % token).encode()
            state = "open" if delivered(args.log, needle, args.interval) \
                else "closed"
        say("%s %s %d" % (state, token, sent))
        if state == "closed":
            return 0
        rest = args.interval - (time.monotonic() - started)
        if rest > 0:
            time.sleep(rest)
    return 2


def main():
    ap = argparse.ArgumentParser(description="NAT binding test parties")
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("host")
    h.add_argument("proto", choices=("udp", "tcp"))
    h.add_argument("port", type=int)
    h.add_argument("peer_addr")
    h.add_argument("peer_port", type=int)
    h.add_argument("-e", "--every", type=float, default=0)
    h.add_argument("-q", "--quiet", action="store_true")
    p = sub.add_parser("peer")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    k = sub.add_parser("knock")
    k.add_argument("proto", choices=("udp", "tcp"))
    k.add_argument("addr")
    k.add_argument("port", type=int)
    k.add_argument("token")
    k.add_argument("-b", "--bind", default="0.0.0.0")
    k.add_argument("-t", "--timeout", type=float, default=2)
    w = sub.add_parser("watch")
    w.add_argument("addr")
    w.add_argument("port", type=int)
    w.add_argument("log")
    w.add_argument("-b", "--bind", default="0.0.0.0")
    w.add_argument("-i", "--interval", type=float, default=0.25)
    w.add_argument("-t", "--timeout", type=float, default=15)
    args = ap.parse_args()
    for name in ("timeout", "interval", "every"):
        v = getattr(args, name, None)
        if v is not None and not 0 <= v <= 60:
            ap.error("%s must be in [0, 60]" % name)
    return {"host": host, "peer": peer, "knock": knock,
            "watch": watch}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
