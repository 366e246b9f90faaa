/* qi_iq1.c - IQ1_S: 8 values per point of a ternary grid (2048 points of
 * {-1, 0, 1}^8), shifted by +-1/8 per sub-block of 32, a 3-bit scale per
 * sub-block. ggml's quantize_row_iq1_s_impl (importance weights required,
 * as in ggml) and dequantize_row_iq1_s.
 *
 * Per sub-block the best 3-level split is found exactly: sort the values,
 * and for every pair of boundaries (i1 <= i2) the least-squares scale of
 * levels {-1, 0, 1} + shift follows from prefix sums of w x and w; both
 * shifts are tried. Groups of 8 whose levels are off the grid move to the
 * neighbour with the smallest weighted error, and the scale is refitted.
 */
#include "iquants.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fp16.h"
#include "qi_grid.h"
#include "qkern.h"
#include "qsimd.h"
#include "qtype.h"

#define IQ1S_DELTA 0.125f
#define EPS_IQ1_S 1e-12f /* ggml's GROUP_MAX_EPS_IQ1_S */
#define BLK 32

/* a value and its position, sorted by value with glibc's qsort exactly as
 * ggml sorts its (float, int) pairs, so that ties order the same way */
struct pair {
	float v;
	int32_t i;
};

static int by_value(const void *a, const void *b)
{
	const float l = ((const struct pair *)a)->v, r = ((const struct pair *)b)->v;

	return l < r ? -1 : l > r ? 1 : 0;
}

/* ggml's iq1_find_best_neighbour2: the neighbour with the smallest
 * sum w (scale xx[level] - x)^2, the first on a tie; its levels into L.
 * With AVX2 eight candidates at a time (q_simd_grid.c), the same choice. */
static int best_neighbour2(const struct qi_lattice *lat, int u, const float *xv,
			   const float *w, float scale, const float *xx, int8_t *L)
{
	const uint16_t *nb = lat->neigh + (-lat->map[u] - 1);
	float best = FLT_MAX;
	int gi = -1;

	if (qt_simd_avx2()) {
		const int k = qt_avx2_grid_nearest(lat->coord, 8, nb + 1, nb[0], xv, w, scale, xx);

		gi = k < 0 ? -1 : nb[1 + k];
	} else {
		for (int j = 1; j <= nb[0]; j++) {
			const uint8_t *pg = lat->coord + (size_t)nb[j] * 8;
			float d2 = 0;

			for (int i = 0; i < 8; i++) {
				float q = xx[(pg[i] - 1) / 2];
				float diff = scale * q - xv[i];

				d2 += w[i] * diff * diff;
			}
			if (d2 < best) {
				best = d2;
				gi = nb[j];
			}
		}
	}
	if (gi < 0)  /* every error NaN: ggml searches on and then aborts */
		gi = nb[1];
	qi_grid_levels(lat, gi, L);
	return gi;
}

/* every split i1 <= i2 of the sorted sub-block, both shifts (kind 0: x_p,
 * 1: x_m), in ggml's order; b keeps the best (qsimd.h's qt_iq1_best, the
 * scalar loop qt_avx2_iq1s_search mirrors) */
static void s_search(const float *sumx, const float *sumw, const float x_p[3],
		     const float x_m[3], struct qt_iq1_best *b)
{
	for (int i1 = 0; i1 <= BLK; i1++) {
		for (int i2 = i1; i2 <= BLK; i2++) {
			for (int sgn = 0; sgn < 2; sgn++) {
				const float *xs = sgn ? x_m : x_p;
				float sumqx = (sumx[i1] - sumx[0]) * xs[0] + (sumx[i2] - sumx[i1]) * xs[1] +
					      (sumx[BLK] - sumx[i2]) * xs[2];
				float sumq2 = (sumw[i1] - sumw[0]) * xs[0] * xs[0] +
					      (sumw[i2] - sumw[i1]) * xs[1] * xs[1] +
					      (sumw[BLK] - sumw[i2]) * xs[2] * xs[2];

				if (sumq2 > 0 && sumqx * sumqx > b->best * sumq2) {
					b->scale = sumqx / sumq2;
					b->best = b->scale * sumqx;
					b->i1 = i1;
					b->i2 = i2;
					b->kind = sgn;
				}
			}
		}
	}
}

/* one sub-block of 32: its scale and shift (+1, -1), grid[4]; -1 when
 * ggml leaves it empty */
