#!/bin/bash
# The health engine under valgrind (memcheck): http checks (with alpha, so
# the daemon must see them pass), an exec check (posix_spawn of /bin/sh
# from under valgrind), a server going down on a 500, a reload that removes
# the server whose exec check is running (its process group is killed, its
# checker freed) and changes another server's check, then SIGTERM with
# checkers still active.  Fails on any valgrind error or definitely lost
# block (valgrind's exit status) and on a non-zero exit.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, valgrind nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080
#                                                           +-- s3 198.51.100.13:8080 (exec check)
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

command -v valgrind >/dev/null || fail "valgrind not installed (scripts/deps.sh installs it)"
VG_EXIT=99
VG_LOG=$TMP/valgrind.log
NFQLB_WRAPPER="valgrind --error-exitcode=$VG_EXIT --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no --trace-children=no --num-callers=30 --log-file=$VG_LOG"
NFQLB_START_TIMEOUT=60
NFQLB_RELOAD_TIMEOUT=30
NFQLB_STOP_TIMEOUT=60
WAIT=60
CONF=$TMP/nfqlb.conf

# make_conf FILE S1-CHECK N-SERVERS — web over s1..sN; s3 runs an exec
# check that takes 3 s (so a reload finds it running).
make_conf() {
	local s3=""
	(($3 < 3)) || s3=",
      { address = \"$(server_ip 3)\"; port = 8080;
        health: { type = \"exec\"; command = \"sleep 3; true\"; }; }"
	write_conf "$1" <<EOF
services = (
  {
    name = "web";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    alpha = true;
    servers = (
      { address = "$(server_ip 1)"; port = 8080; health: { $2 }; },
      { address = "$(server_ip 2)"; port = 8080; }$s3
    );
    health: { type = "http"; path = "/health"; expect_body = "healthy";
              interval = 1; timeout = 10; rise = 1; fall = 2; };
  }
);
EOF
}

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done
make_conf "$CONF" 'type = "http";' 3
start_nfqlb "$CONF"
for i in 1 2 3; do wait_log $WAIT 1 "web: server $(server_ip "$i"):8080: up"; done
log "all three came up under valgrind (http and exec checks)"

echo 500 >"$(health_file 2 8080)"
wait_log $WAIT 1 "web: server $(server_ip 2):8080: down (http: status 500, expected 200)"
http_requests 4 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=2 s3=2"

make_conf "$CONF" 'type = "tcp";' 2
reload_nfqlb
wait_log $WAIT 1 "web: server $(server_ip 1):8080: health check changed, now tcp"
sleep 2 # a few tcp and http checks more

stop_nfqlb_rc
summary=$(grep -E 'ERROR SUMMARY:|definitely lost:' "$VG_LOG" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')
((NFQLB_RC == 0)) || { cat "$VG_LOG" >&2; fail "nfqlb under valgrind exited with $NFQLB_RC: $summary"; }
grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG" || { cat "$VG_LOG" >&2; fail "valgrind: $summary"; }
log "valgrind: $summary"
