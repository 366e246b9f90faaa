/* arch.h - the Qwen architecture tables: which tensors each arch has.
 *
 * A *role* is what a tensor does in the model (token embedding, attention q,
 * expert gate, ssm_a, ...). Each arch has one table of rows; a row says, for
 * one role:
 *   - its HF name pattern and its GGUF name pattern;
 *   - its shape as a rule over the hyperparameters, in row-major order, for
 *     the logical (GGUF-form) tensor and, where they differ, for the HF and
 *     GGUF source tensors it is read from;
 *   - which layers carry it (all / full-attention / linear-attention / MoE /
 *     dense, or none: a global tensor);
 *   - whether it may be absent (optional, only when untied, only with biases);
 *   - the transform that turns the HF form into the GGUF form (none, stack the
 *     experts, split fused gate_up, split the QKVZ projection, -exp(A_log),
 *     w+1, squeeze);
 *   - which rows of its source tensor it takes (all, a third of Qwen1's fused
 *     c_attn, the q/k/v or z blocks of Qwen3-Next's in_proj_qkvz, the
 *     gate/up half of each fused expert, or one tensor per expert).
 * Adding a generation is adding a table (arch.c) plus its forward block.
 * Facts: llama.cpp's convert_hf_to_gguf.py classes (names, transforms) and
 * the transformers modeling files (HF shapes); see formats/README.md, "Where
 * the facts come from", for the versions and the tests that check them.
 *
 * Name patterns: '@' stands for the block prefix plus the layer number
 * ("model.layers.3", "transformer.h.3", "mtp.layers.0", "blk.3") and '#' for
 * an expert number. Global rows have neither.
 *
 * Everything here is constant data and pure functions; nothing allocates.
 */
#ifndef QK_ARCH_H
#define QK_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hparams.h"

enum qk_role {
	QK_R_TOKEN_EMBD = 0,  /* [n_vocab, n_embd] */
	QK_R_OUTPUT_NORM,     /* [n_embd] */
	QK_R_OUTPUT,          /* [n_vocab, n_embd]; absent when tied */
	QK_R_ATTN_NORM,       /* [n_embd] */
	QK_R_ATTN_Q,          /* [n_head*head_dim, n_embd] (Qwen3-Next: x2, query+gate per head) */
	QK_R_ATTN_Q_B,
	QK_R_ATTN_K,          /* [n_head_kv*head_dim, n_embd] */
	QK_R_ATTN_K_B,
	QK_R_ATTN_V,
	QK_R_ATTN_V_B,
	QK_R_ATTN_QKV,        /* Qwen1 fused [3*n_embd, n_embd]; Qwen3-Next linear [conv_dim, n_embd] */
	QK_R_ATTN_QKV_B,      /* Qwen1 [3*n_embd] */
	QK_R_ATTN_GATE,       /* Qwen3-Next linear: z projection [value_dim, n_embd] */
	QK_R_ATTN_OUT,        /* [n_embd, n_head*head_dim] */
	QK_R_ATTN_OUT_B,
	QK_R_ATTN_Q_NORM,     /* [head_dim] */
	QK_R_ATTN_K_NORM,
	QK_R_FFN_NORM,        /* [n_embd] (the norm before the FFN) */
	QK_R_ATTN_POST_NORM,  /* [n_embd] Qwen3-Next's post_attention_layernorm */
	QK_R_FFN_GATE,        /* [n_ff, n_embd] */
	QK_R_FFN_UP,
	QK_R_FFN_DOWN,        /* [n_embd, n_ff] */
	QK_R_FFN_GATE_INP,    /* router [n_expert, n_embd] */
	QK_R_FFN_GATE_EXPS,   /* [n_expert, n_ff_exp, n_embd] */
	QK_R_FFN_UP_EXPS,
	QK_R_FFN_DOWN_EXPS,   /* [n_expert, n_embd, n_ff_exp] */
	QK_R_FFN_GATE_SHEXP,  /* [n_ff_shexp, n_embd] */
	QK_R_FFN_UP_SHEXP,
	QK_R_FFN_DOWN_SHEXP,  /* [n_embd, n_ff_shexp] */
	QK_R_FFN_GATE_INP_SHEXP, /* shared expert gate [1, n_embd] */
	QK_R_SSM_A,           /* [n_v_heads], canonical -exp(A_log) */
	QK_R_SSM_DT_B,        /* [n_v_heads] */
	QK_R_SSM_CONV1D,      /* [conv_dim, d_conv] */
	QK_R_SSM_BA,          /* [2*n_v_heads, n_embd] */
	QK_R_SSM_BETA,        /* Qwen3.5 in_proj_b [n_v_heads, n_embd] */
	QK_R_SSM_ALPHA,       /* Qwen3.5 in_proj_a [n_v_heads, n_embd] */
	QK_R_SSM_NORM,        /* [head_v_dim] */
	QK_R_SSM_OUT,         /* [n_embd, value_dim] */
	QK_R_MTP_FC,          /* [n_embd, 2*n_embd] */
	QK_R_MTP_NORM_EMB,    /* [n_embd] */
	QK_R_MTP_NORM_HID,    /* [n_embd] */
	QK_R_MTP_NORM,        /* [n_embd] */
	QK_R_VISION,          /* any tensor of a vision tower (Qwen3.5 model.visual.*):
			       * claimed and counted, not bound (no row) */
	QK_R_PROJECTOR,       /* the vision tower's merger (projector to the text
			       * width, deepstack mergers): claimed and counted */
	/* vision tower roles (vision.h): bound by vs_bind, never by an arch table */
	QK_R_V_PATCH,         /* [n_embd, in_chans, patch, patch] temporal slice 0 */
	QK_R_V_PATCH_1,       /* temporal slice 1 */
	QK_R_V_PATCH_B,       /* [n_embd] */
	QK_R_V_POS,           /* [n_pos, n_embd] */
	QK_R_V_LN1, QK_R_V_LN1_B,        /* [n_embd] */
	QK_R_V_ATTN_Q, QK_R_V_ATTN_Q_B,  /* [n_embd, n_embd], [n_embd] */
	QK_R_V_ATTN_K, QK_R_V_ATTN_K_B,
	QK_R_V_ATTN_V, QK_R_V_ATTN_V_B,
	QK_R_V_ATTN_QKV, QK_R_V_ATTN_QKV_B, /* [3*n_embd, n_embd], [3*n_embd] */
	QK_R_V_ATTN_OUT, QK_R_V_ATTN_OUT_B, /* [n_embd, n_embd], [n_embd] */
	QK_R_V_LN2, QK_R_V_LN2_B,
	QK_R_V_FFN_UP, QK_R_V_FFN_UP_B,     /* [n_ff, n_embd], [n_ff] */
	QK_R_V_FFN_GATE, QK_R_V_FFN_GATE_B,
	QK_R_V_FFN_DOWN, QK_R_V_FFN_DOWN_B, /* [n_embd, n_ff], [n_embd] */
	QK_R_V_POST_LN, QK_R_V_POST_LN_B,   /* [n_embd] */
	QK_R_V_MM0, QK_R_V_MM0_B,           /* [n_merged, n_merged], [n_merged] */
	QK_R_V_MM2, QK_R_V_MM2_B,           /* [n_out, n_merged], [n_out] */
	QK_R_V_DS_NORM, QK_R_V_DS_NORM_B,   /* [n_merged] */
	QK_R_V_DS_FC1, QK_R_V_DS_FC1_B,     /* [n_merged, n_merged] */
	QK_R_V_DS_FC2, QK_R_V_DS_FC2_B,     /* [n_out, n_merged] */
	QK_ROLE_COUNT
};

