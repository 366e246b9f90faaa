#!/usr/bin/env python3
# venvs: .venv (re-executes itself with .venv/bin/python, from any python)
"""make crosscheck: qwen-convert on the pre-quantized fixtures against
llama.cpp's own converter (convert_hf_to_gguf.py as vendored in
llama-cpp-python 0.3.36), byte for byte.

For each fixture (qwen3_fp8, ...; testdata/gen/pq_fixtures.py) and each
--outtype (auto, f32, f16, bf16, q8_0), and for FP8 fixtures also
--fp8-as-q8 with --outtype bf16, both converters run on the checkpoint and
convert_oracle.py's comparison holds (the same key/values in the same
order, the same tensors with the same types, shapes and data bytes) and the
two files are identical as whole files (same size and SHA-256: tensor order,
offsets and padding included). llama.cpp's converter
dequantizes FP8 (weight x block scale, fp32), GPTQ and compressed-tensors
the way pq.h restates, so the bytes must agree; it refuses AWQ, which is
not compared here.

Needs .venv (torch, transformers: llama.cpp's converter runs there) and the
llama.cpp sources: --llama-cpp DIR, else $QK_LLAMA_CPP, else the vendored
copy of the pinned sdist at /tmp/vtext-sdist/llama_cpp_python-0.3.36/
vendor/llama.cpp (pip download --no-deps --no-binary :all:
llama-cpp-python==0.3.36 and unpack it there). Skipped (exit 0, with a
message) when either is absent; exit 1 on a difference.

With --truths, the size and SHA-256 of every llama.cpp file go to testdata/llamacpp/pq_convert.tsv,
which tests/cli/pq.sh holds qwen-convert's files to in make check (no
Python there); run it over all fixtures to rewrite the table.

usage: pq_crosscheck.py [--bin DIR] [--llama-cpp DIR] [--keep DIR] [--truths]
                        [FIXTURE...]
"""
import hashlib
import argparse
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
VENV = os.environ.get("QK_VENV", os.path.join(ROOT, ".venv"))
LLAMA_CPP = os.environ.get("QK_LLAMA_CPP",
                           "/tmp/vtext-sdist/llama_cpp_python-0.3.36/vendor/llama.cpp")
FIXTURES = ["qwen3_fp8", "qwen3_gptq", "qwen3_gptq2", "qwen3_ct", "qwen3_ct_fp8", "qwen3_ct_int8",
            "qwen3_5_fp8"]
FP8 = {"qwen3_fp8", "qwen3_ct_fp8", "qwen3_5_fp8"}
# Qwen3.5: llama.cpp's converter is told --no-mtp (the fixture has no MTP
# layer; qwen-convert drops MTP layers unless --keep-mtp). qwen3_5_fp8
# exercises in_proj_qkv's split and out_proj's column reordering on a
# pre-quantized storage (llama.cpp dequantizes first).
NO_MTP = {"qwen3_5_fp8"}
OUTTYPES = ["auto", "f32", "f16", "bf16", "q8_0"]


