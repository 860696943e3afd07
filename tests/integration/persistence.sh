#!/bin/bash
# Persistence (IPVS templates) on VS/NAT, scheduler rr, which alone would
# spread every new connection over s1 s2 s3:
#  a. TCP, persistence 2 s: six HTTP requests (six connections) from the
#     client all reach the server of the first one.
#  b. UDP, persistence 2 s, udp timeout 1 s: four flows (new source ports)
#     reach one server; once the flows and then the template have expired
#     the client is released: rr picks the next server, and the next
#     flows stick to that one.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11 :8080 http, :5353 udp echo
#                                                           +-- s2 198.51.100.12 :8080 http, :5353 udp echo
#                                                           +-- s3 198.51.100.13 :8080 http, :5353 udp echo
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
for i in 1 2 3; do
	start_http_server "$i" 8080
	start_udp_echo "$i" 5353
done

write_conf "$TMP/nfqlb.conf" <<EOF
timeouts: { udp = 1; };
services = (
  {
    name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; persistence = 2;
    $(servers_conf 8080 1 1 1)
  },
  {
    name = "dns"; protocol = "udp"; vip = "$VIP"; port = 53;
    scheduler = "rr"; persistence = 2; persistence_netmask = 24;
    $(servers_conf 5353 1 1 1)
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"

# ---- a. TCP
got=$(http_requests 6 | tr '\n' ' ')
log "tcp, six connections: $got"
[[ $got == "s1 s1 s1 s1 s1 s1 " ]] || fail "tcp persistence: got '$got', want s1 six times"

# ---- b. UDP
# flows COUNT BASE-PORT — the answering servers on one line.
flows() {
	in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count "$1" --base-port "$2" |
		awk '{ split($2, a, ":"); printf "%s%s", sep, ($1 == "TIMEOUT" ? "TIMEOUT" : a[1]); sep = " " } END { print "" }'
}
got=$(flows 4 41000)
log "udp, four flows: $got"
[[ $got == "s1 s1 s1 s1" ]] || fail "udp persistence: got '$got', want 's1 s1 s1 s1'"
# flows idle 1 s, then the template 2 s more, checked every second
sleep 4.5
got=$(flows 3 42000)
log "udp after the template expired: $got"
[[ $got == "s2 s2 s2" ]] || fail "udp release after the timeout: got '$got', want 's2 s2 s2'"

stop_nfqlb
