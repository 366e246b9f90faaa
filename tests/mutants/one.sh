#!/bin/sh
# One mutant for tests/mutants/run.sh: sh one.sh SCRATCH PATCH. Copies
# SCRATCH/base (built), applies PATCH, rebuilds with one core, runs the fast
# suite, writes PATCH's .result (name, verdict, killing test, seconds).
set -u
scratch=$1
patch_file=$2
name=$(basename "$patch_file" .patch)
name=${name#*.}
res=${patch_file%.patch}.result
dir=$scratch/m.$name
t0=$(date +%s)

result() {
	printf '%s\t%s\t%s\t%s\n' "$name" "$1" "$2" "$(($(date +%s) - t0))" >"$res"
	echo "  $name: $1 $2"
	rm -rf "$dir"
	exit 0
}

cp -a "$scratch/base" "$dir" || result NOBUILD "cannot copy the tree"
cd "$dir" || result NOBUILD "no $dir"
if ! patch -p1 -s -f --dry-run <"$patch_file" >/dev/null 2>&1; then
	result STALE "patch does not apply: refresh it (tests/README.md)"
fi
patch -p1 -s -f <"$patch_file" >/dev/null 2>&1
# a touched file must be newer than the objects copied with the tree
touch $(sed -n 's|^+++ b/\([^	 ]*\).*|\1|p' "$patch_file")
if ! make -s QK_COMMIT="$QK_COMMIT" build-tests >build.log 2>&1; then
	result NOBUILD "$(grep -m 1 'error' build.log)"
fi
QK_FAIL_FAST=1 timeout "$MUTANT_TIMEOUT" make -s QK_COMMIT="$QK_COMMIT" test-fast >test.log 2>&1
rc=$?
if [ $rc -eq 124 ]; then
	result killed "timeout (${MUTANT_TIMEOUT}s: the suite hung)"
elif [ $rc -ne 0 ]; then
	by=$(sed -n 's/^FAIL \([^ ]*\) .*/\1/p' test.log | head -n 1)
	result killed "${by:-make test-fast exit $rc}"
elif grep -q '^# equivalent:' "$patch_file"; then
	result equivalent "$(sed -n 's/^# equivalent: *//p' "$patch_file" | head -n 1)"
else
	result SURVIVED "no test failed"
fi
