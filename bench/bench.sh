#!/bin/bash
# bench/bench.sh - compare nfqlb's three forwarding methods (VS/NAT, VS/DR,
# VS/TUN through NFQUEUE) with in-kernel iptables DNAT load balancing on the
# same namespace topology, in one run.
#
#   client c0 192.0.2.2/24 --veth-- director 192.0.2.1/24, VIP 203.0.113.10/32 on lo,
#                                   198.51.100.1/24 --veth-- switch ns (bridge br0)
#                                   --veths-- server ns 198.51.100.11..13/24
#          c1 192.0.2.130/25 --veth-- router 192.0.2.129/25, 198.51.100.254/24 --veth-- br0
#
# The servers hold the VIP on lo with ARP suppressed (scripts/nfqlb-realserver)
# for the whole run; NAT packets arrive addressed to the server's own address,
# so it does not matter to DNAT and NAT.  Their default route is switched per
# method: via the director (198.51.100.1) for DNAT and NAT, via the router for
# DR and TUN, whose replies must not pass the director (checked every run).
# For TUN each server runs tests/tools/ipip_decap (this kernel has no ipip):
# one user-space thread per server, so TUN figures are bounded by it too.
#
# Figures, measured interleaved per repetition for (a) iptables DNAT (nat
# PREROUTING, -m statistic --mode nth) and nfqlb rr with (b) NAT, (c) DR, (d) TUN:
#   - TCP upload: iperf 2, `iperf -c 203.0.113.10 -p 5001 -t T -P 4` (the data
#     crosses the director with every method)
#   - TCP download: the same with -R (servers send: with DR and TUN the data
#     goes back through the router, the director sees only the client's ACKs)
#   - UDP packets/s delivered to the servers: bench/udpblast (sendmmsg, many source
#     ports) blasts 64-byte frames at 203.0.113.10:9000 for T seconds; the servers
#     count what arrives with an iptables INPUT rule (udp dpt 9000, DROP) counter
#     (for TUN: the decapsulated packets, which arrive on tun0)
#   - director CPU of nfqlb (utime+stime of the processes in the director netns),
#     and for TUN the servers' decapsulators' CPU
# and reported as medians plus, per repetition, the ratio to DNAT's figure in
# the same repetition (the machine may be shared: neighbours' load hits the
# methods of one repetition alike).
#
# Usage: bench/bench.sh [--short] [--dnat-only | --modes LIST] [--keep] [-h]
#   --short      CI mode: 3 s per figure, 1 repetition; never fails on low numbers
#   --dnat-only  skip nfqlb (no binary needed)
#   --modes LIST nfqlb methods to measure, comma separated (default nat,dr,tun)
#   --keep       keep the temporary directory (configs, logs)
# Environment:
#   NFQLB=path         daemon binary (default: $(dirname "$0")/../nfqlb)
#   IPIP_DECAP=path    TUN decapsulator (default: $(dirname "$0")/../tests/tools/ipip_decap,
#                      built by make)
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
# Exit status: 0 when every figure was measured (non-zero) and every method's
# replies took the expected path, 1 otherwise.

set -u
export LC_ALL=C

PROG=bench
MODE=full
KEEP=0
NF_MODES="nat dr tun" # nfqlb forwarding methods to measure, in this order

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--short) MODE=short ;;
	--dnat-only) NF_MODES= ;;
	--modes)
		[ $# -ge 2 ] || { echo "$PROG: --modes needs a list (e.g. nat,dr,tun)" >&2; exit 2; }
		NF_MODES=
		for m in $(echo "$2" | tr ',' ' '); do
			case "$m" in
			nat | dr | tun) case " $NF_MODES " in *" $m "*) ;; *) NF_MODES="$NF_MODES $m" ;; esac ;;
			*) echo "$PROG: --modes: unknown method '$m' (nat, dr, tun)" >&2; exit 2 ;;
			esac
		done
		[ -n "$NF_MODES" ] || { echo "$PROG: --modes: empty list (use --dnat-only)" >&2; exit 2; }
		shift
		;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$PROG: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
