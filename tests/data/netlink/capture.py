#!/usr/bin/python3
# capture.py - make changes in a network namespace and save every rtnetlink
# notification the kernel sends, one datagram a file, for the unit tests of
# netwatch-linux.c.  Run by capture.sh inside a throwaway namespace (it runs
# "ip" there); a developer tool, not needed by "make check".
#
# usage: capture.py OUTDIR
# Prints one line per datagram: file, then each message in it.

import os
import select
import socket
import struct
import subprocess
import sys
import time

# the groups natmapd joins (linux/rtnetlink.h)
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
GROUPS = (RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE |
          RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE)

# Every message must have arrived by then: IPv6 DAD waits up to
# rtr_solicit_delay (1 s) and then retrans_time (1 s).
WINDOW = 3.0

# (file stem, command): each run alone, its notifications saved as
# NN-stem-K.bin.  The namespace starts with lo down.  nw0 is natmapd's
# interface, nw1 its veth peer (the "gateway" side, whose state decides
# nw0's carrier).
STEPS = [
    ("lo-up", "ip link set lo up"),
    ("link-add", "ip link add nw0 type veth peer name nw1"),
    ("peer-up", "ip link set nw1 up"),
    ("link-up", "ip link set nw0 up"),
    ("addr-add-v4", "ip addr add 192.168.90.2/24 dev nw0"),
    ("route-add-default-v4", "ip route add default via 192.168.90.1"),
    # default routes elsewhere: policy tables (51820 is above rtm_table's
    # 8 bits), and one of another type in the main table
    ("route-add-default-table",
     "ip route add default via 192.168.90.1 table 100"),
    ("route-add-default-table-big",
     "ip route add default via 192.168.90.1 table 51820"),
    ("route-add-unreachable", "ip route add unreachable default metric 4000"),
    ("route-del-unreachable", "ip route del unreachable default metric 4000"),
    ("route-add-net-v4", "ip route add 10.9.0.0/16 via 192.168.90.1"),
    ("route-del-net-v4", "ip route del 10.9.0.0/16"),
    ("route-del-default-v4", "ip route del default"),
    ("addr-add-v6-linklocal", "ip addr add fe80::90:2/64 dev nw0"),
    ("addr-add-v6", "ip addr add 2001:db8::2/64 dev nw0"),
    ("route-add-default-v6", "ip -6 route add default via 2001:db8::1"),
    ("route-del-default-v6", "ip -6 route del default"),
    ("addr-del-v6", "ip addr del 2001:db8::2/64 dev nw0"),
    ("addr-del-v4", "ip addr del 192.168.90.2/24 dev nw0"),
    # back to a configured link, to see what going down tells
    ("readd-addr-v4", "ip addr add 192.168.90.2/24 dev nw0"),
    ("readd-default-v4", "ip route add default via 192.168.90.1"),
    ("readd-addr-v6", "ip addr add 2001:db8::2/64 dev nw0 nodad"),
    ("readd-default-v6", "ip -6 route add default via 2001:db8::1"),
    ("carrier-down", "ip link set nw1 down"),
    ("carrier-up", "ip link set nw1 up"),
    ("link-down", "ip link set nw0 down"),
    ("link-del", "ip link del nw0"),
]

TYPES = {16: "NEWLINK", 17: "DELLINK", 20: "NEWADDR", 21: "DELADDR",
         24: "NEWROUTE", 25: "DELROUTE", 1: "NOOP", 2: "ERROR", 3: "DONE"}
RTN = {1: "unicast", 2: "local", 3: "broadcast", 4: "anycast",
       5: "multicast", 6: "blackhole", 7: "unreachable"}
FAM = {0: "unspec", 2: "inet", 10: "inet6", 7: "bridge"}


def attrs(buf):
    """(type, payload) of each rtattr in buf."""
    out = []
    while len(buf) >= 4:
        ln, ty = struct.unpack_from("=HH", buf)
        if ln < 4 or ln > len(buf):
            break
        out.append((ty & 0x3fff, buf[4:ln]))
        buf = buf[(ln + 3) & ~3:]
    return out


def addr_str(fam, b):
    try:
        return socket.inet_ntop(socket.AF_INET if fam == 2 else
                                socket.AF_INET6, b)
    except (ValueError, OSError):
        return b.hex()


def describe(msg):
    ln, ty, fl, seq, pid = struct.unpack_from("=IHHII", msg)
    body = msg[16:ln]
    name = TYPES.get(ty, str(ty))
    if ty in (24, 25):
        fam, dl, sl, tos, table, proto, scope, rtype, flags = \
            struct.unpack_from("=BBBBBBBBI", body)
        a = dict(attrs(body[12:]))
        if 15 in a:
            table = struct.unpack("=I", a[15])[0]
        dst = addr_str(fam, a[1]) if 1 in a else "default"
        return "%s %s %s/%d table %d type %s scope %d" % (
            name, FAM.get(fam, fam), dst, dl, table,
            RTN.get(rtype, rtype), scope)
    if ty in (20, 21):
        fam, plen, flags, scope, index = struct.unpack_from("=BBBBI", body)
        a = dict(attrs(body[8:]))
        if 8 in a:
            flags = struct.unpack("=I", a[8])[0]
        local = a.get(2, a.get(1))
        return "%s %s %s/%d scope %d flags 0x%x if %d" % (
            name, FAM.get(fam, fam),
            addr_str(fam, local) if local else "-", plen, scope, flags,
            index)
    if ty in (16, 17):
        fam, _, itype, index, flags, change = \
            struct.unpack_from("=BBHiII", body)
        a = dict(attrs(body[16:]))
        ifname = a.get(3, b"?").rstrip(b"\0").decode(errors="replace")
        return "%s %s %s if %d flags 0x%x change 0x%x" % (
            name, FAM.get(fam, fam), ifname, index, flags, change)
    return name


def main():
    out = sys.argv[1]
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                      socket.NETLINK_ROUTE)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((0, GROUPS))
    for n, (stem, cmd) in enumerate(STEPS, 1):
        print("== %02d %s: %s" % (n, stem, cmd))
        subprocess.run(cmd.split(), check=True)
        k = 0
        end = time.monotonic() + WINDOW
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                break
            data, (pid, groups) = s.recvfrom(65536)
            if pid != 0:
                continue
            k += 1
            path = os.path.join(out, "%02d-%s-%d.bin" % (n, stem, k))
            with open(path, "wb") as f:
                f.write(data)
            off, descs = 0, []
            while off + 16 <= len(data):
                ln = struct.unpack_from("=I", data, off)[0]
                if ln < 16 or off + ln > len(data):
                    break
                descs.append(describe(data[off:off + ln]))
                off += (ln + 3) & ~3
            print("%s (%d bytes, group 0x%x): %s" % (
                os.path.basename(path), len(data), groups,
                "; ".join(descs)))
        sys.stdout.flush()


main()
