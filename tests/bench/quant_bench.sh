#!/bin/sh
# qwen-quant against llama.cpp's llama-quantize, per type and thread count.
#
#  1. the table: every legacy type and k-quant (--pure: every tensor gets the
#     type, so the row times one quantizer) from the same f16 GGUF, and
#     Q4_K/Q8_0/F16/BF16 from bf16 and f32 GGUFs, at 1 and 2 threads, on a
#     synthetic Qwen2.5-1.5B-shaped checkpoint cut to 2 layers ($BUILD/bench/
#     gen_synth -m 1.5b -l 2: 327M weights, 233M of them the tied embedding).
#     Per run: wall time, CPU time (user + sys), peak RSS (/usr/bin/time -v);
#     per row: "cpu x" = llama-quantize's CPU time / qwen-quant's, the
#     per-thread speed ratio (the figure the machine's other load disturbs
#     least), "wall x" the same for wall time, and whether the two files are
#     identical. The table also goes to $BUILD/bench/quant_table.md.
#  2. (QUANT_BENCH_FULL=1) the full 28-layer model (about 3.1 GB bf16):
#     Q4_K_M straight from safetensors against the two-step peer path
#     (convert_hf_to_gguf.py to f16, then llama-quantize; needs the converter
#     venv convert_bench.sh makes), and peak RSS against model size.
#
# llama-quantize: the program built from the pinned llama.cpp when
# LLAMA_QUANTIZE (default /tmp/vtext-llama-build/bin/llama-quantize) is
# executable; otherwise llama-cpp-python 0.3.36's libllama (the .venv-ggml of
# testdata/quant/README.md) through ctypes from a 10-line Python script,
# exactly what llama-quantize's main does (the interpreter adds about 0.2 s
# and 40 MB: printed as "python baseline"). Inputs are read once before the
# runs (page cache warm); qwen-quant fsyncs its output, llama-quantize does
# not. The load average before each run is printed: the machine may be
# shared. Measures only; nothing is asserted but that the runs succeed.
#   BUILD=build BINDIR=bin sh tests/bench/quant_bench.sh
#   QUANT_BENCH_ROWS="f16:Q4_K_S bf16:Q8_0" QUANT_BENCH_THREADS="1 2" ...
#   QUANT_BENCH_SCALAR=1 adds qwen-quant's scalar path (QWENKIT_SIMD=off)
#   QUANT_BENCH_REPS=3: runs of each side per row, alternating; the least CPU
#   and the least wall time of each side are compared (the machine may be
#   shared), the largest peak RSS shown.
# Rows of the `make bench` table go to $BUILD/bench/rows/quant.tsv
# (tests/bench/table.awk): CPU seconds, ours and theirs, and the wall times
# and user / system split in the note. qwen-quant writes its output around
# the page cache (O_DIRECT, formats/base/outfile.h), llama-quantize through
# it: on a VM whose fresh guest pages fault in from the host that is most of
# the system time; QWENKIT_DIRECT_IO=off makes ours buffered too
# (QUANT_BENCH_BUFFERED=1 adds such a run to each row).
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
DIR2="$BUILD/bench/qwen2.5-1.5b-synth-2l"
ROWS=${QUANT_BENCH_ROWS:-"f16:Q2_K f16:Q3_K_S f16:Q4_K_S f16:Q5_K_S f16:Q6_K f16:Q4_0 f16:Q4_1
	f16:Q5_0 f16:Q5_1 f16:Q8_0 bf16:Q2_K bf16:Q3_K_S bf16:Q4_K_S bf16:Q5_K_S bf16:Q6_K bf16:Q4_0
	bf16:Q4_1 bf16:Q5_0 bf16:Q5_1 bf16:Q8_0 f32:Q4_K_S f32:Q8_0 bf16:F16 f32:F16 f16:BF16"}
REPS=${QUANT_BENCH_REPS:-3}
THREADS=${QUANT_BENCH_THREADS:-"1 2"}
FULL=${QUANT_BENCH_FULL:-0}
SCALAR=${QUANT_BENCH_SCALAR:-0}
PEER=${QUANT_BENCH_PEER:-1}
LLQ=${LLAMA_QUANTIZE:-/tmp/vtext-llama-build/bin/llama-quantize}
TABLE="$BUILD/bench/quant_table.md"

skip() { echo "quant_bench: skipped: $*"; exit 0; }

[ -x /usr/bin/time ] || skip "no /usr/bin/time (apt-get install time)"
if [ ! -x "$LLQ" ]; then
	LLQ=
	[ -x "$GGML_PY" ] || skip "no llama-quantize ($LLAMA_QUANTIZE) and no $GGML_PY (testdata/quant/README.md)"
	"$GGML_PY" -c 'import llama_cpp' 2>/dev/null || skip "llama_cpp does not import in $GGML_PY"
fi

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
gen "$DIR2" -l 2

tmp=$(mktemp -d "$BUILD/bench/quant-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
for in in f16 bf16 f32; do
	case " $ROWS " in *"$in:"*) "$CONV" -q -t 2 --outtype $in -o "$tmp/in.$in.gguf" "$DIR2" || exit 1 ;; esac
done

# llama-quantize's main, without the argument parsing
cat >"$tmp/llama_quantize.py" <<'EOF'
import ctypes, sys, llama_cpp
cb = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(lambda l, t, u: None)
llama_cpp.llama_log_set(cb, None)
llama_cpp.llama_backend_init()
p = llama_cpp.llama_model_quantize_default_params()
p.ftype, p.nthread = int(sys.argv[3]), int(sys.argv[4])
p.pure = len(sys.argv) > 5
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
EOF
# llama_ftype of each name (llama.h)
ftype() {
	case $1 in F32) echo 0 ;; F16) echo 1 ;; Q4_0) echo 2 ;; Q4_1) echo 3 ;; Q8_0) echo 7 ;;
	Q5_0) echo 8 ;; Q5_1) echo 9 ;; Q2_K) echo 10 ;; Q3_K_S) echo 11 ;; Q3_K_M) echo 12 ;;
	Q4_K_S) echo 14 ;; Q4_K_M) echo 15 ;; Q5_K_S) echo 16 ;; Q5_K_M) echo 17 ;; Q6_K) echo 18 ;;
	BF16) echo 32 ;; *) echo "unknown $1" >&2; exit 1 ;; esac
}
# llama_quantize IN OUT TYPE THREADS [--pure]: the peer, as a command line
llama_quantize() {
	if [ -n "$LLQ" ]; then
		echo "$LLQ ${5:-} $1 $2 $3 $4"
	else
		echo "$GGML_PY $tmp/llama_quantize.py $1 $2 $(ftype "$3") $4 ${5:+1}"
	fi
}

