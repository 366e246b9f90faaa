#!/bin/sh
# qwen-verify compare on llama-perplexity's protocol against llama-perplexity
# itself: the synthetic Qwen2.5-0.5B-shaped bf16 checkpoint of
# verify_bench.sh (with the real Qwen tokenizer of qwen3_realvocab) as a bf16
# GGUF (qwen-convert) and its Q4_K_M (qwen-quant), 2 chunks of 512 tokens of
# Debian's Apache-2.0 + GPL-3 licence texts, the same threads:
#   ours:  qwen-verify compare --text-file T --ctx 512 --chunks 2 BF16 Q4_K_M
#   llama: llama-perplexity -m BF16 --kl-divergence-base B (pass 1), then
#          llama-perplexity -m Q4_K_M --kl-divergence --kl-divergence-base B
# Prints the wall time of each and the mean KLD both report. Measures only.
# llama-perplexity: $LLAMA_PERPLEXITY, else build/llama.cpp/bin/ (made by
# testdata/gen/ppl_crosscheck.py); without it only our side runs.
#   BUILD=build BINDIR=bin sh tests/bench/verify_ppl_bench.sh
#   VERIFY_PPL_THREADS=2 VERIFY_PPL_CHUNKS=2 ... to change the run
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
GEN="$BUILD/bench/gen_synth"
DIR="$BUILD/bench/qwen2.5-0.5b-synth"
T=${VERIFY_PPL_THREADS:-2}
CH=${VERIFY_PPL_CHUNKS:-2}
LP=${LLAMA_PERPLEXITY:-build/llama.cpp/bin/llama-perplexity}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$DIR/model.safetensors" ] || [ "$GEN" -nt "$DIR/model.safetensors" ]; then
	echo "verify_ppl_bench: generating $DIR"
	"$GEN" "$DIR" || exit 1
fi
for f in tokenizer.json tokenizer_config.json; do
	cmp -s testdata/models/qwen3_realvocab/$f "$DIR/$f" || cp testdata/models/qwen3_realvocab/$f "$DIR/$f"
done
BF="$BUILD/bench/synth-bf16.gguf"
Q4="$BUILD/bench/synth-q4km.gguf"
[ -f "$BF" ] && [ ! "$DIR/model.safetensors" -nt "$BF" ] ||
	"$BINDIR/qwen-convert" -q "$DIR" -o "$BF" || exit 1
[ -f "$Q4" ] && [ ! "$BF" -nt "$Q4" ] ||
	"$BINDIR/qwen-quant" -q "$BF" -o "$Q4" --type Q4_K_M -t "$T" || exit 1
cat /usr/share/common-licenses/Apache-2.0 /usr/share/common-licenses/GPL-3 >"$tmp/text.txt"

now() { date +%s.%N; }
t0=$(now)
"$V" compare --json -t "$T" --text-file "$tmp/text.txt" --ctx 512 --chunks "$CH" --max-kld 100 \
	"$BF" "$Q4" >"$tmp/ours.json" 2>"$tmp/err" || { echo "verify_ppl_bench: compare failed"; cat "$tmp/err"; exit 1; }
t1=$(now)
kld=$(sed -n 's/^[[:space:]]*"kld_mean":[[:space:]]*\([^,]*\),*$/\1/p' "$tmp/ours.json" | head -n 1)
printf 'verify_ppl_bench: qwen-verify compare, %s chunks x 512, -t %s: %.1f s wall (mean KLD %s)\n' \
	"$CH" "$T" "$(echo "$t1 - $t0" | bc)" "$kld"
if [ ! -x "$LP" ]; then
	echo "verify_ppl_bench: no llama-perplexity ($LP): skipped the llama.cpp side"
	exit 0
fi
t0=$(now)
"$LP" -m "$BF" -f "$tmp/text.txt" -c 512 --chunks "$CH" -t "$T" --kl-divergence-base "$tmp/b.kld" \
	>"$tmp/l1.txt" 2>&1 || { echo "verify_ppl_bench: llama-perplexity pass 1 failed"; tail -5 "$tmp/l1.txt"; exit 1; }
t1=$(now)
"$LP" -m "$Q4" -f "$tmp/text.txt" -c 512 --chunks "$CH" -t "$T" --kl-divergence \
	--kl-divergence-base "$tmp/b.kld" >"$tmp/l2.txt" 2>&1 ||
	{ echo "verify_ppl_bench: llama-perplexity pass 2 failed"; tail -5 "$tmp/l2.txt"; exit 1; }
t2=$(now)
printf 'verify_ppl_bench: llama-perplexity, same text and threads: %.1f s + %.1f s = %.1f s wall (%s)\n' \
	"$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(echo "$t2 - $t0" | bc)" \
	"$(grep -a 'Mean    KLD' "$tmp/l2.txt" | sed 's/  */ /g')"
