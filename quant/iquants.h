/* iquants.h - the non-linear, ternary, microscaling and grid ("i-quant")
 * types of ggml: their blocks exactly as on disk and their quantize /
 * dequantize entry points. Prefix qi_.
 *
 * Specification: ggml-common.h (blocks, value tables, grids) and
 * ggml-quants.c (quantize_<t>, dequantize_row_<t>) of the llama.cpp that
 * llama-cpp-python 0.3.36 vendors. Quantizers are byte-identical to
 * ggml's quantize_<t>, the function ggml_quantize_chunk (and so
 * llama-quantize) runs, with and without importance weights; dequantizers
 * give the same floats as ggml's to_float. The bit-exactness rules of
 * quant/README.md hold here too. Checked by tests/unit/test_iquant_golden.c
 * against libggml's own output (testdata/quant/iq_*.qkg).
 *
 * Shapes and arguments, as for quants.h:
 *   x:  n floats in (quantize) / n / blck blocks in (dequantize);
 *   y:  n / blck blocks out (quantize) / n floats out (dequantize);
 *   qw: NULL (no importance matrix) or n importance weights, one per
 *       element of x: the column weights of the row being quantized
 *       (libggml's quant_weights + the row's column offset). Types that
 *       ignore weights in ggml (MXFP4, TQ1_0, TQ2_0) ignore them here.
 * n must be a multiple of the block size (the caller checks it). Pure
 * functions: no state, no allocation (grids are static tables), any float
 * input gives defined output, blocks may have any alignment.
 */
#ifndef QI_IQUANTS_H
#define QI_IQUANTS_H

#include <stdint.h>

#define QI_QK4_NL 32  /* IQ4_NL block */
#define QI_QK_MXFP4 32

/* IQ4_NL: x = d * kvalues[q]; qs[j]: element j low nibble, j + 16 high. */
struct qi_block_iq4_nl {
	uint16_t d;
	uint8_t qs[QI_QK4_NL / 2];
};
_Static_assert(sizeof(struct qi_block_iq4_nl) == 18, "block_iq4_nl is 18 bytes");

/* IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (stored + 32): the low 4
 * bits of sub-block i in nibble i % 2 of scales_l[i / 2], the high 2 in
 * bits 2i, 2i+1 of scales_h. x = d * (ls - 32) * kvalues[q]; quants
 * packed per sub-block as IQ4_NL's. */
struct qi_block_iq4_xs {
	uint16_t d;
	uint16_t scales_h;
	uint8_t scales_l[4];
	uint8_t qs[128];
};
_Static_assert(sizeof(struct qi_block_iq4_xs) == 136, "block_iq4_xs is 136 bytes");

/* MXFP4: e is an E8M0 exponent; x = kvalues_fp4[q] * 2^(e - 128) (the
 * table holds twice the e2m1 values). Nibbles as IQ4_NL. */
struct qi_block_mxfp4 {
	uint8_t e;
	uint8_t qs[QI_QK_MXFP4 / 2];
};
_Static_assert(sizeof(struct qi_block_mxfp4) == 17, "block_mxfp4 is 17 bytes");

/* TQ1_0: ternary {-1, 0, 1} * d. qs[0..31] hold 5 trits each (elements
 * m + 32k, k = 0..4, first one most significant), qs[32..47] 5 trits of
 * elements 160 + m + 16k, qh[0..3] 4 trits of 240 + j + 4k; a byte stores
 * ceil(v * 256 / 243) of the base-3 number v. */
struct qi_block_tq1_0 {
	uint8_t qs[48];
	uint8_t qh[4];
	uint16_t d;
};
_Static_assert(sizeof(struct qi_block_tq1_0) == 54, "block_tq1_0 is 54 bytes");

/* TQ2_0: ternary, 2 bits each: qs[32h + m] bits 2k..2k+1 hold element
 * 128h + m + 32k plus one. */
struct qi_block_tq2_0 {
	uint8_t qs[64];
	uint16_t d;
};
_Static_assert(sizeof(struct qi_block_tq2_0) == 66, "block_tq2_0 is 66 bytes");

/* IQ2_XXS: 8 sub-blocks of 32; per sub-block two little-endian 32-bit
 * words (qs[4s..4s+3]): the first holds 4 grid indices (8 bits each, into
 * the 256-point grid), the second 4 x 7 sign bits (the 8th sign makes the
 * parity even) and a 4-bit scale ls at bit 28. x = d (0.5 + ls) / 4 *
 * grid * sign. */
struct qi_block_iq2_xxs {
	uint16_t d;
	uint16_t qs[32];
};
_Static_assert(sizeof(struct qi_block_iq2_xxs) == 66, "block_iq2_xxs is 66 bytes");

/* IQ2_XS: qs[j] = grid index (9 bits, 512-point grid) | 7 sign bits << 9
 * for group j of 8; scales[s]: 4-bit scales of the two halves (16 values)
 * of sub-block s. */
struct qi_block_iq2_xs {
	uint16_t d;
	uint16_t qs[32];
	uint8_t scales[8];
};
_Static_assert(sizeof(struct qi_block_iq2_xs) == 74, "block_iq2_xs is 74 bytes");

