#!/bin/bash
# Readiness as systemd sees it, without systemd: the unit's ExecStart command
# line (systemd/nfqlb.service) run with a $NOTIFY_SOCKET this test listens on.
#
# - READY=1 comes only when the service already works: the listener, on
#   receiving READY=1, sends ONE UDP datagram from the client to the VIP
#   (no retry, 1 s) before it reads anything else, and it must be answered
#   by a real server through the director;
# - with $WATCHDOG_USEC = 2 s, WATCHDOG=1 pings follow, never 2 s apart;
# - SIGHUP: RELOADING=1, then READY=1 (probed again);
# - SIGTERM: STOPPING=1 (the last message), exit 0, the rules are gone.
# Then without -f (daemonised): the starting process exits 0 only once the
# daemon works (probed right after), the daemon is detached (own session,
# stdio on /dev/null); a second instance on the same queue fails with exit 1
# and leaves the first one's rules and traffic alone.
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

[[ -x $NFQLB ]] || fail "daemon binary $NFQLB not found (build it first)"
topo_up 3
for i in 1 2 3; do start_udp_echo "$i" 5353; done
topo_settle
write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "dns"; protocol = "udp";
    vip = "$VIP"; port = 53;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 5353 1 1 1)
  }
);
EOF

# The unit's ExecStart, with this build's binary for /usr/sbin/nfqlb and the
# test's configuration added.
exec_start=$(sed -n 's/^ExecStart=//p' "$TOP/systemd/nfqlb.service")
[[ $exec_start == "/usr/sbin/nfqlb -f" ]] || fail "unexpected ExecStart in the unit: '$exec_start'"
read -ra cmd <<<"${exec_start/#\/usr\/sbin\/nfqlb/$NFQLB}"
cmd+=(-c "$TMP/nfqlb.conf")

# The probe: one datagram from its own source port, one second to answer.
probe="ip netns exec $NS_CLIENT $PY $LIB/udpclient.py $VIP 53 --count 1 --base-port \$((42000 + {n})) --timeout 1"
NLOG=$TMP/notify-probe.log
: >"$NLOG"
"$PY" "$LIB/notify_listen.py" --timestamps --on-ready "$probe" "$TMP/probe.sock" "$NLOG" &
wait_until 5 test -S "$TMP/probe.sock" || fail "notify listener did not start"

snap_before=$(ipt_snapshot "$NS_DIRECTOR")
log "running: ${cmd[*]} (WATCHDOG_USEC=2000000)"
NOTIFY_SOCKET=$TMP/probe.sock WATCHDOG_USEC=2000000 \
	ip netns exec "$NS_DIRECTOR" "${cmd[@]}" >>"$NFQLB_LOG" 2>&1 &
NFQLB_PID=$!

has() { grep -Eq "$1" "$NLOG"; }
wait_until 10 has '^[0-9]+ PROBE 1 ' || fail "no READY=1 within 10 s: $(cat "$NLOG")"
grep -Eq "^[0-9]+ PROBE 1 rc=0 $VIP:53 s[123]:" "$NLOG" ||
	fail "at READY=1 the service did not work yet: $(grep PROBE "$NLOG")"
log "READY=1, and the datagram sent at that moment was balanced: $(grep 'PROBE 1' "$NLOG")"

# Watchdog: about every 1 s; systemd would kill us after 2 s of silence.
ready_ms=$(awk '$2 == "READY=1" { print $1; exit }' "$NLOG")
sleep 4
pings=$(awk -v t="$ready_ms" '$2 == "WATCHDOG=1" && $1 >= t' "$NLOG" | wc -l)
((pings >= 3)) || fail "only $pings WATCHDOG=1 in 4 s after READY=1 (expected about 4)"
max_gap=$(awk '$2 == "WATCHDOG=1" { if (p) { g = $1 - p; if (g > m) m = g } p = $1 } END { print m + 0 }' "$NLOG")
((max_gap < 2000)) || fail "WATCHDOG=1 pings $max_gap ms apart, the watchdog period is 2000 ms"
log "$pings WATCHDOG=1 pings in 4 s, at most $max_gap ms apart"

