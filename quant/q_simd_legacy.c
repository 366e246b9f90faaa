/* q_simd_legacy.c - AVX2 Q4_0 ... Q8_0 (a block's 32 elements in four
 * vectors) and the fp16/bf16 row conversions (one element per lane).
 *
 * A legacy block's scale comes from a reduction over its 32 values; the
 * scalar loops take the first value that beats the ones before it. The
 * value they end with does not depend on the order except in two cases,
 * handled as the scalar code would: which zero (+0 or -0) wins when the
 * extreme is a zero (the first zero of the block: looked up), and a NaN in
 * Q8_0's `amax > |x| ? amax : |x|` (such a block is reduced in the scalar
 * order). Q4_0/Q5_0's absmax and Q4_1/Q5_1's min/max skip NaN by their
 * comparisons, as max/min with the accumulator second do. The elements are
 * then quantized with that block's scale, lane by lane. The fp16/bf16
 * conversions are the bit recipes of fp16.h on 8 lanes, every case (NaN,
 * overflow, normal, subnormal, zero) computed and selected.
 */
#include "qsimd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <float.h>
#include <math.h>
#include <string.h>

#include "blocks.h"
#include "fp16.h"
#include "qkern.h"
#include "q_simd_avx2.h"

/* one block: x[32] as 4 vectors */
struct blk {
	__m256 v[4];
};

QT_AVX2_INLINE struct blk load_blk(const float *x)
{
	struct blk b;

	for (int k = 0; k < 4; k++)
		b.v[k] = _mm256_loadu_ps(x + 8 * k);
	return b;
}

/* horizontal reductions of 8 lanes with op(lane, acc) */
QT_AVX2_INLINE float hmax(__m256 v)
{
	__m128 m = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));

	m = _mm_max_ps(_mm_movehl_ps(m, m), m);
	m = _mm_max_ss(_mm_shuffle_ps(m, m, 1), m);
	return _mm_cvtss_f32(m);
}

QT_AVX2_INLINE float hmin(__m256 v)
{
	__m128 m = _mm_min_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));

	m = _mm_min_ps(_mm_movehl_ps(m, m), m);
	m = _mm_min_ss(_mm_shuffle_ps(m, m, 1), m);
	return _mm_cvtss_f32(m);
}

/* index of the first element equal to `v` (as float ==) */
QT_AVX2_INLINE int first_equal(const struct blk *b, float v)
{
	const __m256 t = _mm256_set1_ps(v);
	uint32_t mask = 0;

	for (int k = 0; k < 4; k++)
		mask |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(b->v[k], t, _CMP_EQ_OQ)) << (8 * k);
	return __builtin_ctz(mask); /* callers know one exists */
}

/* q_legacy.c's signed_absmax: the first value of largest |x| (NaN never
 * wins: |NaN| is replaced by 0 before the max); +0 when all are zero */
QT_AVX2_INLINE float signed_absmax(const float *x, const struct blk *b)
{
	__m256 acc = _mm256_setzero_ps();
	struct blk a;

	for (int k = 0; k < 4; k++) {
		a.v[k] = _mm256_and_ps(qv_abs(b->v[k]), _mm256_cmp_ps(b->v[k], b->v[k], _CMP_ORD_Q));
		acc = _mm256_max_ps(a.v[k], acc);
	}
	const float amax = hmax(acc);

	return amax > 0.0f ? x[first_equal(&a, amax)] : 0.0f;
}

/* q_legacy.c's min_max: lo from FLT_MAX, hi from -FLT_MAX, NaN skipped; a
 * zero extreme is the block's first zero, with its sign (a zero min is
 * stored as m; a zero max shows only in an all-zero block, where max - min
 * must be first zero minus itself, +0) */
QT_AVX2_INLINE void min_max(const float *x, const struct blk *b, float *lo_out, float *hi_out)
{
	__m256 lo = _mm256_set1_ps(FLT_MAX), hi = _mm256_set1_ps(-FLT_MAX);

	for (int k = 0; k < 4; k++) {
		lo = _mm256_min_ps(b->v[k], lo); /* v < lo ? v : lo */
		hi = _mm256_max_ps(b->v[k], hi);
	}
	const float l = hmin(lo), h = hmax(hi);

	*lo_out = l == 0.0f ? x[first_equal(b, 0.0f)] : l;
	*hi_out = h == 0.0f ? x[first_equal(b, 0.0f)] : h;
}

