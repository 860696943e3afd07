#!/bin/bash
# bench/bench.sh - nfqlb's forwarding methods against in-kernel iptables DNAT
# load balancing and HAProxy in TCP mode, on the same namespace topology, in
# one run (the benchmark of issue 8).
#
#   client c0 192.0.2.2/24 --veth-- director 192.0.2.1/24, VIP 203.0.113.10/32 on lo,
#                                   198.51.100.1/24 --veth-- switch ns (bridge br0)
#                                   --veths-- server ns 198.51.100.11..13/24
#          c1 192.0.2.130/25 --veth-- router 192.0.2.129/25, 198.51.100.254/24 --veth-- br0
#
# The servers hold the VIP on lo with ARP suppressed (scripts/nfqlb-realserver)
# for the whole run; NAT packets arrive addressed to the server's own address,
# so it does not matter to DNAT and NAT.  Their default route is switched per
# method: via the director (198.51.100.1) for DNAT, HAProxy and NAT, via the
# router for DR and TUN, whose replies must not pass the director (checked every
# run).  For TUN each server runs tests/tools/ipip_decap (this kernel has no
# ipip): one user-space thread per server, so TUN figures are bounded by it too.
# Every server runs an iperf 2 listener (port 5001), nginx (port 80, its own
# config, pid and log files in the temporary directory) and counts UDP to port
# 9000 with an iptables DROP rule.
#
# Methods (--modes; by default all of them, in this order, interleaved in every
# repetition):
#   dnat     iptables DNAT in the director (nat PREROUTING, -m statistic --mode nth);
#            the baseline of every ratio, always measured
#   haproxy  HAProxy in the director netns: mode tcp, balance roundrobin, listening
#            on the VIP, the real servers behind it; no UDP (printed "-")
#   nat      nfqlb VS/NAT, one queue
#   nat2q    nfqlb VS/NAT, daemon.queues = 2
#   natoff   nfqlb VS/NAT, offload = true (kernel fast path for established flows)
#   dr       nfqlb VS/DR, one queue
#   droff    nfqlb VS/DR, offload = true
#   tun      nfqlb VS/TUN, one queue
# Every nfqlb method's generated config is checked with `nfqlb -t` first.  A
# method the daemon refuses as "not supported yet" is skipped with a notice when
# it came from the default set, and fails the run when named in --modes; any
# other refusal, or a daemon that does not start, fails that method by name.
#
# Figures, per method and repetition:
#   - TCP upload: iperf 2, `iperf -c 203.0.113.10 -p 5001 -t T -P 4` (the data
#     crosses the director with every method)
#   - TCP download: the same with -R (servers send: with DR and TUN the data
#     goes back through the router, the director sees only the client's ACKs)
#   - UDP packets/s delivered to the servers: two bench/udpblast processes
#     (sendmmsg, 64 source ports each) blast 64-byte frames at 203.0.113.10:9000
#     for T seconds; the servers count what arrives with an iptables INPUT rule
#     (udp dpt 9000, DROP) counter (for TUN: the decapsulated packets, on tun0)
#   - short connections: wrk -t 2 -c 32 -d T --latency -H 'Connection: close'
#     http://203.0.113.10/small.html (a 256-byte file from nginx): requests (=
#     connections) per second, p50 and p99 latency, socket errors
#   - director CPU: user+system time of the processes in the director netns
#     (nfqlb, or haproxy); DNAT's work is softirq time, not attributable to it
#     ("-"); for TUN also the servers' decapsulators' CPU
#   - the whole machine's CPU busy share, and which way the replies went back
# It reports medians and, per repetition, each method's ratio to DNAT's figure
# in the same repetition (the machine may be shared: neighbours' load hits the
# methods of one repetition alike), then the same table in Markdown for the
# README.  Before measuring it waits for an idle machine (all CPUs less than
# BENCH_IDLE_PCT % busy over a few seconds), at most BENCH_IDLE_WAIT seconds,
# and says so if the machine never became idle.
#
# Usage: bench/bench.sh [--short] [--dnat-only | --modes LIST] [--no-wait] [--keep] [-h]
#   --short      CI mode: 3 s per figure, 1 repetition, a short idle wait (about 2
#                minutes); never fails on low numbers, only on a figure that could
#                not be measured.  A full run (all methods, 3 x 10 s per figure)
#                takes about 20 minutes plus the idle wait.
#   --dnat-only  only the DNAT baseline (no nfqlb binary needed)
#   --modes LIST methods to measure, comma separated, from
#                dnat,haproxy,nat,nat2q,natoff,dr,droff,tun (dnat is always added)
#   --no-wait    do not wait for an idle machine
#   --keep       keep the temporary directory (configs, logs, raw outputs)
# Environment:
#   NFQLB=path         daemon binary (default: $(dirname "$0")/../nfqlb)
#   IPIP_DECAP=path    TUN decapsulator (default: $(dirname "$0")/../tests/tools/ipip_decap,
#                      built by make)
#   BENCH_SECONDS=N    seconds per figure (default 10, --short 3)
#   BENCH_REPS=N       repetitions (default 3, --short 1); medians are reported
#   BENCH_STREAMS=N    iperf -P (default 4)
#   BENCH_SENDERS=N    udpblast processes (default 2)
#   BENCH_FLOWS=N      UDP source ports per sender (default 64)
#   BENCH_UDP_PAYLOAD=N  UDP payload bytes (default 18 = 64-byte Ethernet frame)
#   BENCH_WRK_THREADS=N, BENCH_WRK_CONNS=N  wrk -t and -c (default 2 and 32)
#   BENCH_IDLE_PCT=N   idle means less than N % of all CPUs busy (default 25)
#   BENCH_IDLE_WAIT=N  longest wait for an idle machine, seconds (default 300, --short 10)
#
# Needs root, ip (iproute2), iptables, iperf (version 2), wrk, nginx, haproxy (for
# the haproxy method), cc, timeout (scripts/deps.sh installs them).  It never
# touches the root namespace's rules, routes or sysctls: everything lives in
# namespaces named nqb<PID>*, deleted on exit (also on failure or Ctrl-C), and
# nginx and haproxy run inside them with their configs in the temporary directory.
# Exit status: 0 when every figure was measured (non-zero) and every method's
# replies took the expected path, 1 otherwise.

set -u
export LC_ALL=C

