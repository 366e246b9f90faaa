#!/bin/sh
# qwen-quant through the real binary: usage and recipe errors, the plan of
# a fixture (types llama.cpp's llama-quantize gives, sizes from the ggml
# block layouts), every fixture to every mix (loads back with qwen-inspect,
# qwen-verify compare runs), thread-count independence, the GGUF input path,
# requantize refusal, fallbacks for rows that are not 256-multiples.
# llama.cpp itself is the oracle of testdata/gen/quant_crosscheck.py
# (make crosscheck), which compares whole files with llama-quantize's.
BINDIR=${BINDIR:-bin}
Q="$BINDIR/qwen-quant"
C="$BINDIR/qwen-convert"
I="$BINDIR/qwen-inspect"
V="$BINDIR/qwen-verify"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh

# expect CODE FRAGMENT -- ARGS...: qwen-quant ARGS exits with CODE, FRAGMENT on stderr
expect() { code=$1; frag=$2; shift 3; expect_cmd "$code" "$frag" "$Q" "$@"; }

# ---- usage ----
X="$tmp/x.gguf"
expect 2 "missing MODEL" -- --type Q4_K_M -o "$X"
expect 2 "missing the type" -- $M/qwen2 -o "$X"
expect 2 "'Q4_K_X' is not one of Q4_0, Q4_1" -- $M/qwen2 --type Q4_K_X -o "$X"
expect 2 "'NVFP4' is not one of" -- $M/qwen2 --type NVFP4 -o "$X"
# mixes llama-quantize makes only with an importance matrix: refused, naming
# the first tensor (in llama-quantize's order) and its type, nothing written
expect 2 "tensor 'blk.0.attn_k.weight': IQ2_XXS makes it IQ2_XXS, which needs an importance matrix" -- $M/qwen2 --type IQ2_XXS -o "$X"
expect 2 "Q2_K_S makes it Q2_K, which needs an importance matrix" -- $M/qwen2 --type Q2_K_S -o "$X"
expect 2 "IQ3_XS makes it IQ3_XXS, which needs an importance matrix" -- plan $M/qwen2 --type iq3_xs
printf 'rules:\n  - name: token_embd.weight\n    type: IQ1_S\n' >"$tmp/iq1.yaml"
expect 2 "tensor 'token_embd.weight': IQ1_S is made only with an importance matrix" -- plan $M/qwen2 --type Q8_0 --recipe "$tmp/iq1.yaml"
expect 2 "is not an integer in [1, 256]" -- -t 0 $M/qwen2 --type Q8_0 -o "$X"
expect 2 "unknown option '--bogus'" -- --bogus $M/qwen2 --type Q8_0 -o "$X"
expect 2 "two outputs given" -- $M/qwen2 $M/qwen3 --type Q8_0 -o "$X"
expect 2 "'--output-tensor-type': 'Q4_K_M' is not a type" -- $M/qwen2 --type Q8_0 \
	--output-tensor-type Q4_K_M -o "$X"
expect 2 "option '--output' does not apply to 'plan'" -- plan $M/qwen2 --type Q8_0 -o "$X"
expect 2 "option '--threads' does not apply to 'plan'" -- plan $M/qwen2 --type Q8_0 -t 2
expect 2 "missing MODEL" -- plan --type Q8_0
nothing_left "$X" "usage errors"
expect 4 "No such file or directory" -- "$tmp/nothing" --type Q8_0 -o "$X"
nothing_left "$X" "missing input"

