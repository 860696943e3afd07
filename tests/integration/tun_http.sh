#!/bin/bash
# VS/TUN: HTTP through the VIP reaches three real servers inside IPIP and
# they answer the client directly.  This kernel has no ipip device, so each
# server runs tests/tools/ipip_decap (raw IPIP socket -> TUN device).  A 50 MB
# download arrives byte-exact with veth offloads on (GSO super-packets are
# re-segmented to fit the tunnel) and off (full-size DF segments earn the
# client ICMP "fragmentation needed", and PMTU discovery brings its segments
# down to the tunnel MTU).  A 1472-byte UDP datagram with DF gets the same
# ICMP error; one without DF arrives fragmented and reassembled.
#
#  client eth0 192.0.2.2 --- 192.0.2.1 [director, VIP on lo, nfqlb tun]
#                                      198.51.100.1 ==IPIP==> [br0] --+-- s1..s3 (ipip_decap, tun0)
#         eth1 192.0.2.130 ------ rt 192.0.2.129 / 198.51.100.254 ----+   replies direct via rt
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
topo_direct_return
for i in 1 2 3; do
	start_ipip_decap "$i"
	start_http_server "$i" 80
	start_udp_echo "$i" 53
done

write_conf "$TMP/nfqlb.conf" <<EOF2
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    forward = "tun";
    $(servers_conf 80 1 1 1)
  },
  {
    name = "dns";
    protocol = "udp";
    vip = "$VIP"; port = 53;
    scheduler = "rr";
    forward = "tun";
    tunnel_source = "$DIRECTOR_IP";
    $(servers_conf 53 1 1 1)
  }
);
EOF2
start_nfqlb "$TMP/nfqlb.conf"

http_requests 30 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=10 s2=10 s3=10"
[[ $(http_requests 1 /ip) == "$CLIENT_IP" ]] || fail "server did not see the client address"

direct_return_transfers

# An upload: the client's full-size segments must cross the tunnel.  With
# offloads off they arrive whole with DF: the client must learn the tunnel's
# MTU from our ICMP error.
in_client ip route flush cache
head -c 2000000 "$BIGFILE" >"$TMP/up"
rc=0
out=$(in_client curl -sS --max-time 60 -H 'Expect:' --data-binary "@$TMP/up" "http://$VIP/upload") || rc=$?
((rc == 0)) || fail "upload through the tunnel failed (curl status $rc)"
[[ $out == "2000000 $(sha256sum <"$TMP/up" | cut -d' ' -f1)" ]] || fail "upload arrived damaged: $out"
mtu=$(in_client ip route get "$VIP" | grep -o 'mtu [0-9]*' || true)
[[ $mtu == "mtu 1480" ]] || fail "client did not learn the tunnel MTU (route: $(in_client ip route get "$VIP"))"
log "upload of 2 MB done; the client's route to the VIP now says '$mtu'"

# UDP: 1472 bytes of payload fill a 1500-byte packet; with DF it cannot get
# 20 more bytes of IPIP header, without DF it is fragmented.
in_client ip route flush cache
r=$(in_client "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
s.settimeout(3)
s.sendto(b"x" * 1472, (sys.argv[1], 53))
print(len(s.recv(4096)))
' "$VIP") || fail "UDP without DF: no answer through the tunnel"
((r > 1472)) || fail "UDP without DF: short answer ($r bytes)"
log "UDP 1472 bytes without DF: fragmented through the tunnel, answer of $r bytes"

in_client "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)   # IP_PMTUDISC_DO: DF set
s.sendto(b"x" * 1472, (sys.argv[1], 53))
time.sleep(0.5)
try:
    s.sendto(b"x" * 1472, (sys.argv[1], 53))
except OSError as e:
    print("EMSGSIZE" if e.errno == 90 else e)
' "$VIP" >"$TMP/udp_df" || true
grep -q EMSGSIZE "$TMP/udp_df" || fail "UDP with DF: the client's second send should fail with EMSGSIZE after our ICMP error (got: $(cat "$TMP/udp_df"))"
log "UDP 1472 bytes with DF: ICMP fragmentation needed reached the client"

stop_nfqlb
