/* gguf_set.h - a write plan written as one GGUF file or as a llama.cpp split
 * set, by qwen-convert and qwen-quant alike (gguf_set.c).
 *
 * The cuts are gguf-split's (formats/plan/plan_split.h), decided from the
 * plan's sizes before anything is written. Each split is a complete GGUF
 * written through its own gf_writer: the first holds every key/value, and
 * each holds split.no / split.tensors.count / split.count after them, the
 * bytes gguf-split writes when it splits the unsplit file. Finished splits
 * wait under temporary names and are renamed into place together
 * (qk_out_commit_set): a failure or an interrupt before that removes them
 * all and leaves an older set of the same name as it was. */
#ifndef CLI_GGUF_SET_H
#define CLI_GGUF_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../formats/base/err.h"
#include "../formats/container/gguf.h"
#include "../formats/plan/plan.h"

struct gguf_set {
	const struct wp_plan *plan;
	const char *out;               /* the file, or the name the splits are named after */
	size_t n_splits;               /* 1: a plain file */
	size_t *first;                 /* [n_splits + 1]: split k holds plan tensors
					* first[k] .. first[k + 1] - 1; NULL for 1 */
	char prefix[4096];             /* out without ".gguf" (split sets) */
};

/* Decide the files: limits of 0 mean none; both 0 (or a plan that fits)
 * give one plain file. QK_E_USAGE for an out that cannot name a set or
 * limits that make more files than a set holds. */
int gguf_set_plan(struct gguf_set *s, const struct wp_plan *p, const char *out,
		  uint64_t max_bytes, uint64_t max_tensors, qk_err *err);
void gguf_set_free(struct gguf_set *s);

/* The name of file k (0-based). */
int gguf_set_name(const struct gguf_set *s, size_t k, char *buf, size_t size, qk_err *err);

/* Before any work: every file may be written, and the filesystem has room
 * for the plan's data. */
int gguf_set_check(const struct gguf_set *s, qk_err *err);

/* Writes the key/values of the first file (split keys are added after). */
typedef int (*gguf_set_kv_fn)(void *ctx, struct gf_writer *w, qk_err *err);

struct gguf_set_opts {
	unsigned n_threads;
	bool progress;                 /* a progress bar on stderr */
	const char *label;             /* its label, or NULL */
	bool allow_nonfinite;
};

/* Write every file; sum gets the statistics of all. */
int gguf_set_write(const struct gguf_set *s, gguf_set_kv_fn kvs, void *kv_ctx,
		   const struct gguf_set_opts *o, struct wp_stats *sum, qk_err *err);

/* "<prog>: wrote FILE: N tensors, B bytes of data, file type T" (or the
 * first and last files of a set) on stderr. */
void gguf_set_report(const struct gguf_set *s, uint64_t bytes);

/* --dry-run: the files of a split set (nothing for one file): name, tensor
 * count, data bytes and first tensor of each. */
struct cJSON;
void gguf_set_print(FILE *f, const struct gguf_set *s);
/* The same as a JSON array "splits" added to o (nothing for one file). */
void gguf_set_json(struct cJSON *o, const struct gguf_set *s);

#endif
