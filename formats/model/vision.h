/* vision.h - the vision tower of a Qwen vision-language checkpoint: one
 * table from Hugging Face names to mmproj GGUF names, and a loader that
 * binds either form to the same roles.
 *
 * llama.cpp runs a VL model as two files: the text GGUF and an "mmproj"
 * GGUF (general.architecture "clip") holding the vision encoder and its
 * projector. This module is the one place that knows how the vision tensors
 * of both forms are named and shaped:
 *
 *   HF (relative to "model.visual." or, in checkpoints saved before
 *   transformers 4.52, "visual.")     mmproj GGUF             transform
 *   patch_embed.proj.weight [E,C,2,P,P] v.patch_embd.weight    temporal slice 0
 *                                       v.patch_embd.weight.1  temporal slice 1
 *   patch_embed.proj.bias               v.patch_embd.bias      (Qwen3-VL, 3.5)
 *   pos_embed.weight                    v.position_embd.weight (Qwen3-VL, 3.5)
 *   blocks.N.norm1.{weight,bias}        v.blk.N.ln1.*
 *   blocks.N.attn.qkv.{weight,bias}     v.blk.N.attn_{q,k,v}.* thirds of the rows
 *                                       (Qwen2-VL, Qwen2.5-VL)
 *                                       v.blk.N.attn_qkv.*     kept fused (Qwen3-VL, 3.5)
 *   blocks.N.attn.proj.*                v.blk.N.attn_out.*
 *   blocks.N.norm2.*                    v.blk.N.ln2.*
 *   blocks.N.mlp.fc1 / up_proj / linear_fc1     v.blk.N.ffn_up.*
 *   blocks.N.mlp.gate_proj (Qwen2.5-VL)         v.blk.N.ffn_gate.*
 *   blocks.N.mlp.fc2 / down_proj / linear_fc2   v.blk.N.ffn_down.*
 *   merger.ln_q / merger.norm           v.post_ln.*
 *   merger.mlp.0 / merger.linear_fc1    mm.0.*
 *   merger.mlp.2 / merger.linear_fc2    mm.2.*
 *   deepstack_merger_list.K.{norm,linear_fc1,linear_fc2}
 *                                       v.deepstack.L.{norm,fc1,fc2}.* where
 *                                       L = deepstack_visual_indexes[K]
 *
 * The rows live in vision_tables.c, one per role and family. Facts:
 * llama.cpp's converter as vendored by llama-cpp-python 0.3.36
 * (conversion/qwenvl.py Qwen2VLVisionModel, conversion/qwen3vl.py
 * Qwen3VLVisionModel, conversion/base.py MmprojModel, gguf-py
 * tensor_mapping.py / constants.py) for names, keys and transforms; the
 * transformers 5.23 vision configs and modeling files for HF shapes and
 * defaults.
 *
 * Families (projector types): Qwen2-VL (qwen2vl_merger: LayerNorm with
 * bias, QuickGELU fc1/fc2 MLP), Qwen2.5-VL (qwen2.5vl_merger: RMSNorm, SiLU
 * gate/up/down MLP, window attention), Qwen3-VL, Qwen3-VL-MoE and
 * Qwen3.5/3.6 (qwen3vl_merger: LayerNorm with bias, fused qkv, learned
 * position embedding, GELU fc1/fc2 MLP, deepstack mergers).
 *
 * Roles are enum qk_role values QK_R_V_* (arch.h), so a bound vision tower
 * is an ordinary struct qk_model: blocks are its layers (qk_model_get(m,
 * QK_R_V_ATTN_Q, block)), deepstack mergers sit at the layer of the block
 * whose output they read, globals at layer -1. Matrices are read through
 * matrix views (qk_view_read_row, model.h), whatever the form: the HF patch
 * embedding's temporal slices and q/k/v thirds are row ranges of the HF
 * tensor, nothing is copied. Norms and biases are loaded as fp32 (b->f32).
 * Logical shapes (b->shape, row-major) are the GGUF form:
 *   QK_R_V_PATCH, QK_R_V_PATCH_1  [n_embd, in_chans, patch, patch]
 *   QK_R_V_POS                    [n_pos, n_embd]
 *   QK_R_V_ATTN_Q/K/V             [n_embd, n_embd]; QK_R_V_ATTN_QKV [3*n_embd, n_embd]
 *   QK_R_V_FFN_UP/GATE            [n_ff, n_embd];   QK_R_V_FFN_DOWN [n_embd, n_ff]
 *   QK_R_V_MM0, QK_R_V_DS_FC1     [n_merged, n_merged] (n_merged = n_embd * merge^2)
 *   QK_R_V_MM2, QK_R_V_DS_FC2     [n_out, n_merged]
 *   QK_R_V_DS_NORM(_B)            [n_merged]; other norms and biases [their rows]
 *
 * Ownership: a vs_model points into the catalog (tensor data); the catalog
 * must outlive it. A vs_input owns its catalog and model.
 *
 * Errors name the file, the key or tensor, the value found and what was
 * expected: QK_E_INVALID for a vision config or tensor that does not fit
 * the family (missing, extra, wrong shape or dtype), QK_E_UNSUPPORTED for a
 * model without a vision tower or a family this table does not know,
 * QK_E_NOMEM.
 */
