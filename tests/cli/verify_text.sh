#!/bin/sh
# qwen-verify on text: --text, --text-file and --chat tokenized as Hugging
# Face transformers does (testdata/verify/text_oracle.tsv, made by
# testdata/gen/text_oracle.py with transformers 5.23.0 / tokenizers 0.23.3:
# tokenizer(text), tokenizer(text, split_special_tokens=True) and
# apply_chat_template of the real Qwen3 tokenizer), token text beside ids,
# perplexity and compare on text files, and the usage errors.
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
M=testdata/models
R=$M/qwen3_realvocab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli/lib/verify_fns.sh
quiet_errors=1

# tokens_of FILE: the ids of "tokens" in run --json output, comma-separated
tokens_of() {
	tr -d ' \n\t' <"$1" | sed -n 's/.*"tokens":\[\([0-9,]*\)\].*/\1/p'
}

# a Qwen2.5-style chat template (default system turn) beside the Qwen3 tokenizer
mkdir "$tmp/q25" && cp $R/config.json $R/model.safetensors $R/tokenizer.json "$tmp/q25/" &&
	cp testdata/verify/qwen25_tokenizer_config.json "$tmp/q25/tokenizer_config.json"
n=0
tab=$(printf '\t')
while IFS="$tab" read -r kind name input ids; do
	case $kind in '#'*|'') continue ;; esac
	n=$((n + 1))
	printf '%b' "$input" >"$tmp/in.txt"
	case $kind in
	text)
		"$V" run --json --top-k 1 --text-file "$tmp/in.txt" $R >"$tmp/o.json" 2>"$tmp/err"
		got=$(tokens_of "$tmp/o.json") ;;
	plain)
		# perplexity's rule: special tokens stay text; the ids come back in
		# the base file (whole chunks of 3)
		"$V" perplexity --ctx 3 --text-file "$tmp/in.txt" --save-base "$tmp/b.kld" $R \
			>/dev/null 2>"$tmp/err"
		k=$(( $(echo "$ids" | tr ',' '\n' | wc -l) / 3 * 3 ))
		got=$(od -An -v -td4 -j20 -N$((4 * k)) "$tmp/b.kld" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
		ids=$(echo "$ids" | cut -d, -f1-$k) ;;
	chat)
		"$V" run --json --top-k 1 --chat "$tmp/in.txt" $R >"$tmp/o.json" 2>"$tmp/err"
		got=$(tokens_of "$tmp/o.json") ;;
	chat25)
		"$V" run --json --top-k 1 --chat "$tmp/in.txt" "$tmp/q25" >"$tmp/o.json" 2>"$tmp/err"
		got=$(tokens_of "$tmp/o.json") ;;
	esac
	if [ -n "$got" ] && [ "$got" = "$ids" ]; then
		echo "ok - $kind $name: the ids of transformers"
	else
		echo "not ok - $kind $name: got $got, transformers $ids"; sed 's/^/#   /' "$tmp/err" | head -3
	fi
done <testdata/verify/text_oracle.tsv
[ "$n" -ge 10 ] && echo "ok - $n text oracle rows" || echo "not ok - only $n text oracle rows"

# --text gives the same ids as --text-file
printf 'The train leaves at 8:45. 今天很好。' >"$tmp/t.txt"
"$V" run --json --text "The train leaves at 8:45. 今天很好。" $R >"$tmp/a.json" 2>/dev/null
"$V" run --json --text-file "$tmp/t.txt" $R >"$tmp/b.json" 2>/dev/null
[ -n "$(tokens_of "$tmp/a.json")" ] && [ "$(tokens_of "$tmp/a.json")" = "$(tokens_of "$tmp/b.json")" ] &&
	echo "ok - --text and --text-file agree" || echo "not ok - --text vs --text-file"

# token text beside ids: text and JSON
if "$V" run --top-k 2 --text "Hello, world" $R >"$tmp/out" 2>"$tmp/err" &&
   grep -q "^      0     9707 'Hello' " "$tmp/out" && grep -q "^      2     1879 ' world' " "$tmp/out" &&
   "$V" run --json --top-k 1 --text "Hello" $R | grep -q '"text":[[:space:]]*"Hello"'; then
	echo "ok - run lists each token's text beside its id (text and JSON)"
else
	echo "not ok - token text"; head -5 "$tmp/out" | sed 's/^/#   /'
fi
"$V" run --top-k 1 --text "a
b	c" $R >"$tmp/out" 2>&1
grep -q "'\\\\n'" "$tmp/out" && grep -q "'\\\\t" "$tmp/out" && echo "ok - newlines and tabs escaped" ||
	echo "not ok - escapes"

# ---- perplexity and compare on a text file ----
for i in 1 2 3 4 5 6; do
	printf 'The quick brown fox jumps over the lazy dog, and then the dog sleeps. ' >>"$tmp/long.txt"
done
if "$V" perplexity --json --ctx 32 --text-file "$tmp/long.txt" $R >"$tmp/p.json" 2>"$tmp/err" &&
   grep -q '"source":[[:space:]]*"--text-file"' "$tmp/p.json" &&
   [ "$(json_num n_chunk "$tmp/p.json")" -ge 2 ]; then
	echo "ok - perplexity --text-file: $(json_num n_tokens "$tmp/p.json") tokens, $(json_num n_chunk "$tmp/p.json") chunks"
else
	echo "not ok - perplexity --text-file"; sed 's/^/#   /' "$tmp/err" | head -3
fi
if "$V" compare --json --ctx 32 --text-file "$tmp/long.txt" $R $R >"$tmp/c.json" 2>"$tmp/err" &&
   [ "$(json_num kld_mean "$tmp/c.json")" = 0 ] && grep -q '"chunks":' "$tmp/c.json"; then
	echo "ok - compare --text-file: llama-perplexity's chunks"
else
	echo "not ok - compare --text-file"; sed 's/^/#   /' "$tmp/err" | head -3
fi
"$V" compare --json --text "Hello there" $R $R >"$tmp/c.json" 2>/dev/null
[ "$(json_num n_positions "$tmp/c.json")" = 2 ] && echo "ok - compare --text: one whole sequence" ||
	echo "not ok - compare --text"

# ---- usage and input errors ----
expect 2 "exclude each other" -- run --text a --chat "$tmp/t.txt" $R
expect 2 "exclude each other" -- perplexity --text a --tokens 1 $R
printf 'hello\nuser: hi\n' >"$tmp/c1.txt"
expect 2 "c1.txt:1: text before the first turn" -- run --chat "$tmp/c1.txt" $R
printf '\n\n' >"$tmp/c2.txt"
expect 2 "c2.txt: no turn" -- run --chat "$tmp/c2.txt" $R
expect 2 "--text: no tokens (empty text)" -- run --text "" $R
expect 4 "No such file" -- run --text-file "$tmp/none.txt" $R
expect 2 "3 tokens, need at least 2 x n_ctx = 1024" -- perplexity --text "one two three" $R
mkdir "$tmp/notok" && cp $M/qwen3/config.json $M/qwen3/model.safetensors "$tmp/notok/"
expect 3 "tokenizer.json" -- run --text hi "$tmp/notok"
expect 2 "--base takes the tokens" -- compare --base x.kld --text-file "$tmp/t.txt" $R
