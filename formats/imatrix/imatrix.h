/* imatrix.h - importance matrices: the files llama-imatrix writes and
 * llama-quantize --imatrix reads (llama.cpp as vendored by llama-cpp-python
 * 0.3.36: tools/imatrix/imatrix.cpp, common/imatrix-loader.cpp,
 * tools/quantize/quantize.cpp), read and written in both formats.
 *
 * An entry is the statistics of one weight matrix W (GGUF name, e.g.
 * "blk.0.attn_q.weight"), or of the n_mat stacked experts of one: for every
 * input column c of matrix m, the sum over the tokens that went through it
 * of x[c]^2 (x: W's input activation), and per matrix the token count.
 *
 * GGUF format (general.type "imatrix"): keys imatrix.datasets (array of
 * strings), imatrix.chunk_count and imatrix.chunk_size (u32); per entry, in
 * name order, the F32 tensors "<name>.in_sum2" (ne {n_cols, n_mat}) and
 * "<name>.counts" (ne {1, n_mat}), stored with ggml's n_dims (trailing 1s
 * dropped: 1-D for a dense matrix). Raw sums and counts. A GGUF file
 * without the three keys has no "metadata" and llama-quantize refuses it.
 * Tensors with other suffixes are ignored, as llama.cpp's loader does.
 *
 * Legacy .dat format (little-endian): i32 n_entries >= 1; per entry i32
 * name length, the name bytes, i32 ncall, i32 nval >= 1, nval f32 values
 * (sum / count * ncall, ncall = ceil(largest count / chunk_size); a matrix
 * with count 0 stores 1 * ncall); then optionally i32 chunk count, i32
 * dataset length and the dataset bytes. Entries with no data at all are not
 * written. Reading gives one "matrix" per entry (n_mat 1, n_cols = nval):
 * the format does not keep the expert count.
 *
 * A file is GGUF when it starts with "GGUF", else legacy (llama.cpp tries
 * GGUF first, then legacy). Every rule gives QK_E_INVALID with the file,
 * the entry or tensor, the value and what was expected; sizes are checked
 * against the bytes present before anything is allocated.
 */
#ifndef QK_IMATRIX_H
#define QK_IMATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"

#define IM_MAX_NAME 4096u /* bytes of a legacy entry name (ours; GGUF's are < 64) */

struct im_entry {
	char *name;                /* the weight's GGUF name */
	uint64_t n_cols;           /* input columns per matrix (the weight's ne[0]) */
	uint64_t n_mat;            /* matrices: 1, or the experts of a stacked tensor */
	float *sums;               /* [n_mat][n_cols] sums of x^2 (legacy: as stored) */
	int64_t *counts;           /* [n_mat] tokens per matrix (legacy: {ncall}) */
};

struct im_file {
	bool legacy;               /* read from / to be written as .dat */
	bool has_metadata;         /* GGUF: datasets, chunk_count and chunk_size present */
	uint32_t chunk_count;      /* chunks the statistics cover */
	uint32_t chunk_size;       /* tokens per chunk (legacy files: 0) */
	size_t n_datasets;
	char **datasets;           /* [n_datasets] the text files, in order */
	size_t n;
	struct im_entry *e;        /* [n] sorted by name (strcmp), names unique */
};

/* Read `path` (either format). On failure *f is empty. */
int im_load(struct im_file *f, const char *path, qk_err *err);
/* The same from memory; `name` is used in messages. */
int im_parse(struct im_file *f, const uint8_t *data, size_t size, const char *name,
	     qk_err *err);
/* Release everything f owns; f is left zeroed. Accepts NULL. */
void im_free(struct im_file *f);

/* The entry called `name`, or NULL. */
const struct im_entry *im_find(const struct im_file *f, const char *name);

/* The importance weights llama-quantize derives from entry e, into
 * out[n_mat * n_cols]: GGUF: each matrix's sums over its count, 1 where the
 * count is 0; legacy: the values over ncall (as stored when ncall is 0).
 * QK_E_INVALID naming the entry and column when a weight is not finite
 * (llama-quantize refuses such a file). */
int im_weights(const struct im_file *f, const struct im_entry *e, float *out, qk_err *err);

/* Add entry `name` with n_mat x n_cols zero sums and counts (sorted
 * insertion; QK_E_USAGE if it exists). *out points at it until the next add. */
int im_add(struct im_file *f, const char *name, uint64_t n_cols, uint64_t n_mat,
	   struct im_entry **out, qk_err *err);
/* Append a dataset name (copied). */
int im_add_dataset(struct im_file *f, const char *dataset, qk_err *err);

/* Write f as llama-imatrix does, through outfile.h (the target appears only
 * complete): GGUF (every entry), or legacy .dat (needs chunk_size >= 1;
 * entries whose counts are all 0 are left out, as llama-imatrix does). */
int im_write_gguf(const struct im_file *f, const char *path, qk_err *err);
int im_write_dat(const struct im_file *f, const char *path, qk_err *err);

#endif
