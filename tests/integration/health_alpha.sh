#!/bin/bash
# alpha: servers start down until their check passes. s2 has no listener
# from the start: with alpha it never takes a connection, even in the first
# seconds (without alpha it would count as up until fall = 3 checks failed,
# and connections sent to it then would be refused). tcp checks, interval
# 1 s, rise 2, fall 3.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080 (no listener at first)
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

WAIT=20
S1="web: server $(server_ip 1):8080"
S2="web: server $(server_ip 2):8080"
topo_up 2
start_http_server 1 8080

write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    alpha = true;
    $(servers_conf 8080 1 1)
    health: { type = "tcp"; interval = 1; timeout = 1; rise = 2; fall = 3; };
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"
started=$(now_ms)
# Right away: no server is up yet; the SYNs wait (dropped, the client
# retransmits) until s1 has passed rise checks.
http_requests 6 >"$TMP/bodies.start"
ms=$(($(now_ms) - started))
assert_counts "$TMP/bodies.start" "s1=6"
log "6 requests from the start took $ms ms"
((ms < 3000 + 6 * 1000)) || fail "requests from the start took $ms ms"
(($(log_count "$S1: down until a tcp check passes (alpha)") == 1)) || fail "s1 did not start down"
(($(log_count "$S2: down until a tcp check passes (alpha)") == 1)) || fail "s2 did not start down"
(($(log_count "$S1: up (tcp check passed 2 times)") == 1)) || fail "s1 did not come up"
(($(log_count "$S2: up") == 0)) || fail "s2 came up with nothing listening"

start_http_server 2 8080
wait_log $WAIT 1 "$S2: up"
http_requests 10 >"$TMP/bodies.both"
assert_counts "$TMP/bodies.both" "s1=5 s2=5"

stop_nfqlb
