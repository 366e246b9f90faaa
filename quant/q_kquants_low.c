/* q_kquants_low.c - Q2_K, Q3_K and Q4_K: 256-element super-blocks.
 *
 * Each quantizer is ggml's quantize_row_<t>_ref: a scale search per
 * sub-block (qsearch.c), the sub-block scales quantized against the largest
 * one, the super-block scale stored as fp16, and then every sub-block
 * requantized with the *fp16-rounded* scales, dividing by the scale (not
 * multiplying by its inverse) as ggml does. Sub-blocks whose decoded scale
 * is 0 keep the levels of the first search. Layouts are in blocks.h.
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

/* 2-bit levels L[256] into qs[64]: in each 128-element half, byte l holds
 * elements l, l+32, l+64, l+96 from the low bits up. Shared by Q2_K/Q3_K. */
static void pack_2bit(uint8_t qs[64], const uint8_t *L)
{
	if (qt_simd_avx2()) {
		qt_avx2_pack_2bit(qs, L);
		return;
	}
	for (int h = 0; h < 2; h++) {
		const uint8_t *Lh = L + 128 * h;

		for (int l = 0; l < 32; l++)
			qs[32 * h + l] = (uint8_t)(Lh[l] | Lh[l + 32] << 2 |
						   Lh[l + 64] << 4 | Lh[l + 96] << 6);
	}
}

/* the 2 low bits of element e (0..255) from the Q2_K/Q3_K qs layout */
static int get_2bit(const uint8_t qs[64], int e)
{
	const int h = e / 128, r = e % 128;

	return qs[32 * h + r % 32] >> (2 * (r / 32)) & 3;
}

/* qkern.h: the requantization loops of the k-quant tails */
void qt_requant_sym(const float *x, int n, float d, int lo, int hi, int off, uint8_t *L)
{
	if (qt_simd_avx2()) {
		qt_avx2_requant_sym(x, n, d, lo, hi, off, L);
		return;
	}
	for (int i = 0; i < n; i++)
		L[i] = (uint8_t)(qt_imax(lo, qt_imin(hi, qt_nearest_int(x[i] / d))) + off);
}

void qt_requant_asym(const float *x, int n, float dm, float d, int nmax, uint8_t *L)
{
	if (qt_simd_avx2()) {
		qt_avx2_requant_asym(x, n, dm, d, nmax, L);
		return;
	}
	for (int i = 0; i < n; i++)
		L[i] = (uint8_t)qt_imax(0, qt_imin(nmax, qt_nearest_int((x[i] + dm) / d)));
}

/* ---- Q2_K ---- */

/* the 16 scale searches of a Q2_K super-block (qkern.h) */
static void q2_K_search(const float *x, float scales[16], float mins[16], uint8_t L[256])
{
	uint8_t Laux[16];
	float weights[16];

	for (int j = 0; j < 16; j++) {
		for (int l = 0; l < 16; l++)
			weights[l] = fabsf(x[16 * j + l]);
		scales[j] = qt_make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j,
						&mins[j], Laux, -0.5f, 0.1f, 15, true);
	}
}

