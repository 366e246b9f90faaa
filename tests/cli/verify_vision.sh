#!/bin/sh
# qwen-verify on the vision towers through the real binary: golden against
# transformers' outputs (expected_vision.safetensors of the four VL fixtures,
# testdata/gen/vision_oracle.py), the vision subcommand (--pixels, --grid,
# --dump, the built-in pixels), compare --vision with its thresholds (a
# candidate with one projector weight zeroed by tests/tools/st_poke.c fails
# equivalence, passes a loose cosine floor), and the refusals with their
# exit codes.
BINDIR=${BINDIR:-bin}
BUILD=${BUILD:-build}
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli/lib/tool_fns.sh
V="$BINDIR/qwen-verify"

for d in $M/qwen2_vl $M/qwen2_5_vl $M/qwen3_vl $M/qwen3_vl_moe $M/qwen3_vl_256 $M/qwen3_5 \
	testdata/vision/qwen2_5_vl_3blocks; do
	fx=$(basename "$d")
	expect 0 "" qwen-verify golden "$d" "$d/expected_vision.safetensors" -q
	grep -q "^golden: pass" "$tmp/out" && grep -q "^vision.embd " "$tmp/out" &&
		ok "$fx: golden prints the outputs and passes" ||
		{ notok "$fx: golden output"; show "$tmp/out" 8; }
done
"$V" golden $M/qwen3_vl $M/qwen3_vl/expected_vision.safetensors --json -q >"$tmp/j" 2>&1
grep -q '"name":[[:space:]]*"vision.deepstack.0"' "$tmp/j" &&
	grep -q '"pass":[[:space:]]*true' "$tmp/j" &&
	ok "qwen3_vl: golden --json lists the deepstack output" ||
	{ notok "qwen3_vl: golden --json"; show "$tmp/j" 8; }
expect 1 "golden: vision.embd: max |difference| is" qwen-verify golden $M/qwen3_vl \
	$M/qwen3_vl/expected_vision.safetensors --embd-rtol 1e-9
expect 2 "not --logit-rtol or --hidden-rtol" qwen-verify golden $M/qwen3_vl \
	$M/qwen3_vl/expected_vision.safetensors --logit-rtol 1e-3
expect 2 "--embd-rtol applies to expected vision outputs" qwen-verify golden $M/qwen3 \
	$M/qwen3/expected.safetensors --embd-rtol 1e-3

# mmproj files written by llama.cpp's converter (testdata/gen/vision_mmproj.py):
# the f32 one gives transformers' outputs and exactly the checkpoint's bits;
# the Q8_0 one fails equivalence and passes thresholds a Q8_0 projector meets
P=testdata/vision
expect 0 "" qwen-verify golden $P/qwen3_vl-mmproj-f32.gguf $M/qwen3_vl/expected_vision.safetensors
grep -q "^golden: pass" "$tmp/out" && grep -q "(mmproj, qwen3vl_merger" "$tmp/out" &&
	ok "llama.cpp's f32 mmproj: golden against transformers" ||
	{ notok "f32 mmproj golden"; show "$tmp/out" 8; }
expect 0 "" qwen-verify compare $M/qwen3_vl $P/qwen3_vl-mmproj-f32.gguf --json
grep -q '"max_abs_embd_diff":[[:space:]]*0,' "$tmp/out" &&
	ok "compare: checkpoint and f32 mmproj give the same bits (an mmproj means --vision)" ||
	{ notok "compare checkpoint f32 mmproj"; show "$tmp/out" 12; }
expect 1 "compare: max-embd-nmse 1e-06 exceeded: embd_nmse is" qwen-verify compare \
	$M/qwen3_vl $P/qwen3_vl-mmproj-q8_0.gguf
expect 0 "" qwen-verify compare --min-embd-cos 0.9999 --max-embd-nmse 1e-4 \
	$P/qwen3_vl-mmproj-f32.gguf $P/qwen3_vl-mmproj-q8_0.gguf
expect 1 "compare: min-embd-cos 0.999999 not reached: embd_cos_min is" qwen-verify compare \
	--min-embd-cos 0.999999 $P/qwen3_vl-mmproj-f32.gguf $P/qwen3_vl-mmproj-q8_0.gguf

# Qwen2.5-VL: the mmproj stores no window; llama.cpp's 112 pixels is wrong
# for this checkpoint's 16 (the trap), --window-size or the
# checkpoint in compare gives it back
T=testdata/vision/qwen2_5_vl_3blocks
expect 1 "golden: vision.embd: max |difference| is" qwen-verify golden \
	$P/qwen2_5_vl_3blocks-mmproj-f32.gguf $T/expected_vision.safetensors
grep -q "window 112 px (assumed, as llama.cpp)" "$tmp/out" &&
	ok "Qwen2.5-VL mmproj: 112 px assumed, said so" || { notok "assumed window"; show "$tmp/out"; }
