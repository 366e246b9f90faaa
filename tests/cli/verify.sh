#!/bin/sh
# qwen-verify through the real binary: usage errors, every golden fixture
# against its transformers outputs, compare of a fixture with itself, a
# fixture with one layer's tensor zeroed (compare names that layer, golden
# fails), run output and --dump, the thresholds YAML file.
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/verify_fns.sh

# ---- usage errors (exit 2) ----
expect 2 "missing subcommand" --
expect 2 "unknown subcommand 'bogus'" -- bogus x
expect 2 "run needs one MODEL" -- run
expect 2 "compare needs REF and CANDIDATE" -- compare $M/qwen2
expect 2 "golden needs MODEL and EXPECTED" -- golden $M/qwen2
expect 2 "unknown option '--bogus'" -- run --bogus $M/qwen2
expect 2 "option '--dump' does not apply to 'compare'" -- compare --dump x.npz $M/qwen2 $M/qwen2
expect 2 "option '--max-kld' does not apply to 'run'" -- run --max-kld 1 $M/qwen2
expect 2 "not an integer in [1, 256]" -- run -t 0 $M/qwen2
expect 2 "not an integer in [1, 100]" -- run --top-k 0 $M/qwen2
expect 2 "'x7' is not a token id" -- run --tokens 1,x7 $M/qwen2
expect 2 "'-1' is not a token id" -- run --tokens=-1 $M/qwen2
expect 2 "token id 512 at position 2 is out of range: n_vocab is 512" -- run --tokens 1,2,512 $M/qwen2
expect 2 "--tokens: no token ids" -- run --tokens , $M/qwen2
expect 2 "exclude each other" -- run --tokens 1 --tokens-file f $M/qwen2
expect 2 "option '--tokens' does not apply to 'golden'" -- golden --tokens 1 $M/qwen2 $M/qwen2/expected.safetensors
expect 2 "option '--max-kld': -1 is outside [0, inf]" -- compare --max-kld -1 $M/qwen2 $M/qwen2
expect 2 "'abc' is not a finite number" -- compare --max-kld abc $M/qwen2 $M/qwen2
expect 2 "150 is outside [0, 100]" -- compare --min-top1 150 $M/qwen2 $M/qwen2
printf '1 2 3\n# a comment\n\n4,5, 6 # trailing\n7 999\n' >"$tmp/tok.txt"
expect 2 "tok.txt:5: token id 999 at position 1 is out of range: n_vocab is 512" -- run --tokens-file "$tmp/tok.txt" $M/qwen2
expect 4 "No such file" -- run --tokens-file "$tmp/none.txt" $M/qwen2
expect 4 "No such file" -- run "$tmp/none"
if "$V" --help | grep -q -- "--max-layer-nmse" && "$V" compare --help | grep -q -- "--thresholds" &&
   ! "$V" run --help | grep -q -- "--thresholds"; then
	echo "ok - --help lists every option, subcommand help only its own"
else
	echo "not ok - --help"
fi
ok_if "--version" sh -c "'$V' --version | grep -q qwenkit"

# ---- invalid or unsupported input (exit 3) ----
expect 3 "compare needs two models of one architecture" -- compare $M/qwen2 $M/qwen3
expect 3 "vocabularies cannot be compared" -- compare $M/qwen3 $M/qwen3_realvocab
expect 3 "no tensor 'tokens.0'" -- golden $M/qwen2 $M/qwen2/model.safetensors
expect 3 "tensor 'hidden.0' is F32 [3, 24, 32], expected F32 [3, 24, 256]" -- golden $M/qwen2 $M/qwen3/expected.safetensors

