#!/bin/sh
# make demo: the whole pipeline on the bundled models (testdata/models), every
# step shown with the command as you would type it and its whole output:
# inspect, convert to GGUF, run on text, check against transformers, plan and
# quantize with a recipe, compare on text with a thresholds file, JSON for CI,
# a sweep of types, and back to Hugging Face safetensors.
BINDIR=${BINDIR:-bin}
out=${DEMO_OUT:-build/demo}
PATH="$(cd "$BINDIR" && pwd):$PATH"
export PATH
rm -rf "$out"
mkdir -p "$out"
M=testdata/models
# the trained tiny Qwen3 when it is there (its numbers mean something), else
# the random-weight qwen2 fixture
MODEL=$M/qwen2
TEXT=testdata/tokenizer/corpus/en.txt
if [ -f "$M/qwen3_tiny/heldout.tsv" ]; then
	# its held-out text: byte ranges of the corpus it was never trained on
	MODEL=$M/qwen3_tiny
	TEXT=$out/heldout.txt
	grep -v '^#' "$MODEL/heldout.tsv" | while IFS="$(printf '\t')" read -r f off len; do
		tail -c +"$((off + 1))" "testdata/tokenizer/corpus/$f" | head -c "$len"
	done >"$TEXT"
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# run CMD...: print the command, run it, show a non-zero exit status
run() {
	printf '$ %s\n' "$*"
	"$@"
	rc=$?
	[ "$rc" -eq 0 ] || printf '(exit status %d)\n' "$rc"
	return 0
}

step "1. what the bundled checkpoints are (qwen-inspect of each, summarised)"
printf '$ for m in %s/*/; do qwen-inspect "$m"; done   (one line each)\n' "$M"
printf '  %-18s %-11s %-12s %-12s %s\n' model generation architecture parameters format
for m in $M/*/; do
	m=${m%/}
	[ -f "$m/config.json" ] || continue
	qwen-inspect "$m" | awk -v m="$(basename "$m")" '
		/^generation:/ { sub(/^generation: */, ""); gen = $0 }
		/^architecture:/ { arch = $2 }
		/^parameters:/ { n = $2 " " $3 }
		/^format:/ { sub(/^format: */, ""); fmt = $0 }
		END { printf "  %-18s %-11s %-12s %-12s %s\n", m, gen, arch, n, fmt }'
done

step "2. one checkpoint in detail (Qwen3-Next: linear and full attention layers, MoE)"
run qwen-inspect $M/qwen3_next

step "3. safetensors -> GGUF that llama.cpp loads (no -o: llama.cpp's default name)"
name=$(basename "$MODEL")
cp -r "$MODEL" "$out/$name"
run qwen-convert "$out/$name"
G=$(ls "$out/$name"/*.gguf)
run qwen-inspect "$G" --kv

step "4. the reference forward pass on text, then against Hugging Face transformers' outputs"
run qwen-verify run "$G" --text "The train leaves at 8:45." --top-k 3
run qwen-verify golden "$MODEL" "$MODEL/expected.safetensors"

step "5. plan a quantization with a recipe (man/examples/keep.yaml), then make it"
run cat man/examples/keep.yaml
run qwen-quant plan "$MODEL" --type Q4_K_M --recipe man/examples/keep.yaml
run qwen-quant "$MODEL" -o "$out/model-Q4_K_M.gguf" --type Q4_K_M --recipe man/examples/keep.yaml

step "6. compare on text with a thresholds file (man/examples/thresholds.yaml), as CI would"
run cat man/examples/thresholds.yaml
run qwen-verify compare "$MODEL" "$out/model-Q4_K_M.gguf" --text-file "$TEXT" --ctx 256 --chunks 40 \
	--thresholds man/examples/thresholds.yaml
[ "$MODEL" = "$M/qwen2" ] && printf '(random tiny weights quantize badly: a real checkpoint passes these thresholds)\n'

step "7. the same as JSON for a CI script (perplexity of the candidate)"
run qwen-verify perplexity "$out/model-Q4_K_M.gguf" --text-file "$TEXT" --ctx 256 --chunks 40 --json

step "8. which type to ship: a sweep on the same text"
run qwen-verify sweep "$MODEL" --types Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q3_K_M,Q2_K --text-file "$TEXT" \
	--ctx 256 --chunks 40

step "9. GGUF -> Hugging Face safetensors (every transform undone), and the difference"
run qwen-convert -q "$G" -o "$out/model-hf"
run ls "$out/model-hf"
run qwen-inspect diff "$MODEL" "$out/model-hf"
printf '\nall outputs are in %s\n' "$out"
