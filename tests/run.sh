#!/bin/bash
# tests/run.sh [FILTER] — runs the unit tests (cmocka binaries tests/unit/test_*),
# the same unit tests under ASan/UBSan (asan/test_*, see tests/sanitize.sh),
# the integration tests (tests/integration/*.sh, one test each), a few of
# them again against the ASan/UBSan daemon (asan-integration/*) and the
# fuzzers for a bounded time each (fuzz/*, see fuzz/run.sh), only those
# whose name contains FILTER when given.  Prints PASS/FAIL per test, the
# log of every failure, and as its very last line "N passed, M failed"
# (unit tests count per cmocka case).  Exit 1 if anything failed.
#
# Logs: $NFQLB_TEST_LOGDIR (default tests/logs/), one file per test.
# Fuzzing time per harness: $NFQLB_FUZZ_SECONDS (default 20).
# Run as root (the integration tests build network namespaces).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD

FILTER=${1:-}
LOGDIR=${NFQLB_TEST_LOGDIR:-$TOP/tests/logs}
TIME_LIMIT=${NFQLB_TEST_TIME_LIMIT:-300} # seconds per test binary / script
FAIL_LOG_LINES=200

PASSED=0
FAILED=0
FAILED_NAMES=()

mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log

selected() { [[ -z $FILTER || $1 == *"$FILTER"* ]]; }

show_log() {
	local log=$1 n
	n=$(wc -l <"$log")
	echo "----- $log$( ((n > FAIL_LOG_LINES)) && echo " (last $FAIL_LOG_LINES of $n lines)") -----"
	tail -n "$FAIL_LOG_LINES" "$log"
	echo "-----"
}

record_fail() { # NAME DETAIL LOG [COUNT]
	FAILED=$((FAILED + ${4:-1}))
	FAILED_NAMES+=("$1")
	echo "FAIL $1${2:+ ($2)}"
	[[ ! -s $3 ]] || show_log "$3"
}

# --------------------------------------------------------------- unit tests

# Sum of the N in every "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s),"
# line (a binary may run several groups, each with its own summary).
cmocka_sum() { # WORD LOG
	sed -nE "s/^\[  $1  \] ([0-9]+) tests?\b.*/\1/p" "$2" | awk '{ s += $1 } END { print s + 0 }'
}

