#!/bin/bash
# bench/bench.sh - compare nfqlb (VS/NAT through NFQUEUE) with in-kernel
# iptables DNAT load balancing on the same namespace topology, in one run.
#
#   client ns 192.0.2.2/24 --veth-- director 192.0.2.1/24, VIP 203.0.113.10/32 on lo,
#                                   198.51.100.1/24 --veth-- switch ns (bridge br0)
#                                   --veths-- server ns 198.51.100.11..13/24 (gw .1)
#
# Figures, measured for (a) iptables DNAT (nat PREROUTING, -m statistic --mode nth)
# and (b) nfqlb (rr, VS/NAT), interleaved per repetition:
#   - TCP throughput: iperf 2, `iperf -c 203.0.113.10 -p 5001 -t T -P 4`
#   - UDP packets/s delivered to the servers: bench/udpblast (sendmmsg, many source
#     ports) blasts 64-byte frames at 203.0.113.10:9000 for T seconds; the servers
#     count what arrives with an iptables INPUT rule (udp dpt 9000, DROP) counter
#   - director CPU of nfqlb (utime+stime of the processes in the director netns)
#
# Usage: bench/bench.sh [--short] [--dnat-only] [--keep] [-h]
#   --short      CI mode: 3 s per figure, 1 repetition; never fails on low numbers
#   --dnat-only  skip the nfqlb half (no binary needed)
#   --keep       keep the temporary directory (configs, logs)
# Environment:
#   NFQLB=path         daemon binary (default: $(dirname "$0")/../nfqlb)
#   BENCH_SECONDS=N    seconds per figure (default 10, --short 3)
#   BENCH_REPS=N       repetitions (default 3, --short 1); medians are reported
#   BENCH_STREAMS=N    iperf -P (default 4)
#   BENCH_FLOWS=N      UDP source ports (default 64)
#   BENCH_UDP_PAYLOAD=N  UDP payload bytes (default 18 = 64-byte Ethernet frame)
#   NFQLB_QUEUES=N     daemon.queues in the generated config (default 1)
#
# Needs root, ip (iproute2), iptables, iperf (version 2), cc, timeout.  It never
# touches the root namespace's rules, routes or sysctls: everything lives in
# namespaces named nqb<PID>*, deleted on exit (also on failure or Ctrl-C).
# Exit status: 0 when every figure was measured (non-zero), 1 otherwise.

set -u
export LC_ALL=C

PROG=bench
MODE=full
DNAT_ONLY=0
KEEP=0

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--short) MODE=short ;;
	--dnat-only) DNAT_ONLY=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$PROG: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

if [ "$MODE" = short ]; then
	T=${BENCH_SECONDS:-3}
	REPS=${BENCH_REPS:-1}
else
	T=${BENCH_SECONDS:-10}
	REPS=${BENCH_REPS:-3}
fi
STREAMS=${BENCH_STREAMS:-4}
FLOWS=${BENCH_FLOWS:-64}
UDP_PAYLOAD=${BENCH_UDP_PAYLOAD:-18}
QUEUES=${NFQLB_QUEUES:-1}
for v in T REPS STREAMS FLOWS UDP_PAYLOAD QUEUES; do
	case "${!v}" in
	'' | *[!0-9]*) echo "$PROG: $v must be a number, got '${!v}'" >&2; exit 2 ;;
	esac
done
[ "$T" -ge 1 ] && [ "$T" -le 600 ] || { echo "$PROG: BENCH_SECONDS must be 1..600" >&2; exit 2; }
[ "$REPS" -ge 1 ] && [ "$REPS" -le 20 ] || { echo "$PROG: BENCH_REPS must be 1..20" >&2; exit 2; }
[ "$FLOWS" -ge 1 ] && [ "$FLOWS" -le 1000 ] || { echo "$PROG: BENCH_FLOWS must be 1..1000" >&2; exit 2; }

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
NFQLB=${NFQLB:-$(dirname "$0")/../nfqlb}

VIP=203.0.113.10
TCP_PORT=5001
UDP_PORT=9000
CLIENT_IP=192.0.2.2
DIR_FRONT=192.0.2.1
DIR_BACK=198.51.100.1
SERVERS="198.51.100.11 198.51.100.12 198.51.100.13"

