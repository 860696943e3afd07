#!/bin/bash
# VS/NAT, UDP, scheduler rr: 9 datagrams, each from its own source port (a new
# connection each), are answered 3 times by each server, and every reply
# reaches the client FROM 203.0.113.10:53: the client's socket is connected
# to VIP:53, so the kernel would drop a reply with any other source.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:5353/udp
#                                                           +-- s2 198.51.100.12:5353/udp
#                                                           +-- s3 198.51.100.13:5353/udp
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
for i in 1 2 3; do start_udp_echo "$i" 5353; done

single_service dns udp 53 rr nat 5353 1 1 1 | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 9 --base-port 41000 >"$TMP/replies"
cat "$TMP/replies" >&2
i=0
: >"$TMP/who"
while read -r from reply; do
	[[ $from != TIMEOUT ]] || fail "datagram $i: no reply from $VIP:53 within 3 s"
	[[ $from == "$VIP:53" ]] || fail "datagram $i: reply from $from, want $VIP:53"
	[[ $reply =~ ^s[123]:ping$i$ ]] || fail "datagram $i: unexpected reply '$reply'"
	echo "${reply%%:*}" >>"$TMP/who"
	i=$((i + 1))
done <"$TMP/replies"
((i == 9)) || fail "expected 9 replies, got $i"
assert_counts "$TMP/who" "s1=3 s2=3 s3=3"

stop_nfqlb
