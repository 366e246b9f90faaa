#!/bin/sh
# Hostile JSON through the real binaries, each run under a memory limit
# (ulimit -v): the parsers' peak memory stays a small factor of the file
# size, a file past the value limit is refused before any tree is built
# (exit 3 saying the limit), running out of memory is exit 4 (never
# "invalid JSON"), the nesting limit and invalid UTF-8 are named with the
# limit and the byte offset. Skipped under sanitizers (ASan reserves
# terabytes of address space, so ulimit -v cannot apply).
BINDIR=${BINDIR:-bin}
M=testdata/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/cli/lib/tool_fns.sh

case "${SANITIZE:-}${ASAN_OPTIONS:-}" in
*address*|*detect*) echo "skip - ulimit -v under sanitizers"; exit 0 ;;
esac
if [ -n "$(nm "$BINDIR/qwen-convert" 2>/dev/null | grep -m1 __asan_init)" ]; then
	echo "skip - ulimit -v under sanitizers"; exit 0
fi

# limited KB CODE FRAGMENT TOOL ARGS...: expect under ulimit -v KB
limited() {
	kb=$1; shift
	(ulimit -v "$kb" && expect "$@")
}

# zeros N: "0,0,...,0" (N zeros)
zeros() { yes 0, | head -n "$(($1 - 1))" | tr -d '\n'; printf '0'; }
# strs N: N strings of 20 letters
strs() { yes '"aaaaaaaaaaaaaaaaaaaa",' | head -n "$(($1 - 1))" | tr -d '\n'; printf '"a"'; }

model() { rm -rf "$tmp/m"; cp -r $M/qwen2 "$tmp/m"; }

# 1. past the value limit: refused by the scan, before any tree (10 MB of
# zeros would be a 400 MB tree); 150 MB of address space is plenty
model
{ printf '{"version":"1.0","x":['; zeros 5000000; printf ']}'; } >"$tmp/m/tokenizer.json"
limited 150000 3 "tokenizer.json: more than the limit of 4194304 values" qwen-convert --dry-run "$tmp/m"
cp "$tmp/m/tokenizer.json" "$tmp/m/config.json"
limited 150000 3 "config.json: more than the limit of 4194304 values" qwen-inspect "$tmp/m"

# 2. just under the limit, 84 MB of strings: parsed within ~8 times the file
# size, then refused for what it lacks (exit 3), never a crash; with too
# little memory for the tree, exit 4 naming the file
model
{ printf '{"version":"1.0","x":['; strs 4000000; printf ']}'; } >"$tmp/m/tokenizer.json"
limited 1000000 3 "tokenizer.json" qwen-convert --dry-run "$tmp/m"
limited 300000 4 "tokenizer.json: out of memory" qwen-convert --dry-run "$tmp/m"

# 3. nesting: the limit is said
model
{ printf '{"x":'; yes '[' | head -n 100 | tr -d '\n'; yes ']' | head -n 100 | tr -d '\n'; printf '}'; } \
	>"$tmp/m/tokenizer.json"
limited 150000 3 "nesting deeper than the limit of 64 arrays and objects at byte" \
	qwen-convert --dry-run "$tmp/m"

# 4. invalid UTF-8: its byte offset
model
printf '{"version":"1.0","x":"ab\377"}' >"$tmp/m/tokenizer.json"
limited 150000 3 "tokenizer.json: not valid UTF-8 (byte 0xff) at byte 24 (line 1, column 25)" qwen-convert --dry-run "$tmp/m"
