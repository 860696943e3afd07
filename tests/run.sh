#!/bin/bash
# tests/run.sh [FILTER] — runs the unit tests (cmocka binaries tests/unit/test_*),
# the same unit tests under ASan/UBSan (asan/test_*, see tests/sanitize.sh)
# and the integration tests (tests/integration/*.sh, one test each), only
# those whose name contains FILTER when given.  Prints PASS/FAIL per test, the
# log of every failure, and as its very last line "N passed, M failed"
# (unit tests count per cmocka case).  Exit 1 if anything failed.
#
# Logs: $NFQLB_TEST_LOGDIR (default tests/logs/), one file per test.
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

# The same unit tests built with ASan+LSan+UBSan by tests/sanitize.sh (into
# build/sanitize/), as asan/test_xxx.  Any sanitizer report fails the binary,
# even if the exit status or cmocka's summary missed it.
run_asan_tests() {
	local bin name log found=0 out=${NFQLB_SANITIZE_DIR:-$TOP/build/sanitize}
	if ! tests_selected asan; then
		echo "(no asan tests selected)"
		return
	fi
	log=$LOGDIR/asan-build.log
	if ! NFQLB_SANITIZE_DIR=$out tests/sanitize.sh build >"$log" 2>&1; then
		record_fail asan-build "tests/sanitize.sh build failed" "$log"
		return
	fi
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

run_integration_tests() {
	local t name log rc start secs resources leak
	for t in tests/integration/*.sh; do
		[[ -f $t ]] || continue
		name=integration/$(basename "$t" .sh)
		selected "$name" || continue
		log=$LOGDIR/${name//\//-}.log
		resources=$(mktemp)
		start=$SECONDS
		rc=0
		NFQLB_TEST_RESOURCES=$resources timeout -k 10 "$TIME_LIMIT" bash "$t" >"$log" 2>&1 </dev/null || rc=$?
		secs=$((SECONDS - start))
		leak=$(reap_resources "$resources")
		rm -f "$resources"
		[[ -z $leak ]] || echo "$leak" >>"$log"
		if ((rc == 124 || (rc == 137 && secs >= TIME_LIMIT))); then
			record_fail "$name" "timed out after $TIME_LIMIT s" "$log"
		elif ((rc == 0)) && [[ -n $leak ]]; then
			# Passing is not enough: a test must clean up after itself.
			record_fail "$name" "passed but $leak" "$log"
		elif ((rc == 0)); then
			PASSED=$((PASSED + 1))
			echo "PASS $name (${secs} s)"
		else
			record_fail "$name" "exit $rc, ${secs} s" "$log"
		fi
	done
}

run_unit_tests
run_asan_tests
run_integration_tests

((FAILED == 0)) || echo "failed: ${FAILED_NAMES[*]}"
echo "logs: $LOGDIR"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
