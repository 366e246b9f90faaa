"""The tokenizer corpus and the ids Hugging Face tokenizers / tiktoken give
for it (testdata/tokenizer/corpus/, checked by tests/unit/test_tok_corpus.c).

    tok_corpus.py corpus     rewrite the corpus files (sources below)
    tok_corpus.py expected   rewrite expected-*.ids from the corpus

Environment: the fixture venv (.venv, testdata/gen/README.md) with
tokenizers 0.23.3 and tiktoken 0.14.0; `corpus` also needs Faker 40.54.0
(pip install faker==40.54.0, MIT licence) and CPython 3.11.7's test suite
(its cjkencodings/*-utf8.txt, PSF licence; --python-test DIR), Debian's
/usr/share/common-licenses and /usr/include/zlib.h (zlib1g-dev).

Tokenizers (one expected-NAME.ids each):
  qwen3           the real Qwen3 tokenizer (testdata/models/qwen3_realvocab,
                  tokenizers 0.23.3, add_special_tokens=False)
  qwen3_nospecial the same with encode_special_tokens=True (special.txt only):
                  what tk_encode does without TK_ENC_PARSE_SPECIAL
  qwen35          the same vocabulary with the Qwen3.5 pre-tokenizer regex
                  (transformers 5.23.0 models/qwen3_5 PRETOKENIZE_REGEX)
                  put in its Split
  fixture         the BPE of the small fixtures (testdata/models/qwen3; all
                  small fixtures share it)
  flags, flags_nospecial
                  that BPE with added tokens using every flag tokenizers
                  knows (lstrip, rstrip, single_word, normalized, special
                  and not, one a prefix of another; FLAG_TOKENS), written
                  to flags-tokenizer.json (on added.txt, special.txt,
                  space.txt, unicode.txt, invalid.bin; without special
                  parsing on added.txt and special.txt)
  qwen1           testdata/models/qwen1/qwen.tiktoken through tiktoken as
                  Qwen1's QWenTokenizer drives it: NFC (Python 3.11's
                  unicodedata, Unicode 14.0), Qwen1's pattern, specials
                  allowed; the specials whose id is below config.json's
                  vocab_size (512), as the GGUF vocabulary keeps them

Pre-tokenizer splits (expected-pieces-qwen2.ids, expected-pieces-qwen35.ids,
same format, the "ids" being the byte length of each piece): tokenizers'
Split pre-tokenizer alone (Oniguruma) on each valid UTF-8 file, raw (no
normalizer, no added tokens); they test the regex classes where BPE would
hide a different split.

Every corpus file is encoded whole. invalid.bin is bytes, not UTF-8: it is
decoded with errors="replace" (one U+FFFD per maximal ill-formed subpart,
what tk_encode does) before it is encoded.

expected-NAME.ids: "QKIDS1\\n", the uncompressed size (u32 LE), then a zlib
stream of records: u16 name length, name, u8 flags (1: the text is its own
NFC by tokenizers' normalizers.NFC, so decode(encode(x)) == x must hold for
an NFC tokenizer), u32 count, the ids as LEB128.
"""
import argparse
import json
import os
import random
import struct
import sys
import unicodedata
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, "testdata/tokenizer/corpus")
MODELS = os.path.join(ROOT, "testdata/models")

QWEN35_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}"
                r"| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN1_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
             r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


# ---------------------------------------------------------------- corpus

def faker_text(locale, seed, n_paragraphs, extra=()):
    from faker import Faker
    f = Faker(locale)
    Faker.seed(seed)
    out = []
    for i in range(n_paragraphs):
        out.append(f.paragraph(nb_sentences=6))
        for what in extra:
            out.append(str(getattr(f, what)()))
    return "\n\n".join(out) + "\n"


def read(path, limit=None):
    with open(path, encoding="utf-8") as fh:
        s = fh.read()
    return s[:limit] if limit else s


