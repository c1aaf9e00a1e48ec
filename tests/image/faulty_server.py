#!/usr/bin/env python3
"""A deliberately faulty HTTP server for vmlab's download tests (stdlib only).

Serves files from DIR under paths that pick a fault:
  /file/NAME            correct, with Range support
  /drop/NAME            Content-Length right, connection closed half-way
  /short/NAME           Content-Length claims 4096 more bytes than are sent
  /stall/NAME           sends a quarter, then goes silent (until the client leaves)
  /norange/NAME         ignores Range: always 200 and the whole body
  /flaky/NAME           first request drops half-way, later ones honour Range
  /flaky-norange/NAME   first request drops half-way, later ones ignore Range
  /status/CODE          answers with that HTTP status (404, 500, ...)
  /redirect/N/NAME      302 chain of N hops ending at /file/NAME
  /redirect-loop/X      redirects to itself forever
  /redirect-to/SCHEME   302 to SCHEME:// (file:///etc/passwd, ftp://127.0.0.1/x)
  /long/NAME            Content-Length claims 4096 fewer bytes than are sent
  /nolength/NAME        no Content-Length: the body ends when the connection does
  /endless/NAME         no Content-Length, zeros without end (until the client leaves)
  /badrange/NAME        answers a Range request with 206 but the whole body from byte 0
Writes the port it listens on to PORTFILE and one line per request to LOG
("METHOD PATH RANGE STATUS"). Exits by itself after LIFETIME seconds.
With CERT and KEY it speaks HTTPS with that certificate.
usage: faulty_server.py DIR PORTFILE LOG LIFETIME [CERT KEY]
"""
import http.server
import os
import re
import ssl
import socketserver
import sys
import threading
import time

DIR, PORTFILE, LOG, LIFETIME = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
seen = {}
lock = threading.Lock()


def log(line):
    with lock:
        with open(LOG, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        rng = self.headers.get("Range", "-")
        m = re.match(r"^/([a-z-]+)/(.*)$", self.path)
        if not m:
            log(f"GET {self.path} {rng} 404")
            return self.reply(404, b"no\n")
        mode, rest = m.group(1), m.group(2)
        if mode == "status":
            log(f"GET {self.path} {rng} {rest}")
            return self.reply(int(rest), b"error page\n")
        if mode == "redirect":
            n, name = rest.split("/", 1)
            n = int(n)
            to = f"/file/{name}" if n <= 1 else f"/redirect/{n - 1}/{name}"
            log(f"GET {self.path} {rng} 302")
            return self.reply(302, b"", [("Location", to)])
        if mode == "redirect-to":
            to = {"file": "file:///etc/passwd", "ftp": "ftp://127.0.0.1/x"}[rest]
            log(f"GET {self.path} {rng} 302")
            return self.reply(302, b"", [("Location", to)])
        if mode == "endless":
            log(f"GET {self.path} {rng} 200")
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                zeros = bytes(1 << 16)
                while True:
                    self.wfile.write(zeros)
            except (BrokenPipeError, ConnectionResetError):
                return
        if mode == "redirect-loop":
            log(f"GET {self.path} {rng} 302")
            return self.reply(302, b"", [("Location", self.path)])
        path = os.path.join(DIR, os.path.basename(rest))
        if not os.path.isfile(path):
            log(f"GET {self.path} {rng} 404")
            return self.reply(404, b"no such file\n")
        with open(path, "rb") as f:
            data = f.read()
        with lock:
            count = seen.get(self.path, 0)
            seen[self.path] = count + 1
        if mode in ("flaky", "flaky-norange"):
            if count == 0:
                mode = "drop"
            else:
                mode = "file" if mode == "flaky" else "norange"
        start = 0
        mr = re.match(r"bytes=(\d+)-$", rng)
        if mr and mode == "file" and int(mr.group(1)) < len(data):
            start = int(mr.group(1))
        status = 206 if start or (mode == "badrange" and mr) else 200
        log(f"GET {self.path} {rng} {status}")
        self.send_response(status)
        body = data[start:]
        claimed = len(body) + {"short": 4096, "long": -4096}.get(mode, 0)
        if mode == "nolength":
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(claimed))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        try:
            if mode == "drop":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == "stall":
                self.wfile.write(body[: len(body) // 4])
                self.wfile.flush()
                time.sleep(LIFETIME)
                return
            self.wfile.write(body)
            if mode in ("short", "long"):
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 6:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[5], sys.argv[6])
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
threading.Timer(LIFETIME, lambda: os._exit(0)).start()
srv.serve_forever()
