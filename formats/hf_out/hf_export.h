/* hf_export.h - a bound model (model.h) back to a Hugging Face checkpoint:
 * config.json, safetensors shards (+ index) and tokenizer files.
 *
 * What is written to the output directory:
 *   model.safetensors                           when one shard holds it all, else
 *   model-0000k-of-0000n.safetensors +          shards of at most shard_size tensor
 *   model.safetensors.index.json                bytes (below)
 *   config.json                                 hf_config.c: the keys transformers
 *                                               5.23 save_pretrained writes for the
 *                                               class (Qwen1: its remote QWenConfig)
 *   tokenizer.json + tokenizer_config.json      rebuilt from the GGUF vocabulary
 *                                               (tokenizer.h); from an HF input, from
 *                                               its own tokenizer files
 *
 * Tensors carry the HF names of the arch table (arch.h) and every HF -> GGUF
 * transform is undone:
 *   - stacked experts [E, r, c] -> per-expert tensors
 *     "mlp.experts.E.{gate,up,down}_proj.weight" [r, c] (the hub layout
 *     transformers 5.x save_pretrained writes);
 *   - Qwen3-Next attn_qkv + attn_gate -> in_proj_qkvz [2 nk dk + 2 nv dv,
 *     n_embd], rows regrouped per key-head group g as [q_g, k_g, v_g, z_g]
 *     (q_g, k_g: dk rows; v_g, z_g: (nv / nk) dv rows);
 *   - Qwen1 keeps attn_qkv fused as c_attn (w1 = ffn_up, w2 = ffn_gate,
 *     mlp.c_proj = ffn_down);
 *   - ssm_a -> A_log, the value a with -expf(a) == ssm_a; norms stored 1 + w
 *     -> w (not the gated ssm_norm); conv [conv_dim, K] -> [conv_dim, 1, K];
 *     ssm_dt.bias -> dt_bias; ffn_gate_inp_shexp -> shared_expert_gate.weight
 *     [1, n_embd];
 *   - a tied model (no output tensor) gets no lm_head and
 *     tie_word_embeddings true;
 *   - attention biases the config cannot switch off (Qwen2's, Qwen1's) or
 *     that are missing next to present ones are written as zeros, which is
 *     what their absence means.
 * MTP tensors are written when the model has them bound (an HF input);
 * GGUF inputs never do. No generation_config.json is written.
 *
 * Dtypes (hx_opts.outtype):
 *   - HX_OUT_F32/F16/BF16: every tensor in that dtype (quantized matrices
 *     dequantized, then rounded to nearest even).
 *   - HX_OUT_AUTO: a matrix whose rows are all one float dtype keeps it (the
 *     raw bytes are copied: bit-identical, NaN payloads included); rows of
 *     several float dtypes become F32; anything quantized becomes BF16.
 *     From a GGUF input, an F32 matrix (converters write routers as F32
 *     whatever the checkpoint held) takes the dtype holding most matrix
 *     elements when every value fits it exactly. A small tensor (norm, bias,
 *     A_log, dt_bias, conv, shared expert gate) takes its source dtype from
 *     an HF input; from a GGUF input (which holds them as F32 whatever the
 *     source was) the dtype holding most matrix elements (BF16 if none). If
 *     some value has no exact preimage in that dtype (below) the tensor is
 *     written as F32 instead, so AUTO never loses what the input holds.
 *
 * Small tensors are canonical fp32 in GGUF form (model.h); each element c is
 * written as a value x of the target dtype with F(widen(x)) == c bit for
 * bit, F being the forward transform in fp32 as model_view.c computes it
 * (x, 1.0f + x, -expf(x)): the target value nearest to the exact inverse
 * (c - 1 or log(-c) in double), else one of its neighbours (hx_invert). When
 * the GGUF came from an HF checkpoint of that dtype through our converter on
 * the same libm, x is the original value in these ranges (checked over every
 * finite BF16 and F16 value by tests/unit/test_hf_export.c):
 *   - no transform (plain norms, biases, dt_bias, conv): always;
 *   - w from 1 + w: BF16 w <= -2^-17 or w >= 2^-16; F16 w <= 0 or
 *     w >= 2^-13 (1 + w is exact in fp32 there). Between, 1 + w rounds and
 *     neighbouring w share it: the one nearest to (1 + w) - 1 is written
 *     (|error| <= 2^-24); -0 comes back as +0. (The fixtures' Qwen3-Next
 *     norms all come back.)
 *   - A_log from -exp(A_log): BF16 A in [-102.5, -2^-17] or [2^-16, 88.5];
 *     F16 A in [-100.6875, 0] or [2^-13, 88.6875]. Nearer to zero
 *     neighbouring A give one fp32 result, above 88.7 it is -inf, below the
 *     ranges a denormal that no longer tells them apart. (The fixtures'
 *     A_log all come back.)
 * F32 sources cannot come back exactly in general: 1 + w keeps only w's
 *   bits down to the last bit of 1 + w (2^-23 for 1 + w in [1, 2)), so about
 *   half of random w in [1/4, 1) and 9% in [2^-6, 1/4) survive; -expf gives
 *   every f32 A in (1, 8) a distinct result (checked exhaustively), but
 *   below |A| = 1 about 1/|A| neighbours share one (random A in [1/4, 1):
 *   54% exact, [2^-6, 1/4): 8.5%). The value written still reproduces the
 *   GGUF bit for bit: converting the export again gives the same GGUF.
 * Values with no preimage at all (a GGUF made by another converter) get the
 * target value nearest to the exact inverse; hx_report.n_inexact counts
 * them.
 *
 * Sharding follows huggingface_hub's split_state_dict_into_shards: tensors
 * in model order (embeddings, layers, final norm, lm_head, MTP) fill a shard
 * until the next would pass shard_size; a tensor larger than shard_size gets
 * a shard of its own, numbered when it is met. The default is 5 GB (5 x 10^9
 * bytes, huggingface_hub's MAX_SHARD_SIZE and transformers 4.x's default;
 * transformers 5.x defaults to 50 GB). Within a file, tensors are ordered as
 * the safetensors reference writer orders them (dtype descending: F32, BF16,
 * F16; then name), with __metadata__ {"format": "pt"}. The index is what
 * transformers 5.x writes: {"metadata": {"total_parameters", "total_size"},
 * "weight_map"} with sorted keys, 2-space indent and a final newline.
 *
 * Streaming: all tensors of a shard are declared first, then each is
 * streamed in row chunks of HX_CHUNK_BYTES; source pages are released after
 * use, so memory does not grow with the model.
 *
 * Files are written atomically one by one (outfile.h): on an error the file
 * being written is removed, files already completed stay. The directory is
 * created if missing; one that holds model*.safetensors or an index this
 * export would not replace is refused (a loader would mix the two).
 *
 * Ownership: a plan points into the model, which must outlive it.
 * Errors: QK_E_USAGE (bad options, a directory holding another
 * checkpoint), QK_E_UNSUPPORTED (a quantized type with no dequantizer, a
 * vocabulary tk_write_hf cannot express), QK_E_INVALID (a GGUF vocabulary
 * tk_from_gguf refuses; checked before anything is written), QK_E_IO,
 * QK_E_NOMEM.
 * Nothing here prints: progress goes to the callback.
 */
