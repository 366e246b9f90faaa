"""Cross-check formats/tokenizer*.c / tok_*.c against llama.cpp's own
converter and Hugging Face tokenizers.

    tok_oracle.py golden   write testdata/tokenizer/<fixture>.gguf: the
                           vocab-only GGUF llama.cpp's convert_hf_to_gguf.py
                           makes for every small fixture (read by
                           tests/unit/test_tokenizer.c in `make check`)
    tok_oracle.py check    by hand: compare our tokenizer keys with
                           llama.cpp's for every fixture, the real Qwen3
                           tokenizer and a Qwen1 qwen.tiktoken rebuilt from
                           it; check that the tokenizer.json tk_write_hf
                           writes encodes text to the same ids as the
                           original (HF tokenizers) and, for Qwen1, as
                           tiktoken itself

Environment:
  - the fixture venv (.venv at the repository root, testdata/gen/README.md):
    transformers, tokenizers, tiktoken, torch;
  - llama.cpp's converter from the llama-cpp-python sdist (version 0.3.36
    was used):  pip download --no-deps --no-binary :all: llama-cpp-python
    then unpack it and set LLAMA_CPP_DIR=<unpacked>/vendor/llama.cpp;
  - `check` needs build/tests/test_tokenizer (make build/tests/test_tokenizer);
    it runs it with QK_TOK_ORACLE_IN=dir1:dir2:... and QK_TOK_ORACLE_OUT=DIR,
    which makes the test write, for each dir, our vocab-only DIR/<name>.gguf
    (tk_add_to_gguf) and DIR/<name>/tokenizer*.json (tk_write_hf).

How llama.cpp's converter is run (the only changes to it):
  - `sentencepiece` is a stub module: Qwen2Model.set_vocab tries the
    SentencePiece path first and needs the import to succeed so that the
    missing tokenizer.model raises FileNotFoundError;
  - for the small fixtures, whose BPE was trained here, get_vocab_base_pre
    returns "qwen2": their token ids for its test string hash to nothing it
    knows. The real Qwen3 tokenizer and the Qwen1 vocabulary rebuilt from it
    run the unpatched hash and must come out "qwen2" by themselves;
  - Qwen1 (QwenModel._set_vocab_qwen) needs Qwen's remote tokenizer
    (trust_remote_code); AutoTokenizer.from_pretrained returns a stand-in
    with what that code reads: mergeable_ranks from qwen.tiktoken
    ("base64 rank" lines), special_tokens <|endoftext|>, <|im_start|>,
    <|im_end|>, <|extra_0..204|> numbered after the ranks, get_vocab() =
    mergeable_ranks, and encode() = tiktoken with Qwen1's pattern after NFC,
    as tokenization_qwen.py does.

Results recorded on 2026-11-23 (llama-cpp-python 0.3.36 sdist, gguf-py
vendored in it, transformers 5.23.0, tokenizers 0.23.3, tiktoken 0.14.0):
  - every small fixture, qwen3_realvocab and qwen1_from_qwen3: all tokenizer
    keys equal in value and GGUF type (tokens, token_type INT32, merges,
    ids UINT32, add_bos/add_eos BOOL, chat template); only the order of the
    id keys differs (llama.cpp writes them in the order it found them);
  - qwen3_realvocab: llama.cpp picks pre "qwen2" by hash; 151936 tokens,
    151387 merges, eos 151645, pad 151643, bos 151643, add_bos/add_eos false;
  - qwen1_from_qwen3 (the 151643 Qwen3 regular tokens as qwen.tiktoken):
    llama.cpp's hash gives "qwen2"; its rebuilt merges equal the Qwen3
    tokenizer.json merges one for one;
  - tk_write_hf output: same ids as the original tokenizer.json for every
    text below, and for Qwen1 the same ids as tiktoken.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")
GOLDEN = os.path.join(ROOT, "testdata", "tokenizer")
SMALL = ["qwen1", "qwen1_5", "qwen1_5_moe", "qwen2", "qwen2_5_yarn", "qwen2_moe",
         "qwen3", "qwen3_moe", "qwen3_next"]
QWEN1_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
             r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN1_SPECIALS = (["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
                  + [f"<|extra_{i}|>" for i in range(205)])

TEXTS = [
    "Hello, world! It's a test; we'll see: they're sure I'd agree.",
    "The train to Berlin leaves at 8:45, but today it is late.",
    "Der Zug fährt um 8:45 Uhr ab. Les enfants préparent le dîner.",
    "今天的天气很好，我们去公园散步。東京の駅はとても大きいです。",
    "Москва и Петербург. 한국어 문장입니다. العربية نص قصير. हिन्दी पाठ।",
    "Emoji 🙂🚀👍🏽 and symbols → ≤ ≥ ∑, numbers 3.14159 2024 1000000",
    "def add(a, b):\n    return a + b\n\n\tindented\r\nline  with   spaces   ",
    "<|im_start|>user\nHow many legs?<|im_end|>\n<|im_start|>assistant\n",
    "<think>\nreasoning\n</think>\n\n<tool_call>{}</tool_call><|endoftext|>",
    "e\u0301 combining (NFC folds it), ﬁ ligature, ＦＵＬＬ width",
]


def llama_dir():
    d = os.environ.get("LLAMA_CPP_DIR")
    if not d or not os.path.isfile(os.path.join(d, "convert_hf_to_gguf.py")):
        sys.exit("tok_oracle: set LLAMA_CPP_DIR to llama.cpp's source (see the docstring)")
    return d


# The code run in a child interpreter: llama.cpp's converter, patched as
# the docstring says. argv: LLAMA_CPP_DIR model_dir out.gguf patch_pre
RUNNER = r'''
import base64, runpy, sys, types, unicodedata
ll, model_dir, out, patch_pre = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
sys.path.insert(0, ll + "/gguf-py")
sys.path.insert(0, ll)
import importlib.machinery
sp = types.ModuleType("sentencepiece")
sp.__spec__ = importlib.machinery.ModuleSpec("sentencepiece", None)
sp.SentencePieceProcessor = object
sys.modules["sentencepiece"] = sp
import conversion.base as base
if patch_pre:
    base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "qwen2"

import os, transformers
tt = os.path.join(model_dir, "qwen.tiktoken")
if os.path.isfile(tt):
    import tiktoken
    SPECIALS = %(specials)r
    class QwenStandIn:
        def __init__(self):
            ranks = {}
            with open(tt, "rb") as f:
                for line in f.read().splitlines():
                    if line:
                        tok, rank = line.split()
                        ranks[base64.b64decode(tok)] = int(rank)
            self.mergeable_ranks = ranks
            n = len(ranks)
            self.special_tokens = {s: n + i for i, s in enumerate(SPECIALS)}
            self.enc = tiktoken.Encoding("qwen1_oracle", pat_str=%(pat)r,
                                         mergeable_ranks=ranks,
                                         special_tokens=self.special_tokens)
        def get_vocab(self):
            return self.mergeable_ranks
        def encode(self, text, **kw):
            return self.enc.encode(unicodedata.normalize("NFC", text), allowed_special="all")
    real = transformers.AutoTokenizer.from_pretrained
    def from_pretrained(path, *a, **kw):
        if os.path.abspath(str(path)) == os.path.abspath(model_dir):
            return QwenStandIn()
        return real(path, *a, **kw)
    transformers.AutoTokenizer.from_pretrained = from_pretrained

sys.argv = ["convert_hf_to_gguf.py", "--vocab-only", "--outfile", out, model_dir]
runpy.run_path(ll + "/convert_hf_to_gguf.py", run_name="__main__")
''' % {"specials": QWEN1_SPECIALS, "pat": QWEN1_PAT}


def llama_vocab_gguf(model_dir, out, patch_pre):
    ll = llama_dir()
    env = dict(os.environ, PYTHONPATH=ll + "/gguf-py", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    r = subprocess.run([sys.executable, "-c", RUNNER, ll, model_dir, out,
                        "1" if patch_pre else "0"], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-4000:])
        sys.exit(f"tok_oracle: llama.cpp's converter failed on {model_dir}")


def tokenizer_kv(path):
    """{key: (type names, value)} of every tokenizer.* key (gguf-py reader)."""
    sys.path.insert(0, llama_dir() + "/gguf-py")
    from gguf import GGUFReader
    r = GGUFReader(path)
    out = {}
    for k, f in r.fields.items():
        if k.startswith("tokenizer."):
            out[k] = ([t.name for t in f.types], f.contents())
    return out


def compare(name, ours, theirs):
    a, b = tokenizer_kv(ours), tokenizer_kv(theirs)
    bad = 0
    for k in sorted(set(a) | set(b)):
        if k not in a or k not in b:
            print(f"  {name}: key {k} only in {'ours' if k in a else 'llama.cpp'}")
            bad += 1
        elif a[k] != b[k]:
            ta, va = a[k]
            tb, vb = b[k]
            if ta != tb:
                print(f"  {name}: {k}: type {ta} vs llama.cpp {tb}")
            elif isinstance(va, list):
                i = next((i for i, (x, y) in enumerate(zip(va, vb)) if x != y),
                         min(len(va), len(vb)))
                print(f"  {name}: {k}: lengths {len(va)}/{len(vb)}, first difference at {i}")
            else:
                print(f"  {name}: {k}: {str(va)[:80]!r} vs llama.cpp {str(vb)[:80]!r}")
            bad += 1
    ids = {k: v[1] for k, v in b.items() if k.endswith("_id") or "add_" in k}
    print(f"{name}: {len(b)} llama.cpp keys, {'equal' if not bad else f'{bad} differ'};"
          f" {len(b['tokenizer.ggml.tokens'][1])} tokens,"
          f" {len(b.get('tokenizer.ggml.merges', (0, []))[1])} merges,"
          f" pre {b['tokenizer.ggml.pre'][1]}, {ids}")
    return bad


def golden():
    os.makedirs(GOLDEN, exist_ok=True)
    for fx in SMALL:
        out = os.path.join(GOLDEN, fx + ".gguf")
        llama_vocab_gguf(os.path.join(MODELS, fx), out, patch_pre=True)
        print(f"wrote {os.path.relpath(out, ROOT)} ({os.path.getsize(out)} bytes)")


def qwen1_from_qwen3(tmp):
    """A Qwen1-style directory whose qwen.tiktoken holds the regular tokens
    of the real Qwen3 tokenizer (rank = id)."""
    src = os.path.join(MODELS, "qwen3_realvocab")
    d = os.path.join(tmp, "qwen1_from_qwen3")
    os.makedirs(d)
    with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    dec = {c: b for b, c in bytes_to_unicode().items()}
    with open(os.path.join(d, "qwen.tiktoken"), "wb") as f:
        for tok, i in sorted(vocab.items(), key=lambda kv: kv[1]):
            f.write(base64.b64encode(bytes(dec[c] for c in tok)) + b" %d\n" % i)
    with open(os.path.join(MODELS, "qwen1", "config.json")) as f:
        cfg = json.load(f)
    cfg["vocab_size"] = 151936
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    shutil.copy(os.path.join(MODELS, "qwen1", "tokenizer_config.json"), d)
    return d


def check_roundtrip(name, orig_dir, ours_dir):
    """Encode TEXTS with the original tokenizer and with tk_write_hf's."""
    from tokenizers import Tokenizer
    ours = Tokenizer.from_file(os.path.join(ours_dir, "tokenizer.json"))
    tt = os.path.join(orig_dir, "qwen.tiktoken")
    if os.path.isfile(tt):
        import tiktoken
        ranks = {}
        with open(tt, "rb") as f:
            for line in f.read().splitlines():
                if line:
                    tok, rank = line.split()
                    ranks[base64.b64decode(tok)] = int(rank)
        n_vocab = json.load(open(os.path.join(orig_dir, "config.json")))["vocab_size"]
        special = {s: len(ranks) + i for i, s in enumerate(QWEN1_SPECIALS)
                   if len(ranks) + i < n_vocab}
        enc = tiktoken.Encoding("qwen1_check", pat_str=QWEN1_PAT, mergeable_ranks=ranks,
                                special_tokens=special)
        ref = lambda t: enc.encode(unicodedata.normalize("NFC", t), allowed_special="all")
        what = "tiktoken"
    else:
        orig = Tokenizer.from_file(os.path.join(orig_dir, "tokenizer.json"))
        ref = lambda t: orig.encode(t, add_special_tokens=False).ids
        what = "the original tokenizer.json"
    bad = 0
    for t in TEXTS:
        a, b = ours.encode(t, add_special_tokens=False).ids, ref(t)
        if a != b:
            print(f"  {name}: {t[:40]!r}: {a[:12]} vs {what} {b[:12]}")
            bad += 1
    from transformers import AutoTokenizer
    auto = AutoTokenizer.from_pretrained(ours_dir)
    if auto.encode(TEXTS[7], add_special_tokens=False) != ref(TEXTS[7]):
        print(f"  {name}: transformers AutoTokenizer on our files disagrees")
        bad += 1
    print(f"{name}: tk_write_hf tokenizer.json encodes {len(TEXTS)} texts "
          f"{'like' if not bad else 'UNLIKE'} {what}; AutoTokenizer loads it")
    return bad