/* How a role's data is held once bound (model.h). */
enum qk_kind {
	QK_KIND_MATRIX = 0, /* read through a matrix view; any float or ggml type */
	QK_KIND_SMALL,      /* loaded into canonical fp32; F32, F16 or BF16 only */
	QK_KIND_NONE,       /* claimed only (vision tower) */
};

/* Which layers carry a row. */
enum qk_when {
	QK_W_GLOBAL = 0, /* one tensor, no layer */
	QK_W_MTP,        /* one tensor, only when the checkpoint holds MTP tensors */
	QK_W_ALL,        /* every layer */
	QK_W_FULL,       /* full-attention layers */
	QK_W_LINEAR,     /* linear-attention (Gated DeltaNet) layers */
	QK_W_MOE,        /* sparse MoE layers */
	QK_W_DENSE,      /* dense-FFN layers */
};

/* May the tensor be absent? */
enum qk_presence {
	QK_P_REQ = 0,  /* always required */
	QK_P_OPT,      /* optional */
	QK_P_UNTIED,   /* HF: required unless tie_word_embeddings; GGUF: optional */
	QK_P_BIAS,     /* HF: present exactly when the config enables attention
			* biases; GGUF: optional */
};

/* HF form -> GGUF form. The converter applies it when a bound tensor is in HF
 * form; a GGUF input already holds the result. Renames (dt_bias ->
 * ssm_dt.bias) are in the names themselves. */
