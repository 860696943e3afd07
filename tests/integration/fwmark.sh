#!/bin/bash
# A firewall-mark service (ipvsadm -f): the operator marks client packets
# for ports 80 and 8443 of the VIP with 5 in mangle PREROUTING; one
# service "fwmark = 5" with persistence balances both ports together over
# servers without a port (each connection keeps the client's port), on a
# director whose FORWARD policy is DROP (ESTABLISHED,RELATED accepted).
#  1. with persistence, connections to :80 and :8443 alternating all reach
#     one server (rr alone would rotate), and each answers on the port the
#     client chose;
#  2. reloaded without persistence, rr rotates over both ports;
#  3. after SIGTERM iptables-save is what it was before the start.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11 :80 and :8443
#                                                           +-- s2 198.51.100.12 :80 and :8443
#                                                           +-- s3 198.51.100.13 :80 and :8443
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

topo_up 3
for i in 1 2 3; do
	start_http_server "$i" 80
	in_server "$i" "$PY" "$LIB/httpd.py" --name "s$i-8443" --port 8443 --big "$BIGFILE" \
		>>"$TMP/httpd-s$i-8443.log" 2>&1 &
	wait_listen "$(server_ns "$i")" tcp 8443
done

in_director sh -e <<EOF
iptables -P FORWARD DROP
iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -t mangle -A PREROUTING -d $VIP -p tcp -m multiport --dports 80,8443 -j MARK --set-mark 5
EOF
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.before"

make_conf() { # PERSISTENCE
	write_conf "$TMP/nfqlb.conf" <<EOF
services = (
  {
    name = "web"; protocol = "tcp"; fwmark = 5;
    scheduler = "rr"; persistence = $1;
    servers = (
      { address = "$(server_ip 1)"; },
      { address = "$(server_ip 2)"; },
      { address = "$(server_ip 3)"; }
    );
  }
);
EOF
}
make_conf 60
start_nfqlb "$TMP/nfqlb.conf"

got=""
for i in 1 2 3; do
	got+="$(http_requests 1 / "$VIP:80") $(http_requests 1 / "$VIP:8443") "
done
log "alternating :80 and :8443: $got"
[[ $got == "s1 s1-8443 s1 s1-8443 s1 s1-8443 " ]] ||
	fail "fwmark persistence across ports: got '$got', want s1 on both ports"
# nfqlbctl names the service by its mark, as ipvsadm -L -n does
in_director "$TOP/nfqlbctl" -s "$TMP/nfqlb.sock" list | grep -q "^FWM  5 rr web$" ||
	fail "nfqlbctl list does not show 'FWM  5 rr web'"

# without persistence, rr goes on over both ports (it picked s1 once)
make_conf 0
reload_nfqlb
got="$(http_requests 1 / "$VIP:80") $(http_requests 1 / "$VIP:8443") $(http_requests 1 / "$VIP:80")"
log "no persistence: $got"
[[ $got == "s2 s3-8443 s1" ]] || fail "fwmark rr over both ports: got '$got', want 's2 s3-8443 s1'"

stop_nfqlb
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.after"
diff -u "$TMP/rules.before" "$TMP/rules.after" >&2 || fail "iptables-save after stop differs from before start"
