/* qi_iq3.c - IQ3_XXS: 4 values per point of a 3-bit D4 lattice (256
 * points), signs with even parity per 8, a 4-bit scale per 32. ggml's
 * quantize_row_iq3_xxs_impl with its 256-point grid (what quantize_iq3_xxs
 * runs; without importance weights x^2 stands in) and dequantize_row_iq3_xxs.
 *
 * The search is IQ2_XS's (qi_iq2.c) on groups of 4: 31 trial scales around
 * the largest |x|, off-grid groups snapped to their best neighbour, the
 * best weighted fit kept; groups still off the grid at the final scale are
 * snapped again and the scale refitted. The super-block scale is
 * max_scale / 31, stored times 1.0125 (ggml's fudge factor).
 */
#include "iquants.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "fp16.h"
#include "qi_grid.h"
#include "qkern.h"
#include "qtype.h"

#define KMAXQ 8
#define EPS_IQ3_XXS 1e-8f /* ggml's GROUP_MAX_EPS_IQ3_XXS */

/* one sub-block of 32: its scale; grid[8] indices; signs[4]. -1: empty */
static float xxs_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		     const float *waux, uint8_t grid[8], uint8_t signs[4])
{
	float xval[32], scale, max;
	int8_t L[32];
	bool on[8];
	int off = 0;

	qi_fold_signs(xb, weight, 32, xval, signs);
	max = qi_group_max(xval, 32);
	memset(L, 0, sizeof L);
	if (max < EPS_IQ3_XXS)
		return -1;
	for (int k = 0; k < 8; k++)
		on[k] = true;
	scale = qi_scale_search(lat, xval, weight, waux, 32, KMAXQ, 15, 0.2f, max,
				max / (2 * KMAXQ - 1), L, on);
	for (int k = 0; k < 8; k++)
		off += !on[k];
	if (off > 0 && scale > 0)
		scale = qi_resnap(lat, xval, weight, waux, 32, KMAXQ, scale, L, on);
	if (scale < 0) {
		scale = -scale;
		for (int k = 0; k < 4; k++)
			signs[k] = (uint8_t)(~signs[k] & 127);
	}
	for (int k = 0; k < 8; k++) {
		int g = lat->map[qi_pack_levels(lat, L + 4 * k)];

		assert(g >= 0);
		grid[k] = (uint8_t)g;
	}
	return scale;
}

void qi_quantize_iq3_xxs_w(const float *x, void *vy, int64_t n, const float *qw)
{
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ3XXS);
	uint8_t *dst = vy;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qi_block_iq3_xxs yb;
		uint8_t grid[64];           /* 8 indices per sub-block */
		uint32_t sas[8];            /* signs (4 x 7 bits) | scale << 28 */
		float scales[8], weight[32], waux[32], max_scale = 0, d, id;
		const float sigma2 = 2 * qi_sum_sq(x, QT_QK_K) / QT_QK_K;

		memset(grid, 0, sizeof grid);
		memset(sas, 0, sizeof sas);
		for (int s = 0; s < 8; s++) {
			uint8_t signs[4];

			qi_weights(x + 32 * s, qw ? qw + b * QT_QK_K + 32 * s : NULL, sigma2, 32,
				   weight, waux);
			scales[s] = xxs_sub(lat, x + 32 * s, weight, waux, grid + 8 * s, signs);
			if (scales[s] < 0) {
				scales[s] = 0;
				continue;
			}
			sas[s] = (uint32_t)signs[0] | (uint32_t)signs[1] << 7 |
				 (uint32_t)signs[2] << 14 | (uint32_t)signs[3] << 21;
			max_scale = max_scale > scales[s] ? max_scale : scales[s];
		}
		yb.d = qt_fp32_to_fp16(0.f);
		if (max_scale == 0) {
			memset(yb.qs, 0, sizeof yb.qs);
			memcpy(dst + b * sizeof yb, &yb, sizeof yb);
			continue;
		}
		d = max_scale / 31;
		yb.d = qt_fp32_to_fp16(d * 1.0125f);
		id = 1 / d;
		for (int s = 0; s < 8; s++) {
			int l = qt_imax(0, qt_imin(15, qt_nearest_int(0.5f * (id * scales[s] - 1))));

			sas[s] |= (uint32_t)l << 28;
		}
		memcpy(yb.qs, grid, sizeof grid);
		memcpy(yb.qs + 64, sas, sizeof sas);
		memcpy(dst + b * sizeof yb, &yb, sizeof yb);
	}
}

void qi_quantize_iq3_xxs(const float *x, void *y, int64_t n)
{
	qi_quantize_iq3_xxs_w(x, y, n, NULL);
}

void qi_dequantize_iq3_xxs(const void *vx, float *y, int64_t n)
{
	static const uint8_t levels[8] = QI_GRID3XXS_LEVELS;
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq3_xxs xb;

		memcpy(&xb, src + b * sizeof xb, sizeof xb);
		const float d = qt_fp16_to_fp32(xb.d);

		for (int s = 0; s < 8; s++) {
			uint32_t aux;

			memcpy(&aux, xb.qs + 64 + 4 * s, sizeof aux);
			const float db = d * (0.5f + (float)(aux >> 28)) * 0.5f;

			for (int k = 0; k < 4; k++, y += 8) {
				const unsigned signs = qi_even_signs(aux >> 7 * k & 127);

				for (int h = 0; h < 2; h++) {
					const uint16_t pt = qi_kgrid_iq3xxs[xb.qs[8 * s + 2 * k + h]];

					for (int j = 0; j < 4; j++)
						y[4 * h + j] = db * levels[pt >> 3 * j & 7] *
							       (signs & (1u << (4 * h + j)) ? -1.f : 1.f);
				}
			}
		}
	}
}

