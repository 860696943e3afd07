#!/bin/bash
# nfqlbctl and the counters, on a VS/NAT director with three HTTP servers:
#  a. with no daemon: a clear one-line error (exit 3); an unknown command
#     gives SPEC's exact line (exit 2); --json goes before or after.
#  b. the control socket is 0600, owned by root; another user cannot use it
#     (file mode), nor pass the daemon's SO_PEERCRED check once the mode
#     is opened up.
#  c. N requests -> N connections; packets and bytes per direction match
#     what curl sent and received within the IP+TCP headers' margin
#     (40..60 bytes a packet); servers sum to their service.
#  d. list, list --stats (human) agree with --json list; conns and
#     --json conns list the same flows, as many as list's active+inactive.
#  e. rates: cps and pps above 0 while traffic runs (2 s estimator).
#  f. metrics (nfqlbctl and HTTP on metrics_listen) pass a strict
#     exposition-format parser and hold the same counts; zero resets.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080
#                                                           +-- s3 198.51.100.13:8080
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"
N=30

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done
single_service web tcp 80 rr nat 8080 1 1 1 | write_conf "$TMP/nfqlb.conf"
sed -i 's|^  log_level = "debug";|&\n  metrics_listen = "127.0.0.1:9469";|' "$TMP/nfqlb.conf"

# ---- a. no daemon, unknown command
expect_fail 3 "nfqlbctl: cannot connect to $SOCK: No such file or directory (is nfqlb running?)" ctl list
expect_fail 2 "nfqlbctl: unknown command 'x' (see nfqlbctl --help)" ctl x
expect_fail 2 "nfqlbctl: unknown command 'x' (see nfqlbctl --help)" ctl --json x
"$CTL" --help | grep -q "server SERVICE ADDRESS\[:PORT\] weight N | drain | enable | disable" ||
	fail "--help does not show the server command"

start_nfqlb "$TMP/nfqlb.conf"

# ---- b. socket rights
[[ $(stat -c '%a %U' "$SOCK") == "600 root" ]] || fail "socket is $(stat -c '%a %U' "$SOCK"), want 600 root"
expect_fail 3 "nfqlbctl: cannot connect to $SOCK: Permission denied (root or the control group only)" \
	in_director setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$SOCK" list
chmod 0711 "$TMP" # the temp dir would stop the user before the socket
expect_fail 3 "nfqlbctl: cannot connect to $SOCK: Permission denied (root or the control group only)" \
	in_director setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$SOCK" list
chmod 0666 "$SOCK"
expect_fail 1 "nfqlbctl: permission denied" \
	in_director setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$SOCK" list
chmod 0600 "$SOCK"
chmod 0700 "$TMP"
grep -q "uid 65534 gid 65534 refused" "$NFQLB_LOG" || fail "the refused peer is not logged"

# ---- c. counters match the traffic
req_bytes=0 resp_bytes=0
for ((i = 0; i < N; i++)); do
	read -r rq hd dl < <(in_client curl -s -o /dev/null --max-time 5 \
		-w '%{size_request} %{size_header} %{size_download}\n' "http://$VIP/")
	((dl > 0)) || fail "request $i failed"
	req_bytes=$((req_bytes + rq))
	resp_bytes=$((resp_bytes + hd + dl))
done
log "curl sent $req_bytes bytes of requests, got $resp_bytes bytes of responses"
ctl --json list >"$TMP/list.json"
json_py '
s = d["services"][0]
assert s["name"] == "web" and s["protocol"] == "tcp" and s["vip"] == "'"$VIP"'", s
assert s["port"] == 80 and s["scheduler"] == "rr" and s["forward"] == "nat", s
assert s["conns"] == '"$N"', ("conns", s["conns"])
assert [x["conns"] for x in s["servers"]] == [10, 10, 10], s["servers"]
for k in ("conns", "in_packets", "out_packets", "in_bytes", "out_bytes", "active_conns", "inactive_conns"):
    assert s[k] == sum(x[k] for x in s["servers"]), k
for x in s["servers"]:
    assert x["state"] == "up" and x["weight"] == 1, x
def within(bytes_, pkts, payload, what):
    lo, hi = bytes_ - 60 * pkts, bytes_ - 40 * pkts
    assert lo <= payload <= hi, (what, bytes_, pkts, payload)
within(s["in_bytes"], s["in_packets"], '"$req_bytes"', "in")
within(s["out_bytes"], s["out_packets"], '"$resp_bytes"', "out")
assert s["in_packets"] >= 4 * '"$N"' and s["out_packets"] >= 3 * '"$N"', s
assert "no_server" in d["drops"], d
' <"$TMP/list.json" || fail "list --json does not match the traffic: $(cat "$TMP/list.json")"
# --json after the command gives the same
ctl list --json | json_py 'assert d["services"][0]["conns"] == '"$N"'' || fail "list --json (after) differs"

# ---- d. human tables agree with JSON
ctl list >"$TMP/list.txt"
grep -Eq "^TCP  $VIP:80 rr web$" "$TMP/list.txt" || fail "list: no service line: $(cat "$TMP/list.txt")"
for i in 1 2 3; do
	grep -Eq "^  -> $(server_ip "$i"):8080 +Masq +1 +[0-9]+ +[0-9]+ +up$" "$TMP/list.txt" ||
		fail "list: no line for s$i: $(cat "$TMP/list.txt")"
