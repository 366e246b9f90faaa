#!/bin/sh
# qwen-inspect on what a file holds: --kv against gguf-py's gguf-dump (the
# oracle: testdata/inspect/*.kvdump, made by testdata/gen/inspect_kv_oracle.py),
# the file type name, generic listing of files that are not Qwen models,
# --stats patterns on names and roles, and diff's exit status.
BINDIR=${BINDIR:-bin}
I="$BINDIR/qwen-inspect"
C="$BINDIR/qwen-convert"
Q="$BINDIR/qwen-quant"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh
# jhas KEY VALUE-REGEX: $tmp/out (cJSON's printing) has "KEY": VALUE
jhas() { grep -qE "\"$1\":[[:space:]]*$2" "$tmp/out"; }

# run CODE ARGS...: qwen-inspect ARGS with exit CODE (stdout in $tmp/out)
run() {
	code=$1; shift
	"$I" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		notok "qwen-inspect $*: exit $rc, expected $code"; show "$tmp/err"
		return 1
	fi
	return 0
}

# ---- --kv: line for line what gguf-dump prints ----
n=0
for want in testdata/inspect/*.kvdump; do
	src=$(sed -n '1s/^# gguf-dump --no-tensors \([^ ]*\) .*/\1/p' "$want")
	if [ ! -f "$src" ]; then notok "$want names no input ($src)"; continue; fi
	n=$((n + 1))
	if run 0 --kv "$src"; then
		grep -E '^ +[0-9]+: ' "$tmp/out" >"$tmp/ours"
		grep -v '^#' "$want" >"$tmp/theirs"
		if cmp -s "$tmp/ours" "$tmp/theirs"; then
			ok "--kv $src: $(wc -l <"$tmp/ours") lines as gguf-dump prints them"
		else
			notok "--kv $src differs from gguf-dump"; diff "$tmp/theirs" "$tmp/ours" | head -6
		fi
	fi
done
[ "$n" -ge 6 ] && ok "$n gguf-dump oracle files" || notok "only $n gguf-dump oracle files (expected >= 6)"

if run 0 --kv --json testdata/tokenizer/qwen2.gguf &&
   jhas tokenizer.ggml.tokens '[{]' && jhas array_type '"STRING"' && jhas count 512 &&
   jhas truncated true && jhas value '"qwen2"'; then
	ok "--kv --json: kv object with types, counts, truncated arrays"
else
	notok "--kv --json"; show "$tmp/out"
fi

# ---- file type names ----
if run 0 testdata/tokenizer/qwen2.gguf && grep -q '^file type: *BF16 (general.file_type 32)$' "$tmp/out"; then
	ok "summary names the file type (BF16)"
else
	notok "summary file type BF16"; show "$tmp/out"
fi
if "$Q" "$M/qwen2" -o "$tmp/q4km.gguf" --type Q4_K_M -q >/dev/null 2>"$tmp/err"; then
	if run 0 "$tmp/q4km.gguf" && grep -q '^file type: *Q4_K_M (general.file_type 15)$' "$tmp/out"; then
		ok "summary names the file type (Q4_K_M)"
	else
		notok "summary file type Q4_K_M"; show "$tmp/out"
	fi
	if run 0 --json "$tmp/q4km.gguf" && jhas file_type '"Q4_K_M"' && jhas file_type_id 15; then
		ok "--json file_type"
	else
		notok "--json file_type"; show "$tmp/out"
	fi
else
	notok "qwen-quant Q4_K_M of qwen2"; show "$tmp/err"
fi

# ---- files that are not Qwen models are listed, not refused ----
mkdir "$tmp/bare"
cp "$M/qwen2/model.safetensors" "$tmp/bare/adapter_model.safetensors"
if run 0 "$tmp/bare/adapter_model.safetensors" && grep -q '^qwen model: *no: .*no config.json' "$tmp/out" &&
   grep -q '^tensors: *[1-9]' "$tmp/out" && grep -q '^  BF16 ' "$tmp/out"; then
	ok "a bare .safetensors without config.json is listed"
else
	notok "bare .safetensors"; show "$tmp/out"
fi
if run 0 --tensors "$tmp/bare/adapter_model.safetensors"; then
	want=$(sed -n 's/^tensors: *\([0-9]*\)$/\1/p' "$tmp/out")
	got=$(grep -c '^  model\.' "$tmp/out")
	[ "$got" -eq "$want" ] && [ "$got" -gt 0 ] && ok "--tensors lists all $got tensors of a bare file" ||
		notok "--tensors of a bare file lists $got, summary says $want"
