#!/bin/bash
# bench/profile.sh [nat|dr|tun] [tcp|udp] — what limits the daemon under load:
# one load through one forwarding method in the test topology
# (tests/lib/topo.sh), and, over the middle of it, from the daemon itself:
#   - packets read from its queue(s) (nfqlbctl metrics) and its CPU time
#     (/proc/PID/stat utime+stime), so CPU microseconds per packet;
#   - its system calls by kind (perf stat on the syscalls tracepoints) and
#     per queued packet — batching is what a user-space path lives on;
#   - where its CPU goes (perf record -e cpu-clock, top symbols, kernel
#     included: the copies to and from the queue show up as kernel time).
# Load: tcp = iperf 2 upload through the VIP, -P 4 (the data crosses the
# director with every method); udp = bench/udpblast, 64-byte datagrams from
# 64 source ports with sendmmsg.
# Environment: PROFILE_SECONDS (load length, default 12; the window is the
# load minus 2 s at each end), PROFILE_QUEUES (daemon.queues, default 1),
# PROFILE_OFFLOADS=on|off (veth TCP offloads, default on), PROFILE_KERNEL=1
# (the service gets offload = true: conntrack carries established flows).
# Needs root, a built tree (scripts/build.sh), iperf 2, perf (linux-perf).
# shellcheck source-path=SCRIPTDIR source=../tests/lib/topo.sh
source "$(dirname "$0")/../tests/lib/topo.sh"

FWD=${1:-nat}
LOAD=${2:-tcp}
SECS=${PROFILE_SECONDS:-12}
QUEUES=${PROFILE_QUEUES:-1}
OFFLOADS=${PROFILE_OFFLOADS:-on}
KERNEL=${PROFILE_KERNEL:-0}
case $FWD in nat | dr | tun) ;; *) fail "method must be nat, dr or tun, not '$FWD'" ;; esac
case $LOAD in tcp | udp) ;; *) fail "load must be tcp or udp, not '$LOAD'" ;; esac
[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 6 && SECS <= 120)) || fail "PROFILE_SECONDS must be 6..120"
[[ $QUEUES =~ ^[0-9]+$ ]] || fail "PROFILE_QUEUES must be a number"
command -v perf >/dev/null || fail "perf not found (apt-get install linux-perf)"
command -v iperf >/dev/null || fail "iperf (version 2) not found"
WINDOW=$((SECS - 4))
PORT=5001
[[ $LOAD == udp ]] && PORT=9000

cc -O2 -Wall -o "$TMP/udpblast" "$TOP/bench/udpblast.c" || fail "cannot build udpblast"
topo_up 3
if [[ $FWD != nat ]]; then
	topo_direct_return
	if [[ $FWD == tun ]]; then
		for i in 1 2 3; do start_ipip_decap "$i"; done
	fi
fi
tcp_offload "$OFFLOADS"
CONF=$TMP/nfqlb.conf
write_conf "$CONF" <<EOF
$(single_service load "$LOAD" "$PORT" rr "$FWD" "$PORT" 1 1 1)
EOF
sed -i -e 's/log_level = "debug"/log_level = "info"/' -e "s/queues = 1;/queues = $QUEUES;/" "$CONF"
[[ $KERNEL == 1 ]] && sed -i 's/forward = "\(.*\)";/forward = "\1"; offload = true;/' "$CONF"
for i in 1 2 3; do
	if [[ $LOAD == tcp ]]; then
		in_server "$i" iperf -s -p "$PORT" >/dev/null 2>&1 &
	else
		in_server "$i" iptables -A INPUT -p udp --dport "$PORT" -j DROP
	fi
done
[[ $LOAD == udp ]] || for i in 1 2 3; do wait_listen "$(server_ns "$i")" tcp "$PORT"; done
start_nfqlb "$CONF"

queued() { # packets read from all queues so far
	"$TOP/nfqlbctl" -s "$TMP/nfqlb.sock" metrics |
		awk '/^nfqlb_queue_packets_total/ {n += $NF} END {printf "%d\n", n}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$NFQLB_PID/stat"; }

if [[ $LOAD == tcp ]]; then
	in_client timeout $((SECS + 15)) iperf -c "$VIP" -p "$PORT" -t "$SECS" -P 4 >"$TMP/load.out" 2>&1 &
else
	in_client timeout $((SECS + 15)) "$TMP/udpblast" "$VIP" "$PORT" "$SECS" 64 >"$TMP/load.out" 2>&1 &
fi
LOAD_PID=$!
sleep 2
q0=$(queued)
c0=$(cpu_ticks)
perf stat -x, -o "$TMP/sys.csv" -p "$NFQLB_PID" \
	-e 'raw_syscalls:sys_enter,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex' \
	-- sleep "$WINDOW" 2>/dev/null &
STAT_PID=$!
perf record -q -e cpu-clock -F 999 -o "$TMP/perf.data" -p "$NFQLB_PID" -- sleep "$WINDOW" >/dev/null 2>&1 || fail "perf record failed"
wait "$STAT_PID" || fail "perf stat failed"
q1=$(queued)
c1=$(cpu_ticks)
wait "$LOAD_PID" || fail "the load failed: $(tail -3 "$TMP/load.out")"

pkts=$((q1 - q0))
# offloaded flows' packets after the first never reach the queue
((pkts > 0 || KERNEL == 1)) || fail "no packet reached the queue in the window"
hz=$(getconf CLK_TCK)
cpu_us=$(((c1 - c0) * 1000000 / hz))
echo "profile: $FWD$([[ $KERNEL == 1 ]] && echo ' offload'), $LOAD load, $QUEUES queue(s), veth offloads $OFFLOADS, ${WINDOW} s window"
if [[ $LOAD == tcp ]]; then
	echo "  load: $(grep -E 'SUM|sec ' "$TMP/load.out" | tail -1 | sed 's/  */ /g')"
else
	echo "  load: $(tail -1 "$TMP/load.out")"
fi
awk -v p="$pkts" -v w="$WINDOW" -v cpu="$cpu_us" 'BEGIN {
	printf "  queued packets: %d (%.0f/s); daemon CPU %.1f%% of one core", p, p / w, cpu / (w * 10000)
	if (p) printf ", %.2f us per packet", cpu / p
	printf "\n" }'
echo "  system calls in the window (per queued packet):"
awk -F, -v p="$pkts" '$1 ~ /^[0-9]+$/ && $1 > 0 {
	name = $3; sub(/^.*sys_enter_?/, "", name); if (name == "") name = "all";
	if (p) printf "    %-10s %10d  %.4f\n", name, $1, $1 / p
	else printf "    %-10s %10d\n", name, $1 }' "$TMP/sys.csv"
echo "  where the daemon's CPU went (perf, cpu-clock samples), by object:"
perf report -q -i "$TMP/perf.data" --no-children --sort dso --stdio 2>/dev/null |
	awk 'NF && n++ < 6 {printf "    %s %s\n", $1, $2}'
echo "  top symbols (kernel time includes what a verdict's reinjection runs: forwarding, veth, and the receiver's stack):"
perf report -q -i "$TMP/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
	awk 'NF && n++ < 20 {printf "    %-8s %-10s %s\n", $1, $2, $4}'
