#!/usr/bin/env python3
"""Cross-check qwen-quant against llama.cpp's own quantizer (llama-quantize).

For every fixture in testdata/models and every mix:

  1. bin/qwen-convert --outtype f32 writes the fixture as an f32 GGUF;
  2. llama.cpp's llama_model_quantize (llama-cpp-python 0.3.36 built from
     source, the venv of testdata/quant/README.md; one thread, default
     parameters) quantizes that GGUF: the reference;
  3. bin/qwen-quant quantizes the same f32 GGUF (-t 2) and, separately,
     the safetensors checkpoint itself (-t 1, no intermediate file);
  4. both of our files must equal the reference byte for byte (cmp); when
     they do not, gguf-py's GGUFReader names what differs (key/values,
     tensor order, types, data bytes);
  5. llama.cpp's runtime loads our safetensors-made file and evaluates a
     few tokens (llama_cpp.Llama), proving it accepts it.

Then, on a few fixtures: a bf16 GGUF input (qwen-convert --outtype auto),
llama-quantize's non-default options (--pure, --leave-output-tensor,
--output-tensor-type, --token-embedding-type), requantizing a Q8_0 file
(--allow-requantize), and recipes. For recipes the expected per-tensor
overrides are computed here, independently of qwen-quant, from the YAML
(PyYAML; glob with fnmatch, role and block from the GGUF name, layer kinds
from the GGUF keys) and given to llama.cpp as exact-name tensor type
overrides (llama-quantize --tensor-type), which is what a recipe means.

Nothing expected comes from qwenkit: the reference bytes are llama.cpp's.

usage: .venv-ggml/bin/python testdata/gen/quant_crosscheck.py [--bin DIR]
           [--mixes Q4_K_M,...] [--keep DIR] [FIXTURE...]
Prints one table (fixture x mix: "=" identical, "X" different) and a list
of the extra checks; exit status 0 when everything is identical.
"""
import argparse
import ctypes
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile

import gguf
import llama_cpp
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
T = gguf.GGMLQuantizationType

# name -> llama_ftype (include/llama.h)
MIXES = [
    ("Q4_0", 2), ("Q4_1", 3), ("Q5_0", 8), ("Q5_1", 9), ("Q8_0", 7),
    ("Q2_K", 10), ("Q3_K_S", 11), ("Q3_K_M", 12), ("Q3_K_L", 13),
    ("Q4_K_S", 14), ("Q4_K_M", 15), ("Q5_K_S", 16), ("Q5_K_M", 17),
    ("Q6_K", 18), ("F16", 1), ("BF16", 32), ("F32", 0),
    # the i-quant mixes that need no importance matrix (quant/iquants.h)
    ("IQ4_NL", 25), ("IQ4_XS", 30), ("TQ1_0", 36), ("TQ2_0", 37), ("MXFP4_MOE", 38),
    ("IQ3_S", 26), ("IQ3_M", 27),
]
FTYPE = dict(MIXES)

LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(
    lambda level, text, ud: None)

# ---------------------------------------------------------------- llama.cpp


def llama_quantize(src, dst, mix, allow_requantize=False, pure=False, keep_output=False,
                   output_type=None, token_embd_type=None, overrides=()):
    p = llama_cpp.llama_model_quantize_default_params()
    p.nthread = 1
    p.ftype = FTYPE[mix]
    p.allow_requantize = allow_requantize
    p.pure = pure
    p.quantize_output_tensor = not keep_output
    if output_type is not None:
        p.output_tensor_type = int(output_type)
    if token_embd_type is not None:
        p.token_embedding_type = int(token_embd_type)
    keep = None
    if overrides:
        O = llama_cpp.llama_model_tensor_override
        keep = (O * (len(overrides) + 1))()
        for i, (pat, ty) in enumerate(overrides):
            keep[i].pattern = pat.encode()
            keep[i].type = int(ty)
        keep[len(overrides)].pattern = None
        p.tt_overrides = ctypes.cast(keep, ctypes.POINTER(O))
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    if rc != 0:
        raise RuntimeError("llama_model_quantize %s -> %s failed (%d)" % (src, mix, rc))


