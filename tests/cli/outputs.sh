#!/bin/sh
# Output safety through the real binaries, for every tool that writes
# (qwen-convert, qwen-quant, qwen-verify run --dump): an input or any side
# file of an input is refused as the output (exit 2, unchanged); a
# non-regular target (FIFO, device node, symlink to one) is refused (exit 2,
# still what it was); -o "" / -o DIR / a missing or unwritable directory are
# refused before any work, naming what was typed, never a temporary; a
# symlinked target is written through; a 0444 target stays 0444; a stale
# temporary of a killed run is removed with a note.
BINDIR=${BINDIR:-bin}
M=testdata/models
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

. tests/cli/lib/tool_fns.sh

# same FILE COPY: unchanged
same() {
	if cmp -s "$1" "$2"; then ok "$1 unchanged"; else notok "$1 was changed"; fi
}

# no_temps DIR: nothing named like a temporary
no_temps() {
	if ls -A "$1" | grep -q 'tmp-'; then notok "$1: temporaries left: $(ls -A "$1" | grep 'tmp-')"
	else ok "$1: no temporary left"; fi
}

# the model directory, copied so that a failure cannot damage the fixture
cp -r $M/qwen2 "$tmp/m"
printf '{"eos_token_id": 2}\n' >"$tmp/m/generation_config.json"
printf '{}\n' >"$tmp/m/vocab.json"
printf '#version: 0.2\n' >"$tmp/m/merges.txt"
printf '{}\n' >"$tmp/m/special_tokens_map.json"
cp -r "$tmp/m" "$tmp/orig"
printf '1,2,3\n' >"$tmp/tokens.txt"

# every input and side file, for every writing tool
for f in config.json tokenizer.json tokenizer_config.json generation_config.json model.safetensors \
	vocab.json merges.txt special_tokens_map.json; do
	expect 2 "output path is one of the inputs" qwen-convert "$tmp/m" -o "$tmp/m/$f"
	expect 2 "output path is one of the inputs" qwen-quant "$tmp/m" -o "$tmp/m/$f" --type Q8_0
	expect 2 "output path is one of the inputs" qwen-verify run "$tmp/m" --tokens 1,2 \
		--dump "$tmp/m/$f"
	same "$tmp/m/$f" "$tmp/orig/$f"
done
expect 2 "output path is one of the inputs" qwen-verify run "$tmp/m" \
	--tokens-file "$tmp/tokens.txt" --dump "$tmp/tokens.txt"
# -o naming the model directory itself: the default name inside it (what no
# -o gives), never one of its files
if "$BINDIR/qwen-convert" -q "$tmp/m" -o "$tmp/m" 2>"$tmp/err" && [ -f "$tmp/m/M-854K-BF16.gguf" ]; then
	ok "-o MODEL_DIR writes MODEL_DIR/M-854K-BF16.gguf beside the inputs"
else
	notok "-o MODEL_DIR"; sed 's/^/#   /' "$tmp/err" | head -3
fi
rm -f "$tmp/m/M-854K-BF16.gguf"
no_temps "$tmp/m"

# non-regular targets: a FIFO, a device node (as root), a symlink to one
# (never /dev/null itself: a regression run as root would replace it)
mkfifo "$tmp/fifo"
ln -s "$tmp/fifo" "$tmp/tofifo"
for t in "$tmp/fifo" "$tmp/tofifo"; do
	expect 2 "$t: exists and is not a regular file" qwen-convert "$tmp/m" -o "$t"
	expect 2 "$t: exists and is not a regular file" qwen-quant "$tmp/m" -o "$t" --type Q8_0
	expect 2 "$t: exists and is not a regular file" qwen-verify run "$tmp/m" --tokens 1 \
		--dump "$t"
done
if [ -p "$tmp/fifo" ] && [ -L "$tmp/tofifo" ]; then ok "the FIFO and its link are still there"
else notok "the FIFO or its link was replaced"; fi
if [ "$(id -u)" = 0 ] && mknod "$tmp/null" c 1 3 2>/dev/null; then
	expect 2 "exists and is not a regular file" qwen-quant "$tmp/m" -o "$tmp/null" --type Q8_0
	if [ -c "$tmp/null" ]; then ok "the device node is still one"; else notok "device node replaced"; fi
else
	echo "skip - mknod needs root"
fi
no_temps "$tmp"

