#!/bin/sh
# qwen-convert --to safetensors through the real binaries: every bundled
# fixture HF -> GGUF (auto) -> HF (auto) must give the original tensors back
# (qwen-inspect diff pairs every tensor by role, max|d| 0, nothing unpaired;
# bytes per dtype as in the original, so each tensor keeps its dtype and
# bits) and the original hyperparameters (qwen-inspect --json), except what a
# GGUF file does not hold; explicit --outtype, quantized input, dry run,
# output directory rules, and no partial output on any failure. The
# transformers-side oracle of the export is testdata/gen/hf_export_check.py
# (not run here).
BINDIR=${BINDIR:-bin}
C="$BINDIR/qwen-convert"
I="$BINDIR/qwen-inspect"
M=testdata/models
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh

# expect CODE FRAGMENT -- ARGS...: qwen-convert ARGS exits with CODE, FRAGMENT on stderr
expect() { code=$1; frag=$2; shift 3; expect_cmd "$code" "$frag" "$C" "$@"; }

# the last line of qwen-inspect diff A B, or its error
difflast() {
	"$I" diff "$1" "$2" >"$tmp/diff" 2>"$tmp/derr"
	case $? in 0|1) tail -n 1 "$tmp/diff" ;; *) head -n 1 "$tmp/derr" ;; esac
}

# qwen-inspect --json without what names the input (path, format, file and
# tensor counts: a fused-expert checkpoint comes back per expert) and
# without what a GGUF file cannot hold: config.json's own bos/eos ids (GGUF
# keeps the tokenizer's), Qwen1's seq_length, use_dynamic_ntk and
# use_logn_attn (llama.cpp implements neither)
# and, for a checkpoint with a vision tower (Qwen3.5's model.visual.*,
# which a GGUF model file does not hold), its counts and the bytes by dtype
desc() {
	"$I" --json "$1" 2>/dev/null | grep -v '"path"\|"format"\|"n_files"\|"n_tensors"' |
		grep -v '"bos_token_id"\|"eos_token_id"\|"seq_length"\|"use_dynamic_ntk"\|"use_logn_attn"' |
		if [ "${2:-}" = vision ]; then
			grep -v '"n_params_vision"\|"n_params_projector"\|"n_vision_tensors"\|"BF16":\|"F16":\|"F32":'
		else
			cat
		fi
}
ids() { "$I" --json "$1" 2>/dev/null | grep '"bos_token_id"\|"eos_token_id"'; }

# ---- usage ----
"$C" -q $M/qwen3 -o "$tmp/q3.gguf" 2>/dev/null
expect 2 "is not one of gguf, safetensors" -- --to hf $M/qwen3 -o "$tmp/x"
expect 2 "is not one of auto, f32, f16, bf16 (a safetensors output)" -- \
	--to safetensors --outtype q8_0 $M/qwen3 -o "$tmp/x"
expect 2 "is not one of auto, f32, f16, bf16 (a safetensors output)" -- \
	--outtype q8_0 "$tmp/q3.gguf" -o "$tmp/x"
expect 2 "option '--keep-mtp' applies to --to gguf only" -- --keep-mtp "$tmp/q3.gguf" -o "$tmp/x"
expect 2 "option '--name' applies to --to gguf only" -- --to safetensors --name x $M/qwen3 -o "$tmp/x"
expect 2 "option '--force' applies to --to safetensors only" -- --force $M/qwen3 -o "$tmp/x.gguf"
expect 2 "option '--shard-size' applies to --to safetensors only" -- \
	--shard-size 1GB $M/qwen3 -o "$tmp/x.gguf"
expect 2 "option '--shard-size': '5X' is not a size" -- --shard-size 5X "$tmp/q3.gguf" -o "$tmp/x"
expect 2 "missing the output directory (-o OUT_DIR)" -- --to safetensors $M/qwen3
expect 3 "a GGUF input cannot be converted to GGUF" -- --to gguf "$tmp/q3.gguf" -o "$tmp/x.gguf"
nothing_left "$tmp/x" "usage errors"
nothing_left "$tmp/x.gguf" "usage errors (gguf)"

