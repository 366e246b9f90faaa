#!/bin/sh
# qwen-convert against llama.cpp's convert_hf_to_gguf.py and against copying
# the same number of bytes (`cp` of a file of the output's size, then `sync
# FILE`, which fsyncs it) on a synthetic Qwen2.5-1.5B-shaped bf16 checkpoint
# ($BUILD/bench/gen_synth -m 1.5b, about 3.1 GB, kept under $BUILD/bench/
# between runs; CONVERT_BENCH_MODEL=0.5b for the 988 MB one) with the real
# Qwen tokenizer (testdata/models/qwen3_realvocab's tokenizer.json: 151669
# entries in a 151936 vocabulary). Each writes --outtype bf16 (and f16 for
# the two of ours). Prints wall time, CPU time and peak RSS of each
# (/usr/bin/time -v), the wall-time ratios, the load average around each run,
# and whether our file and llama.cpp's are identical (sha256). Rows of the
# `make bench` table go to $BUILD/bench/rows/convert.tsv (tests/bench/table.sh).
# Measures only; nothing is asserted but that the runs succeed. qwen-convert
# writes around the page cache (O_DIRECT) and cp through it, so the copy
# around it (dd oflag=direct conv=fsync) is timed too.
#
# llama.cpp's converter is the one vendored in the llama-cpp-python 0.3.36
# sdist (LLAMA_CPP_DIR=<sdist>/vendor/llama.cpp, or fetched into
# $BUILD/bench/ with pip download), run with its own gguf-py and its
# requirements: those the fixture venv .venv has (torch, transformers,
# numpy; testdata/gen/README.md) plus sentencepiece and protobuf, installed
# into $BUILD/bench/venv-convert, a venv that sees .venv's packages through a
# .pth file. Skipped, with a message, without .venv, /usr/bin/time or the
# converter.
#
# Fairness: the input is read once before the runs (page-cache warm for both);
# `sync` runs before each run; qwen-convert fsyncs its output before the
# atomic rename and llama.cpp's converter does not, so the time of the `sync`
# right after llama.cpp's run is printed too.
#   BUILD=build BINDIR=bin sh tests/bench/convert_bench.sh
#   CONVERT_BENCH_OUTTYPES="bf16 q8_0" CONVERT_BENCH_THREADS="1 2" ... to change the runs
#   CONVERT_BENCH_REPS=3: rounds of (ours, cp + fsync, dd) per thread count
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
CONV="$BINDIR/qwen-convert"
GEN="$BUILD/bench/gen_synth"
MODEL=${CONVERT_BENCH_MODEL:-1.5b}
DIR="$BUILD/bench/qwen2.5-$MODEL-synth"
VENV=${QK_VENV:-.venv}
CV="$BUILD/bench/venv-convert"
OUTTYPES=${CONVERT_BENCH_OUTTYPES:-"bf16 f16"}
THREADS=${CONVERT_BENCH_THREADS:-"1 2"}
REPS=${CONVERT_BENCH_REPS:-3}
LCP=llama_cpp_python-0.3.36

skip() { echo "convert_bench: skipped: $*"; exit 0; }

[ -x /usr/bin/time ] || skip "no /usr/bin/time (apt-get install time)"
[ -x "$VENV/bin/python" ] || skip "no fixture venv $VENV (testdata/gen/README.md)"

# llama.cpp's converter from the sdist
LL=${LLAMA_CPP_DIR:-$BUILD/bench/$LCP/vendor/llama.cpp}
if [ ! -f "$LL/convert_hf_to_gguf.py" ] && [ -z "$LLAMA_CPP_DIR" ]; then
	echo "convert_bench: fetching the llama-cpp-python 0.3.36 sdist into $BUILD/bench"
	"$VENV/bin/pip" download -q --no-deps --no-binary :all: llama-cpp-python==0.3.36 \
		-d "$BUILD/bench" >/dev/null 2>&1 &&
		tar xzf "$BUILD/bench/$LCP.tar.gz" -C "$BUILD/bench" \
			"$LCP/vendor/llama.cpp/convert_hf_to_gguf.py" "$LCP/vendor/llama.cpp/conversion" \
			"$LCP/vendor/llama.cpp/gguf-py"
fi
[ -f "$LL/convert_hf_to_gguf.py" ] || skip "no llama.cpp converter (set LLAMA_CPP_DIR)"