def ensure_venv():
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    py = os.path.join(VENV, "bin", "python")
    if not os.access(py, os.X_OK):
        print(f"pq_crosscheck: no fixture venv {VENV}, skipped")
        sys.exit(0)
    if os.environ.get("QK_PQ_REEXEC"):
        sys.exit(f"pq_crosscheck: {py} does not run as the venv {VENV}")
    os.environ["QK_PQ_REEXEC"] = "1"
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def main():
    ensure_venv()
    sys.path.insert(0, HERE)
    import convert_oracle as co  # its llama.cpp runner and comparison

    ap = argparse.ArgumentParser(description="pre-quantized fixtures vs llama.cpp's converter")
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--llama-cpp", default=LLAMA_CPP)
    ap.add_argument("--keep", default=None)
    ap.add_argument("--truths", action="store_true",
                    help="write testdata/llamacpp/pq_convert.tsv")
    ap.add_argument("fixtures", nargs="*")
    a = ap.parse_args()
    conv = os.path.abspath(os.path.join(a.bin, "qwen-convert"))
    if not os.path.isfile(os.path.join(a.llama_cpp, "convert_hf_to_gguf.py")):
        print(f"pq_crosscheck: no llama.cpp sources at {a.llama_cpp}, skipped")
        return 0
    if not os.access(conv, os.X_OK):
        sys.exit(f"pq_crosscheck: {conv}: not built (make)")
    gguf_py = os.path.join(a.llama_cpp, "gguf-py")
    fails = 0
    same = {}     # fixture -> [identical whole files, conversions]
    truths = []   # (fixture, outtype tag, size, sha256) of llama.cpp's files
    with tempfile.TemporaryDirectory(prefix="pq-crosscheck-") as tmp:
        work = a.keep or tmp
        os.makedirs(work, exist_ok=True)
        for fx in a.fixtures or FIXTURES:
            fxdir = os.path.join(ROOT, "testdata", "pq", fx)
            runs = [(ot, []) for ot in OUTTYPES]
            if fx in FP8:
                runs += [("bf16", ["--fp8-as-q8"]), ("f16", ["--fp8-as-q8"])]
            for ot, extra in runs:
                tag = ot + "".join(extra)
                ours = os.path.join(work, f"{fx}.{tag}.ours.gguf")
                theirs = os.path.join(work, f"{fx}.{tag}.llama.gguf")
                r = subprocess.run([conv, "-q", fxdir, "-o", ours, "--outtype", ot] + extra,
                                   capture_output=True, text=True)
                if r.returncode:
                    print(f"FAIL {fx} {tag}: qwen-convert exit {r.returncode}: {r.stderr.strip()}")
                    fails += 1
                    continue
                mine = co.load_gguf(ours, gguf_py)
                lt = ot
                if ot == "auto":
                    ft = dict((k, v) for k, _, v in mine[0]).get("general.file_type")
                    lt = co.AUTO_AS.get(ft, "auto")
                nomtp = ["--no-mtp"] if fx in NO_MTP else []
                r = subprocess.run([sys.executable, "-c", co.RUN_LLAMA, a.llama_cpp, fxdir,
                                    "--outfile", theirs, "--outtype", lt] + extra + nomtp,
                                   capture_output=True, text=True)
                if r.returncode:
                    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "?"
                    print(f"FAIL {fx} {tag}: llama.cpp's converter fails: {last}")
                    fails += 1
                    continue
                report = []
                ok = co.compare(fx, mine, co.load_gguf(theirs, gguf_py), report)
                (so, ho), (st, ht) = file_digest(ours), file_digest(theirs)
                whole = (so, ho) == (st, ht)
                if not whole:
                    report.append(f"  whole file: ours {so} bytes sha256 {ho[:16]}..., "
                                  f"llama.cpp's {st} bytes sha256 {ht[:16]}...")
                ok = ok and whole
                n = same.setdefault(fx, [0, 0])
                n[0] += whole
                n[1] += 1
                truths.append((fx, tag, st, ht))
                fails += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {fx} {tag}: ours vs llama.cpp "
                      f"--outtype {lt} {' '.join(extra)}"
                      + (" (whole file identical)" if whole else ""))
                for line in report:
                    print(line)
    for fx, (k, n) in same.items():
        print(f"pq_crosscheck: {fx}: {k} of {n} conversions whole-file identical")
    if a.truths:
        write_truths(truths)
    print(f"pq_crosscheck: {'all conversions identical' if not fails else f'{fails} FAILED'}")
    return 1 if fails else 0


def file_digest(path):
    with open(path, "rb") as f:
        data = f.read()
    return len(data), hashlib.sha256(data).hexdigest()


def write_truths(rows):
    """rows replace the table's rows of their fixtures; the others stay"""
    import importlib.metadata as md
    path = os.path.join(ROOT, "testdata", "llamacpp", "pq_convert.tsv")
    done = {r[0] for r in rows}
    if os.path.exists(path):
        old = [line.rstrip("\n").split("\t") for line in open(path)
               if line.startswith("file\t")]
        rows = [(f[1], f[2], f[3], f[4]) for f in old if f[1] not in done] + rows
        order = {fx: i for i, fx in enumerate(FIXTURES)}
        rows.sort(key=lambda r: order.get(r[0], len(order)))  # stable: outtypes stay
    with open(path, "w") as f:
        f.write("# made by testdata/gen/pq_crosscheck.py --truths from llama-cpp-python 0.3.36 "
                "(its vendored convert_hf_to_gguf.py and gguf-py), transformers "
                f"{md.version('transformers')}, torch {md.version('torch')}; "
                "see testdata/llamacpp/README.md\n")
        f.write("# file\tfixture (testdata/pq)\tqwen-convert's outtype (--fp8-as-q8 appended)"
                "\tsize\tsha256 of llama.cpp's file\n")
        for fx, tag, size, sha in rows:
            f.write(f"file\t{fx}\t{tag}\t{size}\t{sha}\n")
    print(f"pq_crosscheck: wrote {path} ({len(rows)} files)")


if __name__ == "__main__":
    sys.exit(main())