static float s_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		   uint16_t grid[4], int *shift)
{
	static const float x_p[3] = { -1 + IQ1S_DELTA, IQ1S_DELTA, 1 + IQ1S_DELTA };
	static const float x_m[3] = { -1 - IQ1S_DELTA, -IQ1S_DELTA, 1 - IQ1S_DELTA };
	struct pair pairs[BLK];
	float sumx[BLK + 8], sumw[BLK + 8], max, scale; /* [BLK + 1] prefix sums, padded */
	int8_t L[BLK];
	int b1 = -1, b2 = -1, bshift = 0;
	bool all_on = true;
	const float *xx;

	max = fabsf(xb[0]);
	for (int i = 1; i < BLK; i++)
		max = max > fabsf(xb[i]) ? max : fabsf(xb[i]);
	if (max < EPS_IQ1_S)
		return -1;
	for (int j = 0; j < BLK; j++) {
		pairs[j].v = xb[j];
		pairs[j].i = j;
	}
	qsort(pairs, BLK, sizeof pairs[0], by_value);
	sumx[0] = sumw[0] = 0;
	for (int j = 0; j < BLK; j++) {
		const int i = pairs[j].i;

		sumx[j + 1] = sumx[j] + weight[i] * xb[i];
		sumw[j + 1] = sumw[j] + weight[i];
	}
	for (int j = BLK + 1; j < BLK + 8; j++)
		sumx[j] = sumw[j] = 0; /* the AVX2 search reads 8 split points at a time */
	struct qt_iq1_best sb = { max, -FLT_MAX, -1, -1, -1 };

	if (qt_simd_avx2())
		qt_avx2_iq1s_search(sumx, sumw, BLK, x_p, x_m, &sb);
	else
		s_search(sumx, sumw, x_p, x_m, &sb);
	scale = sb.scale;
	b1 = sb.i1;
	b2 = sb.i2;
	bshift = sb.kind < 0 ? 0 : sb.kind ? -1 : 1;
	if (b1 < 0 || b2 < 0 || bshift == 0)
		return -1;
	for (int j = 0; j < BLK; j++)
		L[pairs[j].i] = (int8_t)(j < b1 ? 0 : j < b2 ? 1 : 2);
	if (scale < 0) {
		for (int j = 0; j < BLK; j++)
			L[j] = (int8_t)(2 - L[j]);
		scale = -scale;
		bshift = -bshift;
	}
	xx = bshift == 1 ? x_p : x_m;
	for (int k = 0; k < BLK / 8; k++) {
		int u = qi_pack_levels(lat, L + 8 * k);
		int g = lat->map[u];

		if (g < 0) {
			all_on = false;
			g = best_neighbour2(lat, u, xb + 8 * k, weight + 8 * k, scale, xx, L + 8 * k);
		}
		grid[k] = (uint16_t)g;
	}
	if (!all_on) {
		float sumqx = 0, sumq2 = 0;

		for (int k = 0; k < BLK / 8; k++) {
			const uint8_t *pg = lat->coord + (size_t)grid[k] * 8;

			for (int j = 0; j < 8; j++) {
				float w = weight[8 * k + j];
				float q = xx[(pg[j] - 1) / 2];

				sumqx += w * q * xb[8 * k + j];
				sumq2 += w * q * q;
			}
		}
		if (sumqx > 0 && sumq2 > 0)
			scale = sumqx / sumq2;
	}
	*shift = bshift;
	return scale;
}

void qi_quantize_iq1_s_w(const float *x, void *vy, int64_t n, const float *qw)
{
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ1S);
	uint8_t *dst = vy;
	float unit[QT_QK_K]; /* weights of 1 stand in for a missing qw */

	assert(n % QT_QK_K == 0);
	qi_unit_weights(unit);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		const float *qwb = qw ? qw + b * QT_QK_K : unit;
		struct qi_block_iq1_s yb;
		float scales[QT_QK_K / BLK], weight[BLK], waux[BLK], max_scale = 0, d, id;
		int shifts[QT_QK_K / BLK];
		const float sigma2 = 2 * qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(&yb, 0, sizeof yb);
		for (int s = 0; s < QT_QK_K / BLK; s++) {
			uint16_t grid[4];
			unsigned h = 0;

			qi_weights(x + BLK * s, qwb + BLK * s, sigma2, BLK, weight, waux);
			shifts[s] = 1;
			scales[s] = s_sub(lat, x + BLK * s, weight, grid, &shifts[s]);
			if (scales[s] < 0) {
				scales[s] = 0;
				shifts[s] = 1;
				continue;
			}
			for (int k = 0; k < 4; k++) {
				yb.qs[4 * s + k] = (uint8_t)(grid[k] & 255);
				h |= (unsigned)(grid[k] >> 8) << 3 * k;
			}
			yb.qh[s] = (uint16_t)h;
			max_scale = max_scale > scales[s] ? max_scale : scales[s];
		}
		if (max_scale == 0) {
			memcpy(dst + b * sizeof yb, &yb, sizeof yb);
			continue;
		}
		d = max_scale / 15;
		yb.d = qt_fp32_to_fp16(d * 1.125f);
		id = 1 / d;
		for (int s = 0; s < QT_QK_K / BLK; s++) {
			int l = qt_imax(0, qt_imin(7, qt_nearest_int(0.5f * (id * scales[s] - 1))));

			if (shifts[s] == -1)
				l |= 8;
			yb.qh[s] = (uint16_t)(yb.qh[s] | l << 12);
		}
		memcpy(dst + b * sizeof yb, &yb, sizeof yb);
	}
}

