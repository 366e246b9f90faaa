# table.awk - the `make bench` table: every row the benchmark scripts wrote to
# $(BUILD)/bench/rows/*.tsv, as one Markdown table (the README's "Speed"
# section shows the latest). A row is one tab-separated line:
#   FIGURE  OURS  THEIRS  RATIO  UNIT  RSS_OURS_MB  RSS_THEIRS_MB  NOTE
# FIGURE names what was measured and the peer (e.g. "convert bf16 -t 2 vs
# cp+fsync (s)"); OURS and THEIRS are the figures from the same run (same
# input, same threads); RATIO is OURS / THEIRS; UNIT says whether lower (s)
# or higher (tokens/s, MB/s) is better; NOTE: the peer's command, load
# average. Any script under tests/bench/ may add a file of such rows.
#   awk -f tests/bench/table.awk build/bench/rows/*.tsv
BEGIN {
	FS = "\t"
	print "| figure | ours | theirs | ours / theirs | peak RSS ours / theirs (MB) | note |"
	print "| --- | ---: | ---: | ---: | ---: | --- |"
}
NF >= 7 {
	printf "| %s | %s | %s | %s | %s / %s | %s |\n", $1, $2, $3, $4, $6, $7, $8
	n++
}
END {
	if (!n)
		print "| (no rows: a benchmark was skipped) | | | | | |"
}
