#!/usr/bin/env python3
"""Record the bytes llama.cpp's converter writes for Qwen3-Next's MTP block.

transformers ignores `mtp.*`, so no expected output covers the multi-token
prediction tensors, and qwen-convert's round trips use one table both ways:
nothing but llama.cpp itself can say whether the zero-centred MTP norms get
the `+1` of Qwen3-Next's other norms. llama.cpp 0.3.36 (the sources vendored
in the llama-cpp-python 0.3.36 sdist) settles it:

  - conversion/qwen.py, _QwenMtpMixin.filter_tensors renames mtp.fc ->
    model.layers.N.eh_proj, mtp.pre_fc_norm_embedding -> ...N.enorm,
    mtp.pre_fc_norm_hidden -> ...N.hnorm, mtp.norm ->
    ...N.shared_head.norm and mtp.layers.0.* -> model.layers.N.* (N =
    num_hidden_layers); then Qwen3NextModel.modify_tensors adds 1 to every
    tensor whose name ends in "norm.weight" except linear_attn.norm.weight,
    which takes in all four of them and the MTP layer's input, post-attention,
    q and k norms;
  - src/models/qwen3next.cpp builds the MTP head with
    build_norm(h, layer.nextn.hnorm, LLM_NORM_RMS) and the same for enorm:
    a plain RMSNorm that multiplies by the stored weight, so the stored
    weight must already be 1 + w.

This script runs that converter (with convert_oracle.RUN_LLAMA's patches
for the fixtures' tiny tokenizer) on every fixture with mtp.* tensors,
--outtype bf16 (the fixtures' storage dtype, qwen-convert's auto), and
writes every tensor of the MTP block (blk.N.*) to testdata/gguf/mtp_truth.tsv:

  fixture  tensor  ggml type  ne (comma-separated)  bytes  crc32 (zlib, hex)  data
  (data: the tensor's bytes in hex for 1-D tensors, "-" otherwise)

Then llama.cpp's loader (llama_model_load_from_file of llama-cpp-python
0.3.36, run with .venv-ggml/bin/python or --ggml-python) must load the
converter's file with its nextn block: llama_model_n_layer_nextn = 1 beside
the checkpoint's num_hidden_layers trunk layers (src/models/qwen35.cpp and
qwen3next.cpp create blk.N.nextn.{eh_proj,enorm,hnorm} as required tensors
and apply enorm/hnorm through build_norm(..., LLM_NORM_RMS), a plain
multiply by the stored weight: so the stored weight must be 1 + w; Qwen3.5
and Qwen3.5-MoE take the +1 from Qwen3NextModel.modify_tensors, which
their converter classes inherit).

It also checks, from the checkpoint alone, that each of the norms holds
float32(1 + w) for the checkpoint's w, and says so. tests/unit/test_mtp_truth.c
converts the same fixtures with qwen-convert --keep-mtp and compares.

Needs the fixture venv (.venv: torch for the converter) and the sdist:
  pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36
  tar xzf llama_cpp_python-0.3.36.tar.gz
usage: .venv/bin/python testdata/gen/mtp_truth.py
           --llama-cpp llama_cpp_python-0.3.36/vendor/llama.cpp [FIXTURE ...]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_oracle  # noqa: E402  (RUN_LLAMA: the patched converter)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")
OUT = os.path.join(ROOT, "testdata", "gguf", "mtp_truth.tsv")
# MTP norms and the checkpoint tensor each comes from
NORMS = {
    "nextn.enorm.weight": "mtp.pre_fc_norm_embedding.weight",
    "nextn.hnorm.weight": "mtp.pre_fc_norm_hidden.weight",
    "nextn.shared_head_norm.weight": "mtp.norm.weight",
    "attn_norm.weight": "mtp.layers.0.input_layernorm.weight",
    "post_attention_norm.weight": "mtp.layers.0.post_attention_layernorm.weight",
    "attn_q_norm.weight": "mtp.layers.0.self_attn.q_norm.weight",
    "attn_k_norm.weight": "mtp.layers.0.self_attn.k_norm.weight",
}


def st_tensors(fxdir):
    """name -> (dtype, raw bytes) of the fixture's checkpoint."""
    out = {}
    for f in sorted(os.listdir(fxdir)):
        if not f.endswith(".safetensors") or f == "expected.safetensors":
            continue
        with open(os.path.join(fxdir, f), "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            hdr = json.loads(fh.read(n))
            data = fh.read()
        for k, v in hdr.items():
            if k != "__metadata__":
                b, e = v["data_offsets"]
                out[k] = (v["dtype"], data[b:e])
    return out


def widen(dtype, raw):
    if dtype == "BF16":
        return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    if dtype == "F32":
        return list(struct.unpack("<%df" % (len(raw) // 4), raw))
    raise SystemExit(f"unexpected dtype {dtype}")


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


# llama.cpp's loader on one GGUF: prints "n_layer n_layer_nextn"
LOAD = r"""
import sys, llama_cpp as L
L.llama_backend_init()
p = L.llama_model_default_params()
p.use_mmap = False
m = L.llama_model_load_from_file(sys.argv[1].encode(), p)
if not m:
    sys.exit("llama.cpp did not load " + sys.argv[1])
print(L.llama_model_n_layer(m), L.llama_model_n_layer_nextn(m))
L.llama_model_free(m)
"""


def llama_load(ggml_python, gguf):
    """(n_layer, n_layer_nextn) as llama.cpp's loader reads the file."""
    r = subprocess.run([ggml_python, "-c", LOAD, gguf], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"llama.cpp's loader refused {gguf}:\n{r.stderr[-2000:]}")
    a, b = r.stdout.split()
    return int(a), int(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-cpp", required=True, help="vendor/llama.cpp of the sdist")
    ap.add_argument("--ggml-python", default=os.path.join(ROOT, ".venv-ggml", "bin", "python"),
                    help="python of the llama-cpp-python 0.3.36 venv (the loader)")
    ap.add_argument("fixtures", nargs="*")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.llama_cpp, "gguf-py"))
    from gguf import GGUFReader
    fixtures = a.fixtures or sorted(
        d for d in os.listdir(MODELS) if os.path.isfile(os.path.join(MODELS, d, "config.json"))
        and any(k.startswith("mtp.") for k in st_tensors(os.path.join(MODELS, d))))
    rows = ["# llama.cpp's convert_hf_to_gguf.py (llama-cpp-python 0.3.36 sdist) --outtype "
            "bf16 on each fixture: every tensor of the MTP (nextn) block. Written by "
            "testdata/gen/mtp_truth.py; do not edit.",
            "# fixture\ttensor\ttype\tne\tbytes\tcrc32\tdata (1-D: hex bytes)"]
    with tempfile.TemporaryDirectory(prefix="mtp-truth-") as tmp:
        for fx in fixtures:
            fxdir = os.path.join(MODELS, fx)
            cfg = json.load(open(os.path.join(fxdir, "config.json")))
            # Qwen3.5 (a VL-style config) nests the text model's hparams
            n_layer = cfg.get("text_config", cfg)["num_hidden_layers"]
            out = os.path.join(tmp, fx + ".gguf")
            r = subprocess.run([sys.executable, "-c", convert_oracle.RUN_LLAMA, a.llama_cpp,
                                fxdir, "--outfile", out, "--outtype", "bf16"],
                               capture_output=True, text=True)
            if r.returncode:
                raise SystemExit(f"llama.cpp's converter failed on {fx}:\n{r.stderr[-2000:]}")
            ck = st_tensors(fxdir)
            prefix = f"blk.{n_layer}."
            n = 0
            for t in GGUFReader(out).tensors:
                if not t.name.startswith(prefix):
                    continue
                raw = bytes(t.data.tobytes())
                ne = [int(x) for x in t.shape]
                short = t.name[len(prefix):]
                if short in NORMS:
                    dt, hf = ck[NORMS[short]]
                    want = struct.pack("<%df" % (len(hf) // (2 if dt == "BF16" else 4)),
                                       *[f32(1.0 + w) for w in widen(dt, hf)])
                    if t.tensor_type.name != "F32" or raw != want:
                        raise SystemExit(f"{fx}: {t.name} is not float32(1 + {NORMS[short]})")
                    print(f"{fx}: {t.name} = 1 + {NORMS[short]} (llama.cpp adds 1)")
                data = raw.hex() if len(ne) == 1 else "-"
                rows.append("\t".join([fx, t.name, t.tensor_type.name, ",".join(map(str, ne)),
                                       str(len(raw)), "%08x" % zlib.crc32(raw), data]))
                n += 1
            if n < len(NORMS) + 1:
                raise SystemExit(f"{fx}: only {n} tensors in {prefix}*")
            n_all, n_nextn = llama_load(a.ggml_python, out)
            # llama_model_n_layer counts the trunk only (n_layer_all less nextn)
            if n_nextn != 1 or n_all != n_layer:
                raise SystemExit(f"{fx}: llama.cpp loads n_layer {n_all}, n_layer_nextn "
                                 f"{n_nextn}; expected {n_layer} and 1")
            print(f"{fx}: llama.cpp's loader takes the nextn block (n_layer {n_all}, "
                  f"n_layer_nextn {n_nextn})")
    with open(OUT, "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"wrote {OUT}: {len(rows) - 2} tensors of {len(fixtures)} fixtures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
