/* vis.h - the deterministic fp32 reference pass of the Qwen vision towers
 * (vision encoder + projector): Qwen2-VL, Qwen2.5-VL, Qwen3-VL (dense and
 * MoE) and Qwen3.5 / 3.6, whose checkpoints carry a Qwen3-VL tower.
 *
 * Input: pixel rows as the image processors lay them out, one row of
 * in_ch * tpatch * patch * patch values per patch ([C][T][P][P], the Conv3d
 * kernel's order), frame by frame, each frame's patches in merge-block order
 * (m x m blocks row by row, each block row by row: transformers'
 * get_vision_position_ids), and image_grid_thw (t, h, w) per image. Output:
 * the merged image embeddings [n_patch / m^2, out_dim] (the projector's
 * output, the rows the text model puts at its image tokens), Qwen3-VL's
 * deepstack features (same shape, one per deepstack_visual_indexes entry),
 * and optionally the patch embedding and every block's output.
 *
 * The math (transformers 5.23, modeling_qwen2_vl.py, modeling_qwen2_5_vl.py,
 * modeling_qwen3_vl.py, vision_utils.py; the formulas of vis_*.c):
 *   x = pixels W_patch^T (+ b_patch: Qwen3-VL)               [N, E]
 *   Qwen3-VL: x += the learned [s x s] position table, resampled to the
 *     frame's h x w grid (bilinear, corners aligned), per patch
 *   2-D rotary embedding per head (head_dim d): pairs j < d/4 rotate by
 *     h * theta^(-4j/d), pairs d/4 <= j < d/2 by w * theta^(-4(j - d/4)/d),
 *     rotate-half over the whole head (h, w the patch's row and column)
 *   per block: x += Attn(Norm1(x)); x += MLP(Norm2(x))
 *     Attn: softmax(q k^T / sqrt(d)) v per head, without a causal mask,
 *       within a segment: one frame (Qwen2-VL, Qwen3-VL, Qwen2.5-VL's
 *       fullatt_block_indexes), else one window of Qwen2.5-VL (w x w merged
 *       tokens, w = window_size / merge / patch, the grid cut into windows
 *       from the top left; edge windows are smaller)
 *     Norm: LayerNorm with bias (Qwen2-VL, Qwen3-VL), RMSNorm (Qwen2.5-VL),
 *       eps 1e-6
 *     MLP: fc2(act(fc1 x)) (Qwen2-VL quick_gelu, Qwen3-VL gelu tanh),
 *       down(silu(gate x) * up x) (Qwen2.5-VL), every projection with bias
 *   merger: Norm per patch (E), then the m^2 patches of a block concatenated
 *     (m^2 E), fc2(GELU_erf(fc1 .)); a deepstack merger (after block
 *     deepstack_visual_indexes[k]) concatenates first and norms the m^2 E
 *     values (LayerNorm)
 *
 * Numerics: ref/README.md's contract. Every weight product is rf_matmul's
 * canonical dot product; norms sum in the 8-lane canonical order; softmax
 * and attention-weighted sums run in key order; threads split output
 * elements only. Same bits for any thread count, -O level and SIMD path.
 *
 * Errors: QK_E_USAGE for a grid that does not fit (a zero or non-multiple-
 * of-merge dimension, a patch count other than the grid's, sizes past the
 * limits below) or a thread count out of range; QK_E_INVALID for a model
 * whose tensors disagree with its hyperparameters; QK_E_UNSUPPORTED for a
 * weight dtype with no conversion to fp32; QK_E_NOMEM.
 */
#ifndef RF_VIS_H
#define RF_VIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../formats/base/err.h"
#include "../formats/model/model.h"
#include "../formats/model/vision.h"

enum rf_vis_kind {
	RF_VIS_QWEN2VL = 1,  /* Qwen2VLForConditionalGeneration */
	RF_VIS_QWEN25VL,     /* Qwen2_5_VLForConditionalGeneration */
	RF_VIS_QWEN3VL,      /* Qwen3-VL, Qwen3-VL-MoE, Qwen3.5 / 3.6 */
};

