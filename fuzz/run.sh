#!/bin/bash
# fuzz/run.sh — libFuzzer harnesses of the parsers that read hostile input,
# built with clang (outside the autotools build, like tests/sanitize.sh) with
# ASan+UBSan, and run for a bounded time each.
#
#   fuzz/run.sh [SECONDS]          build, then run every harness SECONDS
#                                  (default 20) one after the other; exit 1
#                                  if any found a crash or an invariant broke
#   fuzz/run.sh build              only build (tests/run.sh does this)
#   fuzz/run.sh one NAME SECONDS   run one harness (fuzz_core, fuzz_config,
#                                  fuzz_ckpt); its output on stdout
#   fuzz/run.sh list               the harness names
#
# Harnesses (one fuzz/fuzz_NAME.c each; see their header comments for the
# input format and the invariants checked):
#   fuzz_core    bytes -> core_packet() -> verdict and rewritten bytes
#   fuzz_config  bytes -> a file -> config_load()
#   fuzz_ckpt    bytes -> ckpt_check() -> ckpt_restore() -> ckpt_encode()
#
# Corpus: fuzz/corpus/NAME/ (in git: seeds and every input that once
# crashed, which therefore runs first on every run, as a regression test).
# New inputs a run finds go to $OUT/corpus/NAME/, crashes to
# $OUT/crash-NAME-*; copy a crash into fuzz/corpus/NAME/ once fixed.
# The library is the .c files of core_sources in Makefile.am (read by
# `tests/sanitize.sh sources`), except daemon/neigh.c, which fuzz_core
# replaces with fuzz/fake_neigh.c (no rtnetlink in a fuzzer).
# OUT is $NFQLB_FUZZ_DIR, default build/fuzz/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
OUT=${NFQLB_FUZZ_DIR:-$TOP/build/fuzz}
CC=${FUZZ_CC:-clang}
HARNESSES=(fuzz_core fuzz_config fuzz_ckpt)
# shellcheck disable=SC2054 # the commas are part of -fsanitize=
CFLAGS=(-g -O1 -fsanitize=fuzzer-no-link,address,undefined
	-fno-sanitize-recover=all -fno-omit-frame-pointer
	-include "$TOP/autoconfig.h" -I"$TOP/daemon" -I"$TOP/fuzz")

die() {
	echo "fuzz/run.sh: $*" >&2
	exit 1
}

obj_name() { # SRC — daemon/conn.c -> daemon_conn.o
	local o=${1%.c}.o
	echo "${o//\//_}"
}

build() {
	local srcs=() s h objs=() pkg libs
	[[ -f $TOP/autoconfig.h ]] || die "no autoconfig.h: run configure first (scripts/build.sh)"
	command -v "$CC" >/dev/null || die "compiler $CC not found"
	mapfile -t srcs < <(tests/sanitize.sh sources | grep -vx daemon/neigh.c)
	((${#srcs[@]} > 0)) || die "no core_sources from tests/sanitize.sh sources"
	srcs+=(fuzz/fake_neigh.c)
	pkg=$(pkg-config --cflags libconfig libmnl) || die "pkg-config: libconfig or libmnl missing"
	libs="$(pkg-config --libs libconfig libmnl) -lev"
	rm -rf "$OUT/obj" "${HARNESSES[@]/#/$OUT/}"
	mkdir -p "$OUT/obj"
	for s in "${srcs[@]}"; do
		objs+=("$OUT/obj/$(obj_name "$s")")
	done
	echo "CC=$CC ${CFLAGS[*]} $pkg"
	# shellcheck disable=SC2016,SC2086 # $1.. for the inner bash; pkg split
	printf '%s\n' "${srcs[@]}" "${HARNESSES[@]/%/.c}" |
		sed 's|^fuzz_|fuzz/fuzz_|' |
		xargs -P "$(nproc)" -I{} bash -c '
			o=${1%.c}.o; o=$2/obj/${o//\//_}; shift 2
			"$@" -c "$0" -o "$o" || { echo "FAILED: $0" >&2; exit 1; }' \
			{} {} "$OUT" "$CC" "${CFLAGS[@]}" $pkg ||
		die "compilation failed"
	for h in "${HARNESSES[@]}"; do
		# shellcheck disable=SC2086 # pkg-config output is a word list
		"$CC" "${CFLAGS[@]/fuzzer-no-link/fuzzer}" -o "$OUT/$h" \
			"$OUT/obj/fuzz_$h.o" "${objs[@]}" $libs ||
			die "linking $h failed"
	done
	echo "built: ${HARNESSES[*]}"
}

# One harness for SECONDS: the corpus in git is read, new inputs go to
# OUT. libFuzzer exits non-zero on a crash, a leak, a timeout (10 s per
# input) or memory beyond 2 GB.
one() {
	local h=${1:-} secs=${2:-20} seeds
	[[ -x $OUT/$h ]] || die "no harness $OUT/$h: run $0 build"
	seeds=$TOP/fuzz/corpus/$h
	[[ -d $seeds ]] || die "no corpus $seeds"
	mkdir -p "$OUT/corpus/$h"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	export LSAN_OPTIONS=suppressions=$TOP/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
	cd "$OUT"
	exec "./$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=70000 -print_final_stats=1 -artifact_prefix="$OUT/crash-$h-" \
		"$OUT/corpus/$h" "$seeds"
}

run_all() {
	local secs=${1:-20} h rc failed=0
	mkdir -p "$OUT"
	build >"$OUT/build.log" 2>&1 || {
		cat "$OUT/build.log"
		die "build failed"
	}
	for h in "${HARNESSES[@]}"; do
		rc=0
		"$0" one "$h" "$secs" >"$OUT/$h.log" 2>&1 </dev/null || rc=$?
		if ((rc == 0)); then
			echo "PASS $h ($(execs "$OUT/$h.log") executions in $secs s)"
		else
			echo "FAIL $h (exit $rc)"
			tail -n 60 "$OUT/$h.log"
			failed=$((failed + 1))
		fi
	done
	echo "${#HARNESSES[@]} run, $failed failed (logs in $OUT/)"
	((failed == 0))
}

# Executions a run reached, from libFuzzer's final statistics.
execs() { sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n 1; }

case ${1:-20} in
build) build ;;
one)
	shift
	one "$@"
	;;
list) printf '%s\n' "${HARNESSES[@]}" ;;
execs) execs "$2" ;;
[0-9]*) run_all "${1:-20}" ;;
*) die "usage: $0 [SECONDS | build | one NAME SECONDS | list | execs LOG]" ;;
esac
