#!/usr/bin/env python3
"""Expected values for tests/unit/test_metrics.c, computed with NumPy along a
different path than ref/metrics.c: softmax by direct exponentiation and
normalisation (no max shift, no log-sum-exp), KLD as sum p * log(p / q), and
NumPy's own percentile (method "linear", which is llama.cpp's rule).

    .venv/bin/python testdata/gen/metrics_oracle.py

The inputs are the exactly representable rows the C test builds:
    ref[t][i]  = ((37 i + 11 t) mod 101 - 50) / 16
    cand[t][i] = ref[t][i] + ((53 i + 5 t) mod 7 - 3) / 64
for T = 6 positions of V = 97 logits, tokens 3 50 96 0 17 42.
"""
import numpy as np

T, V = 6, 97
tokens = [3, 50, 96, 0, 17, 42]
i = np.arange(V)
ref = np.array([((37 * i + 11 * t) % 101 - 50) / 16.0 for t in range(T)], dtype=np.float32)
cand = np.array([ref[t] + ((53 * i + 5 * t) % 7 - 3) / 64.0 for t in range(T)], dtype=np.float32)
assert np.all(cand.astype(np.float64) == ref.astype(np.float64) +
              np.array([((53 * i + 5 * t) % 7 - 3) / 64.0 for t in range(T)]))

r = ref.astype(np.float64)
c = cand.astype(np.float64)
p = np.exp(r) / np.exp(r).sum(axis=1, keepdims=True)
q = np.exp(c) / np.exp(c).sum(axis=1, keepdims=True)
kld = (p * np.log(p / q)).sum(axis=1)
top1 = np.mean(np.argmax(r, axis=1) == np.argmax(c, axis=1))
nxt = tokens[1:]
pn = p[np.arange(T - 1), nxt]
qn = q[np.arange(T - 1), nxt]
dp = qn - pn
ppl_ref = np.exp(np.mean(-np.log(pn)))
ppl_cand = np.exp(np.mean(-np.log(qn)))
vals = {
    "kld0": kld[0],
    "kld_mean": kld.mean(),
    "kld_median": np.median(kld),
    "kld_p90": np.percentile(kld, 90),
    "kld_p99": np.percentile(kld, 99),
    "kld_p999": np.percentile(kld, 99.9),
    "kld_min": kld.min(),
    "kld_max": kld.max(),
    "top1": top1,
    "ppl_ref": ppl_ref,
    "ppl_cand": ppl_cand,
    "ppl_ratio": ppl_cand / ppl_ref,
    "dp_mean": dp.mean(),
    "rms_dp": np.sqrt(np.mean(dp * dp)),
    "max_abs_logit_diff": np.abs(c - r).max(),
    "logits_nmse": ((c - r) ** 2).sum() / (r ** 2).sum(),
}
for k, v in vals.items():
    print(f"#define X_{k.upper()} {v:.17g}")