#ifndef QK_HF_EXPORT_H
#define QK_HF_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../model/model.h"
#include "../model/vision.h"

#define HX_DEFAULT_SHARD_SIZE 5000000000ull /* "5GB" as huggingface_hub reads it */
#define HX_CHUNK_BYTES (4u << 20)           /* bytes per streamed chunk */
#define HX_NAME_MAX 256                     /* longest HF tensor name written */
#define HX_SHAPE_MAX 5                      /* dims of an HF tensor (the vision
					     * tower's Conv3d kernel has 5) */

enum hx_outtype {
	HX_OUT_AUTO = 0, /* keep float dtypes; quantized -> BF16 */
	HX_OUT_F32,
	HX_OUT_F16,
	HX_OUT_BF16,
	HX_OUT_COUNT
};

/* "auto", "f32", "f16", "bf16"; NULL if out of range. */
const char *hx_outtype_name(int outtype);
/* Case-insensitive name -> enum hx_outtype; -1 if unknown. */
int hx_outtype_from_name(const char *s);

/* Reported after each tensor is written. */
struct hx_progress {
	const char *file;           /* shard file name */
	const char *tensor;         /* tensor just completed */
	size_t done, count;         /* tensors written so far, of all */
	uint64_t bytes_done, bytes_total;
};
typedef void (*hx_progress_fn)(void *user, const struct hx_progress *p);

/* What an export did (filled by hx_export when hx_opts.report is set). */
struct hx_report {
	size_t n_tensors, n_shards;
	uint64_t total_size;        /* tensor bytes in all shards */
	uint64_t n_params;          /* elements, MTP excluded (= total_parameters) */
	uint64_t n_inexact;         /* small-tensor elements with no exact preimage */
	uint64_t n_dequant;         /* matrix rows dequantized from a ggml type */
	bool tokenizer;             /* tokenizer files written */
};

struct hx_opts {
	int outtype;                /* enum hx_outtype */
	uint64_t shard_size;        /* max tensor bytes per shard; 0 = HX_DEFAULT_SHARD_SIZE */
	bool no_tokenizer;          /* do not write tokenizer files */
	hx_progress_fn progress;    /* may be NULL */
	void *progress_user;
	struct hx_report *report;   /* may be NULL */
	/* the vision tower to export with the text model (an mmproj GGUF bound
	 * by model/vision.h), or NULL: its tensors follow the text model's as
	 * "model.visual.*" (hf_vision.c), config.json gets its vision_config
	 * and preprocessor_config.json is written */
	const struct vs_model *vision;
};

/* Defaults: auto, 5 GB shards, tokenizer, no callback. */
void hx_opts_init(struct hx_opts *o);

/* Export m into out_dir (see above). o may be NULL for defaults. */
int hx_export(const struct qk_model *m, const char *out_dir, const struct hx_opts *o,
	      qk_err *err);

