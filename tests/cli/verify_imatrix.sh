#!/bin/sh
# qwen-verify imatrix through the real binary, against llama-imatrix's own
# files for the same model, text, --ctx and --chunks (testdata/imatrix/,
# testdata/gen/imatrix_oracle.py): same entries, same counts (the MoE
# fixture's per-expert counts come from the router), sums within 1e-2
# relative (measured: 9.2e-4 at most); both output formats; the result
# read back by qwen-quant --imatrix; usage errors.
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
Q="$BINDIR/qwen-quant"
M=testdata/models
T=testdata/tokenizer/corpus/en.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh

for fx in qwen3_256 qwen2_moe_256; do
	for f in gguf dat; do
		if "$V" imatrix $M/$fx --text-file $T --ctx 64 --chunks 8 --output-format $f \
			-o "$tmp/$fx.$f" -q --against testdata/imatrix/$fx.imatrix.$f >"$tmp/out" 2>"$tmp/err"
		then
			ok "$fx $f: llama-imatrix's entries and counts, sums within 1e-2 ($(sed -n 's/^  largest \([^ ]*\).*/\1/p' "$tmp/out"))"
		else
			notok "$fx $f: differs from llama-imatrix's"; tail -3 "$tmp/out" "$tmp/err" | sed 's/^/#   /'
		fi
	done
	"$Q" $M/$fx --imatrix "$tmp/$fx.gguf" --type Q4_K_M -o "$tmp/q.gguf" -q 2>"$tmp/err" &&
		ok "$fx: qwen-quant reads our imatrix" || notok "$fx: qwen-quant refuses our imatrix"
done

# a model with fewer tokens than 2 x n_ctx, no output, a bad format
"$V" imatrix $M/qwen3_256 --text "a short text" -o "$tmp/s.gguf" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "need at least 2 x n_ctx" "$tmp/err" && [ ! -e "$tmp/s.gguf" ] &&
	ok "too little text: exit 2, nothing written" || notok "too little text: exit $rc"
"$V" imatrix $M/qwen3_256 --text-file $T 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "needs -o FILE" "$tmp/err" && ok "no -o: exit 2" || notok "no -o"
"$V" imatrix $M/qwen3_256 --text-file $T -o "$tmp/x" --output-format npz 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "is not gguf or dat" "$tmp/err" && ok "bad --output-format: exit 2" ||
	notok "bad --output-format"
# --against another model's imatrix: exit 1, named
"$V" imatrix $M/qwen3_256 --text-file $T --ctx 64 --chunks 8 -o "$tmp/a.gguf" -q \
	--against testdata/imatrix/qwen2_moe_256.imatrix.gguf >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "imatrix differs from" "$tmp/err" && ok "--against another model: exit 1" ||
	notok "--against another model"
