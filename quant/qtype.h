/* qtype.h - the ggml tensor type table: one row per type, read by everything.
 *
 * Ids are ggml's `enum ggml_type` values as stored in GGUF tensor infos. Sizes
 * are (elements per block, bytes per block); a row of `n` elements of type t
 * occupies n / blck * bytes bytes and n must be a multiple of blck.
 * Ids 4, 5, 31-33 and 36-38 were removed from ggml and are not valid.
 *
 * quantize/dequantize are filled in by quant/ for the types we compute; NULL
 * means "sizes are known, data cannot be converted here".
 */
#ifndef QT_QTYPE_H
#define QT_QTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum qt_id {
	QT_F32 = 0, QT_F16 = 1, QT_Q4_0 = 2, QT_Q4_1 = 3,
	QT_Q5_0 = 6, QT_Q5_1 = 7, QT_Q8_0 = 8, QT_Q8_1 = 9,
	QT_Q2_K = 10, QT_Q3_K = 11, QT_Q4_K = 12, QT_Q5_K = 13, QT_Q6_K = 14, QT_Q8_K = 15,
	QT_IQ2_XXS = 16, QT_IQ2_XS = 17, QT_IQ3_XXS = 18, QT_IQ1_S = 19, QT_IQ4_NL = 20,
	QT_IQ3_S = 21, QT_IQ2_S = 22, QT_IQ4_XS = 23,
	QT_I8 = 24, QT_I16 = 25, QT_I32 = 26, QT_I64 = 27, QT_F64 = 28,
	QT_IQ1_M = 29, QT_BF16 = 30, QT_TQ1_0 = 34, QT_TQ2_0 = 35,
	QT_MXFP4 = 39, QT_NVFP4 = 40, QT_Q1_0 = 41, QT_Q2_0 = 42,
	QT_COUNT = 43 /* one past the largest id */
};

#define QT_QK_K 256 /* super-block size of the k-quants */

/* x: n floats in; y: n/blck blocks out. n must be a multiple of blck. */
typedef void (*qt_quantize_fn)(const float *x, void *y, int64_t n);
/* x: n/blck blocks in; y: n floats out. */
typedef void (*qt_dequantize_fn)(const void *x, float *y, int64_t n);
/* Weighted quantization of ONE WHOLE ROW, as ggml's quantize_<t>(src, dst,
 * 1, n, quant_weights): x: the row's n floats; y: its n/blck blocks out;
 * qw: n importance weights, one per column of the row (an imatrix entry,
 * or an expert's slice of one), or NULL for none. A row may not be split:
 * some types (Q4_0..Q5_1) use statistics of the whole row. With qw NULL the
 * bytes are exactly those of the type's quantize (when it has one). */
typedef void (*qt_quantize_w_fn)(const float *x, void *y, int64_t n, const float *qw);

struct qt_type {
	const char *name;          /* "Q4_K", as llama.cpp prints it */
	int id;                    /* enum qt_id */
	uint32_t blck;             /* elements per block */
	uint32_t bytes;            /* bytes per block */
	bool is_quant;             /* a block-quantized type (not a plain number) */
	qt_quantize_fn quantize;   /* NULL if not implemented */
	qt_dequantize_fn dequantize; /* NULL if not implemented */
	qt_quantize_w_fn quantize_w; /* weighted row quantizer; NULL: the type takes
				    * no weights (ggml ignores them: F16, Q8_0, ...) */
};

/* The row for id, or NULL if id is not a valid ggml type. */
const struct qt_type *qt_type_get(int id);
/* Look up by name, case-insensitive ("q4_k", "BF16"); NULL if unknown. */
const struct qt_type *qt_type_by_name(const char *name);
/* Can quant/ write type t at all (quantize or quantize_w)? */
bool qt_has_quantizer(const struct qt_type *t);
/* Quantize one row of n floats x into y with importance weights qw
 * (n floats, one per column; NULL for none): quantize_w where the type has
 * one and (qw is given or it has no plain quantizer), else quantize, which
 * ignores the weights as ggml_quantize_chunk does for types without them.
 * n must be a multiple of t's block size and t must have a quantizer. */
void qt_quantize_row(const struct qt_type *t, const float *x, void *y, int64_t n,
		     const float *qw);
/* Byte size of n elements of type t; false if n is not a multiple of the
 * block size or the size overflows. */
bool qt_row_bytes(const struct qt_type *t, uint64_t n, uint64_t *bytes);

#endif
