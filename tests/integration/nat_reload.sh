#!/bin/bash
# Config reload (SIGHUP) on a VS/NAT director.
#  a. weights change in place: an established TCP connection (echo, one line
#     every 100 ms) keeps working even though its server's weight goes to 0,
#     and new connections follow the new weights (web 1,1,1 -> 1,0,0).
#  b. a broken config (syntax error) is refused: the daemon stays up, logs the
#     file name and line, and keeps the running config.
#  c. `nfqlb -t` says FILE:LINE: for the broken config (exit 1) and accepts
#     the good one (exit 0).
#  Finally a good reload after the refused one still takes effect.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http, :9000 echo
#                                                           +-- s2 198.51.100.12:8080 http, :9000 echo
#                                                           +-- s3 198.51.100.13:8080 http, :9000 echo
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

CONF=$TMP/nfqlb.conf

# make_conf FILE "W1 W2 W3" "E1 E2 E3" [BROKEN] — web (:80 -> :8080) and
# echo (:9000 -> :9000) services, both wrr.  With BROKEN, s1's line in the
# web service has a syntax error, tagged /* BROKEN */ to find its line.
make_conf() {
	local file=$1 web=$2 echo=$3 broken=${4:-}
	# shellcheck disable=SC2086 # the weight lists are meant to split
	write_conf "$file" <<EOF
services = (
  {
    name = "web";
    protocol = "tcp";
    vip = "$VIP"; port = 80;
    scheduler = "wrr";
    forward = "nat";
    $(servers_conf 8080 $web)
  },
  {
    name = "echo";
    protocol = "tcp";
    vip = "$VIP"; port = 9000;
    scheduler = "wrr";
    forward = "nat";
    $(servers_conf 9000 $echo)
  }
);
EOF
	if [[ -n $broken ]]; then
		sed -i '0,/weight = [0-9]*;/s//weight = ; \/* BROKEN *\//' "$file"
	fi
}

topo_up 3
for i in 1 2 3; do
	start_http_server "$i" 8080
	start_tcp_echo "$i" 9000
done

make_conf "$CONF" "1 1 1" "1 1 1"
start_nfqlb "$CONF"
http_requests 6 >"$TMP/bodies.initial"
assert_counts "$TMP/bodies.initial" "s1=2 s2=2 s3=2"

# ---- a. weights change, established connection survives
start_echo_client 9000
holder=$(echo_holder 9000)
log "long-lived connection is on s$holder; reloading with its weight at 0"
echo_weights=("1" "1" "1")
echo_weights[holder - 1]=0
make_conf "$CONF" "1 0 0" "${echo_weights[*]}"
reload_nfqlb
echo_progress 10
http_requests 6 >"$TMP/bodies.reloaded"
assert_counts "$TMP/bodies.reloaded" "s1=6"

# ---- b. broken config refused, old config kept
cp "$CONF" "$TMP/good.conf"
make_conf "$CONF" "1 1 1" "1 1 1" broken
bad_line=$(grep -n "BROKEN" "$CONF" | cut -d: -f1)
[[ -n $bad_line ]] || fail "could not write the broken config"
log_mark=$(wc -l <"$NFQLB_LOG")
reload_nfqlb
nfqlb_alive || fail "nfqlb died on a reload with a broken config"
tail -n +"$((log_mark + 1))" "$NFQLB_LOG" >"$TMP/reload.log"
grep -F "$(basename "$CONF")" "$TMP/reload.log" | grep -Eq "(^|[^0-9])$bad_line([^0-9]|$)" ||
	fail "no log line naming $CONF and line $bad_line after the refused reload; got: $(cat "$TMP/reload.log")"
http_requests 6 >"$TMP/bodies.refused"
assert_counts "$TMP/bodies.refused" "s1=6"
echo_progress 5

# ---- c. -t on the broken and the good config
rc=0
in_director "$NFQLB" -t -c "$CONF" >"$TMP/t.out" 2>&1 || rc=$?
((rc == 1)) || fail "nfqlb -t on a broken config: exit $rc, want 1; output: $(cat "$TMP/t.out")"
grep -Eq "^$CONF:$bad_line: ." "$TMP/t.out" ||
	fail "nfqlb -t: no '$CONF:$bad_line: message' line; output: $(cat "$TMP/t.out")"
rc=0
in_director "$NFQLB" -t -c "$TMP/good.conf" >"$TMP/t.out" 2>&1 || rc=$?
((rc == 0)) || fail "nfqlb -t on a good config: exit $rc, want 0; output: $(cat "$TMP/t.out")"

# ---- a good reload after the refused one still works
make_conf "$CONF" "1 1 1" "1 1 1"
reload_nfqlb
http_requests 6 >"$TMP/bodies.final"
assert_counts "$TMP/bodies.final" "s1=2 s2=2 s3=2"
echo_progress 5

stop_echo_client

stop_nfqlb