# ---- golden: every fixture within its budgets (ref/README.md) ----
n=0
for d in $M/*/; do
	d=${d%/}
	[ -f "$d/expected.safetensors" ] || continue
	n=$((n + 1))
	fx=$(basename "$d")
	if "$V" golden -t 2 "$d" "$d/expected.safetensors" >"$tmp/out" 2>"$tmp/err" &&
	   grep -q "^golden: pass" "$tmp/out" && grep -q "^worst stream:" "$tmp/out"; then
		echo "ok - $fx: golden passes ($(sed -n 's/^worst position: //p' "$tmp/out"))"
	else
		echo "not ok - $fx: golden"; sed 's/^/#   /' "$tmp/err" | head -5
	fi
done
[ "$n" -ge 10 ] && echo "ok - golden ran on $n fixtures" || echo "not ok - only $n fixtures"

# golden --json agrees with the text verdict and names the worst position
"$V" golden --json $M/qwen3 $M/qwen3/expected.safetensors >"$tmp/g.json" 2>"$tmp/err"
ok_if "golden --json: pass, no argmax mismatch" sh -c \
	"grep -q '\"pass\":[[:space:]]*true' '$tmp/g.json' && grep -q '\"argmax_mismatches\":[[:space:]]*0' '$tmp/g.json'"

# ---- run: top-1 is transformers' argmax at every position of qwen2's sequence 0 ----
"$V" golden --json $M/qwen2 $M/qwen2/expected.safetensors >"$tmp/g.json"
toks=$(awk '/"sequence":[[:space:]]*0,/{on=1} /"sequence":[[:space:]]*1,/{on=0}
	on && /"token":/{gsub(/[^0-9]/, ""); printf "%s%s", sep, $0; sep=","}' "$tmp/g.json")
want=$(awk '/"sequence":[[:space:]]*0,/{on=1} /"sequence":[[:space:]]*1,/{on=0}
	on && /"argmax_expected":/{gsub(/[^0-9]/, ""); print}' "$tmp/g.json")
"$V" run --json --top-k 3 --tokens "$toks" $M/qwen2 >"$tmp/r.json" 2>"$tmp/err"
got=$(awk '/"top":/{t=1; next} t && /"id":/{gsub(/[^0-9]/, ""); print; t=0}' "$tmp/r.json")
if [ -n "$want" ] && [ "$(echo "$want" | wc -l)" -eq 24 ] && [ "$got" = "$want" ]; then
	echo "ok - run: top-1 of 24 positions equals the transformers argmax"
else
	echo "not ok - run: top-1 differs from expected argmax"; echo "# got $got" | head -3
fi
if "$V" run --tokens 1,2,3 --top-k 2 $M/qwen2 >"$tmp/out" 2>"$tmp/err" &&
   [ "$(grep -c '^ *[0-9][0-9]*  *[0-9][0-9]* ' "$tmp/out")" -eq 3 ]; then
	echo "ok - run --tokens 1,2,3: three positions"
else
	echo "not ok - run --tokens 1,2,3"; head -5 "$tmp/out" | sed 's/^/#   /'
fi
printf '1 2 3\n# a comment\n\n4,5, 6 # trailing\n' >"$tmp/tok.txt"
ok_if "run --tokens-file: two sequences (comments and blank lines skipped)" sh -c \
	"'$V' run --tokens-file '$tmp/tok.txt' $M/qwen2 | grep -q '^tokens: 2 sequences, 6 positions'"
ok_if "run without tokens: the default set of 4 x 32" sh -c \
	"'$V' run $M/qwen3 | grep -q '^tokens: 4 sequences, 128 positions (default set'"

# ---- run --dump: a zip of .npy files ----
if "$V" run --tokens 5,6,7 --dump "$tmp/o.npz" $M/qwen3 >/dev/null 2>"$tmp/err" &&
   [ "$(od -An -c -N4 "$tmp/o.npz" | tr -d ' ')" = "PK003004" ] &&
   grep -q "logits_0.npy" "$tmp/o.npz" && grep -q "hidden_0.npy" "$tmp/o.npz" &&
   grep -q "tokens_0.npy" "$tmp/o.npz"; then
	echo "ok - run --dump writes a zip with tokens_0, logits_0, hidden_0"
else
	echo "not ok - run --dump"; sed 's/^/#   /' "$tmp/err" | head -3
fi
if command -v unzip >/dev/null 2>&1; then
	unzip -p "$tmp/o.npz" logits_0.npy >"$tmp/l.npy" 2>/dev/null
	# 3 x 512 float32 after a 128-byte header (10 + 118, a multiple of 64)
	if [ "$(head -c 6 "$tmp/l.npy" | od -An -c | tr -d ' ')" = "223NUMPY" ] &&
	   [ "$(wc -c <"$tmp/l.npy")" -eq $((128 + 3 * 512 * 4)) ] &&
	   grep -q "'descr': '<f4', 'fortran_order': False, 'shape': (3, 512), }" "$tmp/l.npy"; then
		echo "ok - --dump: logits_0.npy is .npy v1.0, <f4 (3, 512)"
	else
		echo "not ok - --dump: logits_0.npy header"
	fi
else
	echo "skip - --dump .npy header: no unzip on this machine"
fi
cp -r $M/qwen3 "$tmp/q3in"
expect 2 "output path is one of the inputs" -- run --tokens 1 --dump "$tmp/q3in/model.safetensors" "$tmp/q3in"
ok_if "--dump refused over an input leaves the input intact" cmp -s $M/qwen3/model.safetensors "$tmp/q3in/model.safetensors"
expect 4 "" -- run --tokens 1 --dump "$tmp/no/such/dir/o.npz" $M/qwen3

# ---- compare a fixture with itself: KLD exactly 0, top-1 100 ----
for fx in qwen2 qwen3_next qwen3_realvocab; do
	if "$V" compare --json $M/$fx $M/$fx >"$tmp/c.json" 2>"$tmp/err" &&
	   [ "$(json_num kld_mean "$tmp/c.json")" = 0 ] && [ "$(json_num kld_max "$tmp/c.json")" = 0 ] &&
	   [ "$(json_num top1_agreement "$tmp/c.json")" = 100 ] &&
	   [ "$(json_num max_abs_logit_diff "$tmp/c.json")" = 0 ] &&
	   [ "$(json_num ppl_ratio "$tmp/c.json")" = 1 ] &&
	   grep -q '"first_divergent_layer":[[:space:]]*null' "$tmp/c.json" &&
	   [ "$(json_num n_positions "$tmp/c.json")" = 128 ]; then
		echo "ok - $fx: compare with itself: kld 0, top1 100, no divergent layer"
	else
		echo "not ok - $fx: compare with itself"; sed 's/^/#   /' "$tmp/err" | head -3
	fi
done

# ---- every fixture against the GGUF qwen-convert makes of it (auto): ----
# ---- lossless, so KLD exactly 0 and the same top-1 everywhere        ----
C="$BINDIR/qwen-convert"
n=0
for d in $M/*/; do
	fx=$(basename "$d")
	[ -f "$d/config.json" ] || continue
	n=$((n + 1))
	if ! "$C" -q "$d" -o "$tmp/$fx.gguf" >/dev/null 2>"$tmp/err"; then
		echo "not ok - $fx: qwen-convert failed"; sed 's/^/#   /' "$tmp/err" | head -3
		continue
	fi
	if "$V" compare --json "$d" "$tmp/$fx.gguf" >"$tmp/c.json" 2>"$tmp/err" &&
	   [ "$(json_num kld_max "$tmp/c.json")" = 0 ] &&
	   [ "$(json_num max_abs_logit_diff "$tmp/c.json")" = 0 ] &&
	   [ "$(json_num top1_agreement "$tmp/c.json")" = 100 ]; then
		echo "ok - $fx safetensors vs its GGUF (auto): kld 0, logits identical, top1 100"
	else
		echo "not ok - $fx safetensors vs its GGUF (auto)"; sed 's/^/#   /' "$tmp/err" | head -3
	fi
	rm -f "$tmp/$fx.gguf"