void qi_dequantize_iq1_s(const void *vx, float *y, int64_t n)
{
	static const int8_t levels[3] = QI_GRID1_LEVELS;
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq1_s xb;

		memcpy(&xb, src + b * sizeof xb, sizeof xb);
		const float d = qt_fp16_to_fp32(xb.d);

		for (int s = 0; s < 8; s++) {
			const float dl = d * (float)(2 * ((xb.qh[s] >> 12) & 7) + 1);
			const float delta = xb.qh[s] & 0x8000 ? -IQ1S_DELTA : IQ1S_DELTA;

			for (int k = 0; k < 4; k++, y += 8) {
				const uint16_t pt = qi_kgrid_iq1s[xb.qs[4 * s + k] | ((xb.qh[s] >> 3 * k) & 7) << 8];

				for (int j = 0; j < 8; j++)
					y[j] = dl * (levels[pt >> 2 * j & 3] + delta);
			}
		}
	}
}

/* ---- IQ1_M: sub-blocks of 16, a shift per group of 8, 3-bit scales ---- */

#define M_BLK 16
#define EPS_IQ1_M 1e-7f /* ggml's GROUP_MAX_EPS_IQ1_M */

/* the shift table of group k (0, 1) for sign combination c (0: ++, 1: +-,
 * 2: -+, 3: --): x_p or x_m */
static const float *m_shift(int c, int k)
{
	static const float x_p[3] = { -1 + IQ1S_DELTA, IQ1S_DELTA, 1 + IQ1S_DELTA };
	static const float x_m[3] = { -1 - IQ1S_DELTA, -IQ1S_DELTA, 1 - IQ1S_DELTA };

	if (k == 0)
		return c < 2 ? x_p : x_m;
	return c % 2 == 0 ? x_p : x_m;
}

/* every split i1 <= i2 of the sorted sub-block and the 4 sign
 * combinations, in ggml's order, from the prefix sums of each half; c: p2,
 * m2, cp1, cp2, cm1, cm2 (see m_sub); b keeps the best (the scalar loop
 * qt_avx2_iq1m_search mirrors) */
static void m_search(const float *const px[2], const float *const pw[2], const float c[6],
		     struct qt_iq1_best *b)
{
	const float p2 = c[0], m2 = c[1], cp1 = c[2], cp2 = c[3], cm1 = c[4], cm2 = c[5];

	for (int i1 = 0; i1 <= M_BLK; i1++) {
		for (int i2 = i1; i2 <= M_BLK; i2++) {
			float qx_p[2], qx_m[2], q2_p[2], q2_m[2], sumqx[4], sumq2[4];

			for (int h = 0; h < 2; h++) {
				const float txs = px[h][M_BLK], tws = pw[h][M_BLK];
				const float sx = px[h][i1] + px[h][i2];

				qx_p[h] = txs * p2 - sx;
				qx_m[h] = txs * m2 - sx;
				q2_p[h] = tws * p2 * p2 + pw[h][i1] * cp1 + pw[h][i2] * cp2;
				q2_m[h] = tws * m2 * m2 + pw[h][i1] * cm1 + pw[h][i2] * cm2;
			}
			sumqx[0] = qx_p[0] + qx_p[1];
			sumqx[1] = qx_p[0] + qx_m[1];
			sumqx[2] = qx_m[0] + qx_p[1];
			sumqx[3] = qx_m[0] + qx_m[1];
			sumq2[0] = q2_p[0] + q2_p[1];
			sumq2[1] = q2_p[0] + q2_m[1];
			sumq2[2] = q2_m[0] + q2_p[1];
			sumq2[3] = q2_m[0] + q2_m[1];
			for (int k = 0; k < 4; k++) {
				if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > b->best * sumq2[k]) {
					b->scale = sumqx[k] / sumq2[k];
					b->best = b->scale * sumqx[k];
					b->i1 = i1;
					b->i2 = i2;
					b->kind = k;
				}
			}
		}
	}
}

