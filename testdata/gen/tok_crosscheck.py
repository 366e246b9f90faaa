#!/usr/bin/env python3
"""Differential fuzz of the tokenizer encoder (formats/tokenizer/tk_encode.h)
against Hugging Face tokenizers 0.23.3 and tiktoken 0.14.0.

Random strings from a mix of scripts and hard cases (letters and marks of
many scripts, digits of several systems, every kind of whitespace and runs
of it, CR/LF, apostrophe contractions in any case, emoji with modifiers,
ZWJ and flags, combining marks in random order, Hangul jamo, any code point
of any plane, added and special tokens and pieces of them, and raw random
bytes for ill-formed UTF-8) are encoded by build/tools/tok_dump (--nul, one
record per string) and by the oracle; every id must agree:

  qwen3      tokenizers, the real Qwen3 tokenizer.json (testdata/models/qwen3_realvocab)
  nospecial  the same with encode_special_tokens = True (tk_encode without
             TK_ENC_PARSE_SPECIAL)
  qwen35     the same vocabulary with the Qwen3.5 pre-tokenizer regex
  fixture    tokenizers, the small fixtures' BPE
  qwen1      tiktoken, Qwen1's qwen.tiktoken (NFC, specials; as tok_corpus.py)

Ill-formed UTF-8 goes to the oracle as bytes.decode("utf-8", "replace").

Then every code point NFC can touch (a combining class, a canonical
decomposition or NFC_QC not Yes in Debian's UCD 15.0, about 3000) is
encoded in 11 contexts (alone, after a letter, before and after marks of
other classes, with Hangul jamo, with the Oriya and Sinhala vowel signs
that compose as second characters) by the fixtures' BPE: the ids equal
tokenizers' only where our NFC (as Unicode 9.0 defines it, the version of
tokenizers' normalizer) gives its bytes.

usage: testdata/gen/tok_crosscheck.py [--bin DIR] [--n N] [--seed S] [--only NAME]
(make crosscheck runs it with N = 3000 per tokenizer; it re-runs itself
under .venv/bin/python, which has tokenizers, when the interpreter that
started it has not.)
Exit status 0 when all agree, 1 with the first differences printed.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

try:
    import tokenizers  # noqa: F401
    import tiktoken  # noqa: F401
except ImportError:
    venv = os.path.join(ROOT, ".venv/bin/python")
    if os.path.exists(venv) and os.path.realpath(sys.executable) != os.path.realpath(venv):
        os.execv(venv, [venv] + sys.argv)
    print("tok_crosscheck: no tokenizers/tiktoken (.venv), skipped")
    sys.exit(0)

sys.path.insert(0, HERE)
import tok_corpus  # noqa: E402

REAL = os.path.join(ROOT, "testdata/models/qwen3_realvocab")

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    " ", "\t", "\n", "\r\n", "\r", "\u00a0\u3000\u2028\u2029\u0085\u000b\u000c\u2003\u200b\u180e\ufeff\u001c",
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可",
    "あいうえおかきくけこアイウエオカキクケコー漢字",
    "가나다라마바사아자차카타파하한국어",
    "\u1100\u1161\u11a8\u1112\u1173\u11af\u110b\u1165",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГД",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي\u064b\u064c\u0651\u0670",
    "कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह\u093f\u0940\u0941\u094d\u0902\u093c",
    "กขฃคฅฆงจฉชซฌญฎฏฐ\u0e31\u0e34\u0e35\u0e47\u0e48\u0e49",
    "\u0300\u0301\u0302\u0303\u0308\u0323\u0327\u0316\u05ae\u0315\u034f\u0345",
    "٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３Ⅻⅳ½²",
    "👍👋🙏🧑👩👨😀😂🤔🎉❤⭐",
    "\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff\u200d\ufe0f\u20e3",
    "\U0001f1fa\U0001f1f8\U0001f1e8\U0001f1f3\U0001f1ef\U0001f1f5",
    "ſKÅΩﬁ\u212a\u212b\u2126",
]
WORDS = ["'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "'D", "'ſ", "''",
         "don't", " the", "Hello", "\n\n", "    ", "\t\t", " \n ", "  \r\n", "e\u0301",
         "\u1100\u1161", "a\u0308\u0301"]


def rand_cp(rng):
    while True:
        c = rng.choice([rng.randrange(0x80, 0x800), rng.randrange(0x800, 0x10000),
                        rng.randrange(0x10000, 0x30000), rng.randrange(0xE0000, 0x110000)])
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def rand_string(rng, tokens):
    out = []
    for _ in range(rng.randrange(1, 40)):
        k = rng.random()
        if k < .55:
            pool = rng.choice(POOLS)
            out.append("".join(rng.choice(pool) for _ in range(rng.randrange(1, 8))))
        elif k < .7:
            out.append(rng.choice(WORDS))
        elif k < .8:
            out.append(rand_cp(rng))
        elif k < .93:
            t = rng.choice(tokens)
            out.append(t if rng.random() < .7 else t[:rng.randrange(1, len(t))])
        else:
            out.append(" " * rng.randrange(1, 9))
    return "".join(out)


def rand_bytes(rng, tokens):
    s = rand_string(rng, tokens).encode("utf-8")
    b = bytearray(s)
    for _ in range(rng.randrange(1, 6)):
        pos = rng.randrange(len(b) + 1)
        b[pos:pos] = bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randrange(1, 4)))
    return bytes(b).replace(b"\0", b"")


def ours(bin_tok, args, records):
    with tempfile.NamedTemporaryFile(suffix=".bin") as fh:
        fh.write(b"\0".join(records) + b"\0")
        fh.flush()
        res = subprocess.run([bin_tok, "--nul"] + args + [fh.name], capture_output=True)
    if res.returncode not in (0, 1):
        sys.exit("tok_dump failed (%d): %s" % (res.returncode, res.stderr.decode()))
    lines = res.stdout.decode().split("\n")[:len(records)]
    if len(lines) != len(records) or res.returncode:
        sys.exit("tok_dump gave %d results for %d records (exit %d): %s"
                 % (len(lines), len(records), res.returncode, res.stderr.decode()))
    return [[int(x) for x in ln.split()] for ln in lines]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="bin")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--only")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print("tok_crosscheck: seed %d, %d strings per tokenizer" % (seed, args.n))
    build = os.environ.get("BUILD", "build")
    subprocess.run(["make", "-s", "BUILD=" + build, build + "/tools/tok_dump"], cwd=ROOT,
                   check=True)
    bin_tok = os.path.join(ROOT, build, "tools/tok_dump")
    import json
    tj = json.load(open(os.path.join(REAL, "tokenizer.json"), encoding="utf-8"))
    tokens = [t["content"] for t in tj["added_tokens"]] + ["<|extra_0|>", "<|extra_7|>"]
    table = tok_corpus.tokenizers_table()
    regex35 = json.dumps(tok_corpus.QWEN35_REGEX)[1:-1]
    runs = [
        ("qwen3", table["qwen3"][0], ["--dir", REAL]),
        ("nospecial", table["qwen3_nospecial"][0], ["--no-special", "--dir", REAL]),
        ("qwen35", table["qwen35"][0], ["--json-regex", regex35, "--dir", REAL]),
        ("fixture", table["fixture"][0], ["--dir", os.path.join(ROOT, "testdata/models/qwen3")]),
        ("qwen1", table["qwen1"][0], ["--qwen1", "--dir", os.path.join(ROOT, "testdata/models/qwen1")]),
    ]
    bad = 0
    for name, oracle, targs in runs:
        if args.only and name != args.only:
            continue
        rng = random.Random("%d-%s" % (seed, name))
        records = [rand_bytes(rng, tokens) if rng.random() < .1 else
                   rand_string(rng, tokens).replace("\0", "").encode("utf-8")
                   for _ in range(args.n)]
        got = ours(bin_tok, targs, records)
        n_bad = 0
        for rec, g in zip(records, got):
            want = oracle(rec.decode("utf-8", "replace"))
            if want != g:
                n_bad += 1
                if n_bad <= 3:
                    print("%s: differs on %r\n  ours   %s\n  oracle %s" % (name, rec, g, want))
        print("%s: %d strings, %d differ" % (name, len(records), n_bad))
        bad += n_bad
    if not args.only or args.only == "nfc":
        bad += nfc_all(bin_tok, table["fixture"][0])
    return 1 if bad else 0


def nfc_all(bin_tok, oracle):
    from unicode_tables import load
    gc, ccc, decomp, ws, alpha, excl, qc, age = load("/usr/share/unicode")
    records = []
    for c in sorted(set(ccc) | set(decomp) | set(qc)):
        ch = chr(c)
        records += [ch, "a" + ch, ch + "\u0301", "\u0362" + ch, ch + "\u0316\u0301",
                    "e" + ch + "\u0323", "\u1100" + ch, ch + "\u1161", ch + "\u11a8",
                    ch + "\u0b3e", ch + "\u0dca"]
    got = ours(bin_tok, ["--dir", os.path.join(ROOT, "testdata/models/qwen3")],
               [r.encode("utf-8") for r in records])
    n_bad = 0
    for rec, g in zip(records, got):
        if oracle(rec) != g:
            n_bad += 1
            if n_bad <= 3:
                print("nfc: differs on %r" % rec)
    print("nfc: %d strings, %d differ" % (len(records), n_bad))
    return n_bad


if __name__ == "__main__":
    sys.exit(main())
