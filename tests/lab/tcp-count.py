#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""tcp-count.py - a TCP listener that only counts who connects: the bait a
hostile LAN host points natmapd at.

usage: tcp-count.py ADDR PORT

Accepts on ADDR:PORT ("listening" on stdout once it does), prints "connection from IP:PORT" on stdout for each
connection and closes it at once, without a word.  Standard library only;
SIGTERM ends it.
"""

import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen(16)
    print("listening", flush=True)
    while True:
        c, peer = s.accept()
        print("connection from %s:%d" % peer, flush=True)
        c.close()


if __name__ == "__main__":
    main()
