#!/bin/sh
# make mutants: apply each planted bug of tests/mutants/*.patch to a scratch
# copy of the tree, rebuild, run the fast suite (make test-fast: every unit
# test program, then every CLI suite but determinism, stopping at the first
# failure), and report which test killed it. See tests/README.md (Mutation testing).
#
#   sh tests/mutants/run.sh [PATCH ...]     (default: every tests/mutants/*.patch)
#
# Environment: MUTANT_JOBS (2: mutants run at once, each building with one
# core), MUTANT_TIMEOUT (600 s per mutant's test run: a hang counts as
# killed), MUTANT_KEEP=1 keeps the scratch directory, QK_QUANT_LARGE_STRIDE
# (8: the subset of test_quant_large's random rows, below).
#
# Verdicts: killed (a test failed; the first failing program or suite is
# named), SURVIVED (the fast suite passed: a missing test), equivalent (it
# survived and its patch says "# equivalent:" with the reason), STALE (the
# patch no longer applies: refresh it, tests/README.md), NOBUILD (it
# applies but does not compile: rewrite it). Exit 1 when any mutant is
# SURVIVED, STALE or NOBUILD, or when the unmutated tree fails the suite.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${MUTANT_JOBS:-2}
export MUTANT_TIMEOUT=${MUTANT_TIMEOUT:-600}
# test_quant_large checks every 8th of its 4096 random rows here (131,072
# super-blocks per k-quant; its tie and edge sets in full): the full 1M
# costs ~50 s of CPU per mutant, and make check runs it whole
export QK_QUANT_LARGE_STRIDE=${QK_QUANT_LARGE_STRIDE:-8}
start=$(date +%s)
cd "$root" || exit 2
if [ $# -eq 0 ]; then
	set -- tests/mutants/*.patch
fi
for p in "$@"; do
	[ -f "$p" ] || { echo "mutants: no patch $p" >&2; exit 2; }
done
# the scratch copy has no .git: name the commit for --version (frictions.sh)
QK_COMMIT="$(git rev-parse --short=12 HEAD 2>/dev/null || echo 0000000)+mutant"
export QK_COMMIT
scratch=$(mktemp -d /tmp/qk-mutants.XXXXXX) || exit 4
[ "${MUTANT_KEEP:-0}" = 1 ] || trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir "$scratch/base" "$scratch/res"

# the working tree as it is (tracked and untracked-but-not-ignored files)
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -P -t "$scratch/base" 2>/dev/null
# the patches may be absolute or relative paths: keep absolute copies
i=0
for p in "$@"; do
	i=$((i + 1))
	cp "$p" "$scratch/res/$(printf '%03d' $i).$(basename "$p")"
done

echo "mutants: building the unmutated tree in $scratch/base"
if ! (cd "$scratch/base" && make -s -j2 QK_COMMIT="$QK_COMMIT" build-tests >"$scratch/base.log" 2>&1); then
	tail -20 "$scratch/base.log"
	echo "mutants: the unmutated tree does not build" >&2
	exit 1
fi
echo "mutants: running the fast suite on the unmutated tree"
if ! (cd "$scratch/base" && QK_FAIL_FAST=1 make -s QK_COMMIT="$QK_COMMIT" test-fast >"$scratch/base.log" 2>&1); then
	tail -20 "$scratch/base.log"
	echo "mutants: the unmutated tree fails the fast suite: fix that first" >&2
	exit 1
fi
t_base=$(($(date +%s) - start))
echo "mutants: baseline green (${t_base}s); $# mutants, $jobs at a time"

ls "$scratch"/res/*.patch | xargs -P "$jobs" -n 1 sh "$root/tests/mutants/one.sh" "$scratch"

# ---- report ----
n=0; n_killed=0; n_surv=0; n_eq=0; n_stale=0; n_nobuild=0
printf '\n%-44s %-10s %s\n' "mutant" "verdict" "killed by / note"
for r in "$scratch"/res/*.result; do
	IFS='	' read -r name verdict by secs <"$r"
	n=$((n + 1))
	case $verdict in
	killed) n_killed=$((n_killed + 1)) ;;
	SURVIVED) n_surv=$((n_surv + 1)) ;;
	equivalent) n_eq=$((n_eq + 1)) ;;
	STALE) n_stale=$((n_stale + 1)) ;;
	NOBUILD) n_nobuild=$((n_nobuild + 1)) ;;
	esac
	printf '%-44s %-10s %s (%ss)\n' "$name" "$verdict" "$by" "$secs"
done
total=$(($(date +%s) - start))
echo
echo "mutants: $n run: $n_killed killed, $n_eq equivalent (documented), $n_surv SURVIVED, $n_stale STALE, $n_nobuild NOBUILD; ${total}s in all"
[ $n_surv -eq 0 ] && [ $n_stale -eq 0 ] && [ $n_nobuild -eq 0 ] && [ $n -gt 0 ]
