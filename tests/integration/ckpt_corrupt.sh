#!/bin/bash
# The checkpoint file while running and when it is bad:
#  a. written periodically (interval 1 s here) while the daemon serves,
#     and on `nfqlbctl checkpoint`, which answers once the file is written;
#  b. a missing file is normal;
#  c. a corrupted (flipped byte), truncated, future-version, foreign or
#     empty checkpoint is reported with what was wrong, ignored, and the
#     daemon starts and serves.
#
#  client 192.0.2.2 --- 192.0.2.1 [director, VIP 203.0.113.10 on lo, nfqlb]
#                                  198.51.100.1 --- [br0] --+-- s1 198.51.100.11:8080 http
#                                                           +-- s2 198.51.100.12:8080 http
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/ctl.sh
source "$LIB/ctl.sh"

CONF=$TMP/nfqlb.conf
CKPT=$TMP/connections.ckpt

topo_up 2
for i in 1 2; do start_http_server "$i" 8080; done
write_conf "$CONF" <<EOF
services = (
  {
    name = "web"; protocol = "tcp"; vip = "$VIP"; port = 80;
    scheduler = "rr"; forward = "nat";
    $(servers_conf 8080 1 1)
  }
);
EOF
sed -i 's/interval = 5;/interval = 1;/' "$CONF"
grep -q 'interval = 1;' "$CONF" || fail "could not set the checkpoint interval"

# ---- a, b: no file at start; a periodic write appears while serving
start_nfqlb "$CONF"
grep -q "checkpoint $CKPT: none yet" "$NFQLB_LOG" || fail "no 'none yet' line for a missing checkpoint"
http_requests 4 >"$TMP/bodies"
assert_counts "$TMP/bodies" "s1=2 s2=2"
wait_until 5 test -s "$CKPT" || fail "no periodic checkpoint within 5 s (interval 1 s)"
# the connections (TIME_WAIT entries) are in it: 56-byte header + 40 each
ckpt_holds() { (($(stat -c %s "$CKPT") >= 56 + $1 * 40)); }
wait_until 5 ckpt_holds 4 ||
	fail "periodic checkpoint holds fewer than 4 entries ($(stat -c %s "$CKPT") bytes)"
[[ ! -e $CKPT.tmp ]] || wait_until 3 test ! -e "$CKPT.tmp" || fail "temporary file $CKPT.tmp left behind"
# on request: the reply comes when the file is there
rm -f "$CKPT"
out=$(ctl checkpoint) || fail "nfqlbctl checkpoint failed: $out"
[[ $out == "checkpoint $CKPT: "[0-9]*" connections, "[0-9]*" persistence templates, "[0-9]*" bytes, "*" ms" ]] ||
	fail "nfqlbctl checkpoint said '$out'"
[[ -s $CKPT ]] || fail "nfqlbctl checkpoint returned before $CKPT was written"
n=$(ctl --json checkpoint | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print(d["connections"] if d["file"] == sys.argv[1] else -1)' "$CKPT")
((n >= 4)) || fail "nfqlbctl --json checkpoint: $n connections, want at least 4"
log "nfqlbctl checkpoint: $out"
stop_nfqlb
cp "$CKPT" "$TMP/good.ckpt"
size=$(stat -c %s "$TMP/good.ckpt")

# corrupt NAME EXPECTED-MESSAGE — install $TMP/NAME.ckpt, start, check the
# log names the problem, serve, stop.
corrupt_start() {
	local name=$1 want=$2 mark
	cp "$TMP/$name.ckpt" "$CKPT"
	mark=$(wc -l <"$NFQLB_LOG")
	start_nfqlb "$CONF"
	tail -n +"$((mark + 1))" "$NFQLB_LOG" >"$TMP/$name.log"
	grep -F "checkpoint $CKPT: $want" "$TMP/$name.log" | grep -q "ignored" ||
		fail "$name checkpoint: no '$want ... ignored' line: $(cat "$TMP/$name.log")"
	log "$name: $(grep -F "checkpoint $CKPT: $want" "$TMP/$name.log" | sed 's/.*checkpoint //')"
	http_requests 2 >"$TMP/bodies.$name"
	assert_counts "$TMP/bodies.$name" "s1=1 s2=1"
	stop_nfqlb
}

# ---- c. each kind of damage
# a flipped byte in the last record
cp "$TMP/good.ckpt" "$TMP/flipped.ckpt"
printf '\xff' | dd of="$TMP/flipped.ckpt" bs=1 seek=$((size - 10)) conv=notrunc status=none
corrupt_start flipped "record checksum mismatch"

head -c $((size - 7)) "$TMP/good.ckpt" >"$TMP/truncated.ckpt"
corrupt_start truncated "truncated"

# format version 99 with a valid header checksum
"$PY" - "$TMP/good.ckpt" "$TMP/future.ckpt" <<'PYEOF'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into(">H", b, 8, 99)
struct.pack_into(">I", b, 52, zlib.crc32(bytes(b[:52])))
open(sys.argv[2], "wb").write(b)
PYEOF
corrupt_start future "unsupported format version"

head -c 4096 /dev/urandom >"$TMP/foreign.ckpt"
corrupt_start foreign "not a checkpoint"

: >"$TMP/empty.ckpt"
corrupt_start empty "shorter than a header"
