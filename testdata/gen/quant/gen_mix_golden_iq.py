#!/usr/bin/env python3
"""llama-quantize's per-tensor types for the i-quant mixes, with and without
an importance matrix: testdata/quant/mix_golden_iq.tsv.gz (gzip: the
repeated type names compress 38 to 1).

Runs llama.cpp's own llama_model_quantize (llama-cpp-python 0.3.36, one
thread) on the synthetic models of gen_mix_golden.py (same models, same
tensors; their "model"/"t"/"order" lines live in mix_golden.tsv, so this
file holds only "q" and "fail" lines in that file's format) for the mixes
IQ1_S ... IQ4_XS, Q2_K_S, TQ1_0, TQ2_0 and MXFP4_MOE:

  - without an importance matrix (options "-"): the mixes that need one for
    some tensor are refused by llama.cpp ("fail" lines);
  - with one (options "imatrix"), for the mixes whose types depend on it or
    that need one: every tensor of two or more dimensions gets an entry of
    ne0 * ne2 ones (what llama-quantize looks up by tensor name).

The types come from llama-quantize's --dry-run (dry_run = true), which
decides every tensor's type exactly as a real run and logs it per tensor
without quantizing: this script reads them from that log (a real run of the
same models takes tens of minutes). A refusal is taken from a real run,
which fails before quantizing anything. general.file_type is the ftype
llama-quantize was given, which is what it writes.

  .venv-ggml/bin/python testdata/gen/quant/gen_mix_golden_iq.py

Deterministic: a second run writes the same file.
"""
import argparse
import ctypes
import gzip
import importlib.metadata
import os
import re
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_mix_golden as gm  # noqa: E402

llama_cpp = gm.llama_cpp

MIXES = [
    ("IQ2_XXS", 19), ("IQ2_XS", 20), ("Q2_K_S", 21), ("IQ3_XS", 22), ("IQ3_XXS", 23),
    ("IQ1_S", 24), ("IQ4_NL", 25), ("IQ3_S", 26), ("IQ3_M", 27), ("IQ2_S", 28),
    ("IQ2_M", 29), ("IQ4_XS", 30), ("IQ1_M", 31), ("TQ1_0", 36), ("TQ2_0", 37),
    ("MXFP4_MOE", 38),
]
# the mixes also run with an importance matrix: those that need one somewhere
# or whose rules read has_imatrix (IQ3_S, IQ3_M, TQ*, MXFP4_MOE do not)
WITH_IMATRIX = {"IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
                "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M"}
# the 80-layer model only where its 70B attn_v rule can act (standard family)
SKIP_80L = {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M", "TQ1_0", "TQ2_0",
            "MXFP4_MOE"}
IMD = llama_cpp.llama_model_imatrix_data


def imatrix_for(ts):
    """ones for every tensor of 2+ dimensions; returns (array, keepalive)"""
    ents = [(n, ne) for n, ne in ts if len(ne) >= 2]
    arr = (IMD * (len(ents) + 1))()
    keep = []
    for i, (n, ne) in enumerate(ents):
        w = np.ones(ne[0] * (ne[2] if len(ne) > 2 else 1), dtype=np.float32)
        name = ctypes.create_string_buffer(n.encode())
        keep += [w, name]
        arr[i].name = ctypes.cast(name, ctypes.c_char_p)
        arr[i].data = w.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        arr[i].size = w.size
    arr[len(ents)].name = None
    return arr, keep


LOG = []
LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(
    lambda level, text, ud: LOG.append(text.decode("utf-8", "replace")))
# one tensor of llama-quantize's log: "[   i/   n] NAME - [SHAPE], type = T, "
# then "size = A MiB -> B MiB (NEW)" (quantized) or "size = A MiB" (kept)
TENSOR_RE = re.compile(r"\[\s*\d+/\s*\d+\] (\S.*?)\s+- \[[^\]]*\], type =\s*(\S+), "
                       r"size =\s*[0-9.]+ MiB(?: ->\s*[0-9.]+ MiB \((\S+)\))?")


def quantize(src, dst, ftype, imx, dry):
    """llama_model_quantize; with dry, llama.cpp decides every type and
    logs it without quantizing (--dry-run): returns (rc, [(name, TYPE)])"""
    p = llama_cpp.llama_model_quantize_default_params()
    p.nthread = 1
    p.ftype = ftype
    p.dry_run = dry
    if imx is not None:
        p.imatrix = ctypes.cast(imx, ctypes.POINTER(IMD))
    del LOG[:]
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    got = [(m.group(1), (m.group(3) or m.group(2)).upper())
           for m in TENSOR_RE.finditer("".join(LOG))]
    return rc, got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    ap.add_argument("--out", default=os.path.join(root, "testdata", "quant",
                                                  "mix_golden_iq.tsv.gz"))
    args = ap.parse_args()
    llama_cpp.llama_log_set(LOG_CB, None)
    llama_cpp.llama_backend_init()
    lines = ["# made by testdata/gen/quant/gen_mix_golden_iq.py with llama-cpp-python %s "
             "(vendored llama.cpp), gguf %s; models in mix_golden.tsv; see "
             "testdata/quant/README.md" % (importlib.metadata.version("llama_cpp_python"),
                                           importlib.metadata.version("gguf"))]
    with tempfile.TemporaryDirectory() as tmp:
        for s in gm.MODELS:
            src = os.path.join(tmp, s["name"] + ".gguf")
            gm.write_model(s, src)
            ts = gm.tensors(s)
            imx, keep = imatrix_for(ts)
            # llama-quantize's output order, from one real (fast) run
            dst = os.path.join(tmp, "out.gguf")
            if gm.quantize(src, dst, 7, {}, [])[0] == 0:
                order = [n for n, _ in gm.read_back(dst)[1]]
                os.unlink(dst)
            else:  # moe_nolayer, moe_badlayer: no order on record to check against
                continue
            runs = [(m, ft, None) for m, ft in MIXES]
            runs += [(m, ft, imx) for m, ft in MIXES if m in WITH_IMATRIX]
            for mix, ftype, im in runs:
                if s["n_layer"] == 80 and mix in SKIP_80L:
                    continue
                label = "-" if im is None else "imatrix"
                dst = os.path.join(tmp, "out.gguf")
                # a refusal (a tensor that needs an imatrix, a bad layer)
                # happens before any quantizing: try for real first, at no
                # cost; then the types from a dry run
                if im is None and mix in WITH_IMATRIX:
                    if quantize(src, dst, ftype, im, False)[0] != 0:
                        lines.append(gm.tab("fail", s["name"], mix, label))
                        continue
                    os.unlink(dst)
                rc, got = quantize(src, dst, ftype, im, True)
                if rc != 0:
                    lines.append(gm.tab("fail", s["name"], mix, label))
                    continue
                if [n for n, _ in got] != order:
                    sys.exit("%s %s: llama.cpp's log lists %d tensors, not the model's %d"
                             % (s["name"], mix, len(got), len(order)))
                # general.file_type: llama-quantize writes the ftype it was given
                lines.append(gm.tab("q", s["name"], mix, ftype, label, *(t for _, t in got)))
            del keep
            print(s["name"], file=sys.stderr, flush=True)
    # gzip without a name or time stamp: the same bytes every run
    with open(args.out, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
            f.write(("\n".join(lines) + "\n").encode())
    print("wrote %s (%d lines)" % (args.out, len(lines) - 1), file=sys.stderr)


if __name__ == "__main__":
    main()
