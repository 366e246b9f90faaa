#!/bin/sh
# make fuzz: runs each libFuzzer target for FUZZ_SECONDS on a copy of its seed
# corpus (tests/fuzz/corpus/<name>/), then prints the executions each made.
# A crash leaves its input in build-fuzz/crashes/<name>/ and fails the run.
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
status=0
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	work="$FUZZ_BUILD/corpus/$name"
	crashes="$FUZZ_BUILD/crashes/$name"
	mkdir -p "$work" "$crashes"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/$name/* "$work/" 2>/dev/null
	log="$FUZZ_BUILD/$name.log"
	"$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -artifact_prefix="$crashes/" \
		"$work" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		echo "fuzz $name: FAILED (exit $rc), see $log and $crashes"
		status=1
	else
		echo "fuzz $name: ok, ${execs:-?} executions in ${FUZZ_SECONDS}s, corpus $(ls "$work" | wc -l) inputs"
	fi
done
exit $status
