/* fp16.h - exact conversions between fp32 and the 16-bit floats of GGUF and
 * safetensors: IEEE binary16 ("F16") and bfloat16 ("BF16").
 *
 * Both 16-bit formats are handled as their raw uint16_t bit patterns (the
 * bytes as stored little-endian in a file, read on a little-endian host).
 *
 * fp32 -> fp16: IEEE round to nearest, ties to even; |x| >= 65520 becomes
 *   +-inf; results below 2^-14 become subnormals (smallest 2^-24); every NaN
 *   becomes the quiet NaN sign|0x7e00. This is bit for bit what ggml's
 *   GGML_FP32_TO_FP16 gives for every input.
 * fp16 -> fp32: exact. A NaN keeps sign and payload and gets the quiet bit
 *   set, as ggml's widening does on x86-64.
 * fp32 -> bf16: ggml's rule: a NaN keeps its top 16 bits with the quiet bit
 *   (0x0040) forced on; everything else (infinities, subnormals included)
 *   rounds to nearest, ties to even. No flush to zero.
 * bf16 -> fp32: exact (the bits shifted up by 16).
 *
 * Pure functions: no state, no errors, any input is valid.
 */
#ifndef QT_FP16_H
#define QT_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t qt_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float qt_f32_from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static inline uint16_t qt_fp32_to_fp16(float f)
{
	const uint32_t w = qt_f32_bits(f);
	const uint16_t sign = (uint16_t)((w >> 16) & 0x8000u);
	const uint32_t a = w & 0x7fffffffu; /* |f| as bits */
	uint32_t h, rem, half;
	int shift;

	if (a > 0x7f800000u)              /* NaN */
		return sign | 0x7e00u;
	if (a >= 0x477ff000u)             /* >= 65520 = 65504 + half an ulp: inf */
		return sign | 0x7c00u;
	if (a >= 0x38800000u) {           /* >= 2^-14: a normal half */
		/* rebias the exponent (127 -> 15) and drop 13 mantissa bits;
		 * a carry out of the mantissa correctly bumps the exponent */
		h = (a - 0x38000000u) >> 13;
		rem = a & 0x1fffu;
		if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
			h++;
		return sign | (uint16_t)h;
	}
	if (a <= 0x33000000u)             /* <= 2^-25: ties to even gives 0 */
		return sign;
	/* subnormal half: count units of 2^-24. value = m * 2^(e-150) with the
	 * implicit bit, so units = m >> (126 - e), 14 <= shift <= 24 here. */
	shift = 126 - (int)(a >> 23);
	{
		const uint32_t m = (a & 0x7fffffu) | 0x800000u;

		h = m >> shift;
		rem = m & ((1u << shift) - 1u);
		half = 1u << (shift - 1);
		if (rem > half || (rem == half && (h & 1u)))
			h++;                      /* may reach 0x400, the smallest normal */
	}
	return sign | (uint16_t)h;
}

static inline float qt_fp16_to_fp32(uint16_t h)
{
	const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	const uint32_t e = (h >> 10) & 0x1fu;
	const uint32_t m = h & 0x3ffu;

	if (e == 0x1fu) {                  /* inf, or NaN made quiet */
		return qt_f32_from_bits(sign | 0x7f800000u | (m << 13) |
					(m ? 0x00400000u : 0u));
	}
	if (e == 0) {                      /* zero or subnormal: m * 2^-24, exact */
		const float v = (float)m * 0x1p-24f;

		return qt_f32_from_bits(sign | qt_f32_bits(v));
	}
	return qt_f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

static inline uint16_t qt_fp32_to_bf16(float f)
{
	const uint32_t w = qt_f32_bits(f);

	if ((w & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((w >> 16) | 0x0040u);
	/* round to nearest even on the low 16 bits; cannot overflow 32 bits
	 * because the largest finite float rounds up to inf (0x7f80) at most */
	return (uint16_t)((w + 0x7fffu + ((w >> 16) & 1u)) >> 16);
}

static inline float qt_bf16_to_fp32(uint16_t b)
{
	return qt_f32_from_bits((uint32_t)b << 16);
}

/* Row forms: n elements from x to y. */
void qt_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n);
void qt_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n);
void qt_fp32_to_bf16_row(const float *x, uint16_t *y, int64_t n);
void qt_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n);

#endif
