#!/bin/bash
# Two queues (daemon.queues = 2): one worker thread each, around one shared
# connection table. With --queue-cpu-fanout the kernel queues a packet on
# queue (CPU % 2) of the CPU that processes it, which on veth is the
# sending process's CPU; clients and servers are pinned to different CPUs
# so that the two directions of one NAT connection meet different workers.
#  - every queueing rule uses --queue-balance 0:1 --queue-cpu-fanout;
#  - NAT: 50 MB downloads and uploads arrive byte-exact, HTTP requests are
#    spread by rr, socat transfers through a TCP echo come back intact,
#    from clients on either CPU; one single connection is seen by both
#    queues; nfqlbctl --json list shows each queue's packets and its
#    share of the core lock, and the metrics each queue's counters;
#  - SIGUSR2 with two queues hands both sockets over and a live session
#    goes on; so it does when the exec fails (the workers start again) and
#    through a restart to one queue, which binds anew, and back;
#  - a clean stop removes the rules and exits 0;
#  - VS/DR on two queues: one download arrives byte-exact.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http, :9000 echo
#                                                           +-- s2 198.51.100.12:8080 http, :9000 echo
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

NCPU=$(nproc)
((NCPU >= 2)) || log "only $NCPU CPU: the queues cannot be told apart by CPU; checking correctness only"
CONF=$TMP/nfqlb.conf
NFQLB_QUEUES=2
# a copy of the daemon, so a restart can be made to fail (chmod -x)
cp "$NFQLB" "$TMP/nfqlb" || fail "cannot copy $NFQLB"
NFQLB=$TMP/nfqlb

# pin_servers CPU — every process of the server namespaces onto CPU (the
# echo servers' children inherit it).
pin_servers() {
	local i pid
	((NCPU >= 2)) || return 0
	for ((i = 1; i <= NSERVERS; i++)); do
		for pid in $(ip netns pids "$(server_ns "$i")"); do
			taskset -a -p -c "$1" "$pid" >/dev/null 2>&1 || true
		done
	done
}
# on_cpu CPU CMD... — CMD in the client namespace, pinned to CPU.
on_cpu() {
	local cpu=$1
	shift
	if ((NCPU >= 2)); then
		in_client taskset -c "$cpu" "$@"
	else
		in_client "$@"
	fi
}
other_cpu() { echo $((1 - $1)); }

# queue_packets — "P0 P1": packets each queue has read so far.
queue_packets() {
	ctl --json list | json_py 'print(" ".join(str(q["packets"]) for q in d["queues"]))'
}

topo_up 2
for i in 1 2; do
	start_http_server "$i" 8080
	start_tcp_echo "$i" 9000
done
write_conf "$CONF" <<EOF
services = (
$(service_conf web tcp 80 nat 8080 1 1),
$(service_conf echo tcp 9000 nat 9000 1 1)
);
EOF
grep -q 'queues = 2;' "$CONF" || fail "the configuration does not ask for 2 queues"
start_nfqlb "$CONF"
grep -q "2 workers running, one per queue (0..1)" "$NFQLB_LOG" || fail "no line about the 2 workers"

# the rules
rules=$(in_director iptables-save)
n_balance=$(grep -c -- '-j NFQUEUE --queue-balance 0:1 --queue-cpu-fanout' <<<"$rules" || true)
((n_balance >= 6)) || fail "expected the VIP, reply and ICMP rules with --queue-balance 0:1, got $n_balance: $rules"
! grep -q -- '--queue-num' <<<"$rules" || fail "a rule still uses --queue-num: $(grep -- --queue-num <<<"$rules")"
log "$n_balance rules queue with --queue-balance 0:1 --queue-cpu-fanout"

# one connection, client on CPU 0 and server on CPU 1: both queues see it
want=$(sha256sum <"$BIGFILE" | cut -d' ' -f1)
pin_servers 1
read -r a0 a1 <<<"$(queue_packets)"
on_cpu 0 curl -sS --max-time 60 -o "$TMP/got" "http://$VIP/big" || fail "download (client CPU 0) failed"
[[ $(sha256sum <"$TMP/got" | cut -d' ' -f1) == "$want" ]] || fail "download (client CPU 0) arrived damaged"
read -r b0 b1 <<<"$(queue_packets)"
log "one 50 MB download: queue 0 read $((b0 - a0)) packets, queue 1 $((b1 - a1))"
if ((NCPU >= 2)); then
	((b0 > a0 && b1 > a1)) || fail "one connection, client and server on different CPUs: queue 0 read $((b0 - a0)), queue 1 $((b1 - a1)) packets; want both"
fi

# many transfers from clients on either CPU, servers on the other
for cpu in 0 1; do
	pin_servers "$(other_cpu "$cpu")"
	for mode in on off; do
		tcp_offload "$mode"
		on_cpu "$cpu" curl -sS --max-time 60 -o "$TMP/got" "http://$VIP/big" ||
			fail "CPU $cpu, offloads $mode: download failed"
		[[ $(sha256sum <"$TMP/got" | cut -d' ' -f1) == "$want" ]] ||
			fail "CPU $cpu, offloads $mode: download arrived damaged"
		out=$(on_cpu "$cpu" curl -sS --max-time 60 -H 'Expect:' --data-binary "@$BIGFILE" "http://$VIP/upload") ||
			fail "CPU $cpu, offloads $mode: upload failed"
		[[ $out == "$BIG_SIZE $want" ]] || fail "CPU $cpu, offloads $mode: upload arrived damaged: $out"
	done
	: >"$TMP/bodies.$cpu"
	for ((i = 0; i < 20; i++)); do
		on_cpu "$cpu" curl -s --max-time 5 "http://$VIP/" >>"$TMP/bodies.$cpu" || echo "ERROR" >>"$TMP/bodies.$cpu"
		echo >>"$TMP/bodies.$cpu"
	done
	sed -i '/^$/d' "$TMP/bodies.$cpu"
	assert_counts "$TMP/bodies.$cpu" "s1=10 s2=10"
	for ((i = 0; i < 10; i++)); do
		head -c $((100000 + i * 7919)) "$BIGFILE" >"$TMP/send"
		on_cpu "$cpu" socat -t 10 -T 20 - "TCP:$VIP:9000" <"$TMP/send" >"$TMP/echoed" ||
			fail "CPU $cpu: socat transfer $i failed"
		cmp -s "$TMP/send" "$TMP/echoed" || fail "CPU $cpu: socat transfer $i came back damaged"
	done
	log "client CPU $cpu: 2 downloads and 2 uploads of 50 MB, 20 requests, 10 echo transfers intact"
