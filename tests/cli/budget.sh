#!/bin/sh
# testdata/ stays within its budget: 64,000,000 bytes in all (every file
# under testdata/ but Python caches), so a clone stays small and the
# fixtures stay tiny. When it fails: shrink or drop data, or generate it in
# make crosscheck instead of committing it.
LIMIT=64000000
total=$(find testdata -type f ! -path '*/__pycache__/*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
if [ "$total" -le "$LIMIT" ]; then
	echo "ok - testdata/ holds $total bytes, within $LIMIT ($((LIMIT - total)) left)"
else
	echo "not ok - testdata/ holds $total bytes, over the budget of $LIMIT; the largest:"
	find testdata -type f ! -path '*/__pycache__/*' -printf '%s %p\n' | sort -rn | head -5 | sed 's/^/#   /'
fi
