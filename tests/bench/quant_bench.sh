#!/bin/sh
# qwen-quant against llama.cpp's llama-quantize on a synthetic
# Qwen2.5-1.5B-shaped bf16 checkpoint ($BUILD/bench/gen_synth -m 1.5b: hidden
# 1536, 28 layers, 12/2 heads, FFN 8960, vocab 151936, tied; about 3.1 GB,
# kept under $BUILD/bench/ between runs, shared with convert_bench.sh) with
# the real Qwen tokenizer (testdata/models/qwen3_realvocab).
#
#  1. the same f16 GGUF (qwen-convert --outtype f16) to Q4_K_M and Q8_0 with
#     1 and 2 threads: wall time, CPU time, peak RSS (/usr/bin/time -v) of
#     each, the wall-time ratio, and whether the files are identical;
#  2. straight from safetensors (qwen-quant, one pass) against the two-step
#     peer path: llama.cpp's convert_hf_to_gguf.py to f16, then
#     llama-quantize (needs the converter venv convert_bench.sh makes; that
#     step is skipped with a message without it);
#  3. memory against model size: qwen-quant's peak RSS on the same shape
#     with 7 layers instead of 28.
#
# llama-quantize: llama-cpp-python 0.3.36 (the .venv-ggml of
# testdata/quant/README.md) ships libllama but not the llama-quantize
# program, so its llama_model_quantize is called through ctypes from a
# 10-line Python script, exactly what llama-quantize's main does; the
# interpreter adds about 0.2 s and 40 MB (printed as "python baseline").
# Fairness: inputs are read once before the runs (page cache warm); `sync`
# before each run; qwen-quant fsyncs its output before renaming it and
# llama-quantize does not, so the time of a `sync` right after each
# llama-quantize run is printed. The load average before each run is
# printed: the machine is shared. Measures only; nothing is asserted but
# that the runs succeed.
#   BUILD=build BINDIR=bin sh tests/bench/quant_bench.sh
#   QUANT_BENCH_TYPES="Q4_K_M" QUANT_BENCH_THREADS="2" QUANT_BENCH_PEER=0 ...
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
Q="$BINDIR/qwen-quant"
CONV="$BINDIR/qwen-convert"
GEN="$BUILD/bench/gen_synth"
DIR="$BUILD/bench/qwen2.5-1.5b-synth"
DIR7="$BUILD/bench/qwen2.5-1.5b-synth-7l"
GGML_PY=${GGML_PY:-.venv-ggml/bin/python}
CV="$BUILD/bench/venv-convert"
LL=${LLAMA_CPP_DIR:-$BUILD/bench/llama_cpp_python-0.3.36/vendor/llama.cpp}
TYPES=${QUANT_BENCH_TYPES:-"Q4_K_M Q8_0"}
THREADS=${QUANT_BENCH_THREADS:-"1 2"}
PEER=${QUANT_BENCH_PEER:-1}

skip() { echo "quant_bench: skipped: $*"; exit 0; }

[ -x /usr/bin/time ] || skip "no /usr/bin/time (apt-get install time)"
[ -x "$GGML_PY" ] || skip "no $GGML_PY (testdata/quant/README.md)"
"$GGML_PY" -c 'import llama_cpp' 2>/dev/null || skip "llama_cpp does not import in $GGML_PY"

gen() { # gen DIR [ARGS]: (re)generate a checkpoint when missing or stale
	d=$1
	shift
	if [ ! -f "$d/model.safetensors" ] || [ "$GEN" -nt "$d/model.safetensors" ]; then
		echo "quant_bench: generating $d"
		"$GEN" -m 1.5b "$@" "$d" || exit 1
	fi
	for f in tokenizer.json tokenizer_config.json; do
		cmp -s testdata/models/qwen3_realvocab/$f "$d/$f" ||
			cp testdata/models/qwen3_realvocab/$f "$d/" || exit 1
	done
}
gen "$DIR"
gen "$DIR7" -l 7

tmp=$(mktemp -d "$BUILD/bench/quant-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
F16="$tmp/synth.f16.gguf"
"$CONV" -q -t 2 --outtype f16 -o "$F16" "$DIR" || exit 1

# llama-quantize's main, without the argument parsing
cat >"$tmp/llama_quantize.py" <<'EOF'
import ctypes, sys, llama_cpp
cb = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(lambda l, t, u: None)
llama_cpp.llama_log_set(cb, None)
llama_cpp.llama_backend_init()
p = llama_cpp.llama_model_quantize_default_params()
p.ftype, p.nthread = int(sys.argv[3]), int(sys.argv[4])
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
EOF
ftype() {
	case $1 in Q4_K_M) echo 15 ;; Q8_0) echo 7 ;; Q4_0) echo 2 ;; Q6_K) echo 18 ;;
	Q5_K_M) echo 17 ;; Q3_K_M) echo 12 ;; Q2_K) echo 10 ;; *) echo "unknown $1" >&2; exit 1 ;; esac
}

cat "$DIR/model.safetensors" "$DIR7/model.safetensors" "$F16" >/dev/null
echo "quant_bench: $DIR ($(du -m "$DIR/model.safetensors" | cut -f1) MB bf16; f16 GGUF" \
	"$(du -m "$F16" | cut -f1) MB), $(nproc) CPUs online"

