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

# ---- llama-perplexity's standard errors, over 24 scored positions ----
# rm_acc_add_scored on T2 = 25 rows of the same formulas (positions 0..23,
# next token t2[t + 1]); the formulas are llama-perplexity's
# (mean_and_uncertainty, covariance, the Delta-method errors), written out
# with NumPy arrays rather than running sums.
T2 = 25
t2 = [(13 * t + 7) % V for t in range(T2)]
ref2 = np.array([((37 * i + 11 * t) % 101 - 50) / 16.0 for t in range(T2)], dtype=np.float32)
cand2 = np.array([ref2[t] + ((53 * i + 5 * t) % 7 - 3) / 64.0 for t in range(T2)], dtype=np.float32)
r2 = ref2.astype(np.float64)[:-1]
c2 = cand2.astype(np.float64)[:-1]
p2 = np.exp(r2) / np.exp(r2).sum(axis=1, keepdims=True)
q2 = np.exp(c2) / np.exp(c2).sum(axis=1, keepdims=True)
n = T2 - 1
kld2 = (p2 * np.log(p2 / q2)).sum(axis=1)
nx = t2[1:]
nll_r = -np.log(p2[np.arange(n), nx])
nll_c = -np.log(q2[np.arange(n), nx])
dp2 = q2[np.arange(n), nx] - p2[np.arange(n), nx]


def se(x):
    """standard error of the mean, llama's (n > 10)"""
    return np.sqrt(np.var(x) / (len(x) - 1))


cov = np.mean(nll_r * nll_c) - nll_r.mean() * nll_c.mean()
cov /= n - 1
ppl_r, ppl_c = np.exp(nll_r.mean()), np.exp(nll_c.mean())
lnr_err = np.sqrt(se(nll_c) ** 2 + se(nll_r) ** 2 - 2 * cov)
ms = np.mean(dp2 ** 2)
vals2 = {
    "s_kld_mean": kld2.mean(),
    "s_kld_mean_err": se(kld2),
    "s_kld_p10": np.percentile(kld2, 10),
    "s_kld_p01": np.percentile(kld2, 1),
    "s_ppl_ref_err": ppl_r * se(nll_r),
    "s_ppl_cand_err": ppl_c * se(nll_c),
    "s_ln_ratio": nll_c.mean() - nll_r.mean(),
    "s_ln_ratio_err": lnr_err,
    "s_ln_cor": cov / (se(nll_r) * se(nll_c)),
    "s_ppl_diff_err": np.sqrt((ppl_c * se(nll_c)) ** 2 + (ppl_r * se(nll_r)) ** 2
                              - 2 * ppl_c * ppl_r * cov),
    "s_dp_mean_err": se(dp2),
    "s_dp_max": dp2.max(),
    "s_dp_p75": np.percentile(dp2, 75),
    "s_dp_median": np.median(dp2),
    "s_dp_p05": np.percentile(dp2, 5),
    "s_dp_min": dp2.min(),
    "s_rms_dp": np.sqrt(ms),
    "s_rms_dp_err": 0.5 / np.sqrt(ms) * se(dp2 ** 2),
    "s_top1": np.mean(np.argmax(r2, axis=1) == np.argmax(c2, axis=1)),
}
for k, v in vals2.items():
    print(f"#define X_{k.upper()} {v:.17g}")
