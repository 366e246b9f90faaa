#!/bin/sh
# qwen-verify perplexity (llama-perplexity's protocol on token ids), the
# KL-divergence base file it writes, and run --save-expected (save, golden
# passes; a perturbed model fails it). Oracles: testdata/verify/ppl_oracle.tsv
# (NumPy on transformers' logits, testdata/gen/ppl_oracle.py).
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/verify_fns.sh
quiet_errors=1

ids300=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "%s%d", (i ? "," : ""), (i * 7919 + 13) % 512 }')
echo "$ids300" >"$tmp/ids300.txt"
I="$tmp/ids300.txt"

# ---- usage errors (exit 2) ----
expect 2 "perplexity needs one MODEL" -- perplexity
expect 2 "need an input" -- perplexity $M/qwen3
expect 2 "300 tokens, need at least 2 x n_ctx = 1024" -- perplexity --tokens-file "$I" $M/qwen3
expect 2 "not an integer in [3, 1048576]" -- perplexity --ctx 2 --tokens-file "$I" $M/qwen3
expect 2 "not an integer in [1, 1073741824]" -- perplexity --chunks 0 --tokens-file "$I" $M/qwen3
expect 2 "option '--dump' does not apply to 'perplexity'" -- perplexity --dump x.npz $M/qwen3
expect 2 "option '--save-expected' does not apply to 'compare'" -- compare --save-expected x $M/qwen3 $M/qwen3
expect 2 "option '--ctx' does not apply to 'run'" -- run --ctx 64 $M/qwen3
expect 2 "--dump and --save-expected name the same file" -- run --dump "$tmp/x" --save-expected "$tmp/x" $M/qwen3
expect 2 "one of the inputs" -- perplexity --tokens-file "$I" --ctx 64 --save-base $M/qwen3/model.safetensors $M/qwen3

# ---- perplexity against NumPy on transformers' logits ----
n=0
while IFS="$(printf '\t')" read -r fx ctx nt ids nll ppl err; do
	case $fx in '#'*|'') continue ;; esac
	n=$((n + 1))
	if "$V" perplexity --json --ctx "$ctx" --chunks 1 --tokens "$ids" "$M/$fx" >"$tmp/p.json" 2>"$tmp/err" &&
	   near "$(json_num nll_mean "$tmp/p.json")" "$nll" 1e-5 &&
	   near "$(json_num ppl_err "$tmp/p.json")" "$err" 1e-3 &&
	   [ "$(json_num n_predictions "$tmp/p.json")" = $((ctx - 1 - ctx / 2)) ]; then
		echo "ok - $fx: perplexity nll_mean $(json_num nll_mean "$tmp/p.json") = NumPy $nll"
	else
		echo "not ok - $fx: perplexity nll_mean $(json_num nll_mean "$tmp/p.json"), NumPy $nll" \
			"(ppl_err $(json_num ppl_err "$tmp/p.json") vs $err)"
		sed 's/^/#   /' "$tmp/err" | head -3
	fi
done <testdata/verify/ppl_oracle.tsv
[ "$n" -ge 8 ] && echo "ok - perplexity checked on $n fixtures" || echo "not ok - only $n oracle lines"

# text output: llama-perplexity's running [i]ppl list and its final line
if "$V" perplexity --ctx 64 --tokens-file "$I" $M/qwen3 >"$tmp/out" 2>"$tmp/err" &&
   grep -q '^\[1\][0-9.]*,\[2\][0-9.]*,\[3\][0-9.]*,\[4\][0-9.]*,$' "$tmp/out" &&
   grep -q '^Final estimate: PPL = [0-9.]* +/- [0-9.]*$' "$tmp/out" &&
   grep -q '4 chunks of 31 scored tokens, BOS not added' "$tmp/out"; then
	echo "ok - perplexity text: 300 tokens / 64 = 4 chunks, running PPL per chunk"
else
	echo "not ok - perplexity text output"; head -5 "$tmp/out" | sed 's/^/#   /'
fi
"$V" perplexity --json --ctx 64 --chunks 2 --tokens-file "$I" $M/qwen3 >"$tmp/c2.json"
[ "$(json_num n_predictions "$tmp/c2.json")" = 62 ] && echo "ok - --chunks 2: 62 predictions" ||
	echo "not ok - --chunks 2: $(json_num n_predictions "$tmp/c2.json") predictions"

