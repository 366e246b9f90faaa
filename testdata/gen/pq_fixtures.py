#!/usr/bin/env python3
# venv: .venv (torch 2.15.0, transformers 5.23.0, safetensors 0.8.0)
"""Pre-quantized fixtures: checkpoints shipped quantized, and PyTorch .bin.

Written to testdata/pq/ (not testdata/models/: the golden-fixture suites
expect lossless bf16 checkpoints there). Made from the qwen3 golden fixture
(testdata/models/qwen3, bf16): its
linear layers (q/k/v/o, gate/up/down of every layer) quantized by the
published layouts, written beside its other tensors, with the expected
outputs transformers 5.23.0 computes in fp32 for the *dequantized* weights:

  qwen3_fp8   quant_method "fp8", weight_block_size [128, 128], F8_E4M3
              weights, BF16 weight_scale_inv [ceil(rows/128), ceil(cols/128)]
              (every side of this model is below 128: one trimmed block),
              lm_head in modules_to_not_convert (kept bf16).
  qwen3_gptq  GPTQ 4-bit, group 16, desc_act (permuted g_idx), sym, v1 zeros
  qwen3_gptq2 GPTQ 2-bit, group 32, no desc_act, asymmetric, gptq_v2 zeros
  qwen3_awq   AWQ GEMM 4-bit, group 16, zero points (AutoAWQ's packing)
  qwen3_ct    compressed-tensors pack-quantized int4, group 16, symmetric
  qwen2_5_yarn_bin  the qwen2_5_yarn fixture as two torch.save shards + index
  qwen3_ct_fp8, qwen3_ct_int8  compressed-tensors float-quantized (FP8) and
              int-quantized (I8), one scale a row, lm_head ignored (no
              expected outputs: llama.cpp's converter is the oracle)
  qwen3_5_fp8 the qwen3_5 fixture's text model in FP8 (no expected outputs:
              make crosscheck's whole-file identity with llama.cpp's
              converter is its oracle)

Dequantization follows the format as llama.cpp's converter implements it
(conversion/base.py dequant_simple: each scale repeated over its block,
the grid cut to the weight's shape, one fp32 product), written here with
torch ops, not with qwenkit. transformers loads qwen3_fp8 itself
(FineGrainedFP8Config(dequantize=True)) and its dequantized parameters must
equal ours exactly (they do for single-block grids; for grids whose blocks
do not divide the weight transformers 5.23 derives the block from
rows // scale_rows instead, see testdata/pq/README.md).

testdata/pq/fp8_cases.safetensors holds small standalone cases for the unit
tests (tests/unit/test_pq.c): weights, scales and the expected fp32 values,
including a 20 x 24 weight in 16 x 16 blocks (the last block of each side
trimmed) where transformers' rows // scale_rows rule gives 10 x 12 blocks.

The expected outputs hold one short sequence (the first 8 tokens of the
qwen3 fixture's sequence 0), to keep testdata/ small; tokenizer files are
symbolic links to the qwen3 fixture's.

usage: pq_fixtures.py [--out DIR] [PART...]   (default: testdata/pq, every part;
       PART: qwen3_fp8 fp8_cases int_cases qwen3_gptq qwen3_awq qwen3_ct
       qwen2_5_yarn_bin qwen3_5_fp8 qwen3_ct_scaled)
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures as mf  # noqa: E402  (sets the reproducibility env first)

import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import AutoConfig, AutoModelForCausalLM  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SRC = os.path.join(ROOT, "testdata", "models", "qwen3")
N_TOK = 8
LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
FP8_MAX = 448.0


def is_linear(name):
    return name.startswith("model.layers.") and name.endswith(".weight") and \
        name.split(".")[-2] in LINEAR


def load_src():
    with safe_open(os.path.join(SRC, "model.safetensors"), "pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys()}
    with safe_open(os.path.join(SRC, "expected.safetensors"), "pt") as f:
        ids = f.get_tensor("tokens.0")[:N_TOK].tolist()
    cfg = json.load(open(os.path.join(SRC, "config.json")))
    return state, cfg, ids


# ---- FP8 (quant_method "fp8") ----

def blocks_expand(s, br, bc, rows, cols):
    """The format's scale for every weight element: each scale repeated over
    its br x bc block, cut to the weight's shape (llama.cpp's reading)."""
    return s.float().repeat_interleave(br, 0).repeat_interleave(bc, 1)[:rows, :cols]


def fp8_quantize(w, br, bc, scale_dtype=torch.bfloat16, fmt=torch.float8_e4m3fn):
    """w (fp32 [rows, cols]) -> (fp8 weight, scale grid): per block,
    scale = max|w| / 448 stored in scale_dtype, q = w / scale rounded to
    fp8. (How a producer picks scales does not matter to a reader.)"""
    rows, cols = w.shape
    gr, gc = -(-rows // br), -(-cols // bc)
    s = torch.empty(gr, gc)
    for i in range(gr):
        for j in range(gc):
            a = w[i * br:(i + 1) * br, j * bc:(j + 1) * bc].abs().max()
            s[i, j] = a / FP8_MAX if a > 0 else 1.0
    s = s.to(scale_dtype)
    full = blocks_expand(s, br, bc, rows, cols)
    q = (w / full).clamp(-FP8_MAX, FP8_MAX).to(fmt)
    return q, s


def fp8_dequantize(q, s, br, bc):
    rows, cols = q.shape
    return q.float() * blocks_expand(s, br, bc, rows, cols)


# ---- writing ----

def link_tokenizer(d):
    for f in ("tokenizer.json", "tokenizer_config.json"):
        p = os.path.join(d, f)
        if os.path.lexists(p):
            os.remove(p)
        os.symlink(os.path.join("..", "..", "models", "qwen3", f), p)


@torch.no_grad()
def expected_for(d, cfg, deq_state, ids, name, note):
    """Run transformers (fp32, eager) with the dequantized weights; write
    d/expected.safetensors."""
    plain = {k: v for k, v in cfg.items() if k != "quantization_config"}
    config = AutoConfig.for_model(**plain)
    config._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(
        {k: v.to(torch.float32) for k, v in deq_state.items()}, strict=False)
    if unexpected or [k for k in missing if "rotary" not in k]:
        raise SystemExit(f"{name}: state dict missing {missing} unexpected {unexpected}")
    model.eval()
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(SRC)
    text = tok.decode(ids)
    results, _ = mf.run(model, [(text, ids)])
    n_params = sum(p.numel() for p in model.parameters())
    mf.write_expected(os.path.join(d, "expected.safetensors"), {"name": name}, results,
                      cfg["num_hidden_layers"], n_params, {"pq_note": note})


def write_model(d, cfg, tensors):
    os.makedirs(d, exist_ok=True)
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    link_tokenizer(d)


def check_fp8_with_transformers(d, deq_state):
    """transformers' own FP8 loading (dequantize=True) must give our values."""
    from transformers import FineGrainedFP8Config
    model = AutoModelForCausalLM.from_pretrained(
        d, dtype=torch.float32, quantization_config=FineGrainedFP8Config(dequantize=True))
    sd = model.state_dict()
    for k, v in deq_state.items():
        got = sd[k].to(torch.float32)
        if not torch.equal(got, v.to(torch.float32)):
            raise SystemExit(f"{d}: transformers dequantizes {k} differently "
                             f"(max |d| {(got - v.float()).abs().max():.3g})")
    print(f"{d}: transformers' FP8 loading gives the same {len(deq_state)} tensors")


