#!/usr/bin/python3
"""UDP echo for the integration tests: answers "<name>:<payload>" to the sender."""
import argparse
import socket


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", args.port))
    prefix = (args.name + ":").encode()
    while True:
        data, peer = s.recvfrom(65535)
        print(f"{peer[0]}:{peer[1]} {data!r}", flush=True)
        s.sendto(prefix + data, peer)


if __name__ == "__main__":
    main()
