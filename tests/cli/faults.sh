#!/bin/sh
# Fault injection through the real binaries: after every fault, a target is
# the old file, absent (when there was none), or the complete new one, never
# anything else, and no temporary is left but by SIGKILL (which the next run
# removes).
#
#   1. kills at random points (SIGKILL, SIGINT, SIGTERM) during every writing
#      command: qwen-convert to GGUF, to a split set and to a safetensors
#      directory, qwen-quant, qwen-verify run --dump;
#   2. disk full, failing fsync, failing rename and link, through the
#      LD_PRELOAD injector tests/fault/faultinj.c ($BUILD/faultinj.so),
#      including a split set whose publish fails half-way (the older set must
#      come back as it was);
#   3. a real full filesystem: a small tmpfs (as root, where mount works).
#
# make check runs one round (a few seconds); make soak sets QK_SOAK_ROUNDS
# (default there 25) for many random kill points per command and signal.
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
ROUNDS=${QK_SOAK_ROUNDS:-0}
M=testdata/models
tmp=$(mktemp -d)
trap 'umount "$tmp/small" 2>/dev/null; rm -rf "$tmp"' EXIT
. tests/cli/lib/tool_fns.sh

if [ ! -f "$BUILD/faultinj.so" ]; then
	notok "$BUILD/faultinj.so is missing (make builds it)"
	exit 0
fi
INJ="$BUILD/faultinj.so"
# under ASan the injector comes before the runtime: allow it
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS

# temps DIR: temporaries in DIR
temps() { ls -A "$1" | grep -c 'tmp-qwenkit-'; }

# ---- the commands, each with its reference output ----
BIG=$M/qwen3_realvocab
SMALL=$M/qwen2
# cmd_NAME OUT: run the command writing OUT (a file, a split prefix, a dir),
# on MODEL ($BIG for kills, $SMALL for injected faults), prefixed by $RUN
RUN=""
EXEC=""
MODEL=$BIG
cmd_convert() { $EXEC $RUN "$BINDIR/qwen-convert" -q "$MODEL" -o "$1"; }
cmd_split() { $EXEC $RUN "$BINDIR/qwen-convert" -q --split-max-tensors 12 "$BIG" -o "$1.gguf"; }
cmd_hf() { $EXEC $RUN "$BINDIR/qwen-convert" -q --force "$tmp/in.gguf" -o "$1"; }
cmd_quant() { $EXEC $RUN "$BINDIR/qwen-quant" -q -t 1 "$MODEL" -o "$1" --type Q4_K_M; }
cmd_dump() { $EXEC $RUN "$BINDIR/qwen-verify" run -t 1 "$MODEL" --tokens 1,2,3,4,5,6,7,8 --dump "$1" >/dev/null; }
CMDS="convert split hf quant dump"
if [ "$ROUNDS" -gt 0 ]; then KILLS=$CMDS; else KILLS="quant split"; fi

mkdir "$tmp/ref" "$tmp/old" "$tmp/run"
"$BINDIR/qwen-convert" -q "$SMALL" -o "$tmp/in.gguf"
for c in $KILLS; do
	if ! "cmd_$c" "$tmp/ref/$c" 2>"$tmp/err"; then
		notok "reference run of $c"; sed 's/^/#   /' "$tmp/err" | head -3; exit 0
	fi
done
# an older output of every target, different from the new one
"$BINDIR/qwen-convert" -q --outtype f32 $SMALL -o "$tmp/old/convert"
"$BINDIR/qwen-convert" -q --outtype f32 --split-max-tensors 12 "$BIG" -o "$tmp/old/split.gguf"
"$BINDIR/qwen-convert" -q --outtype f32 "$tmp/in.gguf" -o "$tmp/old/hf"
cp "$tmp/old/convert" "$tmp/old/quant"
cp "$tmp/old/convert" "$tmp/old/dump"
SPLITS=$(ls "$tmp/ref" | grep -c '^split-')

