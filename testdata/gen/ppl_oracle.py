#!/usr/bin/env python3
"""Expected llama-perplexity figures for tests/cli/verify_ppl.sh, computed
with NumPy from the logits transformers produced for the golden fixtures
(testdata/models/*/expected.safetensors, made by make_fixtures.py with
transformers 5.23.0 / torch 2.15.0), not from qwenkit's forward pass.

llama-perplexity's protocol (tools/perplexity/perplexity.cpp, llama.cpp as
vendored in llama-cpp-python 0.3.36) on one chunk: the first n_ctx tokens of
sequence 0 run from position 0 (transformers' logits at positions < n_ctx
are exactly those of that chunk: attention is causal), positions
j = n_ctx/2 .. n_ctx-2 scored with nll_j = logsumexp(logits_j) -
logits_j[token_{j+1}], PPL = exp(mean nll), error = PPL sqrt((E[nll^2] -
E[nll]^2) / (N - 1)). n_ctx = T // 2 so that the sequence holds the
2 n_ctx tokens llama-perplexity requires. Fixtures whose tokenizer adds a
BOS are left out (the chunk would start with BOS, not the stored token).

    .venv/bin/python testdata/gen/ppl_oracle.py > testdata/verify/ppl_oracle.tsv
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")


def adds_bos(d):
    p = os.path.join(d, "tokenizer_config.json")
    if not os.path.exists(p):
        return False
    return bool(json.load(open(p, encoding="utf-8")).get("add_bos_token", False))


def chunk_nll(lg, tok, n_ctx):
    """llama-perplexity's scored positions of one chunk of n_ctx tokens
    (logits lg [n_ctx, V] as float64, tokens tok [n_ctx]): the negative
    log-likelihoods of token j+1 at positions j = n_ctx/2 .. n_ctx-2"""
    nll = []
    for j in range(n_ctx // 2, n_ctx - 1):
        row = lg[j]
        m = row.max()
        lse = m + np.log(np.exp(row - m).sum())
        nll.append(lse - row[tok[j + 1]])
    return nll


def summary(nll):
    """(mean nll, PPL, PPL error) as llama-perplexity prints them"""
    n = len(nll)
    mean = nll.mean()
    var = (nll * nll).mean() - mean * mean
    ppl = np.exp(mean)
    err = ppl * np.sqrt(var / (n - 1)) if var > 0 else 0.0
    return mean, ppl, err


def main():
    print("# fixture\tn_ctx\tn_tokens\ttokens\tnll_mean\tppl\tppl_err")
    for fx in sorted(os.listdir(ROOT)):
        d = os.path.join(ROOT, fx)
        e = os.path.join(d, "expected.safetensors")
        if not os.path.exists(e) or adds_bos(d):
            continue
        t = load_file(e)
        tok = t["tokens.0"].astype(np.int64)
        lg = t["logits.0"].astype(np.float64)
        n_ctx = len(tok) // 2
        mean, ppl, err = summary(np.array(chunk_nll(lg[:n_ctx], tok[:n_ctx], n_ctx)))
        ids = ",".join(str(int(x)) for x in tok)
        print(f"{fx}\t{n_ctx}\t{len(tok)}\t{ids}\t{mean:.12g}\t{ppl:.12g}\t{err:.12g}")


if __name__ == "__main__":
    sys.exit(main())
