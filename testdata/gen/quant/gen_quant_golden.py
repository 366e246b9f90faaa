#!/usr/bin/env python3
"""Golden vectors for quant/: llama.cpp's own quantizer output.

Loads the ggml shared library that the llama-cpp-python package builds and
calls its public API with ctypes:
  ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, NULL)
      what llama-quantize runs without an importance matrix;
  ggml_get_type_traits(type)->to_float
      ggml's dequantizer, fed with ggml's own bytes (for Q8_K, which has
      none in the traits, the exported dequantize_row_q8_K);
  quantize_row_q8_K_ref (exported by libggml-base)
      Q8_K is not reachable through ggml_quantize_chunk or the traits;
  ggml_type_name / ggml_blck_size / ggml_type_size for every type id.

Writes into OUT (default: testdata/quant/ next to this script's repo root):
  inputs.qkg        the f32 input rows, with a label per row
  <type>.qkg        ggml's bytes for those rows and its dequantized floats
  f16.qkg, bf16.qkg conversions of the rows and of fp32 bit patterns, and
                    the widening of every (bf16: every 7th) 16-bit pattern
  synth.qkg         per-row hashes of ggml's bytes and dequantized floats for
                    512 rows of 4096 values that the C test regenerates
                    (recipe at SYNTH_SEED below)
  large.qkg         per-row hashes of ggml's bytes for >= 1,048,576 blocks
                    (legacy) or super-blocks (k-quants) per type, plus
                    near-tie, edge-case and fp16/bf16-sourced sets
                    (quant_large.py: the sets and their recipes)
  ggml_types.txt    "id name blck_size type_size" for each ggml type
See testdata/quant/README.md for the .qkg layout and how to regenerate.

  --large-only      write only large.qkg (about 3 minutes)
  --bulk ROWS       instead of the committed set, write ROWS random rows of
                    4096 (weights-like) to OUT for a large one-off comparison
                    (QK_QUANT_GOLDEN_DIR=OUT build/tests/test_quant_golden)
"""
import argparse
import ctypes
import glob
import os
import sys

import numpy as np

GGML_TYPE_COUNT = 43  # ggml.h of the vendored llama.cpp
QUANT_TYPES = [  # (file stem, ggml id)
    ("q4_0", 2), ("q4_1", 3), ("q5_0", 6), ("q5_1", 7), ("q8_0", 8),
    ("q2_k", 10), ("q3_k", 11), ("q4_k", 12), ("q5_k", 13), ("q6_k", 14),
]
Q8_K, F16, BF16 = 15, 1, 30
N_PER_ROW = 512  # two k-quant super-blocks, sixteen 32-blocks per row


class TypeTraits(ctypes.Structure):
    # struct ggml_type_traits in ggml.h
    _fields_ = [
        ("type_name", ctypes.c_char_p),
        ("blck_size", ctypes.c_int64),
        ("blck_size_interleave", ctypes.c_int64),
        ("type_size", ctypes.c_size_t),
        ("is_quantized", ctypes.c_bool),
        ("to_float", ctypes.c_void_p),
        ("from_float_ref", ctypes.c_void_p),
    ]


ROW_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)


def load_ggml():
    import llama_cpp
    libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    cands = sorted(glob.glob(os.path.join(libdir, "libggml-base.so*")))
    if not cands:
        sys.exit("gen_quant_golden: no libggml-base.so under %s" % libdir)
    lib = ctypes.CDLL(cands[0])
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                        ctypes.c_void_p]
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_get_type_traits.argtypes = [ctypes.c_int]
    lib.ggml_get_type_traits.restype = ctypes.POINTER(TypeTraits)
    lib.ggml_type_name.argtypes = [ctypes.c_int]
    lib.ggml_type_name.restype = ctypes.c_char_p
    lib.ggml_blck_size.argtypes = [ctypes.c_int]
    lib.ggml_blck_size.restype = ctypes.c_int64
    lib.ggml_type_size.argtypes = [ctypes.c_int]
    lib.ggml_type_size.restype = ctypes.c_size_t
    for fn in ("ggml_version", "ggml_commit"):
        getattr(lib, fn).restype = ctypes.c_char_p
    return lib, llama_cpp.__version__, cands[0]


def ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def row_bytes(lib, t, n):
    return n // lib.ggml_blck_size(t) * lib.ggml_type_size(t)


def ggml_quantize(lib, t, x):
    nrows, n = x.shape
    out = np.zeros(nrows * row_bytes(lib, t, n), dtype=np.uint8)
    got = lib.ggml_quantize_chunk(t, ptr(x), ptr(out), 0, nrows, n, None)
    assert got == out.size, (t, got, out.size)
    return out


