#!/bin/sh
# The i-quant quantizers, one thread, with importance weights: quant/
# (build/bench/iq_bench) against libggml's ggml_quantize_chunk (the
# llama-cpp-python 0.3.36 build of .venv-ggml, through ctypes; the call
# llama-quantize makes per chunk), rows of 4096 with positive weights.
# Prints seconds per 1M values for each. Measures only, asserts nothing.
#   BUILD=build sh tests/bench/iq_bench.sh      (IQ_BENCH_ROWS=256)
BUILD=${BUILD:-build}
GGML_PY=${GGML_PY:-.venv-ggml/bin/python}
ROWS=${IQ_BENCH_ROWS:-256}
TYPES="IQ4_NL IQ4_XS IQ3_S IQ3_XXS IQ2_S IQ2_XS IQ2_XXS IQ1_M IQ1_S"
B="$BUILD/bench/iq_bench"
[ -x "$B" ] || { echo "iq_bench: $B not built (make bench builds it)"; exit 1; }
echo "iq_bench: $ROWS rows x 4096, one thread, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-8s %12s %12s %8s\n' type "ours s/Mval" "ggml s/Mval" ratio
for t in $TYPES; do
	ours=$("$B" "$t" "$ROWS" | awk '{print $3}')
	if [ -x "$GGML_PY" ]; then
		theirs=$("$GGML_PY" - "$t" "$ROWS" <<'PY'
import ctypes, sys, time
import numpy as np
sys.path.insert(0, "testdata/gen/quant")
import gen_quant_golden as gq
lib = gq.load_ggml()[0]
ids = {"IQ4_NL": 20, "IQ4_XS": 23, "IQ3_S": 21, "IQ3_XXS": 18, "IQ2_S": 22,
       "IQ2_XS": 17, "IQ2_XXS": 16, "IQ1_M": 29, "IQ1_S": 19}
t, rows = ids[sys.argv[1]], int(sys.argv[2])
rng = np.random.default_rng(1)
x = (rng.standard_normal((rows, 4096)) * 0.02).astype(np.float32)
w = (0.1 + rng.random(4096)).astype(np.float32)
out = np.zeros(rows * gq.row_bytes(lib, t, 4096), dtype=np.uint8)
lib.ggml_quantize_chunk(t, gq.ptr(x[:1]), gq.ptr(out), 0, 1, 4096, gq.ptr(w))  # grid init
t0 = time.perf_counter()
for r in range(rows):
    lib.ggml_quantize_chunk(t, gq.ptr(x[r:r + 1]), gq.ptr(out), 0, 1, 4096, gq.ptr(w))
print("%.3f" % (time.perf_counter() - t0))
PY
)
	else
		theirs=""
	fi
	awk -v t="$t" -v a="$ours" -v b="$theirs" -v n="$ROWS" 'BEGIN {
		m = n * 4096 / 1e6
		if (b == "") printf "%-8s %12.3f %12s %8s\n", t, a / m, "-", "-"
		else printf "%-8s %12.3f %12.3f %8.2f\n", t, a / m, b / m, a / b }'
done
