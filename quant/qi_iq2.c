/* qi_iq2.c - IQ2_XXS and IQ2_XS: 8 values per grid point of a 2-bit E8
 * lattice (256 and 512 points), signs with even parity, a 4-bit scale per
 * 32 (IQ2_XXS) or 16 (IQ2_XS) values. ggml's quantize_row_iq2_xxs_impl /
 * quantize_row_iq2_xs_impl (importance weights required, as in ggml) and
 * dequantize_row_iq2_xxs / _xs.
 *
 * Per group of 8: take |x| and remember the signs; an odd number of
 * negatives flips the sign of the least important element (smallest
 * w x^2), so that 7 sign bits suffice. Per sub-block: try scales around
 * the largest |x|, snap each group's levels to the grid (the best of the
 * neighbour map's candidates when the rounded point is not on it), keep
 * the scale with the best weighted fit, then store it as a 4-bit multiple
 * of max_scale / 31. Float expressions keep ggml's order.
 */
#include "iquants.h"

#include <assert.h>
#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <string.h>

#include "fp16.h"
#include "qi_grid.h"
#include "qkern.h"
#include "qtype.h"

#define KMAXQ 3
#define EPS_IQ2_S 1e-8f /* ggml's GROUP_MAX_EPS_IQ2_S */

/* ---- IQ2_XXS ---- */

/* one sub-block of 32: its scale, grid indices q8[4], signs[4]; -1 for a
 * sub-block ggml leaves empty (all zero, or no positive scale) */
static float xxs_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		     const float *waux, uint8_t q8[4], uint8_t signs[4])
{
	float xval[32], scale, eff_max;
	int8_t L[32];
	uint8_t Lqp[32];
	bool on[4];

	qi_fold_signs(xb, weight, 32, xval, signs);
	memset(q8, 0, 4);
	if (qi_group_max(xval, 32) < QT_GROUP_MAX_EPS)
		return -1;
	scale = qt_make_qp_quants(32, KMAXQ + 1, xval, Lqp, weight);
	memcpy(L, Lqp, 32);
	eff_max = scale * KMAXQ;
	if (eff_max <= 0)
		return -1;
	scale = qi_scale_search(lat, xval, weight, waux, 32, KMAXQ, 6, 0.1f, eff_max, scale, L,
				on);
	if (scale > 0)
		scale = qi_resnap(lat, xval, weight, waux, 32, KMAXQ, scale, L, NULL);
	if (scale < 0) {
		scale = -scale;
		for (int k = 0; k < 4; k++)
			signs[k] = (uint8_t)(~signs[k] & 127);
	}
	for (int k = 0; k < 4; k++) {
		int g = lat->map[qi_pack_levels(lat, L + 8 * k)];

		assert(g >= 0);
		q8[k] = (uint8_t)g;
	}
	return scale;
}

void qi_quantize_iq2_xxs_w(const float *x, void *vy, int64_t n, const float *qw)
{
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ2XXS);
	uint8_t *dst = vy;
	float unit[QT_QK_K]; /* weights of 1 stand in for a missing qw */

	assert(n % QT_QK_K == 0);
	qi_unit_weights(unit);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		const float *qwb = qw ? qw + b * QT_QK_K : unit;
		struct qi_block_iq2_xxs yb;
		uint32_t q2[16];   /* per sub-block: grid bytes, then signs | scale << 28 */
		float scales[8], weight[32], waux[32], max_scale = 0, d, id;
		const float sigma2 = qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(q2, 0, sizeof q2);
		for (int s = 0; s < 8; s++) {
			uint8_t q8[4], signs[4];

			qi_weights(x + 32 * s, qwb + 32 * s, sigma2, 32, weight, waux);
			scales[s] = xxs_sub(lat, x + 32 * s, weight, waux, q8, signs);
			if (scales[s] < 0) {
				scales[s] = 0;
				continue;
			}
			for (int k = 0; k < 4; k++) {
				q2[2 * s] |= (uint32_t)q8[k] << 8 * k;
				q2[2 * s + 1] |= (uint32_t)signs[k] << 7 * k;
			}
			max_scale = max_scale > scales[s] ? max_scale : scales[s];
		}
		yb.d = qt_fp32_to_fp16(0.f);
		if (max_scale == 0) {
			memset(yb.qs, 0, sizeof yb.qs);
			memcpy(dst + b * sizeof yb, &yb, sizeof yb);
			continue;
		}
		d = max_scale / 31;
		yb.d = qt_fp32_to_fp16(d);
		id = 1 / d;
		for (int s = 0; s < 8; s++) {
			int l = qt_imax(0, qt_imin(15, qt_nearest_int(0.5f * (id * scales[s] - 1))));

			q2[2 * s + 1] |= (uint32_t)l << 28;
		}
		memcpy(yb.qs, q2, sizeof yb.qs);
		memcpy(dst + b * sizeof yb, &yb, sizeof yb);
	}
}

