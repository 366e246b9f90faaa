# verify_fns.sh - shell helpers of the qwen-verify suites (tests/cli/verify*.sh),
# sourced after V (the binary) and tmp (a scratch directory) are set.

. tests/cli/lib/tap_fns.sh

# expect CODE FRAGMENT -- ARGS...: qwen-verify ARGS exits with CODE, FRAGMENT
# on stderr; with quiet_errors=1, also nothing on stdout for a usage, input
# or I/O error
expect() { code=$1; frag=$2; shift 3; expect_cmd "$code" "$frag" "$V" "$@"; }

# json_num KEY FILE: the number after "KEY": in cJSON's pretty output
json_num() {
	sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([^,]*\),*$/\1/p" "$2" | head -n 1
}

# st_zero FILE TENSOR COUNT: zero the first COUNT bytes of TENSOR's data in a
# safetensors file (header: u64 length, then JSON with "data_offsets")
st_zero() {
	n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
	off=$(dd if="$1" bs=1 skip=8 count="$n" 2>/dev/null |
		sed -n "s/.*\"$2\": *{[^}]*\"data_offsets\": *\[ *\([0-9]*\).*/\1/p")
	[ -n "$off" ] || { echo "not ok - st_zero: no tensor $2 in $1"; return 1; }
	dd if=/dev/zero of="$1" bs=1 seek=$((8 + n + off)) count="$3" conv=notrunc 2>/dev/null
}

# near A B RTOL: |A - B| <= RTOL |B| (A non-empty)
near() {
	awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d;
		m = b < 0 ? -b : b; exit !(a != "" && d <= r * m) }'
}
