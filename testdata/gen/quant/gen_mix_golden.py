#!/usr/bin/env python3
"""Golden per-tensor types for quant/mix.c: llama-quantize decides.

Builds small synthetic GGUF models with gguf-py (qwen, qwen2, qwen2moe,
qwen3, qwen3moe, qwen3next; tied and untied; MHA and GQA; rows that fit the
256-element k-quant blocks, rows that only fit 32-element blocks, rows that
fit neither; 8 experts so the Mixtral rules fire; 80 layers so the qwen2
"70B" rule fires; a model of odd tensor names for the quantize-or-not rules),
runs llama.cpp's own llama_model_quantize (through llama-cpp-python's ctypes
binding) on each for every mix, with default parameters and one thread, plus
a few runs with non-default parameters, and reads the type of every output
tensor back with gguf-py.

Writes testdata/quant/mix_golden.tsv (format in testdata/quant/README.md):
(tab-separated fields; a tensor name may contain a space)
  model  NAME arch=.. block_count=.. nextn=.. expert_count=.. head_count=..
         head_count_kv=..                 what qm_model_info gets
  t      NAME INDEX TENSOR SRC_TYPE NE0 NE1 NE2 NE3
                                          the input tensors, in file order
  order  NAME INDEX...                    llama.cpp's output order (input
                                          indices); the same for every run
  q      NAME MIX FILE_TYPE OPTS TYPE...  one run: general.file_type read
                                          back, options ("-" = defaults) and
                                          the type of each output tensor in
                                          output order
  fail   NAME MIX OPTS                    llama_model_quantize refused
Nothing here comes from qwenkit: the expected types are llama.cpp's.

Needs the venv of testdata/quant/README.md (llama-cpp-python 0.3.36 built
from source, gguf, numpy). Every model except "odd_names" is also loaded
in full by llama.cpp (llama_model_load_from_file) to show that its tensor
set and shapes are what the runtime expects. Deterministic: rerunning gives
an identical file.
"""
import argparse
import ctypes
import importlib.metadata
import os
import sys
import tempfile
import time

import numpy as np

import gguf
import llama_cpp

T = gguf.GGMLQuantizationType

# name -> llama_ftype (include/llama.h of the vendored llama.cpp)
MIXES = [
    ("Q4_0", 2), ("Q4_1", 3), ("Q5_0", 8), ("Q5_1", 9), ("Q8_0", 7),
    ("Q2_K", 10), ("Q3_K_S", 11), ("Q3_K_M", 12), ("Q3_K_L", 13),
    ("Q4_K_S", 14), ("Q4_K_M", 15), ("Q5_K_S", 16), ("Q5_K_M", 17),
    ("Q6_K", 18), ("F32", 0), ("F16", 1), ("BF16", 32),
]

# ---------------------------------------------------------------- tokenizer


