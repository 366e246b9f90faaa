/* imat.h - llama-imatrix's statistics from the reference pass.
 *
 * A collector is the rf_opts.on_matmul observer of forward.h: for every
 * matrix multiply of a weight whose GGUF name starts with "blk." (and of
 * "output.weight" with process_output), as llama-imatrix's collect_imatrix
 * does, it adds each input row's squares to the entry's per-column sums and
 * the number of rows to its count:
 *   sums[e][c] += x[t][c]^2 (fp32, rows in order), counts[e] += T
 * e is the expert: a multiply over rows [row0, row0 + n_rows) of a stacked
 * expert tensor with R rows is expert row0 / n_rows of R / n_rows (so the
 * router decides the counts, as llama.cpp's MUL_MAT_ID ids do); any other
 * multiply is matrix 0 of 1. Consecutive multiplies of one weight with the
 * same input (a fused tensor that the pass runs as several row views) count
 * once, as llama.cpp runs them as one. Weights the pass reads through a
 * view of another tensor that has no GGUF name of its own are not seen.
 *
 * The result is an im_file (formats/imatrix/imatrix.h) that the caller
 * fills with the chunk count, chunk size and datasets and writes.
 */
#ifndef RF_IMAT_H
#define RF_IMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "../formats/imatrix/imatrix.h"
#include "../formats/model/model.h"
#include "forward.h"

struct ri_collect {
	const struct qk_model *m;
	bool process_output;       /* also output.weight (llama-imatrix --process-output) */
	struct im_file f;          /* the entries so far */
	const char *prev_name;     /* the last multiply counted: name, input, rows, expert */
	const float *prev_x;
	size_t prev_T;
	uint64_t prev_e;
	int rc;                    /* first error (then nothing more is counted) */
	qk_err err;
};

/* An empty collector over model m. */
void ri_init(struct ri_collect *c, const struct qk_model *m, bool process_output);
/* The observer: pass it as rf_opts.on_matmul with the collector as user. */
void ri_on_matmul(void *user, const struct rf_mm *mm);
/* Release what c owns (the entries); c is left zeroed. */
void ri_free(struct ri_collect *c);

#endif
