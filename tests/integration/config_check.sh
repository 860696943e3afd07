#!/bin/bash
# `nfqlb -t` (test config) and `nfqlb -V`; no traffic.
#
# A good template config is checked first (exit 0).  Every bad case is that
# template with exactly one line replaced, so nothing but that line can be
# what -t complains about: it must exit exactly 1 and print a line starting
# with "FILE:LINE:" naming the replaced line (other lines may be printed
# too, e.g. for features not implemented yet).  -t must touch nothing: no
# control socket, no checkpoint file, no iptables rule.  Every -t runs inside
# a private network namespace, so even a buggy -t cannot touch the host.
#
#   [ns cfg: nfqlb -t only, no links]
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

[[ -x $NFQLB ]] || fail "daemon binary $NFQLB not found or not executable (build it first)"
NS=$NS_PREFIX-cfg
ns_add "$NS"

# The full template, tagged lines (/*@tag*/) being the ones the bad cases
# replace.  Its health check and DR service are features that may not be
# implemented yet; the "core" template (NAT only) is the full one without
# the lines tagged @health1 or @dr.
cat >"$TMP/full.conf" <<EOF
daemon: {
  queue = 0;
  queues = 1;
  control_socket = "$TMP/nfqlb.sock";
  max_connections = 65536;
  log_level = "info";
  checkpoint: { file = "$TMP/connections.ckpt"; interval = 5; };
};
iptables: { manage = true; chain = "NFQLB"; };
timeouts: { tcp = 900; tcp_fin = 120; tcp_syn = 60; udp = 300; }; /*@timeouts*/
services = (
  {
    name = "web";
    protocol = "tcp"; /*@proto1*/
    vip = "203.0.113.10"; /*@vip1*/
    port = 80;
    scheduler = "wrr"; /*@sched1*/
    forward = "nat"; /*@fwd1*/
    persistence = 0;
    servers = (
      { address = "198.51.100.11"; port = 8080; weight = 3; }, /*@srv1*/
      { address = "198.51.100.12"; port = 8080; weight = 1; }
    );
    health: { type = "tcp"; interval = 2; timeout = 1; rise = 2; fall = 3; }; /*@health1*/
  },
  {
    name = "dns"; /*@name2*/
    protocol = "udp"; vip = "203.0.113.10"; port = 53; /*@tuple2*/
    scheduler = "rr";
    forward = "nat";
    servers = ( { address = "198.51.100.11"; port = 5353; weight = 1; } ); /*@servers2*/
  }
  , { name = "tls"; protocol = "tcp"; vip = "203.0.113.10"; port = 443; scheduler = "rr"; forward = "dr"; /*@dr*/
      servers = ( { address = "198.51.100.13"; port = 443; weight = 1; } ); /*@dr*/ /*@drsrv*/
    } /*@dr*/
);
EOF
grep -v -e '/\*@health1\*/' -e '/\*@dr\*/' "$TMP/full.conf" >"$TMP/core.conf"

# The bad cases: NAME|TEMPLATE|TAG|replacement line.
CASES=(
	'dup_service_name|core|name2|    name = "web";'
	'dup_proto_vip_port|core|tuple2|    protocol = "tcp"; vip = "203.0.113.10"; port = 80;'
	'no_servers|core|servers2|    servers = ( );'
	'weight_70000|core|srv1|      { address = "198.51.100.11"; port = 8080; weight = 70000; },'
	'dr_port_mapping|full|drsrv|      servers = ( { address = "198.51.100.13"; port = 8443; weight = 1; } );'
	'scheduler_foo|core|sched1|    scheduler = "foo";'
	'forward_xyz|core|fwd1|    forward = "xyz";'
	'protocol_sctp|core|proto1|    protocol = "sctp";'
	'negative_timeout|core|timeouts|timeouts: { tcp = -5; tcp_fin = 120; tcp_syn = 60; udp = 300; };'
	'bad_server_address|core|srv1|      { address = "1.2.3"; port = 8080; weight = 3; },'
	'bad_vip_address|core|vip1|    vip = "1.2.3";'
	'health_interval_0|full|health1|    health: { type = "tcp"; interval = 0; timeout = 1; rise = 2; fall = 3; };'
	'syntax_error|core|srv1|      { address = "198.51.100.11"; port = 8080; weight = ; },'
)

