#!/bin/bash
# offload = true (VS/NAT): the daemon schedules a flow's first packet and
# conntrack carries the rest (README, "Kernel fast path").
#  a. 30 HTTP connections are spread rr 10/10/10; the queue saw about one
#     packet per connection; conntrack holds them with the daemon's marks;
#  b. once conntrack ends them (TIME_WAIT, short here) their DESTROY events
#     remove them from nfqlbctl conns;
#  c. a 50 MB download arrives byte-exact while the queue sees a handful of
#     its packets;
#  d. a long-lived echo session (service "echo", lc) is listed as offloaded
#     and counted active, so lc sends the next connection elsewhere;
#  d2. a segment of it out of conntrack's window (INVALID, so without
#     NAT) is rewritten by the daemon (offload_stray): the session goes on;
#  e. draining its server keeps it going; SIGUSR2 keeps it going and the
#     new image still follows it;
#  f. removing its server (expire_nodest_conn = true) kills it: its
#     conntrack entry is deleted;
#  g. stop leaves iptables-save as it was before start.
# The director's FORWARD policy is DROP: offloaded packets must be accepted
# by the daemon's filter chain. UDP flows (service "dns") offload too.
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source=../lib/ctl.sh
source "$LIB/ctl.sh"

# offload_mq.sh runs all of this with two queues (two worker threads)
QUEUES=${OFFLOAD_QUEUES:-1}
if ((QUEUES > 1)); then
	eval "one_queue_$(declare -f write_conf)"
	write_conf() {
		one_queue_write_conf "$@"
		sed -i "s/queues = 1;/queues = $QUEUES;/" "$1"
	}
fi

topo_up 3
for i in 1 2 3; do
	start_http_server "$i" 8080
	start_tcp_echo "$i" 7
	start_udp_echo "$i" 5353
done
topo_settle
# conntrack's own TIME_WAIT (120 s) would outlast the test: the DESTROY
# event of a closed connection comes 2 s after its close here
in_director sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=2
in_director sysctl -qw net.netfilter.nf_conntrack_acct=1
events=$(in_director sysctl -n net.netfilter.nf_conntrack_events)
((events != 0)) || fail "net.netfilter.nf_conntrack_events is 0 in the director namespace"

# services N... — the configuration, echo over servers N...
services() {
	local echo_servers="" n sep=""
	for n in "$@"; do
		echo_servers+="$sep{ address = \"$(server_ip "$n")\"; port = 7; weight = 1; }"
		sep=", "
	done
	echo_servers="servers = ( $echo_servers );"
	cat <<EOF
services = (
  { name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "nat"; offload = true;
    $(servers_conf 8080 1 1 1) },
  { name = "echo"; protocol = "tcp"; vip = "$VIP"; port = 7;
    scheduler = "lc"; forward = "nat"; offload = true;
    $echo_servers },
  { name = "dns"; protocol = "udp"; vip = "$VIP"; port = 53;
    scheduler = "rr"; forward = "nat"; offload = true;
    $(servers_conf 5353 1 1 1) }
);
EOF
}
services 1 2 3 | write_conf "$TMP/nfqlb.conf"
in_director iptables -P FORWARD DROP
ipt_before=$(ipt_snapshot "$NS_DIRECTOR")
start_nfqlb "$TMP/nfqlb.conf"

