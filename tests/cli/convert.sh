#!/bin/sh
# qwen-convert through the real binary: usage errors, bad inputs (exit 3, no
# output left behind), and every bundled fixture: --outtype auto must be
# lossless (qwen-inspect diff pairs every tensor by role with max|d| 0; the
# MTP tensors are the only unpaired ones and are not written), the other
# outtypes must load back with the expected tensor types, and the bytes must
# not depend on the thread count. llama.cpp's own converter and runtime are
# the oracle of testdata/gen/convert_oracle.py (not run here).
BINDIR=${BINDIR:-bin}
C="$BINDIR/qwen-convert"
I="$BINDIR/qwen-inspect"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Fixtures qwen-inspect cannot read back yet, with the reason; each must
# still fail the round trip (when it passes, take it off the list).
KNOWN_GAPS=""

. tests/cli/lib/tap_fns.sh

# expect CODE FRAGMENT -- ARGS...: qwen-convert ARGS exits with CODE, FRAGMENT on stderr
expect() { code=$1; frag=$2; shift 3; expect_cmd "$code" "$frag" "$C" "$@"; }

M=testdata/models
expect 2 "missing MODEL_DIR" --
expect 2 "missing the output directory" -- $M/qwen2 --to safetensors
expect 2 "unknown option '--bogus'" -- --bogus $M/qwen2 -o "$tmp/x.gguf"
expect 2 "is not one of auto, f32, f16, bf16, q8_0" -- --outtype q4 $M/qwen2 -o "$tmp/x.gguf"
expect 2 "qwen-quant makes it (qwen-quant MODEL -o OUT.gguf --type Q4_K_M)" -- --outtype q4_k $M/qwen2 -o "$tmp/x.gguf"
expect 2 "is not an integer in [1, 256]" -- -t 0 $M/qwen2 -o "$tmp/x.gguf"
expect 2 "needs a value" -- $M/qwen2 -o
expect 2 "unexpected argument" -- $M/qwen2 $M/qwen3 -o "$tmp/x.gguf"
expect 2 "needs a non-empty name" -- --name= $M/qwen2 -o "$tmp/x.gguf"
nothing_left "$tmp/x.gguf" "usage errors"
expect 4 "No such file or directory" -- "$tmp/does-not-exist" -o "$tmp/x.gguf"
nothing_left "$tmp/x.gguf" "missing input"