PROG=bench
MODE=full
KEEP=0
NO_WAIT=0
ALL_MODES="dnat haproxy nat nat2q natoff dr droff tun" # the default set, in run order
WANT=$ALL_MODES
EXPLICIT=0 # methods named in --modes: a refused one fails instead of being skipped

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--short) MODE=short ;;
	--dnat-only) WANT=dnat ;;
	--modes)
		[ $# -ge 2 ] || { echo "$PROG: --modes needs a list (e.g. nat,dr,tun)" >&2; exit 2; }
		WANT=dnat
		EXPLICIT=1
		for m in $(echo "$2" | tr ',' ' '); do
			case " $ALL_MODES " in
			*" $m "*) WANT="$WANT $m" ;;
			*) echo "$PROG: --modes: unknown method '$m' (${ALL_MODES// /, })" >&2; exit 2 ;;
			esac
		done
		shift
		;;
	--no-wait) NO_WAIT=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$PROG: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
# MODES: the methods of a repetition in canonical order, dnat first (the baseline)
MODES=
for m in $ALL_MODES; do
	case " $WANT " in *" $m "*) MODES="$MODES $m" ;; esac
done
MODES=$(echo $MODES)
has_mode() { case " $MODES " in *" $1 "*) return 0 ;; esac; return 1; }
is_nfqlb() { case "$1" in dnat | haproxy) return 1 ;; esac; return 0; }
nf_modes() { # the nfqlb methods among MODES, space separated
	local m out=
	for m in $MODES; do is_nfqlb "$m" && out="$out${out:+ }$m"; done
	echo "$out"
}
NF_MODES=$(nf_modes)

if [ "$MODE" = short ]; then
	T=${BENCH_SECONDS:-3}
	REPS=${BENCH_REPS:-1}
	IDLE_WAIT=${BENCH_IDLE_WAIT:-10}
	IDLE_SAMPLE=2
else
	T=${BENCH_SECONDS:-10}
	REPS=${BENCH_REPS:-3}
	IDLE_WAIT=${BENCH_IDLE_WAIT:-300}
	IDLE_SAMPLE=5
fi
STREAMS=${BENCH_STREAMS:-4}
SENDERS=${BENCH_SENDERS:-2}
FLOWS=${BENCH_FLOWS:-64}
UDP_PAYLOAD=${BENCH_UDP_PAYLOAD:-18}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONNS=${BENCH_WRK_CONNS:-32}
IDLE_PCT=${BENCH_IDLE_PCT:-25}
for v in T REPS STREAMS SENDERS FLOWS UDP_PAYLOAD WRK_THREADS WRK_CONNS IDLE_PCT IDLE_WAIT; do
	case "${!v}" in
	'' | *[!0-9]*) echo "$PROG: $v must be a number, got '${!v}'" >&2; exit 2 ;;
	esac
done
[ "$T" -ge 1 ] && [ "$T" -le 600 ] || { echo "$PROG: BENCH_SECONDS must be 1..600" >&2; exit 2; }
[ "$REPS" -ge 1 ] && [ "$REPS" -le 20 ] || { echo "$PROG: BENCH_REPS must be 1..20" >&2; exit 2; }
[ "$FLOWS" -ge 1 ] && [ "$FLOWS" -le 1000 ] || { echo "$PROG: BENCH_FLOWS must be 1..1000" >&2; exit 2; }
[ "$SENDERS" -ge 1 ] && [ "$SENDERS" -le 8 ] || { echo "$PROG: BENCH_SENDERS must be 1..8" >&2; exit 2; }
[ "$WRK_THREADS" -ge 1 ] && [ "$WRK_CONNS" -ge "$WRK_THREADS" ] ||
	{ echo "$PROG: BENCH_WRK_CONNS must be at least BENCH_WRK_THREADS (>= 1)" >&2; exit 2; }
[ "$IDLE_WAIT" -le 3600 ] || { echo "$PROG: BENCH_IDLE_WAIT must be 0..3600" >&2; exit 2; }
# every sender of every method of every repetition blasts from its own source
# ports, from 1024 up, below the ephemeral ports (32768 up) iperf and wrk use
UDP_BASE=1024
EPHEMERAL_LOW=32768
NMODES=$(echo $MODES | wc -w)
[ $((UDP_BASE + REPS * NMODES * SENDERS * FLOWS)) -le $EPHEMERAL_LOW ] ||
	{ echo "$PROG: BENCH_REPS x $NMODES methods x BENCH_SENDERS x BENCH_FLOWS source ports do not fit in $UDP_BASE..$((EPHEMERAL_LOW - 1))" >&2; exit 2; }

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
NFQLB=${NFQLB:-$BENCH_DIR/../nfqlb}
IPIP_DECAP=${IPIP_DECAP:-$BENCH_DIR/../tests/tools/ipip_decap}
REALSERVER=$BENCH_DIR/../scripts/nfqlb-realserver

VIP=203.0.113.10
TCP_PORT=5001
UDP_PORT=9000
HTTP_PORT=80
HTTP_FILE=small.html
HTTP_SIZE=256
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
mode_label() { # a method's name in logs and the Markdown table
	case "$1" in
	dnat) echo "iptables DNAT" ;;
	haproxy) echo "HAProxy (TCP mode)" ;;
	nat) echo "nfqlb NAT" ;;
	nat2q) echo "nfqlb NAT, 2 queues" ;;
	natoff) echo "nfqlb NAT, offload" ;;
	dr) echo "nfqlb DR" ;;
	droff) echo "nfqlb DR, offload" ;;
	tun) echo "nfqlb TUN" ;;
	esac
}
mode_col() { # a method's column heading in the plain-text table (at most 13 characters)
	case "$1" in
	dnat) echo "DNAT" ;;
	haproxy) echo "HAProxy" ;;
	nat) echo "NAT" ;;
	nat2q) echo "NAT 2q" ;;
	natoff) echo "NAT offload" ;;
	dr) echo "DR" ;;
	droff) echo "DR offload" ;;
	tun) echo "TUN" ;;
	esac
}
mode_method() { # nfqlb's forward = for a method
	case "$1" in
	nat*) echo nat ;;
	dr*) echo dr ;;
	tun*) echo tun ;;
	esac
}
mode_queues() { case "$1" in nat2q) echo 2 ;; *) echo 1 ;; esac; }
mode_offload() { case "$1" in *off) echo true ;; *) echo false ;; esac; }

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces)"
for tool in ip iptables iptables-save iperf cc timeout sysctl awk wrk nginx; do
	command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (scripts/deps.sh installs what the bench needs)"
