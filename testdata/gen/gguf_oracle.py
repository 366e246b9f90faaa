#!/usr/bin/env python3
"""Cross-check formats/gguf*.c against gguf-py, llama.cpp's own Python package.

One value spec (SPEC_KV, SPEC_TENSORS below) is mirrored in
tests/unit/test_gguf.c. Each side checks the other's writer against it:

  write DIR   gguf-py's GGUFWriter writes the spec as DIR/gguf_py_types.gguf
              (alignment 32) and DIR/gguf_py_align64.gguf (general.alignment
              = 64); tests/unit/test_gguf.c reads them (testdata/gguf/).
  check FILE...   gguf-py's GGUFReader parses files our writer produced
              (QK_WRITE_CORPUS=DIR build/tests/test_gguf writes
              DIR/spec_types.gguf and DIR/spec_align64.gguf) and every key,
              type, value, tensor type, shape, offset and data byte is
              compared with the spec.

Needs: python3 -m venv /tmp/venv-gguf && /tmp/venv-gguf/bin/pip install gguf numpy
(checked with gguf 0.19.0, numpy 2.4). Not run by make check.
"""
import math
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader, GGUFValueType as V, GGUFWriter

# (key, type, value); the first key is what GGUFWriter(arch=...) adds.
SPEC_KV = [
    ("general.architecture", V.STRING, "qwen2"),
    ("t.u8", V.UINT8, 200),
    ("t.i8", V.INT8, -100),
    ("t.u16", V.UINT16, 60000),
    ("t.i16", V.INT16, -30000),
    ("t.u32", V.UINT32, 4000000000),
    ("t.i32", V.INT32, -2000000000),
    ("t.f32", V.FLOAT32, 1.5),
    ("t.bool", V.BOOL, True),
    ("t.str", V.STRING, "h\u00e9llo w\u00f6rld"),
    ("t.u64", V.UINT64, 18000000000000000000),
    ("t.i64", V.INT64, -9000000000000000000),
    ("t.f64", V.FLOAT64, -2.25e300),
    ("t.arr.u8", (V.ARRAY, V.UINT8), [0, 1, 255]),
    ("t.arr.i8", (V.ARRAY, V.INT8), [-128, 0, 127]),
    ("t.arr.u16", (V.ARRAY, V.UINT16), [0, 65535]),
    ("t.arr.i16", (V.ARRAY, V.INT16), [-32768, 32767]),
    ("t.arr.u32", (V.ARRAY, V.UINT32), [0, 4294967295, 7]),
    ("t.arr.i32", (V.ARRAY, V.INT32), [-2147483648, 2147483647]),
    ("t.arr.f32", (V.ARRAY, V.FLOAT32), [0.5, -1.25, 3e38]),
    ("t.arr.bool", (V.ARRAY, V.BOOL), [True, False, True]),
    ("t.arr.str", (V.ARRAY, V.STRING), ["a", "", "\u00fcn\u00ef", "<|im_start|>"]),
    ("t.arr.u64", (V.ARRAY, V.UINT64), [0, 18446744073709551615]),
    ("t.arr.i64", (V.ARRAY, V.INT64), [-9223372036854775808, 9223372036854775807]),
    ("t.arr.f64", (V.ARRAY, V.FLOAT64), [1e-300, -0.0]),
]

# (name, ggml type, numpy shape = rows..., bytes per row); data byte j of
# tensor k is (7*j + 13*k + 3) & 0xff. Block sizes (elements, bytes): F32
# (1, 4), F16/BF16 (1, 2), Q8_0 (32, 34), Q4_K (256, 144).
SPEC_TENSORS = [
    ("tok_embd.weight", Q.F32, (3, 64), 64 * 4),
    ("blk.0.attn_q.weight", Q.F16, (2, 32), 32 * 2),
    ("output_norm.weight", Q.BF16, (16,), 16 * 2),
    ("blk.0.ffn_up.weight", Q.Q8_0, (2, 64), 2 * 34),
    ("blk.0.ffn_down.weight", Q.Q4_K, (1, 512), 2 * 144),
]


