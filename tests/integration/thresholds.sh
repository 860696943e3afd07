#!/bin/bash
# Server thresholds (ipvsadm -x/-y): scheduler fo sends every new flow to
# s1 (highest weight) until s1 holds upper_threshold = 2 connections; then
# s1 is overloaded and new flows go to s2. When s1's flows expire (udp
# timeout 2 s) it falls below its lower threshold (default 3/4 of the
# upper) and takes new flows again. A reload that lifts the threshold
# makes the overloaded s1 usable at once.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:5353/udp w=3 upper 2
#                                                           +-- s2 198.51.100.12:5353/udp w=2
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 2
for i in 1 2; do start_udp_echo "$i" 5353; done

# make_conf UPPER — the service with s1's upper threshold (0 = none).
make_conf() {
	write_conf "$TMP/nfqlb.conf" <<EOF
timeouts: { udp = 2; };
services = (
  {
    name = "dns";
    protocol = "udp";
    vip = "$VIP"; port = 53;
    scheduler = "fo";
    servers = (
      { address = "$(server_ip 1)"; port = 5353; weight = 3; upper_threshold = $1; },
      { address = "$(server_ip 2)"; port = 5353; weight = 2; }
    );
  }
);
EOF
}
make_conf 2
start_nfqlb "$TMP/nfqlb.conf"

# who BASE-PORT — four new flows, the answering servers on one line.
who() {
	in_client "$PY" "$LIB/udpclient.py" "$VIP" 53 --count 4 --base-port "$1" |
		awk '{ split($2, a, ":"); printf "%s%s", sep, ($1 == "TIMEOUT" ? "TIMEOUT" : a[1]); sep = " " } END { print "" }'
}

got=$(who 42000)
log "while s1 fills up: $got"
[[ $got == "s1 s1 s2 s2" ]] || fail "upper threshold: got '$got', want 's1 s1 s2 s2'"

# s1's two flows expire after 2 s idle (checked every second): s1 is
# below its lower threshold and first choice again.
sleep 3.5
got=$(who 43000)
log "after s1's flows expired: $got"
[[ $got == "s1 s1 s2 s2" ]] || fail "resume below the lower threshold: got '$got', want 's1 s1 s2 s2'"

# s1 is overloaded again (two live flows); lifting the threshold frees it
make_conf 0
reload_nfqlb
got=$(who 44000)
log "after a reload without the threshold: $got"
[[ $got == "s1 s1 s1 s1" ]] || fail "threshold lifted by reload: got '$got', want 's1 s1 s1 s1'"

stop_nfqlb
