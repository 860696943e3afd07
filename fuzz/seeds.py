#!/usr/bin/python3
"""fuzz/seeds.py - writes the seed inputs of fuzz/corpus/ (run from the
repository root; the files are in git, this says how they were made).

fuzz_core    conversations in fuzz_core.c's record format: valid packets
             of each kind (NAT, DR, TUN; TCP and UDP; both directions;
             complete and offloaded checksums, GSO), and one of each
             malformed class
fuzz_config  the shipped etc/nfqlb.conf and a DR/TUN configuration
fuzz_ckpt    a valid checkpoint (as is, and with the "fix CRCs" bit)
"""
import os
import shutil
import socket
import struct
import zlib

OUT = "fuzz/corpus"

TCP, UDP, ICMP = 6, 17, 1
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ip(a):
    return socket.inet_aton(a)


def packet(proto, src, sport, dst, dport, flags=0, payload=b"", df=True,
           mode="full", options=b"", frag=0):
    """An IPv4 packet; mode: full (complete L4 checksum), partial (the
    pseudo-header sum only, as CHECKSUM_PARTIAL), none (UDP without)."""
    if proto == TCP:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 0x01020304, 0,
                         5 << 4, flags, 64240, 0, 0) + payload
        coff = 16
    elif proto == UDP:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        coff = 6
    else:
        l4 = payload
        coff = None
    ihl = 20 + len(options)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, 0, ihl + len(l4),
                      0x1234, (0x4000 if df else 0) | frag, 64, proto, 0,
                      ip(src), ip(dst)) + options
    hdr = hdr[:10] + struct.pack("!H", 0xFFFF - csum(hdr)) + hdr[12:]
    if coff is not None and mode != "none":
        pseudo = ip(src) + ip(dst) + struct.pack("!BBH", 0, proto, len(l4))
        if mode == "partial":
            c = csum(pseudo)
        else:
            c = 0xFFFF - csum(pseudo + l4)
            if proto == UDP and c == 0:
                c = 0xFFFF
        l4 = l4[:coff] + struct.pack("!H", c) + l4[coff + 2:]
    return hdr + l4


MTUS = [1500, 1280, 576, 68, 9000, 1480, 296, 65535]


def rec(pkt, out=False, not_ready=False, gso=False, status=0, mtu=1500):
    ctl = (out << 0) | (not_ready << 1) | (gso << 2) | (status << 3) | \
        (MTUS.index(mtu) << 5)
    return struct.pack("!BH", ctl, len(pkt)) + pkt


C, VNAT, VDR, VTUN = "192.0.2.2", "203.0.113.10", "203.0.113.20", "203.0.113.30"
RS1 = "198.51.100.11"


