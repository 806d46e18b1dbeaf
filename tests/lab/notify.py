# SPDX-License-Identifier: ISC
# A service manager's notify socket for the tests (unprivileged.sh, the
# Debian autopkgtests): binds SOCKET and writes each datagram to OUT as one
# line, its newlines as '|'.
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        out.write(msg.replace("\n", "|") + "\n")
        out.flush()