# Reload: RELOADING=1, then READY=1, and the service works at that moment.
kill -HUP "$NFQLB_PID"
wait_until 10 has '^[0-9]+ PROBE 2 ' || fail "no READY=1 after SIGHUP: $(tail -5 "$NLOG")"
awk '$2 == "RELOADING=1" { r = NR } $2 == "PROBE" && $3 == 2 { p = NR } END { exit !(r && r < p) }' "$NLOG" ||
	fail "no RELOADING=1 before the READY=1 of the reload"
grep -Eq "^[0-9]+ PROBE 2 rc=0 $VIP:53 s[123]:" "$NLOG" ||
	fail "after the reload's READY=1 the service did not work: $(grep 'PROBE 2' "$NLOG")"
log "SIGHUP: RELOADING=1, READY=1, balanced"

# Stop.
kill -TERM "$NFQLB_PID"
wait_until 10 proc_dead "$NFQLB_PID" || fail "no exit within 10 s of SIGTERM"
rc=0
wait "$NFQLB_PID" || rc=$?
NFQLB_PID=""
((rc == 0)) || fail "exit status $rc after SIGTERM"
wait_until 2 has '^[0-9]+ STOPPING=1$' || fail "no STOPPING=1 on SIGTERM"
[[ $(tail -n 1 "$NLOG") =~ ^[0-9]+\ STOPPING=1$ ]] || fail "messages after STOPPING=1: $(tail -3 "$NLOG")"
[[ $(ipt_snapshot "$NS_DIRECTOR") == "$snap_before" ]] || fail "iptables-save after the stop differs from before"
log "SIGTERM: STOPPING=1, exit 0, rules removed"

# ---------------------------------------------------------- without -f
one_datagram() { # BASE-PORT — exactly one try, one second
	in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 1 --base-port "$1" --timeout 1
}
rc=0
ip netns exec "$NS_DIRECTOR" "$NFQLB" -c "$TMP/nfqlb.conf" >"$TMP/daemon.out" 2>&1 || rc=$?
((rc == 0)) || fail "nfqlb (daemonising) exited $rc: $(cat "$TMP/daemon.out")"
reply=$(one_datagram 43001)
[[ $reply == "$VIP:53 s"[123]:* ]] || fail "right after the starting process exited 0, the service did not work: $reply"
pids=$(ip netns pids "$NS_DIRECTOR")
[[ $(wc -w <<<"$pids") == 1 ]] || fail "expected one daemon process in the director, found: $pids"
NFQLB_PID=$pids
sid=$(ps -o sid= -p "$NFQLB_PID" | tr -d ' ')
((sid == NFQLB_PID)) || fail "the daemon is not a session leader (sid $sid, pid $NFQLB_PID)"
for fd in 0 1 2; do
	[[ $(readlink "/proc/$NFQLB_PID/fd/$fd") == /dev/null ]] ||
		fail "daemon fd $fd is $(readlink "/proc/$NFQLB_PID/fd/$fd"), not /dev/null"
done
log "daemonised: exit 0 once working, pid $NFQLB_PID detached"

# A second daemon on the same queue cannot bind it: exit 1, nothing touched.
snap_running=$(ipt_snapshot "$NS_DIRECTOR")
rc=0
timeout 10 ip netns exec "$NS_DIRECTOR" "$NFQLB" -c "$TMP/nfqlb.conf" >"$TMP/second.out" 2>&1 || rc=$?
((rc == 1)) || fail "a second daemon on the same queue exited $rc, expected 1"
[[ $(ipt_snapshot "$NS_DIRECTOR") == "$snap_running" ]] || fail "the failed second start changed the rules"
reply=$(one_datagram 43002)
[[ $reply == "$VIP:53 s"[123]:* ]] || fail "after the failed second start the first daemon does not balance: $reply"
log "second instance: exit 1, first one untouched"

kill -TERM "$NFQLB_PID"
wait_until 10 proc_dead "$NFQLB_PID" || fail "the daemonised nfqlb did not exit on SIGTERM"
NFQLB_PID=""
[[ $(ipt_snapshot "$NS_DIRECTOR") == "$snap_before" ]] || fail "rules left after stopping the daemonised nfqlb"
log "daemonised nfqlb stopped, rules removed"