# ---- HF -> GGUF -> HF for every fixture ----
n_fx=0
for m in $M/*/; do
	m=${m%/}
	[ -f "$m/config.json" ] || continue
	n_fx=$((n_fx + 1))
	name=$(basename "$m")
	keep=""
	case "$name" in qwen3_next | qwen3_5*) keep=--keep-mtp ;; esac
	vis=""
	"$I" --json "$m" 2>/dev/null | grep -q '"n_vision_tensors":[[:space:]]*[1-9]' && vis=vision
	g="$tmp/$name.gguf"
	o="$tmp/$name.hf"
	if ! "$C" -q $keep "$m" -o "$g" 2>"$tmp/err" || ! "$C" -q "$g" -o "$o" 2>"$tmp/err"; then
		notok "$name: HF -> GGUF -> HF failed"; show "$tmp/err"
		continue
	fi
	last=$(difflast "$m" "$o")
	case "$last" in
	*" pairs, 0 only in a, 0 only in b, largest max|d| 0") ok "$name: tensors back exactly ($last)" ;;
	*) notok "$name: HF -> GGUF -> HF: $last" ;;
	esac
	desc "$m" $vis >"$tmp/a.json"
	desc "$o" $vis >"$tmp/b.json"
	ids "$g" >"$tmp/c.json"
	ids "$o" >"$tmp/d.json"
	if [ -s "$tmp/a.json" ] && cmp -s "$tmp/a.json" "$tmp/b.json" && cmp -s "$tmp/c.json" "$tmp/d.json"
	then
		ok "$name: same hyperparameters, layers and bytes per dtype"
	else
		notok "$name: qwen-inspect --json differs"
		diff "$tmp/a.json" "$tmp/b.json" | sed 's/^/#   /' | head -6
		diff "$tmp/c.json" "$tmp/d.json" | sed 's/^/#   /' | head -4
	fi
	[ -f "$o/tokenizer.json" ] && [ -f "$o/tokenizer_config.json" ] ||
		notok "$name: no tokenizer files written"
	rm -rf "$o"
done
if [ "$n_fx" -ge 10 ]; then ok "HF -> GGUF -> HF ran on $n_fx fixtures"; else notok "only $n_fx fixtures"; fi

# explicit outtypes equal to the source dtype are lossless too; another
# outtype gives that dtype only (f32 sources: qwen1_5, f16: qwen2_5_yarn,
# bf16: the others)
for c in qwen1_5:f32:F32 qwen2_5_yarn:f16:F16 qwen3:bf16:BF16; do
	name=${c%%:*}; t=${c#*:}; t=${t%%:*}; want=${c##*:}
	o="$tmp/$name.$t"
	if "$C" -q --outtype "$t" "$tmp/$name.gguf" -o "$o" 2>"$tmp/err" &&
	   [ "$(difflast $M/$name "$o")" = "$(difflast $M/$name "$tmp/$name.gguf")" ] &&
	   [ "$("$I" --json "$o" | grep -c "\"$want\":")" = 1 ] &&
	   [ "$("$I" --json "$o" | awk '/bytes_by_dtype/{on=1;next} on&&/}/{exit} on' | wc -l)" = 1 ]
	then
		ok "$name: --outtype $t: $want only, exact"
	else
		notok "$name: --outtype $t"; show "$tmp/err"
	fi
done
o="$tmp/q3.f32"
if "$C" -q --outtype f32 "$tmp/q3.gguf" -o "$o" 2>"$tmp/err" &&
   "$I" --json "$o" | awk '/bytes_by_dtype/{on=1;next} on&&/}/{exit} on' | grep -q '"F32"' &&
   case "$(difflast $M/qwen3 "$o")" in *"0 only in b, largest max|d| 0") true ;; *) false ;; esac
then
	ok "qwen3: bf16 -> --outtype f32 widens exactly"
else
	notok "qwen3: --outtype f32"; show "$tmp/err"
fi
# a safetensors input to safetensors: a dtype change of the checkpoint
o="$tmp/q3.st16"
if "$C" -q --to safetensors --outtype f16 $M/qwen3 -o "$o" 2>"$tmp/err" &&
   "$I" --json "$o" | grep -q '"F16":' && ! "$I" --json "$o" | grep -q '"BF16":' &&
   case "$(difflast $M/qwen3 "$o")" in *" 0 only in a, 0 only in b, largest max|d| "*) true ;; *) false ;; esac
then
	ok "safetensors -> safetensors --outtype f16 (dtype change)"
else
	notok "safetensors -> safetensors dtype change"; show "$tmp/err"
fi

# ---- a quantized GGUF ----
"$C" -q --outtype q8_0 $M/qwen3 -o "$tmp/q8.gguf" 2>/dev/null
if "$C" "$tmp/q8.gguf" -o "$tmp/q8.hf" 2>"$tmp/err" && grep -q "dequantized .* to bf16" "$tmp/err" &&
   "$I" "$tmp/q8.hf" >/dev/null 2>&1 && "$I" --json "$tmp/q8.hf" | grep -q '"BF16":' &&
   case "$(difflast "$tmp/q8.gguf" "$tmp/q8.hf")" in *" 0 only in a, 0 only in b,"*) true ;; *) false ;; esac
then
	ok "Q8_0 GGUF -> bf16 safetensors loads back, every tensor paired"
else
	notok "Q8_0 GGUF -> safetensors"; show "$tmp/err"
fi
# to f32 the dequantized values are exact
if "$C" -q --outtype f32 "$tmp/q8.gguf" -o "$tmp/q8.f32" 2>"$tmp/err" &&
   case "$(difflast "$tmp/q8.gguf" "$tmp/q8.f32")" in *"0 only in b, largest max|d| 0") true ;; *) false ;; esac
then
	ok "Q8_0 GGUF -> f32 safetensors holds the dequantized values exactly"
else
	notok "Q8_0 GGUF -> f32"; show "$tmp/err"
fi

# ---- shards, dry run ----
o="$tmp/moe.hf"
if "$C" -q --shard-size 1MB "$tmp/qwen3_moe.gguf" -o "$o" 2>"$tmp/err" &&
   [ -f "$o/model-00001-of-00003.safetensors" ] && [ -f "$o/model-00003-of-00003.safetensors" ] &&
   [ -f "$o/model.safetensors.index.json" ] && [ ! -e "$o/model.safetensors" ] &&
   case "$(difflast $M/qwen3_moe "$o")" in *"0 only in b, largest max|d| 0") true ;; *) false ;; esac
then
	ok "--shard-size 1MB: 3 shards and an index, tensors exact"
else
	notok "--shard-size"; show "$tmp/err"; ls "$o" | sed 's/^/#   /'
fi
if "$C" --dry-run --shard-size 1MB "$tmp/qwen3_moe.gguf" -o "$tmp/dry" >"$tmp/out" 2>"$tmp/err" &&
   grep -q "^  model-00003-of-00003.safetensors " "$tmp/out" &&
   grep -q "model.layers.1.mlp.experts.3.up_proj.weight .* rows 768-1023 of blk.1.ffn_up_exps.weight" "$tmp/out" &&
   grep -q '"architectures"' "$tmp/out" && [ ! -e "$tmp/dry" ]; then
	ok "--dry-run lists files, tensors and config.json, writes nothing"
else
	notok "--to safetensors --dry-run"; show "$tmp/err"
fi

# ---- the output directory ----
o="$tmp/exist"
mkdir "$o"
echo "notes" >"$o/README.md"
expect 2 "exists and is not empty (1 entry); --force writes into it" -- "$tmp/q3.gguf" -o "$o"
if "$C" -q --force "$tmp/q3.gguf" -o "$o" 2>"$tmp/err" && [ "$(cat "$o/README.md")" = notes ] &&
   [ -f "$o/model.safetensors" ] && [ -f "$o/config.json" ]; then
	ok "--force writes into a non-empty directory and keeps its other files"
else
	notok "--force"; show "$tmp/err"
fi
echo x >"$o/model-00001-of-00002.safetensors"
expect 2 "holds 'model-00001-of-00002.safetensors' of another checkpoint" -- \
	--force "$tmp/q3.gguf" -o "$o"
rm -rf "$o"
mkdir "$o"
if "$C" -q "$tmp/q3.gguf" -o "$o/" 2>"$tmp/err" && [ -f "$o/model.safetensors" ]; then
	ok "an existing empty directory (named with a trailing slash) is filled"
else
	notok "empty directory"; show "$tmp/err"
fi
# the input's own directory: its files are inputs
mkdir "$tmp/self"
cp $M/qwen3/* "$tmp/self/"
expect 2 "output path is one of the inputs" -- --to safetensors --force "$tmp/self" -o "$tmp/self"
if cmp -s "$tmp/self/model.safetensors" $M/qwen3/model.safetensors; then
	ok "the input directory is left untouched"
else
	notok "the input directory was changed"
fi
echo x >"$tmp/afile"
expect 2 "exists and is not a directory" -- "$tmp/q3.gguf" -o "$tmp/afile"

# ---- no partial output ----
# a broken GGUF: exit 3 before anything is written
head -c 4000 "$tmp/q3.gguf" >"$tmp/cut.gguf"
expect 3 "cut.gguf" -- "$tmp/cut.gguf" -o "$tmp/p1"
nothing_left "$tmp/p1" "truncated GGUF input"
# a missing parent directory: exit 4
expect 4 "$tmp/no/such/dir: cannot write there" -- "$tmp/q3.gguf" -o "$tmp/no/such/dir"
nothing_left "$tmp/no" "missing parent directory"
# a failure after the weights are written: the tokenizer.json of the real
# vocabulary (written last, ~7.8 MB) passes a 4 MB file-size limit that the
# 2.4 MB shard and config.json do not; write() then fails with EFBIG
unit=$( (trap '' XFSZ; ulimit -f 1; head -c 4096 /dev/zero >"$tmp/u" 2>/dev/null); wc -c <"$tmp/u")
"$C" -q $M/qwen3_realvocab -o "$tmp/rv.gguf" 2>/dev/null
(
	trap '' XFSZ
	ulimit -f $((4000000 / unit))
	exec "$C" -q "$tmp/rv.gguf" -o "$tmp/p2"
) >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 4 ] && grep -q "File too large" "$tmp/err"; then
	ok "a write failure after the shards: exit 4"
else
	notok "a write failure after the shards: exit $rc, expected 4"; show "$tmp/err"
fi
nothing_left "$tmp/p2" "write failure after the shards"
exit 0
