#!/bin/bash
# The real daemon under valgrind (memcheck) through a short VS/NAT life:
# start, 9 HTTP requests (web, tcp rr) and 6 UDP datagrams (dns, udp rr),
# a SIGHUP reload with changed weights (web 1,1,0; dns 0,1,1) and more
# traffic, a second reload that removes the dns service (with its live UDP
# connections) and server s3 from web, a few more requests (now with veth
# offloads off: plain, fully checksummed packets instead of GSO /
# checksum-partial ones), then SIGTERM.  Between the reloads every
# nfqlbctl command, a malformed control request and an HTTP metrics scrape
# run against the daemon under valgrind too.
# Before that, `nfqlb -t` on a good and on a broken config, also under
# valgrind.  Fails on any valgrind error (invalid read/write, use of
# uninitialised values, bad free, ...), on any definitely lost block, and
# if the daemon exits non-zero.  Possibly/indirectly lost and still
# reachable blocks are listed in the log but tolerated.
#
# Children (iptables-restore/-save) are not traced: only the daemon itself
# is checked.  Valgrind slows the daemon ~20-50x, hence the longer timeouts.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, valgrind nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http, :5353/udp
#                                                           +-- s2 198.51.100.12:8080 http, :5353/udp
#                                                           +-- s3 198.51.100.13:8080 http, :5353/udp
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

command -v valgrind >/dev/null || fail "valgrind not installed (scripts/deps.sh installs it)"
[[ -x $NFQLB ]] || fail "daemon binary $NFQLB not found or not executable (build it first)"

VG_EXIT=99
VG_LOG=$TMP/valgrind.log
# shellcheck disable=SC2054 # the commas belong to --show-leak-kinds=
VG=(valgrind "--error-exitcode=$VG_EXIT" --leak-check=full
	--errors-for-leak-kinds=definite --show-leak-kinds=definite,possible
	--track-fds=no --trace-children=no --num-callers=30)
# For start_nfqlb (tests/lib/topo.sh).
NFQLB_WRAPPER="${VG[*]} --log-file=$VG_LOG"
NFQLB_START_TIMEOUT=60
NFQLB_RELOAD_TIMEOUT=30
NFQLB_STOP_TIMEOUT=60
CONF=$TMP/nfqlb.conf

# vg_check LOG WHAT — the valgrind log must say 0 errors and no definite
# leak (the exit status says so too; this names what valgrind found).
vg_check() {
	local log=$1 what=$2 summary
	[[ -s $log ]] || fail "$what: no valgrind log $log"
	summary=$(grep -E 'ERROR SUMMARY:|definitely lost:' "$log" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$log" || grep -Eq 'definitely lost: [1-9]' "$log"; then
		echo "----- $log -----" >&2
		cat "$log" >&2
		echo "-----" >&2
		fail "$what: valgrind found problems: $summary"
	fi
	log "$what: valgrind: $summary"
}

# make_conf FILE "W1 W2 W3" ["D1 D2 D3"] — web (tcp :80 -> :8080, rr) and,
# when dns weights are given, dns (udp :53 -> :5353, rr).
make_conf() {
	local file=$1 web=$2 dns=${3:-}
	# shellcheck disable=SC2086 # the weight lists are meant to split
	write_conf "$file" <<EOF
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    forward = "nat";
    $(servers_conf 8080 $web)
  }$([[ -z $dns ]] || printf ',
  {
    name = "dns";
    protocol = "udp";
    vip = "%s"; port = 53;
    scheduler = "rr";
    forward = "nat";
    %s
  }' "$VIP" "$(servers_conf 5353 $dns)")
);
EOF
}

# udp_round COUNT BASE-PORT EXPECTED — COUNT datagrams from new source ports;
# every reply must come from VIP:53; the repliers must be split as EXPECTED.
udp_round() {
	local count=$1 base=$2 expected=$3 from reply i=0
	in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count "$count" --base-port "$base" \
		--timeout 10 >"$TMP/replies.$base"
	: >"$TMP/who.$base"
	while read -r from reply; do
		[[ $from != TIMEOUT ]] || fail "datagram $i from port $((base + i)): no reply from $VIP:53"
		[[ $from == "$VIP:53" ]] || fail "datagram $i: reply from $from, want $VIP:53"
		[[ $reply =~ ^s[123]:ping$i$ ]] || fail "datagram $i: unexpected reply '$reply'"
		echo "${reply%%:*}" >>"$TMP/who.$base"
		i=$((i + 1))
	done <"$TMP/replies.$base"
	((i == count)) || fail "expected $count UDP replies, got $i"
	assert_counts "$TMP/who.$base" "$expected"
}