# a tensor that does not match config.json: exit 3, nothing written
mkdir "$tmp/bad"
cp $M/qwen2/* "$tmp/bad/"
sed 's/"hidden_size": 256/"hidden_size": 128/' $M/qwen2/config.json >"$tmp/bad/config.json"
expect 3 "model.embed_tokens.weight" -- "$tmp/bad" --type Q4_K_M -o "$X"
nothing_left "$X" "mis-shaped tensor"
# the output may not be an input
cp $M/qwen2/config.json "$tmp/bad/config.json"
expect 2 "output path is one of the inputs" -- "$tmp/bad" --type Q8_0 -o "$tmp/bad/model.safetensors"
if cmp -s "$tmp/bad/model.safetensors" $M/qwen2/model.safetensors; then
	ok "an input named as output is left untouched"
else
	notok "an input named as output was changed"
fi
# options llama-quantize has no fallback for: refused where it aborts
expect 2 "rows of 32 elements are not a whole number of Q5_K blocks" -- $M/qwen3 --type Q4_K_M \
	--output-tensor-type q5_k -o "$X"
nothing_left "$X" "output type that does not fit"

# ---- recipes through the tool: file:line and exit 2 ----
printf 'rules:\n  - role: ffn_down\n    layers: [0..1]\n    type: Q8_0\n  - role: attn_v\n    type: Q4_K_M\n' >"$tmp/mix.yaml"
expect 2 "$tmp/mix.yaml:6: 'Q4_K_M' is a mix, not a tensor type" -- $M/qwen2 --type Q4_K_M \
	--recipe "$tmp/mix.yaml" -o "$X"
printf 'rules:\n  - rol: ffn_down\n    type: Q8_0\n' >"$tmp/key.yaml"
expect 2 "$tmp/key.yaml:2: unknown key 'rol'" -- plan $M/qwen2 --type Q4_K_M --recipe "$tmp/key.yaml"
printf 'rules:\n  - role: ffn_down\n    type: Q8_0\n   - role: attn_v\n' >"$tmp/yaml.yaml"
expect 2 "$tmp/yaml.yaml:4: not valid YAML" -- plan $M/qwen2 --type Q4_K_M --recipe "$tmp/yaml.yaml"
expect 4 "$tmp/none.yaml" -- plan $M/qwen2 --type Q4_K_M --recipe "$tmp/none.yaml"
nothing_left "$X" "recipe errors"

# ---- plan: llama-quantize's types for qwen2 (2 layers, 256 wide, tied) ----
# Q4_K_M: token_embd of a tied model is the output head -> Q6_K; attn_v and
# ffn_down of layer 1 (use_more_bits(1, 2)) -> Q6_K; other matrices Q4_K;
# norms and biases stay F32. Bytes: a Q4_K block is 144 bytes per 256, Q6_K
# 210 per 256 (ggml-quant-formats.md), so {256, 64} Q4_K is 64 x 144.
# plan FILE ARGS...: qwen-quant plan ARGS into $tmp/plan, which must succeed
plan() {
	rm -f "$tmp/plan"
	"$Q" plan "$@" >"$tmp/plan" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "qwen-quant plan $*: exit 0"
	else
		notok "qwen-quant plan $*: exit $rc"; sed 's/^/#   /' "$tmp/err" | head -3
	fi
}
plan $M/qwen2 --type Q4_K_M
plan_has() {
	if grep -Eq "^  $1 +$2 +$3 +$4 +$5 " "$tmp/plan"; then
		ok "plan: $1 $2 $4 bytes"
	else
		notok "plan: expected '$1 $2 $3 $4 $5'"; grep -F "  $1 " "$tmp/plan" | sed 's/^/#   /'
	fi
}
plan_has token_embd.weight Q6_K '\{256, 512\}' 107520 6.56
plan_has blk.0.attn_k.weight Q4_K '\{256, 64\}' 9216 4.50
plan_has blk.0.attn_v.weight Q4_K '\{256, 64\}' 9216 4.50
plan_has blk.1.attn_v.weight Q6_K '\{256, 64\}' 13440 6.56
plan_has blk.0.ffn_down.weight Q4_K '\{256, 256\}' 36864 4.50
plan_has blk.1.ffn_down.weight Q6_K '\{256, 256\}' 53760 6.56
plan_has blk.0.attn_norm.weight F32 '\{256\}' 1024 32.00
plan_has blk.1.attn_q.bias F32 '\{256\}' 1024 32.00
# llama-quantize's order: globals first, then by block, then by name
order=$(awk '$1 ~ /\.(weight|bias)$/ {print $1}' "$tmp/plan" | head -4 | tr '\n' ' ')
if [ "$order" = "output_norm.weight token_embd.weight blk.0.attn_k.bias blk.0.attn_k.weight " ]; then
	ok "plan: tensors in llama-quantize's order"
else
	notok "plan: order is '$order'"
fi
if grep -q "^total: 26 tensors, .* bytes" "$tmp/plan" && grep -q "^  Q6_K .* 3 tensors" "$tmp/plan"; then
	ok "plan: totals"
else
	notok "plan: totals"; tail -6 "$tmp/plan" | sed 's/^/#   /'
fi
nothing_left "$X" "plan writes nothing"

# a recipe in the plan: Q8_0 (34 bytes per 32) for the first layer's
# ffn_down. As with llama-quantize --tensor-type, an overridden tensor does
# not advance the dense ffn_down counter, so layer 1's ffn_down is judged as
# the first one and loses its Q6_K bump (quant_crosscheck.py 'first' recipe)
printf 'rules:\n  - role: ffn_down\n    layers: 0\n    type: Q8_0\n  - name: "*.ssm_*"\n    type: Q2_K\n' >"$tmp/r.yaml"
plan $M/qwen2 --type Q4_K_M --recipe "$tmp/r.yaml"
plan_has blk.0.ffn_down.weight Q8_0 '\{256, 256\}' 69632 8.50
plan_has blk.1.ffn_down.weight Q4_K '\{256, 256\}' 36864 4.50
if grep -q "recipe line 2" "$tmp/plan"; then ok "plan names the recipe line"; else notok "plan names the recipe line"; fi
if grep -qF "$tmp/r.yaml:5: rule decides no tensor" "$tmp/err"; then
	ok "a rule that decides nothing is a warning"
else
	notok "a rule that decides nothing is a warning"; sed 's/^/#   /' "$tmp/err"
fi

# rows that are not 256-multiples: llama-quantize's fallbacks. qwen3 is 32
# wide (Q4_K -> Q5_0, 22 bytes per 32); qwen2_moe's experts have rows of 16
# (nothing fits a 32-block: F16)
plan $M/qwen3 --type Q4_K_M
plan_has blk.0.attn_q.weight Q5_0 '\{32, 64\}' 1408 5.50
plan $M/qwen2_moe --type Q3_K_S
plan_has blk.0.ffn_down_exps.weight F16 '\{16, 32, 4\}' 4096 16.00
plan_has blk.0.ffn_up_exps.weight Q4_0 '\{32, 16, 4\}' 1152 4.50
if grep -q "fallback (row length)" "$tmp/plan"; then ok "plan: fallbacks named"; else notok "plan: fallbacks named"; fi

# ---- every fixture to every mix ----
MIXES="Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K"
n=0
for d in $M/*/; do
	f=$(basename "$d")
	[ -f "$d/config.json" ] || continue
	n=$((n + 1))
	bad_runs=""
	for mix in $MIXES; do
		out="$tmp/$f.$mix.gguf"
		if ! "$Q" -q -t 2 "$d" --type "$mix" -o "$out" 2>"$tmp/err"; then
			bad_runs="$bad_runs $mix(quant: $(head -1 "$tmp/err"))"
		elif ! "$I" "$out" >/dev/null 2>"$tmp/err"; then
			bad_runs="$bad_runs $mix(inspect: $(head -1 "$tmp/err"))"
		elif ! "$V" compare "$d" "$out" --max-kld 10 --min-top1 0 >/dev/null 2>"$tmp/err"; then
			bad_runs="$bad_runs $mix(verify: $(head -1 "$tmp/err"))"
		fi
		rm -f "$out"
	done
	if [ -z "$bad_runs" ]; then
		ok "$f: every mix quantizes, loads back and compares"
	else
		notok "$f:$bad_runs"
	fi