NF_MODES=$(echo $NF_MODES)
MODES="dnat${NF_MODES:+ $NF_MODES}" # every method of a repetition; dnat is the baseline
has_mode() { case " $MODES " in *" $1 "*) return 0 ;; esac; return 1; }

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
# every method of every repetition blasts from its own source ports, from 1024 up
UDP_BASE=1024
NMODES=$(echo $MODES | wc -w)
[ $((UDP_BASE + REPS * NMODES * FLOWS)) -le 65536 ] ||
	{ echo "$PROG: BENCH_REPS x $NMODES methods x BENCH_FLOWS source ports do not fit in 1024..65535" >&2; exit 2; }

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
NFQLB=${NFQLB:-$BENCH_DIR/../nfqlb}
IPIP_DECAP=${IPIP_DECAP:-$BENCH_DIR/../tests/tools/ipip_decap}
REALSERVER=$BENCH_DIR/../scripts/nfqlb-realserver

VIP=203.0.113.10
TCP_PORT=5001
UDP_PORT=9000
CLIENT_IP=192.0.2.2
CLIENT_IP2=192.0.2.130 # client's second leg, towards the router
DIR_FRONT=192.0.2.1
DIR_BACK=198.51.100.1
ROUTER_FRONT=192.0.2.129
ROUTER_BACK=198.51.100.254
SERVERS="198.51.100.11 198.51.100.12 198.51.100.13"
NSRV=$(echo $SERVERS | wc -w)

die() {
	echo "$PROG: $*" >&2
	exit 1
}
log() {
	echo "[$(date +%T)] $*"
}
mode_label() { # human name of a method
	case "$1" in
	dnat) echo "iptables DNAT" ;;
	*) echo "nfqlb $(echo "$1" | tr a-z A-Z)" ;;
	esac
}

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces)"
for tool in ip iptables iptables-save iperf cc timeout sysctl awk; do
	command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
iperf -v 2>&1 | grep -q 'iperf version 2' || die "'iperf' is not iperf version 2 ($(iperf -v 2>&1 | head -1))"
[ -r "$BENCH_DIR/udpblast.c" ] || die "missing $BENCH_DIR/udpblast.c"
[ -x "$REALSERVER" ] || die "missing $REALSERVER"
if [ -n "$NF_MODES" ]; then
	if [ ! -x "$NFQLB" ]; then
		echo "$PROG: nfqlb binary not found or not executable at '$NFQLB'" >&2
		echo "$PROG: build it first (./autogen.sh && ./configure && make), set NFQLB=..., or use --dnat-only" >&2
		exit 1
	fi
	NFQLB=$(cd "$(dirname "$NFQLB")" && pwd)/$(basename "$NFQLB")
fi
if has_mode tun; then
	if [ ! -x "$IPIP_DECAP" ]; then
		echo "$PROG: TUN needs the user-space decapsulator, not found at '$IPIP_DECAP'" >&2
		echo "$PROG: build it with make (tests/tools/ipip_decap), set IPIP_DECAP=..., or leave tun out (--modes nat,dr)" >&2
		exit 1
	fi
fi

# ---------------------------------------------------------------- state, cleanup
T_START=$(date +%s)
P="nqb$$"
NS_C=${P}c
NS_D=${P}d
NS_S=${P}s
NS_T=${P}t # the router of the direct return path
NS_R=()
NSLIST=()
PIDS=()
DECAP_PIDS=()
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
if [ -n "$NF_MODES" ]; then
	echo "nfqlb:      $NFQLB ($("$NFQLB" -V 2>&1 | head -1), built $(date -u -r "$NFQLB" '+%Y-%m-%d %H:%M:%S UTC'))"
else
	echo "nfqlb:      skipped (--dnat-only)"
fi
echo "methods:    $(for m in $MODES; do printf '%s, ' "$(mode_label "$m")"; done | sed 's/, $//') (in this order, every repetition)"
echo "load:       iperf -P $STREAMS up and down (-R); UDP $FLOWS flows, payload ${UDP_PAYLOAD} B ($((UDP_PAYLOAD + 46)) B Ethernet frame incl. FCS)"
echo "namespaces: ${P}{c,d,s,t,r1..r$NSRV}   tmpdir: $TMP"
echo

# snapshot the binaries: a rebuild during the run must not mix two versions
if [ -n "$NF_MODES" ]; then
	cp "$NFQLB" "$TMP/nfqlb" || die "cannot copy $NFQLB"
	NFQLB=$TMP/nfqlb
