#!/bin/bash
# Connections survive a stop and a start of the daemon through the
# checkpoint (scheduler rr), first with VS/NAT, then with VS/DR:
#  - a long-lived TCP session (echo, a line every 100 ms, quiet while no
#    daemon runs) goes on after the restart, on the same server, while a
#    new connection after the restart is scheduled elsewhere;
#  - a UDP flow (same client port) is answered by the same server after
#    the restart, while a new flow goes elsewhere.
# rr starts from the first server after a restart: without the checkpoint
# the TCP session's packets are unknown non-SYNs (dropped, the session
# stalls) and the UDP flow lands on s1; so this fails without it.
# The table is written on SIGTERM and restored before the queue is bound.
# DR: the same TCP session test once the servers answer the client
# directly (topo_direct_return); the director sees only the client side.
# Then a SIGUSR2 restart while that session keeps sending.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11 :9000 echo, :5353/udp
#                                                           +-- s2 198.51.100.12 :9000 echo, :5353/udp
#                                                           +-- s3 198.51.100.13 :9000 echo, :5353/udp
#  DR phase: + client eth1 192.0.2.130 --- rt --- [br0]; servers: VIP on lo,
#            default route via rt
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

# session_open — rr: a first connection takes s1, so the long-lived
# session (paused while no daemon runs) lands on s2.
session_open() {
	[[ $(tcp_hold 9000 0) == hello ]] || fail "first TCP connection not echoed"
	wait_until 5 test -z "$(in_server 1 ss -Htn state established '( sport = :9000 )')" ||
		fail "first TCP connection did not close"
	echo_client_start 9000 --pause-file "$TMP/echo.pause"
	echo_progress 5
	[[ $(echo_holders 9000) == s2 ]] || fail "long-lived connection on '$(echo_holders 9000)', want s2"
}

# restart_quiet — pause the session, stop (checkpoint written), start
# (restored), resume.
restart_quiet() {
	local mark
	touch "$TMP/echo.pause"
	wait_until 5 test -e "$TMP/echo.pause.ack" || fail "client did not pause"
	stop_nfqlb
	[[ -s $CKPT ]] || fail "no checkpoint $CKPT after a clean stop"
	grep -Eq "checkpoint $CKPT: [0-9]+ connections written" "$NFQLB_LOG" ||
		fail "no 'connections written' line after the stop"
	mark=$(wc -l <"$NFQLB_LOG")
	start_nfqlb "$CONF"
	tail -n +"$((mark + 1))" "$NFQLB_LOG" >"$TMP/start.log"
	grep -Eq "checkpoint $CKPT .*: [1-9][0-9]* connections restored" "$TMP/start.log" ||
		fail "no 'connections restored' line at start: $(cat "$TMP/start.log")"
	log "$(grep -E 'connections restored' "$TMP/start.log")"
	rm -f "$TMP/echo.pause" "$TMP/echo.pause.ack"
}

# session_kept — the session goes on, on s2; a new connection goes to s1.
session_kept() {
	local holders
	echo_progress 10
	[[ $(echo_holders 9000) == s2 ]] || fail "after the restart the long-lived connection is on '$(echo_holders 9000)', want s2"
	holders=$(holders_with_new 9000)
	[[ $holders == "s1 s2" ]] || fail "established connections after the restart on '$holders', want the new one on s1 and the old on s2"
}

topo_up 3
for i in 1 2 3; do
	start_tcp_echo "$i" 9000
	start_udp_echo "$i" 5353
done
write_conf "$CONF" <<EOF
services = (
$(service_conf echo tcp 9000 nat 9000 1 1 1),
$(service_conf dns udp 53 nat 5353 1 1 1)
);
EOF
start_nfqlb "$CONF"

# ---- NAT
session_open
# UDP: port 42000 takes s1, the flow under test (42001) s2.
[[ $(udp_from 42000) == s1 ]] || fail "first UDP flow not on s1"
[[ $(udp_from 42001) == s2 ]] || fail "UDP flow 42001 not on s2"

restart_quiet
session_kept
[[ $(udp_from 42002) == s1 ]] || fail "new UDP flow after the restart not on s1 (rr starts over)"
[[ $(udp_from 42001) == s2 ]] || fail "UDP flow 42001 left s2 across the restart"
log "TCP session and UDP flow kept on s2 across stop+start; new flows on s1"

echo_client_finish
stop_nfqlb

# ---- DR: the servers answer the client directly; a fresh table
rm -f "$CKPT"
topo_direct_return
write_conf "$CONF" <<EOF
services = (
$(service_conf echo tcp 9000 dr 9000 1 1 1)
);
EOF
start_nfqlb "$CONF"
session_open
restart_quiet
session_kept
log "DR: TCP session kept on s2 across stop+start; new connection on s1"
# and through a hitless restart while it keeps sending (the new image
# starts its DR neighbour state afresh)
hitless_restart kill -USR2 "$NFQLB_PID"
echo_progress 10
echo_client_finish
stop_nfqlb
