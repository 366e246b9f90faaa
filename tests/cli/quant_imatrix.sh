#!/bin/sh
# qwen-quant --imatrix through the real binary: for each file
# llama-imatrix wrote (testdata/imatrix/, GGUF and .dat, a dense and a MoE
# fixture, and the 16-layer model whose mix rules count layers) and each
# mix, the SHA-256 of our output, quantized straight from the safetensors
# fixture, must be that of llama-quantize --imatrix on the same model and
# file (recorded by testdata/gen/imatrix_oracle.py in expected.tsv); on the
# 16-layer model also without an imatrix (and refused where llama-quantize
# refuses); an imatrix qwen-verify writes gives what llama-quantize wrote
# from it; the plan marks the weighted tensors; the keys quantize.imatrix.*
# are there; usage errors.
BINDIR=${BINDIR:-bin}
Q="$BINDIR/qwen-quant"
I="$BINDIR/qwen-inspect"
M=testdata/models
E=testdata/imatrix/expected.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh

# quant FIXTURE IMATRIX MIX SHA: FIXTURE is testdata/models/FIXTURE or
# testdata/imatrix/FIXTURE (the 16-layer model); IMATRIX "-" is no
# --imatrix; SHA "refused" is llama-quantize refusing the mix without one
# (qwen-quant must refuse it too, exit 2, nothing written)
n=0
tab=$(printf '\t')
while IFS="$tab" read -r kind fx im mix sha; do
	[ "$kind" = quant ] || continue
	n=$((n + 1))
	d=$M/$fx
	[ -d "$d" ] || d=testdata/imatrix/$fx
	set -- --imatrix "$im"
	[ "$im" = - ] && set --
	rm -f "$tmp/o.gguf"
	"$Q" "$d" "$@" --type "$mix" -o "$tmp/o.gguf" -t 2 -q 2>"$tmp/err"
	rc=$?
	if [ "$sha" = refused ]; then
		[ "$rc" -eq 2 ] && [ ! -e "$tmp/o.gguf" ] &&
			ok "$fx $mix without an imatrix: refused as llama-quantize refuses it" ||
			notok "$fx $mix without an imatrix: exit $rc, llama-quantize refuses it"
		continue
	fi
	if [ "$rc" -ne 0 ]; then
		notok "$fx $mix --imatrix $im: failed"; show "$tmp/err"
		continue
	fi
	got=$(sha256sum "$tmp/o.gguf" | cut -d' ' -f1)
	if [ "$got" = "$sha" ]; then
		ok "$fx $mix --imatrix $im: llama-quantize's bytes"
	else
		notok "$fx $mix --imatrix $im: sha256 $got, llama-quantize's $sha"
	fi
done <"$E"
[ "$n" -ge 100 ] && ok "$n llama-quantize outputs compared" ||
	notok "only $n quant rows in $E"

# ours read by llama-quantize: qwen-verify imatrix writes ours.gguf as the
# generator did (llama-imatrix's text, --ctx, --chunks); llama-quantize
# --imatrix ours.gguf wrote the recorded bytes, and qwen-quant reading the
# same file (the same relative path, which the output records) must too
V="$BINDIR/qwen-verify"
case $BINDIR in /*) AB=$BINDIR ;; *) AB=$PWD/$BINDIR ;; esac
no=0
"$V" imatrix $M/qwen3_256 --text-file testdata/tokenizer/corpus/en.txt --ctx 64 --chunks 8 -q \
	-o "$tmp/ours.gguf" >/dev/null 2>"$tmp/err" || { notok "qwen-verify imatrix qwen3_256 failed"; show "$tmp/err"; }
while IFS="$tab" read -r kind fx im mix sha; do
	[ "$kind" = quant-ours ] || continue
	no=$((no + 1))
	got=$(cd "$tmp" && "$AB/qwen-quant" "$OLDPWD/$M/$fx" --imatrix "$im" --type "$mix" \
		-o o.gguf -q 2>err && sha256sum o.gguf | cut -d' ' -f1)
	[ "$got" = "$sha" ] && ok "$fx $mix: llama-quantize read our imatrix file alike" ||
		notok "$fx $mix --imatrix ours: sha256 ${got:-(failed)}, llama-quantize's $sha"
done <"$E"
[ "$no" -ge 4 ] && ok "$no llama-quantize outputs from our imatrix compared" ||
	notok "only $no quant-ours rows in $E"

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