/* ---- IQ2_XS ---- */

/* |x| with the 8 plain sign bits per group (IQ2_S, no parity trick) */
static void plain_signs(const float *xb, int n, float *xval, uint8_t *signs)
{
	for (int k = 0; k < n / 8; k++) {
		unsigned s = 0;

		for (int i = 0; i < 8; i++) {
			if (xb[8 * k + i] >= 0) {
				xval[8 * k + i] = xb[8 * k + i];
			} else {
				xval[8 * k + i] = -xb[8 * k + i];
				s |= 1u << i;
			}
		}
		signs[k] = (uint8_t)s;
	}
}

/* one sub-block of 16 (IQ2_XS, and IQ2_S with `plain`: 8 sign bits per
 * group, its own all-zero threshold): its scale, the two groups' grid
 * indices g[2] and signs[2]; -1 when ggml skips the sub-block */
static float xs_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		    const float *waux, bool plain, uint16_t g[2], uint8_t signs[2])
{
	float xval[16], scale, max;
	int8_t L[16];
	bool on[2] = { true, true };

	if (plain)
		plain_signs(xb, 16, xval, signs);
	else
		qi_fold_signs(xb, weight, 16, xval, signs);
	max = qi_group_max(xval, 16);
	memset(L, 0, sizeof L);
	if (max < (plain ? EPS_IQ2_S : QT_GROUP_MAX_EPS))
		return -1;
	scale = qi_scale_search(lat, xval, weight, waux, 16, KMAXQ, 9, 0.1f, max,
				max / (2 * KMAXQ - 1), L, on);
	if ((!on[0] || !on[1]) && scale > 0)
		scale = qi_resnap(lat, xval, weight, waux, 16, KMAXQ, scale, L, on);
	if (scale < 0) {
		scale = -scale;
		for (int k = 0; k < 2; k++)
			signs[k] = (uint8_t)(~signs[k] & (plain ? 255 : 127));
	}
	for (int k = 0; k < 2; k++) {
		int gi = lat->map[qi_pack_levels(lat, L + 8 * k)];

		assert(gi >= 0);
		g[k] = (uint16_t)gi;
	}
	return scale;
}

void qi_quantize_iq2_xs_w(const float *x, void *vy, int64_t n, const float *qw)
{
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ2XS);
	uint8_t *dst = vy;
	float unit[QT_QK_K]; /* weights of 1 stand in for a missing qw */

	assert(n % QT_QK_K == 0);
	qi_unit_weights(unit);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		const float *qwb = qw ? qw + b * QT_QK_K : unit;
		struct qi_block_iq2_xs yb;
		uint16_t q2[32];
		float scales[16], weight[16], waux[16], max_scale = 0, d, id;
		const float sigma2 = qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(q2, 0, sizeof q2);
		memset(yb.scales, 0, sizeof yb.scales);
		for (int s = 0; s < 16; s++) {
			uint16_t g[2];
			uint8_t signs[2];

			qi_weights(x + 16 * s, qwb + 16 * s, sigma2, 16, weight, waux);
			scales[s] = xs_sub(lat, x + 16 * s, weight, waux, false, g, signs);
			if (scales[s] < 0) {
				scales[s] = 0;
				continue;
			}
			q2[2 * s] = (uint16_t)(g[0] | signs[0] << 9);
			q2[2 * s + 1] = (uint16_t)(g[1] | signs[1] << 9);
			max_scale = max_scale > scales[s] ? max_scale : scales[s];
		}
		yb.d = qt_fp32_to_fp16(0.f);
		if (max_scale == 0) {
			memset(yb.qs, 0, sizeof yb.qs);
			memcpy(dst + b * sizeof yb, &yb, sizeof yb);
			continue;
		}
		d = max_scale / 31;
		yb.d = qt_fp32_to_fp16(d);
		id = 1 / d;
		for (int s = 0; s < 16; s++) {
			int l = qt_imax(0, qt_imin(15, qt_nearest_int(0.5f * (id * scales[s] - 1))));

			yb.scales[s / 2] |= (uint8_t)(l << 4 * (s % 2));
		}
		memcpy(yb.qs, q2, sizeof yb.qs);
		memcpy(dst + b * sizeof yb, &yb, sizeof yb);
	}
}

/* ---- IQ2_S: 1024-point grid, plain signs, weights optional ---- */

