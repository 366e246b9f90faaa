/* q_kquants_high.c - Q5_K, Q6_K and Q8_K: 256-element super-blocks.
 *
 * As in q_kquants_low.c, each quantizer is ggml's quantize_row_<t>_ref with its
 * evaluation order; layouts are in blocks.h.
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

/* ---- Q5_K ---- */

/* qkern.h: low 4 bits as Q4_K; bit 4 of element 64c + l goes to bit 2c of
 * qh[l], of element 64c + l + 32 to bit 2c + 1 */
void qt_pack_q5_K_qs(struct qt_block_q5_K *y, const uint8_t L[256])
{
	memset(y->qh, 0, sizeof(y->qh));
	for (int c = 0; c < 4; c++) {
		for (int l = 0; l < 32; l++) {
			const int l1 = L[64 * c + l], l2 = L[64 * c + l + 32];

			y->qh[l] |= (uint8_t)((l1 >> 4 & 1) << (2 * c) | (l2 >> 4 & 1) << (2 * c + 1));
			y->qs[32 * c + l] = (uint8_t)((l1 & 0x0f) | (l2 & 0x0f) << 4);
		}
	}
}

void qt_q5_K_block(const float *x, struct qt_block_q5_K *y, qt_k4_search_fn search)
{
	uint8_t L[QT_QK_K]; /* levels 0..31 */

	qt_kquant_scales_k4(x, 31, -0.5f, 15, search, y->scales, &y->d, &y->dmin, L);
	qt_pack_q5_K_qs(y, L);
}

void qt_quantize_q5_K(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK_K == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q5_K(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qt_block_q5_K yb;

		qt_q5_K_block(x, &yb, qt_k4_search);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q5_K(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, y += QT_QK_K) {
		struct qt_block_q5_K xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);
		const float min = qt_fp16_to_fp32(xb.dmin);

		for (int j = 0; j < 8; j++) {
			int sc, m;

			qt_get_scale_min_k4(j, xb.scales, &sc, &m);
			const float d1 = d * (float)sc;
			const float m1 = min * (float)m;
			const uint8_t *q = xb.qs + 32 * (j / 2);
			const int shift = 4 * (j % 2);

			for (int l = 0; l < 32; l++) {
				const int hi = xb.qh[l] >> j & 1; /* bit j = 2c or 2c+1 */

				y[32 * j + l] = d1 * (float)((q[l] >> shift & 0x0f) + (hi ? 16 : 0)) - m1;
			}
		}
	}
}

/* ---- Q6_K ---- */

/* the 16 scale searches of a Q6_K super-block (qkern.h) */
static void q6_K_search(const float *x, float scales[16], int8_t L[256])
{
	for (int j = 0; j < 16; j++)
		scales[j] = qt_make_qx_quants(16, 32, x + 16 * j, L + 16 * j, 1, NULL);
}

void qt_q6_K_block(const float *x, struct qt_block_q6_K *y, qt_s16_search_fn search)
{
	int8_t L[QT_QK_K]; /* levels 0..63 (q + 32) */
	float scales[16];  /* per sub-block of 16 */
	float max_scale = 0.0f, max_abs_scale = 0.0f;

	search(x, scales, L);
	for (int j = 0; j < 16; j++) {
		if (fabsf(scales[j]) > max_abs_scale) {
			max_abs_scale = fabsf(scales[j]);
			max_scale = scales[j];
		}
	}
	qt_q6_K_finish(x, y, scales, max_scale, max_abs_scale, L);
}

/* qkern.h: shared with the weighted Q6_K (q_weighted.c) */
void qt_q6_K_finish(const float *x, struct qt_block_q6_K *y, const float scales[16],
		    float max_scale, float max_abs_scale, int8_t L[256])
{
	if (max_abs_scale < QT_GROUP_MAX_EPS) {
		memset(y, 0, sizeof(*y)); /* d = fp16(0) = 0 too */
		return;
	}
	const float iscale = -128.0f / max_scale; /* the largest gets -128 */

	y->d = qt_fp32_to_fp16(1 / iscale);
	for (int j = 0; j < 16; j++)
		y->scales[j] = (int8_t)qt_wrap_i8(qt_imin(127, qt_nearest_int(iscale * scales[j])));
	for (int j = 0; j < 16; j++) {
		const float d = qt_fp16_to_fp32(y->d) * (float)y->scales[j];

		if (d == 0.0f)
			continue;
		qt_requant_sym(x + 16 * j, 16, d, -32, 31, 32, (uint8_t *)L + 16 * j);
	}
	/* in each half h of 128 elements, for l < 32: ql[64h + l] holds the low
	 * nibbles of elements l (low) and l + 64 (high), ql[64h + l + 32] those
	 * of l + 32 and l + 96; qh[32h + l] the high 2 bits of l, l + 32, l + 64,
	 * l + 96 from the low bits up */
	for (int h = 0; h < 2; h++) {
		const int8_t *Lh = L + 128 * h;
		uint8_t *ql = y->ql + 64 * h;
		uint8_t *qh = y->qh + 32 * h;

		for (int l = 0; l < 32; l++) {
			ql[l] = (uint8_t)((Lh[l] & 0x0f) | (Lh[l + 64] & 0x0f) << 4);
			ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0f) | (Lh[l + 96] & 0x0f) << 4);
			qh[l] = (uint8_t)(Lh[l] >> 4 | (Lh[l + 32] >> 4) << 2 |
					  (Lh[l + 64] >> 4) << 4 | (Lh[l + 96] >> 4) << 6);
		}
	}
}

void qt_quantize_q6_K(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK_K == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q6_K(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qt_block_q6_K yb;

		qt_q6_K_block(x + b * QT_QK_K, &yb, q6_K_search);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q6_K(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, y += QT_QK_K) {
		struct qt_block_q6_K xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);

		for (int e = 0; e < QT_QK_K; e++) {
			const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
			/* k = 0..3: ql byte l or l+32, low or high nibble */
			const uint8_t qlb = xb.ql[64 * h + l + 32 * (k & 1)];
			const int lo = (k < 2 ? qlb : qlb >> 4) & 0x0f;
			const int hi = xb.qh[32 * h + l] >> (2 * k) & 3;

			y[e] = d * (float)xb.scales[e / 16] * (float)((lo | hi << 4) - 32);
		}
	}
}

/* ---- Q8_K ---- */

void qt_quantize_q8_K(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qt_block_q8_K yb;
		float max = 0.0f, amax = 0.0f;

		for (int j = 0; j < QT_QK_K; j++) {
			if (fabsf(x[j]) > amax) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		}
		/* an all-zero block is d = 0, qs = 0 (ggml leaves its bsums
		 * unwritten; we zero them) */
		memset(&yb, 0, sizeof(yb));
		if (amax != 0.0f) {
			const float iscale = -127.0f / max;

			for (int j = 0; j < QT_QK_K; j++)
				yb.qs[j] = (int8_t)qt_wrap_i8(qt_imin(127, qt_nearest_int(iscale * x[j])));
			for (int j = 0; j < 16; j++) {
				int sum = 0;

				for (int i = 0; i < 16; i++)
					sum += yb.qs[16 * j + i];
				yb.bsums[j] = (int16_t)sum;
			}
			yb.d = 1 / iscale;
		}
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q8_K(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, y += QT_QK_K) {
		struct qt_block_q8_K xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		for (int j = 0; j < QT_QK_K; j++)
			y[j] = xb.d * (float)xb.qs[j];
	}
}
