/* dtype.h - element types of tensors in any input file, one enum for all.
 *
 * Values below QT_COUNT are ggml type ids (quant/qtype.h), so a GGUF tensor's
 * type is its dtype as is. safetensors dtypes that have a ggml twin (F32, F16,
 * BF16, F64, I8, I16, I32, I64) use the ggml id; the others get ids from
 * QK_DT_EXTRA on. Every safetensors dtype of the reference library is here,
 * sub-byte and F8 ones included.
 */
#ifndef QK_DTYPE_H
#define QK_DTYPE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../quant/qtype.h"

enum qk_dtype {
	QK_DT_F32 = QT_F32, QK_DT_F16 = QT_F16, QK_DT_BF16 = QT_BF16, QK_DT_F64 = QT_F64,
	QK_DT_I8 = QT_I8, QK_DT_I16 = QT_I16, QK_DT_I32 = QT_I32, QK_DT_I64 = QT_I64,
	QK_DT_EXTRA = 100,
	QK_DT_BOOL = QK_DT_EXTRA, QK_DT_F4, QK_DT_F6_E2M3, QK_DT_F6_E3M2, QK_DT_U8,
	QK_DT_F8_E5M2, QK_DT_F8_E4M3, QK_DT_F8_E8M0, QK_DT_F8_E4M3FNUZ, QK_DT_F8_E5M2FNUZ,
	QK_DT_U16, QK_DT_U32, QK_DT_C64, QK_DT_U64,
	QK_DT_END
};

/* Valid dtype (a ggml type or a safetensors-only one)? */
bool qk_dtype_valid(int dt);
/* Display name: the safetensors spelling where one exists ("BF16",
 * "F8_E4M3"), else the ggml name ("Q4_K"); "?" if invalid. */
const char *qk_dtype_name(int dt);
/* safetensors dtype string -> dtype; -1 if not a safetensors dtype. */
int qk_dtype_from_st(const char *s, uint32_t len);
/* dtype -> safetensors dtype string, or NULL if it has none (quantized). */
const char *qk_dtype_st_name(int dt);
/* Bytes of n elements: checks block divisibility, whole bytes for sub-byte
 * types (n*bits % 8 == 0) and overflow. false on any of those. */
bool qk_dtype_nbytes(int dt, uint64_t n, uint64_t *bytes);
/* Bits per element for plain types (4 for F4, 6 for F6_*), 0 for block types. */
unsigned qk_dtype_bits(int dt);
/* Is it a float type we can widen to fp32 exactly (F32, F16, BF16)? */
bool qk_dtype_is_float(int dt);

#endif
