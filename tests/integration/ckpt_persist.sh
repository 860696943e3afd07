#!/bin/bash
# Persistence templates survive a stop and a start of the daemon through
# the checkpoint (VS/NAT, UDP, rr, persistence 300 s):
#  - before the stop, client 192.0.2.3 gets a template on s1 and client
#    192.0.2.2 one on s2 (rr's first two choices);
#  - after the start, a NEW flow of 192.0.2.2 (another source port, no
#    connection entry of its own) still goes to s2: only the restored
#    template can send it there, since rr starts over at s1 and a new
#    client 192.0.2.4 does get s1.
#
#  client 192.0.2.2, .3, .4 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                               198.51.100.1 --- [br0] --+-- s1 198.51.100.11:5353/udp
#                                                        +-- s2 198.51.100.12:5353/udp
#                                                        +-- s3 198.51.100.13:5353/udp
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

CONF=$TMP/nfqlb.conf
CKPT=$TMP/connections.ckpt

# udp_server SOURCE PORT — the server answering a datagram from SOURCE:PORT.
udp_server() {
	local out
	out=$(in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 1 --source "$1" --base-port "$2")
	[[ $out == "$VIP:53 "* ]] || fail "UDP from $1:$2: no proper reply ($out)"
	out=${out#* }
	echo "${out%%:*}"
}

topo_up 3
for i in 1 2 3; do start_udp_echo "$i" 5353; done
ip -n "$NS_CLIENT" addr add 192.0.2.3/24 dev eth0
ip -n "$NS_CLIENT" addr add 192.0.2.4/24 dev eth0
write_conf "$CONF" <<EOF
services = (
$(service_conf dns udp 53 nat 5353 1 1 1 | sed 's/forward = "nat";/forward = "nat"; persistence = 300;/')
);
EOF
grep -q "persistence = 300;" "$CONF" || fail "could not write the persistence setting"
start_nfqlb "$CONF"

[[ $(udp_server 192.0.2.3 43000) == s1 ]] || fail "192.0.2.3: first template not on s1"
[[ $(udp_server 192.0.2.2 43000) == s2 ]] || fail "192.0.2.2: second template not on s2"
[[ $(udp_server 192.0.2.2 43001) == s2 ]] || fail "192.0.2.2: a new flow did not follow its template to s2"

stop_nfqlb
grep -Eq "checkpoint $CKPT: [0-9]+ connections written \(2 persistence templates" "$NFQLB_LOG" ||
	fail "the final checkpoint does not hold the 2 templates"
mark=$(wc -l <"$NFQLB_LOG")
start_nfqlb "$CONF"
tail -n +"$((mark + 1))" "$NFQLB_LOG" | grep -Eq "connections restored .* and 2 persistence templates" ||
	fail "the 2 templates were not restored: $(tail -n +"$((mark + 1))" "$NFQLB_LOG")"

[[ $(udp_server 192.0.2.2 43002) == s2 ]] || fail "192.0.2.2: a new flow after the restart left its template's server s2"
[[ $(udp_server 192.0.2.4 43000) == s1 ]] || fail "192.0.2.4: a new client after the restart not on s1 (rr starts over)"
[[ $(udp_server 192.0.2.3 43001) == s1 ]] || fail "192.0.2.3: a new flow after the restart left its template's server s1"
log "templates kept across stop+start: 192.0.2.2 on s2, 192.0.2.3 on s1; new client 192.0.2.4 on s1"
stop_nfqlb