/* 1/d where d != 0, else 0 (`d != 0.0f` is true for a NaN) */
static inline float inv_or_zero(float d)
{
	return d != 0.0f ? 1.0f / d : 0.0f;
}

/* four vectors of ints in 0..255 as 32 bytes in element order */
QT_AVX2_INLINE __m256i pack_bytes(const __m256i q[4])
{
	const __m256i ab = _mm256_packus_epi32(q[0], q[1]);
	const __m256i cd = _mm256_packus_epi32(q[2], q[3]);

	return _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd),
					   _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* qs[j] = lo(B[j]) | B[j + 16] << 4 with lo = the whole byte (Q4_0, Q4_1:
 * ggml ORs the full byte of q0) or its low nibble (Q5_0, Q5_1) */
QT_AVX2_INLINE void put_nibbles(__m256i B, uint8_t qs[16], int lo_mask)
{
	const __m128i lo = _mm_and_si128(_mm256_castsi256_si128(B), _mm_set1_epi8((char)lo_mask));
	const __m128i hi = _mm_and_si128(_mm_slli_epi16(_mm256_extracti128_si256(B, 1), 4),
					 _mm_set1_epi8((char)0xf0));

	_mm_storeu_si128((__m128i *)qs, _mm_or_si128(lo, hi));
}

/* bit 4 of byte j as bit j of the little-endian qh */
QT_AVX2_INLINE void put_qh(__m256i B, uint8_t qh[4])
{
	const uint32_t bits = (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(B, 3));

	for (int k = 0; k < 4; k++)
		qh[k] = (uint8_t)(bits >> (8 * k));
}

/* (x - sub) * id + add (sub = +0 for Q4_0/Q5_0: x - (+0) is x for every
 * x, -0 and NaN included), cast as `cast`, clamped to at most `hi` (or not:
 * hi < 0), low byte: the four vectors of a block's levels */
QT_AVX2_INLINE __m256i levels(const struct blk *b, float sub, float id, float add, int hi,
			      int cast_u8)
{
	__m256i q[4];

	for (int k = 0; k < 4; k++) {
		const __m256 v = _mm256_add_ps(
			_mm256_mul_ps(_mm256_sub_ps(b->v[k], _mm256_set1_ps(sub)), _mm256_set1_ps(id)),
			_mm256_set1_ps(add));
		__m256i l = cast_u8 ? _mm256_cvttps_epi32(v) : qv_cast_i8(v);

		if (hi >= 0)
			l = _mm256_min_epi32(_mm256_set1_epi32(hi), l);
		q[k] = _mm256_and_si256(l, _mm256_set1_epi32(0xff));
	}
	return pack_bytes(q);
}

static QT_AVX2 void q4_0_block(const float *x, struct qt_block_q4_0 *y)
{
	const struct blk b = load_blk(x);
	const float d = signed_absmax(x, &b) / -8;

	y->d = qt_fp32_to_fp16(d);
	put_nibbles(levels(&b, 0.0f, inv_or_zero(d), 8.5f, 15, 0), y->qs, 0xff);
}

static QT_AVX2 void q4_1_block(const float *x, struct qt_block_q4_1 *y)
{
	const struct blk b = load_blk(x);
	float min, max;

	min_max(x, &b, &min, &max);
	const float d = (max - min) / 15;

	y->d = qt_fp32_to_fp16(d);
	y->m = qt_fp32_to_fp16(min);
	put_nibbles(levels(&b, min, inv_or_zero(d), 0.5f, 15, 0), y->qs, 0xff);
}

static QT_AVX2 void q5_0_block(const float *x, struct qt_block_q5_0 *y)
{
	const struct blk b = load_blk(x);
	const float d = signed_absmax(x, &b) / -16;
	const __m256i B = levels(&b, 0.0f, inv_or_zero(d), 16.5f, 31, 0);

	y->d = qt_fp32_to_fp16(d);
	put_nibbles(B, y->qs, 0x0f);
	put_qh(B, y->qh);
}

static QT_AVX2 void q5_1_block(const float *x, struct qt_block_q5_1 *y)
{
	const struct blk b = load_blk(x);
	float min, max;

	min_max(x, &b, &min, &max);
	const float d = (max - min) / 31;
	/* no clamp at 31 in ggml's Q5_1: the low byte of the truncation */
	const __m256i B = levels(&b, min, inv_or_zero(d), 0.5f, -1, 1);

	y->d = qt_fp32_to_fp16(d);
	y->m = qt_fp32_to_fp16(min);
	put_nibbles(B, y->qs, 0x0f);
	put_qh(B, y->qh);
}