done
if has_mode haproxy; then
	command -v haproxy >/dev/null 2>&1 ||
		die "missing tool: haproxy (scripts/deps.sh installs it; or leave it out with --modes)"
fi
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
# the commit the daemon was built from, when it lies in a git checkout
NFQLB_COMMIT=
if [ -n "$NF_MODES" ] && git -C "$(dirname "$NFQLB")" rev-parse --short HEAD >/dev/null 2>&1; then
	NFQLB_COMMIT=$(git -C "$(dirname "$NFQLB")" rev-parse --short HEAD)
	git -C "$(dirname "$NFQLB")" diff --quiet HEAD 2>/dev/null || NFQLB_COMMIT="$NFQLB_COMMIT (with local changes)"
fi
if has_mode tun; then
	if [ ! -x "$IPIP_DECAP" ]; then
		echo "$PROG: TUN needs the user-space decapsulator, not found at '$IPIP_DECAP'" >&2
		echo "$PROG: build it with make (tests/tools/ipip_decap), set IPIP_DECAP=..., or leave tun out (--modes ...)" >&2
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
HAPROXY_PID=
FAILED=0
TMP=$(mktemp -d /tmp/nfqlb-bench.XXXXXX) || die "mktemp failed"

cleanup() {
	local rc=$? p ns i pids
	trap - EXIT INT TERM HUP
	[ -n "$NFQLB_PID" ] && term_wait "$NFQLB_PID" 50
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
# forget PID...: drop reaped processes from PIDS, so that cleanup never signals
# a PID the system has since given to someone else
forget() {
	local p q keep=()
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
		keep+=("$p")
	done
	PIDS=(${keep[@]+"${keep[@]}"})
}
# term_wait PID TENTHS: SIGTERM, then up to TENTHS x 0.1 s for it to end; 1 if it has not
term_wait() {
	local n
	kill -TERM "$1" 2>/dev/null
	for n in $(seq 1 "$2"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}
# runwait OUTFILE CMD...: run CMD in the background with its output in OUTFILE and wait
# for it, so that Ctrl-C is acted on at once (the redirection must not cover `wait`)
runwait() {
	local out=$1 p rc
	shift
	"$@" >"$out" 2>&1 &
	p=$!
	PIDS+=("$p")
	wait "$p"
	rc=$?
	forget "$p"
	return "$rc"
}

# ---------------------------------------------------------------- machine facts
version_of() { # version_of TOOL: its version line, or "not installed"
	command -v "$1" >/dev/null 2>&1 || { echo "not installed"; return; }
	case "$1" in
	iperf) iperf -v 2>&1 | head -1 ;;
	iptables) iptables --version 2>&1 | head -1 ;;
	haproxy) haproxy -v 2>&1 | head -1 | sed 's/ - https.*//' ;;
	nginx) nginx -v 2>&1 | head -1 | sed 's/^nginx version: //' ;;
	wrk) wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//' ;;
	esac
}
echo "=== nfqlb benchmark ($MODE mode: ${T}s per figure, $REPS repetition(s)) ==="
echo "date:       $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpu:        $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) CPUs"
echo "kernel:     $(uname -r) ($(uname -m))"
echo "loadavg:    $(cut -d' ' -f1-3 /proc/loadavg) (when the bench started)"
echo "iperf:      $(version_of iperf)"
echo "iptables:   $(version_of iptables)"
echo "wrk:        $(version_of wrk)"
echo "nginx:      $(version_of nginx) (servers)"
if has_mode haproxy; then
	echo "haproxy:    $(version_of haproxy)"
fi
if [ -n "$NF_MODES" ]; then
	echo "nfqlb:      $NFQLB ($("$NFQLB" -V 2>&1 | head -1), built $(date -u -r "$NFQLB" '+%Y-%m-%d %H:%M:%S UTC'))"
	[ -z "$NFQLB_COMMIT" ] || echo "source:     commit $NFQLB_COMMIT"
else
	echo "nfqlb:      not measured (no nfqlb method selected)"
fi
echo "load:       iperf -P $STREAMS up and down (-R); UDP $SENDERS sender(s) x $FLOWS flows, payload ${UDP_PAYLOAD} B ($((UDP_PAYLOAD + 46)) B Ethernet frame incl. FCS);"
echo "            wrk -t $WRK_THREADS -c $WRK_CONNS --latency -H 'Connection: close', a $HTTP_SIZE-byte file"
echo "namespaces: ${P}{c,d,s,t,r1..r$NSRV}   tmpdir: $TMP"

# snapshot the binaries: a rebuild during the run must not mix two versions
if [ -n "$NF_MODES" ]; then
	cp "$NFQLB" "$TMP/nfqlb" || die "cannot copy $NFQLB"
	NFQLB=$TMP/nfqlb
fi
if has_mode tun; then
	cp "$IPIP_DECAP" "$TMP/ipip_decap" || die "cannot copy $IPIP_DECAP"
	IPIP_DECAP=$TMP/ipip_decap
fi

# ---------------------------------------------------------------- configs, checked before anything runs
# nginx_conf N: server N's nginx (in its namespace; pid, logs, temp files in TMP)
nginx_conf() {
	local d=$TMP/nginx-r$1
	cat <<EOC
# generated by bench/bench.sh
user root;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server {
		listen $HTTP_PORT backlog=4096;
		root $TMP/www;
	}
}
EOC
}
mkdir -p "$TMP/www" || die "cannot create $TMP/www"
head -c "$HTTP_SIZE" /dev/zero | tr '\0' 'x' >"$TMP/www/$HTTP_FILE"
for i in $(seq 1 "$NSRV"); do
	mkdir -p "$TMP/nginx-r$i" || die "cannot create $TMP/nginx-r$i"
	nginx_conf "$i" >"$TMP/nginx-r$i/nginx.conf"
done
nginx -t -q -e "$TMP/nginx-r1/error.log" -c "$TMP/nginx-r1/nginx.conf" >"$TMP/nginx-test.log" 2>&1 ||
	die "nginx -t rejects the generated config: $(cat "$TMP/nginx-test.log")"