def cjk(pytest, names):
    return "\n".join(read(os.path.join(pytest, "cjkencodings", n + "-utf8.txt")) for n in names)


def numbers(rng):
    out = []
    for _ in range(400):
        k = rng.randrange(12)
        if k == 0:
            out.append(str(rng.randrange(10 ** rng.randrange(1, 25))))
        elif k == 1:
            out.append("%.*f" % (rng.randrange(1, 8), rng.uniform(-1e6, 1e6)))
        elif k == 2:
            out.append("%04d-%02d-%02d %02d:%02d:%02d" % (rng.randrange(1900, 2100), rng.randrange(1, 13),
                                                        rng.randrange(1, 29), rng.randrange(24),
                                                        rng.randrange(60), rng.randrange(60)))
        elif k == 3:
            out.append("+%d (%03d) %03d-%04d" % (rng.randrange(1, 99), rng.randrange(1000),
                                                 rng.randrange(1000), rng.randrange(10000)))
        elif k == 4:
            out.append("%d.%d.%d.%d" % tuple(rng.randrange(256) for _ in range(4)))
        elif k == 5:
            out.append("0x%x 0b%s 1e%d" % (rng.randrange(1 << 48), bin(rng.randrange(1 << 12))[2:],
                                          rng.randrange(-30, 30)))
        elif k == 6:  # other digit sets: fullwidth, Arabic-Indic, Devanagari, Thai
            base = rng.choice([0xFF10, 0x0660, 0x06F0, 0x0966, 0x0E50, 0x1D7CE])
            out.append("".join(chr(base + int(d)) for d in str(rng.randrange(10 ** 9))))
        elif k == 7:
            out.append(rng.choice(["Ⅻ", "ⅳ", "½", "¾", "²³", "①②③", "㉑", "⅒", "𐄇", "𒐫"]))
        elif k == 8:
            out.append("$%d,%03d.%02d" % (rng.randrange(1000), rng.randrange(1000), rng.randrange(100)))
        elif k == 9:
            out.append("%d%%" % rng.randrange(100))
        elif k == 10:
            out.append("v%d.%d.%d-rc%d" % tuple(rng.randrange(20) for _ in range(4)))
        else:
            out.append("3.14159265358979323846264338327950288419716939937510")
        out.append(rng.choice([" ", "  ", "\n", ", ", "; ", "\t", " = ", "+", "*"]))
    return "".join(out) + "\n"


def emoji(rng):
    tones = [chr(c) for c in range(0x1F3FB, 0x1F400)]
    people = ["👍", "👋", "🙏", "💪", "🧑", "👩", "👨", "🧒", "👶", "🤝", "🏃", "🧘"]
    zwj = ["👨\u200d👩\u200d👧\u200d👦", "👩\u200d❤\ufe0f\u200d💋\u200d👨", "🏳\ufe0f\u200d🌈",
           "🏴\u200d☠\ufe0f", "🧑\u200d💻", "👩🏽\u200d🔬", "🐻\u200d❄\ufe0f", "❤\ufe0f\u200d🔥",
           "🧑🏿\u200d🤝\u200d🧑🏻", "👁\ufe0f\u200d🗨\ufe0f"]
    flags = ["US", "CN", "JP", "KR", "SA", "IN", "TH", "RU", "FR", "DE", "BR", "UA", "EU", "UN"]
    out = []
    for _ in range(1500):
        k = rng.randrange(8)
        if k == 0:
            out.append(rng.choice(people) + rng.choice(tones))
        elif k == 1:
            out.append(rng.choice(zwj))
        elif k == 2:
            out.append("".join(chr(0x1F1E6 + ord(c) - 65) for c in rng.choice(flags)))
        elif k == 3:
            out.append(rng.choice("0123456789#*") + "\ufe0f\u20e3")
        elif k == 4:
            out.append(chr(rng.randrange(0x1F600, 0x1F650)))
        elif k == 5:
            out.append("🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F")
        elif k == 6:
            out.append(rng.choice(["☺", "☺\ufe0f", "✌🏼", "⌚", "⭐", "©\ufe0f", "™", "🀄", "🃏"]))
        else:
            out.append(rng.choice(["Hello", "nice", "好的", "ok", "да", "ครับ", "حسنا", "ठीक"]))
        out.append(rng.choice(["", "", " ", "  ", "\n", "!", "...", " - "]))
    return "".join(out) + "\n"