enum rf_vis_act {
	RF_VIS_ACT_QUICK_GELU = 1, /* x * sigmoid(1.702 x) */
	RF_VIS_ACT_SILU,           /* x * sigmoid(x) */
	RF_VIS_ACT_GELU_TANH,      /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
	RF_VIS_ACT_GELU,           /* 0.5 x (1 + erf(x / sqrt(2))) */
};

#define RF_VIS_MAX_LAYERS 256   /* vision blocks */
#define RF_VIS_MAX_DIM 65536u   /* n_embd, n_ff, out_dim, patch values */
#define RF_VIS_MAX_SIDE 4096u   /* a grid's t, h or w */
#define RF_VIS_MAX_PATCHES (1u << 22) /* patches of one run */
#define RF_VIS_MAX_IMAGES 4096u /* grids of one run */

struct rf_vis_hparams {
	int kind;                /* enum rf_vis_kind */
	int act;                 /* enum rf_vis_act of the blocks' MLP */
	uint32_t n_embd;         /* E: vision width */
	uint32_t n_ff;           /* MLP width */
	uint32_t n_head;         /* heads; head_dim = E / n_head, a multiple of 4 */
	uint32_t n_layer;        /* blocks */
	uint32_t patch, tpatch;  /* patch side (pixels), frames per patch */
	uint32_t in_ch;          /* channels */
	uint32_t merge;          /* m: spatial_merge_size */
	uint32_t out_dim;        /* projector output width (the text width) */
	uint32_t n_pos;          /* Qwen3-VL: learned positions, a square s^2 */
	uint32_t window;         /* Qwen2.5-VL: window_size in pixels */
	float eps;               /* norm epsilon (1e-6 in every family) */
	float rope_theta;        /* 10000 */
	bool full[RF_VIS_MAX_LAYERS];    /* Qwen2.5-VL: full attention in block l */
	int16_t deep[RF_VIS_MAX_LAYERS]; /* deepstack merger run after block l, or -1 */
	uint32_t n_deep;         /* deepstack mergers */
};

/* a weight matrix: rows [row0, row0 + rows) of view w (a third of a fused
 * qkv, or the whole view) and its bias [rows] (NULL: none) */
struct rf_vis_mat {
	struct qk_view w;
	uint64_t row0, rows;
	const float *b;
};

struct rf_vis_block {
	const float *n1_w, *n1_b;   /* [E]; b NULL for RMSNorm */
	const float *n2_w, *n2_b;   /* [E] */
	struct rf_vis_mat q, k, v;  /* [E x E] */
	struct rf_vis_mat o;        /* [E x E] */
	struct rf_vis_mat up;       /* [n_ff x E]: fc1 (Qwen2-VL, Qwen3-VL), up_proj */
	struct rf_vis_mat gate;     /* [n_ff x E]: Qwen2.5-VL gate_proj, else empty */
	struct rf_vis_mat down;     /* [E x n_ff]: fc2, down_proj */
};

struct rf_vis_merger {
	const float *n_w, *n_b;     /* [E] (m^2 E for a deepstack merger); b NULL: RMSNorm */
	struct rf_vis_mat fc1;      /* [m^2 E x m^2 E] */
	struct rf_vis_mat fc2;      /* [out_dim x m^2 E] */
};

/* A vision tower bound to its weights. rf_vis_from_vs (vis_load.c) fills it
 * and owns what it allocates; rf_vis_model_free releases that. */
struct rf_vis_model {
	struct rf_vis_hparams hp;
	struct rf_vis_mat patch;    /* [E x in_ch * tpatch * patch * patch] */
	const float *pos;           /* [n_pos, E] or NULL (Qwen3-VL only) */
	struct rf_vis_block *blk;   /* [n_layer] */
	struct rf_vis_merger merger;
	struct rf_vis_merger *deep; /* [n_deep] */
	/* private: owned allocations; the small fp32 arrays and their tensors */
	void **owned;
	size_t n_owned, cap_owned;
	struct rf_vis_small {
		const char *name;   /* the tensor's name (in the catalog) */
		const float *v;     /* [n] */
		uint64_t n;
	} *smalls;
	size_t n_smalls, cap_smalls;
};

