#!/usr/bin/env python3
# venvs: .venv-ggml (re-executes itself with .venv-ggml/bin/python, from any python)
"""make crosscheck: llama.cpp's own vision encoder (mtmd / clip.cpp) on the
mmproj qwen-convert writes gives qwen-verify vision's image embeddings.

For every VL fixture llama.cpp's converter accepts (testdata/llamacpp/
mmproj.tsv: qwen2_vl, qwen3_vl, qwen3_vl_moe, qwen3_vl_256, qwen3_5) this
writes the text GGUF and the mmproj with BIN/qwen-convert FIXTURE -o
text.gguf --mmproj mmproj.gguf --outtype f32 (the mmproj is byte-identical
to llama.cpp's converter's, see mmproj_crosscheck.py), then:

llama.cpp: llama_cpp.Llama loads the text GGUF (the vocab and the model
pointer mtmd needs), mtmd_init_from_file the mmproj (CPU, 1 thread, no
warmup), in a child process each (a GGML_ASSERT aborts the process), twice:
flash attention disabled ("f32": K, Q, V in f32) and enabled ("fa": clip.cpp
casts K and V to f16, its CPU default). A deterministic RGB uint8 image of
H=32 x W=48 pixels (a multiple of patch_size*merge in both sides, within
clip's 8..4096 token limits, so mtmd_image_preprocessor_dyn_size copies it
without resizing) goes through mtmd_tokenize ("x<__media__>") and
mtmd_encode_chunk; mtmd_get_output_embd gives [n_tokens, n_embd], n_embd =
out_hidden * (1 + n_deepstack) for Qwen3-VL (the main embedding, then each
deepstack output, concatenated in each row).

qwenkit: the same pixels normalised as clip.cpp does, (x/255 - mean)/std in
f32 with the mmproj's clip.vision.image_mean/std, laid out as transformers'
Qwen2VLImageProcessor does (the one frame duplicated into the temporal
patch, patches in merge-block order, each row [C][T][P][P]) in a
safetensors pixel_values, through BIN/qwen-verify vision mmproj.gguf
--pixels FILE --grid 1,8,12 --dump out.npz (embd, deepstack).

Compared per output (embd, deepstack.K): max |delta| / max |ours| over the
tensor and 1 - the smallest cosine of a row. The rows come in the same
order on both sides (merged tokens row-major over the merged grid; no
reordering). Measured, llama-cpp-python 0.3.36 CPU (f32 / fa):

  qwen2_vl      embd        4.33e-4 / 4.32e-4   1-cos 1.2e-7
  qwen3_5       embd        3.16e-4 / 3.31e-4   1-cos 4.8e-8
  qwen3_vl      embd        4.01e-4 / 4.01e-4   1-cos 1.5e-7
                deepstack.0 2.94e-4 / 2.94e-4   1-cos 1.2e-7
  qwen3_vl_moe  embd        3.30e-4 / 3.05e-4   1-cos 7.9e-8
                deepstack.0 3.54e-4 / 3.54e-4   1-cos 1.3e-7
  qwen3_vl_256  llama.cpp refuses: GGML_ASSERT(ggml_can_mul_mat(a, b))
                failed (spatial_merge_size 1: tools/mtmd/models/qwen3vl.cpp
                reshapes the merger input to n_embd * 4 whatever n_merge is)

The ~4e-4 is not attention (f32 and fa agree): ggml's CPU GELU and quick
GELU read an fp16 table (ggml-cpu/vec.h GGML_GELU_FP16,
GGML_GELU_QUICK_FP16: input rounded to fp16, output fp16), about 2^-11
relative per activation. Budget: max|d|/max|ours| <= 2e-3 and 1 - cos <=
1e-6 on both paths (about 4.6x and 6.7x the worst measured). A fixture
mtmd cannot load or encode is reported "llama.cpp refuses: MESSAGE" and is
not a failure.

Exit status 0 when every compared output is within budget (or, with a
message, when .venv-ggml or llama_cpp.mtmd_cpp is absent: skipped), 1 when
one is not, 2 on a usage or tool error.

usage: mmproj_llama_crosscheck.py [--bin DIR] [--keep DIR] [FIXTURE...]
"""
import argparse
import ctypes
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "testdata", "models")
VENV_GGML = os.environ.get("QK_VENV_GGML", os.path.join(ROOT, ".venv-ggml"))
FIXTURES = ["qwen2_vl", "qwen3_vl", "qwen3_vl_moe", "qwen3_vl_256", "qwen3_5"]
IMG_H, IMG_W = 32, 48
BUDGET = {"f32": (2e-3, 1e-6), "fa": (2e-3, 1e-6)}  # (max|d|/max|ours|, 1 - min cos) per attention path