def spaces(rng):
    ws = [" ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2028", "\u2029", "\u0085",
          "\u000b", "\u000c", "\u2003", "\u200b", "\u180e", "\u202f", "\u205f", "\u001c",
          "\u001f", "\ufeff"]
    words = ["word", "Wort", "слово", "词", "単語", "단어", "كلمة", "शब्द", "คำ", "123", "!?",
             "(x)", "'s", "a.b", "--", "#", "`code`"]
    out = []
    for _ in range(3000):
        n = rng.choice([1, 1, 1, 2, 3, 5, 8, 17, 40])
        out.append("".join(rng.choice(ws[:4] if rng.random() < .7 else ws) for _ in range(n)))
        out.append(rng.choice(words))
    out.append(" " * 300 + "\n" * 50 + "\t" * 33 + "end   \n\n\n   ")
    return "".join(out)


def special(rng, tokens):
    parts = ["<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
             "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
             "Hello!<|im_end|>\n<|endoftext|>"]
    glue = ["", " ", "  ", "\n", "x", "中", " word ", "<", "|", "<|", "|>", "\t", "<<", ">>",
            "<|im_start", "im_end|>", "<think", "</", "<|extra_1", "<|endoftext|"]
    for _ in range(2500):
        if rng.random() < .6:
            parts.append(rng.choice(tokens))
        else:
            parts.append(rng.choice(glue))
    return "".join(parts) + "\n"


# the added tokens of the flags tokenizer (flags-tokenizer.json): the
# fixtures' BPE with every tokenizers AddedToken flag in use
FLAG_TOKENS = [
    {"id": 446, "content": "<|im_start|>", "lstrip": True, "rstrip": True, "special": True},
    {"id": 447, "content": "<|im_end|>", "single_word": True, "special": True},
    {"id": 448, "content": "caf\u00e9", "normalized": True, "special": False},
    {"id": 449, "content": "<sep>", "lstrip": True, "special": False},
    {"id": 450, "content": "<|im", "special": False, "normalized": False},
    {"id": 451, "content": "word", "single_word": True, "normalized": True, "special": False},
]


def added(rng):
    parts = ["<|im_start|>", "<|im_end|>", "caf\u00e9", "cafe\u0301", "CAF\u00c9", "<sep>", "<|im",
             "word", "words", "sword", "word's", "_word", "1word", "\u00e9word", "<|endoftext|>",
             "<|im_sta", "im_end|>"]
    glue = ["", " ", "  ", "\t", "\n", " \n ", "\u3000", "\u00a0", "x", "\u00e9", "1", "_", ".",
            "\u0301", "-", "\u4e2d", "\u0915\u093f"]
    out = []
    for _ in range(3000):
        out.append(rng.choice(glue))
        out.append(rng.choice(parts))
    return "".join(out) + "\n"