done
if [ "$n" -ge 10 ]; then ok "every mix ran on $n fixtures"; else notok "only $n fixtures under $M"; fi

# ---- the i-quant mixes that need no importance matrix: written, then read
# back by qwen-inspect --stats and the reference pass (qwen-verify compare),
# which dequantize every IQ/TQ/MXFP4 tensor (bytes: make crosscheck) ----
for f in qwen2 qwen2_moe; do
	bad_runs=""
	for mix in IQ4_NL IQ4_XS IQ3_S IQ3_M TQ1_0 TQ2_0 MXFP4_MOE; do
		out="$tmp/$f.$mix.gguf"
		if ! "$Q" -q "$M/$f" --type "$mix" -o "$out" 2>"$tmp/err"; then
			bad_runs="$bad_runs $mix(quant: $(head -1 "$tmp/err"))"
		elif ! "$I" "$out" --stats >"$tmp/stats" 2>"$tmp/err" ||
		     grep -q "no dequantizer" "$tmp/stats" ||
		     ! grep -q "blk.0.ffn_down" "$tmp/stats"; then
			bad_runs="$bad_runs $mix(stats: $(head -1 "$tmp/err"))"
		elif ! "$V" compare "$M/$f" "$out" --max-kld 1000 --min-top1 0 >/dev/null 2>"$tmp/err"; then
			bad_runs="$bad_runs $mix(verify: $(head -1 "$tmp/err"))"
		fi
		rm -f "$out"
	done
	if [ -z "$bad_runs" ]; then
		ok "$f: the IQ/TQ/MXFP4 mixes quantize, give --stats and compare"
	else
		notok "$f:$bad_runs"
	fi
done

