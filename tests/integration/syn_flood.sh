#!/bin/bash
# SYN flood (issue 9): 4000 SYNs from spoofed client addresses at a NAT
# service, with max_connections = 300.  The table never holds more than 300
# entries, the daemon's memory stays flat, a long-lived established
# connection keeps echoing throughout, a new client is served during the
# flood (the oldest half-open entries make room: IPVS's drop_entry), and
# every client is served once the flood stops.
#
#  client (real + spoofed 192.0.2.10-250) --- director (max_connections 300) --- s1, s2
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

MAX=300
topo_up 2
for i in 1 2; do
	start_http_server "$i" 8080
	start_tcp_echo "$i" 9000
done
{
	cat <<EOF2
daemon: {
  queue = 0;
  control_socket = "$TMP/nfqlb.sock";
  max_connections = $MAX;
  log_level = "info";
};
iptables: { manage = true; chain = "NFQLB"; };
services = (
  { name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80; scheduler = "rr";
    forward = "nat"; $(servers_conf 8080 1 1) },
  { name = "echo"; protocol = "tcp"; vip = "$VIP"; port = 9000; scheduler = "rr";
    forward = "nat"; $(servers_conf 9000 1 1) }
);
EOF2
} >"$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$NFQLB_PID/status"; }
echo_rounds() { cat "$TMP/echo.status" 2>/dev/null || echo 0; }
echo_beyond() { (($(echo_rounds) > $1)); }
in_client "$PY" "$LIB/tcpecho_client.py" "$VIP" 9000 "$TMP/echo.status" "$TMP/echo.stop" \
	--max-seconds 120 >"$TMP/echo.log" 2>&1 &
echo_pid=$!
wait_until 5 test -s "$TMP/echo.status" || fail "long-lived echo connection did not start"
http_requests 4 >/dev/null
rss0=$(rss)

# The flood, bounded: 4000 SYNs, random spoofed sources and ports.
in_client "$PY" -c '
import random, sys
from scapy.all import IP, TCP, send
rnd = random.Random(7)
pkts = [IP(src="192.0.2.%d" % rnd.randint(10, 250), dst=sys.argv[1]) /
        TCP(sport=rnd.randint(1024, 65535), dport=80, flags="S", seq=rnd.getrandbits(32))
        for _ in range(4000)]
send(pkts, verbose=False)
' "$VIP" >"$TMP/flood.log" 2>&1 &
flood_pid=$!

peak=0 during=""
start=$(now_ms)
while proc_alive "$flood_pid" && (($(now_ms) - start < 60000)); do
	n=$(ctl --json conns | json_py 'print(len(d["connections"]))')
	((n > peak)) && peak=$n
	# a new client during the flood
	[[ -n $during ]] || { during=$(in_client curl -s --max-time 3 "http://$VIP/") || during=""; }
	sleep 0.2
done
wait "$flood_pid" || fail "the flood generator failed: $(cat "$TMP/flood.log")"
n=$(ctl --json conns | json_py 'print(len(d["connections"]))')
((n > peak)) && peak=$n
dropped=$(ctl --json list --stats | json_py 'print(d["drops"]["embryonic_dropped"])')
log "flood done: peak $peak entries of $MAX, $dropped half-open entries dropped early"
((peak <= MAX)) || fail "the table held $peak entries, max_connections is $MAX"
((dropped > 3000)) || fail "only $dropped half-open entries dropped: the defence did not engage"
[[ $during == s[12] ]] || fail "no new client was served during the flood"
log "a new client was served during the flood (by $during)"

rounds=$(echo_rounds)
wait_until 10 echo_beyond $((rounds + 10)) || fail "the established echo connection stalled: $(cat "$TMP/echo.log")"
touch "$TMP/echo.stop"
wait "$echo_pid" || fail "the established echo connection broke during the flood: $(cat "$TMP/echo.log")"
log "established connection echoed $(echo_rounds) lines through the flood"

http_requests 10 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=5 s2=5"
rss1=$(rss)
log "daemon RSS ${rss0} kB before, ${rss1} kB after"
((rss1 - rss0 < 2048)) || fail "daemon RSS grew from $rss0 to $rss1 kB"
nfqlb_alive || fail "daemon died"
stop_nfqlb