fi
if has_mode tun; then
	cp "$IPIP_DECAP" "$TMP/ipip_decap" || die "cannot copy $IPIP_DECAP"
	IPIP_DECAP=$TMP/ipip_decap
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
mkns "$NS_T"
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
# the direct return path (as tests/lib/topo.sh topo_direct_return): router <-> switch,
# router <-> client's second leg; the client takes replies from the VIP on c1
ip -n "$NS_T" link add t0 type veth peer name st netns "$NS_S"
ip -n "$NS_T" addr add "$ROUTER_BACK/24" dev t0
ip -n "$NS_T" link set t0 up
ip -n "$NS_S" link set st master br0
ip -n "$NS_S" link set st up
ip -n "$NS_T" link add t1 type veth peer name c1 netns "$NS_C"
ip -n "$NS_T" addr add "$ROUTER_FRONT/25" dev t1
ip -n "$NS_T" link set t1 up
ip -n "$NS_T" route add "$CLIENT_IP/32" via "$CLIENT_IP2"
nsx "$NS_T" sysctl -qw net.ipv4.ip_forward=1
ip -n "$NS_C" addr add "$CLIENT_IP2/25" dev c1
ip -n "$NS_C" link set c1 up
nsx "$NS_C" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.c0.rp_filter=0 net.ipv4.conf.c1.rp_filter=0
set +e
# the bridge must not pass frames through iptables (br_netfilter may be built in)
for k in iptables ip6tables arptables; do
	f=net.bridge.bridge-nf-call-$k
	nsx "$NS_S" sysctl -qw "$f=0" 2>/dev/null || true
done

# servers: the VIP on lo with ARP suppressed (for DR and TUN; NAT packets are addressed
# to the server's own address, and DNAT's too, so it stays for the whole run), an
# iperf 2 listener and a counting DROP rule for the UDP service port
i=0
for r in "${NS_R[@]}"; do
	i=$((i + 1))
	NFQLB_RS_STATE=$TMP/rs-r$i nsx "$r" "$REALSERVER" start "$VIP" >>"$TMP/realserver.log" 2>&1 ||
		die "nfqlb-realserver start in $r failed: $(tail -n 3 "$TMP/realserver.log")"
	ipt "$r" -A INPUT -p udp --dport "$UDP_PORT" -j DROP || die "iptables in $r failed"
	ip netns exec "$r" iperf -s -p "$TCP_PORT" >/dev/null 2>&1 &
	PIDS+=($!)
done

# TUN: this kernel has no ipip device; tests/tools/ipip_decap reads IPIP from a raw
# socket and writes the inner packet to tun0 (as tests/lib/topo.sh start_ipip_decap)
if has_mode tun; then
	i=0
	for r in "${NS_R[@]}"; do
		i=$((i + 1))
		ip netns exec "$r" "$IPIP_DECAP" tun0 >>"$TMP/decap-r$i.log" 2>&1 &
		PIDS+=($!)
		DECAP_PIDS+=($!)
		for n in $(seq 1 50); do
			ip -n "$r" link show tun0 >/dev/null 2>&1 && break
			sleep 0.1
		done
		ip -n "$r" link set tun0 up || die "$r: no tun0 from ipip_decap ($(tail -n 3 "$TMP/decap-r$i.log"))"
		nsx "$r" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tun0.rp_filter=0 ||
			die "$r: cannot turn rp_filter off on tun0"
	done
fi

# return_path director|router: the servers' default route for the next method
return_path() {
	local gw r
	[ "$1" = router ] && gw=$ROUTER_BACK || gw=$DIR_BACK
	for r in "${NS_R[@]}"; do
		ip -n "$r" route replace default via "$gw" || die "$r: cannot route via $gw"
	done
}

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
log "topology up: client -> director -> bridge -> $NSRV servers (VIP on lo), router for direct return, iperf servers listening"

