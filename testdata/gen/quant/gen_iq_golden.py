#!/usr/bin/env python3
"""Golden vectors for the i-quant family of quant/ (quant/iquants.h):
IQ4_NL, IQ4_XS, MXFP4, TQ1_0, TQ2_0 and the grid types, from libggml itself.

Uses the helpers of gen_quant_golden.py (same ggml library, same .qkg
container, same synth recipe) and calls
  ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, imatrix)
with imatrix = NULL (types that do not require one) and with the column
weights of iq_weights.qkg, then ggml's to_float on ggml's own bytes.

Inputs: the 35 labelled rows of testdata/quant/inputs.qkg (read back, not
regenerated) and the first SYNTH_ROWS rows of the synth recipe.
Writes into OUT (default testdata/quant/):
  iq_weights.qkg  w512 (the weights for the 512-wide input rows) and w4096
                  (for the 4096-wide synth rows): positive, log-normal
                  spread (like llama-imatrix's mean squared activations),
                  every 37th zero
  <type>.qkg      sections, each present when ggml can make it:
                  quant / quant_w           ggml's bytes for the input rows,
                                            without / with weights
                  dequant_hash / dequant_w_hash
                                            FNV-1a-64 per row of to_float
                                            on those bytes
                  (rows ggml aborts on are listed as ggml_aborts_row meta
                  lines and hold the bytes of a zero row)
                  synth_q / synth_q_w       FNV-1a-64 per synth row of
                                            ggml's bytes
                  synth_dq / synth_dq_w     ... and of to_float on them
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_quant_golden as gq  # noqa: E402

# (file stem, ggml id, synth rows); ggml refuses IQ2_XXS, IQ2_XS, IQ1_S
# without an importance matrix (ggml_quantize_requires_imatrix)
TYPES = [
    ("iq4_nl", 20, 512), ("iq4_xs", 23, 512), ("mxfp4", 39, 512),
    ("tq1_0", 34, 512), ("tq2_0", 35, 512),
    ("iq2_xxs", 16, 64), ("iq2_xs", 17, 64), ("iq3_xxs", 18, 64), ("iq3_s", 21, 64), ("iq2_s", 22, 64), ("iq1_s", 19, 64), ("iq1_m", 29, 64),
]
NEEDS_IMATRIX = {16, 17, 19}
GRID = {16, 17, 18, 19, 21, 22, 29}  # the lattice types
WEIGHT_SEED = 0x69717700  # "iqw"


def read_qkg(path):
    """(meta dict of lists, {name: ndarray}) of a .qkg file."""
    dt = {"u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "u64": np.uint64,
          "f32": np.float32}
    with open(path, "rb") as f:
        raw = f.read()
    end = raw.index(b"\nend\n") + 5
    meta, secs, off = {}, {}, end
    for line in raw[:end].decode().splitlines()[1:-1]:
        kind, rest = line.split(" ", 1)
        if kind == "meta":
            k, _, v = rest.partition(" ")
            meta.setdefault(k, []).append(v)
        else:
            name, t, count = rest.split(" ")
            a = np.frombuffer(raw, dtype=np.dtype(dt[t]).newbyteorder("<"),
                              count=int(count), offset=off)
            secs[name] = a.astype(dt[t])
            off += a.nbytes
    return meta, secs


def weights(rng, n):
    w = np.exp(rng.standard_normal(n) * 1.5).astype(np.float32)
    w[::37] = 0.0
    return w


def quantize(lib, t, x, w):
    nrows, n = x.shape
    out = np.zeros(nrows * gq.row_bytes(lib, t, n), dtype=np.uint8)
    got = lib.ggml_quantize_chunk(t, gq.ptr(x), gq.ptr(out), 0, nrows, n,
                                  None if w is None else gq.ptr(w))
    assert got == out.size, (t, got, out.size)
    return out


ROW_CHILD = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import gen_iq_golden as g, gen_quant_golden as gq
lib = gq.load_ggml()[0]
x = np.load(sys.argv[2]); w = np.load(sys.argv[3]); t = int(sys.argv[4])
for r in range(int(sys.argv[5]), x.shape[0]):
    print(r, flush=True)
    g.quantize(lib, t, x[r:r + 1], w)
    if t not in g.NEEDS_IMATRIX:
        g.quantize(lib, t, x[r:r + 1], None)
print("done", flush=True)
"""


