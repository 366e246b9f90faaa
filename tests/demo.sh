#!/bin/sh
# make demo: the whole pipeline on the bundled tiny models (testdata/models):
# inspect, convert to GGUF and back, quantize, verify.
BINDIR=${BINDIR:-bin}
set -e
out=${DEMO_OUT:-build/demo}
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
M=testdata/models

step "1. what the bundled checkpoints are"
for m in $M/*/; do
	m=${m%/}
	[ -f "$m/config.json" ] || continue
	"$BINDIR/qwen-inspect" "$m" | awk -v m="$(basename "$m")" '
		/^generation:/ { sub(/^generation: */, ""); gen = $0 }
		/^architecture:/ { arch = $2 }
		/^parameters:/ { n = $2 " " $3 }
		/^format:/ { sub(/^format: */, ""); fmt = $0 }
		END { printf "  %-16s %-11s %-11s %-10s %s\n", m, gen, arch, n, fmt }'
done

step "2. one checkpoint in detail (Qwen3-Next: linear and full attention layers, MoE)"
run "$BINDIR/qwen-inspect" $M/qwen3_next | sed -n '1,12p;/^layers:/,$p'

step "3. safetensors -> GGUF that llama.cpp loads (bf16 stays bf16)"
run "$BINDIR/qwen-convert" -q $M/qwen2 -o "$out/qwen2.gguf"
run "$BINDIR/qwen-inspect" "$out/qwen2.gguf" | sed -n '1,9p'
printf '$ qwen-inspect diff %s %s   (tensors paired by role)\n' "$M/qwen2" "$out/qwen2.gguf"
"$BINDIR/qwen-inspect" diff $M/qwen2 "$out/qwen2.gguf" | tail -n 1

step "4. the reference forward pass against Hugging Face transformers' outputs"
run "$BINDIR/qwen-verify" golden $M/qwen2 $M/qwen2/expected.safetensors | tail -n 4
printf '$ qwen-verify compare %s %s\n' "$M/qwen2" "$out/qwen2.gguf"
"$BINDIR/qwen-verify" compare $M/qwen2 "$out/qwen2.gguf" | tail -n 12

step "5. quantize straight from safetensors (llama.cpp's Q4_K_M mix, byte-identical to llama-quantize)"
run "$BINDIR/qwen-quant" plan $M/qwen2 --type Q4_K_M | tail -n 6
run "$BINDIR/qwen-quant" -q $M/qwen2 -o "$out/qwen2-Q4_K_M.gguf" --type Q4_K_M
printf '$ qwen-verify compare %s %s --max-kld 0.5 --min-top1 70\n' "$M/qwen2" "$out/qwen2-Q4_K_M.gguf"
"$BINDIR/qwen-verify" compare $M/qwen2 "$out/qwen2-Q4_K_M.gguf" --max-kld 0.5 --min-top1 70 | sed "/^stream/,/^first divergent/d"
printf '(random tiny weights quantize badly: real checkpoints give far smaller KLD)\n'

step "6. GGUF -> Hugging Face safetensors (every transform undone)"
run "$BINDIR/qwen-convert" -q "$out/qwen2.gguf" -o "$out/qwen2-hf"
ls "$out/qwen2-hf"
printf '$ qwen-inspect diff %s %s\n' "$M/qwen2" "$out/qwen2-hf"
"$BINDIR/qwen-inspect" diff $M/qwen2 "$out/qwen2-hf" | tail -n 1
printf '\nall outputs are in %s\n' "$out"
