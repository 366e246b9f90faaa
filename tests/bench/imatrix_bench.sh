#!/bin/sh
# Importance matrices against llama.cpp, per thread, on a synthetic
# Qwen2.5-1.5B-shaped bf16 checkpoint cut to $IMATRIX_BENCH_LAYERS layers
# (default 2; $BUILD/bench/gen_synth -m 1.5b -l N: hidden 1536, FFN 8960,
# vocab 151936, tied; every matrix width a multiple of 256) with the real
# Qwen tokenizer:
#
#  1. the statistics: qwen-verify imatrix against llama-imatrix on the same
#     f16 GGUF and text (testdata/tokenizer/corpus/en.txt, --ctx 128,
#     4 chunks), 1 thread each;
#  2. the weighted quantizers: qwen-quant --imatrix against llama-quantize
#     --imatrix (same f16 GGUF, same imatrix file: ours), 1 thread, for
#     every mix in $IMATRIX_BENCH_TYPES (default: the legacy and k-quant
#     mixes and every i-quant mix). The tied embedding (233M of the
#     weights, with no imatrix entry) is kept F16 on both sides
#     (llama-quantize --token-embedding-type f16, a qwen-quant recipe
#     rule), so the figures time the weighted quantizers, not the
#     unweighted embedding; both still write its 466 MB, and that write
#     is most of the system time (the "user" columns leave it out). Each run is repeated
#     $IMATRIX_BENCH_REPEAT times (default 2) and the least CPU time kept.
#
# The machine may be shared: the figure is CPU time (user + sys,
# /usr/bin/time), not wall time; the load average before each run is
# printed. "llama / ours" > 1 means qwen-quant is faster. Peak RSS of both.
# Also whether the two files are identical. Rows for make bench's table go
# to $BUILD/bench/rows/imatrix.tsv.
#
# llama-imatrix and llama-quantize: $LLAMA_TOOLS (default
# /tmp/vtext-llama-build/bin, built from the llama-cpp-python 0.3.36 sdist
# with GGML_NATIVE=OFF; testdata/gen/ppl_crosscheck.py shows the build).
# Measures only, asserts nothing.
#   BUILD=build BINDIR=bin sh tests/bench/imatrix_bench.sh
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
LT=${LLAMA_TOOLS:-/tmp/vtext-llama-build/bin}
GEN="$BUILD/bench/gen_synth"
LAYERS=${IMATRIX_BENCH_LAYERS:-2}
REPEAT=${IMATRIX_BENCH_REPEAT:-2}
DIR="$BUILD/bench/qwen2.5-1.5b-synth-${LAYERS}l"
TYPES=${IMATRIX_BENCH_TYPES:-"Q4_0 Q4_1 Q5_0 Q5_1 Q2_K_S Q2_K Q3_K_S Q3_K_M Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K IQ4_NL IQ4_XS IQ3_S IQ3_M IQ3_XXS IQ2_M IQ2_S IQ2_XS IQ2_XXS IQ1_M IQ1_S"}
TEXT=testdata/tokenizer/corpus/en.txt

skip() { echo "imatrix_bench: skipped: $*"; exit 0; }
[ -x /usr/bin/time ] || skip "no /usr/bin/time"
[ -x "$LT/llama-quantize" ] && [ -x "$LT/llama-imatrix" ] || skip "no llama tools in $LT"
[ -x "$GEN" ] || skip "no $GEN (make bench builds it)"

if [ ! -f "$DIR/model.safetensors" ] || [ "$GEN" -nt "$DIR/model.safetensors" ]; then
	"$GEN" -m 1.5b -l "$LAYERS" "$DIR" || exit 1
fi
for f in tokenizer.json tokenizer_config.json; do
	cmp -s testdata/models/qwen3_realvocab/$f "$DIR/$f" || cp testdata/models/qwen3_realvocab/$f "$DIR/"
done
W="$BUILD/bench/imatrix-${LAYERS}l"
mkdir -p "$W" "$BUILD/bench/rows"
ROWS_OUT="$BUILD/bench/rows/imatrix.tsv"
: >"$ROWS_OUT"
M="$W/model-f16.gguf"
[ -f "$M" ] && [ "$M" -nt "$DIR/model.safetensors" ] || "$BINDIR/qwen-convert" "$DIR" -o "$M" --outtype f16 -q || exit 1
cat "$M" >/dev/null
printf 'rules:\n  - role: token_embd\n    type: F16\n' >"$W/embd-f16.yaml"

