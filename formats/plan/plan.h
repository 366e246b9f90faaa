/* plan.h - a write plan: the GGUF file a bound model becomes, decided before
 * any tensor data is read.
 *
 * wp_build lists the output tensors of a model (model.h) in file order, each
 * with its GGUF name, ggml type, ggml ne[] (the logical shape reversed), byte
 * size and producer: the binding whose matrix view (or canonical fp32 array)
 * supplies its rows, with the transform already folded in (stacked experts,
 * Qwen1's fused attn_qkv, the Qwen3-Next QKVZ split are row-range views;
 * -exp(A_log), 1 + w and the conv squeeze are in the canonical arrays).
 * Because every size is known up front, the GGUF header and tensor infos are
 * written first and the data is streamed after it (wp_write_data), in row
 * chunks: memory is the chunk buffers, not the model, and source pages are
 * released (qk_map_evict) once their rows are written.
 *
 * File order: llama.cpp's converter's, so that the whole file is byte for
 * byte what it writes: by the position of each tensor's source in the input
 * (shard in name order, then tensor name, never the byte offset); a stack of
 * per-expert tensors comes after the last expert tensor of its layer (plan.c,
 * "order"); ties in binding order. testdata/llamacpp/convert.tsv holds
 * llama.cpp's order for every fixture and for sharded, shuffled variants.
 *
 * Types (llamacpp-gguf-mapping.md §4.6): F32 is forced for 1-D tensors,
 * names ending "_norm.weight", names not ending ".weight" (biases, ssm_a),
 * routers (ffn_gate_inp), ffn_gate_inp_shexp and ssm_conv1d. Every other
 * tensor gets the outtype; WP_OUT_AUTO keeps each tensor's source precision
 * (F32, F16 or BF16; mixed views go to F32) where llama.cpp's converter
 * narrows F32 sources to F16. Q8_0 falls back to F16 for rows that are not
 * a multiple of 32 elements (why = WP_WHY_FALLBACK). A caller may override
 * any type with wp_set_type before writing (qwen-quant's mixes).
 *
 * MTP (Qwen3-Next "mtp.*"): dropped unless keep_mtp, which writes them the
 * way llama.cpp's own converter does since its nextn support: MTP layer i as
 * block n_layer + i with the usual blk names, fc / pre_fc_norm_embedding /
 * pre_fc_norm_hidden / norm as blk.<n_layer>.nextn.{eh_proj, enorm, hnorm,
 * shared_head_norm}.weight, block_count + n_mtp and nextn_predict_layers.
 *
 * Data path (wp_write_data), generic over target types: rows of the logical
 * tensor are produced as fp32 (qk_view_read_row, or the canonical array) and
 * converted by qt_quantize_row (quant/qtype.h) with the row's importance
 * weights (wp_tensor.qw, if set), which covers F32, F16, BF16 and every
 * quantized type quant/ implements. Where the source rows already have
 * the target type (bf16 -> BF16, f16 -> F16, f32 -> F32) the row bytes are
 * copied as they are: bit-identical, NaN payloads included. The output bytes
 * depend only on the plan, never on n_threads.
 *
 * Metadata (wp_meta_build): general.architecture, general.type, sampling
 * defaults from generation_config.json, general.name and the other
 * authorship keys (--name, the README.md model card, config.json
 * _name_or_path, the directory name, with llama.cpp's heuristics),
 * general.size_label, the arch keys from the hyperparameters with llama.cpp's
 * key names, types and order, general.file_type and
 * general.quantization_version = 2. Tokenizer keys are not part of it: the
 * caller adds them after wp_meta_write (tokenizer.h).
 *
 * Small tensors are the exception to "nothing read before the header": model
 * assembly (qk_model_bind) already loaded them into fp32, which is also what
 * makes their output agree bit for bit with the canonical form other tools
 * read (qwen-inspect diff compares those same arrays).
 *
 * Ownership: a plan points into the model (bindings) and so into its
 * catalog; both must outlive it. wp_meta owns its keys and values.
 *
 * Errors: QK_E_UNSUPPORTED for inputs a plan cannot write (a GGUF input,
 * source dtypes that cannot be read as fp32, hyperparameters GGUF cannot
 * express such as dense layers between MoE layers), QK_E_USAGE for a type
 * override a tensor cannot take (ne[0] not a multiple of the block size, no
 * quantizer), QK_E_NOMEM, and the writer's and outfile's errors (QK_E_IO)
 * from wp_write_data.
 */
#ifndef QK_PLAN_H
#define QK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../container/gguf.h"
#include "../model/model.h"
#include "../model/vision.h"

enum wp_outtype {
	WP_OUT_AUTO = 0, /* keep each tensor's source precision */
	WP_OUT_F32,
	WP_OUT_F16,
	WP_OUT_BF16,
	WP_OUT_Q8_0,
	WP_OUT_COUNT
};

/* "auto", "f32", "f16", "bf16", "q8_0"; NULL if out of range. */
const char *wp_outtype_name(int outtype);
/* Case-insensitive name -> enum wp_outtype; -1 if unknown. */
int wp_outtype_from_name(const char *s);

