#!/bin/bash
# A server removed by reload, per service setting expire_nodest_conn:
#  a. false: the removed server retires. Its established TCP connection (an
#     echo, one line every 100 ms) carries on through NAT (its reply rule
#     stays), while a UDP flow of a removed server is expired at once: the
#     client's next datagram from the same port is answered by another
#     server instead of being blackholed for the UDP timeout.
#  b. listed again, the retired server comes back with its connection.
#  c. true (the default): removing it takes its connections with it: the
#     echo connection stops (its packets are dropped as an unknown flow).
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11 :9000 echo, :5353 udp echo
#                                                           +-- s2 198.51.100.12 :9000 echo, :5353 udp echo
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

CONF=$TMP/nfqlb.conf
topo_up 2
for i in 1 2; do
	start_tcp_echo "$i" 9000
	start_udp_echo "$i" 5353
done

# make_conf EXPIRE "ECHO-SERVERS" "DNS-SERVERS" — server numbers listed.
make_conf() {
	local expire=$1 n echo_list="" dns_list="" sep
	sep=""
	for n in $2; do echo_list+="$sep{ address = \"$(server_ip "$n")\"; port = 9000; }"; sep=", "; done
	sep=""
	for n in $3; do dns_list+="$sep{ address = \"$(server_ip "$n")\"; port = 5353; }"; sep=", "; done
	write_conf "$CONF" <<EOF
services = (
  { name = "echo"; protocol = "tcp"; vip = "$VIP"; port = 9000; scheduler = "rr";
    expire_nodest_conn = $expire; servers = ( $echo_list ); },
  { name = "dns"; protocol = "udp"; vip = "$VIP"; port = 53; scheduler = "rr";
    expire_nodest_conn = $expire; servers = ( $dns_list ); }
);
EOF
}

echo_rounds() { cat "$TMP/echo.status" 2>/dev/null || echo 0; }
echo_rounds_at_least() { (($(echo_rounds) >= $1)); }
echo_progress() {
	wait_until 10 echo_rounds_at_least $(($(echo_rounds) + $1)) ||
		fail "the echo connection stalled at $(echo_rounds) round trips: $(cat "$TMP/echo.log")"
}
# udp_from PORT — the server answering a datagram from client port PORT.
udp_from() {
	in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 1 --base-port "$1" --timeout 2 |
		awk '{ split($2, a, ":"); print ($1 == "TIMEOUT" ? "TIMEOUT" : a[1]) }'
}

make_conf false "1 2" "1 2"
start_nfqlb "$CONF"

ip netns exec "$NS_CLIENT" "$PY" "$LIB/tcpecho_client.py" "$VIP" 9000 \
	"$TMP/echo.status" "$TMP/echo.stop" --max-seconds 120 >"$TMP/echo.log" 2>&1 &
ECHO_PID=$!
echo_progress 5
holder=""
for i in 1 2; do
	[[ -z $(in_server "$i" ss -Htn state established '( sport = :9000 )') ]] || holder=$i
done
[[ -n $holder ]] || fail "no server holds the echo connection"
other=$((3 - holder))
udp=$(udp_from 45000)
[[ $udp == s[12] ]] || fail "udp flow not answered: '$udp'"
[[ $(udp_from 45000) == "$udp" ]] || fail "udp flow changed server before any reload"
log "echo connection on s$holder, udp flow on $udp"

# ---- a. expire_nodest_conn = false
make_conf false "$other" "$((3 - ${udp#s}))"
reload_nfqlb
echo_progress 10
log "s$holder removed, its echo connection carries on"
got=$(udp_from 45000)
[[ $got == "s$((3 - ${udp#s}))" ]] || fail "udp flow of the removed $udp: answered by '$got', want s$((3 - ${udp#s}))"
log "udp flow of the removed $udp now answered by $got"
grep -q "removed; 1 connections carry on" "$NFQLB_LOG" || fail "no log line for the retired server"

# ---- b. listed again: back with its connection
make_conf false "1 2" "1 2"
reload_nfqlb
echo_progress 5

# ---- c. expire_nodest_conn = true: the connection goes with the server
make_conf true "$other" "1 2"
reload_nfqlb
wait_until 10 proc_dead "$ECHO_PID" || fail "the echo connection of removed s$holder still works with expire_nodest_conn = true"
rc=0
wait "$ECHO_PID" || rc=$?
((rc == 1)) || fail "echo client: exit $rc, want 1 (connection broken): $(cat "$TMP/echo.log")"
log "expire_nodest_conn = true: the connection ended with its server ($(tail -n 1 "$TMP/echo.log"))"

stop_nfqlb
