#!/bin/sh
# What a new user trips over (issue 15): hints for mistyped or foreign
# options and types, llama-quantize's positional form, one option name for
# the output type in both writers, a GGUF-named output of a GGUF input,
# warnings that predict an unloadable file never hidden by -q, one size
# syntax, all cores by default.
BINDIR=${BINDIR:-bin}
C="$BINDIR/qwen-convert"
Q="$BINDIR/qwen-quant"
V="$BINDIR/qwen-verify"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh

# expect CODE FRAGMENT CMD...: exit code and a stderr fragment
expect() { expect_cmd "$@"; }

# ---- did you mean ----
expect 2 "did you mean '--outtype'?" "$C" "$M/qwen2" -o "$tmp/x.gguf" --outype f16
expect 2 "did you mean '--allow-requantize'?" "$Q" "$M/qwen2" --allow-requantise
expect 2 "did you mean '--tokens'?" "$V" run "$M/qwen2" --tokns 1
expect 2 "write the output with -o/--output" "$Q" "$M/qwen2" --outfile x.gguf
expect 2 "--imatrix uses every entry of the file" "$Q" "$M/qwen2" --exclude-weights attn
expect 2 "unknown option '--frobnicate'" "$Q" "$M/qwen2" --frobnicate
if grep -q "did you mean" "$tmp/err"; then notok "--frobnicate gets no suggestion"; else ok "a word far from every option gets no suggestion"; fi
expect 2 "did you mean 'Q4_K_M'?" "$Q" "$M/qwen2" -o "$tmp/x.gguf" --type Q4_KM
expect 2 "did you mean 'Q5_K_S'?" "$Q" "$M/qwen2" -o "$tmp/x.gguf" --type q5ks
expect 2 "qwen-quant MODEL -o OUT.gguf --type Q4_K_M" "$C" "$M/qwen2" -o "$tmp/x.gguf" --outtype q4_k_m
[ ! -e "$tmp/x.gguf" ] && ok "nothing written by the refused commands" || notok "a refused command wrote x.gguf"

# ---- llama-quantize's positional form, --outtype/--type in both tools ----
if "$Q" "$M/qwen2" -o "$tmp/a.gguf" --type Q8_0 -q 2>"$tmp/err" &&
   "$Q" "$M/qwen2" "$tmp/b.gguf" Q8_0 -q 2>"$tmp/err" &&
   "$Q" "$M/qwen2" "$tmp/c.gguf" q8_0 1 -q 2>"$tmp/err" &&
   "$Q" "$M/qwen2" -o "$tmp/d.gguf" --outtype Q8_0 -q 2>"$tmp/err" &&
   cmp -s "$tmp/a.gguf" "$tmp/b.gguf" && cmp -s "$tmp/a.gguf" "$tmp/c.gguf" &&
   cmp -s "$tmp/a.gguf" "$tmp/d.gguf"; then
	ok "qwen-quant MODEL OUT TYPE [NTHREADS] and --outtype write the same file as -o/--type"
else
	notok "positional form / --outtype"; show "$tmp/err"
fi
expect 2 "two types given" "$Q" "$M/qwen2" "$tmp/e.gguf" Q8_0 --type Q4_0
expect 2 "two outputs given" "$Q" "$M/qwen2" "$tmp/e.gguf" Q8_0 -o "$tmp/f.gguf"
expect 2 "unexpected argument" "$Q" "$M/qwen2" "$tmp/e.gguf" Q8_0 2 extra
if "$C" "$M/qwen2" -o "$tmp/t1.gguf" --outtype bf16 -q 2>"$tmp/err" &&
   "$C" "$M/qwen2" -o "$tmp/t2.gguf" --type bf16 -q 2>"$tmp/err" && cmp -s "$tmp/t1.gguf" "$tmp/t2.gguf"; then
	ok "qwen-convert --type is --outtype"
else
	notok "qwen-convert --type"; show "$tmp/err"
fi

# ---- a GGUF input and an output named .gguf ----
expect 2 "qwen-quant $tmp/t1.gguf -o $tmp/again.gguf --type F16" "$C" "$tmp/t1.gguf" -o "$tmp/again.gguf"
[ ! -e "$tmp/again.gguf" ] && ok "no directory named again.gguf" || notok "again.gguf was written"
if "$C" "$tmp/t1.gguf" -o "$tmp/hf" -q 2>"$tmp/err" && [ -f "$tmp/hf/config.json" ]; then
	ok "a GGUF input still exports to a directory"
