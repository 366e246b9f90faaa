#!/usr/bin/env python3
"""Cross-check qwen-convert against llama.cpp's own converter and runtime.

For each fixture directory and each outtype, this runs llama.cpp's
convert_hf_to_gguf.py and bin/qwen-convert on the same checkpoint, parses
both files with gguf-py's GGUFReader and compares them:

  - key/values: names, GGUF types and values, in file order;
  - tensors: names, ggml types, shapes and the data bytes of every tensor;
  - llama.cpp's runtime (llama-cpp-python, a separate venv) loads our file
    and its logits for the fixture's token sequence 0 agree with the ones
    transformers computed (expected.safetensors), to within 1e-2 of the
    largest |logit| (llama.cpp computes in its own order, not ours).

Differences that are decided and documented (man/qwen-convert.1) are listed
in EXPECTED below and reported as "expected"; anything else fails.

Needs (not run by make check):
  - the llama.cpp sources vendored in the llama-cpp-python sdist:
      pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36
      tar xzf llama_cpp_python-0.3.36.tar.gz
    and --llama-cpp DIR pointing at llama_cpp_python-0.3.36/vendor/llama.cpp
  - a Python with torch + transformers (the fixture venv, .venv) to run the
    converter (this script's own interpreter);
  - --ggml-python: a Python with llama-cpp-python 0.3.36 built (.venv-ggml).

The fixtures' tokenizers are tiny BPEs trained for the tests, so llama.cpp's
pre-tokenizer hash lookup does not know them: the converter runs with
get_vocab_base_pre patched to "qwen2", or "qwen35" for Qwen3.5 (what
qwenkit chooses by architecture), Qwen2Model.set_vocab to the gpt2 path (no sentencepiece), and
for Qwen1 (remote-code tokenizer) with set_vocab disabled, so Qwen1's
tokenizer keys are not compared.

usage: convert_oracle.py --llama-cpp DIR [--ggml-python PY] [--qwen-convert BIN]
                         [--outtypes auto,f32,f16,bf16,q8_0] [--keep DIR] FIXTURE...
exit status 0 when every comparison holds.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

# ---- running llama.cpp's converter (in a child process) ----

RUN_LLAMA = r'''
import sys, runpy
LC = sys.argv[1]
sys.path.insert(0, LC); sys.path.insert(1, LC + "/gguf-py")
import conversion.base as base
import conversion.qwen as qwen
import gguf
Q35 = (gguf.MODEL_ARCH.QWEN35, gguf.MODEL_ARCH.QWEN35MOE)
base.TextModel.get_vocab_base_pre = \
    lambda self, tok: "qwen35" if self.model_arch in Q35 else "qwen2"
qwen.Qwen2Model.set_vocab = lambda self: self._set_vocab_gpt2()
qwen.QwenModel.set_vocab = lambda self: None
import conversion.qwenvl as qwenvl
qwenvl.Qwen2VLModel.set_vocab = lambda self: self._set_vocab_gpt2()
sys.argv = ["convert_hf_to_gguf.py"] + sys.argv[2:]
runpy.run_path(LC + "/convert_hf_to_gguf.py", run_name="__main__")
'''

# ---- what llama.cpp's runtime computes (in the ggml venv) ----

RUN_LOGITS = r'''
import json, struct, sys
import numpy as np
from llama_cpp import Llama
gguf, expected = sys.argv[1], sys.argv[2]
with open(expected, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    hdr = json.loads(f.read(n))
    base = 8 + n
    def get(name, dtype):
        t = hdr[name]; a, b = t["data_offsets"]
        f.seek(base + a)
        return np.frombuffer(f.read(b - a), dtype=dtype).reshape(t["shape"])
    toks = get("tokens.0", np.int32).tolist()
    want = get("logits.0", np.float32)
llm = Llama(model_path=gguf, n_ctx=max(64, len(toks)), logits_all=True, verbose=False,
            n_threads=1, n_gpu_layers=0)
llm.eval(toks)
got = np.array(llm.scores[:len(toks)], dtype=np.float32)
scale = float(np.abs(want).max())
err = float(np.abs(got - want).max()) / scale
top = bool((got.argmax(-1) == want.argmax(-1)).all())
print(json.dumps({"rel_err": err, "argmax_same": top, "n_tokens": len(toks)}))
'''

# (fixture or "*", key) -> why it may differ. A key listed with "*" may differ
# in every fixture.
EXPECTED = {
    ("qwen1", "qwen.attention.layer_norm_rms_epsilon"):
        "Qwen1 carries the RMS key the runtime requires (llama.cpp writes layer_norm_epsilon)",
    ("qwen1", "qwen.attention.layer_norm_epsilon"): "see qwen.attention.layer_norm_rms_epsilon",
    ("*", "qwen3next.full_attention_interval"):
        "llama.cpp's converter reads config.json through transformers 5.x, which drops the "
        "key, and writes 4; ours is config.json's (2 in qwen3_next_256)",
}

# fixtures whose tokenizer llama.cpp's converter cannot read without the
# model's remote code (set_vocab disabled above): tokenizer keys not compared
NO_VOCAB = {"qwen1"}

# llama.cpp's outtype that gives the same tensors as our auto, by our
# general.file_type: auto keeps f32 sources at F32 where llama.cpp's auto
# narrows them to F16 (a documented difference); bf16 and f16 agree
AUTO_AS = {0: "f32", 1: "f16", 32: "bf16"}

# max |logit - transformers| / max |logit| that llama.cpp's run of our file
# may show, by outtype (llama.cpp computes bf16/f16 matmuls with activations
# rounded to the weight type); q8_0: only that it loads and runs, the bytes
# are checked against llama.cpp's own q8_0 file above
LOGIT_BUDGET = {"f32": 1e-3, "f16": 1e-2, "bf16": 3e-2, "auto": 3e-2, "q8_0": None}
# MoE fixtures: a routing choice between two near-equal experts can flip once
# llama.cpp rounds the activations, moving a whole position (as in
# convert_crosscheck.py's TOL_MOE; qwen3_next_256 bf16: 9.5e-2, same bytes as
# llama.cpp's own file)
LOGIT_BUDGET_MOE = dict(LOGIT_BUDGET, f16=2e-2, bf16=1.5e-1, auto=1.5e-1)


def st_names(fxdir):
    """Tensor names of a checkpoint's safetensors files."""
    names = []
    for f in sorted(os.listdir(fxdir)):
        if f.endswith(".safetensors") and f != "expected.safetensors":
            with open(os.path.join(fxdir, f), "rb") as fh:
                n = struct.unpack("<Q", fh.read(8))[0]
                names += [k for k in json.loads(fh.read(n)) if k != "__metadata__"]
    return names


