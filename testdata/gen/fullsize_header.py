#!/usr/bin/env python3
"""The released Qwen3.5-35B-A3B shape as a tensor list, from transformers.

transformers' default Qwen3_5MoeConfig is the 35B-A3B shape (40 layers,
hidden 2048, 256 experts of width 512, top 8, shared expert 512, vocab
248320, a 27-block vision tower). This builds
Qwen3_5MoeForConditionalGeneration on the meta device (no memory) and writes
testdata/fullsize/qwen3_5_moe_35b_a3b/:

  config.json   the config as save_pretrained writes it, plus
                mtp_num_hidden_layers 1 in text_config (the released
                checkpoints carry one MTP layer; transformers ignores mtp.*)
  tensors.txt   one line per tensor: name, dtype (BF16, as released), dims;
                the state_dict's names (model.language_model.*,
                model.visual.*, lm_head.weight) and the MTP tensors mtp.fc,
                mtp.pre_fc_norm_{embedding,hidden}, mtp.norm and
                mtp.layers.0.* shaped as transformers' own decoder layer with
                full attention (Qwen3_5MoeDecoderLayer)
  counts.txt    what transformers counts: num_parameters() of the model
                (text + vision), the vision tower's parameters, the text
                model's (Qwen3_5MoeForCausalLM), its routed-expert
                parameters, and the MTP tensors' sum

tests/unit/test_qwen35.c writes these as a sparse safetensors file (header
only; the data is a hole) and checks qwenkit claims every tensor and counts
the same. Versions: transformers 5.23.0, torch 2.15.0.
"""
import json
import os
import sys

import torch
from transformers import Qwen3_5MoeConfig, Qwen3_5MoeForCausalLM, \
    Qwen3_5MoeForConditionalGeneration
from transformers.models.qwen3_5_moe.modeling_qwen3_5_moe import Qwen3_5MoeDecoderLayer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fullsize", "qwen3_5_moe_35b_a3b")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    os.makedirs(out, exist_ok=True)
    cfg = Qwen3_5MoeConfig()
    cfg.architectures = ["Qwen3_5MoeForConditionalGeneration"]
    with torch.device("meta"):
        m = Qwen3_5MoeForConditionalGeneration(cfg)
        text = Qwen3_5MoeForCausalLM(cfg.text_config)
        tc = cfg.text_config
        full = tc.layer_types.index("full_attention")
        mtp_layer = Qwen3_5MoeDecoderLayer(tc, full)
    shapes = {k: list(v.shape) for k, v in m.state_dict().items()}
    h = tc.hidden_size
    mtp = {"mtp.fc.weight": [h, 2 * h], "mtp.pre_fc_norm_embedding.weight": [h],
           "mtp.pre_fc_norm_hidden.weight": [h], "mtp.norm.weight": [h]}
    for k, v in mtp_layer.named_parameters():
        mtp["mtp.layers.0." + k] = list(v.shape)
    shapes.update(mtp)

    def numel(s):
        n = 1
        for d in s:
            n *= d
        return n

    experts = sum(p.numel() for k, p in text.named_parameters() if ".mlp.experts." in k)
    counts = {
        "num_parameters": m.num_parameters(),
        "vision": sum(p.numel() for n, p in m.named_parameters() if n.startswith("model.visual.")),
        "text": text.num_parameters(),
        "text_experts": experts,
        "mtp": sum(numel(s) for s in mtp.values()),
        "experts_per_tok": tc.num_experts_per_tok,
        "experts": tc.num_experts,
    }
    if counts["text"] + counts["vision"] != counts["num_parameters"]:
        raise SystemExit(f"text + vision != num_parameters: {counts}")
    d = cfg.to_dict()
    d["text_config"]["mtp_num_hidden_layers"] = 1
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(d, indent=2, sort_keys=True) + "\n")
    with open(os.path.join(out, "tensors.txt"), "w", encoding="ascii", newline="\n") as f:
        for k in sorted(shapes):
            f.write(f"{k} BF16 {' '.join(str(x) for x in shapes[k])}\n")
    with open(os.path.join(out, "counts.txt"), "w", encoding="ascii", newline="\n") as f:
        for k, v in counts.items():
            f.write(f"{k} {v}\n")
    print(counts)


if __name__ == "__main__":
    main()
