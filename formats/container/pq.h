/* pq.h - pre-quantized storages: matrices a checkpoint ships already
 * quantized, read as the fp32 values they stand for.
 *
 * A checkpoint with a "quantization_config" in its config.json stores some
 * matrices as several tensors: FP8 weights with block scales, GPTQ/AWQ
 * packed integers with group scales and zero points, compressed-tensors
 * packed or scaled integers. pq_attach turns each such group into one
 * catalog tensor of the logical name and shape ("...q_proj.weight",
 * [out, in]) whose `pq` field points to its storage, and marks the parts
 * (`pq_part`: scales, zero points, g_idx, packed words) so that model
 * assembly does not bind them on their own. Everything above the catalog
 * sees the matrix as one more storage of its role: qk_view_read_row
 * (model.h) reads a row through pq_read_row.
 *
 * Supported (config.json "quantization_config"), with the arithmetic of
 * llama.cpp's converter (convert_hf_to_gguf.py / conversion/base.py
 * dequant_model, as vendored in llama-cpp-python 0.3.36) wherever it has
 * one, so that a converted file holds the same values:
 *   - quant_method "fp8": "X.weight" F8_E4M3 (or F8_E5M2) [rows, cols] with
 *     "X.weight_scale_inv" F32/F16/BF16. With "weight_block_size" [br, bc]
 *     the scales are a [ceil(rows/br), ceil(cols/bc)] grid: block (i, j)
 *     covers rows i*br .. and columns j*bc .., the last block of a side
 *     that is not a multiple of the block trimmed (llama.cpp repeats each
 *     scale br/bc times and cuts to the weight's shape). Without a block
 *     size the scale is one value (per tensor) or one per row.
 *     value = f32(w) * f32(scale), one fp32 product. Weights without a
 *     scale (modules_to_not_convert) stay as they are; "*.activation_scale"
 *     tensors are unused and dropped.
 *   - quant_method "gptq" (bits 2, 4, 8; 3 refused as llama.cpp refuses it):
 *     "X.qweight" I32 [in * bits / 32, out], inputs packed 32/bits to a word
 *     from the low bits; "X.qzeros" I32 [G, ceil(out * bits / 32)], outputs
 *     packed the same way; "X.scales" F16 [G, out]; "X.g_idx" I32 [in], the
 *     group of each input (any order: desc_act), else input / group_size.
 *     value = f32(scale[g][o]) * f32(q - z), with z the stored zero plus 1
 *     for checkpoint_format "gptq" (v1) and as stored for "gptq_v2"
 *     (llama.cpp's dequant_gptq). sym only changes which zeros are stored.
 *   - quant_method "awq", version gemm, 4 bits, zero_point true (AutoAWQ's
 *     published layout; llama.cpp's converter refuses AWQ): "X.qweight" I32
 *     [in, out / 8] and "X.qzeros" I32 [G, out / 8], outputs 8w .. 8w+7 in
 *     word w with output 8w + j in nibble (0 4 1 5 2 6 3 7)[j] (the inverse
 *     of AutoAWQ's pack order 0 2 4 6 1 3 5 7); "X.scales" F16 [G, out];
 *     g = input / group_size; value = (q - z) * scale, exact in fp32.
 *   - quant_method "compressed-tensors", one config group (as llama.cpp):
 *     format pack-quantized: "X.weight_packed" I32 [out, ceil(in / pf)],
 *     pf = floor(32 / bits) values a word from the low end along the row;
 *     "X.weight_shape" [2] (out, in); "X.weight_scale" [out, G];
 *     "X.weight_zero_point" I32 [ceil(out / pf), G] packed along the column,
 *     else a fixed offset 2^(bits-1): value = f32(q - z) * f32(scale)
 *     (llama.cpp's dequant_packed). float-, int- and naive-quantized: "X.weight"
 *     (F8 or I8) times "X.weight_scale" as for fp8 (block_structure, or per
 *     row / per tensor by the scale's shape); asymmetric ones are refused.
 *     Modules on the "ignore" list are plain tensors.
 *   Neither "ignore" nor fp8's "modules_to_not_convert" needs reading (nor
 *   does llama.cpp's converter read them): a module left unquantized has a
 *   plain "X.weight" and none of the parts above, and every matrix is read
 *   by the parts it has; an 8-bit float weight without its scale is
 *   refused.
 *   GPTQ, AWQ and pack-quantized groups become a new catalog tensor
 *   "X.weight" [out, in] (dtype I32, no bytes of its own: the parts hold
 *   them), placed at its packed weight's file offset.
 *
 * Ownership: a store points into the catalog's mappings and tensor names;
 * the catalog owns the stores (qk_catalog_free frees them).
 *
 * Errors (pq_attach): QK_E_INVALID naming the tensor or key for parts that
 * disagree (a scale grid of the wrong shape, a scale without its weight, an
 * FP8 weight without a scale, a dtype the method does not use);
 * QK_E_UNSUPPORTED for methods and settings not read (naming the value);
 * QK_E_NOMEM.
 */