enum qk_xform {
	QK_X_NONE = 0,
	QK_X_STACK,          /* per-expert tensors stacked on a new leading dim */
	QK_X_SPLIT_GATE_UP,  /* fused [E, 2*Im, H] split into gate and up halves */
	QK_X_SPLIT_QKVZ,     /* in_proj_qkvz regrouped into attn_qkv + attn_gate */
	QK_X_NEG_EXP,        /* ssm_a = -exp(A_log) */
	QK_X_PLUS_ONE,       /* zero-centred norm weight w stored as 1 + w */
	QK_X_SQUEEZE,        /* conv1d [conv_dim, 1, K] -> [conv_dim, K] */
	QK_X_V_REORDER,      /* Qwen3.5 value heads grouped by key head -> tiled
			      * (the rows or columns of each value head move) */
	QK_X_TRANSPOSE,      /* released Qwen3-VL-MoE fused experts, stored with the
			      * last two dims swapped (gate_up [E, H, 2*Im], down
			      * [E, Im, H]): read transposed (and split) */
	QK_X_COUNT
};

/* Which rows of the source tensor (viewed as [rows, last dim]; a 1-D tensor
 * as [n, 1]) a role takes. */
enum qk_sel {
	QK_S_WHOLE = 0,
	QK_S_THIRD0,        /* rows [0, R/3): Qwen1 c_attn q */
	QK_S_THIRD1,        /* rows [R/3, 2R/3): k */
	QK_S_THIRD2,        /* rows [2R/3, R): v */
	QK_S_QKVZ_QKV,      /* every group's q, then k, then v blocks */
	QK_S_QKVZ_Z,        /* every group's z block */
	QK_S_EXPERTS,       /* one tensor per expert ('#' in the pattern) */
	QK_S_GATEUP_GATE,   /* rows [e*2Im, e*2Im+Im) of each expert e */
	QK_S_GATEUP_UP,     /* rows [e*2Im+Im, (e+1)*2Im) */
	/* Qwen3.5 value-head reorder, grouped -> tiled (llama.cpp's converter):
	 * value head g*r + j (key head g of nk, j of r = nv/nk) moves to
	 * position j*nk + g; identity when nv == nk */
	QK_S_VT_QKV,        /* rows [0, 2*key_dim) as they are, then the value
			     * heads' blocks of rows (R - 2*key_dim) / nv reordered */
	QK_S_VT_HEADS,      /* nv blocks of R / nv rows, reordered */
	QK_S_COUNT
};

/* Dimensions named once; each is (c1*a*b + c2*c*d) / div over hparams
 * fields (arch.c dim table). */
enum qk_dim {
	QK_D_NONE = 0,
	QK_D_1,
	QK_D_VOCAB,      /* vocab_size */
	QK_D_EMBD,       /* hidden_size */
	QK_D_2EMBD,      /* 2 * hidden_size (MTP fc input) */
	QK_D_Q,          /* num_attention_heads * head_dim */
	QK_D_QG,         /* 2 * num_attention_heads * head_dim (Qwen3-Next query + gate) */
	QK_D_3Q,         /* 3 * num_attention_heads * head_dim (Qwen1 c_attn) */
	QK_D_KV,         /* num_key_value_heads * head_dim */
	QK_D_HEAD,       /* head_dim */
	QK_D_FF,         /* intermediate_size */
	QK_D_FF_HALF,    /* Qwen1: intermediate_size / 2 (hparams n_ff) */
	QK_D_FF_EXP,     /* moe_intermediate_size */
	QK_D_2FF_EXP,    /* 2 * moe_intermediate_size (fused gate_up) */
	QK_D_FF_SHEXP,   /* shared_expert_intermediate_size */
	QK_D_EXPERT,     /* num_experts */
	QK_D_NV,         /* linear_num_value_heads */
	QK_D_2NV,        /* 2 * linear_num_value_heads (in_proj_ba) */
	QK_D_DV,         /* linear_value_head_dim */
	QK_D_VALUE,      /* value_dim = nv * dv */
	QK_D_CONV,       /* conv_dim = 2 * nk * dk + nv * dv */
	QK_D_QKVZ,       /* 2 * nk * dk + 2 * nv * dv */
	QK_D_DCONV,      /* linear_conv_kernel_dim */
	QK_D_COUNT
};

#define QK_SHAPE_MAX 4

struct qk_shape_rule {
	uint8_t n;                  /* rank; 0 = "same as the logical shape" */
	uint8_t d[QK_SHAPE_MAX];    /* enum qk_dim, slowest first */
};

/* row flags */
enum {
	QK_F_DERIVED = 1u << 0,  /* a view onto another row's tensor; not a tensor of
				  * its own in a GGUF output (Qwen1 q/k/v) */
	QK_F_ALLOW_1D = 1u << 1, /* [1, n] may also come as [n] (old converters) */
	QK_F_V_COLS = 1u << 2,   /* HF source: value heads are column blocks of
				  * head_v_dim, reordered grouped -> tiled as
				  * QK_S_VT_* do for rows (Qwen3.5 out_proj) */
	QK_F_FUSED_T = 1u << 3,  /* the fused expert tensor may also come with its
				  * last two dims swapped (released Qwen3-VL-MoE;
				  * transformers 5.x saves the fused_shape form) */
};

