#!/usr/bin/python3
"""sd_notify listener: binds a unix datagram socket at PATH (the daemon's
$NOTIFY_SOCKET) and appends every message, one assignment per line, to LOG.

--timestamps prefixes each line with the CLOCK_MONOTONIC time in
milliseconds ("12345 READY=1").  --on-ready PROBE runs PROBE (a shell
command line; "{n}" becomes the number of that READY=1: 1, 2, ...) once on
every READY=1, before reading the next message, and logs
"PROBE n rc=RC first-output-line" (timestamped too).  A probe that succeeds
at once proves that READY=1 came only when the service already worked.
"""
import argparse
import os
import socket
import subprocess
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("log")
    ap.add_argument("--timestamps", action="store_true")
    ap.add_argument("--on-ready")
    args = ap.parse_args()

    def write(lines):
        stamp = ""
        if args.timestamps:
            stamp = "%d " % int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1000)
        with open(args.log, "a") as f:
            for line in lines:
                f.write(stamp + line + "\n")

    try:
        os.unlink(args.path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(args.path)
    readies = 0
    while True:
        lines = s.recv(4096).decode(errors="replace").splitlines()
        write(lines)
        if args.on_ready and "READY=1" in lines:
            readies += 1
            p = subprocess.run(args.on_ready.replace("{n}", str(readies)),
                               shell=True, capture_output=True, text=True,
                               timeout=30)
            out = (p.stdout.strip().splitlines() or [""])[0]
            write([f"PROBE {readies} rc={p.returncode} {out}"])


if __name__ == "__main__":
    main()
