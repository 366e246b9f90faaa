"""Which code points the regex engines of the oracles put in \\p{L}, \\p{N},
\\p{M} and \\s, against Debian's UCD (unicode-data 15.0.0): writes
testdata/unicode/oracle_delta.txt, the code points they class differently,
which testdata/gen/unicode_tables.py applies on top of the UCD.

    unicode_oracle.py [--ucd /usr/share/unicode] [--check]

The oracle is tokenizers 0.23.3's Split regex (Oniguruma, as the Qwen
tokenizer.json pre-tokenizer runs it): every code point but the surrogates
is put through [^\\p{X}] with behavior "removed", and what is left is the
class. tiktoken 0.14.0 (fancy-regex; Qwen1's qwen.tiktoken) is then asked
about every code point of the delta and must agree (a piece that is a whole
token comes back as that token: a 3-character token a+cp+b is one id only if
\\p{X}+ matched cp).

Both engines know Unicode 16.0 (checked: U+10D50 GARAY and U+1C89 CYRILLIC
CAPITAL LETTER TJE are \\p{L} in both). The NFC of tokenizers is older
(Unicode 9.0, the unicode-normalization-alignments crate), which is not a
class matter: tok_unicode.h's TK_UC_NFC_TOKENIZERS handles it.

--check: only compare and print the differences, write nothing.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from unicode_tables import load  # noqa: E402

CLASSES = [("L", r"\p{L}"), ("N", r"\p{N}"), ("M", r"\p{M}"), ("WS", r"\s")]


def oracle_sets():
    from tokenizers import pre_tokenizers, Regex
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(map(chr, cps))
    out = {}
    for name, cls in CLASSES:
        sp = pre_tokenizers.Split(Regex("[^%s]" % cls), "removed")
        s = set()
        for _, (a, b) in sp.pre_tokenize_str(text):
            s.update(cps[a:b])
        out[name] = s
    return out


def ucd_sets(ucd):
    gc, ccc, decomp, ws, alpha, excl, qc, age = load(ucd)
    out = {"L": set(), "N": set(), "M": set(), "WS": set(ws)}
    for c in range(0x110000):
        g = gc.get(c, "Cn")
        if g[0] in "LNM":
            out[g[0]].add(c)
    return out


def tiktoken_class(cp, cls):
    import tiktoken
    tok = ("a" + chr(cp) + "b").encode("utf-8", "surrogatepass")
    ranks = {bytes([i]): i for i in range(256)}
    ranks[tok] = 256
    enc = tiktoken.Encoding("probe", pat_str=r"%s+|[^%s]" % (cls, cls), mergeable_ranks=ranks,
                            special_tokens={})
    return enc.encode("a" + chr(cp) + "b") == [256]


def ranges(cps):
    out = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    import tokenizers
    import tiktoken
    orc = oracle_sets()
    ucd = ucd_sets(args.ucd)
    diff = set()
    for name, _ in CLASSES:
        d = orc[name] ^ ucd[name]
        print("%s: oracle %d, UCD %d, differ on %d" % (name, len(orc[name]), len(ucd[name]), len(d)))
        diff |= d
    # tiktoken must agree with tokenizers on every differing code point (letters)
    bad = [c for c in sorted(diff) if (c in orc["L"]) != tiktoken_class(c, r"\p{L}")]
    if bad:
        sys.exit("tiktoken and tokenizers disagree on \\p{L} of %d code points, e.g. U+%04X"
                 % (len(bad), bad[0]))
    lines = []
    for a, b in ranges(diff):
        # split ranges where the class set changes
        start = a
        for c in range(a, b + 2):
            cls = lambda x: "+".join(n for n, _ in CLASSES if x in orc[n]) or "-"
            if c == b + 1 or cls(c) != cls(start):
                r = "%04X" % start if c - 1 == start else "%04X..%04X" % (start, c - 1)
                lines.append("%s %s" % (r, cls(start)))
                start = c
    if args.check:
        print("\n".join(lines[:50]))
        return
    path = os.path.join(ROOT, "testdata/unicode/oracle_delta.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# Code points whose regex class (L, N, M, WS joined by +; - for none) in\n"
                 "# tokenizers %s (Oniguruma) differs from Debian's UCD %s.\n"
                 "# tiktoken %s agrees on \\p{L} for all of them. Made by\n"
                 "# testdata/gen/unicode_oracle.py; read by unicode_tables.py.\n"
                 % (tokenizers.__version__, "15.0.0", tiktoken.__version__))
        fh.write("\n".join(lines) + "\n")
    print("wrote %s: %d code points in %d lines" % (path, len(diff), len(lines)))


if __name__ == "__main__":
    main()
