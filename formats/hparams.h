/* hparams.h - one hyperparameter struct for every Qwen architecture.
 *
 * Filled from an HF config.json (config.c, with transformers' defaults) or
 * from GGUF key/values (gguf_hparams.c). Field names follow llama.cpp's
 * (n_embd, n_head, ...). Facts: reference/qwen-forward-math.md §1-8,
 * reference/llamacpp-gguf-mapping.md §1.
 */
#ifndef QK_HPARAMS_H
#define QK_HPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define QK_MAX_LAYERS 512      /* llama.cpp's LLAMA_MAX_LAYERS */
#define QK_MAX_EXPERTS 4096

enum qk_arch {
	QK_ARCH_QWEN = 0,  /* Qwen 1.0, QWenLMHeadModel */
	QK_ARCH_QWEN2,     /* Qwen1.5, 2, 2.5, QwQ */
	QK_ARCH_QWEN2MOE,  /* Qwen1.5-MoE, Qwen2-57B-A14B */
	QK_ARCH_QWEN3,
	QK_ARCH_QWEN3MOE,
	QK_ARCH_QWEN3NEXT,
	QK_ARCH_COUNT
};

enum qk_rope_type { QK_ROPE_DEFAULT = 0, QK_ROPE_LINEAR, QK_ROPE_DYNAMIC, QK_ROPE_YARN };

/* per-layer flags */
enum {
	QK_LAYER_MOE = 1u << 0,    /* sparse MoE FFN (else dense SwiGLU) */
	QK_LAYER_LINEAR = 1u << 1, /* Gated DeltaNet (else full attention) */
};

struct qk_rope_scaling {
	int type;                  /* enum qk_rope_type */
	double factor;             /* linear/dynamic/yarn; 1 when default */
	uint32_t original_ctx;     /* yarn: original_max_position_embeddings */
	double beta_fast, beta_slow; /* yarn: defaults 32, 1 */
	double attention_factor;   /* yarn: 0 = derive from factor (0.1 ln f + 1) */
	double mscale, mscale_all_dim; /* yarn: 0 = absent */
	bool truncate;             /* yarn: floor/ceil the correction range (default true) */
};

struct qk_hparams {
	int arch;                  /* enum qk_arch */
	uint32_t n_vocab;          /* vocab_size (embedding rows) */
	uint32_t n_embd;           /* hidden_size */
	uint32_t n_layer;          /* num_hidden_layers, <= QK_MAX_LAYERS */
	uint32_t n_head;           /* num_attention_heads */
	uint32_t n_head_kv;        /* num_key_value_heads (= n_head when absent) */
	uint32_t head_dim;         /* explicit head_dim, else n_embd / n_head */
	uint32_t n_ff;             /* real dense FFN width (Qwen1: intermediate_size / 2) */
	uint32_t n_ff_config;      /* intermediate_size as the config states it */
	uint32_t n_ctx_train;      /* max_position_embeddings */
	double norm_eps;           /* rms_norm_eps (Qwen1: layer_norm_epsilon) */
	double rope_theta;         /* rope_theta (Qwen1: rotary_emb_base) */
	double partial_rotary_factor; /* 1.0 except Qwen3-Next (0.25) */
	uint32_t n_rot;            /* rotary dims per head = head_dim * partial factor */
	struct qk_rope_scaling rope;
	bool tie_word_embeddings;
	bool attn_bias;            /* q/k/v biases (Qwen1 c_attn, Qwen2, Qwen2-MoE) */
	bool qk_norm;              /* q_norm/k_norm (Qwen3 family) */
	bool zero_centred_norm;    /* norms scale by 1 + w (Qwen3-Next) */
	bool attn_output_gate;     /* q_proj carries a per-head gate (Qwen3-Next) */

	/* MoE */
	uint32_t n_expert;         /* num_experts (0 for dense models) */
	uint32_t n_expert_used;    /* num_experts_per_tok */
	uint32_t n_ff_exp;         /* moe_intermediate_size */
	uint32_t n_ff_shexp;       /* shared_expert_intermediate_size (0 = none) */
	bool norm_topk_prob;
	uint32_t decoder_sparse_step;

	/* Qwen3-Next linear attention */
	uint32_t full_attention_interval;
	uint32_t ssm_d_conv;       /* linear_conv_kernel_dim */
	uint32_t ssm_n_k_heads;    /* linear_num_key_heads */
	uint32_t ssm_n_v_heads;    /* linear_num_value_heads */
	uint32_t ssm_head_k_dim;   /* linear_key_head_dim */
	uint32_t ssm_head_v_dim;   /* linear_value_head_dim */
	uint32_t n_mtp_layers;     /* mtp_num_hidden_layers (0 = none) */

	/* Qwen1 */
	uint32_t seq_length;       /* training length for dynamic NTK / logn */
	bool use_dynamic_ntk;
	bool use_logn_attn;

	/* special tokens from config.json (-1 = absent) */
	int64_t bos_token_id, eos_token_id, pad_token_id;

	uint8_t layer_flags[QK_MAX_LAYERS]; /* [n_layer] QK_LAYER_* */
};

/* GGUF arch string ("qwen2moe") and HF architectures[0] ("Qwen2MoeForCausalLM")
 * and a generation label ("Qwen2-MoE") for an arch; NULL if out of range. */
const char *qk_arch_gguf_name(int arch);
const char *qk_arch_hf_name(int arch);
const char *qk_arch_generation(int arch);
/* Reverse lookups; -1 if unknown. */
int qk_arch_from_gguf(const char *s);
int qk_arch_from_hf(const char *s);

/* Parse config.json text (the file name is only for messages). Unknown
 * architectures, missing required fields, zero or inconsistent dimensions
 * (heads not dividing hidden, kv heads not dividing heads, ...) are errors
 * naming the key and value. */
int qk_hparams_from_config(struct qk_hparams *hp, const char *json, size_t len,
			   const char *fname, qk_err *err);
/* Read and parse DIR/config.json. */
int qk_hparams_load_config(struct qk_hparams *hp, const char *dir, qk_err *err);

struct gf_file;
/* From a GGUF file's key/values (general.architecture, {arch}.*). */
int qk_hparams_from_gguf(struct qk_hparams *hp, const struct gf_file *f, qk_err *err);

#endif
