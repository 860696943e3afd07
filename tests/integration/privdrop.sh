#!/bin/bash
# daemon.user: after start-up the daemon runs as an unprivileged user
# (nobody here) with CAP_NET_ADMIN and CAP_NET_RAW only, and still does its
# whole job: it balances, nfqlbctl talks to it, a reload adds a service
# (its iptables-restore child runs as that user with the two capabilities
# as ambient ones), SIGUSR2 is refused (not built for daemon.user yet),
# and on SIGTERM it removes its rules and tables.
# -t refuses an unknown user and root.
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

USER_NAME=nobody
uid=$(id -u "$USER_NAME") || fail "no user $USER_NAME on this machine"
gid=$(id -g "$USER_NAME")

topo_demo 3

# The daemon's own files live where the user may write (as /var/lib/nfqlb
# and /run/nfqlb must be, owned by the user, in real life).
chmod 755 "$TMP"
STATE=$TMP/state
install -d -o "$uid" -g "$gid" -m 700 "$STATE"
web='{
    name = "web"; protocol = "tcp"; vip = "'$VIP'"; port = 80;
    scheduler = "rr"; forward = "nat";
    '$(servers_conf 8080 1 1 1)'
  }'
dns='{
    name = "dns"; protocol = "udp"; vip = "'$VIP'"; port = 53;
    scheduler = "rr"; forward = "nat";
    '$(servers_conf 5353 1 1 1)'
  }'
conf() { # SERVICES...
	local list
	list=$(printf '%s,\n' "$@")
	cat <<EOF
daemon: {
  user = "$USER_NAME";
  control_socket = "$STATE/nfqlb.sock";
  checkpoint: { file = "$STATE/connections.ckpt"; interval = 5; };
  log_level = "debug";
};
iptables: { manage = true; chain = "NFQLB"; };
services = ( ${list%,} );
EOF
}
conf "$web" >"$TMP/nfqlb.conf"
"$NFQLB" -t -c "$TMP/nfqlb.conf" >/dev/null || fail "nfqlb -t refuses the config with user = \"$USER_NAME\""

snap_before=$(ipt_snapshot "$NS_DIRECTOR")
start_nfqlb "$TMP/nfqlb.conf"
pid=$(nfqlb_pid)
wait_until 5 grep -q "running as user $USER_NAME" "$NFQLB_LOG" || fail "no 'running as user $USER_NAME' in the log"

status=$(cat "/proc/$pid/status")
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' <<<"$status"; }
[[ $(field Uid) == "$uid $uid $uid $uid" ]] || fail "Uid: $(field Uid), expected $uid everywhere"
[[ $(field Gid) == "$gid $gid $gid $gid" ]] || fail "Gid: $(field Gid), expected $gid everywhere"
[[ $(field Groups) == "$gid" ]] || fail "supplementary groups: '$(field Groups)', expected $gid"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	[[ $(field "$c") == 0000000000003000 ]] || fail "$c: $(field "$c"), expected 3000 (CAP_NET_ADMIN, CAP_NET_RAW)"
done
[[ $(field NoNewPrivs) == 1 ]] || fail "NoNewPrivs: $(field NoNewPrivs)"
log "pid $pid runs as uid $uid gid $gid, capabilities 3000 (inh, prm, eff, bnd, amb), no_new_privs"

http_requests 6 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=2 s2=2 s3=2"
in_director "$TOP/nfqlbctl" -s "$STATE/nfqlb.sock" list >"$TMP/list" || fail "nfqlbctl list failed"
grep -q web "$TMP/list" || fail "nfqlbctl list does not show the service: $(cat "$TMP/list")"

# A reload that needs new rules: iptables-restore runs as the user.
conf "$web" "$dns" >"$TMP/nfqlb.conf"
reload_nfqlb
in_director iptables -t raw -S NFQLB | grep -q -- "--dport 53" ||
	fail "the reload did not add the dns rule: $(in_director iptables -t raw -S NFQLB)"
reply=$(in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 3 --base-port 45000)
[[ $(grep -c "^$VIP:53 s[123]:" <<<"$reply") == 3 ]] || fail "the service added by the reload does not balance: $reply"
log "reload as $USER_NAME: the dns service's rules added, UDP balanced"

# SIGUSR2 (hitless restart) is not built for daemon.user: refused, logged,
# and the daemon goes on balancing.
mark=$(wc -l <"$NFQLB_LOG")
kill -USR2 "$NFQLB_PID"
usr2_refused() { tail -n +"$((mark + 1))" "$NFQLB_LOG" | grep -q "restart refused: hitless restart is not supported with daemon.user yet"; }
wait_until 5 usr2_refused || fail "no refusal of SIGUSR2 under daemon.user"
nfqlb_alive || fail "nfqlb died on SIGUSR2 under daemon.user"
http_requests 3 >"$TMP/bodies.usr2"
assert_counts "$TMP/bodies.usr2" "s1=1 s2=1 s3=1"

stop_nfqlb
[[ $(ipt_snapshot "$NS_DIRECTOR") == "$snap_before" ]] ||
	fail "iptables-save after the stop differs from before the start: $(ipt_snapshot "$NS_DIRECTOR")"
log "SIGTERM as $USER_NAME: exit 0, rules and tables removed"

# -t refuses what cannot work.
for u in root nfqlb-no-such-user-$$; do
	sed "s/user = \"$USER_NAME\"/user = \"$u\"/" "$TMP/nfqlb.conf" >"$TMP/bad.conf"
	rc=0
	out=$("$NFQLB" -t -c "$TMP/bad.conf" 2>&1) || rc=$?
	((rc == 1)) || fail "nfqlb -t with user = \"$u\" exited $rc"
	grep -q "^$TMP/bad.conf:[0-9]*: user '$u'" <<<"$out" || fail "nfqlb -t with user = \"$u\": $out"
done
log "-t refuses user root and an unknown user"
