#!/bin/sh
# Choosing and naming what to ship (issue 15): default output names as
# llama.cpp's converter gives them (testdata/llamacpp/default_names.tsv,
# recorded from convert_hf_to_gguf.py), {ftype} templates, the --dry-run
# plan as JSON, the candidate's file type, size and bits per weight in
# qwen-verify compare.
BINDIR=${BINDIR:-bin}
C="$BINDIR/qwen-convert"
Q="$BINDIR/qwen-quant"
V="$BINDIR/qwen-verify"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh
# jstr FILE KEY: the first string value of "KEY" in a tool's JSON
jstr() { awk -F'"' -v k="$2" '$2 == k { print $4; exit }' "$1"; }
# jnum FILE KEY [DEPTH]: the first number value of "KEY" at DEPTH tabs of
# cJSON's indentation (default: any)
jnum() {
	ind='[[:space:]]*'
	[ -n "$3" ] && ind=$(printf '%*s' "$3" '' | tr ' ' '\t')
	sed -n "s/^$ind\"$2\":[[:space:]]*\([-0-9.e+]*\),*\$/\1/p" "$1" | head -n 1
}

# ---- default names: what llama.cpp's converter names the same directory ----
grep -v '^#' testdata/llamacpp/default_names.tsv | while IFS="$(printf '\t')" read -r dir fx outtype want; do
	[ -n "$dir" ] || continue
	rm -rf "${tmp:?}/$dir"
	cp -r "$M/$fx" "$tmp/$dir"
	if "$C" -q "$tmp/$dir" --outtype "$outtype" 2>"$tmp/err" && [ -f "$tmp/$dir/$want" ]; then
		ok "qwen-convert $dir --outtype $outtype (no -o) writes $dir/$want as llama.cpp names it"
	else
		notok "qwen-convert $dir --outtype $outtype: no $want"; show "$tmp/err"; ls "$tmp/$dir" | sed 's/^/#   /'
	fi
	"$C" "$tmp/$dir" --outtype "$outtype" --dry-run --json >"$tmp/plan.json" 2>"$tmp/err"
	if [ "$(jstr "$tmp/plan.json" output)" = "$tmp/$dir/$want" ]; then
		ok "--dry-run --json names the file it would write ($want)"
	else
		notok "--dry-run --json output is '$(jstr "$tmp/plan.json" output)'"; show "$tmp/err"
	fi
done

# ---- templates ----
if "$C" -q "$M/qwen3" -o "$tmp/q3-{ftype}.gguf" --outtype q8_0 2>"$tmp/err" &&
   "$C" -q "$M/qwen3" -o "$tmp/Q3-{FTYPE}.gguf" --outtype bf16 2>>"$tmp/err" &&
   [ -f "$tmp/q3-q8_0.gguf" ] && [ -f "$tmp/Q3-BF16.gguf" ]; then
	ok "-o with {ftype} and {FTYPE} gives q3-q8_0.gguf and Q3-BF16.gguf"
else
	notok "-o templates"; show "$tmp/err"; ls "$tmp" | sed 's/^/#   /'
fi

# ---- --dry-run --json: the text plan's tensors, types and totals ----
if "$C" "$M/qwen3_moe" --dry-run --outtype q8_0 >"$tmp/plan.txt" 2>"$tmp/err" &&
   "$C" "$M/qwen3_moe" --dry-run --outtype q8_0 --json >"$tmp/plan.json" 2>>"$tmp/err"; then
	sed -n '/^tensors:/,/^[0-9]* tensors/p' "$tmp/plan.txt" | awk 'NF > 3 && $1 != "tensors:" && $1 !~ /^[0-9]/ { print $1, $2 }' >"$tmp/a"
	awk -F'"' '/^\t\t\t"name":/{n=$4} /^\t\t\t"type":/{print n, $4}' "$tmp/plan.json" >"$tmp/b"
	total=$(sed -n 's/^\([0-9]*\) tensors, [0-9]* parameters, \([0-9]*\) data bytes.*/\1 \2/p' "$tmp/plan.txt")
	if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" &&
	   [ "$total" = "$(jnum "$tmp/plan.json" n_tensors 1) $(jnum "$tmp/plan.json" bytes 1)" ] &&
	   [ "$(jstr "$tmp/plan.json" file_type)" = Q8_0 ]; then
		ok "--dry-run --json: $(wc -l <"$tmp/a") tensors with the text plan's names, types and totals ($total)"
	else
		notok "--dry-run --json differs from the text plan ($total)"; diff "$tmp/a" "$tmp/b" | head -5
	fi
