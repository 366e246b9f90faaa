#!/bin/sh
# qwen-verify perplexity on text with the trained tiny Qwen3
# (testdata/models/qwen3_tiny): the held-out text (never trained on) is
# tokenized by our tokenizer and scored with llama-perplexity's protocol;
# the oracle, heldout_ppl.tsv, is transformers' fp32 logits on the same
# chunks (testdata/gen/train_tiny.py with ppl_oracle.py's chunk scoring).
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
M=testdata/models/qwen3_tiny
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/verify_fns.sh

# the held-out text: the tail of each corpus file from the offset heldout.tsv gives
want=0
while IFS="$(printf '\t')" read -r f off len; do
	case $f in '#'*|'') continue ;; esac
	tail -c +$((off + 1)) "testdata/tokenizer/corpus/$f" >>"$tmp/heldout.txt"
	want=$((want + len))
done <$M/heldout.tsv
[ "$(wc -c <"$tmp/heldout.txt")" -eq "$want" ] && [ "$want" -gt 40000 ] &&
	echo "ok - held-out text rebuilt from heldout.tsv: $want bytes" ||
	echo "not ok - held-out text: $(wc -c <"$tmp/heldout.txt") bytes, heldout.tsv says $want"

IFS="$(printf '\t')" read -r ctx chunks ntok ids nll ppl err <<EOF
$(grep -v '^#' $M/heldout_ppl.tsv)
EOF
if "$V" perplexity --json --ctx "$ctx" --chunks "$chunks" --text-file "$tmp/heldout.txt" \
	--save-base "$tmp/b.kld" $M >"$tmp/p.json" 2>"$tmp/err"; then
	# the tokens evaluated (after the base file's 20-byte header) are
	# transformers' tokenization of the same text
	got=$(od -An -v -td4 -j20 -N$((4 * ctx * chunks)) "$tmp/b.kld" | tr -s ' \n' ',' |
		sed 's/^,//; s/,$//')
	[ "$got" = "$ids" ] && echo "ok - held-out text: our $((ctx * chunks)) tokens = transformers'" ||
		echo "not ok - held-out text: our tokens differ from transformers'"
	if near "$(json_num nll_mean "$tmp/p.json")" "$nll" 1e-5 &&
	   near "$(json_num ppl_err "$tmp/p.json")" "$err" 1e-3 &&
	   [ "$(json_num n_predictions "$tmp/p.json")" = $((chunks * (ctx - 1 - ctx / 2))) ]; then
		echo "ok - held-out perplexity: nll $(json_num nll_mean "$tmp/p.json") = transformers' $nll (PPL $ppl +/- $err)"
	else
		echo "not ok - held-out perplexity: ours nll $(json_num nll_mean "$tmp/p.json")" \
			"+/- $(json_num ppl_err "$tmp/p.json"), transformers nll $nll PPL $ppl +/- $err"
	fi
else
	echo "not ok - perplexity on the held-out text"; sed 's/^/#   /' "$tmp/err" | head -3
fi
# the model learned something: below half of a uniform guess over 1024 ids (these
# first chunks are Faker's random English words; the whole held-out text: about 37)
awk -v p="$ppl" 'BEGIN { exit !(p > 1 && p < 512) }' &&
	echo "ok - the trained model's held-out perplexity $ppl is below half of a uniform guess (1024)" ||
	echo "not ok - held-out perplexity $ppl: the tiny model is not trained"
