/* q_simd_iq1.c - AVX2 form of qi_iq1.c's exhaustive split search (IQ1_S
 * and IQ1_M): for a first split point i1, the candidates of eight second
 * split points i2 are computed side by side, each lane the scalar
 * expressions for its i2 in their order. The scalar loop keeps a candidate
 * when it beats the best so far, in the order (i1, i2, sign choice); a
 * vector of candidates none of which beats the current best changes
 * nothing, so it is skipped, and a vector where one does is replayed
 * candidate by candidate in that order with the values the lanes computed.
 * The same result as the scalar loop (qsimd.h).
 */
#include "qsimd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include "q_simd_avx2.h"

/* lanes whose i2 = i2_0 + lane is past the last split point */
QT_AVX2_INLINE __m256 past(int i2_0, int last)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

	return _mm256_castsi256_ps(_mm256_cmpgt_epi32(
		_mm256_add_epi32(lane, _mm256_set1_epi32(i2_0)), _mm256_set1_epi32(last)));
}

/* lanes that beat best: sumq2 > 0 && sumqx * sumqx > best * sumq2, and
 * are in range */
QT_AVX2_INLINE __m256 beats(__m256 sumqx, __m256 sumq2, float best, __m256 out)
{
	const __m256 ok = _mm256_and_ps(
		_mm256_cmp_ps(sumq2, _mm256_setzero_ps(), _CMP_GT_OQ),
		_mm256_cmp_ps(_mm256_mul_ps(sumqx, sumqx), _mm256_mul_ps(_mm256_set1_ps(best), sumq2),
			      _CMP_GT_OQ));

	return _mm256_andnot_ps(out, ok);
}

/* the scalar loop over one vector's candidates, in order (second split
 * point, then kind), from the values the lanes computed: qx[kind][lane],
 * q2[kind][lane] */
static void replay(const float (*qx)[8], const float (*q2)[8], int nkind, int i1, int i2_0,
		   int blk, struct qt_iq1_best *b)
{
	for (int l = 0; l < 8 && i2_0 + l <= blk; l++) {
		for (int k = 0; k < nkind; k++) {
			if (q2[k][l] > 0 && qx[k][l] * qx[k][l] > b->best * q2[k][l]) {
				b->scale = qx[k][l] / q2[k][l];
				b->best = b->scale * qx[k][l];
				b->i1 = i1;
				b->i2 = i2_0 + l;
				b->kind = k;
			}
		}
	}
}

QT_AVX2 void qt_avx2_iq1s_search(const float *sumx, const float *sumw, int blk, const float x_p[3],
				 const float x_m[3], struct qt_iq1_best *b)
{
	const float *xs[2] = { x_p, x_m };

	for (int i1 = 0; i1 <= blk; i1++) {
		for (int i2_0 = i1; i2_0 <= blk; i2_0 += 8) {
			const __m256 out = past(i2_0, blk);
			const __m256 sx2 = _mm256_loadu_ps(sumx + i2_0), sw2 = _mm256_loadu_ps(sumw + i2_0);
			float qx[2][8], q2[2][8];
			int any = 0;

			for (int s = 0; s < 2; s++) {
				const float *x = xs[s];
				/* ((a * x0 + b * x1) + c * x2), each factor as the scalar code */
				const __m256 a = _mm256_set1_ps((sumx[i1] - sumx[0]) * x[0]);
				const __m256 bb = _mm256_mul_ps(_mm256_sub_ps(sx2, _mm256_set1_ps(sumx[i1])),
								_mm256_set1_ps(x[1]));
				const __m256 c = _mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(sumx[blk]), sx2),
							       _mm256_set1_ps(x[2]));
				const __m256 sqx = _mm256_add_ps(_mm256_add_ps(a, bb), c);
				const __m256 a2 = _mm256_set1_ps((sumw[i1] - sumw[0]) * x[0] * x[0]);
				const __m256 b2 = _mm256_mul_ps(
					_mm256_mul_ps(_mm256_sub_ps(sw2, _mm256_set1_ps(sumw[i1])),
						      _mm256_set1_ps(x[1])),
					_mm256_set1_ps(x[1]));
				const __m256 c2 = _mm256_mul_ps(
					_mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(sumw[blk]), sw2),
						      _mm256_set1_ps(x[2])),
					_mm256_set1_ps(x[2]));
				const __m256 sq2 = _mm256_add_ps(_mm256_add_ps(a2, b2), c2);

				_mm256_storeu_ps(qx[s], sqx);
				_mm256_storeu_ps(q2[s], sq2);
				any |= _mm256_movemask_ps(beats(sqx, sq2, b->best, out));
			}
			if (any)
				replay((const float (*)[8])qx, (const float (*)[8])q2, 2, i1, i2_0, blk, b);
		}
	}
}

