/* q_simd_lanes.h - internal to q_simd_*.c: ggml's per-group scale
 * searches on 8 lanes, one group per lane (q_simd_kquants.c's header
 * comment explains the scheme), shared by the unweighted k-quants
 * (q_simd_kquants.c) and the weighted quantizers (q_simd_weighted.c).
 * Each function is the scalar search of qsearch.c on every lane, in its
 * order, with its float intermediates and tie-breaking.
 */
#ifndef QT_Q_SIMD_LANES_H
#define QT_Q_SIMD_LANES_H

#include <stdbool.h>
#include <stdint.h>

#include "qkern.h"
#include "q_simd_avx2.h"

/* sum of w * f(scale*L + min - x) per lane, f = |.| or square (qkx_error) */
QT_AVX2_INLINE __m256 qkx_error_lanes(int n, const __m256 *xt, const __m256 *wt, const __m256i *L,
				       __m256 scale, __m256 min, bool use_mad)
{
	__m256 err = _mm256_setzero_ps();

	for (int i = 0; i < n; i++) {
		__m256 diff = _mm256_sub_ps(
			_mm256_add_ps(_mm256_mul_ps(scale, _mm256_cvtepi32_ps(L[i])), min), xt[i]);

		diff = use_mad ? qv_abs(diff) : _mm256_mul_ps(diff, diff);
		err = _mm256_add_ps(err, _mm256_mul_ps(wt[i], diff));
	}
	return err;
}

/* lanes under `mask` end as the scalar early returns leave a group:
 * levels 0 and scale 0; returns the scale */
QT_AVX2_INLINE __m256 zero_groups(__m256i *L, int n, __m256 mask, __m256 scale)
{
	for (int i = 0; i < n; i++)
		L[i] = qv_blendi(L[i], _mm256_setzero_si256(), mask);
	return qv_blend(scale, _mm256_setzero_ps(), mask);
}

/* qt_make_qkx2_quants on 8 lanes: xt[i], wt[i] element i of each group
 * (i < n <= 32); L[i] gets the levels; returns the scale, *the_min_out the
 * amount to subtract */
QT_AVX2_INLINE __m256 qkx2_lanes(int n, int nmax, const __m256 *xt, const __m256 *wt, __m256i *L,
				  __m256 *the_min_out, float rmin, float rdelta, int nstep,
				  bool use_mad)
{
	const __m256 zero = _mm256_setzero_ps();
	__m256 min = xt[0], max = xt[0];
	__m256 sum_w = wt[0];
	__m256 sum_x = _mm256_mul_ps(sum_w, xt[0]);
	__m256i Laux[32];

	for (int i = 1; i < n; i++) {
		min = qv_blend(min, xt[i], _mm256_cmp_ps(xt[i], min, _CMP_LT_OQ));
		max = qv_blend(max, xt[i], _mm256_cmp_ps(xt[i], max, _CMP_GT_OQ));
		sum_w = _mm256_add_ps(sum_w, wt[i]);
		sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wt[i], xt[i]));
	}
	min = qv_blend(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
	const __m256 flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);
	__m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)nmax), _mm256_sub_ps(max, min));
	__m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);

	for (int i = 0; i < n; i++)
		L[i] = qv_clamp(qv_nearest_int(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, nmax);
	__m256 best_error = qkx_error_lanes(n, xt, wt, L, scale, min, use_mad);

	for (int is = 0; nstep >= 1 && is <= nstep; is++) {
		__m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
		/* uniform over the lanes: the scalar float expression; min is
		 * the best so far, as in the scalar loop */
		const float num = rmin + rdelta * (float)is + (float)nmax;

		iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(max, min));
		for (int i = 0; i < n; i++) {
			const __m256i l = qv_clamp(
				qv_nearest_int(_mm256_mul_ps(iscale, _mm256_sub_ps(xt[i], min))), 0, nmax);
			const __m256 lf = _mm256_cvtepi32_ps(l);
			const __m256 wl = _mm256_mul_ps(wt[i], lf);

			Laux[i] = l;
			sum_l = _mm256_add_ps(sum_l, wl);
			sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, lf));
			sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, xt[i]));
		}
		const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
		const __m256 ok = _mm256_cmp_ps(D, zero, _CMP_GT_OQ);

		if (_mm256_movemask_ps(ok) == 0)
			continue;
		__m256 this_scale = _mm256_div_ps(
			_mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
		__m256 this_min = _mm256_div_ps(
			_mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
		const __m256 pos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);

		this_min = qv_blend(this_min, zero, pos);
		this_scale = qv_blend(this_scale, _mm256_div_ps(sum_xl, sum_l2), pos);
		const __m256 cur_error = qkx_error_lanes(n, xt, wt, Laux, this_scale, this_min, use_mad);
		const __m256 better = _mm256_and_ps(ok, _mm256_cmp_ps(cur_error, best_error, _CMP_LT_OQ));

		for (int i = 0; i < n; i++)
			L[i] = qv_blendi(L[i], Laux[i], better);
		best_error = qv_blend(best_error, cur_error, better);
		scale = qv_blend(scale, this_scale, better);
		min = qv_blend(min, this_min, better);
	}
	/* a flat group: levels 0, scale 0, the min as clamped */
	*the_min_out = qv_neg(min);
	return zero_groups(L, n, flat, scale);
}

