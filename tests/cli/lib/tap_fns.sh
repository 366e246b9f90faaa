# tap_fns.sh - the TAP lines and checks every tests/cli suite shares
# ("ok - ..." / "not ok - ..."; tests/run.sh counts them). Sourced after tmp
# (a scratch directory) is set.

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
# show FILE [N]: the first N (3) lines of FILE as TAP comments
show() { sed 's/^/#   /' "$1" | head -n "${2:-3}"; }

# ok_if DESCRIPTION COMMAND...: the command succeeds
ok_if() {
	d=$1; shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}

# expect_cmd CODE FRAGMENT PROGRAM ARGS...: PROGRAM exits with CODE, its
# stderr holds FRAGMENT (none asked when empty) and never names one of our
# writers' temporaries ("NAME.tmp-qwenkit-HEX") unless the fragment does; with
# quiet_errors=1, a usage, input or I/O error (CODE > 1) prints nothing on
# stdout. Output in $tmp/out and $tmp/err.
expect_cmd() {
	code=$1; frag=$2; prog=$3; shift 3
	label="${prog##*/} $*"
	"$prog" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		notok "$label: exit $rc, expected $code"; show "$tmp/err"
	elif [ -n "$frag" ] && ! grep -qF -- "$frag" "$tmp/err"; then
		notok "$label: stderr lacks '$frag'"; show "$tmp/err"
	elif [ "${frag#*tmp-qwenkit-}" = "$frag" ] && grep -q 'tmp-qwenkit-' "$tmp/err"; then
		notok "$label: the message names a temporary"; show "$tmp/err"
	elif [ "${quiet_errors:-0}" = 1 ] && [ "$code" -gt 1 ] && [ -s "$tmp/out" ]; then
		notok "$label: exit $code with output on stdout"
	else
		ok "$label: exit $code"
	fi
}

# nothing_left PATH DESCRIPTION: no PATH and no temporary of ours beside it
# (a refused or failed write leaves the directory as it was)
nothing_left() {
	if [ -e "$1" ] || ls -A "$(dirname "$1")" | grep -q 'tmp-qwenkit-'; then
		notok "$2: left an output or a temporary behind"
		ls -la "$(dirname "$1")" | show /dev/stdin 8
	else
		ok "$2: nothing left behind"
	fi
}
