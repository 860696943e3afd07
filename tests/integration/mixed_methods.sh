#!/bin/bash
# One daemon, three services, the three forwarding methods: NAT on port 8080,
# DR on port 80, TUN on port 81 of the same VIP, all answered by the same
# three real servers.  Then SIGHUP moves the DR service to NAT and back:
# new connections follow the new method without a restart.  NAT replies must
# come back through the director while DR/TUN ones go through the router: the
# servers route by source port (ip rule sport), as a mixed LVS setup must.
#
#  client --- director (VIP; nfqlb: web-nat 8080, web-dr 80, web-tun 81) --- [br0] --- s1..s3
#     \___ rt ___/  (DR/TUN replies come back through the router)
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
topo_direct_return
for i in 1 2 3; do
	ip -n "$(server_ns "$i")" route add default via "$DIRECTOR_IP" table 100
	ip -n "$(server_ns "$i")" rule add ipproto tcp sport 8080 table 100
	start_ipip_decap "$i"
	start_http_server "$i" 80
	start_http_server "$i" 81
	start_http_server "$i" 8080
done

# services_conf DR_METHOD — the three services, the port-80 one with DR_METHOD.
services_conf() {
	cat <<EOF2
services = (
  { name = "web-nat"; protocol = "tcp"; vip = "$VIP"; port = 8080;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 8080 1 1 1) },
  { name = "web-dr"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "$1";
    $(servers_conf 80 1 1 1) },
  { name = "web-tun"; protocol = "tcp"; vip = "$VIP"; port = 81;
    scheduler = "rr"; forward = "tun";
    $(servers_conf 81 1 1 1) }
);
EOF2
}

# via_director PORT — bytes the director sent towards the client during one
# 50 MB download from PORT: large for NAT (replies pass through it), small
# for DR and TUN.
via_director() {
	local tx0 rc=0
	tx0=$(dev_bytes "$NS_DIRECTOR" eth0 tx)
	in_client curl -sS --max-time 60 -o /dev/null "http://$VIP:$1/big" || rc=$?
	((rc == 0)) || fail "download from port $1 failed (curl status $rc)"
	echo $(($(dev_bytes "$NS_DIRECTOR" eth0 tx) - tx0))
}

services_conf dr | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"
for port in 8080 80 81; do
	http_requests 6 / "$VIP:$port" >"$TMP/bodies"
	assert_counts "$TMP/bodies" "s1=2 s2=2 s3=2"
done
nat=$(via_director 8080) dr=$(via_director 80) tun=$(via_director 81)
log "bytes through the director's client side: nat $nat, dr $dr, tun $tun"
((nat > 50000000 && dr < 1000000 && tun < 1000000)) || fail "replies took the wrong path (nat $nat, dr $dr, tun $tun)"

services_conf nat | write_conf "$TMP/nfqlb.conf"
for i in 1 2 3; do ip -n "$(server_ns "$i")" rule add ipproto tcp sport 80 table 100; done
reload_nfqlb
http_requests 3 / "$VIP:80" >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=1 s2=1 s3=1"
moved=$(via_director 80)
((moved > 50000000)) || fail "after reload to nat, port 80 replies still bypass the director ($moved bytes)"
log "reload dr -> nat: port 80 replies now pass the director ($moved bytes)"

services_conf dr | write_conf "$TMP/nfqlb.conf"
for i in 1 2 3; do ip -n "$(server_ns "$i")" rule del ipproto tcp sport 80 table 100; done
reload_nfqlb
http_requests 3 / "$VIP:80" >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=1 s2=1 s3=1"
back=$(via_director 80)
((back < 1000000)) || fail "after reload to dr, port 80 replies still pass the director ($back bytes)"
log "reload nat -> dr: port 80 replies bypass the director again ($back bytes)"
stop_nfqlb