else
	notok "--dry-run --json"; show "$tmp/err"
fi
if "$C" "$M/qwen3" --dry-run --json --split-max-tensors 5 -o "$tmp/s.gguf" >"$tmp/split.json" 2>"$tmp/err" &&
   grep -q "\"path\":[[:space:]]*\"$tmp/s-00001-of-0000[0-9].gguf\"" "$tmp/split.json" && [ ! -e "$tmp/s-00001-of-00002.gguf" ]; then
	ok "--dry-run --json lists the split files and writes none"
else
	notok "--dry-run --json with a split limit"; show "$tmp/err"
fi
if "$C" "$M/qwen2" --to safetensors --dry-run --json -o "$tmp/hf" >"$tmp/ex.json" 2>"$tmp/err" &&
   [ "$(jstr "$tmp/ex.json" name)" = model.safetensors ] && grep -q '"Qwen2ForCausalLM"' "$tmp/ex.json" &&
   [ ! -e "$tmp/hf" ]; then
	ok "--to safetensors --dry-run --json: files, tensors and config.json, nothing written"
else
	notok "--to safetensors --dry-run --json"; show "$tmp/err"
fi
"$C" "$M/qwen2" --json -o "$tmp/j.gguf" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "dry-run" "$tmp/err" && [ ! -e "$tmp/j.gguf" ]; then
	ok "--json without --dry-run is a usage error (exit 2), nothing written"
else
	notok "--json without --dry-run"; show "$tmp/err"
fi
"$C" "$tmp/q3-q8_0.gguf" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "missing the output directory" "$tmp/err"; then
	ok "a GGUF input still needs -o (the Hugging Face directory has no default name)"
else
	notok "GGUF input without -o"; show "$tmp/err"
fi

# ---- compare --json: what the candidate is made of ----
if "$Q" -q "$M/qwen2" -o "$tmp/q4.gguf" --type Q4_K_M 2>"$tmp/err" &&
   "$Q" plan "$M/qwen2" --type Q4_K_M --json >"$tmp/qp.json" 2>>"$tmp/err"; then
	"$V" compare "$M/qwen2" "$tmp/q4.gguf" --json >"$tmp/cmp.json" 2>>"$tmp/err"
	cand=$(sed -n '/"candidate":/,/}/p' "$tmp/cmp.json")
	printf '%s\n' "$cand" >"$tmp/cand.json"
	if [ "$(jstr "$tmp/cand.json" file_type)" = Q4_K_M ] &&
	   [ "$(jnum "$tmp/cand.json" bytes)" = "$(jnum "$tmp/qp.json" bytes 1)" ] &&
	   [ -n "$(jnum "$tmp/cand.json" bpw)" ]; then
		ok "compare --json: candidate file_type Q4_K_M, bytes $(jnum "$tmp/cand.json" bytes) as the plan counts, bpw $(jnum "$tmp/cand.json" bpw)"
	else
		notok "compare --json candidate block"; show "$tmp/cand.json"
	fi
	if "$V" compare "$M/qwen2" "$tmp/q4.gguf" 2>&1 | grep -q "^candidate: .*gguf Q4_K_M, .* bpw)"; then
		ok "compare text names the candidate's file type and bits per weight"
	else
		notok "compare text header"
	fi
else
	notok "quantize for compare"; show "$tmp/err"
fi