# Does FILTER select any test PREFIX/test_xxx?  Known from the sources,
# before building.
tests_selected() { # PREFIX
	local src
	for src in tests/unit/test_*.c; do
		[[ -f $src ]] || continue
		src=${src##*/}
		selected "$1/${src%.c}" && return 0
	done
	return 1
}

# run_cmocka LOG CMD... — run one cmocka binary with its output in LOG and
# count its cases: sets RC (exit status), P and F (passed and failed cases),
# which the caller may refine before record_cmocka.
run_cmocka() {
	local log=$1
	shift
	RC=0
	CMOCKA_MESSAGE_OUTPUT=STDOUT timeout -k 10 "$TIME_LIMIT" "$@" >"$log" 2>&1 </dev/null || RC=$?
	P=$(cmocka_sum PASSED "$log")
	F=$(cmocka_sum FAILED "$log")
	# A crash or a non-zero exit that cmocka did not account for is one
	# failure more; a zero exit without any summary is a plain pass.
	if ((RC != 0 && F == 0)); then F=1; fi
	if ((RC == 0 && P == 0 && F == 0)); then P=1; fi
}

record_cmocka() { # NAME LOG [DETAIL] — count P and F, print PASS/FAIL
	PASSED=$((PASSED + P))
	if ((F > 0)); then
		record_fail "$1" "$F failed, $P passed, exit $RC$( ((RC == 124)) && echo ", timed out")${3:+, $3}" "$2" "$F"
	else
		echo "PASS $1 ($P cases)"
	fi
}

run_unit_tests() {
	local bin name log found=0
	if ! tests_selected unit; then
		echo "(no unit tests selected)"
		return
	fi
	if [[ ! -f Makefile ]]; then
		record_fail unit-build "no Makefile: run scripts/build.sh first" /dev/null
		return
	fi
	# Builds the check programs without running them: we run them ourselves
	# to count individual cases.
	log=$LOGDIR/unit-build.log
	if ! make -j2 check TESTS= >"$log" 2>&1; then
		record_fail unit-build "make check TESTS= failed" "$log"
		return
	fi
	for bin in tests/unit/test_*; do
		[[ -f $bin && -x $bin ]] || continue
		case $bin in *.c | *.h | *.o | *.log | *.trs | *.sh) continue ;; esac
		name=unit/${bin##*/}
		selected "$name" || continue
		found=1
		log=$LOGDIR/unit-${bin##*/}.log
		run_cmocka "$log" "./$bin"
		record_cmocka "$name" "$log"
	done
	((found)) || echo "(no unit test binaries selected in tests/unit)"
}

# tests/sanitize.sh build, once per run (the unit tests and the daemon).
ASAN_BUILT=
asan_build() { # OUT
	local log=$LOGDIR/asan-build.log
	[[ -z $ASAN_BUILT ]] || return "$ASAN_BUILT"
	ASAN_BUILT=0
	if ! NFQLB_SANITIZE_DIR=$1 tests/sanitize.sh build >"$log" 2>&1; then
		ASAN_BUILT=1
		record_fail asan-build "tests/sanitize.sh build failed" "$log"
	fi
	return "$ASAN_BUILT"
}

# The same unit tests built with ASan+LSan+UBSan by tests/sanitize.sh (into
# build/sanitize/), as asan/test_xxx.  Any sanitizer report fails the binary,
# even if the exit status or cmocka's summary missed it.
run_asan_tests() {
	local bin name log found=0 out=${NFQLB_SANITIZE_DIR:-$TOP/build/sanitize}
	if ! tests_selected asan; then
		echo "(no asan tests selected)"
		return
	fi
	asan_build "$out" || return
	for bin in "$out"/test_*; do
		[[ -f $bin && -x $bin ]] || continue
		name=asan/${bin##*/}
		selected "$name" || continue
		found=1
		log=$LOGDIR/asan-${bin##*/}.log
		run_cmocka "$log" tests/sanitize.sh exec "$bin"
		if tests/sanitize.sh reported "$log"; then
			((F > 0)) || F=1
			record_cmocka "$name" "$log" "sanitizer report"
		else
			record_cmocka "$name" "$log"
		fi
	done
	((found)) || echo "(no asan test binaries selected in $out)"
}

# -------------------------------------------------------- integration tests

# Safety net for a test that was SIGKILLed before its own cleanup ran: kill
# what lives in the namespaces it announced, delete them and its temp dir.
reap_resources() { # RESOURCES-FILE
	local kind what pids left=()
	while read -r kind what; do
		case $kind in
		netns)
			[[ -e /run/netns/$what ]] || continue
			pids=$(ip netns pids "$what" 2>/dev/null)
			# shellcheck disable=SC2086 # one PID per word
			[[ -z $pids ]] || kill -KILL $pids 2>/dev/null
			ip netns del "$what" 2>/dev/null
			left+=("$what")
			;;
		dir)
			[[ -d $what && $what == /tmp/nfqlb-test-* ]] || continue
			rm -rf "$what"
			left+=("$what")
			;;
		esac
	done <"$1"
	((${#left[@]} == 0)) || echo "left-overs removed: ${left[*]}"
}

# run_script NAME SCRIPT — one integration script as one test, with the
# caller's environment; sets RC, SECS and LEAK (what the runner had to
# clean up after it) for record_script.
run_script() {
	local resources start
	LOG=$LOGDIR/${1//\//-}.log
	resources=$(mktemp)
	start=$SECONDS
	RC=0
	NFQLB_TEST_RESOURCES=$resources timeout -k 10 "$TIME_LIMIT" bash "$2" >"$LOG" 2>&1 </dev/null || RC=$?
	SECS=$((SECONDS - start))
	LEAK=$(reap_resources "$resources")
	rm -f "$resources"
	[[ -z $LEAK ]] || echo "$LEAK" >>"$LOG"
}

record_script() { # NAME [FAILURE] — FAILURE: a reason the caller found
	if ((RC == 124 || (RC == 137 && SECS >= TIME_LIMIT))); then
		record_fail "$1" "timed out after $TIME_LIMIT s" "$LOG"
	elif ((RC == 0)) && [[ -n $LEAK ]]; then
		# Passing is not enough: a test must clean up after itself.
		record_fail "$1" "passed but $LEAK" "$LOG"
	elif ((RC == 0)) && [[ -n ${2:-} ]]; then
		record_fail "$1" "$2, ${SECS} s" "$LOG"
	elif ((RC == 0)); then
		PASSED=$((PASSED + 1))
		echo "PASS $1 (${SECS} s)"
	else
		record_fail "$1" "exit $RC, ${SECS} s${2:+, $2}" "$LOG"
	fi
}

run_integration_tests() {
	local t name
	for t in tests/integration/*.sh; do
		[[ -f $t ]] || continue
		name=integration/$(basename "$t" .sh)
		selected "$name" || continue
		run_script "$name" "$t"
		record_script "$name"
	done
}

# A few integration tests again with the daemon built with ASan+LSan+UBSan
# by tests/sanitize.sh ($NFQLB_SANITIZE_DIR/nfqlb, honoured by topo.sh as
# NFQLB), as asan-integration/NAME: NAT, the three methods with reloads,
# hostile packets, two queues on two threads, and the offload path
# (ctnetlink). Sanitizer reports go to files of their own (the test's temp
# dir, with the daemon's log, is gone when it ends): any report fails the
# test, even when the daemon was killed by the cleanup.
ASAN_INTEGRATION=(nat_rr_http mixed_methods malformed multiqueue offload_nat)

run_asan_integration_tests() {
	local n name t reports out=${NFQLB_SANITIZE_DIR:-$TOP/build/sanitize} why
	for n in "${ASAN_INTEGRATION[@]}"; do
		t=tests/integration/$n.sh
		name=asan-integration/$n
		{ [[ -f $t ]] && selected "$name"; } || continue
		asan_build "$out" || return
		reports=$(mktemp -d "/tmp/nfqlb-test-sanitizer.XXXXXX")
		chmod 1733 "$reports" # a daemon that dropped root reports too
		NFQLB=$out/nfqlb \
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan \
			run_script "$name" "$t"
		why=
		if compgen -G "$reports/*" >/dev/null; then
			why="sanitizer report: $(cd "$reports" && echo *)"
			cat "$reports"/* >>"$LOG"
		fi
		rm -rf "$reports"
		record_script "$name" "$why"
	done
}

# The libFuzzer harnesses of fuzz/ (built by fuzz/run.sh with clang), each
# run $NFQLB_FUZZ_SECONDS (default 20) from its corpus in git, as
# fuzz/NAME: any crash, sanitizer report or broken invariant fails it.
run_fuzz_tests() {
	local h name log rc secs=${NFQLB_FUZZ_SECONDS:-20} execs
	for h in $(fuzz/run.sh list) ""; do
		[[ -n $h ]] || return 0 # none selected
		selected "fuzz/$h" && break
	done
	log=$LOGDIR/fuzz-build.log
	if ! fuzz/run.sh build >"$log" 2>&1; then
		record_fail fuzz-build "fuzz/run.sh build failed" "$log"
		return
	fi
	for h in $(fuzz/run.sh list); do
		name=fuzz/$h
		selected "$name" || continue
		log=$LOGDIR/fuzz-$h.log
		rc=0
		timeout -k 10 $((secs + 60)) fuzz/run.sh one "$h" "$secs" >"$log" 2>&1 </dev/null || rc=$?
		if ((rc == 0)); then
			PASSED=$((PASSED + 1))
			execs=$(fuzz/run.sh execs "$log")
			echo "PASS $name (${execs:-?} executions in $secs s)"
		else
			record_fail "$name" "exit $rc$( ((rc == 124)) && echo ", timed out")" "$log"
		fi
	done
}

run_unit_tests
run_asan_tests
run_integration_tests
run_asan_integration_tests
run_fuzz_tests

((FAILED == 0)) || echo "failed: ${FAILED_NAMES[*]}"
echo "logs: $LOGDIR"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
