#!/bin/bash
# nfqlbctl server / reload on a VS/NAT director (checkpoint and restart:
# ckpt_corrupt.sh and ckpt_sigusr2.sh):
#  a. drain a server that holds a long-lived connection: it shows "drain"
#     with weight 0 and its remaining connection; that connection keeps
#     working, new ones go elsewhere; once it closes, the server's active
#     count falls to zero (what stays is TIME_WAIT, inactive, expiring).
#  b. drain, enable, weight N and disable change scheduling at once
#     (exact wrr sequences) and show in list.
#  c. nfqlbctl reload re-applies the file (runtime changes are replaced);
#     a broken file is refused with one line naming FILE:LINE.
#  d. errors: unknown service, unknown server, bad action, usage.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http, :9000 echo
#                                                           +-- s2 198.51.100.12:8080 http, :9000 echo
#                                                           +-- s3 198.51.100.13:8080 http, :9000 echo
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"
CONF=$TMP/nfqlb.conf

make_conf() {
	write_conf "$CONF" <<EOF
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "wrr";
    forward = "nat";
    $(servers_conf 8080 1 1 1)
  },
  {
    name = "echo";
    protocol = "tcp";
    vip = "$VIP"; port = 9000;
    scheduler = "wrr";
    forward = "nat";
    $(servers_conf 9000 1 1 1)
  }
);
EOF
}

topo_up 3
for i in 1 2 3; do
	start_http_server "$i" 8080
	start_tcp_echo "$i" 9000
done
make_conf
start_nfqlb "$CONF"

# ---- a. drain the server of a long-lived connection
echo_rounds() { cat "$TMP/echo.status" 2>/dev/null || echo 0; }
echo_rounds_at_least() { (($(echo_rounds) >= $1)); }
ip netns exec "$NS_CLIENT" "$PY" "$LIB/tcpecho_client.py" "$VIP" 9000 \
	"$TMP/echo.status" "$TMP/echo.stop" --max-seconds 60 >"$TMP/echo.log" 2>&1 &
ECHO_PID=$!
wait_until 10 echo_rounds_at_least 5 || fail "echo connection did not start: $(cat "$TMP/echo.log")"
holder=""
for i in 1 2 3; do
	if [[ $(srv_field echo "$i" active_conns) == 1 ]]; then holder=$i; fi
done
[[ -n $holder ]] || fail "no echo server shows the long-lived connection active: $(ctl list)"
log "long-lived connection on s$holder; draining it"
ctl server echo "$(server_ip "$holder"):9000" drain >"$TMP/drain.out"
grep -q "^echo: server $(server_ip "$holder"):9000: weight 0, state drain, 1 active" "$TMP/drain.out" ||
	fail "drain printed: $(cat "$TMP/drain.out")"
[[ $(srv_field echo "$holder" state) == drain && $(srv_field echo "$holder" weight) == 0 ]] ||
	fail "drained server not listed as drain/0: $(ctl list)"
ctl list | grep -Eq "^  -> $(server_ip "$holder"):9000 +Masq +0 +1 +[0-9]+ +drain$" ||
	fail "list does not show the drained server's remaining connection: $(ctl list)"
before=$(srv_field echo "$holder" conns)
for _ in 1 2 3 4; do
	in_client socat -T 2 - "TCP:$VIP:9000" <<<"hi" >/dev/null || fail "echo request failed during drain"