# ---- --save-base: llama-perplexity's file layout and size ----
if "$V" perplexity --ctx 64 --tokens-file "$I" --save-base "$tmp/b.kld" $M/qwen3 >/dev/null 2>"$tmp/err" &&
   [ "$(head -c 8 "$tmp/b.kld")" = "_logits_" ] &&
   [ "$(od -An -tu4 -j8 -N12 "$tmp/b.kld" | tr -s ' ' | sed 's/^ //')" = "64 512 4" ] &&
   [ "$(wc -c <"$tmp/b.kld")" -eq $((20 + 4 * 64 * 4 + 4 * 31 * 2 * (512 + 4))) ]; then
	echo "ok - --save-base: _logits_, n_ctx 64, n_vocab 512, 4 chunks, exact size"
else
	echo "not ok - --save-base"; sed 's/^/#   /' "$tmp/err" | head -3
fi
# the stored tokens are the input's first 4 x 64 ids
got=$(od -An -v -td4 -j20 -N$((4 * 256)) "$tmp/b.kld" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
want=$(echo "$ids300" | cut -d, -f1-256)
[ "$got" = "$want" ] && echo "ok - --save-base: the evaluated tokens follow the header" ||
	echo "not ok - --save-base tokens"

# ---- run --save-expected: golden reads it; a perturbed model fails it ----
for fx in qwen3 qwen3_moe qwen3_next qwen1; do
	if "$V" run --tokens 5,6,7,8,9 --save-expected "$tmp/$fx.st" $M/$fx >/dev/null 2>"$tmp/err" &&
	   "$V" golden $M/$fx "$tmp/$fx.st" >"$tmp/out" 2>"$tmp/err" &&
	   grep -q "^golden: pass" "$tmp/out" && grep -q "^worst stream:" "$tmp/out"; then
		echo "ok - $fx: run --save-expected, then golden passes with every stream"
	else
		echo "not ok - $fx: --save-expected then golden"; sed 's/^/#   /' "$tmp/err" | head -3
	fi
done
printf '1 2 3\n4 5 6 7\n' >"$tmp/two.txt"
"$V" run --tokens-file "$tmp/two.txt" --save-expected "$tmp/two.st" $M/qwen3 >/dev/null 2>&1
mkdir "$tmp/bad" && cp $M/qwen3/* "$tmp/bad/"
st_zero "$tmp/bad/model.safetensors" model.layers.1.mlp.down_proj.weight 64
expect 1 "residual relative RMS" -- golden "$tmp/bad" "$tmp/two.st"
expect 0 "" -- golden $M/qwen3 "$tmp/two.st"
if grep -q '"n_seq":"2"' "$tmp/two.st" && grep -q 'qwenkit-expected-1' "$tmp/two.st"; then
	echo "ok - --save-expected: two sequences, the fixture format's metadata"
else
	echo "not ok - --save-expected metadata"
fi
expect 4 "" -- run --tokens 1,2 --save-expected "$tmp/none/x.st" $M/qwen3
[ ! -e "$tmp/none" ] && echo "ok - no partial output" || echo "not ok - partial output"

# ---- compare on llama-perplexity's chunks ----
if "$V" compare --json --ctx 64 --tokens-file "$I" $M/qwen3 $M/qwen3 >"$tmp/c.json" 2>"$tmp/err" &&
   [ "$(json_num kld_mean "$tmp/c.json")" = 0 ] && [ "$(json_num ppl_ratio "$tmp/c.json")" = 1 ] &&
   [ "$(json_num n_predictions "$tmp/c.json")" = 124 ] && [ "$(json_num n_positions "$tmp/c.json")" = 124 ] &&
   [ "$(json_num top1_agreement "$tmp/c.json")" = 100 ] &&
   [ "$(grep -c '"chunk":' "$tmp/c.json")" = 4 ] &&
   grep -q '"first_divergent_layer":[[:space:]]*null' "$tmp/c.json"; then
	echo "ok - compare --ctx 64 with itself: 4 chunks, 124 scored positions, kld 0, ratio 1"
else
	echo "not ok - compare --ctx 64 with itself"; sed 's/^/#   /' "$tmp/err" | head -3
fi
for k in kld_mean_err kld_p10 kld_p05 kld_p01 kld_p001 dp_max dp_p999 dp_p75 dp_median dp_p25 \
	 dp_min rms_dp_err top1_agreement_err ppl_ref_err ppl_candidate_err ln_ppl_ratio \
	 ln_ppl_ratio_err ppl_ratio_err ppl_diff ppl_diff_err ln_ppl_cor; do
	grep -q "\"$k\":" "$tmp/c.json" || { echo "not ok - compare --json lacks $k"; miss=1; }
done
[ -z "$miss" ] && echo "ok - compare --json has every llama-perplexity statistic"
if "$V" compare --ctx 64 --tokens-file "$I" $M/qwen3 $M/qwen3 >"$tmp/out" 2>&1 &&
   grep -q '^   4 ' "$tmp/out" && grep -q '^Cor(ln(PPL(Q)), ln(PPL(base))):' "$tmp/out" &&
   grep -q '^ 0.1%   KLD:' "$tmp/out" && grep -q '^25.0%   Δp:' "$tmp/out" &&
   grep -q '^Same top p: 100.000 ± 0.000 %' "$tmp/out"; then
	echo "ok - compare text: llama-perplexity's chunk lines and statistics blocks"
else
	echo "not ok - compare text blocks"; head -12 "$tmp/out" | sed 's/^/#   /'
fi

# ---- the base file: compare --save-base, then compare --base ----
C="$BINDIR/qwen-convert"
"$C" -q --outtype q8_0 $M/qwen3 -o "$tmp/q3q8.gguf" >/dev/null 2>&1
"$V" compare --json --ctx 64 --tokens-file "$I" --save-base "$tmp/q3.kld" --max-kld 1 \
	$M/qwen3 "$tmp/q3q8.gguf" >"$tmp/full.json" 2>"$tmp/err"
"$V" compare --json --base "$tmp/q3.kld" --max-kld 1 "$tmp/q3q8.gguf" >"$tmp/base.json" 2>"$tmp/err2"
kf=$(json_num kld_mean "$tmp/full.json"); kb=$(json_num kld_mean "$tmp/base.json")
tf=$(json_num top1_agreement "$tmp/full.json"); tb=$(json_num top1_agreement "$tmp/base.json")
if near "$kb" "$kf" 0.05 && [ "$tf" = "$tb" ] &&
   [ "$(json_num n_predictions "$tmp/base.json")" = 124 ] &&
   grep -q '"tokens_source":[[:space:]]*"--base"' "$tmp/base.json"; then
	echo "ok - compare --base (16-bit log-probs) agrees with the fp32 pair: kld $kb vs $kf, top1 $tb"
else
	echo "not ok - compare --base: kld $kb vs $kf, top1 $tb vs $tf"; sed 's/^/#   /' "$tmp/err2" | head -3
fi
cmp -s "$tmp/q3.kld" "$tmp/b.kld" && echo "ok - compare --save-base writes the reference's file, as perplexity does" ||
	echo "not ok - compare --save-base differs from perplexity --save-base"
# the divergent-layer report: not assessed for lossy thresholds, assessed with --max-layer-nmse
if grep -q '"divergence_assessed":[[:space:]]*false' "$tmp/full.json" &&
   grep -q '"first_divergent_layer":[[:space:]]*null' "$tmp/full.json"; then
	echo "ok - a lossy candidate under --max-kld: first divergent layer not assessed"
else
	echo "not ok - divergence assessed without --max-layer-nmse"
fi
expect 1 "max-layer-nmse 1e-09 exceeded: first divergent layer: embedding" -- \
	compare --ctx 64 --tokens-file "$I" --max-kld 1 --max-layer-nmse 1e-9 $M/qwen3 "$tmp/q3q8.gguf"
expect 2 "compare --base needs one CANDIDATE" -- compare --base "$tmp/q3.kld" $M/qwen3 $M/qwen3
expect 2 "--base takes the tokens, n_ctx and chunks from its file" -- compare --base "$tmp/q3.kld" --ctx 64 $M/qwen3
expect 2 "--max-logit-diff needs the reference model" -- compare --base "$tmp/q3.kld" --max-logit-diff 1 $M/qwen3
expect 2 "--max-layer-nmse needs the reference model" -- compare --base "$tmp/q3.kld" --max-layer-nmse 1 $M/qwen3
expect 4 "No such file" -- compare --base "$tmp/none.kld" $M/qwen3
expect 3 "logits over different vocabularies" -- compare --base "$tmp/q3.kld" $M/qwen3_realvocab
expect 1 "max-kld 1e-09 exceeded" -- compare --base "$tmp/q3.kld" --max-kld 1e-9 "$tmp/q3q8.gguf"
expect 2 "one of the inputs" -- compare --ctx 64 --tokens-file "$I" --save-base "$tmp/q3q8.gguf" $M/qwen3 "$tmp/q3q8.gguf"
