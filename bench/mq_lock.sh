#!/bin/bash
# bench/mq_lock.sh [SECONDS] — what the core lock costs with several queues,
# through VS/NAT in a namespace topology (tests/lib/topo.sh, two real
# servers), once with daemon.queues = 1 and once with 2:
#   - TCP: an iperf 2 upload, `-P 4`, SECONDS (default 10);
#   - UDP: two bench/udpblast senders (64-byte frames, 64 flows each), one
#     pinned to each CPU, for SECONDS / 2; the servers count what arrives
#     (an iptables INPUT rule in their namespaces);
# printing the figure, the daemon's CPU, and for each queue over the run:
# packets, packets per batch, and the share of the run its worker held the
# core lock (was in the core) and waited for it.
# Needs root, iperf (version 2), cc, taskset and a built tree
# (scripts/build.sh).
# shellcheck source-path=SCRIPTDIR source=../tests/lib/topo.sh
source "$(dirname "$0")/../tests/lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/lib/ctl.sh
source "$LIB/ctl.sh"

SECS=${1:-10}
USECS=$(((SECS + 1) / 2))
CONF=$TMP/nfqlb.conf
command -v iperf >/dev/null || fail "iperf (version 2) not installed"
cc -O2 -Wall -o "$TMP/udpblast" "$TOP/bench/udpblast.c" || fail "cannot build bench/udpblast.c"

# cpu_ticks PID — utime + stime of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# udp_delivered — datagrams the servers' INPUT rules counted
udp_delivered() {
	local i n=0 c
	for i in 1 2; do
		c=$(in_server "$i" iptables -L INPUT -v -n -x | awk '/udp dpt:9000/ { print $1 }')
		n=$((n + ${c:-0}))
	done
	echo "$n"
}

# measure LABEL CMD... — runs CMD (which prints the figure), then the
# daemon's CPU and each queue's packets and lock shares over it.
measure() {
	local label=$1 c0 c1 t0 ms figure
	shift
	ctl --json list >"$TMP/before.json"
	c0=$(cpu_ticks "$NFQLB_PID")
	t0=$(now_ms)
	figure=$("$@")
	ms=$(($(now_ms) - t0))
	c1=$(cpu_ticks "$NFQLB_PID")
	ctl --json list >"$TMP/after.json"
	echo "queues = $Q, $label: $figure; nfqlb CPU $(((c1 - c0) * 100000 / $(getconf CLK_TCK) / ms))% of one core"
	"$PY" - "$TMP/before.json" "$TMP/after.json" "$ms" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["queues"]
b = json.load(open(sys.argv[2]))["queues"]
ms = float(sys.argv[3])
for x, y in zip(a, b):
    p = y["packets"] - x["packets"]
    n = y["batches"] - x["batches"]
    hold = (y["lock_hold_us"] - x["lock_hold_us"]) / 1000.0
    wait = (y["lock_wait_us"] - x["lock_wait_us"]) / 1000.0
    print("  queue %d: %d packets, %.1f per batch, core lock held %.1f%% waited %.1f%% of %.1f s (%.2f us held per packet)"
          % (y["queue"], p, p / n if n else 0, 100 * hold / ms, 100 * wait / ms, ms / 1000, 1000 * hold / p if p else 0))
EOF
}

tcp_upload() {
	in_client iperf -c "$VIP" -p 5001 -P 4 -t "$SECS" -f m 2>&1 |
		awk '/SUM/ { v = $(NF - 1) } END { printf "iperf -P 4 upload %s Mbit/s", v }'
}

udp_blast() {
	local d0 d1 cpu pids=()
	d0=$(udp_delivered)
	for cpu in 0 1; do
		in_client taskset -c "$cpu" "$TMP/udpblast" "$VIP" 9000 "$USECS" 64 $((20000 + cpu * 1000)) \
			>"$TMP/blast.$cpu" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	sleep 0.5 # what is still queued reaches the servers
	d1=$(udp_delivered)
	printf "2 udpblast senders, %d 64-byte datagrams/s delivered (%s sent)" \
		$(((d1 - d0) / USECS)) "$(cat "$TMP"/blast.* | sed -n 's/.*pps=\([0-9]*\).*/\1/p' | paste -sd+ | bc) pps"
}

topo_up 2
for i in 1 2; do
	in_server "$i" iperf -s -p 5001 >/dev/null 2>&1 &
	wait_listen "$(server_ns "$i")" tcp 5001
	in_server "$i" iptables -A INPUT -p udp --dport 9000 -j DROP
done
for Q in 1 2; do
	NFQLB_QUEUES=$Q write_conf "$CONF" <<EOF
services = (
$(service_conf iperf tcp 5001 nat 5001 1 1),
$(service_conf blast udp 9000 nat 9000 1 1)
);
EOF
	sed -i 's/log_level = "debug"/log_level = "info"/' "$CONF"
	start_nfqlb "$CONF"
	measure TCP tcp_upload
	measure UDP udp_blast
	stop_nfqlb
done
