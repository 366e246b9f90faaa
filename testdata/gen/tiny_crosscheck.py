#!/usr/bin/env python3
"""Quantization quality of the trained tiny Qwen3 (testdata/models/qwen3_tiny,
made by train_tiny.py) on its held-out text, by qwen-verify and by llama.cpp's
llama-perplexity side by side: the table of README.md's "Quantization quality
on a trained tiny Qwen3", and a check that the two agree.

Reference: `qwen-convert --outtype f32` of the bf16 checkpoint (llama.cpp
computes F32 matrices in F32). Candidates: `qwen-quant REF --type T` for each
type of TYPES (qwen-quant's files are byte-identical to llama-quantize's,
quant_crosscheck.py). Text: the held-out tails of the corpus files listed in
the model's heldout.tsv (never trained on), concatenated.

llama-perplexity (the llama.cpp vendored in llama-cpp-python 0.3.36; built by
ppl_crosscheck.llama_perplexity(), or LLAMA_PERPLEXITY=/path) tokenizes the
text itself and writes its --kl-divergence-base file from the reference;
every candidate then runs `llama-perplexity --kl-divergence` on that base.
qwenkit: `qwen-verify perplexity --text-file` on the reference (its own
tokenizer; its tokens must equal the ones llama.cpp evaluated) and
`qwen-verify compare REF CAND` on the same tokens and chunks.

Per type: file size, bits per weight (tensor bytes x 8 / weights, as
llama.cpp's loader prints BPW), PPL +/-, mean KLD +/-, same top p +/- (ours,
`compare REF CAND`: both models in fp32), and llama-perplexity's PPL(Q) +/-,
mean KLD +/- and same top p on the same GGUF.

Checked (exit 1 when any fails), each within llama-perplexity's own +/- of
the same figure (or its printed precision where that is 0):
  - the reference's PPL (ours from our tokenization of the text);
  - our tokens = the tokens llama.cpp evaluated;
  - per type, the candidate dequantized to F32 (so that llama.cpp computes
    it in F32 as qwenkit does): `qwen-verify compare --base` on
    llama-perplexity's own base file vs `llama-perplexity --kl-divergence`
    on the same base: PPL(Q), mean KLD, same top p;
  - per type, the table's PPL(Q) vs llama-perplexity's on the real GGUF.
Informational (printed, not counted): the table's KLD and same top p vs
llama-perplexity's on the real GGUF. llama.cpp multiplies quantized
matrices with activations quantized to Q8_0 / Q8_K (F16 and BF16 matrices
with activations rounded to F16 / BF16), qwenkit in fp32 with exactly
dequantized weights, so llama's KLD is higher (about 1.2x to 2x here); and
its base file holds log-probabilities rounded to 16 bits, so two tokens
within one step of each other count as a top-1 change (same top p 99.96 %
for identical weights).

With an importance matrix (--imatrix-types): for each of those types two
more rows, the type quantized with `--imatrix` from qwen-verify imatrix and
from llama-imatrix, both run on the reference with the same calibration
text (the trained-on heads of the corpus files, imatrix_crosscheck.py's
calibration(): never the held-out text), --ctx 128 and 16 chunks; the same
figures and checks as every other row. Printed with them: per imatrix
entry, the relative difference of our sums from llama-imatrix's (largest
and median over the columns) and whether the counts are equal.

usage: .venv-ggml/bin/python testdata/gen/tiny_crosscheck.py [--bin DIR]
          [--ctx 256] [--chunks N] [--threads 2] [--types F16,Q8_0,...]
          [--imatrix-types Q4_K_M,...] [--model DIR] [--keep DIR]
          [--markdown FILE]
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
import ppl_crosscheck  # noqa: E402  (llama_perplexity, parse_llama, base_tokens, run)

ROOT = ppl_crosscheck.ROOT
MODEL = os.path.join(ROOT, "testdata", "models", "qwen3_tiny")
CORPUS = os.path.join(ROOT, "testdata", "tokenizer", "corpus")
TYPES = ["F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_0",
         "Q3_K_M", "Q2_K"]
IMATRIX_TYPES = ["Q5_K_M", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K", "IQ4_XS", "IQ3_XXS", "IQ2_XS"]


def heldout(model, path):
    with open(os.path.join(model, "heldout.tsv"), encoding="utf-8") as f, \
            open(path, "wb") as out:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, off, n = line.rstrip("\n").split("\t")
            with open(os.path.join(CORPUS, name), "rb") as c:
                c.seek(int(off))
                b = c.read()
            if len(b) != int(n):
                raise SystemExit(f"{name}: held-out tail is {len(b)} bytes, "
                                 f"heldout.tsv says {n}")
            out.write(b)


def bpw(path):
    """(tensor bytes, weights) of a GGUF, read with gguf-py"""
    from gguf import GGUFReader
    r = GGUFReader(path)
    nb = sum(int(t.n_bytes) for t in r.tensors)
    ne = sum(int(t.n_elements) for t in r.tensors)
    return nb, ne


def llama(lp, args, need, work):
    """llama-perplexity's figures ({label: (value, err)}, parse_llama). Its
    log goes through an asynchronous writer that can lose the last lines
    at exit when stdout is a pipe (seen on a loaded machine): the log is
    also written with --log-file and read from there, and a run whose
    final figures are missing is repeated (at most 8 times)."""
    log = os.path.join(work, "llama.log")
    for _ in range(8):
        if os.path.exists(log):
            os.remove(log)
        out = ppl_crosscheck.run([lp, *args, "--log-file", log])
        with open(log, encoding="utf-8", errors="replace") as f:
            res = ppl_crosscheck.parse_llama(f.read() + "\n" + out)
        if need in res:
            return res
    raise SystemExit(f"tiny_crosscheck: llama-perplexity printed no '{need}' in 8 runs")


def verify_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.stderr.write(r.stderr[-3000:])
        raise SystemExit(f"tiny_crosscheck: failed: {' '.join(cmd)}")
    return json.loads(r.stdout)


def imatrix_rows(a, work, ref, measure):
    """the --imatrix rows: ours and llama-imatrix's importance matrix of the
    reference on the calibration text, each type quantized with each;
    returns the note on the two matrices printed under the table"""
    import imatrix_crosscheck as ic
    import numpy as np
    li = ic.tool("llama-imatrix", "LLAMA_IMATRIX")
    cal = os.path.join(work, "calibration.txt")
    ic.calibration(cal)
    ours, theirs = os.path.join(work, "imatrix.ours.gguf"), os.path.join(work, "imatrix.theirs.gguf")
    cx = ["--chunks", "16"]
    ppl_crosscheck.run([li, "-m", ref, "-f", cal, "-c", "128", *cx, "-t", str(a.threads),
                        "--no-ppl", "-o", theirs])
    ppl_crosscheck.run([os.path.join(a.bin, "qwen-verify"), "imatrix", ref, "--text-file", cal,
                        "--ctx", "128", *cx, "-t", str(a.threads), "-q", "-o", ours])
    entries, extra = ic.compare_entries(ours, theirs)
    print("imatrix: qwen-verify imatrix vs llama-imatrix, per entry (relative difference of "
          "the sums: largest, median over the columns):")
    for n, mx, md, ce, _, _ in entries:
        print(f"    {n:<28} max {mx:.2e}  median {md:.2e}  counts {'equal' if ce else 'DIFFER'}")
    for t in filter(None, a.imatrix_types.split(",")):
        measure(t, f"{t}, imatrix: qwen-verify", ["--imatrix", ours])
        measure(t, f"{t}, imatrix: llama-imatrix", ["--imatrix", theirs])
    per = ", ".join(f"{n.replace('.weight', '')} {mx:.1e}" for n, mx, _, _, _, _ in entries)
    return (f"\nImportance matrices of the reference ({len(entries)} entries; calibration: the "
            f"trained-on text, 16 chunks of 128 tokens): counts "
            f"{'equal' if all(e[3] for e in entries) and not extra else 'DIFFER'}; relative "
            f"difference of qwen-verify imatrix's sums from llama-imatrix's, largest per entry: "
            f"{per} (median over all columns "
            f"{float(np.median([e[2] for e in entries])):.1e}).\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--chunks", type=int, default=40, help="0: every chunk of the text")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--types", default=",".join(TYPES), help="'' for none")
    ap.add_argument("--imatrix-types", default=",".join(IMATRIX_TYPES), help="'' for none")
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--keep")
    ap.add_argument("--markdown", help="also write the table to this file")
    a = ap.parse_args()
    lp = ppl_crosscheck.llama_perplexity()
    run = ppl_crosscheck.run
    work = a.keep or tempfile.mkdtemp(prefix="tiny_crosscheck.")
    os.makedirs(work, exist_ok=True)
    V = os.path.join(a.bin, "qwen-verify")
    ref = os.path.join(work, "ref-F32.gguf")
    if os.path.exists(ref):
        os.remove(ref)
    run([os.path.join(a.bin, "qwen-convert"), "-q", a.model, "-o", ref, "--outtype", "f32"])
    text = os.path.join(work, "heldout.txt")
    heldout(a.model, text)
    common = ["-c", str(a.ctx), "-t", str(a.threads), "-ctk", "f32", "-ctv", "f32", "-ngl", "0"]
    if a.chunks:
        common += ["--chunks", str(a.chunks)]
    ours_chunks = ["--chunks", str(a.chunks)] if a.chunks else []
    fails = 0

    def check(what, ours, theirs, err, counts=True, digits=6):
        """within llama's +/-, or its printed precision where that is 0"""
        nonlocal fails
        tol = err if err else 0.5 * 10 ** -digits
        ok = abs(ours - theirs) <= tol
        fails += counts and not ok
        print(f"  {'ok  ' if ok else 'FAIL' if counts else 'off '} {what:30s} ours "
              f"{ours:<12.6g} llama {theirs:<12.6g} +/- {err or 0:<10.3g} diff "
              f"{abs(ours - theirs) / tol:.2f} x +/-")

    # the reference: llama's perplexity and base file; ours on the text
    lbase = os.path.join(work, "llama.kld")
    L = llama(lp, ["-m", ref, "-f", text, *common, "--kl-divergence-base", lbase], "PPL",
              work)
    n_ctx, n_vocab, n_chunk, toks = ppl_crosscheck.base_tokens(lbase)
    obase = os.path.join(work, "ours.kld")
    O = verify_json([V, "perplexity", "--json", "-t", str(a.threads), "--ctx", str(a.ctx),
                     *ours_chunks, "--text-file", text, "--save-base", obase, ref])
    otoks = ppl_crosscheck.base_tokens(obase)[3]
    print(f"held-out text: {os.path.getsize(text)} bytes; llama.cpp evaluated {n_chunk} chunks "
          f"of {n_ctx} tokens (n_vocab {n_vocab}); our tokens "
          + ("identical" if otoks == toks else "DIFFER"))
    if otoks != toks:
        fails += 1
    ids = os.path.join(work, "ids.txt")
    with open(ids, "w") as f:
        f.write(",".join(map(str, toks)) + "\n")
    print("F32 reference")
    check("PPL", O["ppl"], *L["PPL"])
    nb, ne = bpw(ref)
    rows = [("F32 (reference)", os.path.getsize(ref), 8 * nb / ne,
             (O["ppl"], O["ppl_err"]), None, None, L["PPL"], None, None)]
    def measure(t, label, qargs):
        """one candidate: qwen-quant REF --type t + qargs, its figures and
        checks, a table row labelled label"""
        cand = os.path.join(work, f"cand-{t}.gguf")
        deq = os.path.join(work, f"cand-{t}-as-F32.gguf")
        for p in (cand, deq):
            if os.path.exists(p):
                os.remove(p)
        run([os.path.join(a.bin, "qwen-quant"), ref, "-o", cand, "--type", t, *qargs])
        # the same weights dequantized into an F32 file: llama.cpp then
        # computes the candidate in F32, as qwenkit does
        run([os.path.join(a.bin, "qwen-quant"), cand, "-o", deq, "--type", "F32",
             "--allow-requantize"])
        kld = ["--kl-divergence", "--kl-divergence-base", lbase]
        L = llama(lp, ["-m", cand, *common, *kld], "Same top p", work)
        LD = llama(lp, ["-m", deq, *common, *kld], "Same top p", work)
        C = verify_json([V, "compare", "--json", "-t", str(a.threads), "--ctx", str(n_ctx),
                         "--tokens-file", ids, "--max-kld", "100", ref, cand])
        B = verify_json([V, "compare", "--json", "-t", str(a.threads), "--base", lbase,
                         "--max-kld", "100", deq])
        print(f"{label}: qwen-verify compare --base (llama's base file) vs llama-perplexity, "
              "both on CAND dequantized to F32")
        check("PPL(Q)", B["ppl_candidate"], *LD["Mean PPL(Q)"])
        check("mean KLD", B["kld_mean"], *LD["Mean    KLD"])
        check("same top p (%)", B["top1_agreement"], *LD["Same top p"], digits=3)
        print(f"{label}: the table's figures (qwen-verify compare REF CAND, fp32 reference) vs "
              "llama-perplexity on CAND (quantized activations; KLD, top p informational)")
        check("PPL(Q)", C["ppl_candidate"], *L["Mean PPL(Q)"])
        check("mean KLD", C["kld_mean"], *L["Mean    KLD"], counts=False)
        check("same top p (%)", C["top1_agreement"], *L["Same top p"], counts=False, digits=3)
        nb, ne = bpw(cand)
        rows.append((label, os.path.getsize(cand), 8 * nb / ne,
                     (C["ppl_candidate"], C["ppl_candidate_err"]),
                     (C["kld_mean"], C["kld_mean_err"]),
                     (C["top1_agreement"], C["top1_agreement_err"]),
                     L["Mean PPL(Q)"], L["Mean    KLD"], L["Same top p"]))
        for p in (cand, deq):
            if not a.keep:
                os.remove(p)

    for t in filter(None, a.types.split(",")):
        measure(t, t, [])
    im_note = ""
    if a.imatrix_types:
        im_note = imatrix_rows(a, work, ref, measure)
    table = markdown(rows, n_chunk, n_ctx) + im_note
    print(table)
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(table)
    print(f"tiny_crosscheck: {fails} figures outside llama-perplexity's +/-")
    if not a.keep:
        shutil.rmtree(work)
    return 1 if fails else 0


def pm(v, digits):
    return "-" if v is None else f"{v[0]:.{digits}f} ± {v[1]:.{digits}f}"


def markdown(rows, n_chunk, n_ctx):
    out = [f"{n_chunk} chunks of {n_ctx} tokens; qwenkit = qwen-verify (fp32 arithmetic), "
           "llama = llama-perplexity (quantized activations)", "",
           "| type | file bytes | bpw | PPL (qwenkit) | PPL (llama) | mean KLD (qwenkit) "
           "| mean KLD (llama) | same top p % (qwenkit) | same top p % (llama) |",
           "| --- | ---: | ---: | --- | --- | --- | --- | --- | --- |"]
    for t, size, b, p, k, s, lp, lk, ls in rows:
        out.append(f"| {t} | {size} | {b:.2f} | {pm(p, 3)} | {pm(lp, 3)} | {pm(k, 6)} "
                   f"| {pm(lk, 6)} | {pm(s, 2)} | {pm(ls, 2)} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
