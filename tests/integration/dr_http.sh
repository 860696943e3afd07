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
want=$(sha256sum <"$BIGFILE" | cut -d' ' -f1)

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

for mode in on off; do
	tcp_offload "$mode"
	rm -f "$TMP/got"
	tx0=$(dev_bytes "$NS_DIRECTOR" eth0 tx)
	start=$(now_ms)
	rc=0
	in_client curl -sS --max-time 120 -o "$TMP/got" "http://$VIP/big" || rc=$?
	((rc == 0)) || fail "offloads $mode: download failed (curl status $rc)"
	ms=$(($(now_ms) - start))
	size=$(stat -c %s "$TMP/got")
	((size == BIG_SIZE)) || fail "offloads $mode: got $size bytes, want $BIG_SIZE"
	got=$(sha256sum <"$TMP/got" | cut -d' ' -f1)
	[[ $got == "$want" ]] || fail "offloads $mode: sha256 $got, want $want"
	tx=$(($(dev_bytes "$NS_DIRECTOR" eth0 tx) - tx0))
	((tx < 1000000)) || fail "offloads $mode: the director sent $tx bytes to the client side: replies did not bypass it"
	log "offloads $mode: 50 MB intact in $ms ms, director sent $tx bytes towards the client"
	# The other way: the client's data crosses the director (GSO
	# super-packets with offloads on, full-size DF segments without).
	in_client ip route flush cache
	start=$(now_ms)
	rc=0
	out=$(in_client curl -sS --max-time 120 -H 'Expect:' --data-binary "@$BIGFILE" "http://$VIP/upload") || rc=$?
	((rc == 0)) || fail "offloads $mode: upload failed (curl status $rc)"
	[[ $out == "$BIG_SIZE $want" ]] || fail "offloads $mode: upload arrived damaged: $out"
	log "offloads $mode: 50 MB upload intact in $(($(now_ms) - start)) ms"
done

stop_nfqlb