done
[ "$n" -ge 10 ] && echo "ok - compare with its GGUF ran on $n fixtures" || echo "not ok - only $n fixtures"
if "$C" -q --outtype q8_0 $M/qwen2 -o "$tmp/q2q8.gguf" >/dev/null 2>&1; then
	expect 1 "min-top1 100 not reached" -- compare $M/qwen2 "$tmp/q2q8.gguf"
	expect 0 "" -- compare --max-kld 0.05 --min-top1 80 --max-layer-nmse 1e-3 $M/qwen2 "$tmp/q2q8.gguf"
else
	echo "not ok - qwen-convert --outtype q8_0 of qwen2 failed"
fi

# ---- one layer's tensor zeroed: compare names the layer, golden fails ----
cp -r $M/qwen2 "$tmp/q2"
st_zero "$tmp/q2/model.safetensors" 'model\.layers\.1\.mlp\.down_proj\.weight' 4096 &&
	echo "ok - qwen2: layers.1 down_proj zeroed"
expect 1 "max-layer-nmse 1e-06 exceeded: first divergent layer: layer 1" -- compare $M/qwen2 "$tmp/q2"
"$V" compare --json $M/qwen2 "$tmp/q2" >"$tmp/c.json" 2>/dev/null
rc=$?
ok_if "qwen2 down_proj.1 zeroed: exit 1 and first_divergent_layer 1 in --json" \
	[ "$rc" -eq 1 ] && [ "$(json_num first_divergent_layer "$tmp/c.json")" = 1 ]
