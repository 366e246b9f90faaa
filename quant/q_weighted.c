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
#include "qsimd.h"
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

/* ---- the searches: ngroups groups of gs values (qsimd.h's shapes) ----
 * Group g: weights w = qw * sqrt(sigma2 + x^2) (qw alone when !imp),
 * sw[g] their sum from 0 in element order, then ggml's search. With AVX2
 * and a multiple of 256 values, eight groups run side by side
 * (q_simd_weighted.c), with the same bytes. */

/* make_qkx3_quants as ggml's weighted quantizers call it (with weights
 * given it is make_qkx2_quants): scales[g], mins[g] (its the_min), L
 * levels 0..nmax */
static void wsearch_affine(const float *x, const float *qw, float sigma2, int gs, int ngroups,
			   int nmax, float *sw, float *scales, float *mins, uint8_t *L)
{
	int g = 0;

	if (qt_simd_avx2())
		for (; g + 256 / gs <= ngroups; g += 256 / gs)
			qt_avx2_wsearch_affine(x + gs * g, qw + gs * g, sigma2, gs, nmax, sw + g,
					       scales + g, mins + g, L + gs * g);
	for (; g < ngroups; g++) {
		float w[32];   /* [gs] */
		uint8_t Laux[32];
		float sumw = 0.0f;

		imp_weights(x + gs * g, qw + gs * g, sigma2, gs, w);
		for (int l = 0; l < gs; l++)
			sumw += w[l];
		sw[g] = sumw;
		scales[g] = qt_make_qkx2_quants(gs, nmax, x + gs * g, w, L + gs * g, &mins[g], Laux,
						-0.9f, 0.05f, 36, false);
	}
}

/* make_qx_quants(gs, nmax, x, L, 1, w): scales[g], L = l + nmax */
static void wsearch_sym(const float *x, const float *qw, float sigma2, bool imp, int gs,
			int ngroups, int nmax, float *sw, float *scales, int8_t *L)
{
	int g = 0;

	if (qt_simd_avx2())
		for (; g + 256 / gs <= ngroups; g += 256 / gs)
			qt_avx2_wsearch_sym(x + gs * g, qw + gs * g, sigma2, imp, gs, nmax, sw + g,
					    scales + g, L + gs * g);
	for (; g < ngroups; g++) {
		float w[32];   /* [gs] */
		float sumw = 0.0f;

		if (imp)
			imp_weights(x + gs * g, qw + gs * g, sigma2, gs, w);
		else
			memcpy(w, qw + gs * g, (size_t)gs * sizeof(float));
		for (int l = 0; l < gs; l++)
			sumw += w[l];
		sw[g] = sumw;
		scales[g] = qt_make_qx_quants(gs, nmax, x + gs * g, L + gs * g, 1, w);
	}
}

/* ---- 32-element blocks: Q4_0, Q4_1, Q5_0, Q5_1 ---- */

/* one block from its search result: scale, the_min (asymmetric types) and
 * the levels L[32] */
typedef void (*w_pack32_fn)(float scale, float the_min, const uint8_t L[32], void *yb);

static void pack_q4_0(float scale, float the_min, const uint8_t L[32], void *vy)
{
	struct qt_block_q4_0 *y = vy;

	(void)the_min;
	y->d = qt_fp32_to_fp16(scale);
	for (int j = 0; j < 16; j++)
		y->qs[j] = (uint8_t)(L[j] | L[j + 16] << 4);
}

/* Q5_0/Q5_1: low nibbles of L[j] and L[j+16] in qs[j], 5th bits in qh */
static void pack5(uint8_t qs[16], uint8_t qh[4], const uint8_t L[32])
{
	int q[32];

	for (int j = 0; j < 32; j++)
		q[j] = L[j];
	for (int j = 0; j < 16; j++)
		qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
	qt_put_qh(qh, q);
}

static void pack_q5_0(float scale, float the_min, const uint8_t L[32], void *vy)
{
	struct qt_block_q5_0 *y = vy;

	(void)the_min;
	y->d = qt_fp32_to_fp16(scale);
	pack5(y->qs, y->qh, L);
}

static void pack_q4_1(float scale, float the_min, const uint8_t L[32], void *vy)
{
	struct qt_block_q4_1 *y = vy;

	y->d = qt_fp32_to_fp16(scale);
	y->m = qt_fp32_to_fp16(-the_min);
	for (int j = 0; j < 16; j++)
		y->qs[j] = (uint8_t)(L[j] | L[j + 16] << 4);
}

