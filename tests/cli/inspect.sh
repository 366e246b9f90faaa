#!/bin/sh
# qwen-inspect through the real binary: usage errors, I/O errors, and every
# bundled fixture (summary, --tensors, --stats, --json, diff with itself).
BINDIR=${BINDIR:-bin}
I="$BINDIR/qwen-inspect"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect CODE FRAGMENT -- ARGS...: exit code and a stderr fragment
expect() {
	code=$1; frag=$2; shift 3
	"$I" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		echo "not ok - qwen-inspect $*: exit $rc, expected $code"; sed 's/^/#   /' "$tmp/err" | head -3
	elif ! grep -qF -- "$frag" "$tmp/err"; then
		echo "not ok - qwen-inspect $*: stderr lacks '$frag'"; sed 's/^/#   /' "$tmp/err" | head -3
	else
		echo "ok - qwen-inspect $*: exit $code"
	fi
}

expect 2 "missing PATH" --
expect 2 "unknown option '--bogus'" -- --bogus x
expect 2 "takes no value" -- --json=1 x
expect 2 "needs a pattern" -- --stats= x
expect 2 "diff needs two inputs" -- diff onlyone
expect 2 "unexpected argument" -- a b
expect 4 "No such file or directory" -- "$tmp/does-not-exist"
mkdir "$tmp/empty"
expect 3 "" -- "$tmp/empty"
: >"$tmp/x.txt"
expect 3 "not a model directory" -- "$tmp/x.txt"

if "$I" --help | grep -q -- "--tensors"; then echo "ok - --help lists options"; else echo "not ok - --help lists options"; fi
if "$I" --version | grep -q "qwenkit"; then echo "ok - --version"; else echo "not ok - --version"; fi

n_fx=0
for m in testdata/models/*/; do
	m=${m%/}
	[ -f "$m/config.json" ] || continue
	n_fx=$((n_fx + 1))
	name=$(basename "$m")
	if "$I" "$m" >"$tmp/out" 2>"$tmp/err" && grep -q '^architecture:' "$tmp/out"; then
		echo "ok - $name: summary"
	else
		echo "not ok - $name: summary failed"; sed 's/^/#   /' "$tmp/err" | head -3
	fi
	n=$("$I" --tensors "$m" 2>/dev/null | awk '/^tensors:$/{on=1; next} on && NR>1' | tail -n +2 | wc -l)
	want=$(sed -n 's/^tensors: *\([0-9]*\).*/\1/p' "$tmp/out")
	if [ "$n" -eq "$want" ] && [ "$n" -gt 0 ]; then
		echo "ok - $name: --tensors lists $n tensors"
	else
		echo "not ok - $name: --tensors lists $n tensors, summary says $want"
	fi
	if "$I" --stats "$m" >"$tmp/out" 2>"$tmp/err" && ! grep -q "not computed" "$tmp/out"; then
		echo "ok - $name: --stats computes every tensor"
	else
		echo "not ok - $name: --stats"; grep "not computed" "$tmp/out" | head -3
	fi
	if "$I" diff "$m" "$m" >"$tmp/out" 2>"$tmp/err" &&
	   grep -q "0 only in a, 0 only in b, largest max|d| 0$" "$tmp/out"; then
		echo "ok - $name: diff with itself is all zero"
	else
		echo "not ok - $name: diff with itself"; tail -n 2 "$tmp/out" | sed 's/^/#   /'
	fi
done
if [ "$n_fx" -ge 10 ]; then echo "ok - $n_fx fixtures"; else echo "not ok - only $n_fx fixtures"; fi

# --tokenize: ids as Hugging Face tokenizers 0.23.3 gives them for the real
# Qwen3 tokenizer (Tokenizer.from_file(...).encode(text, add_special_tokens=False).ids;
# with encode_special_tokens = True for --no-special); the whole corpus is
# checked by tests/unit/test_tok_corpus.c
R=testdata/models/qwen3_realvocab
tok_ids() { "$I" "$@" 2>"$tmp/err" | awk -F'\t' 'NR > 1 { printf "%s%s", sep, $2; sep = " " }'; }
check_ids() {
	want=$1; shift
	got=$(tok_ids "$@")
	if [ "$got" = "$want" ]; then echo "ok - qwen-inspect --tokenize: $want"
	else echo "not ok - qwen-inspect --tokenize gives '$got', tokenizers '$want'"; sed 's/^/#   /' "$tmp/err" | head -3; fi
}
check_ids "2132 594 220 17 15 17 21 25 220 151644 872 198 108386 3958" \
	--tokenize "$(printf "It's 2026: <|im_start|>user\n你好 e\314\201")" "$R"
check_ids "27 91 318 4906 91 29 87" --no-special --tokenize "<|im_start|>x" "$R"
check_ids "87 426" --tokenize "x y" testdata/tokenizer/qwen3.gguf
if "$I" --json --tokenize "a b" "$R" 2>/dev/null | grep -q '"n_tokens":	2'; then
	echo "ok - qwen-inspect --tokenize --json"
else
	echo "not ok - qwen-inspect --tokenize --json"
fi
if "$I" --tokenize "$(printf ' \360\237\221\215\360\237\217\275')" "$R" 2>/dev/null | grep -qF '\x8d'; then
	echo "ok - qwen-inspect --tokenize: a token cutting a character is shown as \\xNN"
else
	echo "not ok - qwen-inspect --tokenize: bytes of a cut character"
fi
expect 2 "--no-special needs --tokenize" -- --no-special "$R"
expect 2 "--tokenize goes alone" -- --tokenize x --tensors "$R"
expect 2 "needs a value (TEXT)" -- "$R" --tokenize
: >"$tmp/plain.safetensors"
expect 3 "" -- --tokenize x "$tmp/plain.safetensors"
exit 0
