#!/bin/sh
# Checkpoints shipped quantized: qwen-convert and qwen-quant on a GPTQ-Int4
# and an AWQ checkpoint shaped like Qwen2.5-0.5B (tests/bench/pq_synth.py:
# random packed words, group 128, the real Qwen tokenizer of
# testdata/models/qwen3_realvocab; about 0.46 GB each, made once under
# $BUILD/bench/). Prints wall time, CPU time and peak RSS (/usr/bin/time)
# of each run and writes rows of the `make bench` table to
# $BUILD/bench/rows/pq.tsv:
#   - GPTQ -> f16 GGUF: qwen-convert -t 1 against llama.cpp's
#     convert_hf_to_gguf.py (which dequantizes GPTQ the same way: the two
#     files are compared with cmp and the result printed);
#   - GPTQ -> Q4_K_M: qwen-quant -t 1 in one pass against llama.cpp's
#     converter to f16 followed by llama-quantize Q4_K_M (one thread), the
#     two runs' wall times summed, the larger peak RSS;
#   - AWQ -> f16 and AWQ -> Q4_K_M: ours alone (llama.cpp's converter refuses
#     AWQ).
# Measures only; nothing is asserted but that the runs succeed.
#
# Needs the fixture venv .venv (pq_synth.py) and /usr/bin/time; the peer
# rows need llama.cpp's converter and its venv as tests/bench/convert_bench.sh
# sets them up (run it first; `make bench` does: LLAMA_CPP_DIR, else
# $BUILD/bench/llama_cpp_python-0.3.36/vendor/llama.cpp, and
# $BUILD/bench/venv-convert) and LLAMA_QUANTIZE (default
# /tmp/vtext-llama-build/bin/llama-quantize, built from the same sources).
# Without them the peer rows are skipped with a message.
#   BUILD=build BINDIR=bin sh tests/bench/pq_bench.sh
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
VENV=${QK_VENV:-.venv}
CV="$BUILD/bench/venv-convert"
LL=${LLAMA_CPP_DIR:-$BUILD/bench/llama_cpp_python-0.3.36/vendor/llama.cpp}
LLQ=${LLAMA_QUANTIZE:-/tmp/vtext-llama-build/bin/llama-quantize}

skip() { echo "pq_bench: skipped: $*"; exit 0; }

[ -x /usr/bin/time ] || skip "no /usr/bin/time (apt-get install time)"
[ -x "$VENV/bin/python" ] || skip "no fixture venv $VENV (testdata/gen/README.md)"
peer=1
if [ ! -f "$LL/convert_hf_to_gguf.py" ] || [ ! -x "$CV/bin/python" ]; then
	echo "pq_bench: no llama.cpp converter or $CV (tests/bench/convert_bench.sh makes them): ours alone"
	peer=
fi
[ -x "$LLQ" ] || echo "pq_bench: no llama-quantize at $LLQ: no Q4_K_M peer row"

for kind in gptq awq; do
	d="$BUILD/bench/qwen2.5-0.5b-$kind"
	if [ ! -f "$d/model.safetensors" ] || [ tests/bench/pq_synth.py -nt "$d/model.safetensors" ]; then
		nice "$VENV/bin/python" tests/bench/pq_synth.py $kind "$d" || exit 1
	fi
	for f in tokenizer.json tokenizer_config.json; do
		cmp -s testdata/models/qwen3_realvocab/$f "$d/$f" ||
			cp testdata/models/qwen3_realvocab/$f "$d/" || exit 1
	done
	cat "$d/model.safetensors" >/dev/null  # page cache warm for every run
done

