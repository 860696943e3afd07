#!/bin/bash
# offload = true where there is no kernel path: a VS/DR service and a VS/TUN
# service start, the daemon logs once per service why each stays on the
# per-packet path, and both balance as without offload (every client packet
# passes the queue, no nat chain).
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

topo_up 2
topo_direct_return
start_ipip_decap 2
start_http_server 1 80
# server 2 answers the TUN service on the VIP's port 81
start_http_server 2 81
topo_settle

write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  { name = "web-dr"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "dr"; offload = true;
    servers = ( { address = "$(server_ip 1)"; } ); },
  { name = "web-tun"; protocol = "tcp"; vip = "$VIP"; port = 81;
    scheduler = "rr"; forward = "tun"; offload = true;
    servers = ( { address = "$(server_ip 2)"; } ); }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"
wait_log 5 1 'web-dr: offload = true: forward = "dr" has no kernel fast path'
wait_log 5 1 'web-tun: offload = true: forward = "tun" has no kernel fast path'

# packets read from the queues (the metric has a queue label)
queued() { ctl metrics | awk 'index($1, "nfqlb_queue_packets_total") == 1 { s += $2 } END { print s + 0 }'; }
q0=$(queued)
[[ $(http_requests 5) == $'s1\ns1\ns1\ns1\ns1' ]] || fail "DR service with offload = true did not balance"
[[ $(http_requests 5 / "$VIP:81") == $'s2\ns2\ns2\ns2\ns2' ]] || fail "TUN service with offload = true did not balance"
q=$(($(queued) - q0))
# SYN, ACK, request, ACK and FIN of each connection pass the queue
((q >= 40)) || fail "10 per-packet connections: only $q packets through the queue"
log "10 connections, $q packets through the queue"
ctl --json list | json_py 'assert all(not s["offload"] for s in d["services"]), d' ||
	fail "a fallen-back service is listed as offloading"
if in_director iptables-save -t nat 2>/dev/null | grep -q NFQLB; then
	fail "a nat chain was installed without an offload service"
fi
# a reload logs nothing new: the reason was given once
reload_nfqlb
(($(log_count 'has no kernel fast path') == 2)) || fail "the fallback was logged again on reload"
stop_nfqlb