# ---------------------------------------------------------------- measurement helpers
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# ticks_of PID...: utime+stime of these processes, in clock ticks
ticks_of() {
	local p sum=0 t
	for p in "$@"; do
		t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$t" ] && sum=$((sum + t))
	done
	echo "$sum"
}
# director_ticks: every process in the director netns (= nfqlb and children)
director_ticks() {
	# shellcheck disable=SC2046 # one PID per word
	ticks_of $(ip netns pids "$NS_D" 2>/dev/null)
}
# decap_ticks: the servers' TUN decapsulators together
decap_ticks() {
	ticks_of ${DECAP_PIDS[@]+"${DECAP_PIDS[@]}"}
}
# decap_drops: IPIP packets the decapsulators' raw sockets dropped (receive buffer
# full), summed over the servers; 0 without TUN
decap_drops() {
	local r sum=0 d
	has_mode tun || { echo 0; return; }
	for r in "${NS_R[@]}"; do
		d=$(nsx "$r" awk 'NR > 1 && $2 ~ /:0004$/ { s += $NF } END { print s + 0 }' /proc/net/raw 2>/dev/null)
		sum=$((sum + ${d:-0}))
	done
	echo "$sum"
}
# core_pct TICKS0 TICKS1 SECONDS: percent of one core
core_pct() {
	awk -v a="$1" -v b="$2" -v s="$3" -v hz="$CLK_TCK" 'BEGIN { if (s > 0) printf "%.1f", 100 * (b - a) / hz / s }'
}

# cpu_snap: "busy total" jiffies of the whole machine (all CPUs) from /proc/stat
cpu_snap() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}
# cpu_busy "BUSY0 TOTAL0" "BUSY1 TOTAL1": percent of all CPUs busy in between
cpu_busy() {
	echo "$1 $2" | awk '{ if ($4 > $2) printf "%.1f", 100 * ($3 - $1) / ($4 - $2) }'
}

# path_snap: "D R" = packets the director (d0) and the router (t1) sent towards the client
path_snap() {
	echo "$(nsx "$NS_D" cat /sys/class/net/d0/statistics/tx_packets) $(nsx "$NS_T" cat /sys/class/net/t1/statistics/tx_packets)"
}
# path_of "D0 R0" "D1 R1": which one carried the traffic back to the client:
# "director" or "router" when the other carried (almost) nothing, else "mixed(D/R)"
path_of() {
	echo "$1 $2" | awk '{ d = $3 - $1; r = $4 - $2
		if (d >= 100 && r <= 100 + d / 100) print "director"
		else if (r >= 100 && d <= 100 + r / 100) print "router"
		else printf "mixed(%d/%d)\n", d, r }'
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

# iperf_mbits FILE: the total throughput iperf reported, in Mbit/s (empty if none)
iperf_mbits() {
	local sel='/bits\/sec/'
	[ "$STREAMS" -gt 1 ] && sel='/\[SUM\]/ && /bits\/sec/'
	awk "$sel"' { for (i = 1; i <= NF; i++) if ($i ~ /bits\/sec$/) { v = $(i-1); u = $i } }
		END { if (v != "") { if (u ~ /^G/) v *= 1000; else if (u ~ /^K/) v /= 1000; else if (u ~ /^bits/) v /= 1e6; print v } }' "$1"
}

# measure_tcp LABEL up|down -> sets R_TCP (Mbit/s or empty), R_CPU (nfqlb, % of one
# core), R_DCPU (decapsulators), R_DDROP (their socket drops), R_MCPU (machine),
# R_PATH (how replies went back)
measure_tcp() {
	local label=$1 dir=$2 out c0 c1 d0 d1 t0 t1 m0 p0 x0 rev=
	[ "$dir" = down ] && rev=-R
	out=$TMP/iperf.$label.$dir.out
	c0=$(director_ticks)
	d0=$(decap_ticks)
	m0=$(cpu_snap)
	p0=$(path_snap)
	x0=$(decap_drops)
	t0=$(date +%s.%N)
	runwait "$out" ip netns exec "$NS_C" timeout $((T + 30)) iperf -c "$VIP" -p "$TCP_PORT" -t "$T" -P "$STREAMS" -f m $rev
	t1=$(date +%s.%N)
	c1=$(director_ticks)
	d1=$(decap_ticks)
	R_MCPU=$(cpu_busy "$m0" "$(cpu_snap)")
	R_PATH=$(path_of "$p0" "$(path_snap)")
	R_DDROP=$(($(decap_drops) - x0))
	R_TCP=$(iperf_mbits "$out")
	local secs
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	R_CPU=$(core_pct "$c0" "$c1" "$secs")
	R_DCPU=$(core_pct "$d0" "$d1" "$secs")
	if [ -z "$R_TCP" ]; then
		echo "  $label TCP $dir: iperf gave no result; its output:" >&2
		sed 's/^/    /' "$out" | tail -n 20 >&2
	fi
}

