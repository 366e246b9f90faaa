#!/usr/bin/env python3
"""Expected `qwen-inspect --kv` lines: gguf-py's own gguf-dump on committed GGUF files.

Writes testdata/inspect/<name>.kvdump: the key/value lines gguf-dump prints
(`--no-tensors`), for GGUF files other tools wrote (gguf-py's writer, and
llama.cpp's convert_hf_to_gguf.py tokenizer files in testdata/tokenizer/).
tests/cli/inspect_files.sh compares qwen-inspect's --kv lines with them.

Run with the venv that has gguf 0.19.0 (testdata/quant/README.md):
    .venv-ggml/bin/python testdata/gen/inspect_kv_oracle.py
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INPUTS = [
    "testdata/tokenizer/qwen1.gguf",
    "testdata/tokenizer/qwen2_5_yarn.gguf",
    "testdata/tokenizer/qwen3_moe.gguf",
    "testdata/tokenizer/qwen2.gguf",
    "testdata/tokenizer/qwen3_next.gguf",
    "testdata/inspect/repr_cases.gguf",
]


def write_repr_cases(path):
    """Values whose printing has rules: quotes, escapes, cuts, float forms."""
    import numpy as np
    from gguf import GGUFWriter
    w = GGUFWriter(path, "qwen2")
    strings = ["it's", 'say "hi"', "both ' and \"", "tab\tnl\nret\r", "\x01\x1f\x7f",
               "nbsp\u00a0soft\u00adzw\u200bls\u2028", "\u4e2d\u6587 \U0001f600",
               "x" * 60, "y" * 61, "'" * 58 + '"' * 3, "\u00e9" * 70, "back\\slash", ""]
    for i, s in enumerate(strings):
        w.add_string("s.%02d" % i, s)
    floats = [1e-5, 0.0001, 1e16, 1234567890123456.0, 0.1, 100.0, -0.0, float("inf"),
              float("nan"), 1e-300, 123456789.125, 5e-324, -2.5e-7]
    for i, v in enumerate(floats):
        w.add_float64("d.%02d" % i, v)
        w.add_float32("f.%02d" % i, v if abs(v) < 3e38 or v != v or v in (float("inf"),) else 0.0)
    w.add_uint8("i.u8", 200)
    w.add_int8("i.i8", -100)
    w.add_uint16("i.u16", 60000)
    w.add_int16("i.i16", -30000)
    w.add_uint32("i.u32", 4000000000)
    w.add_int32("i.i32", -2000000000)
    w.add_uint64("i.u64", 18000000000000000000)
    w.add_int64("i.i64", -9000000000000000000)
    w.add_bool("i.bool", False)
    w.add_array("a.f32", [0.1, 0.2, 0.3, 1e-8, 65504.0, 3.4e38, 7.0])
    w.add_array("a.str", ["a'b", 'c"d', "\n", "\u00a0", "e", "f", "g"])
    w.add_array("a.bool", [True, False])
    w.add_array("a.empty", [])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()
LINE = re.compile(r"^ +[0-9]+: ")


def main():
    dump = os.path.join(os.path.dirname(sys.executable), "gguf-dump")
    out_dir = os.path.join(ROOT, "testdata", "inspect")
    os.makedirs(out_dir, exist_ok=True)
    import gguf
    write_repr_cases(os.path.join(out_dir, "repr_cases.gguf"))
    for rel in INPUTS:
        res = subprocess.run([dump, "--no-tensors", os.path.join(ROOT, rel)],
                             capture_output=True, text=True, check=True)
        lines = [l for l in res.stdout.splitlines() if LINE.match(l)]
        name = os.path.basename(rel).replace(".gguf", ".kvdump")
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write("# gguf-dump --no-tensors %s (gguf %s)\n" % (rel, gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0"))
            for l in lines:
                f.write(l + "\n")
        print(name, len(lines))


if __name__ == "__main__":
    main()
