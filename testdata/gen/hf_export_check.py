#!/usr/bin/env python3
"""Check exported Hugging Face checkpoints with transformers itself.

For each fixture under testdata/models whose export is in ROOT/<fixture>
(qwen1, which has no transformers class: step 4 only):
  1. AutoConfig loads ROOT/<fixture>/config.json and its to_dict() matches
     the original's, apart from keys listed in ALLOWED (what a GGUF cannot
     carry, and the version stamp);
  2. AutoModelForCausalLM.from_pretrained loads it in fp32 with no missing,
     unexpected or mismatched keys and no error messages;
  3. every parameter equals the original checkpoint's parameter bit for bit
     (both loaded the same way), and the logits of the fixture's token
     sequences are identical (torch.equal) to the original model's and
     agree with expected.safetensors within the project's tolerance (1e-4
     of the largest |logit|; the two runs may use different CPU kernels);
  4. AutoTokenizer.from_pretrained(ROOT/<fixture>) encodes the fixture's
     texts (expected.safetensors metadata text.s) to its tokens.s.

Making ROOT (the GGUF exports of every fixture through bin/qwen-convert and
hx_export):

    make build/tests/test_hf_roundtrip bin/qwen-convert
    QK_HX_KEEP=/tmp/hx-export build/tests/test_hf_roundtrip
    .venv/bin/python testdata/gen/hf_export_check.py /tmp/hx-export

Exit status 0 when every fixture found passes, 1 otherwise.
"""
import argparse
import json
import os
import sys

# the environment regen.sh makes the expected outputs in
for k, v in {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default",
             "ONEDNN_MAX_CPU_ISA": "SSE41", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1",
             "TRANSFORMERS_OFFLINE": "1"}.items():
    os.environ.setdefault(k, v)

import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")

# config keys that may differ after HF -> GGUF -> HF
ALLOWED = {
    "transformers_version", "_name_or_path",
    # a GGUF holds the tokenizer's special ids (tokenizer_config.json's
    # eos_token, pad_token), which config.json then takes
    "bos_token_id", "eos_token_id", "pad_token_id",
    # llama.cpp (and so a GGUF) drops the MTP head
    "mtp_num_hidden_layers",
    # compared key by key below (the export drops the legacy "type" alias)
    "rope_parameters",
}


def setup_torch():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def load(path):
    model, info = AutoModelForCausalLM.from_pretrained(
        path, dtype=torch.float32, attn_implementation="eager",
        experts_implementation="eager", output_loading_info=True)
    model.eval()
    return model, info


def config_diff(orig, exp):
    a = AutoConfig.from_pretrained(orig).to_dict()
    b = AutoConfig.from_pretrained(exp).to_dict()
    out = []
    for k in sorted(set(a) | set(b)):
        if k in ALLOWED or a.get(k) == b.get(k):
            continue
        out.append(f"{k}: {a.get(k)!r} -> {b.get(k)!r}")
    # RoPE: compare what matters inside the dicts
    ra = a.get("rope_parameters") or {}
    rb = b.get("rope_parameters") or {}
    for k in ("rope_theta", "rope_type", "factor", "partial_rotary_factor",
              "original_max_position_embeddings"):
        if ra.get(k) != rb.get(k):
            out.append(f"rope_parameters.{k}: {ra.get(k)!r} -> {rb.get(k)!r}")
    return out


def check_tokenizer(fx, exp_dir):
    """The exported tokenizer encodes the fixture's texts to its tokens."""
    # trust_remote_code=False: the Qwen1 config names remote code it must not run
    tok = AutoTokenizer.from_pretrained(exp_dir, trust_remote_code=False)
    problems = []
    with safe_open(os.path.join(MODELS, fx, "expected.safetensors"), "pt") as f:
        meta = f.metadata()
        for s in range(int(meta["n_seq"])):
            ids = f.get_tensor(f"tokens.{s}").tolist()
            enc = tok(meta[f"text.{s}"], add_special_tokens=False)["input_ids"]
            if enc != ids:
                problems.append(f"seq {s}: exported tokenizer gives {enc[:8]}..., "
                                f"expected {ids[:8]}...")
    return problems


def check(fx, exp_dir):
    orig = os.path.join(MODELS, fx)
    problems = config_diff(orig, exp_dir)

    model_o, _ = load(orig)
    model_e, info = load(exp_dir)
    bad_unexpected = [k for k in info["unexpected_keys"] if not k.startswith("mtp.")]
    for what in ("missing_keys", "mismatched_keys", "error_msgs"):
        if info[what]:
            problems.append(f"{what}: {info[what]}")
    if bad_unexpected:
        problems.append(f"unexpected_keys: {bad_unexpected}")

    so, se = model_o.state_dict(), model_e.state_dict()
    if set(so) != set(se):
        problems.append(f"parameter names differ: {sorted(set(so) ^ set(se))[:5]}")
    n_diff = sum(1 for k in so if k in se and not torch.equal(so[k], se[k]))
    if n_diff:
        problems.append(f"{n_diff} parameters differ from the original's")

    problems += check_tokenizer(fx, exp_dir)
    max_dev = 0.0
    with safe_open(os.path.join(orig, "expected.safetensors"), "pt") as f:
        meta = f.metadata()
        for s in range(int(meta["n_seq"])):
            ids = f.get_tensor(f"tokens.{s}").to(torch.long)
            want = f.get_tensor(f"logits.{s}")
            with torch.no_grad():
                lo = model_o(ids[None]).logits[0]
                le = model_e(ids[None]).logits[0]
            if not torch.equal(lo, le):
                problems.append(f"seq {s}: logits differ from the original model's "
                                f"(max {float((lo - le).abs().max()):.3g})")
            max_dev = max(max_dev, float((le - want).abs().max() / want.abs().max()))
    if max_dev > 1e-4:
        problems.append(f"logits deviate from expected.safetensors by {max_dev:.3g} "
                        "of the largest |logit|")
    return problems, max_dev, len(so)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", help="directory holding one exported checkpoint per fixture")
    ap.add_argument("fixtures", nargs="*", help="fixtures to check (default: all found)")
    args = ap.parse_args()
    setup_torch()
    names = args.fixtures or sorted(os.listdir(MODELS))
    failed = checked = 0
    for fx in names:
        exp_dir = os.path.join(args.root, fx)
        if not os.path.isfile(os.path.join(exp_dir, "config.json")):
            print(f"skip {fx} (no export)")
            continue
        checked += 1
        if fx == "qwen1":  # no transformers class: the tokenizer only
            problems = check_tokenizer(fx, exp_dir)
            failed += bool(problems)
            print(("FAIL " if problems else "ok   ") + "qwen1: tokenizer "
                  + ("; ".join(problems) if problems else
                     "ok (model skipped: no transformers class)"))
            continue
        problems, dev, n = check(fx, exp_dir)
        if problems:
            failed += 1
            print(f"FAIL {fx}")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"ok   {fx}: {n} parameters identical, logits identical to the "
                  f"original model's, |logit - expected| <= {dev:.2g} x max |logit|, "
                  "tokenizer ok")
    print(json.dumps({"checked": checked, "failed": failed}))
    return 1 if failed or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
