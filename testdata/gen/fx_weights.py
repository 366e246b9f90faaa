"""Deterministic random weights and safetensors writing for the fixtures.

Every tensor is drawn from its own numpy PCG64 stream seeded by
(fixture seed, crc32 of its in-memory transformers name), so values do not
depend on module construction order or on torch's generator. Values are
drawn in fp32, rounded once to the storage dtype, and the rounded values
are what both the checkpoint and the forward pass use.

Scales (in = input width of a linear layer):
  linear weight        N(0, (g/sqrt(in))^2), g = 1 unless listed
  router (mlp.gate)    g = 3, so routing is decisive
  lm_head              g = the fixture's logit gain (peaked logits)
  q/k/v bias           N(0, 0.5^2)
  embedding            N(0, emb_std^2), emb_std = 1 unless the fixture sets it
                       (tied fixtures use less, so the layers and not the
                       input token's own row decide the top logit)
  RMSNorm weight       1 + 0.2 N(0,1); zero-centred norms (Qwen3-Next) 0.2 N(0,1)
  final norm           as above, times `final_norm_gain` for tied models
  A_log                log(U(0.02, 1)) (per-token decay mostly 0.5..0.99);
                       dt_bias N(0, 0.5^2)
  conv1d weight        N(0, 1/K)
"""

import json
import math
import os
import zlib

import numpy as np
import torch
from safetensors.torch import save_file

DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}


def _rng(seed, name):
    return np.random.Generator(np.random.PCG64([seed, zlib.crc32(name.encode())]))


def _is_norm(name):
    return name.endswith("norm.weight") or name.endswith("ln_1.weight") \
        or name.endswith("ln_2.weight") or name.endswith("ln_f.weight")


def draw(seed, name, shape, fx):
    """fp32 numpy array for parameter `name` of fixture spec `fx`."""
    r = _rng(seed, name)
    zc = fx.get("zero_centred", False)
    if _is_norm(name):
        gated = name.endswith("linear_attn.norm.weight")  # never zero-centred
        w = 0.2 * r.standard_normal(shape)
        if not (zc and not gated):
            w = 1.0 + w
        if name in ("model.norm.weight",):
            g = fx.get("final_norm_gain", 1.0)
            w = w * g if not zc else (1.0 + w) * g - 1.0
        return w.astype(np.float32)
    if name.endswith("A_log"):
        return np.log(r.uniform(0.02, 1.0, shape)).astype(np.float32)
    if name.endswith("dt_bias"):
        return (0.5 * r.standard_normal(shape)).astype(np.float32)
    if name.endswith("conv1d.weight"):
        k = shape[-1]
        return (r.standard_normal(shape) / math.sqrt(k)).astype(np.float32)
    if name.endswith(".bias"):
        return (0.5 * r.standard_normal(shape)).astype(np.float32)
    if name.endswith("embed_tokens.weight"):
        return (fx.get("emb_std", 1.0) * r.standard_normal(shape)).astype(np.float32)
    fan_in = shape[-1]
    g = 1.0
    if name.endswith("mlp.gate.weight"):
        g = 3.0
    elif name == "lm_head.weight":
        g = fx["logit_gain"]
    return (g * r.standard_normal(shape) / math.sqrt(fan_in)).astype(np.float32)


def make_state(seed, shapes, fx, dtype):
    """{name: tensor in storage dtype} for every in-memory parameter."""
    out = {}
    for name in sorted(shapes):
        a = torch.from_numpy(draw(seed, name, shapes[name], fx))
        out[name] = a.to(DTYPES[dtype]).contiguous()
    return out


def split_experts(state):
    """transformers 5.x fused experts -> hub per-expert tensors:
    gate_up_proj [E, 2*I, H] -> experts.e.gate_proj [I, H] (first half) and
    experts.e.up_proj [I, H]; down_proj [E, H, I] -> experts.e.down_proj."""
    out = {}
    for name, t in state.items():
        if name.endswith("mlp.experts.gate_up_proj"):
            base = name[: -len("gate_up_proj")]
            inter = t.shape[1] // 2
            for e in range(t.shape[0]):
                out[f"{base}{e}.gate_proj.weight"] = t[e, :inter].clone()
                out[f"{base}{e}.up_proj.weight"] = t[e, inter:].clone()
        elif name.endswith("mlp.experts.down_proj"):
            base = name[: -len("down_proj")]
            for e in range(t.shape[0]):
                out[f"{base}{e}.down_proj.weight"] = t[e].clone()
        else:
            out[name] = t
    return out


def save_single(state, path):
    save_file({k: state[k] for k in sorted(state)}, path,
              metadata={"format": "pt"})


def save_sharded(state, dirpath, n_shards):
    """model-0000i-of-0000n.safetensors plus model.safetensors.index.json.
    Tensors in name order, cut into n runs of about equal bytes."""
    names = sorted(state)
    total = sum(state[k].numel() * state[k].element_size() for k in names)
    target = total / n_shards
    groups, cur, acc = [], [], 0
    for k in names:
        nb = state[k].numel() * state[k].element_size()
        if cur and acc + nb / 2 > target * (len(groups) + 1) \
                and len(groups) < n_shards - 1:
            groups.append(cur)
            cur = []
        cur.append(k)
        acc += nb
    groups.append(cur)
    if len(groups) != n_shards:
        raise SystemExit(f"sharding: made {len(groups)} shards, wanted {n_shards}")
    wmap = {}
    for i, g in enumerate(groups):
        fname = f"model-{i + 1:05d}-of-{n_shards:05d}.safetensors"
        save_single({k: state[k] for k in g}, os.path.join(dirpath, fname))
        for k in g:
            wmap[k] = fname
    index = {"metadata": {"total_size": total},
             "weight_map": {k: wmap[k] for k in sorted(wmap)}}
    with open(os.path.join(dirpath, "model.safetensors.index.json"), "w",
              encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(index, indent=2) + "\n")


_ST_DTYPE = {torch.float32: "F32", torch.int32: "I32", torch.int64: "I64",
             torch.bfloat16: "BF16", torch.float16: "F16"}


def save_ordered(tensors, path, metadata):
    """Write a safetensors file with a stable header: `__metadata__` first
    with sorted keys, then tensors in name order, data in the same order.
    (safetensors 0.8's own writer orders a multi-key metadata map by hash,
    which changes from run to run.) Read back with safetensors to check."""
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _ST_DTYPE[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hb = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        for b in blobs:
            f.write(b)
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        if f.metadata() != metadata or sorted(f.keys()) != sorted(tensors):
            raise SystemExit(f"{path}: read-back mismatch")
        for name in tensors:
            if not torch.equal(f.get_tensor(name), tensors[name]):
                raise SystemExit(f"{path}: tensor {name} read back differs")