/* ---- the plan (what hx_export will write; for dry runs and tests) ---- */

enum hx_src {
	HX_SRC_VIEW = 0, /* rows [row0, row0 + rows) of b's view */
	HX_SRC_QKVZ,     /* in_proj_qkvz from b (attn_qkv) and b2 (attn_gate) */
	HX_SRC_SMALL,    /* b's canonical fp32 array, xform undone */
	HX_SRC_ZEROS,    /* a bias the model lacks */
};

struct hx_tensor {
	char name[HX_NAME_MAX];     /* HF name */
	int dtype;                  /* QK_DT_F32, QK_DT_F16 or QK_DT_BF16 */
	int n_dims;
	uint64_t shape[HX_SHAPE_MAX]; /* HF shape, row-major */
	uint64_t n_elem, nbytes;
	size_t shard;               /* 0-based shard index */
	bool mtp;                   /* not counted in n_params */
	int src;                    /* enum hx_src */
	const struct qk_binding *b, *b2;
	uint64_t row0, rows, cols;  /* VIEW/QKVZ: logical rows taken, row width */
	int xform;                  /* SMALL: enum qk_xform to undo */
	/* Qwen3.5 value heads, tiled (GGUF form) -> grouped (HF): HF row (VIEW)
	 * or element (SMALL) i >= vt_skip is in value block (i - vt_skip) /
	 * vt_unit = g*vt_r + j, taken from block j*vt_nk + g (hx_vt_index);
	 * vt_r == 0: no reorder. vt_cols: the columns' value blocks instead
	 * (out_proj). */
	uint32_t vt_nk, vt_r;
	uint64_t vt_skip, vt_unit;
	bool vt_cols;
};

/* The source row / element of HF row / element i of t (see vt_*). */
uint64_t hx_vt_index(const struct hx_tensor *t, uint64_t i);

struct hx_plan {
	const struct qk_model *m;
	size_t n;
	struct hx_tensor *t;        /* [n] in model order */
	size_t n_shards;
	uint64_t total_size, n_params, n_inexact;
	int dtype;                  /* config.json "dtype": most matrix elements */
	bool attn_bias;             /* config attention bias flag */
	uint32_t n_mtp;             /* MTP layers written */
	const struct vs_model *vision; /* hx_opts.vision */
	struct qk_binding *vbind;   /* [n_vbind] the vision tower's fused HF tensors
				     * (q/k/v -> qkv, the two patch kernels), owned */
	size_t n_vbind, cap_vbind;
};

/* Build the plan (names, dtypes, shapes, shards). Reads the small tensors
 * and, for AUTO from a GGUF input, its F32 matrices when most matrix
 * elements are BF16 or F16 (to see whether they fit). */
int hx_plan_build(struct hx_plan *p, const struct qk_model *m, const struct hx_opts *o,
		  qk_err *err);
void hx_plan_free(struct hx_plan *p);
/* "model.safetensors" or "model-0000k-of-0000n.safetensors" for shard k
 * (0-based) of a plan; always NUL-terminated. */
void hx_shard_name(const struct hx_plan *p, size_t shard, char *buf, size_t size);

/* config.json text for a plan (hf_config.c): malloc'd, NUL-terminated, with
 * a final newline. Keys sorted, 2-space indent, numbers as Python's json
 * writes them; floats that came from GGUF f32 keys are written with the
 * fewest digits that give the same f32. QK_E_NOMEM only. */
int hx_config_json(const struct hx_plan *p, char **json, qk_err *err);

/* The element of `dtype` (QK_DT_F32/F16/BF16) to write for canonical value c
 * of a small tensor with transform `xform` (enum qk_xform; NONE and SQUEEZE
 * are the identity): *bits gets its bit pattern. true when F(widen(*bits))
 * == c bit for bit (both NaN also counts); false when no value near the
 * exact inverse does that (then *bits is the nearest to it). */
bool hx_invert(int xform, float c, int dtype, uint32_t *bits);

/* ---- the vision tower (hf_vision.c) ---- */

/* Append the tensors of vm to p (model.visual.*, transforms undone through
 * views); dtype: the outtype's, or -1 for each tensor's source precision. */
int hx_add_vision(struct hx_plan *p, const struct vs_model *vm, int dtype, qk_err *err);
void hx_vision_free(struct hx_plan *p);
/* vision_config as transformers 5.23's vision config classes read it
 * (model_type "qwen2_vl", "qwen2_5_vl", ...; NULL when out of memory).
 * Qwen2.5-VL from an mmproj: window_size is llama.cpp's 112 (the mmproj does
 * not store it) and fullatt_block_indexes come from the window pattern;
 * tokens_per_second is left to the class default. */
struct cJSON;
struct cJSON *hx_vision_config(const struct vs_hparams *vh, const char *model_type);
/* preprocessor_config.json text (image_mean, image_std, patch, merge and
 * temporal patch sizes), malloc'd; NULL when out of memory. */
char *hx_preprocessor_json(const struct vs_hparams *vh);

#endif
