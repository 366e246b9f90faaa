/* vis_priv.h - what the parts of the vision pass share (private to ref/).
 *
 * vis_grid.c turns the grid into index tables (patch positions, Qwen2.5-VL's
 * window order, attention segments, Qwen3-VL's position-table taps);
 * vis_block.c computes one vision block and the mergers; vis_core.c drives
 * the pass and owns the buffers.
 */
#ifndef RF_VIS_PRIV_H
#define RF_VIS_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "fwd_priv.h"
#include "vis.h"

/* The index tables of one run. The pass works on patch rows in *working
 * order*: the input order, except Qwen2.5-VL's, where the merge units
 * (m^2 consecutive patches) are reordered window by window as transformers
 * does (get_vision_window_index); unit j of the working order is input unit
 * perm[j]. */
struct vis_grid {
	size_t n_patch;       /* N */
	size_t unit;          /* m^2 patches per merged token */
	size_t n_unit;        /* N / unit */
	uint32_t *hpos, *wpos;/* [N] row and column of each input patch in its frame */
	size_t *perm;         /* [n_unit] working unit -> input unit */
	size_t *seg_full;     /* [n_full + 1] frame boundaries (patch rows) */
	size_t n_full;
	size_t *seg_win;      /* [n_win + 1] window boundaries in working order, or NULL */
	size_t n_win;
	size_t max_seg;       /* the longest segment (patches) */
	/* Qwen3-VL: per input patch 4 taps into the position table and their
	 * weights (h taps outer, w taps inner) */
	uint32_t *tap;        /* [N, 4] or NULL */
	float *tapw;          /* [N, 4] or NULL */
};

int vis_grid_build(const struct rf_vis_hparams *hp, const uint32_t (*grid)[3], size_t n_img,
		   struct vis_grid *g, qk_err *err);
void vis_grid_free(struct vis_grid *g);

/* the state of one pass */
struct vis_ctx {
	struct rf_ctx rc;              /* the matmul context (threads, kernels, buffers) */
	const struct rf_vis_model *vm;
	const struct vis_grid *g;
	float *rope_cos, *rope_sin;    /* [N, head_dim / 2] in working order */
};

/* one block on x [N, E] (working order), in place; a, b, c are work buffers
 * [N, max(E, n_ff)] each; att [3, N, E] */
int vis_block(struct vis_ctx *c, int l, float *x, float *a, float *b, float *t, float *att,
	      qk_err *err);
/* a merger on x [N, E] (working order): y [n_unit, out_dim]; work [n_unit,
 * m^2 E] twice */
int vis_merger(struct vis_ctx *c, const struct rf_vis_merger *mg, bool postshuffle,
	       const float *x, float *y, float *w1, float *w2, qk_err *err);
/* y = x W^T + b for T rows; checks the matrix shape (what names it) */
int vis_linear(struct vis_ctx *c, const struct rf_vis_mat *m, const float *x, size_t T,
	       size_t n_in, size_t n_out, float *y, const char *what, int layer, qk_err *err);

#endif
