/* q_simd_nonlin.c - AVX2 form of qi_nonlin.c's IQ4_NL / IQ4_XS search:
 * eight blocks of 32 side by side, one per vector lane (the scheme of
 * quant/q_simd_kquants.c: every scalar statement of nl_block_scale becomes
 * the same operation on 8 lanes, in the same order, with the same float
 * intermediates; where the scalar code keeps a better trial, the lanes
 * blend under a mask). Same bytes as the scalar path (qsimd.h).
 *
 * The nearest table level: the scalar binary search over the 16 ascending
 * levels ends on hi = the first level above v (a NaN v ends on 15); with
 * the levels sorted that is 1 + the number of levels 1..14 that are not
 * above v, which every lane counts branch-free; then the same tie rule.
 */
#include "iquants.h"
#include "qsimd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include "qkern.h"
#include "q_simd_avx2.h"
#include "q_simd_lanes.h"

/* element j of the table for the 8 indices of idx (0..15) */
QT_AVX2_INLINE __m256 nl_lookup(const float *val, __m256i idx)
{
	const __m256 lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(val), idx);
	const __m256 hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(val + 8), idx);

	return qv_blend(lo, hi, _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7))));
}

/* qi_nonlin.c's nl_nearest on 8 lanes: the level index of each v */
QT_AVX2_INLINE __m256i nl_nearest_lanes(const float *val, __m256 v)
{
	__m256i hi = _mm256_set1_epi32(1);

	for (int k = 1; k < 15; k++) /* hi += !(v < val[k]) */
		hi = _mm256_sub_epi32(hi, _mm256_castps_si256(
						  _mm256_cmp_ps(v, _mm256_set1_ps(val[k]), _CMP_NLT_UQ)));
	const __m256i lo = _mm256_sub_epi32(hi, _mm256_set1_epi32(1));
	const __m256 take_lo = _mm256_cmp_ps(_mm256_sub_ps(v, nl_lookup(val, lo)),
					     _mm256_sub_ps(nl_lookup(val, hi), v), _CMP_LT_OQ);
	__m256i l = qv_blendi(hi, lo, take_lo);

	l = qv_blendi(l, _mm256_setzero_si256(),
		      _mm256_cmp_ps(v, _mm256_set1_ps(val[0]), _CMP_LE_OQ));
	return qv_blendi(l, _mm256_set1_epi32(15),
			 _mm256_cmp_ps(v, _mm256_set1_ps(val[15]), _CMP_GE_OQ));
}

/* nl_sums on 8 lanes: sum (w*q)*x and (w*q)*q in element order */
QT_AVX2_INLINE void nl_sums_lanes(const float *val, const __m256 *xt, const __m256 *wt,
				  __m256 inv, __m256 *sumqx, __m256 *sumq2)
{
	__m256 sqx = _mm256_setzero_ps(), sq2 = _mm256_setzero_ps();

	for (int j = 0; j < 32; j++) {
		const __m256 q = nl_lookup(val, nl_nearest_lanes(val, _mm256_mul_ps(inv, xt[j])));
		const __m256 wq = _mm256_mul_ps(wt[j], q);

		sqx = _mm256_add_ps(sqx, _mm256_mul_ps(wq, xt[j]));
		sq2 = _mm256_add_ps(sq2, _mm256_mul_ps(wq, q));
	}
	*sumqx = sqx;
	*sumq2 = sq2;
}

QT_AVX2 void qt_avx2_nl_scales(const int8_t levels[16], int ntry, const float *x, const float *w,
			       float scale[8])
{
	const __m256 zero = _mm256_setzero_ps();
	float val[16];
	__m256 xt[32], wt[32], amax, sumqx, sumq2; /* [32] lane vectors: element j of 8 blocks */

	for (int k = 0; k < 16; k++)
		val[k] = (float)levels[k];
	gather_groups(x, 32, 32, xt);
	gather_groups(w, 32, 32, wt);
	const __m256 max = qv_absmax(xt, 32, &amax);
	const __m256 empty = _mm256_cmp_ps(amax, _mm256_set1_ps(QT_GROUP_MAX_EPS), _CMP_LT_OQ);
	__m256 d = _mm256_div_ps(qv_neg(max), _mm256_set1_ps(val[0]));

	nl_sums_lanes(val, xt, wt, _mm256_div_ps(_mm256_set1_ps(1.0f), d), &sumqx, &sumq2);
	d = qv_blend(zero, _mm256_div_ps(sumqx, sumq2), _mm256_cmp_ps(sumq2, zero, _CMP_GT_OQ));
	__m256 best = _mm256_mul_ps(d, sumqx);

	for (int t = -ntry; t <= ntry; t++) {
		const __m256 inv = _mm256_div_ps(_mm256_set1_ps((float)(t + levels[0])), max);

		nl_sums_lanes(val, xt, wt, inv, &sumqx, &sumq2);
		const __m256 better = _mm256_and_ps(
			_mm256_cmp_ps(sumq2, zero, _CMP_GT_OQ),
			_mm256_cmp_ps(_mm256_mul_ps(sumqx, sumqx), _mm256_mul_ps(best, sumq2),
				      _CMP_GT_OQ));
		const __m256 nd = _mm256_div_ps(sumqx, sumq2);

		d = qv_blend(d, nd, better);
		best = qv_blend(best, _mm256_mul_ps(nd, sumqx), better);
	}
	_mm256_storeu_ps(scale, qv_blend(d, zero, empty));
}

QT_AVX2 void qt_avx2_nl_levels(const int8_t levels[16], const float *xb, float inv, uint8_t lv[32])
{
	float val[16];
	int32_t l[8];

	for (int k = 0; k < 16; k++)
		val[k] = (float)levels[k];
	for (int j = 0; j < 32; j += 8) {
		_mm256_storeu_si256((__m256i *)l, nl_nearest_lanes(val, _mm256_mul_ps(
								      _mm256_set1_ps(inv),
								      _mm256_loadu_ps(xb + j))));
		for (int k = 0; k < 8; k++)
			lv[j + k] = (uint8_t)l[k];
	}
}

#else

/* never called: qt_simd_level() is always QT_SIMD_SCALAR here */
void qt_avx2_nl_scales(const int8_t levels[16], int ntry, const float *x, const float *w,
		       float scale[8])
{
	(void)levels; (void)ntry; (void)x; (void)w; (void)scale;
}

void qt_avx2_nl_levels(const int8_t levels[16], const float *xb, float inv, uint8_t lv[32])
{
	(void)levels; (void)xb; (void)inv; (void)lv;
}

#endif
