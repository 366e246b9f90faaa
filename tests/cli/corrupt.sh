#!/bin/sh
# Every case of the corrupt corpus through the real binary its manifest row
# names (qwen-inspect PATH, qwen-verify compare --base PATH CANDIDATE for
# qwen-verify-base, or TOOL PATH -o OUT.gguf): the expected exit code,
# the message fragment on stderr, nothing on stdout, no output file left
# behind, and no crash (sanitizer builds abort with a report, which fails the
# exit-code check).
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$BUILD/corrupt-gen" "$out/cases" >/dev/null || { echo "not ok - corrupt-gen failed"; exit 1; }
n=0
tab=$(printf '\t')
while IFS="$tab" read -r name path code frag tool; do
	n=$((n + 1))
	tool=${tool:-qwen-inspect}
	rm -f "$out"/o.gguf*
	if [ "$tool" = qwen-inspect ]; then
		"$BINDIR/qwen-inspect" "$path" >"$out/stdout" 2>"$out/stderr"
	elif [ "$tool" = qwen-verify-base ]; then
		"$BINDIR/qwen-verify" compare --base "$path" testdata/models/qwen3 >"$out/stdout" 2>"$out/stderr"
	elif [ "$tool" = qwen-quant-imatrix ]; then
		"$BINDIR/qwen-quant" --imatrix "$path" testdata/models/qwen3_256 --type Q4_K_M \
			-o "$out/o.gguf" >"$out/stdout" 2>"$out/stderr"
	else
		"$BINDIR/$tool" "$path" -o "$out/o.gguf" >"$out/stdout" 2>"$out/stderr"
	fi
	rc=$?
	if ls "$out"/o.gguf* >/dev/null 2>&1; then
		echo "not ok - $name: $tool left an output or temporary file on failure"
	elif [ "$rc" -ne "$code" ]; then
		echo "not ok - $name: exit $rc, expected $code"
		sed 's/^/#   /' "$out/stderr" | head -n 5
	elif ! grep -qF -- "$frag" "$out/stderr"; then
		echo "not ok - $name: message lacks '$frag'"
		sed 's/^/#   /' "$out/stderr" | head -n 5
	elif [ -s "$out/stdout" ]; then
		echo "not ok - $name: printed to stdout on failure"
	else
		echo "ok - $name"
	fi
done <"$out/cases/manifest.tsv"
# an empty or truncated manifest must not pass as "nothing failed"
if [ "$n" -ge 140 ]; then
	echo "ok - $n corrupt cases ran"
else
	echo "not ok - only $n corrupt cases in $out/cases/manifest.tsv, expected at least 140"
fi