# haproxy_conf: HAProxy in TCP mode on the VIP, round robin over the real servers
haproxy_conf() {
	local port i s
	cat <<EOC
# generated by bench/bench.sh
global
	maxconn 4096
	pidfile $TMP/haproxy.pid
defaults
	mode tcp
	balance roundrobin
	timeout connect 5s
	timeout client 60s
	timeout server 60s
EOC
	for port in $TCP_PORT $HTTP_PORT; do
		printf 'listen bench-%s\n\tbind %s:%s\n' "$port" "$VIP" "$port"
		i=0
		for s in $SERVERS; do
			i=$((i + 1))
			printf '\tserver r%d %s:%s\n' "$i" "$s" "$port"
		done
	done
}
if has_mode haproxy; then
	haproxy_conf >"$TMP/haproxy.conf"
	haproxy -c -q -f "$TMP/haproxy.conf" >"$TMP/haproxy-test.log" 2>&1 ||
		die "haproxy: haproxy -c rejects the generated config: $(cat "$TMP/haproxy-test.log")"
fi

# write_conf MODE FILE: the nfqlb config of a method: TCP (iperf), UDP and HTTP services
write_conf() {
	local mode=$1 proto port name s sep svc
	{
		cat <<EOC
# generated by bench/bench.sh for $(mode_label "$mode")
daemon: {
  queue = 0;
  queues = $(mode_queues "$mode");
  control_socket = "$TMP/nfqlb.sock";
  max_connections = 1048576;
  log_level = "warning";
  checkpoint: { file = "$TMP/connections.$mode.ckpt"; interval = 5; };
};
iptables: { manage = true; chain = "NFQLB"; };
services = (
EOC
		sep=
		for svc in tcp:$TCP_PORT udp:$UDP_PORT tcp:$HTTP_PORT; do
			proto=${svc%:*}
			port=${svc#*:}
			name=bench-$proto-$port
			printf '%s  {\n' "$sep"
			echo "    name = \"$name\"; protocol = \"$proto\"; vip = \"$VIP\"; port = $port;"
			echo "    scheduler = \"rr\"; forward = \"$(mode_method "$mode")\";"
			[ "$(mode_offload "$mode")" = true ] && echo "    offload = true;"
			echo "    servers = ("
			local ssep=
			for s in $SERVERS; do
				printf '%s      { address = "%s"; port = %d; weight = 1; }' "$ssep" "$s" "$port"
				ssep=$',\n'
			done
			echo
			echo "    );"
			echo "    health: { type = \"none\"; };"
			printf '  }'
			sep=$',\n'
		done
		echo
		echo ");"
	} >"$2"
}

# every nfqlb method's config through `nfqlb -t`: a method this daemon refuses as
# "not supported yet" is skipped when it came from the default set
SKIPPED=
for m in $NF_MODES; do
	write_conf "$m" "$TMP/nfqlb.$m.conf"
	timeout 10 "$NFQLB" -t -c "$TMP/nfqlb.$m.conf" >"$TMP/conftest.$m.log" 2>&1 && continue
	if [ "$EXPLICIT" = 0 ] && grep -q 'not supported yet' "$TMP/conftest.$m.log"; then
		echo "$PROG: skipping $m ($(mode_label "$m")): this nfqlb refuses it: $(grep -m1 'not supported yet' "$TMP/conftest.$m.log")"
		SKIPPED="$SKIPPED $m"
		continue
	fi
	echo "$PROG: $m ($(mode_label "$m")): nfqlb -t rejects the generated config:" >&2
	sed 's/^/    /' "$TMP/conftest.$m.log" >&2
	sed 's/^/    | /' "$TMP/nfqlb.$m.conf" >&2
	exit 1
done
if [ -n "$SKIPPED" ]; then
	kept=
	for m in $MODES; do
		case " $SKIPPED " in *" $m "*) ;; *) kept="$kept${kept:+ }$m" ;; esac
	done
	MODES=$kept
	NF_MODES=$(nf_modes)
	NMODES=$(echo $MODES | wc -w)
fi
echo "methods:    $(for m in $MODES; do printf '%s, ' "$(mode_label "$m")"; done | sed 's/, $//') (in this order, every repetition)"
[ -z "$SKIPPED" ] || echo "skipped:    $(echo $SKIPPED) (not supported by this nfqlb)"
echo

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
# short connections: the client (wrk) and the director (haproxy's server side) may
# reuse a port in TIME_WAIT for a new outgoing connection
nsx "$NS_C" sysctl -qw net.ipv4.tcp_tw_reuse=1
nsx "$NS_D" sysctl -qw net.ipv4.tcp_tw_reuse=1
set +e
# the bridge must not pass frames through iptables (br_netfilter may be built in)
for k in iptables ip6tables arptables; do
	f=net.bridge.bridge-nf-call-$k
	nsx "$NS_S" sysctl -qw "$f=0" 2>/dev/null || true
done

# servers: the VIP on lo with ARP suppressed (for DR and TUN; NAT packets are addressed
# to the server's own address, and DNAT's too, so it stays for the whole run), an
# iperf 2 listener, nginx, and a counting DROP rule for the UDP service port
i=0
for r in "${NS_R[@]}"; do
	i=$((i + 1))
	NFQLB_RS_STATE=$TMP/rs-r$i nsx "$r" "$REALSERVER" start "$VIP" >>"$TMP/realserver.log" 2>&1 ||
		die "nfqlb-realserver start in $r failed: $(tail -n 3 "$TMP/realserver.log")"
	ipt "$r" -A INPUT -p udp --dport "$UDP_PORT" -j DROP || die "iptables in $r failed"
	ip netns exec "$r" iperf -s -p "$TCP_PORT" >/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$r" nginx -e "$TMP/nginx-r$i/error.log" -c "$TMP/nginx-r$i/nginx.conf" >>"$TMP/nginx-r$i/stderr.log" 2>&1 &
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
i=0
for s in $SERVERS; do
	i=$((i + 1))
	wait_tcp "$NS_C" "$s" "$TCP_PORT" 100 || die "server $s:$TCP_PORT (iperf) not reachable from the client (routing through the director)"
	wait_tcp "$NS_C" "$s" "$HTTP_PORT" 100 ||
		die "server $s:$HTTP_PORT (nginx) not reachable from the client: $(tail -n 3 "$TMP/nginx-r$i/error.log" "$TMP/nginx-r$i/stderr.log" 2>/dev/null)"
done
log "topology up: client -> director -> bridge -> $NSRV servers (VIP on lo), router for direct return, iperf and nginx listening"

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
# director_ticks: every process in the director netns (nfqlb and children, or haproxy)
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

