/* fwd_mm.c - the blocked matmul kernel of rf_matmul (fwd_core.c, the one
 * place where a weight matrix meets activations): y[t, r] = W[row0 + r, :] .
 * x[t, :] (+ bias[r]) with every product the canonical dot product
 * (ref/README.md, rule 3) whatever the blocking.
 *
 * A thread owns a contiguous range of output rows (fwd_pool.h). It takes
 * them RF_ROW_BLOCK at a time: the rows are widened to fp32 into the
 * thread's row buffer once (F32 rows are read in place), then multiplied
 * with every token. Full quads of tokens go through rf_acc4x4 in tiles of
 * RF_TOK_BLOCK tokens, a chunk of RF_COL_BLOCK columns at a time: for one
 * chunk, the chunk of all RF_ROW_BLOCK rows (16 KiB) and of the tile's
 * tokens (16 KiB) stay in the first-level cache while every (row quad, token
 * quad) pair is computed. Chunks are multiples of 8 columns, so the eight
 * partial sums carried from chunk to chunk (acc) are exactly the scalar
 * specification's (dot.h); each product is folded once, after its last chunk.
 * A row block that is not a multiple of 4 rows repeats its last row (the
 * repeated products are computed and dropped); the last T mod 4 tokens use
 * rf_dot on whole rows. Same bits for every block size, thread count and
 * kernel.
 */
#include <stdint.h>
#include <string.h>

#include "../formats/base/dtype.h"
#include "fwd_priv.h"

#ifndef RF_TOK_BLOCK
#define RF_TOK_BLOCK 16   /* tokens per tile, a multiple of 4 */
#endif
#ifndef RF_COL_BLOCK
#define RF_COL_BLOCK 256  /* columns per chunk, a multiple of 8 */
#endif
#if RF_ROW_BLOCK % 4 || RF_TOK_BLOCK % 4 || RF_COL_BLOCK % 8
#error "RF_ROW_BLOCK and RF_TOK_BLOCK must be multiples of 4, RF_COL_BLOCK of 8"
#endif

#define QUADS_R (RF_ROW_BLOCK / 4)
#define QUADS_T (RF_TOK_BLOCK / 4)

/* the fp32 rows [r0, r0 + nr) of the view into w[] (pointers into buf, or
 * into the mapping for aligned F32 rows); 0 or the error code */
static int load_rows(const struct rf_mm_task *k, struct rf_ctx *c, size_t r0, size_t nr,
		     float *buf, const float *w[RF_ROW_BLOCK], unsigned tid)
{
	const size_t cols = k->cols;

	for (size_t i = 0; i < nr; i++) {
		int dt = -1;
		const uint8_t *p = qk_view_row_data(k->w, k->row0 + r0 + i, &dt);

		if (p && dt == QK_DT_F32 && (uintptr_t)p % sizeof(float) == 0) {
			w[i] = (const float *)(const void *)p;
		} else if (p && dt == QK_DT_BF16) {
			c->dot.widen_bf16(p, buf + i * cols, cols);
			w[i] = buf + i * cols;
		} else {
			int rc = qk_view_read_row(k->w, k->row0 + r0 + i, buf + i * cols,
						  &c->terr[tid]);

			if (rc)
				return rc;
			w[i] = buf + i * cols;
		}
	}
	for (size_t i = nr; i % 4; i++)
		w[i] = w[nr - 1];
	return 0;
}

/* tokens [t0, t0 + nt) (nt a multiple of 4, <= RF_TOK_BLOCK) with the nr
 * rows w[] of the block starting at output row r0 */
static void tile(const struct rf_mm_task *k, const struct rf_ctx *c, const float *const *w,
		 size_t r0, size_t nr, size_t t0, size_t nt)
{
	float acc[QUADS_R * QUADS_T * 128]; /* [row quad][token quad][4 rows][4 tokens][8] */
	const size_t cols = k->cols, nrq = (nr + 3) / 4, ntq = nt / 4;

	memset(acc, 0, nrq * QUADS_T * 128 * sizeof(float));
	for (size_t c0 = 0; c0 < cols; c0 += RF_COL_BLOCK) {
		const size_t n = cols - c0 < RF_COL_BLOCK ? cols - c0 : RF_COL_BLOCK;

		for (size_t tq = 0; tq < ntq; tq++) {
			const float *const xs[4] = {
				k->x + (t0 + 4 * tq) * cols + c0, k->x + (t0 + 4 * tq + 1) * cols + c0,
				k->x + (t0 + 4 * tq + 2) * cols + c0, k->x + (t0 + 4 * tq + 3) * cols + c0,
			};

			for (size_t rq = 0; rq < nrq; rq++) {
				const float *const ws[4] = { w[4 * rq] + c0, w[4 * rq + 1] + c0,
							     w[4 * rq + 2] + c0, w[4 * rq + 3] + c0 };

				c->dot.acc4x4(ws, xs, n, acc + (rq * QUADS_T + tq) * 128);
			}
		}
	}
	for (size_t i = 0; i < nr; i++) {
		const size_t r = r0 + i;
		const float *a = acc + ((i / 4) * QUADS_T * 128) + (i % 4) * 4 * 8;

		for (size_t t = 0; t < nt; t++) {
			const float o = rf_dot_fold(a + (t / 4) * 128 + (t % 4) * 8);

			k->y[(t0 + t) * k->n_rows + r] = k->bias ? o + k->bias[r] : o;
		}
	}
}

void rf_mm_rows(void *arg, size_t b, size_t e, unsigned tid)
{
	const struct rf_mm_task *k = arg;
	struct rf_ctx *c = k->c;
	const size_t cols = k->cols, T = k->T, T4 = T - T % 4;
	float *buf = c->rowbuf + (size_t)tid * RF_ROW_BLOCK * c->max_cols;

	for (size_t r0 = b; r0 < e; r0 += RF_ROW_BLOCK) {
		const size_t nr = e - r0 < RF_ROW_BLOCK ? e - r0 : RF_ROW_BLOCK;
		const float *w[RF_ROW_BLOCK];
		int rc = load_rows(k, c, r0, nr, buf, w, tid);

		if (rc) {
			c->trc[tid] = rc;
			return;
		}
		for (size_t t0 = 0; t0 < T4; t0 += RF_TOK_BLOCK)
			tile(k, c, w, r0, nr, t0, T4 - t0 < RF_TOK_BLOCK ? T4 - t0 : RF_TOK_BLOCK);
		for (size_t t = T4; t < T; t++) {
			for (size_t i = 0; i < nr; i++) {
				const size_t r = r0 + i;
				const float o = c->dot.dot(w[i], k->x + t * cols, cols);

				k->y[t * k->n_rows + r] = k->bias ? o + k->bias[r] : o;
			}
		}
	}
}
