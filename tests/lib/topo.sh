# shellcheck shell=bash
# tests/lib/topo.sh — sourced by every integration test.
#
# Builds a throw-away VS/NAT topology out of network namespaces, starts test
# servers and the daemon in it, and tears everything down on exit (also when a
# test fails or is killed by `timeout`).  Nothing here touches the root
# namespace's rules, routes or sysctls.
#
#  client ns                director ns                    switch ns            server ns 1..N
#  eth0 192.0.2.2/24 --veth-- eth0 192.0.2.1/24
#  default via 192.0.2.1      lo   203.0.113.10/32 (VIP)
#                             eth1 198.51.100.1/24 --veth-- p0 [br0] p1 --veth-- eth0 198.51.100.11/24
#                             ip_forward=1                     p2 --veth-- eth0 198.51.100.12/24
#                                                              p3 --veth-- eth0 198.51.100.13/24
#                                                                          default via 198.51.100.1
#
# Public variables: TOP LIB TMP NFQLB PY VIP CLIENT_IP DIRECTOR_IP SERVER_NET
#                   NS_CLIENT NS_DIRECTOR NS_SWITCH NFQLB_PID NFQLB_LOG
#                   BIGFILE BIG_SIZE
# Public functions: see the "API" section below.
# Environment: NFQLB (daemon binary, default $TOP/nfqlb), NFQLB_KEEP_TMP=1
# (keep the temp dir with all logs for a post-mortem).
# Daemon control, read when used (a test may also set them after sourcing):
#   NFQLB_QUEUES           daemon.queues in write_conf's configs (default 1;
#                          2 runs any test on two worker threads)
#   NFQLB_WRAPPER          words put before the daemon's command line, e.g.
#                          "valgrind --log-file=$TMP/vg.log" (default: none)
#   NFQLB_START_TIMEOUT    seconds start_nfqlb waits for readiness (default 5)
#   NFQLB_RELOAD_TIMEOUT   seconds reload_nfqlb waits for READY=1 (default 5)
#   NFQLB_STOP_TIMEOUT     seconds stop_nfqlb (and the cleanup) wait for the
#                          exit after SIGTERM (default 5; cleanup: 3)

set -Eeuo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIB=$TOP/tests/lib
NFQLB=${NFQLB:-$TOP/nfqlb}
# Debian's interpreter: the one on PATH may be a pyenv build without the
# Debian python packages.
PY=/usr/bin/python3

VIP=203.0.113.10
CLIENT_IP=192.0.2.2
CLIENT_GW=192.0.2.1
DIRECTOR_IP=198.51.100.1
SERVER_NET=198.51.100

TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/nfqlb-test-${TEST_NAME}.XXXXXX")
# Tell the runner (tests/run.sh) what to remove should this script be
# SIGKILLed before its own cleanup can run.
_announce() { [[ -z ${NFQLB_TEST_RESOURCES:-} ]] || echo "$1 $2" >>"$NFQLB_TEST_RESOURCES"; }
_announce dir "$TMP"

# Unique per run: the shell's PID plus a random suffix, so neither two runs nor
# anyone else's namespaces can collide with ours.
NS_PREFIX=$(printf 'nq%d-%04x' "$$" "$RANDOM")
NS_CLIENT=$NS_PREFIX-cli
NS_DIRECTOR=$NS_PREFIX-dir
NS_SWITCH=$NS_PREFIX-sw
# shellcheck disable=SC2034 # for the tests
NSERVERS=0

NAMESPACES=()      # every namespace this run created, for cleanup
NFQLB_PID=""
NFQLB_LOG=$TMP/nfqlb.log
NOTIFY_LOG=$TMP/notify.log
NOTIFY_PID=""
_FAIL_REPORTED=0

# ---------------------------------------------------------------- utilities

log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# wait_until SECONDS CMD... — poll CMD every 50 ms until it succeeds; returns 1
# after SECONDS.  Every wait in the tests goes through here so that none can
# hang forever.
wait_until() {
	local deadline=$(( $(now_ms) + $1 * 1000 ))
	shift
	until "$@" >/dev/null 2>&1; do
		(( $(now_ms) < deadline )) || return 1
		sleep 0.05
	done
}