#ifndef QK_VISION_H
#define QK_VISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../container/catalog.h"
#include "model.h"

#define VS_MAX_BLOCKS 256
#define VS_MAX_LIST 64 /* deepstack and full-attention index lists */

enum vs_family {
	VS_FAM_QWEN2VL = 0, /* Qwen2-VL */
	VS_FAM_QWEN25VL,    /* Qwen2.5-VL */
	VS_FAM_QWEN3VL,     /* Qwen3-VL, Qwen3-VL-MoE, Qwen3.5, Qwen3.6 */
	VS_FAM_COUNT
};

/* The vision hyperparameters, as config.json's vision_config (with the
 * transformers 5.23 class defaults) or the mmproj's clip.* keys state them. */
struct vs_hparams {
	int family;                /* enum vs_family */
	char model_type[32];       /* config.json model_type ("qwen2_5_vl"); "" from GGUF */
	uint32_t depth;            /* vision blocks */
	uint32_t n_embd;           /* hidden_size (Qwen2-VL: embed_dim) */
	uint32_t n_ff;             /* MLP width: intermediate_size (Qwen2-VL:
				    * embed_dim * mlp_ratio) */
	uint32_t n_ff_key;         /* clip.vision.feed_forward_length as llama.cpp's
				    * converter writes it: n_ff, except Qwen2-VL,
				    * where it writes vision_config.hidden_size */
	uint32_t n_head;           /* num_heads */
	uint32_t patch;            /* patch_size */
	uint32_t temporal_patch;   /* temporal_patch_size (the converter needs 2) */
	uint32_t in_chans;         /* in_channels */
	uint32_t merge;            /* spatial_merge_size */
	uint32_t n_out;            /* merger output width: out_hidden_size
				    * (Qwen2-VL: vision_config.hidden_size) */
	uint32_t n_embd_text;      /* the text model's hidden_size: projection_dim */
	uint32_t n_pos;            /* num_position_embeddings (Qwen3 family), else 0 */
	uint32_t image_size;       /* Qwen2 family: image_size, default 560; Qwen3
				    * family: int(sqrt(n_pos) * patch) */
	uint32_t n_deepstack;
	uint32_t deepstack[VS_MAX_LIST];   /* deepstack_visual_indexes, ascending */
	uint32_t n_fullatt;
	uint32_t fullatt[VS_MAX_LIST];     /* Qwen2.5-VL fullatt_block_indexes */
	uint32_t n_wa_pattern;     /* Qwen2.5-VL: fullatt[0] + 1, else 0 */
	uint32_t window_size;      /* Qwen2.5-VL window in pixels (not in the mmproj;
				    * llama.cpp assumes 112); 0 when unknown */
	float eps;                 /* clip.vision.attention.layer_norm_epsilon */
	bool has_norm;             /* image_mean / image_std known */
	uint32_t n_mean;           /* values in image_mean and image_std (<= 4) */
	float image_mean[4], image_std[4]; /* preprocessor_config.json */
};

/* ---- the table ---- */

enum vs_when {
	VS_W_GLOBAL = 0, /* one tensor */
	VS_W_BLOCK,      /* every block */
	VS_W_DEEPSTACK,  /* every deepstack merger: HF index K, GGUF (and layer) the
			  * block deepstack[K] */
};

enum vs_sel {
	VS_S_WHOLE = 0,
	VS_S_THIRD0, VS_S_THIRD1, VS_S_THIRD2, /* rows of the fused qkv */
	VS_S_TIME0, VS_S_TIME1,                 /* temporal slice of [E,C,2,P,P] */
};

