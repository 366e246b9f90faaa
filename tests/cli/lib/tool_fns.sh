# tool_fns.sh - shell helpers of the suites that run several tools
# (tests/cli/outputs.sh, nonfinite.sh, faults.sh), sourced after BINDIR and
# tmp (a scratch directory) are set.

. tests/cli/lib/tap_fns.sh

# expect CODE FRAGMENT TOOL ARGS...: $BINDIR/TOOL exits with CODE, FRAGMENT
# (none when empty) on stderr, which never names one of our temporaries
expect() { code=$1; frag=$2; tool=$3; shift 3; expect_cmd "$code" "$frag" "$BINDIR/$tool" "$@"; }
