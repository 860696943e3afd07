#!/usr/bin/python3
"""UDP echo for the integration tests: answers "<name>:<payload>" to the sender.

The answer leaves from the address the datagram was sent to (IP_PKTINFO), as
a DNS server on a DR/TUN real server must: there the request is addressed to
the VIP (held on the loopback), and a reply from the server's own address
would be dropped by a client that expects the VIP.
"""
import argparse
import socket
import struct

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.bind(("0.0.0.0", args.port))
    prefix = (args.name + ":").encode()
    while True:
        data, anc, _flags, peer = s.recvmsg(65535, socket.CMSG_SPACE(12))
        print(f"{peer[0]}:{peer[1]} {data!r}", flush=True)
        reply_anc = []
        for level, kind, value in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                _ifindex, _spec_dst, dst = struct.unpack("I4s4s", value[:12])
                reply_anc = [(socket.IPPROTO_IP, IP_PKTINFO,
                              struct.pack("I4s4s", 0, dst, bytes(4)))]
        s.sendmsg([prefix + data], reply_anc, 0, peer)


if __name__ == "__main__":
    main()