/* roundf on each lane: half away from zero. v - trunc(v) is exact, so
 * |frac| >= 0.5 decides; infinities and NaN pass through trunc unchanged. */
QT_AVX2_INLINE __m256 round_away(__m256 v)
{
	const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	const __m256 up = _mm256_cmp_ps(qv_abs(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
	const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f),
					_mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u))));

	return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

static QT_AVX2 void q8_0_block(const float *x, struct qt_block_q8_0 *y)
{
	const struct blk b = load_blk(x);
	__m256 acc = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
	__m256i q[4];
	float amax;

	for (int k = 0; k < 4; k++) {
		acc = _mm256_max_ps(qv_abs(b.v[k]), acc);
		nan = _mm256_or_ps(nan, _mm256_cmp_ps(b.v[k], b.v[k], _CMP_UNORD_Q));
	}
	amax = hmax(acc);
	if (_mm256_movemask_ps(nan)) { /* the scalar order decides */
		amax = 0.0f;
		for (int j = 0; j < QT_QK8_0; j++)
			amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
	}
	const float d = amax / 127;
	const __m256 id = _mm256_set1_ps(inv_or_zero(d));

	y->d = qt_fp32_to_fp16(d);
	for (int k = 0; k < 4; k++)
		q[k] = _mm256_and_si256(qv_cast_i8(round_away(_mm256_mul_ps(b.v[k], id))),
					_mm256_set1_epi32(0xff));
	_mm256_storeu_si256((__m256i *)y->qs, pack_bytes(q));
}

#define LEGACY_ROW(name, QK)                                                          \
	QT_AVX2 void qt_avx2_quantize_##name(const float *x, void *vy, int64_t n)     \
	{                                                                             \
		uint8_t *dst = vy; /* any alignment: each block goes through yb */    \
		for (int64_t b = 0; b < n / QK; b++) {                                \
			struct qt_block_##name yb;                                    \
			name##_block(x + b * QK, &yb);                                \
			memcpy(dst + b * sizeof(yb), &yb, sizeof(yb));                \
		}                                                                     \
	}
LEGACY_ROW(q4_0, QT_QK4_0)
LEGACY_ROW(q4_1, QT_QK4_1)
LEGACY_ROW(q5_0, QT_QK5_0)
LEGACY_ROW(q5_1, QT_QK5_1)
LEGACY_ROW(q8_0, QT_QK8_0)

/* ---- fp16 / bf16 rows ---- */

/* 8 fp32 -> 8 fp16 patterns in the low 16 bits of each lane (fp16.h) */
QT_AVX2_INLINE __m256i to_fp16_lanes(__m256 f)
{
	const __m256i w = _mm256_castps_si256(f);
	const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(w, 16), _mm256_set1_epi32(0x8000));
	const __m256i a = _mm256_and_si256(w, _mm256_set1_epi32(0x7fffffff));
	const __m256i one = _mm256_set1_epi32(1);
	/* a normal half: rebias, drop 13 bits, round half to even */
	__m256i hn = _mm256_srli_epi32(_mm256_sub_epi32(a, _mm256_set1_epi32(0x38000000)), 13);
	const __m256i rn = _mm256_add_epi32(_mm256_and_si256(a, _mm256_set1_epi32(0x1fff)),
					    _mm256_and_si256(hn, one));
	/* a subnormal half: units of 2^-24; shift = 126 - exponent */
	const __m256i shift = _mm256_sub_epi32(_mm256_set1_epi32(126), _mm256_srli_epi32(a, 23));
	const __m256i m = _mm256_or_si256(_mm256_and_si256(a, _mm256_set1_epi32(0x7fffff)),
					  _mm256_set1_epi32(0x800000));
	__m256i hs = _mm256_srlv_epi32(m, shift);
	const __m256i rs = _mm256_add_epi32(
		_mm256_and_si256(m, _mm256_sub_epi32(_mm256_sllv_epi32(one, shift), one)),
		_mm256_and_si256(hs, one));
	const __m256i half = _mm256_sllv_epi32(one, _mm256_sub_epi32(shift, one));
	__m256i h;

	hn = _mm256_add_epi32(hn, _mm256_and_si256(_mm256_cmpgt_epi32(rn, _mm256_set1_epi32(0x1000)), one));
	hs = _mm256_add_epi32(hs, _mm256_and_si256(_mm256_cmpgt_epi32(rs, half), one));
	/* from the lowest priority up: subnormal, zero, normal, inf, NaN */
	h = _mm256_and_si256(_mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x33000000)), hs);
	{
		const __m256i is_norm = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x38800000 - 1));
		const __m256i is_inf = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x477ff000 - 1));
		const __m256i is_nan = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7f800000));

		h = _mm256_blendv_epi8(h, hn, is_norm);
		h = _mm256_blendv_epi8(h, _mm256_set1_epi32(0x7c00), is_inf);
		h = _mm256_blendv_epi8(h, _mm256_set1_epi32(0x7e00), is_nan);
	}
	return _mm256_or_si256(h, sign);
}

