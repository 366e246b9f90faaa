#!/bin/sh
# Runs every test program and CLI suite, then prints one closing line
# "checks: N passed, N failed, N skipped". Usage (from the Makefile):
#   BUILD=build BINDIR=bin sh tests/run.sh build/tests/test_*
# Unit tests are CMocka programs (a skipped test is "[  SKIPPED ]", not a
# pass); CLI suites are tests/cli/*.sh printing "ok - ...", "not ok - ..."
# and "skip - ..." lines. A skip is never counted as a pass.
# QK_FAIL_FAST=1 stops at the first failing program or suite (make mutants).
# QK_CLI="a b" runs only those CLI suites (names without .sh).
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
export BUILD BINDIR
passed=0
failed=0
skipped=0
failed_names=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

stop() {
	[ "${QK_FAIL_FAST:-0}" = 1 ] || return 1
	echo "failed:$failed_names (fail-fast: nothing more run)"
	echo "checks: $passed passed, $failed failed, $skipped skipped"
	exit 1
}

# run_unit NAME PROGRAM [ENV=VALUE...]: one CMocka program, counted
run_unit() {
	name=$1
	t=$2
	shift 2
	env "$@" "$t" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	note=""
	[ "$s" -gt 0 ] && note=", $s SKIPPED"
	if [ "$rc" -ne 0 ]; then
		cat "$log"
		failed_names="$failed_names $name"
		echo "FAIL $name ($p passed, $f failed$note)"
		stop
	else
		[ "$s" -gt 0 ] && grep '^\[  SKIPPED \] [^0-9]' "$log" | sort -u | sed 's/^\[  SKIPPED \] /SKIP   /'
		echo "PASS $name ($p tests$note)"
	fi
}

for t in "$@"; do
	name=$(basename "$t")
	run_unit "$name" "$t"
	# the quantizer tests again on the scalar path (the default run takes
	# the SIMD path where the CPU has one; quant/qsimd.h)
	case $name in
	test_quant* | test_iquant*) run_unit "$name [QWENKIT_SIMD=off]" "$t" QWENKIT_SIMD=off ;;
	esac
done

for s in tests/cli/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	if [ -n "${QK_CLI+x}" ]; then
		case " $QK_CLI " in *" $name "*) ;; *) continue ;; esac
	fi
	sh "$s" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	k=$(grep -c '^skip ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
	note=""
	[ "$k" -gt 0 ] && note=", $k SKIPPED"
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		grep -v '^ok ' "$log"
		failed_names="$failed_names $name"
		echo "FAIL cli/$name ($p passed, $f failed$note)"
		stop
	else
		grep '^skip ' "$log" | sed 's/^skip - /SKIP   /'
		echo "PASS cli/$name ($p checks$note)"
	fi
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "checks: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
