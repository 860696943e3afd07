#!/bin/bash
# Hostile input: 10,000 crafted packets of 18 malformed (or odd but valid)
# classes at the VIP through the director (tests/lib/malformed.py, scapy,
# raw Ethernet frames from the client). The daemon must stay up, every
# class must end where README's "Bad input" table says, counted exactly:
#  - the kernel's ip_rcv() drops broken IP headers before any netfilter
#    hook (nothing reaches NFQUEUE): counted in the director namespace's
#    Ip InHdrErrors, IpExt InTruncatedPkts and InCsumErrors;
#  - what reaches the queue is classified by the daemon's parser
#    (daemon/pkt.c) and dropped under its own cause in
#    nfqlb_packets_dropped_total (`nfqlbctl metrics`): truncated,
#    bad_header, fragment, unknown_protocol, unknown_flow;
#  - IP options and empty UDP payloads are balanced like any datagram
#    (the dns service's in_packets);
# and a normal HTTP request succeeds afterwards.
#
# The daemon's managed rules queue only TCP/UDP to the service ports; the
# kernel's tcp/udp matches then drop (or never match) much of this before
# the queue. To put the parser itself to the test, the test adds a rule in
# front of them that queues every non-ICMP packet for the VIP (ICMP errors
# are another feature's). The echo servers' answers to the balanced
# classes are taken by sockets on the client (malformed.py), so no "port
# unreachable" goes back to be relayed and counted.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http, :5353/udp
#                                                           +-- s2 198.51.100.12:8080 http, :5353/udp
#                                                           +-- s3 198.51.100.13:8080 http, :5353/udp
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source=../lib/ctl.sh
source "$LIB/ctl.sh"

COUNT=${MALFORMED_COUNT:-10000}
MANAGED_COUNT=1800

topo_up 3
for i in 1 2 3; do
	start_http_server "$i" 8080
	start_udp_echo "$i" 5353
done

write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    forward = "nat";
    $(servers_conf 8080 1 1 1)
  },
  {
    name = "dns";
    protocol = "udp";
    vip = "$VIP"; port = 53;
    scheduler = "rr";
    forward = "nat";
    $(servers_conf 5353 1 1 1)
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"
http_requests 3 >"$TMP/bodies.0"
assert_counts "$TMP/bodies.0" "s1=1 s2=1 s3=1"

CATCH_ALL=(-d "$VIP/32" ! -p icmp -j NFQUEUE --queue-num 0)
in_director iptables -w -t raw -I PREROUTING 1 "${CATCH_ALL[@]}"

# snapshot FILE — the daemon's counters and the kernel's IP counters.
snapshot() {
	{
		ctl metrics
		echo "# dns in_packets $(ctl --json list --stats | json_py '
print([s for s in d["services"] if s["name"] == "dns"][0]["in_packets"])')"
		in_director cat /proc/net/snmp /proc/net/netstat | "$PY" -c '
import sys
lines = sys.stdin.read().split("\n")
for head, vals in zip(lines[0::2], lines[1::2]):
    if not head:
        continue
    proto = head.split(":")[0]
    for k, v in zip(head.split()[1:], vals.split()[1:]):
        print("# kernel %s%s %s" % (proto, k, v))'
	} >"$1"
}

# packets read by all queues together
queue_received() { ctl metrics | awk '/^nfqlb_queue_packets_total[{ ]/ { n += $NF } END { print n + 0 }'; }
# The queue is quiet: nothing new read within the last half second.
queue_settled() {
	local a b
	a=$(queue_received)
	sleep 0.5
	b=$(queue_received)
	[[ $a == "$b" ]]
}

# send_and_count COUNT MODE — COUNT packets, then every class must be
# counted where tests/lib/malformed_check.py says for MODE.
send_and_count() {
	local count=$1 mode=$2 dmac
	snapshot "$TMP/before.$mode"
	log "$mode: sending $count crafted packets"
	dmac=$(in_director cat /sys/class/net/eth0/address)
	in_client "$PY" "$LIB/malformed.py" eth0 "$dmac" "$CLIENT_IP" "$VIP" "$count" >"$TMP/sent.$mode" ||
		fail "malformed.py failed"
	wait_until 30 queue_settled || fail "the queue is still busy 30 s after the last packet"
	nfqlb_alive || fail "nfqlb died under malformed packets"
	snapshot "$TMP/after.$mode"
	"$PY" "$LIB/malformed_check.py" "$mode" "$TMP/sent.$mode" "$TMP/before.$mode" "$TMP/after.$mode" >&2 ||
		fail "$mode: counters do not match what was sent"
}

send_and_count "$COUNT" catch-all

# Back to the managed rules only: the same classes again (fewer of
# them); those the rules do not queue must not reach the daemon.
in_director iptables -w -t raw -D PREROUTING "${CATCH_ALL[@]}"
send_and_count "$MANAGED_COUNT" managed
# ... and a normal request still works.
http_requests 3 >"$TMP/bodies.1"
assert_counts "$TMP/bodies.1" "s1=1 s2=1 s3=1"
stop_nfqlb
