#!/bin/sh
# make demo: runs the pipeline that exists so far on the bundled tiny models.
# Today that is qwen-inspect (summary, tensors, stats, diff); convert, quantize
# and verify join as they land.
BINDIR=${BINDIR:-bin}
set -e
models=$(ls -d testdata/models/*/ 2>/dev/null | sed 's,/$,,')
if [ -z "$models" ]; then
	echo "demo: no bundled models in testdata/models" >&2
	exit 1
fi
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
for m in $models; do
	[ -f "$m/config.json" ] || continue
	step "qwen-inspect $m"
	"$BINDIR/qwen-inspect" "$m"
done
first=testdata/models/qwen3
[ -d "$first" ] || first=$(echo "$models" | head -n 1)
step "qwen-inspect --tensors $first (first 12 lines)"
"$BINDIR/qwen-inspect" --tensors "$first" | awk '/^tensors:$/{on=1} on' | head -n 12
step "qwen-inspect --stats='*norm*' $first (first 8 lines)"
"$BINDIR/qwen-inspect" --stats='*norm*' "$first" | awk '/^stats/{on=1} on' | head -n 8
step "qwen-inspect diff $first $first (a model against itself: all zero)"
"$BINDIR/qwen-inspect" diff "$first" "$first" | awk 'NR <= 7 { print } END { print }'
for t in qwen-convert qwen-quant qwen-verify; do
	step "$t"
	"$BINDIR/$t" 2>&1 || true
done