def aborting_rows(t, x, w, tmp):
    """ggml aborts (GGML_ASSERT) on some extreme rows for the grid types:
    quantize the rows one by one in a child process (not a fork: ggml's
    OpenMP pool does not survive one); a row the child dies on is recorded
    and the next child starts after it"""
    xp, wp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "w.npy")
    np.save(xp, x)
    np.save(wp, w)
    here = os.path.dirname(os.path.abspath(__file__))
    bad, start = [], 0
    while True:
        r = subprocess.run([sys.executable, "-c", ROW_CHILD, here, xp, wp, str(t), str(start)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           env=dict(os.environ, GGML_NO_BACKTRACE="1"))
        lines = r.stdout.split()
        if lines and lines[-1] == "done":
            return bad
        last = int(lines[-1])
        bad.append(last)
        start = last + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "quant"))
    ap.add_argument("--types", default="", help="comma-separated stems (default: all)")
    args = ap.parse_args()

    lib, version, _ = gq.load_ggml()
    prov = [("generator", "testdata/gen/quant/gen_iq_golden.py"),
            ("llama_cpp_python", version),
            ("ggml_version", lib.ggml_version().decode()),
            ("ggml_commit", lib.ggml_commit().decode())]
    imeta, isecs = read_qkg(os.path.join(args.out, "inputs.qkg"))
    rows, n = int(imeta["rows"][0]), int(imeta["n_per_row"][0])
    x = isecs["input"].reshape(rows, n).copy()

    rng = np.random.default_rng(WEIGHT_SEED)
    w512, w4096 = weights(rng, n), weights(rng, gq.SYNTH_N)
    gq.write_qkg(os.path.join(args.out, "iq_weights.qkg"),
                 prov + [("seed", "%x" % WEIGHT_SEED)], [("w512", w512), ("w4096", w4096)])

    want = set(args.types.split(",")) if args.types else None
    for stem, t, nsyn in TYPES:
        if want and stem not in want:
            continue
        sx = gq.synth_rows(count=nsyn)
        nel = sx.size
        secs = []
        variants = [("_w", w512, w4096)]
        if t not in NEEDS_IMATRIX:
            variants.insert(0, ("", None, None))
        with tempfile.TemporaryDirectory() as tmp:
            skip = aborting_rows(t, x, w512, tmp) if t in GRID else []
        xq = x.copy()
        xq[skip] = 0.0  # rows ggml aborts on: zeros stand in, the test skips them
        for suf, wi, ws in variants:
            q = quantize(lib, t, xq, wi)
            secs.append(("quant" + suf, q))
            secs.append(("dequant" + suf + "_hash",
                         gq.fnv1a64_rows(gq.ggml_to_float(lib, t, q, x.size), rows)))
        for suf, wi, ws in variants:
            q = quantize(lib, t, sx, ws)
            secs.append(("synth_q" + suf, gq.fnv1a64_rows(q, nsyn)))
            secs.append(("synth_dq" + suf, gq.fnv1a64_rows(gq.ggml_to_float(lib, t, q, nel), nsyn)))
        bits = " ".join("%08x" % v for v in np.array(gq.SYNTH_SCALES, dtype=np.float32).view(np.uint32))
        meta = prov + [("rows", str(rows)), ("n_per_row", str(n)),
                       ("type", lib.ggml_type_name(t).decode()), ("ggml_id", str(t)),
                       ("seed", "%x" % gq.SYNTH_SEED), ("synth_rows", str(nsyn)),
                       ("synth_n_per_row", str(gq.SYNTH_N)), ("scale_bits", bits)]
        meta += [("ggml_aborts_row", "%d %s" % (r, imeta["row_label"][r].split(" ", 1)[1]))
                 for r in skip]
        gq.write_qkg(os.path.join(args.out, stem + ".qkg"), meta, secs)
        print("%-8s %s" % (stem, " ".join("%s:%d" % (s, a.size) for s, a in secs)))


if __name__ == "__main__":

    main()
