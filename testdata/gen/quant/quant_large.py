"""large.qkg: llama.cpp's quantizers at scale, as per-row hashes.

Imported by gen_quant_golden.py (which loads libggml and calls write_large).
large.qkg holds only per-row FNV-1a-64 hashes of ggml's quantized bytes
(ggml_quantize_chunk, no importance matrix); tests/unit/test_quant_large.c
rebuilds every input from the integer-only recipes below (the same code in
tests/unit/qkg.c and qkg_recipes.c), so nothing but hashes is committed.

Every set has rows of LARGE_N = 65536 values (256 super-blocks, 2048
32-blocks); row r of a set holds the set's values r*LARGE_N .. (r+1)*LARGE_N-1.

  rand  4096 rows: the synth recipe (gen_quant_golden.synth_rows) with
        LARGE_SEED, row r scaled by SYNTH_SCALES[r % 8]. k-quants: all 4096
        rows, 1,048,576 super-blocks each; legacy types: the first 512 rows,
        1,048,576 blocks each.
  tie   64 rows (16,384 super-blocks): the near-tie recipe (tie_values): groups
        exactly on integer grids whose scales stand in half-integer ratios
        to the super-block's largest, so the scale roundings and the
        searches' error comparisons meet exact or one-ulp ties.
  edge  64 rows (16,384 super-blocks): the edge recipe (edge_values): zeros,
        all-equal groups and super-blocks, single outliers among zeros,
        few repeated values, small integer grids, exact halves at each legacy
        type's rounding boundary, tiny values (subnormals; a group maximum
        at 1e-15f, the "all zero" threshold, and one ulp either side), huge
        values (fp16's 65504/65520, up to 2^127), +c/-c magnitude ties, and
        super-blocks whose odd groups are the exact negation of the even
        ones (sub-block scales equal in magnitude, opposite in sign).
  f16   32 rows: fp16 bit patterns (half_bits), widened by ggml's fp16
        to_float, then quantized: what llama-quantize does with an F16
        model. Narrow exponent ranges per super-block, and super-blocks of
        only 16 distinct mantissas (many repeated values).
  bf16  32 rows: the same with bfloat16 patterns.

All sets go through every type of QUANT_TYPES.
"""
import os

import numpy as np

import gen_quant_golden as G

LARGE_SEED = 0x6C61726765      # "large"
TIE_SEED = 0x7469657321        # "ties!"
EDGE_SEED = 0x6564676573       # "edges"
HALF_SEED = 0x68616C66         # "half"
LARGE_N = 65536
SETS = [  # (name, rows, rows for the legacy types)
    ("rand", 4096, 512), ("tie", 64, 64), ("edge", 64, 64), ("f16", 32, 32), ("bf16", 32, 32),
]
TIE_DEN = [30, 64, 126, 254, 256]
LEGACY = {2, 3, 6, 7, 8}
U = np.uint64


def sm(seed, k):
    with np.errstate(over="ignore"):
        return G.splitmix64(k.astype(np.uint64), seed)


