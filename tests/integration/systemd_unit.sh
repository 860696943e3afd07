#!/bin/bash
# The shipped unit systemd/nfqlb.service under a real systemd (252, in a
# systemd-nspawn container booted from a throw-away overlay of this machine,
# see tests/lib/container.sh) with every one of its sandboxing options, the
# daemon running in the topology's director namespace:
#
# - systemd-analyze verify is clean; systemd-analyze security's exposure
#   score is logged and must stay below 4.0;
# - systemctl start returns once READY=1 came, and at that moment ONE UDP
#   datagram (no retry) is balanced; HTTP is balanced rr; the journal has
#   each log line once;
# - the running daemon has exactly CAP_NET_ADMIN and CAP_NET_RAW (effective
#   and bounding), no_new_privs, a seccomp filter; in its mount namespace
#   /etc and /usr are read-only, /root is hidden, /var/lib/nfqlb
#   and /run/nfqlb writable, and iptables-legacy's /run/xtables.lock can be
#   created and locked;
# - the watchdog (a drop-in shortens WatchdogSec to 4 s) keeps it alive;
# - nfqlbctl reaches the daemon on the default socket /run/nfqlb/nfqlb.sock
#   (0600 root, in the unit's RuntimeDirectory) and counts the requests;
# - systemctl reload works (same PID, still balancing);
# - SIGUSR2 (hitless restart) re-executes the daemon inside the sandbox
#   (seccomp filter, capability set): same PID, no restart counted, still
#   active, a UDP flow from before keeps its server;
# - SIGKILL: Restart=on-failure starts it again, and it balances;
# - systemctl stop: result success, iptables-save as before the start;
# - the same daemon as the user nfqlb through the drop-in the docs show
#   (User=, Group=, AmbientCapabilities=): starts, balances, reloads, and
#   removes its rules on stop.
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/container.sh
source "$(dirname "$0")/../lib/container.sh"

[[ -x $NFQLB ]] || fail "daemon binary $NFQLB not found (build it first)"
UNIT=$TOP/systemd/nfqlb.service

one_datagram() { # BASE-PORT — exactly one try, one second
	in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 1 --base-port "$1" --timeout 1
}
balanced() { # BASE-PORT WHEN
	local reply
	reply=$(one_datagram "$1")
	[[ $reply == "$VIP:53 s"[123]:* ]] || ct_fail "$2: the datagram was not balanced: $reply"
}

topo_demo 3

ct_boot "$NS_DIRECTOR"

# Installed as the package does, with the daemon's default paths.
install -D -m 755 "$NFQLB" "$CT_ROOT/usr/sbin/nfqlb"
install -D -m 755 "$TOP/nfqlbctl" "$CT_ROOT/usr/sbin/nfqlbctl"
install -D -m 644 "$UNIT" "$CT_ROOT/etc/systemd/system/nfqlb.service"
for page in "$TOP"/man/*.[58]; do # the unit's Documentation=
	install -D -m 644 "$page" "$CT_ROOT/usr/share/man/man${page##*.}/${page##*/}"
done
install -D -m 644 /dev/stdin "$CT_ROOT/etc/nfqlb/nfqlb.conf" <<EOF
services = (
  {
    name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 8080 1 1 1)
  },
  {
    name = "dns"; protocol = "udp"; vip = "$VIP"; port = 53;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 5353 1 1 1)
  }
);
EOF

out=$(ct systemd-analyze verify /etc/systemd/system/nfqlb.service 2>&1) || fail "systemd-analyze verify failed: $out"
[[ -z $out ]] || fail "systemd-analyze verify complains: $out"
score=$(ct systemd-analyze security --offline=yes /etc/systemd/system/nfqlb.service 2>&1 |
	sed -n 's/.*Overall exposure level for nfqlb.service: \([0-9.]*\).*/\1/p')
[[ -n $score ]] || fail "no exposure score from systemd-analyze security"
log "systemd-analyze verify: clean; systemd-analyze security: exposure $score"
awk -v s="$score" 'BEGIN { exit !(s < 4.0) }' || fail "exposure level $score (expected below 4.0)"

# The test's only change to the unit: a short watchdog, to see it work.
install -D -m 644 /dev/stdin "$CT_ROOT/etc/systemd/system/nfqlb.service.d/test-watchdog.conf" <<'EOF'
[Service]
WatchdogSec=4s
EOF
ct systemctl daemon-reload

snap_before=$(ipt_snapshot "$NS_DIRECTOR")
timeout 30 nsenter --target "$CT_INIT" --mount --pid --ipc --uts --net -- systemctl start nfqlb.service ||
	ct_fail "systemctl start nfqlb failed"