/* one sub-block of 16: its scale, sign combination *comb, grid[2]; -1 when
 * ggml leaves it empty */
static float m_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		   uint16_t grid[2], int *comb)
{
	const float *x_p = m_shift(0, 0), *x_m = m_shift(3, 0);
	const float p2 = x_p[2], m2 = x_m[2];
	const float cp1 = x_p[0] * x_p[0] - x_p[1] * x_p[1];
	const float cp2 = x_p[1] * x_p[1] - x_p[2] * x_p[2];
	const float cm1 = x_m[0] * x_m[0] - x_m[1] * x_m[1];
	const float cm2 = x_m[1] * x_m[1] - x_m[2] * x_m[2];
	struct pair pairs[M_BLK];
	float px[2][M_BLK + 8], pw[2][M_BLK + 8]; /* [M_BLK + 1] prefix sums per half, padded */
	float max, scale;
	int8_t L[M_BLK];
	int b1 = -1, b2 = -1, bk = -1;
	bool all_on = true;

	max = fabsf(xb[0]);
	for (int i = 1; i < M_BLK; i++)
		max = max > fabsf(xb[i]) ? max : fabsf(xb[i]);
	if (max < EPS_IQ1_M)
		return -1;
	for (int j = 0; j < M_BLK; j++) {
		pairs[j].v = xb[j];
		pairs[j].i = j;
	}
	qsort(pairs, M_BLK, sizeof pairs[0], by_value);
	px[0][0] = px[1][0] = pw[0][0] = pw[1][0] = 0;
	for (int j = 0; j < M_BLK; j++) {
		const int i = pairs[j].i, h = i < M_BLK / 2 ? 0 : 1;

		px[h][j + 1] = px[h][j] + weight[i] * xb[i];
		px[1 - h][j + 1] = px[1 - h][j];
		pw[h][j + 1] = pw[h][j] + weight[i];
		pw[1 - h][j + 1] = pw[1 - h][j];
	}
	for (int h = 0; h < 2; h++)
		for (int j = M_BLK + 1; j < M_BLK + 8; j++)
			px[h][j] = pw[h][j] = 0; /* the AVX2 search reads 8 split points at a time */
	const float c[6] = { p2, m2, cp1, cp2, cm1, cm2 };
	const float *const ppx[2] = { px[0], px[1] }, *const ppw[2] = { pw[0], pw[1] };
	struct qt_iq1_best mb = { max, -FLT_MAX, -1, -1, -1 };

	if (qt_simd_avx2())
		qt_avx2_iq1m_search(ppx, ppw, M_BLK, c, &mb);
	else
		m_search(ppx, ppw, c, &mb);
	scale = mb.scale;
	b1 = mb.i1;
	b2 = mb.i2;
	bk = mb.kind;
	if (b1 < 0 || b2 < 0 || bk < 0)
		return -1;
	for (int j = 0; j < M_BLK; j++)
		L[pairs[j].i] = (int8_t)(j < b1 ? 0 : j < b2 ? 1 : 2);
	if (scale < 0) {
		for (int j = 0; j < M_BLK; j++)
			L[j] = (int8_t)(2 - L[j]);
		scale = -scale;
		bk = 3 - bk;
	}
	for (int k = 0; k < 2; k++) {
		int u = qi_pack_levels(lat, L + 8 * k);
		int g = lat->map[u];

		if (g < 0) {
			all_on = false;
			g = best_neighbour2(lat, u, xb + 8 * k, weight + 8 * k, scale, m_shift(bk, k),
					    L + 8 * k);
		}
		grid[k] = (uint16_t)g;
	}
	if (!all_on) {
		float sumqx = 0, sumq2 = 0;

		for (int k = 0; k < 2; k++) {
			const float *xx = m_shift(bk, k);
			const uint8_t *pg = lat->coord + (size_t)grid[k] * 8;

			for (int j = 0; j < 8; j++) {
				float w = weight[8 * k + j];
				float q = xx[(pg[j] - 1) / 2];

				sumqx += w * q * xb[8 * k + j];
				sumq2 += w * q * q;
			}
		}
		if (sumqx > 0 && sumq2 > 0)
			scale = sumqx / sumq2;
	}
	*comb = bk;
	return scale;
}

static void m_weights(const float *xb, const float *qw, float sigma2, float *weight)
{
	for (int i = 0; i < M_BLK; i++)
		weight[i] = qw ? qw[i] * sqrtf(sigma2 + xb[i] * xb[i]) : xb[i] * xb[i];
}

