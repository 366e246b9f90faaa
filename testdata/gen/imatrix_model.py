#!/usr/bin/env python3
"""The deep narrow model of testdata/imatrix/qwen3_16l: a Qwen3 with 16
layers 32 wide (hidden and FFN 32, 2 query heads and 1 KV head of 16, tied
embeddings, the 512-entry vocabulary and tokenizer of the qwen3 fixture),
bf16, about 250 KB.

Why: llama-quantize's mix rules that count layers (Q4_0/Q5_0's ffn_down
with an imatrix, Q2_K_S, Q4_K_S, IQ3_XXS, IQ3_M, IQ4_NL/IQ4_XS: i_layer <
n_layer/8; Q3_K_M: i_layer < n_layer/16; IQ3_XS: n_layer/8 .. 7n/8) decide
nothing on the 1- and 2-layer fixtures; with 16 layers each has layers on
both sides. 32-wide rows take llama-quantize's fallback types for the
k-quants and the i-quants (the types differ by rule all the same).
Nothing expected comes from here: imatrix_oracle.py runs llama-imatrix and
llama-quantize on it and records their outputs.

Weights: fx_weights.draw (the fixtures' deterministic streams, seed 116);
the checkpoint is loaded back by transformers 5.23.0 (torch 2.15.0) and
every parameter compared, as make_fixtures.py does.

usage: .venv/bin/python testdata/gen/imatrix_model.py [--out DIR]
"""
import argparse
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fx_weights  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NAME = "qwen3_16l"
SEED = 116


def config():
    with open(os.path.join(ROOT, "testdata", "models", "qwen3", "config.json")) as f:
        c = json.load(f)
    c.update(hidden_size=32, intermediate_size=32, num_hidden_layers=16, max_window_layers=16,
             num_attention_heads=2, num_key_value_heads=1, head_dim=16,
             tie_word_embeddings=True)
    return c


def shapes(c):
    h, f, hd = c["hidden_size"], c["intermediate_size"], c["head_dim"]
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    s = {"model.embed_tokens.weight": (c["vocab_size"], h), "model.norm.weight": (h,)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        s.update({p + "input_layernorm.weight": (h,), p + "post_attention_layernorm.weight": (h,),
                  p + "self_attn.q_proj.weight": (q, h), p + "self_attn.k_proj.weight": (kv, h),
                  p + "self_attn.v_proj.weight": (kv, h), p + "self_attn.o_proj.weight": (h, q),
                  p + "self_attn.q_norm.weight": (hd,), p + "self_attn.k_norm.weight": (hd,),
                  p + "mlp.gate_proj.weight": (f, h), p + "mlp.up_proj.weight": (f, h),
                  p + "mlp.down_proj.weight": (h, f)})
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "imatrix", NAME))
    a = ap.parse_args()
    import torch
    import transformers
    from safetensors.torch import load_file

    c = config()
    fx = {"name": NAME, "emb_std": 0.15}
    state = fx_weights.make_state(SEED, shapes(c), fx, "bf16")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    fx_weights.save_single(state, os.path.join(a.out, "model.safetensors"))
    for t in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(ROOT, "testdata", "models", "qwen3", t), a.out)
    model = transformers.AutoModelForCausalLM.from_pretrained(a.out, dtype=torch.float32)
    stored = load_file(os.path.join(a.out, "model.safetensors"))
    sd = model.state_dict()
    for k, v in stored.items():
        if not torch.equal(sd[k], v.to(torch.float32)):
            raise SystemExit(f"imatrix_model: {k} differs after loading")
    assert torch.equal(sd["lm_head.weight"], sd["model.embed_tokens.weight"])
    n = sum(v.numel() for v in stored.values())
    print(f"imatrix_model: {a.out}: {n} parameters, "
          f"{os.path.getsize(os.path.join(a.out, 'model.safetensors'))} bytes "
          f"(transformers {transformers.__version__}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
