# shellcheck shell=bash
# tests/lib/ctl.sh — nfqlbctl helpers for the integration tests; source it
# after topo.sh.  The daemon's socket is $TMP/nfqlb.sock (see write_conf).

CTL=$TOP/nfqlbctl
SOCK=$TMP/nfqlb.sock

# ctl ARGS... — nfqlbctl in the director namespace, on the test's socket.
ctl() { in_director "$CTL" -s "$SOCK" "$@"; }

# json_py 'PYTHON' — run PYTHON with stdin's JSON document in d.
json_py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); $1"; }

# srv_field SERVICE INDEX FIELD — one field of a server in --json list.
srv_field() {
	ctl --json list | "$PY" -c 'import json,sys
d = json.load(sys.stdin)
s = [x for x in d["services"] if x["name"] == sys.argv[1]][0]
print(s["servers"][int(sys.argv[2]) - 1][sys.argv[3]])' "$@"
}

# expect_fail STATUS 'STDERR LINE' CMD... — CMD exits with STATUS and writes
# exactly one line to stderr, matching the glob STDERR LINE.
expect_fail() {
	local want=$1 line=$2 rc=0
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	((rc == want)) || fail "$*: exit $rc, want $want (stderr: $(cat "$TMP/err"))"
	[[ $(wc -l <"$TMP/err") == 1 ]] || fail "$*: want one stderr line, got: $(cat "$TMP/err")"
	# shellcheck disable=SC2053 # $line is a glob on purpose
	[[ $(cat "$TMP/err") == $line ]] || fail "$*: stderr '$(cat "$TMP/err")', want '$line'"
}