/* IQ3_XXS: qs[0..63]: per sub-block s of 32, 8 grid indices (4 values
 * each, 256-point grid); qs[64 + 4s ..]: a little-endian 32-bit word with
 * 4 x 7 sign bits and a 4-bit scale ls at bit 28. x = d (0.5 + ls) / 2 *
 * grid * sign. */
struct qi_block_iq3_xxs {
	uint16_t d;
	uint8_t qs[96];
};
_Static_assert(sizeof(struct qi_block_iq3_xxs) == 98, "block_iq3_xxs is 98 bytes");

/* IQ3_S: 64 groups of 4, grid index (512-point grid) = qs[g] | bit g%8 of
 * qh[g/8] << 8; signs[4s + k]: the 8 signs of values 8k..8k+7 of
 * sub-block s; scales: 4-bit ls per sub-block (two per byte).
 * x = d (1 + 2 ls) grid * sign. */
struct qi_block_iq3_s {
	uint16_t d;
	uint8_t qs[64];
	uint8_t qh[8];
	uint8_t signs[32];
	uint8_t scales[4];
};
_Static_assert(sizeof(struct qi_block_iq3_s) == 110, "block_iq3_s is 110 bytes");

/* IQ2_S: 32 groups of 8; grid index (1024-point grid) = qs[g] | 2 bits
 * (2(g%4)) of qh[g/4] << 8; qs[32 + g]: the group's 8 signs; scales as
 * IQ2_XS. */
struct qi_block_iq2_s {
	uint16_t d;
	uint8_t qs[64];
	uint8_t qh[8];
	uint8_t scales[8];
};
_Static_assert(sizeof(struct qi_block_iq2_s) == 82, "block_iq2_s is 82 bytes");

/* IQ1_S: 32 groups of 8; grid index (2048-point grid of {-1,0,1}^8) =
 * qs[g] | 3 bits (3(g%4)) of qh[g/4] << 8; qh[s] bits 12-14: scale ls,
 * bit 15: shift sign. x = d (2 ls + 1) (grid +- 1/8). */
struct qi_block_iq1_s {
	uint16_t d;
	uint8_t qs[32];
	uint16_t qh[8];
};
_Static_assert(sizeof(struct qi_block_iq1_s) == 50, "block_iq1_s is 50 bytes");

/* IQ1_M: 16 sub-blocks of 16 (two groups of 8); grid index = qs[g] | 3
 * bits (4(g%2)) of qh[g/2] << 8, bit 3 / 7 of qh[s]: the shift sign of
 * group 0 / 1; scales: four little-endian 16-bit words, each with 4 x 3-bit
 * sub-block scales ls and 4 bits of the fp16 super-block scale d (low
 * nibble in word 0). x = d (2 ls + 1) (grid +- 1/8). */
struct qi_block_iq1_m {
	uint8_t qs[32];
	uint8_t qh[16];
	uint8_t scales[8];
};
_Static_assert(sizeof(struct qi_block_iq1_m) == 56, "block_iq1_m is 56 bytes");

/* weighted quantizers (qw may be NULL unless said otherwise) */
void qi_quantize_iq4_nl_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_iq4_xs_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_mxfp4_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_tq1_0_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_tq2_0_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_iq3_xxs_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_iq3_s_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_iq2_s_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_iq1_m_w(const float *x, void *y, int64_t n, const float *qw);

/* ggml makes these only with weights (it aborts without); given qw NULL
 * they use weights of 1: defined, but no reference to match */
void qi_quantize_iq2_xxs_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_iq2_xs_w(const float *x, void *y, int64_t n, const float *qw);
void qi_quantize_iq1_s_w(const float *x, void *y, int64_t n, const float *qw);

/* the same without weights (the qt_quantize_fn shape of qtype.h) */
void qi_quantize_iq4_nl(const float *x, void *y, int64_t n);
void qi_quantize_iq4_xs(const float *x, void *y, int64_t n);
void qi_quantize_mxfp4(const float *x, void *y, int64_t n);
void qi_quantize_tq1_0(const float *x, void *y, int64_t n);
void qi_quantize_tq2_0(const float *x, void *y, int64_t n);
void qi_quantize_iq3_xxs(const float *x, void *y, int64_t n);
void qi_quantize_iq3_s(const float *x, void *y, int64_t n);
void qi_quantize_iq2_s(const float *x, void *y, int64_t n);
void qi_quantize_iq1_m(const float *x, void *y, int64_t n);

void qi_dequantize_iq4_nl(const void *x, float *y, int64_t n);
void qi_dequantize_iq4_xs(const void *x, float *y, int64_t n);
void qi_dequantize_mxfp4(const void *x, float *y, int64_t n);
void qi_dequantize_tq1_0(const void *x, float *y, int64_t n);
void qi_dequantize_tq2_0(const void *x, float *y, int64_t n);
void qi_dequantize_iq2_xxs(const void *x, float *y, int64_t n);
void qi_dequantize_iq2_xs(const void *x, float *y, int64_t n);
void qi_dequantize_iq3_xxs(const void *x, float *y, int64_t n);
void qi_dequantize_iq3_s(const void *x, float *y, int64_t n);
void qi_dequantize_iq2_s(const void *x, float *y, int64_t n);
void qi_dequantize_iq1_s(const void *x, float *y, int64_t n);
void qi_dequantize_iq1_m(const void *x, float *y, int64_t n);

#endif