# Every measurement is bracketed by the same snapshots: director and decapsulator
# CPU ticks, machine CPU, reply path, decapsulator drops.
snap_begin() {
	S_C=$(director_ticks)
	S_D=$(decap_ticks)
	S_M=$(cpu_snap)
	S_P=$(path_snap)
	S_X=$(decap_drops)
	S_T=$(date +%s.%N)
}
# snap_end [SECONDS] -> R_CPU (director processes, % of one core), R_DCPU
# (decapsulators), R_MCPU (machine), R_PATH (how replies went back), R_DDROP;
# SECONDS is the measured interval when the tool reports it, else the wall time
snap_end() {
	local secs=${1:-}
	R_CPU_T1=$(director_ticks)
	R_DCPU_T1=$(decap_ticks)
	R_MCPU=$(cpu_busy "$S_M" "$(cpu_snap)")
	R_PATH=$(path_of "$S_P" "$(path_snap)")
	R_DDROP=$(($(decap_drops) - S_X))
	[ -n "$secs" ] || secs=$(awk -v a="$S_T" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	R_CPU=$(core_pct "$S_C" "$R_CPU_T1" "$secs")
	R_DCPU=$(core_pct "$S_D" "$R_DCPU_T1" "$secs")
}

# measure_tcp LABEL up|down -> R_TCP (Mbit/s or empty) and snap_end's figures
measure_tcp() {
	local label=$1 dir=$2 out rev=
	[ "$dir" = down ] && rev=-R
	out=$TMP/iperf.$label.$dir.out
	snap_begin
	runwait "$out" ip netns exec "$NS_C" timeout $((T + 30)) iperf -c "$VIP" -p "$TCP_PORT" -t "$T" -P "$STREAMS" -f m $rev
	snap_end
	R_TCP=$(iperf_mbits "$out")
	if [ -z "$R_TCP" ]; then
		echo "  $label TCP $dir: iperf gave no result; its output:" >&2
		sed 's/^/    /' "$out" | tail -n 20 >&2
	fi
}

# measure_udp LABEL BASEPORT -> R_UDP (delivered pps), R_SENT (offered pps),
# R_SPREAD (packets per server) and snap_end's figures.  SENDERS udpblast
# processes, each from its own FLOWS source ports.
measure_udp() {
	local label=$1 base=$2 out a b k p sent secs delivered i pids=()
	out=$TMP/blast.$label.out
	R_UDP=
	R_SENT=
	R_SPREAD=
	mapfile -t a < <(udp_counts)
	snap_begin
	for k in $(seq 0 $((SENDERS - 1))); do
		ip netns exec "$NS_C" timeout $((T + 20)) "$TMP/udpblast" "$VIP" "$UDP_PORT" "$T" "$FLOWS" \
			$((base + k * FLOWS)) "$UDP_PAYLOAD" >"$out.$k" 2>&1 &
		pids+=($!)
		PIDS+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	forget "${pids[@]}"
	# senders' total over the longest sender's time (they run side by side)
	sent=$(cat "$out".* | sed -n 's/.*sent=\([0-9]*\).*/\1/p' | awk '{ s += $1; n++ } END { if (n) print s }')
	secs=$(cat "$out".* | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' | awk '$1 > m { m = $1 } END { if (m) print m }')
	snap_end "$secs"
	sleep 0.5 # let queued packets drain before reading the counters
	mapfile -t b < <(udp_counts)
	if [ "$(cat "$out".* | grep -c 'sent=')" != "$SENDERS" ] || [ -z "$sent" ] || [ -z "$secs" ]; then
		echo "  $label UDP: a udpblast sender gave no result; their output:" >&2
		tail -n 20 "$out".* | sed 's/^/    /' >&2
		return
	fi
	delivered=0
	for i in "${!b[@]}"; do
		delivered=$((delivered + b[i] - a[i]))
		R_SPREAD="$R_SPREAD${R_SPREAD:+/}$((b[i] - a[i]))"
	done
	R_SENT=$(awk -v n="$sent" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", n / s }')
	R_UDP=$(awk -v n="$delivered" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", n / s }')
}

# wrk_ms PERCENTILE FILE: a latency line of wrk's "Latency Distribution" in ms
wrk_ms() {
	awk -v p="$1" '$1 == p && $2 ~ /^[0-9.]+(us|ms|s|m)$/ {
		v = $2; u = v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
		printf "%.3f\n", v; exit }' "$2"
}
# measure_conn LABEL -> R_RPS (requests = connections per second), R_P50, R_P99 (ms),
# R_ERR (socket errors and non-2xx answers) and snap_end's figures
measure_conn() {
	local label=$1 out
	out=$TMP/wrk.$label.out
	snap_begin
	runwait "$out" ip netns exec "$NS_C" timeout $((T + 30)) wrk -t "$WRK_THREADS" -c "$WRK_CONNS" -d "${T}s" \
		--latency -H 'Connection: close' "http://$VIP:$HTTP_PORT/$HTTP_FILE"
	snap_end
	R_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	R_P50=$(wrk_ms 50% "$out")
	R_P99=$(wrk_ms 99% "$out")
	R_ERR=$(awk '/Socket errors:/ { gsub(",", ""); s = $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/ { n = $NF } END { print s + n }' "$out")
	if [ -z "$R_RPS" ] || [ -z "$R_P50" ] || [ -z "$R_P99" ]; then
		echo "  $label connections: wrk gave no result; its output:" >&2
		sed 's/^/    /' "$out" | tail -n 20 >&2
	fi
}

# results: RES[MODE.FIGURE] = space-separated values, one per repetition
declare -A RES
record() { # record MODE FIGURE VALUE
	RES[$1.$2]="${RES[$1.$2]:-} ${3:-FAIL}"
}

# expected_path MODE: where the replies of MODE must go back to the client
expected_path() {
	case "$1" in
	dr* | tun*) echo router ;;
	*) echo director ;;
	esac
}

# record_common MODE FIG: director CPU, decapsulators, machine CPU; sets EXTRA for the log
record_common() {
	local mode=$1 fig=$2
	record "$mode" "mcpu_$fig" "$R_MCPU"
	EXTRA=
	if [ "$mode" != dnat ]; then
		record "$mode" "cpu_$fig" "$R_CPU"
		EXTRA=", director CPU ${R_CPU}%"
	fi
	if [ "$mode" = tun ]; then
		record "$mode" "dcpu_$fig" "$R_DCPU"
		record "$mode" "ddrop_$fig" "$R_DDROP"
		EXTRA="$EXTRA, ipip_decap CPU ${R_DCPU}% (socket drops $R_DDROP)"
	fi
}
# check_path MODE WHAT: the replies of the last measurement went back the expected way
check_path() {
	if [ "$R_PATH" != "$(expected_path "$1")" ]; then
		echo "$PROG: $1 $2: replies went back via $R_PATH, expected via the $(expected_path "$1") only" >&2
		FAILED=1
	fi
}

run_figures() { # run_figures MODE REP BASEPORT
	local mode=$1 rep=$2 base=$3 dir fig
	for dir in up down; do
		[ "$dir" = up ] && fig=tcp || fig=tcpr
		measure_tcp "$mode.$rep" "$dir"
		record "$mode" "$fig" "$R_TCP"
		record "$mode" "path_$fig" "$R_PATH"
		record_common "$mode" "$fig"
		check_path "$mode" "TCP $dir"
		log "  $mode rep $rep: TCP $dir ${R_TCP:-FAIL} Mbit/s$EXTRA, machine busy ${R_MCPU:-?}%, back via $R_PATH"
	done
	if [ "$mode" = haproxy ]; then
		log "  $mode rep $rep: UDP not applicable (HAProxy balances TCP only)"
	else
		measure_udp "$mode.$rep" "$base"
		record "$mode" udp "$R_UDP"
		record "$mode" sent "$R_SENT"
		record_common "$mode" udp
		log "  $mode rep $rep: UDP delivered ${R_UDP:-FAIL} pps of ${R_SENT:-FAIL} pps offered (per server ${R_SPREAD:-?})$EXTRA, machine busy ${R_MCPU:-?}%"
	fi
	measure_conn "$mode.$rep"
	record "$mode" conn "$R_RPS"
	record "$mode" p50 "$R_P50"
	record "$mode" p99 "$R_P99"
	record "$mode" err "$R_ERR"
	record "$mode" path_conn "$R_PATH"
	record_common "$mode" conn
	check_path "$mode" "connections"
	log "  $mode rep $rep: ${R_RPS:-FAIL} connections/s, p50 ${R_P50:-FAIL} ms, p99 ${R_P99:-FAIL} ms, errors ${R_ERR:-?}$EXTRA, machine busy ${R_MCPU:-?}%, back via $R_PATH"
}
# record_failed MODE: a method that could not run this repetition: its figures fail
record_failed() {
	local f
	for f in tcp tcpr conn p50 p99; do record "$1" "$f" ""; done
	[ "$1" = haproxy ] || record "$1" udp ""
	FAILED=1
}

# ---------------------------------------------------------------- iptables DNAT
dnat_on() {
	local svc proto port n i s
	ipt "$NS_D" -t nat -N BENCH_DNAT || return 1
	for svc in tcp:$TCP_PORT udp:$UDP_PORT tcp:$HTTP_PORT; do
		proto=${svc%:*}
		port=${svc#*:}
		n=$NSRV
		i=0
		for s in $SERVERS; do
			if [ $i -lt $((n - 1)) ]; then
				ipt "$NS_D" -t nat -A BENCH_DNAT -p "$proto" --dport "$port" \
					-m statistic --mode nth --every $((n - i)) --packet 0 \
					-j DNAT --to-destination "$s:$port" || return 1
			else
				ipt "$NS_D" -t nat -A BENCH_DNAT -p "$proto" --dport "$port" \
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

# ---------------------------------------------------------------- HAProxy
haproxy_start() {
	local n log=$TMP/haproxy.log
	ip netns exec "$NS_D" haproxy -db -f "$TMP/haproxy.conf" >>"$log" 2>&1 &
	HAPROXY_PID=$!
	PIDS+=("$HAPROXY_PID")
	for n in $(seq 1 100); do
		if ! kill -0 "$HAPROXY_PID" 2>/dev/null; then
			echo "$PROG: haproxy: exited during start-up; log:" >&2
			tail -n 20 "$log" >&2
			haproxy_stop
			return 1
		fi
		tcp_probe "$NS_C" "$VIP" "$TCP_PORT" && tcp_probe "$NS_C" "$VIP" "$HTTP_PORT" && return 0
		sleep 0.1
	done
	echo "$PROG: haproxy: not accepting on $VIP:$TCP_PORT and $VIP:$HTTP_PORT after 10 s; log:" >&2
	tail -n 20 "$log" >&2
	haproxy_stop
	return 1
}
haproxy_stop() {
	[ -n "$HAPROXY_PID" ] || return 0
	term_wait "$HAPROXY_PID" 50 || kill -KILL "$HAPROXY_PID" 2>/dev/null
	wait "$HAPROXY_PID" 2>/dev/null
	forget "$HAPROXY_PID"
	HAPROXY_PID=
}
run_haproxy() { # run_haproxy REP BASEPORT
	return_path director
	if haproxy_start; then
		run_figures haproxy "$1" "$2"
	else
		record_failed haproxy
	fi
	haproxy_stop
}

# ---------------------------------------------------------------- nfqlb
norm_rules() { # iptables-save of the director without counters/comments
	timeout 20 ip netns exec "$NS_D" iptables-save 2>/dev/null | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//'
}

nfqlb_start() { # nfqlb_start MODE: 0 when it balances the VIP, else 1 (reported)
	local n st log=$TMP/nfqlb.$1.log
	norm_rules >"$TMP/rules.before"
	ip netns exec "$NS_D" "$NFQLB" -f -c "$TMP/nfqlb.$1.conf" >>"$log" 2>&1 &
	NFQLB_PID=$!
	for n in $(seq 1 100); do # up to ~10-30 s
		if ! kill -0 "$NFQLB_PID" 2>/dev/null; then
			wait "$NFQLB_PID"
			st=$?
			echo "$PROG: $1 ($(mode_label "$1")): nfqlb exited during start-up (status $st); log:" >&2
			tail -n 30 "$log" >&2
			NFQLB_PID=
			return 1
		fi
		tcp_probe "$NS_C" "$VIP" "$TCP_PORT" && return 0
		sleep 0.1
	done
	echo "$PROG: $1 ($(mode_label "$1")): nfqlb did not start balancing $VIP:$TCP_PORT; log:" >&2
	tail -n 30 "$log" >&2
	return 1
}

nfqlb_stop() { # nfqlb_stop MODE
	local st
	[ -n "$NFQLB_PID" ] || return 0
	if ! term_wait "$NFQLB_PID" 100; then
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

run_nfqlb() { # run_nfqlb MODE REP BASEPORT
	return_path "$(expected_path "$1")"
	if nfqlb_start "$1"; then
		run_figures "$1" "$2" "$3"
	else
		record_failed "$1"
	fi
	nfqlb_stop "$1"
}

# ---------------------------------------------------------------- idle machine
# wait_idle: until all CPUs are less than IDLE_PCT % busy over IDLE_SAMPLE
# seconds, at most IDLE_WAIT seconds; says so when the machine never got idle
IDLE_STATE="not checked (--no-wait)"
wait_idle() {
	local start s0 b
	[ "$NO_WAIT" = 1 ] && return 0
	start=$(date +%s)
	while :; do
		s0=$(cpu_snap)
		sleep "$IDLE_SAMPLE"
		b=$(cpu_busy "$s0" "$(cpu_snap)")
		if awk -v b="${b:-100}" -v t="$IDLE_PCT" 'BEGIN { exit !(b < t) }'; then
			IDLE_STATE="idle: $b% of all CPUs busy over ${IDLE_SAMPLE}s (threshold $IDLE_PCT%), after $(($(date +%s) - start)) s"
			log "machine $IDLE_STATE"
			return 0
		fi
		if [ $(($(date +%s) - start + IDLE_SAMPLE)) -gt "$IDLE_WAIT" ]; then
			IDLE_STATE="NOT idle: $b% of all CPUs busy over ${IDLE_SAMPLE}s after waiting $(($(date +%s) - start)) s (threshold $IDLE_PCT%)"
			echo "$PROG: warning: machine $IDLE_STATE; measuring anyway: absolute figures are depressed, read the ratios" >&2
			return 0
		fi
		log "machine busy: $b% of all CPUs over ${IDLE_SAMPLE}s, loadavg $(cut -d' ' -f1 /proc/loadavg); waiting (up to ${IDLE_WAIT}s) for less than $IDLE_PCT%"
	done
}

# ---------------------------------------------------------------- run
wait_idle
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "measuring; loadavg $LOAD_AT_START; machine $IDLE_STATE"
for rep in $(seq 1 "$REPS"); do
	idx=0
	for m in $MODES; do
		# distinct source ports per method and repetition: no stale conntrack/nfqlb entries
		base=$((UDP_BASE + ((rep - 1) * NMODES + idx) * SENDERS * FLOWS))
		idx=$((idx + 1))
		log "repetition $rep/$REPS: $(mode_label "$m")"
		case "$m" in
		dnat) run_dnat "$rep" "$base" ;;
		haproxy) run_haproxy "$rep" "$base" ;;
		*) run_nfqlb "$m" "$rep" "$base" ;;
		esac
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
# med_ratio MODE FIGURE: the median of the per-run ratios ("-" without any)
med_ratio() {
	local v
	[ "$1" = dnat ] && { echo 1; return; }
	# shellcheck disable=SC2046 # one ratio per word
	v=$(median $(run_ratios "$1" "$2"))
	fmt "${v:--}" 3
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
# cpu_cell MODE: director CPU "up / down / UDP / conn" (% of one core), "-" for DNAT
cpu_cell() {
	local f out='' v
	[ "$1" = dnat ] && { echo "-"; return; }
	for f in tcp tcpr udp conn; do
		v=$(fmt "$(fig "$1" "cpu_$f")" 1)
		out="$out${out:+ / }$v"
	done
	echo "$out"
}

W=44  # label column
CW=13 # value columns
echo
echo "=== results: median of $REPS run(s), ${T}s each; $(nproc) CPUs, $(uname -r) ==="
printf "%-${W}s" "figure"
for m in $MODES; do printf " %${CW}s" "$(mode_col "$m")"; done
echo
row() { # row LABEL FIGURE DECIMALS
	local m
	printf "%-${W}s" "$1"
	for m in $MODES; do printf " %${CW}s" "$(fmt "$(fig "$m" "$2")" "$3")"; done
	echo
}
ratio_row() { # ratio_row FIGURE: median of the per-run ratios to DNAT
	local m
	[ "$NMODES" -gt 1 ] || return 0
	printf "%-${W}s" "  / DNAT (median of per-run ratios)"
	for m in $MODES; do printf " %${CW}s" "$(med_ratio "$m" "$1")"; done
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
row "UDP offered by $SENDERS client senders (pps)" sent 0
row "connections/s (wrk -c $WRK_CONNS, Connection: close)" conn 0
ratio_row conn
row "  latency p50 (ms)" p50 2
row "  latency p99 (ms)" p99 2
row "  wrk socket errors + non-2xx answers" err 0
row "director CPU, TCP up (% of 1 core)" cpu_tcp 1
row "director CPU, TCP down (% of 1 core)" cpu_tcpr 1
row "director CPU, UDP (% of 1 core)" cpu_udp 1
row "director CPU, connections (% of 1 core)" cpu_conn 1
if has_mode tun; then
	row "ipip_decap CPU, TCP up (% of 1 core)" dcpu_tcp 1
	row "ipip_decap CPU, TCP down (% of 1 core)" dcpu_tcpr 1
	row "ipip_decap CPU, UDP (% of 1 core)" dcpu_udp 1
	row "ipip_decap CPU, connections (% of 1 core)" dcpu_conn 1
	row "ipip_decap socket drops, TCP up" ddrop_tcp 0
	row "ipip_decap socket drops, TCP down" ddrop_tcpr 0
	row "ipip_decap socket drops, UDP" ddrop_udp 0
	row "ipip_decap socket drops, connections" ddrop_conn 0
fi
row "machine CPU busy, TCP up (% of $(nproc) CPUs)" mcpu_tcp 1
row "machine CPU busy, TCP down (% of $(nproc) CPUs)" mcpu_tcpr 1
row "machine CPU busy, UDP (% of $(nproc) CPUs)" mcpu_udp 1
row "machine CPU busy, connections (% of $(nproc) CPUs)" mcpu_conn 1
path_row "TCP up: replies went back via" tcp
path_row "TCP down: replies went back via" tcpr
path_row "connections: replies went back via" conn
echo "(director CPU = user+system time of the processes in the director netns: nfqlb, or"
echo " haproxy; DNAT has no process, its work is kernel softirq time: \"-\". Machine CPU busy ="
echo " all CPUs from /proc/stat, including client, servers, router, kernel and anything else"
echo " running on the machine. TCP upload: the client sends, all data crosses the director"
echo " with every method; TCP download: the servers send, with DR and TUN the data bypasses"
echo " the director. HAProxy balances TCP only: no UDP figures. With offload the kernel"
echo " forwards established flows: that softirq work is not in the director CPU figure either.)"
if has_mode tun; then
	echo "(ipip_decap rows: the $NSRV servers' decapsulators together; drops = IPIP packets"
	echo " their raw sockets dropped, receive buffer full.)"
	echo "TUN caveat: this kernel has no ipip module, so each server decapsulates in user space"
	echo " (tests/tools/ipip_decap: one thread, raw socket -> tun0). TUN figures are bounded by"
	echo " the servers' decapsulators as much as by the director: see their CPU rows above."
fi
if [ "$NMODES" -gt 1 ]; then
	echo "per-run ratios to DNAT (repetitions 1..$REPS, each over DNAT's figure of the same repetition):"
	for f in tcp tcpr udp conn; do
		case $f in tcp) fl="TCP upload" ;; tcpr) fl="TCP download" ;; udp) fl="UDP delivered" ;; conn) fl="connections/s" ;; esac
		for m in $MODES; do
			[ "$m" = dnat ] && continue
			[ -n "${RES[$m.$f]+x}" ] || continue
			printf '  %-14s %-12s %s\n' "$fl" "$(mode_col "$m")" "$(run_ratios "$m" "$f")"
		done
	done
