#!/bin/bash
# VS/NAT, TCP bulk transfer: a 50 MB file fetched through the VIP arrives
# byte-exact (sha256), with veth offloads on (GSO super-packets and partial
# checksums reach the queue) and again with them off.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 /big
#                                                           +-- s2 198.51.100.12:8080 /big
#                                                           +-- s3 198.51.100.13:8080 /big
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done
want=$(sha256sum <"$BIGFILE" | cut -d' ' -f1)

single_service web tcp 80 rr nat 8080 1 1 1 | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

for mode in on off; do
	tcp_offload "$mode"
	rm -f "$TMP/got"
	start=$(now_ms)
	rc=0
	in_client curl -sS --max-time 120 -o "$TMP/got" "http://$VIP/big" || rc=$?
	((rc == 0)) || fail "offloads $mode: download failed (curl status $rc)"
	ms=$(($(now_ms) - start))
	size=$(stat -c %s "$TMP/got")
	((size == BIG_SIZE)) || fail "offloads $mode: got $size bytes, want $BIG_SIZE"
	got=$(sha256sum <"$TMP/got" | cut -d' ' -f1)
	[[ $got == "$want" ]] || fail "offloads $mode: sha256 $got, want $want"
	log "offloads $mode: 50 MB intact in $ms ms"
done

stop_nfqlb
