#!/bin/sh
# qwen-convert --split-max-size / --split-max-tensors (llama.cpp split sets)
# and reading --keep-mtp files, through the real binaries. A set must open
# as one model from its first file (qwen-inspect: "(N files)"; our reader
# checks split.no, split.count and split.tensors.count with llama.cpp's key
# types) and hold exactly the unsplit file's tensors (qwen-inspect diff,
# max|d| 0). Where the cuts fall follows llama.cpp's gguf-split; its own
# binary and llama.cpp's loader are the oracle of the checks reported for
# issue 5 (not run here: no Python or llama.cpp at test time).
BINDIR=${BINDIR:-bin}
C="$BINDIR/qwen-convert"
I="$BINDIR/qwen-inspect"
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. tests/cli/lib/tap_fns.sh

# expect CODE FRAGMENT -- ARGS...: qwen-convert ARGS exits with CODE, FRAGMENT on stderr
expect() { code=$1; frag=$2; shift 3; expect_cmd "$code" "$frag" "$C" "$@"; }

files() { ls "$tmp" | grep -c -- "$1" ; }
difflast() {
	"$I" diff "$1" "$2" >"$tmp/diff" 2>"$tmp/derr"
	case $? in 0|1) tail -n 1 "$tmp/diff" ;; *) head -n 1 "$tmp/derr" ;; esac
}

expect 2 "option '--split-max-size': '4XB' is not a size" -- --split-max-size 4XB $M/qwen2 -o "$tmp/x.gguf"
expect 2 "option '--split-max-size': '0' is not a size" -- --split-max-size 0 $M/qwen2 -o "$tmp/x.gguf"
expect 2 "is not an integer in [1, 4294967295]" -- --split-max-tensors 0 $M/qwen2 -o "$tmp/x.gguf"
expect 2 "option '--split-max-tensors' applies to --to gguf only" -- \
	--to safetensors --split-max-tensors 3 $M/qwen2 -o "$tmp/x"
expect 2 "not a name for a split set" -- --split-max-tensors 3 $M/qwen2 -o "$tmp/.gguf"
[ "$(files x)" = 0 ] && ok "usage errors write nothing" || notok "usage errors wrote files"

"$C" -q $M/qwen2 -o "$tmp/whole.gguf"
# qwen2: 26 tensors; by 10 -> 10, 10, 6
if "$C" --split-max-tensors 10 $M/qwen2 -o "$tmp/byn.gguf" 2>"$tmp/err" &&
   [ "$(files '^byn-0000[123]-of-00003\.gguf$')" = 3 ] && [ "$(files '^byn')" = 3 ] &&
   grep -q "wrote 3 split files $tmp/byn-00001-of-00003.gguf ... $tmp/byn-00003-of-00003.gguf" "$tmp/err"
then
	ok "--split-max-tensors 10: three files named as llama.cpp names them"
else
	notok "--split-max-tensors 10"; show "$tmp/err"; ls "$tmp" | sed 's/^/#   /'
fi
for k in 1 2 3; do
	n=$("$I" --json "$tmp/byn-0000$k-of-00003.gguf" 2>/dev/null | sed -n 's/.*"n_files":[^0-9]*\([0-9]*\).*/\1/p')
	[ "$n" = 3 ] || notok "byn-0000$k-of-00003.gguf does not open the set of 3 ($n)"
done
if "$I" "$tmp/byn-00001-of-00003.gguf" | grep -q "^format: *gguf v3 (3 files)" &&
   [ "$(difflast "$tmp/whole.gguf" "$tmp/byn-00001-of-00003.gguf")" = \
     "26 pairs, 0 only in a, 0 only in b, largest max|d| 0" ]; then
	ok "the set opens as one model (3 files) and equals the unsplit file"
else
	notok "split by tensors: $(difflast "$tmp/whole.gguf" "$tmp/byn-00001-of-00003.gguf")"
fi
# the first file holds the key/values and 10 tensors, the last 6
if "$I" --tensors "$tmp/byn-00001-of-00003.gguf" >"$tmp/t" 2>&1 &&
   "$C" --dry-run --split-max-tensors 10 $M/qwen2 -o "$tmp/byn.gguf" >"$tmp/out" 2>/dev/null &&
   grep -q "byn-00001-of-00003.gguf  *10 tensors" "$tmp/out" &&
   grep -q "byn-00003-of-00003.gguf  *6 tensors" "$tmp/out"; then
	ok "--dry-run lists the split files"
else
	notok "--dry-run split listing"
fi

# by size: tensor bytes padded to 32 (token_embd 262144 + its norm 1024 =
# 263168 fits 300K; the next 131072 would not), key/values not counted
if "$C" -q --split-max-size 300K $M/qwen2 -o "$tmp/bys" 2>"$tmp/err" &&
   [ "$(files '^bys-000[0-9][0-9]-of-00006\.gguf$')" = 6 ] &&
   [ "$(difflast "$tmp/whole.gguf" "$tmp/bys-00004-of-00006.gguf")" = \
     "26 pairs, 0 only in a, 0 only in b, largest max|d| 0" ]; then
	ok "--split-max-size 300K: six files (name without .gguf kept whole), same tensors"
