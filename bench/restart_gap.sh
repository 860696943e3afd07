#!/bin/bash
# bench/restart_gap.sh [N] — how long the daemon is away when it restarts
# while holding N connections (default 1000000), in a namespace topology
# (tests/lib/topo.sh):
#   - SIGUSR2 (hitless restart): from the signal to the new image's READY=1;
#     packets wait in the queue meanwhile;
#   - stop + start through the checkpoint file: SIGTERM to exit (final
#     checkpoint included), then start to READY=1;
# and the daemon's resident memory (VmRSS) holding them.
# The table comes from `bench/ckpt_bench --write` (N established TCP flows
# to 203.0.113.10:80 over 16 servers 198.51.100.11..26:8080); the servers
# need not exist. Needs root and a built tree (scripts/build.sh).
# shellcheck source-path=SCRIPTDIR source=../tests/lib/topo.sh
source "$(dirname "$0")/../tests/lib/topo.sh"

N=${1:-1000000}
CONF=$TMP/nfqlb.conf
BENCH=$TOP/bench/ckpt_bench
[[ -x $BENCH ]] || fail "$BENCH not built (scripts/build.sh)"
export NFQLB_START_TIMEOUT=120 NFQLB_STOP_TIMEOUT=60

# restored COUNT-BEFORE — the number in the last "N connections restored".
restored() { grep -o '[0-9]* connections restored' "$NFQLB_LOG" | tail -n 1 | cut -d' ' -f1; }

topo_up 1
write_conf "$CONF" <<EOF
services = (
  {
    name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 8080 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1)
  }
);
EOF
sed -i 's/log_level = "debug"/log_level = "info"/' "$CONF"
"$BENCH" --write "$TMP/connections.ckpt" "$N" >&2

t0=$(now_ms)
start_nfqlb "$CONF"
t_first=$(($(now_ms) - t0))
[[ $(restored) == "$N" ]] || fail "restored $(restored) of $N connections at start"
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$NFQLB_PID/status")

# SIGUSR2, twice
for round in 1 2; do
	before=$(ready_count)
	t0=$(now_ms)
	kill -USR2 "$NFQLB_PID"
	wait_until 120 ready_count_above "$before" || fail "no READY=1 after SIGUSR2"
	usr2[round]=$(($(now_ms) - t0))
	[[ $(restored) == "$N" ]] || fail "SIGUSR2: $(restored) of $N connections handed over"
done

# stop + start through the file
t0=$(now_ms)
stop_nfqlb
t_stop=$(($(now_ms) - t0))
t0=$(now_ms)
start_nfqlb "$CONF"
t_start=$(($(now_ms) - t0))
[[ $(restored) == "$N" ]] || fail "stop+start: restored $(restored) of $N connections"
stop_nfqlb

echo "restart gap with $N connections:"
echo "  daemon resident memory (VmRSS) holding them: $((rss_kb / 1024)) MB"
echo "  first start (restore from file) to ready: ${t_first} ms"
echo "  SIGUSR2 to READY=1 (same PID, queue held): ${usr2[1]} ms, ${usr2[2]} ms"
echo "  SIGTERM to exit (final checkpoint): ${t_stop} ms; start to ready: ${t_start} ms; stop-to-ready total: $((t_stop + t_start)) ms"
grep -E 'restart: handing over|connections written|connections restored' "$NFQLB_LOG" | sed 's/^/  log: /'