balanced 44001 "right after systemctl start returned"
[[ $(prop ActiveState)/$(prop SubState) == active/running ]] || ct_fail "state $(prop ActiveState)/$(prop SubState)"
[[ $(prop StatusText) == balancing ]] || ct_fail "StatusText '$(prop StatusText)'"
pid=$(prop MainPID)
log "systemctl start: active, MainPID $pid, status '$(prop StatusText)'"
# stderr is the journal, and so is syslog: each line once, not twice.
n=$(ct journalctl -u nfqlb.service -o cat --no-pager | grep -c 'services on queue' || true)
((n == 1)) || ct_fail "the start-up line is in the journal $n times (expected once)"

http_requests 6 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=2 s2=2 s3=2"

# nfqlbctl on the default socket in the unit's RuntimeDirectory.
[[ $(ct stat -c '%a %U' /run/nfqlb/nfqlb.sock) == "600 root" ]] ||
	ct_fail "control socket: $(ct stat -c '%a %U' /run/nfqlb/nfqlb.sock 2>&1)"
ct nfqlbctl --json list | "$PY" -c 'import json,sys
s = {x["name"]: x for x in json.load(sys.stdin)["services"]}
assert s["web"]["conns"] == 6 and s["dns"]["conns"] >= 1, s' || ct_fail "nfqlbctl list in the container"
log "nfqlbctl: /run/nfqlb/nfqlb.sock 0600 root, list counts the 6 requests"

# What the sandbox left the daemon.
status=$(ct cat "/proc/$pid/status")
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$status"; }
[[ $(field CapEff) == 0000000000003000 ]] || ct_fail "CapEff $(field CapEff), expected CAP_NET_ADMIN|CAP_NET_RAW (3000)"
[[ $(field CapBnd) == 0000000000003000 ]] || ct_fail "CapBnd $(field CapBnd), expected 3000"
[[ $(field NoNewPrivs) == 1 ]] || ct_fail "NoNewPrivs is $(field NoNewPrivs)"
[[ $(field Seccomp) == 2 ]] || ct_fail "no seccomp filter (Seccomp: $(field Seccomp))"
in_svc() { ct nsenter --target "$pid" --mount -- "$@"; }
in_svc sh -c '! touch /etc/nfqlb/probe 2>/dev/null' || ct_fail "/etc is writable for the service"
in_svc sh -c '! touch /usr/probe 2>/dev/null' || ct_fail "/usr is writable for the service"
[[ -n $(ct ls -A /root) ]] || fail "this test needs a non-empty /root to see ProtectHome hide it"
[[ -z $(in_svc ls -A /root) ]] || ct_fail "/root is visible to the service: $(in_svc ls -A /root | head -3)"
in_svc sh -c 'touch /var/lib/nfqlb/probe && rm /var/lib/nfqlb/probe' || ct_fail "/var/lib/nfqlb is not writable for the service"
in_svc sh -c 'touch /run/nfqlb/probe && rm /run/nfqlb/probe' || ct_fail "/run/nfqlb is not writable for the service"
# iptables-legacy's lock (the file may not exist yet: it creates it).
in_svc sh -c 'exec 9>>/run/xtables.lock && flock -w 1 9' || ct_fail "/run/xtables.lock cannot be created and locked by the service"
log "sandbox: caps 3000 (net_admin, net_raw), no_new_privs, seccomp; /etc, /usr read-only, /root hidden; state and runtime dirs and the xtables lock writable"

# Watchdog: 4 s; the daemon pings every 2 s. Alive and unchanged 6 s on.
wd1=$(prop WatchdogTimestampMonotonic)
sleep 6
wd2=$(prop WatchdogTimestampMonotonic)
((wd2 > wd1)) || ct_fail "no watchdog ping in 6 s (WatchdogTimestampMonotonic $wd1 -> $wd2)"
[[ $(prop MainPID) == "$pid" && $(prop NRestarts) == 0 ]] || ct_fail "the daemon was restarted (watchdog?): MainPID $(prop MainPID), NRestarts $(prop NRestarts)"
log "watchdog: pings arrive (last $((wd2 - wd1)) us later), no restart"

ct systemctl reload nfqlb.service || ct_fail "systemctl reload failed"
[[ $(prop ActiveState) == active && $(prop MainPID) == "$pid" ]] || ct_fail "after reload: $(prop ActiveState), MainPID $(prop MainPID)"
balanced 44002 "after systemctl reload"
log "systemctl reload: same PID, balancing"

flow=$(one_datagram 44010)
[[ $flow == "$VIP:53 s"[123]:* ]] || ct_fail "UDP flow 44010 not balanced: $flow"
ct systemctl kill -s USR2 nfqlb.service || ct_fail "systemctl kill -s USR2 failed"
reexecuted() { ct journalctl -u nfqlb.service --no-pager | grep -q "queue 0: taken over from the previous image"; }
wait_until 10 reexecuted || ct_fail "no re-execution within 10 s of SIGUSR2"
wait_until 5 test "$(prop StatusText)" = balancing || ct_fail "status after SIGUSR2: $(prop StatusText)"
[[ $(prop ActiveState) == active && $(prop MainPID) == "$pid" && $(prop NRestarts) == 0 ]] ||
	ct_fail "after SIGUSR2: $(prop ActiveState), MainPID $(prop MainPID), NRestarts $(prop NRestarts)"
