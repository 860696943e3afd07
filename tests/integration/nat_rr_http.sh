#!/bin/bash
# VS/NAT, TCP, scheduler rr: 30 HTTP requests to the VIP are spread exactly
# 10/10/10 over three real servers; the servers see the real client address.
# Runs with veth offloads on, then off (checksum-partial / GSO packets vs
# plain ones through the queue).
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080
#                                                           +-- s3 198.51.100.13:8080
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done

single_service web tcp 80 rr nat 8080 1 1 1 | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

for mode in on off; do
	tcp_offload "$mode"
	http_requests 30 >"$TMP/bodies.$mode"
	assert_counts "$TMP/bodies.$mode" "s1=10 s2=10 s3=10"
	# NAT rewrites the destination only: the server sees the client itself.
	seen=$(http_requests 3 /ip | sort -u)
	[[ $seen == "$CLIENT_IP" ]] || fail "offloads $mode: servers saw client address(es) '$seen', want $CLIENT_IP"
done

stop_nfqlb
