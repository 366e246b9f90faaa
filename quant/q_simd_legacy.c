/* q_simd_legacy.c - AVX2 Q4_0 ... Q8_0 (one 32-element block per lane,
 * eight blocks at a time) and the fp16/bf16 row conversions (one element
 * per lane).
 *
 * A legacy block's scale comes from a reduction over its 32 values whose
 * result can depend on the order (a NaN, or which of +0 and -0 is seen
 * first), so each lane reduces one block in the scalar order, element by
 * element; the per-element quantization then uses that lane's scale. The
 * fp16/bf16 conversions are the bit recipes of fp16.h on 8 lanes, every
 * case (NaN, overflow, normal, subnormal, zero) computed and selected.
 */
#include "qsimd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <float.h>
#include <string.h>

#include "blocks.h"
#include "fp16.h"
#include "qkern.h"
#include "q_simd_avx2.h"

#define NB 8 /* blocks per group: one per lane */

/* the eight blocks' elements: xt[j] lane k = x[32k + j] */
QT_AVX2_INLINE void load_blocks(const float *x, __m256 xt[32])
{
	for (int j = 0; j < 32; j++)
		xt[j] = qv_lanes(x + j, 32);
}

/* lanes of a float vector as 8 fp16 patterns */
QT_AVX2_INLINE void fp16_lanes(__m256 v, uint16_t out[NB])
{
	float f[NB];

	_mm256_storeu_ps(f, v);
	for (int k = 0; k < NB; k++)
		out[k] = qt_fp32_to_fp16(f[k]);
}

/* 1/d where d != 0, else 0 (`d != 0.0f` is true for a NaN) */
QT_AVX2_INLINE __m256 inv_or_zero(__m256 d)
{
	const __m256 nz = _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_UQ);

	return _mm256_and_ps(nz, _mm256_div_ps(_mm256_set1_ps(1.0f), d));
}

/* min and max per lane, lo = FLT_MAX, hi = -FLT_MAX first (min_max) */
QT_AVX2_INLINE void min_max_lanes(const __m256 xt[32], __m256 *lo_out, __m256 *hi_out)
{
	__m256 lo = _mm256_set1_ps(FLT_MAX), hi = _mm256_set1_ps(-FLT_MAX);

	for (int j = 0; j < 32; j++) {
		lo = qv_blend(lo, xt[j], _mm256_cmp_ps(xt[j], lo, _CMP_LT_OQ));
		hi = qv_blend(hi, xt[j], _mm256_cmp_ps(xt[j], hi, _CMP_GT_OQ));
	}
	*lo_out = lo;
	*hi_out = hi;
}

/* nibble pairs (q[j] & 15) | (q[j + 16] & 15) << 4 of every lane into qs
 * of the blocks at dst (block k at dst + k * bsize + off) */
QT_AVX2_INLINE void put_nibbles(const __m256i q[32], uint8_t *dst, size_t bsize, size_t off)
{
	const __m256i m = _mm256_set1_epi32(0x0f);
	int32_t v[NB];

	for (int j = 0; j < 16; j++) {
		const __m256i b = _mm256_or_si256(_mm256_and_si256(q[j], m),
						  _mm256_slli_epi32(_mm256_and_si256(q[j + 16], m), 4));

		_mm256_storeu_si256((__m256i *)v, b);
		for (int k = 0; k < NB; k++)
			dst[k * bsize + off + (size_t)j] = (uint8_t)v[k];
	}
}

/* bit 4 of each q[j] as bit j of a little-endian word at dst + off */
QT_AVX2_INLINE void put_qh(const __m256i q[32], uint8_t *dst, size_t bsize, size_t off)
{
	__m256i bits = _mm256_setzero_si256();
	uint32_t v[NB];

	for (int j = 0; j < 32; j++)
		bits = _mm256_or_si256(bits, _mm256_sllv_epi32(
			_mm256_and_si256(_mm256_srli_epi32(q[j], 4), _mm256_set1_epi32(1)),
			_mm256_set1_epi32(j)));
	_mm256_storeu_si256((__m256i *)v, bits);
	for (int k = 0; k < NB; k++)
		for (int b = 0; b < 4; b++)
			dst[k * bsize + off + (size_t)b] = (uint8_t)(v[k] >> (8 * b));
}

QT_AVX2_INLINE void put_u16(const uint16_t h[NB], uint8_t *dst, size_t bsize, size_t off)
{
	for (int k = 0; k < NB; k++)
		memcpy(dst + k * bsize + off, &h[k], 2);
}

/* ---- one group of 8 blocks per type: x[8 * 32] in, 8 blocks at dst ---- */

static QT_AVX2 void q4_0_group(const float *x, uint8_t *dst)
{
	const size_t bs = sizeof(struct qt_block_q4_0);
	__m256 xt[32], amax;
	__m256i q[32];
	uint16_t h[NB];

	load_blocks(x, xt);
	const __m256 d = _mm256_div_ps(qv_absmax(xt, 32, &amax), _mm256_set1_ps(-8.0f));
	const __m256 id = inv_or_zero(d);

	for (int j = 0; j < 32; j++)
		q[j] = _mm256_min_epi32(_mm256_set1_epi32(15),
					qv_cast_i8(_mm256_add_ps(_mm256_mul_ps(xt[j], id), _mm256_set1_ps(8.5f))));
	fp16_lanes(d, h);
	put_u16(h, dst, bs, offsetof(struct qt_block_q4_0, d));
	put_nibbles(q, dst, bs, offsetof(struct qt_block_q4_0, qs));
}