# state CMD: "old", "new" or "absent" for the run's target, else "BROKEN ..."
state() {
	case $1 in
	split)
		o=0; n=0; k=0
		for f in $(ls "$tmp/ref" | grep '^split-'); do
			k=$((k + 1))
			if cmp -s "$tmp/run/$f" "$tmp/old/$f"; then o=$((o + 1))
			elif cmp -s "$tmp/run/$f" "$tmp/ref/$f"; then n=$((n + 1)); fi
		done
		if [ "$o" = "$k" ]; then echo old
		elif [ "$n" = "$k" ]; then echo new
		elif [ $((o + n)) = "$k" ]; then echo "mixed $o old, $n new"
		else echo "BROKEN: $o old, $n new of $k"; fi ;;
	hf)
		if diff -r "$tmp/run/hf" "$tmp/old/hf" >/dev/null 2>&1; then echo old
		elif diff -r -x README.md "$tmp/run/hf" "$tmp/ref/hf" >/dev/null 2>&1; then echo new
		else echo "BROKEN: $(ls "$tmp/run/hf" | tr '\n' ' ')"; fi ;;
	*)
		if [ ! -e "$tmp/run/$1" ]; then echo absent
		elif cmp -s "$tmp/run/$1" "$tmp/old/$1"; then echo old
		elif cmp -s "$tmp/run/$1" "$tmp/ref/$1"; then echo new
		else echo "BROKEN: $(wc -c <"$tmp/run/$1") bytes"; fi ;;
	esac
}

# reset CMD: the run directory holds the old output of CMD
reset() {
	rm -rf "$tmp/run"; mkdir "$tmp/run"
	case $1 in
	split) cp "$tmp/old"/split-* "$tmp/run/" ;;
	hf) cp -r "$tmp/old/hf" "$tmp/run/hf" ;;
	*) cp "$tmp/old/$1" "$tmp/run/$1" ;;
	esac
}

# a random delay in [0, 0.9] s
delay() {
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	printf '0.%03d' $((r % 900))
}

# ---- 1. kills at random points ----
kill_round() { # CMD SIG
	reset "$1"
	t=$(delay)
	target="$tmp/run/$1"
	EXEC=exec # the background job is the tool itself, so the signal reaches it
	"cmd_$1" "$target" 2>"$tmp/err" &
	pid=$!
	EXEC=""
	sleep "$t"
	kill -s "$2" "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	s=$(state "$1")
	case "$s" in
	old|new) ;;
	mixed*) if [ "$2" != KILL ]; then s="BROKEN $s"; fi ;;
	esac
	left=$(temps "$tmp/run")
	if [ "${s#BROKEN}" != "$s" ] || { [ "$2" != KILL ] && [ "$left" != 0 ]; }; then
		notok "$1, SIG$2 after ${t}s: exit $rc, target $s, $left temporaries"
		sed 's/^/#   /' "$tmp/err" | head -3
		return
	fi
	# after SIGKILL: the next run completes and leaves no temporary
	if [ "$2" = KILL ] && { ! "cmd_$1" "$target" 2>"$tmp/err" ||
	   [ "$(state "$1")" != new ] || [ "$(temps "$tmp/run")" != 0 ]; }; then
		notok "$1: the run after SIGKILL did not complete cleanly"
		sed 's/^/#   /' "$tmp/err" | head -3
		return
	fi
	ok "$1, SIG$2 after ${t}s: exit $rc, target $s, $left temporaries"
}

if [ "$ROUNDS" -gt 0 ]; then
	for c in $CMDS; do
		for sig in KILL INT TERM; do
			i=0
			while [ $i -lt "$ROUNDS" ]; do kill_round "$c" "$sig"; i=$((i + 1)); done
		done
	done
else
	# make check: one random signal for two of the commands
	for c in $KILLS; do
		r=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
		case $((r % 3)) in 0) sig=KILL ;; 1) sig=INT ;; *) sig=TERM ;; esac
		kill_round "$c" "$sig"
	done
fi

