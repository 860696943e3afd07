#!/usr/bin/python3
"""sd_notify listener: binds a unix datagram socket at PATH (the daemon's
$NOTIFY_SOCKET) and appends every message, one assignment per line, to LOG."""
import os
import socket
import sys


def main():
    path, log = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    while True:
        data = s.recv(4096)
        with open(log, "a") as f:
            for line in data.decode(errors="replace").splitlines():
                f.write(line + "\n")


if __name__ == "__main__":
    main()
