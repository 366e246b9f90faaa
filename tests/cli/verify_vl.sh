#!/bin/sh
# qwen-verify run --positions through the real binary on the Qwen-VL
# fixtures: the three position streams transformers' get_rope_index gave
# for mrope.tokens (expected.safetensors, testdata/gen/vl_fx.py) change the
# top-1 logits from those of text positions; text positions given
# explicitly are the same as none; usage errors exit 2.
BINDIR=${BINDIR:-bin}
V="$BINDIR/qwen-verify"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli/lib/tool_fns.sh

# mrope.tokens and mrope.positions of testdata/models/qwen3_vl/expected.safetensors
# (transformers' get_rope_index with tokens 4..11 an image of grid 1 x 4 x 8,
# merged 1 x 2 x 4); test_vl_rope checks the pass against its mrope.logits
tokens="296,258,300,262,295,64,85,265,324,220,23,25,19,20,13,220,346,232,366,347,437,98,121,332"
text=$(seq 0 23 | tr '\n' ',')
img_t="0,1,2,3,4,4,4,4,4,4,4,4,8,9,10,11,12,13,14,15,16,17,18,19"
img_h="0,1,2,3,4,4,4,4,5,5,5,5,8,9,10,11,12,13,14,15,16,17,18,19"
img_w="0,1,2,3,4,5,6,7,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19"

"$V" run $M/qwen3_vl --tokens "$tokens" --json -q >"$tmp/a" 2>"$tmp/err" &&
"$V" run $M/qwen3_vl --tokens "$tokens" --positions "$text;$text;$text" --json -q \
	>"$tmp/b" 2>>"$tmp/err" &&
"$V" run $M/qwen3_vl --tokens "$tokens" --positions "$img_t;$img_h;$img_w" --json -q \
	>"$tmp/c" 2>>"$tmp/err"
rc=$?
grep -v '"forward_seconds"\|"tokens_per_second"' "$tmp/a" >"$tmp/a2"
grep -v '"forward_seconds"\|"tokens_per_second"' "$tmp/b" >"$tmp/b2"
grep -v '"forward_seconds"\|"tokens_per_second"' "$tmp/c" >"$tmp/c2"
[ $rc -eq 0 ] && cmp -s "$tmp/a2" "$tmp/b2" &&
	ok "qwen3_vl: text positions given as three streams = no --positions" ||
	{ notok "qwen3_vl: explicit text positions differ (exit $rc)"; sed 's/^/#   /' "$tmp/err"; }
[ $rc -eq 0 ] && ! cmp -s "$tmp/a2" "$tmp/c2" &&
	ok "qwen3_vl: image positions change the logits" ||
	notok "qwen3_vl: image positions change nothing"

expect 2 "fewer than three lists" qwen-verify run $M/qwen3_vl --tokens "$tokens" \
	--positions "$text;$text"
expect 2 "stream t has 2 positions, the sequence has 24 tokens" qwen-verify run $M/qwen3_vl \
	--tokens "$tokens" --positions "1,2;$text;$text"
expect 2 "stream t entry 0 'x" qwen-verify run $M/qwen3_vl --tokens "$tokens" \
	--positions "x;$text;$text"
expect 2 "has no M-RoPE sections" qwen-verify run $M/qwen3 --tokens "1,2,3" \
	--positions "0,1,2;0,1,2;0,1,2"
