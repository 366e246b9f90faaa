#!/usr/bin/env python3
"""Record what llama.cpp decides for every fixture, for make check.

make check cannot run llama.cpp (no Python, no venv), yet it must notice
when qwen-convert or qwen-quant stop writing what llama.cpp writes. This
script runs llama.cpp once per fixture and writes its decisions, compactly,
to testdata/llamacpp/ (format in testdata/llamacpp/README.md); the test
tests/unit/test_llamacpp_truths.c holds bin/qwen-convert and bin/qwen-quant
to them. Nothing here comes from qwenkit: the inputs are the fixtures'
safetensors checkpoints, every GGUF is written by llama.cpp.

For each fixture (and, for a fixture with mtp.* tensors, a second model
"FIXTURE+mtp" that keeps them as llama.cpp's nextn block):

  convert.tsv  llama.cpp's convert_hf_to_gguf.py (the one vendored in the
               llama-cpp-python 0.3.36 sdist) with --outtype f32, f16, bf16,
               q8_0: every key/value (name, GGUF type, value; long strings
               and arrays as length + FNV-1a-64 of their stored bytes) in
               file order, every tensor (name, ggml ne) in file order, and
               per outtype general.file_type, every tensor's type and the
               size and SHA-256 of the whole file. Also for the layout
               variants (VARIANTS below: sharded, shuffled copies). "auto"
               is the row of the fixture's storage dtype (qwen-convert's auto
               keeps the source precision; llama.cpp's own --outtype auto
               would narrow f32 to f16, a documented difference).
  quant.tsv    llama.cpp's llama_model_quantize (llama-cpp-python 0.3.36,
               ctypes, one thread, default parameters) on that converter
               output at the storage dtype, for every mix qwen-quant has:
               the output's tensor order, general.file_type and every
               tensor's type.

The converter runs with the same patches as convert_oracle.py (its
RUN_LLAMA): the fixtures' tiny BPE is unknown to llama.cpp's pre-tokenizer
hash table, so get_vocab_base_pre answers "qwen2" (what qwenkit picks by
architecture) and Qwen2Model.set_vocab takes the gpt2 path; Qwen1 (remote-code
tokenizer) gets no tokenizer keys. Qwen3-Next without mtp.* tensors needs
--no-mtp (the converter asserts otherwise); a fixture with mtp.* is converted
both ways.

Needs the fixture venv (.venv: torch, transformers, safetensors) to run the
converter, .venv-ggml (llama-cpp-python 0.3.36 built from source, gguf
0.19.0) for llama_model_quantize, and the llama.cpp sources of the sdist:

  pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36
  tar xzf llama_cpp_python-0.3.36.tar.gz

usage: .venv/bin/python testdata/gen/llamacpp_truths.py
           --llama-cpp llama_cpp_python-0.3.36/vendor/llama.cpp
           [--ggml-python .venv-ggml/bin/python] [--out testdata/llamacpp]
Deterministic: a second run writes identical files. Takes about 3 minutes.
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_oracle  # noqa: E402  (RUN_LLAMA: the patched converter)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")
OUTTYPES = ["f32", "f16", "bf16", "q8_0"]
# llama_ftype of every mix qwen-quant has (include/llama.h), in this order
MIXES = [
    ("Q4_0", 2), ("Q4_1", 3), ("Q5_0", 8), ("Q5_1", 9), ("Q8_0", 7),
    ("Q2_K", 10), ("Q3_K_S", 11), ("Q3_K_M", 12), ("Q3_K_L", 13),
    ("Q4_K_S", 14), ("Q4_K_M", 15), ("Q5_K_S", 16), ("Q5_K_M", 17),
    ("Q6_K", 18), ("F16", 1), ("BF16", 32), ("F32", 0),
]
ST_DTYPE = {"BF16": "bf16", "F16": "f16", "F32": "f32"}
LITERAL_MAX = 160   # longer strings are written as length + hash

# the llama.cpp half of quantizing, run by .venv-ggml's python
RUN_QUANT = r'''
import ctypes, json, sys
import llama_cpp
from gguf import GGUFReader
src, out, mixes = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
cb = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(lambda l, t, u: None)
llama_cpp.llama_log_set(cb, None)
llama_cpp.llama_backend_init()
res = {}
for name, ftype in mixes:
    p = llama_cpp.llama_model_quantize_default_params()
    p.nthread = 1
    p.ftype = ftype
    dst = "%s.%s.gguf" % (out, name)
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    if rc != 0:
        res[name] = None
        continue
    r = GGUFReader(dst)
    ft = int(r.fields["general.file_type"].parts[-1][0])
    res[name] = [ft, [(t.name, t.tensor_type.name) for t in r.tensors]]
print(json.dumps({"version": llama_cpp.__version__, "runs": res}))
'''


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def enc_string(raw):
    """A string value: literal when short and plain, else #LEN:HASH."""
    plain = all(0x20 <= b < 0x7f and b != 0x5c for b in raw)
    if plain and len(raw) <= LITERAL_MAX:
        return '"' + raw.decode("ascii") + '"'
    return "#%d:%016x" % (len(raw), fnv1a64(raw))


