#!/bin/sh
# Runs every test program and CLI suite, then prints one closing line
# "checks: N passed, N failed". Usage (from the Makefile):
#   BUILD=build BINDIR=bin sh tests/run.sh build/tests/test_*
# Unit tests are CMocka programs; CLI suites are tests/cli/*.sh printing
# "ok - ..." / "not ok - ..." lines.
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
export BUILD BINDIR
QK_SHARED=${QK_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
export QK_SHARED
passed=0
failed=0
failed_names=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$@"; do
	name=$(basename "$t")
	"$t" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$rc" -ne 0 ]; then
		cat "$log"
		failed_names="$failed_names $name"
		echo "FAIL $name ($p passed, $f failed)"
	else
		echo "PASS $name ($p tests)"
	fi
done

for s in tests/cli/*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	sh "$s" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		grep -v '^ok ' "$log"
		failed_names="$failed_names $name"
		echo "FAIL cli/$name ($p passed, $f failed)"
	else
		echo "PASS cli/$name ($p checks)"
	fi
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