done
tcp_offload on

# what the operator sees of the queues
ctl --json list | json_py '
q = d["queues"]
assert [x["queue"] for x in q] == [0, 1], q
for x in q:
    assert x["packets"] > 0 and x["batches"] > 0, q
    assert x["batches"] <= x["packets"], q
    assert x["lock_hold_us"] > 0 and x["counting_ms"] > 0, q
    assert x["enobufs"] == 0 and x["verdict_errors"] == 0 and x["send_errors"] == 0, q
    print("queue %d: %d packets in %d batches, lock held %.2f%% waited %.2f%% of %.1f s" % (
        x["queue"], x["packets"], x["batches"], 100.0 * x["lock_hold_us"] / 1000 / x["counting_ms"],
        100.0 * x["lock_wait_us"] / 1000 / x["counting_ms"], x["counting_ms"] / 1000))' >"$TMP/queues" ||
	fail "queues in list: $(ctl --json list)"
while read -r line; do log "$line"; done <"$TMP/queues"
ctl list --stats | grep -q '^Queue 1: [1-9][0-9]* packets in [1-9][0-9]* batches, core lock held' ||
	fail "list --stats shows no line for queue 1: $(ctl list --stats)"
ctl metrics >"$TMP/metrics"
"$PY" "$LIB/promcheck.py" "$TMP/metrics" || fail "metrics are not valid exposition format"
for q in 0 1; do
	grep -Eq "^nfqlb_queue_packets_total\{queue=\"$q\"\} [1-9]" "$TMP/metrics" ||
		fail "no packets of queue $q in the metrics"
	grep -Eq "^nfqlb_queue_lock_hold_seconds_total\{queue=\"$q\"\} [0-9.]+$" "$TMP/metrics" ||
		fail "no lock figure of queue $q in the metrics"
done

# hitless restart with two queues: both sockets handed over
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.before"
pin_servers 1
echo_client_start 9000 --interval 0.05
echo_progress 10
hitless_restart kill -USR2 "$NFQLB_PID"
echo_progress 10
grep -q "queue 0: taken over" "$NFQLB_LOG" || fail "queue 0 was not taken over"
grep -q "queue 1: taken over" "$NFQLB_LOG" || fail "queue 1 was not taken over"
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.after"
diff -u "$TMP/rules.before" "$TMP/rules.after" >&2 || fail "rules after the restart differ from before"
hitless_restart ctl restart
echo_progress 10
# a restart whose exec fails: the workers start again, the session goes on
chmod -x "$NFQLB"
kill -USR2 "$NFQLB_PID"
wait_log 10 1 "restart failed: this image goes on"
echo_progress 10
chmod +x "$NFQLB"
# a restart to one queue binds anew; the session survives (retransmits)
sed -i 's/queues = 2;/queues = 1;/' "$CONF"
hitless_restart kill -USR2 "$NFQLB_PID"
grep -q "restart: queues 0..1 are now 0..0: binding anew" "$NFQLB_LOG" ||
	fail "no 'binding anew' line after the restart to one queue"
echo_progress 10
in_director iptables-save | grep -q -- '-j NFQUEUE --queue-num 0$' || fail "one queue: no --queue-num 0 rule"
! in_director iptables-save | grep -q -- '--queue-balance' || fail "one queue: a --queue-balance rule is left"
# and back to two
sed -i 's/queues = 1;/queues = 2;/' "$CONF"
hitless_restart kill -USR2 "$NFQLB_PID"
echo_progress 10
grep -q "restart: queues 0..0 are now 0..1: binding anew" "$NFQLB_LOG" ||
	fail "no 'binding anew' line after the restart to two queues"
echo_client_finish
stop_nfqlb
# everything ours left with the daemon
! in_director iptables-save | grep -q NFQLB || fail "rules left after the stop"
! grep -Eq "AddressSanitizer|ThreadSanitizer" "$NFQLB_LOG" || fail "sanitizer report in the daemon's log"

# VS/DR on two queues
topo_direct_return
for i in 1 2; do start_http_server "$i" 80; done
single_service web tcp 80 rr dr 80 1 1 | write_conf "$CONF"
start_nfqlb "$CONF"
pin_servers 0
on_cpu 1 curl -sS --max-time 60 -o "$TMP/got" "http://$VIP/big" || fail "DR download failed"
[[ $(sha256sum <"$TMP/got" | cut -d' ' -f1) == "$want" ]] || fail "DR download arrived damaged"
http_requests 4 >"$TMP/bodies.dr"
assert_counts "$TMP/bodies.dr" "s1=2 s2=2"
log "VS/DR on two queues: 50 MB download intact, requests balanced"
stop_nfqlb