def enc_field(field, gguf):
    """(GGUF type name, encoded value) of one key/value, from its raw parts:
    parts[0..2] are the key length, key and value type."""
    T = gguf.GGUFValueType
    vt = T(int(field.parts[2][0]))
    if vt == T.STRING:
        return "string", enc_string(field.parts[4].tobytes())
    if vt == T.ARRAY:
        et = T(int(field.parts[3][0]))
        n = int(field.parts[4][0])
        raw = b"".join(p.tobytes() for p in field.parts[5:])
        return "array", "[%s;%d;%016x]" % (et.name.lower(), n, fnv1a64(raw))
    v = field.parts[3][0]
    if vt == T.BOOL:
        return "bool", "true" if bool(v) else "false"
    if vt in (T.FLOAT32, T.FLOAT64):
        return vt.name.lower(), repr(float(v))
    return vt.name.lower(), str(int(v))


def read_converted(path, gguf):
    r = gguf.GGUFReader(path)
    kvs = [(k,) + enc_field(f, gguf) for k, f in r.fields.items() if not k.startswith("GGUF.")]
    tensors = [(t.name, [int(x) for x in t.shape], t.tensor_type.name) for t in r.tensors]
    return kvs, tensors


def storage_dtype(fxdir):
    """The fixture's storage dtype: the dtype of its first weight."""
    for f in sorted(os.listdir(fxdir)):
        if f.endswith(".safetensors") and f != "expected.safetensors":
            with open(os.path.join(fxdir, f), "rb") as fh:
                n = struct.unpack("<Q", fh.read(8))[0]
                hdr = json.loads(fh.read(n))
            for k in sorted(hdr):
                if k != "__metadata__":
                    return ST_DTYPE[hdr[k]["dtype"]]
    raise SystemExit(f"{fxdir}: no weights")


def has_mtp(fxdir):
    for f in sorted(os.listdir(fxdir)):
        if f.endswith(".safetensors") and f != "expected.safetensors":
            with open(os.path.join(fxdir, f), "rb") as fh:
                n = struct.unpack("<Q", fh.read(8))[0]
                if any(k.startswith("mtp.") for k in json.loads(fh.read(n))):
                    return True
    return False


def llama_convert(lc, fxdir, out, outtype, no_mtp):
    """None, or the last line of the converter's error when it refuses."""
    cmd = [sys.executable, "-c", convert_oracle.RUN_LLAMA, lc, fxdir, "--outfile", out,
           "--outtype", outtype]
    if no_mtp:
        cmd.append("--no-mtp")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        return (r.stderr.strip().splitlines() or ["?"])[-1]
    return None


# Layout variants, "FIXTURE~shards": the fixture's tensors rewritten as two
# shards with an index, the tensor of rank k in name order in shard k mod 2,
# each shard's header and data in reverse name order. llama.cpp's converter
# reads shards and tensors by name, not by byte offset; the variants record
# what it writes then (tests/unit/test_llamacpp_truths.c makes the same
# directories from testdata/models/ with its own code). Converter rows only.
VARIANTS = ["qwen2_moe~shards", "qwen3_5~shards", "qwen3_next~shards"]
SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")


