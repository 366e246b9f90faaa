/* qi_nonlin.c - the 4-bit types with a value table instead of a linear
 * grid: IQ4_NL (blocks of 32), IQ4_XS (super-blocks of 256 with 6-bit
 * sub-block scales) and MXFP4 (blocks of 32 with a power-of-two scale).
 *
 * IQ4_NL and IQ4_XS share one search (ggml's quantize_row_iq4_nl_impl with
 * ntry = 7, which quantize_iq4_nl / quantize_iq4_xs run): per block of 32,
 * start from the scale that maps the largest |x| onto the first table value,
 * refine it by weighted least squares, then try 15 scales around it and keep
 * the one with the best weighted error. IQ4_XS then expresses every block
 * scale as a 6-bit multiple of one fp16 super-scale and requantizes with it.
 * Weights: qw * sqrt(2 * mean(x^2) + x^2) with an importance matrix, x^2
 * without. Float expressions keep ggml's order (quant/README.md).
 */
#include "iquants.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "fp16.h"
#include "qkern.h"
#include "qsimd.h"
#include "qtype.h"

/* ggml-common.h kvalues_iq4nl: the 16 non-linear levels, ascending */
static const int8_t iq4nl_values[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

/* ggml-common.h kvalues_fp4 (= kvalues_mxfp4): e2m1 values times two, by
 * their 4-bit code (bit 3 the sign) */
static const int8_t fp4_values[16] = {
	0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12,
};

#define NL_NTRY 7   /* scales tried on each side of the first guess */
#define NL_BLOCK 32 /* elements per scale */

/* Index of the level nearest to v in the ascending table val[16]; below
 * the first or above the last clamps; a tie goes to the upper level; NaN
 * ends on the last level (the comparisons are those of ggml's
 * best_index_int8). */
static int nl_nearest(const int8_t *val, float v)
{
	int lo = 0, hi = 15;

	if (v <= val[0])
		return 0;
	if (v >= val[15])
		return 15;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;

		if (v < val[mid])
			hi = mid;
		else
			lo = mid;
	}
	return v - val[hi - 1] < val[hi] - v ? hi - 1 : hi;
}

/* Weighted sums for levels chosen at inverse scale inv:
 * sumqx = sum w q x, sumq2 = sum w q^2 (left to right, (w*q)*x). */
static void nl_sums(const float *xb, const float *w, float inv, uint8_t *lv,
		    float *sumqx, float *sumq2)
{
	float sqx = 0.0f, sq2 = 0.0f;

	for (int j = 0; j < NL_BLOCK; j++) {
		int l = nl_nearest(iq4nl_values, inv * xb[j]);
		float q = iq4nl_values[l];

		if (lv)
			lv[j] = (uint8_t)l;
		sqx += w[j] * q * xb[j];
		sq2 += w[j] * q * q;
	}
	*sumqx = sqx;
	*sumq2 = sq2;
}

/* The best scale of one block of 32 (0 for a block below GROUP_MAX_EPS). */
static float nl_block_scale(const float *xb, const float *w)
{
	float amax = 0.0f, max = 0.0f, d, inv, sumqx, sumq2, best;

	for (int j = 0; j < NL_BLOCK; j++) {
		float ax = fabsf(xb[j]);

		if (ax > amax) {
			amax = ax;
			max = xb[j];
		}
	}
	if (amax < QT_GROUP_MAX_EPS)
		return 0.0f;
	d = -max / iq4nl_values[0];
	inv = 1 / d;
	nl_sums(xb, w, inv, NULL, &sumqx, &sumq2);
	d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
	best = d * sumqx;
	for (int t = -NL_NTRY; t <= NL_NTRY; t++) {
		inv = (float)(t + iq4nl_values[0]) / max;
		nl_sums(xb, w, inv, NULL, &sumqx, &sumq2);
		if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
			d = sumqx / sumq2;
			best = d * sumqx;
		}
	}
	return d;
}

/* The element weights of block xb (sigma2: 2 * mean x^2 of the super-block) */
static void nl_weights(const float *xb, const float *qw, float sigma2, float *w)
{
	for (int j = 0; j < NL_BLOCK; j++)
		w[j] = qw ? qw[j] * sqrtf(sigma2 + xb[j] * xb[j]) : xb[j] * xb[j];
}

static float nl_sigma2(const float *x, int n)
{
	float s = 0.0f;

	for (int j = 0; j < n; j++)
		s += x[j] * x[j];
	return s * (2.f / (float)n);
}

