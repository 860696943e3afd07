#!/bin/bash
# Every scheduler selectable and carrying real traffic: one VS/NAT service
# per scheduler on its own port of the VIP (80..93), all over the same
# three HTTP servers with weights 1,2,3, four new connections each, one
# after the other (so no connection is active when the next is scheduled).
# Each must be answered, and by the server the policy's rule names:
#   rr: s1 s2 s3 s1            wrr: s3 s2 s3 s1 (cw 3, 2, 1)
#   fo, ovf: s3 (highest weight; ovf: active <= weight)
#   closed connections stay in the table (TIME_WAIT) as inactive ones:
#   lc: s1 s2 s3 s1 (overhead 0 0 0, then 1 1 1: the first)
#   wlc: s1 s2 s3 s3 (then 1/1 1/2 1/3)   sed: s3 always ((0+1)/3)
#   nq: s1 always (idle)
#   sh, dh, mh, lblc, lblcr: one client, one VIP: always the same server
#   twos: random, but answered
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 w=1
#                                                           +-- s2 198.51.100.12:8080 w=2
#                                                           +-- s3 198.51.100.13:8080 w=3
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

SCHEDS=(rr wrr lc wlc sed nq sh dh mh lblc lblcr fo ovf twos)

topo_up 3
for i in 1 2 3; do start_http_server "$i" 8080; done

{
	echo "services = ("
	sep=""
	for k in "${!SCHEDS[@]}"; do
		printf '%s  { name = "%s"; vip = "%s"; port = %d; scheduler = "%s";\n    %s  }' \
			"$sep" "${SCHEDS[k]}" "$VIP" $((80 + k)) "${SCHEDS[k]}" "$(servers_conf 8080 1 2 3)"
		sep=$',\n'
	done
	echo
	echo ");"
} | write_conf "$TMP/nfqlb.conf"
start_nfqlb "$TMP/nfqlb.conf"

for k in "${!SCHEDS[@]}"; do
	s=${SCHEDS[k]}
	got=$(http_requests 4 / "$VIP:$((80 + k))" | tr '\n' ' ')
	got=${got% }
	log "$s: $got"
	[[ $got != *ERROR* ]] || fail "$s: a request failed: $got"
	case $s in
	rr) want="s1 s2 s3 s1" ;;
	wrr) want="s3 s2 s3 s1" ;;
	fo | ovf | sed) want="s3 s3 s3 s3" ;;
	lc) want="s1 s2 s3 s1" ;;
	wlc) want="s1 s2 s3 s3" ;;
	nq) want="s1 s1 s1 s1" ;;
	sh | dh | mh | lblc | lblcr)
		first=${got%% *}
		want="$first $first $first $first"
		;;
	*) want=$got ;;
	esac
	[[ $got == "$want" ]] || fail "$s: got '$got', want '$want'"
	[[ $got =~ ^(s[123] ?){4}$ ]] || fail "$s: unexpected answers '$got'"
done

stop_nfqlb
