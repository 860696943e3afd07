#!/bin/bash
# Living with an existing firewall.  The director already has a host firewall
# (FORWARD policy DROP, ESTABLISHED,RELATED accepted, the virtual service
# accepted on INPUT) and unrelated rules in raw, mangle, filter and nat.
#  0. (no firewall at all) manage = true leaves no trace either.
#  1. manage = true: balancing works through that firewall (rr, 3/3/3), and
#     after SIGTERM iptables-save equals what it was before the start.
#  2. manage = false: the daemon touches no rule at all, neither while it
#     runs nor after it stops, and starts and stops cleanly.
#
#  client 192.0.2.2 --- 192.0.2.1 [director: host firewall + nfqlb, VIP on lo]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080
#                                                           +-- s2 198.51.100.12:8080
#                                                           +-- s3 198.51.100.13:8080
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

# The kind of rule set a real host carries; every table gets something so
# that the tables exist before the daemon starts.
install_host_firewall() {
	in_director sh -e <<EOF
iptables -P FORWARD DROP
iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -d $VIP -p tcp --dport 80 -j ACCEPT
iptables -N HOST-IN
iptables -A HOST-IN -p tcp --dport 22 -j ACCEPT
iptables -A HOST-IN -p icmp -j ACCEPT
iptables -A INPUT -j HOST-IN
iptables -A OUTPUT -p tcp --dport 25 -j REJECT
iptables -t nat -A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE
iptables -t nat -A PREROUTING -p tcp --dport 2222 -j DNAT --to-destination 198.51.100.11:22
iptables -t mangle -A PREROUTING -p udp --dport 9999 -j MARK --set-mark 7
iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
iptables -t raw -A PREROUTING -p udp --dport 9998 -j CT --notrack
iptables -t raw -A OUTPUT -p udp --dport 9998 -j CT --notrack
EOF
}

# assert_rules_unchanged WHEN — compare with the snapshot taken before start.
assert_rules_unchanged() {
	ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.$1"
	if ! diff -u "$TMP/rules.before" "$TMP/rules.$1" >"$TMP/rules.diff"; then
		cat "$TMP/rules.diff" >&2
		fail "iptables-save $1 differs from before the start (diff above)"
	fi
}

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done

single_service web tcp 80 rr nat 8080 1 1 1 | write_conf "$TMP/nfqlb.conf"

log "phase 0: no firewall at all, iptables.manage = true"
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.before"
start_nfqlb "$TMP/nfqlb.conf"
http_requests 3 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=1 s2=1 s3=1"
stop_nfqlb
assert_rules_unchanged after-stop-no-firewall

install_host_firewall
ipt_snapshot "$NS_DIRECTOR" >"$TMP/rules.before"
grep -q -- '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT' "$TMP/rules.before" ||
	fail "host firewall not installed as expected"

log "phase 1: host firewall, iptables.manage = true"
start_nfqlb "$TMP/nfqlb.conf"
http_requests 9 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=3 s2=3 s3=3"
stop_nfqlb
assert_rules_unchanged after-stop

log "phase 2: iptables.manage = false"
sed 's/manage = true;/manage = false;/' "$TMP/nfqlb.conf" >"$TMP/nfqlb-unmanaged.conf"
grep -q 'manage = false;' "$TMP/nfqlb-unmanaged.conf" || fail "could not write the manage = false config"
start_nfqlb "$TMP/nfqlb-unmanaged.conf"
sleep 0.5 # give a misbehaving daemon the time to touch something
assert_rules_unchanged while-unmanaged
nfqlb_alive || fail "nfqlb with manage = false died"
stop_nfqlb
assert_rules_unchanged after-unmanaged