QT_AVX2 void qt_avx2_iq1m_search(const float *const px[2], const float *const pw[2], int blk,
				 const float c[6], struct qt_iq1_best *b)
{
	/* c: p2, m2, cp1, cp2, cm1, cm2 */
	const float p2 = c[0], m2 = c[1], cp1 = c[2], cp2 = c[3], cm1 = c[4], cm2 = c[5];

	for (int i1 = 0; i1 <= blk; i1++) {
		for (int i2_0 = i1; i2_0 <= blk; i2_0 += 8) {
			const __m256 out = past(i2_0, blk);
			__m256 qxp[2], qxm[2], q2p[2], q2m[2];
			float qx[4][8], q2[4][8];
			int any = 0;

			for (int h = 0; h < 2; h++) {
				const float txs = px[h][blk], tws = pw[h][blk];
				const __m256 sx = _mm256_add_ps(_mm256_set1_ps(px[h][i1]),
								_mm256_loadu_ps(px[h] + i2_0));
				const __m256 w2 = _mm256_loadu_ps(pw[h] + i2_0);

				qxp[h] = _mm256_sub_ps(_mm256_set1_ps(txs * p2), sx);
				qxm[h] = _mm256_sub_ps(_mm256_set1_ps(txs * m2), sx);
				q2p[h] = _mm256_add_ps(_mm256_set1_ps(tws * p2 * p2 + pw[h][i1] * cp1),
						       _mm256_mul_ps(w2, _mm256_set1_ps(cp2)));
				q2m[h] = _mm256_add_ps(_mm256_set1_ps(tws * m2 * m2 + pw[h][i1] * cm1),
						       _mm256_mul_ps(w2, _mm256_set1_ps(cm2)));
			}
			const __m256 sqx[4] = {
				_mm256_add_ps(qxp[0], qxp[1]), _mm256_add_ps(qxp[0], qxm[1]),
				_mm256_add_ps(qxm[0], qxp[1]), _mm256_add_ps(qxm[0], qxm[1]),
			};
			const __m256 sq2[4] = {
				_mm256_add_ps(q2p[0], q2p[1]), _mm256_add_ps(q2p[0], q2m[1]),
				_mm256_add_ps(q2m[0], q2p[1]), _mm256_add_ps(q2m[0], q2m[1]),
			};

			for (int k = 0; k < 4; k++) {
				_mm256_storeu_ps(qx[k], sqx[k]);
				_mm256_storeu_ps(q2[k], sq2[k]);
				any |= _mm256_movemask_ps(beats(sqx[k], sq2[k], b->best, out));
			}
			if (any)
				replay((const float (*)[8])qx, (const float (*)[8])q2, 4, i1, i2_0, blk, b);
		}
	}
}

#else

/* never called: qt_simd_level() is always QT_SIMD_SCALAR here */
void qt_avx2_iq1s_search(const float *sumx, const float *sumw, int blk, const float x_p[3],
			 const float x_m[3], struct qt_iq1_best *b)
{
	(void)sumx; (void)sumw; (void)blk; (void)x_p; (void)x_m; (void)b;
}

void qt_avx2_iq1m_search(const float *const px[2], const float *const pw[2], int blk,
			 const float c[6], struct qt_iq1_best *b)
{
	(void)px; (void)pw; (void)blk; (void)c; (void)b;
}

#endif