/* ---- IQ3_S: 512-point grid, 8 full sign bits per 8, 4-bit scales ---- */

#define IQ3S_BLOCK 32

/* one sub-block of 32: its scale, grid[8] indices, signs[4]; -1: ggml skips
 * it (every |x| exactly 0) */
static float s_sub(const struct qi_lattice *lat, const float *xb, const float *weight,
		   const float *waux, uint16_t grid[8], uint8_t signs[4])
{
	float xval[IQ3S_BLOCK], scale, max;
	int8_t L[IQ3S_BLOCK];
	bool on[8];
	int off = 0;

	for (int k = 0; k < 4; k++) {
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
	max = qi_group_max(xval, IQ3S_BLOCK);
	memset(L, 0, sizeof L);
	if (!max)
		return -1;
	for (int k = 0; k < 8; k++)
		on[k] = false;
	scale = qi_scale_search(lat, xval, weight, waux, IQ3S_BLOCK, KMAXQ, 9, 0.2f, max,
				max / (2 * KMAXQ - 1), L, on);
	for (int k = 0; k < 8; k++)
		off += !on[k];
	if (off > 0 && scale > 0)  /* every group, on the grid or not */
		scale = qi_resnap(lat, xval, weight, waux, IQ3S_BLOCK, KMAXQ, scale, L, NULL);
	if (scale < 0) {
		scale = -scale;
		for (int k = 0; k < 4; k++)
			signs[k] = (uint8_t)~signs[k];
	}
	for (int k = 0; k < 8; k++) {
		int g = lat->map[qi_pack_levels(lat, L + 4 * k)];

		assert(g >= 0);
		grid[k] = (uint16_t)g;
	}
	return scale;
}

void qi_quantize_iq3_s_w(const float *x, void *vy, int64_t n, const float *qw)
{
	const struct qi_lattice *lat = qi_lattice(QI_LAT_IQ3S);
	uint8_t *dst = vy;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++, x += QT_QK_K) {
		struct qi_block_iq3_s yb;
		float scales[8], weight[32], waux[32], max_scale = 0, d, id;
		const float sigma2 = 2 * qi_sum_sq(x, QT_QK_K) / QT_QK_K;
		/* ggml advances its qs / signs cursors only past the sub-blocks
		 * it stores: a skipped sub-block shifts the later ones down */
		int qs_at = 0, signs_at = 0;

		memset(&yb, 0, sizeof yb);
		for (int s = 0; s < 8; s++) {
			uint16_t grid[8];
			uint8_t signs[4];

			qi_weights(x + 32 * s, qw ? qw + b * QT_QK_K + 32 * s : NULL, sigma2, 32,
				   weight, waux);
			scales[s] = s_sub(lat, x + 32 * s, weight, waux, grid, signs);
			if (scales[s] < 0) {
				scales[s] = 0;
				continue;
			}
			for (int k = 0; k < 8; k++) {
				yb.qs[qs_at + k] = (uint8_t)(grid[k] & 255);
				yb.qh[(8 * s + k) / 8] |= (uint8_t)((grid[k] >> 8) << (8 * s + k) % 8);
			}
			qs_at += 8;
			memcpy(yb.signs + signs_at, signs, 4);
			signs_at += 4;
			max_scale = max_scale > scales[s] ? max_scale : scales[s];
		}
		if (max_scale == 0) {
			memcpy(dst + b * sizeof yb, &yb, sizeof yb);
			continue;
		}
		d = max_scale / 31;
		yb.d = qt_fp32_to_fp16(d * 1.033f);
		id = 1 / d;
		for (int s = 0; s < 8; s += 2) {
			int l1 = qt_imax(0, qt_imin(15, qt_nearest_int(0.5f * (id * scales[s] - 1))));
			int l2 = qt_imax(0, qt_imin(15, qt_nearest_int(0.5f * (id * scales[s + 1] - 1))));

			yb.scales[s / 2] = (uint8_t)(l1 | l2 << 4);
		}
		memcpy(dst + b * sizeof yb, &yb, sizeof yb);
	}
}

void qi_quantize_iq3_s(const float *x, void *y, int64_t n)
{
	qi_quantize_iq3_s_w(x, y, n, NULL);
}

void qi_dequantize_iq3_s(const void *vx, float *y, int64_t n)
{
	static const uint8_t levels[8] = QI_GRID3S_LEVELS;
	const uint8_t *src = vx;

	assert(n % QT_QK_K == 0);
	for (int64_t b = 0; b < n / QT_QK_K; b++) {
		struct qi_block_iq3_s xb;

		memcpy(&xb, src + b * sizeof xb, sizeof xb);
		const float d = qt_fp16_to_fp32(xb.d);

		for (int s = 0; s < 8; s++) {
			const float db = d * (float)(1 + 2 * ((xb.scales[s / 2] >> 4 * (s % 2)) & 0xf));

			for (int j = 0; j < 8; j++) {  /* groups of 4 */
				const int g = 8 * s + j;
				const int idx = xb.qs[g] | ((xb.qh[s] >> j) & 1) << 8;
				const uint8_t sg = xb.signs[4 * s + j / 2];

				for (int i = 0; i < 4; i++)
					y[4 * j + i] = db * levels[qi_kgrid_iq3s[idx] >> 3 * i & 7] *
						       (sg & (1u << (4 * (j % 2) + i)) ? -1.f : 1.f);
			}
			y += 32;
		}
	}
}