# ---- split output of qwen-quant, --type COPY (testdata/llamacpp/split_truths.tsv) ----
T=testdata/llamacpp/split_truths.tsv
truth() { awk -F'\t' -v c="$1" -v f="$2" '$1 == c && $2 == f { print $3 }' "$T"; }
digest() { sha256sum "$1" | cut -d' ' -f1; }
# same_set PREFIX: every split file of the truths, under PREFIX-0000k-of-0000n.gguf
same_set() {
	n=0; bad=""
	for f in $(awk -F'\t' '$1 == "split" { print $2 }' "$T"); do
		n=$((n + 1))
		[ "$(digest "$1-${f#split-}" 2>/dev/null)" = "$(truth split "$f")" ] || bad="$bad ${f#split-}"
	done
	[ "$n" -gt 1 ] && [ -z "$bad" ] && [ "$(ls "$1"-*.gguf | wc -l)" -eq "$n" ]
}
mkdir -p "$tmp/sp"
if "$Q" -q "$M/qwen2_moe_256" -o "$tmp/sp/q4.gguf" --type Q4_K_M 2>"$tmp/err" &&
   [ "$(digest "$tmp/sp/q4.gguf")" = "$(truth input q4.gguf)" ]; then
	ok "the split cases start from the bytes the truths were recorded from"
	if "$Q" -q "$tmp/sp/q4.gguf" --type COPY -o "$tmp/sp/copy.gguf" 2>"$tmp/err" &&
	   [ "$(digest "$tmp/sp/copy.gguf")" = "$(truth copy copy.gguf)" ]; then
		ok "--type COPY of a Q4_K_M file = llama-quantize COPY (sha256)"
	else
		notok "--type COPY"; show "$tmp/err"
	fi
	if "$Q" -q "$tmp/sp/q4.gguf" --type COPY --split-max-tensors 7 -o "$tmp/sp/c.gguf" 2>"$tmp/err" &&
	   same_set "$tmp/sp/c"; then
		ok "--type COPY --split-max-tensors 7: every file = llama-gguf-split --split's (sha256)"
	else
		notok "COPY split differs from llama-gguf-split:$bad"; show "$tmp/err"
	fi
	if "$Q" -q "$M/qwen2_moe_256" --type Q4_K_M --split-max-tensors 7 -o "$tmp/sp/d.gguf" 2>"$tmp/err" &&
	   same_set "$tmp/sp/d"; then
		ok "safetensors -> Q4_K_M split set in one pass: every file = llama-gguf-split's of the unsplit file"
	else
		notok "direct split differs:$bad"; show "$tmp/err"
	fi
	if "$Q" -q "$tmp/sp/c-00001-of-00003.gguf" --type COPY -o "$tmp/sp/joined.gguf" 2>"$tmp/err" &&
	   [ "$(digest "$tmp/sp/joined.gguf")" = "$(truth joined joined.gguf)" ]; then
		ok "a split set joined by --type COPY = llama-quantize COPY of the set"
	else
		notok "joining a split set"; show "$tmp/err"
	fi
	"$Q" plan "$tmp/sp/q4.gguf" --type COPY --split-max-tensors 7 >"$tmp/plan" 2>"$tmp/err"
	if grep -q "^split files (3; key/values in the first)" "$tmp/plan" &&
	   grep -q "^plan for .*: Q4_K_M (general.file_type 15)" "$tmp/plan" &&
	   [ "$(grep -c 'copied (COPY)' "$tmp/plan")" -gt 0 ]; then
		ok "plan --type COPY --split-max-tensors 7: the input's file type kept, three split files"
	else
		notok "plan with COPY and a split limit"; show "$tmp/plan"
	fi
else
	notok "Q4_K_M of qwen2_moe_256 is not the truths' input (did the bytes change?)"; show "$tmp/err"
fi
"$Q" "$M/qwen2" --type COPY -o "$tmp/x.gguf" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "copies the tensors of a GGUF file" "$tmp/err" && [ ! -e "$tmp/x.gguf" ]; then
	ok "--type COPY of a safetensors checkpoint: exit 2, pointing at qwen-convert"
else
	notok "COPY of safetensors"; show "$tmp/err"
fi
"$Q" "$M/qwen2" --type Q8_0 --split-max-size 3Q -o "$tmp/x.gguf" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "is not a size" "$tmp/err"; then
	ok "--split-max-size 3Q: exit 2, the size syntax named"
else
	notok "bad --split-max-size"; show "$tmp/err"
fi

# ---- qwen-verify sweep: the table equals the commands run by hand ----
TXT=testdata/tokenizer/corpus/en.txt
mkdir -p "$tmp/tt"
if TMPDIR="$tmp/tt" "$V" sweep "$M/qwen2" --types Q8_0,Q2_K --text-file "$TXT" --ctx 64 --chunks 2 \
	--json -q >"$tmp/sw.json" 2>"$tmp/err" &&
   "$V" perplexity "$M/qwen2" --text-file "$TXT" --ctx 64 --chunks 2 --save-base "$tmp/b.kld" -q \
	>/dev/null 2>>"$tmp/err" &&
   "$Q" -q "$M/qwen2" -o "$tmp/s2.gguf" --type Q2_K 2>>"$tmp/err" &&
   "$V" compare --base "$tmp/b.kld" "$tmp/s2.gguf" --json -q >"$tmp/c2.json" 2>>"$tmp/err"; then
	sed -n '/"type":[[:space:]]*"Q2_K"/,/}/p' "$tmp/sw.json" >"$tmp/sw2.json"
	if [ -s "$tmp/sw2.json" ] &&
	   [ "$(jnum "$tmp/sw2.json" kld_mean)" = "$(jnum "$tmp/c2.json" kld_mean 1)" ] &&
	   [ "$(jnum "$tmp/sw2.json" top1_agreement)" = "$(jnum "$tmp/c2.json" top1_agreement 1)" ] &&
	   [ "$(jnum "$tmp/sw2.json" bytes)" = "$(jnum "$tmp/c2.json" bytes 2)" ]; then
		ok "sweep --json: Q2_K's KLD, same top p and bytes = qwen-quant + compare --base by hand"
	else
		notok "sweep's Q2_K row differs from the commands by hand"; show "$tmp/sw2.json"
	fi
	if [ -z "$(ls -A "$tmp/tt")" ]; then
		ok "sweep leaves nothing in TMPDIR"
	else
		notok "sweep left files in TMPDIR: $(ls "$tmp/tt")"
	fi
else
	notok "sweep"; show "$tmp/err"
fi
"$V" sweep "$M/qwen2" --types Q8_0,Q2_K --text-file "$TXT" --ctx 64 --chunks 2 --max-kld 0.5 -q \
	--keep-dir "$tmp/kd" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 1 ] && grep -q "^Q8_0 .* pass$" "$tmp/out" && grep -q "^Q2_K .* FAIL$" "$tmp/out" &&
   grep -q "sweep: Q2_K is outside the thresholds" "$tmp/err" && [ -f "$tmp/kd/Q2_K.gguf" ]; then
	ok "sweep --max-kld 0.5: Q8_0 pass, Q2_K FAIL, exit 1; --keep-dir keeps the files"
else
	notok "sweep with a threshold"; show "$tmp/out"; show "$tmp/err"
fi
"$V" sweep "$M/qwen2" --types Q8_0,Q4_KM --text-file "$TXT" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "did you mean 'Q4_K_M'" "$tmp/err"; then
	ok "sweep --types Q4_KM: exit 2 before any work, with the closest type"
else
	notok "sweep with a bad type"; show "$tmp/err"
fi
"$V" sweep "$M/qwen2" --types Q8_0 >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 2 ] && grep -q "sweep measures on text" "$tmp/err"; then
	ok "sweep without text: exit 2"
