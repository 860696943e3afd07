#!/usr/bin/python3
"""Long-lived TCP connection for the reload tests.

Connects once to HOST:PORT (an echo service), then every INTERVAL seconds
sends a numbered line and expects exactly that line back within 2 s.  After
each good round trip it writes the number of round trips to STATUS_FILE.
Stops with exit 0 when STOP_FILE appears; exits 1 on the first missing or
wrong echo, a reset, or a closed connection; exits 2 if STOP_FILE never
appears within --max-seconds (a bound, so it can never run forever).
While --pause-file exists it sends nothing (a quiet connection, e.g.
while no balancer runs) and says so by creating PAUSE_FILE.ack (no round
trip is in flight then); the round trips resume when it is removed.
"""
import argparse
import os
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("status_file")
    ap.add_argument("stop_file")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--pause-file")
    args = ap.parse_args()

    s = socket.create_connection((args.host, args.port), timeout=5)
    s.settimeout(2)
    local = s.getsockname()
    print(f"connected from {local[0]}:{local[1]}", flush=True)
    f = s.makefile("rb")
    deadline = time.monotonic() + args.max_seconds
    n = 0
    while not os.path.exists(args.stop_file):
        if time.monotonic() > deadline:
            print("stop file never appeared", flush=True)
            return 2
        if args.pause_file and os.path.exists(args.pause_file):
            open(args.pause_file + ".ack", "w").close()
            time.sleep(0.05)
            continue
        line = f"line {n}\n".encode()
        try:
            s.sendall(line)
            got = f.readline()
        except OSError as e:
            print(f"round trip {n}: {e!r}", flush=True)
            return 1
        if got != line:
            print(f"round trip {n}: sent {line!r}, got {got!r}", flush=True)
            return 1
        n += 1
        tmp = args.status_file + ".tmp"
        with open(tmp, "w") as st:
            st.write(f"{n}\n")
        os.replace(tmp, args.status_file)
        time.sleep(args.interval)
    s.close()
    print(f"done after {n} round trips", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
