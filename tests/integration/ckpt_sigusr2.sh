#!/bin/bash
# Hitless restart (SIGUSR2, nfqlbctl restart): the daemon re-executes itself with the same
# PID, the queue socket, the connection table and its iptables chain
# handed over.
#  - a TCP session sending a line every 50 ms (each echoed within 2 s)
#    goes through two restarts with no reset and no lost line, on the same
#    server; a new connection afterwards is scheduled elsewhere (rr starts
#    over, the table does not);
#  - the chain and its jump never leave iptables during the restart, and
#    the rules after it equal those before (adopted, not re-created);
#  - systemd's protocol: RELOADING=1, then READY=1; the PID stays;
#  - a restart with an invalid configuration is refused (SIGUSR2: logged;
#    nfqlbctl restart: its error line) and the running image goes on.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:9000 echo
#                                                           +-- s2 198.51.100.12:9000 echo
#                                                           +-- s3 198.51.100.13:9000 echo
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

CONF=$TMP/nfqlb.conf

# rules_watch — sample the director's rules until $TMP/watch.stop exists
# (at most 30 s): one line per sample, "ok" while chain and jump exist.
rules_watch() {
	local end=$((SECONDS + 30)) r
	while [[ ! -e $TMP/watch.stop ]] && ((SECONDS < end)); do
		r=$(in_director iptables-save -t raw 2>/dev/null)
		if grep -q '^:NFQLB ' <<<"$r" && grep -q -- '-A PREROUTING -j NFQLB' <<<"$r" &&
			grep -Eq -- '-A NFQLB .*--queue-(num 0|balance 0:)' <<<"$r"; then
			echo ok
		else
			echo missing
		fi
	done
}
topo_up 3
for i in 1 2 3; do start_tcp_echo "$i" 9000; done
write_conf "$CONF" <<EOF
services = (
$(service_conf echo tcp 9000 nat 9000 1 1 1)
);
EOF
start_nfqlb "$CONF"
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.before"

# rr: a first connection takes s1, so the session lands on s2
[[ $(tcp_hold 9000 0) == hello ]] || fail "first TCP connection not echoed"
wait_until 5 test -z "$(in_server 1 ss -Htn state established '( sport = :9000 )')" ||
	fail "first TCP connection did not close"
echo_client_start 9000 --interval 0.05
echo_progress 10
[[ $(echo_holders 9000) == s2 ]] || fail "session on '$(echo_holders 9000)', want s2"

rules_watch >"$TMP/watch.log" &
WATCH_PID=$!
grep -c '^RELOADING=1' "$NOTIFY_LOG" >"$TMP/reloading.before" || true
hitless_restart kill -USR2 "$NFQLB_PID"
echo_progress 10
hitless_restart ctl restart
echo_progress 20
touch "$TMP/watch.stop"
wait "$WATCH_PID" || true
samples=$(wc -l <"$TMP/watch.log")
((samples > 0)) || fail "no rule samples taken"
! grep -q missing "$TMP/watch.log" ||
	fail "the chain or its jump was missing in $(grep -c missing "$TMP/watch.log") of $samples samples during the restarts"
log "rules present in all $samples samples taken during the restarts"
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.after"
diff -u "$TMP/rules.before" "$TMP/rules.after" >&2 || fail "rules after the restarts differ from before"
((($(grep -c '^RELOADING=1' "$NOTIFY_LOG") - $(cat "$TMP/reloading.before")) == 2)) ||
	fail "expected 2 RELOADING=1 notifications: $(cat "$NOTIFY_LOG")"
grep -q "restart: handing over [1-9][0-9]* connections" "$NFQLB_LOG" || fail "no handover line in the log"
grep -q "(handed over).*connections restored" "$NFQLB_LOG" || fail "the new image restored nothing"
grep -q "queue 0: taken over" "$NFQLB_LOG" || fail "the queue was not taken over"
grep -q "chain NFQLB taken over with" "$NFQLB_LOG" || fail "the chain was not taken over"
! grep -q "chain NFQLB installed" <(sed -n '/SIGUSR2/,$p' "$NFQLB_LOG") ||
	fail "the chain was re-created after SIGUSR2"

[[ $(echo_holders 9000) == s2 ]] || fail "after the restarts the session is on '$(echo_holders 9000)', want s2"
holders=$(holders_with_new 9000)
[[ $holders == "s1 s2" ]] || fail "established connections after the restarts on '$holders', want the new one on s1 and the old on s2"

# an invalid configuration: the restart is refused, the daemon goes on
cp "$CONF" "$TMP/good.conf"
echo 'services = ( { name = ; } );' >>"$CONF"
mark=$(wc -l <"$NFQLB_LOG")
kill -USR2 "$NFQLB_PID"
log_since() { tail -n +"$((mark + 1))" "$NFQLB_LOG" | grep -q "$1"; }
wait_until 5 log_since "restart of $CONF refused" ||
	fail "no 'restart ... refused' line for an invalid configuration"
nfqlb_alive || fail "nfqlb died on a refused restart"
expect_fail 1 "nfqlbctl: restart refused, the running configuration stays: $CONF:*" ctl restart
echo_progress 10
cp "$TMP/good.conf" "$CONF"

echo_client_finish
stop_nfqlb