else
	notok "--split-max-size 300K"; show "$tmp/err"; ls "$tmp" | sed 's/^/#   /'
fi
if "$C" --dry-run --split-max-size 300K $M/qwen2 -o "$tmp/bys" 2>/dev/null |
   grep -q "bys-00001-of-00006.gguf  *2 tensors  *263168 bytes  first token_embd.weight"; then
	ok "the first split stops before the size limit is passed"
else
	notok "split sizes"
fi
# the limits are met in one file: a plain file at the given name
if "$C" --split-max-tensors 1000 $M/qwen2 -o "$tmp/one.gguf" 2>"$tmp/err" &&
   grep -q "fits the split limits in one file" "$tmp/err" &&
   [ "$(files '^one')" = 1 ] && cmp -s "$tmp/one.gguf" "$tmp/whole.gguf"; then
	ok "a model within the limits: one plain file, identical to the unsplit output"
else
	notok "single split"; show "$tmp/err"
fi

# a failure in a later split removes the earlier ones. qwen3_moe by 6
# tensors: split 1 ~0.7 MB, split 3 ~1.6 MB; a 1 MB file-size limit makes
# split 3 fail with EFBIG after splits 1 and 2 are complete.
unit=$( (trap '' XFSZ; ulimit -f 1; head -c 4096 /dev/zero >"$tmp/u" 2>/dev/null); wc -c <"$tmp/u")
rm -f "$tmp/u"
fail_run() {
	(
		trap '' XFSZ
		ulimit -f $((1000000 / unit))
		exec "$C" -q --split-max-tensors 6 $M/qwen3_moe -o "$tmp/$1.gguf"
	) >"$tmp/out" 2>"$tmp/err"
}
fail_run fail
rc=$?
if [ "$rc" -eq 4 ] && grep -q "fail-00003-of-00005.gguf: write failed: File too large" "$tmp/err"
then
	ok "a write failure in split 3: exit 4"
else
	notok "a write failure in split 3: exit $rc"; show "$tmp/err"
fi
if [ "$(files '^fail')" = 0 ]; then
	ok "no split file or temporary left behind"
else
	notok "split files left behind"; ls "$tmp" | sed 's/^/#   /'
fi
# an older set of the same name is left as it was
"$C" -q --outtype f32 --split-max-tensors 6 $M/qwen3_moe -o "$tmp/old.gguf" 2>/dev/null
cat "$tmp"/old-0000?-of-*.gguf | cksum >"$tmp/sum1"
fail_run old
if [ "$(files '^old-0000[1-5]-of-00005.gguf$')" = 5 ] && [ "$(files '^old')" = 5 ] && cat "$tmp"/old-0000?-of-*.gguf | cksum | cmp -s - "$tmp/sum1"; then
	ok "a failed run leaves an older set of the same name untouched"
else
	notok "an older set was changed"; ls "$tmp" | grep '^old' | sed 's/^/#   /' | head -4
fi

# ---- --keep-mtp files read back ----
"$C" -q --keep-mtp $M/qwen3_next -o "$tmp/mtp.gguf"
if "$I" "$tmp/mtp.gguf" >"$tmp/out" 2>"$tmp/err" && grep -q "(MTP layers included)" "$tmp/out" &&
   grep -q "^  n_layer  *4$" "$tmp/out" &&
   [ "$(difflast "$tmp/mtp.gguf" $M/qwen3_next)" = \
     "93 pairs, 0 only in a, 0 only in b, largest max|d| 0" ] &&
   grep -q "^  blk.4.nextn.eh_proj.weight  *mtp_fc  *-  *0 " "$tmp/diff" &&
   grep -q "^  blk.4.ffn_up_exps.weight  *ffn_up_exps  *4  *0 " "$tmp/diff"; then
	ok "a --keep-mtp file: 4 layers + MTP, the MTP tensors pair with the checkpoint's"
else
	notok "reading a --keep-mtp file"; show "$tmp/err"; tail -n 1 "$tmp/diff" | sed 's/^/#   /'
fi
# without --keep-mtp the MTP tensors are not a difference
"$C" -q $M/qwen3_next -o "$tmp/nomtp.gguf"
if [ "$(difflast $M/qwen3_next "$tmp/nomtp.gguf")" = \
     "73 pairs, 0 only in a, 0 only in b, largest max|d| 0" ] &&
   [ "$(difflast "$tmp/mtp.gguf" "$tmp/nomtp.gguf")" = \
     "73 pairs, 0 only in a, 0 only in b, largest max|d| 0" ]; then
	ok "MTP tensors are compared only when both sides have them"
else
	notok "diff against a file without MTP"
fi
# a split --keep-mtp set reads the same
if "$C" -q --keep-mtp --split-max-tensors 40 $M/qwen3_next -o "$tmp/mtps.gguf" &&
   [ "$(difflast "$tmp/mtp.gguf" "$tmp/mtps-00003-of-00003.gguf")" = \
     "93 pairs, 0 only in a, 0 only in b, largest max|d| 0" ]; then
	ok "a split --keep-mtp set equals the single file"
else
	notok "split --keep-mtp set"
fi
exit 0