def core_seeds():
    body = bytes(range(256)) * 8
    s = {}
    s["nat_tcp_flow"] = (
        rec(packet(TCP, C, 40000, VNAT, 80, SYN)) +
        rec(packet(TCP, RS1, 8080, C, 40000, SYN | ACK), out=True) +
        rec(packet(TCP, C, 40000, VNAT, 80, ACK | PSH, body[:100])) +
        rec(packet(TCP, RS1, 8080, C, 40000, ACK | FIN, body[:1001]),
            out=True))
    s["nat_tcp_offload"] = (
        rec(packet(TCP, C, 40001, VNAT, 80, SYN, mode="partial"),
            not_ready=True) +
        rec(packet(TCP, RS1, 8080, C, 40001, ACK, body[:1400],
                   mode="partial"), out=True, not_ready=True) +
        rec(packet(TCP, C, 40001, VNAT, 80, ACK, body[:2000],
                   mode="partial"), not_ready=True, gso=True))
    s["nat_udp"] = (
        rec(packet(UDP, C, 5000, VNAT, 53, payload=body[:33])) +
        rec(packet(UDP, RS1, 8080, C, 5000, payload=body[:77]), out=True) +
        rec(packet(UDP, C, 5001, VNAT, 53, payload=body[:33], mode="none")) +
        rec(packet(UDP, C, 5002, VNAT, 53, payload=body[:33],
                   mode="partial"), not_ready=True))
    s["dr"] = (
        rec(packet(TCP, C, 40002, VDR, 80, SYN)) +
        rec(packet(TCP, C, 40002, VDR, 80, ACK, body[:1400])) +
        rec(packet(TCP, C, 40002, VDR, 80, ACK, body[:1000]), mtu=576) +
        rec(packet(UDP, C, 5003, VDR, 53, payload=body[:700], df=False),
            mtu=576) +
        rec(packet(TCP, C, 40002, VDR, 80, ACK, body[:2000],
                   mode="partial"), not_ready=True, gso=True) +
        rec(packet(TCP, C, 40003, VDR, 80, SYN), status=1) +
        rec(packet(TCP, C, 40004, VDR, 80, SYN), status=2))
    s["tun"] = (
        rec(packet(TCP, C, 40005, VTUN, 80, SYN)) +
        rec(packet(TCP, C, 40005, VTUN, 80, ACK, body[:1400])) +
        rec(packet(TCP, C, 40005, VTUN, 80, ACK, body[:2000] * 2,
                   mode="partial"), not_ready=True, gso=True) +
        rec(packet(UDP, C, 5004, VTUN, 53, payload=body[:1600], df=False)) +
        rec(packet(UDP, C, 5005, VTUN, 53, payload=body[:50],
                   mode="partial"), not_ready=True) +
        rec(packet(TCP, C, 40006, VTUN, 80, SYN), status=3))
    s["malformed"] = b"".join([
        rec(packet(TCP, C, 1, VNAT, 80, SYN)[:19]),  # truncated header
        rec(b"\x60" + packet(TCP, C, 1, VNAT, 80, SYN)[1:]),  # version 6
        rec(b"\x44" + packet(TCP, C, 1, VNAT, 80, SYN)[1:]),  # IHL 4
        rec(packet(TCP, C, 1, VNAT, 80, SYN)[:30]),  # total length > caplen
        rec(packet(TCP, C, 2, VNAT, 80, SYN, options=b"\x01\x01\x01\x00")),
        rec(packet(UDP, C, 3, VNAT, 53, payload=b"x", frag=0x2000)),
        rec(packet(UDP, C, 3, VNAT, 53, payload=b"x" * 8, frag=185)),
        rec(packet(47, C, 0, VNAT, 0, payload=b"gre")),
        rec(packet(ICMP, C, 0, VNAT, 0, payload=b"\x08\0\0\0\0\1\0\1")),
        rec(packet(TCP, C, 4, VNAT, 80, ACK)),  # no flow
        rec(packet(UDP, C, 5, VNAT, 53)),  # zero-length payload
    ])
    return s


def with_tcp_options(pkt, doff):
    """pkt (no options) with data offset doff: NOP options fill the space."""
    ihl = (pkt[0] & 15) * 4
    tcp = bytearray(pkt[ihl:ihl + 20])
    tcp[12] = doff << 4
    l4 = bytes(tcp) + b"\x01" * (doff * 4 - 20) + pkt[ihl + 20:]
    hdr = bytearray(pkt[:ihl])
    hdr[2:4] = struct.pack("!H", ihl + len(l4))
    hdr[10:12] = b"\0\0"
    hdr[10:12] = struct.pack("!H", 0xFFFF - csum(bytes(hdr)))
    return bytes(hdr) + l4


