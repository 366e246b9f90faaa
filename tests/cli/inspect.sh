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
exit 0