fi
if run 0 --json "$tmp/bare/adapter_model.safetensors" && jhas qwen_model false &&
   jhas qwen_model_error '".*no config.json' && jhas n_elements '[1-9]'; then
	ok "--json of a bare file: qwen_model false, the reason, n_elements"
else
	notok "--json of a bare file"; show "$tmp/out"
fi
mkdir "$tmp/llama"
cp "$M/qwen2/model.safetensors" "$tmp/llama/"
printf '{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}\n' >"$tmp/llama/config.json"
if run 0 "$tmp/llama" && grep -q '^qwen model: *no: .*LlamaForCausalLM.* is not supported' "$tmp/out"; then
	ok "a checkpoint of another architecture is listed with the reason"
else
	notok "another architecture"; show "$tmp/out"
fi
# a GGUF of another architecture: general.architecture 'qwen2' -> 'llama'
cp testdata/tokenizer/qwen2.gguf "$tmp/llama.gguf"
off=$(grep -obUa 'general.architecture' "$tmp/llama.gguf" | head -n 1 | cut -d: -f1)
off=$((off + 20 + 4 + 8))
printf 'llama' | dd of="$tmp/llama.gguf" bs=1 seek="$off" conv=notrunc 2>/dev/null
if run 0 --kv "$tmp/llama.gguf" && grep -q "^qwen model: *no: " "$tmp/out" &&
   grep -q "general.architecture = 'llama'" "$tmp/out"; then
	ok "a GGUF of another architecture is listed with its key/values"
else
	notok "GGUF of another architecture"; show "$tmp/out"
fi
# a file that says it is qwen2 and is not a valid one is still an error
cp -r "$M/qwen2" "$tmp/broken"
sed 's/"hidden_size": 256/"hidden_size": 128/' "$M/qwen2/config.json" >"$tmp/broken/config.json"
if run 3 "$tmp/broken" && [ ! -s "$tmp/out" ] && grep -q "shape" "$tmp/err"; then
	ok "a broken qwen2 checkpoint is still exit 3, nothing on stdout"
fi

# ---- --stats patterns: stored names, GGUF names and roles ----
if "$C" "$M/qwen2" -o "$tmp/qwen2.gguf" -q >/dev/null 2>"$tmp/err"; then
	# pattern:count for qwen2's 2 layers (12 tensors each: norms, q/k/v with
	# biases, attn_output, ffn gate/up/down; plus output_norm)
	for pc in ffn_down:2 'blk.0.*:12' '*norm*:5' attn_q:2 'blk.1.ffn_*:4'; do
		pat=${pc%:*}; want=${pc##*:}
		a=$("$I" --stats="$pat" "$M/qwen2" 2>/dev/null | sed -n '/^stats/,$p' | grep -c '^  [a-z]')
		b=$("$I" --stats="$pat" "$tmp/qwen2.gguf" 2>/dev/null | sed -n '/^stats/,$p' | grep -c '^  [a-z]')
		# minus the header line "  name ..."
		a=$((a - 1)); b=$((b - 1))
		if [ "$a" -eq "$want" ] && [ "$b" -eq "$want" ]; then
			ok "--stats='$pat' selects $a tensors in the HF directory and in its GGUF"
		else
			notok "--stats='$pat': $a tensors in the HF directory, $b in the GGUF, expected $want"
		fi
	done
	a=$("$I" --stats='model.layers.1.*' "$M/qwen2" 2>/dev/null | sed -n '/^stats/,$p' | grep -c '^  model')
	[ "$a" -gt 5 ] && ok "--stats='model.layers.1.*' selects $a tensors by HF name" ||
		notok "--stats by HF name selects $a tensors"
else
	notok "qwen-convert qwen2"; show "$tmp/err"
fi

# ---- diff: 0 same, 1 different ----
if run 0 diff "$M/qwen2" "$tmp/qwen2.gguf" && tail -n 1 "$tmp/out" | grep -q ' 0 only in b, largest max|d| 0$'; then
	ok "diff of a model and its lossless GGUF: exit 0"
fi
if run 1 diff "$M/qwen2" "$tmp/q4km.gguf" && tail -n 1 "$tmp/out" | grep -q 'largest max|d| [0-9.]*[1-9]'; then
	ok "diff of a model and its Q4_K_M: exit 1"
fi
if run 1 diff "$M/qwen1_5" "$M/qwen2" && tail -n 1 "$tmp/out" | grep -q 'pairs ([1-9][0-9]* not compared)'; then
	ok "diff of unrelated models of one architecture: exit 1, pairs counted as not compared"
fi
if run 1 diff --json "$M/qwen1_5" "$M/qwen2" && jhas same false && jhas n_not_compared '[1-9]'; then
	ok "diff --json: same false, n_not_compared"
fi