def ensure_venv():
    try:
        import llama_cpp.mtmd_cpp  # noqa: F401
        import numpy  # noqa: F401
        return
    except ImportError:
        pass
    py = os.path.join(VENV_GGML, "bin", "python")
    if os.environ.get("QK_MMPROJ_LLAMA_REEXEC") or not os.access(py, os.X_OK):
        print(f"mmproj_llama_crosscheck: no llama.cpp venv with llama_cpp.mtmd_cpp ({VENV_GGML}), skipped")
        sys.exit(0)
    os.environ["QK_MMPROJ_LLAMA_REEXEC"] = "1"
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def fixture_list():
    """The fixtures testdata/llamacpp/mmproj.tsv marks as converted by llama.cpp."""
    ok = []
    with open(os.path.join(ROOT, "testdata", "llamacpp", "mmproj.tsv")) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 5 and p[0] == "model" and p[4] == "llama.cpp":
                ok.append(p[1])
    return ok or FIXTURES


def make_image():
    """Deterministic RGB uint8 [H, W, 3]: a gradient plus LCG noise."""
    import numpy as np
    y, x = np.mgrid[0:IMG_H, 0:IMG_W]
    s, noise = 12345, np.empty(IMG_H * IMG_W * 3, dtype=np.int64)
    for i in range(noise.size):
        s = (s * 1103515245 + 12345) & 0x7FFFFFFF
        noise[i] = (s >> 16) % 97
    noise = noise.reshape(IMG_H, IMG_W, 3)
    base = np.stack([x * 5, y * 7, (x + y) * 3], axis=-1)
    return ((base + noise) % 256).astype(np.uint8)


def gguf_meta(path):
    import gguf
    r = gguf.GGUFReader(path)

    def val(key):
        f = r.fields.get(key)
        if f is None:
            return None
        return [f.parts[i].tolist()[0] for i in f.data] if len(f.data) > 1 else f.parts[f.data[0]].tolist()[0]
    return {k: val("clip.vision." + k) for k in ("image_mean", "image_std", "patch_size", "spatial_merge_size")}


