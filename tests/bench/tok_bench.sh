#!/bin/sh
# Tokenizer encode speed on the committed corpus (testdata/tokenizer/corpus/,
# 675 KB in 15 files, one encode call per file), single-threaded: ours
# (tk_encode through $BUILD/tools/tok_dump --time) against Hugging Face
# tokenizers 0.23.3 and, for Qwen1, tiktoken 0.14.0 (tests/bench/tok_bench.py
# in .venv; skipped without it). Prints MB/s; the encoder's target is
# >= 5 MB/s on this corpus. Measures only; nothing is asserted but that the
# runs succeed.
#   BUILD=build sh tests/bench/tok_bench.sh      TOK_BENCH_REPEAT=N (default 5)
BUILD=${BUILD:-build}
PY=${TOK_BENCH_PY:-.venv/bin/python}
R=${TOK_BENCH_REPEAT:-5}
C=testdata/tokenizer/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s "BUILD=$BUILD" "$BUILD/tools/tok_dump" >/dev/null || exit 1
# one text per file, as the reference does: time each file and add up
ours() { # NAME ARGS...
	name=$1; shift
	total_b=0; total_s=0; total_n=0
	for f in $C/*.txt $C/*.bin; do
		line=$("$BUILD/tools/tok_dump" --time "$R" "$@" "$f") || { echo "tok_bench: tok_dump failed on $f"; exit 1; }
		total_b=$(echo "$line $total_b" | awk '{ print $1 + $4 }')
		total_s=$(echo "$line $total_s" | awk '{ print $2 + $4 }')
		total_n=$(echo "$line $total_n" | awk '{ print $3 + $4 }')
	done
	echo "$name $total_b $total_s $total_n"
}
{
	ours qwen3 --dir testdata/models/qwen3_realvocab
	ours fixture --dir testdata/models/qwen3
	ours qwen1 --qwen1 --dir testdata/models/qwen1
} >"$tmp/ours" || exit 1
if [ -x "$PY" ] && RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false "$PY" tests/bench/tok_bench.py "$R" >"$tmp/ref" 2>"$tmp/err"; then
	:
else
	echo "tok_bench: no reference timing ($PY with tokenizers, tiktoken): $(tail -n 1 "$tmp/err" 2>/dev/null)"
	: >"$tmp/ref"
fi
echo "tok_bench: corpus $(cat $C/*.txt $C/*.bin | wc -c) bytes, $R repeats, one thread"
awk 'NR == FNR { ref[$1] = $2 / $3 / 1e6; rn[$1] = $4; next }
     { mb = $2 / $3 / 1e6
       printf "tok_bench: %-8s ours %6.2f MB/s (%d ids)", $1, mb, $4
       if ($1 in ref) printf ", %s %6.2f MB/s (%d ids): %.2fx", ($1 == "qwen1" ? "tiktoken" : "tokenizers"), ref[$1], rn[$1], mb / ref[$1]
       printf "\n" }' "$tmp/ref" "$tmp/ours"