# ---- nfqlb -t under valgrind: a good config (exit 0), a broken one (exit 1)
NS_CFG=$NS_PREFIX-cfg
ns_add "$NS_CFG"
make_conf "$CONF" "1 1 1" "1 1 1"
rc=0
ip netns exec "$NS_CFG" "${VG[@]}" --log-file="$TMP/vg-t-good.log" "$NFQLB" -t -c "$CONF" \
	>"$TMP/t.out" 2>&1 || rc=$?
((rc == 0)) || fail "valgrind nfqlb -t on a good config: exit $rc; output: $(cat "$TMP/t.out")"
vg_check "$TMP/vg-t-good.log" "nfqlb -t (good config)"
# Valid syntax, invalid content: the daemon's own checks and their error
# paths run, not only libconfig's parser.
sed 's/scheduler = "rr";/scheduler = "nope";/' "$CONF" >"$TMP/bad.conf"
rc=0
ip netns exec "$NS_CFG" "${VG[@]}" --log-file="$TMP/vg-t-bad.log" "$NFQLB" -t -c "$TMP/bad.conf" \
	>"$TMP/t.out" 2>&1 || rc=$?
((rc == 1)) || fail "valgrind nfqlb -t on a broken config: exit $rc, want 1; output: $(cat "$TMP/t.out")"
vg_check "$TMP/vg-t-bad.log" "nfqlb -t (broken config)"

# ---- the daemon
topo_up 3
for i in 1 2 3; do
	start_http_server "$i" 8080
	start_udp_echo "$i" 5353
done

sed -i 's|^  log_level = "debug";|&\n  metrics_listen = "127.0.0.1:9469";|' "$CONF"
start_nfqlb "$CONF"
http_requests 9 >"$TMP/bodies.1"
assert_counts "$TMP/bodies.1" "s1=3 s2=3 s3=3"
udp_round 6 41000 "s1=2 s2=2 s3=2"

# Reload 1: changed weights; s3 (web) and s1 (dns) quiescent.
make_conf "$CONF" "1 1 0" "0 1 1"
reload_nfqlb
http_requests 6 >"$TMP/bodies.2"
assert_counts "$TMP/bodies.2" "s1=3 s2=3"
udp_round 4 42000 "s2=2 s3=2"

# The control socket and the metrics endpoint, every command and the
# error paths (a malformed request, a client that leaves without asking).
ctl() { in_director "$TOP/nfqlbctl" -s "$TMP/nfqlb.sock" "$@"; }
for args in "list" "list --stats --rate" "--json list --rate" "conns" "--json conns" \
	"metrics" "server web $(server_ip 1):8080 drain" "server web $(server_ip 1) enable" \
	"--json server dns $(server_ip 2):5353 weight 4" "server dns $(server_ip 2):5353 disable" \
	"zero dns" "list --zero"; do
	# shellcheck disable=SC2086 # the argument lists are meant to split
	ctl $args >/dev/null || fail "nfqlbctl $args failed under valgrind"
done
! ctl server nope "$(server_ip 1)" drain 2>/dev/null || fail "unknown service accepted"
printf 'XXXXXXXXXXXXXXXX' | in_director socat -t 5 - "UNIX-CONNECT:$TMP/nfqlb.sock" >/dev/null || true
in_director socat -u /dev/null "UNIX-CONNECT:$TMP/nfqlb.sock" || true
in_director curl -s --max-time 20 http://127.0.0.1:9469/metrics | "$PY" "$LIB/promcheck.py" - ||
	fail "metrics over HTTP under valgrind"
in_director curl -s --max-time 20 -o /dev/null http://127.0.0.1:9469/nothing || fail "HTTP 404 path"
ctl reload || fail "nfqlbctl reload under valgrind"

# Reload 2: dns removed with its live connections, s3 removed from web.
make_conf "$CONF" "1 1"
reload_nfqlb
tcp_offload off
http_requests 4 >"$TMP/bodies.3"
assert_counts "$TMP/bodies.3" "s1=2 s2=2"
rules=$(in_director iptables-save)
! grep -q -- '--dport 53' <<<"$rules" || fail "rules for the removed dns service are still there"

# stop_nfqlb, but with valgrind's report shown before the exit status is
# judged ($VG_EXIT means valgrind found errors).
stop_nfqlb_rc
vg_check "$VG_LOG" "daemon"
((NFQLB_RC == 0)) || fail "nfqlb exited with status $NFQLB_RC after SIGTERM"
log "nfqlb stopped, exit status 0"
