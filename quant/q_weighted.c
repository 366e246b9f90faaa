/* q_weighted.c - quantizers with importance weights: ggml's quantize_<t>
 * with quant_weights (quantize_row_<t>_impl in ggml-quants.c), which
 * llama-quantize runs when it has an imatrix entry for the tensor.
 *
 * Every function quantizes ONE WHOLE ROW x[n] (qtype.h qt_quantize_w_fn):
 * qw[n] holds one weight per column of the row. With qw NULL the bytes are
 * the reference quantizer's, as in ggml. The searches differ from the
 * reference ones: the weight of element i is qw[i] * sqrt(sigma2 + x[i]^2)
 * (sigma2: mean square of the row for Q4_0..Q5_1, of the super-block for
 * Q2_K, twice that for Q3_K..Q5_K; Q6_K uses qw[i] alone); asymmetric types
 * search with ggml's make_qkx3_quants, which with weights given is
 * make_qkx2_quants (qsearch.c: they differ only in the weights they default
 * to, and qkx3 tests max <= min where qkx2 tests max == min, the same test
 * because min never exceeds max), and
 * quantize their sub-block scales with make_qp_quants (qsearch_w.c). The requantization with the stored scales
 * and the bit packing are the reference quantizers' own (qkern.h tails).
 */
#include "quants.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "blocks.h"
#include "fp16.h"
#include "qkern.h"
#include "qtype.h"

/* sum of x^2 over n values, left to right as ggml sums it */
static float sum_sq(const float *x, int64_t n)
{
	float s = 0.0f;

	for (int64_t j = 0; j < n; j++)
		s += x[j] * x[j];
	return s;
}

/* w[j] = qw[j] * sqrt(sigma2 + x[j]^2) for j < n */
static void imp_weights(const float *x, const float *qw, float sigma2, int n, float *w)
{
	for (int j = 0; j < n; j++)
		w[j] = qw[j] * sqrtf(sigma2 + x[j] * x[j]);
}

/* ---- 32-element blocks: Q4_0, Q4_1, Q5_0, Q5_1 ---- */

/* one block from its 32 values x and their weights w (the row's sigma2 in) */
typedef void (*w_block32_fn)(const float *x, const float *w, void *yb);

static void w_q4_0_block(const float *x, const float *w, void *vy)
{
	struct qt_block_q4_0 *y = vy;
	int8_t L[QT_QK4_0]; /* levels 0..15 */

	y->d = qt_fp32_to_fp16(qt_make_qx_quants(QT_QK4_0, 8, x, L, 1, w));
	for (int j = 0; j < 16; j++)
		y->qs[j] = (uint8_t)(L[j] | L[j + 16] << 4);
}

/* Q5_0/Q5_1: low nibbles of q[j] and q[j+16] in qs[j], 5th bits in qh */
static void pack5(uint8_t qs[16], uint8_t qh[4], const int q[32])
{
	for (int j = 0; j < 16; j++)
		qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
	qt_put_qh(qh, q);
}

static void w_q5_0_block(const float *x, const float *w, void *vy)
{
	struct qt_block_q5_0 *y = vy;
	int8_t L[QT_QK5_0]; /* levels 0..31 */
	int q[QT_QK5_0];

	y->d = qt_fp32_to_fp16(qt_make_qx_quants(QT_QK5_0, 16, x, L, 1, w));
	for (int j = 0; j < QT_QK5_0; j++)
		q[j] = (uint8_t)L[j];
	pack5(y->qs, y->qh, q);
}

/* Q4_1 (nmax 15) and Q5_1 (nmax 31): d, m and the levels of one block.
 * ggml calls make_qkx3_quants here, which with weights given is
 * make_qkx2_quants (the two differ only in their default weights). */
static void affine_block(const float *x, const float *w, int nmax, uint16_t *d, uint16_t *m,
			 uint8_t L[32])
{
	uint8_t Laux[32];
	float min;
	const float scale = qt_make_qkx2_quants(32, nmax, x, w, L, &min, Laux, -0.9f, 0.05f,
						36, false);

	*d = qt_fp32_to_fp16(scale);
	*m = qt_fp32_to_fp16(-min);
}

static void w_q4_1_block(const float *x, const float *w, void *vy)
{
	struct qt_block_q4_1 *y = vy;
	uint8_t L[QT_QK4_1]; /* levels 0..15 */

	affine_block(x, w, 15, &y->d, &y->m, L);
	for (int j = 0; j < 16; j++)
		y->qs[j] = (uint8_t)(L[j] | L[j + 16] << 4);
}