fi
if [ "$REPS" -gt 1 ]; then
	echo "per-repetition values:"
	for f in tcp tcpr udp sent conn p50 p99 err cpu_tcp cpu_tcpr cpu_udp cpu_conn dcpu_tcp dcpu_tcpr dcpu_udp dcpu_conn \
		ddrop_tcp ddrop_tcpr ddrop_udp ddrop_conn mcpu_tcp mcpu_tcpr mcpu_udp mcpu_conn; do
		for m in $MODES; do
			[ -n "${RES[$m.$f]+x}" ] && printf '  %-18s %s\n' "$m.$f" "${RES[$m.$f]}"
		done
	done
fi

# the same table in Markdown, for the README's Performance section
md_row() { # md_row LABEL CELL-FUNCTION ARGS...: one cell per method from FUNCTION MODE ARGS
	local label=$1 fn=$2 m line
	shift 2
	line="| $label |"
	for m in $MODES; do line="$line $("$fn" "$m" "$@") |"; done
	echo "$line"
}
md_fig() { fmt "$(fig "$1" "$2")" "$3"; }
md_ratio() { # median ratio, then the per-run ratios in brackets
	local r
	[ "$1" = dnat ] && { echo 1; return; }
	[ -n "${RES[$1.$2]+x}" ] || { echo "-"; return; }
	r=$(run_ratios "$1" "$2")
	echo "$(med_ratio "$1" "$2") ($r)"
}
md_lat() { echo "$(md_fig "$1" p50 2) / $(md_fig "$1" p99 2)"; }
md_dcpu() {
	local f out=
	[ "$1" = tun ] || { echo "-"; return; }
	for f in tcp tcpr udp conn; do out="$out${out:+ / }$(md_fig tun "dcpu_$f" 1)"; done
	echo "$out"
}
echo
echo "Markdown (for README.md, Performance):"
echo
echo "Run: \`bench/bench.sh$([ "$MODE" = short ] && echo " --short")\` ($REPS repetition(s) of ${T} s per figure, $((T_END - T_START)) s in all) on $(date -u '+%Y-%m-%d'),"
echo "$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) CPUs, kernel $(uname -r); load average $LOAD_AT_START when measuring started,"
echo "machine $IDLE_STATE. $(version_of iperf), $(version_of wrk), $(version_of nginx)$(has_mode haproxy && echo ", $(version_of haproxy)")$([ -n "$NF_MODES" ] && echo ", nfqlb $("$NFQLB" -V 2>&1 | head -1 | sed 's/^nfqlb //')${NFQLB_COMMIT:+ as of commit $NFQLB_COMMIT}")."
echo
printf '| figure |'
for m in $MODES; do printf ' %s |' "$(mode_label "$m")"; done
echo
printf '|---|'
for m in $MODES; do printf -- '---:|'; done
echo
md_row "TCP upload, iperf2 \`-P $STREAMS\` (Mbit/s)" md_fig tcp 0
md_row "ratio to DNAT (per run)" md_ratio tcp
md_row "TCP download, iperf2 \`-P $STREAMS -R\` (Mbit/s)" md_fig tcpr 0
md_row "ratio to DNAT (per run)" md_ratio tcpr
md_row "$((UDP_PAYLOAD + 46))-byte UDP packets/s delivered to the servers ($SENDERS senders)" md_fig udp 0
md_row "ratio to DNAT (per run)" md_ratio udp
md_row "connections/s, wrk \`-c $WRK_CONNS\`, \`Connection: close\`" md_fig conn 0
md_row "ratio to DNAT (per run)" md_ratio conn
md_row "connection latency p50 / p99 (ms)" md_lat
md_row "director CPU, TCP up / down / UDP / conn (% of one core)" cpu_cell
has_mode tun && md_row "servers' ipip_decap CPU, TCP up / down / UDP / conn (% of one core)" md_dcpu
echo

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
if has_mode haproxy && grep -qi 'alert\|error' "$TMP/haproxy.log" 2>/dev/null; then
	echo "haproxy logged alerts/errors; most frequent:"
	grep -i 'alert\|error' "$TMP/haproxy.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/  /'
fi

# a figure counts as measured when every repetition produced a non-zero number
check() { # check MODE FIGURE WHAT
	local k=$1.$2 v
	[ -n "${RES[$k]+x}" ] || return 0
	for v in ${RES[$k]}; do
		if ! awk -v v="$v" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v > 0) }'; then
			echo "$PROG: FAILED: $1 ($(mode_label "$1")): $3 could not be measured (values:${RES[$k]})" >&2
			FAILED=1
			return
		fi
	done
}
for m in $MODES; do
	check "$m" tcp "TCP upload"
	check "$m" tcpr "TCP download"
	check "$m" udp "UDP delivery"
	check "$m" conn "connection rate"
	check "$m" p50 "connection latency p50"
	check "$m" p99 "connection latency p99"
done
echo "total time: $((T_END - T_START)) s of measuring and set-up"
if [ "$FAILED" = 0 ]; then
	echo "bench: OK ($MODE mode: $(echo $MODES | tr ' ' ','))"
	exit 0
fi
echo "bench: some figures could not be measured, or replies took the wrong path" >&2
exit 1