def llama_loads(path, quiet=False):
    """llama.cpp's runtime loads the file and evaluates a few tokens."""
    try:
        # logits_all: without it llama-cpp-python leaves `scores` unwritten
        llm = llama_cpp.Llama(model_path=path, n_ctx=32, n_threads=1, n_gpu_layers=0,
                              logits_all=True, verbose=False)
        llm.eval([1, 2, 3, 4])
        row = [float(x) for x in llm.scores[3]]
        ok = all(abs(x) < 1e30 for x in row) and max(row) > min(row)
        if not ok and not quiet:
            print("  llama.cpp's logits for %s are not finite: %s" % (path, row[:4]))
        del llm
        return ok
    except Exception as e:  # noqa: BLE001 - any refusal is the finding
        if not quiet:
            print("  llama.cpp cannot load %s: %s" % (path, e))
        return False

# ---------------------------------------------------------------- comparing


def explain(ref, ours):
    """What differs between two GGUF files (called only when bytes differ)."""
    a, b = gguf.GGUFReader(ref), gguf.GGUFReader(ours)
    out = []
    ka = [(k, f.types, f.contents()) for k, f in a.fields.items() if not k.startswith("GGUF.")]
    kb = [(k, f.types, f.contents()) for k, f in b.fields.items() if not k.startswith("GGUF.")]
    if [k for k, _, _ in ka] != [k for k, _, _ in kb]:
        out.append("key order/set: ref %s / ours %s" % ([k for k, _, _ in ka], [k for k, _, _ in kb]))
    else:
        for (k, ta, va), (_, tb, vb) in zip(ka, kb):
            if ta != tb or va != vb:
                out.append("key %s: ref %s %r / ours %s %r" % (k, ta, str(va)[:60], tb, str(vb)[:60]))
    na, nb = [t.name for t in a.tensors], [t.name for t in b.tensors]
    if na != nb:
        out.append("tensor order: ref %s / ours %s" % (na[:6], nb[:6]))
    tb = {t.name: t for t in b.tensors}
    for t in a.tensors:
        u = tb.get(t.name)
        if u is None:
            out.append("tensor %s missing" % t.name)
        elif t.tensor_type != u.tensor_type:
            out.append("tensor %s: ref %s / ours %s" % (t.name, t.tensor_type.name, u.tensor_type.name))
        elif bytes(t.data.tobytes()) != bytes(u.data.tobytes()):
            out.append("tensor %s (%s): data differs" % (t.name, t.tensor_type.name))
    return out or ["bytes differ outside keys and tensors (padding/alignment)"]


def same(ref, ours):
    with open(ref, "rb") as f1, open(ours, "rb") as f2:
        return f1.read() == f2.read()


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r

# ---------------------------------------------------------------- recipes, independently


def layer_kinds(path):
    """block -> set of kinds, from the GGUF keys (as llama.cpp reads them)."""
    r = gguf.GGUFReader(path)
    arch = r.get_field("general.architecture").contents()
    n = int(r.get_field(arch + ".block_count").contents())
    f = r.get_field(arch + ".full_attention_interval")
    interval = int(f.contents()) if f else 0
    moe = r.get_field(arch + ".expert_count") is not None
    kinds = {}
    for i in range(n):
        linear = interval > 0 and (i + 1) % interval != 0
        kinds[i] = {"linear" if linear else "full", "moe" if moe else "dense"}
    return n, kinds