static void w_q5_1_block(const float *x, const float *w, void *vy)
{
	struct qt_block_q5_1 *y = vy;
	uint8_t L[QT_QK5_1]; /* levels 0..31 */
	int q[QT_QK5_1];

	affine_block(x, w, 31, &y->d, &y->m, L);
	for (int j = 0; j < QT_QK5_1; j++)
		q[j] = L[j];
	pack5(y->qs, y->qh, q);
}

/* a row of 32-blocks of `bytes` bytes: weights qw[j] * sqrt(sigma2 + x[j]^2)
 * with sigma2 the mean square of the whole row */
static void w_row32(const float *x, uint8_t *dst, int64_t n, const float *qw, size_t bytes,
		    w_block32_fn blk)
{
	const float sigma2 = sum_sq(x, n) / (float)n;

	assert(n % 32 == 0);
	for (int64_t b = 0; b < n / 32; b++) {
		float w[32];
		uint8_t yb[32]; /* the largest 32-block, Q5_1, has 24 bytes */

		imp_weights(x + 32 * b, qw + 32 * b, sigma2, 32, w);
		blk(x + 32 * b, w, yb);
		memcpy(dst + b * bytes, yb, bytes); /* dst: any alignment */
	}
}

#define W_LEGACY(t)                                                                  \
	void qt_quantize_w_##t(const float *x, void *vy, int64_t n, const float *qw) \
	{                                                                            \
		if (!qw)                                                             \
			qt_quantize_##t(x, vy, n);                                   \
		else                                                                 \
			w_row32(x, vy, n, qw, sizeof(struct qt_block_##t),           \
				w_##t##_block);                                      \
	}

W_LEGACY(q4_0)
W_LEGACY(q4_1)
W_LEGACY(q5_0)
W_LEGACY(q5_1)

/* ---- super-blocks: Q2_K, Q3_K ---- */

static void w_q2_K_block(const float *x, const float *qw, struct qt_block_q2_K *y)
{
	uint8_t L[QT_QK_K];        /* levels 0..3 */
	uint8_t Laux[16], Ls[16], Lm[16];
	float w[16], sw[16];       /* weights of one sub-block; their sums */
	float mins[16], scales[16];
	const float sigma2 = sum_sq(x, QT_QK_K) / QT_QK_K;

	for (int j = 0; j < 16; j++) {
		imp_weights(x + 16 * j, qw + 16 * j, sigma2, 16, w);
		sw[j] = 0.0f;
		for (int l = 0; l < 16; l++)
			sw[j] += w[l];
		scales[j] = qt_make_qkx2_quants(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux,
						-0.9f, 0.05f, 36, false); /* ggml: qkx3 */
	}
	const float dm = qt_make_qp_quants(16, 15, scales, Ls, sw);
	const float mm = qt_make_qp_quants(16, 15, mins, Lm, sw);

	y->d = qt_fp32_to_fp16(dm);
	y->dmin = qt_fp32_to_fp16(mm);
	for (int j = 0; j < 16; j++)
		y->scales[j] = (uint8_t)(Ls[j] | Lm[j] << 4);
	qt_q2_K_finish(x, y, L);
}

static void w_q3_K_block(const float *x, const float *qw, struct qt_block_q3_K *y)
{
	int8_t L[QT_QK_K];         /* levels 0..7 */
	int8_t Ls[16];             /* 6-bit sub-block scales, stored + 32 */
	float w[16], sw[16], scales[16];
	const float sigma2 = 2 * sum_sq(x, QT_QK_K) / QT_QK_K;

	for (int j = 0; j < 16; j++) {
		imp_weights(x + 16 * j, qw + 16 * j, sigma2, 16, w);
		float sumw = 0.0f;

		for (int l = 0; l < 16; l++)
			sumw += w[l];
		sw[j] = sumw;
		scales[j] = qt_make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, w);
	}
	memset(y->scales, 0, sizeof(y->scales));
	const float d_block = qt_make_qx_quants(16, 32, scales, Ls, 1, sw);

	for (int j = 0; j < 16; j++) {
		const int l = Ls[j];

		if (j < 8)
			y->scales[j] = (uint8_t)(l & 0x0f);
		else
			y->scales[j - 8] |= (uint8_t)((l & 0x0f) << 4);
		y->scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
	}
	y->d = qt_fp32_to_fp16(d_block);
	qt_q3_K_finish(x, y, L);
}

/* ---- super-blocks: Q4_K, Q5_K, Q6_K ---- */

/* Q4_K (nmax 15, no cap on the scale levels) and Q5_K (nmax 31, capped at 63):
 * scales, d, dmin and the final levels of one super-block */
static void w_k4_block(const float *x, const float *qw, int nmax, bool cap,
		       uint8_t scales12[12], uint16_t *d, uint16_t *dmin, uint8_t L[QT_QK_K])
{
	uint8_t Laux[32], Ls[8], Lm[8];
	float w[32], sw[8], mins[8], scales[8];
	int ls[8], lm[8];
	const float sigma2 = 2 * sum_sq(x, QT_QK_K) / QT_QK_K;

	for (int j = 0; j < 8; j++) {
		imp_weights(x + 32 * j, qw + 32 * j, sigma2, 32, w);
		float sumw = 0.0f;

		for (int l = 0; l < 32; l++)
			sumw += w[l];
		sw[j] = sumw;
		scales[j] = qt_make_qkx2_quants(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux,
						-0.9f, 0.05f, 36, false); /* ggml: qkx3 */
	}
	const float d_block = qt_make_qp_quants(8, 63, scales, Ls, sw);
	const float m_block = qt_make_qp_quants(8, 63, mins, Lm, sw);

	for (int j = 0; j < 8; j++) {
		ls[j] = cap ? qt_imin(63, Ls[j]) : Ls[j];
		lm[j] = cap ? qt_imin(63, Lm[j]) : Lm[j];
	}
	memset(scales12, 0, 12);
	qt_pack_scale_min_k4(scales12, ls, lm);
	*d = qt_fp32_to_fp16(d_block);
	*dmin = qt_fp32_to_fp16(m_block);
	qt_kquant_requant_k4(x, nmax, scales12, *d, *dmin, L);
}

static void w_q4_K_block(const float *x, const float *qw, struct qt_block_q4_K *y)
{
	uint8_t L[QT_QK_K]; /* levels 0..15 */

	w_k4_block(x, qw, 15, false, y->scales, &y->d, &y->dmin, L);
	qt_pack_q4_K_qs(y->qs, L);
}

static void w_q5_K_block(const float *x, const float *qw, struct qt_block_q5_K *y)
{
	uint8_t L[QT_QK_K]; /* levels 0..31 */

	w_k4_block(x, qw, 31, true, y->scales, &y->d, &y->dmin, L);
	qt_pack_q5_K_qs(y, L);
}

static void w_q6_K_block(const float *x, const float *qw, struct qt_block_q6_K *y)
{
	int8_t L[QT_QK_K]; /* levels 0..63 */
	float scales[16];
	float max_scale = 0.0f, max_abs_scale = 0.0f;

	for (int j = 0; j < 16; j++) {
		scales[j] = qt_make_qx_quants(16, 32, x + 16 * j, L + 16 * j, 1, qw + 16 * j);
		if (fabsf(scales[j]) > max_abs_scale) {
			max_abs_scale = fabsf(scales[j]);
			max_scale = scales[j];
		}
	}
	qt_q6_K_finish(x, y, scales, max_scale, max_abs_scale, L);
}

/* one row of super-blocks through blk(x, qw, block) */
#define W_KQUANT(t, blk)                                                              \
	void qt_quantize_w_##t(const float *x, void *vy, int64_t n, const float *qw)  \
	{                                                                             \
		uint8_t *dst = vy; /* any alignment: each block goes through yb */    \
		if (!qw) {                                                            \
			qt_quantize_##t(x, vy, n);                                    \
			return;                                                       \
		}                                                                     \
		assert(n % QT_QK_K == 0);                                             \
		for (int64_t b = 0; b < n / QT_QK_K; b++) {                           \
			struct qt_block_##t yb;                                       \
			blk(x + QT_QK_K * b, qw + QT_QK_K * b, &yb);                  \
			memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));                \
		}                                                                     \
	}

W_KQUANT(q2_K, w_q2_K_block)
W_KQUANT(q3_K, w_q3_K_block)
W_KQUANT(q4_K, w_q4_K_block)
W_KQUANT(q5_K, w_q5_K_block)
W_KQUANT(q6_K, w_q6_K_block)
