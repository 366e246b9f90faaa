#!/bin/sh
# The reference forward pass against llama.cpp's CPU prompt processing on the
# same GGUF files, the same threads, one run: the synthetic
# Qwen2.5-0.5B-shaped checkpoint of verify_bench.sh ($BUILD/bench/gen_synth,
# with the real Qwen tokenizer of qwen3_realvocab, which llama.cpp needs to
# load it) converted by qwen-convert to F32 and BF16 GGUF, then for each type
# and thread count, alternately:
#   ours:  $BUILD/bench/ref_speed -t N -p P -r R FILE   (tests/bench/ref_speed.c)
#   llama: llama-bench -m FILE -p P -n 0 -t N -r R -o json
# Both run one warm-up pass, then R timed passes of P tokens computing the
# last position's logits; the best pass of each is compared (tokens/s, ours /
# llama.cpp), with the peak RSS of each process (/usr/bin/time -v) and the
# load average before the pair (the machine may be shared: best-of-R limits
# the noise, it cannot remove it). Rows of the `make bench` table go to
# $BUILD/bench/rows/ref.tsv (tests/bench/table.awk). Measures only.
#
# llama-bench: $LLAMA_BENCH, else build/llama.cpp/bin/llama-bench, built from
# the pinned sdist by testdata/gen/ppl_crosscheck.py's llama_tool (fixture
# venv .venv needed for that); without it only our side runs.
#   BUILD=build BINDIR=bin sh tests/bench/ref_bench.sh
#   REF_BENCH_TYPES="f32 bf16" REF_BENCH_THREADS="1 2" REF_BENCH_TOKENS=128 REF_BENCH_REPS=3
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
GEN="$BUILD/bench/gen_synth"
SPEED="$BUILD/bench/ref_speed"
DIR="$BUILD/bench/qwen2.5-0.5b-synth"
TYPES=${REF_BENCH_TYPES:-"f32 bf16"}
THREADS=${REF_BENCH_THREADS:-"1 2"}
P=${REF_BENCH_TOKENS:-128}
R=${REF_BENCH_REPS:-3}
VENV=${QK_VENV:-.venv}
ROWS="$BUILD/bench/rows/ref.tsv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$BUILD/bench/rows" && : >"$ROWS"

if [ ! -f "$DIR/model.safetensors" ] || [ "$GEN" -nt "$DIR/model.safetensors" ]; then
	echo "ref_bench: generating $DIR"
	"$GEN" "$DIR" || exit 1
fi
for f in tokenizer.json tokenizer_config.json; do
	cmp -s testdata/models/qwen3_realvocab/$f "$DIR/$f" || cp testdata/models/qwen3_realvocab/$f "$DIR/$f"
done
LB=${LLAMA_BENCH:-build/llama.cpp/bin/llama-bench}
if [ ! -x "$LB" ] && [ -z "$LLAMA_BENCH" ] && [ -x "$VENV/bin/python" ]; then
	echo "ref_bench: building llama-bench from the pinned sdist (testdata/gen/ppl_crosscheck.py)"
	LB=$(cd testdata/gen && "../../$VENV/bin/python" -c \
		'import ppl_crosscheck; print(ppl_crosscheck.llama_tool("llama-bench", "LLAMA_BENCH"))') ||
		LB=""
fi
[ -x "$LB" ] || echo "ref_bench: no llama-bench (set LLAMA_BENCH): only our side runs"
TIME=""
[ -x /usr/bin/time ] && TIME="/usr/bin/time -v"

# peak RSS in MB from the /usr/bin/time -v report in $1
rss() {
	r=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$1")
	echo $(( ${r:-0} / 1024 ))
}

echo "ref_bench: $DIR, $P tokens, best of $R, $(nproc) CPUs online"
for ty in $TYPES; do
	F="$BUILD/bench/synth-$ty.gguf"
	[ -f "$F" ] && [ ! "$DIR/model.safetensors" -nt "$F" ] ||
		"$BINDIR/qwen-convert" -q --outtype "$ty" "$DIR" -o "$F" || exit 1
	for t in $THREADS; do
		load=$(uptime | sed 's/.*load average: //')
		# shellcheck disable=SC2086 # TIME is a command prefix or empty
		$TIME "$SPEED" -t "$t" -p "$P" -r "$R" "$F" >"$tmp/ours.txt" 2>"$tmp/ours.time" ||
			{ echo "ref_bench: ref_speed failed"; cat "$tmp/ours.txt" "$tmp/ours.time"; exit 1; }
		ours=$(sed -n 's/.*best \([0-9.]*\) tokens.*/\1/p' "$tmp/ours.txt")
		printf 'ref_bench: %-5s -t %s  ours  %8.2f tokens/s  peak RSS %5d MB  (load before: %s)\n' \
			"$ty" "$t" "$ours" "$(rss "$tmp/ours.time")" "$load"
		[ -x "$LB" ] || continue
		# shellcheck disable=SC2086
		$TIME "$LB" -m "$F" -p "$P" -n 0 -t "$t" -r "$R" -o json >"$tmp/llama.json" \
			2>"$tmp/llama.time" ||
			{ echo "ref_bench: llama-bench failed"; tail -5 "$tmp/llama.time"; exit 1; }
		theirs=$(tr -d '\n ' <"$tmp/llama.json" | sed -n 's/.*"samples_ts":\[\([^]]*\)\].*/\1/p' |
			tr ',' '\n' | sort -g | tail -1 | awk '{ printf "%.2f", $1 }')
		printf 'ref_bench: %-5s -t %s  llama %8.2f tokens/s  peak RSS %5d MB   ours / llama.cpp = %.2f\n' \
			"$ty" "$t" "$theirs" "$(rss "$tmp/llama.time")" \
			"$(echo "$ours $theirs" | awk '{ print $1 / $2 }')"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
			"forward pass $ty -t $t, $P-token prompt (tokens/s)" "$ours" "$theirs" \
			"$(echo "$ours $theirs" | awk '{ printf "%.2f", $1 / $2 }')" "tokens/s" \
			"$(rss "$tmp/ours.time")" "$(rss "$tmp/llama.time")" \
			"llama-bench -p $P -n 0; best of $R; load $load" >>"$ROWS"
	done
done