def recipe_overrides(recipe_text, gguf_path):
    """[(^name$, type)] for every tensor the recipe's first matching rule decides."""
    rules = yaml.safe_load(recipe_text)["rules"]
    n_layer, kinds = layer_kinds(gguf_path)
    out = []

    def as_list(v):
        return v if isinstance(v, list) else [v]

    def layer_ok(spec, layer):
        for item in as_list(spec):
            s = str(item)
            lo, _, hi = s.partition("..")
            lo, hi = int(lo), int(hi) if hi else int(lo)
            lo, hi = (n_layer + lo if lo < 0 else lo), (n_layer + hi if hi < 0 else hi)
            if lo <= layer <= hi:
                return True
        return False

    for t in gguf.GGUFReader(gguf_path).tensors:
        m = re.match(r"blk\.(\d+)\.(.*)$", t.name)
        layer, base = (int(m.group(1)), m.group(2)) if m else (-1, t.name)
        role = base[:-len(".weight")] if base.endswith(".weight") else base
        for r in rules:
            if "name" in r and not any(fnmatch.fnmatchcase(t.name, g) for g in as_list(r["name"])):
                continue
            if "role" in r and role not in as_list(r["role"]):
                continue
            if ("layers" in r or "layer_kind" in r) and layer < 0:
                continue
            if "layers" in r and not layer_ok(r["layers"], layer):
                continue
            if "layer_kind" in r and not (kinds[layer] & set(as_list(r["layer_kind"]))):
                continue
            out.append(("^" + re.escape(t.name) + "$", T[r["type"].upper()]))
            break
    return out


RECIPES = {
    # the example: ffn_down of the first and last layers at Q8_0
    "edges": """
rules:
  - role: ffn_down
    layers: [0..0, -1..-1]
    type: Q8_0
  - name: "blk.*.attn_v.weight"
    type: q5_k
""",
    # only the first layer's ffn_down: an override does not advance the
    # dense ffn_down counter, so the later layers' bumps shift
    "first": """
rules:
  - role: ffn_down
    layers: 0
    type: Q8_0
""",
    # linear-attention layers at Q6_K (Qwen3-Next), experts at Q4_0
    "hybrid": """
rules:
  - layer_kind: linear
    type: Q6_K
  - role: [ffn_down_exps, ffn_up_exps, ffn_gate_exps]
    type: Q4_0
  - name: output.weight
    type: Q8_0
""",
}

# ---------------------------------------------------------------- every KV type

V = gguf.GGUFValueType
# keys of every GGUF value type (a NaN with a payload among the floats), so
# that the GGUF input path is seen copying each as llama-quantize does
ODD_KVS = [
    ("xc.u8", 200, V.UINT8, None), ("xc.i8", -5, V.INT8, None),
    ("xc.u16", 60000, V.UINT16, None), ("xc.i16", -300, V.INT16, None),
    ("xc.i32", -70000, V.INT32, None), ("xc.u64", 2 ** 40 + 3, V.UINT64, None),
    ("xc.i64", -2 ** 40, V.INT64, None), ("xc.f64", 0.1, V.FLOAT64, None),
    ("xc.bool", False, V.BOOL, None), ("xc.str", "h\u00e9llo \u4e16\u754c", V.STRING, None),
    ("xc.arr_f32", [1.5, -0.0, float("nan"), 3e38], V.ARRAY, V.FLOAT32),
    ("xc.arr_i8", [-1, 2, -128], V.ARRAY, V.INT8),
    ("xc.arr_u16", [1, 65535], V.ARRAY, V.UINT16),
    ("xc.arr_i64", [-2 ** 62, 5], V.ARRAY, V.INT64),
    ("xc.arr_f64", [0.25, -1e300], V.ARRAY, V.FLOAT64),
    ("xc.arr_bool", [True, False, True], V.ARRAY, V.BOOL),  # (gguf-py writes no empty array)
]


