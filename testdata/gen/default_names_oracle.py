#!/usr/bin/env python3
"""The file names llama.cpp's converter gives a GGUF when no --outfile is given.

Copies fixtures of testdata/models into directories named as published
checkpoints are named, runs convert_hf_to_gguf.py (llama-cpp-python 0.3.36's
sdist, patched as in convert_oracle.py) on each without --outfile, and
records the name of the file it wrote:
    testdata/llamacpp/default_names.tsv: directory, fixture, outtype, file name
tests/cli/shipping.sh runs qwen-convert without -o on the same directories
and expects the same names.

    .venv/bin/python testdata/gen/default_names_oracle.py \\
        --llama-cpp llama_cpp_python-0.3.36/vendor/llama.cpp
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "testdata", "gen"))
from convert_oracle import RUN_LLAMA  # noqa: E402  (the patched converter)

# (directory name, fixture, outtype): the name parts come from the directory
# name (basename, size label, finetune, version) or, where it says nothing,
# from the parameter count.
CASES = [
    ("Qwen2.5-0.5B-Instruct", "qwen2", "auto"),
    ("qwen3", "qwen3", "q8_0"),
    ("Qwen3-8B", "qwen3", "f16"),
    ("Qwen2-57B-A14B-Instruct", "qwen2_moe_256", "bf16"),
    ("my-finetune-v2", "qwen2", "f32"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True, help="vendor/llama.cpp of the sdist")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "run_llama.py")
        with open(script, "w") as f:
            f.write(RUN_LLAMA)
        for d, fx, outtype in CASES:
            src = os.path.join(ROOT, "testdata", "models", fx)
            if not os.path.isdir(src):
                continue
            dst = os.path.join(tmp, d)
            shutil.copytree(src, dst)
            r = subprocess.run([sys.executable, script, args.llama_cpp, dst, "--outtype", outtype],
                               capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"{d}: the converter failed:\n{r.stderr[-2000:]}")
            made = [f for f in os.listdir(dst) if f.endswith(".gguf")]
            if len(made) != 1:
                sys.exit(f"{d}: expected one .gguf, found {made}")
            rows.append((d, fx, outtype, made[0]))
    out = os.path.join(ROOT, "testdata", "llamacpp", "default_names.tsv")
    with open(out, "w") as f:
        f.write("# directory\tfixture\touttype\tname llama.cpp's convert_hf_to_gguf.py (llama-cpp-python"
                " 0.3.36) gives without --outfile; made by testdata/gen/default_names_oracle.py\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"wrote {out}: {len(rows)} names")


if __name__ == "__main__":
    main()