cat "$tmp"/in.*.gguf >/dev/null
echo "quant_bench: $DIR2 ($(du -m "$DIR2/model.safetensors" | cut -f1) MB bf16), $(nproc) CPUs online;" \
	"peer: ${LLQ:-libllama through ctypes}"

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
	lcpu=$(echo "$usr $sys" | awk '{ print $1 + $2 }')
	lusr=$usr lsys=$sys
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

[ -n "$LLQ" ] || run "python baseline (import llama_cpp)" "$GGML_PY" -c 'import llama_cpp'

# ---- 1. the table ----
{
	echo "| input | type | threads | qwen-quant wall s | cpu s | peak RSS MB | llama-quantize wall s | cpu s | peak RSS MB | cpu x | wall x | files |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$TABLE"
ROWF="$BUILD/bench/rows/quant.tsv"
mkdir -p "$BUILD/bench/rows" && : >"$ROWF"
BUFFERED=${QUANT_BENCH_BUFFERED:-0}
# best A B: the smaller number
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
for row in $ROWS; do
	in=${row%%:*}
	ty=${row#*:}
	for t in $THREADS; do
		lw="" lc="" lr=0 ow="" oc="" or=0 bw="" bc=""
		for rep in $(seq "$REPS"); do
			# shellcheck disable=SC2046 # the peer's command line is a word list
			run "llama-quantize --pure $in -> $ty -t $t" $(llama_quantize "$tmp/in.$in.gguf" \
				"$tmp/llama.gguf" "$ty" "$t" --pure)
			[ "$(best "$lc" "$lcpu")" = "$lcpu" ] && lu=$lusr lsy=$lsys
			lw=$(best "$lw" "$last") lc=$(best "$lc" "$lcpu") lr=$(( lrss > lr ? lrss : lr ))
			run "qwen-quant --pure $in -> $ty -t $t" "$Q" -q -t "$t" --pure --type "$ty" \
				-o "$tmp/ours.gguf" "$tmp/in.$in.gguf"
			[ "$(best "$oc" "$lcpu")" = "$lcpu" ] && ou=$lusr osy=$lsys
			ow=$(best "$ow" "$last") oc=$(best "$oc" "$lcpu") or=$(( lrss > or ? lrss : or ))
			if [ "$BUFFERED" = 1 ]; then
				run "qwen-quant ... (QWENKIT_DIRECT_IO=off)" env QWENKIT_DIRECT_IO=off "$Q" -q \
					-t "$t" --pure --type "$ty" -o "$tmp/ours.gguf" "$tmp/in.$in.gguf"
				bw=$(best "$bw" "$last") bc=$(best "$bc" "$lcpu")
			fi
		done
		same=$(cmp -s "$tmp/ours.gguf" "$tmp/llama.gguf" && echo identical || echo DIFFER)
		cx=$(echo "$lc $oc" | awk '{ printf "%.2f", $1 / $2 }')
		wx=$(echo "$lw $ow" | awk '{ printf "%.2f", $1 / $2 }')
		printf 'quant_bench: %-40s llama-quantize / qwen-quant (best of %s): cpu %s x, wall %s x; files %s\n' \
			"" "$REPS" "$cx" "$wx" "$same"
		echo "| $in | $ty | $t | $ow | $oc | $or | $lw | $lc | $lr | $cx | $wx | $same |" >>"$TABLE"
		note="wall $ow / $lw s; user $ou / $lu s, system $osy / $lsy s; llama-quantize / ours: cpu ${cx}x, wall ${wx}x; files $same; best of $REPS; load $load"
		[ "$BUFFERED" = 1 ] && note="$note; ours with QWENKIT_DIRECT_IO=off: cpu $bc s, wall $bw s"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
			"qwen-quant --pure $in -> $ty -t $t vs llama-quantize (cpu s)" "$oc" "$lc" \
			"$(echo "$oc $lc" | awk '{ printf "%.2f", $1 / $2 }')" s "$or" "$lr" "$note" >>"$ROWF"
		if [ "$SCALAR" = 1 ] && [ "$t" = 1 ]; then
			run "qwen-quant --pure $in -> $ty -t 1 (scalar)" env QWENKIT_SIMD=off "$Q" -q -t 1 \
				--pure --type "$ty" -o "$tmp/ours.gguf" "$tmp/in.$in.gguf"
			printf 'quant_bench: %-40s scalar path: llama-quantize / qwen-quant cpu %.2f x\n' "" \
				"$(echo "$lc $lcpu" | awk '{ print $1 / $2 }')"
		fi
		rm -f "$tmp/ours.gguf" "$tmp/llama.gguf"
	done
done
echo "quant_bench: table in $TABLE"
[ "$FULL" = 1 ] || { echo "quant_bench: load average now: $(uptime | sed 's/.*load average: //')"; exit 0; }
gen "$DIR"
gen "$DIR7" -l 7
TYPES="Q4_K_M"

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
	# shellcheck disable=SC2046 # the peer's command line is a word list
	run "  then llama-quantize -> $ty -t $t" $(llama_quantize "$tmp/hf.f16.gguf" "$tmp/llama.gguf" \
		"$ty" "$t")
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
