#!/usr/bin/env python3
"""M-RoPE position streams of Qwen3.5 from transformers itself.

For each (mrope_section, head_dim, partial_rotary_factor) below, builds
transformers' Qwen3_5TextRotaryEmbedding and runs it on one token whose
three position streams differ (t = 1, h = 2, w = 3): each rotary pair's
frequency divided by its inv_freq is the position it took, i.e. its
stream. It also runs positions 0..7 as text (one position in every stream,
what Qwen3_5Model builds for text-only input) and checks the angles are
position * inv_freq exactly: plain partial NeoX RoPE.

Writes testdata/rope/mrope_streams.txt, one line per case:
  <s_t> <s_h> <s_w> <n_pairs> <stream of pair 0> ... <stream of pair n-1>
read by tests/unit/test_qwen35.c. Versions: transformers 5.23.0, torch 2.15.0.
usage: mrope_oracle.py [OUT]
"""
import os
import sys

import torch
from transformers import Qwen3_5TextConfig
from transformers.models.qwen3_5.modeling_qwen3_5 import Qwen3_5TextRotaryEmbedding

CASES = [([11, 11, 10], 256, 0.25),   # the released Qwen3.5 / 3.6 shape
         ([2, 1, 1], 32, 0.25),       # testdata/models/qwen3_5, qwen3_5_moe
         ([24, 20, 20], 128, 1.0)]    # Qwen2.5-VL-like full-width sections


def streams(sec, head_dim, prf):
    cfg = Qwen3_5TextConfig(head_dim=head_dim, rope_parameters={
        "rope_type": "default", "rope_theta": 10000000.0, "partial_rotary_factor": prf,
        "mrope_section": sec, "mrope_interleaved": True})
    rot = Qwen3_5TextRotaryEmbedding(cfg)
    inv = rot.inv_freq.double()
    x = torch.zeros(1, 1, head_dim)
    # one token, streams t=1, h=2, w=3: angle / inv_freq is the position
    # sin, not cos: with theta 1e7 the last pairs' angles are ~1e-5, where
    # cos rounds to 1 for every stream but sin stays proportional
    _, sin = rot(x, torch.tensor([[[1]], [[2]], [[3]]]))
    out = []
    for i in range(inv.numel()):
        got = float(sin[0, 0, i])
        cands = [abs(got - float(torch.sin(torch.tensor(p * float(rot.inv_freq[i])))))
                 for p in (1, 2, 3)]
        best = min(range(3), key=lambda k: cands[k])
        if sorted(cands)[1] <= 0.0:
            raise SystemExit(f"{sec}: pair {i}: streams indistinguishable")
        out.append(best)
    # text positions: identical in every stream -> position * inv_freq
    p = torch.arange(8)[None]
    cos_t, sin_t = rot(x, p)
    ref = p[0, :, None].float() * rot.inv_freq[None, :]
    if not torch.equal(cos_t[0, :, : inv.numel()], ref.cos()) or \
            not torch.equal(sin_t[0, :, : inv.numel()], ref.sin()):
        raise SystemExit(f"{sec}: text positions are not plain NeoX RoPE")
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "..", "rope", "mrope_streams.txt")
    lines = []
    for sec, hd, prf in CASES:
        st = streams(sec, hd, prf)
        lines.append(" ".join(str(v) for v in sec + [len(st)] + st))
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