# measure_udp LABEL BASEPORT -> sets R_UDP (delivered pps), R_SENT (offered pps),
# R_CPU, R_DCPU, R_DDROP, R_MCPU, R_SPREAD (packets per server)
measure_udp() {
	local label=$1 base=$2 out a b c0 c1 d0 d1 sent secs delivered i m0 x0
	out=$TMP/blast.$label.out
	R_UDP=
	R_SENT=
	R_CPU=
	R_DCPU=
	R_SPREAD=
	mapfile -t a < <(udp_counts)
	c0=$(director_ticks)
	d0=$(decap_ticks)
	m0=$(cpu_snap)
	x0=$(decap_drops)
	runwait "$out" ip netns exec "$NS_C" timeout $((T + 20)) "$TMP/udpblast" "$VIP" "$UDP_PORT" "$T" "$FLOWS" "$base" "$UDP_PAYLOAD"
	c1=$(director_ticks)
	d1=$(decap_ticks)
	R_MCPU=$(cpu_busy "$m0" "$(cpu_snap)")
	sleep 0.5 # let queued packets drain before reading the counters
	mapfile -t b < <(udp_counts)
	R_DDROP=$(($(decap_drops) - x0))
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
	R_CPU=$(core_pct "$c0" "$c1" "$secs")
	R_DCPU=$(core_pct "$d0" "$d1" "$secs")
}

# results: RES[MODE.FIGURE] = space-separated values, one per repetition
declare -A RES
record() { # record MODE FIGURE VALUE
	RES[$1.$2]="${RES[$1.$2]:-} ${3:-FAIL}"
}

# expected_path MODE: where the replies of MODE must go back to the client
expected_path() {
	case "$1" in
	dnat | nat) echo director ;;
	*) echo router ;;
	esac
}

run_figures() { # run_figures MODE REP BASEPORT
	local mode=$1 rep=$2 base=$3 dir fig extra
	for dir in up down; do
		[ "$dir" = up ] && fig=tcp || fig=tcpr
		measure_tcp "$mode.$rep" "$dir"
		record "$mode" "$fig" "$R_TCP"
		record "$mode" "mcpu_$fig" "$R_MCPU"
		record "$mode" "path_$fig" "$R_PATH"
		extra=
		if [ "$mode" != dnat ]; then
			record "$mode" "cpu_$fig" "$R_CPU"
			extra=", nfqlb CPU ${R_CPU}%"
		fi
		if [ "$mode" = tun ]; then
			record "$mode" "dcpu_$fig" "$R_DCPU"
			record "$mode" "ddrop_$fig" "$R_DDROP"
			extra="$extra, ipip_decap CPU ${R_DCPU}% (socket drops $R_DDROP)"
		fi
		if [ "$R_PATH" != "$(expected_path "$mode")" ]; then
			echo "$PROG: $mode TCP $dir: replies went back via $R_PATH, expected via the $(expected_path "$mode") only" >&2
			FAILED=1
		fi
		log "  $mode rep $rep: TCP $dir ${R_TCP:-FAIL} Mbit/s$extra, machine busy ${R_MCPU:-?}%, back via $R_PATH"
	done
	measure_udp "$mode.$rep" "$base"
	record "$mode" udp "$R_UDP"
	record "$mode" sent "$R_SENT"
	record "$mode" mcpu_udp "$R_MCPU"
	extra=
	if [ "$mode" != dnat ]; then
		record "$mode" cpu_udp "$R_CPU"
		extra=", nfqlb CPU ${R_CPU}%"
	fi
	if [ "$mode" = tun ]; then
		record "$mode" dcpu_udp "$R_DCPU"
		record "$mode" ddrop_udp "$R_DDROP"
		extra="$extra, ipip_decap CPU ${R_DCPU}% (socket drops $R_DDROP)"
	fi
	log "  $mode rep $rep: UDP delivered ${R_UDP:-FAIL} pps of ${R_SENT:-FAIL} pps offered (per server ${R_SPREAD:-?})$extra, machine busy ${R_MCPU:-?}%"
}

