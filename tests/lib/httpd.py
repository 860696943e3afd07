#!/usr/bin/python3
"""Test HTTP/1.0 server for the integration tests (run with /usr/bin/python3).

GET /     -> the server's name ("s1\n"), so a client can count who answered
GET /ip   -> the client address the server sees (VS/NAT keeps it)
GET /big  -> the file given with --big (sha256 is checked by the client)
POST /upload -> "<bytes> <sha256>" of the request body (uploads cross the
               balancer in the client's direction)
GET /health -> for health checks: "200 healthy" unless the --health-file
             exists; then its content "STATUS [BODY]" (e.g. "500" or
             "200 degraded") is the status and body to answer with

HTTP/1.0 on purpose: one request per connection, so every request is a new
connection that the load balancer schedules.
"""
import argparse
import hashlib
import os
import shutil
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--big", required=True)
    ap.add_argument("--health-file")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        server_version = "nfqlb-test-httpd"

        def _send(self, body, ctype="text/plain", status=200):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/":
                self._send((args.name + "\n").encode())
            elif self.path == "/ip":
                self._send((self.client_address[0] + "\n").encode())
            elif self.path == "/health":
                status, body = 200, "healthy"
                self.log_message("health check, Host: %s",
                                 self.headers.get("Host"))
                try:
                    with open(args.health_file) as f:
                        words = f.read().split(None, 1)
                    status = int(words[0])
                    body = words[1].strip() if len(words) > 1 else "sick"
                except (TypeError, OSError, IndexError, ValueError):
                    pass
                self._send((body + "\n").encode(), status=status)
            elif self.path == "/big":
                size = os.path.getsize(args.big)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                with open(args.big, "rb") as f:
                    shutil.copyfileobj(f, self.wfile, 1 << 20)
            else:
                self.send_error(404)

        def do_POST(self):
            if self.path != "/upload":
                self.send_error(404)
                return
            left = int(self.headers.get("Content-Length", "0"))
            h, n = hashlib.sha256(), 0
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
                left -= len(chunk)
            self._send(f"{n} {h.hexdigest()}\n".encode())

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("0.0.0.0", args.port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