def make_fp8(out, state, cfg, ids):
    d = os.path.join(out, "qwen3_fp8")
    br = bc = 128
    tensors, deq = {}, {}
    for k, v in state.items():
        if is_linear(k):
            q, s = fp8_quantize(v.float(), br, bc)
            tensors[k] = q
            tensors[k + "_scale_inv"] = s
            deq[k] = fp8_dequantize(q, s, br, bc)
        else:
            tensors[k] = v
            deq[k] = v.float()
    qcfg = dict(cfg)
    qcfg["quantization_config"] = {"activation_scheme": "dynamic", "fmt": "e4m3",
                                   "quant_method": "fp8", "weight_block_size": [br, bc],
                                   "modules_to_not_convert": ["lm_head"]}
    write_model(d, qcfg, tensors)
    expected_for(d, qcfg, deq, ids, "qwen3_fp8",
                 "qwen3 with its linear layers in FP8 (128x128 blocks, BF16 scales); "
                 "outputs of the dequantized weights")
    check_fp8_with_transformers(d, deq)


def make_fp8_cases(out):
    """Standalone FP8 cases for tests/unit/test_pq.c."""
    g = torch.Generator().manual_seed(18)
    t = {}
    cases = [  # name, rows, cols, block (None: per tensor / per row), scale dtype, fmt
        ("trim", 20, 24, (16, 16), torch.bfloat16, torch.float8_e4m3fn),
        ("f16", 9, 40, (4, 32), torch.float16, torch.float8_e4m3fn),
        ("f32", 5, 7, (128, 128), torch.float32, torch.float8_e4m3fn),
        ("e5m2", 6, 10, (4, 4), torch.bfloat16, torch.float8_e5m2),
    ]
    for name, rows, cols, blk, sdt, fmt in cases:
        w = torch.randn(rows, cols, generator=g) * 0.05
        q, s = fp8_quantize(w, blk[0], blk[1], sdt, fmt)
        t[f"{name}.weight"] = q
        t[f"{name}.weight_scale_inv"] = s
        t[f"{name}.expected"] = fp8_dequantize(q, s, *blk)
    # every one of the 256 E4M3 codes, one scale of 1 (per tensor)
    t["codes.weight"] = torch.arange(256, dtype=torch.uint8).view(torch.float8_e4m3fn).view(16, 16)
    t["codes.weight_scale_inv"] = torch.ones(1, dtype=torch.bfloat16)
    t["codes.expected"] = t["codes.weight"].float()
    # per row: scale [rows]
    w = torch.randn(3, 8, generator=g)
    s = (w.abs().amax(1) / FP8_MAX).to(torch.bfloat16)
    q = (w / s.float()[:, None]).to(torch.float8_e4m3fn)
    t["row.weight"], t["row.weight_scale_inv"] = q, s
    t["row.expected"] = q.float() * s.float()[:, None]
    # 160 x 16 in the real 128 x 128 blocks: rows 128..159 are a 32-row
    # trimmed block (transformers' rows // scale_rows gives 80-row blocks)
    w = torch.randn(160, 16, generator=g) * 0.05
    q, s = fp8_quantize(w, 128, 128)
    t["b160.weight"], t["b160.weight_scale_inv"] = q, s
    t["b160.expected"] = fp8_dequantize(q, s, 128, 128)
    # transformers 5.23's reading of the trimmed cases, for the README
    for name in ("trim", "b160"):
        rows, cols = t[f"{name}.weight"].shape
        sr, sc = t[f"{name}.weight_scale_inv"].shape
        tf = t[f"{name}.weight"].float() * blocks_expand(
            t[f"{name}.weight_scale_inv"], rows // sr, max(cols // sc, 1), rows, cols)
        n_diff = int((tf != t[f"{name}.expected"]).sum())
        print(f"fp8 cases: transformers' rows // scale_rows reading of '{name}' differs "
              f"in {n_diff} of {rows * cols} values")
    os.makedirs(out, exist_ok=True)
    save_file(t, os.path.join(out, "fp8_cases.safetensors"),
              metadata={"generator": "testdata/gen/pq_fixtures.py",
                        "torch_version": torch.__version__})


# ---- integer formats: GPTQ, AWQ (GEMM), compressed-tensors pack-quantized ----

def minmax_quant(w, bits, sym):
    """Per row of w [rows, n]: (q ints [rows, n], scale fp16 [rows], zero ints
    [rows]) with w ~ (q - zero) * scale; the usual min/max choice (how a
    producer picks them does not matter to a reader)."""
    maxq = 2 ** bits - 1
    if sym:
        amax = w.abs().amax(1).clamp(min=1e-8)
        scale = (2 * amax / maxq).to(torch.float16)
        zero = torch.full((w.shape[0],), (maxq + 1) // 2, dtype=torch.int64)
    else:
        lo, hi = w.amin(1).clamp(max=0), w.amax(1).clamp(min=0)
        scale = ((hi - lo).clamp(min=1e-8) / maxq).to(torch.float16)
        zero = torch.round(-lo / scale.float()).clamp(0, maxq).to(torch.int64)
    q = (torch.round(w / scale.float()[:, None]) + zero[:, None]).clamp(0, maxq).to(torch.int64)
    return q, scale, zero


def pack_words(vals, bits, axis):
    """Pack ints (< 2^bits) along `axis`, 32 // bits to an int32 word, the
    first value in the low bits (GPTQ's and compressed-tensors' order)."""
    pf = 32 // bits
    v = vals.to(torch.int64)
    if axis == 1:
        v = v.t()
    n = -(-v.shape[0] // pf)
    pad = torch.zeros(n * pf - v.shape[0], v.shape[1], dtype=torch.int64)
    v = torch.cat([v, pad]).reshape(n, pf, v.shape[1])
    words = torch.zeros(n, v.shape[2], dtype=torch.int64)
    for k in range(pf):
        words |= v[:, k, :] << (bits * k)
    words = words.to(torch.int64).numpy().astype("uint32").view("int32")
    out = torch.from_numpy(words.copy())
    return out.t().contiguous() if axis == 1 else out


def gptq_quantize(w, bits, group, desc_act, sym, v2, seed):
    """GPTQ's storage of w [out, in] (AutoGPTQ/GPTQModel layout): qweight
    [in / pf, out] packed along the input dimension, qzeros [G, out / pf]
    packed along the output dimension (v1 'gptq' stores zero - 1, gptq_v2
    the zero itself), scales fp16 [G, out], g_idx [in] (desc_act: groups
    taken over a permutation of the inputs). Returns the tensors and the
    dequantized fp32 weight scale[g][o] * (q - zero)."""
    out, n_in = w.shape
    if desc_act:
        perm = torch.randperm(n_in, generator=torch.Generator().manual_seed(seed))
        g_idx = torch.empty(n_in, dtype=torch.int64)
        g_idx[perm] = torch.arange(n_in) // group
    else:
        g_idx = torch.arange(n_in) // group
    ng = int(g_idx.max()) + 1
    q = torch.empty(out, n_in, dtype=torch.int64)
    scales = torch.empty(ng, out, dtype=torch.float16)
    zeros = torch.empty(ng, out, dtype=torch.int64)
    for g in range(ng):
        cols = (g_idx == g).nonzero().flatten()
        qg, s, z = minmax_quant(w[:, cols], bits, sym)
        q[:, cols] = qg
        scales[g], zeros[g] = s, z
    deq = (scales[g_idx].float() * (q.t() - zeros[g_idx]).float()).t().contiguous()
    stored_z = zeros if v2 else zeros - 1
    if (stored_z < 0).any():
        raise SystemExit("a v1 zero point of 0 cannot be stored")
    return {"qweight": pack_words(q.t(), bits, 0), "qzeros": pack_words(stored_z, bits, 1),
            "scales": scales, "g_idx": g_idx.to(torch.int32)}, deq


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # AutoAWQ: nibble i holds column AWQ_ORDER[i]


def awq_pack(vals):
    """AutoAWQ GEMM packing of ints [rows, cols] along the columns: word c
    holds columns 8c .. 8c+7, nibble i column 8c + AWQ_ORDER[i]."""
    rows, cols = vals.shape
    words = torch.zeros(rows, cols // 8, dtype=torch.int64)
    for c in range(cols // 8):
        for i in range(8):
            words[:, c] |= vals[:, 8 * c + AWQ_ORDER[i]].to(torch.int64) << (4 * i)
    return torch.from_numpy(words.numpy().astype("uint32").view("int32").copy())


def awq_unpack(words):
    """AutoAWQ's own reading (unpack_awq + reverse_awq_order), to check the
    packing: shifts 0, 4, .. 28, then columns reordered by
    AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7]."""
    shifts = torch.arange(0, 32, 4)
    w = (words[:, :, None] >> shifts[None, None, :]) & 15
    w = w.reshape(words.shape[0], -1)
    rev = torch.tensor([0, 4, 1, 5, 2, 6, 3, 7])
    return w.reshape(-1, 8)[:, rev].reshape(words.shape[0], -1)


def awq_quantize(w, group):
    """AWQ GEMM storage of w [out, in]: qweight [in, out / 8], qzeros
    [G, out / 8], scales fp16 [G, out]; dequantized (q - z) * scale, exact
    in fp32."""
    out, n_in = w.shape
    ng = n_in // group
    q = torch.empty(out, n_in, dtype=torch.int64)
    scales = torch.empty(ng, out, dtype=torch.float16)
    zeros = torch.empty(ng, out, dtype=torch.int64)
    for g in range(ng):
        qg, s, z = minmax_quant(w[:, g * group:(g + 1) * group], 4, False)
        q[:, g * group:(g + 1) * group] = qg
        scales[g], zeros[g] = s, z
    qw, qz = awq_pack(q.t()), awq_pack(zeros)
    if not torch.equal(awq_unpack(qw), q.t()) or not torch.equal(awq_unpack(qz), zeros):
        raise SystemExit("AWQ packing does not read back through AutoAWQ's unpacking")
    gi = torch.arange(n_in) // group
    deq = ((q - zeros[gi].t()).double() * scales[gi].t().double()).float()
    return {"qweight": qw, "qzeros": qz, "scales": scales}, deq


def ct_pack_quantize(w, bits, group):
    """compressed-tensors pack-quantized, symmetric, group strategy:
    weight_packed int32 [out, ceil(in / pf)] (values + 2^(bits-1), the
    first in the low bits), weight_scale [out, G], weight_shape [2]."""
    out, n_in = w.shape
    ng = n_in // group
    half = 2 ** (bits - 1)
    q = torch.empty(out, n_in, dtype=torch.int64)
    scales = torch.empty(out, ng, dtype=torch.bfloat16)
    for g in range(ng):
        blk = w[:, g * group:(g + 1) * group]
        s = (blk.abs().amax(1).clamp(min=1e-8) / (half - 1)).to(torch.bfloat16)
        q[:, g * group:(g + 1) * group] = torch.round(blk / s.float()[:, None]).clamp(-half, half - 1).to(torch.int64)
        scales[:, g] = s
    gi = torch.arange(n_in) // group
    deq = q.float() * scales[:, gi].float()
    return {"weight_packed": pack_words(q + half, bits, 1),
            "weight_scale": scales,
            "weight_shape": torch.tensor([out, n_in], dtype=torch.int64)}, deq


def quantized_linears(state, quantize, lm_head, plain):
    """Every linear layer (and lm_head when asked) through quantize(w fp32,
    i) -> ({suffix: tensor}, dequantized); the rest in dtype `plain`."""
    tensors, deq = {}, {}
    for i, (k, v) in enumerate(sorted(state.items())):
        if is_linear(k) or (lm_head and k == "lm_head.weight"):
            base = k[:-len(".weight")]
            parts, d = quantize(v.float(), i)
            for suffix, t in parts.items():
                tensors[f"{base}.{suffix}"] = t
            deq[k] = d
        else:
            tensors[k] = v.to(plain)
            deq[k] = tensors[k].float()
    return tensors, deq


def make_int(out, state, cfg, ids, name, qcfg, quantize, lm_head, note, plain=torch.bfloat16):
    """A fixture of `name`: the linear layers through quantize, the other
    tensors in `plain` (GPTQ and AWQ checkpoints are float16 throughout)."""
    d = os.path.join(out, name)
    tensors, deq = quantized_linears(state, quantize, lm_head, plain)
    c = dict(cfg)
    c["torch_dtype"] = str(plain).replace("torch.", "")
    c["quantization_config"] = qcfg
    write_model(d, c, tensors)
    expected_for(d, c, deq, ids, name, note)
    print(f"{d}: written")


def make_gptq(out, state, cfg, ids):
    # 4-bit, groups of 16 over permuted inputs (desc_act), symmetric, v1 zeros
    make_int(out, state, cfg, ids, "qwen3_gptq",
             {"quant_method": "gptq", "bits": 4, "group_size": 16, "desc_act": True,
              "sym": True, "checkpoint_format": "gptq", "lm_head": True,
              "damp_percent": 0.01, "true_sequential": True, "static_groups": False},
             lambda w, i: gptq_quantize(w, 4, 16, True, True, False, 1800 + i), True,
             "qwen3 in GPTQ 4-bit, group_size 16, desc_act (g_idx over permuted inputs), "
             "sym, checkpoint_format gptq (zeros stored minus one)", torch.float16)
    # 2-bit, groups of 32 in input order, asymmetric, gptq_v2 zeros
    make_int(out, state, cfg, ids, "qwen3_gptq2",
             {"quant_method": "gptq", "bits": 2, "group_size": 32, "desc_act": False,
              "sym": False, "checkpoint_format": "gptq_v2", "lm_head": True},
             lambda w, i: gptq_quantize(w, 2, 32, False, False, True, 0), True,
             "qwen3 in GPTQ 2-bit, group_size 32, no desc_act, asymmetric, gptq_v2 zeros",
             torch.float16)


def make_awq(out, state, cfg, ids):
    make_int(out, state, cfg, ids, "qwen3_awq",
             {"quant_method": "awq", "bits": 4, "group_size": 16, "version": "gemm",
              "zero_point": True, "modules_to_not_convert": None},
             lambda w, i: awq_quantize(w, 16), True,
             "qwen3 in AWQ GEMM 4-bit, group_size 16, zero points", torch.float16)


def make_ct(out, state, cfg, ids):
    make_int(out, state, cfg, ids, "qwen3_ct",
             {"quant_method": "compressed-tensors", "format": "pack-quantized",
              "config_groups": {"group_0": {
                  "targets": ["Linear"], "input_activations": None, "output_activations": None,
                  "weights": {"num_bits": 4, "type": "int", "symmetric": True,
                              "strategy": "group", "group_size": 16, "dynamic": False,
                              "actorder": None, "observer": "minmax"}}},
              "ignore": [], "quantization_status": "compressed"},
             lambda w, i: ct_pack_quantize(w, 4, 16), True,
             "qwen3 in compressed-tensors pack-quantized int4, group 16, symmetric")


def make_ct_scaled(out, state, cfg, ids):
    """compressed-tensors float-quantized (FP8 E4M3) and int-quantized (I8),
    strategy channel: "X.weight" with "X.weight_scale" [out, 1] BF16 (one
    scale a row, max|row| / 448 or / 127), lm_head on the "ignore" list (a
    plain bf16 weight). No expected outputs (testdata budget): llama.cpp's
    converter, whole file for whole file, is their oracle (make crosscheck,
    testdata/llamacpp/pq_convert.tsv)."""
    for name, fmt, typ, top in (("qwen3_ct_fp8", "float-quantized", "float", FP8_MAX),
                                ("qwen3_ct_int8", "int-quantized", "int", 127.0)):
        t = {}
        for k, v in sorted(state.items()):
            if not is_linear(k):
                t[k] = v
                continue
            w = v.float()
            s = (w.abs().amax(1, keepdim=True).clamp(min=1e-8) / top).to(torch.bfloat16)
            x = w / s.float()
            t[k] = x.clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn) if typ == "float" else \
                torch.round(x).clamp(-127, 127).to(torch.int8)
            t[k + "_scale"] = s
        c = dict(cfg)
        c["quantization_config"] = {
            "quant_method": "compressed-tensors", "format": fmt,
            "config_groups": {"group_0": {
                "targets": ["Linear"], "input_activations": None, "output_activations": None,
                "weights": {"num_bits": 8, "type": typ, "symmetric": True,
                            "strategy": "channel", "group_size": None, "dynamic": False,
                            "observer": "minmax"}}},
            "ignore": ["lm_head"], "quantization_status": "compressed"}
        write_model(os.path.join(out, name), c, t)
        print(f"{name}: written")


def make_int_cases(out):
    """Small standalone integer cases for tests/unit/test_pq.c (each its
    config in test_pq.c): GPTQ 8-bit with permuted groups and 10 outputs
    (not a whole word of zero points), compressed-tensors pack-quantized with
    packed zero points (rows not a whole word), int-quantized per row and
    float-quantized (FP8) blocks."""
    g = torch.Generator().manual_seed(1818)
    t = {}
    w = torch.randn(10, 32, generator=g)
    parts, deq = gptq_quantize(w, 8, 8, True, True, False, 7)
    for k, v in parts.items():
        t[f"gptq8.{k}"] = v
    t["gptq8.expected"] = deq
    # pack-quantized, asymmetric: q and zero in [-8, 7] stored + 8
    w = torch.randn(10, 24, generator=g)
    q = torch.empty(10, 24, dtype=torch.int64)
    sc = torch.empty(10, 3, dtype=torch.float16)
    zp = torch.empty(10, 3, dtype=torch.int64)
    for j in range(3):
        qq, s, z = minmax_quant(w[:, 8 * j:8 * j + 8], 4, False)
        q[:, 8 * j:8 * j + 8], sc[:, j], zp[:, j] = qq - 8, s, z - 8
    t["ctasym.weight_packed"] = pack_words(q + 8, 4, 1)
    t["ctasym.weight_zero_point"] = pack_words(zp + 8, 4, 0)
    t["ctasym.weight_scale"] = sc
    t["ctasym.weight_shape"] = torch.tensor([10, 24], dtype=torch.int32)
    gi = torch.arange(24) // 8
    t["ctasym.expected"] = (q - zp[:, gi]).float() * sc[:, gi].float()
    # int-quantized, a scale per row [rows, 1]
    w = torch.randn(6, 20, generator=g)
    s = (w.abs().amax(1, keepdim=True) / 127).float()
    qi = torch.round(w / s).clamp(-128, 127).to(torch.int8)
    t["ctint.weight"], t["ctint.weight_scale"] = qi, s
    t["ctint.expected"] = qi.float() * s
    # float-quantized in 16 x 16 blocks
    qf, sf = fp8_quantize(torch.randn(20, 24, generator=g) * 0.1, 16, 16, torch.float32)
    t["ctfp8.weight"], t["ctfp8.weight_scale"] = qf, sf
    t["ctfp8.expected"] = fp8_dequantize(qf, sf, 16, 16)
    os.makedirs(out, exist_ok=True)
    save_file(t, os.path.join(out, "int_cases.safetensors"),
              metadata={"generator": "testdata/gen/pq_fixtures.py",
                        "torch_version": torch.__version__})


# ---- PyTorch .bin ----

BIN_SRC = os.path.join(ROOT, "testdata", "models", "qwen2_5_yarn")


def make_qwen3_5_fp8(out):
    """The qwen3_5 fixture (Qwen3.5: Gated DeltaNet + gated attention) in
    FP8, text only: every 2-D linear weight of its text layers F8_E4M3 in
    128 x 128 blocks with BF16 scales; the vision tower and the MTP layer
    left out and mtp_num_hidden_layers 0 (testdata budget: 0.24 MB instead
    of 0.41). For whole-file identity with llama.cpp's converter (which
    dequantizes before it splits in_proj_qkv and reorders out_proj's
    columns; qwen-convert does both on the FP8 storage): no outputs here."""
    src = os.path.join(ROOT, "testdata", "models", "qwen3_5")
    d = os.path.join(out, "qwen3_5_fp8")
    t = {}
    with safe_open(os.path.join(src, "model.safetensors"), "pt") as f:
        for k in f.keys():
            if k.startswith(("model.visual.", "mtp.")):
                continue
            v = f.get_tensor(k)
            if k.startswith("model.language_model.layers.") and k.endswith(".weight") and \
                    v.ndim == 2 and "norm" not in k and v.shape[0] > 1:
                t[k], t[k + "_scale_inv"] = fp8_quantize(v.float(), 128, 128)
            else:
                t[k] = v
    os.makedirs(d, exist_ok=True)
    save_file(t, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    cfg = json.load(open(os.path.join(src, "config.json")))
    cfg["text_config"]["mtp_num_hidden_layers"] = 0
    cfg["quantization_config"] = {"quant_method": "fp8", "weight_block_size": [128, 128],
                                  "activation_scheme": "dynamic"}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    for fn in ("tokenizer.json", "tokenizer_config.json"):
        p = os.path.join(d, fn)
        if os.path.lexists(p):
            os.remove(p)
        os.symlink(os.path.join("..", "..", "models", "qwen3_5", fn), p)
    print(f"{d}: {len(t)} tensors")


def make_bin(out):
    """qwen2_5_yarn as a sharded PyTorch checkpoint, as save_pretrained
    wrote them before safetensors: pytorch_model-0000i-of-00002.bin made by
    torch.save (zip format) of each shard's state dict, and
    pytorch_model.bin.index.json. The weights are the fixture's, so its
    expected.safetensors (a link) holds the outputs; transformers must load
    the .bin files (torch.load weights_only=True) to the same parameters."""
    d = os.path.join(out, "qwen2_5_yarn_bin")
    os.makedirs(d, exist_ok=True)
    with safe_open(os.path.join(BIN_SRC, "model.safetensors"), "pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys()}
    names = sorted(state)
    first = [k for k in names if k.startswith(("model.embed_tokens.", "model.layers.0."))]
    shards = [first, [k for k in names if k not in first]]
    wm, total = {}, 0
    for i, keys in enumerate(shards):
        fn = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save({k: state[k] for k in keys}, os.path.join(d, fn))
        for k in keys:
            wm[k] = fn
            total += state[k].numel() * state[k].element_size()
    with open(os.path.join(d, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wm}, f, indent=2,
                  sort_keys=True)
        f.write("\n")
    for fn in ("config.json", "tokenizer.json", "tokenizer_config.json",
               "expected.safetensors"):
        p = os.path.join(d, fn)
        if os.path.lexists(p):
            os.remove(p)
        os.symlink(os.path.join("..", "..", "models", "qwen2_5_yarn", fn), p)
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
    sd = model.state_dict()
    for k, v in state.items():
        if not torch.equal(sd[k], v.float()):
            raise SystemExit(f"{d}: transformers loads {k} differently")
    print(f"{d}: transformers loads the {len(state)} tensors of the .bin shards exactly")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "pq"))
    ap.add_argument("parts", nargs="*", choices=[[]] + list(PARTS),
                    help="only these (default: all)")
    a = ap.parse_args()
    mf.setup_torch()
    state, cfg, ids = load_src()
    for name in a.parts or PARTS:
        PARTS[name](a.out, state, cfg, ids)


# what main() makes, in order
PARTS = {
    "qwen3_fp8": make_fp8,
    "fp8_cases": lambda out, *_: make_fp8_cases(out),
    "int_cases": lambda out, *_: make_int_cases(out),
    "qwen3_gptq": make_gptq,
    "qwen3_awq": make_awq,
    "qwen3_ct": make_ct,
    "qwen2_5_yarn_bin": lambda out, *_: make_bin(out),
    "qwen3_5_fp8": lambda out, *_: make_qwen3_5_fp8(out),
    "qwen3_ct_scaled": make_ct_scaled,
}


if __name__ == "__main__":
    main()
