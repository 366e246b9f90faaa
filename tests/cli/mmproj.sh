#!/bin/sh
# qwen-convert --mmproj / --mmproj-only through the real binary: what the
# options accept and refuse, the messages and exit codes, the warnings, and
# that one run writes both files. Byte identity with llama.cpp's mmproj is
# tests/unit/test_mmproj.c's (testdata/llamacpp/mmproj.tsv).
BINDIR=${BINDIR:-bin}
C="$BINDIR/qwen-convert"
I="$BINDIR/qwen-inspect"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli/lib/tap_fns.sh
quiet_errors=1

x() { code=$1; frag=$2; shift 2; expect_cmd "$code" "$frag" "$C" "$@"; }

# usage
x 2 "option '--mmproj-only' needs --mmproj FILE" $M/qwen3_vl --mmproj-only
x 2 "option '-o' names the text GGUF, which --mmproj-only does not write" \
	$M/qwen3_vl --mmproj "$tmp/m.gguf" --mmproj-only -o "$tmp/t.gguf"
x 2 "the split options apply to the text GGUF" $M/qwen3_vl --mmproj "$tmp/m.gguf" \
	--mmproj-only --split-max-tensors 4
x 2 "with --to safetensors it reads an mmproj GGUF into the export of a GGUF text model" \
	$M/qwen3_vl --to safetensors --mmproj "$tmp/m.gguf" -o "$tmp/hf"
x 2 "option '--mmproj' needs a file name" $M/qwen3_vl --mmproj ""
x 2 "--mmproj $tmp is a directory" $M/qwen3_vl --mmproj "$tmp" --mmproj-only
x 2 "names the text GGUF's file too" $M/qwen3_vl --mmproj "$tmp/same.gguf" -o "$tmp/same.gguf"
nothing_left "$tmp/same.gguf" "one name for both files"

# inputs without a vision tower (exit 3), nothing written
x 3 "model_type 'qwen2' has no vision tower" $M/qwen2 --mmproj "$tmp/m.gguf" -o "$tmp/t.gguf"
nothing_left "$tmp/t.gguf" "qwen2 --mmproj"
x 3 "no vision_config" $M/qwen3_5_moe --mmproj "$tmp/m.gguf" --mmproj-only
nothing_left "$tmp/m.gguf" "qwen3_5_moe --mmproj"
mkdir "$tmp/nopp"
cp $M/qwen3_vl/config.json $M/qwen3_vl/model.safetensors $M/qwen3_vl/tokenizer*.json "$tmp/nopp/"
x 3 "no preprocessor_config.json with image_mean and image_std" "$tmp/nopp" \
	--mmproj "$tmp/m.gguf" -o "$tmp/t.gguf"
nothing_left "$tmp/t.gguf" "no preprocessor_config.json"

# Qwen2.5-VL's window (16 pixels in the fixture) cannot be stored: a warning
x 0 "window_size is 16 pixels; the mmproj cannot store it and llama.cpp assumes 112" \
	$M/qwen2_5_vl --mmproj "$tmp/q25.gguf" --mmproj-only -q
ok_if "qwen2_5_vl: the mmproj is written" test -s "$tmp/q25.gguf"

# one run, two files: the text GGUF is the one a plain run writes
x 0 "" $M/qwen3_vl -q -o "$tmp/a.gguf" --mmproj "$tmp/a-mmproj-{ftype}.gguf" --outtype f16
x 0 "" $M/qwen3_vl -q -o "$tmp/b.gguf" --outtype f16
ok_if "qwen3_vl: -o with --mmproj is the plain text GGUF" cmp -s "$tmp/a.gguf" "$tmp/b.gguf"
ok_if "qwen3_vl: --mmproj's {ftype} filled in" test -s "$tmp/a-mmproj-f16.gguf"

# --dry-run: both plans; --json: one object, the mmproj's under "mmproj"
x 0 "" $M/qwen3_vl --dry-run --mmproj "$tmp/d.gguf"
ok_if "--dry-run prints the mmproj plan" grep -q "^plan for $tmp/d.gguf (clip, outtype auto)" "$tmp/out"
nothing_left "$tmp/d.gguf" "--dry-run --mmproj"
x 0 "" $M/qwen3_vl --dry-run --json --mmproj "$tmp/d.gguf"
ok_if "--dry-run --json: the text plan first" grep -q '^	"architecture":.*"qwen3vl"' "$tmp/out"
ok_if "--dry-run --json: the mmproj under \"mmproj\"" grep -q '"architecture":.*"clip"' "$tmp/out"
x 0 "" $M/qwen3_vl --dry-run --json --mmproj "$tmp/d.gguf" --mmproj-only
ok_if "--mmproj-only --json: the mmproj's object alone" \
	grep -q '"clip.projector_type":.*"qwen3vl_merger"' "$tmp/out"

# GGUF -> HF: a vision tower of another family or width is refused (exit 3)
x 0 "" $M/qwen2_vl -q -o "$tmp/q2.gguf" --mmproj "$tmp/q2.mm.gguf"
x 3 "a qwen2vl_merger vision tower does not belong to a qwen3vl text model" \
	"$tmp/a.gguf" --mmproj "$tmp/q2.mm.gguf" --to safetensors -o "$tmp/hfx"
nothing_left "$tmp/hfx" "mismatched --mmproj"
x 0 "" $M/qwen3_5 -q --mmproj "$tmp/q35.mm.gguf" --mmproj-only
x 3 "the projector writes 64-wide embeddings (clip.vision.projection_dim 64), the text model" \
	"$tmp/a.gguf" --mmproj "$tmp/q35.mm.gguf" --to safetensors -o "$tmp/hfy"

# qwen-inspect counts an mmproj's vision and projector parameters as
# transformers counted them for the fixture (expected.safetensors metadata
# n_params_vision / n_params_projector, testdata/gen/vl_fx.py), and the
# checkpoint's own --json says the same
meta() { head -c 8192 "$M/$1/expected.safetensors" | grep -ao "\"$2\":\"[0-9]*\"" | sed 's/.*:"\([0-9]*\)"/\1/'; }
jnum() { grep -o "\"$1\":[^0-9]*[0-9]*" "$2" | grep -o '[0-9]*$'; }
for fx in qwen2_vl qwen2_5_vl qwen3_vl qwen3_vl_moe qwen3_vl_256 qwen3_5; do
	"$C" -q $M/$fx --mmproj "$tmp/$fx.gguf" --mmproj-only --outtype f16 2>/dev/null
	"$I" --json "$tmp/$fx.gguf" >"$tmp/j" 2>&1
	"$I" --json $M/$fx >"$tmp/jh" 2>&1
	for k in n_params_vision n_params_projector; do
		want=$(meta $fx $k)
		got=$(jnum $k "$tmp/j")
		goth=$(jnum $k "$tmp/jh")
		if [ -z "$want" ]; then
			echo "skip - $fx: $k: the fixture's metadata does not record it"
		elif [ "$got" = "$want" ] && [ "$goth" = "$want" ]; then
			ok "$fx: qwen-inspect $k $got (mmproj and checkpoint) is transformers'"
		else
			notok "$fx: qwen-inspect $k: mmproj '$got', checkpoint '$goth', transformers '$want'"
		fi
	done
done
"$I" "$tmp/qwen3_vl.gguf" >"$tmp/t" 2>&1
ok_if "qwen-inspect names an mmproj's projector" grep -q "^mmproj: *qwen3vl_merger" "$tmp/t"
exit 0
