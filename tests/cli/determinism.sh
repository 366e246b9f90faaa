#!/bin/sh
# The reference forward pass is a pure function of (model bytes, tokens)
# (ref/README.md, "Numerics contract"): the logits and residual streams of every golden fixture have
# the same bits from an -O0 build (build-O0/) and the -O2 build (build/), with
# 1, 2, 3 or 4 threads, with the AVX-512 kernel, the AVX2 path or the scalar
# one, and whatever the matmul's block sizes (ref/fwd_mm.c): the -O0 build
# uses the smallest (4 rows, 4 tokens, 8 columns), so that the tiny fixtures
# still cross many column chunks and token tiles. Builds the test-only runners
# tests/tools/ref_dump.c and vis_dump.c (the vision pass, ref/vis.h) both
# ways (plain, without sanitizers, so the two object trees never mix flags)
# and compares their hex output byte for byte.
O2=build
O0=build-O0s
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for b in "$O2:-O2:" "$O0:-O0:-DRF_ROW_BLOCK=4 -DRF_TOK_BLOCK=4 -DRF_COL_BLOCK=8"; do
	dir=${b%%:*}
	rest=${b#*:}
	opt=${rest%%:*}
	if ! make -s -j2 SANITIZE= BUILD="$dir" OPT="$opt" CFLAGS="${rest#*:}" \
		"$dir/tools/ref_dump" "$dir/tools/vis_dump" >"$out/make.log" 2>&1; then
		echo "not ok - building $dir/tools/ref_dump and vis_dump with $opt"
		sed 's/^/#   /' "$out/make.log" | tail -n 20
		exit 1
	fi
done
# compare TOOL DIR FIXTURE [OPTION]: TOOL's output for DIR from every build
# and option set against $O2's with one thread
compare() {
	tool=$1 d=$2 fx=$3 extra=${4:-}
	# shellcheck disable=SC2086 # extra is an option or nothing
	if ! "$O2/tools/$tool" $extra "$d" >"$out/ref" 2>"$out/err"; then
		echo "not ok - $fx: $tool failed"
		sed 's/^/#   /' "$out/err" | head -n 5
		return
	fi
	for run in "$O2:-t 2" "$O2:-t 4 --scalar" "$O2:-t 3 --no-avx512" "$O0:-t 1" \
		"$O0:-t 1 --scalar" "$O0:-t 2 --no-avx512"; do
		bin=${run%%:*}/tools/$tool
		opts=${run#*:}
		# shellcheck disable=SC2086 # opts is a list of options
		if ! "$bin" $extra $opts "$d" >"$out/got" 2>"$out/err"; then
			echo "not ok - $fx: $bin $opts failed"
			sed 's/^/#   /' "$out/err" | head -n 5
		elif ! cmp -s "$out/ref" "$out/got"; then
			echo "not ok - $fx: $bin $opts differs from $O2 -t 1 (line $(cmp "$out/ref" "$out/got" | sed 's/.* line //'))"
		else
			echo "ok - $fx: $bin $opts gives the bits of $O2/tools/$tool -t 1"
		fi
	done
}
n=0
nv=0
for d in testdata/models/*/ testdata/vision/*/; do
	fx=$(basename "$d")
	if [ -f "$d/expected.safetensors" ]; then
		n=$((n + 1))
		compare ref_dump "$d" "$fx" --hidden
	fi
	# the vision pass (ref/vis.h): every output of the tower
	if [ -f "$d/expected_vision.safetensors" ]; then
		nv=$((nv + 1))
		compare vis_dump "$d" "$fx"
	fi
done
if [ "$nv" -lt 7 ]; then
	echo "not ok - only $nv fixtures with expected_vision.safetensors, expected at least 7"
	exit 1
fi
if [ "$n" -lt 10 ]; then
	echo "not ok - only $n fixtures under testdata/models, expected at least 10"
	exit 1
fi
echo "ok - $n fixtures"