/* llama.cpp's general.file_type (LLAMA_FTYPE_*) for a ggml type that makes up
 * a file's matrices: F32 0, F16 1, Q4_0 2, Q4_1 3, Q8_0 7, Q5_0 8, Q5_1 9,
 * Q2_K 10, Q3_K 12 (Q3_K_M), Q4_K 15 (Q4_K_M), Q5_K 17 (Q5_K_M), Q6_K 18,
 * BF16 32; 1024 (GUESSED) for anything else. */
uint32_t wp_ftype_of_type(int type);

/* Why a tensor has its type. */
enum wp_why {
	WP_WHY_OUTTYPE = 0, /* the outtype asked for it */
	WP_WHY_SOURCE,      /* auto: the source precision */
	WP_WHY_F32_RULE,    /* forced F32 (1-D, norm, bias, router, conv, ...) */
	WP_WHY_FALLBACK,    /* Q8_0 asked, rows not a multiple of 32: F16 */
	WP_WHY_CALLER,      /* wp_set_type */
	WP_WHY_FP8,         /* --fp8-as-q8: dequantized from FP8, Q8_0 (F16 if
			     * rows are not whole blocks) */
};

struct wp_tensor {
	char name[GF_MAX_NAME];        /* GGUF name */
	const struct qk_binding *b;    /* producer: its view or canonical f32 array */
	int n_dims;                    /* 1..4 */
	uint64_t shape[QK_SHAPE_MAX];  /* logical shape, row-major (slowest first) */
	int64_t ne[GF_MAX_DIMS];       /* ggml order: ne[0] = shape[n_dims-1]; 1 past n_dims */
	uint64_t rows, cols;           /* [rows x cols]: cols = ne[0], rows = the rest */
	uint64_t n_elem;
	int src_type;                  /* dtype of every source row; -1 if they differ;
					* QK_DT_F32 for canonical arrays */
	bool force_f32;                /* the F32 rule applies */
	bool mtp;                      /* an MTP tensor (keep_mtp) */
	int type;                      /* ggml type written (qtype.h) */
	int why;                       /* enum wp_why */
	uint64_t nbytes;               /* bytes of data, unpadded */
	const float *qw;               /* importance weights or NULL (set by the caller,
					* qwen-quant --imatrix; not owned):
					* [rows / qw_rows][cols], slice s for rows
					* [s * qw_rows, (s + 1) * qw_rows), one slice per
					* expert of a stacked tensor */
	uint64_t qw_rows;              /* rows per slice of qw (>= 1 when qw is set) */
};

struct wp_opts {
	int outtype;                   /* enum wp_outtype */
	bool keep_mtp;                 /* write Qwen3-Next MTP tensors (nextn layout) */
	bool fp8_as_q8;                /* llama.cpp's --fp8-as-q8: matrices stored
					* as FP8 (pq.h) become Q8_0 */
};

struct wp_plan {
	const struct qk_model *m;
	int outtype;
	bool keep_mtp;
	uint32_t n_mtp;                /* MTP layers written (0 unless keep_mtp) */
	uint32_t ftype;                /* general.file_type; callers may change it */
	const struct vs_hparams *vision; /* an mmproj plan (wp_build_mmproj): the
					* vision tower's hyperparameters; NULL for a
					* text model */
	size_t n;
	struct wp_tensor *t;           /* [n] in file order */
};

/* Build the plan of model m (an HF-form model). On failure *p is empty. */
int wp_build(struct wp_plan *p, const struct qk_model *m, const struct wp_opts *o,
	     qk_err *err);
/* Free what the plan owns; accepts NULL and an empty plan. */
void wp_free(struct wp_plan *p);

/* Give tensor i the ggml type `type` (why = WP_WHY_CALLER) and recompute its
 * size. QK_E_USAGE naming the tensor when ne[0] is not a multiple of the
 * type's block size or quant/ has no quantizer for it. */
int wp_set_type(struct wp_plan *p, size_t i, int type, qk_err *err);

/* Parameter counts over the planned tensors, as llama.cpp's size label
 * counts them: every element of every tensor; for tensors whose name holds
 * "_exps." and that have >= 3 dims, expert_params adds one expert's share
 * (n_elem / shape[0]) and expert_count is the mean of their shape[0]. */
void wp_param_counts(const struct wp_plan *p, uint64_t *total, uint64_t *shared,
		     uint64_t *expert_params, uint64_t *expert_count);
/* Sum of nbytes over the plan. */
uint64_t wp_data_bytes(const struct wp_plan *p);

/* ---- metadata ---- */

enum wp_kv_kind {
	WP_KV_U32 = 0, WP_KV_I32, WP_KV_F32, WP_KV_STR, WP_KV_ARR_BOOL, WP_KV_ARR_STR, WP_KV_ARR_I32,
	WP_KV_BOOL, WP_KV_ARR_F32
};