# metric NAME — its value, summed over labels (queues)
metric() { ctl metrics | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'; }
# offloaded_lines PORT — offloaded entries to VIP:PORT in nfqlbctl conns
offloaded_lines() { ctl conns | grep -F " $VIP:$1 " | grep -c ' offload$' || true; }
# The kernel's garbage collector reaps expired entries (and sends their
# DESTROY events) up to a minute late; a dump reaps them at once.
# session_listed — the echo session is listed once, ESTABLISHED, offloaded
session_listed() { [[ $(ctl conns | grep -F " $VIP:7 " | grep ' ESTABLISHED ' | grep -c ' offload$') == 1 ]]; }
no_offloaded() {
	in_director conntrack -L >/dev/null 2>&1 || true
	(($(offloaded_lines "$1") == 0))
}

# ---- a. rr over conntrack, one queued packet per connection
q0=$(metric nfqlb_queue_packets_total)
http_requests 30 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=10 s2=10 s3=10"
q=$(($(metric nfqlb_queue_packets_total) - q0))
((q >= 30 && q <= 45)) || fail "30 offloaded connections: the queue saw $q packets, want 30..45 (one SYN each)"
log "30 connections, $q packets through the queue"
in_director conntrack -L -p tcp --dport 80 >"$TMP/ct" 2>/dev/null
marks=$(grep -o 'mark=[0-9]*' "$TMP/ct" | sort | uniq -c | awk '{ printf "%s%s:%d", sep, $2, $1; sep = " " }')
[[ $marks == "mark=131072:10 mark=196608:10 mark=65536:10" ]] ||
	fail "conntrack marks: '$marks', want 10 each of the three servers' ids"
log "conntrack: $marks"

# UDP: 9 flows spread rr; 20 datagrams of one flow, one queued
in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 9 --base-port 41000 | sed -E 's/^[^ ]* //; s/:.*//' >"$TMP/udp"
assert_counts "$TMP/udp" "s1=3 s2=3 s3=3"
q0=$(metric nfqlb_queue_packets_total)
out=$(in_client "$PY" - "$VIP" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 42000))
s.connect((sys.argv[1], 53))
s.settimeout(3)
got = set()
for i in range(20):
    s.send(b"x%d" % i)
    got.add(s.recv(100).decode().split(":")[0])
print(" ".join(sorted(got)))
EOF
) || fail "UDP flow: a datagram got no reply from the VIP"
q=$(($(metric nfqlb_queue_packets_total) - q0))
[[ $out == s? ]] || fail "UDP flow answered by '$out', want one server"
((q <= 2)) || fail "20 datagrams of one offloaded UDP flow: $q through the queue, want 1"
log "UDP: 9 flows rr, a flow of 20 datagrams from $out with $q through the queue"

# ---- b. DESTROY events end the daemon's entries
wait_until 20 no_offloaded 80 || fail "$(offloaded_lines 80) offloaded entries left 20 s after their close: $(ctl conns | tail -n 3)"
ended=$(metric nfqlb_conntrack_ended_total)
((ended >= 30)) || fail "nfqlb_conntrack_ended_total $ended, want >= 30"
[[ $(srv_field web 1 inactive_conns) == 0 ]] || fail "web server 1 still counts inactive connections"
log "all 30 ended by DESTROY events ($ended)"

# ---- c. a long transfer passes the kernel, not the queue
want=$(sha256sum <"$BIGFILE" | cut -d' ' -f1)
q0=$(metric nfqlb_queue_packets_total)
in_client curl -sS --max-time 60 -o "$TMP/got" "http://$VIP/big" || fail "download failed"
got=$(sha256sum <"$TMP/got" | cut -d' ' -f1)
[[ $got == "$want" && $(stat -c %s "$TMP/got") == "$BIG_SIZE" ]] || fail "download damaged"
q=$(($(metric nfqlb_queue_packets_total) - q0))
((q <= 5)) || fail "50 MB offloaded download: $q packets through the queue, want <= 5"
log "50 MB download intact, $q packets through the queue"
# with nf_conntrack_acct the ended flow's traffic is counted
wait_until 20 no_offloaded 80 || fail "the download's entry did not end"
bytes=$(ctl --json list | json_py 'print(sum(s["out_bytes"] for s in d["services"] if s["name"] == "web"))')
((bytes > BIG_SIZE)) || fail "web out_bytes $bytes after a 50 MB download, want > $BIG_SIZE"

# ---- d. a long-lived session: listed, active, seen by lc
echo_client_start 7
echo_progress 5
holder=$(echo_holder 7)
wait_until 5 session_listed || fail "the echo session is not listed as offloaded and ESTABLISHED: $(ctl conns)"
[[ $(srv_field echo "$holder" active_conns) == 1 && $(srv_field echo "$holder" offloaded_conns) == 1 ]] ||
	fail "echo server $holder: active $(srv_field echo "$holder" active_conns), offloaded $(srv_field echo "$holder" offloaded_conns), want 1 and 1"
# echo's servers have the ids after web's three: 4, 5, 6
in_director conntrack -L -p tcp --dport 7 2>/dev/null | grep -F "src=$(server_ip "$holder") " | grep -q "mark=$(((holder + 3) << 16)) " ||
	fail "no conntrack entry with server $holder's mark for the echo session"
holders=$(holders_with_new 7)
[[ $holders == "s1 s2" || $holders == "s1 s3" ]] ||
	fail "lc with one active offloaded session on s$holder: holders '$holders', want the new one elsewhere"
