#!/usr/bin/env python3
# venvs: .venv (re-executes itself with .venv/bin/python, from any python)
"""make crosscheck: qwen-convert --mmproj writes llama.cpp's mmproj, byte for byte.

For every VL fixture of testdata/models/ (mmproj_truths.vl_fixtures) and
every --outtype f32, f16, bf16, q8_0, this runs llama.cpp's
convert_hf_to_gguf.py --mmproj (the pinned sdist's, patched as in
convert_oracle.py's RUN_LLAMA) and bin/qwen-convert --mmproj FILE
--mmproj-only on the same checkpoint and compares the SHA-256 of the two
whole files: "same" or "DIFF" (a failure). A checkpoint llama.cpp's
converter refuses is "refused" (qwen2_5_vl: two vision blocks, which
gguf-py's merger table cannot name; qwen3_5_moe: no vision tower) and
qwen-convert must then still write it (qwen2_5_vl) or refuse it too, with
exit status 3 (qwen3_5_moe). make check holds the same digests without
Python (testdata/llamacpp/mmproj.tsv, tests/unit/test_mmproj.c).

Then GGUF -> HF: each fixture's text GGUF and mmproj exported by
qwen-convert --to safetensors --mmproj must load in transformers
(AutoModelForImageTextToText) with every vision parameter equal to the
original checkpoint's ("loads"), or it is a failure.

Needs the fixture venv .venv (torch, transformers) and the pinned sdist's
vendor/llama.cpp ($LLAMA_CPP_DIR, else fetched into build/llama-sdist/).
Exit status 0 when every file is identical (or, with a message, when the
venv is absent: skipped), 1 otherwise.

usage: mmproj_crosscheck.py [--bin DIR] [--outtypes f32,f16,...] [--keep DIR] [FIXTURE...]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_crosscheck  # noqa: E402  (ensure_venv)
import mmproj_truths  # noqa: E402  (vl_fixtures, convert)
import ppl_crosscheck  # noqa: E402  (llama_sdist)
from split_truths import sha as sha256  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")


def load_same(orig, export):
    """None when transformers loads the export and its vision parameters equal
    the original's, else what differs."""
    import torch
    from transformers import AutoModelForImageTextToText
    a = AutoModelForImageTextToText.from_pretrained(orig, dtype=torch.float32)
    b = AutoModelForImageTextToText.from_pretrained(export, dtype=torch.float32)
    sa = {k: v for k, v in a.state_dict().items() if k.startswith("model.visual.")}
    sb = {k: v for k, v in b.state_dict().items() if k.startswith("model.visual.")}
    if sorted(sa) != sorted(sb):
        return "vision parameter names differ: %s" % sorted(set(sa) ^ set(sb))[:4]
    for k in sa:
        if sa[k].shape != sb[k].shape or not torch.equal(sa[k], sb[k]):
            return f"{k} differs"
    if a.config.vision_config.depth != b.config.vision_config.depth:
        return "vision depth differs"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--outtypes", default="f32,f16,bf16,q8_0")
    ap.add_argument("--keep", default=None, help="keep the files in this directory")
    ap.add_argument("fixtures", nargs="*")
    a = ap.parse_args()
    convert_crosscheck.ensure_venv(__file__)
    lc = ppl_crosscheck.llama_sdist()
    work = a.keep or tempfile.mkdtemp(prefix="mmproj-identity-")
    os.makedirs(work, exist_ok=True)
    counts = {"same": 0, "DIFF": 0, "refused": 0}
    for fx in a.fixtures or mmproj_truths.vl_fixtures():
        d = os.path.join(MODELS, fx)
        for ot in a.outtypes.split(","):
            ours = os.path.join(work, f"{fx}.{ot}.ours.gguf")
            theirs = os.path.join(work, f"{fx}.{ot}.llama.gguf")
            r = subprocess.run([os.path.join(a.bin, "qwen-convert"), "-q", "--outtype", ot, d,
                                "--mmproj", ours, "--mmproj-only"], capture_output=True,
                               text=True)
            why = mmproj_truths.convert(lc, d, theirs, ot)
            if why:
                counts["refused"] += 1
                ok = (r.returncode == 3) if fx == "qwen3_5_moe" else (r.returncode == 0)
                if not ok:
                    counts["DIFF"] += 1
                print(f"refused  {fx} {ot}: llama.cpp's converter: {why}; qwen-convert exit "
                      f"{r.returncode}{'' if ok else ' (unexpected)'} {r.stderr.strip()[:200]}")
                continue
            if r.returncode:
                print(f"DIFF     {fx} {ot}: qwen-convert exit {r.returncode}: {r.stderr.strip()}")
                counts["DIFF"] += 1
                continue
            so, st = sha256(ours), sha256(theirs)
            kind = "same" if so == st else "DIFF"
            counts[kind] += 1
            print(f"{kind:8} {fx} {ot}: sha256 {so[:16]} / {st[:16]}, "
                  f"{os.path.getsize(ours)} / {os.path.getsize(theirs)} bytes", flush=True)
    counts["loads"] = 0
    for fx in ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "qwen3_vl_256"):
        if a.fixtures and fx not in a.fixtures:
            continue
        d = os.path.join(MODELS, fx)
        t, m, hf = (os.path.join(work, f"{fx}.rt.gguf"), os.path.join(work, f"{fx}.rt.mm.gguf"),
                    os.path.join(work, "hf", fx))
        os.makedirs(os.path.dirname(hf), exist_ok=True)
        qc = os.path.join(a.bin, "qwen-convert")
        r = subprocess.run([qc, "-q", d, "-o", t, "--mmproj", m], capture_output=True, text=True)
        if not r.returncode:
            r = subprocess.run([qc, "-q", t, "--mmproj", m, "--to", "safetensors", "-o", hf],
                               capture_output=True, text=True)
        why = r.stderr.strip() if r.returncode else load_same(d, hf)
        if why:
            counts["DIFF"] += 1
            print(f"DIFF     {fx} GGUF -> HF: {why}")
        else:
            counts["loads"] += 1
            print(f"loads    {fx} GGUF -> HF: transformers loads the export, vision weights equal")
    print("mmproj_crosscheck: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if counts["DIFF"] or not counts["same"] else 0


if __name__ == "__main__":
    sys.exit(main())