else
	notok "GGUF -> directory"; show "$tmp/err"
fi

# ---- warnings that predict an unloadable file are never hidden ----
for t in "$Q $M/qwen3_moe -o $tmp/moe.gguf --type Q8_0" "$C $M/qwen3_moe -o $tmp/moe2.gguf"; do
	for q in "" -q; do
		# shellcheck disable=SC2086
		$t $q >/dev/null 2>"$tmp/err"
		if grep -q "layer 0 is a dense layer of a qwen3moe model: llama.cpp cannot load" "$tmp/err"; then
			ok "${t%% *} ${q:-(no -q)}: dense-layer warning"
		else
			notok "${t%% *} ${q:-(no -q)}: no dense-layer warning"; show "$tmp/err"
		fi
	done
done
if "$Q" "$M/qwen2" -o "$tmp/g.gguf" --type Q8_0 -q 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then
	ok "no such warning for a loadable file"
else
	notok "warning for qwen2"; show "$tmp/err"
fi

# ---- one size syntax ----
if "$C" "$M/qwen2" -o "$tmp/s.gguf" --split-max-size 0.5MB -q 2>"$tmp/err" &&
   [ "$(ls "$tmp" | grep -c '^s-0000[1-9]-of-0000[2-9]\.gguf$')" -ge 2 ]; then
	ok "--split-max-size 0.5MB (a fraction and a unit)"
else
	notok "--split-max-size 0.5MB"; show "$tmp/err"; ls "$tmp" | sed 's/^/#   /'
fi
expect 2 "is not a size" "$C" "$M/qwen2" -o "$tmp/s2.gguf" --split-max-size 1.5
expect 2 "is not a size" "$C" "$tmp/t1.gguf" -o "$tmp/hf2" --shard-size 5XB

# ---- thresholds that cannot fail are refused ----
expect 2 "looks like a fraction, but min-top1 is a percentage: write 90 for 90 %" "$V" compare "$M/qwen2" "$M/qwen2" --min-top1 0.9
printf 'min-top1: 0.75\n' >"$tmp/t.yaml"
expect 2 "t.yaml:1: min-top1: 0.75 looks like a fraction" "$V" compare "$M/qwen2" "$M/qwen2" --thresholds "$tmp/t.yaml"
if "$V" compare "$M/qwen2" "$M/qwen2" --min-top1 90% >"$tmp/out" 2>"$tmp/err"; then
	ok "--min-top1 90% (a percent sign)"
else
	notok "--min-top1 90%"; show "$tmp/err"
fi

# ---- the shipped examples work as the README shows them ----
if "$Q" plan "$M/qwen2" --type Q4_K_M --recipe man/examples/keep.yaml >"$tmp/out" 2>"$tmp/err" &&
   grep -q 'blk\.0\.ffn_down\.weight .*Q8_0' "$tmp/out" && grep -q 'blk\.1\.ffn_down\.weight .*Q8_0' "$tmp/out" &&
   ! grep -q 'warning' "$tmp/err"; then
	ok "man/examples/keep.yaml: plan shows its rules applied"
else
	notok "man/examples/keep.yaml"; show "$tmp/err"; grep ffn_down "$tmp/out" | sed 's/^/#   /'
fi
"$V" compare "$M/qwen2" "$tmp/a.gguf" --thresholds man/examples/thresholds.yaml >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
	ok "man/examples/thresholds.yaml is a valid thresholds file (exit $rc)"
else
	notok "man/examples/thresholds.yaml: exit $rc"; show "$tmp/err"
fi

# ---- --version names the commit ----
for t in inspect convert quant verify; do
	if "$BINDIR/qwen-$t" --version | grep -qE "^qwen-$t \(qwenkit\) [0-9.]+, commit [0-9a-f]{7,}|^qwen-$t \(qwenkit\) [0-9.]+, commit unknown"; then
		ok "qwen-$t --version names the commit"
	else
		notok "qwen-$t --version: $("$BINDIR/qwen-$t" --version)"
	fi
done

