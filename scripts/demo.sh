#!/bin/bash
# scripts/demo.sh - the live demo of nfqlb: run as root from anywhere.
#
# 1. installs the Debian packages that are missing (scripts/deps.sh) and
#    builds the daemon (scripts/build.sh);
# 2. builds a small VS/NAT network out of network namespaces:
#
#    client ns                director ns                      switch ns      server ns 1..3
#    eth0 192.0.2.2/24 --veth-- eth0 192.0.2.1/24
#    default via 192.0.2.1      lo   203.0.113.10/32 (the VIP)
#                               eth1 198.51.100.1/24 --veth-- [ bridge ] --veth-- eth0 198.51.100.11..13/24
#                               ip_forward=1                                     default via 198.51.100.1
#
#    each server runs an HTTP server on :8080 and a UDP responder on :5353
#    that answer with the server's name;
# 3. runs nfqlb in the director namespace with etc/nfqlb.conf (only the
#    control socket and checkpoint paths are moved into a temporary
#    directory), shows the iptables rules it installed, sends 12 HTTP
#    requests and 6 UDP queries to the VIP, stops nfqlb with SIGTERM and
#    shows that its rules are gone.
#
# Everything lives in namespaces named nqdemo<PID>-*; they are deleted on
# exit (also on failure or Ctrl-C).  The root namespace's rules, routes and
# sysctls are never touched.  Exit status 0 when the balancer balanced as
# configured, non-zero otherwise.

set -Eeuo pipefail
export LC_ALL=C

TOP=$(cd "$(dirname "$0")/.." && pwd)
CONF_SRC=$TOP/etc/nfqlb.conf
NFQLB=$TOP/nfqlb
PY=/usr/bin/python3 # Debian's, whatever python3 is first on PATH

VIP=203.0.113.10
CLIENT_IP=192.0.2.2
DIRECTOR_CLIENT_IP=192.0.2.1
DIRECTOR_SERVER_IP=198.51.100.1
SERVER_IPS=(198.51.100.11 198.51.100.12 198.51.100.13)
HTTP_PORT=8080
UDP_PORT=5353
HTTP_REQUESTS=12
UDP_QUERIES=6

P=nqdemo$$
NS_CLIENT=$P-client
NS_DIRECTOR=$P-director
NS_SWITCH=$P-switch
NAMESPACES=()
TMP=""
NFQLB_PID=""

# ------------------------------------------------------------------ helpers

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
indent() { sed 's/^/    /'; }
die() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	if [[ -n $TMP && -s $TMP/nfqlb.log ]]; then
		echo "----- nfqlb log (last 30 lines) -----" >&2
		tail -n 30 "$TMP/nfqlb.log" >&2
		echo "-----" >&2
	fi
	exit 1
}

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# wait_until SECONDS CMD... - poll CMD every 100 ms; 1 after SECONDS.
wait_until() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		(($(now_ms) < deadline)) || return 1
		sleep 0.1
	done
}

# alive PID - true while PID runs and is not a zombie.
alive() {
	local stat
	[[ -n ${1:-} && -r /proc/$1/stat ]] || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}
dead() { ! alive "$1"; }

ns_add() {
	ip netns add "$1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_procs_left() {
	local ns
	for ns in "${NAMESPACES[@]}"; do
		[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] || return 0
	done
	return 1
}
ns_empty() { ! ns_procs_left; }

kill_ns_procs() {
	local sig=$1 ns pids
	for ns in "${NAMESPACES[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		# shellcheck disable=SC2086 # one PID per word
		[[ -z $pids ]] || kill "-$sig" $pids 2>/dev/null || true
	done
}