def pixel_values(img, mean, std, patch, merge, tps=2):
    """transformers' Qwen2VLImageProcessor layout of one image (normalised as clip.cpp)."""
    import numpy as np
    f = img.astype(np.float32) / np.float32(255.0)
    f = (f - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)  # [H, W, C]
    chw = np.transpose(f, (2, 0, 1))  # [C, H, W]
    frames = np.stack([chw] * tps)  # [T, C, H, W]
    C, H, W = chw.shape
    gh, gw = H // patch, W // patch
    x = frames.reshape(1, tps, C, gh // merge, merge, patch, gw // merge, merge, patch)
    x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return np.ascontiguousarray(x.reshape(gh * gw, C * tps * patch * patch), np.float32), (1, gh, gw)


def write_safetensors(path, tensors):
    hdr, off, blobs = {}, 0, []
    for name, (dt, arr) in tensors.items():
        b = arr.tobytes()
        hdr[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def llama_embd(text_gguf, mmproj, img, flash):
    """mtmd's image embeddings [n_tokens, n_embd], or a str saying why not."""
    import numpy as np
    import llama_cpp
    from llama_cpp import mtmd_cpp as M
    llm = llama_cpp.Llama(model_path=text_gguf, n_ctx=256, n_gpu_layers=0, verbose=False)
    model = llm._model.model
    p = M.mtmd_context_params_default()
    p.use_gpu = False
    p.n_threads = 1
    p.warmup = False
    p.print_timings = False
    p.flash_attn_type = 1 if flash else 0  # LLAMA_FLASH_ATTN_TYPE_ENABLED / _DISABLED
    ctx = M.mtmd_init_from_file(mmproj.encode(), model, p)
    if not ctx:
        return "mtmd_init_from_file returned NULL"
    try:
        h, w = img.shape[:2]
        buf = (ctypes.c_uint8 * img.size).from_buffer_copy(img.tobytes())
        bmp = M.mtmd_bitmap_init(w, h, buf)
        if not bmp:
            return "mtmd_bitmap_init returned NULL"
        chunks = M.mtmd_input_chunks_init()
        txt = M.mtmd_input_text()
        marker = M.mtmd_default_marker()
        s = b"x" + marker
        txt.text, txt.text_len, txt.add_special, txt.parse_special = s, len(s), False, True
        arr = (M.mtmd_bitmap_p_ctypes * 1)(bmp)
        rc = M.mtmd_tokenize(ctx, chunks, ctypes.byref(txt), arr, 1)
        if rc != 0:
            return f"mtmd_tokenize returned {rc}"
        out = None
        for i in range(M.mtmd_input_chunks_size(chunks)):
            ch = M.mtmd_input_chunks_get(chunks, i)
            if M.mtmd_input_chunk_get_type(ch) != M.MTMD_INPUT_CHUNK_TYPE_IMAGE:
                continue
            it = M.mtmd_input_chunk_get_tokens_image(ch)
            nt = M.mtmd_image_tokens_get_n_tokens(it)
            nx, ny = M.mtmd_image_tokens_get_nx(it), M.mtmd_image_tokens_get_ny(it)
            rc = M.mtmd_encode_chunk(ctx, ch)
            if rc != 0:
                return f"mtmd_encode_chunk returned {rc}"
            n_embd = llama_cpp.llama_model_n_embd_inp(model) if hasattr(llama_cpp, "llama_model_n_embd_inp") \
                else llama_cpp.llama_model_n_embd(model)
            e = M.mtmd_get_output_embd(ctx)
            out = (np.ctypeslib.as_array(e, shape=(nt * n_embd,)).copy().reshape(nt, n_embd), (nx, ny))
        M.mtmd_input_chunks_free(chunks)
        M.mtmd_bitmap_free(bmp)
        return out if out is not None else "no image chunk"
    finally:
        M.mtmd_free(ctx)
        llm.close() if hasattr(llm, "close") else None


def llama_child(text_gguf, mmproj, img, flash, out):
    """llama_embd in a child process (a GGML_ASSERT aborts the whole process):
    the embeddings and (nx, ny), or a str naming llama.cpp's complaint."""
    import numpy as np
    img_f = out + ".img.npy"
    np.save(img_f, img)
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--llama-child", text_gguf, mmproj,
                        img_f, "1" if flash else "0", out], capture_output=True, text=True,
                       env=dict(os.environ, GGML_BACKTRACE="0"))
    if r.returncode == 0 and os.path.exists(out):
        z = np.load(out)
        return z["embd"], tuple(int(v) for v in z["nxy"])
    err = r.stdout + r.stderr
    for key in ("GGML_ASSERT", "error", "failed", "Error"):
        lines = [ln.strip() for ln in err.splitlines() if key in ln and "tensor[" not in ln]
        if lines:
            msg = lines[-1]
            return msg[msg.find("GGML_ASSERT"):] if "GGML_ASSERT" in msg else msg
    return f"exit status {r.returncode}"


def child_main(argv):
    import numpy as np
    text_gguf, mmproj, img_f, flash, out = argv
    got = llama_embd(text_gguf, mmproj, np.load(img_f), flash == "1")
    if isinstance(got, str):
        print("error: " + got, file=sys.stderr)
        return 1
    emb, nxy = got
    np.savez(out, embd=emb, nxy=np.asarray(nxy, np.int64))
    return 0


def compare(ours, theirs):
    import numpy as np
    a, b = ours.astype(np.float64), theirs.astype(np.float64)
    rel = float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-30))
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    cos = (a * b).sum(1) / np.maximum(na * nb, 1e-300)
    return rel, float(cos.min())


