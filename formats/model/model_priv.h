/* model_priv.h - what model.c and model_view.c share; not a public API. */
#ifndef QK_MODEL_PRIV_H
#define QK_MODEL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define QK_NAME_BUF 256 /* longest name a pattern expands to, with room */

/* rows [row0, row0 + n) of a source tensor */
struct qk_range {
	uint64_t row0, n;
};

/* The row ranges selection `sel` (enum qk_sel) takes from tensor t seen as
 * [rows, cols]; writes them to out unless NULL; returns how many. The shape
 * has been checked against the row's rule, so the divisions are exact. */
size_t qk_sel_ranges(int sel, const struct qk_tensor *t, uint64_t rows,
		     const struct qk_hparams *hp, struct qk_range *out);

/* Load ranges of a small tensor (F32/F16/BF16) into b->f32 as canonical fp32,
 * applying b->row->xform when the source is in HF form. */
int qk_load_small(struct qk_binding *b, const struct qk_tensor *t,
		  const struct qk_range *rg, size_t n, uint64_t cols, bool hf_form,
		  qk_err *err);

/* "model.safetensors: " / "<input>: " / "" for messages about tensor t (NULL:
 * about the input). */
void qk_model_where(const struct qk_catalog *cat, const struct qk_tensor *t, char *buf,
		    size_t n);

/* The error for unclaimed tensor t (and `more` others), explaining what its
 * name looks like when it matches a pattern of the arch. */
int qk_unclaimed_error(const struct qk_model *m, const struct qk_tensor *t, size_t more,
		       qk_err *err);

/* Does this layer's fused expert tensor t (a row with QK_F_FUSED_T) come
 * transposed, as released Qwen3-VL-MoE checkpoints store it? Decided by
 * the shapes of the layer's fused tensors (model_vl.c). */
bool qk_fused_transposed(const struct qk_arch_table *tb, const struct qk_catalog *cat,
			 const struct qk_hparams *hp, bool nested, int layer,
			 const struct qk_tensor *t);

#endif