cleanup() {
	local rc=$? ns
	set +eE
	trap - ERR
	if alive "$NFQLB_PID"; then
		kill -TERM "$NFQLB_PID" 2>/dev/null
		wait_until 5 dead "$NFQLB_PID" || kill -KILL "$NFQLB_PID" 2>/dev/null
	fi
	if ((${#NAMESPACES[@]})); then
		kill_ns_procs TERM
		wait_until 3 ns_empty || kill_ns_procs KILL
		wait_until 2 ns_empty
	fi
	wait 2>/dev/null
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[[ -z $TMP ]] || rm -rf "$TMP"
	exit "$rc"
}

# ---------------------------------------------------------- prerequisites

((EUID == 0)) || {
	echo "demo: run me as root (network namespaces, iptables)" >&2
	exit 1
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
trap 'echo "demo: error at line $LINENO: $BASH_COMMAND" >&2' ERR

cd "$TOP"
step "Installing missing packages (scripts/deps.sh)"
scripts/deps.sh
info "all build and demo packages are installed"

step "Building nfqlb (scripts/build.sh)"
if ! scripts/build.sh >"/tmp/nfqlb-demo-build.$$.log" 2>&1; then
	tail -n 40 "/tmp/nfqlb-demo-build.$$.log" >&2
	rm -f "/tmp/nfqlb-demo-build.$$.log"
	die "the build failed (output above)"
fi
rm -f "/tmp/nfqlb-demo-build.$$.log"
[[ -x $NFQLB ]] || die "no $NFQLB after the build"
info "$("$NFQLB" -V)"

for cmd in ip iptables iptables-save curl timeout; do
	command -v "$cmd" >/dev/null || die "$cmd not found"
done
[[ -x $PY ]] || die "$PY not found"

TMP=$(mktemp -d /tmp/nfqlb-demo.XXXXXX)

# ------------------------------------------------------------ the config

step "Configuration: $CONF_SRC"
# The shipped file as is, except where the control socket and the
# checkpoint go: a private directory, so the demo leaves no files behind.
sed -E \
	-e "s|^([[:space:]]*control_socket[[:space:]]*=[[:space:]]*)\"[^\"]*\"|\\1\"$TMP/nfqlb.sock\"|" \
	-e "s|^([[:space:]]*file[[:space:]]*=[[:space:]]*)\"[^\"]*\"|\\1\"$TMP/connections.ckpt\"|" \
	"$CONF_SRC" >"$TMP/nfqlb.conf"
grep -q "\"$TMP/nfqlb.sock\"" "$TMP/nfqlb.conf" || die "could not move control_socket in the copy of $CONF_SRC"
grep -q "\"$TMP/connections.ckpt\"" "$TMP/nfqlb.conf" || die "could not move the checkpoint file in the copy of $CONF_SRC"
"$NFQLB" -t -c "$TMP/nfqlb.conf" | indent || die "the configuration does not pass nfqlb -t"
info "services (from the file):"
info "  web  tcp $VIP:80  wrr  nat -> ${SERVER_IPS[0]}:$HTTP_PORT w3, ${SERVER_IPS[1]}:$HTTP_PORT w2, ${SERVER_IPS[2]}:$HTTP_PORT w1"
info "  dns  udp $VIP:53  rr   nat -> the same three servers, port $UDP_PORT"

# -------------------------------------------------------------- topology

step "Building the network (namespaces $P-*)"
ns_add "$NS_CLIENT"
ns_add "$NS_DIRECTOR"
ns_add "$NS_SWITCH"

# Each veth is created inside its two namespaces: nothing ever appears in
# the root namespace.
ip -n "$NS_CLIENT" link add eth0 type veth peer name eth0 netns "$NS_DIRECTOR"
ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0
ip -n "$NS_CLIENT" link set eth0 up
ip -n "$NS_CLIENT" route add default via "$DIRECTOR_CLIENT_IP"

ip -n "$NS_DIRECTOR" addr add "$DIRECTOR_CLIENT_IP/24" dev eth0
ip -n "$NS_DIRECTOR" link set eth0 up
# The VIP is a local address of the director, added by the operator (or
# keepalived), never by nfqlb.
ip -n "$NS_DIRECTOR" addr add "$VIP/32" dev lo
in_ns "$NS_DIRECTOR" sysctl -qw net.ipv4.ip_forward=1

# The switch: a plain bridge.  With br_netfilter loaded, bridged frames
# would also traverse iptables in the switch namespace; switch that off.
ip -n "$NS_SWITCH" link add br0 type bridge stp_state 0
# shellcheck disable=SC2016 # expanded by the inner sh
in_ns "$NS_SWITCH" sh -c 'f=/proc/sys/net/bridge/bridge-nf-call-iptables; [ ! -e $f ] || echo 0 >$f'
ip -n "$NS_SWITCH" link set br0 up
ip -n "$NS_DIRECTOR" link add eth1 type veth peer name p0 netns "$NS_SWITCH"
ip -n "$NS_DIRECTOR" addr add "$DIRECTOR_SERVER_IP/24" dev eth1
ip -n "$NS_DIRECTOR" link set eth1 up
ip -n "$NS_SWITCH" link set p0 master br0 up

# The real servers.  HTTP/1.0, so every request is a new TCP connection
# that the balancer schedules.
HTTPD='
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
name, port = sys.argv[1], int(sys.argv[2])
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = (name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
HTTPServer.allow_reuse_address = True
HTTPServer(("0.0.0.0", port), H).serve_forever()
'
UDPD='
import socket, sys
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(name.encode() + b" answers " + data, peer)
'
listening() { in_ns "$1" ss -Hln"$2" "sport = :$3" | grep -q .; }

for i in 1 2 3; do
	ns=$P-server$i
	ip=${SERVER_IPS[i - 1]}
	ns_add "$ns"
	ip -n "$ns" link add eth0 type veth peer name "p$i" netns "$NS_SWITCH"
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
	# VS/NAT: replies must go back through the director.
	ip -n "$ns" route add default via "$DIRECTOR_SERVER_IP"
	ip -n "$NS_SWITCH" link set "p$i" master br0 up
	in_ns "$ns" "$PY" -c "$HTTPD" "server$i($ip)" "$HTTP_PORT" >"$TMP/http$i.log" 2>&1 &
	in_ns "$ns" "$PY" -c "$UDPD" "server$i($ip)" "$UDP_PORT" >"$TMP/udp$i.log" 2>&1 &
done
for i in 1 2 3; do
	wait_until 10 listening "$P-server$i" t "$HTTP_PORT" || die "HTTP server $i did not start"
	wait_until 10 listening "$P-server$i" u "$UDP_PORT" || die "UDP responder $i did not start"
done
info "client    $CLIENT_IP  (ns $NS_CLIENT), default route via the director"
info "director  $DIRECTOR_CLIENT_IP, $DIRECTOR_SERVER_IP, VIP $VIP on lo  (ns $NS_DIRECTOR)"
for i in 1 2 3; do
	info "server$i   ${SERVER_IPS[i - 1]}  HTTP :$HTTP_PORT, UDP :$UDP_PORT, default route via $DIRECTOR_SERVER_IP  (ns $P-server$i)"
done

# Without a balancer the VIP is just an address of the director: nothing
# listens on :80 there, so the connection is refused.
if timeout 5 ip netns exec "$NS_CLIENT" curl -s --max-time 2 "http://$VIP/" >/dev/null 2>&1; then
	die "something already answers on $VIP:80 before nfqlb runs"
fi
info "before nfqlb: http://$VIP/ is refused by the director itself (nothing listens on :80)"

# ----------------------------------------------------------------- nfqlb

step "Starting nfqlb in the director: nfqlb -f -c $TMP/nfqlb.conf"
in_ns "$NS_DIRECTOR" iptables-save | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]/[0:0]/g' >"$TMP/ipt-before"
# A simple command, so $! is the daemon itself (ip netns exec execs it).
ip netns exec "$NS_DIRECTOR" "$NFQLB" -f -c "$TMP/nfqlb.conf" >"$TMP/nfqlb.log" 2>&1 &
NFQLB_PID=$!
chain_present() {
	alive "$NFQLB_PID" || return 0 # stop polling; checked below
	in_ns "$NS_DIRECTOR" iptables -t raw -S NFQLB >/dev/null 2>&1
}
wait_until 10 chain_present || die "nfqlb is not ready after 10 s"
alive "$NFQLB_PID" || die "nfqlb exited during start-up"
info "running, pid $NFQLB_PID; its log so far:"
indent <"$TMP/nfqlb.log"

step "The iptables rules nfqlb installed (chain NFQLB, one jump per table)"
for t in "raw PREROUTING" "mangle POSTROUTING" "filter FORWARD"; do
	read -r table hook <<<"$t"
	info "-- table $table: iptables -t $table -S $hook; iptables -t $table -S NFQLB"
	{
		in_ns "$NS_DIRECTOR" iptables -t "$table" -S "$hook"
		in_ns "$NS_DIRECTOR" iptables -t "$table" -S NFQLB
	} | grep -v -- '^-P ' | indent
done
info "raw:    client packets to VIP:port are queued before connection tracking"
info "mangle: replies from the real servers are queued to get the VIP back as source"
info "filter: packets nfqlb balanced (mark 0x10000000) may be forwarded"

# ---------------------------------------------------------------- traffic

step "$HTTP_REQUESTS HTTP requests from the client to http://$VIP/ (web: wrr 3:2:1)"
declare -A HTTP_COUNT=()
http_ok=0
for ((i = 1; i <= HTTP_REQUESTS; i++)); do
	if body=$(timeout 10 ip netns exec "$NS_CLIENT" curl -s --max-time 5 "http://$VIP/"); then
		printf '    request %2d: answered by %s\n' "$i" "$body"
		HTTP_COUNT[$body]=$((${HTTP_COUNT[$body]:-0} + 1))
		http_ok=$((http_ok + 1))
	else
		printf '    request %2d: FAILED (curl exit %s)\n' "$i" "$?"
	fi
done
info "summary:"
http_summary=""
for i in 1 2 3; do
	name="server$i(${SERVER_IPS[i - 1]})"
	n=${HTTP_COUNT[$name]:-0}
	printf '      %-22s %2d of %d\n' "$name" "$n" "$HTTP_REQUESTS"
	http_summary+="$n/"
done
http_summary=${http_summary%/}
info "expected 6/4/2 (weights 3:2:1), got $http_summary"

step "$UDP_QUERIES UDP queries from the client to $VIP:53 (dns: rr), each from a new source port"
# The socket is connected to VIP:53: the kernel only delivers a reply whose
# source is VIP:53, so every answer shown proves the rewrite back to the VIP.
UDP_CLIENT='
import socket, sys
vip, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.connect((vip, 53))
    s.settimeout(3)
    s.send(b"query %d" % (i + 1))
    try:
        data, peer = s.recvfrom(2048)
        print("from port %-5d  reply from %s:%d: %s" % (s.getsockname()[1], peer[0], peer[1], data.decode()))
    except socket.timeout:
        print("from port %-5d  TIMEOUT" % s.getsockname()[1])
    s.close()
'
udp_out=$(timeout $((UDP_QUERIES * 4 + 5)) ip netns exec "$NS_CLIENT" "$PY" -c "$UDP_CLIENT" "$VIP" "$UDP_QUERIES" || true)
indent <<<"$udp_out"
udp_summary=""
for i in 1 2 3; do
	n=$(grep -cF "server$i(" <<<"$udp_out" || true)
	udp_summary+="$n/"
done
udp_summary=${udp_summary%/}
udp_ok=$(grep -c "answers" <<<"$udp_out" || true)
info "expected 2/2/2 (round robin), got $udp_summary"

# ------------------------------------------------------------------- stop

step "Stopping nfqlb (SIGTERM)"
kill -TERM "$NFQLB_PID"
wait_until 10 dead "$NFQLB_PID" || die "nfqlb did not exit within 10 s of SIGTERM"
rc=0
wait "$NFQLB_PID" || rc=$?
NFQLB_PID=""
info "nfqlb exited with status $rc; the end of its log:"
tail -n 4 "$TMP/nfqlb.log" | indent
((rc == 0)) || die "nfqlb exited with status $rc"

step "The director's rules after the stop"
if in_ns "$NS_DIRECTOR" iptables -t raw -S NFQLB >/dev/null 2>&1; then
	die "chain NFQLB is still in the raw table"
fi
in_ns "$NS_DIRECTOR" iptables-save | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]/[0:0]/g' >"$TMP/ipt-after"
info "iptables-save now:"
if [[ -s $TMP/ipt-after ]]; then indent <"$TMP/ipt-after"; else info "  (empty: no tables, no rules)"; fi
if cmp -s "$TMP/ipt-before" "$TMP/ipt-after"; then
	info "identical to iptables-save before nfqlb started: chain NFQLB and its jumps are gone"
else
	diff -u "$TMP/ipt-before" "$TMP/ipt-after" | indent || true
	die "iptables-save after the stop differs from before the start"
fi

# ----------------------------------------------------------------- verdict

step "Result"
fail=0
if ((http_ok == HTTP_REQUESTS)) && [[ $http_summary == 6/4/2 ]]; then
	info "OK   HTTP: all $HTTP_REQUESTS requests answered, split 6/4/2 as weighted 3:2:1"
else
	info "FAIL HTTP: $http_ok of $HTTP_REQUESTS answered, split $http_summary (expected 6/4/2)"
	fail=1
fi
if ((udp_ok == UDP_QUERIES)) && [[ $udp_summary == 2/2/2 ]]; then
	info "OK   UDP:  all $UDP_QUERIES queries answered from $VIP:53, split 2/2/2"
else
	info "FAIL UDP:  $udp_ok of $UDP_QUERIES answered, split $udp_summary (expected 2/2/2)"
	fail=1
fi
info "OK   stop: SIGTERM, exit status 0, rules removed"
((fail == 0)) || die "the balancer did not balance as configured"
echo
echo "demo: nfqlb balanced as configured; namespaces $P-* are being removed."
