#!/usr/bin/env python3
"""Cross-check qwen-verify perplexity/compare against llama.cpp's own
llama-perplexity, built from the llama.cpp sources vendored in the
llama-cpp-python 0.3.36 sdist (only the perplexity tool; cmake,
-DGGML_NATIVE=OFF, -ffp-contract=off, niced, -j2; about 12 minutes on 2
cores the first time, kept under build/llama.cpp/).

Models: a synthetic Qwen2.5-0.5B-shaped checkpoint cut to --layers layers
(tests/bench/gen_synth, random weights, the real Qwen tokenizer of
testdata/models/qwen3_realvocab), written by qwen-convert as an F32 GGUF
(the reference: llama.cpp computes F32 matrices in F32) and quantized by
qwen-quant (byte-identical to llama-quantize, quant_crosscheck.py) to the
candidate types. Text: Debian's Apache-2.0 and GPL-3 licence texts
(/usr/share/common-licenses), tokenized by llama.cpp; qwenkit is given the
token ids llama-perplexity evaluated (the base file's header), so the two
sides score the same tokens whatever tokenizer is used.

Checks (each a figure of llama-perplexity against ours, within
llama-perplexity's own +/- unless said otherwise):
  1. perplexity of the reference: `llama-perplexity -f TEXT` vs
     `qwen-verify perplexity`;
  2. every candidate: llama-perplexity --kl-divergence (base from its own
     reference run) vs `qwen-verify compare REF CAND` on the same chunks:
     Mean PPL(Q), Mean PPL(base), ln ratio, Mean KLD, RMS dp, Same top p;
     the KLD quantiles are printed side by side;
  3. our base file (`qwen-verify perplexity --save-base`) read by
     llama-perplexity --kl-divergence: the same figures as from its own
     base file;
  4. llama-perplexity's base file read by us (`qwen-verify compare --base`)
     vs llama-perplexity --kl-divergence on it.
Note: llama.cpp multiplies quantized matrices with quantized activations
(Q8_0 / Q8_K), qwenkit in fp32 with exactly dequantized weights, so the
candidates' logits differ by more than rounding; the report gives the
difference in units of llama-perplexity's +/-.

usage: .venv-ggml/bin/python testdata/gen/ppl_crosscheck.py [--bin DIR]
          [--layers N] [--ctx N] [--chunks N] [--types Q8_0,Q4_K_M] [--keep DIR]
Environment: LLAMA_PERPLEXITY=/path/to/llama-perplexity skips the build.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SDIST = "llama-cpp-python==0.3.36"
TEXTS = ["/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/GPL-3"]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
        raise SystemExit(f"ppl_crosscheck: failed: {' '.join(cmd)}")
    return r.stdout + r.stderr


def llama_sdist():
    """vendor/llama.cpp of the pinned sdist: $LLAMA_CPP_DIR when set, else
    fetched and unpacked under build/llama-sdist/ (once)."""
    if os.environ.get("LLAMA_CPP_DIR"):
        return os.environ["LLAMA_CPP_DIR"]
    sd = os.path.join(ROOT, "build", "llama-sdist")
    os.makedirs(sd, exist_ok=True)
    tgz = [f for f in os.listdir(sd) if f.endswith(".tar.gz")]
    if not tgz:
        pip = os.path.join(os.path.dirname(sys.executable), "pip")
        run([pip, "download", "--no-deps", "--no-binary", ":all:", SDIST, "-d", sd])
        tgz = [f for f in os.listdir(sd) if f.endswith(".tar.gz")]
    src = os.path.join(sd, tgz[0][:-len(".tar.gz")], "vendor", "llama.cpp")
    if not os.path.isdir(src):
        run(["tar", "xzf", os.path.join(sd, tgz[0]), "-C", sd])
    return src


def llama_tool(target, env):
    """A llama.cpp tool of the pinned sdist: $env when set, else
    build/llama.cpp/bin/TARGET, built there (and the sdist fetched) when
    missing. tests/bench/ref_bench.sh takes llama-bench from here too."""
    exe = os.environ.get(env)
    if exe:
        return exe
    bdir = os.path.join(ROOT, "build", "llama.cpp")
    exe = os.path.join(bdir, "bin", target)
    if os.path.exists(exe):
        return exe
    run(["nice", "cmake", "-S", llama_sdist(), "-B", bdir, "-DGGML_NATIVE=OFF", "-DLLAMA_CURL=OFF",
         "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_TOOLS=ON",
         "-DLLAMA_BUILD_SERVER=OFF", "-DCMAKE_BUILD_TYPE=Release",
         "-DCMAKE_C_FLAGS=-ffp-contract=off", "-DCMAKE_CXX_FLAGS=-ffp-contract=off"])
    run(["nice", "cmake", "--build", bdir, "-j2", "--target", target])
    return exe


def llama_perplexity():
    return llama_tool("llama-perplexity", "LLAMA_PERPLEXITY")


def parse_llama(out):
    """{label: (value, err)} of llama-perplexity's final blocks"""
    res = {}
    m = re.search(r"Final estimate: PPL = ([-0-9.naif]+) \+/- ([-0-9.naif]+)", out)
    if m:
        res["PPL"] = (float(m.group(1)), float(m.group(2)))
    for line in out.splitlines():
        m = re.match(r"^(Mean PPL\(Q\)|Mean PPL\(base\)|Mean ln\(PPL\(Q\)/PPL\(base\)\)|"
                     r"Mean    KLD|Maximum KLD|99\.9%   KLD|99\.0%   KLD|95\.0%   KLD|"
                     r"90\.0%   KLD|Median  KLD|10\.0%   KLD| 5\.0%   KLD| 1\.0%   KLD|"
                     r"Minimum KLD|RMS Δp    |Same top p|Cor\(ln\(PPL\(Q\)\), ln\(PPL\(base\)\)\))"
                     r"\s*:\s*([-0-9.naif]+)%?\s*(?:±\s*([-0-9.naif]+))?", line)
        if m:
            res[m.group(1).strip()] = (float(m.group(2)),
                                       float(m.group(3)) if m.group(3) else None)
    return res


