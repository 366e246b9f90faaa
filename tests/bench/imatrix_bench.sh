#!/bin/sh
# Importance matrices against llama.cpp, per thread, on a synthetic
# Qwen2.5-1.5B-shaped bf16 checkpoint cut to 4 layers ($BUILD/bench/gen_synth
# -m 1.5b -l 4: hidden 1536, FFN 8960, vocab 151936, tied; every matrix
# width a multiple of 256) with the real Qwen tokenizer:
#
#  1. the statistics: qwen-verify imatrix against llama-imatrix on the same
#     f16 GGUF and text (testdata/tokenizer/corpus/en.txt, --ctx 128,
#     4 chunks), 1 thread each;
#  2. the weighted quantizers: qwen-quant --imatrix against llama-quantize
#     --imatrix (same GGUF, same imatrix file) for Q4_K_M, Q2_K, Q4_0 and
#     Q6_K with 1 thread: wall and CPU time, the ratio, and whether the two
#     files are identical.
#
# llama-imatrix and llama-quantize: $LLAMA_TOOLS (default
# /tmp/vtext-llama-build/bin, built from the llama-cpp-python 0.3.36 sdist
# with GGML_NATIVE=OFF; testdata/gen/ppl_crosscheck.py shows the build).
# Fairness as in quant_bench.sh: inputs read once before (page cache warm),
# `sync` before each run, the load average printed (the machine is shared);
# qwen-quant fsyncs its output, llama-quantize does not. Measures only.
#   BUILD=build BINDIR=bin sh tests/bench/imatrix_bench.sh
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
LT=${LLAMA_TOOLS:-/tmp/vtext-llama-build/bin}
GEN="$BUILD/bench/gen_synth"
DIR="$BUILD/bench/qwen2.5-1.5b-synth-4l"
TYPES=${IMATRIX_BENCH_TYPES:-"Q4_K_M Q2_K Q4_0 Q6_K"}
TEXT=testdata/tokenizer/corpus/en.txt

skip() { echo "imatrix_bench: skipped: $*"; exit 0; }
[ -x /usr/bin/time ] || skip "no /usr/bin/time"
[ -x "$LT/llama-quantize" ] && [ -x "$LT/llama-imatrix" ] || skip "no llama tools in $LT"
[ -x "$GEN" ] || skip "no $GEN (make bench builds it)"

if [ ! -f "$DIR/model.safetensors" ] || [ "$GEN" -nt "$DIR/model.safetensors" ]; then
	"$GEN" -m 1.5b -l 4 "$DIR" || exit 1
fi
for f in tokenizer.json tokenizer_config.json; do
	cmp -s testdata/models/qwen3_realvocab/$f "$DIR/$f" || cp testdata/models/qwen3_realvocab/$f "$DIR/"
done
W="$BUILD/bench/imatrix"
mkdir -p "$W"
M="$W/model-f16.gguf"
[ -f "$M" ] && [ "$M" -nt "$DIR/model.safetensors" ] || "$BINDIR/qwen-convert" "$DIR" -o "$M" --outtype f16 -q || exit 1
cat "$M" >/dev/null

# run LABEL CMD...: wall and CPU seconds of CMD (stdout/stderr to $W/log)
run() {
	label=$1; shift
	sync
	load=$(cut -d' ' -f1 /proc/loadavg)
	/usr/bin/time -f "%e %U %S" -o "$W/time" "$@" >"$W/log" 2>&1 || {
		echo "imatrix_bench: failed: $*"; tail -3 "$W/log"; exit 1; }
	set -- $(cat "$W/time")
	wall=$1; cpu=$(echo "$2 + $3" | bc)
	printf "  %-34s %8.2f s wall %8.2f s cpu   (load %s)\n" "$label" "$wall" "$cpu" "$load"
}

echo "imatrix_bench: $(du -h "$M" | cut -f1) f16 GGUF of $DIR"
echo "1. statistics, 1 thread, --ctx 128, 4 chunks of $TEXT"
run "qwen-verify imatrix" "$BINDIR/qwen-verify" imatrix "$M" --text-file $TEXT --ctx 128 \
	--chunks 4 -t 1 -q -o "$W/ours.gguf"
w1=$wall
run "llama-imatrix" "$LT/llama-imatrix" -m "$M" -f $TEXT -c 128 --chunks 4 -t 1 --no-ppl \
	-o "$W/theirs.gguf"
echo "  ratio qwen/llama: $(echo "scale=2; $w1 / $wall" | bc)"
echo "2. quantizing with --imatrix (ours.gguf), 1 thread"
for t in $TYPES; do
	run "qwen-quant --imatrix $t" "$BINDIR/qwen-quant" "$M" --imatrix "$W/ours.gguf" --type $t \
		-o "$W/q.gguf" -t 1 -q
	w1=$wall
	run "llama-quantize --imatrix $t" "$LT/llama-quantize" --imatrix "$W/ours.gguf" "$M" \
		"$W/l.gguf" $t 1
	same=$(cmp -s "$W/q.gguf" "$W/l.gguf" && echo identical || echo DIFFERENT)
	echo "  $t: ratio qwen/llama $(echo "scale=2; $w1 / $wall" | bc), files $same"
done
rm -f "$W/q.gguf" "$W/l.gguf"