done
[[ $(srv_field echo "$holder" conns) == "$before" ]] || fail "drained server got new connections"
r=$(echo_rounds)
wait_until 10 echo_rounds_at_least $((r + 5)) || fail "long-lived connection stalled after drain"
touch "$TMP/echo.stop"
wait_until 5 proc_dead "$ECHO_PID" || fail "echo client did not stop"
wait "$ECHO_PID" || fail "long-lived connection broke during drain: $(cat "$TMP/echo.log")"
active_zero() { [[ $(srv_field echo "$holder" active_conns) == 0 ]]; }
wait_until 5 active_zero || fail "drained server's active connections did not fall to zero"
ctl --json conns | "$PY" -c 'import json,sys
left = [c for c in json.load(sys.stdin)["connections"] if c["server"] == sys.argv[1] and c["vport"] == 9000]
assert all(c["state"] in ("TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "FIN_WAIT") for c in left), left' \
	"$(server_ip "$holder")" || fail "drained server still has open connections"

# ---- b. scheduling follows drain / enable / weight / disable (web, wrr)
ctl server web "$(server_ip 1)" drain >/dev/null # address alone: one server there
http_requests 6 >"$TMP/b1"
assert_counts "$TMP/b1" "s2=3 s3=3"
ctl server web "$(server_ip 1):8080" enable >/dev/null
[[ $(srv_field web 1 state) == up && $(srv_field web 1 weight) == 1 ]] || fail "enable did not restore s1"
http_requests 3 >"$TMP/b2"
assert_counts "$TMP/b2" "s1=1 s2=1 s3=1"
ctl --json server web "$(server_ip 1):8080" weight 3 | "$PY" -c 'import json,sys
d = json.load(sys.stdin); assert d["weight"] == 3 and d["state"] == "up", d' || fail "weight 3: bad JSON reply"
http_requests 5 >"$TMP/b3"
assert_counts "$TMP/b3" "s1=3 s2=1 s3=1"
ctl server web "$(server_ip 2):8080" disable >/dev/null
[[ $(srv_field web 2 state) == disabled ]] || fail "disable: state is not disabled"
http_requests 4 >"$TMP/b4"
assert_counts "$TMP/b4" "s1=3 s3=1"
ctl metrics | "$PY" "$LIB/promcheck.py" - \
	--expect "nfqlb_server_state{service=\"web\",server=\"$(server_ip 2):8080\",state=\"disabled\"} 1" \
	--expect "nfqlb_server_weight{service=\"web\",server=\"$(server_ip 1):8080\"} 3" ||
	fail "metrics do not show the runtime changes"

# ---- c. reload through nfqlbctl
ctl reload
[[ $(srv_field web 1 weight) == 1 && $(srv_field web 2 state) == up ]] ||
	fail "reload did not re-apply the file: $(ctl list)"
http_requests 3 >"$TMP/c1"
assert_counts "$TMP/c1" "s1=1 s2=1 s3=1"
cp "$CONF" "$TMP/good.conf"
sed -i '0,/weight = [0-9]*;/s//weight = ; \/* BROKEN *\//' "$CONF"
bad_line=$(grep -n BROKEN "$CONF" | cut -d: -f1)
expect_fail 1 "nfqlbctl: reload refused, the running configuration stays: $CONF:$bad_line: *" ctl reload
nfqlb_alive || fail "nfqlb died on a refused reload"
cp "$TMP/good.conf" "$CONF"

# ---- d. errors
expect_fail 1 "nfqlbctl: unknown service 'nope'" ctl server nope "$(server_ip 1)" drain
expect_fail 1 "nfqlbctl: web: no server 198.51.100.99:8080" ctl server web 198.51.100.99:8080 drain
expect_fail 1 "nfqlbctl: bad server action *" ctl server web "$(server_ip 1):8080" weight 70000
expect_fail 1 "nfqlbctl: bad server action *" ctl server web "$(server_ip 1):8080" explode
expect_fail 1 "nfqlbctl: bad server address 'x:1' *" ctl server web x:1 drain
expect_fail 2 "nfqlbctl: usage: nfqlbctl server SERVICE *" ctl server web
expect_fail 2 "nfqlbctl: unknown option '--bogus' (see nfqlbctl --help)" ctl list --bogus
expect_fail 2 "nfqlbctl: conns does not take that option; *" ctl conns --stats
nfqlb_alive || fail "nfqlb died during the error cases"

stop_nfqlb