tmp=$(mktemp -d "$BUILD/bench/pq-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
ROWS="$BUILD/bench/rows/pq.tsv"
mkdir -p "$BUILD/bench/rows" && : >"$ROWS"
echo "pq_bench: $(nproc) CPUs online, load average $(uptime | sed 's/.*load average: //')"

# run NAME COMMAND...: one timed run (/usr/bin/time -f: wall, user and
# system seconds, peak RSS in KB); sets last (wall s) and last_rss (MB)
run() {
	name=$1
	shift
	sync
	load=$(uptime | sed 's/.*load average: //')
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/out.txt" 2>&1 ||
		{ echo "pq_bench: $name failed"; tail -20 "$tmp/out.txt" "$tmp/time"; exit 1; }
	read -r last usr sys kb <"$tmp/time"
	last_rss=$((kb / 1024))
	printf 'pq_bench: %-36s wall %7.1f s  cpu %6.1f s  peak RSS %6d MB  (load before: %s)\n' \
		"$name" "$last" "$(echo "$usr $sys" | awk '{ print $1 + $2 }')" "$last_rss" "$load"
}

# row FIGURE OURS THEIRS RSS_OURS RSS_THEIRS NOTE (THEIRS "-": no peer)
row() {
	ratio=$(echo "$2 $3" | awk '$2 == "-" { print "-"; next } { printf "%.2f", $1 / $2 }')
	printf '%s\t%s\t%s\t%s\ts\t%s\t%s\t%s\n' "$1" "$2" "$3" "$ratio" "$4" "$5" "$6" >>"$ROWS"
}

g="$BUILD/bench/qwen2.5-0.5b-gptq"
a="$BUILD/bench/qwen2.5-0.5b-awq"

run "qwen-convert gptq -> f16 -t 1" "$BINDIR/qwen-convert" -q -t 1 --outtype f16 -o "$tmp/ours.gguf" "$g"
ours=$last ours_rss=$last_rss
if [ -n "$peer" ]; then
	run "convert_hf_to_gguf.py gptq -> f16" env PYTHONPATH="$LL/gguf-py" "$CV/bin/python" \
		"$LL/convert_hf_to_gguf.py" --outtype f16 --outfile "$tmp/llama.gguf" "$g"
	row "convert GPTQ-Int4 0.5B -> f16 -t 1 vs convert_hf_to_gguf.py (s)" "$ours" "$last" \
		"$ours_rss" "$last_rss" "llama.cpp's run without fsync; load $load"
	conv=$last conv_rss=$last_rss
	if cmp -s "$tmp/ours.gguf" "$tmp/llama.gguf"; then
		echo "pq_bench: gptq -> f16: the two files are identical (sha256 $(sha256sum <"$tmp/ours.gguf" | cut -c1-16)...)"
	else
		echo "pq_bench: gptq -> f16: the two files DIFFER (make crosscheck says how on the fixtures)"
	fi
else
	row "convert GPTQ-Int4 0.5B -> f16 -t 1 (s)" "$ours" - "$ours_rss" - "no peer run"
fi
rm -f "$tmp/ours.gguf"

run "qwen-quant gptq -> Q4_K_M -t 1" "$BINDIR/qwen-quant" -q -t 1 --type Q4_K_M -o "$tmp/q.gguf" "$g"
ours=$last ours_rss=$last_rss
rm -f "$tmp/q.gguf"
if [ -n "$peer" ] && [ -x "$LLQ" ]; then
	run "llama-quantize f16 -> Q4_K_M, 1 thread" "$LLQ" "$tmp/llama.gguf" "$tmp/lq.gguf" Q4_K_M 1
	row "requantize GPTQ-Int4 0.5B -> Q4_K_M -t 1 vs convert_hf_to_gguf.py f16 + llama-quantize (s)" \
		"$ours" "$(echo "$conv $last" | awk '{ print $1 + $2 }')" "$ours_rss" \
		"$(( conv_rss > last_rss ? conv_rss : last_rss ))" "two runs summed; load $load"
else
	row "requantize GPTQ-Int4 0.5B -> Q4_K_M -t 1 (s)" "$ours" - "$ours_rss" - "no peer run"
fi
rm -f "$tmp/llama.gguf" "$tmp/lq.gguf"

run "qwen-convert awq -> f16 -t 1" "$BINDIR/qwen-convert" -q -t 1 --outtype f16 -o "$tmp/ours.gguf" "$a"
row "convert AWQ-Int4 0.5B -> f16 -t 1 (s)" "$last" - "$last_rss" - \
	"no peer: llama.cpp's converter refuses AWQ; load $load"
rm -f "$tmp/ours.gguf"
run "qwen-quant awq -> Q4_K_M -t 1" "$BINDIR/qwen-quant" -q -t 1 --type Q4_K_M -o "$tmp/q.gguf" "$a"
row "requantize AWQ-Int4 0.5B -> Q4_K_M -t 1 (s)" "$last" - "$last_rss" - "no peer; load $load"
echo "pq_bench: load average now: $(uptime | sed 's/.*load average: //')"