struct qk_role_row {
	uint8_t role;               /* enum qk_role */
	uint8_t when;               /* enum qk_when */
	uint8_t presence;           /* enum qk_presence */
	uint8_t xform;              /* enum qk_xform, HF -> GGUF */
	uint8_t hf_sel, gguf_sel;   /* enum qk_sel */
	uint8_t fused_sel;          /* experts: rows of the fused 3-D tensor */
	uint8_t flags;              /* QK_F_* */
	struct qk_shape_rule shape;      /* logical tensor = GGUF form */
	const char *hf;                  /* HF source pattern; NULL: never in HF files */
	struct qk_shape_rule hf_shape;   /* its shape (n == 0: = shape); per expert for QK_S_EXPERTS */
	const char *hf_fused;            /* experts: transformers 5.x fused pattern, also
					  * accepted with ".weight" appended */
	struct qk_shape_rule fused_shape;
	const char *gguf;                /* GGUF name; NULL: never in GGUF files. MTP rows
					  * (QK_W_MTP): the name after "blk.<n_layer>."
					  * (llama.cpp's nextn layout) */
	struct qk_shape_rule gguf_shape; /* n == 0: = shape */
};

struct qk_arch_table {
	int arch;                   /* enum qk_arch */
	const char *hf_block;       /* "model.layers." */
	const char *mtp_block;      /* "mtp.layers." or NULL */
	const char *gguf_block;     /* "blk." */
	/* multimodal checkpoints (Qwen3.5 ...ForConditionalGeneration) nest the
	 * text model: names "model.X" of the rows are "<hf_nest>X" there;
	 * NULL when the arch has no such layout */
	const char *hf_nest;        /* "model.language_model." */
	const char *hf_vision;      /* prefix of the vision tower's tensors
				     * ("model.visual."), claimed as QK_R_VISION */
	const char *hf_vision_old;  /* the same in checkpoints saved before
				     * transformers 4.52 ("visual.", text model
				     * under "model."), or NULL */
	const struct qk_role_row *rows;
	size_t n_rows;
};

/* The table of an arch; NULL if out of range. */
const struct qk_arch_table *qk_arch_table(int arch);

/* Role name as llama.cpp spells the tensor's base name ("attn_q",
 * "attn_q.bias", "ssm_dt.bias", "mtp_fc"); NULL if out of range. */
const char *qk_role_name(int role);
/* enum qk_kind of a role (-1 if out of range). */
int qk_role_kind(int role);
/* Is it one of the routed-expert stacks (ffn_{gate,up,down}_exps)? */
bool qk_role_is_expert(int role);
/* Transform name ("none", "stack", "-exp", ...); "?" if out of range. */
const char *qk_xform_name(int xform);

/* Does a row apply to a layer with these QK_LAYER_* flags? (false for global
 * rows) */
bool qk_when_applies(int when, unsigned layer_flags);

/* Evaluate a shape rule. false if a dimension overflows 64 bits. */
bool qk_shape_eval(const struct qk_shape_rule *r, const struct qk_hparams *hp,
		   uint64_t out[QK_SHAPE_MAX]);
/* The hparams a rule depends on, with values, as config.json names them:
 * "hidden_size 32, intermediate_size 64". Always NUL-terminated. */
void qk_shape_explain(const struct qk_shape_rule *r, const struct qk_hparams *hp,
		      char *buf, size_t size);

/* Expand a name pattern: '@' -> block + layer, '#' -> expert. false if it does
 * not fit in `size` bytes or the pattern needs a value it was not given
 * (layer or expert < 0, block NULL). */
bool qk_name_expand(const char *pattern, const char *block, long layer, long expert,
		    char *buf, size_t size);

/* A text-model name as a nested (multimodal) checkpoint spells it: "model.X"
 * becomes nest + "X" when nest is not NULL; other names are copied. false
 * if the result does not fit in `size` bytes. */
bool qk_name_nest(const char *name, const char *nest, char *buf, size_t size);

/* Which row a tensor name would be, by pattern (for explaining names that
 * no role claimed). `gguf` picks GGUF patterns, else HF patterns (per-expert
 * and fused). */
struct qk_name_match {
	const struct qk_role_row *row;
	long layer;      /* -1 for global rows */
	bool mtp;        /* matched the MTP block prefix: layer counts MTP layers */
	long expert;     /* -1 if the pattern has none */
};
bool qk_name_match(const struct qk_arch_table *t, bool gguf, const char *name,
		   struct qk_name_match *m);

/* Names that are claimed and ignored: buffers older exporters left in
 * checkpoints and llama.cpp skips (".rotary_emb.inv_freq", ".attn.masked_bias",
 * ".attn.bias", ...). */
bool qk_name_ignored(const char *name);

#endif
