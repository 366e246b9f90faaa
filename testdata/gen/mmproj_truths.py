#!/usr/bin/env python3
# venvs: .venv (run it with .venv/bin/python)
"""Record what llama.cpp's converter writes as the mmproj of every VL fixture.

For each vision-language fixture of testdata/models/ (a config.json with a
vision_config, or a model_type of the Qwen VL families), this runs the
convert_hf_to_gguf.py vendored in the llama-cpp-python 0.3.36 sdist with
--mmproj and --outtype f32, f16, bf16, q8_0 (the outtypes its mmproj path
takes), patched only as convert_oracle.py's RUN_LLAMA is (the text side's
tokenizer hooks, unused by --mmproj), and writes testdata/llamacpp/mmproj.tsv
in convert.tsv's format (testdata/llamacpp/README.md): a "model" line (or
"refused: <the converter's last error line>"), every key/value of the f32
file in file order, every tensor (name, ggml ne) in file order, per outtype
general.file_type and every tensor's type, and the size and SHA-256 of the
whole file. tests/unit/test_mmproj_truths.c holds the vision table
(formats/model/vision_tables.c) and qwen-convert --mmproj to these rows.
Nothing here comes from qwenkit, except the llama-quantize input of a fixture
llama.cpp's converter refuses (below).

Then llama-quantize's half ("quant" lines: fixture, input outtype, mix, size
and SHA-256 of the output): llama_model_quantize of llama-cpp-python 0.3.36
built from source (.venv-ggml, one thread, default parameters; it takes
mmproj files: llama.cpp's LLM_ARCH_CLIP exists for it) on the f32 and bf16
mmproj of each fixture, for every mix qwen-quant has (llamacpp_truths.MIXES).
The input is llama.cpp's converter output; for qwen2_5_vl, which that
converter refuses, qwen-convert's (--qwen-convert), whose bytes the other
fixtures show to be the converter's.

--preprocessor writes each VL fixture's preprocessor_config.json first
(llama.cpp's mmproj converter reads image_mean and image_std from it):
the defaults of the transformers 5.23 image processors, OPENAI_CLIP_MEAN/STD
for Qwen2-VL and Qwen2.5-VL (Qwen2VLImageProcessor) and
IMAGENET_STANDARD_MEAN/STD for Qwen3-VL and Qwen3.5 (what their released
preprocessor configs hold), with the fixture's patch_size, merge_size and
temporal_patch_size.

usage: .venv/bin/python testdata/gen/mmproj_truths.py
           --llama-cpp llama_cpp_python-0.3.36/vendor/llama.cpp [--preprocessor]
           [--ggml-python .venv-ggml/bin/python] [--qwen-convert bin/qwen-convert]
           [--out testdata/llamacpp/mmproj.tsv] [FIXTURE...]
Deterministic: a second run writes an identical file.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_oracle  # noqa: E402  (RUN_LLAMA)
import llamacpp_truths  # noqa: E402  (read_converted: the encoding of keys)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")
OUTTYPES = ["f32", "f16", "bf16", "q8_0"]
VL_TYPES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe")


QUANT_INPUTS = ["f32", "bf16"]

def quant_lines(ggml_py, fx, inputs, tmp):
    """'quant' lines: llama_model_quantize on each input file, every mix, one
    process per mix (llama.cpp aborts on some: recorded as "aborted")."""
    out = []
    for ot, path in inputs:
        for name, ftype in llamacpp_truths.MIXES:
            # llamacpp_truths' runner writes q.NAME.gguf and reports its types
            q = os.path.join(tmp, "q")
            r = subprocess.run([ggml_py, "-c", llamacpp_truths.RUN_QUANT, path, q,
                                json.dumps([[name, ftype]])], capture_output=True, text=True)
            res = json.loads(r.stdout.strip().splitlines()[-1])["runs"] if r.returncode == 0 \
                else None
            if res and res[name] is not None:
                dst = f"{q}.{name}.gguf"
                with open(dst, "rb") as f:
                    res[name] = [os.path.getsize(dst), hashlib.sha256(f.read()).hexdigest()]
                os.remove(dst)
            if r.returncode:
                why = [x for x in r.stderr.splitlines() if "GGML_ASSERT" in x or "error" in x]
                why = (why or ["exit %d" % r.returncode])[0].strip()
                why = why[why.find("GGML_ASSERT"):] if "GGML_ASSERT" in why else why
                why = why[why.find("src/"):] if "/vendor/llama.cpp/src/" in why else why
                out.append("quant\t%s\t%s\t%s\taborted: %s" % (fx, ot, name, why[:200]))
            elif res[name] is None:
                out.append("quant\t%s\t%s\t%s\trefused" % (fx, ot, name))
            else:
                out.append("quant\t%s\t%s\t%s\t%d\t%s" % (fx, ot, name, res[name][0],
                                                            res[name][1]))
    return out


def vl_fixtures():
    out = []
    for d in sorted(os.listdir(MODELS)):
        p = os.path.join(MODELS, d, "config.json")
        if os.path.isfile(p):
            with open(p) as f:
                if json.load(f).get("model_type") in VL_TYPES:
                    out.append(d)
    return out


def write_preprocessor(fxdir):
    from transformers.image_utils import (IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD,
                                          OPENAI_CLIP_MEAN, OPENAI_CLIP_STD)
    with open(os.path.join(fxdir, "config.json")) as f:
        cfg = json.load(f)
    vc = cfg.get("vision_config")
    if not vc:
        return False
    qwen2 = cfg["model_type"] in ("qwen2_vl", "qwen2_5_vl")
    pp = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "image_mean": list(OPENAI_CLIP_MEAN if qwen2 else IMAGENET_STANDARD_MEAN),
        "image_std": list(OPENAI_CLIP_STD if qwen2 else IMAGENET_STANDARD_STD),
        "patch_size": vc["patch_size"],
        "merge_size": vc["spatial_merge_size"],
        "temporal_patch_size": vc["temporal_patch_size"],
    }
    with open(os.path.join(fxdir, "preprocessor_config.json"), "w") as f:
        json.dump(pp, f, indent=2)
        f.write("\n")
    return True


def convert(lc, fxdir, out, outtype):
    """None, or the last line of the converter's error when it refuses."""
    r = subprocess.run([sys.executable, "-c", convert_oracle.RUN_LLAMA, lc, fxdir, "--mmproj",
                        "--outfile", out, "--outtype", outtype], capture_output=True, text=True)
    if r.returncode:
        return (r.stderr.strip().splitlines() or ["?"])[-1]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-cpp", required=True, help="vendor/llama.cpp of the sdist")
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "llamacpp", "mmproj.tsv"))
    ap.add_argument("--preprocessor", action="store_true")
    ap.add_argument("--ggml-python", default=os.path.join(ROOT, ".venv-ggml", "bin", "python"))
    ap.add_argument("--qwen-convert", default=os.path.join(ROOT, "bin", "qwen-convert"))
    ap.add_argument("fixtures", nargs="*")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.llama_cpp, "gguf-py"))
    import gguf
    import transformers
    lines = ["# made by testdata/gen/mmproj_truths.py from llama-cpp-python 0.3.36 (its vendored "
             "convert_hf_to_gguf.py --mmproj and gguf-py), transformers %s; see "
             "testdata/llamacpp/README.md" % transformers.__version__]
    for fx in a.fixtures or vl_fixtures():
        fxdir = os.path.join(MODELS, fx)
        if a.preprocessor:
            write_preprocessor(fxdir)
        print(f"{fx} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="mmproj-truths-") as tmp:
            files, rows, base = {}, {}, None
            why = convert(a.llama_cpp, fxdir, os.path.join(tmp, "f32.gguf"), "f32")
            if why:
                print(f"  refused: {why}")
                lines.append("model\t%s\t%s\t-\trefused: %s" % (fx, fx, why.replace("\t", " ")))
                inputs = []
                for ot in QUANT_INPUTS:  # llama-quantize reads qwen-convert's file
                    path = os.path.join(tmp, f"ours.{ot}.gguf")
                    r = subprocess.run([a.qwen_convert, "-q", "--outtype", ot, fxdir, "--mmproj",
                                        path, "--mmproj-only"], capture_output=True, text=True)
                    if r.returncode == 0:
                        inputs.append((ot, path))
                lines += quant_lines(a.ggml_python, fx, inputs, tmp)
                continue
            for ot in OUTTYPES:
                path = os.path.join(tmp, f"{ot}.gguf")
                if ot != "f32":
                    why = convert(a.llama_cpp, fxdir, path, ot)
                    if why:
                        raise SystemExit(f"{fx}: the converter fails at {ot}: {why}")
                kvs, tensors = llamacpp_truths.read_converted(path, gguf)
                ft = next(v for k, _, v in kvs if k == "general.file_type")
                rows[ot] = (ft, [t for _, _, t in tensors])
                with open(path, "rb") as fh:
                    files[ot] = (os.path.getsize(path), hashlib.sha256(fh.read()).hexdigest())
                if ot == "f32":
                    base = (kvs, [(n, ne) for n, ne, _ in tensors])
            lines.append("model\t%s\t%s\t-\tllama.cpp" % (fx, fx))
            for k, t, v in base[0]:
                lines.append("kv\t%s\t%s\t%s\t%s" % (fx, k, t, v))
            for n, ne in base[1]:
                lines.append("tensor\t%s\t%s\t%s" % (fx, n, " ".join(map(str, ne))))
            for ot in OUTTYPES:
                lines.append("convert\t%s\t%s\t%s\t%s" % (fx, ot, rows[ot][0], " ".join(rows[ot][1])))
            for ot in OUTTYPES:
                lines.append("file\t%s\t%s\t%d\t%s" % ((fx, ot) + files[ot]))
            lines += quant_lines(a.ggml_python, fx, [(ot, os.path.join(tmp, f"{ot}.gguf"))
                                                     for ot in QUANT_INPUTS], tmp)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
