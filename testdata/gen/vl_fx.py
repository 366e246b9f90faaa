"""Qwen vision-language fixtures (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, Qwen3-VL-MoE): what
make_fixtures.py does for the text models, for the ...ForConditionalGeneration
classes of transformers 5.23.

Each fixture is a tiny random checkpoint in the layout its family was
released in: Qwen2-VL and Qwen2.5-VL as saved before transformers 4.52 (`model.*` text,
`visual.*` vision tower, flat config with `rope_scaling` {type mrope}),
Qwen3-VL and Qwen3-VL-MoE nested (`model.language_model.*`,
`model.visual.*`, `text_config`), Qwen3-VL-MoE's fused experts transposed
as the released checkpoints hold them (gate_up [E, H, 2I], down [E, I, H];
transformers transposes them on load). expected.safetensors holds, besides
the text outputs of make_fixtures.py (tokens.s, logits.s, hidden.s):

- mrope.tokens, mrope.positions [3, T] (int32), mrope.logits [T, V]: the
  first text sequence with its tokens 4..11 taken as the 8 positions of a
  1 x 4 x 8 image grid (merged 2 x 2: 1 x 2 x 4), the three position
  streams computed by transformers' get_rope_index from mm_token_type_ids,
  and the logits the model gives with those position_ids.
"""

import os

import numpy as np
import torch
from transformers import AutoConfig, AutoModelForImageTextToText

import fx_weights

MROPE_SPAN = (4, 12)         # token positions taken as image tokens
MROPE_GRID = [1, 4, 8]       # image_grid_thw before the 2x2 merge


def vision_cfg(kind, h, wide=False):
    if wide:
        # k-quant widths (256) everywhere: one block, hidden and MLP 256, no
        # 2x2 merge (spatial_merge_size 1) so that the merger stays 256 wide
        return dict(sorted({"deepstack_visual_indexes": [0], "depth": 1,
                            "hidden_act": "gelu_pytorch_tanh", "hidden_size": 256,
                            "in_channels": 3, "initializer_range": 0.02,
                            "intermediate_size": 256, "model_type": kind, "num_heads": 2,
                            "num_position_embeddings": 16, "out_hidden_size": h,
                            "patch_size": 4, "spatial_merge_size": 1,
                            "temporal_patch_size": 2}.items()))
    if kind == "qwen2_vl":
        # Qwen2VLVisionConfig: embed_dim is the tower's width, hidden_size the
        # merger's output (the text width), MLP embed_dim * mlp_ratio with
        # QuickGELU, LayerNorms with bias; three blocks, as llama.cpp's
        # converter needs for the merger's mlp.2 to have a name
        return dict(sorted({"depth": 3, "embed_dim": 16, "hidden_act": "quick_gelu",
                            "hidden_size": h, "in_channels": 3, "initializer_range": 0.02,
                            "mlp_ratio": 2, "model_type": "qwen2_vl", "num_heads": 2,
                            "patch_size": 4, "spatial_merge_size": 2,
                            "temporal_patch_size": 2}.items()))
    v = {"depth": 2, "hidden_act": "silu" if kind == "qwen2_5_vl" else "gelu_pytorch_tanh",
         "hidden_size": 16, "in_channels": 3, "initializer_range": 0.02,
         "intermediate_size": 32, "num_heads": 2, "out_hidden_size": h,
         "patch_size": 4, "spatial_merge_size": 2, "temporal_patch_size": 2}
    if kind == "qwen2_5_vl":
        v.update({"fullatt_block_indexes": [1], "model_type": "qwen2_5_vl",
                  "tokens_per_second": 2, "window_size": 16})
    else:
        v.update({"deepstack_visual_indexes": [0], "model_type": kind,
                  "num_position_embeddings": 16})
    return dict(sorted(v.items()))


def qwen2_5_vl_cfg(h, n_layer, n_head, n_kv, inter, vocab, eot, sections, kind="qwen2_5_vl"):
    """Flat config as the released Qwen2.5-VL (and Qwen2-VL) checkpoints write it."""
    c = {"architectures": ["Qwen2_5_VLForConditionalGeneration" if kind == "qwen2_5_vl" else
                           "Qwen2VLForConditionalGeneration"],
         "attention_dropout": 0.0, "bos_token_id": eot, "eos_token_id": eot,
         "hidden_act": "silu", "hidden_size": h, "image_token_id": vocab - 3,
         "initializer_range": 0.02, "intermediate_size": inter,
         "max_position_embeddings": 128000, "max_window_layers": n_layer,
         "model_type": kind, "num_attention_heads": n_head,
         "num_hidden_layers": n_layer, "num_key_value_heads": n_kv,
         "rms_norm_eps": 1e-6,
         "rope_scaling": {"mrope_section": sections, "rope_type": "default",
                          "type": "mrope"},
         "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": True,
         "torch_dtype": "bfloat16", "transformers_version": "4.49.0.dev0",
         "use_cache": True, "use_sliding_window": False,
         "video_token_id": vocab - 2, "vision_end_token_id": vocab - 4,
         "vision_start_token_id": vocab - 5, "vision_token_id": vocab - 1,
         "vocab_size": vocab}
    c["vision_config"] = vision_cfg(kind, h)
    return dict(sorted(c.items()))