struct wp_kv {
	char *key;                     /* owned */
	int kind;                      /* enum wp_kv_kind */
	uint32_t u32;
	int32_t i32;
	float f32;
	bool b;                        /* WP_KV_BOOL */
	char *str;                     /* WP_KV_STR: owned */
	uint64_t n;                    /* arrays: element count */
	bool *bools;                   /* WP_KV_ARR_BOOL: [n], owned */
	char **strs;                   /* WP_KV_ARR_STR: [n], owned */
	int32_t *ints;                 /* WP_KV_ARR_I32: [n], owned */
	float *floats;                 /* WP_KV_ARR_F32: [n], owned */
};

struct wp_meta {
	size_t n, cap;
	struct wp_kv *kv;              /* [n] in file order */
	char note[256];                /* something the user should hear (a model card
					* that was ignored, and why), or "" */
};

struct wp_meta_opts {
	const char *name;              /* --name: general.name, or NULL */
	const char *dir;               /* model directory (README.md, config.json,
					* generation_config.json); NULL: none */
};

/* Every key/value of the file but the tokenizer's, in llama.cpp's order. On
 * failure *md is empty. */
int wp_meta_build(struct wp_meta *md, const struct wp_plan *p, const struct wp_meta_opts *o,
		  qk_err *err);
void wp_meta_free(struct wp_meta *md);
/* The entry for `key`, or NULL. */
const struct wp_kv *wp_meta_find(const struct wp_meta *md, const char *key);
/* ---- mmproj (plan_mmproj.c) ----
 *
 * The vision tower of a VL checkpoint (model/vision.h, bound from its HF
 * form) as llama.cpp's convert_hf_to_gguf.py --mmproj writes it: the same
 * plan rules as a text model (order by source position, the F32 rule, the
 * Q8_0 fallback) plus its own: the two patch-embedding kernels are F16 when
 * the outtype is f16 (or auto from F16) and F32 otherwise, the position
 * embedding is F32. wp_meta_build_mmproj: general.* as for the text model
 * (architecture "clip", type "mmproj", the size label over the mmproj's
 * tensors), then the clip.* keys (plan_mmproj.c lists them); QK_E_INVALID
 * when the model has no image_mean/image_std (preprocessor_config.json). */
int wp_build_mmproj(struct wp_plan *p, const struct vs_model *vm, const struct wp_opts *o,
		    qk_err *err);
int wp_meta_build_mmproj(struct wp_meta *md, const struct wp_plan *p,
			 const struct wp_meta_opts *o, qk_err *err);

/* Add every entry to the writer, in order. */
int wp_meta_write(const struct wp_meta *md, struct gf_writer *w, qk_err *err);

/* The size label llama.cpp computes when no name carries one: "854K",
 * "1.5B", "4x99K" (experts: expert_count x (shared + expert_params)). Always
 * NUL-terminated. */
void wp_size_label(uint64_t total, uint64_t shared, uint64_t expert_params,
		   uint64_t expert_count, char *buf, size_t size);

/* llama.cpp's reading of a model id ("Qwen/Qwen2.5-7B-Instruct"): the parts
 * of its name. Each field is NULL when absent; strings are owned (free with
 * wp_id_parts_free). total_params decides whether a size-like part is a size
 * label or (far from the real size) part of the finetune. */
struct wp_id_parts {
	char *full_name, *org, *basename, *finetune, *version, *size_label;
};
int wp_id_parts(const char *model_id, uint64_t total_params, struct wp_id_parts *out,
		qk_err *err);
void wp_id_parts_free(struct wp_id_parts *p);
/* llama.cpp's id_to_title: '-' to spaces, all-lower words title-cased unless
 * they look like versions or numbers. Returns a malloc'd string or NULL. */
char *wp_id_to_title(const char *s);

/* ---- data ---- */

struct wp_stats {
	uint64_t f16_overflow;         /* finite values that became +-inf in F16 */
	long f16_first;                /* plan index of the first such tensor, or -1 */
	uint64_t bytes_done;           /* data bytes written */
};

/* Called after each chunk: bytes written so far of wp_data_bytes. */
typedef void (*wp_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct wp_write_opts {
	unsigned n_threads;            /* converter threads (0 or 1: this thread only) */
	size_t chunk_bytes;            /* output bytes per chunk, at least one row
					* (0: 4 MiB); memory is one chunk plus one
					* fp32 row per thread */
	wp_progress_fn progress;       /* or NULL */
	void *progress_ctx;
	bool allow_nonfinite;          /* write NaN/Inf weights; false: the first one
					* is QK_E_INVALID naming the tensor, row and
					* column (model.h: qk_err_nonfinite) */
};

/* Declare every planned tensor to the writer, in plan order. */
int wp_declare_tensors(const struct wp_plan *p, struct gf_writer *w, qk_err *err);
/* Stream every tensor's bytes to the writer (after the KVs and
 * wp_declare_tensors), chunk by chunk. *st (may be NULL) gets the counts. */
int wp_write_data(const struct wp_plan *p, struct gf_writer *w, const struct wp_write_opts *o,
		  struct wp_stats *st, qk_err *err);

#endif