def core_regressions():
    """Inputs that once broke an invariant (see the commit that added
    each); they stay in the corpus, so every run replays them."""
    big = with_tcp_options(
        packet(TCP, C, 40010, VDR, 80, SYN, b"y" * 100), 15)
    tun = with_tcp_options(
        packet(TCP, C, 40011, VTUN, 80, SYN, b"y" * 100), 15)
    # an ICMP error (port unreachable, 700 bytes, DF) from the client
    # about a DR flow, over a 576-byte MTU: the director answered it with
    # "fragmentation needed", an ICMP error about an ICMP error
    quoted = packet(TCP, VDR, 80, C, 40012, SYN | ACK, b"q" * 600)
    icmp = struct.pack("!BBHI", 3, 3, 0, 0) + quoted
    icmp = icmp[:2] + struct.pack("!H", 0xFFFF - csum(icmp)) + icmp[4:]
    err = packet(ICMP, C, 0, VDR, 0, payload=icmp)
    # 1600-byte UDP without DF, checksum left to offload, over a
    # 1500-byte MTU: DR and TUN sent the fragments with the checksum
    # unfinished
    body = bytes(range(256)) * 8
    return {
        "regress-dr-fragment-offload-csum": rec(
            packet(UDP, C, 5010, VDR, 53, payload=body[:1600], df=False,
                   mode="partial"), not_ready=True),
        "regress-tun-fragment-offload-csum": rec(
            packet(UDP, C, 5011, VTUN, 53, payload=body[:1600], df=False,
                   mode="partial"), not_ready=True),
        "regress-dr-icmp-error-over-mtu":
            rec(packet(TCP, C, 40012, VDR, 80, SYN)) + rec(err, mtu=576),
        # GSO with 80 bytes of headers over a 68-byte MTU: DR's
        # virtio-net gso_size wrapped to 65524, TUN sent segments over
        # the MTU
        "regress-dr-gso-headers-over-mtu": rec(big, gso=True, mtu=68),
        "regress-tun-gso-headers-over-mtu": rec(tun, gso=True, mtu=68),
    }


def ckpt_seed():
    recs = b""
    for i, (proto, state, vport, dport) in enumerate(
            [(TCP, 1, 80, 8080), (TCP, 3, 80, 8080), (UDP, 0, 53, 5353)]):
        recs += struct.pack("!BBBBB3x4s4s4sHHHxxIII", 1, proto, 0, state,
                            0, ip("192.0.2.%d" % (i + 2)), ip(VNAT),
                            ip("198.51.100.%d" % (11 + i)), 40000 + i, vport,
                            dport, 0, 60000, 900000 if proto == TCP
                            else 300000)
    hdr = struct.pack("!8sHHHH16sQII4x", b"NFQLBCKP", 1, 56, 40, 0,
                      b"fuzz-seed", 1700000000000, 3,
                      zlib.crc32(recs) & 0xFFFFFFFF)
    hdr += struct.pack("!I", zlib.crc32(hdr) & 0xFFFFFFFF)
    return hdr + recs


DRTUN_CONF = b"""daemon: { queue = 3; max_connections = 100; };
iptables: { manage = false; };
services = (
  { name = "dr"; protocol = "tcp"; vip = "203.0.113.20"; port = 80;
    scheduler = "wlc"; forward = "dr";
    servers = ( { address = "198.51.100.21"; port = 80; weight = 2; } ); },
  { name = "tun"; protocol = "udp"; vip = "203.0.113.30"; port = 53;
    scheduler = "mh"; forward = "tun"; tunnel_source = "198.51.100.1";
    servers = ( { address = "198.51.100.31"; port = 53; } ); }
);
"""


def write(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if not name.startswith("regress-"):
        name = "seed-" + name
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, data in core_seeds().items():
        write("fuzz_core", name, data)
    for name, data in core_regressions().items():
        write("fuzz_core", name, data)
    os.makedirs(os.path.join(OUT, "fuzz_config"), exist_ok=True)
    shutil.copy("etc/nfqlb.conf",
                os.path.join(OUT, "fuzz_config", "seed-nfqlb.conf"))
    write("fuzz_config", "drtun.conf", DRTUN_CONF)
    ck = ckpt_seed()
    write("fuzz_ckpt", "valid", b"\0" + ck)
    write("fuzz_ckpt", "valid-fixcrc", b"\1" + ck)


if __name__ == "__main__":
    main()