# refused before any work, naming what was typed
expect 2 "the output path is empty" qwen-convert "$tmp/m" -o ""
expect 2 "the output path is empty" qwen-quant "$tmp/m" -o "" --type Q8_0
expect 2 "the output path is empty" qwen-verify run "$tmp/m" --tokens 1 --dump ""
mkdir "$tmp/d"
# a GGUF writer given a directory writes llama.cpp's default name into it
# (convert_hf_to_gguf.py --outfile DIR)
if "$BINDIR/qwen-quant" "$tmp/m" -o "$tmp/d" --type Q8_0 -q 2>"$tmp/err" &&
   "$BINDIR/qwen-convert" "$tmp/m" -o "$tmp/d/" --to gguf -q 2>>"$tmp/err" &&
   [ "$(ls "$tmp/d" | grep -c -- '-Q8_0\.gguf$')" -eq 1 ] &&
   [ "$(ls "$tmp/d" | grep -c -- '-BF16\.gguf$')" -eq 1 ]; then
	ok "-o DIR: qwen-quant and qwen-convert write their default names into DIR"
else
	notok "-o DIR"; sed 's/^/#   /' "$tmp/err" | head -3; ls "$tmp/d" | sed 's/^/#   /'
fi
rm -f "$tmp"/d/*
expect 2 "$tmp/d: is a directory" qwen-verify run "$tmp/m" --tokens 1 --dump "$tmp/d"
expect 4 "$tmp/nodir/x.gguf: cannot write there" qwen-quant "$tmp/m" -o "$tmp/nodir/x.gguf" \
	--type Q8_0
expect 4 "$tmp/nodir/x.gguf: cannot write there" qwen-convert "$tmp/m" -o "$tmp/nodir/x.gguf"
expect 4 "$tmp/nodir/x.npz: cannot write there" qwen-verify run "$tmp/m" --tokens 1 \
	--dump "$tmp/nodir/x.npz"
expect 4 "$tmp/nodir/hf: cannot write there" qwen-convert "$tmp/m" -o "$tmp/nodir/hf" \
	--to safetensors
printf 'x' >"$tmp/file"
expect 2 "$tmp/file: exists and is not a directory" qwen-convert "$tmp/m" -o "$tmp/file" \
	--to safetensors
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -m 0555 "$tmp/ro"; chmod 0755 "$tmp"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BINDIR/qwen-quant" "$tmp/m" \
		-o "$tmp/ro/x.gguf" --type Q8_0 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 4 ] && grep -qF "$tmp/ro/x.gguf: cannot write in directory" "$tmp/err"; then
		ok "unwritable directory: exit 4 before work"
	else
		notok "unwritable directory: exit $rc"; sed 's/^/#   /' "$tmp/err" | head -3
	fi
else
	echo "skip - unwritable directory needs root and setpriv"
fi

# a symlinked target: the file it points to is replaced, the link stays
printf 'old' >"$tmp/real.gguf"
ln -s real.gguf "$tmp/link.gguf"
expect 0 "" qwen-quant -q "$tmp/m" -o "$tmp/link.gguf" --type Q8_0
if [ -L "$tmp/link.gguf" ] && [ "$(head -c 4 "$tmp/real.gguf")" = GGUF ]; then
	ok "symlinked target written through"
else
	notok "symlinked target: the link was replaced or the file not written"
fi
ln -s missing.gguf "$tmp/dangling.gguf"
expect 2 "dangling" qwen-quant "$tmp/m" -o "$tmp/dangling.gguf" --type Q8_0

# permission bits kept: a 0444 target stays 0444
printf 'old' >"$tmp/ro.gguf"
chmod 0444 "$tmp/ro.gguf"
expect 0 "" qwen-convert -q "$tmp/m" -o "$tmp/ro.gguf"
mode=$(stat -c %a "$tmp/ro.gguf")
if [ "$mode" = 444 ]; then ok "0444 target stays 0444"; else notok "0444 target came back $mode"; fi

# a temporary left by a SIGKILLed run (same pid in a container) is removed
printf 'partial' >"$tmp/k.gguf.tmp-qwenkit-00000000abcd"
expect 0 "removed '$tmp/k.gguf.tmp-qwenkit-00000000abcd', left behind by an earlier run" \
	qwen-quant "$tmp/m" -o "$tmp/k.gguf" --type Q8_0
no_temps "$tmp"