# run NAME COMMAND...: time one command, print one line; sets $last (s), $lrss (MB)
run() {
	name=$1
	shift
	sync
	load=$(uptime | sed 's/.*load average: //')
	if ! /usr/bin/time -v "$@" >"$tmp/out.txt" 2>"$tmp/time.txt"; then
		echo "quant_bench: $name failed"
		tail -20 "$tmp/out.txt" "$tmp/time.txt"
		exit 1
	fi
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/time.txt")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$tmp/time.txt")
	usr=$(sed -n 's/.*User time (seconds): *//p' "$tmp/time.txt")
	sys=$(sed -n 's/.*System time (seconds): *//p' "$tmp/time.txt")
	last=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	lrss=$(( ${rss:-0} / 1024 ))
	printf 'quant_bench: %-40s wall %7.1f s  cpu %7.1f s  peak RSS %6d MB  (load before: %s)\n' \
		"$name" "$last" "$(echo "$usr $sys" | awk '{ print $1 + $2 }')" "$lrss" "$load"
}

sync_time() {
	t1=$(date +%s.%N)
	sync
	t2=$(date +%s.%N)
	printf 'quant_bench: %-40s %7.1f s after it (its output was still in the page cache)\n' \
		"sync" "$(echo "$t1 $t2" | awk '{ print $2 - $1 }')"
}

run "python baseline (import llama_cpp)" "$GGML_PY" -c 'import llama_cpp'

# ---- 1. the same f16 GGUF ----
for ty in $TYPES; do
	for t in $THREADS; do
		run "llama-quantize f16 -> $ty -t $t" "$GGML_PY" "$tmp/llama_quantize.py" "$F16" \
			"$tmp/llama.gguf" "$(ftype "$ty")" "$t"
		llama=$last
		sync_time
		run "qwen-quant f16 -> $ty -t $t" "$Q" -q -t "$t" --type "$ty" -o "$tmp/ours.gguf" "$F16"
		printf 'quant_bench: %-40s llama-quantize wall / qwen-quant wall = %.2f; %s\n' "" \
			"$(echo "$llama $last" | awk '{ print $1 / $2 }')" \
			"$(cmp -s "$tmp/ours.gguf" "$tmp/llama.gguf" && echo "files identical" ||
				echo "FILES DIFFER")"
		rm -f "$tmp/ours.gguf" "$tmp/llama.gguf"
	done
done

# ---- 2. straight from safetensors vs convert_hf_to_gguf.py + llama-quantize ----
ty=$(echo "$TYPES" | cut -d' ' -f1)
t=$(echo "$THREADS" | awk '{ print $NF }')
run "qwen-quant safetensors -> $ty -t $t" "$Q" -q -t "$t" --type "$ty" -o "$tmp/ours.gguf" "$DIR"
ours=$last
ours_rss=$lrss
if [ "$PEER" = 1 ] && [ -f "$LL/convert_hf_to_gguf.py" ] &&
	"$CV/bin/python" -c 'import sentencepiece, torch, transformers' 2>/dev/null; then
	run "convert_hf_to_gguf.py --outtype f16" env PYTHONPATH="$LL/gguf-py" "$CV/bin/python" \
		"$LL/convert_hf_to_gguf.py" --outtype f16 --outfile "$tmp/hf.f16.gguf" "$DIR"
	step1=$last
	rss1=$lrss
	sync_time
	run "  then llama-quantize -> $ty -t $t" "$GGML_PY" "$tmp/llama_quantize.py" \
		"$tmp/hf.f16.gguf" "$tmp/llama.gguf" "$(ftype "$ty")" "$t"
	printf 'quant_bench: %-40s two steps %.1f s (peak RSS %d MB) / qwen-quant %.1f s (%d MB) = %.2f;' \
		"two-step peer path" "$(echo "$step1 $last" | awk '{ print $1 + $2 }')" \
		"$(( rss1 > lrss ? rss1 : lrss ))" "$ours" "$ours_rss" \
		"$(echo "$step1 $last $ours" | awk '{ print ($1 + $2) / $3 }')"
	echo " intermediate file $(du -m "$tmp/hf.f16.gguf" | cut -f1) MB;" \
		"$(cmp -s "$tmp/ours.gguf" "$tmp/llama.gguf" && echo "files identical" ||
			echo "files differ (the converters' metadata differs; see convert_bench.sh)")"
	rm -f "$tmp/hf.f16.gguf" "$tmp/llama.gguf"
else
	echo "quant_bench: two-step peer path skipped: needs $LL/convert_hf_to_gguf.py and the" \
		"converter venv $CV (tests/bench/convert_bench.sh makes both)"
fi
rm -f "$tmp/ours.gguf"

# ---- 3. memory against model size ----
run "qwen-quant safetensors 7 layers -t $t" "$Q" -q -t "$t" --type "$ty" -o "$tmp/ours.gguf" "$DIR7"
echo "quant_bench: peak RSS with 7 layers $lrss MB, with 28 layers $ours_rss MB"
echo "quant_bench: load average now: $(uptime | sed 's/.*load average: //')"
