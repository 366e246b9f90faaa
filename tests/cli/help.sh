#!/bin/sh
# The man page is the source of truth for options: every option named in
# man/qwen-X.1 appears in `qwen-X --help` and every option --help lists is in
# the man page.
BINDIR=${BINDIR:-bin}
n=0
for man in man/qwen-*.1; do
	n=$((n + 1))
	tool=$(basename "$man" .1)
	# options documented under .TP entries: the line after each .TP
	from_man=$(awk 'prev==".TP"{print} {prev=$0}' "$man" | sed 's/\\-/-/g' |
		grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u)
	from_help=$("$BINDIR/$tool" --help 2>&1 | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u)
	if [ -z "$from_man" ]; then
		echo "not ok - $tool: no options found in $man"
		continue
	fi
	missing_help=$(printf '%s\n' "$from_man" | grep -vxF -- "$from_help")
	missing_man=$(printf '%s\n' "$from_help" | grep -vxF -- "$from_man")
	if [ -n "$missing_help" ]; then
		echo "not ok - $tool: in man page but not in --help:" $missing_help
	else
		echo "ok - $tool: every man-page option is in --help"
	fi
	if [ -n "$missing_man" ]; then
		echo "not ok - $tool: in --help but not in the man page:" $missing_man
	else
		echo "ok - $tool: every --help option is in the man page"
	fi
done
if [ "$n" -ge 4 ]; then echo "ok - $n man pages"; else echo "not ok - only $n man pages, expected 4"; fi
exit 0
