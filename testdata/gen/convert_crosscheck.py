#!/usr/bin/env python3
# venvs: .venv (re-executes itself with .venv/bin/python, from any python);
# its llama.cpp half runs in .venv-ggml/bin/python
"""make crosscheck: bin/qwen-convert's GGUF files against llama.cpp,
gguf-py and Hugging Face tokenizers, for every fixture in testdata/models/.

For each fixture and each --outtype (auto, f32, f16, bf16, q8_0), the file
qwen-convert writes is

  1. parsed by gguf-py's GGUFReader: general.architecture, block_count,
     embedding_length, general.file_type and the token count agree with
     config.json and the outtype; every tensor lies inside the file, aligned,
     without overlap, holds only finite values, has the type llama.cpp's
     converter rules give it (1-D, *_norm.weight, ffn_gate_inp*, ssm_conv1d
     and non-.weight tensors F32, q8_0 rows that are not whole blocks F16,
     the rest the outtype), and the tensors hold as many elements as the
     checkpoint (less mtp.*, dropped by default, and Qwen3.5's
     model.visual.*, which is not converted);
  2. loaded by llama.cpp (llama-cpp-python, CPU, one thread, F32 KV cache
     so that only the weights' type limits the precision), whose logits for
     both token sequences of expected.safetensors are compared with the ones
     transformers computed in fp32: per position t,
         err_t = max_v |llama_t,v - hf_t,v| / max_v |hf_t,v|;
     "max err" is the largest err_t over both sequences, "median" their
     median, "top-1" counts positions whose argmax agrees. Budgets: TOL
     (max, dense), TOL_MOE (max, MoE), TOL_MEDIAN; a top-1 disagreement is
     allowed only at a near-tie, where transformers' top-2 gap is at most
     NEAR_TIE of max|logit|;
  3. tokenizes (vocab_only, no BOS) the fixture's two texts to the ids
     transformers used (tokens.0 plain, special=False; tokens.1 the chat
     rendering, special=True); for qwen3_realvocab (the real Qwen3 tokenizer)
     also TEXTS (special=False) and CHAT_TEXTS (special=True) to exactly the
     ids HF tokenizers gives for its tokenizer.json.

qwen3_moe: its layer 0 is dense (mlp_only_layers); llama.cpp 0.3.36 cannot
load that (man/qwen-convert.1), so only the load failure is expected there.

Needs: the fixture venv .venv (tokenizers, safetensors, numpy;
testdata/gen/README.md) and .venv-ggml with llama-cpp-python 0.3.36 and gguf
(gguf-py 0.19.0); QK_VENV / QK_VENV_GGML override their paths. bin/qwen-convert
built (make crosscheck builds it; --bin DIR names its directory). Run by
make crosscheck under .venv-ggml's python, it re-executes itself under
.venv's. Exit status 0 when everything holds (or, with a message, when a
venv is absent: skipped), 1 on a failed check, 2 when a venv lacks a package.

usage: convert_crosscheck.py [--bin DIR] [--outtypes auto,f32,...] [--keep DIR]
                             [FIXTURE...]

The budgets come from what this script measured (2026-11-23, llama-cpp-python
0.3.36, CPU, all nine fixtures llama.cpp loads, both sequences):

  type  max err dense (worst)     max err MoE (worst)      median (worst)    top-1
  F32   1.1e-06 qwen3_realvocab   2.4e-06 qwen3_next       7.0e-07           all
  F16   1.9e-03 qwen3_realvocab   7.1e-03 qwen3_next       8.9e-04           all
  BF16  1.0e-02 qwen3_realvocab   4.5e-02 qwen3_next       6.6e-03           all
  Q8_0  3.7e-02 qwen2             3.3e-01 qwen3_next       5.0e-02           422/432

The VL text towers (qwen2_5_vl, qwen3_vl, qwen3_vl_moe; measured 2026-12-04,
text positions, which make M-RoPE plain rope) stay inside the same budgets:
F32 1.2e-06 (qwen2_5_vl), F16 6.7e-04, BF16 8.7e-03, Q8_0 3.0e-02 (one
top-1 flip in qwen2_5_vl at a top-2 gap of 0.46% of max|logit|).

F32 is float32 rounding: the converted weights are exact. Below that,
llama.cpp rounds a matmul's activations to the weight's type (F16, BF16 with
8 significant bits, Q8_0 blocks), and its own converter's files for these
fixtures hold the same tensor bytes (convert_oracle.py), so the error is
llama.cpp's, not the converter's. In the MoE fixtures single positions stand
out (qwen2_moe q8_0: 0.22 at one position, 0.01-0.04 elsewhere), as when a
routing choice between two near-equal experts flips; hence the separate
TOL_MOE and the median budget. The ten top-1 flips (Q8_0 only) are all at
transformers top-2 gaps of 0.29-6.2% of max|logit| (random models have
near-ties, testdata/models/README.md). qwen3_realvocab's q8_0 file is all
F16 (hidden 8: no row is a whole Q8_0 block). Budgets are 2-4x the worst
measured.

The NFC text: tokenizer.json normalizes with NFC; GGUF has no key for a
normalizer and llama.cpp applies none, so that text differs in llama.cpp
(reported as "diff", expected) and its NFC form must give HF's ids.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unicodedata

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")
VENV = os.environ.get("QK_VENV", os.path.join(ROOT, ".venv"))
VENV_GGML = os.environ.get("QK_VENV_GGML", os.path.join(ROOT, ".venv-ggml"))
OUTTYPES = ["auto", "f32", "f16", "bf16", "q8_0"]

# Budgets by the weight type of the file, set from measurement (docstring):
# the largest rel err over both sequences, for dense models and for MoE
# models (whose routing can flip at a near-tie of two experts' scores once
# the activations are rounded, which moves a whole position's logits)
TOL = {"F32": 1e-5, "F16": 5e-3, "BF16": 3e-2, "Q8_0": 1e-1}
TOL_MOE = {"F32": 1e-5, "F16": 2e-2, "BF16": 1.5e-1, "Q8_0": 1.0}
# the median rel err over positions, every model
TOL_MEDIAN = {"F32": 1e-5, "F16": 3e-3, "BF16": 2e-2, "Q8_0": 1e-1}
# largest transformers top-2 gap / max|logit| at which llama.cpp's top-1 may differ
NEAR_TIE = {"F32": 0.0, "F16": 1e-2, "BF16": 5e-2, "Q8_0": 1e-1}

ARCH = {"qwen": "qwen", "qwen2": "qwen2", "qwen2_moe": "qwen2moe", "qwen3": "qwen3",
        "qwen3_moe": "qwen3moe", "qwen3_next": "qwen3next", "qwen3_5": "qwen35",
        "qwen3_5_moe": "qwen35moe", "qwen2_vl": "qwen2vl", "qwen2_5_vl": "qwen2vl",
        "qwen3_vl": "qwen3vl", "qwen3_vl_moe": "qwen3vlmoe"}
FILE_TYPE = {"F32": 0, "F16": 1, "BF16": 32, "Q8_0": 7}  # llama.cpp LlamaFileType
SRC_TYPE = {"F32": "F32", "F16": "F16", "BF16": "BF16"}  # safetensors -> auto
# ggml tensors llama.cpp's converter always keeps F32 (conversion/base.py)
F32_NAMES = ("ffn_gate_inp.weight", "ffn_gate_inp_shexp.weight", "ssm_conv1d.weight")

TEXTS = [
    "Hello world. Isn't it a fine day? We'll see; they've said I'd like it.",
    "我们今天去北京大学参观，天气预报说下午会下雨。",
    "日本語のテキストと한국어 문장, Ελληνικά, русский текст и עברית.",
    "مرحبا بالعالم — नमस्ते दुनिया — สวัสดีชาวโลก",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "int main(void)\n{\n\tfor (int i = 0; i < 10; i++) {\n\t\tprintf(\"%d\\n\", i);\n\t}\n}\n",
    "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇩🇪 🇯🇵 1️⃣ ❤️‍🔥 🧑🏿‍💻",
    "Numbers 1234567 and 3.14 and -0.001, 1,000,000, 2026-11-23 12:34:56, 0x7fff, 1e-10",
    "    leading spaces, then   runs   of    spaces     and tabs\t\t\tend",
    "\n\n\nnewlines\n\n \n\t\n  \r\n\r\n   mixed   \n",
    "trailing spaces     ",
    " ",
    "Mixed: The 东京 office (東京オフィス) opened in 2019 🎉 — price ¥12,800 / $85.50.",
    "URLs https://example.com/path?q=1&r=%20x and e-mail a.b@c.de; café naïve résumé",
    "e\u0301 vs \u00e9, \ufb01 ligature, \uff26\uff35\uff2c\uff2c width, \u200bzero width",
]
CHAT_TEXTS = [
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n你好 🙂<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n\n</think>\n\n",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call><|endoftext|>",
]

# The llama.cpp half, run by .venv-ggml's python: reads a JSON job on stdin,
# writes one JSON object on stdout (llama.cpp's own log goes to stderr).
CHILD = r'''
import json, struct, sys
import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as Q
from llama_cpp import Llama

job = json.load(sys.stdin)

def expected(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        base = 8 + n
        def get(name, dtype):
            t = hdr[name]
            a, b = t["data_offsets"]
            f.seek(base + a)
            return np.frombuffer(f.read(b - a), dtype=dtype).reshape(t["shape"])
        return [(get(f"tokens.{s}", np.int32).tolist(), get(f"logits.{s}", np.float32))
                for s in range(int(hdr["__metadata__"]["n_seq"]))]

def finite(t):
    d = np.asarray(t.data)
    if t.tensor_type == Q.BF16:
        d = (d.reshape(-1).view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    elif t.tensor_type == Q.Q8_0:  # per block of 34 bytes: f16 scale, 32 int8
        d = d.reshape(-1, 34)[:, :2].copy().view(np.float16)
    return bool(np.isfinite(d).all())

def parse(path):
    r = GGUFReader(path)
    kv = {}
    for name, f in r.fields.items():
        if not name.startswith("GGUF."):
            v = f.contents()
            kv[name] = {"len": len(v)} if isinstance(v, list) else v
    spans, tensors, bad = [], [], []
    for t in r.tensors:
        tensors.append([t.name, t.tensor_type.name, [int(x) for x in t.shape], int(t.n_elements)])
        spans.append((t.data_offset, t.data_offset + t.n_bytes, t.name))
        if (t.data_offset - r.data_offset) % r.alignment:
            bad.append(f"{t.name}: offset {t.data_offset} not aligned to {r.alignment}")
        if not finite(t):
            bad.append(f"{t.name}: non-finite values")
    spans.sort()
    for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
        if b0 < a1:
            bad.append(f"{an} and {bn} overlap")
    if spans and spans[-1][1] > len(r.data):
        bad.append(f"{spans[-1][2]}: ends at {spans[-1][1]}, past the file ({len(r.data)})")
    return {"kv": kv, "tensors": tensors, "bad": bad}

def run(path, seqs):
    res = []
    for toks, want in seqs:
        llm = Llama(model_path=path, n_ctx=max(64, len(toks)), n_batch=max(64, len(toks)),
                    logits_all=True, verbose=False, n_threads=1, n_gpu_layers=0,
                    type_k=0, type_v=0)  # F32 KV cache (default F16)
        llm.eval(toks)
        got = np.array(llm.scores[:len(toks)], dtype=np.float64)
        llm.close()
        w = want.astype(np.float64)
        scale = np.abs(w).max(axis=1)
        err = np.abs(got - w).max(axis=1) / scale
        top2 = np.sort(w, axis=1)[:, -2:]
        gap = (top2[:, 1] - top2[:, 0]) / scale
        same = got.argmax(1) == w.argmax(1)
        res.append({"T": len(toks), "err": float(err.max()), "errs": [float(x) for x in err],
                    "agree": int(same.sum()),
                    "flip_gaps": [float(g) for g in gap[~same]]})
    return res

def load_error(path):
    """Load again with llama.cpp's log on (into a file) for the reason."""
    import os, tempfile
    with tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            Llama(model_path=path, verbose=True, n_ctx=64, n_threads=1)
            why = "loads the second time"
        except Exception as e:
            why = str(e)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        for line in log.read().decode("utf-8", "replace").splitlines():
            if "error loading model:" in line:
                why = line.split("error loading model:", 1)[1].strip()
    return why