expect 1 "golden: sequence 0 layer 1: residual relative RMS" -- golden "$tmp/q2" $M/qwen2/expected.safetensors
expect 1 "positions differ)" -- golden "$tmp/q2" $M/qwen2/expected.safetensors
expect 1 "of max |logit|, over the budget 2.8e-06" -- golden "$tmp/q2" $M/qwen2/expected.safetensors
expect 0 "" -- golden --logit-rtol 1 --hidden-rtol 1 "$tmp/q3in" $M/qwen3/expected.safetensors

# ---- golden's budgets: the expected file's own (3x the measured error,  ----
# ---- testdata/gen/tolerances.py), options override them               ----
"$V" golden --json $M/qwen3_next $M/qwen3_next/expected.safetensors >"$tmp/g.json" 2>"$tmp/err"
rc=$?
ok_if "golden --json: budgets from the metadata, one per stream" sh -c "[ $rc -eq 0 ] &&
	grep -q '\"budgets\":[[:space:]]*\"metadata\"' '$tmp/g.json' &&
	grep -q '\"hidden_rtol\":[[:space:]]*\[0, 1e-06, 1.7e-06, 3e-06, 3.2e-06\]' '$tmp/g.json' &&
	grep -q '\"logit_rtol\":[[:space:]]*1.3e-05' '$tmp/g.json'"
"$V" golden --hidden-rtol 0.5 --logit-rtol 0.25 $M/qwen3 $M/qwen3/expected.safetensors >"$tmp/out" 2>&1
rc=$?
ok_if "golden --logit-rtol/--hidden-rtol override the file's budgets" sh -c "[ $rc -eq 0 ] &&
	grep -q 'max |delta logit| <= 0.25 x' '$tmp/out' && grep -q 'from the options' '$tmp/out' &&
	grep -q '^  layer 1 .* 5.000e-01\$' '$tmp/out'"