/* the low 16 bits of 8 lanes stored as 8 uint16 at p (any alignment) */
QT_AVX2_INLINE void store_u16x8(void *p, __m256i v)
{
	const __m256i packed = _mm256_packus_epi32(v, v); /* lanes <= 0xffff */
	const __m128i lo = _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));

	_mm_storeu_si128((__m128i *)p, lo);
}

QT_AVX2 void qt_avx2_fp32_to_fp16(const float *x, void *y, int64_t n)
{
	uint8_t *dst = y;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		store_u16x8(dst + 2 * i, to_fp16_lanes(_mm256_loadu_ps(x + i)));
	for (; i < n; i++) {
		const uint16_t h = qt_fp32_to_fp16(x[i]);

		memcpy(dst + 2 * i, &h, 2);
	}
}

QT_AVX2 void qt_avx2_fp32_to_bf16(const float *x, void *y, int64_t n)
{
	uint8_t *dst = y;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		const __m256i w = _mm256_castps_si256(_mm256_loadu_ps(x + i));
		const __m256i hi = _mm256_srli_epi32(w, 16);
		const __m256i rounded = _mm256_srli_epi32(
			_mm256_add_epi32(_mm256_add_epi32(w, _mm256_set1_epi32(0x7fff)),
					 _mm256_and_si256(hi, _mm256_set1_epi32(1))), 16);
		const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(w, _mm256_set1_epi32(0x7fffffff)),
						       _mm256_set1_epi32(0x7f800000));

		store_u16x8(dst + 2 * i, _mm256_blendv_epi8(rounded, _mm256_or_si256(hi, _mm256_set1_epi32(0x40)),
							    nan));
	}
	for (; i < n; i++) {
		const uint16_t h = qt_fp32_to_bf16(x[i]);

		memcpy(dst + 2 * i, &h, 2);
	}
}

QT_AVX2 void qt_avx2_fp16_to_fp32(const void *x, float *y, int64_t n)
{
	const uint8_t *src = x;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + 2 * i)));
		const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x8000)), 16);
		const __m256i e = _mm256_and_si256(_mm256_srli_epi32(h, 10), _mm256_set1_epi32(0x1f));
		const __m256i m = _mm256_and_si256(h, _mm256_set1_epi32(0x3ff));
		const __m256i m13 = _mm256_slli_epi32(m, 13);
		const __m256i zero = _mm256_setzero_si256();
		/* normal: rebias the exponent */
		__m256i r = _mm256_or_si256(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(112)), 23), m13);
		/* zero or subnormal: m * 2^-24, exact */
		const __m256i sub = _mm256_castps_si256(
			_mm256_mul_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(0x1p-24f)));
		/* inf, or NaN made quiet */
		const __m256i quiet = _mm256_andnot_si256(_mm256_cmpeq_epi32(m, zero),
							   _mm256_set1_epi32(0x00400000));
		const __m256i special = _mm256_or_si256(_mm256_or_si256(_mm256_set1_epi32(0x7f800000), m13), quiet);

		r = _mm256_blendv_epi8(r, sub, _mm256_cmpeq_epi32(e, zero));
		r = _mm256_blendv_epi8(r, special, _mm256_cmpeq_epi32(e, _mm256_set1_epi32(0x1f)));
		_mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_or_si256(r, sign)));
	}
	for (; i < n; i++) {
		uint16_t h;

		memcpy(&h, src + 2 * i, 2);
		y[i] = qt_fp16_to_fp32(h);
	}
}

QT_AVX2 void qt_avx2_bf16_to_fp32(const void *x, float *y, int64_t n)
{
	const uint8_t *src = x;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + 2 * i)));

		_mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
	}
	for (; i < n; i++) {
		uint16_t h;

		memcpy(&h, src + 2 * i, 2);
		y[i] = qt_bf16_to_fp32(h);
	}
}

#endif