void qi_quantize_iq2_s_w(const float *x, void *vy, int64_t n, const float *qw)
{
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ2S);
	uint8_t *dst = vy;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qi_block_iq2_s yb;
		float scales[16], weight[16], waux[16], max_scale = 0, d, id;
		const float sigma2 = 2 * qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(&yb, 0, sizeof yb);
		for (int s = 0; s < 16; s++) {
			const float *xb = x + 16 * s;
			uint16_t g[2];
			uint8_t signs[2];

			if (qw) {
				qi_weights(xb, qw + b * QT_QK_K + 16 * s, sigma2, 16, weight, waux);
			} else {
				for (int i = 0; i < 16; i++)
					weight[i] = 0.25f * sigma2 + xb[i] * xb[i];
				for (int i = 0; i < 16; i++)
					waux[i] = sqrtf(weight[i]);
			}
			scales[s] = xs_sub(lat, xb, weight, waux, true, g, signs);
			if (scales[s] < 0) {
				scales[s] = 0;
				continue;
			}
			for (int k = 0; k < 2; k++) {
				const int i8 = 2 * s + k;

				yb.qs[i8] = (uint8_t)(g[k] & 255);
				yb.qh[i8 / 4] |= (uint8_t)((g[k] >> 8) << 2 * (i8 % 4));
				yb.qs[32 + i8] = signs[k];
			}
			max_scale = max_scale > scales[s] ? max_scale : scales[s];
		}
		if (max_scale == 0) {
			memcpy(dst + b * sizeof yb, &yb, sizeof yb);
			continue;
		}
		d = max_scale / 31;
		yb.d = qt_fp32_to_fp16(d * 0.9875f);
		id = 1 / d;
		for (int s = 0; s < 16; s++) {
			int l = qt_imax(0, qt_imin(15, qt_nearest_int(0.5f * (id * scales[s] - 1))));

			yb.scales[s / 2] |= (uint8_t)(l << 4 * (s % 2));
		}
		memcpy(dst + b * sizeof yb, &yb, sizeof yb);
	}
}

void qi_quantize_iq2_s(const float *x, void *y, int64_t n)
{
	qi_quantize_iq2_s_w(x, y, n, NULL);
}

/* ---- dequantization ---- */

static const uint8_t grid2_levels[3] = QI_GRID2_LEVELS;

/* the 8 bytes of grid point g of an IQ2 lattice, as ggml-common.h has them */
static void grid2_bytes(const uint16_t *kgrid, int g, uint8_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = grid2_levels[(kgrid[g] >> 2 * i) & 3];
}

static void put8(float *y, float db, const uint8_t grid[8], unsigned signs)
{
	for (int j = 0; j < 8; j++)
		y[j] = db * grid[j] * (signs & (1u << j) ? -1.f : 1.f);
}

void qi_dequantize_iq2_xxs(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq2_xxs xb;

		memcpy(&xb, src + b * sizeof xb, sizeof xb);
		const float d = qt_fp16_to_fp32(xb.d);

		for (int s = 0; s < 8; s++) {
			uint32_t aux[2];
			uint8_t grid[8];

			memcpy(aux, xb.qs + 4 * s, sizeof aux);
			const float db = d * (0.5f + (float)(aux[1] >> 28)) * 0.25f;

			for (int k = 0; k < 4; k++, y += 8) {
				grid2_bytes(qi_kgrid_iq2xxs, (int)(aux[0] >> 8 * k & 0xff), grid);
				put8(y, db, grid, qi_even_signs(aux[1] >> 7 * k & 127));
			}
		}
	}
}

void qi_dequantize_iq2_xs(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq2_xs xb;

		memcpy(&xb, src + b * sizeof xb, sizeof xb);
		const float d = qt_fp16_to_fp32(xb.d);

		for (int s = 0; s < 8; s++) {
			const float db[2] = { d * (0.5f + (float)(xb.scales[s] & 0xf)) * 0.25f,
					      d * (0.5f + (float)(xb.scales[s] >> 4)) * 0.25f };

			for (int k = 0; k < 4; k++, y += 8) {
				uint8_t grid[8];
				const uint16_t q = xb.qs[4 * s + k];

				grid2_bytes(qi_kgrid_iq2xs, q & 511, grid);
				put8(y, db[k / 2], grid, qi_even_signs(q >> 9));
			}
		}
	}
}

void qi_dequantize_iq2_s(const void *vx, float *y, int64_t n)
{
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq2_s xb;

		memcpy(&xb, src + b * sizeof xb, sizeof xb);
		const float d = qt_fp16_to_fp32(xb.d);

		for (int s = 0; s < 8; s++) {
			const float db[2] = { d * (0.5f + (float)(xb.scales[s] & 0xf)) * 0.25f,
					      d * (0.5f + (float)(xb.scales[s] >> 4)) * 0.25f };

			for (int k = 0; k < 4; k++, y += 8) {
				const int g = 4 * s + k;
				uint8_t grid[8];

				grid2_bytes(qi_kgrid_iq2s, xb.qs[g] | ((xb.qh[s] >> 2 * k) & 3) << 8, grid);
				put8(y, db[k / 2], grid, xb.qs[32 + g]);
			}
		}
	}
}
