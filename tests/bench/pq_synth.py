#!/usr/bin/env python3
# venv: .venv (torch, safetensors)
"""Benchmark inputs for tests/bench/pq_bench.sh: a Qwen2.5-0.5B-shaped
checkpoint (Qwen2ForCausalLM: hidden 896, 24 layers, 14 query and 2 KV heads
of 64, FFN 4864, vocabulary 151936, q/k/v biases, tied embeddings) shipped
quantized, in one of two published layouts:

  gptq  GPTQ 4-bit, group_size 128, no desc_act (g_idx = input // 128), sym,
        checkpoint_format gptq (v1 zeros: 7 stored for 8): X.qweight I32
        [in / 8, out], X.qzeros I32 [in / 128, out / 8], X.scales F16
        [in / 128, out], X.g_idx I32 [in]; the rest F16.
  awq   AWQ GEMM 4-bit, group_size 128, zero points: X.qweight I32
        [in, out / 8], X.qzeros I32 [in / 128, out / 8], X.scales F16
        [in / 128, out]; the rest F16.

The packed words are random (a fixed seed): speed does not depend on what
the integers mean, and no quantizer is run. Scales are random in
[0.001, 0.003) so the dequantized weights look like a trained model's
(|w| < 0.05). About 0.46 GB for either. Not committed data: the script
writes DIR/config.json and DIR/model.safetensors; the tokenizer files are
copied by pq_bench.sh.

usage: pq_synth.py {gptq|awq} DIR
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

HIDDEN, N_HEAD, N_KV, HEAD, FF, LAYERS, VOCAB = 896, 14, 2, 64, 4864, 24, 151936
GROUP = 128


def packed(kind, g, out_f, in_f):
    """the tensors of one quantized linear [out_f, in_f], random words"""
    ng = in_f // GROUP
    words = lambda *shape: torch.randint(-2**31, 2**31, shape, generator=g, dtype=torch.int64
                                         ).to(torch.int32)
    scales = (torch.rand(ng, out_f, generator=g) * 0.002 + 0.001).to(torch.float16)
    if kind == "gptq":
        return {"qweight": words(in_f // 8, out_f),
                "qzeros": torch.full((ng, out_f // 8), 0x77777777, dtype=torch.int32),
                "scales": scales,
                "g_idx": torch.arange(in_f, dtype=torch.int32) // GROUP}
    return {"qweight": words(in_f, out_f // 8), "qzeros": words(ng, out_f // 8),
            "scales": scales}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("gptq", "awq"):
        sys.exit(__doc__.split("usage: ")[1])
    kind, d = sys.argv[1], sys.argv[2]
    g = torch.Generator().manual_seed(18)
    f16 = lambda *shape, s=0.02: (torch.randn(*shape, generator=g) * s).to(torch.float16)
    t = {"model.embed_tokens.weight": f16(VOCAB, HIDDEN),
         "model.norm.weight": torch.ones(HIDDEN, dtype=torch.float16)}
    lin = {"self_attn.q_proj": (N_HEAD * HEAD, HIDDEN), "self_attn.k_proj": (N_KV * HEAD, HIDDEN),
           "self_attn.v_proj": (N_KV * HEAD, HIDDEN), "self_attn.o_proj": (HIDDEN, N_HEAD * HEAD),
           "mlp.gate_proj": (FF, HIDDEN), "mlp.up_proj": (FF, HIDDEN),
           "mlp.down_proj": (HIDDEN, FF)}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        for name, (o, n) in lin.items():
            for part, v in packed(kind, g, o, n).items():
                t[f"{p}{name}.{part}"] = v
        for name, n in (("q_proj", N_HEAD * HEAD), ("k_proj", N_KV * HEAD),
                        ("v_proj", N_KV * HEAD)):
            t[f"{p}self_attn.{name}.bias"] = f16(n)
        for name in ("input_layernorm", "post_attention_layernorm"):
            t[f"{p}{name}.weight"] = torch.ones(HIDDEN, dtype=torch.float16)
    qcfg = {"quant_method": "gptq", "bits": 4, "group_size": GROUP, "desc_act": False,
            "sym": True, "checkpoint_format": "gptq"} if kind == "gptq" else \
        {"quant_method": "awq", "bits": 4, "group_size": GROUP, "version": "gemm",
         "zero_point": True}
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
           "hidden_size": HIDDEN, "intermediate_size": FF, "num_hidden_layers": LAYERS,
           "num_attention_heads": N_HEAD, "num_key_value_heads": N_KV,
           "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
           "vocab_size": VOCAB, "tie_word_embeddings": True, "torch_dtype": "float16",
           "hidden_act": "silu", "bos_token_id": 151643, "eos_token_id": 151643,
           "quantization_config": qcfg}
    os.makedirs(d, exist_ok=True)
    save_file(t, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    print(f"pq_synth: {d}: {kind}, {len(t)} tensors")


if __name__ == "__main__":
    main()
