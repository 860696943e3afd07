#!/bin/bash
# Health checks, type http: GET /health with a Host header, expect status
# 200 and "healthy" in the body (interval 1 s, timeout 1 s, rise 2, fall 2).
#  a. the servers see the configured Host header;
#  b. s2 answers 500: down with "http: status 500, expected 200", no new
#     connections (its listener is up all along: only the status decides);
#  c. back to 200: up again, takes its share;
#  d. s2 answers 200 with the body "degraded": down with "body lacks";
#  e. s1's listener stops: the http check fails at its connect.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

S1="web: server $(server_ip 1):8080"
S2="web: server $(server_ip 2):8080"
WAIT=20 # generous: fall*interval+timeout is 3 s

topo_up 2
for i in 1 2; do start_http_server "$i" 8080; done

write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    forward = "nat";
    $(servers_conf 8080 1 1)
    health: { type = "http"; interval = 1; timeout = 1; rise = 2; fall = 2;
              path = "/health"; host = "www.example.test";
              expect_status = 200; expect_body = "healthy"; };
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"

# ---- a. the checks arrive with our Host header
_host_seen() { grep -q 'GET /health HTTP/1.0' "$TMP/httpd-s$1-8080.log" &&
	grep -q 'health check, Host: www.example.test$' "$TMP/httpd-s$1-8080.log"; }
wait_until 10 _host_seen 1 || fail "s1 saw no GET /health with Host www.example.test: $(tail -n 5 "$TMP/httpd-s1-8080.log")"
wait_until 10 _host_seen 2 || fail "s2 saw no GET /health with Host www.example.test"
http_requests 10 >"$TMP/bodies.up"
assert_counts "$TMP/bodies.up" "s1=5 s2=5"

# ---- b. status 500
echo 500 >"$(health_file 2 8080)"
wait_log $WAIT 1 "$S2: down (http: status 500, expected 200)"
http_requests 10 >"$TMP/bodies.500"
assert_counts "$TMP/bodies.500" "s1=10"

# ---- c. healthy again
rm "$(health_file 2 8080)"
wait_log $WAIT 1 "$S2: up"
http_requests 10 >"$TMP/bodies.back"
assert_counts "$TMP/bodies.back" "s1=5 s2=5"

# ---- d. the right status, the wrong body
echo "200 degraded" >"$(health_file 2 8080)"
wait_log $WAIT 1 "$S2: down (http: body lacks \"healthy\")"
http_requests 10 >"$TMP/bodies.degraded"
assert_counts "$TMP/bodies.degraded" "s1=10"
rm "$(health_file 2 8080)"
wait_log $WAIT 2 "$S2: up"

# ---- e. no listener at all
stop_http_server 1 8080
wait_log $WAIT 1 "$S1: down (connect: Connection refused)"
http_requests 10 >"$TMP/bodies.s1down"
assert_counts "$TMP/bodies.s1down" "s2=10"

stop_nfqlb
