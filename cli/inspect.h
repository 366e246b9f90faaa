/* inspect.h - the pieces of qwen-inspect, one file each: hyperparameter
 * tables (inspect_hparams.c), the summary and tensor list
 * (inspect_summary.c), statistics (inspect_stats.c) and diff (inspect_diff.c). */
#ifndef CLI_INSPECT_H
#define CLI_INSPECT_H

#include <stdbool.h>
#include <stdio.h>

#include <cJSON.h>

#include "../formats/catalog.h"
#include "../formats/hparams.h"
#include "../formats/model.h"

struct inspect_opts {
	bool tensors;          /* --tensors */
	bool stats;            /* --stats */
	const char *pattern;   /* --stats=PATTERN, NULL = all */
	bool json;             /* --json */
};

/* An opened input: catalog, hyperparameters and bound model. */
struct inspect_input {
	struct qk_catalog cat;
	struct qk_hparams hp;
	struct qk_model model;
	bool model_bound;
};

int inspect_open(struct inspect_input *in, const char *path, qk_err *err);
void inspect_close(struct inspect_input *in);

/* Hyperparameters: text lines, or a JSON object (NULL on out of memory). */
void inspect_hparams_text(FILE *f, const struct qk_hparams *hp);
cJSON *inspect_hparams_json(const struct qk_hparams *hp);
/* "layers: 0-2 linear attention, 3 full attention, ..." */
void inspect_layers_text(FILE *f, const struct qk_hparams *hp);
cJSON *inspect_layers_json(const struct qk_hparams *hp);

int inspect_summary(const struct inspect_input *in, const struct inspect_opts *o, qk_err *err);
int inspect_diff(const struct inspect_input *a, const struct inspect_input *b,
		 const struct inspect_opts *o, qk_err *err);

/* Print a cJSON object to stdout and free it; QK_E_NOMEM if printing fails. */
int inspect_emit_json(cJSON *root, qk_err *err);

#endif
