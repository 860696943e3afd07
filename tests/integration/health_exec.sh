#!/bin/bash
# Health checks, type exec: a script run as "COMMAND ADDRESS PORT" decides
# (interval 1 s, timeout 1 s, rise 2, fall 2), driven by flag files.
#  a. the command gets the server's address and port as arguments;
#  b. exit 1 marks a server down ("exec: exit status 1"): an established
#     connection to it carries on (echo service), new ones go elsewhere;
#  c. a command that hangs is killed at the timeout with its whole process
#     group (its child "sleep" does not survive): "exec: timed out";
#     with every server down, new connections are dropped (logged once);
#  d. exit 0 again: up again.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http, :9000 echo
#                                                           +-- s2 198.51.100.12:8080 http, :9000 echo
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

WAIT=20
CHECK=$TMP/check.sh
cat >"$CHECK" <<EOF
#!/bin/sh
# check.sh ADDRESS PORT: down while $TMP/down-ADDRESS-PORT exists, hangs
# (in a child process) while $TMP/hang-ADDRESS-PORT does.
echo "\$*" >>"$TMP/exec-args"
if [ -e "$TMP/hang-\$1-\$2" ]; then sleep 37; fi
[ ! -e "$TMP/down-\$1-\$2" ]
EOF
chmod +x "$CHECK"

topo_up 2
for i in 1 2; do
	start_http_server "$i" 8080
	start_tcp_echo "$i" 9000
done

write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web";
    vip = "$VIP"; port = 80;
    scheduler = "rr";
    $(servers_conf 8080 1 1)
    health: { type = "exec"; command = "$CHECK"; interval = 1; timeout = 1;
              rise = 2; fall = 2; };
  },
  {
    name = "echo";
    vip = "$VIP"; port = 9000;
    scheduler = "rr";
    $(servers_conf 9000 1 1)
    health: { type = "exec"; command = "$CHECK"; interval = 1; timeout = 1;
              rise = 2; fall = 2; };
  }
);
EOF
start_nfqlb "$TMP/nfqlb.conf"

# ---- a. arguments
_args_seen() { grep -qx "$1" "$TMP/exec-args"; }
for a in "$(server_ip 1) 8080" "$(server_ip 2) 8080" "$(server_ip 1) 9000" "$(server_ip 2) 9000"; do
	wait_until 10 _args_seen "$a" || fail "no check ran with arguments '$a': $(sort -u "$TMP/exec-args")"
done
http_requests 10 >"$TMP/bodies.up"
assert_counts "$TMP/bodies.up" "s1=5 s2=5"

# ---- b. the server of a long-lived connection goes down; the connection stays
start_echo_client 9000
holder=$(echo_holder 9000)
touch "$TMP/down-$(server_ip "$holder")-9000"
wait_log $WAIT 1 "echo: server $(server_ip "$holder"):9000: down (exec: exit status 1)"
echo_progress 10
log "s$holder is down and its established connection carries on"
# new echo connections (held open 3 s) all go to the other server
other=$((3 - holder))
probes=()
for ((k = 0; k < 4; k++)); do
	sleep 3 | in_client socat - "TCP:$VIP:9000" >/dev/null &
	probes+=($!)
done
_echo_conns() { in_server "$1" ss -Htn state established '( sport = :9000 )' | wc -l; }
_other_has_4() { (($(_echo_conns "$other") == 4)); }
wait_until 5 _other_has_4 || fail "s$other holds $(_echo_conns "$other") echo connections, want the 4 new ones"
n=$(_echo_conns "$holder")
((n == 1)) || fail "s$holder (down) holds $n echo connections, want only the long-lived one"
wait "${probes[@]}"

touch "$TMP/down-$(server_ip 2)-8080"
wait_log $WAIT 1 "web: server $(server_ip 2):8080: down (exec: exit status 1)"
http_requests 10 >"$TMP/bodies.s2down"
assert_counts "$TMP/bodies.s2down" "s1=10"

# ---- c. a hanging check is killed with its process group
touch "$TMP/hang-$(server_ip 1)-8080"
wait_log $WAIT 1 "web: server $(server_ip 1):8080: down (exec: timed out after 1 s)"
wait_log 5 1 "web: no server is up: new connections are dropped"
sleep 3 # a few more hung checks, each killed at its timeout
_sleepers() {
	local pid n=0
	for pid in $(ip netns pids "$NS_DIRECTOR"); do
		[[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == "sleep 37 " ]] && n=$((n + 1))
	done
	echo "$n"
}
(($(_sleepers) <= 1)) || fail "$(_sleepers) hung check processes are alive: the timeout did not kill the group"
rc=0
in_client curl -s --max-time 2 "http://$VIP/" >/dev/null || rc=$?
((rc != 0)) || fail "a connection succeeded with every web server down"

# ---- d. healthy again
rm "$TMP/hang-$(server_ip 1)-8080" "$TMP/down-$(server_ip 2)-8080" "$TMP/down-$(server_ip "$holder")-9000"
wait_log $WAIT 1 "web: server $(server_ip 1):8080: up"
wait_log $WAIT 1 "web: server $(server_ip 2):8080: up"
wait_log $WAIT 1 "echo: server $(server_ip "$holder"):9000: up"
http_requests 10 >"$TMP/bodies.back"
assert_counts "$TMP/bodies.back" "s1=5 s2=5"
(($(_sleepers) == 0)) || fail "hung check processes survive: $(_sleepers)"

stop_echo_client
stop_nfqlb
