#!/bin/bash
# ICMP errors about balanced flows (issue 9), VS/NAT:
#  a. Path MTU discovery across the director: the director's link to the
#     servers has MTU 1400, so its kernel answers the client's full-size
#     segments with "fragmentation needed" quoting client -> RIP:8080, an
#     address the client never used.  nfqlb rewrites the quote to
#     client -> VIP:80 (and the source to the VIP), the client lowers its
#     PMTU, and a 5 MB upload completes (with offloads on and off).  Without
#     the rewrite this is a PMTU black hole and the upload times out.
#  b. An ICMP error from the client about a reply it got (VIP:80 -> client)
#     reaches the real server that holds the flow, rewritten to quote
#     RIP:8080 -> client.
#  c. An ICMP error to the VIP about no known flow is dropped and counted.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP on lo] 198.51.100.1 (mtu 1400) --- [br0] --- s1..s2 :8080
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

topo_up 2
for i in 1 2; do start_http_server "$i" 8080; done
single_service web tcp 80 rr nat 8080 1 1 | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

# --- a. PMTU through NAT
in_director ip link set eth1 mtu 1400
head -c 5000000 "$BIGFILE" >"$TMP/up"
want="5000000 $(sha256sum <"$TMP/up" | cut -d' ' -f1)"
for mode in off on; do
	tcp_offload "$mode"
	in_client ip route flush cache
	rc=0
	out=$(in_client curl -sS --max-time 20 -H 'Expect:' --data-binary "@$TMP/up" "http://$VIP/upload") || rc=$?
	((rc == 0)) || fail "offloads $mode: upload across a 1400-byte link failed (curl status $rc): PMTU black hole"
	[[ $out == "$want" ]] || fail "offloads $mode: upload damaged: $out"
	mtu=$(in_client ip route get "$VIP" | grep -o 'mtu [0-9]*' || true)
	[[ $mtu == "mtu 1400" ]] || fail "offloads $mode: client's route to the VIP: '$(in_client ip route get "$VIP")', want mtu 1400"
	log "offloads $mode: 5 MB upload across the 1400-byte link; client learnt '$mtu' for the VIP"
done
in_director ip link set eth1 mtu 1500
tcp_offload off

# --- b. an error from the client reaches the server holding the flow
in_client "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80))
print(s.getsockname()[1], flush=True)
time.sleep(15)
' "$VIP" >"$TMP/cport" &
wait_until 5 test -s "$TMP/cport" || fail "no connection to the VIP"
cport=$(head -1 "$TMP/cport")
server=$(ctl --json conns | "$PY" -c 'import json,sys
c = [x for x in json.load(sys.stdin)["connections"] if x["client_port"] == int(sys.argv[1])]
print(c[0]["server"])' "$cport")
n=${server##*.}
n=$((n - 10))
in_server "$n" timeout 10 tcpdump -nn -v -l -i eth0 -c 1 icmp >"$TMP/td" 2>/dev/null &
tdpid=$!
sleep 1
in_client "$PY" -c '
import sys
from scapy.all import ICMP, IP, TCP, send
vip, cl, cport = sys.argv[1], sys.argv[2], int(sys.argv[3])
quote = IP(src=vip, dst=cl) / TCP(sport=80, dport=cport, flags="A", seq=1)
send(IP(src=cl, dst=vip) / ICMP(type=3, code=4, nexthopmtu=1200) / bytes(quote)[:28], verbose=False)
' "$VIP" "$CLIENT_IP" "$cport"
wait "$tdpid" || true
grep -q "$server.8080 > $CLIENT_IP.$cport" "$TMP/td" ||
	fail "server $server did not get the client's ICMP error rewritten to quote $server.8080 > $CLIENT_IP.$cport: $(cat "$TMP/td")"
log "client's ICMP error reached $server quoting its own packet"

# --- c. about no flow: dropped and counted
before=$(ctl --json list --stats | json_py 'print(d["drops"]["icmp_unknown_flow"])')
in_client "$PY" -c '
import sys
from scapy.all import ICMP, IP, UDP, send
vip, cl = sys.argv[1], sys.argv[2]
quote = IP(src=vip, dst=cl) / UDP(sport=80, dport=9)
send(IP(src=cl, dst=vip) / ICMP(type=3, code=3) / bytes(quote)[:28], count=5, verbose=False)
' "$VIP" "$CLIENT_IP"
after=$(ctl --json list --stats | json_py 'print(d["drops"]["icmp_unknown_flow"])')
((after - before == 5)) || fail "icmp_unknown_flow went from $before to $after, want +5"
log "5 ICMP errors about no flow dropped and counted"
stop_nfqlb
