#!/bin/bash
# sorry_server (as keepalived's): when every real server of a service is
# down, new connections go to the sorry server; when one is back, new
# connections go to it again. tcp checks, interval 1 s, rise 2, fall 2.
# nfqlbctl list (table, JSON, metrics) shows the sorry server and whether
# it is in use.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080
#                                                           +-- s3 198.51.100.13:8081 (sorry server)
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

# sorry_field FIELD — a field of web's sorry_server in --json list
sorry_field() { ctl --json list | json_py "print(str(d['services'][0]['sorry_server']['$1']).lower())"; }

WAIT=20
topo_up 3
for i in 1 2; do start_http_server "$i" 8080; done
start_http_server 3 8081

write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    $(servers_conf 8080 1 1)
    sorry_server = { address = "$(server_ip 3)"; port = 8081; };
    health: { type = "tcp"; interval = 1; timeout = 1; rise = 2; fall = 2; };
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"

http_requests 10 >"$TMP/bodies.up"
assert_counts "$TMP/bodies.up" "s1=5 s2=5"

stop_http_server 1 8080
wait_log $WAIT 1 "web: server $(server_ip 1):8080: down"
http_requests 6 >"$TMP/bodies.one"
assert_counts "$TMP/bodies.one" "s2=6"

stop_http_server 2 8080
wait_log $WAIT 1 "web: server $(server_ip 2):8080: down"
wait_log 5 1 "web: no server is up: new connections go to the sorry server $(server_ip 3):8081"
http_requests 6 >"$TMP/bodies.sorry"
assert_counts "$TMP/bodies.sorry" "s3=6"
# the sorry server's replies are rewritten back to the VIP as well
seen=$(http_requests 2 /ip | sort -u)
[[ $seen == "$CLIENT_IP" ]] || fail "sorry server saw '$seen', want $CLIENT_IP"
# nfqlbctl shows the sorry server in use, with the 8 connections it got
[[ $(sorry_field in_use) == true && $(sorry_field conns) == 8 ]] ||
	fail "--json list: sorry_server $(ctl --json list)"
ctl list | grep -Eq "^  -> $(server_ip 3):8081 +Masq +1 +[0-9]+ +[0-9]+ +sorry \(in use\)$" ||
	fail "list does not show the sorry server in use: $(ctl list)"
ctl metrics | "$PY" "$LIB/promcheck.py" - --expect 'nfqlb_service_sorry_in_use{service="web"} 1' ||
	fail "metrics: sorry server not in use"
ctl --json list | json_py 's = d["services"][0]; assert s["conns"] == sum(x["conns"] for x in s["servers"]) + s["sorry_server"]["conns"], s' ||
	fail "the service's conns are not its servers' plus the sorry server's"

start_http_server 1 8080
wait_log $WAIT 1 "web: server $(server_ip 1):8080: up"
wait_log 5 1 "web: a server is up: the sorry server $(server_ip 3):8081 takes no new connections"
http_requests 6 >"$TMP/bodies.back"
assert_counts "$TMP/bodies.back" "s1=6"
[[ $(sorry_field in_use) == false ]] || fail "--json list: the sorry server is still in use"
ctl list | grep -Eq "^  -> $(server_ip 3):8081 .* sorry$" || fail "list: $(ctl list)"

stop_nfqlb
