#!/bin/sh
# qwen-verify run on a synthetic Qwen2.5-0.5B-shaped bf16 checkpoint (made by
# $BUILD/bench/gen_synth, about 988 MB, kept under $BUILD/bench/ between runs):
# one sequence of 128 token ids, with 1 and 2 threads. Prints tokens/s of the
# forward pass, wall time and peak RSS (/usr/bin/time -v). Measures only;
# nothing is asserted but that the runs succeed.
#   BUILD=build BINDIR=bin sh tests/bench/verify_bench.sh
#   VERIFY_BENCH_THREADS="1 2 4" VERIFY_BENCH_TOKENS=64 ... to change the runs
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
GEN="$BUILD/bench/gen_synth"
DIR="$BUILD/bench/qwen2.5-0.5b-synth"
THREADS=${VERIFY_BENCH_THREADS:-"1 2"}
N=${VERIFY_BENCH_TOKENS:-128}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# (re)generate when missing or older than the generator
if [ ! -f "$DIR/model.safetensors" ] || [ "$GEN" -nt "$DIR/model.safetensors" ]; then
	echo "verify_bench: generating $DIR"
	"$GEN" "$DIR" || exit 1
fi
# N ids spread over the vocabulary (a fixed pattern, not text)
toks=$(awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d", (i ? "," : ""), (i * 7919 + 13) % 151643 }')
size=$(du -m "$DIR/model.safetensors" | cut -f1)
echo "verify_bench: $DIR ($size MB bf16), $N tokens, $(nproc) CPUs online"
for t in $THREADS; do
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -v "$V" run --json -t "$t" --top-k 1 --tokens "$toks" "$DIR" \
			>"$tmp/out.json" 2>"$tmp/time.txt"
	else
		"$V" run --json -t "$t" --top-k 1 --tokens "$toks" "$DIR" >"$tmp/out.json" 2>"$tmp/time.txt"
	fi || { echo "verify_bench: qwen-verify run -t $t failed"; cat "$tmp/time.txt"; exit 1; }
	tps=$(sed -n 's/^[[:space:]]*"tokens_per_second":[[:space:]]*\([^,]*\),*$/\1/p' "$tmp/out.json")
	fwd=$(sed -n 's/^[[:space:]]*"forward_seconds":[[:space:]]*\([^,]*\),*$/\1/p' "$tmp/out.json")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/time.txt")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$tmp/time.txt")
	printf 'verify_bench: run -t %s: %.2f tokens/s (forward %.2f s), wall %s, peak RSS %s MB\n' \
		"$t" "$tps" "$fwd" "${wall:-?}" "$(( ${rss:-0} / 1024 ))"
done