die() {
	echo "$PROG: $*" >&2
	exit 1
}
log() {
	echo "[$(date +%T)] $*"
}

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces)"
for tool in ip iptables iptables-save iperf cc timeout sysctl awk; do
	command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
iperf -v 2>&1 | grep -q 'iperf version 2' || die "'iperf' is not iperf version 2 ($(iperf -v 2>&1 | head -1))"
[ -r "$BENCH_DIR/udpblast.c" ] || die "missing $BENCH_DIR/udpblast.c"
if [ "$DNAT_ONLY" = 0 ]; then
	if [ ! -x "$NFQLB" ]; then
		echo "$PROG: nfqlb binary not found or not executable at '$NFQLB'" >&2
		echo "$PROG: build it first (./autogen.sh && ./configure && make), set NFQLB=..., or use --dnat-only" >&2
		exit 1
	fi
	NFQLB=$(cd "$(dirname "$NFQLB")" && pwd)/$(basename "$NFQLB")
fi

# ---------------------------------------------------------------- state, cleanup
P="nqb$$"
NS_C=${P}c
NS_D=${P}d
NS_S=${P}s
NS_R=()
NSLIST=()
PIDS=()
NFQLB_PID=
FAILED=0
TMP=$(mktemp -d /tmp/nfqlb-bench.XXXXXX) || die "mktemp failed"

cleanup() {
	local rc=$? p ns i pids
	trap - EXIT INT TERM HUP
	if [ -n "$NFQLB_PID" ] && kill -0 "$NFQLB_PID" 2>/dev/null; then
		kill -TERM "$NFQLB_PID" 2>/dev/null
		for i in $(seq 1 50); do kill -0 "$NFQLB_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 1 20); do
		pids=
		for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -0 "$p" 2>/dev/null && pids="$pids $p"; done
		[ -z "$pids" ] && break
		sleep 0.1
	done
	for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -KILL "$p" 2>/dev/null; done
	for p in ${PIDS[@]+"${PIDS[@]}"}; do wait "$p" 2>/dev/null; done # reap: no zombies left behind
	# anything still running inside our namespaces was started by this run
	for ns in ${NSLIST[@]+"${NSLIST[@]}"}; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	done
	for ns in ${NSLIST[@]+"${NSLIST[@]}"}; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$KEEP" = 1 ]; then
		echo "$PROG: kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "$PROG: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
ipt() { # ipt NS args...  (iptables in a namespace, waiting for the xtables lock)
	local ns=$1
	shift
	timeout 20 ip netns exec "$ns" iptables -w 5 "$@"
}
# runwait OUTFILE CMD...: run CMD in the background with its output in OUTFILE and wait
# for it, so that Ctrl-C is acted on at once (the redirection must not cover `wait`)
runwait() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	local p=$!
	PIDS+=("$p")
	wait "$p"
}

# ---------------------------------------------------------------- machine facts
echo "=== nfqlb benchmark ($MODE mode: ${T}s per figure, $REPS repetition(s)) ==="
echo "date:       $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:      $(nproc)"
echo "kernel:     $(uname -r) ($(uname -m))"
echo "cpu:        $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "loadavg:    $(cut -d' ' -f1-3 /proc/loadavg)"
echo "iperf:      $(iperf -v 2>&1 | head -1)"
echo "iptables:   $(iptables --version 2>&1 | head -1)"
if [ "$DNAT_ONLY" = 0 ]; then
	echo "nfqlb:      $NFQLB ($("$NFQLB" -V 2>&1 | head -1), built $(date -u -r "$NFQLB" '+%Y-%m-%d %H:%M:%S UTC'))"
else
	echo "nfqlb:      skipped (--dnat-only)"
fi
echo "load:       iperf -P $STREAMS; UDP $FLOWS flows, payload ${UDP_PAYLOAD} B ($((UDP_PAYLOAD + 46)) B Ethernet frame incl. FCS)"
echo "namespaces: ${P}{c,d,s,r1,r2,r3}   tmpdir: $TMP"
echo

# snapshot the daemon binary: a rebuild during the run must not mix two versions
if [ "$DNAT_ONLY" = 0 ]; then
	cp "$NFQLB" "$TMP/nfqlb" || die "cannot copy $NFQLB"
	NFQLB=$TMP/nfqlb