expect 0 "" qwen-verify golden $P/qwen2_5_vl_3blocks-mmproj-f32.gguf \
	$T/expected_vision.safetensors --window-size 16
expect 0 "" qwen-verify compare $T $P/qwen2_5_vl_3blocks-mmproj-f32.gguf --json
grep -q '"max_abs_embd_diff":[[:space:]]*0,' "$tmp/out" &&
	ok "Qwen2.5-VL: checkpoint and f32 mmproj (the checkpoint's window) give the same bits" ||
	{ notok "Qwen2.5-VL compare checkpoint f32 mmproj"; show "$tmp/out" 12; }
expect 0 "" qwen-verify compare --min-embd-cos 0.9999 --max-embd-nmse 1e-4 $T \
	$P/qwen2_5_vl_3blocks-mmproj-q8_0.gguf
grep -q "window 16 px (the other model's)" "$tmp/out" &&
	ok "compare: the mmproj takes the checkpoint's window" || { notok "window sharing"; show "$tmp/out"; }
expect 2 "--window-size: '$M/qwen3_vl' is not a Qwen2.5-VL tower" qwen-verify vision $M/qwen3_vl \
	--window-size 16
expect 2 "--window-size 4: expected at least spatial_merge_size x patch_size = 8 pixels" \
	qwen-verify vision $T --window-size 4

# the whole path with qwenkit's own tools: qwen-convert --mmproj (f32: the
# checkpoint's bits), qwen-quant to Q8_0, compare gates the quantized projector
if "$BINDIR/qwen-convert" -q $M/qwen2_5_vl --mmproj "$tmp/m-f32.gguf" --mmproj-only \
	--outtype f32 2>/dev/null && "$BINDIR/qwen-quant" -q "$tmp/m-f32.gguf" \
	-o "$tmp/m-q8.gguf" --type Q8_0; then
	expect 0 "" qwen-verify compare $M/qwen2_5_vl "$tmp/m-f32.gguf" --json
	grep -q '"max_abs_embd_diff":[[:space:]]*0,' "$tmp/out" &&
		ok "qwen-convert --mmproj f32: the checkpoint's bits" ||
		{ notok "qwen2_5_vl checkpoint vs its f32 mmproj"; show "$tmp/out" 12; }
	expect 1 "compare: max-embd-nmse 1e-06 exceeded" qwen-verify compare $M/qwen2_5_vl \
		"$tmp/m-q8.gguf"
	expect 0 "" qwen-verify compare --max-embd-nmse 1e-4 --min-embd-cos 0.9999 \
		$M/qwen2_5_vl "$tmp/m-q8.gguf"
else
	notok "qwen-convert --mmproj / qwen-quant on qwen2_5_vl"
fi

# a k-quant projector (qwen3_vl_256: 256 wide, merge 1): Q4_K_M fails a
# cosine floor it cannot meet, passes one it meets (measured 0.9954)
if "$BINDIR/qwen-convert" -q $M/qwen3_vl_256 --mmproj "$tmp/w.gguf" --mmproj-only \
	--outtype f32 2>/dev/null && "$BINDIR/qwen-quant" -q "$tmp/w.gguf" -o "$tmp/w4.gguf" \
	--type Q4_K_M; then
	expect 1 "compare: min-embd-cos 0.999 not reached: embd_cos_min is" qwen-verify compare \
		--min-embd-cos 0.999 $M/qwen3_vl_256 "$tmp/w4.gguf"
	expect 0 "" qwen-verify compare --min-embd-cos 0.99 --max-embd-nmse 0.02 \
		$M/qwen3_vl_256 "$tmp/w4.gguf"
else
	notok "qwen-convert --mmproj / qwen-quant Q4_K_M on qwen3_vl_256"
fi

# the vision subcommand on the expected file's pixels gives the expected norms
expect 0 "" qwen-verify vision $M/qwen3_vl --pixels $M/qwen3_vl/expected_vision.safetensors \
	--dump "$tmp/e.npz"
grep -q "grid 1,4,8;2,6,4: 80 patches -> 20 tokens of 32" "$tmp/out" &&
	grep -q "^deepstack 0: largest row norm" "$tmp/out" &&
	ok "vision: the file's grid, 20 tokens, deepstack" || { notok "vision output"; show "$tmp/out" 5; }
[ -s "$tmp/e.npz" ] && unzip -l "$tmp/e.npz" 2>/dev/null | grep -q "deepstack.npy" &&
	ok "vision --dump wrote embd and deepstack" || notok "vision --dump"
expect 0 "" qwen-verify vision $M/qwen2_5_vl --json
grep -q '"n_patch":[[:space:]]*256' "$tmp/out" && grep -q '"n_tok":[[:space:]]*64' "$tmp/out" &&
	ok "vision: the built-in pixels on 1,16,16" || { notok "vision --json"; show "$tmp/out" 8; }
