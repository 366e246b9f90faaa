/* convert.h - the pieces of qwen-convert: the main flow (qwen-convert.c) and
 * what it prints: the --dry-run plan and the progress bar (convert_print.c). */
#ifndef CLI_CONVERT_H
#define CLI_CONVERT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../formats/plan.h"
#include "../formats/tokenizer.h"

/* The plan as --dry-run shows it: the key/values (tokenizer keys in
 * summary), then one line per tensor (name, type, ggml ne, bytes, why this
 * type, the source and its transform), then the totals. */
void convert_print_plan(FILE *f, const struct wp_plan *p, const struct wp_meta *md,
			const struct tk_vocab *v, const char *out);

/* Progress bar on stderr, redrawn only when the shown percentage changes;
 * convert_progress_end finishes its line. ctx: struct convert_progress. */
struct convert_progress {
	int last;                 /* last percentage drawn, -1 none */
};
void convert_progress(void *ctx, uint64_t done, uint64_t total);
void convert_progress_end(struct convert_progress *pr);

#endif