# ---------------------------------------------------------------- (a) iptables DNAT
dnat_on() {
	local proto port n i s
	ipt "$NS_D" -t nat -N BENCH_DNAT || return 1
	for proto in tcp udp; do
		[ $proto = tcp ] && port=$TCP_PORT || port=$UDP_PORT
		n=$NSRV
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

run_dnat() { # run_dnat REP BASEPORT
	return_path director
	dnat_on || die "could not install the DNAT rules"
	wait_tcp "$NS_C" "$VIP" "$TCP_PORT" 50 || die "VIP $VIP:$TCP_PORT not reachable through DNAT"
	run_figures dnat "$1" "$2"
	dnat_off
}

# ---------------------------------------------------------------- (b) nfqlb NAT, DR, TUN
write_conf() { # write_conf METHOD FILE
	local method=$1 proto port name s
	{
		cat <<EOC
# generated by bench/bench.sh
daemon: {
  queue = 0;
  queues = $QUEUES;
  control_socket = "$TMP/nfqlb.sock";
  max_connections = 1048576;
  log_level = "warning";
  checkpoint: { file = "$TMP/connections.$method.ckpt"; interval = 5; };
};
iptables: { manage = true; chain = "NFQLB"; };
services = (
EOC
		for proto in tcp udp; do
			if [ $proto = tcp ]; then port=$TCP_PORT; name=bench-tcp; else port=$UDP_PORT; name=bench-udp; fi
			echo "  {"
			echo "    name = \"$name\"; protocol = \"$proto\"; vip = \"$VIP\"; port = $port;"
			echo "    scheduler = \"rr\"; forward = \"$method\";"
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
	} >"$2"
}

norm_rules() { # iptables-save of the director without counters/comments
	timeout 20 ip netns exec "$NS_D" iptables-save 2>/dev/null | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//'
}

nfqlb_start() { # nfqlb_start METHOD
	local n log=$TMP/nfqlb.$1.log
	norm_rules >"$TMP/rules.before"
	ip netns exec "$NS_D" "$NFQLB" -f -c "$TMP/nfqlb.$1.conf" >>"$log" 2>&1 &
	NFQLB_PID=$!
	for n in $(seq 1 100); do # up to ~10-30 s
		kill -0 "$NFQLB_PID" 2>/dev/null || {
			wait "$NFQLB_PID"
			echo "$PROG: nfqlb ($1) exited during start-up (status $?); log:" >&2
			tail -n 30 "$log" >&2
			NFQLB_PID=
			exit 1
		}
		tcp_probe "$NS_C" "$VIP" "$TCP_PORT" && return 0
		sleep 0.1
	done
	echo "$PROG: nfqlb ($1) did not start balancing $VIP:$TCP_PORT; log:" >&2
	tail -n 30 "$log" >&2
	exit 1
}

nfqlb_stop() { # nfqlb_stop METHOD
	local n st
	[ -n "$NFQLB_PID" ] || return 0
	kill -TERM "$NFQLB_PID" 2>/dev/null
	for n in $(seq 1 100); do
		kill -0 "$NFQLB_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NFQLB_PID" 2>/dev/null; then
		echo "$PROG: warning: nfqlb ($1) did not stop on SIGTERM within 10 s, killing it" >&2
		kill -KILL "$NFQLB_PID" 2>/dev/null
		NFQLB_STOP_ISSUES="${NFQLB_STOP_ISSUES:-}$1: did not stop on SIGTERM; "
	fi
	wait "$NFQLB_PID" 2>/dev/null
	st=$?
	NFQLB_PID=
	[ "$st" = 0 ] || NFQLB_STOP_ISSUES="${NFQLB_STOP_ISSUES:-}$1: exit status $st after SIGTERM; "
	norm_rules >"$TMP/rules.after"
	if ! cmp -s "$TMP/rules.before" "$TMP/rules.after"; then
		echo "$PROG: warning: director iptables-save differs before start / after stop of nfqlb ($1):" >&2
		diff "$TMP/rules.before" "$TMP/rules.after" | sed 's/^/    /' | head -n 20 >&2
		NFQLB_STOP_ISSUES="${NFQLB_STOP_ISSUES:-}$1: rules left behind; "
	fi
	flush_ct
}

run_nfqlb() { # run_nfqlb METHOD REP BASEPORT
	return_path "$(expected_path "$1")"
	nfqlb_start "$1"
	run_figures "$1" "$2" "$3"
	nfqlb_stop "$1"
}

for m in $NF_MODES; do
	write_conf "$m" "$TMP/nfqlb.$m.conf"
	if ! timeout 10 ip netns exec "$NS_D" "$NFQLB" -t -c "$TMP/nfqlb.$m.conf" >"$TMP/conftest.$m.log" 2>&1; then
		echo "$PROG: nfqlb -t rejects the generated $m config:" >&2
		sed 's/^/    /' "$TMP/conftest.$m.log" >&2
		sed 's/^/    | /' "$TMP/nfqlb.$m.conf" >&2
		exit 1
	fi
done

# ---------------------------------------------------------------- run
for rep in $(seq 1 "$REPS"); do
	idx=0
	for m in $MODES; do
		# distinct source ports per method and repetition: no stale conntrack/nfqlb entries
		base=$((UDP_BASE + ((rep - 1) * NMODES + idx) * FLOWS))
		idx=$((idx + 1))
		log "repetition $rep/$REPS: $(mode_label "$m")"
		if [ "$m" = dnat ]; then run_dnat "$rep" "$base"; else run_nfqlb "$m" "$rep" "$base"; fi
	done
done
T_END=$(date +%s)

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
# run_ratios MODE FIGURE: per repetition, MODE's figure over DNAT's of the same repetition
run_ratios() {
	local -a a b
	local i out=
	[ -n "${RES[$1.$2]+x}" ] && [ -n "${RES[dnat.$2]+x}" ] || return 0
	read -r -a a <<<"${RES[$1.$2]}"
	read -r -a b <<<"${RES[dnat.$2]}"
	for i in "${!a[@]}"; do out="$out $(ratio "${a[$i]}" "${b[$i]:-}")"; done
	echo $out
}
# the same value in every repetition, or all of them
same_or_all() {
	local v first='' all=same
	for v in "$@"; do
		[ -z "$first" ] && first=$v
		[ "$v" = "$first" ] || all=
	done
	if [ -n "$all" ]; then echo "$first"; else echo "$*" | tr ' ' ','; fi
}

W=42 # label column
CW=14 # value columns
echo
echo "=== results: median of $REPS run(s), ${T}s each; $(nproc) CPUs, $(uname -r) ==="
printf "%-${W}s" "figure"
for m in $MODES; do printf " %${CW}s" "$(mode_label "$m")"; done
echo
row() { # row LABEL FIGURE DECIMALS
	local m
	printf "%-${W}s" "$1"
	for m in $MODES; do printf " %${CW}s" "$(fmt "$(fig "$m" "$2")" "$3")"; done
	echo
}
ratio_row() { # ratio_row FIGURE: median of the per-run ratios to DNAT
	local m v
	[ -n "$NF_MODES" ] || return 0
	printf "%-${W}s" "  / DNAT (median of per-run ratios)"
	for m in $MODES; do
		# shellcheck disable=SC2046 # one ratio per word
		if [ "$m" = dnat ]; then v=1; else v=$(median $(run_ratios "$m" "$1")); fi
		printf " %${CW}s" "$(fmt "${v:--}" 3)"
	done
	echo
}
path_row() { # path_row LABEL FIGURE
	local m
	printf "%-${W}s" "$1"
	for m in $MODES; do printf " %${CW}s" "$(same_or_all ${RES[$m.path_$2]:--})"; done
	echo
}
row "TCP upload, iperf2 -P $STREAMS (Mbit/s)" tcp 1
ratio_row tcp
row "TCP download, iperf2 -P $STREAMS -R (Mbit/s)" tcpr 1
ratio_row tcpr
row "UDP delivered to servers (pps)" udp 0
ratio_row udp
row "UDP offered by client (pps)" sent 0
if [ -n "$NF_MODES" ]; then
	row "nfqlb CPU, TCP up (% of 1 core)" cpu_tcp 1
	row "nfqlb CPU, TCP down (% of 1 core)" cpu_tcpr 1
	row "nfqlb CPU, UDP (% of 1 core)" cpu_udp 1
fi
if has_mode tun; then
	row "ipip_decap CPU, TCP up (% of 1 core)" dcpu_tcp 1
	row "ipip_decap CPU, TCP down (% of 1 core)" dcpu_tcpr 1
	row "ipip_decap CPU, UDP (% of 1 core)" dcpu_udp 1
	row "ipip_decap socket drops, TCP up" ddrop_tcp 0
	row "ipip_decap socket drops, TCP down" ddrop_tcpr 0
	row "ipip_decap socket drops, UDP" ddrop_udp 0
fi
row "machine CPU busy, TCP up (% of $(nproc) CPUs)" mcpu_tcp 1
row "machine CPU busy, TCP down (% of $(nproc) CPUs)" mcpu_tcpr 1
row "machine CPU busy, UDP (% of $(nproc) CPUs)" mcpu_udp 1
path_row "TCP up: replies went back via" tcp
path_row "TCP down: replies went back via" tcpr
echo "(nfqlb CPU = user+system time of the processes in the director netns; DNAT has no"
echo " process, its work is kernel softirq time. Machine CPU busy = all CPUs from /proc/stat,"
echo " including client, servers, router, kernel and anything else running on the machine."
echo " TCP upload: the client sends, all data crosses the director with every method; TCP"
echo " download: the servers send, with DR and TUN the data bypasses the director.)"
if has_mode tun; then
	echo "(ipip_decap rows: the $NSRV servers' decapsulators together; drops = IPIP packets"
	echo " their raw sockets dropped, receive buffer full.)"
	echo "TUN caveat: this kernel has no ipip module, so each server decapsulates in user space"
	echo " (tests/tools/ipip_decap: one thread, raw socket -> tun0). TUN figures are bounded by"
	echo " the servers' decapsulators as much as by the director: see their CPU rows above."
fi
if [ -n "$NF_MODES" ]; then
	echo "per-run ratios to DNAT (repetitions 1..$REPS, each over DNAT's figure of the same repetition):"
	for f in tcp tcpr udp; do
		case $f in tcp) fl="TCP upload" ;; tcpr) fl="TCP download" ;; udp) fl="UDP delivered" ;; esac
		for m in $NF_MODES; do
			printf '  %-14s %-10s %s\n' "$fl" "$(mode_label "$m" | sed 's/^nfqlb //')" "$(run_ratios "$m" "$f")"
		done
	done