static void nl_levels(const float *xb, float inv, uint8_t *lv)
{
	if (qt_simd_avx2()) {
		qt_avx2_nl_levels(iq4nl_values, xb, inv, lv);
		return;
	}
	for (int j = 0; j < NL_BLOCK; j++)
		lv[j] = (uint8_t)nl_nearest(iq4nl_values, inv * xb[j]);
}

/* 32 levels into 16 bytes: element j low nibble, j + 16 high */
static void nl_pack(const uint8_t *lv, uint8_t *qs)
{
	for (int j = 0; j < NL_BLOCK / 2; j++)
		qs[j] = (uint8_t)(lv[j] | lv[j + 16] << 4);
}

/* the scales of nb blocks of 32 at x with weights w[32 * nb]: eight at a
 * time on AVX2 (q_simd_nonlin.c), the same values */
static void nl_scales(const float *x, const float *w, int nb, float *scale)
{
	int b = 0;

	if (qt_simd_avx2())
		for (; b + 8 <= nb; b += 8)
			qt_avx2_nl_scales(iq4nl_values, NL_NTRY, x + NL_BLOCK * b, w + NL_BLOCK * b,
					  scale + b);
	for (; b < nb; b++)
		scale[b] = nl_block_scale(x + NL_BLOCK * b, w + NL_BLOCK * b);
}

void qi_quantize_iq4_nl_w(const float *x, void *vy, int64_t n, const float *qw)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */
	const int64_t nblocks = n / QI_QK4_NL;

	assert(n % QI_QK4_NL == 0);
	for (int64_t b0 = 0; b0 < nblocks; b0 += 8) {
		const int nb = nblocks - b0 < 8 ? (int)(nblocks - b0) : 8;
		float w[8 * NL_BLOCK];  /* [nb][32] element weights */
		float scale[8];         /* [nb] block scales */

		for (int k = 0; k < nb; k++) {
			const float *xb = x + (b0 + k) * QI_QK4_NL;

			nl_weights(xb, qw ? qw + (b0 + k) * QI_QK4_NL : NULL, nl_sigma2(xb, QI_QK4_NL),
				   w + NL_BLOCK * k);
		}
		nl_scales(x + b0 * QI_QK4_NL, w, nb, scale);
		for (int k = 0; k < nb; k++) {
			struct qi_block_iq4_nl yb;
			uint8_t lv[NL_BLOCK];   /* level indices */
			const float d = scale[k];
			const float inv = d != 0.0f ? 1 / d : 0.0f;

			yb.d = qt_fp32_to_fp16(d);
			nl_levels(x + (b0 + k) * QI_QK4_NL, inv, lv);
			nl_pack(lv, yb.qs);
			memcpy(dst + (b0 + k) * sizeof(yb), &yb, sizeof(yb));
		}
	}
}

void qi_quantize_iq4_xs_w(const float *x, void *vy, int64_t n, const float *qw)
{
	uint8_t *dst = vy;
	const int nsub = QT_QK_K / NL_BLOCK;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qi_block_iq4_xs yb;
		const float *qwb = qw ? qw + b * QT_QK_K : NULL;
		const float sigma2 = nl_sigma2(x, QT_QK_K);
		float scale[QT_QK_K / NL_BLOCK]; /* per sub-block, unrounded */
		float w[QT_QK_K];                /* element weights */
		uint8_t lv[NL_BLOCK];
		float max_scale = 0.0f, amax_scale = 0.0f, d, inv;

		for (int s = 0; s < nsub; s++)
			nl_weights(x + s * NL_BLOCK, qwb ? qwb + s * NL_BLOCK : NULL, sigma2,
				   w + s * NL_BLOCK);
		nl_scales(x, w, nsub, scale);
		for (int s = 0; s < nsub; s++) {
			if (fabsf(scale[s]) > amax_scale) {
				amax_scale = fabsf(scale[s]);
				max_scale = scale[s];
			}
		}
		/* the largest block scale becomes -32 steps of d */
		d = -max_scale / 32;
		yb.d = qt_fp32_to_fp16(d);
		inv = d != 0.0f ? 1 / d : 0.0f;
		yb.scales_h = 0;
		memset(yb.scales_l, 0, sizeof yb.scales_l);
		for (int s = 0; s < nsub; s++) {
			const float *xb = x + s * NL_BLOCK;
			int l = qt_imax(-32, qt_imin(31, qt_nearest_int(inv * scale[s])));
			float dl = d * (float)l;

			nl_levels(xb, dl != 0.0f ? 1 / dl : 0.0f, lv);
			nl_pack(lv, yb.qs + s * (NL_BLOCK / 2));
			l += 32;
			yb.scales_l[s / 2] |= (uint8_t)((l & 0xf) << 4 * (s % 2));
			yb.scales_h |= (uint16_t)((l >> 4) << 2 * s);
		}
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qi_quantize_iq4_nl(const float *x, void *y, int64_t n)
{
	qi_quantize_iq4_nl_w(x, y, n, NULL);
}

void qi_quantize_iq4_xs(const float *x, void *y, int64_t n)
{
	qi_quantize_iq4_xs_w(x, y, n, NULL);
}

void qi_dequantize_iq4_nl(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QI_QK4_NL == 0);
	for (int64_t b = 0; b < n / QI_QK4_NL; b++, y += QI_QK4_NL) {
		struct qi_block_iq4_nl xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);

		for (int j = 0; j < QI_QK4_NL / 2; j++) {
			y[j] = d * iq4nl_values[xb.qs[j] & 0xf];
			y[j + 16] = d * iq4nl_values[xb.qs[j] >> 4];
		}
	}
}

