#!/usr/bin/env python3
"""Importance matrices written by llama.cpp's own llama-imatrix, for the
imatrix reader/writer tests (tests/unit/test_imatrix.c).

For each fixture (qwen3_256: dense; qwen2_moe_256: 4 experts, shared expert):
  1. bin/qwen-convert --outtype f32 writes the fixture as a GGUF (only the
     model llama-imatrix runs; nothing expected comes from it);
  2. llama-imatrix -m MODEL -f testdata/tokenizer/corpus/en.txt -c 64
     --chunks 8 -t 1 --no-ppl -o <fixture>.imatrix.gguf (GGUF format);
  3. llama-imatrix -m MODEL --in-file <fixture>.imatrix.gguf -c 64
     --output-format dat -o <fixture>.imatrix.dat: llama.cpp's own
     conversion of that file to the legacy format;
  4. gguf-py reads the GGUF and a plain struct parse reads the .dat, and
     expected.tsv gets per entry what they hold:
       gguf  NAME  N_COLS  N_MAT  COUNTS(comma)  FNV1A64(in_sum2 bytes)
       dat   NAME  NCALL   NVAL   FNV1A64(value bytes)
       meta  FILE  KEY  VALUE   (chunk_count, chunk_size, datasets, entries)
  5. llama-quantize --imatrix testdata/imatrix/<file> MODEL OUT MIX 1 for
     both files and a few mixes, and with the GGUF file for every other
     mix an imatrix changes (the rest of the legacy and k-quant mixes, the
     i-quant mixes, Q2_K_S):
       quant FIXTURE  IMATRIX  MIX  SHA256(output)
     (tests/cli/quant_imatrix.sh: qwen-quant on the safetensors fixture with
     the same --imatrix path must write those bytes).
  6. Ours read by llama-quantize: bin/qwen-verify imatrix on qwen3_256
     with llama-imatrix's text, --ctx and --chunks writes ours.gguf; then
     llama-quantize --imatrix ours.gguf (run in the directory of that file,
     so the path it records is "ours.gguf") for a few mixes:
       quant-ours  qwen3_256  ours.gguf  MIX  SHA256(output)
     (quant_imatrix.sh makes ours.gguf the same way and qwen-quant reading
     it must write those bytes: the file llama-quantize read is the one
     qwen-verify writes, and both read it alike.)
  7. The deep model testdata/imatrix/qwen3_16l (imatrix_model.py: 16
     layers, 32 wide), for llama-quantize's rules that count layers:
     llama-imatrix writes qwen3_16l.imatrix.gguf as in 2; llama-quantize
     writes every mix with that imatrix and without one (IMATRIX "-");
     where it refuses a mix without an imatrix the row says "refused"
     (qwen-quant must refuse too, exit 2).

llama-imatrix: $LLAMA_IMATRIX, else /tmp/vtext-llama-build/bin/llama-imatrix;
llama-quantize: $LLAMA_QUANTIZE, else the same directory's llama-quantize
(built from the llama-cpp-python 0.3.36 sdist as ppl_crosscheck.py builds
llama-perplexity). Versions: llama-cpp-python 0.3.36 (llama.cpp 0c1e57098),
gguf 0.19.0.

usage: .venv-ggml/bin/python testdata/gen/imatrix_oracle.py [--bin DIR]
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

import gguf
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = ["qwen3_256", "qwen2_moe_256"]
TEXT = "testdata/tokenizer/corpus/en.txt"
ARGS = ["-c", "64", "-t", "1"]


def llama_imatrix():
    exe = os.environ.get("LLAMA_IMATRIX", "/tmp/vtext-llama-build/bin/llama-imatrix")
    if not os.access(exe, os.X_OK):
        sys.exit("imatrix_oracle: no llama-imatrix at %s (set LLAMA_IMATRIX)" % exe)
    return exe


MIXES = ["Q4_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M", "Q6_K"]
# with the GGUF file only: the other mixes an imatrix changes
MORE_MIXES = ["Q4_1", "Q5_0", "Q2_K_S", "Q3_K_S", "Q3_K_L", "Q4_K_S", "Q5_K_S", "Q5_K_M",
              "IQ4_NL", "IQ4_XS", "IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M", "IQ2_XXS", "IQ2_XS",
              "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M"]
OURS_MIXES = ["Q4_0", "Q4_K_M", "IQ4_XS", "IQ2_XS"]
DEEP = "qwen3_16l"
DEEP_MIXES = ["Q4_0", "Q5_0", "Q4_1", "Q2_K", "Q2_K_S", "Q3_K_S", "Q3_K_M", "Q4_K_S", "Q4_K_M",
              "Q5_K_M", "IQ4_NL", "IQ4_XS", "IQ3_XXS", "IQ3_XS", "IQ3_M", "IQ2_XS", "IQ2_M",
              "IQ1_S"]


def sha256(path):
    import hashlib
    with open(path, "rb") as fp:
        return hashlib.sha256(fp.read()).hexdigest()


def fnv(b):
    h = 0xCBF29CE484222325
    for x in b:
        h = ((h ^ x) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def run(cmd, cwd=ROOT, may_refuse=False):
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    if r.returncode and may_refuse and b"importance matrix" in r.stderr:
        return False
    if r.returncode:
        sys.exit("imatrix_oracle: failed (%d): %s\n%s" % (r.returncode, " ".join(cmd),
                                                         r.stderr.decode()[-2000:]))
    return True


def gguf_rows(path, stem):
    r = gguf.GGUFReader(path)
    rows = []
    f = r.fields
    rows.append(["meta", stem + ".gguf", "chunk_count", str(f["imatrix.chunk_count"].parts[-1][0])])
    rows.append(["meta", stem + ".gguf", "chunk_size", str(f["imatrix.chunk_size"].parts[-1][0])])
    ds = f["imatrix.datasets"]
    rows.append(["meta", stem + ".gguf", "datasets",
                 ",".join(bytes(ds.parts[i]).decode() for i in ds.data)])
    t = {x.name: x for x in r.tensors}
    names = sorted(n[:-len(".in_sum2")] for n in t if n.endswith(".in_sum2"))
    rows.append(["meta", stem + ".gguf", "entries", str(len(names))])
    for n in names:
        s, c = t[n + ".in_sum2"], t[n + ".counts"]
        sums = np.asarray(s.data, dtype="<f4")
        cnt = np.asarray(c.data, dtype="<f4").reshape(-1)
        n_mat = cnt.size
        rows.append(["gguf", n, str(sums.size // n_mat), str(n_mat),
                     ",".join(str(int(round(float(v)))) for v in cnt), fnv(sums.tobytes())])
    return rows


def dat_rows(path, stem):
    with open(path, "rb") as fp:
        b = fp.read()
    off, rows = 4, []
    (n,) = struct.unpack_from("<i", b, 0)
    for _ in range(n):
        (ln,) = struct.unpack_from("<i", b, off)
        name = b[off + 4:off + 4 + ln].decode()
        off += 4 + ln
        ncall, nval = struct.unpack_from("<ii", b, off)
        off += 8
        rows.append(["dat", name, str(ncall), str(nval), fnv(b[off:off + 4 * nval])])
        off += 4 * nval
    (chunks,) = struct.unpack_from("<i", b, off)
    (ln,) = struct.unpack_from("<i", b, off + 4)
    assert off + 8 + ln == len(b), path
    return [["meta", stem + ".dat", "chunk_count", str(chunks)],
            ["meta", stem + ".dat", "datasets", b[off + 8:off + 8 + ln].decode()],
            ["meta", stem + ".dat", "entries", str(n)]] + rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "imatrix"))
    a = ap.parse_args()
    exe = llama_imatrix()
    os.makedirs(a.out, exist_ok=True)
    rows = []
    lq = os.environ.get("LLAMA_QUANTIZE", os.path.join(os.path.dirname(exe), "llama-quantize"))
    conv = os.path.join(a.bin, "qwen-convert")
    with tempfile.TemporaryDirectory(prefix="imatrix_oracle.") as tmp:
        out = os.path.join(tmp, "q.gguf")
        for fx in FIXTURES:
            model = os.path.join(tmp, fx + ".gguf")
            g = os.path.join(a.out, fx + ".imatrix.gguf")
            d = os.path.join(a.out, fx + ".imatrix.dat")
            run([conv, os.path.join("testdata/models", fx), "-o", model, "--outtype", "f32", "-q"])
            run([exe, "-m", model, "-f", TEXT, "--chunks", "8", "--no-ppl", "-o", g] + ARGS)
            run([exe, "-m", model, "--in-file", g, "--output-format", "dat", "-o", d] + ARGS)
            rows += gguf_rows(g, fx + ".imatrix")
            rows += dat_rows(d, fx + ".imatrix")
            for im in (g, d):
                rel = os.path.relpath(im, ROOT)
                for mix in MIXES + (MORE_MIXES if im == g else []):
                    run([lq, "--imatrix", rel, model, out, mix, "1"])
                    rows.append(["quant", fx, rel, mix, sha256(out)])
            if fx == "qwen3_256":
                # 6. ours, read by llama-quantize
                ours = os.path.join(tmp, "ours.gguf")
                run([os.path.join(a.bin, "qwen-verify"), "imatrix",
                     os.path.join("testdata/models", fx), "--text-file", TEXT, "--ctx", "64",
                     "--chunks", "8", "-q", "-o", ours])
                for mix in OURS_MIXES:
                    run([lq, "--imatrix", "ours.gguf", model, out, mix, "1"], cwd=tmp)
                    rows.append(["quant-ours", fx, "ours.gguf", mix, sha256(out)])
        # 7. the deep model
        src = os.path.join(a.out, DEEP)
        model = os.path.join(tmp, DEEP + ".gguf")
        g = os.path.join(a.out, DEEP + ".imatrix.gguf")
        run([conv, os.path.relpath(src, ROOT), "-o", model, "--outtype", "f32", "-q"])
        run([exe, "-m", model, "-f", TEXT, "--chunks", "8", "--no-ppl", "-o", g] + ARGS)
        rows += gguf_rows(g, DEEP + ".imatrix")
        rel = os.path.relpath(g, ROOT)
        for mix in DEEP_MIXES:
            run([lq, "--imatrix", rel, model, out, mix, "1"])
            rows.append(["quant", DEEP, rel, mix, sha256(out)])
            if os.path.exists(out):
                os.remove(out)
            ok = run([lq, model, out, mix, "1"], may_refuse=True)
            rows.append(["quant", DEEP, "-", mix, sha256(out) if ok else "refused"])
    with open(os.path.join(a.out, "expected.tsv"), "w") as fp:
        fp.write("# made by testdata/gen/imatrix_oracle.py from llama-imatrix's files "
                 "(llama-cpp-python 0.3.36); see its docstring\n")
        for r in rows:
            fp.write("\t".join(r) + "\n")
    print("imatrix_oracle: %d rows for %s" % (len(rows), ", ".join(FIXTURES + [DEEP])))


if __name__ == "__main__":
    main()
