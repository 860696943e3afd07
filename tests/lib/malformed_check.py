#!/usr/bin/python3
"""Where each class of tests/lib/malformed.py must be counted, checked.

  malformed_check.py MODE SENT BEFORE AFTER

MODE: "catch-all" (every non-ICMP packet for the VIP is queued, so the
daemon's parser sees all the kernel lets through) or "managed" (only the
daemon's own rules: TCP/UDP to a service port). SENT: "CLASS COUNT" lines
(malformed.py's output). BEFORE/AFTER: snapshots by malformed.sh (the
`nfqlbctl metrics` text, "# dns in_packets N" and "# kernel NAME N" lines
from /proc/net/snmp and /proc/net/netstat of the director).

Prints one line per counter (sent / counted) and per class; exit 1 on any
mismatch. Every drop cause of the daemon is checked, so a class counted
nowhere (not queued) is checked too: it must not move any of them.
"""
import re
import sys

KERNEL_HDR = "kernel IpInHdrErrors"
NOT_QUEUED = "not queued"

# The kernel's ip_rcv() drops these before any netfilter hook; then the
# daemon's parser (daemon/pkt.c) decides, or the core (unknown flow).
WHERE = {
    "ip_truncated": KERNEL_HDR,
    "ip_bad_version": KERNEL_HDR,
    "ip_bad_ihl": KERNEL_HDR,
    "ip_bad_checksum": KERNEL_HDR,
    "ip_total_length_long": "kernel IpExtInTruncatedPkts",
    "ip_no_l4_header": "drop:truncated",
    "tcp_truncated_header": "drop:truncated",
    "tcp_data_offset_beyond": "drop:truncated",
    "udp_truncated_header": "drop:truncated",
    "tcp_data_offset_small": "drop:bad_header",
    "udp_length_long": "drop:bad_header",
    "udp_length_short": "drop:bad_header",
    "unknown_protocol": "drop:unknown_protocol",
    "fragment_first": "drop:fragment",
    "fragment_non_first": "drop:fragment",
    "tcp_no_flow": "drop:unknown_flow",
    "ip_options": "dns in_packets",
    "udp_zero_payload": "dns in_packets",
}

# The managed rules match protocol and destination port (iptables-nft:
# payload expressions): no port to read, no match, the packet goes on to
# the director's own stack (the VIP is a local address) and never reaches
# the daemon.
MANAGED = {
    "ip_no_l4_header": NOT_QUEUED,
    "unknown_protocol": NOT_QUEUED,
    "fragment_non_first": NOT_QUEUED,
}

FRAGMENTS = ("fragment_first", "fragment_non_first")

# With the managed rules the director's own stack answers protocol 253
# with "protocol unreachable", and nfqlb's POSTROUTING rule for ICMP errors
# queues those answers. They quote no TCP/UDP header: not ours, they pass
# (counted as unknown_reply, not as a drop), so no drop cause may move.
MANAGED_UP_TO = {}


def read(path):
    v = {}
    for line in open(path):
        m = re.match(r'nfqlb_packets_dropped_total\{cause="(\w+)"\} (\d+)',
                     line)
        if m:
            v["drop:" + m.group(1)] = int(m.group(2))
        m = re.match(r"# (dns in_packets|kernel \w+) (\d+)", line)
        if m:
            v[m.group(1)] = int(m.group(2))
    return v


def main():
    mode, sent_path, before, after = sys.argv[1:5]
    sent = dict((n, int(c))
                for n, c in (line.split() for line in open(sent_path)))
    b, a = read(before), read(after)
    delta = {k: a[k] - b.get(k, 0) for k in a}
    where = dict(WHERE)
    if mode == "managed":
        where.update(MANAGED)
    unknown = set(sent) ^ set(where)
    if unknown:
        sys.exit("classes without an expectation: %s" % sorted(unknown))
    # With defragmentation in the director's path (conntrack), the kernel
    # holds fragments for reassembly, which never completes here: they
    # never reach the daemon. Either way is a documented verdict.
    frags = sum(sent[f] for f in FRAGMENTS)
    if delta.get("drop:fragment", 0) == 0 and \
            delta.get("kernel IpReasmReqds", 0) >= frags:
        for f in FRAGMENTS:
            where[f] = "kernel IpReasmReqds"
    want = {}
    for cls, n in sent.items():
        want[where[cls]] = want.get(where[cls], 0) + n
    want["kernel IpExtInCsumErrors"] = sent["ip_bad_checksum"]
    want.pop(NOT_QUEUED, None)
    up_to = {}
    if mode == "managed":
        up_to = {k: sent[c] for k, c in MANAGED_UP_TO.items()}
    for k in delta:  # no other drop cause may move
        if k.startswith("drop:") and k not in want:
            want[k] = up_to.get(k, 0)
    bad = 0
    print("%s: %d packets" % (mode, sum(sent.values())))
    for k in sorted(want):
        if k == "kernel IpReasmReqds":  # other fragments count there too
            ok = delta.get(k, 0) >= want[k]
        elif k in up_to:
            ok = 0 <= delta.get(k, 0) <= want[k]
        else:
            ok = delta.get(k) == want[k]
        bad += not ok
        print("  %-30s %s %6d counted %6s%s" %
              (k, "up to" if k in up_to else "sent ", want[k], delta.get(k),
               "" if ok else "  MISMATCH"))
    for cls in sorted(sent):
        print("  class %-24s %5d -> %s" % (cls, sent[cls], where[cls]))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
