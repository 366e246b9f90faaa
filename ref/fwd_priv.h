/* fwd_priv.h - what the parts of the forward pass share (private to ref/).
 *
 * fwd_core.c drives the layers and owns the buffers; fwd_attn.c (full
 * attention), fwd_gdn.c (Gated DeltaNet), fwd_ffn.c (dense SwiGLU and MoE)
 * each compute one block: input a [T, n_embd] (the normed residual stream),
 * output y [T, n_embd] (what the block adds to the stream).
 */
#ifndef RF_FWD_PRIV_H
#define RF_FWD_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "../formats/model/model.h"
#include "dot.h"
#include "forward.h"
#include "fwd_pool.h"

/* view rows widened together by one thread before their dot products
 * (fwd_mm.c; a multiple of 4). The block sizes never change a bit: tests
 * build with other values (-DRF_ROW_BLOCK=4, tests/cli/determinism.sh). */
#ifndef RF_ROW_BLOCK
#define RF_ROW_BLOCK 16
#endif

struct rf_ctx {
	const struct qk_model *m;
	const struct qk_hparams *hp;
	size_t T;                   /* tokens */
	struct rf_pool *pool;
	unsigned nt;                /* team size */
	struct rf_dot_impl dot;
	size_t max_cols;            /* widest matrix view of the model */
	float *rowbuf;              /* [nt, RF_ROW_BLOCK, max_cols] matmul rows */
	float *scratch;             /* [nt, scratch_per] per-thread work space */
	size_t scratch_per;
	int *trc;                   /* [nt] first error code per thread */
	qk_err *terr;               /* [nt] its message */
	float *rope_cos, *rope_sin; /* [T, n_rot / 2], built by the first attention layer */
	const int32_t *positions;   /* [3, T] M-RoPE streams (rf_opts) or NULL */
	bool with_mtp;              /* the MTP layers and head run too */
	rf_mm_fn on_matmul;         /* rf_opts.on_matmul and its user pointer */
	void *on_matmul_user;
};

/* the residual-stream buffers of a pass */
struct rf_bufs {
	float *x;   /* [T, n_embd] residual stream */
	float *a;   /* [T, n_embd] normed stream, block input */
	float *y;   /* [T, n_embd] block output */
};

/* a[t] = RMSNorm(x[t]) * w for t < c->T, w the fp32 array of a small role */
int rf_norm_rows(struct rf_ctx *c, int role, int layer, const float *x, float *a, qk_err *err);
/* x[t] = the token embedding of tokens[t], t < c->T */
int rf_embed(struct rf_ctx *c, const int32_t *tokens, float *x, qk_err *err);
/* one decoder layer on bf->x (attention or Gated DeltaNet, then the FFN) */
int rf_layer_pass(struct rf_ctx *c, struct rf_bufs *bf, int l, qk_err *err);
/* The MTP head over T tokens whose final normed hidden states are h [T,
 * n_embd]: logits [T - 1, n_vocab] (forward.h rf_out.mtp_logits). Uses bf
 * (each [T, n_embd]) as work space; c->T is restored on return. */
int rf_mtp_stage(struct rf_ctx *c, const int32_t *tokens, const float *h, struct rf_bufs *bf,
		 float *logits, qk_err *err);

/* The binding of a role at a layer; QK_E_INVALID naming the role and layer
 * when a required one is absent. */
int rf_need(const struct rf_ctx *c, int role, int layer, const struct qk_binding **b,
	    qk_err *err);
/* The fp32 array of an optional small role of n values, or NULL when absent;
 * QK_E_INVALID when present with another length. */
int rf_small(const struct rf_ctx *c, int role, int layer, uint64_t n, const float **v,
	     qk_err *err);

/* y[t, r] = W[row0 + r, :] . x[t, :] (+ bias[r]) for r < n_rows, t < T.
 * x: [T, W->cols]; y: [T, n_rows]; bias: [n_rows] or NULL. Rows are split
 * among the threads. */
int rf_matmul(struct rf_ctx *c, const struct qk_view *w, uint64_t row0, size_t n_rows,
	      const float *bias, const float *x, size_t T, float *y, qk_err *err);
/* one rf_matmul: threads run rf_mm_rows over output rows [0, n_rows)
 * (fwd_mm.c) */
struct rf_mm_task {
	struct rf_ctx *c;
	const struct qk_view *w;
	uint64_t row0;
	size_t n_rows, cols, T;
	const float *bias;          /* [n_rows] or NULL */
	const float *x;             /* [T, cols] */
	float *y;                   /* [T, n_rows] */
};
void rf_mm_rows(void *arg, size_t b, size_t e, unsigned tid);
/* The same for a whole bound matrix role, with its bias role (QK_ROLE_COUNT:
 * none) added when bound. */
int rf_linear(struct rf_ctx *c, int role, int bias_role, int layer, const float *x,
	      size_t n_in, float *y, size_t n_out, qk_err *err);

/* y = w * (x / sqrt(mean(x^2) + eps)) over n values (x and y may alias). The
 * sum of squares is the canonical dot product. */
void rf_rmsnorm(const struct rf_ctx *c, const float *x, const float *w, size_t n, float eps,
		float *y);

/* Gated DeltaNet's L2 normalisation of q and k heads, transformers'
 * l2norm(x, dim=-1, eps=1e-6) (modeling_qwen3_next.py):
 * x = x * (1 / sqrt(sum x^2 + RF_L2NORM_EPS)) over n values, in place; the
 * sum of squares is the canonical dot product. The epsilon is inside the
 * square root and is not rms_norm_eps. */
#define RF_L2NORM_EPS 1e-6f
void rf_l2norm(const struct rf_ctx *c, float *x, size_t n);

/* malloc of a * b floats (at least one); NULL on overflow or failure */
float *rf_floats(size_t a, size_t b);

/* Make sure each thread has `per` floats of scratch (rf_ctx.scratch). */
int rf_scratch(struct rf_ctx *c, size_t per, qk_err *err);

/* rotate-half over dims [0, 2 half) of each of n_heads heads (hd apart) of
 * x, one token: x[j] = x[j] cs[j] - x[j + half] sn[j], x[j + half] =
 * x[j + half] cs[j] + x[j] sn[j] for j < half (fwd_attn.c; the vision
 * pass's 2-D rotary uses it with half = hd / 2) */
void rf_rope_apply(float *x, size_t n_heads, size_t hd, size_t half, const float *cs,
		   const float *sn);

/* the blocks: a [T, n_embd] in, y [T, n_embd] out */
int rf_attn_block(struct rf_ctx *c, int layer, const float *a, float *y, qk_err *err);
int rf_gdn_block(struct rf_ctx *c, int layer, const float *a, float *y, qk_err *err);
int rf_ffn_block(struct rf_ctx *c, int layer, const float *a, float *y, qk_err *err);
int rf_moe_block(struct rf_ctx *c, int layer, const float *a, float *y, qk_err *err);


#endif
