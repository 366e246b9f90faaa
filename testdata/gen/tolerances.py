#!/usr/bin/env python3
"""Per-fixture budgets for `qwen-verify golden` and test_forward_golden.

For every testdata/models/<fixture>/expected.safetensors (outputs computed
by transformers, make_fixtures.py), run qwenkit's fp32 forward pass against
them (`bin/qwen-verify golden --json` with budgets of 1, so it only
measures), and store in the file's `__metadata__`:

  measured_logit_rel     worst max|delta logit| / max|expected logit| over
                         every position of every sequence
  measured_hidden_rel    per residual stream (embedding output, then after
                         each decoder layer; comma-separated): the worst
                         relative RMS over the sequences
  tolerance_logit_rtol   FACTOR x measured_logit_rel, rounded up to two
  tolerance_hidden_rtol  significant digits; per stream likewise (a stream
                         measured exactly equal gets 0: the embedding
                         lookup is a copy)
  tolerance_factor       FACTOR (3)

Only the header changes: the tensors' bytes and offsets stay as they are,
the metadata keys stay sorted (fx_weights.save_ordered's layout), so
regen.sh --verify still compares byte for byte. The forward pass is
deterministic (same bits for any thread count, -O level and SIMD path:
tests/cli/determinism.sh), so the measured error is a property of the
fixture and the code, and 3x leaves room for a different libm or compiler
without letting an epsilon or a rounding change through (an RMSNorm eps of
1e-5 instead of 1e-6 is 10-400x over the measured error on every fixture).

Usage (from the repository root, after `make`):
  python3 testdata/gen/tolerances.py [--bin bin] [--check] [DIR ...]
--check only compares what is stored with a fresh measurement (exit 1 when
a stored budget is no longer 3x the measurement). Standard library only.
"""
import argparse
import json
import math
import os
import subprocess
import sys

FACTOR = 3
KEYS = ("measured_hidden_rel", "measured_logit_rel", "tolerance_factor",
        "tolerance_hidden_rtol", "tolerance_logit_rtol")


def up2(x):
    """x rounded up to two significant digits, as text ("0" for 0)."""
    if x == 0:
        return "0"
    e = math.floor(math.log10(x)) - 1
    m = math.ceil(x / 10.0 ** e - 1e-9)      # 10 <= m <= 100
    if m >= 100:
        m, e = 10, e + 1
    return f"{m // 10}.{m % 10}e{e + 1}"


def fmt(x):
    return f"{x:.3g}"


def measure(bindir, fx_dir):
    exp = os.path.join(fx_dir, "expected.safetensors")
    r = subprocess.run([os.path.join(bindir, "qwen-verify"), "golden", "--json", "-t", "2",
                        "--logit-rtol", "1", "--hidden-rtol", "1", fx_dir, exp],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tolerances: qwen-verify golden {fx_dir}: exit {r.returncode}: {r.stderr}")
    j = json.loads(r.stdout)
    logit = max(p["rel_err"] for s in j["sequences"] for p in s["positions"])
    n = len(j["sequences"][0]["streams"])
    hidden = [max(s["streams"][i]["rel_rms"] for s in j["sequences"]) for i in range(n)]
    return logit, hidden


def read_header(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n].decode()), raw[8 + n:]


def write_header(path, header, data):
    meta = header.get("__metadata__", {})
    header["__metadata__"] = {k: meta[k] for k in sorted(meta)}
    rest = {k: v for k, v in header.items() if k != "__metadata__"}
    header = {"__metadata__": header["__metadata__"], **rest}
    hb = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        f.write(data)
    os.replace(tmp, path)


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(root, "bin"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("dirs", nargs="*")
    a = ap.parse_args()
    models = os.path.join(root, "testdata", "models")
    dirs = a.dirs or sorted(os.path.join(models, d) for d in os.listdir(models)
                            if os.path.isfile(os.path.join(models, d, "expected.safetensors")))
    bad = 0
    print(f"{'fixture':16} {'logit measured':>14} {'budget':>8}  streams measured / budget")
    for d in dirs:
        logit, hidden = measure(a.bin, d)
        vals = {
            "measured_logit_rel": fmt(logit),
            "measured_hidden_rel": ",".join(fmt(h) for h in hidden),
            "tolerance_factor": str(FACTOR),
            "tolerance_logit_rtol": up2(FACTOR * logit),
            "tolerance_hidden_rtol": ",".join(up2(FACTOR * h) for h in hidden),
        }
        path = os.path.join(d, "expected.safetensors")
        header, data = read_header(path)
        meta = header.setdefault("__metadata__", {})
        print(f"{os.path.basename(d):16} {vals['measured_logit_rel']:>14} "
              f"{vals['tolerance_logit_rtol']:>8}  {vals['measured_hidden_rel']} / "
              f"{vals['tolerance_hidden_rtol']}")
        if a.check:
            if any(meta.get(k) != vals[k] for k in KEYS):
                print(f"  stored: {[meta.get(k) for k in KEYS]}")
                bad += 1
            continue
        meta.update(vals)
        write_header(path, header, data)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
