#!/usr/bin/python3
# capture-pcp.py - capture miniupnpd's PCP (RFC 6887) and NAT-PMP (RFC 6886)
# answers in the lab of tests/lab/lab.sh and save the raw bytes (requests as
# sent, *.req; answers as received, *.bin).  A developer tool, not needed by
# "make check".  Run as root:
#
#   sudo python3 tests/data/miniupnpd-2.3.1/capture-pcp.py [OUTDIR]
#
# Without a subcommand it builds the lab (bash, tests/lab/lab.sh: lab_init,
# lab_router_start, trap lab_down EXIT) and runs itself inside the LAN
# namespaces with the subcommands below; every wait is bounded.  Traffic
# stays in the lab: 192.168.77.0/24 and 224.0.0.1 inside the namespaces.
# The requests are encoded here, independently of src/pcp-msg.c, so that
# tests/unit/test-pcp-msg.c can check natmapd's encoder against them.

import os
import select
import socket
import struct
import subprocess
import sys
import time

PCP_PORT = 5351
ANNOUNCE_PORT = 5350
ALL_HOSTS = "224.0.0.1"
WAIT = 2.0			# seconds to wait for one answer

# fixed nonces, so that a test can rebuild the requests byte for byte
NONCES = {"n1": b"natmapd-pcp1", "n2": b"natmapd-pcp2",
          "lan2": b"natmapd-lan2"}


def save(path, data):
    with open(path, "wb") as f:
        f.write(data)


def mapped(ip):
    """IPv4 address as an IPv4-mapped IPv6 address (16 bytes)."""
    return b"\0" * 10 + b"\xff\xff" + socket.inet_aton(ip)


def pcp_header(version, opcode, lifetime, client):
    # RFC 6887 figure 2: version, R=0|opcode, 16 reserved bits, requested
    # lifetime, PCP client's IP address
    return struct.pack("!BBHI", version, opcode & 0x7f, 0, lifetime) + \
        mapped(client)


def pcp_map_data(nonce, proto, iport, eport, eaddr):
    # RFC 6887 figure 9: nonce, protocol, 24 reserved bits, internal port,
    # suggested external port, suggested external address
    return nonce + struct.pack("!B3sHH", proto, b"\0\0\0", iport, eport) + \
        mapped(eaddr)


def pcp_option(code, data):
    # RFC 6887 figure 4: code, reserved, length, data padded to 4
    pad = b"\0" * (-len(data) % 4)
    return struct.pack("!BBH", code, 0, len(data)) + data + pad


PCP_RESULTS = ["SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED",
               "MALFORMED_REQUEST", "UNSUPP_OPCODE", "UNSUPP_OPTION",
               "MALFORMED_OPTION", "NETWORK_FAILURE", "NO_RESOURCES",
               "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
               "ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS"]
NATPMP_RESULTS = ["Success", "Unsupported Version", "Not Authorized/Refused",
                  "Network Failure", "Out of resources", "Unsupported opcode"]


def describe(b):
    """One line about an answer, for the log that README.txt is made from."""
    if len(b) < 2:
        return "%d bytes" % len(b)
    if b[0] == 0 and len(b) >= 8:
        res, epoch = struct.unpack("!HI", b[2:8])
        name = NATPMP_RESULTS[res] if res < len(NATPMP_RESULTS) else "?"
        s = "NAT-PMP op %d result %d (%s) epoch %d" % (b[1], res, name, epoch)
        if b[1] == 128 and len(b) >= 12:
            s += " addr %s" % socket.inet_ntoa(b[8:12])
        if b[1] in (129, 130) and len(b) >= 16:
            ip, ep, lt = struct.unpack("!HHI", b[8:16])
            s += " iport %d eport %d lifetime %d" % (ip, ep, lt)
        return s + " [%d bytes]" % len(b)
    if len(b) >= 24:
        res = b[3]
        lifetime, epoch = struct.unpack("!II", b[4:12])
        name = PCP_RESULTS[res] if res < len(PCP_RESULTS) else "?"
        s = "PCP v%d op 0x%02x result %d (%s) lifetime %d epoch %d" % (
            b[0], b[1], res, name, lifetime, epoch)
        if b[2] != 0 or any(b[12:24]):
            s += " reserved-bits-set"
        if (b[1] & 0x7f) == 1 and len(b) >= 60:
            proto = b[36]
            ip, ep = struct.unpack("!HH", b[40:44])
            s += " nonce %r proto %d iport %d eport %d ext %s" % (
                b[24:36], proto, ip, ep,
                socket.inet_ntop(socket.AF_INET6, b[44:60]))
            if len(b) > 60:
                s += " options %s" % b[60:].hex()
        return s + " [%d bytes]" % len(b)
    return "%d bytes: %s" % (len(b), b.hex())