# ---- 2. injected faults ----
# inject VARS... -- CMD: run CMD (a cmd_ name) on the small model with the
# injector; exit 4, a message naming the target (not a temporary), the target
# old, no temporary
inject() {
	vars=""
	while [ "$1" != -- ]; do vars="$vars $1"; shift; done
	shift
	reset "$1"
	what="$1 with$vars"
	RUN="env $vars LD_PRELOAD=$INJ"
	MODEL=$SMALL
	"cmd_$1" "$tmp/run/$1" 2>"$tmp/err"
	rc=$?
	RUN=""
	MODEL=$BIG
	s=$(state "$1")
	if [ "$rc" != 4 ]; then
		notok "$what: exit $rc, expected 4"; sed 's/^/#   /' "$tmp/err" | head -3
	elif [ "$s" != old ]; then
		notok "$what: target $s, expected the old one"
	elif [ "$(temps "$tmp/run")" != 0 ] || ls -A "$tmp/run" | grep -q 'tmp-'; then
		notok "$what: temporaries left: $(ls -A "$tmp/run" | tr '\n' ' ')"
	elif grep -q 'tmp-' "$tmp/err"; then
		notok "$what: the message names a temporary"; sed 's/^/#   /' "$tmp/err" | head -2
	else
		ok "$what: exit 4, the old target kept, nothing left ($(head -c 90 "$tmp/err"))"
	fi
}

# the size of each command's output on the small model, to fail its writes
# at the first byte, a third of the way, and the last byte
mkdir "$tmp/sm"
for c in $CMDS; do
	MODEL=$SMALL
	"cmd_$c" "$tmp/sm/$c" 2>/dev/null
	size=$(cat "$tmp/sm/$c" "$tmp/sm/$c"-* "$tmp/sm/$c"/* 2>/dev/null | wc -c)
	if [ "$ROUNDS" -gt 0 ]; then points="1 $((size / 3)) $((size - 1))"; else points=$((size / 3)); fi
	for n in $points; do
		inject QK_FAULT_WRITE_AFTER=$n -- $c
	done
done
MODEL=$BIG
if [ "$ROUNDS" -gt 0 ]; then all="quant convert dump hf split"; ks="1 2 $SPLITS"
else all="quant hf"; ks=2; fi
for c in $all; do
	inject QK_FAULT_FSYNC=1 -- $c
done
for c in $all; do
	[ "$c" = split ] || inject QK_FAULT_RENAME=1 -- $c
done
# a split set's publish fails at its 1st, 2nd, last rename (hard-link
# backups), and with no hard links (backups by rename: SPLITS renames first)
for k in $ks; do
	inject QK_FAULT_RENAME=$k -- split
	inject QK_FAULT_LINK=1 QK_FAULT_RENAME=$((SPLITS + k)) -- split
done

# ---- 3. a real full filesystem ----
if [ "$(id -u)" = 0 ] && mkdir "$tmp/small" && mount -t tmpfs -o size=4m tmpfs "$tmp/small" 2>/dev/null; then
	# the 2.4 MB of tensor data fit, the 8 MB file (a 150k-token vocabulary) does not:
	# ENOSPC half-way
	printf 'old' >"$tmp/small/x.gguf"
	expect 4 "$tmp/small/x.gguf: write failed: No space left on device" qwen-convert -q "$BIG" \
		-o "$tmp/small/x.gguf"
	if [ "$(cat "$tmp/small/x.gguf")" = old ] && [ "$(temps "$tmp/small")" = 0 ]; then
		ok "a full tmpfs: the old target kept, no temporary"
	else
		notok "a full tmpfs: target changed or temporaries left"; ls -A "$tmp/small" | sed 's/^/#   /'
	fi
	# the planned data do not fit: refused before any work
	head -c 3000000 /dev/zero >"$tmp/small/filler"
	expect 4 "$tmp/small/x.gguf: needs 2434336 bytes but its filesystem" qwen-convert -q "$BIG" \
		-o "$tmp/small/x.gguf"
	umount "$tmp/small"
else
	echo "skip - a real full filesystem needs root and tmpfs"
fi
