"""testdata/models/README.md, written from what the generator just made."""

import json
import os

import torch
import transformers

import fx_tok

HEAD = """# Golden fixtures

Tiny random Qwen checkpoints of every generation and the outputs Hugging Face
transformers computes for them. Made by `testdata/gen/regen.sh` (see
`testdata/gen/README.md`); do not edit by hand. Generated with transformers
{tv}, torch {pv}; expected outputs in fp32, eager attention, eager experts,
no fast kernels (no flash-linear-attention, causal-conv1d or kernels).

## Files in each directory

- `config.json`: hub-style config of the generation (qwen2_moe: as
  transformers {tv} `save_pretrained` writes it, with `rope_parameters`,
  `dtype` and `sliding_window` 0, next to its `generation_config.json`).
- weights: `model.safetensors`, or for qwen3_moe three shards
  `model-0000i-of-00003.safetensors` and `model.safetensors.index.json`.
- tokenizer: `tokenizer.json` + `tokenizer_config.json` (chat template);
  qwen1 has `qwen.tiktoken` + `tokenizer_config.json` instead.
- `expected.safetensors`: the outputs (below).

## expected.safetensors

For each sequence s = 0, 1:

| name | dtype | shape | holds |
| --- | --- | --- | --- |
| `tokens.s` | I32 | [T] | input token ids (no BOS is added; positions 0..T-1) |
| `logits.s` | F32 | [T, vocab_size] | logits at every position |
| `hidden.s` | F32 | [n_layer + 1, T, hidden_size] | [0] = embedding output; [i] = residual stream after decoder layer i-1, **before** the final norm |

Sequence 0 is plain text, sequence 1 a chat-template rendering with special
tokens. `__metadata__` holds `format` (`qwenkit-expected-1`), `fixture`,
`n_seq`, `n_layer`, `dtype` (`float32`), `attn_implementation` (`eager`),
`experts_implementation` (`eager`), `transformers_version`,
`torch_version`, `hidden_layout`, and `text.s`, the exact text that was
tokenized (tokenizer tests can encode it and compare with `tokens.s`).

transformers' own `output_hidden_states` equals `hidden.s` except its last
entry, which is the *normed* final state; the generator checks this.

The weights in the checkpoint are exactly the weights the outputs were
computed from: drawn in fp32, rounded once to the storage dtype, written,
then loaded back by transformers (widened to fp32) and compared parameter by
parameter before running.

## Fixtures

| fixture | class | storage | L | hidden | heads q/kv x head_dim | FFN | experts (k) / expert, shared FFN | vocab | T | size | median top-2 gap | min gap / max abs logit |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
"""

TAIL = """
What each fixture exercises:

{lines}

Notes:

- Small-vocabulary fixtures share one byte-level BPE ({nreg} regular tokens,
  trained with `tokenizers` on the generator's own corpus) with
  `<|endoftext|>` = {eot}, `<|im_start|>` = {ims}, `<|im_end|>` = {ime};
  `vocab_size` is padded to 512. qwen1: same ranks in `qwen.tiktoken`;
  as in real Qwen1 (whose specials start at 151643 = number of ranks), the
  specials follow the ranks: `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`
  = {eot}..{ime}. Qwen1's remote tokenizer also names `<|extra_0|>`..
  `<|extra_204|>` after them ({ex0}..{ex204} here); `vocab_size` 512 holds
  extras 0..63 and a converter must drop the rest, as llama.cpp drops ids
  at or beyond `vocab_size`.
- qwen1: `seq_length` 128 and every sequence is shorter, so dynamic NTK and
  logn attention (both enabled, as in Qwen-7B) are the identity. Outputs come
  from the equivalent Qwen2ForCausalLM: q/k/v = rows [0,H), [H,2H), [2H,3H)
  of `c_attn` (weight and bias), gate_proj = `w2`, up_proj = `w1`,
  down_proj = `mlp.c_proj`, o_proj = `attn.c_proj`; in fp32 Qwen1's remote
  code (RoPE and RMSNorm in fp32) computes the same function.
- MoE layouts: transformers {tv} `save_pretrained` writes per-expert tensors
  (`mlp.experts.E.{{gate,up,down}}_proj.weight`), so qwen2_moe, qwen3_moe,
  qwen3_next and the `_256` MoE fixtures hold that layout. qwen1_5_moe
  holds the fused in-memory layout of 5.x,
  `mlp.experts.gate_up_proj` [E, 2*I, H] (rows [0,I) gate, [I,2I) up) and
  `mlp.experts.down_proj` [E, H, I], which `from_pretrained` loads unchanged.
- qwen3_next: `mtp.*` (fc [H, 2H], pre_fc_norm_embedding, pre_fc_norm_hidden,
  norm, and one full-attention MoE layer `mtp.layers.0.*`) is in the
  checkpoint; transformers ignores it, so no expected output covers it.
- qwen3_realvocab: `tokenizer.json` is the Qwen3 tokenizer from
  shared/data/qwen3-tokenizer re-serialised without whitespace (the same JSON
  value; 5.4 MB instead of 11.4 MB); `tokenizer_config.json`, `LICENSE` and
  `SOURCE.md` are verbatim copies.
- Robustness: at every position of every fixture the top-1 logit leads the
  top-2 by at least 1e-3 of the largest |logit|, and every MoE router's k-th
  logit leads the (k+1)-th by at least 1e-3, so an fp32 implementation
  within the project's tolerance has no excuse for a different argmax or a
  different expert choice.
- k-quants: qwen1, qwen2, qwen3_moe, qwen2_moe_256, qwen3_256 and
  qwen3_next_256 have every weight row (hidden, FFN, expert and shared-expert
  widths, attention and Gated DeltaNet output widths) a multiple of 256, so
  every k-quant applies without llama-quantize's row-length fallbacks. The
  `_256` variants of qwen2_moe, qwen3 and qwen3_next keep the fewest layers
  that show their generation (qwen2_moe_256: one layer; qwen3_next_256: one
  Gated DeltaNet and one gated-attention layer, `full_attention_interval` 2,
  no `mtp.*`) to fit the testdata/ budget; the small qwen2_moe, qwen3 and
  qwen3_next (rows of 16 to 64) keep the fallbacks covered.

Total size of testdata/models: {total}.
"""