log "lc: holders with a new connection: $holders"

# ---- d2. a segment conntrack does not carry: the daemon rewrites it
# The client's sequence number 2^30 ahead is "over the upper bound" of its
# window: conntrack lets it pass without an entry. Accepted as it was, it
# would reach the director's own VIP, whose stack answers with a reset
# (seq = the segment's ack, the client's next expected byte).
stray() { ctl metrics | awk '$1 == "nfqlb_packets_passed_total{cause=\"offload_stray\"}" { s += $2 } END { print s + 0 }'; }
stray_rose() { (($(stray) > $1)); }
stray0=$(stray)
cport=$(sed -n 's/^connected from .*:\([0-9]*\)$/\1/p' "$TMP/echo.log")
[[ -n $cport ]] || fail "the echo client did not say its port: $(cat "$TMP/echo.log")"
in_client "$PY" - "$VIP" "$cport" <<'EOF' >"$TMP/inject.log" 2>&1 || fail "injecting an out-of-window segment failed: $(cat "$TMP/inject.log")"
import sys
from scapy.all import IP, TCP, conf, send, sniff
conf.verb = 0
vip, cport = sys.argv[1], int(sys.argv[2])
def data_len(p):
    return p[IP].len - 4 * p[IP].ihl - 4 * p[TCP].dataofs

# the echo session's next reply gives its sequence numbers
got = sniff(iface="eth0", count=1, timeout=5,
            lfilter=lambda p: IP in p and TCP in p and p[IP].src == vip
            and p[TCP].sport == 7 and p[TCP].dport == cport
            and data_len(p) > 0)
if not got:
    sys.exit("no echo reply seen in 5 s")
r = got[0]
send(IP(src=r[IP].dst, dst=vip) /
     TCP(sport=r[TCP].dport, dport=7, flags="A",
         seq=(r[TCP].ack + (1 << 30)) % (1 << 32),
         ack=(r[TCP].seq + data_len(r)) % (1 << 32)))
print("injected for client port", cport)
EOF
wait_until 5 stray_rose "$stray0" || fail "the out-of-window segment was not counted as offload_stray ($(stray)): $(cat "$TMP/inject.log")"
echo_progress 5
wait_until 5 session_listed || fail "after an out-of-window segment the echo session is not listed as offloaded: $(ctl conns)"
log "an out-of-window segment: rewritten by the daemon ($(($(stray) - stray0)) offload_stray), the session went on"

# ---- e. drain, then SIGUSR2: the session goes on
ctl server echo "$(server_ip "$holder"):7" drain >/dev/null
echo_progress 5
[[ $(srv_field echo "$holder" state) == drain && $(srv_field echo "$holder" active_conns) == 1 ]] ||
	fail "drained echo server $holder: state $(srv_field echo "$holder" state), $(srv_field echo "$holder" active_conns) active, want drain and 1"
hitless_restart kill -USR2 "$NFQLB_PID"
echo_progress 5
wait_until 5 session_listed || fail "after SIGUSR2 the echo session is not listed as offloaded: $(ctl conns)"
[[ $(srv_field echo "$holder" active_conns) == 1 ]] || fail "after SIGUSR2 echo server $holder counts $(srv_field echo "$holder" active_conns) active"
log "drain and SIGUSR2: the offloaded session went on"

# ---- f. its server removed (expire_nodest_conn = true): it ends
case $holder in
1) services 2 3 ;;
2) services 1 3 ;;
3) services 1 2 ;;
esac | write_conf "$TMP/nfqlb.conf"
deleted0=$(metric nfqlb_conntrack_deleted_total)
reload_nfqlb
wait_until 10 proc_dead "$ECHO_PID" || fail "the session of removed server $holder still works"
rc=0
wait "$ECHO_PID" || rc=$?
((rc == 1)) || fail "echo client: exit $rc, want 1 (connection broken): $(cat "$TMP/echo.log")"
(($(metric nfqlb_conntrack_deleted_total) > deleted0)) || fail "no conntrack entry deleted with server $holder"
log "server $holder removed: its offloaded session ended ($(tail -n 1 "$TMP/echo.log"))"

# ---- g. stop removes every rule
stop_nfqlb
[[ $(ipt_snapshot "$NS_DIRECTOR") == "$ipt_before" ]] || fail "iptables-save after stop differs from before start"
log "stop: iptables-save as before start"
