#!/usr/bin/env python3
"""What llama.cpp's own tools write when a quantized GGUF is copied, split and
joined, recorded as sha256 digests for tests/cli/shipping.sh.

Input: bin/qwen-quant's Q4_K_M of testdata/models/qwen2_moe_256 (its digest is
recorded too, so the test knows it starts from the same bytes). Then:
  copy    llama-quantize IN OUT COPY
  split   llama-gguf-split --split --split-max-tensors 7 IN PREFIX   (each file)
  joined  llama-quantize FIRST_SPLIT OUT COPY   (a split set read whole)
Written to testdata/llamacpp/split_truths.tsv: case, file, sha256.

The tools come from the pinned llama.cpp (llama-cpp-python 0.3.36's sdist,
vendor/llama.cpp), built with -DGGML_NATIVE=OFF -DCMAKE_C_FLAGS=-ffp-contract=off
(targets llama-quantize and llama-gguf-split):
    python3 testdata/gen/split_truths.py --llama-bin BUILD/bin [--bin bin]
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout[-1500:]}{r.stderr[-1500:]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-bin", required=True)
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    a = ap.parse_args()
    lq = os.path.join(a.llama_bin, "llama-quantize")
    ls = os.path.join(a.llama_bin, "llama-gguf-split")
    rows = []
    with tempfile.TemporaryDirectory() as t:
        q4 = os.path.join(t, "q4.gguf")
        run([os.path.join(a.bin, "qwen-quant"), "-q",
             os.path.join(ROOT, "testdata", "models", "qwen2_moe_256"), "-o", q4, "--type", "Q4_K_M"])
        rows.append(("input", "q4.gguf", sha(q4)))
        run([lq, q4, os.path.join(t, "copy.gguf"), "COPY"])
        rows.append(("copy", "copy.gguf", sha(os.path.join(t, "copy.gguf"))))
        run([ls, "--split", "--split-max-tensors", "7", q4, os.path.join(t, "split")])
        parts = sorted(f for f in os.listdir(t) if f.startswith("split-"))
        for f in parts:
            rows.append(("split", f, sha(os.path.join(t, f))))
        run([lq, os.path.join(t, parts[0]), os.path.join(t, "joined.gguf"), "COPY"])
        rows.append(("joined", "joined.gguf", sha(os.path.join(t, "joined.gguf"))))
    out = os.path.join(ROOT, "testdata", "llamacpp", "split_truths.tsv")
    with open(out, "w") as f:
        f.write("# case\tfile\tsha256 of what llama-quantize / llama-gguf-split (llama-cpp-python "
                "0.3.36) write; made by testdata/gen/split_truths.py\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"wrote {out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