void qt_q2_K_block(const float *x, struct qt_block_q2_K *y, qt_q2_search_fn search)
{
	uint8_t L[QT_QK_K];     /* levels 0..3 per element */
	float mins[16], scales[16]; /* per sub-block of 16 */
	float max_scale = 0.0f, max_min = 0.0f;

	search(x, scales, mins, L);
	for (int j = 0; j < 16; j++) {
		if (scales[j] > max_scale)
			max_scale = scales[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	/* 4-bit scale in the low nibble, 4-bit min in the high nibble */
	if (max_scale > 0) {
		const float iscale = 15.0f / max_scale;

		for (int j = 0; j < 16; j++)
			y->scales[j] = (uint8_t)qt_nearest_int(iscale * scales[j]);
		y->d = qt_fp32_to_fp16(max_scale / 15.0f);
	} else {
		memset(y->scales, 0, sizeof(y->scales));
		y->d = qt_fp32_to_fp16(0.0f);
	}
	if (max_min > 0) {
		const float iscale = 15.0f / max_min;

		for (int j = 0; j < 16; j++)
			y->scales[j] |= (uint8_t)((unsigned)qt_nearest_int(iscale * mins[j]) << 4);
		y->dmin = qt_fp32_to_fp16(max_min / 15.0f);
	} else {
		y->dmin = qt_fp32_to_fp16(0.0f);
	}
	qt_q2_K_finish(x, y, L);
}

/* qkern.h: shared with the weighted Q2_K (q_weighted.c) */
void qt_q2_K_finish(const float *x, struct qt_block_q2_K *y, uint8_t L[256])
{
	for (int j = 0; j < 16; j++) {
		const float d = qt_fp16_to_fp32(y->d) * (float)(y->scales[j] & 0x0f);

		if (d == 0.0f)
			continue;
		const float dm = qt_fp16_to_fp32(y->dmin) * (float)(y->scales[j] >> 4);

		qt_requant_asym(x + 16 * j, 16, dm, d, 3, L + 16 * j);
	}
	pack_2bit(y->qs, L);
}

void qt_quantize_q2_K(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK_K == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q2_K(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qt_block_q2_K yb;

		qt_q2_K_block(x + b * QT_QK_K, &yb, q2_K_search);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q2_K(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, y += QT_QK_K) {
		struct qt_block_q2_K xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d = qt_fp16_to_fp32(xb.d);
		const float min = qt_fp16_to_fp32(xb.dmin);

		for (int j = 0; j < 16; j++) {
			const uint8_t sc = xb.scales[j];
			const float dl = d * (float)(sc & 0x0f);
			const float ml = min * (float)(sc >> 4);

			for (int i = 0; i < 16; i++)
				y[16 * j + i] = dl * (float)get_2bit(xb.qs, 16 * j + i) - ml;
		}
	}
}

/* ---- Q3_K ---- */

/* 6-bit scale (stored +32) of sub-block j: low 4 bits in a nibble of
 * scales[j % 8], high 2 bits at bit 2*(j/4) of scales[8 + j%4]. */
static int q3_scale(const uint8_t s[12], int j)
{
	const int lo = j < 8 ? s[j] & 0x0f : s[j - 8] >> 4;
	const int hi = s[8 + j % 4] >> (2 * (j / 4)) & 3;

	return (lo | hi << 4) - 32;
}

/* the 16 scale searches of a Q3_K super-block (qkern.h) */
static void q3_K_search(const float *x, float scales[16], int8_t L[256])
{
	for (int j = 0; j < 16; j++)
		scales[j] = qt_make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
}

void qt_q3_K_block(const float *x, struct qt_block_q3_K *y, qt_s16_search_fn search)
{
	int8_t L[QT_QK_K];  /* levels 0..7 per element */
	float scales[16];   /* per sub-block of 16 */

	search(x, scales, L);
	qt_q3_K_from_search(x, y, scales, L);
}

void qt_q3_K_from_search(const float *x, struct qt_block_q3_K *y, const float scales[16],
			 int8_t L[256])
{
	float max_scale = 0.0f, amax = 0.0f;

	for (int j = 0; j < 16; j++) {
		if (fabsf(scales[j]) > amax) {
			amax = fabsf(scales[j]);
			max_scale = scales[j];
		}
	}
	memset(y->scales, 0, sizeof(y->scales));
	if (max_scale != 0.0f) {
		const float iscale = -32.0f / max_scale;

		for (int j = 0; j < 16; j++) {
			const int l = qt_imax(-32, qt_imin(31, qt_wrap_i8(qt_nearest_int(iscale * scales[j])))) + 32;

			if (j < 8)
				y->scales[j] = (uint8_t)(l & 0x0f);
			else
				y->scales[j - 8] |= (uint8_t)((l & 0x0f) << 4);
			y->scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
		}
		y->d = qt_fp32_to_fp16(1 / iscale);
	} else {
		y->d = qt_fp32_to_fp16(0.0f);
	}
	qt_q3_K_finish(x, y, L);
}

/* qkern.h: shared with the weighted Q3_K (q_weighted.c) */
void qt_q3_K_finish(const float *x, struct qt_block_q3_K *y, int8_t L[256])
{
	for (int j = 0; j < 16; j++) {
		const float d = qt_fp16_to_fp32(y->d) * (float)q3_scale(y->scales, j);

		if (d == 0.0f)
			continue;
		qt_requant_sym(x + 16 * j, 16, d, -4, 3, 4, (uint8_t *)L + 16 * j);
	}
	if (qt_simd_avx2()) {
		qt_avx2_q3_K_bits(L, y->hmask, y->qs);
		return;
	}
	/* levels 4..7 set the high bit (element e: bit e/32 of hmask[e%32]) */
	uint8_t low[QT_QK_K];

	memset(y->hmask, 0, sizeof(y->hmask));
	for (int e = 0; e < QT_QK_K; e++) {
		int l = L[e];

		if (l > 3) {
			y->hmask[e % 32] |= (uint8_t)(1u << (e / 32));
			l -= 4;
		}
		low[e] = (uint8_t)l;
	}
	pack_2bit(y->qs, low);
}

void qt_quantize_q3_K(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK_K == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q3_K(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qt_block_q3_K yb;

		qt_q3_K_block(x + b * QT_QK_K, &yb, q3_K_search);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q3_K(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, y += QT_QK_K) {
		struct qt_block_q3_K xb;

		memcpy(&xb, src + b * sizeof(xb), sizeof(xb));
		const float d_all = qt_fp16_to_fp32(xb.d);

		for (int j = 0; j < 16; j++) {
			const float dl = d_all * (float)q3_scale(xb.scales, j);

			for (int i = 0; i < 16; i++) {
				const int e = 16 * j + i;
				const int high = xb.hmask[e % 32] >> (e / 32) & 1;

				y[e] = dl * (float)(get_2bit(xb.qs, e) - (high ? 0 : 4));
			}
		}
	}
}

/* ---- Q4_K ---- */

/* qkern.h: store the 8 six-bit scales ls[] and mins lm[] (get_scale_min_k4
 * layout); shared with the weighted Q4_K/Q5_K */
void qt_pack_scale_min_k4(uint8_t q[12], const int ls[8], const int lm[8])
{
	for (int j = 0; j < 8; j++) {
		if (j < 4) {
			q[j] = (uint8_t)ls[j];
			q[j + 4] = (uint8_t)lm[j];
		} else {
			q[j + 4] = (uint8_t)((ls[j] & 0x0f) | (lm[j] & 0x0f) << 4);
			q[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
			q[j] |= (uint8_t)((lm[j] >> 4) << 6);
		}
	}
}

/* qkern.h: the 8 scale searches of a Q4_K / Q5_K super-block */
void qt_k4_search(const float *x, int nmax, float rmin, int nstep, float scales[8],
		  float mins[8], uint8_t L[256])
{
	uint8_t Laux[32];
	float weights[32];

	for (int j = 0; j < 8; j++) {
		const float *xj = x + 32 * j;
		float sum_x2 = 0.0f;

		for (int l = 0; l < 32; l++)
			sum_x2 += xj[l] * xj[l];
		const float av_x = sqrtf(sum_x2 / 32);

		for (int l = 0; l < 32; l++)
			weights[l] = av_x + fabsf(xj[l]);
		scales[j] = qt_make_qkx2_quants(32, nmax, xj, weights, L + 32 * j, &mins[j],
						Laux, rmin, 0.1f, nstep, false);
	}
}

/* qkern.h: shared with Q5_K (q_kquants_high.c) */
void qt_kquant_scales_k4(const float *x, int nmax, float rmin, int nstep, qt_k4_search_fn search,
			 uint8_t scales_out[12], uint16_t *d_out, uint16_t *dmin_out,
			 uint8_t L[256])
{
	float mins[8], scales[8]; /* per sub-block of 32 */
	int ls[8], lm[8];
	float max_scale = 0.0f, max_min = 0.0f;

	search(x, nmax, rmin, nstep, scales, mins, L);
	for (int j = 0; j < 8; j++) {
		if (scales[j] > max_scale)
			max_scale = scales[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
	const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;

	for (int j = 0; j < 8; j++) {
		/* ggml stores the result in a uint8_t before clamping to 63 */
		ls[j] = qt_imin(63, qt_nearest_int(inv_scale * scales[j]) & 0xff);
		lm[j] = qt_imin(63, qt_nearest_int(inv_min * mins[j]) & 0xff);
	}
	qt_pack_scale_min_k4(scales_out, ls, lm);
	*d_out = qt_fp32_to_fp16(max_scale / 63.0f);
	*dmin_out = qt_fp32_to_fp16(max_min / 63.0f);
	qt_kquant_requant_k4(x, nmax, scales_out, *d_out, *dmin_out, L);
}

void qt_kquant_requant_k4(const float *x, int nmax, const uint8_t scales[12], uint16_t d16,
			  uint16_t dmin16, uint8_t L[256])
{
	for (int j = 0; j < 8; j++) {
		int sc, m;

		qt_get_scale_min_k4(j, scales, &sc, &m);
		const float d = qt_fp16_to_fp32(d16) * (float)sc;

		if (d == 0.0f)
			continue;
		const float dm = qt_fp16_to_fp32(dmin16) * (float)m;

		qt_requant_asym(x + 32 * j, 32, dm, d, nmax, L + 32 * j);
	}
}

/* qkern.h: chunk c of 64: byte 32c + l = element 64c + l | element 64c + l + 32 << 4 */
void qt_pack_q4_K_qs(uint8_t qs[128], const uint8_t L[256])
{
	for (int c = 0; c < 4; c++)
		for (int l = 0; l < 32; l++)
			qs[32 * c + l] = (uint8_t)(L[64 * c + l] | L[64 * c + l + 32] << 4);
}

void qt_q4_K_block(const float *x, struct qt_block_q4_K *y, qt_k4_search_fn search)
{
	uint8_t L[QT_QK_K];

	qt_kquant_scales_k4(x, 15, -1.0f, 20, search, y->scales, &y->d, &y->dmin, L);
	qt_pack_q4_K_qs(y->qs, L);
}

void qt_quantize_q4_K(const float *x, void *vy, int64_t n)
{
	uint8_t *dst = vy; /* any alignment: each block goes through yb */

	assert(n % QT_QK_K == 0);
	if (qt_simd_avx2()) {
		qt_avx2_quantize_q4_K(x, vy, n);
		return;
	}
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qt_block_q4_K yb;

		qt_q4_K_block(x, &yb, qt_k4_search);
		memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));
	}
}

void qt_dequantize_q4_K(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx; /* any alignment: each block goes through xb */

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, y += QT_QK_K) {
		struct qt_block_q4_K xb;

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

			for (int l = 0; l < 32; l++)
				y[32 * j + l] = d1 * (float)(q[l] >> shift & 0x0f) - m1;
		}
	}
}