def _mb(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def dir_size(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def _dims(cfg):
    if cfg["model_type"] == "qwen":
        h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
        return dict(L=cfg["num_hidden_layers"], H=h, heads=f"{nh}/{nh} x {h // nh}",
                    ffn=f"{cfg['intermediate_size'] // 2} (config {cfg['intermediate_size']})",
                    moe="-")
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads", nh)
    hd = cfg.get("head_dim") or cfg["hidden_size"] // nh
    moe = "-"
    if "num_experts" in cfg:
        sh = cfg.get("shared_expert_intermediate_size")
        moe = f"{cfg['num_experts']} ({cfg['num_experts_per_tok']}) / " \
              f"{cfg['moe_intermediate_size']}, {sh if sh else '-'}"
    ffn = str(cfg["intermediate_size"])
    if cfg["model_type"] in ("qwen2_moe", "qwen3_next") and not cfg.get("mlp_only_layers"):
        ffn += " (unused)"
    heads = f"{nh}/{nkv} x {hd}"
    if cfg["model_type"] == "qwen3_next":
        heads += (f"; GDN {cfg['linear_num_key_heads']}k/"
                  f"{cfg['linear_num_value_heads']}v x "
                  f"{cfg['linear_key_head_dim']}")
    return dict(L=cfg["num_hidden_layers"], H=cfg["hidden_size"], heads=heads,
                ffn=ffn, moe=moe)


def write_readme(out_root, fixtures, infos):
    rows, lines, total = [], [], 0
    for fx in fixtures:
        name = fx["name"]
        d = os.path.join(out_root, name)
        with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        dm = _dims(fx["config"])
        size = dir_size(d)
        total += size
        st = infos[name]["stats"]
        layout = {"qwen1": "single", "fused": "single, fused experts",
                  "save_pretrained": "single (save_pretrained)",
                  "sharded3": "3 shards"}.get(fx["layout"], "single")
        rows.append(
            f"| {name} | {cfg['architectures'][0]} | {fx['dtype']}, {layout} "
            f"| {dm['L']} | {dm['H']} | {dm['heads']} | {dm['ffn']} | {dm['moe']} "
            f"| {cfg['vocab_size']} | {'+'.join(map(str, infos[name]['seq_lens']))} "
            f"| {_mb(size)} | {st['median_gap']:.2f} | {st['min_rel_gap']:.3f} |")
        lines.append(f"- **{name}**: {fx['exercises']}.")
    n = fx_tok.N_REGULAR
    text = HEAD.format(tv=transformers.__version__, pv=torch.__version__)
    text += "\n".join(rows) + "\n"
    text += TAIL.format(lines="\n".join(lines), nreg=n, eot=n, ims=n + 1,
                        ime=n + 2, ex0=n + 3, ex204=n + 207, tv=transformers.__version__,
                        total=_mb(total))
    with open(os.path.join(out_root, "README.md"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write(text)