# ---- threads, and the GGUF input path ----
# run DESCRIPTION COMMAND...: the command must exit 0 (its stderr is shown if not)
run() {
	d=$1; shift
	"$@" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 0 ] && return 0
	notok "$d: exit $rc"; sed 's/^/#   /' "$tmp/err" | head -3
	return 1
}
for f in qwen2 qwen3_moe qwen3_next; do
	# every output is fresh: nothing from the previous fixture can be compared
	rm -f "$tmp/t1.gguf" "$tmp/t2.gguf" "$tmp/t7.gguf" "$tmp/auto.gguf" "$tmp/g.gguf"
	if run "$f: -t 1" "$Q" -q -t 1 $M/$f --type Q4_K_M -o "$tmp/t1.gguf" &&
	   run "$f: -t 2" "$Q" -q -t 2 $M/$f --type Q4_K_M -o "$tmp/t2.gguf" &&
	   run "$f: -t 7" "$Q" -q -t 7 $M/$f --type Q4_K_M -o "$tmp/t7.gguf"; then
		if cmp -s "$tmp/t1.gguf" "$tmp/t2.gguf" && cmp -s "$tmp/t1.gguf" "$tmp/t7.gguf"; then
			ok "$f: -t 1, -t 2 and -t 7 give the same bytes"
		else
			notok "$f: output depends on the thread count"
		fi
	fi
	# from qwen-convert's GGUF: the same file as straight from safetensors
	if run "$f: qwen-convert" "$C" -q $M/$f -o "$tmp/auto.gguf" &&
	   run "$f: qwen-quant of the GGUF" "$Q" -q -t 2 "$tmp/auto.gguf" --type Q4_K_M -o "$tmp/g.gguf"; then
		if cmp -s "$tmp/t1.gguf" "$tmp/g.gguf"; then
			ok "$f: GGUF input gives the same file as the safetensors input"
		else
			notok "$f: GGUF input and safetensors input differ"
		fi
	fi
done
# ---- the SIMD and scalar quantizers (quant/qsimd.h): the same file for
# every type on both paths and at 1, 2 and 3 threads (QWENKIT_SIMD=off
# forces scalar; on a CPU without AVX2 every run is scalar and the path half
# checks nothing new); the outputs here are smaller than the writer's 1 MiB
# buffer, so the O_DIRECT path is test_outfile's ----
for ty in Q4_K_M Q2_K Q3_K_M Q4_0 Q4_1 Q5_0 Q5_1 Q5_K_M Q6_K Q8_0 F16 BF16; do
	rm -f "$tmp/simd1.gguf"
	bad=""
	if run "qwen2 $ty -t 1" "$Q" -q -t 1 $M/qwen2 --type "$ty" -o "$tmp/simd1.gguf"; then
		for v in "simd 2" "simd 3" "off 1" "off 2" "off 3"; do
			rm -f "$tmp/other.gguf"
			set -- $v
			if ! run "qwen2 $ty QWENKIT_SIMD=$1 -t $2" env QWENKIT_SIMD=$1 "$Q" -q -t "$2" \
				$M/qwen2 --type "$ty" -o "$tmp/other.gguf"; then
				bad="$bad (run failed: $v)"
			elif ! cmp -s "$tmp/simd1.gguf" "$tmp/other.gguf"; then
				bad="$bad [QWENKIT_SIMD=$1 -t $2: $(cmp "$tmp/simd1.gguf" "$tmp/other.gguf" | head -1)]"
			fi
		done
		if [ -z "$bad" ]; then
			ok "qwen2 $ty: the SIMD and scalar paths at -t 1, 2 and 3 give the same bytes"
		else
			notok "qwen2 $ty: outputs differ from SIMD -t 1:$bad"
		fi
	fi
done
expect 2 "--keep-mtp applies to safetensors inputs" -- "$tmp/auto.gguf" --type Q8_0 --keep-mtp -o "$X"

# ---- requantizing ----
run "qwen2 to Q8_0" "$Q" -q $M/qwen2 --type Q8_0 -o "$tmp/q8.gguf"
expect 3 "tensor 'token_embd.weight' is already Q8_0: requantizing it to Q6_K" -- "$tmp/q8.gguf" \
	--type Q4_K_M -o "$X"
nothing_left "$X" "requantize refused"
expect 0 "" -- "$tmp/q8.gguf" --type Q4_K_M --allow-requantize -q -o "$X"
if "$I" "$X" >/dev/null 2>&1; then ok "requantized file loads back"; else notok "requantized file loads back"; fi
rm -f "$X"
# nothing changes type: llama-quantize copies, so no refusal
expect 0 "" -- "$tmp/q8.gguf" --type Q8_0 -q -o "$X"
if cmp -s "$tmp/q8.gguf" "$X"; then ok "Q8_0 -> Q8_0 copies the file as it is"; else notok "Q8_0 -> Q8_0 changed the file"; fi

if "$Q" --help | grep -q -- "--recipe"; then ok "--help lists options"; else notok "--help lists options"; fi
if "$Q" --version | grep -q "qwenkit"; then ok "--version"; else notok "--version"; fi
exit 0