# a residual stream 1.5x the budget fails (the budget is the file's, not 1e-4):
# qwen3_next's streams measure <= 1.1e-6, so 3.5e-7 (< 1/3 of the worst) fails
expect 1 "residual relative RMS" -- golden --hidden-rtol 3.5e-7 $M/qwen3_next $M/qwen3_next/expected.safetensors
expect 1 "over the budget 1e-06" -- golden --logit-rtol 1e-6 $M/qwen3_next $M/qwen3_next/expected.safetensors
# bad budgets in the metadata: exit 3, naming the key (same-length edits)
cp $M/qwen3/expected.safetensors "$tmp/e1.safetensors"
sed -i 's/"tolerance_hidden_rtol":"0,/"tolerance_hidden_rtol":"x,/' "$tmp/e1.safetensors"
expect 3 "metadata 'tolerance_hidden_rtol' is 'x," -- golden $M/qwen3 "$tmp/e1.safetensors"
cp $M/qwen3/expected.safetensors "$tmp/e2.safetensors"
sed -i 's/"tolerance_hidden_rtol":"0,/"tolerance_hidden_rtol":"0;/' "$tmp/e2.safetensors"
expect 3 "expected 3 comma-separated finite numbers" -- golden $M/qwen3 "$tmp/e2.safetensors"
cp $M/qwen3/expected.safetensors "$tmp/e3.safetensors"
sed -i 's/"tolerance_logit_rtol":"1/"tolerance_logit_rtol":"-/' "$tmp/e3.safetensors"
expect 3 "metadata 'tolerance_logit_rtol' is '-" -- golden $M/qwen3 "$tmp/e3.safetensors"
cp -r $M/qwen3 "$tmp/q3"
st_zero "$tmp/q3/model.safetensors" 'model\.layers\.0\.self_attn\.k_proj\.weight' 512 &&
	echo "ok - qwen3: layers.0 k_proj zeroed"
expect 1 "first divergent layer: layer 0" -- compare -t 1 $M/qwen3 "$tmp/q3"
expect 1 "max-kld 0.0001 exceeded: kld_mean is" -- compare --max-kld 1e-4 $M/qwen3 "$tmp/q3"
expect 0 "" -- compare --max-kld 10 $M/qwen3 "$tmp/q3"
expect 1 "max-logit-diff 0 exceeded" -- compare --max-logit-diff 0 $M/qwen3 "$tmp/q3"

# ---- the MTP head (--mtp): from safetensors and from a --keep-mtp GGUF ----
expect 2 "the model has no MTP layers" -- run --mtp --tokens 1,2 $M/qwen3
expect 2 "the MTP head needs at least 2 tokens, got 1" -- run --mtp --tokens 7 $M/qwen3_5
"$BINDIR/qwen-convert" -q --keep-mtp $M/qwen3_5_moe -o "$tmp/q35m.gguf" 2>/dev/null
"$V" run --mtp --json --top-k 3 --tokens 5,9,14,200 $M/qwen3_5_moe >"$tmp/m1.json" &&
"$V" run --mtp --json --top-k 3 --tokens 5,9,14,200 "$tmp/q35m.gguf" >"$tmp/m2.json"
rc=$?
ok_if "run --mtp: HF and GGUF give the same MTP rows" sh -c \
	"[ $rc -eq 0 ] && sed -n '/\"mtp\"/,\$p' '$tmp/m1.json' | grep -v second >'$tmp/m1' &&
	 sed -n '/\"mtp\"/,\$p' '$tmp/m2.json' | grep -v second >'$tmp/m2' &&
	 [ \$(grep -c '\"pos\"' '$tmp/m1') -eq 3 ] && cmp -s '$tmp/m1' '$tmp/m2'"
"$V" run --mtp --tokens 5,9,14 --dump "$tmp/mtp.npz" $M/qwen3_5 >/dev/null 2>&1
ok_if "run --mtp --dump: mtp_logits_0 in the archive" sh -c \
	"unzip -l '$tmp/mtp.npz' 2>/dev/null | grep -q mtp_logits_0.npy || grep -q mtp_logits_0 '$tmp/mtp.npz'"

