#!/bin/bash
# tests/sanitize.sh — the cmocka unit tests again, built with AddressSanitizer
# (with LeakSanitizer) and UndefinedBehaviorSanitizer.
#
#   tests/sanitize.sh [run [FILTER]]   build, then run every test binary whose
#                                      name contains FILTER; PASS/FAIL each,
#                                      exit 1 if any failed
#   tests/sanitize.sh build            only build (tests/run.sh does this)
#   tests/sanitize.sh exec BIN [ARG..] run one binary with the sanitizer
#                                      options below (replaces this shell, so
#                                      `timeout` signals the test itself)
#   tests/sanitize.sh reported LOG     exit 0 iff LOG holds a sanitizer report
#   tests/sanitize.sh sources          the library's .c files, one a line
#                                      (fuzz/run.sh builds from them too)
#
# tests/run.sh runs them as "asan/test_xxx", counted per cmocka case like the
# normal unit tests:  tests/run.sh asan/
#
# The library sources are the .c files of `core_sources` in Makefile.am, read
# from there on every build, so this list cannot drift from the real one.
# Everything is compiled from scratch (a few seconds) into
# $NFQLB_SANITIZE_DIR (default build/sanitize/, ignored by git): objects in
# obj/, binaries test_*, logs *.log; nothing is written to the source tree.  Needs autoconfig.h: run configure first
# (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
OUT=${NFQLB_SANITIZE_DIR:-$TOP/build/sanitize}
CC=${CC:-gcc}
# shellcheck disable=SC2054 # the commas are part of -fsanitize=
# $NFQLB_SANITIZERS replaces address,undefined (e.g. thread: a TSan build of
# the daemon for the multi-queue test, by hand: see README.md, "Quick start").
SAN_CFLAGS=(-g -O1 -fsanitize=${NFQLB_SANITIZERS:-address,undefined} -fno-sanitize-recover=all
	-fno-omit-frame-pointer -include "$TOP/autoconfig.h" -iquote "$TOP/daemon")
# Options given in the environment come last, so they can override ours.
SAN_ASAN_OPTIONS=detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
SAN_UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
# First line of every ASan/LSan/UBSan report.
REPORT_RE='^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|: runtime error: |^SUMMARY: [A-Za-z]+Sanitizer'

die() {
	echo "sanitize.sh: $*" >&2
	exit 1
}

# The .c files of variable VAR in Makefile.am (a backslash-continued
# list, one or more files per line).
am_sources() { # VAR
	awk -v var="$1" '$0 ~ "^" var "[[:space:]]*=" { f = 1 }
	     f { for (i = 1; i <= NF; i++) if ($i ~ /\.c$/) print $i
	         if ($NF != "\\") exit }' Makefile.am
}
core_sources() { am_sources core_sources; }

# obj_name SRC — daemon/conn.c -> daemon_conn.o
obj_name() {
	local o=${1%.c}.o
	echo "${o//\//_}"
}