def base_tokens(path):
    with open(path, "rb") as f:
        hdr = f.read(20)
        assert hdr[:8] == b"_logits_", path
        n_ctx, n_vocab, n_chunk = struct.unpack("<Iii", hdr[8:])
        toks = struct.unpack(f"<{n_ctx * n_chunk}i", f.read(4 * n_ctx * n_chunk))
    return n_ctx, n_vocab, n_chunk, toks


class Report:
    def __init__(self):
        self.fails = 0

    def check(self, what, ours, theirs, err, counts=True, digits=6):
        """within llama's +/-, or within its printed precision when that
        rounds the +/- to 0"""
        tol = err if err else 0.5 * 10 ** -digits
        ok = abs(ours - theirs) <= tol
        if not ok and counts:
            self.fails += 1
        units = f"{abs(ours - theirs) / err:.2f} x +/-" if err else "exact"
        print(f"  {'ok  ' if ok else 'FAIL' if counts else 'off '} {what:34s} ours {ours:<14.6g} llama {theirs:<14.6g}"
              f" +/- {err if err else 0:<10.3g} diff {units}")
        return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--types", default="Q8_0,Q4_K_M")
    ap.add_argument("--keep")
    a = ap.parse_args()
    lp = llama_perplexity()
    work = a.keep or tempfile.mkdtemp(prefix="ppl_crosscheck.")
    os.makedirs(work, exist_ok=True)
    V = os.path.join(a.bin, "qwen-verify")
    gen = os.path.join(ROOT, "build", "bench", "gen_synth")
    if not os.path.exists(gen):
        run(["make", "-s", "-C", ROOT, "build/bench/gen_synth"])
    synth = os.path.join(work, "synth")
    if not os.path.exists(os.path.join(synth, "model.safetensors")):
        run([gen, "-l", str(a.layers), synth])
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(ROOT, "testdata", "models", "qwen3_realvocab", f), synth)
    ref = os.path.join(work, "ref-f32.gguf")
    if not os.path.exists(ref):
        run([os.path.join(a.bin, "qwen-convert"), "-q", synth, "-o", ref, "--outtype", "f32"])
    cands = {}
    for t in a.types.split(","):
        c = os.path.join(work, f"cand-{t}.gguf")
        if not os.path.exists(c):
            run([os.path.join(a.bin, "qwen-quant"), ref, "-o", c, "--type", t])
        cands[t] = c
        # the same weights dequantized into an F32 file: llama.cpp then
        # computes the candidate in F32 as qwenkit does
        d = os.path.join(work, f"cand-{t}-as-F32.gguf")
        if not os.path.exists(d):
            run([os.path.join(a.bin, "qwen-quant"), c, "-o", d, "--type", "F32",
                 "--allow-requantize"])
        cands[t + "-as-F32"] = d
    text = os.path.join(work, "text.txt")
    with open(text, "w", encoding="utf-8") as f:
        for p in TEXTS:
            f.write(open(p, encoding="utf-8").read())
    common = ["-c", str(a.ctx), "--chunks", str(a.chunks), "-t", str(a.threads),
              "-ctk", "f32", "-ctv", "f32", "-ngl", "0"]
    rep = Report()

    # 1. perplexity of the reference, and llama's base file
    lbase = os.path.join(work, "llama.kld")
    out = run([lp, "-m", ref, "-f", text, *common, "--kl-divergence-base", lbase])
    L = parse_llama(out)
    n_ctx, n_vocab, n_chunk, toks = base_tokens(lbase)
    ids = os.path.join(work, "ids.txt")
    with open(ids, "w") as f:
        f.write(",".join(map(str, toks)) + "\n")
    print(f"text: {os.path.getsize(text)} bytes, llama.cpp evaluated {n_chunk} chunks of "
          f"{n_ctx} tokens (n_vocab {n_vocab})")
    obase = os.path.join(work, "ours.kld")
    ours = json.loads(subprocess.run(
        [V, "perplexity", "--json", "-t", str(a.threads), "--ctx", str(n_ctx), "--tokens-file",
         ids, "--save-base", obase, ref], capture_output=True, text=True, check=True).stdout)
    print("1. perplexity of the F32 reference")
    rep.check("PPL", ours["ppl"], L["PPL"][0], L["PPL"][1])
    rep.check("PPL +/-", ours["ppl_err"], L["PPL"][1], 0.01 * L["PPL"][1])

    for t, cand in cands.items():
        # 2. llama --kl-divergence (its base) vs our compare REF CAND
        L = parse_llama(run([lp, "-m", cand, *common, "--kl-divergence",
                             "--kl-divergence-base", lbase]))
        r = subprocess.run([V, "compare", "--json", "-t", str(a.threads), "--ctx", str(n_ctx),
                            "--tokens-file", ids, "--max-kld", "100", ref, cand],
                           capture_output=True, text=True)
        O = json.loads(r.stdout)
        exact = t.endswith("-as-F32")
        print(f"2. {t}: llama-perplexity --kl-divergence vs qwen-verify compare (fp32 pair)"
              + ("" if exact else "; informational: llama.cpp quantizes the activations"))
        figs(rep, O, L, exact)
        # 3. our base file read by llama
        L3 = parse_llama(run([lp, "-m", cand, *common, "--kl-divergence",
                              "--kl-divergence-base", obase]))
        print(f"3. {t}: llama-perplexity --kl-divergence on our base file vs on its own")
        for k in ("Mean PPL(base)", "Mean PPL(Q)", "Mean    KLD", "RMS Δp", "Same top p"):
            rep.check(k, L3[k][0], L[k][0], L[k][1] or 0, True, 3 if "%" in k or "Δ" in k
                      or "top" in k else 6)
        # 4. llama's base file read by us
        r = subprocess.run([V, "compare", "--json", "-t", str(a.threads), "--base", lbase,
                            "--max-kld", "100", cand], capture_output=True, text=True)
        O4 = json.loads(r.stdout)
        print(f"4. {t}: qwen-verify compare --base (llama's file) vs llama-perplexity")
        figs(rep, O4, L, exact)
    print(f"ppl_crosscheck: {rep.fails} figures outside llama-perplexity's +/-")
    if not a.keep:
        shutil.rmtree(work)
    return 1 if rep.fails else 0


def figs(rep, O, L, counts):
    rep.check("Mean PPL(Q)", O["ppl_candidate"], *L["Mean PPL(Q)"], counts)
    rep.check("Mean PPL(base)", O["ppl_ref"], *L["Mean PPL(base)"], counts)
    rep.check("Mean ln(PPL(Q)/PPL(base))", O["ln_ppl_ratio"],
              *L["Mean ln(PPL(Q)/PPL(base))"], counts)
    rep.check("Mean KLD", O["kld_mean"], *L["Mean    KLD"], counts)
    rep.check("RMS dp (%)", O["rms_dp"], *L["RMS Δp"], counts, 3)
    rep.check("Same top p (%)", O["top1_agreement"], *L["Same top p"], counts, 3)
    print("     KLD quantiles (ours / llama): " + ", ".join(
        f"{lab.strip()} {O[k]:.6f}/{L[lab][0]:.6f}" for k, lab in
        (("kld_max", "Maximum KLD"), ("kld_p99", "99.0%   KLD"), ("kld_median", "Median  KLD"),
         ("kld_p10", "10.0%   KLD"), ("kld_min", "Minimum KLD"))))


if __name__ == "__main__":
    sys.exit(main())
