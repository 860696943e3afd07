#!/bin/bash
# VS/NAT, TCP, scheduler wrr with weights 3,1,0: IPVS's wrr is deterministic,
# so 40 new connections go exactly 30 to s1, 10 to s2 and none to s3
# (weight 0 = quiescent: never picked for a new connection).
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080  w=3
#                                                           +-- s2 198.51.100.12:8080  w=1
#                                                           +-- s3 198.51.100.13:8080  w=0
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done

single_service web tcp 80 wrr nat 8080 3 1 0 | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

http_requests 40 >"$TMP/bodies"
# The weight-0 check first: it is the stronger contract and gives the clearer
# message when both are broken.
if grep -qx s3 "$TMP/bodies"; then
	fail "weight-0 server s3 got $(grep -cx s3 "$TMP/bodies") request(s): $(histogram <"$TMP/bodies")"
fi
assert_counts "$TMP/bodies" "s1=30 s2=10"

stop_nfqlb
