#!/bin/bash
# VS/DR: HTTP through the VIP is balanced round robin over three real servers
# that answer the client directly (through a router, never through the
# director), and a 50 MB download arrives byte-exact with veth offloads on
# (GSO super-packets leave on the packet socket with virtio-net headers) and
# off.  The director's client-side interface must not carry the replies.
#
#  client eth0 192.0.2.2 --- 192.0.2.1 [director, VIP on lo, nfqlb dr]
#                                      198.51.100.1 --- [br0] --+-- s1..s3 198.51.100.11-13:80
#         eth1 192.0.2.130 ------ rt 192.0.2.129 / 198.51.100.254 -+   (VIP on lo, ARP off)
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

topo_up 3
topo_direct_return
for i in 1 2 3; do start_http_server "$i" 80; done

single_service web tcp 80 rr dr 80 1 1 1 | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

http_requests 30 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=10 s2=10 s3=10"
# Each server saw the client's own address: the IP packet was not changed.
[[ $(http_requests 1 /ip) == "$CLIENT_IP" ]] || fail "server did not see the client address"
# The director saw only the client's half, yet counts and states follow
# (IPVS's input-only table): 31 connections, all closing or closed by now.
ctl --json list | json_py '
s = d["services"][0]
assert s["forward"] == "dr" and s["conns"] == 31, s
assert s["active_conns"] == 0, s' || fail "list after 31 DR connections: $(ctl --json list)"
ctl --json conns | json_py '
c = d["connections"]
assert len(c) == 31 and all(x["forward"] == "dr" for x in c), c
assert all(x["state"] in ("FIN_WAIT", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK") for x in c), c' ||
	fail "conns after 31 DR connections: $(ctl conns)"

direct_return_transfers

stop_nfqlb
