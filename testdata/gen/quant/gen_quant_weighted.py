#!/usr/bin/env python3
"""Golden hashes for quant/'s weighted quantizers: libggml's quantize_<t>
with quant_weights (what llama-quantize runs when it has an imatrix entry).

Calls ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, qw) of the
libggml-base that llama-cpp-python builds (loaded as gen_quant_golden.py
does), for the nine types that take weights: Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K
Q4_K Q5_K Q6_K (Q8_0 ignores them).

Writes OUT/weighted.qkg (default testdata/quant/), holding only inputs the
C test cannot rebuild and per-row FNV-1a-64 hashes of ggml's bytes:
  in_qw      f32 [4 x 512]  four weight vectors for the rows of inputs.qkg:
                            0 lognormal (like real imatrix means of squared
                            activations), 1 the same with a quarter of the
                            columns and one whole 32-block at 0, 2 all ones,
                            3 ten to a uniform power in [-8, 8]
  <t>_in     u64 [4 x 35]   hash of row r quantized with weight vector w at
                            index w * rows + r
  synth_qw   f32 [4096]     lognormal weights for the synth rows
  <t>_synth  u64 [256]      hash of synth row r (the recipe of synth.qkg,
                            rebuilt by the test from seed and scale_bits)
Deterministic (fixed seeds). See testdata/quant/README.md.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_quant_golden as G  # noqa: E402

W_TYPES = [("q4_0", 2), ("q4_1", 3), ("q5_0", 6), ("q5_1", 7), ("q2_k", 10),
           ("q3_k", 11), ("q4_k", 12), ("q5_k", 13), ("q6_k", 14)]
SYNTH_ROWS = 256
SEED = 20261204


def quantize_w(lib, t, x, qw):
    nrows, n = x.shape
    out = np.zeros(nrows * G.row_bytes(lib, t, n), dtype=np.uint8)
    qw = np.ascontiguousarray(qw, dtype=np.float32)
    got = lib.ggml_quantize_chunk(t, G.ptr(x), G.ptr(out), 0, nrows, n, G.ptr(qw))
    assert got == out.size, (t, got, out.size)
    return out


def read_inputs(path):
    """The f32 rows of inputs.qkg (layout in testdata/quant/README.md)."""
    with open(path, "rb") as f:
        buf = f.read()
    end = buf.index(b"\nend\n") + 5
    meta, off = {}, end
    for line in buf[:end].decode().split("\n"):
        p = line.split(" ")
        if p[0] == "meta" and len(p) >= 3:
            meta.setdefault(p[1], p[2])
        elif p[0] == "data":
            size = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "f32": 4}[p[2]] * int(p[3])
            if p[1] == "input":
                a = np.frombuffer(buf[off:off + size], dtype="<f4")
                return a.reshape(int(meta["rows"]), int(meta["n_per_row"]))
            off += size
    sys.exit("gen_quant_weighted: no input section in %s" % path)


def weight_vectors(rng, n):
    w0 = np.exp(rng.standard_normal(n) * 1.5) * 0.1
    w1 = w0.copy()
    w1[rng.random(n) < 0.25] = 0.0
    w1[64:96] = 0.0
    w2 = np.ones(n)
    w3 = 10.0 ** rng.uniform(-8, 8, n)
    return np.stack([w0, w1, w2, w3]).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "quant"))
    args = ap.parse_args()
    lib, version, _ = G.load_ggml()
    rng = np.random.default_rng(SEED)
    x_in = np.ascontiguousarray(read_inputs(os.path.join(args.out, "inputs.qkg")))
    qw_in = weight_vectors(rng, G.N_PER_ROW)
    x_syn = G.synth_rows(G.SYNTH_SEED, 0, SYNTH_ROWS, G.SYNTH_N)
    qw_syn = (np.exp(rng.standard_normal(G.SYNTH_N) * 1.5) * 0.1).astype(np.float32)
    bits = " ".join("%08x" % v for v in np.array(G.SYNTH_SCALES, dtype=np.float32).view(np.uint32))
    meta = [("generator", "testdata/gen/quant/gen_quant_weighted.py"),
            ("llama_cpp_python", version),
            ("ggml_version", lib.ggml_version().decode()),
            ("ggml_commit", lib.ggml_commit().decode()),
            ("in_rows", str(x_in.shape[0])), ("in_n_per_row", str(G.N_PER_ROW)),
            ("in_weights", str(qw_in.shape[0])),
            ("seed", "%x" % G.SYNTH_SEED), ("rows", str(SYNTH_ROWS)),
            ("n_per_row", str(G.SYNTH_N)), ("scale_bits", bits),
            ("input_hash", "%016x" % G.fnv1a64_rows(x_syn.reshape(1, -1), 1)[0])]
    secs = [("in_qw", qw_in.reshape(-1)), ("synth_qw", qw_syn)]
    for stem, t in W_TYPES:
        h = [G.fnv1a64_rows(quantize_w(lib, t, x_in, qw_in[w]), x_in.shape[0])
             for w in range(qw_in.shape[0])]
        secs.append((stem + "_in", np.concatenate(h)))
        secs.append((stem + "_synth",
                     G.fnv1a64_rows(quantize_w(lib, t, x_syn, qw_syn), SYNTH_ROWS)))
        meta.append(("synth_type", "%s %d" % (stem, t)))
    G.write_qkg(os.path.join(args.out, "weighted.qkg"), meta, secs)
    print("weighted: %d input rows x %d weight vectors, %d synth rows, %d types" %
          (x_in.shape[0], qw_in.shape[0], SYNTH_ROWS, len(W_TYPES)))


if __name__ == "__main__":
    main()
