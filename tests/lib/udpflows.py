#!/usr/bin/python3
"""udpflows.py SRC DST PORT COUNT [--base-port N] [--burst N --pause S]

Sends COUNT UDP datagrams from SRC to DST:PORT, each from its own source
port (BASE, BASE+1, ...), so a balancer creates COUNT connections.  The
datagrams are built by hand on a raw socket (no socket per port, no waiting
for replies), in bursts of --burst with --pause seconds between them so a
queue of the balancer is not overrun (default 500 per 10 ms).  UDP checksum 0
("none", valid for IPv4).  Prints the number sent.
"""
import argparse
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--base-port", type=int, default=2000)
    ap.add_argument("--burst", type=int, default=500)
    ap.add_argument("--pause", type=float, default=0.01)
    args = ap.parse_args()
    if not 0 < args.count <= 65535 - args.base_port:
        raise SystemExit("udpflows: count out of range for the base port")
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    src, dst = socket.inet_aton(args.src), socket.inet_aton(args.dst)
    payload = b"flow"
    sent = 0
    for i in range(args.count):
        udp = struct.pack("!HHHH", args.base_port + i, args.port, 8 + len(payload), 0) + payload
        # the kernel fills in the IP checksum and id on a raw socket
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64,
                         socket.IPPROTO_UDP, 0, src, dst)
        while True:
            try:
                s.sendto(ip + udp, (args.dst, 0))
                break
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno != 105:  # ENOBUFS: the qdisc is full, retry
                    raise
        sent += 1
        if sent % args.burst == 0:
            time.sleep(args.pause)
    print(sent)


if __name__ == "__main__":
    main()