# the converter's requirements .venv lacks, in a venv layered over .venv
if ! "$CV/bin/python" -c 'import sentencepiece, google.protobuf, torch, transformers' 2>/dev/null; then
	echo "convert_bench: making $CV (.venv + sentencepiece, protobuf)"
	site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
	"$VENV/bin/python" -m venv "$CV" &&
		cvsite=$("$CV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') &&
		(cd "$site" && pwd) >"$cvsite/fixture-venv.pth" &&
		"$CV/bin/pip" install -q 'sentencepiece>=0.1.98,<0.3.0' 'protobuf>=4.21.0,<5.0.0' >/dev/null 2>&1 ||
		{ rm -rf "$CV"; skip "cannot install sentencepiece and protobuf into $CV"; }
fi
versions=$(PYTHONPATH="$LL/gguf-py" "$CV/bin/python" -c 'import torch, transformers, numpy, sentencepiece, gguf
print("torch", torch.__version__, "transformers", transformers.__version__, "numpy", numpy.__version__,
      "sentencepiece", sentencepiece.__version__)') ||
	skip "the converter's packages do not import in $CV"

# (re)generate the checkpoint when missing or older than the generator
if [ ! -f "$DIR/model.safetensors" ] || [ "$GEN" -nt "$DIR/model.safetensors" ]; then
	echo "convert_bench: generating $DIR"
	"$GEN" -m "$MODEL" "$DIR" || exit 1
fi
for f in tokenizer.json tokenizer_config.json; do
	cmp -s testdata/models/qwen3_realvocab/$f "$DIR/$f" ||
		cp testdata/models/qwen3_realvocab/$f "$DIR/" || exit 1
done

tmp=$(mktemp -d "$BUILD/bench/convert-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
ROWS="$BUILD/bench/rows/convert.tsv"
mkdir -p "$BUILD/bench/rows" && : >"$ROWS"
size=$(du -m "$DIR/model.safetensors" | cut -f1)
cat "$DIR/model.safetensors" >/dev/null
echo "convert_bench: $DIR ($size MB bf16), $(nproc) CPUs online, $versions"

# run NAME COMMAND...: time one conversion, print one line
run() {
	name=$1
	shift
	sync
	load=$(uptime | sed 's/.*load average: //')
	if ! /usr/bin/time -v "$@" >"$tmp/out.txt" 2>"$tmp/time.txt"; then
		echo "convert_bench: $name failed"
		tail -20 "$tmp/out.txt" "$tmp/time.txt"
		exit 1
	fi
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/time.txt")
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$tmp/time.txt")
	usr=$(sed -n 's/.*User time (seconds): *//p' "$tmp/time.txt")
	sys=$(sed -n 's/.*System time (seconds): *//p' "$tmp/time.txt")
	secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	printf 'convert_bench: %-28s wall %7.1f s  cpu %6.1f s (user %5.1f)  peak RSS %6d MB  (load before: %s)\n' \
		"$name" "$secs" "$(echo "$usr $sys" | awk '{ print $1 + $2 }')" "$usr" "$(( ${rss:-0} / 1024 ))" "$load"
	last=$secs
	last_rss=$(( ${rss:-0} / 1024 ))
}

# lo A B, hi A B: the smaller, the larger number (A may be empty)
lo() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
hi() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }'; }

# row FIGURE OURS THEIRS UNIT RSS_OURS RSS_THEIRS NOTE: one line of the table
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		"$(echo "$2 $3" | awk '{ printf "%.2f", $1 / $2 }')" "$4" "$5" "$6" "$7" >>"$ROWS"
}

for ot in $OUTTYPES; do
	llama=""
	if [ "$ot" = bf16 ]; then
		run "llama.cpp --outtype $ot" env PYTHONPATH="$LL/gguf-py" "$CV/bin/python" \
			"$LL/convert_hf_to_gguf.py" --outtype "$ot" --outfile "$tmp/llama.gguf" "$DIR"
		llama=$last llama_rss=$last_rss
		t1=$(date +%s.%N)
		sync
		t2=$(date +%s.%N)
		printf 'convert_bench: %-28s %7.1f s after it (its output was still in the page cache)\n' \
			"sync" "$(echo "$t1 $t2" | awk '{ print $2 - $1 }')"
	fi
	for t in $THREADS; do
		# REPS rounds of the three, alternating; the best (least) wall time
		# of each is compared, the spread (least-most) shown
		o_lo="" o_hi="" c_lo="" c_hi="" d_lo="" d_hi="" ours_rss=0 c_rss=0 d_rss=0
		for rep in $(seq "$REPS"); do
			rm -f "$tmp/ours.gguf"
			run "qwen-convert --outtype $ot -t $t" "$CONV" -q -t "$t" --outtype "$ot" \
				-o "$tmp/ours.gguf" "$DIR"
			o_lo=$(lo "$o_lo" "$last") o_hi=$(hi "$o_hi" "$last") ours_load=$load
			ours_rss=$(hi "$ours_rss" "$last_rss")
			# the same number of bytes copied from the page cache (our output,
			# written around the cache, read into it first) and fsynced
			cat "$tmp/ours.gguf" >/dev/null
			run "cp + fsync (same size)" sh -c 'cp "$1" "$2" && sync "$2"' sh "$tmp/ours.gguf" \
				"$tmp/cp.gguf"
			rm -f "$tmp/cp.gguf"
			c_lo=$(lo "$c_lo" "$last") c_hi=$(hi "$c_hi" "$last") c_rss=$(hi "$c_rss" "$last_rss")
			# and copied around the page cache, as qwen-convert writes
			# (O_DIRECT, formats/base/outfile.h): the floor for these bytes here
			run "dd oflag=direct (same size)" dd if="$tmp/ours.gguf" of="$tmp/cp.gguf" bs=1M \
				oflag=direct conv=fsync status=none
			rm -f "$tmp/cp.gguf"
			d_lo=$(lo "$d_lo" "$last") d_hi=$(hi "$d_hi" "$last") d_rss=$(hi "$d_rss" "$last_rss")
		done
		ours=$o_lo
		printf 'convert_bench: %-28s best of %s: qwen-convert %s s (%s-%s), cp + fsync %s s (%s-%s), dd oflag=direct %s s (%s-%s); ours / cp = %.2f, ours / dd = %.2f\n' \
			"" "$REPS" "$o_lo" "$o_lo" "$o_hi" "$c_lo" "$c_lo" "$c_hi" "$d_lo" "$d_lo" "$d_hi" \
			"$(echo "$o_lo $c_lo" | awk '{ print $1 / $2 }')" "$(echo "$o_lo $d_lo" | awk '{ print $1 / $2 }')"
		row "convert $ot -t $t vs cp+fsync (s)" "$o_lo" "$c_lo" s "$ours_rss" "$c_rss" \
			"$(du -m "$tmp/ours.gguf" | cut -f1) MB written; best of $REPS, spread ours $o_lo-$o_hi s, cp $c_lo-$c_hi s; load $ours_load"
		row "convert $ot -t $t vs dd oflag=direct (s)" "$o_lo" "$d_lo" s "$ours_rss" "$d_rss" \
			"the same bytes copied around the page cache; spread dd $d_lo-$d_hi s"
		if [ -n "$llama" ]; then
			printf 'convert_bench: %-28s qwen-convert wall / llama.cpp wall = %.2f\n' "" \
				"$(echo "$ours $llama" | awk '{ print $1 / $2 }')"
			row "convert $ot -t $t vs convert_hf_to_gguf.py (s)" "$ours" "$llama" s "$ours_rss" \
				"$llama_rss" "llama.cpp's run without fsync"
		fi
	done
	[ -n "$llama" ] || { rm -f "$tmp/ours.gguf"; continue; }
	if cmp -s "$tmp/ours.gguf" "$tmp/llama.gguf"; then
		echo "convert_bench: --outtype $ot: the two files are identical" \
			"(sha256 $(sha256sum <"$tmp/ours.gguf" | cut -c1-16)...)"
	else  # say how, by gguf-py (the sdist's)
		PYTHONPATH="$LL/gguf-py" "$CV/bin/python" - "$tmp/ours.gguf" "$tmp/llama.gguf" "$ot" <<'EOF'
import sys
import numpy as np
from gguf import GGUFReader
a, b = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
ka = {k: ([t.name for t in f.types], f.contents()) for k, f in a.fields.items()}
kb = {k: ([t.name for t in f.types], f.contents()) for k, f in b.fields.items()}
tb = {t.name: t for t in b.tensors}
same_t = sum(t.name in tb and t.tensor_type == tb[t.name].tensor_type
             and list(t.shape) == list(tb[t.name].shape)
             and np.array_equal(np.asarray(t.data).view(np.uint8), np.asarray(tb[t.name].data).view(np.uint8))
             for t in a.tensors)
diff_k = sorted(k for k in set(ka) | set(kb) if ka.get(k) != kb.get(k))
order_k = list(ka) != list(kb)
order_t = [t.name for t in a.tensors] != [t.name for t in b.tensors]
print(f"convert_bench: --outtype {sys.argv[3]}: the files differ: {len(ka)}/{len(kb)} keys, "
      f"{len(diff_k)} with other types or values {diff_k[:4]}, key order "
      f"{'differs' if order_k else 'same'}; tensors {same_t}/{len(b.tensors)} identical by name "
      f"(type, shape, bytes), tensor order {'differs' if order_t else 'same'}")
EOF
	fi
	rm -f "$tmp/ours.gguf" "$tmp/llama.gguf"
done
echo "convert_bench: load average now: $(uptime | sed 's/.*load average: //')"