static void pack_q5_1(float scale, float the_min, const uint8_t L[32], void *vy)
{
	struct qt_block_q5_1 *y = vy;

	y->d = qt_fp32_to_fp16(scale);
	y->m = qt_fp32_to_fp16(-the_min);
	pack5(y->qs, y->qh, L);
}

/* a row of 32-blocks of `bytes` bytes, eight blocks per search call:
 * weights qw[j] * sqrt(sigma2 + x[j]^2) with sigma2 the mean square of the
 * whole row; Q4_0/Q5_0 search with make_qx_quants (levels l + nmax),
 * Q4_1/Q5_1 with make_qkx3_quants */
static void w_row32(const float *x, uint8_t *dst, int64_t n, const float *qw, size_t bytes,
		    bool affine, int nmax, w_pack32_fn pack)
{
	const float sigma2 = sum_sq(x, n) / (float)n;

	assert(n % 32 == 0);
	for (int64_t b0 = 0; b0 < n / 32; b0 += 8) {
		const int nb = n / 32 - b0 < 8 ? (int)(n / 32 - b0) : 8;
		float sw[8], scales[8], mins[8] = { 0 };
		uint8_t L[256]; /* [nb][32] levels */

		if (affine)
			wsearch_affine(x + 32 * b0, qw + 32 * b0, sigma2, 32, nb, nmax, sw, scales,
				       mins, L);
		else
			wsearch_sym(x + 32 * b0, qw + 32 * b0, sigma2, true, 32, nb, nmax, sw, scales,
				    (int8_t *)L);
		for (int k = 0; k < nb; k++) {
			uint8_t yb[32]; /* the largest 32-block, Q5_1, has 24 bytes */

			pack(scales[k], mins[k], L + 32 * k, yb);
			memcpy(dst + (b0 + k) * bytes, yb, bytes); /* dst: any alignment */
		}
	}
}

#define W_LEGACY(t, affine, nmax)                                                    \
	void qt_quantize_w_##t(const float *x, void *vy, int64_t n, const float *qw) \
	{                                                                            \
		if (!qw)                                                             \
			qt_quantize_##t(x, vy, n);                                   \
		else                                                                 \
			w_row32(x, vy, n, qw, sizeof(struct qt_block_##t), affine,   \
				nmax, pack_##t);                                     \
	}

W_LEGACY(q4_0, false, 8)
W_LEGACY(q4_1, true, 15)
W_LEGACY(q5_0, false, 16)
W_LEGACY(q5_1, true, 31)

/* ---- super-blocks: Q2_K, Q3_K ---- */

static void w_q2_K_block(const float *x, const float *qw, struct qt_block_q2_K *y)
{
	uint8_t L[QT_QK_K];        /* levels 0..3 */
	uint8_t Ls[16], Lm[16];
	float sw[16], mins[16], scales[16]; /* per sub-block of 16 */
	const float sigma2 = sum_sq(x, QT_QK_K) / QT_QK_K;

	wsearch_affine(x, qw, sigma2, 16, 16, 3, sw, scales, mins, L);
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
	float sw[16], scales[16];  /* per sub-block of 16 */
	const float sigma2 = 2 * sum_sq(x, QT_QK_K) / QT_QK_K;

	wsearch_sym(x, qw, sigma2, true, 16, 16, 4, sw, scales, L);
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
	uint8_t Ls[8], Lm[8];
	float sw[8], mins[8], scales[8]; /* per sub-block of 32 */
	int ls[8], lm[8];
	const float sigma2 = 2 * sum_sq(x, QT_QK_K) / QT_QK_K;

	wsearch_affine(x, qw, sigma2, 32, 8, nmax, sw, scales, mins, L);
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

/* Q6_K weighs each element by qw alone */
static void w_q6_K_block(const float *x, const float *qw, struct qt_block_q6_K *y)
{
	int8_t L[QT_QK_K]; /* levels 0..63 */
	float sw[16], scales[16]; /* per sub-block of 16 */
	float max_scale = 0.0f, max_abs_scale = 0.0f;

	wsearch_sym(x, qw, 0.0f, false, 16, 16, 32, sw, scales, L);
	for (int j = 0; j < 16; j++) {
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