# proc_alive PID — true while PID runs.  `kill -0` is not enough: a child
# that exited stays a zombie until `wait`, and kill -0 succeeds on zombies.
proc_alive() {
	local stat state
	[[ -n ${1:-} && -r /proc/$1/stat ]] || return 1
	read -r stat </proc/"$1"/stat 2>/dev/null || return 1
	state=${stat##*) }
	[[ ${state%% *} != Z ]]
}

proc_dead() { ! proc_alive "$1"; }

daemon_log_tail() {
	[[ -s $NFQLB_LOG ]] || return 0
	echo "----- nfqlb log (last 40 lines of $NFQLB_LOG) -----" >&2
	tail -n 40 "$NFQLB_LOG" >&2
	echo "-----" >&2
}

# fail MSG — report, show the daemon's log tail, exit 1 (cleanup runs).
fail() {
	echo "FAIL [$TEST_NAME]: $*" >&2
	daemon_log_tail
	_FAIL_REPORTED=1
	exit 1
}

# ------------------------------------------------------------------ cleanup

# Kill every process that lives in one of our namespaces, then delete them.
# A namespace only disappears when its last process is gone, so order matters.
_kill_ns_procs() {
	local sig=$1 ns pids
	for ns in "${NAMESPACES[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		# shellcheck disable=SC2086 # one PID per word
		[[ -z $pids ]] || kill "-$sig" $pids 2>/dev/null || true
	done
}

_ns_empty() { ! _ns_procs_left; }
_ns_procs_left() {
	local ns
	for ns in "${NAMESPACES[@]}"; do
		[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] || return 0
	done
	return 1
}

cleanup() {
	local rc=$? ns
	set +eE
	trap - ERR
	if (( rc != 0 && _FAIL_REPORTED == 0 )); then
		echo "FAIL [$TEST_NAME]: exit status $rc" >&2
		daemon_log_tail
	fi
	# The daemon first, gently, so it can remove its rules like in real life.
	if proc_alive "$NFQLB_PID"; then
		kill -TERM "$NFQLB_PID" 2>/dev/null
		wait_until "${NFQLB_STOP_TIMEOUT:-3}" proc_dead "$NFQLB_PID" || kill -KILL "$NFQLB_PID" 2>/dev/null
	fi
	_kill_ns_procs TERM
	wait_until 2 _ns_empty || _kill_ns_procs KILL
	wait_until 2 _ns_empty
	# Helpers started in the root namespace (notify listener, client loops).
	local j
	for j in $(jobs -p); do kill -KILL "$j" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [[ -n ${NFQLB_KEEP_TMP:-} ]]; then
		echo "[$TEST_NAME] keeping $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}

trap cleanup EXIT
# Signals end the script through `exit`, so the EXIT trap still cleans up.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
trap 'echo "[$TEST_NAME] error: line $LINENO: $BASH_COMMAND" >&2' ERR

# --------------------------------------------------------------------- API

# ns_add NAME — create a namespace with lo up, remembered for cleanup.
ns_add() {
	ip netns add "$1"
	NAMESPACES+=("$1")
	_announce netns "$1"
	ip -n "$1" link set lo up
}

server_ns() { echo "$NS_PREFIX-s$1"; }
server_ip() { echo "$SERVER_NET.$((10 + $1))"; }

in_client()   { ip netns exec "$NS_CLIENT" "$@"; }
in_director() { ip netns exec "$NS_DIRECTOR" "$@"; }
in_switch()   { ip netns exec "$NS_SWITCH" "$@"; }
in_server()   { local n=$1; shift; ip netns exec "$(server_ns "$n")" "$@"; }

# topo_up [NSERVERS] — build the topology drawn at the top of this file.
topo_up() {
	local n=${1:-3} i ns
	# shellcheck disable=SC2034 # for the tests
	NSERVERS=$n
	ns_add "$NS_CLIENT"
	ns_add "$NS_DIRECTOR"
	ns_add "$NS_SWITCH"

	# Each veth is created directly inside its namespaces: no interface ever
	# appears in the root namespace, and names only need to be unique per ns.
	ip -n "$NS_CLIENT" link add eth0 type veth peer name eth0 netns "$NS_DIRECTOR"
	ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0
	ip -n "$NS_CLIENT" link set eth0 up
	ip -n "$NS_CLIENT" route add default via "$CLIENT_GW"

	ip -n "$NS_DIRECTOR" addr add "$CLIENT_GW/24" dev eth0
	ip -n "$NS_DIRECTOR" link set eth0 up
	# The VIP is a local address of the director, put there by the operator
	# (or keepalived), never by nfqlb.
	ip -n "$NS_DIRECTOR" addr add "$VIP/32" dev lo
	in_director sysctl -qw net.ipv4.ip_forward=1

	# The "switch": a plain bridge.  If br_netfilter is loaded, bridged frames
	# would otherwise traverse iptables in the switch namespace.
	ip -n "$NS_SWITCH" link add br0 type bridge stp_state 0
	# shellcheck disable=SC2016 # expanded by the inner sh
	in_switch sh -c 'f=/proc/sys/net/bridge/bridge-nf-call-iptables; [ ! -e $f ] || echo 0 >$f'
	ip -n "$NS_SWITCH" link set br0 up

	ip -n "$NS_DIRECTOR" link add eth1 type veth peer name p0 netns "$NS_SWITCH"
	ip -n "$NS_DIRECTOR" addr add "$DIRECTOR_IP/24" dev eth1
	ip -n "$NS_DIRECTOR" link set eth1 up
	ip -n "$NS_SWITCH" link set p0 master br0 up

	for ((i = 1; i <= n; i++)); do
		ns=$(server_ns "$i")
		ns_add "$ns"
		ip -n "$ns" link add eth0 type veth peer name "p$i" netns "$NS_SWITCH"
		ip -n "$ns" addr add "$(server_ip "$i")/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via "$DIRECTOR_IP"
		ip -n "$NS_SWITCH" link set "p$i" master br0 up
	done
	log "topology up: $NS_PREFIX-{cli,dir,sw,s1..s$n}"
}

# topo_direct_return — turns the topology into the VS/DR and VS/TUN one: a
# router namespace gives the real servers a way back to the client that does
# not pass through the director (their default route moves to it), and every
# server holds the VIP on its loopback with ARP suppressed, set up by the
# shipped scripts/nfqlb-realserver.
#
#  client eth0 192.0.2.2 ---- director (VIP, nfqlb) ---- [br0] --- servers
#         eth1 192.0.2.130/25 -- rt eth1 192.0.2.129/25      |   (VIP on lo,
#                                rt eth0 198.51.100.254/24 --+    default via rt)
ROUTER_IP=$SERVER_NET.254
topo_direct_return() {
	local i ns rt=$NS_PREFIX-rt
	NS_ROUTER=$rt
	ns_add "$rt"
	ip -n "$rt" link add eth0 type veth peer name prt netns "$NS_SWITCH"
	ip -n "$rt" addr add "$ROUTER_IP/24" dev eth0
	ip -n "$rt" link set eth0 up
	ip -n "$NS_SWITCH" link set prt master br0 up
	ip -n "$rt" link add eth1 type veth peer name eth1 netns "$NS_CLIENT"
	ip -n "$rt" addr add 192.0.2.129/25 dev eth1
	ip -n "$rt" link set eth1 up
	ip -n "$rt" route add "$CLIENT_IP/32" via 192.0.2.130
	ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_CLIENT" addr add 192.0.2.130/25 dev eth1
	ip -n "$NS_CLIENT" link set eth1 up
	# Replies from the VIP arrive on eth1 while the VIP is routed via eth0.
	in_client sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
	for ((i = 1; i <= NSERVERS; i++)); do
		ns=$(server_ns "$i")
		ip -n "$ns" route replace default via "$ROUTER_IP"
		NFQLB_RS_STATE=$TMP/rs-s$i ip netns exec "$ns" "$TOP/scripts/nfqlb-realserver" start "$VIP" >/dev/null
	done
	log "direct return: servers answer via $rt, VIP on their loopbacks"
}

# start_ipip_decap N — VS/TUN real server N: the kernel here has no ipip
# device, so tests/tools/ipip_decap hands decapsulated packets to a TUN device.
start_ipip_decap() {
	local n=$1 ns
	ns=$(server_ns "$n")
	ip netns exec "$ns" "$TOP/tests/tools/ipip_decap" tun0 >>"$TMP/decap-s$n.log" 2>&1 &
	wait_until 5 ip -n "$ns" link show tun0 >/dev/null 2>&1 || fail "server $n: no tun0 from ipip_decap"
	ip -n "$ns" link set tun0 up
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tun0.rp_filter=0
}

# direct_return_transfers — for the DR and TUN tests, with veth offloads on
# and then off: a 50 MB download through the VIP arrives byte-exact while the
# director sends less than 1 MB towards the client (the replies bypass it),
# and a 50 MB upload - the director's direction: GSO super-packets with
# offloads on, full-size DF segments without - arrives byte-exact too.
direct_return_transfers() {
	local mode want tx0 tx start rc got size out
	want=$(sha256sum <"$BIGFILE" | cut -d' ' -f1)
	for mode in on off; do
		tcp_offload "$mode"
		in_client ip route flush cache
		rm -f "$TMP/got"
		tx0=$(dev_bytes "$NS_DIRECTOR" eth0 tx)
		start=$(now_ms)
		rc=0
		in_client curl -sS --max-time 120 -o "$TMP/got" "http://$VIP/big" || rc=$?
		((rc == 0)) || fail "offloads $mode: download failed (curl status $rc)"
		size=$(stat -c %s "$TMP/got")
		((size == BIG_SIZE)) || fail "offloads $mode: got $size bytes, want $BIG_SIZE"
		got=$(sha256sum <"$TMP/got" | cut -d' ' -f1)
		[[ $got == "$want" ]] || fail "offloads $mode: sha256 $got, want $want"
		tx=$(($(dev_bytes "$NS_DIRECTOR" eth0 tx) - tx0))
		((tx < 1000000)) || fail "offloads $mode: the director sent $tx bytes to the client side: replies did not bypass it"
		log "offloads $mode: 50 MB download intact in $(($(now_ms) - start)) ms, director sent $tx bytes towards the client"
		in_client ip route flush cache
		start=$(now_ms)
		rc=0
		out=$(in_client curl -sS --max-time 120 -H 'Expect:' --data-binary "@$BIGFILE" "http://$VIP/upload") || rc=$?
		((rc == 0)) || fail "offloads $mode: upload failed (curl status $rc)"
		[[ $out == "$BIG_SIZE $want" ]] || fail "offloads $mode: upload arrived damaged: $out"
		log "offloads $mode: 50 MB upload intact in $(($(now_ms) - start)) ms"
	done
}

# dev_bytes NS DEV rx|tx — byte counter of an interface.
dev_bytes() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes"; }

# topo_settle — until the client reaches the director and the director every
# server (links up, neighbours resolved), for tests whose probes allow no
# retry: a first ARP lost on a fresh veth must not count against the daemon.
# Reachable = a UDP datagram to port 9 is answered (port unreachable).
_reaches() { # NS ADDRESS
	ip netns exec "$1" "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.connect((sys.argv[1], 9))
s.send(b"x")
try:
    s.recv(1)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$2"
}
topo_settle() {
	local i
	wait_until 10 _reaches "$NS_CLIENT" "$CLIENT_GW" || fail "the client does not reach the director"
	for ((i = 1; i <= NSERVERS; i++)); do
		wait_until 10 _reaches "$NS_DIRECTOR" "$(server_ip "$i")" || fail "the director does not reach server $i"
	done
}

# topo_demo N — topo_up N with the example configuration's real servers
# (etc/nfqlb.conf): HTTP on 8080 and a UDP echo on 5353 on every server,
# then topo_settle.
topo_demo() {
	local i
	topo_up "$1"
	for ((i = 1; i <= $1; i++)); do
		start_http_server "$i" 8080
		start_udp_echo "$i" 5353
	done
	topo_settle
}

# tcp_offload on|off — checksum offload, scatter-gather, TSO and GSO on every
# veth of the topology.  With them on, the daemon sees CHECKSUM_PARTIAL and
# (unless it asks for segmentation) GSO super-packets; with them off, plain
# fully checksummed MTU-sized packets.  Tests run both ways.
tcp_offload() {
	local v=$1 ns dev
	[[ $v == on || $v == off ]] || fail "tcp_offload: on|off, not '$v'"
	for ns in "${NAMESPACES[@]}"; do
		for dev in $(ip -n "$ns" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
			ip netns exec "$ns" ethtool -K "$dev" rx "$v" tx "$v" sg "$v" tso "$v" gso "$v" >/dev/null 2>&1 || true
			ip netns exec "$ns" ethtool -k "$dev" | grep -q "^tx-checksumming: $v" ||
				fail "could not turn tx checksum offload $v on $ns/$dev"
		done
	done
	log "veth offloads $v"
}

# wait_listen NS tcp|udp PORT — until something listens on PORT in NS.
_listening() { ip netns exec "$1" ss -Hln"${2:0:1}" "sport = :$3" | grep -q .; }
_not_listening() { ! _listening "$@"; }
wait_listen() {
	wait_until 5 _listening "$@" || fail "nothing listening on $2 port $3 in $1"
}

# The /big file: deterministic (seeded PRNG, not a repeating pattern, so a
# misplaced segment cannot go unnoticed), generated once per run.
BIGFILE=$TMP/big.bin
BIG_SIZE=$((50 * 1024 * 1024))
ensure_bigfile() {
	[[ -s $BIGFILE ]] && return 0
	"$PY" -c 'import random, sys
sys.stdout.buffer.write(random.Random(20240601).randbytes(int(sys.argv[1])))' "$BIG_SIZE" >"$BIGFILE"
}

# start_http_server N PORT — HTTP/1.0 server in server ns N: "/" -> "sN",
# "/ip" -> the client address it sees, "/big" -> $BIGFILE, "/health" ->
# "200 healthy" unless $(health_file N PORT) says otherwise (see httpd.py).
# Its PID is in $TMP/httpd-sN-PORT.pid (stop_http_server).
start_http_server() {
	local n=$1 port=$2
	ensure_bigfile
	# a simple command, so $! is the server's own PID (ip execs it)
	ip netns exec "$(server_ns "$n")" "$PY" "$LIB/httpd.py" --name "s$n" --port "$port" --big "$BIGFILE" \
		--health-file "$(health_file "$n" "$port")" \
		>>"$TMP/httpd-s$n-$port.log" 2>&1 &
	echo $! >"$TMP/httpd-s$n-$port.pid"
	wait_listen "$(server_ns "$n")" tcp "$port"
}

# health_file N PORT — write "500" (or "200 degraded") there to make the
# /health of server N's HTTP server fail; remove it to make it pass again.
health_file() { echo "$TMP/health-s$1-$2"; }

# stop_http_server N PORT — stop that server's listener (and wait until
# nothing listens on the port any more).
stop_http_server() {
	local n=$1 port=$2 pid
	pid=$(cat "$TMP/httpd-s$n-$port.pid")
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 5 proc_dead "$pid" || fail "HTTP server s$n:$port (pid $pid) did not stop"
	wait "$pid" 2>/dev/null || true
	wait_until 5 _not_listening "$(server_ns "$n")" tcp "$port" ||
		fail "s$n still listens on $port"
}

# start_udp_echo N PORT — replies "sN:<payload>" to every datagram.
start_udp_echo() {
	local n=$1 port=$2
	in_server "$n" "$PY" "$LIB/udpecho.py" --name "s$n" --port "$port" \
		>>"$TMP/udpecho-s$n-$port.log" 2>&1 &
	wait_listen "$(server_ns "$n")" udp "$port"
}

# start_tcp_echo N PORT — echoes every byte back (cat behind socat).
start_tcp_echo() {
	local n=$1 port=$2
	in_server "$n" socat "TCP-LISTEN:$port,fork,reuseaddr" EXEC:cat \
		>>"$TMP/tcpecho-s$n-$port.log" 2>&1 &
	wait_listen "$(server_ns "$n")" tcp "$port"
}

# conf_value FILE KEY — first string value of KEY in a libconfig file (good
# enough for the few top-level settings the harness needs to know).
conf_value() {
	sed -n "s/^[^#]*\\b$2[[:space:]]*=[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1
}

# Ready: a new READY=1 on $NOTIFY_SOCKET (sent once queues and rules are in
# place), or, for a daemon that does not speak sd_notify, the chain exists
# and something jumps to it (so its rules are hooked in, not half-built).
_nfqlb_ready() { # CHAIN READY-COUNT-BEFORE-START
	local rules
	proc_alive "$NFQLB_PID" || return 0 # stop polling, the caller checks
	ready_count_above "$2" && return 0
	rules=$(in_director iptables-save 2>/dev/null) || return 1
	grep -q "^:$1 " <<<"$rules" && grep -Eq -- "-j $1( |\$)" <<<"$rules"
}
# With iptables.manage = false there is no chain to see: READY=1 or the
# control socket.
_nfqlb_ready_unmanaged() { # SOCKET READY-COUNT-BEFORE-START
	proc_dead "$NFQLB_PID" || ready_count_above "$2" || [[ -n $1 && -S $1 ]]
}

# The daemon speaks sd_notify; the harness listens so it can sync on reloads.
_start_notify_listener() {
	[[ -n $NOTIFY_PID ]] && proc_alive "$NOTIFY_PID" && return 0
	: >"$NOTIFY_LOG"
	"$PY" "$LIB/notify_listen.py" "$TMP/notify.sock" "$NOTIFY_LOG" &
	NOTIFY_PID=$!
	wait_until 5 test -S "$TMP/notify.sock" || fail "notify listener did not start"
}

ready_count() { grep -c '^READY=1$' "$NOTIFY_LOG" 2>/dev/null || true; }
ready_count_above() { (($(ready_count) > $1)); }
_reload_done() { ready_count_above "$1" || proc_dead "$NFQLB_PID"; }

# start_nfqlb CONF — run the daemon in the director namespace in the
# foreground mode (as systemd does) and wait until it is ready (see
# _nfqlb_ready), at most $NFQLB_START_TIMEOUT (5) s; fail with its log if it
# dies or is not ready.  With iptables.manage = false, a daemon that neither
# speaks sd_notify nor has a control socket yet is given that time and
# assumed ready.  $NFQLB_WRAPPER (e.g. valgrind) is put before the command;
# it must run the daemon in its own process (exec), as valgrind does.
start_nfqlb() {
	local conf=$1 chain before wrapper=() secs=${NFQLB_START_TIMEOUT:-5}
	[[ -x $NFQLB ]] || fail "daemon binary $NFQLB not found or not executable (build it first)"
	proc_alive "$NFQLB_PID" && fail "start_nfqlb: nfqlb already running (pid $NFQLB_PID)"
	read -ra wrapper <<<"${NFQLB_WRAPPER:-}"
	_start_notify_listener
	before=$(ready_count)
	echo "=== $(date +%T.%N) start: ${wrapper[*]}${wrapper[*]:+ }$NFQLB -f -c $conf" >>"$NFQLB_LOG"
	# A simple command, not a function: $! is then the daemon's own PID
	# (ip netns exec execs it), which signals and `wait` need.
	NOTIFY_SOCKET=$TMP/notify.sock ip netns exec "$NS_DIRECTOR" "${wrapper[@]}" "$NFQLB" -f -c "$conf" >>"$NFQLB_LOG" 2>&1 &
	NFQLB_PID=$!
	if grep -Eq '^[^#]*\bmanage[[:space:]]*=[[:space:]]*false' "$conf"; then
		wait_until "$secs" _nfqlb_ready_unmanaged "$(conf_value "$conf" control_socket)" "$before" || true
	else
		chain=$(conf_value "$conf" chain)
		wait_until "$secs" _nfqlb_ready "${chain:-NFQLB}" "$before" ||
			fail "nfqlb not ready after $secs s (no READY=1, no chain ${chain:-NFQLB} with a jump to it)"
	fi
	proc_alive "$NFQLB_PID" || fail "nfqlb died during start-up"
	log "nfqlb running, pid $NFQLB_PID"
}

nfqlb_pid() { echo "$NFQLB_PID"; }

# nfqlb_alive — true while the daemon runs.
nfqlb_alive() { proc_alive "$NFQLB_PID"; }

# stop_nfqlb — SIGTERM, wait for the exit, fail unless it exits 0 within
# $NFQLB_STOP_TIMEOUT (5) s.
stop_nfqlb() {
	local rc=0 secs=${NFQLB_STOP_TIMEOUT:-5}
	proc_alive "$NFQLB_PID" || fail "stop_nfqlb: nfqlb (pid $NFQLB_PID) is not running"
	kill -TERM "$NFQLB_PID"
	if ! wait_until "$secs" proc_dead "$NFQLB_PID"; then
		kill -KILL "$NFQLB_PID" 2>/dev/null || true
		fail "nfqlb did not exit within $secs s of SIGTERM"
	fi
	wait "$NFQLB_PID" || rc=$?
	echo "=== $(date +%T.%N) exit status $rc" >>"$NFQLB_LOG"
	NFQLB_PID=""
	((rc == 0)) || fail "nfqlb exited with status $rc after SIGTERM"
	log "nfqlb stopped"
}

# stop_nfqlb_rc — SIGTERM and wait for the exit (fail after
# $NFQLB_STOP_TIMEOUT s); its status goes to NFQLB_RC, for a caller that
# shows something (a valgrind report) before judging it.
stop_nfqlb_rc() {
	local secs=${NFQLB_STOP_TIMEOUT:-5}
	kill -TERM "$NFQLB_PID"
	wait_until "$secs" proc_dead "$NFQLB_PID" ||
		fail "nfqlb did not exit within $secs s of SIGTERM"
	NFQLB_RC=0
	wait "$NFQLB_PID" || NFQLB_RC=$?
	NFQLB_PID=""
	echo "=== $(date +%T.%N) exit status $NFQLB_RC" >>"$NFQLB_LOG"
}

# reload_nfqlb — SIGHUP and wait for the reload to finish: for the daemon's
# next READY=1 when it speaks sd_notify (max $NFQLB_RELOAD_TIMEOUT, 5 s),
# otherwise 1 s.
reload_nfqlb() {
	local before secs=${NFQLB_RELOAD_TIMEOUT:-5}
	proc_alive "$NFQLB_PID" || fail "reload_nfqlb: nfqlb is not running"
	before=$(ready_count)
	kill -HUP "$NFQLB_PID"
	if ((before > 0)); then
		wait_until "$secs" _reload_done "$before" || log "no READY=1 within $secs s of SIGHUP"
	else
		sleep 1
	fi
	proc_alive "$NFQLB_PID" || fail "nfqlb died on SIGHUP"
}

# write_conf FILE — a config with the harness's daemon and iptables sections
# (state files inside $TMP, chain NFQLB), then stdin (timeouts, services).
write_conf() {
	{
		cat <<EOF
daemon: {
  queue = 0;
  queues = ${NFQLB_QUEUES:-1};
  control_socket = "$TMP/nfqlb.sock";
  log_level = "debug";
  checkpoint: { file = "$TMP/connections.ckpt"; interval = 5; };
};
iptables: { manage = true; chain = "NFQLB"; };
EOF
		cat
	} >"$1"
}

# servers_conf PORT W1 W2 ... — a libconfig servers list for servers 1..N.
servers_conf() {
	local port=$1 i=0 w sep=""
	shift
	printf 'servers = (\n'
	for w in "$@"; do
		i=$((i + 1))
		printf '%s      { address = "%s"; port = %d; weight = %d; }' "$sep" "$(server_ip "$i")" "$port" "$w"
		sep=$',\n'
	done
	printf '\n    );\n'
}

# single_service NAME PROTO PORT SCHEDULER FORWARD SERVER-PORT W1 W2 ... — a
# services list with one service on $VIP over servers 1..N (for write_conf).
single_service() {
	local name=$1 proto=$2 port=$3 sched=$4 fwd=$5 sport=$6
	shift 6
	cat <<EOF
services = (
  {
    name = "$name";
    protocol = "$proto";
    vip = "$VIP"; port = $port;
    scheduler = "$sched";
    forward = "$fwd";
    $(servers_conf "$sport" "$@")
  }
);
EOF
}

# service_conf NAME tcp|udp PORT nat|dr|tun SERVER-PORT W1 W2 ... — one
# service group (scheduler rr) on $VIP:PORT for a services list.
service_conf() {
	local name=$1 proto=$2 port=$3 fwd=$4
	shift 4
	printf '  {\n    name = "%s"; protocol = "%s"; vip = "%s"; port = %d;\n' "$name" "$proto" "$VIP" "$port"
	printf '    scheduler = "rr"; forward = "%s";\n    %s\n  }' "$fwd" "$(servers_conf "$@")"
}

# http_requests N [PATH [VIP:PORT]] — N fresh connections from the client,
# one response body (or "ERROR rc=N") per line on stdout.
http_requests() {
	local n=$1 path=${2:-/} target=${3:-$VIP} i body
	for ((i = 0; i < n; i++)); do
		if body=$(in_client curl -s --max-time 5 "http://$target$path"); then
			echo "$body"
		else
			echo "ERROR rc=$?"
		fi
	done
}

# histogram — "s1=10 s2=10 s3=10" style summary of stdin lines (sorted).
histogram() {
	sort | uniq -c | awk '{ n = $1; sub(/^ *[0-9]+ /, ""); printf "%s%s=%d", sep, $0, n; sep = " " }'
	echo
}

# assert_counts FILE "s1=10 s2=10 s3=10" — exact distribution of responses.
assert_counts() {
	local got
	got=$(histogram <"$1")
	[[ $got == "$2" ]] || fail "distribution: expected '$2', got '$got'"
	log "distribution $got"
}

# log_count TEXT — how many lines of the daemon's log hold TEXT (fixed).
log_count() { grep -cF -- "$1" "$NFQLB_LOG" || true; }
_log_count_at_least() { (($(log_count "$2") >= $1)); }
# wait_log SECS N TEXT — until the daemon's log holds TEXT on N lines; fail
# after SECS.
wait_log() {
	wait_until "$1" _log_count_at_least "$2" "$3" ||
		fail "no $2. log line with '$3' within $1 s"
}

# wait_log_within LIMIT-SECS START-MS TEXT — wait_log for TEXT (up to 20 s,
# so a failure shows the log), then fail unless it came within LIMIT-SECS
# of START-MS (from now_ms).  Prints the milliseconds it took.
wait_log_within() {
	local limit=$1 start=$2 ms
	wait_log $((limit > 20 ? limit : 20)) 1 "$3"
	ms=$(($(now_ms) - start))
	((ms <= limit * 1000)) || fail "'$3' after $ms ms, want <= $((limit * 1000))"
	echo "$ms"
}

# The long-lived echo connection (tests/lib/tcpecho_client.py): one line
# every 100 ms from the client to VIP:PORT.
# start_echo_client PORT — connect and wait for 5 round trips.
start_echo_client() {
	echo_client_start "$1"
	echo_progress 5
}
echo_rounds() { cat "$TMP/echo.status" 2>/dev/null || echo 0; }
echo_rounds_at_least() { (($(echo_rounds) >= $1)); }
# echo_progress N — the long-lived connection makes N more round trips.
echo_progress() {
	wait_until 10 echo_rounds_at_least $(($(echo_rounds) + $1)) ||
		fail "long-lived connection stalled at $(echo_rounds) round trips (see $(cat "$TMP/echo.log"))"
}
# echo_holder PORT — the server number that holds the connection.
echo_holder() {
	local i
	for ((i = 1; i <= NSERVERS; i++)); do
		if [[ -n $(in_server "$i" ss -Htn state established "( sport = :$1 )") ]]; then
			echo "$i"
			return
		fi
	done
	fail "no server holds the long-lived connection"
}
# stop_echo_client — stop it; fail unless it never broke.
stop_echo_client() { echo_client_finish; }

# hitless_restart CMD... — CMD asks the daemon for a hitless restart
# (kill -USR2 "$NFQLB_PID", nfqlbctl restart); then the next READY=1 from
# the same PID.
hitless_restart() {
	local before pid=$NFQLB_PID t0
	before=$(ready_count)
	t0=$(now_ms)
	"$@" || fail "$*: failed"
	wait_until 10 ready_count_above "$before" || fail "no READY=1 within 10 s of $*"
	nfqlb_alive || fail "nfqlb died on $*"
	[[ $(nfqlb_pid) == "$pid" ]] || fail "PID changed"
	log "$* to READY=1: $(($(now_ms) - t0)) ms"
}

# ipt_snapshot NS — iptables-save without comments and counters, so two
# snapshots compare equal iff the rule sets are equal.
ipt_snapshot() {
	ip netns exec "$1" iptables-save | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]/[0:0]/g'
}

# ------------------------------------------------- long-lived echo session
# One TCP connection from the client that keeps making round trips
# (tests/lib/tcpecho_client.py), for tests where a connection must survive
# something: a reload, a restart.

# echo_client_start PORT [ARGS...] — connect to $VIP:PORT (an echo service)
# in the background ($ECHO_PID); ARGS go to tcpecho_client.py (--interval,
# --pause-file); its files are $TMP/echo.{status,stop,log}.
echo_client_start() {
	local port=$1
	shift
	rm -f "$TMP/echo.status" "$TMP/echo.stop" # of an earlier session
	ip netns exec "$NS_CLIENT" "$PY" "$LIB/tcpecho_client.py" "$VIP" "$port" \
		"$TMP/echo.status" "$TMP/echo.stop" --max-seconds 120 "$@" >"$TMP/echo.log" 2>&1 &
	ECHO_PID=$!
}
# echo_client_finish — stop it; fail unless every round trip succeeded.
echo_client_finish() {
	local rc=0
	touch "$TMP/echo.stop"
	wait_until 5 proc_dead "$ECHO_PID" || fail "long-lived client did not stop"
	wait "$ECHO_PID" || rc=$?
	((rc == 0)) || fail "long-lived connection broke (status $rc): $(cat "$TMP/echo.log")"
	log "long-lived connection: $(tail -n 1 "$TMP/echo.log")"
}
# echo_holders PORT — "sN" for each server with an established connection
# on its PORT, one per line.
echo_holders() {
	local i
	for ((i = 1; i <= NSERVERS; i++)); do
		[[ -z $(in_server "$i" ss -Htn state established "( sport = :$1 )") ]] || echo "s$i"
	done
}
# tcp_hold PORT SECONDS — a new connection to $VIP:PORT (an echo service):
# prints the echo of "hello", then keeps the connection open SECONDS so
# echo_holders can see where it went.
tcp_hold() {
	in_client "$PY" - "$VIP" "$1" "$2" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"hello\n")
s.settimeout(5)
print(s.recv(100).decode().strip(), flush=True)
time.sleep(float(sys.argv[3]))
EOF
}
# holders_with_new PORT — echo_holders (space-separated, one line) while a
# new connection to PORT is open: shows where the new one went next to the
# connections that already exist.
holders_with_new() {
	local pid holders
	tcp_hold "$1" 3 >"$TMP/new.out" &
	pid=$!
	wait_until 5 grep -q hello "$TMP/new.out" || fail "new connection to port $1 not echoed"
	holders=$(echo_holders "$1" | tr '\n' ' ')
	wait "$pid" || fail "new connection to port $1 failed"
	echo "${holders% }"
}