def unicode_mix(rng):
    parts = [
        # NFC changes: decomposed Latin, Vietnamese, Hangul jamo, singletons, exclusions
        "e\u0301 a\u0300 o\u0308 n\u0303 A\u030a c\u0327 Cafe\u0301 re\u0301sume\u0301 ",
        "Tie\u0302\u0301ng Vie\u0323\u0302t ",
        "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af \u110b\u1161 ",
        "\u212b \u2126 \u212a \u0958 \u0344 \u1e9b\u0323 ",
        "a\u0323\u0302 a\u0302\u0323 q\u0307\u0323 \u0045\u0327\u0306 ",
        "\u0061\u0315\u0300\u05ae\u0300\u0062 \u05d0\u05b7\u05bc ",
        "\u0b47\u0b3e \u0dd9\u0dcf\u0dca \u1025\u102e ",
        "\ufb01 \ufb2c \u2460 \u00bd \u3300 \uff21 ",
        # contractions and case folding in the regex
        "it's IT'S it'S we'll WE'LL we'Ll they're THEY'RE I've I'VE I'm I'M he'd HE'D ",
        "don't DON'T o'clock 'ſ 'ſs 'ss 'Sx 'K 'k ''s '' '\n's ",
        # letters and marks the pre-tokenizers split differently
        "\u0915\u093f\u0924\u093e\u092c \u0939\u093f\u0902\u0926\u0940 \u0e01\u0e34\u0e19 ",
        "\u0301\u0301abc \u0308\u0308 x\u0308\u0308y 1\u0301 .\u0301 ",
        # symbols, punctuation, controls, private use, noncharacters
        "\u00a9\u00ae\u2122\u2020\u2021\u2030\u00b6\u00a7 \u2190\u2192 \u2200\u2203 ",
        "\u0000\u0001\u0007\u001b[0m\u007f\u0080\u009f \ue000\uf8ff \U000f0000 \ufdd0 \uffff ",
        "\ufffd\ufffd \U0010fffd ",
        # newer Unicode: 9.0 to 15.0 letters, marks, digits
        "\U0001e900\U0001e922 \U00011d00\U00011d01 \U00016fe0 \U0001e4d0\U0001e4d1 "
        "\U00011f04\U00011f05 \U00010570\U00010571 \u0870\u0871 \U0001e290\U0001e291 "
        "\U00011f00\U00011f01\U00011f41 \U0001e4ec\u0316 \U00010f82\u0316 \u0898\u0316 ",
        "\U0001e030\U0001e031 \U00011b00\U00011b01 \U0001fbf0\U0001fbf9 \u2ffc\u2ffd \U0002ebf0 ",
        # Unicode 16.0 (Debian's UCD is 15.0: testdata/unicode/oracle_delta.txt)
        "\U00010d50\U00010d51\U00010d69 \u1c89\u1c8a \U000105c0\U000105c1 \U00011380\U000113b8 "
        "\U00010d40\U00010d41 x\u0897y \U000116d0\U000116d1 \ua7cb\ua7dc \U00011bc0\U00011be0 ",
    ]
    out = []
    for _ in range(150):
        rng.shuffle(parts)
        out.append("".join(parts[:rng.randrange(3, len(parts))]))
        out.append("\n")
    return "".join(out)


