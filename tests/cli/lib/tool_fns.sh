# tool_fns.sh - shell helpers of the suites that run several tools
# (tests/cli/outputs.sh, nonfinite.sh, faults.sh), sourced after BINDIR and
# tmp (a scratch directory) are set.

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }

# expect CODE FRAGMENT TOOL ARGS...: exit code, a stderr fragment (none when
# empty), and never a temporary's name in the message unless the fragment
# names one
expect() {
	code=$1; frag=$2; tool=$3; shift 3
	"$BINDIR/$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		notok "$tool $*: exit $rc, expected $code"; sed 's/^/#   /' "$tmp/err" | head -3
	elif [ -n "$frag" ] && ! grep -qF -- "$frag" "$tmp/err"; then
		notok "$tool $*: stderr lacks '$frag'"; sed 's/^/#   /' "$tmp/err" | head -3
	elif [ "${frag#*tmp-}" = "$frag" ] && grep -q 'tmp-' "$tmp/err"; then
		notok "$tool $*: the message names a temporary"; sed 's/^/#   /' "$tmp/err" | head -3
	else
		ok "$tool $*: exit $code"
	fi
}