# a tensor that does not match config.json: exit 3, nothing written
mkdir "$tmp/bad"
cp $M/qwen2/* "$tmp/bad/"
sed 's/"hidden_size": 256/"hidden_size": 128/' $M/qwen2/config.json >"$tmp/bad/config.json"
expect 3 "model.embed_tokens.weight" -- "$tmp/bad" -o "$tmp/bad.gguf"
nothing_left "$tmp/bad.gguf" "mis-shaped tensor"
# a broken tokenizer: exit 3, nothing written
cp $M/qwen2/config.json "$tmp/bad/config.json"
printf '{"model": ' >"$tmp/bad/tokenizer.json"
expect 3 "tokenizer.json" -- "$tmp/bad" -o "$tmp/bad.gguf"
nothing_left "$tmp/bad.gguf" "broken tokenizer"
# the output may not be one of the inputs
cp $M/qwen2/tokenizer.json "$tmp/bad/tokenizer.json"
cp "$tmp/bad/model.safetensors" "$tmp/keep.safetensors"
expect 2 "output path is one of the inputs" -- "$tmp/bad" -o "$tmp/bad/model.safetensors"
if cmp -s "$tmp/bad/model.safetensors" "$tmp/keep.safetensors"; then
	ok "an input named as output is left untouched"
else
	notok "an input named as output was changed"
fi

if "$C" --help | grep -q -- "--outtype"; then ok "--help lists options"; else notok "--help lists options"; fi
if "$C" --version | grep -q "qwenkit"; then ok "--version"; else notok "--version"; fi

# --dry-run: the plan, no file
if "$C" --dry-run --keep-mtp $M/qwen3_next -o "$tmp/dry.gguf" >"$tmp/out" 2>"$tmp/err" &&
   grep -q "blk.4.nextn.eh_proj.weight" "$tmp/out" &&
   grep -q "qwen3next.nextn_predict_layers" "$tmp/out" &&
   grep -q "^tensors:" "$tmp/out" && [ ! -e "$tmp/dry.gguf" ]; then
	ok "--dry-run prints the plan (MTP in nextn layout) and writes nothing"
else
	notok "--dry-run"; sed 's/^/#   /' "$tmp/err" | head -3
fi

# the dtypes qwen-inspect reports for a file ("F32 BF16 ...", sorted)
dtypes() {
	"$I" "$1" 2>/dev/null | awk '/^bytes by dtype:/{on=1; next} on && /^  total/{exit} on{print $1}' |
		sort | tr '\n' ' '
}

n_fx=0
for m in $M/*/; do
	m=${m%/}
	[ -f "$m/config.json" ] || continue
	n_fx=$((n_fx + 1))
	name=$(basename "$m")
	gap=no
	case " $KNOWN_GAPS " in *" $name "*) gap=yes ;; esac
	out="$tmp/$name.gguf"
	if ! "$C" -q "$m" -o "$out" 2>"$tmp/err"; then
		notok "$name: convert --outtype auto failed"; sed 's/^/#   /' "$tmp/err" | head -3
		continue
	fi
	"$I" diff "$m" "$out" >"$tmp/diff" 2>"$tmp/err"
	last=$(tail -n 1 "$tmp/diff")
	case "$last" in
	*" 0 only in a, 0 only in b, largest max|d| 0")
		if [ $gap = yes ]; then
			notok "$name: round trip works now: take it off KNOWN_GAPS"
		else
			ok "$name: auto is lossless ($last)"
		fi ;;
	*)
		if [ $gap = yes ]; then
			ok "$name: round trip still a known gap # TODO $(head -n 1 "$tmp/err")"
		else
			notok "$name: auto round trip: ${last:-$(head -n 1 "$tmp/err")}"
		fi ;;
	esac
	for t in f32 f16 bf16 q8_0; do
		o="$tmp/$name.$t.gguf"
		if ! "$C" -q --outtype $t "$m" -o "$o" 2>"$tmp/err"; then
			notok "$name: convert --outtype $t failed"; sed 's/^/#   /' "$tmp/err" | head -3
			continue
		fi
		[ $gap = yes ] && { rm -f "$o"; continue; }
		want=$(echo $t | tr a-z A-Z)
		got=$(dtypes "$o")
		case "$t:$got" in
		f32:"F32 "|f16:"F16 F32 "|bf16:"BF16 F32 "|q8_0:"F32 Q8_0 "|q8_0:"F16 F32 Q8_0 "|q8_0:"F16 F32 ")
			ok "$name: --outtype $t loads back with types $got" ;;
		*)
			notok "$name: --outtype $t gives types '$got', expected $want and F32" \
				"(Q8_0: F16 where rows are not a multiple of 32)" ;;
		esac
		rm -f "$o"
	done
	rm -f "$out"
done
if [ "$n_fx" -ge 10 ]; then ok "every outtype ran on $n_fx fixtures"; else notok "only $n_fx fixtures"; fi

# Q8_0 rows that are not a multiple of 32 fall back to F16, with a warning
if "$C" --outtype q8_0 $M/qwen3_next -o "$tmp/q8.gguf" 2>"$tmp/err" &&
   grep -q "written as F16, not Q8_0" "$tmp/err"; then
	ok "q8_0 fallback to F16 is reported"
else
	notok "q8_0 fallback warning"; sed 's/^/#   /' "$tmp/err" | head -3
fi
# dense layers of a MoE model: llama.cpp cannot load them, and we say so
if "$C" -q $M/qwen3_moe -o "$tmp/moe.gguf" 2>"$tmp/err" &&
   grep -q "llama.cpp cannot load this file" "$tmp/err"; then
	ok "qwen3_moe: dense layer warning"
else
	notok "qwen3_moe: dense layer warning"; sed 's/^/#   /' "$tmp/err" | head -3
fi
# no progress bar when stderr is not a terminal; a summary unless --quiet
if "$C" $M/qwen3 -o "$tmp/p.gguf" 2>"$tmp/err" && ! grep -q "$(printf '\r')" "$tmp/err" &&
   grep -q "wrote $tmp/p.gguf: 25 tensors" "$tmp/err"; then
	ok "no progress bar off a terminal; summary printed"
else
	notok "progress/summary on stderr"; sed 's/^/#   /' "$tmp/err" | head -3
fi
# the same bytes for any thread count
"$C" -q -t 1 --outtype q8_0 --keep-mtp $M/qwen3_next -o "$tmp/t1.gguf" 2>/dev/null &&
"$C" -q -t 3 --outtype q8_0 --keep-mtp $M/qwen3_next -o "$tmp/t3.gguf" 2>/dev/null
if cmp -s "$tmp/t1.gguf" "$tmp/t3.gguf"; then
	ok "-t 1 and -t 3 write the same bytes"
else
	notok "-t 1 and -t 3 differ"
fi
# --name
if "$C" --dry-run --name "Tiny Qwen" $M/qwen3 | grep -q "general.name  *string Tiny Qwen"; then
	ok "--name sets general.name"
else
	notok "--name"
fi
exit 0