void rf_vis_model_free(struct rf_vis_model *vm);

/* Every weight finite (NaN and infinities are refused by every tool unless
 * the user allows them): QK_E_INVALID naming the tensor and its first bad
 * element (model.h, qk_err_nonfinite), QK_E_UNSUPPORTED for a dtype that
 * cannot be read, QK_E_NOMEM. */
int rf_vis_check_finite(const struct rf_vis_model *vm, qk_err *err);

/* The tower of vs (formats/model/vision.h: an HF checkpoint's or an mmproj
 * GGUF's vision tensors, bound), which must outlive vm: vis_load.c. For
 * Qwen2.5-VL without a window_size (an mmproj stores none) the window is
 * llama.cpp's 112 pixels and *window_assumed (may be NULL) is set.
 * QK_E_INVALID naming the role and block that is missing or has another
 * size, QK_E_NOMEM. On failure *vm is empty. */
int rf_vis_from_vs(struct rf_vis_model *vm, const struct vs_model *vs, bool *window_assumed,
		   qk_err *err);

struct rf_vis_opts {
	unsigned n_threads;   /* 1 .. 256; 0 means 1 */
	bool simd;            /* the AVX2 / AVX-512 kernels where the CPU has them (same bits) */
	bool no_avx512;       /* with simd: AVX2 even where AVX-512 exists (same bits) */
	bool keep_blocks;     /* fill rf_vis_out.patch and .blocks */
};
/* one thread, simd on, no block outputs */
void rf_vis_opts_init(struct rf_vis_opts *o);

struct rf_vis_out {
	size_t n_patch;       /* N */
	size_t n_tok;         /* N / m^2 */
	uint32_t n_embd, out_dim, n_layer, n_deep;
	float *embd;          /* [n_tok, out_dim], owned: the merger's output, in patch order */
	float *deep;          /* [n_deep, n_tok, out_dim] or NULL, owned */
	float *patch;         /* [N, E] or NULL (keep_blocks), owned: block input */
	float *blocks;        /* [n_layer, N, E] or NULL (keep_blocks), owned: block outputs in
			       * patch order */
	bool simd;            /* whether the SIMD kernels ran */
};
void rf_vis_out_free(struct rf_vis_out *out);

/* Run the tower on pixels [n_patch, in_ch * tpatch * patch^2] of n_img
 * images, grid [n_img][3] = (t, h, w) in patches. On failure *out is empty. */
int rf_vis_run(const struct rf_vis_model *vm, const float *pixels, size_t n_patch,
	       const uint32_t (*grid)[3], size_t n_img, const struct rf_vis_opts *o,
	       struct rf_vis_out *out, qk_err *err);

/* The hyperparameters' own consistency (head_dim a multiple of 4, sizes within
 * the limits, window a multiple of merge * patch, deepstack indexes in
 * range); QK_E_INVALID naming the field. */
int rf_vis_check_hparams(const struct rf_vis_hparams *hp, qk_err *err);

/* A grid list as a user writes it: "T,H,W" per image, images separated by
 * ';', each number decimal digits only, 1 .. RF_VIS_MAX_SIDE, at most
 * RF_VIS_MAX_IMAGES images. *grid gets [*n_img] triples (malloc'd; the
 * caller frees it). QK_E_USAGE naming `what` (the option), the text and the
 * image; QK_E_NOMEM. */
int rf_vis_parse_grid(const char *s, const char *what, uint32_t (**grid)[3], size_t *n_img,
		      qk_err *err);

/* Grid checks alone (what rf_vis_run refuses first): *n_patch gets the patch
 * count the grid needs. */
int rf_vis_check_grid(const struct rf_vis_hparams *hp, const uint32_t (*grid)[3],
		      size_t n_img, size_t *n_patch, qk_err *err);

#endif
