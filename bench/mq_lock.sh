#!/bin/bash
# bench/mq_lock.sh [SECONDS] — what the core lock costs with several queues:
# an iperf 2 upload (`-P 4`, default 10 s) through VS/NAT in a namespace
# topology (tests/lib/topo.sh, two real servers), once with daemon.queues = 1
# and once with 2, printing the throughput, the daemon's CPU, and for each
# queue over the run: packets, packets per batch, and the share of the run
# its worker held the core lock (was in the core) and waited for it.
# Needs root, iperf (version 2) and a built tree (scripts/build.sh).
# shellcheck source-path=SCRIPTDIR source=../tests/lib/topo.sh
source "$(dirname "$0")/../tests/lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/lib/ctl.sh
source "$LIB/ctl.sh"

SECS=${1:-10}
CONF=$TMP/nfqlb.conf
command -v iperf >/dev/null || fail "iperf (version 2) not installed"

# cpu_ticks PID — utime + stime of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

topo_up 2
for i in 1 2; do
	in_server "$i" iperf -s -p 5001 >/dev/null 2>&1 &
	wait_listen "$(server_ns "$i")" tcp 5001
done
for q in 1 2; do
	NFQLB_QUEUES=$q write_conf "$CONF" <<EOF
services = (
$(service_conf iperf tcp 5001 nat 5001 1 1)
);
EOF
	sed -i 's/log_level = "debug"/log_level = "info"/' "$CONF"
	start_nfqlb "$CONF"
	ctl --json list >"$TMP/before.json"
	c0=$(cpu_ticks "$NFQLB_PID")
	t0=$(now_ms)
	mbit=$(in_client iperf -c "$VIP" -p 5001 -P 4 -t "$SECS" -f m 2>&1 |
		awk '/SUM/ { v = $(NF - 1) } END { print v }')
	if [[ -z $mbit ]]; then # one stream left: no SUM line
		mbit=$(in_client iperf -c "$VIP" -p 5001 -t 1 -f m 2>&1 | awk '/Mbits/ { v = $(NF - 1) } END { print v }')
	fi
	ms=$(($(now_ms) - t0))
	c1=$(cpu_ticks "$NFQLB_PID")
	ctl --json list >"$TMP/after.json"
	echo "queues = $q: iperf -P 4 upload $mbit Mbit/s; nfqlb CPU $(((c1 - c0) * 100000 / $(getconf CLK_TCK) / ms))% of one core"
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
	stop_nfqlb
done