void qi_quantize_iq1_m_w(const float *x, void *vy, int64_t n, const float *qw)
{
	static const uint8_t masks[4] = { 0x00, 0x80, 0x08, 0x88 };
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ1S);
	uint8_t *dst = vy;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qi_block_iq1_m yb;
		const float *qwb = qw ? qw + b * QT_QK_K : NULL;
		float scales[QT_QK_K / M_BLK], weight[M_BLK], max_scale = 0, d, id;
		float sumqx = 0, sumq2 = 0;
		int comb[QT_QK_K / M_BLK];
		uint16_t sc[4] = { 0, 0, 0, 0 }, dh;
		const float sigma2 = 2 * qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(&yb, 0, sizeof yb);
		for (int s = 0; s < QT_QK_K / M_BLK; s++) {
			uint16_t grid[2];

			m_weights(x + M_BLK * s, qwb ? qwb + M_BLK * s : NULL, sigma2, weight);
			comb[s] = 0;
			scales[s] = m_sub(lat, x + M_BLK * s, weight, grid, &comb[s]);
			if (scales[s] < 0) {
				scales[s] = 0;
				comb[s] = 0;
				continue;
			}
			yb.qs[2 * s] = (uint8_t)(grid[0] & 255);
			yb.qs[2 * s + 1] = (uint8_t)(grid[1] & 255);
			yb.qh[s] = (uint8_t)((grid[0] >> 8) | (grid[1] >> 8) << 4);
			max_scale = max_scale > scales[s] ? max_scale : scales[s];
		}
		if (max_scale == 0) {
			memcpy(dst + b * sizeof yb, &yb, sizeof yb);
			continue;
		}
		d = max_scale / 15;
		id = 1 / d;
		for (int s = 0; s < QT_QK_K / M_BLK; s++) {
			const float *xb = x + M_BLK * s;
			int l = qt_imax(0, qt_imin(7, qt_nearest_int(0.5f * (id * scales[s] - 1))));

			sc[s / 4] = (uint16_t)(sc[s / 4] | l << 3 * (s % 4));
			yb.qh[s] |= masks[comb[s]];
			m_weights(xb, qwb ? qwb + M_BLK * s : NULL, sigma2, weight);
			for (int k = 0; k < 2; k++) {
				const float *xx = m_shift(comb[s], k);
				const int g = yb.qs[2 * s + k] + ((yb.qh[s] << (8 - 4 * k)) & 0x700);
				const uint8_t *pg = lat->coord + (size_t)g * 8;

				for (int j = 0; j < 8; j++) {
					float w = weight[8 * k + j];
					float q = xx[(pg[j] - 1) / 2] * (2 * l + 1);

					sumqx += w * q * xb[8 * k + j];
					sumq2 += w * q * q;
				}
			}
		}
		if (sumq2 > 0)
			d = sumqx / sumq2;
		dh = qt_fp32_to_fp16(d * 1.1125f);
		sc[0] = (uint16_t)(sc[0] | (dh & 0x000f) << 12);
		sc[1] = (uint16_t)(sc[1] | (dh & 0x00f0) << 8);
		sc[2] = (uint16_t)(sc[2] | (dh & 0x0f00) << 4);
		sc[3] = (uint16_t)(sc[3] | (dh & 0xf000));
		memcpy(yb.scales, sc, sizeof sc);
		memcpy(dst + b * sizeof yb, &yb, sizeof yb);
	}
}

void qi_quantize_iq1_m(const float *x, void *y, int64_t n)
{
	qi_quantize_iq1_m_w(x, y, n, NULL);
}

void qi_dequantize_iq1_m(const void *vx, float *y, int64_t n)
{
	static const int8_t levels[3] = QI_GRID1_LEVELS;
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq1_m xb;
		uint16_t sc[4];

		memcpy(&xb, src + b * sizeof xb, sizeof xb);
		memcpy(sc, xb.scales, sizeof sc);
		const uint16_t dh = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
					       ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
		const float d = qt_fp16_to_fp32(dh);

		for (int s = 0; s < QT_QK_K / M_BLK; s++) {
			const float dl = d * (float)(2 * ((sc[s / 4] >> 3 * (s % 4)) & 7) + 1);

			for (int k = 0; k < 2; k++, y += 8) {
				const float delta = xb.qh[s] & (k ? 0x80 : 0x08) ? -IQ1S_DELTA : IQ1S_DELTA;
				const uint16_t pt = qi_kgrid_iq1s[xb.qs[2 * s + k] | ((xb.qh[s] >> 4 * k) & 7) << 8];

				for (int j = 0; j < 8; j++)
					y[j] = dl * (levels[pt >> 2 * j & 3] + delta);
			}
		}
	}
}
