#!/bin/sh
# Regenerate every golden fixture under testdata/models/ (see README.md).
#
#   testdata/gen/regen.sh           rewrite testdata/models/ and check qwen1
#   testdata/gen/regen.sh --verify  regenerate into a temporary directory and
#                                   compare byte for byte with testdata/models/
#
# Needs the venv of requirements.txt at the repository root (.venv), or
# QWENKIT_FIXTURE_PYTHON naming another interpreter that has those packages.
# Then builds bin/qwen-verify and stores each fixture's golden budgets (3x the
# measured error) in its expected.safetensors (tolerances.py).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=${QWENKIT_FIXTURE_PYTHON:-$root/.venv/bin/python}
if [ ! -x "$py" ]; then
	echo "regen.sh: no python at $py; see testdata/gen/README.md" >&2
	exit 2
fi
# One thread, baseline CPU kernels, no network: the same bytes on any x86-64.
export MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1
export TOKENIZERS_PARALLELISM=false PYTHONHASHSEED=0
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

case "${1:-}" in
"")
	"$py" "$here/make_fixtures.py"
	"$py" "$here/vision_oracle.py"
	"$py" "$here/vision_oracle.py" --towers
	"$py" "$here/check_qwen1.py" "$root/testdata/models/qwen1"
	make -s -C "$root" -j2 bin/qwen-verify
	"$py" "$here/tolerances.py" --bin "$root/bin"
	;;
--verify)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT INT TERM
	if ! "$py" "$here/make_fixtures.py" --out "$tmp/models" >"$tmp/log" 2>&1; then
		cat "$tmp/log" >&2
		exit 1
	fi
	"$py" "$here/vision_oracle.py" "$tmp"/models/*/ >/dev/null 2>&1
	"$py" "$here/check_qwen1.py" "$tmp/models/qwen1"
	make -s -C "$root" -j2 bin/qwen-verify
	"$py" "$here/tolerances.py" --bin "$root/bin" "$tmp"/models/*/ >/dev/null
	diff -r "$tmp/models" "$root/testdata/models"
	echo "regen.sh: testdata/models regenerates bit-identically"
	;;
*)
	echo "usage: regen.sh [--verify]" >&2
	exit 2
	;;
esac