def ggml_to_float(lib, t, data, nelem):
    tr = lib.ggml_get_type_traits(t).contents
    y = np.zeros(nelem, dtype=np.float32)
    if tr.to_float:
        ROW_FN(tr.to_float)(ptr(data), ptr(y), nelem)
    else:  # Q8_K: no to_float in the traits, but the function is exported
        fn = getattr(lib, "dequantize_row_" + tr.type_name.decode())
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        fn.restype = None
        fn(ptr(data), ptr(y), nelem)
    return y


def ggml_q8_K_ref(lib, x):
    """Q8_K has no from_float_ref in the traits; libggml-base exports the
    reference function itself. The buffer starts zeroed: ggml leaves bsums
    of all-zero blocks unwritten."""
    fn = lib.quantize_row_q8_K_ref
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    fn.restype = None
    out = np.zeros(x.size // lib.ggml_blck_size(Q8_K) * lib.ggml_type_size(Q8_K), dtype=np.uint8)
    fn(ptr(x), ptr(out), x.size)
    return out


# ---- inputs ----

def build_rows(rng):
    n = N_PER_ROW
    rows = []

    def add(label, v):
        v = np.asarray(v, dtype=np.float32).reshape(-1)
        assert v.size == n, label
        rows.append((label, v))

    def normal(s):
        return rng.standard_normal(n) * s

    def blocks_of(k, fn):  # row made of n/k blocks of k values from fn(block index)
        return np.concatenate([fn(i) for i in range(n // k)])

    add("normal_1", normal(1.0))
    add("normal_1b", normal(1.0))
    add("weights_0.02a", normal(0.02))
    add("weights_0.02b", normal(0.02))
    add("weights_0.02c", normal(0.02))
    w = normal(0.05)
    idx = rng.choice(n, 4, replace=False)
    w[idx] *= 20
    add("weights_0.05_outliers", w)
    add("normal_100", normal(100.0))
    add("normal_1e-3", normal(1e-3))
    add("normal_1e4", normal(1e4))
    add("zeros", np.zeros(n))
    add("const_pos_0.5", np.full(n, 0.5))
    add("const_neg_-3.25", np.full(n, -3.25))
    add("const_pos_1e-3", np.full(n, 1e-3))
    add("huge_1e30", normal(1e30))
    add("near_fp16_max", rng.uniform(-70000.0, 70000.0, n))
    specials = np.array([65504, 65519, 65520, 65535, 1e5, -65504, -65520, 2.0 ** -14,
                         2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26, 1e-8, -2.0 ** -24, 0.0])
    add("fp16_edges", np.where(rng.random(n) < 0.5, rng.choice(specials, n), normal(1000.0)))
    add("huge_3e38", rng.uniform(-3e38, 3e38, n))
    add("tiny_1e-30", normal(1e-30))
    add("subnormal_1e-40", normal(1e-40))
    add("mixed_tiny_blocks", blocks_of(16, lambda i: rng.standard_normal(16) *
                                       (1.0 if i % 3 == 0 else 1e-20 if i % 3 == 1 else 1e-16)))
    o = normal(0.01)
    o[100] = 5.0
    add("single_outlier", o)
    add("negative_only", -np.abs(normal(1.0)))
    add("positive_only", np.abs(normal(1.0)) + 0.1)
    # ties: values that land exactly on rounding boundaries (power-of-two
    # scales keep every product exact)
    add("ties_q4_0", blocks_of(32, lambda i: np.concatenate(
        [[-8 * 0.25], (rng.integers(-8, 8, 31) + 0.5) * 0.25])))
    add("ties_q8_0", blocks_of(32, lambda i: np.concatenate(
        [[127 * 0.0625], (rng.integers(-127, 127, 31) + 0.5) * 0.0625])))
    add("ties_q4_1", blocks_of(32, lambda i: np.concatenate(
        [[0.0, 15 * 0.5], (rng.integers(0, 15, 30) + 0.5) * 0.5])))
    add("int_grid", rng.integers(-8, 9, n).astype(np.float64))
    add("half_int_grid", (rng.integers(-16, 17, n) + 0.5) * 0.125)
    s = normal(1.0)
    s[rng.random(n) < 0.9] = 0.0
    add("sparse_90", s)
    add("uniform_1", rng.uniform(-1.0, 1.0, n))
    add("alternating", np.array([(-1) ** i * (1 + i % 7) for i in range(n)]))
    add("zero_subblocks", blocks_of(16, lambda i: rng.standard_normal(16) * (i % 2)))
    add("block_scales_loguniform", blocks_of(32, lambda i: rng.standard_normal(32) *
                                             10.0 ** rng.uniform(-3, 3)))
    add("around_eps_1e-15", normal(1e-15))
    add("normal_1e-7", normal(1e-7))
    return rows


def fp32_patterns(rng, count):
    """Bit patterns for the conversion tests: every kind of float."""
    pats = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
            0x7F800001, 0x7FBFFFFF, 0xFF800001, 0x7FFFFFFF, 0x00000001, 0x807FFFFF,
            0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x477FFFFF, 0x47800000,
            0x38800000, 0x387FFFFF, 0x33800000, 0x33000000, 0x33000001, 0x32FFFFFF,
            0x3F808000, 0x3F818000, 0x3F800001, 0x3F801000, 0x3F803000, 0x3F802FFF,
            0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF]
    r = rng.integers(0, 2 ** 32, count - len(pats), dtype=np.uint64).astype(np.uint32)
    # a quarter near the fp16 range so that most hit normal / subnormal halves
    k = r.size // 4
    r[:k] = (r[:k] & np.uint32(0x80FFFFFF)) | (rng.integers(0x66, 0x90, k, dtype=np.uint32) << 24 & np.uint32(0x7F000000))
    return np.concatenate([np.array(pats, dtype=np.uint32), r])


# ---- the synthetic set: inputs both sides compute, hashes of the outputs ----
#
# A large input set is too big to commit, so test_quant_golden.c rebuilds it
# from this integer-only recipe and compares per-row FNV-1a hashes:
#   z(k)   = splitmix64 output for counter k: mix(seed + (k + 1) * GAMMA)
#   elem i of the whole set uses z(2i), z(2i+1); their four 32-bit halves
#   summed, minus 2 * (2^32 - 1), is an int64 s (Irwin-Hall, ~normal)
#   x = (float)s * 2^-31; x *= 16 if bits 40..49 of z(2i+1) are all 0
#   x = x * scale[row % len(scale)]  (one float32 multiply)
SYNTH_SEED = 0x7177656E6B6974  # "qwenkit"
SYNTH_ROWS, SYNTH_N = 512, 4096
SYNTH_SCALES = [0.02, 1.0, 0.005, 100.0, 0.05, 3e-4, 7.0, 1e-6]
GAMMA = 0x9E3779B97F4A7C15
M64 = (1 << 64) - 1


def splitmix64(k, seed=SYNTH_SEED):
    """k: uint64 array of counters; returns the mixed outputs."""
    z = (np.uint64(seed) + (k + np.uint64(1)) * np.uint64(GAMMA))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def synth_rows(seed=SYNTH_SEED, first=0, count=SYNTH_ROWS, n_per_row=SYNTH_N):
    """Rows first..first+count-1 of the recipe above (row r scaled by
    SYNTH_SCALES[r % 8])."""
    i0, n = first * n_per_row, count * n_per_row
    with np.errstate(over="ignore"):
        k = np.arange(2 * i0, 2 * (i0 + n), dtype=np.uint64)
        z = splitmix64(k, seed).reshape(n, 2)
    lo, hi = np.uint64(0xFFFFFFFF), np.uint64(32)
    s = ((z[:, 0] & lo) + (z[:, 0] >> hi) + (z[:, 1] & lo) + (z[:, 1] >> hi)).astype(np.int64)
    s -= 2 * 0xFFFFFFFF
    x = s.astype(np.float32) * np.float32(2.0 ** -31)
    x[((z[:, 1] >> np.uint64(40)) & np.uint64(0x3FF)) == 0] *= np.float32(16)
    x = x.reshape(count, n_per_row)
    sc = np.array(SYNTH_SCALES, dtype=np.float32)
    return x * sc[np.arange(first, first + count) % sc.size][:, None]


def fnv1a64_rows(a, nrows):
    """FNV-1a 64 of each row's bytes."""
    b = np.ascontiguousarray(a).view(np.uint8).reshape(nrows, -1)
    h = np.full(nrows, 0xCBF29CE484222325, dtype=np.uint64)
    p = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for j in range(b.shape[1]):
            h = (h ^ b[:, j].astype(np.uint64)) * p
    return h


def write_synth(lib, out, base_meta):
    x = synth_rows()
    bits = " ".join("%08x" % v for v in np.array(SYNTH_SCALES, dtype=np.float32).view(np.uint32))
    meta = base_meta + [("seed", "%x" % SYNTH_SEED), ("rows", str(SYNTH_ROWS)),
                        ("n_per_row", str(SYNTH_N)), ("scale_bits", bits),
                        ("input_hash", "%016x" % fnv1a64_rows(x.reshape(1, -1), 1)[0])]
    secs = []
    for stem, t in QUANT_TYPES + [("q8_k", Q8_K), ("f16", F16), ("bf16", BF16)]:
        q = ggml_q8_K_ref(lib, x.reshape(-1)) if t == Q8_K else ggml_quantize(lib, t, x)
        y = ggml_to_float(lib, t, q, x.size)
        secs.append((stem + "_q", fnv1a64_rows(q, SYNTH_ROWS)))
        secs.append((stem + "_dq", fnv1a64_rows(y, SYNTH_ROWS)))
        meta.append(("synth_type", "%s %d" % (stem, t)))
    write_qkg(os.path.join(out, "synth.qkg"), meta, secs)
    print("synth %d rows of %d, %d types" % (SYNTH_ROWS, SYNTH_N, len(secs) // 2))


# ---- the .qkg container ----

def write_qkg(path, meta, sections):
    """meta: list of (key, value) strings; sections: list of (name, ndarray)."""
    dt = {np.dtype(np.uint8): "u8", np.dtype(np.uint16): "u16",
          np.dtype(np.uint32): "u32", np.dtype(np.uint64): "u64",
          np.dtype(np.float32): "f32"}
    head = ["qkgold 1"]
    head += ["meta %s %s" % kv for kv in meta]
    for name, a in sections:
        head.append("data %s %s %d" % (name, dt[a.dtype], a.size))
    head.append("end")
    with open(path, "wb") as f:
        f.write(("\n".join(head) + "\n").encode())
        for _, a in sections:
            f.write(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "quant"))
    ap.add_argument("--bulk", type=int, default=0, metavar="ROWS")
    ap.add_argument("--large-only", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    lib, version, libpath = load_ggml()
    prov = [("generator", "testdata/gen/quant/gen_quant_golden.py"),
            ("llama_cpp_python", version),
            ("ggml_version", lib.ggml_version().decode()),
            ("ggml_commit", lib.ggml_commit().decode())]
    rng = np.random.default_rng(20250611)
    if args.large_only:
        import quant_large
        quant_large.write_large(lib, args.out, prov)
        return

    if args.bulk:
        n = 4096
        x = (rng.standard_normal((args.bulk, n)) * 0.02).astype(np.float32)
        out_mask = rng.random(x.shape) < 0.001
        x[out_mask] *= 20
        x[: args.bulk // 4] *= 50  # a quarter at a larger scale
        labels = ["bulk_%d" % i for i in range(args.bulk)]
    else:
        rows = build_rows(rng)
        x = np.stack([v for _, v in rows]).astype(np.float32)
        labels = [lab for lab, _ in rows]
        n = N_PER_ROW
    nrows = x.shape[0]
    base = prov + [("rows", str(nrows)), ("n_per_row", str(n))]

    write_qkg(os.path.join(args.out, "inputs.qkg"),
              base + [("row_label", "%d %s" % (i, lab)) for i, lab in enumerate(labels)],
              [("input", x.reshape(-1))])

    for stem, t in QUANT_TYPES + [("q8_k", Q8_K)]:
        if t == Q8_K:
            q = ggml_q8_K_ref(lib, np.ascontiguousarray(x.reshape(-1)))
        else:
            q = ggml_quantize(lib, t, x)
        y = ggml_to_float(lib, t, q, x.size)
        write_qkg(os.path.join(args.out, stem + ".qkg"),
                  base + [("type", lib.ggml_type_name(t).decode()), ("ggml_id", str(t))],
                  [("quant", q), ("dequant", y)])
        print("%-5s %6d blocks" % (stem, q.size // lib.ggml_type_size(t)))

    if not args.bulk:
        pats = fp32_patterns(rng, 16384)
        pf = pats.view(np.float32).reshape(1, -1)
        # widening: every half; every 7th bf16 pattern (bf16 widening is a
        # plain shift, so a sample through all exponents and NaNs will do)
        for stem, t, stride in (("f16", F16, 1), ("bf16", BF16, 7)):
            q = ggml_quantize(lib, t, x).view(np.uint16)
            qp = ggml_quantize(lib, t, pf).view(np.uint16)
            pats16 = np.arange(0, 65536, stride, dtype=np.uint32).astype(np.uint16)
            wide = ggml_to_float(lib, t, pats16, pats16.size)
            write_qkg(os.path.join(args.out, stem + ".qkg"),
                      base + [("type", lib.ggml_type_name(t).decode()), ("ggml_id", str(t)),
                              ("widen_stride", str(stride))],
                      [("quant", q), ("bits_in", pats), ("bits_out", qp), ("widen", wide)])
        write_synth(lib, args.out, prov)
        import quant_large
        quant_large.write_large(lib, args.out, prov)
        with open(os.path.join(args.out, "ggml_types.txt"), "w") as f:
            f.write("# id name blck_size type_size, from %s ggml %s (%s)\n" %
                    (os.path.basename(libpath), prov[2][1], prov[3][1]))
            for t in range(GGML_TYPE_COUNT):
                name = lib.ggml_type_name(t)
                if lib.ggml_blck_size(t) > 0:  # removed ids have block size 0
                    f.write("%d %s %d %d\n" % (t, name.decode(), lib.ggml_blck_size(t),
                                               lib.ggml_type_size(t)))
    print("wrote %s (%d rows of %d)" % (os.path.abspath(args.out), nrows, n))


if __name__ == "__main__":
    main()