def check(test_bin):
    with tempfile.TemporaryDirectory() as tmp:
        dirs = [os.path.join(MODELS, fx) for fx in SMALL + ["qwen3_realvocab"]]
        dirs.append(qwen1_from_qwen3(tmp))
        outd = os.path.join(tmp, "ours")
        os.makedirs(outd)
        env = dict(os.environ, QK_TOK_ORACLE_IN=":".join(dirs), QK_TOK_ORACLE_OUT=outd)
        r = subprocess.run([test_bin], env=env, capture_output=True, text=True, cwd=ROOT)
        if r.returncode != 0:
            sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
            sys.exit("tok_oracle: the test binary failed")
        bad = 0
        for d in dirs:
            name = os.path.basename(d)
            theirs = os.path.join(tmp, name + ".llama.gguf")
            real = name in ("qwen3_realvocab", "qwen1_from_qwen3")
            llama_vocab_gguf(d, theirs, patch_pre=not real)
            bad += compare(name, os.path.join(outd, name + ".gguf"), theirs)
            if name == "qwen1_from_qwen3":
                m1 = tokenizer_kv(theirs)["tokenizer.ggml.merges"][1]
                q3 = json.load(open(os.path.join(MODELS, "qwen3_realvocab", "tokenizer.json"),
                                    encoding="utf-8"))["model"]["merges"]
                same = m1 == [" ".join(p) for p in q3]
                print(f"{name}: llama.cpp's rebuilt merges {'equal' if same else 'DIFFER FROM'}"
                      f" Qwen3's tokenizer.json merges")
                bad += not same
            bad += check_roundtrip(name, d, os.path.join(outd, name))
    print("tok_oracle: all equal" if not bad else f"tok_oracle: {bad} differences")
    return 1 if bad else 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("golden", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "golden":
        golden()
        return 0
    test_bin = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build", "tests",
                                                                  "test_tokenizer")
    return check(test_bin)


if __name__ == "__main__":
    sys.exit(main())