build() {
	local srcs=() dsrcs=() tests=() cflags dcflags libs dlibs s t core_objs=() dobjs=()
	[[ -f $TOP/autoconfig.h ]] || die "no autoconfig.h: run configure first (scripts/build.sh)"
	command -v "$CC" >/dev/null || die "compiler $CC not found"
	mapfile -t srcs < <(core_sources)
	((${#srcs[@]} > 0)) || die "no core_sources .c files found in Makefile.am"
	mapfile -t dsrcs < <(am_sources nfqlb_SOURCES)
	((${#dsrcs[@]} > 0)) || die "no nfqlb_SOURCES .c files found in Makefile.am"
	for s in "${srcs[@]}" "${dsrcs[@]}"; do
		[[ -f $s ]] || die "$s (from Makefile.am) does not exist"
	done
	for s in "${srcs[@]}"; do
		core_objs+=("$OUT/obj/$(obj_name "$s")")
	done
	for s in "${dsrcs[@]}"; do
		dobjs+=("$OUT/obj/$(obj_name "$s")")
	done
	for t in tests/unit/test_*.c; do
		[[ -f $t ]] && tests+=("$t")
	done
	((${#tests[@]} > 0)) || die "no tests/unit/test_*.c"
	cflags=$(pkg-config --cflags cmocka libconfig libmnl) || die "pkg-config: cmocka, libconfig or libmnl missing"
	libs="$(pkg-config --libs cmocka libconfig libmnl) -lev" || die "pkg-config: cmocka, libconfig or libmnl missing"
	dcflags=$(pkg-config --cflags libnetfilter_queue libnfnetlink) || die "pkg-config: libnetfilter_queue or libnfnetlink missing"
	dlibs="$(pkg-config --libs libnetfilter_queue libnfnetlink libconfig libmnl) -lev -pthread" || die "pkg-config: daemon libraries missing"

	# Only what an earlier build made: OUT may have been given by the user.
	rm -rf "$OUT/obj" "$OUT"/test_* "$OUT/nfqlb"
	mkdir -p "$OUT/obj"
	echo "core sources (Makefile.am core_sources): ${srcs[*]}"
	echo "daemon sources (Makefile.am nfqlb_SOURCES): ${dsrcs[*]}"
	echo "CC=$CC ${SAN_CFLAGS[*]} $cflags $dcflags"
	# Every object in parallel (xargs exits non-zero if any compile failed).
	# shellcheck disable=SC2016,SC2086 # $1.. for the inner bash; cflags split
	printf '%s\n' "${srcs[@]}" "${dsrcs[@]}" "${tests[@]}" |
		xargs -P "$(nproc)" -I{} bash -c '
			o=${1%.c}.o; o=$2/obj/${o//\//_}; shift 2
			"$@" -c "$0" -o "$o" || { echo "FAILED: $0" >&2; exit 1; }' \
			{} {} "$OUT" "$CC" "${SAN_CFLAGS[@]}" $cflags $dcflags ||
		die "compilation failed"
	for t in "${tests[@]}"; do
		s=${t##*/}
		# shellcheck disable=SC2086 # pkg-config output is a word list
		"$CC" "${SAN_CFLAGS[@]}" -o "$OUT/${s%.c}" "$OUT/obj/$(obj_name "$t")" \
			"${core_objs[@]}" $libs || die "linking ${s%.c} failed"
	done
	# shellcheck disable=SC2086 # pkg-config output is a word list
	"$CC" "${SAN_CFLAGS[@]}" -o "$OUT/nfqlb" "${dobjs[@]}" "${core_objs[@]}" \
		$dlibs || die "linking nfqlb failed"
	echo "built: $(cd "$OUT" && echo test_*) nfqlb"
}

exec_one() {
	[[ -x ${1:-} ]] || die "exec: ${1:-(none)} is not an executable"
	export ASAN_OPTIONS=$SAN_ASAN_OPTIONS UBSAN_OPTIONS=$SAN_UBSAN_OPTIONS
	export CMOCKA_MESSAGE_OUTPUT=${CMOCKA_MESSAGE_OUTPUT:-STDOUT}
	exec "$@"
}

reported() { grep -Eq "$REPORT_RE" "$1"; }

# Standalone use: build and run, one PASS/FAIL line per binary.
run_all() {
	local filter=${1:-} bin name log rc failed=0 n=0
	mkdir -p "$OUT"
	build >"$OUT/build.log" 2>&1 || {
		cat "$OUT/build.log"
		die "build failed"
	}
	for bin in "$OUT"/test_*; do
		name=asan/${bin##*/}
		[[ -z $filter || $name == *"$filter"* ]] || continue
		n=$((n + 1))
		log=$OUT/${bin##*/}.log
		rc=0
		timeout -k 10 300 "$0" exec "$bin" >"$log" 2>&1 </dev/null || rc=$?
		if ((rc == 0)) && ! reported "$log"; then
			echo "PASS $name"
		else
			echo "FAIL $name (exit $rc)"
			cat "$log"
			failed=$((failed + 1))
		fi
	done
	echo "$n run, $failed failed (logs in $OUT/)"
	((failed == 0))
}

case ${1:-run} in
build) build ;;
exec)
	shift
	exec_one "$@"
	;;
reported)
	[[ -f ${2:-} ]] || die "reported: no such log '${2:-}'"
	reported "$2"
	;;
run) run_all "${2:-}" ;;
sources) core_sources ;;
*) die "usage: $0 [run [FILTER] | build | exec BIN [ARGS...] | reported LOG | sources]" ;;
esac
