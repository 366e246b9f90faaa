#!/usr/bin/env python3
"""Cross-check importance matrices with llama.cpp (llama-imatrix and
llama-quantize of the llama.cpp that llama-cpp-python 0.3.36 vendors).

1. Files, both ways. For each fixture (the 256-wide ones, every matrix a
   k-quant fits, and the trained qwen3_tiny): bin/qwen-convert --outtype f32
   writes MODEL.gguf; llama-imatrix -m MODEL.gguf -f TEXT -c CTX --chunks N
   writes THEIRS.gguf; bin/qwen-verify imatrix on the same GGUF, text, ctx
   and chunks writes OURS.gguf. Then for every mix and both files:
   bin/qwen-quant MODEL.gguf --imatrix X and llama-quantize --imatrix X
   MODEL.gguf must write the same bytes (llama-quantize reading ours, us
   reading theirs); the mixes: every legacy and k-quant mix an imatrix
   changes, Q2_K_S and every i-quant mix (IQ1_S ... IQ4_XS).
2. Ours against theirs, per entry: the relative difference of the sums
   (largest and median over the columns whose sum is not 0), and whether
   the counts are equal. They cannot be bit-identical: llama.cpp's
   activations come from its own kernels.
The quality of quants made with each imatrix on the trained qwen3_tiny
(KLD, PPL, same top p, with llama-perplexity's figures beside them) is in
tiny_crosscheck.py's table (its --imatrix-types rows), the README's
quantization-quality table.

Nothing expected comes from qwenkit: the reference bytes are
llama-quantize's, the reference statistics llama-imatrix's; part 2 is a
report (it fails above 1e-2 relative), part 1 fails on any byte.

usage: .venv-ggml/bin/python testdata/gen/imatrix_crosscheck.py [--bin DIR]
          [--ctx 128] [--chunks 16] [--keep DIR]
Environment: LLAMA_IMATRIX, LLAMA_QUANTIZE (default
/tmp/vtext-llama-build/bin/llama-{imatrix,quantize}, built as
ppl_crosscheck.py builds llama-perplexity).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import gguf
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_crosscheck  # noqa: E402  (CORPUS)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = ["qwen3_256", "qwen2_moe_256", "qwen3_next_256", "qwen3_tiny"]
MIXES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q2_K_S", "Q3_K_S", "Q3_K_M", "Q3_K_L",
         "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS",
         "IQ2_S", "IQ2_M", "IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M", "IQ4_NL", "IQ4_XS"]
TOOLS = os.environ.get("LLAMA_TOOLS", "/tmp/vtext-llama-build/bin")


def tool(name, env):
    exe = os.environ.get(env, os.path.join(TOOLS, name))
    if not os.access(exe, os.X_OK):
        sys.exit(f"imatrix_crosscheck: no {name} at {exe} (set {env})")
    return exe


def run(cmd, ok=(0,)):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if r.returncode not in ok:
        sys.stderr.write(r.stderr[-3000:])
        raise SystemExit(f"imatrix_crosscheck: failed ({r.returncode}): {' '.join(cmd)}")
    return r.stdout


def calibration(path):
    """the trained-on heads of the corpus files (everything before the
    held-out tail heldout.tsv lists)"""
    model = os.path.join(ROOT, "testdata", "models", "qwen3_tiny")
    with open(os.path.join(model, "heldout.tsv"), encoding="utf-8") as f, \
            open(path, "wb") as out:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, off, _ = line.rstrip("\n").split("\t")
            with open(os.path.join(tiny_crosscheck.CORPUS, name), "rb") as c:
                out.write(c.read(int(off)))


def entries(path):
    r = gguf.GGUFReader(path)
    t = {x.name: np.asarray(x.data, dtype=np.float64).ravel() for x in r.tensors}
    return {n[:-8]: (t[n], t[n[:-8] + ".counts"]) for n in t if n.endswith(".in_sum2")}


def compare_entries(ours, theirs):
    """per entry: (name, max rel, median rel, counts equal, experts, counts' totals equal)"""
    a, b = entries(ours), entries(theirs)
    rows = []
    for n in sorted(b):
        if n not in a:
            rows.append((n, float("inf"), float("inf"), False, 1, False))
            continue
        (sa, ca), (sb, cb) = a[n], b[n]
        if sa.shape != sb.shape or ca.shape != cb.shape:
            rows.append((n, float("inf"), float("inf"), False, 1, False))
            continue
        m = sb != 0
        rel = np.abs(sa[m] - sb[m]) / np.abs(sb[m])
        rows.append((n, float(rel.max()) if rel.size else 0.0,
                     float(np.median(rel)) if rel.size else 0.0, bool(np.array_equal(ca, cb)),
                     ca.size, bool(ca.sum() == cb.sum())))
    extra = sorted(set(a) - set(b))
    return rows, extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--chunks", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep")
    a = ap.parse_args()
    li, lq = tool("llama-imatrix", "LLAMA_IMATRIX"), tool("llama-quantize", "LLAMA_QUANTIZE")
    B = lambda n: os.path.join(a.bin, n)  # noqa: E731
    work = a.keep or tempfile.mkdtemp(prefix="imatrix_crosscheck.")
    os.makedirs(work, exist_ok=True)
    text = os.path.join(work, "calibration.txt")
    calibration(text)
    fails = 0
    n_files = n_same = 0
    for fx in FIXTURES:
        model = os.path.join(work, fx + ".gguf")
        run([B("qwen-convert"), os.path.join("testdata/models", fx), "-o", model,
             "--outtype", "f32", "-q"])
        theirs, ours = os.path.join(work, fx + ".theirs.gguf"), os.path.join(work, fx + ".ours.gguf")
        cx = ["-c", str(a.ctx), "--chunks", str(a.chunks)]
        r = subprocess.run([li, "-m", model, "-f", text, *cx, "-t", str(a.threads), "--no-ppl",
                            "-o", theirs], capture_output=True, text=True)
        if r.returncode:
            print(f"{fx}: llama-imatrix failed ({r.returncode}): "
                  f"{r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}; skipped")
            continue
        run([B("qwen-verify"), "imatrix", model, "--text-file", text, "--ctx", str(a.ctx),
             "--chunks", str(a.chunks), "-t", str(a.threads), "-q", "-o", ours])
        rows, extra = compare_entries(ours, theirs)
        # dense entries must agree; expert entries whose per-expert counts
        # differ (a near-tie in the router decided otherwise: the
        # activations differ in the last digits) are reported, and must
        # keep the total (tokens x experts per token)
        dense = [r for r in rows if r[4] == 1 or r[3]]
        worst = max(r[1] for r in dense)
        med = float(np.median([r[2] for r in rows]))
        counts = all(r[3] for r in dense) and all(r[5] for r in rows)
        routed = [r[0] for r in rows if not r[3] and r[4] > 1]
        print(f"{fx}: {len(rows)} entries of llama-imatrix's, {len(extra)} more of ours; "
              f"sums: largest relative difference {worst:.3e} (entries with equal counts), "
              f"median of the entries' medians {med:.3e}; counts "
              f"{'equal' if counts and not routed else 'equal in total' if counts else 'DIFFER'}"
              + (f"; router chose differently for {len(routed)} expert entries" if routed else ""))
        for n, mx, md, ce, _, _ in rows:
            print(f"    {n:<40} max {mx:.3e}  median {md:.3e}{'' if ce else '  counts differ'}")
        if worst > 1e-2 or not counts or extra:
            fails += 1
        line = []
        for mix in MIXES:
            for who, im in (("ours", ours), ("theirs", theirs)):
                q, l = os.path.join(work, "q.gguf"), os.path.join(work, "l.gguf")
                for p in (q, l):
                    if os.path.exists(p):
                        os.remove(p)
                rq = subprocess.run([B("qwen-quant"), model, "--imatrix", im, "--type", mix,
                                     "-o", q, "-q", "-t", str(a.threads)],
                                    capture_output=True, text=True, cwd=ROOT)
                rl = subprocess.run([lq, "--imatrix", im, model, l, mix, str(a.threads)],
                                    capture_output=True, text=True, cwd=ROOT)
                if rl.returncode:
                    # llama-quantize refuses (a tensor the mix needs weights for
                    # has no entry): qwen-quant must refuse too, writing nothing
                    same = rq.returncode == 2 and not os.path.exists(q)
                    print(f"    {mix}/{who}: llama-quantize refused "
                          f"({rl.stderr.strip().splitlines()[-1] if rl.stderr.strip() else ''}); "
                          f"qwen-quant exit {rq.returncode}")
                else:
                    same = rq.returncode == 0 and open(q, "rb").read() == open(l, "rb").read()
                fails += not same
                n_files += 1
                n_same += same
                line.append(f"{mix}/{who}{'=' if same else ' X'}")
        print("  qwen-quant vs llama-quantize --imatrix (= identical): " + " ".join(line))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"imatrix crosscheck: qwen-quant --imatrix = llama-quantize --imatrix for "
          f"{n_same} of {n_files} files; {fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
