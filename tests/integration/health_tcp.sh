#!/bin/bash
# Health checks, type tcp (interval 1 s, timeout 1 s, rise 2, fall 2):
#  a. the checks' own traffic (director -> RIP:8080) is not diverted by the
#     daemon's rules: its NFQUEUE rules count no packet while only checks run;
#  b. stopping s2's listener marks it down within fall*interval + timeout
#     (plus a margin), logged once as "down (connect: Connection refused)",
#     and it gets no new connections; nfqlbctl list, --json list and the
#     metrics show it "down";
#  c. a reload keeps its state (still down, no new connections);
#  d. starting the listener again brings it back within rise*interval +
#     timeout (plus a margin), and it takes its share again.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080
#                                                           +-- s3 198.51.100.13:8080
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

INTERVAL=1 TIMEOUT=1 RISE=2 FALL=2
MARGIN=2 # seconds for a loaded machine
S2="web: server $(server_ip 2):8080"

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done

write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    forward = "nat";
    $(servers_conf 8080 1 1 1)
    health: { type = "tcp"; interval = $INTERVAL; timeout = $TIMEOUT;
              rise = $RISE; fall = $FALL; };
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"

# ---- a. checks only: three rounds, and no packet reached our queue rules
sleep 3
queued=$(in_director iptables-save -c -t raw; in_director iptables-save -c -t mangle)
grep -E -- '-j NFQUEUE' <<<"$queued" | grep -vq '^\[0:0\]' &&
	fail "health checks went through the daemon's NFQUEUE rules: $queued"
grep -q -- "--dport 80 -j NFQUEUE" <<<"$queued" && grep -q -- "--sport 8080 -j NFQUEUE" <<<"$queued" ||
	fail "the service's NFQUEUE rules are missing: $queued"
log "3 s of health checks, NFQUEUE rules untouched"
(($(log_count ": down (") == 0)) || fail "a server went down with every listener up"

http_requests 30 >"$TMP/bodies.up"
assert_counts "$TMP/bodies.up" "s1=10 s2=10 s3=10"

# ---- b. s2's listener stops
start=$(now_ms)
stop_http_server 2 8080
ms=$(wait_log_within $((FALL * INTERVAL + TIMEOUT + MARGIN)) "$start" \
	"$S2: down (connect: Connection refused)")
log "s2 marked down after $ms ms"
http_requests 20 >"$TMP/bodies.down"
assert_counts "$TMP/bodies.down" "s1=10 s3=10"
(($(log_count "$S2: down") == 1)) || fail "s2's down logged $(log_count "$S2: down") times, want once"
# nfqlbctl shows it: list, --json list and the metrics
ctl list | grep -Eq "^  -> $(server_ip 2):8080 +Masq +1 +[0-9]+ +[0-9]+ +down$" ||
	fail "nfqlbctl list does not show s2 down: $(ctl list)"
[[ $(srv_field web 2 state) == down && $(srv_field web 1 state) == up ]] ||
	fail "--json list: s2 $(srv_field web 2 state), s1 $(srv_field web 1 state)"
# and why, without the log: the check and the reason
[[ $(srv_field web 2 check)/$(srv_field web 2 reason) == "tcp/connect: Connection refused" ]] ||
	fail "--json list: s2's check/reason is '$(srv_field web 2 check)/$(srv_field web 2 reason)'"
[[ $(srv_field web 1 check)/$(srv_field web 1 reason) == tcp/ ]] ||
	fail "--json list: s1's check/reason is '$(srv_field web 1 check)/$(srv_field web 1 reason)'"
ctl metrics | "$PY" "$LIB/promcheck.py" - \
	--expect "nfqlb_server_state{service=\"web\",server=\"$(server_ip 2):8080\",state=\"down\"} 1" \
	--expect "nfqlb_server_state{service=\"web\",server=\"$(server_ip 2):8080\",state=\"up\"} 0" ||
	fail "metrics do not show s2 down"

# ---- c. a reload keeps the state of the servers that stay
reload_nfqlb
http_requests 10 >"$TMP/bodies.reload"
assert_counts "$TMP/bodies.reload" "s1=5 s3=5"
(($(log_count "$S2: up") == 0)) || fail "s2 came up although nothing listens"

# ---- d. the listener is back
start=$(now_ms)
start_http_server 2 8080
ms=$(wait_log_within $((RISE * INTERVAL + TIMEOUT + MARGIN)) "$start" "$S2: up")
log "s2 up again after $ms ms"
http_requests 30 >"$TMP/bodies.back"
assert_counts "$TMP/bodies.back" "s1=10 s2=10 s3=10"
[[ $(srv_field web 2 state) == up ]] || fail "--json list: s2 is $(srv_field web 2 state) after it came back"

stop_nfqlb
