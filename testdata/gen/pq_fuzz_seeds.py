#!/usr/bin/env python3
# venv: .venv (torch, safetensors)
"""Seeds of the fuzz_pq target (tests/fuzz/fuzz_pq.c): one small input per
storage kind, each a 4-byte little-endian length, a quantization_config
JSON and a safetensors file holding one storage's tensors, cut from the
fixtures of testdata/pq (fp8_cases, int_cases, qwen3_gptq, qwen3_awq).
Not expected values: starting points the fuzzer mutates.

usage: pq_fuzz_seeds.py   (writes tests/fuzz/corpus/pq/)
"""
import json
import os
import struct
import sys

from safetensors import safe_open
from safetensors.torch import save

sys.dont_write_bytecode = True
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PQ = os.path.join(ROOT, "testdata", "pq")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "pq")


def ct(fmt, weights):
    return {"quant_method": "compressed-tensors", "format": fmt,
            "config_groups": {"g": {"weights": weights}}}


SEEDS = [  # name, file, tensor prefix, config
    ("fp8_trim", "fp8_cases.safetensors", "trim.",
     {"quant_method": "fp8", "weight_block_size": [16, 16]}),
    ("fp8_b160", "fp8_cases.safetensors", "b160.",
     {"quant_method": "fp8", "weight_block_size": [128, 128]}),
    ("fp8_row", "fp8_cases.safetensors", "row.", {"quant_method": "fp8"}),
    ("gptq8", "int_cases.safetensors", "gptq8.",
     {"quant_method": "gptq", "bits": 8, "group_size": 8, "desc_act": True,
      "checkpoint_format": "gptq"}),
    ("gptq4", "qwen3_gptq/model.safetensors", "model.layers.0.self_attn.k_proj.",
     json.load(open(os.path.join(PQ, "qwen3_gptq", "config.json")))["quantization_config"]),
    ("gptq2", "qwen3_gptq2/model.safetensors", "model.layers.0.self_attn.k_proj.",
     json.load(open(os.path.join(PQ, "qwen3_gptq2", "config.json")))["quantization_config"]),
    ("awq", "qwen3_awq/model.safetensors", "model.layers.0.self_attn.k_proj.",
     json.load(open(os.path.join(PQ, "qwen3_awq", "config.json")))["quantization_config"]),
    ("ct_packed_asym", "int_cases.safetensors", "ctasym.",
     ct("pack-quantized", {"num_bits": 4, "type": "int", "symmetric": False,
                           "strategy": "group", "group_size": 8})),
    ("ct_int", "int_cases.safetensors", "ctint.",
     ct("int-quantized", {"num_bits": 8, "type": "int", "strategy": "channel"})),
    ("ct_fp8", "int_cases.safetensors", "ctfp8.",
     ct("float-quantized", {"num_bits": 8, "type": "float", "strategy": "block",
                            "block_structure": [16, 16]})),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, fn, prefix, cfg in SEEDS:
        with safe_open(os.path.join(PQ, fn), "pt") as f:
            t = {k: f.get_tensor(k) for k in f.keys()
                 if k.startswith(prefix) and not k.endswith(".expected")}
        js = json.dumps(cfg, sort_keys=True).encode()
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(struct.pack("<I", len(js)) + js + save(t))
        print(f"{name}: {len(t)} tensors")


if __name__ == "__main__":
    main()
