#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""echo-server.py - the natmapd test lab's "what is my address" HTTP service.

usage: echo-server.py ADDR PORT

GET /         200, the client's source address and a newline ("203.0.113.2\\n")
GET /garbage  200, "hello\\n" (a body that is no address)
GET /slow     the same as GET /, after 10 s (for client timeouts)
anything else 404

text/plain, HTTP/1.0, the connection closed after each answer.  One thread
per request, so a /slow request holds up nobody else.  Standard library
only; SIGTERM ends it.
"""

import http.server
import sys
import time

SLOW_SECONDS = 10


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "natmapd-lab-echo"
    sys_version = ""

    def answer(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self.answer(200, self.client_address[0] + "\n")
        elif path == "/garbage":
            self.answer(200, "hello\n")
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            self.answer(200, self.client_address[0] + "\n")
        else:
            self.answer(404, "not found\n")

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))
        sys.stderr.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: echo-server.py ADDR PORT")
    srv = Server((sys.argv[1], int(sys.argv[2])), Handler)
    print("listening on %s:%s" % srv.server_address, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