def load_gguf(path, gguf_py):
    if gguf_py:
        sys.path.insert(0, gguf_py)
    from gguf import GGUFReader
    r = GGUFReader(path)
    kvs = []
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue
        types = [t.name for t in field.types]
        val = field.contents()
        kvs.append((name, types, val))
    tensors = []
    for t in r.tensors:
        tensors.append((t.name, t.tensor_type.name, [int(x) for x in t.shape],
                        bytes(t.data.tobytes())))
    return kvs, tensors


def same_value(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<f", a) == struct.pack("<f", b)
    return a == b


def compare(fx, ours, theirs, report):
    ok = True
    ok_keys = {k for (f, k) in EXPECTED if f in (fx, "*")}
    ko, kt = {k: (t, v) for k, t, v in ours[0]}, {k: (t, v) for k, t, v in theirs[0]}
    if fx in NO_VOCAB:  # llama.cpp's converter wrote no tokenizer keys here
        ko = {k: v for k, v in ko.items() if not k.startswith("tokenizer.")}
    for k in list(ko) + [k for k in kt if k not in ko]:
        a, b = ko.get(k), kt.get(k)
        if a is not None and b is not None and a[0] == b[0] and same_value(a[1], b[1]):
            continue
        what = f"{k}: ours {a[0] if a else '-'} {str(a[1])[:60] if a else ''} | " \
               f"llama.cpp {b[0] if b else '-'} {str(b[1])[:60] if b else ''}"
        if k in ok_keys:
            report.append(f"  expected: {what}")
        else:
            report.append(f"  DIFF    : {what}")
            ok = False
    order_o = [k for k, _, _ in ours[0] if k in kt and k in ko]
    order_t = [k for k, _, _ in theirs[0] if k in ko]
    if order_o != order_t:
        i = next(i for i, (x, y) in enumerate(zip(order_o, order_t)) if x != y)
        report.append(f"  DIFF    : key order differs at {i}: ours {order_o[i]}, llama.cpp {order_t[i]}")
        ok = False
    to = {n: (ty, sh, d) for n, ty, sh, d in ours[1]}
    tt = {n: (ty, sh, d) for n, ty, sh, d in theirs[1]}
    for n in sorted(set(to) | set(tt)):
        a, b = to.get(n), tt.get(n)
        if a is None or b is None:
            report.append(f"  DIFF    : tensor {n} only in {'llama.cpp' if a is None else 'ours'}")
            ok = False
        elif a[0] != b[0] or a[1] != b[1]:
            report.append(f"  DIFF    : tensor {n}: ours {a[0]} {a[1]} | llama.cpp {b[0]} {b[1]}")
            ok = False
        elif a[2] != b[2]:
            nd = sum(x != y for x, y in zip(a[2], b[2]))
            report.append(f"  DIFF    : tensor {n}: {nd} data bytes differ")
            ok = False
    if [n for n, *_ in ours[1]] != [n for n, *_ in theirs[1]]:
        report.append("  note    : tensor order differs (llama.cpp accepts any order)")
    report.append(f"  {len(ko)} keys, {len(to)} tensors compared")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True)
    ap.add_argument("--ggml-python", default=None)
    ap.add_argument("--qwen-convert", default="bin/qwen-convert")
    ap.add_argument("--outtypes", default="auto,f32,f16,bf16,q8_0")
    ap.add_argument("--keep", default=None)
    ap.add_argument("fixtures", nargs="+")
    a = ap.parse_args()
    gguf_py = os.path.join(a.llama_cpp, "gguf-py")
    work = a.keep or tempfile.mkdtemp(prefix="convert-oracle-")
    os.makedirs(work, exist_ok=True)
    all_ok = True
    for fxdir in a.fixtures:
        fx = os.path.basename(os.path.normpath(fxdir))
        cfg = json.load(open(os.path.join(fxdir, "config.json")))
        # MTP tensors in the checkpoint (qwen3_next_256 states no MTP layer
        # and has none: llama.cpp's converter needs --no-mtp for it)
        mtp = any(k.startswith(("mtp.", "model.mtp.")) for k in st_names(fxdir))
        # llama.cpp supports no dense layer in a MoE arch (Qwen3-MoE mlp_only_layers)
        dense_moe = bool(cfg.get("mlp_only_layers")) and "num_experts" in cfg
        # llama.cpp 0.3.36 keeps MTP (nextn) by default: compare that with
        # --keep-mtp, which writes the same layout, and (Qwen3.5, whose
        # config states mtp_num_hidden_layers) llama.cpp's --no-mtp with our
        # default, which drops them
        q35 = cfg.get("model_type", "").startswith("qwen3_5")
        # the archs whose converter takes --no-mtp (it asserts without MTP
        # tensors unless given it)
        hybrid = q35 or cfg.get("model_type") == "qwen3_next"
        variants = [(ot, keep) for ot in a.outtypes.split(",")
                    for keep in ([True, False] if q35 and mtp else [mtp])]
        for ot, keep in variants:
            tag = ot if keep == mtp else f"{ot}.nomtp"
            ours = os.path.join(work, f"{fx}.{tag}.ours.gguf")
            theirs = os.path.join(work, f"{fx}.{tag}.llama.gguf")
            report = []
            cmd = [a.qwen_convert, "-q", fxdir, "-o", ours, "--outtype", ot]
            if keep:
                cmd.append("--keep-mtp")
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {fx} {ot}: qwen-convert exit {r.returncode}: {r.stderr.strip()}")
                all_ok = False
                continue
            try:
                mine = load_gguf(ours, gguf_py)
            except Exception as e:  # gguf-py must parse every file we write
                print(f"FAIL {fx} {ot}: gguf-py cannot read our file: {e}")
                all_ok = False
                continue
            lt = ot
            if ot == "auto":
                ft = dict((k, v) for k, _, v in mine[0]).get("general.file_type")
                lt = AUTO_AS.get(ft, "auto")
            r = subprocess.run([sys.executable, "-c", RUN_LLAMA, a.llama_cpp, fxdir,
                                "--outfile", theirs, "--outtype", lt]
                               + ([] if keep or not hybrid else ["--no-mtp"]),
                               capture_output=True, text=True)
            if r.returncode:
                last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "?"
                print(f"SKIP {fx} {tag}: llama.cpp's converter fails: {last}")
            else:
                ok = compare(fx, mine, load_gguf(theirs, gguf_py), report)
                all_ok &= ok
                print(f"{'ok  ' if ok else 'FAIL'} {fx} {tag}: ours vs llama.cpp --outtype {lt}"
                      f"{'' if keep or not mtp else ' --no-mtp'}")
                for line in report:
                    print(line)
            if a.ggml_python:
                r = subprocess.run([a.ggml_python, "-c", RUN_LOGITS, ours,
                                    os.path.join(fxdir, "expected.safetensors")],
                                   capture_output=True, text=True)
                if r.returncode and dense_moe:
                    print(f"expected {fx} {ot}: llama.cpp cannot load a {fx} file with dense "
                          "layers (mlp_only_layers)")
                elif r.returncode:
                    last = r.stderr.strip().splitlines()[-3:] if r.stderr.strip() else ["?"]
                    print(f"FAIL {fx} {ot}: llama.cpp cannot run our file: {' | '.join(last)}")
                    all_ok = False
                else:
                    res = json.loads(r.stdout.strip().splitlines()[-1])
                    moe = "num_experts" in {**cfg, **cfg.get("text_config", {})}
                    budget = (LOGIT_BUDGET_MOE if moe else LOGIT_BUDGET)[ot]
                    good = budget is None or (res["argmax_same"] and res["rel_err"] < budget)
                    all_ok &= good
                    print(f"{'ok  ' if good else 'FAIL'} {fx} {ot}: llama.cpp runs our file: "
                          f"max|logit diff| / max|logit| = {res['rel_err']:.2e}, "
                          f"argmax {'same' if res['argmax_same'] else 'DIFFERS'} "
                          f"({res['n_tokens']} tokens)")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
