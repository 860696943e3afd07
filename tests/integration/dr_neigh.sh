#!/bin/bash
# VS/DR follows a real server's MAC address without a restart: server 1's
# address moves to a new interface (new MAC; it announces itself with a
# gratuitous ARP, as a failover or `arping -U` would), and requests
# scheduled to it are answered again within a few seconds.  A server that is
# not on-link is named in the log.
#
#  client --- director (nfqlb dr) --- [br0] --+-- s1 eth0 (old MAC) -> eth9 (new MAC)
#                                             +-- s2
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 2
topo_direct_return
for i in 1 2; do start_http_server "$i" 80; done

single_service web tcp 80 rr dr 80 1 1 | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"
http_requests 4 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=2 s2=2"

s1=$(server_ns 1)
old=$(ip -n "$s1" -br link show eth0 | awk '{ print $3 }')
ip -n "$NS_SWITCH" link add p9 type veth peer name eth9 netns "$s1"
ip -n "$NS_SWITCH" link set p9 master br0 up
ip -n "$s1" addr del "$(server_ip 1)/24" dev eth0
ip -n "$s1" link set eth0 down
ip -n "$s1" addr add "$(server_ip 1)/24" dev eth9
ip -n "$s1" link set eth9 up
ip -n "$s1" route replace default via "$ROUTER_IP"
new=$(ip -n "$s1" -br link show eth9 | awk '{ print $3 }')
ip netns exec "$s1" "$PY" -c '
import sys
from scapy.all import ARP, Ether, sendp
ip, mac = sys.argv[1], sys.argv[2]
sendp(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
      ARP(op=1, hwsrc=mac, psrc=ip, hwdst="00:00:00:00:00:00", pdst=ip),
      iface="eth9", verbose=False)
' "$(server_ip 1)" "$new"
log "server 1 moved from $old to $new (gratuitous ARP sent)"

# Both servers answer again: a request every 100 ms, for at most 15 s.
s1_back() { [[ $(http_requests 2 | histogram) == "s1=1 s2=1" ]]; }
start=$(now_ms)
wait_until 15 s1_back || fail "server 1 unreachable 15 s after its MAC changed ($(in_director ip neigh show "$(server_ip 1)"))"
log "DR traffic follows the new MAC after $(($(now_ms) - start)) ms"
in_director ip neigh show "$(server_ip 1)" | grep -qi "$new" || fail "director's neighbour entry does not hold the new MAC"
grep -q "server $(server_ip 1): MAC changed to $new" "$NFQLB_LOG" || fail "MAC change not logged"

# A server behind a gateway cannot be reached by MAC rewriting: named in the log.
write_conf "$TMP/nfqlb.conf" <<EOF2
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    forward = "dr";
    servers = ( { address = "$(server_ip 1)"; }, { address = "198.51.100.200"; } );
  }
);
EOF2
in_director ip route add 198.51.100.200/32 via "$(server_ip 2)"
reload_nfqlb
grep -q "server 198.51.100.200: not on-link (route via $(server_ip 2) dev eth1)" "$NFQLB_LOG" ||
	fail "no error naming the server that is not on-link"
log "not on-link server named in the log"
stop_nfqlb