def tensor_bytes(k, n):
    return bytes((7 * j + 13 * k + 3) & 0xFF for j in range(n))


def write(outdir):
    for name, align in (("gguf_py_types.gguf", None), ("gguf_py_align64.gguf", 64)):
        w = GGUFWriter(f"{outdir}/{name}", arch="qwen2")
        if align:
            w.add_custom_alignment(align)
        for key, typ, val in SPEC_KV[1:]:
            if isinstance(typ, tuple):
                w.add_key_value(key, val, typ[0], sub_type=typ[1])
            else:
                w.add_key_value(key, val, typ)
        for k, (tname, qt, shape, row_bytes) in enumerate(SPEC_TENSORS):
            rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            raw = np.frombuffer(tensor_bytes(k, rows * row_bytes), dtype=np.uint8)
            raw = raw.reshape(tuple(shape[:-1]) + (row_bytes,))
            w.add_tensor(tname, raw, raw_dtype=qt)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        print(f"wrote {outdir}/{name}")


def same(a, b, typ):
    if typ in (V.FLOAT32,):
        return struct.pack("<f", a) == struct.pack("<f", b)
    if typ in (V.FLOAT64,):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    return a == b


def check(path):
    r = GGUFReader(path)
    errors = []
    fields = [f for f in r.fields.values() if not f.name.startswith("GGUF.")]
    want_keys = [k for k, _, _ in SPEC_KV]
    align = None
    if fields and fields[1].name == "general.alignment":
        align = fields[1].contents()
        fields = fields[:1] + fields[2:]
    if [f.name for f in fields] != want_keys:
        errors.append(f"keys {[f.name for f in fields]} != {want_keys}")
    for f, (key, typ, val) in zip(fields, SPEC_KV):
        types = tuple(f.types) if isinstance(typ, tuple) else f.types[0]
        if types != typ:
            errors.append(f"{key}: type {f.types} != {typ}")
            continue
        got = f.contents()
        elem = typ[1] if isinstance(typ, tuple) else typ
        if isinstance(val, list):
            ok = len(got) == len(val) and all(same(a, b, elem) for a, b in zip(got, val))
        else:
            ok = same(got, val, elem)
        if not ok:
            errors.append(f"{key}: {got!r} != {val!r}")
    alignment = align or 32
    if r.alignment != alignment:
        errors.append(f"alignment {r.alignment} != {alignment}")
    if len(r.tensors) != len(SPEC_TENSORS):
        errors.append(f"{len(r.tensors)} tensors, expected {len(SPEC_TENSORS)}")
    offset = 0
    for k, (t, (name, qt, shape, row_bytes)) in enumerate(zip(r.tensors, SPEC_TENSORS)):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        n = rows * row_bytes
        ne = list(reversed(shape))
        if t.name != name or t.tensor_type != qt or list(map(int, t.shape)) != ne:
            errors.append(f"tensor {k}: {t.name} {t.tensor_type!r} {list(t.shape)} != "
                          f"{name} {qt!r} {ne}")
        if t.n_bytes != n:
            errors.append(f"tensor {name}: {t.n_bytes} bytes, expected {n}")
        if t.data_offset - r.data_offset != offset:
            errors.append(f"tensor {name}: offset {t.data_offset - r.data_offset}, expected {offset}")
        if bytes(np.asarray(t.data).tobytes()) != tensor_bytes(k, n):
            errors.append(f"tensor {name}: data differs")
        offset += (n + alignment - 1) // alignment * alignment
    if r.data_offset % alignment:
        errors.append(f"data section at {r.data_offset}, not aligned to {alignment}")
    size = len(r.data)
    if size != r.data_offset + offset:
        errors.append(f"file is {size} bytes, expected {r.data_offset + offset}")
    for e in errors:
        print(f"{path}: {e}")
    print(f"{path}: {'FAIL' if errors else 'ok'} ({len(fields)} keys, {len(r.tensors)} tensors,"
          f" alignment {alignment})")
    return not errors


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "write":
        write(sys.argv[2])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        return 0 if all([check(p) for p in sys.argv[2:]]) else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
