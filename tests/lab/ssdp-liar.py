#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""ssdp-liar.py - a LAN host that answers UPnP IGD searches with LOCATIONs
that are not its own, so that the natmapd test lab can show a client that
will not fetch them.

usage: ssdp-liar.py ADDR LOCATION...
       ssdp-liar.py --notify ADDR LOCATION [BOOTID]

Listens on UDP port 1900 in the group 239.255.255.250 on the interface of
ADDR (a local address).  Each M-SEARCH whose ST names an
InternetGatewayDevice (or ssdp:all) gets one unicast answer per LOCATION, in
the order given, as an IGD:1 would send it.  On stdout: "listening" once in
the group, then one line per answer: "answered IP:PORT LOCATION".  Anything else is ignored.  Standard library
only; SIGTERM ends it.

With --notify it sends one NOTIFY ssdp:alive for an IGD:1 from ADDR to
239.255.255.250:1900 naming LOCATION (and BOOTID.UPNP.ORG: BOOTID, if
given), prints "sent NOTIFY", and exits.
"""

import socket
import struct
import sys

GROUP = "239.255.255.250"
PORT = 1900
IGD1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"


def st_of(text):
    for line in text.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "st":
            return value.strip()
    return ""


def answer(location, n):
    return ("HTTP/1.1 200 OK\r\n"
            "CACHE-CONTROL: max-age=120\r\n"
            "ST: " + IGD1 + "\r\n"
            "USN: uuid:00000000-6c69-6172-0000-00000000000%d::%s\r\n"
            "EXT:\r\n"
            "SERVER: Linux UPnP/1.1 liar/1\r\n"
            "LOCATION: %s\r\n"
            "\r\n" % (n, IGD1, location)).encode("ascii")


def notify(addr, location, bootid):
    msg = ("NOTIFY * HTTP/1.1\r\n"
           "HOST: %s:%d\r\n"
           "CACHE-CONTROL: max-age=120\r\n"
           "LOCATION: %s\r\n"
           "SERVER: Linux UPnP/1.1 liar/1\r\n"
           "NT: %s\r\n"
           "USN: uuid:00000000-6c69-6172-0000-000000000009::%s\r\n"
           "NTS: ssdp:alive\r\n" % (GROUP, PORT, location, IGD1, IGD1))
    if bootid is not None:
        msg += "BOOTID.UPNP.ORG: %s\r\n" % bootid
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                 socket.inet_aton(addr))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    s.sendto((msg + "\r\n").encode("ascii"), (GROUP, PORT))
    print("sent NOTIFY")


def main():
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--notify":
        notify(sys.argv[2], sys.argv[3],
               sys.argv[4] if len(sys.argv) == 5 else None)
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    addr, locations = sys.argv[1], sys.argv[2:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", PORT))
    mreq = struct.pack("4s4s", socket.inet_aton(GROUP),
                       socket.inet_aton(addr))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    print("listening", flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        text = data.decode("latin-1")
        if not text.startswith("M-SEARCH "):
            continue
        st = st_of(text)
        if "InternetGatewayDevice" not in st and st != "ssdp:all":
            continue
        for n, loc in enumerate(locations):
            s.sendto(answer(loc, n), peer)
            print("answered %s:%d %s" % (peer[0], peer[1], loc), flush=True)


if __name__ == "__main__":
    main()
