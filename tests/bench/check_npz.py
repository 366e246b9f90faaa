#!/usr/bin/env python3
"""Check a `qwen-verify run --dump` archive with NumPy itself (np.load) against
a golden fixture's transformers outputs: the arrays load, have the documented
names, dtypes and shapes, and agree with expected.safetensors to the tolerance
of ref/README.md. Run by hand (needs numpy and safetensors, e.g. the project's
.venv); not part of `make check`.

    T=$(.venv/bin/python tests/bench/check_npz.py --tokens testdata/models/qwen3)
    bin/qwen-verify run --tokens "$T" --dump /tmp/q3.npz testdata/models/qwen3
    .venv/bin/python tests/bench/check_npz.py /tmp/q3.npz testdata/models/qwen3
"""
import sys

import numpy as np
from safetensors.numpy import load_file


def main(argv):
    if len(argv) == 3 and argv[1] == "--tokens":
        exp = load_file(argv[2] + "/expected.safetensors")
        print(",".join(str(int(t)) for t in exp["tokens.0"]))
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    npz = np.load(argv[1])
    exp = load_file(argv[2] + "/expected.safetensors")
    names = sorted(npz.files)
    assert names == ["hidden_0", "logits_0", "tokens_0"], names
    tok, lg, hid = npz["tokens_0"], npz["logits_0"], npz["hidden_0"]
    assert tok.dtype == np.int32 and lg.dtype == np.float32 and hid.dtype == np.float32
    assert np.array_equal(tok, exp["tokens.0"]), "tokens differ"
    assert lg.shape == exp["logits.0"].shape, (lg.shape, exp["logits.0"].shape)
    assert hid.shape == exp["hidden.0"].shape, (hid.shape, exp["hidden.0"].shape)
    e = exp["logits.0"].astype(np.float64)
    rel = np.abs(lg - e).max(axis=1) / np.abs(e).max(axis=1)
    assert rel.max() <= 1e-4, rel.max()
    assert np.array_equal(lg.argmax(axis=1), e.argmax(axis=1))
    h = exp["hidden.0"].astype(np.float64)
    rrms = np.sqrt(((hid - h) ** 2).sum(axis=(1, 2)) / (h ** 2).sum(axis=(1, 2)))
    assert rrms.max() <= 1e-4, rrms
    print(f"ok: {argv[1]}: tokens {tok.shape}, logits {lg.shape}, hidden {hid.shape}; "
          f"max logit error {rel.max():.3g} of max |logit|, max relative RMS {rrms.max():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
