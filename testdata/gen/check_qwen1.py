#!/usr/bin/env python3
"""Independent check of the qwen1 fixture.

transformers has no Qwen1 class, so the fixture's expected outputs come from
an equivalent Qwen2ForCausalLM. This script recomputes them in float64 numpy
straight from the Qwen1-form files (config.json keys, transformer.* tensor
names, qwen.tiktoken) following Qwen1's remote-code forward pass
(modeling_qwen.py, written out in numpy here), and fails unless logits
and hidden states agree with expected.safetensors to 1e-4 of the largest
magnitude and the argmax agrees everywhere. It also re-encodes each stored
text with the qwen.tiktoken ranks and compares the token ids.

Usage: check_qwen1.py [FIXTURE_DIR]
"""

import base64
import json
import os
import sys
import unicodedata

import numpy as np
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
       r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def load(path):
    out, meta = {}, None
    with safe_open(path, "pt") as f:
        meta = f.metadata()
        for k in f.keys():
            out[k] = f.get_tensor(k).double().numpy()
    return out, meta


def rms(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def rotate_half(t):
    h = t.shape[-1] // 2
    return np.concatenate([-t[..., h:], t[..., :h]], axis=-1)


def forward(cfg, w, ids):
    h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d = cfg["kv_channels"]
    eps = cfg["layer_norm_epsilon"]
    t = len(ids)
    if t > cfg["seq_length"]:
        sys.exit("sequence longer than seq_length: NTK/logn would apply")
    rot = int(d * cfg["rotary_pct"])
    inv = 1.0 / (cfg["rotary_emb_base"] ** (np.arange(0, rot, 2) / rot))
    fr = np.arange(t)[:, None] * inv[None, :]
    emb = np.concatenate([fr, fr], axis=-1)
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]
    mask = np.triu(np.full((t, t), -np.inf), 1)
    x = w["transformer.wte.weight"][ids]
    hidden = [x]
    for n in range(cfg["num_hidden_layers"]):
        p = f"transformer.h.{n}."
        a = rms(x, w[p + "ln_1.weight"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"].T + w[p + "attn.c_attn.bias"]
        q, k, v = (qkv[:, i * h:(i + 1) * h].reshape(t, nh, d) for i in range(3))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        s = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(d) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", s, v).reshape(t, h)
        x = x + o @ w[p + "attn.c_proj.weight"].T
        m = rms(x, w[p + "ln_2.weight"], eps)
        g = m @ w[p + "mlp.w2.weight"].T
        u = m @ w[p + "mlp.w1.weight"].T
        x = x + (u * g / (1.0 + np.exp(-g))) @ w[p + "mlp.c_proj.weight"].T
        hidden.append(x)
    logits = rms(x, w["transformer.ln_f.weight"], eps) @ w["lm_head.weight"].T
    return logits, np.stack(hidden)


def tiktoken_ids(dirpath, text, n_regular):
    import tiktoken
    ranks = {}
    with open(os.path.join(dirpath, "qwen.tiktoken"), "rb") as f:
        for line in f.read().splitlines():
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    names = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + \
        [f"<|extra_{i}|>" for i in range(205)]
    special = {s: n_regular + i for i, s in enumerate(names)}
    enc = tiktoken.Encoding("qwen1_check", pat_str=PAT, mergeable_ranks=ranks,
                            special_tokens=special)
    return enc.encode(unicodedata.normalize("NFC", text), allowed_special="all")


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(HERE, "..", "models", "qwen1")
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    w, _ = load(os.path.join(d, "model.safetensors"))
    exp, meta = load(os.path.join(d, "expected.safetensors"))
    n_regular = sum(1 for _ in open(os.path.join(d, "qwen.tiktoken"), "rb"))
    worst = 0.0
    for s in range(int(meta["n_seq"])):
        ids = exp[f"tokens.{s}"].astype(np.int64)
        if tiktoken_ids(d, meta[f"text.{s}"], n_regular) != ids.tolist():
            sys.exit(f"sequence {s}: qwen.tiktoken encoding differs")
        logits, hidden = forward(cfg, w, ids)
        el, eh = exp[f"logits.{s}"], exp[f"hidden.{s}"]
        rl = np.abs(logits - el).max() / np.abs(el).max()
        rh = np.abs(hidden - eh).max() / np.abs(eh).max()
        if rl > 1e-4 or rh > 1e-4:
            sys.exit(f"sequence {s}: relative error logits {rl:.2e} "
                     f"hidden {rh:.2e}")
        if not np.array_equal(logits.argmax(-1), el.argmax(-1)):
            sys.exit(f"sequence {s}: argmax differs")
        worst = max(worst, rl, rh)
    print(f"qwen1: float64 Qwen1 forward agrees with expected "
          f"(max relative error {worst:.1e})")


if __name__ == "__main__":
    main()
