#!/usr/bin/python3
# capture.py - send UPnP requests to miniupnpd in the lab and save the raw
# bytes (requests as sent, answers as received).  Run inside a lab LAN
# namespace by capture.sh; a developer tool, not needed by "make check".

import os
import socket
import struct
import sys
import time

SSDP_ADDR = "239.255.255.250"
SSDP_PORT = 1900


def save(path, data):
    with open(path, "wb") as f:
        f.write(data)


def msearch_bytes(st, mx):
    return ("M-SEARCH * HTTP/1.1\r\n"
            "HOST: 239.255.255.250:1900\r\n"
            "MAN: \"ssdp:discover\"\r\n"
            "MX: %d\r\n"
            "ST: %s\r\n"
            "\r\n" % (mx, st)).encode()


def msearch(local_ip, dest, st, mx, wait):
    """Send one M-SEARCH from an ephemeral port; return (request,
    [(delay_s, src, bytes)...]) for everything received within wait s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local_ip, 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                 socket.inet_aton(local_ip))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    req = msearch_bytes(st, mx)
    t0 = time.monotonic()
    s.sendto(req, (dest, SSDP_PORT))
    got = []
    while True:
        left = wait - (time.monotonic() - t0)
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        got.append((time.monotonic() - t0, src, data))
    s.close()
    return req, got


def cmd_msearch(argv):
    # msearch LOCAL_IP DEST ST MX WAIT OUTPREFIX
    local_ip, dest, st, mx, wait, out = argv
    req, got = msearch(local_ip, dest, st, int(mx), float(wait))
    save(out + ".req", req)
    for i, (delay, src, data) in enumerate(got):
        name = out + ".resp" if i == 0 else "%s.resp%d" % (out, i + 1)
        save(name, data)
        print("%.3f %s:%d %s" % (delay, src[0], src[1], name))
    if not got:
        print("no answer", file=sys.stderr)
        return 1
    return 0


def cmd_timing(argv):
    # timing LOCAL_IP DEST ST MX COUNT: delay of the first answer, COUNT times
    local_ip, dest, st, mx, count = argv
    delays = []
    for _ in range(int(count)):
        _, got = msearch(local_ip, dest, st, int(mx), int(mx) + 2.0)
        delays.append(got[0][0] if got else None)
    print(" ".join("%.0f" % (d * 1000) if d is not None else "none"
                   for d in delays))
    return 0


def cmd_listen(argv):
    # listen LOCAL_IP SECONDS OUTPREFIX READYFILE: record SSDP multicast
    # (NOTIFY) from the router, one file per datagram
    local_ip, seconds, out, ready = argv
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", SSDP_PORT))
    mreq = struct.pack("4s4s", socket.inet_aton(SSDP_ADDR),
                       socket.inet_aton(local_ip))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    open(ready, "w").close()
    t0 = time.monotonic()
    n = 0
    while True:
        left = float(seconds) - (time.monotonic() - t0)
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        if src[0] == local_ip or not data.startswith(b"NOTIFY"):
            continue
        n += 1
        name = "%s-%02d.bin" % (out, n)
        save(name, data)
        print("%.3f %s:%d %s" % (time.monotonic() - t0, src[0], src[1], name))
    return 0


def http_exchange(host, port, req, timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(req)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        chunks.append(b)
    s.close()
    return b"".join(chunks)


def cmd_get(argv):
    # get HOST PORT PATH OUTPREFIX
    host, port, path, out = argv
    req = ("GET %s HTTP/1.1\r\n"
           "Host: %s:%s\r\n"
           "Connection: close\r\n"
           "\r\n" % (path, host, port)).encode()
    resp = http_exchange(host, int(port), req)
    save(out + ".req", req)
    save(out + ".resp", resp)
    print(resp.split(b"\r\n", 1)[0].decode())
    return 0 if resp else 1


def cmd_soap(argv):
    # soap HOST PORT CTLPATH SERVICETYPE ACTION OUTPREFIX [NAME=VALUE...]
    host, port, path, service, action, out = argv[:6]
    args = "".join("<%s>%s</%s>" % (k, v, k)
                   for k, v in (a.split("=", 1) for a in argv[6:]))
    body = ('<?xml version="1.0"?>\r\n'
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
            '<s:Body><u:%s xmlns:u="%s">%s</u:%s></s:Body></s:Envelope>\r\n'
            % (action, service, args, action)).encode()
    head = ("POST %s HTTP/1.1\r\n"
            "Host: %s:%s\r\n"
            "Content-Type: text/xml; charset=\"utf-8\"\r\n"
            "SOAPAction: \"%s#%s\"\r\n"
            "Content-Length: %d\r\n"
            "Connection: close\r\n"
            "\r\n" % (path, host, port, service, action, len(body))).encode()
    req = head + body
    resp = http_exchange(host, int(port), req)
    save(out + ".req", req)
    save(out + ".resp", resp)
    print("%s: %s" % (os.path.basename(out),
                      resp.split(b"\r\n", 1)[0].decode()))
    return 0 if resp else 1


def main():
    cmds = {"msearch": cmd_msearch, "timing": cmd_timing,
            "listen": cmd_listen, "get": cmd_get, "soap": cmd_soap}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print("usage: capture.py %s ..." % "|".join(cmds), file=sys.stderr)
        return 64
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
