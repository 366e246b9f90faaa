/* quants.h - quantize and dequantize rows of ggml types.
 *
 * Quantizers are byte-identical to ggml's reference quantizers
 * (quantize_row_<t>_ref, which ggml_quantize_chunk and so llama-quantize
 * run when no importance matrix is given) built for x86-64 without FMA
 * contraction; dequantizers give the same floats as ggml's to_float.
 * testdata/quant/ holds llama.cpp's own output that the tests compare with.
 *
 * Every function has the qt_quantize_fn / qt_dequantize_fn shape of
 * qtype.h and is also reachable through qt_type_get(id)->quantize:
 *   quantize:   x: n floats in, y: n / blck blocks out (struct qt_block_*,
 *               quant/blocks.h; for F16/BF16 uint16_t bit patterns);
 *   dequantize: x: n / blck blocks in, y: n floats out.
 * n must be a multiple of the type's block size (32 for Q4_0..Q8_0, 256 for
 * the k-quants, 1 for F32/F16/BF16): the caller checks (qt_row_bytes);
 * a violation is a programmer error. The functions are pure: no state, no
 * allocation, safe to call from any number of threads on disjoint buffers,
 * and any float input (infinities, NaN, subnormals) gives defined output.
 * The block side (void *) may have any alignment, so blocks can be read
 * straight from a mapped file; the float side is a normal float array.
 * x and y must not overlap. Blocks are independent, so rows may be split
 * at any block boundary without changing a byte.
 */
#ifndef QT_QUANTS_H
#define QT_QUANTS_H

#include <stdint.h>

/* plain types: F32 is a copy; F16/BF16 as in fp16.h */
void qt_quantize_f32(const float *x, void *y, int64_t n);
void qt_dequantize_f32(const void *x, float *y, int64_t n);
void qt_quantize_f16(const float *x, void *y, int64_t n);
void qt_dequantize_f16(const void *x, float *y, int64_t n);
void qt_quantize_bf16(const float *x, void *y, int64_t n);
void qt_dequantize_bf16(const void *x, float *y, int64_t n);

/* 32-element blocks (q_legacy.c) */
void qt_quantize_q4_0(const float *x, void *y, int64_t n);
void qt_dequantize_q4_0(const void *x, float *y, int64_t n);
void qt_quantize_q4_1(const float *x, void *y, int64_t n);
void qt_dequantize_q4_1(const void *x, float *y, int64_t n);
void qt_quantize_q5_0(const float *x, void *y, int64_t n);
void qt_dequantize_q5_0(const void *x, float *y, int64_t n);
void qt_quantize_q5_1(const float *x, void *y, int64_t n);
void qt_dequantize_q5_1(const void *x, float *y, int64_t n);
void qt_quantize_q8_0(const float *x, void *y, int64_t n);
void qt_dequantize_q8_0(const void *x, float *y, int64_t n);

/* 256-element super-blocks (q_kquants_low.c, q_kquants_high.c) */
void qt_quantize_q2_K(const float *x, void *y, int64_t n);
void qt_dequantize_q2_K(const void *x, float *y, int64_t n);
void qt_quantize_q3_K(const float *x, void *y, int64_t n);
void qt_dequantize_q3_K(const void *x, float *y, int64_t n);
void qt_quantize_q4_K(const float *x, void *y, int64_t n);
void qt_dequantize_q4_K(const void *x, float *y, int64_t n);
void qt_quantize_q5_K(const float *x, void *y, int64_t n);
void qt_dequantize_q5_K(const void *x, float *y, int64_t n);
void qt_quantize_q6_K(const float *x, void *y, int64_t n);
void qt_dequantize_q6_K(const void *x, float *y, int64_t n);
/* Q8_K: ggml's dot-product intermediate (never in files) */
void qt_quantize_q8_K(const float *x, void *y, int64_t n);
void qt_dequantize_q8_K(const void *x, float *y, int64_t n);

/* Weighted quantizers (q_weighted.c): ggml's quantize_<t> with
 * quant_weights for ONE WHOLE ROW (qtype.h qt_quantize_w_fn): x[n] the row,
 * qw[n] one importance weight per column or NULL (then the bytes of the
 * unweighted function above). Q8_0 and the plain types take no weights. */
void qt_quantize_w_q4_0(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q4_1(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q5_0(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q5_1(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q2_K(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q3_K(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q4_K(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q5_K(const float *x, void *y, int64_t n, const float *qw);
void qt_quantize_w_q6_K(const float *x, void *y, int64_t n, const float *qw);

#endif
