/* model.h - a model: the tensors of a catalog bound to the roles of its
 * architecture (arch.h).
 *
 * qk_model_bind checks that every catalog tensor is claimed by exactly one
 * role (or is a known-ignored buffer such as "rotary_emb.inv_freq"), that
 * every required role is present, and that each tensor has the shape the
 * hyperparameters give it and a dtype its role allows. Names are HF names
 * for safetensors catalogs and GGUF names for GGUF catalogs.
 *
 * Matrices are read through *matrix views*: a logical [rows x cols] matrix
 * made of row ranges of source tensors. Stacked experts (per-expert or fused
 * gate_up tensors), Qwen1's fused c_attn split into q/k/v, and Qwen3-Next's
 * in_proj_qkvz regrouped into attn_qkv + attn_gate are all row-range views;
 * nothing is copied to build them. A stacked expert role [n_expert, r, c] is
 * one view of n_expert * r rows: expert e owns rows [e*r, (e+1)*r).
 *
 * Small tensors (norms, biases, ssm_a, dt bias, conv kernels, the shared
 * expert gate) are loaded at bind time into canonical fp32 arrays. The
 * canonical form is the GGUF form, computed in fp32:
 *   - ssm_a = -exp(A_log) (expf of the fp32-widened A_log). -exp is not
 *     invertible bit for bit, so a GGUF -> HF conversion recovers A_log only
 *     up to rounding; from a GGUF made of the same HF checkpoint the bits
 *     agree when the writer's exp rounds like the host's expf.
 *   - Qwen3-Next zero-centred norms hold the effective scale 1 + w (fp32 add
 *     of the widened w), what a GGUF file stores; the forward pass multiplies
 *     by the array as it is, for every arch.
 *   - ssm_conv1d is [conv_dim, d_conv] (the HF [conv_dim, 1, d_conv] squeezed).
 *   - ffn_gate_inp_shexp is [n_embd] values, whether stored [1, n_embd] or [n_embd].
 *
 * Layers: 0 .. hp.n_layer-1 are the model's; when a Qwen3-Next safetensors
 * checkpoint holds MTP tensors ("mtp.*") and the config has
 * mtp_num_hidden_layers > 0, or a GGUF file in llama.cpp's nextn layout has
 * nextn_predict_layers > 0 (hparams.h), its MTP layers are bound as layers
 * n_layer .. n_layer + n_mtp - 1 (full attention, MoE; GGUF blocks of those
 * numbers) and its MTP globals under the QK_R_MTP_* roles (GGUF:
 * blk.<n_layer>.nextn.*). Their gguf_name is "" (plan.h names them) and
 * they do not count as parameters.
 *
 * Ownership: the model points into the catalog (tensor data, names); the
 * catalog must outlive it. The model owns its bindings, views and fp32
 * arrays until qk_model_free.
 *
 * Errors (qk_model_bind): QK_E_INVALID for a missing required tensor, a
 * tensor no role claims, two tensors holding the same role (both expert
 * layouts), a shape other than the one the hyperparameters give (the message
 * names the tensor, the shape found, the shape expected and the config.json
 * values behind it) and a dtype the role cannot hold (an integer matrix, a
 * norm that is not F32/F16/BF16) and for hyperparameters the tables cannot
 * use (no experts for a MoE layer, ...); QK_E_NOMEM. Messages start with the file (or input path) when the catalog
 * has one.
 */
#ifndef QK_MODEL_H
#define QK_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "../container/catalog.h"
#include "../base/err.h"
#include "hparams.h"

enum qk_form {
	QK_FORM_HF = 0,  /* safetensors names and forms (A_log, w, unstacked experts) */
	QK_FORM_GGUF,    /* GGUF names and forms (ssm_a, w+1, stacked experts) */
};

/* A row range of a source tensor, seen as [rows, cols] with cols its last
 * dimension. */
struct qk_piece {
	const struct qk_tensor *t;  /* source, in the catalog */
	uint64_t row0;              /* first source row */
	uint64_t n_rows;            /* rows taken */
	uint64_t start;             /* first view row this piece provides */
	uint64_t row_bytes;         /* bytes per source row (the row stride) */
	int dtype;                  /* enum qk_dtype of the source */
	uint64_t tcol0;             /* transposed view: view row start + k is source
				     * column tcol0 + k of source rows [row0, row0 +
				     * view cols) */
};

struct qk_view {
	uint64_t rows, cols;        /* logical [rows x cols] */
	size_t n_pieces;
	struct qk_piece *pieces;    /* [n_pieces], in view row order */
	/* column reorder (0, 0: none): the columns are a * b blocks of
	 * cols / (a * b); logical block x*a + y (x < b, y < a) is source block
	 * y*b + x. Set for Qwen3.5's out_proj read from HF (a = key heads, b =
	 * value heads per key head). qk_view_row_data returns NULL for such a
	 * view; read it with qk_view_read_row. */
	uint32_t cperm_a, cperm_b;
	/* pieces read transposed (released Qwen3-VL-MoE experts; F32/F16/BF16
	 * sources only): qk_view_row_data returns NULL, qk_view_read_row
	 * gathers the column */
	bool transposed;
};

struct qk_binding {
	int role;                   /* enum qk_role */
	int layer;                  /* -1 for a global role */
	int form;                   /* enum qk_form of the source */
	int xform;                  /* enum qk_xform still to apply to reach GGUF form
				     * (QK_X_NONE for GGUF sources; small tensors are
				     * already canonical = GGUF form in f32) */
	bool derived;               /* a view onto a tensor bound under another role */
	bool mtp;                   /* an MTP tensor */
	const struct qk_role_row *row; /* the table row */
	const struct qk_tensor *src;   /* first source tensor */
	char gguf_name[64];         /* its name in a GGUF file; "" if not written */
	int n_dims;
	uint64_t shape[QK_SHAPE_MAX]; /* logical (GGUF-form) shape, row-major */
	struct qk_view view;        /* matrices (small tensors: empty) */
	float *f32;                 /* small: [n_f32] canonical values, owned; else NULL */
	uint64_t n_f32;
};