def exchange(local_ip, server, req, out):
    """Send req once from an ephemeral port (a connected socket, so that an
    ICMP port unreachable shows), wait WAIT s for the answer, save both."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local_ip, 0))
    s.connect((server, PCP_PORT))
    s.settimeout(WAIT)
    t0 = time.monotonic()
    s.send(req)
    try:
        resp = s.recv(2048)
    except socket.timeout:
        print("%s: no answer within %.0f s" % (os.path.basename(out), WAIT))
        return 1
    except ConnectionRefusedError:
        print("%s: ICMP port unreachable" % os.path.basename(out))
        return 1
    finally:
        s.close()
    save(out + ".req", req)
    save(out + ".bin", resp)
    print("%s: %.1f ms: %s" % (os.path.basename(out),
                                (time.monotonic() - t0) * 1000,
                                describe(resp)))
    return 0


def cmd_pcp_announce(argv):
    # pcp-announce LOCAL_IP SERVER OUTPREFIX [version=V]
    local_ip, server, out = argv[:3]
    version = 2
    for a in argv[3:]:
        if a.startswith("version="):
            version = int(a[8:])
    return exchange(local_ip, server, pcp_header(version, 0, 0, local_ip), out)


def cmd_pcp_map(argv):
    # pcp-map LOCAL_IP SERVER OUTPREFIX NONCE tcp|udp IPORT EPORT LIFETIME
    #     [client=IP] [third=IP] [prefer] [option=CODE] [ext=IP] [version=V]
    local_ip, server, out, nonce, proto, iport, eport, lifetime = argv[:8]
    client, ext, version, opts = local_ip, "0.0.0.0", 2, b""
    for a in argv[8:]:
        if a.startswith("client="):
            client = a[7:]
        elif a.startswith("ext="):
            ext = a[4:]
        elif a.startswith("version="):
            version = int(a[8:])
        elif a.startswith("third="):
            opts += pcp_option(1, mapped(a[6:]))
        elif a == "prefer":
            opts += pcp_option(2, b"")
        elif a.startswith("option="):
            opts += pcp_option(int(a[7:]), b"\0\0\0\0")
        else:
            print("pcp-map: bad argument %s" % a, file=sys.stderr)
            return 64
    p = socket.IPPROTO_TCP if proto == "tcp" else socket.IPPROTO_UDP
    req = pcp_header(version, 1, int(lifetime), client) + \
        pcp_map_data(NONCES[nonce], p, int(iport), int(eport), ext) + opts
    return exchange(local_ip, server, req, out)


def cmd_natpmp(argv):
    # natpmp LOCAL_IP SERVER OUTPREFIX OP [IPORT EPORT LIFETIME]
    local_ip, server, out, op = argv[:4]
    if int(op) == 0:
        req = struct.pack("!BB", 0, 0)
    elif len(argv) == 7:
        # RFC 6886 3.3: version, op, 16 reserved bits, internal port,
        # suggested external port, requested lifetime
        req = struct.pack("!BBHHHI", 0, int(op), 0, int(argv[4]),
                          int(argv[5]), int(argv[6]))
    else:
        req = struct.pack("!BBH", 0, int(op), 0)
    return exchange(local_ip, server, req, out)


def cmd_listen(argv):
    # listen LOCAL_IP SECONDS OUTDIR TAG READYFILE: record what arrives on
    # 5350 (RFC 6887/6886 announcements) and 5351 (the 2006 NAT-PMP draft's
    # port) as 224.0.0.1 multicast, one file per datagram:
    # OUTDIR/{pcp,natpmp}-mcast-TAG-PORT-NN.bin
    local_ip, seconds, outdir, tag, ready = argv
    socks = []
    for port in (ANNOUNCE_PORT, PCP_PORT):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ALL_HOSTS, port))
        mreq = struct.pack("4s4s", socket.inet_aton(ALL_HOSTS),
                           socket.inet_aton(local_ip))
        try:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        except OSError as e:
            print("# IP_ADD_MEMBERSHIP 224.0.0.1: %s" % e)
        s.setblocking(False)
        socks.append((port, s))
    open(ready, "w").close()
    t0 = time.monotonic()
    n = 0
    while True:
        left = float(seconds) - (time.monotonic() - t0)
        if left <= 0:
            break
        r, _, _ = select.select([s for _, s in socks], [], [], left)
        for port, s in socks:
            if s not in r:
                continue
            data, src = s.recvfrom(2048)
            n += 1
            kind = "natpmp" if data[:1] == b"\0" else "pcp"
            name = os.path.join(outdir, "%s-mcast-%s-%d-%02d.bin" % (
                kind, tag, port, n))
            save(name, data)
            print("%.3f %s:%d -> %s:%d %s: %s" % (
                time.monotonic() - t0, src[0], src[1], ALL_HOSTS, port,
                os.path.basename(name), describe(data)))
    if n == 0:
        print("nothing on %s:5350/5351 within %s s" % (ALL_HOSTS, seconds))
    return 0


DRIVER = r'''
here=$1 out=$2 py=$3
. "$here/../../lab/lab.sh"
lab_need_root_tools
trap lab_down EXIT
P=("$py" "$here/capture-pcp.py")
RTR=$LAB_RTR_LAN_IP
LAN=$LAB_LAN_IP
LAN2=$LAB_LAN2_IP
lan() { lab_lan "${P[@]}" "$1" "$LAN" "$RTR" "$out/$2" "${@:3}"; }
lan2() { lab_lan2 "${P[@]}" "$1" "$LAN2" "$RTR" "$out/$2" "${@:3}"; }
# listen SECONDS TAG: start a listener in lan; wait for it to be ready
listen() {
	rm -f "$LAB_DIR/ready"
	lab_lan timeout $(($1 + 5)) "${P[@]}" listen "$LAN" "$1" "$out" "$2" \
	    "$LAB_DIR/ready" &
	listener=$!
	lab_wait 5 test -e "$LAB_DIR/ready" || { echo "listener not ready"; exit 1; }
}
# the PCP and NAT-PMP lines of the running miniupnpd's log
logdump() {
	echo "-- miniupnpd log, PCP and NAT-PMP lines"
	grep -iE 'pcp|nat-?pmp|announce' "$LAB_DIR/miniupnpd.log" | sed 's/^/  /'
}
epochs() {
	lab_lan "${P[@]}" natpmp "$LAN" "$RTR" "$LAB_DIR/epoch-$1" 0 | sed 's/^/  /'
}

lab_init || exit 1
mkdir -p "$out"
rm -f "$out"/pcp-*.bin "$out"/pcp-*.req "$out"/natpmp-*.bin "$out"/natpmp-*.req

echo "== announcements at start-up (listening in lan on 224.0.0.1:5350 and :5351)"
listen 3 start
lab_router_start || exit 1
wait "$listener"

echo "== PCP (lan = $LAN, lan2 = $LAN2)"
lan pcp-announce pcp-announce
lan pcp-map pcp-map-tcp n1 tcp 8080 8080 3600
sleep 1
lan pcp-map pcp-map-tcp-renew n1 tcp 8080 8080 3600
lan pcp-map pcp-map-tcp-other-nonce n2 tcp 8080 8080 3600
lan2 pcp-map pcp-map-tcp-lan2-prefer-failure lan2 tcp 8080 8080 3600 prefer
lan2 pcp-map pcp-map-tcp-lan2-taken lan2 tcp 8080 8080 3600
lan pcp-map pcp-map-udp-short n1 udp 9000 9000 10
lan pcp-map pcp-map-address-mismatch n1 tcp 8082 8082 3600 client=$LAN2
lan pcp-map pcp-map-third-party n1 tcp 8083 8083 3600 third=$LAN2
lan pcp-map pcp-map-unknown-option n1 tcp 8084 8084 3600 option=99
lan pcp-map pcp-map-ext-mismatch n1 tcp 8085 8085 3600 ext=203.0.113.77
# n2 took the mapping over: n1 may not delete it, n2 may
lan pcp-map pcp-map-tcp-delete-old-nonce n1 tcp 8080 8080 0
lan pcp-map pcp-map-tcp-delete n2 tcp 8080 8080 0
lan pcp-map pcp-map-tcp-delete-again n2 tcp 8080 8080 0
lan pcp-map pcp-map-version3 n1 tcp 8086 8086 3600 version=3
lan pcp-announce pcp-announce-version3 version=3
echo "rules now:"; lab_rules

echo "== NAT-PMP"
lan natpmp natpmp-public 0
lan natpmp natpmp-map-udp 1 9100 9100 3600
lan natpmp natpmp-map-tcp 2 9101 9101 3600
lan natpmp natpmp-map-udp-short 1 9102 9102 10
lan natpmp natpmp-map-udp-delete 1 9100 0 0
lan natpmp natpmp-unsupp-opcode 3
echo "rules now:"; lab_rules

echo "== restart (a PCP MAP held: tcp 8080 again, nonce n1)"
lan pcp-map pcp-map-tcp-before-restart n1 tcp 8080 8080 3600
echo "epoch before the restart (NAT-PMP public address):"; epochs before
t_before=$EPOCHREALTIME
listen 4 restart
logdump
lab_router_stop
lab_router_start || exit 1
wait "$listener"
lan pcp-announce pcp-announce-after-restart
lan pcp-map pcp-map-tcp-after-restart n1 tcp 8080 8080 3600
lan natpmp natpmp-public-after-restart 0
t_after=$EPOCHREALTIME
echo "ms from the epoch-before answer to this one: $(( (${t_after/[.,]/} - ${t_before/[.,]/}) / 1000 ))"
echo "rules now:"; lab_rules

echo "== SIGUSR1 (miniupnpd: public address changed)"
listen 3 usr1
lab_rtr kill -USR1 "$LAB_MINIUPNPD_PID"
wait "$listener"
echo "epoch after SIGUSR1 (NAT-PMP public address):"; epochs usr1

echo "== enable_natpmp=no (miniupnpd has no separate enable_pcp key)"
logdump
lab_router_stop
lab_router_start enable_natpmp=no || exit 1
lab_lan "${P[@]}" pcp-announce "$LAN" "$RTR" "$LAB_DIR/disabled-announce"
lab_lan "${P[@]}" pcp-map "$LAN" "$RTR" "$LAB_DIR/disabled-map" n1 tcp 8090 8090 3600
lab_lan "${P[@]}" natpmp "$LAN" "$RTR" "$LAB_DIR/disabled-natpmp" 0
echo "udp 5351 sockets in the router:"; lab_rtr ss -Hnlu "sport = :5351"
logdump
lab_router_stop
'''


def cmd_all(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.abspath(argv[0]) if argv else here
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
        else sys.executable
    return subprocess.call(["bash", "-c", DRIVER, "capture-pcp", here, out,
                            py])


def main():
    cmds = {"pcp-announce": cmd_pcp_announce, "pcp-map": cmd_pcp_map,
            "natpmp": cmd_natpmp, "listen": cmd_listen}
    if len(sys.argv) >= 2 and sys.argv[1] in cmds:
        return cmds[sys.argv[1]](sys.argv[2:])
    if len(sys.argv) <= 2 and (len(sys.argv) == 1 or
                               not sys.argv[1].startswith("-")):
        return cmd_all(sys.argv[1:])
    print("usage: capture-pcp.py [OUTDIR] | %s ..." % "|".join(cmds),
          file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