def make_shards(src, dst):
    """Write the "~shards" layout of checkpoint directory src into dst."""
    tensors = {}
    for f in sorted(os.listdir(src)):
        p = os.path.join(src, f)
        if f.endswith(".safetensors") and f != "expected.safetensors":
            with open(p, "rb") as fh:
                n = struct.unpack("<Q", fh.read(8))[0]
                hdr = json.loads(fh.read(n))
                base = 8 + n
                for k, t in hdr.items():
                    if k == "__metadata__":
                        continue
                    a, b = t["data_offsets"]
                    fh.seek(base + a)
                    tensors[k] = (t["dtype"], t["shape"], fh.read(b - a))
        elif not f.endswith((".safetensors", ".index.json")) and os.path.isfile(p):
            with open(p, "rb") as i, open(os.path.join(dst, f), "wb") as o:
                o.write(i.read())
    names = sorted(tensors)
    wmap = {}
    for s, shard in enumerate(SHARDS):
        mine = [k for r, k in enumerate(names) if r % 2 == s][::-1]
        hdr, off = {}, 0
        for k in mine:
            dt, shape, data = tensors[k]
            hdr[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
            off += len(data)
            wmap[k] = shard
        h = json.dumps(hdr, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)
        with open(os.path.join(dst, shard), "wb") as fh:
            fh.write(struct.pack("<Q", len(h)) + h)
            for k in mine:
                fh.write(tensors[k][2])
    with open(os.path.join(dst, "model.safetensors.index.json"), "w") as fh:
        json.dump({"metadata": {"total_size": sum(len(t[2]) for t in tensors.values())},
                   "weight_map": wmap}, fh)


def models_of(fx, d):
    """(model id, keep mtp) pairs of a fixture (in directory d)."""
    with open(os.path.join(d, "config.json")) as f:
        arch = json.load(f)["architectures"][0]
    hybrid = arch.startswith("Qwen3Next") or arch.startswith("Qwen3_5")
    out = [(fx, False, hybrid)]
    if has_mtp(d):
        out.append((fx + "+mtp", True, hybrid))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-cpp", required=True, help="vendor/llama.cpp of the sdist")
    ap.add_argument("--ggml-python", default=os.path.join(ROOT, ".venv-ggml", "bin", "python"))
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "llamacpp"))
    ap.add_argument("--qwen-convert", default=os.path.join(ROOT, "bin", "qwen-convert"),
                    help="llama-quantize's input for what llama.cpp's converter refuses "
                         "(qwen3_moe) or writes without a vocabulary (qwen1)")
    ap.add_argument("fixtures", nargs="*")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.llama_cpp, "gguf-py"))
    import gguf
    fixtures = a.fixtures or sorted(d for d in os.listdir(MODELS)
                                    if os.path.isfile(os.path.join(MODELS, d, "config.json")))
    if not a.fixtures:
        fixtures += VARIANTS
    vtmp = tempfile.TemporaryDirectory(prefix="llamacpp-variants-")
    conv, quant, lver = [], [], None
    with tempfile.TemporaryDirectory(prefix="llamacpp-truths-") as tmp:
        for fx in fixtures:
            fxdir = os.path.join(MODELS, fx)
            if "~" in fx:
                base, var = fx.split("~")
                if var != "shards":
                    raise SystemExit(f"{fx}: unknown layout variant {var}")
                fxdir = os.path.join(vtmp.name, fx)
                os.makedirs(fxdir)
                make_shards(os.path.join(MODELS, base), fxdir)
            src = storage_dtype(fxdir)
            for model, keep_mtp, hybrid in models_of(fx, fxdir):
                print(f"{model} ...", flush=True)
                no_mtp = hybrid and not keep_mtp
                rows, files, base = {}, {}, None
                qsrc = os.path.join(tmp, f"{model}.{src}.gguf")
                refused = llama_convert(a.llama_cpp, fxdir, qsrc, src, no_mtp)
                if refused:
                    # e.g. qwen3_moe's dense layer 0: llama.cpp's converter
                    # cannot map it. Recorded as refused; llama-quantize then
                    # gets qwen-convert's file (as quant_crosscheck.py does):
                    # the types are still llama.cpp's decisions.
                    print(f"  llama.cpp's converter refuses it: {refused}")
                    conv.append("model\t%s\t%s\t%s\trefused: %s" % (
                        model, fx, "keep_mtp" if keep_mtp else "-", refused.replace("\t", " ")))
                    cmd = [a.qwen_convert, "-q", "--outtype", src, fxdir, "-o", qsrc]
                    subprocess.run(cmd + (["--keep-mtp"] if keep_mtp else []), check=True)
                for ot in OUTTYPES if not refused else []:
                    path = qsrc if ot == src else os.path.join(tmp, f"{model}.{ot}.gguf")
                    why = None if ot == src else llama_convert(a.llama_cpp, fxdir, path, ot,
                                                                 no_mtp)
                    if why:
                        raise SystemExit(f"{model}: llama.cpp's converter fails at {ot}: {why}")
                    kvs, tensors = read_converted(path, gguf)
                    ft = next(v for k, _, v in kvs if k == "general.file_type")
                    rows[ot] = (ft, [t for _, _, t in tensors])
                    with open(path, "rb") as fh:
                        digest = hashlib.sha256(fh.read()).hexdigest()
                    files[ot] = (os.path.getsize(path), digest)
                    shape = ([(k, t, v) for k, t, v in kvs if k != "general.file_type"],
                             [(n, ne) for n, ne, _ in tensors])
                    if base is None:
                        base = shape
                    elif shape != base:
                        raise SystemExit(f"{model}: keys or tensors differ between outtypes")
                if not refused:
                    conv.append("model\t%s\t%s\t%s\tllama.cpp" % (
                        model, fx, "keep_mtp" if keep_mtp else "-"))
                    kvs_f32 = read_converted(qsrc if src == "f32" else
                                             os.path.join(tmp, f"{model}.f32.gguf"), gguf)[0]
                    for k, t, v in kvs_f32:
                        conv.append("kv\t%s\t%s\t%s\t%s" % (model, k, t, v))
                    for n, ne in base[1]:
                        conv.append("tensor\t%s\t%s\t%s" % (model, n, " ".join(map(str, ne))))
                    for ot in ["auto"] + OUTTYPES:
                        ft, types = rows[src if ot == "auto" else ot]
                        conv.append("convert\t%s\t%s\t%s\t%s" % (model, ot, ft, " ".join(types)))
                    for ot in ["auto"] + OUTTYPES:
                        conv.append("file\t%s\t%s\t%d\t%s" % ((model, ot) + files[src if ot == "auto"
                                                                             else ot]))
                if "~" in fx:  # layout variants: converter rows only
                    for f in os.listdir(tmp):
                        os.remove(os.path.join(tmp, f))
                    continue
                # llama-quantize from the converter's file at the storage dtype;
                # for Qwen1 (no tokenizer keys in that file: llama_model_quantize
                # refuses it) and refused fixtures from qwen-convert's file
                via_ours = refused or fx in convert_oracle.NO_VOCAB
                if via_ours and not refused:
                    os.remove(qsrc)
                    cmd = [a.qwen_convert, "-q", "--outtype", src, fxdir, "-o", qsrc]
                    subprocess.run(cmd + (["--keep-mtp"] if keep_mtp else []), check=True)
                r = subprocess.run([a.ggml_python, "-c", RUN_QUANT, qsrc,
                                    os.path.join(tmp, f"{model}.q"), json.dumps(MIXES)],
                                   capture_output=True, text=True)
                if r.returncode:
                    raise SystemExit(f"{model}: llama_model_quantize child failed:\n"
                                     f"{r.stderr[-2000:]}")
                res = json.loads(r.stdout.strip().splitlines()[-1])
                lver = res["version"]
                order = None
                quant.append("model\t%s\t%s\t%s\t%s" % (
                    model, fx, "keep_mtp" if keep_mtp else "-",
                    "qwen-convert" if via_ours else "llama.cpp"))
                for mix, _ in MIXES:
                    run = res["runs"][mix]
                    if run is None:
                        quant.append("fail\t%s\t%s" % (model, mix))
                        continue
                    names = [n for n, _ in run[1]]
                    if order is None:
                        order = names
                        quant.append("order\t%s\t%s" % (model, " ".join(names)))
                    elif names != order:
                        raise SystemExit(f"{model} {mix}: tensor order differs between mixes")
                    quant.append("q\t%s\t%s\t%d\t%s" % (model, mix, run[0],
                                                        " ".join(t for _, t in run[1])))
                for f in os.listdir(tmp):
                    os.remove(os.path.join(tmp, f))
    import transformers
    head = ("# made by testdata/gen/llamacpp_truths.py from llama-cpp-python %s (its "
            "vendored llama.cpp, convert_hf_to_gguf.py and gguf-py), transformers %s; "
            "see testdata/llamacpp/README.md" % (lver, transformers.__version__))
    os.makedirs(a.out, exist_ok=True)
    for name, lines in (("convert.tsv", conv), ("quant.tsv", quant)):
        path = os.path.join(a.out, name)
        blocks = {}
        if a.fixtures and os.path.exists(path):  # a partial run: keep the other fixtures
            with open(path, encoding="utf-8") as f:
                old = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]
            blocks = {key: b for key, b in group(old).items() if key[0] not in fixtures}
        blocks.update(group(lines))
        out = [ln for key in sorted(blocks) for ln in blocks[key]]
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(head + "\n" + "\n".join(out) + "\n")
        print(f"wrote {path} ({len(out)} lines)")


def group(lines):
    """{(fixture, model): its lines}, a block starting at each model line."""
    blocks, key = {}, None
    for ln in lines:
        f = ln.split("\t")
        if f[0] == "model":
            key = (f[2], f[1])
            blocks[key] = []
        blocks[key].append(ln)
    return blocks


if __name__ == "__main__":
    main()
