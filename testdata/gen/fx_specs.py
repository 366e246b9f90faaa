"""The golden fixtures: dimensions, storage and what each exercises.

Configs are written the way the published checkpoints of each generation
write them (hub style: `rope_theta` and `rope_scaling` at top level, keys
sorted), except qwen2_moe, whose config.json and weights come from
transformers' own save_pretrained (5.x style: `rope_parameters`, `dtype`).

Sizes are chosen for the 64 MB budget of testdata/: qwen3_realvocab's fp32
logits over 151936 entries take 9.7 MB for its one 16-token sequence. The k-quant fixtures (hidden
and FFN widths multiples of 256) are qwen1, qwen2, qwen3_moe and the three
`_256` variants (11.3 MB together, kept to one or two layers).
"""

import fx_tok
import vl_fx

SMALL_VOCAB = 512          # config vocab_size; tokenizer has 448 entries
QWEN1_VOCAB = SMALL_VOCAB  # 445 ranks + 3 specials used, padded
REAL_VOCAB = 151936

EOT = fx_tok.N_REGULAR     # <|endoftext|>
IM_END = fx_tok.N_REGULAR + 2


def _qwen2_cfg(h, n_layer, n_head, n_kv, inter, vocab, tie, theta, dtype,
               **extra):
    c = {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": EOT,
        "eos_token_id": EOT,
        "hidden_act": "silu",
        "hidden_size": h,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": 32768,
        "max_window_layers": n_layer,
        "model_type": "qwen2",
        "num_attention_heads": n_head,
        "num_hidden_layers": n_layer,
        "num_key_value_heads": n_kv,
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": theta,
        "sliding_window": 32768,
        "tie_word_embeddings": tie,
        "torch_dtype": dtype,
        "transformers_version": "4.43.1",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": vocab,
    }
    c.update(extra)
    return c


