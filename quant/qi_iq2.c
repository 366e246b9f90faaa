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

/* ---- IQ2_XXS ---- */

/* one sub-block of 32: its scale, grid indices q8[4], signs[4]; -1 for a
 * sub-block ggml leaves empty (all zero, or no positive scale) */
static float xxs_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		     const float *waux, uint8_t q8[4], uint8_t signs[4])
{
	float xval[32];
	int8_t L[32], Laux[32];
	uint8_t Lqp[32];
	float scale, eff_max, best = 0, sumqx, sumq2;

	qi_fold_signs(xb, weight, 32, xval, signs);
	memset(q8, 0, 4);
	if (qi_group_max(xval, 32) < QT_GROUP_MAX_EPS)
		return -1;
	scale = qt_make_qp_quants(32, KMAXQ + 1, xval, Lqp, weight);
	memcpy(L, Lqp, 32);
	eff_max = scale * KMAXQ;
	if (eff_max <= 0)
		return -1;
	for (int is = -6; is <= 6; is++) {
		float id = (2 * KMAXQ - 1 + is * 0.1f) / eff_max;
		float this_scale = 1 / id;

		for (int k = 0; k < 4; k++) {
			int u = qi_round_group(lat, xval + 8 * k, id, KMAXQ, Laux + 8 * k);

			if (lat->map[u] < 0)
				qi_best_neighbour(lat, u, xval + 8 * k, waux + 8 * k, this_scale,
					       Laux + 8 * k);
		}
		qi_fit(xval, weight, Laux, 32, &sumqx, &sumq2);
		if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
			scale = sumqx / sumq2;
			best = scale * sumqx;
			memcpy(L, Laux, 32);
		}
	}
	if (scale > 0) {
		float id = 1 / scale;

		for (int k = 0; k < 4; k++) {
			int u = qi_round_group(lat, xval + 8 * k, id, KMAXQ, L + 8 * k);
			int g = lat->map[u];

			if (g < 0)
				g = qi_best_neighbour(lat, u, xval + 8 * k, waux + 8 * k, scale, L + 8 * k);
			qi_grid_levels(lat, g, L + 8 * k);
		}
		qi_fit(xval, weight, L, 32, &sumqx, &sumq2);
		if (sumq2 > 0)
			scale = sumqx / sumq2;
	}
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

	assert(qw && n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K, qw += QT_QK_K) {
		struct qi_block_iq2_xxs yb;
		uint32_t q2[16];   /* per sub-block: grid bytes, then signs | scale << 28 */
		float scales[8], weight[32], waux[32], max_scale = 0, d, id;
		const float sigma2 = qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(q2, 0, sizeof q2);
		for (int s = 0; s < 8; s++) {
			uint8_t q8[4], signs[4];

			qi_weights(x + 32 * s, qw + 32 * s, sigma2, 32, weight, waux);
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

/* one sub-block of 16: its scale, q2[2] = grid index | signs << 9 */
static float xs_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		    const float *waux, uint16_t q2[2])
{
	float xval[16], best = 0, scale, max, sumqx, sumq2;
	int8_t L[16], Laux[16];
	bool on[2] = { true, true }, on_aux[2];
	uint8_t signs[2];

	qi_fold_signs(xb, weight, 16, xval, signs);
	max = qi_group_max(xval, 16);
	memset(L, 0, sizeof L);
	q2[0] = q2[1] = 0;
	if (max < QT_GROUP_MAX_EPS)
		return 0;
	scale = max / (2 * KMAXQ - 1);
	for (int is = -9; is <= 9; is++) {
		float id = (2 * KMAXQ - 1 + is * 0.1f) / max;
		float this_scale = 1 / id;

		for (int k = 0; k < 2; k++) {
			int u = qi_round_group(lat, xval + 8 * k, id, KMAXQ, Laux + 8 * k);

			on_aux[k] = lat->map[u] >= 0;
			if (!on_aux[k])
				qi_best_neighbour(lat, u, xval + 8 * k, waux + 8 * k, this_scale,
					       Laux + 8 * k);
		}
		qi_fit(xval, weight, Laux, 16, &sumqx, &sumq2);
		if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
			scale = sumqx / sumq2;
			best = scale * sumqx;
			memcpy(L, Laux, sizeof L);
			on[0] = on_aux[0];
			on[1] = on_aux[1];
		}
	}
	if ((!on[0] || !on[1]) && scale > 0) {
		float id = 1 / scale;

		for (int k = 0; k < 2; k++) {
			int u;

			if (on[k])
				continue;
			u = qi_round_group(lat, xval + 8 * k, id, KMAXQ, L + 8 * k);
			if (lat->map[u] < 0)
				qi_best_neighbour(lat, u, xval + 8 * k, waux + 8 * k, scale, L + 8 * k);
		}
		qi_fit(xval, weight, L, 16, &sumqx, &sumq2);
		if (sumq2 > 0)
			scale = sumqx / sumq2;
	}
	if (scale < 0) {
		scale = -scale;
		for (int k = 0; k < 2; k++)
			signs[k] = (uint8_t)(~signs[k] & 127);
	}
	for (int k = 0; k < 2; k++) {
		int g = lat->map[qi_pack_levels(lat, L + 8 * k)];

		assert(g >= 0);
		q2[k] = (uint16_t)(g | signs[k] << 9);
	}
	return scale;
}

void qi_quantize_iq2_xs_w(const float *x, void *vy, int64_t n, const float *qw)
{
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ2XS);
	uint8_t *dst = vy;

	assert(qw && n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K, qw += QT_QK_K) {
		struct qi_block_iq2_xs yb;
		uint16_t q2[32];
		float scales[16], weight[16], waux[16], max_scale = 0, d, id;
		const float sigma2 = qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(q2, 0, sizeof q2);
		memset(yb.scales, 0, sizeof yb.scales);
		for (int s = 0; s < 16; s++) {
			qi_weights(x + 16 * s, qw + 16 * s, sigma2, 16, weight, waux);
			scales[s] = xs_sub(lat, x + 16 * s, weight, waux, q2 + 2 * s);
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