fi

# ---------------------------------------------------------------- build helper
cc -O2 -Wall -o "$TMP/udpblast" "$BENCH_DIR/udpblast.c" 2>"$TMP/cc.log" || {
	cat "$TMP/cc.log" >&2
	die "could not compile udpblast.c"
}

# ---------------------------------------------------------------- topology
mkns() {
	ip netns add "$1" || die "ip netns add $1 failed"
	NSLIST+=("$1")
	ip -n "$1" link set lo up
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
}

log "building topology"
mkns "$NS_C"
mkns "$NS_D"
mkns "$NS_S"
i=0
for s in $SERVERS; do
	i=$((i + 1))
	NS_R+=("${P}r$i")
	mkns "${P}r$i"
done

set -e
# client <-> director
ip -n "$NS_C" link add c0 type veth peer name d0 netns "$NS_D"
ip -n "$NS_C" addr add "$CLIENT_IP/24" dev c0
ip -n "$NS_C" link set c0 up
ip -n "$NS_C" route add default via "$DIR_FRONT"
ip -n "$NS_D" addr add "$DIR_FRONT/24" dev d0
ip -n "$NS_D" link set d0 up
ip -n "$NS_D" addr add "$VIP/32" dev lo
nsx "$NS_D" sysctl -qw net.ipv4.ip_forward=1
# director <-> switch
ip -n "$NS_S" link add br0 type bridge
ip -n "$NS_S" link set br0 up
ip -n "$NS_D" link add d1 type veth peer name sd netns "$NS_S"
ip -n "$NS_D" addr add "$DIR_BACK/24" dev d1
ip -n "$NS_D" link set d1 up
ip -n "$NS_S" link set sd master br0
ip -n "$NS_S" link set sd up
# switch <-> servers
i=0
for s in $SERVERS; do
	i=$((i + 1))
	r=${NS_R[$((i - 1))]}
	ip -n "$NS_S" link add "s$i" type veth peer name e0 netns "$r"
	ip -n "$NS_S" link set "s$i" master br0
	ip -n "$NS_S" link set "s$i" up
	ip -n "$r" addr add "$s/24" dev e0
	ip -n "$r" link set e0 up
	ip -n "$r" route add default via "$DIR_BACK"
done
set +e
# the bridge must not pass frames through iptables (br_netfilter may be built in)
for k in iptables ip6tables arptables; do
	f=net.bridge.bridge-nf-call-$k
	nsx "$NS_S" sysctl -qw "$f=0" 2>/dev/null || true
done

# servers: iperf 2 listener + a counting DROP rule for the UDP service port
for r in "${NS_R[@]}"; do
	ipt "$r" -A INPUT -p udp --dport "$UDP_PORT" -j DROP || die "iptables in $r failed"
	ip netns exec "$r" iperf -s -p "$TCP_PORT" >/dev/null 2>&1 &
	PIDS+=($!)
done

# tcp_probe NS ADDR PORT: can a TCP connection be opened?
tcp_probe() {
	timeout 3 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}
# wait_tcp NS ADDR PORT TRIES: probe every 0.1 s, at most TRIES times
wait_tcp() {
	local n
	for n in $(seq 1 "$4"); do
		tcp_probe "$1" "$2" "$3" && return 0
		sleep 0.1
	done
	return 1
}
for s in $SERVERS; do
	wait_tcp "$NS_C" "$s" "$TCP_PORT" 100 || die "server $s:$TCP_PORT not reachable from the client (routing through the director)"
done
log "topology up: client -> director -> bridge -> 3 servers, iperf servers listening"

# ---------------------------------------------------------------- measurement helpers
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# director_ticks: utime+stime of every process in the director netns (= nfqlb and children)
director_ticks() {
	local p sum=0 t
	for p in $(ip netns pids "$NS_D" 2>/dev/null); do
		t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$t" ] && sum=$((sum + t))
	done
	echo "$sum"
}

# cpu_snap: "busy total" jiffies of the whole machine (all CPUs) from /proc/stat
cpu_snap() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}
# cpu_busy "BUSY0 TOTAL0" "BUSY1 TOTAL1": percent of all CPUs busy in between
cpu_busy() {
	echo "$1 $2" | awk '{ if ($4 > $2) printf "%.1f", 100 * ($3 - $1) / ($4 - $2) }'
}