def run_fixture(fx, bindir, work):
    import numpy as np
    d = os.path.join(MODELS, fx)
    wd = os.path.join(work, fx)
    os.makedirs(wd, exist_ok=True)
    text, mm = os.path.join(wd, "text.gguf"), os.path.join(wd, "mmproj.gguf")
    r = subprocess.run([os.path.join(bindir, "qwen-convert"), d, "-o", text, "--mmproj", mm,
                        "--outtype", "f32"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"qwen-convert {fx}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    meta = gguf_meta(mm)
    patch, merge = int(meta["patch_size"]), int(meta["spatial_merge_size"] or 2)
    img = make_image()
    pv, grid = pixel_values(img, meta["image_mean"], meta["image_std"], patch, merge)
    pix = os.path.join(wd, "pixels.safetensors")
    write_safetensors(pix, {"pixel_values": ("F32", pv), "image_grid_thw": ("I32", np.asarray([grid], np.int32))})
    dump = os.path.join(wd, "ours.npz")
    r = subprocess.run([os.path.join(bindir, "qwen-verify"), "vision", mm, "--pixels", pix,
                        "--grid", "%d,%d,%d" % grid, "--dump", dump], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"qwen-verify vision {fx}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    z = np.load(dump)
    ours = [("embd", z["embd"])]
    if "deepstack" in z.files:
        ours += [(f"deepstack.{k}", z["deepstack"][k]) for k in range(z["deepstack"].shape[0])]
    rows = []
    for mode, flash in (("f32", False), ("fa", True)):
        got = llama_child(text, mm, img, flash, os.path.join(wd, f"llama_{mode}.npz"))
        if isinstance(got, str):
            rows.append((fx, mode, "-", "llama.cpp refuses: " + got, None, None))
            continue
        emb, (nx, ny) = got
        width = ours[0][1].shape[1]
        if emb.shape != (ours[0][1].shape[0], width * len(ours)):
            rows.append((fx, mode, "embd", f"shape llama.cpp {emb.shape} (nx {nx} ny {ny}) vs ours "
                         f"{ours[0][1].shape} x {len(ours)} outputs", None, None))
            continue
        for k, (name, o) in enumerate(ours):
            rel, cmin = compare(o, emb[:, k * width:(k + 1) * width])
            rows.append((fx, mode, name, f"{o.shape[0]}x{o.shape[1]}", rel, cmin))
    return rows


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--llama-child":
        ensure_venv()
        return child_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--keep", default=None, help="keep the files in this directory")
    ap.add_argument("fixtures", nargs="*")
    a = ap.parse_args()
    ensure_venv()
    for t in ("qwen-convert", "qwen-verify"):
        if not os.access(os.path.join(a.bin, t), os.X_OK):
            print(f"mmproj_llama_crosscheck: no {a.bin}/{t}", file=sys.stderr)
            return 2
    work = a.keep or tempfile.mkdtemp(prefix="mmproj-llama-")
    fails, rows = 0, []
    for fx in a.fixtures or fixture_list():
        try:
            rows += run_fixture(fx, a.bin, work)
        except RuntimeError as ex:
            print(f"mmproj_llama_crosscheck: {ex}", file=sys.stderr)
            return 2
    print(f"{'fixture':14s} {'attn':5s} {'output':12s} {'shape':8s} {'max|d|/max|ours|':>17s} {'1 - min cos':>12s}  verdict")
    for fx, mode, name, shape, rel, cmin in rows:
        if rel is None:
            bad = not shape.startswith("llama.cpp refuses")
            fails += bad
            print(f"{fx:14s} {mode:5s} {name:12s} {shape}  {'FAIL' if bad else ''}")
            continue
        rb, cb = BUDGET[mode]
        ok = rel <= rb and 1 - cmin <= cb
        fails += not ok
        print(f"{fx:14s} {mode:5s} {name:12s} {shape:8s} {rel:17.3g} {1 - cmin:12.3g}  {'ok' if ok else 'FAIL'}")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("budget: " + "; ".join(f"{m}: max|d|/max|ours| <= {r:g}, 1 - cos <= {c:g}" for m, (r, c) in BUDGET.items())
          + f"; {'all within' if not fails else f'{fails} over'}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
