#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""stun-probe.py - a small STUN Binding client for the natmapd test lab.

usage: stun-probe.py [-b ADDR] [-p PORT] [-c ip|port|both] [-t SECONDS] [-v]
                     SERVER[:PORT]...

Sends a Binding request (RFC 8489) from one UDP socket, bound to ADDR:PORT
(default: any address, an ephemeral port), to each SERVER in turn (port 3478
unless given) and prints, one line per server, the XOR-MAPPED-ADDRESS of the
answer as ADDR:PORT, or "timeout" when no acceptable answer came within
SECONDS (default 2; requests are retransmitted after 0.25, 0.5, 1 s, ...).
-c adds a CHANGE-REQUEST attribute (RFC 5780): the answer should come from
the server's other address, other port, or both.  With -v each answer line
is followed by "origin A:P" (RESPONSE-ORIGIN), "other A:P" (OTHER-ADDRESS)
when the server sent them, and "from A:P", where the datagram came from.

Answers that are not acceptable are discarded (a client must not believe
them) with one line on stderr, "discarded REASON from A:P", REASON one of:
short, not-stun, wrong-cookie, wrong-transaction-id, not-success,
bad-length, truncated-attribute, bad-fingerprint, no-mapped-address.
An error response prints "error CODE REASON" instead of an address.

Exit status: 0 when every server answered, 1 otherwise, 2 on a usage error.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time
import zlib

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
ATTR_MAPPED_ADDRESS = 0x0001
ATTR_CHANGE_REQUEST = 0x0003
ATTR_ERROR_CODE = 0x0009
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_RESPONSE_ORIGIN = 0x802B
ATTR_OTHER_ADDRESS = 0x802C
ATTR_FINGERPRINT = 0x8028
FINGERPRINT_XOR = 0x5354554E

CHANGE_FLAGS = {"ip": 0x4, "port": 0x2, "both": 0x6}


class Discard(Exception):
    """An answer a client must not accept; the argument is the reason."""


def request(tid, change):
    attrs = b""
    if change:
        attrs = struct.pack("!HHI", ATTR_CHANGE_REQUEST, 4, CHANGE_FLAGS[change])
    return struct.pack("!HHI", BINDING_REQUEST, len(attrs), MAGIC) + tid + attrs


def plain_address(value):
    """MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS: IPv4 only here."""
    if len(value) != 8 or value[1] != 1:
        return None
    port, = struct.unpack("!H", value[2:4])
    return "%s:%d" % (socket.inet_ntoa(value[4:8]), port)


def xor_address(value):
    if len(value) != 8 or value[1] != 1:
        return None
    port, addr = struct.unpack("!HI", value[2:8])
    port ^= MAGIC >> 16
    addr ^= MAGIC
    return "%s:%d" % (socket.inet_ntoa(struct.pack("!I", addr)), port)