def with_odd_kvs(src, dst, odd=True, alignment=None):
    """src's key/values and tensors, plus ODD_KVS, written by gguf-py."""
    r = gguf.GGUFReader(src)
    w = gguf.GGUFWriter(dst, r.get_field("general.architecture").contents())
    if alignment:
        w.add_custom_alignment(alignment)
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k == "general.architecture":
            continue
        sub = f.types[-1] if f.types[0] == V.ARRAY else None
        w.add_key_value(k, f.contents(), f.types[0], sub)
    for k, v, t, sub in ODD_KVS if odd else []:
        w.add_key_value(k, v, t, sub)
    for t in r.tensors:
        w.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--mixes", default=",".join(m for m, _ in MIXES))
    ap.add_argument("--keep", help="keep the files in this directory")
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    mixes = args.mixes.split(",")
    models = os.path.join(ROOT, "testdata", "models")
    fixtures = args.fixtures or sorted(d for d in os.listdir(models)
                                      if os.path.isfile(os.path.join(models, d, "config.json")))
    convert, quant = os.path.join(args.bin, "qwen-convert"), os.path.join(args.bin, "qwen-quant")
    llama_cpp.llama_log_set(LOG_CB, None)
    llama_cpp.llama_backend_init()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        return run_all(args, mixes, fixtures, models, convert, quant, args.keep)
    tmp = tempfile.mkdtemp(prefix="quant-xc-")
    try:
        return run_all(args, mixes, fixtures, models, convert, quant, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(args, mixes, fixtures, models, convert, quant, tmp):
    """Every comparison; the report; 0 when all hold."""
    table, failures, extra, notes = {}, [], [], []

    def check(label, ref, ours):
        if same(ref, ours):
            return True
        failures.append((label, explain(ref, ours)))
        return False

    for fx in fixtures:
        src = os.path.join(models, fx)
        f32 = os.path.join(tmp, fx + ".f32.gguf")
        run([convert, "-q", "--outtype", "f32", src, "-o", f32])
        # a fixture llama.cpp cannot run even unquantized (qwen3_moe has a
        # dense layer, which a qwen3moe GGUF cannot express) is not checked
        # for loading: "-" in the table
        loadable = llama_loads(f32, quiet=True)
        if not loadable:
            notes.append("%s: llama.cpp does not load even the f32 GGUF; not load-checked" % fx)
        for mix in mixes:
            ref = os.path.join(tmp, "%s.%s.ref.gguf" % (fx, mix))
            og = os.path.join(tmp, "%s.%s.gguf-in.gguf" % (fx, mix))
            os_ = os.path.join(tmp, "%s.%s.st-in.gguf" % (fx, mix))
            llama_quantize(f32, ref, mix)
            run([quant, "-q", "-t", "2", "--type", mix, f32, "-o", og])
            run([quant, "-q", "-t", "1", "--type", mix, src, "-o", os_])
            a = check("%s %s from f32 GGUF" % (fx, mix), ref, og)
            b = check("%s %s from safetensors" % (fx, mix), ref, os_)
            c = llama_loads(os_) if loadable else None
            if c is False:
                failures.append(("%s %s" % (fx, mix), ["llama.cpp cannot load our file"]))
            table[(fx, mix)] = ("=" if a else "X") + ("=" if b else "X") + \
                {True: "L", False: "!", None: "-"}[c]
            if not args.keep:
                for p in (ref, og, os_):
                    os.remove(p)

    # ---- extra checks on a few fixtures ----
    def extra_check(label, fx, mix, qargs, input_path=None, **lq):
        src = os.path.join(models, fx)
        inp = input_path or os.path.join(tmp, fx + ".f32.gguf")
        ref = os.path.join(tmp, "x.ref.gguf")
        ours = os.path.join(tmp, "x.ours.gguf")
        llama_quantize(inp, ref, mix, **lq)
        run([quant, "-q", "--type", mix] + qargs + [inp if input_path else src, "-o", ours])
        ok = check(label, ref, ours)
        extra.append((label, ok))

    have = set(fixtures)
    for fx in [f for f in ("qwen2", "qwen3_moe", "qwen3_next", "qwen2_moe_256", "qwen3_256",
                           "qwen3_next_256") if f in have]:
        bf = os.path.join(tmp, fx + ".auto.gguf")
        run([convert, "-q", "--outtype", "auto", os.path.join(models, fx), "-o", bf])
        for mix in ("Q4_K_M", "Q8_0", "Q3_K_S"):
            extra_check("%s %s from a bf16 GGUF" % (fx, mix), fx, mix, [], input_path=bf)
        extra_check("%s Q4_K_M --pure" % fx, fx, "Q4_K_M", ["--pure"], pure=True)
        extra_check("%s Q5_K_M --leave-output-tensor" % fx, fx, "Q5_K_M",
                    ["--leave-output-tensor"], input_path=bf, keep_output=True)
        # llama.cpp has no fallback for these two options (it aborts when the
        # rows do not fit; qwen-quant refuses): k-quants only on 256-wide models
        ot, et = ("q5_k", "q2_k") if fx != "qwen3_next" else ("q8_0", "q4_0")
        extra_check("%s Q3_K_M --output-tensor-type %s --token-embedding-type %s" % (fx, ot, et),
                    fx, "Q3_K_M", ["--output-tensor-type", ot, "--token-embedding-type", et],
                    output_type=T[ot.upper()], token_embd_type=T[et.upper()])
        q8 = os.path.join(tmp, fx + ".q8.gguf")
        llama_quantize(os.path.join(tmp, fx + ".f32.gguf"), q8, "Q8_0")
        extra_check("%s Q8_0 -> Q4_K_M --allow-requantize" % fx, fx, "Q4_K_M",
                    ["--allow-requantize"], input_path=q8, allow_requantize=True)
        for name, text in RECIPES.items():
            rpath = os.path.join(tmp, name + ".yaml")
            with open(rpath, "w") as f:
                f.write(text)
            f32 = os.path.join(tmp, fx + ".f32.gguf")
            ov = recipe_overrides(text, f32)
            extra_check("%s Q4_K_M recipe '%s' (%d overrides)" % (fx, name, len(ov)), fx,
                        "Q4_K_M", ["--recipe", rpath], overrides=ov)

    if "qwen2" in have:
        odd = os.path.join(tmp, "qwen2.odd.gguf")
        with_odd_kvs(os.path.join(tmp, "qwen2.f32.gguf"), odd)
        extra_check("qwen2 Q4_K_M, a GGUF with keys of every type", "qwen2", "Q4_K_M", [],
                    input_path=odd)
        # general.alignment 64: llama-quantize copies the key but pads to 32
        # (its file does not parse); ours keeps 64 and llama.cpp runs it
        al = os.path.join(tmp, "qwen2.align64.gguf")
        with_odd_kvs(os.path.join(tmp, "qwen2.f32.gguf"), al, odd=False, alignment=64)
        ours = os.path.join(tmp, "x.align64.gguf")
        run([quant, "-q", "--type", "Q8_0", al, "-o", ours])
        ok = gguf.GGUFReader(ours).alignment == 64 and llama_loads(ours)
        extra.append(("qwen2 Q8_0, GGUF aligned to 64: ours keeps 64, llama.cpp runs it "
                      "(expected difference)", ok))
        if not ok:
            failures.append(("alignment 64", ["our file is not aligned to 64 or does not load"]))

    # ---- report ----
    print("fixture x mix: from f32 GGUF / from safetensors (= identical to llama-quantize, "
          "X different); L = llama.cpp loads and runs our file, - not load-checked")
    print("%-16s" % "" + " ".join("%-7s" % m for m in mixes))
    for fx in fixtures:
        print("%-16s" % fx + " ".join("%-7s" % table[(fx, m)] for m in mixes))
    for n in notes:
        print("note: " + n)
    for label, ok in extra:
        word = ("ok", "FAILED") if "expected difference" in label else ("identical", "DIFFERENT")
        print("%-70s %s" % (label, word[0] if ok else word[1]))
    for label, why in failures:
        print("FAIL %s:" % label)
        for w in why[:8]:
            print("    " + w)
    n = len(table) * 2 + len(extra)
    print("quant crosscheck: %d comparisons, %d failed" % (n, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
