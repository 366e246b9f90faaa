#!/bin/sh
# The weighted quantizers, one thread: quant/ (build/bench/iq_bench) against
# libggml's ggml_quantize_chunk with the same importance weights and rows
# (the call llama-quantize makes per chunk), rows of 4096. libggml: the
# libggml-base.so beside llama-quantize in $LLAMA_TOOLS (default
# /tmp/vtext-llama-build/bin: the pinned llama.cpp built with
# GGML_NATIVE=OFF, what llama-quantize runs), else the llama-cpp-python
# 0.3.36 build of .venv-ggml; called through ctypes. Both sides time the
# calling thread's CPU (the machine may be shared); the grid maps are built
# before the clock starts on both. Prints seconds per 1M values and
# ggml / ours (> 1: ours is faster). Measures only, asserts nothing.
#   BUILD=build sh tests/bench/iq_bench.sh      (IQ_BENCH_ROWS=256)
BUILD=${BUILD:-build}
GGML_PY=${GGML_PY:-.venv-ggml/bin/python}
LT=${LLAMA_TOOLS:-/tmp/vtext-llama-build/bin}
ROWS=${IQ_BENCH_ROWS:-256}
TYPES=${IQ_BENCH_TYPES:-"Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS IQ3_S IQ3_XXS IQ2_S IQ2_XS IQ2_XXS IQ1_M IQ1_S"}
B="$BUILD/bench/iq_bench"
[ -x "$B" ] || { echo "iq_bench: $B not built (make bench builds it)"; exit 1; }
[ -x "$GGML_PY" ] || { echo "iq_bench: skipped: no $GGML_PY"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the rows and weights both sides quantize: N(0, 0.02^2) values, weights
# 0.1 + U(0, 1)
"$GGML_PY" -c "
import numpy as np, sys
r = np.random.default_rng(1)
x = (r.standard_normal(($ROWS, 4096)) * 0.02).astype(np.float32)
w = (0.1 + r.random(4096)).astype(np.float32)
open(sys.argv[1], 'wb').write(x.tobytes() + w.tobytes())" "$tmp/rows.f32" || exit 1
LIB=
[ -f "$LT/libggml-base.so" ] && LIB="$LT/libggml-base.so"
echo "iq_bench: $ROWS rows x 4096, one thread (CPU time), libggml ${LIB:-of llama-cpp-python}, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-8s %12s %12s %10s\n' type "ours s/Mval" "ggml s/Mval" "ggml/ours"
for t in $TYPES; do
	ours=$("$B" "$t" "$ROWS" "$tmp/rows.f32" | awk '{print $3}')
	theirs=$("$GGML_PY" - "$t" "$ROWS" "$tmp/rows.f32" "$LIB" <<'PY'
import ctypes, sys, time
import numpy as np
sys.path.insert(0, "testdata/gen/quant")
import gen_quant_golden as gq
lib = gq.load_ggml()[0]
if sys.argv[4]:
    own = ctypes.CDLL(sys.argv[4])
    own.ggml_quantize_chunk.argtypes = lib.ggml_quantize_chunk.argtypes
    own.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib = own
ids = {"Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q2_K": 10, "Q3_K": 11, "Q4_K": 12,
       "Q5_K": 13, "Q6_K": 14, "IQ4_NL": 20, "IQ4_XS": 23, "IQ3_S": 21, "IQ3_XXS": 18,
       "IQ2_S": 22, "IQ2_XS": 17, "IQ2_XXS": 16, "IQ1_M": 29, "IQ1_S": 19}
t, rows = ids[sys.argv[1]], int(sys.argv[2])
a = np.fromfile(sys.argv[3], dtype=np.float32)
x, w = a[:rows * 4096].reshape(rows, 4096), a[rows * 4096:]
out = np.zeros(4096 * 4, dtype=np.uint8)
lib.ggml_quantize_chunk(t, gq.ptr(x[:1]), gq.ptr(out), 0, 1, 4096, gq.ptr(w))  # grid init
t0 = time.thread_time()
for r in range(rows):
    lib.ggml_quantize_chunk(t, gq.ptr(x[r:r + 1]), gq.ptr(out), 0, 1, 4096, gq.ptr(w))
print("%.4f" % (time.thread_time() - t0))
PY
)
	awk -v t="$t" -v a="$ours" -v b="$theirs" -v n="$ROWS" 'BEGIN {
		m = n * 4096 / 1e6
		if (b == "") printf "%-8s %12.4f %12s %10s\n", t, a / m, "-", "-"
		else printf "%-8s %12.4f %12.4f %10.2f\n", t, a / m, b / m, b / a }'
done