def tie_values(first, count):
    """Values first..first+count-1 of the near-tie recipe:
    per super-block b, z = splitmix64(TIE_SEED, 3b): B = 1 + z % 6,
      D = TIE_DEN[(z >> 8) % 5], e = (z >> 16) % 17 - 12, pair = bit 24,
      neg = bit 25, f = (z >> 26) % 5 - 2, h = bit 29;
    per group k (16 values; 32 when pair: k = g >> 1), y = splitmix64(TIE_SEED,
      3k + 1): first group of the super-block n = o = D, else
      n = 1 + 2 (y % (D/2)), o = 1 + 2 ((y >> 16) % (D/2));
    per value i, q = splitmix64(TIE_SEED, 3i + 2) % 2^B, except the first two
      values of a group (0 and 2^B - 1);
    x = ldexp(float(8 n q + 4 n h - o 2^(f+3)), e - 3), negated when neg
      (every step exact in float32). D is 2 x the scale levels of Q2_K (15),
    Q3_K (32), Q4_K/Q5_K (63), Q6_K (127, 128)."""
    with np.errstate(over="ignore"):
        i = np.arange(first, first + count, dtype=np.uint64)
        b, g, p = i // U(256), i // U(16), i % U(16)
        zb = sm(TIE_SEED, U(3) * b)
        qmax = (np.int64(1) << (np.int64(1) + (zb % U(6)).astype(np.int64))) - 1
        den = np.array(TIE_DEN, dtype=np.int64)[((zb >> U(8)) % U(5)).astype(np.int64)]
        e = ((zb >> U(16)) % U(17)).astype(np.int64) - 12
        pair = ((zb >> U(24)) & U(1)).astype(bool)
        neg = ((zb >> U(25)) & U(1)).astype(bool)
        f = ((zb >> U(26)) % U(5)).astype(np.int64) - 2
        h = ((zb >> U(29)) & U(1)).astype(np.int64)
        k = np.where(pair, g >> U(1), g)
        lk = np.where(pair, k % U(8), k % U(16))
        zg = sm(TIE_SEED, U(3) * k + U(1))
        half = (den // 2).astype(np.uint64)
        n = np.where(lk == 0, den, 1 + 2 * (zg % half).astype(np.int64))
        o = np.where(lk == 0, den, 1 + 2 * ((zg >> U(16)) % half).astype(np.int64))
        ze = sm(TIE_SEED, U(3) * i + U(2))
        q = (ze % (qmax + 1).astype(np.uint64)).astype(np.int64)
        lead = ~(pair & ((g & U(1)) == 1))
        q = np.where(lead & (p == 0), 0, q)
        q = np.where(lead & (p == 1), qmax, q)
        v = 8 * n * q + 4 * n * h - o * (np.int64(1) << (f + 3))
    x = np.ldexp(v.astype(np.float32), (e - 3).astype(np.int32)).astype(np.float32)
    return np.where(neg, -x, x).astype(np.float32)


# ---- the edge recipe ----
#
# Value i (of the whole set): b = i >> 8 (super-block), g = i >> 4 (group of
# 16), p = i & 15, and zb = sm(EDGE_SEED, 4b), zq = sm(EDGE_SEED, 4 (i >> 5) + 3)
# (its 32-block). mode = zb & 3:
#   0  uniform: the whole super-block takes one kind and one parameter word
#      z = zb, and one exponent E;
#   1  mirror: groups take their own kinds (z = zg of the group), and an odd
#      group is the exact negation of the even group before it (computed
#      for i - 16, then negated);
#   2, 3  groups take their own kinds, z = zg = sm(EDGE_SEED, 4g + 1).
# kind = (z >> 8) % 10, neg = bit 24 of z, r = z >> 32, u = sm(EDGE_SEED, 4i + 2)
# (of the source value), E = (zb >> 16) % 48 - 24, e = E in mode 0, else
# E + zq % 5 - 2. The value is ldexp(float(m), e), negated when neg, with m:
#   0 zero     0
#   1 const    1 + r % 255
#   2 outlier  p == r % 16: 2^16 + u % 2^16; else 0 when bit 8 of r, else u % 3 - 1
#   3 repeat   (u % 3 - 1) (1 + r % 64)
#   4 grid     u % 2^B - 2^(B-1), B = 1 + r % 8
#   5 halves   legacy rounding ties, L = r % 5 (table HALVES: anchor A, count R,
#              offset O, has_min): p == 0: A; p == 1 and has_min: 0; else
#              2 (u % R) + O; at exponent e - 1 (odd m: exact halves)
#   6 tiny     bit 0 of r: m = u % 1024 at exponent -149 + (r >> 1) % 32;
#              else p == 0: the float with bits 0x26901d7d (1e-15f) plus
#              (r >> 1) % 3 - 1, others u % 2^20 at exponent -70
#   7 huge     s = r % 3: 0: 4080 + u % 16 at exponent 4 (fp16's 65280..65520);
#              1: 4095 - u % 4 at exponent 4 + (r >> 2) % 8;
#              2: 2^23 + u % 2^23 at exponent 80 + (r >> 2) % 24
#   8 signtie  +c or -c (bit 0 of u), c = 1 + r % 128; 0 when (u >> 1) % 4 == 0
#   9 wide     u % 2^20 - 2^19
# Every value is exact in float32 (|m| < 2^24, exponents >= -149).
EDGE_KINDS = 10
HALVES = [  # (A, R, O, has_min): Q4_0, Q5_0, Q8_0, Q4_1, Q5_1
    (-16, 16, -15, 0), (-32, 32, -31, 0), (254, 254, -253, 0), (30, 15, 1, 1), (62, 31, 1, 1),
]
EPS_BITS = 0x26901D7D


def edge_values(first, count):
    """Values first..first+count-1 of the edge recipe (comment above)."""
    i = np.arange(first, first + count, dtype=np.uint64)
    zb = sm(EDGE_SEED, U(4) * (i >> U(8)))
    mode = (zb & U(3)).astype(np.int64)
    mirror = (mode == 1) & (((i >> U(4)) & U(1)) == 1)
    s = np.where(mirror, i - U(16), i)          # the source value
    g = s >> U(4)
    p = (s & U(15)).astype(np.int64)
    zg = sm(EDGE_SEED, U(4) * g + U(1))
    zq = sm(EDGE_SEED, U(4) * (s >> U(5)) + U(3))
    z = np.where(mode == 0, zb, zg)
    kind = ((z >> U(8)) % U(EDGE_KINDS)).astype(np.int64)
    neg = ((z >> U(24)) & U(1)).astype(bool) ^ mirror
    r = (z >> U(32)).astype(np.int64)
    u = sm(EDGE_SEED, U(4) * s + U(2))
    big_e = ((zb >> U(16)) % U(48)).astype(np.int64) - 24
    e = np.where(mode == 0, big_e, big_e + (zq % U(5)).astype(np.int64) - 2)

    def um(k):  # u % k as int64
        return (u % U(k)).astype(np.int64)

    m = np.zeros(i.size, dtype=np.int64)
    ex = e.copy()
    m = np.where(kind == 1, 1 + r % 255, m)
    out = np.where(p == r % 16, (1 << 16) + um(1 << 16),
                   np.where((r >> 8) & 1 == 1, 0, um(3) - 1))
    m = np.where(kind == 2, out, m)
    m = np.where(kind == 3, (um(3) - 1) * (1 + r % 64), m)
    bb = 1 + r % 8
    m = np.where(kind == 4, (u % (U(1) << bb.astype(np.uint64))).astype(np.int64) - (np.int64(1) << (bb - 1)), m)
    tab = np.array(HALVES, dtype=np.int64)[r % 5]
    hv = 2 * (u % tab[:, 1].astype(np.uint64)).astype(np.int64) + tab[:, 2]
    hv = np.where(p == 0, tab[:, 0], np.where((p == 1) & (tab[:, 3] == 1), 0, hv))
    m = np.where(kind == 5, hv, m)
    ex = np.where(kind == 5, e - 1, ex)
    sub = (r & 1) == 1
    m = np.where((kind == 6) & sub, um(1024), m)
    ex = np.where((kind == 6) & sub, -149 + (r >> 1) % 32, ex)
    m = np.where((kind == 6) & ~sub, um(1 << 20), m)
    ex = np.where((kind == 6) & ~sub, -70, ex)
    hs = r % 3
    m = np.where((kind == 7) & (hs == 0), 4080 + um(16), m)
    ex = np.where((kind == 7) & (hs == 0), 4, ex)
    m = np.where((kind == 7) & (hs == 1), 4095 - um(4), m)
    ex = np.where((kind == 7) & (hs == 1), 4 + (r >> 2) % 8, ex)
    m = np.where((kind == 7) & (hs == 2), (1 << 23) + um(1 << 23), m)
    ex = np.where((kind == 7) & (hs == 2), 80 + (r >> 2) % 24, ex)
    c = 1 + r % 128
    st = np.where((u & U(1)) == 1, c, -c) * ((u >> U(1)) % U(4) != 0)
    m = np.where(kind == 8, st, m)
    m = np.where(kind == 9, um(1 << 20) - (1 << 19), m)
    x = np.ldexp(m.astype(np.float32), ex.astype(np.int32)).astype(np.float32)
    eps = (np.full(i.size, EPS_BITS, dtype=np.int64) + (r >> 1) % 3 - 1).astype(np.uint32)
    x = np.where((kind == 6) & ~sub & (p == 0), eps.view(np.float32), x)
    return np.where(neg, -x, x).astype(np.float32)


# ---- fp16 / bf16 inputs ----
#
# Value i: zb = sm(HALF_SEED, 2 (i >> 8)), u = sm(HALF_SEED, 2i + 1);
# sign = bit 20 of u; few = bit 8 of zb (mantissa from 4 bits of u only).
#   f16:  exponent field (zb % 27) + u % 5 (0..30: subnormals, no inf/NaN);
#         mantissa (u >> 8) & 0x3ff, or ((u >> 8) & 0xf) << 6 when few
#   bf16: exponent field (zb % 250) + u % 5 (0..253), mantissa (u >> 8) & 0x7f,
#         or ((u >> 8) & 0xf) << 3 when few
# The test widens them with quant/fp16.h, the generator with ggml's to_float.

def half_bits(kind, first, count):
    """16-bit patterns first..first+count-1 (kind 'f16' or 'bf16')."""
    i = np.arange(first, first + count, dtype=np.uint64)
    zb = sm(HALF_SEED, U(2) * (i >> U(8)))
    u = sm(HALF_SEED, U(2) * i + U(1))
    sign = (u >> U(20)) & U(1)
    few = ((zb >> U(8)) & U(1)) == 1
    if kind == "f16":
        ex = zb % U(27) + u % U(5)
        man = np.where(few, ((u >> U(8)) & U(0xF)) << U(6), (u >> U(8)) & U(0x3FF))
        bits = (sign << U(15)) | (ex << U(10)) | man
    else:
        ex = zb % U(250) + u % U(5)
        man = np.where(few, ((u >> U(8)) & U(0xF)) << U(3), (u >> U(8)) & U(0x7F))
        bits = (sign << U(15)) | (ex << U(7)) | man
    return bits.astype(np.uint16)


def set_rows(lib, name, first, count):
    """Rows first..first+count-1 of a set, as f32 [count, LARGE_N]."""
    a, n = first * LARGE_N, count * LARGE_N
    if name == "rand":
        return G.synth_rows(LARGE_SEED, first, count, LARGE_N)
    if name == "tie":
        x = tie_values(a, n)
    elif name == "edge":
        x = edge_values(a, n)
    else:
        t = G.F16 if name == "f16" else G.BF16
        x = G.ggml_to_float(lib, t, half_bits(name, a, n), n)
    return x.reshape(count, LARGE_N)


def write_large(lib, out, base_meta):
    bits = " ".join("%08x" % v for v in np.array(G.SYNTH_SCALES, dtype=np.float32).view(np.uint32))
    meta = base_meta + [("seed", "%x" % LARGE_SEED), ("tie_seed", "%x" % TIE_SEED),
                        ("edge_seed", "%x" % EDGE_SEED), ("half_seed", "%x" % HALF_SEED),
                        ("n_per_row", str(LARGE_N)), ("scale_bits", bits)]
    for name, rows, rows_legacy in SETS:
        meta.append(("large_set", "%s %d %d" % (name, rows, rows_legacy)))
    for stem, t in G.QUANT_TYPES:
        meta.append(("large_type", "%s %d" % (stem, t)))
    secs = []
    for name, rows, rows_legacy in SETS:
        hashes = {t: [] for _, t in G.QUANT_TYPES}
        chunk = 64
        for r0 in range(0, rows, chunk):
            cnt = min(chunk, rows - r0)
            x = np.ascontiguousarray(set_rows(lib, name, r0, cnt))
            if r0 == 0:  # the recipes are checked before the quantizers
                meta.append(("row0_hash", "%s %016x" % (name, G.fnv1a64_rows(x[:1], 1)[0])))
            for _, t in G.QUANT_TYPES:
                if t not in LEGACY or r0 < rows_legacy:
                    hashes[t].append(G.fnv1a64_rows(G.ggml_quantize(lib, t, x), cnt))
        for stem, t in G.QUANT_TYPES:
            h = np.concatenate(hashes[t])
            assert h.size == (rows_legacy if t in LEGACY else rows)
            secs.append(("%s_%s" % (stem, name), h))
        print("large: %s, %d rows of %d" % (name, rows, LARGE_N), flush=True)
    G.write_qkg(os.path.join(out, "large.qkg"), meta, secs)