done
# Late ACKs of the closed connections may move the counters between two
# reads: compare a table with the JSON read right after it, until they agree.
stats_match() {
	local conns inp outp inb outb
	ctl list --stats >"$TMP/stats.txt"
	ctl --json list >"$TMP/list.now.json"
	read -r _ _ conns inp outp inb outb < <(grep "^TCP  $VIP:80 " "$TMP/stats.txt")
	json_py 's = d["services"][0]; assert [s["conns"], s["in_packets"], s["out_packets"], s["in_bytes"], s["out_bytes"]] == ['"$conns,$inp,$outp,$inb,$outb"'], s' \
		<"$TMP/list.now.json"
}
wait_until 5 stats_match || fail "list --stats differs from --json list: $(cat "$TMP/stats.txt")"
grep -q "^Dropped packets: .*no_server 0" "$TMP/stats.txt" || fail "list --stats: no drop counters"

ctl --json conns >"$TMP/conns.json"
ctl conns >"$TMP/conns.txt"
ctl --json list >"$TMP/list2.json"
"$PY" - "$TMP/conns.json" "$TMP/list2.json" "$TMP/conns.txt" <<'PYEOF' || fail "conns and list disagree"
import json, sys
conns = json.load(open(sys.argv[1]))["connections"]
svc = json.load(open(sys.argv[2]))["services"][0]
lines = open(sys.argv[3]).read().splitlines()
keys = {"protocol", "client", "client_port", "vip", "vport", "server", "server_port", "forward", "state", "expires"}
for c in conns:
    assert keys <= set(c), c
    assert c["protocol"] == "tcp" and c["client"] == "192.0.2.2" and c["vip"] == "203.0.113.10" and c["vport"] == 80, c
    assert c["forward"] == "nat" and isinstance(c["expires"], int) and 0 <= c["expires"] <= 900, c
assert len(conns) == svc["active_conns"] + svc["inactive_conns"] == 30, (len(conns), svc)
assert len(lines) == 2 + len(conns), lines[:3]
txt = {(l.split()[3], l.split()[5]) for l in lines[2:]}
js = {("%s:%d" % (c["client"], c["client_port"]), "%s:%d" % (c["server"], c["server_port"])) for c in conns}
assert txt == js, (sorted(txt)[:3], sorted(js)[:3])
per = {}
for c in conns:
    per[c["server"]] = per.get(c["server"], 0) + 1
assert sorted(per.values()) == [10, 10, 10], per
PYEOF

# ---- e. rates while traffic runs (the estimator samples every 2 s)
end=$(($(now_ms) + 5000))
while (($(now_ms) < end)); do http_requests 1 >/dev/null; done
ctl --json list --rate | json_py '
s = d["services"][0]
assert s["cps"] > 0 and s["in_pps"] > 0 and s["out_pps"] > 0 and s["in_bps"] > 0, s
assert all("cps" in x for x in s["servers"]), s' || fail "no rates: $(ctl --json list --rate)"
ctl list --rate | grep -q "CPS    InPPS   OutPPS    InBPS   OutBPS" || fail "list --rate has no rate header"

# ---- f. metrics, over the socket and over HTTP
total=$(ctl --json list | json_py 'print(d["services"][0]["conns"])')
ctl metrics >"$TMP/metrics.txt"
"$PY" "$LIB/promcheck.py" "$TMP/metrics.txt" \
	--expect "nfqlb_service_connections_total{service=\"web\"} $total" \
	--expect "nfqlb_server_state{service=\"web\",server=\"$(server_ip 1):8080\",state=\"up\"} 1" \
	--expect 'nfqlb_packets_dropped_total{cause="no_server"} 0' ||
	fail "nfqlbctl metrics: $(head -n 20 "$TMP/metrics.txt")"
in_director curl -s -D "$TMP/http.head" -o "$TMP/http.txt" --max-time 5 http://127.0.0.1:9469/metrics ||
	fail "no HTTP metrics on 127.0.0.1:9469"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$TMP/http.head" || fail "HTTP metrics: $(cat "$TMP/http.head")"
"$PY" "$LIB/promcheck.py" "$TMP/http.txt" --expect "nfqlb_service_connections_total{service=\"web\"} $total" ||
	fail "HTTP metrics do not parse"
code=$(in_director curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9469/)
[[ $code == 404 ]] || fail "GET / gave $code, want 404"
code=$(in_director curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST http://127.0.0.1:9469/metrics)
[[ $code == 405 ]] || fail "POST /metrics gave $code, want 405"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TMP/http.txt" || fail "promtool check metrics failed"
fi

ctl zero
# A late ACK or FIN of the earlier connections may still be counted after
# the reset: new connections may not, and bytes only a packet or two.
ctl --json list | json_py 's = d["services"][0]; assert s["conns"] == 0 and s["in_bytes"] < 500 and all(x["conns"] == 0 for x in s["servers"]), s' ||
	fail "zero did not reset the counters"
http_requests 3 >/dev/null
ctl --json list --zero | json_py 'assert d["services"][0]["conns"] == 3' || fail "list --zero: not the counts before zeroing"
ctl --json list | json_py 'assert d["services"][0]["conns"] == 0' || fail "list --zero did not zero"

stop_nfqlb
[[ ! -e $SOCK ]] || fail "the control socket was left behind after stop"