else
	notok "sweep without text"; show "$tmp/err"
fi

# ---- one shape notation: a GGUF tensor's ne {..} is the same in every tool ----
I="$BINDIR/qwen-inspect"
if "$Q" plan "$M/qwen2" --type Q4_K_M >"$tmp/p.txt" 2>"$tmp/err" &&
   "$I" "$tmp/q4.gguf" --tensors >"$tmp/i.txt" 2>>"$tmp/err" &&
   "$C" "$M/qwen2" --dry-run --outtype q8_0 >"$tmp/c.txt" 2>>"$tmp/err"; then
	# name and ne, sorted: plan "  name type {a, b} ...", inspect "  name role layer dtype {a, b} ..."
	sed -n 's/^  \([^ ]*\) .*\({[0-9, ]*}\).*/\1 \2/p' "$tmp/p.txt" | sort >"$tmp/a"
	sed -n '/^  name /,$p' "$tmp/i.txt" | sed -n 's/^  \([^ ]*\) .*\({[0-9, ]*}\).*/\1 \2/p' | sort >"$tmp/b"
	sed -n '/^tensors:/,$p' "$tmp/c.txt" | sed -n 's/^  \([^ ]*\) .*\({[0-9, ]*}\).*/\1 \2/p' | sort >"$tmp/c"
	if [ "$(wc -l <"$tmp/a")" -gt 20 ] && cmp -s "$tmp/a" "$tmp/b" && cmp -s "$tmp/a" "$tmp/c" &&
	   grep -q "^  name .* ne  *bytes$" "$tmp/i.txt"; then
		ok "qwen-quant plan, qwen-convert --dry-run and qwen-inspect --tensors of the GGUF write the same ne {..} for all $(wc -l <"$tmp/a") tensors"
	else
		notok "ne differs between the tools"; diff "$tmp/a" "$tmp/b" | head -4; diff "$tmp/a" "$tmp/c" | head -4
	fi
else
	notok "shape notation"; show "$tmp/err"
fi
if "$I" "$tmp/q4.gguf" --tensors --json 2>"$tmp/err" | grep -A3 '"name":[[:space:]]*"token_embd.weight"' >/dev/null &&
   "$I" "$tmp/q4.gguf" --tensors --json | tr -d ' \t\n' | grep -q '"name":"token_embd.weight".*"shape":\[512,256\],"ne":\[256,512\]'; then
	ok "qwen-inspect --json: a GGUF tensor has shape [512, 256] (row-major) and ne [256, 512]"
else
	notok "inspect JSON shape/ne"
fi