"$V" vision $M/qwen2_5_vl --json -t 1 >"$tmp/t1" 2>&1
"$V" vision $M/qwen2_5_vl --json -t 3 >"$tmp/t3" 2>&1
cmp -s "$tmp/t1" "$tmp/t3" && ok "vision: 1 and 3 threads print the same" ||
	notok "vision: threads change the output"

# compare: the same tower is equivalent; one zeroed projector weight is not
expect 0 "" qwen-verify compare --vision $M/qwen3_vl $M/qwen3_vl
grep -q "^compare: pass" "$tmp/out" && grep -q "max-embd-nmse" "$tmp/out" &&
	ok "compare --vision: a tower against itself passes the equivalence default" ||
	{ notok "compare --vision self"; show "$tmp/out" 8; }
mkdir -p "$tmp/cand"
cp $M/qwen3_vl/config.json $M/qwen3_vl/model.safetensors "$tmp/cand/"
if make -s "$BUILD/tools/st_poke" >"$tmp/make.log" 2>&1 &&
	"$BUILD/tools/st_poke" "$tmp/cand/model.safetensors" model.visual.merger.linear_fc2.weight \
		5 zero; then
	expect 1 "compare: max-embd-nmse 1e-06 exceeded: embd_nmse is" qwen-verify compare \
		--vision $M/qwen3_vl "$tmp/cand"
	expect 0 "" qwen-verify compare --vision --min-embd-cos 0.9 --max-embd-nmse 0.1 \
		$M/qwen3_vl "$tmp/cand"
	expect 1 "compare: max-embd-diff 1e-09 exceeded: max_abs_embd_diff is" qwen-verify \
		compare --vision --max-embd-diff 1e-9 $M/qwen3_vl "$tmp/cand" --json
	grep -q '"failed":[[:space:]]*\["max-embd-diff"\]' "$tmp/out" &&
		grep -q '"embd_cos_min_row"' "$tmp/out" &&
		ok "compare --vision --json names the failed threshold" ||
		{ notok "compare --vision --json"; show "$tmp/out" 8; }
	printf 'min-embd-cos: 0.9\nmax-embd-nmse: 0.1\n' >"$tmp/th.yaml"
	expect 0 "" qwen-verify compare --vision --thresholds "$tmp/th.yaml" $M/qwen3_vl \
		"$tmp/cand"
	"$BUILD/tools/st_poke" "$tmp/cand/model.safetensors" model.visual.blocks.0.mlp.linear_fc1.weight 7 nan
	expect 3 "model.visual.blocks.0.mlp.linear_fc1.weight" qwen-verify compare --vision \
		$M/qwen3_vl "$tmp/cand"
	expect 1 "" qwen-verify compare --vision --allow-nonfinite $M/qwen3_vl "$tmp/cand"
else
	notok "building $BUILD/tools/st_poke"; show "$tmp/make.log"
fi

# refusals
expect 2 "multiples of spatial_merge_size 2" qwen-verify vision $M/qwen3_vl --grid 1,3,8
expect 2 "--grid '1,4': image 0: expected T,H,W" qwen-verify vision $M/qwen3_vl --grid 1,4
expect 2 "--grid '1,4,8;0,2,2': image 1" qwen-verify vision $M/qwen3_vl --grid "1,4,8;0,2,2"
expect 3 "has 80 patch rows, the grid needs 32" qwen-verify vision $M/qwen3_vl \
	--pixels $M/qwen3_vl/expected_vision.safetensors --grid 1,4,8
expect 3 "no tensor 'pixel_values'" qwen-verify vision $M/qwen3_vl \
	--pixels $M/qwen3_vl/expected.safetensors --grid 1,4,8
expect 3 "model_type 'qwen3' has no vision tower" qwen-verify vision $M/qwen3
expect 2 "threshold max-kld bounds text logits" qwen-verify compare --vision --max-kld 0.1 \
	$M/qwen3_vl $M/qwen3_vl
expect 2 "threshold max-embd-nmse bounds image embeddings" qwen-verify compare \
	--max-embd-nmse 0.1 $M/qwen3 $M/qwen3
expect 2 "option '--min-embd-cos' does not apply to 'sweep'" qwen-verify sweep \
	--min-embd-cos 0.9 --types Q8_0 $M/qwen3
expect 3 "cannot be compared" qwen-verify compare --vision $M/qwen3_vl $M/qwen2_5_vl
expect 2 "" qwen-verify vision $M/qwen3_vl --dump $M/qwen3_vl/config.json
expect 2 "vision needs one MODEL" qwen-verify vision $M/qwen3_vl $M/qwen2_5_vl