# udp_counts: per-server packet counters of the dpt 9000 DROP rule
udp_counts() {
	local r c
	for r in "${NS_R[@]}"; do
		c=$(ipt "$r" -L INPUT -n -v -x 2>/dev/null | awk -v p="dpt:$UDP_PORT" '$0 ~ p { print $1; exit }')
		echo "${c:-0}"
	done
}

# flush the director's conntrack table between phases (director netns only)
flush_ct() {
	if command -v conntrack >/dev/null 2>&1; then
		timeout 10 ip netns exec "$NS_D" conntrack -F >/dev/null 2>&1 || true
	fi
}

# measure_tcp LABEL -> sets R_TCP (Mbit/s or empty), R_CPU_TCP (% of one core)
measure_tcp() {
	local label=$1 out c0 c1 t0 t1 m0
	out=$TMP/iperf.$label.out
	R_TCP=
	R_CPU_TCP=
	c0=$(director_ticks)
	m0=$(cpu_snap)
	t0=$(date +%s.%N)
	runwait "$out" ip netns exec "$NS_C" timeout $((T + 30)) iperf -c "$VIP" -p "$TCP_PORT" -t "$T" -P "$STREAMS" -f m
	t1=$(date +%s.%N)
	c1=$(director_ticks)
	R_MCPU_TCP=$(cpu_busy "$m0" "$(cpu_snap)")
	if [ "$STREAMS" -gt 1 ]; then
		R_TCP=$(awk '/\[SUM\]/ && /bits\/sec/ { for (i = 1; i <= NF; i++) if ($i ~ /bits\/sec$/) { v = $(i-1); u = $i } }
			END { if (v != "") { if (u ~ /^G/) v *= 1000; else if (u ~ /^K/) v /= 1000; else if (u ~ /^bits/) v /= 1e6; print v } }' "$out")
	else
		R_TCP=$(awk '/bits\/sec/ { for (i = 1; i <= NF; i++) if ($i ~ /bits\/sec$/) { v = $(i-1); u = $i } }
			END { if (v != "") { if (u ~ /^G/) v *= 1000; else if (u ~ /^K/) v /= 1000; else if (u ~ /^bits/) v /= 1e6; print v } }' "$out")
	fi
	R_CPU_TCP=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
		'BEGIN { if (t1 > t0) printf "%.1f", 100 * (b - a) / hz / (t1 - t0) }')
	if [ -z "$R_TCP" ]; then
		echo "  $label TCP: iperf gave no result; its output:" >&2
		sed 's/^/    /' "$out" | tail -n 20 >&2
	fi
}

# measure_udp LABEL BASEPORT -> sets R_UDP (delivered pps), R_SENT (offered pps), R_CPU_UDP, R_SPREAD
measure_udp() {
	local label=$1 base=$2 out a b c0 c1 sent secs delivered i m0
	out=$TMP/blast.$label.out
	R_UDP=
	R_SENT=
	R_CPU_UDP=
	R_SPREAD=
	mapfile -t a < <(udp_counts)
	c0=$(director_ticks)
	m0=$(cpu_snap)
	runwait "$out" ip netns exec "$NS_C" timeout $((T + 20)) "$TMP/udpblast" "$VIP" "$UDP_PORT" "$T" "$FLOWS" "$base" "$UDP_PAYLOAD"
	c1=$(director_ticks)
	R_MCPU_UDP=$(cpu_busy "$m0" "$(cpu_snap)")
	sleep 0.5 # let queued packets drain before reading the counters
	mapfile -t b < <(udp_counts)
	sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$out")
	secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$out")
	if [ -z "$sent" ] || [ -z "$secs" ]; then
		echo "  $label UDP: udpblast gave no result; its output:" >&2
		sed 's/^/    /' "$out" | tail -n 20 >&2
		return
	fi
	delivered=0
	for i in "${!b[@]}"; do
		delivered=$((delivered + b[i] - a[i]))
		R_SPREAD="$R_SPREAD${R_SPREAD:+/}$((b[i] - a[i]))"
	done
	R_SENT=$(awk -v n="$sent" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", n / s }')
	R_UDP=$(awk -v n="$delivered" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", n / s }')
	R_CPU_UDP=$(awk -v a="$c0" -v b="$c1" -v s="$secs" -v hz="$CLK_TCK" \
		'BEGIN { if (s > 0) printf "%.1f", 100 * (b - a) / hz / s }')
}

# results: RES_<mode>_<figure> = space-separated values, one per repetition
declare -A RES
record() { # record MODE FIGURE VALUE
	RES[$1.$2]="${RES[$1.$2]:-} ${3:-FAIL}"
}

run_figures() { # run_figures MODE REP
	local mode=$1 rep=$2 base
	measure_tcp "$mode.$rep"
	record "$mode" tcp "$R_TCP"
	record "$mode" mcpu_tcp "$R_MCPU_TCP"
	[ "$mode" = nfqlb ] && record "$mode" cpu_tcp "$R_CPU_TCP"
	log "  $mode rep $rep: TCP ${R_TCP:-FAIL} Mbit/s$([ "$mode" = nfqlb ] && echo ", nfqlb CPU ${R_CPU_TCP}%"), machine busy ${R_MCPU_TCP:-?}%"
	# distinct source ports per phase and repetition: no stale conntrack/nfqlb entries
	if [ "$mode" = nfqlb ]; then base=$((20000 + (rep * 2 + 1) * 1024)); else base=$((20000 + rep * 2 * 1024)); fi
	measure_udp "$mode.$rep" "$base"
	record "$mode" udp "$R_UDP"
	record "$mode" sent "$R_SENT"
	record "$mode" mcpu_udp "$R_MCPU_UDP"
	[ "$mode" = nfqlb ] && record "$mode" cpu_udp "$R_CPU_UDP"
	log "  $mode rep $rep: UDP delivered ${R_UDP:-FAIL} pps of ${R_SENT:-FAIL} pps offered (per server ${R_SPREAD:-?})$([ "$mode" = nfqlb ] && echo ", nfqlb CPU ${R_CPU_UDP}%"), machine busy ${R_MCPU_UDP:-?}%"
}

# ---------------------------------------------------------------- (a) iptables DNAT
dnat_on() {
	local proto port n i s
	ipt "$NS_D" -t nat -N BENCH_DNAT || return 1
	for proto in tcp udp; do
		[ $proto = tcp ] && port=$TCP_PORT || port=$UDP_PORT
		n=$(echo $SERVERS | wc -w)
		i=0
		for s in $SERVERS; do
			if [ $i -lt $((n - 1)) ]; then
				ipt "$NS_D" -t nat -A BENCH_DNAT -p $proto --dport $port \
					-m statistic --mode nth --every $((n - i)) --packet 0 \
					-j DNAT --to-destination "$s:$port" || return 1
			else
				ipt "$NS_D" -t nat -A BENCH_DNAT -p $proto --dport $port \
					-j DNAT --to-destination "$s:$port" || return 1
			fi
			i=$((i + 1))
		done
	done
	ipt "$NS_D" -t nat -A PREROUTING -d "$VIP/32" -j BENCH_DNAT || return 1
}
dnat_off() {
	ipt "$NS_D" -t nat -D PREROUTING -d "$VIP/32" -j BENCH_DNAT 2>/dev/null
	ipt "$NS_D" -t nat -F BENCH_DNAT 2>/dev/null
	ipt "$NS_D" -t nat -X BENCH_DNAT 2>/dev/null
	flush_ct
}

run_dnat() { # run_dnat REP
	dnat_on || die "could not install the DNAT rules"
	wait_tcp "$NS_C" "$VIP" "$TCP_PORT" 50 || die "VIP $VIP:$TCP_PORT not reachable through DNAT"
	run_figures dnat "$1"
	dnat_off
}

# ---------------------------------------------------------------- (b) nfqlb
CONF=$TMP/nfqlb.conf
write_conf() {
	local proto port name s
	{
		cat <<EOF
# generated by bench/bench.sh
daemon: {
  queue = 0;
  queues = $QUEUES;
  control_socket = "$TMP/nfqlb.sock";
  max_connections = 1048576;
  log_level = "warning";
  checkpoint: { file = "$TMP/connections.ckpt"; interval = 5; };
};
iptables: { manage = true; chain = "NFQLB"; };
services = (
EOF
		for proto in tcp udp; do
			if [ $proto = tcp ]; then port=$TCP_PORT; name=bench-tcp; else port=$UDP_PORT; name=bench-udp; fi
			echo "  {"
			echo "    name = \"$name\"; protocol = \"$proto\"; vip = \"$VIP\"; port = $port;"
			echo "    scheduler = \"rr\"; forward = \"nat\";"
			echo "    servers = ("
			local sep=
			for s in $SERVERS; do
				printf '%s      { address = "%s"; port = %d; weight = 1; }' "$sep" "$s" "$port"
				sep=$',\n'
			done
			echo
			echo "    );"
			echo "    health: { type = \"none\"; };"
			[ $proto = tcp ] && echo "  }," || echo "  }"
		done
		echo ");"
	} >"$CONF"
}

norm_rules() { # iptables-save of the director without counters/comments
	timeout 20 ip netns exec "$NS_D" iptables-save 2>/dev/null | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//'
}

nfqlb_start() {
	local n
	norm_rules >"$TMP/rules.before"
	ip netns exec "$NS_D" "$NFQLB" -f -c "$CONF" >>"$TMP/nfqlb.log" 2>&1 &
	NFQLB_PID=$!
	for n in $(seq 1 100); do # up to ~10-30 s
		kill -0 "$NFQLB_PID" 2>/dev/null || {
			wait "$NFQLB_PID"
			echo "$PROG: nfqlb exited during start-up (status $?); log:" >&2
			tail -n 30 "$TMP/nfqlb.log" >&2
			NFQLB_PID=
			exit 1
		}
		tcp_probe "$NS_C" "$VIP" "$TCP_PORT" && return 0
		sleep 0.1
	done
	echo "$PROG: nfqlb did not start balancing $VIP:$TCP_PORT; log:" >&2
	tail -n 30 "$TMP/nfqlb.log" >&2
	exit 1
}

nfqlb_stop() {
	local n st
	[ -n "$NFQLB_PID" ] || return 0
	kill -TERM "$NFQLB_PID" 2>/dev/null
	for n in $(seq 1 100); do
		kill -0 "$NFQLB_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NFQLB_PID" 2>/dev/null; then
		echo "$PROG: warning: nfqlb did not stop on SIGTERM within 10 s, killing it" >&2
		kill -KILL "$NFQLB_PID" 2>/dev/null
		NFQLB_STOP_ISSUES="${NFQLB_STOP_ISSUES:-}did not stop on SIGTERM; "
	fi
	wait "$NFQLB_PID" 2>/dev/null
	st=$?
	NFQLB_PID=
	[ "$st" = 0 ] || NFQLB_STOP_ISSUES="${NFQLB_STOP_ISSUES:-}exit status $st after SIGTERM; "
	norm_rules >"$TMP/rules.after"
	if ! cmp -s "$TMP/rules.before" "$TMP/rules.after"; then
		echo "$PROG: warning: director iptables-save differs before start / after stop of nfqlb:" >&2
		diff "$TMP/rules.before" "$TMP/rules.after" | sed 's/^/    /' | head -n 20 >&2
		NFQLB_STOP_ISSUES="${NFQLB_STOP_ISSUES:-}rules left behind; "
	fi
	flush_ct
}

run_nfqlb() { # run_nfqlb REP
	nfqlb_start
	run_figures nfqlb "$1"
	nfqlb_stop
}

if [ "$DNAT_ONLY" = 0 ]; then
	write_conf
	if ! timeout 10 ip netns exec "$NS_D" "$NFQLB" -t -c "$CONF" >"$TMP/conftest.log" 2>&1; then
		echo "$PROG: nfqlb -t rejects the generated config:" >&2
		sed 's/^/    /' "$TMP/conftest.log" >&2
		sed 's/^/    | /' "$CONF" >&2
		exit 1
	fi
fi

# ---------------------------------------------------------------- run
for rep in $(seq 1 "$REPS"); do
	log "repetition $rep/$REPS: iptables DNAT"
	run_dnat "$rep"
	if [ "$DNAT_ONLY" = 0 ]; then
		log "repetition $rep/$REPS: nfqlb"
		run_nfqlb "$rep"
	fi
done

# ---------------------------------------------------------------- report
median() { # median of the numeric words; empty if there are none
	echo "$@" | tr ' ' '\n' | awk '/^[0-9.]+$/' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fig() { # fig MODE FIGURE -> median, "FAIL" or "-"
	local k=$1.$2 m
	if [ -z "${RES[$k]+x}" ]; then
		echo "-"
		return
	fi
	m=$(median ${RES[$k]})
	echo "${m:-FAIL}"
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.3f", a / b; else print "-" }'
}
fmt() { # fmt VALUE DECIMALS
	awk -v v="$1" -v d="$2" 'BEGIN { if (v ~ /^[0-9.]+$/) printf "%.*f", d, v; else print v }'
}
# a figure counts as measured when every repetition produced a non-zero number
check() { # check MODE FIGURE WHAT
	local k=$1.$2 v
	[ -n "${RES[$k]+x}" ] || return 0
	for v in ${RES[$k]}; do
		if ! awk -v v="$v" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v > 0) }'; then
			echo "$PROG: FAILED: $1 $3 (values:${RES[$k]})" >&2
			FAILED=1
			return
		fi
	done
}

nf_label=nfqlb
[ "$DNAT_ONLY" = 1 ] && nf_label="nfqlb (skipped)"
echo
echo "=== results: median of $REPS run(s), ${T}s each; $(nproc) CPUs, $(uname -r) ==="
printf '%-36s %14s %16s %11s\n' "figure" "iptables DNAT" "$nf_label" "nfqlb/DNAT"
printf '%-36s %14s %16s %11s\n' "------" "-------------" "-----" "----------"
row() { # row LABEL FIGURE DECIMALS
	local d n
	d=$(fig dnat "$2")
	n=$(fig nfqlb "$2")
	printf '%-36s %14s %16s %11s\n' "$1" "$(fmt "$d" "$3")" "$(fmt "$n" "$3")" "$(ratio "$n" "$d")"
}
row "TCP throughput, iperf2 -P $STREAMS (Mbit/s)" tcp 1
row "UDP delivered to servers (pps)" udp 0
row "UDP offered by client (pps)" sent 0
row "nfqlb process CPU, TCP (% 1 core)" cpu_tcp 1
row "nfqlb process CPU, UDP (% 1 core)" cpu_udp 1
row "machine CPU busy, TCP (% $(nproc) CPUs)" mcpu_tcp 1
row "machine CPU busy, UDP (% $(nproc) CPUs)" mcpu_udp 1
echo "(nfqlb process CPU = user+system time of the processes in the director netns; DNAT has"
echo " no process, its work is kernel softirq time. Machine CPU busy = all CPUs from /proc/stat,"
echo " including client, servers, kernel and anything else running on the machine.)"
if [ "$REPS" -gt 1 ]; then
	echo "per-repetition values:"
	for k in dnat.tcp nfqlb.tcp dnat.udp nfqlb.udp nfqlb.cpu_tcp nfqlb.cpu_udp dnat.mcpu_tcp nfqlb.mcpu_tcp dnat.mcpu_udp nfqlb.mcpu_udp; do
		[ -n "${RES[$k]+x}" ] && printf '  %-14s %s\n' "$k" "${RES[$k]}"
	done
fi
[ -n "${NFQLB_STOP_ISSUES:-}" ] && echo "nfqlb stop issues: $NFQLB_STOP_ISSUES"
if [ -s "$TMP/nfqlb.log" ]; then
	n=$(grep -i 'error\|warning' "$TMP/nfqlb.log" | grep -vc 'similar messages suppressed')
	if [ "$n" -gt 0 ]; then
		echo "nfqlb logged $n error/warning line(s); most frequent:"
		grep -i 'error\|warning' "$TMP/nfqlb.log" | grep -v 'similar messages suppressed' |
			sort | uniq -c | sort -rn | head -n 5 | sed 's/^/  /'
	fi
fi

check dnat tcp "TCP throughput"
check dnat udp "UDP delivery"
check nfqlb tcp "TCP throughput"
check nfqlb udp "UDP delivery"
if [ "$FAILED" = 0 ]; then
	echo "bench: OK ($MODE mode)"
	exit 0
fi
echo "bench: some figures could not be measured" >&2
exit 1