fi
if [ "$REPS" -gt 1 ]; then
	echo "per-repetition values:"
	for f in tcp tcpr udp sent cpu_tcp cpu_tcpr cpu_udp dcpu_tcp dcpu_tcpr dcpu_udp ddrop_tcp ddrop_tcpr ddrop_udp mcpu_tcp mcpu_tcpr mcpu_udp; do
		for m in $MODES; do
			[ -n "${RES[$m.$f]+x}" ] && printf '  %-16s %s\n' "$m.$f" "${RES[$m.$f]}"
		done
	done
fi
[ -n "${NFQLB_STOP_ISSUES:-}" ] && echo "nfqlb stop issues: $NFQLB_STOP_ISSUES"
for m in $NF_MODES; do
	f=$TMP/nfqlb.$m.log
	[ -s "$f" ] || continue
	n=$(grep -i 'error\|warning' "$f" | grep -vc 'similar messages suppressed')
	if [ "$n" -gt 0 ]; then
		echo "nfqlb ($m) logged $n error/warning line(s); most frequent:"
		grep -i 'error\|warning' "$f" | grep -v 'similar messages suppressed' |
			sort | uniq -c | sort -rn | head -n 5 | sed 's/^/  /'
	fi
done

# a figure counts as measured when every repetition produced a non-zero number
check() { # check MODE FIGURE WHAT
	local k=$1.$2 v
	[ -n "${RES[$k]+x}" ] || return 0
	for v in ${RES[$k]}; do
		if ! awk -v v="$v" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v > 0) }'; then
			echo "$PROG: FAILED: $(mode_label "$1") $3 (values:${RES[$k]})" >&2
			FAILED=1
			return
		fi
	done
}
for m in $MODES; do
	check "$m" tcp "TCP upload"
	check "$m" tcpr "TCP download"
	check "$m" udp "UDP delivery"
done
echo "total time: $((T_END - T_START)) s of measuring and set-up"
if [ "$FAILED" = 0 ]; then
	echo "bench: OK ($MODE mode)"
	exit 0
fi
echo "bench: some figures could not be measured, or replies took the wrong path" >&2
exit 1
