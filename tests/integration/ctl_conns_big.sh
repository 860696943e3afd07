#!/bin/bash
# A big conns listing streams and never stalls the packet path:
#  - 40000 UDP flows (one datagram each, from distinct source ports) fill
#    the connection table (at least 3/4 of them must arrive);
#  - `nfqlbctl --json conns` is read by a reader that stalls for 3 s, so
#    the daemon has a listing of several MB pending on a full socket;
#  - meanwhile HTTP requests through the director are answered at once
#    (each within 1 s), and other nfqlbctl requests are served too;
#  - the listing, once read, is complete: every UDP flow of the table,
#    as many entries as the table holds according to the metrics.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http, :5300 udp
#                                                           +-- s2 198.51.100.12:8080 http, :5300 udp
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

FLOWS=40000

topo_up 2
for i in 1 2; do
	start_http_server "$i" 8080
	start_udp_echo "$i" 5300
done
write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 8080 1 1)
  },
  {
    name = "dns"; protocol = "udp"; vip = "$VIP"; port = 5300;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 5300 1 1)
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"

in_client "$PY" "$LIB/udpflows.py" "$CLIENT_IP" "$VIP" 5300 "$FLOWS" --burst 200 >/dev/null
udp_flows() { ctl --json list | json_py 's = [x for x in d["services"] if x["name"] == "dns"][0]; print(s["conns"])'; }
# On a busy machine the queue may overflow and drop some datagrams (the
# kernel counts them, not us): what matters is a big table, so take what
# arrived once it stops changing, and require most of it.
LAST=-1
settled() {
	local n
	n=$(udp_flows)
	[[ $n == "$LAST" ]] && return 0
	LAST=$n
	sleep 0.5
	return 1
}
wait_until 20 settled || fail "the UDP flow count does not settle ($LAST)"
((LAST >= FLOWS * 3 / 4)) || fail "only $LAST of $FLOWS UDP flows reached the daemon"
log "$LAST of $FLOWS UDP flows in the table"
FLOWS=$LAST

# The stalled reader: nothing is read for 3 s, then everything.
start=$(now_ms)
(ctl --json conns | { sleep 3; cat; } >"$TMP/conns.json") &
LIST_PID=$!
sleep 0.5
for ((i = 0; i < 10; i++)); do
	t0=$(now_ms)
	body=$(in_client curl -s --max-time 5 "http://$VIP/") || fail "HTTP request $i failed during the listing"
	[[ $body == s[12] ]] || fail "HTTP request $i: '$body'"
	dt=$(($(now_ms) - t0))
	((dt < 1000)) || fail "HTTP request $i took $dt ms while a listing was pending"
done
proc_alive "$LIST_PID" || fail "the listing finished before the test could check the packet path (reader not stalled?)"
ctl list >/dev/null || fail "nfqlbctl list not served while a listing was pending"
wait_until 30 proc_dead "$LIST_PID" || fail "the listing did not finish"
wait "$LIST_PID" || fail "nfqlbctl conns failed"
log "listing of $(stat -c %s "$TMP/conns.json") bytes took $(($(now_ms) - start)) ms with a 3 s stall"

table=$(ctl metrics | sed -n 's/^nfqlb_connections //p')
"$PY" - "$TMP/conns.json" "$FLOWS" "$table" <<'PYEOF' || fail "the listing is incomplete"
import json, sys
conns = json.load(open(sys.argv[1]))["connections"]
flows, table = int(sys.argv[2]), int(sys.argv[3])
udp = [c for c in conns if c["protocol"] == "udp"]
assert len(udp) == flows, (len(udp), flows)
assert len({c["client_port"] for c in udp}) == flows
assert abs(len(conns) - table) <= 10, (len(conns), table)
PYEOF

stop_nfqlb