[[ $(one_datagram 44010) == "$flow" ]] || ct_fail "UDP flow 44010 changed server across SIGUSR2"
balanced 44004 "after SIGUSR2"
log "SIGUSR2: re-executed in place (PID $pid), flow kept, balancing"

ct kill -KILL "$pid"
restarted() { [[ $(prop NRestarts) == 1 && $(prop ActiveState) == active && $(prop MainPID) != "$pid" ]]; }
wait_until 20 restarted || ct_fail "no restart after SIGKILL: NRestarts $(prop NRestarts), $(prop ActiveState)"
balanced 44003 "after the restart that followed SIGKILL"
log "SIGKILL: restarted (Restart=on-failure) as PID $(prop MainPID), balancing"

ct systemctl stop nfqlb.service || ct_fail "systemctl stop failed"
[[ $(prop Result) == success ]] || ct_fail "stop result $(prop Result)"
# Rules and user chains as before the first start.  (Empty tables that the
# SIGKILLed instance made iptables-nft create stay: the instance started
# after it found them existing and cannot know it made them.)
rules() { grep -E '^(-A|:[^ ]+ -)' <<<"$1" || true; }
[[ $(rules "$(ipt_snapshot "$NS_DIRECTOR")") == "$(rules "$snap_before")" ]] ||
	ct_fail "rules after systemctl stop differ from before the start: $(ipt_snapshot "$NS_DIRECTOR")"
log "systemctl stop: success, rules and chains removed"

# As the user nfqlb, with the drop-in README.md and nfqlb(8) document.
ct useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nfqlb ||
	fail "useradd nfqlb in the container failed"
nfqlb_uid=$(ct id -u nfqlb)

# daemon.user cannot work under the shipped unit (no CAP_SETUID in its
# bounding set): the start fails, says what to do instead, leaves no rule.
cp "$CT_ROOT/etc/nfqlb/nfqlb.conf" "$TMP/root.conf"
{ echo 'daemon: { user = "nfqlb"; };'; cat "$TMP/root.conf"; } >"$CT_ROOT/etc/nfqlb/nfqlb.conf"
if timeout 30 nsenter --target "$CT_INIT" --mount --pid --ipc --uts --net -- systemctl start nfqlb.service 2>/dev/null; then
	ct_fail "daemon.user under the shipped unit started"
fi
ct systemctl stop nfqlb.service 2>/dev/null || true
ct systemctl reset-failed nfqlb.service 2>/dev/null || true
ct journalctl -u nfqlb.service -o cat --no-pager | grep -q "use User= and AmbientCapabilities= in the unit instead" ||
	ct_fail "no hint to use User= in the journal after daemon.user failed under the unit"
[[ $(rules "$(ipt_snapshot "$NS_DIRECTOR")") == "$(rules "$snap_before")" ]] ||
	ct_fail "rules left after the failed start with daemon.user: $(ipt_snapshot "$NS_DIRECTOR")"
cp "$TMP/root.conf" "$CT_ROOT/etc/nfqlb/nfqlb.conf"
log "daemon.user under the shipped unit: start refused with the hint to use User=, no rule left"
install -D -m 644 /dev/stdin "$CT_ROOT/etc/systemd/system/nfqlb.service.d/user.conf" <<'EOF'
[Service]
User=nfqlb
Group=nfqlb
AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW
EOF
ct systemctl daemon-reload
timeout 30 nsenter --target "$CT_INIT" --mount --pid --ipc --uts --net -- systemctl start nfqlb.service ||
	ct_fail "systemctl start nfqlb as User=nfqlb failed"
balanced 44004 "as User=nfqlb, right after systemctl start returned"
pid=$(prop MainPID)
status=$(ct cat "/proc/$pid/status")
[[ $(field Uid) == "$nfqlb_uid" ]] || ct_fail "User=nfqlb: the daemon runs as uid $(field Uid), not $nfqlb_uid"
[[ $(field CapEff) == 0000000000003000 && $(field CapAmb) == 0000000000003000 ]] ||
	ct_fail "User=nfqlb: CapEff $(field CapEff), CapAmb $(field CapAmb), expected 3000"
ct systemctl reload nfqlb.service || ct_fail "systemctl reload as User=nfqlb failed"
balanced 44005 "as User=nfqlb, after systemctl reload"
ct systemctl stop nfqlb.service || ct_fail "systemctl stop as User=nfqlb failed"
[[ $(prop Result) == success ]] || ct_fail "stop result as User=nfqlb: $(prop Result)"
[[ $(rules "$(ipt_snapshot "$NS_DIRECTOR")") == "$(rules "$snap_before")" ]] ||
	ct_fail "rules left after systemctl stop as User=nfqlb: $(ipt_snapshot "$NS_DIRECTOR")"
log "User=nfqlb + AmbientCapabilities: uid $nfqlb_uid, caps 3000, balancing, reload, stop with the rules removed"
