#!/bin/sh
# The non-finite weight policy, the same in every tool: a NaN or Inf weight
# is refused with exit 3 naming the tensor and its first bad element (and the
# option that accepts it); --allow-nonfinite accepts it. Broken copies of the
# qwen2 fixture are made with tests/tools/st_poke.c. F8 matrices are refused
# by qwen-verify when it validates its inputs, before any forward pass.
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tool_fns.sh

if ! make -s "$BUILD/tools/st_poke" "$BUILD/tools/st_f8" >"$tmp/make.log" 2>&1; then
	notok "building $BUILD/tools/st_poke and st_f8"; sed 's/^/#   /' "$tmp/make.log" | head -5
	exit 0
fi
POKE="$BUILD/tools/st_poke"

# no_file PATH: nothing written
no_file() {
	if [ -e "$1" ] || ls "$(dirname "$1")" | grep -q 'tmp-'; then notok "$1 or a temporary exists"
	else ok "nothing written for $(basename "$1")"; fi
}

# a NaN in a layer-1 matrix (row 2, column 10 of the [256, 256] q projection)
# and an Inf in a norm
cp -r $M/qwen2 "$tmp/nan"
"$POKE" "$tmp/nan/model.safetensors" model.layers.1.self_attn.q_proj.weight 522 nan
cp -r $M/qwen2 "$tmp/inf"
"$POKE" "$tmp/inf/model.safetensors" model.layers.0.input_layernorm.weight 7 -inf
Q="'blk.1.attn_q.weight': element 522 (row 2, column 10) is NaN: non-finite weights are refused (--allow-nonfinite accepts them)"
N="'blk.0.attn_norm.weight': element 7 is -Inf"

for t in Q8_0 Q4_K_M F16; do
	expect 3 "$Q" qwen-quant "$tmp/nan" -o "$tmp/q.gguf" --type $t
	no_file "$tmp/q.gguf"
done
expect 3 "$N" qwen-quant "$tmp/inf" -o "$tmp/q.gguf" --type Q8_0
for t in auto q8_0 f16; do
	expect 3 "$Q" qwen-convert "$tmp/nan" -o "$tmp/c.gguf" --outtype $t
	no_file "$tmp/c.gguf"
done
expect 3 "$N" qwen-convert "$tmp/inf" -o "$tmp/c.gguf"
VQ="model.layers.1.self_attn.q_proj.weight': element 522 (row 2, column 10) is NaN"
expect 3 "$VQ" qwen-verify run "$tmp/nan" --tokens 1,2,3
expect 3 "model.layers.0.input_layernorm.weight': element 7 is -Inf" qwen-verify run "$tmp/inf" \
	--tokens 1,2,3
expect 3 "$VQ" qwen-verify compare "$tmp/nan" "$tmp/nan" --tokens 1,2,3
expect 3 "$VQ" qwen-verify compare $M/qwen2 "$tmp/nan" --tokens 1,2,3
expect 3 "$VQ" qwen-verify golden "$tmp/nan" $M/qwen2/expected.safetensors
# a GGUF carrying the NaN (written with the override) is refused the same way
expect 0 "" qwen-convert -q --allow-nonfinite "$tmp/nan" -o "$tmp/nan.gguf"
expect 3 "'blk.1.attn_q.weight': element 522 (row 2, column 10) is NaN" qwen-quant \
	"$tmp/nan.gguf" -o "$tmp/q.gguf" --type Q8_0
expect 3 "is NaN" qwen-convert "$tmp/nan.gguf" -o "$tmp/hf"
no_file "$tmp/hf"
expect 3 "is NaN" qwen-verify run "$tmp/nan.gguf" --tokens 1,2,3

# the override, for people inspecting a broken model
expect 0 "" qwen-quant -q --allow-nonfinite "$tmp/nan" -o "$tmp/q.gguf" --type Q8_0
expect 0 "" qwen-convert -q --allow-nonfinite "$tmp/nan.gguf" -o "$tmp/hf"
expect 0 "" qwen-verify run --allow-nonfinite "$tmp/inf" --tokens 1,2,3
expect 1 "" qwen-verify golden --allow-nonfinite "$tmp/nan" $M/qwen2/expected.safetensors

# an F8 matrix: --stats says what is true of it; qwen-verify refuses it when
# it validates its inputs (nothing printed, no forward pass), override or not
mkdir "$tmp/f8"
cp $M/qwen2/config.json $M/qwen2/tokenizer*.json "$tmp/f8/"
if "$BUILD/tools/st_f8" $M/qwen2/model.safetensors "$tmp/f8/model.safetensors" \
	model.layers.1.mlp.down_proj.weight; then
	expect 0 "" qwen-inspect "$tmp/f8" --stats='*down*'
	if grep -q "down_proj.weight.*not computed (F8_E4M3: a floating-point format qwenkit does not decode (F8))" "$tmp/out"; then
		ok "--stats on F8 says it is a floating-point format not decoded"
	else
		notok "--stats on F8"; sed 's/^/#   /' "$tmp/out" | grep down | head -3
	fi
	for a in "" --allow-nonfinite; do
		expect 3 "model.layers.1.mlp.down_proj.weight': cannot convert F8_E4M3 data to f32" \
			qwen-verify run $a "$tmp/f8" --tokens 1,2,3
		if [ -s "$tmp/out" ]; then notok "verify printed before refusing F8"; else ok "F8 refused before the run"; fi
	done
	expect 3 "cannot convert F8_E4M3" qwen-verify golden "$tmp/f8" $M/qwen2/expected.safetensors
else
	notok "making an F8 model"
fi