void qi_dequantize_iq4_xs(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq4_xs xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);

		for (int s = 0; s < QT_QK_K / NL_BLOCK; s++, y += NL_BLOCK) {
			const uint8_t *qs = xb.qs + s * (NL_BLOCK / 2);
			const int ls = ((xb.scales_l[s / 2] >> 4 * (s % 2)) & 0xf) |
				       ((xb.scales_h >> 2 * s) & 3) << 4;
			const float dl = d * (float)(ls - 32);

			for (int j = 0; j < NL_BLOCK / 2; j++) {
				y[j] = dl * iq4nl_values[qs[j] & 0xf];
				y[j + 16] = dl * iq4nl_values[qs[j] >> 4];
			}
		}
	}
}

/* ---- MXFP4 ---- */

/* ggml's GGML_E8M0_TO_FP32_HALF: 2^(e - 128), built from its bits (e < 2
 * gives the subnormals 2^-128 and 2^-127) */
static float e8m0_half(uint8_t e)
{
	return qt_f32_from_bits(e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23);
}

/* the code whose value times d is nearest to v; the first wins ties */
static int fp4_nearest(float v, float d)
{
	int best = 0;
	float best_err = fabsf(fp4_values[0] * d - v);

	for (int i = 1; i < 16; i++) {
		float err = fabsf(fp4_values[i] * d - v);

		if (err < best_err) {
			best = i;
			best_err = err;
		}
	}
	return best;
}

void qi_quantize_mxfp4_w(const float *x, void *vy, int64_t n, const float *qw)
{
	uint8_t *dst = vy;

	(void)qw; /* ggml ignores importance weights for MXFP4 */
	assert(n % QI_QK_MXFP4 == 0);
	for (int64_t b = 0; b < n / QI_QK_MXFP4; b++, x += QI_QK_MXFP4) {
		struct qi_block_mxfp4 yb;
		float amax = 0.0f;

		for (int j = 0; j < QI_QK_MXFP4; j++)
			if (amax < fabsf(x[j]))
				amax = fabsf(x[j]);
		/* the exponent puts the largest value in the top octave of the
		 * e2m1 range; ggml converts the float through a truncating cast */
		yb.e = amax > 0.0f ? (uint8_t)qt_cast_u8(floorf(log2f(amax)) - 2 + 127) : 0;
		const float d = e8m0_half(yb.e);

		for (int j = 0; j < QI_QK_MXFP4 / 2; j++)
			yb.qs[j] = (uint8_t)(fp4_nearest(x[j], d) |
					     fp4_nearest(x[j + QI_QK_MXFP4 / 2], d) << 4);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qi_quantize_mxfp4(const float *x, void *y, int64_t n)
{
	qi_quantize_mxfp4_w(x, y, n, NULL);
}

void qi_dequantize_mxfp4(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QI_QK_MXFP4 == 0);
	for (int64_t b = 0; b < n / QI_QK_MXFP4; b++, y += QI_QK_MXFP4) {
		struct qi_block_mxfp4 xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = e8m0_half(xb.e);

		for (int j = 0; j < QI_QK_MXFP4 / 2; j++) {
			y[j] = fp4_values[xb.qs[j] & 0x0f] * d;
			y[j + 16] = fp4_values[xb.qs[j] >> 4] * d;
		}
	}
}
