#!/bin/sh
# qwen-quant --imatrix through the real binary: for each file
# llama-imatrix wrote (testdata/imatrix/, GGUF and .dat, a dense and a MoE
# fixture) and each mix, the SHA-256 of our output, quantized straight from
# the safetensors fixture, must be that of llama-quantize --imatrix on the
# same model and file (recorded by testdata/gen/imatrix_oracle.py in
# expected.tsv); the plan marks the weighted tensors; the keys
# quantize.imatrix.* are there; usage errors.
BINDIR=${BINDIR:-bin}
Q="$BINDIR/qwen-quant"
I="$BINDIR/qwen-inspect"
M=testdata/models
E=testdata/imatrix/expected.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh

n=0
tab=$(printf '\t')
while IFS="$tab" read -r kind fx im mix sha; do
	[ "$kind" = quant ] || continue
	n=$((n + 1))
	if ! "$Q" "$M/$fx" --imatrix "$im" --type "$mix" -o "$tmp/o.gguf" -t 2 -q 2>"$tmp/err"; then
		notok "$fx $mix --imatrix $im: failed"; sed 's/^/#   /' "$tmp/err" | head -3
		continue
	fi
	got=$(sha256sum "$tmp/o.gguf" | cut -d' ' -f1)
	if [ "$got" = "$sha" ]; then
		ok "$fx $mix --imatrix $im: llama-quantize's bytes"
	else
		notok "$fx $mix --imatrix $im: sha256 $got, llama-quantize's $sha"
	fi
done <"$E"
[ "$n" -ge 24 ] && ok "$n llama-quantize --imatrix files compared" ||
	notok "only $n quant rows in $E"

# the keys llama-quantize adds, after general.file_type
"$Q" $M/qwen3_256 --imatrix testdata/imatrix/qwen3_256.imatrix.gguf --type Q4_K_M \
	-o "$tmp/k.gguf" -q
"$I" "$tmp/k.gguf" --kv >"$tmp/kv" 2>&1
for k in quantize.imatrix.file quantize.imatrix.dataset quantize.imatrix.entries_count \
	quantize.imatrix.chunks_count; do
	grep -q "$k" "$tmp/kv" && ok "key $k written" || notok "key $k missing"
done

# plan: the weighted tensors are marked, the count is printed
"$Q" plan $M/qwen2_moe_256 --type Q4_K_M --imatrix testdata/imatrix/qwen2_moe_256.imatrix.dat \
	>"$tmp/plan" 2>&1
grep -q "12 entries; 11 quantized tensors with weights" "$tmp/plan" &&
	ok "plan --imatrix counts the weighted tensors" || {
	notok "plan --imatrix summary"; head -3 "$tmp/plan" | sed 's/^/#   /'; }
grep -q "blk.0.ffn_down_exps.weight .*imatrix" "$tmp/plan" &&
	ok "plan --imatrix marks the expert tensor" || notok "plan --imatrix marks nothing"
"$Q" plan $M/qwen2_moe_256 --type Q4_K_M --imatrix testdata/imatrix/qwen2_moe_256.imatrix.gguf \
	--json >"$tmp/json" 2>&1
grep -q '"imatrix_entries":[[:space:]]*12' "$tmp/json" && ok "plan --json imatrix_entries" ||
	notok "plan --json lacks imatrix_entries"

# an imatrix that is not there: exit 4, nothing written
"$Q" $M/qwen3_256 --imatrix "$tmp/none.gguf" --type Q4_K_M -o "$tmp/n.gguf" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 4 ] && [ ! -e "$tmp/n.gguf" ] && ok "missing imatrix: exit 4, no output" ||
	notok "missing imatrix: exit $rc"