# run LABEL CMD...: CPU seconds (user + sys) and peak RSS (MB) of CMD into
# $cpu and $rss, wall seconds into $wall; stdout/stderr to $W/log
run() {
	label=$1; shift
	sync
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	/usr/bin/time -f "%e %U %S %M" -o "$W/time" "$@" >"$W/log" 2>&1 || {
		echo "imatrix_bench: failed: $*"; tail -3 "$W/log"; exit 1; }
	set -- $(cat "$W/time")
	wall=$1; user=$2; cpu=$(echo "$2 $3" | awk '{ printf "%.2f", $1 + $2 }'); rss=$(( $4 / 1024 ))
	printf "  %-36s %8.2f s cpu %8.2f s wall %6d MB   (load %s)\n" "$label" "$cpu" "$wall" "$rss" "$load"
}

# best LABEL CMD...: run REPEAT times, keep the least CPU time (its user
# time and RSS with it)
best() {
	bcpu=""; brss=0; buser=""
	i=0
	while [ "$i" -lt "$REPEAT" ]; do
		run "$@"
		if [ -z "$bcpu" ] || [ "$(echo "$cpu $bcpu" | awk '{ print ($1 < $2) }')" = 1 ]; then
			bcpu=$cpu; brss=$rss; buser=$user
		fi
		i=$((i + 1))
	done
}

echo "imatrix_bench: $(du -h "$M" | cut -f1) f16 GGUF of $DIR, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "1. statistics, 1 thread, --ctx 128, 4 chunks of $TEXT"
best "qwen-verify imatrix" "$BINDIR/qwen-verify" imatrix "$M" --text-file $TEXT --ctx 128 \
	--chunks 4 -t 1 -q -o "$W/ours.gguf"
oc=$bcpu or=$brss
best "llama-imatrix" "$LT/llama-imatrix" -m "$M" -f $TEXT -c 128 --chunks 4 -t 1 --no-ppl \
	-o "$W/theirs.gguf"
x=$(echo "$bcpu $oc" | awk '{ printf "%.2f", $1 / $2 }')
echo "  llama / ours (cpu): $x"
printf 'imatrix statistics -t 1, %sL 1.5B f16, 4 x 128 tokens (cpu s) vs llama-imatrix\t%s\t%s\t%s\ts\t%s\t%s\tload %s\n' \
	"$LAYERS" "$oc" "$bcpu" "$(echo "$oc $bcpu" | awk '{ printf "%.2f", $1 / $2 }')" "$or" "$brss" \
	"$(cut -d' ' -f1 /proc/loadavg)" >>"$ROWS_OUT"

echo "2. quantizing with --imatrix (ours.gguf), 1 thread, embedding F16 on both sides"
echo "| type | qwen-quant cpu s (user) | peak RSS MB | llama-quantize cpu s (user) | peak RSS MB | llama / ours cpu (user) | files |"
for t in $TYPES; do
	best "qwen-quant --imatrix $t" "$BINDIR/qwen-quant" "$M" --imatrix "$W/ours.gguf" --type "$t" \
		--recipe "$W/embd-f16.yaml" -o "$W/q.gguf" -t 1 -q
	oc=$bcpu or=$brss ou=$buser
	best "llama-quantize --imatrix $t" "$LT/llama-quantize" --imatrix "$W/ours.gguf" \
		--token-embedding-type f16 "$M" "$W/l.gguf" "$t" 1
	same=$(cmp -s "$W/q.gguf" "$W/l.gguf" && echo identical || echo DIFFERENT)
	x=$(echo "$bcpu $oc" | awk '{ printf "%.2f", $1 / $2 }')
	xu=$(echo "$buser $ou" | awk '{ printf "%.2f", $1 / $2 }')
	echo "| $t | $oc ($ou) | $or | $bcpu ($buser) | $brss | $x ($xu) | $same |"
	printf 'qwen-quant --imatrix %s -t 1 (cpu s) vs llama-quantize\t%s\t%s\t%s\ts\t%s\t%s\tuser %s / %s s, files %s, load %s\n' \
		"$t" "$oc" "$bcpu" "$(echo "$oc $bcpu" | awk '{ printf "%.2f", $1 / $2 }')" "$or" "$brss" \
		"$ou" "$buser" "$same" "$(cut -d' ' -f1 /proc/loadavg)" >>"$ROWS_OUT"
done
rm -f "$W/q.gguf" "$W/l.gguf"