ERRORS=()
err() { ERRORS+=("$*"); echo "  problem: $*" >&2; }

# nfqlb_t FILE — run -t in the private namespace; sets RC and OUT.
nfqlb_t() {
	RC=0
	OUT=$(ip netns exec "$NS" "$NFQLB" -t -c "$1" 2>&1) || RC=$?
}

# expect_valid NAME FILE
expect_valid() {
	nfqlb_t "$2"
	if ((RC == 0)); then
		log "ok   $1: valid, exit 0"
	else
		err "$1: valid config rejected (exit $RC): $OUT"
	fi
}

# expect_invalid NAME FILE LINE
expect_invalid() {
	local name=$1 file=$2 line=$3
	nfqlb_t "$file"
	if ((RC != 1)); then
		err "$name: exit $RC, want 1; output: ${OUT:-<none>}"
	elif ! grep -q "^$file:$line: ." <<<"$OUT"; then
		err "$name: no line starting with '$file:$line: '; output: ${OUT:-<none>}"
	else
		log "ok   $name: $(grep -m1 "^$file:$line: " <<<"$OUT")"
	fi
}

ipt_before=$(ipt_snapshot "$NS")

expect_valid core-template "$TMP/core.conf"
# The full template is valid by the SPEC; a daemon that does not implement
# health checks or DR yet may say so, but must not find anything else.
nfqlb_t "$TMP/full.conf"
if ((RC == 0)); then
	log "ok   full-template: valid, exit 0"
elif ! grep -v 'not supported yet' <<<"$OUT" | grep -q .; then
	log "skip full-template: $(tr '\n' ' ' <<<"$OUT")"
else
	err "full-template: valid config rejected (exit $RC): $OUT"
fi
cat >"$TMP/minimal.conf" <<EOF
daemon: { control_socket = "$TMP/nfqlb.sock"; checkpoint: { file = "$TMP/connections.ckpt"; }; };
services = ( { name = "web"; protocol = "tcp"; vip = "203.0.113.10"; port = 80;
               scheduler = "rr"; forward = "nat";
               servers = ( { address = "198.51.100.11"; port = 8080; weight = 1; } ); } );
EOF
expect_valid minimal "$TMP/minimal.conf"
if [[ -f $TOP/etc/nfqlb.conf ]]; then
	expect_valid etc/nfqlb.conf "$TOP/etc/nfqlb.conf"
else
	log "skip etc/nfqlb.conf: not there yet"
fi

for c in "${CASES[@]}"; do
	IFS='|' read -r name base tag repl <<<"$c"
	line=$(grep -n "/\\*@$tag\\*/" "$TMP/$base.conf" | cut -d: -f1)
	[[ $line =~ ^[0-9]+$ ]] || fail "test bug: tag @$tag not found exactly once in $base.conf"
	awk -v n="$line" -v r="$repl # BAD ($name)" 'NR == n { print r; next } { print }' \
		"$TMP/$base.conf" >"$TMP/$name.conf"
	expect_invalid "$name" "$TMP/$name.conf" "$line"
done

# -t touched nothing.
[[ ! -e $TMP/nfqlb.sock ]] || err "-t created the control socket $TMP/nfqlb.sock"
[[ ! -e $TMP/connections.ckpt ]] || err "-t created the checkpoint file $TMP/connections.ckpt"
ipt_after=$(ipt_snapshot "$NS")
[[ $ipt_after == "$ipt_before" ]] || err "-t changed iptables: $(diff <(echo "$ipt_before") <(echo "$ipt_after"))"

# -V
RC=0
OUT=$("$NFQLB" -V 2>&1) || RC=$?
if ((RC != 0)); then
	err "-V: exit $RC, want 0; output: $OUT"
elif ! grep -Eq '[0-9]+\.[0-9]+' <<<"$OUT"; then
	err "-V printed no version number: ${OUT:-<none>}"
else
	log "ok   -V: $OUT"
fi

if ((${#ERRORS[@]})); then
	fail "${#ERRORS[@]} problem(s):$(printf '\n  %s' "${ERRORS[@]}")"
fi