/* What claimed catalog tensor i (qk_model.claims[i]). */
struct qk_claim {
	int role;                   /* enum qk_role; -1 for an ignored name */
	int layer;                  /* -1 for a global role */
	int expert;                 /* per-expert tensor's expert, else -1 */
	bool mtp;
};

struct qk_model {
	struct qk_hparams hp;       /* copy of the bound hparams */
	const struct qk_catalog *cat;
	const struct qk_arch_table *table;
	int form;                   /* enum qk_form */
	uint32_t n_mtp;             /* MTP layers bound (0: none in the checkpoint) */
	uint32_t n_layer_all;       /* hp.n_layer + n_mtp */
	bool tied;                  /* no output tensor: the output is token_embd */
	bool hf_nested;             /* HF names nested under the table's hf_nest
				     * ("model.language_model.") */
	size_t n_vision;            /* tensors claimed as QK_R_VISION or QK_R_PROJECTOR */
	size_t n_bind;
	struct qk_binding *bind;    /* [n_bind] globals, then layer by layer */
	struct qk_claim *claims;    /* [cat->n_tensors] */
	/* private */
	int32_t *index;             /* [(n_layer_all + 1) * QK_ROLE_COUNT] -> bind or -1 */
	size_t cap_bind;
};

/* Bind catalog tensors to the roles of hp->arch. On failure *m is left
 * empty (safe to qk_model_free). */
int qk_model_bind(struct qk_model *m, const struct qk_catalog *cat,
		  const struct qk_hparams *hp, qk_err *err);
/* Free what the model owns; accepts NULL and an empty model. */
void qk_model_free(struct qk_model *m);

/* The binding of a role at a layer (-1 for global roles); NULL if the role is
 * absent there (an optional tensor, a role of another layer kind). */
const struct qk_binding *qk_model_get(const struct qk_model *m, int role, int layer);
/* The catalog tensor behind a role: for per-expert sources the tensor of
 * `expert`, otherwise the (first) source (expert ignored). NULL if absent. */
const struct qk_tensor *qk_model_tensor(const struct qk_model *m, int role, int layer,
					int expert);
/* QK_LAYER_* flags of a layer (MTP layers: full attention, MoE if the model
 * has experts); 0 out of range. */
unsigned qk_model_layer_flags(const struct qk_model *m, uint32_t layer);

/* Parameters of the main model (MTP excluded; a tied output counts once).
 * active = what one token uses: of the routed experts only n_expert_used of
 * n_expert count; shared experts and everything else count in full. */
void qk_model_n_params(const struct qk_model *m, uint64_t *total, uint64_t *active);

/* Parameter counts by part. text: the main model (a tied output counted
 * once); vision: the vision tower's tensors (encoder and projector);
 * projector: the part of vision that is the merger(s) to the text width;
 * mtp: the MTP layers and head;
 * active: what one token uses of text (of the routed experts only
 * n_expert_used of n_expert count); active_mtp: the same for the MTP part. */
struct qk_param_counts {
	uint64_t text, vision, projector, mtp, active, active_mtp;
};
void qk_model_param_counts(const struct qk_model *m, struct qk_param_counts *pc);

/* Raw bytes of view row `row` (row_bytes of its piece); *dtype gets its dtype.
 * NULL if row >= v->rows, the view reorders columns or the row's source is a
 * pre-quantized storage (pq.h). */
const uint8_t *qk_view_row_data(const struct qk_view *v, uint64_t row, int *dtype);
/* View row `row` as v->cols fp32 values in out: F32/F16/BF16 exactly, ggml
 * quantized types through their dequantizer, a pre-quantized storage (a
 * tensor whose `pq` is set: FP8 with scales, GPTQ, ...) through pq_read_row. QK_E_UNSUPPORTED naming the
 * dtype when there is none; QK_E_USAGE for a row out of range. */
int qk_view_read_row(const struct qk_view *v, uint64_t row, float *out, qk_err *err);

/* ---- values (model_check.c) ----
 *
 * Non-finite weights (NaN, +-Inf) are refused by every tool, QK_E_INVALID
 * naming the tensor and its first bad element, unless the user allows them
 * (to inspect a broken model). The message ends with QK_NONFINITE_REFUSED so
 * that a tool can add how to allow them. */
#define QK_NONFINITE_REFUSED "non-finite weights are refused"
/* Index of the first non-finite value of x[0..n) into *first; false if none. */
bool qk_first_nonfinite(const float *x, uint64_t n, uint64_t *first);
/* The same on n raw little-endian F32/F16/BF16 values at p (any alignment),
 * by their bits, without widening: 1 (found, *first set), 0 (none), -1 for
 * any other dtype. */
int qk_first_nonfinite_raw(int dtype, const uint8_t *p, uint64_t n, uint64_t *first);
/* The refusal for value v at (row, col) of a [rows x cols] tensor. */
int qk_err_nonfinite(qk_err *err, const char *tensor, uint64_t rows, uint64_t cols, uint64_t row,
		     uint64_t col, float v);
/* Every matrix computable (its dtype has a dequantizer: F8, F4, ... are
 * QK_E_UNSUPPORTED naming the tensor) and, with `finite`, every value of
 * every bound tensor finite, in binding order. Reads the whole model once. */
int qk_model_check_values(const struct qk_model *m, bool finite, qk_err *err);

#endif