/* qt_make_qx_quants(n, nmax, x, L, 1, qw) on 8 lanes: wt[i] the weight of
 * element i of each group (qw), or NULL for rmse_type 1's x^2 (qw NULL);
 * L[i] = l + nmax */
QT_AVX2_INLINE __m256 qx_lanes(int n, int nmax, const __m256 *xt, const __m256 *wt, __m256i *L)
{
	const __m256 zero = _mm256_setzero_ps();
	__m256 amax;
	const __m256 max = qv_absmax(xt, n, &amax);
	const __m256 empty = _mm256_cmp_ps(amax, _mm256_set1_ps(QT_GROUP_MAX_EPS), _CMP_LT_OQ);
	__m256 w[32], wx[32]; /* the weights and weight * x (scalar: w*x[i]) */
	__m256 best = _mm256_setzero_ps(), scale = _mm256_setzero_ps();

	for (int i = 0; i < n; i++) {
		w[i] = wt ? wt[i] : _mm256_mul_ps(xt[i], xt[i]);
		wx[i] = _mm256_mul_ps(w[i], xt[i]);
	}
	for (int is = 0; is <= 18; is++) {
		/* is 0: the plain scale -nmax / max; then the scalar's -9..9 but 0 */
		const int step = is == 0 ? 0 : is <= 9 ? is - 10 : is - 9;
		const float num = is == 0 ? (float)-nmax : -((float)nmax + 0.1f * (float)step);
		const __m256 iscale = _mm256_div_ps(_mm256_set1_ps(num), max);
		__m256 sumlx = zero, suml2 = zero;
		__m256i Lt[32];

		for (int i = 0; i < n; i++) {
			const __m256i l = qv_clamp(qv_nearest_int(_mm256_mul_ps(iscale, xt[i])), -nmax,
						   nmax - 1);
			const __m256 lf = _mm256_cvtepi32_ps(l);

			Lt[i] = _mm256_add_epi32(l, _mm256_set1_epi32(nmax));
			sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(wx[i], lf));
			suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(w[i], lf), lf));
		}
		if (is == 0) {
			const __m256 nz = _mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ);

			for (int i = 0; i < n; i++)
				L[i] = Lt[i];
			scale = qv_blend(zero, _mm256_div_ps(sumlx, suml2), nz);
			best = _mm256_mul_ps(scale, sumlx);
			continue;
		}
		const __m256 better = _mm256_and_ps(
			_mm256_cmp_ps(suml2, zero, _CMP_GT_OQ),
			_mm256_cmp_ps(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2), _CMP_GT_OQ));
		const __m256 new_scale = _mm256_div_ps(sumlx, suml2);

		for (int i = 0; i < n; i++)
			L[i] = qv_blendi(L[i], Lt[i], better);
		scale = qv_blend(scale, new_scale, better);
		best = qv_blend(best, _mm256_mul_ps(new_scale, sumlx), better);
	}
	return zero_groups(L, n, empty, scale);
}

/* out[i] lane k = in[k] lane i: an 8x8 transpose in registers */
QT_AVX2_INLINE void transpose8(const __m256 in[8], __m256 out[8])
{
	__m256 r[8], t[8];

	for (int k = 0; k < 8; k += 2) {
		t[k] = _mm256_unpacklo_ps(in[k], in[k + 1]);
		t[k + 1] = _mm256_unpackhi_ps(in[k], in[k + 1]);
	}
	for (int k = 0; k < 8; k += 4) {
		r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
		r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xee);
		r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
		r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xee);
	}
	for (int k = 0; k < 4; k++) {
		out[k] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x20);
		out[k + 4] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x31);
	}
}

/* element i of 8 groups of `stride` floats starting at x */
QT_AVX2_INLINE void gather_groups(const float *x, int n, int stride, __m256 *xt)
{
	/* eight rows of 8 loaded and transposed (n is a multiple of 8): no
	 * gathers, which are slow on some x86-64 */
	for (int i0 = 0; i0 < n; i0 += 8) {
		__m256 r[8];

		for (int k = 0; k < 8; k++)
			r[k] = _mm256_loadu_ps(x + k * stride + i0);
		transpose8(r, xt + i0);
	}
}

/* lane k of L[i] -> out[k * stride + i] */
QT_AVX2_INLINE void scatter_u8(const __m256i *L, int n, int stride, uint8_t *out)
{
	int32_t v[8];

	for (int i = 0; i < n; i++) {
		_mm256_storeu_si256((__m256i *)v, L[i]);
		for (int k = 0; k < 8; k++)
			out[k * stride + i] = (uint8_t)v[k];
	}
}

#endif
