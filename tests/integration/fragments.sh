#!/bin/bash
# Fragmented UDP (issue 9): 8000-byte datagrams over 1500-byte links
# round-trip through NAT, DR and TUN services of one daemon.  Non-first
# fragments carry no ports: nfqlb has the kernel reassemble datagrams before
# the raw table (its chain keeps connection tracking, and so nf_defrag_ipv4,
# in use).  NAT reinjects the whole datagram (the kernel fragments it again
# on the way out); DR and TUN fragment what they send themselves.  Nothing is
# dropped as a fragment.
#
#  client --- director (nat :5353, dr :53, tun :54) --- [br0] --- s1, s2 (udp echo)
#     \___ rt ___/   (DR/TUN answers; NAT answers route back via the director by source port)
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

topo_up 2
topo_direct_return
for i in 1 2; do
	ip -n "$(server_ns "$i")" route add default via "$DIRECTOR_IP" table 100
	ip -n "$(server_ns "$i")" rule add ipproto udp sport 5353 table 100
	start_ipip_decap "$i"
	for port in 53 54 5353; do start_udp_echo "$i" "$port"; done
done
write_conf "$TMP/nfqlb.conf" <<EOF2
services = (
  { name = "nat"; protocol = "udp"; vip = "$VIP"; port = 5353; scheduler = "rr";
    forward = "nat"; $(servers_conf 5353 1 1) },
  { name = "dr"; protocol = "udp"; vip = "$VIP"; port = 53; scheduler = "rr";
    forward = "dr"; $(servers_conf 53 1 1) },
  { name = "tun"; protocol = "udp"; vip = "$VIP"; port = 54; scheduler = "rr";
    forward = "tun"; $(servers_conf 54 1 1) }
);
EOF2
start_nfqlb "$TMP/nfqlb.conf"

for port in 5353 53 54; do
	got=$(in_client "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
ok = 0
for i in range(4):
    body = bytes([65 + i]) * 8000
    s.send(body)
    try:
        r = s.recv(65535)
    except socket.timeout:
        continue
    ok += r.endswith(body) and len(r) == 8003
print(ok)
' "$VIP" "$port")
	[[ $got == 4 ]] || fail "port $port: $got of 4 fragmented datagrams came back whole; $(ctl list --stats | tail -3)"
	log "port $port: 4 of 4 datagrams of 8000 bytes (6 fragments each) round-tripped"
done
frag=$(ctl --json list --stats | json_py 'print(d["drops"]["fragment"])')
((frag == 0)) || fail "$frag packets dropped as fragments"
stop_nfqlb