out = {"files": {}, "tokenize": None}
seqs = expected(job["expected"])
for path in job["files"]:
    res = {"parse": None, "runs": None}
    try:
        res["parse"] = parse(path)
    except Exception as e:
        res["parse_error"] = f"{type(e).__name__}: {e}"
    try:
        res["runs"] = run(path, seqs)
    except Exception as e:
        res["load_error"] = load_error(path)
    out["files"][path] = res
if job.get("tokenize"):
    tk = job["tokenize"]
    try:
        llm = Llama(model_path=tk["path"], vocab_only=True, verbose=False)
        out["tokenize"] = [llm.tokenize(t.encode("utf-8"), add_bos=False, special=sp)
                           for t, sp in tk["texts"]]
    except Exception as e:
        out["tokenize_error"] = f"{type(e).__name__}: {e}"
json.dump(out, sys.stdout)
'''


def die(msg, code=2):
    print(f"convert_crosscheck: {msg}", file=sys.stderr)
    sys.exit(code)


def ensure_venv(script=__file__):
    """Re-execute script (this one by default) under the fixture venv's
    python unless already there."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    py = os.path.join(VENV, "bin", "python")
    if not os.access(py, os.X_OK):  # like make crosscheck without .venv-ggml
        print(f"convert_crosscheck: no fixture venv {VENV}, skipped (python3 -m venv .venv &&"
              " .venv/bin/pip install -r testdata/gen/requirements.txt; or set QK_VENV)")
        sys.exit(0)
    if os.environ.get("QK_CROSSCHECK_REEXEC"):
        die(f"{py} does not run as the venv {VENV}")
    os.environ["QK_CROSSCHECK_REEXEC"] = "1"
    os.execv(py, [py, os.path.abspath(script)] + sys.argv[1:])


def ggml_python():
    py = os.path.join(VENV_GGML, "bin", "python")
    if not os.path.isdir(VENV_GGML):
        print(f"convert_crosscheck: no llama.cpp venv {VENV_GGML}, skipped")
        sys.exit(0)
    r = subprocess.run([py, "-c", "import llama_cpp, gguf; print(llama_cpp.__version__)"],
                       capture_output=True, text=True) if os.access(py, os.X_OK) else None
    if r is None or r.returncode:
        die(f"needs {VENV_GGML} with llama-cpp-python 0.3.36 and gguf"
            " (python3 -m venv .venv-ggml && .venv-ggml/bin/pip install"
            " llama-cpp-python==0.3.36 gguf; or set QK_VENV_GGML)")
    return py, r.stdout.strip()


def source_info(fxdir):
    """(dtype of most elements, element count less mtp.* and the vision
    towers of Qwen3.5 and the VL models (model.visual.*, or visual.* in older
    Qwen2-VL/2.5-VL saves), which a GGUF model file does not hold)."""
    from safetensors import safe_open
    files = sorted(f for f in os.listdir(fxdir)
                   if f.endswith(".safetensors") and f != "expected.safetensors")
    by_type, n = {}, 0
    for fn in files:
        with safe_open(os.path.join(fxdir, fn), "np") as f:
            for name in f.keys():
                sl = f.get_slice(name)
                k = 1
                for d in sl.get_shape():
                    k *= d
                by_type[sl.get_dtype()] = by_type.get(sl.get_dtype(), 0) + k
                if not name.startswith(("mtp.", "model.visual.", "visual.")):
                    n += k
    return max(by_type, key=by_type.get), n


def want_type(name, shape, target):
    """The ggml type llama.cpp's converter rules give a tensor (ggml shape)."""
    if len(shape) <= 1 or name.endswith("_norm.weight") or name.endswith(F32_NAMES) \
            or not name.endswith(".weight"):
        return "F32"
    if target == "Q8_0" and shape[0] % 32:
        return "F16"
    return target


def check_parse(fr, cfg, target, n_src):
    """List of problems in gguf-py's view of one file."""
    p = fr["parse"]
    if p is None:
        return [f"gguf-py cannot parse it: {fr.get('parse_error')}"]
    bad = list(p["bad"])
    kv = p["kv"]
    arch = ARCH[cfg["model_type"]]
    want = {"general.architecture": arch, "general.file_type": FILE_TYPE[target],
            f"{arch}.block_count": cfg["num_hidden_layers"],
            f"{arch}.embedding_length": cfg["hidden_size"],
            "tokenizer.ggml.tokens": {"len": cfg["vocab_size"]}}
    for k, v in want.items():
        if kv.get(k) != v:
            bad.append(f"{k} = {kv.get(k)!r}, expected {v!r}")
    n = 0
    for name, ty, shape, ne in p["tensors"]:
        n += ne
        wt = want_type(name, shape, target)
        if ty != wt:
            bad.append(f"tensor {name} {shape}: {ty}, expected {wt}")
    if n != n_src:
        bad.append(f"{n} elements in tensors, the checkpoint has {n_src}")
    return bad


def check_runs(runs, target, moe):
    """(problems, max err, median err, top-1) of llama.cpp's logits."""
    tol = (TOL_MOE if moe else TOL)[target]
    errs = sorted(e for r in runs for e in r["errs"])
    err, med = errs[-1], errs[len(errs) // 2]
    bad = []
    if err > tol:
        bad.append(f"rel err {err:.2e} > {tol:.0e}")
    if med > TOL_MEDIAN[target]:
        bad.append(f"median rel err {med:.2e} > {TOL_MEDIAN[target]:.0e}")
    gaps = sorted(g for r in runs for g in r["flip_gaps"])
    if gaps:
        what = ", ".join(f"{g:.1e}" for g in gaps)
        if gaps[-1] > NEAR_TIE[target]:
            bad.append(f"top-1 differs where transformers' top-2 gap / max|logit| is {what}"
                       f" (near-tie limit {NEAR_TIE[target]:.0e})")
        else:
            bad.append(f"(top-1 differs only at near-ties: top-2 gap / max|logit| {what})")
    agree = sum(r["agree"] for r in runs)
    total = sum(r["T"] for r in runs)
    return bad, err, med, f"{agree}/{total}"


def fixture_texts(fxdir):
    from safetensors import safe_open
    with safe_open(os.path.join(fxdir, "expected.safetensors"), "np") as f:
        meta = f.metadata()
        seqs = [(meta[f"text.{s}"], f.get_tensor(f"tokens.{s}").tolist())
                for s in range(int(meta["n_seq"]))]
    # sequence 0 is plain text, the others chat renderings with special
    # tokens; qwen3_realvocab holds its chat rendering alone
    return [(t, s > 0 or t.startswith("<|im_start|>"), ids)
            for s, (t, ids) in enumerate(seqs)]


def crosscheck(fx, outtypes, work, conv, gpy):
    """Print one fixture's rows; returns (n_failures, tokenizer rows)."""
    fxdir = os.path.join(MODELS, fx)
    cfg = json.load(open(os.path.join(fxdir, "config.json")))
    # Qwen3.5 nests the text model's keys under text_config (llama.cpp merges
    # them over the top level); model_type stays the top-level one
    cfg = {**cfg, **cfg.get("text_config", {}), "model_type": cfg["model_type"]}
    src, n_src = source_info(fxdir)
    fails = 0
    files = {}
    for ot in outtypes:
        out = os.path.join(work, f"{fx}.{ot}.gguf")
        r = subprocess.run([conv, "-q", fxdir, "-o", out, "--outtype", ot],
                           capture_output=True, text=True)
        if r.returncode:
            print(f"{fx:16} {ot:5} FAIL qwen-convert exit {r.returncode}: {r.stderr.strip()}")
            fails += 1
            continue
        files[ot] = out
    if not files:
        return fails, []
    texts = fixture_texts(fxdir)
    tok_jobs = [(t, sp) for t, sp, _ in texts]
    if fx == "qwen3_realvocab":
        # (text given to llama.cpp, special, text given to HF tokenizers)
        real = [(t, False, t) for t in TEXTS + ["\n".join(TEXTS[:-1])]]
        real += [(t, True, t) for t in CHAT_TEXTS]
        real += [(unicodedata.normalize("NFC", t), sp, t) for t, sp, _ in real
                 if unicodedata.normalize("NFC", t) != t]
        tok_jobs += [(t, sp) for t, sp, _ in real]
    job = {"files": list(files.values()), "expected": os.path.join(fxdir, "expected.safetensors"),
           "tokenize": {"path": next(iter(files.values())), "texts": tok_jobs}}
    r = subprocess.run([gpy, "-c", CHILD], input=json.dumps(job), capture_output=True, text=True)
    if r.returncode:
        print(f"{fx:16} FAIL the llama.cpp side failed: {r.stderr.strip()[-2000:]}")
        return fails + 1, []
    res = json.loads(r.stdout)
    moe = "num_experts" in cfg
    dense_moe = moe and bool(cfg.get("mlp_only_layers"))
    for ot, path in files.items():
        fr = res["files"][path]
        target = SRC_TYPE.get(src) if ot == "auto" else ot.upper()
        if target is None:
            print(f"{fx:16} {ot:5} FAIL source dtype {src}, expected F32, F16 or BF16")
            fails += 1
            continue
        pb = check_parse(fr, cfg, target, n_src)
        pcol = "ok" if not pb else "FAIL"
        if fr["parse"]:
            pcol += f" {len(fr['parse']['kv'])}k {len(fr['parse']['tensors'])}t"
        if fr.get("runs") is None:
            why = fr.get("load_error", "?")
            if dense_moe and "ffn_gate_inp" in why:  # the router of a dense layer
                lcol, rb = f"no load, expected (mlp_only_layers): {why}", []
            else:
                lcol, rb = f"FAIL cannot load: {why}", [why]
        else:
            rb, err, med, agree = check_runs(fr["runs"], target, moe)
            tol = (TOL_MOE if moe else TOL)[target]
            lcol = (f"{err:9.2e} {med:9.2e} {agree:>7} {tol:7.0e} {TOL_MEDIAN[target]:7.0e}"
                    f" {'FAIL' if any(b[0] != '(' for b in rb) else 'ok'}")
        print(f"{fx:16} {ot:5} {target:5} {pcol:16} {lcol}")
        for b in pb + rb:
            print(f"{'':23} - {b}")
        fails += bool(pb) + any(b[0] != "(" for b in rb)
    # tokenization: llama.cpp ids against transformers' (fixture) / HF tokenizers'
    got = res["tokenize"]
    if got is None:
        print(f"{fx:16} FAIL llama.cpp cannot load the vocabulary: {res.get('tokenize_error')}")
        return fails + 1, []
    rows = []
    for (t, sp, ids), g in zip(texts, got):
        rows.append((fx, "transformers", t, sp, ids, g, None))
    if fx == "qwen3_realvocab":
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(os.path.join(fxdir, "tokenizer.json"))
        for (lt, sp, ht), g in zip(real, got[len(texts):]):
            nfc = unicodedata.normalize("NFC", ht)
            # tokenizer.json's NFC normalizer has no GGUF key and llama.cpp
            # applies none: a text NFC changes may differ, its NFC form may not
            why = "llama.cpp applies no NFC normalizer" if lt == ht and nfc != ht else None
            ref = "tokenizers" if lt == ht else "tokenizers*"
            rows.append((fx, ref, ht, sp, tok.encode(ht, add_special_tokens=False).ids, g, why))
    return fails, rows


def main():
    ensure_venv()
    ap = argparse.ArgumentParser(description="qwen-convert against llama.cpp, gguf-py, HF")
    ap.add_argument("--outtypes", default=",".join(OUTTYPES))
    ap.add_argument("--keep", default=None, help="write the GGUF files here and keep them")
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"),
                    help="directory of qwen-convert (make crosscheck: $(BINDIR))")
    ap.add_argument("--qwen-convert", default=None, help="the converter itself (default BIN/)")
    ap.add_argument("fixtures", nargs="*")
    a = ap.parse_args()
    outtypes = a.outtypes.split(",")
    if any(o not in OUTTYPES for o in outtypes):
        die(f"--outtypes {a.outtypes}: expected a list of {','.join(OUTTYPES)}")
    a.qwen_convert = os.path.abspath(a.qwen_convert or os.path.join(a.bin, "qwen-convert"))
    if not os.access(a.qwen_convert, os.X_OK):
        die(f"{a.qwen_convert}: not built (make)")
    gpy, lver = ggml_python()
    fixtures = a.fixtures or sorted(d for d in os.listdir(MODELS)
                                    if os.path.isfile(os.path.join(MODELS, d, "expected.safetensors")))
    for fx in fixtures:
        if not os.path.isfile(os.path.join(MODELS, fx, "expected.safetensors")):
            die(f"{fx}: no such fixture in {MODELS}")
    import tokenizers
    print(f"convert_crosscheck: llama-cpp-python {lver}, tokenizers {tokenizers.__version__},"
          f" {len(fixtures)} fixtures, outtypes {','.join(outtypes)}")
    print(f"{'':45}llama.cpp logits vs transformers")
    print(f"{'fixture':16} {'out':5} {'type':5} {'gguf-py':16} {'max err':>9} {'median':>9}"
          f" {'top-1':>7} {'tol max':>7} {'tol med':>7}")
    fails, rows = 0, []
    with tempfile.TemporaryDirectory(prefix="convert-crosscheck-") as tmp:
        work = a.keep or tmp
        os.makedirs(work, exist_ok=True)
        for fx in fixtures:
            f, r = crosscheck(fx, outtypes, work, a.qwen_convert, gpy)
            fails += f
            rows += r
    print("\ntokenization: llama.cpp (vocab_only, no BOS) against the reference ids")
    print(f"{'fixture':16} {'reference':12} {'special':7} {'ids':>5}  text")
    for fx, ref, t, sp, want, got, why in rows:
        ok = want == got
        fails += not ok and not why
        verdict = "ok  " if ok else "FAIL" if not why else "diff"
        print(f"{fx:16} {ref:12} {str(sp):7} {len(want):5}  {verdict} {t[:48]!r}")
        if not ok and why:
            print(f"{'':42} differs as expected: {why}")
        if not ok:
            i = next((i for i, (x, y) in enumerate(zip(want, got)) if x != y),
                     min(len(want), len(got)))
            print(f"{'':42} first difference at {i}: want {want[i:i + 6]}, llama.cpp {got[i:i + 6]}")
    print("tokenizers*: llama.cpp was given the NFC form of the text, HF tokenizers the text")
    print(f"\nconvert_crosscheck: {'all checks hold' if not fails else f'{fails} FAILED'}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