/* dimensions of the shape rules */
enum vs_dim {
	VS_D_NONE = 0, VS_D_EMBD, VS_D_3EMBD, VS_D_FF, VS_D_MERGED, VS_D_OUT, VS_D_CIN,
	VS_D_PATCH, VS_D_TPATCH, VS_D_POS, VS_D_COUNT
};

struct vs_row {
	uint8_t role;            /* enum qk_role (QK_R_V_*) */
	uint8_t when;            /* enum vs_when */
	uint8_t families;        /* 1 << enum vs_family of the families that have it */
	uint8_t sel;             /* enum vs_sel: what the GGUF tensor takes of the HF one */
	const char *hf;          /* after the vision prefix; '@' = block or merger index */
	const char *gguf;        /* '@' = block */
	uint8_t shape[QK_SHAPE_MAX];    /* logical (GGUF) shape, enum vs_dim, 0-terminated */
	uint8_t hf_shape[5];            /* HF shape when it differs (rank 5 for the
					 * patch embedding), else all 0 */
};

/* All rows, in llama.cpp's tensor order within a block. */
const struct vs_row *vs_rows(size_t *n);
/* "qwen2vl_merger", "qwen2.5vl_merger", "qwen3vl_merger"; NULL out of range. */
const char *vs_projector_name(int family);
/* enum vs_family of a clip.projector_type; -1 unknown. */
int vs_family_from_projector(const char *s);
/* enum vs_family of a config.json model_type ("qwen2_vl", "qwen2_5_vl",
 * "qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe"); -1 unknown. */
int vs_family_from_model_type(const char *s);
/* Evaluate shape rule d[] (0-terminated, up to max dims) over vh; returns
 * the rank, 0 on overflow. */
int vs_shape_eval(const uint8_t *d, int max, const struct vs_hparams *vh, uint64_t *out);

/* ---- hyperparameters ---- */

/* From config.json text (the whole file: vision_config, text_config and
 * model_type) and, when pp is not NULL, preprocessor_config.json text
 * (image_mean, image_std). Names the file and key on failure;
 * QK_E_UNSUPPORTED when the config has no vision_config. */
int vs_hparams_from_config(struct vs_hparams *vh, const char *cfg, size_t cfg_len,
			   const char *cfg_name, const char *pp, size_t pp_len,
			   const char *pp_name, qk_err *err);
/* From DIR/config.json and DIR/preprocessor_config.json (optional). */
int vs_hparams_load(struct vs_hparams *vh, const char *dir, qk_err *err);
struct gf_file;
/* From an mmproj GGUF's clip.* keys. */
int vs_hparams_from_gguf(struct vs_hparams *vh, const struct gf_file *f, qk_err *err);

/* ---- binding ---- */

struct vs_model {
	struct vs_hparams vh;
	struct qk_model m;       /* bindings of the QK_R_V_* roles; m.hp.n_layer =
				  * depth; m.form HF or GGUF */
	const char *prefix;      /* HF: "model.visual." or "visual."; GGUF: "" */
};

/* Bind the vision tensors of cat (an HF checkpoint or an mmproj GGUF) to
 * the roles of vh->family. Tensors outside the vision tower (the text
 * model of an HF checkpoint) are ignored; every vision tensor must be
 * claimed. On failure *vm is empty. */
int vs_bind(struct vs_model *vm, const struct qk_catalog *cat, const struct vs_hparams *vh,
	    qk_err *err);
void vs_free(struct vs_model *vm);

/* The binding of a role (QK_R_V_*) at a block (-1 for globals); NULL if
 * absent. */
const struct qk_binding *vs_get(const struct vs_model *vm, int role, int block);

/* Parameters: the encoder (patch and position embeddings, blocks) and the
 * projector (post norm, merger, deepstack mergers). */
void vs_param_counts(const struct vs_model *vm, uint64_t *encoder, uint64_t *projector);

/* Open an HF checkpoint directory (or its .safetensors / index) or an mmproj
 * GGUF and bind its vision tower. */
struct vs_input {
	struct qk_catalog cat;
	struct vs_model vm;
};
int vs_open(struct vs_input *in, const char *path, qk_err *err);
void vs_close(struct vs_input *in);

#endif
