#!/bin/bash
# Connections survive a stop and a start of the daemon through the
# checkpoint (VS/NAT, scheduler rr):
#  - a long-lived TCP session (echo, a line every 100 ms, quiet while no
#    daemon runs) goes on after the restart, on the same server, while a
#    new connection after the restart is scheduled elsewhere;
#  - a UDP flow (same client port) is answered by the same server after
#    the restart, while a new flow goes elsewhere.
# rr starts from the first server after a restart: without the checkpoint
# the TCP session's packets are unknown non-SYNs (dropped, the session
# stalls) and the UDP flow lands on s1; so this fails without it.
# The table is written on SIGTERM and restored before the queue is bound.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11 :9000 echo, :5353/udp
#                                                           +-- s2 198.51.100.12 :9000 echo, :5353/udp
#                                                           +-- s3 198.51.100.13 :9000 echo, :5353/udp
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

CONF=$TMP/nfqlb.conf
CKPT=$TMP/connections.ckpt

# udp_from PORT — the server that answers a datagram from client port PORT.
udp_from() {
	local out
	out=$(in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 1 --base-port "$1")
	[[ $out == "$VIP:53 "* ]] || fail "UDP from port $1: no proper reply ($out)"
	out=${out#* }
	echo "${out%%:*}"
}

topo_up 3
for i in 1 2 3; do
	start_tcp_echo "$i" 9000
	start_udp_echo "$i" 5353
done
write_conf "$CONF" <<EOF
services = (
  {
    name = "echo"; protocol = "tcp"; vip = "$VIP"; port = 9000;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 9000 1 1 1)
  },
  {
    name = "dns"; protocol = "udp"; vip = "$VIP"; port = 53;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 5353 1 1 1)
  }
);
EOF
start_nfqlb "$CONF"

# rr: a first connection takes s1, so the long-lived one lands on s2.
[[ $(tcp_hold 9000 0) == hello ]] || fail "first TCP connection not echoed"
wait_until 5 test -z "$(in_server 1 ss -Htn state established '( sport = :9000 )')" ||
	fail "first TCP connection did not close"
echo_client_start 9000 --pause-file "$TMP/echo.pause"
echo_progress 5
holder=$(echo_holders 9000)
[[ $holder == s2 ]] || fail "long-lived connection on '$holder', want s2"
# UDP: port 42000 takes s1, the flow under test (42001) s2.
[[ $(udp_from 42000) == s1 ]] || fail "first UDP flow not on s1"
[[ $(udp_from 42001) == s2 ]] || fail "UDP flow 42001 not on s2"

# ---- stop (quiet session), checkpoint written, start, restored
touch "$TMP/echo.pause"
wait_until 5 test -e "$TMP/echo.pause.ack" || fail "client did not pause"
stop_nfqlb
[[ -s $CKPT ]] || fail "no checkpoint $CKPT after a clean stop"
grep -Eq "checkpoint $CKPT: [0-9]+ connections written" "$NFQLB_LOG" ||
	fail "no 'connections written' line after the stop"
log_mark=$(wc -l <"$NFQLB_LOG")
start_nfqlb "$CONF"
tail -n +"$((log_mark + 1))" "$NFQLB_LOG" >"$TMP/start.log"
grep -Eq "checkpoint $CKPT .*: [1-9][0-9]* connections restored" "$TMP/start.log" ||
	fail "no 'connections restored' line at start: $(cat "$TMP/start.log")"
log "$(grep -E 'connections restored' "$TMP/start.log")"

rm -f "$TMP/echo.pause"
echo_progress 10
holder=$(echo_holders 9000)
[[ $holder == s2 ]] || fail "after the restart the long-lived connection is on '$holder', want s2"
# a new connection after the restart: rr starts over, so s1
holders=$(holders_with_new 9000)
[[ $holders == "s1 s2" ]] || fail "established connections after the restart on '$holders', want the new one on s1 and the old on s2"
[[ $(udp_from 42002) == s1 ]] || fail "new UDP flow after the restart not on s1 (rr starts over)"
[[ $(udp_from 42001) == s2 ]] || fail "UDP flow 42001 left s2 across the restart"
log "TCP session and UDP flow kept on s2 across stop+start; new flows on s1"

echo_client_finish
stop_nfqlb