# ---- thresholds file ----
printf '# loose\nmax-kld: 10\nmin-top1: 0\nmax-layer-nmse: 1e9\n' >"$tmp/loose.yaml"
expect 0 "" -- compare --thresholds "$tmp/loose.yaml" $M/qwen3 "$tmp/q3"
expect 1 "max-layer-nmse 1e-06 exceeded" -- compare --thresholds "$tmp/loose.yaml" --max-layer-nmse 1e-6 $M/qwen3 "$tmp/q3"
"$V" compare --json --thresholds "$tmp/loose.yaml" $M/qwen3 $M/qwen3 >"$tmp/c.json"
rc=$?
ok_if "thresholds file: exit 0, three thresholds, no defaults" sh -c \
	"[ $rc -eq 0 ] && [ \$(grep -c '\"name\":' '$tmp/c.json') -eq 3 ] && grep -q '\"default_thresholds\":[[:space:]]*false' '$tmp/c.json'"
printf 'max-kld: 1\nmax-klx: 2\n' >"$tmp/bad1.yaml"
expect 2 "bad1.yaml:2: unknown threshold 'max-klx'" -- compare --thresholds "$tmp/bad1.yaml" $M/qwen2 $M/qwen2
printf 'max-kld: abc\n' >"$tmp/bad2.yaml"
expect 2 "bad2.yaml:1: max-kld: 'abc' is not a finite number" -- compare --thresholds "$tmp/bad2.yaml" $M/qwen2 $M/qwen2
printf -- '- max-kld\n- 1\n' >"$tmp/bad3.yaml"
expect 2 "bad3.yaml:1: expected a mapping of threshold names to numbers, found a sequence" -- compare --thresholds "$tmp/bad3.yaml" $M/qwen2 $M/qwen2
printf 'max-kld: "1\n' >"$tmp/bad4.yaml"
expect 2 "bad4.yaml:2: not valid YAML" -- compare --thresholds "$tmp/bad4.yaml" $M/qwen2 $M/qwen2
printf 'max-kld: 1\nmax-kld: 2\n' >"$tmp/bad5.yaml"
expect 2 "bad5.yaml:2: threshold 'max-kld' given twice" -- compare --thresholds "$tmp/bad5.yaml" $M/qwen2 $M/qwen2
printf '# nothing\n' >"$tmp/bad6.yaml"
expect 2 "bad6.yaml: empty" -- compare --thresholds "$tmp/bad6.yaml" $M/qwen2 $M/qwen2
printf 'max-kld:\n  nested: 1\n' >"$tmp/bad7.yaml"
expect 2 "bad7.yaml:2: expected a threshold value (a number), found a mapping" -- compare --thresholds "$tmp/bad7.yaml" $M/qwen2 $M/qwen2
printf 'min-top1: 101\n' >"$tmp/bad8.yaml"
expect 2 "bad8.yaml:1: min-top1: 101 is outside [0, 100]" -- compare --thresholds "$tmp/bad8.yaml" $M/qwen2 $M/qwen2
printf 'max-kld: 1\n---\nmax-kld: 2\n' >"$tmp/bad9.yaml"
expect 2 "bad9.yaml:2: more than one YAML document" -- compare --thresholds "$tmp/bad9.yaml" $M/qwen2 $M/qwen2
expect 4 "No such file" -- compare --thresholds "$tmp/none.yaml" $M/qwen2 $M/qwen2

# without any threshold option compare checks equivalence (man page, README):
# mean KLD <= 1e-6, 100 % same top-1, every stream's NMSE <= 1e-6
"$V" compare --json $M/qwen3 $M/qwen3 >"$tmp/c.json" 2>"$tmp/err"
rc=$?
defaults=$(tr -d ' \t\n' <"$tmp/c.json" |
	grep -o '"name":"[a-z0-9-]*","value_key":"[a-z_0-9]*","limit":[^,]*' |
	sed 's/"name":"\([^"]*\)".*"limit":\(.*\)/\1=\2/' | tr '\n' ' ')
if [ "$rc" -eq 0 ] && [ "$defaults" = "max-kld=1e-06 min-top1=100 max-layer-nmse=1e-06 " ]; then
	echo "ok - compare's default thresholds: $defaults"
else
	echo "not ok - compare's default thresholds are '$defaults' (exit $rc)"
fi
exit 0
