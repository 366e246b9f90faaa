/* inspect.h - the pieces of qwen-inspect, one file each: hyperparameter
 * tables (inspect_hparams.c), the summary and tensor list
 * (inspect_summary.c), key/values (inspect_kv.c), statistics (inspect_stats.c)
 * and diff (inspect_diff.c). */
#ifndef CLI_INSPECT_H
#define CLI_INSPECT_H

#include <stdbool.h>
#include <stdio.h>

#include <cJSON.h>

#include "common.h"

#include "../formats/container/catalog.h"
#include "../formats/model/hparams.h"
#include "../formats/model/model.h"
#include "../formats/model/open.h"

struct inspect_opts {
	bool tensors;          /* --tensors */
	bool stats;            /* --stats */
	const char *pattern;   /* --stats=PATTERN, NULL = all */
	bool json;             /* --json */
	bool kv;               /* --kv */
	const char *tokenize;  /* --tokenize TEXT, NULL = none */
	bool no_special;       /* --no-special */
};


/* Hyperparameters: text lines, or a JSON object (NULL on out of memory). */
void inspect_hparams_text(FILE *f, const struct qk_hparams *hp);
cJSON *inspect_hparams_json(const struct qk_hparams *hp);
/* "layers: 0-2 linear attention, 3 full attention, ..." */
void inspect_layers_text(FILE *f, const struct qk_hparams *hp);
cJSON *inspect_layers_json(const struct qk_hparams *hp);

/* The summary of an input opened by qk_input_open_any; `why` says why it is
 * not a Qwen model when in->bound is false. */
int inspect_summary(const struct qk_input *in, const struct inspect_opts *o, const char *why,
		    qk_err *err);
/* --kv: the key/values of a GGUF input (safetensors: __metadata__), as text
 * in gguf-dump's line format, or into root["kv"] (inspect_kv.c). */
int inspect_kv_text(const struct qk_input *in, qk_err *err);
int inspect_kv_json(const struct qk_input *in, cJSON *root, qk_err *err);
/* --tokenize: the ids of `text` and each token's text (text lines, or a
 * JSON object {"n_tokens", "tokens": [{"id", "text" | "bytes"}]}), with the
 * model's tokenizer (inspect_tokenize.c). */
int inspect_tokenize(const struct qk_input *in, const char *text, bool parse_special, bool json,
		     qk_err *err);
/* Matrices stored quantized (formats/container/pq.h), grouped by storage:
 * text lines, root["quantized_storage"], and one storage as a JSON object
 * {"method", "storage", "bits", "block" | "group_size", "scale_dtype",
 * "bytes"} (inspect_pq.c). Nothing when the input has none. */
struct pq_store;
void inspect_pq_text(FILE *f, const struct qk_catalog *cat);
void inspect_pq_json(cJSON *root, const struct qk_catalog *cat);
cJSON *inspect_pq_store_json(const struct pq_store *s);
/* An mmproj GGUF (general.architecture "clip", formats/model/vision.h):
 * inspect_mmproj_open binds its vision tower (-1: not an mmproj; a QK_*
 * code with *why set: one that does not bind), then its summary lines or
 * its JSON members (architecture "clip", projector_type, n_params_vision,
 * n_params_projector, n_vision_tensors, vision_hparams) (inspect_mmproj.c). */
struct vs_model;
int inspect_mmproj_open(struct vs_model *vm, const struct qk_catalog *cat, qk_err *why);
void inspect_mmproj_text(FILE *f, const struct vs_model *vm);
void inspect_mmproj_json(cJSON *root, const struct vs_model *vm);
/* *same: every tensor paired and compared, every difference 0. */
int inspect_diff(const struct qk_input *a, const struct qk_input *b,
		 const struct inspect_opts *o, bool *same, qk_err *err);


#endif