# ---- -o optional: llama.cpp's naming convention; {ftype} templates ----
# expected names: gguf-py 0.19.0's naming_convention(name, basename, finetune,
# version, size_label, type) for the general.* keys the files carry
mkdir -p "$tmp/names"
cp -r "$M/qwen3" "$tmp/names/my model"
if "$Q" "$tmp/names/my model" --type Q8_0 -q 2>"$tmp/err" &&
   [ -f "$tmp/names/my model/My-Model-58K-Q8_0.gguf" ]; then
	ok "no -o: My-Model-58K-Q8_0.gguf in the model directory"
else
	notok "default output name"; show "$tmp/err"; ls "$tmp/names/my model" | sed 's/^/#   /'
fi
if "$Q" "$tmp/names/my model/My-Model-58K-Q8_0.gguf" Q4_0 --allow-requantize -q 2>"$tmp/err" &&
   [ -f "$tmp/names/my model/My-Model-58K-Q4_0.gguf" ]; then
	ok "no -o from a GGUF: named from its general.* keys, beside it"
else
	notok "default output name from a GGUF"; show "$tmp/err"
fi
if "$Q" "$M/qwen3" -o "$tmp/names/q3-{ftype}.{FTYPE}.gguf" --type Q4_K_M -q 2>"$tmp/err" &&
   [ -f "$tmp/names/q3-q4_k_m.Q4_K_M.gguf" ]; then
	ok "-o with {ftype} and {FTYPE}"
else
	notok "-o template"; show "$tmp/err"
fi

# ---- plan --json: the same plan as the text form ----
if "$Q" plan "$M/qwen2" --type Q4_K_M >"$tmp/plan.txt" 2>"$tmp/err" &&
   "$Q" plan "$M/qwen2" --type Q4_K_M --json >"$tmp/plan.json" 2>>"$tmp/err"; then
	awk '/^  tensor /{on=1; next} /^by type:/{on=0} on {print $1, $2}' "$tmp/plan.txt" >"$tmp/a"
	awk -F'"' '/^\t\t\t"name":/{n=$4} /^\t\t\t"type":/{print n, $4}' "$tmp/plan.json" >"$tmp/b"
	if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && grep -q '"file_type":[[:space:]]*"Q4_K_M"' "$tmp/plan.json"; then
		ok "plan --json: $(wc -l <"$tmp/a") tensors with the text plan's types, in its order"
	else
		notok "plan --json differs from the text plan"; diff "$tmp/a" "$tmp/b" | head -5
	fi
else
	notok "plan --json"; show "$tmp/err"
fi
expect 2 "does not apply" "$Q" "$M/qwen2" -o "$tmp/j.gguf" --type Q8_0 --json

# ---- messages that say what to do ----
I="$BINDIR/qwen-inspect"
if "$V" run "$M/qwen2" --tokens 1,2,3 --dump "$tmp/r.npz" >/dev/null 2>"$tmp/err"; then
	expect 3 "a NumPy .npz archive (what run --dump writes); golden reads expected outputs in safetensors: write them with qwen-verify run MODEL --save-expected" "$V" golden "$M/qwen2" "$tmp/r.npz"
else
	notok "run --dump"; show "$tmp/err"
fi
expect 3 "is one shard of a sharded checkpoint: open its directory or $M/qwen3_moe/model.safetensors.index.json" "$I" "$M/qwen3_moe/model-00001-of-00003.safetensors"
mkdir "$tmp/binonly"
cp "$M/qwen2/config.json" "$tmp/binonly/"
: >"$tmp/binonly/pytorch_model.bin"
expect 3 "pytorch_model.bin: not a PyTorch checkpoint (a zip archive starts with PK" "$I" "$tmp/binonly"
printf 'rules:\n  - role: ffn_dwn\n    type: Q8_0\n' >"$tmp/role.yaml"
expect 2 "unknown role 'ffn_dwn' (roles: token_embd, output_norm, output," "$Q" plan "$M/qwen2" --type Q8_0 --recipe "$tmp/role.yaml"
for t in inspect convert quant verify; do
	if "$BINDIR/qwen-$t" --help | grep -q -- '-q, --quiet'; then ok "qwen-$t takes -q"; else notok "qwen-$t has no -q"; fi
done
if "$I" -q "$M/qwen2" >/dev/null && "$V" run -q "$M/qwen2" --tokens 1,2 >/dev/null; then
	ok "qwen-inspect -q and qwen-verify run -q run"
else
	notok "-q in qwen-inspect / qwen-verify"
fi