def _qwen3_cfg(h, n_layer, n_head, n_kv, head_dim, inter, vocab, tie, theta,
               dtype, bos=EOT, eos=IM_END):
    return {
        "architectures": ["Qwen3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "hidden_size": h,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": 40960,
        "max_window_layers": n_layer,
        "model_type": "qwen3",
        "num_attention_heads": n_head,
        "num_hidden_layers": n_layer,
        "num_key_value_heads": n_kv,
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": theta,
        "sliding_window": None,
        "tie_word_embeddings": tie,
        "torch_dtype": dtype,
        "transformers_version": "4.51.0",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": vocab,
    }


def _qwen2moe_cfg(h, n_layer, n_head, n_kv, inter, n_exp, k, moe_inter,
                  sh_inter, norm_topk, dtype, max_pos=8192):
    return {
        "architectures": ["Qwen2MoeForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": EOT,
        "decoder_sparse_step": 1,
        "eos_token_id": EOT,
        "hidden_act": "silu",
        "hidden_size": h,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": max_pos,
        "max_window_layers": n_layer,
        "mlp_only_layers": [],
        "model_type": "qwen2_moe",
        "moe_intermediate_size": moe_inter,
        "norm_topk_prob": norm_topk,
        "num_attention_heads": n_head,
        "num_experts": n_exp,
        "num_experts_per_tok": k,
        "num_hidden_layers": n_layer,
        "num_key_value_heads": n_kv,
        "output_router_logits": False,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "router_aux_loss_coef": 0.001,
        "shared_expert_intermediate_size": sh_inter,
        "sliding_window": 32768,
        "tie_word_embeddings": False,
        "torch_dtype": dtype,
        "transformers_version": "4.40.0",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": SMALL_VOCAB,
    }


def _qwen3moe_cfg(dtype):
    return {
        "architectures": ["Qwen3MoeForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": EOT,
        "decoder_sparse_step": 1,
        "eos_token_id": IM_END,
        "head_dim": 64,
        "hidden_act": "silu",
        "hidden_size": 256,
        "initializer_range": 0.02,
        "intermediate_size": 256,
        "max_position_embeddings": 40960,
        "max_window_layers": 2,
        "mlp_only_layers": [0],
        "model_type": "qwen3_moe",
        "moe_intermediate_size": 256,
        "norm_topk_prob": True,
        "num_attention_heads": 4,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "num_hidden_layers": 2,
        "num_key_value_heads": 1,
        "output_router_logits": False,
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": 1000000.0,
        "router_aux_loss_coef": 0.001,
        "sliding_window": None,
        "tie_word_embeddings": True,
        "torch_dtype": dtype,
        "transformers_version": "4.51.0",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": SMALL_VOCAB,
    }


def _qwen3next_cfg(dtype, h=32, n_layer=4, interval=4, n_head=2, head_dim=32,
                   inter=64, lin_k=(2, 16), lin_v=(4, 16), moe_inter=16,
                   sh_inter=24, mtp=1):
    return {
        "architectures": ["Qwen3NextForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": EOT,
        "decoder_sparse_step": 1,
        "eos_token_id": IM_END,
        "full_attention_interval": interval,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "hidden_size": h,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "linear_conv_kernel_dim": 4,
        "linear_key_head_dim": lin_k[1],
        "linear_num_key_heads": lin_k[0],
        "linear_num_value_heads": lin_v[0],
        "linear_value_head_dim": lin_v[1],
        "max_position_embeddings": 262144,
        "mlp_only_layers": [],
        "model_type": "qwen3_next",
        "moe_intermediate_size": moe_inter,
        "mtp_num_hidden_layers": mtp,
        "mtp_use_dedicated_embeddings": False,
        "norm_topk_prob": True,
        "num_attention_heads": n_head,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "num_hidden_layers": n_layer,
        "num_key_value_heads": 1,
        "output_router_logits": False,
        "partial_rotary_factor": 0.25,
        "rms_norm_eps": 1e-6,
        "rope_scaling": None,
        "rope_theta": 10000000,
        "router_aux_loss_coef": 0.001,
        "shared_expert_intermediate_size": sh_inter,
        "tie_word_embeddings": False,
        "torch_dtype": dtype,
        "transformers_version": "4.57.0.dev0",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": SMALL_VOCAB,
    }


def _qwen1_cfg():
    """Qwen1 config.json keys (QWenConfig); intermediate_size is twice the
    real MLP width. seq_length 128 >= every fixture sequence, so dynamic NTK
    and logn attention, both on as in Qwen-7B, are the identity here."""
    return {
        "architectures": ["QWenLMHeadModel"],
        "auto_map": {"AutoConfig": "configuration_qwen.QWenConfig",
                     "AutoModelForCausalLM": "modeling_qwen.QWenLMHeadModel"},
        "attn_dropout_prob": 0.0,
        "bf16": False,
        "emb_dropout_prob": 0.0,
        "fp16": False,
        "fp32": False,
        "hidden_size": 256,
        "initializer_range": 0.02,
        "intermediate_size": 512,
        "kv_channels": 64,
        "layer_norm_epsilon": 1e-6,
        "max_position_embeddings": 512,
        "model_type": "qwen",
        "no_bias": True,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "onnx_safe": None,
        "rotary_emb_base": 10000,
        "rotary_pct": 1.0,
        "scale_attn_weights": True,
        "seq_length": 128,
        "softmax_in_fp32": False,
        "tie_word_embeddings": False,
        "tokenizer_class": "QWenTokenizer",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.32.0",
        "use_cache": True,
        "use_cache_kernel": False,
        "use_cache_quantization": False,
        "use_dynamic_ntk": True,
        "use_flash_attn": "auto",
        "use_logn_attn": True,
        "vocab_size": QWEN1_VOCAB,
    }


def _qwen35_cfg(moe, h, n_layer, interval, n_head, n_kv, head_dim, nk, nv, dk, dv,
                sections, tie, vision, **ffn):
    """Qwen3.5 / Qwen3.6 config.json as the released checkpoints write it:
    Qwen3_5(Moe)ForConditionalGeneration, the text model under text_config
    (layer_types spelled out, rope_parameters with mrope_section and
    mrope_interleaved, mtp_num_hidden_layers), a vision_config, the
    multimodal token ids at the top level."""
    text = {
        "attention_bias": False,
        "attention_dropout": 0.0,
        "attn_output_gate": True,
        "bos_token_id": None,
        "dtype": "bfloat16",
        "eos_token_id": IM_END,
        "full_attention_interval": interval,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "hidden_size": h,
        "initializer_range": 0.02,
        "layer_types": ["full_attention" if (i + 1) % interval == 0 else
                        "linear_attention" for i in range(n_layer)],
        "linear_conv_kernel_dim": 4,
        "linear_key_head_dim": dk,
        "linear_num_key_heads": nk,
        "linear_num_value_heads": nv,
        "linear_value_head_dim": dv,
        "max_position_embeddings": 262144,
        "model_type": "qwen3_5_moe_text" if moe else "qwen3_5_text",
        "mtp_num_hidden_layers": 1,
        "mtp_use_dedicated_embeddings": False,
        "num_attention_heads": n_head,
        "num_hidden_layers": n_layer,
        "num_key_value_heads": n_kv,
        "rms_norm_eps": 1e-6,
        "rope_parameters": {
            "mrope_interleaved": True,
            "mrope_section": sections,
            "partial_rotary_factor": 0.25,
            "rope_theta": 10000000,
            "rope_type": "default",
        },
        "tie_word_embeddings": tie,
        "use_cache": True,
        "vocab_size": SMALL_VOCAB,
    }
    text.update(ffn)
    c = {
        "architectures": ["Qwen3_5MoeForConditionalGeneration" if moe else
                          "Qwen3_5ForConditionalGeneration"],
        "image_token_id": 248056,
        "model_type": "qwen3_5_moe" if moe else "qwen3_5",
        "text_config": dict(sorted(text.items())),
        "tie_word_embeddings": tie,
        "transformers_version": "4.57.0.dev0",
        "video_token_id": 248057,
        "vision_end_token_id": 248054,
        "vision_start_token_id": 248053,
    }
    if vision:
        c["vision_config"] = {
            "deepstack_visual_indexes": [],
            "depth": 1,
            "hidden_act": "gelu_pytorch_tanh",
            "hidden_size": 32,
            "in_channels": 3,
            "initializer_range": 0.02,
            "intermediate_size": 64,
            "model_type": "qwen3_5_moe" if moe else "qwen3_5",
            "num_heads": 2,
            "num_position_embeddings": 16,
            "out_hidden_size": h,
            "patch_size": 4,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        }
    return dict(sorted(c.items()))


# name, seed, storage dtype, layout, tokenizer kind, logit gain knobs, config,
# and one line on what the fixture is for.
FIXTURES = [
    dict(name="qwen1", seed=101, dtype="bf16", layout="qwen1", tok="qwen1",
         logit_gain=10.0, config=_qwen1_cfg(),
         exercises="Qwen1 names and keys: fused c_attn with bias, w1/w2/c_proj, "
                   "intermediate_size = 2 x width, kv_channels, rotary_emb_base, "
                   "layer_norm_epsilon, seq_length, qwen.tiktoken; k-quant widths"),
    dict(name="qwen1_5", seed=102, dtype="f32", layout="single", tok="small",
         logit_gain=10.0,
         config=_qwen2_cfg(32, 2, 4, 4, 96, SMALL_VOCAB, False, 1000000.0,
                           "float32"),
         exercises="Qwen2ForCausalLM as Qwen1.5: MHA, q/k/v bias, untied; fp32 storage"),
    dict(name="qwen1_5_moe", seed=103, dtype="bf16", layout="fused", tok="small",
         logit_gain=10.0,
         config=_qwen2moe_cfg(32, 2, 2, 2, 64, 4, 2, 16, 64, False, "bfloat16"),
         exercises="Qwen2-MoE as Qwen1.5-MoE: MHA, gated shared expert, "
                   "norm_topk_prob false; experts in the fused 3-D layout"),
    dict(name="qwen2", seed=104, dtype="bf16", layout="single", tok="small",
         logit_gain=None, final_norm_gain=2.5, emb_std=0.15,
         config=_qwen2_cfg(256, 2, 4, 1, 256, SMALL_VOCAB, True, 1000000.0,
                           "bfloat16"),
         exercises="Qwen2: GQA 4:1, tied embeddings; k-quant widths"),
    dict(name="qwen2_moe", seed=105, dtype="bf16", layout="save_pretrained",
         tok="small", logit_gain=10.0,
         config=_qwen2moe_cfg(32, 2, 4, 2, 80, 4, 2, 16, 48, False, "bfloat16"),
         exercises="Qwen2-MoE as Qwen2-57B-A14B: GQA, shared expert width 48 != "
                   "intermediate_size 80; written by transformers save_pretrained"),
    dict(name="qwen2_5_yarn", seed=106, dtype="f16", layout="single", tok="small",
         logit_gain=10.0,
         config=_qwen2_cfg(32, 2, 2, 1, 64, SMALL_VOCAB, False, 1000000.0,
                           "float16",
                           rope_scaling={"factor": 4.0,
                                         "original_max_position_embeddings": 32768,
                                         "type": "yarn"}),
         exercises="Qwen2.5 with YaRN (factor 4, original 32768), rope_theta 1e6; "
                   "fp16 storage"),
    dict(name="qwen3", seed=107, dtype="bf16", layout="single", tok="small",
         logit_gain=10.0,
         config=_qwen3_cfg(32, 2, 4, 2, 16, 64, SMALL_VOCAB, False,
                           1000000.0, "bfloat16"),
         exercises="Qwen3: head_dim 16 != 32/4, QK-norm, GQA 4:2, untied"),
    dict(name="qwen3_moe", seed=108, dtype="bf16", layout="sharded3", tok="small",
         logit_gain=None, final_norm_gain=2.5, emb_std=0.15, config=_qwen3moe_cfg("bfloat16"),
         exercises="Qwen3-MoE: norm_topk_prob true, layer 0 dense via "
                   "mlp_only_layers, GQA 4:1, tied embeddings; 3 shards + index; "
                   "k-quant widths"),
    dict(name="qwen3_next", seed=109, dtype="bf16", layout="single", tok="small",
         logit_gain=10.0, zero_centred=True, config=_qwen3next_cfg("bfloat16"),
         exercises="Qwen3-Next: 3 Gated DeltaNet + 1 gated-attention layer, "
                   "4 value heads on 2 key heads, partial rotary 0.25 (8 of 32 dims), shared "
                   "expert, zero-centred norms, mtp.* tensors"),
    # The 256-wide variants: every weight's row length (hidden, FFN, expert
    # and shared-expert widths, attention and GDN output widths) is a multiple
    # of 256, so every k-quant applies without fallback. Kept to the fewest
    # layers that still show the generation's structure (size budget).
    dict(name="qwen2_moe_256", seed=111, dtype="bf16", layout="single",
         tok="small", logit_gain=10.0,
         config=_qwen2moe_cfg(256, 1, 4, 2, 512, 4, 2, 256, 256, False,
                              "bfloat16", max_pos=32768),
         exercises="Qwen2-MoE at k-quant widths: 4 experts (top-2) of width 256, "
                   "gated shared expert 256, GQA 4:2 with q/k/v bias, per-expert "
                   "tensors in hub form; one layer"),
    dict(name="qwen3_256", seed=112, dtype="bf16", layout="single", tok="small",
         logit_gain=10.0,
         config=_qwen3_cfg(256, 2, 4, 2, 64, 256, SMALL_VOCAB, False,
                           1000000.0, "bfloat16"),
         exercises="Qwen3 at k-quant widths: QK-norm, GQA 4:2 (Q2_K's attn_v "
                   "rule takes the n_gqa < 4 branch), untied output"),
    dict(name="qwen3_next_256", seed=113, dtype="bf16", layout="single",
         tok="small", logit_gain=10.0, zero_centred=True, mtp=False,
         config=_qwen3next_cfg("bfloat16", h=256, n_layer=2, interval=2,
                               n_head=2, head_dim=128, inter=512,
                               lin_k=(2, 64), lin_v=(4, 64), moe_inter=256,
                               sh_inter=256, mtp=0),
         exercises="Qwen3-Next at k-quant widths: 1 Gated DeltaNet + 1 "
                   "gated-attention layer, 4 value heads of 64 on 2 key heads, "
                   "partial rotary 0.25 (32 of 128 dims), 4 experts of 256 + "
                   "shared 256; no mtp.* (the small qwen3_next has them)"),
    dict(name="qwen3_realvocab", seed=110, dtype="bf16", layout="single",
         tok="real", logit_gain=None, final_norm_gain=4.0,
         config=_qwen3_cfg(8, 2, 2, 1, 8, 16, REAL_VOCAB, True, 1000000.0,
                           "bfloat16", bos=151643, eos=151645),
         exercises="real Qwen3 tokenizer (151669 entries), vocab_size 151936, "
                   "tied embeddings, hidden 8"),
    dict(name="qwen3_5", seed=111, dtype="bf16", layout="nested", tok="qwen35",
         logit_gain=None, final_norm_gain=4.0, emb_std=0.15, zero_centred=True,
         config=_qwen35_cfg(False, 64, 4, 4, 2, 1, 32, 2, 4, 16, 16, [2, 1, 1],
                            True, True, intermediate_size=128),
         exercises="Qwen3.5 dense as released (ForConditionalGeneration, "
                   "text_config, model.language_model.*, a one-block vision "
                   "tower model.visual.*): 3 Gated DeltaNet + 1 gated-attention "
                   "layer, split in_proj_qkv/z/b/a, 4 value heads on 2 key heads, "
                   "interleaved M-RoPE [2,1,1] on 8 of 32 dims, tied embeddings, "
                   "dense mtp.* layer"),
    dict(name="qwen3_5_moe", seed=112, dtype="bf16", layout="nested", tok="qwen35",
         logit_gain=10.0, zero_centred=True,
         config=_qwen35_cfg(True, 256, 2, 2, 2, 1, 32, 2, 4, 16, 16, [2, 1, 1],
                            False, False, moe_intermediate_size=256,
                            shared_expert_intermediate_size=256, num_experts=2,
                            num_experts_per_tok=1, output_router_logits=False,
                            router_aux_loss_coef=0.001),
         exercises="Qwen3.5-MoE as released: fused experts (gate_up_proj, "
                   "down_proj), 2 experts top-1 always renormalised (weight 1, "
                   "not the softmax probability), gated shared "
                   "expert, 1 Gated DeltaNet + 1 gated-attention layer, 4 value "
                   "heads on 2 key heads, M-RoPE [2,1,1] on 8 of 32 dims, untied, "
                   "MoE mtp.* layer; hidden and expert widths 256 (k-quants)"),
    # Qwen vision-language text towers (vl_fx.py), each in its family's
    # released checkpoint layout, with a two-block vision tower
    dict(name="qwen2_5_vl", seed=114, dtype="bf16", layout="vl_old", tok="small",
         logit_gain=10.0,
         config=vl_fx.qwen2_5_vl_cfg(32, 2, 2, 1, 64, SMALL_VOCAB, EOT, [2, 3, 3]),
         exercises="Qwen2.5-VL as released before transformers 4.52 (model.* text, "
                   "visual.* vision tower, flat config, rope_scaling type mrope): "
                   "q/k/v bias, GQA 2:1, chunked M-RoPE [2,3,3] on 16 dims, tied; "
                   "window-attention vision tower with a SiLU merger"),
    dict(name="qwen2_vl", seed=117, dtype="bf16", layout="vl_old", tok="small",
         logit_gain=10.0,
         config=vl_fx.qwen2_5_vl_cfg(32, 2, 2, 1, 64, SMALL_VOCAB, EOT, [2, 3, 3],
                                     kind="qwen2_vl"),
         exercises="Qwen2-VL as released (model.* text, visual.* vision tower, flat "
                   "config, rope_scaling type mrope): q/k/v bias, GQA 2:1, chunked "
                   "M-RoPE [2,3,3], tied; three-block vision tower with LayerNorm and "
                   "QuickGELU fc1/fc2 (embed_dim 16, mlp_ratio 2), qwen2vl_merger"),
    dict(name="qwen3_vl", seed=115, dtype="bf16", layout="vl_nested", tok="small",
         logit_gain=10.0,
         config=vl_fx.qwen3_vl_cfg(False, 32, 2, 2, 1, 16, 64, SMALL_VOCAB, EOT,
                                   [3, 3, 2], False),
         exercises="Qwen3-VL as released (text_config, model.language_model.*, "
                   "model.visual.*): QK-norm, interleaved M-RoPE [3,3,2] on 16 "
                   "dims, untied, deepstack merger on vision block 0"),
    dict(name="qwen3_vl_256", seed=118, dtype="bf16", layout="vl_nested", tok="small",
         logit_gain=10.0,
         config=vl_fx.qwen3_vl_cfg(False, 256, 1, 2, 1, 128, 256, SMALL_VOCAB, EOT,
                                   [24, 20, 20], False, wide=True),
         exercises="Qwen3-VL at k-quant widths: text and vision hidden 256, FFN and "
                   "vision MLP 256, one layer, GQA 2:1 x 128, interleaved M-RoPE "
                   "[24,20,20], untied; a one-block vision tower without the 2x2 merge "
                   "(spatial_merge_size 1), deepstack merger on block 0"),
    dict(name="qwen3_vl_moe", seed=116, dtype="bf16", layout="vl_nested",
         tok="small", logit_gain=10.0, experts_transposed=True,
         config=vl_fx.qwen3_vl_cfg(True, 32, 2, 2, 1, 16, 64, SMALL_VOCAB, EOT,
                                   [3, 3, 2], True, decoder_sparse_step=1,
                                   moe_intermediate_size=8, num_experts=4,
                                   num_experts_per_tok=2, mlp_only_layers=[]),
         exercises="Qwen3-VL-MoE as released: fused experts transposed (gate_up "
                   "[E, H, 2I], down [E, I, H]; H != 2I, as transformers' loader "
                   "needs to tell the layouts apart), 4 experts of 8 top-2 always "
                   "renormalised, interleaved M-RoPE, tied"),
]

# Texts for the expected outputs. Small-vocabulary fixtures: a plain text
# and a ChatML conversation (special tokens). qwen3_realvocab: one sequence
# of 16 tokens, a user turn through the real Qwen3 chat template (the plain
# text is tokenized but not run: its logits would cost another 9.7 MB).
SMALL_TEXTS = ["The train leaves at 8:45. 今天很好。", None]
SMALL_CHAT = [{"role": "user", "content": "Legs?"},
              {"role": "assistant", "content": "Four."}]
REAL_TEXTS = ["The train leaves at 8:45, 今天天气很好。🙂", None]
REAL_CHAT = [{"role": "user", "content": "How are you?"}]