def qwen3_vl_cfg(moe, h, n_layer, n_head, n_kv, head_dim, inter, vocab, eot,
                 sections, tie, wide=False, **moe_keys):
    """Nested config as the released Qwen3-VL(-MoE) checkpoints write it."""
    kind = "qwen3_vl_moe" if moe else "qwen3_vl"
    t = {"attention_bias": False, "attention_dropout": 0.0, "bos_token_id": eot,
         "dtype": "bfloat16", "eos_token_id": eot, "head_dim": head_dim,
         "hidden_act": "silu", "hidden_size": h, "initializer_range": 0.02,
         "intermediate_size": inter, "max_position_embeddings": 262144,
         "model_type": kind + "_text", "num_attention_heads": n_head,
         "num_hidden_layers": n_layer, "num_key_value_heads": n_kv,
         "rms_norm_eps": 1e-6,
         "rope_scaling": {"mrope_interleaved": True, "mrope_section": sections,
                          "rope_type": "default"},
         "rope_theta": 5000000, "use_cache": True, "vocab_size": vocab}
    t.update(moe_keys)
    c = {"architectures": ["Qwen3VLMoeForConditionalGeneration" if moe else
                           "Qwen3VLForConditionalGeneration"],
         "image_token_id": vocab - 3, "model_type": kind,
         "text_config": dict(sorted(t.items())), "tie_word_embeddings": tie,
         "transformers_version": "4.57.0.dev0", "video_token_id": vocab - 2,
         "vision_config": vision_cfg(kind, h, wide), "vision_end_token_id": vocab - 4,
         "vision_start_token_id": vocab - 5}
    return dict(sorted(c.items()))


def memory_shapes(d):
    """In-memory parameter names and shapes (transformers 5.23 layout)."""
    cfg = AutoConfig.from_pretrained(d)
    with torch.device("meta"):
        m = AutoModelForImageTextToText.from_config(cfg)
    out = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    if getattr(cfg, "tie_word_embeddings", False):
        out.pop("lm_head.weight", None)
    return out


def to_disk(fx, state):
    """In-memory names and forms -> the released checkpoint layout."""
    disk = {}
    for k, v in state.items():
        if fx["layout"] == "vl_old":
            if k.startswith("model.language_model."):
                k = "model." + k[len("model.language_model."):]
            elif k.startswith("model.visual."):
                k = k[len("model."):]
        if fx.get("experts_transposed") and (k.endswith("mlp.experts.gate_up_proj") or
                                             k.endswith("mlp.experts.down_proj")):
            v = v.transpose(1, 2).contiguous()
        disk[k] = v
    return disk


def build(fx, seed, d):
    state = fx_weights.make_state(seed, memory_shapes(d), fx, fx["dtype"])
    fx_weights.save_single(to_disk(fx, state), os.path.join(d, "model.safetensors"))
    return state


def lm(model):
    return model.model.language_model


@torch.no_grad()
def mrope_grid(model):
    """An image grid (before the merge) of MROPE_SPAN's 8 tokens once merged."""
    m = model.config.vision_config.spatial_merge_size
    return [MROPE_GRID[0], MROPE_GRID[1] * m // 2, MROPE_GRID[2] * m // 2]


def mrope_case(model, ids):
    """get_rope_index positions for ids with MROPE_SPAN as image tokens, and
    the logits for those positions."""
    x = torch.tensor([ids], dtype=torch.long)
    tt = torch.zeros_like(x, dtype=torch.int)
    tt[0, MROPE_SPAN[0]:MROPE_SPAN[1]] = 1
    pos, _ = model.model.get_rope_index(x, mm_token_type_ids=tt,
                                        image_grid_thw=torch.tensor([mrope_grid(model)]))
    r = model(input_ids=x, position_ids=pos, use_cache=False)
    return {"mrope.tokens": torch.tensor(ids, dtype=torch.int32),
            "mrope.positions": pos[:, 0, :].to(torch.int32).contiguous(),
            "mrope.logits": r.logits[0].to(torch.float32).contiguous()}


def vision_params(state):
    v = sum(int(np.prod(t.shape)) for k, t in state.items() if k.startswith("model.visual."))
    p = sum(int(np.prod(t.shape)) for k, t in state.items()
            if k.startswith("model.visual.merger.") or
            k.startswith("model.visual.deepstack_merger_list."))
    return v, p