def invalid(rng, text):
    bad = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
           b"\xed\xbf\xbf", b"\xf0\x80\x80\xaf", b"\xf4\x90\x80\x80", b"\xf5\x80", b"\xff",
           b"\xfe", b"\xc3", b"\xe4\xb8", b"\xf0\x9f\x98", b"\xf0\x9f", b"\xe2\x82\x28",
           b"\xc3\x28", b"\xa0\xa1", b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80",
           b"\xef\xbf\xbe", b"\xef\xbb\xbf", b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xf4\x8f\xbf\xbf"]
    words = text.encode("utf-8").split(b" ")
    out = []
    for w in words:
        out.append(w)
        if rng.random() < .3:
            out.append(rng.choice(bad) * rng.choice([1, 1, 2, 3]))
        if rng.random() < .05 and len(w) > 1:  # cut a multi-byte character
            out.append(w[:len(w) // 2] if w[len(w) // 2 - 1] < 0x80 else w[:1])
    return b" ".join(out)


def cmd_corpus(args):
    rng = random.Random(20261204)
    os.makedirs(CORPUS, exist_ok=True)
    lic = "/usr/share/common-licenses/"
    files = {
        "en.txt": read(lic + "Apache-2.0") + read(lic + "CC0-1.0") + read(lic + "BSD") +
        faker_text("en_US", 1, 60),
        "zh.txt": cjk(args.python_test, ["gb2312", "gbk", "gb18030", "big5", "big5hkscs", "hz"]) +
        faker_text("zh_CN", 2, 70, ["address", "name", "company"]) +
        faker_text("zh_TW", 3, 40, ["address", "name"]),
        "ja.txt": cjk(args.python_test, ["euc_jp", "shift_jis", "euc_jisx0213", "shift_jisx0213",
                                         "iso2022_jp"]) +
        faker_text("ja_JP", 4, 80, ["address", "name", "company", "job"]),
        "ko.txt": cjk(args.python_test, ["euc_kr", "cp949", "johab", "iso2022_kr"]) +
        faker_text("ko_KR", 5, 120, ["address", "name", "company", "job", "catch_phrase"]),
        "ar.txt": faker_text("ar_AA", 6, 80, ["name"]) + faker_text("ar_SA", 7, 10, ["address"]) +
        faker_text("fa_IR", 8, 20),
        "hi.txt": faker_text("hi_IN", 9, 1, []) +
        "\n".join(faker_list("hi_IN", 10, 500, ["name", "address", "city", "job"])) + "\n" +
        faker_text("bn_BD", 11, 40),
        "th.txt": faker_text("th_TH", 12, 100, ["name", "address"]),
        "ru.txt": faker_text("ru_RU", 13, 90, ["name", "address", "company"]) +
        faker_text("uk_UA", 14, 30),
        "code.txt": read(os.path.join(args.python_test, "..", "config-3.11-x86_64-linux-gnu",
                                      "Makefile"), 30000) +
        read("/usr/include/zlib.h", 25000) +
        read(os.path.join(args.python_test, "..", "textwrap.py")),
        "numbers.txt": numbers(rng),
        "emoji.txt": emoji(rng),
        "space.txt": spaces(rng),
        "unicode.txt": unicode_mix(rng),
    }
    tj = json.load(open(os.path.join(MODELS, "qwen3_realvocab/tokenizer.json"), encoding="utf-8"))
    toks = [t["content"] for t in tj["added_tokens"]] + ["<|extra_0|>", "<|extra_63|>"]
    files["special.txt"] = special(rng, toks)
    files["added.txt"] = added(rng)
    for name, text in files.items():
        with open(os.path.join(CORPUS, name), "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    fixture = json.load(open(os.path.join(MODELS, "qwen3/tokenizer.json"), encoding="utf-8"))
    base = {"single_word": False, "lstrip": False, "rstrip": False, "normalized": False}
    fixture["added_tokens"] = fixture["added_tokens"][:1] + [dict(base, **t) for t in FLAG_TOKENS]
    with open(os.path.join(CORPUS, "flags-tokenizer.json"), "w", encoding="utf-8") as fh:
        json.dump(fixture, fh, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(CORPUS, "invalid.bin"), "wb") as fh:
        fh.write(invalid(rng, files["en.txt"][:6000] + files["ru.txt"][:3000] +
                         files["zh.txt"][:3000] + files["emoji.txt"][:2000]))
    total = sum(os.path.getsize(os.path.join(CORPUS, n)) for n in corpus_names())
    print("corpus: %d files, %d bytes" % (len(corpus_names()), total))


def faker_list(locale, seed, n, what):
    from faker import Faker
    f = Faker(locale)
    Faker.seed(seed)
    return [str(getattr(f, w)()) for _ in range(n) for w in what]


# ---------------------------------------------------------------- expected

def corpus_names():
    return sorted(n for n in os.listdir(CORPUS) if n.endswith((".txt", ".bin")))


def corpus_text(name):
    with open(os.path.join(CORPUS, name), "rb") as fh:
        data = fh.read()
    return data.decode("utf-8", errors="replace")


def hf(path, regex=None, no_special=False):
    from tokenizers import Tokenizer
    with open(path, encoding="utf-8") as fh:
        j = json.load(fh)
    if regex:
        j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = regex
    tok = Tokenizer.from_str(json.dumps(j))
    if no_special:
        tok.encode_special_tokens = True
    return lambda text: tok.encode(text, add_special_tokens=False).ids


def qwen1():
    import base64
    import tiktoken
    d = os.path.join(MODELS, "qwen1")
    ranks = {}
    for line in open(os.path.join(d, "qwen.tiktoken"), "rb"):
        if line.strip():
            b64, r = line.split()
            ranks[base64.b64decode(b64)] = int(r)
    vocab = json.load(open(os.path.join(d, "config.json")))["vocab_size"]
    names = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + ["<|extra_%d|>" % i for i in range(205)]
    special = {s: len(ranks) + i for i, s in enumerate(names) if len(ranks) + i < vocab}
    enc = tiktoken.Encoding("qwen1", pat_str=QWEN1_PAT, mergeable_ranks=ranks,
                            special_tokens=special)
    return lambda text: enc.encode(unicodedata.normalize("NFC", text), allowed_special="all")


def tokenizers_table():
    real = os.path.join(MODELS, "qwen3_realvocab/tokenizer.json")
    return {
        "qwen3": (hf(real), None),
        "qwen3_nospecial": (hf(real, no_special=True), ["special.txt"]),
        "qwen35": (hf(real, regex=QWEN35_REGEX), None),
        "fixture": (hf(os.path.join(MODELS, "qwen3/tokenizer.json")), None),
        "flags": (hf(os.path.join(CORPUS, "flags-tokenizer.json")),
                  ["added.txt", "special.txt", "space.txt", "unicode.txt", "invalid.bin"]),
        "flags_nospecial": (hf(os.path.join(CORPUS, "flags-tokenizer.json"), no_special=True),
                            ["added.txt", "special.txt"]),
        "qwen1": (qwen1(), None),
        "pieces-qwen2": (pieces(QWEN1_PAT), "valid"),
        "pieces-qwen35": (pieces(QWEN35_REGEX), "valid"),
    }


def pieces(regex):
    from tokenizers import pre_tokenizers, Regex
    sp = pre_tokenizers.Split(Regex(regex), "isolated")

    def split(text):
        return [len(p.encode("utf-8")) for p, _ in sp.pre_tokenize_str(text)]
    return split


def leb128(ids):
    out = bytearray()
    for v in ids:
        while True:
            b = v & 0x7f
            v >>= 7
            out.append(b | (0x80 if v else 0))
            if not v:
                break
    return bytes(out)


def cmd_expected(args):
    import tokenizers
    import tiktoken
    global NFC
    NFC = tokenizers.normalizers.NFC()
    print("tokenizers %s, tiktoken %s" % (tokenizers.__version__, tiktoken.__version__))
    for name, (fn, only) in tokenizers_table().items():
        raw = bytearray()
        total = 0
        for cn in corpus_names():
            if only == "valid" and cn.endswith(".bin") or only and only != "valid" and cn not in only:
                continue
            text = corpus_text(cn)
            ids = fn(text)
            total += len(ids)
            nb = cn.encode()
            stable = NFC.normalize_str(text) == text
            raw += (struct.pack("<H", len(nb)) + nb + struct.pack("<BI", stable, len(ids)) +
                    leb128(ids))
        path = os.path.join(CORPUS, "expected-%s.ids" % name)
        with open(path, "wb") as fh:
            fh.write(b"QKIDS1\n" + struct.pack("<I", len(raw)) + zlib.compress(bytes(raw), 9))
        print("%s: %d ids, %d bytes" % (path, total, os.path.getsize(path)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["corpus", "expected"])
    ap.add_argument("--python-test", default="/root/.pyenv/versions/3.11.7/lib/python3.11/test")
    args = ap.parse_args()
    if args.cmd == "corpus":
        cmd_corpus(args)
    else:
        cmd_expected(args)


if __name__ == "__main__":
    sys.exit(main())