def byte_tokens():
    """GPT-2 byte-level alphabet: the 256 one-byte tokens, in byte order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    m = dict(zip(bs, cs))
    return [chr(m[b]) for b in range(256)]


TOKENS = byte_tokens() + ["Ġt", "he", "<|endoftext|>", "<|im_start|>"]
MERGES = ["Ġ t", "h e"]
N_VOCAB = len(TOKENS)  # 260


def add_tokenizer(w):
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(TOKENS)
    w.add_token_types([1] * 258 + [3, 3])
    w.add_token_merges(MERGES)
    w.add_bos_token_id(N_VOCAB - 2)
    w.add_eos_token_id(N_VOCAB - 2)

# ---------------------------------------------------------------- models
# A spec: arch, layers, widths, tie, data dtype; tensors() lists
# (name, ne) in the order a converter writes them (layer by layer), so the
# output order (sorted by llama.cpp) differs from the input order.


def spec(name, arch, **kw):
    s = dict(name=name, arch=arch, n_layer=8, n_embd=256, n_head=4, n_head_kv=4,
             head_dim=None, n_ff=512, tied=False, dtype="f16", n_expert=0,
             n_expert_used=0, n_ff_exp=256, n_ff_shexp=256, fa_interval=4,
             ssm_state=32, ssm_groups=2, ssm_vheads=4, ssm_conv=4,
             extra=[], load=True, meta_experts=None)
    s.update(kw)
    return s


MODELS = [
    # everything 64 wide: every k-quant falls back (Q4_0/Q5_0/Q5_1/Q8_0)
    spec("qwen2_gqa4_tied_w64", "qwen2", n_layer=8, n_embd=64, n_head=4, n_head_kv=1,
         n_ff=96, tied=True, dtype="f16"),
    # 256 wide, MHA, untied, 12 layers (name order != layer order)
    spec("qwen2_mha_w256", "qwen2", n_layer=12, n_embd=256, n_head=4, n_head_kv=4,
         n_ff=512, dtype="f32"),
    # 40 wide: not even a 32-block fits -> F16 fallbacks
    spec("qwen2_gqa2_w40", "qwen2", n_layer=6, n_embd=40, n_head=2, n_head_kv=1,
         n_ff=64, dtype="f16"),
    # 80 layers: llama.cpp types qwen2 with 80 layers as 70B (attn_v bump)
    spec("qwen2_80l_gqa4", "qwen2", n_layer=80, n_embd=256, n_head=4, n_head_kv=1,
         n_ff=256, dtype="bf16"),
    # explicit head_dim, q/k norms, tied, ffn_down rows of 320
    spec("qwen3_tied_gqa2", "qwen3", n_layer=16, n_embd=256, n_head=4, n_head_kv=2,
         head_dim=128, n_ff=320, tied=True, dtype="f16"),
    # 28 layers, GQA 7 (Qwen2.5-7B-like ratios)
    spec("qwen3_28l_gqa7", "qwen3", n_layer=28, n_embd=256, n_head=7, n_head_kv=1,
         head_dim=32, n_ff=256, tied=False, dtype="f16"),
    # Qwen1: fused attn_qkv (the attn_v rules apply to it)
    spec("qwen1_mha", "qwen", n_layer=8, n_embd=256, n_head=4, n_head_kv=4,
         n_ff=1024, dtype="f16"),
    # 8 experts: the Mixtral rules fire; expert rows of 64
    spec("qwen2moe_8x", "qwen2moe", n_layer=8, n_embd=256, n_head=4, n_head_kv=4,
         n_ff=512, n_expert=8, n_expert_used=2, n_ff_exp=64, n_ff_shexp=256,
         dtype="f32"),
    # 4 experts, 16 layers: layer from the name (ffn_down_exps, ffn_down_shexp)
    spec("qwen2moe_4x_16l", "qwen2moe", n_layer=16, n_embd=256, n_head=4, n_head_kv=2,
         n_ff=512, n_expert=4, n_expert_used=2, n_ff_exp=256, n_ff_shexp=512,
         dtype="f16"),
    # GQA 3: just under the n_gqa >= 4 of Q2_K's attn_v rule
    spec("qwen3moe_16x_tied", "qwen3moe", n_layer=12, n_embd=256, n_head=6, n_head_kv=2,
         head_dim=64, n_ff=512, n_expert=16, n_expert_used=4, n_ff_exp=256, tied=True,
         dtype="f16"),
    # hybrid: linear-attention layers carry attn_qkv (counted as attn_v)
    spec("qwen3next_8x", "qwen3next", n_layer=8, n_embd=256, n_head=2, n_head_kv=1,
         head_dim=128, n_ff=512, n_expert=8, n_expert_used=2, n_ff_exp=64,
         n_ff_shexp=128, dtype="bf16"),
    spec("qwen3next_12x_tied", "qwen3next", n_layer=12, n_embd=256, n_head=4, n_head_kv=2,
         head_dim=64, n_ff=512, n_expert=12, n_expert_used=2, n_ff_exp=256,
         n_ff_shexp=256, tied=True, dtype="f16"),
]

# Odd names: what the quantize-or-not rules, the name sort and the dense
# ffn_down counter do with them (expert_count 1 counts as dense). llama-quantize never loads tensors, so the
# runtime's tensor checks do not apply (this model is not loaded in full).
ODD_EXTRA = [
    ("abcde", [256, 4]),                        # 5 chars: counts as "ends in weight"
    ("abcdef", [256, 4]),
    ("blk.0.attn_q.scale", [256, 2]),           # does not end in "weight"
    ("blk.1.extra_norm.weight", [256, 2]),      # a norm
    ("blk.1.ffn_gate_inp.weight", [256, 8]),    # a router
    ("position_embd.weight", [256, 8]),
    ("token_types.weight", [256, 2]),
    ("blk.2.position_embd.weight", [256, 2]),
    ("blk.2.ssm_conv1d.weight", [4, 256]),
    ("blk.2.ssm_out.weight", [256, 256]),        # other ssm_* are quantized
    ("blk.2.vec.weight", [256, 1]),              # one dimension as ggml counts them
    ("blk.2.col.weight", [1, 256]),              # two, 1 wide: F16 fallback
    ("blk.3.ffn_down_extra.weight", [512, 256]), # advances the dense ffn_down counter
    ("blk.4.attn_kv_b.weight", [256, 64]),       # an attn_v-like tensor
    ("blk.5.attn_v.weight_scale", [256, 2]),     # counted as attn_v, never quantized
    ("per_layer_token_embd.weight", [256, 16]),  # tied model: output rules
    ("blk.x.ffn_down.weight", [512, 256]),       # no layer number: sorts first
    ("blk.-1.odd.weight", [256, 4]),
    ("blk. 7.odd.weight", [256, 4]),
    ("blk.+3.odd.weight", [256, 4]),
    ("blk.10.ffn_down.weight", [512, 256]),      # beyond block_count, dense: fine
    ("blk.7.attn_output.weight_b", [256, 256]),
    ("blk.6.expert_ffn_up.weight", [256, 3, 2]), # 3-D, category ffn_up
]
MODELS.append(spec("odd_names", "qwen2", n_layer=8, n_embd=256, n_head=4, n_head_kv=2,
                   n_ff=512, tied=True, dtype="f32", extra=ODD_EXTRA, load=False,
                   meta_experts=1))

# MoE models whose layer number cannot be found: llama-quantize refuses them
MODELS.append(spec("moe_nolayer", "qwen3moe", n_layer=4, n_embd=256, n_head=4,
                   n_head_kv=4, n_expert=4, n_expert_used=2, dtype="f16",
                   extra=[("ffn_up_orphan.weight", [256, 256])], load=False))
MODELS.append(spec("moe_badlayer", "qwen3moe", n_layer=4, n_embd=256, n_head=4,
                   n_head_kv=4, n_expert=4, n_expert_used=2, dtype="f16",
                   extra=[("blk.4.ffn_gate_shexp.weight", [256, 256])], load=False))

# runs with non-default parameters: (model, mix, label, fields, tensor overrides)
VARIANTS = [
    ("qwen2_mha_w256", "Q4_K_M", "pure", {"pure": True}, []),
    ("qwen2_gqa4_tied_w64", "Q3_K_M", "pure", {"pure": True}, []),
    ("qwen2_mha_w256", "Q4_K_M", "keep_output", {"quantize_output_tensor": False}, []),
    ("qwen3_tied_gqa2", "Q5_K_M", "keep_output", {"quantize_output_tensor": False}, []),
    ("qwen2_mha_w256", "Q3_K_M", "output=Q5_K,token_embd=Q2_K",
     {"output_tensor_type": int(T.Q5_K), "token_embedding_type": int(T.Q2_K)}, []),
    ("qwen3_tied_gqa2", "Q4_K_S", "token_embd=Q8_0",
     {"token_embedding_type": int(T.Q8_0)}, []),
    # tied: --output-tensor-type reaches token_embd through the mix rules
    ("qwen2_gqa4_tied_w64", "Q4_K_M", "output=Q8_0",
     {"output_tensor_type": int(T.Q8_0)}, []),
    ("qwen3_tied_gqa2", "Q4_K_M", "output=Q5_K",
     {"output_tensor_type": int(T.Q5_K)}, []),
    # a manual override skips the mix rules, so attn_v counters do not advance
    ("qwen2_mha_w256", "Q4_K_M", "manual:blk.1.attn_v=Q8_0,manual:blk.3.attn_v=Q2_K",
     {}, [("blk.1.attn_v", int(T.Q8_0)), ("blk.3.attn_v", int(T.Q2_K))]),
    ("qwen3_tied_gqa2", "Q3_K_M", "manual:ffn_down=Q4_K,manual:blk.0.attn_v=Q6_K",
     {}, [("ffn_down", int(T.Q4_K)), ("blk.0.attn_v", int(T.Q6_K))]),
]


def tensors(s):
    """(name, ne) in converter order."""
    a, E, L = s["arch"], s["n_embd"], s["n_layer"]
    hd = s["head_dim"] or E // s["n_head"]
    nq, nkv = s["n_head"] * hd, s["n_head_kv"] * hd
    out = [("token_embd.weight", [E, N_VOCAB])]
    for i in range(L):
        b = "blk.%d." % i
        out.append((b + "attn_norm.weight", [E]))
        recurrent = a == "qwen3next" and (i + 1) % s["fa_interval"] != 0
        if a == "qwen":
            out += [(b + "attn_qkv.weight", [E, 3 * E]), (b + "attn_qkv.bias", [3 * E]),
                    (b + "attn_output.weight", [E, E])]
        elif recurrent:
            hk, nk, nv = s["ssm_state"], s["ssm_groups"], s["ssm_vheads"]
            kd, vd = hk * nk, hk * nv
            out += [(b + "attn_qkv.weight", [E, 2 * kd + vd]),
                    (b + "attn_gate.weight", [E, vd]),
                    (b + "ssm_conv1d.weight", [s["ssm_conv"], 2 * kd + vd]),
                    (b + "ssm_dt.bias", [nv]), (b + "ssm_a", [nv]),
                    (b + "ssm_ba.weight", [E, 2 * nv]),
                    (b + "ssm_norm.weight", [hk]),
                    (b + "ssm_out.weight", [vd, E])]
        else:
            qrows = 2 * nq if a == "qwen3next" else nq
            out += [(b + "attn_q.weight", [E, qrows]), (b + "attn_k.weight", [E, nkv]),
                    (b + "attn_v.weight", [E, nkv])]
            if a in ("qwen2", "qwen2moe"):
                out += [(b + "attn_q.bias", [nq]), (b + "attn_k.bias", [nkv]),
                        (b + "attn_v.bias", [nkv])]
            if a in ("qwen3", "qwen3moe", "qwen3next"):
                out += [(b + "attn_q_norm.weight", [hd]), (b + "attn_k_norm.weight", [hd])]
            out.append((b + "attn_output.weight", [nq, E]))
        out.append((b + ("post_attention_norm.weight" if a == "qwen3next"
                         else "ffn_norm.weight"), [E]))
        if s["n_expert"]:
            X, F = s["n_expert"], s["n_ff_exp"]
            out += [(b + "ffn_gate_inp.weight", [E, X]),
                    (b + "ffn_down_exps.weight", [F, E, X]),
                    (b + "ffn_gate_exps.weight", [E, F, X]),
                    (b + "ffn_up_exps.weight", [E, F, X])]
            if a in ("qwen2moe", "qwen3next"):
                S = s["n_ff_shexp"]
                out += [(b + "ffn_gate_inp_shexp.weight", [E, 1]),
                        (b + "ffn_gate_shexp.weight", [E, S]),
                        (b + "ffn_up_shexp.weight", [E, S]),
                        (b + "ffn_down_shexp.weight", [S, E])]
        else:
            F = s["n_ff"] // 2 if a == "qwen" else s["n_ff"]
            out += [(b + "ffn_up.weight", [E, F]), (b + "ffn_gate.weight", [E, F]),
                    (b + "ffn_down.weight", [F, E])]
    out.append(("output_norm.weight", [E]))
    if not s["tied"]:
        out.append(("output.weight", [E, N_VOCAB]))
    out += s["extra"]
    return out


def write_model(s, path):
    a = s["arch"]
    w = gguf.GGUFWriter(path, a)
    w.add_name(s["name"])
    w.add_context_length(256)
    w.add_embedding_length(s["n_embd"])
    w.add_block_count(s["n_layer"])
    w.add_feed_forward_length(s["n_ff"])
    w.add_head_count(s["n_head"])
    w.add_head_count_kv(s["n_head_kv"])
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    if s["head_dim"]:
        w.add_key_length(s["head_dim"])
        w.add_value_length(s["head_dim"])
    if s["meta_experts"] is not None:  # a dense model that states 1 expert
        w.add_expert_count(s["meta_experts"])
        w.add_expert_used_count(s["meta_experts"])
    if s["n_expert"]:
        w.add_expert_count(s["n_expert"])
        w.add_expert_used_count(s["n_expert_used"])
        w.add_expert_feed_forward_length(s["n_ff_exp"])
        if a in ("qwen2moe", "qwen3next"):
            w.add_expert_shared_feed_forward_length(s["n_ff_shexp"])
    if a == "qwen3next":
        w.add_ssm_conv_kernel(s["ssm_conv"])
        w.add_ssm_state_size(s["ssm_state"])
        w.add_ssm_group_count(s["ssm_groups"])
        w.add_ssm_time_step_rank(s["ssm_vheads"])
        w.add_ssm_inner_size(s["ssm_state"] * s["ssm_vheads"])
        w.add_full_attention_interval(s["fa_interval"])
        w.add_rope_dimension_count((s["head_dim"] or 64) // 4)
    w.add_file_type({"f32": 0, "f16": 1, "bf16": 32}[s["dtype"]])
    w.add_quantization_version(2)
    add_tokenizer(w)
    rng = np.random.default_rng(1234)  # values do not matter, only shapes
    types = []
    for name, ne in tensors(s):
        shape = list(reversed(ne))
        x = (rng.standard_normal(int(np.prod(shape))) * 0.05).astype(np.float32)
        x = x.reshape(shape)
        small = len(ne) == 1 or "_norm.weight" in name or "ffn_gate_inp" in name \
            or "ssm_conv1d" in name
        if small or s["dtype"] == "f32":
            w.add_tensor(name, x, raw_dtype=T.F32)
            types.append("F32")
        elif s["dtype"] == "f16":
            w.add_tensor(name, x.astype(np.float16), raw_dtype=T.F16)
            types.append("F16")
        else:
            q = gguf.quants.quantize(x, T.BF16)
            w.add_tensor(name, q, raw_dtype=T.BF16)  # byte shape: gguf-py derives ne
            types.append("BF16")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return types

# ---------------------------------------------------------------- llama.cpp


# struct llama_model_tensor_override {const char *pattern; enum ggml_type type;}
TensorOverride = llama_cpp.llama_model_tensor_override

LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(
    lambda level, text, ud: None)


def quantize(src, dst, ftype, fields, overrides):
    p = llama_cpp.llama_model_quantize_default_params()
    p.nthread = 1
    p.ftype = ftype
    for k, v in fields.items():
        setattr(p, k, v)
    keep = None
    if overrides:
        keep = (TensorOverride * (len(overrides) + 1))()
        for i, (pat, ty) in enumerate(overrides):
            keep[i].pattern = pat.encode()
            keep[i].type = ty
        keep[len(overrides)].pattern = None
        p.tt_overrides = ctypes.cast(keep, ctypes.POINTER(TensorOverride))
    t0 = time.perf_counter()
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    return rc, time.perf_counter() - t0


def load_check(path):
    mp = llama_cpp.llama_model_default_params()
    mp.n_gpu_layers = 0
    m = llama_cpp.llama_model_load_from_file(path.encode(), mp)
    if not m:
        sys.exit("gen_mix_golden: llama.cpp cannot load %s" % path)
    llama_cpp.llama_model_free(m)


def read_back(path):
    r = gguf.GGUFReader(path)
    ft = int(r.get_field("general.file_type").contents())
    return ft, [(t.name, T(t.tensor_type).name) for t in r.tensors]


def tab(*fields):
    """One line of the table: fields separated by tabs (names may hold spaces)."""
    return "\t".join(map(str, fields))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    ap.add_argument("--out", default=os.path.join(root, "testdata", "quant", "mix_golden.tsv"))
    args = ap.parse_args()

    if not os.environ.get("GEN_MIX_VERBOSE"):  # llama.cpp's log on stderr
        llama_cpp.llama_log_set(LOG_CB, None)
    llama_cpp.llama_backend_init()
    lines = ["# made by testdata/gen/quant/gen_mix_golden.py with llama-cpp-python %s "
             "(vendored llama.cpp), gguf %s; see testdata/quant/README.md"
             % (importlib.metadata.version("llama_cpp_python"),
                importlib.metadata.version("gguf"))]
    timing = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in MODELS:
            src = os.path.join(tmp, s["name"] + ".gguf")
            src_types = write_model(s, src)
            if s["load"]:
                load_check(src)
            ts = tensors(s)
            index = {n: i for i, (n, _) in enumerate(ts)}
            lines.append(tab("model", s["name"], "arch=" + s["arch"],
                             "block_count=%d" % s["n_layer"], "nextn=0",
                             "expert_count=%d" % (s["n_expert"] if s["meta_experts"] is None
                                                  else s["meta_experts"]),
                             "head_count=%d" % s["n_head"],
                             "head_count_kv=%d" % s["n_head_kv"]))
            for i, ((n, ne), ty) in enumerate(zip(ts, src_types)):
                ne4 = list(ne) + [1] * (4 - len(ne))
                lines.append(tab("t", s["name"], i, n, ty, *ne4))
            runs = [(m, ft, "-", {}, []) for m, ft in MIXES]
            runs += [(m, dict(MIXES)[m], lab, f, o)
                     for (mn, m, lab, f, o) in VARIANTS if mn == s["name"]]
            order = None
            for mix, ftype, label, fields, ovr in runs:
                dst = os.path.join(tmp, "out.gguf")
                rc, dt = quantize(src, dst, ftype, fields, ovr)
                timing.append((s["name"], mix, label, dt))
                if rc != 0:
                    lines.append(tab("fail", s["name"], mix, label))
                    continue
                ft, got = read_back(dst)
                os.unlink(dst)
                o = [index[n] for n, _ in got]
                if sorted(o) != list(range(len(ts))):
                    sys.exit("gen_mix_golden: %s %s: output tensors differ from input"
                             % (s["name"], mix))
                if order is None:
                    order = o
                    lines.append(tab("order", s["name"], *o))
                elif o != order:
                    sys.exit("gen_mix_golden: %s: output order changed with %s"
                             % (s["name"], mix))
                lines.append(tab("q", s["name"], mix, ft, label, *(t for _, t in got)))
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(t for *_, t in timing)
    slow = max(timing, key=lambda r: r[3])
    print("gen_mix_golden: %d models, %d quantize runs in %.1f s (slowest %s %s %s %.2f s); "
          "wrote %s" % (len(MODELS), len(timing), total, *slow, args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
