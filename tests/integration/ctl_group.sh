#!/bin/bash
# daemon.control_group: the control socket is 0660 and belongs to the group;
# a member (here the "nobody" user, whose group is Debian's "nogroup", and
# a process holding it as a supplementary group) may use nfqlbctl, others
# may not: the file mode stops them, and when the mode
# is opened up the daemon's SO_PEERCRED check still refuses them.  An
# unknown group is a config error naming its line.  (No group is created:
# the test uses the one Debian ships.)
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --- s1 198.51.100.11:8080
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

getent group nogroup >/dev/null || fail "no group 'nogroup' on this system"
getent passwd nobody | grep -q ':65534:65534:' || fail "user nobody is not 65534:65534 here"

# as_user UID GID ARGS... — nfqlbctl as another user with only that group
as_user() {
	local uid=$1 gid=$2
	shift 2
	in_director setpriv --reuid="$uid" --regid="$gid" --clear-groups "$CTL" -s "$SOCK" "$@"
}

topo_up 1
start_http_server 1 8080
write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 8080 1)
  }
);
EOF
sed -i 's|^  log_level = "debug";|&\n  control_group = "nogroup";|' "$TMP/nfqlb.conf"

sed 's/control_group = "nogroup"/control_group = "no-such-group-x"/' "$TMP/nfqlb.conf" >"$TMP/bad.conf"
line=$(grep -n no-such-group-x "$TMP/bad.conf" | cut -d: -f1)
rc=0
"$NFQLB" -t -c "$TMP/bad.conf" >"$TMP/t.out" 2>&1 || rc=$?
if ((rc != 1)) || ! grep -q "^$TMP/bad.conf:$line: control_group 'no-such-group-x': no such group" "$TMP/t.out"; then
	fail "nfqlb -t with an unknown group: exit $rc, $(cat "$TMP/t.out")"
fi

start_nfqlb "$TMP/nfqlb.conf"
[[ $(stat -c '%a %U %G' "$SOCK") == "660 root nogroup" ]] ||
	fail "socket is $(stat -c '%a %U %G' "$SOCK"), want 660 root nogroup"
chmod 0711 "$TMP" # let other users reach the socket inside the test's dir

http_requests 2 >/dev/null
as_user 65534 65534 --json list | json_py 'assert d["services"][0]["conns"] == 2' ||
	fail "a member of the control group cannot list"
as_user 65534 65534 server web "$(server_ip 1)" drain >/dev/null ||
	fail "a member of the control group cannot drain"
[[ $(srv_field web 1 state) == drain ]] || fail "the member's drain did not apply"
# a supplementary member (primary group daemon, 1) is served too
in_director setpriv --reuid=65533 --regid=1 --groups=65534 "$CTL" -s "$SOCK" list >/dev/null ||
	fail "a supplementary member of the control group cannot list"
expect_fail 3 "nfqlbctl: cannot connect to $SOCK: Permission denied (root or the control group only)" \
	as_user 65533 1 list
chmod 0666 "$SOCK"
expect_fail 1 "nfqlbctl: permission denied" as_user 65533 1 list
chmod 0660 "$SOCK"
chmod 0700 "$TMP"
grep -q "uid 65533 gid 1 refused" "$NFQLB_LOG" || fail "the refused peer is not logged"

stop_nfqlb
