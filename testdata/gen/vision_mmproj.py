#!/usr/bin/env python3
# venvs: .venv (run it with .venv/bin/python)
"""mmproj GGUF files written by llama.cpp's own converter, for the vision
pass's tests (tests/cli/verify_vision.sh: qwen-verify golden and compare
--vision on an mmproj, a Q8_0 projector gated by thresholds).

Runs the convert_hf_to_gguf.py vendored in the llama-cpp-python 0.3.36
sdist with --mmproj (through mmproj_truths.convert, patched as
convert_oracle.RUN_LLAMA is) at --outtype f32 and q8_0 on
testdata/models/qwen3_vl (Qwen3-VL: fused qkv, deepstack) and
testdata/vision/qwen2_5_vl_3blocks (Qwen2.5-VL: split q/k/v, windows;
llama.cpp's converter refuses the qwen2_5_vl fixture, whose 2 blocks make
gguf-py look merger.mlp.2 up as a block) and writes
testdata/vision/NAME-mmproj-{f32,q8_0}.gguf. An f32 file holds the
checkpoint's bf16 weights widened exactly, so the vision pass must give the
same bits from it as from the checkpoint; a q8_0 file holds llama.cpp's
Q8_0 blocks for its 2-D weights. Nothing here comes from qwenkit.

usage: .venv/bin/python testdata/gen/vision_mmproj.py
           --llama-cpp llama_cpp_python-0.3.36/vendor/llama.cpp
Deterministic: a second run writes identical files.
"""
import argparse
import hashlib
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmproj_truths  # noqa: E402  (convert: llama.cpp's converter, --mmproj)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# (name, its checkpoint directory under testdata/)
SOURCES = [("qwen3_vl", "models/qwen3_vl"), ("qwen2_5_vl_3blocks", "vision/qwen2_5_vl_3blocks")]
OUTTYPES = ["f32", "q8_0"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-cpp", required=True, help="vendor/llama.cpp of the sdist")
    a = ap.parse_args()
    out = os.path.join(ROOT, "testdata", "vision")
    os.makedirs(out, exist_ok=True)
    for fx, src in SOURCES:
        for ot in OUTTYPES:
            path = os.path.join(out, f"{fx}-mmproj-{ot}.gguf")
            why = mmproj_truths.convert(a.llama_cpp, os.path.join(ROOT, "testdata", src), path, ot)
            if why:
                raise SystemExit(f"{fx} {ot}: llama.cpp's converter refuses: {why}")
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            print(f"{path}: {os.path.getsize(path)} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
