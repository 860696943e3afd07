#!/usr/bin/python3
"""UDP client for the integration tests.

Sends COUNT datagrams to HOST:PORT, each from its own source port
(BASE_PORT + i, bound explicitly so every datagram is a new connection for
the balancer), and prints one line per datagram: the reply, or "TIMEOUT".

The socket is connect()ed: the kernel then only delivers datagrams whose
source is exactly HOST:PORT, so a reply that arrives proves the director
rewrote the real server's address back to the VIP.
"""
import argparse
import socket


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=9)
    ap.add_argument("--base-port", type=int, default=41000)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--source", default="0.0.0.0",
                    help="local address to send from (default: any)")
    args = ap.parse_args()
    for i in range(args.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((args.source, args.base_port + i))
        s.connect((args.host, args.port))
        s.settimeout(args.timeout)
        payload = f"ping{i}"
        s.send(payload.encode())
        try:
            data, peer = s.recvfrom(65535)
            print(f"{peer[0]}:{peer[1]} {data.decode(errors='replace')}", flush=True)
        except socket.timeout:
            print("TIMEOUT", flush=True)
        s.close()


if __name__ == "__main__":
    main()
