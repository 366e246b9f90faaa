"""Write formats/tokenizer/tok_ucd_class.c and tok_ucd_norm.c: the Unicode tables the
tokenizer encoder (formats/tokenizer/tk_encode.h) needs.

    unicode_tables.py [--ucd /usr/share/unicode] [--delta FILE] [--out FILE]

Input: the Unicode Character Database of Debian's `unicode-data` package
(version 15.0.0-1 was used: `apt-get install unicode-data`, files in
/usr/share/unicode/): UnicodeData.txt (general category, canonical combining
class, decomposition), PropList.txt (White_Space), DerivedCoreProperties.txt
(Alphabetic), DerivedNormalizationProps.txt (Full_Composition_Exclusion,
NFC_QC) and DerivedAge.txt (the version each code point was assigned in).

Plus testdata/unicode/oracle_delta.txt (made by unicode_oracle.py): the code
points whose \\p{L} \\p{N} \\p{M} \\s class differs between this UCD and the
Unicode version of the regex engines of tokenizers 0.23.3 (Oniguruma) and
tiktoken 0.14.0 (fancy-regex): they know Unicode 16.0, Debian ships 15.0.
The delta overrides the classes of those code points.

Output (two-level tables, C11, no Python needed to build):
  - tk_uc_class(cp): flags TK_UC_L, _N, _M (general category L*, N*, M*),
    _WS (White_Space, the \\s of both engines), _WORD (Rust regex's \\w:
    Alphabetic, M*, Nd, Pc, Join_Control; tokenizers' single_word test), _NFC (the
    code point may change under NFC in some version: ccc != 0, a canonical
    decomposition, or NFC_QC not Yes);
  - NFC data, each entry tagged with the Unicode version it appeared in, so
    the encoder can normalize as an older Unicode would: tokenizers' NFC
    (the unicode-normalization-alignments crate) is Unicode 9.0, Python
    3.11's unicodedata (Qwen1's QWenTokenizer) 14.0. Canonical combining
    classes, full canonical decompositions (Hangul syllables excluded: they
    are computed) and primary composites (pairs -> composite, without the
    full composition exclusions).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

FL_L, FL_N, FL_M, FL_WS, FL_WORD, FL_NFC = 1, 2, 4, 8, 16, 32
CLASS_BITS = {"L": FL_L, "N": FL_N, "M": FL_M, "WS": FL_WS}


def ranges(path, want=None):
    """(first, last, fields) of a UCD property file."""
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = [x.strip() for x in line.split(";")]
        a, _, b = f[0].partition("..")
        first = int(a, 16)
        last = int(b, 16) if b else first
        if want is None or f[1] == want:
            yield first, last, f[1:]


def version_code(v):
    major, minor = v.split(".")[:2]
    return int(major) * 16 + int(minor)


def load(ucd):
    gc = {}
    ccc = {}
    decomp = {}
    pending = None
    for line in open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8"):
        f = line.rstrip("\n").split(";")
        cp = int(f[0], 16)
        if f[1].endswith(", First>"):
            pending = cp
            continue
        first = pending if f[1].endswith(", Last>") else cp
        pending = None
        for c in range(first, cp + 1):
            gc[c] = f[2]
        if int(f[3]):
            ccc[cp] = int(f[3])
        if f[5] and not f[5].startswith("<"):
            decomp[cp] = [int(x, 16) for x in f[5].split()]
    ws = set()
    for a, b, _ in ranges(os.path.join(ucd, "PropList.txt"), "White_Space"):
        ws.update(range(a, b + 1))
    alpha = set()
    for a, b, _ in ranges(os.path.join(ucd, "DerivedCoreProperties.txt"), "Alphabetic"):
        alpha.update(range(a, b + 1))
    excl = set()
    qc_not_yes = set()
    for a, b, f in ranges(os.path.join(ucd, "DerivedNormalizationProps.txt")):
        if f[0] == "Full_Composition_Exclusion":
            excl.update(range(a, b + 1))
        elif f[0] == "NFC_QC":
            qc_not_yes.update(range(a, b + 1))
    age = {}
    for a, b, f in ranges(os.path.join(ucd, "DerivedAge.txt")):
        for c in range(a, b + 1):
            age[c] = version_code(f[0])
    return gc, ccc, decomp, ws, alpha, excl, qc_not_yes, age


def load_delta(path):
    """{cp: set of class names} for the code points the oracle classes
    differently; lines 'XXXX[..YYYY] CLASSES' (CLASSES: L N M WS joined by
    '+', or '-' for none)."""
    out = {}
    if not path or not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        r, cls = line.split()
        a, _, b = r.partition("..")
        first = int(a, 16)
        last = int(b, 16) if b else first
        names = set() if cls == "-" else set(cls.split("+"))
        for c in range(first, last + 1):
            out[c] = names
    return out


def full_decomp(cp, decomp):
    if cp not in decomp:
        return [cp]
    out = []
    for c in decomp[cp]:
        out.extend(full_decomp(c, decomp))
    return out


def c_array(name, ctype, values, per_line=12, fmt="{}"):
    lines = []
    for i in range(0, len(values), per_line):
        lines.append("\t" + ", ".join(fmt.format(v) for v in values[i:i + per_line]) + ",")
    return "const %s %s[%d] = {\n%s\n};\n" % (ctype, name, len(values), "\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--delta", default=os.path.join(ROOT, "testdata/unicode/oracle_delta.txt"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "formats/tokenizer"),
                    help="writes tok_ucd_class.c (classes) and tok_ucd_norm.c (NFC tables)")
    args = ap.parse_args()

    ucd_version = None
    for line in open(os.path.join(args.ucd, "DerivedAge.txt"), encoding="utf-8"):
        if line.startswith("# DerivedAge-"):
            ucd_version = line.split("-", 1)[1].split(".txt")[0]
            break
    if not ucd_version:
        sys.exit("no version in DerivedAge.txt")

    gc, ccc, decomp, ws, alpha, excl, qc_not_yes, age = load(args.ucd)
    delta = load_delta(args.delta)

    flags = bytearray(0x110000)
    for cp in range(0x110000):
        g = gc.get(cp, "Cn")
        f = 0
        if g[0] == "L":
            f |= FL_L
        if g[0] == "N":
            f |= FL_N
        if g[0] == "M":
            f |= FL_M
        if cp in ws:
            f |= FL_WS
        if cp in delta:
            f &= ~(FL_L | FL_N | FL_M | FL_WS)
            for n in delta[cp]:
                f |= CLASS_BITS[n]
        if cp in alpha or g[0] == "M" or g in ("Nd", "Pc") or cp in (0x200C, 0x200D):
            f |= FL_WORD
        if cp in delta and delta[cp] & {"L", "M", "N"}:
            f |= FL_WORD  # newer than the UCD: taken as a word character
        if cp in ccc or cp in decomp or cp in qc_not_yes:
            f |= FL_NFC
        flags[cp] = f

    # two-level: 4352 blocks of 256 code points
    rows, index = {}, []
    for blk in range(0x110000 >> 8):
        row = bytes(flags[blk << 8:(blk + 1) << 8])
        if row not in rows:
            rows[row] = len(rows)
        index.append(rows[row])
    row_list = sorted(rows, key=lambda r: rows[r])
    if len(row_list) > 0xffff:
        sys.exit("too many rows")

    ccc_list = sorted(ccc)
    dec_list = sorted(decomp)
    pool = []
    dec_entries = []
    for cp in dec_list:
        d = full_decomp(cp, decomp)
        dec_entries.append((cp, len(pool), len(d), age[cp]))
        pool.extend(d)
    comp = []
    for cp, d in decomp.items():
        if len(d) == 2 and cp not in excl:
            comp.append((d[0], d[1], cp, age[cp]))
    comp.sort()

    head = ("/* %s - GENERATED by testdata/gen/unicode_tables.py; do not edit.\n"
            " * Unicode Character Database %s (Debian unicode-data), with %d code\n"
            " * points reclassed by testdata/unicode/oracle_delta.txt (the Unicode\n"
            " * 16.0 classes of tokenizers' and tiktoken's regex engines).\n"
            " * %s See tok_unicode.h for what the tables mean. */\n"
            '#include "tok_unicode.h"\n\n')
    out = [head % ("tok_ucd_class.c", ucd_version, len(delta),
                   "Character classes: a two-level table of TK_UC_* flags.")]
    out.append("const char tk_uc_version[] = \"%s\";\n\n" % ucd_version)
    out.append("/* [cp >> 8] -> row of tk_uc_rows */\n")
    out.append(c_array("tk_uc_index", "uint16_t", index, 32))
    out.append("\n/* [row][cp & 255] -> TK_UC_* flags */\n")
    out.append("const uint8_t tk_uc_rows[%d][256] = {\n" % len(row_list))
    for r in row_list:
        out.append("\t{\n")
        for i in range(0, 256, 128):
            out.append("\t\t" + ",".join(str(x) for x in r[i:i + 128]) + ",\n")
        out.append("\t},\n")
    out.append("};\n")
    files = {"tok_ucd_class.c": out}
    out = [head % ("tok_ucd_norm.c", ucd_version, len(delta),
                   "NFC: combining classes, decompositions, primary composites.")]
    out.append("const size_t tk_uc_n_ccc = %d;\n" % len(ccc_list))
    out.append("/* sorted: cp << 8 | ccc, and the version (major*16+minor) it appeared in */\n")
    out.append(c_array("tk_uc_ccc", "uint32_t", ["0x%x" % (cp << 8 | ccc[cp]) for cp in ccc_list], 16))
    out.append(c_array("tk_uc_ccc_age", "uint8_t", [age[cp] for cp in ccc_list], 32))
    out.append("\nconst size_t tk_uc_n_decomp = %d;\n" % len(dec_entries))
    out.append("/* sorted by cp: full canonical decomposition = tk_uc_decomp_pool[off..off+len) */\n")
    out.append("const struct tk_uc_decomp tk_uc_decomp[%d] = {\n" % len(dec_entries))
    for k in range(0, len(dec_entries), 8):
        out.append("\t" + " ".join("{ 0x%x, %d, %d, %d }," % e for e in dec_entries[k:k + 8]) + "\n")
    out.append("};\n")
    out.append(c_array("tk_uc_decomp_pool", "uint32_t", ["0x%x" % c for c in pool], 16))
    out.append("\nconst size_t tk_uc_n_comp = %d;\n" % len(comp))
    out.append("/* sorted by (first, second): primary composites */\n")
    out.append("const struct tk_uc_comp tk_uc_comp[%d] = {\n" % len(comp))
    for k in range(0, len(comp), 6):
        out.append("\t" + " ".join("{ 0x%x, 0x%x, 0x%x, %d }," % e for e in comp[k:k + 6]) + "\n")
    out.append("};\n")
    files["tok_ucd_norm.c"] = out
    for name, text in files.items():
        with open(os.path.join(args.out_dir, name), "w", encoding="utf-8") as fh:
            fh.write("".join(text))
    print("wrote %s: UCD %s, %d rows, %d ccc, %d decompositions (%d pool), %d composites, "
          "%d delta code points" % (", ".join(files), ucd_version, len(row_list), len(ccc_list),
                                     len(dec_entries), len(pool), len(comp), len(delta)))


if __name__ == "__main__":
    main()
