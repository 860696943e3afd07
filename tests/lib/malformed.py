#!/usr/bin/python3
"""Malformed IPv4 packets at a VIP, for tests/integration/malformed.sh.

Every class is crafted with scapy, then sent as raw Ethernet frames on an
AF_PACKET socket (an IP raw socket would have the kernel fix lengths and
checksums for us). COUNT packets are spread over the classes as evenly as
possible, interleaved, paced in small bursts so the NFQUEUE never
overflows. Prints one line per class: "NAME SENT".

  malformed.py IFACE DST_MAC SRC VIP COUNT [--list]

--list prints the class names only (one a line) and sends nothing.
"""
import argparse
import socket
import struct
import time

from scapy.all import IP, TCP, UDP, Ether, Raw, raw

TCP_PORT, UDP_PORT = 80, 53  # the test's services
SINK_PORTS = (30000, 30001)  # source ports of the balanced classes


def classes(src, vip):
    """name -> function(i) returning the IPv4 packet bytes of packet i."""
    def ip(**kw):
        return IP(src=src, dst=vip, id=kw.pop("id", 1), **kw)

    def sport(i):
        return 20000 + i % 20000

    def tcp_hdr_only(i):
        return struct.pack("!HH", sport(i), TCP_PORT) + b"\0" * 6

    def with_csum(b, good):
        """An IP header whose checksum is fixed up, or made wrong."""
        b = bytearray(b)
        b[10:12] = b"\0\0"
        s = sum(struct.unpack("!10H", bytes(b[:20])))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        c = (~s & 0xFFFF) ^ (0 if good else 0x5A5A)
        b[10:12] = struct.pack("!H", c)
        return bytes(b)

    def udp(i, payload=b"x" * 16):
        return raw(ip() / UDP(sport=sport(i), dport=UDP_PORT) / payload)

    return {
        # --- the kernel's ip_rcv() drops these before any hook
        "ip_truncated": lambda i: udp(i)[:16],
        "ip_bad_version": lambda i: with_csum(
            bytes([0x65]) + udp(i)[1:], True),
        "ip_bad_ihl": lambda i: with_csum(bytes([0x44]) + udp(i)[1:], True),
        "ip_total_length_long": lambda i: with_csum(
            udp(i)[:2] + struct.pack("!H", len(udp(i)) + 40) + udp(i)[4:],
            True),
        "ip_bad_checksum": lambda i: with_csum(udp(i), False),
        # --- reach the queue: the daemon's parser decides
        "ip_no_l4_header": lambda i: raw(ip(proto=6)),
        "tcp_truncated_header": lambda i: raw(
            ip(proto=6) / Raw(tcp_hdr_only(i))),
        "tcp_data_offset_small": lambda i: raw(
            ip() / TCP(sport=sport(i), dport=TCP_PORT, dataofs=4)),
        "tcp_data_offset_beyond": lambda i: raw(
            ip() / TCP(sport=sport(i), dport=TCP_PORT, dataofs=15)),
        "udp_truncated_header": lambda i: raw(
            ip(proto=17) / Raw(struct.pack("!HH", sport(i), UDP_PORT))),
        "udp_length_long": lambda i: raw(
            ip() / UDP(sport=sport(i), dport=UDP_PORT, len=200) / (b"x" * 16)),
        "udp_length_short": lambda i: raw(
            ip() / UDP(sport=sport(i), dport=UDP_PORT, len=4) / (b"x" * 16)),
        "unknown_protocol": lambda i: raw(ip(proto=253) / Raw(b"x" * 24)),
        "fragment_first": lambda i: raw(
            ip(flags="MF", id=1000 + i % 30000) /
            UDP(sport=sport(i), dport=UDP_PORT, len=1008) / (b"x" * 32)),
        "fragment_non_first": lambda i: raw(
            ip(frag=100, id=40000 + i % 20000, proto=17) / Raw(b"x" * 32)),
        "tcp_no_flow": lambda i: raw(
            ip() / TCP(sport=sport(i), dport=TCP_PORT, flags="A")),
        # --- well-formed oddities: balanced like any packet
        "ip_options": lambda i: raw(
            ip(options=b"\x01\x01\x01\x00") /
            UDP(sport=SINK_PORTS[0], dport=UDP_PORT) / b"opt"),
        "udp_zero_payload": lambda i: raw(
            ip() / UDP(sport=SINK_PORTS[1], dport=UDP_PORT)),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("dst_mac")
    ap.add_argument("src")
    ap.add_argument("vip")
    ap.add_argument("count", type=int)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--burst", type=int, default=50)
    ap.add_argument("--pause", type=float, default=0.01)
    a = ap.parse_args()
    cls = classes(a.src, a.vip)
    if a.list:
        print("\n".join(cls))
        return
    names = list(cls)
    # The balanced classes come from these ports and get the echo
    # servers' answers: sockets here take them, so the client's stack
    # sends no "port unreachable" (which would be relayed to the servers
    # and counted as their traffic too).
    sinks = []
    for port in SINK_PORTS:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", port))
        sinks.append(u)
    eth = raw(Ether(dst=a.dst_mac, type=0x0800))[:14]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    # Ethernet's source address: the interface's own
    eth = eth[:6] + s.getsockname()[4][:6] + eth[12:]
    sent = dict.fromkeys(names, 0)
    for n in range(a.count):
        name = names[n % len(names)]
        s.send(eth + cls[name](sent[name]))
        sent[name] += 1
        if (n + 1) % a.burst == 0:
            time.sleep(a.pause)
    time.sleep(1)  # the last answers arrive while the sinks are open
    for name in names:
        print(name, sent[name])


if __name__ == "__main__":
    main()
