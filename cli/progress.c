/* progress.c - the progress bar of the tools that write files; see common.h. */
#include "common.h"

#include <inttypes.h>
#include <stdio.h>

void cli_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *pr = ctx;
	const int width = 40;
	int pct = total ? (int)(done * 100 / total) : 100, fill;

	if (pct == pr->last)
		return;
	pr->last = pct;
	fill = pct * width / 100;
	fprintf(stderr, "\r%s%s[%.*s%*s] %3d%% %" PRIu64 "/%" PRIu64 " MiB",
		pr->label ? pr->label : "", pr->label ? " " : "", fill,
		"########################################", width - fill, "", pct, done >> 20,
		total >> 20);
	fflush(stderr);
}

void cli_progress_end(struct cli_progress *pr)
{
	if (pr->last >= 0)
		fputc('\n', stderr);
	pr->last = -1;
}