#ifndef QK_PQ_H
#define QK_PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "../base/err.h"
#include "catalog.h"

enum pq_kind {
	PQ_SCALED = 1, /* w * scale, by blocks (FP8; compressed-tensors float/int) */
	PQ_GPTQ,       /* GPTQ packed along the input dimension */
	PQ_AWQ,        /* AWQ GEMM packed along the output dimension */
	PQ_PACKED,     /* compressed-tensors pack-quantized */
	PQ_KIND_END
};

/* One source tensor of a storage, as [d0, d1] (a 1-D tensor is [n, 1], a
 * scalar [1, 1]). */
struct pq_part {
	const char *name;     /* the catalog tensor's name; NULL if absent */
	const uint8_t *data;  /* into its mapping */
	int dtype;            /* enum qk_dtype */
	uint64_t d0, d1;
};

struct pq_store {
	int kind;             /* enum pq_kind */
	const char *method;   /* quant_method ("fp8", "gptq", ...), static */
	uint64_t rows, cols;  /* the logical matrix [rows x cols] = [out, in] */
	struct pq_part w;     /* weights: [rows, cols] (scaled) or packed words */
	struct pq_part scale; /* scales */
	struct pq_part zero;  /* zero points (GPTQ, AWQ, packed); data NULL if none */
	struct pq_part gidx;  /* GPTQ g_idx [cols]; data NULL if none */
	uint64_t blk_r, blk_c; /* PQ_SCALED: rows and columns one scale covers */
	uint32_t bits;        /* bits per weight (8 for FP8) */
	uint32_t group;       /* input columns per scale group (GPTQ/AWQ/packed) */
	int32_t zero_add;     /* added to stored zero points (GPTQ v1: 1) */
	int32_t offset;       /* packed, no zero point: subtracted (1 << (bits-1)) */
	bool from_fp8;        /* dequantized from an 8-bit float (--fp8-as-q8) */
	uint64_t bytes;       /* bytes of all parts */
};

/* Group the quantized tensors of `cat` by the quantization config `qcfg`
 * (config.json's "quantization_config" object; `file` names config.json in
 * messages). On failure the catalog is unchanged except for marks already
 * set; the caller then closes it. */
int pq_attach(struct qk_catalog *cat, const cJSON *qcfg, const char *file, qk_err *err);

/* Row `row` of the matrix as s->cols fp32 values. */
int pq_read_row(const struct pq_store *s, uint64_t row, float *out, qk_err *err);

/* "FP8 E4M3, 128x128 blocks, BF16 scales" into buf (always terminated). */
void pq_describe(const struct pq_store *s, char *buf, size_t n);

/* The float type whose precision the storage is meant to be used at (its
 * scales' type, F16 or BF16; F32 otherwise): what --outtype auto keeps. */
int pq_auto_dtype(const struct pq_store *s);

/* The method's name for messages and listings ("fp8", "gptq", ...). */
const char *pq_kind_name(int kind);

/* Whether the matrix has a name no source tensor has ("X.weight" from GPTQ/
 * AWQ "X.qweight", pack-quantized "X.weight_packed"): llama.cpp's converter
 * writes such matrices after every tensor it read (plan.c's order). FP8 and
 * the other scaled storages keep their weight's name and place. */
bool pq_renamed(const struct pq_store *s);

#endif