def parse(msg, tid):
    """Return a dict of the answer's addresses, or raise Discard."""
    if len(msg) < 20:
        raise Discard("short")
    mtype, length, cookie = struct.unpack("!HHI", msg[:8])
    if mtype & 0xC000:
        raise Discard("not-stun")
    if cookie != MAGIC:
        raise Discard("wrong-cookie")
    if msg[8:20] != tid:
        raise Discard("wrong-transaction-id")
    if mtype not in (BINDING_SUCCESS, BINDING_ERROR):
        raise Discard("not-success")
    if length != len(msg) - 20 or length % 4:
        raise Discard("bad-length")
    out = {}
    off = 20
    end = len(msg)
    while off < end:
        if off + 4 > end:
            raise Discard("truncated-attribute")
        atype, alen = struct.unpack("!HH", msg[off:off + 4])
        if off + 4 + alen > end:
            raise Discard("truncated-attribute")
        value = msg[off + 4:off + 4 + alen]
        if atype == ATTR_FINGERPRINT:
            if alen != 4 or off + 8 != end:
                raise Discard("bad-fingerprint")
            want = (zlib.crc32(msg[:off]) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
            if struct.unpack("!I", value)[0] != want:
                raise Discard("bad-fingerprint")
        elif atype == ATTR_XOR_MAPPED_ADDRESS:
            out.setdefault("mapped", xor_address(value))
        elif atype == ATTR_MAPPED_ADDRESS:
            out.setdefault("plain-mapped", plain_address(value))
        elif atype == ATTR_RESPONSE_ORIGIN:
            out["origin"] = plain_address(value)
        elif atype == ATTR_OTHER_ADDRESS:
            out["other"] = plain_address(value)
        elif atype == ATTR_ERROR_CODE and alen >= 4:
            out["error"] = "%d %s" % (value[2] % 8 * 100 + value[3],
                                      value[4:].decode("utf-8", "replace").rstrip("\0"))
        off += 4 + (alen + 3) // 4 * 4
    if mtype == BINDING_ERROR:
        out.setdefault("error", "unknown")
        return out
    if not out.get("mapped"):
        out["mapped"] = out.get("plain-mapped")
    if not out["mapped"]:
        raise Discard("no-mapped-address")
    return out


def probe(sock, server, change, timeout, verbose):
    tid = os.urandom(12)
    msg = request(tid, change)
    start = time.monotonic()
    deadline = start + timeout
    next_send = start
    rto = 0.25
    while True:
        now = time.monotonic()
        if now >= deadline:
            print("timeout")
            return False
        if now >= next_send:
            try:
                sock.sendto(msg, server)
            except OSError as e:	# e.g. an ICMP error from an earlier send
                print("stun-probe: sendto %s:%d: %s" % (server + (e,)),
                      file=sys.stderr)
            next_send = now + rto
            rto *= 2
        wait = max(0.0, min(deadline, next_send) - now)
        ready, _, _ = select.select([sock], [], [], wait)
        if not ready:
            continue
        try:
            data, peer = sock.recvfrom(2048)
        except OSError:		# ICMP port unreachable, seen as ECONNREFUSED
            continue
        try:
            ans = parse(data, tid)
        except Discard as e:
            print("discarded %s from %s:%d" % ((e.args[0],) + peer),
                  file=sys.stderr)
            continue
        if "error" in ans:
            print("error %s" % ans["error"])
            return False
        print(ans["mapped"])
        if verbose:
            for k in ("origin", "other"):
                if ans.get(k):
                    print("%s %s" % (k, ans[k]))
            print("from %s:%d" % peer)
        return True


def server_arg(s):
    host, sep, port = s.rpartition(":")
    if not sep:
        host, port = s, "3478"
    try:
        return (socket.inet_aton(host) and host, int(port))
    except (OSError, ValueError):
        raise argparse.ArgumentTypeError("not ADDR[:PORT]: %r" % s)


def main():
    ap = argparse.ArgumentParser(description="STUN Binding probe for the lab")
    ap.add_argument("-b", "--bind", default="0.0.0.0", help="local address")
    ap.add_argument("-p", "--port", type=int, default=0, help="local port")
    ap.add_argument("-c", "--change", choices=sorted(CHANGE_FLAGS),
                    help="CHANGE-REQUEST: other ip, other port, or both")
    ap.add_argument("-t", "--timeout", type=float, default=2.0,
                    help="seconds to wait per server (at most 30)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print RESPONSE-ORIGIN, OTHER-ADDRESS, source")
    ap.add_argument("servers", nargs="+", type=server_arg,
                    metavar="SERVER[:PORT]")
    args = ap.parse_args()
    if not 0 < args.timeout <= 30:
        ap.error("timeout must be in (0, 30]")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((args.bind, args.port))
    except OSError as e:
        print("stun-probe: bind %s:%d: %s" % (args.bind, args.port, e),
              file=sys.stderr)
        return 2
    ok = True
    for server in args.servers:
        ok = probe(sock, server, args.change, args.timeout,
                   args.verbose) and ok
        sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