static QT_AVX2 void q4_1_group(const float *x, uint8_t *dst)
{
	const size_t bs = sizeof(struct qt_block_q4_1);
	__m256 xt[32], min, max;
	__m256i q[32];
	uint16_t h[NB];

	load_blocks(x, xt);
	min_max_lanes(xt, &min, &max);
	const __m256 d = _mm256_div_ps(_mm256_sub_ps(max, min), _mm256_set1_ps(15.0f));
	const __m256 id = inv_or_zero(d);

	for (int j = 0; j < 32; j++)
		q[j] = _mm256_min_epi32(_mm256_set1_epi32(15),
					qv_cast_i8(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(xt[j], min), id),
								 _mm256_set1_ps(0.5f))));
	fp16_lanes(d, h);
	put_u16(h, dst, bs, offsetof(struct qt_block_q4_1, d));
	fp16_lanes(min, h);
	put_u16(h, dst, bs, offsetof(struct qt_block_q4_1, m));
	put_nibbles(q, dst, bs, offsetof(struct qt_block_q4_1, qs));
}

static QT_AVX2 void q5_0_group(const float *x, uint8_t *dst)
{
	const size_t bs = sizeof(struct qt_block_q5_0);
	__m256 xt[32], amax;
	__m256i q[32];
	uint16_t h[NB];

	load_blocks(x, xt);
	const __m256 d = _mm256_div_ps(qv_absmax(xt, 32, &amax), _mm256_set1_ps(-16.0f));
	const __m256 id = inv_or_zero(d);

	for (int j = 0; j < 32; j++)
		q[j] = _mm256_and_si256(
			_mm256_min_epi32(_mm256_set1_epi32(31),
					 qv_cast_i8(_mm256_add_ps(_mm256_mul_ps(xt[j], id), _mm256_set1_ps(16.5f)))),
			_mm256_set1_epi32(0xff));
	fp16_lanes(d, h);
	put_u16(h, dst, bs, offsetof(struct qt_block_q5_0, d));
	put_nibbles(q, dst, bs, offsetof(struct qt_block_q5_0, qs));
	put_qh(q, dst, bs, offsetof(struct qt_block_q5_0, qh));
}

static QT_AVX2 void q5_1_group(const float *x, uint8_t *dst)
{
	const size_t bs = sizeof(struct qt_block_q5_1);
	__m256 xt[32], min, max;
	__m256i q[32];
	uint16_t h[NB];

	load_blocks(x, xt);
	min_max_lanes(xt, &min, &max);
	const __m256 d = _mm256_div_ps(_mm256_sub_ps(max, min), _mm256_set1_ps(31.0f));
	const __m256 id = inv_or_zero(d);

	/* qt_cast_u8: the low byte of the 32-bit truncation, no clamp */
	for (int j = 0; j < 32; j++)
		q[j] = _mm256_and_si256(
			_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(xt[j], min), id),
							  _mm256_set1_ps(0.5f))),
			_mm256_set1_epi32(0xff));
	fp16_lanes(d, h);
	put_u16(h, dst, bs, offsetof(struct qt_block_q5_1, d));
	fp16_lanes(min, h);
	put_u16(h, dst, bs, offsetof(struct qt_block_q5_1, m));
	put_nibbles(q, dst, bs, offsetof(struct qt_block_q5_1, qs));
	put_qh(q, dst, bs, offsetof(struct qt_block_q5_1, qh));
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

static QT_AVX2 void q8_0_group(const float *x, uint8_t *dst)
{
	const size_t bs = sizeof(struct qt_block_q8_0);
	__m256 xt[32];
	__m256 amax = _mm256_setzero_ps();
	uint16_t h[NB];
	int32_t v[NB];

	load_blocks(x, xt);
	/* amax = amax > |x| ? amax : |x| */
	for (int j = 0; j < 32; j++) {
		const __m256 ax = qv_abs(xt[j]);

		amax = qv_blend(ax, amax, _mm256_cmp_ps(amax, ax, _CMP_GT_OQ));
	}
	const __m256 d = _mm256_div_ps(amax, _mm256_set1_ps(127.0f));
	const __m256 id = inv_or_zero(d);

	fp16_lanes(d, h);
	put_u16(h, dst, bs, offsetof(struct qt_block_q8_0, d));
	for (int j = 0; j < 32; j++) {
		_mm256_storeu_si256((__m256i *)v, qv_cast_i8(round_away(_mm256_mul_ps(xt[j], id))));
		for (int k = 0; k < NB; k++)
			dst[k * bs + offsetof(struct qt_block_q8_0, qs) + (size_t)j] = (uint8_t)v[k];
	}
}

/* A row: whole groups of 8 blocks straight from x, the last partial group
 * through a zero-padded copy (zero blocks quantize without trouble; only
 * the real blocks are copied out). */
static QT_AVX2 void legacy_row(const float *x, uint8_t *dst, int64_t n, size_t bsize,
			       void (*group)(const float *, uint8_t *))
{
	const int64_t nb = n / 32;
	int64_t b = 0;

	for (; b + NB <= nb; b += NB)
		group(x + 32 * b, dst + (size_t)b * bsize);
	if (b < nb) {
		float pad[NB * 32] = { 0 };
		uint8_t out[NB * 34];

		memcpy(pad, x + 32 * b, (size_t)(nb - b) * 32 * sizeof(float));
		group(pad, out);
		memcpy(dst + (size_t)b * bsize, out, (size_t)(nb - b) * bsize);
	}
}

#define LEGACY_ROW(name)                                                            \
	QT_AVX2 void qt_avx2_quantize_##name(const float *x, void *y, int64_t n)    \
	{                                                                           \
		legacy_row(x, y, n, sizeof(struct qt_block_##name), name##_group);  \
	}
LEGACY_ROW(q4_0)
LEGACY_ROW(q4_1)
LEGACY_ROW(q5_0)
LEGACY_ROW(q5_1)
LEGACY_ROW(q8_0)

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
