#!/usr/bin/env python3
"""Expected image embeddings of the VL fixtures' vision towers, from
transformers itself (5.23.0, torch 2.15.0, fp32, eager attention).

For every fixture directory given (default: each testdata/models/* whose
config.json has a vision_config), loads the ...ForConditionalGeneration
model in fp32 (bf16 weights widened exactly), builds a deterministic pixel
tensor for two inputs and runs the vision tower (`model.model.visual`):

- grid 1: t=1, h=4, w=8 patches (an image)
- grid 2: t=2, h=6, w=4 patches (a two-frame clip: attention per frame)

With patch 4 and merge 2 (every fixture here), Qwen2.5-VL's window of 16
pixels is 2 x 2 merged tokens: grid 1 has two full windows, grid 2 per
frame a full and a cut window (the padding path), and the
fullatt_block_indexes block attends over whole frames. Qwen3-VL's learned
4 x 4 position table is interpolated (bilinear, corners aligned) to both
grids.

Writes NAME/expected_vision.safetensors:
  vision.pixels   [N, C*T*P*P] f32   the pixel rows, as the image processor
                                     lays them out (N patches, in merge-block
                                     order within each frame)
  vision.grid     [n_img, 3] i32     image_grid_thw
  vision.embd     [N / m^2, out] f32 the merger output (pooler_output)
  vision.deepstack.K [N / m^2, out] f32  Qwen3-VL: deepstack merger K's
                                     output (K = its position in
                                     deepstack_visual_indexes)
  vision.patch    [N, E] f32         patch embedding (+ interpolated
                                     position embedding for Qwen3-VL)
  vision.block.L  [N, E] f32         the hidden states after block L, in
                                     the patch order of vision.pixels
                                     (Qwen2.5-VL's window permutation undone)
Metadata: the versions, the grids, what each tensor is.

--towers first writes the vision-only checkpoints of testdata/vision/: each
a config.json, the preprocessor_config.json llama.cpp's mmproj converter
reads (mmproj_truths.write_preprocessor) and a model.safetensors holding
only the vision tower, `visual.*` as released checkpoints name it (bf16;
norms 1 + 0.2 N(0,1), the other weights as fx_weights.draw makes them):
  qwen2_5_vl_3blocks  Qwen2.5-VL like the qwen2_5_vl fixture's tower but 3
                      blocks, fullatt_block_indexes [2] (llama.cpp's converter
                      refuses fewer than 3), window_size 16
then their expected_vision.safetensors like any fixture's.

usage: vision_oracle.py [--towers] [FIXTURE_DIR ...]   (directories without a vision_config
are passed over; regen.sh runs it after make_fixtures.py)
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForImageTextToText

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fx_weights  # noqa: E402

GRIDS = [[1, 4, 8], [2, 6, 4]]
SEED = 1717


def pixels(vc, n):
    """n patch rows of C*T*P*P values in [-2, 2] (roughly what a normalised
    image gives), from a fixed generator."""
    g = torch.Generator().manual_seed(SEED)
    k = vc.in_channels * vc.temporal_patch_size * vc.patch_size * vc.patch_size
    return (torch.rand(n, k, generator=g, dtype=torch.float32) * 4.0 - 2.0).contiguous()


def window_order(vis, grid):
    """Qwen2.5-VL: the window permutation of merge units, or None."""
    if not hasattr(vis, "fullatt_block_indexes"):
        return None
    from transformers.vision_utils import get_vision_window_index
    idx, _ = get_vision_window_index(grid, vis.spatial_merge_size, vis.window_size,
                                     vis.patch_size)
    return idx


@torch.no_grad()
def run(d):
    cfg = AutoConfig.from_pretrained(d)
    model = AutoModelForImageTextToText.from_pretrained(
        d, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    vis = model.model.visual
    vc = vis.config
    grid = torch.tensor(GRIDS, dtype=torch.long)
    n = int(sum(t * h * w for t, h, w in GRIDS))
    px = pixels(vc, n)

    blocks = []
    hooks = [blk.register_forward_hook(lambda m, i, o: blocks.append(o.detach().clone()))
             for blk in vis.blocks]
    patch = []
    hooks.append(vis.patch_embed.register_forward_hook(
        lambda m, i, o: patch.append(o.detach().clone())))
    out = vis(px, grid_thw=grid)
    for h in hooks:
        h.remove()

    unit = vis.spatial_merge_size ** 2
    order = window_order(vis, grid)
    if order is not None:
        # rows are in window order: row block j holds merge unit order[j]
        inv = torch.argsort(order)
        blocks = [b.reshape(n // unit, unit, -1)[inv].reshape(n, -1) for b in blocks]

    # the undone permutation is checked: the merger of the last block in
    # patch order must give the tower's output
    if not torch.allclose(vis.merger(blocks[-1]), out.pooler_output, rtol=0, atol=1e-6):
        raise SystemExit(f"{d}: block outputs are not in patch order")
    p = patch[0]
    if hasattr(vis, "pos_embed"):
        from transformers.vision_utils import get_vision_interpolation_indices_and_weights
        ii, ww = get_vision_interpolation_indices_and_weights(
            grid, vis.num_grid_per_side, mode="bilinear", align_corners=True,
            spatial_merge_size=vc.spatial_merge_size)
        p = p + (vis.pos_embed(ii) * ww[:, :, None]).sum(1)

    t = {"vision.pixels": px, "vision.grid": grid.to(torch.int32),
         "vision.embd": out.pooler_output.float().contiguous(),
         "vision.patch": p.float().contiguous()}
    for i, b in enumerate(blocks):
        t[f"vision.block.{i}"] = b.float().contiguous()
    ds = getattr(out, "deepstack_features", None) or []
    for i, f in enumerate(ds):
        t[f"vision.deepstack.{i}"] = f.float().contiguous()

    meta = {
        "generator": "testdata/gen/vision_oracle.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "model_class": type(model).__name__,
        "vision_class": type(vis).__name__,
        "dtype": "float32 (bf16 weights widened), eager attention",
        "grids": json.dumps(GRIDS),
        "pixel_seed": str(SEED),
        "n_deepstack": str(len(ds)),
        "n_blocks": str(len(blocks)),
        "window_size": str(getattr(vc, "window_size", "")),
        "fullatt_block_indexes": json.dumps(list(getattr(vc, "fullatt_block_indexes", []))),
        "deepstack_visual_indexes": json.dumps(list(getattr(vc, "deepstack_visual_indexes", []))),
    }
    path = os.path.join(d, "expected_vision.safetensors")
    fx_weights.save_ordered(t, path, meta)
    print(f"{path}: {os.path.getsize(path)} bytes, {type(vis).__name__}, "
          f"embd {tuple(out.pooler_output.shape)}, deepstack {len(ds)}")
    del cfg


def _qwen2_5_vl_3blocks_cfg():
    import vl_fx
    c = vl_fx.qwen2_5_vl_cfg(32, 1, 2, 1, 64, 600, 590, [2, 3, 3])
    c["vision_config"].update({"depth": 3, "fullatt_block_indexes": [2]})
    return c


# the vision-only towers of testdata/vision: name -> (seed, config)
TOWERS = {"qwen2_5_vl_3blocks": (118, _qwen2_5_vl_3blocks_cfg)}


def tower(name, d):
    """A vision-only checkpoint (see the module docstring)."""
    from transformers import AutoConfig
    seed, make_cfg = TOWERS[name]
    cfg = make_cfg()
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    import mmproj_truths  # the preprocessor_config.json llama.cpp's converter reads
    mmproj_truths.write_preprocessor(d)
    with torch.device("meta"):
        m = AutoModelForImageTextToText.from_config(AutoConfig.from_pretrained(d))
    state = {}
    for pname, p in sorted(m.state_dict().items()):
        if not pname.startswith("model.visual."):
            continue
        shape = tuple(p.shape)
        if pname.endswith("norm1.weight") or pname.endswith("norm2.weight") or \
                pname.endswith("ln_q.weight"):
            import numpy as np
            r = fx_weights._rng(seed, pname)
            a = (1.0 + 0.2 * r.standard_normal(shape)).astype(np.float32)
        else:
            a = fx_weights.draw(seed, pname, shape, {})
        state[pname[len("model."):]] = torch.from_numpy(a).to(torch.bfloat16).contiguous()
    fx_weights.save_single(state, os.path.join(d, "model.safetensors"))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    given = sys.argv[1:]
    if given[:1] == ["--towers"]:
        given = given[1:]
        for name in TOWERS:
            d = os.path.normpath(os.path.join(here, "..", "vision", name))
            tower(name, d)
            run(d)
        if not given:
            return
    if not given:
        root = os.path.join(here, "..", "models")
        given = [os.path.join(root, name) for name in sorted(os.listdir(root))]
    dirs = []
    for d in given:
        c = os.path.join(d, "config.json")
        if os.path.exists(c) and "vision_config" in json.load(open(c)):
            dirs.append(d)
    torch.manual_seed(0)
    for d in dirs:
        run(os.path.normpath(d))


if __name__ == "__main__":
    main()
